/* vidur_forest.h - the regressors of tools/vidur-tables.c: CART regression trees, random
   forests, their lossless compilation into a rectilinear grid, polynomial least squares, a
   deterministic PRNG and the error measures. Plain C99, no global state; every function is
   static (include this file where it is used; tests/test_forest.c tests it on hand-computed
   data).

   Trees (as scikit-learn's DecisionTreeRegressor, squared error): a node is split on the
   feature and threshold that maximise sum_L^2/w_L + sum_R^2/w_R (the largest decrease of the
   weighted squared error); thresholds are midpoints between consecutive distinct feature values
   of the node's rows; a row goes left when x[f] <= threshold; every feature is considered at
   every split; a node is a leaf when depth == max_depth, when it holds fewer than
   min_samples_split distinct rows (or fewer than 2), when all its targets are equal, or when no
   threshold separates its rows. Leaf value = weighted mean of its targets. Rows carry integer
   weights: a bootstrap sample of n draws with replacement is the weight vector of draw counts.
   Ties between equally good splits keep the first found (feature 0 before 1, smaller threshold
   first).

   Forests: tree t is fitted on the t-th bootstrap sample drawn from one PRNG stream, so the first
   k trees of a forest are the forest of k trees with the same seed. Prediction = mean of the
   trees' leaf values (summed in tree order); with log_target the trees are fitted to log(y)
   and the prediction is exp(mean).

   Grid compilation: the union of all trees' thresholds on each axis cuts the feature space
   into cells on which the forest is constant; cell ix along an axis = number of thresholds
   strictly below the coordinate. vf_forest_grid computes every cell's value with the very
   same sequence of floating-point operations as vf_forest_predict. */
#ifndef VIDUR_FOREST_H
#define VIDUR_FOREST_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define VF_UNUSED __attribute__((unused))
#else
#define VF_UNUSED
#endif
#define VF_STATIC VF_UNUSED static

#define VF_MAX_FEATURES 2

/* ---- PRNG: splitmix64 (a counter through a 64-bit mixer) ---------------------------------- */
VF_STATIC uint64_t vf_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
typedef struct vf_rng { uint64_t s; } vf_rng;
VF_STATIC void vf_rng_seed(vf_rng *r, uint64_t seed) { r->s = vf_mix64(seed + 0x9e3779b97f4a7c15ULL); }
VF_STATIC uint64_t vf_rng_next(vf_rng *r) { r->s += 0x9e3779b97f4a7c15ULL; return vf_mix64(r->s); }
/* uniform in [0, n) (n < 2^32: the modulo bias is below 2^-32) */
VF_STATIC int vf_rng_below(vf_rng *r, int n) { return (int)(vf_rng_next(r) % (uint64_t)n); }

/* FNV-1a 64-bit */
VF_STATIC uint64_t vf_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    for (i = 0; i < len; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
    return h;
}
#define VF_FNV_OFFSET 0xcbf29ce484222325ULL

/* ---- data ----------------------------------------------------------------------------------- */
typedef struct vf_data {
    int n, d;          /* rows, features (1 or 2) */
    const double *X;   /* n x d, row-major */
    const double *y;   /* n targets */
} vf_data;

/* ---- trees ---------------------------------------------------------------------------------- */
typedef struct vf_node {
    int feat;          /* -1: leaf */
    int left, right;   /* child node indices */
    double thr;        /* go left when x[feat] <= thr */
    double value;      /* leaf value (weighted mean of the node's targets) */
} vf_node;

typedef struct vf_tree {
    vf_node *nodes;
    int n, cap;
} vf_tree;

typedef struct vf_tree_params {
    int max_depth;           /* leaves at this depth (root depth 0) */
    int min_samples_split;   /* distinct rows needed to split a node */
    int min_samples_leaf;    /* distinct rows needed on each side of a split (0 or 1: 1) */
} vf_tree_params;

/* Workspace to fit trees on one data set: the rows presorted by each feature once. */
typedef struct vf_ws {
    const vf_data *data;
    int *order[VF_MAX_FEATURES];  /* all rows sorted by feature f (ties by row index) */
    int *idx[VF_MAX_FEATURES];    /* the active rows of the current fit, per feature order */
    int *tmp;
    unsigned char *left;
    const int *w;
    const double *yt;             /* targets used by the current fit */
    vf_tree_params p;
} vf_ws;

/* stable merge sort of row indices by feature f (qsort has no context argument) */
static void vf__msort(int *a, int *tmp, int n, const double *X, int d, int f)
{
    int i, j, k, h;
    if (n < 2) return;
    h = n / 2;
    vf__msort(a, tmp, h, X, d, f);
    vf__msort(a + h, tmp, n - h, X, d, f);
    for (i = 0, j = h, k = 0; i < h && j < n;) {
        double xi = X[(size_t)a[i] * d + f], xj = X[(size_t)a[j] * d + f];
        if (xj < xi) tmp[k++] = a[j++];
        else tmp[k++] = a[i++];
    }
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}

VF_STATIC int vf_ws_init(vf_ws *ws, const vf_data *data)
{
    int f, i, n = data->n;
    memset(ws, 0, sizeof *ws);
    ws->data = data;
    ws->tmp = (int *)malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    ws->left = (unsigned char *)malloc((size_t)(n > 0 ? n : 1));
    if (!ws->tmp || !ws->left) return -1;
    for (f = 0; f < data->d; f++) {
        ws->order[f] = (int *)malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
        ws->idx[f] = (int *)malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
        if (!ws->order[f] || !ws->idx[f]) return -1;
        for (i = 0; i < n; i++) ws->order[f][i] = i;
        vf__msort(ws->order[f], ws->tmp, n, data->X, data->d, f); /* stable: ties by index */
    }
    return 0;
}

VF_STATIC void vf_ws_free(vf_ws *ws)
{
    int f;
    for (f = 0; f < VF_MAX_FEATURES; f++) { free(ws->order[f]); free(ws->idx[f]); }
    free(ws->tmp);
    free(ws->left);
    memset(ws, 0, sizeof *ws);
}

VF_STATIC void vf_tree_free(vf_tree *t) { free(t->nodes); t->nodes = NULL; t->n = t->cap = 0; }

static int vf__new_node(vf_tree *t)
{
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 64;
        vf_node *nn = (vf_node *)realloc(t->nodes, sizeof *nn * (size_t)cap);
        if (!nn) return -1;
        t->nodes = nn;
        t->cap = cap;
    }
    memset(&t->nodes[t->n], 0, sizeof t->nodes[0]);
    t->nodes[t->n].feat = -1;
    return t->n++;
}

/* grows the subtree of rows idx[*][start, end) at `depth`; returns the node index or -1 */
static int vf__grow(vf_ws *ws, vf_tree *t, int start, int end, int depth)
{
    const vf_data *D = ws->data;
    const int d = D->d, *w = ws->w;
    const double *X = D->X, *y = ws->yt;
    double W = 0, S = 0, ymin = 0, ymax = 0, best = -1.0, thr = 0;
    int i, f, node, count = end - start, bf = -1, bn = 0;
    int msl = ws->p.min_samples_leaf > 1 ? ws->p.min_samples_leaf : 1;
    node = vf__new_node(t);
    if (node < 0) return -1;
    for (i = start; i < end; i++) {
        int r = ws->idx[0][i];
        double yr = y[r];
        W += w[r];
        S += w[r] * yr;
        if (i == start || yr < ymin) ymin = yr;
        if (i == start || yr > ymax) ymax = yr;
    }
    t->nodes[node].value = S / W;
    if (depth >= ws->p.max_depth || count < ws->p.min_samples_split || count < 2 * msl || ymin == ymax) return node;
    for (f = 0; f < d; f++) {
        const int *id = ws->idx[f];
        double WL = 0, SL = 0;
        for (i = start; i < end - 1; i++) {
            int r = id[i];
            double xa = X[(size_t)r * d + f], xb = X[(size_t)id[i + 1] * d + f];
            WL += w[r];
            SL += w[r] * y[r];
            if (xa < xb && i + 1 - start >= msl && end - (i + 1) >= msl) {
                double SR = S - SL, WR = W - WL;
                double proxy = SL * SL / WL + SR * SR / WR;
                if (bf < 0 || proxy > best) {
                    best = proxy;
                    bf = f;
                    bn = i + 1 - start;
                    thr = xa + (xb - xa) / 2.0;
                    if (thr >= xb) thr = xa; /* adjacent doubles: keep x <= thr on the left */
                }
            }
        }
    }
    if (bf < 0) return node;
    /* partition every feature's order stably: left rows first */
    {
        int g;
        const int *id = ws->idx[bf];
        for (i = start; i < end; i++) ws->left[id[i]] = (unsigned char)(i - start < bn);
        for (g = 0; g < d; g++) {
            int *a = ws->idx[g], nl = 0, nr = 0;
            if (g == bf) continue;
            for (i = start; i < end; i++)
                if (ws->left[a[i]]) a[start + nl++] = a[i];
                else ws->tmp[nr++] = a[i];
            memcpy(a + start + nl, ws->tmp, sizeof(int) * (size_t)nr);
        }
    }
    {
        int l, r;
        t->nodes[node].feat = bf;
        t->nodes[node].thr = thr;
        l = vf__grow(ws, t, start, start + bn, depth + 1);
        if (l < 0) return -1;
        r = vf__grow(ws, t, start + bn, end, depth + 1);
        if (r < 0) return -1;
        t->nodes[node].left = l; /* t->nodes may have moved: index again */
        t->nodes[node].right = r;
    }
    return node;
}

/* Fits one tree on the rows with w[i] > 0 (weights = multiplicities), targets yt (NULL: the
   data's y). Returns 0, or -1 when out of memory or when no row has a positive weight. */
VF_STATIC int vf_tree_fit(vf_ws *ws, const int *w, const double *yt, vf_tree_params p, vf_tree *t)
{
    const vf_data *D = ws->data;
    int f, i, m = 0;
    t->n = 0;
    ws->w = w;
    ws->yt = yt ? yt : D->y;
    ws->p = p;
    for (f = 0; f < D->d; f++) {
        m = 0;
        for (i = 0; i < D->n; i++) {
            int r = ws->order[f][i];
            if (w[r] > 0) ws->idx[f][m++] = r;
        }
    }
    if (m == 0) return -1;
    return vf__grow(ws, t, 0, m, 0) < 0 ? -1 : 0;
}

VF_STATIC double vf_tree_predict(const vf_tree *t, const double *x)
{
    const vf_node *nd = t->nodes;
    int i = 0;
    while (nd[i].feat >= 0) i = x[nd[i].feat] <= nd[i].thr ? nd[i].left : nd[i].right;
    return nd[i].value;
}

/* The predictions of the tree cut at each depth limit depths[0..nd) (ascending): out[k] = the
   value of the node where x's path ends or reaches depth depths[k]. A node's value is the mean
   of its rows whether it is split or not, and the split chosen at a node does not depend on
   max_depth, so out[k] equals the prediction of the tree fitted with max_depth = depths[k] (same
   rows, weights and other parameters): one fit at the largest limit scores every limit. */
VF_STATIC void vf_tree_predict_depths(const vf_tree *t, const double *x, const int *depths, int nd, double *out)
{
    const vf_node *node = t->nodes;
    int i = 0, depth = 0, k = 0;
    for (;;) {
        while (k < nd && depths[k] <= depth) out[k++] = node[i].value;
        if (k == nd || node[i].feat < 0) break;
        i = x[node[i].feat] <= node[i].thr ? node[i].left : node[i].right;
        depth++;
    }
    while (k < nd) out[k++] = node[i].value;
}

VF_STATIC int vf_tree_depth(const vf_tree *t, int node)
{
    int a, b;
    if (t->nodes[node].feat < 0) return 0;
    a = vf_tree_depth(t, t->nodes[node].left);
    b = vf_tree_depth(t, t->nodes[node].right);
    return 1 + (a > b ? a : b);
}

/* ---- forests -------------------------------------------------------------------------------- */
typedef struct vf_forest {
    int ntrees, d, log_target;
    vf_tree *trees;
} vf_forest;

/* One bootstrap sample: n draws with replacement, as counts. */
VF_STATIC void vf_bootstrap(vf_rng *r, const int *rows, int nrows, int *w, int n)
{
    int i;
    memset(w, 0, sizeof(int) * (size_t)n);
    for (i = 0; i < nrows; i++) w[rows[vf_rng_below(r, nrows)]]++;
}

/* Fits a forest of `ntrees` trees on the rows listed in rows[0..nrows) (indices into the data),
   bootstrap samples drawn from a PRNG seeded with `seed`. ytf: the fit targets (log(y) when
   log_target; the caller prepares them). Returns 0 or -1 (out of memory). */
VF_STATIC int vf_forest_fit(vf_ws *ws, const double *ytf, const int *rows, int nrows, int ntrees,
                            vf_tree_params p, uint64_t seed, int log_target, vf_forest *fo)
{
    int t, *w;
    vf_rng rng;
    memset(fo, 0, sizeof *fo);
    fo->d = ws->data->d;
    fo->log_target = log_target;
    fo->trees = (vf_tree *)calloc((size_t)(ntrees > 0 ? ntrees : 1), sizeof(vf_tree));
    w = (int *)malloc(sizeof(int) * (size_t)(ws->data->n > 0 ? ws->data->n : 1));
    if (!fo->trees || !w) { free(w); return -1; }
    vf_rng_seed(&rng, seed);
    for (t = 0; t < ntrees; t++) {
        vf_bootstrap(&rng, rows, nrows, w, ws->data->n);
        if (vf_tree_fit(ws, w, ytf, p, &fo->trees[t])) { free(w); return -1; }
        fo->ntrees = t + 1;
    }
    free(w);
    return 0;
}

VF_STATIC void vf_forest_free(vf_forest *fo)
{
    int t;
    if (fo->trees)
        for (t = 0; t < fo->ntrees; t++) vf_tree_free(&fo->trees[t]);
    free(fo->trees);
    memset(fo, 0, sizeof *fo);
}

/* the forest's prediction from the sum of its trees' leaf values */
VF_STATIC double vf_forest_finish(double sum, int ntrees, int log_target)
{
    double m = sum / ntrees;
    return log_target ? exp(m) : m;
}

VF_STATIC double vf_forest_predict(const vf_forest *fo, const double *x)
{
    double s = 0;
    int t;
    for (t = 0; t < fo->ntrees; t++) s += vf_tree_predict(&fo->trees[t], x);
    return vf_forest_finish(s, fo->ntrees, fo->log_target);
}

/* ---- grid compilation ------------------------------------------------------------------------ */
typedef struct vf_grid {
    int nx, ny;        /* thresholds per axis (ny = 0 for one feature) */
    double *x, *y;     /* strictly ascending thresholds */
    double *v;         /* (nx + 1) x (ny + 1) cell values, v[ix * (ny + 1) + iy] */
} vf_grid;

static int vf__cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int vf__find(const double *u, int n, double v)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (u[mid] < v) lo = mid + 1;
        else if (u[mid] > v) hi = mid - 1;
        else return mid;
    }
    return -1;
}

/* number of entries of u[0..n) strictly below v */
VF_STATIC int vf_count_below(const double *u, int n, double v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (u[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void vf__fill(const vf_tree *t, int node, const vf_grid *g, double *acc, int x0, int x1, int y0, int y1)
{
    const vf_node *nd = &t->nodes[node];
    int ix, iy;
    if (x0 >= x1 || y0 >= y1) return;
    if (nd->feat < 0) {
        for (ix = x0; ix < x1; ix++)
            for (iy = y0; iy < y1; iy++) acc[(size_t)ix * (g->ny + 1) + iy] += nd->value;
        return;
    }
    if (nd->feat == 0) {
        int k = vf__find(g->x, g->nx, nd->thr) + 1; /* cells < k are at or below thr */
        vf__fill(t, nd->left, g, acc, x0, k < x1 ? k : x1, y0, y1);
        vf__fill(t, nd->right, g, acc, k > x0 ? k : x0, x1, y0, y1);
    } else {
        int k = vf__find(g->y, g->ny, nd->thr) + 1;
        vf__fill(t, nd->left, g, acc, x0, x1, y0, k < y1 ? k : y1);
        vf__fill(t, nd->right, g, acc, x0, x1, k > y0 ? k : y0, y1);
    }
}

static int vf__uniq_thresholds(const vf_forest *fo, int feat, double **out)
{
    int t, i, n = 0, cap = 0, m;
    double *u = NULL;
    for (t = 0; t < fo->ntrees; t++)
        for (i = 0; i < fo->trees[t].n; i++)
            if (fo->trees[t].nodes[i].feat == feat) {
                if (n == cap) {
                    double *nu;
                    cap = cap ? cap * 2 : 256;
                    nu = (double *)realloc(u, sizeof *u * (size_t)cap);
                    if (!nu) { free(u); return -1; }
                    u = nu;
                }
                u[n++] = fo->trees[t].nodes[i].thr;
            }
    if (n) qsort(u, (size_t)n, sizeof *u, vf__cmp_double);
    for (i = 0, m = 0; i < n; i++)
        if (m == 0 || u[i] != u[m - 1]) u[m++] = u[i];
    *out = u;
    return m;
}

/* Compiles a forest into its grid; returns 0 or -1 (out of memory). */
VF_STATIC int vf_forest_grid(const vf_forest *fo, vf_grid *g)
{
    size_t cells, c;
    double *acc;
    int t;
    memset(g, 0, sizeof *g);
    g->nx = vf__uniq_thresholds(fo, 0, &g->x);
    if (g->nx < 0) return -1;
    if (fo->d > 1) {
        g->ny = vf__uniq_thresholds(fo, 1, &g->y);
        if (g->ny < 0) return -1;
    }
    cells = (size_t)(g->nx + 1) * (size_t)(g->ny + 1);
    acc = (double *)calloc(cells, sizeof *acc);
    if (!acc) return -1;
    for (t = 0; t < fo->ntrees; t++) vf__fill(&fo->trees[t], 0, g, acc, 0, g->nx + 1, 0, g->ny + 1);
    for (c = 0; c < cells; c++) acc[c] = vf_forest_finish(acc[c], fo->ntrees, fo->log_target);
    g->v = acc;
    return 0;
}

VF_STATIC double vf_grid_lookup(const vf_grid *g, double x, double y)
{
    int ix = vf_count_below(g->x, g->nx, x), iy = g->ny ? vf_count_below(g->y, g->ny, y) : 0;
    return g->v[(size_t)ix * (g->ny + 1) + iy];
}

VF_STATIC void vf_grid_free(vf_grid *g)
{
    free(g->x);
    free(g->y);
    free(g->v);
    memset(g, 0, sizeof *g);
}

/* ---- polynomial least squares ---------------------------------------------------------------- */
#define VF_MAX_TERMS 32

typedef struct vf_poly {
    int nterms;
    int px[VF_MAX_TERMS], py[VF_MAX_TERMS];
    double coef[VF_MAX_TERMS];
    double sx, sy;     /* features are scaled: x / sx, y / sy */
} vf_poly;

/* The terms of a polynomial feature expansion (scikit-learn's PolynomialFeatures followed by
   LinearRegression): degree, interaction_only, and whether there is an intercept (include_bias
   or fit_intercept: either one gives the model a constant; both give the same predictions). */
VF_STATIC int vf_poly_terms(int d, int degree, int interaction_only, int intercept, int *px, int *py)
{
    int n = 0, i, j;
    if (intercept) { px[n] = 0; py[n] = 0; n++; }
    if (d == 1) {
        int deg = interaction_only ? 1 : degree;
        for (i = 1; i <= deg; i++) { px[n] = i; py[n] = 0; n++; }
        return n;
    }
    if (interaction_only) {
        px[n] = 1; py[n] = 0; n++;
        px[n] = 0; py[n] = 1; n++;
        if (degree >= 2) { px[n] = 1; py[n] = 1; n++; }
        return n;
    }
    for (i = 1; i <= degree; i++)       /* total degree i: x^i, x^(i-1) y, ..., y^i */
        for (j = 0; j <= i; j++) { px[n] = i - j; py[n] = j; n++; }
    return n;
}

static double vf__ipow(double b, int e)
{
    double r = 1;
    while (e-- > 0) r *= b;
    return r;
}

VF_STATIC double vf_poly_predict(const vf_poly *p, double x, double y)
{
    double s = 0, xs = x / p->sx, ys = y / p->sy;
    int j;
    for (j = 0; j < p->nterms; j++) s += p->coef[j] * vf__ipow(xs, p->px[j]) * vf__ipow(ys, p->py[j]);
    return s;
}

/* Ordinary least squares over the rows listed in rows[] by Householder QR; a column whose
   remaining norm is below 1e-10 of its own norm (linearly dependent on the earlier ones) is
   dropped (coefficient 0). sx, sy = the largest |x|, |y| of those rows (1 if 0). Returns 0 or
   -1 (out of memory). */
VF_STATIC int vf_poly_fit(const vf_data *D, const int *rows, int nrows, const int *px, const int *py, int nterms, vf_poly *out)
{
    int i, j, k, r = 0, p = nterms;
    int keep[VF_MAX_TERMS];
    double *A, *b, colnorm[VF_MAX_TERMS], sol[VF_MAX_TERMS];
    memset(out, 0, sizeof *out);
    out->sx = out->sy = 0;
    for (i = 0; i < nrows; i++) {
        double x = fabs(D->X[(size_t)rows[i] * D->d]), y = D->d > 1 ? fabs(D->X[(size_t)rows[i] * D->d + 1]) : 0;
        if (x > out->sx) out->sx = x;
        if (y > out->sy) out->sy = y;
    }
    if (out->sx == 0) out->sx = 1;
    if (out->sy == 0) out->sy = 1;
    A = (double *)malloc(sizeof(double) * (size_t)(nrows > 0 ? nrows : 1) * (size_t)(p > 0 ? p : 1));
    b = (double *)malloc(sizeof(double) * (size_t)(nrows > 0 ? nrows : 1));
    if (!A || !b) { free(A); free(b); return -1; }
    /* column-major A (nrows x p) */
    for (i = 0; i < nrows; i++) {
        double xs = D->X[(size_t)rows[i] * D->d] / out->sx;
        double ys = D->d > 1 ? D->X[(size_t)rows[i] * D->d + 1] / out->sy : 0;
        for (j = 0; j < p; j++) A[(size_t)j * nrows + i] = vf__ipow(xs, px[j]) * vf__ipow(ys, py[j]);
        b[i] = D->y[rows[i]];
    }
    for (j = 0; j < p; j++) {
        double s = 0;
        for (i = 0; i < nrows; i++) s += A[(size_t)j * nrows + i] * A[(size_t)j * nrows + i];
        colnorm[j] = sqrt(s);
        keep[j] = 0;
    }
    /* Householder QR, accepted columns become the first r rows of R */
    for (j = 0; j < p && r < nrows; j++) {
        double *a = &A[(size_t)j * nrows], nrm = 0, alpha, vnorm2;
        for (i = r; i < nrows; i++) nrm += a[i] * a[i];
        nrm = sqrt(nrm);
        if (colnorm[j] == 0 || nrm <= 1e-10 * colnorm[j]) continue;
        keep[j] = 1;
        alpha = a[r] > 0 ? -nrm : nrm;
        a[r] -= alpha;                 /* v = a[r..] with a[r] - alpha */
        vnorm2 = 0;
        for (i = r; i < nrows; i++) vnorm2 += a[i] * a[i];
        if (vnorm2 > 0) {
            for (k = j + 1; k < p; k++) {
                double *c = &A[(size_t)k * nrows], dot = 0;
                for (i = r; i < nrows; i++) dot += a[i] * c[i];
                dot = 2 * dot / vnorm2;
                for (i = r; i < nrows; i++) c[i] -= dot * a[i];
            }
            {
                double dot = 0;
                for (i = r; i < nrows; i++) dot += a[i] * b[i];
                dot = 2 * dot / vnorm2;
                for (i = r; i < nrows; i++) b[i] -= dot * a[i];
            }
        }
        a[r] = alpha;                  /* R[r][j] */
        for (i = r + 1; i < nrows; i++) a[i] = 0;
        r++;
    }
    /* back substitution: row q of R belongs to the q-th kept column */
    {
        int cols[VF_MAX_TERMS], q;
        for (j = 0, q = 0; j < p; j++)
            if (keep[j]) cols[q++] = j;
        for (q = r - 1; q >= 0; q--) {
            double s = b[q];
            int qq;
            for (qq = q + 1; qq < r; qq++) s -= A[(size_t)cols[qq] * nrows + q] * sol[qq];
            sol[q] = s / A[(size_t)cols[q] * nrows + q];
        }
        out->nterms = 0;
        for (q = 0; q < r; q++) {
            out->px[out->nterms] = px[cols[q]];
            out->py[out->nterms] = py[cols[q]];
            out->coef[out->nterms] = sol[q];
            out->nterms++;
        }
    }
    free(A);
    free(b);
    return 0;
}

/* ---- errors ---------------------------------------------------------------------------------- */
/* Absolute percentage error with Vidur's rule for a true 0: 0 if predicted 0, else 100. */
VF_STATIC double vf_ape(double truth, double pred)
{
    if (truth == 0) return pred == 0 ? 0 : 100;
    return 100.0 * fabs(pred - truth) / fabs(truth);
}

/* q-quantile (0..1) of a[0..n) with linear interpolation (numpy's default); sorts a. */
VF_STATIC double vf_quantile(double *a, int n, double q)
{
    double pos;
    int lo;
    if (n <= 0) return 0;
    qsort(a, (size_t)n, sizeof *a, vf__cmp_double);
    pos = q * (n - 1);
    lo = (int)floor(pos);
    if (lo >= n - 1) return a[n - 1];
    return a[lo] + (pos - lo) * (a[lo + 1] - a[lo]);
}

#endif /* VIDUR_FOREST_H */
