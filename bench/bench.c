/* bench.c - `make bench`: simulation speed and memory.
   Prints simulated requests per wall-clock second, events per second and peak RSS.
   Targets (on the 2-core reference machine): >= 100,000 requests/s, peak RSS <= 200 MB;
   operator-table lookups no more than 20 % slower than the roofline; the last scenario runs
   10,000,000 requests with per-request rows off (DDSketch quantiles, about 100 s) and its peak
   RSS must stay under 500 MB (it does not grow with the number of requests). */
#define _POSIX_C_SOURCE 200809L
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* sets key=value pairs (NULL-terminated) on top of the common cluster: 8 x Llama-3-8B / h100 */
static int configure(vidur_config *c, const char *const *kv)
{
    static const char *const common[] = {"replica_config_model_name", "meta-llama/Meta-Llama-3-8B", "replica_config_device", "h100",
                                         "replica_config_network_device", "h100_pairwise_nvlink", "cluster_config_num_replicas", "8",
                                         "metrics_config_write_metrics", "false", NULL};
    vidur_error err;
    int i;
    vidur_config_init(c);
    for (i = 0; common[i]; i += 2)
        if (vidur_config_set(c, common[i], common[i + 1], &err)) goto bad;
    for (i = 0; kv[i]; i += 2)
        if (vidur_config_set(c, kv[i], kv[i + 1], &err)) goto bad;
    return 1;
bad:
    fprintf(stderr, "bench: %s\n", err.message);
    return 0;
}

/* runs one scenario and prints its figures; returns requests/s, or 0 on failure */
static double run(const char *title, const char *const *kv)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim;
    const vidur_summary *s;
    double t0, t1, rps;
    int64_t cached = 0, total = 0;
    int r;
    if (!configure(&cfg, kv)) return 0;
    t0 = now_s(); /* creation included: it reads the trace when there is one */
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
    rps = (double)s->num_completed / (t1 - t0);
    printf("%s\n", title);
    printf("  requests           %lld completed of %lld, %lld batches, %lld events, simulated %.1f s\n", (long long)s->num_completed,
           (long long)s->num_requests, (long long)s->num_batches, (long long)s->num_events, s->simulated_time);
    printf("  wall time          %.3f s\n", t1 - t0);
    printf("  requests/s         %.0f   (target >= 100000)\n", rps);
    printf("  events/s           %.0f\n", (double)s->num_events / (t1 - t0));
    printf("  TTFT p50 %.4f s, TBT p50 %.5f s, E2E p99 %.3f s\n", s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p50,
           s->metric[VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED].p50, s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].p99);
    for (r = 0; r < s->num_replicas; r++) {
        cached += s->replica[r].prefix_cached_tokens;
        total += s->replica[r].prefix_total_tokens;
    }
    if (total) printf("  prefix hit rate    %.1f %%\n", 100.0 * (double)cached / (double)total);
    vidur_sim_destroy(sim);
    return rps;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Linux: resets the process's peak RSS (VmHWM) so that the next reading covers one scenario
   only; returns 0 where that is not possible (the whole-process peak is reported then) */
static int reset_peak_rss(void)
{
    FILE *f;
    int ok;
#if defined(__GLIBC__)
    malloc_trim(0); /* give back what the earlier scenarios freed, so that it is not counted here */
#endif
    f = fopen("/proc/self/clear_refs", "w");
    if (!f) return 0;
    ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* VmHWM from /proc/self/status in MB, or the getrusage peak */
static double scenario_peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    if (f) {
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
        fclose(f);
    }
    return kb > 0 ? kb / 1024.0 : peak_rss_mb();
}

static void print_rss(const char *note)
{
    printf("peak RSS             %.1f MB   (target <= 200 MB%s)\n", peak_rss_mb(), note);
}

int main(int argc, char **argv)
{
    static const char *const core[] = {"replica_scheduler_config_type", "sarathi", "length_generator_config_type", "lognormal",
                                       "synthetic_request_generator_config_num_requests", "100000",
                                       "poisson_request_interval_generator_config_qps", "40",
                                       "execution_time_predictor_config_type", "random_forrest", NULL};
    static const char *const roof[] = {"replica_scheduler_config_type", "sarathi", "length_generator_config_type", "lognormal",
                                       "synthetic_request_generator_config_num_requests", "100000",
                                       "poisson_request_interval_generator_config_qps", "40",
                                       "execution_time_predictor_config_type", "roofline", NULL};
    double rps_tables, rps_roofline;
    int ok;
    rps_tables = run("core: 100,000 requests, sarathi, 8 replicas, Meta-Llama-3-8B / h100, lognormal lengths, Poisson 40 QPS, profiled tables", core);
    rps_roofline = run("same workload, analytical roofline only", roof);
    ok = rps_tables > 0 && rps_roofline > 0;
    if (ok)
        printf("table lookups vs roofline: %+.1f %% requests/s   (target: no more than 20 %% slower)\n", (rps_tables / rps_roofline - 1.0) * 100.0);
    printf("compiled-in tables: %d (%s)\n", vidur_builtin_tables()->num_tables, vidur_builtin_tables()->provenance);
    print_rss("");
    if (argc > 1) {
        /* vllm_v1 + prefix caching on a conversation trace (written by vidur-convgen: see the Makefile) */
        const char *conv[] = {"request_generator_config_type", "trace_replay", "trace_request_generator_config_trace_file", argv[1],
                              "replica_scheduler_config_type", "vllm_v1", "cache_config_enable_prefix_caching", "true",
                              "global_scheduler_config_type", "sticky_lop", NULL};
        char title[600];
        double rps_cache, rps_nocache;
        snprintf(title, sizeof title, "prefix caching: %s, vllm_v1 + prefix caching, sticky_lop, 8 x Meta-Llama-3-8B / h100 (trace reading included)", argv[1]);
        rps_cache = run(title, conv);
        print_rss("; whole process so far");
        /* what the feature costs: the same trace and scheduler without the cache */
        conv[7] = "false"; /* cache_config_enable_prefix_caching */
        rps_nocache = run("the same without prefix caching", conv);
        ok = rps_cache > 0 && rps_nocache > 0 && ok;
        if (rps_cache > 0 && rps_nocache > 0)
            printf("prefix caching vs none: %+.1f %% requests/s   (the caching run forms more batches: shorter prefills)\n",
                   (rps_cache / rps_nocache - 1.0) * 100.0);
    }
    {
        /* streaming scale: 10 million requests with per-request rows off, so every request
           metric goes to a DDSketch and finished requests are recycled: memory must not grow
           with the number of requests (VIDUR_BENCH_STREAM_REQUESTS overrides the count) */
        const char *env = getenv("VIDUR_BENCH_STREAM_REQUESTS");
        const char *count = env && *env ? env : "10000000";
        const char *const big[] = {"replica_scheduler_config_type", "sarathi", "length_generator_config_type", "lognormal",
                                   "synthetic_request_generator_config_num_requests", count,
                                   "poisson_request_interval_generator_config_qps", "40", "metrics_config_store_request_metrics", "false",
                                   NULL};
        char title[300];
        double rss;
        int own = reset_peak_rss();
        snprintf(title, sizeof title, "streaming: %s requests, per-request rows off (DDSketch quantiles), sarathi, 8 replicas, Poisson 40 QPS", count);
        ok = run(title, big) > 0 && ok;
        rss = own ? scenario_peak_rss_mb() : peak_rss_mb();
        printf("peak RSS             %.1f MB   (target < 500 MB however many requests; %s)\n", rss, own ? "this scenario" : "whole process");
        ok = ok && rss < 500;
    }
    return ok ? 0 : 1;
}
