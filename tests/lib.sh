# tests/lib.sh - sourced by every tests/test_*.sh: the repository root as the working folder,
# VIDUR as an absolute path (default build/vidur; tests/run.sh also passes build/asan/vidur),
# PASS/FAIL/SKIP lines and the closing "N passed, N failed" line.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VIDUR=${VIDUR:-build/vidur}
case "$VIDUR" in /*) ;; *) VIDUR=$ROOT/$VIDUR ;; esac
pass=0
fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
skip() { echo "SKIP $1${2:+: $2}"; }
# prints the counts and exits with 0 when nothing failed
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }
# test_tmpdir NAME: T = a fresh temporary folder, removed when the script exits
test_tmpdir() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/vidur_$1.XXXXXX")
    trap 'rm -rf "$T"' EXIT
}
# expect_one_line_error PROGRAM NAME NEEDLE... -- ARGS...: PROGRAM ARGS must exit 1 with exactly one
# line on stderr holding every NEEDLE (its stdout and stderr are left in $T/e.out and $T/e.err)
expect_one_line_error() {
    local prog=$1 name=$2
    shift 2
    local needles=()
    while [ "$1" != "--" ]; do needles+=("$1"); shift; done
    shift
    local rc=0 why="" n
    "$prog" "$@" >"$T/e.out" 2>"$T/e.err" || rc=$?
    if [ "$rc" -ne 1 ]; then why="exit $rc: $(head -c 300 "$T/e.err")"
    elif [ "$(wc -l <"$T/e.err")" -ne 1 ]; then why="$(wc -l <"$T/e.err") lines on stderr: $(head -c 400 "$T/e.err")"
    else
        for n in "${needles[@]}"; do grep -qF -- "$n" "$T/e.err" || { why="no '$n' in: $(cat "$T/e.err")"; break; }; done
    fi
    if [ -z "$why" ]; then ok "$name"; else bad "$name" "$why"; fi
}
