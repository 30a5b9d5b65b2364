#!/bin/bash
# test_profile.sh - tools/vidur-profile.py without a GPU: its dry run, its bad flags, and checks of
# the H100 profiles we measured with it (tests/profile_checks.py: grid, files, split, noise figures
# quoted in data/README.md, agreement with Vidur's H100 GEMMs when ../shared is here, and
# `vidur predict` against the measured H100 layers of data/validation/h100_layers.csv).
source "$(dirname "$0")/lib.sh"
export PYTHONDONTWRITEBYTECODE=1
if ! command -v python3 >/dev/null; then
    skip "profile: python3 absent"
    finish
fi
test_tmpdir profile

out=$(python3 tools/vidur-profile.py --dry-run 2>&1)
if [ $? -eq 0 ] && grep -q "(48, 8, 128)" <<<"$out" && grep -q "internlm/internlm2-20b TP8" <<<"$out"; then
    ok "profile: --dry-run needs no torch and lists internlm2-20b's shapes"
else
    bad "profile: --dry-run" "$(tail -2 <<<"$out")"
fi

for args in "--mlp nosuch/model:1" "--mlp meta-llama/Meta-Llama-3-8B:3" "--mlp meta-llama/Meta-Llama-3-8B:x" \
            "--moe nosuch/model:1" "--moe mistralai/Mixtral-8x7B-Instruct-v0.1:2/3" "--moe Qwen/Qwen3-30B-A3B:x"; do
    # a bad --mlp or --moe is refused before torch is imported or anything is written
    out=$(python3 tools/vidur-profile.py --out-dir "$T/o" $args 2>&1)
    rc=$?
    if [ $rc -ne 0 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -q "^vidur-profile: ${args%% *}" <<<"$out" && [ ! -e "$T/o" ]; then
        ok "profile: $args refused in one line"
    else
        bad "profile: $args" "rc $rc: $out"
    fi
done
if python3 tools/vidur-profile.py --dry-run 2>&1 | grep -q "RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic  *fp8, E 5120, top-1 -> 1/1: 16x8192 +8192"; then
    ok "profile: --dry-run lists the --moe models' shares"
else
    bad "profile: --dry-run lists the --moe models' shares"
fi

export VIDUR VIDUR_TABLES_TOOL=$ROOT/build/vidur-tables
# the layers check trains tables on our profiles once per build (tests/run.sh runs this script
# twice: with the plain and with the sanitized vidur; the trainer is the same plain tool)
export PROFILE_VTAB_CACHE=$ROOT/build/test_profile_ours.vtab
for c in grid files split noise compare layers layer_repeat moe; do
    out=$(python3 tests/profile_checks.py $c 2>&1)
    rc=$?
    case $rc in
        0) ok "profile: $c ($out)" ;;
        77) skip "profile: $c ($out)" ;;
        *) bad "profile: $c" "$out" ;;
    esac
done
finish
