/* test_builtin_tables.c - the compiled-in operator tables (built with -DVIDUR_TABLES): every
   table is well formed, the combinations the profiles cover are found by the simulator, and a
   table reproduces the profiled medians it was trained on (in-sample, when ../shared is here). */
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TEST(test_well_formed)
{
    const vidur_table_set *set = vidur_builtin_tables();
    int i, bad = 0, grids = 0, polys = 0;
    REQUIRE(set->num_tables > 1000);
    CHECK(set->num_calibrations > 20);
    CHECK_CONTAINS(set->provenance, "vidur-tables");
    for (i = 0; i < set->num_tables; i++) {
        const vidur_op_table *t = &set->tables[i];
        int j;
        if (t->op < 0 || t->op >= VIDUR_OP_COUNT || t->tp < 1) bad++;
        if (t->kind == VIDUR_TABLE_GRID) {
            grids++;
            for (j = 1; j < t->nx; j++) bad += !(t->x[j] > t->x[j - 1]);
            for (j = 1; j < t->ny; j++) bad += !(t->y[j] > t->y[j - 1]);
            for (j = 0; j < (t->nx + 1) * (t->ny + 1); j++) bad += !(t->v[j] >= 0 && t->v[j] < 1e6);
        } else {
            polys++;
            bad += t->nterms < 1 || t->sx == 0;
        }
        bad += !(t->xmax >= t->xmin);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(grids, polys); /* one forest and one regression per combination */
}

static const char *source(const char *model, const char *device, const char *node, int tp, int op)
{
    static char buf[64];
    vidur_config c;
    vidur_error err;
    vidur_sim *sim = NULL;
    char tps[8];
    vidur_config_init(&c);
    snprintf(tps, sizeof tps, "%d", tp);
    SET(&c, "replica_config_model_name", model);
    SET(&c, "replica_config_device", device);
    SET(&c, "replica_config_network_device", node);
    SET(&c, "replica_config_tensor_parallel_size", tps);
    SET(&c, "metrics_config_write_metrics", "false");
    if (vidur_sim_create(&c, &sim, &err) != VIDUR_OK) {
        printf("  create: %s\n", err.message);
        return "error";
    }
    snprintf(buf, sizeof buf, "%s", vidur_sim_op_source(sim, op));
    vidur_sim_destroy(sim);
    return buf;
}

/* measured where profiles exist, calibrated roofline elsewhere (README's coverage table) */
TEST(test_coverage)
{
    CHECK_STR_EQ(source("meta-llama/Llama-2-7b-hf", "a100", "a100_pairwise_nvlink", 1, VIDUR_OP_MLP_UP_PROJ), "random_forest");
    CHECK_STR_EQ(source("meta-llama/Llama-2-7b-hf", "a100", "a100_pairwise_nvlink", 1, VIDUR_OP_ATTN_DECODE), "random_forest");
    CHECK_STR_EQ(source("meta-llama/Meta-Llama-3-8B", "h100", "h100_dgx", 1, VIDUR_OP_ATTN_PREFILL), "random_forest"); /* our H100 profiles */
    CHECK_STR_EQ(source("meta-llama/Llama-2-70b-hf", "a100", "a100_dgx", 4, VIDUR_OP_ALL_REDUCE), "random_forest");
    CHECK_STR_EQ(source("meta-llama/Llama-2-7b-hf", "a40", "a40_pairwise_nvlink", 2, VIDUR_OP_ALL_REDUCE), "roofline"); /* no A40 all-reduce profile: nothing to calibrate with */
    CHECK_STR_EQ(source("internlm/internlm2-20b", "a100", "a100_dgx", 1, VIDUR_OP_MLP_UP_PROJ), "calibrated roofline"); /* never profiled */
    CHECK_STR_EQ(source("codellama/CodeLlama-34b-Instruct-hf", "a40", "a40_pairwise_nvlink", 2, VIDUR_OP_ATTN_DECODE), "calibrated roofline");
}

/* The a100 Llama-2-7B TP1 mlp_up_proj forest against the medians it was trained on: in-sample,
   a forest of this data is within a few percent (median APE <= 2 %). */
TEST(test_in_sample)
{
    const char *path = "../shared/data/profiling/compute/a100/meta-llama/Llama-2-7b-hf/mlp.csv";
    FILE *f = fopen(path, "r");
    const vidur_table_set *set = vidur_builtin_tables();
    const vidur_op_table *t = NULL;
    char line[8192], *cols[128];
    int ncol = 0, ci_tok = -1, ci_tp = -1, ci_med = -1, i, n = 0;
    double err[4096];
    vidur_sim *sim = NULL;
    if (!f) {
        printf("SKIP test_in_sample: %s absent\n", path);
        return;
    }
    for (i = 0; i < set->num_tables; i++) {
        const vidur_op_table *x = &set->tables[i];
        if (x->op == VIDUR_OP_MLP_UP_PROJ && x->predictor == VIDUR_PREDICTOR_RANDOM_FOREST && x->tp == 1 && x->device &&
            !strcmp(x->device, "a100") && !strcmp(x->model, "meta-llama/Llama-2-7b-hf"))
            t = x;
    }
    REQUIRE(t != NULL);
    {
        /* the library's prediction (a relative table's value times the ideal roofline time) */
        vidur_config c;
        vidur_error e;
        vidur_config_init(&c);
        SET(&c, "metrics_config_write_metrics", "false");
        if (vidur_sim_create(&c, &sim, &e) != VIDUR_OK) printf("  create: %s\n", e.message);
        REQUIRE(sim != NULL);
        CHECK(sim->tpred.t[VIDUR_OP_MLP_UP_PROJ] == t);
    }
    while (fgets(line, sizeof line, f)) {
        char *p = line, *tok;
        int k = 0;
        for (tok = strtok(p, ",\n"); tok && k < 128; tok = strtok(NULL, ",\n")) cols[k++] = tok;
        if (!ncol) {
            ncol = k;
            for (i = 0; i < k; i++) {
                if (!strcmp(cols[i], "num_tokens")) ci_tok = i;
                if (!strcmp(cols[i], "num_tensor_parallel_workers")) ci_tp = i;
                if (!strcmp(cols[i], "time_stats.mlp_up_proj.median")) ci_med = i;
            }
            continue;
        }
        if (k != ncol || ci_tok < 0 || ci_tp < 0 || ci_med < 0 || atoi(cols[ci_tp]) != 1 || n >= 4096) continue;
        {
            double x = atof(cols[ci_tok]), y = atof(cols[ci_med]);
            double v = sim->predictor.op_time_ms(sim->predictor.state, VIDUR_OP_MLP_UP_PROJ, (int64_t)x, 0);
            err[n++] = y > 0 ? fabs(v - y) / y * 100 : 0;
        }
    }
    fclose(f);
    vidur_sim_destroy(sim);
    REQUIRE(n > 100);
    {
        double med = vidur__quantile_from(err, n, 0.5, 0, NULL);
        printf("  a100 Llama-2-7B TP1 mlp_up_proj: in-sample median APE %.2f %% over %d rows\n", med, n);
        CHECK(med <= 2.0);
    }
}

int main(void)
{
    RUN_TEST(test_well_formed);
    RUN_TEST(test_coverage);
    RUN_TEST(test_in_sample);
    return test_finish();
}
