/* Simulations in parallel threads (the library keeps no global mutable state): four different
   simulations (vllm_v1 with prefix caching on a trace, sarathi with two pipeline stages, the
   PPO router while it trains, lightllm), each twice, eight threads at once. Every run's
   summary.json, request_metrics.csv, batch_metrics.csv and chrome_trace.json must equal, byte for
   byte, those of the same simulation run alone before. The parallel runs prepare their output
   folders first, so each also runs the output writer thread (metrics_config_writer_threads)
   beside its simulation: sixteen threads; the runs alone write everything at the end. `make test` also builds this test with ThreadSanitizer when the compiler
   has it (build/tsan/), which reports any data race between the threads. */
#define _POSIX_C_SOURCE 200809L
#include "../vidur.h"
#include "test.h"
#include <pthread.h>
#include <unistd.h>

#define NSCEN 4
#define NTHREADS (2 * NSCEN)

static char base_[64], trace_[96];

static const char *const scen_kv_[NSCEN][24] = {
    {"request_generator_config_type", "trace_replay", "trace_request_generator_config_trace_file", trace_,
     "replica_scheduler_config_type", "vllm_v1", "cache_config_enable_prefix_caching", "true", "global_scheduler_config_type", "sticky_lop",
     "cluster_config_num_replicas", "2", NULL},
    {"synthetic_request_generator_config_num_requests", "300", "replica_scheduler_config_type", "sarathi",
     "replica_config_num_pipeline_stages", "2", "cluster_config_num_replicas", "2", "poisson_request_interval_generator_config_qps", "6", NULL},
    {"synthetic_request_generator_config_num_requests", "300", "global_scheduler_config_type", "ppo", "cluster_config_num_replicas", "3",
     "ppo_global_scheduler_config_hidden_size", "16", "ppo_global_scheduler_config_rollout_len", "32",
     "ppo_global_scheduler_config_minibatch_size", "16", "poisson_request_interval_generator_config_qps", "8", NULL},
    {"synthetic_request_generator_config_num_requests", "300", "replica_scheduler_config_type", "lightllm",
     "global_scheduler_config_type", "lor", "cluster_config_num_replicas", "2", NULL},
};

typedef struct job_ {
    int scen, prepare; /* prepare: vidur_sim_prepare_outputs before the run (the writer thread) */
    char dir[128];
    char *summary, *requests, *batches, *trace; /* the output files' bytes (malloc'd) */
    char error[VIDUR_ERROR_MESSAGE_SIZE];
} job_;

/* one simulation, its outputs read back; no test macros here (they are not thread-safe) */
static void *run_job_(void *arg)
{
    job_ *j = (job_ *)arg;
    vidur_config c;
    vidur_error err;
    vidur_sim *sim = NULL;
    int i;
    vidur_config_init(&c);
    memset(&err, 0, sizeof err);
    for (i = 0; scen_kv_[j->scen][i]; i += 2)
        if (vidur_config_set(&c, scen_kv_[j->scen][i], scen_kv_[j->scen][i + 1], &err) != VIDUR_OK) goto fail;
    if (vidur_config_set(&c, "execution_time_predictor_config_type", "roofline", &err) != VIDUR_OK ||
        vidur_config_set(&c, "metrics_config_store_plots", "false", &err) != VIDUR_OK ||
        vidur_config_set(&c, "metrics_config_write_metrics", "true", &err) != VIDUR_OK ||
        vidur_config_set(&c, "metrics_config_keep_individual_batch_metrics", "true", &err) != VIDUR_OK)
        goto fail;
    if (vidur_sim_create(&c, &sim, &err) != VIDUR_OK) goto fail;
    if (j->prepare && vidur_sim_prepare_outputs(sim, j->dir, NULL, 0, &err) != VIDUR_OK) goto fail;
    if (vidur_sim_run(sim) != VIDUR_OK) {
        err = *vidur_sim_error(sim);
        goto fail;
    }
    if (vidur_sim_write_outputs(sim, j->dir, NULL, 0, &err) != VIDUR_OK) goto fail;
    vidur_sim_destroy(sim);
    j->summary = test_slurp_file_(j->dir, "summary.json");
    j->requests = test_slurp_file_(j->dir, "request_metrics.csv");
    j->batches = test_slurp_file_(j->dir, "batch_metrics.csv");
    j->trace = test_slurp_file_(j->dir, "chrome_trace.json");
    return NULL;
fail:
    snprintf(j->error, sizeof j->error, "%s", err.message);
    if (sim) vidur_sim_destroy(sim);
    return NULL;
}

TEST(test_parallel_equals_sequential)
{
    job_ alone[NSCEN], par[NTHREADS];
    pthread_t th[NTHREADS];
    int i, started[NTHREADS];
    memset(alone, 0, sizeof alone);
    memset(par, 0, sizeof par);
    for (i = 0; i < NSCEN; i++) {
        alone[i].scen = i;
        snprintf(alone[i].dir, sizeof alone[i].dir, "%s/alone%d", base_, i);
        run_job_(&alone[i]);
        if (!CHECK(alone[i].summary && alone[i].requests)) printf("  scenario %d alone: %s\n", i, alone[i].error);
    }
    for (i = 0; i < NTHREADS; i++) {
        par[i].scen = i % NSCEN;
        par[i].prepare = 1;
        snprintf(par[i].dir, sizeof par[i].dir, "%s/par%d", base_, i);
        started[i] = pthread_create(&th[i], NULL, run_job_, &par[i]) == 0;
        CHECK(started[i]);
    }
    for (i = 0; i < NTHREADS; i++)
        if (started[i]) pthread_join(th[i], NULL);
    for (i = 0; i < NTHREADS; i++) {
        const job_ *a = &alone[par[i].scen];
        if (!CHECK(par[i].summary && par[i].requests)) {
            printf("  thread %d (scenario %d): %s\n", i, par[i].scen, par[i].error);
            continue;
        }
        CHECK(a->summary && strcmp(par[i].summary, a->summary) == 0);
        CHECK(a->requests && strcmp(par[i].requests, a->requests) == 0);
        CHECK(a->batches && par[i].batches && strcmp(par[i].batches, a->batches) == 0);
        CHECK(a->trace && par[i].trace && strcmp(par[i].trace, a->trace) == 0);
        CHECK(a->trace && strlen(a->trace) > 100000); /* several of the writer's chunks */
        CHECK(strlen(par[i].requests) > 1000); /* real outputs, not two empty files */
    }
    for (i = 0; i < NSCEN; i++) free(alone[i].summary), free(alone[i].requests), free(alone[i].batches), free(alone[i].trace);
    for (i = 0; i < NTHREADS; i++) free(par[i].summary), free(par[i].requests), free(par[i].batches), free(par[i].trace);
}

int main(void)
{
    char cmd[160];
    snprintf(base_, sizeof base_, "/tmp/vidur_threads_%ld", (long)getpid());
    snprintf(trace_, sizeof trace_, "%s_trace.csv", base_);
    if (!test_write_conv_trace_(trace_, 30, 8, 0.02)) {
        printf("cannot write %s\n", trace_);
        return 1;
    }
    RUN_TEST(test_parallel_equals_sequential);
    remove(trace_);
    snprintf(cmd, sizeof cmd, "rm -rf %s", base_);
    if (system(cmd) != 0) printf("could not remove %s\n", base_);
    return test_finish();
}
