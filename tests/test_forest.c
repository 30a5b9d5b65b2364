/* The regressors of tools/vidur-tables.c (tools/vidur_forest.h) on tiny data worked by hand:
   CART splits (threshold = midpoint, leaf = weighted mean, the split that maximises
   sum_L^2/w_L + sum_R^2/w_R), stopping rules, forests (bootstrap, prefix property), the
   lossless grid compilation (checked against vidur_op_table_eval), polynomial least squares,
   and the error measures. */
#include "vidur.h"
#include "test.h"
#include "tools/vidur_forest.h"

static vf_tree_params params(int depth, int mss, int msl)
{
    vf_tree_params p;
    p.max_depth = depth;
    p.min_samples_split = mss;
    p.min_samples_leaf = msl;
    return p;
}

/* one split on 4 points: y = 1 1 5 5 at x = 1 2 3 4.
   Candidate splits (W = 4, S = 12): after x=1: 1/1 + 11^2/3 = 41.33; after x=2: 2^2/2 + 10^2/2 = 52;
   after x=3: 7^2/3 + 5^2/1 = 41.33. Best: between 2 and 3, threshold (2 + 3) / 2 = 2.5;
   leaves: mean(1, 1) = 1 and mean(5, 5) = 5. */
TEST(test_one_split)
{
    double X[4] = {1, 2, 3, 4}, y[4] = {1, 1, 5, 5};
    int w[4] = {1, 1, 1, 1};
    vf_data D = {4, 1, X, y};
    vf_ws ws;
    vf_tree t = {NULL, 0, 0};
    REQUIRE(vf_ws_init(&ws, &D) == 0);
    REQUIRE(vf_tree_fit(&ws, w, NULL, params(8, 2, 1), &t) == 0);
    CHECK_EQ_INT(t.n, 3);
    CHECK_EQ_INT(t.nodes[0].feat, 0);
    CHECK_NEAR(t.nodes[0].thr, 2.5, 0);
    CHECK_NEAR(t.nodes[t.nodes[0].left].value, 1, 0);
    CHECK_NEAR(t.nodes[t.nodes[0].right].value, 5, 0);
    CHECK_EQ_INT(t.nodes[t.nodes[0].left].feat, -1);   /* pure leaves */
    CHECK_EQ_INT(t.nodes[t.nodes[0].right].feat, -1);
    {
        double q;
        q = 2.5; CHECK_NEAR(vf_tree_predict(&t, &q), 1, 0);  /* x <= threshold goes left */
        q = 2.51; CHECK_NEAR(vf_tree_predict(&t, &q), 5, 0);
        q = -100; CHECK_NEAR(vf_tree_predict(&t, &q), 1, 0);
    }
    vf_tree_free(&t);
    vf_ws_free(&ws);
}

/* y = 1 2 10 11 at x = 1 2 3 4 (S = 24, W = 4): after x=1: 1 + 23^2/3 = 177.33; after x=2:
   3^2/2 + 21^2/2 = 4.5 + 220.5 = 225; after x=3: 13^2/3 + 11^2 = 177.33 -> root threshold 2.5,
   and with depth 1 the leaves are 1.5 and 10.5. With unlimited depth the children split at 1.5
   and 3.5 into the four values. */
TEST(test_depth)
{
    double X[4] = {1, 2, 3, 4}, y[4] = {1, 2, 10, 11};
    int w[4] = {1, 1, 1, 1};
    vf_data D = {4, 1, X, y};
    vf_ws ws;
    vf_tree t = {NULL, 0, 0};
    double q;
    REQUIRE(vf_ws_init(&ws, &D) == 0);
    REQUIRE(vf_tree_fit(&ws, w, NULL, params(1, 2, 1), &t) == 0);
    CHECK_EQ_INT(t.n, 3);
    CHECK_NEAR(t.nodes[0].thr, 2.5, 0);
    CHECK_NEAR(t.nodes[t.nodes[0].left].value, 1.5, 0);
    CHECK_NEAR(t.nodes[t.nodes[0].right].value, 10.5, 0);
    CHECK_EQ_INT(vf_tree_depth(&t, 0), 1);
    REQUIRE(vf_tree_fit(&ws, w, NULL, params(32, 2, 1), &t) == 0);
    CHECK_EQ_INT(t.n, 7);
    CHECK_EQ_INT(vf_tree_depth(&t, 0), 2);
    CHECK_NEAR(t.nodes[t.nodes[0].left].thr, 1.5, 0);
    CHECK_NEAR(t.nodes[t.nodes[0].right].thr, 3.5, 0);
    q = 1; CHECK_NEAR(vf_tree_predict(&t, &q), 1, 0);
    q = 1.6; CHECK_NEAR(vf_tree_predict(&t, &q), 2, 0);
    q = 3.5; CHECK_NEAR(vf_tree_predict(&t, &q), 10, 0);
    q = 4; CHECK_NEAR(vf_tree_predict(&t, &q), 11, 0);
    /* min_samples_split 5 > 4 rows: the root is a leaf holding the mean 6 */
    REQUIRE(vf_tree_fit(&ws, w, NULL, params(32, 5, 1), &t) == 0);
    CHECK_EQ_INT(t.n, 1);
    CHECK_NEAR(t.nodes[0].value, 6, 0);
    /* min_samples_split 3: the root (4 rows) splits, its children (2 rows each) do not */
    REQUIRE(vf_tree_fit(&ws, w, NULL, params(32, 3, 1), &t) == 0);
    CHECK_EQ_INT(t.n, 3);
    /* min_samples_leaf 2: only the middle split is allowed (it is also the best) */
    REQUIRE(vf_tree_fit(&ws, w, NULL, params(32, 2, 2), &t) == 0);
    CHECK_EQ_INT(t.n, 3);
    CHECK_NEAR(t.nodes[0].thr, 2.5, 0);
    vf_tree_free(&t);
    vf_ws_free(&ws);
}

/* a tree cut at a depth predicts what the tree fitted with that max_depth predicts: on the
   data of test_depth the full tree (depth 2) cut at depth 0 gives the root mean 6, at 1 the
   leaves 1.5 / 10.5 of the depth-1 tree, at 2 and beyond the four values; then on 200 noisy
   2-D rows, depths {1, 3, 8, 32} against trees fitted with those limits */
TEST(test_predict_depths)
{
    double X[4] = {1, 2, 3, 4}, y[4] = {1, 2, 10, 11}, out[4], q;
    static const int depths[4] = {0, 1, 2, 5};
    int w[4] = {1, 1, 1, 1};
    vf_data D = {4, 1, X, y};
    vf_ws ws;
    vf_tree t = {NULL, 0, 0}, u = {NULL, 0, 0};
    REQUIRE(vf_ws_init(&ws, &D) == 0);
    REQUIRE(vf_tree_fit(&ws, w, NULL, params(32, 2, 1), &t) == 0);
    q = 1.6;
    vf_tree_predict_depths(&t, &q, depths, 4, out);
    CHECK_NEAR(out[0], 6, 0);
    CHECK_NEAR(out[1], 1.5, 0);
    CHECK_NEAR(out[2], 2, 0);
    CHECK_NEAR(out[3], 2, 0);
    vf_ws_free(&ws);
    {
        enum { N = 200 };
        double X2[2 * N], y2[N], x[2], o2[4];
        static const int lim[4] = {1, 3, 8, 32};
        int w2[N], i, k, bad = 0;
        vf_rng r;
        vf_data D2 = {N, 2, X2, y2};
        vf_rng_seed(&r, 5);
        for (i = 0; i < N; i++) {
            X2[2 * i] = (double)vf_rng_below(&r, 50);
            X2[2 * i + 1] = (double)vf_rng_below(&r, 30);
            y2[i] = X2[2 * i] * X2[2 * i + 1] + vf_rng_below(&r, 100);
            w2[i] = vf_rng_below(&r, 3);
        }
        REQUIRE(vf_ws_init(&ws, &D2) == 0);
        REQUIRE(vf_tree_fit(&ws, w2, NULL, params(32, 2, 1), &t) == 0);
        for (k = 0; k < 4; k++) {
            REQUIRE(vf_tree_fit(&ws, w2, NULL, params(lim[k], 2, 1), &u) == 0);
            for (i = 0; i < 400; i++) {
                x[0] = -1 + 52.0 * i / 400;
                x[1] = (double)(i % 32) - 0.5;
                vf_tree_predict_depths(&t, x, lim, 4, o2);
                bad += o2[k] != vf_tree_predict(&u, x);
            }
        }
        CHECK_EQ_INT(bad, 0);
        CHECK(vf_tree_depth(&t, 0) > 3);
        vf_ws_free(&ws);
    }
    vf_tree_free(&t);
    vf_tree_free(&u);
}

/* weights are multiplicities: y = 0 4 4 8 with weights 3 1 1 1 (W = 6, S = 16):
   after x=1: 0 + 16^2/3 = 85.33; after x=2: 4^2/4 + 12^2/2 = 4 + 72 = 76;
   after x=3: 8^2/5 + 8^2/1 = 12.8 + 64 = 76.8 -> threshold 1.5, leaves 0 and 16/3.
   A row with weight 0 is not in the sample: its x value makes no threshold. */
TEST(test_weights)
{
    double X[5] = {1, 2, 3, 4, 100}, y[5] = {0, 4, 4, 8, 1000};
    int w[5] = {3, 1, 1, 1, 0};
    vf_data D = {5, 1, X, y};
    vf_ws ws;
    vf_tree t = {NULL, 0, 0};
    REQUIRE(vf_ws_init(&ws, &D) == 0);
    REQUIRE(vf_tree_fit(&ws, w, NULL, params(1, 2, 1), &t) == 0);
    CHECK_NEAR(t.nodes[0].thr, 1.5, 0);
    CHECK_NEAR(t.nodes[t.nodes[0].left].value, 0, 0);
    CHECK_NEAR(t.nodes[t.nodes[0].right].value, 16.0 / 3.0, 1e-15);
    REQUIRE(vf_tree_fit(&ws, w, NULL, params(32, 2, 1), &t) == 0);
    {
        int i;
        for (i = 0; i < t.n; i++) CHECK(t.nodes[i].feat < 0 || t.nodes[i].thr < 4);
    }
    /* constant targets: one leaf */
    {
        double yc[5] = {7, 7, 7, 7, 7};
        int w1[5] = {1, 1, 1, 1, 1};
        REQUIRE(vf_tree_fit(&ws, w1, yc, params(32, 2, 1), &t) == 0);
        CHECK_EQ_INT(t.n, 1);
        CHECK_NEAR(t.nodes[0].value, 7, 0);
    }
    vf_tree_free(&t);
    vf_ws_free(&ws);
}

/* two features: the target depends on feature 1 only, so the split is on feature 1 at 15;
   equal values on a feature give no threshold there */
TEST(test_two_features)
{
    double X[8] = {1, 10, 1, 20, 2, 10, 2, 20}, y[4] = {3, 9, 3, 9};
    int w[4] = {1, 1, 1, 1};
    vf_data D = {4, 2, X, y};
    vf_ws ws;
    vf_tree t = {NULL, 0, 0};
    double q[2];
    REQUIRE(vf_ws_init(&ws, &D) == 0);
    REQUIRE(vf_tree_fit(&ws, w, NULL, params(8, 2, 1), &t) == 0);
    CHECK_EQ_INT(t.n, 3);
    CHECK_EQ_INT(t.nodes[0].feat, 1);
    CHECK_NEAR(t.nodes[0].thr, 15, 0);
    q[0] = 5; q[1] = 15; CHECK_NEAR(vf_tree_predict(&t, q), 3, 0);
    q[0] = 0; q[1] = 16; CHECK_NEAR(vf_tree_predict(&t, q), 9, 0);
    /* all rows at one point: no threshold, one leaf with the mean */
    {
        double Xs[4] = {5, 5, 5, 5}, ys[2] = {1, 3};
        int ws2[2] = {1, 1};
        vf_data D2 = {2, 2, Xs, ys};
        vf_ws w2;
        REQUIRE(vf_ws_init(&w2, &D2) == 0);
        REQUIRE(vf_tree_fit(&w2, ws2, NULL, params(8, 2, 1), &t) == 0);
        CHECK_EQ_INT(t.n, 1);
        CHECK_NEAR(t.nodes[0].value, 2, 0);
        vf_ws_free(&w2);
    }
    vf_tree_free(&t);
    vf_ws_free(&ws);
}

static void make_data(double *X, double *y, int n, int d, uint64_t seed)
{
    vf_rng r;
    int i;
    vf_rng_seed(&r, seed);
    for (i = 0; i < n; i++) {
        double a = (double)vf_rng_below(&r, 64), b = d > 1 ? (double)vf_rng_below(&r, 32) * 3 : 0;
        X[i * d] = a;
        if (d > 1) X[i * d + 1] = b;
        y[i] = 0.5 + a * 0.25 + b * b * 0.01 + (double)vf_rng_below(&r, 100) * 0.001;
    }
}

/* forests: deterministic for a seed; the first k trees of a forest are the k-tree forest;
   the mean of the trees is the prediction; log targets exponentiate the mean */
TEST(test_forest_basics)
{
    double X[200 * 2], y[200], ly[200];
    int rows[200], i, k;
    vf_data D;
    vf_ws ws;
    vf_forest a, b, c;
    make_data(X, y, 200, 2, 7);
    for (i = 0; i < 200; i++) { rows[i] = i; ly[i] = log(y[i]); }
    D.n = 200; D.d = 2; D.X = X; D.y = y;
    REQUIRE(vf_ws_init(&ws, &D) == 0);
    REQUIRE(vf_forest_fit(&ws, y, rows, 200, 10, params(16, 2, 1), 99, 0, &a) == 0);
    REQUIRE(vf_forest_fit(&ws, y, rows, 200, 4, params(16, 2, 1), 99, 0, &b) == 0);
    REQUIRE(vf_forest_fit(&ws, y, rows, 200, 10, params(16, 2, 1), 99, 0, &c) == 0);
    for (k = 0; k < 4; k++) {
        CHECK_EQ_INT(a.trees[k].n, b.trees[k].n);
        CHECK(memcmp(a.trees[k].nodes, b.trees[k].nodes, sizeof(vf_node) * (size_t)b.trees[k].n) == 0);
    }
    for (i = 0; i < 200; i += 17) {
        double s = 0;
        for (k = 0; k < 10; k++) s += vf_tree_predict(&a.trees[k], &X[i * 2]);
        CHECK(vf_forest_predict(&a, &X[i * 2]) == s / 10);
        CHECK(vf_forest_predict(&a, &X[i * 2]) == vf_forest_predict(&c, &X[i * 2]));
    }
    vf_forest_free(&b);
    REQUIRE(vf_forest_fit(&ws, ly, rows, 200, 10, params(16, 2, 1), 99, 1, &b) == 0);
    {
        double s = 0;
        for (k = 0; k < 10; k++) s += vf_tree_predict(&b.trees[k], &X[0]);
        CHECK(vf_forest_predict(&b, &X[0]) == exp(s / 10));
        CHECK_NEAR(vf_forest_predict(&b, &X[0]), y[0], 0.25 * y[0]);
    }
    vf_forest_free(&a);
    vf_forest_free(&b);
    vf_forest_free(&c);
    vf_ws_free(&ws);
}

/* the grid is the forest: on every row, at every threshold, between thresholds and beyond
   the ends, for one and two features, and vidur_op_table_eval reads it the same way */
TEST(test_grid_is_lossless)
{
    int d;
    for (d = 1; d <= 2; d++) {
        double X[300 * 2], y[300];
        int rows[300], i, j, bad = 0, badlib = 0, checks = 0;
        vf_data D;
        vf_ws ws;
        vf_forest fo;
        vf_grid g;
        vidur_op_table t;
        float *vf;
        size_t cells, c;
        vf_rng r;
        make_data(X, y, 300, d, 11 + (uint64_t)d);
        for (i = 0; i < 300; i++) rows[i] = i;
        D.n = 300; D.d = d; D.X = X; D.y = y;
        REQUIRE(vf_ws_init(&ws, &D) == 0);
        REQUIRE(vf_forest_fit(&ws, y, rows, 300, 25, params(32, 2, 1), 5, 0, &fo) == 0);
        REQUIRE(vf_forest_grid(&fo, &g) == 0);
        CHECK(g.nx > 0);
        CHECK(d == 1 ? g.ny == 0 : g.ny > 0);
        for (i = 1; i < g.nx; i++) CHECK(g.x[i] > g.x[i - 1]);
        cells = (size_t)(g.nx + 1) * (size_t)(g.ny + 1);
        vf = (float *)malloc(sizeof(float) * cells);
        REQUIRE(vf != NULL);
        for (c = 0; c < cells; c++) vf[c] = (float)g.v[c];
        memset(&t, 0, sizeof t);
        t.kind = VIDUR_TABLE_GRID;
        t.nx = g.nx; t.ny = g.ny; t.x = g.x; t.y = g.y; t.v = vf;
        vf_rng_seed(&r, 3);
        for (i = 0; i < 3000; i++) {
            double q[2];
            int k = vf_rng_below(&r, 4);
            /* rows, thresholds exactly, random points, far outside */
            if (k == 0) { q[0] = X[(i % 300) * d]; q[1] = d > 1 ? X[(i % 300) * d + 1] : 0; }
            else if (k == 1) { q[0] = g.x[vf_rng_below(&r, g.nx)]; q[1] = d > 1 ? g.y[vf_rng_below(&r, g.ny)] : 0; }
            else if (k == 2) { q[0] = (double)vf_rng_below(&r, 7000) / 100.0 - 2; q[1] = d > 1 ? (double)vf_rng_below(&r, 10000) / 100.0 : 0; }
            else { q[0] = vf_rng_below(&r, 2) ? -1e9 : 1e9; q[1] = d > 1 ? (vf_rng_below(&r, 2) ? -1e9 : 1e9) : 0; }
            checks++;
            if (vf_grid_lookup(&g, q[0], q[1]) != vf_forest_predict(&fo, q)) bad++;
            if (vidur_op_table_eval(&t, q[0], q[1]) != (double)(float)vf_forest_predict(&fo, q)) badlib++;
        }
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(badlib, 0);
        CHECK_EQ_INT(checks, 3000);
        /* cell convention: ix = thresholds strictly below x */
        for (j = 0; j < g.nx; j++) {
            CHECK_EQ_INT(vf_count_below(g.x, g.nx, g.x[j]), j);
            CHECK_EQ_INT(vf_count_below(g.x, g.nx, g.x[j] + 1e-9), j + 1);
        }
        free(vf);
        vf_grid_free(&g);
        vf_forest_free(&fo);
        vf_ws_free(&ws);
    }
}

/* a 4-point forest: a tree's thresholds are midpoints between the x values present in its
   bootstrap sample, so the grid's thresholds are among (a + b) / 2 of {1, 2, 3, 4} */
TEST(test_grid_small)
{
    double X[4] = {1, 2, 3, 4}, y[4] = {1, 1, 5, 5};
    int rows[4] = {0, 1, 2, 3}, i;
    vf_data D = {4, 1, X, y};
    vf_ws ws;
    vf_forest fo;
    vf_grid g;
    REQUIRE(vf_ws_init(&ws, &D) == 0);
    REQUIRE(vf_forest_fit(&ws, y, rows, 4, 20, params(8, 2, 1), 1, 0, &fo) == 0);
    REQUIRE(vf_forest_grid(&fo, &g) == 0);
    CHECK(g.nx >= 1 && g.nx <= 5);
    for (i = 0; i < g.nx; i++) CHECK(g.x[i] == 1.5 || g.x[i] == 2 || g.x[i] == 2.5 || g.x[i] == 3 || g.x[i] == 3.5);
    for (i = 0; i <= g.nx; i++) CHECK(g.v[i] >= 1 && g.v[i] <= 5);
    CHECK(g.v[0] <= g.v[g.nx]);
    vf_grid_free(&g);
    vf_forest_free(&fo);
    vf_ws_free(&ws);
}

/* least squares: an exact polynomial is recovered; a dependent column is dropped */
TEST(test_poly)
{
    double X[2 * 40], y[40];
    int rows[40], i, px[VF_MAX_TERMS], py[VF_MAX_TERMS], nt;
    vf_data D;
    vf_poly p;
    for (i = 0; i < 40; i++) {
        double a = 10.0 * i, b = (double)((i * 7) % 13);
        X[2 * i] = a;
        X[2 * i + 1] = b;
        y[i] = 2 + 0.03 * a + 1e-4 * a * a + 0.5 * a * b / 100 - 0.2 * b;
        rows[i] = i;
    }
    D.n = 40; D.d = 2; D.X = X; D.y = y;
    nt = vf_poly_terms(2, 2, 0, 1, px, py);
    CHECK_EQ_INT(nt, 6); /* 1, x, y, x^2, xy, y^2 */
    REQUIRE(vf_poly_fit(&D, rows, 40, px, py, nt, &p) == 0);
    CHECK_NEAR(p.sx, 390, 0);
    CHECK_NEAR(p.sy, 12, 0);
    for (i = 0; i < 40; i++) CHECK_NEAR(vf_poly_predict(&p, X[2 * i], X[2 * i + 1]), y[i], 1e-9);
    CHECK_NEAR(vf_poly_predict(&p, 55, 3.5), 2 + 0.03 * 55 + 1e-4 * 55 * 55 + 0.5 * 55 * 3.5 / 100 - 0.2 * 3.5, 1e-9);
    /* the term list */
    CHECK_EQ_INT(vf_poly_terms(1, 3, 0, 0, px, py), 3);
    CHECK_EQ_INT(vf_poly_terms(1, 3, 1, 1, px, py), 2);           /* interaction_only, 1 feature: 1, x */
    CHECK_EQ_INT(vf_poly_terms(2, 5, 1, 1, px, py), 4);           /* 1, x, y, xy */
    CHECK_EQ_INT(vf_poly_terms(2, 5, 0, 1, px, py), 21);
    /* y is constant (0): the y columns are dependent and dropped; x is fitted exactly */
    {
        double X1[2 * 5] = {1, 0, 2, 0, 3, 0, 4, 0, 5, 0}, y1[5] = {3, 5, 7, 9, 11};
        vf_data D1 = {5, 2, X1, y1};
        int r1[5] = {0, 1, 2, 3, 4};
        nt = vf_poly_terms(2, 1, 0, 1, px, py);
        REQUIRE(vf_poly_fit(&D1, r1, 5, px, py, nt, &p) == 0);
        CHECK_EQ_INT(p.nterms, 2);
        CHECK_NEAR(vf_poly_predict(&p, 6, 0), 13, 1e-12);
    }
}

TEST(test_errors)
{
    double a[4] = {4, 1, 3, 2}, b[5] = {5, 1, 4, 2, 3};
    CHECK_NEAR(vf_ape(0, 0), 0, 0);
    CHECK_NEAR(vf_ape(0, 1e-9), 100, 0);
    CHECK_NEAR(vf_ape(2, 1), 50, 0);
    CHECK_NEAR(vf_ape(2, 3), 50, 0);
    CHECK_NEAR(vf_quantile(a, 4, 0.5), 2.5, 1e-15);
    CHECK_NEAR(vf_quantile(a, 4, 0.9), 3.7, 1e-15);
    CHECK_NEAR(vf_quantile(b, 5, 0.5), 3, 0);
    CHECK_NEAR(vf_quantile(b, 5, 1.0), 5, 0);
}

TEST(test_rng)
{
    vf_rng a, b;
    int i, ok = 1, inrange = 1, hist[4] = {0, 0, 0, 0};
    vf_rng_seed(&a, 42);
    vf_rng_seed(&b, 42);
    for (i = 0; i < 4000; i++) {
        int x = vf_rng_below(&a, 4);
        if (x != vf_rng_below(&b, 4)) ok = 0;
        if (x < 0 || x > 3) inrange = 0;
        else hist[x]++;
    }
    CHECK(ok);
    CHECK(inrange);
    for (i = 0; i < 4; i++) CHECK(hist[i] > 850 && hist[i] < 1150);
    /* FNV-1a 64 of "a" (the published test vector) */
    CHECK(vf_fnv1a(VF_FNV_OFFSET, "a", 1) == 0xaf63dc4c8601ec8cULL);
}

int main(void)
{
    RUN_TEST(test_one_split);
    RUN_TEST(test_depth);
    RUN_TEST(test_predict_depths);
    RUN_TEST(test_weights);
    RUN_TEST(test_two_features);
    RUN_TEST(test_forest_basics);
    RUN_TEST(test_grid_is_lossless);
    RUN_TEST(test_grid_small);
    RUN_TEST(test_poly);
    RUN_TEST(test_errors);
    RUN_TEST(test_rng);
    return test_finish();
}
