#!/usr/bin/env bash
# Commands from Vidur's README and docs run unchanged (only the trace path points at ../shared,
# where the project keeps Vidur's published traces). Skipped cleanly when ../shared is absent.
# VIDUR selects the binary. Prints PASS/FAIL/SKIP lines and, last, "N passed, N failed".
. "$(dirname "$0")/lib.sh"
TRACES=$ROOT/../shared/data/processed_traces
test_tmpdir cmds

# completed COUNT NAME ARGS...: runs vidur, expects exit 0 and COUNT completed requests
completed() {
    local want=$1 name=$2
    shift 2
    local out
    out=$("$VIDUR" --metrics_config_output_dir "$T/$name" "$@" 2>"$T/err")
    local rc=$?
    if [ $rc -ne 0 ]; then bad "$name" "exit $rc: $(head -c 300 "$T/err")"; return; fi
    if grep -q "^requests $want arrived, $want completed" <<<"$out"; then ok "$name"; else bad "$name" "$(head -1 <<<"$out")"; fi
}

# Vidur's README example (Meta-Llama-3-8B, sarathi, splitwise_conv lengths, Poisson 6.45 QPS)
if [ -f "$TRACES/splitwise_conv.csv" ]; then
    completed 512 readme_example \
        --replica_config_device a100 \
        --replica_config_model_name meta-llama/Meta-Llama-3-8B \
        --cluster_config_num_replicas 1 \
        --replica_config_tensor_parallel_size 1 \
        --replica_config_num_pipeline_stages 1 \
        --request_generator_config_type synthetic \
        --synthetic_request_generator_config_num_requests 512 \
        --length_generator_config_type trace \
        --trace_request_length_generator_config_max_tokens 16384 \
        --trace_request_length_generator_config_trace_file "$TRACES/splitwise_conv.csv" \
        --interval_generator_config_type poisson \
        --poisson_request_interval_generator_config_qps 6.45 \
        --replica_scheduler_config_type sarathi \
        --sarathi_scheduler_config_batch_size_cap 512 \
        --sarathi_scheduler_config_chunk_size 512 \
        --random_forrest_execution_time_predictor_config_prediction_max_prefill_chunk_size 16384 \
        --random_forrest_execution_time_predictor_config_prediction_max_batch_size 512 \
        --random_forrest_execution_time_predictor_config_prediction_max_tokens_per_request 16384
else
    echo "SKIP readme_example: ../shared/data/processed_traces absent"
fi

# a how-to-run style command: H100 DGX, 8 replicas, vllm, static arrivals, arxiv lengths, TP/PP
if [ -f "$TRACES/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv" ]; then
    completed 256 how_to_run_example \
        --replica_config_device h100 \
        --replica_config_network_device h100_dgx \
        --replica_config_model_name meta-llama/Llama-2-7b-hf \
        --cluster_config_num_replicas 8 \
        --replica_config_tensor_parallel_size 2 \
        --replica_config_num_pipeline_stages 2 \
        --request_generator_config_type synthetic \
        --length_generator_config_type trace \
        --interval_generator_config_type static \
        --trace_request_length_generator_config_max_tokens 4096 \
        --trace_request_length_generator_config_trace_file "$TRACES/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv" \
        --synthetic_request_generator_config_num_requests 256 \
        --replica_scheduler_config_type vllm \
        --vllm_scheduler_config_batch_size_cap 256 \
        --vllm_scheduler_config_max_tokens_in_batch 4096 \
        --log_level info --time_limit 0 --seed 42 \
        --metrics_config_write_json_trace false --no-metrics_config_enable_chrome_trace
else
    echo "SKIP how_to_run_example: ../shared/data/processed_traces absent"
fi

# trace replay of a real trace
if [ -f "$TRACES/splitwise_code.csv" ]; then
    rows=$(($(wc -l <"$TRACES/splitwise_code.csv") - 1))
    completed "$rows" trace_replay_example \
        --request_generator_config_type trace_replay \
        --trace_request_generator_config_trace_file "$TRACES/splitwise_code.csv" \
        --replica_config_model_name meta-llama/Meta-Llama-3-8B --replica_config_device h100 \
        --cluster_config_num_replicas 4 --global_scheduler_config_type lor \
        --no-metrics_config_enable_chrome_trace
else
    echo "SKIP trace_replay_example: ../shared/data/processed_traces absent"
fi

# prefix caching on the committed conversation trace: the summary reports the cache
out=$("$VIDUR" --request_generator_config_type trace_replay --trace_request_generator_config_trace_file data/traces/conversations_small.csv \
      --replica_scheduler_config_type vllm_v1 --cache_config_enable_prefix_caching --cluster_config_num_replicas 2 \
      --global_scheduler_config_type sticky_lop --metrics_config_write_metrics false 2>&1)
if grep -q "^requests 287 arrived, 287 completed" <<<"$out" && grep -qE "^prefix cache: [0-9.]+% of prompt tokens served from cache \([0-9]+ tokens saved\)" <<<"$out"; then
    ok "prefix-cache summary line"
else
    bad "prefix-cache summary line" "$(tail -2 <<<"$out")"
fi
finish
