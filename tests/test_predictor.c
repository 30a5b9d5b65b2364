/* test_predictor.c - execution-time prediction: Vidur's batch keys on crafted batches, the
   stage-time formula for TP 1/2/4 and PP 1/2, table files, table lookup and the out-of-range
   policy. Expected values are worked out by hand in the comments. */
#include "../vidur.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

static vidur_request mkreq(int decode, int processed, int prompt)
{
    vidur_request q;
    memset(&q, 0, sizeof q);
    q.is_prefill_complete = (int8_t)decode;
    q.num_processed_tokens = processed;
    q.num_prefill_tokens = prompt;
    return q;
}

/* decode contexts 100, 200, 301: mean 200.33 -> int 200 -> ceil64 256; 3 decode requests.
   prefill (chunk 3 after 0) and (chunk 4 after 70): kv = ceil64(0) + ceil64(70) = 0 + 128 = 128;
   S = sqrt(9 + 16) = 5. T = 3 + 3 + 4 = 10 -> ceil8 16. */
TEST(test_batch_keys)
{
    vidur_request r[5];
    vidur_batch b;
    vidur_batch_shape s;
    memset(&b, 0, sizeof b);
    r[0] = mkreq(1, 100, 99);
    r[1] = mkreq(1, 200, 150);
    r[2] = mkreq(1, 301, 300);
    r[3] = mkreq(0, 0, 3);
    r[4] = mkreq(0, 70, 100);
    CHECK(vidur_batch_add(&b, &r[0], 1));
    CHECK(vidur_batch_add(&b, &r[1], 1));
    CHECK(vidur_batch_add(&b, &r[2], 1));
    CHECK(vidur_batch_add(&b, &r[3], 3));
    CHECK(vidur_batch_add(&b, &r[4], 4));
    vidur_batch_shape_compute(&b, 64, &s);
    CHECK_EQ_INT(s.total_tokens, 10);
    CHECK_EQ_INT(s.total_tokens_ceil8, 16);
    CHECK_EQ_INT(s.num_decode, 3);
    CHECK_EQ_INT(s.decode_kv, 256);
    CHECK_EQ_INT(s.num_prefill, 2);
    CHECK_EQ_INT(s.prefill_kv, 128);
    CHECK_EQ_INT(s.prefill_chunk, 5);
    CHECK_EQ_INT(b.num_prefill_tokens, 7);
    CHECK_EQ_INT(b.num_decode_tokens, 3);
    /* MFU sums: sum c = 10; sum c (c + p) = 101 + 201 + 302 + 3*3 + 4*74 = 604 + 9 + 296 = 909 */
    CHECK_NEAR(s.flops_tokens_sum, 10, 0);
    CHECK_NEAR(s.flops_attn_sum, 909, 0);
    /* exact multiples stay: one decode request with context 64 -> key 64; 8 tokens -> ceil8 8 */
    {
        vidur_batch b2;
        vidur_request q[8];
        int i;
        memset(&b2, 0, sizeof b2);
        for (i = 0; i < 8; i++) {
            q[i] = mkreq(1, 64, 10);
            vidur_batch_add(&b2, &q[i], 1);
        }
        vidur_batch_shape_compute(&b2, 64, &s);
        CHECK_EQ_INT(s.total_tokens_ceil8, 8);
        CHECK_EQ_INT(s.decode_kv, 64);
        CHECK_EQ_INT(s.num_prefill, 0);
        CHECK_EQ_INT(s.prefill_chunk, 0);
        free(b2.requests);
        free(b2.num_tokens);
    }
    free(b.requests);
    free(b.num_tokens);
}

/* A fake predictor: every operator costs (op index + 1) ms, so the composition can be checked
   by hand. Ops (index+1): pre 1, post 2, rope 3, kv_save 4, decode 5, prefill 6, input_ln 7,
   post_ln 8, up 9, down 10, act 11, add 12, all_reduce 13, send_recv 14. */
static double fake_op(void *state, int op, int64_t k1, int64_t k2)
{
    (void)state; (void)k1; (void)k2;
    return op + 1.0;
}

TEST(test_stage_formula)
{
    vidur_predictor_api pred = {"fake", fake_op, NULL};
    vidur_predictor_params p;
    vidur_config c;
    vidur_batch_shape s;
    vidur_stage_time t;
    const vidur_model_spec *llama3 = vidur_find_model(NULL, "meta-llama/Meta-Llama-3-8B"); /* GQA, 32 layers */
    const vidur_model_spec *llama2 = vidur_find_model(NULL, "meta-llama/Llama-2-7b-hf");   /* MHA */
    const vidur_model_spec *phi2 = vidur_find_model(NULL, "microsoft/phi-2");              /* no post-attn norm */
    vidur_config_init(&c);
    p = *vidur_config_predictor_params(&c); /* overheads 0.1 / 0.1, nccl launch 0.02, skew 0 */
    memset(&s, 0, sizeof s);
    s.total_tokens = 40;
    s.total_tokens_ceil8 = 40;
    s.num_decode = 3;
    s.decode_kv = 128;
    s.num_prefill = 2;
    s.prefill_kv = 0;
    s.prefill_chunk = 30;
    REQUIRE(llama3 && llama2 && phi2);
    /* TP 1, PP 1, Llama-3 (GQA: decode x 1.1 as 3 > 1, prefill x 1.1 as 2 > 1):
       attn = 1 + 2 + 3 + 4 + 5*1.1 + 6*1.1 + 0 + 7 = 29.1; mlp = 9 + 10 + 11 + 0 + 8 = 38;
       block = 29.1 + 38 + 12 = 79.1; x 32 layers = 2531.2 ms; no send/recv (last stage) */
    vidur_stage_time_compute(&pred, llama3, &p, 1, 1, 0, &s, &t);
    CHECK_NEAR(t.model_time, 2.5312, 1e-12);
    CHECK_NEAR(t.total_time, t.model_time, 0);
    CHECK_NEAR(t.op_ms[VIDUR_OP_ALL_REDUCE], 0, 0);
    /* TP 2: all-reduce term tp = 13 + 0.02 + 0 = 13.02 twice per layer: block = 79.1 + 26.04 = 105.14 -> x32 = 3364.48 */
    vidur_stage_time_compute(&pred, llama3, &p, 2, 1, 0, &s, &t);
    CHECK_NEAR(t.model_time, 3.36448, 1e-12);
    /* TP 4 with skew 0.5 ms per device: tp = 13 + 0.02 + 0.5 * 4^1.25 = 13.02 + 2.8284271 */
    p.nccl_cpu_skew_overhead_per_device_ms = 0.5;
    vidur_stage_time_compute(&pred, llama3, &p, 4, 1, 0, &s, &t);
    CHECK_NEAR(t.model_time, (79.1 + 2 * (13.02 + 0.5 * pow(4, 1.25))) * 32 * 1e-3, 1e-12);
    p.nccl_cpu_skew_overhead_per_device_ms = 0;
    /* PP 2, TP 1: 16 layers per stage; stage 0 pays send/recv 14 once: 79.1 * 16 + 14 = 1279.6;
       the last stage does not: 1265.6 */
    vidur_stage_time_compute(&pred, llama3, &p, 1, 2, 0, &s, &t);
    CHECK_NEAR(t.model_time, 1.2796, 1e-12);
    vidur_stage_time_compute(&pred, llama3, &p, 1, 2, 1, &s, &t);
    CHECK_NEAR(t.model_time, 1.2656, 1e-12);
    /* TP 2 PP 2 stage 0: (105.14 * 16 + 14) */
    vidur_stage_time_compute(&pred, llama3, &p, 2, 2, 0, &s, &t);
    CHECK_NEAR(t.model_time, (105.14 * 16 + 14) * 1e-3, 1e-12);
    /* MHA model: no batching overhead: attn = 1+2+3+4+5+6+7 = 28, block = 28 + 38 + 12 = 78 -> x32 */
    vidur_stage_time_compute(&pred, llama2, &p, 1, 1, 0, &s, &t);
    CHECK_NEAR(t.model_time, 78 * 32 * 1e-3, 1e-12);
    /* phi-2: no post-attention layernorm: mlp = 9 + 10 + 11 = 30, block = 28 + 30 + 12 = 70 */
    vidur_stage_time_compute(&pred, phi2, &p, 1, 1, 0, &s, &t);
    CHECK_NEAR(t.model_time, 70 * 32 * 1e-3, 1e-12);
    /* a single decode request: no decode overhead even for GQA (dbs = 1), no prefill term */
    s.num_decode = 1;
    s.num_prefill = 0;
    vidur_stage_time_compute(&pred, llama3, &p, 1, 1, 0, &s, &t);
    CHECK_NEAR(t.op_ms[VIDUR_OP_ATTN_DECODE], 5, 0);
    CHECK_NEAR(t.op_ms[VIDUR_OP_ATTN_PREFILL], 0, 0);
    CHECK_NEAR(t.model_time, (1 + 2 + 3 + 4 + 5 + 7 + 38 + 12) * 32 * 1e-3, 1e-12);
}

static int warnings;
static char last_warning[512];
static void count_warn(void *user, vidur_log_level lvl, const char *msg)
{
    (void)user;
    if (lvl == VIDUR_LOG_WARN) {
        warnings++;
        snprintf(last_warning, sizeof last_warning, "%s", msg);
    }
}

/* A hand-made table set: mlp_up_proj for Llama-2-7B on a100 TP1 as a grid with thresholds
   {10, 100} (cells: x <= 10 -> 1.0, 10 < x <= 100 -> 2.0, x > 100 -> 3.0) over the profiled
   domain [1, 200]; attn_decode as a 2-D grid; a polynomial for mlp_down_proj. */
static const double ux[] = {10, 100};
static const float uv[] = {1.0f, 2.0f, 3.0f};
static const double dx[] = {4}, dy[] = {512};
static const float dv[] = {0.1f, 0.2f, 0.3f, 0.4f}; /* (bs <= 4, kv <= 512), (bs <= 4, kv > 512), (bs > 4, ...) */
static const double terms[] = {0, 0, 0.5, 1, 0, 2.0}; /* 0.5 + 2 (x / 100) */

static vidur_table_set make_set(vidur_op_table *t)
{
    vidur_table_set set;
    memset(t, 0, 3 * sizeof *t);
    t[0].device = "a100";
    t[0].model = "meta-llama/Llama-2-7b-hf";
    t[0].node = "";
    t[0].tp = 1;
    t[0].op = VIDUR_OP_MLP_UP_PROJ;
    t[0].predictor = VIDUR_PREDICTOR_RANDOM_FOREST;
    t[0].kind = VIDUR_TABLE_GRID;
    t[0].nx = 2;
    t[0].x = ux;
    t[0].v = uv;
    t[0].xmin = 1;
    t[0].xmax = 200;
    t[1] = t[0];
    t[1].op = VIDUR_OP_ATTN_DECODE;
    t[1].nx = 1;
    t[1].ny = 1;
    t[1].x = dx;
    t[1].y = dy;
    t[1].v = dv;
    t[1].xmax = 128;
    t[1].ymin = 64;
    t[1].ymax = 4096;
    t[2] = t[0];
    t[2].op = VIDUR_OP_MLP_DOWN_PROJ;
    t[2].kind = VIDUR_TABLE_POLY;
    t[2].nterms = 2;
    t[2].terms = terms;
    t[2].sx = 100;
    t[2].sy = 1;
    t[2].xmax = 4096;
    memset(&set, 0, sizeof set);
    set.num_tables = 3;
    set.tables = t;
    set.provenance = "hand-made test set";
    return set;
}

TEST(test_table_eval)
{
    vidur_op_table t[3];
    vidur_table_set set = make_set(t);
    (void)set;
    CHECK_NEAR(vidur_op_table_eval(&t[0], 1, 0), 1.0, 0);
    CHECK_NEAR(vidur_op_table_eval(&t[0], 10, 0), 1.0, 0); /* a threshold belongs to the left cell */
    CHECK_NEAR(vidur_op_table_eval(&t[0], 10.5, 0), 2.0, 0);
    CHECK_NEAR(vidur_op_table_eval(&t[0], 100, 0), 2.0, 0);
    CHECK_NEAR(vidur_op_table_eval(&t[0], 101, 0), 3.0, 0);
    CHECK_NEAR(vidur_op_table_eval(&t[1], 4, 512), 0.1, 1e-7);
    CHECK_NEAR(vidur_op_table_eval(&t[1], 4, 576), 0.2, 1e-7);
    CHECK_NEAR(vidur_op_table_eval(&t[1], 5, 64), 0.3, 1e-7);
    CHECK_NEAR(vidur_op_table_eval(&t[1], 128, 4096), 0.4, 1e-7);
    CHECK_NEAR(vidur_op_table_eval(&t[2], 300, 0), 0.5 + 2 * 3.0, 1e-12);
}

/* table files: write, load back, same lookups; then a simulation uses them via table_file */
TEST(test_table_file_and_policy)
{
    vidur_op_table t[3];
    vidur_table_set set = make_set(t), *loaded = NULL;
    vidur_error err;
    vidur_config c;
    vidur_sim *sim = NULL;
    vidur_stage_time st;
    vidur_batch_shape sh;
    const char *path = "/tmp/vidur_test_tables.vtab";
    FILE *f = fopen(path, "w");
    int i;
    REQUIRE(f != NULL);
    CHECK_EQ_INT(vidur_table_set_write(&set, f), VIDUR_OK);
    fclose(f);
    CHECK_EQ_INT(vidur_table_set_load(path, &loaded, &err), VIDUR_OK);
    REQUIRE(loaded != NULL);
    CHECK_EQ_INT(loaded->num_tables, 3);
    for (i = 0; i < 3; i++) {
        static const double xs[] = {1, 10, 10.5, 100, 150, 200};
        int j;
        CHECK_EQ_INT(loaded->tables[i].op, t[i].op);
        for (j = 0; j < 6; j++) CHECK(vidur_op_table_eval(&loaded->tables[i], xs[j], 600) == vidur_op_table_eval(&t[i], xs[j], 600));
    }
    vidur_table_set_free(loaded);

    /* in a simulation: mlp_up_proj at T8 = 64 is inside the domain -> exactly 2.0 ms */
    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_set(&c, "random_forrest_execution_time_predictor_config_table_file", path, &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "metrics_config_write_metrics", "false", &err), VIDUR_OK);
    c.log_fn = count_warn;
    REQUIRE(vidur_sim_create(&c, &sim, &err) == VIDUR_OK);
    CHECK_STR_EQ(vidur_sim_op_source(sim, VIDUR_OP_MLP_UP_PROJ), "random_forest");
    CHECK_STR_EQ(vidur_sim_op_source(sim, VIDUR_OP_MLP_ACT), "roofline");
    memset(&sh, 0, sizeof sh);
    sh.total_tokens = sh.total_tokens_ceil8 = 64;
    sh.num_decode = 2;
    sh.decode_kv = 1024;
    sh.num_requests = 2;
    vidur_sim_stage_time(sim, &sh, 0, &st);
    CHECK_NEAR(st.op_ms[VIDUR_OP_MLP_UP_PROJ], 2.0, 0);
    CHECK_NEAR(st.op_ms[VIDUR_OP_ATTN_DECODE], 0.2f, 0); /* MHA model: no batching overhead */
    CHECK_NEAR(st.op_ms[VIDUR_OP_MLP_DOWN_PROJ], 0.5 + 2 * 0.64, 1e-12);
    CHECK_EQ_INT(warnings, 0);
    /* out of range (x = 400 > xmax = 200): the edge value 3.0 scaled by the roofline's growth */
    sh.total_tokens = sh.total_tokens_ceil8 = 400;
    vidur_sim_stage_time(sim, &sh, 0, &st);
    {
        vidur_roofline r;
        double edge, key;
        memset(&r, 0, sizeof r);
        r.model = *vidur_find_model(NULL, "meta-llama/Llama-2-7b-hf");
        r.device = *vidur_find_device(NULL, "a100");
        r.node = *vidur_find_node(NULL, "a100_pairwise_nvlink");
        r.tp = r.pp = 1;
        r.p = c.roofline;
        edge = vidur_roofline_op_time_ms(&r, VIDUR_OP_MLP_UP_PROJ, 200, 0);
        key = vidur_roofline_op_time_ms(&r, VIDUR_OP_MLP_UP_PROJ, 400, 0);
        CHECK(key > edge);
        CHECK_NEAR(st.op_ms[VIDUR_OP_MLP_UP_PROJ], 3.0 * key / edge, 1e-12);
    }
    CHECK_EQ_INT(warnings, 1);
    CHECK_CONTAINS(last_warning, "mlp_up_proj");
    vidur_sim_stage_time(sim, &sh, 0, &st);
    CHECK_EQ_INT(warnings, 1); /* once per operator */
    /* below the domain: the forest's edge cell, no warning */
    sh.total_tokens = sh.total_tokens_ceil8 = 1;
    vidur_sim_stage_time(sim, &sh, 0, &st);
    CHECK_NEAR(st.op_ms[VIDUR_OP_MLP_UP_PROJ], 1.0, 0);
    CHECK_EQ_INT(warnings, 1);
    vidur_sim_destroy(sim);
    /* the roofline type ignores tables */
    CHECK_EQ_INT(vidur_config_set(&c, "execution_time_predictor_config_type", "roofline", &err), VIDUR_OK);
    REQUIRE(vidur_sim_create(&c, &sim, &err) == VIDUR_OK);
    CHECK_STR_EQ(vidur_sim_op_source(sim, VIDUR_OP_MLP_UP_PROJ), "roofline");
    vidur_sim_destroy(sim);
    remove(path);
}

static void expect_bad_file(const char *name, const char *text, const char *needle)
{
    const char *path = "/tmp/vidur_test_bad.vtab";
    FILE *f = fopen(path, "w");
    vidur_table_set *set = NULL;
    vidur_error err;
    if (!f) { CHECK(0); return; }
    fputs(text, f);
    fclose(f);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_table_set_load(path, &set, &err), VIDUR_ERR_PARSE);
    CHECK(set == NULL);
    if (!strstr(err.message, needle)) printf("  (%s) message: %s\n", name, err.message);
    CHECK_CONTAINS(err.message, needle);
    remove(path);
}

TEST(test_bad_table_files)
{
    vidur_table_set *set = NULL;
    vidur_error err;
    CHECK(vidur_table_set_load("/nonexistent/t.vtab", &set, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "/nonexistent/t.vtab");
    expect_bad_file("header", "hello 1\n", ":1: not a vidur table file");
    expect_bad_file("op", "vidur-tables 1\ntable op=nope predictor=random_forest kind=grid device=a model=b node=- tp=1 xmin=0 xmax=1 ymin=0 ymax=0 nx=0 ny=0\nv 1\n", ":2: field 'op'");
    expect_bad_file("count", "vidur-tables 1\ntable op=add predictor=random_forest kind=grid device=a model=b node=- tp=1 xmin=0 xmax=1 ymin=0 ymax=0 nx=1 ny=0\nx 5\nv 1\n", ":4: 'v' needs 2 numbers");
    expect_bad_file("number", "vidur-tables 1\ntable op=add predictor=random_forest kind=grid device=a model=b node=- tp=1 xmin=0 xmax=1 ymin=0 ymax=0 nx=1 ny=0\nx abc\n", ":3: 'abc' is not a number");
    expect_bad_file("order", "vidur-tables 1\ntable op=add predictor=random_forest kind=grid device=a model=b node=- tp=1 xmin=0 xmax=1 ymin=0 ymax=0 nx=2 ny=0\nx 5 3\n", ":3: thresholds must be strictly ascending");
    expect_bad_file("missing", "vidur-tables 1\ntable op=add predictor=random_forest kind=grid device=a model=b node=- xmin=0 xmax=1 ymin=0 ymax=0 nx=0 ny=0\n", ":2: field 'tp'");
    expect_bad_file("truncated", "vidur-tables 1\ntable op=add predictor=random_forest kind=grid device=a model=b node=- tp=1 xmin=0 xmax=1 ymin=0 ymax=0 nx=1 ny=0\nx 4\n", "incomplete");
    /* a bad table_file makes vidur_sim_create fail with the file's message */
    {
        vidur_config c;
        vidur_sim *sim = NULL;
        vidur_config_init(&c);
        SET(&c, "random_forrest_execution_time_predictor_config_table_file", "/nonexistent/t.vtab");
        CHECK(vidur_sim_create(&c, &sim, &err) != VIDUR_OK);
        CHECK(sim == NULL);
        CHECK_CONTAINS(err.message, "/nonexistent/t.vtab");
    }
}

/* calibrations: t = scale x ideal roofline + overhead for the named device and operator */
TEST(test_calibration)
{
    vidur_roofline r = test_ideal_roofline_(vidur_find_model(NULL, "meta-llama/Llama-2-7b-hf"), "h100", "h100_dgx", 1);
    vidur_config c;
    double ideal, got;
    vidur_config_init(&c);
    ideal = vidur_roofline_op_time_ms(&r, VIDUR_OP_MLP_UP_PROJ, 1024, 0);
    /* ideal GEMM 1024 x 22016 x 4096 on 1000 TFLOPS (x 10^12 FLOP/s, datasheet TFLOPS; MFU alone
       uses Vidur's 2^40): 2 * 1024 * 22016 * 4096 / 1e15 s = 0.18468 ms,
       memory (2 bytes x (1024*4096 + 4096*22016 + 1024*22016)) / 3352e9 is smaller */
    CHECK_NEAR(ideal, 2.0 * 1024 * 22016 * 4096 / 1e15 * 1e3, 1e-12);
    r.calibrated[VIDUR_OP_MLP_UP_PROJ] = 1;
    r.scale[VIDUR_OP_MLP_UP_PROJ] = 1.5;
    r.overhead_ms[VIDUR_OP_MLP_UP_PROJ] = 0.01;
    r.p = c.roofline; /* calibrated ops ignore the default efficiencies */
    got = vidur_roofline_op_time_ms(&r, VIDUR_OP_MLP_UP_PROJ, 1024, 0);
    CHECK_NEAR(got, 1.5 * ideal + 0.01, 1e-15);
}

/* Explicit head_dim in the roofline: Mistral-Nemo (E 5120, 32 q heads x 128, 8 kv heads) on an
   H100 (1000 TFLOP/s, 3352 GB/s) at efficiency 1, TP 1, T = 1024 tokens.
   attn_pre_proj  = GEMM 1024 x 128*(32+2*8) = 6144 x 5120: 2*1024*6144*5120 / 1e15 s (compute-bound:
                    its bytes 2*(1024*5120 + 5120*6144 + 1024*6144) / 3352e9 are 0.026 ms < 0.064 ms)
   attn_post_proj = GEMM 1024 x 5120 x (128*32 = 4096): 2*1024*5120*4096 / 1e15 s
   attn_decode (8 requests x 1000 context): bytes 4*8*1000*128*8 + 4*8*128*32 = 32,899,072 over
                    3352e9 B/s (memory-bound: 4*8*1000*128*32 FLOPs take 0.00013 ms)
   With Vidur's rule (head_dim 0) the q width would be E = 5120 and every one of these larger. */
TEST(test_head_dim_roofline)
{
    vidur_roofline r;
    vidur_config c;
    vidur_error e;
    vidur_config_init(&c);
    REQUIRE(vidur_config_load_ini_string(&c,
                                         "[model.nemo]\nnum_layers = 40\nnum_q_heads = 32\nnum_kv_heads = 8\n"
                                         "embedding_dim = 5120\nmlp_hidden_dim = 14336\nhead_dim = 128\n",
                                         "nemo.ini", &e) == VIDUR_OK);
    r = test_ideal_roofline_(vidur_find_model(&c, "nemo"), "h100", "h100_dgx", 1);
    CHECK_NEAR(vidur_roofline_op_time_ms(&r, VIDUR_OP_ATTN_PRE_PROJ, 1024, 0), 2.0 * 1024 * 6144 * 5120 / 1e15 * 1e3, 1e-12);
    CHECK_NEAR(vidur_roofline_op_time_ms(&r, VIDUR_OP_ATTN_POST_PROJ, 1024, 0), 2.0 * 1024 * 5120 * 4096 / 1e15 * 1e3, 1e-12);
    CHECK_NEAR(vidur_roofline_op_time_ms(&r, VIDUR_OP_ATTN_DECODE, 8, 1000), 32899072.0 / 3352e9 * 1e3, 1e-12);
    r.model.head_dim = 0; /* 5120 / 32 = 160 per head: a larger q projection */
    CHECK(vidur_roofline_op_time_ms(&r, VIDUR_OP_ATTN_POST_PROJ, 1024, 0) > 2.0 * 1024 * 5120 * 5120 / 1e15 * 1e3 - 1e-12);
}

/* A predictor plug-in (issue 15 item 5): "scaled" multiplies the built-in predictor's times by
   its key `scale`, so every stage time is exactly scale x the built-in's (TP 1, PP 1: no
   all-reduce and no CPU overhead, so a stage is a sum of operator times); the simulation runs
   on it, names it as every operator's source, creates it once and destroys it once; a create()
   that fails, or says why with vidur_sim_fail, fails vidur_sim_create; a plug-in without
   create() is used with its own state; config.json names it and writes its key. */
typedef struct scaled_ { const vidur_predictor_api *builtin; double scale; } scaled_;
static int created_, destroyed_;
static void *scaled_create_(vidur_sim *sim, void *user)
{
    static scaled_ st[4];
    scaled_ *x = &st[created_ % 4];
    const char *v = vidur_config_get(vidur_sim_config(sim), "scaled_execution_time_predictor_config", "scale");
    if (user) { /* the failing variant */
        if (!strcmp((const char *)user, "say why")) vidur_sim_fail(sim, VIDUR_ERR_IO, "scaled: no measurements for this GPU");
        return NULL;
    }
    created_++;
    x->builtin = vidur_sim_builtin_predictor(sim);
    x->scale = v ? atof(v) : 1;
    return x;
}
static void scaled_destroy_(void *state) { (void)state; destroyed_++; }
static double scaled_op_(void *state, int op, int64_t k1, int64_t k2)
{
    const scaled_ *x = (const scaled_ *)state;
    return x->scale * x->builtin->op_time_ms(x->builtin->state, op, k1, k2);
}
static double flat_op_(void *state, int op, int64_t k1, int64_t k2) { (void)op; (void)k1; (void)k2; return *(const double *)state; }

static void plugin_config_(vidur_config *c, const vidur_predictor_plugin *api, const char *type)
{
    vidur_error err;
    vidur_config_init(c);
    CHECK_EQ_INT(vidur_config_add_predictor(c, api, &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_add_key(c, "scaled_execution_time_predictor_config", "scale", VIDUR_T_DOUBLE, "1", "factor", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(c, "scaled_execution_time_predictor_config_scale", "2.5", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(c, "synthetic_request_generator_config_num_requests", "50", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(c, "execution_time_predictor_config_type", type, &err), VIDUR_OK);
}

TEST(test_predictor_plugin)
{
    static const vidur_predictor_plugin scaled = {{"scaled", scaled_op_, NULL}, scaled_create_, scaled_destroy_, NULL};
    static const vidur_predictor_plugin fails = {{"scaled", scaled_op_, NULL}, scaled_create_, scaled_destroy_, (void *)"fail"};
    static const vidur_predictor_plugin says = {{"scaled", scaled_op_, NULL}, scaled_create_, scaled_destroy_, (void *)"say why"};
    static const double three_ms = 3.0;
    static const vidur_predictor_plugin flat = {{"scaled", flat_op_, (void *)&three_ms}, NULL, NULL, NULL};
    vidur_config c;
    vidur_error err;
    vidur_sim *base, *sim;
    vidur_batch_shape shape;
    vidur_stage_time tb, tp;
    vidur_engine_params ep;
    int op;
    FILE *f;
    char *js;
    memset(&shape, 0, sizeof shape);
    shape.total_tokens = 300;
    shape.total_tokens_ceil8 = 304;
    shape.num_requests = 5;
    shape.num_decode = 4;
    shape.decode_kv = 512;
    shape.num_prefill = 1;
    shape.prefill_kv = 0;
    shape.prefill_chunk = 296;
    plugin_config_(&c, &scaled, "random_forrest");
    REQUIRE(vidur_sim_create(&c, &base, &err) == VIDUR_OK);
    CHECK_EQ_INT(created_, 0); /* registered, not selected: never created */
    plugin_config_(&c, &scaled, "scaled");
    REQUIRE(vidur_sim_create(&c, &sim, &err) == VIDUR_OK);
    CHECK_EQ_INT(created_, 1);
    vidur_sim_stage_time(base, &shape, 0, &tb);
    vidur_sim_stage_time(sim, &shape, 0, &tp);
    CHECK(tb.total_time > 0);
    CHECK_NEAR(tp.total_time, 2.5 * tb.total_time, 1e-12 * tb.total_time);
    for (op = 0; op < VIDUR_OP_COUNT; op++) {
        CHECK_STR_EQ(vidur_sim_op_source(sim, op), "scaled");
        CHECK_NEAR(tp.op_ms[op], 2.5 * tb.op_ms[op], 1e-12 * tb.op_ms[op]);
    }
    CHECK(strcmp(vidur_sim_op_source(base, VIDUR_OP_MLP_UP_PROJ), "scaled") != 0);
    /* the built-in predictor stays the simulation's own tables and roofline */
    CHECK(vidur_sim_builtin_predictor(sim)->op_time_ms(vidur_sim_builtin_predictor(sim)->state, VIDUR_OP_MLP_UP_PROJ, 256, 0) ==
          vidur_sim_builtin_predictor(base)->op_time_ms(vidur_sim_builtin_predictor(base)->state, VIDUR_OP_MLP_UP_PROJ, 256, 0));
    CHECK_EQ_INT(vidur_sim_run(sim), VIDUR_OK);
    CHECK_EQ_INT(vidur_sim_run(base), VIDUR_OK);
    CHECK_EQ_INT(vidur_sim_summary(sim)->num_completed, 50);
    CHECK(vidur_sim_summary(sim)->metric[VIDUR_METRIC_BATCH_EXECUTION_TIME].max > vidur_sim_summary(base)->metric[VIDUR_METRIC_BATCH_EXECUTION_TIME].max);
    f = tmpfile();
    REQUIRE(f != NULL);
    CHECK_EQ_INT(vidur_config_write_nested_json(vidur_sim_config(sim), NULL, f), VIDUR_OK);
    js = test_slurp_(f);
    fclose(f);
    REQUIRE(js != NULL);
    CHECK_CONTAINS(js, "\"scale\": 2.5,\n        \"name\": \"scaled\"\n    }");
    free(js);
    CHECK_EQ_INT(destroyed_, 0);
    vidur_sim_destroy(sim);
    vidur_sim_destroy(base);
    CHECK_EQ_INT(destroyed_, 1);

    /* create() fails: vidur_sim_create fails, with the plug-in's reason when it gave one */
    plugin_config_(&c, &fails, "scaled");
    sim = (vidur_sim *)&c;
    CHECK_EQ_INT(vidur_sim_create(&c, &sim, &err), VIDUR_ERR_CONFIG);
    CHECK(sim == NULL);
    CHECK_CONTAINS(err.message, "predictor scaled: create() failed");
    plugin_config_(&c, &says, "scaled");
    CHECK_EQ_INT(vidur_sim_create(&c, &sim, &err), VIDUR_ERR_IO);
    CHECK_CONTAINS(err.message, "scaled: no measurements for this GPU");
    CHECK_EQ_INT(destroyed_, 1);

    /* no create(): the plug-in's own state, never destroyed by the simulation */
    plugin_config_(&c, &flat, "scaled");
    REQUIRE(vidur_sim_create(&c, &sim, &err) == VIDUR_OK);
    vidur_sim_stage_time(sim, &shape, 0, &tp);
    CHECK_NEAR(tp.op_ms[VIDUR_OP_ATTN_DECODE], 3.0, 0);
    vidur_sim_destroy(sim);
    CHECK_EQ_INT(destroyed_, 1);

    /* with the engine model on, the plug-in's operators count as measured kernels: the engine
       replaces none of them (the token-wise GEMMs stay 3 ms) and, as for a profiled table,
       scales decode attention in a batch that also prefills (this one) by its mixing factor */
    plugin_config_(&c, &flat, "scaled");
    CHECK_EQ_INT(vidur_config_set(&c, "engine_config_profile", "vllm_v0_15", &err), VIDUR_OK);
    REQUIRE(vidur_sim_create(&c, &sim, &err) == VIDUR_OK);
    vidur_sim_stage_time(sim, &shape, 0, &tp);
    vidur_engine_resolve(&c, &ep);
    CHECK(ep.mixed_decode_attention_factor > 1);
    CHECK_NEAR(tp.op_ms[VIDUR_OP_ATTN_DECODE], 3.0 * ep.mixed_decode_attention_factor, 1e-12);
    CHECK_NEAR(tp.op_ms[VIDUR_OP_MLP_UP_PROJ], 3.0, 0);
    CHECK_STR_EQ(vidur_sim_op_source(sim, VIDUR_OP_ATTN_DECODE), "scaled");
    CHECK_STR_EQ(vidur_sim_op_source(sim, VIDUR_OP_MLP_UP_PROJ), "scaled");
    vidur_sim_destroy(sim);
}

int main(void)
{
    RUN_TEST(test_batch_keys);
    RUN_TEST(test_stage_formula);
    RUN_TEST(test_table_eval);
    RUN_TEST(test_table_file_and_policy);
    RUN_TEST(test_bad_table_files);
    RUN_TEST(test_calibration);
    RUN_TEST(test_head_dim_roofline);
    RUN_TEST(test_predictor_plugin);
    return test_finish();
}
