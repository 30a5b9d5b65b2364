/* custom_scheduler.c - write your own router in ~30 lines: "power of two choices".
   For each request, sample two replicas at random and send it to the one with fewer requests
   waiting (ties: the less full KV cache). Registered under a name, it is selected like any
   built-in: global_scheduler_config_type = power_of_two (INI) or the same flag.
   The state lives in the object create() returns; the library calls destroy() at the end. */
#include "../vidur.h"

#include <stdlib.h>

typedef struct p2c { int unused; } p2c;

static void *p2c_create(vidur_sim *sim, void *user) { (void)sim; (void)user; return calloc(1, sizeof(p2c)); }
static void p2c_destroy(void *state) { free(state); }

static int p2c_route(void *state, vidur_sim *sim, const vidur_request *q)
{
    int n = vidur_sim_num_replicas(sim);
    /* the simulation's own random stream keeps runs reproducible */
    int a = (int)(vidur_sim_random(sim) * n), b = (int)(vidur_sim_random(sim) * n);
    vidur_replica *ra = vidur_sim_replica(sim, a), *rb = vidur_sim_replica(sim, b);
    int64_t wa = vidur_replica_num_pending_requests(ra), wb = vidur_replica_num_pending_requests(rb);
    (void)state; (void)q;
    if (wa != wb) return wa < wb ? a : b;
    return vidur_replica_kv_usage_percent(ra) <= vidur_replica_kv_usage_percent(rb) ? a : b;
}

static const vidur_global_scheduler_api power_of_two = {
    "power_of_two", p2c_create, p2c_destroy, p2c_route, NULL, NULL, NULL, NULL};

static int run(const char *router)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim;
    const vidur_summary *s;
    int64_t done;
    vidur_config_init(&cfg);
    if (vidur_config_add_global_scheduler(&cfg, &power_of_two, &err) ||
        vidur_config_set(&cfg, "global_scheduler_config_type", router, &err) ||
        vidur_config_set(&cfg, "cluster_config_num_replicas", "8", &err) ||
        vidur_config_set(&cfg, "length_generator_config_type", "lognormal", &err) ||
        vidur_config_set(&cfg, "synthetic_request_generator_config_num_requests", "2000", &err) ||
        vidur_config_set(&cfg, "poisson_request_interval_generator_config_qps", "30", &err) ||
        vidur_sim_create(&cfg, &sim, &err)) {
        fprintf(stderr, "custom_scheduler: %s\n", err.message);
        return 1;
    }
    if (vidur_sim_run(sim) != VIDUR_OK) {
        fprintf(stderr, "custom_scheduler: %s\n", vidur_sim_error(sim)->message);
        vidur_sim_destroy(sim);
        return 1;
    }
    s = vidur_sim_summary(sim);
    printf("%-14s completed %lld  TTFT p50 %.4f s p99 %.4f s  E2E p99 %.3f s\n", router, (long long)s->num_completed,
           s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p50, s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p99,
           s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].p99);
    done = s->num_completed; /* the summary belongs to the simulation: read it before destroying */
    vidur_sim_destroy(sim);
    return done == 2000 ? 0 : 1;
}

int main(void)
{
    return run("random") | run("power_of_two") | run("round_robin");
}
