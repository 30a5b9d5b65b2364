#!/usr/bin/env python3
"""Checks of tools/vidur-profile.py's torch-free parts and of the profiles we committed with it.
Usage: python3 tests/profile_checks.py CHECK   (exit 0 = pass, 1 = fail, 77 = skip; one line says why)
Run by tests/test_profile.sh from the repository root."""
import csv
import importlib.util
import io
import os
import statistics
import sys
import tempfile
from contextlib import redirect_stdout

SHARED = "../shared/data/profiling/compute/h100"
OURS = "data/profiling/compute/h100"
VALID = "data/validation/compute/h100"
GEMMS = ["attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj"]

spec = importlib.util.spec_from_file_location("vidur_profile", "tools/vidur-profile.py")
P = importlib.util.module_from_spec(spec)
sys.dont_write_bytecode = True
spec.loader.exec_module(P)


def fail(msg):
    print(msg)
    sys.exit(1)


def skip(msg):
    print(msg)
    sys.exit(77)


def rows_of(path, tp=None):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if tp is not None:
        rows = [r for r in rows if int(r["num_tensor_parallel_workers"]) == tp]
    return sorted(rows, key=lambda r: int(r["num_tokens"]))


def check_grid():
    """the token grid is Vidur's: 387 counts, and exactly those of Vidur's H100 Llama-3-8B file"""
    t = P.mlp_tokens()
    if len(t) != 387 or t[:5] != [1, 2, 4, 8, 16] or t[-2:] != [16256, 16384] or 1032 in t or 1040 not in t:
        fail("unexpected grid: %d counts, %s ... %s" % (len(t), t[:5], t[-2:]))
    path = os.path.join(SHARED, "meta-llama/Meta-Llama-3-8B/mlp.csv")
    if os.path.exists(path):
        theirs = sorted({int(r["num_tokens"]) for r in rows_of(path, 1)})
        if theirs != t:
            fail("grid differs from %s: %s" % (path, sorted(set(theirs) ^ set(t))[:10]))
    print("387 token counts%s" % (", equal to Vidur's" if os.path.exists(path) else ""))


def check_files():
    """our mlp.csv files: Vidur's header, the full grid per TP, sane statistics"""
    want = {os.path.join(OURS, "internlm/internlm2-20b/mlp.csv"): (1, 2, 4, 8),
            os.path.join(OURS, "meta-llama/Meta-Llama-3-70B/mlp.csv"): (1,),
            os.path.join(VALID, "meta-llama/Meta-Llama-3-8B/mlp.csv"): (1, 2, 4, 8),
            os.path.join(VALID, "meta-llama/Llama-2-7b-hf/mlp.csv"): (1,)}
    vidur_hdr = None
    ref = os.path.join(SHARED, "meta-llama/Meta-Llama-3-8B/mlp.csv")
    if os.path.exists(ref):
        with open(ref) as f:
            vidur_hdr = f.readline().rstrip("\n").split(",")
    grid = P.mlp_tokens()
    for path, tps in want.items():
        with open(path) as f:
            hdr = f.readline().rstrip("\n").split(",")
        if hdr != P.MLP_COLUMNS or (vidur_hdr is not None and hdr != vidur_hdr):
            fail("%s: header is not Vidur's mlp.csv header" % path)
        for tp in tps:
            rows = rows_of(path, tp)
            if [int(r["num_tokens"]) for r in rows] != grid:
                fail("%s: TP %d does not hold the grid once each" % (path, tp))
            for r in rows:
                for op in P.MLP_OPS:
                    lo, med, hi = (float(r["time_stats.%s.%s" % (op, s)]) for s in ("min", "median", "max"))
                    if not (0 < lo <= med <= hi < 1000):
                        fail("%s: TP %d tokens %s %s: min %g median %g max %g" % (path, tp, r["num_tokens"], op, lo, med, hi))
        if len(rows_of(path)) != 387 * len(tps):
            fail("%s: %d rows, want %d" % (path, len(rows_of(path)), 387 * len(tps)))
    print("4 files, Vidur's header%s, grid complete, min <= median <= max" % ("" if vidur_hdr else " (not compared: ../shared absent)"))


def check_split():
    """--split-mlp turns the combined file back into the committed per-model files, byte for byte"""
    files = ["internlm/internlm2-20b/mlp.csv", "meta-llama/Meta-Llama-3-70B/mlp.csv"]
    with tempfile.TemporaryDirectory() as tmp:
        combined = os.path.join(tmp, "h100_mlp.csv")
        with open(combined, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["model"] + P.MLP_COLUMNS)
            for rel in reversed(files):  # out of order on purpose: split sorts
                model = os.path.dirname(rel)
                for r in reversed(rows_of(os.path.join(OURS, rel))):
                    w.writerow([model] + [r[c] for c in P.MLP_COLUMNS])
        with redirect_stdout(io.StringIO()):
            P.split_mlp(combined, os.path.join(tmp, "out"))
        for rel in files:
            with open(os.path.join(OURS, rel), "rb") as a, open(os.path.join(tmp, "out", rel), "rb") as b:
                if a.read() != b.read():
                    fail("split output differs from %s" % rel)
    print("split reproduces both committed files")


def noise_figures(path, tp=1):
    """per GEMM: (median coefficient of variation, p90 error of neighbour interpolation), in %"""
    rows = rows_of(path, tp)
    out = {}
    for op in GEMMS:
        med = [float(r["time_stats.%s.median" % op]) for r in rows]
        cv = [float(r["time_stats.%s.std" % op]) / m for r, m in zip(rows, med)]
        x = [int(r["num_tokens"]) for r in rows]
        err = sorted(abs(med[i - 1] + (med[i + 1] - med[i - 1]) * (x[i] - x[i - 1]) / (x[i + 1] - x[i - 1]) - med[i]) / med[i]
                     for i in range(1, len(x) - 1))
        out[op] = (100 * statistics.median(cv), 100 * err[int(0.9 * len(err))])
    return out


def check_noise():
    """data/README.md's figures: repeat noise 0.4-0.7 %, interpolation p90 6.0-8.6 % (ours), 4.3-6.8 % (Vidur's)"""
    f = noise_figures(os.path.join(VALID, "meta-llama/Meta-Llama-3-8B/mlp.csv"))
    cvs = [round(v[0], 1) for v in f.values()]
    ips = [round(v[1], 1) for v in f.values()]
    if (min(cvs), max(cvs)) != (0.4, 0.7) or (min(ips), max(ips)) != (6.0, 8.6) or round(f["mlp_up_proj"][1], 1) != 8.6:
        fail("ours: cv %s, interpolation p90 %s" % (cvs, ips))
    msg = "ours: cv %.1f-%.1f %%, interpolation p90 %.1f-%.1f %%" % (min(cvs), max(cvs), min(ips), max(ips))
    path = os.path.join(SHARED, "meta-llama/Meta-Llama-3-8B/mlp.csv")
    if os.path.exists(path):
        g = noise_figures(path)
        ips2 = [round(v[1], 1) for v in g.values()]
        if (min(ips2), max(ips2)) != (4.3, 6.8):
            fail("Vidur's: interpolation p90 %s" % ips2)
        msg += "; Vidur's: %.1f-%.1f %%" % (min(ips2), max(ips2))
    print(msg)


def check_compare():
    """our GEMMs agree with Vidur's H100 numbers: median ratio 0.89-1.03 per operator and TP"""
    ours = os.path.join(VALID, "meta-llama/Meta-Llama-3-8B/mlp.csv")
    theirs = os.path.join(SHARED, "meta-llama/Meta-Llama-3-8B/mlp.csv")
    if not os.path.exists(theirs):
        skip("%s absent" % theirs)
    worst = []
    for tp in (1, 2, 4, 8):
        with redirect_stdout(io.StringIO()) as out:
            P.compare_mlp(ours, theirs, tp)
        for line in out.getvalue().splitlines():
            parts = line.split()
            if parts and parts[0] in GEMMS:
                med = float(parts[4])
                worst.append(med)
                if not 0.885 <= med <= 1.035:
                    fail("TP %d %s: median ratio %.3f" % (tp, parts[0], med))
    if len(worst) != 16:
        fail("expected 16 GEMM ratios, got %d" % len(worst))
    print("16 GEMM median ratios in %.3f-%.3f" % (min(worst), max(worst)))


LAYER_L = {"meta-llama/Meta-Llama-3-8B": 32, "meta-llama/Llama-2-7b-hf": 32, "internlm/internlm2-20b": 48}


def layer_errors(vidur, extra):
    """{model: [signed % error of vidur predict's per-layer time against the measured layer]}"""
    import subprocess
    errs = {}
    with open("data/validation/h100_layers.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["model"] not in LAYER_L or (extra and "internlm" in r["model"]):
                continue
            cmd = [vidur, "predict", "--replica_config_model_name", r["model"], "--replica_config_device", "h100",
                   "--replica_config_network_device", "h100_dgx"] + extra
            if r["decode"]:
                cmd += ["--decode", r["decode"]]
            for p in r["prefill"].split():
                cmd += ["--prefill", p]
            out = subprocess.run(cmd, capture_output=True, text=True)
            line = [x for x in out.stdout.splitlines() if x.startswith("stage 0")]
            if out.returncode or not line:
                fail("%s: exit %d: %s" % (" ".join(cmd), out.returncode, out.stderr.strip()[:300]))
            pred = float(line[0].split("model ")[1].split(" ms")[0]) / LAYER_L[r["model"]]
            meas = float(r["layer_median_ms"])
            errs.setdefault(r["model"], []).append(100 * (pred - meas) / meas)
    return errs


# data/README.md's figures: (median |error|, max |error|) in % per model
LAYER_FIGURES = {
    "compiled-in": {"meta-llama/Meta-Llama-3-8B": (2.9, 18.4), "meta-llama/Llama-2-7b-hf": (3.7, 19.1),
                    "internlm/internlm2-20b": (2.4, 7.2)},
    "ours": {"meta-llama/Meta-Llama-3-8B": (2.0, 8.6), "meta-llama/Llama-2-7b-hf": (1.0, 8.0)},
}


def check_layers():
    """vidur predict against the measured H100 layers: the figures data/README.md quotes, with the
    compiled-in tables and with tables trained on our own data/validation mlp profiles"""
    vidur = os.environ.get("VIDUR", "build/vidur")
    tables = os.environ.get("VIDUR_TABLES_TOOL", "build/vidur-tables")
    msg = []
    with open("data/validation/h100_layers.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != 57 or any(not 0.95 <= float(r["layer_median_ms"]) / float(r["sum_of_ops_ms"]) <= 1.02 for r in rows):
        fail("h100_layers.csv: %d rows, or a layer outside 0.95-1.02 of its operators' sum" % len(rows))
    with tempfile.TemporaryDirectory() as tmp:
        vtab = os.path.join(tmp, "ours.vtab")
        # PROFILE_VTAB_CACHE (set by tests/test_profile.sh): the table file trained by an earlier
        # run, reused while it is newer than the trainer and every profile it was trained on, so
        # that the sanitizer pass of `make test` does not train the same 13 CPU-seconds again
        cache = os.environ.get("PROFILE_VTAB_CACHE")
        inputs = [tables] + [os.path.join(d, n) for root in ("data/validation", "data/profiling")
                             for d, _, names in os.walk(root) for n in names]
        if cache and os.path.exists(cache) and all(os.path.getmtime(cache) > os.path.getmtime(p) for p in inputs):
            vtab = cache
        else:
            import subprocess
            out = subprocess.run([tables, "--profiling-dir", "data/validation", "--profiling-dir", "data/profiling",
                                  "--device", "h100", "--model", "meta-llama/Meta-Llama-3-8B", "--model",
                                  "meta-llama/Llama-2-7b-hf", "--vtab", vtab, "--quiet"], capture_output=True, text=True)
            if out.returncode:
                fail("vidur-tables: %s" % out.stderr.strip()[:300])
            if cache:
                import shutil
                shutil.copyfile(vtab, cache + ".tmp")
                os.replace(cache + ".tmp", cache)
        for name, extra in (("compiled-in", []),
                            ("ours", ["--random_forrest_execution_time_predictor_config_table_file", vtab])):
            errs = layer_errors(vidur, extra)
            for model, want in LAYER_FIGURES[name].items():
                a = sorted(abs(x) for x in errs.get(model, []))
                got = (round(statistics.median(a), 1), round(a[-1], 1)) if a else None
                if got != want:
                    fail("%s tables, %s: median / max |error| %s %%, data/README.md says %s" % (name, model, got, want))
                msg.append("%s %s %.1f/%.1f" % (name, model.split("/")[1], got[0], got[1]))
    print("; ".join(msg))


def check_layer_repeat():
    """the later run with per-operator columns: every layer within 2.5 % of the first run's, and its
    operator columns add up to its sum_of_ops"""
    with open("data/validation/h100_layers.csv", newline="") as f:
        first = {(r["model"], r["decode"], r["prefill"]): float(r["layer_median_ms"]) for r in csv.DictReader(f)}
    with open("data/validation/h100_layers_ops.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    worst = 0.0
    for r in rows:
        key = (r["model"], r["decode"], r["prefill"])
        d = abs(float(r["layer_median_ms"]) / first[key] - 1) * 100
        worst = max(worst, d)
        ops = sum(float(r["%s_ms" % op]) for op in P.LAYER_OPS)
        if d > 2.5 or abs(ops - float(r["sum_of_ops_ms"])) > 1e-5 + 1e-6 * ops:
            fail("%s: layer %.1f %% from the first run, or operators add up to %g, not %s" % (key, d, ops, r["sum_of_ops_ms"]))
    if len(rows) != len(first):
        fail("%d rows, the first run has %d" % (len(rows), len(first)))
    print("%d layers within %.1f %% of the first run" % (len(rows), worst))


def check_moe():
    """--moe without a GPU: its sweeps and grid, and the format end to end: rows written by moe_row
    (synthetic times), split by --split-moe, trained by vidur-tables (tables of EP 2 under
    MODEL@ep2, moe_shared_mlp only for Scout) and used by `vidur predict` (forest sources)."""
    import subprocess
    sw = P.parse_moe_sweeps(["mistralai/Mixtral-8x7B-Instruct-v0.1:2,2/2",
                             "RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic:2"])
    if sw != [("mistralai/Mixtral-8x7B-Instruct-v0.1", 2, 1), ("mistralai/Mixtral-8x7B-Instruct-v0.1", 2, 2),
              ("RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic", 2, 1)]:
        fail("parse_moe_sweeps: %s" % sw)
    if P.moe_local_shape("Qwen/Qwen3-30B-A3B", 4, 2) != (64, 384, 0) or P.moe_tokens()[-1] != 8192:
        fail("moe_local_shape or moe_tokens")
    tools = os.environ.get("VIDUR_TABLES_TOOL", "build/vidur-tables")
    vidur = os.environ.get("VIDUR", "build/vidur")
    if not (os.access(tools, os.X_OK) and os.access(vidur, os.X_OK)):
        skip("%s or %s not built" % (tools, vidur))
    with tempfile.TemporaryDirectory() as d:
        combined = os.path.join(d, "h100_moe.csv")
        with open(combined, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["model"] + P.MOE_COLUMNS)
            for name, tp, ep in sw:
                for t in P.moe_tokens(1024)[::4]:
                    st = {op: P.summarize([0.02 * (i + 1) + t * 1e-4 * (i + 1) / ep, 0.021 * (i + 1) + t * 1e-4 * (i + 1) / ep])
                          for i, op in enumerate(P.MOE_OPS) if op != "moe_shared_mlp" or P.MOE_SPECS[name][4]}
                    w.writerow(P.moe_row(name, tp, ep, t, st, None, "per-expert torch.mm"))
        dest = os.path.join(d, "prof", "compute", "h100")
        with redirect_stdout(io.StringIO()):
            P.split_moe(combined, dest)
        vtab = os.path.join(d, "t.vtab")
        r = subprocess.run([tools, "--profiling-dir", os.path.join(d, "prof"), "--vtab", vtab, "--quiet"],
                           capture_output=True, text=True)
        if r.returncode:
            fail("vidur-tables on the profiler's moe.csv: %s" % r.stderr.strip())
        with open(vtab) as f:
            heads = [l.split()[1:8] for l in f if l.startswith("table ")]
        names = sorted({(h[0], h[4], h[6]) for h in heads})
        want = sorted({("op=" + op, "model=" + m, "tp=2") for m in ["mistralai/Mixtral-8x7B-Instruct-v0.1",
                                                                     "mistralai/Mixtral-8x7B-Instruct-v0.1@ep2"]
                       for op in P.MOE_OPS[:4]}
                      | {("op=" + op, "model=RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic", "tp=2") for op in P.MOE_OPS})
        if names != want:
            fail("tables trained from the profiler's moe.csv: %s" % sorted(set(names) ^ set(want)))
        out = subprocess.run([vidur, "predict", "--replica_config_model_name", "RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic",
                              "--replica_config_device", "h100", "--replica_config_network_device", "h100_dgx",
                              "--replica_config_tensor_parallel_size", "2",
                              "--random_forrest_execution_time_predictor_config_table_file", vtab, "--decode", "64x512"],
                             capture_output=True, text=True).stdout
        srcs = {l.split()[0]: " ".join(l.split()[2:]) for l in out.splitlines() if l.startswith("moe_")}
        if any(srcs.get(op) != "random_forest" for op in P.MOE_OPS):
            fail("vidur predict does not use the forests: %s" % srcs)
    print("%d tables from the profiler's format, used by vidur predict" % len(heads))


CHECKS = {"grid": check_grid, "files": check_files, "split": check_split, "noise": check_noise,
          "compare": check_compare, "layers": check_layers, "layer_repeat": check_layer_repeat, "moe": check_moe}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        print("usage: profile_checks.py %s" % "|".join(CHECKS))
        sys.exit(2)
    CHECKS[sys.argv[1]]()
