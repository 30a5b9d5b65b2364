/* Compile-time options: VIDUR_MALLOC/REALLOC/FREE (a counting allocator), VIDUR_NO_INIH.
   Compiled without any third-party include path and linked with -lm alone.
   A small simulation must run and give back every byte it took. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

static long live_blocks, total_allocs;

static void *count_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p) { live_blocks++; total_allocs++; }
    return p;
}
static void *count_realloc(void *p, size_t n)
{
    void *q;
    if (!p) return count_malloc(n);
    q = realloc(p, n ? n : 1);
    if (q) total_allocs++;
    return q;
}
static void count_free(void *p)
{
    if (p) { live_blocks--; free(p); }
}

#define VIDUR_MALLOC(sz) count_malloc(sz)
#define VIDUR_REALLOC(p, sz) count_realloc((p), (sz))
#define VIDUR_FREE(p) count_free(p)
#define VIDUR_NO_INIH
#define VIDUR_IMPLEMENTATION
#include "vidur.h"

static int set(vidur_config *c, const char *k, const char *v)
{
    vidur_error err;
    if (vidur_config_set(c, k, v, &err) != VIDUR_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 0;
    }
    return 1;
}

int main(void)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim = NULL;
    const vidur_summary *s;
    vidur_config_init(&cfg);
    if (vidur_config_load_ini(&cfg, "does-not-matter.ini", &err) != VIDUR_ERR_UNSUPPORTED) {
        fprintf(stderr, "VIDUR_NO_INIH: vidur_config_load_ini should return VIDUR_ERR_UNSUPPORTED\n");
        return 1;
    }
    if (!set(&cfg, "execution_time_predictor_config_type", "roofline") ||
        !set(&cfg, "metrics_config_write_metrics", "false") ||
        !set(&cfg, "metrics_config_enable_chrome_trace", "false") ||
        !set(&cfg, "synthetic_request_generator_config_num_requests", "20") ||
        !set(&cfg, "fixed_request_length_generator_config_prefill_tokens", "128") ||
        !set(&cfg, "fixed_request_length_generator_config_decode_tokens", "8") ||
        !set(&cfg, "poisson_request_interval_generator_config_qps", "10"))
        return 1;
    if (vidur_sim_create(&cfg, &sim, &err) != VIDUR_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    if (vidur_sim_run(sim) != VIDUR_OK) {
        fprintf(stderr, "%s\n", vidur_sim_error(sim)->message);
        return 1;
    }
    s = vidur_sim_summary(sim);
    if (s->num_completed != 20) {
        fprintf(stderr, "completed %lld of 20\n", (long long)s->num_completed);
        return 1;
    }
    vidur_sim_destroy(sim);
    if (total_allocs == 0) {
        fprintf(stderr, "VIDUR_MALLOC was never used\n");
        return 1;
    }
    if (live_blocks != 0) {
        fprintf(stderr, "%ld blocks allocated through VIDUR_MALLOC were not freed\n", live_blocks);
        return 1;
    }
    return 0;
}
