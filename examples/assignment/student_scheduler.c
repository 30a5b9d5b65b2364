/* student_scheduler.c - YOUR ROUTER GOES HERE.

   Assignment: write a global scheduler (a router) for an LLM serving cluster. Every request
   that arrives must be sent to one of the replicas; the grader (grader.c) runs fixed workloads
   through your router and compares it with round_robin and lor (least outstanding requests).

   You may read, for every replica r (see the "Plug-ins" part of vidur.h's API):
       vidur_replica_num_pending_requests(r)   requests waiting to start on r
       vidur_replica_num_running_requests(r)   requests holding KV-cache memory on r
       vidur_replica_kv_usage_percent(r)       KV-cache usage (0..100)
       vidur_replica_prefix_cache_lookup(r, q) prompt tokens of q already cached on r
   and for the request q: q->num_prefill_tokens (prompt), q->num_decode_tokens (output length; a
   real router would not know it - do not use it), q->session_id, q->arrived_at.
   For randomness use vidur_sim_random(sim) (reproducible), never rand().
   Keep whatever state you need in the struct that student_create() returns; the optional hooks
   tell you when a request's prefill ends and when it completes.

   The starting point below is round robin, so the grader runs from the first minute.
   Build and grade:  make build/examples/assignment/grader && ./build/examples/assignment/grader */

typedef struct student_state {
    int64_t next; /* TODO: replace with the state your policy needs */
} student_state;

static void *student_create(vidur_sim *sim, void *user)
{
    (void)sim;
    (void)user;
    return calloc(1, sizeof(student_state));
}

static void student_destroy(void *state) { free(state); }

static int student_route(void *state, vidur_sim *sim, const vidur_request *q)
{
    student_state *s = (student_state *)state;
    (void)q;
    /* TODO: pick a better replica than the next one in turn */
    return (int)(s->next++ % vidur_sim_num_replicas(sim));
}

static void student_prefill_end(void *state, vidur_sim *sim, const vidur_request *q) { (void)state; (void)sim; (void)q; }
static void student_request_end(void *state, vidur_sim *sim, const vidur_request *q) { (void)state; (void)sim; (void)q; }

static const vidur_global_scheduler_api student_scheduler = {
    "student", student_create, student_destroy, student_route, NULL, student_request_end, student_prefill_end, NULL};
