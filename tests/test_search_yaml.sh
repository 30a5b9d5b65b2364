#!/usr/bin/env bash
# vidur-search and the fork's config explorer: its YAML read as published (libyaml), its command
# line (--config-path, --cache-dir, --output-dir, --time-limit), a search whose traces are all
# missing, and searches whose upper bound never failed (flagged unconverged in results.csv,
# best.csv and report.html). Uses build/vidur-search (build/asan/vidur-search with the ASan
# VIDUR). Prints PASS/FAIL/SKIP lines and, last, "N passed, N failed".
. "$(dirname "$0")/lib.sh"
SEARCH=$(dirname "$VIDUR")/vidur-search
test_tmpdir search_yaml
if [ ! -x "$SEARCH" ]; then
    bad "$SEARCH is built"
    finish
fi
GUIDE=$ROOT/../shared/vidur_docs/config_explorer.md

# one_error NAME NEEDLE... -- ARGS...: exit 1, exactly one stderr line holding every needle (lib.sh)
one_error() { expect_one_line_error "$SEARCH" "$@"; }

# ---- the guide's YAML, byte for byte ---------------------------------------------------------
if [ -f "$GUIDE" ]; then
    awk '/^```yaml/ { on = 1; next } /^```/ { on = 0 } on' "$GUIDE" >"$T/config.yml"
    "$SEARCH" "$T/config.yml" --dry-run >"$T/dry_yaml" 2>"$T/dry_yaml.err"
    "$SEARCH" data/search/example.ini --dry-run >"$T/dry_ini" 2>&1
    if [ -s "$T/dry_yaml" ] && cmp -s "$T/dry_yaml" "$T/dry_ini"; then
        ok "--dry-run on the config explorer's YAML as published = data/search/example.ini's expansion ($(head -1 "$T/dry_yaml"))"
    else
        bad "YAML and example.ini expand alike" "$(head -c 300 "$T/dry_yaml.err") $(diff "$T/dry_yaml" "$T/dry_ini" | head -5)"
    fi
    # the explorer's own command line; its traces (./data/processed_traces/mooncake_*) are not there
    (cd "$T" && "$SEARCH" --config-path config.yml --cache-dir cache --output-dir config_optimizer_output --time-limit 180 >cli.out 2>cli.err)
    rc=$?
    if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/cli.err")" -eq 1 ] && grep -q "every point's trace file is missing" "$T/cli.err" &&
        grep -qF "vidur-mooncake conversation_trace.jsonl -o ./data/processed_traces/mooncake_conversation_trace.csv" "$T/cli.err" &&
        [ ! -e "$T/config_optimizer_output" ]; then
        ok "the explorer's command line with every trace missing: exit 1, one line with the fix, nothing written"
    else
        bad "the explorer's command line with every trace missing" "exit $rc: $(cat "$T/cli.err")"
    fi
else
    skip "the config explorer's YAML" "../shared/vidur_docs absent"
fi

# ---- YAML errors name the file and the YAML line ---------------------------------------------
printf 'clusters:\n  - device: h100\n    network_device: h100_dgx\n    gpus_per_node: 8\nclusterz: []\n' >"$T/k.yml"
one_error "an unknown YAML key: file and line" "k.yml:5: unknown key 'clusterz'" -- "$T/k.yml" --dry-run
printf 'clusters:\n  - device: h100\n   oops: 1\n' >"$T/syntax.yml"
one_error "a YAML syntax error: file and line" "syntax.yml:3: YAML:" -- "$T/syntax.yml" --dry-run

# ---- a small YAML search: converged, unconverged and failing SLO configs -----------------------
cat >"$T/small.yml" <<'EOF'
clusters:
  - device: h100
    network_device: h100_dgx
    gpus_per_node: 8
global_schedulers:
  - scheduler: round_robin
request_queues:
  - name: fcfs
    provider: fcfs
replica_schedulers:
  - scheduler: vllm_v1
    chunk_size: 512
slo_configs:
  - name: never_fails # no probe can fail: the QPS found is a lower bound
    type: and
    quantile: 0.99
    slos:
      - metric: prefill_e2e_time
        value: 100000
  - name: ttft_p99_200ms
    type: and
    quantile: 0.99
    slos:
      - metric: prefill_e2e_time
        value: 0.2
traces:
  - name: conv
    trace_file: data/traces/conversations_small.csv
    max_seq_len: 8192
    enable_prefix_caching: true
batch_sizes: [64]
tp_dimensions: [1]
pp_dimensions: [1]
models:
  - name: llama3_8b
    identifier: meta-llama/Meta-Llama-3-8B
search_configs:
  - trace: conv
    model: llama3_8b
    search_for: qps
    num_replicas: 1
    qps: 1
    num_requests: 60
EOF
# ours: the EP and precision axes and a model from a Hugging Face config.json, as in the INI
{
    sed -e '/^batch_sizes:/i ep_dimensions: [1, 2]\nkv_cache_dtypes: [auto, fp8]' -e '/^models:/,$d' "$T/small.yml"
    printf 'models:\n  - name: mixtral\n    config: data/models/mistralai/Mixtral-8x7B-Instruct-v0.1/config.json\n'
    printf 'search_configs:\n  - trace: conv\n    model: mixtral\n    search_for: qps\n    num_replicas: 1\n    qps: 1\n    num_requests: 60\n'
} >"$T/moe.yml"
sed -e 's/tp_dimensions: \[1\]/tp_dimensions: [2]/' -i "$T/moe.yml"
"$SEARCH" "$T/moe.yml" --dry-run >"$T/dry_moe" 2>"$T/dry_moe.err"
if head -1 "$T/dry_moe" | grep -q '^4 combinations x 2 SLO configs: 4 valid points' && grep -q '^point .* mixtral_.*_tp2_pp1_bsz64_ep2_kvfp8_search' "$T/dry_moe"; then
    ok "YAML: ep_dimensions, kv_cache_dtypes and a model's config.json (EP x KV precision: 4 points, keys name them)"
else
    bad "YAML: ep_dimensions, kv_cache_dtypes and a model's config" "$(head -c 300 "$T/dry_moe.err") $(head -3 "$T/dry_moe")"
fi

sed 's/scheduler: round_robin/scheduler: round_robbin/' "$T/small.yml" >"$T/v.yml"
one_error "a bad value: the YAML line it came from" "v.yml:6:" "round_robbin" -- "$T/v.yml" --dry-run
if "$SEARCH" --config-path "$T/small.yml" --output-dir "$T/out" --max-iterations 8 -j 1 --summaries-only -q 2>"$T/small.err"; then
    col() { awk -F, -v c="$2" -v s="$3" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } $h["slo"] == s { print $h[c] }' "$T/out/$1"; }
    head -1 "$T/out/results.csv" | grep -q ',probes,converged$' && ok "results.csv has a converged column" || bad "results.csv has a converged column"
    [ "$(col results.csv converged never_fails)" = 0 ] && grep -q '^[^,]*,[^,]*,.*never_fails,ok,"\?unconverged' "$T/out/results.csv" \
        && ok "results.csv: a search whose upper bound never failed is unconverged (converged = 0, reason)" \
        || bad "results.csv flags the unconverged search" "$(grep never_fails "$T/out/results.csv")"
    [ "$(col results.csv converged ttft_p99_200ms)" = 1 ] && ok "results.csv: a bounded search is converged (1)" || bad "results.csv: converged = 1" "$(grep ttft_p99_200ms "$T/out/results.csv")"
    [ "$(col best.csv converged never_fails)" = 0 ] && ok "best.csv flags it too" || bad "best.csv flags it too" "$(cat "$T/out/best.csv")"
    grep -q "<b>Unconverged:</b> 1 searches" "$T/out/report.html" && grep -q "(unconverged: the QPS is a lower bound)" "$T/out/report.html" \
        && ok "report.html says so" || bad "report.html says so"
    [ -f "$T/out/config.yml" ] && grep -q '^\[slo_config.never_fails\]$' "$T/out/search.ini" && ok "config.yml kept, search.ini as it was read" \
        || bad "config.yml and search.ini in the output folder"
else
    bad "a small YAML search runs" "$(head -c 400 "$T/small.err")"
fi
finish
