/* test_moe.c - the mixture-of-experts layer and FP8 in the operator model (docs/models.md), against
   hand-computed roofline times: the MoE operators of Mixtral-8x7B for one batch with and without
   expert parallelism, the stage time of MoE and mixed dense/MoE layers, active experts in decode,
   FP8 GEMMs with and without FP8 tensor cores, the FP8 KV cache, and the operation metrics of an
   MoE run. Every roofline here runs at efficiency 1 with no launch overhead (the ideal roofline),
   so each time is max(FLOPs / peak, bytes / bandwidth). */
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

#define H100_FLOPS 1000e12 /* the roofline reads fp16_tflops x 1e12 */
#define H100_BW 3352e9
#define DGX_LINK 450e9     /* h100_dgx: per GPU, per direction */

static double maxd(double a, double b) { return a > b ? a : b; }

static vidur_roofline ideal(const char *model, const char *device, const char *node, int tp, int ep)
{
    vidur_roofline r = test_ideal_roofline_(vidur_find_model(NULL, model), device, node, tp);
    r.ep = ep;
    return r;
}

static double op(vidur_roofline *r, int o, int64_t t) { return vidur_roofline_op_time_ms(r, o, t, 0); }

/* Mixtral-8x7B (E 4096, 8 experts of F_e 14336, top-2, gated), H100, TP 2, T = 256 tokens.
   Without EP (EP 1): every GPU holds half of each expert (F_l = 7168) and runs all T k = 512 routed
   rows; all 8 experts are active (1 - (1 - 2/8)^256 = 1 - 1e-32).
     moe_gate      GEMM 256 x 8 x 4096 (16-bit): bytes 2 (256*4096 + 4096*8 + 256*8) = 2,166,784
                   -> 0.000646 ms (FLOPs 16.8 M: far below)
     moe_up_proj   FLOPs 2*512*(2*7168)*4096 = 60,129,542,144 -> 0.0601 ms; bytes
                   2 (512*4096 + 8*4096*14336 + 512*14336) = 958,398,464 -> 0.28592 ms (memory-bound)
     moe_act       bytes 2*512*7168*3 = 22,020,096 -> 0.0065692 ms
     moe_down_proj bytes 2 (512*7168 + 8*7168*4096 + 512*4096) = 481,296,384 -> 0.14358 ms
     dispatch, combine: 0 (no EP)
   With EP 2: a GPU holds 4 whole experts (F_l = 14336) and receives T k / 2 = 256 rows.
     moe_up_proj   bytes 2 (256*4096 + 4*4096*28672 + 256*28672) = 956,301,312 -> 0.28529 ms
     moe_act       bytes 2*256*14336*3 = 22,020,096 (the same)
     moe_down_proj bytes 2 (256*14336 + 4*14336*4096 + 256*4096) = 479,199,232 -> 0.14296 ms
     moe_dispatch  each GPU sends (T / 2) x k = 256 rows of 2*4096 bytes, half of them to the other
                   GPU: 256*2*4096*2/2*(1/2) = 1,048,576 B over 450 GB/s + 8 us = 0.0103302 ms
     moe_combine   the same.
   With moe_imbalance_factor 1.5 the busiest GPU gets 384 rows: dispatch 1,572,864 B. */
TEST(test_mixtral_moe_ops)
{
    vidur_roofline r = ideal("mistralai/Mixtral-8x7B-Instruct-v0.1", "h100", "h100_dgx", 2, 1);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_GATE, 256), 2166784.0 / H100_BW * 1e3, 1e-12);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_UP_PROJ, 256), 958398464.0 / H100_BW * 1e3, 1e-12);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_ACT, 256), 22020096.0 / H100_BW * 1e3, 1e-12);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_DOWN_PROJ, 256), 481296384.0 / H100_BW * 1e3, 1e-12);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_SHARED_MLP, 256), 0, 0);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_DISPATCH, 256), 0, 0);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_COMBINE, 256), 0, 0);
    r.ep = 2;
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_UP_PROJ, 256), 956301312.0 / H100_BW * 1e3, 1e-12);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_ACT, 256), 22020096.0 / H100_BW * 1e3, 1e-12);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_DOWN_PROJ, 256), 479199232.0 / H100_BW * 1e3, 1e-12);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_DISPATCH, 256), 1048576.0 / DGX_LINK * 1e3 + 0.008, 1e-12);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_COMBINE, 256), 1048576.0 / DGX_LINK * 1e3 + 0.008, 1e-12);
    r.p.moe_imbalance_factor = 1.5;
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_DISPATCH, 256), 1572864.0 / DGX_LINK * 1e3 + 0.008, 1e-12);
    /* 384 rows: bytes 2 (384*4096 + 4*4096*28672 + 384*28672) */
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_UP_PROJ, 256), 2.0 * (384.0 * 4096 + 4.0 * 4096 * 28672 + 384.0 * 28672) / H100_BW * 1e3, 1e-12);
}

/* Decode reads only the experts that receive tokens: 8 tokens, top-2 of 8 leave an expert idle
   with probability 0.75^8 = 0.100112915, so 8 (1 - 0.100112915) = 7.19909668 experts are read:
   moe_down_proj (TP 2, F_l 7168) bytes 2 (16*7168 + 7.19909668*7168*4096 + 16*4096). */
TEST(test_active_experts_in_decode)
{
    vidur_roofline r = ideal("mistralai/Mixtral-8x7B-Instruct-v0.1", "h100", "h100_dgx", 2, 1);
    double a = 8.0 * (1.0 - pow(0.75, 8));
    CHECK_NEAR(a, 7.19909668, 1e-8);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_DOWN_PROJ, 8), 2.0 * (16.0 * 7168 + a * 7168 * 4096 + 16.0 * 4096) / H100_BW * 1e3, 1e-12);
    /* one token: exactly two experts' weights */
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_DOWN_PROJ, 1), 2.0 * (2.0 * 7168 + 2.0 * 7168 * 4096 + 2.0 * 4096) / H100_BW * 1e3, 1e-12);
}

/* The layer, for one batch through vidur_stage_time_compute with the ideal roofline: 256 prefill
   tokens of one request (chunk 256 after 0) on Mixtral TP 2. A layer is attention + MoE + add
   (+ the two all-reduces with Vidur's 0.02 ms launch cost each); 32 MoE layers:
     EP 1: attn + (gate + up + act + down + 0 + 0) + 2 (all_reduce + 0.02) + norms + add, x 32
     EP 2: the same with EP's up/down and + dispatch + combine. The difference, per layer, is
     (0.28529 - 0.28592) + (0.14296 - 0.14358) + 2 x 0.0103302 ms. */
TEST(test_moe_layer_time)
{
    vidur_roofline r = ideal("mistralai/Mixtral-8x7B-Instruct-v0.1", "h100", "h100_dgx", 2, 1);
    vidur_predictor_api pred = {"roofline", vidur_roofline_op_time_ms, &r};
    vidur_config c;
    vidur_batch_shape s;
    vidur_stage_time t1, t2;
    double attn, moe1, moe2, ar, per_layer;
    vidur_config_init(&c);
    memset(&s, 0, sizeof s);
    s.total_tokens = s.total_tokens_ceil8 = 256;
    s.num_prefill = 1;
    s.prefill_kv = 0;
    s.prefill_chunk = 256;
    vidur_stage_time_compute(&pred, &r.model, &c.roofline, 2, 1, 0, &s, &t1);
    attn = op(&r, VIDUR_OP_ATTN_PRE_PROJ, 256) + op(&r, VIDUR_OP_ATTN_POST_PROJ, 256) + op(&r, VIDUR_OP_ATTN_ROPE, 256) +
           op(&r, VIDUR_OP_ATTN_KV_CACHE_SAVE, 256) + vidur_roofline_op_time_ms(&r, VIDUR_OP_ATTN_PREFILL, 0, 256) +
           op(&r, VIDUR_OP_INPUT_LAYERNORM, 256) + op(&r, VIDUR_OP_POST_ATTENTION_LAYERNORM, 256) + op(&r, VIDUR_OP_ADD, 256);
    ar = 2.0 * (op(&r, VIDUR_OP_ALL_REDUCE, 256) + 0.02);
    moe1 = (2166784.0 + 958398464.0 + 22020096.0 + 481296384.0) / H100_BW * 1e3;
    per_layer = attn + moe1 + ar;
    CHECK_NEAR(t1.model_time, 32 * per_layer * 1e-3, 1e-12);
    CHECK_NEAR(t1.op_ms[VIDUR_OP_MLP_UP_PROJ], 0, 0); /* no dense MLP in Mixtral */
    CHECK_NEAR(t1.op_ms[VIDUR_OP_MOE_UP_PROJ], 958398464.0 / H100_BW * 1e3, 1e-12);
    r.ep = 2;
    vidur_stage_time_compute(&pred, &r.model, &c.roofline, 2, 1, 0, &s, &t2);
    moe2 = (2166784.0 + 956301312.0 + 22020096.0 + 479199232.0) / H100_BW * 1e3 + 2 * (1048576.0 / DGX_LINK * 1e3 + 0.008);
    CHECK_NEAR(t2.model_time, 32 * (attn + moe2 + ar) * 1e-3, 1e-12);
    CHECK_NEAR(t2.model_time - t1.model_time, 32 * (moe2 - moe1) * 1e-3, 1e-12);
    CHECK(t2.model_time > t1.model_time); /* here EP costs its all-to-alls and saves almost nothing */
}

/* Mixed layers: a 4-layer MoE model whose first layer is dense (num_dense_layers 1). The stage
   time is 1 dense block + 3 MoE blocks; with PP 2 each stage holds 1.5 MoE layers. */
TEST(test_mixed_dense_and_moe_layers)
{
    static double fake_ms[VIDUR_OP_COUNT];
    vidur_config c;
    vidur_error e;
    vidur_batch_shape s;
    vidur_stage_time t;
    const vidur_model_spec *m;
    vidur_roofline r;
    vidur_predictor_api pred;
    double dense_block, moe_block;
    vidur_config_init(&c);
    REQUIRE(vidur_config_load_ini_string(&c,
                                         "[model.tiny-moe]\nnum_layers = 4\nnum_q_heads = 8\nnum_kv_heads = 8\nembedding_dim = 1024\n"
                                         "mlp_hidden_dim = 4096\nnum_experts = 4\nnum_experts_per_tok = 2\nmoe_intermediate_size = 1024\n"
                                         "shared_expert_intermediate_size = 512\nnum_dense_layers = 1\n",
                                         "tiny.ini", &e) == VIDUR_OK);
    m = vidur_find_model(&c, "tiny-moe");
    REQUIRE(m != NULL);
    CHECK_EQ_INT(vidur_model_num_moe_layers(m), 3);
    r = ideal("meta-llama/Llama-2-7b-hf", "h100", "h100_dgx", 1, 1);
    r.model = *m;
    pred.name = "roofline";
    pred.op_time_ms = vidur_roofline_op_time_ms;
    pred.state = &r;
    memset(&s, 0, sizeof s);
    s.total_tokens = s.total_tokens_ceil8 = 64;
    s.num_decode = 64;
    s.decode_kv = 128;
    vidur_stage_time_compute(&pred, m, &c.roofline, 1, 1, 0, &s, &t);
    memcpy(fake_ms, t.op_ms, sizeof fake_ms);
    dense_block = fake_ms[VIDUR_OP_ATTN_PRE_PROJ] + fake_ms[VIDUR_OP_ATTN_POST_PROJ] + fake_ms[VIDUR_OP_ATTN_ROPE] +
                  fake_ms[VIDUR_OP_ATTN_KV_CACHE_SAVE] + fake_ms[VIDUR_OP_ATTN_DECODE] + fake_ms[VIDUR_OP_INPUT_LAYERNORM] +
                  fake_ms[VIDUR_OP_POST_ATTENTION_LAYERNORM] + fake_ms[VIDUR_OP_ADD];
    moe_block = dense_block + fake_ms[VIDUR_OP_MOE_GATE] + fake_ms[VIDUR_OP_MOE_UP_PROJ] + fake_ms[VIDUR_OP_MOE_ACT] +
                fake_ms[VIDUR_OP_MOE_DOWN_PROJ] + fake_ms[VIDUR_OP_MOE_SHARED_MLP];
    dense_block += fake_ms[VIDUR_OP_MLP_UP_PROJ] + fake_ms[VIDUR_OP_MLP_DOWN_PROJ] + fake_ms[VIDUR_OP_MLP_ACT];
    CHECK(fake_ms[VIDUR_OP_MLP_UP_PROJ] > 0 && fake_ms[VIDUR_OP_MOE_SHARED_MLP] > 0);
    CHECK_NEAR(t.model_time, (1 * dense_block + 3 * moe_block) * 1e-3, 1e-15);
    /* the shared expert (F_s 512, TP 1): GEMM 64 x 1024 x 1024, act, GEMM 64 x 1024 x 512, memory-bound:
       2 (64*1024 + 1024*1024 + 64*1024) + 2*64*512*3 + 2 (64*512 + 512*1024 + 64*1024) bytes */
    CHECK_NEAR(fake_ms[VIDUR_OP_MOE_SHARED_MLP],
               (2.0 * (65536 + 1048576 + 65536) + 196608 + 2.0 * (32768 + 524288 + 65536)) / H100_BW * 1e3, 1e-12);
    vidur_stage_time_compute(&pred, m, &c.roofline, 1, 2, 1, &s, &t);
    CHECK_NEAR(t.model_time, (0.5 * dense_block + 1.5 * moe_block) * 1e-3, 1e-15);
}

/* FP8: Llama-4-Scout FP8 TP 2, moe_up_proj at T = 4096: FLOPs 2 x 4096 x (2 x 4096) x 5120 =
   343,597,383,680 at the H100's 1979 FP8 TFLOP/s take 0.173622 ms, its bytes 4096*5120 (FP8 input)
   + 16*5120*8192 (FP8 weights of the 16 active experts) + 2*4096*8192 (16-bit output) = 759,169,024
   take 0.226483 ms: still memory-bound, by the experts' weights. On an A100 (no FP8 tensor cores)
   the 16-bit rate, 312 TFLOP/s, gives 1.10127 ms (compute-bound; 16-bit input, 780,140,544 bytes
   over 2039 GB/s take 0.38261 ms). */
TEST(test_fp8_gemms)
{
    vidur_roofline r = ideal("RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic", "h100", "h100_dgx", 2, 1);
    double a = 16.0 * (1.0 - pow(15.0 / 16.0, 4096)); /* 16 */
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_UP_PROJ, 4096),
               maxd(343597383680.0 / 1979e12, (4096.0 * 5120 + a * 5120 * 8192 + 2.0 * 4096 * 8192) / H100_BW) * 1e3, 1e-12);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_UP_PROJ, 4096), 759169024.0 / H100_BW * 1e3, 1e-9);
    /* a dense GEMM: attn_post_proj 4096 x 5120 x (20*128 = 2560) at the FP8 peak (compute-bound):
       2*4096*5120*2560 / 1979e12; bytes 4096*2560 + 2560*5120 + 2*4096*5120 = 65,536,000 */
    CHECK_NEAR(op(&r, VIDUR_OP_ATTN_POST_PROJ, 4096), maxd(2.0 * 4096 * 5120 * 2560 / 1979e12, 65536000.0 / H100_BW) * 1e3, 1e-12);
    r.device = *vidur_find_device(NULL, "a100");
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_UP_PROJ, 4096),
               maxd(343597383680.0 / 312e12, (2.0 * 4096 * 5120 + a * 5120 * 8192 + 2.0 * 4096 * 8192) / 2039e9) * 1e3, 1e-12);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_UP_PROJ, 4096), 343597383680.0 / 312e12 * 1e3, 1e-12);
    /* 16-bit weights: the same model in BF16 reads twice the expert bytes */
    r = ideal("meta-llama/Llama-4-Scout-17B-16E-Instruct", "h100", "h100_dgx", 2, 1);
    CHECK_NEAR(op(&r, VIDUR_OP_MOE_UP_PROJ, 4096), 2.0 * (4096.0 * 5120 + a * 5120 * 8192 + 4096.0 * 8192) / H100_BW * 1e3, 1e-12);
}

/* FP8 KV cache: decode attention reads K and V at 1 byte: 64 sequences x 2048 context, Scout TP 2
   (4 KV heads x 128 per GPU, 20 q heads): bytes 2*1*64*2048*128*4 + 2*2*64*128*20 = 134,873,088
   (16-bit KV: 2*2*64*2048*128*4 + 655,360 = 269,090,816). */
TEST(test_fp8_kv_cache)
{
    vidur_roofline r = ideal("RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic", "h100", "h100_dgx", 2, 1);
    CHECK_NEAR(vidur_roofline_op_time_ms(&r, VIDUR_OP_ATTN_DECODE, 64, 2048), 269090816.0 / H100_BW * 1e3, 1e-12);
    r.model.kv_cache_dtype = VIDUR_DTYPE_FP8;
    CHECK_NEAR(vidur_roofline_op_time_ms(&r, VIDUR_OP_ATTN_DECODE, 64, 2048), 134873088.0 / H100_BW * 1e3, 1e-12);
    /* kv_cache_save: read 16-bit K and V, write FP8: (2 + 1) x 2 x T x 128 x 4 for T = 1000 */
    CHECK_NEAR(op(&r, VIDUR_OP_ATTN_KV_CACHE_SAVE, 1000), 3072000.0 / H100_BW * 1e3, 1e-12);
}

/* A short MoE run through the simulator: operation metrics list the MoE operators, sources name
   their calibration, EP is validated, and the run is deterministic. */
TEST(test_moe_simulation)
{
    vidur_config c;
    vidur_error e;
    vidur_sim *sim = NULL;
    const vidur_summary *sum;
    double first = 0;
    int run;
    for (run = 0; run < 2; run++) {
        vidur_config_init(&c);
        SET(&c, "replica_config_model_name", "mistralai/Mixtral-8x7B-Instruct-v0.1");
        SET(&c, "replica_config_device", "h100");
        SET(&c, "replica_config_network_device", "h100_dgx");
        SET(&c, "replica_config_tensor_parallel_size", "4");
        SET(&c, "replica_config_expert_parallel_size", "2");
        SET(&c, "replica_scheduler_config_type", "vllm_v1");
        SET(&c, "synthetic_request_generator_config_num_requests", "50");
        SET(&c, "metrics_config_write_metrics", "false");
        REQUIRE(vidur_sim_create(&c, &sim, &e) == VIDUR_OK);
        CHECK_STR_EQ(vidur_sim_op_source(sim, VIDUR_OP_MOE_UP_PROJ), "roofline"); /* built without tables */
        CHECK_STR_EQ(vidur_sim_op_source(sim, VIDUR_OP_MOE_DISPATCH), "roofline (no all-to-all profiles)");
        CHECK_EQ_INT(vidur_sim_run(sim), VIDUR_OK);
        sum = vidur_sim_summary(sim);
        CHECK_EQ_INT(sum->num_completed, 50);
        if (run == 0) first = sum->metric[VIDUR_METRIC_REQUEST_E2E_TIME].mean;
        else CHECK_NEAR(sum->metric[VIDUR_METRIC_REQUEST_E2E_TIME].mean, first, 0);
        vidur_sim_destroy(sim);
    }
    /* EP must divide TP and the experts; a dense model has no EP */
    SET(&c, "replica_config_expert_parallel_size", "3");
    CHECK(vidur_sim_create(&c, &sim, &e) != VIDUR_OK);
    CHECK_CONTAINS(e.message, "expert_parallel_size");
    SET(&c, "replica_config_expert_parallel_size", "2");
    SET(&c, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B");
    CHECK(vidur_sim_create(&c, &sim, &e) != VIDUR_OK);
    CHECK_CONTAINS(e.message, "no experts");
}

int main(void)
{
    RUN_TEST(test_mixtral_moe_ops);
    RUN_TEST(test_active_experts_in_decode);
    RUN_TEST(test_moe_layer_time);
    RUN_TEST(test_mixed_dense_and_moe_layers);
    RUN_TEST(test_fp8_gemms);
    RUN_TEST(test_fp8_kv_cache);
    RUN_TEST(test_moe_simulation);
    return test_finish();
}
