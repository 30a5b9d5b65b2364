/* vidur-mooncake: convert a Mooncake request trace (JSONL) into Vidur's trace CSV.
 *
 *   vidur-mooncake [options] TRACE.jsonl        ("-" reads standard input)
 *     -o FILE                    write FILE (atomically: a temporary file, then rename);
 *                                default: standard output
 *     --max-requests N           convert only the first N requests
 *     --time-scale F             multiply every arrival time by F (default 1)
 *     --session-prefix-blocks K  session key length in 512-token blocks (default 1; see below)
 *     --help
 *
 * Input: one JSON object per line (blank lines are skipped), as in Mooncake's FAST'25 traces:
 *   {"timestamp": <ms>, "input_length": P, "output_length": D, "hash_ids": [h0, h1, ...]}
 * every field a non-negative integer; other keys are ignored. hash_ids are prefix-block hashes with
 * a block size of 512 tokens: ceil(P / 512) of them (floor(P / 512) is accepted too; then the
 * partial last 512-block has no hash and its 16-token blocks get fresh ids).
 *
 * Output columns: arrived_at,num_prefill_tokens,num_decode_tokens,session_id,block_hash_ids,block_size
 *   arrived_at         = timestamp / 1000 * time_scale (seconds; shortest exact decimal)
 *   num_prefill_tokens = input_length,  num_decode_tokens = output_length
 *   block_hash_ids     = "[a, b, ...]": one id per FULL 16-token block of prompt + output, so
 *                        len = floor((P + D) / 16) and 0 <= P + D - 16 * len < 16
 *   block_size         = 16
 * Rows keep the input's order.
 *
 * Hash expansion (512 -> 16 tokens). The 512-block with hash h becomes the 32 blocks
 * h * 32 + j, j = 0..31, so two requests that share k leading 512-blocks share exactly 32k
 * leading 16-blocks. Only full 16-blocks of the prompt get such ids: a partial last 512-block
 * of t tokens contributes its first floor(t / 16) ids. The remaining blocks (the one that
 * straddles prompt and output, and the output's full blocks) get fresh ids that no other block
 * of any request has: they are numbered consecutively, in row order, from 32 * (H + 1), where H
 * is the largest hash id among the converted requests (so above every prompt-derived id).
 *
 * Sessions. Mooncake has no sessions; the rule is: a request's session key is its first K
 * hash ids (K = --session-prefix-blocks, default 1; all of them if it has fewer). A request
 * whose key equals an earlier request's key belongs to that earlier request's session;
 * otherwise it starts a new session. Sessions are numbered 0, 1, 2, ... in order of their first
 * request. A request with no hash ids (input_length 0) is a session of its own. The key groups
 * conversation turns that share a system prompt / history. Note: in conversation_trace.jsonl
 * every request starts with hash id 0 (a prompt shared by all), so K = 1 puts all of them in one
 * session; K = 2 gives 7,373 sessions.
 *
 * Errors (unreadable file, bad JSON, missing field, non-integer, inconsistent lengths) print one
 * line "vidur-mooncake: FILE:LINE: field 'NAME': ..." on stderr and exit with status 1; no output
 * file is created.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidur_trace_out.h"

#define MC_BLOCK 512
#define VB 16
#define EXPAND (MC_BLOCK / VB)
#define MAX_TOKENS 1000000000LL

static const char *prog = "vidur-mooncake";

typedef struct {
    int64_t ts, P, D;
    int64_t hash_off;
    int64_t nhash;
    int64_t session;
} req;

typedef struct {
    req *r;
    int64_t n, cap;
    int64_t *h;
    int64_t nh, hcap;
} trace;

static void die_oom(void)
{
    fprintf(stderr, "%s: out of memory\n", prog);
    exit(1);
}

static void *grow(void *p, int64_t *cap, int64_t need, size_t elem)
{
    int64_t c = *cap ? *cap : 16;
    void *q;
    if (need <= *cap) return p;
    while (c < need) c *= 2;
    q = realloc(p, (size_t)c * elem);
    if (!q) die_oom();
    *cap = c;
    return q;
}

/* ---- a JSON-line parser for this fixed shape ------------------------------------------------ */
typedef struct {
    const char *path;
    long line;
    const char *p;
    char msg[512];
} jp;

static int jfail(jp *j, const char *field, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (field)
        snprintf(j->msg, sizeof j->msg, "%s:%ld: field '%s': %s", j->path, j->line, field, buf);
    else
        snprintf(j->msg, sizeof j->msg, "%s:%ld: invalid JSON: %s", j->path, j->line, buf);
    return 0;
}

static void ws(jp *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n') j->p++;
}

/* describes the text at p for an error message */
static const char *near(const char *p, char *buf, size_t n)
{
    size_t i = 0;
    if (!*p) return "end of line";
    buf[i++] = '\'';
    while (*p && *p != '\n' && *p != '\r' && i + 5 < n && i < 21) buf[i++] = *p++;
    if (*p && *p != '\n' && *p != '\r') { buf[i++] = '.'; buf[i++] = '.'; buf[i++] = '.'; }
    buf[i++] = '\'';
    buf[i] = 0;
    return buf;
}

/* the token at p (up to a delimiter), quoted, for an error message */
static const char *token(const char *p, char *buf, size_t n)
{
    size_t i = 0;
    int str = *p == '"';
    if (!*p || *p == '\n' || *p == '\r') return "end of line";
    buf[i++] = '\'';
    while (*p && *p != '\n' && *p != '\r' && i + 5 < n && i < 21) {
        if (str ? (i > 2 && buf[i - 1] == '"') : (i > 1 && strchr(",}] \t", *p) != NULL)) break;
        buf[i++] = *p++;
    }
    if (i >= 21 && *p && !strchr(",}] \t\r\n", *p)) { buf[i++] = '.'; buf[i++] = '.'; buf[i++] = '.'; }
    buf[i++] = '\'';
    buf[i] = 0;
    return buf;
}

/* a JSON string; copies up to n-1 bytes of its (unescaped) text into out */
static int jstring(jp *j, char *out, size_t n, const char *field)
{
    size_t k = 0;
    char nb[32];
    if (*j->p != '"') return jfail(j, field, "expected a string, got %s", near(j->p, nb, sizeof nb));
    j->p++;
    for (;;) {
        unsigned char c = (unsigned char)*j->p;
        if (!c || c == '\n') return jfail(j, field, "unterminated string");
        if (c < 0x20) return jfail(j, field, "control character in string");
        j->p++;
        if (c == '"') break;
        if (c == '\\') {
            c = (unsigned char)*j->p;
            if (!c) return jfail(j, field, "unterminated string");
            if (!strchr("\"\\/bfnrtu", c)) return jfail(j, field, "bad escape '\\%c' in string", c);
            j->p++;
            if (c == 'u') {
                int i;
                for (i = 0; i < 4; i++, j->p++)
                    if (!strchr("0123456789abcdefABCDEF", *j->p) || !*j->p) return jfail(j, field, "bad \\u escape in string");
                c = '?';
            }
        }
        if (k + 1 < n) out[k++] = (char)c;
    }
    if (n) out[k] = 0;
    return 1;
}

/* a JSON integer (no fraction or exponent), >= 0 */
static int jint(jp *j, const char *field, int64_t *out)
{
    const char *s = j->p;
    char nb[32];
    int64_t v = 0;
    int neg = 0;
    if (*s == '-') { neg = 1; s++; }
    if (*s < '0' || *s > '9') return jfail(j, field, "expected a non-negative integer, got %s", token(j->p, nb, sizeof nb));
    if (*s == '0' && s[1] >= '0' && s[1] <= '9') return jfail(j, field, "leading zero in number %s", token(j->p, nb, sizeof nb));
    while (*s >= '0' && *s <= '9') {
        int d = *s++ - '0';
        if (v > (INT64_MAX - d) / 10) return jfail(j, field, "integer %s is out of range", token(j->p, nb, sizeof nb));
        v = v * 10 + d;
    }
    if (*s == '.' || *s == 'e' || *s == 'E')
        return jfail(j, field, "expected an integer, got the non-integer %s", token(j->p, nb, sizeof nb));
    if (neg && v) return jfail(j, field, "negative value %s", token(j->p, nb, sizeof nb));
    j->p = s;
    *out = v;
    return 1;
}

/* skips any JSON value (for keys we do not use) */
static int jskip(jp *j, const char *field, int depth)
{
    char nb[32];
    if (depth > 64) return jfail(j, field, "nesting too deep");
    ws(j);
    if (*j->p == '"') return jstring(j, NULL, 0, field);
    if (*j->p == '{' || *j->p == '[') {
        char close = *j->p == '{' ? '}' : ']';
        int obj = *j->p == '{';
        j->p++;
        ws(j);
        if (*j->p == close) { j->p++; return 1; }
        for (;;) {
            ws(j);
            if (obj) {
                if (!jstring(j, NULL, 0, field)) return 0;
                ws(j);
                if (*j->p != ':') return jfail(j, field, "expected ':', got %s", near(j->p, nb, sizeof nb));
                j->p++;
            }
            if (!jskip(j, field, depth + 1)) return 0;
            ws(j);
            if (*j->p == ',') { j->p++; continue; }
            if (*j->p == close) { j->p++; return 1; }
            return jfail(j, field, "expected ',' or '%c', got %s", close, near(j->p, nb, sizeof nb));
        }
    }
    if (!strncmp(j->p, "true", 4)) { j->p += 4; return 1; }
    if (!strncmp(j->p, "false", 5)) { j->p += 5; return 1; }
    if (!strncmp(j->p, "null", 4)) { j->p += 4; return 1; }
    if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
        const char *s = j->p;
        if (*s == '-') s++;
        if (*s < '0' || *s > '9') return jfail(j, field, "bad number %s", near(j->p, nb, sizeof nb));
        while (*s >= '0' && *s <= '9') s++;
        if (*s == '.') { s++; if (*s < '0' || *s > '9') return jfail(j, field, "bad number %s", near(j->p, nb, sizeof nb)); while (*s >= '0' && *s <= '9') s++; }
        if (*s == 'e' || *s == 'E') {
            s++;
            if (*s == '+' || *s == '-') s++;
            if (*s < '0' || *s > '9') return jfail(j, field, "bad number %s", near(j->p, nb, sizeof nb));
            while (*s >= '0' && *s <= '9') s++;
        }
        j->p = s;
        return 1;
    }
    return jfail(j, field, "expected a value, got %s", near(j->p, nb, sizeof nb));
}

enum { F_TS, F_IN, F_OUT, F_HASH, NF };
static const char *fname[NF] = {"timestamp", "input_length", "output_length", "hash_ids"};

/* parses one line into t (appending a request); returns 0 with j->msg set on error */
static int parse_line(jp *j, trace *t)
{
    int seen[NF] = {0, 0, 0, 0};
    int64_t v[3] = {0, 0, 0};
    int64_t hoff = t->nh, i, nb;
    char key[64], nbuf[32];
    req *r;
    ws(j);
    if (*j->p != '{') return jfail(j, NULL, "expected '{' at the start of the line, got %s", near(j->p, nbuf, sizeof nbuf));
    j->p++;
    ws(j);
    if (*j->p == '}') j->p++;
    else
        for (;;) {
            int f;
            ws(j);
            if (!jstring(j, key, sizeof key, NULL)) return 0;
            for (f = 0; f < NF; f++)
                if (!strcmp(key, fname[f])) break;
            ws(j);
            if (*j->p != ':') return jfail(j, key, "expected ':' after the key, got %s", near(j->p, nbuf, sizeof nbuf));
            j->p++;
            ws(j);
            if (f < NF && seen[f]) return jfail(j, fname[f], "appears twice");
            if (f < NF) seen[f] = 1;
            if (f == F_HASH) {
                if (*j->p != '[') return jfail(j, "hash_ids", "expected a list of integers, got %s", near(j->p, nbuf, sizeof nbuf));
                j->p++;
                ws(j);
                if (*j->p == ']') j->p++;
                else
                    for (;;) {
                        int64_t h;
                        ws(j);
                        if (!jint(j, "hash_ids", &h)) return 0;
                        t->h = (int64_t *)grow(t->h, &t->hcap, t->nh + 1, sizeof *t->h);
                        t->h[t->nh++] = h;
                        ws(j);
                        if (*j->p == ',') { j->p++; continue; }
                        if (*j->p == ']') { j->p++; break; }
                        return jfail(j, "hash_ids", "expected ',' or ']', got %s", near(j->p, nbuf, sizeof nbuf));
                    }
            } else if (f < NF) {
                if (!jint(j, fname[f], &v[f])) return 0;
            } else if (!jskip(j, key, 0)) {
                return 0;
            }
            ws(j);
            if (*j->p == ',') { j->p++; continue; }
            if (*j->p == '}') { j->p++; break; }
            return jfail(j, key, "expected ',' or '}' after the value, got %s", near(j->p, nbuf, sizeof nbuf));
        }
    ws(j);
    if (*j->p) return jfail(j, NULL, "unexpected text %s after the object", near(j->p, nbuf, sizeof nbuf));
    for (i = 0; i < NF; i++)
        if (!seen[i]) return jfail(j, fname[i], "missing");
    if (v[F_IN] > MAX_TOKENS) return jfail(j, "input_length", "%lld is too large (at most %lld)", (long long)v[F_IN], MAX_TOKENS);
    if (v[F_OUT] > MAX_TOKENS) return jfail(j, "output_length", "%lld is too large (at most %lld)", (long long)v[F_OUT], MAX_TOKENS);
    nb = t->nh - hoff;
    if (nb != (v[F_IN] + MC_BLOCK - 1) / MC_BLOCK && nb != v[F_IN] / MC_BLOCK)
        return jfail(j, "hash_ids", "has %lld ids, but input_length %lld needs ceil(%lld / %d) = %lld (or floor = %lld)",
                     (long long)nb, (long long)v[F_IN], (long long)v[F_IN], MC_BLOCK,
                     (long long)((v[F_IN] + MC_BLOCK - 1) / MC_BLOCK), (long long)(v[F_IN] / MC_BLOCK));
    for (i = hoff; i < t->nh; i++)
        if (t->h[i] > INT64_MAX / EXPAND - 2)
            return jfail(j, "hash_ids", "id %lld is too large to expand (at most %lld)", (long long)t->h[i], (long long)(INT64_MAX / EXPAND - 2));
    t->r = (req *)grow(t->r, &t->cap, t->n + 1, sizeof *t->r);
    r = &t->r[t->n++];
    r->ts = v[F_TS];
    r->P = v[F_IN];
    r->D = v[F_OUT];
    r->hash_off = hoff;
    r->nhash = nb;
    r->session = -1;
    return 1;
}

/* ---- sessions: open-addressing table keyed by the first K hash ids -------------------------- */
static uint64_t key_hash(const int64_t *h, int64_t n)
{
    uint64_t x = 14695981039346656037ULL; /* FNV-1a 64 offset basis */
    int64_t i;
    for (i = 0; i < n; i++) {
        x ^= (uint64_t)h[i];
        x *= 1099511628211ULL;
        x ^= x >> 29;
    }
    return x ^ (uint64_t)n;
}

static void assign_sessions(trace *t, int64_t K)
{
    int64_t cap = 16, i, next = 0;
    int64_t *slot; /* request index of the session's first request, or -1 */
    while (cap < 2 * t->n) cap *= 2;
    slot = (int64_t *)malloc((size_t)cap * sizeof *slot);
    if (!slot) die_oom();
    for (i = 0; i < cap; i++) slot[i] = -1;
    for (i = 0; i < t->n; i++) {
        req *r = &t->r[i];
        int64_t k = r->nhash < K ? r->nhash : K;
        const int64_t *h = t->h + r->hash_off;
        uint64_t s;
        if (k == 0) { r->session = next++; continue; }
        s = key_hash(h, k) & (uint64_t)(cap - 1);
        for (;; s = (s + 1) & (uint64_t)(cap - 1)) {
            req *o;
            int64_t ko;
            if (slot[s] < 0) {
                slot[s] = i;
                r->session = next++;
                break;
            }
            o = &t->r[slot[s]];
            ko = o->nhash < K ? o->nhash : K;
            if (ko == k && !memcmp(t->h + o->hash_off, h, (size_t)k * sizeof *h)) {
                r->session = o->session;
                break;
            }
        }
    }
    free(slot);
}

/* ---- output --------------------------------------------------------------------------------- */
static int write_csv(FILE *f, const trace *t, double time_scale, int64_t fresh)
{
    int64_t i, b;
    char num[64];
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens,session_id,block_hash_ids,block_size\n", f);
    for (i = 0; i < t->n; i++) {
        const req *r = &t->r[i];
        int64_t total = (r->P + r->D) / VB, pfull = r->P / VB;
        const int64_t *h = t->h + r->hash_off;
        trace_fmt_double(num, sizeof num, (double)r->ts / 1000.0 * time_scale);
        fprintf(f, "%s,%lld,%lld,%lld,\"[", num, (long long)r->P, (long long)r->D, (long long)r->session);
        for (b = 0; b < total; b++) {
            int64_t id;
            /* prompt-derived: full 16-blocks of the prompt inside a hashed 512-block */
            if (b < pfull && b / EXPAND < r->nhash) {
                id = h[b / EXPAND] * EXPAND + b % EXPAND;
            } else {
                id = fresh++;
            }
            fprintf(f, b ? ", %lld" : "%lld", (long long)id);
        }
        fprintf(f, "]\",%d\n", VB);
    }
    return ferror(f) ? -1 : 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [options] TRACE.jsonl   (\"-\" = standard input)\n"
            "Converts a Mooncake JSONL trace into Vidur's trace CSV\n"
            "(arrived_at,num_prefill_tokens,num_decode_tokens,session_id,block_hash_ids,block_size).\n"
            "  -o FILE                    output file, written atomically (default: standard output)\n"
            "  --max-requests N           convert only the first N requests\n"
            "  --time-scale F             multiply arrival times by F (default 1)\n"
            "  --session-prefix-blocks K  requests with the same first K 512-token hash ids form a\n"
            "                             session (default 1)\n"
            "  --help                     this text\n",
            prog);
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (end == s || *end || errno) return 0;
    *out = v;
    return 1;
}

int main(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL;
    int64_t max_req = -1, K = 1, i, maxh = -1, fresh;
    double time_scale = 1.0;
    FILE *in;
    trace t;
    jp j;
    char *line = NULL;
    size_t lcap = 0;
    int rc, status = 1;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--max-requests") || !strcmp(a, "--time-scale") ||
                   !strcmp(a, "--session-prefix-blocks")) {
            const char *v;
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: option %s needs a value\n", prog, a);
                return 1;
            }
            v = argv[++i];
            if (!strcmp(a, "-o")) out_path = v;
            else if (!strcmp(a, "--max-requests")) {
                if (!parse_i64(v, &max_req) || max_req < 0) {
                    fprintf(stderr, "%s: --max-requests: '%s' is not a non-negative integer\n", prog, v);
                    return 1;
                }
            } else if (!strcmp(a, "--session-prefix-blocks")) {
                if (!parse_i64(v, &K) || K < 1) {
                    fprintf(stderr, "%s: --session-prefix-blocks: '%s' is not a positive integer\n", prog, v);
                    return 1;
                }
            } else {
                char *end;
                errno = 0;
                time_scale = strtod(v, &end);
                if (end == v || *end || errno || !(time_scale > 0) || time_scale > 1e300) {
                    fprintf(stderr, "%s: --time-scale: '%s' is not a positive number\n", prog, v);
                    return 1;
                }
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, a);
            return 1;
        } else if (in_path) {
            fprintf(stderr, "%s: more than one input file ('%s' and '%s')\n", prog, in_path, a);
            return 1;
        } else {
            in_path = a;
        }
    }
    if (!in_path) {
        usage(stderr);
        return 1;
    }

    if (!strcmp(in_path, "-")) in = stdin;
    else if (!(in = fopen(in_path, "r"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, in_path, strerror(errno));
        return 1;
    }
    memset(&t, 0, sizeof t);
    memset(&j, 0, sizeof j);
    j.path = strcmp(in_path, "-") ? in_path : "<stdin>";
    for (;;) {
        size_t len = 0;
        int got = 0;
        if (max_req >= 0 && t.n >= max_req) break;
        /* read one whole line, however long */
        for (;;) {
            if (lcap - len < 2) {
                lcap = lcap ? lcap * 2 : 4096;
                if (!(line = (char *)realloc(line, lcap))) die_oom();
            }
            if (!fgets(line + len, (int)(lcap - len > INT_MAX ? INT_MAX : lcap - len), in)) break;
            got = 1;
            len += strlen(line + len);
            if (len && line[len - 1] == '\n') break;
        }
        if (ferror(in)) {
            fprintf(stderr, "%s: %s: read error: %s\n", prog, j.path, strerror(errno));
            goto done;
        }
        if (!got) break;
        j.line++;
        if (strlen(line) != len) {
            fprintf(stderr, "%s: %s:%ld: invalid JSON: NUL byte in line\n", prog, j.path, j.line);
            goto done;
        }
        j.p = line;
        ws(&j);
        if (!*j.p) continue; /* blank line */
        if (!parse_line(&j, &t)) {
            fprintf(stderr, "%s: %s\n", prog, j.msg);
            goto done;
        }
    }
    if (in != stdin) fclose(in);
    in = NULL;

    assign_sessions(&t, K);
    for (i = 0; i < t.nh; i++)
        if (t.h[i] > maxh) maxh = t.h[i];
    fresh = (maxh + 1) * EXPAND;
    {
        int64_t total = 0;
        for (i = 0; i < t.n; i++) total += (t.r[i].P + t.r[i].D) / VB;
        if ((maxh + 1) * EXPAND > INT64_MAX - total) {
            fprintf(stderr, "%s: %s: hash ids too large: the fresh output-block ids would overflow\n", prog, j.path);
            goto done;
        }
    }

    {
        trace_out out;
        if (!trace_out_open(&out, prog, out_path)) goto done;
        rc = write_csv(out.f, &t, time_scale, fresh);
        if (!trace_out_close(&out, rc == 0)) goto done;
    }
    status = 0;
done:
    if (in && in != stdin) fclose(in);
    free(line);
    free(t.r);
    free(t.h);
    return status;
}
