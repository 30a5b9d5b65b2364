/* VIDUR_JSON compiles (C and C++, built by tests/compile/check.sh with -DVIDUR_JSON -ljansson) and
   reads a committed config.json: directly, and through vidur_search.h's job config, whose
   reading of a [model.NAME] config lives under the same macro. */
#define VIDUR_IMPLEMENTATION
#include "vidur.h"
#define VIDUR_SEARCH_IMPLEMENTATION
#include "vidur_search.h"

#define MIXTRAL "data/models/mistralai/Mixtral-8x7B-Instruct-v0.1/config.json"

int main(void)
{
    static const char *const ini =
        "[explorer]\nbatch_sizes = 64\ntp_dimensions = 2\npp_dimensions = 1\nep_dimensions = 2\n"
        "[cluster.h100]\ndevice = h100\nnetwork_device = h100_dgx\ngpus_per_node = 8\n"
        "[global_scheduler.rr]\nscheduler = round_robin\n[request_queue.fcfs]\nprovider = fcfs\n"
        "[replica_scheduler.vllm]\nscheduler = vllm\n"
        "[slo_config.ttft]\ntype = and\nquantile = 0.9\nslo = prefill_e2e_time 2\n"
        "[trace.t]\ntrace_file = data/traces/none.csv\nmax_seq_len = 4096\n"
        "[model.mix]\nconfig = " MIXTRAL "\n"
        "[search.s]\ntrace = t\nmodel = mix\nsearch_for = qps\nnum_replicas = 1\nqps = 1\nnum_requests = 100\n";
    vidur_model_spec m;
    vidur_error e;
    vidur_search_spec *spec = NULL;
    vidur_search_job *jobs = NULL;
    int64_t n = 0, nvalid = 0;
    static vidur_config cfg;
    const vidur_model_spec *jm;
    int ok;
    if (vidur_model_spec_from_hf_config(MIXTRAL, "mixtral", &m, &e)) {
        printf("%s\n", e.message);
        return 1;
    }
    if (m.num_experts != 8 || m.num_experts_per_tok != 2) return 2;
    if (vidur_search_spec_load_string(ini, "json.ini", &spec, &e) || vidur_search_expand(spec, 0, &jobs, &n, &nvalid, &e) ||
        n != 1 || nvalid != 1 || vidur_search_job_config(spec, &jobs[0], 1.0, 1, &cfg, &e)) {
        printf("%s\n", e.message);
        return 3;
    }
    jm = vidur_find_model(&cfg, cfg.model_name);
    ok = jm && jm->num_experts == 8 && cfg.expert_parallel_size == 2;
    VIDUR_FREE(jobs);
    vidur_search_spec_free(spec);
    return ok ? 0 : 4;
}
