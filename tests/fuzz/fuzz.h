/* tests/fuzz/fuzz.h - what every fuzz harness shares (docs/fuzzing.md).

   Each tests/fuzz/fuzz_<name>.c defines `static int fuzz_<name>(const uint8_t *data, size_t size)`
   and, built alone with clang's libFuzzer (`make fuzz`), the LLVMFuzzerTestOneInput that calls
   it. tests/test_fuzz_corpus.c includes every harness into one program (VIDUR_FUZZ_ALL) and
   replays the committed regression corpus tests/fuzz/corpus/<name>/ through them; `make test`
   builds it plain and under ASan/UBSan with gcc.

   Rules for a harness: any input must come back in milliseconds with no crash, no undefined
   behaviour and no leak; a rejected input is fine (the library's one-line error), so a harness
   returns 0 for every input. Runs are kept tiny (an event budget, no output files) and the
   allocation hooks refuse single requests over FUZZ_MAX_ALLOC, as a machine would refuse an
   absurd one: the library must then fail cleanly ("out of memory"), which is itself checked. */
#ifndef VIDUR_FUZZ_H
#define VIDUR_FUZZ_H

#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a harness uses some of these helpers only */
#if defined(__GNUC__) || defined(__clang__)
#define FUZZ_UNUSED __attribute__((unused))
#else
#define FUZZ_UNUSED
#endif

#define FUZZ_MAX_ALLOC ((size_t)64 << 20)
static void *fuzz_malloc_(size_t n) { return n > FUZZ_MAX_ALLOC ? NULL : malloc(n ? n : 1); }
static void *fuzz_realloc_(void *p, size_t n) { return n > FUZZ_MAX_ALLOC ? NULL : realloc(p, n ? n : 1); }
#define VIDUR_MALLOC(sz) fuzz_malloc_(sz)
#define VIDUR_REALLOC(p, sz) fuzz_realloc_((p), (sz))
#define VIDUR_FREE(p) free(p)

#ifndef VIDUR_FUZZ_ALL
#define VIDUR_IMPLEMENTATION
#endif
#include "../../vidur.h"
#ifdef VIDUR_IMPLEMENTATION
#define VIDUR_SEARCH_IMPLEMENTATION
#endif
#include "../../vidur_search.h"

/* a NUL-terminated copy of the input (caller frees) */
FUZZ_UNUSED static char *fuzz_text(const uint8_t *data, size_t size)
{
    char *t = (char *)malloc(size + 1);
    if (!t) abort();
    memcpy(t, data, size);
    t[size] = 0;
    return t;
}

/* a file of this process for inputs the library reads by path: DIR/name (DIR made once) */
static char fuzz_dir_[64];
FUZZ_UNUSED static const char *fuzz_path(const char *name)
{
    static char path[4][128];
    static int k;
    if (!fuzz_dir_[0]) {
        snprintf(fuzz_dir_, sizeof fuzz_dir_, "/tmp/vidur_fuzz.XXXXXX");
        if (!mkdtemp(fuzz_dir_)) abort();
    }
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", fuzz_dir_, name);
    return path[k];
}

/* removes the harnesses' files and DIR (the replay driver, at its end) */
FUZZ_UNUSED static void fuzz_cleanup(void)
{
    static const char *const files[] = {"trace.csv", "table.vtab", "ckpt.bin", "ref.bin", "spec.yaml"};
    size_t i;
    if (!fuzz_dir_[0]) return;
    for (i = 0; i < sizeof files / sizeof files[0]; i++) remove(fuzz_path(files[i]));
    rmdir(fuzz_dir_);
}

FUZZ_UNUSED static void fuzz_write(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    if (fclose(f) != 0) abort();
}

/* A configuration made tiny: what the input chose stays, but the run writes no files, has at
   most 4 replicas and 20 requests, and small learners. The event budget of fuzz_run bounds the
   rest (long prompts, slow schedules). */
FUZZ_UNUSED static void fuzz_tame(vidur_config *c)
{
    c->write_metrics = 0;
    c->write_json_trace = 0;
    if (c->num_replicas > 4) c->num_replicas = 4;
    if (c->synthetic_num_requests > 20) c->synthetic_num_requests = 20;
    c->synthetic_duration = 0;
    c->ppo.checkpoint_dir[0] = c->ppo.metrics_dir[0] = c->ppo.load_checkpoint[0] = 0;
    if (c->ppo.hidden_size > 8) c->ppo.hidden_size = 8;
    if (c->ppo.rollout_len > 16) c->ppo.rollout_len = 16;
    if (c->ppo.minibatch_size > 16) c->ppo.minibatch_size = 16;
    if (c->ppo.epochs > 2) c->ppo.epochs = 2;
    if (c->ppo.demo_requests > 20) c->ppo.demo_requests = 20;
    if (c->ppo.bc_epochs > 2) c->ppo.bc_epochs = 2;
    c->log_fn = NULL;
}

/* validates, creates and runs cfg for at most `events` events; every outcome is fine but a crash */
FUZZ_UNUSED static void fuzz_run(const vidur_config *cfg, long events)
{
    vidur_error err;
    vidur_sim *sim = NULL;
    memset(&err, 0, sizeof err);
    if (vidur_config_validate(cfg, &err) != VIDUR_OK) return;
    if (vidur_sim_create(cfg, &sim, &err) == VIDUR_OK) {
        while (events-- > 0 && vidur_sim_step(sim) > 0) {}
        (void)vidur_sim_summary(sim);
    }
    vidur_sim_destroy(sim);
}

#endif /* VIDUR_FUZZ_H */
