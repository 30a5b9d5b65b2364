/* test_routers.c - the fork's session-sticky and prefix-cache-aware global schedulers on crafted
   traces, with every routing decision worked out by hand. CPython's random.Random(67) (the
   fork's tie-break stream) gives choice([0, 1]) = 0, then choice([1]) = 1, then choice([0, 1]) = 1
   (checked with CPython 3.11). */
#include "../vidur.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

static int g_rep[16];
static void on_done(void *user, vidur_sim *sim, const vidur_request *q)
{
    (void)user; (void)sim;
    if (q->id < 16) g_rep[q->id] = q->replica_id;
}

static const char *path = "/tmp/vidur_test_routers.csv";

/* runs `rows` (arrived_at,P,D,session_id,block_hash_ids) on 2 replicas with the given router */
static int route(const char *router, const char *sched, const char *rows, const char *k1, const char *v1)
{
    vidur_config c;
    vidur_error err;
    vidur_sim *sim = NULL;
    FILE *f = fopen(path, "w");
    int ok = 1;
    if (!f) return 0;
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens,session_id,block_hash_ids\n", f);
    fputs(rows, f);
    fclose(f);
    vidur_config_init(&c);
    memset(g_rep, -1, sizeof g_rep);
    ok &= SET(&c, "request_generator_config_type", "trace_replay");
    ok &= SET(&c, "trace_request_generator_config_trace_file", path);
    ok &= SET(&c, "cluster_config_num_replicas", "2");
    ok &= SET(&c, "global_scheduler_config_type", router);
    ok &= SET(&c, "replica_scheduler_config_type", sched);
    ok &= SET(&c, "cache_config_enable_prefix_caching", "true");
    ok &= SET(&c, "metrics_config_write_metrics", "false");
    if (k1) ok &= SET(&c, k1, v1);
    c.observer.on_request_complete = on_done;
    if (!ok || vidur_sim_create(&c, &sim, &err) != VIDUR_OK || vidur_sim_run(sim) != VIDUR_OK) {
        printf("  %s: %s\n", router, sim ? vidur_sim_error(sim)->message : err.message);
        ok = 0;
    }
    vidur_sim_destroy(sim);
    remove(path);
    return ok;
}

/* sticky_round_robin: sessions 5, 7, 5, 9, 7 -> new sessions take turns (5 -> 0, 7 -> 1,
   9 -> 0), known ones stay */
TEST(test_sticky_round_robin)
{
    REQUIRE(route("sticky_round_robin", "sarathi", "0,100,4,5,\n0.1,100,4,7,\n0.2,100,4,5,\n0.3,100,4,9,\n0.4,100,4,7,\n", NULL, NULL));
    CHECK_EQ_INT(g_rep[0], 0);
    CHECK_EQ_INT(g_rep[1], 1);
    CHECK_EQ_INT(g_rep[2], 0);
    CHECK_EQ_INT(g_rep[3], 0);
    CHECK_EQ_INT(g_rep[4], 1);
}

/* sticky_lor (all four arrive within microseconds, nothing finishes in between):
   s1: tie [0 0] -> choice([0,1]) = 0; pending [1 0]. s2: replica 1 alone -> 1; [1 1].
   s1 again: sticky 0, no draw; [2 1]. s3: replica 1 alone -> 1. */
TEST(test_sticky_lor)
{
    REQUIRE(route("sticky_lor", "sarathi", "0,100,50,1,\n0.00001,100,50,2,\n0.00002,100,50,1,\n0.00003,100,50,3,\n", NULL, NULL));
    CHECK_EQ_INT(g_rep[0], 0);
    CHECK_EQ_INT(g_rep[1], 1);
    CHECK_EQ_INT(g_rep[2], 0);
    CHECK_EQ_INT(g_rep[3], 1);
}

/* tolerant_sticky_lop_uncached (no shared prefixes, so uncached = P), arrivals within
   microseconds (before any prefill ends):
   r0 (s1, P 400): imbalance [400 400] tie -> 0; pending [400 0]
   r1 (s2, P 100): imbalance [500 300] -> 1; pending [400 100]
   r2 (s1, P 50): imbalance(0) = 450 - 100 = 350, imbalance(1) = 400 - 150 = 250; sticky is 0:
   it stays while 350 <= tolerance x 250: yes for 2.0 and 1.4 (equal is kept), no for 1.39. */
TEST(test_tolerant_threshold)
{
    static const char *rows = "0,400,50,1,\n0.00001,100,50,2,\n0.00002,50,50,1,\n";
    REQUIRE(route("tolerant_sticky_lop_uncached", "sarathi", rows, NULL, NULL));
    CHECK_EQ_INT(g_rep[0], 0);
    CHECK_EQ_INT(g_rep[1], 1);
    CHECK_EQ_INT(g_rep[2], 0);
    REQUIRE(route("tolerant_sticky_lop_uncached", "sarathi", rows, "tolerant_sticky_lop_uncached_global_scheduler_config_tolerance_factor", "1.4"));
    CHECK_EQ_INT(g_rep[2], 0);
    REQUIRE(route("tolerant_sticky_lop_uncached", "sarathi", rows, "tolerant_sticky_lop_uncached_global_scheduler_config_tolerance_factor", "1.39"));
    CHECK_EQ_INT(g_rep[2], 1);
}

/* ranked_sticky_lop_uncached, same requests: for r2 the sticky replica 0 (imbalance 350) ranks
   second behind replica 1 (250): kept with top_k = 2, re-picked (-> 1) with top_k = 1. */
TEST(test_ranked_top_k)
{
    static const char *rows = "0,400,50,1,\n0.00001,100,50,2,\n0.00002,50,50,1,\n";
    REQUIRE(route("ranked_sticky_lop_uncached", "sarathi", rows, NULL, NULL));
    CHECK_EQ_INT(g_rep[0], 0);
    CHECK_EQ_INT(g_rep[1], 1);
    CHECK_EQ_INT(g_rep[2], 0);
    REQUIRE(route("ranked_sticky_lop_uncached", "sarathi", rows, "ranked_sticky_lop_uncached_global_scheduler_config_top_k", "1"));
    CHECK_EQ_INT(g_rep[2], 1);
}

/* lop_uncached with vllm_v1 prefix caching: three requests with the same 10 block hashes
   (P 160 = 10 full blocks, D 2: 162 - 160 = 2).
   r0: tie -> choice([0,1]) = 0; its blocks are hashed on admission; pending [160 0]
   r1: uncached on 0 = 160 - min(10 x 16, 160) = 0, on 1 = 160. imbalance(0) = |160 - 0| = 160,
       imbalance(1) = |160 - 160| = 0 -> 1 (alone: choice([1])); pending [160 160]
   r2: cached on both now: uncached 0 and 0 -> imbalance 0 and 0: tie -> choice([0,1]) = 1. */
TEST(test_lop_uncached)
{
    static const char *h = "\"[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\"";
    char rows[512];
    snprintf(rows, sizeof rows, "0,160,2,,%s\n0.00001,160,2,,%s\n0.00002,160,2,,%s\n", h, h, h);
    REQUIRE(route("lop_uncached", "vllm_v1", rows, NULL, NULL));
    CHECK_EQ_INT(g_rep[0], 0);
    CHECK_EQ_INT(g_rep[1], 1);
    CHECK_EQ_INT(g_rep[2], 1);
}

/* sticky: known sessions stay; new sessions and session-less requests follow lop:
   r0 (s1, P 300) tie -> 0; pending [300 0]. r1 (no session, P 100) -> 1; [300 100].
   r2 (s1, P 1000) sticky -> 0 although heavier; [1300 100]. r3 (s2, P 10) -> 1. */
TEST(test_sticky)
{
    REQUIRE(route("sticky", "sarathi", "0,300,50,1,\n0.00001,100,50,,\n0.00002,1000,50,1,\n0.00003,10,50,2,\n", NULL, NULL));
    CHECK_EQ_INT(g_rep[0], 0);
    CHECK_EQ_INT(g_rep[1], 1);
    CHECK_EQ_INT(g_rep[2], 0);
    CHECK_EQ_INT(g_rep[3], 1);
}

/* EDF request queue (sarathi, chunk 512, SLO 0.01 s per prompt token): r0 (P 2000) at 0 keeps
   the budget busy for three batches; r1 (P 1000, deadline 0.001 + 10), r2 (P 100, deadline
   0.002 + 1) and r3 (P 500, deadline 0.003 + 5) arrive meanwhile. Batch 3 has 512 - 464 = 48
   tokens left for a new request: fcfs admits r1, edf admits r2. Order of first appearance:
   fcfs r1 r2 r3; edf r2 (b3), r3 (b4: 512 - 1 - 52 = 459 tokens), r1. */
static int g_first[8], g_nfirst, g_seen[8];
static void on_batch_first(void *user, vidur_sim *sim, const vidur_replica *r, const vidur_batch *b)
{
    int i;
    (void)user; (void)sim; (void)r;
    for (i = 0; i < b->size; i++) {
        int64_t id = b->requests[i]->id;
        if (id < 8 && !g_seen[id] && g_nfirst < 8) {
            g_seen[id] = 1;
            g_first[g_nfirst++] = (int)id;
        }
    }
}

static int run_queue(const char *queue)
{
    vidur_config c;
    vidur_error err;
    vidur_sim *sim = NULL;
    FILE *f = fopen(path, "w");
    int ok = 1;
    if (!f) return 0;
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens\n0,2000,4\n0.001,1000,4\n0.002,100,4\n0.003,500,4\n", f);
    fclose(f);
    memset(g_seen, 0, sizeof g_seen);
    g_nfirst = 0;
    vidur_config_init(&c);
    ok &= SET(&c, "request_generator_config_type", "trace_replay");
    ok &= SET(&c, "trace_request_generator_config_trace_file", path);
    ok &= SET(&c, "request_queue_config_type", queue);
    ok &= SET(&c, "slo_config_prefill_e2e_time_normalized", "0.01");
    ok &= SET(&c, "metrics_config_write_metrics", "false");
    c.observer.on_batch_scheduled = on_batch_first;
    if (!ok || vidur_sim_create(&c, &sim, &err) != VIDUR_OK || vidur_sim_run(sim) != VIDUR_OK) ok = 0;
    vidur_sim_destroy(sim);
    remove(path);
    return ok;
}

TEST(test_edf_queue)
{
    vidur_config c;
    vidur_sim *sim = NULL;
    vidur_error err;
    REQUIRE(run_queue("fcfs"));
    CHECK_EQ_INT(g_nfirst, 4);
    CHECK_EQ_INT(g_first[1], 1);
    CHECK_EQ_INT(g_first[2], 2);
    CHECK_EQ_INT(g_first[3], 3);
    REQUIRE(run_queue("edf"));
    CHECK_EQ_INT(g_nfirst, 4);
    CHECK_EQ_INT(g_first[1], 2);
    CHECK_EQ_INT(g_first[2], 3);
    CHECK_EQ_INT(g_first[3], 1);
    /* edf needs an SLO and the sarathi scheduler */
    vidur_config_init(&c);
    SET(&c, "request_queue_config_type", "edf");
    CHECK(vidur_sim_create(&c, &sim, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "slo_config_prefill_e2e_time_normalized");
    SET(&c, "slo_config_prefill_e2e_time_min", "1");
    SET(&c, "replica_scheduler_config_type", "vllm");
    CHECK(vidur_sim_create(&c, &sim, &err) != VIDUR_OK);
    CHECK_CONTAINS(err.message, "sarathi");
}

int main(void)
{
    RUN_TEST(test_edf_queue);
    RUN_TEST(test_sticky_round_robin);
    RUN_TEST(test_sticky_lor);
    RUN_TEST(test_tolerant_threshold);
    RUN_TEST(test_ranked_top_k);
    RUN_TEST(test_lop_uncached);
    RUN_TEST(test_sticky);
    return test_finish();
}
