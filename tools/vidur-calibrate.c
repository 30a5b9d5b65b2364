/* vidur-calibrate - fit the engine model (docs/engine_model.md) to measurements of a real engine.

   usage: vidur-calibrate [options] SET.ini            fit, print fit and leave-one-out errors
          vidur-calibrate --validate [options] SET.ini measured vs predicted, no fit
          vidur-calibrate --trace GROUND_TRUTH -o OUT.csv
                                                       a vidur trace from per-request measurements

   SET.ini lists the experiments (one [experiment.NAME] section each: the vidur configuration of
   the deployment and workload, and the ground truth measured on it) and, in [calibrate], which
   engine_config keys to fit. Ground truth (format chosen by the file name, or `format =`):
     aggregate   CSV with exp_key, stage, metric, actual_ms (the real-engine development set's
                 ground_truth_dev.csv): e2e_mean/p90/p99, ttft_mean/p90/p99, itl_mean per load
                 stage (-1 = the whole run); ITL as the harness defines it
     requests    CSV with one row per request and ttft_ms, e2e_ms (tpot_ms optional)
     llmservingsim  LLMServingSim's requests.jsonl (+ meta.json beside it): queued_ts,
                 first_token_ts, last_token_ts, input_toks, output_toks per request
     benchmark_serving  the result JSON of vLLM's benchmarks/benchmark_serving.py (vllm bench
                 serve --save-result --save-detailed): input_lens, output_lens, ttfts, itls
   Every reader rejects malformed input with one line naming the file, the line and the field.
   Per-request ground truth also gives the workload (arrivals, prompt and output lengths) unless
   the experiment's configuration has its own (`workload = config`). The fit (Nelder-Mead on the
   mean absolute percentage error, experiments weighted equally) and every simulation are
   deterministic; --jobs only spreads experiments over threads. */
#define _POSIX_C_SOURCE 200809L
#include "../vidur.h" /* the implementation is linked: build/libvidur.a (vidur.c) */

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PARAMS 16
#define MAX_EXPS 256
#define NSTATS 4 /* mean, p50, p90, p99 */

static const char *const stat_names[NSTATS] = {"mean", "p50", "p90", "p99"};
enum { M_TTFT, M_TPOT, M_E2E, M_ITL, NMETRICS };
static const char *const metric_names[NMETRICS] = {"ttft", "tpot", "e2e", "itl"};

/* ---- small helpers ---------------------------------------------------------------------------- */
static void die_oom(void)
{
    fputs("vidur-calibrate: out of memory\n", stderr);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) die_oom();
    return p;
}

static void set_err(vidur_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->code = VIDUR_ERR_PARSE;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* mean and numpy.percentile's linear interpolation (sorts v) */
static void stats_of(double *v, int64_t n, double out[NSTATS])
{
    static const double q[NSTATS] = {0, 50, 90, 99};
    double sum = 0;
    int64_t i;
    int k;
    for (k = 0; k < NSTATS; k++) out[k] = NAN;
    if (n <= 0) return;
    for (i = 0; i < n; i++) sum += v[i];
    out[0] = sum / (double)n;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    for (k = 1; k < NSTATS; k++) {
        double pos = (double)(n - 1) * q[k] / 100.0, f = floor(pos);
        int64_t lo = (int64_t)f, hi = lo + 1 < n ? lo + 1 : n - 1;
        out[k] = v[lo] + (v[hi] - v[lo]) * (pos - f);
    }
}

static void path_join(char *out, size_t n, const char *dir, const char *p)
{
    if (p[0] == '/' || !dir[0]) snprintf(out, n, "%s", p);
    else snprintf(out, n, "%s/%s", dir, p);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* ---- ground truth ------------------------------------------------------------------------------- */
enum { GT_AGGREGATE, GT_REQUESTS, GT_LLMSERVINGSIM, GT_BENCHMARK_SERVING };
static const char *const gt_format_names[] = {"aggregate", "requests", "llmservingsim", "benchmark_serving"};

typedef struct agg_rec {
    int stage;     /* -1: the whole run */
    int metric;    /* M_* */
    int stat;      /* 0..3 */
    double value;  /* ms */
} agg_rec;

typedef struct req_rec {
    double arrival; /* s, from the first request (NAN: unknown) */
    int32_t P, D;
    double ttft, e2e, tpot; /* ms; tpot < 0 when D <= 1 */
} req_rec;

typedef struct ground_truth {
    int format;
    char path[VIDUR_PATH_MAX];
    agg_rec *agg;
    int nagg;
    req_rec *req;
    int64_t nreq;
    int has_arrivals;
    /* vLLM benchmark_serving: the client's arrival process (arrivals are regenerated) */
    double request_rate, burstiness;
    /* LLMServingSim meta.json: engine settings (0 = absent) */
    int meta_tp, meta_max_num_seqs, meta_max_num_batched_tokens;
    int64_t meta_num_gpu_blocks;
} ground_truth;

static void gt_free(ground_truth *g)
{
    free(g->agg);
    free(g->req);
    memset(g, 0, sizeof *g);
}

static int parse_metric(const char *s, int *metric, int *stat)
{
    char name[32];
    int m, k;
    const char *us = strchr(s, '_');
    if (!us || (size_t)(us - s) >= sizeof name) return 0;
    memcpy(name, s, (size_t)(us - s));
    name[us - s] = 0;
    for (m = 0; m < NMETRICS; m++)
        if (!strcmp(name, metric_names[m])) break;
    for (k = 0; k < NSTATS; k++)
        if (!strcmp(us + 1, stat_names[k])) break;
    if (m == NMETRICS || k == NSTATS) return 0;
    *metric = m;
    *stat = k;
    return 1;
}

/* ---- a small CSV reader (ground-truth files: one record per line, quoted fields allowed) ------ */
#define CSV_MAX_FIELDS 64
typedef struct csv_t {
    FILE *f;
    const char *path;
    int line;                 /* line number of the current record */
    char *hdr, *buf;          /* the header line and the current line (fields point into them) */
    size_t cap;
    char *cols[CSV_MAX_FIELDS], *fields[CSV_MAX_FIELDS];
    int ncols, nfields;
} csv_t;

/* splits line in place at commas outside double quotes ("" inside quotes is one quote) */
static int csv_split(char *p, char **out)
{
    int n = 0;
    while (n < CSV_MAX_FIELDS) {
        char *w = p;
        out[n++] = p;
        if (*p == '"') {
            char *r = p + 1;
            for (; *r; r++) {
                if (*r == '"' && r[1] == '"') { *w++ = '"'; r++; }
                else if (*r == '"') { r++; break; }
                else *w++ = *r;
            }
            while (*r && *r != ',') r++;
            p = r;
        } else {
            while (*p && *p != ',') *w++ = *p++;
        }
        if (!*p) { *w = 0; break; }
        *w = 0;
        p++;
    }
    return n;
}

static int csv_getline(csv_t *c)
{
    ssize_t n = getline(&c->buf, &c->cap, c->f);
    if (n < 0) return 0;
    c->line++;
    while (n > 0 && (c->buf[n - 1] == '\n' || c->buf[n - 1] == '\r')) c->buf[--n] = 0;
    return 1;
}

static void csv_close(csv_t *c)
{
    if (c->f) fclose(c->f);
    free(c->hdr);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

static int csv_open(csv_t *c, const char *path, vidur_error *err)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    c->f = fopen(path, "rb");
    if (!c->f) {
        set_err(err, "%s: cannot open: %s", path, strerror(errno));
        return 0;
    }
    if (!csv_getline(c)) {
        set_err(err, "%s:1: empty file (a header line is required)", path);
        csv_close(c);
        return 0;
    }
    c->hdr = (char *)xrealloc(NULL, strlen(c->buf) + 1);
    strcpy(c->hdr, c->buf + (!strncmp(c->buf, "\xEF\xBB\xBF", 3) ? 3 : 0));
    c->ncols = csv_split(c->hdr, c->cols);
    return 1;
}

static int csv_col(const csv_t *c, const char *name)
{
    int i;
    for (i = 0; i < c->ncols; i++)
        if (!strcmp(c->cols[i], name)) return i;
    return -1;
}

/* the next non-empty record; 0 at the end of the file */
static int csv_next(csv_t *c)
{
    while (csv_getline(c))
        if (c->buf[0]) {
            c->nfields = csv_split(c->buf, c->fields);
            return 1;
        }
    return 0;
}

/* a number in field col of the current record */
static int csv_double(csv_t *c, int col, double *out, vidur_error *err)
{
    char *end;
    const char *s;
    if (col >= c->nfields) {
        set_err(err, "%s:%d: field '%s' is missing (the row has %d fields, the header %d)", c->path, c->line, c->cols[col], c->nfields, c->ncols);
        return 0;
    }
    s = c->fields[col];
    errno = 0;
    *out = strtod(s, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (end == s || *end || errno == ERANGE || *out != *out) {
        set_err(err, "%s:%d: field '%s': '%s' is not a number", c->path, c->line, c->cols[col], s);
        return 0;
    }
    return 1;
}

static int csv_need(csv_t *c, const char *name, vidur_error *err)
{
    int col = csv_col(c, name);
    if (col < 0) set_err(err, "%s:1: field '%s': missing from the header", c->path, name);
    return col;
}

/* a positive, finite number in field col of the current row */
static int csv_positive(csv_t *c, int col, double *out, int allow_zero, vidur_error *err)
{
    if (!csv_double(c, col, out, err)) return 0;
    if (!isfinite(*out) || *out < 0 || (!allow_zero && *out == 0)) {
        set_err(err, "%s:%d: field '%s': '%s' must be a %s finite number", c->path, c->line, c->cols[col], c->fields[col],
                allow_zero ? "non-negative" : "positive");
        return 0;
    }
    return 1;
}

/* aggregate records of one experiment (rows whose exp_key is `key`) */
static int read_aggregate(const char *path, const char *key, ground_truth *g, vidur_error *err)
{
    csv_t c;
    int ck, cs, cm, cv, cap = 0;
    if (!csv_open(&c, path, err)) return 0;
    if ((ck = csv_need(&c, "exp_key", err)) < 0 || (cs = csv_need(&c, "stage", err)) < 0 || (cm = csv_need(&c, "metric", err)) < 0 ||
        (cv = csv_need(&c, "actual_ms", err)) < 0) {
        csv_close(&c);
        return 0;
    }
    while (csv_next(&c)) {
        double st, v;
        agg_rec r;
        char *end;
        if (ck >= c.nfields || cm >= c.nfields) {
            set_err(err, "%s:%d: field '%s': missing (row has %d fields)", path, c.line, ck >= c.nfields ? "exp_key" : "metric", c.nfields);
            goto fail;
        }
        if (strcmp(c.fields[ck], key)) continue;
        if (!csv_double(&c, cs, &st, err)) goto fail;
        if (st != floor(st) || st < -1 || st >= VIDUR_MAX_STAGES) {
            set_err(err, "%s:%d: field 'stage': '%s' is not a stage (-1 for the whole run, 0..%d)", path, c.line, c.fields[cs], VIDUR_MAX_STAGES - 1);
            goto fail;
        }
        if (!parse_metric(c.fields[cm], &r.metric, &r.stat)) {
            set_err(err, "%s:%d: field 'metric': '%s' is not one of {ttft,tpot,e2e,itl}_{mean,p50,p90,p99}", path, c.line, c.fields[cm]);
            goto fail;
        }
        if (!csv_positive(&c, cv, &v, 0, err)) goto fail;
        (void)end;
        r.stage = (int)st;
        r.value = v;
        if (g->nagg == cap) g->agg = (agg_rec *)xrealloc(g->agg, sizeof *g->agg * (size_t)(cap = cap ? 2 * cap : 32));
        g->agg[g->nagg++] = r;
    }
    csv_close(&c);
    if (!g->nagg) {
        set_err(err, "%s: no rows with exp_key '%s'", path, key);
        return 0;
    }
    return 1;
fail:
    csv_close(&c);
    return 0;
}

static void req_push(ground_truth *g, int64_t *cap, const req_rec *r)
{
    if (g->nreq == *cap) g->req = (req_rec *)xrealloc(g->req, sizeof *g->req * (size_t)(*cap = *cap ? 2 * *cap : 256));
    g->req[g->nreq++] = *r;
}

/* one row per request: ttft_ms, e2e_ms [, tpot_ms, input_toks, output_toks, arrived_at] */
static int read_requests_csv(const char *path, ground_truth *g, vidur_error *err)
{
    csv_t c;
    int ct, ce, cp, ci, co, ca;
    int64_t cap = 0;
    if (!csv_open(&c, path, err)) return 0;
    if ((ct = csv_need(&c, "ttft_ms", err)) < 0 || (ce = csv_need(&c, "e2e_ms", err)) < 0) {
        csv_close(&c);
        return 0;
    }
    cp = csv_col(&c, "tpot_ms");
    ci = csv_col(&c, "input_toks");
    co = csv_col(&c, "output_toks");
    ca = csv_col(&c, "arrived_at");
    g->has_arrivals = ca >= 0;
    while (csv_next(&c)) {
        req_rec r;
        double v;
        memset(&r, 0, sizeof r);
        r.arrival = NAN;
        r.tpot = -1;
        if (!csv_positive(&c, ct, &r.ttft, 0, err) || !csv_positive(&c, ce, &r.e2e, 0, err)) goto fail;
        if (r.e2e < r.ttft) {
            set_err(err, "%s:%d: field 'e2e_ms': %g is below ttft_ms %g", path, c.line, r.e2e, r.ttft);
            goto fail;
        }
        if (cp >= 0 && cp < c.nfields && c.fields[cp][0] && !csv_positive(&c, cp, &r.tpot, 1, err)) goto fail;
        if (ci >= 0) {
            if (!csv_positive(&c, ci, &v, 0, err)) goto fail;
            r.P = (int32_t)v;
        }
        if (co >= 0) {
            if (!csv_positive(&c, co, &v, 0, err)) goto fail;
            r.D = (int32_t)v;
        }
        if (ca >= 0 && !csv_positive(&c, ca, &r.arrival, 1, err)) goto fail;
        req_push(g, &cap, &r);
    }
    csv_close(&c);
    if (!g->nreq) {
        set_err(err, "%s:2: no request rows", path);
        return 0;
    }
    return 1;
fail:
    csv_close(&c);
    return 0;
}

/* a finite number at key of a JSON object; names file, line and field on error */
static int json_num(json_t *o, const char *key, double *out, int required, const char *path, int line, vidur_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required) set_err(err, "%s:%d: field '%s': missing", path, line, key);
        return !required ? -1 : 0;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
        set_err(err, "%s:%d: field '%s': expected a finite number", path, line, key);
        return 0;
    }
    *out = json_number_value(v);
    return 1;
}

/* the line of a JSON file where "key" first appears (for messages about a whole array) */
static int json_key_line(const char *path, const char *key)
{
    FILE *f = fopen(path, "rb");
    char pat[128], *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int line = 1, found = 0;
    if (!f) return 1;
    snprintf(pat, sizeof pat, "\"%s\"", key);
    while ((n = getline(&buf, &cap, f)) > 0) {
        if (strstr(buf, pat)) { found = 1; break; }
        line++;
    }
    free(buf);
    fclose(f);
    return found ? line : 1;
}

static int read_json_file(const char *path, json_t **out, vidur_error *err)
{
    json_error_t je;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!*out) {
        if (je.line < 0 && !strcmp(je.text, "unable to open ")) set_err(err, "%s: cannot open", path);
        else set_err(err, "%s:%d: %s", path, je.line > 0 ? je.line : 1, je.text);
        return 0;
    }
    return 1;
}

/* LLMServingSim's meta.json beside requests.jsonl (optional): engine settings */
static int read_meta(const char *jsonl_path, ground_truth *g, vidur_error *err)
{
    char path[VIDUR_PATH_MAX + 16];
    const char *slash = strrchr(jsonl_path, '/');
    json_t *root, *kw, *kv;
    double v;
    if (slash) snprintf(path, sizeof path, "%.*s/meta.json", (int)(slash - jsonl_path), jsonl_path);
    else snprintf(path, sizeof path, "meta.json");
    if (access(path, F_OK) != 0) return 1;
    if (!read_json_file(path, &root, err)) return 0;
    if (!json_is_object(root)) {
        set_err(err, "%s:1: expected a JSON object", path);
        json_decref(root);
        return 0;
    }
    kw = json_object_get(root, "engine_kwargs");
    kv = json_object_get(root, "kv_cache");
    if (kw && json_is_object(kw)) {
        int line = json_key_line(path, "engine_kwargs");
        if (!json_num(kw, "tensor_parallel_size", &v, 0, path, line, err)) goto bad;
        if (json_object_get(kw, "tensor_parallel_size") && !json_is_null(json_object_get(kw, "tensor_parallel_size"))) g->meta_tp = (int)v;
        if (!json_num(kw, "max_num_seqs", &v, 0, path, line, err)) goto bad;
        if (json_object_get(kw, "max_num_seqs") && !json_is_null(json_object_get(kw, "max_num_seqs"))) g->meta_max_num_seqs = (int)v;
        if (!json_num(kw, "max_num_batched_tokens", &v, 0, path, line, err)) goto bad;
        if (json_object_get(kw, "max_num_batched_tokens") && !json_is_null(json_object_get(kw, "max_num_batched_tokens")))
            g->meta_max_num_batched_tokens = (int)v;
    }
    if (kv && json_is_object(kv)) {
        int line = json_key_line(path, "kv_cache");
        int r = json_num(kv, "num_gpu_blocks", &v, 0, path, line, err);
        if (!r) goto bad;
        if (r > 0) g->meta_num_gpu_blocks = (int64_t)v;
    }
    if (g->meta_tp < 0 || g->meta_max_num_seqs < 0 || g->meta_max_num_batched_tokens < 0 || g->meta_num_gpu_blocks < 0) {
        set_err(err, "%s:1: negative engine setting", path);
        goto bad;
    }
    json_decref(root);
    return 1;
bad:
    json_decref(root);
    return 0;
}

/* LLMServingSim requests.jsonl: one JSON object per line; times in seconds (engine clock) */
static int read_llmservingsim(const char *path, ground_truth *g, vidur_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int line = 0, ok = 1;
    int64_t rcap = 0, i;
    double t0 = INFINITY;
    if (!f) {
        set_err(err, "%s: cannot open: %s", path, strerror(errno));
        return 0;
    }
    while (ok && (n = getline(&buf, &cap, f)) >= 0) {
        json_error_t je;
        json_t *o;
        req_rec r;
        double in, out, q, ft, lt;
        line++;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = 0;
        if (!n) continue;
        o = json_loads(buf, JSON_REJECT_DUPLICATES, &je);
        if (!o || !json_is_object(o)) {
            set_err(err, "%s:%d: %s", path, line, o ? "expected a JSON object" : je.text);
            json_decref(o);
            ok = 0;
            break;
        }
        ok = json_num(o, "input_toks", &in, 1, path, line, err) && json_num(o, "output_toks", &out, 1, path, line, err) &&
             json_num(o, "queued_ts", &q, 1, path, line, err) && json_num(o, "first_token_ts", &ft, 1, path, line, err) &&
             json_num(o, "last_token_ts", &lt, 1, path, line, err);
        json_decref(o);
        if (!ok) break;
        if (in < 1 || out < 1 || in != floor(in) || out != floor(out) || in > 1e8 || out > 1e8) {
            set_err(err, "%s:%d: field '%s': expected a whole number of tokens >= 1", path, line, in < 1 || in != floor(in) || in > 1e8 ? "input_toks" : "output_toks");
            ok = 0;
            break;
        }
        if (ft < q || lt < ft) {
            set_err(err, "%s:%d: field '%s': timestamps must satisfy queued_ts <= first_token_ts <= last_token_ts", path, line,
                    ft < q ? "first_token_ts" : "last_token_ts");
            ok = 0;
            break;
        }
        memset(&r, 0, sizeof r);
        r.P = (int32_t)in;
        r.D = (int32_t)out;
        r.arrival = q;
        r.ttft = (ft - q) * 1e3;
        r.e2e = (lt - q) * 1e3;
        r.tpot = r.D > 1 ? (lt - ft) * 1e3 / (r.D - 1) : -1;
        if (q < t0) t0 = q;
        req_push(g, &rcap, &r);
    }
    free(buf);
    fclose(f);
    if (!ok) return 0;
    if (!g->nreq) {
        set_err(err, "%s:1: no requests", path);
        return 0;
    }
    for (i = 0; i < g->nreq; i++) g->req[i].arrival -= t0;
    g->has_arrivals = 1;
    return read_meta(path, g, err);
}

/* vLLM benchmark_serving result JSON (--save-result with per-request details) */
static int read_benchmark_serving(const char *path, ground_truth *g, vidur_error *err)
{
    static const char *const arrays[] = {"input_lens", "output_lens", "ttfts", "itls"};
    json_t *root, *a[4], *errs, *rate;
    size_t n, i, k;
    int64_t cap = 0;
    if (!read_json_file(path, &root, err)) return 0;
    if (!json_is_object(root)) {
        set_err(err, "%s:1: expected a JSON object", path);
        goto bad;
    }
    for (k = 0; k < 4; k++) {
        a[k] = json_object_get(root, arrays[k]);
        if (!a[k] || !json_is_array(a[k])) {
            set_err(err, "%s:%d: field '%s': missing or not an array (save the result with per-request details)", path,
                    json_key_line(path, arrays[k]), arrays[k]);
            goto bad;
        }
    }
    n = json_array_size(a[0]);
    for (k = 1; k < 4; k++)
        if (json_array_size(a[k]) != n) {
            set_err(err, "%s:%d: field '%s': %zu entries, input_lens has %zu", path, json_key_line(path, arrays[k]), arrays[k],
                    json_array_size(a[k]), n);
            goto bad;
        }
    if (!n) {
        set_err(err, "%s:%d: field 'input_lens': no requests", path, json_key_line(path, "input_lens"));
        goto bad;
    }
    errs = json_object_get(root, "errors");
    rate = json_object_get(root, "request_rate");
    g->request_rate = INFINITY; /* "inf": every request at once */
    if (rate && json_is_number(rate)) g->request_rate = json_number_value(rate);
    else if (rate && json_is_string(rate) && strcmp(json_string_value(rate), "inf")) {
        set_err(err, "%s:%d: field 'request_rate': expected a number or \"inf\"", path, json_key_line(path, "request_rate"));
        goto bad;
    }
    if (!(g->request_rate > 0)) {
        set_err(err, "%s:%d: field 'request_rate': must be positive", path, json_key_line(path, "request_rate"));
        goto bad;
    }
    g->burstiness = 1.0;
    if (json_num(root, "burstiness", &g->burstiness, 0, path, json_key_line(path, "burstiness"), err) == 0) goto bad;
    if (!(g->burstiness > 0)) {
        set_err(err, "%s:%d: field 'burstiness': must be positive", path, json_key_line(path, "burstiness"));
        goto bad;
    }
    {
        json_t *mc = json_object_get(root, "max_concurrency");
        if (mc && !json_is_null(mc)) {
            set_err(err, "%s:%d: field 'max_concurrency': a concurrency-limited client is not modelled (rerun the benchmark without --max-concurrency)",
                    path, json_key_line(path, "max_concurrency"));
            goto bad;
        }
    }
    for (i = 0; i < n; i++) {
        json_t *in = json_array_get(a[0], i), *out = json_array_get(a[1], i), *tt = json_array_get(a[2], i), *it = json_array_get(a[3], i);
        json_t *e = errs && json_is_array(errs) ? json_array_get(errs, i) : NULL;
        req_rec r;
        size_t j;
        double sum = 0;
        const char *bad_field = NULL;
        if (e && json_is_string(e) && json_string_value(e)[0]) continue; /* a failed request */
        if (!json_is_integer(in) || json_integer_value(in) < 1) bad_field = "input_lens";
        else if (!json_is_integer(out) || json_integer_value(out) < 0) bad_field = "output_lens";
        else if (!json_is_number(tt) || !(json_number_value(tt) > 0) || !isfinite(json_number_value(tt))) bad_field = "ttfts";
        else if (!json_is_array(it)) bad_field = "itls";
        if (!bad_field && json_integer_value(out) == 0) continue; /* nothing generated: not a latency sample */
        for (j = 0; !bad_field && j < json_array_size(it); j++) {
            json_t *x = json_array_get(it, j);
            if (!json_is_number(x) || json_number_value(x) < 0 || !isfinite(json_number_value(x))) bad_field = "itls";
            else sum += json_number_value(x);
        }
        if (bad_field) {
            set_err(err, "%s:%d: field '%s[%zu]': expected %s", path, json_key_line(path, bad_field), bad_field, i,
                    !strcmp(bad_field, "itls") ? "a list of non-negative numbers (seconds)"
                    : !strcmp(bad_field, "ttfts") ? "a positive number (seconds)" : "a whole number of tokens");
            goto bad;
        }
        memset(&r, 0, sizeof r);
        r.arrival = NAN;
        r.P = (int32_t)json_integer_value(in);
        r.D = (int32_t)json_integer_value(out);
        r.ttft = json_number_value(tt) * 1e3;
        r.e2e = r.ttft + sum * 1e3;
        r.tpot = r.D > 1 ? (r.e2e - r.ttft) / (r.D - 1) : -1;
        req_push(g, &cap, &r);
    }
    json_decref(root);
    if (!g->nreq) {
        set_err(err, "%s:%d: field 'output_lens': no successful request", path, json_key_line(path, "output_lens"));
        return 0;
    }
    return 1;
bad:
    json_decref(root);
    return 0;
}

static int format_from_name(const char *name)
{
    int k;
    for (k = 0; k < 4; k++)
        if (!strcmp(name, gt_format_names[k])) return k;
    return -1;
}

static int guess_format(const char *path)
{
    if (ends_with(path, ".jsonl")) return GT_LLMSERVINGSIM;
    if (ends_with(path, ".json")) return GT_BENCHMARK_SERVING;
    return -1; /* CSV: by its header */
}

static int gt_read(const char *path, int format, const char *key, ground_truth *g, vidur_error *err)
{
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s", path);
    if (format < 0) format = guess_format(path);
    if (format < 0) {
        csv_t c;
        if (!csv_open(&c, path, err)) return 0;
        format = csv_col(&c, "exp_key") >= 0 ? GT_AGGREGATE : GT_REQUESTS;
        csv_close(&c);
    }
    g->format = format;
    switch (format) {
    case GT_AGGREGATE: return read_aggregate(path, key, g, err);
    case GT_REQUESTS: return read_requests_csv(path, g, err);
    case GT_LLMSERVINGSIM: return read_llmservingsim(path, g, err);
    default: return read_benchmark_serving(path, g, err);
    }
}

/* splitmix64, uniform in (0, 1) */
static double uniform01(uint64_t *st)
{
    uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* a Gamma(shape, 1) variate (Marsaglia and Tsang; shape < 1 by the u^(1/shape) boost) */
static double gamma_draw(uint64_t *st, double shape)
{
    double d, c, x, v, u;
    if (shape < 1) return gamma_draw(st, shape + 1) * pow(uniform01(st), 1.0 / shape);
    d = shape - 1.0 / 3.0;
    c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        do {
            double r = sqrt(-2.0 * log(uniform01(st))), a = 6.283185307179586 * uniform01(st);
            x = r * cos(a);
            v = 1.0 + c * x;
        } while (v <= 0);
        v = v * v * v;
        u = uniform01(st);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return d * v;
    }
}

/* arrivals the measurements do not have: vLLM's client draws gamma gaps (shape burstiness,
   mean 1/rate); regenerated here from our own stream (same distribution, not the same draws) */
static void gt_fill_arrivals(ground_truth *g, uint64_t seed)
{
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 1;
    double t = 0;
    int64_t i;
    if (g->has_arrivals) return;
    for (i = 0; i < g->nreq; i++) {
        if (i && isfinite(g->request_rate)) t += gamma_draw(&rng, g->burstiness) / (g->request_rate * g->burstiness);
        g->req[i].arrival = t;
    }
    g->has_arrivals = 1;
}

static int write_trace(const ground_truth *g, const char *path, vidur_error *err)
{
    FILE *f = fopen(path, "w");
    int64_t i;
    if (!f) {
        set_err(err, "%s: cannot write: %s", path, strerror(errno));
        return 0;
    }
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens\n", f);
    for (i = 0; i < g->nreq; i++) {
        const req_rec *r = &g->req[i];
        if (r->P < 1 || r->D < 1) {
            fclose(f);
            set_err(err, "%s: request %lld has no prompt/output token counts (input_toks, output_toks)", g->path, (long long)i);
            return 0;
        }
        fprintf(f, "%.9f,%d,%d\n", r->arrival, r->P, r->D);
    }
    if (fclose(f) != 0) {
        set_err(err, "%s: cannot write: %s", path, strerror(errno));
        return 0;
    }
    return 1;
}

/* ---- experiments -------------------------------------------------------------------------------- */
typedef struct experiment {
    char name[128];
    vidur_config cfg;          /* everything but the fitted parameters */
    ground_truth gt;
    double weight;
    int nstages;               /* shared_prefix load stages (0: one) */
    int64_t stage_end[VIDUR_MAX_STAGES];
    char trace[64];            /* temporary trace written from per-request ground truth */
} experiment;

typedef struct calib_set {
    experiment *exps;
    int nexp;
    char params[MAX_PARAMS][64];
    int nparams;
    int objective[NMETRICS][NSTATS]; /* metrics that enter the fit */
    char path[VIDUR_PATH_MAX];
} calib_set;

/* what one simulation predicts: per request, client-side */
typedef struct prediction {
    double *ttft, *e2e, *tpot; /* ms, by request id; tpot < 0: none */
    int64_t n, cap;
    int failed;
    char error[VIDUR_ERROR_MESSAGE_SIZE];
} prediction;

static void on_complete(void *user, vidur_sim *sim, const vidur_request *q)
{
    prediction *p = (prediction *)user;
    int64_t id = q->id, k;
    double D = q->arrival_num_decode_tokens;
    (void)sim;
    if (id < 0) return;
    if (id >= p->cap) {
        int64_t nc = p->cap ? p->cap : 1024;
        while (nc <= id) nc *= 2;
        p->ttft = (double *)xrealloc(p->ttft, sizeof(double) * (size_t)nc);
        p->e2e = (double *)xrealloc(p->e2e, sizeof(double) * (size_t)nc);
        p->tpot = (double *)xrealloc(p->tpot, sizeof(double) * (size_t)nc);
        for (k = p->cap; k < nc; k++) p->ttft[k] = NAN;
        p->cap = nc;
    }
    p->ttft[id] = (q->client_first_token_at - q->client_arrived_at) * 1e3;
    p->e2e[id] = (q->client_last_token_at - q->client_arrived_at) * 1e3;
    p->tpot[id] = D > 1 ? (p->e2e[id] - p->ttft[id]) / (D - 1) : -1;
    if (id + 1 > p->n) p->n = id + 1;
}

static void prediction_free(prediction *p)
{
    free(p->ttft);
    free(p->e2e);
    free(p->tpot);
    memset(p, 0, sizeof *p);
}

static int set_value(vidur_config *cfg, const char *key, double v, vidur_error *err)
{
    char flag[128], val[64];
    snprintf(flag, sizeof flag, "engine_config_%s", key);
    snprintf(val, sizeof val, "%.17g", v);
    return vidur_config_set(cfg, flag, val, err) == VIDUR_OK;
}

static void simulate(const experiment *e, const calib_set *cs, const double *x, prediction *p)
{
    vidur_config cfg = e->cfg;
    vidur_error err;
    vidur_sim *sim = NULL;
    int i;
    memset(p, 0, sizeof *p);
    for (i = 0; i < cs->nparams; i++)
        if (!set_value(&cfg, cs->params[i], x[i], &err)) goto fail;
    cfg.observer.on_request_complete = on_complete;
    cfg.observer.user = p;
    if (vidur_sim_create(&cfg, &sim, &err) || vidur_sim_run(sim)) {
        if (sim) err = *vidur_sim_error(sim);
        goto fail;
    }
    vidur_sim_destroy(sim);
    return;
fail:
    vidur_sim_destroy(sim);
    p->failed = 1;
    snprintf(p->error, sizeof p->error, "%.100s: %.390s", e->name, err.message);
}

/* the stage of request id (-1 when the workload has no stages) */
static int stage_of(const experiment *e, int64_t id)
{
    int s;
    for (s = 0; s < e->nstages; s++)
        if (id < e->stage_end[s]) return s;
    return -1;
}

/* predicted value of (stage, metric, stat); NAN when there is none. ITL follows the dev set's
   harness: (E2E mean - TTFT mean) over the divisor its own measurements imply. */
static double predicted(const experiment *e, const prediction *p, int stage, int metric, int stat)
{
    int64_t i, n = 0;
    double *v, out[NSTATS];
    if (metric == M_ITL) {
        double e2e = predicted(e, p, stage, M_E2E, 0), ttft = predicted(e, p, stage, M_TTFT, 0), a[3] = {NAN, NAN, NAN};
        int k;
        for (k = 0; k < e->gt.nagg; k++) {
            const agg_rec *r = &e->gt.agg[k];
            if (r->stage != stage || r->stat != 0) continue;
            if (r->metric == M_E2E) a[0] = r->value;
            if (r->metric == M_TTFT) a[1] = r->value;
            if (r->metric == M_ITL) a[2] = r->value;
        }
        if (stat != 0) return NAN;
        if (isfinite(a[0]) && isfinite(a[1]) && isfinite(a[2]) && a[0] > a[1]) return (e2e - ttft) / ((a[0] - a[1]) / a[2]);
        return predicted(e, p, stage, M_TPOT, 0);
    }
    v = (double *)xrealloc(NULL, sizeof(double) * (size_t)(p->n ? p->n : 1));
    for (i = 0; i < p->n; i++) {
        double x = metric == M_TTFT ? p->ttft[i] : metric == M_E2E ? p->e2e[i] : p->tpot[i];
        if (!(p->ttft[i] == p->ttft[i])) continue; /* not completed */
        if (stage >= 0 && stage_of(e, i) != stage) continue;
        if (metric == M_TPOT && x < 0) continue;
        v[n++] = x;
    }
    stats_of(v, n, out);
    free(v);
    return out[stat];
}

/* measured value of (stage, metric, stat) */
static double measured(const experiment *e, int stage, int metric, int stat)
{
    if (e->gt.format == GT_AGGREGATE) {
        int k;
        for (k = 0; k < e->gt.nagg; k++)
            if (e->gt.agg[k].stage == stage && e->gt.agg[k].metric == metric && e->gt.agg[k].stat == stat) return e->gt.agg[k].value;
        return NAN;
    } else {
        int64_t i, n = 0;
        double *v = (double *)xrealloc(NULL, sizeof(double) * (size_t)e->gt.nreq), out[NSTATS];
        if (stage >= 0 || metric == M_ITL) {
            free(v);
            return NAN;
        }
        for (i = 0; i < e->gt.nreq; i++) {
            const req_rec *r = &e->gt.req[i];
            double x = metric == M_TTFT ? r->ttft : metric == M_E2E ? r->e2e : r->tpot;
            if (metric == M_TPOT && x < 0) continue;
            v[n++] = x;
        }
        stats_of(v, n, out);
        free(v);
        return out[stat];
    }
}

/* the (stage, metric, stat) points an experiment is scored on */
typedef struct point {
    int stage, metric, stat;
} point;

static int points_of(const experiment *e, const calib_set *cs, point *pts, int max, int objective_only)
{
    /* aggregate records: the whole run and each load stage (a single stage is the whole run) */
    int n = 0, s, m, k, lo = -1, hi = e->gt.format == GT_AGGREGATE && e->nstages > 1 ? e->nstages : 0;
    for (s = lo; s < hi; s++)
        for (m = 0; m < NMETRICS; m++)
            for (k = 0; k < NSTATS; k++) {
                if (objective_only && !cs->objective[m][k]) continue;
                if (!isfinite(measured(e, s, m, k)) || n == max) continue;
                pts[n].stage = s;
                pts[n].metric = m;
                pts[n].stat = k;
                n++;
            }
    return n;
}

/* mean absolute percentage error of an experiment's objective points */
static double experiment_error(const experiment *e, const calib_set *cs, const prediction *p)
{
    point pts[4 * NMETRICS * NSTATS * (VIDUR_MAX_STAGES + 1) / 8];
    int n = points_of(e, cs, pts, (int)(sizeof pts / sizeof pts[0]), 1), i;
    double sum = 0;
    if (!n) return 0;
    for (i = 0; i < n; i++) {
        double y = measured(e, pts[i].stage, pts[i].metric, pts[i].stat), q = predicted(e, p, pts[i].stage, pts[i].metric, pts[i].stat);
        sum += isfinite(q) ? fabs(q - y) / y : 10.0; /* no prediction (nothing completed): a large error */
    }
    return sum / n;
}

/* ---- evaluation over threads ------------------------------------------------------------------- */
typedef struct job {
    const calib_set *cs;
    const double *x;
    const int *which; /* experiments to run */
    int n, next;
    prediction *pred;
    pthread_mutex_t lock;
} job;

static void *worker(void *arg)
{
    job *j = (job *)arg;
    for (;;) {
        int k;
        pthread_mutex_lock(&j->lock);
        k = j->next++;
        pthread_mutex_unlock(&j->lock);
        if (k >= j->n) return NULL;
        simulate(&j->cs->exps[j->which[k]], j->cs, j->x, &j->pred[k]);
    }
}

static int g_jobs = 1;

/* simulates experiments which[0..n) with parameters x; pred[k] for which[k] */
static int run_all(const calib_set *cs, const double *x, const int *which, int n, prediction *pred)
{
    job j;
    pthread_t th[64];
    int t, nt = g_jobs < n ? g_jobs : n, k;
    memset(&j, 0, sizeof j);
    j.cs = cs;
    j.x = x;
    j.which = which;
    j.n = n;
    j.pred = pred;
    pthread_mutex_init(&j.lock, NULL);
    if (nt > 64) nt = 64;
    for (t = 1; t < nt; t++)
        if (pthread_create(&th[t], NULL, worker, &j)) break;
    worker(&j);
    for (k = 1; k < t; k++) pthread_join(th[k], NULL);
    pthread_mutex_destroy(&j.lock);
    for (k = 0; k < n; k++)
        if (pred[k].failed) {
            fprintf(stderr, "vidur-calibrate: %s\n", pred[k].error);
            return 0;
        }
    return 1;
}

/* the objective: mean over the experiments of their weighted errors (which: the ones used) */
static double objective(const calib_set *cs, const double *x, const int *which, int n)
{
    prediction *pred = (prediction *)xrealloc(NULL, sizeof *pred * (size_t)n);
    double sum = 0, wsum = 0;
    int k, ok;
    ok = run_all(cs, x, which, n, pred);
    for (k = 0; k < n; k++) {
        if (ok) {
            const experiment *e = &cs->exps[which[k]];
            sum += e->weight * experiment_error(e, cs, &pred[k]);
            wsum += e->weight;
        }
        prediction_free(&pred[k]);
    }
    free(pred);
    if (!ok) exit(1);
    return wsum > 0 ? sum / wsum : 0;
}

/* ---- parameters --------------------------------------------------------------------------------- */
static void bounds_of(const char *key, double *lo, double *hi)
{
    *lo = 0;
    *hi = 1e6;
    if (strstr(key, "efficiency")) {
        *lo = 0.02;
        *hi = 1.0;
    }
    if (ends_with(key, "_factor")) *hi = 10; /* a multiplier of a measured time */
}

/* a typical magnitude of each kind of parameter: the fit's first steps are a fraction of the
   larger of it and the starting value, so a parameter that starts at 0 still moves */
static double scale_of(const char *key)
{
    if (strstr(key, "efficiency")) return 0.5;
    if (ends_with(key, "_kib")) return 1024;
    if (ends_with(key, "_per_token") || ends_with(key, "_per_request_us")) return 2;
    if (ends_with(key, "_us")) return 10;
    return 1; /* ms */
}

static void clamp_params(const calib_set *cs, double *x)
{
    int i;
    for (i = 0; i < cs->nparams; i++) {
        double lo, hi;
        bounds_of(cs->params[i], &lo, &hi);
        if (x[i] < lo) x[i] = lo;
        if (x[i] > hi) x[i] = hi;
    }
}

/* the value in effect of engine key `key` for config cfg */
static double param_value(const vidur_config *cfg, const char *key)
{
    vidur_engine_params e;
    int i, n = vidur_config_key_count();
    vidur_engine_resolve(cfg, &e);
    for (i = 0; i < n; i++) {
        vidur_key_info k = vidur_config_key_info(i);
        if (!strcmp(k.section, "engine_config") && !strcmp(k.key, key)) break;
    }
#define P(f) if (!strcmp(key, #f)) return (double)e.f
    P(frontend_input_ms); P(frontend_input_us_per_token); P(frontend_output_ms); P(frontend_stream_us_per_token);
    P(step_overhead_ms); P(cpu_step_ms); P(cpu_per_request_us); P(gemm_memory_efficiency); P(decode_attention_efficiency);
    P(layer_overhead_us); P(custom_allreduce_max_kib); P(custom_allreduce_latency_us); P(custom_allreduce_bus_efficiency);
    P(mixed_decode_attention_factor);
#undef P
    (void)i;
    return NAN;
}

/* ---- Nelder-Mead (deterministic: fixed start, fixed steps, fixed order) ---------------------- */
typedef struct nm_opts {
    int max_evals;
    double step; /* initial step, as a fraction of each value */
    double tol;  /* stop when the simplex's objective spread is below this */
    int verbose;
} nm_opts;

static double nm_minimize(const calib_set *cs, double *x, const int *which, int n, const nm_opts *o)
{
    int d = cs->nparams, i, j, evals = 0;
    double s[MAX_PARAMS + 1][MAX_PARAMS], f[MAX_PARAMS + 1], c[MAX_PARAMS], xr[MAX_PARAMS], xe[MAX_PARAMS], fr, fe;
    double best = INFINITY;
restart: /* a fresh simplex around the best point while that still improves the error */
    for (i = 0; i <= d; i++) {
        for (j = 0; j < d; j++) s[i][j] = x[j];
        if (i > 0) {
            double lo, hi, a = fabs(x[i - 1]), h = (a > scale_of(cs->params[i - 1]) ? a : scale_of(cs->params[i - 1])) * o->step;
            bounds_of(cs->params[i - 1], &lo, &hi);
            s[i][i - 1] = x[i - 1] + h > hi ? x[i - 1] - h : x[i - 1] + h;
        }
        clamp_params(cs, s[i]);
        f[i] = objective(cs, s[i], which, n);
        evals++;
    }
    while (evals < o->max_evals) {
        int order[MAX_PARAMS + 1], a, b;
        double ts[MAX_PARAMS + 1][MAX_PARAMS], tf[MAX_PARAMS + 1];
        for (i = 0; i <= d; i++) order[i] = i;
        for (a = 1; a <= d; a++) /* insertion sort: stable, deterministic */
            for (b = a; b > 0 && f[order[b]] < f[order[b - 1]]; b--) {
                int t = order[b];
                order[b] = order[b - 1];
                order[b - 1] = t;
            }
        for (i = 0; i <= d; i++) {
            memcpy(ts[i], s[order[i]], sizeof ts[i]);
            tf[i] = f[order[i]];
        }
        memcpy(s, ts, sizeof s);
        memcpy(f, tf, sizeof f);
        if (o->verbose) {
            fprintf(stderr, "  eval %3d  error %.4f%%  ", evals, f[0] * 100);
            for (j = 0; j < d; j++) fprintf(stderr, "%s=%.4g ", cs->params[j], s[0][j]);
            fputc('\n', stderr);
        }
        if (f[d] - f[0] < o->tol) break;
        for (j = 0; j < d; j++) {
            c[j] = 0;
            for (i = 0; i < d; i++) c[j] += s[i][j] / d;
        }
        for (j = 0; j < d; j++) xr[j] = c[j] + (c[j] - s[d][j]);
        clamp_params(cs, xr);
        fr = objective(cs, xr, which, n);
        evals++;
        if (fr < f[0]) {
            for (j = 0; j < d; j++) xe[j] = c[j] + 2 * (c[j] - s[d][j]);
            clamp_params(cs, xe);
            fe = objective(cs, xe, which, n);
            evals++;
            if (fe < fr) { memcpy(s[d], xe, sizeof xe); f[d] = fe; }
            else { memcpy(s[d], xr, sizeof xr); f[d] = fr; }
        } else if (fr < f[d - 1]) {
            memcpy(s[d], xr, sizeof xr);
            f[d] = fr;
        } else {
            for (j = 0; j < d; j++) xe[j] = c[j] + 0.5 * (s[d][j] - c[j]);
            clamp_params(cs, xe);
            fe = objective(cs, xe, which, n);
            evals++;
            if (fe < f[d]) { memcpy(s[d], xe, sizeof xe); f[d] = fe; }
            else
                for (i = 1; i <= d; i++) {
                    for (j = 0; j < d; j++) s[i][j] = s[0][j] + 0.5 * (s[i][j] - s[0][j]);
                    f[i] = objective(cs, s[i], which, n);
                    evals++;
                }
        }
    }
    for (i = 1, j = 0; i <= d; i++)
        if (f[i] < f[j]) j = i;
    memcpy(x, s[j], sizeof(double) * (size_t)d);
    /* a simulation's error is piecewise constant in the parameters (requests join iterations at
       discrete boundaries), so the simplex can stall on a plateau: probe each parameter alone,
       at shrinking steps, before deciding whether to restart */
    {
        static const double frac[] = {0.3, 0.1, 0.03, 0.01, 0.003};
        double fb = f[j];
        int k2, dir;
        for (k2 = 0; k2 < 5 && evals < o->max_evals; k2++)
            for (i = 0; i < d && evals < o->max_evals; i++)
                for (dir = -1; dir <= 1 && evals < o->max_evals; dir += 2) {
                    double y[MAX_PARAMS], a = fabs(x[i]) > scale_of(cs->params[i]) ? fabs(x[i]) : scale_of(cs->params[i]), fy;
                    int moved = 0;
                    for (;;) { /* keep going while the direction pays */
                        memcpy(y, x, sizeof(double) * (size_t)d);
                        y[i] += dir * frac[k2] * a;
                        clamp_params(cs, y);
                        if (y[i] == x[i] || evals >= o->max_evals) break;
                        fy = objective(cs, y, which, n);
                        evals++;
                        if (!(fy < fb)) break;
                        fb = fy;
                        memcpy(x, y, sizeof(double) * (size_t)d);
                        moved = 1;
                    }
                    if (moved) dir = 2; /* improved going down: no need to try up */
                }
        f[j] = fb;
    }
    if (f[j] < best - 1e-4 && evals < o->max_evals) {
        best = f[j];
        goto restart;
    }
    return f[j] < best ? f[j] : best;
}

/* ---- the calibration set ----------------------------------------------------------------------- */
typedef struct set_parse {
    calib_set *cs;
    char dir[VIDUR_PATH_MAX];
    char common[4][VIDUR_PATH_MAX]; /* [calibrate] config = files applied to every experiment */
    int ncommon;
    /* per experiment, as read */
    struct exp_src {
        char name[128], config[8][VIDUR_PATH_MAX], ground_truth[VIDUR_PATH_MAX], key[128], format[32], workload[16];
        int nconfig;
        double weight;
        int line;
    } *src;
    int nsrc;
    vidur_error err;
    int failed;
    const char *path;
} set_parse;

static int split_list(const char *v, char out[][VIDUR_PATH_MAX], int max)
{
    int n = 0;
    while (*v) {
        size_t len;
        while (*v == ' ' || *v == ',' || *v == '\t') v++;
        if (!*v) break;
        len = strcspn(v, " ,\t");
        if (n == max || len >= VIDUR_PATH_MAX) return -1;
        memcpy(out[n], v, len);
        out[n++][len] = 0;
        v += len;
    }
    return n;
}

static int set_handler(void *user, const char *section, const char *name, const char *value, int line)
{
    set_parse *sp = (set_parse *)user;
    calib_set *cs = sp->cs;
    if (sp->failed) return 0;
    if (!strcmp(section, "calibrate")) {
        if (!strcmp(name, "params")) {
            char list[MAX_PARAMS][VIDUR_PATH_MAX];
            int n = split_list(value, list, MAX_PARAMS), i;
            if (n <= 0) goto bad;
            cs->nparams = n;
            for (i = 0; i < n; i++) /* no engine_config key is that long */
                if (snprintf(cs->params[i], sizeof cs->params[i], "%s", list[i]) >= (int)sizeof cs->params[i]) goto bad;
        } else if (!strcmp(name, "metrics")) {
            char list[16][VIDUR_PATH_MAX];
            int n = split_list(value, list, 16), i, m, k;
            if (n <= 0) goto bad;
            memset(cs->objective, 0, sizeof cs->objective);
            for (i = 0; i < n; i++) {
                if (!parse_metric(list[i], &m, &k)) goto bad;
                cs->objective[m][k] = 1;
            }
        } else if (!strcmp(name, "config")) {
            int n = split_list(value, sp->common, 4);
            if (n < 0) goto bad;
            sp->ncommon = n;
        } else {
            set_err(&sp->err, "%s:%d: [calibrate] key '%s': unknown (params, metrics, config)", sp->path, line, name);
            sp->failed = 1;
            return 0;
        }
        return 1;
    }
    if (!strncmp(section, "experiment.", 11) && section[11]) {
        struct exp_src *e;
        if (!sp->nsrc || strcmp(sp->src[sp->nsrc - 1].name, section + 11)) {
            int i;
            for (i = 0; i < sp->nsrc; i++)
                if (!strcmp(sp->src[i].name, section + 11)) {
                    set_err(&sp->err, "%s:%d: section [%s]: given twice", sp->path, line, section);
                    sp->failed = 1;
                    return 0;
                }
            if (sp->nsrc == MAX_EXPS) {
                set_err(&sp->err, "%s:%d: more than %d experiments", sp->path, line, MAX_EXPS);
                sp->failed = 1;
                return 0;
            }
            sp->src = (struct exp_src *)xrealloc(sp->src, sizeof *sp->src * (size_t)(sp->nsrc + 1));
            e = &sp->src[sp->nsrc++];
            memset(e, 0, sizeof *e);
            snprintf(e->name, sizeof e->name, "%.127s", section + 11);
            e->weight = 1;
            e->line = line;
        }
        e = &sp->src[sp->nsrc - 1];
        if (!strcmp(name, "config")) {
            int n = split_list(value, e->config, 8);
            if (n < 0) goto bad;
            e->nconfig = n;
        } else if (!strcmp(name, "ground_truth")) snprintf(e->ground_truth, sizeof e->ground_truth, "%s", value);
        else if (!strcmp(name, "key")) snprintf(e->key, sizeof e->key, "%s", value);
        else if (!strcmp(name, "format")) {
            if (format_from_name(value) < 0) goto bad;
            snprintf(e->format, sizeof e->format, "%s", value);
        } else if (!strcmp(name, "workload")) {
            if (strcmp(value, "config") && strcmp(value, "ground_truth")) goto bad;
            snprintf(e->workload, sizeof e->workload, "%s", value);
        } else if (!strcmp(name, "weight")) {
            char *end;
            e->weight = strtod(value, &end);
            if (end == value || *end || !(e->weight >= 0) || e->weight > 1e6) goto bad;
        } else {
            set_err(&sp->err, "%s:%d: [%s] key '%s': unknown (config, ground_truth, key, format, workload, weight)", sp->path, line, section, name);
            sp->failed = 1;
            return 0;
        }
        return 1;
    }
    set_err(&sp->err, "%s:%d: section [%s]: unknown (expected [calibrate] or [experiment.NAME])", sp->path, line, section);
    sp->failed = 1;
    return 0;
bad:
    set_err(&sp->err, "%s:%d: [%s] key '%s': bad value '%s'", sp->path, line, section, name, value);
    sp->failed = 1;
    return 0;
}

static int load_set(const char *path, calib_set *cs, const char *const *extra_ini, int nextra, uint64_t seed, vidur_error *err)
{
    set_parse sp;
    FILE *f;
    int i, k;
    const char *slash = strrchr(path, '/');
    memset(&sp, 0, sizeof sp);
    memset(cs, 0, sizeof *cs);
    snprintf(cs->path, sizeof cs->path, "%s", path);
    cs->objective[M_E2E][0] = cs->objective[M_TTFT][0] = cs->objective[M_ITL][0] = cs->objective[M_TPOT][0] = 1;
    sp.cs = cs;
    sp.path = path;
    if (slash) snprintf(sp.dir, sizeof sp.dir, "%.*s", (int)(slash - path), path);
    f = fopen(path, "r");
    if (!f) {
        set_err(err, "%s: cannot open: %s", path, strerror(errno));
        return 0;
    }
    {
        /* a small INI reader of our own: messages name the line of the key (inih's handler
           has no line number in Debian's build) */
        char line[4096], section[256] = "";
        int ln = 0;
        while (fgets(line, sizeof line, f)) {
            char *p = line, *e, *eq;
            ln++;
            while (*p == ' ' || *p == '\t') p++;
            e = p + strlen(p);
            while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
            if (!*p || *p == ';' || *p == '#') continue;
            if (*p == '[') {
                char *close = strchr(p, ']');
                if (!close) {
                    set_err(err, "%s:%d: unterminated section header", path, ln);
                    fclose(f);
                    goto fail;
                }
                *close = 0;
                snprintf(section, sizeof section, "%s", p + 1);
                continue;
            }
            eq = strchr(p, '=');
            if (!eq) {
                set_err(err, "%s:%d: expected key = value", path, ln);
                fclose(f);
                goto fail;
            }
            {
                char *kend = eq, *v = eq + 1, *c;
                while (kend > p && (kend[-1] == ' ' || kend[-1] == '\t')) kend--;
                *kend = 0;
                while (*v == ' ' || *v == '\t') v++;
                for (c = v; *c; c++) /* inline comment: " ;" */
                    if (*c == ';' && c > v && (c[-1] == ' ' || c[-1] == '\t')) {
                        *c = 0;
                        break;
                    }
                c = v + strlen(v);
                while (c > v && (c[-1] == ' ' || c[-1] == '\t')) *--c = 0;
                if (!set_handler(&sp, section, p, v, ln)) {
                    *err = sp.err;
                    fclose(f);
                    goto fail;
                }
            }
        }
    }
    fclose(f);
    if (!sp.nsrc) {
        set_err(err, "%s: no [experiment.NAME] section", path);
        goto fail;
    }
    cs->exps = (experiment *)xrealloc(NULL, sizeof *cs->exps * (size_t)sp.nsrc);
    memset(cs->exps, 0, sizeof *cs->exps * (size_t)sp.nsrc);
    for (i = 0; i < sp.nsrc; i++) {
        struct exp_src *s = &sp.src[i];
        experiment *e = &cs->exps[i];
        char p[2 * VIDUR_PATH_MAX];
        int per_request, use_gt_workload;
        cs->nexp = i + 1;
        snprintf(e->name, sizeof e->name, "%s", s->name);
        e->weight = s->weight;
        if (!s->ground_truth[0]) {
            set_err(err, "%s:%d: [experiment.%s]: field 'ground_truth': missing", path, s->line, s->name);
            goto fail;
        }
        path_join(p, sizeof p, sp.dir, s->ground_truth);
        if (!gt_read(p, s->format[0] ? format_from_name(s->format) : -1, s->key[0] ? s->key : s->name, &e->gt, err)) goto fail;
        per_request = e->gt.format != GT_AGGREGATE;
        use_gt_workload = per_request && strcmp(s->workload, "config");
        vidur_config_init(&e->cfg);
        /* the measurement's own engine settings first; the configuration files override them */
        {
            char v[32];
            vidur_error e2;
            if (e->gt.meta_tp > 0) { snprintf(v, sizeof v, "%d", e->gt.meta_tp); vidur_config_set(&e->cfg, "replica_config_tensor_parallel_size", v, &e2); }
            if (e->gt.meta_max_num_seqs > 0) { snprintf(v, sizeof v, "%d", e->gt.meta_max_num_seqs); vidur_config_set(&e->cfg, "vllm_v1_scheduler_config_batch_size_cap", v, &e2); }
            if (e->gt.meta_max_num_batched_tokens > 0) { snprintf(v, sizeof v, "%d", e->gt.meta_max_num_batched_tokens); vidur_config_set(&e->cfg, "vllm_v1_scheduler_config_chunk_size", v, &e2); }
            if (e->gt.meta_num_gpu_blocks > 0) { snprintf(v, sizeof v, "%lld", (long long)e->gt.meta_num_gpu_blocks); vidur_config_set(&e->cfg, "cache_config_num_blocks", v, &e2); }
        }
        for (k = 0; k < sp.ncommon; k++) {
            path_join(p, sizeof p, sp.dir, sp.common[k]);
            if (vidur_config_load_ini(&e->cfg, p, err)) goto fail;
        }
        for (k = 0; k < s->nconfig; k++) {
            path_join(p, sizeof p, sp.dir, s->config[k]);
            if (vidur_config_load_ini(&e->cfg, p, err)) goto fail;
        }
        for (k = 0; k < nextra; k++)
            if (vidur_config_load_ini(&e->cfg, extra_ini[k], err)) goto fail;
        if (use_gt_workload) {
            int fd;
            int64_t j, maxtok = 2;
            char v[32];
            vidur_error e2;
            gt_fill_arrivals(&e->gt, seed);
            snprintf(e->trace, sizeof e->trace, "/tmp/vidur-calibrate.XXXXXX");
            fd = mkstemp(e->trace);
            if (fd < 0) {
                set_err(err, "cannot create a temporary trace: %s", strerror(errno));
                e->trace[0] = 0;
                goto fail;
            }
            close(fd);
            if (!write_trace(&e->gt, e->trace, err)) goto fail;
            for (j = 0; j < e->gt.nreq; j++)
                if (e->gt.req[j].P + e->gt.req[j].D > maxtok) maxtok = e->gt.req[j].P + e->gt.req[j].D;
            vidur_config_set(&e->cfg, "request_generator_config_type", "trace_replay", &e2);
            vidur_config_set(&e->cfg, "trace_request_generator_config_trace_file", e->trace, &e2);
            snprintf(v, sizeof v, "%lld", (long long)maxtok);
            vidur_config_set(&e->cfg, "trace_request_generator_config_max_tokens", v, &e2);
        }
        /* quiet, in-memory runs */
        e->cfg.write_metrics = 0;
        e->cfg.store_plots = 0;
        e->cfg.enable_chrome_trace = 0;
        e->cfg.store_utilization_metrics = 0;
        e->cfg.store_batch_metrics = 0;
        e->cfg.store_request_metrics = 0;
        if (!strcmp(e->cfg.request_generator_type, "shared_prefix")) {
            double rate[VIDUR_MAX_STAGES], dur[VIDUR_MAX_STAGES];
            int64_t end = 0;
            e->nstages = vidur_load_stages_parse(e->cfg.shared_prefix_stages, rate, dur, VIDUR_MAX_STAGES, err);
            if (e->nstages < 0) goto fail;
            for (k = 0; k < e->nstages; k++) e->stage_end[k] = end += (int64_t)(rate[k] * dur[k]);
        }
        if (e->gt.format == GT_AGGREGATE)
            for (k = 0; k < e->gt.nagg; k++)
                if (e->gt.agg[k].stage >= (e->nstages > 1 ? e->nstages : 1)) {
                    set_err(err, "%s: experiment %s: a record for stage %d, but the workload has %d load stage(s) (use stage -1 for the whole run)",
                            e->gt.path, e->name, e->gt.agg[k].stage, e->nstages > 1 ? e->nstages : 1);
                    goto fail;
                }
        if (vidur_config_validate(&e->cfg, err)) {
            char m[VIDUR_ERROR_MESSAGE_SIZE];
            snprintf(m, sizeof m, "experiment %.100s: %.390s", e->name, err->message);
            snprintf(err->message, sizeof err->message, "%s", m);
            goto fail;
        }
    }
    if (!cs->nparams) {
        cs->nparams = 0; /* validation only, or the profile's fitted set (main) */
    }
    for (i = 0; i < cs->nparams; i++) {
        double v = param_value(&cs->exps[0].cfg, cs->params[i]);
        if (!isfinite(v)) {
            set_err(err, "%s: [calibrate] params: '%s' is not a fittable engine_config key", path, cs->params[i]);
            goto fail;
        }
    }
    free(sp.src);
    return 1;
fail:
    free(sp.src);
    return 0;
}

static void free_set(calib_set *cs)
{
    int i;
    for (i = 0; i < cs->nexp; i++) {
        if (cs->exps[i].trace[0]) remove(cs->exps[i].trace);
        gt_free(&cs->exps[i].gt);
    }
    free(cs->exps);
    memset(cs, 0, sizeof *cs);
}

/* ---- reports ---------------------------------------------------------------------------------- */
static void point_name(const point *pt, char *buf, size_t n)
{
    if (pt->stage >= 0) snprintf(buf, n, "%s_%s@%d", metric_names[pt->metric], stat_names[pt->stat], pt->stage);
    else snprintf(buf, n, "%s_%s", metric_names[pt->metric], stat_names[pt->stat]);
}

static double median_of(double *v, int n)
{
    if (!n) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* signed error % of experiment e's whole-run (stage -1) objective metrics */
static void whole_run_errors(const experiment *e, const calib_set *cs, const prediction *p, double err[NMETRICS][NSTATS])
{
    int m, k;
    for (m = 0; m < NMETRICS; m++)
        for (k = 0; k < NSTATS; k++) {
            double y = cs->objective[m][k] ? measured(e, -1, m, k) : NAN;
            err[m][k] = isfinite(y) ? (predicted(e, p, -1, m, k) - y) / y * 100 : NAN;
        }
}

static void print_usage(FILE *f)
{
    fputs("usage: vidur-calibrate [options] SET.ini          fit the engine parameters; fit and leave-one-out errors\n"
          "       vidur-calibrate --validate [options] SET.ini  measured vs predicted (no fit)\n"
          "       vidur-calibrate --trace GROUND_TRUTH -o OUT.csv  a vidur trace from per-request measurements\n"
          "options:\n"
          "  --out FILE.ini     write the fitted [engine_config] (vidur reads it)\n"
          "  --config FILE.ini  applied to every experiment after its own configuration (repeatable;\n"
          "                     e.g. a fitted INI to validate or to start from)\n"
          "  --params a,b,...   engine_config keys to fit (default: [calibrate] params)\n"
          "  --max-evals N      simulations rounds of the fit (default 160); --loeo-evals N for each\n"
          "                     leave-one-experiment-out refit (default 60); --no-loeo skips them\n"
          "  --jobs N           experiments simulated in parallel threads (default 1; results identical)\n"
          "  --seed N           stream of regenerated arrivals (benchmark_serving has none; default 0)\n"
          "  --csv FILE         per experiment and metric: measured, predicted, signed and absolute error\n"
          "  --report FILE.html with --validate: a report (tables; measured and simulated CDFs of TTFT,\n"
          "                     TPOT and E2E where the ground truth has per-request data)\n"
          "  --verbose          the fit's progress on stderr\n"
          "SET.ini: [calibrate] params = ..., metrics = e2e_mean ttft_mean itl_mean tpot_mean, config = FILES;\n"
          "[experiment.NAME] config = FILES, ground_truth = FILE, key = EXP_KEY, format = aggregate|requests|\n"
          "llmservingsim|benchmark_serving, workload = config|ground_truth, weight = W.\n"
          "Paths in SET.ini are relative to it; paths inside vidur INIs to the working directory.\n"
          "See docs/engine_model.md.\n",
          f);
}

static void write_csv_rows(FILE *f, const calib_set *cs, const prediction *pred, const char *tag)
{
    int i, k, n;
    point pts[512];
    for (i = 0; i < cs->nexp; i++) {
        const experiment *e = &cs->exps[i];
        n = points_of(e, cs, pts, 512, 0);
        for (k = 0; k < n; k++) {
            double y = measured(e, pts[k].stage, pts[k].metric, pts[k].stat), q = predicted(e, &pred[i], pts[k].stage, pts[k].metric, pts[k].stat);
            fprintf(f, "%s,%s,%d,%s_%s,%.6f,%.6f,%.4f,%.4f\n", tag, e->name, pts[k].stage, metric_names[pts[k].metric], stat_names[pts[k].stat], y, q,
                    (q - y) / y * 100, fabs(q - y) / y * 100);
        }
    }
}

/* measured and simulated CDFs of one metric (per-request ground truth only) */
static void report_cdf(FILE *f, const experiment *e, const prediction *p, int metric)
{
    double *mx = (double *)xrealloc(NULL, sizeof(double) * (size_t)(e->gt.nreq + 1)), *my, *sx, *sy;
    int64_t i, nm = 0, ns = 0;
    vidur_svg_series s[2];
    vidur_svg_plot pl;
    char title[160];
    my = (double *)xrealloc(NULL, sizeof(double) * (size_t)(e->gt.nreq + 1));
    sx = (double *)xrealloc(NULL, sizeof(double) * (size_t)(p->n + 1));
    sy = (double *)xrealloc(NULL, sizeof(double) * (size_t)(p->n + 1));
    for (i = 0; i < e->gt.nreq; i++) {
        double v = metric == M_TTFT ? e->gt.req[i].ttft : metric == M_E2E ? e->gt.req[i].e2e : e->gt.req[i].tpot;
        if (v >= 0) mx[nm++] = v;
    }
    for (i = 0; i < p->n; i++) {
        double v = metric == M_TTFT ? p->ttft[i] : metric == M_E2E ? p->e2e[i] : p->tpot[i];
        if (p->ttft[i] == p->ttft[i] && v >= 0) sx[ns++] = v;
    }
    qsort(mx, (size_t)nm, sizeof *mx, cmp_double);
    qsort(sx, (size_t)ns, sizeof *sx, cmp_double);
    for (i = 0; i < nm; i++) my[i] = (double)(i + 1) / (double)nm;
    for (i = 0; i < ns; i++) sy[i] = (double)(i + 1) / (double)ns;
    memset(s, 0, sizeof s);
    s[0].name = "measured";
    s[0].x = mx;
    s[0].y = my;
    s[0].n = nm;
    s[1].name = "vidur.h";
    s[1].x = sx;
    s[1].y = sy;
    s[1].n = ns;
    memset(&pl, 0, sizeof pl);
    snprintf(title, sizeof title, "%s: %s CDF", e->name, metric == M_TTFT ? "TTFT" : metric == M_E2E ? "E2E" : "TPOT");
    pl.title = title;
    pl.x_label = "ms";
    pl.y_label = "fraction of requests";
    pl.width = 420;
    pl.height = 280;
    vidur_svg_plot_write(f, &pl, s, 2);
    free(mx);
    free(my);
    free(sx);
    free(sy);
}

static int write_report(const char *path, const calib_set *cs, const prediction *pred)
{
    FILE *f = fopen(path, "w");
    int i, k, n;
    point pts[512];
    if (!f) {
        fprintf(stderr, "vidur-calibrate: %s: cannot write: %s\n", path, strerror(errno));
        return 0;
    }
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>vidur.h against measurements</title>\n"
          "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
          "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#eee}td:first-child{text-align:left}</style>"
          "</head><body>\n<h1>vidur.h against measurements</h1>\n<p>",
          f);
    vidur_xml_escape(f, cs->path);
    fprintf(f, " (vidur %s); errors are (predicted - measured) / measured.</p>\n", vidur_version_string());
    for (i = 0; i < cs->nexp; i++) {
        const experiment *e = &cs->exps[i];
        fputs("<h2>", f);
        vidur_xml_escape(f, e->name);
        fputs("</h2>\n<p>ground truth: ", f);
        vidur_xml_escape(f, e->gt.path);
        fprintf(f, " (%s)</p>\n<table><tr><th>metric</th><th>measured (ms)</th><th>vidur.h (ms)</th><th>signed error</th><th>absolute error</th></tr>\n",
                gt_format_names[e->gt.format]);
        n = points_of(e, cs, pts, 512, 0);
        for (k = 0; k < n; k++) {
            char name[64];
            double y = measured(e, pts[k].stage, pts[k].metric, pts[k].stat), q = predicted(e, &pred[i], pts[k].stage, pts[k].metric, pts[k].stat);
            point_name(&pts[k], name, sizeof name);
            fprintf(f, "<tr><td>%s</td><td>%.2f</td><td>%.2f</td><td>%+.1f %%</td><td>%.1f %%</td></tr>\n", name, y, q, (q - y) / y * 100,
                    fabs(q - y) / y * 100);
        }
        fputs("</table>\n", f);
        if (e->gt.format != GT_AGGREGATE) {
            report_cdf(f, e, &pred[i], M_TTFT);
            report_cdf(f, e, &pred[i], M_TPOT);
            report_cdf(f, e, &pred[i], M_E2E);
        }
    }
    fputs("</body></html>\n", f);
    if (fclose(f) != 0) {
        fprintf(stderr, "vidur-calibrate: %s: cannot write\n", path);
        return 0;
    }
    return 1;
}

/* measured vs predicted for every experiment (no fit) */
static int validate(const calib_set *cs, const char *csv, const char *report)
{
    int *which = (int *)xrealloc(NULL, sizeof(int) * (size_t)cs->nexp), i, k, n;
    prediction *pred = (prediction *)xrealloc(NULL, sizeof *pred * (size_t)cs->nexp);
    double x[MAX_PARAMS];
    point pts[512];
    for (i = 0; i < cs->nexp; i++) which[i] = i;
    for (i = 0; i < cs->nparams; i++) x[i] = param_value(&cs->exps[0].cfg, cs->params[i]);
    if (!run_all(cs, x, which, cs->nexp, pred)) return 0;
    for (i = 0; i < cs->nexp; i++) {
        const experiment *e = &cs->exps[i];
        printf("== %s (%s: %s)\n", e->name, gt_format_names[e->gt.format], e->gt.path);
        printf("%-22s %14s %14s %9s %9s\n", "metric", "measured ms", "vidur.h ms", "signed", "abs");
        n = points_of(e, cs, pts, 512, 0);
        for (k = 0; k < n; k++) {
            char name[64];
            double y = measured(e, pts[k].stage, pts[k].metric, pts[k].stat), q = predicted(e, &pred[i], pts[k].stage, pts[k].metric, pts[k].stat);
            point_name(&pts[k], name, sizeof name);
            printf("%-22s %14.2f %14.2f %+8.1f%% %8.1f%%\n", name, y, q, (q - y) / y * 100, fabs(q - y) / y * 100);
        }
    }
    if (csv) {
        FILE *f = fopen(csv, "w");
        if (!f) {
            fprintf(stderr, "vidur-calibrate: %s: cannot write: %s\n", csv, strerror(errno));
            return 0;
        }
        fputs("set,experiment,stage,metric,measured_ms,predicted_ms,signed_error_pct,abs_error_pct\n", f);
        write_csv_rows(f, cs, pred, "validate");
        fclose(f);
    }
    if (report && !write_report(report, cs, pred)) return 0;
    for (i = 0; i < cs->nexp; i++) prediction_free(&pred[i]);
    free(pred);
    free(which);
    return 1;
}

/* the fit, its per-experiment errors, and the leave-one-experiment-out errors */
static int fit(calib_set *cs, const char *out, const char *csv, int max_evals, int loeo_evals, int verbose)
{
    int *which = (int *)xrealloc(NULL, sizeof(int) * (size_t)cs->nexp), i, j, m, k;
    double x[MAX_PARAMS], x0[MAX_PARAMS], f0, f1;
    double (*fit_err)[NMETRICS][NSTATS] = xrealloc(NULL, sizeof *fit_err * (size_t)cs->nexp);
    double (*loo_err)[NMETRICS][NSTATS] = xrealloc(NULL, sizeof *loo_err * (size_t)cs->nexp);
    double (*loo_x)[MAX_PARAMS] = xrealloc(NULL, sizeof *loo_x * (size_t)cs->nexp);
    prediction *pred = (prediction *)xrealloc(NULL, sizeof *pred * (size_t)cs->nexp);
    nm_opts o;
    FILE *csvf = NULL;
    for (i = 0; i < cs->nexp; i++) which[i] = i;
    for (i = 0; i < cs->nparams; i++) x0[i] = x[i] = param_value(&cs->exps[0].cfg, cs->params[i]);
    clamp_params(cs, x);
    memcpy(x0, x, sizeof x0);
    f0 = objective(cs, x, which, cs->nexp);
    printf("vidur-calibrate: %d experiments, %d parameters; error at the start %.2f %%\n", cs->nexp, cs->nparams, f0 * 100);
    o.max_evals = max_evals;
    o.step = 0.15;
    o.tol = 1e-5;
    o.verbose = verbose;
    f1 = nm_minimize(cs, x, which, cs->nexp, &o);
    if (f1 > f0) { /* never worse than the start */
        memcpy(x, x0, sizeof x);
        f1 = f0;
    }
    printf("fitted (mean absolute error %.2f %%):\n", f1 * 100);
    for (i = 0; i < cs->nparams; i++) printf("  %-32s %.6g   (start %.6g)\n", cs->params[i], x[i], x0[i]);
    if (!run_all(cs, x, which, cs->nexp, pred)) return 0;
    for (i = 0; i < cs->nexp; i++) whole_run_errors(&cs->exps[i], cs, &pred[i], fit_err[i]);
    if (csv) {
        csvf = fopen(csv, "w");
        if (!csvf) {
            fprintf(stderr, "vidur-calibrate: %s: cannot write: %s\n", csv, strerror(errno));
            return 0;
        }
        fputs("set,experiment,stage,metric,measured_ms,predicted_ms,signed_error_pct,abs_error_pct\n", csvf);
        write_csv_rows(csvf, cs, pred, "fit");
    }
    for (i = 0; i < cs->nexp; i++) prediction_free(&pred[i]);
    /* leave one experiment out: refit on the others (from the full fit), predict the one left out */
    for (i = 0; i < cs->nexp; i++)
        for (m = 0; m < NMETRICS; m++)
            for (k = 0; k < NSTATS; k++) loo_err[i][m][k] = NAN;
    if (loeo_evals > 0 && cs->nexp > 1) {
        for (i = 0; i < cs->nexp; i++) {
            int n = 0;
            for (j = 0; j < cs->nexp; j++)
                if (j != i) which[n++] = j;
            memcpy(loo_x[i], x, sizeof x);
            o.max_evals = loeo_evals;
            o.step = 0.08;
            nm_minimize(cs, loo_x[i], which, n, &o);
            which[0] = i;
            if (!run_all(cs, loo_x[i], which, 1, pred)) return 0;
            whole_run_errors(&cs->exps[i], cs, &pred[0], loo_err[i]);
            if (csvf) {
                calib_set one = *cs;
                one.exps = &cs->exps[i];
                one.nexp = 1;
                write_csv_rows(csvf, &one, pred, "loeo");
            }
            prediction_free(&pred[0]);
            if (verbose) fprintf(stderr, "  left out %s\n", cs->exps[i].name);
        }
    }
    if (csvf) fclose(csvf);
    /* the table: signed error % per experiment, whole run, fit | leave-one-out */
    printf("\nsigned error %% (predicted - measured) / measured, whole run: fit | left out of the fit\n%-44s", "experiment");
    for (m = 0; m < NMETRICS; m++)
        for (k = 0; k < NSTATS; k++)
            if (cs->objective[m][k]) {
                char h[32];
                snprintf(h, sizeof h, "%s_%s", metric_names[m], stat_names[k]);
                printf(" %17s", h);
            }
    putchar('\n');
    for (i = 0; i < cs->nexp; i++) {
        printf("%-44.44s", cs->exps[i].name);
        for (m = 0; m < NMETRICS; m++)
            for (k = 0; k < NSTATS; k++)
                if (cs->objective[m][k]) {
                    if (isfinite(fit_err[i][m][k])) printf(" %+8.1f|%-+8.1f", fit_err[i][m][k], loo_err[i][m][k]);
                    else printf(" %17s", "-");
                }
        putchar('\n');
    }
    printf("%-44s", "median |error| (fit | left out)");
    for (m = 0; m < NMETRICS; m++)
        for (k = 0; k < NSTATS; k++)
            if (cs->objective[m][k]) {
                double a[MAX_EXPS], b[MAX_EXPS];
                int na = 0, nb = 0;
                for (i = 0; i < cs->nexp; i++) {
                    if (isfinite(fit_err[i][m][k])) a[na++] = fabs(fit_err[i][m][k]);
                    if (isfinite(loo_err[i][m][k])) b[nb++] = fabs(loo_err[i][m][k]);
                }
                if (na) printf(" %8.1f|%-8.1f", median_of(a, na), median_of(b, nb));
                else printf(" %17s", "-");
            }
    putchar('\n');
    if (out) {
        FILE *f = fopen(out, "w");
        if (!f) {
            fprintf(stderr, "vidur-calibrate: %s: cannot write: %s\n", out, strerror(errno));
            return 0;
        }
        fprintf(f, "; written by vidur-calibrate %s from %s (%d experiments): mean absolute error %.2f %% (start %.2f %%)\n",
                vidur_version_string(), cs->path, cs->nexp, f1 * 100, f0 * 100);
        fprintf(f, "[engine_config]\nprofile = %s\n", cs->exps[0].cfg.engine.profile);
        for (i = 0; i < cs->nparams; i++) fprintf(f, "%s = %.6g\n", cs->params[i], x[i]);
        if (fclose(f) != 0) {
            fprintf(stderr, "vidur-calibrate: %s: cannot write\n", out);
            return 0;
        }
        printf("wrote %s\n", out);
    }
    free(which);
    free(fit_err);
    free(loo_err);
    free(loo_x);
    free(pred);
    return 1;
}

int main(int argc, char **argv)
{
    const char *set = NULL, *out = NULL, *csv = NULL, *report = NULL, *trace_in = NULL, *params = NULL;
    const char *extra[16];
    int nextra = 0, i, do_validate = 0, max_evals = 160, loeo_evals = 60, verbose = 0, ok;
    uint64_t seed = 0;
    calib_set cs;
    vidur_error err;
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress and tables appear as they are computed */
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { print_usage(stdout); return 0; }
        else if (!strcmp(a, "--validate")) do_validate = 1;
        else if (!strcmp(a, "--no-loeo")) loeo_evals = 0;
        else if (!strcmp(a, "--verbose")) verbose = 1;
        else if (has && (!strcmp(a, "--out") || !strcmp(a, "-o"))) out = argv[++i];
        else if (has && !strcmp(a, "--csv")) csv = argv[++i];
        else if (has && !strcmp(a, "--report")) report = argv[++i];
        else if (has && !strcmp(a, "--trace")) trace_in = argv[++i];
        else if (has && !strcmp(a, "--params")) params = argv[++i];
        else if (has && !strcmp(a, "--config")) {
            if (nextra == 16) { fputs("vidur-calibrate: at most 16 --config files\n", stderr); return 2; }
            extra[nextra++] = argv[++i];
        } else if (has && (!strcmp(a, "--max-evals") || !strcmp(a, "--loeo-evals") || !strcmp(a, "--jobs") || !strcmp(a, "--seed"))) {
            char *end;
            long long v = strtoll(argv[i + 1], &end, 10);
            if (end == argv[i + 1] || *end || v < 0 || v > 1000000) {
                fprintf(stderr, "vidur-calibrate: %s: expected a whole number, got '%s'\n", a, argv[i + 1]);
                return 2;
            }
            if (!strcmp(a, "--max-evals")) max_evals = (int)v;
            else if (!strcmp(a, "--loeo-evals")) loeo_evals = (int)v;
            else if (!strcmp(a, "--jobs")) g_jobs = v < 1 ? 1 : (int)v;
            else seed = (uint64_t)v;
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "vidur-calibrate: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!set) set = a;
        else {
            fprintf(stderr, "vidur-calibrate: one set file, got '%s' and '%s'\n", set, a);
            return 2;
        }
    }
    if (trace_in) {
        ground_truth g;
        if (!out) { fputs("vidur-calibrate: --trace needs -o OUT.csv\n", stderr); return 2; }
        if (!gt_read(trace_in, -1, "", &g, &err) || (g.format == GT_AGGREGATE && (set_err(&err, "%s: aggregate records have no requests", trace_in), 1))) {
            fprintf(stderr, "vidur-calibrate: %s\n", err.message);
            gt_free(&g);
            return 1;
        }
        gt_fill_arrivals(&g, seed);
        ok = write_trace(&g, out, &err);
        if (!ok) fprintf(stderr, "vidur-calibrate: %s\n", err.message);
        else printf("wrote %s (%lld requests)\n", out, (long long)g.nreq);
        gt_free(&g);
        return ok ? 0 : 1;
    }
    if (!set) {
        print_usage(stderr);
        return 2;
    }
    if (!load_set(set, &cs, extra, nextra, seed, &err)) {
        fprintf(stderr, "vidur-calibrate: %s\n", err.message);
        free_set(&cs);
        return 1;
    }
    if (params) {
        char list[MAX_PARAMS][VIDUR_PATH_MAX];
        int n = split_list(params, list, MAX_PARAMS);
        if (n <= 0) { fputs("vidur-calibrate: --params: expected a comma-separated list of engine_config keys\n", stderr); free_set(&cs); return 2; }
        cs.nparams = n;
        for (i = 0; i < n; i++) {
            /* a name cut at the buffer's end is no engine_config key either: the check below says so */
            if (snprintf(cs.params[i], sizeof cs.params[i], "%s", list[i]) >= (int)sizeof cs.params[i]) cs.params[i][0] = 0;
            if (!isfinite(param_value(&cs.exps[0].cfg, cs.params[i]))) {
                fprintf(stderr, "vidur-calibrate: --params: '%s' is not a fittable engine_config key\n", cs.params[i]);
                free_set(&cs);
                return 2;
            }
        }
    }
    if (do_validate) ok = validate(&cs, csv, report);
    else if (!cs.nparams) {
        fprintf(stderr, "vidur-calibrate: %s: nothing to fit ([calibrate] params or --params)\n", set);
        ok = 0;
    } else {
        if (!vidur_engine_active(&cs.exps[0].cfg)) {
            fprintf(stderr, "vidur-calibrate: %s: the experiments run Vidur's model (set engine_config profile = vllm_v0_15 in [calibrate] config)\n", set);
            ok = 0;
        } else ok = fit(&cs, out, csv, max_evals, loeo_evals, verbose);
    }
    free_set(&cs);
    return ok ? 0 : 1;
}
