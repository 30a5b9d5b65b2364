/* VIDUR_NO_PPO (compiled as C and as C++): the PPO router and its API are left out, selecting
   `ppo` is a clear VIDUR_ERR_UNSUPPORTED from validation, a plug-in may still take the name, and
   every other router still runs. */
#define VIDUR_NO_PPO
#define VIDUR_IMPLEMENTATION
#include "vidur.h"
#include <stdio.h>
#include <string.h>

/* The API is really gone: with the declaration present, these would not compile (a static
   function may not follow an extern declaration of the same name; the type would be redefined
   with another meaning). */
static int vidur_ppo_create(int x) { return x + 1; }
typedef int vidur_ppo;

static int route_first(void *state, vidur_sim *sim, const vidur_request *q)
{
    (void)state; (void)sim; (void)q;
    return 0;
}

static int run(vidur_config *cfg, const char *what)
{
    vidur_error err;
    vidur_sim *sim = NULL;
    if (vidur_sim_create(cfg, &sim, &err) != VIDUR_OK) {
        fprintf(stderr, "%s: %s\n", what, err.message);
        return 0;
    }
    if (vidur_sim_run(sim) != VIDUR_OK || vidur_sim_summary(sim)->num_completed != 20) {
        fprintf(stderr, "%s: the simulation did not complete its 20 requests\n", what);
        vidur_sim_destroy(sim);
        return 0;
    }
    vidur_sim_destroy(sim);
    return 1;
}

int main(void)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim = NULL;
    vidur_global_scheduler_api mine;
    vidur_ppo n = vidur_ppo_create(1);
    vidur_config_init(&cfg);
    if (vidur_config_set(&cfg, "execution_time_predictor_config_type", "roofline", &err) ||
        vidur_config_set(&cfg, "synthetic_request_generator_config_num_requests", "20", &err) ||
        vidur_config_set(&cfg, "metrics_config_write_metrics", "false", &err) ||
        vidur_config_set(&cfg, "cluster_config_num_replicas", "2", &err)) {
        fprintf(stderr, "config: %s\n", err.message);
        return 1;
    }
    if (!run(&cfg, "round_robin")) return 1;
    if (vidur_config_set(&cfg, "global_scheduler_config_type", "ppo", &err) != VIDUR_OK) {
        fprintf(stderr, "setting ppo: %s\n", err.message);
        return 1;
    }
    if (vidur_sim_create(&cfg, &sim, &err) != VIDUR_ERR_UNSUPPORTED || !strstr(err.message, "VIDUR_NO_PPO") || sim) {
        fprintf(stderr, "ppo under VIDUR_NO_PPO: expected VIDUR_ERR_UNSUPPORTED naming VIDUR_NO_PPO, got '%s'\n", err.message);
        return 1;
    }
    memset(&mine, 0, sizeof mine);
    mine.name = "ppo";
    mine.route = route_first;
    if (vidur_config_add_global_scheduler(&cfg, &mine, &err) != VIDUR_OK) {
        fprintf(stderr, "plug-in: %s\n", err.message);
        return 1;
    }
    if (!run(&cfg, "a plug-in named ppo")) return 1;
    return n == 2 ? 0 : 1;
}
