/* vidur-tables - trains vidur.h's profiled operator tables from profiling CSVs.

   usage: vidur-tables [--profiling-dir DIR ...] [--out-header FILE] [--out-report FILE]
                       [--vtab FILE] [--dump FILE] [--seed N] [-j N]
                       [--device SKU ...] [--model ORG/NAME ...] [--node NODE ...] [--quiet]

   Reads compute/<device>/<org>/<model>/{mlp,attention,moe}.csv and network/<node>/{all_reduce,
   send_recv}.csv under every profiling root (default ../shared/data/profiling, then
   data/profiling; a default root that does not exist is skipped), builds one table per
   (device, model, TP, operator) and (node, operator, TP) with Vidur's row filters and features
   (execution_time.md §2, §5), and for each one
     - holds out every 5th row in feature order (rows 2, 7, 12, ...) when it has >= 10 rows,
     - selects random-forest and polynomial-regression hyper-parameters by 5-fold interleaved
       cross-validation (MAPE, Vidur's rule for a true 0) on the other rows; the forest's target
       is one of them: time, log time, time / t0 or log(time / t0), where t0 is the ideal
       roofline time of the row's key (vidur_relative.h); a forest of a relative target is
       emitted as a roofline-relative table (relative = 1: vidur.h multiplies by t0),
     - measures the held-out error of both, and of the calibrated roofline,
     - refits both on all rows and emits them: the forest compiled losslessly into a grid
       (VIDUR_TABLE_GRID) and the polynomial (VIDUR_TABLE_POLY).
   Roofline calibrations (t = scale x ideal roofline time + overhead_ms) are fitted per
   (GPU SKU, op) and (node, op), pooled over models and TPs, minimising the median APE.

   Outputs (written to temporary names and renamed at the end; nothing on error):
     --out-header (data/vidur_tables.h)    static const C data included by vidur.h
     --out-report (data/tables_accuracy.md) held-out accuracy report
     --vtab FILE                            the same tables in vidur.h's table-file format
     --dump FILE                            one line per table (identity and values; for tests)
   Same inputs and --seed give byte-identical outputs whatever -j.

   Filters: --device/--model select compute combos, --node network combos; with only compute
   filters no network table is trained and vice versa; with none, everything. */
#define _POSIX_C_SOURCE 200809L
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#include "vidur_forest.h"
#include "vidur_relative.h"

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VT_VERSION "vidur-tables 1.0"
#define VT_HOLDOUT_EVERY 5
#define VT_HOLDOUT_AT 2
#define VT_FOLDS 5
#define VT_MIN_ROWS_HOLDOUT 10

/* random-forest grid: n_estimators are prefixes of one forest (the first k trees of a forest
   are the forest of k trees), so one fit scores every value */
static const int vt_ntrees[] = {50, 100, 200};
#define VT_NNT ((int)(sizeof vt_ntrees / sizeof vt_ntrees[0]))
#define VT_MAXTREES 200
static const int vt_depths[] = {8, 16, 32};
static const int vt_mss[] = {2, 5, 10};
#define VT_ND ((int)(sizeof vt_depths / sizeof vt_depths[0]))
#define VT_NM 3
/* fixed costs of relative targets (vidur_relative.h: t / (t0 + o)), as factors of the smallest
   time of the rows being fitted: 0 (t / t0) and 1 ({0, 0.5, 1, 2} was tried: no better than
   {0, 1}, and twice the training time) */
static const double vt_rel_off[] = {0, 1};
#define VT_NOFF ((int)(sizeof vt_rel_off / sizeof vt_rel_off[0]))
/* targets: time, log(time), then per fixed cost t / (t0 + o) and log(t / (t0 + o)) */
#define VT_NTG (2 + 2 * VT_NOFF)
#define VT_TG_KIND(li) ((li) < 2 ? (li) : VR_TARGET_REL + (((li) - 2) & 1))
#define VT_TG_OFF(li) ((li) < 2 ? -1 : ((li) - 2) / 2)
/* min_samples_leaf: {1} (a grid {1, 2, 4} was tried: it changed nothing measurable) */
static const int vt_msl[] = {1};
#define VT_NL ((int)(sizeof vt_msl / sizeof vt_msl[0]))

/* ---- small utilities ------------------------------------------------------------------------ */
static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "vidur-tables: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory");
    return p;
}
static void *xcalloc(size_t n, size_t s)
{
    void *p = calloc(n ? n : 1, s ? s : 1);
    if (!p) die("out of memory");
    return p;
}
static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) die("out of memory");
    return p;
}
static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = (char *)xmalloc(n);
    memcpy(d, s, n);
    return d;
}

/* growable string */
typedef struct sb { char *s; size_t n, cap; } sb;
static void sb_putn(sb *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        b->s = (char *)xrealloc(b->s, cap);
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void sb_puts(sb *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_printf(sb *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) die("formatting error");
    if ((size_t)n < sizeof tmp) { sb_putn(b, tmp, (size_t)n); return; }
    {
        char *big = (char *)xmalloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        sb_putn(b, big, (size_t)n);
        free(big);
    }
}

/* snprintf into a path buffer; a path that does not fit is an error */
static void pathf(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;
    int k;
    va_start(ap, fmt);
    k = vsnprintf(dst, n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= n) die("path too long: %s...", dst);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}
static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* sorted names of the subdirectories (or files) of dir; never directory order */
static int list_dir(const char *dir, int want_dirs, char ***out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, path[4096];
    int n = 0, cap = 0;
    *out = NULL;
    if (!d) return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        pathf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (want_dirs ? !is_dir(path) : !is_file(path)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = (char **)xrealloc(names, sizeof *names * (size_t)cap);
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    return n;
}
static void free_names(char **names, int n)
{
    int i;
    for (i = 0; i < n; i++) free(names[i]);
    free(names);
}

static char *read_file(const char *path, size_t *len)
{
    vidur_error err;
    FILE *f = vidur_open_input(path, &err); /* a folder, /dev/zero or a FIFO is refused */
    char *buf;
    size_t cap = 1 << 16, n = 0, got;
    if (!f) die("%s", err.message);
    buf = (char *)xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) { cap *= 2; buf = (char *)xrealloc(buf, cap); }
    }
    if (ferror(f)) die("%s: read error", path);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- options -------------------------------------------------------------------------------- */
typedef struct opts {
    const char *roots[64];
    int nroots, roots_given;
    const char *out_header, *out_report, *vtab, *dump;
    const char *configs[16];
    int nconfigs, header_given, report_given;
    uint64_t seed;
    int jobs, quiet;
    const char *devices[64], *models[64], *nodes[64];
    int ndev, nmod, nnode;
} opts;
static opts O;
/* models, devices and nodes: vidur.h's built-in tables, plus [model.X] / [device.X] / [node.X]
   sections of --config files */
static vidur_config g_cfg;
static const vidur_config *g_cfgp;

/* ---- inputs --------------------------------------------------------------------------------- */
typedef struct input_file {
    char *path;      /* as opened (root/relative) */
    char *rel;       /* relative to its root */
    int root;
    uint64_t hash;   /* FNV-1a 64 of the contents */
    int rows, dups;  /* data rows read, exact duplicates dropped */
} input_file;
static input_file *g_files;
static int g_nfiles, g_capfiles;

enum { K_MLP, K_ATTN, K_ALLRED, K_SENDRECV, K_MOE, K_KINDS };

typedef struct combo {
    int kind_net;     /* 0: compute (device, model); 1: network (node) */
    char *device, *model, *node;
    int files[K_KINDS][16]; /* per kind K_*: indices into g_files */
    int nfiles[K_KINDS];
} combo;
static combo *g_combos;
static int g_ncombos;

static int match_list(const char *const *list, int n, const char *s)
{
    int i;
    if (n == 0) return 1;
    for (i = 0; i < n; i++)
        if (!strcmp(list[i], s)) return 1;
    return 0;
}

static combo *get_combo(int net, const char *device, const char *model, const char *node)
{
    int i;
    combo *c;
    for (i = 0; i < g_ncombos; i++) {
        c = &g_combos[i];
        if (c->kind_net == net && !strcmp(c->device, device) && !strcmp(c->model, model) && !strcmp(c->node, node)) return c;
    }
    g_combos = (combo *)xrealloc(g_combos, sizeof *g_combos * (size_t)(g_ncombos + 1));
    c = &g_combos[g_ncombos++];
    memset(c, 0, sizeof *c);
    c->kind_net = net;
    c->device = xstrdup(device);
    c->model = xstrdup(model);
    c->node = xstrdup(node);
    return c;
}

static void add_file(combo *c, int kind, int root, const char *path, const char *rel)
{
    input_file *f;
    if (c->nfiles[kind] >= 16) die("%s: too many roots hold this file", path);
    if (g_nfiles == g_capfiles) {
        g_capfiles = g_capfiles ? g_capfiles * 2 : 64;
        g_files = (input_file *)xrealloc(g_files, sizeof *g_files * (size_t)g_capfiles);
    }
    f = &g_files[g_nfiles];
    memset(f, 0, sizeof *f);
    f->path = xstrdup(path);
    f->rel = xstrdup(rel);
    f->root = root;
    c->files[kind][c->nfiles[kind]++] = g_nfiles++;
}

static int cmp_combo(const void *a, const void *b)
{
    const combo *x = (const combo *)a, *y = (const combo *)b;
    int c;
    if (x->kind_net != y->kind_net) return x->kind_net - y->kind_net;
    if ((c = strcmp(x->device, y->device))) return c;
    if ((c = strcmp(x->model, y->model))) return c;
    return strcmp(x->node, y->node);
}

static void discover(void)
{
    int r, compute_sel = O.ndev > 0 || O.nmod > 0, net_sel = O.nnode > 0, all = !compute_sel && !net_sel;
    char p[4096], rel[4096];
    static const char *const ckinds[3] = {"mlp.csv", "attention.csv", "moe.csv"};
    static const int ckind_of[3] = {K_MLP, K_ATTN, K_MOE};
    static const char *const nkinds[2] = {"all_reduce.csv", "send_recv.csv"};
    for (r = 0; r < O.nroots; r++) {
        const char *root = O.roots[r];
        char **devs, **orgs, **models, **nodes;
        int nd, no, nm, nn, i, j, k, q;
        pathf(p, sizeof p, "%s/compute", root);
        nd = list_dir(p, 1, &devs);
        for (i = 0; i < nd; i++) {
            pathf(p, sizeof p, "%s/compute/%s", root, devs[i]);
            no = list_dir(p, 1, &orgs);
            for (j = 0; j < no; j++) {
                pathf(p, sizeof p, "%s/compute/%s/%s", root, devs[i], orgs[j]);
                nm = list_dir(p, 1, &models);
                for (k = 0; k < nm; k++) {
                    char model[512];
                    pathf(model, sizeof model, "%s/%s", orgs[j], models[k]);
                    if (!(all || (compute_sel && match_list(O.devices, O.ndev, devs[i]) && match_list(O.models, O.nmod, model))))
                        continue;
                    for (q = 0; q < 3; q++) {
                        pathf(rel, sizeof rel, "compute/%s/%s/%s", devs[i], model, ckinds[q]);
                        pathf(p, sizeof p, "%s/%s", root, rel);
                        if (is_file(p)) add_file(get_combo(0, devs[i], model, ""), ckind_of[q], r, p, rel);
                    }
                }
                free_names(models, nm);
            }
            free_names(orgs, no);
        }
        free_names(devs, nd);
        pathf(p, sizeof p, "%s/network", root);
        nn = list_dir(p, 1, &nodes);
        for (i = 0; i < nn; i++) {
            if (!(all || (net_sel && match_list(O.nodes, O.nnode, nodes[i])))) continue;
            for (q = 0; q < 2; q++) {
                pathf(rel, sizeof rel, "network/%s/%s", nodes[i], nkinds[q]);
                pathf(p, sizeof p, "%s/%s", root, rel);
                if (is_file(p)) add_file(get_combo(1, "", "", nodes[i]), q == 0 ? K_ALLRED : K_SENDRECV, r, p, rel);
            }
        }
        free_names(nodes, nn);
    }
    if (g_ncombos) qsort(g_combos, (size_t)g_ncombos, sizeof *g_combos, cmp_combo);
}

/* ---- CSV ------------------------------------------------------------------------------------ */
typedef struct csv_row {
    const char *path;
    int line;
    int nf;
    char **f;
} csv_row;

typedef struct csv {
    const char *path;
    char *buf;
    char **hdr;
    int nh;
    /* rows after de-duplication */
    char **lines;
    int *lineno;
    int nrows;
} csv;

/* splits one line in place into fields (double quotes honoured) */
static int split_fields(char *s, char ***out, int *cap)
{
    int n = 0;
    for (;;) {
        char *w, *start;
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *out = (char **)xrealloc(*out, sizeof **out * (size_t)*cap);
        }
        if (*s == '"') {
            start = w = ++s;
            for (;;) {
                if (*s == 0) break;
                if (*s == '"') {
                    if (s[1] == '"') { *w++ = '"'; s += 2; continue; }
                    s++;
                    break;
                }
                *w++ = *s++;
            }
            while (*s && *s != ',') s++; /* text after the closing quote is ignored */
            (*out)[n++] = start;
            if (*s == ',') { *w = 0; s++; continue; }
            *w = 0;
            return n;
        }
        start = s;
        while (*s && *s != ',') s++;
        (*out)[n++] = start;
        if (*s == ',') { *s++ = 0; continue; }
        return n;
    }
}

/* dedup set over (header hash, line text) */
typedef struct dset { uint64_t *h; const char **s; size_t cap, n; } dset;
static int dset_add(dset *d, uint64_t hh, const char *s)
{
    uint64_t h = vf_fnv1a(hh, s, strlen(s));
    size_t i;
    if ((d->n + 1) * 2 > d->cap) {
        dset nd;
        size_t k;
        nd.cap = d->cap ? d->cap * 2 : 1024;
        nd.n = 0;
        nd.h = (uint64_t *)xcalloc(nd.cap, sizeof *nd.h);
        nd.s = (const char **)xcalloc(nd.cap, sizeof *nd.s);
        for (k = 0; k < d->cap; k++)
            if (d->s[k]) {
                size_t j = d->h[k] & (nd.cap - 1);
                while (nd.s[j]) j = (j + 1) & (nd.cap - 1);
                nd.h[j] = d->h[k];
                nd.s[j] = d->s[k];
                nd.n++;
            }
        free(d->h);
        free(d->s);
        *d = nd;
    }
    i = h & (d->cap - 1);
    while (d->s[i]) {
        if (d->h[i] == h && !strcmp(d->s[i], s)) return 0;
        i = (i + 1) & (d->cap - 1);
    }
    d->h[i] = h;
    d->s[i] = s;
    d->n++;
    return 1;
}
static void dset_free(dset *d) { free(d->h); free(d->s); memset(d, 0, sizeof *d); }

/* reads a CSV file: header + non-empty lines; rows already seen in `seen` are dropped */
static void csv_read(csv *c, input_file *fi, dset *seen)
{
    size_t len, i;
    char *p, *line;
    int lineno = 0, cap = 0, hcap = 0;
    uint64_t hh;
    memset(c, 0, sizeof *c);
    c->path = fi->path;
    c->buf = read_file(fi->path, &len);
    fi->hash = vf_fnv1a(VF_FNV_OFFSET, c->buf, len);
    p = c->buf;
    /* header */
    line = p;
    while (*p && *p != '\n') p++;
    if (*p) *p++ = 0;
    lineno = 1;
    i = strlen(line);
    if (i && line[i - 1] == '\r') line[i - 1] = 0;
    if (!*line) die("%s:1: field '': empty header line", fi->path);
    {
        char *hcopy = xstrdup(line);
        hh = vf_fnv1a(VF_FNV_OFFSET, hcopy, strlen(hcopy));
        c->nh = split_fields(hcopy, &c->hdr, &hcap);
    }
    while (*p) {
        line = p;
        while (*p && *p != '\n') p++;
        if (*p) *p++ = 0;
        lineno++;
        i = strlen(line);
        if (i && line[i - 1] == '\r') line[--i] = 0;
        if (!i) continue;
        fi->rows++;
        if (!dset_add(seen, hh, line)) { fi->dups++; continue; }
        if (c->nrows == cap) {
            cap = cap ? cap * 2 : 1024;
            c->lines = (char **)xrealloc(c->lines, sizeof *c->lines * (size_t)cap);
            c->lineno = (int *)xrealloc(c->lineno, sizeof *c->lineno * (size_t)cap);
        }
        c->lines[c->nrows] = line;
        c->lineno[c->nrows++] = lineno;
    }
}

static int csv_col(const csv *c, const char *name, int required)
{
    int i;
    for (i = 0; i < c->nh; i++)
        if (!strcmp(c->hdr[i], name)) return i;
    if (required) die("%s:1: field '%s': no such column", c->path, name);
    return -1;
}

typedef struct rowctx {
    const csv *c;
    int line;
    char **f;
    int nf;
} rowctx;

static const char *field_str(const rowctx *r, int col)
{
    if (col >= r->nf) die("%s:%d: field '%s': missing (the row has %d fields, the header %d)", r->c->path, r->line, r->c->hdr[col], r->nf, r->c->nh);
    return r->f[col];
}

/* number; optional (col < 0 or empty field) gives 0 */
static double field_num(const rowctx *r, int col, int optional)
{
    const char *s;
    char *end;
    double v;
    if (col < 0) return 0;
    s = field_str(r, col);
    while (*s == ' ') s++;
    if (!*s) {
        if (optional) return 0;
        die("%s:%d: field '%s': empty", r->c->path, r->line, r->c->hdr[col]);
    }
    errno = 0;
    v = strtod(s, &end);
    while (*end == ' ') end++;
    if (end == s || *end || !(v == v) || v > DBL_MAX || v < -DBL_MAX)
        die("%s:%d: field '%s': not a number: '%s'", r->c->path, r->line, r->c->hdr[col], r->f[col]);
    /* a profiled time is a duration in ms (a negative one trained tables that predicted negative
       batch times; 1e308 became inf in the table file); everything else is a count or a size,
       converted to 64-bit integers later */
    if (!strncmp(r->c->hdr[col], "time_stats.", 11) ? !(v >= 0 && v <= 1e9) : !(v >= -1e15 && v <= 1e15))
        die("%s:%d: field '%s': %s is out of range (%s)", r->c->path, r->line, r->c->hdr[col], r->f[col],
            !strncmp(r->c->hdr[col], "time_stats.", 11) ? "a time in ms, 0 to 1e9" : "-1e15 to 1e15");
    return v;
}

static int field_bool(const rowctx *r, int col)
{
    const char *s = field_str(r, col);
    if (!strcmp(s, "True") || !strcmp(s, "true") || !strcmp(s, "1")) return 1;
    if (!strcmp(s, "False") || !strcmp(s, "false") || !strcmp(s, "0")) return 0;
    die("%s:%d: field '%s': not a boolean: '%s'", r->c->path, r->line, r->c->hdr[col], s);
    return 0;
}

/* splits row k (a copy of it: the loaders read every file twice); loading is single-threaded */
static void row_split(rowctx *r, const csv *c, int k, char ***fields, int *cap)
{
    static char *scratch;
    static size_t scap;
    size_t len = strlen(c->lines[k]) + 1;
    if (len > scap) {
        scap = len * 2;
        scratch = (char *)xrealloc(scratch, scap);
    }
    memcpy(scratch, c->lines[k], len);
    r->c = c;
    r->line = c->lineno[k];
    r->nf = split_fields(scratch, fields, cap);
    r->f = *fields;
    if (r->nf > c->nh) die("%s:%d: field '#%d': the row has %d fields, the header %d", c->path, r->line, c->nh + 1, r->nf, c->nh);
    if (r->nf < c->nh) die("%s:%d: field '%s': missing (the row has %d fields, the header %d)", c->path, r->line, c->hdr[r->nf], r->nf, c->nh);
}

/* ---- tables --------------------------------------------------------------------------------- */
typedef struct trow { double x, y, t; int64_t k1, k2; int seq; } trow;

typedef struct rf_result {
    int ntrees, depth, mss, msl, target; /* target: VR_TARGET_* */
    int off;                             /* relative targets: index into vt_rel_off */
    double offset_ms;                    /* relative targets: the emitted table's fixed cost */
    double cv_mape;
    double ho_med, ho_p90;
    vf_grid grid;
    int max_tree_depth;
} rf_result;

typedef struct lr_result {
    int degree, inter, intercept;
    double cv_mape;
    double ho_med, ho_p90;
    vf_poly poly;
} lr_result;

typedef struct table {
    const char *device, *model, *node;   /* "" when not applicable */
    const char *calib_dev;               /* device (compute) or node (network) */
    int tp, op, d, net;
    trow *rows;
    int n, cap;
    int allzero;
    int has_roof;
    vidur_roofline roof;
    double *t0;                           /* ideal roofline time per row */
    int t0_exact;                         /* t0 is vidur.h's t0 at every row's key (relative targets allowed) */
    unsigned char *held;
    int nheld;
    double xmin, xmax, ymin, ymax;
    rf_result rf;
    lr_result lr;
    double roof_med, roof_p90;
    int roof_ok;
    double ip_med, ip_p90;                /* 1-D: linear interpolation between training rows */
    int ip_ok;
    int failed;
} table;

static table *g_tabs;
static int g_ntabs;

static table *new_table(const char *device, const char *model, const char *node, int tp, int op, int d)
{
    table *t;
    g_tabs = (table *)xrealloc(g_tabs, sizeof *g_tabs * (size_t)(g_ntabs + 1));
    t = &g_tabs[g_ntabs++];
    memset(t, 0, sizeof *t);
    t->device = device;
    t->model = model;
    t->node = node;
    t->calib_dev = *node ? node : device;
    t->net = *node != 0;
    t->tp = tp;
    t->op = op;
    t->d = d;
    return t;
}

static void add_row(table *t, double x, double y, double v, int64_t k1, int64_t k2)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->rows = (trow *)xrealloc(t->rows, sizeof *t->rows * (size_t)t->cap);
    }
    t->rows[t->n].x = x;
    t->rows[t->n].y = y;
    t->rows[t->n].t = v;
    t->rows[t->n].k1 = k1;
    t->rows[t->n].k2 = k2;
    t->rows[t->n].seq = t->n;
    t->n++;
}

/* the ordered list of TP values */
static int add_tp(int *tps, int n, int tp)
{
    int i, j;
    for (i = 0; i < n; i++)
        if (tps[i] == tp) return n;
    if (n >= 64) die("more than 64 TP degrees in one file");
    for (i = 0; i < n && tps[i] < tp; i++) {}
    for (j = n; j > i; j--) tps[j] = tps[j - 1];
    tps[i] = tp;
    return n + 1;
}

static const int mlp_ops[9] = {VIDUR_OP_ATTN_PRE_PROJ, VIDUR_OP_ATTN_POST_PROJ, VIDUR_OP_ATTN_ROPE,
                               VIDUR_OP_INPUT_LAYERNORM, VIDUR_OP_POST_ATTENTION_LAYERNORM, VIDUR_OP_MLP_UP_PROJ,
                               VIDUR_OP_MLP_DOWN_PROJ, VIDUR_OP_MLP_ACT, VIDUR_OP_ADD};
static int op_optional(int op)
{
    return op == VIDUR_OP_INPUT_LAYERNORM || op == VIDUR_OP_POST_ATTENTION_LAYERNORM || op == VIDUR_OP_ADD ||
           op == VIDUR_OP_ATTN_KV_CACHE_SAVE;
}

/* the columns of one mlp.csv: model keys, token count, TP, and each operator's median time */
typedef struct mlp_cols {
    int ch, ckv, ce, cf, cv, cg, cn, ctp, chd;
    int op[VIDUR_OP_COUNT];
} mlp_cols;

static void mlp_cols_find(const csv *C, mlp_cols *M)
{
    char name[128];
    int i;
    M->ch = csv_col(C, "n_head", 1);
    M->ckv = csv_col(C, "n_kv_head", 1);
    M->ce = csv_col(C, "n_embd", 1);
    M->cf = csv_col(C, "n_expanded_embd", 1);
    M->cv = csv_col(C, "vocab_size", 1);
    M->cg = csv_col(C, "use_gated_mlp", 1);
    M->cn = csv_col(C, "num_tokens", 1);
    M->ctp = csv_col(C, "num_tensor_parallel_workers", 1);
    M->chd = csv_col(C, "head_dim", 0); /* ours, optional: n_embd / n_head when absent or 0 */
    for (i = 0; i < 9; i++) {
        snprintf(name, sizeof name, "time_stats.%s.median", vidur_op_name(mlp_ops[i]));
        M->op[mlp_ops[i]] = csv_col(C, name, !op_optional(mlp_ops[i]));
    }
}

/* the spec's row filter: the row profiles this model */
static int mlp_row_matches(const rowctx *r, const mlp_cols *M, const vidur_model_spec *m)
{
    double h = field_num(r, M->ch, 0), e = field_num(r, M->ce, 0), hd = field_num(r, M->chd, 1);
    if (hd == 0 && h > 0) hd = e / h;
    return h == m->num_q_heads && field_num(r, M->ckv, 0) == m->num_kv_heads && e == m->embedding_dim &&
           field_num(r, M->cf, 0) == m->mlp_hidden_dim && field_num(r, M->cv, 0) == m->vocab_size &&
           field_bool(r, M->cg) == (m->use_gated_mlp != 0) && hd == vidur_model_head_dim(m);
}

/* the model columns of one attention.csv; head_dim is ours and optional: without it a row's
   head size is n_embd / n_q_head (Vidur's profiles), which must then be the model's */
typedef struct attn_cols {
    int ce, cq, ckv, cb, chd;
} attn_cols;

static void attn_cols_find(const csv *C, attn_cols *A)
{
    A->ce = csv_col(C, "n_embd", 1);
    A->cq = csv_col(C, "n_q_head", 1);
    A->ckv = csv_col(C, "n_kv_head", 1);
    A->cb = csv_col(C, "block_size", 1);
    A->chd = csv_col(C, "head_dim", 0);
}

static int attn_row_matches(const rowctx *r, const attn_cols *A, const vidur_model_spec *m)
{
    double e = field_num(r, A->ce, 0), q = field_num(r, A->cq, 0), hd = field_num(r, A->chd, 1);
    if (hd == 0 && q > 0) hd = e / q;
    return e == m->embedding_dim && q == m->num_q_heads && field_num(r, A->ckv, 0) == m->num_kv_heads &&
           field_num(r, A->cb, 0) == 16 && hd == vidur_model_head_dim(m);
}

static int cmp_int(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return x < y ? -1 : x > y; }

/* ---- moe.csv (ours): the MoE layer's operators of an MoE model, one row per (token count, TP, EP) ----
   Columns: the model keys n_embd, num_experts, num_experts_per_tok, moe_intermediate_size (and,
   optional, shared_expert_intermediate_size and weight_dtype: fp16 | bf16 | fp8, default 16-bit),
   num_tokens, num_tensor_parallel_workers, expert_parallel_size (optional, default 1), and
   time_stats.<op>.median for moe_gate, moe_up_proj, moe_act, moe_down_proj (moe_shared_mlp
   optional), each GPU's time of the busiest GPU's share, as tools/vidur-profile.py --moe writes
   them. A table of EP > 1 is stored under the model name "MODEL@epN" (what vidur.h looks up). */
static const int moe_ops[5] = {VIDUR_OP_MOE_GATE, VIDUR_OP_MOE_UP_PROJ, VIDUR_OP_MOE_ACT, VIDUR_OP_MOE_DOWN_PROJ,
                               VIDUR_OP_MOE_SHARED_MLP};

typedef struct moe_cols {
    int ce, cn, ck, cf, cs, cw, ctok, ctp, cep, op[5];
} moe_cols;

static void moe_cols_find(const csv *C, moe_cols *M)
{
    char name[128];
    int i;
    M->ce = csv_col(C, "n_embd", 1);
    M->cn = csv_col(C, "num_experts", 1);
    M->ck = csv_col(C, "num_experts_per_tok", 1);
    M->cf = csv_col(C, "moe_intermediate_size", 1);
    M->cs = csv_col(C, "shared_expert_intermediate_size", 0);
    M->cw = csv_col(C, "weight_dtype", 0);
    M->ctok = csv_col(C, "num_tokens", 1);
    M->ctp = csv_col(C, "num_tensor_parallel_workers", 1);
    M->cep = csv_col(C, "expert_parallel_size", 0);
    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "time_stats.%s.median", vidur_op_name(moe_ops[i]));
        M->op[i] = csv_col(C, name, moe_ops[i] != VIDUR_OP_MOE_SHARED_MLP);
    }
}

static int moe_row_matches(const rowctx *r, const moe_cols *M, const vidur_model_spec *m)
{
    const char *w = M->cw >= 0 ? field_str(r, M->cw) : "";
    int dt = *w ? vidur_dtype_from_name(w) : 0;
    if (dt < 0) die("%s:%d: field 'weight_dtype': expected fp16, bf16 or fp8, not '%s'", r->c->path, r->line, w);
    return field_num(r, M->ce, 0) == m->embedding_dim && field_num(r, M->cn, 0) == m->num_experts &&
           field_num(r, M->ck, 0) == m->num_experts_per_tok && field_num(r, M->cf, 0) == m->moe_intermediate_size &&
           field_num(r, M->cs, 1) == m->shared_expert_intermediate_size &&
           vidur_dtype_bytes(dt) == vidur_dtype_bytes(m->weight_dtype);
}

static void load_moe(combo *c, const vidur_model_spec *m, char ***fields, int *fcap)
{
    int nfile = c->nfiles[K_MOE], fi, k, j, nkeys = 0, keys[64][2], base;
    int nops = m->shared_expert_intermediate_size > 0 ? 5 : 4; /* no shared expert: no moe_shared_mlp table */
    dset seen;
    csv *cs;
    moe_cols *mc;
    memset(&seen, 0, sizeof seen);
    cs = (csv *)xcalloc((size_t)nfile, sizeof *cs);
    mc = (moe_cols *)xcalloc((size_t)nfile, sizeof *mc);
    for (fi = 0; fi < nfile; fi++) csv_read(&cs[fi], &g_files[c->files[K_MOE][fi]], &seen);
    /* first pass: every field checked, the (TP, EP) pairs of matching rows in ascending order */
    for (fi = 0; fi < nfile; fi++) {
        moe_cols_find(&cs[fi], &mc[fi]);
        for (k = 0; k < cs[fi].nrows; k++) {
            rowctx r;
            double tp, ep;
            int i, at;
            row_split(&r, &cs[fi], k, fields, fcap);
            tp = field_num(&r, mc[fi].ctp, 0);
            ep = mc[fi].cep >= 0 ? field_num(&r, mc[fi].cep, 1) : 1;
            if (ep == 0) ep = 1;
            field_num(&r, mc[fi].ctok, 0);
            for (i = 0; i < 5; i++) field_num(&r, mc[fi].op[i], moe_ops[i] == VIDUR_OP_MOE_SHARED_MLP);
            if (tp < 1 || tp > 1024 || tp != (int)tp) die("%s:%d: field 'num_tensor_parallel_workers': not a TP degree: '%s'", cs[fi].path, r.line, r.f[mc[fi].ctp]);
            if (ep < 1 || ep > tp || ep != (int)ep || (int)tp % (int)ep)
                die("%s:%d: field 'expert_parallel_size': not an EP degree dividing the TP degree", cs[fi].path, r.line);
            if (!moe_row_matches(&r, &mc[fi], m)) continue;
            for (at = 0; at < nkeys && (keys[at][0] < (int)tp || (keys[at][0] == (int)tp && keys[at][1] < (int)ep)); at++) {}
            if (at < nkeys && keys[at][0] == (int)tp && keys[at][1] == (int)ep) continue;
            if (nkeys == 64) die("%s: more than 64 (TP, EP) pairs", cs[fi].path);
            memmove(keys[at + 1], keys[at], sizeof keys[0] * (size_t)(nkeys - at));
            keys[at][0] = (int)tp;
            keys[at][1] = (int)ep;
            nkeys++;
        }
    }
    base = g_ntabs;
    for (k = 0; k < nkeys; k++) {
        /* tables keep the name's pointer: one string per (TP, EP), alive until exit like the combos' */
        const char *model = c->model;
        if (keys[k][1] > 1) {
            char buf[1024];
            snprintf(buf, sizeof buf, "%s@ep%d", c->model, keys[k][1]);
            model = xstrdup(buf);
        }
        for (j = 0; j < nops; j++) new_table(c->device, model, "", keys[k][0], moe_ops[j], 1);
    }
    for (fi = 0; fi < nfile; fi++)
        for (k = 0; k < cs[fi].nrows; k++) {
            rowctx r;
            double x, ep;
            int tp, ki;
            row_split(&r, &cs[fi], k, fields, fcap);
            if (!moe_row_matches(&r, &mc[fi], m)) continue;
            tp = (int)field_num(&r, mc[fi].ctp, 0);
            ep = mc[fi].cep >= 0 ? field_num(&r, mc[fi].cep, 1) : 1;
            if (ep == 0) ep = 1;
            x = field_num(&r, mc[fi].ctok, 0);
            for (ki = 0; ki < nkeys && !(keys[ki][0] == tp && keys[ki][1] == (int)ep); ki++) {}
            for (j = 0; j < nops; j++)
                add_row(&g_tabs[base + ki * nops + j], x, 0, field_num(&r, mc[fi].op[j], moe_ops[j] == VIDUR_OP_MOE_SHARED_MLP), (int64_t)x, 0);
        }
    free(mc);
    for (fi = 0; fi < nfile; fi++) { free(cs[fi].hdr[0]); free(cs[fi].hdr); free(cs[fi].lines); free(cs[fi].lineno); free(cs[fi].buf); }
    free(cs);
    dset_free(&seen);
}

static void load_compute(combo *c)
{
    const vidur_model_spec *m = vidur_find_model(g_cfgp, c->model);
    int fi, k, tps[64], ntp = 0, ops_sorted[9], i;
    dset seen;
    csv *cs;
    mlp_cols *mc;
    char **fields = NULL;
    int fcap = 0;
    if (!m) {
        if (!O.quiet)
            fprintf(stderr, "vidur-tables: warning: %s: unknown model '%s' (not in vidur.h's model table): skipped\n",
                    g_files[c->nfiles[K_MLP] ? c->files[K_MLP][0] : c->nfiles[K_ATTN] ? c->files[K_ATTN][0] : c->files[K_MOE][0]].path, c->model);
        return;
    }
    memcpy(ops_sorted, mlp_ops, sizeof ops_sorted);
    qsort(ops_sorted, 9, sizeof(int), cmp_int);
    /* mlp.csv */
    if (c->nfiles[K_MLP]) {
        int nfile = c->nfiles[K_MLP];
        memset(&seen, 0, sizeof seen);
        cs = (csv *)xcalloc((size_t)nfile, sizeof *cs);
        for (fi = 0; fi < nfile; fi++) csv_read(&cs[fi], &g_files[c->files[K_MLP][fi]], &seen);
        mc = (mlp_cols *)xcalloc((size_t)nfile, sizeof *mc);
        /* first pass: columns of each file, every field checked, TP values of matching rows */
        for (fi = 0; fi < nfile; fi++) {
            const csv *C = &cs[fi];
            mlp_cols *M = &mc[fi];
            mlp_cols_find(C, M);
            for (k = 0; k < C->nrows; k++) {
                rowctx r;
                double tp;
                int match;
                row_split(&r, C, k, &fields, &fcap);
                match = mlp_row_matches(&r, M, m);
                tp = field_num(&r, M->ctp, 0);
                field_num(&r, M->cn, 0);
                for (i = 0; i < 9; i++) field_num(&r, M->op[mlp_ops[i]], op_optional(mlp_ops[i]));
                if (tp < 1 || tp > 1024 || tp != (int)tp) die("%s:%d: field 'num_tensor_parallel_workers': not a TP degree: '%s'", C->path, r.line, r.f[M->ctp]);
                if (match) ntp = add_tp(tps, ntp, (int)tp);
            }
        }
        {
            /* tables in (tp, op enum) order; pointers into g_tabs move on realloc, so index */
            int base = g_ntabs, j;
            for (i = 0; i < ntp; i++)
                for (j = 0; j < 9; j++) new_table(c->device, c->model, "", tps[i], ops_sorted[j], 1);
            for (fi = 0; fi < nfile; fi++) {
                const csv *C = &cs[fi];
                const mlp_cols *M = &mc[fi];
                for (k = 0; k < C->nrows; k++) {
                    rowctx r;
                    int tp, ti;
                    double x;
                    row_split(&r, C, k, &fields, &fcap);
                    if (!mlp_row_matches(&r, M, m)) continue;
                    tp = (int)field_num(&r, M->ctp, 0);
                    x = field_num(&r, M->cn, 0);
                    for (ti = 0; ti < ntp && tps[ti] != tp; ti++) {}
                    for (j = 0; j < 9; j++)
                        add_row(&g_tabs[base + ti * 9 + j], x, 0, field_num(&r, M->op[ops_sorted[j]], op_optional(ops_sorted[j])), (int64_t)x, 0);
                }
            }
        }
        free(mc);
        for (fi = 0; fi < nfile; fi++) { free(cs[fi].hdr[0]); free(cs[fi].hdr); free(cs[fi].lines); free(cs[fi].lineno); }
        /* keep cs[fi].buf: nothing points into it after parsing, so free it too */
        for (fi = 0; fi < nfile; fi++) free(cs[fi].buf);
        free(cs);
        dset_free(&seen);
    }
    /* attention.csv */
    if (c->nfiles[K_ATTN]) {
        int nfile = c->nfiles[K_ATTN], j;
        static const int aops[3] = {VIDUR_OP_ATTN_KV_CACHE_SAVE, VIDUR_OP_ATTN_DECODE, VIDUR_OP_ATTN_PREFILL};
        int base;
        memset(&seen, 0, sizeof seen);
        cs = (csv *)xcalloc((size_t)nfile, sizeof *cs);
        ntp = 0;
        for (fi = 0; fi < nfile; fi++) csv_read(&cs[fi], &g_files[c->files[K_ATTN][fi]], &seen);
        for (fi = 0; fi < nfile; fi++) {
            const csv *C = &cs[fi];
            int ctp = csv_col(C, "num_tensor_parallel_workers", 1);
            attn_cols A;
            attn_cols_find(C, &A);
            for (k = 0; k < C->nrows; k++) {
                rowctx r;
                double tp;
                row_split(&r, C, k, &fields, &fcap);
                tp = field_num(&r, ctp, 0);
                if (tp < 1 || tp > 1024 || tp != (int)tp) die("%s:%d: field 'num_tensor_parallel_workers': not a TP degree: '%s'", C->path, r.line, r.f[ctp]);
                if (attn_row_matches(&r, &A, m)) ntp = add_tp(tps, ntp, (int)tp);
            }
        }
        base = g_ntabs;
        for (i = 0; i < ntp; i++)
            for (j = 0; j < 3; j++) new_table(c->device, c->model, "", tps[i], aops[j], aops[j] == VIDUR_OP_ATTN_KV_CACHE_SAVE ? 1 : 2);
        for (fi = 0; fi < nfile; fi++) {
            const csv *C = &cs[fi];
            int ctp = csv_col(C, "num_tensor_parallel_workers", 1),
                cbs = csv_col(C, "batch_size", 1), cpc = csv_col(C, "prefill_chunk_size", 1),
                ckvs = csv_col(C, "kv_cache_size", 1), cdec = csv_col(C, "time_stats.attn_decode.median", 1),
                cpre = csv_col(C, "time_stats.attn_prefill.median", 1),
                csave = csv_col(C, "time_stats.attn_kv_cache_save.median", 0);
            attn_cols A;
            attn_cols_find(C, &A);
            for (k = 0; k < C->nrows; k++) {
                rowctx r;
                int tp, ti;
                double bs, pc, kv, save;
                row_split(&r, C, k, &fields, &fcap);
                bs = field_num(&r, cbs, 0);
                pc = field_num(&r, cpc, 0);
                kv = field_num(&r, ckvs, 0);
                save = field_num(&r, csave, 1);
                if (!attn_row_matches(&r, &A, m)) continue;
                tp = (int)field_num(&r, ctp, 0);
                for (ti = 0; ti < ntp && tps[ti] != tp; ti++) {}
                {
                    double tok = pc > bs ? pc : bs;
                    add_row(&g_tabs[base + ti * 3 + 0], tok, 0, save, (int64_t)tok, 0);
                }
                if (pc == 0) add_row(&g_tabs[base + ti * 3 + 1], bs, kv, field_num(&r, cdec, 0), (int64_t)bs, (int64_t)kv);
                else add_row(&g_tabs[base + ti * 3 + 2], kv, pc * pc, field_num(&r, cpre, 0), (int64_t)kv, (int64_t)pc);
            }
        }
        for (fi = 0; fi < nfile; fi++) { free(cs[fi].hdr[0]); free(cs[fi].hdr); free(cs[fi].lines); free(cs[fi].lineno); free(cs[fi].buf); }
        free(cs);
        dset_free(&seen);
    }
    if (c->nfiles[K_MOE]) load_moe(c, m, &fields, &fcap);
    free(fields);
}

static void load_network(combo *c)
{
    int kind, fi, k, i;
    char **fields = NULL;
    int fcap = 0;
    for (kind = K_ALLRED; kind <= K_SENDRECV; kind++) {
        const char *coll = kind == K_ALLRED ? "all_reduce" : "send_recv";
        int op = kind == K_ALLRED ? VIDUR_OP_ALL_REDUCE : VIDUR_OP_SEND_RECV;
        int nfile = c->nfiles[kind], tps[64], ntp = 0, base;
        dset seen;
        csv *cs;
        char name[128];
        if (!nfile) continue;
        memset(&seen, 0, sizeof seen);
        cs = (csv *)xcalloc((size_t)nfile, sizeof *cs);
        for (fi = 0; fi < nfile; fi++) csv_read(&cs[fi], &g_files[c->files[kind][fi]], &seen);
        snprintf(name, sizeof name, "time_stats.%s.median", coll);
        for (fi = 0; fi < nfile; fi++) {
            const csv *C = &cs[fi];
            int cc = csv_col(C, "collective", 1), cw = csv_col(C, "num_workers", 1), cd = csv_col(C, "devices_per_node", 1),
                cs_ = csv_col(C, "size", 1), ct = csv_col(C, name, 1);
            for (k = 0; k < C->nrows; k++) {
                rowctx r;
                double w, dpn;
                row_split(&r, C, k, &fields, &fcap);
                w = field_num(&r, cw, 0);
                dpn = field_num(&r, cd, 0);
                field_num(&r, cs_, 0);
                field_num(&r, ct, 0);
                if (strcmp(field_str(&r, cc), coll)) continue;
                if (kind == K_ALLRED && w == dpn && w >= 1 && w <= 1024 && w == (int)w) ntp = add_tp(tps, ntp, (int)w);
                if (kind == K_SENDRECV && (dpn == 1 || dpn == 2)) ntp = add_tp(tps, ntp, (int)dpn);
            }
        }
        base = g_ntabs;
        for (i = 0; i < ntp; i++) new_table("", "", c->node, tps[i], op, 1);
        for (fi = 0; fi < nfile; fi++) {
            const csv *C = &cs[fi];
            int cc = csv_col(C, "collective", 1), cw = csv_col(C, "num_workers", 1), cd = csv_col(C, "devices_per_node", 1),
                cs_ = csv_col(C, "size", 1), ct = csv_col(C, name, 1);
            for (k = 0; k < C->nrows; k++) {
                rowctx r;
                double w, dpn, size;
                int key, ti;
                row_split(&r, C, k, &fields, &fcap);
                if (strcmp(field_str(&r, cc), coll)) continue;
                w = field_num(&r, cw, 0);
                dpn = field_num(&r, cd, 0);
                size = field_num(&r, cs_, 0);
                if (kind == K_ALLRED) {
                    if (!(w == dpn && w >= 1 && w <= 1024 && w == (int)w)) continue;
                    key = (int)w;
                } else {
                    if (!(dpn == 1 || dpn == 2)) continue;
                    key = (int)dpn;
                }
                for (ti = 0; ti < ntp && tps[ti] != key; ti++) {}
                add_row(&g_tabs[base + ti], size, 0, field_num(&r, ct, 0), (int64_t)(size / 2), 0);
            }
        }
        for (fi = 0; fi < nfile; fi++) { free(cs[fi].hdr[0]); free(cs[fi].hdr); free(cs[fi].lines); free(cs[fi].lineno); free(cs[fi].buf); }
        free(cs);
        dset_free(&seen);
    }
    free(fields);
}

static int cmp_trow(const void *a, const void *b)
{
    const trow *x = (const trow *)a, *y = (const trow *)b;
    if (x->x != y->x) return x->x < y->x ? -1 : 1;
    if (x->y != y->y) return x->y < y->y ? -1 : 1;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->seq - y->seq;
}

/* sorts rows, marks the held-out rows, sets the domain and the ideal roofline times */
static void finish_table(table *t)
{
    int i;
    qsort(t->rows, (size_t)t->n, sizeof *t->rows, cmp_trow);
    t->held = (unsigned char *)xcalloc((size_t)t->n, 1);
    t->nheld = 0;
    if (t->n >= VT_MIN_ROWS_HOLDOUT)
        for (i = 0; i < t->n; i++)
            if (i % VT_HOLDOUT_EVERY == VT_HOLDOUT_AT) { t->held[i] = 1; t->nheld++; }
    t->allzero = 1;
    for (i = 0; i < t->n; i++) {
        const trow *r = &t->rows[i];
        if (r->t != 0) t->allzero = 0;
        if (i == 0 || r->x < t->xmin) t->xmin = r->x;
        if (i == 0 || r->x > t->xmax) t->xmax = r->x;
        if (i == 0 || r->y < t->ymin) t->ymin = r->y;
        if (i == 0 || r->y > t->ymax) t->ymax = r->y;
    }
    /* the ideal roofline: t0 per row, exactly vidur.h's base of relative tables (vidur_relative.h) */
    t->has_roof = vr_ideal_roofline(g_cfgp, t->net, t->device, t->model, t->node, t->tp, t->op, &t->roof);
    t->t0 = (double *)xcalloc((size_t)t->n, sizeof *t->t0);
    t->t0_exact = t->has_roof;
    if (t->has_roof)
        for (i = 0; i < t->n; i++) {
            t->t0[i] = vidur_roofline_op_time_ms(&t->roof, t->op, t->rows[i].k1, t->rows[i].k2);
            if (!vr_row_ok(t->op, t->rows[i].x, t->rows[i].k1)) t->t0_exact = 0;
        }
}

/* ---- training ------------------------------------------------------------------------------- */
static uint64_t table_seed(const table *t)
{
    char id[1024];
    uint64_t h;
    snprintf(id, sizeof id, "%s|%s|%s|%d|%s", t->device, t->model, t->node, t->tp, vidur_op_name(t->op));
    h = vf_fnv1a(VF_FNV_OFFSET, id, strlen(id));
    return vf_mix64(h ^ vf_mix64(O.seed));
}

static double mape(const double *truth, const double *pred, int n)
{
    double s = 0;
    int i;
    for (i = 0; i < n; i++) s += vf_ape(truth[i], pred[i]);
    return n ? s / n : 0;
}

/* held-out median / p90 APE of predictions */
static void heldout_stats(const table *t, const double *pred, double *med, double *p90)
{
    double *a = (double *)xmalloc(sizeof(double) * (size_t)(t->nheld ? t->nheld : 1));
    int i, k = 0;
    for (i = 0; i < t->n; i++)
        if (t->held[i]) { a[k] = vf_ape(t->rows[i].t, pred[k]); k++; }
    *med = vf_quantile(a, k, 0.5);
    *p90 = vf_quantile(a, k, 0.9);
    free(a);
}

static void train_table(table *t)
{
    int n = t->n, d = t->d, i, f, li, di, mi, ntrain = 0, nfolds;
    double *X = (double *)xmalloc(sizeof(double) * (size_t)n * (size_t)d);
    double *Y = (double *)xmalloc(sizeof(double) * (size_t)n), *Yt[VT_NTG], *B[VT_NOFF], tmin = 0;
    int *train = (int *)xmalloc(sizeof(int) * (size_t)n), *fit = (int *)xmalloc(sizeof(int) * (size_t)n);
    int *val = (int *)xmalloc(sizeof(int) * (size_t)n), *all = (int *)xmalloc(sizeof(int) * (size_t)n);
    int *w = (int *)xmalloc(sizeof(int) * (size_t)n);
    double *vt = (double *)xmalloc(sizeof(double) * (size_t)n), *vs = (double *)xmalloc(sizeof(double) * (size_t)n * VT_ND);
    double *vp = (double *)xmalloc(sizeof(double) * (size_t)n), *vt0 = (double *)xmalloc(sizeof(double) * (size_t)n);
    /* CV scores: [target][min_samples_leaf][depth][mss][ntrees], mean over folds */
    double score[VT_NTG][VT_NL][VT_ND][VT_NM][VT_NNT];
    int tok[VT_NTG], lf, oi;
    uint64_t seed = table_seed(t);
    vf_data D;
    vf_ws ws;
    vf_tree tree;
    memset(&tree, 0, sizeof tree);
    memset(score, 0, sizeof score);
    for (i = 0; i < n; i++) {
        X[(size_t)i * d] = t->rows[i].x;
        if (d > 1) X[(size_t)i * d + 1] = t->rows[i].y;
        Y[i] = t->rows[i].t;
        all[i] = i;
        if (!t->held[i]) train[ntrain++] = i;
    }
    /* the targets: time always; log when every time is positive; relative when t0 is exact and
       positive at every row (vidur_relative.h), on the bases t0 + o, o = factor x the smallest
       positive time of the training rows (a fixed cost > 0 only when there is one) */
    for (i = 0; i < n; i++)
        if (!t->held[i] && Y[i] > 0 && (tmin == 0 || Y[i] < tmin)) tmin = Y[i];
    for (oi = 0; oi < VT_NOFF; oi++) {
        B[oi] = (double *)xmalloc(sizeof(double) * (size_t)n);
        vr_base(t->t0, n, vt_rel_off[oi] * tmin, B[oi]);
    }
    for (li = 0; li < VT_NTG; li++) {
        int kind = VT_TG_KIND(li), off = VT_TG_OFF(li);
        const double *base = off < 0 ? t->t0 : B[off];
        tok[li] = li == VR_TARGET_TIME || (vr_target_ok(kind, Y, base, n) && (!(kind & 2) || t->t0_exact) &&
                                           (off <= 0 || vt_rel_off[off] * tmin > 0));
        Yt[li] = NULL;
        if (tok[li]) {
            Yt[li] = (double *)xmalloc(sizeof(double) * (size_t)n);
            vr_make_target(kind, Y, base, n, Yt[li]);
        }
    }
    D.n = n;
    D.d = d;
    D.X = X;
    D.y = Y;
    if (vf_ws_init(&ws, &D)) die("out of memory");
    nfolds = ntrain >= 10 ? VT_FOLDS : ntrain >= 4 ? 2 : 0;

    /* ---- random forest: CV over (target, min_samples_leaf, depth, min_samples_split,
       n_estimators) ---- */
    if (nfolds) {
        for (li = 0; li < VT_NTG; li++)
            for (f = 0; f < nfolds && tok[li]; f++) {
                int nfit = 0, nval = 0, kind = VT_TG_KIND(li);
                const double *base = VT_TG_OFF(li) < 0 ? t->t0 : B[VT_TG_OFF(li)];
                /* bootstrap streams: (fold, log) as before the relative targets, and their own for
                   those (the same for every fixed cost) */
                uint64_t stream = li < 2 ? (uint64_t)(1000 + 2 * f + li) : (uint64_t)(2000 + 2 * f + (kind - 2));
                for (i = 0; i < ntrain; i++)
                    if (i % nfolds == f) val[nval++] = train[i];
                    else fit[nfit++] = train[i];
                for (i = 0; i < nval; i++) { vt[i] = Y[val[i]]; vt0[i] = base[val[i]]; }
                for (lf = 0; lf < VT_NL; lf++)
                    for (mi = 0; mi < VT_NM; mi++) {
                        /* one forest at the largest max_depth scores every max_depth (trees cut at
                           a depth are the trees fitted with that limit: vf_tree_predict_depths) and
                           every n_estimators (prefixes) */
                        vf_tree_params p;
                        vf_rng rng;
                        int tr, c = 0;
                        double pd[VT_ND];
                        p.max_depth = vt_depths[VT_ND - 1];
                        p.min_samples_split = vt_mss[mi];
                        p.min_samples_leaf = vt_msl[lf];
                        vf_rng_seed(&rng, vf_mix64(seed ^ stream));
                        for (i = 0; i < nval * VT_ND; i++) vs[i] = 0;
                        for (tr = 0; tr < VT_MAXTREES; tr++) {
                            vf_bootstrap(&rng, fit, nfit, w, n);
                            if (vf_tree_fit(&ws, w, Yt[li], p, &tree)) die("out of memory");
                            for (i = 0; i < nval; i++) {
                                vf_tree_predict_depths(&tree, &X[(size_t)val[i] * d], vt_depths, VT_ND, pd);
                                for (di = 0; di < VT_ND; di++) vs[(size_t)di * nval + i] += pd[di];
                            }
                            if (c < VT_NNT && tr + 1 == vt_ntrees[c]) {
                                for (di = 0; di < VT_ND; di++) {
                                    for (i = 0; i < nval; i++) vp[i] = vr_finish(vs[(size_t)di * nval + i], tr + 1, kind, vt0[i]);
                                    score[li][lf][di][mi][c] += mape(vt, vp, nval) / nfolds;
                                }
                                c++;
                            }
                        }
                    }
            }
    }
    {
        double best = 0;
        int first = 1, c;
        t->rf.ntrees = vt_ntrees[VT_NNT - 1];
        t->rf.depth = vt_depths[VT_ND - 1];
        t->rf.mss = vt_mss[0];
        t->rf.msl = vt_msl[0];
        t->rf.target = VR_TARGET_TIME;
        t->rf.off = -1;
        t->rf.cv_mape = 0;
        if (nfolds)
            for (li = 0; li < VT_NTG; li++)
                for (lf = 0; lf < VT_NL && tok[li]; lf++)
                    for (di = 0; di < VT_ND; di++)
                        for (mi = 0; mi < VT_NM; mi++)
                            for (c = 0; c < VT_NNT; c++)
                                if (first || score[li][lf][di][mi][c] < best) {
                                    first = 0;
                                    best = score[li][lf][di][mi][c];
                                    t->rf.target = VT_TG_KIND(li);
                                    t->rf.off = VT_TG_OFF(li);
                                    t->rf.msl = vt_msl[lf];
                                    t->rf.depth = vt_depths[di];
                                    t->rf.mss = vt_mss[mi];
                                    t->rf.ntrees = vt_ntrees[c];
                                    t->rf.cv_mape = best;
                                }
    }
    {
        vf_tree_params p;
        vf_forest fo;
        int tg = t->rf.target, li_sel = tg < 2 ? tg : 2 + 2 * t->rf.off + (tg - 2);
        const double *base = t->rf.off < 0 ? t->t0 : B[t->rf.off];
        p.max_depth = t->rf.depth;
        p.min_samples_split = t->rf.mss;
        p.min_samples_leaf = t->rf.msl;
        /* held-out error of the forest fitted on the training rows */
        if (t->nheld) {
            int nh = 0;
            if (vf_forest_fit(&ws, Yt[li_sel], train, ntrain, t->rf.ntrees, p, vf_mix64(seed ^ 1), tg & 1, &fo))
                die("out of memory");
            for (i = 0; i < n; i++)
                if (t->held[i]) {
                    vp[nh] = vf_forest_predict(&fo, &X[(size_t)i * d]);
                    if (tg & 2) vp[nh] *= base[i];
                    nh++;
                }
            heldout_stats(t, vp, &t->rf.ho_med, &t->rf.ho_p90);
            vf_forest_free(&fo);
        }
        /* the emitted forest: all rows (a relative forest predicts t / (t0 + o)); its fixed cost
           from the smallest positive time of all rows */
        t->rf.offset_ms = 0;
        if (t->rf.off >= 0) {
            double amin = 0;
            for (i = 0; i < n; i++)
                if (Y[i] > 0 && (amin == 0 || Y[i] < amin)) amin = Y[i];
            t->rf.offset_ms = vt_rel_off[t->rf.off] * amin;
            vr_base(t->t0, n, t->rf.offset_ms, B[t->rf.off]);
            vr_make_target(tg, Y, B[t->rf.off], n, Yt[li_sel]);
        }
        if (vf_forest_fit(&ws, Yt[li_sel], all, n, t->rf.ntrees, p, vf_mix64(seed ^ 2), tg & 1, &fo))
            die("out of memory");
        if (vf_forest_grid(&fo, &t->rf.grid)) die("out of memory");
        t->rf.max_tree_depth = 0;
        for (i = 0; i < fo.ntrees; i++) {
            int dd = vf_tree_depth(&fo.trees[i], 0);
            if (dd > t->rf.max_tree_depth) t->rf.max_tree_depth = dd;
        }
        /* the grid is the forest: check it on every row and between rows */
        for (i = 0; i < n; i++) {
            double a = vf_forest_predict(&fo, &X[(size_t)i * d]);
            double g = vf_grid_lookup(&t->rf.grid, X[(size_t)i * d], d > 1 ? X[(size_t)i * d + 1] : 0);
            if (a != g) die("internal error: grid and forest differ (%s %s %s tp %d %s row %d: %.17g vs %.17g)", t->device, t->model, t->node, t->tp, vidur_op_name(t->op), i, a, g);
        }
        vf_forest_free(&fo);
    }

    /* ---- reference: linear interpolation between the neighbouring training rows (1-D) ---- */
    if (d == 1 && t->nheld && ntrain >= 2) {
        double *ux = (double *)xmalloc(sizeof(double) * (size_t)ntrain), *uy = (double *)xmalloc(sizeof(double) * (size_t)ntrain);
        int nu = 0, nh = 0, cnt = 0;
        for (i = 0; i < ntrain; i++) { /* training rows are in x order; equal x: mean */
            double x = X[train[i]];
            if (nu && ux[nu - 1] == x) { uy[nu - 1] += Y[train[i]]; cnt++; }
            else {
                if (nu) uy[nu - 1] /= cnt;
                ux[nu] = x; uy[nu] = Y[train[i]]; nu++; cnt = 1;
            }
        }
        uy[nu - 1] /= cnt;
        for (i = 0; i < n; i++)
            if (t->held[i]) {
                double x = X[i];
                int j = vf_count_below(ux, nu, x);
                if (j < nu && ux[j] == x) vp[nh] = uy[j];
                else if (j == 0) vp[nh] = uy[0];
                else if (j == nu) vp[nh] = uy[nu - 1];
                else vp[nh] = uy[j - 1] + (uy[j] - uy[j - 1]) * (x - ux[j - 1]) / (ux[j] - ux[j - 1]);
                nh++;
            }
        heldout_stats(t, vp, &t->ip_med, &t->ip_p90);
        t->ip_ok = 1;
        free(ux);
        free(uy);
    }

    /* ---- polynomial regression ---- */
    {
        int degs, inter, icpt, first = 1, px[VF_MAX_TERMS], py[VF_MAX_TERMS], nt;
        double best = 0;
        vf_poly poly;
        t->lr.degree = 1;
        t->lr.inter = 0;
        t->lr.intercept = 1;
        for (degs = 1; degs <= 5 && nfolds; degs++)
            for (inter = 0; inter <= 1; inter++)
                for (icpt = 1; icpt >= 0; icpt--) {
                    double sc = 0;
                    if (inter && (d == 1 || degs != 2)) continue; /* the same model as another entry */
                    nt = vf_poly_terms(d, degs, inter, icpt, px, py);
                    for (f = 0; f < nfolds; f++) {
                        int nfit = 0, nval = 0;
                        for (i = 0; i < ntrain; i++)
                            if (i % nfolds == f) val[nval++] = train[i];
                            else fit[nfit++] = train[i];
                        if (vf_poly_fit(&D, fit, nfit, px, py, nt, &poly)) die("out of memory");
                        for (i = 0; i < nval; i++) {
                            vt[i] = Y[val[i]];
                            vp[i] = vf_poly_predict(&poly, X[(size_t)val[i] * d], d > 1 ? X[(size_t)val[i] * d + 1] : 0);
                        }
                        sc += mape(vt, vp, nval) / nfolds;
                    }
                    if (first || sc < best) {
                        first = 0;
                        best = sc;
                        t->lr.degree = degs;
                        t->lr.inter = inter;
                        t->lr.intercept = icpt;
                        t->lr.cv_mape = sc;
                    }
                }
        nt = vf_poly_terms(d, t->lr.degree, t->lr.inter, t->lr.intercept, px, py);
        if (t->nheld) {
            int nh = 0;
            if (vf_poly_fit(&D, train, ntrain, px, py, nt, &poly)) die("out of memory");
            for (i = 0; i < n; i++)
                if (t->held[i]) vp[nh++] = vf_poly_predict(&poly, X[(size_t)i * d], d > 1 ? X[(size_t)i * d + 1] : 0);
            heldout_stats(t, vp, &t->lr.ho_med, &t->lr.ho_p90);
        }
        if (vf_poly_fit(&D, all, n, px, py, nt, &t->lr.poly)) die("out of memory");
    }
    vf_tree_free(&tree);
    vf_ws_free(&ws);
    for (li = 0; li < VT_NTG; li++) free(Yt[li]);
    for (oi = 0; oi < VT_NOFF; oi++) free(B[oi]);
    free(X); free(Y); free(train); free(fit); free(val); free(all); free(w); free(vt); free(vs); free(vp); free(vt0);
}

/* ---- roofline calibration ------------------------------------------------------------------- */
typedef struct calib {
    const char *device;
    int op;
    int *tabs, ntabs;
    double scale, overhead;       /* fitted on all rows (emitted) */
    double scale_tr, overhead_tr; /* fitted on the training rows (held-out evaluation) */
    double fit_med;               /* median APE of the emitted calibration on all its rows */
    int nrows;
} calib;
static calib *g_cal;
static int g_ncal;

/* k-th smallest of a[0..n) (a is reordered) */
static double kth(double *a, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        double piv;
        int i = lo, j = hi, mid = lo + (hi - lo) / 2;
        /* median of three */
        double x = a[lo], y = a[mid], z = a[hi];
        piv = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        while (i <= j) {
            while (a[i] < piv) i++;
            while (a[j] > piv) j--;
            if (i <= j) { double tmp = a[i]; a[i] = a[j]; a[j] = tmp; i++; j--; }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return a[k];
    }
    return a[k];
}

static double cal_eval(const double *a, const double *tt, int n, double s, double o, double *buf)
{
    int i;
    for (i = 0; i < n; i++) buf[i] = fabs(s * a[i] + o - tt[i]) / tt[i];
    return kth(buf, n, (n - 1) / 2);
}

/* minimises the median APE of s * a + o over (s > 0, o >= 0): a coarse log grid, then zooms */
static void cal_fit(const double *a, const double *tt, int n, double *so, double *oo)
{
    double *buf = (double *)xmalloc(sizeof(double) * (size_t)(n ? n : 1)), *r = (double *)xmalloc(sizeof(double) * (size_t)(n ? n : 1));
    double *sa, *st, best, bs = 1, bo = 0, rlo, rhi, tmed;
    int i, m = 0, ns, stride, j, round;
    if (n == 0) { *so = 1; *oo = 0; free(buf); free(r); return; }
    for (i = 0; i < n; i++)
        if (a[i] > 0) r[m++] = tt[i] / a[i];
    rlo = m ? kth(r, m, 0) : 1;
    rhi = m ? kth(r, m, m - 1) : 1;
    for (i = 0; i < n; i++) r[i] = tt[i];
    tmed = kth(r, n, (n - 1) / 2);
    if (rlo <= 0) rlo = 1e-6;
    if (rhi < rlo) rhi = rlo;
    rlo /= 4;
    rhi *= 2;
    /* coarse search on an evenly strided subsample of at most 4000 rows */
    stride = n > 4000 ? (n + 3999) / 4000 : 1;
    ns = (n + stride - 1) / stride;
    sa = (double *)xmalloc(sizeof(double) * (size_t)ns);
    st = (double *)xmalloc(sizeof(double) * (size_t)ns);
    for (i = 0, j = 0; i < n; i += stride, j++) { sa[j] = a[i]; st[j] = tt[i]; }
    best = 1e300;
    for (i = 0; i < 64; i++) {
        double s = rlo * pow(rhi / rlo, i / 63.0);
        for (j = 0; j < 48; j++) {
            double o = j == 0 ? 0 : tmed * pow(10.0, -4.0 + 4.2 * (j - 1) / 46.0), e = cal_eval(sa, st, ns, s, o, buf);
            if (e < best) { best = e; bs = s; bo = o; }
        }
    }
    best = cal_eval(a, tt, n, bs, bo, buf);
    {
        double ws = log(rhi / rlo) / 63.0 * 2, wo = bo > 0 ? bo * 0.5 : tmed * 1e-4;
        for (round = 0; round < 8; round++) {
            double cs = bs, co = bo;
            for (i = -5; i <= 5; i++) {
                double s = cs * exp(ws * i / 5.0);
                for (j = -5; j <= 5; j++) {
                    double o = co + wo * j / 5.0, e;
                    if (o < 0) continue;
                    e = cal_eval(a, tt, n, s, o, buf);
                    if (e < best) { best = e; bs = s; bo = o; }
                }
            }
            ws /= 2.5;
            wo /= 2.5;
        }
    }
    *so = bs;
    *oo = bo;
    free(sa); free(st); free(buf); free(r);
}

static void train_calib(calib *c)
{
    int pass, k, i;
    for (pass = 0; pass < 2; pass++) {
        int n = 0, cap = 0;
        double *a = NULL, *tt = NULL;
        for (k = 0; k < c->ntabs; k++) {
            const table *t = &g_tabs[c->tabs[k]];
            cap += t->n;
        }
        a = (double *)xmalloc(sizeof(double) * (size_t)(cap ? cap : 1));
        tt = (double *)xmalloc(sizeof(double) * (size_t)(cap ? cap : 1));
        for (k = 0; k < c->ntabs; k++) {
            const table *t = &g_tabs[c->tabs[k]];
            for (i = 0; i < t->n; i++)
                if (t->rows[i].t > 0 && (pass == 1 || !t->held[i])) { a[n] = t->t0[i]; tt[n] = t->rows[i].t; n++; }
        }
        if (pass == 0) cal_fit(a, tt, n, &c->scale_tr, &c->overhead_tr);
        else {
            double *buf = (double *)xmalloc(sizeof(double) * (size_t)(n ? n : 1));
            cal_fit(a, tt, n, &c->scale, &c->overhead);
            for (i = 0; i < n; i++) buf[i] = vf_ape(tt[i], c->scale * a[i] + c->overhead);
            c->fit_med = vf_quantile(buf, n, 0.5);
            c->nrows = n;
            free(buf);
        }
        free(a);
        free(tt);
    }
    /* held-out error of the training-row calibration, per table */
    for (k = 0; k < c->ntabs; k++) {
        table *t = &g_tabs[c->tabs[k]];
        double *p = (double *)xmalloc(sizeof(double) * (size_t)(t->nheld ? t->nheld : 1));
        int nh = 0;
        for (i = 0; i < t->n; i++)
            if (t->held[i]) p[nh++] = c->scale_tr * t->t0[i] + c->overhead_tr;
        if (t->nheld) {
            heldout_stats(t, p, &t->roof_med, &t->roof_p90);
            t->roof_ok = 1;
        }
        free(p);
    }
}

/* ---- parallel runner ------------------------------------------------------------------------ */
typedef struct pool {
    pthread_mutex_t mu;
    int next, n;
    int *order;
    void (*fn)(int);
} pool;

static void *pool_worker(void *arg)
{
    pool *p = (pool *)arg;
    for (;;) {
        int i;
        pthread_mutex_lock(&p->mu);
        i = p->next < p->n ? p->order[p->next++] : -1;
        pthread_mutex_unlock(&p->mu);
        if (i < 0) return NULL;
        p->fn(i);
    }
}

/* runs fn(i) for i in order[0..n) on `jobs` threads; results are written per index, so the
   outcome does not depend on the schedule */
static void run_parallel(int n, int *order, void (*fn)(int), int jobs)
{
    pool p;
    pthread_t th[64];
    int i, nt = jobs < n ? jobs : n;
    if (nt <= 1) {
        for (i = 0; i < n; i++) fn(order[i]);
        return;
    }
    if (nt > 64) nt = 64;
    p.next = 0;
    p.n = n;
    p.order = order;
    p.fn = fn;
    pthread_mutex_init(&p.mu, NULL);
    for (i = 0; i < nt; i++)
        if (pthread_create(&th[i], NULL, pool_worker, &p)) die("cannot start a thread");
    for (i = 0; i < nt; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p.mu);
}

static void task_table(int i) { train_table(&g_tabs[i]); }
static void task_calib(int i) { train_calib(&g_cal[i]); }

static double *g_cost;
static int cmp_cost(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    if (g_cost[x] != g_cost[y]) return g_cost[x] > g_cost[y] ? -1 : 1;
    return x - y;
}

/* ---- outputs -------------------------------------------------------------------------------- */
static const char *op_enum_name(int op)
{
    static const char *const names[VIDUR_OP_COUNT] = {
        "VIDUR_OP_ATTN_PRE_PROJ", "VIDUR_OP_ATTN_POST_PROJ", "VIDUR_OP_ATTN_ROPE", "VIDUR_OP_ATTN_KV_CACHE_SAVE",
        "VIDUR_OP_ATTN_DECODE", "VIDUR_OP_ATTN_PREFILL", "VIDUR_OP_INPUT_LAYERNORM", "VIDUR_OP_POST_ATTENTION_LAYERNORM",
        "VIDUR_OP_MLP_UP_PROJ", "VIDUR_OP_MLP_DOWN_PROJ", "VIDUR_OP_MLP_ACT", "VIDUR_OP_ADD",
        "VIDUR_OP_ALL_REDUCE", "VIDUR_OP_SEND_RECV", "VIDUR_OP_MOE_GATE", "VIDUR_OP_MOE_UP_PROJ", "VIDUR_OP_MOE_ACT",
        "VIDUR_OP_MOE_DOWN_PROJ", "VIDUR_OP_MOE_SHARED_MLP", "VIDUR_OP_MOE_DISPATCH", "VIDUR_OP_MOE_COMBINE"};
    return names[op];
}

static void put_double(sb *b, double v)
{
    char s[64];
    snprintf(s, sizeof s, "%.17g", v);
    sb_puts(b, s);
}
static void put_float(sb *b, float v)
{
    char s[64];
    snprintf(s, sizeof s, "%.9g", (double)v);
    if (!strchr(s, '.') && !strchr(s, 'e')) strcat(s, ".0");
    sb_puts(b, s);
    sb_puts(b, "f");
}

/* the emitted tables, in output order (compute then network, each RF then LR) */
static vidur_op_table *g_out;
static int g_nout;
static vidur_roofline_calibration *g_outcal;
static double **g_terms; /* per output table: its POLY terms (owned) */
static float **g_vals;   /* per output table: its GRID values as float (owned) */
static char g_provenance[4096];

static void build_outputs(void)
{
    int i, k = 0;
    g_out = (vidur_op_table *)xcalloc((size_t)g_ntabs * 2, sizeof *g_out);
    g_terms = (double **)xcalloc((size_t)g_ntabs * 2, sizeof *g_terms);
    g_vals = (float **)xcalloc((size_t)g_ntabs * 2, sizeof *g_vals);
    for (i = 0; i < g_ntabs; i++) {
        const table *t = &g_tabs[i];
        vidur_op_table *o = &g_out[k];
        size_t cells = (size_t)(t->rf.grid.nx + 1) * (size_t)(t->rf.grid.ny + 1);
        int j;
        o->device = t->device;
        o->model = t->model;
        o->node = t->node;
        o->tp = t->tp;
        o->op = t->op;
        g_vals[k] = (float *)xmalloc(sizeof(float) * cells);
        vr_grid_table(&t->rf.grid, (t->rf.target & 2) != 0, t->rf.offset_ms, g_vals[k], o);
        o->xmin = t->xmin;
        o->xmax = t->xmax;
        o->ymin = t->d > 1 ? t->ymin : 0;
        o->ymax = t->d > 1 ? t->ymax : 0;
        k++;
        o = &g_out[k];
        *o = g_out[k - 1];
        o->predictor = VIDUR_PREDICTOR_LINEAR_REGRESSION;
        o->kind = VIDUR_TABLE_POLY;
        o->nx = o->ny = 0;
        o->x = o->y = NULL;
        o->v = NULL;
        o->relative = 0;
        o->rel_offset_ms = 0;
        o->nterms = t->lr.poly.nterms;
        g_terms[k] = (double *)xmalloc(sizeof(double) * 3 * (size_t)(o->nterms ? o->nterms : 1));
        for (j = 0; j < o->nterms; j++) {
            g_terms[k][3 * j] = t->lr.poly.px[j];
            g_terms[k][3 * j + 1] = t->lr.poly.py[j];
            g_terms[k][3 * j + 2] = t->lr.poly.coef[j] + 0.0; /* no -0 */
        }
        o->terms = o->nterms ? g_terms[k] : NULL;
        o->sx = t->lr.poly.sx;
        o->sy = t->d > 1 ? t->lr.poly.sy : 1;
        k++;
    }
    g_nout = k;
    g_outcal = (vidur_roofline_calibration *)xcalloc((size_t)(g_ncal ? g_ncal : 1), sizeof *g_outcal);
    for (i = 0; i < g_ncal; i++) {
        g_outcal[i].device = g_cal[i].device;
        g_outcal[i].op = g_cal[i].op;
        g_outcal[i].scale = g_cal[i].scale;
        g_outcal[i].overhead_ms = g_cal[i].overhead;
    }
}

static void c_string(sb *b, const char *s)
{
    sb_putn(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') sb_putn(b, "\\", 1);
        sb_putn(b, s, 1);
    }
    sb_putn(b, "\"", 1);
}

static void write_header(sb *b)
{
    int i, j, nxs = 0, nys = 0, nvs = 0, nts = 0, col;
    size_t tot_x = 0, tot_y = 0, tot_v = 0, tot_t = 0;
    size_t *ox = (size_t *)xcalloc((size_t)g_nout, sizeof *ox), *oy = (size_t *)xcalloc((size_t)g_nout, sizeof *oy);
    size_t *ov = (size_t *)xcalloc((size_t)g_nout, sizeof *ov), *ot = (size_t *)xcalloc((size_t)g_nout, sizeof *ot);
    (void)nxs; (void)nys; (void)nvs; (void)nts;
    sb_puts(b, "/* data/vidur_tables.h - GENERATED by tools/vidur-tables.c; do not edit.\n"
               "   Regenerate: make tables   (or: build/vidur-tables)\n"
               "   Profiled operator tables for vidur.h (see vidur_op_table in vidur.h): per combination a\n"
               "   random forest compiled losslessly into a grid (VIDUR_TABLE_GRID) and a polynomial linear\n"
               "   regression (VIDUR_TABLE_POLY); roofline calibrations are relative to the roofline with all\n"
               "   efficiencies 1.0 and no kernel launch overhead (t0), and so are the values of the grids\n"
               "   marked relative (prediction = value x (t0 at the key + rel_offset_ms)). Accuracy:\n"
               "   data/tables_accuracy.md.\n   ");
    sb_puts(b, strstr(g_provenance, "*/") ? "(provenance: vidur__tab_provenance below)" : g_provenance);
    sb_puts(b, " */\n\n");
    for (i = 0; i < g_nout; i++) {
        const vidur_op_table *o = &g_out[i];
        ox[i] = tot_x; tot_x += (size_t)o->nx;
        oy[i] = tot_y; tot_y += (size_t)o->ny;
        ov[i] = tot_v; tot_v += o->kind == VIDUR_TABLE_GRID ? (size_t)(o->nx + 1) * (size_t)(o->ny + 1) : 0;
        ot[i] = tot_t; tot_t += 3 * (size_t)o->nterms;
    }
    /* arrays: never empty (one dummy element) */
#define VT_ARRAY(type, name, total, EMIT)                                            \
    do {                                                                           \
        sb_printf(b, "static const %s %s[] = {", type, name);                      \
        col = 0;                                                                   \
        if ((total) == 0) sb_puts(b, "0");                                         \
        for (i = 0; i < g_nout; i++) { EMIT }                                      \
        sb_puts(b, "\n};\n\n");                                                    \
    } while (0)
#define VT_SEP() do { if (col % 8 == 0) sb_puts(b, "\n    "); else sb_puts(b, " "); col++; } while (0)
    VT_ARRAY("double", "vidur__tab_x", tot_x, for (j = 0; j < g_out[i].nx; j++) { VT_SEP(); put_double(b, g_out[i].x[j]); sb_puts(b, ","); });
    VT_ARRAY("double", "vidur__tab_y", tot_y, for (j = 0; j < g_out[i].ny; j++) { VT_SEP(); put_double(b, g_out[i].y[j]); sb_puts(b, ","); });
    VT_ARRAY("float", "vidur__tab_v", tot_v,
             if (g_out[i].kind == VIDUR_TABLE_GRID) for (j = 0; j < (g_out[i].nx + 1) * (g_out[i].ny + 1); j++) { VT_SEP(); put_float(b, g_out[i].v[j]); sb_puts(b, ","); });
    VT_ARRAY("double", "vidur__tab_terms", tot_t, for (j = 0; j < 3 * g_out[i].nterms; j++) { VT_SEP(); put_double(b, g_out[i].terms[j]); sb_puts(b, ","); });
#undef VT_ARRAY
#undef VT_SEP
    sb_puts(b, "/* device, model, node, tp, op, predictor, kind, nx, ny, x, y, v, nterms, terms, sx, sy,\n"
               "   xmin, xmax, ymin, ymax, relative (1: v are multipliers of the ideal roofline time plus\n"
               "   rel_offset_ms), rel_offset_ms */\n");
    sb_puts(b, "static const vidur_op_table vidur__tab_list[] = {\n");
    if (g_nout == 0) sb_puts(b, "    {\"\", \"\", \"\", 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, NULL, 1, 1, 0, 0, 0, 0, 0, 0}\n");
    for (i = 0; i < g_nout; i++) {
        const vidur_op_table *o = &g_out[i];
        sb_puts(b, "    {");
        c_string(b, o->device); sb_puts(b, ", ");
        c_string(b, o->model); sb_puts(b, ", ");
        c_string(b, o->node);
        sb_printf(b, ", %d, %s, %s, %s, %d, %d, ", o->tp, op_enum_name(o->op),
                  o->predictor == VIDUR_PREDICTOR_RANDOM_FOREST ? "VIDUR_PREDICTOR_RANDOM_FOREST" : "VIDUR_PREDICTOR_LINEAR_REGRESSION",
                  o->kind == VIDUR_TABLE_GRID ? "VIDUR_TABLE_GRID" : "VIDUR_TABLE_POLY", o->nx, o->ny);
        if (o->nx) sb_printf(b, "&vidur__tab_x[%lu], ", (unsigned long)ox[i]); else sb_puts(b, "NULL, ");
        if (o->ny) sb_printf(b, "&vidur__tab_y[%lu], ", (unsigned long)oy[i]); else sb_puts(b, "NULL, ");
        if (o->kind == VIDUR_TABLE_GRID) sb_printf(b, "&vidur__tab_v[%lu], ", (unsigned long)ov[i]); else sb_puts(b, "NULL, ");
        sb_printf(b, "%d, ", o->nterms);
        if (o->nterms) sb_printf(b, "&vidur__tab_terms[%lu], ", (unsigned long)ot[i]); else sb_puts(b, "NULL, ");
        put_double(b, o->sx); sb_puts(b, ", ");
        put_double(b, o->sy); sb_puts(b, ", ");
        put_double(b, o->xmin); sb_puts(b, ", ");
        put_double(b, o->xmax); sb_puts(b, ", ");
        put_double(b, o->ymin); sb_puts(b, ", ");
        put_double(b, o->ymax);
        sb_printf(b, ", %d, ", o->relative);
        put_double(b, o->rel_offset_ms);
        sb_puts(b, i + 1 < g_nout ? "},\n" : "}\n");
    }
    sb_puts(b, "};\n\n");
    sb_puts(b, "/* device (GPU SKU for compute ops, node for network ops), op, scale, overhead_ms */\n");
    sb_puts(b, "static const vidur_roofline_calibration vidur__tab_calib[] = {\n");
    if (g_ncal == 0) sb_puts(b, "    {\"\", 0, 1, 0}\n");
    for (i = 0; i < g_ncal; i++) {
        sb_puts(b, "    {");
        c_string(b, g_outcal[i].device);
        sb_printf(b, ", %s, ", op_enum_name(g_outcal[i].op));
        put_double(b, g_outcal[i].scale); sb_puts(b, ", ");
        put_double(b, g_outcal[i].overhead_ms);
        sb_puts(b, i + 1 < g_ncal ? "},\n" : "}\n");
    }
    sb_puts(b, "};\n\n");
    sb_printf(b, "#define VIDUR__TAB_COUNT %d\n", g_nout);
    sb_printf(b, "#define VIDUR__TAB_CALIB_COUNT %d\n\n", g_ncal);
    sb_puts(b, "static const char vidur__tab_provenance[] = ");
    c_string(b, g_provenance);
    sb_puts(b, ";\n");
    free(ox); free(oy); free(ov); free(ot);
}

static void write_dump(sb *b)
{
    int i, j;
    for (i = 0; i < g_nout; i++) {
        const vidur_op_table *o = &g_out[i];
        sb_printf(b, "%s|%s|%s|tp=%d|%s|%s|", o->device, o->model, o->node, o->tp, vidur_op_name(o->op),
                  o->kind == VIDUR_TABLE_GRID ? "grid" : "poly");
        sb_printf(b, "nx=%d ny=%d nterms=%d sx=", o->nx, o->ny, o->nterms);
        put_double(b, o->sx); sb_puts(b, " sy="); put_double(b, o->sy);
        if (o->relative) sb_puts(b, " relative=1");
        if (o->relative && o->rel_offset_ms != 0) { sb_puts(b, " rel_offset_ms="); put_double(b, o->rel_offset_ms); }
        sb_puts(b, " x:");
        for (j = 0; j < o->nx; j++) { sb_puts(b, " "); put_double(b, o->x[j]); }
        sb_puts(b, " y:");
        for (j = 0; j < o->ny; j++) { sb_puts(b, " "); put_double(b, o->y[j]); }
        sb_puts(b, " v:");
        if (o->kind == VIDUR_TABLE_GRID)
            for (j = 0; j < (o->nx + 1) * (o->ny + 1); j++) { sb_puts(b, " "); put_float(b, o->v[j]); }
        sb_puts(b, " terms:");
        for (j = 0; j < 3 * o->nterms; j++) { sb_puts(b, " "); put_double(b, o->terms[j]); }
        sb_puts(b, "\n");
    }
}

/* ---- report --------------------------------------------------------------------------------- */
enum { CL_MLP_ALL = 9, CL_PREFILL, CL_DECODE, CL_SAVE, CL_ALLRED, CL_SENDRECV, CL_MOE, CL_N };

static int table_class(const table *t)
{
    int i;
    for (i = 0; i < 9; i++)
        if (t->op == mlp_ops[i] && !t->net) return i;
    switch (t->op) {
    case VIDUR_OP_ATTN_PREFILL: return CL_PREFILL;
    case VIDUR_OP_ATTN_DECODE: return CL_DECODE;
    case VIDUR_OP_ATTN_KV_CACHE_SAVE: return CL_SAVE;
    case VIDUR_OP_ALL_REDUCE: return CL_ALLRED;
    case VIDUR_OP_SEND_RECV: return CL_SENDRECV;
    default: return CL_MOE;
    }
}

static const char *class_name(int c)
{
    static char buf[64];
    if (c < 9) { snprintf(buf, sizeof buf, "mlp.csv: %s", vidur_op_name(mlp_ops[c])); return buf; }
    switch (c) {
    case CL_MLP_ALL: return "**mlp.csv: all 9 operators**";
    case CL_PREFILL: return "attn_prefill";
    case CL_DECODE: return "attn_decode";
    case CL_SAVE: return "attn_kv_cache_save";
    case CL_ALLRED: return "all_reduce";
    case CL_SENDRECV: return "send_recv";
    default: return "moe.csv: MoE operators";
    }
}

/* median target and p90 target (negative: none) per class */
static void class_target(int c, double *med, double *p90)
{
    *med = -1;
    *p90 = -1;
    if (c <= CL_MLP_ALL) { *med = 2; *p90 = 5; }
    else if (c == CL_PREFILL) *med = 3;
    else if (c == CL_DECODE) *med = 8;
    else if (c == CL_ALLRED || c == CL_SENDRECV) *med = 5;
}

static int in_class(const table *t, int c)
{
    int tc = table_class(t);
    return tc == c || (c == CL_MLP_ALL && tc < 9);
}

static void fmt_pct(char *s, size_t n, double v) { snprintf(s, n, "%.2f", v); }

static void write_report(sb *b, double *tsizes)
{
    int c, i;
    char s1[64], s2[64];
    (void)tsizes;
    sb_puts(b, "# Profiled operator tables: held-out accuracy\n\n");
    sb_puts(b, "Generated by `tools/vidur-tables.c` (do not edit; regenerate with `make tables`). ");
    sb_printf(b, "Provenance: `%s`.\n\n", g_provenance);
    sb_puts(b, "Method. Every table (one operator of one device/model/TP or node/TP) is sorted by its features; "
               "every 5th row (rows 2, 7, 12, ... in feature order, about 20 %) is **held out** when the table has at "
               "least 10 rows. Hyper-parameters are selected by 5-fold cross-validation (interleaved folds in feature "
               "order; score = MAPE with Vidur's rule for a true 0) on the other rows, the models are refitted on those "
               "rows with the selected hyper-parameters, and the numbers below are the **absolute percentage errors on "
               "the held-out rows** (median and 90th percentile). The emitted tables are then refitted on all rows.\n\n");
    sb_printf(b, "- RF: random forest of CART regression trees (squared error, bootstrap samples, all features at every "
                 "split, min_samples_leaf 1), grid n_estimators {");
    for (i = 0; i < VT_NNT; i++) sb_printf(b, "%s%d", i ? ", " : "", vt_ntrees[i]);
    sb_puts(b, "} x max_depth {8, 16, 32} x min_samples_split {2, 5, 10} x target {time, log(time), time / (t0 + o), "
               "log(time / (t0 + o))} x fixed cost o {0, 1} x the smallest time of the rows fitted, where t0 is the ideal "
               "roofline time of the row's key (below; log only when every time is positive, relative only when every t0 "
               "is positive; a log forest averages logs and exponentiates). Emitted as a grid: the forest compiled "
               "losslessly (every cell holds the forest's prediction, as float). A forest of a relative target learns "
               "only the roofline's error, which varies slowly: it is emitted as a **relative** table (`relative = 1`, "
               "`rel_offset_ms = o`), whose cells hold the predicted ratio, and vidur.h predicts cell value x "
               "(t0(key) + o), computing t0 from the replica's model, GPU, node, TP and PP exactly as the trainer does "
               "for the row (between profiled points and beyond them the prediction then follows the roofline's shape: "
               "quadratic in the chunk for prefill, linear in the context for decode, linear in tokens for large "
               "GEMMs). The fixed cost matters where a kernel's time has a floor (small prefill chunks and contexts, "
               "small batches, short messages): there time / t0 varies like 1 / t0, time / (t0 + o) stays near a "
               "constant. The held-out predictions below are ratio x (t0 + o) as well, with o from the training rows.\n");
    sb_puts(b, "- LR: polynomial features (degree 1..5, interaction_only, with or without intercept) + ordinary least "
               "squares (Householder QR on features scaled to [0, 1]). Emitted as polynomial terms.\n");
    sb_puts(b, "- Roofline: vidur.h's analytical model with all efficiencies 1.0, no launch overhead and no calibration "
               "(t0; all_reduce and send_recv: from the message bytes, with send_recv's multi-node decision that of the "
               "rows' devices_per_node), calibrated "
               "per (GPU SKU, op) or (node, op), pooled over models and TPs, as t = scale x t0 + overhead_ms "
               "minimising the median APE on the training rows (the emitted calibration is refitted on all rows).\n");
    sb_puts(b, "- Interpolation (1-D tables only): linear interpolation between the neighbouring training rows, "
               "a reference for the noise of the data itself (adjacent token counts differ by several % in many "
               "profiles: GEMM tile and wave quantisation, measurement jitter). It is not emitted.\n");
    sb_puts(b, "- Tables whose targets are all 0 (the operator was not profiled: e.g. attn_kv_cache_save with the "
               "FlashAttention backend, whose CSVs have no such column) are emitted (they predict 0) but left out of "
               "the summary. Rows with times of a few microseconds are quantised to 1 us in the CSVs, so their "
               "percentage errors are noisy; they are reported as they are.\n\n");

    sb_puts(b, "## Summary by operator class\n\n");
    sb_puts(b, "RF relative: how many of the class's forests selected a relative target (time / (t0 + o) or its log; "
               "in parentheses: with a fixed cost o > 0). "
               "Values are the median / worst over the tables of the class of each table's held-out median (or p90) APE, in %. "
               "Targets: RF median APE <= 2 % and p90 <= 5 % for every mlp.csv operator, median <= 3 % prefill attention, "
               "<= 8 % decode attention, <= 5 % collectives; and RF no worse than LR.\n\n");
    sb_puts(b, "| class | tables | RF relative | RF median APE | RF p90 APE | LR median APE | LR p90 APE | roofline median APE | roofline p90 APE | interpolation median APE | interpolation p90 APE | target (median / p90) | RF meets target | RF median <= LR median |\n");
    sb_puts(b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
    for (c = 0; c < CL_N; c++) {
        double *v[8];
        int n = 0, nr = 0, ni = 0, meets = 0, notworse = 0, nrel = 0, nrelo = 0, k;
        double tm, tp;
        for (k = 0; k < 8; k++) v[k] = (double *)xmalloc(sizeof(double) * (size_t)(g_ntabs ? g_ntabs : 1));
        class_target(c, &tm, &tp);
        for (i = 0; i < g_ntabs; i++) {
            const table *t = &g_tabs[i];
            if (!in_class(t, c) || t->allzero || !t->nheld) continue;
            v[0][n] = t->rf.ho_med;
            v[1][n] = t->rf.ho_p90;
            v[2][n] = t->lr.ho_med;
            v[3][n] = t->lr.ho_p90;
            if (t->roof_ok) { v[4][nr] = t->roof_med; v[5][nr] = t->roof_p90; nr++; }
            if (t->ip_ok) { v[6][ni] = t->ip_med; v[7][ni] = t->ip_p90; ni++; }
            if ((tm < 0 || t->rf.ho_med <= tm) && (tp < 0 || t->rf.ho_p90 <= tp)) meets++;
            if (t->rf.ho_med <= t->lr.ho_med) notworse++;
            if (t->rf.target & 2) nrel++;
            if ((t->rf.target & 2) && t->rf.offset_ms != 0) nrelo++;
            n++;
        }
        if (c == CL_MOE && !n) { /* no moe.csv among the inputs: no row (reports of dense profiles unchanged) */
            for (k = 0; k < 8; k++) free(v[k]);
            continue;
        }
        sb_printf(b, "| %s | %d | %d (%d) |", class_name(c), n, nrel, nrelo);
        for (k = 0; k < 8; k++) {
            int m = k < 4 ? n : k < 6 ? nr : ni;
            if (!m) { sb_puts(b, " - |"); continue; }
            {
                double worst = 0;
                int q;
                for (q = 0; q < m; q++) if (v[k][q] > worst) worst = v[k][q];
                fmt_pct(s1, sizeof s1, vf_quantile(v[k], m, 0.5));
                fmt_pct(s2, sizeof s2, worst);
                sb_printf(b, " %s / %s |", s1, s2);
            }
        }
        if (tm < 0) sb_puts(b, " - | - |");
        else {
            if (tp >= 0) sb_printf(b, " <= %g / <= %g | %d of %d |", tm, tp, meets, n);
            else sb_printf(b, " <= %g / - | %d of %d |", tm, meets, n);
        }
        sb_printf(b, " %d of %d |\n", notworse, n);
        for (k = 0; k < 8; k++) free(v[k]);
    }
    {
        int nz = 0;
        for (i = 0; i < g_ntabs; i++) nz += g_tabs[i].allzero;
        sb_printf(b, "\n%d tables have only 0 targets (not profiled) and are not in the summary.\n", nz);
    }

    sb_puts(b, "\n## Roofline calibrations (emitted)\n\n");
    sb_puts(b, "| device / node | op | scale | overhead (ms) | rows | median APE on all rows (%) |\n|---|---|---:|---:|---:|---:|\n");
    for (i = 0; i < g_ncal; i++) {
        const calib *cl = &g_cal[i];
        fmt_pct(s1, sizeof s1, cl->fit_med);
        sb_printf(b, "| %s | %s | %.6g | %.6g | %d | %s |\n", cl->device, vidur_op_name(cl->op), cl->scale, cl->overhead, cl->nrows, s1);
    }

    sb_puts(b, "\n## Per table\n\n");
    sb_puts(b, "Rows: profiled rows (after filters and de-duplication) / held out. RF params: selected n_estimators, max_depth, "
               "min_samples_split; RF target: the selected target (time, log = log(time), rel = time / (t0 + o), emitted as a "
               "relative table, log rel = log(time / (t0 + o)), relative too; o = the emitted table's fixed cost, shown when "
               "not 0); grid = thresholds per axis. LR: degree, "
               "interaction_only (io), intercept (ic). APE columns: held-out median / p90 in %.\n\n");
    sb_puts(b, "| device or node | model | tp | op | rows | RF params | RF target | grid | RF APE | LR params | LR APE | roofline APE | interpolation APE |\n");
    sb_puts(b, "|---|---|---:|---|---:|---|---|---:|---:|---|---:|---:|---:|\n");
    for (i = 0; i < g_ntabs; i++) {
        const table *t = &g_tabs[i];
        char grid[64];
        if (t->d > 1) snprintf(grid, sizeof grid, "%d x %d", t->rf.grid.nx, t->rf.grid.ny);
        else snprintf(grid, sizeof grid, "%d", t->rf.grid.nx);
        {
            char tg[96];
            if (t->rf.offset_ms != 0) snprintf(tg, sizeof tg, "%s, o = %.3g ms", vr_target_name(t->rf.target), t->rf.offset_ms);
            else snprintf(tg, sizeof tg, "%s", vr_target_name(t->rf.target));
            sb_printf(b, "| %s | %s | %d | %s | %d / %d | %d, %d, %d | %s | %s |", t->net ? t->node : t->device,
                      t->net ? "-" : t->model, t->tp, vidur_op_name(t->op), t->n, t->nheld, t->rf.ntrees, t->rf.depth,
                      t->rf.mss, tg, grid);
        }
        if (VT_NL > 1) sb_printf(b, " msl %d |", t->rf.msl);
        if (t->allzero) {
            sb_puts(b, " all 0 | ");
        } else if (t->nheld) {
            fmt_pct(s1, sizeof s1, t->rf.ho_med);
            fmt_pct(s2, sizeof s2, t->rf.ho_p90);
            sb_printf(b, " %s / %s | ", s1, s2);
        } else sb_puts(b, " - | ");
        sb_printf(b, "%d%s, %s |", t->lr.degree, t->lr.inter ? " io" : "", t->lr.intercept ? "ic" : "no ic");
        if (t->allzero) sb_puts(b, " all 0 | - | - |\n");
        else if (t->nheld) {
            fmt_pct(s1, sizeof s1, t->lr.ho_med);
            fmt_pct(s2, sizeof s2, t->lr.ho_p90);
            sb_printf(b, " %s / %s |", s1, s2);
            if (t->roof_ok) {
                fmt_pct(s1, sizeof s1, t->roof_med);
                fmt_pct(s2, sizeof s2, t->roof_p90);
                sb_printf(b, " %s / %s |", s1, s2);
            } else sb_puts(b, " - |");
            if (t->ip_ok) {
                fmt_pct(s1, sizeof s1, t->ip_med);
                fmt_pct(s2, sizeof s2, t->ip_p90);
                sb_printf(b, " %s / %s |\n", s1, s2);
            } else sb_puts(b, " - |\n");
        } else sb_puts(b, " - | - | - |\n");
    }

    sb_puts(b, "\n## Inputs\n\n| root | file | data rows | duplicates dropped | FNV-1a 64 |\n|---|---|---:|---:|---|\n");
    for (i = 0; i < g_nfiles; i++)
        sb_printf(b, "| %s | %s | %d | %d | %016llx |\n", O.roots[g_files[i].root], g_files[i].rel, g_files[i].rows,
                  g_files[i].dups, (unsigned long long)g_files[i].hash);
}

/* ---- files ---------------------------------------------------------------------------------- */
typedef struct outfile { const char *path; vidur_atomic_file a; sb *content; } outfile;

/* every output goes to a fresh temporary file (created exclusively next to it: a planted symlink
   is never followed); only when all are written are they renamed into place */
static void write_outputs(outfile *of, int n)
{
    int i, k;
    vidur_error err;
    for (i = 0; i < n; i++) {
        int e = 0;
        if (!vidur_atomic_open(&of[i].a, of[i].path, &err)) {
            for (k = 0; k < i; k++) remove(of[k].a.tmp);
            die("%s", err.message);
        }
        if (fwrite(of[i].content->s, 1, of[i].content->n, of[i].a.f) != of[i].content->n || fflush(of[i].a.f)) e = errno;
        if (fclose(of[i].a.f) && !e) e = errno;
        if (e) {
            for (k = 0; k <= i; k++) remove(of[k].a.tmp);
            die("%s: write failed: %s", of[i].path, strerror(e));
        }
    }
    for (i = 0; i < n; i++)
        if (rename(of[i].a.tmp, of[i].path)) {
            int e = errno;
            for (k = i; k < n; k++) remove(of[k].a.tmp);
            die("%s: cannot rename into place: %s", of[i].path, strerror(e));
        }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vidur-tables [--profiling-dir DIR ...] [--out-header FILE] [--out-report FILE]\n"
               "                    [--vtab FILE] [--dump FILE] [--seed N] [-j N]\n"
               "                    [--device SKU ...] [--model ORG/NAME ...] [--node NODE ...] [--config FILE.ini ...]\n"
               "                    [--quiet]\n"
               "Trains vidur.h's operator tables (random forests compiled into grids, polynomial regressions,\n"
               "roofline calibrations) from profiling CSVs and reports their held-out accuracy.\n"
               "  --profiling-dir DIR   a profiling root (repeatable; default ../shared/data/profiling and\n"
               "                        data/profiling, each skipped when absent)\n"
               "  --out-header FILE     generated C tables (default data/vidur_tables.h)\n"
               "  --out-report FILE     accuracy report (default data/tables_accuracy.md)\n"
               "  --vtab FILE           write the tables in vidur.h's table-file format (for vidur's\n"
               "                        --random_forrest_execution_time_predictor_config_table_file);\n"
               "                        with --vtab the header and report are written only when named\n"
               "  --dump FILE           also write one text line per table (for tests)\n"
               "  --seed N              PRNG seed (default 42)\n"
               "  -j N                  worker threads (default 2); outputs do not depend on it\n"
               "  --device/--model/--node  train only these compute (device, model) or network combos\n"
               "  --config FILE.ini     vidur INI files whose [model.X], [device.X], [node.X] sections\n"
               "                        define models, GPUs and nodes missing from vidur.h's tables\n"
               "  --quiet               print nothing but errors\n");
}

static int cmp_calkey(const void *a, const void *b)
{
    const calib *x = (const calib *)a, *y = (const calib *)b;
    int c = strcmp(x->device, y->device);
    return c ? c : x->op - y->op;
}

int main(int argc, char **argv)
{
    int i, ntabrows = 0;
    double t_start = now_s(), t_load, t_train, t_cal;
    sb header, report, dump, vtab;
    outfile of[4];
    int nof = 0;
    int *order;
    memset(&O, 0, sizeof O);
    O.out_header = "data/vidur_tables.h";
    O.out_report = "data/tables_accuracy.md";
    O.seed = 42;
    O.jobs = 2;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (die("%s needs a value", a), ""))
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--profiling-dir")) { if (O.nroots >= 64) die("too many --profiling-dir"); O.roots[O.nroots++] = NEXT(); O.roots_given = 1; }
        else if (!strcmp(a, "--out-header")) { O.out_header = NEXT(); O.header_given = 1; }
        else if (!strcmp(a, "--out-report")) { O.out_report = NEXT(); O.report_given = 1; }
        else if (!strcmp(a, "--config")) { if (O.nconfigs >= 16) die("too many --config"); O.configs[O.nconfigs++] = NEXT(); }
        else if (!strcmp(a, "--vtab")) O.vtab = NEXT();
        else if (!strcmp(a, "--dump")) O.dump = NEXT();
        else if (!strcmp(a, "--seed")) {
            const char *v = NEXT();
            char *end;
            unsigned long long s = strtoull(v, &end, 10);
            if (!*v || *end || *v == '-') die("--seed: not a non-negative integer: '%s'", v);
            O.seed = (uint64_t)s;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
            const char *v = NEXT();
            char *end;
            long j = strtol(v, &end, 10);
            if (!*v || *end || j < 1 || j > 64) die("-j: not a number of threads (1..64): '%s'", v);
            O.jobs = (int)j;
        } else if (!strncmp(a, "-j", 2) && a[2]) {
            char *end;
            long j = strtol(a + 2, &end, 10);
            if (*end || j < 1 || j > 64) die("-j: not a number of threads (1..64): '%s'", a + 2);
            O.jobs = (int)j;
        } else if (!strcmp(a, "--device")) { if (O.ndev >= 64) die("too many --device"); O.devices[O.ndev++] = NEXT(); }
        else if (!strcmp(a, "--model")) { if (O.nmod >= 64) die("too many --model"); O.models[O.nmod++] = NEXT(); }
        else if (!strcmp(a, "--node")) { if (O.nnode >= 64) die("too many --node"); O.nodes[O.nnode++] = NEXT(); }
        else if (!strcmp(a, "--quiet")) O.quiet = 1;
        else die("unknown option '%s' (see --help)", a);
#undef NEXT
    }
    /* with --vtab and no --out-header/--out-report, write only the table file (so that a user
       training on their own profiles does not overwrite the committed tables) */
    if (O.vtab && !O.header_given) O.out_header = NULL; /* each output only when named: --vtab X --out-report R */
    if (O.vtab && !O.report_given) O.out_report = NULL; /* must not overwrite data/vidur_tables.h */
    if (O.nconfigs) {
        vidur_error err;
        vidur_config_init(&g_cfg);
        for (i = 0; i < O.nconfigs; i++)
            if (vidur_config_load_ini(&g_cfg, O.configs[i], &err) != VIDUR_OK) die("%s", err.message);
        g_cfgp = &g_cfg;
    }
    if (!O.roots_given) {
        static const char *const defaults[2] = {"../shared/data/profiling", "data/profiling"};
        for (i = 0; i < 2; i++)
            if (is_dir(defaults[i])) O.roots[O.nroots++] = defaults[i];
        if (!O.nroots) die("no profiling data: neither ../shared/data/profiling nor data/profiling exists (use --profiling-dir)");
    } else
        for (i = 0; i < O.nroots; i++)
            if (!is_dir(O.roots[i])) die("--profiling-dir %s: not a directory", O.roots[i]);

    discover();
    if (!g_ncombos) die("no profiling CSVs found under the profiling root(s)%s", (O.ndev || O.nmod || O.nnode) ? " that match the filters" : "");
    for (i = 0; i < g_ncombos; i++) {
        if (g_combos[i].kind_net) load_network(&g_combos[i]);
        else load_compute(&g_combos[i]);
    }
    /* drop empty tables (e.g. no decode rows), then finish */
    {
        int k = 0;
        for (i = 0; i < g_ntabs; i++)
            if (g_tabs[i].n > 0) g_tabs[k++] = g_tabs[i];
            else free(g_tabs[i].rows);
        g_ntabs = k;
    }
    if (!g_ntabs) die("no profiled rows match vidur.h's models and the filters");
    for (i = 0; i < g_ntabs; i++) { finish_table(&g_tabs[i]); ntabrows += g_tabs[i].n; }
    /* provenance: per root, the used files' count and combined hash */
    {
        int r, len;
        len = snprintf(g_provenance, sizeof g_provenance, "%s; seed %llu;", VT_VERSION, (unsigned long long)O.seed);
        for (i = 0; i < O.nconfigs && len < (int)sizeof g_provenance; i++)
            len += snprintf(g_provenance + len, sizeof g_provenance - (size_t)len, " config %s;", O.configs[i]);
        if (len < (int)sizeof g_provenance) len += snprintf(g_provenance + len, sizeof g_provenance - (size_t)len, " inputs:");
        for (r = 0; r < O.nroots; r++) {
            uint64_t h = VF_FNV_OFFSET;
            int nf = 0;
            for (i = 0; i < g_nfiles; i++)
                if (g_files[i].root == r) {
                    h = vf_fnv1a(h, g_files[i].rel, strlen(g_files[i].rel) + 1);
                    {
                        char hx[32];
                        snprintf(hx, sizeof hx, "%016llx", (unsigned long long)g_files[i].hash);
                        h = vf_fnv1a(h, hx, 16);
                    }
                    nf++;
                }
            if (len < (int)sizeof g_provenance)
                len += snprintf(g_provenance + len, sizeof g_provenance - (size_t)len, "%s %s (%d CSV files, FNV-1a 64 %016llx)",
                                r ? ";" : "", O.roots[r], nf, (unsigned long long)h);
        }
    }
    t_load = now_s();

    /* train, largest tables first */
    order = (int *)xmalloc(sizeof(int) * (size_t)g_ntabs);
    g_cost = (double *)xmalloc(sizeof(double) * (size_t)g_ntabs);
    for (i = 0; i < g_ntabs; i++) { order[i] = i; g_cost[i] = (double)g_tabs[i].n * g_tabs[i].d; }
    qsort(order, (size_t)g_ntabs, sizeof *order, cmp_cost);
    run_parallel(g_ntabs, order, task_table, O.jobs);
    free(order);
    free(g_cost);
    t_train = now_s();

    /* calibrations per (device or node, op) */
    for (i = 0; i < g_ntabs; i++) {
        table *t = &g_tabs[i];
        int k;
        calib key;
        if (!t->has_roof || t->allzero) continue;
        for (k = 0; k < g_ncal; k++)
            if (!strcmp(g_cal[k].device, t->calib_dev) && g_cal[k].op == t->op) break;
        if (k == g_ncal) {
            g_cal = (calib *)xrealloc(g_cal, sizeof *g_cal * (size_t)(g_ncal + 1));
            memset(&key, 0, sizeof key);
            key.device = t->calib_dev;
            key.op = t->op;
            key.tabs = (int *)xmalloc(sizeof(int) * (size_t)g_ntabs);
            g_cal[g_ncal++] = key;
        }
        g_cal[k].tabs[g_cal[k].ntabs++] = i;
    }
    if (g_ncal) qsort(g_cal, (size_t)g_ncal, sizeof *g_cal, cmp_calkey);
    order = (int *)xmalloc(sizeof(int) * (size_t)(g_ncal ? g_ncal : 1));
    g_cost = (double *)xmalloc(sizeof(double) * (size_t)(g_ncal ? g_ncal : 1));
    for (i = 0; i < g_ncal; i++) {
        int k;
        order[i] = i;
        g_cost[i] = 0;
        for (k = 0; k < g_cal[i].ntabs; k++) g_cost[i] += g_tabs[g_cal[i].tabs[k]].n;
    }
    qsort(order, (size_t)g_ncal, sizeof *order, cmp_cost);
    run_parallel(g_ncal, order, task_calib, O.jobs);
    free(order);
    free(g_cost);
    t_cal = now_s();

    build_outputs();
    memset(&header, 0, sizeof header);
    memset(&report, 0, sizeof report);
    memset(&dump, 0, sizeof dump);
    memset(&vtab, 0, sizeof vtab);
    write_header(&header);
    write_report(&report, NULL);
    if (O.out_header) { of[nof].path = O.out_header; of[nof].content = &header; nof++; }
    if (O.out_report) { of[nof].path = O.out_report; of[nof].content = &report; nof++; }
    if (O.dump) { write_dump(&dump); of[nof].path = O.dump; of[nof].content = &dump; nof++; }
    if (O.vtab) {
        vidur_table_set set;
        FILE *mf;
        char *mbuf = NULL;
        size_t mlen = 0;
        set.num_tables = g_nout;
        set.num_calibrations = g_ncal;
        set.tables = g_out;
        set.calibrations = g_outcal;
        set.provenance = g_provenance;
        mf = open_memstream(&mbuf, &mlen);
        if (!mf || vidur_table_set_write(&set, mf) != VIDUR_OK || fclose(mf)) die("%s: cannot format the table file", O.vtab);
        sb_putn(&vtab, mbuf, mlen);
        free(mbuf);
        of[nof].path = O.vtab; of[nof].content = &vtab; nof++;

    }
    write_outputs(of, nof);
    if (!O.quiet) {
        size_t cells = 0, terms = 0;
        for (i = 0; i < g_nout; i++) {
            if (g_out[i].kind == VIDUR_TABLE_GRID) cells += (size_t)(g_out[i].nx + 1) * (size_t)(g_out[i].ny + 1);
            terms += (size_t)g_out[i].nterms;
        }
        printf("vidur-tables: %d CSV files, %d tables (%d rows) -> %d grid + %d polynomial tables (%lu grid cells, %lu terms), %d calibrations\n",
               g_nfiles, g_ntabs, ntabrows, g_ntabs, g_ntabs, (unsigned long)cells, (unsigned long)terms, g_ncal);
        printf("vidur-tables: wrote");
        for (i = 0; i < nof; i++) printf("%s %s (%lu bytes)", i ? "," : "", of[i].path, (unsigned long)of[i].content->n);
        printf("\n");
        printf("vidur-tables: wall time %.1f s (load %.1f s, train %.1f s, calibrate %.1f s) with -j %d\n", now_s() - t_start,
               t_load - t_start, t_train - t_load, t_cal - t_train, O.jobs);
    }
    /* the output texts are this function's own: freed, so that LeakSanitizer stays quiet */
    free(header.s);
    free(report.s);
    free(dump.s);
    free(vtab.s);
    return 0;
}
