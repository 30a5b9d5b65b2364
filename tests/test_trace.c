/* test_trace.c - the trace files: chrome_trace.json and perfetto_trace.pftrace written from the
   same run, checked field by field against each other and against what a tiny hand-built run
   must show (tracks, slices, their arguments, counters); the size guard (a trace over
   metrics_config_max_trace_size_mb is not written, the message gives its exact size, nothing
   partial is left); the batch and time windows; the output writer thread (the same bytes when
   the trace, the per-batch rows and request_metrics.csv are written during the run; another
   folder than the prepared one; the size guard; a run abandoned after its folder was prepared). The Perfetto file is read with a small protobuf
   decoder written here (tests/test_perfetto.sh also reads it with protoc). */
#define _POSIX_C_SOURCE 200809L
#define VIDUR_IMPLEMENTATION
#include "vidur.h"
#include "test.h"

#include <dirent.h>
#include <stdint.h>
#include <unistd.h>

static char dir_[64], trace_csv_[128];

/* ---- a protobuf reader: enough for the Trace messages the library writes ---- */
typedef struct {
    const unsigned char *p, *end;
} pb_;

static int pb_varint_(pb_ *m, uint64_t *v)
{
    int sh = 0;
    *v = 0;
    while (m->p < m->end) {
        unsigned char b = *m->p++;
        *v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) return 1;
        if ((sh += 7) > 63) return 0;
    }
    return 0;
}

/* the next field: its number, wire type, value (varint, fixed64) or contents (length-delimited) */
static int pb_next_(pb_ *m, int *field, int *wire, uint64_t *v, pb_ *sub)
{
    uint64_t key, len;
    if (m->p >= m->end || !pb_varint_(m, &key)) return 0;
    *field = (int)(key >> 3);
    *wire = (int)(key & 7);
    switch (*wire) {
    case 0: return pb_varint_(m, v);
    case 1:
        if (m->end - m->p < 8) return 0;
        memcpy(v, m->p, 8); /* little-endian host */
        m->p += 8;
        return 1;
    case 2:
        if (!pb_varint_(m, &len) || (uint64_t)(m->end - m->p) < len) return 0;
        sub->p = m->p;
        sub->end = m->p + len;
        m->p += len;
        return 1;
    default: return 0;
    }
}

/* one TracePacket, the fields this test looks at; read_pftrace_ resolves what the packet
   leaves to its sequence (as a trace processor does): the absolute time, the track, the
   interned request-id string */
typedef struct {
    int has_ts, seq, flags, interned, bad, clock_id; /* clock_id: timestamp_clock_id (0: the default) */
    uint64_t ts, delta;                               /* ts: resolved (ns); delta: as written */
    /* the sequence's first packet: clock snapshot and defaults */
    int is_snapshot, snap_ok, has_defaults, def_clock;
    uint64_t def_track;
    int names_interned;      /* event and annotation names in interned_data */
    uint64_t str_iid;        /* interned_data.debug_annotation_string_values (one at most) */
    char str[2048];
    /* track_descriptor */
    int is_track, has_parent, child_ordering, rank, counter_unit, has_rank;
    uint64_t uuid, parent;
    char name[64], unit_name[16];
    /* track_event */
    int is_event, type, name_iid, has_int, has_double, has_track;
    uint64_t track, ids_iid;
    int has_arg[8], has_tok;
    char ids_str[2048], tok_str[512];
    int64_t ival;
    double dval;
    int64_t arg[8];       /* integer annotations by name iid: 1 batch_id, 4 prefill, 5 decode */
    int64_t ids[64], tok[64]; /* request_ids and num_tokens, decoded */
    int nids, ntok;
} pkt_;

/* the compact lists (docs/outputs.md), decoded: ids "a", "a-b" (step 1), "a-b:d"; token counts
   "v", "v*k"; comma-separated. Returns the number of values, -1 when malformed. */
static int decode_ids_(const char *s, int64_t *out, int max)
{
    int n = 0;
    while (*s) {
        char *e;
        long long a = strtoll(s, &e, 10), b = a, d = 1;
        if (e == s) return -1;
        s = e;
        if (*s == '-') {
            b = strtoll(s + 1, &e, 10);
            s = e;
            if (*s == ':') {
                d = strtoll(s + 1, &e, 10);
                s = e;
            }
        }
        if (d < 1 || b < a) return -1;
        for (; a <= b; a += d) {
            if (n == max) return -1;
            out[n++] = a;
        }
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return n;
}

static int decode_tok_(const char *s, int64_t *out, int max)
{
    int n = 0;
    while (*s) {
        char *e;
        long long v = strtoll(s, &e, 10), k = 1;
        if (e == s) return -1;
        s = e;
        if (*s == '*') {
            k = strtoll(s + 1, &e, 10);
            s = e;
        }
        for (; k > 0; k--) {
            if (n == max) return -1;
            out[n++] = v;
        }
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return n;
}

static void copy_str_(char *dst, size_t n, pb_ s)
{
    size_t len = (size_t)(s.end - s.p);
    if (len >= n) len = n - 1;
    memcpy(dst, s.p, len);
    dst[len] = 0;
}

/* a debug annotation: 1 batch_id, 4 num_prefill_tokens, 5 num_decode_tokens (int_value),
   2 request_ids (string_value_iid), 3 num_tokens (string_value) */
static void parse_annotation_(pkt_ *k, pb_ a)
{
    int f, w, iid = 0, kind = 0;
    uint64_t v, val = 0;
    pb_ sub, str;
    memset(&str, 0, sizeof str);
    while (pb_next_(&a, &f, &w, &v, &sub)) {
        if (f == 1 && w == 0) iid = (int)v;
        else if ((f == 4 || f == 17) && w == 0) {
            kind = f;
            val = v;
        } else if (f == 6 && w == 2) {
            kind = 6;
            str = sub;
        } else k->bad++;
    }
    if (iid < 1 || iid > 5 || kind != (iid == 2 ? 17 : iid == 3 ? 6 : 4) || k->has_arg[iid]) {
        k->bad++;
        return;
    }
    k->has_arg[iid] = 1;
    if (iid == 2) k->ids_iid = val;
    else if (iid == 3) {
        k->has_tok = 1;
        copy_str_(k->tok_str, sizeof k->tok_str, str);
    } else k->arg[iid] = (int64_t)val;
}

static void parse_packet_(pkt_ *k, pb_ m)
{
    int f, w;
    uint64_t v;
    pb_ sub;
    memset(k, 0, sizeof *k);
    while (pb_next_(&m, &f, &w, &v, &sub)) {
        if (f == 8 && w == 0) {
            k->has_ts = 1;
            k->ts = v;
        } else if (f == 10 && w == 0) k->seq = (int)v;
        else if (f == 13 && w == 0) k->flags = (int)v;
        else if (f == 58 && w == 0) k->clock_id = (int)v;
        else if (f == 12 && w == 2) { /* InternedData */
            int f2, w2, f3, w3;
            uint64_t v2, v3;
            pb_ s2, s3;
            k->interned = 1;
            while (pb_next_(&sub, &f2, &w2, &v2, &s2)) {
                if (f2 == 2 || f2 == 3) k->names_interned++;
                else if (f2 == 29 && w2 == 2 && !k->str_iid) /* InternedString { iid = 1, str = 2 } */
                    while (pb_next_(&s2, &f3, &w3, &v3, &s3)) {
                        if (f3 == 1) k->str_iid = v3;
                        else if (f3 == 2) copy_str_(k->str, sizeof k->str, s3);
                    }
                else k->bad++;
            }
        } else if (f == 6 && w == 2) { /* ClockSnapshot: clock 64 incremental at 0, BOOTTIME (6) at 0 */
            int f2, w2, f3, w3, nclk = 0;
            uint64_t v2, v3;
            pb_ s2, s3;
            k->is_snapshot = 1;
            k->snap_ok = 1;
            while (pb_next_(&sub, &f2, &w2, &v2, &s2)) {
                uint64_t id = 0, ts = 1, incr = 0;
                while (pb_next_(&s2, &f3, &w3, &v3, &s3)) {
                    if (f3 == 1) id = v3;
                    else if (f3 == 2) ts = v3;
                    else if (f3 == 3) incr = v3;
                }
                if (f2 != 1 || ts != 0 || !(nclk == 0 ? id == 64 && incr == 1 : nclk == 1 && id == 6 && incr == 0)) k->snap_ok = 0;
                nclk++;
            }
            if (nclk != 2) k->snap_ok = 0;
        } else if (f == 59 && w == 2) { /* TracePacketDefaults { timestamp_clock_id = 58, track_event_defaults = 11 { track_uuid = 11 } } */
            int f2, w2, f3, w3;
            uint64_t v2, v3;
            pb_ s2, s3;
            k->has_defaults = 1;
            while (pb_next_(&sub, &f2, &w2, &v2, &s2)) {
                if (f2 == 58) k->def_clock = (int)v2;
                else if (f2 == 11 && w2 == 2)
                    while (pb_next_(&s2, &f3, &w3, &v3, &s3)) {
                        if (f3 == 11) k->def_track = v3;
                        else k->bad++;
                    }
                else k->bad++;
            }
        } else if (f == 60 && w == 2) {
            int f2, w2;
            uint64_t v2;
            pb_ s2;
            k->is_track = 1;
            while (pb_next_(&sub, &f2, &w2, &v2, &s2)) {
                if (f2 == 1) k->uuid = v2;
                else if (f2 == 2) copy_str_(k->name, sizeof k->name, s2);
                else if (f2 == 5) {
                    k->has_parent = 1;
                    k->parent = v2;
                } else if (f2 == 11) k->child_ordering = (int)v2;
                else if (f2 == 12) {
                    k->has_rank = 1;
                    k->rank = (int)v2;
                } else if (f2 == 8) { /* CounterDescriptor */
                    int f3, w3;
                    uint64_t v3;
                    pb_ s3;
                    k->counter_unit = -1;
                    while (pb_next_(&s2, &f3, &w3, &v3, &s3)) {
                        if (f3 == 3) k->counter_unit = (int)v3;
                        else if (f3 == 6) copy_str_(k->unit_name, sizeof k->unit_name, s3);
                    }
                } else k->bad++;
            }
        } else if (f == 11 && w == 2) {
            int f2, w2;
            uint64_t v2;
            pb_ s2;
            k->is_event = 1;
            while (pb_next_(&sub, &f2, &w2, &v2, &s2)) {
                if (f2 == 9) k->type = (int)v2;
                else if (f2 == 11) {
                    k->has_track = 1;
                    k->track = v2;
                }
                else if (f2 == 10) k->name_iid = (int)v2;
                else if (f2 == 30 && w2 == 0) {
                    k->has_int = 1;
                    k->ival = (int64_t)v2;
                } else if (f2 == 44 && w2 == 1) {
                    k->has_double = 1;
                    memcpy(&k->dval, &v2, 8);
                } else if (f2 == 4 && w2 == 2) parse_annotation_(k, s2);
                else k->bad++;
            }
        } else k->bad++;
    }
}

/* What each event leaves to its sequence, resolved in file order: the time (a delta on the
   sequence's incremental clock 64, or absolute with timestamp_clock_id 6), the track (the
   sequence's default), the request ids (the sequence's interned string; iids per sequence).
   A packet that cannot be resolved (no clock or defaults yet, an unknown iid) counts as bad. */
#define MAX_SEQ_ 64
static void resolve_(pkt_ *ps, int n)
{
    uint64_t clock[MAX_SEQ_] = {0}, track[MAX_SEQ_] = {0}, iids[MAX_SEQ_][8];
    static char strs[MAX_SEQ_][8][2048]; /* the last 8 interned strings of each sequence */
    int started[MAX_SEQ_] = {0}, i, j;
    memset(iids, 0, sizeof iids);
    for (i = 0; i < n; i++) {
        pkt_ *k = &ps[i];
        int q = k->seq;
        if (q < 0 || q >= MAX_SEQ_) {
            k->bad++;
            continue;
        }
        if (k->has_defaults) {
            started[q] = k->def_clock == 64 && k->is_snapshot && k->snap_ok;
            clock[q] = 0;
            track[q] = k->def_track;
        }
        if (k->str_iid) {
            j = (int)(k->str_iid % 8);
            iids[q][j] = k->str_iid;
            snprintf(strs[q][j], sizeof strs[q][j], "%s", k->str);
        }
        if (!k->is_event) continue;
        if (!started[q]) k->bad++;
        k->delta = k->ts;
        if (k->clock_id == 6) {
        } else if (k->clock_id == 0) k->ts = clock[q] += k->ts;
        else k->bad++;
        if (!k->has_track) k->track = track[q];
        if (k->type == 1) {
            j = (int)(k->ids_iid % 8);
            if (!k->ids_iid || iids[q][j] != k->ids_iid) k->bad++;
            else {
                snprintf(k->ids_str, sizeof k->ids_str, "%s", strs[q][j]);
                k->nids = decode_ids_(k->ids_str, k->ids, 64);
            }
            if (k->has_tok) k->ntok = decode_tok_(k->tok_str, k->tok, 64);
            else
                for (k->ntok = 0; k->ntok < k->nids; k->ntok++) k->tok[k->ntok] = 1; /* left out: every count 1 */
        }
    }
}

/* all packets of a .pftrace file (malloc'd array), or NULL when it is not a Trace message */
static pkt_ *read_pftrace_(const char *path, int *n)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long len;
    pb_ m, sub;
    int fld, w, cap = 256;
    uint64_t v;
    pkt_ *ps = (pkt_ *)malloc((size_t)cap * sizeof *ps);
    *n = 0;
    if (!f || !ps) {
        if (f) fclose(f);
        free(ps);
        return NULL;
    }
    data = test_slurp_(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fclose(f);
    if (!data) {
        free(ps);
        return NULL;
    }
    m.p = (const unsigned char *)data;
    m.end = m.p + len;
    while (m.p < m.end) {
        if (!pb_next_(&m, &fld, &w, &v, &sub) || fld != 1 || w != 2) { /* Trace { repeated TracePacket packet = 1; } */
            free(data);
            free(ps);
            return NULL;
        }
        if (*n == cap) {
            pkt_ *np = (pkt_ *)realloc(ps, (size_t)(cap *= 2) * sizeof *ps);
            if (!np) break;
            ps = np;
        }
        parse_packet_(&ps[(*n)++], sub);
    }
    free(data);
    resolve_(ps, *n);
    return ps;
}

/* ---- chrome_trace.json's slices ---- */
typedef struct {
    double ts, dur;
    int pid, tid, size, ntok;
    long long batch, prefill, decode, total, ids[64], tok[64];
} jslice_;

static int parse_list_(const char *p, long long *out, int max)
{
    int n = 0;
    while (*p && *p != ']' && n < max) {
        char *e;
        out[n++] = strtoll(p, &e, 10);
        p = e;
        if (*p == ',') p += 2;
    }
    return n;
}

static jslice_ *read_json_slices_(const char *path, int *n)
{
    char *s = test_slurp_file_(path, NULL), *line;
    int cap = 256;
    jslice_ *js = (jslice_ *)malloc((size_t)cap * sizeof *js);
    *n = 0;
    if (!s || !js) {
        free(s);
        free(js);
        return NULL;
    }
    for (line = strstr(s, "\n{\"name\": \"["); line; line = strstr(line + 1, "\n{\"name\": \"[")) {
        jslice_ *j;
        const char *a;
        if (*n == cap) js = (jslice_ *)realloc(js, (size_t)(cap *= 2) * sizeof *js);
        j = &js[(*n)++];
        memset(j, 0, sizeof *j);
        a = strstr(line, "\"ts\": ");
        sscanf(a, "\"ts\": %lf, \"dur\": %lf, \"pid\": %d, \"tid\": %d, \"args\": {\"batch_id\": %lld, \"batch_size\": %d", &j->ts, &j->dur,
               &j->pid, &j->tid, &j->batch, &j->size);
        parse_list_(strstr(line, "\"request_ids\": [") + 16, j->ids, 64);
        j->ntok = parse_list_(strstr(line, "\"num_tokens\": [") + 15, j->tok, 64);
        a = strstr(line, "\"num_prefill_tokens\": ");
        sscanf(a, "\"num_prefill_tokens\": %lld, \"num_decode_tokens\": %lld, \"total_num_tokens\": %lld", &j->prefill, &j->decode, &j->total);
    }
    free(s);
    return js;
}

static long long file_size_(const char *dir, const char *name)
{
    char p[256];
    FILE *f;
    long long n;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (!(f = fopen(p, "rb"))) return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return n;
}

static int count_files_containing_(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, part)) n++;
    closedir(d);
    return n;
}

static void rm_dir_(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("  (could not remove %s)\n", dir);
}

/* runs kv (NULL-terminated pairs) and writes the outputs; returns the first failure's result.
   pdir: the output folder prepared before the run (the writer thread starts there), or NULL;
   wdir: where the outputs go (NULL: the prepared folder; "" writes nothing: the simulation is
   destroyed as after an interruption); sum (if not NULL) gets the summary */
static vidur_result run_in_(const char *const *kv, const char *pdir, const char *wdir, vidur_error *err, vidur_summary *sum)
{
    vidur_config c;
    vidur_sim *sim;
    vidur_result r;
    const char *where = pdir ? pdir : wdir;
    int i;
    vidur_config_init(&c);
    SET(&c, "metrics_config_write_metrics", "true");
    for (i = 0; kv[i]; i += 2) SET(&c, kv[i], kv[i + 1]);
    memset(err, 0, sizeof *err);
    if ((r = vidur_sim_create(&c, &sim, err)) != VIDUR_OK) {
        printf("  %s: %s\n", where, err->message);
        return r;
    }
    if ((pdir && (r = vidur_sim_prepare_outputs(sim, pdir, NULL, 0, err)) != VIDUR_OK) || (r = vidur_sim_run(sim)) != VIDUR_OK) {
        if (!err->message[0]) *err = *vidur_sim_error(sim);
        printf("  %s: %s\n", where, err->message);
        vidur_sim_destroy(sim);
        return r;
    }
    if (sum) *sum = *vidur_sim_summary(sim);
    r = wdir && !wdir[0] ? VIDUR_OK : vidur_sim_write_outputs(sim, wdir, NULL, 0, err);
    vidur_sim_destroy(sim);
    if (r != VIDUR_OK) printf("  %s: %s\n", where, err->message);
    return r;
}

/* runs kv and writes the outputs into dir (no folder prepared: everything at the end) */
static vidur_result run_(const char *const *kv, const char *dir, vidur_error *err, vidur_summary *sum) { return run_in_(kv, NULL, dir, err, sum); }

/* the same with the output folder pdir prepared before the run (see run_in_) */
static vidur_result run_prepared_(const char *const *kv, const char *pdir, const char *wdir, vidur_error *err) { return run_in_(kv, pdir, wdir, err, NULL); }

/* 1 when dir_a/name and dir_b/name hold the same bytes (and exist) */
static int same_file_(const char *dir_a, const char *dir_b, const char *name)
{
    char pa[256], pb[256], ba[65536], bb[65536];
    FILE *fa, *fb;
    size_t na, nb;
    int same = 1;
    snprintf(pa, sizeof pa, "%s/%s", dir_a, name);
    snprintf(pb, sizeof pb, "%s/%s", dir_b, name);
    fa = fopen(pa, "rb");
    fb = fopen(pb, "rb");
    if (!fa || !fb) same = 0;
    while (same) {
        na = fread(ba, 1, sizeof ba, fa);
        nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb || memcmp(ba, bb, na) != 0) same = 0;
        if (!na) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    if (!same) printf("  %s differs between %s and %s\n", name, dir_a, dir_b);
    return same;
}

/* Three requests on one replica with two pipeline stages, one request per batch: r0 and r1 at
   t = 0 (32 prompt tokens, 2 output tokens each), r2 at t = 5 (16 and 3). */
TEST(tiny_run_field_by_field)
{
    const char *const kv[] = {"request_generator_config_type", "trace_replay", "trace_request_generator_config_trace_file", trace_csv_,
                              "cluster_config_num_replicas", "1", "replica_config_num_pipeline_stages", "2",
                              "replica_scheduler_config_type", "vllm", "vllm_scheduler_config_batch_size_cap", "2",
                              "execution_time_predictor_config_type", "roofline", "metrics_config_trace_format", "both",
                              "metrics_config_store_plots", "false", NULL};
    char out[128], path[160];
    vidur_error err;
    vidur_summary sum;
    pkt_ *ps;
    jslice_ *js;
    int np, nj, i, k, slices = 0, ends = 0, bad = 0, tokens[3] = {0, 0, 0}, prefill_named = 0, headers = 0, seq_opened[8] = {0};
    int64_t last_ids[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    uint64_t iid[8] = {0};
    uint64_t last_end = 0, track_end[8] = {0}, last_stage0_begin = 0;
    int64_t last_batch_value = -1, last_queue = -1;
    double last_kv = -1;
    snprintf(out, sizeof out, "%s/tiny", dir_);
    REQUIRE(run_(kv, out, &err, &sum) == VIDUR_OK);
    snprintf(path, sizeof path, "%s/perfetto_trace.pftrace", out);
    ps = read_pftrace_(path, &np);
    snprintf(path, sizeof path, "%s/chrome_trace.json", out);
    js = read_json_slices_(path, &nj);
    REQUIRE(ps != NULL && js != NULL);
    CHECK_EQ_INT(sum.num_completed, 3);
    /* one slice per batch and stage */
    CHECK_EQ_INT(nj, 2 * sum.num_batches);

    /* the tracks: replica 0 (uuid 1), its stages 0 and 1, its three counters */
    REQUIRE(np > 6);
    CHECK(ps[0].is_track && ps[0].uuid == 1 && !ps[0].has_parent && ps[0].child_ordering == 3);
    CHECK_STR_EQ(ps[0].name, "replica 0");
    for (k = 1; k <= 5; k++) {
        static const char *const names[5] = {"stage 0", "stage 1", "queue length", "KV usage %", "batch size"};
        static const int ranks[5] = {0, 1, 100, 101, 102};
        CHECK(ps[k].is_track && ps[k].uuid == (uint64_t)k + 1 && ps[k].has_parent && ps[k].parent == 1 && ps[k].has_rank &&
              ps[k].rank == ranks[k - 1]);
        CHECK_STR_EQ(ps[k].name, names[k - 1]);
        CHECK_EQ_INT(ps[k].counter_unit, k == 3 || k == 5 ? 2 : k == 4 ? -1 : 0); /* UNIT_COUNT, unit_name, no counter */
    }
    CHECK_STR_EQ(ps[4].unit_name, "%");

    for (k = 0; k < 6; k++)
        if (!CHECK(ps[k].seq == 1 && !ps[k].bad)) bad++;

    /* the slices, in the JSON trace's order; the counters around them; each track its own
       sequence (id = the track's uuid), opened by a packet that clears its state and sets its
       defaults (the track, the incremental clock 64) and the clock snapshot */
    for (i = 6; i < np; i++) {
        pkt_ *p = &ps[i];
        if (p->has_defaults) {
            if (!CHECK(!p->is_event && p->is_snapshot && p->snap_ok && p->flags == 1 && p->def_clock == 64 && p->seq >= 2 && p->seq <= 6 &&
                       p->def_track == (uint64_t)p->seq && !seq_opened[p->seq] && !p->bad))
                bad++;
            /* the names are interned in the stages' sequences */
            if (!CHECK(p->names_interned == (p->seq <= 3 ? 3 + 5 : 0))) bad++;
            seq_opened[p->seq] = 1;
            headers++;
            continue;
        }
        /* an event: on its track's sequence (no track_uuid of its own), its time a delta */
        if (p->bad || !p->is_event || !p->has_ts || p->has_track || p->clock_id != 0 || p->seq < 2 || p->seq > 6 ||
            !seq_opened[p->seq] || p->track != (uint64_t)p->seq)
            bad++;
        /* begins refer to interned names: flagged; ends and counters do not */
        if (p->flags != (p->type == 1 ? 2 : 0)) bad++;
        if (p->type == 1) { /* SLICE_BEGIN, then its END */
            const jslice_ *j = &js[slices];
            pkt_ *e = i + 1 < np ? &ps[i + 1] : NULL;
            if (slices >= nj || !e) {
                bad++;
                break;
            }
            if (!CHECK(p->track == (uint64_t)(2 + j->tid) && j->pid == 0)) bad++;
            /* the JSON's microseconds to 3 decimals are the nanoseconds */
            /* (a begin rounded to before its stage's previous end starts at that end) */
            if (!CHECK(p->ts == (uint64_t)llround(j->ts * 1000) || (p->track < 8 && p->ts == track_end[p->track]))) bad++;
            if (!CHECK(e->type == 2 && e->track == p->track && e->ts - p->ts == (uint64_t)llround(j->dur * 1000))) bad++;
            /* batch_id always; the token split only in mixed slices (the name says it otherwise) */
            if (!CHECK(p->has_arg[1] && p->arg[1] == j->batch && p->has_arg[4] == (p->name_iid == 3) && p->has_arg[5] == (p->name_iid == 3)))
                bad++;
            /* request_ids: an interned string, a new one when the list changes (here: every
               slice on a stage, one request per batch); num_tokens: a string, left out when
               every count is 1 (a decode slice) */
            if (!CHECK(p->nids == j->size && p->ntok == j->ntok && j->size == 1 && p->has_tok == (j->tok[0] != 1))) bad++;
            for (k = 0; k < p->nids && k < j->size; k++)
                if (!CHECK(p->ids[k] == j->ids[k] && p->tok[k] == j->tok[k])) bad++;
            if (!CHECK(p->str_iid == (j->ids[0] != last_ids[p->seq] ? ++iid[p->seq] : 0) && p->ids_iid == iid[p->seq])) bad++;
            last_ids[p->seq] = j->ids[0];
            /* batch_size, total_num_tokens and the split of a pure slice, derived as documented */
            {
                int64_t sum = 0;
                for (k = 0; k < p->ntok; k++) sum += p->tok[k];
                if (!CHECK(p->nids == j->size && sum == j->total && (p->name_iid == 3 ? p->arg[4] == j->prefill && p->arg[5] == j->decode
                                                                     : p->name_iid == 1 ? sum == j->prefill && j->decode == 0
                                                                                         : sum == j->decode && j->prefill == 0)))
                    bad++;
            }
            /* named by composition: prefill 1, decode 2, mixed 3 */
            if (!CHECK(p->name_iid == (j->decode == 0 ? 1 : j->prefill == 0 ? 2 : 3))) bad++;
            prefill_named += p->name_iid == 1;
            if (!CHECK(e->flags == 0 && !e->interned && e->seq == p->seq)) bad++;
            if (j->tid == 0) {
                tokens[j->ids[0]] += (int)j->tok[0];
                last_stage0_begin = p->ts;
            }
            last_end = e->ts;
            if (p->track < 8) track_end[p->track] = e->ts;
            slices++;
            ends++;
            i++;
        } else if (p->type == 4) { /* COUNTER */
            if (p->track == 4) last_queue = p->ival;
            else if (p->track == 5) {
                last_kv = p->dval;
                if (!CHECK(p->has_double && p->dval >= 0 && p->dval <= 100)) bad++;
            } else if (p->track == 6) {
                last_batch_value = p->ival;
                /* a batch size is set when a batch starts on stage 0 (it is recorded before that
                   slice, which is written when the stage ends) */
                if (!CHECK(p->has_int && (p->ival == 0 || p->ival == 1))) bad++;
            } else bad++;
        } else {
            bad++;
        }
    }
    CHECK_EQ_INT(slices, nj);
    CHECK_EQ_INT(ends, nj);
    CHECK_EQ_INT(headers, 5); /* two stages, three counters */
    /* every token went through stage 0: P + D - 1 for each request (the prompt yields the first) */
    CHECK_EQ_INT(tokens[0], 33);
    CHECK_EQ_INT(tokens[1], 33);
    CHECK_EQ_INT(tokens[2], 18);
    CHECK_EQ_INT(prefill_named, 2 * 3); /* three prefills, on both stages */
    /* after the run: nothing waits, no KV block is held, the replica is idle */
    CHECK_EQ_INT(last_queue, 0);
    CHECK(last_kv == 0);
    CHECK_EQ_INT(last_batch_value, 0);
    CHECK(last_stage0_begin > 0 && last_stage0_begin < last_end);
    CHECK_EQ_INT(bad, 0);
    free(ps);
    free(js);
}

/* the compact lists, hand-computed, and random lists through the writer's encoders and this
   test's decoders (the lists come back exactly) */
TEST(compact_lists)
{
    static const struct {
        uint64_t v[12];
        int n;
        const char *ids, *tok;
    } cases[] = {
        {{0, 1, 2, 3, 4, 130}, 6, "0-4,130", "0,1,2,3,4,130"},
        {{5, 9, 13, 17, 4}, 5, "5-17:4,4", "5,9,13,17,4"},
        {{3, 7}, 2, "3,7", "3,7"},
        {{3, 4}, 2, "3-4", "3,4"},
        {{10, 8, 6}, 3, "10,8,6", "10,8,6"},
        {{1, 1, 1, 512}, 4, "1,1,1,512", "1*3,512"},
        {{7}, 1, "7", "7"},
        {{1, 3, 5, 6, 7, 8, 20}, 7, "1-5:2,6-8,20", "1,3,5,6,7,8,20"},
        {{18446744073709551615ull, 0}, 2, "18446744073709551615,0", "18446744073709551615,0"},
    };
    char buf[1024];
    int64_t back[64];
    uint64_t v[64] = {0};
    int c, len, i, n, r, bad = 0;
    for (c = 0; c < (int)(sizeof cases / sizeof cases[0]); c++) {
        len = vidur__pf_ranges(buf, cases[c].v, cases[c].n);
        buf[len] = 0;
        CHECK_STR_EQ(buf, cases[c].ids);
        CHECK_EQ_INT(len, vidur__pf_ranges(NULL, cases[c].v, cases[c].n));
        len = vidur__pf_repeats(buf, cases[c].v, cases[c].n);
        buf[len] = 0;
        CHECK_STR_EQ(buf, cases[c].tok);
        CHECK_EQ_INT(len, vidur__pf_repeats(NULL, cases[c].v, cases[c].n));
    }
    CHECK_EQ_INT(vidur__pf_ranges(buf, v, 0), 0);
    srand(7);
    for (r = 0; r < 20000; r++) {
        n = 1 + rand() % 64;
        v[0] = (uint64_t)(rand() % 50);
        for (i = 1; i < n; i++) { /* runs, strides, repeats and jumps */
            int m = rand() % 5;
            v[i] = m == 0 ? v[i - 1] + 1 : m == 1 ? v[i - 1] + 4 : m == 2 ? v[i - 1] : m == 3 ? (uint64_t)(rand() % 1000) : v[i - 1] + 2;
        }
        len = vidur__pf_ranges(buf, v, n);
        buf[len] = 0;
        /* ids are increasing within runs but may repeat or go back: any list comes back */
        if (decode_ids_(buf, back, 64) != n) bad++;
        else
            for (i = 0; i < n; i++) bad += back[i] != (int64_t)v[i];
        len = vidur__pf_repeats(buf, v, n);
        buf[len] = 0;
        if (decode_tok_(buf, back, 64) != n) bad++;
        else
            for (i = 0; i < n; i++) bad += back[i] != (int64_t)v[i];
    }
    CHECK_EQ_INT(bad, 0);
}

/* the batch-size counter's samples are the stage-0 slices' starts (hand-checked on the same run) */
TEST(batch_size_counter_follows_stage0)
{
    char path[160];
    pkt_ *ps;
    int np, i, j, matched = 0, zeros = 0, begins = 0;
    snprintf(path, sizeof path, "%s/tiny/perfetto_trace.pftrace", dir_);
    ps = read_pftrace_(path, &np);
    REQUIRE(ps != NULL);
    for (i = 0; i < np; i++) {
        if (ps[i].type == 4 && ps[i].track == 6) {
            if (ps[i].ival == 0) {
                zeros++;
                continue;
            }
            for (j = 0; j < np; j++)
                if (ps[j].type == 1 && ps[j].track == 2 && ps[j].ts == ps[i].ts) {
                    matched++;
                    break;
                }
        }
        if (ps[i].type == 1 && ps[i].track == 2) begins++;
    }
    /* batches are back to back from t = 0 (value 1 once: it does not change) until the replica
       idles; then 0, and 1 again at t = 5 when r2 arrives, and 0 at the end */
    CHECK_EQ_INT(matched, 2);
    CHECK_EQ_INT(zeros, 2);
    CHECK(begins >= 2);
    free(ps);
}

TEST(size_guard)
{
    const char *kv[] = {"synthetic_request_generator_config_num_requests", "40", "execution_time_predictor_config_type", "roofline",
                        "metrics_config_trace_format", "both", "metrics_config_max_trace_size_mb", "0", NULL};
    char full[128], cut[128], limit[64], want[200];
    vidur_error err;
    long long json, pf;
    snprintf(full, sizeof full, "%s/guard_full", dir_);
    snprintf(cut, sizeof cut, "%s/guard_cut", dir_);
    REQUIRE(run_(kv, full, &err, NULL) == VIDUR_OK);
    json = file_size_(full, "chrome_trace.json");
    pf = file_size_(full, "perfetto_trace.pftrace");
    REQUIRE(json > 0 && pf > 0 && pf < json);
    printf("  chrome_trace.json %lld bytes, perfetto_trace.pftrace %lld bytes (%.2fx smaller)\n", json, pf, (double)json / (double)pf);

    /* between the two sizes: the JSON is refused, the Perfetto file written as without a limit */
    snprintf(limit, sizeof limit, "%.6f", (double)(json + pf) / 2 / 1e6);
    kv[7] = limit;
    CHECK_EQ_INT(run_(kv, cut, &err, NULL), VIDUR_ERR_RANGE);
    snprintf(want, sizeof want, "chrome_trace.json would be %.1f MB (%lld bytes), over metrics_config_max_trace_size_mb", (double)json / 1e6, json);
    CHECK_CONTAINS(err.message, want);
    snprintf(want, sizeof want, "--metrics_config_trace_format perfetto (%.1f MB)", (double)pf / 1e6);
    CHECK_CONTAINS(err.message, want);
    CHECK_CONTAINS(err.message, "--metrics_config_min_batch_index");
    CHECK_CONTAINS(err.message, "--metrics_config_trace_start_time");
    CHECK_CONTAINS(err.message, "--no-metrics_config_enable_chrome_trace");
    CHECK(strchr(err.message, '\n') == NULL);
    CHECK_EQ_INT(file_size_(cut, "chrome_trace.json"), -1);
    CHECK_EQ_INT(file_size_(cut, "perfetto_trace.pftrace"), pf);
    CHECK_EQ_INT(count_files_containing_(cut, ".tmp"), 0);
    CHECK(file_size_(cut, "summary.json") > 0 && file_size_(cut, "request_metrics.csv") > 0);

    /* below both: neither is written, the JSON is named, no Perfetto file to suggest */
    rm_dir_(cut);
    kv[7] = "0.0001";
    CHECK_EQ_INT(run_(kv, cut, &err, NULL), VIDUR_ERR_RANGE);
    snprintf(want, sizeof want, "chrome_trace.json would be %.1f MB (%lld bytes)", (double)json / 1e6, json);
    CHECK_CONTAINS(err.message, want);
    CHECK(strstr(err.message, "trace_format perfetto") == NULL);
    CHECK_EQ_INT(file_size_(cut, "chrome_trace.json"), -1);
    CHECK_EQ_INT(file_size_(cut, "perfetto_trace.pftrace"), -1);
    CHECK_EQ_INT(count_files_containing_(cut, ".tmp"), 0);

    /* Perfetto alone over the limit */
    rm_dir_(cut);
    kv[5] = "perfetto";
    CHECK_EQ_INT(run_(kv, cut, &err, NULL), VIDUR_ERR_RANGE);
    snprintf(want, sizeof want, "perfetto_trace.pftrace would be %.1f MB (%lld bytes)", (double)pf / 1e6, pf);
    CHECK_CONTAINS(err.message, want);
    CHECK_EQ_INT(count_files_containing_(cut, "trace"), 0);

    /* exactly at the limit is allowed */
    rm_dir_(cut);
    kv[5] = "json";
    snprintf(limit, sizeof limit, "%.6f", (double)json / 1e6);
    kv[7] = limit;
    CHECK_EQ_INT(run_(kv, cut, &err, NULL), VIDUR_OK);
    CHECK_EQ_INT(file_size_(cut, "chrome_trace.json"), json);
}

TEST(windows)
{
    const char *kv[] = {"synthetic_request_generator_config_num_requests", "40", "execution_time_predictor_config_type", "roofline",
                        "replica_config_num_pipeline_stages", "2", "metrics_config_trace_format", "both", "metrics_config_min_batch_index", "5",
                        "metrics_config_max_batch_index", "10", NULL, NULL, NULL, NULL, NULL};
    char out[128], path[160];
    vidur_error err;
    jslice_ *js;
    pkt_ *ps;
    int nj, np, i, begins = 0, outside = 0;
    snprintf(out, sizeof out, "%s/window_batches", dir_);
    REQUIRE(run_(kv, out, &err, NULL) == VIDUR_OK);
    snprintf(path, sizeof path, "%s/chrome_trace.json", out);
    REQUIRE((js = read_json_slices_(path, &nj)) != NULL);
    CHECK_EQ_INT(nj, 6 * 2); /* batches 5..10, two stages each */
    for (i = 0; i < nj; i++) outside += js[i].batch < 5 || js[i].batch > 10;
    CHECK_EQ_INT(outside, 0);
    free(js);

    /* a time window: slices overlapping [10 s, 12 s] */
    kv[8] = "metrics_config_trace_start_time";
    kv[9] = "10";
    kv[10] = "metrics_config_trace_end_time";
    kv[11] = "12";
    kv[12] = NULL;
    snprintf(out, sizeof out, "%s/window_time", dir_);
    REQUIRE(run_(kv, out, &err, NULL) == VIDUR_OK);
    snprintf(path, sizeof path, "%s/chrome_trace.json", out);
    REQUIRE((js = read_json_slices_(path, &nj)) != NULL);
    CHECK(nj > 0);
    for (i = 0; i < nj; i++) outside += js[i].ts + js[i].dur < 10e6 || js[i].ts > 12e6;
    CHECK_EQ_INT(outside, 0);
    snprintf(path, sizeof path, "%s/perfetto_trace.pftrace", out);
    REQUIRE((ps = read_pftrace_(path, &np)) != NULL);
    for (i = 0; i < np; i++) {
        begins += ps[i].type == 1;
        if (ps[i].type == 4) outside += ps[i].ts < 10000000000ull || ps[i].ts > 12000000000ull;
    }
    CHECK_EQ_INT(begins, nj);
    CHECK_EQ_INT(outside, 0);
    free(js);
    free(ps);
}

/* The writer thread writes chrome_trace.json, batch_metrics.csv and request_metrics.csv during
   (and at the end of) the run: every file equals the one written at the end without it. */
TEST(writer_thread)
{
    const char *kv[] = {"synthetic_request_generator_config_num_requests", "600", "execution_time_predictor_config_type", "roofline",
                        "metrics_config_keep_individual_batch_metrics", "true", "metrics_config_store_plots", "false",
                        "metrics_config_trace_format", "json", "metrics_config_max_trace_size_mb", "0",
                        "metrics_config_writer_threads", "false", NULL};
    static const char *const files[] = {"chrome_trace.json", "batch_metrics.csv", "request_metrics.csv", "summary.json"};
    char ref[128], ref2[128], got[128], other[128], limit[64], want[200];
    vidur_error err;
    long long json;
    int i;
    snprintf(ref, sizeof ref, "%s/writer_ref", dir_);
    snprintf(ref2, sizeof ref2, "%s/writer_ref_both", dir_);
    snprintf(got, sizeof got, "%s/writer_got", dir_);
    snprintf(other, sizeof other, "%s/writer_other", dir_);
    REQUIRE(run_(kv, ref, &err, NULL) == VIDUR_OK); /* writer_threads off: everything at the end */
    json = file_size_(ref, "chrome_trace.json");
    REQUIRE(json > 2000000); /* many of the writer's 256 kB chunks of records */
    kv[13] = "true";

    /* into the prepared folder (named, then NULL), JSON alone and with Perfetto */
    REQUIRE(run_prepared_(kv, got, got, &err) == VIDUR_OK);
    for (i = 0; i < 4; i++) CHECK(same_file_(ref, got, files[i]));
    CHECK_EQ_INT(count_files_containing_(got, ".tmp"), 0);
    rm_dir_(got);
    REQUIRE(run_prepared_(kv, got, NULL, &err) == VIDUR_OK);
    CHECK(same_file_(ref, got, "chrome_trace.json") && same_file_(ref, got, "batch_metrics.csv"));
    rm_dir_(got);
    kv[9] = "both";
    kv[13] = "false";
    REQUIRE(run_(kv, ref2, &err, NULL) == VIDUR_OK);
    kv[13] = "true";
    REQUIRE(run_prepared_(kv, got, NULL, &err) == VIDUR_OK);
    for (i = 0; i < 4; i++) CHECK(same_file_(ref2, got, files[i]));
    CHECK(same_file_(ref2, got, "perfetto_trace.pftrace"));
    rm_dir_(got);
    kv[9] = "json";

    /* written into another folder than the prepared one: the files from the records, nothing
       left in the prepared folder */
    REQUIRE(run_prepared_(kv, got, other, &err) == VIDUR_OK);
    for (i = 0; i < 4; i++) CHECK(same_file_(ref, other, files[i]));
    CHECK_EQ_INT(count_files_containing_(got, ".tmp"), 0);
    CHECK_EQ_INT(file_size_(got, "chrome_trace.json"), -1);
    rm_dir_(got);
    rm_dir_(other);

    /* abandoned after the run (as after Ctrl-C): the files begun during the run are gone */
    REQUIRE(run_prepared_(kv, got, "", &err) == VIDUR_OK);
    CHECK_EQ_INT(count_files_containing_(got, ".tmp"), 0);
    CHECK_EQ_INT(count_files_containing_(got, ".csv") + count_files_containing_(got, ".json"), 0);
    rm_dir_(got);

    /* the size guard: the writer drops the JSON when it passes the limit during the run; the end
       measures it and says so, the other files are written; exactly at the limit it is kept */
    snprintf(limit, sizeof limit, "%.6f", (double)json / 2e6);
    kv[11] = limit;
    CHECK_EQ_INT(run_prepared_(kv, got, NULL, &err), VIDUR_ERR_RANGE);
    snprintf(want, sizeof want, "chrome_trace.json would be %.1f MB (%lld bytes), over metrics_config_max_trace_size_mb", (double)json / 1e6, json);
    CHECK_CONTAINS(err.message, want);
    CHECK_CONTAINS(err.message, "--metrics_config_trace_format perfetto (about");
    CHECK_EQ_INT(file_size_(got, "chrome_trace.json"), -1);
    CHECK_EQ_INT(count_files_containing_(got, ".tmp"), 0);
    CHECK(same_file_(ref, got, "batch_metrics.csv") && same_file_(ref, got, "request_metrics.csv"));
    rm_dir_(got);
    snprintf(limit, sizeof limit, "%.6f", (double)json / 1e6);
    CHECK_EQ_INT(run_prepared_(kv, got, NULL, &err), VIDUR_OK);
    CHECK(same_file_(ref, got, "chrome_trace.json"));
    rm_dir_(got);
}

int main(void)
{
    FILE *f;
    snprintf(dir_, sizeof dir_, "/tmp/vidur_test_trace_XXXXXX");
    if (!mkdtemp(dir_)) {
        printf("FAIL cannot create a temporary folder\n0 passed, 1 failed\n");
        return 1;
    }
    snprintf(trace_csv_, sizeof trace_csv_, "%s/requests.csv", dir_);
    f = fopen(trace_csv_, "w");
    if (!f) return 1;
    fputs("arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,32,2\n0.0,32,2\n5.0,16,3\n", f);
    fclose(f);
    RUN_TEST(tiny_run_field_by_field);
    RUN_TEST(compact_lists);
    RUN_TEST(batch_size_counter_follows_stage0);
    RUN_TEST(size_guard);
    RUN_TEST(windows);
    RUN_TEST(writer_thread);
    rm_dir_(dir_);
    return test_finish();
}
