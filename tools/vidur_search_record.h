/* vidur_search_record.h - the capacity search's resume records (tools/vidur-search.c).

   A finished point of a search is written to DIR/points/<hash>.txt; the next run of the same
   command reads it back instead of simulating the point again. The same text is what a point's
   process sends back through its pipe. A record is trusted only when all of it checks out:

       vidur-search-point 3
       key <the point's key>
       settings <FNV-1a 64 of the search settings, hex>
       status <0 ok | 1 failed> <reason, or ->
       sims <simulations run>
       slo <k> <found> <qps> <replicas> <probes> <measured> <latency> <ttft p90> <ttft p99> <tbt p99> <e2e p99> <completed> <converged>
       ... (one line per SLO config)
       check <FNV-1a 64 of every byte above, hex>
       end

   A torn, foreign or damaged record (a flipped byte, a `nan` QPS or -5 replicas written by hand
   with an intact key and end marker) is rejected, and its point runs again. Latencies may be
   `nan` (no request finished); counts, QPS and replica numbers must be finite and in range.

   Include after vidur.h and vidur_search.h (VIDUR_SEARCH_MAX_ITEMS); it reads numbers with
   vidur_parse_number, the library's number policy. */
#ifndef VIDUR_SEARCH_RECORD_H
#define VIDUR_SEARCH_RECORD_H

#include <math.h>
#include <stdio.h>
#include <string.h>

/* 3: with the check line (records of 1 and 2 are run again) */
#define VIDUR_SEARCH_RECORD_MAGIC "vidur-search-point 3"

/* one SLO config's outcome at one point */
typedef struct slo_result {
    int found, num_replicas, probes;
    int converged;                          /* a QPS search whose upper bound failed at some probe
                                               (else the QPS found is only a lower bound) */
    double qps, measured, latency;          /* at the best run: the SLO's measured value and the
                                               quantile of its first metric */
    double ttft_p90, ttft_p99, tbt_p99, e2e_p99;
    int64_t completed;
} slo_result;

typedef struct point_result {
    int status;                 /* 0 ok, 1 failed, 2 skipped */
    char reason[256];
    int num_sims;
    slo_result slo[VIDUR_SEARCH_MAX_ITEMS];
} point_result;

static unsigned long long record_fnv(const char *s, size_t n)
{
    unsigned long long h = 14695981039346656037ULL; /* FNV-1a 64 offset basis */
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* the record text of r into buf (n bytes); returns its length (>= n: it did not fit) */
static size_t record_format(const char *key, unsigned long long settings, int nslo, const point_result *r, char *buf, size_t n)
{
    size_t len = 0;
    int k;
#define PUT(...) do { int w_ = snprintf(buf + len, len < n ? n - len : 0, __VA_ARGS__); if (w_ > 0) len += (size_t)w_; } while (0)
    PUT("%s\nkey %s\nsettings %016llx\nstatus %d %s\nsims %d\n", VIDUR_SEARCH_RECORD_MAGIC, key, settings, r->status,
        r->reason[0] ? r->reason : "-", r->num_sims);
    for (k = 0; k < nslo; k++) {
        const slo_result *x = &r->slo[k];
        PUT("slo %d %d %.17g %d %d %.17g %.17g %.17g %.17g %.17g %.17g %lld %d\n", k, x->found, x->qps, x->num_replicas, x->probes,
            x->measured, x->latency, x->ttft_p90, x->ttft_p99, x->tbt_p99, x->e2e_p99, (long long)x->completed, x->converged);
    }
    if (len < n) PUT("check %016llx\nend\n", record_fnv(buf, len));
#undef PUT
    return len;
}

/* the next space-separated token of the line at *p as a number in [lo, hi] (nan_ok: "nan" too) */
static int record_num(const char **p, double lo, double hi, int integer, int nan_ok, double *out)
{
    char tok[64];
    size_t n = 0;
    const char *s = *p;
    if (*s != ' ') return 0;
    s++;
    while (s[n] && s[n] != ' ' && s[n] != '\n') n++;
    if (n == 0 || n >= sizeof tok) return 0;
    memcpy(tok, s, n);
    tok[n] = 0;
    *p = s + n;
    if (nan_ok && (!strcmp(tok, "nan") || !strcmp(tok, "-nan"))) {
        *out = NAN;
        return 1;
    }
    return vidur_parse_number(tok, integer, lo, hi, out) == VIDUR_NUMBER_OK;
}

/* the line at *p must start with word; *p moves past it */
static int record_word(const char **p, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(*p, word, n)) return 0;
    *p += n;
    return 1;
}

/* 1 if text is an intact, valid record of the point with this key, settings and SLO count */
static int record_parse(const char *text, const char *key, unsigned long long settings, int nslo, point_result *r)
{
    const char *p = text, *nl, *body_end;
    double d;
    unsigned long long h;
    char hex[17];
    int k;
    memset(r, 0, sizeof *r);
    if (nslo < 0 || nslo > VIDUR_SEARCH_MAX_ITEMS) return 0;
    /* the checksum first: everything before "check " */
    body_end = strstr(text, "\ncheck ");
    if (!body_end) return 0;
    body_end++;
    if (strlen(body_end) != 6 + 16 + 1 + 4) return 0; /* "check " hex "\n" "end\n", nothing after */
    memcpy(hex, body_end + 6, 16);
    hex[16] = 0;
    if (strspn(hex, "0123456789abcdef") != 16 || strcmp(body_end + 22, "\nend\n")) return 0;
    h = strtoull(hex, NULL, 16);
    if (h != record_fnv(text, (size_t)(body_end - text))) return 0;
    /* then every line and value */
    if (!record_word(&p, VIDUR_SEARCH_RECORD_MAGIC "\nkey ")) return 0;
    nl = strchr(p, '\n');
    if (!nl || (size_t)(nl - p) != strlen(key) || strncmp(p, key, strlen(key))) return 0;
    p = nl + 1;
    if (!record_word(&p, "settings ") || strspn(p, "0123456789abcdef") != 16 || p[16] != '\n' || strtoull(p, NULL, 16) != settings) return 0;
    p += 17;
    if (!record_word(&p, "status") || !record_num(&p, 0, 1, 1, 0, &d)) return 0;
    r->status = (int)d;
    if (*p != ' ' || !(nl = strchr(p, '\n')) || nl - p - 1 < 1 || (size_t)(nl - p - 1) >= sizeof r->reason) return 0;
    memcpy(r->reason, p + 1, (size_t)(nl - p - 1));
    r->reason[nl - p - 1] = 0;
    if (!strcmp(r->reason, "-")) r->reason[0] = 0;
    p = nl + 1;
    if (!record_word(&p, "sims") || !record_num(&p, 0, 1e9, 1, 0, &d) || *p != '\n') return 0;
    r->num_sims = (int)d;
    p++;
    for (k = 0; k < nslo; k++) {
        slo_result *x = &r->slo[k];
        double v[13];
        int i;
        /* k found qps replicas probes | measured latency ttft90 ttft99 tbt99 e2e99 | completed converged */
        if (!record_word(&p, "slo")) return 0;
        for (i = 0; i < 13; i++) {
            int ok = i == 0 ? record_num(&p, k, k, 1, 0, &v[i])
                     : i == 1 ? record_num(&p, 0, 1, 1, 0, &v[i])
                     : i == 2 ? record_num(&p, 0, 1e12, 0, 0, &v[i])
                     : i == 3 ? record_num(&p, 0, 1e6, 1, 0, &v[i])
                     : i == 4 ? record_num(&p, 0, 1e9, 1, 0, &v[i])
                     : i == 11 ? record_num(&p, 0, 9e15, 1, 0, &v[i])
                     : i == 12 ? record_num(&p, 0, 1, 1, 0, &v[i])
                               : record_num(&p, 0, 1e12, 0, 1, &v[i]);
            if (!ok) return 0;
        }
        if (*p != '\n') return 0;
        p++;
        /* a found capacity is a positive QPS on at least one replica */
        if (v[1] == 1 && !(v[2] > 0 && v[3] >= 1)) return 0;
        x->found = (int)v[1];
        x->qps = v[2];
        x->num_replicas = (int)v[3];
        x->probes = (int)v[4];
        x->measured = v[5];
        x->latency = v[6];
        x->ttft_p90 = v[7];
        x->ttft_p99 = v[8];
        x->tbt_p99 = v[9];
        x->e2e_p99 = v[10];
        x->completed = (int64_t)v[11];
        x->converged = (int)v[12];
    }
    return p == body_end;
}

#endif /* VIDUR_SEARCH_RECORD_H */
