#!/usr/bin/env bash
# `make fuzz`: coverage-guided fuzzing of vidur.h's input readers with clang's libFuzzer, under
# ASan and UBSan (docs/fuzzing.md). Every harness of tests/fuzz/ is built into build/fuzz/ and run
# for FUZZ_SECONDS (default 60) from the committed corpus tests/fuzz/corpus/<harness>/ (read
# only) plus a working corpus build/fuzz/corpus/<harness>/ that keeps growing from run to run.
# A finding (crash, sanitizer report, leak, timeout, out of memory) is saved under
# build/fuzz/findings/<harness>/; the script then exits 1.
#
#   FUZZ_SECONDS=600 make fuzz            ten minutes per harness
#   FUZZ_HARNESSES="ppo record" make fuzz  some harnesses only
#   FUZZ_JOBS=4 make fuzz                  libFuzzer processes per harness (-fork)
#
# Prints one line per harness with its executions and findings, and a last summary line.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=${BUILD:-build}
CLANG=${FUZZ_CC:-clang}
SECS=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-1}
HARNESSES=${FUZZ_HARNESSES:-"flags hfconfig ini ppo record search table trace yaml"}
PKG_CFLAGS=$(pkg-config --cflags inih 2>/dev/null || true)
# -fno-sanitize-recover: undefined behaviour stops the run (a finding), as in `make test`
CFLAGS="-std=c99 -O1 -g -Wall -Wextra -Wpedantic -Werror -fsanitize=fuzzer,address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer"

# the largest input each harness is given: a corpus entry stays small and runs in milliseconds
max_len() {
    case "$1" in
        ppo) echo 60000 ;;   # a checkpoint of the harness's small learner is 53,712 bytes
        flags|record) echo 4096 ;;
        *) echo 16384 ;;
    esac
}

if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "fuzz: SKIP: $CLANG not found (install clang and libclang-rt-dev: sudo apt-get install -y clang libclang-rt-dev, or bash scripts/deps.sh --test as root)"
    exit 0
fi
mkdir -p "$BUILD/fuzz"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$BUILD/fuzz/probe.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined -o "$BUILD/fuzz/probe" "$BUILD/fuzz/probe.c" >/dev/null 2>&1; then
    echo "fuzz: SKIP: $CLANG cannot link libFuzzer (install libclang-rt-dev: sudo apt-get install -y libclang-rt-dev, or bash scripts/deps.sh --test as root)"
    exit 0
fi

total_exec=0
total_find=0
summary=()
for h in $HARNESSES; do
    src=tests/fuzz/fuzz_$h.c
    bin=$BUILD/fuzz/fuzz_$h
    if [ ! -f "$src" ]; then
        echo "fuzz: no harness $src"
        exit 2
    fi
    if ! "$CLANG" $CFLAGS -DVIDUR_JSON -I. $PKG_CFLAGS -o "$bin" "$src" -linih -lyaml -ljansson -lm; then
        echo "fuzz: $src does not build"
        exit 2
    fi
    work=$BUILD/fuzz/corpus/$h
    finds=$BUILD/fuzz/findings/$h
    mkdir -p "$work" "$finds"
    log=$BUILD/fuzz/$h.log
    before=$(find "$finds" -type f | wc -l)
    echo "=== fuzz_$h: $SECS s"
    # new inputs go to the first folder only: the committed corpus stays as it is
    fork=()
    [ "$JOBS" -gt 1 ] && fork=(-fork="$JOBS" -ignore_crashes=1)
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        "$bin" "${fork[@]}" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$h")" \
        -print_final_stats=1 -artifact_prefix="$finds/" "$work" "tests/fuzz/corpus/$h" >"$log" 2>&1
    rc=$?
    execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{ s += $2 } END { print s + 0 }')
    [ "$execs" = 0 ] && execs=$(grep -aoE '#[0-9]+' "$log" | tail -n 1 | tr -d '#')
    execs=${execs:-0}
    after=$(find "$finds" -type f | wc -l)
    new=$((after - before))
    if [ "$rc" -ne 0 ] && [ "$new" -eq 0 ]; then new=1; fi
    total_exec=$((total_exec + execs))
    total_find=$((total_find + new))
    line=$(printf 'fuzz_%-7s %10d executions in %4d s, %d finding(s)' "$h" "$execs" "$SECS" "$new")
    if [ "$new" -gt 0 ]; then
        line="$line: see $log and $finds/"
        grep -a -m 3 -E 'ERROR|runtime error|SUMMARY' "$log" | sed 's/^/    /'
    fi
    echo "$line"
    summary+=("$line")
done
echo
echo "=== fuzz summary (clang libFuzzer + ASan + UBSan; corpus: tests/fuzz/corpus + $BUILD/fuzz/corpus)"
for s in "${summary[@]}"; do echo "$s"; done
echo "$total_exec executions, $total_find finding(s)"
[ "$total_find" -eq 0 ]
