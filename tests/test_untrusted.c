/* test_untrusted.c - hostile values in the library's inputs (issue 14: INI numbers, traces,
   operator-table files, stage times, oversized and non-regular files, names in config.json).
   Every case here broke before its fix: a crash, undefined behaviour, a silent NaN run, or
   unbounded memory. Each must now be one error naming the file (and line) and the field. */
#define _POSIX_C_SOURCE 200809L
#define VIDUR_IMPLEMENTATION
#define VIDUR_MAX_TRACE_BYTES ((uint64_t)1 << 20) /* 1 MiB: the trace-memory bound, reached quickly */
#include "../vidur.h"
#define VIDUR_SEARCH_IMPLEMENTATION
#include "../vidur_search.h" /* the search-space bound */
#include "test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char g_dir[256];

TEST_UNUSED_ static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

TEST_UNUSED_ static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

/* loads an INI text; returns the result and leaves the message in msg */
static vidur_result ini(const char *text, char *msg, size_t n)
{
    vidur_config c;
    vidur_error err;
    vidur_result r;
    vidur_config_init(&c);
    memset(&err, 0, sizeof err);
    r = vidur_config_load_ini_string(&c, text, "t.ini", &err);
    if (r == VIDUR_OK) r = vidur_config_validate(&c, &err);
    snprintf(msg, n, "%s", r ? err.message : "");
    return r;
}

/* finding 2: a double converted to int out of range before any check (UB: 1e300, NaN, 3e9) */
TEST(test_model_numbers_out_of_range)
{
    static const char *bad[] = {"1e300", "nan", "3e9", "-1", "inf", "0x20", "2.5", ""};
    char text[256], msg[512];
    int i;
    for (i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
        snprintf(text, sizeof text, "[replica_config]\nmodel_name = m\n[model.m]\nnum_layers = %s\n", bad[i]);
        CHECK(ini(text, msg, sizeof msg) != VIDUR_OK);
        CHECK_CONTAINS(msg, "[model.m] num_layers");
        CHECK_CONTAINS(msg, "t.ini");
    }
    /* an ordinary value still works */
    CHECK_EQ_INT(ini("[replica_config]\nmodel_name = m\n[model.m]\nnum_layers = 40\nnum_q_heads = 40\nembedding_dim = 5120\n", msg, sizeof msg), VIDUR_OK);
    /* the 64-bit byte counts of the memory planner cannot overflow either (signed overflow before) */
    {
        vidur_config c;
        vidur_error err;
        vidur_sim *sim = NULL;
        vidur_config_init(&c);
        CHECK_EQ_INT(vidur_config_load_ini_string(&c, "[replica_config]\nmodel_name = m\n[model.m]\nnum_layers = 100000\nnum_q_heads = 1\n"
                                                      "num_kv_heads = 1\nembedding_dim = 10000000\n", "t.ini", &err), VIDUR_OK);
        c.write_metrics = 0;
        CHECK(vidur_sim_create(&c, &sim, &err) != VIDUR_OK);
        CHECK(sim == NULL);
        CHECK_CONTAINS(err.message, "64-bit");
        vidur_sim_destroy(sim);
    }
}

/* finding 8: NaN, inf and hex were accepted in [device.X] / [node.X] / [model.X] (a NaN bandwidth
   simulated "nan s" and exited 0); one number policy for every key */
TEST(test_one_number_policy)
{
    static const char *keys[] = {"[device.g]\nmemory_bandwidth_gbps", "[device.g]\nfp16_tflops", "[device.g]\ntotal_memory_gb",
                                 "[node.n]\nintra_node_bandwidth_gbps", "[node.n]\nlink_latency_us", "[model.m]\nrope_theta",
                                 "[model.m]\npartial_rotary_factor"};
    static const char *bad[] = {"nan", "NAN", "inf", "-inf", "infinity", "0x10", "1e999", "1.5x"};
    char text[256], msg[512];
    int i, j;
    for (i = 0; i < (int)(sizeof keys / sizeof keys[0]); i++)
        for (j = 0; j < (int)(sizeof bad / sizeof bad[0]); j++) {
            snprintf(text, sizeof text, "%s = %s\n", keys[i], bad[j]);
            CHECK(ini(text, msg, sizeof msg) != VIDUR_OK);
            CHECK_CONTAINS(msg, strchr(keys[i], '\n') + 1);
        }
    /* the same policy for ordinary keys and flags: hex was taken by strtod */
    CHECK(ini("[poisson_request_interval_generator_config]\nqps = 0x10\n", msg, sizeof msg) != VIDUR_OK);
    CHECK_CONTAINS(msg, "poisson_request_interval_generator_config_qps");
    {
        vidur_config c;
        vidur_error err;
        vidur_config_init(&c);
        CHECK(vidur_config_set(&c, "--poisson_request_interval_generator_config_qps", "0x1p3", &err) != VIDUR_OK);
        CHECK(vidur_config_set(&c, "--poisson_request_interval_generator_config_qps", "nan", &err) != VIDUR_OK);
        CHECK_EQ_INT(vidur_config_set(&c, "--poisson_request_interval_generator_config_qps", " 2.5e0 ", &err), VIDUR_OK);
        CHECK_NEAR(c.poisson_qps, 2.5, 0);
        CHECK_EQ_INT(vidur_config_set(&c, "--seed", "9007199254740993", &err), VIDUR_OK); /* 2^53 + 1: exact */
        CHECK(c.seed == 9007199254740993LL);
    }
}

/* finding 11: num_devices_per_node = 0 was reported as "unknown key" */
TEST(test_node_devices_zero)
{
    char msg[512];
    CHECK(ini("[node.n]\nnum_devices_per_node = 0\n", msg, sizeof msg) != VIDUR_OK);
    CHECK_CONTAINS(msg, "num_devices_per_node");
    CHECK_CONTAINS(msg, "out of range");
    CHECK(strstr(msg, "unknown key") == NULL);
    CHECK(ini("[node.n]\nnum_devices_per_nod = 4\n", msg, sizeof msg) != VIDUR_OK);
    CHECK_CONTAINS(msg, "unknown key");
}

/* a small run of cfg; returns its result and the error message */
static vidur_result run_cfg(vidur_config *c, char *msg, size_t n)
{
    vidur_error err;
    vidur_sim *sim = NULL;
    vidur_result r;
    memset(&err, 0, sizeof err);
    c->write_metrics = 0;
    r = vidur_sim_create(c, &sim, &err);
    if (r == VIDUR_OK && (r = vidur_sim_run(sim)) != VIDUR_OK) err = *vidur_sim_error(sim);
    snprintf(msg, n, "%s", r ? err.message : "");
    vidur_sim_destroy(sim);
    return r;
}

static void small_run_config(vidur_config *c)
{
    vidur_config_init(c);
    SET(c, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B");
    SET(c, "replica_config_device", "a100");
    SET(c, "synthetic_request_generator_config_num_requests", "20");
}

/* finding 7: negative or non-finite times in a table file (the loader took -5 ms; 1e308 became
   inf), and a negative stage time from a table that passes the loader (a polynomial with a
   negative coefficient) fails the run instead of printing "simulated -724.836 s" */
TEST(test_table_file_times)
{
    static const char *bad_values[] = {"-5", "1e308", "inf", "nan", "-0.001"};
    const char *path = tmp_path("t.vtab");
    char text[1024], msg[512];
    int i;
    for (i = 0; i < (int)(sizeof bad_values / sizeof bad_values[0]); i++) {
        vidur_table_set *set = NULL;
        vidur_error err;
        snprintf(text, sizeof text,
                 "vidur-tables 1\ntable op=mlp_up_proj predictor=random_forest kind=grid device=a100 model=meta-llama/Meta-Llama-3-8B node=- "
                 "tp=1 xmin=1 xmax=100 ymin=0 ymax=0 nx=1 ny=0\nx 50\nv 0.5 %s\n", bad_values[i]);
        REQUIRE(write_text(path, text));
        CHECK(vidur_table_set_load(path, &set, &err) != VIDUR_OK);
        CHECK(set == NULL);
        CHECK_CONTAINS(err.message, path);
        CHECK_CONTAINS(err.message, ":4:");
        vidur_table_set_free(set);
    }
    /* a polynomial may be negative somewhere: the stage time catches it */
    REQUIRE(write_text(path, "vidur-tables 1\ntable op=mlp_up_proj predictor=random_forest kind=poly device=a100 model=meta-llama/Meta-Llama-3-8B "
                             "node=- tp=1 xmin=1 xmax=100 ymin=0 ymax=0 nterms=1 sx=1 sy=0\nterms 0 0 -5\n"));
    {
        vidur_config c;
        small_run_config(&c);
        SET(&c, "random_forrest_execution_time_predictor_config_table_file", path);
        CHECK(run_cfg(&c, msg, sizeof msg) != VIDUR_OK);
        CHECK_CONTAINS(msg, "stage time");
        CHECK_CONTAINS(msg, "negative or not a number");
    }
    remove(path);
}

/* finding 9: unbounded readers and non-regular files */
TEST(test_unbounded_and_non_regular_inputs)
{
    const char *trace = tmp_path("trace.csv");
    char msg[512];
    vidur_config c;
    vidur_error err;
    FILE *f;
    int i;
    /* block_hash_ids longer than the request's blocks (plus one): 110 tokens are 6 blocks of 16 */
    REQUIRE(write_text(trace, "arrived_at,num_prefill_tokens,num_decode_tokens,block_hash_ids\n0.5,100,10,\"[1,2,3,4,5,6,7]\"\n"
                              "1.0,100,10,\"[1,2,3,4,5,6,7,8]\"\n"));
    small_run_config(&c);
    SET(&c, "request_generator_config_type", "trace_replay");
    SET(&c, "trace_request_generator_config_trace_file", trace);
    CHECK(run_cfg(&c, msg, sizeof msg) != VIDUR_OK);
    CHECK_CONTAINS(msg, "trace.csv:3: field 'block_hash_ids'");
    /* session ids and arrival times out of range (a double cast to int64 unchecked; inf accepted) */
    REQUIRE(write_text(trace, "arrived_at,num_prefill_tokens,num_decode_tokens,session_id\n0.5,100,10,1e300\n"));
    CHECK(run_cfg(&c, msg, sizeof msg) != VIDUR_OK);
    CHECK_CONTAINS(msg, "trace.csv:2: field 'session_id'");
    REQUIRE(write_text(trace, "arrived_at,num_prefill_tokens,num_decode_tokens\ninf,100,10\n"));
    CHECK(run_cfg(&c, msg, sizeof msg) != VIDUR_OK);
    CHECK_CONTAINS(msg, "trace.csv:2: field 'arrived_at'");
    /* one line past the cap (64 MiB) without a line end: the reader stops there */
    f = fopen(trace, "wb");
    REQUIRE(f != NULL);
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens\n0.5,100,10,", f);
    {
        static char block[1 << 16];
        memset(block, '7', sizeof block);
        for (i = 0; i < 1025; i++) fwrite(block, 1, sizeof block, f);
    }
    fclose(f);
    CHECK(run_cfg(&c, msg, sizeof msg) != VIDUR_OK);
    CHECK_CONTAINS(msg, "trace.csv:2: a line longer than 64 MiB");
    /* a folder, a character device: not regular files (a folder read as "empty file"; /dev/zero grew
       memory until the OOM killer) */
    SET(&c, "trace_request_generator_config_trace_file", g_dir);
    CHECK(run_cfg(&c, msg, sizeof msg) != VIDUR_OK);
    CHECK_CONTAINS(msg, "not a regular file (a folder)");
    SET(&c, "trace_request_generator_config_trace_file", "/dev/zero");
    CHECK(run_cfg(&c, msg, sizeof msg) != VIDUR_OK);
    CHECK_CONTAINS(msg, "/dev/zero: not a regular file");
    vidur_config_init(&c);
    CHECK(vidur_config_load_ini(&c, "/dev/zero", &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "/dev/zero: not a regular file");
    CHECK(vidur_config_load_ini(&c, g_dir, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "not a regular file");
    {
        vidur_table_set *set = NULL;
        CHECK(vidur_table_set_load("/dev/zero", &set, &err) != VIDUR_OK);
        CHECK_CONTAINS(err.message, "/dev/zero: not a regular file");
    }
    remove(trace);
}

/* finding 11: invalid UTF-8 in a name was copied raw into config.json (invalid JSON) */
TEST(test_invalid_utf8_in_json)
{
    vidur_config c;
    vidur_error err;
    char *text;
    FILE *f;
    long n;
    vidur_config_init(&c);
    REQUIRE(vidur_config_load_ini_string(&c, "[replica_config]\nmodel_name = m\xff\xc0x\xe2\x82\xac\n[model.m\xff\xc0x\xe2\x82\xac]\nnum_layers = 32\n", "t.ini",
                                         &err) == VIDUR_OK);
    f = tmpfile();
    REQUIRE(f != NULL);
    CHECK_EQ_INT(vidur_config_write_json(&c, f), VIDUR_OK);
    n = ftell(f);
    rewind(f);
    text = (char *)calloc(1, (size_t)n + 1);
    REQUIRE(text != NULL);
    CHECK_EQ_INT((long)fread(text, 1, (size_t)n, f), n);
    fclose(f);
    CHECK(strchr(text, '\xff') == NULL);
    CHECK(strchr(text, '\xc0') == NULL);
    /* each bad byte becomes U+FFFD; the valid euro sign stays as it is */
    CHECK_CONTAINS(text, "\"m\\ufffd\\ufffdx\xe2\x82\xac\"");
    free(text);
}

/* finding 11: trace replay holds every row in memory (56 B/row: 589 MB for 10 M rows): the
   bound is documented (VIDUR_MAX_TRACE_BYTES, 1 MiB in this test) and a larger trace stops
   with the file and line */
TEST(test_trace_memory_bound)
{
    const char *trace = tmp_path("big.csv");
    vidur_config c;
    char msg[512], want[128];
    FILE *f = fopen(trace, "wb");
    int i;
    REQUIRE(f != NULL);
    /* the row that passes the bound: 1 MiB / sizeof(row) rows fit, the next one does not (line + 1: the header) */
    snprintf(want, sizeof want, "big.csv:%d: the trace needs more than 1 MiB of memory", (int)(((size_t)1 << 20) / sizeof(vidur__trace_row)) + 2);
    CHECK(sizeof(vidur__trace_row) <= 64);
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens\n", f);
    for (i = 0; i < 30000; i++) fprintf(f, "%d,100,10\n", i);
    fclose(f);
    small_run_config(&c);
    SET(&c, "request_generator_config_type", "trace_replay");
    SET(&c, "trace_request_generator_config_trace_file", trace);
    CHECK(run_cfg(&c, msg, sizeof msg) != VIDUR_OK);
    CHECK_CONTAINS(msg, want);
    /* under the bound it runs */
    f = fopen(trace, "wb");
    REQUIRE(f != NULL);
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens\n", f);
    for (i = 0; i < 100; i++) fprintf(f, "%d,100,10\n", i);
    fclose(f);
    CHECK_EQ_INT(run_cfg(&c, msg, sizeof msg), VIDUR_OK);
    remove(trace);
}

/* found while writing the search harness: a spec with 32 entries in every list expands to
   32^8 x 16^3 combinations; the byte count of that many jobs wrapped in vidur__calloc and the
   expansion wrote past a small block. The space is now bounded (one million combinations). */
TEST(test_search_space_bound)
{
    static vidur_search_spec spec;
    vidur_search_job *jobs = NULL;
    vidur_error err;
    int64_t count = -1, valid = -1;
    int i;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.path, sizeof spec.path, "huge.ini");
    spec.num_clusters = spec.num_global_schedulers = spec.num_request_queues = spec.num_replica_schedulers = VIDUR_SEARCH_MAX_ITEMS;
    spec.num_slo_configs = spec.num_traces = spec.num_models = spec.num_searches = VIDUR_SEARCH_MAX_ITEMS;
    spec.num_batch_sizes = spec.num_tp_dimensions = spec.num_pp_dimensions = VIDUR_SEARCH_MAX_DIMS;
    for (i = 0; i < VIDUR_SEARCH_MAX_DIMS; i++) spec.batch_sizes[i] = spec.tp_dimensions[i] = spec.pp_dimensions[i] = 1 + i;
    CHECK(vidur_search_expand(&spec, 1, &jobs, &count, &valid, &err) != VIDUR_OK);
    CHECK(jobs == NULL);
    CHECK_CONTAINS(err.message, "huge.ini: the search space has");
    CHECK(vidur__calloc((size_t)1 << 40, (size_t)1 << 40) == NULL);
    VIDUR_FREE(jobs);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/vidur_test_untrusted_%ld", (long)getpid());
    vidur__mkdir(g_dir);
    RUN_TEST(test_model_numbers_out_of_range);
    RUN_TEST(test_one_number_policy);
    RUN_TEST(test_node_devices_zero);
    RUN_TEST(test_table_file_times);
    RUN_TEST(test_unbounded_and_non_regular_inputs);
    RUN_TEST(test_invalid_utf8_in_json);
    RUN_TEST(test_trace_memory_bound);
    RUN_TEST(test_search_space_bound);
    rmdir(g_dir);
    return test_finish();
}
