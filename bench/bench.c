/* bench.c - `make bench`: simulation speed and memory.
   Prints simulated requests per wall-clock second, events per second and peak RSS.
   Targets (on the 2-core reference machine): >= 100,000 requests/s, peak RSS <= 200 MB;
   operator-table lookups no more than 20 % slower than the roofline; the last scenario runs
   10,000,000 requests with per-request rows off (DDSketch quantiles, about 100 s) and its peak
   RSS must stay under 500 MB (it does not grow with the number of requests). Then whole runs of
   the CLI (bench TRACE VIDUR) with Vidur's default outputs, without the trace and without
   outputs: the run with the outputs within 1.5x of the run without them at 10,000 requests, and
   chrome_trace.json written at >= 1 GB/s. VIDUR_BENCH_ONLY=outputs runs these whole runs alone. */
#define _POSIX_C_SOURCE 200809L
#define VIDUR_IMPLEMENTATION
#include "../vidur.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* sets key=value pairs (NULL-terminated) on top of the common cluster: 8 x Llama-3-8B / h100 */
static int configure(vidur_config *c, const char *const *kv)
{
    static const char *const common[] = {"replica_config_model_name", "meta-llama/Meta-Llama-3-8B", "replica_config_device", "h100",
                                         "replica_config_network_device", "h100_pairwise_nvlink", "cluster_config_num_replicas", "8",
                                         "metrics_config_write_metrics", "false", NULL};
    vidur_error err;
    int i;
    vidur_config_init(c);
    for (i = 0; common[i]; i += 2)
        if (vidur_config_set(c, common[i], common[i + 1], &err)) goto bad;
    for (i = 0; kv[i]; i += 2)
        if (vidur_config_set(c, kv[i], kv[i + 1], &err)) goto bad;
    return 1;
bad:
    fprintf(stderr, "bench: %s\n", err.message);
    return 0;
}

/* runs one scenario and prints its figures; returns requests/s, or 0 on failure */
static double run(const char *title, const char *const *kv)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim;
    const vidur_summary *s;
    double t0, t1, rps;
    int64_t cached = 0, total = 0;
    int r;
    if (!configure(&cfg, kv)) return 0;
    t0 = now_s(); /* creation included: it reads the trace when there is one */
    if (vidur_sim_create(&cfg, &sim, &err)) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 0;
    }
    if (vidur_sim_run(sim) != VIDUR_OK) {
        fprintf(stderr, "bench: %s\n", vidur_sim_error(sim)->message);
        vidur_sim_destroy(sim);
        return 0;
    }
    s = vidur_sim_summary(sim);
    t1 = now_s();
    rps = (double)s->num_completed / (t1 - t0);
    printf("%s\n", title);
    printf("  requests           %lld completed of %lld, %lld batches, %lld events, simulated %.1f s\n", (long long)s->num_completed,
           (long long)s->num_requests, (long long)s->num_batches, (long long)s->num_events, s->simulated_time);
    printf("  wall time          %.3f s\n", t1 - t0);
    printf("  requests/s         %.0f   (target >= 100000)\n", rps);
    printf("  events/s           %.0f\n", (double)s->num_events / (t1 - t0));
    printf("  TTFT p50 %.4f s, TBT p50 %.5f s, E2E p99 %.3f s\n", s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p50,
           s->metric[VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED].p50, s->metric[VIDUR_METRIC_REQUEST_E2E_TIME].p99);
    for (r = 0; r < s->num_replicas; r++) {
        cached += s->replica[r].prefix_cached_tokens;
        total += s->replica[r].prefix_total_tokens;
    }
    if (total) printf("  prefix hit rate    %.1f %%\n", 100.0 * (double)cached / (double)total);
    vidur_sim_destroy(sim);
    return rps;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Linux: resets the process's peak RSS (VmHWM) so that the next reading covers one scenario
   only; returns 0 where that is not possible (the whole-process peak is reported then) */
static int reset_peak_rss(void)
{
    FILE *f;
    int ok;
#if defined(__GLIBC__)
    malloc_trim(0); /* give back what the earlier scenarios freed, so that it is not counted here */
#endif
    f = fopen("/proc/self/clear_refs", "w");
    if (!f) return 0;
    ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* VmHWM from /proc/self/status in MB, or the getrusage peak */
static double scenario_peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    if (f) {
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
        fclose(f);
    }
    return kb > 0 ? kb / 1024.0 : peak_rss_mb();
}

static void print_rss(const char *note)
{
    printf("peak RSS             %.1f MB   (target <= 200 MB%s)\n", peak_rss_mb(), note);
}

/* ---- whole runs of the CLI with Vidur's default outputs (issue 18): what a user waits for ---- */

/* the user + system seconds of the finished children so far */
static double children_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

/* wall seconds of one shell command (its CPU seconds into *cpu), or -1 when it fails */
static double wall_of(const char *cmd, double *cpu)
{
    double t0 = now_s(), c0 = children_cpu();
    int rc = system(cmd);
    *cpu = children_cpu() - c0;
    return rc == 0 ? now_s() - t0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static long long file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

#define OUT_DIR "build/bench_outputs"
#define ERR_LOG "build/bench_outputs.log"

/* one run of `vidur ARGS EXTRA` writing into OUT_DIR (emptied before, untimed): its wall and CPU
   time (user + system: the machine may be shared) into t[n] and c[n]; *bytes gets the size of
   OUT_DIR/trace_file (when not NULL); 0 on failure */
static int one_run(const char *vidur, const char *args, const char *extra, double *t, double *c, const char *trace_file, long long *bytes)
{
    char cmd[4096], path[256];
    if (system("rm -rf " OUT_DIR) != 0) return 0;
    /* its warnings (lengths cut to max_tokens) once per run would bury the figures */
    snprintf(cmd, sizeof cmd, "%s %s %s --metrics_config_output_dir " OUT_DIR " --no-metrics_config_timestamp_output_dir --quiet >/dev/null 2>" ERR_LOG,
             vidur, args, extra);
    if ((*t = wall_of(cmd, c)) < 0) {
        fprintf(stderr, "bench: failed (its messages are in " ERR_LOG "): %s\n", cmd);
        return 0;
    }
    if (bytes) {
        snprintf(path, sizeof path, OUT_DIR "/%s", trace_file);
        *bytes = file_bytes(path);
    }
    return 1;
}

typedef struct timing {
    double wall, cpu;
} timing;

static timing median_of(double *t, double *c, int n)
{
    timing m;
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    qsort(c, (size_t)n, sizeof c[0], cmp_double);
    m.wall = t[n / 2];
    m.cpu = c[n / 2];
    return m;
}

/* the load average when the scenario ran (the machine may be shared: a second thread only helps
   while a core is free), or -1 */
static double load_average(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

/* default outputs (with and without the writer thread), without the trace, without outputs, and
   the Perfetto trace instead: whole-process medians, the ratios and the trace's writing speed; the
   five variants run in turn (A B C D E A B C D E ...) so that a change of the machine's load
   touches them all alike; returns 0 on failure */
#define NVAR 5
static int outputs_scenario(const char *title, const char *vidur, const char *args, int runs)
{
    static const char *const extra[NVAR] = {"", "--no-metrics_config_writer_threads", "--no-metrics_config_enable_chrome_trace",
                                            "--no-metrics_config_write_metrics", "--metrics_config_trace_format perfetto"};
    double t[NVAR][16], c[NVAR][16], load = load_average();
    long long json = -1, pf = -1;
    timing m[NVAR];
    int i, v;
    if (runs > 16) runs = 16;
    for (i = 0; i < runs; i++)
        for (v = 0; v < NVAR; v++)
            if (!one_run(vidur, args, extra[v], &t[v][i], &c[v][i], v == 0 ? "chrome_trace.json" : "perfetto_trace.pftrace",
                         v == 0 ? &json : v == 4 ? &pf : NULL))
                return 0;
    for (v = 0; v < NVAR; v++) m[v] = median_of(t[v], c[v], runs);
    if (system("rm -rf " OUT_DIR) != 0 || json <= 0 || pf <= 0) return 0;
    printf("%s   (medians of %d, the variants in turn; wall / cpu; load average %.1f on %ld cores)\n", title, runs, load, sysconf(_SC_NPROCESSORS_ONLN));
    printf("  whole process, Vidur's default outputs   %.3f s / %.3f s   (the writer thread formats the large files during the run)\n", m[0].wall, m[0].cpu);
    printf("  the same without the writer thread       %.3f s / %.3f s   (--no-metrics_config_writer_threads: all at the end)\n", m[1].wall, m[1].cpu);
    printf("  without the Chrome trace                 %.3f s / %.3f s\n", m[2].wall, m[2].cpu);
    printf("  without outputs (write_metrics off)      %.3f s / %.3f s\n", m[3].wall, m[3].cpu);
    printf("  default outputs / without outputs        %.2fx / %.2fx   (target <= 1.5x of wall at 10,000 requests; %.2fx / %.2fx without the writer thread)\n",
           m[0].wall / m[3].wall, m[0].cpu / m[3].cpu, m[1].wall / m[3].wall, m[1].cpu / m[3].cpu);
    printf("  default outputs / without the trace      %.2fx / %.2fx\n", m[0].wall / m[2].wall, m[0].cpu / m[2].cpu);
    printf("  chrome_trace.json                        %.1f MB at %.0f / %.0f MB/s (its bytes over the time it adds; target >= 1000)\n", json / 1e6,
           json / 1e6 / (m[0].wall - m[2].wall), json / 1e6 / (m[0].cpu - m[2].cpu));
    printf("  perfetto_trace.pftrace instead           %.1f MB (%.2fx smaller, with counter tracks) at %.0f / %.0f MB/s\n", pf / 1e6,
           (double)json / (double)pf, pf / 1e6 / (m[4].wall - m[2].wall), pf / 1e6 / (m[4].cpu - m[2].cpu));
    return 1;
}

/* the lengths file repeated: splitwise_conv has 19,366 rows, and Vidur's trace length generator
   does not wrap around (the 100,000-request run reads the rows six times over) */
static int repeat_rows(const char *src, const char *dst, int times)
{
    FILE *in = fopen(src, "rb"), *out;
    char line[4096];
    long body;
    int k, ok = 1;
    if (!in) return 0;
    if (!(out = fopen(dst, "wb"))) {
        fclose(in);
        return 0;
    }
    if (!fgets(line, sizeof line, in)) ok = 0;
    fputs(line, out);
    body = ftell(in);
    for (k = 0; k < times && ok; k++) {
        fseek(in, body, SEEK_SET);
        while (fgets(line, sizeof line, in)) fputs(line, out);
    }
    fclose(in);
    return fclose(out) == 0 && ok;
}

static int outputs_bench(const char *vidur, const char *conv_trace)
{
    static const char lengths[] = "../shared/data/processed_traces/splitwise_conv.csv";
    /* Llama-2-7B on one A100, sarathi chunk 512 / cap 128, splitwise_conv lengths capped at
       4,096, Poisson 2 QPS, per-batch rows, no plots; the limit is lifted for the 100,000-request
       run, whose trace is 1.1 GB (the size guard would refuse it) */
    static const char common[] = "--replica_config_model_name meta-llama/Llama-2-7b-hf --replica_config_device a100 "
                                 "--replica_config_network_device a100_pairwise_nvlink --cluster_config_num_replicas 1 "
                                 "--replica_scheduler_config_type sarathi --sarathi_scheduler_config_chunk_size 512 "
                                 "--sarathi_scheduler_config_batch_size_cap 128 --length_generator_config_type trace "
                                 "--trace_request_length_generator_config_max_tokens 4096 --interval_generator_config_type poisson "
                                 "--poisson_request_interval_generator_config_qps 2 --metrics_config_keep_individual_batch_metrics "
                                 "--no-metrics_config_store_plots --metrics_config_max_trace_size_mb 0";
    char args[2048], title[512];
    int ok = 1, n;
    if (file_bytes(lengths) < 0) {
        printf("outputs: %s not found: the default-outputs scenarios are skipped\n", lengths);
        return 1;
    }
    if (!repeat_rows(lengths, "build/bench_splitwise_conv_x6.csv", 6)) {
        fprintf(stderr, "bench: cannot write build/bench_splitwise_conv_x6.csv\n");
        return 0;
    }
    for (n = 10000; n <= 100000; n *= 10) {
        snprintf(args, sizeof args, "%s --trace_request_length_generator_config_trace_file %s --synthetic_request_generator_config_num_requests %d",
                 common, n == 10000 ? lengths : "build/bench_splitwise_conv_x6.csv", n);
        snprintf(title, sizeof title, "outputs: %d requests, Llama-2-7B / a100, 1 replica, sarathi 512/128, splitwise_conv lengths%s, Poisson 2 QPS, per-batch rows, no plots",
                 n, n == 10000 ? "" : " (its rows six times)");
        ok = outputs_scenario(title, vidur, args, n == 10000 ? 9 : 3) && ok;
    }
    if (conv_trace) {
        snprintf(args, sizeof args, "--replica_config_model_name meta-llama/Meta-Llama-3-8B --replica_config_device h100 "
                                    "--replica_config_network_device h100_pairwise_nvlink --cluster_config_num_replicas 8 "
                                    "--request_generator_config_type trace_replay --trace_request_generator_config_trace_file %s "
                                    "--replica_scheduler_config_type vllm_v1 --cache_config_enable_prefix_caching "
                                    "--global_scheduler_config_type sticky_lop --metrics_config_keep_individual_batch_metrics "
                                    "--no-metrics_config_store_plots --metrics_config_max_trace_size_mb 0",
                 conv_trace);
        snprintf(title, sizeof title, "outputs: %s, vllm_v1 + prefix caching, sticky_lop, 8 x Meta-Llama-3-8B / h100, per-batch rows, no plots", conv_trace);
        ok = outputs_scenario(title, vidur, args, 3) && ok;
    }
    return ok;
}

int main(int argc, char **argv)
{
    static const char *const core[] = {"replica_scheduler_config_type", "sarathi", "length_generator_config_type", "lognormal",
                                       "synthetic_request_generator_config_num_requests", "100000",
                                       "poisson_request_interval_generator_config_qps", "40",
                                       "execution_time_predictor_config_type", "random_forrest", NULL};
    static const char *const roof[] = {"replica_scheduler_config_type", "sarathi", "length_generator_config_type", "lognormal",
                                       "synthetic_request_generator_config_num_requests", "100000",
                                       "poisson_request_interval_generator_config_qps", "40",
                                       "execution_time_predictor_config_type", "roofline", NULL};
    double rps_tables, rps_roofline;
    int ok;
    const char *only = getenv("VIDUR_BENCH_ONLY");
    if (only && !strcmp(only, "outputs")) /* VIDUR_BENCH_ONLY=outputs: the whole-run part alone */
        return argc > 2 && outputs_bench(argv[2], argv[1]) ? 0 : 1;
    rps_tables = run("core: 100,000 requests, sarathi, 8 replicas, Meta-Llama-3-8B / h100, lognormal lengths, Poisson 40 QPS, profiled tables", core);
    rps_roofline = run("same workload, analytical roofline only", roof);
    ok = rps_tables > 0 && rps_roofline > 0;
    if (ok)
        printf("table lookups vs roofline: %+.1f %% requests/s   (target: no more than 20 %% slower)\n", (rps_tables / rps_roofline - 1.0) * 100.0);
    printf("compiled-in tables: %d (%s)\n", vidur_builtin_tables()->num_tables, vidur_builtin_tables()->provenance);
    print_rss("");
    if (argc > 1) {
        /* vllm_v1 + prefix caching on a conversation trace (written by vidur-convgen: see the Makefile) */
        const char *conv[] = {"request_generator_config_type", "trace_replay", "trace_request_generator_config_trace_file", argv[1],
                              "replica_scheduler_config_type", "vllm_v1", "cache_config_enable_prefix_caching", "true",
                              "global_scheduler_config_type", "sticky_lop", NULL};
        char title[600];
        double rps_cache, rps_nocache;
        snprintf(title, sizeof title, "prefix caching: %s, vllm_v1 + prefix caching, sticky_lop, 8 x Meta-Llama-3-8B / h100 (trace reading included)", argv[1]);
        rps_cache = run(title, conv);
        print_rss("; whole process so far");
        /* what the feature costs: the same trace and scheduler without the cache */
        conv[7] = "false"; /* cache_config_enable_prefix_caching */
        rps_nocache = run("the same without prefix caching", conv);
        ok = rps_cache > 0 && rps_nocache > 0 && ok;
        if (rps_cache > 0 && rps_nocache > 0)
            printf("prefix caching vs none: %+.1f %% requests/s   (the caching run forms more batches: shorter prefills)\n",
                   (rps_cache / rps_nocache - 1.0) * 100.0);
    }
    {
        /* streaming scale: 10 million requests with per-request rows off, so every request
           metric goes to a DDSketch and finished requests are recycled: memory must not grow
           with the number of requests (VIDUR_BENCH_STREAM_REQUESTS overrides the count) */
        const char *env = getenv("VIDUR_BENCH_STREAM_REQUESTS");
        const char *count = env && *env ? env : "10000000";
        const char *const big[] = {"replica_scheduler_config_type", "sarathi", "length_generator_config_type", "lognormal",
                                   "synthetic_request_generator_config_num_requests", count,
                                   "poisson_request_interval_generator_config_qps", "40", "metrics_config_store_request_metrics", "false",
                                   NULL};
        char title[300];
        double rss;
        int own = reset_peak_rss();
        snprintf(title, sizeof title, "streaming: %s requests, per-request rows off (DDSketch quantiles), sarathi, 8 replicas, Poisson 40 QPS", count);
        ok = run(title, big) > 0 && ok;
        rss = own ? scenario_peak_rss_mb() : peak_rss_mb();
        printf("peak RSS             %.1f MB   (target < 500 MB however many requests; %s)\n", rss, own ? "this scenario" : "whole process");
        ok = ok && rss < 500;
    }
    /* whole runs with the outputs: bench TRACE VIDUR (the Makefile passes build/vidur) */
    if (argc > 2) ok = outputs_bench(argv[2], argv[1]) && ok;
    return ok ? 0 : 1;
}
