/* vidur-search - capacity search: the cheapest deployment that meets each latency SLO.
   A re-creation of the fork's config explorer (config_explorer.md) over vidur_search.h, which
   sits on vidur.h's public API; this tool uses nothing else of the library.

   usage: vidur-search SEARCH.ini|CONFIG.yml [-o DIR] [-j N] [--summaries-only] [options]
          vidur-search --config-path CONFIG.yml --output-dir DIR [--cache-dir DIR] [--time-limit MIN]
   (the second form is the fork's config-explorer command line; its YAML is read as published,
   with libyaml: tools/vidur_search_yaml.h)

   Every valid point of the search space (a deployment: model, trace, cluster, routers,
   schedulers, TP, PP, batch size, search) runs in its own forked process, -j at a time, which
   runs the point's searches for every SLO config (simulations at the same (qps, replicas) are
   shared between the SLO configs) and sends its results back through a pipe. A crash costs
   that point only: it is reported as failed with the reason. Each finished point is written to
   DIR/points/<hash>.txt atomically (temporary file, fsync, rename), so rerunning the same
   command after a crash or kill -9 skips the finished points. Built with -DVIDUR_SEARCH_MPI
   (`make mpi`) the points are spread over MPI ranks instead: rank 0 hands out points and
   collects results, every other rank runs one point at a time. */
#define _POSIX_C_SOURCE 200809L
#include "../vidur.h" /* the implementation is linked: build/libvidur.a (vidur.c) */
#define VIDUR_SEARCH_IMPLEMENTATION
#include "../vidur_search.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#ifdef VIDUR_SEARCH_MPI
#include <mpi.h>
#endif
#include "vidur_search_yaml.h"
#include "vidur_search_record.h" /* the resume records: slo_result, point_result, their text */

#define NM VIDUR_NUM_REQUEST_TIME_METRICS

typedef struct options {
    const char *ini, *out;
    int jobs, summaries_only, quiet, dry_run;
    double time_limit, min_search_granularity, min_qps; /* < 0: from the INI */
    int max_iterations;
} options;

typedef struct search {
    options o;
    vidur_search_spec *spec;
    vidur_search_job *jobs;     /* valid points only, in expansion order */
    int64_t num_points, num_combinations;
    point_result *results;
} search;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------------------------------------
   Files: every output is written to a fresh temporary file (created exclusively, never through a
   symlink), flushed to disk and renamed over NAME, so a kill -9 leaves either the old file or the
   new one, never half of one. */
/* vidur.h's atomic files, plus fsync before the rename: a resume record must survive a crash of
   the machine, not only of the process */
typedef vidur_atomic_file afile;

static int aopen(afile *a, const char *path)
{
    vidur_error err;
    if (vidur_atomic_open(a, path, &err)) return 1;
    fprintf(stderr, "vidur-search: %s\n", err.message);
    return 0;
}

static int aclose(afile *a)
{
    vidur_error err;
    int synced = fflush(a->f) == 0 && fsync(fileno(a->f)) == 0, e = errno;
    if (vidur_atomic_close(a, synced, synced ? &err : NULL)) return 1; /* not synced: the temporary file goes */
    if (synced) fprintf(stderr, "vidur-search: %s\n", err.message);
    else fprintf(stderr, "vidur-search: %s: write failed: %s\n", a->path, strerror(e));
    return 0;
}

/* mkdir -p */
static int mkdirs(const char *path)
{
    char buf[VIDUR_PATH_MAX + 64];
    size_t i, n = strlen(path);
    if (n >= sizeof buf) {
        fprintf(stderr, "vidur-search: %s: path too long\n", path);
        return 0;
    }
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "vidur-search: %s: cannot create folder: %s\n", buf, strerror(errno));
                return 0;
            }
            buf[i] = c;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------------
   One point: the searches for every SLO config over a cache of simulated (qps, replicas) runs. */
typedef struct run_entry {
    double qps;
    int num_replicas;
    int pass[VIDUR_SEARCH_MAX_ITEMS];
    double measured[VIDUR_SEARCH_MAX_ITEMS], latency[VIDUR_SEARCH_MAX_ITEMS];
    double ttft_p90, ttft_p99, tbt_p99, e2e_p99;
    int64_t completed;
} run_entry;

typedef struct point_ctx {
    const search *S;
    const vidur_search_job *job;
    run_entry *runs;
    int num_runs, cap_runs, slo;
    int any_fail;               /* a probe of the current SLO config's search failed */
    double *scratch;
    int64_t scratch_cap;
} point_ctx;

static double column_quantile(point_ctx *c, const vidur_search_values *v, int metric, double q)
{
    int64_t i;
    if (v->n > c->scratch_cap) {
        free(c->scratch);
        c->scratch_cap = v->n;
        c->scratch = (double *)malloc(sizeof(double) * (size_t)v->n);
        if (!c->scratch) { c->scratch_cap = 0; return NAN; }
    }
    for (i = 0; i < v->n; i++) c->scratch[i] = v->v[i * NM + metric];
    return vidur_search_quantile(c->scratch, v->n, q);
}

/* simulates (qps, R) once and evaluates every SLO config on it */
static vidur_result simulate(point_ctx *c, double qps, int R, run_entry *e, vidur_error *err)
{
    const vidur_search_spec *s = c->S->spec;
    vidur_config cfg;
    vidur_search_values vals;
    vidur_sim *sim = NULL;
    vidur_result r;
    int k;
    memset(e, 0, sizeof *e);
    memset(&vals, 0, sizeof vals);
    e->qps = qps;
    e->num_replicas = R;
    if ((r = vidur_search_job_config(s, c->job, qps, R, &cfg, err)) != VIDUR_OK) return r;
    cfg.write_metrics = 0; /* this tool writes the run folder itself */
    vidur_search_values_attach(&cfg, &vals);
    if ((r = vidur_sim_create(&cfg, &sim, err)) != VIDUR_OK) return r;
    if ((r = vidur_sim_run(sim)) != VIDUR_OK) {
        *err = *vidur_sim_error(sim);
        vidur_sim_destroy(sim);
        vidur_search_values_free(&vals);
        return r;
    }
    for (k = 0; k < s->num_slo_configs; k++) {
        const vidur_search_slo_config *sc = &s->slo_configs[k];
        e->pass[k] = vidur_search_slo_check(sc, vals.v, vals.n, NM, &e->measured[k]) == 1;
        e->latency[k] = column_quantile(c, &vals, sc->slos[0].metric, sc->quantile);
    }
    e->ttft_p90 = column_quantile(c, &vals, VIDUR_METRIC_PREFILL_E2E_TIME, 0.9);
    e->ttft_p99 = column_quantile(c, &vals, VIDUR_METRIC_PREFILL_E2E_TIME, 0.99);
    e->tbt_p99 = column_quantile(c, &vals, VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED, 0.99);
    e->e2e_p99 = column_quantile(c, &vals, VIDUR_METRIC_REQUEST_E2E_TIME, 0.99);
    e->completed = vals.n;
    r = VIDUR_OK;
    {
        /* the spec's run folder: runs/<hash>/r<R>_q<qps>/ (summaries only: summary.json alone) */
        char dir[1100], q[64];
        vidur_search_format_float(q, sizeof q, qps);
        snprintf(dir, sizeof dir, "%s/runs/%s/r%d_q%s", c->S->o.out, c->job->hash, R, q);
        if (c->S->o.summaries_only) {
            afile a;
            char path[1200];
            snprintf(path, sizeof path, "%s/summary.json", dir);
            if (!mkdirs(dir) || !aopen(&a, path)) r = VIDUR_ERR_IO;
            else {
                vidur_summary_write_json(vidur_sim_summary(sim), a.f);
                if (!aclose(&a)) r = VIDUR_ERR_IO;
            }
            if (r != VIDUR_OK) snprintf(err->message, sizeof err->message, "%.400s: cannot write the run's summary", dir);
        } else {
            r = vidur_sim_write_outputs(sim, dir, NULL, 0, err);
        }
    }
    vidur_sim_destroy(sim);
    vidur_search_values_free(&vals);
    return r;
}

static vidur_result oracle(void *user, double qps, int R, int *pass, vidur_error *err)
{
    point_ctx *c = (point_ctx *)user;
    int i;
    vidur_result r;
    for (i = 0; i < c->num_runs; i++)
        if (c->runs[i].qps == qps && c->runs[i].num_replicas == R) {
            *pass = c->runs[i].pass[c->slo];
            c->any_fail |= !*pass;
            return VIDUR_OK;
        }
    if (c->num_runs == c->cap_runs) {
        run_entry *n;
        c->cap_runs = c->cap_runs ? 2 * c->cap_runs : 16;
        n = (run_entry *)realloc(c->runs, sizeof *n * (size_t)c->cap_runs);
        if (!n) { snprintf(err->message, sizeof err->message, "out of memory"); return VIDUR_ERR_MEMORY; }
        c->runs = n;
    }
    if ((r = simulate(c, qps, R, &c->runs[c->num_runs], err)) != VIDUR_OK) return r;
    *pass = c->runs[c->num_runs++].pass[c->slo];
    c->any_fail |= !*pass;
    return VIDUR_OK;
}

static void run_point(const search *S, int64_t idx, point_result *res)
{
    const vidur_search_spec *s = S->spec;
    const vidur_search_job *j = &S->jobs[idx];
    const vidur_search_target *t = &s->searches[j->search];
    point_ctx c;
    vidur_error err;
    int k, i;
    /* test hooks (tests/test_search.sh): the process of point HASH dies, or hangs until killed */
    const char *crash = getenv("VIDUR_SEARCH_TEST_CRASH"), *hang = getenv("VIDUR_SEARCH_TEST_HANG");
    if (crash && !strcmp(crash, j->hash)) kill(getpid(), SIGKILL);
    if (hang && !strcmp(hang, j->hash))
        for (;;) pause();
    memset(res, 0, sizeof *res);
    memset(&c, 0, sizeof c);
    memset(&err, 0, sizeof err);
    c.S = S;
    c.job = j;
    for (k = 0; k < s->num_slo_configs; k++) {
        vidur_search_params p;
        vidur_search_outcome out;
        memset(&p, 0, sizeof p);
        p.search_for = t->search_for;
        p.qps = t->qps;
        p.num_replicas = t->num_replicas;
        p.max_iterations = s->max_iterations;
        p.min_search_granularity = s->min_search_granularity;
        p.min_qps = s->min_qps;
        p.num_qps_multipliers = t->num_qps_multipliers;
        p.qps_multipliers = t->qps_multipliers;
        c.slo = k;
        c.any_fail = 0;
        if (vidur_search_run(&p, oracle, &c, &out, &err) != VIDUR_OK) {
            res->status = 1;
            snprintf(res->reason, sizeof res->reason, "%.250s", err.message);
            break;
        }
        res->slo[k].found = out.found;
        res->slo[k].qps = out.qps;
        res->slo[k].num_replicas = out.num_replicas;
        res->slo[k].probes = out.num_probes;
        /* a QPS search is bounded only once a probe failed: otherwise the answer is a lower bound */
        res->slo[k].converged = t->search_for != VIDUR_SEARCH_QPS || c.any_fail;
        res->slo[k].measured = res->slo[k].latency = res->slo[k].ttft_p90 = res->slo[k].ttft_p99 = NAN;
        res->slo[k].tbt_p99 = res->slo[k].e2e_p99 = NAN;
        for (i = 0; out.found && i < c.num_runs; i++) /* the metrics of the best passing run */
            if (c.runs[i].qps == out.qps && c.runs[i].num_replicas == out.num_replicas) {
                const run_entry *e = &c.runs[i];
                res->slo[k].measured = e->measured[k];
                res->slo[k].latency = e->latency[k];
                res->slo[k].ttft_p90 = e->ttft_p90;
                res->slo[k].ttft_p99 = e->ttft_p99;
                res->slo[k].tbt_p99 = e->tbt_p99;
                res->slo[k].e2e_p99 = e->e2e_p99;
                res->slo[k].completed = e->completed;
            }
    }
    res->num_sims = c.num_runs;
    free(c.runs);
    free(c.scratch);
}

/* ---------------------------------------------------------------------------------------------
   Result text: what a point's process sends back and what points/<hash>.txt holds. */

/* FNV-1a over everything a point's results depend on besides its key: the search options, the
   SLO configs, the trace file and the model id. A record written under other settings is not
   reused (the key alone does not name them). */
static unsigned long long settings_hash(const search *S, int64_t idx)
{
    const vidur_search_spec *s = S->spec;
    const vidur_search_job *j = &S->jobs[idx];
    char b[2048];
    unsigned long long h = 14695981039346656037ULL; /* FNV-1a 64 offset basis */
    int k, i, n;
#define MIX() do { const char *c_; for (c_ = b; *c_; c_++) { h ^= (unsigned char)*c_; h *= 1099511628211ULL; } } while (0)
    snprintf(b, sizeof b, "%.17g|%d|%.17g|%.17g|%s|%s|%s|", s->min_search_granularity, s->max_iterations, s->time_limit,
             s->min_qps, s->base_config, s->traces[j->trace].trace_file, s->models[j->model].identifier);
    MIX();
    if (s->models[j->model].config[0]) { /* ours: a model from a config.json (the axes are in the key) */
        snprintf(b, sizeof b, "config|%s|", s->models[j->model].config);
        MIX();
    }
    for (k = 0; k < s->num_slo_configs; k++) {
        const vidur_search_slo_config *c = &s->slo_configs[k];
        n = snprintf(b, sizeof b, "%s|%d|%.17g|", c->name, c->is_or, c->quantile);
        for (i = 0; i < c->num_slos && n > 0 && n < (int)sizeof b; i++)
            n += snprintf(b + n, sizeof b - (size_t)n, "%d:%.17g|", c->slos[i].metric, c->slos[i].value);
        MIX();
    }
    for (i = 0; i < s->searches[j->search].num_qps_multipliers; i++) {
        snprintf(b, sizeof b, "%.17g|", s->searches[j->search].qps_multipliers[i]);
        MIX();
    }
#undef MIX
    return h;
}
static size_t format_result(const search *S, int64_t idx, const point_result *r, char *buf, size_t n)
{
    return record_format(S->jobs[idx].key, settings_hash(S, idx), S->spec->num_slo_configs, r, buf, n);
}

/* 1 if text is a complete, intact and valid result of point idx (vidur_search_record.h) */
static int parse_result(const search *S, int64_t idx, const char *text, point_result *r)
{
    return record_parse(text, S->jobs[idx].key, settings_hash(S, idx), S->spec->num_slo_configs, r);
}

#ifdef VIDUR_SEARCH_MPI
static char *slurp_fd(int fd, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *b = (char *)malloc(cap);
    for (;;) {
        ssize_t got;
        if (!b) return NULL;
        if (n + 1 >= cap) {
            char *nb = (char *)realloc(b, cap *= 2);
            if (!nb) { free(b); return NULL; }
            b = nb;
        }
        got = read(fd, b + n, cap - n - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        n += (size_t)got;
    }
    b[n] = 0;
    *len = n;
    return b;
}
#endif

static void point_file(const search *S, int64_t idx, char *path, size_t n)
{
    snprintf(path, n, "%s/points/%s.txt", S->o.out, S->jobs[idx].hash);
}

/* records a finished point: parsed result, or a failure from how its process ended */
static void finish_point(search *S, int64_t idx, const char *text, int wstatus)
{
    point_result *r = &S->results[idx];
    if (!text || !parse_result(S, idx, text, r)) {
        memset(r, 0, sizeof *r);
        r->status = 1;
        if (WIFSIGNALED(wstatus))
            snprintf(r->reason, sizeof r->reason, "point process killed by signal %d (%s)", WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
        else
            snprintf(r->reason, sizeof r->reason, "point process exited with status %d without a result", WEXITSTATUS(wstatus));
    }
    if (r->status == 0 || r->status == 1) {
        /* failed points are recorded too (they are retried by the next run) */
        char path[1100], buf[16384];
        afile a;
        size_t len = format_result(S, idx, r, buf, sizeof buf);
        point_file(S, idx, path, sizeof path);
        if (aopen(&a, path)) {
            fwrite(buf, 1, len, a.f);
            aclose(&a);
        }
    }
}

/* forks the process of one point; returns its pid and the read end of its pipe */
static pid_t spawn_point(const search *S, int64_t idx, int *fd)
{
    int p[2];
    pid_t pid, parent = getpid();
    if (pipe(p) != 0) return -1;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        point_result r;
        static char buf[16384];
        size_t len, off = 0;
        close(p[0]);
#ifdef __linux__
        /* a point dies with its search (kill -9 included) instead of running on as an orphan */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(4);
#else
        (void)parent;
#endif
        run_point(S, idx, &r);
        len = format_result(S, idx, &r, buf, sizeof buf);
        while (off < len) {
            ssize_t w = write(p[1], buf + off, len - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) _exit(3);
            off += (size_t)w;
        }
        close(p[1]);
        _exit(0);
    }
    close(p[1]);
    *fd = p[0];
    return pid;
}

/* ---------------------------------------------------------------------------------------------
   Progress (stderr, only on a terminal) */
typedef struct progress {
    int on;
    double t0;
    int64_t total, done_before, done;
} progress;

static void progress_show(progress *pg, int running, int final)
{
    double el, eta;
    int64_t this_run = pg->done - pg->done_before, left = pg->total - pg->done;
    char etab[32] = "--";
    int w = 30, fill;
    if (!pg->on) return;
    el = now_s() - pg->t0;
    if (this_run > 0) {
        eta = el / (double)this_run * (double)left;
        snprintf(etab, sizeof etab, "%dm%02ds", (int)(eta / 60), (int)fmod(eta, 60));
    }
    fill = pg->total ? (int)(w * pg->done / pg->total) : w;
    fprintf(stderr, "\r[%.*s%*s] %lld/%lld points done, %d running, ETA %s   ", fill, "##############################",
            w - fill, "", (long long)pg->done, (long long)pg->total, running, etab);
    if (final) fputc('\n', stderr);
    fflush(stderr);
}

/* ---------------------------------------------------------------------------------------------
   The process pool */
static int run_pool(search *S, const int64_t *todo, int64_t ntodo, progress *pg)
{
    int j = S->o.jobs, running = 0, i;
    pid_t *pid = (pid_t *)calloc((size_t)j, sizeof *pid);
    int *fd = (int *)calloc((size_t)j, sizeof *fd);
    int64_t *which = (int64_t *)calloc((size_t)j, sizeof *which), next = 0;
    char **buf = (char **)calloc((size_t)j, sizeof *buf);
    size_t *len = (size_t *)calloc((size_t)j, sizeof *len), *cap = (size_t *)calloc((size_t)j, sizeof *cap);
    struct pollfd *pfd = (struct pollfd *)calloc((size_t)j, sizeof *pfd);
    if (!pid || !fd || !which || !buf || !len || !cap || !pfd) return 0;
    for (i = 0; i < j; i++) pid[i] = 0;
    while (next < ntodo || running > 0) {
        int slot;
        for (slot = 0; slot < j && next < ntodo; slot++) {
            if (pid[slot]) continue;
            pid[slot] = spawn_point(S, todo[next], &fd[slot]);
            if (pid[slot] < 0) {
                fprintf(stderr, "vidur-search: cannot start a process: %s\n", strerror(errno));
                pid[slot] = 0;
                return 0;
            }
            which[slot] = todo[next++];
            len[slot] = 0;
            running++;
        }
        for (i = 0; i < j; i++) {
            pfd[i].fd = pid[i] ? fd[i] : -1;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }
        if (poll(pfd, (nfds_t)j, 500) < 0 && errno != EINTR) return 0;
        for (i = 0; i < j; i++) {
            ssize_t got;
            if (!pid[i] || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (cap[i] - len[i] < 4097) {
                char *nb = (char *)realloc(buf[i], cap[i] = cap[i] * 2 + 8192);
                if (!nb) return 0;
                buf[i] = nb;
            }
            got = read(fd[i], buf[i] + len[i], cap[i] - len[i] - 1);
            if (got < 0 && errno == EINTR) continue;
            if (got > 0) {
                len[i] += (size_t)got;
                continue;
            }
            { /* end of the pipe: the process is done */
                int st = 0;
                buf[i][len[i]] = 0;
                close(fd[i]);
                while (waitpid(pid[i], &st, 0) < 0 && errno == EINTR) {}
                finish_point(S, which[i], WIFEXITED(st) && WEXITSTATUS(st) == 0 ? buf[i] : NULL, st);
                pid[i] = 0;
                running--;
                pg->done++;
            }
        }
        progress_show(pg, running, 0);
    }
    for (i = 0; i < j; i++) free(buf[i]);
    free(pid); free(fd); free(which); free(buf); free(len); free(cap); free(pfd);
    return 1;
}

#ifdef VIDUR_SEARCH_MPI
enum { TAG_READY = 1, TAG_WORK, TAG_RESULT, TAG_STOP };

/* rank 0: hands out points, collects and records results */
static void mpi_coordinate(search *S, const int64_t *todo, int64_t ntodo, int size, progress *pg)
{
    int64_t next = 0;
    int active = size - 1, running = 0;
    long long *assigned = (long long *)calloc((size_t)size, sizeof *assigned);
    while (active > 0) {
        MPI_Status st;
        int count, src;
        char *text;
        MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        src = st.MPI_SOURCE;
        MPI_Get_count(&st, MPI_CHAR, &count);
        text = (char *)malloc((size_t)count + 1);
        MPI_Recv(text, count, MPI_CHAR, src, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        text[count] = 0;
        if (st.MPI_TAG == TAG_RESULT) {
            int wst = 0;
            char *body = strchr(text, '\n'); /* first line: the process's wait status */
            sscanf(text, "%d", &wst);
            finish_point(S, assigned[src], body && body[1] ? body + 1 : NULL, wst);
            running--;
            pg->done++;
        }
        free(text);
        if (next < ntodo) {
            long long w = todo[next++];
            assigned[src] = w;
            MPI_Send(&w, 1, MPI_LONG_LONG, src, TAG_WORK, MPI_COMM_WORLD);
            running++;
        } else {
            long long w = -1;
            MPI_Send(&w, 1, MPI_LONG_LONG, src, TAG_STOP, MPI_COMM_WORLD);
            active--;
        }
        progress_show(pg, running, 0);
    }
    free(assigned);
}

/* other ranks: one point at a time, each still in its own process */
static void mpi_work(search *S)
{
    char ready = 0;
    MPI_Send(&ready, 0, MPI_CHAR, 0, TAG_READY, MPI_COMM_WORLD);
    for (;;) {
        MPI_Status st;
        long long w;
        int fd, wst = 0;
        pid_t pid;
        size_t len = 0;
        char *text, *msg;
        MPI_Recv(&w, 1, MPI_LONG_LONG, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        if (st.MPI_TAG == TAG_STOP) break;
        pid = spawn_point(S, w, &fd);
        text = pid > 0 ? slurp_fd(fd, &len) : NULL;
        if (pid > 0) {
            close(fd);
            while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {}
        } else {
            wst = 3 << 8;
        }
        msg = (char *)malloc(len + 32);
        snprintf(msg, len + 32, "%d\n%s", wst, WIFEXITED(wst) && WEXITSTATUS(wst) == 0 && text ? text : "");
        MPI_Send(msg, (int)strlen(msg), MPI_CHAR, 0, TAG_RESULT, MPI_COMM_WORLD);
        free(msg);
        free(text);
    }
}
#endif

/* ---------------------------------------------------------------------------------------------
   Reports */
static void csv_str(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s == '\n' ? ' ' : *s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

static void csv_num(FILE *f, double v)
{
    if (v != v) return; /* empty cell */
    fprintf(f, "%.10g", v);
}

static void global_key(const vidur_search_global_scheduler *g, char *b, size_t n)
{
    int w = snprintf(b, n, "%s", g->scheduler);
    if (g->top_k) w += snprintf(b + w, n - (size_t)w, "_topk%d", g->top_k);
    if (g->tolerance_factor > 0) snprintf(b + w, n - (size_t)w, "_%sx", g->tolerance_text);
}

static const char *const RESULT_HEADER =
    "point,hash,model,trace,cluster,device,global_scheduler,request_queue,replica_scheduler,tp,pp,batch_size_cap,"
    "search_for,slo,status,reason,found,qps,num_replicas,num_gpus,cost_per_hour,qps_per_dollar,slo_measured,"
    "latency_metric,latency,ttft_p90,ttft_p99,tbt_p99,e2e_p99,completed_requests,probes,converged";

/* ours: a search with EP or precision axes adds their columns at the end (a search without
   them writes the fork's columns only) */
static int has_model_axes(const vidur_search_spec *s)
{
    return s->num_ep_dimensions > 1 || (s->num_ep_dimensions == 1 && s->ep_dimensions[0] != 1) || s->num_weight_dtypes > 1 ||
           (s->num_weight_dtypes == 1 && strcmp(s->weight_dtypes[0], "auto")) || s->num_kv_cache_dtypes > 1 ||
           (s->num_kv_cache_dtypes == 1 && strcmp(s->kv_cache_dtypes[0], "auto"));
}

static void write_header(FILE *f, const search *S, const char *prefix)
{
    fprintf(f, "%s%s%s\n", prefix, RESULT_HEADER, has_model_axes(S->spec) ? ",ep,weight_dtype,kv_cache_dtype" : "");
}

static double row_cost(const search *S, int64_t p, int k)
{
    const point_result *r = &S->results[p];
    return r->status == 0 && r->slo[k].found ? vidur_search_cost_per_hour(S->spec, &S->jobs[p], r->slo[k].num_replicas) : NAN;
}

static double row_qpd(const search *S, int64_t p, int k)
{
    const point_result *r = &S->results[p];
    double c = row_cost(S, p, k);
    return c == c ? vidur_search_qps_per_dollar(r->slo[k].qps, c) : NAN;
}

static void write_row(FILE *f, const search *S, int64_t p, int k)
{
    const vidur_search_spec *s = S->spec;
    const vidur_search_job *j = &S->jobs[p];
    const point_result *r = &S->results[p];
    const slo_result *x = &r->slo[k];
    const vidur_search_replica_scheduler *rs = &s->replica_schedulers[j->replica_scheduler];
    const vidur_search_slo_config *sc = &s->slo_configs[k];
    char g[300], rk[200], lm[200];
    static const char *const sf[] = {"qps", "num_replicas", "isoqps"};
    int ok = r->status == 0 && x->found;
    global_key(&s->global_schedulers[j->global_scheduler], g, sizeof g);
    if (rs->chunk_size) snprintf(rk, sizeof rk, "%s_cs%d", rs->scheduler, rs->chunk_size);
    else snprintf(rk, sizeof rk, "%s", rs->scheduler);
    snprintf(lm, sizeof lm, "%s_p%g", vidur_metric_name((vidur_metric)sc->slos[0].metric), sc->quantile * 100);
    fprintf(f, "%lld,%s,", (long long)p, j->hash);
    csv_str(f, s->models[j->model].name); fputc(',', f);
    csv_str(f, s->traces[j->trace].name); fputc(',', f);
    csv_str(f, s->clusters[j->cluster].network_device); fputc(',', f);
    csv_str(f, s->clusters[j->cluster].device); fputc(',', f);
    csv_str(f, g); fputc(',', f);
    csv_str(f, s->request_queues[j->request_queue].name); fputc(',', f);
    csv_str(f, rk);
    fprintf(f, ",%d,%d,%d,%s,", j->tp, j->pp, j->batch_size * j->pp, sf[s->searches[j->search].search_for]);
    csv_str(f, sc->name);
    fprintf(f, ",%s,", r->status == 0 ? "ok" : r->status == 1 ? "failed" : "skipped");
    csv_str(f, r->status ? r->reason
                         : !x->found   ? "no passing point"
                         : !x->converged ? "unconverged: every probe passed so the QPS is a lower bound (raise max_iterations or the search's qps)"
                                         : "");
    fprintf(f, ",%d,", r->status == 0 ? x->found : 0);
    if (r->status == 0) csv_num(f, x->qps);
    fputc(',', f);
    if (r->status == 0 && x->found) fprintf(f, "%d,%d", x->num_replicas, x->num_replicas * j->tp * j->pp);
    else fputc(',', f);
    fputc(',', f); csv_num(f, row_cost(S, p, k));
    fputc(',', f); csv_num(f, row_qpd(S, p, k));
    fputc(',', f); if (ok) csv_num(f, x->measured);
    fprintf(f, ",%s,", lm);
    if (ok) csv_num(f, x->latency);
    fputc(',', f); if (ok) csv_num(f, x->ttft_p90);
    fputc(',', f); if (ok) csv_num(f, x->ttft_p99);
    fputc(',', f); if (ok) csv_num(f, x->tbt_p99);
    fputc(',', f); if (ok) csv_num(f, x->e2e_p99);
    fputc(',', f); if (ok) fprintf(f, "%lld", (long long)x->completed);
    fprintf(f, ",%d,", r->status == 0 ? x->probes : 0);
    if (ok) fprintf(f, "%d", x->converged);
    if (has_model_axes(s)) fprintf(f, ",%d,%s,%s", j->ep, s->weight_dtypes[j->weight_dtype], s->kv_cache_dtypes[j->kv_cache_dtype]);
    fputc('\n', f);
}

/* best[(m * T + t) * K + k]: the point with the highest QPS per dollar, -1 if none */
static int64_t *find_best(const search *S)
{
    const vidur_search_spec *s = S->spec;
    int M = s->num_models, T = s->num_traces, K = s->num_slo_configs, i;
    int64_t *best = (int64_t *)malloc(sizeof(int64_t) * (size_t)(M * T * K)), p;
    for (i = 0; i < M * T * K; i++) best[i] = -1;
    for (p = 0; p < S->num_points; p++) {
        int k;
        for (k = 0; k < K; k++) {
            double q = row_qpd(S, p, k);
            int64_t *b = &best[(S->jobs[p].model * T + S->jobs[p].trace) * K + k];
            if (q != q) continue;
            if (*b < 0 || q > row_qpd(S, *b, k)) *b = p; /* ties: the first in expansion order */
        }
    }
    return best;
}

/* a group's feasible points sorted by latency (then QPS per dollar, then point order); front: on
   the Pareto frontier (no other point of the group has QPS per dollar >= and latency <=, with one
   of the two strictly better) */
typedef struct sort_item { double lat, qpd; int64_t p; int front; } sort_item;
static int cmp_item(const void *a, const void *b)
{
    const sort_item *x = (const sort_item *)a, *y = (const sort_item *)b;
    if (x->lat != y->lat) return x->lat < y->lat ? -1 : 1;
    if (x->qpd != y->qpd) return x->qpd > y->qpd ? -1 : 1;
    return x->p < y->p ? -1 : x->p > y->p;
}

static int group_items(const search *S, int m, int t, int k, sort_item *items)
{
    int64_t p;
    int n = 0;
    for (p = 0; p < S->num_points; p++) {
        if (S->jobs[p].model != m || S->jobs[p].trace != t) continue;
        items[n].qpd = row_qpd(S, p, k);
        items[n].lat = S->results[p].slo[k].latency;
        items[n].p = p;
        if (items[n].qpd == items[n].qpd && items[n].lat == items[n].lat) n++;
    }
    qsort(items, (size_t)n, sizeof *items, cmp_item);
    /* one sweep in that order: a point is dominated by an earlier latency with QPS per dollar >=
       its own, or by a higher QPS per dollar at its own latency (the first of its latency group) */
    {
        double best_before = -HUGE_VAL; /* the highest QPS per dollar at lower latencies */
        int i = 0;
        while (i < n) {
            int j = i;
            double group_max = items[i].qpd;
            while (j < n && items[j].lat == items[i].lat) j++;
            for (; i < j; i++) items[i].front = items[i].qpd == group_max && !(best_before >= items[i].qpd);
            if (group_max > best_before) best_before = group_max;
        }
    }
    return n;
}

static void deployment_label(const search *S, int64_t p, int k, char *b, size_t n)
{
    const vidur_search_job *j = &S->jobs[p];
    const vidur_search_spec *s = S->spec;
    char g[300];
    global_key(&s->global_schedulers[j->global_scheduler], g, sizeof g);
    snprintf(b, n, "%s, %s, %s cs%d, TP%d PP%d bsz%d, %d replicas, %.4g QPS", s->clusters[j->cluster].network_device, g,
             s->replica_schedulers[j->replica_scheduler].scheduler, s->replica_schedulers[j->replica_scheduler].chunk_size, j->tp,
             j->pp, j->batch_size * j->pp, S->results[p].slo[k].num_replicas, S->results[p].slo[k].qps);
}

/* One group's points as an SVG scatter plot (the library's plot writer): the frontier in red,
   joined by a line, the other feasible points in grey; each point's deployment shows on hover.
   0 when out of memory (nothing is written then). */
static int pareto_plot(FILE *f, const search *S, int k, const sort_item *items, int n, const char *xlabel)
{
    enum { LAB = 600 };
    double *x = (double *)malloc(sizeof(double) * 2 * (size_t)n), *y = (double *)malloc(sizeof(double) * 2 * (size_t)n);
    char *labs = (char *)malloc((size_t)n * LAB);
    const char **tit = (const char **)malloc(sizeof(char *) * 2 * (size_t)n);
    vidur_svg_series ser[3];
    vidur_svg_plot p;
    int i, nf = 0, no = 0;
    if (!x || !y || !labs || !tit) {
        free(x), free(y), free(labs), free(tit);
        return 0;
    }
    /* frontier points fill [0, nf) of each array, the others [n, n + no) */
    for (i = 0; i < n; i++) {
        int at = items[i].front ? nf++ : n + no++;
        deployment_label(S, items[i].p, k, labs + (size_t)i * LAB, LAB);
        x[at] = items[i].lat;
        y[at] = items[i].qpd;
        tit[at] = labs + (size_t)i * LAB;
    }
    memset(ser, 0, sizeof ser);
    memset(&p, 0, sizeof p);
    ser[0].name = "other deployments";
    ser[0].x = x + n, ser[0].y = y + n, ser[0].n = no, ser[0].titles = tit + n;
    ser[0].color = "#999999";
    ser[0].points = 1;
    ser[1].name = "Pareto frontier";
    ser[1].x = x, ser[1].y = y, ser[1].n = nf, ser[1].titles = tit;
    ser[1].color = "#d62728";
    ser[1].points = 1;
    ser[2] = ser[1]; /* the frontier's line (items are in latency order) */
    ser[2].name = NULL, ser[2].titles = NULL, ser[2].points = 0;
    p.title = "";
    p.x_label = xlabel;
    p.y_label = "QPS per $/hour";
    vidur_svg_plot_write(f, &p, ser, nf > 1 ? 3 : 2);
    free(x), free(y), free(labs), free(tit);
    return 1;
}

static int write_reports(const search *S, const vidur_search_job *all, int64_t nall)
{
    const vidur_search_spec *s = S->spec;
    char path[1200];
    afile a;
    int64_t p, *best = find_best(S);
    int m, t, k, ok = 1, K = s->num_slo_configs, T = s->num_traces;
    sort_item *items = (sort_item *)malloc(sizeof(sort_item) * (size_t)(S->num_points + 1));
    if (!best || !items) return 0;
    /* results.csv: one row per point x SLO config, in expansion order */
    snprintf(path, sizeof path, "%s/results.csv", S->o.out);
    if (!aopen(&a, path)) return 0;
    write_header(a.f, S, "");
    for (p = 0; p < S->num_points; p++)
        for (k = 0; k < K; k++) write_row(a.f, S, p, k);
    ok &= aclose(&a);
    /* best.csv: per model x trace x SLO config, the highest QPS per dollar */
    snprintf(path, sizeof path, "%s/best.csv", S->o.out);
    if (!aopen(&a, path)) return 0;
    write_header(a.f, S, "");
    for (m = 0; m < s->num_models; m++)
        for (t = 0; t < T; t++)
            for (k = 0; k < K; k++)
                if (best[(m * T + t) * K + k] >= 0) write_row(a.f, S, best[(m * T + t) * K + k], k);
    ok &= aclose(&a);
    /* pareto.csv: QPS per dollar vs the latency percentile of each SLO config */
    snprintf(path, sizeof path, "%s/pareto.csv", S->o.out);
    if (!aopen(&a, path)) return 0;
    write_header(a.f, S, "on_frontier,");
    for (m = 0; m < s->num_models; m++)
        for (t = 0; t < T; t++)
            for (k = 0; k < K; k++) {
                int n = group_items(S, m, t, k, items), i;
                for (i = 0; i < n; i++) {
                    fprintf(a.f, "%d,", items[i].front);
                    write_row(a.f, S, items[i].p, k);
                }
            }
    ok &= aclose(&a);
    /* skipped.csv: the invalid combinations and why (the SLO axis left out) */
    snprintf(path, sizeof path, "%s/skipped.csv", S->o.out);
    if (!aopen(&a, path)) return 0;
    fputs("key,reason\n", a.f);
    for (p = 0; p < nall; p++)
        if (!all[p].valid) {
            csv_str(a.f, all[p].key);
            fputc(',', a.f);
            csv_str(a.f, all[p].skip_reason);
            fputc('\n', a.f);
        }
    ok &= aclose(&a);
    /* report.html: a Pareto plot per model x trace x SLO config and the best deployments */
    snprintf(path, sizeof path, "%s/report.html", S->o.out);
    if (!aopen(&a, path)) return 0;
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>vidur-search</title>\n"
          "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;font-size:12px}</style>\n"
          "</head><body>\n<h1>Capacity search: ", a.f);
    vidur_xml_escape(a.f, s->path);
    fprintf(a.f, "</h1>\n<p>%lld points x %d SLO configs. Red: the Pareto frontier (highest QPS per $/hour for a given latency); grey: other deployments that meet the SLO at their searched load.</p>\n",
            (long long)S->num_points, K);
    {
        /* a QPS search whose upper bound never failed found only a lower bound: say so up front */
        int64_t nu = 0;
        for (p = 0; p < S->num_points; p++)
            for (k = 0; k < K; k++) nu += S->results[p].status == 0 && S->results[p].slo[k].found && !S->results[p].slo[k].converged;
        if (nu)
            fprintf(a.f, "<p><b>Unconverged:</b> %lld searches never saw their upper bound fail, so their QPS is a lower bound "
                         "(results.csv: converged = 0); raise max_iterations or the search's qps.</p>\n", (long long)nu);
    }
    for (m = 0; m < s->num_models; m++)
        for (t = 0; t < T; t++)
            for (k = 0; k < K; k++) {
                int n = group_items(S, m, t, k, items);
                int64_t b = best[(m * T + t) * K + k];
                const vidur_search_slo_config *sc = &s->slo_configs[k];
                char xl[256], lab[600];
                fputs("<h2>", a.f);
                vidur_xml_escape(a.f, s->models[m].name);
                fputs(" / ", a.f);
                vidur_xml_escape(a.f, s->traces[t].name);
                fputs(" / SLO ", a.f);
                vidur_xml_escape(a.f, sc->name);
                fputs("</h2>\n", a.f);
                if (!n) {
                    fputs("<p>No deployment meets this SLO (or none ran).</p>\n", a.f);
                    continue;
                }
                snprintf(xl, sizeof xl, "%s p%g (s)", vidur_metric_name((vidur_metric)sc->slos[0].metric), sc->quantile * 100);
                if (!pareto_plot(a.f, S, k, items, n, xl)) ok = 0;
                if (b >= 0) {
                    deployment_label(S, b, k, lab, sizeof lab);
                    fprintf(a.f, "<p><b>Best:</b> ");
                    vidur_xml_escape(a.f, lab);
                    fprintf(a.f, " &mdash; %.4g QPS per $/hour ($%.2f/hour)%s</p>\n", row_qpd(S, b, k), row_cost(S, b, k),
                            S->results[b].slo[k].converged ? "" : " <b>(unconverged: the QPS is a lower bound)</b>");
                }
            }
    fputs("</body></html>\n", a.f);
    ok &= aclose(&a);
    free(best);
    free(items);
    return ok;
}

/* ---------------------------------------------------------------------------------------------
   Command line */
static void usage(FILE *f)
{
    fputs("usage: vidur-search SEARCH.ini|CONFIG.yml [options]\n"
          "       vidur-search --config-path CONFIG.yml --output-dir DIR [--cache-dir DIR] [--time-limit MIN]\n"
          "           (the fork's config explorer: its YAML as published, its command line)\n"
          "Capacity search (the fork's config explorer): for every deployment of the search space,\n"
          "the maximum QPS (or minimum replicas) that meets each SLO config, and QPS per dollar.\n"
          "\n"
          "  -o, --output DIR            output folder (default search_output); rerunning with the same\n"
          "                              DIR resumes: finished points (DIR/points/) are not run again\n"
          "  -j, --jobs N                points run in parallel, one process each (default: all cores)\n"
          "  --summaries-only            keep only summary.json in each run folder (no request_metrics.csv)\n"
          "  --time-limit MIN            simulated minutes per run (overrides [explorer] time_limit)\n"
          "  --max-iterations N          loop turns per search (overrides [explorer] max_iterations)\n"
          "  --min-search-granularity P  stop bisecting below P percent (overrides [explorer])\n"
          "  --min-qps Q                 stop when the upper bound falls below Q (overrides [explorer])\n"
          "  --dry-run                   print the expansion (points and skipped combinations), run nothing\n"
          "  --config-path FILE          the search file (the explorer's flag; .yml/.yaml files are YAML)\n"
          "  --output-dir DIR            the same as -o (the explorer's flag)\n"
          "  --cache-dir DIR             accepted for the explorer's command line: no predictor cache is needed\n"
          "  -q, --quiet                 no progress bar and no final summary line\n"
          "  --help                      this help\n"
          "  --version                   print the version\n"
          "\n"
          "Outputs in DIR: results.csv (one row per point x SLO config), best.csv (per model x trace x\n"
          "SLO config: the highest QPS per dollar), pareto.csv, report.html (Pareto plots), skipped.csv,\n"
          "runs/<hash>/r<R>_q<qps>/ (each simulation's output), points/<hash>.txt (resume records).\n"
          "The MPI build (make mpi: build/vidur-search-mpi) takes the same options; run it with mpirun.\n",
          f);
}

/* a whole-string number in [lo, hi] */
static int parse_double(const char *v, double lo, double hi, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || x != x || x < lo || x > hi) return 0;
    *out = x;
    return 1;
}

static int parse_int(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    long long x;
    errno = 0;
    x = strtoll(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi) return 0;
    *out = x;
    return 1;
}

static int parse_args(int argc, char **argv, options *o)
{
    int i;
    long nc = sysconf(_SC_NPROCESSORS_ONLN);
    memset(o, 0, sizeof *o);
    o->out = "search_output";
    o->jobs = nc > 0 ? (int)nc : 1;
    o->time_limit = o->min_search_granularity = o->min_qps = -1;
    o->max_iterations = -1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
#define NEED_VALUE() do { if (!v) { fprintf(stderr, "vidur-search: %s needs a value\n", a); return 2; } i++; } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 1; }
        else if (!strcmp(a, "--version")) { printf("vidur-search %s\n", vidur_version_string()); return 1; }
        else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--output-dir")) { NEED_VALUE(); o->out = v; }
        else if (!strcmp(a, "--config-path")) {
            NEED_VALUE();
            if (o->ini) { fprintf(stderr, "vidur-search: one search file expected, got '%s' and --config-path '%s'\n", o->ini, v); return 2; }
            o->ini = v;
        } else if (!strcmp(a, "--cache-dir")) NEED_VALUE(); /* the fork's predictor cache: the tables are compiled in */
        else if (!strcmp(a, "-j") || !strcmp(a, "--jobs") || (!strncmp(a, "-j", 2) && a[2])) {
            if (a[2] && a[1] == 'j') v = a + 2; /* -j4 */
            else NEED_VALUE();
            o->jobs = (int)strtol(v, &end, 10);
            if (*end || o->jobs < 1 || o->jobs > 4096) { fprintf(stderr, "vidur-search: -j '%s': expected a number of processes >= 1\n", v); return 2; }
        } else if (!strcmp(a, "--summaries-only")) o->summaries_only = 1;
        else if (!strcmp(a, "--dry-run")) o->dry_run = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = 1;
        /* the same ranges as the INI's [explorer] keys they override */
        else if (!strcmp(a, "--time-limit")) {
            NEED_VALUE();
            if (!parse_double(v, 0, 1e9, &o->time_limit)) { fprintf(stderr, "vidur-search: --time-limit '%s': expected minutes >= 0\n", v); return 2; }
        } else if (!strcmp(a, "--min-search-granularity")) {
            NEED_VALUE();
            if (!parse_double(v, 1e-9, 100, &o->min_search_granularity)) { fprintf(stderr, "vidur-search: --min-search-granularity '%s': expected a percentage in (0, 100]\n", v); return 2; }
        } else if (!strcmp(a, "--min-qps")) {
            NEED_VALUE();
            if (!parse_double(v, 0, 1e12, &o->min_qps)) { fprintf(stderr, "vidur-search: --min-qps '%s': expected a QPS >= 0\n", v); return 2; }
        } else if (!strcmp(a, "--max-iterations")) {
            int64_t iv;
            NEED_VALUE();
            if (!parse_int(v, 1, 1000000, &iv)) { fprintf(stderr, "vidur-search: --max-iterations '%s': expected an integer in [1, 1000000]\n", v); return 2; }
            o->max_iterations = (int)iv;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "vidur-search: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!o->ini) o->ini = a;
        else { fprintf(stderr, "vidur-search: one search file expected, got '%s' too\n", a); return 2; }
#undef NEED_VALUE
    }
    if (!o->ini) { usage(stderr); return 2; }
    return 0;
}

/* the explorer's YAML (.yml, .yaml), else a search INI */
static int is_yaml(const char *path)
{
    size_t n = strlen(path);
    return (n > 4 && !strcmp(path + n - 4, ".yml")) || (n > 5 && !strcmp(path + n - 5, ".yaml"));
}

static void cleanup(search *S, vidur_search_job *all, int64_t *todo)
{
    free(all);
    free(todo);
    free(S->jobs);
    free(S->results);
    vidur_search_spec_free(S->spec);
    memset(S, 0, sizeof *S);
}

int main(int argc, char **argv)
{
    search S;
    vidur_error err;
    vidur_search_job *all = NULL;
    int64_t nall = 0, nvalid = 0, p, ntodo = 0, nresumed = 0, nskipped = 0;
    int64_t *todo = NULL;
    int rc, rank = 0, size = 1, failed = 0;
    int64_t k;
    long long sims = 0;
    progress pg;
    double t0;
#ifdef VIDUR_SEARCH_MPI
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
#define EXIT(code) do { cleanup(&S, all, todo); MPI_Finalize(); return (code); } while (0)
#else
#define EXIT(code) do { cleanup(&S, all, todo); return (code); } while (0)
#endif
    (void)size;
    memset(&S, 0, sizeof S);
    rc = parse_args(argc, argv, &S.o);
    if (rc) EXIT(rc == 1 ? 0 : 2);
    if (is_yaml(S.o.ini)) {
        /* the fork's YAML: converted into the INI form and read by the same loader */
        char *ini;
        memset(&err, 0, sizeof err);
        ini = vsy_yaml_to_ini(S.o.ini, &err);
        if (!ini || vidur_search_spec_load_string(ini, S.o.ini, &S.spec, &err) != VIDUR_OK) {
            if (ini) vsy_map_error(&err, S.o.ini);
            if (rank == 0) fprintf(stderr, "vidur-search: %s\n", err.message);
            EXIT(1);
        }
    } else if (vidur_search_spec_load(S.o.ini, &S.spec, &err) != VIDUR_OK) {
        if (rank == 0) fprintf(stderr, "vidur-search: %s\n", err.message);
        EXIT(1);
    }
    if (S.o.time_limit >= 0) S.spec->time_limit = S.o.time_limit;
    if (S.o.max_iterations > 0) S.spec->max_iterations = S.o.max_iterations;
    if (S.o.min_search_granularity >= 0) S.spec->min_search_granularity = S.o.min_search_granularity;
    if (S.o.min_qps >= 0) S.spec->min_qps = S.o.min_qps;
    if (vidur_search_expand(S.spec, 0, &all, &nall, &nvalid, &err) != VIDUR_OK) {
        if (rank == 0) fprintf(stderr, "vidur-search: %s\n", err.message);
        EXIT(1);
    }
    S.num_combinations = nall;
    S.jobs = (vidur_search_job *)malloc(sizeof *S.jobs * (size_t)(nvalid + 1));
    S.results = (point_result *)calloc((size_t)(nvalid + 1), sizeof *S.results);
    todo = (int64_t *)malloc(sizeof *todo * (size_t)(nvalid + 1));
    if (!S.jobs || !S.results || !todo) { fprintf(stderr, "vidur-search: out of memory\n"); EXIT(1); }
    for (p = 0; p < nall; p++)
        if (all[p].valid) S.jobs[S.num_points++] = all[p];
    if (S.o.dry_run) {
        if (rank == 0) {
            printf("%lld combinations x %d SLO configs: %lld valid points (%lld jobs), %lld skipped\n", (long long)nall,
                   S.spec->num_slo_configs, (long long)nvalid, (long long)nvalid * S.spec->num_slo_configs, (long long)(nall - nvalid));
            for (p = 0; p < nall; p++) printf("%s %s %s\n", all[p].valid ? "point  " : "skipped", all[p].hash, all[p].valid ? all[p].key : all[p].skip_reason);
        }
        EXIT(0);
    }
    for (p = 0; p < S.num_points && access(S.spec->traces[S.jobs[p].trace].trace_file, R_OK) != 0; p++) {}
    if (S.num_points > 0 && p == S.num_points) {
        /* nothing can run (and nothing is written): which files, and how to make the fork's Mooncake traces */
        char files[600] = "", hint[600] = "";
        size_t len = 0;
        int t;
        for (t = 0; t < S.spec->num_traces; t++) {
            const char *tf = S.spec->traces[t].trace_file, *base = strrchr(tf, '/') ? strrchr(tf, '/') + 1 : tf;
            int n;
            /* a long list is cut at the buffer's end (len never points past it) */
            if (len < sizeof files) {
                n = snprintf(files + len, sizeof files - len, "%s%s", t ? ", " : "", tf);
                len = n < 0 ? sizeof files : len + (size_t)n;
            }
            /* the return value is looked at so that a cut hint is accepted, not warned about */
            if (!hint[0] && !strncmp(base, "mooncake_", 9) && strlen(base) > 13 &&
                snprintf(hint, sizeof hint, "; the Mooncake traces are made from Mooncake's JSONL: vidur-mooncake %.*s.jsonl -o %s --session-prefix-blocks 2 (make search-traces writes build/traces/)",
                         (int)(strlen(base) - 13), base + 9, tf) >= (int)sizeof hint)
                hint[sizeof hint - 1] = 0;
        }
        if (rank == 0)
            fprintf(stderr, "vidur-search: every point's trace file is missing (%s): nothing to run%s\n", files,
                    hint[0] ? hint : "; set each trace's trace_file to an existing CSV");
        EXIT(1);
    }
    if (rank == 0) {
        /* as the fork: the arguments and the search configuration next to the results */
        char dir[1100], path[1200], buf[65536];
        afile a;
        FILE *in;
        int i;
        snprintf(dir, sizeof dir, "%s/points", S.o.out);
        if (!mkdirs(dir)) EXIT(1);
        snprintf(path, sizeof path, "%s/args.json", S.o.out);
        if (!aopen(&a, path)) EXIT(1);
        fputs("{\"argv\": [", a.f);
        for (i = 0; i < argc; i++) {
            if (i) fputs(", ", a.f);
            vidur_json_escape(a.f, argv[i]); /* control characters and invalid UTF-8 escaped */
        }
        fprintf(a.f, "], \"version\": \"%s\"}\n", vidur_version_string());
        if (!aclose(&a)) EXIT(1);
        /* the search file as given (config.yml for the explorer's YAML, as the fork keeps its
           config), and search.ini: the INI it was read as */
        snprintf(path, sizeof path, "%s/%s", S.o.out, is_yaml(S.o.ini) ? "config.yml" : "search.ini");
        in = fopen(S.o.ini, "rb");
        if (in && aopen(&a, path)) {
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, a.f);
            aclose(&a);
        }
        if (in) fclose(in);
        snprintf(path, sizeof path, "%s/search.ini", S.o.out);
        if (is_yaml(S.o.ini) && vsy__map.s && aopen(&a, path)) {
            fputs(vsy__map.s, a.f);
            aclose(&a);
        }
    }
    /* resume: finished points are read back; points whose trace file is missing are skipped */
    for (p = 0; p < S.num_points; p++) {
        const char *tf = S.spec->traces[S.jobs[p].trace].trace_file;
        char path[1100];
        FILE *f;
        if (access(tf, R_OK) != 0) {
            S.results[p].status = 2;
            snprintf(S.results[p].reason, sizeof S.results[p].reason, "trace file %.200s not found", tf);
            nskipped++;
            continue;
        }
        point_file(&S, p, path, sizeof path);
        f = vidur_open_input(path, NULL); /* a planted FIFO or folder is no record */
        if (f) {
            char buf[16384];
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = 0;
            fclose(f);
            if (parse_result(&S, p, buf, &S.results[p]) && S.results[p].status == 0) {
                nresumed++;
                continue;
            }
        }
        todo[ntodo++] = p;
    }
    memset(&pg, 0, sizeof pg);
    pg.on = rank == 0 && !S.o.quiet && isatty(2);
    pg.t0 = t0 = now_s();
    pg.total = S.num_points;
    pg.done = pg.done_before = nresumed + nskipped;
    if (rank == 0 && !S.o.quiet)
        fprintf(stderr, "vidur-search: %lld points (%lld combinations, %lld skipped as invalid: see skipped.csv), %lld already done, %lld without their trace file, %lld to run\n",
                (long long)S.num_points, (long long)nall, (long long)(nall - nvalid), (long long)nresumed, (long long)nskipped, (long long)ntodo);
#ifdef VIDUR_SEARCH_MPI
    if (size > 1) {
        if (rank == 0) mpi_coordinate(&S, todo, ntodo, size, &pg);
        else {
            mpi_work(&S);
            EXIT(0);
        }
    } else
#endif
    if (!run_pool(&S, todo, ntodo, &pg)) {
        fprintf(stderr, "vidur-search: the process pool failed\n");
        EXIT(1);
    }
    progress_show(&pg, 0, 1);
    for (p = 0; p < S.num_points; p++) failed += S.results[p].status == 1;
    for (k = 0; k < ntodo; k++) sims += S.results[todo[k]].num_sims;
    if (!write_reports(&S, all, nall)) EXIT(1);
    if (!S.o.quiet) {
        /* CPU time of the point processes: the wall time on an idle machine is about cpu / cores */
        struct rusage ru;
        double el = now_s() - t0, cpu = 0;
        if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
            cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
        fprintf(stderr, "vidur-search: %lld points run, %lld simulations in %.1f s (%.2f simulations/s; %.1f s of CPU), %d failed; results in %s/results.csv\n",
                (long long)ntodo, sims, el, el > 0 ? (double)sims / el : 0.0, cpu, failed, S.o.out);
    }
    EXIT(0);
}
