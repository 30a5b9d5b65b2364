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
