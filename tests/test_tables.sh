#!/usr/bin/env bash
# Tests of the table trainer (tools/vidur-tables.c, build/vidur-tables) and of the generated
# tables (data/vidur_tables.h, data/tables_accuracy.md).
#   - malformed CSVs: one error line naming file, line and field; exit 1; no output files
#   - determinism: -j 1 and -j 2 give identical files (synthetic data, and a real subset)
#   - with ../shared/data/profiling present and outside the sanitizer pass (tests/run.sh runs
#     this script twice, with VIDUR=build/vidur and VIDUR=build/asan/vidur):
#       make test: one model's tables on one GPU (a100, Llama-2-7b: grids, polynomials and
#       roofline-relative tables) regenerated and compared with the compiled-in ones; the header
#       compiles as C99 inside vidur.h;
#       VIDUR_TEST_TABLES_FULL=1 (make tables-check; about 160 CPU-seconds, a third of what
#       make test would take):
#       the regenerated tables are byte-identical to the committed ones; a subset run
#       (--device a100 --model meta-llama/Llama-2-7b-hf) emits the same table values as the
#       full run; the header compiles as C99 and C++11 inside vidur.h (-DVIDUR_TABLES) and its
#       tables equal those of the --vtab file read back with vidur_table_set_load.
# Prints PASS/FAIL/SKIP lines and, last, "N passed, N failed".
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-build}
TABLES=$ROOT/$BUILD/vidur-tables
CC=${CC:-cc}
test_tmpdir tables

if [ ! -x "$TABLES" ]; then
    bad "binary $TABLES exists"
    finish
fi
case "$VIDUR" in *asan*) SANITIZER_PASS=1 ;; *) SANITIZER_PASS=0 ;; esac

# ---- synthetic profiling data (written here, so these tests need no external data) ----------
# mlp.csv for Llama-2-7B (its n_head/n_kv_head/n_embd/... as in vidur.h) at TP 1 and 2, with an
# extra column and the optional columns missing; attention.csv; all_reduce.csv and send_recv.csv.
synth() { # DIR
    local d=$1
    mkdir -p "$d/compute/a100/meta-llama/Llama-2-7b-hf" "$d/network/a100_dgx"
    awk 'BEGIN {
        ops = "attn_pre_proj attn_post_proj attn_rope mlp_up_proj mlp_down_proj mlp_act"; n = split(ops, op, " ");
        h = "n_head,n_kv_head,n_embd,n_expanded_embd,vocab_size,use_gated_mlp,num_tokens,num_tensor_parallel_workers";
        for (i = 1; i <= n; i++) h = h ",time_stats." op[i] ".median";
        print h ",extra";
        seed = 1;
        for (tp = 1; tp <= 2; tp++) for (k = 1; k <= 60; k++) {
            tok = k * 8; line = "32,32,4096,11008,32768,True," tok "," tp;
            for (i = 1; i <= n; i++) { seed = (seed * 1103515245 + 12345) % 2147483648;
                line = line "," sprintf("%.4f", (0.01 * i + tok * 0.0003 * i / tp) * (1 + (seed % 100) / 5000.0)) }
            print line ",x";
        }
        # a row of another model (filtered out) and an exact duplicate (dropped)
        print "64,8,8192,28672,32768,True,8,1,1,1,1,1,1,1,y";
    }' >"$d/compute/a100/meta-llama/Llama-2-7b-hf/mlp.csv"
    sed -n 2p "$d/compute/a100/meta-llama/Llama-2-7b-hf/mlp.csv" >>"$d/compute/a100/meta-llama/Llama-2-7b-hf/mlp.csv"
    awk 'BEGIN {
        print "time_stats.attn_decode.median,time_stats.attn_prefill.median,n_embd,n_q_head,n_kv_head,block_size,num_tensor_parallel_workers,batch_size,prefill_chunk_size,kv_cache_size";
        for (b = 1; b <= 32; b += 3) for (kv = 64; kv <= 2048; kv += 192) printf "%.4f,,4096,32,32,16,1,%d,0,%d\n", 0.01 + b * kv * 1e-6, b, kv;
        for (c = 64; c <= 1024; c += 96) for (kv = 0; kv <= 2048; kv += 256) printf ",%.4f,4096,32,32,16,1,1,%d,%d\n", 0.02 + c * (kv + c / 2) * 2e-7, c, kv;
    }' >"$d/compute/a100/meta-llama/Llama-2-7b-hf/attention.csv"
    for coll in all_reduce send_recv; do
        awk -v coll=$coll 'BEGIN {
            print ",time_stats." coll ".median,rank,num_workers,size,collective,devices_per_node,max_devices_per_node";
            i = 0;
            for (w = 1; w <= 2; w++) for (s = 2048; s <= 8388608; s *= 1.5) {
                size = int(s / 2) * 2; dpn = (coll == "all_reduce") ? 2 * w : w;
                printf "%d,%.4f,0,%d,%d,%s,%d,8\n", i++, 0.02 + size * 1e-8 * w, (coll == "all_reduce") ? dpn : 2, size, coll, dpn;
            }
        }' >"$d/network/a100_dgx/$coll.csv"
    done
}

SYN=$T/syn
synth "$SYN"

# ---- malformed CSVs ------------------------------------------------------------------------
# expect_error NAME NEEDLE... -- (runs on $T/bad): exit 1, one stderr line with every needle, no outputs
expect_error() {
    local name=$1
    shift
    local needles=()
    while [ "$1" != "--" ]; do needles+=("$1"); shift; done
    shift
    local out=$T/out_err
    rm -rf "$out"
    mkdir -p "$out"
    local rc=0
    "$TABLES" --profiling-dir "$T/bad" --out-header "$out/h.h" --out-report "$out/r.md" --dump "$out/d.txt" \
        --vtab "$out/t.vtab" --quiet >"$T/stdout" 2>"$T/stderr" || rc=$?
    local why=""
    if [ "$rc" -ne 1 ]; then
        why="exit status $rc, expected 1"
    elif [ "$(wc -l <"$T/stderr")" -ne 1 ]; then
        why="expected one line on stderr, got: $(head -c 400 "$T/stderr")"
    elif [ -n "$(ls -A "$out")" ]; then
        why="output files were written: $(ls "$out")"
    else
        local n
        for n in "${needles[@]}"; do
            grep -qF -- "$n" "$T/stderr" || { why="stderr does not mention '$n': $(cat "$T/stderr")"; break; }
        done
    fi
    if [ -z "$why" ]; then ok "malformed: $name"; else bad "malformed: $name" "$why"; fi
}

MLP=compute/a100/meta-llama/Llama-2-7b-hf/mlp.csv
reset_bad() { rm -rf "$T/bad"; cp -r "$SYN" "$T/bad"; }

reset_bad
sed -i '5s/^32,32,4096,11008,32768,True,[0-9]*,/32,32,4096,11008,32768,True,abc,/' "$T/bad/$MLP"
expect_error "non-numeric field" "$T/bad/$MLP:5:" "field 'num_tokens'" "abc" --

reset_bad
sed -i '7s/,[^,]*,[^,]*$//' "$T/bad/$MLP"
expect_error "short row" "$T/bad/$MLP:7:" "field 'time_stats.mlp_act.median'" "missing" --

reset_bad
sed -i '1s/num_tensor_parallel_workers/num_tp_workers/' "$T/bad/$MLP"
expect_error "missing column" "$T/bad/$MLP:1:" "field 'num_tensor_parallel_workers'" "no such column" --

reset_bad
sed -i '3s/,True,/,Maybe,/' "$T/bad/$MLP"
expect_error "bad boolean" "$T/bad/$MLP:3:" "field 'use_gated_mlp'" --

reset_bad
awk -F, -v OFS=, 'NR == 9 { $5 = "12x" } 1' "$SYN/network/a100_dgx/send_recv.csv" >"$T/bad/network/a100_dgx/send_recv.csv"
expect_error "network file" "$T/bad/network/a100_dgx/send_recv.csv:9:" "field 'size'" "12x" --

# profiled times are durations (issue 14: -5 ms trained tables that ran the clock backwards;
# 1e308 became inf in the table file)
for v in -5 1e308; do
    reset_bad
    awk -F, -v OFS=, -v v=$v 'NR == 6 { $9 = v } 1' "$SYN/$MLP" >"$T/bad/$MLP"
    expect_error "time $v" "$T/bad/$MLP:6:" "field 'time_stats.attn_pre_proj.median'" "out of range" --
done

# ---- the synthetic data trains; -j 1 and -j 2 agree ------------------------------------------
run_syn() { # DIR JOBS [args]
    local d=$1 j=$2
    shift 2
    mkdir -p "$d"
    "$TABLES" --profiling-dir "$SYN" --out-header "$d/h.h" --out-report "$d/r.md" --dump "$d/d.txt" \
        --vtab "$d/t.vtab" -j "$j" --quiet "$@"
}
if run_syn "$T/s1" 1 && run_syn "$T/s2" 2; then
    same=1
    for f in h.h r.md d.txt t.vtab; do cmp -s "$T/s1/$f" "$T/s2/$f" || { same=0; bad "synthetic: -j 1 and -j 2 give the same $f"; }; done
    [ "$same" = 1 ] && ok "synthetic: -j 1 and -j 2 give identical files"
    # 2 TPs x 9 mlp ops + decode + prefill + kv_cache_save + 2 all_reduce + 2 send_recv = 25 tables, twice
    n=$(grep -c '' "$T/s1/d.txt")
    [ "$n" = 50 ] && ok "synthetic: 50 tables" || bad "synthetic: 50 tables" "got $n"
    grep -q '^#define VIDUR__TAB_COUNT 50$' "$T/s1/h.h" && ok "synthetic: VIDUR__TAB_COUNT" || bad "synthetic: VIDUR__TAB_COUNT"
    grep -q '| 122 | 1 |' "$T/s1/r.md" && ok "synthetic: the duplicate row is counted" || bad "synthetic: the duplicate row is counted"
    # the optional input_layernorm column is absent: that table predicts 0 and is reported as all 0
    grep -q 'meta-llama/Llama-2-7b-hf||tp=1|input_layernorm|grid|nx=0 ny=0 .* v: 0.0f terms:$' "$T/s1/d.txt" \
        && ok "synthetic: a missing optional column counts as 0" || bad "synthetic: a missing optional column counts as 0"
    # another seed changes the forests
    run_syn "$T/s3" 2 --seed 7 && ! cmp -s "$T/s1/h.h" "$T/s3/h.h" && ok "synthetic: --seed changes the forests" \
        || bad "synthetic: --seed changes the forests"
    # subset = same values
    run_syn "$T/s4" 2 --node a100_dgx
    if [ -z "$(comm -23 <(sort "$T/s4/d.txt") <(sort "$T/s1/d.txt"))" ] && [ "$(grep -c '' "$T/s4/d.txt")" = 8 ]; then
        ok "synthetic: --node subset emits the full run's tables"
    else
        bad "synthetic: --node subset emits the full run's tables"
    fi
else
    bad "synthetic: vidur-tables runs" "$(cat "$T/stderr" 2>/dev/null)"
fi
# no leaks at exit (issue 14: the output buffers were never freed; LeakSanitizer is on in the
# sanitizer build, which `make test` builds as build/asan/vidur-tables); the sanitizer pass only
ASAN_TABLES=$ROOT/$BUILD/asan/vidur-tables
if [ "$SANITIZER_PASS" = 1 ] && [ -x "$ASAN_TABLES" ]; then
    mkdir -p "$T/lsan"
    if ASAN_OPTIONS=detect_leaks=1 "$ASAN_TABLES" --profiling-dir "$SYN" --vtab "$T/lsan/t.vtab" --dump "$T/lsan/d.txt" \
            --out-report "$T/lsan/r.md" --out-header "$T/lsan/h.h" --node a100_dgx --quiet 2>"$T/lsan.err" && [ -s "$T/lsan/t.vtab" ]; then
        ok "vidur-tables under ASan/LSan: exit 0, nothing leaked"
    else
        bad "vidur-tables under ASan/LSan: exit 0, nothing leaked" "$(grep -m 3 -E 'leak|ERROR' "$T/lsan.err")"
    fi
fi

# a user's own GPU and model: unknown to vidur.h (skipped with a warning) until --config defines
# them; with only --vtab, nothing but the table file is written (not data/ of the working dir)
mkdir -p "$T/user/compute/b200/my-org/My-7B" "$T/cwd"
cp "$SYN/$MLP" "$T/user/compute/b200/my-org/My-7B/mlp.csv"
printf '[model.my-org/My-7B]\nnum_layers = 16\n\n[device.b200]\nfp16_tflops = 2250\nmemory_bandwidth_gbps = 8000\n' >"$T/user.ini"
if (cd "$T/cwd" && "$TABLES" --profiling-dir "$T/user" --vtab "$T/u1.vtab" >/dev/null 2>"$T/stderr"); then
    bad "an unknown model is an error when nothing else is left"
else
    grep -q "unknown model 'my-org/My-7B'" "$T/stderr" && ok "an unknown model is reported" || bad "an unknown model is reported" "$(cat "$T/stderr")"
fi
if (cd "$T/cwd" && "$TABLES" --profiling-dir "$T/user" --config "$T/user.ini" --vtab "$T/u2.vtab" --quiet) &&
    [ -s "$T/u2.vtab" ] && [ ! -e "$T/cwd/data" ]; then
    ok "--config defines the model; --vtab alone writes only the table file"
    grep -q '^table op=mlp_up_proj predictor=random_forest kind=grid device=b200 model=my-org/My-7B node=- tp=1 ' "$T/u2.vtab" \
        && grep -q '^calibration op=mlp_up_proj device=b200 ' "$T/u2.vtab" \
        && ok "the user's tables and calibrations are in the table file" || bad "the user's tables and calibrations are in the table file"
else
    bad "--config defines the model; --vtab alone writes only the table file"
fi
# --vtab with only --out-report: the report is written, the header (data/vidur_tables.h) is not
if (cd "$T/cwd" && "$TABLES" --profiling-dir "$T/user" --config "$T/user.ini" --vtab "$T/u3.vtab" --out-report "$T/u3.md" --quiet) &&
    [ -s "$T/u3.vtab" ] && [ -s "$T/u3.md" ] && [ ! -e "$T/cwd/data" ]; then
    ok "--vtab X --out-report R writes X and R, not data/vidur_tables.h"
else
    bad "--vtab X --out-report R writes X and R, not data/vidur_tables.h" "$(ls -R "$T/cwd" 2>&1 | head -5)"
fi

# ---- moe.csv (ours): MoE operators of Mixtral-8x7B on an H100 at TP 2, without EP and with EP 2 --
MOE=compute/h100/mistralai/Mixtral-8x7B-Instruct-v0.1/moe.csv
mkdir -p "$T/moe/$(dirname "$MOE")"
awk 'BEGIN {
    print "n_embd,num_experts,num_experts_per_tok,moe_intermediate_size,weight_dtype,num_tokens,num_tensor_parallel_workers,expert_parallel_size,time_stats.moe_gate.median,time_stats.moe_up_proj.median,time_stats.moe_act.median,time_stats.moe_down_proj.median";
    seed = 3;
    for (ep = 1; ep <= 2; ep++) for (k = 1; k <= 40; k++) {
        tok = k * 16; line = "4096,8,2,14336,bf16," tok ",2," ep;
        for (i = 1; i <= 4; i++) { seed = (seed * 1103515245 + 12345) % 2147483648;
            line = line "," sprintf("%.4f", (0.01 * i + 0.3 + tok * 0.0004 * i / ep) * (1 + (seed % 100) / 5000.0)) }
        print line;
    }
    print "4096,8,2,14336,fp8,16,2,1,1,1,1,1";   # another precision of the model: filtered out
}' >"$T/moe/$MOE"
if "$TABLES" --profiling-dir "$T/moe" --vtab "$T/moe.vtab" --quiet 2>"$T/stderr"; then
    n=$(grep -c '^table op=moe_' "$T/moe.vtab")
    if [ "$n" = 16 ] && grep -q '^table op=moe_up_proj predictor=random_forest kind=grid device=h100 model=mistralai/Mixtral-8x7B-Instruct-v0.1 node=- tp=2 ' "$T/moe.vtab" &&
       grep -q '^table op=moe_up_proj predictor=random_forest kind=grid device=h100 model=mistralai/Mixtral-8x7B-Instruct-v0.1@ep2 node=- tp=2 ' "$T/moe.vtab" &&
       grep -q '^calibration op=moe_up_proj device=h100 ' "$T/moe.vtab"; then
        ok "moe.csv: 4 MoE operators (no shared expert) x (TP 2, EP 1 and 2) x 2 predictors, EP tables under MODEL@ep2, calibrations"
    else
        bad "moe.csv: 4 MoE operators (no shared expert) x (TP 2, EP 1 and 2) x 2 predictors, EP tables under MODEL@ep2, calibrations" "$n tables"
    fi
    # vidur uses them: moe_up_proj from the forest, near the profiled time (0.3 + 0.02 + 512 x 0.0008 / EP ms)
    for ep in 1 2; do
        out=$("$VIDUR" predict --replica_config_model_name mistralai/Mixtral-8x7B-Instruct-v0.1 --replica_config_device h100 \
              --replica_config_network_device h100_dgx --replica_config_tensor_parallel_size 2 --replica_config_expert_parallel_size $ep \
              --random_forrest_execution_time_predictor_config_table_file "$T/moe.vtab" --decode 512x100 2>&1)
        if awk -v ep=$ep '/^moe_up_proj / { want = 0.32 + 512 * 0.0008 / ep; d = $2 / want; ok = ($3 == "random_forest" && d > 0.95 && d < 1.05) }
                           END { exit !ok }' <<<"$out"; then
            ok "moe.csv: vidur predicts moe_up_proj from the EP $ep forest"
        else
            bad "moe.csv: vidur predicts moe_up_proj from the EP $ep forest" "$(grep '^moe_up_proj' <<<"$out")"
        fi
    done
else
    bad "moe.csv: vidur-tables runs" "$(cat "$T/stderr")"
fi
rm -rf "$T/bad"
cp -r "$T/moe" "$T/bad"
sed -i '3s/,bf16,/,int4,/' "$T/bad/$MOE"
expect_error "moe.csv: bad weight_dtype" "$T/bad/$MOE:3:" "field 'weight_dtype'" "int4" --
cp -r "$T/moe/." "$T/bad"
sed -i '4s/,16,2,1,/,16,2,3,/; 4s/^4096,8,2,14336,bf16,[0-9]*,2,1,/4096,8,2,14336,bf16,48,2,3,/' "$T/bad/$MOE"
expect_error "moe.csv: EP not dividing TP" "$T/bad/$MOE:4:" "field 'expert_parallel_size'" --

if "$TABLES" --profiling-dir "$T/none" --out-header "$T/x.h" --out-report "$T/x.md" >/dev/null 2>"$T/stderr"; then
    bad "missing --profiling-dir is an error"
else
    grep -q "not a directory" "$T/stderr" && [ ! -e "$T/x.h" ] && ok "missing --profiling-dir is an error" || bad "missing --profiling-dir is an error"
fi

# ---- the real data ---------------------------------------------------------------------------
if [ ! -d ../shared/data/profiling ]; then
    skip "regeneration of data/vidur_tables.h" "../shared/data/profiling is absent"
    finish
fi
if [ "$SANITIZER_PASS" = 1 ]; then
    skip "regeneration of data/vidur_tables.h" "done in the first (non-sanitizer) pass only"
    finish
fi

# a real subset, -j 1 vs -j 2
for j in 1 2; do
    "$TABLES" --device a40 --model microsoft/phi-2 --node a40_pairwise_nvlink --out-header "$T/p$j.h" \
        --out-report "$T/p$j.md" --dump "$T/p$j.txt" -j $j --quiet || bad "real subset -j $j runs"
done
cmp -s "$T/p1.h" "$T/p2.h" && cmp -s "$T/p1.md" "$T/p2.md" && cmp -s "$T/p1.txt" "$T/p2.txt" \
    && ok "real subset: -j 1 and -j 2 give identical files" || bad "real subset: -j 1 and -j 2 give identical files"

# the checker: a table file read back equals the compiled-in tables (--subset: each of its tables
# equals the compiled-in table of the same key; calibrations pool every model and are not compared)
write_checker() {
    cat >"$T/check.c" <<'EOF'
#define VIDUR_IMPLEMENTATION
#include "vidur.h"
#include <string.h>
static int same_d(const double *a, const double *b, long n) { return n == 0 || (a && b && !memcmp(a, b, sizeof(double) * (size_t)n)); }
int main(int argc, char **argv)
{
    const vidur_table_set *b = vidur_builtin_tables();
    vidur_table_set *f = NULL;
    vidur_error err;
    int i, bad = 0;
    int subset = argc > 2 && !strcmp(argv[2], "--subset"); /* f's tables are some of b's (calibrations pool every model) */
    if (argc < 2 || vidur_table_set_load(argv[1], &f, &err) != VIDUR_OK) { printf("load failed\n"); return 1; }
    if (b->num_tables < 1 || f->num_tables < 1 ||
        (!subset && (b->num_tables != f->num_tables || b->num_calibrations != f->num_calibrations))) { printf("counts differ\n"); return 1; }
    for (i = 0; i < (subset ? f->num_tables : b->num_tables); i++) {
        const vidur_op_table *x = &b->tables[i], *y = &f->tables[i];
        if (subset) { /* the compiled-in table with the same key */
            int j;
            for (j = 0; j < b->num_tables; j++) {
                x = &b->tables[j];
                if (x->op == y->op && x->tp == y->tp && x->kind == y->kind && !strcmp(x->device, y->device) &&
                    !strcmp(x->model, y->model) && !strcmp(x->node, y->node)) break;
            }
            if (j == b->num_tables) { bad++; continue; }
        }
        long cells = (long)(x->nx + 1) * (x->ny + 1);
        if (x->op != y->op || x->tp != y->tp || x->kind != y->kind || x->predictor != y->predictor || strcmp(x->device, y->device) ||
            strcmp(x->model, y->model) || strcmp(x->node, y->node) || x->nx != y->nx || x->ny != y->ny || x->nterms != y->nterms ||
            !same_d(x->x, y->x, x->nx) || !same_d(x->y, y->y, x->ny) || !same_d(x->terms, y->terms, 3L * x->nterms) ||
            x->xmin != y->xmin || x->xmax != y->xmax || x->ymin != y->ymin || x->ymax != y->ymax || x->relative != y->relative || x->rel_offset_ms != y->rel_offset_ms ||
            (x->kind == VIDUR_TABLE_POLY && (x->sx != y->sx || x->sy != y->sy)) ||
            (x->kind == VIDUR_TABLE_GRID && memcmp(x->v, y->v, sizeof(float) * (size_t)cells)))
            bad++;
    }
    for (i = 0; i < (subset ? 0 : b->num_calibrations); i++)
        if (strcmp(b->calibrations[i].device, f->calibrations[i].device) || b->calibrations[i].op != f->calibrations[i].op ||
            b->calibrations[i].scale != f->calibrations[i].scale || b->calibrations[i].overhead_ms != f->calibrations[i].overhead_ms)
            bad++;
    printf("%d tables, %d calibrations, %d differ; %s\n", subset ? f->num_tables : b->num_tables, subset ? 0 : b->num_calibrations, bad, b->provenance);
    vidur_table_set_free(f);
    return bad != 0;
}
EOF
    cp "$T/check.c" "$T/check.cpp"
}

# The full regeneration (about 160 CPU-seconds, a third of make test) runs with
# VIDUR_TEST_TABLES_FULL=1 (make tables-check); make test regenerates one model's tables on one
# GPU (every kind: grids, polynomials, roofline-relative) and compares them with the compiled-in ones.
if [ "${VIDUR_TEST_TABLES_FULL:-0}" != 1 ]; then
    PKG=$(pkg-config --cflags inih 2>/dev/null) || PKG=""
    if "$TABLES" --device a100 --model meta-llama/Llama-2-7b-hf --out-header "$T/sub.h" --out-report "$T/sub.md" \
        --dump "$T/sub.txt" --vtab "$T/sub.vtab" --quiet; then
        nsub=$(grep -c '' "$T/sub.txt")
        nrel=$(grep -c ' relative=1 ' "$T/sub.txt")
        write_checker
        if $CC -std=c99 -O0 -Wall -Wextra -Wpedantic -Werror -DVIDUR_TABLES -I. -Idata $PKG "$T/check.c" -o "$T/check_c" -linih -lm 2>"$T/cc.log"; then
            ok "data/vidur_tables.h compiles as C99 inside vidur.h"
            [ "$nsub" -gt 0 ] && [ "$nrel" -gt 0 ] && "$T/check_c" "$T/sub.vtab" --subset \
                && ok "a regenerated subset ($nsub tables, $nrel roofline-relative) equals the compiled-in tables" \
                || bad "a regenerated subset equals the compiled-in tables" "run 'make tables' and commit"
        else
            bad "data/vidur_tables.h compiles as C99 inside vidur.h" "$(head -c 1500 "$T/cc.log")"
        fi
    else
        bad "subset regeneration runs"
    fi
    skip "full regeneration of data/vidur_tables.h" "VIDUR_TEST_TABLES_FULL=1 bash tests/test_tables.sh, or make tables-check"
    finish
fi

start=$(date +%s)
if "$TABLES" --out-header "$T/full.h" --out-report "$T/full.md" --dump "$T/full.txt" --vtab "$T/full.vtab" -j 2; then
    echo "    (full regeneration: $(($(date +%s) - start)) s)"
    cmp -s "$T/full.h" data/vidur_tables.h && ok "regenerated data/vidur_tables.h is identical to the committed one" \
        || bad "regenerated data/vidur_tables.h is identical to the committed one" "run 'make tables' and commit"
    cmp -s "$T/full.md" data/tables_accuracy.md && ok "regenerated data/tables_accuracy.md is identical to the committed one" \
        || bad "regenerated data/tables_accuracy.md is identical to the committed one" "run 'make tables' and commit"
    nrel=$(grep -c ' relative=1 ' "$T/full.txt")
    nrelv=$(grep -c '^table .* relative=1' "$T/full.vtab")
    [ "$nrel" -gt 0 ] && [ "$nrel" = "$nrelv" ] && ok "some forests are emitted as roofline-relative tables ($nrel)" \
        || bad "some forests are emitted as roofline-relative tables" "dump $nrel, table file $nrelv"
    size=$(stat -c %s data/vidur_tables.h 2>/dev/null || echo 0)
    [ "$size" -le 20000000 ] && ok "data/vidur_tables.h is at most 20 MB ($size bytes)" || bad "data/vidur_tables.h is at most 20 MB" "$size bytes"
    "$TABLES" --device a100 --model meta-llama/Llama-2-7b-hf --out-header "$T/sub.h" --out-report "$T/sub.md" \
        --dump "$T/sub.txt" --quiet
    nsub=$(grep -c '' "$T/sub.txt")
    missing=$(comm -23 <(sort "$T/sub.txt") <(sort "$T/full.txt") | wc -l)
    [ "$nsub" -gt 0 ] && [ "$missing" = 0 ] && ok "subset run ($nsub tables) emits the same table values as the full run" \
        || bad "subset run emits the same table values as the full run" "$missing of $nsub tables differ"
    # the header compiles inside vidur.h and equals the table file read back
    write_checker
    PKG=$(pkg-config --cflags inih 2>/dev/null) || PKG=""
    WARN="-Wall -Wextra -Wpedantic -Werror"
    if $CC -std=c99 -O0 $WARN -DVIDUR_TABLES -I. -Idata $PKG "$T/check.c" -o "$T/check_c" -linih -lm 2>"$T/cc.log"; then
        ok "data/vidur_tables.h compiles as C99 inside vidur.h"
        "$T/check_c" "$T/full.vtab" && ok "--vtab file reads back equal to the compiled-in tables" \
            || bad "--vtab file reads back equal to the compiled-in tables"
    else
        bad "data/vidur_tables.h compiles as C99 inside vidur.h" "$(head -c 1500 "$T/cc.log")"
    fi
    if command -v g++ >/dev/null 2>&1; then
        if g++ -std=c++11 -O0 $WARN -DVIDUR_TABLES -I. -Idata $PKG -c "$T/check.cpp" -o "$T/check_cpp.o" 2>"$T/cxx.log"; then
            ok "data/vidur_tables.h compiles as C++11 inside vidur.h"
        else
            bad "data/vidur_tables.h compiles as C++11 inside vidur.h" "$(head -c 1500 "$T/cxx.log")"
        fi
    fi
else
    bad "full regeneration runs"
fi
finish
