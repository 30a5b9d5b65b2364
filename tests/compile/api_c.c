/* Declarations only: vidur.h without VIDUR_IMPLEMENTATION must compile cleanly on its own. */
#include "vidur.h"

int api_uses(vidur_config *cfg, vidur_error *err);

int api_uses(vidur_config *cfg, vidur_error *err)
{
    vidur_sim *sim = NULL;
    vidur_memory_plan plan;
    const vidur_model_spec *m;
    vidur_config_init(cfg);
    if (vidur_config_set(cfg, "replica_config_device", "h100", err) != VIDUR_OK) return 1;
    if (vidur_config_validate(cfg, err) != VIDUR_OK) return 2;
    m = vidur_find_model(cfg, cfg->model_name);
    if (!m || vidur_memory_plan_compute(m, vidur_find_device(cfg, cfg->device), 1, 1, 0.1, 4096, 16, &plan, err))
        return 3;
    if (vidur_sim_create(cfg, &sim, err) != VIDUR_OK) return 4;
    vidur_sim_run(sim);
    vidur_summary_print(vidur_sim_summary(sim), stdout);
    vidur_sim_destroy(sim);
    return VIDUR_VERSION_MAJOR >= 0 && sizeof(vidur_request) > 0 ? 0 : 5;
}
