/* test_engine.c - the engine model (--engine_config_profile vllm_v0_15, docs/engine_model.md)
   on hand-computed cases, and the shared_prefix request generator against the validation
   harness's own output.

   The model is a toy with round numbers and runs on the uncalibrated roofline (no tables are
   compiled into the tests): L = 2 layers, 4 heads of 64 (E = 256), F = 512, vocabulary 32000,
   on a device of 100 TFLOP/s and 1000 GB/s. The roofline's efficiencies are Vidur's defaults
   here: compute 0.7, memory 0.8, kernel launch 5 us. Each term of the engine model is switched
   on alone and its effect on one request's TTFT and E2E (or on one operator) is checked against
   the value worked out in the comment. */
#define _POSIX_C_SOURCE 200809L
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *toy_ini =
    "[model.toy]\nnum_layers = 2\nnum_q_heads = 4\nnum_kv_heads = 4\nembedding_dim = 256\nmlp_hidden_dim = 512\n"
    "vocab_size = 32000\nmax_position_embeddings = 4096\nuse_gated_mlp = 1\npost_attn_norm = 1\n"
    "[device.toydev]\nfp16_tflops = 100\ntotal_memory_gb = 16\nmemory_bandwidth_gbps = 1000\n"
    "[node.toynode]\ndevice = toydev\nnum_devices_per_node = 2\nintra_node_bandwidth_gbps = 100\n"
    "inter_node_bandwidth_gbps = 10\nlink_latency_us = 5\n"
    "[replica_config]\nmodel_name = toy\ndevice = toydev\nnetwork_device = toynode\n"
    "[replica_scheduler_config]\ntype = vllm_v1\n"
    "[execution_time_predictor_config]\ntype = roofline\n"
    "[metrics_config]\nwrite_metrics = false\n"
    /* every engine term off: what each test then switches on alone */
    "[engine_config]\nprofile = vllm_v0_15\nfrontend_input_ms = 0\nfrontend_input_us_per_token = 0\nfrontend_output_ms = 0\n"
    "frontend_stream_us_per_token = 0\nasync_scheduling = 0\nstep_overhead_ms = 0\ncpu_step_ms = 0\ncpu_per_request_us = 0\n"
    "gemm_memory_efficiency = 0\ndecode_attention_efficiency = 0\nlayer_overhead_us = 0\ncustom_allreduce_max_kib = 0\n"
    "custom_allreduce_latency_us = 0\ncustom_allreduce_bus_efficiency = 1\nlm_head = 0\nreserve_full_prompt = 0\n"
    "preallocate_tokens = 64\nmixed_decode_attention_factor = 0\n"; /* 64: Vidur's (the fork's) cache_config_num_preallocate_tokens */

/* per process: the plain and the sanitized build may run at the same time */
static char trace_path[64];

typedef struct result {
    double ttft[4], e2e[4]; /* seconds, client side */
    int64_t first_batch[4]; /* id of the first batch that holds the request */
    double kv0;             /* KV usage (%) once batch 0 is formed */
    int n;
} result;

static void on_sched(void *user, vidur_sim *sim, const vidur_replica *r, const vidur_batch *b)
{
    result *res = (result *)user;
    int i;
    (void)sim;
    if (b->id == 0) res->kv0 = vidur_replica_kv_usage_percent(r);
    for (i = 0; i < b->size; i++) {
        int64_t id = b->requests[i]->id;
        if (id < 4 && res->first_batch[id] < 0) res->first_batch[id] = b->id;
    }
}

static void on_done(void *user, vidur_sim *sim, const vidur_request *q)
{
    result *res = (result *)user;
    (void)sim;
    if (q->id >= 4) return;
    res->ttft[q->id] = q->client_first_token_at - q->client_arrived_at;
    res->e2e[q->id] = q->client_last_token_at - q->client_arrived_at;
    res->n++;
}

static const char *trace_header = "arrived_at,num_prefill_tokens,num_decode_tokens\n";

static int write_trace(const char *rows)
{
    FILE *f = fopen(trace_path, "w");
    if (!f) return 0;
    fputs(trace_header, f);
    fputs(rows, f);
    fclose(f);
    return 1;
}

/* the toy configuration plus `extra` (INI text), replaying `rows` */
static int run(const char *extra, const char *rows, result *res)
{
    vidur_config c;
    vidur_error err;
    vidur_sim *sim = NULL;
    int ok;
    memset(res, 0, sizeof *res);
    res->first_batch[0] = res->first_batch[1] = res->first_batch[2] = res->first_batch[3] = -1;
    vidur_config_init(&c);
    if (!write_trace(rows)) return 0;
    if (vidur_config_load_ini_string(&c, toy_ini, "toy", &err) || vidur_config_load_ini_string(&c, extra, "extra", &err) ||
        vidur_config_set(&c, "request_generator_config_type", "trace_replay", &err) ||
        vidur_config_set(&c, "trace_request_generator_config_trace_file", trace_path, &err)) {
        printf("config: %s\n", err.message);
        return 0;
    }
    c.observer.on_batch_scheduled = on_sched;
    c.observer.on_request_complete = on_done;
    c.observer.user = res;
    ok = vidur_sim_create(&c, &sim, &err) == VIDUR_OK;
    if (!ok) printf("create: %s\n", err.message);
    if (ok) ok = vidur_sim_run(sim) == VIDUR_OK;
    vidur_sim_destroy(sim);
    return ok;
}

/* one request of P = 100 prompt tokens and D = 4 output tokens at t = 0 */
static const char *one = "0,100,4\n";

/* back to Vidur's model: the profile, and every key the toy set returned to "the profile's value" */
static const char *vidur_model =
    "[engine_config]\nprofile = vidur\nfrontend_input_ms = -1\nfrontend_input_us_per_token = -1\nfrontend_output_ms = -1\n"
    "frontend_stream_us_per_token = -1\nasync_scheduling = -1\nstep_overhead_ms = -1\ncpu_step_ms = -1\ncpu_per_request_us = -1\n"
    "gemm_memory_efficiency = -1\ndecode_attention_efficiency = -1\nlayer_overhead_us = -1\ncustom_allreduce_max_kib = -1\n"
    "custom_allreduce_latency_us = -1\ncustom_allreduce_bus_efficiency = -1\nlm_head = -1\nreserve_full_prompt = -1\n"
    "preallocate_tokens = -1\nmixed_decode_attention_factor = -1\n";

/* the single request's TTFT and E2E with `extra` minus those of `base`: dttft and de2e (s) */
#define CHECK_DELTA(base, extra, dttft, de2e)                                      \
    do {                                                                           \
        result r_;                                                                 \
        REQUIRE(run(extra, one, &r_));                                             \
        CHECK_NEAR(r_.ttft[0] - (base).ttft[0], dttft, 1e-12);                     \
        CHECK_NEAR(r_.e2e[0] - (base).e2e[0], de2e, 1e-12);                        \
    } while (0)

TEST(test_all_terms_off_is_vidur)
{
    /* with every term off (and TP 1: no all-reduce) the engine model composes Vidur's operator
       times exactly: the same TTFT and E2E to the last bit */
    result a, b;
    REQUIRE(run("", one, &a) && a.n == 1);
    REQUIRE(run(vidur_model, one, &b) && b.n == 1);
    CHECK(a.ttft[0] == b.ttft[0]);
    CHECK(a.e2e[0] == b.e2e[0]);
    CHECK(a.ttft[0] > 0 && a.e2e[0] > a.ttft[0]);
}

TEST(test_frontend_terms)
{
    result base;
    REQUIRE(run("", one, &base));
    /* arrival -> engine: 5 ms later into the engine, so 5 ms more on both */
    CHECK_DELTA(base, "[engine_config]\nfrontend_input_ms = 5\n", 0.005, 0.005);
    /* tokenisation: 100 prompt tokens x 2 us = 200 us */
    CHECK_DELTA(base, "[engine_config]\nfrontend_input_us_per_token = 2\n", 200e-6, 200e-6);
    /* first token -> client and last token -> client: 3 ms each */
    CHECK_DELTA(base, "[engine_config]\nfrontend_output_ms = 3\n", 0.003, 0.003);
    /* streaming: each iteration carries one token (one request): 50 us before the client has it;
       the front-end is idle again long before the next iteration ends, so nothing accumulates */
    CHECK_DELTA(base, "[engine_config]\nfrontend_stream_us_per_token = 50\n", 50e-6, 50e-6);
}

TEST(test_frontend_stream_queue)
{
    /* three requests arrive together; their prefills share iteration 0, so its three tokens
       reach the clients after 3 x 1 ms of front-end work: TTFT grows by 3 ms for all three */
    result base, r;
    const char *three = "0,100,2\n0,100,2\n0,100,2\n";
    REQUIRE(run("", three, &base) && base.n == 3);
    REQUIRE(run("[engine_config]\nfrontend_stream_us_per_token = 1000\n", three, &r) && r.n == 3);
    CHECK_NEAR(r.ttft[0] - base.ttft[0], 0.003, 1e-12);
    CHECK_NEAR(r.ttft[2] - base.ttft[2], 0.003, 1e-12);
}

TEST(test_iteration_terms)
{
    result base, r;
    REQUIRE(run("", one, &base));
    /* GPU idle per iteration: D = 4 iterations (the prefill and 3 decodes): TTFT + 1 ms, E2E + 4 ms */
    CHECK_DELTA(base, "[engine_config]\nstep_overhead_ms = 1\n", 0.001, 0.004);
    /* CPU per iteration without async scheduling: 2 ms + 1 request x 100 us = 2.1 ms each */
    CHECK_DELTA(base, "[engine_config]\ncpu_step_ms = 2\ncpu_per_request_us = 100\n", 0.0021, 4 * 0.0021);
    /* with async scheduling the CPU overlaps the GPU: the toy's iterations take far less than
       2.1 ms of GPU time, so the CPU sets the pace: every iteration lasts exactly 2.1 ms */
    REQUIRE(base.ttft[0] < 0.0021);
    REQUIRE(run("[engine_config]\ncpu_step_ms = 2\ncpu_per_request_us = 100\nasync_scheduling = 1\n", one, &r));
    CHECK_NEAR(r.ttft[0], 0.0021, 1e-12);
    CHECK_NEAR(r.e2e[0], 4 * 0.0021, 1e-12);
}

/* GEMM of m tokens x (n x k) on the toy device: max(2mnk / (100e12 x 0.7), 2(mk + kn + mn) / (1000e9 x eff)) */
static double gemm_s(double m, double n, double k, double eff)
{
    double tc = 2 * m * n * k / (100e12 * 0.7), tm = 2 * (m * k + k * n + m * n) / (1000e9 * eff);
    return tc > tm ? tc : tm;
}

TEST(test_lm_head_and_layer_overhead)
{
    /* both need the engine's GEMM model on (gemm_memory_efficiency > 0); compared with it alone */
    result base;
    double lm1 = gemm_s(1, 32000, 256, 0.5); /* one sampled token x (32000 x 256): 16.4 MB at 500 GB/s = 32.8 us */
    REQUIRE(run("[engine_config]\ngemm_memory_efficiency = 0.5\n", one, &base));
    CHECK_DELTA(base, "[engine_config]\ngemm_memory_efficiency = 0.5\nlm_head = 1\n", lm1, 4 * lm1);
    CHECK_NEAR(lm1, 2.0 * (256 + 256 * 32000 + 32000) / 500e9, 1e-15);
    /* 10 us per layer, 2 layers, every iteration */
    CHECK_DELTA(base, "[engine_config]\ngemm_memory_efficiency = 0.5\nlayer_overhead_us = 10\n", 20e-6, 4 * 20e-6);
}

/* a decode-only batch of n requests with `ctx` tokens of context, on a sim with `extra` */
/* the same with one more request prefilling `prefill` tokens (0: none) */
static int mixed_stage(const char *extra, int n, int ctx, int prefill, int tp, vidur_stage_time *tm)
{
    vidur_config c;
    vidur_error err;
    vidur_sim *sim = NULL;
    vidur_request q[8];
    vidur_batch b;
    vidur_batch_shape sh;
    int i, ok;
    char v[8];
    vidur_config_init(&c);
    snprintf(v, sizeof v, "%d", tp);
    if (vidur_config_load_ini_string(&c, toy_ini, "toy", &err) || vidur_config_load_ini_string(&c, extra, "extra", &err) ||
        vidur_config_set(&c, "replica_config_tensor_parallel_size", v, &err)) {
        printf("config: %s\n", err.message);
        return 0;
    }
    if (vidur_sim_create(&c, &sim, &err)) {
        printf("create: %s\n", err.message);
        return 0;
    }
    memset(&b, 0, sizeof b);
    memset(q, 0, sizeof q);
    for (i = 0; i < n; i++) {
        q[i].is_prefill_complete = 1;
        q[i].num_processed_tokens = ctx;
        q[i].num_prefill_tokens = ctx;
        q[i].num_decode_tokens = 100;
        q[i].num_allocated = -1;
    }
    ok = 1;
    for (i = 0; i < n && ok; i++) ok = vidur_batch_add(&b, &q[i], 1);
    if (prefill > 0 && ok) {
        q[n].num_prefill_tokens = prefill;
        q[n].num_decode_tokens = 100;
        q[n].num_allocated = -1;
        ok = vidur_batch_add(&b, &q[n], prefill);
    }
    if (ok) {
        vidur_batch_shape_compute(&b, 64, &sh);
        vidur_sim_stage_time(sim, &sh, 0, tm);
    }
    VIDUR_FREE(b.requests);
    VIDUR_FREE(b.num_tokens);
    vidur_sim_destroy(sim);
    return ok;
}

static int decode_stage(const char *extra, int n, int ctx, int tp, vidur_stage_time *tm)
{
    return mixed_stage(extra, n, ctx, 0, tp, tm);
}

TEST(test_decode_attention)
{
    /* 3 requests x 128 tokens of context (a multiple of 64: the key is exact); per layer K and V
       of 3 x 128 tokens x 4 heads x 64 x 2 bytes, twice, plus q in and the output out:
       2 x 2 x 3 x 128 x 64 x 4 + 2 x 2 x 3 x 64 x 4 = 396,288 bytes at 1000 GB/s x 0.5 */
    vidur_stage_time tm;
    REQUIRE(decode_stage("[engine_config]\ndecode_attention_efficiency = 0.5\n", 3, 128, 1, &tm));
    CHECK_NEAR(tm.op_ms[VIDUR_OP_ATTN_DECODE], 396288.0 / 500e9 * 1e3, 1e-12);
}

TEST(test_mixed_decode_attention)
{
    /* the 3 decodes of test_decode_attention (396,288 bytes at 500 GB/s) beside a 64-token
       prefill: one varlen kernel, decode part x 1.5; alone, or with the factor off, unchanged */
    vidur_stage_time tm, off;
    double dec = 396288.0 / 500e9 * 1e3;
    REQUIRE(mixed_stage("[engine_config]\ndecode_attention_efficiency = 0.5\nmixed_decode_attention_factor = 1.5\n", 3, 128, 64, 1, &tm));
    CHECK_NEAR(tm.op_ms[VIDUR_OP_ATTN_DECODE], 1.5 * dec, 1e-12);
    REQUIRE(mixed_stage("[engine_config]\ndecode_attention_efficiency = 0.5\nmixed_decode_attention_factor = 0\n", 3, 128, 64, 1, &off));
    CHECK_NEAR(off.op_ms[VIDUR_OP_ATTN_DECODE], dec, 1e-12);
    CHECK(off.op_ms[VIDUR_OP_ATTN_PREFILL] > 0);
    CHECK_NEAR(tm.op_ms[VIDUR_OP_ATTN_PREFILL], off.op_ms[VIDUR_OP_ATTN_PREFILL], 0);
    /* 2 layers, each 0.5 x dec longer */
    CHECK_NEAR(tm.model_time - off.model_time, 2 * 0.5 * dec * 1e-3, 1e-15);
    REQUIRE(decode_stage("[engine_config]\ndecode_attention_efficiency = 0.5\nmixed_decode_attention_factor = 1.5\n", 3, 128, 1, &tm));
    CHECK_NEAR(tm.op_ms[VIDUR_OP_ATTN_DECODE], dec, 1e-12);
}

TEST(test_engine_fp8_kv_and_moe)
{
    /* An FP8 KV cache halves the K and V bytes of decode attention (q in and the output out stay
       16-bit): 2 x 1 x 3 x 128 x 64 x 4 + 2 x 2 x 3 x 64 x 4 = 199,680 bytes at 500 GB/s */
    vidur_stage_time tm;
    double attn, moe, add;
    int i;
    REQUIRE(decode_stage("[model.toy]\nkv_cache_dtype = fp8\n[engine_config]\ndecode_attention_efficiency = 0.5\n", 3, 128, 1, &tm));
    CHECK_NEAR(tm.op_ms[VIDUR_OP_ATTN_DECODE], 199680.0 / 500e9 * 1e3, 1e-12);
    /* An all-MoE toy (4 experts, top 2): each of the 2 layers is attention + router, experts and
       their activation + add; the dense MLP's operators take no part (they did before: the engine
       composed every layer as dense) */
    REQUIRE(decode_stage("[model.toy]\nnum_experts = 4\nnum_experts_per_tok = 2\n[engine_config]\ndecode_attention_efficiency = 0.5\n",
                         3, 128, 1, &tm));
    CHECK(tm.op_ms[VIDUR_OP_MOE_UP_PROJ] > 0);
    CHECK(tm.op_ms[VIDUR_OP_MOE_GATE] > 0);
    for (i = VIDUR_OP_MLP_UP_PROJ; i <= VIDUR_OP_MLP_ACT; i++) CHECK_EQ_INT(tm.op_ms[i] == 0, 1);
    attn = tm.op_ms[VIDUR_OP_ATTN_PRE_PROJ] + tm.op_ms[VIDUR_OP_ATTN_POST_PROJ] + tm.op_ms[VIDUR_OP_ATTN_ROPE] +
           tm.op_ms[VIDUR_OP_ATTN_KV_CACHE_SAVE] + tm.op_ms[VIDUR_OP_ATTN_DECODE] + tm.op_ms[VIDUR_OP_INPUT_LAYERNORM];
    moe = tm.op_ms[VIDUR_OP_MOE_GATE] + tm.op_ms[VIDUR_OP_MOE_UP_PROJ] + tm.op_ms[VIDUR_OP_MOE_ACT] + tm.op_ms[VIDUR_OP_MOE_DOWN_PROJ] +
          tm.op_ms[VIDUR_OP_POST_ATTENTION_LAYERNORM];
    add = tm.op_ms[VIDUR_OP_ADD];
    CHECK_NEAR(tm.model_time, 2 * (attn + moe + add) * 1e-3, 1e-15);
}

TEST(test_custom_allreduce)
{
    /* TP 2, 4 decode tokens: a 2 x 4 x 256 = 2,048-byte message. Custom all-reduce: 8 us plus
       2 (2-1)/2 x 2048 bytes over 100 GB/s x 0.5 */
    vidur_stage_time tm, off;
    REQUIRE(decode_stage("[engine_config]\ncustom_allreduce_max_kib = 8\ncustom_allreduce_latency_us = 8\ncustom_allreduce_bus_efficiency = 0.5\n",
                         4, 128, 2, &tm));
    CHECK_NEAR(tm.op_ms[VIDUR_OP_ALL_REDUCE], 0.008 + 2048.0 / 50e9 * 1e3, 1e-12);
    /* a message above custom_allreduce_max_kib (1 KiB): NCCL, here the roofline's ring
       all-reduce at the key ceil8(4) = 8 tokens (4,096 bytes, network efficiency 0.7, 5 us per
       hop), and no CPU launch cost (Vidur adds 20 us to each call) */
    REQUIRE(decode_stage("[engine_config]\ncustom_allreduce_max_kib = 1\n", 4, 128, 2, &tm));
    CHECK_NEAR(tm.op_ms[VIDUR_OP_ALL_REDUCE], 4096.0 / 70e9 * 1e3 + 2 * 5e-3, 1e-12);
    REQUIRE(decode_stage(vidur_model, 4, 128, 2, &off));
    /* Vidur's model: the same all-reduce, plus 2 x 0.02 ms of launch per layer in the stage */
    CHECK_NEAR(off.op_ms[VIDUR_OP_ALL_REDUCE], tm.op_ms[VIDUR_OP_ALL_REDUCE], 1e-15);
    CHECK_NEAR(off.model_time - tm.model_time, 2 * 2 * 0.02e-3, 1e-12);
}

TEST(test_async_admission)
{
    /* A arrives at 0, B 1 us later, while A's prefill (batch 0) runs. Without async scheduling
       B joins batch 1 with A's first decode; with it, batch 1 was formed as batch 0 started, so
       B's prefill waits for batch 2. */
    result r;
    const char *two = "0,100,6\n0.000001,100,6\n";
    REQUIRE(run("", two, &r) && r.n == 2);
    CHECK_EQ_INT(r.first_batch[1], 1);
    REQUIRE(run("[engine_config]\nasync_scheduling = 1\n", two, &r) && r.n == 2);
    CHECK_EQ_INT(r.first_batch[1], 2);
    /* with nothing else to run (A is done after its prefill, D = 1), B need not wait: batch 1 */
    REQUIRE(run("[engine_config]\nasync_scheduling = 1\n", "0,100,1\n0.000001,100,6\n", &r) && r.n == 2);
    CHECK_EQ_INT(r.first_batch[1], 1);
}

/* KV admission on a 10-block cache (16-token blocks), chunks of 64 tokens, async off:
   A = (P 32, D 2) and B = (P 144, D 2) arrive together. A's prompt is blocks 1-2 of the
   trace's hashes (its output block 3); B's prompt is 9 blocks, its first two A's when
   `shared`. Returns B's first batch and the KV usage once batch 0 is formed. */
static int kv_case(const char *extra, int shared, int64_t *b_first, double *kv0)
{
    result r;
    char ini[1024];
    const char *rows = shared ? "0,32,2,\"[1, 2, 3]\"\n0,144,2,\"[1, 2, 10, 11, 12, 13, 14, 15, 16, 17]\"\n"
                              : "0,32,2,\"[1, 2, 3]\"\n0,144,2,\"[20, 21, 22, 23, 24, 25, 26, 27, 28, 29]\"\n";
    int ok;
    snprintf(ini, sizeof ini,
             "[cache_config]\nnum_blocks = 10\nenable_prefix_caching = true\n[vllm_v1_scheduler_config]\nchunk_size = 64\n%s", extra);
    trace_header = "arrived_at,num_prefill_tokens,num_decode_tokens,block_hash_ids\n";
    ok = run(ini, rows, &r);
    trace_header = "arrived_at,num_prefill_tokens,num_decode_tokens\n";
    if (!ok || r.n != 2) return 0;
    *b_first = r.first_batch[1];
    *kv0 = r.kv0;
    return 1;
}

TEST(test_kv_admission)
{
    int64_t bf;
    double kv;
    /* first chunk only (vLLM 0.15), no blocks ahead: batch 0 takes A's 32 tokens (2 blocks) and
       B's first 32 (budget 64 - 32; 2 blocks): B runs from batch 0, 4 of 10 blocks held */
    REQUIRE(kv_case("[engine_config]\nreserve_full_prompt = 0\npreallocate_tokens = 0\n", 0, &bf, &kv));
    CHECK_EQ_INT(bf, 0);
    CHECK_NEAR(kv, 40, 1e-9);
    /* the whole prompt (vLLM 0.19): after A's 2 blocks, 8 are free and B needs 9 -> B waits.
       Batch 1: A's last token (34 tokens: a 3rd block, 7 free) -> B still waits. A ends and frees
       its 3 blocks (cached, ref 0: free again): B (9 <= 10) joins batch 2 */
    REQUIRE(kv_case("[engine_config]\nreserve_full_prompt = 1\npreallocate_tokens = 0\n", 0, &bf, &kv));
    CHECK_EQ_INT(bf, 2);
    CHECK_NEAR(kv, 20, 1e-9);
    /* B's first 2 blocks are A's (prefix cache, held by A): it needs 9 - 2 = 7 <= 8 free: batch 0 */
    REQUIRE(kv_case("[engine_config]\nreserve_full_prompt = 1\npreallocate_tokens = 0\n", 1, &bf, &kv));
    CHECK_EQ_INT(bf, 0);
    CHECK_NEAR(kv, 40, 1e-9); /* A 2 blocks + B 2 fresh (tokens 32-63), its 2 hits shared */
    /* 64 tokens ahead (4 blocks, the fork's default): A takes 2 + 4 = 6 blocks in batch 0 */
    REQUIRE(kv_case("[engine_config]\nreserve_full_prompt = 1\npreallocate_tokens = 64\n", 0, &bf, &kv));
    CHECK_EQ_INT(bf, 2);
    CHECK_NEAR(kv, 60, 1e-9);
    /* the profile's values: whole prompt, nothing ahead (the second case) */
    REQUIRE(kv_case("[engine_config]\nreserve_full_prompt = -1\npreallocate_tokens = -1\n", 0, &bf, &kv));
    CHECK_EQ_INT(bf, 2);
    CHECK_NEAR(kv, 20, 1e-9);
    /* Vidur's model: cache_config_num_preallocate_tokens (64) and first-chunk admission */
    REQUIRE(kv_case(vidur_model, 0, &bf, &kv));
    CHECK_EQ_INT(bf, 0);
    CHECK_NEAR(kv, 100, 1e-9); /* A 2 + 4 ahead (4 free); B's 2 fresh blocks fit, and 2 + 4 ahead take all 4 */
}

TEST(test_profile_values_and_validation)
{
    vidur_config c;
    vidur_error err;
    vidur_engine_params e;
    vidur_config_init(&c);
    vidur_engine_resolve(&c, &e); /* Vidur's profile: everything off */
    CHECK_STR_EQ(e.profile, "vidur");
    CHECK(e.frontend_input_ms == 0 && e.step_overhead_ms == 0 && e.lm_head == 0 && e.async_scheduling == 0);
    CHECK(!vidur_engine_active(&c));
    /* the engine profile's built-in values; an explicit key wins */
    CHECK(vidur_config_set(&c, "engine_config_profile", "vllm_v0_15", &err) == VIDUR_OK);
    CHECK(vidur_config_set(&c, "engine_config_step_overhead_ms", "0.75", &err) == VIDUR_OK);
    vidur_engine_resolve(&c, &e);
    CHECK(vidur_engine_active(&c));
    CHECK_NEAR(e.frontend_input_ms, VIDUR__V015_FRONTEND_INPUT_MS, 0);
    CHECK_NEAR(e.step_overhead_ms, 0.75, 0);
    CHECK_EQ_INT(e.async_scheduling, 1);
    CHECK_EQ_INT(e.reserve_full_prompt, 1);
    CHECK_EQ_INT(e.preallocate_tokens, 0);
    CHECK_NEAR(e.mixed_decode_attention_factor, VIDUR__V015_MIXED_DECODE_ATTENTION_FACTOR, 0);
    /* an engine key under Vidur's model is an error that names the key */
    vidur_config_init(&c);
    CHECK(vidur_config_set(&c, "engine_config_frontend_output_ms", "2", &err) == VIDUR_OK);
    CHECK(vidur_config_validate(&c, &err) == VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "engine_config_frontend_output_ms");
    CHECK(vidur_config_set(&c, "engine_config_profile", "vllm_v0_16", &err) == VIDUR_OK);
    CHECK(vidur_config_validate(&c, &err) == VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "engine_config_profile");
    CHECK(vidur_config_set(&c, "engine_config_gemm_memory_efficiency", "1.5", &err) != VIDUR_OK); /* out of range */
}

TEST(test_config_json)
{
    /* Vidur's model: no engine section in config.json (as before the engine model); the engine
       profile: its keys and the values in effect */
    vidur_config c;
    vidur_error err;
    FILE *f = tmpfile();
    char *s;
    REQUIRE(f);
    vidur_config_init(&c);
    vidur_config_write_json(&c, f);
    s = test_slurp_(f);
    fclose(f);
    REQUIRE(s);
    CHECK(!strstr(s, "engine_config"));
    CHECK(!strstr(s, "shared_prefix"));
    free(s);
    CHECK(vidur_config_set(&c, "engine_config_profile", "vllm_v0_15", &err) == VIDUR_OK);
    f = tmpfile();
    REQUIRE(f);
    vidur_config_write_json(&c, f);
    s = test_slurp_(f);
    fclose(f);
    REQUIRE(s);
    CHECK_CONTAINS(s, "\"engine_config\": {\n    \"profile\": \"vllm_v0_15\"");
    CHECK_CONTAINS(s, "\"resolved_engine\": {\"profile\": \"vllm_v0_15\", \"frontend_input_ms\": ");
    free(s);
}

/* ---- shared_prefix against ../shared/validation/gen_workload.py -------------------------------
   tests/engine/shared_prefix_fixture.csv was written by the harness's gen_workload.py for a row
   with 2 groups x 3 prompts, system prompt 40, question 90, output 20, prompt_tokens_mean 136.5,
   sd 3.5, 1 BOS token, stages 2x5;1x4, seed crc32("fixture") = 98910446 (its arrivals rounded to
   1 us). The generator must give the same requests: arrivals, lengths, sessions, and the same
   pattern of shared blocks (ids differ, equality must not). */
typedef struct fixture_row {
    double t;
    int P, D, session, nh;
    long long h[32];
} fixture_row;

static int read_fixture(fixture_row *rows, int max)
{
    FILE *f = fopen("tests/engine/shared_prefix_fixture.csv", "r");
    char line[4096];
    int n = 0;
    if (!f) return -1;
    if (!fgets(line, sizeof line, f)) { fclose(f); return -1; }
    while (n < max && fgets(line, sizeof line, f)) {
        fixture_row *r = &rows[n];
        char *p = strchr(line, '[');
        if (sscanf(line, "%lf,%d,%d,%d", &r->t, &r->P, &r->D, &r->session) != 4 || !p) break;
        r->nh = 0;
        p++;
        while (*p && *p != ']' && r->nh < 32) {
            char *end;
            r->h[r->nh++] = strtoll(p, &end, 10);
            p = end;
            while (*p == ',' || *p == ' ') p++;
        }
        n++;
    }
    fclose(f);
    return n;
}

TEST(test_shared_prefix_matches_harness)
{
    fixture_row fx[32];
    long long map_from[512], map_to[512];
    int nmap = 0, n = read_fixture(fx, 32), i = 0, j, k, r, bad = 0;
    vidur_config c;
    vidur_error err;
    vidur_sim *sim = NULL;
    REQUIRE(n == 14);
    vidur_config_init(&c);
    REQUIRE(vidur_config_load_ini_string(&c,
                                         "[request_generator_config]\ntype = shared_prefix\n[shared_prefix_request_generator_config]\n"
                                         "seed = 98910446\nnum_groups = 2\nnum_prompts_per_group = 3\nsystem_prompt_len = 40\n"
                                         "question_len = 90\noutput_len = 20\nprompt_tokens_mean = 136.5\nprompt_tokens_sd = 3.5\n"
                                         "bos_tokens = 1\nstages = 2x5;1x4\n[metrics_config]\nwrite_metrics = false\n",
                                         "sp", &err) == VIDUR_OK);
    REQUIRE(vidur_sim_create(&c, &sim, &err) == VIDUR_OK);
    /* the requests in generation order: the simulator's next arrival before each is handled */
    for (r = 1; r > 0; r = vidur_sim_step(sim)) {
        vidur_request *q = sim->next_arrival;
        if (!q || q->id != i) continue;
        if (i == n) { bad++; break; }
        CHECK_NEAR(q->arrived_at, fx[i].t, 1e-6);
        CHECK_EQ_INT(q->num_prefill_tokens, fx[i].P);
        CHECK_EQ_INT(q->num_decode_tokens, fx[i].D);
        CHECK_EQ_INT(q->session_id, fx[i].session);
        CHECK_EQ_INT(q->num_block_hash_ids, fx[i].nh);
        for (j = 0; j < q->num_block_hash_ids && j < fx[i].nh; j++) { /* a bijection between the two id spaces */
            for (k = 0; k < nmap; k++)
                if (map_from[k] == fx[i].h[j] || map_to[k] == q->block_hash_ids[j]) break;
            if (k == nmap && nmap < 512) {
                map_from[nmap] = fx[i].h[j];
                map_to[nmap++] = q->block_hash_ids[j];
            } else if (k < nmap && (map_from[k] != fx[i].h[j] || map_to[k] != q->block_hash_ids[j])) bad++;
        }
        i++;
    }
    CHECK_EQ_INT(i, n);
    CHECK_EQ_INT(bad, 0);
    vidur_sim_destroy(sim);
    /* stage parsing */
    {
        double rate[4], dur[4];
        CHECK_EQ_INT(vidur_load_stages_parse("2.5x600; 6x600", rate, dur, 4, &err), 2);
        CHECK_NEAR(rate[0] * dur[0] + rate[1] * dur[1], 1500 + 3600, 0);
        CHECK_EQ_INT(vidur_load_stages_parse("5x600,10x600", rate, dur, 4, &err), 2);
        CHECK_EQ_INT(vidur_load_stages_parse("5x", rate, dur, 4, &err), -1);
        CHECK_CONTAINS(err.message, "shared_prefix_request_generator_config_stages");
        CHECK_EQ_INT(vidur_load_stages_parse("0x10", rate, dur, 4, &err), -1);
        CHECK_EQ_INT(vidur_load_stages_parse("1x1;1x1;1x1;1x1;1x1", rate, dur, 4, &err), -1);
    }
}

int main(void)
{
    snprintf(trace_path, sizeof trace_path, "/tmp/vidur_test_engine_%ld.csv", (long)getpid());
    RUN_TEST(test_all_terms_off_is_vidur);
    RUN_TEST(test_frontend_terms);
    RUN_TEST(test_frontend_stream_queue);
    RUN_TEST(test_iteration_terms);
    RUN_TEST(test_lm_head_and_layer_overhead);
    RUN_TEST(test_decode_attention);
    RUN_TEST(test_mixed_decode_attention);
    RUN_TEST(test_engine_fp8_kv_and_moe);
    RUN_TEST(test_custom_allreduce);
    RUN_TEST(test_async_admission);
    RUN_TEST(test_kv_admission);
    RUN_TEST(test_profile_values_and_validation);
    RUN_TEST(test_config_json);
    RUN_TEST(test_shared_prefix_matches_harness);
    remove(trace_path);
    return test_finish();
}
