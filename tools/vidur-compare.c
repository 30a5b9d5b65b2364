/* vidur-compare - several global schedulers on identical arrival traces over many seeds (paired
   design), per-request metrics, 95 % confidence intervals of the paired differences against a
   baseline (ppo_scheduler.md §13).

   usage: vidur-compare CONFIG.ini [--<vidur flag> VALUE ...] [options]
     --schedulers LIST    comma-separated: any global scheduler type; ppo, ppo:sample, ppo:controller,
                          ppo:shuffle, ppo:mean evaluate the checkpoint (greedy unless named)
     --baseline NAME      default round_robin
     --seeds N            evaluation seeds (default 10), first one --seed-start S (default 1000)
     --ppo-checkpoint P   checkpoint for the ppo entries
     --skip N             leave the first N requests (by id) out of every metric (default 100)
     --workload NAME      label of the table (default: the config file name)
     --csv FILE           per-seed rows and the summary (written atomically)
     --html FILE          the summary as a self-contained HTML table
   Seed s sets every request-generator seed and the process seed to s, so all schedulers of one
   seed see the same arrivals. */
#include "../vidur.h" /* the implementation is linked: build/libvidur.a (vidur.c) */
#define VIDUR_SEARCH_IMPLEMENTATION
#include "../vidur_search.h" /* vidur_search_quantile: the same quantiles as the search's SLO checks */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXS 16
#define NM 12
enum { M_E2E_MEAN, M_E2E_P50, M_E2E_P90, M_E2E_P99, M_TTFT_P50, M_TTFT_P99, M_TBT_P99, M_SD_MEAN, M_SD_P99, M_TPUT, M_MAXSHARE, M_CUM_TPUT };
static const char *mname[NM] = {"e2e_mean", "e2e_p50", "e2e_p90", "e2e_p99", "ttft_p50", "ttft_p99", "tbt_p99",
                                "sched_delay_mean", "sched_delay_p99", "throughput", "max_replica_share", "final_cum_throughput"};

typedef struct collect {
    double *e2e, *ttft, *tbt, *sd;
    int64_t n, cap, skip, total;
    double first_arrival, last_completion;
    int64_t share[64];
} collect;

static void on_done(void *user, vidur_sim *sim, const vidur_request *q)
{
    collect *c = (collect *)user;
    (void)sim;
    c->total++;
    if (q->completed_at > c->last_completion) c->last_completion = q->completed_at;
    if (q->id < c->skip) return;
    if (c->n == c->cap) { /* the four columns grow together, doubling */
        double **col[4];
        int64_t cap = c->cap ? c->cap * 2 : 16;
        int a;
        col[0] = &c->e2e; col[1] = &c->ttft; col[2] = &c->tbt; col[3] = &c->sd;
        for (a = 0; a < 4; a++) {
            double *p = (double *)realloc(*col[a], (size_t)cap * sizeof(double));
            if (!p) {
                fprintf(stderr, "vidur-compare: out of memory\n");
                exit(1);
            }
            *col[a] = p;
        }
        c->cap = cap;
    }
    if (c->n == 0 || q->arrived_at < c->first_arrival) c->first_arrival = q->arrived_at;
    c->e2e[c->n] = q->completed_at - q->arrived_at;
    c->ttft[c->n] = q->prefill_completed_at - q->arrived_at;
    c->tbt[c->n] = q->arrival_num_decode_tokens > 1 ? (q->completed_at - q->prefill_completed_at) / (q->arrival_num_decode_tokens - 1) : 0;
    c->sd[c->n] = q->scheduling_delay;
    if (q->replica_id >= 0 && q->replica_id < 64) c->share[q->replica_id]++;
    c->n++;
}

/* the library's linear (NumPy) quantile; 0 for no values */
static double quant(double *v, int64_t n, double q) { return n ? vidur_search_quantile(v, n, q) : 0; }

static double mean(const double *v, int64_t n)
{
    double s = 0;
    int64_t i;
    for (i = 0; i < n; i++) s += v[i];
    return n ? s / (double)n : 0;
}

/* two-sided 95 % Student t quantiles, df 1..30 */
static double t95(int df)
{
    static const double t[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    return df < 1 ? 0 : df <= 30 ? t[df - 1] : 1.96;
}

static void set_seed(vidur_config *c, long long s)
{
    c->seed = s;
    c->synthetic_seed = c->poisson_seed = c->gamma_seed = c->static_seed = c->fixed_seed = c->uniform_seed = c->zipf_seed =
        c->lognormal_seed = c->trace_length_seed = c->trace_interval_seed = c->trace_replay_seed = s;
}

int main(int argc, char **argv)
{
    vidur_config base;
    vidur_error err;
    const char *positional[8], *sched_list = "round_robin,random,lor", *baseline = "round_robin", *ckpt = NULL, *csv = NULL, *html = NULL,
               *workload = NULL;
    char **rest = (char **)malloc(sizeof(char *) * (size_t)(argc + 1)), names[MAXS][64], tmp[1100], *tok;
    int npos = 0, nrest = 0, i, j, k, m, ns = 0, nseeds = 10, bi = -1, n_replicas;
    long long seed0 = 1000, skip = 100;
    double *val; /* [sched][seed][metric] */
    double diag[MAXS][2];
    vidur_ppo *ppo = NULL;
    FILE *fc = NULL, *fh = NULL;
    vidur_atomic_file ac, ah; /* the CSV and HTML: fresh temporary files, renamed when complete */
    if (!rest) return 1;
    memset(&ac, 0, sizeof ac);
    memset(&ah, 0, sizeof ah);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--schedulers") && has) sched_list = argv[++i];
        else if (!strcmp(a, "--baseline") && has) baseline = argv[++i];
        else if (!strcmp(a, "--seeds") && has) nseeds = atoi(argv[++i]);
        else if (!strcmp(a, "--seed-start") && has) seed0 = atoll(argv[++i]);
        else if (!strcmp(a, "--ppo-checkpoint") && has) ckpt = argv[++i];
        else if (!strcmp(a, "--skip") && has) skip = atoll(argv[++i]);
        else if (!strcmp(a, "--workload") && has) workload = argv[++i];
        else if (!strcmp(a, "--csv") && has) csv = argv[++i];
        else if (!strcmp(a, "--html") && has) html = argv[++i];
        else if (!strcmp(a, "--help")) {
            puts("usage: vidur-compare CONFIG.ini [--<vidur flag> VALUE ...] [--schedulers a,b,ppo] [--baseline NAME] [--seeds N]\n"
                 "       [--seed-start S] [--ppo-checkpoint FILE] [--skip N] [--workload NAME] [--csv FILE] [--html FILE]");
            free(rest);
            return 0;
        } else rest[nrest++] = argv[i];
    }
    if (nseeds < 2) {
        fprintf(stderr, "vidur-compare: --seeds must be at least 2 (confidence intervals)\n");
        return 1;
    }
    vidur_config_init(&base);
    if (vidur_config_parse_args(&base, nrest, rest, positional, 8, &npos, &err)) goto fail;
    vidur_config_init(&base);
    for (i = 0; i < npos; i++)
        if (vidur_config_load_ini(&base, positional[i], &err)) goto fail;
    if (vidur_config_parse_args(&base, nrest, rest, positional, 8, &npos, &err)) goto fail;
#ifdef VIDUR_JSON /* the Makefile builds the tools with it (jansson) */
    if (vidur_config_load_model_config(&base, &err)) goto fail; /* replica_config_model_config, if set */
#endif
    base.write_metrics = 0;
    if (!workload) workload = npos ? positional[0] : "default";
    snprintf(tmp, sizeof tmp, "%s", sched_list);
    for (tok = strtok(tmp, ","); tok && ns < MAXS; tok = strtok(NULL, ",")) snprintf(names[ns++], sizeof names[0], "%s", tok);
    for (i = 0; i < ns; i++) if (!strcmp(names[i], baseline)) bi = i;
    if (bi < 0) {
        fprintf(stderr, "vidur-compare: baseline %s is not among --schedulers\n", baseline);
        return 1;
    }
    for (i = 0; i < ns; i++)
        if (!strncmp(names[i], "ppo", 3) && !ppo) {
            vidur_config pc = base;
            if (!ckpt) {
                fprintf(stderr, "vidur-compare: %s needs --ppo-checkpoint\n", names[i]);
                return 1;
            }
            snprintf(pc.ppo.load_checkpoint, sizeof pc.ppo.load_checkpoint, "%s", ckpt);
            snprintf(pc.ppo.mode, sizeof pc.ppo.mode, "eval");
            if (vidur_ppo_create(&pc, &ppo, &err)) goto fail;
        }
    n_replicas = base.num_replicas;
    memset(diag, 0, sizeof diag);
    val = (double *)calloc((size_t)ns * (size_t)nseeds * NM, sizeof *val);
    if (!val) return 1;
    if (csv) {
        if (!vidur_atomic_open(&ac, csv, &err)) goto fail;
        fc = ac.f;
        fprintf(fc, "workload,scheduler,seed");
        for (m = 0; m < NM; m++) fprintf(fc, ",%s", mname[m]);
        fprintf(fc, ",ppo_entropy,ppo_frac_least_outstanding\n");
    }
    for (k = 0; k < nseeds; k++)
        for (i = 0; i < ns; i++) {
            vidur_config c = base;
            vidur_sim *sim = NULL;
            collect col;
            double *v = val + ((size_t)i * nseeds + k) * NM, ent = 0, fl = 0;
            int64_t mx = 0;
            vidur_global_scheduler_api api;
            memset(&col, 0, sizeof col);
            col.skip = skip;
            set_seed(&c, seed0 + k);
            c.observer.on_request_complete = on_done;
            c.observer.user = &col;
            if (!strncmp(names[i], "ppo", 3)) {
                const char *mode = names[i][3] == ':' ? names[i] + 4 : "greedy";
                api = vidur_ppo_scheduler_api(ppo);
                if (vidur_config_add_global_scheduler(&c, &api, &err)) goto fail;
                snprintf(c.global_scheduler_type, sizeof c.global_scheduler_type, "ppo");
                vidur_ppo_set_training(ppo, 0);
                if (vidur_ppo_set_inference(ppo, mode, &err)) goto fail;
            } else {
                if (vidur_config_set(&c, "global_scheduler_config_type", names[i], &err)) goto fail;
            }
            if (vidur_sim_create(&c, &sim, &err)) goto fail;
            if (vidur_sim_run(sim)) {
                err = *vidur_sim_error(sim);
                goto fail;
            }
            if (ppo && !strncmp(names[i], "ppo", 3)) {
                vidur_ppo_info info;
                vidur_ppo_get_info(ppo, &info);
                ent = info.policy_entropy;
                fl = info.frac_least_outstanding;
                diag[i][0] += ent / nseeds;
                diag[i][1] += fl / nseeds;
            }
            vidur_sim_destroy(sim);
            v[M_E2E_MEAN] = mean(col.e2e, col.n);
            v[M_E2E_P50] = quant(col.e2e, col.n, 0.5);
            v[M_E2E_P90] = quant(col.e2e, col.n, 0.9);
            v[M_E2E_P99] = quant(col.e2e, col.n, 0.99);
            v[M_TTFT_P50] = quant(col.ttft, col.n, 0.5);
            v[M_TTFT_P99] = quant(col.ttft, col.n, 0.99);
            v[M_TBT_P99] = quant(col.tbt, col.n, 0.99);
            v[M_SD_MEAN] = mean(col.sd, col.n);
            v[M_SD_P99] = quant(col.sd, col.n, 0.99);
            v[M_TPUT] = col.last_completion > col.first_arrival ? (double)col.n / (col.last_completion - col.first_arrival) : 0;
            for (j = 0; j < n_replicas && j < 64; j++) if (col.share[j] > mx) mx = col.share[j];
            v[M_MAXSHARE] = col.n ? (double)mx / (double)col.n : 0;
            v[M_CUM_TPUT] = col.last_completion > 0 ? (double)col.total / col.last_completion : 0;
            if (fc) {
                fprintf(fc, "%s,%s,%lld", workload, names[i], seed0 + k);
                for (m = 0; m < NM; m++) fprintf(fc, ",%.6g", v[m]);
                fprintf(fc, ",%.6g,%.6g\n", ent, fl);
            }
            free(col.e2e); free(col.ttft); free(col.tbt); free(col.sd);
        }
    /* summary: means over seeds; paired differences of mean and p99 E2E against the baseline */
    if (html) {
        if (!vidur_atomic_open(&ah, html, &err)) goto fail;
        fh = ah.f;
        fprintf(fh, "<!doctype html><meta charset=utf-8><title>vidur-compare %s</title><style>body{font-family:sans-serif}"
                    "table{border-collapse:collapse}td,th{border:1px solid #999;padding:3px 8px;text-align:right}"
                    ".win{background:#cfc}.loss{background:#fcc}</style><h2>%s: %d seeds from %lld, first %lld requests excluded, baseline %s</h2><table>"
                    "<tr><th>scheduler<th>E2E mean<th>p50<th>p90<th>p99<th>TTFT p50<th>TTFT p99<th>TBT p99<th>sched delay mean<th>p99"
                    "<th>throughput<th>max share<th>&Delta; mean E2E (95%% CI)<th>&Delta; p99 E2E (95%% CI)<th>verdict</tr>\n",
                workload, workload, nseeds, seed0, skip, baseline);
    }
    printf("workload %s: %d seeds from %lld (first %lld requests excluded), baseline %s; differences are paired, 95%% CI (t)\n", workload, nseeds, seed0,
           skip, baseline);
    printf("| scheduler | E2E mean | p50 | p90 | p99 | TTFT p50 | TTFT p99 | TBT p99 | sched delay mean / p99 | throughput | max share | d mean E2E %% [95%% CI] | d p99 E2E %% [95%% CI] | verdict |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (i = 0; i < ns; i++) {
        double mv[NM], d[2][3], tp_rel;
        int dm[2] = {M_E2E_MEAN, M_E2E_P99}, better, worse;
        const char *verdict;
        char cell[2][96];
        for (m = 0; m < NM; m++) {
            mv[m] = 0;
            for (k = 0; k < nseeds; k++) mv[m] += val[((size_t)i * nseeds + k) * NM + m];
            mv[m] /= nseeds;
        }
        for (j = 0; j < 2; j++) {
            double s = 0, s2 = 0, bm = 0, md, sdv, h;
            for (k = 0; k < nseeds; k++) {
                double x = val[((size_t)i * nseeds + k) * NM + dm[j]] - val[((size_t)bi * nseeds + k) * NM + dm[j]];
                s += x;
                s2 += x * x;
                bm += val[((size_t)bi * nseeds + k) * NM + dm[j]];
            }
            md = s / nseeds;
            bm /= nseeds;
            sdv = sqrt(fabs((s2 - nseeds * md * md) / (nseeds - 1)));
            h = t95(nseeds - 1) * sdv / sqrt((double)nseeds);
            d[j][0] = 100 * md / bm;
            d[j][1] = 100 * (md - h) / bm;
            d[j][2] = 100 * (md + h) / bm;
            snprintf(cell[j], sizeof cell[j], "%+.2f [%+.2f, %+.2f]", d[j][0], d[j][1], d[j][2]);
        }
        {
            double bt = 0;
            for (k = 0; k < nseeds; k++) bt += val[((size_t)bi * nseeds + k) * NM + M_TPUT];
            bt /= nseeds;
            tp_rel = bt > 0 ? mv[M_TPUT] / bt - 1 : 0;
        }
        better = d[0][2] < 0 && d[1][2] < 0 && tp_rel > -0.01;
        worse = d[0][1] > 0 && d[1][1] > 0;
        verdict = i == bi ? "baseline" : better ? "better" : worse ? "worse" : "not shown better";
        printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.4f | %.3f / %.3f | %.3f | %.3f | %s | %s | %s |\n", names[i], mv[M_E2E_MEAN],
               mv[M_E2E_P50], mv[M_E2E_P90], mv[M_E2E_P99], mv[M_TTFT_P50], mv[M_TTFT_P99], mv[M_TBT_P99], mv[M_SD_MEAN], mv[M_SD_P99], mv[M_TPUT],
               mv[M_MAXSHARE], i == bi ? "-" : cell[0], i == bi ? "-" : cell[1], verdict);
        if (fh)
            fprintf(fh, "<tr class=%s><td style=text-align:left>%s<td>%.3f<td>%.3f<td>%.3f<td>%.3f<td>%.3f<td>%.3f<td>%.4f<td>%.3f<td>%.3f<td>%.3f<td>%.3f<td>%s<td>%s<td>%s</tr>\n",
                    better ? "win" : worse ? "loss" : "none", names[i], mv[M_E2E_MEAN], mv[M_E2E_P50], mv[M_E2E_P90], mv[M_E2E_P99], mv[M_TTFT_P50],
                    mv[M_TTFT_P99], mv[M_TBT_P99], mv[M_SD_MEAN], mv[M_SD_P99], mv[M_TPUT], mv[M_MAXSHARE], i == bi ? "-" : cell[0],
                    i == bi ? "-" : cell[1], verdict);
        if (fc) {
            fprintf(fc, "%s,%s,summary", workload, names[i]);
            for (m = 0; m < NM; m++) fprintf(fc, ",%.6g", mv[m]);
            fprintf(fc, ",,\n");
        }
    }
    for (i = 0; i < ns; i++)
        if (!strncmp(names[i], "ppo", 3)) {
            printf("%s: policy entropy %.3f (ln N = %.3f), picks a least-outstanding replica in %.1f%% of decisions\n", names[i], diag[i][0],
                   log((double)n_replicas), 100 * diag[i][1]);
        }
    if (fh) {
        fprintf(fh, "</table><p>E2E/TTFT/TBT in seconds (TBT: per-request mean time between output tokens); throughput = completed / (last completion - first arrival). "
                    "Verdict \"better\": the paired differences of mean and p99 E2E have 95%% CIs below 0 and throughput is within 1%%.</p>\n");
        for (i = 0; i < ns; i++)
            if (!strncmp(names[i], "ppo", 3))
                fprintf(fh, "<p>%s: policy entropy %.3f (ln N = %.3f), picks a least-outstanding replica in %.1f%% of decisions</p>\n", names[i],
                        diag[i][0], log((double)n_replicas), 100 * diag[i][1]);
        fh = NULL;
        if (!vidur_atomic_close(&ah, 1, &err)) goto fail;
    }
    if (fc) {
        fc = NULL;
        if (!vidur_atomic_close(&ac, 1, &err)) goto fail;
    }
    vidur_ppo_destroy(ppo);
    free(val);
    free(rest);
    return 0;
fail:
    fprintf(stderr, "vidur-compare: %s\n", err.message);
    if (fc) vidur_atomic_close(&ac, 0, NULL);
    if (fh) vidur_atomic_close(&ah, 0, NULL);
    vidur_ppo_destroy(ppo);
    free(rest);
    return 1;
}
