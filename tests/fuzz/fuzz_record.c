/* fuzz_record: a capacity-search resume record (tools/vidur_search_record.h) for a point with
   key "fuzzkey", settings 0123456789abcdef and 2 SLO configs. The first byte picks the mode:
     even: the rest is the record as it is (its checksum must match);
     odd:  the rest is the record's body, and the check line is recomputed and appended, so that
           mutations reach the value checks.
   A record that is accepted must format back into text that parses to the same values.
   Reproducers of issue 14 finding 10: a nan QPS, -5 replicas. */
#include "fuzz.h"
#include "../../tools/vidur_search_record.h"

static int fuzz_same_(double a, double b) { return (a != a && b != b) || a == b; }

static int fuzz_record(const uint8_t *data, size_t size)
{
    const char *key = "fuzzkey";
    const unsigned long long settings = 0x0123456789abcdefULL;
    point_result r, r2;
    char *text, out[16384];
    int k;
    if (size == 0) return 0;
    if (data[0] & 1) {
        size_t n = size - 1;
        text = (char *)malloc(n + 64);
        if (!text) abort();
        memcpy(text, data + 1, n);
        text[n] = 0;
        n = strlen(text); /* a NUL in the body ends it, as it would in the file */
        snprintf(text + n, 64, "check %016llx\nend\n", record_fnv(text, n));
    } else {
        text = fuzz_text(data + 1, size - 1);
    }
    if (record_parse(text, key, settings, 2, &r)) {
        size_t len = record_format(key, settings, 2, &r, out, sizeof out);
        if (len >= sizeof out || !record_parse(out, key, settings, 2, &r2)) abort();
        if (r.status != r2.status || r.num_sims != r2.num_sims || strcmp(r.reason, r2.reason)) abort();
        for (k = 0; k < 2; k++) {
            const slo_result *a = &r.slo[k], *b = &r2.slo[k];
            if (a->found != b->found || a->num_replicas != b->num_replicas || a->probes != b->probes || a->completed != b->completed ||
                !fuzz_same_(a->qps, b->qps) || !fuzz_same_(a->measured, b->measured) || !fuzz_same_(a->latency, b->latency) ||
                !fuzz_same_(a->ttft_p90, b->ttft_p90) || !fuzz_same_(a->ttft_p99, b->ttft_p99) || !fuzz_same_(a->tbt_p99, b->tbt_p99) ||
                !fuzz_same_(a->e2e_p99, b->e2e_p99))
                abort();
        }
    }
    free(text);
    return 0;
}

#ifndef VIDUR_FUZZ_ALL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_record(data, size); }
#endif
