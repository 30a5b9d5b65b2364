/* test_relative.c - roofline-relative tables (vidur_op_table.relative = 1) built through the
   trainer's code path (tools/vidur_relative.h: the ideal roofline of a table, the relative
   targets, a forest's grid as a table) and read by the library: vidur.h's prediction at a key is
   the table's value times the t0 that the trainer computes for a row with the same key, for every
   kind of operator key (token-wise, prefill, decode, all_reduce bytes, send_recv in one node and
   across nodes), inside and beyond the profiled domain, and with a fixed cost (rel_offset_ms:
   value x (t0 + o)). One t0 is worked out by hand. */
/* its own copy of the implementation (the other tests link build/libvidur.a): it reads the
   simulation's predictor (private fields of vidur_sim) */
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#include "test.h"
#include "../tools/vidur_forest.h"
#include "../tools/vidur_relative.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char g_path[256];

/* a simulation of one replica that reads `set` from a table file */
static vidur_sim *make_sim(const vidur_table_set *set, const char *model, const char *device, const char *node, int tp, int pp)
{
    vidur_config c;
    vidur_error err;
    vidur_sim *sim = NULL;
    char v[16];
    FILE *f = fopen(g_path, "w");
    if (!f) return NULL;
    if (vidur_table_set_write(set, f) != VIDUR_OK) { fclose(f); return NULL; }
    fclose(f);
    vidur_config_init(&c);
    SET(&c, "random_forrest_execution_time_predictor_config_table_file", g_path);
    SET(&c, "metrics_config_write_metrics", "false");
    SET(&c, "replica_config_model_name", model);
    SET(&c, "replica_config_device", device);
    SET(&c, "replica_config_network_device", node);
    snprintf(v, sizeof v, "%d", tp);
    SET(&c, "replica_config_tensor_parallel_size", v);
    snprintf(v, sizeof v, "%d", pp);
    SET(&c, "replica_config_num_pipeline_stages", v);
    if (vidur_sim_create(&c, &sim, &err) != VIDUR_OK) {
        printf("  create: %s\n", err.message);
        return NULL;
    }
    return sim;
}

static double lib_op(vidur_sim *sim, int op, int64_t k1, int64_t k2) { return sim->predictor.op_time_ms(sim->predictor.state, op, k1, k2); }

/* t0 by hand: mlp_up_proj of Llama-2-7B (E 4096, F 11008, gated: N = 2 x 11008 = 22016) on an
   A100 (312 TFLOP/s, 2039 GB/s), TP 1, at 8 tokens: FLOPs 2 x 8 x 22016 x 4096 = 1,442,840,576
   -> 4.62 us; bytes 2 x (8 x 4096 + 4096 x 22016 + 8 x 22016) = 2 x 90,386,432 = 180,772,864
   -> 180772864 / 2039e9 s = 0.0886576... ms (memory-bound). */
TEST(test_t0_by_hand)
{
    vidur_roofline r;
    REQUIRE(vr_ideal_roofline(NULL, 0, "a100", "meta-llama/Llama-2-7b-hf", "", 1, VIDUR_OP_MLP_UP_PROJ, &r));
    CHECK_NEAR(vidur_roofline_op_time_ms(&r, VIDUR_OP_MLP_UP_PROJ, 8, 0), 180772864.0 / 2039e9 * 1e3, 1e-15);
    CHECK_NEAR(vidur_roofline_op_time_ms(&r, VIDUR_OP_MLP_UP_PROJ, 8, 0), 0.08865761, 1e-8);
    CHECK(!vr_ideal_roofline(NULL, 0, "a100", "no/such-model", "", 1, VIDUR_OP_MLP_UP_PROJ, &r));
}

TEST(test_targets)
{
    double y[3] = {2, 4, 0}, t0[3] = {1, 2, 4}, out[3];
    CHECK(vr_target_ok(VR_TARGET_TIME, y, t0, 3));
    CHECK(!vr_target_ok(VR_TARGET_LOG, y, t0, 3));   /* a 0 time */
    CHECK(vr_target_ok(VR_TARGET_REL, y, t0, 3));
    CHECK(!vr_target_ok(VR_TARGET_LOG_REL, y, t0, 3));
    t0[1] = 0;
    CHECK(!vr_target_ok(VR_TARGET_REL, y, t0, 3));   /* a 0 ideal time */
    t0[1] = 2;
    vr_make_target(VR_TARGET_REL, y, t0, 3, out);
    CHECK_NEAR(out[0], 2, 0);
    CHECK_NEAR(out[1], 2, 0);
    CHECK_NEAR(out[2], 0, 0);
    vr_make_target(VR_TARGET_LOG_REL, y, t0, 2, out);
    CHECK_NEAR(out[1], log(2.0), 0);
    /* a relative forest's prediction: mean ratio x t0; log: exp(mean log ratio) x t0 */
    CHECK_NEAR(vr_finish(6.0, 3, VR_TARGET_REL, 0.5), 1.0, 0);
    CHECK_NEAR(vr_finish(3 * log(2.0), 3, VR_TARGET_LOG_REL, 0.5), 1.0, 1e-15);
    CHECK_NEAR(vr_finish(6.0, 3, VR_TARGET_TIME, 0.5), 2.0, 0);
    CHECK(vr_row_ok(VIDUR_OP_SEND_RECV, 2048, 1024));
    CHECK(!vr_row_ok(VIDUR_OP_ALL_REDUCE, 2049, 1024));
    CHECK(vr_row_ok(VIDUR_OP_MLP_UP_PROJ, 7, 7));
}

/* A forest trained on time / t0 of synthetic a100 Llama-2-7B TP1 mlp_up_proj rows (8 .. 2048
   tokens), compiled and emitted as a relative table: the simulator predicts cell x t0(key),
   exactly, inside the domain and beyond it (the edge cell times t0 of the key itself). */
TEST(test_forest_relative_table)
{
    enum { N = 256 };
    double X[N], y[N], t0[N], yt[N];
    int rows[N], i;
    vidur_roofline r;
    vf_data D;
    vf_ws ws;
    vf_forest fo;
    vf_grid g;
    vf_tree_params p;
    vidur_op_table tab;
    vidur_table_set set;
    float *vals;
    vidur_sim *sim;
    REQUIRE(vr_ideal_roofline(NULL, 0, "a100", "meta-llama/Llama-2-7b-hf", "", 1, VIDUR_OP_MLP_UP_PROJ, &r));
    for (i = 0; i < N; i++) {
        X[i] = 8.0 * (i + 1);
        t0[i] = vidur_roofline_op_time_ms(&r, VIDUR_OP_MLP_UP_PROJ, (int64_t)X[i], 0);
        y[i] = t0[i] * (1.6 - 0.3 * X[i] / 2048) + 0.004; /* a roofline error that varies slowly */
        rows[i] = i;
    }
    REQUIRE(vr_target_ok(VR_TARGET_REL, y, t0, N));
    vr_make_target(VR_TARGET_REL, y, t0, N, yt);
    D.n = N;
    D.d = 1;
    D.X = X;
    D.y = y;
    REQUIRE(vf_ws_init(&ws, &D) == 0);
    memset(&p, 0, sizeof p);
    p.max_depth = 8;
    p.min_samples_split = 2;
    p.min_samples_leaf = 1;
    REQUIRE(vf_forest_fit(&ws, yt, rows, N, 20, p, 7, 0, &fo) == 0);
    REQUIRE(vf_forest_grid(&fo, &g) == 0);
    vals = (float *)malloc(sizeof(float) * (size_t)(g.nx + 1));
    REQUIRE(vals != NULL);
    memset(&tab, 0, sizeof tab);
    vr_grid_table(&g, 1, 0, vals, &tab);
    tab.device = "a100";
    tab.model = "meta-llama/Llama-2-7b-hf";
    tab.node = "";
    tab.tp = 1;
    tab.op = VIDUR_OP_MLP_UP_PROJ;
    tab.xmin = X[0];
    tab.xmax = X[N - 1];
    CHECK_EQ_INT(tab.relative, 1);
    CHECK_NEAR(tab.rel_offset_ms, 0, 0);
    CHECK_EQ_INT(tab.kind, VIDUR_TABLE_GRID);
    memset(&set, 0, sizeof set);
    set.num_tables = 1;
    set.tables = &tab;
    set.provenance = "test_relative";
    sim = make_sim(&set, "meta-llama/Llama-2-7b-hf", "a100", "a100_pairwise_nvlink", 1, 1);
    REQUIRE(sim != NULL);
    CHECK_STR_EQ(vidur_sim_op_source(sim, VIDUR_OP_MLP_UP_PROJ), "random_forest");
    {
        static const int64_t keys[] = {8, 100, 512, 1000, 2048, 4096, 16384};
        int k, bad = 0, far = 0;
        for (k = 0; k < 7; k++) {
            double x = (double)keys[k], cx = x > tab.xmax ? tab.xmax : x;
            double want = (double)(float)vf_grid_lookup(&g, cx, 0) * vidur_roofline_op_time_ms(&r, VIDUR_OP_MLP_UP_PROJ, keys[k], 0);
            double got = lib_op(sim, VIDUR_OP_MLP_UP_PROJ, keys[k], 0);
            double forest = vf_forest_predict(&fo, &cx) * vidur_roofline_op_time_ms(&r, VIDUR_OP_MLP_UP_PROJ, keys[k], 0);
            double truth = vidur_roofline_op_time_ms(&r, VIDUR_OP_MLP_UP_PROJ, keys[k], 0) * (1.6 - 0.3 * cx / 2048) + 0.004;
            if (got != want) { bad++; printf("  key %lld: library %.17g, value x t0 %.17g\n", (long long)keys[k], got, want); }
            if (fabs(got - forest) > 1e-6 * forest) bad++;     /* float cells */
            if (fabs(got - truth) > 0.03 * truth) far++;       /* the relative forest extrapolates with t0 */
        }
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(far, 0);
        /* beyond the domain the prediction grows with t0 (a plain grid would stay flat) */
        CHECK(lib_op(sim, VIDUR_OP_MLP_UP_PROJ, 16384, 0) > 7.5 * lib_op(sim, VIDUR_OP_MLP_UP_PROJ, 2048, 0));
    }
    vidur_sim_destroy(sim);
    vf_forest_free(&fo);
    vf_grid_free(&g);
    vf_ws_free(&ws);
    free(vals);
}

/* one-cell relative tables of value 1.5 for every key kind: the library's prediction equals
   1.5 x the trainer's t0 at the row key of the same point */
static vidur_op_table cell_table(const char *device, const char *model, const char *node, int tp, int op, int d, const float *one)
{
    vidur_op_table t;
    memset(&t, 0, sizeof t);
    t.device = device;
    t.model = model;
    t.node = node;
    t.tp = tp;
    t.op = op;
    t.predictor = VIDUR_PREDICTOR_RANDOM_FOREST;
    t.kind = VIDUR_TABLE_GRID;
    t.v = one;
    t.sx = t.sy = 1;
    t.xmin = 0;
    t.xmax = 1e12;
    t.ymax = d > 1 ? 1e12 : 0;
    t.relative = 1;
    return t;
}

static double trainer_t0(int net, const char *device, const char *model, const char *node, int tp, int op, int64_t k1, int64_t k2)
{
    vidur_roofline r;
    if (!vr_ideal_roofline(NULL, net, device, model, node, tp, op, &r)) return -1;
    return vidur_roofline_op_time_ms(&r, op, k1, k2);
}

TEST(test_every_key_kind)
{
    static const float one[1] = {1.5f};
    const char *M = "meta-llama/Llama-2-7b-hf"; /* E = 4096 */
    vidur_op_table t[7];
    vidur_table_set set;
    vidur_sim *sim;
    t[0] = cell_table("a100", M, "", 4, VIDUR_OP_ATTN_PREFILL, 2, one);
    t[1] = cell_table("a100", M, "", 4, VIDUR_OP_ATTN_DECODE, 2, one);
    t[2] = cell_table("a100", M, "", 4, VIDUR_OP_ATTN_KV_CACHE_SAVE, 1, one);
    t[3] = cell_table("", "", "a100_pairwise_nvlink", 4, VIDUR_OP_ALL_REDUCE, 1, one);
    t[4] = cell_table("", "", "a100_pairwise_nvlink", 1, VIDUR_OP_SEND_RECV, 1, one); /* devices_per_node 1: across nodes */
    t[5] = cell_table("", "", "a100_pairwise_nvlink", 2, VIDUR_OP_SEND_RECV, 1, one); /* devices_per_node 2: one node */
    t[6] = cell_table("a100", M, "", 4, VIDUR_OP_MLP_DOWN_PROJ, 1, one);
    t[6].rel_offset_ms = 0.0125; /* a fixed cost: 1.5 x (t0 + 0.0125) */
    memset(&set, 0, sizeof set);
    set.num_tables = 7;
    set.tables = t;
    set.provenance = "test_relative";

    /* TP 4 x PP 1 on a100_pairwise_nvlink (4 GPUs per node): one node */
    sim = make_sim(&set, M, "a100", "a100_pairwise_nvlink", 4, 1);
    REQUIRE(sim != NULL);
    /* prefill: row key (kv, chunk), feature (kv, chunk^2) */
    CHECK(lib_op(sim, VIDUR_OP_ATTN_PREFILL, 1000, 300) == 1.5 * trainer_t0(0, "a100", M, "", 4, VIDUR_OP_ATTN_PREFILL, 1000, 300));
    CHECK(lib_op(sim, VIDUR_OP_ATTN_PREFILL, 0, 4096) == 1.5 * trainer_t0(0, "a100", M, "", 4, VIDUR_OP_ATTN_PREFILL, 0, 4096));
    /* decode: (batch, kv) */
    CHECK(lib_op(sim, VIDUR_OP_ATTN_DECODE, 7, 2048) == 1.5 * trainer_t0(0, "a100", M, "", 4, VIDUR_OP_ATTN_DECODE, 7, 2048));
    CHECK(lib_op(sim, VIDUR_OP_ATTN_KV_CACHE_SAVE, 333, 0) == 1.5 * trainer_t0(0, "a100", M, "", 4, VIDUR_OP_ATTN_KV_CACHE_SAVE, 333, 0));
    /* the fixed cost, through the table file and vr_base: value x (t0 + o) */
    {
        double t0 = trainer_t0(0, "a100", M, "", 4, VIDUR_OP_MLP_DOWN_PROJ, 64, 0), base;
        vr_base(&t0, 1, 0.0125, &base);
        CHECK(sim->tpred.t[VIDUR_OP_MLP_DOWN_PROJ]->rel_offset_ms == 0.0125);
        CHECK(lib_op(sim, VIDUR_OP_MLP_DOWN_PROJ, 64, 0) == 1.5 * base);
        CHECK_NEAR(base, t0 + 0.0125, 0);
    }
    /* all_reduce of 100 tokens = 2 x 100 x 4096 bytes: the trainer's row of that size has k1 = size / 2 */
    CHECK(lib_op(sim, VIDUR_OP_ALL_REDUCE, 100, 0) == 1.5 * trainer_t0(1, "", "", "a100_pairwise_nvlink", 4, VIDUR_OP_ALL_REDUCE, 409600, 0));
    CHECK(trainer_t0(1, "", "", "a100_pairwise_nvlink", 4, VIDUR_OP_ALL_REDUCE, 409600, 0) > 0);
    vidur_sim_destroy(sim);

    /* send_recv, TP 2 x PP 2 = 4 <= 4 GPUs per node: one node, the devices_per_node 2 table */
    sim = make_sim(&set, M, "a100", "a100_pairwise_nvlink", 2, 2);
    REQUIRE(sim != NULL);
    CHECK(sim->tpred.t[VIDUR_OP_SEND_RECV] == &sim->user_tables->tables[5]);
    CHECK(lib_op(sim, VIDUR_OP_SEND_RECV, 100, 0) == 1.5 * trainer_t0(1, "", "", "a100_pairwise_nvlink", 2, VIDUR_OP_SEND_RECV, 409600, 0));
    vidur_sim_destroy(sim);
    /* TP 4 x PP 2 = 8 > 4: across nodes, the devices_per_node 1 table and the inter-node link */
    sim = make_sim(&set, M, "a100", "a100_pairwise_nvlink", 4, 2);
    REQUIRE(sim != NULL);
    CHECK(sim->tpred.t[VIDUR_OP_SEND_RECV] == &sim->user_tables->tables[4]);
    CHECK(lib_op(sim, VIDUR_OP_SEND_RECV, 100, 0) == 1.5 * trainer_t0(1, "", "", "a100_pairwise_nvlink", 1, VIDUR_OP_SEND_RECV, 409600, 0));
    vidur_sim_destroy(sim);
    /* the two send_recv tables have different t0 (inter- vs intra-node bandwidth) */
    CHECK(trainer_t0(1, "", "", "a100_pairwise_nvlink", 1, VIDUR_OP_SEND_RECV, 409600, 0) >
          trainer_t0(1, "", "", "a100_pairwise_nvlink", 2, VIDUR_OP_SEND_RECV, 409600, 0));
}

int main(void)
{
    snprintf(g_path, sizeof g_path, "/tmp/vidur_test_relative_%ld.vtab", (long)getpid());
    RUN_TEST(test_t0_by_hand);
    RUN_TEST(test_targets);
    RUN_TEST(test_forest_relative_table);
    RUN_TEST(test_every_key_kind);
    remove(g_path);
    return test_finish();
}
