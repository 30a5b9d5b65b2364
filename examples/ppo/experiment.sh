#!/bin/bash
# The table of docs/ppo.md ("Results"): train on W0, W2 and W3 for
# 8 x 5,000 decisions (training seeds 1..8), then evaluate on 10 disjoint seeds (1000..1009,
# 2,000 requests each, the first 100 excluded) against the baselines, paired by seed.
#   usage: examples/ppo/experiment.sh [RESULTS_DIR]     (about 5 minutes on one core)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-ppo_results}
mkdir -p "$out"
P=--ppo_global_scheduler_config
# recommended options of the minimal version: extended state, imbalance on outstanding requests, T = 1 while
# training (the greedy policy is then the trained one's mode), behaviour-cloning warm start
REC=(${P}_extended_features true ${P}_outstanding_imbalance true ${P}_temperature_controller false)
EVAL=(--seeds 10 --seed-start 1000 --skip 100 --synthetic_request_generator_config_num_requests 2000)
for w in w0 w2 w3 w0_fork; do mkdir -p "$out/$w"; done
for w in w0 w2 w3; do
    examples/ppo/train.sh examples/ppo/$w.ini "$out/$w" "${REC[@]}" ${P}_warm_start true | tee "$out/$w/train.log" | tail -1
done
# the fork's configuration as specified (hybrid reward on waiting lists, the fork's state only, temperature controller)
examples/ppo/train.sh examples/ppo/w0.ini "$out/w0_fork" | tee "$out/w0_fork/train.log" | tail -1
C=build/vidur-compare
ALL=round_robin,random,lor,sticky_lor,ppo,ppo:sample,ppo:shuffle,ppo:mean
$C examples/ppo/w0.ini "${REC[@]}" "${EVAL[@]}" --workload W0 --schedulers $ALL --baseline round_robin --ppo-checkpoint "$out/w0/latest.bin" --csv "$out/w0_vs_rr.csv" --html "$out/w0_vs_rr.html"
$C examples/ppo/w0.ini "${REC[@]}" "${EVAL[@]}" --workload W0 --schedulers random,ppo --baseline random --ppo-checkpoint "$out/w0/latest.bin" --csv "$out/w0_vs_random.csv"
$C examples/ppo/w0.ini "${EVAL[@]}" --workload W0-fork-config --schedulers round_robin,random,ppo,ppo:controller,ppo:shuffle --baseline round_robin --ppo-checkpoint "$out/w0_fork/latest.bin" --csv "$out/w0_fork.csv"
for w in w2 w3; do
    W=$(echo $w | tr a-z A-Z)
    $C examples/ppo/$w.ini "${REC[@]}" "${EVAL[@]}" --workload $W --schedulers $ALL --baseline round_robin --ppo-checkpoint "$out/$w/latest.bin" --csv "$out/${w}_vs_rr.csv" --html "$out/${w}_vs_rr.html"
    $C examples/ppo/$w.ini "${REC[@]}" "${EVAL[@]}" --workload $W --schedulers lor,ppo --baseline lor --ppo-checkpoint "$out/$w/latest.bin" --csv "$out/${w}_vs_lor.csv"
done
