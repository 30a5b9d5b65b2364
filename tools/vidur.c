/* vidur - run one LLM-serving simulation.
   usage: vidur [CONFIG.ini ...] [--<vidur flag> VALUE ...] [--quiet] [--verbose] [--help] [--version]
   INI files are read in order, then flags override them. */
#define _POSIX_C_SOURCE 200809L
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Runs the simulation; when show is set, redraws one progress line on stderr about 4 times a
   second (the clock is read every 4096 events, so the line costs nothing measurable). */
static vidur_result run_with_progress(vidur_sim *sim, int show)
{
    double t0 = wall_s(), last = t0;
    long long events = 0;
    int r, shown = 0;
    if (!show) return vidur_sim_run(sim);
    while ((r = vidur_sim_step(sim)) > 0) {
        if ((++events & 4095) == 0) {
            double now = wall_s();
            if (now - last >= 0.25) {
                int64_t arrived, done;
                vidur_sim_progress(sim, &arrived, &done);
                fprintf(stderr, "\rsimulated %.1f s, %lld requests done (%lld arrived), %.0f requests/s   ", vidur_sim_now(sim),
                        (long long)done, (long long)arrived, (double)done / (now - t0));
                fflush(stderr);
                last = now;
                shown = 1;
            }
        }
    }
    if (shown) fputs("\r\033[K", stderr); /* clear the line before the summary */
    return vidur_sim_run(sim); /* returns at once: reports an error or unfinished requests */
}

static void log_to_stderr(void *user, vidur_log_level level, const char *msg)
{
    int verbose = *(int *)user;
    if (level == VIDUR_LOG_WARN) fprintf(stderr, "vidur: warning: %s\n", msg);
    else if (verbose) fprintf(stderr, "vidur: %s\n", msg);
}

/* `vidur predict`: one batch's operator times, stage times and batch time, so anyone can check
   a prediction by hand. Batch parts: --decode NxK (N requests decoding with K tokens of
   context) and --prefill NxC@K (N requests prefilling a chunk of C tokens after K). */
static int predict(int argc, char **argv)
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
    vidur_config_init(&cfg);
    for (i = 0; i < argc; i++) {
        int is_dec = !strcmp(argv[i], "--decode"), is_pre = !strcmp(argv[i], "--prefill");
        if (is_dec || is_pre) {
            int j, got;
            if (i + 1 >= argc) {
                fprintf(stderr, "vidur predict: %s needs a value\n", argv[i]);
                goto fail_quiet;
            }
            k = 0;
            got = is_dec ? sscanf(argv[i + 1], "%ldx%ld", &n, &k) : sscanf(argv[i + 1], "%ldx%ld@%ld", &n, &c, &k);
            if ((is_dec && got != 2) || (is_pre && got < 2) || n < 1 || n > 100000 || k < 0 || (is_pre && c < 1)) {
                fprintf(stderr, "vidur predict: %s '%s': expected %s\n", argv[i], argv[i + 1], is_dec ? "NxK (requests x context)" : "NxC@K (requests x chunk @ context)");
                goto fail_quiet;
            }
            for (j = 0; j < n; j++) {
                vidur_request *q;
                if (nreq == cap) {
                    cap = cap ? cap * 2 : 64;
                    reqs = (vidur_request *)realloc(reqs, sizeof *reqs * (size_t)cap);
                    if (!reqs) goto fail_quiet;
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
        fprintf(stderr, "vidur predict: describe a batch with --decode NxK and/or --prefill NxC@K\n");
        goto fail_quiet;
    }
    if (vidur_config_parse_args(&cfg, nrest, rest, pos, 16, &npos, &err)) goto fail;
    vidur_config_init(&cfg);
    for (i = 0; i < npos; i++)
        if (vidur_config_load_ini(&cfg, pos[i], &err)) goto fail;
    if (vidur_config_parse_args(&cfg, nrest, rest, pos, 16, &npos, &err)) goto fail;
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
            printf("\n%-26s %14s  %s\n", "operator", "ms", "source");
            for (op = 0; op < VIDUR_OP_COUNT; op++)
                printf("%-26s %14.6f  %s\n", vidur_op_name(op), tm.op_ms[op], vidur_sim_op_source(sim, op));
            printf("(per layer, except send_recv: once per non-last stage; all_reduce: twice per layer when TP > 1)\n\n");
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
    fprintf(stderr, "vidur predict: %s\n", err.message);
fail_quiet:
    vidur_sim_destroy(sim);
    free(b.requests);
    free(b.num_tokens);
    free(reqs);
    free(rest);
    return 1;
}

static void usage(FILE *f)
{
    fputs("usage: vidur [CONFIG.ini ...] [--<section>_<key> VALUE ...] [options]\n"
          "       vidur predict [CONFIG.ini ...] [--<key> VALUE ...] [--decode NxK] [--prefill NxC@K]\n"
          "           prints each operator's predicted time for one batch (N requests decoding with K tokens\n"
          "           of context; N requests prefilling a chunk of C tokens after K), the stage and batch times\n"
          "Simulates LLM inference serving (a C re-creation of Microsoft's Vidur).\n"
          "Every Vidur flag works unchanged, e.g.\n"
          "  vidur --replica_config_model_name meta-llama/Meta-Llama-3-8B --replica_config_device h100 \\\n"
          "        --cluster_config_num_replicas 4 --poisson_request_interval_generator_config_qps 8\n"
          "options:\n"
          "  --help       this text and every configuration key with its default\n"
          "  --version    print the version\n"
          "  --quiet      print nothing but errors (and no progress line)\n"
          "  (when stderr is a terminal, a progress line shows simulated time, requests done and\n"
          "   requests/s while the simulation runs)\n"
          "  --verbose    print informational messages on stderr\n", f);
}

int main(int argc, char **argv)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim = NULL;
    const char *positional[16];
    char **rest = NULL;
    int npos = 0, nrest = 0, i, quiet = 0, verbose = 0;
    char outdir[1024];
    vidur_result r;
    clock_t t0 = 0;

    if (argc > 1 && !strcmp(argv[1], "predict")) return predict(argc - 2, argv + 2);
    rest = (char **)malloc(sizeof(char *) * (size_t)(argc > 0 ? argc : 1));
    if (!rest) return 1;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            putchar('\n');
            vidur_config_print_help(stdout);
            free(rest);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("vidur %s\n", vidur_version_string());
            free(rest);
            return 0;
        }
        if (!strcmp(argv[i], "--quiet")) { quiet = 1; continue; }
        if (!strcmp(argv[i], "--verbose")) { verbose = 1; continue; }
        rest[nrest++] = argv[i];
    }
    vidur_config_init(&cfg);
    /* pass 1 finds the INI files among the arguments; pass 2 applies flags over them */
    if (vidur_config_parse_args(&cfg, nrest, rest, positional, 16, &npos, &err)) goto fail;
    vidur_config_init(&cfg);
    for (i = 0; i < npos; i++)
        if (vidur_config_load_ini(&cfg, positional[i], &err)) goto fail;
    if (vidur_config_parse_args(&cfg, nrest, rest, positional, 16, &npos, &err)) goto fail;
    cfg.log_fn = log_to_stderr;
    cfg.log_user = &verbose;
    t0 = clock();
    if (vidur_sim_create(&cfg, &sim, &err)) goto fail;
    if ((r = run_with_progress(sim, !quiet && isatty(2))) != VIDUR_OK) {
        err = *vidur_sim_error(sim);
        goto fail;
    }
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
        if (vidur_sim_write_outputs(sim, NULL, outdir, sizeof outdir, &err)) goto fail;
        if (!quiet) printf("output: %s\n", outdir);
    }
    vidur_sim_destroy(sim);
    free(rest);
    return 0;
fail:
    fprintf(stderr, "vidur: %s\n", err.message);
    vidur_sim_destroy(sim);
    free(rest);
    return 1;
}
