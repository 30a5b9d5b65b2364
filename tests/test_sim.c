/* Small end-to-end simulations with hand-checkable facts (simulator.md, schedulers.md). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#endif
#include "vidur.h"
#include "test.h"
#include <stdlib.h>
#include <unistd.h>

/* A small, fast base configuration: roofline predictor, no output files, fixed lengths,
   everything arriving at t = 0. */
static void base_config(vidur_config *c, int num_requests, int prefill, int decode)
{
    char buf[32];
    vidur_config_init(c);
    SET(c, "execution_time_predictor_config_type", "roofline");
    SET(c, "metrics_config_write_metrics", "false");
    SET(c, "metrics_config_enable_chrome_trace", "false");
    SET(c, "request_generator_config_type", "synthetic");
    SET(c, "interval_generator_config_type", "static");
    SET(c, "length_generator_config_type", "fixed");
    snprintf(buf, sizeof buf, "%d", num_requests);
    SET(c, "synthetic_request_generator_config_num_requests", buf);
    snprintf(buf, sizeof buf, "%d", prefill);
    SET(c, "fixed_request_length_generator_config_prefill_tokens", buf);
    snprintf(buf, sizeof buf, "%d", decode);
    SET(c, "fixed_request_length_generator_config_decode_tokens", buf);
}

/* Creates, runs and returns the simulation (NULL on failure, with a FAIL line printed). */
static vidur_sim *run_sim_(const vidur_config *c, int line)
{
    vidur_sim *sim = NULL;
    vidur_error err;
    vidur_result r;
    memset(&err, 0, sizeof err);
    r = vidur_sim_create(c, &sim, &err);
    if (r != VIDUR_OK || !sim) {
        char what[700];
        snprintf(what, sizeof what, "vidur_sim_create: %s", err.message);
        test_report_(0, __FILE__, line, what, "create");
        if (sim) vidur_sim_destroy(sim);
        return NULL;
    }
    r = vidur_sim_run(sim);
    if (r != VIDUR_OK) {
        char what[700];
        const vidur_error *e = vidur_sim_error(sim);
        snprintf(what, sizeof what, "vidur_sim_run: %s", e ? e->message : "?");
        test_report_(0, __FILE__, line, what, "run");
        vidur_sim_destroy(sim);
        return NULL;
    }
    return sim;
}
#define RUN_SIM(cfg) run_sim_((cfg), __LINE__)

static char *summary_json(const vidur_summary *s)
{
    FILE *f = tmpfile();
    char *text;
    if (!f) return NULL;
    if (vidur_summary_write_json(s, f) != VIDUR_OK) { fclose(f); return NULL; }
    text = test_slurp_(f);
    fclose(f);
    return text;
}

/* ---- predicted stage times, straight from the built-in roofline model ------------------ */
typedef struct stage_times { double prefill, decode; } stage_times;

/* x0: one request's whole prompt of P tokens (nothing processed yet).
   x1: one decode token of that request with context p = P + 1.
   The batch shapes are written out by hand from execution_time.md §3 and compared with
   vidur_batch_shape_compute. */
static stage_times roofline_times(const vidur_config *c, int P)
{
    stage_times t = {0, 0};
    vidur_roofline rl;
    vidur_predictor_api pred;
    const vidur_model_spec *m = vidur_find_model(c, c->model_name);
    const vidur_device_spec *d = vidur_find_device(c, c->device);
    const vidur_node_spec *n = vidur_find_node(c, c->network_device);
    const vidur_predictor_params *pp = vidur_config_predictor_params(c);
    vidur_request q, *qp = &q;
    vidur_batch b;
    int32_t tokens;
    vidur_batch_shape shape, hand;
    vidur_stage_time st;

    if (!CHECK(m && d && n && pp)) return t;
    memset(&rl, 0, sizeof rl);
    rl.model = *m;
    rl.device = *d;
    rl.node = *n;
    rl.tp = c->tensor_parallel_size;
    rl.pp = c->num_pipeline_stages;
    rl.p = *pp;
    pred.name = "roofline";
    pred.op_time_ms = vidur_roofline_op_time_ms;
    pred.state = &rl;

    /* prefill batch [(q, P)] */
    memset(&q, 0, sizeof q);
    memset(&b, 0, sizeof b);
    q.num_prefill_tokens = P;
    q.num_decode_tokens = 3;
    q.num_processed_tokens = 0;
    q.num_allocated = -1;
    tokens = P;
    b.size = 1;
    b.capacity = 1;
    b.requests = &qp;
    b.num_tokens = &tokens;
    b.total_num_tokens = P;
    b.num_prefill_tokens = P;
    b.num_decode_tokens = 0;
    vidur_batch_shape_compute(&b, 64, &shape);
    memset(&hand, 0, sizeof hand);
    hand.total_tokens = P;
    hand.total_tokens_ceil8 = (P + 7) / 8 * 8;
    hand.num_requests = 1;
    hand.num_decode = 0;
    hand.decode_kv = 0;
    hand.num_prefill = 1;
    hand.prefill_kv = 0;       /* ceil_64(0) */
    hand.prefill_chunk = P;    /* round(sqrt(P^2)) */
    CHECK_EQ_INT(shape.total_tokens, hand.total_tokens);
    CHECK_EQ_INT(shape.total_tokens_ceil8, hand.total_tokens_ceil8);
    CHECK_EQ_INT(shape.num_requests, 1);
    CHECK_EQ_INT(shape.num_decode, 0);
    CHECK_EQ_INT(shape.num_prefill, 1);
    CHECK_EQ_INT(shape.prefill_kv, 0);
    CHECK_EQ_INT(shape.prefill_chunk, hand.prefill_chunk);
    CHECK_NEAR(shape.flops_tokens_sum, P, 0);
    CHECK_NEAR(shape.flops_attn_sum, (double)P * P, 0);
    vidur_stage_time_compute(&pred, m, pp, rl.tp, rl.pp, 0, &hand, &st);
    t.prefill = st.total_time;
    CHECK(st.total_time > 0);
    CHECK_NEAR(st.total_time, st.model_time + st.cpu_overhead, 1e-15);

    /* decode batch [(q, 1)] with p = P + 1 */
    q.num_processed_tokens = P + 1;
    q.is_prefill_complete = 1;
    tokens = 1;
    b.total_num_tokens = 1;
    b.num_prefill_tokens = 0;
    b.num_decode_tokens = 1;
    vidur_batch_shape_compute(&b, 64, &shape);
    memset(&hand, 0, sizeof hand);
    hand.total_tokens = 1;
    hand.total_tokens_ceil8 = 8;
    hand.num_requests = 1;
    hand.num_decode = 1;
    hand.decode_kv = (P + 1 + 63) / 64 * 64; /* ceil_64(int(mean p)) */
    hand.num_prefill = 0;
    CHECK_EQ_INT(shape.total_tokens, 1);
    CHECK_EQ_INT(shape.total_tokens_ceil8, 8);
    CHECK_EQ_INT(shape.num_decode, 1);
    CHECK_EQ_INT(shape.decode_kv, hand.decode_kv);
    CHECK_EQ_INT(shape.num_prefill, 0);
    CHECK_NEAR(shape.flops_attn_sum, 1.0 * (1 + P + 1), 0);
    vidur_stage_time_compute(&pred, m, pp, rl.tp, rl.pp, 0, &hand, &st);
    t.decode = st.total_time;
    CHECK(st.total_time > 0);
    return t;
}

/* One stage's predicted time (seconds) for a hand-written batch shape. */
static double predict_stage(const vidur_config *c, const vidur_batch_shape *shape, int stage)
{
    vidur_roofline rl;
    vidur_predictor_api pred;
    vidur_stage_time st;
    const vidur_model_spec *m = vidur_find_model(c, c->model_name);
    const vidur_device_spec *d = vidur_find_device(c, c->device);
    const vidur_node_spec *n = vidur_find_node(c, c->network_device);
    const vidur_predictor_params *pp = vidur_config_predictor_params(c);
    if (!CHECK(m && d && n && pp)) return 0;
    memset(&rl, 0, sizeof rl);
    rl.model = *m;
    rl.device = *d;
    rl.node = *n;
    rl.tp = c->tensor_parallel_size;
    rl.pp = c->num_pipeline_stages;
    rl.p = *pp;
    pred.name = "roofline";
    pred.op_time_ms = vidur_roofline_op_time_ms;
    pred.state = &rl;
    memset(&st, 0, sizeof st);
    vidur_stage_time_compute(&pred, m, pp, rl.tp, rl.pp, stage, shape, &st);
    return st.total_time;
}

/* Shapes (execution_time.md §3) of n identical requests: all prefilling P tokens from
   scratch, or all decoding one token with context p. */
static vidur_batch_shape prefill_shape(int n, int P)
{
    vidur_batch_shape s;
    memset(&s, 0, sizeof s);
    s.total_tokens = (int64_t)n * P;
    s.total_tokens_ceil8 = (s.total_tokens + 7) / 8 * 8;
    s.num_requests = n;
    s.num_prefill = n;
    s.prefill_kv = 0;                                        /* sum of ceil_64(0) */
    s.prefill_chunk = (int64_t)floor(sqrt((double)n * P * P) + 0.5); /* round(sqrt(sum c^2)) */
    s.flops_tokens_sum = (double)n * P;
    s.flops_attn_sum = (double)n * P * P;
    return s;
}
static vidur_batch_shape decode_shape(int n, int p)
{
    vidur_batch_shape s;
    memset(&s, 0, sizeof s);
    s.total_tokens = n;
    s.total_tokens_ceil8 = (n + 7) / 8 * 8;
    s.num_requests = n;
    s.num_decode = n;
    s.decode_kv = (p + 63) / 64 * 64;                        /* ceil_64(int(mean p)) */
    s.flops_tokens_sum = n;
    s.flops_attn_sum = (double)n * (1 + p);
    return s;
}

/* simulator.md §6.1: one request P = 100, D = 3 on an idle system.
   Batches: 1 prefill + D - 1 = 2 decodes = 3. TTFT = x0; e2e = x0 + x1 + x2 where x1 = x2
   (context 101 and 102 both round up to 128). */
TEST(test_single_request)
{
    vidur_config c;
    vidur_sim *sim;
    const vidur_summary *s;
    stage_times x;
    base_config(&c, 1, 100, 3);
    x = roofline_times(&c, 100);
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    s = vidur_sim_summary(sim);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(s->num_requests, 1);
    CHECK_EQ_INT(s->num_completed, 1);
    CHECK_EQ_INT(s->num_batches, 3);
    CHECK_EQ_INT(s->num_preemptions, 0);
    CHECK_EQ_INT(s->time_limit_reached, 0);
    CHECK_EQ_INT(s->num_replicas, 1);
    CHECK_EQ_INT(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].count, 1);
    CHECK_NEAR(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].mean, x.prefill, 1e-12);
    CHECK_NEAR(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].max, x.prefill, 1e-12);
    CHECK_NEAR(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p50, x.prefill, 0.01 * x.prefill);
    CHECK_EQ_INT(s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].count, 1);
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].mean, x.prefill + 2 * x.decode, 1e-12);
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_E2E_TIME_NORMALIZED].mean, (x.prefill + 2 * x.decode) / 3, 1e-12);
    /* everything ran back to back: no scheduling delay, no preemption */
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_SCHEDULING_DELAY].mean, 0, 1e-15);
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_PREEMPTION_TIME].mean, 0, 1e-12);
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_EXECUTION_TIME].mean, x.prefill + 2 * x.decode, 1e-12);
    /* (c - f) / D */
    CHECK_NEAR(s->metric[VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED].mean, 2 * x.decode / 3, 1e-12);
    /* (f - s) / P */
    CHECK_NEAR(s->metric[VIDUR_METRIC_PREFILL_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED].mean, x.prefill / 100, 1e-14);
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_NUM_TOKENS].mean, 103, 1e-9);
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_NUM_PREFILL_TOKENS].mean, 100, 1e-9);
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_NUM_DECODE_TOKENS].mean, 3, 1e-9);
    CHECK_EQ_INT(s->metric[VIDUR_METRIC_BATCH_SIZE].count, 3);
    CHECK_NEAR(s->simulated_time, x.prefill + 2 * x.decode, 1e-12);
    CHECK_NEAR(vidur_sim_now(sim), x.prefill + 2 * x.decode, 1e-12);
    REQUIRE(s->replica != NULL);
    /* the replica was busy from t = 0 the whole time, but the segment that starts at t = 0
       is ignored by Vidur's meter; what remains is 100 % busy */
    CHECK(s->replica[0].busy_time_percent >= 0 && s->replica[0].busy_time_percent <= 100.0 + 1e-9);
    CHECK(s->replica[0].memory_usage_max > 0 && s->replica[0].memory_usage_max <= 100);
    CHECK_EQ_INT(s->replica[0].num_blocks, 7424);
    vidur_sim_destroy(sim);
}

/* D = 1: the prefill iteration yields the only output token, so one batch. */
TEST(test_single_request_one_decode_token)
{
    vidur_config c;
    vidur_sim *sim;
    const vidur_summary *s;
    stage_times x;
    base_config(&c, 1, 100, 1);
    x = roofline_times(&c, 100);
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    s = vidur_sim_summary(sim);
    CHECK_EQ_INT(s->num_completed, 1);
    CHECK_EQ_INT(s->num_batches, 1);
    CHECK_NEAR(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].mean, x.prefill, 1e-12);
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].mean, x.prefill, 1e-12);
    vidur_sim_destroy(sim);
}

/* Stepping event by event reaches the same end as vidur_sim_run; time never goes back. */
TEST(test_step)
{
    vidur_config c;
    vidur_sim *sim = NULL;
    vidur_error err;
    const vidur_summary *s;
    double prev = 0;
    int r, backwards = 0;
    long steps = 0;
    base_config(&c, 5, 100, 4);
    SET(&c, "interval_generator_config_type", "poisson");
    SET(&c, "poisson_request_interval_generator_config_qps", "20");
    REQUIRE(vidur_sim_create(&c, &sim, &err) == VIDUR_OK);
    int64_t mid_events = -1, mid_completed = -1, again_events = -1;
    while ((r = vidur_sim_step(sim)) == 1) {
        double now = vidur_sim_now(sim);
        if (now < prev) backwards++;
        prev = now;
        if (++steps > 100000) break;
        if (steps == 20) { /* a summary mid-run is of that moment, and is kept until the next event */
            s = vidur_sim_summary(sim);
            mid_events = s->num_events;
            mid_completed = s->num_completed;
            again_events = vidur_sim_summary(sim)->num_events;
        }
    }
    CHECK_EQ_INT(mid_events, 20);
    CHECK_EQ_INT(again_events, 20);
    CHECK(mid_completed < 5);
    CHECK_EQ_INT(r, 0);
    CHECK_EQ_INT(backwards, 0);
    s = vidur_sim_summary(sim);
    CHECK_EQ_INT(s->num_events, steps);
    CHECK_EQ_INT(s->num_completed, 5);
    /* 5 prefills + 5 * 3 decode iterations, some of them batched together */
    CHECK(s->num_batches >= 4 && s->num_batches <= 20);
    CHECK_EQ_INT(vidur_sim_step(sim), 0);
    vidur_sim_destroy(sim);
}

/* The same config twice gives byte-identical summaries. */
TEST(test_determinism)
{
    vidur_config c;
    vidur_sim *a, *b;
    char *ja, *jb;
    base_config(&c, 40, 200, 20);
    SET(&c, "interval_generator_config_type", "poisson");
    SET(&c, "poisson_request_interval_generator_config_qps", "4");
    SET(&c, "length_generator_config_type", "uniform");
    SET(&c, "uniform_request_length_generator_config_min_tokens", "64");
    SET(&c, "uniform_request_length_generator_config_max_tokens", "1024");
    SET(&c, "cluster_config_num_replicas", "2");
    SET(&c, "global_scheduler_config_type", "random");
    a = RUN_SIM(&c);
    b = RUN_SIM(&c);
    REQUIRE(a && b);
    ja = summary_json(vidur_sim_summary(a));
    jb = summary_json(vidur_sim_summary(b));
    CHECK(ja != NULL && jb != NULL);
    if (ja && jb) {
        CHECK(strlen(ja) > 100);
        CHECK_CONTAINS(ja, "num_completed");
        CHECK(strcmp(ja, jb) == 0);
    }
    CHECK_EQ_INT(vidur_sim_summary(a)->num_completed, 40);
    /* a different seed for the length generator gives a different workload */
    free(jb);
    vidur_sim_destroy(b);
    SET(&c, "uniform_request_length_generator_config_seed", "43");
    SET(&c, "synthetic_request_generator_config_seed", "43");
    SET(&c, "seed", "43");
    b = RUN_SIM(&c);
    REQUIRE(b != NULL);
    jb = summary_json(vidur_sim_summary(b));
    CHECK(ja && jb && strcmp(ja, jb) != 0);
    free(ja);
    free(jb);
    vidur_sim_destroy(a);
    vidur_sim_destroy(b);
}

/* time_limit stops the run early (simulator.md §5): the first event past the limit is still
   handled, then the loop ends. */
TEST(test_time_limit)
{
    vidur_config c;
    vidur_sim *full, *cut;
    const vidur_summary *sf, *sc;
    base_config(&c, 50, 100, 10);
    SET(&c, "interval_generator_config_type", "poisson");
    SET(&c, "poisson_request_interval_generator_config_qps", "1");
    full = RUN_SIM(&c);
    REQUIRE(full != NULL);
    sf = vidur_sim_summary(full);
    CHECK_EQ_INT(sf->num_completed, 50);
    CHECK_EQ_INT(sf->time_limit_reached, 0);
    /* 50 arrivals at 1 QPS take ~50 s; stop after 10 s */
    CHECK(sf->simulated_time > 20);
    SET(&c, "time_limit", "10");
    cut = RUN_SIM(&c);
    REQUIRE(cut != NULL);
    sc = vidur_sim_summary(cut);
    CHECK_EQ_INT(sc->time_limit_reached, 1);
    CHECK(sc->num_completed < 50);
    CHECK(sc->num_completed > 0);
    CHECK(sc->num_requests < 50);
    CHECK(sc->simulated_time > 10);
    CHECK(sc->simulated_time < sf->simulated_time);
    CHECK_EQ_INT(sc->metric[VIDUR_METRIC_REQUEST_E2E_TIME].count, sc->num_completed);
    vidur_sim_destroy(full);
    vidur_sim_destroy(cut);
}

/* An observer that checks scheduler invariants on every batch of a built-in scheduler
   (schedulers.md §2-3): KV blocks never exceed the cache, batch sizes respect the caps,
   token counts are positive and never overshoot P + D, vllm batches are prefill-only or
   decode-only within the padded token limit, sarathi's prompt tokens stay within the chunk,
   lightllm's prefill batches within max_tokens_in_batch; every request completes once. */
typedef struct invariants {
    const char *type;
    long batches_scheduled, batches_ended, violations;
    int completed[256];
    char first[300];
} invariants;

static void inv_fail(invariants *v, const char *what, const vidur_batch *b)
{
    if (!v->violations)
        snprintf(v->first, sizeof v->first, "%s: %s (batch %lld, size %d)", v->type, what,
                 b ? (long long)b->id : -1LL, b ? b->size : -1);
    v->violations++;
}

static void inv_scheduled(void *user, vidur_sim *sim, const vidur_replica *r, const vidur_batch *b)
{
    invariants *v = (invariants *)user;
    const vidur_replica_info *info = vidur_replica_get_info(r);
    int32_t i, prefills = 0, max_prefill = 0;
    int64_t sum = 0, prefill_tokens = 0;
    (void)sim;
    v->batches_scheduled++;
    if (vidur_replica_num_allocated_blocks(r) > info->num_blocks) inv_fail(v, "KV blocks exceed the cache", b);
    if (b->size < 1) inv_fail(v, "empty batch", b);
    if (b->size > info->batch_size_cap) inv_fail(v, "batch larger than batch_size_cap", b);
    if ((!strcmp(v->type, "orca") || !strcmp(v->type, "faster_transformer")) && b->size > info->max_batch_size)
        inv_fail(v, "batch larger than max_batch_size", b);
    for (i = 0; i < b->size; i++) {
        const vidur_request *q = b->requests[i];
        int32_t n = b->num_tokens[i];
        sum += n;
        if (n <= 0) inv_fail(v, "request with no tokens", b);
        if (q->num_processed_tokens + n > q->num_prefill_tokens + q->num_decode_tokens)
            inv_fail(v, "tokens beyond P + D", b);
        if (!q->is_prefill_complete) {
            prefills++;
            prefill_tokens += n;
            if (n > max_prefill) max_prefill = n;
        } else if (n != 1) {
            inv_fail(v, "decode with more than one token", b);
        }
    }
    if (sum != b->total_num_tokens) inv_fail(v, "total_num_tokens is not the sum", b);
    if (!strcmp(v->type, "vllm")) {
        if (prefills && prefills != b->size) inv_fail(v, "vllm batch mixes prefills and decodes", b);
        if (prefills && (int64_t)b->size * max_prefill > info->params->max_tokens_in_batch)
            inv_fail(v, "vllm padded prefill batch over max_tokens_in_batch", b);
    }
    if (!strcmp(v->type, "sarathi") && prefill_tokens > info->params->chunk_size)
        inv_fail(v, "sarathi prompt tokens over chunk_size", b);
    if (!strcmp(v->type, "lightllm") && prefills && prefill_tokens > info->params->max_tokens_in_batch)
        inv_fail(v, "lightllm prefill batch over max_tokens_in_batch", b);
}

static void inv_end(void *user, vidur_sim *sim, const vidur_replica *r, const vidur_batch *b)
{
    invariants *v = (invariants *)user;
    const vidur_replica_info *info = vidur_replica_get_info(r);
    (void)sim;
    v->batches_ended++;
    if (vidur_replica_num_allocated_blocks(r) > info->num_blocks) inv_fail(v, "KV blocks exceed the cache at batch end", b);
}

static void inv_complete(void *user, vidur_sim *sim, const vidur_request *q)
{
    invariants *v = (invariants *)user;
    (void)sim;
    if (q->id >= 0 && q->id < 256) v->completed[q->id]++;
    if (!q->completed) inv_fail(v, "completion of a request not marked completed", NULL);
}

/* Every built-in replica scheduler under every upstream router completes a 50-request
   workload on 2 replicas; each request completes exactly once. */
TEST(test_scheduler_matrix)
{
    static const char *replica_types[] = {"vllm", "sarathi", "orca", "faster_transformer", "lightllm"};
    static const char *global_types[] = {"round_robin", "random", "lor"};
    size_t i, j;
    for (i = 0; i < sizeof replica_types / sizeof replica_types[0]; i++) {
        for (j = 0; j < sizeof global_types / sizeof global_types[0]; j++) {
            vidur_config c;
            vidur_sim *sim;
            const vidur_summary *s;
            invariants inv;
            int k;
            base_config(&c, 50, 300, 24);
            SET(&c, "interval_generator_config_type", "poisson");
            SET(&c, "poisson_request_interval_generator_config_qps", "8");
            SET(&c, "cluster_config_num_replicas", "2");
            SET(&c, "replica_scheduler_config_type", replica_types[i]);
            SET(&c, "global_scheduler_config_type", global_types[j]);
            memset(&inv, 0, sizeof inv);
            inv.type = replica_types[i];
            c.observer.on_batch_scheduled = inv_scheduled;
            c.observer.on_batch_end = inv_end;
            c.observer.on_request_complete = inv_complete;
            c.observer.user = &inv;
            sim = RUN_SIM(&c);
            if (!CHECK(sim != NULL)) {
                printf("  (%s / %s)\n", replica_types[i], global_types[j]);
                continue;
            }
            s = vidur_sim_summary(sim);
            k = CHECK_EQ_INT(s->num_completed, 50);
            k &= CHECK_EQ_INT(s->num_requests, 50);
            k &= CHECK_EQ_INT(s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].count, 50);
            if (!k) printf("  (%s / %s)\n", replica_types[i], global_types[j]);
            CHECK(s->num_batches >= 24);
            CHECK(s->throughput_rps > 0);
            CHECK_EQ_INT(s->num_replicas, 2);
            for (k = 0; k < s->num_replicas; k++) {
                CHECK(s->replica[k].memory_usage_max >= 0 && s->replica[k].memory_usage_max <= 100.0 + 1e-9);
                CHECK(s->replica[k].busy_time_percent >= 0 && s->replica[k].busy_time_percent <= 100.0 + 1e-9);
                CHECK(s->replica[k].mfu >= 0 && s->replica[k].mfu <= 100.0);
            }
            if (!CHECK_EQ_INT(inv.violations, 0)) printf("  first: %s (router %s)\n", inv.first, global_types[j]);
            CHECK_EQ_INT(inv.batches_scheduled, s->num_batches);
            CHECK_EQ_INT(inv.batches_ended, s->num_batches);
            for (k = 0; k < 50; k++)
                if (!CHECK_EQ_INT(inv.completed[k], 1)) break;
            /* with 50 requests both replicas got work (lor may legitimately favour replica 0:
               it only counts waiting requests, and an idle queue looks like a free replica) */
            CHECK(s->replica[0].memory_usage_max > 0);
            if (j != 2) CHECK(s->replica[1].memory_usage_max > 0);
            vidur_sim_destroy(sim);
        }
    }
}

/* vllm and sarathi with a tiny KV cache finish everything and never use more blocks than
   exist. 64 blocks of 16 tokens; each request needs 16 blocks for its 256-token prompt and
   grows to 20 blocks.
   vllm admits 4 prompts in its first (prefill-only) batch (4 x 16 = 64 blocks, padded
   4 x 256 <= 4096 tokens), so the first decode step must restart the latest arrival.
   sarathi admits r0, r1 (256 + 256 = chunk 512), then with 34 blocks held only one more
   (64 - 50 - 16 < 0 for the 4th): 3 x 20 = 60 <= 64, so it never needs to preempt. */
TEST(test_preemption_under_memory_pressure)
{
    static const char *types[] = {"vllm", "sarathi"};
    size_t t;
    for (t = 0; t < 2; t++) {
        vidur_config c;
        vidur_sim *sim;
        const vidur_summary *s;
        invariants inv;
        char flag[96];
        int k;
        base_config(&c, 12, 256, 64);
        SET(&c, "replica_scheduler_config_type", types[t]);
        snprintf(flag, sizeof flag, "%s_scheduler_config_num_blocks", types[t]);
        SET(&c, flag, "64");
        memset(&inv, 0, sizeof inv);
        inv.type = types[t];
        c.observer.on_batch_scheduled = inv_scheduled;
        c.observer.on_batch_end = inv_end;
        c.observer.on_request_complete = inv_complete;
        c.observer.user = &inv;
        sim = RUN_SIM(&c);
        if (!CHECK(sim != NULL)) continue;
        s = vidur_sim_summary(sim);
        CHECK_EQ_INT(s->num_completed, 12);
        if (t == 0) {
            CHECK(s->num_preemptions > 0);
            CHECK(s->metric[VIDUR_METRIC_REQUEST_NUM_RESTARTS].max >= 1);
        } else {
            CHECK_EQ_INT(s->num_preemptions, 0);
        }
        CHECK_EQ_INT(s->replica[0].num_blocks, 64);
        CHECK(s->replica[0].memory_usage_max <= 100.0 + 1e-9);
        if (!CHECK_EQ_INT(inv.violations, 0)) printf("  first: %s\n", inv.first);
        for (k = 0; k < 12; k++) CHECK_EQ_INT(inv.completed[k], 1);
        vidur_sim_destroy(sim);
    }
}

/* Exact KV accounting of vllm and sarathi (schedulers.md §3.3, §3.4): 2 requests,
   P = 256, D = 64, B = 16, arriving together; N = num_blocks, watermark int(0.01 N) = 0.
   Prefill: both prompts in one batch, ceil(256/16) = 16 blocks each. Afterwards both have
   p = 257 processed; a decode step at context p holds ceil(p / 16) blocks: block 17 at
   p = 257, 18 at 273, 19 at 289, 20 at 305; a request completes at p = 320 (P + D).
   Upstream's rule for an already admitted request: it is schedulable only if at least ONE
   block is free (num_blocks - allocated >= 1), even when it needs no new block.

   * N = 39: together at p = 257..304 (48 batches, up to 2 x 19 = 38 blocks). At p = 305
     request 0 takes block 39; request 1 finds 0 free and nobody left to evict: it restarts
     itself (P' = 305, D' = 15, 1 preemption) and its 19 blocks are freed. Request 1 cannot
     come back (20 + 20 > 39) until request 0 has decoded alone at p = 305..319 (15
     batches) and completed. Then 1 prefill + 14 decodes. Total 1 + 48 + 15 + 1 + 14 = 79.
     The memory samples (after each schedule and batch end) peak at 38 / 39.
   * N = 40: together at p = 257..305 (49 batches; the last one fills all 40 blocks). At
     p = 306 request 0 finds 0 free blocks, so request 1 (the latest arrival) is evicted and
     restarted with P' = 306 (everything processed). Its re-admission needs
     ceil(306/16) = 20 blocks = exactly what is free, so it re-prefills and fills the cache
     again, and the same happens at each of request 0's steps p = 306..319: 14 preemptions.
     At p = 319 request 1 restarts with P' = 319, D' = 1 and its re-prefill completes it.
       vllm: a prefill batch is prefill-only, so each cycle is 2 batches:
             1 + 49 + 14 x 2 = 78 batches.
       sarathi: request 0's decode and request 1's re-prefill (306..319 <= chunk 512 - 1)
             share one batch: 1 + 49 + 14 = 64 batches. */
TEST(test_kv_accounting_exact)
{
    static const char *types[] = {"vllm", "sarathi"};
    size_t t;
    for (t = 0; t < 2; t++) {
        int blocks;
        for (blocks = 40; blocks >= 39; blocks--) {
            vidur_config c;
            vidur_sim *sim;
            const vidur_summary *s;
            char flag[96], val[16];
            int ok;
            long long want_batches = blocks == 39 ? 79 : (t == 0 ? 78 : 64);
            long long want_preemptions = blocks == 39 ? 1 : 14;
            base_config(&c, 2, 256, 64);
            SET(&c, "replica_scheduler_config_type", types[t]);
            snprintf(flag, sizeof flag, "%s_scheduler_config_num_blocks", types[t]);
            snprintf(val, sizeof val, "%d", blocks);
            SET(&c, flag, val);
            sim = RUN_SIM(&c);
            if (!CHECK(sim != NULL)) continue;
            s = vidur_sim_summary(sim);
            ok = CHECK_EQ_INT(s->num_completed, 2);
            ok &= CHECK_EQ_INT(s->replica[0].num_blocks, blocks);
            ok &= CHECK_EQ_INT(s->num_batches, want_batches);
            ok &= CHECK_EQ_INT(s->num_preemptions, want_preemptions);
            /* request 1 restarted want_preemptions times, request 0 never */
            ok &= CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_NUM_RESTARTS].max, want_preemptions,
                             0.01 * want_preemptions);
            ok &= CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_NUM_RESTARTS].min, 0, 0);
            ok &= CHECK_NEAR(s->replica[0].memory_usage_max, blocks == 39 ? 3800.0 / 39 : 100, 1e-9);
            if (!ok) printf("  (%s, %d blocks)\n", types[t], blocks);
            vidur_sim_destroy(sim);
        }
    }
}

/* Tensor and pipeline parallelism run end to end. */
TEST(test_tp_pp)
{
    vidur_config c;
    vidur_sim *sim;
    base_config(&c, 20, 256, 16);
    SET(&c, "interval_generator_config_type", "poisson");
    SET(&c, "poisson_request_interval_generator_config_qps", "10");
    SET(&c, "replica_config_model_name", "meta-llama/Llama-2-70b-hf");
    SET(&c, "replica_config_tensor_parallel_size", "2");
    SET(&c, "replica_config_num_pipeline_stages", "2");
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    CHECK_EQ_INT(vidur_sim_summary(sim)->num_completed, 20);
    CHECK_EQ_INT(vidur_sim_summary(sim)->replica[0].num_blocks, 32768);
    vidur_sim_destroy(sim);
}

/* Two requests P = 100, D = 3 arriving together: every built-in scheduler puts both prompts
   in the first batch (sarathi: 100 + 100 <= chunk 512; vllm: 2 x 100 <= 4096 padded tokens;
   orca / faster_transformer: 2 x 256 blocks fit; lightllm: 200 tokens fit), then decodes
   both together twice: 3 batches of 2. Both TTFTs equal the 2-prompt batch time x0, whose
   prefill attention uses the chunk round(sqrt(100^2 + 100^2)) = 141. */
TEST(test_two_requests_batch_together)
{
    static const char *types[] = {"sarathi", "vllm", "orca", "faster_transformer", "lightllm"};
    size_t t;
    vidur_config c;
    vidur_batch_shape ps = prefill_shape(2, 100), ds = decode_shape(2, 101), got;
    vidur_request q[2], *qp[2];
    int32_t tok[2] = {100, 100};
    vidur_batch b;
    double x0, x1;

    CHECK_EQ_INT(ps.prefill_chunk, 141);
    /* the library builds the same shape from a real batch */
    memset(q, 0, sizeof q);
    memset(&b, 0, sizeof b);
    q[0].num_prefill_tokens = q[1].num_prefill_tokens = 100;
    q[0].num_decode_tokens = q[1].num_decode_tokens = 3;
    q[0].num_allocated = q[1].num_allocated = -1;
    qp[0] = &q[0];
    qp[1] = &q[1];
    b.size = b.capacity = 2;
    b.requests = qp;
    b.num_tokens = tok;
    b.total_num_tokens = b.num_prefill_tokens = 200;
    vidur_batch_shape_compute(&b, 64, &got);
    CHECK_EQ_INT(got.total_tokens, 200);
    CHECK_EQ_INT(got.total_tokens_ceil8, 200);
    CHECK_EQ_INT(got.num_prefill, 2);
    CHECK_EQ_INT(got.prefill_kv, 0);
    CHECK_EQ_INT(got.prefill_chunk, 141);
    CHECK_NEAR(got.flops_attn_sum, 20000, 0);

    base_config(&c, 2, 100, 3);
    x0 = predict_stage(&c, &ps, 0);
    x1 = predict_stage(&c, &ds, 0);
    CHECK(x0 > 0 && x1 > 0);
    for (t = 0; t < sizeof types / sizeof types[0]; t++) {
        vidur_sim *sim;
        const vidur_summary *s;
        base_config(&c, 2, 100, 3);
        SET(&c, "replica_scheduler_config_type", types[t]);
        x0 = predict_stage(&c, &ps, 0);
        x1 = predict_stage(&c, &ds, 0);
        sim = RUN_SIM(&c);
        if (!CHECK(sim != NULL)) continue;
        s = vidur_sim_summary(sim);
        if (!CHECK_EQ_INT(s->num_batches, 3)) printf("  (%s)\n", types[t]);
        CHECK_EQ_INT(s->num_completed, 2);
        CHECK_EQ_INT(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].count, 2);
        if (!CHECK_NEAR(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].max, x0, 1e-12) ||
            !CHECK_NEAR(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].min, x0, 1e-12))
            printf("  (%s)\n", types[t]);
        CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].max, x0 + 2 * x1, 1e-12);
        CHECK_NEAR(s->metric[VIDUR_METRIC_BATCH_SIZE].max, 2, 0.02);
        CHECK_NEAR(s->metric[VIDUR_METRIC_BATCH_SIZE].min, 2, 0.02);
        vidur_sim_destroy(sim);
    }
}

/* One request through TP 2 x PP 2 (Llama-2-7B: 16 layers per stage). Each iteration runs
   stage 0 (which also pays the send/recv to stage 1) then stage 1 back to back:
   TTFT = s0 + s1 (prefill shapes), e2e = TTFT + 2 (d0 + d1) (decode shapes). */
TEST(test_pipeline_single_request)
{
    vidur_config c;
    vidur_sim *sim;
    const vidur_summary *s;
    vidur_batch_shape ps = prefill_shape(1, 100), ds = decode_shape(1, 101);
    double s0, s1, d0, d1;
    base_config(&c, 1, 100, 3);
    SET(&c, "replica_config_tensor_parallel_size", "2");
    SET(&c, "replica_config_num_pipeline_stages", "2");
    s0 = predict_stage(&c, &ps, 0);
    s1 = predict_stage(&c, &ps, 1);
    d0 = predict_stage(&c, &ds, 0);
    d1 = predict_stage(&c, &ds, 1);
    /* the last stage does not send activations on */
    CHECK(s0 > s1);
    CHECK(d0 > d1);
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    s = vidur_sim_summary(sim);
    CHECK_EQ_INT(s->num_completed, 1);
    CHECK_EQ_INT(s->num_batches, 3);
    CHECK_NEAR(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].mean, s0 + s1, 1e-12);
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].mean, s0 + s1 + 2 * (d0 + d1), 1e-12);
    /* execution time sums every stage of every iteration */
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_EXECUTION_TIME].mean, s0 + s1 + 2 * (d0 + d1), 1e-12);
    CHECK_NEAR(s->metric[VIDUR_METRIC_REQUEST_PREEMPTION_TIME].mean, 0, 1e-12);
    vidur_sim_destroy(sim);
}

/* ---- plug-ins ------------------------------------------------------------------------------ */
#define MAXR 8
#define MAXQ 256
typedef struct plugin_stats {
    int added[MAXR];                /* requests added per replica */
    int64_t ids[MAXR][MAXQ];        /* request ids in the order they were added */
    int completed_times[MAXQ];      /* how often each request id completed */
    int violations;                 /* invariant failures seen inside the callbacks */
    int batches;
    int created, destroyed;
    double arrived_at[MAXQ];        /* as seen by add_request, by request id */
    int prefill[MAXQ], decode[MAXQ];
} plugin_stats;

/* FCFS, one request at a time, whole prompt then one token per iteration; reserves
   ceil((P + D) / B) blocks at admission and frees them at completion. */
typedef struct fcfs1 {
    vidur_replica *replica;
    plugin_stats *st;
    vidur_request *queue[MAXQ];
    int head, tail;                 /* queue[head..tail) */
    int busy;
    int head_allocated;
} fcfs1;

static void *fcfs1_create(vidur_replica *replica, void *user)
{
    fcfs1 *f = (fcfs1 *)calloc(1, sizeof *f);
    if (!f) return NULL;
    f->replica = replica;
    f->st = (plugin_stats *)user;
    f->st->created++;
    return f;
}
static void fcfs1_destroy(void *state)
{
    fcfs1 *f = (fcfs1 *)state;
    if (!f) return;
    f->st->destroyed++;
    free(f);
}
static void fcfs1_add(void *state, vidur_request *q)
{
    fcfs1 *f = (fcfs1 *)state;
    const vidur_replica_info *info = vidur_replica_get_info(f->replica);
    int id = info->id;
    if (f->tail >= MAXQ || id < 0 || id >= MAXR || f->st->added[id] >= MAXQ) { f->st->violations++; return; }
    f->st->ids[id][f->st->added[id]++] = q->id;
    if (q->id >= 0 && q->id < MAXQ) {
        f->st->arrived_at[q->id] = q->arrived_at;
        f->st->prefill[q->id] = q->num_prefill_tokens;
        f->st->decode[q->id] = q->num_decode_tokens;
    }
    f->queue[f->tail++] = q;
}
static int fcfs1_next(void *state, vidur_batch *b, vidur_error *err)
{
    fcfs1 *f = (fcfs1 *)state;
    const vidur_replica_info *info = vidur_replica_get_info(f->replica);
    vidur_request *q;
    int32_t n;
    (void)err;
    if (f->busy || f->head == f->tail) return 0;
    q = f->queue[f->head];
    if (!f->head_allocated) {
        int64_t need = (q->num_prefill_tokens + q->num_decode_tokens + info->block_size - 1) / info->block_size;
        if (!vidur_replica_can_allocate(f->replica, need)) return 0;
        vidur_replica_allocate(f->replica, q, need);
        f->head_allocated = 1;
    }
    n = q->is_prefill_complete ? 1 : q->num_prefill_tokens;
    vidur_batch_add(b, q, n);
    if (b->size != 1 || b->size > info->batch_size_cap) f->st->violations++;
    if (vidur_replica_num_allocated_blocks(f->replica) > info->num_blocks) f->st->violations++;
    if (vidur_replica_num_allocated_requests(f->replica) != 1) f->st->violations++;
    f->busy = 1;
    f->st->batches++;
    return 1;
}
static void fcfs1_batch_end(void *state, vidur_batch *b)
{
    fcfs1 *f = (fcfs1 *)state;
    const vidur_replica_info *info = vidur_replica_get_info(f->replica);
    int i;
    f->busy = 0;
    if (b->size != 1) f->st->violations++;
    for (i = 0; i < b->size; i++) {
        vidur_request *q = b->requests[i];
        if (q != f->queue[f->head]) f->st->violations++;
        if (q->completed) {
            if (q->id >= 0 && q->id < MAXQ) f->st->completed_times[q->id]++;
            vidur_replica_free(f->replica, q);
            f->head++;
            f->head_allocated = 0;
            if (vidur_replica_num_allocated_blocks(f->replica) != 0) f->st->violations++;
        }
    }
    if (vidur_replica_num_allocated_blocks(f->replica) > info->num_blocks) f->st->violations++;
}
static int fcfs1_is_empty(void *state)
{
    fcfs1 *f = (fcfs1 *)state;
    return f->head == f->tail;
}
static int64_t fcfs1_pending(void *state)
{
    fcfs1 *f = (fcfs1 *)state;
    return f->tail - f->head - (f->head_allocated ? 1 : 0);
}

static plugin_stats g_stats;
static const vidur_replica_scheduler_api fcfs1_api = {
    "fcfs1", fcfs1_create, fcfs1_destroy, fcfs1_add, fcfs1_next, fcfs1_batch_end,
    fcfs1_is_empty, fcfs1_pending, NULL, &g_stats
};

static void add_fcfs1(vidur_config *c)
{
    vidur_error err;
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_add_replica_scheduler(c, &fcfs1_api, &err), VIDUR_OK);
    SET(c, "replica_scheduler_config_type", "fcfs1");
}

/* The custom replica scheduler runs requests strictly one by one: P = 100, D = 3 gives 3
   batches per request, the KV use never exceeds the cache, each request completes once. */
TEST(test_custom_replica_scheduler)
{
    vidur_config c;
    vidur_sim *sim;
    const vidur_summary *s;
    int i;
    memset(&g_stats, 0, sizeof g_stats);
    base_config(&c, 10, 100, 3);
    SET(&c, "interval_generator_config_type", "poisson");
    SET(&c, "poisson_request_interval_generator_config_qps", "50");
    add_fcfs1(&c);
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    s = vidur_sim_summary(sim);
    CHECK_EQ_INT(s->num_completed, 10);
    CHECK_EQ_INT(s->num_batches, 30);
    CHECK_EQ_INT(g_stats.batches, 30);
    CHECK_EQ_INT(g_stats.violations, 0);
    CHECK_EQ_INT(g_stats.added[0], 10);
    CHECK_EQ_INT(g_stats.created, 1);
    for (i = 0; i < 10; i++) CHECK_EQ_INT(g_stats.completed_times[i], 1);
    /* one request at a time, FCFS: request i is the i-th added */
    for (i = 0; i < 10; i++) CHECK_EQ_INT(g_stats.ids[0][i], i);
    CHECK_EQ_INT(s->metric[VIDUR_METRIC_BATCH_SIZE].count, 30);
    CHECK_NEAR(s->metric[VIDUR_METRIC_BATCH_SIZE].max, 1, 0.02);
    vidur_sim_destroy(sim);
    CHECK_EQ_INT(g_stats.destroyed, 1);
}

/* A tiny KV cache with the custom scheduler: blocks never exceed num_blocks. */
TEST(test_custom_replica_scheduler_small_cache)
{
    vidur_config c;
    vidur_sim *sim;
    memset(&g_stats, 0, sizeof g_stats);
    base_config(&c, 6, 100, 3);
    add_fcfs1(&c);
    /* ceil(103/16) = 7 blocks per request; give it exactly 7 (a plug-in's parameters are
       the config's `custom` section) */
    c.custom.num_blocks = 7;
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    CHECK_EQ_INT(vidur_sim_summary(sim)->num_completed, 6);
    CHECK_EQ_INT(vidur_sim_summary(sim)->replica[0].num_blocks, 7);
    CHECK_EQ_INT(g_stats.violations, 0);
    CHECK_NEAR(vidur_sim_summary(sim)->replica[0].memory_usage_max, 100, 1e-9);
    vidur_sim_destroy(sim);
}

/* Router plug-in: everything to the last replica. */
static int g_router_state;
static void *to_last_create(vidur_sim *sim, void *user) { (void)sim; return user; }
static void to_last_destroy(void *state) { (void)state; }
static int to_last_route(void *state, vidur_sim *sim, const vidur_request *q)
{
    (void)state; (void)q;
    return vidur_sim_num_replicas(sim) - 1;
}
static const vidur_global_scheduler_api to_last_api = {
    "to_last", to_last_create, to_last_destroy, to_last_route, NULL, NULL, NULL, &g_router_state
};

TEST(test_custom_global_scheduler)
{
    vidur_config c;
    vidur_sim *sim;
    const vidur_summary *s;
    vidur_error err;
    /* with the built-in sarathi scheduler: replica 0 idles, replica 1 does all the work */
    base_config(&c, 20, 200, 8);
    SET(&c, "interval_generator_config_type", "poisson");
    SET(&c, "poisson_request_interval_generator_config_qps", "5");
    SET(&c, "cluster_config_num_replicas", "2");
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(vidur_config_add_global_scheduler(&c, &to_last_api, &err), VIDUR_OK);
    SET(&c, "global_scheduler_config_type", "to_last");
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    s = vidur_sim_summary(sim);
    CHECK_EQ_INT(s->num_completed, 20);
    REQUIRE(s->num_replicas == 2);
    CHECK_NEAR(s->replica[0].memory_usage_max, 0, 0);
    CHECK_NEAR(s->replica[0].busy_time_percent, 0, 0);
    CHECK_NEAR(s->replica[0].mfu, 0, 0);
    CHECK(s->replica[1].memory_usage_max > 0);
    CHECK(s->replica[1].busy_time_percent > 0);
    vidur_sim_destroy(sim);

    /* with the custom replica scheduler counting what each replica receives */
    memset(&g_stats, 0, sizeof g_stats);
    base_config(&c, 20, 200, 8);
    SET(&c, "cluster_config_num_replicas", "2");
    CHECK_EQ_INT(vidur_config_add_global_scheduler(&c, &to_last_api, &err), VIDUR_OK);
    SET(&c, "global_scheduler_config_type", "to_last");
    add_fcfs1(&c);
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    CHECK_EQ_INT(vidur_sim_summary(sim)->num_completed, 20);
    CHECK_EQ_INT(g_stats.added[0], 0);
    CHECK_EQ_INT(g_stats.added[1], 20);
    CHECK_EQ_INT(g_stats.created, 2);
    CHECK_EQ_INT(g_stats.violations, 0);
    vidur_sim_destroy(sim);
}

/* A plug-in that cannot go on calls vidur_sim_fail: the run stops at that event with the
   plug-in's code and message (not the framework's "routed to replica -1"). Router A gives up at
   request 4 by returning -1; router B fails at request 6 but still returns a valid replica. */
static int give_up_route(void *state, vidur_sim *sim, const vidur_request *q)
{
    int *mode = (int *)state;
    if (*mode == 0 && q->id == 4) {
        vidur_sim_fail(sim, VIDUR_ERR_SCHEDULER, "give_up: request 4 has nowhere to go");
        return -1;
    }
    if (*mode == 1 && q->id == 6) vidur_sim_fail(sim, VIDUR_ERR_CONFIG, "give_up: bad state");
    return 0;
}
static int g_give_up_mode;
static void *give_up_create(vidur_sim *sim, void *user) { (void)sim; return user; }
static const vidur_global_scheduler_api give_up_api = {"give_up", give_up_create, NULL, give_up_route, NULL, NULL, NULL, &g_give_up_mode};

TEST(test_plugin_fail)
{
    int mode;
    for (mode = 0; mode < 2; mode++) {
        vidur_config c;
        vidur_sim *sim = NULL;
        vidur_error err;
        int64_t arrived, completed;
        base_config(&c, 10, 64, 4);
        SET(&c, "interval_generator_config_type", "poisson");
        SET(&c, "poisson_request_interval_generator_config_qps", "1");
        CHECK_EQ_INT(vidur_config_add_global_scheduler(&c, &give_up_api, &err), VIDUR_OK);
        SET(&c, "global_scheduler_config_type", "give_up");
        g_give_up_mode = mode;
        REQUIRE(vidur_sim_create(&c, &sim, &err) == VIDUR_OK);
        CHECK_EQ_INT(vidur_sim_run(sim), mode == 0 ? VIDUR_ERR_SCHEDULER : VIDUR_ERR_CONFIG);
        CHECK_STR_EQ(vidur_sim_error(sim)->message, mode == 0 ? "give_up: request 4 has nowhere to go" : "give_up: bad state");
        vidur_sim_progress(sim, &arrived, &completed);
        CHECK_EQ_INT(arrived, mode == 0 ? 5 : 7); /* arrivals 1 s apart: the failing one was the last */
        CHECK_EQ_INT(vidur_sim_step(sim), -1);    /* and it stays stopped */
        vidur_sim_destroy(sim);
    }
}

/* Built-in routers observed through the custom replica scheduler. 8 requests arrive at t = 0;
   all arrivals are handled before the first global schedule (simulator.md §4), which routes
   them in id order:
     round_robin: request i -> replica i % 4.
     lor: every queue is empty at the snapshot; pick the minimum count, lowest id on ties,
          count += 1 -> also i % 4.
     random: 8 in total. */
TEST(test_builtin_routers)
{
    static const char *types[] = {"round_robin", "lor", "random"};
    size_t t;
    for (t = 0; t < sizeof types / sizeof types[0]; t++) {
        vidur_config c;
        vidur_sim *sim;
        int r, k, total = 0;
        memset(&g_stats, 0, sizeof g_stats);
        base_config(&c, 8, 64, 2);
        SET(&c, "cluster_config_num_replicas", "4");
        SET(&c, "global_scheduler_config_type", types[t]);
        add_fcfs1(&c);
        sim = RUN_SIM(&c);
        if (!CHECK(sim != NULL)) continue;
        CHECK_EQ_INT(vidur_sim_summary(sim)->num_completed, 8);
        CHECK_EQ_INT(g_stats.violations, 0);
        for (r = 0; r < 4; r++) total += g_stats.added[r];
        CHECK_EQ_INT(total, 8);
        if (t < 2) {
            for (r = 0; r < 4; r++) {
                CHECK_EQ_INT(g_stats.added[r], 2);
                for (k = 0; k < g_stats.added[r] && k < 2; k++) CHECK_EQ_INT(g_stats.ids[r][k], r + 4 * k);
            }
        }
        for (k = 0; k < 8; k++) CHECK_EQ_INT(g_stats.completed_times[k], 1);
        vidur_sim_destroy(sim);
    }
}

/* Round robin with 3 replicas and 7 requests arriving over time: 3, 2, 2. */
TEST(test_round_robin_uneven)
{
    vidur_config c;
    vidur_sim *sim;
    memset(&g_stats, 0, sizeof g_stats);
    base_config(&c, 7, 64, 2);
    SET(&c, "interval_generator_config_type", "poisson");
    SET(&c, "poisson_request_interval_generator_config_qps", "2");
    SET(&c, "cluster_config_num_replicas", "3");
    add_fcfs1(&c);
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    CHECK_EQ_INT(g_stats.added[0], 3);
    CHECK_EQ_INT(g_stats.added[1], 2);
    CHECK_EQ_INT(g_stats.added[2], 2);
    CHECK_EQ_INT(g_stats.ids[0][2], 6);
    vidur_sim_destroy(sim);
}

/* The synthetic workload reproduces upstream Vidur's draws (workload_and_metrics.md §1-3,
   simulator.md §7): CPython's random seeded with 42, per request first the Poisson gap
   min(-ln(1 - u) / qps, 3 / qps), then the uniform total tot = 64 + (1024 - 64) u,
   D = ceil(tot / 21), P = int(tot - D). Expected values from CPython 3:
       random.seed(42); u = 0.6394267984578837, 0.025010755222666936, 0.27502931836911926, ...
   arrivals (qps 2)  0.5100301436374005, 0.6708421756748832, 1.3376385120789247,
                     2.4512825618546152, 2.7253056415528607
   (P, D)            (83, 5), (264, 14), (679, 34), (139, 8), (87, 5) */
TEST(test_workload_matches_cpython)
{
    static const double arrival[5] = {0.5100301436374005, 0.6708421756748832, 1.3376385120789247,
                                      2.4512825618546152, 2.7253056415528607};
    static const int P[5] = {83, 264, 679, 139, 87}, D[5] = {5, 14, 34, 8, 5};
    vidur_config c;
    vidur_sim *sim;
    int i;
    memset(&g_stats, 0, sizeof g_stats);
    base_config(&c, 5, 100, 3);
    SET(&c, "interval_generator_config_type", "poisson");
    SET(&c, "poisson_request_interval_generator_config_qps", "2");
    SET(&c, "length_generator_config_type", "uniform");
    SET(&c, "uniform_request_length_generator_config_min_tokens", "64");
    SET(&c, "uniform_request_length_generator_config_max_tokens", "1024");
    add_fcfs1(&c);
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    CHECK_EQ_INT(g_stats.added[0], 5);
    for (i = 0; i < 5; i++) {
        CHECK_NEAR(g_stats.arrived_at[i], arrival[i], 1e-12);
        CHECK_EQ_INT(g_stats.prefill[i], P[i]);
        CHECK_EQ_INT(g_stats.decode[i], D[i]);
    }
    /* the first request has no inter-arrival entry; the others' gaps */
    CHECK_EQ_INT(vidur_sim_summary(sim)->metric[VIDUR_METRIC_REQUEST_INTER_ARRIVAL_DELAY].count, 4);
    CHECK_NEAR(vidur_sim_summary(sim)->metric[VIDUR_METRIC_REQUEST_INTER_ARRIVAL_DELAY].max,
               arrival[3] - arrival[2], 1e-9);
    vidur_sim_destroy(sim);
}

/* The random router is upstream's randint(1, N) - 1 on CPython's global stream, which the
   workload re-seeded with 42 and (static intervals, fixed lengths) did not advance:
       random.seed(42); [random.randint(1, 4) - 1 for _ in range(8)] == [0, 0, 2, 1, 1, 1, 0, 0] */
TEST(test_random_router_matches_cpython)
{
    vidur_config c;
    vidur_sim *sim;
    memset(&g_stats, 0, sizeof g_stats);
    base_config(&c, 8, 64, 2);
    SET(&c, "cluster_config_num_replicas", "4");
    SET(&c, "global_scheduler_config_type", "random");
    add_fcfs1(&c);
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    CHECK_EQ_INT(g_stats.added[0], 4);
    CHECK_EQ_INT(g_stats.added[1], 3);
    CHECK_EQ_INT(g_stats.added[2], 1);
    CHECK_EQ_INT(g_stats.added[3], 0);
    CHECK_EQ_INT(g_stats.ids[0][0], 0);
    CHECK_EQ_INT(g_stats.ids[0][1], 1);
    CHECK_EQ_INT(g_stats.ids[0][2], 6);
    CHECK_EQ_INT(g_stats.ids[0][3], 7);
    CHECK_EQ_INT(g_stats.ids[1][0], 3);
    CHECK_EQ_INT(g_stats.ids[1][2], 5);
    CHECK_EQ_INT(g_stats.ids[2][0], 2);
    vidur_sim_destroy(sim);
}

/* Writes text to a fresh temporary file; path must hold 64 bytes. Returns 1 on success. */
static int write_temp_file(char *path, const char *text)
{
    int fd;
    FILE *f;
    strcpy(path, "/tmp/vidur_test_trace_XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) return 0;
    f = fdopen(fd, "w");
    if (!f) { close(fd); return 0; }
    fputs(text, f);
    return fclose(f) == 0;
}

/* trace_replay (workload_and_metrics.md §1.2, [U]): P and D scaled and truncated, clipped to
   >= 1, then the prompt cut so that P + D <= max_tokens; arrival times scaled; file order.
   prefill x2, decode x1, time x2, max_tokens 4096:
     0.0,  3000, 100  -> P 6000 -> excess 6100 - 4096 = 2004 -> P 3996, D 100, t 0
     0.25, 101,  20   -> P 202, D 20, t 0.5
     1.0,  0,    0    -> P 1, D 1 (clipped), t 2
     1.5,  10.7, 3.9  -> P floor(21.4) = 21, D 3, t 3 */
TEST(test_trace_replay_lengths)
{
    static const double t_want[4] = {0, 0.5, 2, 3};
    static const int P_want[4] = {3996, 202, 1, 21}, D_want[4] = {100, 20, 1, 3};
    char path[64];
    vidur_config c;
    vidur_sim *sim;
    int i;
    REQUIRE(write_temp_file(path, "arrived_at,num_prefill_tokens,num_decode_tokens\n"
                                  "0.0,3000,100\n0.25,101,20\n1.0,0,0\n1.5,10.7,3.9\n"));
    memset(&g_stats, 0, sizeof g_stats);
    base_config(&c, 1, 100, 3);
    SET(&c, "request_generator_config_type", "trace_replay");
    SET(&c, "trace_request_generator_config_trace_file", path);
    SET(&c, "trace_request_generator_config_prefill_scale_factor", "2");
    SET(&c, "trace_request_generator_config_time_scale_factor", "2");
    add_fcfs1(&c);
    sim = RUN_SIM(&c);
    remove(path);
    REQUIRE(sim != NULL);
    CHECK_EQ_INT(vidur_sim_summary(sim)->num_completed, 4);
    CHECK_EQ_INT(g_stats.added[0], 4);
    for (i = 0; i < 4; i++) {
        CHECK_EQ_INT(g_stats.ids[0][i], i);
        CHECK_NEAR(g_stats.arrived_at[i], t_want[i], 1e-12);
        CHECK_EQ_INT(g_stats.prefill[i], P_want[i]);
        CHECK_EQ_INT(g_stats.decode[i], D_want[i]);
    }
    vidur_sim_destroy(sim);
}

/* Iteration-level vs static batching (schedulers.md §3.1-3.5). Request 0 (P 100, D 5)
   arrives at 0, request 1 (P 100, D 5) at a1 = x0 / 2, while request 0's prefill (x0) runs.
   x1 = one decode (context 101..104 -> kv 128), xd2 = two decodes (mean context -> 128),
   xm = request 0's decode + request 1's whole prompt in one batch (T 101).
     orca, sarathi: at x0 request 1 joins request 0's first decode step: batches
       [0:P] [0:1, 1:P] [0:1, 1:1] x3 [1:1] = 6; TTFT(1) = x0 + xm - a1.
     vllm: a prefill-only batch first: [0:P] [1:P] [0:1, 1:1] x4 = 6; TTFT(1) = 2 x0 - a1.
     faster_transformer (static batch runs to its end), lightllm (decodes the running
       request; waits < max_waiting_iters = 10): request 1 starts after request 0 completes
       at x0 + 4 x1: 5 + 5 = 10 batches; TTFT(1) = 2 x0 + 4 x1 - a1.
   TTFT(0) = x0 in all cases; TTFT(1) is the larger one. */
TEST(test_late_arrival_batching)
{
    static const char *types[] = {"orca", "sarathi", "vllm", "faster_transformer", "lightllm"};
    vidur_config c;
    vidur_batch_shape mixed;
    double x0, x1, xm, a1;
    char path[64], csv[256];
    size_t t;

    base_config(&c, 2, 100, 5);
    {
        vidur_batch_shape ps = prefill_shape(1, 100), ds = decode_shape(1, 101);
        x0 = predict_stage(&c, &ps, 0);
        x1 = predict_stage(&c, &ds, 0);
    }
    memset(&mixed, 0, sizeof mixed);
    mixed.total_tokens = 101;
    mixed.total_tokens_ceil8 = 104;
    mixed.num_requests = 2;
    mixed.num_decode = 1;
    mixed.decode_kv = 128;      /* ceil_64(101) */
    mixed.num_prefill = 1;
    mixed.prefill_kv = 0;
    mixed.prefill_chunk = 100;
    mixed.flops_tokens_sum = 101;
    mixed.flops_attn_sum = 1.0 * (1 + 101) + 100.0 * 100;
    xm = predict_stage(&c, &mixed, 0);
    a1 = x0 / 2;
    snprintf(csv, sizeof csv, "arrived_at,num_prefill_tokens,num_decode_tokens\n0,100,5\n%.17g,100,5\n", a1);
    REQUIRE(write_temp_file(path, csv));
    for (t = 0; t < sizeof types / sizeof types[0]; t++) {
        vidur_sim *sim;
        const vidur_summary *s;
        double ttft1;
        long long batches;
        int ok;
        if (t < 2) { batches = 6; ttft1 = x0 + xm - a1; }
        else if (t == 2) { batches = 6; ttft1 = 2 * x0 - a1; }
        else { batches = 10; ttft1 = 2 * x0 + 4 * x1 - a1; }
        base_config(&c, 2, 100, 5);
        SET(&c, "request_generator_config_type", "trace_replay");
        SET(&c, "trace_request_generator_config_trace_file", path);
        SET(&c, "replica_scheduler_config_type", types[t]);
        sim = RUN_SIM(&c);
        if (!CHECK(sim != NULL)) continue;
        s = vidur_sim_summary(sim);
        ok = CHECK_EQ_INT(s->num_completed, 2);
        ok &= CHECK_EQ_INT(s->num_batches, batches);
        ok &= CHECK_NEAR(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].min, x0, 1e-12);
        ok &= CHECK_NEAR(s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].max, ttft1, 1e-12);
        if (!ok) printf("  (%s)\n", types[t]);
        vidur_sim_destroy(sim);
    }
    remove(path);
}

/* A router plug-in that counts its optional hooks: each request ends exactly once. */
typedef struct hook_stats { int ended[MAXQ]; int batch_ends; int routed; } hook_stats;
static hook_stats g_hooks;
static void *hooks_create(vidur_sim *sim, void *user) { (void)sim; return user; }
static void hooks_destroy(void *state) { (void)state; }
static int hooks_route(void *state, vidur_sim *sim, const vidur_request *q)
{
    hook_stats *h = (hook_stats *)state;
    h->routed++;
    return (int)(q->id % vidur_sim_num_replicas(sim));
}
static void hooks_batch_end(void *state, vidur_sim *sim, const vidur_batch *b)
{
    (void)sim; (void)b;
    ((hook_stats *)state)->batch_ends++;
}
static void hooks_request_end(void *state, vidur_sim *sim, const vidur_request *q)
{
    hook_stats *h = (hook_stats *)state;
    (void)sim;
    if (q->id >= 0 && q->id < MAXQ) h->ended[q->id]++;
}
static const vidur_global_scheduler_api hooks_api = {
    "hooks", hooks_create, hooks_destroy, hooks_route, hooks_batch_end, hooks_request_end, NULL, &g_hooks
};

TEST(test_global_hooks)
{
    vidur_config c;
    vidur_sim *sim;
    vidur_error err;
    const vidur_summary *s;
    int i;
    memset(&g_hooks, 0, sizeof g_hooks);
    base_config(&c, 30, 150, 12);
    SET(&c, "interval_generator_config_type", "poisson");
    SET(&c, "poisson_request_interval_generator_config_qps", "6");
    SET(&c, "cluster_config_num_replicas", "3");
    CHECK_EQ_INT(vidur_config_add_global_scheduler(&c, &hooks_api, &err), VIDUR_OK);
    SET(&c, "global_scheduler_config_type", "hooks");
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    s = vidur_sim_summary(sim);
    CHECK_EQ_INT(s->num_completed, 30);
    CHECK_EQ_INT(g_hooks.routed, 30);
    CHECK_EQ_INT(g_hooks.batch_ends, s->num_batches);
    for (i = 0; i < 30; i++) CHECK_EQ_INT(g_hooks.ended[i], 1);
    vidur_sim_destroy(sim);
}

/* Output files land in the given folder. */
TEST(test_write_outputs)
{
    vidur_config c;
    vidur_sim *sim;
    vidur_error err;
    char dir[] = "/tmp/vidur_test_sim_XXXXXX";
    char used[VIDUR_PATH_MAX];
    char path[VIDUR_PATH_MAX + 64];
    FILE *f;
    int lines = 0, ch;
    REQUIRE(mkdtemp(dir) != NULL);
    base_config(&c, 5, 100, 3);
    SET(&c, "metrics_config_write_metrics", "true");
    sim = RUN_SIM(&c);
    REQUIRE(sim != NULL);
    memset(&err, 0, sizeof err);
    used[0] = '\0';
    CHECK_EQ_INT(vidur_sim_write_outputs(sim, dir, used, sizeof used, &err), VIDUR_OK);
    if (err.message[0]) printf("  %s\n", err.message);
    CHECK_STR_EQ(used, dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/request_metrics.csv", dir);
    f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) {
        while ((ch = fgetc(f)) != EOF) if (ch == '\n') lines++;
        fclose(f);
        CHECK_EQ_INT(lines, 6); /* header + 5 requests */
    }
    vidur_sim_destroy(sim);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    if (system(path) != 0) printf("  could not remove %s\n", dir);
}

/* Errors at creation: a config that does not validate or a model that does not fit. */
TEST(test_create_errors)
{
    vidur_config c;
    vidur_sim *sim = NULL;
    vidur_error err;
    base_config(&c, 5, 100, 3);
    SET(&c, "replica_config_model_name", "meta-llama/Llama-2-70b-hf");
    SET(&c, "replica_config_device", "a40");
    SET(&c, "replica_config_network_device", "a40_pairwise_nvlink");
    memset(&err, 0, sizeof err);
    CHECK(vidur_sim_create(&c, &sim, &err) != VIDUR_OK);
    CHECK(err.message[0] != '\0');
    if (sim) vidur_sim_destroy(sim);
    sim = NULL;
    /* an unknown scheduler name is refused by vidur_config_set or, at the latest, here */
    base_config(&c, 5, 100, 3);
    memset(&err, 0, sizeof err);
    if (vidur_config_set(&c, "replica_scheduler_config_type", "no_such_scheduler", &err) == VIDUR_OK) {
        CHECK(vidur_sim_create(&c, &sim, &err) != VIDUR_OK);
        if (sim) vidur_sim_destroy(sim);
    }
    CHECK_CONTAINS(err.message, "no_such_scheduler");
}

int main(void)
{
    RUN_TEST(test_single_request);
    RUN_TEST(test_single_request_one_decode_token);
    RUN_TEST(test_step);
    RUN_TEST(test_determinism);
    RUN_TEST(test_time_limit);
    RUN_TEST(test_scheduler_matrix);
    RUN_TEST(test_preemption_under_memory_pressure);
    RUN_TEST(test_kv_accounting_exact);
    RUN_TEST(test_tp_pp);
    RUN_TEST(test_two_requests_batch_together);
    RUN_TEST(test_pipeline_single_request);
    RUN_TEST(test_custom_replica_scheduler);
    RUN_TEST(test_custom_replica_scheduler_small_cache);
    RUN_TEST(test_custom_global_scheduler);
    RUN_TEST(test_builtin_routers);
    RUN_TEST(test_round_robin_uneven);
    RUN_TEST(test_workload_matches_cpython);
    RUN_TEST(test_random_router_matches_cpython);
    RUN_TEST(test_trace_replay_lengths);
    RUN_TEST(test_late_arrival_batching);
    RUN_TEST(test_global_hooks);
    RUN_TEST(test_plugin_fail);
    RUN_TEST(test_write_outputs);
    RUN_TEST(test_create_errors);
    return test_finish();
}
