#!/usr/bin/env bash
# The PPO router from the command line: chunked training resumes from latest.bin, checkpoints
# and metrics CSVs appear only at the end of a run, a damaged checkpoint stops the run with one
# line and no output, inference-only runs write no checkpoint; vidur-compare's paired table.
# VIDUR selects the CLI (tests/run.sh also passes build/asan/vidur); VIDUR_COMPARE the comparison tool.
. "$(dirname "$0")/lib.sh"
COMPARE=${VIDUR_COMPARE:-$ROOT/build/vidur-compare}
test_tmpdir ppo
P=--ppo_global_scheduler_config
SMALL=(--execution_time_predictor_config_type roofline --cluster_config_num_replicas 2
       --synthetic_request_generator_config_num_requests 120
       --fixed_request_length_generator_config_prefill_tokens 256
       --fixed_request_length_generator_config_decode_tokens 8
       --poisson_request_interval_generator_config_qps 10
       --global_scheduler_config_type ppo ${P}_hidden_size 8 ${P}_rollout_len 16 ${P}_minibatch_size 8 ${P}_epochs 2
       --metrics_config_output_dir "$T/out" --no-metrics_config_timestamp_output_dir)

out=$("$VIDUR" "${SMALL[@]}" ${P}_checkpoint_dir "$T" ${P}_metrics_dir "$T" 2>&1)
if echo "$out" | grep -q '^ppo: 120 decisions (120 in this run), [1-9][0-9]* updates'; then ok "training run"; else bad "training run" "$out"; fi
if [ -s "$T/latest.bin" ] && [ -s "$T/ckpt_0000000120.bin" ]; then ok "checkpoints written"; else bad "checkpoints written"; fi
rows=$(wc -l <"$T/ppo_decisions.csv" 2>/dev/null || echo 0)
if [ "$rows" -eq 121 ] && head -1 "$T/ppo_updates.csv" | grep -q '^update,decision,minibatch_step,pi_loss'; then ok "metrics CSVs"; else bad "metrics CSVs" "$rows rows"; fi
if ! ls "$T"/*.tmp >/dev/null 2>&1; then ok "no temporary files left"; else bad "no temporary files left"; fi

out=$("$VIDUR" "${SMALL[@]}" ${P}_checkpoint_dir "$T" ${P}_load_checkpoint "$T/latest.bin" --poisson_request_interval_generator_config_seed 7 2>&1)
if echo "$out" | grep -q '^ppo: 240 decisions (120 in this run)'; then ok "resume from latest.bin"; else bad "resume from latest.bin" "$out"; fi
if [ -s "$T/ckpt_0000000240.bin" ]; then ok "second checkpoint"; else bad "second checkpoint"; fi

# same config + seed + checkpoint -> byte-identical checkpoint
mkdir -p "$T/a" "$T/b"
"$VIDUR" "${SMALL[@]}" ${P}_checkpoint_dir "$T/a" ${P}_load_checkpoint "$T/ckpt_0000000120.bin" --quiet
"$VIDUR" "${SMALL[@]}" ${P}_checkpoint_dir "$T/b" ${P}_load_checkpoint "$T/ckpt_0000000120.bin" --quiet
if cmp -s "$T/a/latest.bin" "$T/b/latest.bin"; then ok "deterministic training"; else bad "deterministic training"; fi

# damaged checkpoints: one line on stderr, non-zero exit, nothing written
head -c 5000 "$T/latest.bin" >"$T/trunc.bin"
for case_ in "trunc.bin:truncated" "nonexistent.bin:cannot open"; do
    f=${case_%%:*} needle=${case_#*:}
    rm -rf "$T/out"
    err=$("$VIDUR" "${SMALL[@]}" --metrics_config_write_metrics true ${P}_load_checkpoint "$T/$f" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -ne 0 ] && [ "$(echo "$err" | wc -l)" -eq 1 ] && echo "$err" | grep -q "$needle" && [ ! -e "$T/out" ]; then
        ok "bad checkpoint $f"
    else
        bad "bad checkpoint $f" "rc $rc: $err"
    fi
done
err=$("$VIDUR" "${SMALL[@]}" --cluster_config_num_replicas 3 ${P}_load_checkpoint "$T/latest.bin" 2>&1 >/dev/null)
if [ $? -ne 0 ] && echo "$err" | grep -q "incompatible"; then ok "incompatible checkpoint"; else bad "incompatible checkpoint" "$err"; fi

# inference only: routes, writes no checkpoint
mkdir -p "$T/ev"
out=$("$VIDUR" "${SMALL[@]}" ${P}_mode eval ${P}_load_checkpoint "$T/latest.bin" ${P}_checkpoint_dir "$T/ev" 2>&1)
if echo "$out" | grep -q '^ppo: 360 decisions (120 in this run), [0-9]* updates' && [ ! -e "$T/ev/latest.bin" ]; then ok "eval mode"; else bad "eval mode" "$out"; fi

# the comparison tool: paired table and CSV (2 seeds x 3 schedulers + 3 summary rows)
if [ -x "$COMPARE" ]; then
    out=$("$COMPARE" "${SMALL[@]}" --schedulers round_robin,random,ppo --ppo-checkpoint "$T/latest.bin" --seeds 2 --skip 10 --csv "$T/c.csv" --html "$T/c.html" 2>&1)
    n=$(wc -l <"$T/c.csv" 2>/dev/null || echo 0)
    if echo "$out" | grep -q '^| ppo |' && echo "$out" | grep -q '^| round_robin .*baseline' && [ "$n" -eq 10 ] && grep -q '<table>' "$T/c.html"; then
        ok "vidur-compare"
    else
        bad "vidur-compare" "$n rows: $out"
    fi
else
    bad "vidur-compare built"
fi
finish
