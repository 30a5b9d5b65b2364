#!/usr/bin/env bash
# vidur-calibrate: (1) it recovers known engine parameters from ground truth that the simulator
# itself generated with them, in each ground-truth format (aggregate records, per-request CSV,
# LLMServingSim requests.jsonl + meta.json, vLLM benchmark_serving JSON); (2) --validate and
# --trace; (3) every reader rejects malformed input with one line naming file, line and field.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_tmpdir calibrate
CAL=${VIDUR_CALIBRATE:-$ROOT/build/vidur-calibrate}
[ -x "$CAL" ] || { bad "build/vidur-calibrate exists (make build/vidur-calibrate)"; finish; }

# ---- ground truth from the simulator, with frontend_output_ms = 3 and step_overhead_ms = 0.6 ----
# Llama-2-7B on an H100, the engine profile, 240 requests in two load stages
cat >"$T/deploy.ini" <<'EOF'
[replica_config]
model_name = meta-llama/Llama-2-7b-hf
device = h100
network_device = h100_dgx
[replica_scheduler_config]
type = vllm_v1
[vllm_v1_scheduler_config]
chunk_size = 2048
[engine_config]
profile = vllm_v0_15
EOF
cat >"$T/sp.ini" <<'EOF'
[request_generator_config]
type = shared_prefix
[cache_config]
enable_prefix_caching = true
[shared_prefix_request_generator_config]
seed = 7
system_prompt_len = 100
question_len = 300
output_len = 40
stages = 4x30;8x15
EOF
cat >"$T/truth.ini" <<'EOF'
[engine_config]
frontend_output_ms = 3
step_overhead_ms = 0.6
EOF
cat >"$T/start.ini" <<'EOF'
[engine_config]
frontend_output_ms = 1
step_overhead_ms = 0.2
EOF
# a fixed trace: known arrivals for the per-request formats (all at t = 0 for benchmark_serving,
# whose files have no arrival times: request_rate "inf" is the one case regenerated exactly)
# (gaps of 0.4-1.2 s in a golden-ratio sequence: a request mostly finds the engine idle, so its
# latency is a smooth function of the parameters; under load a request's TTFT jumps by up to an
# iteration as its arrival crosses an iteration boundary, and a small run cannot average that out)
awk 'BEGIN { print "arrived_at,num_prefill_tokens,num_decode_tokens"; t = 0; for (i = 0; i < 120; i++) { printf "%.6f,%d,%d\n", t, 200 + (i * 37) % 400, 20 + (i * 13) % 50; x = i * 0.6180339887; t += 0.4 + 0.8 * (x - int(x)) } }' >"$T/trace.csv"
awk 'BEGIN { print "arrived_at,num_prefill_tokens,num_decode_tokens"; for (i = 0; i < 60; i++) printf "0,%d,%d\n", 100 + (i * 29) % 300, 10 + (i * 7) % 30 }' >"$T/burst.csv"
run_truth() { # OUTDIR WORKLOAD_FLAGS...
    local out=$1; shift
    "$VIDUR" "$T/deploy.ini" "$T/truth.ini" "$@" --metrics_config_output_dir "$out" --no-metrics_config_timestamp_output_dir \
        --no-metrics_config_store_plots --no-metrics_config_enable_chrome_trace --quiet
}
run_truth "$T/g_sp" "$T/sp.ini" || bad "ground truth (shared_prefix) simulated"
run_truth "$T/g_tr" --request_generator_config_type trace_replay --trace_request_generator_config_trace_file "$T/trace.csv" || bad "ground truth (trace) simulated"
run_truth "$T/g_bu" --request_generator_config_type trace_replay --trace_request_generator_config_trace_file "$T/burst.csv" || bad "ground truth (burst) simulated"

# request_metrics.csv -> per-request columns: id, ttft_ms, e2e_ms, D
cols() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { printf "%d %.9f %.9f %d\n", $c["Request Id"], $c["prefill_e2e_time"] * 1000, $c["request_e2e_time"] * 1000, $c["request_num_decode_tokens"] }' "$1/request_metrics.csv" | sort -n; }
# (a) aggregate records per stage (stage -1 = all): e2e_mean, ttft_mean, itl_mean = (e2e - ttft) / (D - 1)
cols "$T/g_sp" | awk 'BEGIN { print "exp_key,stage,metric,actual_ms" }
    { st = $1 < 120 ? 0 : 1; n[st]++; n[-1]++; e[st] += $3; e[-1] += $3; t[st] += $2; t[-1] += $2 }
    END { for (s = -1; s <= 1; s++) { printf "sp,%d,e2e_mean,%.9f\nsp,%d,ttft_mean,%.9f\nsp,%d,itl_mean,%.9f\n", s, e[s] / n[s], s, t[s] / n[s], s, (e[s] - t[s]) / n[s] / 39 } }' >"$T/agg.csv"
# (b) per-request CSV
cols "$T/g_tr" | awk 'BEGIN { print "ttft_ms,e2e_ms,tpot_ms" } { printf "%.9f,%.9f,%.9f\n", $2, $3, ($3 - $2) / ($4 - 1) }' >"$T/req.csv"
# (c) LLMServingSim requests.jsonl (+ meta.json): engine clock starting at 1000 s
mkdir -p "$T/lss"
cols "$T/g_tr" | paste -d' ' - <(tail -n +2 "$T/trace.csv" | tr ',' ' ') |
    awk '{ q = 1000 + $5; printf "{\"request_id\": \"r%d\", \"input_toks\": %d, \"output_toks\": %d, \"queued_ts\": %.9f, \"first_token_ts\": %.9f, \"last_token_ts\": %.9f}\n", $1, $6, $7, q, q + $2 / 1000, q + $3 / 1000 }' >"$T/lss/requests.jsonl"
printf '{"schema_version": 1, "engine_kwargs": {"tensor_parallel_size": 1, "max_num_seqs": 128, "max_num_batched_tokens": 2048}}\n' >"$T/lss/meta.json"
# (d) vLLM benchmark_serving result: ttfts and itls in seconds, every request sent at once
cols "$T/g_bu" | paste -d' ' - <(tail -n +2 "$T/burst.csv" | tr ',' ' ') |
    awk 'BEGIN { printf "{\"backend\": \"vllm\", \"request_rate\": \"inf\", \"burstiness\": 1.0, \"max_concurrency\": null,\n" }
    { n++; in_[n] = $6; out[n] = $7; tt[n] = $2 / 1000; it[n] = ($3 - $2) / 1000 / ($7 - 1) }
    END { printf "\"input_lens\": ["; for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? ", " : ""), in_[i]
          printf "],\n\"output_lens\": ["; for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? ", " : ""), out[i]
          printf "],\n\"ttfts\": ["; for (i = 1; i <= n; i++) printf "%s%.12f", (i > 1 ? ", " : ""), tt[i]
          printf "],\n\"itls\": ["; for (i = 1; i <= n; i++) { printf "%s[", (i > 1 ? ", " : ""); for (j = 1; j < out[i]; j++) printf "%s%.12f", (j > 1 ? ", " : ""), it[i]; printf "]" }
          printf "],\n\"errors\": ["; for (i = 1; i <= n; i++) printf "%s\"\"", (i > 1 ? ", " : ""); printf "]}\n" }' >"$T/bench.json"

cat >"$T/set.ini" <<EOF
[calibrate]
config = deploy.ini
params = frontend_output_ms, step_overhead_ms
metrics = e2e_mean, ttft_mean, itl_mean, tpot_mean

[experiment.sp]
config = sp.ini
ground_truth = agg.csv

[experiment.trace]
ground_truth = req.csv
config = trace_cfg.ini
workload = config

[experiment.lss]
ground_truth = lss/requests.jsonl

[experiment.bench]
ground_truth = bench.json
EOF
printf '[request_generator_config]\ntype = trace_replay\n[trace_request_generator_config]\ntrace_file = %s\n' "$T/trace.csv" >"$T/trace_cfg.ini"

if "$CAL" --config "$T/start.ini" --out "$T/fitted.ini" --loeo-evals 12 --jobs 2 "$T/set.ini" >"$T/fit.log" 2>&1; then
    ok "vidur-calibrate fits the four experiments"
else
    bad "vidur-calibrate fits the four experiments" "$(tail -n 3 "$T/fit.log")"
fi
val() { sed -n "s/^$1 = //p" "$T/fitted.ini"; }
near() { awk -v a="$1" -v b="$2" -v tol="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= tol * b) }'; }
f=$(val frontend_output_ms); s=$(val step_overhead_ms)
if near "${f:-0}" 3 0.03; then ok "frontend_output_ms recovered: $f (truth 3, start 1)"; else bad "frontend_output_ms recovered" "got '$f', truth 3"; fi
if near "${s:-0}" 0.6 0.03; then ok "step_overhead_ms recovered: $s (truth 0.6, start 0.2)"; else bad "step_overhead_ms recovered" "got '$s', truth 0.6"; fi
if grep -q '^profile = vllm_v0_15$' "$T/fitted.ini" && "$VIDUR" "$T/deploy.ini" "$T/fitted.ini" "$T/sp.ini" --no-metrics_config_write_metrics --quiet; then
    ok "vidur reads the written INI"
else
    bad "vidur reads the written INI" "$(cat "$T/fitted.ini")"
fi
if grep -q 'left out of the fit' "$T/fit.log" && grep -q '^median |error| (fit | left out)' "$T/fit.log"; then
    ok "fit and leave-one-experiment-out errors printed side by side"
else
    bad "fit and leave-one-experiment-out errors printed" "$(tail -n 8 "$T/fit.log")"
fi
# fitted on their own, each format recovers the truth too (exactly generated data: tight)
for e in sp trace lss bench; do
    awk -v keep="$e" '/^\[/ { inexp = ($0 ~ /^\[experiment\./); on = ($0 == "[experiment." keep "]") } !inexp || on' "$T/set.ini" >"$T/one_$e.ini"
    if "$CAL" --config "$T/start.ini" --out "$T/fit_$e.ini" --no-loeo --max-evals 160 "$T/one_$e.ini" >"$T/fit_$e.log" 2>&1 &&
        near "$(sed -n 's/^frontend_output_ms = //p' "$T/fit_$e.ini")" 3 0.03 && near "$(sed -n 's/^step_overhead_ms = //p' "$T/fit_$e.ini")" 0.6 0.03; then
        ok "recovered from the $e ground truth alone"
    else
        bad "recovered from the $e ground truth alone" "$(grep = "$T/fit_$e.ini" 2>/dev/null | tr '\n' ' ') $(tail -n 2 "$T/fit_$e.log")"
    fi
done
# deterministic: the same fit twice gives the same file
"$CAL" --config "$T/start.ini" --out "$T/fit_bench2.ini" --no-loeo --max-evals 160 "$T/one_bench.ini" >/dev/null 2>&1
if cmp -s <(tail -n +2 "$T/fit_bench.ini") <(tail -n +2 "$T/fit_bench2.ini"); then ok "deterministic fit"; else bad "deterministic fit"; fi

# ---- --validate, --csv, --report, --trace --------------------------------------------------
if "$CAL" --validate --config "$T/truth.ini" --csv "$T/val.csv" --report "$T/val.html" "$T/set.ini" >"$T/val.log" 2>&1 &&
    grep -q '^== trace (requests' "$T/val.log" && grep -qE '^tpot_p90 +[0-9.]+ +[0-9.]+ +[+-]0\.0% +0\.0%' "$T/val.log"; then
    ok "--validate: measured vs predicted (the truth's own parameters: 0.0 %)"
else
    bad "--validate prints measured vs predicted" "$(head -n 12 "$T/val.log")"
fi
if [ "$(head -n 1 "$T/val.csv")" = "set,experiment,stage,metric,measured_ms,predicted_ms,signed_error_pct,abs_error_pct" ] &&
    grep -q '^validate,sp,1,itl_mean,' "$T/val.csv"; then ok "--csv rows"; else bad "--csv rows" "$(head -n 3 "$T/val.csv")"; fi
if grep -q '<svg' "$T/val.html" && grep -q 'TPOT CDF' "$T/val.html" && [ "$(grep -c '<h2>' "$T/val.html")" -eq 4 ]; then
    ok "--report: a section per experiment, measured and simulated CDFs"
else
    bad "--report" "$(grep -c '<h2>' "$T/val.html") sections"
fi
if "$CAL" --trace "$T/lss/requests.jsonl" -o "$T/lss_trace.csv" >/dev/null && [ "$(wc -l <"$T/lss_trace.csv")" -eq 121 ] &&
    [ "$(sed -n 2p "$T/lss_trace.csv")" = "0.000000000,200,20" ]; then
    ok "--trace: a vidur trace from requests.jsonl"
else
    bad "--trace" "$(head -n 2 "$T/lss_trace.csv" 2>/dev/null)"
fi

# ---- malformed ground truth: one line naming file, line and field ----------------------------
rejects() { # NAME FILE EXPECTED_SUBSTRING [FORMAT]
    local name=$1 file=$2 want=$3 err
    printf '[experiment.x]\nconfig = %s\nground_truth = %s\nkey = sp\n%s' "$T/sp.ini" "$file" "${4:+format = $4
}" >"$T/bad_set.ini"
    err=$("$CAL" --validate --config "$T/deploy.ini" "$T/bad_set.ini" 2>&1 >/dev/null)
    local rc=$?
    if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [[ "$err" == *"$want"* ]]; then
        ok "rejects $name: $err"
    else
        bad "rejects $name" "rc $rc, want '$want', got: $err"
    fi
}
printf 'exp_key,stage,metric,actual_ms\nsp,-1,e2e_mean,100\nsp,-1,ttft_mean,abc\n' >"$T/a1.csv"
rejects "a non-number (aggregate)" "$T/a1.csv" "a1.csv:3: field 'actual_ms'"
printf 'exp_key,stage,metric\nsp,-1,e2e_mean\n' >"$T/a2.csv"
rejects "a missing column (aggregate)" "$T/a2.csv" "a2.csv:1: field 'actual_ms'"
printf 'exp_key,stage,metric,actual_ms\nsp,-1,e2e_max,100\n' >"$T/a3.csv"
rejects "an unknown metric (aggregate)" "$T/a3.csv" "a3.csv:2: field 'metric'"
printf 'exp_key,stage,metric,actual_ms\nsp,1.5,e2e_mean,100\n' >"$T/a4.csv"
rejects "a fractional stage (aggregate)" "$T/a4.csv" "a4.csv:2: field 'stage'"
printf 'exp_key,stage,metric,actual_ms\nsp,-1,e2e_mean,-5\n' >"$T/a5.csv"
rejects "a negative time (aggregate)" "$T/a5.csv" "a5.csv:2: field 'actual_ms'"
printf 'ttft_ms,e2e_ms\n10,100\n50,40\n' >"$T/r1.csv"
rejects "E2E below TTFT (requests)" "$T/r1.csv" "r1.csv:3: field 'e2e_ms'"
printf 'ttft_ms,e2e_ms,tpot_ms\n10,100,x\n' >"$T/r2.csv"
rejects "a non-number (requests)" "$T/r2.csv" "r2.csv:2: field 'tpot_ms'"
mkdir -p "$T/j1" "$T/j2" "$T/j3" "$T/j4" "$T/j5"
good='{"input_toks": 10, "output_toks": 5, "queued_ts": 1.0, "first_token_ts": 1.5, "last_token_ts": 2.0}'
printf '%s\n{"input_toks": 10,\n' "$good" >"$T/j1/requests.jsonl"
rejects "broken JSON (requests.jsonl)" "$T/j1/requests.jsonl" "requests.jsonl:2:"
printf '%s\n%s\n{"input_toks": 10, "output_toks": 5, "queued_ts": 1.0, "last_token_ts": 2.0}\n' "$good" "$good" >"$T/j2/requests.jsonl"
rejects "a missing field (requests.jsonl)" "$T/j2/requests.jsonl" "requests.jsonl:3: field 'first_token_ts'"
printf '{"input_toks": 10, "output_toks": 0, "queued_ts": 1.0, "first_token_ts": 1.5, "last_token_ts": 2.0}\n' >"$T/j3/requests.jsonl"
rejects "zero output tokens (requests.jsonl)" "$T/j3/requests.jsonl" "requests.jsonl:1: field 'output_toks'"
printf '{"input_toks": 10, "output_toks": 5, "queued_ts": 1.0, "first_token_ts": 2.5, "last_token_ts": 2.0}\n' >"$T/j4/requests.jsonl"
rejects "timestamps out of order (requests.jsonl)" "$T/j4/requests.jsonl" "requests.jsonl:1: field 'last_token_ts'"
printf '%s\n' "$good" >"$T/j5/requests.jsonl"
printf '{\n  "engine_kwargs": {\n    "max_num_seqs": "many"\n  }\n}\n' >"$T/j5/meta.json"
rejects "a bad meta.json" "$T/j5/requests.jsonl" "meta.json:2: field 'max_num_seqs'"
printf '{"input_lens": [10, 20],\n "output_lens": [5, 6],\n "ttfts": [0.1, "x"],\n "itls": [[0.01], [0.01]]}\n' >"$T/b1.json"
rejects "a non-number (benchmark_serving)" "$T/b1.json" "b1.json:3: field 'ttfts[1]'"
printf '{"input_lens": [10, 20],\n "output_lens": [5, 6],\n "itls": [[0.01], [0.01]]}\n' >"$T/b2.json"
rejects "a missing array (benchmark_serving)" "$T/b2.json" "b2.json:1: field 'ttfts'"
printf '{"input_lens": [10, 20],\n "output_lens": [5],\n "ttfts": [0.1, 0.2],\n "itls": [[0.01], [0.01]]}\n' >"$T/b3.json"
rejects "arrays of different lengths (benchmark_serving)" "$T/b3.json" "b3.json:2: field 'output_lens'"
printf '{"input_lens": [10],\n "output_lens": [5],\n "ttfts": [0.1],\n "itls": [[0.01, -1]]}\n' >"$T/b4.json"
rejects "a negative inter-token latency (benchmark_serving)" "$T/b4.json" "b4.json:4: field 'itls[0]'"
printf '{"input_lens": [10],\n "output_lens": [5],\n "ttfts": [0.1],\n "itls": [[0.01]],\n "request_rate": -2}\n' >"$T/b5.json"
rejects "a negative request rate (benchmark_serving)" "$T/b5.json" "b5.json:5: field 'request_rate'"
printf '{"input_lens": [10],\n "output_lens": [5]\n "ttfts": [0.1]}\n' >"$T/b6.json"
rejects "broken JSON (benchmark_serving)" "$T/b6.json" "b6.json:3:"
printf 'ttft_ms,e2e_ms\n10,100\n' >"$T/ok.csv"
rejects "an unknown format name" "$T/ok.csv" "bad_set.ini:5: [experiment.x] key 'format'" "csv"
printf '[calibrate]\nparams = frontend_input_ms\nspeed = 3\n' >"$T/bad_set2.ini"
err=$("$CAL" "$T/bad_set2.ini" 2>&1 >/dev/null)
if [[ "$err" == *"bad_set2.ini:3: [calibrate] key 'speed'"* ]]; then ok "rejects an unknown key in the set file"; else bad "rejects an unknown set key" "$err"; fi
err=$("$CAL" --params lm_head "$T/set.ini" 2>&1 >/dev/null)
if [[ "$err" == *"'lm_head' is not a fittable engine_config key"* ]]; then ok "rejects a parameter it cannot fit"; else bad "rejects a parameter it cannot fit" "$err"; fi
finish
