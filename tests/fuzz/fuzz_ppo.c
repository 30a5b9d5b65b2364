/* fuzz_ppo: a PPO checkpoint loaded by a small learner (2 replicas, hidden size 8), then trained
   for a few decisions and saved again into a checkpoint folder (where finding 1's ck_n wrote
   past ck_hist). The first byte picks the mode:
     even: the rest is the checkpoint file as it is (headers, sizes and the checksum are checked
           first, so a mutation seldom gets past them);
     odd:  the rest is laid over a valid checkpoint's state at the offset given by the next two
           bytes (little-endian, modulo the state size), the header kept and the checksum
           recomputed: mutations reach every counter, index and weight.
   Reproducers of issue 14 finding 1: ck_n = 9, rng.mti = -1, demo_samples = 1e300, NaN weights. */
#include "fuzz.h"
#include <dirent.h>

static void fuzz_ppo_config(vidur_config *c)
{
    static const char *const kv[][2] = {
        {"cluster_config_num_replicas", "2"},          {"global_scheduler_config_type", "ppo"},
        {"synthetic_request_generator_config_num_requests", "24"}, {"length_generator_config_type", "fixed"},
        {"fixed_request_length_generator_config_prefill_tokens", "64"}, {"fixed_request_length_generator_config_decode_tokens", "4"},
        {"poisson_request_interval_generator_config_qps", "8"}, {"metrics_config_write_metrics", "false"},
        {"ppo_global_scheduler_config_hidden_size", "8"}, {"ppo_global_scheduler_config_rollout_len", "8"},
        {"ppo_global_scheduler_config_minibatch_size", "4"}, {"ppo_global_scheduler_config_epochs", "1"},
        {"ppo_global_scheduler_config_stabilization_steps", "2"}, {"ppo_global_scheduler_config_checkpoint_interval", "8"},
    };
    vidur_error err;
    size_t i;
    vidur_config_init(c);
    for (i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (vidur_config_set(c, kv[i][0], kv[i][1], &err) != VIDUR_OK) abort();
}

/* a valid checkpoint of that learner, made once */
static const char *fuzz_ppo_reference(long *len)
{
    static char *ref;
    static long n;
    if (!ref) {
        vidur_config c;
        vidur_ppo *p = NULL;
        vidur_error err;
        const char *path = fuzz_path("ref.bin");
        FILE *f;
        fuzz_ppo_config(&c);
        if (vidur_ppo_create(&c, &p, &err) != VIDUR_OK || vidur_ppo_save(p, path, &err) != VIDUR_OK) abort();
        vidur_ppo_destroy(p);
        if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 64 || fseek(f, 0, SEEK_SET)) abort();
        if (!(ref = (char *)malloc((size_t)n)) || fread(ref, 1, (size_t)n, f) != (size_t)n) abort();
        fclose(f);
        remove(path);
    }
    *len = n;
    return ref;
}

static int fuzz_ppo(const uint8_t *data, size_t size)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim = NULL;
    const char *path = fuzz_path("ckpt.bin"), *dir = fuzz_path("ck");
    long n, events = 4000;
    const char *ref = fuzz_ppo_reference(&n);
    if (size == 0) return 0;
    if (data[0] & 1) {
        /* header 56 bytes | state | checksum 8 */
        long state = n - 56 - 8, off = size >= 3 ? (long)(data[1] | data[2] << 8) % state : 0;
        size_t k, m = size >= 3 ? size - 3 : 0;
        char *buf = (char *)malloc((size_t)n);
        uint64_t h;
        if (!buf) abort();
        memcpy(buf, ref, (size_t)n);
        for (k = 0; k < m && off + (long)k < state; k++) buf[56 + off + (long)k] = (char)data[3 + k];
        h = vidur__fnv64(14695981039346656037ull, buf, (size_t)(n - 8));
        memcpy(buf + n - 8, &h, 8);
        fuzz_write(path, buf, (size_t)n);
        free(buf);
    } else {
        fuzz_write(path, data + 1, size - 1);
    }
    fuzz_ppo_config(&cfg);
    snprintf(cfg.ppo.load_checkpoint, sizeof cfg.ppo.load_checkpoint, "%s", path);
    snprintf(cfg.ppo.checkpoint_dir, sizeof cfg.ppo.checkpoint_dir, "%s", dir);
    vidur__mkdir(dir);
    if (vidur_sim_create(&cfg, &sim, &err) == VIDUR_OK) {
        int r;
        while (events-- > 0 && (r = vidur_sim_step(sim)) > 0) {}
        if (vidur_sim_ppo(sim)) vidur_ppo_finish(vidur_sim_ppo(sim), &err);
    }
    vidur_sim_destroy(sim);
    {
        /* the checkpoints it saved (ckpt_<decision>.bin, latest.bin: the decision number comes
           from the input) */
        DIR *d = opendir(dir);
        struct dirent *e;
        char f[512];
        while (d && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            snprintf(f, sizeof f, "%s/%s", dir, e->d_name);
            remove(f);
        }
        if (d) closedir(d);
        rmdir(dir);
    }
    remove(path);
    return 0;
}

#ifndef VIDUR_FUZZ_ALL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ppo(data, size); }
#endif
