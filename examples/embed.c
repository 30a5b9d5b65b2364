/* embed.c - run a simulation from your own program in a few lines.
   After `make install` (with #include <vidur.h>):
       cc embed.c $(pkg-config --cflags --libs vidur)
   links the implementation (libvidur.a) and the profiled operator tables (libvidur_tables.a), so
   it predicts exactly as the `vidur` program does. In the repository, the Makefile links the same
   two libraries from build/ (make build/examples/embed). */
#include "../vidur.h"

int main(void)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim;
    const vidur_summary *s;
    int ok;

    vidur_config_init(&cfg); /* Vidur's defaults: Llama-2-7B on A100, sarathi, 128 requests */
    if (vidur_config_set(&cfg, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B", &err) ||
        vidur_config_set(&cfg, "replica_config_device", "h100", &err) ||
        vidur_config_set(&cfg, "cluster_config_num_replicas", "2", &err) ||
        vidur_config_set(&cfg, "poisson_request_interval_generator_config_qps", "4", &err) ||
        vidur_sim_create(&cfg, &sim, &err)) {
        fprintf(stderr, "embed: %s\n", err.message);
        return 1;
    }
    if (vidur_sim_run(sim) != VIDUR_OK) {
        fprintf(stderr, "embed: %s\n", vidur_sim_error(sim)->message);
        vidur_sim_destroy(sim);
        return 1;
    }
    s = vidur_sim_summary(sim);
    printf("%lld requests, TTFT p50 %.4f s, E2E p99 %.3f s\n", (long long)s->num_completed,
           s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p50, s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].p99);
    ok = s->num_completed == 128;  /* the summary lives in the simulation */
    vidur_sim_destroy(sim);
    return ok ? 0 : 1;
}
