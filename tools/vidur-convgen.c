/* vidur-convgen: a synthetic multi-turn conversation trace for Vidur's trace_replay, with
 * session ids and prefix-cache block hashes (no third-party trace needed).
 *
 *   vidur-convgen [options]      (writes the CSV to standard output unless -o is given)
 *
 * Model. S sessions (conversations) arrive as a Poisson process. Each session uses one of K
 * system prompts, shared ACROSS sessions, and has T turns. Turn t's prompt is the whole
 * conversation so far plus the new user message:
 *     P_1 = L_sys + U_1,      P_t = P_{t-1} + D_{t-1} + U_t   (t > 1)
 * so turn t's prompt starts with turn t-1's prompt + output. Turn 1 arrives with its session;
 * turn t > 1 arrives  D_{t-1} * token_time + think  seconds after turn t-1 (a nominal time to
 * generate the previous answer, then the user's think time).
 *
 * Distributions (U{a..b} = uniform integer in [a, b], Exp(m) = exponential with mean m):
 *   system prompt lengths  L_k ~ U{system_min..system_max}, k = 0..K-1 (drawn first)
 *   session gap            Exp(1 / qps)           (first session arrives after one gap)
 *   system prompt choice   k ~ U{0..K-1}
 *   turns                  T ~ U{turns_min..turns_max}
 *   user tokens            U_t ~ U{user_min..user_max}
 *   output tokens          D_t ~ U{output_min..output_max}
 *   think time             Exp(think_time)
 * Draw order: the K system lengths; then per session in order: gap, k, T, then per turn:
 * (think, if t > 1), U_t, D_t. A session ends early at the first turn with P_t + D_t >
 * max_tokens (that turn is not emitted), so every request fits trace_replay's max_tokens
 * uncut. Arrival times are rounded to 1 microsecond as they are computed.
 *
 * Block hashes (block size 16): each request lists one id per FULL 16-token block of prompt +
 * output: len = floor((P + D) / 16), so 0 <= P + D - 16 * len < 16. System prompt k's
 * floor(L_k / 16) full blocks have ids shared by every session that uses it (ids are given to
 * system prompts 0, 1, ... consecutively from 0). Every other block gets a fresh id (a counter
 * continuing above the system prompts' ids, advanced session by session, turn by turn), and
 * turn t reuses turn t-1's whole list (its blocks cover the same tokens) before its own fresh
 * ids: turn t's list starts with turn t-1's list. The block that straddles the system prompt
 * and the first user message is a fresh, per-session id.
 *
 * Defaults: 200 sessions at qps 1 (sessions/s), K = 4 system prompts of U{256..1024} tokens,
 * T ~ U{2..8}, U_t ~ U{16..384}, D_t ~ U{16..384}, think Exp(10 s), token_time 0.02 s,
 * max_tokens 4096, seed 42: 1,000 requests over ~354 s, mean prompt 1,951 and output 203 tokens;
 * 89.5% of all prompt blocks are a prefix already seen in an earlier request.
 *
 * Random numbers: xoshiro256** (Blackman & Vigna), its state filled by splitmix64 from --seed.
 * u ~ U[0,1) = (next >> 11) * 2^-53; U{a..b} by rejection (unbiased); Exp(m) = -m * log(1 - u).
 *
 * Output: arrived_at,num_prefill_tokens,num_decode_tokens,session_id,block_hash_ids,block_size
 * sorted by arrived_at (ties: by session, then turn); session ids are 0..S-1 in arrival order.
 * Written atomically with -o (a temporary file, then rename). Same options, same bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidur_trace_out.h"

#define VB 16

static const char *prog = "vidur-convgen";

/* ---- random numbers ------------------------------------------------------------------------- */
typedef struct { uint64_t s[4]; } rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

static void rng_seed(rng *r, uint64_t seed)
{
    int i;
    for (i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static double rng_u01(rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

static int64_t rng_int(rng *r, int64_t lo, int64_t hi) /* U{lo..hi} */
{
    uint64_t n = (uint64_t)(hi - lo) + 1, lim, x;
    if (n == 0) return lo + (int64_t)rng_next(r); /* whole 64-bit range: not used here */
    lim = UINT64_MAX - UINT64_MAX % n;
    do x = rng_next(r); while (x >= lim);
    return lo + (int64_t)(x % n);
}

static double rng_exp(rng *r, double mean) { return -mean * log(1.0 - rng_u01(r)); }

static double round_us(double x) { return floor(x * 1e6 + 0.5) / 1e6; }

/* ---- options -------------------------------------------------------------------------------- */
typedef struct {
    const char *name;
    int is_int;
    double lo, hi; /* accepted range */
    double def;
    const char *help;
    double v;
} opt;

enum {
    O_SESSIONS, O_QPS, O_SYSPROMPTS, O_SYSMIN, O_SYSMAX, O_TURNSMIN, O_TURNSMAX, O_USERMIN, O_USERMAX,
    O_OUTMIN, O_OUTMAX, O_THINK, O_TOKTIME, O_MAXTOK, O_SEED, NOPT
};

static opt opts[NOPT] = {
    {"--sessions", 1, 0, 1e7, 200, "number of sessions (conversations)", 0},
    {"--qps", 0, 1e-9, 1e9, 1.0, "session arrival rate, sessions per second (Poisson)", 0},
    {"--system-prompts", 1, 1, 1e6, 4, "size K of the pool of system prompts shared across sessions", 0},
    {"--system-min", 1, 0, 1e8, 256, "system prompt length, min tokens", 0},
    {"--system-max", 1, 0, 1e8, 1024, "system prompt length, max tokens", 0},
    {"--turns-min", 1, 1, 1e6, 2, "turns per session, min", 0},
    {"--turns-max", 1, 1, 1e6, 8, "turns per session, max", 0},
    {"--user-min", 1, 0, 1e8, 16, "new user tokens per turn, min", 0},
    {"--user-max", 1, 0, 1e8, 384, "new user tokens per turn, max", 0},
    {"--output-min", 1, 1, 1e8, 16, "output tokens per turn, min", 0},
    {"--output-max", 1, 1, 1e8, 384, "output tokens per turn, max", 0},
    {"--think-time", 0, 0, 1e9, 10.0, "mean think time between an answer and the next turn, s (exponential)", 0},
    {"--token-time", 0, 0, 1e3, 0.02, "nominal seconds per output token of the previous turn, added to the gap", 0},
    {"--max-tokens", 1, 1, 1e9, 4096, "a session ends at the first turn with prompt + output above this", 0},
    {"--seed", 1, 0, 9007199254740991.0, 42, "random seed", 0},
};

static void usage(FILE *f)
{
    int i;
    fprintf(f, "usage: %s [options]\n"
               "Synthetic multi-turn conversation trace (CSV for Vidur's trace_replay, with session_id and\n"
               "block_hash_ids); see the comment at the top of tools/vidur-convgen.c for the model.\n"
               "  -o FILE              output file, written atomically (default: standard output)\n", prog);
    for (i = 0; i < NOPT; i++) {
        char d[32];
        snprintf(d, sizeof d, "%s %s", opts[i].name, opts[i].is_int ? "N" : "X");
        fprintf(f, "  %-20s %s (default %g)\n", d, opts[i].help, opts[i].def);
    }
    fprintf(f, "  --help               this text\n");
}

/* ---- generation ----------------------------------------------------------------------------- */
typedef struct {
    double at;
    int64_t session, turn, P, D, nids;
} row;

typedef struct {
    int64_t *ids;
    int64_t n, cap;
} idlist;

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(1);
    }
    return q;
}

static void push_id(idlist *l, int64_t id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->ids = (int64_t *)xrealloc(l->ids, (size_t)l->cap * sizeof *l->ids);
    }
    l->ids[l->n++] = id;
}

static int row_cmp(const void *a, const void *b)
{
    const row *x = (const row *)a, *y = (const row *)b;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    if (x->session != y->session) return x->session < y->session ? -1 : 1;
    return x->turn < y->turn ? -1 : x->turn > y->turn;
}

static int64_t I(int o) { return (int64_t)opts[o].v; }

int main(int argc, char **argv)
{
    const char *out_path = NULL;
    int i;
    rng r;
    int64_t K, S, s, next_id = 0, nrows = 0, rcap = 0, k;
    idlist *sys, *sess;
    int64_t *sys_len;
    row *rows = NULL;
    double t_session = 0;
    trace_out out;
    int status = 1;

    for (i = 0; i < NOPT; i++) opts[i].v = opts[i].def;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int o;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "-o")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: option -o needs a value\n", prog);
                return 1;
            }
            out_path = argv[++i];
            continue;
        }
        for (o = 0; o < NOPT; o++)
            if (!strcmp(a, opts[o].name)) break;
        if (o == NOPT) {
            fprintf(stderr, "%s: unknown %s '%s' (see --help)\n", prog, a[0] == '-' ? "option" : "argument", a);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: option %s needs a value\n", prog, a);
            return 1;
        }
        {
            const char *v = argv[++i];
            char *end;
            double x;
            errno = 0;
            if (opts[o].is_int) {
                long long n = strtoll(v, &end, 10);
                x = (double)n;
            } else {
                x = strtod(v, &end);
            }
            if (end == v || *end || errno || !(x >= opts[o].lo && x <= opts[o].hi)) {
                fprintf(stderr, "%s: %s: '%s' is not %s in [%g, %g]\n", prog, a, v, opts[o].is_int ? "an integer" : "a number",
                        opts[o].lo, opts[o].hi);
                return 1;
            }
            opts[o].v = x;
        }
    }
    {
        static const int pairs[][2] = {{O_SYSMIN, O_SYSMAX}, {O_TURNSMIN, O_TURNSMAX}, {O_USERMIN, O_USERMAX}, {O_OUTMIN, O_OUTMAX}};
        for (i = 0; i < 4; i++)
            if (opts[pairs[i][0]].v > opts[pairs[i][1]].v) {
                fprintf(stderr, "%s: %s %g is larger than %s %g\n", prog, opts[pairs[i][0]].name, opts[pairs[i][0]].v,
                        opts[pairs[i][1]].name, opts[pairs[i][1]].v);
                return 1;
            }
    }

    rng_seed(&r, (uint64_t)I(O_SEED));
    K = I(O_SYSPROMPTS);
    S = I(O_SESSIONS);
    sys = (idlist *)xrealloc(NULL, (size_t)K * sizeof *sys);
    sys_len = (int64_t *)xrealloc(NULL, (size_t)K * sizeof *sys_len);
    sess = (idlist *)xrealloc(NULL, (size_t)(S ? S : 1) * sizeof *sess);
    memset(sys, 0, (size_t)K * sizeof *sys);
    memset(sess, 0, (size_t)(S ? S : 1) * sizeof *sess);
    for (k = 0; k < K; k++) {
        int64_t b;
        sys_len[k] = rng_int(&r, I(O_SYSMIN), I(O_SYSMAX));
        for (b = 0; b < sys_len[k] / VB; b++) push_id(&sys[k], next_id++);
    }
    for (s = 0; s < S; s++) {
        int64_t ks, T, t, P = 0, D = 0;
        double at;
        idlist *l = &sess[s];
        t_session = round_us(t_session + rng_exp(&r, 1.0 / opts[O_QPS].v));
        at = t_session;
        ks = rng_int(&r, 0, K - 1);
        T = rng_int(&r, I(O_TURNSMIN), I(O_TURNSMAX));
        for (t = 0; t < T; t++) {
            int64_t U;
            if (t > 0) at = round_us(at + (double)D * opts[O_TOKTIME].v + rng_exp(&r, opts[O_THINK].v));
            U = rng_int(&r, I(O_USERMIN), I(O_USERMAX));
            P = t == 0 ? sys_len[ks] + U : P + D + U;
            D = rng_int(&r, I(O_OUTMIN), I(O_OUTMAX));
            if (P + D > I(O_MAXTOK)) break;
            if (t == 0) {
                int64_t b;
                for (b = 0; b < sys[ks].n; b++) push_id(l, sys[ks].ids[b]);
            }
            while (l->n < (P + D) / VB) push_id(l, next_id++);
            if (nrows == rcap) {
                rcap = rcap ? rcap * 2 : 256;
                rows = (row *)xrealloc(rows, (size_t)rcap * sizeof *rows);
            }
            rows[nrows].at = at;
            rows[nrows].session = s;
            rows[nrows].turn = t;
            rows[nrows].P = P;
            rows[nrows].D = D;
            rows[nrows].nids = l->n;
            nrows++;
        }
    }
    if (nrows) qsort(rows, (size_t)nrows, sizeof *rows, row_cmp);

    if (!trace_out_open(&out, prog, out_path)) goto done;
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens,session_id,block_hash_ids,block_size\n", out.f);
    for (s = 0; s < nrows; s++) {
        const row *w = &rows[s];
        const int64_t *ids = sess[w->session].ids;
        int64_t b;
        char num[64];
        trace_fmt_double(num, sizeof num, w->at);
        fprintf(out.f, "%s,%lld,%lld,%lld,\"[", num, (long long)w->P, (long long)w->D, (long long)w->session);
        for (b = 0; b < w->nids; b++) fprintf(out.f, b ? ", %lld" : "%lld", (long long)ids[b]);
        fprintf(out.f, "]\",%d\n", VB);
    }
    if (!trace_out_close(&out, 1)) goto done;
    status = 0;
done:
    for (k = 0; k < K; k++) free(sys[k].ids);
    for (s = 0; s < S; s++) free(sess[s].ids);
    free(sys);
    free(sess);
    free(sys_len);
    free(rows);
    return status;
}
