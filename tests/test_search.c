/* Capacity search (vidur_search_*): the search INI, expansion with the fork's validity rules and
   job hashes, SLO checks on crafted request sets, and the fork's search loops on synthetic
   monotone oracles. Expected values are worked out by hand in the comments. */
#include "../vidur.h"
#define VIDUR_SEARCH_IMPLEMENTATION
#include "../vidur_search.h"
#include "test.h"

TEST(test_format_float)
{
    char b[64];
    /* Python's str(float): what the fork's run folders (r8_q4.0) and keys (2.0x) print */
    vidur_search_format_float(b, sizeof b, 4.0); CHECK_STR_EQ(b, "4.0");
    vidur_search_format_float(b, sizeof b, 0.1); CHECK_STR_EQ(b, "0.1");
    vidur_search_format_float(b, sizeof b, 0.3125); CHECK_STR_EQ(b, "0.3125");
    vidur_search_format_float(b, sizeof b, 12.5); CHECK_STR_EQ(b, "12.5");
    vidur_search_format_float(b, sizeof b, 7.3125); CHECK_STR_EQ(b, "7.3125");
    vidur_search_format_float(b, sizeof b, 1e16); CHECK_STR_EQ(b, "1e+16");
    vidur_search_format_float(b, sizeof b, 1e-5); CHECK_STR_EQ(b, "1e-05");
    vidur_search_format_float(b, sizeof b, 123456789.125); CHECK_STR_EQ(b, "123456789.125");
    vidur_search_format_float(b, sizeof b, 1.0 / 3); CHECK_STR_EQ(b, "0.3333333333333333");
}

TEST(test_spec_example)
{
    vidur_search_spec *s = NULL;
    vidur_error err;
    REQUIRE(vidur_search_spec_load("data/search/example.ini", &s, &err) == VIDUR_OK);
    CHECK_EQ_INT(s->num_clusters, 2);
    CHECK_EQ_INT(s->num_global_schedulers, 7);
    CHECK_EQ_INT(s->num_request_queues, 1);
    CHECK_EQ_INT(s->num_replica_schedulers, 2);
    CHECK_EQ_INT(s->num_slo_configs, 3);
    CHECK_EQ_INT(s->num_traces, 2);
    CHECK_EQ_INT(s->num_models, 2);
    CHECK_EQ_INT(s->num_searches, 4);
    CHECK_EQ_INT(s->num_tp_dimensions, 2);
    CHECK_EQ_INT(s->tp_dimensions[1], 4);
    CHECK_EQ_INT(s->batch_sizes[0], 512);
    CHECK_NEAR(s->min_search_granularity, 1.0, 0);
    CHECK_EQ_INT(s->max_iterations, 10);
    CHECK_NEAR(s->time_limit, 180, 0);
    CHECK_STR_EQ(s->clusters[1].network_device, "a100_dgx");
    CHECK_STR_EQ(s->global_schedulers[3].scheduler, "tolerant_sticky_lop_uncached");
    CHECK_NEAR(s->global_schedulers[4].tolerance_factor, 3.0, 0);
    CHECK_STR_EQ(s->global_schedulers[4].tolerance_text, "3.0");
    CHECK_EQ_INT(s->global_schedulers[6].top_k, 4);
    CHECK_EQ_INT(s->replica_schedulers[1].chunk_size, 1024);
    CHECK_EQ_INT(s->slo_configs[2].num_slos, 2);
    CHECK_EQ_INT(s->slo_configs[2].slos[1].metric, VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED);
    CHECK_NEAR(s->slo_configs[2].slos[1].value, 0.1, 0);
    CHECK_EQ_INT(s->slo_configs[2].is_or, 0);
    CHECK_NEAR(s->slo_configs[0].quantile, 0.99, 0);
    CHECK_EQ_INT(s->traces[0].max_seq_len, 131072);
    CHECK_EQ_INT(s->traces[1].enable_prefix_caching, 1);
    CHECK_EQ_INT(s->models[0].num_exclude_tp_dims, 1);
    CHECK_EQ_INT(s->models[1].exclude_tp_dims[0], 1);
    CHECK_EQ_INT(s->searches[1].num_requests, 23608);
    CHECK_STR_EQ(s->searches[1].qps_text, "8");
    CHECK_EQ_INT(s->searches[3].num_replicas, 16);
    vidur_search_spec_free(s);
}

static int count_reason(const vidur_search_job *j, int64_t n, const char *prefix)
{
    int64_t i;
    int c = 0;
    for (i = 0; i < n; i++) c += !j[i].valid && !strncmp(j[i].skip_reason, prefix, strlen(prefix));
    return c;
}

TEST(test_expand_example)
{
    vidur_search_spec *s = NULL;
    vidur_search_job *jobs = NULL;
    vidur_error err;
    int64_t n = 0, nv = 0, i;
    int found = 0;
    REQUIRE(vidur_search_spec_load("data/search/example.ini", &s, &err) == VIDUR_OK);
    /* Hand count. All combinations: 4 searches x 2 models x 2 clusters x 2 traces x 7 global
       schedulers x 1 queue x 2 replica schedulers x 3 SLO configs x 2 TP x 1 PP x 1 batch size
       = 2,688. Each search names one model: the other model is skipped (half: 1,344). Of the
       1,344 left each search names one trace: half skipped again (672). Of those 672, Llama-3-8B
       excludes TP 4 and Llama-3-70B excludes TP 1, so one TP of the two survives: 336 skipped,
       336 valid. TP 1 and 4 both fit 8 GPUs per node, and every search has 8 or 16 replicas,
       so the single-replica round_robin rule skips nothing. 336 = 4 searches x 2 clusters x
       7 routers x 2 chunk sizes x 3 SLO configs. */
    REQUIRE(vidur_search_expand(s, 1, &jobs, &n, &nv, &err) == VIDUR_OK);
    CHECK_EQ_INT(n, 2688);
    CHECK_EQ_INT(nv, 336);
    CHECK_EQ_INT(count_reason(jobs, n, "model is not"), 1344);
    CHECK_EQ_INT(count_reason(jobs, n, "trace is not"), 672);
    CHECK_EQ_INT(count_reason(jobs, n, "tp "), 336);
    /* the first combination is valid: conv_8b, h100_dgx, round_robin, cs512, ttft_p99_10s, tp 1.
       Its key and hash, as the fork computes them (hashlib.sha1(key).hexdigest()[:8]) */
    CHECK(jobs[0].valid);
    CHECK_STR_EQ(jobs[0].key, "Meta-Llama-3-8B_mooncake_conversation_tk131072_h100_dgx_round_robin_fcfs_vllm_v1_cs512_tp1_pp1_bsz512_slottft_p99_10s_searchqps_q4_reqs12301");
    CHECK_STR_EQ(jobs[0].hash, "50fc5a05");
    for (i = 0; i < n; i++) {
        const vidur_search_job *j = &jobs[i];
        if (j->search == 3 && j->model == 1 && j->cluster == 1 && j->trace == 1 && j->global_scheduler == 4 &&
            j->replica_scheduler == 1 && j->slo == 2 && j->tp == 4) {
            found = 1;
            CHECK(j->valid);
            CHECK_STR_EQ(j->key, "Meta-Llama-3-70B_mooncake_toolagent_tk131072_a100_dgx_tolerant_sticky_lop_uncached_3.0x_fcfs_vllm_v1_cs1024_tp4_pp1_bsz512_slottft_p99_10s_and_tpot_p99_100ms_searchqps_q8_reqs23608");
            CHECK_STR_EQ(j->hash, "191ebb23");
        }
    }
    CHECK(found);
    free(jobs);
    /* without the SLO axis (one simulation point shared by the 3 SLO configs): 2,688 / 3 = 896
       combinations, 336 / 3 = 112 valid points */
    REQUIRE(vidur_search_expand(s, 0, &jobs, &n, &nv, &err) == VIDUR_OK);
    CHECK_EQ_INT(n, 896);
    CHECK_EQ_INT(nv, 112);
    CHECK_EQ_INT(jobs[0].slo, -1);
    CHECK(strstr(jobs[0].key, "_slo") == NULL);
    free(jobs);
    vidur_search_spec_free(s);
}

TEST(test_job_config)
{
    vidur_search_spec *s = NULL;
    vidur_search_job *jobs = NULL;
    vidur_config cfg;
    vidur_error err;
    int64_t n, nv;
    double cost;
    REQUIRE(vidur_search_spec_load("data/search/example.ini", &s, &err) == VIDUR_OK);
    REQUIRE(vidur_search_expand(s, 0, &jobs, &n, &nv, &err) == VIDUR_OK);
    REQUIRE(vidur_search_job_config(s, &jobs[0], 8.0, 8, &cfg, &err) == VIDUR_OK);
    CHECK_STR_EQ(cfg.model_name, "meta-llama/Meta-Llama-3-8B");
    CHECK_STR_EQ(cfg.network_device, "h100_dgx");
    CHECK_STR_EQ(cfg.replica_scheduler_type, "vllm_v1");
    CHECK_EQ_INT(cfg.vllm_v1.chunk_size, 512);
    CHECK_EQ_INT(cfg.vllm_v1.batch_size_cap, 512);     /* 512 per micro-batch x PP 1 */
    /* every replica scheduler with a batch_size_cap key gets it, as the config explorer sets them */
    CHECK_EQ_INT(cfg.sarathi.batch_size_cap, 512);
    CHECK_EQ_INT(cfg.lightllm.batch_size_cap, 512);
    CHECK_EQ_INT(cfg.custom.batch_size_cap, 128);       /* a plug-in's [custom_scheduler_config]: untouched */
    CHECK_EQ_INT(cfg.num_replicas, 8);
    CHECK_NEAR(cfg.poisson_qps, 8.0, 0);
    CHECK_NEAR(cfg.time_limit, 180 * 60, 0);
    CHECK_EQ_INT(cfg.synthetic_num_requests, 12301);
    CHECK_EQ_INT(cfg.trace_length_max_tokens, 131072);
    CHECK_EQ_INT(cfg.enable_prefix_caching, 1);
    CHECK_STR_EQ(cfg.global_scheduler_type, "round_robin");
    /* 8 replicas x TP 1 x PP 1 H100s at $4.25 per GPU-hour = $34/h; 8 QPS / 34 = 0.2353 QPS per $/h */
    cost = vidur_search_cost_per_hour(s, &jobs[0], 8);
    CHECK_NEAR(cost, 34.0, 1e-12);
    CHECK_NEAR(vidur_search_qps_per_dollar(8.0, cost), 8.0 / 34.0, 1e-15);
    free(jobs);
    vidur_search_spec_free(s);
}

/* [explorer] base_config: a simulator INI applied before the point's own keys */
TEST(test_base_config)
{
    vidur_search_spec *s = NULL;
    vidur_search_job *jobs = NULL;
    vidur_config cfg;
    vidur_error err;
    int64_t n, nv;
    FILE *f = fopen("build/test_search_base.ini", "w");
    REQUIRE(f != NULL);
    fputs("seed = 7\n[cluster_config]\nnum_replicas = 3\n", f);
    fclose(f);
    REQUIRE(vidur_search_spec_load("data/search/quick.ini", &s, &err) == VIDUR_OK);
    REQUIRE(vidur_search_expand(s, 0, &jobs, &n, &nv, &err) == VIDUR_OK);
    snprintf(s->base_config, sizeof s->base_config, "build/test_search_base.ini");
    REQUIRE(vidur_search_job_config(s, &jobs[0], 4.0, 2, &cfg, &err) == VIDUR_OK);
    CHECK_EQ_INT(cfg.seed, 7);          /* from the base file */
    CHECK_EQ_INT(cfg.num_replicas, 2);  /* the point's own value wins */
    snprintf(s->base_config, sizeof s->base_config, "no/such/base.ini");
    CHECK(vidur_search_job_config(s, &jobs[0], 4.0, 2, &cfg, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "no/such/base.ini");
    remove("build/test_search_base.ini");
    free(jobs);
    vidur_search_spec_free(s);
}

/* 10 requests; columns: the metric enum (only two filled) */
#define NM VIDUR_NUM_REQUEST_TIME_METRICS
static void fill_requests(double *v)
{
    static const double tpot[10] = {0.05, 0.05, 0.2, 0.05, 0.05, 0.05, 0.05, 0.05, 0.2, 0.05};
    int i;
    memset(v, 0, sizeof(double) * 10 * NM);
    for (i = 0; i < 10; i++) {
        v[i * NM + VIDUR_METRIC_PREFILL_E2E_TIME] = 10 - i; /* 10, 9, ..., 1 (unsorted on purpose) */
        v[i * NM + VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED] = tpot[9 - i];
    }
}

TEST(test_slo_check)
{
    double v[10 * NM], m, w[4] = {3, 1, 4, 2};
    vidur_search_slo_config c;
    fill_requests(v);
    /* request r (r = 1..10) has TTFT r and TPOT 0.2 for r = 3 and r = 9, else 0.05 */
    memset(&c, 0, sizeof c);
    c.num_slos = 1;
    c.slos[0].metric = VIDUR_METRIC_PREFILL_E2E_TIME;
    /* one SLO: linear quantile of TTFT. q = 0.5: h = 9 x 0.5 = 4.5 -> 5 + 0.5 x (6 - 5) = 5.5 */
    c.quantile = 0.5;
    c.slos[0].value = 5.5;
    CHECK_EQ_INT(vidur_search_slo_check(&c, v, 10, NM, &m), 1);
    CHECK_NEAR(m, 5.5, 0);
    c.slos[0].value = 5.49;
    CHECK_EQ_INT(vidur_search_slo_check(&c, v, 10, NM, &m), 0);
    /* q = 0.75: h = 6.75 -> 7 + 0.75 = 7.75 */
    c.quantile = 0.75;
    c.slos[0].value = 8;
    CHECK_EQ_INT(vidur_search_slo_check(&c, v, 10, NM, &m), 1);
    CHECK_NEAR(m, 7.75, 0);
    /* q = 1: the maximum, 10 */
    c.quantile = 1;
    c.slos[0].value = 9.99;
    CHECK_EQ_INT(vidur_search_slo_check(&c, v, 10, NM, &m), 0);
    CHECK_NEAR(m, 10, 0);
    /* and: TTFT <= 8 and TPOT <= 0.1. TTFT passes for r = 1..8; of those r = 3 has TPOT 0.2:
       7 of 10 requests pass -> fraction 0.7 */
    c.num_slos = 2;
    c.is_or = 0;
    c.slos[0].value = 8;
    c.slos[1].metric = VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED;
    c.slos[1].value = 0.1;
    c.quantile = 0.7;
    CHECK_EQ_INT(vidur_search_slo_check(&c, v, 10, NM, &m), 1);
    CHECK_NEAR(m, 0.7, 0);
    c.quantile = 0.71;
    CHECK_EQ_INT(vidur_search_slo_check(&c, v, 10, NM, &m), 0);
    /* or: TTFT <= 2 or TPOT <= 0.1. Fails only where both fail: r = 3 (TTFT 3, TPOT 0.2) and
       r = 9 (TTFT 9, TPOT 0.2) -> 8 of 10 */
    c.is_or = 1;
    c.slos[0].value = 2;
    c.quantile = 0.8;
    CHECK_EQ_INT(vidur_search_slo_check(&c, v, 10, NM, &m), 1);
    CHECK_NEAR(m, 0.8, 0);
    c.quantile = 0.81;
    CHECK_EQ_INT(vidur_search_slo_check(&c, v, 10, NM, &m), 0);
    /* no completed request: fail */
    CHECK_EQ_INT(vidur_search_slo_check(&c, v, 0, NM, &m), 0);
    /* quantile helper: {1,2,3,4}, q = 0.25: h = 0.75 -> 1.75 */
    CHECK_NEAR(vidur_search_quantile(w, 4, 0.25), 1.75, 0);
    CHECK_EQ_INT(vidur_search_metric_from_name("prefill_e2e_time"), VIDUR_METRIC_PREFILL_E2E_TIME);
    CHECK_EQ_INT(vidur_search_metric_from_name("ttft"), -1);
}

/* synthetic monotone oracles */
typedef struct oracle {
    double qps_threshold;  /* passes iff qps <= threshold */
    int min_replicas;      /* passes iff replicas >= this */
    int calls, fail_at;    /* fail_at: the call that returns an error (0 = never) */
} oracle;

static vidur_result qps_oracle(void *user, double qps, int num_replicas, int *pass, vidur_error *err)
{
    oracle *o = (oracle *)user;
    (void)num_replicas;
    if (++o->calls == o->fail_at) {
        snprintf(err->message, sizeof err->message, "simulated crash");
        return VIDUR_ERR_IO;
    }
    *pass = qps <= o->qps_threshold;
    return VIDUR_OK;
}

static vidur_result replica_oracle(void *user, double qps, int num_replicas, int *pass, vidur_error *err)
{
    oracle *o = (oracle *)user;
    (void)qps; (void)err;
    o->calls++;
    *pass = num_replicas >= o->min_replicas;
    return VIDUR_OK;
}

TEST(test_search_qps)
{
    vidur_search_params p;
    vidur_search_outcome out;
    vidur_error err;
    oracle o;
    memset(&p, 0, sizeof p);
    memset(&o, 0, sizeof o);
    p.search_for = VIDUR_SEARCH_QPS;
    p.qps = 4;
    p.num_replicas = 8;
    p.max_iterations = 10;
    p.min_search_granularity = 1;
    p.min_qps = 0.1;
    /* threshold 7.3: right = 8 fails at once (turn 1); bisect [0, 8]: 4 ok, 6 ok, 7 ok, 7.5 no,
       7.25 ok, 7.375 no, 7.3125 no; then |7.25 - 7.3125| = 0.0625 < 1 % of 7.3125: stop. */
    o.qps_threshold = 7.3;
    REQUIRE(vidur_search_run(&p, qps_oracle, &o, &out, &err) == VIDUR_OK);
    CHECK(out.found);
    CHECK_NEAR(out.qps, 7.25, 0);
    CHECK_EQ_INT(out.num_probes, 8);
    CHECK_EQ_INT(out.num_iterations, 8);
    CHECK(out.qps <= o.qps_threshold && out.qps > o.qps_threshold * 0.98);
    /* an iteration budget of 5 turns stops after 8, 4, 6, 7, 7.5: left = 7 */
    p.max_iterations = 5;
    memset(&o, 0, sizeof o);
    o.qps_threshold = 7.3;
    REQUIRE(vidur_search_run(&p, qps_oracle, &o, &out, &err) == VIDUR_OK);
    CHECK_NEAR(out.qps, 7.0, 0);
    CHECK_EQ_INT(out.num_probes, 5);
    /* threshold 30: expansion 8 ok, 16 ok, 32 no; bisect [16, 32]: 24, 28, 30 ok, 31, 30.5,
       30.25 no; |30 - 30.25| = 0.25 < 0.3025: stop at exactly 30 after 9 probes */
    p.max_iterations = 10;
    memset(&o, 0, sizeof o);
    o.qps_threshold = 30;
    REQUIRE(vidur_search_run(&p, qps_oracle, &o, &out, &err) == VIDUR_OK);
    CHECK_NEAR(out.qps, 30, 0);
    CHECK_EQ_INT(out.num_probes, 9);
    /* min_qps: threshold 0.05, start 0.1: 0.2 no; 0.1 no; 0.05 ok; 0.075 no; right = 0.075 <
       min_qps 0.1: stop with left = 0.05 after 4 probes */
    p.qps = 0.1;
    memset(&o, 0, sizeof o);
    o.qps_threshold = 0.05;
    REQUIRE(vidur_search_run(&p, qps_oracle, &o, &out, &err) == VIDUR_OK);
    CHECK_NEAR(out.qps, 0.05, 0);
    CHECK_EQ_INT(out.num_probes, 4);
    /* nothing passes: left stays 0, not found */
    p.qps = 4;
    memset(&o, 0, sizeof o);
    o.qps_threshold = -1;
    REQUIRE(vidur_search_run(&p, qps_oracle, &o, &out, &err) == VIDUR_OK);
    CHECK(!out.found);
    CHECK_NEAR(out.qps, 0, 0);
    /* an oracle error stops the search with that error */
    memset(&o, 0, sizeof o);
    o.qps_threshold = 7.3;
    o.fail_at = 3;
    CHECK_EQ_INT(vidur_search_run(&p, qps_oracle, &o, &out, &err), VIDUR_ERR_IO);
    CHECK_EQ_INT(o.calls, 3);
}

TEST(test_search_replicas_and_isoqps)
{
    vidur_search_params p;
    vidur_search_outcome out;
    vidur_error err;
    oracle o;
    static const double mult[4] = {0.5, 1, 1.5, 2};
    memset(&p, 0, sizeof p);
    memset(&o, 0, sizeof o);
    /* at least 11 replicas needed, start 2: 4 no (left 5), 8 no (left 9), 16 ok; bisect
       [9, 16]: 12 ok (right 11), 10 no (left 11), 11 ok (right 10); left > right: 11 */
    p.search_for = VIDUR_SEARCH_NUM_REPLICAS;
    p.qps = 5;
    p.num_replicas = 2;
    p.max_iterations = 10;
    p.min_search_granularity = 1;
    o.min_replicas = 11;
    REQUIRE(vidur_search_run(&p, replica_oracle, &o, &out, &err) == VIDUR_OK);
    CHECK(out.found);
    CHECK_EQ_INT(out.num_replicas, 11);
    CHECK_EQ_INT(out.num_probes, 6);
    /* budget of 3 turns: 4, 8, 16 -> the smallest count seen to pass is 16 */
    p.max_iterations = 3;
    memset(&o, 0, sizeof o);
    o.min_replicas = 11;
    REQUIRE(vidur_search_run(&p, replica_oracle, &o, &out, &err) == VIDUR_OK);
    CHECK_EQ_INT(out.num_replicas, 16);
    /* isoqps: 4 x {0.5, 1, 1.5, 2} = 2, 4, 6, 8 with threshold 7: highest passing 6 */
    memset(&p, 0, sizeof p);
    memset(&o, 0, sizeof o);
    p.search_for = VIDUR_SEARCH_ISOQPS;
    p.qps = 4;
    p.num_replicas = 1;
    p.num_qps_multipliers = 4;
    p.qps_multipliers = mult;
    o.qps_threshold = 7;
    REQUIRE(vidur_search_run(&p, qps_oracle, &o, &out, &err) == VIDUR_OK);
    CHECK_NEAR(out.qps, 6, 0);
    CHECK_EQ_INT(out.num_probes, 4);
}

static const char *minimal_ini =
    "[explorer]\n"                          /* 1 */
    "batch_sizes = 64\n"                    /* 2 */
    "tp_dimensions = 1\n"                   /* 3 */
    "pp_dimensions = 1\n"                   /* 4 */
    "[cluster.h100]\n"                      /* 5 */
    "device = h100\n"                       /* 6 */
    "network_device = h100_dgx\n"           /* 7 */
    "gpus_per_node = 8\n"                   /* 8 */
    "[global_scheduler.rr]\n"               /* 9 */
    "scheduler = round_robin\n"             /* 10 */
    "[request_queue.fcfs]\n"                /* 11 */
    "provider = fcfs\n"                     /* 12 */
    "[replica_scheduler.s]\n"               /* 13 */
    "scheduler = sarathi\n"                 /* 14 */
    "chunk_size = 512\n"                    /* 15 */
    "[slo_config.ttft]\n"                   /* 16 */
    "type = and\n"                          /* 17 */
    "quantile = 0.9\n"                      /* 18 */
    "slo = prefill_e2e_time 2\n"            /* 19 */
    "[trace.conv]\n"                        /* 20 */
    "trace_file = data/traces/conversations_small.csv\n" /* 21 */
    "max_seq_len = 4096\n"                  /* 22 */
    "[model.llama3]\n"                      /* 23 */
    "identifier = meta-llama/Meta-Llama-3-8B\n" /* 24 */
    "[search.s]\n"                          /* 25 */
    "trace = conv\n"                        /* 26 */
    "model = llama3\n"                      /* 27 */
    "search_for = qps\n"                    /* 28 */
    "num_replicas = 1\n"                    /* 29 */
    "qps = 1\n"                             /* 30 */
    "num_requests = 50\n";                  /* 31 */

/* minimal_ini with line `line` (1-based) replaced by `repl` */
static void with_line(char *out, size_t n, int line, const char *repl)
{
    const char *p = minimal_ini;
    int l = 1;
    out[0] = 0;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = (size_t)(e - p) + 1;
        if (l == line) strncat(out, repl, n - strlen(out) - 1);
        else strncat(out, p, len < n - strlen(out) - 1 ? len : n - strlen(out) - 1);
        p = e + 1;
        l++;
    }
}

static void expect_error(int line, const char *repl, const char *msg)
{
    char buf[4096];
    vidur_search_spec *s = NULL;
    vidur_error err;
    with_line(buf, sizeof buf, line, repl);
    memset(&err, 0, sizeof err);
    CHECK(vidur_search_spec_load_string(buf, "bad.ini", &s, &err) != VIDUR_OK);
    CHECK(s == NULL);
    CHECK_CONTAINS(err.message, msg);
    CHECK(strchr(err.message, '\n') == NULL);
}

TEST(test_bad_ini)
{
    vidur_search_spec *s = NULL;
    vidur_error err;
    REQUIRE(vidur_search_spec_load_string(minimal_ini, "ok.ini", &s, &err) == VIDUR_OK);
    CHECK_EQ_INT(s->num_searches, 1);
    CHECK_NEAR(s->slo_configs[0].quantile, 0.9, 0);
    vidur_search_spec_free(s);
    expect_error(3, "tp_dimension = 1\n", "bad.ini:3: [explorer] tp_dimension: unknown key");
    expect_error(17, "type = xor\n", "bad.ini:17: [slo_config.ttft] type: 'xor' is not and or or");
    expect_error(19, "slo = ttft 2\n", "bad.ini:19: [slo_config.ttft] slo: unknown request metric 'ttft'");
    expect_error(18, "quantile = 1.5\n", "bad.ini:18: [slo_config.ttft] quantile: '1.5' is not a quantile in (0, 1]");
    expect_error(15, "\n", "bad.ini:13: [replica_scheduler.s] chunk_size: required by sarathi");
    expect_error(26, "trace = nope\n", "bad.ini:25: [search.s] trace: no [trace.nope] section");
    expect_error(28, "search_for = latency\n", "bad.ini:28: [search.s] search_for: 'latency' is not qps, num_replicas or isoqps");
    expect_error(8, "gpus_per_node = eight\n", "bad.ini:8: [cluster.h100] gpus_per_node: 'eight' is not a positive integer");
    expect_error(9, "[router.rr]\n", "bad.ini:9: [router.rr]: unknown section");
    expect_error(4, "\n", "[explorer] pp_dimensions: missing");
    /* names the simulator must know are checked before anything runs */
    expect_error(10, "scheduler = lop_uncachd\n", "bad.ini:9: [global_scheduler.rr] scheduler: unknown 'lop_uncachd' (choices: round_robin|");
    expect_error(14, "scheduler = sarathii\n", "bad.ini:13: [replica_scheduler.s] scheduler: unknown 'sarathii' (choices: ");
    expect_error(6, "device = h1000\n", "bad.ini:5: [cluster.h100] device: unknown device 'h1000'");
    expect_error(7, "network_device = h100_dgxx\n", "bad.ini:5: [cluster.h100] network_device: unknown node 'h100_dgxx'");
    expect_error(24, "identifier = foo/bar\n", "bad.ini:23: [model.llama3] identifier: unknown model 'foo/bar'");
    {
        /* a missing [explorer] key is reported at [explorer]'s own line (2 here, after a comment) */
        char buf[4096], text[4200];
        with_line(buf, sizeof buf, 2, "");
        snprintf(text, sizeof text, "; a comment\n%s", buf);
        CHECK(vidur_search_spec_load_string(text, "bad.ini", &s, &err) != VIDUR_OK);
        CHECK_CONTAINS(err.message, "bad.ini:2: [explorer] batch_sizes: missing");
    }
    CHECK(vidur_search_spec_load("no/such/search.ini", &s, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "no/such/search.ini");
}

/* per-request values collected through the observer agree with the simulation's own counts */
TEST(test_values_from_simulation)
{
    vidur_search_spec *s = NULL;
    vidur_search_job *jobs = NULL;
    vidur_search_values vals;
    vidur_config cfg;
    vidur_sim *sim = NULL;
    vidur_error err;
    int64_t n, nv, i;
    int ok = 1;
    REQUIRE(vidur_search_spec_load_string(minimal_ini, "ok.ini", &s, &err) == VIDUR_OK);
    REQUIRE(vidur_search_expand(s, 0, &jobs, &n, &nv, &err) == VIDUR_OK);
    REQUIRE(nv == 1);
    REQUIRE(vidur_search_job_config(s, &jobs[0], 2.0, 1, &cfg, &err) == VIDUR_OK);
    memset(&vals, 0, sizeof vals);
    vidur_search_values_attach(&cfg, &vals);
    cfg.write_metrics = 0;
    REQUIRE(vidur_sim_create(&cfg, &sim, &err) == VIDUR_OK);
    REQUIRE(vidur_sim_run(sim) == VIDUR_OK);
    CHECK_EQ_INT(vals.n, vidur_sim_summary(sim)->num_completed);
    CHECK_EQ_INT(vals.n, 50);
    for (i = 0; i < vals.n; i++) {
        const double *v = vals.v + i * NM;
        ok &= v[VIDUR_METRIC_PREFILL_E2E_TIME] > 0 && v[VIDUR_METRIC_REQUEST_E2E_TIME] >= v[VIDUR_METRIC_PREFILL_E2E_TIME] &&
              v[VIDUR_METRIC_REQUEST_SCHEDULING_DELAY] >= 0;
    }
    CHECK(ok);
    vidur_sim_destroy(sim);
    vidur_search_values_free(&vals);
    free(jobs);
    vidur_search_spec_free(s);
}

/* Ours: EP and precision axes, the new GPUs and models. 2 models (Mixtral-8x7B, Llama-3-8B) x
   1 cluster (h200_dgx) x TP {2, 4} x EP {1, 2, 4} x weights {auto, fp8} x KV {auto, fp8} = 48
   combinations. The search pairs each search with its model: 24 per model. EP 4 does not divide
   TP 2 (4 precisions x 2 models = 8 skipped). Llama-3 (dense): EP 1 only: 2 TP x 4 precisions =
   8 valid; EP 2 at TP 2 and 4 and EP 4 at TP 4 (12) are "ep N: a dense model". Mixtral: 24 - 4 =
   20 valid. */
TEST(test_ep_and_dtype_axes)
{
    static const char *ini =
        "[explorer]\nbatch_sizes = 64\ntp_dimensions = 2 4\npp_dimensions = 1\nep_dimensions = 1 2 4\n"
        "weight_dtypes = auto fp8\nkv_cache_dtypes = auto, fp8\n"
        "[cluster.h200]\ndevice = h200\nnetwork_device = h200_dgx\ngpus_per_node = 8\n"
        "[global_scheduler.rr]\nscheduler = round_robin\n[request_queue.fcfs]\nprovider = fcfs\n"
        "[replica_scheduler.v1]\nscheduler = vllm_v1\nchunk_size = 512\n"
        "[slo_config.ttft]\ntype = and\nquantile = 0.9\nslo = prefill_e2e_time 2\n"
        "[trace.conv]\ntrace_file = data/traces/conversations_small.csv\nmax_seq_len = 4096\n"
        "[model.mixtral]\nidentifier = mistralai/Mixtral-8x7B-Instruct-v0.1\n"
        "[model.llama3]\nidentifier = meta-llama/Meta-Llama-3-8B\n"
        "[search.a]\ntrace = conv\nmodel = mixtral\nsearch_for = qps\nnum_replicas = 1\nqps = 1\nnum_requests = 20\n"
        "[search.b]\ntrace = conv\nmodel = llama3\nsearch_for = qps\nnum_replicas = 1\nqps = 1\nnum_requests = 20\n";
    vidur_search_spec *s = NULL;
    vidur_search_job *jobs = NULL;
    vidur_error err;
    vidur_config cfg;
    int64_t n = 0, nv = 0, i;
    int mixtral_valid = 0, llama_valid = 0, checked = 0;
    REQUIRE(vidur_search_spec_load_string(ini, "axes.ini", &s, &err) == VIDUR_OK);
    CHECK_EQ_INT(s->num_ep_dimensions, 3);
    CHECK_EQ_INT(s->num_weight_dtypes, 2);
    CHECK_STR_EQ(s->kv_cache_dtypes[1], "fp8");
    REQUIRE(vidur_search_expand(s, 0, &jobs, &n, &nv, &err) == VIDUR_OK);
    CHECK_EQ_INT(n, 2 * 2 * 2 * 3 * 2 * 2);
    for (i = 0; i < n; i++) {
        if (!jobs[i].valid) continue;
        if (jobs[i].model == 0) mixtral_valid++;
        else llama_valid++;
    }
    CHECK_EQ_INT(mixtral_valid, 20);
    CHECK_EQ_INT(llama_valid, 8);
    CHECK_EQ_INT(nv, 28);
    CHECK_EQ_INT(count_reason(jobs, n, "ep 2: a dense model") + count_reason(jobs, n, "ep 4: a dense model"), 12);
    CHECK_EQ_INT(count_reason(jobs, n, "ep 4 does not divide tp 2"), 8);
    for (i = 0; i < n; i++) {
        const vidur_search_job *j = &jobs[i];
        if (!j->valid || j->model != 0 || j->tp != 4 || j->ep != 2 || j->weight_dtype != 1 || j->kv_cache_dtype != 1) continue;
        /* the key names the non-default axes, before the SLO / search parts */
        CHECK_CONTAINS(j->key, "_tp4_pp1_bsz64_ep2_wfp8_kvfp8_search");
        REQUIRE(vidur_search_job_config(s, j, 2.0, 1, &cfg, &err) == VIDUR_OK);
        CHECK_EQ_INT(cfg.expert_parallel_size, 2);
        CHECK_STR_EQ(cfg.weight_dtype, "fp8");
        CHECK_STR_EQ(cfg.kv_cache_dtype, "fp8");
        CHECK_NEAR(vidur_search_cost_per_hour(s, j, 3), 3 * 4 * 6.31, 1e-9); /* h200: $6.31 per GPU-hour */
        checked++;
    }
    CHECK_EQ_INT(checked, 1);
    /* defaults (EP 1, auto, auto): the key has none of them, as the fork's */
    for (i = 0; i < n; i++)
        if (jobs[i].valid && jobs[i].ep == 1 && jobs[i].weight_dtype == 0 && jobs[i].kv_cache_dtype == 0) {
            CHECK(strstr(jobs[i].key, "_ep") == NULL && strstr(jobs[i].key, "_wfp8") == NULL);
            break;
        }
    VIDUR_FREE(jobs);
    vidur_search_spec_free(s);
    /* bad values, one line naming the key */
    expect_error(4, "ep_dimensions = 0\n", "ep_dimensions");
    expect_error(4, "weight_dtypes = int4\n", "weight_dtypes");
    expect_error(4, "kv_cache_dtypes = \n", "kv_cache_dtypes");
}

int main(void)
{
    RUN_TEST(test_format_float);
    RUN_TEST(test_spec_example);
    RUN_TEST(test_expand_example);
    RUN_TEST(test_job_config);
    RUN_TEST(test_base_config);
    RUN_TEST(test_slo_check);
    RUN_TEST(test_search_qps);
    RUN_TEST(test_search_replicas_and_isoqps);
    RUN_TEST(test_bad_ini);
    RUN_TEST(test_values_from_simulation);
    RUN_TEST(test_ep_and_dtype_axes);
    return test_finish();
}
