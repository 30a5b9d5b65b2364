#!/usr/bin/env python3
"""vidur-profile.py - measure Vidur's operators on a GPU, in Vidur's attention.csv and mlp.csv formats.

What it measures
----------------
Per-call GPU time (milliseconds) of the attention operators that Vidur's execution-time
predictor looks up (spec: execution_time.md sections 2, 3 and 5), for ONE attention layer on
ONE GPU's share of the heads, fp16:

  q heads per GPU  = n_q_head / TP
  kv heads per GPU = ceil(n_kv_head / TP)
  head_dim         = n_embd / n_q_head

* attn_decode: batch_size sequences, one new query token each, attending to kv_cache_size
  earlier tokens plus the new token itself (kv_cache_size + 1 keys, as Vidur's profiler sets
  total_len = processed_len + 1). torch.nn.functional.scaled_dot_product_attention on contiguous
  [B, H, S, D] tensors, enable_gqa=True when q heads != kv heads. No paged layout.
* attn_prefill: one sequence, prefill_chunk_size new tokens attending causally to kv_cache_size
  earlier tokens plus themselves: is_causal=True when kv_cache_size == 0, otherwise the
  bottom-right aligned causal mask torch.nn.attention.bias.causal_lower_right(chunk, kv + chunk)
  (an explicit boolean mask if that class is missing).
* attn_kv_cache_save: writing the new tokens' K and V into a preallocated paged cache
  (block_size 16; one tensor [num_slots, 2, kv_heads, head_dim] holding K and V of each slot)
  with one index_copy_ over a slot mapping, from the K/V part of a fused QKV projection output
  (a strided view, as in a real model). num_tokens = max(prefill_chunk_size, batch_size):
  decode rows write batch_size tokens, one into each of batch_size random blocks; prefill rows
  write prefill_chunk_size consecutive slots of randomly chosen blocks. It depends only on
  num_tokens, so it is measured once per (shape, num_tokens, decode/prefill) and repeated on
  every row that has that num_tokens.
* attn_input_reshape, attn_output_reshape: written as 0 (no such copies here).

SDPA runs under torch.nn.attention.sdpa_kernel(FLASH_ATTENTION) (PyTorch's vendored
FlashAttention-2); where PyTorch refuses that for a call, the call falls back to PyTorch's
default dispatch and the log says so. A small correctness self-test (against a float32
reference with an explicit mask) runs first and is printed to the log.

How it is timed
---------------
For every grid point: 3 warm-up calls, then N timed calls, N = clamp(5 ms / t_warm, 20, 100)
(so short ops get up to 100 runs, long ops 20). Each timed call is bracketed by its own pair of
CUDA events. Before the timed loop, torch.cuda._sleep keeps the GPU busy long enough for the CPU
to enqueue every call, so the events measure GPU execution and not Python launch gaps (the GPU
never waits for the CPU inside the loop; the log counts any gap between calls that shows it
did). Inputs are the same buffers on every call (warm L2, as in Vidur's own profiler, which
repeats each call 5 times after 2 warm-ups and sums kernel times from the torch profiler).
Statistics per grid point: min, max, mean, median, std (population std, as numpy's np.std) in
milliseconds, rounded to 1 ns, written as Python float reprs.

Each DISTINCT per-GPU shape (q heads, kv heads, head_dim) is measured once, and its rows are
written for every (model, TP) that maps to it, with that model's n_embd, n_q_head, n_kv_head,
TP and max_model_len (max_pos of the spec's model table).

Grid
----
decode:  batch_size in DECODE_BS x kv_cache_size in DECODE_KV, skipping points whose K+V would
         exceed MAX_DECODE_KV_BYTES (8 GB).
prefill: prefill_chunk_size in PREFILL_CHUNK x kv_cache_size in PREFILL_KV, kv + chunk <= 16384.
The grid is the same for every model (it goes beyond some models' max_model_len on purpose:
the simulator may be run with longer contexts than a model's nominal maximum).

Validation
----------
--validate also times the mlp.csv matmuls attn_pre_proj, attn_post_proj, mlp_up_proj and
mlp_down_proj (torch.nn.functional.linear, fp16, per-GPU weight shapes of Meta-Llama-3-8B and
Llama-2-7b-hf at TP 1, gated MLP) at num_tokens in VALIDATION_TOKENS and writes the medians to
validation.csv; --compare then divides them by the medians in Vidur's published
h100/<model>/mlp.csv (no torch needed).

Output
------
<out-dir>/h100_attention.csv: all rows, with an extra first column `model` (written shape by
shape, flushed, so a run cut short keeps what it measured); <out-dir>/validation.csv;
<out-dir>/env.txt (torch/CUDA versions, GPU name and properties, nvidia-smi before and after);
<out-dir>/log.txt (self-test, validation medians, per-shape summary with clocks, fallbacks).
--split turns the combined file into <dest>/<org>/<model>/attention.csv files with exactly
Vidur's columns (the `model` column dropped), rows sorted by TP, decode block before prefill
block, decode by (kv_cache_size, batch_size), prefill by (prefill_chunk_size, kv_cache_size).

Columns: Vidur's Llama-3-8B attention.csv order (the only published schema that has all five
time_stats groups: input_reshape, kv_cache_save, prefill, decode, output_reshape), with the
Llama-2-7B files' convention that the decode group is empty on prefill rows and vice versa.

moe.csv (--moe MODEL:TP,TP/EP ...; ours)
-----------------------------------------
The MoE layer of an MoE model (MOE_SPECS: Mixtral-8x7B/8x22B, Qwen3-30B-A3B, Llama-4-Scout BF16 and
FP8) on one GPU, EP rank 0 of EP ep at TP tp (n/ep experts, each tp/ep-way sharded), at Vidur's
token counts up to --moe-max-tokens (8192): moe_gate (router GEMM, 16-bit, softmax, top-k),
moe_up_proj (gather of the routed rows + the experts' gate/up GEMMs), moe_act (SiLU-and-mul),
moe_down_proj (the experts' down GEMMs + the top-k weighted sum), moe_shared_mlp (Llama-4's shared
expert). Routing is uniform (a balanced router); the GPU receives the (token, expert) pairs of its
experts. The expert GEMMs run as one grouped kernel (torch._grouped_mm, torch._scaled_grouped_mm
for FP8) where this PyTorch has it and it passes its self-test, else one GEMM per expert (the log
and the moe_gemm_backend column say which); with vLLM installed, its fused_experts is timed as a
whole beside them (column moe_fused_experts). FP8 (Scout FP8): e4m3 weights with per-channel
scales, activations quantised per token inside each timed GEMM (vLLM's W8A8 dynamic FP8), via
torch._scaled_mm. Output: <out-dir>/h100_moe.csv (`model` first); --split-moe writes
<dest>/<org>/<model>/moe.csv, which vidur-tables reads (tables of EP > 1 under MODEL@epN).
FP8 checkpoints in --mlp (MLP_ONLY_MODELS, e.g. Scout FP8) time their GEMMs the same FP8 way.
Not yet run on a GPU (written for a task that has one); a first run, for instance:
  PYTHONUNBUFFERED=1 python3 tools/vidur-profile.py --out-dir $OUT --require-fused --attention-models "" \
      --moe RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic:2 --moe mistralai/Mixtral-8x7B-Instruct-v0.1:2,2/2 \
      --mlp RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic:2 --time-limit-s 500
  python3 tools/vidur-profile.py --split-moe h100_moe.csv --dest data/profiling/compute/h100

mlp.csv (--mlp MODEL:TP,TP ...)
-----------------------------
The ten mlp.csv operators of one layer, fp16, one GPU's shard at each TP, at Vidur's 387 token
counts (1, 2, 4, 8..1016 step 8, 1024..2040 step 16, ... 16384): attn_pre_proj, attn_post_proj,
mlp_up_proj (gate and up fused), mlp_down_proj as torch.nn.functional.linear (cuBLAS); RMSNorm
(input_layernorm, post_attention_layernorm), the rotary embedding (attn_rope, NeoX style, in place
on the q and k heads of the fused QKV output) and SiLU-and-mul (mlp_act) as one Triton kernel each,
standing in for the fused vLLM kernels Vidur profiled (checked against float references first;
--require-fused stops if they fail, otherwise composite torch ops are used and the log says so);
add as one out-of-place add; emb as one F.embedding over vocab/TP rows. Same timing as above, with
at least 10 timed calls per point. Output: <out-dir>/h100_mlp.csv (a `model` column first);
--split-mlp writes <dest>/<org>/<model>/mlp.csv with exactly Vidur's columns, rows by (TP,
num_tokens); --compare-mlp OURS VIDURS --tp N prints per-operator ratios of the medians.

Whole layers (--layers)
-----------------------
For the batches of LAYER_BATCHES (decode, prefill, chunked, mixed, two prefills) of the models of
LAYER_MODELS at TP 1: one layer's operators in execution_time.md's composition, enqueued back to
back and timed as one (median), and the sum of the same operators' medians timed one by one.
Output: <out-dir>/h100_layers.csv (data/validation/h100_layers.csv; tests/test_profile.sh compares
`vidur predict` with it). Command used (2026-11-23, 17 s):
  PYTHONUNBUFFERED=1 python3 tools/vidur-profile.py --out-dir $OUT --require-fused --layers --attention-models ""

Commands (the ones used for data/profiling/compute/h100/*/attention.csv)
--------------------------------------------------------------------------
  python3 tools/vidur-profile.py --dry-run            # grid, shapes and a time estimate; no torch
  # on the H100 (PyTorch 2.11, CUDA 13):
  PYTHONUNBUFFERED=1 python3 tools/vidur-profile.py --out-dir $OUT --validate --time-limit-s 470
  # back here (no torch):
  python3 tools/vidur-profile.py --split h100_attention.csv --dest data/profiling/compute/h100
  python3 tools/vidur-profile.py --compare validation.csv \
      --vidur-profiles <Vidur data>/profiling/compute/h100

Commands of 2026-11-23 (internlm2-20b mlp + attention, Llama-3-70B TP 1 mlp; data/validation):
  PYTHONUNBUFFERED=1 python3 tools/vidur-profile.py --out-dir $OUT --require-fused \
      --mlp internlm/internlm2-20b:1,2,4,8 --mlp meta-llama/Meta-Llama-3-70B:1 \
      --attention-models internlm/internlm2-20b --time-limit-s 545
  PYTHONUNBUFFERED=1 python3 tools/vidur-profile.py --out-dir $OUT --require-fused \
      --mlp meta-llama/Meta-Llama-3-8B:1,2,4,8 --mlp meta-llama/Llama-2-7b-hf:1 \
      --attention-models "" --time-limit-s 500
  python3 tools/vidur-profile.py --split-mlp h100_mlp.csv --dest data/profiling/compute/h100   # first run
  python3 tools/vidur-profile.py --split h100_attention.csv --dest data/profiling/compute/h100
  python3 tools/vidur-profile.py --split-mlp h100_mlp.csv --dest data/validation/compute/h100  # second run
"""

import argparse
import csv
import math
import os
import statistics
import subprocess
import sys
import time

# ----------------------------------------------------------------------------------------------
# Models (execution_time.md section 8): name, n_embd, n_q_head, n_kv_head, max_pos, TPs
# ----------------------------------------------------------------------------------------------
TPS = (1, 2, 4, 8)
MODELS = [
    # name                                  n_embd n_q  n_kv max_len TPs
    ("meta-llama/Llama-2-7b-hf",              4096, 32, 32, 4096, TPS),
    ("meta-llama/Meta-Llama-3-8B",            4096, 32, 8, 4096, TPS),
    ("meta-llama/Llama-2-70b-hf",             8192, 64, 8, 4096, TPS),
    ("meta-llama/Meta-Llama-3-70B",           8192, 64, 8, 8192, TPS),
    ("codellama/CodeLlama-34b-Instruct-hf",   8192, 64, 8, 16384, TPS),
    ("internlm/internlm-20b",                 5120, 40, 40, 4096, TPS),
    ("microsoft/phi-2",                       2560, 32, 32, 2048, (1,)),
    ("Qwen/Qwen-72B",                         8192, 64, 64, 32768, TPS),
    ("internlm/internlm2-20b",                6144, 48, 8, 32768, TPS),
]

# mlp.csv keys of each model (execution_time.md section 8; Llama-2's vocabulary is 32768 there):
# name -> (n_expanded_embd, vocab_size, use_gated_mlp)
MLP_SPECS = {
    "meta-llama/Llama-2-7b-hf": (11008, 32768, True),
    "meta-llama/Meta-Llama-3-8B": (14336, 128256, True),
    "meta-llama/Llama-2-70b-hf": (28672, 32768, True),
    "meta-llama/Meta-Llama-3-70B": (28672, 128256, True),
    "codellama/CodeLlama-34b-Instruct-hf": (22016, 32768, True),
    "internlm/internlm-20b": (13824, 103168, True),
    "Qwen/Qwen-72B": (24576, 152064, True),
    "internlm/internlm2-20b": (16384, 92544, True),
}

# Models measured only with --mlp (not in the attention sweep): FP8 checkpoints, whose GEMMs
# (attn_pre_proj, attn_post_proj, mlp_up_proj, mlp_down_proj) run in FP8 (Fp8Linear), as their
# engines run them. Llama-4-Scout's MLP width here is its dense one (16384; every Scout layer is
# MoE, see --moe), kept so that the rows carry vidur.h's model keys.
MLP_ONLY_MODELS = [
    ("RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic", 5120, 40, 8, 8192, TPS),
]
MLP_SPECS["RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic"] = (16384, 202048, True)
FP8_MODELS = {"RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic"}

DECODE_BS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]
DECODE_KV = [64, 128, 256, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384]
MAX_DECODE_KV_BYTES = 8e9  # K + V of one decode call, fp16
PREFILL_CHUNK = [16, 32, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 8192]
PREFILL_KV = [0, 128, 256, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288]
MAX_PREFILL_TOTAL = 16384  # kv + chunk
BLOCK_SIZE = 16
KV_SAVE_NUM_BLOCKS = 2048  # paged cache for attn_kv_cache_save: 32768 slots
BACKEND = "AttentionBackend.TORCH_SDPA"

WARMUP = 3
MIN_RUNS, MAX_RUNS, TARGET_MS = 20, 100, 5.0

VALIDATION_MODELS = ["meta-llama/Meta-Llama-3-8B", "meta-llama/Llama-2-7b-hf"]
VALIDATION_FFN = {"meta-llama/Meta-Llama-3-8B": 14336, "meta-llama/Llama-2-7b-hf": 11008}
VALIDATION_TOKENS = [1, 16, 64, 256, 1024, 4096]
VALIDATION_OPS = ["attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj"]

# Vidur's Llama-3-8B attention.csv column order.
OPS = ["attn_input_reshape", "attn_kv_cache_save", "attn_prefill", "attn_decode",
       "attn_output_reshape"]
STATS = ["min", "max", "mean", "median", "std"]
KEY_COLUMNS = ["n_embd", "n_q_head", "n_kv_head", "block_size", "num_tensor_parallel_workers",
               "max_model_len", "batch_size", "prefill_chunk_size", "kv_cache_size",
               "is_prefill", "attention_backend"]
COLUMNS = ["time_stats.%s.%s" % (op, s) for op in OPS for s in STATS] + KEY_COLUMNS


# ----------------------------------------------------------------------------------------------
# Grid and shapes (no torch)
# ----------------------------------------------------------------------------------------------
def per_gpu_shape(n_embd, n_q, n_kv, tp):
    assert n_q % tp == 0 and n_embd % n_q == 0
    return (n_q // tp, -(-n_kv // tp), n_embd // n_q)


def model_configs():
    """(model tuple, tp) for every profiled configuration, in output order."""
    for m in MODELS:
        name, n_embd, n_q, n_kv, max_len, tps = m
        for tp in tps:
            if n_q % tp == 0:  # "where heads divide"
                yield m, tp


def distinct_shapes():
    """Ordered {shape: [(model, tp), ...]}, first-seen order."""
    shapes = {}
    for m, tp in model_configs():
        shapes.setdefault(per_gpu_shape(m[1], m[2], m[3], tp), []).append((m, tp))
    return shapes


def decode_bytes(shape, b, kv):
    _, hkv, d = shape
    return 2 * b * hkv * (kv + 1) * d * 2


def decode_grid(shape):
    return [(b, kv) for kv in DECODE_KV for b in DECODE_BS
            if decode_bytes(shape, b, kv) <= MAX_DECODE_KV_BYTES]


def prefill_grid():
    return [(c, kv) for c in PREFILL_CHUNK for kv in PREFILL_KV if kv + c <= MAX_PREFILL_TOTAL]


def prefill_flops(shape, chunk, kv):
    hq, _, d = shape
    pairs = chunk * kv + chunk * (chunk + 1) // 2  # (query, key) pairs under the causal mask
    return 4 * hq * d * pairs


def estimate_point_s(gpu_ms, cpu_us=60.0):
    """Rough wall time of one grid point with the timing scheme above."""
    n = max(MIN_RUNS, min(MAX_RUNS, int(TARGET_MS / max(gpu_ms, 1e-4))))
    per_call_ms = max(gpu_ms, cpu_us / 1e3)
    sleep_ms = min(20.0, 1.5 * n * cpu_us / 1e3 + 0.2)
    return ((WARMUP + 1 + n) * per_call_ms + sleep_ms + 2.0) / 1e3  # +2 ms Python/sync


def estimate(shape, bw=2.5e12, flops=3.0e14):
    dec = sum(estimate_point_s(decode_bytes(shape, b, kv) / bw * 1e3 + 0.008)
              for b, kv in decode_grid(shape))
    pre = sum(estimate_point_s(prefill_flops(shape, c, kv) / flops * 1e3 + 0.010)
              for c, kv in prefill_grid())
    nsave = len(set(DECODE_BS)) + len(set(PREFILL_CHUNK))
    return dec + pre + nsave * estimate_point_s(0.01)


def dry_run():
    shapes = distinct_shapes()
    total_pts = total_rows = 0
    total_s = 0.0
    print("distinct per-GPU shapes (q heads, kv heads, head_dim) and the (model, TP) rows they feed:")
    for shape, users in shapes.items():
        nd, npf = len(decode_grid(shape)), len(prefill_grid())
        est = estimate(shape)
        total_pts += nd + npf
        total_rows += (nd + npf) * len(users)
        total_s += est
        print("  %-14s decode %3d  prefill %3d  est %5.1f s  <- %s" % (
            shape, nd, npf, est, ", ".join("%s TP%d" % (m[0], tp) for m, tp in users)))
    print("%d shapes, %d measured points, %d CSV rows, estimated %.0f s of measurement "
          "(+ start-up, self-test and validation, ~20 s)" % (len(shapes), total_pts, total_rows, total_s))
    print("decode batch_size:", DECODE_BS)
    print("decode kv_cache_size:", DECODE_KV, "(skip if K+V > %.0e bytes)" % MAX_DECODE_KV_BYTES)
    print("prefill chunk:", PREFILL_CHUNK)
    print("prefill kv_cache_size:", PREFILL_KV, "(kv + chunk <= %d)" % MAX_PREFILL_TOTAL)
    for shape in shapes:
        skipped = [(b, kv) for kv in DECODE_KV for b in DECODE_BS
                   if decode_bytes(shape, b, kv) > MAX_DECODE_KV_BYTES]
        if skipped:
            print("  %s: %d decode points skipped (K+V too large), e.g. %s" % (
                shape, len(skipped), skipped[:3]))
    print("--moe models (one GPU's share at TP/EP: local experts x expert width, shared width; %d token counts "
          "up to %d):" % (len(moe_tokens()), MOE_MAX_TOKENS))
    for name, (e, n, k, ffn, shared, dtype) in MOE_SPECS.items():
        degs = ["%d/%d" % (tp, ep) for tp in TPS for ep in TPS
                if tp % ep == 0 and n % ep == 0 and ffn % (tp // ep) == 0 and shared % tp == 0 and ep <= tp]
        shapes_s = ", ".join("%s: %dx%d%s" % (d, *moe_local_shape(name, *map(int, d.split("/")))[:2],
                                              (" +%d" % moe_local_shape(name, *map(int, d.split("/")))[2]) if shared else "")
                             for d in degs)
        print("  %-52s %s, E %d, top-%d -> %s" % (name, dtype, e, k, shapes_s))


# ----------------------------------------------------------------------------------------------
# CSV rows (no torch)
# ----------------------------------------------------------------------------------------------
def fmt(x):
    return repr(round(float(x), 6))


def summarize(times_ms):
    return {"min": min(times_ms), "max": max(times_ms), "mean": statistics.fmean(times_ms),
            "median": statistics.median(times_ms), "std": statistics.pstdev(times_ms)}


ZERO_STATS = {s: 0.0 for s in STATS}


def make_row(model, tp, is_prefill, batch_size, chunk, kv, stats_by_op):
    """stats_by_op: op -> stats dict, or None for an empty group."""
    name, n_embd, n_q, n_kv, max_len, _ = model
    cells = []
    for op in OPS:
        st = stats_by_op.get(op)
        cells += [""] * 5 if st is None else [fmt(st[s]) for s in STATS]
    cells += [str(n_embd), str(n_q), str(n_kv), str(BLOCK_SIZE), str(tp), str(max_len),
              str(batch_size), str(chunk), str(kv), "True" if is_prefill else "False", BACKEND]
    assert len(cells) == len(COLUMNS)
    return [name] + cells


def row_sort_key(r):
    tp = int(r["num_tensor_parallel_workers"])
    if r["is_prefill"] == "True":
        return (tp, 1, int(r["prefill_chunk_size"]), int(r["kv_cache_size"]))
    return (tp, 0, int(r["kv_cache_size"]), int(r["batch_size"]))


def split_combined(combined, dest, columns, filename, sort_key):
    """A combined CSV (a `model` column, then `columns`) -> <dest>/<org>/<model>/<filename> with
    exactly `columns`, rows sorted by sort_key; returns {path: rows}."""
    with open(combined, newline="") as f:
        rd = csv.DictReader(f)
        assert rd.fieldnames == ["model"] + columns, "unexpected header in %s" % combined
        by_model = {}
        for r in rd:
            by_model.setdefault(r["model"], []).append(r)
    out = {}
    for name, rows in by_model.items():
        rows.sort(key=sort_key)
        path = os.path.join(dest, name, filename)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(columns)
            for r in rows:
                w.writerow([r[c] for c in columns])
        out[path] = rows
    return out


def split(combined, dest):
    for path, rows in split_combined(combined, dest, COLUMNS, "attention.csv", row_sort_key).items():
        tps = sorted({int(r["num_tensor_parallel_workers"]) for r in rows})
        nd = sum(r["is_prefill"] == "False" for r in rows)
        print("%s: %d rows (%d decode, %d prefill), TP %s" % (path, len(rows), nd, len(rows) - nd, tps))


def vidur_mlp_medians(path, n_tokens):
    """{(op, num_tokens): median} at TP 1, averaging duplicate rows."""
    acc = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["num_tensor_parallel_workers"] != "1" or int(r["num_tokens"]) not in n_tokens:
                continue
            for op in VALIDATION_OPS:
                acc.setdefault((op, int(r["num_tokens"])), []).append(float(r["time_stats.%s.median" % op]))
    return {k: statistics.fmean(v) for k, v in acc.items()}


def compare(validation_csv, vidur_dir):
    ours = {}
    with open(validation_csv, newline="") as f:
        for r in csv.DictReader(f):
            ours[(r["model"], r["op"], int(r["num_tokens"]))] = float(r["median_ms"])
    lines = ["ratio = our median / Vidur's published H100 median (TP 1); times in ms", ""]
    all_ratios = []
    for model in VALIDATION_MODELS:
        theirs = vidur_mlp_medians(os.path.join(vidur_dir, model, "mlp.csv"), VALIDATION_TOKENS)
        lines.append("%s" % model)
        lines.append("  %-15s %7s %10s %10s %7s" % ("op", "tokens", "ours", "vidur", "ratio"))
        for op in VALIDATION_OPS:
            for t in VALIDATION_TOKENS:
                o, v = ours.get((model, op, t)), theirs.get((op, t))
                if o is None or v is None:
                    lines.append("  %-15s %7d %10s %10s %7s" % (op, t, o, v, "n/a"))
                    continue
                all_ratios.append(o / v)
                lines.append("  %-15s %7d %10.4f %10.4f %7.2f" % (op, t, o, v, o / v))
        lines.append("")
    if all_ratios:
        g = math.exp(statistics.fmean(math.log(x) for x in all_ratios))
        lines.append("all %d ratios: geometric mean %.2f, median %.2f, min %.2f, max %.2f" % (
            len(all_ratios), g, statistics.median(all_ratios), min(all_ratios), max(all_ratios)))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    return text


# ----------------------------------------------------------------------------------------------
# mlp.csv (no torch): token grid, columns, rows, split
# ----------------------------------------------------------------------------------------------
MLP_OPS = ["emb", "input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj",
           "post_attention_layernorm", "mlp_up_proj", "mlp_act", "mlp_down_proj", "add"]
MLP_KEY_COLUMNS = ["n_head", "n_kv_head", "n_embd", "n_expanded_embd", "vocab_size", "use_gated_mlp",
                   "num_tokens", "num_tensor_parallel_workers"]
MLP_COLUMNS = ["time_stats.%s.%s" % (op, s) for op in MLP_OPS for s in STATS] + MLP_KEY_COLUMNS
MLP_MAX_TOKENS = 16384
MLP_MIN_RUNS = 10  # GEMMs of several ms are stable over 10 calls (Vidur's profiler times 5)


def mlp_tokens(max_tokens=MLP_MAX_TOKENS):
    """Vidur's profiled token counts (execution_time.md section 5): 1, 2, 4, then 8..1016 step 8,
    1024..2040 step 16, 2048..4064 step 32, ... (each doubling range doubles the step), then max."""
    out, lo, step = [1, 2, 4], 8, 8
    while lo < max_tokens:
        hi = 1024 if lo < 1024 else lo * 2
        out += range(lo, min(hi, max_tokens), step)
        lo, step = hi, (16 if hi == 1024 else step * 2)
    out.append(max_tokens)
    return out


def parse_sweeps(specs):
    """['MODEL:1,2,4', ...] -> [(model tuple, tp), ...] in the given order."""
    out = []
    for spec in specs:
        name, _, tps = spec.rpartition(":")
        ms = [m for m in MODELS + MLP_ONLY_MODELS if m[0] == name]
        if not ms or name not in MLP_SPECS:
            raise SystemExit("vidur-profile: --mlp %s: unknown model '%s'" % (spec, name))
        for t in tps.split(","):
            if not t.isdigit() or int(t) < 1 or ms[0][2] % int(t):
                raise SystemExit("vidur-profile: --mlp %s: bad TP '%s'" % (spec, t))
            out.append((ms[0], int(t)))
    return out


def mlp_row(model, tp, num_tokens, stats_by_op):
    name, n_embd, n_q, n_kv, _, _ = model
    ffn, vocab, gated = MLP_SPECS[name]
    cells = []
    for op in MLP_OPS:
        cells += [fmt(stats_by_op[op][s]) for s in STATS]
    cells += [str(n_q), str(n_kv), str(n_embd), str(ffn), str(vocab), "True" if gated else "False",
              str(num_tokens), str(tp)]
    assert len(cells) == len(MLP_COLUMNS)
    return [name] + cells


def split_mlp(combined, dest):
    key = lambda r: (int(r["num_tensor_parallel_workers"]), int(r["num_tokens"]))
    for path, rows in split_combined(combined, dest, MLP_COLUMNS, "mlp.csv", key).items():
        tps = sorted({int(r["num_tensor_parallel_workers"]) for r in rows})
        print("%s: %d rows, TP %s" % (path, len(rows), tps))


def compare_mlp(ours_csv, theirs_csv, tp=1):
    """Per operator: our median / Vidur's median over the token counts both files hold at this TP."""
    def medians(path):
        out = {}
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                if int(r["num_tensor_parallel_workers"]) != tp:
                    continue
                for op in MLP_OPS:
                    v = r.get("time_stats.%s.median" % op, "")
                    if v not in ("", None):
                        out.setdefault(op, {})[int(r["num_tokens"])] = float(v)
        return out
    a, b = medians(ours_csv), medians(theirs_csv)
    lines = ["our median / Vidur's median, TP %d, over the token counts both files hold" % tp,
             "%-26s %6s %8s %8s %8s %8s" % ("op", "points", "geomean", "p10", "median", "p90")]
    for op in MLP_OPS:
        common = sorted(set(a.get(op, {})) & set(b.get(op, {})))
        rs = sorted(a[op][t] / b[op][t] for t in common if b[op][t] > 0 and a[op][t] > 0)
        if not rs:
            continue
        g = math.exp(statistics.fmean(math.log(x) for x in rs))
        q = lambda p: rs[min(len(rs) - 1, int(p * len(rs)))]
        lines.append("%-26s %6d %8.3f %8.3f %8.3f %8.3f" % (op, len(rs), g, q(0.1), statistics.median(rs), q(0.9)))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    return text


# ----------------------------------------------------------------------------------------------
# moe.csv (no torch): the MoE layer's operators of an MoE model (ours; vidur-tables reads them)
# ----------------------------------------------------------------------------------------------
# name -> (n_embd, num_experts, num_experts_per_tok, moe_intermediate_size,
#          shared_expert_intermediate_size, weight dtype); the values of vidur.h's built-in rows
# (data/models/ORG/NAME/config.json).
MOE_SPECS = {
    "mistralai/Mixtral-8x7B-Instruct-v0.1": (4096, 8, 2, 14336, 0, "bf16"),
    "mistralai/Mixtral-8x22B-Instruct-v0.1": (6144, 8, 2, 16384, 0, "bf16"),
    "Qwen/Qwen3-30B-A3B": (2048, 128, 8, 768, 0, "bf16"),
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": (5120, 16, 1, 8192, 8192, "bf16"),
    "RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic": (5120, 16, 1, 8192, 8192, "fp8"),
}
MOE_OPS = ["moe_gate", "moe_up_proj", "moe_act", "moe_down_proj", "moe_shared_mlp"]
MOE_KEY_COLUMNS = ["n_embd", "num_experts", "num_experts_per_tok", "moe_intermediate_size",
                   "shared_expert_intermediate_size", "weight_dtype", "num_tokens",
                   "num_tensor_parallel_workers", "expert_parallel_size"]
# then two columns vidur-tables ignores: vLLM's own fused_experts (the three expert operators in one
# call) when vLLM is installed (empty otherwise), and the grouped-GEMM implementation measured
MOE_COLUMNS = (["time_stats.%s.%s" % (op, s) for op in MOE_OPS for s in STATS] + MOE_KEY_COLUMNS
               + ["time_stats.moe_fused_experts.median", "moe_gemm_backend"])
MOE_MAX_TOKENS = 8192


def parse_moe_sweeps(specs):
    """['MODEL:TP,TP/EP', ...] -> [(name, tp, ep), ...] in the given order (EP 1 when not given)."""
    out = []
    for spec in specs:
        name, _, degs = spec.rpartition(":")
        if name not in MOE_SPECS:
            raise SystemExit("vidur-profile: --moe %s: unknown MoE model '%s' (%s)" % (spec, name, ", ".join(MOE_SPECS)))
        e, n, k, ffn, shared, _ = MOE_SPECS[name]
        for d in degs.split(","):
            tp_s, _, ep_s = d.partition("/")
            ep_s = ep_s or "1"
            if not (tp_s.isdigit() and ep_s.isdigit()) or int(tp_s) < 1 or int(ep_s) < 1:
                raise SystemExit("vidur-profile: --moe %s: bad degree '%s' (TP or TP/EP)" % (spec, d))
            tp, ep = int(tp_s), int(ep_s)
            if tp % ep or n % ep or ffn % (tp // ep) or shared % tp:
                raise SystemExit("vidur-profile: --moe %s: TP %d / EP %d do not split %s (%d experts of %d, shared %d)"
                                 % (spec, tp, ep, name, n, ffn, shared))
            out.append((name, tp, ep))
    return out


def moe_tokens(max_tokens=MOE_MAX_TOKENS):
    """Vidur's token grid (mlp_tokens) up to max_tokens."""
    return mlp_tokens(max_tokens)


def moe_row(name, tp, ep, num_tokens, stats_by_op, fused_median, backend):
    """One moe.csv row (with the `model` column first); stats_by_op[op] None: not measured (empty)."""
    e, n, k, ffn, shared, dtype = MOE_SPECS[name]
    cells = []
    for op in MOE_OPS:
        st = stats_by_op.get(op)
        cells += [""] * 5 if st is None else [fmt(st[s]) for s in STATS]
    cells += [str(e), str(n), str(k), str(ffn), str(shared), dtype, str(num_tokens), str(tp), str(ep),
              "" if fused_median is None else fmt(fused_median), backend]
    assert len(cells) == len(MOE_COLUMNS)
    return [name] + cells


def split_moe(combined, dest):
    key = lambda r: (int(r["num_tensor_parallel_workers"]), int(r["expert_parallel_size"]), int(r["num_tokens"]))
    for path, rows in split_combined(combined, dest, MOE_COLUMNS, "moe.csv", key).items():
        degs = sorted({(int(r["num_tensor_parallel_workers"]), int(r["expert_parallel_size"])) for r in rows})
        print("%s: %d rows, (TP, EP) %s" % (path, len(rows), degs))


def moe_local_shape(name, tp, ep):
    """One GPU's share: (local experts, an expert's FFN width here, the shared expert's width here)."""
    e, n, k, ffn, shared, _ = MOE_SPECS[name]
    return n // ep, ffn // (tp // ep), shared // tp


# ----------------------------------------------------------------------------------------------
# GPU part
# ----------------------------------------------------------------------------------------------
class Profiler:
    def __init__(self, log):
        import torch
        import torch.nn.functional as F
        self.torch, self.F, self.log = torch, F, log
        self.dev = torch.device("cuda")
        try:
            from torch.nn.attention import sdpa_kernel, SDPBackend
            self.flash_ctx = lambda: sdpa_kernel([SDPBackend.FLASH_ATTENTION])
        except ImportError:
            self.flash_ctx = None
        try:
            from torch.nn.attention.bias import causal_lower_right
            self.causal_lower_right = causal_lower_right
        except ImportError:
            self.causal_lower_right = None
        self.fallbacks = {}
        self.failed = []
        self.starved_points = 0
        self.points = 0
        self.has_sleep = hasattr(torch.cuda, "_sleep")
        torch.manual_seed(0)
        # One pair of 4 GB random buffers; every K/V tensor is a contiguous view into them.
        n = int(MAX_DECODE_KV_BYTES / 2 / 2)
        self.kbuf = torch.randn(n, dtype=torch.float16, device=self.dev)
        self.vbuf = torch.randn(n, dtype=torch.float16, device=self.dev)

    # ---- timing ------------------------------------------------------------------------------
    def time_fn(self, fn, min_runs=MIN_RUNS):
        """Per-call GPU times (ms) of fn(), list of N samples (min_runs to MAX_RUNS of them)."""
        torch = self.torch
        ev = lambda: torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        s, e = ev(), ev()
        for i in range(WARMUP):
            if i == WARMUP - 1:
                s.record()
            fn()
        e.record()
        cpu_us = (time.perf_counter() - t0) / WARMUP * 1e6  # CPU enqueue cost per call
        torch.cuda.synchronize()
        t_warm = s.elapsed_time(e)
        n = max(min_runs, min(MAX_RUNS, int(TARGET_MS / max(t_warm, 1e-4))))
        starts = [ev() for _ in range(n)]
        ends = [ev() for _ in range(n)]
        if self.has_sleep:  # keep the GPU busy while the CPU enqueues all n calls
            sleep_us = min(20000.0, 1.5 * n * (cpu_us + 10.0) + 200.0)
            torch.cuda._sleep(int(sleep_us * 2000))  # ~2000 cycles per microsecond on an H100
        for i in range(n):
            starts[i].record()
            fn()
            ends[i].record()
        torch.cuda.synchronize()
        times = [a.elapsed_time(b) for a, b in zip(starts, ends)]
        gaps = [ends[i].elapsed_time(starts[i + 1]) for i in range(n - 1)]
        self.points += 1
        if gaps and max(gaps) > 0.01:  # GPU waited > 10 us for the CPU somewhere in the loop
            self.starved_points += 1
        return times

    def run_sdpa(self, kind, fn):
        """Time fn under the FLASH_ATTENTION backend; default dispatch if PyTorch refuses it."""
        if self.flash_ctx is not None:
            try:
                with self.flash_ctx():
                    fn()  # probe: raises "No available kernel" if flash cannot run this call
                use_flash = True
            except self.torch.cuda.OutOfMemoryError:
                raise
            except RuntimeError as exc:
                msg = str(exc).splitlines()[0][:160]
                self.fallbacks.setdefault(kind, [0, msg])[0] += 1
                use_flash = False
            if use_flash:
                with self.flash_ctx():
                    return self.time_fn(fn)
        return self.time_fn(fn)

    # ---- operators ---------------------------------------------------------------------------
    def kv(self, hkv, s, d, b=1):
        n = b * hkv * s * d
        return (self.kbuf[:n].view(b, hkv, s, d), self.vbuf[:n].view(b, hkv, s, d))

    def decode_fn(self, shape, b, kv):
        hq, hkv, d = shape
        q = self.torch.randn(b, hq, 1, d, dtype=self.torch.float16, device=self.dev)
        k, v = self.kv(hkv, kv + 1, d, b)
        gqa = hq != hkv
        F = self.F
        return (lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=gqa)), q, k, v

    def prefill_fn(self, shape, chunk, kv):
        hq, hkv, d = shape
        q = self.torch.randn(1, hq, chunk, d, dtype=self.torch.float16, device=self.dev)
        k, v = self.kv(hkv, kv + chunk, d)
        gqa = hq != hkv
        F = self.F
        if kv == 0:
            return (lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=gqa)), q, k, v
        if self.causal_lower_right is not None:
            mask = self.causal_lower_right(chunk, kv + chunk)
        else:  # query i (0-based) sees keys 0 .. kv + i
            t = self.torch
            mask = (t.arange(kv + chunk, device=self.dev)[None, :]
                    <= kv + t.arange(chunk, device=self.dev)[:, None])
        return (lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=gqa)), q, k, v

    def kv_save_fn(self, shape, n, decode):
        torch = self.torch
        hq, hkv, d = shape
        cache = torch.empty(KV_SAVE_NUM_BLOCKS * BLOCK_SIZE, 2, hkv, d, dtype=torch.float16, device=self.dev)
        qkv = torch.randn(n, (hq + 2 * hkv) * d, dtype=torch.float16, device=self.dev)
        new_kv = qkv[:, hq * d:].view(n, 2, hkv, d)  # strided view: K and V of each token
        blocks = torch.randperm(KV_SAVE_NUM_BLOCKS, device=self.dev)
        if decode:  # one token per sequence, each in its own block, at a random offset
            off = torch.randint(0, BLOCK_SIZE, (n,), device=self.dev)
            slots = blocks[:n] * BLOCK_SIZE + off
        else:  # consecutive tokens of one sequence through its block table
            i = torch.arange(n, device=self.dev)
            slots = blocks[i // BLOCK_SIZE] * BLOCK_SIZE + i % BLOCK_SIZE
        return (lambda: cache.index_copy_(0, slots, new_kv)), cache, slots, new_kv

    # ---- self-test ---------------------------------------------------------------------------
    def self_test(self):
        torch, F = self.torch, self.F
        ok = True

        def ref(q, k, v, mask):
            g = q.size(1) // k.size(1)
            kf = k.float().repeat_interleave(g, dim=1)
            vf = v.float().repeat_interleave(g, dim=1)
            sc = q.float() @ kf.transpose(-1, -2) / math.sqrt(q.size(-1))
            if mask is not None:
                sc = sc.masked_fill(~mask, float("-inf"))
            return torch.softmax(sc, -1) @ vf

        def check(label, out, r):
            nonlocal ok
            err = ((out.float() - r).norm() / r.norm()).item()
            good = err < 5e-3 and not math.isnan(err)
            ok = ok and good
            self.log("  self-test %-44s rel err %.2e %s" % (label, err, "ok" if good else "FAIL"))

        def run(fn):  # the same backend choice as run_sdpa
            if self.flash_ctx is not None:
                try:
                    with self.flash_ctx():
                        return fn(), "flash"
                except RuntimeError:
                    pass
            return fn(), "default"

        for shape in [(8, 2, 128), (8, 8, 80), (5, 5, 128), (8, 1, 128)]:
            hq, hkv, d = shape
            for chunk, kv in [(37, 0), (64, 100), (16, 256), (200, 50)]:
                fn, q, k, v = self.prefill_fn(shape, chunk, kv)
                out, path = run(fn)
                # reference mask: query i (0-based) sees keys 0 .. kv + i
                m = (torch.arange(kv + chunk, device=self.dev)[None, :]
                     <= kv + torch.arange(chunk, device=self.dev)[:, None])
                check("prefill %s chunk %d kv %d (%s)" % (shape, chunk, kv, path), out, ref(q, k, v, m))
            for b, kv in [(3, 70), (1, 1000)]:
                fn, q, k, v = self.decode_fn(shape, b, kv)
                out, path = run(fn)
                check("decode %s b %d kv %d (%s)" % (shape, b, kv, path), out, ref(q, k, v, None))
            for n, dec in [(5, True), (40, False)]:
                fn, cache, slots, new_kv = self.kv_save_fn(shape, n, dec)
                cache.fill_(0)
                fn()
                good = bool(torch.equal(cache[slots], new_kv)) and int(slots.unique().numel()) == n \
                    and int((cache != 0).any(-1).any(-1).any(-1).sum()) == n
                ok = ok and good
                self.log("  self-test kv_cache_save %s n %d decode %s: %s" % (shape, n, dec, "ok" if good else "FAIL"))
        torch.cuda.synchronize()
        return ok

    # ---- one shape ---------------------------------------------------------------------------
    def profile_shape(self, shape, deadline):
        """Returns (decode {(b, kv): stats}, prefill {(chunk, kv): stats},
        save {(n, decode): stats}, complete). A point that raises is logged and skipped."""
        dec, pre, save = {}, {}, {}
        jobs = ([("save", nd) for nd in sorted({(b, True) for b in DECODE_BS}
                                               | {(c, False) for c in PREFILL_CHUNK})]
                + [("decode", (b, kv)) for b, kv in decode_grid(shape)]
                + [("prefill", (c, kv)) for c, kv in prefill_grid()])
        for kind, key in jobs:
            if time.time() > deadline:
                return dec, pre, save, False
            try:
                if kind == "decode":
                    dec[key] = summarize(self.run_sdpa(kind, self.decode_fn(shape, *key)[0]))
                elif kind == "prefill":
                    pre[key] = summarize(self.run_sdpa(kind, self.prefill_fn(shape, *key)[0]))
                else:
                    save[key] = summarize(self.time_fn(self.kv_save_fn(shape, *key)[0]))
            except Exception as exc:  # e.g. out of memory: skip the point, keep going
                self.failed.append((shape, kind, key, str(exc).splitlines()[0][:160]))
                self.log("  FAILED %s %s %s: %s" % (shape, kind, key, self.failed[-1][3]))
                self.torch.cuda.synchronize()
                self.torch.cuda.empty_cache()
        self.torch.cuda.empty_cache()
        return dec, pre, save, True

    # ---- validation matmuls ------------------------------------------------------------------
    def validate(self, path):
        torch, F = self.torch, self.F
        rows = []
        for name in VALIDATION_MODELS:
            m = [x for x in MODELS if x[0] == name][0]
            _, e, hq, hkv, _, _ = m
            d, ffn = e // hq, VALIDATION_FFN[name]
            shapes = {  # op: (in_features, out_features), TP 1, gated MLP (gate and up fused)
                "attn_pre_proj": (e, (hq + 2 * hkv) * d),
                "attn_post_proj": (hq * d, e),
                "mlp_up_proj": (e, 2 * ffn),
                "mlp_down_proj": (ffn, e),
            }
            for op in VALIDATION_OPS:
                fin, fout = shapes[op]
                w = torch.randn(fout, fin, dtype=torch.float16, device=self.dev) * 0.02
                for t in VALIDATION_TOKENS:
                    x = torch.randn(t, fin, dtype=torch.float16, device=self.dev)
                    st = summarize(self.time_fn(lambda: F.linear(x, w)))
                    rows.append((name, op, t, fin, fout, st))
                    self.log("  %-28s %-15s tokens %5d  [%d x %d]  median %.4f ms" % (
                        name, op, t, fin, fout, st["median"]))
                del w
        with open(path, "w", newline="") as f:
            wr = csv.writer(f, lineterminator="\n")
            wr.writerow(["model", "op", "num_tokens", "in_features", "out_features",
                         "min_ms", "max_ms", "mean_ms", "median_ms", "std_ms"])
            for name, op, t, fin, fout, st in rows:
                wr.writerow([name, op, t, fin, fout] + [fmt(st[s]) for s in STATS])


# ----------------------------------------------------------------------------------------------
# mlp.csv operators (GPU)
# ----------------------------------------------------------------------------------------------
def make_fused_kernels(torch, log):
    """Fused kernels standing in for vLLM's (Vidur profiles vLLM's RMSNorm, rotary embedding and
    SiLU-and-mul, one kernel each): Triton versions, or composite torch ops if Triton is missing.
    Returns {name: callable} and the implementation name."""
    try:
        import triton
        import triton.language as tl
    except ImportError as exc:  # pragma: no cover - the device image has Triton
        log("Triton not available (%s): composite torch ops for rmsnorm, rope, silu_and_mul" % exc)
        return composite_kernels(torch), "torch composite ops"

    @triton.jit
    def _rmsnorm(x_ptr, w_ptr, y_ptr, n_cols, eps, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        cols = tl.arange(0, BLOCK)
        mask = cols < n_cols
        x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0).to(tl.float32)
        r = 1.0 / tl.sqrt(tl.sum(x * x, axis=0) / n_cols + eps)
        w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
        tl.store(y_ptr + row * n_cols + cols, (x * r * w).to(tl.float16), mask=mask)

    @triton.jit
    def _rope(qkv_ptr, pos_ptr, cs_ptr, row_stride, n_heads, NH: tl.constexpr, HALF: tl.constexpr,
              HP: tl.constexpr):
        # NeoX-style rotation, in place, of the q and k heads at the start of one token's qkv row;
        # HP = HALF rounded up to a power of two (tl.arange needs one; phi-2's head_dim is 80)
        tok = tl.program_id(0).to(tl.int64)
        pos = tl.load(pos_ptr + tok).to(tl.int64)
        h = tl.arange(0, NH)[:, None]
        o = tl.arange(0, HP)[None, :]
        mask = (h < n_heads) & (o < HALF)
        cos = tl.load(cs_ptr + pos * (2 * HALF) + o, mask=o < HALF, other=0.0)
        sin = tl.load(cs_ptr + pos * (2 * HALF) + HALF + o, mask=o < HALF, other=0.0)
        p = qkv_ptr + tok * row_stride + h * (2 * HALF) + o
        x1 = tl.load(p, mask=mask, other=0.0).to(tl.float32)
        x2 = tl.load(p + HALF, mask=mask, other=0.0).to(tl.float32)
        tl.store(p, (x1 * cos - x2 * sin).to(tl.float16), mask=mask)
        tl.store(p + HALF, (x2 * cos + x1 * sin).to(tl.float16), mask=mask)

    @triton.jit
    def _silu_mul(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
        mask = cols < n
        g = tl.load(x_ptr + row * 2 * n + cols, mask=mask, other=0.0).to(tl.float32)
        u = tl.load(x_ptr + row * 2 * n + n + cols, mask=mask, other=0.0).to(tl.float32)
        tl.store(y_ptr + row * n + cols, (g / (1.0 + tl.exp(-g)) * u).to(y_ptr.dtype.element_ty), mask=mask)

    def rmsnorm(x, w, out, eps=1e-6):
        t, n = x.shape
        blk = triton.next_power_of_2(n)
        _rmsnorm[(t,)](x, w, out, n, eps, BLOCK=blk, num_warps=8 if blk >= 4096 else 4)
        return out

    def rope(qkv, positions, cos_sin, n_heads, head_dim):
        t = qkv.shape[0]
        nh = triton.next_power_of_2(n_heads)
        _rope[(t,)](qkv, positions, cos_sin, qkv.stride(0), n_heads, NH=nh, HALF=head_dim // 2,
                    HP=triton.next_power_of_2(head_dim // 2), num_warps=4 if nh * head_dim <= 4096 else 8)
        return qkv

    def silu_and_mul(x, out):
        t, n = out.shape
        _silu_mul[(t, triton.cdiv(n, 1024))](x, out, n, BLOCK=1024, num_warps=4)
        return out

    return {"rmsnorm": rmsnorm, "rope": rope, "silu_and_mul": silu_and_mul}, \
        "Triton %s kernels" % triton.__version__


def composite_kernels(torch):
    def rmsnorm(x, w, out, eps=1e-6):
        xf = x.float()
        out.copy_((xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * w.float()).half())
        return out

    def rope(qkv, positions, cos_sin, n_heads, head_dim):
        half = head_dim // 2
        t = qkv.shape[0]
        x = qkv[:, :n_heads * head_dim].view(t, n_heads, head_dim)
        cs = cos_sin[positions]
        cos, sin = cs[:, None, :half].float(), cs[:, None, half:].float()
        x1, x2 = x[..., :half].float(), x[..., half:].float()
        r1, r2 = x1 * cos - x2 * sin, x2 * cos + x1 * sin
        x[..., :half] = r1.half()
        x[..., half:] = r2.half()
        return qkv

    def silu_and_mul(x, out):
        n = out.shape[1]
        out.copy_(torch.nn.functional.silu(x[:, :n]) * x[:, n:])
        return out

    return {"rmsnorm": rmsnorm, "rope": rope, "silu_and_mul": silu_and_mul}


def rope_cache(torch, head_dim, positions, dev):
    """[positions, head_dim] float32: cos of each position's rotation angles, then sin (base 10000)"""
    inv = 1.0 / (10000.0 ** (torch.arange(0, head_dim, 2, device=dev).float() / head_dim))
    fr = torch.arange(positions, device=dev).float()[:, None] * inv[None, :]
    return torch.cat([fr.cos(), fr.sin()], dim=-1).contiguous()


def fused_self_test(torch, k, log):
    """The fused kernels against composite float references; True when all agree."""
    ref = composite_kernels(torch)
    dev = torch.device("cuda")
    ok = True
    g = torch.Generator(device=dev).manual_seed(1)
    for t, e in [(1, 4096), (37, 6144), (300, 2560)]:
        x = torch.randn(t, e, device=dev, dtype=torch.float16, generator=g)
        w = torch.rand(e, device=dev, dtype=torch.float16, generator=g) + 0.5
        a, b = k["rmsnorm"](x, w, torch.empty_like(x)), ref["rmsnorm"](x, w, torch.empty_like(x))
        err = ((a.float() - b.float()).norm() / b.float().norm()).item()
        ok = ok and err < 2e-3
        log("  self-test rmsnorm t %d e %d: rel err %.1e" % (t, e, err))
    for t, hq, hkv, d in [(1, 32, 8, 128), (45, 48, 8, 128), (19, 6, 1, 128), (7, 32, 32, 80)]:
        qkv = torch.randn(t, (hq + 2 * hkv) * d, device=dev, dtype=torch.float16, generator=g)
        pos = torch.randint(0, 4096, (t,), device=dev, generator=g)
        cs = rope_cache(torch, d, 4096, dev)
        a, b = qkv.clone(), qkv.clone()
        k["rope"](a, pos, cs, hq + hkv, d)
        ref["rope"](b, pos, cs, hq + hkv, d)
        err = ((a.float() - b.float()).norm() / b.float().norm()).item()
        same_v = bool(torch.equal(a[:, (hq + hkv) * d:], qkv[:, (hq + hkv) * d:]))
        ok = ok and err < 2e-3 and same_v
        log("  self-test rope t %d heads %d+%d d %d: rel err %.1e, v untouched %s" % (t, hq, hkv, d, err, same_v))
    for t, n in [(1, 14336), (33, 2048), (5, 1000)]:
        x = torch.randn(t, 2 * n, device=dev, dtype=torch.float16, generator=g)
        a = k["silu_and_mul"](x, torch.empty(t, n, device=dev, dtype=torch.float16))
        b = ref["silu_and_mul"](x, torch.empty(t, n, device=dev, dtype=torch.float16))
        err = ((a.float() - b.float()).norm() / b.float().norm()).item()
        ok = ok and err < 2e-3
        log("  self-test silu_and_mul t %d n %d: rel err %.1e" % (t, n, err))
    torch.cuda.synchronize()
    return ok


class LayerBuffers:
    """One layer's weights (one GPU's shard at TP tp, fp16, random) and activation buffers for up
    to tmax tokens, shared by the mlp sweep and the whole-layer check."""

    def __init__(self, prof, model, tp, tmax, seed):
        torch = prof.torch
        name, e, hq, hkv, _, _ = model
        ffn, vocab, self.gated = MLP_SPECS[name]
        self.d = d = e // hq
        self.hq_t, self.hkv_t, self.f_t, v_t = hq // tp, -(-hkv // tp), ffn // tp, -(-vocab // tp)
        dev, h = prof.dev, torch.float16
        g = torch.Generator(device=dev).manual_seed(seed)
        rnd = lambda *sz: torch.randn(*sz, device=dev, dtype=h, generator=g)
        up = (2 if self.gated else 1) * self.f_t
        self.w_emb, self.w_qkv = rnd(v_t, e) * 0.02, rnd((self.hq_t + 2 * self.hkv_t) * d, e) * 0.02
        self.w_o, self.w_up, self.w_down = rnd(e, self.hq_t * d) * 0.02, rnd(up, e) * 0.02, rnd(e, self.f_t) * 0.02
        self.w_norm = torch.ones(e, device=dev, dtype=h)
        self.ids = torch.randint(0, v_t, (tmax,), device=dev, generator=g)
        self.x, self.res = rnd(tmax, e), rnd(tmax, e)
        self.y, self.z = torch.empty_like(self.x), torch.empty_like(self.x)
        self.qkv, self.attn_out = rnd(tmax, (self.hq_t + 2 * self.hkv_t) * d), rnd(tmax, self.hq_t * d)
        self.gu, self.act = rnd(tmax, up), torch.empty(tmax, self.f_t, device=dev, dtype=h)
        self.positions = torch.arange(tmax, device=dev)
        self.cos_sin = rope_cache(torch, d, tmax, dev)
        # an FP8 checkpoint's GEMMs: FP8 weights (per output channel), activations quantised per token
        self.fp8 = name in FP8_MODELS
        if self.fp8:
            self.q_qkv, self.q_o = Fp8Linear(torch, self.w_qkv), Fp8Linear(torch, self.w_o)
            self.q_up, self.q_down = Fp8Linear(torch, self.w_up), Fp8Linear(torch, self.w_down)


def profile_mlp(prof, model, tp, tokens, deadline):
    """Times the ten mlp.csv operators of one layer of `model` at TP `tp` (one GPU's shard, fp16)
    for every token count; returns ({num_tokens: {op: stats}}, complete)."""
    torch, F = prof.torch, prof.F
    name = model[0]
    B = LayerBuffers(prof, model, tp, max(tokens), seed=tp)
    k, d, gated = prof.fused, B.d, B.gated
    w_emb, w_qkv, w_o, w_up, w_down, w_norm = B.w_emb, B.w_qkv, B.w_o, B.w_up, B.w_down, B.w_norm
    ids, x, res, y, z, qkv, attn_out, gu, act = B.ids, B.x, B.res, B.y, B.z, B.qkv, B.attn_out, B.gu, B.act
    positions, cos_sin, hq_t, hkv_t = B.positions, B.cos_sin, B.hq_t, B.hkv_t
    out = {}
    for t in tokens:
        if time.time() > deadline:
            return out, False
        fns = {
            "emb": lambda: F.embedding(ids[:t], w_emb),
            "input_layernorm": lambda: k["rmsnorm"](x[:t], w_norm, y[:t]),
            "attn_pre_proj": lambda: F.linear(x[:t], w_qkv),
            "attn_rope": lambda: k["rope"](qkv[:t], positions[:t], cos_sin, hq_t + hkv_t, d),
            "attn_post_proj": lambda: F.linear(attn_out[:t], w_o),
            "post_attention_layernorm": lambda: k["rmsnorm"](x[:t], w_norm, y[:t]),
            "mlp_up_proj": lambda: F.linear(x[:t], w_up),
            "mlp_act": (lambda: k["silu_and_mul"](gu[:t], act[:t])) if gated
            else (lambda: F.gelu(gu[:t], approximate="tanh")),
            "mlp_down_proj": lambda: F.linear(act[:t], w_down),
            "add": lambda: torch.add(x[:t], res[:t], out=z[:t]),
        }
        if B.fp8:
            fns["attn_pre_proj"] = lambda: B.q_qkv(x[:t])
            fns["attn_post_proj"] = lambda: B.q_o(attn_out[:t])
            fns["mlp_up_proj"] = lambda: B.q_up(x[:t])
            fns["mlp_down_proj"] = lambda: B.q_down(act[:t])
        try:
            out[t] = {op: summarize(prof.time_fn(fns[op], min_runs=MLP_MIN_RUNS)) for op in MLP_OPS}
        except Exception as exc:  # e.g. out of memory: skip the point, keep going
            prof.failed.append(((name, tp), "mlp", t, str(exc).splitlines()[0][:160]))
            prof.log("  FAILED %s TP%d tokens %d: %s" % (name, tp, t, prof.failed[-1][3]))
            torch.cuda.synchronize()
    del B, w_emb, w_qkv, w_o, w_up, w_down, ids, x, res, y, z, qkv, attn_out, gu, act
    torch.cuda.empty_cache()
    return out, True


# ----------------------------------------------------------------------------------------------
# FP8 GEMMs and MoE layers (GPU; ours: moe.csv, and FP8 checkpoints in mlp.csv)
# ----------------------------------------------------------------------------------------------
FP8_MAX = 448.0  # the largest finite float8_e4m3fn


def fp8_quant_rows(torch, x):
    """Dynamic per-row FP8 quantisation, as vLLM's W8A8 FP8 path quantises activations per token
    before each GEMM (and, once, weights per output channel): (x_fp8, scale [rows, 1] float32)
    with x ~= x_fp8 * scale."""
    sc = x.abs().amax(dim=-1, keepdim=True).float().clamp(min=1e-12) / FP8_MAX
    return (x.float() / sc).to(torch.float8_e4m3fn), sc


class Fp8Linear:
    """y = x W^T with W in FP8 e4m3 (a scale per output channel) and x quantised per token on the
    fly: the GEMM of a compressed-tensors FP8-dynamic checkpoint (torch._scaled_mm with row-wise
    scales; bf16 output, which row-wise scaling requires)."""

    def __init__(self, torch, w):
        self.torch = torch
        self.w, ws = fp8_quant_rows(torch, w)  # [out, in]; its transpose is the column-major operand
        self.ws = ws.t().contiguous()           # [1, out]

    def __call__(self, x):
        torch = self.torch
        xq, xs = fp8_quant_rows(torch, x)
        return torch._scaled_mm(xq, self.w.t(), scale_a=xs, scale_b=self.ws, out_dtype=torch.bfloat16)


class GroupedGemm:
    """The experts' GEMMs of one MoE layer on one GPU: the routed rows of `a`, sorted by expert
    (expert g owns rows offs[g-1] .. offs[g]), times each expert's weight w[g] ([N, K], as
    nn.Linear stores it). As one grouped kernel (torch._grouped_mm for 16-bit weights,
    torch._scaled_grouped_mm for FP8: the CUTLASS grouped-GEMM class that production MoE kernels
    use) when this PyTorch has it and it passes the self-test; else one GEMM per expert that
    received rows. FP8 weights: quantised per output channel once; the rows are quantised per
    token on the fly (in the time), as vLLM's fused_moe does."""

    def __init__(self, torch, log):
        self.torch, self.log = torch, log
        self.backend = {"16": "per-expert torch.mm", "fp8": "per-expert torch._scaled_mm"}

    def prepare(self, w, fp8):
        torch = self.torch
        if not fp8:
            return ("16", w)
        g, n, k = w.shape
        wq, ws = fp8_quant_rows(torch, w.reshape(g * n, k))
        return ("fp8", wq.view(g, n, k), ws.view(g, n))

    def mm(self, a, wp, offs, offs_list, backend=None):
        """[rows, N] bf16: each row times its expert's weight."""
        torch = self.torch
        kind = wp[0]
        backend = backend or self.backend[kind]
        if kind == "16":
            w = wp[1]
            if backend.startswith("torch._grouped_mm"):
                return torch._grouped_mm(a, w.transpose(-2, -1), offs=offs)
            out = torch.empty(a.shape[0], w.shape[1], dtype=torch.bfloat16, device=a.device)
            s = 0
            for g, e in enumerate(offs_list):
                if e > s:
                    torch.mm(a[s:e], w[g].t(), out=out[s:e])
                s = e
            return out
        wq, ws = wp[1], wp[2]
        aq, sa = fp8_quant_rows(torch, a)
        if backend.startswith("torch._scaled_grouped_mm"):
            return torch._scaled_grouped_mm(aq, wq.transpose(-2, -1), sa.squeeze(1), ws, offs=offs, out_dtype=torch.bfloat16)
        out = torch.empty(a.shape[0], wq.shape[1], dtype=torch.bfloat16, device=a.device)
        s = 0
        for g, e in enumerate(offs_list):
            if e > s:
                out[s:e] = torch._scaled_mm(aq[s:e], wq[g].t(), scale_a=sa[s:e], scale_b=ws[g:g + 1],
                                            out_dtype=torch.bfloat16)
            s = e
        return out

    def self_test(self, dev):
        """Each backend against a float32 reference on a small ragged case; the grouped kernels are
        used only where they run and agree. True when the per-expert path agrees."""
        torch = self.torch
        g = torch.Generator(device=dev).manual_seed(5)
        ok = True
        for kind, tol in (("16", 2e-2), ("fp8", 8e-2)):
            counts = [7, 0, 33, 16, 1, 0, 64, 5]
            m, k, n = sum(counts), 256, 384
            a = torch.randn(m, k, device=dev, dtype=torch.bfloat16, generator=g)
            w = torch.randn(len(counts), n, k, device=dev, dtype=torch.bfloat16, generator=g) * 0.05
            offs_list = list(torch.tensor(counts).cumsum(0).tolist())
            offs = torch.tensor(offs_list, dtype=torch.int32, device=dev)
            ref = torch.empty(m, n, device=dev)
            s = 0
            for i, e in enumerate(offs_list):
                ref[s:e] = a[s:e].float() @ w[i].float().t()
                s = e
            wp = self.prepare(w, kind == "fp8")
            cands = ["per-expert " + ("torch.mm" if kind == "16" else "torch._scaled_mm")]
            grouped = "torch._grouped_mm" if kind == "16" else "torch._scaled_grouped_mm"
            if hasattr(torch, grouped.split(".")[1]):
                cands.append(grouped + " (one grouped kernel)")
            for b in cands:
                try:
                    y = self.mm(a, wp, offs, offs_list, backend=b)
                    err = ((y.float() - ref).norm() / ref.norm()).item()
                    good = err < tol
                except Exception as exc:  # not built for this GPU, or another signature
                    err, good = float("nan"), False
                    self.log("  self-test moe grouped GEMM %s %s: raised %s" % (kind, b, str(exc).splitlines()[0][:160]))
                self.log("  self-test moe grouped GEMM %s %-45s rel err %.2e %s" % (kind, b, err, "ok" if good else "FAIL"))
                if b.startswith("per-expert"):
                    ok = ok and good
                elif good:
                    self.backend[kind] = b
        torch.cuda.synchronize()
        return ok


def setup_fp8(args, prof, log):
    """Checks FP8 support and Fp8Linear against a float reference, once per run."""
    if getattr(prof, "fp8_ok", None):
        return
    torch = prof.torch
    cap = torch.cuda.get_device_capability()
    if not hasattr(torch, "float8_e4m3fn") or not hasattr(torch, "_scaled_mm") or cap < (8, 9):
        raise SystemExit("vidur-profile: FP8 GEMMs need torch.float8_e4m3fn and torch._scaled_mm on a GPU of compute "
                         "capability 8.9 or more (this one: %d.%d)" % cap)
    g = torch.Generator(device=prof.dev).manual_seed(3)
    x = torch.randn(37, 512, device=prof.dev, dtype=torch.float16, generator=g)
    w = torch.randn(768, 512, device=prof.dev, dtype=torch.float16, generator=g) * 0.05
    y = Fp8Linear(torch, w)(x).float()
    ref = x.float() @ w.float().t()
    err = ((y - ref).norm() / ref.norm()).item()
    log("  self-test FP8 linear 37 x 512 x 768: rel err %.2e %s" % (err, "ok" if err < 8e-2 else "FAIL"))
    if not err < 8e-2:
        raise SystemExit("vidur-profile: the FP8 GEMM failed its self-test")
    prof.fp8_ok = True


def setup_moe(args, prof, log):
    """prof.grouped (GroupedGemm) after its self-test; the fused activation; FP8 when a swept model
    needs it; vLLM's fused_experts for the comparison column when vLLM is installed."""
    setup_fused(args, prof, log)
    prof.grouped = GroupedGemm(prof.torch, log)
    if not prof.grouped.self_test(prof.dev):
        raise SystemExit("vidur-profile: the per-expert GEMMs failed their self-test")
    try:
        from vllm.model_executor.layers.fused_moe import fused_experts  # the engine's own MoE kernel
        prof.vllm_fused_experts = fused_experts
        log("vLLM fused_experts found: timed as a whole beside our operators (moe_fused_experts column)")
    except Exception as exc:  # vLLM absent (the usual case): the column stays empty
        prof.vllm_fused_experts = None
        log("vLLM fused_experts not available (%s): moe_fused_experts column empty" % str(exc).splitlines()[0][:120])
    log("MoE grouped GEMMs: 16-bit = %s, FP8 = %s" % (prof.grouped.backend["16"], prof.grouped.backend["fp8"]))


def profile_moe(prof, name, tp, ep, tokens, deadline):
    """The MoE layer's operators of `name` on one GPU (EP rank 0) at TP tp and EP ep, for every token
    count: moe_gate (router GEMM in 16 bits, softmax, top-k), moe_up_proj (gather of the routed rows
    and the experts' gate/up GEMMs), moe_act (SiLU-and-mul), moe_down_proj (the experts' down GEMMs
    and the top-k weighted sum into the tokens' outputs), moe_shared_mlp (the shared expert: up, act,
    down). Routing: each token picks k of the n experts uniformly at random (a balanced router; the
    imbalance of real routers is vidur.h's moe_imbalance_factor); this GPU holds experts 0 .. n/ep - 1
    and receives the pairs that chose them. Returns ({num_tokens: ({op: stats}, fused_median)},
    complete)."""
    torch, F = prof.torch, prof.F
    e, n, k, ffn, shared, dtype = MOE_SPECS[name]
    fp8 = dtype == "fp8"
    nl, fl, fs = moe_local_shape(name, tp, ep)
    dev, bf = prof.dev, torch.bfloat16
    gen = torch.Generator(device=dev).manual_seed(100 * tp + ep)
    rnd = lambda *sz: torch.randn(*sz, device=dev, dtype=bf, generator=gen)
    tmax = max(tokens)
    gg, act = prof.grouped, prof.fused["silu_and_mul"]
    x = rnd(tmax, e)
    w_gate = rnd(n, e) * 0.02                 # the router is left out of FP8 quantisation
    w13, w2 = rnd(nl, 2 * fl, e) * 0.02, rnd(nl, e, fl) * 0.02
    w13p, w2p = gg.prepare(w13, fp8), gg.prepare(w2, fp8)
    if fs:
        ws13, ws2 = rnd(2 * fs, e) * 0.02, rnd(e, fs) * 0.02
        if fp8:
            s_up, s_down = Fp8Linear(torch, ws13), Fp8Linear(torch, ws2)
        else:
            s_up, s_down = (lambda a: F.linear(a, ws13)), (lambda a: F.linear(a, ws2))
        s_act = torch.empty(tmax, fs, device=dev, dtype=bf)
    emap = torch.full((n,), -1, dtype=torch.int32, device=dev)
    emap[:nl] = torch.arange(nl, dtype=torch.int32, device=dev)
    fused = prof.vllm_fused_experts if not fp8 else None
    out = {}
    for t in tokens:
        if time.time() > deadline:
            return out, False
        try:
            ids = torch.rand(t, n, device=dev, generator=gen).topk(k, dim=1).indices        # [t, k]
            wts = torch.rand(t, k, device=dev, generator=gen) + 0.1
            wts = wts / wts.sum(dim=1, keepdim=True)
            flat = ids.reshape(-1)
            local = (flat < nl).nonzero().squeeze(1)                                           # this GPU's pairs
            pos = local[flat[local].argsort(stable=True)]                                      # sorted by expert
            tok = pos // k
            offs_list = torch.bincount(flat[pos], minlength=nl).cumsum(0).tolist()
            offs = torch.tensor(offs_list, dtype=torch.int32, device=dev)
            m = int(pos.numel())
            row_w = wts.reshape(-1)[pos].to(bf)[:, None]
            xt = x[:t]
            a = torch.empty(max(m, 1), fl, device=dev, dtype=bf)
            o = torch.empty(t, e, device=dev, dtype=bf)
            hd = {}  # the up projection's output, read by the activation (timed in this order)
            fns = {"moe_gate": lambda: torch.topk(torch.softmax(F.linear(xt, w_gate).float(), dim=-1), k, dim=-1)}
            if m:
                fns["moe_up_proj"] = lambda: hd.__setitem__("h", gg.mm(xt.index_select(0, tok), w13p, offs, offs_list))
                fns["moe_act"] = lambda: act(hd["h"], a[:m])
                fns["moe_down_proj"] = lambda: o.zero_().index_add_(0, tok, gg.mm(a[:m], w2p, offs, offs_list) * row_w)
            if fs:
                fns["moe_shared_mlp"] = lambda: s_down(act(s_up(xt), s_act[:t]))
            st = {op: summarize(prof.time_fn(fn, min_runs=MLP_MIN_RUNS)) for op, fn in fns.items()}
            for op in ("moe_up_proj", "moe_act", "moe_down_proj"):
                st.setdefault(op, ZERO_STATS)  # no routed row reached this GPU: nothing to run
            fmed = None
            if fused is not None:
                try:
                    ids32 = ids.to(torch.int32)
                    fmed = statistics.median(prof.time_fn(lambda: fused(xt, w13, w2, topk_weights=wts, topk_ids=ids32,
                                                                        global_num_experts=n, expert_map=emap)))
                except Exception as exc:  # another vLLM signature: keep the column empty from now on
                    prof.log("  vLLM fused_experts failed (%s): column left empty" % str(exc).splitlines()[0][:160])
                    fused = prof.vllm_fused_experts = None
            out[t] = (st, fmed)
        except Exception as exc:  # e.g. out of memory: skip the point, keep going
            prof.failed.append(((name, tp, ep), "moe", t, str(exc).splitlines()[0][:160]))
            prof.log("  FAILED %s TP%d EP%d tokens %d: %s" % (name, tp, ep, t, prof.failed[-1][3]))
            torch.cuda.synchronize()
    del x, w13, w2, w13p, w2p
    torch.cuda.empty_cache()
    return out, True


def measure_moe(args, prof, log, deadline):
    sweeps = parse_moe_sweeps(args.moe)
    tokens = moe_tokens(args.moe_max_tokens)[::args.mlp_token_stride]
    if any(MOE_SPECS[nm][5] == "fp8" for nm, _, _ in sweeps):
        setup_fp8(args, prof, log)
    setup_moe(args, prof, log)
    log("moe operators: %d token counts from %d to %d" % (len(tokens), tokens[0], tokens[-1]))
    path = os.path.join(args.out_dir, "h100_moe.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["model"] + MOE_COLUMNS)
        for name, tp, ep in sweeps:
            t0 = time.time()
            res, complete = profile_moe(prof, name, tp, ep, tokens, deadline)
            fp8 = MOE_SPECS[name][5] == "fp8"
            backend = prof.grouped.backend["fp8" if fp8 else "16"]
            for t in sorted(res):
                st, fmed = res[t]
                w.writerow(moe_row(name, tp, ep, t, st, fmed, backend))
            f.flush()
            log("moe %s TP%d EP%d: %d token counts, %.1f s%s" % (name, tp, ep, len(res), time.time() - t0,
                                                            "" if complete else " (CUT SHORT by --time-limit-s)"))
            log("  gpu now: " + gpu_clocks())
            if not complete:
                log("stopping moe: time limit reached; later sweeps not measured")
                break


# ----------------------------------------------------------------------------------------------
# Whole-layer check (--layers): one layer's operators run back to back, against their sum
# ----------------------------------------------------------------------------------------------
# A batch: (decode (batch_size, context) or None, [(prefill chunk, context before it), ...]).
LAYER_BATCHES = [
    ((1, 512), []), ((8, 512), []), ((32, 512), []), ((128, 512), []),
    ((1, 2048), []), ((8, 2048), []), ((32, 2048), []), ((128, 2048), []),
    (None, [(128, 0)]), (None, [(512, 0)]), (None, [(2048, 0)]), (None, [(512, 1024)]),
    ((32, 1024), [(512, 0)]), ((64, 2048), [(256, 512)]), ((8, 512), [(2048, 0)]),
    ((16, 1024), [(1024, 3072)]),
    (None, [(512, 0), (256, 0)]), ((16, 1024), [(1024, 0), (1024, 0)]), ((64, 1024), [(128, 0), (384, 256)]),
]
LAYER_MODELS = ["meta-llama/Meta-Llama-3-8B", "meta-llama/Llama-2-7b-hf", "internlm/internlm2-20b"]
LAYER_OPS = ["input_layernorm", "attn_pre_proj", "attn_rope", "attn_kv_cache_save", "attn_prefill", "attn_decode",
             "attn_post_proj", "post_attention_layernorm", "mlp_up_proj", "mlp_act", "mlp_down_proj", "add"]
LAYER_COLUMNS = ["model", "tp", "decode", "prefill", "num_tokens", "layer_median_ms", "layer_min_ms",
                 "sum_of_ops_ms"] + ["%s_ms" % op for op in LAYER_OPS]  # attn_prefill: all prefills


def batch_desc(batch):
    dec, pre = batch
    d = "%dx%d" % dec if dec else ""
    return d, " ".join("1x%d@%d" % c for c in pre)


def profile_layers(prof, model, tp):
    """Per batch of LAYER_BATCHES: the median time of the layer's operators enqueued back to back
    (the composition of execution_time.md: input_layernorm, attn_pre_proj, attn_rope,
    attn_kv_cache_save, each prefill's attention, the decode attention, attn_post_proj,
    post_attention_layernorm, mlp_up_proj, mlp_act, mlp_down_proj and one add), and the sum of the
    same operators' medians timed one by one, as the profiles are."""
    torch, F = prof.torch, prof.F
    name, e, hq, hkv, _, _ = model
    shape = per_gpu_shape(e, hq, hkv, tp)
    tmax = max((b[0][0] if b[0] else 0) + sum(c for c, _ in b[1]) for b in LAYER_BATCHES)
    B = LayerBuffers(prof, model, tp, tmax, seed=7)
    k, d, hq_t, hkv_t = prof.fused, B.d, B.hq_t, B.hkv_t
    w_qkv, w_o, w_up, w_down, w_norm = B.w_qkv, B.w_o, B.w_up, B.w_down, B.w_norm
    x, res, y, attn_out, act = B.x, B.res, B.y, B.attn_out, B.act
    positions, cos_sin = B.positions, B.cos_sin
    rows = []
    for batch in LAYER_BATCHES:
        dec, pre = batch
        t = (dec[0] if dec else 0) + sum(c for c, _ in pre)
        hd = {}  # intermediate outputs, read by the next operator
        ops = [
            ("input_layernorm", lambda: k["rmsnorm"](x[:t], w_norm, y[:t])),
            ("attn_pre_proj", lambda: hd.__setitem__("qkv", F.linear(y[:t], w_qkv))),
            ("attn_rope", lambda: k["rope"](hd["qkv"], positions[:t], cos_sin, hq_t + hkv_t, d)),
            ("attn_kv_cache_save", prof.kv_save_fn(shape, t, not pre)[0]),
        ]
        for c, kv in pre:
            ops.append(("attn_prefill", prof.prefill_fn(shape, c, kv)[0]))
        if dec:
            ops.append(("attn_decode", prof.decode_fn(shape, dec[0], dec[1])[0]))
        ops += [
            ("attn_post_proj", lambda: hd.__setitem__("o", F.linear(attn_out[:t], w_o))),
            ("post_attention_layernorm", lambda: k["rmsnorm"](hd["o"], w_norm, y[:t])),
            ("mlp_up_proj", lambda: hd.__setitem__("gu", F.linear(y[:t], w_up))),
            ("mlp_act", lambda: k["silu_and_mul"](hd["gu"], act[:t])),
            ("mlp_down_proj", lambda: hd.__setitem__("down", F.linear(act[:t], w_down))),
            ("add", lambda: torch.add(hd["down"], res[:t], out=x[:t])),
        ]
        fns = [f for _, f in ops]

        def layer():
            for f in fns:
                f()
        flash = prof.flash_ctx() if prof.flash_ctx is not None else None
        if flash is not None:
            flash.__enter__()
        try:
            layer()  # creates the intermediate tensors the later operators read
            lt = prof.time_fn(layer)
            parts = [statistics.median(prof.time_fn(f)) for f in fns]
        finally:
            if flash is not None:
                flash.__exit__(None, None, None)
        ds, ps = batch_desc(batch)
        by_op = {op: 0.0 for op in LAYER_OPS}
        for (op, _), v in zip(ops, parts):
            by_op[op] += v
        rows.append([name, str(tp), ds, ps, str(t), fmt(statistics.median(lt)), fmt(min(lt)), fmt(sum(parts))]
                    + [fmt(by_op[op]) for op in LAYER_OPS])
        prof.log("  layer %s TP%d decode %-8s prefill %-22s T %5d: layer %.4f ms, sum of ops %.4f ms (%.3f)" % (
            name, tp, ds or "-", ps or "-", t, statistics.median(lt), sum(parts), statistics.median(lt) / sum(parts)))
    del B, w_qkv, w_o, w_up, w_down, x, res, y, attn_out, act
    torch.cuda.empty_cache()
    return rows


def measure_layers(args, prof, log):
    log("whole layers: rmsnorm / rope / silu_and_mul = %s" % setup_fused(args, prof, log))
    path = os.path.join(args.out_dir, "h100_layers.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(LAYER_COLUMNS)
        for name in LAYER_MODELS:
            model = [m for m in MODELS if m[0] == name][0]
            for row in profile_layers(prof, model, 1):
                w.writerow(row)
            f.flush()


def gpu_clocks():
    try:
        return subprocess.run(
            ["nvidia-smi", "--query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu,"
             "clocks_event_reasons.active", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as exc:
        return "nvidia-smi failed: %s" % exc


def write_env(path, stage, log):
    lines = ["== %s (%s)" % (stage, time.strftime("%Y-%m-%d %H:%M:%S %Z"))]
    try:
        import torch
        p = torch.cuda.get_device_properties(0)
        lines += ["torch %s, CUDA %s, cuDNN %s" % (torch.__version__, torch.version.cuda,
                                                   torch.backends.cudnn.version()),
                  "GPU %s, %d SMs, %.1f GiB, capability %d.%d" % (
                      p.name, p.multi_processor_count, p.total_memory / 2**30, p.major, p.minor),
                  "python %s" % sys.version.split()[0]]
    except Exception as exc:  # pragma: no cover
        lines.append("torch not available: %s" % exc)
    for cmd in (["nvidia-smi"],
                ["nvidia-smi", "--query-gpu=name,driver_version,clocks.sm,clocks.mem,clocks.max.sm,"
                 "clocks.max.mem,power.draw,power.limit,temperature.gpu,pstate",
                 "--format=csv"],
                ["nvidia-smi", "-q", "-d", "CLOCK,PERFORMANCE"]):
        try:
            lines.append("$ " + " ".join(cmd))
            lines.append(subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout)
        except Exception as exc:
            lines.append("failed: %s" % exc)
    with open(path, "a") as f:
        f.write("\n".join(lines) + "\n")


def setup_fused(args, prof, log):
    """prof.fused: the Triton kernels if they pass their self-test, else (unless --require-fused)
    composite torch ops; returns the implementation's name. Done once per run."""
    if getattr(prof, "fused_impl", None):
        return prof.fused_impl
    torch = prof.torch
    prof.fused, impl = make_fused_kernels(torch, log)
    log("fused kernels: %s; self-test:" % impl)
    try:
        fused_ok = fused_self_test(torch, prof.fused, log)
    except Exception as exc:  # a Triton compile error, say: measure with the composite ops
        log("fused-kernel self-test raised: %s" % str(exc).splitlines()[0][:300])
        fused_ok = False
    if not fused_ok and args.require_fused:
        raise SystemExit("vidur-profile: the fused kernels failed their self-test (--require-fused)")
    if not fused_ok:
        log("fused-kernel self-test FAILED: composite torch ops used instead")
        prof.fused, impl = composite_kernels(torch), "torch composite ops (fused kernels failed)"
    prof.fused_impl = impl
    return impl


def measure_mlp(args, prof, log, deadline):
    sweeps = parse_sweeps(args.mlp)
    tokens = mlp_tokens(args.mlp_max_tokens)[::args.mlp_token_stride]
    impl = setup_fused(args, prof, log)
    log("mlp operators: rmsnorm / rope / silu_and_mul = %s; GEMMs = torch.nn.functional.linear "
        "(cuBLAS), fp16; %d token counts from %d to %d" % (impl, len(tokens), tokens[0], tokens[-1]))
    if any(m[0] in FP8_MODELS for m, _ in sweeps):
        setup_fp8(args, prof, log)
        log("FP8 models (%s): GEMMs as torch._scaled_mm, FP8 e4m3 weights with per-channel scales, activations "
            "quantised per token on the fly (in the time), bf16 output" % ", ".join(sorted(FP8_MODELS)))
    path = os.path.join(args.out_dir, "h100_mlp.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["model"] + MLP_COLUMNS)
        for model, tp in sweeps:
            t0 = time.time()
            res, complete = profile_mlp(prof, model, tp, tokens, deadline)
            for t in sorted(res):
                w.writerow(mlp_row(model, tp, t, res[t]))
            f.flush()
            extra = ""
            if res:
                tb = max(res)
                ffn, _, gated = MLP_SPECS[model[0]]
                flops = 2.0 * tb * model[1] * (2 if gated else 1) * ffn / tp
                extra = " | mlp_up_proj at %d tokens %.3f ms = %.0f TFLOP/s" % (
                    tb, res[tb]["mlp_up_proj"]["median"], flops / res[tb]["mlp_up_proj"]["median"] / 1e9)
            log("mlp %s TP%d: %d token counts, %.1f s%s%s" % (model[0], tp, len(res), time.time() - t0, extra,
                                                         "" if complete else " (CUT SHORT by --time-limit-s)"))
            log("  gpu now: " + gpu_clocks())
            if not complete:
                log("stopping mlp: time limit reached; later sweeps not measured")
                break


def measure(args, make_profiler=None):
    os.makedirs(args.out_dir, exist_ok=True)
    t_start = time.time()
    deadline = t_start + args.time_limit_s
    logf = open(os.path.join(args.out_dir, "log.txt"), "a")

    def log(msg):
        line = "[%6.1fs] %s" % (time.time() - t_start, msg)
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    env_path = os.path.join(args.out_dir, "env.txt")
    write_env(env_path, "before", log)
    log("command: " + " ".join(sys.argv))
    prof = (make_profiler or Profiler)(log)
    log("self-test:")
    log("self-test %s" % ("passed" if prof.self_test() else "FAILED"))
    if args.validate:
        log("validation matmuls:")
        prof.validate(os.path.join(args.out_dir, "validation.csv"))
    if args.layers:
        log("whole-layer check:")
        measure_layers(args, prof, log)
    if args.mlp:
        measure_mlp(args, prof, log, deadline)
    if args.moe:
        measure_moe(args, prof, log, deadline)
    shapes = distinct_shapes()
    if args.attention_models is not None:
        keep = set(args.attention_models.split(",")) - {""}
        shapes = {s: [(m, tp) for m, tp in u if m[0] in keep] for s, u in shapes.items()}
        shapes = {s: u for s, u in shapes.items() if u}
    if args.only_shapes:
        keep = args.only_shapes
        shapes = {s: u for i, (s, u) in enumerate(shapes.items()) if i < keep}
    out_path = os.path.join(args.out_dir, "h100_attention.csv")
    with open(out_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["model"] + COLUMNS)
        for idx, (shape, users) in enumerate(shapes.items()):
            t0 = time.time()
            dec, pre, save, complete = prof.profile_shape(shape, deadline)
            nrows = 0
            for m, tp in users:
                for (b, kv), st in dec.items():
                    sv = save.get((b, True))
                    if sv is None:
                        continue
                    w.writerow(make_row(m, tp, False, b, 0, kv, {
                        "attn_input_reshape": ZERO_STATS, "attn_kv_cache_save": sv,
                        "attn_prefill": None, "attn_decode": st, "attn_output_reshape": ZERO_STATS}))
                    nrows += 1
                for (c, kv), st in pre.items():
                    sv = save.get((c, False))
                    if sv is None:
                        continue
                    w.writerow(make_row(m, tp, True, 1, c, kv, {
                        "attn_input_reshape": ZERO_STATS, "attn_kv_cache_save": sv,
                        "attn_prefill": st, "attn_decode": None, "attn_output_reshape": ZERO_STATS}))
                    nrows += 1
            f.flush()
            biggest_d = max(dec.items(), key=lambda kv_: decode_bytes(shape, *kv_[0]), default=None)
            biggest_p = max(pre.items(), key=lambda kv_: prefill_flops(shape, *kv_[0]), default=None)
            extra = ""
            if biggest_d:
                (b, kv), st = biggest_d
                extra += " | decode b%d kv%d %.3f ms = %.2f TB/s" % (
                    b, kv, st["median"], decode_bytes(shape, b, kv) / st["median"] / 1e9)
            if biggest_p:
                (c, kv), st = biggest_p
                extra += " | prefill c%d kv%d %.3f ms = %.0f TFLOP/s" % (
                    c, kv, st["median"], prefill_flops(shape, c, kv) / st["median"] / 1e9)
            log("shape %d/%d %s: %d decode, %d prefill points, %d rows, %.1f s%s%s" % (
                idx + 1, len(shapes), shape, len(dec), len(pre), nrows, time.time() - t0, extra,
                "" if complete else " (CUT SHORT by --time-limit-s)"))
            log("  gpu now: " + gpu_clocks())
            if not complete:
                log("stopping: time limit reached; later shapes not measured")
                break
    log("fallbacks from FLASH_ATTENTION to default SDPA dispatch: %s" % (prof.fallbacks or "none"))
    log("failed (skipped) points: %d%s" % (len(prof.failed), "".join(
        "\n    %s %s %s: %s" % f for f in prof.failed[:20])))
    log("points whose timed loop saw the GPU wait for the CPU (>10 us gap): %d of %d" % (
        prof.starved_points, prof.points))
    write_env(env_path, "after", log)
    log("done in %.1f s" % (time.time() - t_start))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="print the grid and a time estimate; no torch")
    ap.add_argument("--out-dir", help="measure on the GPU and write h100_attention.csv etc. here")
    ap.add_argument("--validate", action="store_true", help="also time the mlp.csv matmuls")
    ap.add_argument("--time-limit-s", type=float, default=470.0,
                    help="stop starting new grid points after this many seconds")
    ap.add_argument("--only-shapes", type=int, default=0, help="measure only the first N shapes (testing)")
    ap.add_argument("--attention-models", metavar="M1,M2",
                    help="measure attention only for these models (empty: no attention)")
    ap.add_argument("--mlp", action="append", metavar="MODEL:TP,TP",
                    help="also measure the mlp.csv operators of MODEL at these TPs, into h100_mlp.csv "
                         "(repeatable; measured in the order given)")
    ap.add_argument("--moe", action="append", metavar="MODEL:TP,TP/EP",
                    help="also measure the MoE layer's operators of MODEL (one of MOE_SPECS) at these TP (or TP/EP) "
                         "degrees, into h100_moe.csv (repeatable); FP8 models run FP8 expert GEMMs")
    ap.add_argument("--moe-max-tokens", type=int, default=MOE_MAX_TOKENS, help="largest num_tokens of --moe")
    ap.add_argument("--split-moe", metavar="COMBINED_CSV", help="split h100_moe.csv into per-model moe.csv files")
    ap.add_argument("--layers", action="store_true",
                    help="also time whole layers of a few batches against the sum of their operators "
                         "(h100_layers.csv; checked against vidur predict by tests/test_profile.sh)")
    ap.add_argument("--require-fused", action="store_true",
                    help="stop if the Triton kernels fail their self-test (instead of composite torch ops)")
    ap.add_argument("--mlp-max-tokens", type=int, default=MLP_MAX_TOKENS, help="largest num_tokens")
    ap.add_argument("--mlp-token-stride", type=int, default=1,
                    help="measure every Nth token count of the grid (testing)")
    ap.add_argument("--split-mlp", metavar="COMBINED_CSV", help="split h100_mlp.csv into per-model mlp.csv files")
    ap.add_argument("--compare-mlp", nargs=2, metavar=("OURS_CSV", "VIDUR_CSV"),
                    help="per-operator ratio of two mlp.csv files' medians (--tp selects the TP)")
    ap.add_argument("--tp", type=int, default=1, help="TP for --compare-mlp")
    ap.add_argument("--split", metavar="COMBINED_CSV", help="split a combined CSV into per-model files")
    ap.add_argument("--dest", help="destination folder for --split")
    ap.add_argument("--compare", metavar="VALIDATION_CSV", help="ratio table vs Vidur's mlp.csv medians")
    ap.add_argument("--vidur-profiles", help="folder holding Vidur's h100/<org>/<model>/mlp.csv")
    args = ap.parse_args()
    if args.dry_run:
        dry_run()
    elif args.split:
        if not args.dest:
            ap.error("--split needs --dest")
        split(args.split, args.dest)
    elif args.split_mlp:
        if not args.dest:
            ap.error("--split-mlp needs --dest")
        split_mlp(args.split_mlp, args.dest)
    elif args.split_moe:
        if not args.dest:
            ap.error("--split-moe needs --dest")
        split_moe(args.split_moe, args.dest)
    elif args.compare_mlp:
        compare_mlp(args.compare_mlp[0], args.compare_mlp[1], args.tp)
    elif args.compare:
        if not args.vidur_profiles:
            ap.error("--compare needs --vidur-profiles")
        compare(args.compare, args.vidur_profiles)
    elif args.out_dir:
        # flags are checked before torch is imported or anything is written
        if args.mlp:
            parse_sweeps(args.mlp)
        if args.moe:
            parse_moe_sweeps(args.moe)
            if not 8 <= args.moe_max_tokens <= 1 << 20:
                raise SystemExit("vidur-profile: --moe-max-tokens must be in [8, 1048576]")
        if args.attention_models:
            unknown = set(args.attention_models.split(",")) - {""} - {m[0] for m in MODELS}
            if unknown:
                raise SystemExit("vidur-profile: --attention-models: unknown model(s) %s" % sorted(unknown))
        if args.mlp_token_stride < 1 or not 8 <= args.mlp_max_tokens <= 1 << 20:
            raise SystemExit("vidur-profile: --mlp-token-stride must be >= 1 and --mlp-max-tokens in [8, 1048576]")
        try:
            import torch  # noqa: F401
        except ImportError as exc:
            raise SystemExit("vidur-profile: measuring needs PyTorch with CUDA (%s)" % exc)
        measure(args)
    else:
        ap.print_help()


if __name__ == "__main__":
    main()
