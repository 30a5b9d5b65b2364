/* vidur_search.h compiled as C (C99, C11) and C++ (-x c++): with SEARCH_API_ONLY the
   declarations alone (no implementation of either header); otherwise both implementations in
   this translation unit, and a small search INI must load and expand to the hand-counted
   2 clusters x 2 replica schedulers x TP {1, 2} = 8 jobs, of which TP 2 on the one-GPU node is
   invalid (2 valid on it, 4 on the other: 6). */
#ifndef SEARCH_API_ONLY
#define VIDUR_IMPLEMENTATION
#endif
#include "vidur.h"
#ifndef SEARCH_API_ONLY
#define VIDUR_SEARCH_IMPLEMENTATION
#endif
#include "vidur_search.h"
#include <stdio.h>
#include <string.h>

#ifdef SEARCH_API_ONLY
int search_api_uses(const char *text, vidur_error *err);
int search_api_uses(const char *text, vidur_error *err)
{
    vidur_search_spec *spec = NULL;
    vidur_search_job *jobs = NULL;
    int64_t n = 0, nvalid = 0;
    if (vidur_search_spec_load_string(text, "api.ini", &spec, err) != VIDUR_OK) return 1;
    if (vidur_search_expand(spec, 0, &jobs, &n, &nvalid, err) != VIDUR_OK) return 2;
    vidur_search_spec_free(spec);
    return (int)nvalid;
}
#else
static const char *const ini =
    "[explorer]\nbatch_sizes = 64\ntp_dimensions = 1 2\npp_dimensions = 1\n"
    "[cluster.big]\ndevice = h100\nnetwork_device = h100_dgx\ngpus_per_node = 8\n"
    "[cluster.one]\ndevice = a100\nnetwork_device = a100_pairwise_nvlink\ngpus_per_node = 1\n"
    "[global_scheduler.rr]\nscheduler = round_robin\n"
    "[request_queue.fcfs]\nprovider = fcfs\n"
    "[replica_scheduler.vllm]\nscheduler = vllm\n"
    "[replica_scheduler.sarathi]\nscheduler = sarathi\nchunk_size = 512\n"
    "[slo_config.ttft]\ntype = and\nquantile = 0.9\nslo = prefill_e2e_time 2\n"
    "[trace.t]\ntrace_file = data/traces/none.csv\nmax_seq_len = 4096\n"
    "[model.llama]\nidentifier = meta-llama/Meta-Llama-3-8B\n"
    "[search.s]\ntrace = t\nmodel = llama\nsearch_for = qps\nnum_replicas = 1\nqps = 1\nnum_requests = 100\n";

int main(void)
{
    vidur_search_spec *spec = NULL;
    vidur_search_job *jobs = NULL;
    vidur_error err;
    int64_t n = 0, nvalid = 0;
    char buf[32];
    memset(&err, 0, sizeof err);
    if (vidur_search_spec_load_string(ini, "compile.ini", &spec, &err) != VIDUR_OK) {
        fprintf(stderr, "search INI: %s\n", err.message);
        return 1;
    }
    if (vidur_search_expand(spec, 0, &jobs, &n, &nvalid, &err) != VIDUR_OK || n != 8 || nvalid != 6) {
        fprintf(stderr, "expansion: %lld jobs, %lld valid (want 8, 6) %s\n", (long long)n, (long long)nvalid, err.message);
        return 1;
    }
    vidur_search_format_float(buf, sizeof buf, 2.0);
    if (strcmp(buf, "2.0") != 0) {
        fprintf(stderr, "vidur_search_format_float(2) = %s\n", buf);
        return 1;
    }
    VIDUR_FREE(jobs);
    vidur_search_spec_free(spec);
    return 0;
}
#endif
