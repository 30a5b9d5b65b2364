/* Configuration: Vidur's defaults (workload_and_metrics.md §7), flag <-> INI equivalence,
   error messages for bad input, validation. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#endif
#include "vidur.h"
#include "test.h"
#include <unistd.h>

/* The config as JSON text (vidur_config_write_json), malloc'd. Two configs are equal for
   these tests when their JSON dumps are byte-identical. */
static char *config_json(const vidur_config *cfg)
{
    FILE *f = tmpfile();
    char *s;
    if (!f) return NULL;
    if (vidur_config_write_json(cfg, f) != VIDUR_OK) { fclose(f); return NULL; }
    s = test_slurp_(f);
    fclose(f);
    return s;
}

static int same_config_(const vidur_config *a, const vidur_config *b, int quiet)
{
    char *ja = config_json(a), *jb = config_json(b);
    int same = ja && jb && strcmp(ja, jb) == 0;
    if (!same && ja && jb && !quiet) {
        /* show where they differ */
        size_t i = 0;
        while (ja[i] && ja[i] == jb[i]) i++;
        printf("  json differs at byte %lu: \"%.60s\" vs \"%.60s\"\n", (unsigned long)i, ja + i, jb + i);
    }
    free(ja);
    free(jb);
    return same;
}
#define same_config(a, b) same_config_((a), (b), 0)
#define different_config(a, b) (!same_config_((a), (b), 1))

TEST(test_defaults)
{
    vidur_config c;
    const vidur_replica_scheduler_params *rp;
    const vidur_predictor_params *pp;
    vidur_config_init(&c);
    CHECK_EQ_INT(c.seed, 42);
    CHECK_NEAR(c.time_limit, 0, 0);
    CHECK_EQ_INT(c.num_replicas, 1);
    CHECK_STR_EQ(c.model_name, "meta-llama/Llama-2-7b-hf");
    CHECK_STR_EQ(c.device, "a100");
    CHECK_STR_EQ(c.network_device, "a100_pairwise_nvlink");
    CHECK_EQ_INT(c.tensor_parallel_size, 1);
    CHECK_EQ_INT(c.num_pipeline_stages, 1);
    CHECK_NEAR(c.memory_margin_fraction, 0.1, 1e-12);
    CHECK_STR_EQ(c.global_scheduler_type, "round_robin");
    CHECK_STR_EQ(c.replica_scheduler_type, "sarathi");
    CHECK_EQ_INT(c.sarathi.chunk_size, 512);
    CHECK_EQ_INT(c.sarathi.batch_size_cap, 128);
    CHECK_EQ_INT(c.sarathi.block_size, 16);
    CHECK_EQ_INT(c.sarathi.num_blocks, 0);
    CHECK_NEAR(c.sarathi.watermark_blocks_fraction, 0.01, 1e-12);
    CHECK_EQ_INT(c.vllm.batch_size_cap, 128);
    CHECK_EQ_INT(c.vllm.max_tokens_in_batch, 4096);
    CHECK_NEAR(c.vllm.watermark_blocks_fraction, 0.01, 1e-12);
    CHECK_EQ_INT(c.orca.batch_size_cap, 128);
    CHECK_EQ_INT(c.faster_transformer.batch_size_cap, 128);
    CHECK_EQ_INT(c.lightllm.max_tokens_in_batch, 4096);
    CHECK_EQ_INT(c.lightllm.max_waiting_iters, 10);
    CHECK_STR_EQ(c.request_generator_type, "synthetic");
    CHECK_EQ_INT(c.synthetic_num_requests, 128);
    CHECK_NEAR(c.synthetic_duration, 0, 0);
    CHECK_STR_EQ(c.length_generator_type, "fixed");
    CHECK_STR_EQ(c.interval_generator_type, "poisson");
    CHECK_EQ_INT(c.fixed_prefill_tokens, 2048);
    CHECK_EQ_INT(c.fixed_decode_tokens, 512);
    CHECK_EQ_INT(c.fixed_max_tokens, 4096);
    CHECK_EQ_INT(c.uniform_min_tokens, 1024);
    CHECK_EQ_INT(c.uniform_max_tokens, 4096);
    CHECK_NEAR(c.uniform_prefill_to_decode_ratio, 20, 0);
    CHECK_NEAR(c.zipf_theta, 0.6, 1e-12);
    CHECK_NEAR(c.poisson_qps, 0.5, 1e-12);
    CHECK_NEAR(c.gamma_qps, 0.2, 1e-12);
    CHECK_NEAR(c.gamma_cv, 0.5, 1e-12);
    CHECK_EQ_INT(c.trace_replay_max_tokens, 4096);
    CHECK_EQ_INT(c.random_forrest.prediction_max_batch_size, 128);
    CHECK_EQ_INT(c.random_forrest.prediction_max_tokens_per_request, 4096);
    CHECK_EQ_INT(c.random_forrest.prediction_max_prefill_chunk_size, 4096);
    CHECK_EQ_INT(c.random_forrest.kv_cache_prediction_granularity, 64);
    CHECK_EQ_INT(c.random_forrest.k_fold_cv_splits, 10);
    CHECK_NEAR(c.random_forrest.attention_decode_batching_overhead_fraction, 0.1, 1e-12);
    CHECK_NEAR(c.random_forrest.nccl_cpu_launch_overhead_ms, 0.02, 1e-12);
    CHECK_EQ_INT(c.random_forrest.skip_cpu_overhead_modeling, 1);
    CHECK_EQ_INT(c.linear_regression.prediction_max_batch_size, 128);
    CHECK_STR_EQ(c.output_dir, "simulator_output");
    CHECK_EQ_INT(c.write_metrics, 1);
    CHECK_EQ_INT(c.write_json_trace, 0);
    CHECK_EQ_INT(c.enable_chrome_trace, 1);
    CHECK_EQ_INT(c.store_plots, 1);
    CHECK_EQ_INT(c.store_request_metrics, 1);
    CHECK_EQ_INT(c.store_operation_metrics, 0);
    CHECK_EQ_INT(c.keep_individual_batch_metrics, 0);
    CHECK(c.subsamples < 0);
    CHECK_EQ_INT(c.num_global_plugins, 0);
    CHECK_EQ_INT(c.num_replica_plugins, 0);
    /* the active replica scheduler section is sarathi's */
    rp = vidur_config_replica_params(&c);
    REQUIRE(rp != NULL);
    CHECK_EQ_INT(rp->chunk_size, 512);
    pp = vidur_config_predictor_params(&c);
    CHECK(pp != NULL);
    /* the default config is valid */
    {
        vidur_error e;
        memset(&e, 0, sizeof e);
        CHECK_EQ_INT(vidur_config_validate(&c, &e), VIDUR_OK);
        if (e.message[0]) printf("  validate: %s\n", e.message);
    }
}

/* The same setting through every entry point gives the same config. */
TEST(test_flag_ini_equivalence)
{
    vidur_config a, b, c, d, e0, base;
    vidur_error err;
    const char *pos[4];
    int npos = -1;
    char *argv1[] = {"--sarathi_scheduler_config_chunk_size", "256"};
    char *argv2[] = {"--sarathi_scheduler_config_chunk_size=256"};

    vidur_config_init(&base);
    vidur_config_init(&a);
    vidur_config_init(&b);
    vidur_config_init(&c);
    vidur_config_init(&d);
    vidur_config_init(&e0);
    CHECK_EQ_INT(vidur_config_set(&a, "--sarathi_scheduler_config_chunk_size", "256", &err), VIDUR_OK);
    CHECK_EQ_INT(a.sarathi.chunk_size, 256);
    CHECK_EQ_INT(vidur_config_set_ini(&b, "sarathi_scheduler_config", "chunk_size", "256", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_load_ini_string(&c, "[sarathi_scheduler_config]\nchunk_size = 256\n", "test.ini", &err),
                 VIDUR_OK);
    CHECK_EQ_INT(vidur_config_parse_args(&d, 2, argv1, pos, 4, &npos, &err), VIDUR_OK);
    CHECK_EQ_INT(npos, 0);
    CHECK_EQ_INT(vidur_config_parse_args(&e0, 1, argv2, pos, 4, &npos, &err), VIDUR_OK);
    CHECK(same_config(&a, &b));
    CHECK(same_config(&a, &c));
    CHECK(same_config(&a, &d));
    CHECK(same_config(&a, &e0));
    CHECK(different_config(&a, &base));
    /* the structs themselves are identical too (all started from vidur_config_init) */
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(memcmp(&a, &c, sizeof a) == 0);
    CHECK(memcmp(&a, &d, sizeof a) == 0);
    CHECK(memcmp(&a, &e0, sizeof a) == 0);
    CHECK_EQ_INT(c.sarathi.chunk_size, 256);
    CHECK_EQ_INT(d.sarathi.chunk_size, 256);
    /* the flag without the leading dashes is accepted too */
    vidur_config_init(&b);
    CHECK_EQ_INT(vidur_config_set(&b, "sarathi_scheduler_config_chunk_size", "256", &err), VIDUR_OK);
    CHECK(same_config(&a, &b));
}

/* Several settings of different types (string, int, double, bool) at once. */
TEST(test_equivalence_many_types)
{
    vidur_config a, b, c, d;
    vidur_error err;
    const char *pos[4];
    int npos = -1;
    const char *ini =
        "seed = 7\n"
        "time_limit = 12.5\n"
        "[cluster_config]\n"
        "num_replicas = 3\n"
        "[replica_config]\n"
        "model_name = meta-llama/Meta-Llama-3-8B\n"
        "device = h100\n"
        "network_device = h100_pairwise_nvlink\n"
        "tensor_parallel_size = 2\n"
        "[replica_scheduler_config]\n"
        "type = vllm\n"
        "[vllm_scheduler_config]\n"
        "batch_size_cap = 64\n"
        "[poisson_request_interval_generator_config]\n"
        "qps = 2.25\n"
        "[metrics_config]\n"
        "write_json_trace = true\n";
    char *argv[] = {"--seed", "7", "--time_limit", "12.5", "--cluster_config_num_replicas", "3",
                    "--replica_config_model_name", "meta-llama/Meta-Llama-3-8B", "--replica_config_device", "h100",
                    "--replica_config_network_device=h100_pairwise_nvlink", "--replica_config_tensor_parallel_size", "2",
                    "--replica_scheduler_config_type", "vllm", "--vllm_scheduler_config_batch_size_cap", "64",
                    "--poisson_request_interval_generator_config_qps", "2.25", "--metrics_config_write_json_trace",
                    "config.ini"};
    int argc = (int)(sizeof argv / sizeof argv[0]);

    vidur_config_init(&a);
    vidur_config_init(&b);
    vidur_config_init(&c);
    vidur_config_init(&d);
    CHECK_EQ_INT(vidur_config_load_ini_string(&a, ini, "many.ini", &err), VIDUR_OK);
    if (err.code != VIDUR_OK) printf("  %s\n", err.message);
    CHECK_EQ_INT(vidur_config_parse_args(&b, argc, argv, pos, 4, &npos, &err), VIDUR_OK);
    if (err.code != VIDUR_OK) printf("  %s\n", err.message);
    CHECK_EQ_INT(npos, 1);
    if (npos == 1) CHECK_STR_EQ(pos[0], "config.ini");

    CHECK_EQ_INT(vidur_config_set(&c, "seed", "7", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "--time_limit", "12.5", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "cluster_config_num_replicas", "3", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_device", "h100", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_network_device", "h100_pairwise_nvlink", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_tensor_parallel_size", "2", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_scheduler_config_type", "vllm", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "vllm_scheduler_config_batch_size_cap", "64", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "poisson_request_interval_generator_config_qps", "2.25", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "metrics_config_write_json_trace", "true", &err), VIDUR_OK);

    CHECK_EQ_INT(vidur_config_set_ini(&d, "", "seed", "7", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set_ini(&d, "", "time_limit", "12.5", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set_ini(&d, "cluster_config", "num_replicas", "3", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set_ini(&d, "replica_config", "model_name", "meta-llama/Meta-Llama-3-8B", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set_ini(&d, "replica_config", "device", "h100", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set_ini(&d, "replica_config", "network_device", "h100_pairwise_nvlink", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set_ini(&d, "replica_config", "tensor_parallel_size", "2", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set_ini(&d, "replica_scheduler_config", "type", "vllm", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set_ini(&d, "vllm_scheduler_config", "batch_size_cap", "64", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set_ini(&d, "poisson_request_interval_generator_config", "qps", "2.25", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set_ini(&d, "metrics_config", "write_json_trace", "true", &err), VIDUR_OK);

    CHECK_EQ_INT(a.seed, 7);
    CHECK_NEAR(a.time_limit, 12.5, 0);
    CHECK_EQ_INT(a.num_replicas, 3);
    CHECK_STR_EQ(a.device, "h100");
    CHECK_EQ_INT(a.tensor_parallel_size, 2);
    CHECK_STR_EQ(a.replica_scheduler_type, "vllm");
    CHECK_EQ_INT(a.vllm.batch_size_cap, 64);
    CHECK_NEAR(a.poisson_qps, 2.25, 0);
    CHECK_EQ_INT(a.write_json_trace, 1);
    CHECK_EQ_INT(b.seed, 7);
    CHECK_NEAR(b.time_limit, 12.5, 0);
    CHECK_EQ_INT(b.write_json_trace, 1);
    CHECK(same_config(&a, &b));
    CHECK(same_config(&a, &c));
    CHECK(same_config(&a, &d));
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(memcmp(&a, &c, sizeof a) == 0);
    CHECK(memcmp(&a, &d, sizeof a) == 0);
}

TEST(test_bool_flags)
{
    vidur_config c;
    vidur_error err;
    const char *pos[2];
    int npos = 0;
    char *argv_no[] = {"--no-metrics_config_write_metrics", "--no-metrics_config_enable_chrome_trace"};
    char *argv_yes[] = {"--metrics_config_write_metrics"};
    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_parse_args(&c, 2, argv_no, pos, 2, &npos, &err), VIDUR_OK);
    CHECK_EQ_INT(c.write_metrics, 0);
    CHECK_EQ_INT(c.enable_chrome_trace, 0);
    CHECK_EQ_INT(vidur_config_parse_args(&c, 1, argv_yes, pos, 2, &npos, &err), VIDUR_OK);
    CHECK_EQ_INT(c.write_metrics, 1);
    CHECK_EQ_INT(vidur_config_set(&c, "metrics_config_write_metrics", "false", &err), VIDUR_OK);
    CHECK_EQ_INT(c.write_metrics, 0);
    CHECK_EQ_INT(vidur_config_set_ini(&c, "metrics_config", "write_metrics", "True", &err), VIDUR_OK);
    CHECK_EQ_INT(c.write_metrics, 1);
    CHECK_EQ_INT(vidur_config_set(&c, "metrics_config_timestamp_output_dir", "false", &err), VIDUR_OK);
    CHECK_EQ_INT(c.timestamp_output_dir, 0);
    CHECK(vidur_config_set(&c, "metrics_config_write_metrics", "maybe", &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "write_metrics");
}

/* Later sources override earlier ones; an INI file on top of a config keeps the other keys. */
TEST(test_layering)
{
    vidur_config c;
    vidur_error err;
    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_set(&c, "cluster_config_num_replicas", "4", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_load_ini_string(&c, "; comment\n[sarathi_scheduler_config]\nchunk_size = 1024\n",
                                              "layer.ini", &err), VIDUR_OK);
    CHECK_EQ_INT(c.num_replicas, 4);
    CHECK_EQ_INT(c.sarathi.chunk_size, 1024);
    CHECK_EQ_INT(vidur_config_set(&c, "sarathi_scheduler_config_chunk_size", "128", &err), VIDUR_OK);
    CHECK_EQ_INT(c.sarathi.chunk_size, 128);
}

TEST(test_unknown_key)
{
    vidur_config c, before;
    vidur_error err;
    vidur_config_init(&c);
    vidur_config_init(&before);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_devce", "a100", &err), VIDUR_ERR_CONFIG);
    CHECK_EQ_INT(err.code, VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "replica_config_devce");
    CHECK_CONTAINS(err.message, "replica_config_device");
    CHECK(strchr(err.message, '\n') == NULL);
    CHECK(same_config(&c, &before));

    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_set(&c, "--completely_unrelated_flag", "1", &err), VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "completely_unrelated_flag");

    memset(&err, 0, sizeof err);
    CHECK(vidur_config_set_ini(&c, "replica_config", "devcie", "a100", &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "devcie");

    memset(&err, 0, sizeof err);
    CHECK(vidur_config_set_ini(&c, "no_such_section", "device", "a100", &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "no_such_section");

    /* unknown key inside an INI text: names the file, the line and the key */
    memset(&err, 0, sizeof err);
    CHECK(vidur_config_load_ini_string(&c, "[replica_config]\ndevice = a100\ndevcie = a100\n", "typo.ini", &err)
          != VIDUR_OK);
    CHECK_CONTAINS(err.message, "typo.ini");
    CHECK_CONTAINS(err.message, "devcie");
    CHECK_CONTAINS(err.message, "3");
    CHECK(strchr(err.message, '\n') == NULL);

    /* flags through parse_args */
    {
        char *argv[] = {"--replica_config_devce", "a100"};
        const char *pos[2];
        int npos = 0;
        memset(&err, 0, sizeof err);
        CHECK(vidur_config_parse_args(&c, 2, argv, pos, 2, &npos, &err) != VIDUR_OK);
        CHECK_CONTAINS(err.message, "replica_config_devce");
        CHECK_CONTAINS(err.message, "replica_config_device");
    }
}

TEST(test_bad_values)
{
    vidur_config c, before;
    vidur_error err;
    vidur_result r;
    vidur_config_init(&c);
    vidur_config_init(&before);

    memset(&err, 0, sizeof err);
    CHECK(vidur_config_set(&c, "synthetic_request_generator_config_num_requests", "12x", &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "num_requests");
    CHECK_CONTAINS(err.message, "12x");

    memset(&err, 0, sizeof err);
    CHECK(vidur_config_set(&c, "poisson_request_interval_generator_config_qps", "abc", &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "qps");

    memset(&err, 0, sizeof err);
    CHECK(vidur_config_set(&c, "sarathi_scheduler_config_chunk_size", "", &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "chunk_size");

    memset(&err, 0, sizeof err);
    CHECK(vidur_config_set(&c, "sarathi_scheduler_config_chunk_size", "99999999999999999999", &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "chunk_size");

    /* a negative rate is rejected when set, or at the latest by validation */
    memset(&err, 0, sizeof err);
    r = vidur_config_set(&c, "poisson_request_interval_generator_config_qps", "-1", &err);
    if (r == VIDUR_OK) r = vidur_config_validate(&c, &err);
    CHECK(r != VIDUR_OK);
    CHECK_CONTAINS(err.message, "qps");
    vidur_config_init(&c);

    /* out of range: tensor_parallel_size 0 */
    memset(&err, 0, sizeof err);
    r = vidur_config_set(&c, "replica_config_tensor_parallel_size", "0", &err);
    if (r == VIDUR_OK) r = vidur_config_validate(&c, &err);
    CHECK(r != VIDUR_OK);
    CHECK_CONTAINS(err.message, "tensor_parallel_size");
    vidur_config_init(&c);

    memset(&err, 0, sizeof err);
    r = vidur_config_set(&c, "cluster_config_num_replicas", "0", &err);
    if (r == VIDUR_OK) r = vidur_config_validate(&c, &err);
    CHECK(r != VIDUR_OK);
    CHECK_CONTAINS(err.message, "num_replicas");
    vidur_config_init(&c);

    memset(&err, 0, sizeof err);
    r = vidur_config_set(&c, "replica_config_memory_margin_fraction", "1.5", &err);
    if (r == VIDUR_OK) r = vidur_config_validate(&c, &err);
    CHECK(r != VIDUR_OK);
    CHECK_CONTAINS(err.message, "memory_margin_fraction");
    vidur_config_init(&c);

    /* a bad value in an INI text names the file, the line and the key */
    memset(&err, 0, sizeof err);
    CHECK(vidur_config_load_ini_string(&c, "[synthetic_request_generator_config]\n\nnum_requests = 12x\n", "bad.ini",
                                       &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "bad.ini");
    CHECK_CONTAINS(err.message, "num_requests");
    CHECK_CONTAINS(err.message, "3");

    /* unknown type names */
    vidur_config_init(&c);
    memset(&err, 0, sizeof err);
    r = vidur_config_set(&c, "replica_scheduler_config_type", "no_such_scheduler", &err);
    if (r == VIDUR_OK) r = vidur_config_validate(&c, &err);
    CHECK(r != VIDUR_OK);
    CHECK_CONTAINS(err.message, "no_such_scheduler");
}

TEST(test_ini_line_too_long)
{
    vidur_config c;
    vidur_error err;
    char text[600];
    char value[301];
    memset(value, 'x', 300);
    value[300] = '\0';
    snprintf(text, sizeof text, "[metrics_config]\nwandb_project = %s\n", value);
    vidur_config_init(&c);
    memset(&err, 0, sizeof err);
    CHECK(vidur_config_load_ini_string(&c, text, "long.ini", &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "long.ini");
    CHECK_CONTAINS(err.message, "2");
    CHECK(strchr(err.message, '\n') == NULL);
}

TEST(test_missing_ini_file)
{
    vidur_config c;
    vidur_error err;
    vidur_config_init(&c);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_load_ini(&c, "/nonexistent/dir/vidur.ini", &err), VIDUR_ERR_IO);
    CHECK_CONTAINS(err.message, "/nonexistent/dir/vidur.ini");
}

TEST(test_ini_file_roundtrip)
{
    vidur_config a, b;
    vidur_error err;
    char path[] = "/tmp/vidur_test_config_XXXXXX";
    FILE *f;
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs("seed = 3\n[cluster_config]\nnum_replicas = 2\n", f);
    fclose(f);
    vidur_config_init(&a);
    vidur_config_init(&b);
    CHECK_EQ_INT(vidur_config_load_ini(&a, path, &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_load_ini_string(&b, "seed = 3\n[cluster_config]\nnum_replicas = 2\n", path, &err),
                 VIDUR_OK);
    CHECK_EQ_INT(a.seed, 3);
    CHECK_EQ_INT(a.num_replicas, 2);
    CHECK(same_config(&a, &b));
    remove(path);
}

TEST(test_validate)
{
    vidur_config c;
    vidur_error err;

    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_model_name", "meta-llama/NoSuchModel", &err), VIDUR_OK);
    memset(&err, 0, sizeof err);
    CHECK(vidur_config_validate(&c, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "meta-llama/NoSuchModel");

    /* a config.json the program did not read (built without VIDUR_JSON): an error, not Llama-2-7B */
    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_model_config", "data/models/Qwen/Qwen3-14B/config.json", &err), VIDUR_OK);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_validate(&c, &err), VIDUR_ERR_UNSUPPORTED);
    CHECK_CONTAINS(err.message, "replica_config_model_config");
    CHECK_CONTAINS(err.message, "VIDUR_JSON");
    {
        /* registered in code under replica_config_model_name: accepted */
        vidur_model_spec m = *vidur_find_model(NULL, "Qwen/Qwen3-14B");
        snprintf(m.name, sizeof m.name, "%s", "my/qwen3");
        CHECK_EQ_INT(vidur_config_add_model(&c, &m, &err), VIDUR_OK);
        CHECK_EQ_INT(vidur_config_set(&c, "replica_config_model_name", "my/qwen3", &err), VIDUR_OK);
        CHECK_EQ_INT(vidur_config_validate(&c, &err), VIDUR_OK);
    }

    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_device", "tpu-v5e", &err), VIDUR_OK);
    memset(&err, 0, sizeof err);
    CHECK(vidur_config_validate(&c, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "tpu-v5e");

    /* Llama-2-7B has 32 heads; TP 3 does not divide them */
    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_tensor_parallel_size", "3", &err), VIDUR_OK);
    memset(&err, 0, sizeof err);
    CHECK(vidur_config_validate(&c, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "tensor_parallel_size");

    /* 32 layers do not split into 3 pipeline stages */
    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_num_pipeline_stages", "3", &err), VIDUR_OK);
    memset(&err, 0, sizeof err);
    CHECK(vidur_config_validate(&c, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "num_pipeline_stages");

    /* TP 2 and TP 4 are fine */
    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_tensor_parallel_size", "2", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_validate(&c, &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "replica_config_num_pipeline_stages", "4", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_validate(&c, &err), VIDUR_OK);
}

/* A config vidur_config_init never filled (issue 15 item 10: a zeroed one failed with
   "semantics: unknown value ''"): every entry point says to call vidur_config_init first, and
   an initialised copy of it works. */
TEST(test_zeroed_config)
{
    vidur_config c, copy;
    vidur_error err;
    vidur_sim *sim = (vidur_sim *)&c; /* must come back NULL */
    memset(&c, 0, sizeof c);
    strcpy(c.model_name, "meta-llama/Meta-Llama-3-8B");
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_sim_create(&c, &sim, &err), VIDUR_ERR_CONFIG);
    CHECK(sim == NULL);
    CHECK_CONTAINS(err.message, "vidur_sim_create: the config was not initialised: call vidur_config_init first");
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_validate(&c, &err), VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "call vidur_config_init first");
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_set(&c, "cluster_config_num_replicas", "2", &err), VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "vidur_config_set: the config was not initialised");
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_set_ini(&c, "cluster_config", "num_replicas", "2", &err), VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "call vidur_config_init first");
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_load_ini_string(&c, "seed = 1\n", "x.ini", &err), VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "call vidur_config_init first");
    CHECK_EQ_INT(vidur_config_validate(NULL, &err), VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "no config");
    /* initialised, then copied by value: accepted */
    vidur_config_init(&c);
    copy = c;
    CHECK_EQ_INT(vidur_config_set(&copy, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_validate(&copy, &err), VIDUR_OK);
}

/* The component registry (issue 15 item 3): each type key's choices are exactly the registry's
   built-in names in order; the counts, flags and sections of a few entries by hand; a plug-in
   comes after the built-ins, is found before a built-in of its name, is accepted by validation
   and listed in its error's choices; --help lists every built-in under its type key; the fork
   rule reads the registry's [F] flag. */
static int dummy_route_(void *st, vidur_sim *sim, const vidur_request *q) { (void)st; (void)sim; (void)q; return 0; }
static double dummy_op_(void *st, int op, int64_t k1, int64_t k2) { (void)st; (void)op; (void)k1; (void)k2; return 1; }

TEST(test_component_registry)
{
    static const char *const type_section[3] = {"global_scheduler_config", "replica_scheduler_config", "execution_time_predictor_config"};
    static const vidur_global_scheduler_api mine = {"mine", NULL, NULL, dummy_route_, NULL, NULL, NULL, NULL};
    static const vidur_global_scheduler_api my_lop = {"lop", NULL, NULL, dummy_route_, NULL, NULL, NULL, NULL};
    static const vidur_predictor_plugin unit = {{"unit", dummy_op_, NULL}, NULL, NULL, NULL};
    const int builtins[3] = {12, 6, 4};
    vidur_config c;
    vidur_error err;
    vidur_component_info ci;
    const char *why = NULL;
    int kind, i, n;
    FILE *f;
    char *help;
    for (kind = 0; kind < 3; kind++) {
        char joined[1024] = "";
        const char *choices = NULL;
        n = vidur_component_count(NULL, (vidur_component_kind)kind);
        CHECK_EQ_INT(n, builtins[kind]);
        for (i = 0; i < n; i++) {
            REQUIRE(vidur_component_get(NULL, (vidur_component_kind)kind, i, &ci));
            CHECK_EQ_INT(ci.kind, kind);
            CHECK((ci.flags & VIDUR_COMPONENT_PLUGIN) == 0 && ci.help && ci.help[0]);
            if (i) strcat(joined, "|");
            strcat(joined, ci.name);
        }
        CHECK(!vidur_component_get(NULL, (vidur_component_kind)kind, n, &ci));
        for (i = 0; i < vidur_config_key_count(); i++) {
            vidur_key_info k = vidur_config_key_info(i);
            if (!strcmp(k.section, type_section[kind]) && !strcmp(k.key, "type")) choices = k.choices;
        }
        REQUIRE(choices != NULL);
        CHECK_STR_EQ(choices, joined);
    }
    CHECK(vidur_component_find(NULL, VIDUR_COMPONENT_ROUTER, "ranked_sticky_lop_uncached", &ci));
    CHECK_STR_EQ(ci.section, "ranked_sticky_lop_uncached_global_scheduler_config");
    CHECK_EQ_INT(ci.flags, VIDUR_COMPONENT_FORK);
    CHECK(vidur_component_find(NULL, VIDUR_COMPONENT_ROUTER, "lor", &ci) && ci.flags == 0);
    CHECK(vidur_component_find(NULL, VIDUR_COMPONENT_REPLICA_SCHEDULER, "vllm_v1", &ci) && ci.flags == VIDUR_COMPONENT_FORK);
    CHECK_STR_EQ(ci.section, "vllm_v1_scheduler_config");
    CHECK(vidur_component_find(NULL, VIDUR_COMPONENT_PREDICTOR, "random_forest", &ci) && ci.flags == VIDUR_COMPONENT_ALIAS);
    CHECK_STR_EQ(ci.section, "random_forrest_execution_time_predictor_config");
    CHECK(!vidur_component_find(NULL, VIDUR_COMPONENT_ROUTER, "mine", &ci));
    CHECK(ci.name == NULL);

    /* plug-ins: after the built-ins, found first, validated, listed in the error's choices */
    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_add_global_scheduler(&c, &mine, &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_add_global_scheduler(&c, &my_lop, &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_add_predictor(&c, &unit, &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_component_count(&c, VIDUR_COMPONENT_ROUTER), 14);
    CHECK_EQ_INT(vidur_component_count(&c, VIDUR_COMPONENT_PREDICTOR), 5);
    CHECK(vidur_component_get(&c, VIDUR_COMPONENT_ROUTER, 12, &ci));
    CHECK_STR_EQ(ci.name, "mine");
    CHECK_STR_EQ(ci.section, "mine_global_scheduler_config");
    CHECK(ci.flags == VIDUR_COMPONENT_PLUGIN && ci.help == NULL);
    CHECK(vidur_component_find(&c, VIDUR_COMPONENT_ROUTER, "lop", &ci) && ci.flags == VIDUR_COMPONENT_PLUGIN);
    CHECK(vidur_component_find(&c, VIDUR_COMPONENT_PREDICTOR, "unit", &ci));
    CHECK_STR_EQ(ci.section, "unit_execution_time_predictor_config");
    CHECK_EQ_INT(vidur_config_set(&c, "global_scheduler_config_type", "mine", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(&c, "execution_time_predictor_config_type", "unit", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_validate(&c, &err), VIDUR_OK);
    CHECK(vidur_config_predictor_params(&c) == &c.random_forrest); /* a plug-in shares Vidur's default section */
    CHECK_EQ_INT(vidur_config_set(&c, "execution_time_predictor_config_type", "units", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_validate(&c, &err), VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "execution_time_predictor_config_type: unknown value 'units' (choices: random_forrest|random_forest|linear_regression|roofline|unit)");
    CHECK_EQ_INT(vidur_config_set(&c, "execution_time_predictor_config_type", "linear_regression", &err), VIDUR_OK);
    CHECK(vidur_config_predictor_params(&c) == &c.linear_regression);
    CHECK_EQ_INT(vidur_config_set(&c, "global_scheduler_config_type", "mines", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_validate(&c, &err), VIDUR_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "|ranked_sticky_lop_uncached|ppo|mine|lop)");

    /* the fork rule: a built-in [F] router selects the fork's semantics, a plug-in of that name does not */
    CHECK_EQ_INT(vidur_config_set(&c, "global_scheduler_config_type", "lop", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_fork_semantics(&c, &why), 0);
    vidur_config_init(&c);
    CHECK_EQ_INT(vidur_config_set(&c, "global_scheduler_config_type", "lop", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_fork_semantics(&c, &why), 1);
    CHECK_STR_EQ(why, "global_scheduler_config_type lop");
    CHECK_EQ_INT(vidur_config_set(&c, "replica_scheduler_config_type", "vllm_v1", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_fork_semantics(&c, &why), 1);
    CHECK_STR_EQ(why, "replica_scheduler_config_type vllm_v1");
    CHECK(vidur_config_replica_params(&c) == &c.vllm_v1);

    /* --help: every built-in under its type key, with its line */
    f = tmpfile();
    REQUIRE(f != NULL);
    vidur_config_print_help(f);
    help = test_slurp_(f);
    fclose(f);
    REQUIRE(help != NULL);
    CHECK_CONTAINS(help, "  --replica_scheduler_config_type (default: sarathi)\n      Replica scheduler, one of the following or a registered plug-in:\n        sarathi ");
    CHECK_CONTAINS(help, "\n        vllm_v1                       the fork's vLLM V1");
    CHECK_CONTAINS(help, "\n        ppo                           learned (PPO)");
    CHECK_CONTAINS(help, "\n        roofline                      the calibrated analytical roofline");
    free(help);
}

/* Vidur's keys accepted without effect (issue 15 item 4): exactly these say so in their help,
   the values land in cfg.compat, and a run with every one of them set gives the same summary
   as one without. */
static void compat_summary_(vidur_config *c, int64_t *completed, double *ttft, double *e2e)
{
    vidur_sim *sim = NULL;
    vidur_error err;
    CHECK_EQ_INT(vidur_config_set(c, "metrics_config_write_metrics", "false", &err), VIDUR_OK);
    CHECK_EQ_INT(vidur_config_set(c, "synthetic_request_generator_config_num_requests", "64", &err), VIDUR_OK);
    REQUIRE(vidur_sim_create(c, &sim, &err) == VIDUR_OK);
    CHECK_EQ_INT(vidur_sim_run(sim), VIDUR_OK);
    *completed = vidur_sim_summary(sim)->num_completed;
    *ttft = vidur_sim_summary(sim)->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p50;
    *e2e = vidur_sim_summary(sim)->metric[VIDUR_METRIC_REQUEST_E2E_TIME].p90;
    vidur_sim_destroy(sim);
}

TEST(test_compat_keys)
{
    static const char *const want[] = {"log_level", "cache_config_watermark_blocks_fraction", "cache_config_prefix_caching_hash_algo",
                                       "metrics_config_wandb_project", "metrics_config_wandb_group", "metrics_config_wandb_run_name",
                                       "metrics_config_wandb_sweep_id", "metrics_config_wandb_run_id", "metrics_config_save_table_to_wandb",
                                       "metrics_config_cache_dir"};
    static const char *const value[] = {"debug", "0.2", "sha256", "p", "g", "r", "s", "i", "true", "/nonexistent/cache"};
    char got[10][96];
    int i, n = 0;
    vidur_config c;
    vidur_error err;
    int64_t done[2] = {0, 0};
    double ttft[2] = {0, 0}, e2e[2] = {0, 0};
    for (i = 0; i < vidur_config_key_count(); i++) {
        vidur_key_info k = vidur_config_key_info(i);
        if (strncmp(k.help, "Accepted for compatibility; ignored: ", 37) != 0) continue;
        if (n < 10) snprintf(got[n], sizeof got[n], "%s%s%s", k.section, k.section[0] ? "_" : "", k.key);
        n++;
    }
    REQUIRE(n == 10);
    for (i = 0; i < 10; i++) CHECK_STR_EQ(got[i], want[i]);
    vidur_config_init(&c);
    compat_summary_(&c, &done[0], &ttft[0], &e2e[0]);
    vidur_config_init(&c);
    for (i = 0; i < 10; i++) CHECK_EQ_INT(vidur_config_set(&c, want[i], value[i], &err), VIDUR_OK);
    CHECK_STR_EQ(c.compat.log_level, "debug");
    CHECK_STR_EQ(c.compat.prefix_caching_hash_algo, "sha256");
    CHECK_STR_EQ(c.compat.wandb_run_id, "i");
    CHECK_STR_EQ(c.compat.cache_dir, "/nonexistent/cache");
    CHECK_EQ_INT(c.compat.save_table_to_wandb, 1);
    compat_summary_(&c, &done[1], &ttft[1], &e2e[1]);
    CHECK_EQ_INT(done[0], 64);
    CHECK_EQ_INT(done[1], done[0]);
    CHECK(ttft[1] == ttft[0] && e2e[1] == e2e[0] && ttft[0] > 0);
}

/* A user-defined model from an INI [model.NAME] section is found by name and validates. */
TEST(test_user_model)
{
    vidur_config c;
    vidur_error err;
    const vidur_model_spec *m;
    const char *ini =
        "[model.tiny/Test-1B]\n"
        "num_layers = 16\n"
        "num_q_heads = 16\n"
        "num_kv_heads = 4\n"
        "embedding_dim = 2048\n"
        "mlp_hidden_dim = 5632\n"
        "[replica_config]\n"
        "model_name = tiny/Test-1B\n";
    vidur_config_init(&c);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_load_ini_string(&c, ini, "user_model.ini", &err), VIDUR_OK);
    if (err.message[0]) printf("  %s\n", err.message);
    m = vidur_find_model(&c, "tiny/Test-1B");
    REQUIRE(m != NULL);
    CHECK_EQ_INT(m->num_layers, 16);
    CHECK_EQ_INT(m->num_kv_heads, 4);
    CHECK_EQ_INT(m->embedding_dim, 2048);
    CHECK_EQ_INT(vidur_config_validate(&c, &err), VIDUR_OK);
}

TEST(test_key_table_and_help)
{
    int i, n = vidur_config_key_count();
    int found_device = 0, found_seed = 0, found_chunk = 0;
    FILE *f;
    char *help;
    CHECK(n > 50);
    for (i = 0; i < n; i++) {
        vidur_key_info k = vidur_config_key_info(i);
        if (!CHECK(k.section != NULL && k.key != NULL)) break;
        if (!strcmp(k.section, "replica_config") && !strcmp(k.key, "device")) {
            found_device = 1;
            CHECK_STR_EQ(k.default_value, "a100");
            CHECK_EQ_INT(k.type, VIDUR_T_STRING);
        }
        if (!strcmp(k.section, "") && !strcmp(k.key, "seed")) {
            found_seed = 1;
            CHECK_STR_EQ(k.default_value, "42");
        }
        if (!strcmp(k.section, "sarathi_scheduler_config") && !strcmp(k.key, "chunk_size")) {
            found_chunk = 1;
            CHECK_STR_EQ(k.default_value, "512");
        }
    }
    CHECK(found_device);
    CHECK(found_seed);
    CHECK(found_chunk);
    f = tmpfile();
    REQUIRE(f != NULL);
    vidur_config_print_help(f);
    help = test_slurp_(f);
    fclose(f);
    CHECK_CONTAINS(help, "replica_config_device");
    CHECK_CONTAINS(help, "sarathi_scheduler_config_chunk_size");
    free(help);
}

TEST(test_misc_api)
{
    CHECK_STR_EQ(vidur_version_string(), VIDUR_VERSION_STRING);
    CHECK(vidur_result_description(VIDUR_OK) != NULL);
    CHECK(vidur_result_description(VIDUR_ERR_CONFIG) != NULL);
    CHECK(vidur_builtin_model_count() >= 9);
    CHECK(vidur_builtin_device_count() >= 3);
    CHECK(vidur_builtin_node_count() >= 5);
}

int main(void)
{
    RUN_TEST(test_defaults);
    RUN_TEST(test_flag_ini_equivalence);
    RUN_TEST(test_equivalence_many_types);
    RUN_TEST(test_bool_flags);
    RUN_TEST(test_layering);
    RUN_TEST(test_unknown_key);
    RUN_TEST(test_bad_values);
    RUN_TEST(test_ini_line_too_long);
    RUN_TEST(test_missing_ini_file);
    RUN_TEST(test_ini_file_roundtrip);
    RUN_TEST(test_validate);
    RUN_TEST(test_zeroed_config);
    RUN_TEST(test_component_registry);
    RUN_TEST(test_compat_keys);
    RUN_TEST(test_user_model);
    RUN_TEST(test_key_table_and_help);
    RUN_TEST(test_misc_api);
    return test_finish();
}
