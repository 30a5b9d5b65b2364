#!/usr/bin/env bash
# What Vidur users meet (docs/vidur_users.md): the upstream [U] / fork [F] rule and what each
# changes, the warnings for settings that quietly change an experiment, Vidur's nested
# config.json, and the error messages for common slips. VIDUR selects the binary.
# Prints PASS/FAIL/SKIP lines and, last, "N passed, N failed".
. "$(dirname "$0")/lib.sh"
test_tmpdir users
CONV=data/traces/conversations_small.csv # 287 requests with session_id and block_hash_ids
FAST=(--execution_time_predictor_config_type roofline --no-metrics_config_enable_chrome_trace
      --metrics_config_timestamp_output_dir false)
have_py=0
command -v python3 >/dev/null 2>&1 && have_py=1

# run NAME ARGS...: runs vidur into $T/NAME (stdout $T/NAME.out, stderr $T/NAME.err); 0 = exit 0
run() {
    local name=$1
    shift
    "$VIDUR" "${FAST[@]}" --metrics_config_output_dir "$T/$name" "$@" >"$T/$name.out" 2>"$T/$name.err"
}
# col NAME COLUMN: the values of a request_metrics.csv column, one a line
col() {
    awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } k { print $k }' "$T/$1/request_metrics.csv"
}
mean() { awk '{ s += $1; n++ } END { if (n) printf "%.6f\n", s / n }'; }
# trace_col COLUMN N: the first N values of a column of $CONV
trace_col() { awk -F, -v c="$1" -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } NR <= n + 1 { print $k }' "$CONV"; }

# one_error NAME NEEDLE... -- ARGS...: exit 1, exactly one stderr line holding every needle (lib.sh)
one_error() { expect_one_line_error "$VIDUR" "$@"; }

# ---- [U] / [F]: the fork's trace lengths when the run is fork-style ---------------------------
FORK=(--length_generator_config_type trace --trace_request_length_generator_config_trace_file "$CONV"
      --synthetic_request_generator_config_num_requests 50 --poisson_request_interval_generator_config_qps 4
      --replica_config_model_name meta-llama/Meta-Llama-3-8B --replica_config_device h100 --cluster_config_num_replicas 2
      --replica_scheduler_config_type vllm_v1 --cache_config_enable_prefix_caching)
if run fork "${FORK[@]}"; then
    want=$(trace_col num_prefill_tokens 50 | mean)
    got=$(col fork request_num_prefill_tokens | mean)
    [ -n "$got" ] && [ "$got" = "$want" ] && ok "fork semantics (auto: vllm_v1): the first 50 rows in file order, uncut (mean prompt $got)" \
        || bad "fork semantics: prompts in file order, uncut" "mean $got, trace's first 50: $want"
    grep -qE "^prefix cache: [0-9.]+% " "$T/fork.out" && ! grep -q "^prefix cache: 0.0%" "$T/fork.out" \
        && ok "fork semantics: block hashes reach the requests (prefix hits > 0)" || bad "fork semantics: prefix hits > 0" "$(tail -2 "$T/fork.out")"
    head -1 "$T/fork/request_metrics.csv" | grep -q ',request_num_restarts,request_arrived_at,replica$' \
        && ok "fork run: request_metrics.csv ends with the fork's request_arrived_at,replica" || bad "fork run: request_arrived_at,replica columns"
    [ "$(col fork replica | sort -u | tr '\n' ' ')" = "0 1 " ] && ok "fork run: the replica column names both replicas" || bad "fork run: replica column" "$(col fork replica | sort -u | tr '\n' ' ')"
    [ ! -s "$T/fork.err" ] && ok "fork run: no warning" || bad "fork run: no warning" "$(cat "$T/fork.err")"
else
    bad "fork-style run exits 0" "$(cat "$T/fork.err")"
fi
# the same command forced upstream: lengths shuffled and fitted, hashes dropped (and said so)
if run upstream "${FORK[@]}" --semantics upstream --trace_request_length_generator_config_max_tokens 2048; then
    mx=$(col upstream request_num_tokens | sort -n | tail -1)
    [ "${mx%.*}" -le 2048 ] && ok "--semantics upstream: P+D fitted to max_tokens (largest $mx)" || bad "--semantics upstream: fitted" "largest $mx"
    head -1 "$T/upstream/request_metrics.csv" | grep -q ',request_num_restarts$' && ok "upstream run: Vidur's upstream columns" || bad "upstream run: upstream columns"
    grep -q "no request will carry block_hash_ids (upstream semantics drop them from trace lengths: add --semantics fork)" "$T/upstream.err" \
        && ok "warning: prefix caching without block hashes" || bad "warning: prefix caching without block hashes" "$(cat "$T/upstream.err")"
    grep -qE "trace_request_length_generator_config_max_tokens = 2048 cut [0-9]+ of 50 requests to fit \([0-9]+ tokens removed" "$T/upstream.err" \
        && ok "warning: how many requests max_tokens cut, and by how much" || bad "warning: max_tokens cuts" "$(cat "$T/upstream.err")"
else
    bad "upstream-forced run exits 0" "$(cat "$T/upstream.err")"
fi
# wrap-around: the fork's trace lengths start again at the first row
if run wrap "${FORK[@]}" --synthetic_request_generator_config_num_requests 290; then
    a=$(col wrap request_num_prefill_tokens | sed -n '288p'); b=$(trace_col num_prefill_tokens 1)
    [ "$a" = "$b" ] && ok "fork trace lengths wrap around (request 287 = row 0: $a tokens)" || bad "fork trace lengths wrap around" "$a vs $b"
else
    bad "fork trace lengths wrap around" "$(cat "$T/wrap.err")"
fi
one_error "upstream trace lengths: more requests than rows is an error" "290 requests asked" -- "${FAST[@]}" --length_generator_config_type trace \
    --trace_request_length_generator_config_trace_file "$CONV" --synthetic_request_generator_config_num_requests 290 \
    --metrics_config_write_metrics false

# the fork's trace request generator: nothing cut, file order, num_requests
if run ftrace --request_generator_config_type trace --trace_request_generator_config_trace_file "$CONV" \
        --trace_request_generator_config_num_requests 40 --trace_request_generator_config_max_tokens 1024; then
    [ "$(col ftrace request_num_prefill_tokens | mean)" = "$(trace_col num_prefill_tokens 40 | mean)" ] && [ "$(col ftrace request_num_prefill_tokens | wc -l)" -eq 40 ] \
        && ok "request_generator_config_type trace: num_requests rows, prompts uncut" || bad "request_generator_config_type trace: rows uncut"
else
    bad "request_generator_config_type trace runs" "$(cat "$T/ftrace.err")"
fi
printf 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,5\n2,10,5\n1,10,5\n' >"$T/unsorted.csv"
one_error "trace generator: unsorted arrivals are an error naming the row" "unsorted.csv:4" "arrived_at" "trace_replay sorts them" -- \
    "${FAST[@]}" --request_generator_config_type trace --trace_request_generator_config_trace_file "$T/unsorted.csv"
if run replay_cut --request_generator_config_type trace_replay --trace_request_generator_config_trace_file "$CONV" \
        --trace_request_generator_config_max_tokens 1024; then
    grep -qE "trace_request_generator_config_max_tokens = 1024 cut [0-9]+ of 287 requests" "$T/replay_cut.err" \
        && ok "warning: trace_replay's prompt cuts are counted" || bad "warning: trace_replay's prompt cuts" "$(cat "$T/replay_cut.err")"
else
    bad "trace_replay with cuts runs" "$(cat "$T/replay_cut.err")"
fi

# ---- warnings for settings that change the experiment ---------------------------------------
if run sticky --global_scheduler_config_type sticky_lop --cluster_config_num_replicas 2 --metrics_config_wandb_project p; then
    grep -q "global_scheduler_config_type sticky_lop keeps sessions on one replica, but no request will carry a session_id" "$T/sticky.err" \
        && ok "warning: sticky routing without session ids" || bad "warning: sticky routing without session ids" "$(cat "$T/sticky.err")"
    grep -q "wandb_\* and save_table_to_wandb are ignored" "$T/sticky.err" && ok "warning: wandb keys ignored" || bad "warning: wandb keys ignored"
    grep -q '"semantics": "auto"' "$T/sticky/config.json" && grep -q '"request_queue_config"' "$T/sticky/config.json" \
        && ok "sticky_lop is fork-only: the fork's sections in config.json" || bad "fork sections in config.json"
else
    bad "sticky run exits 0" "$(cat "$T/sticky.err")"
fi
one_error "a missing default trace names the key to set" "data/processed_traces/sharegpt_8k_filtered_stats_llama2_tokenizer.csv" \
    "the default of trace_request_length_generator_config_trace_file" "--trace_request_length_generator_config_trace_file" -- \
    "${FAST[@]}" --length_generator_config_type trace
one_error "a missing Mooncake trace says how to make it" "vidur-mooncake conversation_trace.jsonl -o $T/mooncake_conversation_trace.csv" -- \
    "${FAST[@]}" --length_generator_config_type trace --trace_request_length_generator_config_trace_file "$T/mooncake_conversation_trace.csv"

# ---- config.json in Vidur's nested layout; the flat one beside it ----------------------------
if run nested --replica_scheduler_config_type vllm --vllm_scheduler_config_max_tokens_in_batch 2048 \
        --length_generator_config_type uniform --synthetic_request_generator_config_num_requests 8; then
    if [ "$have_py" -eq 1 ]; then
        if python3 - "$T/nested" <<'EOF'
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/config.json"))
cc = c["cluster_config"]
assert cc["replica_scheduler_config"]["name"] == "vllm", cc["replica_scheduler_config"]
assert cc["replica_scheduler_config"]["max_tokens_in_batch"] == 2048
assert cc["replica_scheduler_config"]["num_blocks"] is None
assert cc["replica_config"]["model_config"]["num_layers"] == 32 and cc["replica_config"]["world_size"] == 1
assert cc["global_scheduler_config"]["name"] == "round_robin"
rg = c["request_generator_config"]
assert rg["name"] == "synthetic" and rg["num_requests"] == 8 and rg["duration"] is None
assert rg["length_generator_config"]["name"] == "uniform" and rg["interval_generator_config"]["name"] == "poisson"
assert rg["max_tokens"] == rg["length_generator_config"]["max_tokens"] == 4096
assert c["execution_time_predictor_config"]["name"] == "roofline"
assert c["metrics_config"]["output_dir"] == d and c["metrics_config"]["wandb_project"] is None
assert "cache_config" not in cc  # an upstream run: no fork sections
flat = json.load(open(d + "/config_flat.json"))
assert flat["vllm_scheduler_config"]["max_tokens_in_batch"] == 2048
EOF
        then ok "config.json is Vidur's nested layout; config_flat.json has every key"; else bad "config.json is Vidur's nested layout"; fi
    else
        skip "config.json layout" "python3 not installed"
    fi
else
    bad "nested-config run exits 0" "$(cat "$T/nested.err")"
fi

# ---- error messages (issue 17, item 12) ------------------------------------------------------
one_error "an unknown flag reads 'unknown flag --x'" "unknown flag --replica_config_devcie (did you mean --replica_config_device?)" -- \
    --replica_config_devcie h100
grep -q "flag --unknown" "$T/e.err" && bad "no garbled 'flag --unknown key'" "$(cat "$T/e.err")" || ok "no garbled 'flag --unknown key'"
one_error "-n 5 is an unknown option, not an INI file" "unknown option '-n'" -- -n 5
printf 'replica_config_device = h100\n' >"$T/flat.ini"
one_error "a flag name at the top of an INI file says where it goes" "flat.ini:1: 'replica_config_device' is a flag name" \
    "write 'device = h100' under [replica_config]" -- "$T/flat.ini"
one_error "Vidur's README model name gets a did-you-mean" "unknown model 'meta-llama/Llama-3-8B' (did you mean 'meta-llama/Meta-Llama-3-8B'?)" -- \
    --replica_config_model_name meta-llama/Llama-3-8B
one_error "a length generator given as request generator says which flag it belongs to" "'fixed' is a length generator" \
    "--length_generator_config_type fixed" -- --request_generator_config_type fixed --fixed_request_length_generator_config_prefill_tokens 2048
one_error "a near-miss node name gets a did-you-mean" "(did you mean 'a100_pairwise_nvlink'?)" -- --replica_config_network_device a100_pair_nvlink
# a checkpoint folder that does not exist yet is created (as output_dir is)
if run ppo --global_scheduler_config_type ppo --cluster_config_num_replicas 2 --synthetic_request_generator_config_num_requests 20 \
        --ppo_global_scheduler_config_stabilization_steps 0 --ppo_global_scheduler_config_checkpoint_dir "$T/new/ckpt" \
        --ppo_global_scheduler_config_metrics_dir "$T/new/metrics" && [ -s "$T/new/ckpt/latest.bin" ] && [ -s "$T/new/metrics/ppo_decisions.csv" ]; then
    ok "ppo checkpoint_dir and metrics_dir are created when missing"
else
    bad "ppo checkpoint_dir and metrics_dir are created when missing" "$(cat "$T/ppo.err")"
fi
# ---- the PPO fork's names (vidur_arc2_README.md) ---------------------------------------------
if run ppofork --global_scheduler_config_type ppo_modular --cluster_config_num_replicas 2 --synthetic_request_generator_config_num_requests 20 \
        --p_p_o_global_scheduler_modular_config_lr 0.0007 --p_p_o_global_scheduler_modular_config_max_queue_requests_per_replica 8 \
        --p_p_o_global_scheduler_modular_config_entropy_coef 0.002 --p_p_o_global_scheduler_modular_config_enable_warm_start false \
        --p_p_o_global_scheduler_modular_config_debug_dump_global_state; then
    g=$(tr -d ' \n' <"$T/ppofork/config_flat.json")
    case "$g" in *'"type":"ppo"'*'"lr":0.0007'*) ok "ppo_modular runs vidur.h's ppo; --p_p_o_..._lr sets ppo lr" ;; *) bad "ppo_modular -> ppo, lr mapped" ;; esac
    case "$g" in *'"max_queue_requests":8'*'"entropy_coef_initial":0.002,"entropy_coef_final":0.002'*) ok "fork flags map to max_queue_requests and the entropy schedule" ;;
        *) bad "fork flags map to max_queue_requests and the entropy schedule" ;; esac
    grep -q "debug_dump_global_state: accepted without effect" "$T/ppofork.err" && ok "a fork logging flag is accepted with a warning" \
        || bad "a fork logging flag is accepted with a warning" "$(cat "$T/ppofork.err")"
else
    bad "ppo_modular with the fork's flags runs" "$(cat "$T/ppofork.err")"
fi
printf '[p_p_o_global_scheduler_modular_config]\nlr = 0.0009\n' >"$T/ppofork.ini"
if run ppoini "$T/ppofork.ini" --global_scheduler_config_type ppo --cluster_config_num_replicas 2 --synthetic_request_generator_config_num_requests 10 \
        && tr -d ' \n' <"$T/ppoini/config_flat.json" | grep -q '"lr":0.0009'; then
    ok "the fork's PPO section works in INI files too"
else
    bad "the fork's PPO section works in INI files too" "$(cat "$T/ppoini.err")"
fi
one_error "ppoonline's reward weight has no equivalent: one line saying what to do" "--p_p_o_global_scheduler_online_config_reward_latency_weight" \
    "drop the flag" -- --global_scheduler_config_type ppoonline --p_p_o_global_scheduler_online_config_reward_latency_weight 1.5
one_error "the fork's pretrained actor path: use warm_start instead" "pretrained_actor_path" "--ppo_global_scheduler_config_warm_start" -- \
    --global_scheduler_config_type ppo_modular --p_p_o_global_scheduler_modular_config_pretrained_actor_path pretrained_actor.pt
one_error "an unknown PPO-fork flag points at the mapping" "--p_p_o_global_scheduler_modular_config_no_such" "docs/vidur_users.md" -- \
    --p_p_o_global_scheduler_modular_config_no_such 1
if run ppoonline --global_scheduler_config_type ppoonline --cluster_config_num_replicas 2 --synthetic_request_generator_config_num_requests 10 \
        && grep -q "ppoonline (the PPO fork's older router) runs vidur.h's ppo" "$T/ppoonline.err"; then
    ok "ppoonline runs ppo and says so"
else
    bad "ppoonline runs ppo and says so" "$(cat "$T/ppoonline.err")"
fi
# ---- progress: percent and ETA while running, a line while the outputs are written -------------
# (drawn only when stderr is a terminal: script(1) gives the run one)
if command -v script >/dev/null 2>&1; then
    script -qec "'$VIDUR' --execution_time_predictor_config_type roofline --synthetic_request_generator_config_num_requests 80000 \
        --length_generator_config_type lognormal --poisson_request_interval_generator_config_qps 200 --cluster_config_num_replicas 16 \
        --metrics_config_output_dir '$T/prog' --metrics_config_timestamp_output_dir false --no-metrics_config_enable_chrome_trace \
        >'$T/prog.out'" /dev/null 2>&1 | tr '\r' '\n' >"$T/prog.tty"
    grep -qE "^simulated [0-9.]+ s, [0-9]+ of 80000 requests done \([0-9.]+%, ETA [0-9]+:[0-9]{2}\), [0-9]+ requests/s" "$T/prog.tty" \
        && ok "progress line: requests done of the total, percent and ETA" || bad "progress line with percent and ETA" "$(head -c 300 "$T/prog.tty")"
    grep -qF "writing the output files into $T/prog/ ..." "$T/prog.tty" && ok "a line while the output files are written" \
        || bad "a line while the output files are written" "$(tail -c 300 "$T/prog.tty")"
    grep -q "^output: $T/prog" "$T/prog.out" && ok "the run with a progress line completes" || bad "the run with a progress line completes"
else
    skip "progress line" "script(1) not installed"
fi
finish
