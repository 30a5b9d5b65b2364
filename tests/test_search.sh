#!/usr/bin/env bash
# vidur-search end to end: help, expansion count, bad INI, results independent of -j,
# summaries-only, a crashing point, resume after kill -9, MPI == single machine, missing trace.
# Runs with VIDUR=build/vidur (uses build/vidur-search) and VIDUR=build/asan/vidur (uses
# build/asan/vidur-search), like every tests/test_*.sh.
. "$(dirname "$0")/lib.sh"
SEARCH=$(dirname "$VIDUR")/vidur-search
case "$SEARCH" in /*) ;; *) SEARCH=$ROOT/$SEARCH ;; esac
check() { if eval "$2"; then ok "$1"; else bad "$1" "$2"; fi; }
test_tmpdir search

if [ ! -x "$SEARCH" ]; then
    bad "$SEARCH is built"
    echo "$pass passed, $fail failed"
    exit 1
fi

# --help documents every flag
"$SEARCH" --help >"$T/help" 2>&1
for flag in -o --output -j --jobs --summaries-only --time-limit --max-iterations --min-search-granularity --min-qps --dry-run --quiet --help --version; do
    check "--help documents $flag" "grep -q -- '$flag' '$T/help'"
done

# expansion of example.ini: 896 combinations without the SLO axis, 112 valid points = 336 jobs
# with the 3 SLO configs (hand count in tests/test_search.c)
"$SEARCH" data/search/example.ini --dry-run >"$T/dry" 2>&1
check "example.ini expands to 112 points / 336 jobs" \
    "head -1 '$T/dry' | grep -qx '896 combinations x 3 SLO configs: 112 valid points (336 jobs), 784 skipped'"
check "dry run lists every combination" "[ \$(grep -c '^point  ' '$T/dry') -eq 112 ] && [ \$(grep -c '^skipped' '$T/dry') -eq 784 ]"

# a bad search INI: one line naming file, line and field; non-zero exit; no output folder
printf '[explorer]\nbatch_sizes = 64\ntp_dimension = 1\n' >"$T/bad.ini"
"$SEARCH" "$T/bad.ini" -o "$T/bad_out" >"$T/bad.out" 2>"$T/bad.err"
rc=$?
check "bad INI exits non-zero" "[ $rc -ne 0 ]"
check "bad INI: one line with file:line and field" \
    "[ \$(wc -l <'$T/bad.err') -eq 1 ] && grep -q 'bad.ini:3: \[explorer\] tp_dimension: unknown key' '$T/bad.err'"
check "bad INI writes nothing" "[ ! -e '$T/bad_out' ]"
"$SEARCH" "$T/bad.ini" -j 0 >/dev/null 2>&1
check "-j 0 is rejected" "[ $? -ne 0 ]"
# flags that override [explorer] keys take the INI's ranges: one line, exit 2, nothing written
for f in "--time-limit=" "--min-search-granularity=500" "--min-qps=inf" "--max-iterations=99999999999"; do
    "$SEARCH" data/search/quick.ini -o "$T/flag_out" "${f%%=*}" "${f#*=}" >/dev/null 2>"$T/flag.err"
    rc=$?
    check "$f is rejected with one line" "[ $rc -eq 2 ] && [ \$(wc -l <'$T/flag.err') -eq 1 ] && grep -q -- '${f%%=*}' '$T/flag.err' && [ ! -e '$T/flag_out' ]"
done

# a small search: 1 cluster x 2 routers x 2 replica schedulers x TP 1, 2 = 8 points, 2 SLO configs
cat >"$T/s.ini" <<'INI'
[explorer]
batch_sizes = 64
tp_dimensions = 1, 2
pp_dimensions = 1
[cluster.h100]
device = h100
network_device = h100_dgx
gpus_per_node = 8
[global_scheduler.rr]
scheduler = round_robin
[global_scheduler.lop]
scheduler = lop_uncached
[request_queue.fcfs]
provider = fcfs
[replica_scheduler.v1]
scheduler = vllm_v1
chunk_size = 512
[replica_scheduler.sarathi]
scheduler = sarathi
chunk_size = 256
[slo_config.ttft_p90_1s]
type = and
quantile = 0.9
slo = prefill_e2e_time 1
[slo_config.ttft_or_tpot]
type = or
quantile = 0.95
slo = prefill_e2e_time 0.5
slo = decode_time_execution_plus_preemption_normalized 0.02
[trace.conv]
trace_file = data/traces/conversations_small.csv
max_seq_len = 8192
enable_prefix_caching = true
[model.llama3]
identifier = meta-llama/Meta-Llama-3-8B
[search.s]
trace = conv
model = llama3
search_for = qps
num_replicas = 2
qps = 2
num_requests = 120
INI
"$SEARCH" "$T/s.ini" -o "$T/a" -j 2 >"$T/a.out" 2>"$T/a.err"
check "search runs (exit 0)" "[ $? -eq 0 ]"
check "results.csv: header + 8 points x 2 SLO configs" "[ \$(wc -l <'$T/a/results.csv') -eq 17 ]"
# (ok with an empty reason, or flagged unconverged when no probe of its search failed)
check "results.csv: every row ok with a QPS found" "[ \$(grep -c ',qps,[a-z_0-9]*,ok,\\(unconverged[^,]*\\)\\{0,1\\},1,' '$T/a/results.csv') -eq 16 ]"
check "best.csv: one row per model x trace x SLO config" "[ \$(wc -l <'$T/a/best.csv') -eq 3 ]"
check "pareto.csv and report.html written" "grep -q '^on_frontier,' '$T/a/pareto.csv' && grep -q '^1,' '$T/a/pareto.csv' && grep -q '<svg' '$T/a/report.html'"
# the Pareto plots: one point with a hover text per pareto.csv row, the frontier's in red
np=$(($(wc -l <"$T/a/pareto.csv") - 1)); nf=$(grep -c '^1,' "$T/a/pareto.csv")
check "report.html: a point with a hover text per feasible point ($np), $nf red" \
    "[ \$(grep -o '</title></circle>' '$T/a/report.html' | wc -l) -eq $np ] && [ \$(grep -o 'fill=\"#d62728\"><title>' '$T/a/report.html' | wc -l) -eq $nf ]"
h0=$(sed -n 2p "$T/a/results.csv" | cut -d, -f2)
check "run folders as in the spec: runs/<hash>/r2_q4.0/" "[ -s '$T/a/runs/$h0/r2_q4.0/request_metrics.csv' ] && [ -s '$T/a/runs/$h0/r2_q4.0/summary.json' ]"
check "one resume record per point" "[ \$(ls '$T/a/points' | grep -c '\.txt$') -eq 8 ] && ! ls '$T/a/points' | grep -q tmp"
check "best.csv has the highest QPS per dollar of its group" \
    "[ \"\$(awk -F, 'NR > 1 && \$14 == \"ttft_p90_1s\" && \$22 > m { m = \$22 } END { print m }' '$T/a/results.csv')\" = \"\$(awk -F, '\$14 == \"ttft_p90_1s\" { print \$22 }' '$T/a/best.csv')\" ]"

"$SEARCH" "$T/s.ini" -o "$T/b" -j 1 -q 2>/dev/null
check "results.csv identical with -j 1 and -j 2" "cmp -s '$T/a/results.csv' '$T/b/results.csv' && cmp -s '$T/a/best.csv' '$T/b/best.csv' && cmp -s '$T/a/pareto.csv' '$T/b/pareto.csv'"

"$SEARCH" "$T/s.ini" -o "$T/c" -j 2 -q --summaries-only 2>/dev/null
check "--summaries-only: same results, run folders keep summary.json only" \
    "cmp -s '$T/a/results.csv' '$T/c/results.csv' && [ -s '$T/c/runs/$h0/r2_q4.0/summary.json' ] && [ ! -e '$T/c/runs/$h0/r2_q4.0/request_metrics.csv' ]"

# a point whose process dies: recorded as failed with the reason, the others unaffected; the
# next run retries it
h3=$(sed -n 6p "$T/a/results.csv" | cut -d, -f2)
VIDUR_SEARCH_TEST_CRASH=$h3 "$SEARCH" "$T/s.ini" -o "$T/d" -j 2 -q 2>/dev/null
check "a crashing point does not stop the search" "[ $? -eq 0 ] && [ -s '$T/d/results.csv' ]"
check "the crashed point is failed with the signal" "[ \$(grep -c \",$h3,.*,failed,point process killed by signal 9\" '$T/d/results.csv') -eq 2 ]"
check "the other points are unaffected" "diff <(grep -v ',$h3,' '$T/a/results.csv') <(grep -v ',$h3,' '$T/d/results.csv') >/dev/null"
"$SEARCH" "$T/s.ini" -o "$T/d" -j 2 -q 2>/dev/null
check "rerun retries the failed point" "cmp -s '$T/a/results.csv' '$T/d/results.csv'"

# kill -9 mid-way: point 5 hangs, points 1-4 are recorded; the whole process group is killed;
# rerunning the same command resumes and gives the same results.csv as an uninterrupted run
h5=$(sed -n 10p "$T/a/results.csv" | cut -d, -f2)
VIDUR_SEARCH_TEST_HANG=$h5 setsid "$SEARCH" "$T/s.ini" -o "$T/e" -j 1 -q >/dev/null 2>&1 &
pid=$!
disown "$pid" 2>/dev/null # no "Killed" job message
for _ in $(seq 1 600); do
    [ "$(ls "$T/e/points" 2>/dev/null | grep -c '\.txt$')" -ge 4 ] && break
    sleep 0.1
done
sleep 0.3
kill -9 -- -"$pid" 2>/dev/null || kill -9 "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
n_before=$(ls "$T/e/points" | grep -c '\.txt$')
check "killed mid-way: 4 of 8 points recorded, no results.csv yet" "[ $n_before -eq 4 ] && [ ! -e '$T/e/results.csv' ]"
"$SEARCH" "$T/s.ini" -o "$T/e" -j 2 >/dev/null 2>"$T/e.err"
check "rerun skips the finished points" "grep -q '4 already done' '$T/e.err'"
check "resumed results.csv equals the uninterrupted run's" "cmp -s '$T/a/results.csv' '$T/e/results.csv' && cmp -s '$T/a/best.csv' '$T/e/best.csv'"
"$SEARCH" "$T/s.ini" -o "$T/e" -j 2 --max-iterations 3 >/dev/null 2>"$T/e2.err"
check "records made under other settings are not reused" "grep -q ' 0 already done' '$T/e2.err'"
# damaged resume records with an intact key and end marker (a nan QPS, -5 replicas, a changed
# count) are not trusted: their points run again, and the results equal the undamaged run's
cp -r "$T/a" "$T/g"
recs=($(ls "$T/g/points"/*.txt | head -n 3))
sed -i '0,/^slo 0 /s/^slo 0 1 [^ ]*/slo 0 1 nan/' "${recs[0]}"
sed -i '0,/^slo 0 /s/^\(slo 0 1 [^ ]*\) [^ ]*/\1 -5/' "${recs[1]}"
sed -i 's/^sims [0-9]*/sims 1/' "${recs[2]}"
"$SEARCH" "$T/s.ini" -o "$T/g" -j 2 >/dev/null 2>"$T/g.err"
check "damaged resume records are run again (5 of 8 resumed)" "grep -q ' 5 already done' '$T/g.err'"
check "damaged resume records: results.csv equals the undamaged run's" "cmp -s '$T/a/results.csv' '$T/g/results.csv'"
# a search file that is not a regular file: one line, not a hang or a memory blow-up (issue 14)
mkdir -p "$T/dir.yml"
"$SEARCH" "$T/dir.yml" -o "$T/nr" >/dev/null 2>"$T/nr.err"
check "a folder as the YAML spec: 'not a regular file'" "[ \$? -ne 0 ] && grep -q 'dir.yml: not a regular file (a folder)' '$T/nr.err'"
"$SEARCH" /dev/zero -o "$T/nr" >/dev/null 2>"$T/nr.err"
check "/dev/zero as the INI spec: 'not a regular file'" "[ \$? -ne 0 ] && grep -q '/dev/zero: not a regular file' '$T/nr.err'"
check "args.json and search.ini written" "grep -q '\"argv\"' '$T/a/args.json' && cmp -s '$T/s.ini' '$T/a/search.ini'"

# MPI: rank 0 hands out points, rank 1 runs them
MPI_BIN=$ROOT/build/vidur-search-mpi
if [ "$(dirname "$VIDUR")" != "$ROOT/build" ]; then
    echo "SKIP MPI (checked in the plain pass only)"
elif ! command -v mpirun >/dev/null 2>&1 || [ ! -x "$MPI_BIN" ]; then
    echo "SKIP MPI: mpirun or build/vidur-search-mpi missing (install libopenmpi-dev openmpi-bin, then make mpi)"
else
    OMPI_MCA_mpi_warn_on_fork=0 timeout 240 mpirun --allow-run-as-root --oversubscribe -np 2 "$MPI_BIN" "$T/s.ini" -o "$T/m" -q >"$T/m.out" 2>&1
    check "MPI run (mpirun -np 2) exits 0" "[ $? -eq 0 ]"
    check "MPI results.csv equals the single-machine run's" "cmp -s '$T/a/results.csv' '$T/m/results.csv' && cmp -s '$T/a/best.csv' '$T/m/best.csv'"
fi

# every trace file missing: nothing can run; one line naming the files, exit 1, nothing written
# (a point whose trace alone is missing is reported as skipped: results.csv's reason)
sed 's#data/traces/conversations_small.csv#no/such/trace.csv#' "$T/s.ini" >"$T/missing.ini"
"$SEARCH" "$T/missing.ini" -o "$T/f" -q 2>"$T/f.err"
check "every trace missing: exit 1, one line naming the file, nothing written" \
    "[ $? -eq 1 ] && [ \$(wc -l <'$T/f.err') -eq 1 ] && grep -q \"trace file is missing (no/such/trace.csv)\" '$T/f.err' && [ ! -e '$T/f' ]"

# ours: an MoE + FP8 model from its config.json on H200 and H100 nodes, EP and KV precision axes:
# 2 clusters x TP 2 x EP {1, 2} x KV {auto, fp8} = 8 points, all valid
cat >"$T/moe.ini" <<'INI'
[explorer]
batch_sizes = 64
tp_dimensions = 2
pp_dimensions = 1
ep_dimensions = 1 2
kv_cache_dtypes = auto fp8
[cluster.h200]
device = h200
network_device = h200_dgx
gpus_per_node = 8
[cluster.h100]
device = h100
network_device = h100_dgx
gpus_per_node = 8
[global_scheduler.rr]
scheduler = round_robin
[request_queue.fcfs]
provider = fcfs
[replica_scheduler.v1]
scheduler = vllm_v1
chunk_size = 512
[slo_config.ttft]
type = and
quantile = 0.9
slo = prefill_e2e_time 5
[trace.conv]
trace_file = data/traces/conversations_small.csv
max_seq_len = 4096
[model.scout]
config = data/models/RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic/config.json
[search.s]
trace = conv
model = scout
search_for = qps
num_replicas = 1
qps = 2
num_requests = 30
INI
"$SEARCH" "$T/moe.ini" -o "$T/moe" -j 2 --max-iterations 2 -q 2>"$T/moe.err"
check "MoE + FP8 from config.json, EP and KV axes: exit 0" "[ $? -eq 0 ]"
check "MoE search: 8 points, none failed; results name EP and precisions" \
    "[ \$(grep -c ',ok,' '$T/moe/results.csv') -eq 8 ] && head -1 '$T/moe/results.csv' | grep -q ',probes,converged,ep,weight_dtype,kv_cache_dtype$' &&
     [ \$(grep -c ',2,auto,fp8$' '$T/moe/results.csv') -eq 2 ]"
check "a search without these axes writes no ep / precision columns" "head -1 '$T/a/results.csv' | grep -q ',probes,converged$'"
finish
