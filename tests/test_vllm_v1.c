/* test_vllm_v1.c - the fork's vllm_v1 scheduler and its prefix-caching KV cache manager on
   crafted traces; every expected value is worked out by hand in the comments
   (schedulers.md §3.6 and §4). Block size 16 throughout. */
/* its own copy of the implementation (the other tests link build/libvidur.a):
   it calls private vidur__ functions */
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

typedef struct log_t {
    int n;
    int size[64];
    int64_t req[64][4];
    int32_t tok[64][4];
    int restarts[8], cached[8], P[8], D[8], done[8];
} log_t;

static void on_sched(void *user, vidur_sim *sim, const vidur_replica *r, const vidur_batch *b)
{
    log_t *l = (log_t *)user;
    int i;
    (void)sim; (void)r;
    if (l->n >= 64) return;
    l->size[l->n] = b->size;
    for (i = 0; i < b->size && i < 4; i++) {
        l->req[l->n][i] = b->requests[i]->id;
        l->tok[l->n][i] = b->num_tokens[i];
    }
    l->n++;
}

static void on_done(void *user, vidur_sim *sim, const vidur_request *q)
{
    log_t *l = (log_t *)user;
    (void)sim;
    if (q->id >= 8) return;
    l->done[q->id]++;
    l->restarts[q->id] = q->num_restarts;
    l->cached[q->id] = q->num_prefill_tokens_cached;
    l->P[q->id] = q->num_prefill_tokens;
    l->D[q->id] = q->num_decode_tokens;
}

static const char *trace_path = "/tmp/vidur_test_v1_trace.csv";

static int write_trace(const char *rows)
{
    FILE *f = fopen(trace_path, "w");
    if (!f) return 0;
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens,session_id,block_hash_ids\n", f);
    fputs(rows, f);
    fclose(f);
    return 1;
}

static vidur_sim *run(vidur_config *c, log_t *l)
{
    vidur_sim *sim = NULL;
    vidur_error err;
    memset(l, 0, sizeof *l);
    c->observer.on_batch_scheduled = on_sched;
    c->observer.on_request_complete = on_done;
    c->observer.user = l;
    if (vidur_sim_create(c, &sim, &err) != VIDUR_OK) {
        printf("create: %s\n", err.message);
        CHECK(0);
        return NULL;
    }
    if (vidur_sim_run(sim) != VIDUR_OK) {
        printf("run: %s\n", vidur_sim_error(sim)->message);
        CHECK(0);
    }
    return sim;
}

static void base(vidur_config *c)
{
    vidur_config_init(c);
    SET(c, "request_generator_config_type", "trace_replay");
    SET(c, "trace_request_generator_config_trace_file", trace_path);
    SET(c, "replica_scheduler_config_type", "vllm_v1");
    SET(c, "metrics_config_write_metrics", "false");
}

/* Token budget and chunking (chunk 512): r0 and r1 (P 600, D 3) at t = 0.
   b0: waiting r0 gets min(600, 512) = 512; budget 0.
   b1: running r0 gets its last 88; waiting r1 gets min(600, 424) = 424.
   b2: r0 decodes 1; r1 finishes its prompt with 176.
   b3: r0 1 (its D - 1 = 2nd decode: done), r1 1.   b4: r1 1 (done). */
TEST(test_budget_and_chunks)
{
    vidur_config c;
    log_t l;
    vidur_sim *sim;
    REQUIRE(write_trace("0,600,3,,\n0,600,3,,\n"));
    base(&c);
    sim = run(&c, &l);
    CHECK_EQ_INT(l.n, 5);
    CHECK_EQ_INT(l.size[0], 1);
    CHECK_EQ_INT(l.tok[0][0], 512);
    CHECK_EQ_INT(l.size[1], 2);
    CHECK_EQ_INT(l.tok[1][0], 88);
    CHECK_EQ_INT(l.req[1][1], 1);
    CHECK_EQ_INT(l.tok[1][1], 424);
    CHECK_EQ_INT(l.tok[2][0], 1);
    CHECK_EQ_INT(l.tok[2][1], 176);
    CHECK_EQ_INT(l.size[3], 2);
    CHECK_EQ_INT(l.size[4], 1);
    CHECK_EQ_INT(l.req[4][0], 1);
    CHECK_EQ_INT(l.done[0], 1);
    CHECK_EQ_INT(l.done[1], 1);
    vidur_sim_destroy(sim);
}

/* Preemption order (6 blocks, no pre-allocation, no caching): r0, r1 (P 32, D 40) at t = 0.
   b0 [r0:32, r1:32] takes 2 + 2 blocks. Each decode at processed p needs ceil((p + 1) / 16)
   blocks: both take a 3rd at p = 33 (6 of 6). At p = 48 r0 needs a 4th: none free, so the most
   recently admitted request, r1, is restarted (P 48, D 24; its 3 blocks freed) and nothing new is
   admitted in that iteration: batch 16 (p = 48 for r0) is [r0] alone; batch 15 was [r0, r1]. r1
   cannot come back (48 tokens = 3 blocks, 2 free) until r0 completes. */
TEST(test_preemption_order)
{
    vidur_config c;
    log_t l;
    vidur_sim *sim;
    REQUIRE(write_trace("0,32,40,,\n0,32,40,,\n"));
    base(&c);
    SET(&c, "cache_config_num_blocks", "6");
    SET(&c, "cache_config_num_preallocate_tokens", "0");
    sim = run(&c, &l);
    CHECK_EQ_INT(l.size[0], 2);
    CHECK_EQ_INT(l.size[15], 2);
    CHECK_EQ_INT(l.size[16], 1);
    CHECK_EQ_INT(l.req[16][0], 0);
    CHECK_EQ_INT(l.restarts[0], 0);
    CHECK_EQ_INT(l.restarts[1], 1);
    CHECK_EQ_INT(l.P[1], 48);
    CHECK_EQ_INT(l.D[1], 24);
    CHECK_EQ_INT(l.done[0] + l.done[1], 2);
    /* r1 stays out until r0 has finished: r0's 40 tokens of output end at batch 40 (b0 + 39 decodes) */
    CHECK_EQ_INT(l.size[39], 1);
    CHECK_EQ_INT(l.req[40][0], 1);
    CHECK_EQ_INT(l.tok[40][0], 48);
    vidur_sim_destroy(sim);
}

/* Prefix hits (plenty of memory). r0 (P 64, D 2, hashes [1 2 3 4]: 66 - 4 x 16 = 2 tokens in no
   full block) at 0; r1 (P 64, hashes [1 2 5 6]) at 10; r2 (P 64, hashes [1 2 3 4]) at 20.
   r0: no hits. r1: 1, 2 hit, 5 misses -> 32 tokens cached, 32 computed. r2: all 4 hit = the
   whole prompt, so the last block is recomputed: 48 cached, 16 computed.
   Statistics: 3 requests, 12 hash queries, 0 + 2 + 4 = 6 block hits; replica totals:
   cached 0 + 32 + 48 = 80 of 3 x 64 = 192 prompt tokens. */
TEST(test_prefix_hits)
{
    vidur_config c;
    log_t l;
    vidur_sim *sim;
    vidur_replica *rep;
    REQUIRE(write_trace("0,64,2,1,\"[1, 2, 3, 4]\"\n10,64,2,2,\"[1, 2, 5, 6]\"\n20,64,2,1,\"[1, 2, 3, 4]\"\n"));
    base(&c);
    SET(&c, "cache_config_enable_prefix_caching", "true");
    sim = run(&c, &l);
    REQUIRE(sim != NULL);
    CHECK_EQ_INT(l.cached[0], 0);
    CHECK_EQ_INT(l.cached[1], 32);
    CHECK_EQ_INT(l.cached[2], 48);
    /* the prefill batches carry only the uncached tokens */
    CHECK_EQ_INT(l.tok[0][0], 64);
    CHECK_EQ_INT(l.tok[2][0], 32);
    CHECK_EQ_INT(l.tok[4][0], 16);
    rep = vidur_sim_replica(sim, 0);
    CHECK_EQ_INT(rep->kvm->stat_requests, 3);
    CHECK_EQ_INT(rep->kvm->stat_queries, 12);
    CHECK_EQ_INT(rep->kvm->stat_hits, 6);
    CHECK_EQ_INT(rep->prefix_cached_tokens, 80);
    CHECK_EQ_INT(rep->prefix_total_tokens, 192);
    {
        const vidur_summary *s = vidur_sim_summary(sim);
        CHECK_NEAR(s->replica[0].prefix_hit_rate, 80.0 / 192.0, 1e-12);
        CHECK_EQ_INT(s->replica[0].prefix_cached_tokens, 80);
    }
    vidur_sim_destroy(sim);
    /* without prefix caching nothing is credited */
    base(&c);
    sim = run(&c, &l);
    CHECK_EQ_INT(l.cached[2], 0);
    CHECK_EQ_INT(l.tok[4][0], 64);
    vidur_sim_destroy(sim);
}

/* Eviction order under memory pressure (8 blocks, pre-allocation 64 tokens = 4 blocks).
   r0 (P 64, D 2, [1 2 3 4]) takes 4 + 4 = 8 blocks (ids 0..7, hashes on 0..3) and frees them
   tail first, so the free queue is 7 6 5 4 3 2 1 0. r1 (P 32, D 2, [10 11]) takes 2 + 4 = 6
   blocks from the front: 7 6 5 4 (no hash), then 3 and 2 (hashes 4 and 3: evicted). r2 (P 64,
   [1 2 3 4]) finds 1 and 2 (blocks 0, 1) but not 3: 32 tokens cached instead of 48. */
TEST(test_eviction_order)
{
    vidur_config c;
    log_t l;
    vidur_sim *sim;
    REQUIRE(write_trace("0,64,2,1,\"[1, 2, 3, 4]\"\n10,32,2,2,\"[10, 11]\"\n20,64,2,1,\"[1, 2, 3, 4]\"\n"));
    base(&c);
    SET(&c, "cache_config_enable_prefix_caching", "true");
    SET(&c, "cache_config_num_blocks", "8");
    sim = run(&c, &l);
    REQUIRE(sim != NULL);
    CHECK_EQ_INT(l.cached[0], 0);
    CHECK_EQ_INT(l.cached[1], 0);
    CHECK_EQ_INT(l.cached[2], 32);
    CHECK_EQ_INT(vidur_sim_replica(sim, 0)->kvm->stat_hits, 2);
    vidur_sim_destroy(sim);
}

/* the first block holding hash, or -1 */
static int32_t kvm_lookup_(const vidur__kvm *k, int64_t hash)
{
    const vidur__kvm_group *e = vidur__kvm_find(k, (uint64_t)hash >> 4);
    return e ? e->first[(uint64_t)hash & (VIDUR__KVM_GROUP - 1)] : -1;
}

/* a router can ask a replica what it has cached, without touching the statistics */
TEST(test_prefix_lookup_api)
{
    vidur__kvm k;
    vidur__request_ex x; /* the library's request: its KV block list is private */
    vidur_request *q = &x.pub;
    static const int64_t h[] = {7, 8, 9};
    int32_t blk[2] = {-1, -1};
    memset(&x, 0, sizeof x);
    q->num_prefill_tokens = 48;
    q->num_decode_tokens = 2;
    q->block_hash_ids = h;
    q->num_block_hash_ids = 3;
    x.kv_cached_memo = -1;
    REQUIRE(vidur__kvm_init(&k, 4, 16, 1, 0));
    CHECK(vidur__kvm_allocate(&k, q, 48, NULL, 0)); /* 3 blocks hashed 7 8 9 */
    CHECK_EQ_INT(k.free_count, 1);
    CHECK_EQ_INT(vidur__kvm_peek_hits(&k, q, blk, 2), 2);
    CHECK_EQ_INT(blk[0], 0);
    CHECK_EQ_INT(blk[1], 1);
    vidur__kvm_release(&k, q);
    CHECK_EQ_INT(k.free_count, 4);
    CHECK_EQ_INT(k.stat_requests, 0);
    /* freed blocks stay cached (lazy eviction); the tail (block 2) went back first, so the
       queue is 3 (never used), 2, 1, 0 */
    CHECK_EQ_INT(kvm_lookup_(&k, 9), 2);
    CHECK_EQ_INT(vidur__kvm_pop_front(&k), 3);
    CHECK_EQ_INT(vidur__kvm_pop_front(&k), 2);
    CHECK_EQ_INT(vidur__kvm_pop_front(&k), 1);
    CHECK_EQ_INT(vidur__kvm_pop_front(&k), 0);
    CHECK_EQ_INT(k.free_count, 0);
    VIDUR_FREE(x.kv_blocks);
    vidur__kvm_free(&k);
}

/* the hash map is keyed by groups of 16 consecutive hash values: hashes in one group, in
   neighbouring groups, negative ones and duplicates (two blocks with one hash) all map back to
   the right block; the group table grows past its first size; evicting a group's last hash
   removes the group without breaking the probe chains of the others */
TEST(test_prefix_hash_groups)
{
    enum { NB = 4096 };
    vidur__kvm k;
    int64_t i;
    int32_t blk;
    int ok = 1;
    REQUIRE(vidur__kvm_init(&k, NB, 16, 1, 0));
    CHECK_EQ_INT(k.hcap, 512); /* a power of two >= NB / 8 */
    /* block i holds hash 1000003 * i - 5000 (one group each: forces growth) */
    for (i = 0; i < 3000; i++) ok &= vidur__kvm_map_add(&k, 1000003 * i - 5000, (int32_t)i);
    REQUIRE(ok);
    CHECK_EQ_INT(k.hcount, 3000);
    CHECK(k.hcap >= 6000);
    for (i = 0; i < 3000; i++)
        if (kvm_lookup_(&k, 1000003 * i - 5000) != (int32_t)i) break;
    CHECK_EQ_INT(i, 3000);
    CHECK_EQ_INT(kvm_lookup_(&k, 1000003LL * 5 - 5001), -1); /* same group, other hash */
    CHECK_EQ_INT(kvm_lookup_(&k, -5000), 0);                /* negative hash */
    /* blocks 3000..3031: hashes 32 consecutive values (two groups); block 3032 duplicates one */
    for (i = 0; i < 32; i++) ok &= vidur__kvm_map_add(&k, 1LL << 40 | i, (int32_t)(3000 + i));
    REQUIRE(ok);
    REQUIRE(vidur__kvm_map_add(&k, 1LL << 40 | 17, 3032));
    CHECK_EQ_INT(k.hcount, 3002);
    CHECK_EQ_INT(kvm_lookup_(&k, 1LL << 40 | 17), 3017); /* the first inserted */
    vidur__kvm_evict(&k, 3017);
    CHECK_EQ_INT(kvm_lookup_(&k, 1LL << 40 | 17), 3032); /* then the duplicate */
    CHECK(!VIDUR__KVM_HASHED(&k, 3017));
    CHECK(VIDUR__KVM_HASHED(&k, 3032));
    vidur__kvm_evict(&k, 3032);
    CHECK_EQ_INT(kvm_lookup_(&k, 1LL << 40 | 17), -1);
    CHECK_EQ_INT(kvm_lookup_(&k, 1LL << 40 | 16), 3016);
    /* empty the first group of the run: it goes, the second stays */
    for (i = 0; i < 16; i++) vidur__kvm_evict(&k, (int32_t)(3000 + i));
    CHECK_EQ_INT(k.hcount, 3001);
    CHECK_EQ_INT(kvm_lookup_(&k, 1LL << 40 | 3), -1);
    CHECK_EQ_INT(kvm_lookup_(&k, 1LL << 40 | 31), 3031);
    /* evict every other single-hash group: the rest are still found (backward-shift deletion) */
    for (i = 0; i < 3000; i += 2) vidur__kvm_evict(&k, (int32_t)i);
    CHECK_EQ_INT(k.hcount, 1501);
    for (i = 0; i < 3000; i++)
        if (kvm_lookup_(&k, 1000003 * i - 5000) != (i % 2 ? (int32_t)i : -1)) break;
    CHECK_EQ_INT(i, 3000);
    blk = kvm_lookup_(&k, 1000003LL * 2999 - 5000);
    CHECK_EQ_INT(blk, 2999);
    vidur__kvm_free(&k);
}

/* planner used by vllm_v1 (the fork's): schedulers.md §1 worked examples */
TEST(test_token_planner)
{
    vidur_memory_plan p;
    vidur_error err;
    CHECK_EQ_INT(vidur_memory_plan_compute_tokens(vidur_find_model(NULL, "meta-llama/Llama-2-7b-hf"), vidur_find_device(NULL, "a100"), 1, 1, 0.1, 16, &p, &err), VIDUR_OK);
    CHECK_EQ_INT(p.num_blocks, 7672);
    CHECK_EQ_INT(p.kv_bytes_per_request, 524288); /* bytes per token here */
    CHECK_EQ_INT(vidur_memory_plan_compute_tokens(vidur_find_model(NULL, "meta-llama/Meta-Llama-3-8B"), vidur_find_device(NULL, "a100"), 1, 1, 0.1, 16, &p, &err), VIDUR_OK);
    CHECK_EQ_INT(p.num_blocks, 30208);
}

/* Trace CSV forms the streaming reader must take: CRLF line ends, a quoted hash list that spans
   lines, a row longer than the reader's 64 KiB read-ahead block, and no line end after the last
   row. Request 0: hashes [7, 8, 9] written over two lines; request 1: 12000 hashes 0..11999
   (about 70 KiB of text); request 2: [12000]; request 3: the 64-bit extremes; request 4: runs broken
   by jumps, a step back and a repeat (the trace keeps runs of consecutive values, and writes a
   request's list out at arrival into storage reused across requests). A text column before the
   hashes holds escaped quotes ("" inside a quoted field), which must not disturb the fields
   after it. */
typedef struct hashlog { int n[5]; int64_t first[5], last[5], sum[5], all[16]; } hashlog;

static void on_done_hashes(void *user, vidur_sim *sim, const vidur_request *q)
{
    hashlog *h = (hashlog *)user;
    (void)sim;
    int32_t i;
    if (q->id >= 5) return;
    for (i = 0; i < q->num_block_hash_ids; i++) {
        h->sum[q->id] += q->block_hash_ids[i];
        if (q->id == 4 && i < 16) h->all[i] = q->block_hash_ids[i];
    }
    h->n[q->id] = q->num_block_hash_ids;
    h->first[q->id] = q->num_block_hash_ids ? q->block_hash_ids[0] : -1;
    h->last[q->id] = q->num_block_hash_ids ? q->block_hash_ids[q->num_block_hash_ids - 1] : -1;
}

TEST(test_trace_csv_forms)
{
    vidur_config c;
    vidur_sim *sim = NULL;
    vidur_error err;
    hashlog h;
    int i;
    FILE *f = fopen(trace_path, "wb");
    REQUIRE(f != NULL);
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens,session_id,note,block_hash_ids\r\n", f);
    fputs("0,40,2,1,\"say \"\"hi\"\", then go\",\"[7, 8,\r\n 9]\"\r\n", f);
    /* 12,000 hashes need a request of at least 12,000 blocks of 16 tokens (a longer list is refused) */
    fputs("0.5,192000,2,2,\"\"\"\"\"\",\"[", f);
    for (i = 0; i < 12000; i++) fprintf(f, "%s%d", i ? ", " : "", i);
    fputs("]\"\r\n", f);
    fputs("1,16,2,3,plain,\"[12000]\"\n", f); /* continues the previous row's run: still its own list */
    fputs("1.5,32,2,4,\"\",\"[9223372036854775807, -9223372036854775808]\"\n", f); /* the 64-bit extremes */
    fputs("20,160,2,5,x,\"[3, 4, 10, 9, 9, 11, 12, -1, 0, 1]\"", f);
    fclose(f);
    memset(&h, 0, sizeof h);
    base(&c);
    c.observer.on_request_complete = on_done_hashes;
    c.observer.user = &h;
    if (vidur_sim_create(&c, &sim, &err) != VIDUR_OK) printf("create: %s\n", err.message);
    CHECK(sim != NULL);
    if (!sim) return;
    CHECK_EQ_INT(vidur_sim_run(sim), VIDUR_OK);
    CHECK_EQ_INT(vidur_sim_summary(sim)->num_completed, 5);
    CHECK_EQ_INT(h.n[0], 3);
    CHECK_EQ_INT(h.first[0], 7);
    CHECK_EQ_INT(h.last[0], 9);
    CHECK_EQ_INT(h.n[1], 12000);
    CHECK_EQ_INT(h.first[1], 0);
    CHECK_EQ_INT(h.last[1], 11999);
    CHECK_EQ_INT(h.n[2], 1);
    CHECK_EQ_INT(h.last[2], 12000);
    CHECK_EQ_INT(h.n[3], 2);
    CHECK(h.first[3] == INT64_MAX);
    CHECK(h.last[3] == INT64_MIN);
    CHECK_EQ_INT(h.sum[1], 11999 * 12000 / 2);
    CHECK_EQ_INT(h.n[4], 10);
    {
        static const int64_t want[10] = {3, 4, 10, 9, 9, 11, 12, -1, 0, 1};
        for (i = 0; i < 10; i++) CHECK_EQ_INT(h.all[i], want[i]);
    }
    vidur_sim_destroy(sim);
}

int main(void)
{
    RUN_TEST(test_budget_and_chunks);
    RUN_TEST(test_preemption_order);
    RUN_TEST(test_prefix_hits);
    RUN_TEST(test_eviction_order);
    RUN_TEST(test_prefix_lookup_api);
    RUN_TEST(test_prefix_hash_groups);
    RUN_TEST(test_token_planner);
    RUN_TEST(test_trace_csv_forms);
    remove(trace_path);
    return test_finish();
}
