/* bench.c - `make bench`: simulation speed and memory.
   Prints simulated requests per wall-clock second, events per second and peak RSS.
   Targets (issue 2, on the 2-core reference machine): >= 100,000 requests/s, peak RSS <= 200 MB. */
#define _POSIX_C_SOURCE 200809L
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int set(vidur_config *c, const char *k, const char *v)
{
    vidur_error err;
    if (vidur_config_set(c, k, v, &err)) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 0;
    }
    return 1;
}

/* runs one scenario; returns 0 on failure */
static double last_rps;

static int run(const char *title, const char *scheduler, const char *requests, const char *qps, const char *predictor)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim;
    const vidur_summary *s;
    double t0, t1;
    vidur_config_init(&cfg);
    if (!set(&cfg, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B") || !set(&cfg, "replica_config_device", "h100") ||
        !set(&cfg, "replica_config_network_device", "h100_pairwise_nvlink") || !set(&cfg, "cluster_config_num_replicas", "8") ||
        !set(&cfg, "replica_scheduler_config_type", scheduler) || !set(&cfg, "length_generator_config_type", "lognormal") ||
        !set(&cfg, "synthetic_request_generator_config_num_requests", requests) ||
        !set(&cfg, "poisson_request_interval_generator_config_qps", qps) || !set(&cfg, "metrics_config_write_metrics", "false") ||
        !set(&cfg, "execution_time_predictor_config_type", predictor))
        return 0;
    t0 = now_s();
    if (vidur_sim_create(&cfg, &sim, &err)) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 0;
    }
    if (vidur_sim_run(sim) != VIDUR_OK) {
        fprintf(stderr, "bench: %s\n", vidur_sim_error(sim)->message);
        vidur_sim_destroy(sim);
        return 0;
    }
    s = vidur_sim_summary(sim);
    t1 = now_s();
    printf("%s\n", title);
    printf("  requests           %lld completed of %lld, %lld batches, %lld events, simulated %.1f s\n", (long long)s->num_completed,
           (long long)s->num_requests, (long long)s->num_batches, (long long)s->num_events, s->simulated_time);
    printf("  wall time          %.3f s\n", t1 - t0);
    last_rps = (double)s->num_completed / (t1 - t0);
    printf("  requests/s         %.0f   (target >= 100000)\n", last_rps);
    printf("  events/s           %.0f\n", (double)s->num_events / (t1 - t0));
    printf("  TTFT p50 %.4f s, TBT p50 %.5f s, E2E p99 %.3f s\n", s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p50,
           s->metric[VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED].p50, s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].p99);
    vidur_sim_destroy(sim);
    return 1;
}

/* vllm_v1 + prefix caching on a conversation trace (written by vidur-convgen: see the Makefile) */
static int run_conversations(const char *trace)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim;
    const vidur_summary *s;
    double t0, t1;
    int64_t cached = 0, total = 0;
    int r;
    vidur_config_init(&cfg);
    if (!set(&cfg, "request_generator_config_type", "trace_replay") || !set(&cfg, "trace_request_generator_config_trace_file", trace) ||
        !set(&cfg, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B") || !set(&cfg, "replica_config_device", "h100") ||
        !set(&cfg, "replica_config_network_device", "h100_pairwise_nvlink") || !set(&cfg, "cluster_config_num_replicas", "8") ||
        !set(&cfg, "replica_scheduler_config_type", "vllm_v1") || !set(&cfg, "cache_config_enable_prefix_caching", "true") ||
        !set(&cfg, "global_scheduler_config_type", "sticky_lop") || !set(&cfg, "metrics_config_write_metrics", "false"))
        return 0;
    t0 = now_s();
    if (vidur_sim_create(&cfg, &sim, &err)) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 0;
    }
    if (vidur_sim_run(sim) != VIDUR_OK) {
        fprintf(stderr, "bench: %s\n", vidur_sim_error(sim)->message);
        vidur_sim_destroy(sim);
        return 0;
    }
    s = vidur_sim_summary(sim);
    t1 = now_s();
    for (r = 0; r < s->num_replicas; r++) {
        cached += s->replica[r].prefix_cached_tokens;
        total += s->replica[r].prefix_total_tokens;
    }
    printf("prefix caching: %s, vllm_v1 + prefix caching, sticky_lop, 8 x Meta-Llama-3-8B / h100\n", trace);
    printf("  requests           %lld completed of %lld, %lld batches, %lld events, simulated %.1f s\n", (long long)s->num_completed,
           (long long)s->num_requests, (long long)s->num_batches, (long long)s->num_events, s->simulated_time);
    printf("  wall time          %.3f s (including reading the trace)\n", t1 - t0);
    printf("  requests/s         %.0f   (target >= 100000)\n", (double)s->num_completed / (t1 - t0));
    printf("  events/s           %.0f\n", (double)s->num_events / (t1 - t0));
    printf("  prefix hit rate    %.1f %%\n", total ? 100.0 * (double)cached / (double)total : 0.0);
    vidur_sim_destroy(sim);
    return 1;
}

int main(int argc, char **argv)
{
    struct rusage ru;
    double rps_tables, rps_roofline;
    int ok = run("core: 100,000 requests, sarathi, 8 replicas, Meta-Llama-3-8B / h100, lognormal lengths, Poisson 40 QPS, profiled tables",
                 "sarathi", "100000", "40", "random_forrest");
    rps_tables = last_rps;
    ok = ok && run("same workload, analytical roofline only", "sarathi", "100000", "40", "roofline");
    rps_roofline = last_rps;
    printf("table lookups vs roofline: %+.1f %% requests/s   (target: no more than 20 %% slower)\n",
           (rps_tables / rps_roofline - 1.0) * 100.0);
    printf("compiled-in tables: %d (%s)\n", vidur_builtin_tables()->num_tables, vidur_builtin_tables()->provenance);
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS             %.1f MB   (target <= 200 MB)\n", ru.ru_maxrss / 1024.0);
    if (argc > 1) {
        ok = run_conversations(argv[1]) && ok;
        getrusage(RUSAGE_SELF, &ru);
        printf("peak RSS             %.1f MB   (target <= 200 MB; whole process so far)\n", ru.ru_maxrss / 1024.0);
    }
    return ok ? 0 : 1;
}
