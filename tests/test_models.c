/* test_models.c - models from Hugging Face config.json files (built with -DVIDUR_JSON, -ljansson):
   every committed config in data/models/ reads into exactly its built-in row; a config of a dense
   Llama gives the same model (and the same simulation) as the built-in one; MoE layer patterns
   (Qwen3-MoE mlp_only_layers, Llama-4 interleaving, DeepSeek-MoE first dense layers); FP8 from
   quantization_config; the model's name; and malformed or unsupported configs rejected with one
   line naming the file and the field. */
#ifndef VIDUR_JSON
#define VIDUR_JSON
#endif
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

/* the fields that define a model's computation and memory (all but name and provenance) */
static int same_shape(const vidur_model_spec *a, const vidur_model_spec *b)
{
    return a->num_layers == b->num_layers && a->num_q_heads == b->num_q_heads && a->num_kv_heads == b->num_kv_heads &&
           a->embedding_dim == b->embedding_dim && a->mlp_hidden_dim == b->mlp_hidden_dim && a->vocab_size == b->vocab_size &&
           a->use_gated_mlp == b->use_gated_mlp && a->post_attn_norm == b->post_attn_norm && a->use_bias == b->use_bias &&
           a->use_qkv_bias == b->use_qkv_bias && a->rope_theta == b->rope_theta && a->partial_rotary_factor == b->partial_rotary_factor &&
           vidur_model_head_dim(a) == vidur_model_head_dim(b) && a->num_experts == b->num_experts &&
           a->num_experts_per_tok == b->num_experts_per_tok && a->moe_intermediate_size == b->moe_intermediate_size &&
           a->shared_expert_intermediate_size == b->shared_expert_intermediate_size && a->num_dense_layers == b->num_dense_layers &&
           vidur_dtype_bytes(a->weight_dtype) == vidur_dtype_bytes(b->weight_dtype) &&
           vidur_dtype_bytes(a->kv_cache_dtype) == vidur_dtype_bytes(b->kv_cache_dtype) && a->tie_word_embeddings == b->tie_word_embeddings;
}

/* every data/models/ORG/NAME/config.json equals the built-in row ORG/NAME field by field */
TEST(test_committed_configs_are_the_builtins)
{
    static const char *const names[] = {
        "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen3-14B",
        "mistralai/Mistral-Nemo-Instruct-2407", "mistralai/Mixtral-8x7B-Instruct-v0.1", "mistralai/Mixtral-8x22B-Instruct-v0.1",
        "Qwen/Qwen3-30B-A3B", "meta-llama/Llama-4-Scout-17B-16E-Instruct", "RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic"};
    int i;
    for (i = 0; i < (int)(sizeof names / sizeof names[0]); i++) {
        char path[512];
        vidur_model_spec m;
        vidur_error e;
        const vidur_model_spec *b = vidur_find_model(NULL, names[i]);
        snprintf(path, sizeof path, "data/models/%s/config.json", names[i]);
        if (!CHECK(b != NULL) || !CHECK(vidur_model_spec_from_hf_config(path, names[i], &m, &e) == VIDUR_OK)) {
            printf("  %s: %s\n", names[i], e.message);
            continue;
        }
        if (!CHECK(same_shape(&m, b) && m.max_position_embeddings == b->max_position_embeddings && m.weight_dtype == b->weight_dtype &&
                   m.kv_cache_dtype == b->kv_cache_dtype && m.head_dim == b->head_dim && !strcmp(m.name, b->name)))
            printf("  %s differs from its built-in row\n", names[i]);
    }
}

/* specific values: the acceptance's exact Mistral-Nemo shape, MoE and FP8 fields */
TEST(test_config_values)
{
    vidur_model_spec m;
    vidur_error e;
    REQUIRE(vidur_model_spec_from_hf_config("data/models/mistralai/Mistral-Nemo-Instruct-2407/config.json", "nemo", &m, &e) == VIDUR_OK);
    CHECK_EQ_INT(m.num_q_heads, 32);
    CHECK_EQ_INT(m.embedding_dim, 5120);
    CHECK_EQ_INT(vidur_model_head_dim(&m), 128); /* not 5120 / 32 = 160 */
    CHECK_STR_EQ(m.name, "nemo");
    REQUIRE(vidur_model_spec_from_hf_config("data/models/RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic/config.json", NULL, &m, &e) == VIDUR_OK);
    CHECK_EQ_INT(m.weight_dtype, VIDUR_DTYPE_FP8);
    CHECK_EQ_INT(m.kv_cache_dtype, VIDUR_DTYPE_DEFAULT);
    CHECK_EQ_INT(m.num_experts, 16);
    CHECK_EQ_INT(m.num_experts_per_tok, 1);
    CHECK_EQ_INT(m.moe_intermediate_size, 8192);
    CHECK_EQ_INT(m.shared_expert_intermediate_size, 8192); /* Llama-4's one shared expert */
    CHECK_EQ_INT(m.mlp_hidden_dim, 16384);                 /* intermediate_size_mlp: dense layers */
    CHECK_EQ_INT(vidur_model_num_moe_layers(&m), 48);
    CHECK_STR_EQ(m.name, "");
    REQUIRE(vidur_model_spec_from_hf_config("data/models/Qwen/Qwen2.5-7B-Instruct/config.json", NULL, &m, &e) == VIDUR_OK);
    CHECK(m.use_qkv_bias); /* Qwen2's q/k/v biases, implied by the family */
}

/* A config of a dense Llama gives the built-in model: Llama-3.1-8B's config.json read under the name
   meta-llama/Meta-Llama-3-8B is Vidur's Meta-Llama-3-8B in every field that shapes the computation
   and memory (only max_position_embeddings, 131072 against Vidur's 4096, and the recorded bf16
   instead of "16-bit" differ), and a simulation with it equals one with the built-in, request for
   request. */
TEST(test_dense_llama_config_is_the_builtin)
{
    vidur_config a, b;
    vidur_error e;
    vidur_sim *sa = NULL, *sb = NULL;
    const vidur_model_spec *builtin = vidur_find_model(NULL, "meta-llama/Meta-Llama-3-8B");
    vidur_model_spec m;
    REQUIRE(vidur_model_spec_from_hf_config("data/models/meta-llama/Llama-3.1-8B-Instruct/config.json", "meta-llama/Meta-Llama-3-8B", &m,
                                            &e) == VIDUR_OK);
    CHECK(same_shape(&m, builtin));
    CHECK_EQ_INT(m.max_position_embeddings, 131072);
    vidur_config_init(&a);
    SET(&a, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B");
    SET(&a, "replica_config_device", "h100");
    SET(&a, "replica_config_network_device", "h100_dgx");
    SET(&a, "replica_config_tensor_parallel_size", "2");
    SET(&a, "synthetic_request_generator_config_num_requests", "200");
    SET(&a, "metrics_config_write_metrics", "false");
    b = a;
    SET(&b, "replica_config_model_config", "data/models/meta-llama/Llama-3.1-8B-Instruct/config.json");
    REQUIRE(vidur_config_load_model_config(&b, &e) == VIDUR_OK);
    CHECK_STR_EQ(b.model_name, "meta-llama/Meta-Llama-3-8B"); /* the name given wins */
    CHECK(vidur_find_model(&b, "meta-llama/Meta-Llama-3-8B") != builtin); /* the file's model, not the row */
    REQUIRE(vidur_sim_create(&a, &sa, &e) == VIDUR_OK);
    REQUIRE(vidur_sim_create(&b, &sb, &e) == VIDUR_OK);
    CHECK_EQ_INT(sa->plan.num_blocks, sb->plan.num_blocks);
    CHECK_EQ_INT(vidur_sim_run(sa), VIDUR_OK);
    CHECK_EQ_INT(vidur_sim_run(sb), VIDUR_OK);
    CHECK_EQ_INT(vidur_sim_summary(sa)->num_completed, 200);
    CHECK(!memcmp(&vidur_sim_summary(sa)->metric, &vidur_sim_summary(sb)->metric, sizeof vidur_sim_summary(sa)->metric));
    vidur_sim_destroy(sa);
    vidur_sim_destroy(sb);
}

/* the model's name: replica_config_model_name when set, else the file's folder */
TEST(test_model_name)
{
    vidur_config c;
    vidur_error e;
    vidur_config_init(&c);
    SET(&c, "replica_config_model_config", "data/models/Qwen/Qwen3-30B-A3B/config.json");
    REQUIRE(vidur_config_load_model_config(&c, &e) == VIDUR_OK);
    CHECK_STR_EQ(c.model_name, "Qwen/Qwen3-30B-A3B");
    CHECK_EQ_INT(vidur_find_model(&c, "Qwen/Qwen3-30B-A3B")->num_experts, 128);
    /* a file not named config.json: .../ORG/NAME.json -> ORG/NAME (here build/tests/tiny-llama.json) */
    {
        FILE *f = fopen("build/tests/tiny-llama.json", "w");
        REQUIRE(f != NULL);
        fputs("{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"hidden_size\": 256, \"intermediate_size\": 512,\n"
              " \"num_attention_heads\": 4, \"vocab_size\": 1000}\n", f);
        fclose(f);
        vidur_config_init(&c);
        SET(&c, "replica_config_model_config", "build/tests/tiny-llama.json");
        REQUIRE(vidur_config_load_model_config(&c, &e) == VIDUR_OK);
        CHECK_STR_EQ(c.model_name, "tests/tiny-llama");
        CHECK_EQ_INT(vidur_find_model(&c, "tests/tiny-llama")->num_kv_heads, 4); /* num_key_value_heads absent: MHA */
        remove("build/tests/tiny-llama.json");
        CHECK_EQ_INT(vidur_config_validate(&c, &e), VIDUR_OK);
    }
}

static vidur_result parse(const char *json, vidur_model_spec *m, vidur_error *e)
{
    memset(e, 0, sizeof *e);
    return vidur_model_spec_from_hf_json(json, strlen(json), "x/config.json", "x", m, e);
}

/* which layers are MoE */
TEST(test_moe_layer_patterns)
{
    vidur_model_spec m;
    vidur_error e;
    /* Qwen3-MoE: layers 0 and 3 dense (mlp_only_layers), the other 6 of 8 MoE */
    REQUIRE(parse("{\"model_type\": \"qwen3_moe\", \"num_hidden_layers\": 8, \"hidden_size\": 512, \"intermediate_size\": 1024,"
                  " \"num_attention_heads\": 8, \"num_key_value_heads\": 2, \"vocab_size\": 100, \"num_experts\": 16,"
                  " \"num_experts_per_tok\": 4, \"moe_intermediate_size\": 128, \"mlp_only_layers\": [0, 3]}",
                  &m, &e) == VIDUR_OK);
    CHECK_EQ_INT(m.num_dense_layers, 2);
    CHECK_EQ_INT(vidur_model_num_moe_layers(&m), 6);
    /* Qwen2-MoE: decoder_sparse_step 2 (layers 1, 3, 5, 7 MoE) and a shared expert */
    REQUIRE(parse("{\"model_type\": \"qwen2_moe\", \"num_hidden_layers\": 8, \"hidden_size\": 512, \"intermediate_size\": 1024,"
                  " \"num_attention_heads\": 8, \"vocab_size\": 100, \"num_experts\": 16, \"num_experts_per_tok\": 4,"
                  " \"moe_intermediate_size\": 128, \"shared_expert_intermediate_size\": 512, \"decoder_sparse_step\": 2}",
                  &m, &e) == VIDUR_OK);
    CHECK_EQ_INT(m.num_dense_layers, 4);
    CHECK_EQ_INT(m.shared_expert_intermediate_size, 512);
    CHECK(m.use_qkv_bias);
    /* Llama-4 Maverick-style interleaving: every second layer MoE */
    REQUIRE(parse("{\"model_type\": \"llama4\", \"text_config\": {\"num_hidden_layers\": 8, \"hidden_size\": 512,"
                  " \"intermediate_size\": 128, \"intermediate_size_mlp\": 1024, \"num_attention_heads\": 8, \"vocab_size\": 100,"
                  " \"num_local_experts\": 16, \"num_experts_per_tok\": 1, \"interleave_moe_layer_step\": 2}}",
                  &m, &e) == VIDUR_OK);
    CHECK_EQ_INT(vidur_model_num_moe_layers(&m), 4);
    CHECK_EQ_INT(m.mlp_hidden_dim, 1024);
    /* DeepSeek-MoE (v1, multi-head attention): first layer dense, 2 shared experts of 128 */
    REQUIRE(parse("{\"model_type\": \"deepseek\", \"num_hidden_layers\": 4, \"hidden_size\": 512, \"intermediate_size\": 1024,"
                  " \"num_attention_heads\": 8, \"vocab_size\": 100, \"n_routed_experts\": 8, \"num_experts_per_tok\": 2,"
                  " \"moe_intermediate_size\": 128, \"n_shared_experts\": 2, \"first_k_dense_replace\": 1, \"moe_layer_freq\": 1}",
                  &m, &e) == VIDUR_OK);
    CHECK_EQ_INT(m.num_dense_layers, 1);
    CHECK_EQ_INT(m.shared_expert_intermediate_size, 256);
    /* FP8: HF's native fp8 and a compressed-tensors FP8 KV cache */
    REQUIRE(parse("{\"model_type\": \"qwen3\", \"num_hidden_layers\": 2, \"hidden_size\": 512, \"intermediate_size\": 1024,"
                  " \"num_attention_heads\": 8, \"vocab_size\": 100, \"quantization_config\": {\"quant_method\": \"fp8\","
                  " \"activation_scheme\": \"dynamic\"}}",
                  &m, &e) == VIDUR_OK);
    CHECK_EQ_INT(m.weight_dtype, VIDUR_DTYPE_FP8);
    REQUIRE(parse("{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"hidden_size\": 512, \"intermediate_size\": 1024,"
                  " \"num_attention_heads\": 8, \"vocab_size\": 100, \"torch_dtype\": \"float16\", \"quantization_config\":"
                  " {\"quant_method\": \"compressed-tensors\", \"config_groups\": {\"g\": {\"weights\": {\"type\": \"float\","
                  " \"num_bits\": 8}}}, \"kv_cache_scheme\": {\"type\": \"float\", \"num_bits\": 8}}}",
                  &m, &e) == VIDUR_OK);
    CHECK_EQ_INT(m.weight_dtype, VIDUR_DTYPE_FP8);
    CHECK_EQ_INT(m.kv_cache_dtype, VIDUR_DTYPE_FP8);
}

/* malformed and unsupported configs: an error, one line, naming the file and the field */
TEST(test_bad_configs)
{
    static const struct { const char *json, *want; } cases[] = {
        {"{\"model_type\": \"llama\", \"hidden_size\": 512}", "x/config.json: field 'num_hidden_layers': missing"},
        {"{\"model_type\": \"llama\", \"num_hidden_layers\": \"32\", \"hidden_size\": 512}", "field 'num_hidden_layers': not a number"},
        {"{\"model_type\": \"llama\", \"num_hidden_layers\": 2.5, \"hidden_size\": 512}", "field 'num_hidden_layers': 2.5 is not an integer"},
        {"{\"model_type\": \"llama\", \"num_hidden_layers\": -1, \"hidden_size\": 512}", "field 'num_hidden_layers': -1 is not an integer in [1,"},
        {"{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"hidden_size\": 500, \"intermediate_size\": 10,"
         " \"num_attention_heads\": 3, \"vocab_size\": 10}", "field 'head_dim': missing, and hidden_size is not a multiple"},
        {"{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"hidden_size\": 512, \"intermediate_size\": 10,"
         " \"num_attention_heads\": 8, \"num_key_value_heads\": 3, \"vocab_size\": 10}", "field 'num_key_value_heads': does not divide"},
        {"{\"model_type\": \"deepseek_v3\", \"kv_lora_rank\": 512, \"num_hidden_layers\": 61}", "field 'kv_lora_rank': not supported: MLA"},
        {"{\"model_type\": \"gemma2\", \"num_hidden_layers\": 2}", "field 'model_type': 'gemma2' is not supported"},
        {"{\"num_hidden_layers\": 2}", "field 'model_type': missing"},
        {"[1, 2]", "the document is not a JSON object"},
        {"{\"model_type\": \"llama\",", "x/config.json:1: not valid JSON"},
        {"{\"model_type\": \"llama\", \"model_type\": \"mistral\"}", "not valid JSON: duplicate object key"},
        {"{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"hidden_size\": 512, \"intermediate_size\": 10,"
         " \"num_attention_heads\": 8, \"vocab_size\": 10, \"quantization_config\": {\"quant_method\": \"awq\", \"bits\": 4}}",
         "field 'quantization_config.quant_method': 'awq' is not supported"},
        {"{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"hidden_size\": 512, \"intermediate_size\": 10,"
         " \"num_attention_heads\": 8, \"vocab_size\": 10, \"quantization_config\": {\"quant_method\": \"compressed-tensors\","
         " \"config_groups\": {\"g\": {\"weights\": {\"type\": \"int\", \"num_bits\": 4}}}}}",
         "field 'quantization_config.config_groups.*.weights': only FP8"},
        {"{\"model_type\": \"mixtral\", \"num_hidden_layers\": 2, \"hidden_size\": 512, \"intermediate_size\": 10,"
         " \"num_attention_heads\": 8, \"vocab_size\": 10, \"num_local_experts\": 8, \"num_experts_per_tok\": 9}",
         "field 'num_experts_per_tok': 9 is not an integer in [1, 8]"},
        {"{\"model_type\": \"llama4\", \"text_config\": {\"num_hidden_layers\": 2, \"hidden_size\": 512, \"intermediate_size\": 10,"
         " \"num_attention_heads\": 8, \"vocab_size\": 10, \"num_local_experts\": 8, \"num_experts_per_tok\": 1,"
         " \"moe_layers\": [5]}}", "field 'text_config.moe_layers': not a list of layer indices below num_hidden_layers"},
        {"{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"hidden_size\": 512, \"intermediate_size\": 10,"
         " \"num_attention_heads\": 8, \"vocab_size\": 10, \"hidden_act\": \"relu\"}", "field 'hidden_act': a gated MLP"},
        {"{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"hidden_size\": 512, \"intermediate_size\": 10,"
         " \"num_attention_heads\": 8, \"vocab_size\": 10, \"torch_dtype\": \"int8\"}", "field 'torch_dtype': not bfloat16"},
    };
    int i;
    for (i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        vidur_model_spec m;
        vidur_error e;
        vidur_result r = parse(cases[i].json, &m, &e);
        if (!CHECK(r != VIDUR_OK) || !CHECK_CONTAINS(e.message, cases[i].want) || !CHECK(strchr(e.message, '\n') == NULL))
            printf("  case %d: %s\n", i, e.message);
    }
    /* a missing file names the file */
    {
        vidur_model_spec m;
        vidur_error e;
        CHECK(vidur_model_spec_from_hf_config("data/models/no/such/config.json", "x", &m, &e) != VIDUR_OK);
        CHECK_CONTAINS(e.message, "data/models/no/such/config.json");
    }
}

int main(void)
{
    RUN_TEST(test_committed_configs_are_the_builtins);
    RUN_TEST(test_config_values);
    RUN_TEST(test_dense_llama_config_is_the_builtin);
    RUN_TEST(test_model_name);
    RUN_TEST(test_moe_layer_patterns);
    RUN_TEST(test_bad_configs);
    return test_finish();
}
