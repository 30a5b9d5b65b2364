/* replica_scheduler.c - a replica scheduler of your own: shortest prompt first, chunked prefill.

   Each iteration spends a token budget (spf_scheduler_config_chunk_size, a key this plug-in
   declares): one token for every running request past its prompt, then prompt chunks, and then
   admits waiting requests, shortest prompt first, while their KV blocks fit. A request reserves
   the blocks for its whole length when admitted, so nothing is ever preempted.

   As a program (built and run by `make test`; after `make install`:
   cc -rdynamic replica_scheduler.c $(pkg-config --cflags --libs vidur) -ldl), with vidur's
   command line (vidur_cli.h):
       build/examples/replica_scheduler data/default.ini --replica_scheduler_config_type spf
   (with no arguments it runs a small demonstration). As a plug-in for the vidur program:
       cc -shared -fPIC -DVIDUR_SPF_PLUGIN -I. examples/replica_scheduler.c -o spf.so
       build/vidur --plugin ./spf.so --replica_scheduler_config_type spf --spf_scheduler_config_chunk_size 256

   The framework's side (vidur.h, "Replica schedulers"): next_batch is called while fewer than
   PP batches are in flight; at a batch end the requests' token counts are already advanced
   when on_batch_end runs, and on_batch_end must free the KV blocks of the requests that
   completed (vidur_replica_free): the framework recycles them right after. */
#ifndef VIDUR_SPF_PLUGIN
#define _POSIX_C_SOURCE 200809L /* vidur_cli.h's implementation below */
#endif
#include "../vidur.h" /* the implementation is linked: build/libvidur.a, or pkg-config's -lvidur */
#include <stdlib.h>

typedef struct spf {
    vidur_replica *r;
    vidur_request **wait, **run; /* waiting: not yet admitted; running: holding KV blocks */
    int64_t nwait, nrun, cap;
    int chunk;                   /* token budget per iteration */
} spf;

static void *spf_create(vidur_replica *r, void *user)
{
    spf *s = (spf *)calloc(1, sizeof *s);
    const char *chunk = vidur_config_get(vidur_sim_config(vidur_replica_sim(r)), "spf_scheduler_config", "chunk_size");
    (void)user;
    if (!s) return NULL;
    s->r = r;
    s->chunk = atoi(chunk);
    return s;
}

static void spf_destroy(void *st)
{
    spf *s = (spf *)st;
    free(s->wait);
    free(s->run);
    free(s);
}

static void spf_add(void *st, vidur_request *q)
{
    spf *s = (spf *)st;
    if (s->nwait + s->nrun == s->cap) { /* one capacity for both lists: a request is in one of them */
        int64_t cap = s->cap ? 2 * s->cap : 64;
        vidur_request **w = (vidur_request **)realloc(s->wait, (size_t)cap * sizeof *w), **r;
        if (w) s->wait = w;
        r = (vidur_request **)realloc(s->run, (size_t)cap * sizeof *r);
        if (r) s->run = r;
        if (!w || !r) { vidur_replica_fail(s->r, VIDUR_ERR_MEMORY, "spf: out of memory"); return; }
        s->cap = cap;
    }
    q->user_i64 = 0; /* 1 while the request is in a batch in flight */
    s->wait[s->nwait++] = q;
}

/* tokens of q in this iteration: the rest of its prompt within budget, or one decode token */
static int32_t spf_tokens(const vidur_request *q, int budget)
{
    int32_t left = q->num_prefill_tokens - q->num_processed_tokens;
    if (q->is_prefill_complete) return 1;
    return left < budget ? left : budget;
}

static int spf_next(void *st, vidur_batch *b, vidur_error *err)
{
    spf *s = (spf *)st;
    const vidur_replica_info *in = vidur_replica_get_info(s->r);
    int budget = s->chunk, i;
    for (i = 0; i < s->nrun && budget > 0 && b->size < in->batch_size_cap; i++) {
        vidur_request *q = s->run[i];
        int32_t n = spf_tokens(q, budget);
        if (q->user_i64) continue; /* in a batch of another pipeline stage */
        if (!vidur_batch_add(b, q, n)) goto oom;
        q->user_i64 = 1;
        budget -= n;
    }
    while (s->nwait && budget > 0 && b->size < in->batch_size_cap) {
        int64_t best = 0, j, blocks;
        vidur_request *q;
        for (j = 1; j < s->nwait; j++) /* shortest prompt; ties: the earlier arrival (lower index) */
            if (s->wait[j]->num_prefill_tokens < s->wait[best]->num_prefill_tokens) best = j;
        q = s->wait[best];
        blocks = (q->num_prefill_tokens + q->num_decode_tokens + in->block_size - 1) / in->block_size;
        if (!vidur_replica_can_allocate(s->r, blocks)) break; /* wait for memory, keep the order */
        vidur_replica_allocate(s->r, q, blocks);
        s->wait[best] = s->wait[--s->nwait]; /* order does not matter: the scan picks the shortest */
        s->run[s->nrun++] = q;
        if (!vidur_batch_add(b, q, spf_tokens(q, budget))) goto oom;
        q->user_i64 = 1;
        budget -= spf_tokens(q, budget);
    }
    return b->size > 0;
oom:
    (void)err;
    vidur_replica_fail(s->r, VIDUR_ERR_MEMORY, "spf: out of memory (batch)");
    return -1;
}

/* token counts are already advanced: free the finished requests' blocks and forget them */
static void spf_batch_end(void *st, vidur_batch *b)
{
    spf *s = (spf *)st;
    int64_t i, k = 0;
    int32_t j;
    for (j = 0; j < b->size; j++) {
        b->requests[j]->user_i64 = 0;
        if (b->requests[j]->completed) vidur_replica_free(s->r, b->requests[j]);
    }
    for (i = 0; i < s->nrun; i++)
        if (!s->run[i]->completed) s->run[k++] = s->run[i];
    s->nrun = k;
}

static int spf_is_empty(void *st) { return ((spf *)st)->nwait + ((spf *)st)->nrun == 0; }
static int64_t spf_pending(void *st) { return ((spf *)st)->nwait; }

static const vidur_replica_scheduler_api spf_api = {"spf", spf_create, spf_destroy, spf_add, spf_next, spf_batch_end,
                                                    spf_is_empty, spf_pending, NULL, NULL};

/* the function a plug-in exports (vidur --plugin) and a program passes to vidur_cli_main */
#ifdef VIDUR_SPF_PLUGIN
vidur_result vidur_plugin_register(vidur_config *cfg, vidur_error *err);
vidur_result vidur_plugin_register(vidur_config *cfg, vidur_error *err)
#else
static vidur_result vidur_plugin_register(vidur_config *cfg, vidur_error *err)
#endif
{
    vidur_result r = vidur_config_add_replica_scheduler(cfg, &spf_api, err);
    return r ? r : vidur_config_add_key(cfg, "spf_scheduler_config", "chunk_size", VIDUR_T_INT, "512", "spf: token budget per iteration.", err);
}

#ifndef VIDUR_SPF_PLUGIN
#define VIDUR_CLI_IMPLEMENTATION
#include "../vidur_cli.h"

int main(int argc, char **argv)
{
    /* no arguments: a small demonstration (what `make test` runs) */
    static char *demo[] = {"replica_scheduler", "--replica_scheduler_config_type", "spf", "--spf_scheduler_config_chunk_size", "256",
                           "--replica_config_model_name", "meta-llama/Meta-Llama-3-8B", "--replica_config_device", "h100",
                           "--cluster_config_num_replicas", "2", "--length_generator_config_type", "lognormal",
                           "--synthetic_request_generator_config_num_requests", "400", "--poisson_request_interval_generator_config_qps", "20",
                           "--metrics_config_write_metrics", "false", NULL};
    if (argc == 1) return vidur_cli_main((int)(sizeof demo / sizeof demo[0]) - 1, demo, vidur_plugin_register);
    return vidur_cli_main(argc, argv, vidur_plugin_register);
}
#endif
