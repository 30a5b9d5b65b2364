#!/usr/bin/env bash
# `vidur predict`: every operator with its source, stage and batch times that add up, and clear
# errors for a bad batch description.
. "$(dirname "$0")/lib.sh"
out=$("$VIDUR" predict --replica_config_model_name meta-llama/Meta-Llama-3-8B --replica_config_device h100 \
      --replica_config_tensor_parallel_size 2 --replica_config_num_pipeline_stages 2 \
      --decode 32x1024 --prefill 1x512@0 2>&1)
if [ $? -eq 0 ]; then ok "predict runs"; else bad "predict runs" "$out"; fi
# keys: 32 decodes of context 1024 + one 512-token chunk: T = 544 -> ceil8 544; decode (32, 1024)
if grep -q "T = 544 tokens (token-wise key ceil8(T) = 544)" <<<"$out"; then ok "token key"; else bad "token key"; fi
if grep -q "decode attention key: (batch 32, context 1024)" <<<"$out"; then ok "decode key"; else bad "decode key"; fi
if grep -q "prefill attention key: (context 0, chunk 512; chunk^2 262144)" <<<"$out"; then ok "prefill key"; else bad "prefill key"; fi
n=$(grep -cE '^(attn_|input_layernorm|post_attention_layernorm|mlp_|add |all_reduce|send_recv)' <<<"$out")
if [ "$n" -eq 14 ]; then ok "14 operators listed"; else bad "14 operators listed" "$n"; fi
# the batch time is the sum of the two stage times (awk does the arithmetic)
if awk '/^stage [0-9]/ { for (i = 1; i <= NF; i++) if ($i == "total") s += $(i + 1) }
        /^batch time/ { b = $(NF - 1) }
        END { d = s - b; if (d < 0) d = -d; exit !(b > 0 && d < 1e-5) }' <<<"$out"; then
    ok "batch time = sum of stage times"
else
    bad "batch time = sum of stage times"
fi
if grep -q "send_recv.*random_forest\|send_recv.*roofline" <<<"$out"; then ok "sources named"; else bad "sources named"; fi
# an MoE model in FP8: the 7 MoE operators too, each with the source of its calibration
moe=$("$VIDUR" predict --replica_config_model_name RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic \
      --replica_config_device h100 --replica_config_network_device h100_dgx --replica_config_tensor_parallel_size 2 \
      --decode 64x1000 2>&1)
n=$(grep -cE '^moe_' <<<"$moe")
if [ "$n" -eq 7 ]; then ok "MoE: 7 moe_* operators listed"; else bad "MoE: 7 moe_* operators listed" "$n"; fi
if grep -q '^moe_up_proj .*calibrated roofline (h100 mlp_up_proj), 16-bit calibration at the FP8 peak' <<<"$moe" &&
   grep -q '^moe_dispatch .*roofline (no all-to-all profiles)' <<<"$moe" &&
   grep -q 'per MoE layer, 48 of 48 layers, EP 1;.*weights fp8, KV cache 16-bit' <<<"$moe"; then
    ok "MoE: sources and precisions named"
else
    bad "MoE: sources and precisions named" "$moe"
fi
for spec in "--decode 32" "--prefill 1x" "--decode 0x10" "--prefill 2x0@5"; do
    # shellcheck disable=SC2086
    if err=$("$VIDUR" predict $spec 2>&1 >/dev/null); then
        bad "rejects '$spec'"
    elif [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "expected" <<<"$err"; then
        ok "rejects '$spec' with one line"
    else
        bad "rejects '$spec' with one line" "$err"
    fi
done
if err=$("$VIDUR" predict --replica_config_devcie h100 --decode 1x1 2>&1 >/dev/null); then bad "unknown key"; elif grep -q "did you mean --replica_config_device?" <<<"$err"; then ok "unknown key"; else bad "unknown key" "$err"; fi
finish
