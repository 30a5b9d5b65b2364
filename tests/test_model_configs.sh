#!/usr/bin/env bash
# Models from Hugging Face config.json files with the CLI (replica_config_model_config): every
# committed config in data/models/ runs (dense, MoE, FP8), its built-in name runs the same model,
# config.json records the model and the new keys, precision and EP flags work, and malformed or
# unsupported configs stop the run with one line naming the file and the field (no output files).
. "$(dirname "$0")/lib.sh"
test_tmpdir model_configs

common=(--synthetic_request_generator_config_num_requests 20 --replica_scheduler_config_type vllm_v1
        --replica_config_device h100 --replica_config_network_device h100_dgx --quiet
        --no-metrics_config_timestamp_output_dir --metrics_config_store_plots false)
# model (ORG/NAME under data/models) and the TP it fits on an H100 node
while read -r model tp; do
    out=$T/run_$(basename "$model")
    if err=$("$VIDUR" --replica_config_model_config "data/models/$model/config.json" \
             --replica_config_tensor_parallel_size "$tp" --metrics_config_output_dir "$out" "${common[@]}" 2>&1) &&
       grep -q "\"model_name\": \"$model\"" "$out/config.json"; then
        ok "$model (TP $tp) runs from its config.json"
    else
        bad "$model (TP $tp) runs from its config.json" "$err"
    fi
    # the built-in name is the same model: identical request metrics
    if "$VIDUR" --replica_config_model_name "$model" --replica_config_tensor_parallel_size "$tp" \
            --metrics_config_output_dir "$out.builtin" "${common[@]}" >/dev/null 2>&1 &&
       cmp -s "$out/request_metrics.csv" "$out.builtin/request_metrics.csv"; then
        ok "$model: the built-in name gives the same run"
    else
        bad "$model: the built-in name gives the same run"
    fi
done <<'EOF'
meta-llama/Llama-3.1-8B-Instruct 1
meta-llama/Llama-3.1-70B-Instruct 4
Qwen/Qwen2.5-7B-Instruct 1
Qwen/Qwen3-14B 1
mistralai/Mistral-Nemo-Instruct-2407 1
mistralai/Mixtral-8x7B-Instruct-v0.1 2
mistralai/Mixtral-8x22B-Instruct-v0.1 8
Qwen/Qwen3-30B-A3B 1
meta-llama/Llama-4-Scout-17B-16E-Instruct 4
RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic 2
EOF

# config.json (Vidur's nested layout) and config_flat.json of such a run: head_dim of Mistral-Nemo,
# the MoE fields of Scout, the FP8 keys; the file is model_config.config_file in the nested layout
# (replica_config.model_config is Vidur's model object there)
d=$T/run_Mistral-Nemo-Instruct-2407
if grep -q '"head_dim": 128' "$d/config.json" && grep -q '"config_file": "data/models/mistralai/Mistral-Nemo-Instruct-2407/config.json"' "$d/config.json" &&
    grep -q '"model_config": "data/models/mistralai/Mistral-Nemo-Instruct-2407/config.json"' "$d/config_flat.json" &&
    [ "$(grep -c '"model_config"' "$d/config.json")" = 1 ]; then
    ok "config.json records head_dim 128 and the config file (one model_config key)"
else
    bad "config.json records head_dim 128 and the config file (one model_config key)"
fi
d=$T/run_Llama-4-Scout-17B-16E-Instruct-FP8-dynamic
if grep -q '"num_experts": 16,$' "$d/config.json" && grep -q '"moe_intermediate_size": 8192,$' "$d/config.json" &&
    grep -q '"weight_dtype": "fp8"' "$d/config.json" &&
    grep -q '"num_experts": 16, "num_experts_per_tok": 1, "moe_intermediate_size": 8192' "$d/config_flat.json"; then
    ok "config.json records the experts and FP8 weights"
else
    bad "config.json records the experts and FP8 weights"
fi
# a dense run's config files have none of the new keys (runs of older configs stay byte-identical;
# the nested layout's "model_config" object is Vidur's own)
"$VIDUR" --metrics_config_output_dir "$T/dense" "${common[@]}" >/dev/null 2>&1
if [ -f "$T/dense/config.json" ] && [ -f "$T/dense/config_flat.json" ] &&
    ! grep -qE '"model_config": "|"(config_file|weight_dtype|kv_cache_dtype|expert_parallel_size|count_embeddings|moe_imbalance_factor|head_dim)"' \
        "$T/dense/config.json" "$T/dense/config_flat.json"; then
    ok "a dense default run lists no new key"
else
    bad "a dense default run lists no new key"
fi

# precision and EP flags: FP8 KV doubles the KV blocks; Mixtral with EP 2 runs and records it
if "$VIDUR" --replica_config_model_name meta-llama/Llama-4-Scout-17B-16E-Instruct --replica_config_weight_dtype fp8 \
        --replica_config_kv_cache_dtype fp8 --replica_config_tensor_parallel_size 2 --metrics_config_output_dir "$T/fp8kv" \
        "${common[@]}" >/dev/null 2>&1 && grep -q '"kv_cache_dtype": "fp8"' "$T/fp8kv/config.json"; then
    ok "weight_dtype and kv_cache_dtype fp8 run"
else
    bad "weight_dtype and kv_cache_dtype fp8 run"
fi
if "$VIDUR" --replica_config_model_name mistralai/Mixtral-8x7B-Instruct-v0.1 --replica_config_tensor_parallel_size 2 \
        --replica_config_expert_parallel_size 2 --metrics_config_output_dir "$T/ep" "${common[@]}" \
        --metrics_config_store_operation_metrics true --metrics_config_keep_individual_batch_metrics true >/dev/null 2>&1 &&
   grep -q '"expert_parallel_size": 2' "$T/ep/config.json" &&
   head -n 1 "$T/ep/operation_metrics.csv" | grep -q ',moe_gate,moe_up_proj,moe_act,moe_down_proj,moe_shared_mlp,moe_dispatch,moe_combine,model_execution_e2e$'; then
    ok "EP 2 runs; operation metrics list the MoE operators"
else
    bad "EP 2 runs; operation metrics list the MoE operators"
fi

# malformed and unsupported configs: exit 1, one line naming the file and the field, no outputs
printf '{"model_type": "deepseek_v3", "num_hidden_layers": 61, "kv_lora_rank": 512}\n' >"$T/mla.json"
printf '{"model_type": "mixtral", "num_hidden_layers": 2, "hidden_size": 512, "intermediate_size": 64,\n "num_attention_heads": 8, "vocab_size": 100, "num_local_experts": 4}\n' >"$T/noexp.json"
printf '{"model_type": "llama", "num_hidden_layers": 2,\n' >"$T/trunc.json"
while read -r file want; do
    rm -rf "$T/bad"
    if err=$("$VIDUR" --replica_config_model_config "$T/$file" --metrics_config_output_dir "$T/bad" "${common[@]}" 2>&1); then
        bad "$file: rejected"
    elif [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && grep -qF "$T/$file" <<<"$err" && grep -qF "$want" <<<"$err" && [ ! -e "$T/bad" ]; then
        ok "$file: one line naming the file and '$want'"
    else
        bad "$file: one line naming the file and '$want'" "$err"
    fi
done <<'EOF'
mla.json field 'kv_lora_rank': not supported: MLA
noexp.json field 'num_experts_per_tok': missing
trunc.json not valid JSON
EOF
finish
