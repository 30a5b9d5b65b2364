/* Out of memory everywhere: the library's allocations (VIDUR_MALLOC / VIDUR_REALLOC) fail one at
   a time, the 1st, then the 2nd, ... up to the last one a whole run makes, in small
   simulations that reach most allocation sites (trace replay with block hashes, vllm_v1 with
   prefix caching and a cache-aware router; sarathi with two pipeline stages and every metric
   kept; output files; other replica schedulers, routers and PPO; the capacity search's spec
   reader and expansion; the operator-table reader). Each failure must end in a clear error (create or run returns an error
   whose message names memory), never a crash, and the ASan build of this test checks that
   nothing leaks on any of those paths. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long oom_calls_, oom_fail_at_; /* fail_at: the allocation that fails (0: none) */

static void *oom_malloc_(size_t n)
{
    if (oom_fail_at_ && ++oom_calls_ == oom_fail_at_) return NULL;
    if (!oom_fail_at_) oom_calls_++;
    return malloc(n);
}

static void *oom_realloc_(void *p, size_t n)
{
    if (oom_fail_at_ && ++oom_calls_ == oom_fail_at_) return NULL;
    if (!oom_fail_at_) oom_calls_++;
    return realloc(p, n);
}

#define VIDUR_MALLOC(sz) oom_malloc_(sz)
#define VIDUR_REALLOC(p, sz) oom_realloc_(p, sz)
#define VIDUR_FREE(p) free(p)
/* its own copy of the implementation (the other tests link build/libvidur.a):
   built with the allocation hooks above */
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#define VIDUR_SEARCH_IMPLEMENTATION
#include "../vidur_search.h"
#include "test.h"
#include <unistd.h>

static char trace_path_[64], out_dir_[64];

typedef struct scenario_ {
    const char *name;
    const char *const *kv;
    int prepare; /* vidur_sim_prepare_outputs before the run: the output writer thread */
} scenario_;

/* one run with allocation fail_at failing; returns 1 when the run completed without a failure */
static int run_once_(const scenario_ *sc, long fail_at, int *bad)
{
    vidur_config c;
    vidur_error err;
    vidur_sim *sim = NULL;
    int i, done = 0;
    vidur_config_init(&c);
    for (i = 0; sc->kv[i]; i += 2) SET(&c, sc->kv[i], sc->kv[i + 1]);
    oom_calls_ = 0;
    oom_fail_at_ = fail_at;
    memset(&err, 0, sizeof err);
    if (vidur_sim_create(&c, &sim, &err) != VIDUR_OK) {
        if (!strstr(err.message, "memory") && !strstr(err.message, "create() failed")) {
            if (!*bad) printf("  %s, allocation %ld: create failed with \"%s\"\n", sc->name, fail_at, err.message);
            (*bad)++;
        }
        if (sim) (*bad)++; /* a failed create leaves no simulation behind */
    } else {
        vidur_result r = sc->prepare ? vidur_sim_prepare_outputs(sim, out_dir_, NULL, 0, &err) : VIDUR_OK;
        if (r == VIDUR_OK && (r = vidur_sim_run(sim)) != VIDUR_OK) err = *vidur_sim_error(sim);
        if (r == VIDUR_OK) r = vidur_sim_write_outputs(sim, out_dir_, NULL, 0, &err);
        if (r != VIDUR_OK && !strstr(err.message, "memory")) {
            if (!*bad) printf("  %s, allocation %ld: run failed with \"%s\"\n", sc->name, fail_at, err.message);
            (*bad)++;
        }
        done = r == VIDUR_OK;
        vidur_sim_destroy(sim);
    }
    oom_fail_at_ = 0;
    return done;
}

static void check_scenario_(const scenario_ *sc)
{
    long total, k;
    int bad = 0, completed = 0;
    /* a run without failures counts the allocations */
    REQUIRE(run_once_(sc, 0, &bad));
    total = oom_calls_;
    if (!CHECK(total > 20)) printf("  %s: %ld allocations\n", sc->name, total);
    for (k = 1; k <= total; k++) completed += run_once_(sc, k, &bad);
    if (bad) printf("  %s: %d of %ld failing allocations handled badly\n", sc->name, bad, total);
    CHECK_EQ_INT(bad, 0);
    /* every allocation the run makes is needed: failing any one of them fails the run */
    CHECK_EQ_INT(completed, 0);
}

static void check_kv_(const char *name, const char *const *kv, int prepare)
{
    scenario_ sc;
    sc.name = name;
    sc.kv = kv;
    sc.prepare = prepare;
    check_scenario_(&sc);
}

TEST(test_oom_prefix_caching)
{
    const char *const kv[] = {"request_generator_config_type", "trace_replay", "trace_request_generator_config_trace_file", trace_path_,
                              "replica_scheduler_config_type", "vllm_v1", "cache_config_enable_prefix_caching", "true",
                              "cache_config_num_blocks", "40", "global_scheduler_config_type", "ranked_sticky_lop_uncached",
                              "cluster_config_num_replicas", "2", "execution_time_predictor_config_type", "roofline",
                              "metrics_config_write_metrics", "true", "metrics_config_store_operation_metrics", "true",
                              "metrics_config_keep_individual_batch_metrics", "true", NULL};
    check_kv_("vllm_v1 + prefix caching", kv, 0);
}

/* the output writer thread: the files written during the run (trace, per-batch rows) and
   request_metrics.csv at the end; the thread itself allocates nothing */
TEST(test_oom_writer_thread)
{
    const char *const kv[] = {"synthetic_request_generator_config_num_requests", "30", "replica_scheduler_config_type", "sarathi",
                              "execution_time_predictor_config_type", "roofline", "metrics_config_write_metrics", "true",
                              "metrics_config_keep_individual_batch_metrics", "true", "metrics_config_trace_format", "both",
                              "metrics_config_store_plots", "false", NULL};
    check_kv_("writer thread", kv, 1);
}

TEST(test_oom_pipeline)
{
    const char *const kv[] = {"synthetic_request_generator_config_num_requests", "30", "replica_scheduler_config_type", "sarathi",
                              "replica_config_num_pipeline_stages", "2", "cluster_config_num_replicas", "2",
                              "execution_time_predictor_config_type", "roofline", "poisson_request_interval_generator_config_qps", "20",
                              "metrics_config_write_metrics", "true", "metrics_config_store_token_completion_metrics", "true",
                              "metrics_config_write_json_trace", "true", "metrics_config_enable_chrome_trace", "true", NULL};
    check_kv_("sarathi, PP 2", kv, 0);
}

/* the other replica schedulers, the sticky routers, an EDF queue and the PPO router */
TEST(test_oom_schedulers)
{
    static const char *const base[] = {"synthetic_request_generator_config_num_requests", "24", "cluster_config_num_replicas", "2",
                                       "execution_time_predictor_config_type", "roofline",
                                       "poisson_request_interval_generator_config_qps", "30", "metrics_config_write_metrics", "false"};
    static const char *const extra[][8] = {
        {"replica_scheduler_config_type", "vllm", "global_scheduler_config_type", "lor", "vllm_scheduler_config_num_blocks", "30", NULL},
        {"replica_scheduler_config_type", "orca", "global_scheduler_config_type", "lop", NULL},
        {"replica_scheduler_config_type", "faster_transformer", "replica_config_num_pipeline_stages", "2", NULL},
        {"replica_scheduler_config_type", "lightllm", "global_scheduler_config_type", "random", NULL},
        {"replica_scheduler_config_type", "sarathi", "request_queue_config_type", "edf", "slo_config_prefill_e2e_time_min", "1", NULL},
        {"global_scheduler_config_type", "ppo", "ppo_global_scheduler_config_hidden_size", "8", "ppo_global_scheduler_config_rollout_len", "8", NULL},
    };
    static const char *const names[] = {"vllm + lor, 30 blocks", "orca + lop", "faster_transformer, PP 2", "lightllm + random",
                                        "sarathi + edf", "ppo router (training)"};
    int i, j, k;
    for (i = 0; i < (int)(sizeof extra / sizeof extra[0]); i++) {
        const char *kv[32];
        k = 0;
        for (j = 0; j < (int)(sizeof base / sizeof base[0]); j++) kv[k++] = base[j];
        for (j = 0; extra[i][j]; j++) kv[k++] = extra[i][j];
        kv[k] = NULL;
        check_kv_(names[i], kv, 0);
    }
}

/* the capacity search's spec reader and expansion, and the operator-table reader */
static int search_once_(const char *text, long fail_at, int *bad)
{
    vidur_search_spec *spec = NULL;
    vidur_search_job *jobs = NULL;
    int64_t n = 0, nvalid = 0;
    vidur_error err;
    vidur_result r;
    oom_calls_ = 0;
    oom_fail_at_ = fail_at;
    memset(&err, 0, sizeof err);
    r = vidur_search_spec_load_string(text, "oom_search.ini", &spec, &err);
    if (r == VIDUR_OK) r = vidur_search_expand(spec, 1, &jobs, &n, &nvalid, &err);
    oom_fail_at_ = 0;
    if (r != VIDUR_OK && !strstr(err.message, "memory")) {
        if (!*bad) printf("  search, allocation %ld: \"%s\"\n", fail_at, err.message);
        (*bad)++;
    }
    free(jobs);
    vidur_search_spec_free(spec);
    return r == VIDUR_OK;
}

TEST(test_oom_search)
{
    static const char text[] =
        "[explorer]\nbatch_sizes = 64, 128\ntp_dimensions = 1, 2\npp_dimensions = 1, 2\n"
        "[cluster.h100]\ndevice = h100\nnetwork_device = h100_dgx\ngpus_per_node = 8\n"
        "[global_scheduler.rr]\nscheduler = round_robin\n[request_queue.fcfs]\nprovider = fcfs\n"
        "[replica_scheduler.s]\nscheduler = sarathi\nchunk_size = 512\n"
        "[slo_config.t]\ntype = and\nquantile = 0.9\nslo = prefill_e2e_time 1\n"
        "[trace.conv]\ntrace_file = data/traces/conv.csv\nmax_seq_len = 4096\n[model.llama]\nidentifier = meta-llama/Meta-Llama-3-8B\n"
        "[search.s]\ntrace = conv\nmodel = llama\nsearch_for = qps\nnum_replicas = 2\nqps = 2\nnum_requests = 100\n";
    long total, k;
    int bad = 0, completed = 0;
    REQUIRE(search_once_(text, 0, &bad));
    total = oom_calls_;
    CHECK(total > 0);
    for (k = 1; k <= total; k++) completed += search_once_(text, k, &bad);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(completed, 0);
}

TEST(test_oom_tables)
{
    static const double xs[3] = {8, 64, 512};
    static const float vs[4] = {0.01f, 0.02f, 0.08f, 0.5f};
    static const double terms[6] = {0, 0, 0.01, 1, 0, 0.001};
    vidur_op_table t[2];
    vidur_table_set set, *loaded = NULL;
    vidur_error err;
    const char *path = "/tmp/vidur_oom_tables.vtab";
    FILE *f = fopen(path, "w");
    long total, k;
    int bad = 0, completed = 0;
    REQUIRE(f != NULL);
    memset(t, 0, sizeof t);
    memset(&set, 0, sizeof set);
    t[0].op = VIDUR_OP_MLP_UP_PROJ, t[0].predictor = VIDUR_PREDICTOR_RANDOM_FOREST, t[0].kind = VIDUR_TABLE_GRID;
    t[0].device = "h100", t[0].model = "meta-llama/Meta-Llama-3-8B", t[0].node = "", t[0].tp = 1;
    t[0].x = xs, t[0].nx = 3, t[0].v = vs, t[0].xmin = 1, t[0].xmax = 512;
    t[1] = t[0];
    t[1].op = VIDUR_OP_ADD, t[1].predictor = VIDUR_PREDICTOR_LINEAR_REGRESSION, t[1].kind = VIDUR_TABLE_POLY;
    t[1].x = NULL, t[1].nx = 0, t[1].v = NULL, t[1].nterms = 2, t[1].terms = terms, t[1].sx = 1, t[1].sy = 1;
    set.tables = t;
    set.num_tables = 2;
    REQUIRE(vidur_table_set_write(&set, f) == VIDUR_OK);
    fclose(f);
    oom_calls_ = 0;
    REQUIRE(vidur_table_set_load(path, &loaded, &err) == VIDUR_OK);
    total = oom_calls_;
    vidur_table_set_free(loaded);
    CHECK(total > 0);
    for (k = 1; k <= total; k++) {
        loaded = NULL;
        memset(&err, 0, sizeof err);
        oom_calls_ = 0;
        oom_fail_at_ = k;
        if (vidur_table_set_load(path, &loaded, &err) == VIDUR_OK) {
            completed++;
            vidur_table_set_free(loaded);
        } else if (!strstr(err.message, "memory") || !strstr(err.message, path)) {
            if (!bad) printf("  tables, allocation %ld: \"%s\"\n", k, err.message);
            bad++;
        }
        oom_fail_at_ = 0;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(completed, 0);
    remove(path);
}

int main(void)
{
    snprintf(trace_path_, sizeof trace_path_, "/tmp/vidur_oom_%ld.csv", (long)getpid());
    snprintf(out_dir_, sizeof out_dir_, "/tmp/vidur_oom_%ld", (long)getpid());
    if (!test_write_conv_trace_(trace_path_, 8, 3, 0.05)) {
        printf("cannot write %s\n", trace_path_);
        return 1;
    }
    RUN_TEST(test_oom_prefix_caching);
    RUN_TEST(test_oom_writer_thread);
    RUN_TEST(test_oom_pipeline);
    RUN_TEST(test_oom_schedulers);
    RUN_TEST(test_oom_search);
    RUN_TEST(test_oom_tables);
    remove(trace_path_);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", out_dir_);
        if (system(cmd) != 0) printf("could not remove %s\n", out_dir_);
    }
    return test_finish();
}
