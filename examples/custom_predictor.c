/* custom_predictor.c - your own operator-time predictor: "what if attention were 2x faster?"
   A predictor plug-in times every operator of a simulation. This one asks the built-in predictor
   (profiled tables and the calibrated roofline) and divides the attention kernels' times by its
   own key, speedup; registered under a name, it is selected like a built-in:
   execution_time_predictor_config_type = faster_attention (INI) or the same flag, and
   --faster_attention_execution_time_predictor_config_speedup 3 sets its key.
   The state lives in the object create() returns; the library calls destroy() at the end. */
#include "../vidur.h"

#include <stdlib.h>

#define SECTION "faster_attention_execution_time_predictor_config"

typedef struct faster {
    const vidur_predictor_api *builtin; /* the simulation's tables and roofline */
    double speedup;
} faster;

static void *faster_create(vidur_sim *sim, void *user)
{
    faster *f = (faster *)malloc(sizeof *f);
    (void)user;
    if (!f) return NULL;
    f->builtin = vidur_sim_builtin_predictor(sim);
    f->speedup = atof(vidur_config_get(vidur_sim_config(sim), SECTION, "speedup"));
    return f;
}

static void faster_destroy(void *state) { free(state); }

/* must depend on its arguments only: the simulation memoises stage times per batch shape */
static double faster_op_time_ms(void *state, int op, int64_t k1, int64_t k2)
{
    const faster *f = (const faster *)state;
    double t = f->builtin->op_time_ms(f->builtin->state, op, k1, k2);
    return op == VIDUR_OP_ATTN_PREFILL || op == VIDUR_OP_ATTN_DECODE ? t / f->speedup : t;
}

static const vidur_predictor_plugin faster_attention = {
    {"faster_attention", faster_op_time_ms, NULL}, faster_create, faster_destroy, NULL};

/* runs 1,000 requests with the named predictor; TTFT and TBT medians into ttft, tbt */
static int run(const char *predictor, double *ttft, double *tbt)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim;
    const vidur_summary *s;
    vidur_config_init(&cfg);
    if (vidur_config_add_predictor(&cfg, &faster_attention, &err) ||
        vidur_config_add_key(&cfg, SECTION, "speedup", VIDUR_T_DOUBLE, "2", "Attention kernels run this many times faster.", &err) ||
        vidur_config_set(&cfg, "execution_time_predictor_config_type", predictor, &err) ||
        vidur_config_set(&cfg, "replica_config_model_name", "meta-llama/Meta-Llama-3-8B", &err) ||
        vidur_config_set(&cfg, "cluster_config_num_replicas", "2", &err) ||
        vidur_config_set(&cfg, "length_generator_config_type", "lognormal", &err) ||
        vidur_config_set(&cfg, "synthetic_request_generator_config_num_requests", "1000", &err) ||
        vidur_config_set(&cfg, "poisson_request_interval_generator_config_qps", "8", &err) ||
        vidur_sim_create(&cfg, &sim, &err)) {
        fprintf(stderr, "custom_predictor: %s\n", err.message);
        return 1;
    }
    if (vidur_sim_run(sim) != VIDUR_OK) {
        fprintf(stderr, "custom_predictor: %s\n", vidur_sim_error(sim)->message);
        vidur_sim_destroy(sim);
        return 1;
    }
    s = vidur_sim_summary(sim);
    *ttft = s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p50;
    *tbt = s->metric[VIDUR_METRIC_DECODE_TOKEN_EXECUTION_PLUS_PREEMPTION_TIME].p50;
    printf("%-16s attention from %-16s TTFT p50 %.4f s  TBT p50 %.2f ms\n", predictor, vidur_sim_op_source(sim, VIDUR_OP_ATTN_DECODE),
           *ttft, *tbt * 1e3);
    vidur_sim_destroy(sim);
    return 0;
}

int main(void)
{
    double ttft[2], tbt[2];
    if (run("random_forrest", &ttft[0], &tbt[0]) || run("faster_attention", &ttft[1], &tbt[1])) return 1;
    return ttft[1] < ttft[0] && tbt[1] < tbt[0] ? 0 : 1; /* faster attention, faster tokens */
}
