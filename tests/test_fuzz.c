/* Bad input, at random: valid inputs of each text format the library reads (a trace CSV with
   sessions and block hashes, a simulation INI, an operator-table file, a capacity-search INI)
   are damaged thousands of times by a fixed-seed mutator (bytes replaced by characters that
   matter to the parsers, deleted, repeated, the text cut short) and read again. Whatever the
   damage: no crash or hang (the ASan + UBSan build of this test runs the same cases), and a
   rejected input gets a one-line message that names the file. A trace that still loads is
   simulated to the end. */
#define _POSIX_C_SOURCE 200809L
#include "../vidur.h"
#define VIDUR_SEARCH_IMPLEMENTATION
#include "../vidur_search.h"
#include "test.h"
#include <unistd.h>

static uint64_t rng_ = 0x9e3779b97f4a7c15ull;
static uint32_t next_(void)
{
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return (uint32_t)(rng_ >> 32);
}

/* a damaged copy of src (malloc'd, NUL-terminated): 1-4 mutations */
static char *mutate_(const char *src)
{
    static const char pick[] = "0123456789,;\"[]=.-+e \n\r\tx#";
    size_t n = strlen(src), cap = 2 * n + 64, len = n;
    char *t = (char *)malloc(cap);
    int k, m;
    if (!t) return NULL;
    memcpy(t, src, n + 1);
    m = 1 + (int)(next_() % 4);
    for (k = 0; k < m && len > 0; k++) {
        size_t at = next_() % len;
        switch (next_() % 5) {
        case 0: case 1: t[at] = pick[next_() % (sizeof pick - 1)]; break; /* replace */
        case 2: memmove(t + at, t + at + 1, len - at); len--; break;    /* delete */
        case 3: {                                                     /* repeat a span */
            size_t span = 1 + next_() % 12;
            if (at + span > len) span = len - at;
            if (len + span + 1 > cap) break;
            memmove(t + at + span, t + at, len - at + 1);
            len += span;
            break;
        }
        default: t[at] = 0; len = at; break; /* cut short */
        }
    }
    return t;
}

/* inside the loops: a setup failure stops the test without counting a pass per iteration */
#define SETUP_OK(cond) do { if (!(cond)) { CHECK(cond); return; } } while (0)

static int write_file_(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

/* a rejected input's message: one line, naming the file */
static void check_message_(const char *what, const vidur_error *err, const char *name, int *bad)
{
    if (!err->message[0] || strchr(err->message, '\n') || !strstr(err->message, name)) {
        if (!*bad) printf("  %s: message \"%s\"\n", what, err->message);
        (*bad)++;
    }
}

static char dir_[64], trace_[96], table_[96];

TEST(test_fuzz_trace)
{
    static const char trace[] =
        "arrived_at,num_prefill_tokens,num_decode_tokens,session_id,block_hash_ids\n"
        "0.0,40,3,0,\"[0, 1, 2]\"\n"
        "0.1,70,4,1,\"[10, 11, 12, 13]\"\n"
        "0.25,90,2,0,\"[0, 1, 2, 3, 4, 5]\"\n"
        "0.5,33,5,2,\"[-4, 9223372036854775807, 7]\"\n"
        "0.75,120,2,1,\"[10, 11, 12, 13, 14, 15, 16, 17]\"\n";
    int i, bad = 0, loaded = 0;
    for (i = 0; i < 1500; i++) {
        char *t = mutate_(trace);
        vidur_config c;
        vidur_sim *sim = NULL;
        vidur_error err;
        SETUP_OK(t != NULL);
        SETUP_OK(write_file_(trace_, t));
        vidur_config_init(&c);
        SET(&c, "request_generator_config_type", "trace_replay");
        SET(&c, "trace_request_generator_config_trace_file", trace_);
        SET(&c, "replica_scheduler_config_type", "vllm_v1");
        SET(&c, "cache_config_enable_prefix_caching", "true");
        SET(&c, "global_scheduler_config_type", "sticky_lop");
        SET(&c, "cluster_config_num_replicas", "2");
        SET(&c, "execution_time_predictor_config_type", "roofline");
        SET(&c, "metrics_config_write_metrics", "false");
        memset(&err, 0, sizeof err);
        if (vidur_sim_create(&c, &sim, &err) == VIDUR_OK) {
            long steps = 0;
            int r;
            loaded++;
            while ((r = vidur_sim_step(sim)) > 0 && ++steps < 2000000) {}
            if (r > 0) {
                if (!bad) printf("  trace %d: no end after %ld events\n", i, steps);
                bad++;
            }
            vidur_sim_destroy(sim);
        } else {
            check_message_("trace", &err, trace_, &bad);
        }
        free(t);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(loaded > 100); /* both outcomes were exercised */
    CHECK(loaded < 1400);
}

TEST(test_fuzz_ini)
{
    static const char ini[] =
        "; a simulation\n"
        "seed = 7\n"
        "[replica_config]\nmodel_name = meta-llama/Meta-Llama-3-8B\ndevice = h100\ntensor_parallel_size = 2\n"
        "[cluster_config]\nnum_replicas = 3\n"
        "[sarathi_scheduler_config]\nchunk_size = 256\nbatch_size_cap = 64\n"
        "[poisson_request_interval_generator_config]\nqps = 2.25\n"
        "[metrics_config]\nwrite_metrics = false\n";
    int i, bad = 0, ok = 0;
    for (i = 0; i < 3000; i++) {
        char *t = mutate_(ini);
        vidur_config c;
        vidur_error err;
        SETUP_OK(t != NULL);
        vidur_config_init(&c);
        memset(&err, 0, sizeof err);
        if (vidur_config_load_ini_string(&c, t, "fuzz.ini", &err) == VIDUR_OK) ok++;
        else check_message_("ini", &err, "fuzz.ini", &bad);
        free(t);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(ok > 100);
    CHECK(ok < 2900);
}

TEST(test_fuzz_tables)
{
    static const double xs[4] = {8, 64, 512, 4096}, vs[5] = {0.01, 0.02, 0.08, 0.5, 3.0};
    vidur_op_table t;
    vidur_table_set set, *loaded = NULL;
    vidur_error err;
    char *text;
    FILE *f = tmpfile();
    int i, bad = 0, ok = 0;
    float fv[5];
    REQUIRE(f != NULL);
    memset(&t, 0, sizeof t);
    memset(&set, 0, sizeof set);
    for (i = 0; i < 5; i++) fv[i] = (float)vs[i];
    t.op = VIDUR_OP_MLP_UP_PROJ;
    t.predictor = VIDUR_PREDICTOR_RANDOM_FOREST;
    t.kind = VIDUR_TABLE_GRID;
    t.device = "h100";
    t.model = "meta-llama/Meta-Llama-3-8B";
    t.node = "";
    t.tp = 1;
    t.x = xs;
    t.nx = 4;
    t.v = fv;
    t.xmin = 1;
    t.xmax = 4096;
    set.tables = &t;
    set.num_tables = 1;
    REQUIRE(vidur_table_set_write(&set, f) == VIDUR_OK);
    text = test_slurp_(f);
    fclose(f);
    REQUIRE(text != NULL);
    REQUIRE(write_file_(table_, text));
    REQUIRE(vidur_table_set_load(table_, &loaded, &err) == VIDUR_OK); /* the undamaged file loads */
    vidur_table_set_free(loaded);
    for (i = 0; i < 3000; i++) {
        char *m = mutate_(text);
        SETUP_OK(m != NULL);
        SETUP_OK(write_file_(table_, m));
        loaded = NULL;
        memset(&err, 0, sizeof err);
        if (vidur_table_set_load(table_, &loaded, &err) == VIDUR_OK) {
            int k;
            ok++;
            for (k = 0; k < loaded->num_tables; k++) (void)vidur_op_table_eval(&loaded->tables[k], 100, 0);
            vidur_table_set_free(loaded);
        } else {
            check_message_("table", &err, table_, &bad);
        }
        free(m);
    }
    free(text);
    CHECK_EQ_INT(bad, 0);
    CHECK(ok < 2900);
}

TEST(test_fuzz_search_spec)
{
    static const char spec[] =
        "[explorer]\nmin_search_granularity = 1\nmax_iterations = 10\ntime_limit = 180\nmin_qps = 0.1\n"
        "batch_sizes = 64, 128\ntp_dimensions = 1, 2\npp_dimensions = 1\n"
        "[cluster.h100]\ndevice = h100\nnetwork_device = h100_dgx\ngpus_per_node = 8\n"
        "[global_scheduler.rr]\nscheduler = round_robin\n"
        "[request_queue.fcfs]\nprovider = fcfs\n"
        "[replica_scheduler.s]\nscheduler = sarathi\nchunk_size = 512\n"
        "[slo_config.t]\ntype = and\nquantile = 0.9\nslo = prefill_e2e_time 1\n"
        "[trace.conv]\ntrace_file = data/traces/conv.csv\nmax_seq_len = 4096\n"
        "[model.llama]\nidentifier = meta-llama/Meta-Llama-3-8B\n"
        "[search.s]\ntrace = conv\nmodel = llama\nsearch_for = qps\nnum_replicas = 2\nqps = 2\nnum_requests = 100\n";
    int i, bad = 0, ok = 0;
    vidur_search_spec *s = NULL;
    vidur_error err;
    if (vidur_search_spec_load_string(spec, "fuzz_search.ini", &s, &err) != VIDUR_OK) printf("  base spec: %s\n", err.message);
    REQUIRE(s != NULL); /* the undamaged spec loads */
    vidur_search_spec_free(s);
    for (i = 0; i < 3000; i++) {
        char *t = mutate_(spec);
        SETUP_OK(t != NULL);
        s = NULL;
        memset(&err, 0, sizeof err);
        if (vidur_search_spec_load_string(t, "fuzz_search.ini", &s, &err) == VIDUR_OK) {
            ok++;
            vidur_search_spec_free(s);
        } else {
            check_message_("search", &err, "fuzz_search.ini", &bad);
        }
        free(t);
    }
    CHECK_EQ_INT(bad, 0);
    if (!CHECK(ok > 10)) printf("  %d of 3000 damaged specs loaded\n", ok);
    CHECK(ok < 2900);
}

int main(void)
{
    snprintf(dir_, sizeof dir_, "/tmp/vidur_fuzz_%ld", (long)getpid());
    snprintf(trace_, sizeof trace_, "%s_trace.csv", dir_);
    snprintf(table_, sizeof table_, "%s_tables.vtab", dir_);
    RUN_TEST(test_fuzz_trace);
    RUN_TEST(test_fuzz_ini);
    RUN_TEST(test_fuzz_tables);
    RUN_TEST(test_fuzz_search_spec);
    remove(trace_);
    remove(table_);
    return test_finish();
}
