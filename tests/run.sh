#!/usr/bin/env bash
# Test runner for `make test` (the Makefile builds everything first, with -k).
#
# Runs, in order:
#   1. every tests/test_*.c binary from build/tests/        (plain -O2 build)
#   2. the same binaries from build/asan/                     (ASan + UBSan)
#      and build/tsan/test_threads                            (ThreadSanitizer, when built)
#   3. tests/compile/check.sh                                 (C99/C11/C++ and VIDUR_STATIC builds)
#   4. every examples/*.c binary from build/examples/
#   5. every tests/test_*.sh script, once with build/vidur and once with build/asan/vidur
# Each of them prints "N passed, N failed" as its last result line; this script adds them up
# and prints the total as its very last line. A binary that is missing or older than its
# sources (it did not compile), that prints no result line, that crashes, or that exits
# non-zero while reporting no failure (e.g. a sanitizer report at exit) adds one failure.
# Exit status: 0 if nothing failed, 1 otherwise.
set -u
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
TIMEOUT=${TEST_TIMEOUT:-300}
total_pass=0
total_fail=0
summary=()

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

add_result() { # name pass fail note
    total_pass=$((total_pass + $2))
    total_fail=$((total_fail + $3))
    summary+=("$(printf '%-36s %4d passed, %3d failed%s' "$1" "$2" "$3" "${4:+  ($4)}")")
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
    local name=$1
    shift
    local log rc line p f note=""
    log=$(mktemp)
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
    add_result "$name" "$p" "$f" "$note"
}

# run_plain NAME CMD...: a program without a result line; exit status 0 = one pass
run_plain() {
    local name=$1
    shift
    local rc
    echo "=== $name"
    timeout "$TIMEOUT" "$@"
    rc=$?
    if [ "$rc" -eq 0 ]; then
        add_result "$name" 1 0 ""
    else
        echo "FAIL $name: exit status $rc"
        add_result "$name" 0 1 "exit status $rc"
    fi
}

not_built() {
    echo "=== $1"
    echo "FAIL $1: $2 is missing or out of date (it did not compile; see the build output above)"
    add_result "$1" 0 1 "did not build"
}

# 1 + 2. unit test binaries, plain then sanitized
for variant in tests asan; do
    for src in tests/test_*.c; do
        [ -e "$src" ] || continue
        name=$(basename "$src" .c)
        bin=$BUILD/$variant/$name
        if fresh "$bin" "$src" tests/test.h vidur.h $(search_h "$src"); then
            run_counted "$variant/$name" "$bin"
        else
            not_built "$variant/$name" "$bin"
        fi
    done
done

# 2b. the parallel-simulations test under ThreadSanitizer, when the compiler has it (the
# Makefile builds build/tsan/test_threads only then); a reported race stops it with a failure
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}
for bin in "$BUILD"/tsan/test_*; do
    [ -e "$bin" ] || continue
    name=$(basename "$bin")
    if fresh "$bin" "tests/$name.c" tests/test.h vidur.h; then
        run_counted "tsan/$name" "$bin"
    else
        not_built "tsan/$name" "$bin"
    fi
done

# 3. compile checks
run_counted "compile/check.sh" bash tests/compile/check.sh

# 4. examples (each must run and exit 0); their output is kept short
for src in examples/*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    bin=$BUILD/examples/$name
    if fresh "$bin" "$src" vidur.h $(search_h "$src"); then
        run_plain "examples/$name" "$bin"
    else
        not_built "examples/$name" "$bin"
    fi
done

# 4b. the course-assignment grader (it includes the student stub)
if fresh "$BUILD/examples/assignment/grader" examples/assignment/grader.c examples/assignment/student_scheduler.c vidur.h; then
    run_plain "examples/assignment/grader" "$BUILD/examples/assignment/grader"
else
    not_built "examples/assignment/grader" "$BUILD/examples/assignment/grader"
fi

# 5. shell tests against the CLI, plain then sanitized
for script in tests/test_*.sh; do
    [ -e "$script" ] || continue
    name=$(basename "$script" .sh)
    for variant in "" asan; do
        bin=$BUILD/${variant:+$variant/}vidur
        label=${variant:-tests}/$name
        if fresh "$bin" tools/vidur.c vidur.h vidur_cli.h; then
            run_counted "$label" env VIDUR="$bin" bash "$script"
        else
            not_built "$label" "$bin"
        fi
    done
done

echo
echo "=== summary"
for s in "${summary[@]}"; do echo "$s"; done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
