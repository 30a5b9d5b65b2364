/* fuzz_trace: a trace CSV, replayed tiny. The first byte picks how the file is read: as a
   trace_replay trace (requests with sessions and block hashes), as a length trace, as an
   interval trace (timestamps), or by the fork's trace generator (file order, wrap-around). Reproducers: block_hash_ids longer than the request, session ids
   and arrival times out of range (issue 14 finding 9). */
#include "fuzz.h"

static int fuzz_trace(const uint8_t *data, size_t size)
{
    vidur_config cfg;
    vidur_error err;
    const char *path = fuzz_path("trace.csv");
    int mode = size ? data[0] % 4 : 0, ok = 1;
    if (size) {
        data++;
        size--;
    }
    fuzz_write(path, data, size);
    vidur_config_init(&cfg);
#define FUZZ_SET(k, v) ok = ok && vidur_config_set(&cfg, k, v, &err) == VIDUR_OK
    FUZZ_SET("replica_config_model_name", "meta-llama/Meta-Llama-3-8B");
    FUZZ_SET("cluster_config_num_replicas", "2");
    if (mode == 0) {
        FUZZ_SET("request_generator_config_type", "trace_replay");
        FUZZ_SET("trace_request_generator_config_trace_file", path);
        FUZZ_SET("replica_scheduler_config_type", "vllm_v1");
        FUZZ_SET("cache_config_enable_prefix_caching", "true");
        FUZZ_SET("global_scheduler_config_type", "round_robin");
    } else if (mode == 1) {
        FUZZ_SET("length_generator_config_type", "trace");
        FUZZ_SET("trace_request_length_generator_config_trace_file", path);
    } else if (mode == 3) {
        FUZZ_SET("request_generator_config_type", "trace");
        FUZZ_SET("trace_request_generator_config_trace_file", path);
        FUZZ_SET("replica_scheduler_config_type", "vllm_v1");
        FUZZ_SET("cache_config_enable_prefix_caching", "true");
    } else {
        FUZZ_SET("interval_generator_config_type", "trace");
        FUZZ_SET("trace_request_interval_generator_config_trace_file", path);
        FUZZ_SET("trace_request_interval_generator_config_start_time", "1970-01-01 00:00:00");
        FUZZ_SET("trace_request_interval_generator_config_end_time", "2100-01-01 00:00:00");
    }
#undef FUZZ_SET
    if (ok) {
        fuzz_tame(&cfg);
        fuzz_run(&cfg, 3000);
    }
    return 0;
}

#ifndef VIDUR_FUZZ_ALL
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_trace(data, size); }
#endif
