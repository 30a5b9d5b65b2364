#!/usr/bin/env bash
# Test runner for `make test` and `make check` (the Makefile builds everything first, with -k).
#
#   bash tests/run.sh            (make test) everything below
#   bash tests/run.sh --check    (make check) the quick loop: 1, 4 and tests/test_golden.sh only
#
# Runs:
#   1. every tests/test_*.c binary from build/tests/        (plain -O2 build)
#   2. the same binaries from build/asan/                     (ASan + UBSan)
#      and build/tsan/test_threads                            (ThreadSanitizer, when built)
#   3. tests/compile/check.sh                                 (C99/C11/C++, VIDUR_STATIC, the
#                                                              ways to get the tables)
#   4. every examples/*.c binary from build/examples/, and the assignment's grader
#   5. every tests/test_*.sh script, once with build/vidur and once with build/asan/vidur
# Each of them prints "N passed, N failed" as its last result line; this script adds them up
# and prints the total as its very last line. A binary that is missing or older than its
# sources (it did not compile), that prints no result line, that crashes, or that exits
# non-zero while reporting no failure (e.g. a sanitizer report at exit) adds one failure.
#
# The runs of one test (plain, sanitized) form one job, run one after the other, so that they
# never share a temporary file; jobs run TEST_JOBS at a time (default: the number of cores),
# the longest of the previous run first (build/test-times-MODE.txt). A job's output is shown when it
# ends; the summary lists every run in a fixed order with its wall time, which is information,
# never a pass/fail criterion.
# Exit status: 0 if nothing failed, 1 otherwise.
set -u
cd "$(dirname "$0")/.."

MODE=test
[ "${1:-}" = "--check" ] && MODE=check
BUILD=${BUILD:-build}
# a hang detector, not a time limit: on a machine shared with other work the table regeneration
# of tests/test_tables.sh (160 CPU-seconds) took over 300 s of wall time
TIMEOUT=${TEST_TIMEOUT:-900}
JOBS=${TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
TIMES=$BUILD/test-times-$MODE.txt
# wait -n -p (bash 5.1) tells which job ended; older shells run one job at a time
if ((BASH_VERSINFO[0] < 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] < 1))); then JOBS=1; fi

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}

RES=$(mktemp -d "${TMPDIR:-/tmp}/vidur_run.XXXXXX")
trap 'rm -rf "$RES"' EXIT

now() { date +%s.%N; }

# add_result NAME PASS FAIL NOTE START: one line of this job's results (fields apart by \037, as
# the note may be empty)
add_result() {
    printf '%s\037%s\037%s\037%s\037%s\n' "$1" "$2" "$3" "${4:-}" "$(awk -v a="$5" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')" >>"$RESULT"
}

# fresh: is $1 newer than every other argument?
fresh() {
    local bin=$1 dep
    shift
    [ -x "$bin" ] || return 1
    for dep in "$@"; do
        [ -e "$dep" ] || continue
        [ "$bin" -nt "$dep" ] || return 1
    done
}

# search_h SRC: prints vidur_search.h when SRC includes it (then its binary depends on it too)
search_h() { grep -q 'vidur_search\.h' "$1" 2>/dev/null && echo vidur_search.h; }

# run_counted NAME CMD...: runs CMD, shows its output, adds its result line
run_counted() {
    local name=$1 start
    shift
    local log rc line p f note=""
    start=$(now)
    log=$(mktemp "$RES/log.XXXXXX")
    echo "=== $name"
    timeout "$TIMEOUT" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    rm -f "$log"
    if [ -z "$line" ]; then
        p=0
        f=1
        if [ "$rc" -eq 124 ]; then note="timed out after ${TIMEOUT}s"; else note="no result line, exit status $rc"; fi
        echo "FAIL $name: $note"
    else
        p=${line%% passed*}
        f=${line#*, }
        f=${f%% failed*}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            f=1
            note="exit status $rc with no failed check"
            echo "FAIL $name: $note"
        fi
    fi
    add_result "$name" "$p" "$f" "$note" "$start"
}

# run_plain NAME CMD...: a program without a result line; exit status 0 = one pass
run_plain() {
    local name=$1 start rc
    shift
    start=$(now)
    echo "=== $name"
    timeout "$TIMEOUT" "$@"
    rc=$?
    if [ "$rc" -eq 0 ]; then
        add_result "$name" 1 0 "" "$start"
    else
        echo "FAIL $name: exit status $rc"
        add_result "$name" 0 1 "exit status $rc" "$start"
    fi
}

not_built() {
    echo "=== $1"
    echo "FAIL $1: $2 is missing or out of date (it did not compile; see the build output above)"
    add_result "$1" 0 1 "did not build" "$(now)"
}

# ---- the jobs: job_<kind> ARG runs every variant of one test ----------------------------------

job_unit() { # tests/test_x.c: plain, then (make test) ASan+UBSan and TSan
    local src=$1 name variant bin
    name=$(basename "$src" .c)
    for variant in tests asan tsan; do
        [ "$MODE" = check ] && [ "$variant" != tests ] && break
        bin=$BUILD/$variant/$name
        # the Makefile builds build/tsan/test_threads only when the compiler has TSan
        [ "$variant" = tsan ] && [ ! -e "$bin" ] && continue
        if fresh "$bin" "$src" tests/test.h vidur.h $(search_h "$src"); then
            run_counted "$variant/$name" "$bin"
        else
            not_built "$variant/$name" "$bin"
        fi
    done
}

job_compile() {
    run_counted "compile/check.sh" bash tests/compile/check.sh
}

job_example() { # examples/x.c, or the grader (it includes the student's file)
    local src=$1 name bin deps
    name=${src#examples/}
    name=${name%.c}
    bin=$BUILD/examples/$name
    deps=("$src" vidur.h $(search_h "$src"))
    [ "$name" = assignment/grader ] && deps+=(examples/assignment/student_scheduler.c)
    if fresh "$bin" "${deps[@]}"; then
        run_plain "examples/$name" "$bin"
    else
        not_built "examples/$name" "$bin"
    fi
}

job_script() { # tests/test_x.sh: with build/vidur, then (make test) with build/asan/vidur
    local script=$1 name variant bin label
    name=$(basename "$script" .sh)
    for variant in "" asan; do
        [ "$MODE" = check ] && [ -n "$variant" ] && break
        bin=$BUILD/${variant:+$variant/}vidur
        label=${variant:-tests}/$name
        if fresh "$bin" tools/vidur.c vidur.h vidur_cli.h; then
            run_counted "$label" env VIDUR="$bin" bash "$script"
        else
            not_built "$label" "$bin"
        fi
    done
}

# ---- the job list, in the order of the summary -----------------------------------------------
jobs_kind=()
jobs_arg=()
add_job() { jobs_kind+=("$1"); jobs_arg+=("$2"); }
for src in tests/test_*.c; do [ -e "$src" ] && add_job unit "$src"; done
[ "$MODE" = test ] && add_job compile -
for src in examples/*.c; do [ -e "$src" ] && add_job example "$src"; done
add_job example examples/assignment/grader.c
for script in tests/test_*.sh; do
    [ -e "$script" ] || continue
    [ "$MODE" = check ] && [ "$script" != tests/test_golden.sh ] && continue
    add_job script "$script"
done
njobs=${#jobs_kind[@]}

# start order: the longest jobs of the previous run first; a job never timed before (a fresh
# build folder) gets a guess by its kind (scripts and the compile matrix take longest)
declare -A guess=([script]=60 [compile]=60 [unit]=10 [example]=2
                  [script:tests/test_tables.sh]=30 [script:tests/test_profile.sh]=90)
declare -A prev=()
if [ -f "$TIMES" ]; then
    while read -r key secs; do prev[$key]=$secs; done <"$TIMES"
fi
order=$(for ((i = 0; i < njobs; i++)); do
    key="${jobs_kind[$i]}:${jobs_arg[$i]}"
    printf '%s %d\n' "${prev[$key]:-${guess[$key]:-${guess[${jobs_kind[$i]}]}}}" "$i"
done | sort -k1,1gr -k2,2n | awk '{ print $2 }')

declare -A running=()
finish_one() { # waits for one job to end and shows its output
    local pid id
    wait -n -p pid
    id=${running[$pid]}
    unset "running[$pid]"
    cat "$RES/$id.out"
}
for id in $order; do
    while [ "${#running[@]}" -ge "$JOBS" ]; do finish_one; done
    (
        RESULT=$RES/$id.res
        : >"$RESULT"
        start=$(now)
        "job_${jobs_kind[$id]}" "${jobs_arg[$id]}" >"$RES/$id.out" 2>&1
        # wall time, and the CPU time of everything the job ran (the second line of `times`)
        awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f\n", b - a }' >"$RES/$id.time"
        times >"$RES/$id.times" # not in a pipeline: a pipeline's subshell has no children of its own
        awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); n += t[1] * 60 + t[2] } printf "%.1f\n", n }' \
            "$RES/$id.times" >"$RES/$id.cpu"
    ) &
    running[$!]=$id
    if [ "$JOBS" -le 1 ]; then finish_one; fi
done
while [ "${#running[@]}" -gt 0 ]; do finish_one; done

# ---- summary ---------------------------------------------------------------------------------
total_pass=0
total_fail=0
total_cpu=0
echo
echo "=== summary ($MODE, $JOBS at a time; wall time per run; CPU time of all the runs of a test on its first line)"
: >"$RES/times"
for ((id = 0; id < njobs; id++)); do
    printf '%s %s\n' "${jobs_kind[$id]}:${jobs_arg[$id]}" "$(cat "$RES/$id.time" 2>/dev/null || echo 0)" >>"$RES/times"
    cpu=$(cat "$RES/$id.cpu" 2>/dev/null || echo 0)
    while IFS=$'\037' read -r name p f note secs; do
        total_pass=$((total_pass + p))
        total_fail=$((total_fail + f))
        printf '%-36s %5d passed, %3d failed %7ss%s%s\n' "$name" "$p" "$f" "$secs" "${cpu:+  (cpu ${cpu}s)}" "${note:+  ($note)}"
        cpu=""
    done <"$RES/$id.res"
    total_cpu=$(awk -v a="$total_cpu" -v b="$(cat "$RES/$id.cpu" 2>/dev/null || echo 0)" 'BEGIN { print a + b }')
    if [ ! -s "$RES/$id.res" ]; then # the job itself died before it could report
        total_fail=$((total_fail + 1))
        printf '%-36s %5d passed, %3d failed  (the job ended without a result)\n' "${jobs_kind[$id]} ${jobs_arg[$id]}" 0 1
    fi
done
# a target of the build that no test runs (a sanitized tool, say) fails here if it did not compile
# (the Makefile writes make's status; a build failure was otherwise seen only by the tests it feeds)
if [ -f "$BUILD/build-$MODE.rc" ] && [ "$(cat "$BUILD/build-$MODE.rc")" != 0 ]; then
    total_fail=$((total_fail + 1))
    printf '%-36s %5d passed, %3d failed  (make %s-build failed: see its errors above)\n' "build" 0 1 "$MODE"
fi
mkdir -p "$BUILD" && cp "$RES/times" "$TIMES"
echo "CPU time of all tests: ${total_cpu}s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
