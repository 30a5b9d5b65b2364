/* capacity_search.c - the library side of `vidur-search` in one page: read a search INI,
   expand it, and find the highest QPS the first deployment sustains under the first SLO config
   (the fork's exponential-then-binary search), with its QPS per dollar.

       build/examples/capacity_search [data/search/quick.ini] */
#include "../vidur.h"
#define VIDUR_SEARCH_IMPLEMENTATION
#include "../vidur_search.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct point { const vidur_search_spec *spec; const vidur_search_job *job; } point;

/* the oracle: one simulation at (qps, replicas), judged by SLO config 0 over its requests */
static vidur_result meets_slo(void *user, double qps, int replicas, int *pass, vidur_error *err)
{
    point *p = (point *)user;
    vidur_config cfg;
    vidur_search_values vals = {NULL, 0, 0};
    vidur_sim *sim;
    vidur_result r;
    double measured;
    if ((r = vidur_search_job_config(p->spec, p->job, qps, replicas, &cfg, err))) return r;
    cfg.write_metrics = 0;
    vidur_search_values_attach(&cfg, &vals);
    if ((r = vidur_sim_create(&cfg, &sim, err))) return r;
    r = vidur_sim_run(sim);
    *pass = vidur_search_slo_check(&p->spec->slo_configs[0], vals.v, vals.n, VIDUR_NUM_REQUEST_TIME_METRICS, &measured) == 1;
    printf("  qps %7.3f: %-4s (%s = %.3f)\n", qps, *pass ? "ok" : "no", p->spec->slo_configs[0].name, measured);
    vidur_sim_destroy(sim);
    vidur_search_values_free(&vals);
    return r;
}

int main(int argc, char **argv)
{
    vidur_search_spec *spec;
    vidur_search_job *jobs;
    vidur_search_params prm;
    vidur_search_outcome out;
    vidur_error err;
    int64_t n, nvalid, i;
    point p;
    double cost;
    if (vidur_search_spec_load(argc > 1 ? argv[1] : "data/search/quick.ini", &spec, &err) ||
        vidur_search_expand(spec, 0, &jobs, &n, &nvalid, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    for (i = 0; i < n && !jobs[i].valid; i++) {}
    if (i == n) return 1;
    p.spec = spec;
    p.job = &jobs[i];
    printf("%lld valid points; searching the first: %s\n", (long long)nvalid, jobs[i].key);
    prm.search_for = spec->searches[jobs[i].search].search_for;
    prm.qps = spec->searches[jobs[i].search].qps;
    prm.num_replicas = spec->searches[jobs[i].search].num_replicas;
    prm.max_iterations = spec->max_iterations;
    prm.min_search_granularity = spec->min_search_granularity;
    prm.min_qps = spec->min_qps;
    prm.num_qps_multipliers = 0;
    prm.qps_multipliers = NULL;
    if (vidur_search_run(&prm, meets_slo, &p, &out, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    cost = vidur_search_cost_per_hour(spec, &jobs[i], out.num_replicas);
    printf("max QPS %.4g on %d replicas ($%.2f/hour): %.4g QPS per $/hour, %d simulations\n", out.qps,
           out.num_replicas, cost, vidur_search_qps_per_dollar(out.qps, cost), out.num_probes);
    free(jobs);
    vidur_search_spec_free(spec);
    return out.found ? 0 : 1;
}
