/* The three ways to get the profiled operator tables, one program each (tests/compile/check.sh):
     -DTABLES_EXPECTED=1 with the implementation built with VIDUR_TABLES_EXTERN and linked with
        vidur_tables.c (as the Makefile and pkg-config's vidur do), or built with VIDUR_TABLES;
     -DTABLES_EXPECTED=0 with neither: no tables (not even the roofline's calibrations), and every
        simulation says so through the log callback. */
#include "vidur.h"
#include <stdio.h>
#include <string.h>

static int warned;
static void on_log(void *user, vidur_log_level level, const char *msg)
{
    (void)user;
    if (level == VIDUR_LOG_WARN && strstr(msg, "no profiled operator tables")) warned++;
}

static int simulate(const char *predictor)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim;
    vidur_config_init(&cfg);
    cfg.log_fn = on_log;
    if (vidur_config_set(&cfg, "execution_time_predictor_config_type", predictor, &err) ||
        vidur_config_set(&cfg, "synthetic_request_generator_config_num_requests", "4", &err) ||
        vidur_config_set(&cfg, "metrics_config_write_metrics", "false", &err) || vidur_sim_create(&cfg, &sim, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 0;
    }
    vidur_sim_destroy(sim);
    return 1;
}

int main(void)
{
    const vidur_table_set *set = vidur_builtin_tables();
    int have = set->num_tables > 0 && set->provenance && strstr(set->provenance, "vidur-tables") != NULL;
    if (have != TABLES_EXPECTED) {
        fprintf(stderr, "%d tables (%s), expected %s\n", set->num_tables, set->provenance, TABLES_EXPECTED ? "some" : "none");
        return 1;
    }
    if (!simulate("roofline") || !simulate("random_forrest") || warned != 2 * !TABLES_EXPECTED) {
        fprintf(stderr, "%d warnings about the tables in two runs, expected %d\n", warned, 2 * !TABLES_EXPECTED);
        return 1;
    }
    return 0;
}
