/* grader.c - grades examples/assignment/student_scheduler.c.
   Runs three fixed workloads over five seeds each (Meta-Llama-3-8B on 4 x A100, sarathi) with
   the student's router, round_robin and lor, and prints a table of mean/p99 end-to-end latency
   and p99 time to first token. Score per workload: round_robin's mean E2E divided by the
   student's (1.00 = as good as round robin; higher is better). Exit status 0 when everything
   ran; the score itself is for the teacher to judge. The Makefile links the library and the
   profiled operator tables (build/libvidur.a, build/libvidur_tables.a), so every latency here is
   what the `vidur` program would predict for the same run. */
#include "../../vidur.h"

#include <stdio.h>
#include <stdlib.h>

#include "student_scheduler.c"

typedef struct workload {
    const char *name;
    const char *keys[8];
    const char *values[8];
} workload;

static const workload workloads[] = {
    {"steady (Poisson 12 QPS, lognormal lengths)",
     {"interval_generator_config_type", "poisson_request_interval_generator_config_qps", "length_generator_config_type", NULL},
     {"poisson", "12", "lognormal", NULL}},
    {"bursty (gamma CV 4, 10 QPS)",
     {"interval_generator_config_type", "gamma_request_interval_generator_config_qps", "gamma_request_interval_generator_config_cv",
      "length_generator_config_type", NULL},
     {"gamma", "10", "4", "lognormal", NULL}},
    {"long prompts (zipf 1-4k tokens, Poisson 4 QPS)",
     {"interval_generator_config_type", "poisson_request_interval_generator_config_qps", "length_generator_config_type", NULL},
     {"poisson", "4", "zipf", NULL}},
};

typedef struct result {
    double e2e_mean, e2e_p99, ttft_p99;
    int ok;
} result;

static result run(const workload *w, const char *router, int seed)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim = NULL;
    result r = {0, 0, 0, 0};
    char seedbuf[32];
    int i, bad = 0;
    vidur_config_init(&cfg);
    snprintf(seedbuf, sizeof seedbuf, "%d", seed);
    bad |= vidur_config_add_global_scheduler(&cfg, &student_scheduler, &err) != VIDUR_OK;
    bad |= vidur_config_set(&cfg, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B", &err) != VIDUR_OK;
    bad |= vidur_config_set(&cfg, "cluster_config_num_replicas", "4", &err) != VIDUR_OK;
    bad |= vidur_config_set(&cfg, "synthetic_request_generator_config_num_requests", "600", &err) != VIDUR_OK;
    bad |= vidur_config_set(&cfg, "synthetic_request_generator_config_seed", seedbuf, &err) != VIDUR_OK;
    bad |= vidur_config_set(&cfg, "global_scheduler_config_type", router, &err) != VIDUR_OK;
    bad |= vidur_config_set(&cfg, "metrics_config_write_metrics", "false", &err) != VIDUR_OK;
    for (i = 0; w->keys[i]; i++) bad |= vidur_config_set(&cfg, w->keys[i], w->values[i], &err) != VIDUR_OK;
    if (bad || vidur_sim_create(&cfg, &sim, &err) != VIDUR_OK) {
        fprintf(stderr, "grader: %s\n", err.message);
        return r;
    }
    if (vidur_sim_run(sim) == VIDUR_OK) {
        const vidur_summary *s = vidur_sim_summary(sim);
        r.e2e_mean = s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].mean;
        r.e2e_p99 = s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].p99;
        r.ttft_p99 = s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p99;
        r.ok = s->num_completed == s->num_requests;
    } else {
        fprintf(stderr, "grader: %s: %s\n", router, vidur_sim_error(sim)->message);
    }
    vidur_sim_destroy(sim);
    return r;
}

int main(void)
{
    static const char *routers[] = {"student", "round_robin", "lor"};
    int w, k, seed, all_ok = 1;
    double total = 0;
    printf("%-46s %-12s %10s %10s %10s\n", "workload (5 seeds)", "router", "E2E mean", "E2E p99", "TTFT p99");
    for (w = 0; w < (int)(sizeof workloads / sizeof workloads[0]); w++) {
        double mean[3] = {0, 0, 0};
        for (k = 0; k < 3; k++) {
            double p99 = 0, t99 = 0;
            for (seed = 1; seed <= 5; seed++) {
                result r = run(&workloads[w], routers[k], seed);
                all_ok &= r.ok;
                mean[k] += r.e2e_mean / 5;
                p99 += r.e2e_p99 / 5;
                t99 += r.ttft_p99 / 5;
            }
            printf("%-46s %-12s %9.3fs %9.3fs %9.3fs\n", k ? "" : workloads[w].name, routers[k], mean[k], p99, t99);
        }
        printf("%-46s score %.2f (round_robin mean E2E / yours)\n", "", mean[0] > 0 ? mean[1] / mean[0] : 0);
        total += mean[0] > 0 ? mean[1] / mean[0] : 0;
    }
    printf("overall score %.2f\n", total / 3);
    return all_ok ? 0 : 1;
}
