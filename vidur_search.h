/* vidur_search.h - capacity search for vidur.h (the fork's config explorer); versioned with vidur.h

   A second single-file header, built only on vidur.h's public API (as sokol_gl.h sits on
   sokol_gfx.h): vidur.h never calls it. Include vidur.h first; in EXACTLY ONE C or C++ file write

       #define VIDUR_IMPLEMENTATION          // vidur.h's implementation (here or elsewhere)
       #include "vidur.h"
       #define VIDUR_SEARCH_IMPLEMENTATION
       #include "vidur_search.h"

   Link as for vidur.h: cc prog.c $(pkg-config --cflags --libs inih) -lm

   TABLE OF CONTENTS
       1. What it does
       2. Compile-time options
       3. API overview

   1. WHAT IT DOES ------------------------------------------------------------------------------

       Finds the cheapest deployment that meets latency SLOs, as the config explorer of Vidur's
       canary fork does (docs/capacity_search.md). A search INI lists the values of every
       deployment axis (models, clusters, traces, routers, request queues, replica schedulers,
       SLO configs, TP, PP, batch sizes; ours after them: expert parallelism, weight and KV cache
       precisions); vidur_search_expand takes their Cartesian product in the fork's order and
       marks invalid combinations with a reason; vidur_search_run runs the
       fork's search (exponential then binary on QPS, or on the replica count) over an oracle the
       caller supplies: a function that says whether one (qps, replicas) run meets an SLO.
       tools/vidur-search.c drives it over a process pool (and MPI), with resume and reports;
       examples/capacity_search.c is the library side in one page. The search INI format is
       described in docs/capacity_search.md.

   2. COMPILE-TIME OPTIONS ----------------------------------------------------------------------

       VIDUR_SEARCH_IMPLEMENTATION  compile the implementation in this translation unit (needs
                              vidur.h's declarations; its implementation may live in another one).
       VIDUR_STATIC           as for vidur.h: the search's functions become static too (then both
                              implementations must be in the same translation unit).
       VIDUR_MALLOC(sz) VIDUR_REALLOC(p,sz) VIDUR_FREE(p)
                              the same hooks as vidur.h (all three or none); the job array of
                              vidur_search_expand is freed with VIDUR_FREE (free() by default).
       VIDUR_NO_INIH          leave out the search INI reader (vidur_search_spec_load and _string
                              return VIDUR_ERR_UNSUPPORTED).
       VIDUR_JSON             as for vidur.h (define it for both, link jansson): a [model.NAME]
                              with `config = config.json` is read by vidur_search_job_config
                              (vidur_config_load_model_config). Without it such a job's config
                              fails validation, naming replica_config_model_config.

   3. API OVERVIEW -------------------------------------------------------------------------------

       Spec     vidur_search_spec_load / _load_string / _free (the search INI).
       Expand   vidur_search_expand (jobs in the fork's order, with keys and 8-digit hashes),
                vidur_search_job_config (the simulator config of one run of a job),
                vidur_search_cost_per_hour, vidur_search_qps_per_dollar.
       Judge    vidur_search_values_attach / _free (per-request metrics through the observer),
                vidur_search_slo_check, vidur_search_quantile, vidur_search_metric_from_name.
       Search   vidur_search_run (the fork's loops over an oracle), vidur_search_format_float
                (Python's str(float), for run folder names).
*/
#ifndef VIDUR_SEARCH_H
#define VIDUR_SEARCH_H

#ifndef VIDUR_H
#error "vidur_search.h needs vidur.h: include vidur.h first"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define VIDUR_SEARCH_MAX_ITEMS 32   /* entries per list (clusters, schedulers, traces, ...) */
#define VIDUR_SEARCH_MAX_SLOS 8     /* metric SLOs per SLO config */
#define VIDUR_SEARCH_MAX_DIMS 16    /* batch sizes, TP / PP dimensions, excluded TP, multipliers */
#define VIDUR_SEARCH_MAX_COMBINATIONS 1000000 /* an expanded space (a larger one is refused) */

typedef enum vidur_search_for { VIDUR_SEARCH_QPS, VIDUR_SEARCH_NUM_REPLICAS, VIDUR_SEARCH_ISOQPS } vidur_search_for;

typedef struct vidur_search_cluster {
    char label[VIDUR_NAME_MAX];           /* [cluster.LABEL] */
    char device[VIDUR_NAME_MAX];          /* a built-in GPU, a40 ... mi300x (prices from the device table) */
    char network_device[VIDUR_NAME_MAX];  /* node SKU, e.g. h100_dgx */
    int gpus_per_node;
    int line;
} vidur_search_cluster;

typedef struct vidur_search_global_scheduler {
    char label[VIDUR_NAME_MAX];
    char scheduler[VIDUR_NAME_MAX];
    int top_k;                    /* 0 = unset */
    double tolerance_factor;      /* 0 = unset */
    char tolerance_text[32];      /* as the fork's key prints it ("2.0") */
    int line;
} vidur_search_global_scheduler;

typedef struct vidur_search_request_queue {
    char name[VIDUR_NAME_MAX];
    char provider[32];            /* fcfs | edf */
    double slo_prefill_e2e_time_normalized; /* edf; 0 = unset */
    int line;
} vidur_search_request_queue;

typedef struct vidur_search_replica_scheduler {
    char label[VIDUR_NAME_MAX];
    char scheduler[VIDUR_NAME_MAX]; /* vllm | sarathi | vllm_v1 | any replica scheduler type */
    int chunk_size;                 /* required for sarathi and vllm_v1; 0 = unset */
    int line;
} vidur_search_replica_scheduler;

typedef struct vidur_search_slo {
    int metric;                   /* a request metric: VIDUR_METRIC_* < VIDUR_NUM_REQUEST_TIME_METRICS */
    double value;                 /* seconds (or seconds per token for *_normalized) */
} vidur_search_slo;

typedef struct vidur_search_slo_config {
    char name[VIDUR_NAME_MAX];
    int is_or;                    /* type: 0 = and, 1 = or */
    double quantile;              /* (0, 1] */
    int num_slos;
    vidur_search_slo slos[VIDUR_SEARCH_MAX_SLOS];
    int line;
} vidur_search_slo_config;

typedef struct vidur_search_trace {
    char name[VIDUR_NAME_MAX];
    char trace_file[VIDUR_PATH_MAX];
    int max_seq_len;
    int enable_prefix_caching;
    int line;
} vidur_search_trace;

typedef struct vidur_search_model {
    char name[VIDUR_NAME_MAX];
    char identifier[VIDUR_NAME_MAX];  /* HF id, e.g. meta-llama/Meta-Llama-3-8B */
    int num_exclude_tp_dims;
    int exclude_tp_dims[VIDUR_SEARCH_MAX_DIMS];
    int line;
    char config[VIDUR_PATH_MAX];      /* ours: a Hugging Face config.json defining it ("" = built-in or base_config) */
} vidur_search_model;

typedef struct vidur_search_target {  /* the YAML's search_configs entry */
    char label[VIDUR_NAME_MAX];
    char trace[VIDUR_NAME_MAX];
    char model[VIDUR_NAME_MAX];
    vidur_search_for search_for;
    int64_t num_requests;
    int num_replicas;             /* start value (qps search: fixed) */
    double qps;                   /* start value (replica search: fixed) */
    char qps_text[32];            /* as the fork's key prints it (a YAML integer stays "4") */
    int num_qps_multipliers;      /* isoqps only */
    double qps_multipliers[VIDUR_SEARCH_MAX_DIMS];
    int line;
} vidur_search_target;

typedef struct vidur_search_spec {
    char path[VIDUR_PATH_MAX];    /* the file it was read from (error messages) */
    /* [explorer] options; the defaults are the fork's command-line defaults */
    double min_search_granularity;  /* percent: 1 */
    int max_iterations;             /* 10 loop turns per search */
    double time_limit;              /* minutes of simulated time per run: 180 (0 = none) */
    double min_qps;                 /* 0.1 */
    char base_config[VIDUR_PATH_MAX]; /* optional simulator INI applied before the point's keys */
    int num_batch_sizes, num_tp_dimensions, num_pp_dimensions;
    int batch_sizes[VIDUR_SEARCH_MAX_DIMS], tp_dimensions[VIDUR_SEARCH_MAX_DIMS], pp_dimensions[VIDUR_SEARCH_MAX_DIMS];
    /* ours: expert parallelism and precision axes (defaults: 1, auto, auto: one value each) */
    int num_ep_dimensions, num_weight_dtypes, num_kv_cache_dtypes;
    int ep_dimensions[VIDUR_SEARCH_MAX_DIMS];
    char weight_dtypes[VIDUR_SEARCH_MAX_DIMS][8], kv_cache_dtypes[VIDUR_SEARCH_MAX_DIMS][8]; /* auto | fp16 | bf16 | fp8 */
    int num_clusters, num_global_schedulers, num_request_queues, num_replica_schedulers;
    int num_slo_configs, num_traces, num_models, num_searches;
    vidur_search_cluster clusters[VIDUR_SEARCH_MAX_ITEMS];
    vidur_search_global_scheduler global_schedulers[VIDUR_SEARCH_MAX_ITEMS];
    vidur_search_request_queue request_queues[VIDUR_SEARCH_MAX_ITEMS];
    vidur_search_replica_scheduler replica_schedulers[VIDUR_SEARCH_MAX_ITEMS];
    vidur_search_slo_config slo_configs[VIDUR_SEARCH_MAX_ITEMS];
    vidur_search_trace traces[VIDUR_SEARCH_MAX_ITEMS];
    vidur_search_model models[VIDUR_SEARCH_MAX_ITEMS];
    vidur_search_target searches[VIDUR_SEARCH_MAX_ITEMS];
} vidur_search_spec;

/* Reads a search INI (docs/capacity_search.md). Allocates *out (free with
   vidur_search_spec_free). Errors name file, line and field. */
VIDURDEF vidur_result vidur_search_spec_load(const char *path, vidur_search_spec **out, vidur_error *err);
VIDURDEF vidur_result vidur_search_spec_load_string(const char *text, const char *name, vidur_search_spec **out, vidur_error *err);
VIDURDEF void vidur_search_spec_free(vidur_search_spec *spec);

/* One combination of the axes (indices into the spec's lists; slo = -1 when expanded without
   the SLO axis: one simulation "point" shared by every SLO config). */
typedef struct vidur_search_job {
    int search, model, cluster, trace, global_scheduler, request_queue, replica_scheduler, slo;
    int tp, pp, batch_size;       /* values; batch_size is per micro-batch (the cap is x pp) */
    int ep;                       /* ours: expert parallelism (a value) */
    int weight_dtype, kv_cache_dtype; /* ours: indices into the spec's weight_dtypes / kv_cache_dtypes */
    int valid;
    char skip_reason[96];         /* why an invalid combination is skipped */
    char key[512];                /* the fork's job key (without _slo... when slo = -1) */
    char hash[9];                 /* first 8 hex digits of SHA-1(key): run folder name */
} vidur_search_job;

/* Expands the space in the fork's order: search_configs x models x clusters x traces x
   global_schedulers x request_queues x replica_schedulers x [slo_configs] x tp x pp x
   batch_sizes (first varies slowest), then ours: x ep x weight_dtypes x kv_cache_dtypes (one
   value each unless the [explorer] lists them; a job key names them only when not 1 / auto).
   *out holds every combination, valid or not (free with VIDUR_FREE); *num_valid counts the
   valid ones. A space of more than VIDUR_SEARCH_MAX_COMBINATIONS is refused (VIDUR_ERR_RANGE):
   every combination is kept. */
VIDURDEF vidur_result vidur_search_expand(const vidur_search_spec *spec, int with_slo_axis, vidur_search_job **out,
                                          int64_t *count, int64_t *num_valid, vidur_error *err);

/* Builds the simulator configuration of one run of a job at (qps, num_replicas), as the fork's
   explorer passes it on its command line to the simulator; with VIDUR_JSON it also reads the
   job model's config.json, if it has one. */
VIDURDEF vidur_result vidur_search_job_config(const vidur_search_spec *spec, const vidur_search_job *job, double qps,
                                              int num_replicas, vidur_config *cfg, vidur_error *err);
/* Cost of a deployment in $/hour: replicas x TP x PP x the device's price per GPU-hour. */
VIDURDEF double vidur_search_cost_per_hour(const vidur_search_spec *spec, const vidur_search_job *job, int num_replicas);
/* The analyzer's capacity_per_dollar: qps / (num_gpus x price per GPU-hour). */
VIDURDEF double vidur_search_qps_per_dollar(double qps, double cost_per_hour);

/* Per-request metric values of a run, collected through the observer as requests complete:
   n rows of VIDUR_NUM_REQUEST_TIME_METRICS values (column = VIDUR_METRIC_*). */
typedef struct vidur_search_values {
    double *v;
    int64_t n, cap;
} vidur_search_values;
/* Installs the observer's on_request_complete on cfg (replacing any), collecting into vals. */
VIDURDEF void vidur_search_values_attach(vidur_config *cfg, vidur_search_values *vals);
VIDURDEF void vidur_search_values_free(vidur_search_values *vals);
/* Linear-interpolation quantile (NumPy's default) of v[0..n-1]; sorts v in place. NAN if n = 0. */
VIDURDEF double vidur_search_quantile(double *v, int64_t n, double q);
/* SLO check over n rows of `stride` values (column = metric), as the fork: one SLO -> the
   quantile of its metric <= value; several -> the fraction of requests meeting all (and) / any
   (or) of them >= quantile. *measured gets that quantile value (one SLO) or fraction (several).
   Returns 1 pass, 0 fail (also when n = 0), -1 out of memory. */
VIDURDEF int vidur_search_slo_check(const vidur_search_slo_config *slo, const double *values, int64_t n, int stride,
                                    double *measured);
/* Metric name -> VIDUR_METRIC_* of a per-request time metric, -1 if unknown. */
VIDURDEF int vidur_search_metric_from_name(const char *name);

/* The search over an oracle: fn runs (or looks up) one (qps, replicas) point and sets *pass;
   a non-zero return aborts the search with that result. */
typedef vidur_result (*vidur_search_oracle_fn)(void *user, double qps, int num_replicas, int *pass, vidur_error *err);
typedef struct vidur_search_params {
    vidur_search_for search_for;
    double qps;                   /* start (qps search) or fixed (replica search) */
    int num_replicas;             /* fixed (qps search) or start (replica search) */
    int max_iterations;           /* loop turns, expansion probes included */
    double min_search_granularity; /* percent */
    double min_qps;
    int num_qps_multipliers;
    const double *qps_multipliers;
} vidur_search_params;
typedef struct vidur_search_outcome {
    int found;                    /* a passing point exists */
    double qps;                   /* qps search: max passing QPS (the fork's `left`); isoqps: the highest passing */
    int num_replicas;             /* replica search: min passing replica count */
    int num_iterations;           /* loop turns used */
    int num_probes;               /* oracle calls */
} vidur_search_outcome;
VIDURDEF vidur_result vidur_search_run(const vidur_search_params *p, vidur_search_oracle_fn fn, void *user,
                                       vidur_search_outcome *out, vidur_error *err);
/* Python's str(float) of v (shortest round trip, ".0" for integral values): run folder names. */
VIDURDEF void vidur_search_format_float(char *buf, size_t n, double v);

#ifdef __cplusplus
}
#endif
#endif /* VIDUR_SEARCH_H */

/* =============================================================================================
   IMPLEMENTATION

   TABLE OF CONTENTS (grep '==== SECTION N:' to jump)
        1  utilities (small local ones: the search uses only vidur.h's public API)
        2  job hashes, number formats, metric names
        3  the search INI
        4  expansion
        5  one run's simulator configuration
        6  per-request values and SLO checks
        7  the fork's search loops
   ============================================================================================= */
#ifdef VIDUR_SEARCH_IMPLEMENTATION
#ifndef VIDUR_SEARCH_IMPLEMENTATION_ONCE
#define VIDUR_SEARCH_IMPLEMENTATION_ONCE

#if defined(VIDUR_MALLOC) && defined(VIDUR_REALLOC) && defined(VIDUR_FREE)
/* all three given (or defined by vidur.h's implementation in this translation unit) */
#elif !defined(VIDUR_MALLOC) && !defined(VIDUR_REALLOC) && !defined(VIDUR_FREE)
#include <stdlib.h>
#define VIDUR_MALLOC(sz) malloc(sz)
#define VIDUR_REALLOC(p, sz) realloc(p, sz)
#define VIDUR_FREE(p) free(p)
#else
#error "Define all of VIDUR_MALLOC, VIDUR_REALLOC and VIDUR_FREE, or none of them."
#endif

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifndef VIDUR_NO_INIH
#include <ini.h>
#endif

/* ==== SECTION 1: utilities ========================================================================
   vidur.h keeps its helpers private; these few small ones are the search's own. */
static void vidur_search__set_error(vidur_error *err, vidur_result code, const char *fmt, ...)
{
    va_list ap;
    if (!err) return;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    { /* one line, whatever the input it quotes */
        char *c;
        for (c = err->message; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
    }
}

static void *vidur_search__calloc(size_t n, size_t sz)
{
    void *p;
    if (sz && n > (size_t)-1 / sz) return NULL; /* n x sz would wrap: a small block, then an overflow */
    p = VIDUR_MALLOC(n * sz);
    if (p) memset(p, 0, n * sz);
    return p;
}

/* amortised doubling; the old buffer is kept on failure */
static int vidur_search__grow(void **p, int64_t *cap, int64_t need, size_t item)
{
    int64_t nc;
    void *np;
    if (need <= *cap) return 1;
    nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    np = VIDUR_REALLOC(*p, (size_t)nc * item);
    if (!np) return 0;
    *p = np;
    *cap = nc;
    return 1;
}

/* shortest of %.15g / %.17g that reads back exactly (values passed to vidur_config_set) */
static void vidur_search__fmt_double(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, n, "%.17g", v);
}

static int vidur_search__dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* NumPy's default (linear) quantile of sorted v[0..n-1], n > 0 */
static double vidur_search__quantile_sorted(const double *v, int64_t n, double q)
{
    double h = (double)(n - 1) * q;
    int64_t lo = (int64_t)floor(h);
    if (lo >= n - 1) return v[n - 1];
    if (lo < 0) return v[0];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* the whole file as a NUL-terminated string (free with VIDUR_FREE) */
/* a search INI: a regular file of at most 16 MiB (a folder, /dev/zero or a FIFO is refused) */
static char *vidur_search__read_file(const char *path, size_t *len_out, vidur_error *err)
{
    FILE *f = vidur_open_input(path, err);
    char *buf = NULL;
    size_t cap = 0, len = 0, n;
    if (!f) return NULL;
    do {
        if (len > ((size_t)16 << 20)) {
            VIDUR_FREE(buf);
            fclose(f);
            vidur_search__set_error(err, VIDUR_ERR_RANGE, "%s: larger than 16 MiB", path);
            return NULL;
        }
        if (cap - len < 4096) {
            char *nb = (char *)VIDUR_REALLOC(buf, cap ? cap * 2 : 65536);
            if (!nb) {
                VIDUR_FREE(buf);
                fclose(f);
                vidur_search__set_error(err, VIDUR_ERR_MEMORY, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
            cap = cap ? cap * 2 : 65536;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    if (ferror(f)) {
        VIDUR_FREE(buf);
        fclose(f);
        vidur_search__set_error(err, VIDUR_ERR_IO, "%s: read error", path);
        return NULL;
    }
    fclose(f);
    buf[len] = 0;
    if (len_out) *len_out = len;
    return buf;
}

/* whether a component (vidur.h's registry) has key `key` in its own section: the capability
   checks below ask the simulator's key table, or the keys a plug-in declared, instead of naming
   schedulers (sarathi and vllm_v1 take a chunk_size, every built-in replica scheduler a
   batch_size_cap, ranked_sticky_lop_uncached a top_k, ...) */
static int vidur_search__has_key(const vidur_config *cfg, const vidur_component_info *ci, const char *key)
{
    int i, n = vidur_config_key_count();
    for (i = 0; i < n; i++) {
        vidur_key_info k = vidur_config_key_info(i);
        if (!strcmp(k.section, ci->section) && !strcmp(k.key, key)) return 1;
    }
    return vidur_config_get(cfg, ci->section, key) != NULL;
}

#ifndef VIDUR_NO_INIH
/* copies a string into a fixed array, truncating */
static void vidur_search__copy(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (len >= n) len = n - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

/* the allowed values of a simulator key ("a|b|c"), from vidur.h's key table */
static const char *vidur_search__choices(const char *section, const char *key)
{
    int i, n = vidur_config_key_count();
    for (i = 0; i < n; i++) {
        vidur_key_info k = vidur_config_key_info(i);
        if (k.choices && !strcmp(k.section, section) && !strcmp(k.key, key)) return k.choices;
    }
    return "";
}

#endif

/* ==== SECTION 2: job hashes, number formats, metric names =======================================
   The fork's config explorer re-done in C: search INI -> spec, Cartesian expansion with the
   fork's validity rules and job keys, the simulator configuration of one run, exact SLO checks
   over per-request values collected by an observer, and the fork's search loops over an oracle.
   The process pool, resume and reports live in tools/vidur-search.c. */

/* SHA-1 (FIPS 180-1), only for the fork's 8-hex-digit job hashes (run folder names) */
static void vidur_search__sha1_block(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80], a, b, c, d, e, f, k, t;
    int i;
    for (i = 0; i < 16; i++)
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16) | ((uint32_t)p[4 * i + 2] << 8) | (uint32_t)p[4 * i + 3];
    for (i = 16; i < 80; i++) {
        t = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
        w[i] = (t << 1) | (t >> 31);
    }
    a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
    for (i = 0; i < 80; i++) {
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
        else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
        t = ((a << 5) | (a >> 27)) + f + e + k + w[i];
        e = d; d = c; c = (b << 30) | (b >> 2); b = a; a = t;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

static void vidur_search__sha1_hex8(const char *s, char out[9])
{
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    unsigned char blk[64];
    size_t n = strlen(s), i, off = 0;
    uint64_t bits = (uint64_t)n * 8;
    while (n - off >= 64) {
        vidur_search__sha1_block(h, (const unsigned char *)s + off);
        off += 64;
    }
    memset(blk, 0, sizeof blk);
    memcpy(blk, s + off, n - off);
    blk[n - off] = 0x80;
    if (n - off >= 56) {
        vidur_search__sha1_block(h, blk);
        memset(blk, 0, sizeof blk);
    }
    for (i = 0; i < 8; i++) blk[63 - i] = (unsigned char)(bits >> (8 * i));
    vidur_search__sha1_block(h, blk);
    snprintf(out, 9, "%08x", (unsigned)h[0]);
}

VIDURDEF void vidur_search_format_float(char *buf, size_t n, double v)
{
    char digits[40], *e;
    int prec, exp10;
    if (v != v) { snprintf(buf, n, "nan"); return; }
    if (v == HUGE_VAL || v == -HUGE_VAL) { snprintf(buf, n, v < 0 ? "-inf" : "inf"); return; }
    if (v == 0) { snprintf(buf, n, signbit(v) ? "-0.0" : "0.0"); return; }
    for (prec = 1; prec <= 17; prec++) { /* shortest round trip, as Python's repr */
        snprintf(digits, sizeof digits, "%.*e", prec - 1, v);
        if (strtod(digits, NULL) == v) break;
    }
    e = strchr(digits, 'e');
    exp10 = e ? atoi(e + 1) : 0;
    if (exp10 < -4 || exp10 >= 16) { /* Python switches to scientific notation here: 1e-05, 1e+16 */
        char mant[40];
        size_t ml = (size_t)(e - digits);
        memcpy(mant, digits, ml);
        mant[ml] = 0;
        snprintf(buf, n, "%se%c%02d", mant, exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
        return;
    }
    snprintf(buf, n, "%.*f", prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, v);
    if (!strchr(buf, '.')) {
        size_t l = strlen(buf);
        if (l + 2 < n) memcpy(buf + l, ".0", 3);
    }
}

#ifndef VIDUR_NO_INIH
/* a number as it appears in the fork's keys: YAML integers print as integers, floats as Python */
static void vidur_search__key_num(char *buf, size_t n, const char *text)
{
    const char *p = text;
    if (*p == '-' || *p == '+') p++;
    if (*p && strspn(p, "0123456789") == strlen(p)) snprintf(buf, n, "%lld", strtoll(text, NULL, 10));
    else vidur_search_format_float(buf, n, strtod(text, NULL));
}
#endif

VIDURDEF int vidur_search_metric_from_name(const char *name)
{
    int i;
    for (i = 0; i < VIDUR_NUM_REQUEST_TIME_METRICS; i++)
        if (!strcmp(vidur_metric_name((vidur_metric)i), name)) return i;
    return -1;
}

/* ==== SECTION 3: the search INI ==================================================================== */
#ifndef VIDUR_NO_INIH
typedef enum {
    VIDUR_SEARCH__K_NONE, VIDUR_SEARCH__K_EXPLORER, VIDUR_SEARCH__K_CLUSTER, VIDUR_SEARCH__K_GLOBAL, VIDUR_SEARCH__K_QUEUE, VIDUR_SEARCH__K_REPLICA,
    VIDUR_SEARCH__K_SLO, VIDUR_SEARCH__K_TRACE, VIDUR_SEARCH__K_MODEL, VIDUR_SEARCH__K_SEARCH
} vidur_search__kind;

static const char *const vidur_search__kind_names[] = {"", "explorer", "cluster", "global_scheduler", "request_queue",
                                                       "replica_scheduler", "slo_config", "trace", "model", "search"};

typedef struct vidur_search__ini {
    vidur_search_spec *s;
    vidur_error *err;
    const char *name, *text, *cursor;
    int line;                    /* line number of *cursor */
    char section[VIDUR_NAME_MAX + 32];
    int kind, item;              /* current section kind and item index */
    int section_line;
    int explorer_line;           /* where [explorer] starts (1 when absent) */
    vidur_result result;
} vidur_search__ini;

/* inih reports keys in file order: find the key's line scanning forward (section headers too) */
static int vidur_search__ini_find(vidur_search__ini *c, const char *key, int header)
{
    size_t kl = strlen(key);
    const char *p = c->cursor;
    int line = c->line;
    while (*p) {
        const char *s = p, *e = strchr(p, '\n');
        while (*s == ' ' || *s == '\t') s++;
        if (header ? (*s == '[' && !strncmp(s + 1, key, kl) && s[1 + kl] == ']')
                   : (!strncmp(s, key, kl) && (s[kl] == '=' || s[kl] == ':' || s[kl] == ' ' || s[kl] == '\t'))) {
            c->cursor = e ? e + 1 : p + strlen(p);
            c->line = line + 1;
            return line;
        }
        if (!e) break;
        p = e + 1;
        line++;
    }
    return c->line;
}

static int vidur_search__ini_fail(vidur_search__ini *c, int line, const char *key, const char *fmt, ...)
{
    char msg[VIDUR_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (key[0]) vidur_search__set_error(c->err, VIDUR_ERR_CONFIG, "%s:%d: [%s] %s: %s", c->name, line, c->section, key, msg);
    else vidur_search__set_error(c->err, VIDUR_ERR_CONFIG, "%s:%d: [%s]: %s", c->name, line, c->section, msg);
    c->result = VIDUR_ERR_CONFIG;
    return 0;
}

static int vidur_search__ini_int(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    long long x;
    errno = 0;
    x = strtoll(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi) return 0;
    *out = x;
    return 1;
}

/* vidur.h's number policy: plain decimal (no nan, inf or hex), finite, in [lo, hi] */
static int vidur_search__ini_double(const char *v, double lo, double hi, double *out)
{
    double x;
    if (vidur_parse_number(v, 0, lo, hi, &x) != VIDUR_NUMBER_OK) return 0;
    *out = x;
    return 1;
}

static int vidur_search__ini_bool(const char *v, int *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "1") || !strcmp(v, "yes")) { *out = 1; return 1; }
    if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "0") || !strcmp(v, "no")) { *out = 0; return 1; }
    return 0;
}

/* "1, 4" or "1 4": up to VIDUR_SEARCH_MAX_DIMS numbers (no strtok: it keeps hidden state) */
static int vidur_search__ini_list(const char *v, int *iout, double *dout, int *n, int min)
{
    const char *p = v;
    *n = 0;
    for (;;) {
        char tok[64];
        size_t l;
        int64_t x;
        double d;
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) return 1;
        l = strcspn(p, ", \t");
        if (l >= sizeof tok || *n >= VIDUR_SEARCH_MAX_DIMS) return 0;
        memcpy(tok, p, l);
        tok[l] = 0;
        p += l;
        if (iout) {
            if (!vidur_search__ini_int(tok, min, 1 << 30, &x)) return 0;
            iout[(*n)++] = (int)x;
        } else {
            if (!vidur_search__ini_double(tok, 1e-12, 1e12, &d)) return 0;
            dout[(*n)++] = d;
        }
    }
}

/* a list of precision names (auto, fp16, bf16, fp8), split like vidur_search__ini_list */
static int vidur_search__ini_dtypes(const char *v, char (*out)[8], int *n)
{
    const char *p = v;
    *n = 0;
    for (;;) {
        size_t l;
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) return *n > 0;
        l = strcspn(p, ", \t");
        if (l >= 8 || *n >= VIDUR_SEARCH_MAX_DIMS) return 0;
        memcpy(out[*n], p, l);
        out[*n][l] = 0;
        p += l;
        if (vidur_dtype_from_name(out[*n]) < 0) return 0;
        (*n)++;
    }
}

/* opens the item of [kind.label], creating it in file order */
static int vidur_search__ini_item(vidur_search__ini *c, int kind, const char *label)
{
    vidur_search_spec *s = c->s;
    int *count = NULL, i;
    switch (kind) {
    case VIDUR_SEARCH__K_CLUSTER: count = &s->num_clusters; break;
    case VIDUR_SEARCH__K_GLOBAL: count = &s->num_global_schedulers; break;
    case VIDUR_SEARCH__K_QUEUE: count = &s->num_request_queues; break;
    case VIDUR_SEARCH__K_REPLICA: count = &s->num_replica_schedulers; break;
    case VIDUR_SEARCH__K_SLO: count = &s->num_slo_configs; break;
    case VIDUR_SEARCH__K_TRACE: count = &s->num_traces; break;
    case VIDUR_SEARCH__K_MODEL: count = &s->num_models; break;
    case VIDUR_SEARCH__K_SEARCH: count = &s->num_searches; break;
    default: return -1;
    }
    for (i = 0; i < *count; i++) {
        const char *l = kind == VIDUR_SEARCH__K_CLUSTER ? s->clusters[i].label
                      : kind == VIDUR_SEARCH__K_GLOBAL ? s->global_schedulers[i].label
                      : kind == VIDUR_SEARCH__K_QUEUE ? s->request_queues[i].name
                      : kind == VIDUR_SEARCH__K_REPLICA ? s->replica_schedulers[i].label
                      : kind == VIDUR_SEARCH__K_SLO ? s->slo_configs[i].name
                      : kind == VIDUR_SEARCH__K_TRACE ? s->traces[i].name
                      : kind == VIDUR_SEARCH__K_MODEL ? s->models[i].name : s->searches[i].label;
        if (!strcmp(l, label)) return i;
    }
    if (*count >= VIDUR_SEARCH_MAX_ITEMS) return -2;
    i = (*count)++;
    switch (kind) {
    case VIDUR_SEARCH__K_CLUSTER: vidur_search__copy(s->clusters[i].label, VIDUR_NAME_MAX, label); s->clusters[i].line = c->section_line; break;
    case VIDUR_SEARCH__K_GLOBAL: vidur_search__copy(s->global_schedulers[i].label, VIDUR_NAME_MAX, label); s->global_schedulers[i].line = c->section_line; break;
    case VIDUR_SEARCH__K_QUEUE:
        vidur_search__copy(s->request_queues[i].name, VIDUR_NAME_MAX, label);
        vidur_search__copy(s->request_queues[i].provider, 32, "fcfs");
        s->request_queues[i].line = c->section_line;
        break;
    case VIDUR_SEARCH__K_REPLICA: vidur_search__copy(s->replica_schedulers[i].label, VIDUR_NAME_MAX, label); s->replica_schedulers[i].line = c->section_line; break;
    case VIDUR_SEARCH__K_SLO:
        vidur_search__copy(s->slo_configs[i].name, VIDUR_NAME_MAX, label);
        s->slo_configs[i].is_or = -1; /* required */
        s->slo_configs[i].line = c->section_line;
        break;
    case VIDUR_SEARCH__K_TRACE: vidur_search__copy(s->traces[i].name, VIDUR_NAME_MAX, label); s->traces[i].line = c->section_line; break;
    case VIDUR_SEARCH__K_MODEL: vidur_search__copy(s->models[i].name, VIDUR_NAME_MAX, label); s->models[i].line = c->section_line; break;
    default:
        vidur_search__copy(s->searches[i].label, VIDUR_NAME_MAX, label);
        s->searches[i].search_for = (vidur_search_for)-1;
        s->searches[i].line = c->section_line;
        break;
    }
    return i;
}

#define VIDUR_SEARCH__INI_BAD(expect) return vidur_search__ini_fail(c, line, name, "'%s' is not %s", value, expect)

static int vidur_search__ini_handler(void *user, const char *section, const char *name, const char *value)
{
    vidur_search__ini *c = (vidur_search__ini *)user;
    vidur_search_spec *s = c->s;
    int line, k;
    int64_t iv;
    double dv;
    if (c->result != VIDUR_OK) return 0;
    if (strcmp(section, c->section)) { /* a new section */
        const char *dot = strchr(section, '.');
        size_t pl = dot ? (size_t)(dot - section) : strlen(section);
        vidur_search__copy(c->section, sizeof c->section, section);
        c->section_line = vidur_search__ini_find(c, section, 1);
        c->kind = VIDUR_SEARCH__K_NONE;
        for (k = VIDUR_SEARCH__K_EXPLORER; k <= VIDUR_SEARCH__K_SEARCH; k++)
            if (strlen(vidur_search__kind_names[k]) == pl && !strncmp(section, vidur_search__kind_names[k], pl)) c->kind = k;
        if (c->kind == VIDUR_SEARCH__K_EXPLORER) c->explorer_line = c->section_line;
        if (c->kind == VIDUR_SEARCH__K_NONE || (c->kind == VIDUR_SEARCH__K_EXPLORER) != (dot == NULL) || (dot && !dot[1])) {
            vidur_search__set_error(c->err, VIDUR_ERR_CONFIG,
                             "%s:%d: [%s]: unknown section (expected [explorer], or [KIND.NAME] with KIND one of cluster, global_scheduler, request_queue, replica_scheduler, slo_config, trace, model, search)",
                             c->name, c->section_line, section);
            c->result = VIDUR_ERR_CONFIG;
            return 0;
        }
        if (dot) {
            c->item = vidur_search__ini_item(c, c->kind, dot + 1);
            if (c->item == -2) return vidur_search__ini_fail(c, c->section_line, "", "more than %d sections of this kind", VIDUR_SEARCH_MAX_ITEMS);
        }
    }
    line = vidur_search__ini_find(c, name, 0);
    switch (c->kind) {
    case VIDUR_SEARCH__K_EXPLORER:
        if (!strcmp(name, "min_search_granularity")) { if (!vidur_search__ini_double(value, 1e-9, 100, &s->min_search_granularity)) VIDUR_SEARCH__INI_BAD("a percentage in (0, 100]"); }
        else if (!strcmp(name, "max_iterations")) { if (!vidur_search__ini_int(value, 1, 1000000, &iv)) VIDUR_SEARCH__INI_BAD("a positive integer"); s->max_iterations = (int)iv; }
        else if (!strcmp(name, "time_limit")) { if (!vidur_search__ini_double(value, 0, 1e9, &s->time_limit)) VIDUR_SEARCH__INI_BAD("minutes >= 0"); }
        else if (!strcmp(name, "min_qps")) { if (!vidur_search__ini_double(value, 0, 1e12, &s->min_qps)) VIDUR_SEARCH__INI_BAD("a QPS >= 0"); }
        else if (!strcmp(name, "base_config")) vidur_search__copy(s->base_config, VIDUR_PATH_MAX, value);
        else if (!strcmp(name, "batch_sizes")) { if (!vidur_search__ini_list(value, s->batch_sizes, NULL, &s->num_batch_sizes, 1) || !s->num_batch_sizes) VIDUR_SEARCH__INI_BAD("a list of positive integers"); }
        else if (!strcmp(name, "tp_dimensions")) { if (!vidur_search__ini_list(value, s->tp_dimensions, NULL, &s->num_tp_dimensions, 1) || !s->num_tp_dimensions) VIDUR_SEARCH__INI_BAD("a list of positive integers"); }
        else if (!strcmp(name, "pp_dimensions")) { if (!vidur_search__ini_list(value, s->pp_dimensions, NULL, &s->num_pp_dimensions, 1) || !s->num_pp_dimensions) VIDUR_SEARCH__INI_BAD("a list of positive integers"); }
        else if (!strcmp(name, "ep_dimensions")) { if (!vidur_search__ini_list(value, s->ep_dimensions, NULL, &s->num_ep_dimensions, 1) || !s->num_ep_dimensions) VIDUR_SEARCH__INI_BAD("a list of positive integers"); }
        else if (!strcmp(name, "weight_dtypes") || !strcmp(name, "kv_cache_dtypes")) {
            if (!vidur_search__ini_dtypes(value, name[0] == 'w' ? s->weight_dtypes : s->kv_cache_dtypes, name[0] == 'w' ? &s->num_weight_dtypes : &s->num_kv_cache_dtypes))
                VIDUR_SEARCH__INI_BAD("a list of precisions (auto, fp16, bf16, fp8)");
        }
        else return vidur_search__ini_fail(c, line, name, "unknown key (expected min_search_granularity, max_iterations, time_limit, min_qps, base_config, batch_sizes, tp_dimensions, pp_dimensions, ep_dimensions, weight_dtypes, kv_cache_dtypes)");
        return 1;
    case VIDUR_SEARCH__K_CLUSTER: {
        vidur_search_cluster *x = &s->clusters[c->item];
        if (!strcmp(name, "device")) vidur_search__copy(x->device, VIDUR_NAME_MAX, value);
        else if (!strcmp(name, "network_device")) vidur_search__copy(x->network_device, VIDUR_NAME_MAX, value);
        else if (!strcmp(name, "gpus_per_node")) { if (!vidur_search__ini_int(value, 1, 1 << 20, &iv)) VIDUR_SEARCH__INI_BAD("a positive integer"); x->gpus_per_node = (int)iv; }
        else return vidur_search__ini_fail(c, line, name, "unknown key (expected device, network_device, gpus_per_node)");
        return 1;
    }
    case VIDUR_SEARCH__K_GLOBAL: {
        vidur_search_global_scheduler *x = &s->global_schedulers[c->item];
        if (!strcmp(name, "scheduler")) vidur_search__copy(x->scheduler, VIDUR_NAME_MAX, value);
        else if (!strcmp(name, "top_k")) { if (!vidur_search__ini_int(value, 1, 1 << 20, &iv)) VIDUR_SEARCH__INI_BAD("a positive integer"); x->top_k = (int)iv; }
        else if (!strcmp(name, "tolerance_factor")) {
            if (!vidur_search__ini_double(value, 1e-12, 1e9, &x->tolerance_factor)) VIDUR_SEARCH__INI_BAD("a positive number");
            vidur_search__key_num(x->tolerance_text, sizeof x->tolerance_text, value);
        } else return vidur_search__ini_fail(c, line, name, "unknown key (expected scheduler, top_k, tolerance_factor)");
        return 1;
    }
    case VIDUR_SEARCH__K_QUEUE: {
        vidur_search_request_queue *x = &s->request_queues[c->item];
        if (!strcmp(name, "provider")) {
            if (strcmp(value, "fcfs") && strcmp(value, "edf")) VIDUR_SEARCH__INI_BAD("fcfs or edf");
            vidur_search__copy(x->provider, sizeof x->provider, value);
        } else if (!strcmp(name, "slo_prefill_e2e_time_normalized")) {
            if (!vidur_search__ini_double(value, 1e-12, 1e12, &x->slo_prefill_e2e_time_normalized)) VIDUR_SEARCH__INI_BAD("a positive number");
        } else return vidur_search__ini_fail(c, line, name, "unknown key (expected provider, slo_prefill_e2e_time_normalized)");
        return 1;
    }
    case VIDUR_SEARCH__K_REPLICA: {
        vidur_search_replica_scheduler *x = &s->replica_schedulers[c->item];
        if (!strcmp(name, "scheduler")) vidur_search__copy(x->scheduler, VIDUR_NAME_MAX, value);
        else if (!strcmp(name, "chunk_size")) { if (!vidur_search__ini_int(value, 1, 1 << 30, &iv)) VIDUR_SEARCH__INI_BAD("a positive integer"); x->chunk_size = (int)iv; }
        else return vidur_search__ini_fail(c, line, name, "unknown key (expected scheduler, chunk_size)");
        return 1;
    }
    case VIDUR_SEARCH__K_SLO: {
        vidur_search_slo_config *x = &s->slo_configs[c->item];
        if (!strcmp(name, "type")) {
            if (strcmp(value, "and") && strcmp(value, "or")) VIDUR_SEARCH__INI_BAD("and or or");
            x->is_or = !strcmp(value, "or");
        } else if (!strcmp(name, "quantile")) {
            if (!vidur_search__ini_double(value, 1e-12, 1, &x->quantile)) VIDUR_SEARCH__INI_BAD("a quantile in (0, 1]");
        } else if (!strcmp(name, "slo")) { /* repeated: "slo = METRIC VALUE", one line per SLO */
            char metric[VIDUR_NAME_MAX], rest[64];
            int m;
            if (sscanf(value, "%127s %63s", metric, rest) != 2 || !vidur_search__ini_double(rest, 0, 1e12, &dv))
                VIDUR_SEARCH__INI_BAD("'METRIC VALUE', e.g. 'prefill_e2e_time 10'");
            m = vidur_search_metric_from_name(metric);
            if (m < 0) return vidur_search__ini_fail(c, line, name, "unknown request metric '%s' (e.g. prefill_e2e_time, request_e2e_time, decode_time_execution_plus_preemption_normalized)", metric);
            if (x->num_slos >= VIDUR_SEARCH_MAX_SLOS) return vidur_search__ini_fail(c, line, name, "more than %d SLOs", VIDUR_SEARCH_MAX_SLOS);
            x->slos[x->num_slos].metric = m;
            x->slos[x->num_slos].value = dv;
            x->num_slos++;
        } else return vidur_search__ini_fail(c, line, name, "unknown key (expected type, quantile, slo)");
        return 1;
    }
    case VIDUR_SEARCH__K_TRACE: {
        vidur_search_trace *x = &s->traces[c->item];
        if (!strcmp(name, "trace_file")) vidur_search__copy(x->trace_file, VIDUR_PATH_MAX, value);
        else if (!strcmp(name, "max_seq_len")) { if (!vidur_search__ini_int(value, 1, 1 << 30, &iv)) VIDUR_SEARCH__INI_BAD("a positive integer"); x->max_seq_len = (int)iv; }
        else if (!strcmp(name, "enable_prefix_caching")) { if (!vidur_search__ini_bool(value, &x->enable_prefix_caching)) VIDUR_SEARCH__INI_BAD("true or false"); }
        else return vidur_search__ini_fail(c, line, name, "unknown key (expected trace_file, max_seq_len, enable_prefix_caching)");
        return 1;
    }
    case VIDUR_SEARCH__K_MODEL: {
        vidur_search_model *x = &s->models[c->item];
        if (!strcmp(name, "identifier")) vidur_search__copy(x->identifier, VIDUR_NAME_MAX, value);
        else if (!strcmp(name, "exclude_tp_dims")) { if (!vidur_search__ini_list(value, x->exclude_tp_dims, NULL, &x->num_exclude_tp_dims, 1)) VIDUR_SEARCH__INI_BAD("a list of positive integers"); }
        else if (!strcmp(name, "config")) vidur_search__copy(x->config, VIDUR_PATH_MAX, value);
        else return vidur_search__ini_fail(c, line, name, "unknown key (expected identifier, exclude_tp_dims, config)");
        return 1;
    }
    case VIDUR_SEARCH__K_SEARCH: {
        vidur_search_target *x = &s->searches[c->item];
        if (!strcmp(name, "trace")) vidur_search__copy(x->trace, VIDUR_NAME_MAX, value);
        else if (!strcmp(name, "model")) vidur_search__copy(x->model, VIDUR_NAME_MAX, value);
        else if (!strcmp(name, "search_for")) {
            if (!strcmp(value, "qps")) x->search_for = VIDUR_SEARCH_QPS;
            else if (!strcmp(value, "num_replicas")) x->search_for = VIDUR_SEARCH_NUM_REPLICAS;
            else if (!strcmp(value, "isoqps")) x->search_for = VIDUR_SEARCH_ISOQPS;
            else VIDUR_SEARCH__INI_BAD("qps, num_replicas or isoqps");
        } else if (!strcmp(name, "num_requests")) { if (!vidur_search__ini_int(value, 1, INT64_C(1) << 40, &x->num_requests)) VIDUR_SEARCH__INI_BAD("a positive integer"); }
        else if (!strcmp(name, "num_replicas")) { if (!vidur_search__ini_int(value, 1, 1 << 20, &iv)) VIDUR_SEARCH__INI_BAD("a positive integer"); x->num_replicas = (int)iv; }
        else if (!strcmp(name, "qps")) {
            if (!vidur_search__ini_double(value, 1e-9, 1e12, &x->qps)) VIDUR_SEARCH__INI_BAD("a positive number");
            vidur_search__key_num(x->qps_text, sizeof x->qps_text, value);
        } else if (!strcmp(name, "qps_multipliers")) {
            if (!vidur_search__ini_list(value, NULL, x->qps_multipliers, &x->num_qps_multipliers, 0)) VIDUR_SEARCH__INI_BAD("a list of positive numbers");
        } else return vidur_search__ini_fail(c, line, name, "unknown key (expected trace, model, search_for, num_requests, num_replicas, qps, qps_multipliers)");
        return 1;
    }
    default: return 0;
    }
}

/* required fields, cross references and the names the simulator must know (schedulers, devices,
   nodes, models: built-in or defined in base_config), reported at the section's line, so that a
   typo stops the search before it starts instead of failing its points one by one */
static vidur_result vidur_search__validate(vidur_search__ini *c)
{
    vidur_search_spec *s = c->s;
    int i, j, el = c->explorer_line;
    vidur_config base;
    vidur_error e;
    vidur_component_info ci;
    const char *gchoices = vidur_search__choices("global_scheduler_config", "type");
    const char *rchoices = vidur_search__choices("replica_scheduler_config", "type");
#define VIDUR_SEARCH__V_FAIL(sec, ln, key, ...) do { vidur_search__copy(c->section, sizeof c->section, sec); vidur_search__ini_fail(c, ln, key, __VA_ARGS__); return VIDUR_ERR_CONFIG; } while (0)
    char sec[VIDUR_NAME_MAX + 32];
    vidur_config_init(&base);
    if (s->base_config[0] && vidur_config_load_ini(&base, s->base_config, &e)) VIDUR_SEARCH__V_FAIL("explorer", el, "base_config", "%s", e.message);
    if (!s->num_batch_sizes) VIDUR_SEARCH__V_FAIL("explorer", el, "batch_sizes", "missing (e.g. batch_sizes = 512)");
    if (!s->num_tp_dimensions) VIDUR_SEARCH__V_FAIL("explorer", el, "tp_dimensions", "missing (e.g. tp_dimensions = 1 2 4)");
    if (!s->num_pp_dimensions) VIDUR_SEARCH__V_FAIL("explorer", el, "pp_dimensions", "missing (e.g. pp_dimensions = 1)");
    if (!s->num_clusters) VIDUR_SEARCH__V_FAIL("cluster.NAME", 1, "", "no [cluster.NAME] section");
    if (!s->num_global_schedulers) VIDUR_SEARCH__V_FAIL("global_scheduler.NAME", 1, "", "no [global_scheduler.NAME] section");
    if (!s->num_request_queues) VIDUR_SEARCH__V_FAIL("request_queue.NAME", 1, "", "no [request_queue.NAME] section");
    if (!s->num_replica_schedulers) VIDUR_SEARCH__V_FAIL("replica_scheduler.NAME", 1, "", "no [replica_scheduler.NAME] section");
    if (!s->num_slo_configs) VIDUR_SEARCH__V_FAIL("slo_config.NAME", 1, "", "no [slo_config.NAME] section");
    if (!s->num_traces) VIDUR_SEARCH__V_FAIL("trace.NAME", 1, "", "no [trace.NAME] section");
    if (!s->num_models) VIDUR_SEARCH__V_FAIL("model.NAME", 1, "", "no [model.NAME] section");
    if (!s->num_searches) VIDUR_SEARCH__V_FAIL("search.NAME", 1, "", "no [search.NAME] section");
    for (i = 0; i < s->num_clusters; i++) {
        vidur_search_cluster *x = &s->clusters[i];
        snprintf(sec, sizeof sec, "cluster.%s", x->label);
        if (!x->device[0]) VIDUR_SEARCH__V_FAIL(sec, x->line, "device", "missing");
        if (!x->network_device[0]) VIDUR_SEARCH__V_FAIL(sec, x->line, "network_device", "missing");
        if (!x->gpus_per_node) VIDUR_SEARCH__V_FAIL(sec, x->line, "gpus_per_node", "missing");
        if (!vidur_find_device(&base, x->device)) VIDUR_SEARCH__V_FAIL(sec, x->line, "device", "unknown device '%s'", x->device);
        if (!vidur_find_node(&base, x->network_device)) VIDUR_SEARCH__V_FAIL(sec, x->line, "network_device", "unknown node '%s'", x->network_device);
    }
    for (i = 0; i < s->num_global_schedulers; i++) {
        vidur_search_global_scheduler *x = &s->global_schedulers[i];
        snprintf(sec, sizeof sec, "global_scheduler.%s", x->label);
        if (!x->scheduler[0]) VIDUR_SEARCH__V_FAIL(sec, x->line, "scheduler", "missing");
        if (!vidur_component_find(&base, VIDUR_COMPONENT_ROUTER, x->scheduler, &ci))
            VIDUR_SEARCH__V_FAIL(sec, x->line, "scheduler", "unknown '%s' (choices: %s)", x->scheduler, gchoices);
        if (vidur_search__has_key(&base, &ci, "top_k") && !x->top_k) VIDUR_SEARCH__V_FAIL(sec, x->line, "top_k", "required by %s", x->scheduler);
        if (vidur_search__has_key(&base, &ci, "tolerance_factor") && x->tolerance_factor <= 0)
            VIDUR_SEARCH__V_FAIL(sec, x->line, "tolerance_factor", "required by %s", x->scheduler);
    }
    for (i = 0; i < s->num_request_queues; i++) {
        vidur_search_request_queue *x = &s->request_queues[i];
        snprintf(sec, sizeof sec, "request_queue.%s", x->name);
        if (!strcmp(x->provider, "edf") && x->slo_prefill_e2e_time_normalized <= 0)
            VIDUR_SEARCH__V_FAIL(sec, x->line, "slo_prefill_e2e_time_normalized", "required by provider edf");
    }
    for (i = 0; i < s->num_replica_schedulers; i++) {
        vidur_search_replica_scheduler *x = &s->replica_schedulers[i];
        snprintf(sec, sizeof sec, "replica_scheduler.%s", x->label);
        if (!x->scheduler[0]) VIDUR_SEARCH__V_FAIL(sec, x->line, "scheduler", "missing");
        if (!vidur_component_find(&base, VIDUR_COMPONENT_REPLICA_SCHEDULER, x->scheduler, &ci))
            VIDUR_SEARCH__V_FAIL(sec, x->line, "scheduler", "unknown '%s' (choices: %s)", x->scheduler, rchoices);
        if (vidur_search__has_key(&base, &ci, "chunk_size") && !x->chunk_size) VIDUR_SEARCH__V_FAIL(sec, x->line, "chunk_size", "required by %s", x->scheduler);
    }
    for (i = 0; i < s->num_slo_configs; i++) {
        vidur_search_slo_config *x = &s->slo_configs[i];
        snprintf(sec, sizeof sec, "slo_config.%s", x->name);
        if (x->is_or < 0) VIDUR_SEARCH__V_FAIL(sec, x->line, "type", "missing (and or or)");
        if (x->quantile <= 0) VIDUR_SEARCH__V_FAIL(sec, x->line, "quantile", "missing");
        if (!x->num_slos) VIDUR_SEARCH__V_FAIL(sec, x->line, "slo", "missing (e.g. slo = prefill_e2e_time 10)");
    }
    for (i = 0; i < s->num_traces; i++) {
        vidur_search_trace *x = &s->traces[i];
        snprintf(sec, sizeof sec, "trace.%s", x->name);
        if (!x->trace_file[0]) VIDUR_SEARCH__V_FAIL(sec, x->line, "trace_file", "missing");
        if (!x->max_seq_len) VIDUR_SEARCH__V_FAIL(sec, x->line, "max_seq_len", "missing");
    }
    for (i = 0; i < s->num_models; i++) {
        vidur_search_model *x = &s->models[i];
        snprintf(sec, sizeof sec, "model.%s", x->name);
        if (x->config[0]) { /* read where the runs are made (vidur-search: VIDUR_JSON) */
            FILE *f = fopen(x->config, "rb");
            if (!f) VIDUR_SEARCH__V_FAIL(sec, x->line, "config", "cannot open '%s'", x->config);
            fclose(f);
            continue;
        }
        if (!x->identifier[0]) VIDUR_SEARCH__V_FAIL(sec, x->line, "identifier", "missing (a Hugging Face id, e.g. meta-llama/Meta-Llama-3-8B)");
        if (!vidur_find_model(&base, x->identifier)) VIDUR_SEARCH__V_FAIL(sec, x->line, "identifier", "unknown model '%s'", x->identifier);
    }
    for (i = 0; i < s->num_searches; i++) {
        vidur_search_target *x = &s->searches[i];
        int found;
        snprintf(sec, sizeof sec, "search.%s", x->label);
        if ((int)x->search_for < 0) VIDUR_SEARCH__V_FAIL(sec, x->line, "search_for", "missing (qps, num_replicas or isoqps)");
        if (!x->num_requests) VIDUR_SEARCH__V_FAIL(sec, x->line, "num_requests", "missing");
        if (!x->num_replicas) VIDUR_SEARCH__V_FAIL(sec, x->line, "num_replicas", "missing");
        if (x->qps <= 0) VIDUR_SEARCH__V_FAIL(sec, x->line, "qps", "missing");
        if ((x->search_for == VIDUR_SEARCH_ISOQPS) != (x->num_qps_multipliers > 0))
            VIDUR_SEARCH__V_FAIL(sec, x->line, "qps_multipliers", x->num_qps_multipliers ? "only allowed with search_for = isoqps" : "required by search_for = isoqps");
        for (found = 0, j = 0; j < s->num_traces; j++) found |= !strcmp(s->traces[j].name, x->trace);
        if (!found) VIDUR_SEARCH__V_FAIL(sec, x->line, "trace", "no [trace.%s] section", x->trace);
        for (found = 0, j = 0; j < s->num_models; j++) found |= !strcmp(s->models[j].name, x->model);
        if (!found) VIDUR_SEARCH__V_FAIL(sec, x->line, "model", "no [model.%s] section", x->model);
    }
#undef VIDUR_SEARCH__V_FAIL
    return VIDUR_OK;
}

#endif /* VIDUR_NO_INIH */

VIDURDEF vidur_result vidur_search_spec_load_string(const char *text, const char *name, vidur_search_spec **out, vidur_error *err)
{
#ifdef VIDUR_NO_INIH
    (void)text; (void)name; *out = NULL;
    vidur_search__set_error(err, VIDUR_ERR_UNSUPPORTED, "built with VIDUR_NO_INIH: search INI files are not supported");
    return VIDUR_ERR_UNSUPPORTED;
#else
    vidur_search__ini c;
    vidur_search_spec *s;
    const char *p = text;
    int line = 1, rc;
    *out = NULL;
    while (*p) { /* Debian's inih splits lines longer than its 200-byte buffer */
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 198) {
            vidur_search__set_error(err, VIDUR_ERR_PARSE, "%s:%d: line is %d characters long; INI lines are limited to 198", name, line, (int)len);
            return VIDUR_ERR_PARSE;
        }
        if (!e) break;
        p = e + 1;
        line++;
    }
    s = (vidur_search_spec *)vidur_search__calloc(1, sizeof *s);
    if (!s) {
        vidur_search__set_error(err, VIDUR_ERR_MEMORY, "%s: out of memory", name);
        return VIDUR_ERR_MEMORY;
    }
    vidur_search__copy(s->path, VIDUR_PATH_MAX, name);
    s->min_search_granularity = 1.0; /* the fork's command-line defaults */
    s->max_iterations = 10;
    s->num_ep_dimensions = s->num_weight_dtypes = s->num_kv_cache_dtypes = 1; /* ours: EP 1, precisions auto */
    s->ep_dimensions[0] = 1;
    vidur_search__copy(s->weight_dtypes[0], sizeof s->weight_dtypes[0], "auto");
    vidur_search__copy(s->kv_cache_dtypes[0], sizeof s->kv_cache_dtypes[0], "auto");
    s->time_limit = 180;
    s->min_qps = 0.1;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.err = err;
    c.name = name;
    c.text = c.cursor = text;
    c.line = 1;
    c.explorer_line = 1;
    c.result = VIDUR_OK;
    rc = ini_parse_string(text, vidur_search__ini_handler, &c);
    if (c.result == VIDUR_OK && rc > 0) {
        vidur_search__set_error(err, VIDUR_ERR_PARSE, "%s:%d: syntax error (expected [section] or key = value)", name, rc);
        c.result = VIDUR_ERR_PARSE;
    } else if (c.result == VIDUR_OK && rc < 0) {
        vidur_search__set_error(err, VIDUR_ERR_MEMORY, "%s: out of memory while parsing", name);
        c.result = VIDUR_ERR_MEMORY;
    }
    if (c.result == VIDUR_OK) c.result = vidur_search__validate(&c);
    if (c.result != VIDUR_OK) {
        VIDUR_FREE(s);
        return c.result;
    }
    *out = s;
    return VIDUR_OK;
#endif
}

VIDURDEF vidur_result vidur_search_spec_load(const char *path, vidur_search_spec **out, vidur_error *err)
{
    size_t len;
    vidur_result r;
    char *text = vidur_search__read_file(path, &len, err);
    *out = NULL;
    if (!text) return err ? err->code : VIDUR_ERR_IO;
    r = vidur_search_spec_load_string(text, path, out, err);
    VIDUR_FREE(text);
    return r;
}

VIDURDEF void vidur_search_spec_free(vidur_search_spec *spec) { VIDUR_FREE(spec); }

/* ==== SECTION 4: expansion ======================================================================== */
static void vidur_search__job_key(const vidur_search_spec *s, vidur_search_job *j)
{
    const vidur_search_global_scheduler *g = &s->global_schedulers[j->global_scheduler];
    const vidur_search_replica_scheduler *r = &s->replica_schedulers[j->replica_scheduler];
    const vidur_search_target *t = &s->searches[j->search];
    char gk[VIDUR_NAME_MAX + 64], rk[VIDUR_NAME_MAX + 32], sk[96], slo[VIDUR_NAME_MAX + 8], ours[64] = "";
    int n = snprintf(gk, sizeof gk, "%s", g->scheduler);
    if (g->top_k) n += snprintf(gk + n, sizeof gk - (size_t)n, "_topk%d", g->top_k);
    if (g->tolerance_factor > 0) snprintf(gk + n, sizeof gk - (size_t)n, "_%sx", g->tolerance_text);
    if (r->chunk_size) snprintf(rk, sizeof rk, "%s_cs%d", r->scheduler, r->chunk_size);
    else snprintf(rk, sizeof rk, "%s", r->scheduler);
    if (t->search_for == VIDUR_SEARCH_NUM_REPLICAS) snprintf(sk, sizeof sk, "num_replicas_r%d_reqs%lld", t->num_replicas, (long long)t->num_requests);
    else snprintf(sk, sizeof sk, "%s_q%s_reqs%lld", t->search_for == VIDUR_SEARCH_QPS ? "qps" : "isoqps", t->qps_text, (long long)t->num_requests);
    if (j->slo >= 0) snprintf(slo, sizeof slo, "_slo%s", s->slo_configs[j->slo].name);
    else slo[0] = 0;
    /* ours: EP and precisions only when they are not the defaults, so the fork's keys (and run
       folders) of a search without these axes stay its own */
    n = 0;
    if (j->ep != 1) n += snprintf(ours + n, sizeof ours - (size_t)n, "_ep%d", j->ep);
    if (strcmp(s->weight_dtypes[j->weight_dtype], "auto")) n += snprintf(ours + n, sizeof ours - (size_t)n, "_w%s", s->weight_dtypes[j->weight_dtype]);
    if (strcmp(s->kv_cache_dtypes[j->kv_cache_dtype], "auto")) snprintf(ours + n, sizeof ours - (size_t)n, "_kv%s", s->kv_cache_dtypes[j->kv_cache_dtype]);
    n = snprintf(j->key, sizeof j->key, "%s_%s_tk%d_%s_%s_%s_%s_tp%d_pp%d_bsz%d%s%s_search%s", s->models[j->model].name,
                 s->traces[j->trace].name, s->traces[j->trace].max_seq_len, s->clusters[j->cluster].network_device, gk,
                 s->request_queues[j->request_queue].name, rk, j->tp, j->pp, j->batch_size * j->pp, ours, slo, sk);
    if (n >= (int)sizeof j->key) j->key[sizeof j->key - 1] = 0; /* only absurdly long names get here */
    vidur_search__sha1_hex8(j->key, j->hash);
}

static void vidur_search__job_check(const vidur_search_spec *s, vidur_search_job *j)
{
    const vidur_search_target *t = &s->searches[j->search];
    const vidur_search_model *m = &s->models[j->model];
    const vidur_search_cluster *c = &s->clusters[j->cluster];
    int i;
    j->valid = 0;
    if (strcmp(m->name, t->model)) { snprintf(j->skip_reason, sizeof j->skip_reason, "model is not the search's (%.40s)", t->model); return; }
    if (strcmp(s->traces[j->trace].name, t->trace)) { snprintf(j->skip_reason, sizeof j->skip_reason, "trace is not the search's (%.40s)", t->trace); return; }
    for (i = 0; i < m->num_exclude_tp_dims; i++)
        if (m->exclude_tp_dims[i] == j->tp) { snprintf(j->skip_reason, sizeof j->skip_reason, "tp %d excluded for the model", j->tp); return; }
    if (j->tp > c->gpus_per_node) { snprintf(j->skip_reason, sizeof j->skip_reason, "tp %d > %d GPUs per node", j->tp, c->gpus_per_node); return; }
    /* the fork allows only round_robin for a single-replica QPS search (routing is moot) */
    if (t->search_for == VIDUR_SEARCH_QPS && t->num_replicas == 1 && strcmp(s->global_schedulers[j->global_scheduler].scheduler, "round_robin")) {
        snprintf(j->skip_reason, sizeof j->skip_reason, "single-replica qps search needs round_robin");
        return;
    }
    /* ours: combinations the simulator cannot run at all */
    if (!m->config[0] && !vidur_find_model(NULL, m->identifier)) { snprintf(j->skip_reason, sizeof j->skip_reason, "unknown model %.60s", m->identifier); return; }
    if (j->ep > 1) {
        /* EP splits a model's experts over its TP GPUs (a config.json model is checked when its runs start) */
        const vidur_model_spec *ms = m->config[0] ? NULL : vidur_find_model(NULL, m->identifier);
        if (j->tp % j->ep) { snprintf(j->skip_reason, sizeof j->skip_reason, "ep %d does not divide tp %d", j->ep, j->tp); return; }
        if (ms && !vidur_model_num_moe_layers(ms)) { snprintf(j->skip_reason, sizeof j->skip_reason, "ep %d: a dense model", j->ep); return; }
        if (ms && ms->num_experts % j->ep) { snprintf(j->skip_reason, sizeof j->skip_reason, "ep %d does not divide %d experts", j->ep, ms->num_experts); return; }
    }
    if (!vidur_find_device(NULL, c->device)) { snprintf(j->skip_reason, sizeof j->skip_reason, "unknown device %.60s", c->device); return; }
    if (!vidur_find_node(NULL, c->network_device)) { snprintf(j->skip_reason, sizeof j->skip_reason, "unknown network device %.60s", c->network_device); return; }
    j->valid = 1;
    j->skip_reason[0] = 0;
}

VIDURDEF vidur_result vidur_search_expand(const vidur_search_spec *s, int with_slo_axis, vidur_search_job **out,
                                          int64_t *count, int64_t *num_valid, vidur_error *err)
{
    int64_t total = 1, n = 0, nv = 0;
    int a[14], dims[14], d;
    vidur_search_job *jobs;
    dims[0] = s->num_searches; dims[1] = s->num_models; dims[2] = s->num_clusters; dims[3] = s->num_traces;
    dims[4] = s->num_global_schedulers; dims[5] = s->num_request_queues; dims[6] = s->num_replica_schedulers;
    dims[7] = with_slo_axis ? s->num_slo_configs : 1; dims[8] = s->num_tp_dimensions; dims[9] = s->num_pp_dimensions;
    dims[10] = s->num_batch_sizes;
    /* ours, last (with one value each, the fork's order is unchanged); a spec filled in code
       without them gets EP 1 and auto precisions */
    dims[11] = s->num_ep_dimensions > 0 ? s->num_ep_dimensions : 1;
    dims[12] = s->num_weight_dtypes > 0 ? s->num_weight_dtypes : 1;
    dims[13] = s->num_kv_cache_dtypes > 0 ? s->num_kv_cache_dtypes : 1;
    for (d = 0; d < 14; d++) {
        if (dims[d] <= 0) dims[d] = 0;
        total *= dims[d];
        /* saturate: fourteen lists can multiply past 64 bits; the refusal below needs only "too many" */
        if (total > VIDUR_SEARCH_MAX_COMBINATIONS) total = VIDUR_SEARCH_MAX_COMBINATIONS + 1;
    }
    *out = NULL;
    *count = 0;
    if (num_valid) *num_valid = 0;
    if (!total) return VIDUR_OK;
    if (total > VIDUR_SEARCH_MAX_COMBINATIONS) {
        /* every combination is kept (about 700 bytes each): bounded, and said so */
        vidur_search__set_error(err, VIDUR_ERR_RANGE, "%s: the search space has more than %d combinations: split the search", s->path,
                                VIDUR_SEARCH_MAX_COMBINATIONS);
        return VIDUR_ERR_RANGE;
    }
    jobs = (vidur_search_job *)vidur_search__calloc((size_t)total, sizeof *jobs);
    if (!jobs) {
        vidur_search__set_error(err, VIDUR_ERR_MEMORY, "out of memory expanding %lld combinations", (long long)total);
        return VIDUR_ERR_MEMORY;
    }
    memset(a, 0, sizeof a);
    for (n = 0; n < total; n++) {
        vidur_search_job *j = &jobs[n];
        j->search = a[0]; j->model = a[1]; j->cluster = a[2]; j->trace = a[3]; j->global_scheduler = a[4];
        j->request_queue = a[5]; j->replica_scheduler = a[6]; j->slo = with_slo_axis ? a[7] : -1;
        j->tp = s->tp_dimensions[a[8]]; j->pp = s->pp_dimensions[a[9]]; j->batch_size = s->batch_sizes[a[10]];
        j->ep = s->num_ep_dimensions > 0 ? s->ep_dimensions[a[11]] : 1;
        j->weight_dtype = a[12];
        j->kv_cache_dtype = a[13];
        vidur_search__job_key(s, j);
        vidur_search__job_check(s, j);
        nv += j->valid;
        for (d = 13; d >= 0; d--) { /* odometer: the last axis varies fastest, like itertools.product */
            if (++a[d] < dims[d]) break;
            a[d] = 0;
        }
    }
    *out = jobs;
    *count = total;
    if (num_valid) *num_valid = nv;
    return VIDUR_OK;
}

/* ==== SECTION 5: one run's simulator configuration ================================================ */
VIDURDEF vidur_result vidur_search_job_config(const vidur_search_spec *s, const vidur_search_job *j, double qps,
                                              int num_replicas, vidur_config *cfg, vidur_error *err)
{
    const vidur_search_trace *tr = &s->traces[j->trace];
    const vidur_search_cluster *cl = &s->clusters[j->cluster];
    const vidur_search_global_scheduler *g = &s->global_schedulers[j->global_scheduler];
    const vidur_search_request_queue *rq = &s->request_queues[j->request_queue];
    const vidur_search_replica_scheduler *rs = &s->replica_schedulers[j->replica_scheduler];
    vidur_component_info ci;
    char v[64], k[VIDUR_NAME_MAX + 96];
    int i;
    vidur_config_init(cfg);
    if (s->base_config[0] && vidur_config_load_ini(cfg, s->base_config, err)) return err ? err->code : VIDUR_ERR_CONFIG;
#define VIDUR_SEARCH__J_SET(flag, value) do { if (vidur_config_set(cfg, flag, value, err)) return err ? err->code : VIDUR_ERR_CONFIG; } while (0)
#define VIDUR_SEARCH__J_SETI(flag, value) do { snprintf(v, sizeof v, "%lld", (long long)(value)); VIDUR_SEARCH__J_SET(flag, v); } while (0)
#define VIDUR_SEARCH__J_SETD(flag, value) do { vidur_search__fmt_double(v, sizeof v, value); VIDUR_SEARCH__J_SET(flag, v); } while (0)
    if (s->models[j->model].identifier[0]) VIDUR_SEARCH__J_SET("replica_config_model_name", s->models[j->model].identifier);
    if (s->models[j->model].config[0]) VIDUR_SEARCH__J_SET("replica_config_model_config", s->models[j->model].config);
    if (j->ep > 1) VIDUR_SEARCH__J_SETI("replica_config_expert_parallel_size", j->ep);
    if (s->num_weight_dtypes > 0) VIDUR_SEARCH__J_SET("replica_config_weight_dtype", s->weight_dtypes[j->weight_dtype]);
    if (s->num_kv_cache_dtypes > 0) VIDUR_SEARCH__J_SET("replica_config_kv_cache_dtype", s->kv_cache_dtypes[j->kv_cache_dtype]);
    VIDUR_SEARCH__J_SET("request_generator_config_type", "synthetic");
    VIDUR_SEARCH__J_SET("length_generator_config_type", "trace");
    VIDUR_SEARCH__J_SET("trace_request_length_generator_config_trace_file", tr->trace_file);
    VIDUR_SEARCH__J_SETI("trace_request_length_generator_config_max_tokens", tr->max_seq_len);
    VIDUR_SEARCH__J_SET("trace_request_length_generator_config_prefill_scale_factor", "1");
    VIDUR_SEARCH__J_SET("trace_request_length_generator_config_decode_scale_factor", "1");
    VIDUR_SEARCH__J_SETI("vllm_scheduler_config_max_tokens_in_batch", tr->max_seq_len);
    /* ours: the trace's enable_prefix_caching is honoured (the fork passes the switch always) */
    VIDUR_SEARCH__J_SET("cache_config_enable_prefix_caching", tr->enable_prefix_caching ? "true" : "false");
    VIDUR_SEARCH__J_SET("replica_config_device", cl->device);
    VIDUR_SEARCH__J_SET("replica_config_network_device", cl->network_device);
    VIDUR_SEARCH__J_SET("global_scheduler_config_type", g->scheduler);
    if (vidur_component_find(cfg, VIDUR_COMPONENT_ROUTER, g->scheduler, &ci)) { /* the router's own keys, where it has them */
        snprintf(k, sizeof k, "%s_top_k", ci.section);
        if (g->top_k && vidur_search__has_key(cfg, &ci, "top_k")) VIDUR_SEARCH__J_SETI(k, g->top_k);
        snprintf(k, sizeof k, "%s_tolerance_factor", ci.section);
        if (g->tolerance_factor > 0 && vidur_search__has_key(cfg, &ci, "tolerance_factor")) VIDUR_SEARCH__J_SETD(k, g->tolerance_factor);
    }
    VIDUR_SEARCH__J_SET("request_queue_config_type", rq->provider);
    if (!strcmp(rq->provider, "edf")) VIDUR_SEARCH__J_SETD("slo_config_prefill_e2e_time_normalized", rq->slo_prefill_e2e_time_normalized);
    VIDUR_SEARCH__J_SET("replica_scheduler_config_type", rs->scheduler);
    if (rs->chunk_size && vidur_component_find(cfg, VIDUR_COMPONENT_REPLICA_SCHEDULER, rs->scheduler, &ci) &&
        vidur_search__has_key(cfg, &ci, "chunk_size")) {
        snprintf(k, sizeof k, "%s_chunk_size", ci.section);
        VIDUR_SEARCH__J_SETI(k, rs->chunk_size);
    }
    VIDUR_SEARCH__J_SETI("replica_config_tensor_parallel_size", j->tp);
    VIDUR_SEARCH__J_SETI("replica_config_num_pipeline_stages", j->pp);
    /* the YAML's batch size is per micro-batch; the fork sets the cap of every replica scheduler */
    for (i = 0; i < vidur_component_count(cfg, VIDUR_COMPONENT_REPLICA_SCHEDULER); i++)
        if (vidur_component_get(cfg, VIDUR_COMPONENT_REPLICA_SCHEDULER, i, &ci) && vidur_search__has_key(cfg, &ci, "batch_size_cap")) {
            snprintf(k, sizeof k, "%s_batch_size_cap", ci.section);
            VIDUR_SEARCH__J_SETI(k, (int64_t)j->batch_size * j->pp);
        }
    VIDUR_SEARCH__J_SETD("time_limit", s->time_limit * 60);
    VIDUR_SEARCH__J_SETI("cluster_config_num_replicas", num_replicas);
    VIDUR_SEARCH__J_SET("interval_generator_config_type", "poisson");
    VIDUR_SEARCH__J_SETD("poisson_request_interval_generator_config_qps", qps);
    VIDUR_SEARCH__J_SETI("synthetic_request_generator_config_num_requests", s->searches[j->search].num_requests);
    VIDUR_SEARCH__J_SET("metrics_config_store_plots", "false");
    VIDUR_SEARCH__J_SET("metrics_config_enable_chrome_trace", "false");
    VIDUR_SEARCH__J_SET("metrics_config_keep_individual_batch_metrics", "false");
#undef VIDUR_SEARCH__J_SET
#undef VIDUR_SEARCH__J_SETI
#undef VIDUR_SEARCH__J_SETD
#ifdef VIDUR_JSON
    if (vidur_config_load_model_config(cfg, err)) return err ? err->code : VIDUR_ERR_CONFIG; /* [model.NAME] config */
#endif
    return vidur_config_validate(cfg, err);
}

VIDURDEF double vidur_search_cost_per_hour(const vidur_search_spec *s, const vidur_search_job *j, int num_replicas)
{
    const vidur_device_spec *d = vidur_find_device(NULL, s->clusters[j->cluster].device);
    return d ? (double)num_replicas * j->tp * j->pp * d->price_per_hour : 0.0;
}

VIDURDEF double vidur_search_qps_per_dollar(double qps, double cost_per_hour) { return cost_per_hour > 0 ? qps / cost_per_hour : 0.0; }

/* ==== SECTION 6: per-request values and SLO checks ================================================= */
static void vidur_search__on_complete(void *user, vidur_sim *sim, const vidur_request *q)
{
    vidur_search_values *vals = (vidur_search_values *)user;
    double v[VIDUR_METRIC_COUNT];
    (void)sim;
    /* amortised growth: no allocation per request once the array has its size */
    if (!vidur_search__grow((void **)&vals->v, &vals->cap, (vals->n + 1) * VIDUR_NUM_REQUEST_TIME_METRICS, sizeof(double))) return;
    vidur_request_metrics(q, v); /* the same definitions as request_metrics.csv */
    memcpy(vals->v + vals->n * VIDUR_NUM_REQUEST_TIME_METRICS, v, VIDUR_NUM_REQUEST_TIME_METRICS * sizeof(double));
    vals->n++;
}

VIDURDEF void vidur_search_values_attach(vidur_config *cfg, vidur_search_values *vals)
{
    cfg->observer.on_request_complete = vidur_search__on_complete;
    cfg->observer.user = vals;
}

VIDURDEF void vidur_search_values_free(vidur_search_values *vals)
{
    VIDUR_FREE(vals->v);
    vals->v = NULL;
    vals->n = vals->cap = 0;
}

VIDURDEF double vidur_search_quantile(double *v, int64_t n, double q)
{
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, vidur_search__dbl_cmp); /* sorted, as the API promises */
    return vidur_search__quantile_sorted(v, n, q);
}

VIDURDEF int vidur_search_slo_check(const vidur_search_slo_config *slo, const double *values, int64_t n, int stride,
                                    double *measured)
{
    int64_t i, ok = 0;
    int k;
    if (measured) *measured = NAN;
    if (n <= 0 || slo->num_slos <= 0) return 0;
    if (slo->num_slos == 1) { /* the fork: quantile of the metric's column <= value */
        double *col = (double *)VIDUR_MALLOC((size_t)n * sizeof(double)), qv;
        if (!col) return -1;
        for (i = 0; i < n; i++) col[i] = values[i * stride + slo->slos[0].metric];
        qv = vidur_search_quantile(col, n, slo->quantile);
        VIDUR_FREE(col);
        if (measured) *measured = qv;
        return qv <= slo->slos[0].value;
    }
    for (i = 0; i < n; i++) { /* several: fraction of requests meeting all (and) / any (or) */
        int pass = slo->is_or ? 0 : 1;
        for (k = 0; k < slo->num_slos; k++) {
            int m = values[i * stride + slo->slos[k].metric] <= slo->slos[k].value;
            pass = slo->is_or ? (pass || m) : (pass && m);
        }
        ok += pass;
    }
    if (measured) *measured = (double)ok / (double)n;
    return (double)ok / (double)n >= slo->quantile;
}

/* ==== SECTION 7: the fork's search loops (config_explorer.md §6) ================================== */
VIDURDEF vidur_result vidur_search_run(const vidur_search_params *p, vidur_search_oracle_fn fn, void *user,
                                       vidur_search_outcome *out, vidur_error *err)
{
    vidur_result r;
    int it, pass, found = 0;
    memset(out, 0, sizeof *out);
#define VIDUR_SEARCH__R_CHECK(q, rep) do { out->num_probes++; r = fn(user, (q), (rep), &pass, err); if (r != VIDUR_OK) return r; } while (0)
    if (p->search_for == VIDUR_SEARCH_QPS) {
        double left = 0, right = 2 * p->qps, mid;
        for (it = 0; it < p->max_iterations; it++) {
            if (!found) { /* expansion: double until a failure bounds the range */
                out->num_iterations++;
                VIDUR_SEARCH__R_CHECK(right, p->num_replicas);
                if (pass) { left = right; right = 2 * right; }
                else found = 1;
            } else {
                if (fabs(left - right) < p->min_search_granularity * right / 100) break;
                if (right < p->min_qps) break; /* the fork warns: nothing sustainable above min_qps */
                out->num_iterations++;
                mid = (left + right) / 2;
                VIDUR_SEARCH__R_CHECK(mid, p->num_replicas);
                if (pass) left = mid;
                else right = mid;
            }
        }
        out->qps = left;
        out->found = left > 0;
        out->num_replicas = p->num_replicas;
    } else if (p->search_for == VIDUR_SEARCH_NUM_REPLICAS) {
        int left = 1, right = 2 * p->num_replicas, mid, best = 0;
        for (it = 0; it < p->max_iterations; it++) {
            if (!found) {
                out->num_iterations++;
                VIDUR_SEARCH__R_CHECK(p->qps, right);
                if (!pass) { left = right + 1; right = 2 * right; }
                else { found = 1; best = right; }
            } else {
                if (left > right) break;
                out->num_iterations++;
                mid = (left + right) / 2;
                VIDUR_SEARCH__R_CHECK(p->qps, mid);
                if (!pass) left = mid + 1;
                else { right = mid - 1; best = mid; }
            }
        }
        /* the fork returns `left`; that is the smallest passing count whenever the loop ends by
           convergence. We report the smallest count seen to pass (never an unverified one). */
        out->found = best > 0;
        out->num_replicas = best;
        out->qps = p->qps;
    } else {
        int i;
        for (i = 0; i < p->num_qps_multipliers; i++) {
            double q = p->qps * p->qps_multipliers[i];
            out->num_iterations++;
            VIDUR_SEARCH__R_CHECK(q, p->num_replicas);
            if (pass && q > out->qps) { out->qps = q; out->found = 1; }
        }
        out->num_replicas = p->num_replicas;
    }
#undef VIDUR_SEARCH__R_CHECK
    return VIDUR_OK;
}

#endif /* VIDUR_SEARCH_IMPLEMENTATION_ONCE */
#endif /* VIDUR_SEARCH_IMPLEMENTATION */

/*
   LICENCE: MIT License, as vidur.h (see the end of vidur.h). Copyright (c) 2026 the vidur.h authors.
*/
