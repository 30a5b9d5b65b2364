/* fuzz_search: a capacity-search INI (vidur_search_spec_load_string), expanded when the space
   is small, with the simulator configuration, cost and a tiny run of its first valid points.
   Seeds: data/search/quick.ini, example.ini. */
#include "fuzz.h"

static int fuzz_search(const uint8_t *data, size_t size)
{
    vidur_search_spec *spec = NULL;
    vidur_search_job *jobs = NULL;
    vidur_error err;
    char *text = fuzz_text(data, size);
    int64_t count = 0, valid = 0, total = 1, i;
    int runs = 0;
    if (vidur_search_spec_load_string(text, "fuzz_search.ini", &spec, &err) == VIDUR_OK) {
        const int dims[] = {spec->num_searches, spec->num_models, spec->num_clusters, spec->num_traces, spec->num_global_schedulers,
                            spec->num_request_queues, spec->num_replica_schedulers, spec->num_slo_configs, spec->num_tp_dimensions,
                            spec->num_pp_dimensions, spec->num_batch_sizes};
        for (i = 0; i < (int64_t)(sizeof dims / sizeof dims[0]) && total <= 4096; i++) total *= dims[i] > 0 ? dims[i] : 1;
        /* the expansion itself is bounded by the library; a large space just costs time here */
        if (total <= 4096 && vidur_search_expand(spec, 1, &jobs, &count, &valid, &err) == VIDUR_OK) {
            for (i = 0; i < count && runs < 2; i++) {
                vidur_config cfg;
                if (!jobs[i].valid) continue;
                (void)vidur_search_cost_per_hour(spec, &jobs[i], 2);
                if (vidur_search_job_config(spec, &jobs[i], 2.0, 1, &cfg, &err) == VIDUR_OK) {
                    fuzz_tame(&cfg);
                    cfg.synthetic_num_requests = 10;
                    fuzz_run(&cfg, 5000);
                }
                runs++;
            }
            VIDUR_FREE(jobs);
        }
        vidur_search_spec_free(spec);
    }
    free(text);
    return 0;
}

#ifndef VIDUR_FUZZ_ALL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_search(data, size); }
#endif
