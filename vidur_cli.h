/* vidur_cli.h - the `vidur` command line as a reusable entry point (stb style, with vidur.h).

   tools/vidur.c is nothing but this header's vidur_cli_main. A program of your own (a course
   assignment, a research scheduler) gets the same flags, INI files, outputs, progress line and
   `vidur predict` with its own schedulers registered:

       #define VIDUR_IMPLEMENTATION
       #include "vidur.h"
       #define VIDUR_CLI_IMPLEMENTATION
       #include "vidur_cli.h"

       static vidur_result add_mine(vidur_config *cfg, vidur_error *err)
       {
           return vidur_config_add_replica_scheduler(cfg, &my_scheduler, err);
       }
       int main(int argc, char **argv) { return vidur_cli_main(argc, argv, add_mine); }

   then `./my_vidur data/default.ini --replica_scheduler_config_type mine`. The register function
   (vidur_plugin_register_fn, see vidur.h) is called on every config the program initialises:
   it must only register (schedulers with vidur_config_add_*_scheduler, predictors with
   vidur_config_add_predictor, keys with vidur_config_add_key).

   Plug-ins without a program of your own: `vidur --plugin ./my_sched.so ...` loads a shared
   object with dlopen and calls the function it exports as `vidur_plugin_register`
   (VIDUR_PLUGIN_REGISTER_SYMBOL). Build it against the header only (the functions it calls are
   the vidur program's own):
       cc -shared -fPIC -I/path/to/vidur.h-dir my_sched.c -o my_sched.so
   A name without a '/' is looked up in the current folder first. Programs that load plug-ins
   must export their symbols to them: link with -rdynamic (the Makefile does for build/vidur).
   The loader needs POSIX dlopen: define VIDUR_CLI_NO_PLUGINS to build without it.

   Compile-time: define _POSIX_C_SOURCE (200809L) before the first #include of the translation
   unit that defines VIDUR_CLI_IMPLEMENTATION (isatty, clock_gettime, dlopen). Link: -ldl where
   the C library wants it (glibc before 2.34). With VIDUR_JSON (vidur.h's option; link jansson)
   the command line reads replica_config_model_config, a Hugging Face config.json, as build/vidur
   does; without it such a run fails validation naming that key. */
#ifndef VIDUR_CLI_H
#define VIDUR_CLI_H
#include "vidur.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Runs the vidur command line on argv (argv[0] names the program in messages); register_fn may
   be NULL. Returns the process exit status: 0 success, 1 any error (one line on stderr), 128 +
   the signal number when SIGINT or SIGTERM stopped it (it catches both: see below). */
int vidur_cli_main(int argc, char **argv, vidur_plugin_register_fn register_fn);
#ifdef __cplusplus
}
#endif
#endif /* VIDUR_CLI_H */

#ifdef VIDUR_CLI_IMPLEMENTATION
#ifndef VIDUR_CLI_IMPLEMENTATION_ONCE
#define VIDUR_CLI_IMPLEMENTATION_ONCE

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifndef VIDUR_CLI_NO_PLUGINS
#include <dlfcn.h>
#endif

#define VIDUR_CLI_MAX_REGISTER (VIDUR_MAX_PLUGINS + 1)

typedef struct vidur_cli__state {
    const char *prog;
    vidur_plugin_register_fn reg[VIDUR_CLI_MAX_REGISTER];
    int nreg;
    void *handles[VIDUR_MAX_PLUGINS];
    int nhandles;
} vidur_cli__state;

/* Ctrl-C (SIGINT) and SIGTERM: while the simulation runs, it stops at the next event and
   nothing is written; while the outputs are written, they are finished first (a second signal
   abandons them: the folder then lacks its completion marker). Either way no temporary file is
   left behind and a folder holds a complete set of outputs or none. A signal handler can only
   set a flag, hence these two process-wide ones (the command line's, not the library's). */
static volatile sig_atomic_t vidur_cli__stop, vidur_cli__writing;

static void vidur_cli__on_signal(int sig)
{
    static const char msg[] = "\nvidur: finishing the output files (interrupt again to abandon them)\n";
    if (vidur_cli__writing && vidur_cli__stop) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    vidur_cli__stop = sig;
    if (vidur_cli__writing && write(2, msg, sizeof msg - 1) < 0) vidur_cli__stop = sig; /* nothing else to do */
}

static void vidur_cli__catch_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM};
    struct sigaction sa, old;
    int i;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = vidur_cli__on_signal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < 2; i++) {
        /* a signal ignored on entry stays ignored (a background job of a shell without job control) */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

static double vidur_cli__wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* a fresh config with every registered scheduler and key (program's own, then plug-ins') */
static vidur_result vidur_cli__init(vidur_cli__state *st, vidur_config *cfg, vidur_error *err)
{
    int i;
    vidur_config_init(cfg);
    for (i = 0; i < st->nreg; i++) {
        vidur_result r = st->reg[i](cfg, err);
        if (r != VIDUR_OK) return r;
    }
    return VIDUR_OK;
}

/* --plugin FILE (or --plugin=FILE): loads FILE and adds its register function */
static int vidur_cli__load_plugin(vidur_cli__state *st, const char *file, vidur_error *err)
{
#ifdef VIDUR_CLI_NO_PLUGINS
    (void)st;
    snprintf(err->message, sizeof err->message, "--plugin %s: this program was built without plug-in loading (VIDUR_CLI_NO_PLUGINS)", file);
    return 0;
#else
    char path[VIDUR_PATH_MAX + 8];
    void *h = NULL, *sym;
    vidur_plugin_register_fn fn;
    if (st->nhandles == VIDUR_MAX_PLUGINS) {
        snprintf(err->message, sizeof err->message, "--plugin %s: at most %d plug-ins", file, VIDUR_MAX_PLUGINS);
        return 0;
    }
    /* dlopen searches the library path for a bare name: try the current folder first, as a user means */
    if (!strchr(file, '/')) {
        snprintf(path, sizeof path, "./%s", file);
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    }
    if (!h) h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(err->message, sizeof err->message, "--plugin %s: cannot load: %s", file, why ? why : "unknown error");
        return 0;
    }
    sym = dlsym(h, VIDUR_PLUGIN_REGISTER_SYMBOL);
    if (!sym) {
        snprintf(err->message, sizeof err->message,
                 "--plugin %s: exports no %s function (vidur_result %s(vidur_config *cfg, vidur_error *err))", file,
                 VIDUR_PLUGIN_REGISTER_SYMBOL, VIDUR_PLUGIN_REGISTER_SYMBOL);
        dlclose(h);
        return 0;
    }
    memcpy(&fn, &sym, sizeof fn); /* object to function pointer: the POSIX way without a cast ISO C forbids */
    st->handles[st->nhandles++] = h;
    st->reg[st->nreg++] = fn;
    return 1;
#endif
}

static void vidur_cli__unload(vidur_cli__state *st)
{
#ifndef VIDUR_CLI_NO_PLUGINS
    while (st->nhandles > 0) dlclose(st->handles[--st->nhandles]);
#else
    (void)st;
#endif
}

/* hours:minutes:seconds, or minutes:seconds under an hour */
static void vidur_cli__hms(char *buf, size_t n, double s)
{
    long t = s < 0 ? 0 : s > 3.6e8 ? 360000000L : (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* Runs the simulation; when show is set, redraws one progress line on stderr about 4 times a
   second (the clock is read every 4096 events, so the line costs nothing measurable): simulated
   time, requests done, the percentage and ETA when the end is known (a request count, or the
   time limit), and requests/s. */
static vidur_result vidur_cli__run(vidur_sim *sim, int show)
{
    double t0 = vidur_cli__wall_s(), last = t0, limit = vidur_sim_config(sim)->time_limit;
    int64_t total = vidur_sim_expected_requests(sim);
    long long events = 0;
    int r, shown = 0;
    while (!vidur_cli__stop && (r = vidur_sim_step(sim)) > 0) {
        if (show && (++events & 4095) == 0) {
            double now = vidur_cli__wall_s();
            if (now - last >= 0.25) {
                int64_t arrived, done;
                double frac = -1;
                char pct[96] = "";
                vidur_sim_progress(sim, &arrived, &done);
                if (total > 0) frac = (double)done / (double)total;
                if (limit > 0 && vidur_sim_now(sim) / limit > frac) frac = vidur_sim_now(sim) / limit; /* whichever ends the run first */
                if (frac > 0.001) {
                    char eta[32];
                    vidur_cli__hms(eta, sizeof eta, (now - t0) * (1 - frac) / frac);
                    snprintf(pct, sizeof pct, " (%.1f%%, ETA %s)", 100 * (frac > 1 ? 1 : frac), eta);
                }
                if (total > 0)
                    fprintf(stderr, "\rsimulated %.1f s, %lld of %lld requests done%s, %.0f requests/s   ", vidur_sim_now(sim), (long long)done,
                            (long long)total, pct, (double)done / (now - t0));
                else
                    fprintf(stderr, "\rsimulated %.1f s, %lld requests done (%lld arrived)%s, %.0f requests/s   ", vidur_sim_now(sim),
                            (long long)done, (long long)arrived, pct, (double)done / (now - t0));
                fflush(stderr);
                last = now;
                shown = 1;
            }
        }
    }
    if (shown) fputs("\r\033[K", stderr); /* clear the line before the summary */
    if (vidur_cli__stop) return VIDUR_OK;  /* interrupted: the caller says so */
    return vidur_sim_run(sim);            /* returns at once: reports an error or unfinished requests */
}

static void vidur_cli__log(void *user, vidur_log_level level, const char *msg)
{
    const vidur_cli__state *st = (const vidur_cli__state *)((void **)user)[0];
    int verbose = *(int *)((void **)user)[1];
    if (level == VIDUR_LOG_WARN) fprintf(stderr, "%s: warning: %s\n", st->prog, msg);
    else if (verbose) fprintf(stderr, "%s: %s\n", st->prog, msg);
}

/* `vidur predict`: one batch's operator times, stage times and batch time, so anyone can check
   a prediction by hand. Batch parts: --decode NxK (N requests decoding with K tokens of
   context) and --prefill NxC@K (N requests prefilling a chunk of C tokens after K). */
static int vidur_cli__predict(vidur_cli__state *cs, int argc, char **argv)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim = NULL;
    vidur_request *reqs = NULL;
    vidur_batch b;
    vidur_batch_shape sh;
    char **rest = (char **)malloc(sizeof(char *) * (size_t)(argc + 2));
    const char *pos[16];
    int nrest = 0, npos = 0, i, nreq = 0, cap = 0, op, st;
    long n, c, k;
    double total = 0;
    if (!rest) return 1;
    memset(&b, 0, sizeof b);
    memset(&err, 0, sizeof err);
    for (i = 0; i < argc; i++) {
        int is_dec = !strcmp(argv[i], "--decode"), is_pre = !strcmp(argv[i], "--prefill");
        if (is_dec || is_pre) {
            int j, got;
            if (i + 1 >= argc) {
                fprintf(stderr, "%s predict: %s needs a value\n", cs->prog, argv[i]);
                goto fail_quiet;
            }
            k = 0;
            got = is_dec ? sscanf(argv[i + 1], "%ldx%ld", &n, &k) : sscanf(argv[i + 1], "%ldx%ld@%ld", &n, &c, &k);
            if ((is_dec && got != 2) || (is_pre && got < 2) || n < 1 || n > 100000 || k < 0 || (is_pre && c < 1)) {
                fprintf(stderr, "%s predict: %s '%s': expected %s\n", cs->prog, argv[i], argv[i + 1],
                        is_dec ? "NxK (requests x context)" : "NxC@K (requests x chunk @ context)");
                goto fail_quiet;
            }
            for (j = 0; j < n; j++) {
                vidur_request *q;
                if (nreq == cap) {
                    vidur_request *nr;
                    cap = cap ? cap * 2 : 64;
                    nr = (vidur_request *)realloc(reqs, sizeof *reqs * (size_t)cap);
                    if (!nr) goto fail_quiet;
                    reqs = nr;
                }
                q = &reqs[nreq++];
                memset(q, 0, sizeof *q);
                q->id = nreq - 1;
                q->is_prefill_complete = (int8_t)is_dec;
                q->num_processed_tokens = (int32_t)k;
                q->num_prefill_tokens = (int32_t)(is_dec ? k : k + c);
            }
            i++;
            continue;
        }
        rest[nrest++] = argv[i];
    }
    if (!nreq) {
        fprintf(stderr, "%s predict: describe a batch with --decode NxK and/or --prefill NxC@K\n", cs->prog);
        goto fail_quiet;
    }
    if (vidur_cli__init(cs, &cfg, &err) || vidur_config_parse_args(&cfg, nrest, rest, pos, 16, &npos, &err)) goto fail;
    if (vidur_cli__init(cs, &cfg, &err)) goto fail;
    for (i = 0; i < npos; i++)
        if (vidur_config_load_ini(&cfg, pos[i], &err)) goto fail;
    if (vidur_config_parse_args(&cfg, nrest, rest, pos, 16, &npos, &err)) goto fail;
#ifdef VIDUR_JSON /* the Makefile builds the tools with it (jansson) */
    if (vidur_config_load_model_config(&cfg, &err)) goto fail; /* replica_config_model_config, if set */
#endif
    cfg.write_metrics = 0;
    if (vidur_sim_create(&cfg, &sim, &err)) goto fail;
    for (i = 0; i < nreq; i++) {
        vidur_request *q = &reqs[i];
        if (!vidur_batch_add(&b, q, q->is_prefill_complete ? 1 : q->num_prefill_tokens - q->num_processed_tokens)) goto fail_quiet;
    }
    vidur_batch_shape_compute(&b, vidur_config_predictor_params(&cfg)->kv_cache_prediction_granularity, &sh);
    printf("%s on %s (node %s), TP %d, PP %d, predictor type %s\n", cfg.model_name, cfg.device, cfg.network_device,
           cfg.tensor_parallel_size, cfg.num_pipeline_stages, cfg.predictor_type);
    printf("batch: %d requests, %d decode, %d prefill; T = %lld tokens (token-wise key ceil8(T) = %lld)\n", sh.num_requests,
           sh.num_decode, sh.num_prefill, (long long)sh.total_tokens, (long long)sh.total_tokens_ceil8);
    if (sh.num_decode) printf("decode attention key: (batch %d, context %lld)\n", sh.num_decode, (long long)sh.decode_kv);
    if (sh.num_prefill) printf("prefill attention key: (context %lld, chunk %lld; chunk^2 %lld)\n", (long long)sh.prefill_kv,
                               (long long)sh.prefill_chunk, (long long)(sh.prefill_chunk * sh.prefill_chunk));
    for (st = 0; st < cfg.num_pipeline_stages; st++) {
        vidur_stage_time tm;
        vidur_sim_stage_time(sim, &sh, st, &tm);
        if (st == 0) {
            const vidur_model_spec *m = vidur_find_model(&cfg, cfg.model_name);
            int moe = vidur_model_num_moe_layers(m);
            printf("\n%-26s %14s  %s\n", "operator", "ms", "source");
            for (op = 0; op < (moe ? VIDUR_OP_COUNT : VIDUR_OP_FIRST_MOE); op++)
                printf("%-26s %14.6f  %s\n", vidur_op_name(op), tm.op_ms[op], vidur_sim_op_source(sim, op));
            printf("(per layer, except send_recv: once per non-last stage; all_reduce: twice per layer when TP > 1)\n");
            if (moe)
                printf("(moe_*: per MoE layer, %d of %d layers, EP %d; mlp_*: per dense layer; weights %s, KV cache %s)\n", moe,
                       m->num_layers, cfg.expert_parallel_size, strcmp(cfg.weight_dtype, "auto") ? cfg.weight_dtype : vidur_dtype_name(m->weight_dtype),
                       strcmp(cfg.kv_cache_dtype, "auto") ? cfg.kv_cache_dtype : vidur_dtype_name(m->kv_cache_dtype));
            putchar('\n');
        }
        printf("stage %d%s: model %.6f ms, cpu overhead %.6f ms, total %.6f ms\n", st, st == cfg.num_pipeline_stages - 1 ? " (last)" : "",
               tm.model_time * 1e3, tm.cpu_overhead * 1e3, tm.total_time * 1e3);
        total += tm.total_time;
    }
    printf("batch time (all %d stages): %.6f ms\n", cfg.num_pipeline_stages, total * 1e3);
    vidur_sim_destroy(sim);
    free(b.requests);
    free(b.num_tokens);
    free(reqs);
    free(rest);
    return 0;
fail:
    fprintf(stderr, "%s predict: %s\n", cs->prog, err.message);
fail_quiet:
    vidur_sim_destroy(sim);
    free(b.requests);
    free(b.num_tokens);
    free(reqs);
    free(rest);
    return 1;
}

static void vidur_cli__usage(const vidur_cli__state *st, FILE *f)
{
    fprintf(f, "usage: %s [CONFIG.ini ...] [--<section>_<key> VALUE ...] [options]\n", st->prog);
    fprintf(f, "       %s predict [CONFIG.ini ...] [--<key> VALUE ...] [--decode NxK] [--prefill NxC@K]\n", st->prog);
    fputs("           prints each operator's predicted time for one batch (N requests decoding with K tokens\n"
          "           of context; N requests prefilling a chunk of C tokens after K), the stage and batch times\n"
          "Simulates LLM inference serving (a C re-creation of Microsoft's Vidur).\n"
          "Every Vidur flag works unchanged, e.g.\n"
          "  vidur --replica_config_model_name meta-llama/Meta-Llama-3-8B --replica_config_device h100 \\\n"
          "        --cluster_config_num_replicas 4 --poisson_request_interval_generator_config_qps 8\n"
          "options:\n"
          "  --help       this text and every configuration key with its default\n"
          "  --version    print the version\n"
          "  --quiet      print nothing but errors (and no progress line)\n"
          "  (when stderr is a terminal, a progress line shows simulated time, requests done, the\n"
          "   percentage and ETA when the end is known, and requests/s while the simulation runs,\n"
          "   then a line while the output files are written)\n"
          "  --verbose    print informational messages on stderr\n"
          "  --plugin FILE  load a scheduler or predictor plug-in (a shared object exporting\n"
          "               vidur_plugin_register; repeatable; a name without '/' is looked for in\n"
          "               the current folder first)\n"
          "The output folder is created and checked before the run; COMPLETE is written in it last.\n"
          "Ctrl-C stops the run with no outputs (while they are being written: once they are complete).\n",
          f);
}

/* --help after the keys: what the plug-ins (and the program itself) registered */
static void vidur_cli__plugin_help(const vidur_config *cfg, FILE *f)
{
    static const char *const type_key[3] = {"global_scheduler_config_type", "replica_scheduler_config_type",
                                            "execution_time_predictor_config_type"};
    int i, k, header = 0;
    vidur_component_info ci;
    for (k = 0; k < 3; k++) /* the registry's plug-in entries, by kind */
        for (i = 0; i < vidur_component_count(cfg, (vidur_component_kind)k); i++)
            if (vidur_component_get(cfg, (vidur_component_kind)k, i, &ci) && (ci.flags & VIDUR_COMPONENT_PLUGIN)) {
                if (!header++) fputs("\nRegistered by plug-ins:\n", f);
                fprintf(f, "  %s %s\n", type_key[k], ci.name);
            }
    if (!header && cfg->num_plugin_keys) fputs("\nRegistered by plug-ins:\n", f);
    for (i = 0; i < cfg->num_plugin_keys; i++) {
        const vidur_plugin_key *pk = &cfg->plugin_keys[i];
        fprintf(f, "  --%s_%s (default: %s)\n      %s\n", pk->section, pk->key, pk->value[0] ? pk->value : "\"\"", pk->help ? pk->help : "");
    }
}

int vidur_cli_main(int argc, char **argv, vidur_plugin_register_fn register_fn)
{
    vidur_cli__state st;
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim = NULL;
    const char *positional[16];
    char **rest = NULL;
    void *log_user[2];
    int npos = 0, nrest = 0, i, quiet = 0, verbose = 0, help = 0, progress, created = 0;
    char outdir[1024] = "";
    vidur_result r;
    clock_t t0 = 0;

    memset(&st, 0, sizeof st);
    memset(&err, 0, sizeof err);
    st.prog = argc > 0 && argv[0] ? strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0] : "vidur";
    if (register_fn) st.reg[st.nreg++] = register_fn;
    rest = (char **)malloc(sizeof(char *) * (size_t)(argc > 0 ? argc : 1));
    if (!rest) return 1;
    /* plug-ins first: their keys and names must be known before any INI file or flag is read */
    for (i = 1; i < argc; i++) {
        const char *file = NULL;
        if (!strcmp(argv[i], "--plugin")) {
            if (i + 1 >= argc) {
                snprintf(err.message, sizeof err.message, "--plugin: missing value (a shared object, e.g. ./my_sched.so)");
                goto fail;
            }
            file = argv[++i];
        } else if (!strncmp(argv[i], "--plugin=", 9)) {
            file = argv[i] + 9;
        } else {
            rest[nrest++] = argv[i];
            continue;
        }
        if (!vidur_cli__load_plugin(&st, file, &err)) goto fail;
    }
    vidur_cli__catch_signals(); /* from the start: a signal during the setup stops the run before it begins */
    if (nrest > 0 && !strcmp(rest[0], "predict")) {
        int rc = vidur_cli__predict(&st, nrest - 1, rest + 1);
        free(rest);
        vidur_cli__unload(&st);
        return rc;
    }
    argc = nrest;
    nrest = 0;
    for (i = 0; i < argc; i++) {
        if (!strcmp(rest[i], "--help") || !strcmp(rest[i], "-h")) { help = 1; continue; }
        if (!strcmp(rest[i], "--version")) {
            printf("%s %s\n", st.prog, vidur_version_string());
            free(rest);
            vidur_cli__unload(&st);
            return 0;
        }
        if (!strcmp(rest[i], "--quiet")) { quiet = 1; continue; }
        if (!strcmp(rest[i], "--verbose")) { verbose = 1; continue; }
        rest[nrest++] = rest[i];
    }
    if (vidur_cli__init(&st, &cfg, &err)) goto fail;
    if (help) {
        vidur_cli__usage(&st, stdout);
        putchar('\n');
        vidur_config_print_help(stdout);
        vidur_cli__plugin_help(&cfg, stdout);
        free(rest);
        vidur_cli__unload(&st);
        return 0;
    }
    /* pass 1 finds the INI files among the arguments; pass 2 applies flags over them */
    if (vidur_config_parse_args(&cfg, nrest, rest, positional, 16, &npos, &err)) goto fail;
    if (vidur_cli__init(&st, &cfg, &err)) goto fail;
    for (i = 0; i < npos; i++)
        if (vidur_config_load_ini(&cfg, positional[i], &err)) goto fail;
    if (vidur_config_parse_args(&cfg, nrest, rest, positional, 16, &npos, &err)) goto fail;
#ifdef VIDUR_JSON /* the Makefile builds the tools with it (jansson) */
    if (vidur_config_load_model_config(&cfg, &err)) goto fail; /* replica_config_model_config, if set */
#endif
    log_user[0] = &st;
    log_user[1] = &verbose;
    cfg.log_fn = vidur_cli__log;
    cfg.log_user = log_user;
    t0 = clock();
    if (vidur_sim_create(&cfg, &sim, &err)) goto fail;
    if (cfg.write_metrics) {
        /* the output folder is checked (created, test-written) before the run, not after it */
        struct stat sb;
        created = cfg.timestamp_output_dir || stat(cfg.output_dir, &sb) != 0;
        if (vidur_sim_prepare_outputs(sim, NULL, outdir, sizeof outdir, &err)) goto fail;
    }
    progress = !quiet && isatty(2);
    if ((r = vidur_cli__run(sim, progress)) != VIDUR_OK) {
        err = *vidur_sim_error(sim);
        goto fail;
    }
    if (vidur_cli__stop) {
        /* interrupted: nothing is written; the PPO learner's temporary CSVs go with the sim */
        double now = vidur_sim_now(sim);
        vidur_sim_destroy(sim);
        if (created && outdir[0]) rmdir(outdir); /* only when still empty */
        fprintf(stderr, "%s: interrupted after %.1f s of simulated time: no outputs written\n", st.prog, now);
        free(rest);
        vidur_cli__unload(&st);
        return 128 + (int)vidur_cli__stop;
    }
    vidur_cli__writing = 1;
    if (vidur_sim_ppo(sim)) {
        /* the learned router: checkpoints and metrics CSVs, then a one-line account */
        vidur_ppo_info pi;
        if (vidur_ppo_finish(vidur_sim_ppo(sim), &err)) goto fail;
        vidur_ppo_get_info(vidur_sim_ppo(sim), &pi);
        if (!quiet)
            printf("ppo: %lld decisions (%lld in this run), %lld updates, cpu %.1f s%s\n", (long long)pi.decisions,
                   (long long)pi.sim_decisions, (long long)pi.updates, (double)(clock() - t0) / CLOCKS_PER_SEC,
                   pi.has_reference ? ", warm-started" : "");
    }
    if (!quiet) vidur_summary_print(vidur_sim_summary(sim), stdout);
    if (cfg.write_metrics) {
        /* a long run's outputs take a while (request_metrics.csv, the report): say so meanwhile */
        if (progress) {
            fprintf(stderr, "writing the output files into %s/ ...", outdir);
            fflush(stderr);
        }
        r = vidur_sim_write_outputs(sim, NULL, outdir, sizeof outdir, &err);
        if (progress) fputs("\r\033[K", stderr);
        if (r) goto fail;
        if (!quiet) printf("output: %s\n", outdir);
    }
    vidur_sim_destroy(sim);
    free(rest);
    vidur_cli__unload(&st);
    if (vidur_cli__stop) {
        fprintf(stderr, "%s: interrupted while writing the outputs: they were completed first%s%s\n", st.prog,
                cfg.write_metrics ? " in " : "", cfg.write_metrics ? outdir : "");
        return 128 + (int)vidur_cli__stop;
    }
    return 0;
fail:
    fprintf(stderr, "%s: %s\n", st.prog, err.message);
    vidur_sim_destroy(sim); /* before unloading: the plug-ins' destroy functions run here */
    if (created && outdir[0]) rmdir(outdir); /* a failed run leaves no empty folder (a partial one keeps no marker) */
    free(rest);
    vidur_cli__unload(&st);
    return 1;
}

#endif /* VIDUR_CLI_IMPLEMENTATION_ONCE */
#endif /* VIDUR_CLI_IMPLEMENTATION */
