/* fuzz_hfconfig: a Hugging Face config.json (vidur_model_spec_from_hf_json, read with jansson under
   VIDUR_JSON) made a model, registered (vidur_config_add_model) and run tiny on an H100 with the
   roofline at TP 1 and TP 2: the memory planner, the head size and the MoE and FP8 operators see
   whatever numbers the file holds. Seeds: the ten committed configs of data/models. */
#include "fuzz.h"

static int fuzz_hfconfig(const uint8_t *data, size_t size)
{
    vidur_model_spec spec;
    vidur_error err;
    int tp;
    memset(&err, 0, sizeof err);
    if (vidur_model_spec_from_hf_json((const char *)data, size, "config.json", "fuzz/model", &spec, &err) != VIDUR_OK) return 0;
    for (tp = 1; tp <= 2; tp++) {
        vidur_config cfg;
        vidur_config_init(&cfg);
        if (vidur_config_add_model(&cfg, &spec, &err) != VIDUR_OK) return 0;
        if (vidur_config_set(&cfg, "replica_config_model_name", "fuzz/model", &err) == VIDUR_OK &&
            vidur_config_set(&cfg, "replica_config_device", "h100", &err) == VIDUR_OK &&
            vidur_config_set(&cfg, "replica_config_network_device", "h100_dgx", &err) == VIDUR_OK &&
            vidur_config_set(&cfg, "replica_config_tensor_parallel_size", tp == 1 ? "1" : "2", &err) == VIDUR_OK &&
            vidur_config_set(&cfg, "execution_time_predictor_config_type", "roofline", &err) == VIDUR_OK) {
            fuzz_tame(&cfg);
            cfg.synthetic_num_requests = 4;
            fuzz_run(&cfg, 2000);
        }
    }
    return 0;
}

#ifndef VIDUR_FUZZ_ALL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_hfconfig(data, size); }
#endif
