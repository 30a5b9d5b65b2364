/* Memory planner (schedulers.md §1, upstream [U] variant) against hand-computed values.

   Notation: E embedding dim, H_q / H_kv heads, hd = E / H_q, F mlp hidden, L layers,
   q_w = H_q / TP, kv_w = ceil(H_kv / TP), L_s = L / PP, M = max tokens, B = block size.
     params_layer = E*hd*(q_w + 2*kv_w) + E*hd*q_w + (3*E*F) // TP      (gated MLP: k = 3)
     param_bytes  = 2 * params_layer * L_s
     available    = mem_gb * 2^30 * (1 - margin)
     kv/request   = 2*2*hd*kv_w*M*L                                     (full L)
     max_batch    = floor((available - param_bytes) / kv)
     slots        = max_batch * PP
     num_blocks   = (M // B) * slots
   Every expected number below was worked out by hand from the model and device tables
   (execution_time.md §8, §9); the arithmetic is in the comments. */
#include "vidur.h"
#include "test.h"

/* 80 GiB * 0.9 = 85,899,345,920 * 0.9 = 77,309,411,328 (A100 and H100) */
#define AVAIL_80GB 77309411328.0

static vidur_config cfg;

static int plan(const char *model, const char *device, int tp, int pp, double margin, int64_t M, int B,
                vidur_memory_plan *out, vidur_error *err)
{
    const vidur_model_spec *m = vidur_find_model(&cfg, model);
    const vidur_device_spec *d = vidur_find_device(&cfg, device);
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    if (!CHECK(m != NULL) || !CHECK(d != NULL)) return -1;
    return (int)vidur_memory_plan_compute(m, d, tp, pp, margin, M, B, out, err);
}

TEST(test_tables)
{
    const vidur_model_spec *m = vidur_find_model(&cfg, "meta-llama/Llama-2-70b-hf");
    const vidur_device_spec *d;
    REQUIRE(m != NULL);
    CHECK_EQ_INT(m->num_layers, 80);
    CHECK_EQ_INT(m->num_q_heads, 64);
    CHECK_EQ_INT(m->num_kv_heads, 8);
    CHECK_EQ_INT(m->embedding_dim, 8192);
    CHECK_EQ_INT(m->mlp_hidden_dim, 28672);
    CHECK(m->use_gated_mlp);
    m = vidur_find_model(&cfg, "codellama/CodeLlama-34b-Instruct-hf");
    REQUIRE(m != NULL);
    CHECK_EQ_INT(m->num_layers, 48);
    CHECK_EQ_INT(m->mlp_hidden_dim, 22016);
    m = vidur_find_model(&cfg, "microsoft/phi-2");
    REQUIRE(m != NULL);
    CHECK(!m->use_gated_mlp);
    CHECK(!m->post_attn_norm);
    d = vidur_find_device(&cfg, "a40");
    REQUIRE(d != NULL);
    CHECK_NEAR(d->total_memory_gb, 45, 0);
    CHECK_NEAR(d->fp16_tflops, 150, 0);
    d = vidur_find_device(&cfg, "h100");
    REQUIRE(d != NULL);
    CHECK_NEAR(d->total_memory_gb, 80, 0);
    CHECK_NEAR(d->fp16_tflops, 1000, 0);
    CHECK(vidur_find_model(&cfg, "no/such-model") == NULL);
    CHECK(vidur_find_device(&cfg, "tpu-v5e") == NULL);
    /* ours: datasheet figures (docs/models.md) */
    d = vidur_find_device(&cfg, "h200");
    REQUIRE(d != NULL);
    CHECK_NEAR(d->total_memory_gb, 141, 0);
    CHECK_NEAR(d->memory_bandwidth_gbps, 4800, 0);
    CHECK_NEAR(d->fp8_tflops, 1979, 0);
    CHECK_STR_EQ(d->calibration_device, "h100");
    d = vidur_find_device(&cfg, "l40s");
    REQUIRE(d != NULL);
    CHECK_NEAR(d->fp16_tflops, 362, 0);
    CHECK_NEAR(d->memory_bandwidth_gbps, 864, 0);
    CHECK(vidur_find_device(&cfg, "b200") != NULL && vidur_find_device(&cfg, "mi300x") != NULL);
    CHECK_NEAR(vidur_find_device(&cfg, "a100")->fp8_tflops, 0, 0); /* Ampere: no FP8 tensor cores */
    CHECK(vidur_find_node(&cfg, "h200_dgx") != NULL && vidur_find_node(&cfg, "l40s_pcie") != NULL);
    CHECK_NEAR(vidur_find_node(&cfg, "l40s_pcie")->intra_node_bandwidth_gbps, 32, 0);
    CHECK(vidur_find_node(&cfg, "a100_pairwise_nvlink") != NULL);
}

/* Llama-2-7B (L 32, H_q 32, H_kv 32, E 4096, F 11008), A100, TP1 PP1, margin 0.1, M 4096, B 16.
   hd = 128, E*hd = 524,288, q_w = 32, kv_w = 32.
   params_layer = 524,288*96 + 524,288*32 + 3*4096*11008
                = 50,331,648 + 16,777,216 + 135,266,304 = 202,375,168
   param_bytes  = 2 * 202,375,168 * 32 = 12,952,010,752
   kv/request   = 4*128*32*4096*32 = 2,147,483,648 (2 GiB)
   max_batch    = floor((77,309,411,328 - 12,952,010,752) / 2 GiB) = floor(29.97) = 29
   num_blocks   = 256 * 29 = 7,424 (the spec's worked example) */
TEST(test_llama2_7b_a100_tp1)
{
    vidur_memory_plan p; vidur_error e;
    REQUIRE(plan("meta-llama/Llama-2-7b-hf", "a100", 1, 1, 0.1, 4096, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.params_per_layer, 202375168LL);
    CHECK_EQ_INT(p.param_bytes, 12952010752LL);
    CHECK_NEAR(p.available_bytes, AVAIL_80GB, 1.0);
    CHECK_EQ_INT(p.kv_bytes_per_request, 2147483648LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 29);
    CHECK_EQ_INT(p.max_request_slots, 29);
    CHECK_EQ_INT(p.max_blocks_per_sequence, 256);
    CHECK_EQ_INT(p.num_blocks, 7424);
}

/* Same model with B = 1 (lightllm counts tokens): max_blocks_per_sequence = 4096,
   num_blocks = 4096 * 29 = 118,784. */
TEST(test_llama2_7b_block_size_1)
{
    vidur_memory_plan p; vidur_error e;
    REQUIRE(plan("meta-llama/Llama-2-7b-hf", "a100", 1, 1, 0.1, 4096, 1, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.max_blocks_per_sequence, 4096);
    CHECK_EQ_INT(p.max_batch_size_mem, 29);
    CHECK_EQ_INT(p.num_blocks, 118784);
}

/* Llama-2-7B, A100, margin 0.5, M 2048, B 16:
   available = 85,899,345,920 * 0.5 = 42,949,672,960
   kv/request = 4*128*32*2048*32 = 1,073,741,824 (1 GiB)
   max_batch = floor((42,949,672,960 - 12,952,010,752) / 1 GiB) = floor(27.94) = 27
   num_blocks = (2048/16 = 128) * 27 = 3,456 */
TEST(test_llama2_7b_margin_and_max_tokens)
{
    vidur_memory_plan p; vidur_error e;
    REQUIRE(plan("meta-llama/Llama-2-7b-hf", "a100", 1, 1, 0.5, 2048, 16, &p, &e) == VIDUR_OK);
    CHECK_NEAR(p.available_bytes, 42949672960.0, 1.0);
    CHECK_EQ_INT(p.kv_bytes_per_request, 1073741824LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 27);
    CHECK_EQ_INT(p.max_blocks_per_sequence, 128);
    CHECK_EQ_INT(p.num_blocks, 3456);
}

/* Llama-3-8B (L 32, H_q 32, H_kv 8, E 4096, F 14336), A100, TP1 PP1.
   hd = 128, q_w = 32, kv_w = 8.
   params_layer = 524,288*(32+16) + 524,288*32 + 3*4096*14336
                = 25,165,824 + 16,777,216 + 176,160,768 = 218,103,808
   param_bytes  = 2 * 218,103,808 * 32 = 13,958,643,712
   kv/request   = 4*128*8*4096*32 = 536,870,912
   max_batch    = (77,309,411,328 - 13,958,643,712) / 536,870,912
                = 63,350,767,616 / 536,870,912 = 118 exactly
   num_blocks   = 256 * 118 = 30,208 (agrees with the spec's Llama-3-8B figure) */
TEST(test_llama3_8b_a100_tp1)
{
    vidur_memory_plan p; vidur_error e;
    REQUIRE(plan("meta-llama/Meta-Llama-3-8B", "a100", 1, 1, 0.1, 4096, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.params_per_layer, 218103808LL);
    CHECK_EQ_INT(p.param_bytes, 13958643712LL);
    CHECK_EQ_INT(p.kv_bytes_per_request, 536870912LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 118);
    CHECK_EQ_INT(p.max_request_slots, 118);
    CHECK_EQ_INT(p.num_blocks, 30208);
}

/* Llama-2-70B (L 80, H_q 64, H_kv 8, E 8192, F 28672), A100, TP4 PP1.
   hd = 128, E*hd = 1,048,576, q_w = 16, kv_w = 2.
   params_layer = 1,048,576*(16+4) + 1,048,576*16 + (3*8192*28672)//4
                = 20,971,520 + 16,777,216 + 704,643,072/4 (= 176,160,768) = 213,909,504
   param_bytes  = 2 * 213,909,504 * 80 = 34,225,520,640
   kv/request   = 4*128*2*4096*80 = 335,544,320
   max_batch    = floor((77,309,411,328 - 34,225,520,640) / 335,544,320)
                = floor(43,083,890,688 / 335,544,320) = 128 (128*335,544,320 = 42,949,672,960)
   num_blocks   = 256 * 128 = 32,768 */
TEST(test_llama2_70b_a100_tp4)
{
    vidur_memory_plan p; vidur_error e;
    REQUIRE(plan("meta-llama/Llama-2-70b-hf", "a100", 4, 1, 0.1, 4096, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.params_per_layer, 213909504LL);
    CHECK_EQ_INT(p.param_bytes, 34225520640LL);
    CHECK_EQ_INT(p.kv_bytes_per_request, 335544320LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 128);
    CHECK_EQ_INT(p.max_request_slots, 128);
    CHECK_EQ_INT(p.num_blocks, 32768);
}

/* Llama-2-70B, A100, TP2 PP2: q_w = 32, kv_w = 4, L_s = 40.
   params_layer = 1,048,576*(32+8) + 1,048,576*32 + 704,643,072/2
                = 41,943,040 + 33,554,432 + 352,321,536 = 427,819,008
   param_bytes  = 2 * 427,819,008 * 40 = 34,225,520,640
   kv/request   = 4*128*4*4096*80 (full L, not L_s) = 671,088,640
   max_batch    = floor(43,083,890,688 / 671,088,640) = 64 (64*671,088,640 = 42,949,672,960)
   slots        = 64 * PP = 128
   num_blocks   = 256 * 128 = 32,768 */
TEST(test_llama2_70b_a100_tp2_pp2)
{
    vidur_memory_plan p; vidur_error e;
    REQUIRE(plan("meta-llama/Llama-2-70b-hf", "a100", 2, 2, 0.1, 4096, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.params_per_layer, 427819008LL);
    CHECK_EQ_INT(p.param_bytes, 34225520640LL);
    CHECK_EQ_INT(p.kv_bytes_per_request, 671088640LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 64);
    CHECK_EQ_INT(p.max_request_slots, 128);
    CHECK_EQ_INT(p.num_blocks, 32768);
}

/* Llama-2-70B, A100, TP16 PP1: kv_w = ceil(8/16) = 1 (rounded up), q_w = 4.
   params_layer = 1,048,576*(4+2) + 1,048,576*4 + 704,643,072/16
                = 6,291,456 + 4,194,304 + 44,040,192 = 54,525,952
   param_bytes  = 2 * 54,525,952 * 80 = 8,724,152,320
   kv/request   = 4*128*1*4096*80 = 167,772,160
   max_batch    = floor((77,309,411,328 - 8,724,152,320) / 167,772,160)
                = floor(68,585,259,008 / 167,772,160) = 408 (408*167,772,160 = 68,451,041,280)
   num_blocks   = 256 * 408 = 104,448 */
TEST(test_llama2_70b_a100_tp16_kv_heads_rounded_up)
{
    vidur_memory_plan p; vidur_error e;
    REQUIRE(plan("meta-llama/Llama-2-70b-hf", "a100", 16, 1, 0.1, 4096, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.params_per_layer, 54525952LL);
    CHECK_EQ_INT(p.param_bytes, 8724152320LL);
    CHECK_EQ_INT(p.kv_bytes_per_request, 167772160LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 408);
    CHECK_EQ_INT(p.num_blocks, 104448);
}

/* CodeLlama-34B (L 48, H_q 64, H_kv 8, E 8192, F 22016), H100 (80 GB), TP2 PP1.
   q_w = 32, kv_w = 4.
   params_layer = 1,048,576*40 + 1,048,576*32 + (3*8192*22016)//2
                = 41,943,040 + 33,554,432 + 541,065,216/2 (= 270,532,608) = 346,030,080
   param_bytes  = 2 * 346,030,080 * 48 = 33,218,887,680
   kv/request   = 4*128*4*4096*48 = 402,653,184
   max_batch    = floor((77,309,411,328 - 33,218,887,680) / 402,653,184)
                = floor(44,090,523,648 / 402,653,184) = 109 (109*402,653,184 = 43,889,197,056)
   num_blocks   = 256 * 109 = 27,904 */
TEST(test_codellama_34b_h100_tp2)
{
    vidur_memory_plan p; vidur_error e;
    REQUIRE(plan("codellama/CodeLlama-34b-Instruct-hf", "h100", 2, 1, 0.1, 4096, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.params_per_layer, 346030080LL);
    CHECK_EQ_INT(p.param_bytes, 33218887680LL);
    CHECK_EQ_INT(p.kv_bytes_per_request, 402653184LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 109);
    CHECK_EQ_INT(p.num_blocks, 27904);
}

/* phi-2 (L 32, H_q 32, H_kv 32, E 2560, F 10240, plain MLP: k = 2), A40 (45 GB), TP1.
   hd = 80, E*hd = 204,800.
   params_layer = 204,800*96 + 204,800*32 + 2*2560*10240
                = 19,660,800 + 6,553,600 + 52,428,800 = 78,643,200
   param_bytes  = 2 * 78,643,200 * 32 = 5,033,164,800
   available    = 45 * 2^30 * 0.9 = 43,486,543,872
   kv/request   = 4*80*32*4096*32 = 1,342,177,280
   max_batch    = floor((43,486,543,872 - 5,033,164,800) / 1,342,177,280)
                = floor(38,453,379,072 / 1,342,177,280) = 28 (28*1,342,177,280 = 37,580,963,840)
   num_blocks   = 256 * 28 = 7,168 */
TEST(test_phi2_a40_plain_mlp)
{
    vidur_memory_plan p; vidur_error e;
    REQUIRE(plan("microsoft/phi-2", "a40", 1, 1, 0.1, 4096, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.params_per_layer, 78643200LL);
    CHECK_EQ_INT(p.param_bytes, 5033164800LL);
    CHECK_NEAR(p.available_bytes, 43486543872.0, 1.0);
    CHECK_EQ_INT(p.kv_bytes_per_request, 1342177280LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 28);
    CHECK_EQ_INT(p.num_blocks, 7168);
}

/* Llama-2-70B on one A40: params_layer (TP1) = 1,048,576*(64+16) + 1,048,576*64 + 704,643,072
   = 855,638,016; weights = 2*855,638,016*80 = 136,902,082,560 B > 43,486,543,872 B available.
   Must fail (and say why), not return a plan with a non-positive batch size. */
TEST(test_70b_does_not_fit_a40)
{
    vidur_memory_plan p; vidur_error e;
    int r = plan("meta-llama/Llama-2-70b-hf", "a40", 1, 1, 0.1, 4096, 16, &p, &e);
    CHECK(r != VIDUR_OK);
    CHECK_EQ_INT(r, VIDUR_ERR_MEMORY);
    CHECK(e.message[0] != '\0');
}

/* Weights fit but not one full request: Llama-2-7B on A40 with M = 32768.
   available 43,486,543,872 - weights 12,952,010,752 = 30,534,533,120;
   kv/request = 4*128*32*32768*32 = 17,179,869,184 -> 1 fits. With margin 0.6:
   available = 48,318,382,080 * 0.4 ... (45 GiB = 48,318,382,080 B) -> 19,327,352,832;
   minus weights = 6,375,342,080 < 17,179,869,184 -> 0 requests -> error. */
TEST(test_no_room_for_one_request)
{
    vidur_memory_plan p; vidur_error e;
    REQUIRE(plan("meta-llama/Llama-2-7b-hf", "a40", 1, 1, 0.1, 32768, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.kv_bytes_per_request, 17179869184LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 1);
    CHECK_EQ_INT(p.num_blocks, 2048);
    CHECK(plan("meta-llama/Llama-2-7b-hf", "a40", 1, 1, 0.6, 32768, 16, &p, &e) != VIDUR_OK);
}

/* Explicit head_dim (Mistral-Nemo-12B: L 40, H_q 32, H_kv 8, E 5120, F 14336, head_dim 128, so the
   query width 32*128 = 4,096 is not E = 5,120), H100, TP1, the token planner (vllm_v1).
   E*hd = 655,360; q_w = 32, kv_w = 8.
   params_layer = 655,360*(32+16) + 655,360*32 + 3*5120*14336
                = 31,457,280 + 20,971,520 + 220,200,960 = 272,629,760
   param_bytes  = 2 * 272,629,760 * 40 = 21,810,380,800
   kv per token = 4*128*8*40 = 163,840
   tokens       = floor((77,309,411,328 - 21,810,380,800) / 163,840) = floor(338,739.2) = 338,739
   num_blocks   = 338,739 // 16 = 21,171
   With head_dim 0, Vidur's rule would give E / H_q = 160 instead: a different model (checked below). */
TEST(test_explicit_head_dim_mistral_nemo)
{
    vidur_config c;
    vidur_error e;
    vidur_memory_plan p;
    const vidur_model_spec *m;
    vidur_config_init(&c);
    REQUIRE(vidur_config_load_ini_string(&c,
                                         "[model.mistralai/Mistral-Nemo-Instruct-2407]\n"
                                         "num_layers = 40\nnum_q_heads = 32\nnum_kv_heads = 8\nembedding_dim = 5120\n"
                                         "mlp_hidden_dim = 14336\nhead_dim = 128\n",
                                         "nemo.ini", &e) == VIDUR_OK);
    m = vidur_find_model(&c, "mistralai/Mistral-Nemo-Instruct-2407");
    REQUIRE(m != NULL);
    CHECK_EQ_INT(vidur_model_head_dim(m), 128);
    REQUIRE(vidur_memory_plan_compute_tokens(m, vidur_find_device(&c, "h100"), 1, 1, 0.1, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.params_per_layer, 272629760LL);
    CHECK_EQ_INT(p.param_bytes, 21810380800LL);
    CHECK_EQ_INT(p.kv_bytes_per_request, 163840LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 338739);
    CHECK_EQ_INT(p.num_blocks, 21171);
    /* head_dim 0: Vidur's rule, E / H_q = 160 */
    REQUIRE(vidur_config_set_ini(&c, "model.mistralai/Mistral-Nemo-Instruct-2407", "head_dim", "0", &e) == VIDUR_OK);
    CHECK_EQ_INT(vidur_model_head_dim(m), 160);
    /* every built-in model keeps Vidur's rule (head_dim 0) */
    CHECK_EQ_INT(vidur_find_model(NULL, "meta-llama/Llama-2-7b-hf")->head_dim, 0);
    CHECK_EQ_INT(vidur_model_head_dim(vidur_find_model(NULL, "microsoft/phi-2")), 80);
}

/* Mixtral-8x7B (L 32, H_q 32, H_kv 8, E 4096, hd 128, 8 experts of F_e 14336, top-2, gated, no shared
   expert, vocab 32000, untied), BF16, H100, TP2, the token planner.
   q_w = 16, kv_w = 4; every layer is MoE (L_m = 32).
   attention   = 524,288*(16+8) + 524,288*16 = 12,582,912 + 8,388,608 = 20,971,520
   experts     = (8*3*4096*14336)/2 = 1,409,286,144/2 = 704,643,072 (each GPU: half of every expert)
   router      = 4096*8 = 32,768 (replicated)
   params/layer = 20,971,520 + 704,643,072 + 32,768 = 725,647,360
   weights     = 2 * 725,647,360 * 32 = 46,441,431,040 B (43.3 GiB: half of Mixtral's 46.7B parameters)
   kv / token  = 2*2*128*4*32 = 65,536 B
   tokens      = (77,309,411,328 - 46,441,431,040) / 65,536 = 30,867,980,288 / 65,536 = 471,008 exactly
   blocks      = 471,008 / 16 = 29,438
   With count_embeddings: + 2 * (32000*4096/2) * 2 (embedding and LM head) = 262,144,000 B
   -> 46,703,575,040; (77,309,411,328 - 46,703,575,040) / 65,536 = 467,008 tokens = 29,188 blocks. */
TEST(test_mixtral_8x7b_tp2_bf16)
{
    vidur_memory_plan p;
    vidur_error e;
    vidur_model_spec m = *vidur_find_model(NULL, "mistralai/Mixtral-8x7B-Instruct-v0.1");
    const vidur_device_spec *h100 = vidur_find_device(NULL, "h100");
    REQUIRE(vidur_memory_plan_compute_tokens(&m, h100, 2, 1, 0.1, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.params_per_layer, 725647360LL);
    CHECK_EQ_INT(p.param_bytes, 46441431040LL);
    CHECK_EQ_INT(p.kv_bytes_per_request, 65536LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 471008);
    CHECK_EQ_INT(p.num_blocks, 29438);
    m.embedding_weights = 1;
    REQUIRE(vidur_memory_plan_compute_tokens(&m, h100, 2, 1, 0.1, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.param_bytes, 46703575040LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 467008);
    CHECK_EQ_INT(p.num_blocks, 29188);
    /* tied embeddings are counted once: 46,703,575,040 - 131,072,000 */
    m.tie_word_embeddings = 1;
    REQUIRE(vidur_memory_plan_compute_tokens(&m, h100, 2, 1, 0.1, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.param_bytes, 46572503040LL);
}

/* Llama-4-Scout-17B-16E FP8 (L 48, H_q 40, H_kv 8, E 5120, hd 128, 16 experts of F_e 8192, top-1, a
   shared expert of 8192, vocab 202048, untied), FP8 weights (1 byte; router and embeddings 16-bit),
   BF16 KV cache, H100, TP2, the token planner. q_w = 20, kv_w = 4, L_m = 48.
   attention   = 655,360*(20+8) + 655,360*20 = 18,350,080 + 13,107,200 = 31,457,280
   experts     = (16*3*5120*8192)/2 + (3*5120*8192)/2 = 1,006,632,960 + 62,914,560 = 1,069,547,520
   router      = 5120*16 = 81,920
   weights     = 1 * (31,457,280 + 1,069,547,520) * 48 + 2 * 81,920 * 48
               = 52,848,230,400 + 7,864,320 = 52,856,094,720 B
   kv / token  = 2*2*128*4*48 = 98,304 B (FP8 KV: 49,152)
   tokens      = (77,309,411,328 - 52,856,094,720) / 98,304 = 24,453,316,608 / 98,304 = 248,752 exactly
   blocks      = 248,752 / 16 = 15,547
   FP8 KV cache: 24,453,316,608 / 49,152 = 497,504 tokens = 31,094 blocks.
   With count_embeddings: + 2 * (202048*5120/2) * 2 = 2,068,971,520 B -> 54,925,066,240;
   22,384,345,088 / 98,304 = 227,705.33 -> 227,705 tokens = 14,231 blocks. */
TEST(test_llama4_scout_tp2_fp8)
{
    vidur_memory_plan p;
    vidur_error e;
    vidur_model_spec m = *vidur_find_model(NULL, "RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic");
    const vidur_device_spec *h100 = vidur_find_device(NULL, "h100");
    CHECK_EQ_INT(m.weight_dtype, VIDUR_DTYPE_FP8);
    REQUIRE(vidur_memory_plan_compute_tokens(&m, h100, 2, 1, 0.1, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.param_bytes, 52856094720LL);
    CHECK_EQ_INT(p.kv_bytes_per_request, 98304LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 248752);
    CHECK_EQ_INT(p.num_blocks, 15547);
    m.kv_cache_dtype = VIDUR_DTYPE_FP8;
    REQUIRE(vidur_memory_plan_compute_tokens(&m, h100, 2, 1, 0.1, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.kv_bytes_per_request, 49152LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 497504);
    CHECK_EQ_INT(p.num_blocks, 31094);
    m.kv_cache_dtype = VIDUR_DTYPE_DEFAULT;
    m.embedding_weights = 1;
    REQUIRE(vidur_memory_plan_compute_tokens(&m, h100, 2, 1, 0.1, 16, &p, &e) == VIDUR_OK);
    CHECK_EQ_INT(p.param_bytes, 54925066240LL);
    CHECK_EQ_INT(p.max_batch_size_mem, 227705);
    CHECK_EQ_INT(p.num_blocks, 14231);
    /* in BF16 the same model does not fit two H100s: 2 x 52,848,230,400 + 7,864,320 B > 72 GiB */
    m = *vidur_find_model(NULL, "meta-llama/Llama-4-Scout-17B-16E-Instruct");
    CHECK_EQ_INT(vidur_memory_plan_compute_tokens(&m, h100, 2, 1, 0.1, 16, &p, &e), VIDUR_ERR_MEMORY);
    /* the replica's precision keys reach the planner through vidur_sim_create's copy of the model */
    {
        vidur_config c;
        vidur_sim *sim = NULL;
        vidur_config_init(&c);
        CHECK_EQ_INT(vidur_config_set(&c, "replica_config_model_name", "meta-llama/Llama-4-Scout-17B-16E-Instruct", &e), VIDUR_OK);
        CHECK_EQ_INT(vidur_config_set(&c, "replica_config_weight_dtype", "fp8", &e), VIDUR_OK);
        CHECK_EQ_INT(vidur_config_set(&c, "replica_config_device", "h100", &e), VIDUR_OK);
        CHECK_EQ_INT(vidur_config_set(&c, "replica_config_tensor_parallel_size", "2", &e), VIDUR_OK);
        CHECK_EQ_INT(vidur_config_set(&c, "replica_scheduler_config_type", "vllm_v1", &e), VIDUR_OK);
        CHECK_EQ_INT(vidur_config_set(&c, "metrics_config_write_metrics", "false", &e), VIDUR_OK);
        REQUIRE(vidur_sim_create(&c, &sim, &e) == VIDUR_OK);
        CHECK_EQ_INT(vidur_replica_get_info(vidur_sim_replica(sim, 0))->num_blocks, 15547);
        vidur_sim_destroy(sim);
        CHECK_EQ_INT(vidur_config_set(&c, "replica_config_weight_dtype", "int4", &e), VIDUR_OK);
        CHECK(vidur_sim_create(&c, &sim, &e) != VIDUR_OK);
        CHECK_CONTAINS(e.message, "weight_dtype");
    }
}

int main(void)
{
    vidur_config_init(&cfg);
    RUN_TEST(test_tables);
    RUN_TEST(test_llama2_7b_a100_tp1);
    RUN_TEST(test_llama2_7b_block_size_1);
    RUN_TEST(test_llama2_7b_margin_and_max_tokens);
    RUN_TEST(test_llama3_8b_a100_tp1);
    RUN_TEST(test_llama2_70b_a100_tp4);
    RUN_TEST(test_llama2_70b_a100_tp2_pp2);
    RUN_TEST(test_llama2_70b_a100_tp16_kv_heads_rounded_up);
    RUN_TEST(test_codellama_34b_h100_tp2);
    RUN_TEST(test_phi2_a40_plain_mlp);
    RUN_TEST(test_70b_does_not_fit_a40);
    RUN_TEST(test_no_room_for_one_request);
    RUN_TEST(test_explicit_head_dim_mistral_nemo);
    RUN_TEST(test_mixtral_8x7b_tp2_bf16);
    RUN_TEST(test_llama4_scout_tp2_fp8);
    return test_finish();
}
