/* fuzz_table: an operator-table file (vidur_table_set_load), written back, evaluated at its
   domain's corners, and used by a tiny run (Meta-Llama-3-8B on an A100: tables that match it
   predict, the roofline the rest). Reproducers: negative and huge times, a polynomial that goes
   negative (issue 14 finding 7: the stage-time check fails the run). */
#include "fuzz.h"

static int fuzz_table(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("table.vtab");
    vidur_table_set *set = NULL;
    vidur_error err;
    fuzz_write(path, data, size);
    if (vidur_table_set_load(path, &set, &err) == VIDUR_OK) {
        FILE *f = fopen("/dev/null", "wb");
        vidur_config cfg;
        int i;
        if (f) {
            vidur_table_set_write(set, f);
            fclose(f);
        }
        for (i = 0; i < set->num_tables; i++) {
            const vidur_op_table *t = &set->tables[i];
            (void)vidur_op_table_eval(t, t->xmin, t->ymin);
            (void)vidur_op_table_eval(t, t->xmax, t->ymax);
            (void)vidur_op_table_eval(t, 0, 0);
        }
        vidur_table_set_free(set);
        vidur_config_init(&cfg);
        if (vidur_config_set(&cfg, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B", &err) == VIDUR_OK &&
            vidur_config_set(&cfg, "replica_config_device", "a100", &err) == VIDUR_OK &&
            vidur_config_set(&cfg, "random_forrest_execution_time_predictor_config_table_file", path, &err) == VIDUR_OK) {
            fuzz_tame(&cfg);
            cfg.synthetic_num_requests = 8;
            fuzz_run(&cfg, 5000);
        }
    }
    return 0;
}

#ifndef VIDUR_FUZZ_ALL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_table(data, size); }
#endif
