/* test_invariants.c - scheduler invariants observed batch by batch, and scheduling decisions on
   crafted workloads whose outcome is worked out by hand in the comments. */
/* its own copy of the implementation (the other tests link build/libvidur.a):
   it calls private vidur__ functions */
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

#define MAXREQ 4096

typedef struct watch {
    const char *sched;
    int pp;
    int64_t cap_per_batch;      /* largest allowed batch */
    int64_t max_blocks;
    int completions[MAXREQ];
    int64_t tokens_scheduled[MAXREQ];   /* summed over the request's lifetime */
    int64_t decode_iterations[MAXREQ];  /* batches where the request was past its prefill */
    int32_t arrival_total[MAXREQ];      /* P + D as generated */
    int64_t restarts_seen;
    int64_t over_cap, over_memory, zero_tokens, bad_total, mixed_vllm, vllm_padded_over, sarathi_over;
    int64_t batches;
    int64_t batch_ids[64];              /* first batches, for the crafted tests */
    int64_t first_reqs[64][8];
    int32_t first_tokens[64][8];
    int32_t first_sizes[64];
    int nfirst;
    int32_t final_P[MAXREQ], final_D[MAXREQ], final_restarts[MAXREQ];
} watch;

static void on_sched(void *user, vidur_sim *sim, const vidur_replica *r, const vidur_batch *b)
{
    watch *w = (watch *)user;
    const vidur_replica_info *in = vidur_replica_get_info(r);
    int32_t i, nprefill = 0, ndecode = 0;
    int64_t maxtok = 0, prefill_tokens = 0;
    (void)sim;
    w->batches++;
    if (b->size > w->cap_per_batch) w->over_cap++;
    if (vidur_replica_num_allocated_blocks(r) > in->num_blocks) w->over_memory++;
    for (i = 0; i < b->size; i++) {
        const vidur_request *q = b->requests[i];
        if (b->num_tokens[i] <= 0) w->zero_tokens++;
        if (q->id < MAXREQ) {
            w->tokens_scheduled[q->id] += b->num_tokens[i];
            if (q->is_prefill_complete) w->decode_iterations[q->id]++;
            if (w->arrival_total[q->id] == 0) w->arrival_total[q->id] = q->arrival_num_prefill_tokens + q->arrival_num_decode_tokens;
            if (q->num_prefill_tokens + q->num_decode_tokens != w->arrival_total[q->id]) w->bad_total++;
        }
        if (q->is_prefill_complete) {
            ndecode++;
            if (b->num_tokens[i] != 1) w->zero_tokens++; /* a decode processes exactly one token */
        } else {
            nprefill++;
            prefill_tokens += b->num_tokens[i];
        }
        if (b->num_tokens[i] > maxtok) maxtok = b->num_tokens[i];
    }
    if (!strcmp(w->sched, "vllm")) {
        if (nprefill && ndecode) w->mixed_vllm++; /* vllm v0 never mixes prefills and decodes */
        if (nprefill && (int64_t)b->size * maxtok > in->params->max_tokens_in_batch) w->vllm_padded_over++;
    }
    if (!strcmp(w->sched, "sarathi") && prefill_tokens + ndecode > in->params->chunk_size + ndecode && prefill_tokens > in->params->chunk_size)
        w->sarathi_over++;
    if (w->nfirst < 64) {
        w->batch_ids[w->nfirst] = b->id;
        w->first_sizes[w->nfirst] = b->size;
        for (i = 0; i < b->size && i < 8; i++) {
            w->first_reqs[w->nfirst][i] = b->requests[i]->id;
            w->first_tokens[w->nfirst][i] = b->num_tokens[i];
        }
        w->nfirst++;
    }
}

static void on_end(void *user, vidur_sim *sim, const vidur_replica *r, const vidur_batch *b)
{
    watch *w = (watch *)user;
    (void)sim;
    (void)b;
    if (vidur_replica_num_allocated_blocks(r) > vidur_replica_get_info(r)->num_blocks || vidur_replica_num_allocated_blocks(r) < 0) w->over_memory++;
}

static void on_done(void *user, vidur_sim *sim, const vidur_request *q)
{
    watch *w = (watch *)user;
    (void)sim;
    if (q->id >= MAXREQ) return;
    w->completions[q->id]++;
    w->restarts_seen += q->num_restarts;
    w->final_P[q->id] = q->num_prefill_tokens;
    w->final_D[q->id] = q->num_decode_tokens;
    w->final_restarts[q->id] = q->num_restarts;
}

static const vidur_summary *run_sim(vidur_config *c, vidur_sim **sim)
{
    vidur_error err;
    *sim = NULL;
    if (vidur_sim_create(c, sim, &err) != VIDUR_OK) {
        printf("create: %s\n", err.message);
        CHECK(0);
        return NULL;
    }
    if (vidur_sim_run(*sim) != VIDUR_OK) {
        printf("run: %s\n", vidur_sim_error(*sim)->message);
        CHECK(0);
        return NULL;
    }
    return vidur_sim_summary(*sim);
}

/* Every scheduler x PP x memory pressure x router: caps, KV capacity, exactly-once completion,
   token accounting (P + D - 1 tokens and D - 1 decode iterations without restarts) and restart
   accounting (P + D is preserved; the summary counts every restart). */
TEST(test_invariant_matrix)
{
    static const char *scheds[] = {"vllm", "sarathi", "orca", "faster_transformer", "lightllm", "vllm_v1"};
    static const char *routers[] = {"round_robin", "random", "lor", "lop"};
    int si, pp, tight, gi;
    for (si = 0; si < 6; si++)
        for (pp = 1; pp <= 2; pp++)
            for (tight = 0; tight <= 1; tight++)
                for (gi = 0; gi < 4; gi++) {
                    static watch w;
                    vidur_config c;
                    vidur_sim *sim;
                    const vidur_summary *s;
                    char key[128];
                    int64_t i, lost = 0, twice = 0, bad_tokens = 0, bad_decodes = 0;
                    if ((!strcmp(scheds[si], "lightllm") || !strcmp(scheds[si], "vllm_v1")) && pp == 2) continue;
                    memset(&w, 0, sizeof w);
                    w.sched = scheds[si];
                    w.pp = pp;
                    vidur_config_init(&c);
                    SET(&c, "replica_scheduler_config_type", scheds[si]);
                    SET(&c, "global_scheduler_config_type", routers[gi]);
                    SET(&c, "replica_config_num_pipeline_stages", pp == 2 ? "2" : "1");
                    SET(&c, "cluster_config_num_replicas", "2");
                    SET(&c, "length_generator_config_type", "lognormal");
                    SET(&c, "lognormal_request_length_generator_config_max_tokens", "2048");
                    SET(&c, "synthetic_request_generator_config_num_requests", "200");
                    SET(&c, "poisson_request_interval_generator_config_qps", "12");
                    SET(&c, "metrics_config_write_metrics", "false");
                    snprintf(key, sizeof key, "%s_scheduler_config_batch_size_cap", scheds[si]);
                    SET(&c, key, "16");
                    if (tight) {
                        /* vllm/sarathi preempt under pressure; the others just wait */
                        if (!strcmp(scheds[si], "vllm_v1")) snprintf(key, sizeof key, "cache_config_num_blocks");
                        else snprintf(key, sizeof key, "%s_scheduler_config_num_blocks", scheds[si]);
                        SET(&c, key, !strcmp(scheds[si], "lightllm") ? "6000" : (!strcmp(scheds[si], "orca") || !strcmp(scheds[si], "faster_transformer")) ? "384" : "300");
                    }
                    c.observer.on_batch_scheduled = on_sched;
                    c.observer.on_batch_end = on_end;
                    c.observer.on_request_complete = on_done;
                    c.observer.user = &w;
                    w.cap_per_batch = 16 / (!strcmp(scheds[si], "orca") || !strcmp(scheds[si], "faster_transformer") ? 1 : pp);
                    s = run_sim(&c, &sim);
                    if (!s) { vidur_sim_destroy(sim); continue; }
                    for (i = 0; i < 200; i++) {
                        if (w.completions[i] == 0) lost++;
                        if (w.completions[i] > 1) twice++;
                        if (w.final_restarts[i] == 0 && w.completions[i] == 1) {
                            if (w.tokens_scheduled[i] != (int64_t)w.final_P[i] + w.final_D[i] - 1) bad_tokens++;
                            if (w.decode_iterations[i] != w.final_D[i] - 1) bad_decodes++;
                        }
                    }
                    if (lost || twice || bad_tokens || bad_decodes || w.over_cap || w.over_memory || w.zero_tokens || w.bad_total ||
                        w.mixed_vllm || w.vllm_padded_over || w.sarathi_over)
                        printf("  in %s pp=%d tight=%d %s\n", scheds[si], pp, tight, routers[gi]);
                    CHECK_EQ_INT(s->num_completed, 200);
                    CHECK_EQ_INT(lost, 0);
                    CHECK_EQ_INT(twice, 0);
                    CHECK_EQ_INT(bad_tokens, 0);
                    CHECK_EQ_INT(bad_decodes, 0);
                    CHECK_EQ_INT(w.over_cap, 0);
                    CHECK_EQ_INT(w.over_memory, 0);
                    CHECK_EQ_INT(w.zero_tokens, 0);
                    CHECK_EQ_INT(w.bad_total, 0);
                    CHECK_EQ_INT(w.mixed_vllm, 0);
                    CHECK_EQ_INT(w.vllm_padded_over, 0);
                    CHECK_EQ_INT(w.sarathi_over, 0);
                    CHECK_EQ_INT(w.restarts_seen, s->num_preemptions);
                    CHECK_EQ_INT(w.batches, s->num_batches);
                    {
                        int preempting = !strcmp(scheds[si], "vllm") || !strcmp(scheds[si], "sarathi") || !strcmp(scheds[si], "vllm_v1");
                        if (tight && preempting) CHECK(s->num_preemptions > 0);
                        if (!(tight && preempting)) CHECK_EQ_INT(s->num_preemptions, 0);
                    }
                    vidur_sim_destroy(sim);
                }
}

static const char *write_trace(const char *name, const char *body)
{
    static char path[256];
    FILE *f;
    snprintf(path, sizeof path, "/tmp/vidur_test_%s_%d.csv", name, (int)(size_t)&path % 100000);
    f = fopen(path, "w");
    if (!f) return NULL;
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens\n", f);
    fputs(body, f);
    fclose(f);
    return path;
}

static void trace_config(vidur_config *c, const char *sched, const char *path)
{
    vidur_config_init(c);
    SET(c, "request_generator_config_type", "trace_replay");
    SET(c, "trace_request_generator_config_trace_file", path);
    SET(c, "replica_scheduler_config_type", sched);
    SET(c, "metrics_config_write_metrics", "false");
}

/* vllm preemption, worked by hand (block size 16, 10 blocks, watermark int(0.01 x 10) = 0).
   Upstream's rule: a running request is schedulable only while at least one block is free,
   whether or not it needs a new block this iteration.
   r0 (P 32, D 50) arrives at 0; r1, r2 (same lengths) arrive during r0's prefill.
   - batch 0 [r0:32] (2 blocks); batch 1 [r1:32, r2:32] (prefills first; 6 blocks)
   - batch 2 decodes [r0, r1, r2] at processed 33: each takes a 3rd block (9 of 10)
   - batches 2..17: processed 33..48, three decodes each
   - batch 18 (processed 49): r0 takes a 4th block (10); r1 finds no free block, so the
     latest arrival r2 is restarted (P 49, D 33) and freed (7); r1 takes its 4th (8)
   - batch 34 (processed 65): r0 and r1 take 5th blocks (10 of 10)
   - batch 35 (processed 66): no block free for r0 -> r1 is restarted (P 66, D 16, frees 5);
     batch 35 is [r0] alone
   - batch 36: prefills first: r1 (new, needs ceil(66/16) = 5 blocks: 10 - 5 - 5 >= 0) is
     admitted; r2 (4 blocks) is not. */
TEST(test_vllm_preemption_by_hand)
{
    static watch w;
    vidur_config c;
    vidur_sim *sim;
    const vidur_summary *s;
    int k;
    const char *path = write_trace("preempt", "0,32,50\n0.001,32,50\n0.002,32,50\n");
    REQUIRE(path != NULL);
    memset(&w, 0, sizeof w);
    w.sched = "vllm";
    w.cap_per_batch = 128;
    trace_config(&c, "vllm", path);
    SET(&c, "vllm_scheduler_config_num_blocks", "10");
    c.observer.on_batch_scheduled = on_sched;
    c.observer.on_request_complete = on_done;
    c.observer.user = &w;
    s = run_sim(&c, &sim);
    if (s) {
        CHECK_EQ_INT(s->num_completed, 3);
        CHECK_EQ_INT(w.bad_total, 0);
        CHECK_EQ_INT(w.over_memory, 0);
        CHECK_EQ_INT(w.final_restarts[0], 0);
        CHECK_EQ_INT(w.final_P[0], 32);
        CHECK_EQ_INT(w.final_D[0], 50);
        CHECK(w.final_restarts[1] >= 1);
        CHECK(w.final_restarts[2] >= 1);
        CHECK_EQ_INT(w.first_sizes[0], 1);
        CHECK_EQ_INT(w.first_tokens[0][0], 32);
        CHECK_EQ_INT(w.first_sizes[1], 2);
        CHECK_EQ_INT(w.first_reqs[1][0], 1);
        CHECK_EQ_INT(w.first_reqs[1][1], 2);
        for (k = 2; k <= 17; k++) CHECK_EQ_INT(w.first_sizes[k], 3);
        CHECK_EQ_INT(w.first_sizes[18], 2);
        CHECK_EQ_INT(w.first_reqs[18][0], 0);
        CHECK_EQ_INT(w.first_reqs[18][1], 1);
        CHECK_EQ_INT(w.first_sizes[34], 2);
        CHECK_EQ_INT(w.first_sizes[35], 1);
        CHECK_EQ_INT(w.first_reqs[35][0], 0);
        CHECK_EQ_INT(w.first_sizes[36], 1);
        CHECK_EQ_INT(w.first_reqs[36][0], 1);
        CHECK_EQ_INT(w.first_tokens[36][0], 66);
    }
    vidur_sim_destroy(sim);
    remove(path);
}

/* vllm padded prefill limit: four P=1500 requests at t=0 and max_tokens_in_batch 4096:
   2 x 1500 = 3000 fits, 3 x 1500 = 4500 does not -> [0,1], then [2,3], then decodes [0,1,2,3]. */
TEST(test_vllm_padded_limit)
{
    static watch w;
    vidur_config c;
    vidur_sim *sim;
    const vidur_summary *s;
    const char *path = write_trace("padded", "0,1500,3\n0,1500,3\n0,1500,3\n0,1500,3\n");
    REQUIRE(path != NULL);
    memset(&w, 0, sizeof w);
    w.sched = "vllm";
    w.cap_per_batch = 128;
    trace_config(&c, "vllm", path);
    c.observer.on_batch_scheduled = on_sched;
    c.observer.user = &w;
    s = run_sim(&c, &sim);
    if (s) {
        CHECK_EQ_INT(w.first_sizes[0], 2);
        CHECK_EQ_INT(w.first_reqs[0][0], 0);
        CHECK_EQ_INT(w.first_reqs[0][1], 1);
        CHECK_EQ_INT(w.first_tokens[0][0], 1500);
        CHECK_EQ_INT(w.first_sizes[1], 2);
        CHECK_EQ_INT(w.first_reqs[1][0], 2);
        CHECK_EQ_INT(w.first_reqs[1][1], 3);
        CHECK_EQ_INT(w.first_sizes[2], 4);
        CHECK_EQ_INT(w.first_tokens[2][0], 1);
        /* D = 3: two decode batches of all four, so 4 batches in total */
        CHECK_EQ_INT(s->num_batches, 4);
    }
    vidur_sim_destroy(sim);
    remove(path);
}

/* sarathi chunking (chunk 512): r0 (P 1200, D 3) and r1 (P 300, D 2) at t=0.
   batch 0: r0 512 (budget used up, r1 gets min(300, 0) = 0 -> not admitted)
   batch 1: r0 512 (same)
   batch 2: r0 176, then r1 min(300, 512 - 176) = 300
   batch 3: both past their prefill: decodes r0 1, r1 1 -> r1 (D 2) is done
   batch 4: r0 1 -> done (D - 1 = 2 decode iterations). */
TEST(test_sarathi_chunks_by_hand)
{
    static watch w;
    vidur_config c;
    vidur_sim *sim;
    const vidur_summary *s;
    const char *path = write_trace("chunks", "0,1200,3\n0,300,2\n");
    REQUIRE(path != NULL);
    memset(&w, 0, sizeof w);
    w.sched = "sarathi";
    w.cap_per_batch = 128;
    trace_config(&c, "sarathi", path);
    c.observer.on_batch_scheduled = on_sched;
    c.observer.user = &w;
    s = run_sim(&c, &sim);
    if (s) {
        CHECK_EQ_INT(s->num_batches, 5);
        CHECK_EQ_INT(w.first_sizes[0], 1);
        CHECK_EQ_INT(w.first_tokens[0][0], 512);
        CHECK_EQ_INT(w.first_sizes[1], 1);
        CHECK_EQ_INT(w.first_tokens[1][0], 512);
        CHECK_EQ_INT(w.first_sizes[2], 2);
        CHECK_EQ_INT(w.first_tokens[2][0], 176);
        CHECK_EQ_INT(w.first_reqs[2][1], 1);
        CHECK_EQ_INT(w.first_tokens[2][1], 300);
        CHECK_EQ_INT(w.first_sizes[3], 2);
        CHECK_EQ_INT(w.first_tokens[3][0], 1);
        CHECK_EQ_INT(w.first_tokens[3][1], 1);
        CHECK_EQ_INT(w.first_sizes[4], 1);
        CHECK_EQ_INT(w.first_reqs[4][0], 0);
    }
    vidur_sim_destroy(sim);
    remove(path);
}

static double g_first_batch_end;
static void on_end_time(void *user, vidur_sim *sim, const vidur_replica *r, const vidur_batch *b)
{
    (void)user; (void)sim; (void)r;
    if (b->id == 0) g_first_batch_end = b->completed_at;
}

/* Tie-break (simulator.md §4, upstream): an arrival at exactly the time a batch ends is handled
   before the events created during the run. r1 arrives at the end of r0's prefill; the arrival
   routes r1 first, so vllm's next batch is r1's prefill (prefills first), not r0's decode. */
TEST(test_arrival_tie_break)
{
    static watch w;
    vidur_config c;
    vidur_sim *sim;
    const vidur_summary *s;
    char body[256];
    const char *path = write_trace("tie1", "0,16,2\n");
    REQUIRE(path != NULL);
    trace_config(&c, "vllm", path);
    c.observer.on_batch_end = on_end_time;
    s = run_sim(&c, &sim);
    vidur_sim_destroy(sim);
    remove(path);
    REQUIRE(s != NULL && g_first_batch_end > 0);
    snprintf(body, sizeof body, "0,16,2\n%.17g,16,2\n", g_first_batch_end);
    path = write_trace("tie2", body);
    REQUIRE(path != NULL);
    memset(&w, 0, sizeof w);
    w.sched = "vllm";
    w.cap_per_batch = 128;
    trace_config(&c, "vllm", path);
    c.observer.on_batch_scheduled = on_sched;
    c.observer.user = &w;
    s = run_sim(&c, &sim);
    if (s) {
        CHECK_EQ_INT(w.first_sizes[1], 1);
        CHECK_EQ_INT(w.first_reqs[1][0], 1);
        CHECK_EQ_INT(w.first_tokens[1][0], 16);
        CHECK_EQ_INT(w.first_sizes[2], 2); /* then both decode together */
    }
    vidur_sim_destroy(sim);
    remove(path);
}

static int g_replica_of[8];
static void on_done_replica(void *user, vidur_sim *sim, const vidur_request *q)
{
    (void)user; (void)sim;
    if (q->id < 8) g_replica_of[q->id] = q->replica_id;
}

/* lop ([F]): least outstanding prompt tokens, released at prefill end, ties broken by
   CPython's random.Random(67).choice over the tied replicas in id order. CPython gives
   choice([0, 1]) = 0, choice([1]) = 1, choice([1]) = 1, choice([0, 1]) = 1 for that stream.
   r0 (P 100) at 0: tie [0, 0] -> 0; pending [100, 0]
   r1 (P 50) during r0's prefill: replica 1 alone is minimal -> 1; pending [100, 50]
   r2 (P 10) likewise -> 1; pending [100, 60]
   r3 (P 30) at t = 10, after every prefill ended: tie [0, 0] -> the fourth draw -> 1 */
TEST(test_lop_by_hand)
{
    vidur_config c;
    vidur_sim *sim;
    const vidur_summary *s;
    const char *path = write_trace("lop", "0,100,5\n0.0001,50,5\n0.0002,10,5\n10,30,5\n");
    REQUIRE(path != NULL);
    trace_config(&c, "sarathi", path);
    SET(&c, "global_scheduler_config_type", "lop");
    SET(&c, "cluster_config_num_replicas", "2");
    memset(g_replica_of, -1, sizeof g_replica_of);
    c.observer.on_request_complete = on_done_replica;
    s = run_sim(&c, &sim);
    if (s) {
        CHECK_EQ_INT(s->num_completed, 4);
        CHECK_EQ_INT(g_replica_of[0], 0);
        CHECK_EQ_INT(g_replica_of[1], 1);
        CHECK_EQ_INT(g_replica_of[2], 1);
        CHECK_EQ_INT(g_replica_of[3], 1);
    }
    vidur_sim_destroy(sim);
    remove(path);
}

/* the event heap pops by (time, creation sequence) whatever the push order */
TEST(test_event_heap_order)
{
    vidur__heap h;
    vidur__event e;
    static const double times[] = {3.0, 1.0, 2.0, 1.0, 1.0, 0.5, 2.0, 3.0};
    int i;
    double last_t = -1;
    uint64_t last_seq = 0;
    memset(&h, 0, sizeof h);
    for (i = 0; i < 8; i++) {
        memset(&e, 0, sizeof e);
        e.time = times[i];
        e.seq = (uint64_t)(100 - i * 7) % 50; /* creation order unrelated to push order */
        e.type = i;
        vidur__heap_push(&h, &e);
    }
    for (i = 0; i < 8; i++) {
        vidur__heap_pop(&h, &e);
        CHECK(e.time > last_t || (e.time == last_t && e.seq > last_seq));
        last_t = e.time;
        last_seq = e.seq;
    }
    CHECK_EQ_INT(h.n, 0);
    VIDUR_FREE(h.ev);
}

/* as the simulation uses it: sequence numbers grow, events are pushed at the current time (the
   ring; bursts of 100 overflow its 64 places into the heap) or later, pops interleave with
   pushes, and arrivals move the clock; every pop must be the (time, seq) minimum of what is
   pending, found here by a linear scan */
TEST(test_event_queue_now_ring)
{
    enum { MAXP = 4096 };
    static vidur__event pend[MAXP];
    vidur__heap h;
    vidur__event e;
    vidur__mt rng;
    int np = 0, step, bad = 0, pops = 0, spilled = 0;
    uint64_t seq = 0;
    double now = 0;
    memset(&h, 0, sizeof h);
    vidur__mt_seed_python(&rng, 7);
    for (step = 0; step < 20000; step++) {
        uint32_t r = vidur__mt_randbelow(&rng, 100);
        if (r < 55 && np < MAXP - 100) {
            int k, burst = r < 2 ? 100 : 1; /* now and then more than the ring holds */
            for (k = 0; k < burst; k++) {
                memset(&e, 0, sizeof e);
                e.time = vidur__mt_randbelow(&rng, 3) ? now : now + (double)vidur__mt_randbelow(&rng, 4);
                e.seq = ++seq;
                bad += !vidur__heap_push(&h, &e);
                pend[np++] = e;
            }
            if (h.nq_n == VIDUR__NOWQ) spilled = 1;
        } else if (r < 60 && np == 0) {
            now += 0.5; /* an arrival moves the clock when nothing is queued at the current time */
            vidur__heap_set_now(&h, now);
        } else if (np > 0) {
            int i, m = 0;
            for (i = 1; i < np; i++)
                if (pend[i].time < pend[m].time || (pend[i].time == pend[m].time && pend[i].seq < pend[m].seq)) m = i;
            bad += vidur__heap_empty(&h) || vidur__heap_top(&h)->seq != pend[m].seq;
            vidur__heap_pop(&h, &e);
            bad += e.seq != pend[m].seq;
            now = e.time;
            pend[m] = pend[--np];
            pops++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(pops > 5000);
    CHECK(spilled);
    CHECK_EQ_INT(vidur__heap_empty(&h), np == 0);
    VIDUR_FREE(h.ev);
}

/* CPython compatibility of the Poisson stream: random.seed(42); random.random() gives
   0.6394267984578837, 0.025010755222666936, 0.27502931836911926 (checked with CPython 3.11). */
TEST(test_python_random)
{
    vidur__mt r;
    vidur__mt_seed_python(&r, 42);
    CHECK(vidur__mt_random(&r) == 0.6394267984578837);
    CHECK(vidur__mt_random(&r) == 0.025010755222666936);
    CHECK(vidur__mt_random(&r) == 0.27502931836911926);
    /* random.seed(42); random.randint(1, 4) == 1 */
    vidur__mt_seed_python(&r, 42);
    CHECK_EQ_INT(vidur__mt_randbelow(&r, 4) + 1, 1);
}

/* The stage-time memo's key hash is FNV-1a 64 over the eight key words (issue 15 item 10: its
   offset basis had lost its last digit). Reference: the published basis and
   prime, spelled here in hex, applied word by word. */
TEST(test_memo_hash_is_fnv1a)
{
    vidur_batch_shape sh;
    int64_t key[8], want_key[8] = {136, 8, 1024, 1, 128, 128, 9, 9};
    uint64_t want = 0xcbf29ce484222325ull;
    int i;
    memset(&sh, 0, sizeof sh);
    sh.total_tokens = 136;
    sh.num_decode = 8;
    sh.decode_kv = 1024;
    sh.num_prefill = 1;
    sh.prefill_kv = 128;
    sh.prefill_chunk = 128;
    sh.num_requests = 9;
    sh.num_sampled = 9;
    for (i = 0; i < 8; i++) want = (want ^ (uint64_t)want_key[i]) * 0x100000001b3ull;
    CHECK(vidur__shape_key(&sh, key) == want);
    CHECK(memcmp(key, want_key, sizeof key) == 0);
    /* the all-zero key: the basis times the prime eight times */
    memset(&sh, 0, sizeof sh);
    want = 0xcbf29ce484222325ull;
    for (i = 0; i < 8; i++) want *= 0x100000001b3ull;
    CHECK(vidur__shape_key(&sh, key) == want);
}

int main(void)
{
    RUN_TEST(test_memo_hash_is_fnv1a);
    RUN_TEST(test_event_heap_order);
    RUN_TEST(test_event_queue_now_ring);
    RUN_TEST(test_python_random);
    RUN_TEST(test_arrival_tie_break);
    RUN_TEST(test_lop_by_hand);
    RUN_TEST(test_vllm_preemption_by_hand);
    RUN_TEST(test_vllm_padded_limit);
    RUN_TEST(test_sarathi_chunks_by_hand);
    RUN_TEST(test_invariant_matrix);
    return test_finish();
}
