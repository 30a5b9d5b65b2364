#!/usr/bin/env bash
# Output files under hostile or unlucky conditions (issue 14 items 3-6, issue 17 item 10):
#   - symlinks planted at the old fixed temporary names (NAME.tmp) and at a final name are never
#     followed: the victims stay untouched and every output is a regular file
#   - two runs writing into the same non-timestamped folder at once both succeed, leave no
#     temporary file, and every file is whole (one run's or the other's)
#   - a full disk (here: the file-size limit, ulimit -f) names the file and the OS reason
#   - the output folder is checked before the simulation: an unusable path fails at once
#   - the completion marker COMPLETE is written last, and a stale one goes when a run starts
#   - Ctrl-C (SIGINT) during the simulation leaves nothing; during the writing of the outputs
#     it leaves the complete set with its marker; never a temporary file
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_tmpdir safe_outputs

# a short run: 200 requests of data/default.ini
run() { # OUTDIR [flags...]
    local out=$1
    shift
    "$VIDUR" data/default.ini --synthetic_request_generator_config_num_requests 200 --metrics_config_output_dir "$out" \
        --no-metrics_config_timestamp_output_dir --no-metrics_config_enable_chrome_trace --quiet "$@"
}
no_tmp() { [ -z "$(find "$1" -name '*.tmp' 2>/dev/null)" ]; }
# the file list of a folder, relative and sorted
files() { (cd "$1" && find . -type f | LC_ALL=C sort); }

# ---- a reference run: the complete set, the marker written last ----------------------------
if run "$T/ref" >"$T/ref.log" 2>&1; then
    ok "reference run"
else
    bad "reference run" "$(head -n 3 "$T/ref.log")"
    finish
fi
if [ -f "$T/ref/COMPLETE" ] && [ -z "$(find "$T/ref" -type f -newer "$T/ref/COMPLETE")" ]; then
    ok "COMPLETE is written, and last"
else
    bad "COMPLETE is written, and last" "$(ls "$T/ref")"
fi
files "$T/ref" >"$T/ref.files"

# ---- symlinks at the old fixed temporary names and at a final name ---------------------------
mkdir -p "$T/sym/plots"
echo "victim" >"$T/victim"
echo "victim2" >"$T/victim2"
while read -r f; do
    ln -s "$T/victim" "$T/sym/${f#./}.tmp"
done <"$T/ref.files"
ln -s "$T/victim2" "$T/sym/summary.json"
if run "$T/sym" >"$T/sym.log" 2>&1; then ok "run with planted symlinks"; else bad "run with planted symlinks" "$(head -n 3 "$T/sym.log")"; fi
if [ "$(cat "$T/victim")" = victim ] && [ "$(cat "$T/victim2")" = victim2 ]; then
    ok "symlinks: the victims are untouched"
else
    bad "symlinks: the victims are untouched" "victim: $(head -c 80 "$T/victim")"
fi
if [ -f "$T/sym/summary.json" ] && [ ! -L "$T/sym/summary.json" ] && [ ! -L "$T/sym/config.json" ]; then
    ok "symlinks: the outputs are regular files"
else
    bad "symlinks: the outputs are regular files"
fi

# ---- two writers into one non-timestamped folder --------------------------------------------
run "$T/refB" --seed 7 >/dev/null 2>&1
same_as_either() { # FILE: equal to the reference's or refB's
    local f=$1 a=$T/ref/$1 b=$T/refB/$1 got=$T/shared/$1
    if [ "${f#./config}" != "$f" ]; then # config.json, config_flat.json: they name their folder
        cmp -s <(sed "s#$T/shared#X#g" "$got") <(sed "s#$T/ref#X#g" "$a") || cmp -s <(sed "s#$T/shared#X#g" "$got") <(sed "s#$T/refB#X#g" "$b")
    else
        cmp -s "$got" "$a" || cmp -s "$got" "$b"
    fi
}
concurrent_ok=1
for trial in 1 2 3; do
    rm -rf "$T/shared"
    run "$T/shared" >"$T/w1.log" 2>&1 &
    p1=$!
    run "$T/shared" --seed 7 >"$T/w2.log" 2>&1 &
    p2=$!
    wait $p1; r1=$?
    wait $p2; r2=$?
    if [ $r1 -ne 0 ] || [ $r2 -ne 0 ]; then
        concurrent_ok=0
        bad "two writers (trial $trial): both succeed" "$(cat "$T/w1.log" "$T/w2.log" | head -n 2)"
        continue
    fi
    no_tmp "$T/shared" || { concurrent_ok=0; bad "two writers (trial $trial): no temporary file"; }
    while read -r f; do
        same_as_either "$f" || { concurrent_ok=0; bad "two writers (trial $trial): $f is one run's whole file"; break; }
    done <"$T/ref.files"
done
[ $concurrent_ok = 1 ] && ok "two writers into one folder, 3 times: both succeed, whole files, no temporary file"

# ---- a full disk: the file and the OS reason -------------------------------------------------
# 32 KiB of file size: config.json fits, request_metrics.csv does not (SIGXFSZ ignored, so the
# write fails with EFBIG as on a full disk with ENOSPC)
rm -rf "$T/full"
run "$T/ref2" >/dev/null 2>&1   # an earlier complete run in the same folder: its marker must go
cp -r "$T/ref2" "$T/full"
rc=0
(trap '' XFSZ; ulimit -f 32; run "$T/full" --seed 3) >"$T/full.log" 2>&1 || rc=$?
msg=$(cat "$T/full.log")
if [ $rc -eq 1 ] && [ "$(wc -l <"$T/full.log")" -eq 1 ] && grep -q "^vidur: $T/full/[a-z_/]*\.[a-z]*: write failed: File too large$" "$T/full.log"; then
    ok "full disk: one line naming the file and the reason"
else
    bad "full disk: one line naming the file and the reason" "rc $rc: $msg"
fi
no_tmp "$T/full" && ok "full disk: no temporary file left" || bad "full disk: no temporary file left"
[ ! -e "$T/full/COMPLETE" ] && ok "full disk: the earlier run's marker is gone" || bad "full disk: the earlier run's marker is gone"

# ---- the output folder is checked before the simulation --------------------------------------
# a path under a regular file cannot be created: a 10-million-request run fails at once
echo x >"$T/afile"
rc=0
timeout 20 "$VIDUR" data/default.ini --synthetic_request_generator_config_num_requests 10000000 --metrics_config_output_dir "$T/afile/out" \
    --quiet >"$T/pre.log" 2>&1 || rc=$?
if [ $rc -eq 1 ] && grep -q "$T/afile.*Not a directory" "$T/pre.log"; then
    ok "an unusable output folder fails before the simulation"
else
    bad "an unusable output folder fails before the simulation" "rc $rc: $(head -c 300 "$T/pre.log")"
fi

# ---- Ctrl-C ------------------------------------------------------------------------------------
# job control: a background job of a script otherwise starts with SIGINT ignored (and vidur, as
# is the convention, leaves an ignored SIGINT ignored)
set -m
# interrupt PID AFTER: SIGINT after AFTER seconds, then waits for the exit (at most 60 s: then
# kill -9, which fails the check) and returns its status
interrupt() {
    local pid=$1 i
    sleep "$2"
    kill -INT "$pid" 2>/dev/null
    for i in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid"
}
# during the simulation (5 million requests take minutes): exit 130, nothing written, no folder
long() { # OUTDIR [flags]: run in the background only (exec: $! is vidur itself, not a subshell)
    local out=$1
    shift
    exec "$VIDUR" data/default.ini --synthetic_request_generator_config_num_requests 5000000 --metrics_config_output_dir "$out" \
        --no-metrics_config_enable_chrome_trace --quiet "$@"
}
complete_or_nothing() { # DIR: no temporary file; either nothing, or the marker and the reference's files
    local d=$1
    no_tmp "$d" || return 1
    [ -z "$(find "$d" -type f 2>/dev/null)" ] && return 0
    [ -f "$d/COMPLETE" ] && [ "$(files "$d")" = "$(cat "$T/ref.files")" ]
}
long "$T/int1" >"$T/int1.log" 2>&1 &
interrupt $! 1
rc=$?
if [ $rc -eq 130 ] && [ -z "$(find "$T/int1" -type f 2>/dev/null)" ] && grep -q "interrupted" "$T/int1.log"; then
    ok "Ctrl-C during the simulation: exit 130, no outputs"
else
    bad "Ctrl-C during the simulation: exit 130, no outputs" "rc $rc: $(find "$T/int1" | head -n 3) $(head -c 200 "$T/int1.log")"
fi
[ -z "$(find "$T/int1" -mindepth 1 2>/dev/null)" ] && ok "Ctrl-C during the simulation: the timestamped folder is removed" \
    || bad "Ctrl-C during the simulation: the timestamped folder is removed" "$(find "$T/int1")"
# while the outputs are written (the signal is sent as soon as config.json, the first file, is
# in place): the set is completed first
long "$T/int2" --no-metrics_config_timestamp_output_dir --synthetic_request_generator_config_num_requests 30000 >"$T/int2.log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do [ -e "$T/int2/config.json" ] && break; sleep 0.01; done
interrupt $pid 0
rc=$?
if { [ $rc -eq 130 ] || [ $rc -eq 0 ]; } && complete_or_nothing "$T/int2" && [ -f "$T/int2/COMPLETE" ]; then
    ok "Ctrl-C while writing: the complete set with its marker (exit $rc)"
else
    bad "Ctrl-C while writing: the complete set with its marker" "rc $rc: $(ls "$T/int2" | tr '\n' ' ') $(head -c 200 "$T/int2.log")"
fi
# at several moments: always complete or nothing, never a temporary file
all=1
for d in 0.05 0.3 0.8 1.5; do
    rm -rf "$T/int3"
    long "$T/int3" --no-metrics_config_timestamp_output_dir --synthetic_request_generator_config_num_requests 4000 >/dev/null 2>&1 &
    interrupt $! $d
    complete_or_nothing "$T/int3" || { all=0; bad "Ctrl-C after ${d} s: complete or nothing" "$(find "$T/int3" -type f | head -n 5 | tr '\n' ' ')"; }
done
[ $all = 1 ] && ok "Ctrl-C at 4 moments: complete outputs or none, no temporary file"
finish
