/* compare_schedulers.c - routing matters when replicas cache prefixes.
   Replays a multi-turn conversation trace (data/traces/conversations_small.csv, or the file
   given as argv[1]) on 4 replicas running vllm_v1 with prefix caching, under four routers, and
   prints p50/p99 TTFT and end-to-end latency and the prefix-cache hit rate. Exit status 1 if a
   cache-aware router does not beat round_robin on both hit rate and TTFT (make test runs it). */
#include "../vidur.h"

#include <stdio.h>

typedef struct row {
    double ttft50, ttft99, e2e50, e2e99, hit;
} row;

static int run(const char *trace, const char *router, row *out)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim;
    const vidur_summary *s;
    int64_t cached = 0, total = 0;
    int r;
    vidur_config_init(&cfg);
    if (vidur_config_set(&cfg, "request_generator_config_type", "trace_replay", &err) ||
        vidur_config_set(&cfg, "trace_request_generator_config_trace_file", trace, &err) ||
        vidur_config_set(&cfg, "trace_request_generator_config_time_scale_factor", "0.1", &err) ||
        vidur_config_set(&cfg, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B", &err) ||
        vidur_config_set(&cfg, "cluster_config_num_replicas", "4", &err) ||
        vidur_config_set(&cfg, "replica_scheduler_config_type", "vllm_v1", &err) ||
        vidur_config_set(&cfg, "cache_config_enable_prefix_caching", "true", &err) ||
        vidur_config_set(&cfg, "global_scheduler_config_type", router, &err) ||
        vidur_config_set(&cfg, "metrics_config_write_metrics", "false", &err) || vidur_sim_create(&cfg, &sim, &err)) {
        fprintf(stderr, "compare_schedulers: %s\n", err.message);
        return 0;
    }
    if (vidur_sim_run(sim) != VIDUR_OK) {
        fprintf(stderr, "compare_schedulers: %s\n", vidur_sim_error(sim)->message);
        vidur_sim_destroy(sim);
        return 0;
    }
    s = vidur_sim_summary(sim);
    for (r = 0; r < s->num_replicas; r++) {
        cached += s->replica[r].prefix_cached_tokens;
        total += s->replica[r].prefix_total_tokens;
    }
    out->ttft50 = s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p50;
    out->ttft99 = s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p99;
    out->e2e50 = s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].p50;
    out->e2e99 = s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].p99;
    out->hit = total ? (double)cached / (double)total : 0;
    vidur_sim_destroy(sim);
    return 1;
}

int main(int argc, char **argv)
{
    static const char *routers[] = {"round_robin", "lop", "sticky_lop", "ranked_sticky_lop_uncached"};
    const char *trace = argc > 1 ? argv[1] : "data/traces/conversations_small.csv";
    row rows[4];
    int i, ok = 1;
    printf("%s, 4 x Meta-Llama-3-8B on a100, vllm_v1 + prefix caching\n", trace);
    printf("%-28s %10s %10s %10s %10s %9s\n", "router", "TTFT p50", "TTFT p99", "E2E p50", "E2E p99", "hit rate");
    for (i = 0; i < 4; i++) {
        if (!run(trace, routers[i], &rows[i])) return 1;
        printf("%-28s %9.4fs %9.4fs %9.3fs %9.3fs %8.1f%%\n", routers[i], rows[i].ttft50, rows[i].ttft99, rows[i].e2e50,
               rows[i].e2e99, rows[i].hit * 100);
    }
    /* the cache-aware routers must beat round robin on hit rate and TTFT */
    for (i = 2; i < 4; i++)
        if (!(rows[i].hit > rows[0].hit && rows[i].ttft50 < rows[0].ttft50)) {
            printf("FAIL %s does not beat round_robin on hit rate and TTFT\n", routers[i]);
            ok = 0;
        }
    return ok ? 0 : 1;
}
