/* vidur - run one LLM-serving simulation.
   usage: vidur [CONFIG.ini ...] [--<vidur flag> VALUE ...] [--quiet] [--verbose] [--help] [--version]
   INI files are read in order, then flags override them. */
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"

#include <stdio.h>
#include <string.h>

static void log_to_stderr(void *user, vidur_log_level level, const char *msg)
{
    int verbose = *(int *)user;
    if (level == VIDUR_LOG_WARN) fprintf(stderr, "vidur: warning: %s\n", msg);
    else if (verbose) fprintf(stderr, "vidur: %s\n", msg);
}

static void usage(FILE *f)
{
    fputs("usage: vidur [CONFIG.ini ...] [--<section>_<key> VALUE ...] [options]\n"
          "Simulates LLM inference serving (a C re-creation of Microsoft's Vidur).\n"
          "Every Vidur flag works unchanged, e.g.\n"
          "  vidur --replica_config_model_name meta-llama/Meta-Llama-3-8B --replica_config_device h100 \\\n"
          "        --cluster_config_num_replicas 4 --poisson_request_interval_generator_config_qps 8\n"
          "options:\n"
          "  --help       this text and every configuration key with its default\n"
          "  --version    print the version\n"
          "  --quiet      print nothing but errors\n"
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
    if (vidur_sim_create(&cfg, &sim, &err)) goto fail;
    if ((r = vidur_sim_run(sim)) != VIDUR_OK) {
        err = *vidur_sim_error(sim);
        goto fail;
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
