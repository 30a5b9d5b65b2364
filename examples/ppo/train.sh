#!/bin/bash
# Chunked online training of the PPO router (the protocol of docs/ppo.md): CHUNKS runs of REQUESTS
# requests each, every run resuming from DIR/latest.bin; training seeds 1..CHUNKS (the comparison
# evaluates on seeds 1000+). Extra arguments are passed to every run (e.g. PPO hyper-parameters).
#   usage: examples/ppo/train.sh CONFIG.ini DIR [--flag value ...]
#   env:   CHUNKS (8), REQUESTS (5000), VIDUR (build/vidur)
set -euo pipefail
cfg=$1 dir=$2
shift 2
VIDUR=${VIDUR:-build/vidur}
CHUNKS=${CHUNKS:-8}
REQUESTS=${REQUESTS:-5000}
mkdir -p "$dir"
rm -f "$dir"/latest.bin "$dir"/ckpt_*.bin
start=$(date +%s.%N)
for i in $(seq 1 "$CHUNKS"); do
    resume=()
    [ "$i" -gt 1 ] && resume=(--ppo_global_scheduler_config_load_checkpoint "$dir/latest.bin")
    seeds=()
    for k in seed synthetic_request_generator_config_seed poisson_request_interval_generator_config_seed \
             gamma_request_interval_generator_config_seed fixed_request_length_generator_config_seed \
             lognormal_request_length_generator_config_seed zipf_request_length_generator_config_seed; do
        seeds+=(--$k "$i")
    done
    "$VIDUR" "$cfg" --global_scheduler_config_type ppo --synthetic_request_generator_config_num_requests "$REQUESTS" \
        "${seeds[@]}" --ppo_global_scheduler_config_checkpoint_dir "$dir" --ppo_global_scheduler_config_metrics_dir "$dir" \
        "${resume[@]}" "$@" | grep -E '^ppo:|E2E latency'
    cp "$dir/ppo_updates.csv" "$dir/ppo_updates_$i.csv"
done
echo "training wall time: $(echo "$(date +%s.%N) - $start" | bc) s"
