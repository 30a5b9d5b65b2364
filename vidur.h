/* vidur.h - v0.2.0 - LLM inference serving simulator (a C re-creation of Microsoft's Vidur)

   Single-file library in the style of stb: include it anywhere for the declarations, and in
   EXACTLY ONE C or C++ file write

       #define VIDUR_IMPLEMENTATION
       #include "vidur.h"

   to compile the implementation. Link with inih and stb (Debian: libinih-dev, libstb-dev):
       cc prog.c $(pkg-config --cflags --libs inih stb) -lm

   TABLE OF CONTENTS
       1. Quick start
       2. Compile-time options
       3. API overview
       4. Notes: units, determinism, memory planner, differences from Vidur
       5. Revision history
       6. Licence (end of file)

   1. QUICK START ------------------------------------------------------------------------------

       #define VIDUR_IMPLEMENTATION
       #include "vidur.h"
       #include <stdio.h>
       int main(void) {
           vidur_config cfg; vidur_error err; vidur_sim *sim;
           vidur_config_init(&cfg);                       // Vidur's defaults
           if (vidur_config_set(&cfg, "replica_config_model_name",
                                "meta-llama/Meta-Llama-3-8B", &err) ||
               vidur_config_set(&cfg, "cluster_config_num_replicas", "4", &err) ||
               vidur_sim_create(&cfg, &sim, &err)) { fprintf(stderr, "%s\n", err.message); return 1; }
           vidur_sim_run(sim);
           const vidur_summary *s = vidur_sim_summary(sim);
           printf("%lld requests, TTFT p50 %.3f s\n", (long long)s->num_completed,
                  s->metric[VIDUR_METRIC_PREFILL_E2E_TIME].p50);
           vidur_sim_destroy(sim);
           return 0;
       }

   2. COMPILE-TIME OPTIONS ----------------------------------------------------------------------

       VIDUR_IMPLEMENTATION   compile the implementation in this translation unit.
       VIDUR_STATIC           make every function static (private to the translation unit that
                              defines VIDUR_IMPLEMENTATION); several TUs may each do this.
       VIDUR_MALLOC(sz) VIDUR_REALLOC(p,sz) VIDUR_FREE(p)
                              allocator used for every allocation the library makes. Define all
                              three or none (#error otherwise). Default: malloc/realloc/free.
       VIDUR_ASSERT(x)        internal invariant check; default assert(x).
       VIDUR_STB_DS_IMPLEMENTATION
                              define STB_DS_IMPLEMENTATION here (with STBDS_REALLOC/FREE wired to
                              VIDUR_REALLOC/FREE). Leave it undefined when linking Debian's libstb,
                              which already exports the stb_ds functions.
       VIDUR_NO_INIH          leave out the INI loader (then vidur_config_load_ini returns
                              VIDUR_ERR_UNSUPPORTED); flags and vidur_config_set still work.

   3. API OVERVIEW -------------------------------------------------------------------------------

       Config   vidur_config_init, vidur_config_load_ini, vidur_config_set (flat Vidur flag name),
                vidur_config_set_ini (section + key), vidur_config_parse_args, vidur_config_validate,
                vidur_config_write_json, vidur_config_print_help, vidur_config_key_count/_key_info.
                Every Vidur flag --<section>_<key> is the INI key <key> in [<section>]; top-level
                flags (seed, time_limit) go before any section.
       Tables   vidur_find_model, vidur_find_device, vidur_find_node (built-in or user-defined in
                the config with [model.NAME] / [device.NAME] / [node.NAME] sections).
       Plan     vidur_memory_plan: the number of KV-cache blocks a replica gets.
       Sim      vidur_sim_create, vidur_sim_run, vidur_sim_step, vidur_sim_now,
                vidur_sim_summary, vidur_sim_write_outputs, vidur_sim_destroy.
       Plug-ins vidur_global_scheduler_api / vidur_replica_scheduler_api: tables of function
                pointers; register your own with vidur_config_add_global_scheduler /
                vidur_config_add_replica_scheduler and select them by name like built-ins.
                Replica schedulers build batches with vidur_batch_add and manage KV memory with
                vidur_replica_can_allocate / _allocate / _free.
       Predict  vidur_predictor_api: per-stage execution time of a batch (built-in: roofline).

   4. NOTES --------------------------------------------------------------------------------------

       Units: time in seconds (double), operator times in milliseconds inside the predictor,
       memory in bytes, sizes in tokens, KV memory in blocks of block_size tokens.

       Determinism: no global state, no rand(), no clock (except to name the timestamped output
       folder). The same config and seeds give byte-identical output files on every run. Random
       numbers come from MT19937 streams reproducing CPython's `random` (seeded like
       random.seed(int)) and NumPy's legacy RandomState where Vidur uses them, so Poisson arrival
       times, uniform lengths, zipf lengths and trace shuffles equal upstream Vidur's draws.

       Event order: (time, creation sequence), as upstream Vidur: all request arrivals were
       created first, so at equal times arrivals come before events created during the run.
       Arrivals are generated lazily (bounded memory) but keep exactly that order.

       Memory planner (upstream Vidur): per device, params_layer = E*hd*(q_w + 2*kv_w) + E*hd*q_w
       + (k*E*F)/TP (k = 3 gated, 2 plain); weights = 2 bytes * params_layer * L/PP;
       available = mem_gb * 2^30 * (1 - margin); kv bytes per request = 4*hd*kv_w*M*L
       (M = max tokens); slots = floor((available - weights)/kv) * PP;
       num_blocks = (M / block_size) * slots.  Llama-2-7B, A100, TP1: 7,424 blocks.

       Differences from Vidur are listed in README.md ("Differences from Vidur").

   5. REVISION HISTORY ----------------------------------------------------------------------------

       0.2.0  operator tables (random forests trained in C, compiled in), calibrated roofline,
              vllm_v1 with prefix caching, fork routers, request queues, plug-in helpers.
       0.1.0  first release: core simulator, upstream schedulers, roofline predictor.
*/
#ifndef VIDUR_H
#define VIDUR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VIDUR_VERSION_MAJOR 0
#define VIDUR_VERSION_MINOR 2
#define VIDUR_VERSION_PATCH 0
#define VIDUR_VERSION_STRING "0.2.0"

#ifndef VIDURDEF
#ifdef VIDUR_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define VIDURDEF static __attribute__((unused)) /* a TU need not call every function */
#else
#define VIDURDEF static
#endif
#else
#define VIDURDEF extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- results ------------------------------------------------------------------------------ */
typedef enum vidur_result {
    VIDUR_OK = 0,
    VIDUR_ERR_CONFIG,      /* unknown key, bad value, inconsistent settings */
    VIDUR_ERR_IO,          /* file missing or unwritable */
    VIDUR_ERR_PARSE,       /* malformed INI / CSV */
    VIDUR_ERR_MEMORY,      /* allocation failed, or the model does not fit the device */
    VIDUR_ERR_RANGE,       /* value out of range */
    VIDUR_ERR_SCHEDULER,   /* a scheduler broke an invariant (e.g. out of KV memory) */
    VIDUR_ERR_UNSUPPORTED
} vidur_result;

#define VIDUR_ERROR_MESSAGE_SIZE 512
typedef struct vidur_error {
    vidur_result code;
    char message[VIDUR_ERROR_MESSAGE_SIZE]; /* one line, names file/line/key where known */
} vidur_error;

VIDURDEF const char *vidur_result_description(vidur_result r);
VIDURDEF const char *vidur_version_string(void);

typedef enum vidur_log_level { VIDUR_LOG_DEBUG, VIDUR_LOG_INFO, VIDUR_LOG_WARN } vidur_log_level;
typedef void (*vidur_log_fn)(void *user, vidur_log_level level, const char *message);

/* ---- model / device / node tables --------------------------------------------------------- */
#define VIDUR_NAME_MAX 128
#define VIDUR_PATH_MAX 512

typedef struct vidur_model_spec {
    char name[VIDUR_NAME_MAX];    /* HF id, e.g. "meta-llama/Meta-Llama-3-8B" */
    int num_layers;               /* L */
    int num_q_heads;              /* H_q */
    int num_kv_heads;             /* H_kv */
    int embedding_dim;            /* E */
    int mlp_hidden_dim;           /* F */
    int max_position_embeddings;
    int vocab_size;
    int use_gated_mlp;            /* SwiGLU: 3 MLP matrices instead of 2 */
    int post_attn_norm;           /* post-attention layernorm present */
    int use_bias, use_qkv_bias;
    double rope_theta, partial_rotary_factor;
} vidur_model_spec;

typedef struct vidur_device_spec {
    char name[VIDUR_NAME_MAX];    /* "a100" */
    double fp16_tflops;           /* used as x 2^40 FLOP/s, as Vidur */
    double total_memory_gb;       /* x 2^30 bytes */
    double memory_bandwidth_gbps; /* GB/s (10^9), roofline only */
    double price_per_hour;        /* $ per GPU-hour (Vidur analyzer base prices) */
} vidur_device_spec;

typedef struct vidur_node_spec {
    char name[VIDUR_NAME_MAX];    /* "a100_pairwise_nvlink" */
    char device[VIDUR_NAME_MAX];
    int num_devices_per_node;
    double intra_node_bandwidth_gbps; /* per-GPU link bandwidth inside the node, GB/s */
    double inter_node_bandwidth_gbps; /* per-GPU bandwidth across nodes, GB/s */
    double link_latency_us;
} vidur_node_spec;

/* ---- configuration -------------------------------------------------------------------------
   One plain struct; every field is a Vidur flag. vidur_config_init fills Vidur's defaults.
   Strings are fixed arrays so a config can be copied by value. */
typedef struct vidur_replica_scheduler_params {
    int batch_size_cap;               /* 128 */
    int block_size;                   /* 16 (lightllm: 1) */
    int64_t num_blocks;               /* 0 = from the memory planner */
    double watermark_blocks_fraction; /* 0.01 */
    int chunk_size;                   /* sarathi: 512 */
    int max_tokens_in_batch;          /* vllm, lightllm: 4096 */
    int max_waiting_iters;            /* lightllm: 10 */
} vidur_replica_scheduler_params;

typedef struct vidur_predictor_params {
    char compute_input_file[VIDUR_PATH_MAX];
    char attention_input_file[VIDUR_PATH_MAX];
    char all_reduce_input_file[VIDUR_PATH_MAX];
    char send_recv_input_file[VIDUR_PATH_MAX];
    char cpu_overhead_input_file[VIDUR_PATH_MAX];
    int k_fold_cv_splits;
    int no_cache;
    int kv_cache_prediction_granularity;       /* 64 */
    int prediction_max_prefill_chunk_size;     /* 4096 */
    int prediction_max_batch_size;             /* 128 */
    int prediction_max_tokens_per_request;     /* 4096 */
    double attention_decode_batching_overhead_fraction;  /* 0.1 (GQA models only) */
    double attention_prefill_batching_overhead_fraction; /* 0.1 (GQA models only) */
    double nccl_cpu_launch_overhead_ms;        /* 0.02 */
    double nccl_cpu_skew_overhead_per_device_ms; /* 0.0 */
    int num_training_job_threads;              /* -1 */
    int skip_cpu_overhead_modeling;            /* 1 */
    char num_estimators[64], max_depth[64], min_samples_split[64];          /* random forest grid */
    char polynomial_degree[64], polynomial_include_bias[64],
         polynomial_interaction_only[64], fit_intercept[64];                /* linear regression grid */
    /* roofline (ours) */
    double compute_efficiency;     /* fraction of peak FLOP/s reached by GEMMs */
    double attention_efficiency;   /* fraction of peak FLOP/s reached by attention kernels */
    double memory_efficiency;      /* fraction of peak memory bandwidth */
    double network_efficiency;     /* fraction of link bandwidth reached by NCCL */
    double kernel_launch_overhead_ms; /* fixed cost per operator call */
    char table_file[VIDUR_PATH_MAX];  /* ours: a table file from vidur-tables ("" = compiled-in tables) */
} vidur_predictor_params;

struct vidur_global_scheduler_api;
struct vidur_replica_scheduler_api;
typedef struct vidur_replica vidur_replica;
typedef struct vidur_sim vidur_sim;
typedef struct vidur_batch vidur_batch;
typedef struct vidur_request vidur_request;

/* Optional observer: called as batches form (after KV allocation) and end (after memory is
   freed), and as requests complete (just before they are released). For tests and tracing. */
typedef struct vidur_observer {
    void (*on_batch_scheduled)(void *user, vidur_sim *sim, const vidur_replica *r, const vidur_batch *b);
    void (*on_batch_end)(void *user, vidur_sim *sim, const vidur_replica *r, const vidur_batch *b);
    void (*on_request_complete)(void *user, vidur_sim *sim, const vidur_request *q);
    void *user;
} vidur_observer;
#define VIDUR_MAX_PLUGINS 8
#define VIDUR_MAX_USER_SPECS 8

typedef struct vidur_config {
    int64_t seed;                 /* 42 */
    char log_level[16];           /* accepted, unused: see log_fn */
    double time_limit;            /* seconds, 0 = none */
    /* cluster_config */
    int num_replicas;
    /* replica_config */
    char model_name[VIDUR_NAME_MAX];
    char device[VIDUR_NAME_MAX];
    char network_device[VIDUR_NAME_MAX];
    int tensor_parallel_size;
    int num_pipeline_stages;
    double memory_margin_fraction;
    /* global_scheduler_config */
    char global_scheduler_type[VIDUR_NAME_MAX];
    int64_t lop_seed;             /* 67; every [F] router's tie-break seed */
    double tolerance_factor;      /* tolerant_sticky_lop_uncached: 2.0 */
    int top_k;                    /* ranked_sticky_lop_uncached: 2 */
    /* replica_scheduler_config */
    char replica_scheduler_type[VIDUR_NAME_MAX];
    vidur_replica_scheduler_params vllm, sarathi, orca, faster_transformer, lightllm, vllm_v1, custom;
    /* cache_config ([F], used by vllm_v1): its block_size, num_blocks and watermark live in vllm_v1 */
    int enable_prefix_caching;
    char prefix_caching_hash_algo[32];
    int num_preallocate_tokens;
    double cache_memory_margin_fraction;
    /* request_queue_config */
    char request_queue_type[32];          /* fcfs | edf */
    /* slo_config */
    double slo_prefill_e2e_time_normalized;  /* 0 = unset */
    double slo_prefill_e2e_time_min;         /* 0 = unset */
    /* request_generator_config */
    char request_generator_type[VIDUR_NAME_MAX];  /* synthetic | trace_replay */
    int64_t synthetic_seed;
    int64_t synthetic_num_requests;
    double synthetic_duration;                    /* 0 = unset */
    char length_generator_type[VIDUR_NAME_MAX];   /* fixed | uniform | zipf | trace | lognormal */
    char interval_generator_type[VIDUR_NAME_MAX]; /* poisson | gamma | static | trace */
    /* length generators */
    int64_t fixed_seed; int fixed_max_tokens; int fixed_prefill_tokens; int fixed_decode_tokens;
    int64_t uniform_seed; int uniform_max_tokens; int uniform_min_tokens; double uniform_prefill_to_decode_ratio;
    int64_t zipf_seed; int zipf_max_tokens; int zipf_min_tokens; double zipf_theta; int zipf_scramble;
    double zipf_prefill_to_decode_ratio;
    int64_t trace_length_seed; int trace_length_max_tokens; char trace_length_file[VIDUR_PATH_MAX];
    double trace_length_prefill_scale_factor, trace_length_decode_scale_factor;
    int64_t lognormal_seed; int lognormal_max_tokens;
    double lognormal_prefill_median, lognormal_prefill_sigma, lognormal_decode_median, lognormal_decode_sigma;
    /* interval generators */
    int64_t poisson_seed; double poisson_qps;
    int64_t gamma_seed; double gamma_qps; double gamma_cv;
    int64_t static_seed;
    int64_t trace_interval_seed; char trace_interval_file[VIDUR_PATH_MAX];
    char trace_interval_start_time[64], trace_interval_end_time[64]; double trace_interval_time_scale_factor;
    /* trace_replay request generator */
    int64_t trace_replay_seed; int trace_replay_max_tokens; char trace_replay_file[VIDUR_PATH_MAX];
    double trace_replay_prefill_scale_factor, trace_replay_decode_scale_factor, trace_replay_time_scale_factor;
    /* execution_time_predictor_config */
    char predictor_type[VIDUR_NAME_MAX];          /* random_forrest | linear_regression | roofline */
    vidur_predictor_params random_forrest, linear_regression, roofline;
    /* metrics_config */
    int write_metrics, write_json_trace, enable_chrome_trace, save_table_to_wandb;
    int store_plots, store_operation_metrics, store_token_completion_metrics, store_request_metrics;
    int store_batch_metrics, store_utilization_metrics, keep_individual_batch_metrics;
    int64_t subsamples, min_batch_index, max_batch_index;   /* -1 = unset */
    char output_dir[VIDUR_PATH_MAX];               /* simulator_output */
    char cache_dir[VIDUR_PATH_MAX];
    int timestamp_output_dir;                      /* ours: 1 = <output_dir>/<timestamp>/ */
    char wandb_project[VIDUR_NAME_MAX], wandb_group[VIDUR_NAME_MAX], wandb_run_name[VIDUR_NAME_MAX],
         wandb_sweep_id[VIDUR_NAME_MAX], wandb_run_id[VIDUR_NAME_MAX];

    /* user-defined tables ([model.NAME], [device.NAME], [node.NAME] sections) */
    int num_user_models, num_user_devices, num_user_nodes;
    vidur_model_spec user_models[VIDUR_MAX_USER_SPECS];
    vidur_device_spec user_devices[VIDUR_MAX_USER_SPECS];
    vidur_node_spec user_nodes[VIDUR_MAX_USER_SPECS];

    /* plug-ins (not settable from INI; registered in code) */
    int num_global_plugins, num_replica_plugins;
    const struct vidur_global_scheduler_api *global_plugins[VIDUR_MAX_PLUGINS];
    const struct vidur_replica_scheduler_api *replica_plugins[VIDUR_MAX_PLUGINS];

    /* diagnostics (the library is silent unless this is set) */
    vidur_log_fn log_fn;
    void *log_user;
    vidur_observer observer;
} vidur_config;

typedef enum vidur_value_type { VIDUR_T_INT, VIDUR_T_INT64, VIDUR_T_DOUBLE, VIDUR_T_BOOL, VIDUR_T_STRING } vidur_value_type;

typedef struct vidur_key_info {
    const char *section;     /* "" for top-level keys */
    const char *key;
    vidur_value_type type;
    const char *default_value;
    const char *help;
} vidur_key_info;

VIDURDEF void vidur_config_init(vidur_config *cfg);
/* Reads an INI file on top of cfg (later values override earlier ones). */
VIDURDEF vidur_result vidur_config_load_ini(vidur_config *cfg, const char *path, vidur_error *err);
/* Same, from a string; `name` is used in error messages. */
VIDURDEF vidur_result vidur_config_load_ini_string(vidur_config *cfg, const char *text, const char *name, vidur_error *err);
/* flag: a Vidur flag name with or without the leading "--", e.g. "replica_config_device". */
VIDURDEF vidur_result vidur_config_set(vidur_config *cfg, const char *flag, const char *value, vidur_error *err);
VIDURDEF vidur_result vidur_config_set_ini(vidur_config *cfg, const char *section, const char *key, const char *value, vidur_error *err);
/* Parses "--flag value", "--flag=value", "--bool"/"--no-bool" and list flags ("--x 1 2 3").
   Arguments that are not flags are returned in positional[] (up to max_positional). */
VIDURDEF vidur_result vidur_config_parse_args(vidur_config *cfg, int argc, char **argv, const char **positional,
                                              int max_positional, int *num_positional, vidur_error *err);
VIDURDEF vidur_result vidur_config_validate(const vidur_config *cfg, vidur_error *err);
VIDURDEF vidur_result vidur_config_write_json(const vidur_config *cfg, FILE *f);
VIDURDEF void vidur_config_print_help(FILE *f);
VIDURDEF int vidur_config_key_count(void);
VIDURDEF vidur_key_info vidur_config_key_info(int index);
/* Active replica scheduler parameters (the section of replica_scheduler_type). */
VIDURDEF const vidur_replica_scheduler_params *vidur_config_replica_params(const vidur_config *cfg);
VIDURDEF const vidur_predictor_params *vidur_config_predictor_params(const vidur_config *cfg);

VIDURDEF const vidur_model_spec *vidur_find_model(const vidur_config *cfg, const char *name);
VIDURDEF const vidur_device_spec *vidur_find_device(const vidur_config *cfg, const char *name);
VIDURDEF const vidur_node_spec *vidur_find_node(const vidur_config *cfg, const char *name);
VIDURDEF int vidur_builtin_model_count(void);
VIDURDEF const vidur_model_spec *vidur_builtin_model(int i);
VIDURDEF int vidur_builtin_device_count(void);
VIDURDEF const vidur_device_spec *vidur_builtin_device(int i);
VIDURDEF int vidur_builtin_node_count(void);
VIDURDEF const vidur_node_spec *vidur_builtin_node(int i);

/* ---- memory planner ---------------------------------------------------------------------- */
typedef struct vidur_memory_plan {
    int64_t params_per_layer;        /* per device */
    int64_t param_bytes;             /* per device (stage) */
    double available_bytes;
    int64_t kv_bytes_per_request;
    int64_t max_batch_size_mem;      /* requests of max_tokens that fit */
    int64_t max_request_slots;       /* x PP */
    int64_t max_blocks_per_sequence; /* max_tokens / block_size */
    int64_t num_blocks;
} vidur_memory_plan;
VIDURDEF vidur_result vidur_memory_plan_compute(const vidur_model_spec *m, const vidur_device_spec *d, int tp, int pp,
                                                double margin, int64_t max_tokens, int block_size,
                                                vidur_memory_plan *out, vidur_error *err);

/* The fork's planner (used by vllm_v1): token capacity instead of per-request slots:
   kv bytes per token = 4 x hd x kv_w x L/PP; num_blocks = floor((usable - weights) / that) / block_size.
   Llama-2-7B on one A100: 7,672 blocks; Meta-Llama-3-8B: 30,208. */
VIDURDEF vidur_result vidur_memory_plan_compute_tokens(const vidur_model_spec *m, const vidur_device_spec *d, int tp, int pp,
                                                       double margin, int block_size, vidur_memory_plan *out, vidur_error *err);

/* ---- entities visible to plug-ins ---------------------------------------------------------- */
struct vidur_request {
    int64_t id;                   /* 0,1,2,... in generation order */
    double arrived_at;
    int32_t num_prefill_tokens;   /* P (changed by restart) */
    int32_t num_decode_tokens;    /* D (changed by restart) */
    int32_t num_processed_tokens;
    int32_t num_restarts;
    /* blocks held in a prefix-caching KV cache (vllm_v1; library-internal; kept next to the
       token counts because every decode step reads both) */
    int32_t kv_nblocks, kv_cap;
    int32_t kv_cached_memo;       /* blocks already hashed for this request, -1 = none */
    int32_t *kv_blocks;
    int64_t session_id;           /* -1 when the trace has none */
    const int64_t *block_hash_ids; /* prefix-cache block hashes from the trace (or NULL) */
    int32_t num_block_hash_ids;
    double scheduled_at, execution_time, model_execution_time, scheduling_delay, preempted_time;
    double completed_at, prefill_completed_at;
    double latest_stage_scheduled_at, latest_stage_completed_at;
    double latest_iteration_scheduled_at, latest_iteration_completed_at, latest_iteration_scheduling_delay;
    int8_t scheduled, preempted, completed, is_prefill_complete;
    int32_t replica_id;           /* set when routed */
    int32_t num_prefill_tokens_cached; /* prefix-cache hit tokens credited at the last admission */
    int8_t v1_scheduled;          /* vllm_v1: in the batch being formed or in flight */
    int8_t v1_counted;            /* vllm_v1: counted in the replica's prefix-cache totals */
    int64_t router_cached;        /* *_uncached routers: cached prompt tokens on the chosen replica */
    double prefill_deadline_at;   /* edf: arrival + prefill SLO */
    /* KV allocation owned by the replica framework; -1 = not in the allocation map */
    int64_t num_allocated;
    /* arrival-time values kept for metrics */
    int32_t arrival_num_prefill_tokens, arrival_num_decode_tokens;
    double inter_arrival_delay;   /* < 0 for the first request */
    /* free for plug-ins */
    void *user;
    int64_t user_i64;
    struct vidur_request *next_free; /* library-internal pool link */
};

struct vidur_batch {
    int64_t id;
    int32_t replica_id;
    int32_t size;                 /* number of requests */
    int32_t capacity;
    vidur_request **requests;
    int32_t *num_tokens;
    int64_t total_num_tokens, num_prefill_tokens, num_decode_tokens;
    double scheduled_at, completed_at;
    int64_t user_i64;             /* free for the replica scheduler that formed the batch */
};

/* Read-only facts about a replica for scheduler plug-ins. */
typedef struct vidur_replica_info {
    int id;
    int num_pipeline_stages;
    int tensor_parallel_size;
    int64_t num_blocks;
    int block_size;
    int batch_size_cap;
    int64_t max_tokens;               /* generator max tokens (M) */
    int64_t max_blocks_per_sequence;  /* M / block_size */
    int64_t max_batch_size;           /* min(planner max batch size, cap) */
    int64_t watermark_blocks;
    const vidur_replica_scheduler_params *params;
    const vidur_model_spec *model;
} vidur_replica_info;

VIDURDEF const vidur_replica_info *vidur_replica_get_info(const vidur_replica *r);
VIDURDEF int vidur_replica_can_allocate(const vidur_replica *r, int64_t num_blocks);
/* Adds num_blocks to the request's allocation (creates the entry if absent). */
VIDURDEF void vidur_replica_allocate(vidur_replica *r, vidur_request *q, int64_t num_blocks);
VIDURDEF void vidur_replica_free(vidur_replica *r, vidur_request *q);
VIDURDEF int64_t vidur_replica_num_allocated_blocks(const vidur_replica *r);
VIDURDEF int64_t vidur_replica_num_allocated_requests(const vidur_replica *r); /* len(allocation_map) */
VIDURDEF int vidur_replica_num_running_batches(const vidur_replica *r);
/* Requests holding KV memory on r (vllm_v1: its running list). */
VIDURDEF int64_t vidur_replica_num_running_requests(const vidur_replica *r);
/* KV-cache usage in percent, as the memory metrics record it. */
VIDURDEF double vidur_replica_kv_usage_percent(const vidur_replica *r);
/* Prompt tokens of q already in r's prefix cache (vllm_v1 with prefix caching; else 0). Leaves
   the cache statistics alone. */
VIDURDEF int64_t vidur_replica_prefix_cache_lookup(const vidur_replica *r, const vidur_request *q);
VIDURDEF int vidur_batch_add(vidur_batch *b, vidur_request *q, int32_t num_tokens);
/* Preemption by recomputation: everything processed becomes the new prompt (Vidur's restart). */
VIDURDEF void vidur_request_restart(vidur_request *q);

/* A replica scheduler: the framework calls next_batch while fewer than PP batches are in
   flight; next_batch fills `batch` with vidur_batch_add and returns 1, or returns 0 for none. */
typedef struct vidur_replica_scheduler_api {
    const char *name;
    void *(*create)(vidur_replica *replica, void *user_data);
    void (*destroy)(void *state);
    void (*add_request)(void *state, vidur_request *q);
    int (*next_batch)(void *state, vidur_batch *batch, vidur_error *err);
    void (*on_batch_end)(void *state, vidur_batch *batch);  /* free memory, requeue unfinished */
    int (*is_empty)(void *state);
    int64_t (*num_pending_requests)(void *state);           /* waiting queue length (lor) */
    double (*memory_usage_percent)(void *state);            /* NULL: allocated blocks x 100 / num_blocks */
    void *user_data;
} vidur_replica_scheduler_api;

/* A global scheduler (router): route returns the replica index for the request. */
typedef struct vidur_global_scheduler_api {
    const char *name;
    void *(*create)(vidur_sim *sim, void *user_data);
    void (*destroy)(void *state);
    int (*route)(void *state, vidur_sim *sim, const vidur_request *q);
    void (*on_batch_end)(void *state, vidur_sim *sim, const vidur_batch *b);   /* optional */
    void (*on_request_end)(void *state, vidur_sim *sim, const vidur_request *q); /* optional */
    void (*on_prefill_end)(void *state, vidur_sim *sim, const vidur_request *q); /* optional: first prefill done */
    void *user_data;
} vidur_global_scheduler_api;

VIDURDEF vidur_result vidur_config_add_global_scheduler(vidur_config *cfg, const vidur_global_scheduler_api *api, vidur_error *err);
VIDURDEF vidur_result vidur_config_add_replica_scheduler(vidur_config *cfg, const vidur_replica_scheduler_api *api, vidur_error *err);

/* Helpers for routers. */
VIDURDEF int vidur_sim_num_replicas(const vidur_sim *s);
VIDURDEF vidur_replica *vidur_sim_replica(vidur_sim *s, int i);
VIDURDEF int64_t vidur_replica_num_pending_requests(const vidur_replica *r);
/* A uniformly distributed double in [0,1) from the simulation's scheduler stream. */
VIDURDEF double vidur_sim_random(vidur_sim *s);

/* ---- execution time ------------------------------------------------------------------------ */
enum {
    VIDUR_OP_ATTN_PRE_PROJ, VIDUR_OP_ATTN_POST_PROJ, VIDUR_OP_ATTN_ROPE, VIDUR_OP_ATTN_KV_CACHE_SAVE,
    VIDUR_OP_ATTN_DECODE, VIDUR_OP_ATTN_PREFILL, VIDUR_OP_INPUT_LAYERNORM, VIDUR_OP_POST_ATTENTION_LAYERNORM,
    VIDUR_OP_MLP_UP_PROJ, VIDUR_OP_MLP_DOWN_PROJ, VIDUR_OP_MLP_ACT, VIDUR_OP_ADD,
    VIDUR_OP_ALL_REDUCE, VIDUR_OP_SEND_RECV, VIDUR_OP_COUNT
};
VIDURDEF const char *vidur_op_name(int op);

/* The batch description the predictor needs, computed once per batch (Vidur's keys). */
typedef struct vidur_batch_shape {
    int64_t total_tokens;        /* T */
    int64_t total_tokens_ceil8;  /* ceil8(T): key of the token-wise operators */
    int32_t num_requests;
    int32_t num_decode;          /* dbs */
    int64_t decode_kv;           /* ceil_64(int(mean p_i)) over decode requests */
    int32_t num_prefill;
    int64_t prefill_kv;          /* sum of ceil_64(p_i) over prefill requests ([U]) */
    int64_t prefill_chunk;       /* round(sqrt(sum c_i^2)) */
    double flops_tokens_sum;     /* sum c_i (for MFU) */
    double flops_attn_sum;       /* sum c_i (c_i + p_i) (for MFU) */
} vidur_batch_shape;

typedef struct vidur_stage_time {
    double op_ms[VIDUR_OP_COUNT]; /* per layer (all_reduce: per call; send_recv: per stage) */
    double model_time;            /* seconds */
    double cpu_overhead;          /* seconds */
    double total_time;            /* seconds */
} vidur_stage_time;

typedef struct vidur_predictor_api {
    const char *name;
    /* op time in ms for the given key (k1: tokens or batch size; k2: kv context or chunk) */
    double (*op_time_ms)(void *state, int op, int64_t k1, int64_t k2);
    void *state;
} vidur_predictor_api;

/* ---- profiled operator tables ----------------------------------------------------------------
   A table maps an operator's features to its time in ms. GRID tables are random forests compiled
   losslessly into a rectilinear grid: the union of every tree's split thresholds on each axis
   cuts the feature space into cells on which the forest's prediction is constant. POLY tables are
   the polynomial linear-regression alternative. Features (Vidur's):
       token-wise ops (attn_pre_proj ... add) and attn_kv_cache_save: x = num_tokens
       attn_decode:  x = batch_size,       y = kv_cache_size (context per sequence)
       attn_prefill: x = kv_cache_size,    y = prefill_chunk_size^2
       all_reduce, send_recv:  x = message size in bytes (2 x embedding_dim x tokens)
   Cell lookup: ix = number of x thresholds strictly below x (so x <= x[0] is cell 0). */
enum { VIDUR_TABLE_GRID = 1, VIDUR_TABLE_POLY = 2 };
enum { VIDUR_PREDICTOR_RANDOM_FOREST = 1, VIDUR_PREDICTOR_LINEAR_REGRESSION = 2 };

typedef struct vidur_op_table {
    const char *device;   /* compute ops: GPU SKU ("a100"); network ops: "" */
    const char *model;    /* compute ops: HF id; network ops: "" */
    const char *node;     /* network ops: node SKU ("a100_dgx"); compute ops: "" */
    int tp;               /* compute ops, all_reduce: TP degree; send_recv: devices_per_node of
                             its rows (1 = pipeline stages on different nodes, 2 = same node) */
    int op;               /* VIDUR_OP_* */
    int predictor;        /* VIDUR_PREDICTOR_* */
    int kind;             /* VIDUR_TABLE_* */
    int nx, ny;           /* GRID: thresholds per axis (ny = 0: one feature) */
    const double *x, *y;  /* GRID: thresholds, strictly ascending */
    const float *v;       /* GRID: (nx+1) x (ny+1) values in ms, v[ix * (ny + 1) + iy] */
    int nterms;           /* POLY: number of terms */
    const double *terms;  /* POLY: nterms triples (power of x, power of y, coefficient); */
    double sx, sy;        /*       evaluated on x / sx and y / sy; the intercept is a (0,0) term */
    double xmin, xmax, ymin, ymax; /* the profiled domain (feature space) */
    int relative;         /* 1: values are multipliers of the ideal roofline time of the op at
                             the same key (efficiency 1, no launch overhead), so the prediction
                             is value x ideal time: the table only learns the roofline's error */
} vidur_op_table;

/* Roofline calibration: t = scale x roofline time (without launch overhead) + overhead_ms. */
typedef struct vidur_roofline_calibration {
    const char *device;
    int op;
    double scale, overhead_ms;
} vidur_roofline_calibration;

/* A set of tables: the compiled-in set (when built with VIDUR_TABLES) or one loaded from a
   table file written by `vidur-tables --vtab`. */
typedef struct vidur_table_set {
    int num_tables, num_calibrations;
    const vidur_op_table *tables;
    const vidur_roofline_calibration *calibrations;
    const char *provenance;   /* where the tables came from (one line) */
} vidur_table_set;

/* The compiled-in tables (empty unless the implementation was built with -DVIDUR_TABLES and
   data/ on the include path: vidur.h then includes "vidur_tables.h"). */
VIDURDEF const vidur_table_set *vidur_builtin_tables(void);
/* Loads a table file; free with vidur_table_set_free. */
VIDURDEF vidur_result vidur_table_set_load(const char *path, vidur_table_set **out, vidur_error *err);
VIDURDEF void vidur_table_set_free(vidur_table_set *set);
/* Writes a set in the table-file format (what vidur_table_set_load reads). */
VIDURDEF vidur_result vidur_table_set_write(const vidur_table_set *set, FILE *f);
/* Evaluates one table at a feature point (no range handling). */
VIDURDEF double vidur_op_table_eval(const vidur_op_table *t, double x, double y);

VIDURDEF void vidur_batch_shape_compute(const vidur_batch *b, int kv_granularity, vidur_batch_shape *out);
/* Built-in roofline operator model. */
typedef struct vidur_roofline {
    vidur_model_spec model;
    vidur_device_spec device;
    vidur_node_spec node;
    int tp, pp;
    vidur_predictor_params p;     /* efficiencies and launch overhead of the uncalibrated model */
    /* calibrated operators: t = scale x (time at efficiency 1, no launch overhead) + overhead_ms */
    int calibrated[VIDUR_OP_COUNT];
    double scale[VIDUR_OP_COUNT], overhead_ms[VIDUR_OP_COUNT];
} vidur_roofline;
VIDURDEF double vidur_roofline_op_time_ms(void *roofline_state, int op, int64_t k1, int64_t k2);
/* Composes operator times into one stage's time (execution_time.md §1). */
VIDURDEF void vidur_stage_time_compute(const vidur_predictor_api *pred, const vidur_model_spec *m,
                                       const vidur_predictor_params *p, int tp, int pp, int stage,
                                       const vidur_batch_shape *shape, vidur_stage_time *out);

/* ---- metrics ----------------------------------------------------------------------------- */
typedef enum vidur_metric {
    VIDUR_METRIC_REQUEST_E2E_TIME,
    VIDUR_METRIC_REQUEST_E2E_TIME_NORMALIZED,
    VIDUR_METRIC_REQUEST_EXECUTION_TIME,
    VIDUR_METRIC_REQUEST_EXECUTION_TIME_NORMALIZED,
    VIDUR_METRIC_REQUEST_MODEL_EXECUTION_TIME,
    VIDUR_METRIC_REQUEST_MODEL_EXECUTION_TIME_NORMALIZED,
    VIDUR_METRIC_REQUEST_PREEMPTION_TIME,
    VIDUR_METRIC_REQUEST_SCHEDULING_DELAY,
    VIDUR_METRIC_REQUEST_EXECUTION_PLUS_PREEMPTION_TIME,
    VIDUR_METRIC_REQUEST_EXECUTION_PLUS_PREEMPTION_TIME_NORMALIZED,
    VIDUR_METRIC_PREFILL_E2E_TIME,
    VIDUR_METRIC_PREFILL_TIME_EXECUTION_PLUS_PREEMPTION,
    VIDUR_METRIC_PREFILL_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED,
    VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED,
    VIDUR_METRIC_REQUEST_INTER_ARRIVAL_DELAY,
    VIDUR_METRIC_REQUEST_NUM_TOKENS,
    VIDUR_METRIC_REQUEST_NUM_PREFILL_TOKENS,
    VIDUR_METRIC_REQUEST_NUM_DECODE_TOKENS,
    VIDUR_METRIC_REQUEST_PD_RATIO,
    VIDUR_METRIC_REQUEST_NUM_RESTARTS,
    VIDUR_METRIC_BATCH_EXECUTION_TIME,
    VIDUR_METRIC_BATCH_NUM_TOKENS,
    VIDUR_METRIC_BATCH_NUM_PREFILL_TOKENS,
    VIDUR_METRIC_BATCH_NUM_DECODE_TOKENS,
    VIDUR_METRIC_BATCH_SIZE,
    VIDUR_METRIC_COUNT
} vidur_metric;
#define VIDUR_NUM_REQUEST_TIME_METRICS 14  /* the first 14 are completion-time metrics */
VIDURDEF const char *vidur_metric_name(vidur_metric m);

typedef struct vidur_stat {
    int64_t count;
    double mean, min, max, p50, p90, p99;
} vidur_stat;

typedef struct vidur_replica_utilization {
    double memory_usage_min, memory_usage_max, memory_usage_weighted_mean; /* percent */
    double busy_time_percent;     /* time-weighted mean over stages */
    double mfu;                   /* time-weighted mean over stages, percent */
    int64_t num_blocks;
    /* prefix caching (vllm_v1): prompt tokens credited from the cache over completed requests,
       prompt tokens of the requests first scheduled here, and their ratio ([F] hit_ratio) */
    int64_t prefix_cached_tokens, prefix_total_tokens;
    double prefix_hit_rate;
    int64_t prefix_block_queries, prefix_block_hits; /* hash lookups and hits (cache statistics) */
} vidur_replica_utilization;

typedef struct vidur_summary {
    int64_t num_requests;         /* arrived */
    int64_t num_completed;
    int64_t num_batches;
    int64_t num_events;
    int64_t num_preemptions;      /* restarts */
    double simulated_time;        /* seconds: time of the last event */
    double throughput_rps;        /* completed / (last completion - first arrival) */
    double output_tokens_per_s;
    vidur_stat metric[VIDUR_METRIC_COUNT];
    int num_replicas;
    vidur_replica_utilization *replica; /* num_replicas entries, owned by the simulation */
    int time_limit_reached;
} vidur_summary;

/* ---- simulation -------------------------------------------------------------------------- */
VIDURDEF vidur_result vidur_sim_create(const vidur_config *cfg, vidur_sim **out, vidur_error *err);
/* Runs to the end; returns VIDUR_OK or the error that stopped it (message in vidur_sim_error). */
VIDURDEF vidur_result vidur_sim_run(vidur_sim *s);
/* Processes one event; returns 1 if an event was processed, 0 at the end, -1 on error. */
VIDURDEF int vidur_sim_step(vidur_sim *s);
VIDURDEF double vidur_sim_now(const vidur_sim *s);
VIDURDEF const vidur_error *vidur_sim_error(const vidur_sim *s);
VIDURDEF const vidur_summary *vidur_sim_summary(vidur_sim *s);
VIDURDEF const vidur_config *vidur_sim_config(const vidur_sim *s);
/* One stage's predicted time for a batch shape (what `vidur predict` prints). */
VIDURDEF void vidur_sim_stage_time(vidur_sim *s, const vidur_batch_shape *shape, int stage, vidur_stage_time *out);
/* Where an operator's times come from: "random_forest", "linear_regression",
   "calibrated roofline" or "roofline". */
VIDURDEF const char *vidur_sim_op_source(const vidur_sim *s, int op);
/* Writes config.json, request_metrics.csv, summary.json, plots/ into dir (or, when dir is NULL,
   into metrics_config_output_dir[/timestamp]). Each file is written to a temporary name and renamed.
   The folder used is copied into out_dir (if not NULL). */
VIDURDEF vidur_result vidur_sim_write_outputs(vidur_sim *s, const char *dir, char *out_dir, size_t out_dir_size, vidur_error *err);
VIDURDEF vidur_result vidur_summary_write_json(const vidur_summary *sum, FILE *f);
VIDURDEF void vidur_summary_print(const vidur_summary *sum, FILE *f);
VIDURDEF void vidur_sim_destroy(vidur_sim *s);

#ifdef __cplusplus
}
#endif
#endif /* VIDUR_H */

/* =============================================================================================
   IMPLEMENTATION
   ============================================================================================= */
#ifdef VIDUR_IMPLEMENTATION
#ifndef VIDUR_IMPLEMENTATION_ONCE
#define VIDUR_IMPLEMENTATION_ONCE

#if defined(VIDUR_MALLOC) && defined(VIDUR_REALLOC) && defined(VIDUR_FREE)
/* all three given */
#elif !defined(VIDUR_MALLOC) && !defined(VIDUR_REALLOC) && !defined(VIDUR_FREE)
#include <stdlib.h>
#define VIDUR_MALLOC(sz) malloc(sz)
#define VIDUR_REALLOC(p, sz) realloc(p, sz)
#define VIDUR_FREE(p) free(p)
#else
#error "Define all of VIDUR_MALLOC, VIDUR_REALLOC and VIDUR_FREE, or none of them."
#endif

#ifndef VIDUR_ASSERT
#include <assert.h>
#define VIDUR_ASSERT(x) assert(x)
#endif

#ifdef VIDUR_STB_DS_IMPLEMENTATION
#define STBDS_REALLOC(ctx, p, sz) VIDUR_REALLOC(p, sz)
#define STBDS_FREE(ctx, p) VIDUR_FREE(p)
#define STB_DS_IMPLEMENTATION
#endif
#include <stb_ds.h>

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(_WIN32)
#include <direct.h>
#define vidur__mkdir(p) _mkdir(p)
#else
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#define vidur__mkdir(p) mkdir(p, 0777)
#endif

#ifndef VIDUR_NO_INIH
#include <ini.h>
#endif

#ifdef __cplusplus
#define VIDUR__ZERO {}
#else
#define VIDUR__ZERO {0}
#endif

/* ---- section: utilities ---------------------------------------------------------------------- */

static void vidur__set_error(vidur_error *err, vidur_result code, const char *fmt, ...)
{
    va_list ap;
    if (!err) return;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static void vidur__copy(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (len >= n) len = n - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

static void *vidur__calloc(size_t n, size_t sz)
{
    void *p = VIDUR_MALLOC(n * sz);
    if (p) memset(p, 0, n * sz);
    return p;
}

/* growable array of fixed-size items; grows geometrically so pushes are amortised O(1) */
static int vidur__grow(void **p, int64_t *cap, int64_t need, size_t item)
{
    int64_t nc;
    void *np;
    if (need <= *cap) return 1;
    nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    np = VIDUR_REALLOC(*p, (size_t)nc * item);
    if (!np) return 0;
    *p = np;
    *cap = nc;
    return 1;
}

/* shortest of %.15g / %.17g that reads back exactly */
static void vidur__fmt_double(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, n, "%.17g", v);
}

static int64_t vidur__ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t vidur__ceil_to(int64_t a, int64_t g) { return ((a + g - 1) / g) * g; }

VIDURDEF const char *vidur_result_description(vidur_result r)
{
    switch (r) {
    case VIDUR_OK: return "ok";
    case VIDUR_ERR_CONFIG: return "configuration error";
    case VIDUR_ERR_IO: return "i/o error";
    case VIDUR_ERR_PARSE: return "parse error";
    case VIDUR_ERR_MEMORY: return "out of memory";
    case VIDUR_ERR_RANGE: return "value out of range";
    case VIDUR_ERR_SCHEDULER: return "scheduler error";
    case VIDUR_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown";
}

VIDURDEF const char *vidur_version_string(void) { return VIDUR_VERSION_STRING; }

/* ---- section: random numbers ----------------------------------------------------------------
   MT19937 with CPython's and NumPy's seeding, so that Vidur's draws can be reproduced exactly:
   random.seed(n) is init_by_array([n as 32-bit words]); np.random.RandomState(n) is init_genrand(n). */
typedef struct vidur__mt {
    uint32_t mt[624];
    int mti;
    int has_gauss;
    double gauss;
} vidur__mt;

static void vidur__mt_init_genrand(vidur__mt *r, uint32_t s)
{
    int i;
    r->mt[0] = s;
    for (i = 1; i < 624; i++) r->mt[i] = (uint32_t)(1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i);
    r->mti = 624;
    r->has_gauss = 0;
    r->gauss = 0;
}

static void vidur__mt_init_by_array(vidur__mt *r, const uint32_t *key, int len)
{
    int i = 1, j = 0, k;
    vidur__mt_init_genrand(r, 19650218u);
    for (k = (624 > len ? 624 : len); k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
        i++; j++;
        if (i >= 624) { r->mt[0] = r->mt[623]; i = 1; }
        if (j >= len) j = 0;
    }
    for (k = 623; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
        i++;
        if (i >= 624) { r->mt[0] = r->mt[623]; i = 1; }
    }
    r->mt[0] = 0x80000000u;
}

/* CPython random.seed(int): the absolute value split into 32-bit little-endian words */
static void vidur__mt_seed_python(vidur__mt *r, int64_t seed)
{
    uint64_t v = (uint64_t)(seed < 0 ? -seed : seed);
    uint32_t key[2];
    int n = 0;
    if (v == 0) { key[0] = 0; n = 1; }
    while (v) { key[n++] = (uint32_t)(v & 0xffffffffu); v >>= 32; }
    vidur__mt_init_by_array(r, key, n);
}

static uint32_t vidur__mt_next(vidur__mt *r)
{
    uint32_t y;
    if (r->mti >= 624) {
        int k;
        for (k = 0; k < 624; k++) {
            y = (r->mt[k] & 0x80000000u) | (r->mt[(k + 1) % 624] & 0x7fffffffu);
            r->mt[k] = r->mt[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        r->mti = 0;
    }
    y = r->mt[r->mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= (y >> 18);
    return y;
}

/* random() of CPython and random_sample() of NumPy legacy: 53-bit double in [0,1) */
static double vidur__mt_random(vidur__mt *r)
{
    uint32_t a = vidur__mt_next(r) >> 5, b = vidur__mt_next(r) >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

/* CPython randbelow(n) via getrandbits(bit_length(n)) with rejection (n <= 2^32) */
static uint32_t vidur__mt_randbelow(vidur__mt *r, uint32_t n)
{
    int k = 0;
    uint32_t v, t = n;
    while (t) { k++; t >>= 1; }
    do { v = vidur__mt_next(r) >> (32 - k); } while (v >= n);
    return v;
}

/* NumPy legacy random_interval(max): mask-and-reject */
static uint32_t vidur__mt_interval(vidur__mt *r, uint32_t max)
{
    uint32_t mask = max, v;
    if (max == 0) return 0;
    mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16;
    while ((v = (vidur__mt_next(r) & mask)) > max) {}
    return v;
}

/* NumPy legacy gauss (polar method with caching) */
static double vidur__mt_gauss(vidur__mt *r)
{
    double f, x1, x2, r2;
    if (r->has_gauss) { r->has_gauss = 0; return r->gauss; }
    do {
        x1 = 2.0 * vidur__mt_random(r) - 1.0;
        x2 = 2.0 * vidur__mt_random(r) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    f = sqrt(-2.0 * log(r2) / r2);
    r->gauss = f * x1;
    r->has_gauss = 1;
    return f * x2;
}

/* NumPy legacy standard_gamma */
static double vidur__mt_standard_gamma(vidur__mt *r, double shape)
{
    double b, c, U, V, X, Y;
    if (shape == 1.0) return -log(1.0 - vidur__mt_random(r));
    if (shape == 0.0) return 0.0;
    if (shape < 1.0) {
        for (;;) {
            U = vidur__mt_random(r);
            V = -log(1.0 - vidur__mt_random(r));
            if (U <= 1.0 - shape) {
                X = pow(U, 1. / shape);
                if (X <= V) return X;
            } else {
                Y = -log((1 - U) / shape);
                X = pow(1.0 - shape + shape * Y, 1. / shape);
                if (X <= (V + Y)) return X;
            }
        }
    }
    b = shape - 1. / 3.;
    c = 1. / sqrt(9 * b);
    for (;;) {
        do {
            X = vidur__mt_gauss(r);
            V = 1.0 + c * X;
        } while (V <= 0.0);
        V = V * V * V;
        U = vidur__mt_random(r);
        if (U < 1.0 - 0.0331 * (X * X) * (X * X)) return (b * V);
        if (log(U) < 0.5 * X * X + b * (1. - V + log(V))) return (b * V);
    }
}

/* ---- section: model / device / node tables ---------------------------------------------------- */
static const vidur_model_spec vidur__models[] = {
    /* name, L, Hq, Hkv, E, F, max_pos, vocab, gated, post_attn_norm, bias, qkv_bias, rope theta, rotary */
    {"meta-llama/Llama-2-7b-hf", 32, 32, 32, 4096, 11008, 4096, 32768, 1, 1, 0, 0, 1e4, 1.0},
    {"meta-llama/Llama-2-70b-hf", 80, 64, 8, 8192, 28672, 4096, 32768, 1, 1, 0, 0, 1e4, 1.0},
    {"meta-llama/Meta-Llama-3-8B", 32, 32, 8, 4096, 14336, 4096, 128256, 1, 1, 0, 0, 5e5, 1.0},
    {"meta-llama/Meta-Llama-3-70B", 80, 64, 8, 8192, 28672, 8192, 128256, 1, 1, 0, 0, 5e5, 1.0},
    {"codellama/CodeLlama-34b-Instruct-hf", 48, 64, 8, 8192, 22016, 16384, 32768, 1, 1, 0, 0, 1e6, 1.0},
    {"internlm/internlm-20b", 60, 40, 40, 5120, 13824, 4096, 103168, 1, 1, 0, 0, 1e4, 1.0},
    {"internlm/internlm2-20b", 48, 48, 8, 6144, 16384, 32768, 92544, 1, 1, 0, 0, 1e6, 1.0},
    {"microsoft/phi-2", 32, 32, 32, 2560, 10240, 2048, 51200, 0, 0, 1, 1, 1e4, 0.4},
    {"Qwen/Qwen-72B", 80, 64, 64, 8192, 24576, 32768, 152064, 1, 1, 0, 1, 1e6, 1.0},
};

/* memory bandwidth is public spec-sheet data (A40 696 GB/s, A100-80GB SXM 2039 GB/s,
   H100 SXM 3352 GB/s); prices are Vidur's analyzer base prices (CoreWeave, Feb 2024) */
static const vidur_device_spec vidur__devices[] = {
    {"a40", 150, 45, 696, 1.28},
    {"a100", 312, 80, 2039, 2.21},
    {"h100", 1000, 80, 3352, 4.25},
};

/* link bandwidths are per GPU and per direction: NVLink bridges between GPU pairs (A40 56 GB/s,
   A100 pairs 100 GB/s, H100 pairs 150 GB/s), NVSwitch in DGX (A100 300 GB/s, H100 450 GB/s),
   and 25 GB/s (200 Gb/s InfiniBand) across nodes. Roofline only; profiles override them. */
static const vidur_node_spec vidur__nodes[] = {
    {"a40_pairwise_nvlink", "a40", 8, 56, 25, 8},
    {"a100_pairwise_nvlink", "a100", 4, 100, 25, 8},
    {"h100_pairwise_nvlink", "h100", 4, 150, 25, 8},
    {"a100_dgx", "a100", 8, 300, 25, 8},
    {"h100_dgx", "h100", 8, 450, 25, 8},
    {"p4d_a100_40g_nvlink", "a100", 8, 300, 50, 8},
};

#define VIDUR__COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

VIDURDEF int vidur_builtin_model_count(void) { return VIDUR__COUNT(vidur__models); }
VIDURDEF const vidur_model_spec *vidur_builtin_model(int i) { return i >= 0 && i < VIDUR__COUNT(vidur__models) ? &vidur__models[i] : NULL; }
VIDURDEF int vidur_builtin_device_count(void) { return VIDUR__COUNT(vidur__devices); }
VIDURDEF const vidur_device_spec *vidur_builtin_device(int i) { return i >= 0 && i < VIDUR__COUNT(vidur__devices) ? &vidur__devices[i] : NULL; }
VIDURDEF int vidur_builtin_node_count(void) { return VIDUR__COUNT(vidur__nodes); }
VIDURDEF const vidur_node_spec *vidur_builtin_node(int i) { return i >= 0 && i < VIDUR__COUNT(vidur__nodes) ? &vidur__nodes[i] : NULL; }

/* user-defined entries take precedence, so a user can also redefine a built-in */
VIDURDEF const vidur_model_spec *vidur_find_model(const vidur_config *cfg, const char *name)
{
    int i;
    if (cfg)
        for (i = 0; i < cfg->num_user_models; i++)
            if (!strcmp(cfg->user_models[i].name, name)) return &cfg->user_models[i];
    for (i = 0; i < VIDUR__COUNT(vidur__models); i++)
        if (!strcmp(vidur__models[i].name, name)) return &vidur__models[i];
    return NULL;
}

VIDURDEF const vidur_device_spec *vidur_find_device(const vidur_config *cfg, const char *name)
{
    int i;
    if (cfg)
        for (i = 0; i < cfg->num_user_devices; i++)
            if (!strcmp(cfg->user_devices[i].name, name)) return &cfg->user_devices[i];
    for (i = 0; i < VIDUR__COUNT(vidur__devices); i++)
        if (!strcmp(vidur__devices[i].name, name)) return &vidur__devices[i];
    return NULL;
}

VIDURDEF const vidur_node_spec *vidur_find_node(const vidur_config *cfg, const char *name)
{
    int i;
    if (cfg)
        for (i = 0; i < cfg->num_user_nodes; i++)
            if (!strcmp(cfg->user_nodes[i].name, name)) return &cfg->user_nodes[i];
    for (i = 0; i < VIDUR__COUNT(vidur__nodes); i++)
        if (!strcmp(vidur__nodes[i].name, name)) return &vidur__nodes[i];
    return NULL;
}

/* ---- section: memory planner (upstream Vidur, schedulers.md §1) ------------------------------- */
VIDURDEF vidur_result vidur_memory_plan_compute(const vidur_model_spec *m, const vidur_device_spec *d, int tp, int pp,
                                                double margin, int64_t max_tokens, int block_size,
                                                vidur_memory_plan *out, vidur_error *err)
{
    int64_t E = m->embedding_dim, hd, qw, kvw, F = m->mlp_hidden_dim, k = m->use_gated_mlp ? 3 : 2, Ls;
    double kv_total;
    memset(out, 0, sizeof *out);
    if (tp <= 0 || pp <= 0 || m->num_q_heads % tp || m->num_layers % pp || E % m->num_q_heads) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "model %s cannot be split with TP=%d PP=%d", m->name, tp, pp);
        return VIDUR_ERR_CONFIG;
    }
    hd = E / m->num_q_heads;
    qw = m->num_q_heads / tp;
    kvw = vidur__ceil_div(m->num_kv_heads, tp);
    Ls = m->num_layers / pp;
    out->params_per_layer = E * hd * (qw + 2 * kvw) + E * hd * qw + (k * E * F) / tp;
    out->param_bytes = 2 * out->params_per_layer * Ls;
    out->available_bytes = d->total_memory_gb * 1024.0 * 1024.0 * 1024.0 * (1.0 - margin);
    /* upstream counts the KV of all L layers here, not L/PP: reproduced on purpose */
    out->kv_bytes_per_request = 2 * 2 * hd * kvw * max_tokens * (int64_t)m->num_layers;
    kv_total = floor((out->available_bytes - (double)out->param_bytes) / (double)out->kv_bytes_per_request);
    if (kv_total <= 0) {
        vidur__set_error(err, VIDUR_ERR_MEMORY,
                         "model %s (TP=%d PP=%d) leaves no room for one %lld-token request on %s: weights %.1f GiB of %.1f GiB usable",
                         m->name, tp, pp, (long long)max_tokens, d->name, out->param_bytes / 1073741824.0,
                         out->available_bytes / 1073741824.0);
        return VIDUR_ERR_MEMORY;
    }
    out->max_batch_size_mem = (int64_t)kv_total;
    out->max_request_slots = out->max_batch_size_mem * pp;
    out->max_blocks_per_sequence = max_tokens / block_size;
    out->num_blocks = out->max_blocks_per_sequence * out->max_request_slots;
    return VIDUR_OK;
}

VIDURDEF vidur_result vidur_memory_plan_compute_tokens(const vidur_model_spec *m, const vidur_device_spec *d, int tp, int pp,
                                                       double margin, int block_size, vidur_memory_plan *out, vidur_error *err)
{
    vidur_result r = vidur_memory_plan_compute(m, d, tp, pp, margin, 1, block_size, out, err);
    int64_t hd, kvw, per_token;
    double tokens;
    if (r != VIDUR_OK && r != VIDUR_ERR_MEMORY) return r;
    hd = m->embedding_dim / m->num_q_heads;
    kvw = vidur__ceil_div(m->num_kv_heads, tp);
    per_token = 2 * 2 * hd * kvw * (m->num_layers / pp);
    tokens = floor((out->available_bytes - (double)out->param_bytes) / (double)per_token);
    if (tokens < block_size) {
        vidur__set_error(err, VIDUR_ERR_MEMORY, "model %s (TP=%d PP=%d) leaves no room for KV blocks on %s", m->name, tp, pp, d->name);
        return VIDUR_ERR_MEMORY;
    }
    out->kv_bytes_per_request = per_token;
    out->max_batch_size_mem = (int64_t)tokens; /* here: tokens of KV capacity */
    out->max_request_slots = 0;
    out->max_blocks_per_sequence = 0;
    out->num_blocks = (int64_t)tokens / block_size;
    return VIDUR_OK;
}

/* ---- section: configuration ------------------------------------------------------------------
   One table describes every key: INI section + key, the flat Vidur flag (<section>_<key>), type,
   default, range and help. Defaults are parsed from this table, so --help, config.json and
   vidur_config_init cannot disagree. */
typedef struct vidur__key {
    const char *section;
    const char *key;
    vidur_value_type type;
    size_t offset;
    size_t size;         /* bytes of the field (string capacity) */
    const char *def;
    double lo, hi;       /* inclusive numeric range (lo > hi: no check) */
    const char *choices; /* '|'-separated allowed strings, or NULL */
    int is_list;         /* takes several space-separated values on the command line */
    const char *help;
} vidur__key;

#define VIDUR__OFF(f) offsetof(vidur_config, f)
#define VIDUR__SZ(f) sizeof(((vidur_config *)0)->f)
#define VIDUR__K(sec, key, T, f, def, lo, hi, help) {sec, key, VIDUR_T_##T, VIDUR__OFF(f), VIDUR__SZ(f), def, lo, hi, NULL, 0, help}
#define VIDUR__C(sec, key, f, def, choices, help) {sec, key, VIDUR_T_STRING, VIDUR__OFF(f), VIDUR__SZ(f), def, 1, 0, choices, 0, help}
#define VIDUR__L(sec, key, f, def, help) {sec, key, VIDUR_T_STRING, VIDUR__OFF(f), VIDUR__SZ(f), def, 1, 0, NULL, 1, help}
#define VIDUR__BIG 9.2e18

#define VIDUR__SCHED_KEYS(sec, f, cap_help)                                                                       \
    VIDUR__K(sec, "batch_size_cap", INT, f.batch_size_cap, "128", 1, 1e9, cap_help),                             \
    VIDUR__K(sec, "block_size", INT, f.block_size, "16", 1, 1e6, "KV-cache block size in tokens."),                 \
    VIDUR__K(sec, "num_blocks", INT64, f.num_blocks, "0", 0, VIDUR__BIG, "KV-cache blocks per replica; 0 = computed by the memory planner."), \
    VIDUR__K(sec, "watermark_blocks_fraction", DOUBLE, f.watermark_blocks_fraction, "0.01", 0, 1, "Fraction of blocks kept free when admitting new requests.")

#define VIDUR__PRED_KEYS(sec, f)                                                                                    \
    VIDUR__K(sec, "compute_input_file", STRING, f.compute_input_file, "./data/profiling/compute/{DEVICE}/{MODEL}/mlp.csv", 1, 0, "Profiling CSV of the token-wise operators."), \
    VIDUR__K(sec, "attention_input_file", STRING, f.attention_input_file, "./data/profiling/compute/{DEVICE}/{MODEL}/attention.csv", 1, 0, "Profiling CSV of the attention operators."), \
    VIDUR__K(sec, "all_reduce_input_file", STRING, f.all_reduce_input_file, "./data/profiling/network/{NETWORK_DEVICE}/all_reduce.csv", 1, 0, "Profiling CSV of all-reduce."), \
    VIDUR__K(sec, "send_recv_input_file", STRING, f.send_recv_input_file, "./data/profiling/network/{NETWORK_DEVICE}/send_recv.csv", 1, 0, "Profiling CSV of pipeline send/recv."), \
    VIDUR__K(sec, "cpu_overhead_input_file", STRING, f.cpu_overhead_input_file, "./data/profiling/cpu_overhead/{NETWORK_DEVICE}/{MODEL}/cpu_overheads.csv", 1, 0, "Profiling CSV of CPU overheads."), \
    VIDUR__K(sec, "k_fold_cv_splits", INT, f.k_fold_cv_splits, "10", 2, 1000, "Cross-validation folds of the regressor search."), \
    VIDUR__K(sec, "no_cache", BOOL, f.no_cache, "false", 1, 0, "Do not read cached prediction tables."), \
    VIDUR__K(sec, "kv_cache_prediction_granularity", INT, f.kv_cache_prediction_granularity, "64", 1, 1e6, "Decode/prefill KV context is rounded up to a multiple of this."), \
    VIDUR__K(sec, "prediction_max_prefill_chunk_size", INT, f.prediction_max_prefill_chunk_size, "4096", 1, 1e9, "Largest prefill chunk the predictor accepts."), \
    VIDUR__K(sec, "prediction_max_batch_size", INT, f.prediction_max_batch_size, "128", 1, 1e9, "Largest decode batch the predictor accepts."), \
    VIDUR__K(sec, "prediction_max_tokens_per_request", INT, f.prediction_max_tokens_per_request, "4096", 1, 1e9, "Largest token count / KV context the predictor accepts."), \
    VIDUR__K(sec, "attention_decode_batching_overhead_fraction", DOUBLE, f.attention_decode_batching_overhead_fraction, "0.1", 0, 100, "Extra decode-attention time for batches > 1 (GQA models only)."), \
    VIDUR__K(sec, "attention_prefill_batching_overhead_fraction", DOUBLE, f.attention_prefill_batching_overhead_fraction, "0.1", 0, 100, "Extra prefill-attention time for several prompts (GQA models only)."), \
    VIDUR__K(sec, "nccl_cpu_launch_overhead_ms", DOUBLE, f.nccl_cpu_launch_overhead_ms, "0.02", 0, 1e6, "CPU launch cost added to every all-reduce (ms)."), \
    VIDUR__K(sec, "nccl_cpu_skew_overhead_per_device_ms", DOUBLE, f.nccl_cpu_skew_overhead_per_device_ms, "0.0", 0, 1e6, "Skew cost x TP^1.25 added to every all-reduce (ms)."), \
    VIDUR__K(sec, "num_training_job_threads", INT, f.num_training_job_threads, "-1", -1, 4096, "Threads for regressor training (-1 = all cores)."), \
    VIDUR__K(sec, "skip_cpu_overhead_modeling", BOOL, f.skip_cpu_overhead_modeling, "true", 1, 0, "Ignore CPU overheads (schedule, sampler, prepare inputs)."), \
    VIDUR__K(sec, "compute_efficiency", DOUBLE, f.compute_efficiency, "0.7", 1e-3, 1, "Roofline: fraction of peak FLOP/s reached by GEMMs."), \
    VIDUR__K(sec, "attention_efficiency", DOUBLE, f.attention_efficiency, "0.5", 1e-3, 1, "Roofline: fraction of peak FLOP/s reached by attention kernels."), \
    VIDUR__K(sec, "memory_efficiency", DOUBLE, f.memory_efficiency, "0.8", 1e-3, 1, "Roofline: fraction of peak memory bandwidth reached."), \
    VIDUR__K(sec, "network_efficiency", DOUBLE, f.network_efficiency, "0.7", 1e-3, 1, "Roofline: fraction of link bandwidth reached by collectives."), \
    VIDUR__K(sec, "kernel_launch_overhead_ms", DOUBLE, f.kernel_launch_overhead_ms, "0.005", 0, 1e3, "Roofline: fixed cost of one kernel (ms)."), \
    VIDUR__K(sec, "table_file", STRING, f.table_file, "", 1, 0, "Ours: operator tables written by vidur-tables --vtab (empty: the compiled-in tables).")

static const vidur__key vidur__keys[] = {
    VIDUR__K("", "seed", INT64, seed, "42", 0, VIDUR__BIG, "Process-wide seed (the random global scheduler's stream when the workload draws none)."),
    VIDUR__K("", "log_level", STRING, log_level, "info", 1, 0, "Accepted for compatibility with Vidur's flag; the library logs through vidur_config.log_fn."),
    VIDUR__K("", "time_limit", DOUBLE, time_limit, "0", 0, 1e18, "Stop after the first event later than this many simulated seconds (0 = no limit)."),
    VIDUR__K("cluster_config", "num_replicas", INT, num_replicas, "1", 1, 1e6, "Number of model replicas."),
    VIDUR__K("replica_config", "model_name", STRING, model_name, "meta-llama/Llama-2-7b-hf", 1, 0, "Model (HF id) or a [model.NAME] section."),
    VIDUR__K("replica_config", "device", STRING, device, "a100", 1, 0, "GPU SKU: a40, a100, h100, or a [device.NAME] section."),
    VIDUR__K("replica_config", "network_device", STRING, network_device, "a100_pairwise_nvlink", 1, 0, "Node SKU: a40_pairwise_nvlink, a100_pairwise_nvlink, h100_pairwise_nvlink, a100_dgx, h100_dgx, p4d_a100_40g_nvlink, or [node.NAME]."),
    VIDUR__K("replica_config", "tensor_parallel_size", INT, tensor_parallel_size, "1", 1, 1024, "GPUs per pipeline stage (TP)."),
    VIDUR__K("replica_config", "num_pipeline_stages", INT, num_pipeline_stages, "1", 1, 1024, "Pipeline stages per replica (PP)."),
    VIDUR__K("replica_config", "memory_margin_fraction", DOUBLE, memory_margin_fraction, "0.1", 0, 0.99, "Fraction of GPU memory left unused by the memory planner."),
    VIDUR__C("global_scheduler_config", "type", global_scheduler_type, "round_robin",
             "round_robin|random|lor|lop|lop_uncached|sticky|sticky_lop|sticky_round_robin|sticky_lor|tolerant_sticky_lop_uncached|ranked_sticky_lop_uncached",
             "Global scheduler (router): round_robin, random, lor, lop, lop_uncached, sticky, sticky_lop, sticky_round_robin, sticky_lor, tolerant_sticky_lop_uncached, ranked_sticky_lop_uncached, or a registered plug-in."),
    VIDUR__K("global_scheduler_config", "seed", INT64, lop_seed, "67", 0, VIDUR__BIG, "Seed of the routers' tie-break stream (CPython random.Random(seed), as the fork's per-type seed 67)."),
    VIDUR__K("tolerant_sticky_lop_uncached_global_scheduler_config", "tolerance_factor", DOUBLE, tolerance_factor, "2.0", 0, 1e9, "Keep a session's replica while its imbalance is at most this times the best [F]."),
    VIDUR__K("ranked_sticky_lop_uncached_global_scheduler_config", "top_k", INT, top_k, "2", 1, 1e6, "Keep a session's replica while it ranks in the top k by imbalance [F]."),
    VIDUR__C("replica_scheduler_config", "type", replica_scheduler_type, "sarathi", "sarathi|vllm|orca|faster_transformer|lightllm|vllm_v1", "Replica scheduler: sarathi, vllm, orca, faster_transformer, lightllm, vllm_v1, or a registered plug-in."),
    VIDUR__SCHED_KEYS("vllm_scheduler_config", vllm, "Most requests holding KV memory; a micro-batch holds at most cap/PP."),
    VIDUR__K("vllm_scheduler_config", "max_tokens_in_batch", INT, vllm.max_tokens_in_batch, "4096", 1, 1e9, "Padded prefill batch limit: (requests) x (longest prompt)."),
    VIDUR__SCHED_KEYS("sarathi_scheduler_config", sarathi, "Most requests holding KV memory; a micro-batch holds at most cap/PP."),
    VIDUR__K("sarathi_scheduler_config", "chunk_size", INT, sarathi.chunk_size, "512", 1, 1e9, "Token budget per iteration for prefill chunks."),
    VIDUR__SCHED_KEYS("orca_scheduler_config", orca, "Most requests per batch."),
    VIDUR__SCHED_KEYS("faster_transformer_scheduler_config", faster_transformer, "Most requests per batch."),
    VIDUR__SCHED_KEYS("lightllm_scheduler_config", lightllm, "Most requests holding KV memory."),
    VIDUR__K("lightllm_scheduler_config", "max_tokens_in_batch", INT, lightllm.max_tokens_in_batch, "4096", 1, 1e9, "Prefill token budget per batch."),
    VIDUR__K("lightllm_scheduler_config", "max_waiting_iters", INT, lightllm.max_waiting_iters, "10", 0, 1e9, "Decode iterations before new prefills are forced in."),
    VIDUR__K("vllm_v1_scheduler_config", "chunk_size", INT, vllm_v1.chunk_size, "512", 1, 1e9, "Token budget per iteration (prefill chunks and decodes) [F]."),
    VIDUR__K("vllm_v1_scheduler_config", "batch_size_cap", INT, vllm_v1.batch_size_cap, "128", 1, 1e9, "Most running requests [F]."),
    VIDUR__K("cache_config", "block_size", INT, vllm_v1.block_size, "16", 1, 1e6, "KV block size in tokens (vllm_v1) [F]."),
    VIDUR__K("cache_config", "num_blocks", INT64, vllm_v1.num_blocks, "0", 0, VIDUR__BIG, "KV blocks per replica (vllm_v1); 0 = the fork's token-capacity planner [F]."),
    VIDUR__K("cache_config", "watermark_blocks_fraction", DOUBLE, vllm_v1.watermark_blocks_fraction, "0.01", 0, 1, "Accepted [F]; vllm_v1 does not use it."),
    VIDUR__K("cache_config", "enable_prefix_caching", BOOL, enable_prefix_caching, "false", 1, 0, "Reuse KV blocks across requests by the trace's block_hash_ids (vllm_v1) [F]."),
    VIDUR__K("cache_config", "prefix_caching_hash_algo", STRING, prefix_caching_hash_algo, "builtin", 1, 0, "Accepted [F]; block hashes come from the trace."),
    VIDUR__K("cache_config", "num_preallocate_tokens", INT, num_preallocate_tokens, "64", 0, 1e9, "Extra tokens of blocks taken whenever a request needs new blocks [F]."),
    VIDUR__K("cache_config", "memory_margin_fraction", DOUBLE, cache_memory_margin_fraction, "0.1", 0, 0.99, "Memory left unused by the vllm_v1 planner [F]."),
    VIDUR__C("request_queue_config", "type", request_queue_type, "fcfs", "fcfs|edf", "Waiting-queue order: fcfs (arrival) or edf (prefill deadline; sarathi only) [F]."),
    VIDUR__K("slo_config", "prefill_e2e_time_normalized", DOUBLE, slo_prefill_e2e_time_normalized, "0", 0, 1e9, "Prefill SLO per prompt token (s); deadline = arrival + P x this (edf) [F]; 0 = unset."),
    VIDUR__K("slo_config", "prefill_e2e_time_min", DOUBLE, slo_prefill_e2e_time_min, "0", 0, 1e9, "Lower bound of the prefill SLO (s) [F]; 0 = unset."),
    VIDUR__SCHED_KEYS("custom_scheduler_config", custom, "Batch cap offered to plug-in replica schedulers."),
    VIDUR__C("request_generator_config", "type", request_generator_type, "synthetic", "synthetic|trace_replay", "synthetic (length x interval generators) or trace_replay (a CSV)."),
    VIDUR__K("synthetic_request_generator_config", "seed", INT64, synthetic_seed, "42", 0, VIDUR__BIG, "Seed of the synthetic workload (re-seeds the Python-compatible stream)."),
    VIDUR__K("synthetic_request_generator_config", "num_requests", INT64, synthetic_num_requests, "128", 1, VIDUR__BIG, "Number of requests (ignored when duration is set)."),
    VIDUR__K("synthetic_request_generator_config", "duration", DOUBLE, synthetic_duration, "0", 0, 1e18, "Generate arrivals before this time (s) instead of a count; 0 = unset."),
    VIDUR__C("length_generator_config", "type", length_generator_type, "fixed", "fixed|uniform|zipf|trace|lognormal", "Request length generator: fixed, uniform, zipf, trace, lognormal (ours)."),
    VIDUR__C("interval_generator_config", "type", interval_generator_type, "poisson", "poisson|gamma|static|trace", "Inter-arrival generator: poisson, gamma, static, trace."),
    VIDUR__K("fixed_request_length_generator_config", "seed", INT64, fixed_seed, "42", 0, VIDUR__BIG, "Unused (no randomness)."),
    VIDUR__K("fixed_request_length_generator_config", "max_tokens", INT, fixed_max_tokens, "4096", 1, 1e9, "Max tokens per request (memory planner input)."),
    VIDUR__K("fixed_request_length_generator_config", "prefill_tokens", INT, fixed_prefill_tokens, "2048", 1, 1e9, "Prompt tokens of every request."),
    VIDUR__K("fixed_request_length_generator_config", "decode_tokens", INT, fixed_decode_tokens, "512", 1, 1e9, "Output tokens of every request."),
    VIDUR__K("uniform_request_length_generator_config", "seed", INT64, uniform_seed, "42", 0, VIDUR__BIG, "Unused: draws come from the synthetic seed's stream, as in Vidur."),
    VIDUR__K("uniform_request_length_generator_config", "max_tokens", INT, uniform_max_tokens, "4096", 1, 1e9, "Upper bound of P+D."),
    VIDUR__K("uniform_request_length_generator_config", "min_tokens", INT, uniform_min_tokens, "1024", 1, 1e9, "Lower bound of P+D."),
    VIDUR__K("uniform_request_length_generator_config", "prefill_to_decode_ratio", DOUBLE, uniform_prefill_to_decode_ratio, "20", 0, 1e9, "P/D ratio."),
    VIDUR__K("zipf_request_length_generator_config", "seed", INT64, zipf_seed, "42", 0, 4294967295.0, "Seed of the zipf stream (NumPy RandomState)."),
    VIDUR__K("zipf_request_length_generator_config", "max_tokens", INT, zipf_max_tokens, "4096", 1, 1e9, "Upper bound of P+D."),
    VIDUR__K("zipf_request_length_generator_config", "min_tokens", INT, zipf_min_tokens, "1024", 1, 1e9, "Lower bound of P+D."),
    VIDUR__K("zipf_request_length_generator_config", "theta", DOUBLE, zipf_theta, "0.6", 0, 0.999999, "Zipf skew."),
    VIDUR__K("zipf_request_length_generator_config", "scramble", BOOL, zipf_scramble, "false", 1, 0, "Scramble ranks (not supported: Vidur's uses a per-process hash)."),
    VIDUR__K("zipf_request_length_generator_config", "prefill_to_decode_ratio", DOUBLE, zipf_prefill_to_decode_ratio, "20", 0, 1e9, "P/D ratio."),
    VIDUR__K("trace_request_length_generator_config", "seed", INT64, trace_length_seed, "42", 0, 4294967295.0, "Seed of the row shuffle (NumPy RandomState)."),
    VIDUR__K("trace_request_length_generator_config", "max_tokens", INT, trace_length_max_tokens, "4096", 2, 1e9, "P+D is scaled down proportionally to fit this."),
    VIDUR__K("trace_request_length_generator_config", "trace_file", STRING, trace_length_file, "data/processed_traces/sharegpt_8k_filtered_stats_llama2_tokenizer.csv", 1, 0, "CSV with num_prefill_tokens, num_decode_tokens."),
    VIDUR__K("trace_request_length_generator_config", "prefill_scale_factor", DOUBLE, trace_length_prefill_scale_factor, "1", 0, 1e9, "Multiplies P."),
    VIDUR__K("trace_request_length_generator_config", "decode_scale_factor", DOUBLE, trace_length_decode_scale_factor, "1", 0, 1e9, "Multiplies D."),
    VIDUR__K("lognormal_request_length_generator_config", "seed", INT64, lognormal_seed, "42", 0, 4294967295.0, "Seed of the lognormal stream (ours)."),
    VIDUR__K("lognormal_request_length_generator_config", "max_tokens", INT, lognormal_max_tokens, "4096", 2, 1e9, "P+D is scaled down proportionally to fit this."),
    VIDUR__K("lognormal_request_length_generator_config", "prefill_median", DOUBLE, lognormal_prefill_median, "1020", 1, 1e9, "Median prompt length (splitwise_conv: 1020)."),
    VIDUR__K("lognormal_request_length_generator_config", "prefill_sigma", DOUBLE, lognormal_prefill_sigma, "0.985", 0, 10, "Std-dev of ln(prompt length) (splitwise_conv: 0.985)."),
    VIDUR__K("lognormal_request_length_generator_config", "decode_median", DOUBLE, lognormal_decode_median, "129", 1, 1e9, "Median output length (splitwise_conv: 129)."),
    VIDUR__K("lognormal_request_length_generator_config", "decode_sigma", DOUBLE, lognormal_decode_sigma, "0.859", 0, 10, "Std-dev of ln(output length) (splitwise_conv: 0.859)."),
    VIDUR__K("poisson_request_interval_generator_config", "seed", INT64, poisson_seed, "42", 0, VIDUR__BIG, "Unused: draws come from the synthetic seed's stream, as in Vidur."),
    VIDUR__K("poisson_request_interval_generator_config", "qps", DOUBLE, poisson_qps, "0.5", 1e-12, 1e12, "Mean arrival rate (requests/s)."),
    VIDUR__K("gamma_request_interval_generator_config", "seed", INT64, gamma_seed, "42", 0, VIDUR__BIG, "Unused: draws come from the NumPy global stream seeded with the synthetic seed."),
    VIDUR__K("gamma_request_interval_generator_config", "qps", DOUBLE, gamma_qps, "0.2", 1e-12, 1e12, "Mean arrival rate (requests/s)."),
    VIDUR__K("gamma_request_interval_generator_config", "cv", DOUBLE, gamma_cv, "0.5", 1e-6, 1e6, "Coefficient of variation of the gaps."),
    VIDUR__K("static_request_interval_generator_config", "seed", INT64, static_seed, "42", 0, VIDUR__BIG, "Unused (everything arrives at t = 0)."),
    VIDUR__K("trace_request_interval_generator_config", "seed", INT64, trace_interval_seed, "42", 0, VIDUR__BIG, "Unused."),
    VIDUR__K("trace_request_interval_generator_config", "trace_file", STRING, trace_interval_file, "data/processed_traces/AzureFunctionsInvocationTraceForTwoWeeksJan2021Processed.csv", 1, 0, "CSV with an arrival_time column (YYYY-MM-DD HH:MM:SS[.f])."),
    VIDUR__K("trace_request_interval_generator_config", "start_time", STRING, trace_interval_start_time, "1970-01-04 12:00:00", 1, 0, "Keep arrivals strictly after this time."),
    VIDUR__K("trace_request_interval_generator_config", "end_time", STRING, trace_interval_end_time, "1970-01-04 15:00:00", 1, 0, "Keep arrivals strictly before this time."),
    VIDUR__K("trace_request_interval_generator_config", "time_scale_factor", DOUBLE, trace_interval_time_scale_factor, "1.0", 0, 1e9, "Multiplies the gaps."),
    VIDUR__K("trace_request_generator_config", "seed", INT64, trace_replay_seed, "42", 0, VIDUR__BIG, "Unused."),
    VIDUR__K("trace_request_generator_config", "max_tokens", INT, trace_replay_max_tokens, "4096", 2, 1e9, "P is cut so that P+D fits this."),
    VIDUR__K("trace_request_generator_config", "trace_file", STRING, trace_replay_file, "data/processed_traces/splitwise_conv.csv", 1, 0, "CSV with arrived_at, num_prefill_tokens, num_decode_tokens [, session_id, block_hash_ids]."),
    VIDUR__K("trace_request_generator_config", "prefill_scale_factor", DOUBLE, trace_replay_prefill_scale_factor, "1", 0, 1e9, "Multiplies P."),
    VIDUR__K("trace_request_generator_config", "decode_scale_factor", DOUBLE, trace_replay_decode_scale_factor, "1", 0, 1e9, "Multiplies D."),
    VIDUR__K("trace_request_generator_config", "time_scale_factor", DOUBLE, trace_replay_time_scale_factor, "1", 0, 1e9, "Multiplies arrival times."),
    VIDUR__C("execution_time_predictor_config", "type", predictor_type, "random_forrest", "random_forrest|random_forest|linear_regression|roofline", "Execution-time predictor. This version evaluates every type with the analytical roofline (profiled tables come next)."),
    VIDUR__PRED_KEYS("random_forrest_execution_time_predictor_config", random_forrest),
    VIDUR__L("random_forrest_execution_time_predictor_config", "num_estimators", random_forrest.num_estimators, "250 500 750", "Grid of forest sizes."),
    VIDUR__L("random_forrest_execution_time_predictor_config", "max_depth", random_forrest.max_depth, "8 16 32", "Grid of tree depths."),
    VIDUR__L("random_forrest_execution_time_predictor_config", "min_samples_split", random_forrest.min_samples_split, "2 5 10", "Grid of split sizes."),
    VIDUR__PRED_KEYS("linear_regression_execution_time_predictor_config", linear_regression),
    VIDUR__L("linear_regression_execution_time_predictor_config", "polynomial_degree", linear_regression.polynomial_degree, "1 2 3 4 5", "Grid of polynomial degrees."),
    VIDUR__L("linear_regression_execution_time_predictor_config", "polynomial_include_bias", linear_regression.polynomial_include_bias, "true false", "Grid of include_bias."),
    VIDUR__L("linear_regression_execution_time_predictor_config", "polynomial_interaction_only", linear_regression.polynomial_interaction_only, "true false", "Grid of interaction_only."),
    VIDUR__L("linear_regression_execution_time_predictor_config", "fit_intercept", linear_regression.fit_intercept, "true false", "Grid of fit_intercept."),
    VIDUR__PRED_KEYS("roofline_execution_time_predictor_config", roofline),
    VIDUR__K("metrics_config", "write_metrics", BOOL, write_metrics, "true", 1, 0, "Write output files."),
    VIDUR__K("metrics_config", "write_json_trace", BOOL, write_json_trace, "false", 1, 0, "Write event_trace.json (not yet implemented)."),
    VIDUR__K("metrics_config", "wandb_project", STRING, wandb_project, "", 1, 0, "Accepted for compatibility; ignored."),
    VIDUR__K("metrics_config", "wandb_group", STRING, wandb_group, "", 1, 0, "Accepted for compatibility; ignored."),
    VIDUR__K("metrics_config", "wandb_run_name", STRING, wandb_run_name, "", 1, 0, "Accepted for compatibility; ignored."),
    VIDUR__K("metrics_config", "wandb_sweep_id", STRING, wandb_sweep_id, "", 1, 0, "Accepted for compatibility; ignored."),
    VIDUR__K("metrics_config", "wandb_run_id", STRING, wandb_run_id, "", 1, 0, "Accepted for compatibility; ignored."),
    VIDUR__K("metrics_config", "enable_chrome_trace", BOOL, enable_chrome_trace, "true", 1, 0, "Write chrome_trace.json (batch-stage slices)."),
    VIDUR__K("metrics_config", "save_table_to_wandb", BOOL, save_table_to_wandb, "false", 1, 0, "Accepted for compatibility; ignored."),
    VIDUR__K("metrics_config", "store_plots", BOOL, store_plots, "true", 1, 0, "Write plots/*.csv and *.json."),
    VIDUR__K("metrics_config", "store_operation_metrics", BOOL, store_operation_metrics, "false", 1, 0, "Record per-operator times (not yet implemented)."),
    VIDUR__K("metrics_config", "store_token_completion_metrics", BOOL, store_token_completion_metrics, "false", 1, 0, "Record per-token times (not yet implemented)."),
    VIDUR__K("metrics_config", "store_request_metrics", BOOL, store_request_metrics, "true", 1, 0, "Write request_metrics.csv."),
    VIDUR__K("metrics_config", "store_batch_metrics", BOOL, store_batch_metrics, "true", 1, 0, "Record batch metrics."),
    VIDUR__K("metrics_config", "store_utilization_metrics", BOOL, store_utilization_metrics, "true", 1, 0, "Record memory, busy time and MFU."),
    VIDUR__K("metrics_config", "keep_individual_batch_metrics", BOOL, keep_individual_batch_metrics, "false", 1, 0, "Write batch_metrics.csv with one row per batch."),
    VIDUR__K("metrics_config", "subsamples", INT64, subsamples, "-1", -1, VIDUR__BIG, "Subsample CDF plots to this many rows (-1 = all)."),
    VIDUR__K("metrics_config", "min_batch_index", INT64, min_batch_index, "-1", -1, VIDUR__BIG, "Only record completions of batches with id >= this (-1 = unset)."),
    VIDUR__K("metrics_config", "max_batch_index", INT64, max_batch_index, "-1", -1, VIDUR__BIG, "Only record completions of batches with id <= this (-1 = unset)."),
    VIDUR__K("metrics_config", "output_dir", STRING, output_dir, "simulator_output", 1, 0, "Output root folder."),
    VIDUR__K("metrics_config", "cache_dir", STRING, cache_dir, "cache", 1, 0, "Predictor cache folder."),
    VIDUR__K("metrics_config", "timestamp_output_dir", BOOL, timestamp_output_dir, "true", 1, 0, "Ours: write into <output_dir>/<YYYY-MM-DD_HH-MM-SS-ffffff>/ (false: into output_dir itself)."),
};

#define VIDUR__NKEYS VIDUR__COUNT(vidur__keys)

VIDURDEF int vidur_config_key_count(void) { return VIDUR__NKEYS; }

VIDURDEF vidur_key_info vidur_config_key_info(int i)
{
    vidur_key_info k;
    memset(&k, 0, sizeof k);
    if (i < 0 || i >= VIDUR__NKEYS) return k;
    k.section = vidur__keys[i].section;
    k.key = vidur__keys[i].key;
    k.type = vidur__keys[i].type;
    k.default_value = vidur__keys[i].def;
    k.help = vidur__keys[i].help;
    return k;
}

static void vidur__flag_name(const vidur__key *k, char *buf, size_t n)
{
    if (k->section[0]) snprintf(buf, n, "%s_%s", k->section, k->key);
    else snprintf(buf, n, "%s", k->key);
}

static int vidur__parse_bool(const char *v, int *out)
{
    static const char *t[] = {"true", "1", "yes", "on", "True"}, *f[] = {"false", "0", "no", "off", "False"};
    int i;
    for (i = 0; i < 5; i++) {
        if (!strcmp(v, t[i])) { *out = 1; return 1; }
        if (!strcmp(v, f[i])) { *out = 0; return 1; }
    }
    return 0;
}

static int vidur__is_none(const char *v) { return !strcmp(v, "none") || !strcmp(v, "None") || !strcmp(v, "null"); }

/* applies one value; `where` prefixes messages (e.g. "config.ini:12: " or "flag ") */
static vidur_result vidur__apply(vidur_config *cfg, const vidur__key *k, const char *value, const char *where, vidur_error *err)
{
    char *base = (char *)cfg + k->offset, *end;
    char flag[256];
    double d = 0;
    vidur__flag_name(k, flag, sizeof flag);
    while (isspace((unsigned char)*value)) value++;
    switch (k->type) {
    case VIDUR_T_STRING: {
        size_t cap = k->size;
        if (strlen(value) >= cap) {
            vidur__set_error(err, VIDUR_ERR_RANGE, "%s%s: value is longer than %d characters", where, flag, (int)cap - 1);
            return VIDUR_ERR_RANGE;
        }
        if (k->choices) {
            /* plug-in names are checked in validate; here only reject empty */
            if (!value[0]) {
                vidur__set_error(err, VIDUR_ERR_CONFIG, "%s%s: empty value (choices: %s)", where, flag, k->choices);
                return VIDUR_ERR_CONFIG;
            }
        }
        vidur__copy(base, cap, value);
        return VIDUR_OK;
    }
    case VIDUR_T_BOOL: {
        int b;
        if (!vidur__parse_bool(value, &b)) {
            vidur__set_error(err, VIDUR_ERR_CONFIG, "%s%s: '%s' is not a boolean (true/false)", where, flag, value);
            return VIDUR_ERR_CONFIG;
        }
        *(int *)base = b;
        return VIDUR_OK;
    }
    default:
        break;
    }
    if (vidur__is_none(value) || !value[0]) {
        /* Vidur's Optional fields: map None to our "unset" value */
        if (k->type == VIDUR_T_INT64 && k->lo <= -1) { *(int64_t *)base = -1; return VIDUR_OK; }
        if (!strcmp(k->key, "num_blocks") || !strcmp(k->key, "duration")) {
            if (k->type == VIDUR_T_INT64) *(int64_t *)base = 0; else *(double *)base = 0;
            return VIDUR_OK;
        }
        vidur__set_error(err, VIDUR_ERR_CONFIG, "%s%s: a number is required", where, flag);
        return VIDUR_ERR_CONFIG;
    }
    errno = 0;
    if (k->type == VIDUR_T_DOUBLE) d = strtod(value, &end);
    else {
        long long ll = strtoll(value, &end, 10);
        d = (double)ll;
        if (*end == '.' || *end == 'e' || *end == 'E') {
            vidur__set_error(err, VIDUR_ERR_CONFIG, "%s%s: '%s' is not an integer", where, flag, value);
            return VIDUR_ERR_CONFIG;
        }
        if (k->type == VIDUR_T_INT64) *(int64_t *)base = ll;
    }
    while (isspace((unsigned char)*end)) end++;
    if (end == value || *end || errno == ERANGE || d != d) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "%s%s: '%s' is not a valid %s", where, flag, value,
                         k->type == VIDUR_T_DOUBLE ? "number" : "integer");
        return VIDUR_ERR_CONFIG;
    }
    if (k->lo <= k->hi && (d < k->lo || d > k->hi)) {
        vidur__set_error(err, VIDUR_ERR_RANGE, "%s%s: %s is out of range [%g, %g]", where, flag, value, k->lo, k->hi);
        return VIDUR_ERR_RANGE;
    }
    if (k->type == VIDUR_T_INT) *(int *)base = (int)d;
    else if (k->type == VIDUR_T_DOUBLE) *(double *)base = d;
    return VIDUR_OK;
}

VIDURDEF void vidur_config_init(vidur_config *cfg)
{
    int i;
    memset(cfg, 0, sizeof *cfg);
    for (i = 0; i < VIDUR__NKEYS; i++) {
        vidur_result r = vidur__apply(cfg, &vidur__keys[i], vidur__keys[i].def, "", NULL);
        VIDUR_ASSERT(r == VIDUR_OK);
        (void)r;
    }
    cfg->lightllm.block_size = 1; /* lightllm counts memory in tokens */
}

static int vidur__levenshtein(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b), i, j, prev, cur, tmp;
    int row[256];
    if (la > 255 || lb > 255) return 1000;
    for (j = 0; j <= lb; j++) row[j] = j;
    for (i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            tmp = row[j];
            cur = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < cur) cur = row[j] + 1;
            if (row[j - 1] + 1 < cur) cur = row[j - 1] + 1;
            row[j] = cur;
            prev = tmp;
        }
    }
    return row[lb];
}

static void vidur__unknown_key(const char *flag, const char *where, vidur_error *err)
{
    int i, best = -1, bestd = 1000;
    char name[256];
    for (i = 0; i < VIDUR__NKEYS; i++) {
        int d;
        vidur__flag_name(&vidur__keys[i], name, sizeof name);
        d = vidur__levenshtein(flag, name);
        if (d < bestd) { bestd = d; best = i; }
    }
    if (best >= 0 && bestd <= 3 + (int)strlen(flag) / 12) {
        vidur__flag_name(&vidur__keys[best], name, sizeof name);
        vidur__set_error(err, VIDUR_ERR_CONFIG, "%sunknown key '%s' (did you mean '%s'?)", where, flag, name);
    } else {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "%sunknown key '%s' (vidur --help lists every key)", where, flag);
    }
}

static const vidur__key *vidur__find_flag(const char *flag)
{
    int i;
    char name[256];
    for (i = 0; i < VIDUR__NKEYS; i++) {
        vidur__flag_name(&vidur__keys[i], name, sizeof name);
        if (!strcmp(name, flag)) return &vidur__keys[i];
    }
    return NULL;
}

VIDURDEF vidur_result vidur_config_set(vidur_config *cfg, const char *flag, const char *value, vidur_error *err)
{
    const vidur__key *k;
    while (*flag == '-') flag++;
    k = vidur__find_flag(flag);
    if (!k) {
        vidur__unknown_key(flag, "", err);
        return VIDUR_ERR_CONFIG;
    }
    return vidur__apply(cfg, k, value, "", err);
}

/* user table sections: [model.NAME], [device.NAME], [node.NAME] */
static vidur_result vidur__set_user_spec(vidur_config *cfg, const char *section, const char *key, const char *value,
                                         const char *where, vidur_error *err)
{
    const char *name = strchr(section, '.') + 1;
    char *end;
    double d = 0;
    int i;
    if (!name[0] || strlen(name) >= VIDUR_NAME_MAX) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "%s[%s]: bad name", where, section);
        return VIDUR_ERR_CONFIG;
    }
    if (!strncmp(section, "node.", 5) && !strcmp(key, "device")) {
        for (i = 0; i < cfg->num_user_nodes && strcmp(cfg->user_nodes[i].name, name); i++) {}
        if (i == cfg->num_user_nodes) {
            if (i == VIDUR_MAX_USER_SPECS) goto too_many;
            cfg->user_nodes[i] = vidur__nodes[1];
            vidur__copy(cfg->user_nodes[i].name, VIDUR_NAME_MAX, name);
            cfg->num_user_nodes++;
        }
        vidur__copy(cfg->user_nodes[i].device, VIDUR_NAME_MAX, value);
        return VIDUR_OK;
    }
    errno = 0;
    d = strtod(value, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == value || *end || errno || d < 0) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "%s[%s] %s: '%s' is not a valid non-negative number", where, section, key, value);
        return VIDUR_ERR_CONFIG;
    }
    if (!strncmp(section, "model.", 6)) {
        vidur_model_spec *m;
        for (i = 0; i < cfg->num_user_models && strcmp(cfg->user_models[i].name, name); i++) {}
        if (i == cfg->num_user_models) {
            const vidur_model_spec *base = vidur_find_model(NULL, "meta-llama/Llama-2-7b-hf");
            if (i == VIDUR_MAX_USER_SPECS) goto too_many;
            cfg->user_models[i] = *base; /* Llama-2 family defaults, like Vidur's model configs */
            vidur__copy(cfg->user_models[i].name, VIDUR_NAME_MAX, name);
            cfg->num_user_models++;
        }
        m = &cfg->user_models[i];
#define VIDUR__MI(n) if (!strcmp(key, #n)) { m->n = (int)d; return VIDUR_OK; }
#define VIDUR__MD(n) if (!strcmp(key, #n)) { m->n = d; return VIDUR_OK; }
        VIDUR__MI(num_layers) VIDUR__MI(num_q_heads) VIDUR__MI(num_kv_heads) VIDUR__MI(embedding_dim)
        VIDUR__MI(mlp_hidden_dim) VIDUR__MI(max_position_embeddings) VIDUR__MI(vocab_size) VIDUR__MI(use_gated_mlp)
        VIDUR__MI(post_attn_norm) VIDUR__MI(use_bias) VIDUR__MI(use_qkv_bias) VIDUR__MD(rope_theta)
        VIDUR__MD(partial_rotary_factor)
        vidur__set_error(err, VIDUR_ERR_CONFIG, "%s[%s]: unknown key '%s' (model keys: num_layers, num_q_heads, num_kv_heads, embedding_dim, mlp_hidden_dim, max_position_embeddings, vocab_size, use_gated_mlp, post_attn_norm, use_bias, use_qkv_bias, rope_theta, partial_rotary_factor)", where, section, key);
        return VIDUR_ERR_CONFIG;
    }
    if (!strncmp(section, "device.", 7)) {
        vidur_device_spec *dv;
        for (i = 0; i < cfg->num_user_devices && strcmp(cfg->user_devices[i].name, name); i++) {}
        if (i == cfg->num_user_devices) {
            if (i == VIDUR_MAX_USER_SPECS) goto too_many;
            cfg->user_devices[i] = vidur__devices[1];
            vidur__copy(cfg->user_devices[i].name, VIDUR_NAME_MAX, name);
            cfg->num_user_devices++;
        }
        dv = &cfg->user_devices[i];
        if (!strcmp(key, "fp16_tflops")) { dv->fp16_tflops = d; return VIDUR_OK; }
        if (!strcmp(key, "total_memory_gb")) { dv->total_memory_gb = d; return VIDUR_OK; }
        if (!strcmp(key, "memory_bandwidth_gbps")) { dv->memory_bandwidth_gbps = d; return VIDUR_OK; }
        if (!strcmp(key, "price_per_hour")) { dv->price_per_hour = d; return VIDUR_OK; }
        vidur__set_error(err, VIDUR_ERR_CONFIG, "%s[%s]: unknown key '%s' (device keys: fp16_tflops, total_memory_gb, memory_bandwidth_gbps, price_per_hour)", where, section, key);
        return VIDUR_ERR_CONFIG;
    }
    if (!strncmp(section, "node.", 5)) {
        vidur_node_spec *nd;
        for (i = 0; i < cfg->num_user_nodes && strcmp(cfg->user_nodes[i].name, name); i++) {}
        if (i == cfg->num_user_nodes) {
            if (i == VIDUR_MAX_USER_SPECS) goto too_many;
            cfg->user_nodes[i] = vidur__nodes[1];
            vidur__copy(cfg->user_nodes[i].name, VIDUR_NAME_MAX, name);
            cfg->num_user_nodes++;
        }
        nd = &cfg->user_nodes[i];
        if (!strcmp(key, "num_devices_per_node") && d >= 1) { nd->num_devices_per_node = (int)d; return VIDUR_OK; }
        if (!strcmp(key, "intra_node_bandwidth_gbps")) { nd->intra_node_bandwidth_gbps = d; return VIDUR_OK; }
        if (!strcmp(key, "inter_node_bandwidth_gbps")) { nd->inter_node_bandwidth_gbps = d; return VIDUR_OK; }
        if (!strcmp(key, "link_latency_us")) { nd->link_latency_us = d; return VIDUR_OK; }
        vidur__set_error(err, VIDUR_ERR_CONFIG, "%s[%s]: unknown key '%s' (node keys: device, num_devices_per_node, intra_node_bandwidth_gbps, inter_node_bandwidth_gbps, link_latency_us)", where, section, key);
        return VIDUR_ERR_CONFIG;
    }
    vidur__set_error(err, VIDUR_ERR_CONFIG, "%sunknown section [%s]", where, section);
    return VIDUR_ERR_CONFIG;
too_many:
    vidur__set_error(err, VIDUR_ERR_CONFIG, "%s[%s]: more than %d user-defined entries of this kind", where, section, VIDUR_MAX_USER_SPECS);
    return VIDUR_ERR_CONFIG;
}

static vidur_result vidur__set_ini(vidur_config *cfg, const char *section, const char *key, const char *value,
                                   const char *where, vidur_error *err)
{
    char flag[512];
    const vidur__key *k;
    if (!strncmp(section, "model.", 6) || !strncmp(section, "device.", 7) || !strncmp(section, "node.", 5))
        return vidur__set_user_spec(cfg, section, key, value, where, err);
    if (section[0]) snprintf(flag, sizeof flag, "%s_%s", section, key);
    else snprintf(flag, sizeof flag, "%s", key);
    k = vidur__find_flag(flag);
    if (!k || strcmp(k->section, section)) {
        vidur__unknown_key(flag, where, err);
        return VIDUR_ERR_CONFIG;
    }
    return vidur__apply(cfg, k, value, where, err);
}

VIDURDEF vidur_result vidur_config_set_ini(vidur_config *cfg, const char *section, const char *key, const char *value, vidur_error *err)
{
    return vidur__set_ini(cfg, section ? section : "", key, value, "", err);
}

#ifndef VIDUR_NO_INIH
typedef struct vidur__ini_ctx {
    vidur_config *cfg;
    vidur_error *err;
    const char *name;
    const char *text;
    const char *cursor; /* inih calls the handler in file order: search forward from here */
    int line;
    vidur_result result;
} vidur__ini_ctx;

static int vidur__ini_find_line(vidur__ini_ctx *c, const char *key)
{
    size_t kl = strlen(key);
    const char *p = c->cursor;
    int line = c->line;
    while (*p) {
        const char *s = p, *e = strchr(p, '\n');
        while (*s == ' ' || *s == '\t') s++;
        if (!strncmp(s, key, kl) && (s[kl] == '=' || s[kl] == ':' || s[kl] == ' ' || s[kl] == '\t')) {
            c->cursor = e ? e + 1 : p + strlen(p);
            c->line = line + 1;
            return line;
        }
        if (!e) break;
        p = e + 1;
        line++;
    }
    return c->line;
}

static int vidur__ini_handler(void *user, const char *section, const char *name, const char *value)
{
    vidur__ini_ctx *c = (vidur__ini_ctx *)user;
    char where[VIDUR_PATH_MAX + 32];
    int line;
    if (c->result != VIDUR_OK) return 1;
    line = vidur__ini_find_line(c, name);
    snprintf(where, sizeof where, "%s:%d: ", c->name, line);
    c->result = vidur__set_ini(c->cfg, section, name, value, where, c->err);
    return c->result == VIDUR_OK;
}
#endif

VIDURDEF vidur_result vidur_config_load_ini_string(vidur_config *cfg, const char *text, const char *name, vidur_error *err)
{
#ifdef VIDUR_NO_INIH
    (void)cfg; (void)text; (void)name;
    vidur__set_error(err, VIDUR_ERR_UNSUPPORTED, "built with VIDUR_NO_INIH: INI files are not supported");
    return VIDUR_ERR_UNSUPPORTED;
#else
    vidur__ini_ctx c;
    const char *p = text;
    int line = 1, rc;
    /* Debian's inih reads lines into a 200-byte buffer and silently splits longer ones */
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 198) {
            vidur__set_error(err, VIDUR_ERR_PARSE,
                             "%s:%d: line is %d characters long; INI lines are limited to 198 (pass long values as --flags instead)",
                             name, line, (int)len);
            return VIDUR_ERR_PARSE;
        }
        if (!e) break;
        p = e + 1;
        line++;
    }
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    c.err = err;
    c.name = name;
    c.text = text;
    c.cursor = text;
    c.line = 1;
    c.result = VIDUR_OK;
    rc = ini_parse_string(text, vidur__ini_handler, &c);
    if (c.result != VIDUR_OK) return c.result;
    if (rc > 0) {
        vidur__set_error(err, VIDUR_ERR_PARSE, "%s:%d: syntax error (expected [section] or key = value)", name, rc);
        return VIDUR_ERR_PARSE;
    }
    if (rc < 0) {
        vidur__set_error(err, VIDUR_ERR_MEMORY, "%s: out of memory while parsing", name);
        return VIDUR_ERR_MEMORY;
    }
    return VIDUR_OK;
#endif
}

/* reads a whole file into a NUL-terminated buffer (caller frees with VIDUR_FREE) */
static char *vidur__read_file(const char *path, size_t *len_out, vidur_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0, n;
    if (!f) {
        vidur__set_error(err, VIDUR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 65536) {
            char *nb = (char *)VIDUR_REALLOC(buf, cap ? cap * 2 : 65536 * 2);
            if (!nb) {
                VIDUR_FREE(buf);
                fclose(f);
                vidur__set_error(err, VIDUR_ERR_MEMORY, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
            cap = cap ? cap * 2 : 65536 * 2;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) break;
    }
    if (ferror(f)) {
        VIDUR_FREE(buf);
        fclose(f);
        vidur__set_error(err, VIDUR_ERR_IO, "%s: read error", path);
        return NULL;
    }
    fclose(f);
    buf[len] = 0;
    if (len_out) *len_out = len;
    return buf;
}

VIDURDEF vidur_result vidur_config_load_ini(vidur_config *cfg, const char *path, vidur_error *err)
{
    char *text;
    vidur_result r;
#ifdef VIDUR_NO_INIH
    return vidur_config_load_ini_string(cfg, "", path, err);
#endif
    text = vidur__read_file(path, NULL, err);
    if (!text) return err ? err->code : VIDUR_ERR_IO;
    r = vidur_config_load_ini_string(cfg, text, path, err);
    VIDUR_FREE(text);
    return r;
}

VIDURDEF vidur_result vidur_config_parse_args(vidur_config *cfg, int argc, char **argv, const char **positional,
                                              int max_positional, int *num_positional, vidur_error *err)
{
    int i, np = 0;
    char where[300];
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *eq;
        char flag[256];
        const vidur__key *k;
        vidur_result r;
        int tmpb;
        if (strncmp(a, "--", 2) != 0) {
            if (np >= max_positional) {
                vidur__set_error(err, VIDUR_ERR_CONFIG, "unexpected argument '%s'", a);
                return VIDUR_ERR_CONFIG;
            }
            positional[np++] = a;
            continue;
        }
        a += 2;
        eq = strchr(a, '=');
        vidur__copy(flag, sizeof flag, a);
        if (eq && (size_t)(eq - a) < sizeof flag) flag[eq - a] = 0;
        k = vidur__find_flag(flag);
        if (!k && !strncmp(flag, "no-", 3)) {
            k = vidur__find_flag(flag + 3);
            if (k && k->type == VIDUR_T_BOOL && !eq) {
                *(int *)((char *)cfg + k->offset) = 0;
                continue;
            }
            k = NULL;
        }
        snprintf(where, sizeof where, "flag --");
        if (!k) {
            vidur__unknown_key(flag, "flag --", err);
            return VIDUR_ERR_CONFIG;
        }
        if (eq) {
            r = vidur__apply(cfg, k, eq + 1, where, err);
        } else if (k->type == VIDUR_T_BOOL && (i + 1 >= argc || !vidur__parse_bool(argv[i + 1], &tmpb))) {
            *(int *)((char *)cfg + k->offset) = 1; /* bare --flag means true */
            r = VIDUR_OK;
        } else if (k->is_list) {
            char buf[64];
            size_t len = 0;
            buf[0] = 0;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
                size_t l = strlen(argv[++i]);
                if (len + l + 2 > sizeof buf) {
                    vidur__set_error(err, VIDUR_ERR_RANGE, "flag --%s: list too long", flag);
                    return VIDUR_ERR_RANGE;
                }
                if (len) buf[len++] = ' ';
                memcpy(buf + len, argv[i], l + 1);
                len += l;
            }
            r = vidur__apply(cfg, k, buf, where, err);
        } else {
            if (i + 1 >= argc) {
                vidur__set_error(err, VIDUR_ERR_CONFIG, "flag --%s: missing value", flag);
                return VIDUR_ERR_CONFIG;
            }
            r = vidur__apply(cfg, k, argv[++i], where, err);
        }
        if (r != VIDUR_OK) return r;
    }
    if (num_positional) *num_positional = np;
    return VIDUR_OK;
}

VIDURDEF const vidur_replica_scheduler_params *vidur_config_replica_params(const vidur_config *cfg)
{
    const char *t = cfg->replica_scheduler_type;
    if (!strcmp(t, "vllm")) return &cfg->vllm;
    if (!strcmp(t, "sarathi")) return &cfg->sarathi;
    if (!strcmp(t, "orca")) return &cfg->orca;
    if (!strcmp(t, "faster_transformer")) return &cfg->faster_transformer;
    if (!strcmp(t, "lightllm")) return &cfg->lightllm;
    if (!strcmp(t, "vllm_v1")) return &cfg->vllm_v1;
    return &cfg->custom;
}

VIDURDEF const vidur_predictor_params *vidur_config_predictor_params(const vidur_config *cfg)
{
    if (!strcmp(cfg->predictor_type, "linear_regression")) return &cfg->linear_regression;
    if (!strcmp(cfg->predictor_type, "roofline")) return &cfg->roofline;
    return &cfg->random_forrest;
}

VIDURDEF vidur_result vidur_config_add_global_scheduler(vidur_config *cfg, const vidur_global_scheduler_api *api, vidur_error *err)
{
    if (!api || !api->name || !api->route || cfg->num_global_plugins >= VIDUR_MAX_PLUGINS) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "global scheduler plug-in: needs a name and route(), at most %d plug-ins", VIDUR_MAX_PLUGINS);
        return VIDUR_ERR_CONFIG;
    }
    cfg->global_plugins[cfg->num_global_plugins++] = api;
    return VIDUR_OK;
}

VIDURDEF vidur_result vidur_config_add_replica_scheduler(vidur_config *cfg, const vidur_replica_scheduler_api *api, vidur_error *err)
{
    if (!api || !api->name || !api->create || !api->add_request || !api->next_batch || !api->on_batch_end ||
        !api->is_empty || cfg->num_replica_plugins >= VIDUR_MAX_PLUGINS) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "replica scheduler plug-in: needs name, create, add_request, next_batch, on_batch_end, is_empty; at most %d plug-ins", VIDUR_MAX_PLUGINS);
        return VIDUR_ERR_CONFIG;
    }
    cfg->replica_plugins[cfg->num_replica_plugins++] = api;
    return VIDUR_OK;
}

static int vidur__in_choices(const char *choices, const char *v)
{
    size_t l = strlen(v);
    const char *p = choices;
    while (p && *p) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == l && !strncmp(p, v, l)) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

VIDURDEF vidur_result vidur_config_validate(const vidur_config *cfg, vidur_error *err)
{
    int i;
    const vidur_model_spec *m;
    const vidur_device_spec *d;
    const vidur_node_spec *n;
    for (i = 0; i < VIDUR__NKEYS; i++) {
        const vidur__key *k = &vidur__keys[i];
        const char *v = (const char *)cfg + k->offset;
        char flag[256];
        int j, ok;
        if (!k->choices) continue;
        ok = vidur__in_choices(k->choices, v);
        if (k->offset == VIDUR__OFF(global_scheduler_type))
            for (j = 0; j < cfg->num_global_plugins; j++) ok |= !strcmp(cfg->global_plugins[j]->name, v);
        if (k->offset == VIDUR__OFF(replica_scheduler_type))
            for (j = 0; j < cfg->num_replica_plugins; j++) ok |= !strcmp(cfg->replica_plugins[j]->name, v);
        if (!ok) {
            vidur__flag_name(k, flag, sizeof flag);
            vidur__set_error(err, VIDUR_ERR_CONFIG, "%s: unknown value '%s' (choices: %s)", flag, v, k->choices);
            return VIDUR_ERR_CONFIG;
        }
    }
    m = vidur_find_model(cfg, cfg->model_name);
    if (!m) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "replica_config_model_name: unknown model '%s' (define it in a [model.%s] section)", cfg->model_name, cfg->model_name);
        return VIDUR_ERR_CONFIG;
    }
    if (m->num_layers <= 0 || m->num_q_heads <= 0 || m->num_kv_heads <= 0 || m->embedding_dim <= 0 || m->mlp_hidden_dim <= 0 ||
        m->embedding_dim % m->num_q_heads) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "model %s: layers, heads and dimensions must be positive and embedding_dim divisible by num_q_heads", m->name);
        return VIDUR_ERR_CONFIG;
    }
    d = vidur_find_device(cfg, cfg->device);
    if (!d) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "replica_config_device: unknown device '%s' (a40, a100, h100, or a [device.%s] section)", cfg->device, cfg->device);
        return VIDUR_ERR_CONFIG;
    }
    if (d->fp16_tflops <= 0 || d->total_memory_gb <= 0 || d->memory_bandwidth_gbps <= 0) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "device %s: fp16_tflops, total_memory_gb and memory_bandwidth_gbps must be positive", d->name);
        return VIDUR_ERR_CONFIG;
    }
    n = vidur_find_node(cfg, cfg->network_device);
    if (!n) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "replica_config_network_device: unknown node '%s'", cfg->network_device);
        return VIDUR_ERR_CONFIG;
    }
    if (n->intra_node_bandwidth_gbps <= 0 || n->inter_node_bandwidth_gbps <= 0) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "node %s: bandwidths must be positive", n->name);
        return VIDUR_ERR_CONFIG;
    }
    if (m->num_q_heads % cfg->tensor_parallel_size || m->embedding_dim % cfg->tensor_parallel_size) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "replica_config_tensor_parallel_size: %d does not divide %s's %d query heads",
                         cfg->tensor_parallel_size, m->name, m->num_q_heads);
        return VIDUR_ERR_CONFIG;
    }
    if (m->num_layers % cfg->num_pipeline_stages) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "replica_config_num_pipeline_stages: %d does not divide %s's %d layers",
                         cfg->num_pipeline_stages, m->name, m->num_layers);
        return VIDUR_ERR_CONFIG;
    }
    if (!strcmp(cfg->replica_scheduler_type, "vllm_v1") && cfg->num_pipeline_stages != 1) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "replica_scheduler_config_type: vllm_v1 supports only num_pipeline_stages = 1");
        return VIDUR_ERR_CONFIG;
    }
    if (!strcmp(cfg->request_queue_type, "edf")) {
        if (strcmp(cfg->replica_scheduler_type, "sarathi") != 0) {
            vidur__set_error(err, VIDUR_ERR_CONFIG, "request_queue_config_type: edf is available with the sarathi replica scheduler only (the others are FCFS, as in the fork)");
            return VIDUR_ERR_CONFIG;
        }
        if (cfg->slo_prefill_e2e_time_normalized <= 0 && cfg->slo_prefill_e2e_time_min <= 0) {
            vidur__set_error(err, VIDUR_ERR_CONFIG, "request_queue_config_type: edf needs slo_config_prefill_e2e_time_normalized or slo_config_prefill_e2e_time_min");
            return VIDUR_ERR_CONFIG;
        }
    }
    if (!strcmp(cfg->replica_scheduler_type, "lightllm")) {
        if (cfg->num_pipeline_stages != 1) {
            vidur__set_error(err, VIDUR_ERR_CONFIG, "replica_scheduler_config_type: lightllm supports only num_pipeline_stages = 1");
            return VIDUR_ERR_CONFIG;
        }
        if (cfg->lightllm.block_size != 1) {
            vidur__set_error(err, VIDUR_ERR_CONFIG, "lightllm_scheduler_config_block_size: lightllm counts memory in tokens; block_size must be 1");
            return VIDUR_ERR_CONFIG;
        }
    }
    {
        const vidur_replica_scheduler_params *rp = vidur_config_replica_params(cfg);
        if (rp->batch_size_cap < cfg->num_pipeline_stages &&
            (!strcmp(cfg->replica_scheduler_type, "vllm") || !strcmp(cfg->replica_scheduler_type, "sarathi"))) {
            vidur__set_error(err, VIDUR_ERR_CONFIG, "%s_scheduler_config_batch_size_cap: %d is smaller than num_pipeline_stages %d (micro-batches would be empty)",
                             cfg->replica_scheduler_type, rp->batch_size_cap, cfg->num_pipeline_stages);
            return VIDUR_ERR_CONFIG;
        }
    }
    if (cfg->zipf_min_tokens > cfg->zipf_max_tokens) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "zipf_request_length_generator_config_min_tokens: %d exceeds max_tokens %d", cfg->zipf_min_tokens, cfg->zipf_max_tokens);
        return VIDUR_ERR_CONFIG;
    }
    if (cfg->uniform_min_tokens > cfg->uniform_max_tokens) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "uniform_request_length_generator_config_min_tokens: %d exceeds max_tokens %d", cfg->uniform_min_tokens, cfg->uniform_max_tokens);
        return VIDUR_ERR_CONFIG;
    }
    if (cfg->zipf_scramble && !strcmp(cfg->length_generator_type, "zipf")) {
        vidur__set_error(err, VIDUR_ERR_UNSUPPORTED, "zipf_request_length_generator_config_scramble: not supported (Vidur's scramble depends on Python's per-process string hash)");
        return VIDUR_ERR_UNSUPPORTED;
    }
    return VIDUR_OK;
}

static void vidur__json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* %.17g round-trips doubles exactly and is locale-independent for finite values */
static void vidur__json_number(FILE *f, double v)
{
    if (v != v || v > DBL_MAX || v < -DBL_MAX) fputs("null", f);
    else if (v == floor(v) && fabs(v) < 1e15) fprintf(f, "%.1f", v);
    else fprintf(f, "%.17g", v);
}

VIDURDEF vidur_result vidur_config_write_json(const vidur_config *cfg, FILE *f)
{
    int i;
    const char *cur = NULL;
    fputs("{", f);
    for (i = 0; i < VIDUR__NKEYS; i++) {
        const vidur__key *k = &vidur__keys[i];
        const char *base = (const char *)cfg + k->offset;
        if (!cur || strcmp(cur, k->section)) {
            if (cur && cur[0]) fputs("\n  }", f);
            if (cur) fputs(",", f);
            if (k->section[0]) {
                fputs("\n  ", f);
                vidur__json_string(f, k->section);
                fputs(": {", f);
            }
            cur = k->section;
        } else {
            fputs(",", f);
        }
        fputs(k->section[0] ? "\n    " : "\n  ", f);
        vidur__json_string(f, k->key);
        fputs(": ", f);
        switch (k->type) {
        case VIDUR_T_INT: fprintf(f, "%d", *(const int *)base); break;
        case VIDUR_T_INT64: fprintf(f, "%lld", (long long)*(const int64_t *)base); break;
        case VIDUR_T_DOUBLE: vidur__json_number(f, *(const double *)base); break;
        case VIDUR_T_BOOL: fputs(*(const int *)base ? "true" : "false", f); break;
        case VIDUR_T_STRING: vidur__json_string(f, base); break;
        }
    }
    if (cur && cur[0]) fputs("\n  }", f);
    /* resolved tables, so a run can be reproduced from config.json alone */
    {
        const vidur_model_spec *m = vidur_find_model(cfg, cfg->model_name);
        const vidur_device_spec *d = vidur_find_device(cfg, cfg->device);
        const vidur_node_spec *n = vidur_find_node(cfg, cfg->network_device);
        if (m)
            fprintf(f, ",\n  \"resolved_model\": {\"num_layers\": %d, \"num_q_heads\": %d, \"num_kv_heads\": %d, \"embedding_dim\": %d, \"mlp_hidden_dim\": %d, \"vocab_size\": %d, \"use_gated_mlp\": %s, \"post_attn_norm\": %s}",
                    m->num_layers, m->num_q_heads, m->num_kv_heads, m->embedding_dim, m->mlp_hidden_dim, m->vocab_size,
                    m->use_gated_mlp ? "true" : "false", m->post_attn_norm ? "true" : "false");
        if (d) {
            fputs(",\n  \"resolved_device\": {\"fp16_tflops\": ", f);
            vidur__json_number(f, d->fp16_tflops);
            fputs(", \"total_memory_gb\": ", f);
            vidur__json_number(f, d->total_memory_gb);
            fputs(", \"memory_bandwidth_gbps\": ", f);
            vidur__json_number(f, d->memory_bandwidth_gbps);
            fputs(", \"price_per_hour\": ", f);
            vidur__json_number(f, d->price_per_hour);
            fputs("}", f);
        }
        if (n) {
            fprintf(f, ",\n  \"resolved_node\": {\"device\": ");
            vidur__json_string(f, n->device);
            fprintf(f, ", \"num_devices_per_node\": %d, \"intra_node_bandwidth_gbps\": ", n->num_devices_per_node);
            vidur__json_number(f, n->intra_node_bandwidth_gbps);
            fputs(", \"inter_node_bandwidth_gbps\": ", f);
            vidur__json_number(f, n->inter_node_bandwidth_gbps);
            fputs("}", f);
        }
    }
    fputs("\n}\n", f);
    return ferror(f) ? VIDUR_ERR_IO : VIDUR_OK;
}

VIDURDEF void vidur_config_print_help(FILE *f)
{
    int i;
    const char *cur = NULL;
    fputs("Every key is a flag --<section>_<key> and an INI entry 'key = value' under [section]\n"
          "(top-level keys such as seed go before any section). Booleans: --x / --no-x / --x false.\n", f);
    for (i = 0; i < VIDUR__NKEYS; i++) {
        const vidur__key *k = &vidur__keys[i];
        char flag[256];
        if (!cur || strcmp(cur, k->section)) {
            fprintf(f, "\n[%s]\n", k->section[0] ? k->section : "(top level)");
            cur = k->section;
        }
        vidur__flag_name(k, flag, sizeof flag);
        fprintf(f, "  --%s (default: %s)\n      %s\n", flag, k->def[0] ? k->def : "\"\"", k->help);
    }
    fputs("\nUser-defined tables (INI only):\n"
          "  [model.NAME]  num_layers num_q_heads num_kv_heads embedding_dim mlp_hidden_dim vocab_size\n"
          "                max_position_embeddings use_gated_mlp post_attn_norm use_bias use_qkv_bias\n"
          "                rope_theta partial_rotary_factor   (unset keys: Llama-2-7B's values)\n"
          "  [device.NAME] fp16_tflops total_memory_gb memory_bandwidth_gbps price_per_hour\n"
          "  [node.NAME]   device num_devices_per_node intra_node_bandwidth_gbps inter_node_bandwidth_gbps link_latency_us\n", f);
}

/* ---- section: CSV reading ------------------------------------------------------------------------
   A small streaming RFC-4180 reader: one record at a time (a quoted field may hold commas, as
   block_hash_ids does, or even newlines), so a large trace never sits in memory as text. */
typedef struct vidur__csv {
    FILE *f;
    const char *path;
    int line;            /* line number of the current record's first line */
    int next_line;
    char *hdr;           /* the header record (cols point into it) */
    char *buf;           /* the current record */
    size_t cap;
    int ncols;
    char *cols[64];
    char *fields[64];
    int nfields;
    int oom;
    char *rbuf;          /* read-ahead block: stdio's per-character locking is slow */
    size_t rpos, rlen;
} vidur__csv;

/* reads one record into c->buf (without its line end); returns 0 at end of file */
static int vidur__csv_getc(vidur__csv *c)
{
    if (c->rpos == c->rlen) {
        if (!c->rbuf) {
            c->rbuf = (char *)VIDUR_MALLOC(1 << 16);
            if (!c->rbuf) { c->oom = 1; return EOF; }
        }
        c->rlen = fread(c->rbuf, 1, 1 << 16, c->f);
        c->rpos = 0;
        if (c->rlen == 0) return EOF;
    }
    return (unsigned char)c->rbuf[c->rpos++];
}

static int vidur__csv_read(vidur__csv *c)
{
    size_t len = 0;
    int ch, inq = 0, any = 0;
    c->line = c->next_line;
    for (;;) {
        ch = vidur__csv_getc(c);
        if (ch == EOF) break;
        any = 1;
        if (ch == '"') inq = !inq;
        if (ch == '\n') {
            c->next_line++;
            if (!inq) break;
        }
        if (len + 2 > c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 4096;
            char *nb = (char *)VIDUR_REALLOC(c->buf, nc);
            if (!nb) { c->oom = 1; return 0; }
            c->buf = nb;
            c->cap = nc;
        }
        c->buf[len++] = (char)ch;
    }
    if (!any) return 0;
    if (len && c->buf[len - 1] == '\r') len--;
    if (!c->buf) {
        c->buf = (char *)VIDUR_MALLOC(16);
        if (!c->buf) { c->oom = 1; return 0; }
        c->cap = 16;
    }
    c->buf[len] = 0;
    return 1;
}

/* splits a record in place into fields (quotes removed, "" unescaped) */
static int vidur__csv_split(char *p, char **fields)
{
    int n = 0;
    for (;;) {
        char *w = p;
        if (n < 64) fields[n] = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) break;
                if (*p == '"') {
                    if (p[1] == '"') { *w++ = '"'; p += 2; continue; }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (*p && *p != ',') p++;
        } else {
            while (*p && *p != ',') *w++ = *p++;
        }
        n++;
        if (*p == ',') { *w = 0; p++; continue; }
        *w = 0;
        break;
    }
    return n > 64 ? 64 : n;
}

static void vidur__csv_close(vidur__csv *c)
{
    if (c->f) fclose(c->f);
    VIDUR_FREE(c->hdr);
    VIDUR_FREE(c->buf);
    VIDUR_FREE(c->rbuf);
    memset(c, 0, sizeof *c);
}

static vidur_result vidur__csv_open(vidur__csv *c, const char *path, vidur_error *err)
{
    size_t n;
    memset(c, 0, sizeof *c);
    c->path = path;
    c->next_line = 1;
    c->f = fopen(path, "rb");
    if (!c->f) {
        vidur__set_error(err, VIDUR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return VIDUR_ERR_IO;
    }
    if (!vidur__csv_read(c)) {
        vidur__set_error(err, c->oom ? VIDUR_ERR_MEMORY : VIDUR_ERR_PARSE, c->oom ? "%s: out of memory" : "%s:1: empty file (a header line is required)", path);
        vidur__csv_close(c);
        return c->oom ? VIDUR_ERR_MEMORY : VIDUR_ERR_PARSE;
    }
    n = strlen(c->buf);
    c->hdr = (char *)VIDUR_MALLOC(n + 1);
    if (!c->hdr) {
        vidur__set_error(err, VIDUR_ERR_MEMORY, "%s: out of memory", path);
        vidur__csv_close(c);
        return VIDUR_ERR_MEMORY;
    }
    memcpy(c->hdr, c->buf + (!strncmp(c->buf, "\xEF\xBB\xBF", 3) ? 3 : 0), n + 1 - (!strncmp(c->buf, "\xEF\xBB\xBF", 3) ? 3 : 0));
    c->ncols = vidur__csv_split(c->hdr, c->cols);
    return VIDUR_OK;
}

static int vidur__csv_col(const vidur__csv *c, const char *name)
{
    int i;
    for (i = 0; i < c->ncols; i++)
        if (!strcmp(c->cols[i], name)) return i;
    return -1;
}

/* next data row (skips blank lines); returns 0 at end of file (or out of memory: c->oom) */
static int vidur__csv_next(vidur__csv *c)
{
    for (;;) {
        if (!vidur__csv_read(c)) return 0;
        if (!c->buf[0]) continue;
        c->nfields = vidur__csv_split(c->buf, c->fields);
        return 1;
    }
}

static vidur_result vidur__csv_double(vidur__csv *c, int col, double *out, vidur_error *err)
{
    char *end;
    const char *s;
    if (col >= c->nfields) {
        vidur__set_error(err, VIDUR_ERR_PARSE, "%s:%d: field '%s' is missing (row has %d fields, header %d)", c->path,
                         c->line, c->cols[col], c->nfields, c->ncols);
        return VIDUR_ERR_PARSE;
    }
    s = c->fields[col];
    errno = 0;
    *out = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || errno == ERANGE || *out != *out) {
        vidur__set_error(err, VIDUR_ERR_PARSE, "%s:%d: field '%s': '%s' is not a number", c->path, c->line, c->cols[col], s);
        return VIDUR_ERR_PARSE;
    }
    return VIDUR_OK;
}


/* ---- section: workload (request generators, workload_and_metrics.md §1-3) ----------------------- */
enum { VIDUR__GEN_SYNTHETIC, VIDUR__GEN_TRACE_REPLAY };
enum { VIDUR__LEN_FIXED, VIDUR__LEN_UNIFORM, VIDUR__LEN_ZIPF, VIDUR__LEN_TRACE, VIDUR__LEN_LOGNORMAL };
enum { VIDUR__INT_POISSON, VIDUR__INT_GAMMA, VIDUR__INT_STATIC, VIDUR__INT_TRACE };

typedef struct vidur__trace_row {
    double arrived_at;
    int32_t P, D;
    int64_t id;
    int64_t session_id;
    int64_t hash_offset;
    int32_t num_hashes;
} vidur__trace_row;

typedef struct vidur__workload {
    int kind, len_kind, int_kind;
    const vidur_config *cfg;
    vidur__mt py;        /* CPython global `random`, seeded with the synthetic seed */
    vidur__mt np_global; /* NumPy global legacy RNG (gamma via SciPy) */
    vidur__mt zipf_rs;   /* zipf's private RandomState */
    vidur__mt lognorm;   /* ours */
    double zipf_zetan, zipf_eta, zipf_alpha;
    int64_t zipf_n;
    int32_t *len_P, *len_D; /* trace lengths in shuffled order */
    int64_t len_count, len_next;
    double *gaps; int64_t gap_count, gap_next;
    vidur__trace_row *rows; int64_t row_count, row_next;
    int64_t *hashes; int64_t hash_count;
    int64_t generated;
    double last_arrival;
    int64_t max_tokens; /* M: the planner's max tokens */
    int exhausted;
} vidur__workload;

static void vidur__fit_tokens(int64_t M, int32_t *P, int32_t *D)
{
    int64_t tot = (int64_t)*P + *D, excess = tot > M ? tot - M : 0;
    if (excess > 0) {
        /* proportional cut, ratios from the values before the cut (upstream trace lengths) */
        int64_t cp = (int64_t)ceil((double)excess * *P / (double)tot), cd = (int64_t)ceil((double)excess * *D / (double)tot);
        *P = (int32_t)(*P - cp);
        *D = (int32_t)(*D - cd);
    }
    if (*P < 1) *P = 1;
    if (*D < 1) *D = 1;
}

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" -> seconds since 1970-01-01 (UTC, proleptic Gregorian) */
static int vidur__parse_datetime(const char *s, double *out)
{
    int Y, Mo, Dd, h, mi, n = 0;
    double sec;
    int64_t y, era, yoe, doy, doe, days;
    if (sscanf(s, "%d-%d-%d %d:%d:%lf%n", &Y, &Mo, &Dd, &h, &mi, &sec, &n) != 6) {
        if (sscanf(s, "%d-%d-%dT%d:%d:%lf%n", &Y, &Mo, &Dd, &h, &mi, &sec, &n) != 6) return 0;
    }
    if (Mo < 1 || Mo > 12 || Dd < 1 || Dd > 31) return 0;
    y = Y - (Mo <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (Mo + (Mo > 2 ? -3 : 9)) + 2) / 5 + Dd - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;
    *out = (double)days * 86400.0 + h * 3600.0 + mi * 60.0 + sec;
    return 1;
}

static void vidur__workload_free(vidur__workload *w)
{
    VIDUR_FREE(w->len_P);
    VIDUR_FREE(w->len_D);
    VIDUR_FREE(w->gaps);
    VIDUR_FREE(w->rows);
    VIDUR_FREE(w->hashes);
    memset(w, 0, sizeof *w);
}

static int vidur__row_cmp(const void *a, const void *b)
{
    const vidur__trace_row *x = (const vidur__trace_row *)a, *y = (const vidur__trace_row *)b;
    if (x->arrived_at < y->arrived_at) return -1;
    if (x->arrived_at > y->arrived_at) return 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* parses "[1, 2, 3]" into the hash pool */
static vidur_result vidur__parse_hashes(vidur__workload *w, vidur__csv *c, int col, int64_t *cap, vidur_error *err)
{
    char *s = c->fields[col], *end;
    while (isspace((unsigned char)*s)) s++;
    if (*s == '[') s++;
    for (;;) {
        long long v = 0;
        int neg = 0, digits = 0;
        while (*s == ' ' || *s == '\t' || *s == ',') s++;
        if (*s == ']' || !*s) break;
        /* hand-rolled: these lists hold millions of integers; strtoll's locale work is the cost */
        end = s;
        if (*end == '-') { neg = 1; end++; }
        while (*end >= '0' && *end <= '9' && digits < 19) { v = v * 10 + (*end++ - '0'); digits++; }
        if (neg) v = -v;
        if (!digits || (*end >= '0' && *end <= '9') || (*end && *end != ',' && *end != ']' && *end != ' ' && *end != '\t')) {
            vidur__set_error(err, VIDUR_ERR_PARSE, "%s:%d: field 'block_hash_ids': expected a list of integers", c->path, c->line);
            return VIDUR_ERR_PARSE;
        }
        if (!vidur__grow((void **)&w->hashes, cap, w->hash_count + 1, sizeof(int64_t))) {
            vidur__set_error(err, VIDUR_ERR_MEMORY, "%s: out of memory", c->path);
            return VIDUR_ERR_MEMORY;
        }
        w->hashes[w->hash_count++] = v;
        s = end;
    }
    return VIDUR_OK;
}

static vidur_result vidur__load_trace_replay(vidur__workload *w, const vidur_config *cfg, vidur_error *err)
{
    vidur__csv c;
    int ca, cp, cd, cs, ch;
    int64_t cap = 0, hcap = 0;
    vidur_result r = vidur__csv_open(&c, cfg->trace_replay_file, err);
    if (r) return r;
    ca = vidur__csv_col(&c, "arrived_at");
    cp = vidur__csv_col(&c, "num_prefill_tokens");
    cd = vidur__csv_col(&c, "num_decode_tokens");
    cs = vidur__csv_col(&c, "session_id");
    ch = vidur__csv_col(&c, "block_hash_ids");
    if (ca < 0 || cp < 0 || cd < 0) {
        vidur__set_error(err, VIDUR_ERR_PARSE, "%s:1: header must contain arrived_at, num_prefill_tokens, num_decode_tokens", c.path);
        vidur__csv_close(&c);
        return VIDUR_ERR_PARSE;
    }
    while (vidur__csv_next(&c)) {
        vidur__trace_row *row;
        double a, P, D;
        if ((r = vidur__csv_double(&c, ca, &a, err)) || (r = vidur__csv_double(&c, cp, &P, err)) ||
            (r = vidur__csv_double(&c, cd, &D, err)))
            break;
        if (a < 0 || P < 0 || D < 0) {
            vidur__set_error(err, VIDUR_ERR_PARSE, "%s:%d: negative arrived_at or token count", c.path, c.line);
            r = VIDUR_ERR_PARSE;
            break;
        }
        if (!vidur__grow((void **)&w->rows, &cap, w->row_count + 1, sizeof *w->rows)) {
            vidur__set_error(err, VIDUR_ERR_MEMORY, "%s: out of memory", c.path);
            r = VIDUR_ERR_MEMORY;
            break;
        }
        row = &w->rows[w->row_count];
        row->id = w->row_count;
        row->arrived_at = a * cfg->trace_replay_time_scale_factor;
        P = floor(P * cfg->trace_replay_prefill_scale_factor);
        D = floor(D * cfg->trace_replay_decode_scale_factor);
        if (P > 1e9 || D > 1e9) {
            vidur__set_error(err, VIDUR_ERR_PARSE, "%s:%d: token count too large", c.path, c.line);
            r = VIDUR_ERR_PARSE;
            break;
        }
        row->P = P < 1 ? 1 : (int32_t)P;
        row->D = D < 1 ? 1 : (int32_t)D;
        {
            /* upstream trace_replay cuts only the prompt to fit max_tokens */
            int64_t excess = (int64_t)row->P + row->D - cfg->trace_replay_max_tokens;
            if (excess > 0) row->P = (int32_t)(row->P - excess);
            if (row->P < 1) row->P = 1;
        }
        row->session_id = -1;
        if (cs >= 0 && cs < c.nfields && c.fields[cs][0]) {
            double sv;
            if ((r = vidur__csv_double(&c, cs, &sv, err))) break;
            row->session_id = (int64_t)sv;
        }
        row->hash_offset = w->hash_count;
        if (ch >= 0 && ch < c.nfields && c.fields[ch][0]) {
            if ((r = vidur__parse_hashes(w, &c, ch, &hcap, err))) break;
        }
        row->num_hashes = (int32_t)(w->hash_count - row->hash_offset);
        w->row_count++;
    }
    if (!r && c.oom) {
        r = VIDUR_ERR_MEMORY;
        vidur__set_error(err, r, "%s: out of memory", c.path);
    }
    vidur__csv_close(&c);
    if (r) return r;
    if (w->row_count == 0) {
        vidur__set_error(err, VIDUR_ERR_PARSE, "%s: no requests in trace", cfg->trace_replay_file);
        return VIDUR_ERR_PARSE;
    }
    /* the upstream event heap orders arrivals by (time, creation order) */
    qsort(w->rows, (size_t)w->row_count, sizeof *w->rows, vidur__row_cmp);
    return VIDUR_OK;
}

static vidur_result vidur__load_trace_lengths(vidur__workload *w, const vidur_config *cfg, vidur_error *err)
{
    vidur__csv c;
    int cp, cd;
    int64_t cap = 0, cap2 = 0, i;
    vidur__mt rs;
    vidur_result r = vidur__csv_open(&c, cfg->trace_length_file, err);
    if (r) return r;
    cp = vidur__csv_col(&c, "num_prefill_tokens");
    cd = vidur__csv_col(&c, "num_decode_tokens");
    if (cp < 0 || cd < 0) {
        vidur__set_error(err, VIDUR_ERR_PARSE, "%s:1: header must contain num_prefill_tokens, num_decode_tokens", c.path);
        vidur__csv_close(&c);
        return VIDUR_ERR_PARSE;
    }
    while (vidur__csv_next(&c)) {
        double P, D;
        int32_t p, d;
        if ((r = vidur__csv_double(&c, cp, &P, err)) || (r = vidur__csv_double(&c, cd, &D, err))) break;
        if (P < 0 || D < 0 || P > 1e9 || D > 1e9) {
            vidur__set_error(err, VIDUR_ERR_PARSE, "%s:%d: token counts must be in [0, 1e9]", c.path, c.line);
            r = VIDUR_ERR_PARSE;
            break;
        }
        p = (int32_t)(P * cfg->trace_length_prefill_scale_factor);
        d = (int32_t)(D * cfg->trace_length_decode_scale_factor);
        vidur__fit_tokens(cfg->trace_length_max_tokens, &p, &d);
        if (!vidur__grow((void **)&w->len_P, &cap, w->len_count + 1, sizeof(int32_t)) ||
            !vidur__grow((void **)&w->len_D, &cap2, w->len_count + 1, sizeof(int32_t))) {
            vidur__set_error(err, VIDUR_ERR_MEMORY, "%s: out of memory", c.path);
            r = VIDUR_ERR_MEMORY;
            break;
        }
        w->len_P[w->len_count] = p;
        w->len_D[w->len_count] = d;
        w->len_count++;
    }
    if (!r && c.oom) {
        r = VIDUR_ERR_MEMORY;
        vidur__set_error(err, r, "%s: out of memory", c.path);
    }
    vidur__csv_close(&c);
    if (r) return r;
    if (w->len_count == 0) {
        vidur__set_error(err, VIDUR_ERR_PARSE, "%s: no rows", cfg->trace_length_file);
        return VIDUR_ERR_PARSE;
    }
    /* pandas sample(frac=1, random_state=seed) = legacy permutation: Fisher-Yates from the end */
    vidur__mt_init_genrand(&rs, (uint32_t)cfg->trace_length_seed);
    for (i = w->len_count - 1; i >= 1; i--) {
        int64_t j = vidur__mt_interval(&rs, (uint32_t)i);
        int32_t t = w->len_P[i];
        w->len_P[i] = w->len_P[j];
        w->len_P[j] = t;
        t = w->len_D[i];
        w->len_D[i] = w->len_D[j];
        w->len_D[j] = t;
    }
    return VIDUR_OK;
}

static int vidur__dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static vidur_result vidur__load_trace_intervals(vidur__workload *w, const vidur_config *cfg, vidur_error *err)
{
    vidur__csv c;
    int ct;
    int64_t cap = 0, n = 0, i;
    double start, end, *t = NULL, tmin;
    vidur_result r;
    if (!vidur__parse_datetime(cfg->trace_interval_start_time, &start) || !vidur__parse_datetime(cfg->trace_interval_end_time, &end)) {
        vidur__set_error(err, VIDUR_ERR_CONFIG, "trace_request_interval_generator_config_start_time/end_time: expected 'YYYY-MM-DD HH:MM:SS'");
        return VIDUR_ERR_CONFIG;
    }
    r = vidur__csv_open(&c, cfg->trace_interval_file, err);
    if (r) return r;
    ct = vidur__csv_col(&c, "arrival_time");
    if (ct < 0) ct = vidur__csv_col(&c, "arrived_at");
    if (ct < 0) {
        vidur__set_error(err, VIDUR_ERR_PARSE, "%s:1: header must contain arrival_time", c.path);
        vidur__csv_close(&c);
        return VIDUR_ERR_PARSE;
    }
    while (vidur__csv_next(&c)) {
        double v;
        if (ct >= c.nfields || !vidur__parse_datetime(c.fields[ct], &v)) {
            vidur__set_error(err, VIDUR_ERR_PARSE, "%s:%d: field 'arrival_time': expected 'YYYY-MM-DD HH:MM:SS'", c.path, c.line);
            r = VIDUR_ERR_PARSE;
            break;
        }
        if (!(v > start && v < end)) continue;
        if (!vidur__grow((void **)&t, &cap, n + 1, sizeof(double))) {
            r = VIDUR_ERR_MEMORY;
            vidur__set_error(err, r, "%s: out of memory", c.path);
            break;
        }
        t[n++] = v;
    }
    if (!r && c.oom) {
        r = VIDUR_ERR_MEMORY;
        vidur__set_error(err, r, "%s: out of memory", c.path);
    }
    vidur__csv_close(&c);
    if (r) { VIDUR_FREE(t); return r; }
    if (n < 2) {
        VIDUR_FREE(t);
        vidur__set_error(err, VIDUR_ERR_PARSE, "%s: fewer than 2 arrivals between start_time and end_time", cfg->trace_interval_file);
        return VIDUR_ERR_PARSE;
    }
    qsort(t, (size_t)n, sizeof(double), vidur__dbl_cmp);
    tmin = t[0];
    for (i = 0; i < n; i++) t[i] = floor(t[i] - tmin) * cfg->trace_interval_time_scale_factor;
    w->gaps = (double *)VIDUR_MALLOC((size_t)(n - 1) * sizeof(double));
    if (!w->gaps) { VIDUR_FREE(t); vidur__set_error(err, VIDUR_ERR_MEMORY, "out of memory"); return VIDUR_ERR_MEMORY; }
    for (i = 1; i < n; i++) w->gaps[i - 1] = t[i] - t[i - 1];
    w->gap_count = n - 1;
    VIDUR_FREE(t);
    return VIDUR_OK;
}

static vidur_result vidur__workload_init(vidur__workload *w, const vidur_config *cfg, vidur_error *err)
{
    vidur_result r = VIDUR_OK;
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    if (!strcmp(cfg->request_generator_type, "trace_replay")) {
        w->kind = VIDUR__GEN_TRACE_REPLAY;
        w->max_tokens = cfg->trace_replay_max_tokens;
        return vidur__load_trace_replay(w, cfg, err);
    }
    w->kind = VIDUR__GEN_SYNTHETIC;
    vidur__mt_seed_python(&w->py, cfg->synthetic_seed);
    vidur__mt_init_genrand(&w->np_global, (uint32_t)cfg->synthetic_seed);
    if (!strcmp(cfg->length_generator_type, "fixed")) { w->len_kind = VIDUR__LEN_FIXED; w->max_tokens = cfg->fixed_max_tokens; }
    else if (!strcmp(cfg->length_generator_type, "uniform")) { w->len_kind = VIDUR__LEN_UNIFORM; w->max_tokens = cfg->uniform_max_tokens; }
    else if (!strcmp(cfg->length_generator_type, "zipf")) {
        int64_t i;
        double theta = cfg->zipf_theta, zeta2 = 1.0;
        w->len_kind = VIDUR__LEN_ZIPF;
        w->max_tokens = cfg->zipf_max_tokens;
        vidur__mt_init_genrand(&w->zipf_rs, (uint32_t)cfg->zipf_seed);
        w->zipf_n = (int64_t)cfg->zipf_max_tokens - cfg->zipf_min_tokens + 1;
        w->zipf_zetan = 0;
        for (i = 1; i < w->zipf_n; i++) w->zipf_zetan += pow((double)i, -theta); /* zeta(c) sums to c-1, as Vidur */
        w->zipf_alpha = 1.0 / (1.0 - theta);
        w->zipf_eta = (1.0 - pow(2.0 / (double)w->zipf_n, 1.0 - theta)) / (1.0 - zeta2 / (w->zipf_zetan + 1e-8));
    } else if (!strcmp(cfg->length_generator_type, "trace")) {
        w->len_kind = VIDUR__LEN_TRACE;
        w->max_tokens = cfg->trace_length_max_tokens;
        r = vidur__load_trace_lengths(w, cfg, err);
        if (r) return r;
        if (cfg->synthetic_duration <= 0 && cfg->synthetic_num_requests > w->len_count) {
            vidur__set_error(err, VIDUR_ERR_CONFIG,
                             "synthetic_request_generator_config_num_requests: %lld requests asked but %s has only %lld rows",
                             (long long)cfg->synthetic_num_requests, cfg->trace_length_file, (long long)w->len_count);
            return VIDUR_ERR_CONFIG;
        }
    } else {
        w->len_kind = VIDUR__LEN_LOGNORMAL;
        w->max_tokens = cfg->lognormal_max_tokens;
        vidur__mt_init_genrand(&w->lognorm, (uint32_t)cfg->lognormal_seed);
    }
    if (!strcmp(cfg->interval_generator_type, "poisson")) w->int_kind = VIDUR__INT_POISSON;
    else if (!strcmp(cfg->interval_generator_type, "gamma")) w->int_kind = VIDUR__INT_GAMMA;
    else if (!strcmp(cfg->interval_generator_type, "static")) w->int_kind = VIDUR__INT_STATIC;
    else {
        w->int_kind = VIDUR__INT_TRACE;
        r = vidur__load_trace_intervals(w, cfg, err);
    }
    return r;
}

/* next request's (arrival, P, D); returns 0 when the workload is over */
static int vidur__workload_next(vidur__workload *w, vidur_request *q)
{
    const vidur_config *cfg = w->cfg;
    double gap = 0, P = 0, D = 0;
    if (w->exhausted) return 0;
    q->session_id = -1;
    q->block_hash_ids = NULL;
    q->num_block_hash_ids = 0;
    if (w->kind == VIDUR__GEN_TRACE_REPLAY) {
        const vidur__trace_row *row;
        if (w->row_next >= w->row_count) { w->exhausted = 1; return 0; }
        row = &w->rows[w->row_next++];
        q->id = row->id;
        q->arrived_at = row->arrived_at;
        q->num_prefill_tokens = row->P;
        q->num_decode_tokens = row->D;
        q->session_id = row->session_id;
        if (row->num_hashes) {
            q->block_hash_ids = w->hashes + row->hash_offset;
            q->num_block_hash_ids = row->num_hashes;
        }
        w->generated++;
        return 1;
    }
    if (cfg->synthetic_duration <= 0 && w->generated >= cfg->synthetic_num_requests) { w->exhausted = 1; return 0; }
    switch (w->int_kind) {
    case VIDUR__INT_POISSON: {
        double u = vidur__mt_random(&w->py);
        gap = -log(1.0 - u) / cfg->poisson_qps;
        if (gap > 3.0 / cfg->poisson_qps) gap = 3.0 / cfg->poisson_qps; /* Vidur truncates at 3x the mean */
        break;
    }
    case VIDUR__INT_GAMMA: {
        double k = 1.0 / (cfg->gamma_cv * cfg->gamma_cv), theta = 1.0 / (cfg->gamma_qps * k);
        gap = vidur__mt_standard_gamma(&w->np_global, k) * theta;
        break;
    }
    case VIDUR__INT_STATIC: gap = 0; break;
    default:
        if (w->gap_next >= w->gap_count) { w->exhausted = 1; return 0; }
        gap = w->gaps[w->gap_next++];
        break;
    }
    switch (w->len_kind) {
    case VIDUR__LEN_FIXED: P = cfg->fixed_prefill_tokens; D = cfg->fixed_decode_tokens; break;
    case VIDUR__LEN_UNIFORM: {
        double tot = cfg->uniform_min_tokens + (double)(cfg->uniform_max_tokens - cfg->uniform_min_tokens) * vidur__mt_random(&w->py);
        D = ceil(tot / (1.0 + cfg->uniform_prefill_to_decode_ratio));
        P = tot - D;
        break;
    }
    case VIDUR__LEN_ZIPF: {
        double u = vidur__mt_random(&w->zipf_rs), uz = u * w->zipf_zetan, tot;
        if (uz < 1.0) tot = cfg->zipf_min_tokens;
        else if (uz < 1.0 + pow(0.5, cfg->zipf_theta)) tot = cfg->zipf_min_tokens + 1;
        else tot = cfg->zipf_min_tokens + (double)(int64_t)((double)w->zipf_n * pow(w->zipf_eta * u - w->zipf_eta + 1.0, w->zipf_alpha));
        D = tot / (1.0 + cfg->zipf_prefill_to_decode_ratio);
        P = tot - D;
        break;
    }
    case VIDUR__LEN_TRACE:
        if (w->len_next >= w->len_count) { w->exhausted = 1; return 0; }
        P = w->len_P[w->len_next];
        D = w->len_D[w->len_next];
        w->len_next++;
        break;
    default: {
        /* ours: lognormal prompt and output lengths (Box-Muller on a private stream), fitted like a trace */
        double u1 = vidur__mt_random(&w->lognorm), u2 = vidur__mt_random(&w->lognorm);
        double r = sqrt(-2.0 * log(1.0 - u1)), z1 = r * cos(2 * 3.14159265358979323846 * u2), z2 = r * sin(2 * 3.14159265358979323846 * u2);
        double p = cfg->lognormal_prefill_median * exp(cfg->lognormal_prefill_sigma * z1);
        double d = cfg->lognormal_decode_median * exp(cfg->lognormal_decode_sigma * z2);
        int32_t pi = (int32_t)(p > 1e9 ? 1e9 : p), di = (int32_t)(d > 1e9 ? 1e9 : d);
        vidur__fit_tokens(cfg->lognormal_max_tokens, &pi, &di);
        P = pi;
        D = di;
        break;
    }
    }
    q->arrived_at = w->last_arrival + gap;
    if (cfg->synthetic_duration > 0 && q->arrived_at >= cfg->synthetic_duration) { w->exhausted = 1; return 0; }
    w->last_arrival = q->arrived_at;
    q->id = w->generated++;
    q->num_prefill_tokens = (int32_t)P;
    q->num_decode_tokens = (int32_t)D;
    if (q->num_prefill_tokens < 1) q->num_prefill_tokens = 1;
    if (q->num_decode_tokens < 1) q->num_decode_tokens = 1;
    return 1;
}

/* ---- section: execution-time prediction (execution_time.md) -------------------------------------
   Keys are built exactly as Vidur builds them; the operator times come from a predictor. The
   built-in predictor is an analytical roofline: each operator costs
       max(FLOPs / (peak x efficiency), bytes / (bandwidth x memory_efficiency)) + launch overhead,
   with per-GPU (tensor-parallel) shapes; collectives use ring all-reduce over the node's links. */
static const char *const vidur__op_names[VIDUR_OP_COUNT] = {
    "attn_pre_proj", "attn_post_proj", "attn_rope", "attn_kv_cache_save", "attn_decode", "attn_prefill",
    "input_layernorm", "post_attention_layernorm", "mlp_up_proj", "mlp_down_proj", "mlp_act", "add",
    "all_reduce", "send_recv"};

VIDURDEF const char *vidur_op_name(int op) { return op >= 0 && op < VIDUR_OP_COUNT ? vidur__op_names[op] : "?"; }

typedef struct vidur__eff {
    double compute_efficiency, attention_efficiency, memory_efficiency, network_efficiency, kernel_launch_overhead_ms;
} vidur__eff;

static double vidur__roof(const vidur_roofline *r, const vidur__eff *e, double flops, double flop_eff, double bytes)
{
    double tc = flops / (r->device.fp16_tflops * 1e12 * flop_eff);
    double tm = bytes / (r->device.memory_bandwidth_gbps * 1e9 * e->memory_efficiency);
    return (tc > tm ? tc : tm) * 1e3 + e->kernel_launch_overhead_ms;
}

static double vidur__gemm(const vidur_roofline *r, const vidur__eff *e, double m, double n, double k)
{
    return vidur__roof(r, e, 2.0 * m * n * k, e->compute_efficiency, 2.0 * (m * k + k * n + m * n));
}

static double vidur__roofline_eval(const vidur_roofline *r, const vidur__eff *e, int op, int64_t k1, int64_t k2)
{
    const vidur_model_spec *m = &r->model;
    double E = m->embedding_dim, hd = (double)m->embedding_dim / m->num_q_heads;
    double qw = (double)(m->num_q_heads / r->tp), kvw = (double)vidur__ceil_div(m->num_kv_heads, r->tp);
    double F = (double)m->mlp_hidden_dim / r->tp, T = (double)k1;
    switch (op) {
    case VIDUR_OP_ATTN_PRE_PROJ: return vidur__gemm(r, e, T, hd * (qw + 2 * kvw), E);
    case VIDUR_OP_ATTN_POST_PROJ: return vidur__gemm(r, e, T, E, hd * qw);
    case VIDUR_OP_MLP_UP_PROJ: return vidur__gemm(r, e, T, (m->use_gated_mlp ? 2 : 1) * F, E);
    case VIDUR_OP_MLP_DOWN_PROJ: return vidur__gemm(r, e, T, E, F);
    case VIDUR_OP_MLP_ACT: return vidur__roof(r, e, 0, 1, 2.0 * T * F * (m->use_gated_mlp ? 3 : 2));
    case VIDUR_OP_ATTN_ROPE: return vidur__roof(r, e, 0, 1, 2.0 * 2.0 * T * hd * (qw + kvw));
    case VIDUR_OP_INPUT_LAYERNORM:
    case VIDUR_OP_POST_ATTENTION_LAYERNORM: return vidur__roof(r, e, 0, 1, 2.0 * 2.0 * T * E);
    case VIDUR_OP_ADD: return vidur__roof(r, e, 0, 1, 3.0 * 2.0 * T * E);
    case VIDUR_OP_ATTN_KV_CACHE_SAVE: return vidur__roof(r, e, 0, 1, 2.0 * 2.0 * 2.0 * T * hd * kvw);
    case VIDUR_OP_ATTN_DECODE: {
        /* k1 = decode batch size, k2 = context per sequence: reads every sequence's K and V */
        double b = (double)k1, kv = (double)k2;
        return vidur__roof(r, e, 4.0 * b * kv * hd * qw, e->attention_efficiency,
                           2.0 * 2.0 * b * kv * hd * kvw + 2.0 * 2.0 * b * hd * qw);
    }
    case VIDUR_OP_ATTN_PREFILL: {
        /* k1 = context already in KV, k2 = chunk length; causal attention over chunk x (kv + chunk/2) */
        double kv = (double)k1, c = (double)k2;
        return vidur__roof(r, e, 4.0 * c * (kv + (c + 1) / 2.0) * hd * qw, e->attention_efficiency,
                           2.0 * 2.0 * (kv + c) * hd * kvw + 2.0 * 2.0 * c * hd * qw);
    }
    case VIDUR_OP_ALL_REDUCE: {
        double bytes = 2.0 * T * E, bw;
        int multi = r->tp > r->node.num_devices_per_node;
        if (r->tp <= 1) return 0;
        bw = (multi ? r->node.inter_node_bandwidth_gbps : r->node.intra_node_bandwidth_gbps) * 1e9 * e->network_efficiency;
        return 2.0 * (r->tp - 1) / r->tp * bytes / bw * 1e3 + 2.0 * (r->tp - 1) * r->node.link_latency_us * 1e-3;
    }
    case VIDUR_OP_SEND_RECV: {
        double bytes = 2.0 * T * E, bw;
        int multi = r->tp * r->pp > r->node.num_devices_per_node;
        bw = (multi ? r->node.inter_node_bandwidth_gbps : r->node.intra_node_bandwidth_gbps) * 1e9 * e->network_efficiency;
        return bytes / bw * 1e3 + r->node.link_latency_us * 1e-3;
    }
    }
    return 0;
}

VIDURDEF double vidur_roofline_op_time_ms(void *state, int op, int64_t k1, int64_t k2)
{
    const vidur_roofline *r = (const vidur_roofline *)state;
    vidur__eff e;
    if (op >= 0 && op < VIDUR_OP_COUNT && r->calibrated[op]) {
        /* calibrated against profiles: an ideal roofline, scaled, plus a fixed cost */
        e.compute_efficiency = e.attention_efficiency = e.memory_efficiency = e.network_efficiency = 1.0;
        e.kernel_launch_overhead_ms = 0;
        return r->scale[op] * vidur__roofline_eval(r, &e, op, k1, k2) + r->overhead_ms[op];
    }
    e.compute_efficiency = r->p.compute_efficiency;
    e.attention_efficiency = r->p.attention_efficiency;
    e.memory_efficiency = r->p.memory_efficiency;
    e.network_efficiency = r->p.network_efficiency;
    e.kernel_launch_overhead_ms = r->p.kernel_launch_overhead_ms;
    return vidur__roofline_eval(r, &e, op, k1, k2);
}

/* Vidur's batch keys (execution_time.md §3, upstream variant) */
VIDURDEF void vidur_batch_shape_compute(const vidur_batch *b, int g, vidur_batch_shape *s)
{
    int32_t i;
    int64_t decode_sum = 0;
    double sq = 0;
    memset(s, 0, sizeof *s);
    s->num_requests = b->size;
    for (i = 0; i < b->size; i++) {
        const vidur_request *q = b->requests[i];
        int64_t c = b->num_tokens[i], p = q->num_processed_tokens;
        s->total_tokens += c;
        s->flops_tokens_sum += (double)c;
        s->flops_attn_sum += (double)c * (double)(c + p);
        if (q->is_prefill_complete) {
            s->num_decode++;
            decode_sum += p;
        } else {
            s->num_prefill++;
            s->prefill_kv += vidur__ceil_to(p, g);
            sq += (double)c * (double)c;
        }
    }
    s->total_tokens_ceil8 = vidur__ceil_to(s->total_tokens, 8);
    if (s->num_decode) s->decode_kv = vidur__ceil_to((int64_t)((double)decode_sum / s->num_decode), g);
    if (s->num_prefill) s->prefill_chunk = (int64_t)floor(sqrt(sq) + 0.5);
}

VIDURDEF void vidur_stage_time_compute(const vidur_predictor_api *pred, const vidur_model_spec *m,
                                       const vidur_predictor_params *p, int tp, int pp, int stage,
                                       const vidur_batch_shape *s, vidur_stage_time *out)
{
    double *o = out->op_ms, tpc = 0, attn, mlp, block, pps;
    int64_t T8 = s->total_tokens_ceil8;
    int gqa = m->num_q_heads > m->num_kv_heads;
    int i;
    for (i = 0; i < VIDUR_OP_COUNT; i++) o[i] = 0;
#define VIDUR__OP(op, a, b) pred->op_time_ms(pred->state, op, a, b)
    o[VIDUR_OP_ATTN_PRE_PROJ] = VIDUR__OP(VIDUR_OP_ATTN_PRE_PROJ, T8, 0);
    o[VIDUR_OP_ATTN_POST_PROJ] = VIDUR__OP(VIDUR_OP_ATTN_POST_PROJ, T8, 0);
    o[VIDUR_OP_ATTN_ROPE] = VIDUR__OP(VIDUR_OP_ATTN_ROPE, T8, 0);
    o[VIDUR_OP_ATTN_KV_CACHE_SAVE] = VIDUR__OP(VIDUR_OP_ATTN_KV_CACHE_SAVE, s->total_tokens, 0); /* exact T, no rounding */
    if (s->num_decode) {
        double f = gqa ? p->attention_decode_batching_overhead_fraction : 0.0;
        o[VIDUR_OP_ATTN_DECODE] = VIDUR__OP(VIDUR_OP_ATTN_DECODE, s->num_decode, s->decode_kv) * (1.0 + (s->num_decode > 1 ? f : 0.0));
    }
    if (s->num_prefill) {
        double f = gqa ? p->attention_prefill_batching_overhead_fraction : 0.0;
        o[VIDUR_OP_ATTN_PREFILL] = VIDUR__OP(VIDUR_OP_ATTN_PREFILL, s->prefill_kv, s->prefill_chunk) * (1.0 + (s->num_prefill > 1 ? f : 0.0));
    }
    o[VIDUR_OP_INPUT_LAYERNORM] = VIDUR__OP(VIDUR_OP_INPUT_LAYERNORM, T8, 0);
    if (m->post_attn_norm) o[VIDUR_OP_POST_ATTENTION_LAYERNORM] = VIDUR__OP(VIDUR_OP_POST_ATTENTION_LAYERNORM, T8, 0);
    o[VIDUR_OP_MLP_UP_PROJ] = VIDUR__OP(VIDUR_OP_MLP_UP_PROJ, T8, 0);
    o[VIDUR_OP_MLP_DOWN_PROJ] = VIDUR__OP(VIDUR_OP_MLP_DOWN_PROJ, T8, 0);
    o[VIDUR_OP_MLP_ACT] = VIDUR__OP(VIDUR_OP_MLP_ACT, T8, 0);
    o[VIDUR_OP_ADD] = VIDUR__OP(VIDUR_OP_ADD, T8, 0);
    if (tp > 1) {
        o[VIDUR_OP_ALL_REDUCE] = VIDUR__OP(VIDUR_OP_ALL_REDUCE, T8, 0);
        tpc = o[VIDUR_OP_ALL_REDUCE] + p->nccl_cpu_launch_overhead_ms + p->nccl_cpu_skew_overhead_per_device_ms * pow((double)tp, 1.25);
    }
    if (stage != pp - 1) o[VIDUR_OP_SEND_RECV] = VIDUR__OP(VIDUR_OP_SEND_RECV, T8, 0);
#undef VIDUR__OP
    attn = o[VIDUR_OP_ATTN_PRE_PROJ] + o[VIDUR_OP_ATTN_POST_PROJ] + o[VIDUR_OP_ATTN_ROPE] + o[VIDUR_OP_ATTN_KV_CACHE_SAVE] +
           o[VIDUR_OP_ATTN_DECODE] + o[VIDUR_OP_ATTN_PREFILL] + tpc + o[VIDUR_OP_INPUT_LAYERNORM];
    mlp = o[VIDUR_OP_MLP_UP_PROJ] + o[VIDUR_OP_MLP_DOWN_PROJ] + o[VIDUR_OP_MLP_ACT] + tpc + o[VIDUR_OP_POST_ATTENTION_LAYERNORM];
    block = attn + mlp + o[VIDUR_OP_ADD]; /* 'add' once per block, as Vidur */
    pps = o[VIDUR_OP_SEND_RECV];          /* once per stage, not per layer */
    out->model_time = (block * (m->num_layers / pp) + pps) * 1e-3;
    out->cpu_overhead = 0; /* skip_cpu_overhead_modeling (no CPU profiles are shipped) */
    out->total_time = out->model_time + out->cpu_overhead;
}

/* ---- section: profiled operator tables ---------------------------------------------------------
   Tables come compiled in (data/vidur_tables.h, generated by tools/vidur-tables from profiling
   CSVs) or from a table file. A key outside the profiled domain is never an error (Vidur aborts):
   below the domain the edge value is used; above it the edge value is scaled by the roofline's
   growth from the edge to the key ("roofline extrapolation"), with one warning per operator. */
static int64_t vidur__count_below(const double *a, int n, double x)
{
    int lo = 0, hi = n; /* first index with a[i] >= x */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

VIDURDEF double vidur_op_table_eval(const vidur_op_table *t, double x, double y)
{
    if (t->kind == VIDUR_TABLE_GRID) {
        int64_t ix = vidur__count_below(t->x, t->nx, x), iy = t->ny ? vidur__count_below(t->y, t->ny, y) : 0;
        return (double)t->v[ix * (t->ny + 1) + iy];
    } else {
        double sum = 0, xs = x / t->sx, ys = t->sy != 0 ? y / t->sy : 0;
        int i;
        for (i = 0; i < t->nterms; i++) {
            const double *term = &t->terms[3 * i];
            sum += term[2] * pow(xs, term[0]) * pow(ys, term[1]);
        }
        return sum;
    }
}

static const char *vidur__predictor_names[3] = {"", "random_forest", "linear_regression"};

static int vidur__op_from_name(const char *n)
{
    int i;
    for (i = 0; i < VIDUR_OP_COUNT; i++)
        if (!strcmp(vidur__op_names[i], n)) return i;
    return -1;
}

static void vidur__write_str(FILE *f, const char *key, const char *v) { fprintf(f, " %s=%s", key, v && v[0] ? v : "-"); }

static void vidur__write_nums(FILE *f, const char *tag, const double *d, const float *fl, int64_t n)
{
    int64_t i;
    char b[40];
    fputs(tag, f);
    for (i = 0; i < n; i++) {
        if (d) vidur__fmt_double(b, sizeof b, d[i]);
        else snprintf(b, sizeof b, "%.9g", (double)fl[i]);
        fputc(' ', f);
        fputs(b, f);
    }
    fputc('\n', f);
}

VIDURDEF vidur_result vidur_table_set_write(const vidur_table_set *set, FILE *f)
{
    int i;
    fputs("vidur-tables 1\n", f);
    if (set->provenance && set->provenance[0]) fprintf(f, "provenance %s\n", set->provenance);
    for (i = 0; i < set->num_tables; i++) {
        const vidur_op_table *t = &set->tables[i];
        char b[4][40];
        fprintf(f, "table op=%s predictor=%s kind=%s", vidur_op_name(t->op),
                vidur__predictor_names[t->predictor == VIDUR_PREDICTOR_LINEAR_REGRESSION ? 2 : 1],
                t->kind == VIDUR_TABLE_POLY ? "poly" : "grid");
        vidur__write_str(f, "device", t->device);
        vidur__write_str(f, "model", t->model);
        vidur__write_str(f, "node", t->node);
        vidur__fmt_double(b[0], 40, t->xmin);
        vidur__fmt_double(b[1], 40, t->xmax);
        vidur__fmt_double(b[2], 40, t->ymin);
        vidur__fmt_double(b[3], 40, t->ymax);
        fprintf(f, " tp=%d xmin=%s xmax=%s ymin=%s ymax=%s", t->tp, b[0], b[1], b[2], b[3]);
        if (t->relative) fputs(" relative=1", f);
        if (t->kind == VIDUR_TABLE_POLY) {
            vidur__fmt_double(b[0], 40, t->sx);
            vidur__fmt_double(b[1], 40, t->sy);
            fprintf(f, " nterms=%d sx=%s sy=%s\n", t->nterms, b[0], b[1]);
            vidur__write_nums(f, "terms", t->terms, NULL, 3 * (int64_t)t->nterms);
        } else {
            fprintf(f, " nx=%d ny=%d\n", t->nx, t->ny);
            if (t->nx) vidur__write_nums(f, "x", t->x, NULL, t->nx); /* the loader expects no empty lines */
            if (t->ny) vidur__write_nums(f, "y", t->y, NULL, t->ny);
            vidur__write_nums(f, "v", NULL, t->v, (int64_t)(t->nx + 1) * (t->ny + 1));
        }
    }
    for (i = 0; i < set->num_calibrations; i++) {
        const vidur_roofline_calibration *c = &set->calibrations[i];
        char b[2][40];
        vidur__fmt_double(b[0], 40, c->scale);
        vidur__fmt_double(b[1], 40, c->overhead_ms);
        fprintf(f, "calibration op=%s", vidur_op_name(c->op));
        vidur__write_str(f, "device", c->device);
        fprintf(f, " scale=%s overhead_ms=%s\n", b[0], b[1]);
    }
    return ferror(f) ? VIDUR_ERR_IO : VIDUR_OK;
}

/* a loaded set owns every string and array it points to */
typedef struct vidur__owned_set {
    vidur_table_set pub;
    vidur_op_table *tables;
    vidur_roofline_calibration *cals;
    int64_t ntab_cap, ncal_cap;
    char *text; /* the file, tokenised in place: names point into it */
    void **blocks;
    int64_t nblocks, blocks_cap;
} vidur__owned_set;

VIDURDEF void vidur_table_set_free(vidur_table_set *set)
{
    vidur__owned_set *o = (vidur__owned_set *)set;
    int64_t i;
    if (!o) return;
    for (i = 0; i < o->nblocks; i++) VIDUR_FREE(o->blocks[i]);
    VIDUR_FREE(o->blocks);
    VIDUR_FREE(o->tables);
    VIDUR_FREE(o->cals);
    VIDUR_FREE(o->text);
    VIDUR_FREE(o);
}

static void *vidur__owned_alloc(vidur__owned_set *o, size_t bytes)
{
    void *p;
    if (!vidur__grow((void **)&o->blocks, &o->blocks_cap, o->nblocks + 1, sizeof(void *))) return NULL;
    p = VIDUR_MALLOC(bytes ? bytes : 1);
    if (p) o->blocks[o->nblocks++] = p;
    return p;
}

/* splits "key=value" attributes of a header line; returns the value or NULL */
static char *vidur__attr(char **toks, int ntok, const char *key)
{
    int i;
    size_t kl = strlen(key);
    for (i = 1; i < ntok; i++)
        if (!strncmp(toks[i], key, kl) && toks[i][kl] == '=') {
            char *v = toks[i] + kl + 1;
            return strcmp(v, "-") ? v : (char *)"";
        }
    return NULL;
}

static int vidur__parse_num(const char *tok, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(tok, &end);
    return end != tok && !*end && errno != ERANGE && *out == *out;
}

VIDURDEF vidur_result vidur_table_set_load(const char *path, vidur_table_set **out, vidur_error *err)
{
    vidur__owned_set *o;
    char *p, *line;
    int lineno = 0, have_header = 0;
    vidur_op_table *cur = NULL;
    int expect = 0; /* 0 none, 1 x, 2 y, 3 v, 4 terms */
    char **toks = NULL;
    int64_t tok_cap = 0;
    *out = NULL;
    o = (vidur__owned_set *)vidur__calloc(1, sizeof *o);
    if (!o) {
        vidur__set_error(err, VIDUR_ERR_MEMORY, "%s: out of memory", path);
        return VIDUR_ERR_MEMORY;
    }
    o->text = vidur__read_file(path, NULL, err);
    if (!o->text) {
        VIDUR_FREE(o);
        return err ? err->code : VIDUR_ERR_IO;
    }
#define VIDUR__TFAIL(...) do { vidur__set_error(err, VIDUR_ERR_PARSE, __VA_ARGS__); VIDUR_FREE(toks); vidur_table_set_free(&o->pub); return VIDUR_ERR_PARSE; } while (0)
    for (p = o->text; *p;) {
        int ntok = 0;
        char *q;
        line = p;
        q = strchr(p, '\n');
        if (q) { *q = 0; p = q + 1; } else p += strlen(p);
        lineno++;
        /* tokenise on blanks */
        for (q = line; *q;) {
            while (*q == ' ' || *q == '\t' || *q == '\r') *q++ = 0;
            if (!*q) break;
            if (!vidur__grow((void **)&toks, &tok_cap, ntok + 1, sizeof(char *))) VIDUR__TFAIL("%s:%d: out of memory", path, lineno);
            toks[ntok++] = q;
            while (*q && *q != ' ' && *q != '\t' && *q != '\r') q++;
        }
        if (ntok == 0 || toks[0][0] == '#') continue;
        if (!have_header) {
            if (ntok != 2 || strcmp(toks[0], "vidur-tables") || strcmp(toks[1], "1"))
                VIDUR__TFAIL("%s:%d: not a vidur table file (expected 'vidur-tables 1')", path, lineno);
            have_header = 1;
            continue;
        }
        if (!strcmp(toks[0], "provenance")) {
            o->pub.provenance = line + (toks[1 < ntok ? 1 : 0] - line);
            if (ntok < 2) o->pub.provenance = "";
            continue;
        }
        if (expect) {
            static const char *tags[] = {"", "x", "y", "v", "terms"};
            int64_t n = expect == 1 ? cur->nx : expect == 2 ? cur->ny : expect == 3 ? (int64_t)(cur->nx + 1) * (cur->ny + 1) : 3 * (int64_t)cur->nterms, i;
            if (strcmp(toks[0], tags[expect])) VIDUR__TFAIL("%s:%d: expected a '%s' line", path, lineno, tags[expect]);
            if (ntok - 1 != n) VIDUR__TFAIL("%s:%d: '%s' needs %lld numbers, found %d", path, lineno, tags[expect], (long long)n, ntok - 1);
            if (expect == 3) {
                float *v = (float *)vidur__owned_alloc(o, (size_t)n * sizeof(float));
                if (!v) VIDUR__TFAIL("%s:%d: out of memory", path, lineno);
                for (i = 0; i < n; i++) {
                    double d;
                    if (!vidur__parse_num(toks[i + 1], &d)) VIDUR__TFAIL("%s:%d: '%s' is not a number", path, lineno, toks[i + 1]);
                    v[i] = (float)d;
                }
                cur->v = v;
            } else {
                double *d = (double *)vidur__owned_alloc(o, (size_t)n * sizeof(double));
                if (!d) VIDUR__TFAIL("%s:%d: out of memory", path, lineno);
                for (i = 0; i < n; i++) {
                    if (!vidur__parse_num(toks[i + 1], &d[i])) VIDUR__TFAIL("%s:%d: '%s' is not a number", path, lineno, toks[i + 1]);
                    if (expect <= 2 && i > 0 && !(d[i] > d[i - 1])) VIDUR__TFAIL("%s:%d: thresholds must be strictly ascending", path, lineno);
                }
                if (expect == 1) cur->x = d;
                else if (expect == 2) cur->y = d;
                else cur->terms = d;
            }
            if (cur->kind == VIDUR_TABLE_POLY) expect = 0;
            else if (expect == 1) expect = cur->ny ? 2 : 3;
            else if (expect == 2) expect = 3;
            else expect = 0;
            continue;
        }
        if (!strcmp(toks[0], "table")) {
            const char *op = vidur__attr(toks, ntok, "op"), *pred = vidur__attr(toks, ntok, "predictor");
            const char *kind = vidur__attr(toks, ntok, "kind");
            double d;
            if (!vidur__grow((void **)&o->tables, &o->ntab_cap, o->pub.num_tables + 1, sizeof *o->tables)) VIDUR__TFAIL("%s:%d: out of memory", path, lineno);
            cur = &o->tables[o->pub.num_tables++];
            memset(cur, 0, sizeof *cur);
            if (!op || (cur->op = vidur__op_from_name(op)) < 0) VIDUR__TFAIL("%s:%d: field 'op': unknown operator '%s'", path, lineno, op ? op : "");
            if (!pred || (strcmp(pred, "random_forest") && strcmp(pred, "linear_regression")))
                VIDUR__TFAIL("%s:%d: field 'predictor': expected random_forest or linear_regression", path, lineno);
            cur->predictor = !strcmp(pred, "random_forest") ? VIDUR_PREDICTOR_RANDOM_FOREST : VIDUR_PREDICTOR_LINEAR_REGRESSION;
            if (!kind || (strcmp(kind, "grid") && strcmp(kind, "poly"))) VIDUR__TFAIL("%s:%d: field 'kind': expected grid or poly", path, lineno);
            cur->kind = !strcmp(kind, "grid") ? VIDUR_TABLE_GRID : VIDUR_TABLE_POLY;
            cur->device = vidur__attr(toks, ntok, "device");
            cur->model = vidur__attr(toks, ntok, "model");
            cur->node = vidur__attr(toks, ntok, "node");
            if (!cur->device || !cur->model || !cur->node) VIDUR__TFAIL("%s:%d: a table needs device=, model= and node= (use - for none)", path, lineno);
#define VIDUR__TNUM(name, dst, isint) do { const char *v_ = vidur__attr(toks, ntok, name); \
            if (!v_ || !vidur__parse_num(v_, &d)) VIDUR__TFAIL("%s:%d: field '%s': a number is required", path, lineno, name); \
            if (isint && (d != floor(d) || d < 0 || d > 1e8)) VIDUR__TFAIL("%s:%d: field '%s': a count is required", path, lineno, name); \
            dst; } while (0)
            VIDUR__TNUM("tp", cur->tp = (int)d, 1);
            VIDUR__TNUM("xmin", cur->xmin = d, 0);
            VIDUR__TNUM("xmax", cur->xmax = d, 0);
            VIDUR__TNUM("ymin", cur->ymin = d, 0);
            VIDUR__TNUM("ymax", cur->ymax = d, 0);
            if (vidur__attr(toks, ntok, "relative")) VIDUR__TNUM("relative", cur->relative = d != 0, 1);
            if (cur->kind == VIDUR_TABLE_POLY) {
                VIDUR__TNUM("nterms", cur->nterms = (int)d, 1);
                VIDUR__TNUM("sx", cur->sx = d, 0);
                VIDUR__TNUM("sy", cur->sy = d, 0);
                if (cur->sx == 0) VIDUR__TFAIL("%s:%d: field 'sx' must not be 0", path, lineno);
                expect = 4;
            } else {
                VIDUR__TNUM("nx", cur->nx = (int)d, 1);
                VIDUR__TNUM("ny", cur->ny = (int)d, 1);
                expect = cur->nx ? 1 : (cur->ny ? 2 : 3);
            }
            continue;
        }
        if (!strcmp(toks[0], "calibration")) {
            const char *op = vidur__attr(toks, ntok, "op");
            vidur_roofline_calibration *c;
            double d;
            if (!vidur__grow((void **)&o->cals, &o->ncal_cap, o->pub.num_calibrations + 1, sizeof *o->cals)) VIDUR__TFAIL("%s:%d: out of memory", path, lineno);
            c = &o->cals[o->pub.num_calibrations++];
            memset(c, 0, sizeof *c);
            if (!op || (c->op = vidur__op_from_name(op)) < 0) VIDUR__TFAIL("%s:%d: field 'op': unknown operator '%s'", path, lineno, op ? op : "");
            c->device = vidur__attr(toks, ntok, "device");
            if (!c->device) VIDUR__TFAIL("%s:%d: field 'device' is missing", path, lineno);
            VIDUR__TNUM("scale", c->scale = d, 0);
            VIDUR__TNUM("overhead_ms", c->overhead_ms = d, 0);
            continue;
        }
        VIDUR__TFAIL("%s:%d: unknown line '%s' (expected table, calibration or provenance)", path, lineno, toks[0]);
    }
    if (expect) VIDUR__TFAIL("%s:%d: the last table is incomplete", path, lineno);
    if (!have_header) VIDUR__TFAIL("%s:1: empty table file", path);
#undef VIDUR__TNUM
#undef VIDUR__TFAIL
    VIDUR_FREE(toks);
    o->pub.tables = o->tables;
    o->pub.calibrations = o->cals;
    if (!o->pub.provenance) o->pub.provenance = path;
    *out = &o->pub;
    return VIDUR_OK;
}

#ifdef VIDUR_TABLES
#include "vidur_tables.h"
static const vidur_table_set vidur__builtin_set = {VIDUR__TAB_COUNT, VIDUR__TAB_CALIB_COUNT, vidur__tab_list, vidur__tab_calib, vidur__tab_provenance};
#else
static const vidur_table_set vidur__builtin_set = {0, 0, NULL, NULL, "none (built without VIDUR_TABLES)"};
#endif

VIDURDEF const vidur_table_set *vidur_builtin_tables(void) { return &vidur__builtin_set; }

/* The predictor of one replica configuration: a table per operator where one matches,
   the (calibrated) roofline for the rest. */
typedef struct vidur__table_predictor {
    const vidur_op_table *t[VIDUR_OP_COUNT];
    vidur_roofline *roof;
    vidur_roofline ideal;   /* efficiencies 1, no launch overhead: the base of relative tables */
    double bytes_per_token; /* all_reduce / send_recv features are message sizes */
    int warned[VIDUR_OP_COUNT];
    int64_t out_of_range[VIDUR_OP_COUNT];
    const vidur_config *cfg; /* for the warning callback */
} vidur__table_predictor;

static double vidur__tp_features(const vidur__table_predictor *tp, int op, int64_t k1, int64_t k2, double *y)
{
    *y = 0;
    switch (op) {
    case VIDUR_OP_ATTN_DECODE: *y = (double)k2; return (double)k1;
    case VIDUR_OP_ATTN_PREFILL: *y = (double)k2 * (double)k2; return (double)k1;
    case VIDUR_OP_ALL_REDUCE:
    case VIDUR_OP_SEND_RECV: return (double)k1 * tp->bytes_per_token;
    default: return (double)k1;
    }
}

static double vidur__table_op_time_ms(void *state, int op, int64_t k1, int64_t k2)
{
    vidur__table_predictor *tp = (vidur__table_predictor *)state;
    const vidur_op_table *t = tp->t[op];
    double x, y, cx, cy, v;
    int64_t e1 = k1, e2 = k2;
    if (!t) return vidur_roofline_op_time_ms(tp->roof, op, k1, k2);
    x = vidur__tp_features(tp, op, k1, k2, &y);
    cx = x > t->xmax ? t->xmax : x;
    cy = t->ny && y > t->ymax ? t->ymax : y;
    v = vidur_op_table_eval(t, cx, cy);
    if (t->relative) {
        /* the multiplier of the edge cell times the ideal time at the key itself: beyond the
           profiled domain this is the roofline extrapolation, with no warning needed */
        if (cx != x || cy != y) tp->out_of_range[op]++;
        return v * vidur_roofline_op_time_ms(&tp->ideal, op, k1, k2);
    }
    if (cx == x && cy == y) return v;
    /* above the profiled domain: scale the edge value by the roofline's growth */
    tp->out_of_range[op]++;
    if (!tp->warned[op] && tp->cfg->log_fn) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s: key (%lld, %lld) is beyond the profiled range (x <= %g%s%g); extrapolating with the roofline",
                 vidur_op_name(op), (long long)k1, (long long)k2, t->xmax, t->ny ? ", y <= " : "", t->ny ? t->ymax : 0.0);
        tp->cfg->log_fn(tp->cfg->log_user, VIDUR_LOG_WARN, msg);
    }
    tp->warned[op] = 1;
    switch (op) {
    case VIDUR_OP_ATTN_DECODE: e1 = (int64_t)cx; e2 = (int64_t)cy; break;
    case VIDUR_OP_ATTN_PREFILL: e1 = (int64_t)cx; e2 = (int64_t)floor(sqrt(cy) + 0.5); break;
    case VIDUR_OP_ALL_REDUCE:
    case VIDUR_OP_SEND_RECV: e1 = (int64_t)floor(cx / tp->bytes_per_token); break;
    default: e1 = (int64_t)cx; break;
    }
    {
        double r_edge = vidur_roofline_op_time_ms(tp->roof, op, e1 < 1 ? 1 : e1, e2), r_key = vidur_roofline_op_time_ms(tp->roof, op, k1, k2);
        return r_edge > 0 ? v * r_key / r_edge : v;
    }
}

static int vidur__table_matches(const vidur_op_table *t, int predictor, int op, const char *device, const char *model,
                                const char *node, int tp)
{
    if (t->op != op || t->predictor != predictor || t->tp != tp) return 0;
    if (op == VIDUR_OP_ALL_REDUCE || op == VIDUR_OP_SEND_RECV) return !strcmp(t->node ? t->node : "", node);
    return !strcmp(t->device ? t->device : "", device) && !strcmp(t->model ? t->model : "", model);
}

/* picks the tables and calibrations for one replica configuration */
static void vidur__table_predictor_init(vidur__table_predictor *tp, const vidur_table_set *set, int predictor, const vidur_config *cfg,
                                        const vidur_model_spec *m, const vidur_node_spec *node, vidur_roofline *roof)
{
    int op, i;
    int multi_node = cfg->tensor_parallel_size * cfg->num_pipeline_stages > node->num_devices_per_node;
    memset(tp, 0, sizeof *tp);
    tp->roof = roof;
    tp->cfg = cfg;
    tp->ideal = *roof;
    tp->ideal.p.compute_efficiency = tp->ideal.p.attention_efficiency = tp->ideal.p.memory_efficiency = 1.0;
    tp->ideal.p.network_efficiency = 1.0;
    tp->ideal.p.kernel_launch_overhead_ms = 0;
    memset(tp->ideal.calibrated, 0, sizeof tp->ideal.calibrated);
    tp->bytes_per_token = 2.0 * m->embedding_dim;
    for (op = 0; op < VIDUR_OP_COUNT && set && predictor; op++) {
        int want_tp = op == VIDUR_OP_SEND_RECV ? (multi_node ? 1 : 2) : cfg->tensor_parallel_size;
        for (i = 0; i < set->num_tables; i++)
            if (vidur__table_matches(&set->tables[i], predictor, op, cfg->device, cfg->model_name, cfg->network_device, want_tp)) {
                tp->t[op] = &set->tables[i];
                break;
            }
    }
    for (i = 0; set && i < set->num_calibrations; i++) {
        const vidur_roofline_calibration *c = &set->calibrations[i];
        int net = c->op == VIDUR_OP_ALL_REDUCE || c->op == VIDUR_OP_SEND_RECV;
        if (c->op < 0 || c->op >= VIDUR_OP_COUNT || strcmp(c->device ? c->device : "", net ? cfg->network_device : cfg->device)) continue;
        roof->calibrated[c->op] = 1;
        roof->scale[c->op] = c->scale;
        roof->overhead_ms[c->op] = c->overhead_ms;
    }
}

/* ---- section: event queue ---------------------------------------------------------------------
   Binary min-heap ordered by (time, creation sequence) as upstream Vidur. Events are small values
   in one growable array: no allocation per event once the heap has reached its working size. */
enum {
    VIDUR__EV_GLOBAL_SCHEDULE = 1,
    VIDUR__EV_REPLICA_SCHEDULE,
    VIDUR__EV_BATCH_STAGE_ARRIVAL,
    VIDUR__EV_REPLICA_STAGE_SCHEDULE,
    VIDUR__EV_BATCH_STAGE_END,
    VIDUR__EV_BATCH_END
};

typedef struct vidur__batch_ex vidur__batch_ex;

typedef struct vidur__event {
    double time;
    uint64_t seq;
    int32_t type;
    int32_t replica;
    int32_t stage;
    vidur__batch_ex *batch;
} vidur__event;

typedef struct vidur__heap {
    vidur__event *ev;
    int64_t n, cap;
} vidur__heap;

static int vidur__ev_less(const vidur__event *a, const vidur__event *b)
{
    if (a->time != b->time) return a->time < b->time;
    return a->seq < b->seq;
}

static int vidur__heap_push(vidur__heap *h, const vidur__event *e)
{
    int64_t i;
    if (!vidur__grow((void **)&h->ev, &h->cap, h->n + 1, sizeof(vidur__event))) return 0;
    i = h->n++;
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!vidur__ev_less(e, &h->ev[p])) break;
        h->ev[i] = h->ev[p];
        i = p;
    }
    h->ev[i] = *e;
    return 1;
}

static void vidur__heap_pop(vidur__heap *h, vidur__event *out)
{
    vidur__event last;
    int64_t i = 0;
    *out = h->ev[0];
    last = h->ev[--h->n];
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && vidur__ev_less(&h->ev[c + 1], &h->ev[c])) c++;
        if (!vidur__ev_less(&h->ev[c], &last)) break;
        h->ev[i] = h->ev[c];
        i = c;
    }
    if (h->n > 0) h->ev[i] = last;
}

/* ---- section: request deque (scheduler queues) --------------------------------------------------- */
typedef struct vidur__deque {
    vidur_request **a;
    int64_t head, n, cap; /* ring buffer; cap is a power of two */
} vidur__deque;

static int vidur__dq_reserve(vidur__deque *d, int64_t need)
{
    int64_t nc, i;
    vidur_request **na;
    if (need <= d->cap) return 1;
    nc = d->cap ? d->cap * 2 : 16;
    while (nc < need) nc *= 2;
    na = (vidur_request **)VIDUR_MALLOC((size_t)nc * sizeof *na);
    if (!na) return 0;
    for (i = 0; i < d->n; i++) na[i] = d->a[(d->head + i) & (d->cap - 1)];
    VIDUR_FREE(d->a);
    d->a = na;
    d->cap = nc;
    d->head = 0;
    return 1;
}

#define VIDUR__DQ_AT(d, i) ((d)->a[((d)->head + (i)) & ((d)->cap - 1)])

static int vidur__dq_push_back(vidur__deque *d, vidur_request *q)
{
    if (!vidur__dq_reserve(d, d->n + 1)) return 0;
    VIDUR__DQ_AT(d, d->n) = q;
    d->n++;
    return 1;
}

static int vidur__dq_push_front(vidur__deque *d, vidur_request *q)
{
    if (!vidur__dq_reserve(d, d->n + 1)) return 0;
    d->head = (d->head - 1) & (d->cap - 1);
    d->a[d->head] = q;
    d->n++;
    return 1;
}

static vidur_request *vidur__dq_pop_front(vidur__deque *d)
{
    vidur_request *q = d->a[d->head];
    d->head = (d->head + 1) & (d->cap - 1);
    d->n--;
    return q;
}

static vidur_request *vidur__dq_pop_back(vidur__deque *d)
{
    d->n--;
    return VIDUR__DQ_AT(d, d->n);
}

/* stable sort by arrival time, or by prefill deadline (edf); the queue is almost always sorted
   already, so insertion sort is O(n) */
static double vidur__queue_key(const vidur_request *q, int edf) { return edf ? q->prefill_deadline_at : q->arrived_at; }

static void vidur__dq_sort_by_key(vidur__deque *d, int edf)
{
    int64_t i, j;
    for (i = 1; i < d->n; i++) {
        vidur_request *q = VIDUR__DQ_AT(d, i);
        double k = vidur__queue_key(q, edf);
        for (j = i; j > 0 && vidur__queue_key(VIDUR__DQ_AT(d, j - 1), edf) > k; j--) VIDUR__DQ_AT(d, j) = VIDUR__DQ_AT(d, j - 1);
        VIDUR__DQ_AT(d, j) = q;
    }
}

static void vidur__dq_free(vidur__deque *d)
{
    VIDUR_FREE(d->a);
    memset(d, 0, sizeof *d);
}

/* ---- section: entities ------------------------------------------------------------------------- */
struct vidur__batch_ex {
    vidur_batch pub;
    vidur_batch_shape shape;
    double stage_time[2], stage_model_time[2]; /* [0]: non-last stage, [1]: last stage */
    int have_stage_time;
    double stage_scheduled_at;
    vidur__batch_ex *next_free;
};

/* series average meter (workload_and_metrics.md §5), including Vidur's quirk that a segment
   starting at time 0 is never counted */
typedef struct vidur__meter {
    double prev_x, prev_y, num, den, min, max;
    int has;
} vidur__meter;

static void vidur__meter_init(vidur__meter *m)
{
    memset(m, 0, sizeof *m);
    m->has = 1; /* initial point (0, 0) */
}

static void vidur__meter_put(vidur__meter *m, double x, double y)
{
    if (m->prev_x != 0) {
        m->num += m->prev_y * (x - m->prev_x);
        m->den += x - m->prev_x;
    }
    m->prev_x = x;
    m->prev_y = y;
    if (y < m->min) m->min = y;
    if (y > m->max) m->max = y;
}

static double vidur__meter_mean(const vidur__meter *m) { return m->den > 0 ? m->num / m->den : 0; }

typedef struct vidur__stage {
    vidur__batch_ex **q; /* FIFO ring */
    int64_t head, n, cap;
    int busy;
    vidur__meter busy_meter, mfu_meter;
} vidur__stage;

struct vidur__kvm;
struct vidur_replica {
    vidur_replica_info info;
    vidur_sim *sim;
    const vidur_replica_scheduler_api *api;
    void *state;
    int64_t num_allocated_blocks, num_allocated_requests;
    int num_running_batches;
    vidur__stage *stages;
    vidur__meter mem_meter;
    struct vidur__kvm *kvm; /* the prefix-caching KV cache of vllm_v1, else NULL */
    int64_t prefix_cached_tokens, prefix_total_tokens; /* [F] replica_prefix_cache_metrics */
};

/* per-request output row, indexed by request id */
typedef struct vidur__row {
    double v[VIDUR_METRIC_BATCH_EXECUTION_TIME]; /* request-level metrics in enum order */
    uint8_t arrived, completed;
} vidur__row;

typedef struct vidur__req_chunk {
    struct vidur__req_chunk *next;
    vidur_request items[256];
} vidur__req_chunk;

/* DDSketch with a logarithmic mapping (what Vidur uses for batch metrics, relative accuracy
   0.001): bounded memory however many batches, quantiles within 0.1 % relative error. */
typedef struct vidur__sketch {
    int64_t *counts;  /* dense buckets [lo, lo + n) */
    int64_t lo, n;
    int64_t zeros, count;
    double sum, min, max, log_gamma, gamma;
    int32_t icache[4096]; /* bucket + 1 of small integers (token counts, batch sizes): skips log() */
} vidur__sketch;

static void vidur__sketch_init(vidur__sketch *k, double alpha)
{
    memset(k, 0, sizeof *k);
    k->gamma = 1.0 + 2.0 * alpha / (1.0 - alpha);
    k->log_gamma = log(k->gamma);
    k->min = DBL_MAX;
    k->max = -DBL_MAX;
}

static int vidur__sketch_add(vidur__sketch *k, double v)
{
    k->count++;
    k->sum += v;
    if (v < k->min) k->min = v;
    if (v > k->max) k->max = v;
    if (v <= DBL_MIN * k->gamma) {
        k->zeros++;
        return 1;
    }
    {
        int64_t b, nlo, nn, i;
        int iv = (int)v;
        if (v < 4096 && (double)iv == v) {
            if (!k->icache[iv]) k->icache[iv] = (int32_t)ceil(log(v) / k->log_gamma) + 1;
            b = k->icache[iv] - 1;
        } else {
            b = (int64_t)ceil(log(v) / k->log_gamma);
        }
        if (k->n == 0) {
            k->counts = (int64_t *)vidur__calloc(64, sizeof(int64_t));
            if (!k->counts) return 0;
            k->lo = b - 32;
            k->n = 64;
        }
        if (b < k->lo || b >= k->lo + k->n) {
            int64_t *nc;
            nlo = b < k->lo ? b - k->n : k->lo;
            nn = (b >= k->lo + k->n ? b + k->n : k->lo + k->n) - nlo;
            nc = (int64_t *)vidur__calloc((size_t)nn, sizeof(int64_t));
            if (!nc) return 0;
            for (i = 0; i < k->n; i++) nc[k->lo - nlo + i] = k->counts[i];
            VIDUR_FREE(k->counts);
            k->counts = nc;
            k->lo = nlo;
            k->n = nn;
        }
        k->counts[b - k->lo]++;
    }
    return 1;
}

static double vidur__sketch_quantile(const vidur__sketch *k, double q)
{
    double rank;
    int64_t i, cum = 0;
    if (k->count == 0) return 0;
    rank = q * (double)(k->count - 1);
    if (rank < (double)k->zeros) return 0;
    for (i = 0; i < k->n; i++) {
        cum += k->counts[i];
        if ((double)cum > rank - (double)k->zeros) return pow(k->gamma, (double)(k->lo + i)) * 2.0 / (1.0 + k->gamma);
    }
    return k->max;
}

/* memo of stage times by batch key: direct-mapped, so memory is bounded and a collision only
   costs a recomputation (the value is a pure function of the key) */
#define VIDUR__MEMO_SIZE 65536
typedef struct vidur__memo_entry {
    int64_t key[6];
    double total[2], model[2];
    int valid;
} vidur__memo_entry;

struct vidur_sim {
    vidur_config cfg;
    vidur__memo_entry *memo;
    vidur_error error;
    const vidur_model_spec *model;
    const vidur_device_spec *device;
    const vidur_node_spec *node;
    vidur_memory_plan plan;
    const vidur_replica_scheduler_params *rparams;
    vidur_predictor_api predictor;
    vidur_roofline roofline;
    vidur__table_predictor tpred;
    vidur_table_set *user_tables; /* loaded from table_file, owned */
    const vidur_predictor_params *pparams;
    vidur__workload workload;
    vidur_request *next_arrival; /* generated, not yet arrived */
    vidur__heap heap;
    uint64_t seq;
    double now;
    int terminated, finished, failed;
    int num_replicas;
    vidur_replica *replicas;
    /* global scheduler */
    const vidur_global_scheduler_api *gapi;
    void *gstate;
    vidur__deque global_queue;
    int32_t *touched; /* replicas touched by the current global schedule */
    uint8_t *touched_flag;
    vidur__mt sched_rng; /* CPython-compatible stream of the random router */
    /* pools */
    vidur__req_chunk *req_chunks;
    vidur_request *free_requests;
    vidur__batch_ex *free_batches;
    vidur__batch_ex **all_batches;
    int64_t num_all_batches, cap_all_batches;
    int64_t next_batch_id;
    /* metrics */
    vidur__row *rows;
    int64_t rows_cap, max_request_id;
    double last_arrival_time;
    int64_t num_arrived, num_completed, num_batches, num_events, num_restarts, output_tokens;
    double first_arrival, last_completion;
    vidur__sketch batch_metric[5];
    vidur_summary summary;
    vidur_replica_utilization *util;
    FILE *trace; /* chrome trace temp file, or NULL */
    int trace_first;
    int64_t arrivals_created;
};

/* ---- request state transitions (simulator.md §2.1) ---- */
static void vidur__req_on_batch_schedule(vidur_request *q, double t)
{
    q->latest_iteration_scheduled_at = t;
    q->latest_iteration_scheduling_delay = t - q->latest_iteration_completed_at;
    if (q->scheduled) return;
    if (q->num_restarts > 0) { q->scheduled = 1; return; }
    q->scheduled_at = t;
    q->scheduling_delay = t - q->arrived_at;
    q->scheduled = 1;
}

static void vidur__req_on_stage_schedule(vidur_request *q, double t)
{
    q->latest_stage_scheduled_at = t;
    if (q->latest_stage_completed_at == 0) q->preempted_time = 0;
    else q->preempted_time += t - q->latest_stage_completed_at;
    q->preempted = 0;
}

static void vidur__req_on_stage_end(vidur_request *q, double t, double exec, double model_exec)
{
    q->execution_time += exec;
    q->model_execution_time += model_exec;
    q->latest_stage_completed_at = t;
    q->preempted = 1;
}

static void vidur__req_on_batch_end(vidur_request *q, double t, int32_t n)
{
    q->num_processed_tokens += n;
    q->latest_iteration_completed_at = t;
    VIDUR_ASSERT(q->num_processed_tokens <= q->num_prefill_tokens + q->num_decode_tokens);
    if (q->num_processed_tokens == q->num_prefill_tokens) {
        q->is_prefill_complete = 1;
        q->num_processed_tokens++; /* the prefill iteration also yields the first output token */
        if (q->prefill_completed_at == 0) q->prefill_completed_at = t;
    }
    if (q->num_processed_tokens == q->num_prefill_tokens + q->num_decode_tokens) {
        q->completed_at = t;
        q->completed = 1;
    }
}

VIDURDEF void vidur_request_restart(vidur_request *q)
{
    int32_t total = q->num_prefill_tokens + q->num_decode_tokens;
    q->num_prefill_tokens = q->num_processed_tokens;
    q->num_decode_tokens = total - q->num_prefill_tokens;
    q->num_processed_tokens = 0;
    q->scheduled = q->preempted = q->completed = q->is_prefill_complete = 0;
    q->num_restarts++;
}

/* ---- replica framework: KV accounting shared by all replica schedulers ---- */
VIDURDEF const vidur_replica_info *vidur_replica_get_info(const vidur_replica *r) { return &r->info; }
VIDURDEF int vidur_replica_can_allocate(const vidur_replica *r, int64_t n) { return r->info.num_blocks - r->num_allocated_blocks >= n; }
VIDURDEF int64_t vidur_replica_num_allocated_blocks(const vidur_replica *r) { return r->num_allocated_blocks; }
VIDURDEF int64_t vidur_replica_num_allocated_requests(const vidur_replica *r) { return r->num_allocated_requests; }
VIDURDEF int vidur_replica_num_running_batches(const vidur_replica *r) { return r->num_running_batches; }

VIDURDEF void vidur_replica_allocate(vidur_replica *r, vidur_request *q, int64_t n)
{
    r->num_allocated_blocks += n;
    if (q->num_allocated < 0) {
        q->num_allocated = 0;
        r->num_allocated_requests++;
    }
    q->num_allocated += n;
    VIDUR_ASSERT(r->num_allocated_blocks <= r->info.num_blocks);
}

VIDURDEF void vidur_replica_free(vidur_replica *r, vidur_request *q)
{
    VIDUR_ASSERT(q->num_allocated >= 0);
    if (q->num_allocated < 0) return;
    r->num_allocated_blocks -= q->num_allocated;
    r->num_allocated_requests--;
    q->num_allocated = -1;
}

VIDURDEF int vidur_batch_add(vidur_batch *b, vidur_request *q, int32_t n)
{
    if (b->size == b->capacity) {
        int32_t nc = b->capacity ? b->capacity * 2 : 64;
        vidur_request **nr = (vidur_request **)VIDUR_REALLOC(b->requests, (size_t)nc * sizeof *nr);
        int32_t *nt;
        if (!nr) return 0;
        b->requests = nr;
        nt = (int32_t *)VIDUR_REALLOC(b->num_tokens, (size_t)nc * sizeof *nt);
        if (!nt) return 0;
        b->num_tokens = nt;
        b->capacity = nc;
    }
    b->requests[b->size] = q;
    b->num_tokens[b->size] = n;
    b->size++;
    b->total_num_tokens += n;
    if (q->is_prefill_complete) b->num_decode_tokens += n;
    else b->num_prefill_tokens += n;
    return 1;
}

VIDURDEF int vidur_sim_num_replicas(const vidur_sim *s) { return s->num_replicas; }
VIDURDEF vidur_replica *vidur_sim_replica(vidur_sim *s, int i) { return i >= 0 && i < s->num_replicas ? &s->replicas[i] : NULL; }
VIDURDEF int64_t vidur_replica_num_pending_requests(const vidur_replica *r)
{
    return r->api->num_pending_requests ? r->api->num_pending_requests(r->state) : 0;
}
VIDURDEF double vidur_sim_random(vidur_sim *s) { return vidur__mt_random(&s->sched_rng); }
VIDURDEF double vidur_sim_now(const vidur_sim *s) { return s->now; }

VIDURDEF void vidur_sim_stage_time(vidur_sim *s, const vidur_batch_shape *shape, int stage, vidur_stage_time *out)
{
    vidur_stage_time_compute(&s->predictor, s->model, s->pparams, s->cfg.tensor_parallel_size, s->cfg.num_pipeline_stages, stage, shape, out);
}

VIDURDEF const char *vidur_sim_op_source(const vidur_sim *s, int op)
{
    if (op < 0 || op >= VIDUR_OP_COUNT) return "?";
    if (s->tpred.t[op]) return s->tpred.t[op]->predictor == VIDUR_PREDICTOR_LINEAR_REGRESSION ? "linear_regression" : "random_forest";
    return s->roofline.calibrated[op] ? "calibrated roofline" : "roofline";
}
VIDURDEF const vidur_error *vidur_sim_error(const vidur_sim *s) { return &s->error; }
VIDURDEF const vidur_config *vidur_sim_config(const vidur_sim *s) { return &s->cfg; }


/* ---- section: KV cache manager with prefix caching (schedulers.md §4, [F]) ----------------------
   A pool of blocks with reference counts; a free queue (doubly linked, in id order at start)
   holds every block with no reference, cached or not, so cached blocks stay reusable until they
   are taken for new data (lazy eviction, LRU order; a sequence's tail is freed first). Block
   hashes come from the trace's block_hash_ids; a hash may map to several blocks, the first
   inserted is used. */
typedef struct vidur__kvb {
    uint32_t stamp;       /* bumped at every free: matches the block's one live free-queue entry */
    int32_t ref;
    int32_t hnext;        /* next block with the same hash, in insertion order */
    int64_t hash;
    uint8_t has_hash, in_free;
} vidur__kvb;

typedef struct vidur__kvm_entry {
    int64_t key;
    int32_t first; /* first block with this hash, -1 = empty slot */
    int32_t pad;
} vidur__kvm_entry;

typedef struct vidur__kvm {
    vidur__kvb *b;
    int32_t n;
    int64_t free_count;
    /* The free queue, with lazy deletion: a ring of (block, stamp) in LRU order. Taking a cached
       block back out only clears its in_free flag (no neighbours to touch: one cache line);
       stale entries are skipped when they reach the front, and the ring is compacted when full. */
    int32_t *fq_id;
    uint32_t *fq_stamp;
    int64_t fq_head, fq_count, fq_cap;
    vidur__kvm_entry *h;  /* open addressing, linear probing, backward-shift deletion; one
                             array of 16-byte entries so a probe costs one cache line */
    int64_t hcap, hcount;
    int caching, block_size, prealloc_blocks;
    int block_shift;      /* log2(block_size) when it is a power of two, else -1 */
    int64_t stat_requests, stat_queries, stat_hits;
} vidur__kvm;

static uint64_t vidur__mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static void vidur__kvm_free(vidur__kvm *k)
{
    VIDUR_FREE(k->b);
    VIDUR_FREE(k->h);
    VIDUR_FREE(k->fq_id);
    VIDUR_FREE(k->fq_stamp);
    memset(k, 0, sizeof *k);
}

static int vidur__kvm_init(vidur__kvm *k, int64_t num_blocks, int block_size, int caching, int prealloc_tokens)
{
    int64_t i;
    memset(k, 0, sizeof *k);
    if (num_blocks <= 0 || num_blocks > 2000000000) return 0;
    k->n = (int32_t)num_blocks;
    k->b = (vidur__kvb *)vidur__calloc((size_t)k->n, sizeof *k->b);
    if (!k->b) return 0;
    k->fq_cap = 64;
    while (k->fq_cap < 2 * (int64_t)k->n) k->fq_cap *= 2;
    k->fq_id = (int32_t *)VIDUR_MALLOC((size_t)k->fq_cap * sizeof *k->fq_id);
    k->fq_stamp = (uint32_t *)VIDUR_MALLOC((size_t)k->fq_cap * sizeof *k->fq_stamp);
    if (!k->fq_id || !k->fq_stamp) {
        vidur__kvm_free(k);
        return 0;
    }
    for (i = 0; i < k->n; i++) { /* every block free, in id order */
        k->b[i].hnext = -1;
        k->b[i].in_free = 1;
        k->fq_id[i] = (int32_t)i;
        k->fq_stamp[i] = 0;
    }
    k->fq_count = k->n;
    k->free_count = k->n;
    k->caching = caching;
    k->block_size = block_size;
    k->block_shift = -1;
    for (i = 0; i < 31; i++)
        if ((1 << i) == block_size) k->block_shift = (int)i;
    k->prealloc_blocks = (int)vidur__ceil_div(prealloc_tokens, block_size);
    if (caching) {
        k->hcap = 1024;
        while (k->hcap < 2 * (int64_t)k->n) k->hcap *= 2;
        k->h = (vidur__kvm_entry *)VIDUR_MALLOC((size_t)k->hcap * sizeof *k->h);
        if (!k->h) {
            vidur__kvm_free(k);
            return 0;
        }
        for (i = 0; i < k->hcap; i++) k->h[i].first = -1;
    }
    return 1;
}

static int64_t vidur__kvm_home(const vidur__kvm *k, int64_t hash)
{
    return (int64_t)(vidur__mix64((uint64_t)hash) & (uint64_t)(k->hcap - 1));
}

static int64_t vidur__kvm_slot(const vidur__kvm *k, int64_t hash)
{
    int64_t i = vidur__kvm_home(k, hash);
    while (k->h[i].first >= 0 && k->h[i].key != hash) i = (i + 1) & (k->hcap - 1);
    return i;
}

static int32_t vidur__kvm_lookup(const vidur__kvm *k, int64_t hash)
{
    return k->h[vidur__kvm_slot(k, hash)].first;
}

static void vidur__kvm_map_add(vidur__kvm *k, int64_t hash, int32_t blk)
{
    int64_t i = vidur__kvm_slot(k, hash);
    k->b[blk].hash = hash;
    k->b[blk].has_hash = 1;
    k->b[blk].hnext = -1;
    if (k->h[i].first < 0) {
        k->h[i].key = hash;
        k->h[i].first = blk;
        k->hcount++;
    } else {
        int32_t c = k->h[i].first;
        while (k->b[c].hnext >= 0) c = k->b[c].hnext;
        k->b[c].hnext = blk; /* duplicates go last: lookups keep returning the first inserted */
    }
}

/* evicts one block's hash; the map entry goes when its last block does */
static void vidur__kvm_evict(vidur__kvm *k, int32_t blk)
{
    int64_t i = vidur__kvm_slot(k, k->b[blk].hash), j;
    VIDUR_ASSERT(k->h[i].first >= 0);
    if (k->h[i].first == blk) {
        k->h[i].first = k->b[blk].hnext;
    } else {
        int32_t c = k->h[i].first;
        while (c >= 0 && k->b[c].hnext != blk) c = k->b[c].hnext;
        if (c >= 0) k->b[c].hnext = k->b[blk].hnext;
    }
    k->b[blk].has_hash = 0;
    k->b[blk].hnext = -1;
    if (k->h[i].first >= 0) return;
    /* the slot is now empty: backward-shift deletion keeps probe chains intact */
    k->hcount--;
    j = i;
    for (;;) {
        int64_t h;
        j = (j + 1) & (k->hcap - 1);
        if (k->h[j].first < 0) break;
        h = vidur__kvm_home(k, k->h[j].key);
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            k->h[i] = k->h[j];
            k->h[j].first = -1;
            i = j;
        }
    }
}

static void vidur__kvm_unlink(vidur__kvm *k, int32_t blk)
{
    k->b[blk].in_free = 0; /* its queue entry goes stale */
    k->free_count--;
}

static void vidur__kvm_append(vidur__kvm *k, int32_t blk)
{
    int64_t i;
    if (k->fq_count == k->fq_cap) {
        /* full of stale entries (live ones <= n <= cap / 2): keep the live ones, in order */
        int64_t j = 0;
        for (i = 0; i < k->fq_count; i++) {
            int64_t at = (k->fq_head + i) & (k->fq_cap - 1);
            int32_t id = k->fq_id[at];
            if (k->b[id].in_free && k->b[id].stamp == k->fq_stamp[at]) {
                int64_t to = (k->fq_head + j) & (k->fq_cap - 1);
                k->fq_id[to] = id;
                k->fq_stamp[to] = k->fq_stamp[at];
                j++;
            }
        }
        k->fq_count = j;
    }
    k->b[blk].stamp++;
    k->b[blk].in_free = 1;
    i = (k->fq_head + k->fq_count) & (k->fq_cap - 1);
    k->fq_id[i] = blk;
    k->fq_stamp[i] = k->b[blk].stamp;
    k->fq_count++;
    k->free_count++;
}

/* removes and returns the least recently freed block (free_count > 0) */
static int32_t vidur__kvm_pop_front(vidur__kvm *k)
{
    for (;;) {
        int32_t id = k->fq_id[k->fq_head];
        uint32_t st = k->fq_stamp[k->fq_head];
        k->fq_head = (k->fq_head + 1) & (k->fq_cap - 1);
        k->fq_count--;
        if (k->b[id].in_free && k->b[id].stamp == st) {
            k->b[id].in_free = 0;
            k->free_count--;
            return id;
        }
    }
}

static int vidur__req_push_block(vidur_request *q, int32_t blk)
{
    if (q->kv_nblocks == q->kv_cap) {
        int32_t nc = q->kv_cap ? q->kv_cap * 2 : 16;
        int32_t *nb = (int32_t *)VIDUR_REALLOC(q->kv_blocks, (size_t)nc * sizeof *nb);
        if (!nb) return 0;
        q->kv_blocks = nb;
        q->kv_cap = nc;
    }
    q->kv_blocks[q->kv_nblocks++] = blk;
    return 1;
}

/* leading cached blocks of q's hash list (no statistics: what a router may ask) */
static int32_t vidur__kvm_peek_hits(const vidur__kvm *k, const vidur_request *q, int32_t *out, int32_t max)
{
    int32_t i, n = 0;
    if (!k->caching) return 0;
    for (i = 0; i < q->num_block_hash_ids && n < max; i++) {
#if defined(__GNUC__) || defined(__clang__)
        /* the walk is a chain of cache misses: fetch a few slots ahead (a hint, no semantics) */
        if (i + 8 < q->num_block_hash_ids)
            __builtin_prefetch(&k->h[vidur__kvm_home(k, q->block_hash_ids[i + 8])]);
#endif
        int32_t blk = vidur__kvm_lookup(k, q->block_hash_ids[i]);
        if (blk < 0) break;
        if (out) out[n] = blk;
        n++;
    }
    return n;
}

/* get_computed_blocks: hits in hash order, counted in the cache statistics */
static int32_t vidur__kvm_computed_blocks(vidur__kvm *k, const vidur_request *q, int32_t *out, int32_t max)
{
    int32_t n;
    if (!k->caching) return 0;
    n = vidur__kvm_peek_hits(k, q, out, max);
    k->stat_requests++;
    k->stat_queries += q->num_block_hash_ids;
    k->stat_hits += n;
    return n;
}

static int vidur__kvm_allocate(vidur__kvm *k, vidur_request *q, int64_t n, const int32_t *hits, int32_t nhits)
{
    int64_t computed = q->num_processed_tokens + (int64_t)nhits * k->block_size, end = computed + n;
    int64_t required, fresh, evictable = 0, take, i, full_after, before;
    if (k->block_shift >= 0) { /* the decode path runs once per request per iteration: no divisions */
        required = (end + k->block_size - 1) >> k->block_shift;
        full_after = end >> k->block_shift;
    } else {
        required = vidur__ceil_div(end, k->block_size);
        full_after = end / k->block_size;
    }
    fresh = required - q->kv_nblocks - nhits;
    if (nhits == 0 && fresh <= 0 && (!k->caching || full_after <= q->kv_cached_memo))
        return 1; /* the common decode step: room in the blocks held, no block newly full */
    for (i = 0; i < nhits; i++) evictable += k->b[hits[i]].ref == 0;
    if (fresh > k->free_count - evictable) return 0;
    for (i = 0; i < nhits; i++) {
        if (k->b[hits[i]].ref == 0) vidur__kvm_unlink(k, hits[i]);
        k->b[hits[i]].ref++;
        if (!vidur__req_push_block(q, hits[i])) return 0;
    }
    if (fresh > 0) {
        take = fresh + k->prealloc_blocks;
        if (take > k->free_count) take = k->free_count;
        for (i = 0; i < take; i++) {
            int32_t blk = vidur__kvm_pop_front(k);
            if (k->b[blk].has_hash) vidur__kvm_evict(k, blk);
            k->b[blk].ref = 1;
            if (!vidur__req_push_block(q, blk)) return 0;
        }
    }
    if (k->caching) {
        before = q->kv_cached_memo >= 0 ? q->kv_cached_memo : nhits;
        for (i = before; i < full_after && i < q->num_block_hash_ids && i < q->kv_nblocks; i++)
            if (!k->b[q->kv_blocks[i]].has_hash) vidur__kvm_map_add(k, q->block_hash_ids[i], q->kv_blocks[i]);
        q->kv_cached_memo = (int32_t)full_after;
    }
    return 1;
}

static void vidur__kvm_release(vidur__kvm *k, vidur_request *q)
{
    int32_t i;
    /* tail first, so a sequence's last blocks are evicted before its prefix */
    for (i = q->kv_nblocks - 1; i >= 0; i--) {
        int32_t blk = q->kv_blocks[i];
        if (--k->b[blk].ref == 0) vidur__kvm_append(k, blk);
    }
    q->kv_nblocks = 0;
    q->kv_cached_memo = -1;
}

static double vidur__kvm_usage(const vidur__kvm *k) { return k->n ? 1.0 - (double)k->free_count / (double)k->n : 0; }

VIDURDEF double vidur_replica_kv_usage_percent(const vidur_replica *r)
{
    if (r->api->memory_usage_percent) return r->api->memory_usage_percent(r->state);
    return r->info.num_blocks ? (double)r->num_allocated_blocks * 100.0 / (double)r->info.num_blocks : 0;
}

VIDURDEF int64_t vidur_replica_prefix_cache_lookup(const vidur_replica *r, const vidur_request *q)
{
    int64_t blocks;
    if (!r->kvm || !r->kvm->caching) return 0;
    blocks = vidur__kvm_peek_hits(r->kvm, q, NULL, q->num_block_hash_ids);
    if (blocks * r->kvm->block_size > q->num_prefill_tokens) blocks = q->num_prefill_tokens / r->kvm->block_size;
    return blocks * r->kvm->block_size;
}

/* ---- vllm_v1 replica scheduler (schedulers.md §3.6, [F]) ---------------------------------------- */
typedef struct vidur__v1 {
    vidur_replica *r;
    vidur__kvm kv;
    vidur_request **waiting; /* binary heap by (arrived_at, id) */
    int64_t nwait, capwait;
    vidur_request **running; /* admission order */
    int64_t nrun, caprun;
    int32_t *hits;
    int64_t caphits;
    int chunk_size, cap;
} vidur__v1;

static int vidur__v1_less(const vidur_request *a, const vidur_request *b)
{
    return a->arrived_at < b->arrived_at || (a->arrived_at == b->arrived_at && a->id < b->id);
}

static int vidur__v1_push(vidur__v1 *s, vidur_request *q)
{
    int64_t i;
    if (!vidur__grow((void **)&s->waiting, &s->capwait, s->nwait + 1, sizeof *s->waiting)) return 0;
    i = s->nwait++;
    while (i > 0 && vidur__v1_less(q, s->waiting[(i - 1) / 2])) {
        s->waiting[i] = s->waiting[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->waiting[i] = q;
    return 1;
}

static vidur_request *vidur__v1_pop(vidur__v1 *s)
{
    vidur_request *top = s->waiting[0], *last = s->waiting[--s->nwait];
    int64_t i = 0;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= s->nwait) break;
        if (c + 1 < s->nwait && vidur__v1_less(s->waiting[c + 1], s->waiting[c])) c++;
        if (!vidur__v1_less(s->waiting[c], last)) break;
        s->waiting[i] = s->waiting[c];
        i = c;
    }
    if (s->nwait > 0) s->waiting[i] = last;
    return top;
}

static void *vidur__v1_create(vidur_replica *r, void *user)
{
    vidur__v1 *s = (vidur__v1 *)vidur__calloc(1, sizeof *s);
    const vidur_config *cfg = &r->sim->cfg;
    (void)user;
    if (!s) return NULL;
    s->r = r;
    s->chunk_size = r->info.params->chunk_size;
    s->cap = r->info.params->batch_size_cap;
    if (!vidur__kvm_init(&s->kv, r->info.num_blocks, r->info.block_size, cfg->enable_prefix_caching, cfg->num_preallocate_tokens)) {
        VIDUR_FREE(s);
        return NULL;
    }
    r->kvm = &s->kv;
    return s;
}

static void vidur__v1_destroy(void *state)
{
    vidur__v1 *s = (vidur__v1 *)state;
    if (!s) return;
    vidur__kvm_free(&s->kv);
    VIDUR_FREE(s->waiting);
    VIDUR_FREE(s->running);
    VIDUR_FREE(s->hits);
    VIDUR_FREE(s);
}

static void vidur__v1_add(void *state, vidur_request *q) { vidur__v1_push((vidur__v1 *)state, q); }

static int vidur__v1_next(void *state, vidur_batch *b, vidur_error *err)
{
    vidur__v1 *s = (vidur__v1 *)state;
    int64_t budget = s->chunk_size, i = 0;
    int preempted = 0;
    (void)err;
    /* 1. running requests, in admission order */
    while (i < s->nrun && budget > 0) {
        vidur_request *q = s->running[i];
        int64_t n;
        if (q->v1_scheduled) { i++; continue; }
        n = q->is_prefill_complete ? 1 : q->num_prefill_tokens - q->num_processed_tokens;
        if (n > budget) n = budget;
        VIDUR_ASSERT(n > 0);
        for (;;) {
            vidur_request *v;
            if (vidur__kvm_allocate(&s->kv, q, n, NULL, 0)) {
                vidur_batch_add(b, q, (int32_t)n);
                q->v1_scheduled = 1;
                budget -= n;
                i++;
                break;
            }
            /* out of blocks: the most recently admitted request is restarted */
            v = s->running[--s->nrun];
            vidur__kvm_release(&s->kv, v);
            vidur_request_restart(v);
            vidur__v1_push(s, v);
            preempted = 1;
            if (v == q) goto done_running;
        }
    }
done_running:
    /* 2. waiting requests, only when nothing was preempted */
    while (!preempted && s->nwait && budget > 0) {
        vidur_request *q = s->waiting[0];
        int32_t nhits;
        int64_t c, n;
        if (s->nrun >= s->cap) break;
        if (!vidur__grow((void **)&s->hits, &s->caphits, q->num_block_hash_ids + 1, sizeof *s->hits)) return -1;
        nhits = vidur__kvm_computed_blocks(&s->kv, q, s->hits, q->num_block_hash_ids);
        /* never more hits than the prompt's full blocks (the list also covers the output) */
        if ((int64_t)nhits * s->kv.block_size > q->num_prefill_tokens) nhits = q->num_prefill_tokens / s->kv.block_size;
        c = (int64_t)nhits * s->kv.block_size;
        n = q->num_prefill_tokens - c;
        if (n == 0) { /* a full hit still recomputes the last block */
            nhits--;
            c -= s->kv.block_size;
            n = s->kv.block_size;
        }
        if (n > budget) n = budget;
        VIDUR_ASSERT(n > 0);
        if (!vidur__kvm_allocate(&s->kv, q, n, s->hits, nhits)) break;
        vidur__v1_pop(s);
        if (!vidur__grow((void **)&s->running, &s->caprun, s->nrun + 1, sizeof *s->running)) return -1;
        s->running[s->nrun++] = q;
        q->v1_scheduled = 1;
        if (!q->v1_counted) { /* [F]: prompt tokens of requests first scheduled on the replica */
            q->v1_counted = 1;
            s->r->prefix_total_tokens += q->num_prefill_tokens;
        }
        vidur_batch_add(b, q, (int32_t)n);
        budget -= n;
        q->num_processed_tokens = (int32_t)c; /* on_cache_hit */
        q->num_prefill_tokens_cached = (int32_t)c;
    }
    return b->size > 0;
}

static void vidur__v1_on_batch_end(void *state, vidur_batch *b)
{
    vidur__v1 *s = (vidur__v1 *)state;
    int64_t i, k = 0;
    int32_t j;
    for (j = 0; j < b->size; j++) {
        vidur_request *q = b->requests[j];
        q->v1_scheduled = 0;
        if (q->completed) {
            vidur__kvm_release(&s->kv, q);
            s->r->prefix_cached_tokens += q->num_prefill_tokens_cached;
        }
    }
    for (i = 0; i < s->nrun; i++)
        if (!s->running[i]->completed) s->running[k++] = s->running[i];
    s->nrun = k;
}

static int vidur__v1_is_empty(void *state)
{
    vidur__v1 *s = (vidur__v1 *)state;
    return s->nwait == 0 && s->nrun == 0;
}

static int64_t vidur__v1_pending(void *state) { return ((vidur__v1 *)state)->nwait; }

static double vidur__v1_memory(void *state) { return vidur__kvm_usage(&((vidur__v1 *)state)->kv) * 100.0; }

VIDURDEF int64_t vidur_replica_num_running_requests(const vidur_replica *r)
{
    if (r->kvm) return ((const vidur__v1 *)r->state)->nrun;
    return r->num_allocated_requests;
}

static const vidur_replica_scheduler_api vidur__v1_api = {
    "vllm_v1", vidur__v1_create, vidur__v1_destroy, vidur__v1_add, vidur__v1_next, vidur__v1_on_batch_end,
    vidur__v1_is_empty, vidur__v1_pending, vidur__v1_memory, NULL};

/* ---- section: replica schedulers (schedulers.md §3, upstream) -----------------------------------
   All built-ins go through the same vidur_replica_scheduler_api a plug-in uses. */
enum { VIDUR__RS_VLLM, VIDUR__RS_SARATHI, VIDUR__RS_ORCA, VIDUR__RS_FT, VIDUR__RS_LIGHTLLM };

typedef struct vidur__ft_record {
    vidur_request **reqs;
    int32_t n, cap;
    int64_t retained_blocks; /* blocks of members that finished early (kept until the batch ends) */
} vidur__ft_record;

typedef struct vidur__cache_len {
    int64_t processed, remaining;
} vidur__cache_len;

typedef struct vidur__rs {
    vidur_replica *r;
    int kind;
    const vidur_replica_scheduler_params *p;
    vidur__deque queue;     /* request_queue: new and restarted requests */
    vidur__deque preempted; /* running requests between iterations ("preempted_requests") */
    vidur__deque scratch_a, scratch_b;
    int64_t max_micro_batch_size;
    /* faster_transformer */
    vidur__ft_record *ft;
    int64_t ft_head, ft_n, ft_cap;
    int edf; /* request_queue_config_type edf (sarathi): queue by prefill deadline */
    /* lightllm */
    int num_waiting_iters;
    vidur__cache_len *cl;
    int64_t cl_n, cl_cap;
} vidur__rs;

static void *vidur__rs_create(vidur_replica *r, void *user)
{
    vidur__rs *s = (vidur__rs *)vidur__calloc(1, sizeof *s);
    if (!s) return NULL;
    s->r = r;
    s->kind = (int)(intptr_t)user;
    s->p = r->info.params;
    s->max_micro_batch_size = r->info.batch_size_cap / r->info.num_pipeline_stages;
    s->edf = s->kind == VIDUR__RS_SARATHI && !strcmp(r->sim->cfg.request_queue_type, "edf");
    if (s->kind == VIDUR__RS_FT) {
        s->ft_cap = r->info.num_pipeline_stages + 1;
        s->ft = (vidur__ft_record *)vidur__calloc((size_t)s->ft_cap, sizeof *s->ft);
        if (!s->ft) { VIDUR_FREE(s); return NULL; }
    }
    return s;
}

static void vidur__rs_destroy(void *state)
{
    vidur__rs *s = (vidur__rs *)state;
    int64_t i;
    if (!s) return;
    vidur__dq_free(&s->queue);
    vidur__dq_free(&s->preempted);
    vidur__dq_free(&s->scratch_a);
    vidur__dq_free(&s->scratch_b);
    for (i = 0; i < s->ft_cap; i++) VIDUR_FREE(s->ft[i].reqs);
    VIDUR_FREE(s->ft);
    VIDUR_FREE(s->cl);
    VIDUR_FREE(s);
}

static void vidur__rs_add(void *state, vidur_request *q)
{
    vidur__rs *s = (vidur__rs *)state;
    int64_t j;
    vidur__dq_push_back(&s->queue, q);
    if (!s->edf) return;
    /* edf: keep new requests in (deadline, id) order behind any requeued victims ahead of them */
    for (j = s->queue.n - 1; j > 0; j--) {
        vidur_request *p = VIDUR__DQ_AT(&s->queue, j - 1);
        if (p->num_restarts > 0 || p->prefill_deadline_at < q->prefill_deadline_at ||
            (p->prefill_deadline_at == q->prefill_deadline_at && p->id < q->id))
            break;
        VIDUR__DQ_AT(&s->queue, j) = p;
    }
    VIDUR__DQ_AT(&s->queue, j) = q;
}

static int vidur__rs_is_empty(void *state)
{
    vidur__rs *s = (vidur__rs *)state;
    return s->queue.n == 0 && s->r->num_allocated_requests == 0 && s->ft_n == 0;
}

static int64_t vidur__rs_pending(void *state) { return ((vidur__rs *)state)->queue.n; }

/* default next-token count: 1 after the prefill, else the whole (remaining-from-zero) prompt */
static int32_t vidur__next_tokens(const vidur_request *q) { return q->is_prefill_complete ? 1 : q->num_prefill_tokens; }

/* vllm / sarathi block reservation (whole prompt at admission, then one block at a time) */
static int vidur__paged_can_allocate(const vidur__rs *s, const vidur_request *q)
{
    const vidur_replica *r = s->r;
    if (q->num_allocated < 0) {
        int64_t need = vidur__ceil_div(q->num_prefill_tokens, r->info.block_size);
        return r->info.num_blocks - r->num_allocated_blocks - need >= r->info.watermark_blocks;
    }
    return r->info.num_blocks - r->num_allocated_blocks >= 1;
}

static void vidur__paged_allocate(vidur__rs *s, vidur_request *q)
{
    int64_t reserved, need;
    if (q->num_allocated < 0) {
        vidur_replica_allocate(s->r, q, vidur__ceil_div(q->num_prefill_tokens, s->r->info.block_size));
        return;
    }
    reserved = q->num_allocated * s->r->info.block_size;
    need = q->num_processed_tokens - reserved;
    if (need < 0) need = 0;
    VIDUR_ASSERT(need == 0 || need == 1);
    if (need == 1) vidur_replica_allocate(s->r, q, 1);
}

/* the allocate-or-preempt loop of vllm and sarathi: returns 1 if q got its memory */
static int vidur__allocate_or_preempt(vidur__rs *s, vidur_request *q)
{
    while (!vidur__paged_can_allocate(s, q)) {
        vidur_request *victim;
        if (s->preempted.n) {
            victim = vidur__dq_pop_back(&s->preempted); /* latest arrival loses its KV cache */
            vidur_request_restart(victim);
            vidur_replica_free(s->r, victim);
            vidur__dq_push_front(&s->queue, victim);
        } else {
            vidur_request_restart(q);
            vidur_replica_free(s->r, q);
            vidur__dq_push_front(&s->queue, q);
            return 0;
        }
    }
    vidur__paged_allocate(s, q);
    return 1;
}

static int vidur__vllm_next(vidur__rs *s, vidur_batch *b)
{
    vidur_replica *r = s->r;
    int64_t max_tokens = 0;
    while (s->queue.n) {
        vidur_request *q = VIDUR__DQ_AT(&s->queue, 0);
        int64_t n = vidur__next_tokens(q), m = n > max_tokens ? n : max_tokens;
        if (!vidur__paged_can_allocate(s, q)) break;
        if ((int64_t)(b->size + 1) * m > s->p->max_tokens_in_batch) break; /* padded batch size */
        if (r->num_allocated_requests == s->p->batch_size_cap) break;
        if (b->size == s->max_micro_batch_size) break;
        vidur__dq_pop_front(&s->queue);
        vidur__paged_allocate(s, q);
        vidur_batch_add(b, q, (int32_t)n);
        max_tokens = m;
    }
    if (b->size) return 1;
    vidur__dq_sort_by_key(&s->preempted, s->edf);
    while (s->preempted.n) {
        vidur_request *q;
        if (b->size == s->max_micro_batch_size) break;
        q = vidur__dq_pop_front(&s->preempted);
        if (vidur__allocate_or_preempt(s, q)) vidur_batch_add(b, q, vidur__next_tokens(q));
    }
    return b->size > 0;
}

static int32_t vidur__sarathi_tokens(const vidur__rs *s, const vidur_request *q, int64_t T)
{
    int64_t n;
    if (q->is_prefill_complete) return 1;
    n = q->num_prefill_tokens - q->num_processed_tokens;
    if (s->p->chunk_size - T < n) n = s->p->chunk_size - T;
    return n < 0 ? 0 : (int32_t)n;
}

static int vidur__sarathi_next(vidur__rs *s, vidur_batch *b)
{
    vidur_replica *r = s->r;
    vidur__deque *running_prefills = &s->scratch_a, *skipped = &s->scratch_b;
    int64_t T = 0, i;
    running_prefills->n = running_prefills->head = 0;
    skipped->n = skipped->head = 0;
    while (s->preempted.n) {
        vidur_request *q;
        if (b->size == s->max_micro_batch_size) break;
        q = vidur__dq_pop_front(&s->preempted);
        if (!q->is_prefill_complete) {
            vidur__dq_push_back(running_prefills, q);
            continue;
        }
        if (vidur__allocate_or_preempt(s, q)) {
            T += 1;
            vidur_batch_add(b, q, 1);
        }
    }
    for (i = 0; i < running_prefills->n; i++) {
        vidur_request *q = VIDUR__DQ_AT(running_prefills, i);
        int32_t n = vidur__sarathi_tokens(s, q, T);
        if (n == 0) {
            vidur__dq_push_back(skipped, q);
            continue;
        }
        T += n;
        vidur_batch_add(b, q, n);
    }
    /* preempted = skipped + remaining, then a stable sort by arrival */
    for (i = skipped->n - 1; i >= 0; i--) vidur__dq_push_front(&s->preempted, VIDUR__DQ_AT(skipped, i));
    vidur__dq_sort_by_key(&s->preempted, s->edf);
    while (s->queue.n) {
        vidur_request *q = VIDUR__DQ_AT(&s->queue, 0);
        int32_t n;
        if (r->num_allocated_requests == s->p->batch_size_cap) break;
        if (b->size == s->max_micro_batch_size) break;
        if (!vidur__paged_can_allocate(s, q)) break;
        n = vidur__sarathi_tokens(s, q, T);
        if (n == 0) break;
        vidur__dq_pop_front(&s->queue);
        vidur__paged_allocate(s, q);
        T += n;
        vidur_batch_add(b, q, n);
    }
    return b->size > 0;
}

/* orca and faster_transformer admission: reserve max_blocks_per_sequence up front */
static void vidur__reserve_new(vidur__rs *s, vidur_batch *b)
{
    vidur_replica *r = s->r;
    while (s->queue.n) {
        vidur_request *q;
        if (b->size == r->info.max_batch_size) break;
        if (!vidur_replica_can_allocate(r, r->info.max_blocks_per_sequence)) break;
        q = vidur__dq_pop_front(&s->queue);
        vidur_replica_allocate(r, q, r->info.max_blocks_per_sequence);
        vidur_batch_add(b, q, vidur__next_tokens(q));
    }
}

static int vidur__orca_next(vidur__rs *s, vidur_batch *b)
{
    while (s->preempted.n && b->size < s->r->info.max_batch_size) vidur_batch_add(b, vidur__dq_pop_front(&s->preempted), 1);
    vidur__reserve_new(s, b);
    return b->size > 0;
}

static int vidur__ft_next(vidur__rs *s, vidur_batch *b)
{
    if (s->ft_n) {
        vidur__ft_record *rec = &s->ft[s->ft_head];
        int32_t i;
        for (i = 0; i < rec->n; i++)
            if (!rec->reqs[i]->completed) vidur_batch_add(b, rec->reqs[i], 1);
        s->ft_head = (s->ft_head + 1) % s->ft_cap;
        s->ft_n--;
        /* the static batch keeps the memory of members that finished early until it ends */
        b->user_i64 = rec->retained_blocks; /* carried to on_batch_end */
        return b->size > 0;
    }
    vidur__reserve_new(s, b);
    return b->size > 0;
}

static int64_t vidur__lightllm_need(vidur__rs *s)
{
    int64_t i, j, need = 0, prefix = 0;
    /* sort by remaining tokens, descending (insertion sort: the list is short) */
    for (i = 1; i < s->cl_n; i++) {
        vidur__cache_len x = s->cl[i];
        for (j = i; j > 0 && s->cl[j - 1].remaining < x.remaining; j--) s->cl[j] = s->cl[j - 1];
        s->cl[j] = x;
    }
    for (i = 0; i < s->cl_n; i++) {
        int64_t v;
        prefix += s->cl[i].processed;
        v = s->cl[i].remaining * (i + 1) + prefix;
        if (v > need) need = v;
    }
    return need;
}

static vidur__cache_len vidur__lightllm_tuple(const vidur_request *q)
{
    vidur__cache_len c;
    if (q->scheduled) {
        int64_t dec = q->num_processed_tokens - q->num_prefill_tokens;
        if (dec < 0) dec = 0;
        c.processed = q->num_processed_tokens;
        c.remaining = q->num_decode_tokens - dec - 1;
    } else {
        c.processed = (int64_t)q->num_prefill_tokens + 1;
        c.remaining = q->num_decode_tokens - 2;
    }
    if (c.remaining < 0) c.remaining = 0;
    return c;
}

static int vidur__lightllm_prefill(vidur__rs *s, vidur_batch *b)
{
    vidur_replica *r = s->r;
    int64_t T = 0, i;
    s->cl_n = 0;
    for (i = 0; i < s->preempted.n; i++) {
        if (!vidur__grow((void **)&s->cl, &s->cl_cap, s->cl_n + 1, sizeof *s->cl)) return 0;
        s->cl[s->cl_n++] = vidur__lightllm_tuple(VIDUR__DQ_AT(&s->preempted, i));
    }
    while (s->queue.n) {
        vidur_request *q = VIDUR__DQ_AT(&s->queue, 0);
        int64_t n = q->num_prefill_tokens;
        if (T + n > s->p->max_tokens_in_batch) break;
        if (r->num_allocated_requests == s->p->batch_size_cap) break;
        if (b->size == s->max_micro_batch_size) break;
        /* can_allocate_request: the candidate stays in the working list (as upstream) */
        if (!vidur__grow((void **)&s->cl, &s->cl_cap, s->cl_n + 1, sizeof *s->cl)) return 0;
        s->cl[s->cl_n++] = vidur__lightllm_tuple(q);
        if (!(vidur__lightllm_need(s) < r->info.num_blocks)) break;
        vidur__dq_pop_front(&s->queue);
        vidur_replica_allocate(r, q, n);
        vidur_batch_add(b, q, (int32_t)n);
        T += n;
    }
    return b->size > 0;
}

static int vidur__lightllm_next(vidur__rs *s, vidur_batch *b, vidur_error *err)
{
    if (!s->preempted.n) {
        if (vidur__lightllm_prefill(s, b)) s->num_waiting_iters = 0;
        return b->size > 0;
    }
    if (s->num_waiting_iters >= s->p->max_waiting_iters) {
        s->num_waiting_iters = 0;
        if (vidur__lightllm_prefill(s, b)) return 1;
    }
    if (vidur_replica_can_allocate(s->r, s->preempted.n)) {
        s->num_waiting_iters++;
        while (s->preempted.n) {
            vidur_request *q = vidur__dq_pop_front(&s->preempted);
            vidur_replica_allocate(s->r, q, 1);
            vidur_batch_add(b, q, 1);
        }
        return 1;
    }
    vidur__set_error(err, VIDUR_ERR_SCHEDULER, "lightllm: out of KV memory on replica %d (%lld running requests, %lld free tokens); lower lightllm_scheduler_config_batch_size_cap",
                     s->r->info.id, (long long)s->preempted.n, (long long)(s->r->info.num_blocks - s->r->num_allocated_blocks));
    return -1;
}

static int vidur__rs_next(void *state, vidur_batch *b, vidur_error *err)
{
    vidur__rs *s = (vidur__rs *)state;
    switch (s->kind) {
    case VIDUR__RS_VLLM: return vidur__vllm_next(s, b);
    case VIDUR__RS_SARATHI: return vidur__sarathi_next(s, b);
    case VIDUR__RS_ORCA: return vidur__orca_next(s, b);
    case VIDUR__RS_FT: return vidur__ft_next(s, b);
    default: return vidur__lightllm_next(s, b, err);
    }
}

static void vidur__rs_on_batch_end(void *state, vidur_batch *b)
{
    vidur__rs *s = (vidur__rs *)state;
    int32_t i;
    if (s->kind == VIDUR__RS_FT) {
        int all = 1;
        int64_t retained = b->user_i64; /* see vidur__ft_next */
        for (i = 0; i < b->size; i++) all &= b->requests[i]->completed;
        if (all) {
            for (i = 0; i < b->size; i++) vidur_replica_free(s->r, b->requests[i]);
            s->r->num_allocated_blocks -= retained;
        } else {
            vidur__ft_record *rec;
            /* at most PP static batches are alive at once, so the ring (PP + 1 slots) never fills */
            VIDUR_ASSERT(s->ft_n < s->ft_cap);
            rec = &s->ft[(s->ft_head + s->ft_n) % s->ft_cap];
            rec->n = 0;
            rec->retained_blocks = retained;
            for (i = 0; i < b->size; i++) {
                vidur_request *q = b->requests[i];
                if (q->completed) {
                    /* finished early: its blocks stay with the static batch; the request itself is released */
                    rec->retained_blocks += q->num_allocated;
                    s->r->num_allocated_requests--;
                    q->num_allocated = -1;
                    continue;
                }
                if (rec->n == rec->cap) {
                    int32_t nc = rec->cap ? rec->cap * 2 : 16;
                    vidur_request **nr = (vidur_request **)VIDUR_REALLOC(rec->reqs, (size_t)nc * sizeof *nr);
                    if (!nr) return;
                    rec->reqs = nr;
                    rec->cap = nc;
                }
                rec->reqs[rec->n++] = q;
            }
            s->ft_n++;
        }
        return;
    }
    for (i = 0; i < b->size; i++) {
        vidur_request *q = b->requests[i];
        if (q->completed) vidur_replica_free(s->r, q);
        else vidur__dq_push_back(&s->preempted, q);
    }
}

static double vidur__rs_memory(void *state)
{
    vidur__rs *s = (vidur__rs *)state;
    return s->r->info.num_blocks ? (double)s->r->num_allocated_blocks * 100.0 / (double)s->r->info.num_blocks : 0;
}

#define VIDUR__RS_API(name, kind) \
    {name, vidur__rs_create, vidur__rs_destroy, vidur__rs_add, vidur__rs_next, vidur__rs_on_batch_end, vidur__rs_is_empty, vidur__rs_pending, vidur__rs_memory, (void *)(intptr_t)(kind)}
static const vidur_replica_scheduler_api vidur__replica_schedulers[] = {
    VIDUR__RS_API("vllm", VIDUR__RS_VLLM),
    VIDUR__RS_API("sarathi", VIDUR__RS_SARATHI),
    VIDUR__RS_API("orca", VIDUR__RS_ORCA),
    VIDUR__RS_API("faster_transformer", VIDUR__RS_FT),
    VIDUR__RS_API("lightllm", VIDUR__RS_LIGHTLLM),
};

/* ---- section: global schedulers (schedulers.md §6, upstream) --------------------------------- */
typedef struct vidur__gs {
    int kind;
    int64_t counter;
    int64_t *pending;  /* lop: outstanding prompt tokens per replica */
    int32_t *ties;     /* scratch: replicas tied at the minimum */
    vidur__mt rng;     /* [F] tie-break stream: random.Random(seed) */
    int64_t *imb;      /* scratch: imbalance per candidate replica */
    int64_t *uncached; /* scratch: uncached prompt tokens per candidate replica */
    double *draws;     /* scratch: ranked draws */
    /* session -> replica (open addressing, linear probing; never iterated) */
    int64_t *sess_key;
    int32_t *sess_val;
    int64_t sess_cap, sess_n;
    int64_t session_counter;
} vidur__gs;

enum {
    VIDUR__GS_ROUND_ROBIN, VIDUR__GS_RANDOM, VIDUR__GS_LOR, VIDUR__GS_LOP, VIDUR__GS_LOP_UNCACHED, VIDUR__GS_STICKY,
    VIDUR__GS_STICKY_LOP, VIDUR__GS_STICKY_RR, VIDUR__GS_STICKY_LOR, VIDUR__GS_TOLERANT, VIDUR__GS_RANKED
};

/* session map: returns the slot of key (used or the empty slot where it would go) */
static int64_t vidur__sess_slot(const vidur__gs *g, int64_t key)
{
    int64_t i = (int64_t)(vidur__mix64((uint64_t)key) & (uint64_t)(g->sess_cap - 1));
    while (g->sess_val[i] >= 0 && g->sess_key[i] != key) i = (i + 1) & (g->sess_cap - 1);
    return i;
}

static int vidur__sess_get(const vidur__gs *g, int64_t key)
{
    return g->sess_cap ? g->sess_val[vidur__sess_slot(g, key)] : -1;
}

static int vidur__sess_put(vidur__gs *g, int64_t key, int replica)
{
    int64_t i;
    if (2 * (g->sess_n + 1) > g->sess_cap) {
        int64_t oc = g->sess_cap, nc = oc ? oc * 2 : 1024, j;
        int64_t *ok = g->sess_key;
        int32_t *ov = g->sess_val;
        g->sess_key = (int64_t *)VIDUR_MALLOC((size_t)nc * sizeof *g->sess_key);
        g->sess_val = (int32_t *)VIDUR_MALLOC((size_t)nc * sizeof *g->sess_val);
        if (!g->sess_key || !g->sess_val) return 0;
        g->sess_cap = nc;
        for (j = 0; j < nc; j++) g->sess_val[j] = -1;
        for (j = 0; j < oc; j++)
            if (ov[j] >= 0) {
                int64_t s2 = vidur__sess_slot(g, ok[j]);
                g->sess_key[s2] = ok[j];
                g->sess_val[s2] = ov[j];
            }
        VIDUR_FREE(ok);
        VIDUR_FREE(ov);
    }
    i = vidur__sess_slot(g, key);
    if (g->sess_val[i] < 0) g->sess_n++;
    g->sess_key[i] = key;
    g->sess_val[i] = replica;
    return 1;
}

static void vidur__gs_destroy(void *state)
{
    vidur__gs *g = (vidur__gs *)state;
    if (!g) return;
    VIDUR_FREE(g->pending);
    VIDUR_FREE(g->ties);
    VIDUR_FREE(g->imb);
    VIDUR_FREE(g->uncached);
    VIDUR_FREE(g->draws);
    VIDUR_FREE(g->sess_key);
    VIDUR_FREE(g->sess_val);
    VIDUR_FREE(g);
}

static void *vidur__gs_create(vidur_sim *sim, void *user)
{
    vidur__gs *g = (vidur__gs *)vidur__calloc(1, sizeof *g);
    if (!g) return NULL;
    g->kind = (int)(intptr_t)user;
    g->pending = (int64_t *)vidur__calloc((size_t)sim->num_replicas, sizeof *g->pending);
    g->ties = (int32_t *)vidur__calloc((size_t)sim->num_replicas, sizeof *g->ties);
    g->imb = (int64_t *)vidur__calloc((size_t)sim->num_replicas, sizeof *g->imb);
    g->uncached = (int64_t *)vidur__calloc((size_t)sim->num_replicas, sizeof *g->uncached);
    g->draws = (double *)vidur__calloc((size_t)sim->num_replicas, sizeof *g->draws);
    if (!g->pending || !g->ties || !g->imb || !g->uncached || !g->draws) {
        vidur__gs_destroy(g);
        return NULL;
    }
    vidur__mt_seed_python(&g->rng, sim->cfg.lop_seed);
    return g;
}

/* [F] "random tie-break among S": rng.choice(S) over S in ascending replica order; a draw is
   consumed even when |S| = 1 */
static int vidur__gs_argmin_random(vidur__gs *g, const int64_t *v, int n)
{
    int i, nt = 0;
    int64_t best = 0;
    for (i = 0; i < n; i++) {
        if (nt == 0 || v[i] < best) {
            best = v[i];
            nt = 0;
        }
        if (v[i] == best) g->ties[nt++] = i;
    }
    return g->ties[vidur__mt_randbelow(&g->rng, (uint32_t)nt)];
}

static int vidur__gs_min_random(vidur__gs *g, int n) { return vidur__gs_argmin_random(g, g->pending, n); }

/* lop_uncached: u(q, r) = P - tokens cached on r; imbalance(r) = max - min of pending with u(q, r)
   added to r alone. Fills g->imb and returns the candidate uncached tokens through u. */
static void vidur__gs_imbalance(vidur__gs *g, vidur_sim *sim, const vidur_request *q, int64_t *u)
{
    int n = sim->num_replicas, r, x;
    for (r = 0; r < n; r++) {
        int64_t mx = INT64_MIN, mn = INT64_MAX;
        u[r] = q->num_prefill_tokens - vidur_replica_prefix_cache_lookup(&sim->replicas[r], q);
        for (x = 0; x < n; x++) {
            int64_t v = g->pending[x] + (x == r ? u[r] : 0);
            if (v > mx) mx = v;
            if (v < mn) mn = v;
        }
        g->imb[r] = mx - mn;
    }
}

static void vidur__gs_prefill_end(void *state, vidur_sim *sim, const vidur_request *q)
{
    vidur__gs *g = (vidur__gs *)state;
    (void)sim;
    if (q->replica_id < 0) return;
    if (g->kind == VIDUR__GS_LOP || g->kind == VIDUR__GS_STICKY) g->pending[q->replica_id] -= q->num_prefill_tokens;
    if (g->kind == VIDUR__GS_LOP_UNCACHED || g->kind == VIDUR__GS_STICKY_LOP || g->kind == VIDUR__GS_TOLERANT || g->kind == VIDUR__GS_RANKED)
        g->pending[q->replica_id] -= q->num_prefill_tokens - q->router_cached; /* the request's current P */
}

static void vidur__gs_request_end(void *state, vidur_sim *sim, const vidur_request *q)
{
    vidur__gs *g = (vidur__gs *)state;
    (void)sim;
    if (g->kind == VIDUR__GS_STICKY_LOR && q->replica_id >= 0) g->pending[q->replica_id] -= 1;
}

static int vidur__gs_route(void *state, vidur_sim *sim, const vidur_request *q)
{
    vidur__gs *g = (vidur__gs *)state;
    int n = sim->num_replicas, i, best = 0;
    (void)q;
    switch (g->kind) {
    case VIDUR__GS_ROUND_ROBIN: return (int)(g->counter++ % n);
    case VIDUR__GS_RANDOM: return (int)vidur__mt_randbelow(&sim->sched_rng, (uint32_t)n); /* randint(1, N) - 1 */
    case VIDUR__GS_LOP:
        /* [F] least outstanding prefill tokens, random tie-break; released at prefill end */
        i = vidur__gs_min_random(g, n);
        g->pending[i] += q->num_prefill_tokens;
        return i;
    case VIDUR__GS_LOP_UNCACHED:
    case VIDUR__GS_STICKY_LOP:
    case VIDUR__GS_TOLERANT:
    case VIDUR__GS_RANKED: {
        /* prefix-cache aware: balance outstanding UNCACHED prompt tokens */
        int sticky = q->session_id >= 0 && g->kind != VIDUR__GS_LOP_UNCACHED ? vidur__sess_get(g, q->session_id) : -1;
        int64_t *uu = g->uncached;
        int best;
        if (g->kind == VIDUR__GS_STICKY_LOP && sticky >= 0) {
            /* a known session stays: only its replica's cache needs asking */
            uu[sticky] = q->num_prefill_tokens - vidur_replica_prefix_cache_lookup(&sim->replicas[sticky], q);
            g->pending[sticky] += uu[sticky];
            ((vidur_request *)q)->router_cached = q->num_prefill_tokens - uu[sticky];
            return sticky;
        }
        vidur__gs_imbalance(g, sim, q, uu);
        best = sticky;
        if (g->kind == VIDUR__GS_LOP_UNCACHED || sticky < 0) {
            best = vidur__gs_argmin_random(g, g->imb, n);
        } else if (g->kind == VIDUR__GS_TOLERANT) {
            int64_t mn = g->imb[0];
            for (i = 1; i < n; i++) if (g->imb[i] < mn) mn = g->imb[i];
            if ((double)g->imb[sticky] > sim->cfg.tolerance_factor * (double)mn) best = vidur__gs_argmin_random(g, g->imb, n);
        } else if (g->kind == VIDUR__GS_RANKED) {
            /* one draw per replica in id order; rank by (imbalance, draw); keep the session's
               replica while it is in the top k */
            int rank = 0;
            double *dr = g->draws;
            for (i = 0; i < n; i++) dr[i] = vidur__mt_random(&g->rng);
            for (i = 0; i < n; i++)
                if (g->imb[i] < g->imb[sticky] || (g->imb[i] == g->imb[sticky] && dr[i] < dr[sticky])) rank++;
            if (rank >= sim->cfg.top_k) best = vidur__gs_argmin_random(g, g->imb, n);
        }
        if (q->session_id >= 0 && g->kind != VIDUR__GS_LOP_UNCACHED && best != sticky && !vidur__sess_put(g, q->session_id, best)) return -1;
        g->pending[best] += uu[best];
        ((vidur_request *)q)->router_cached = q->num_prefill_tokens - uu[best];
        return best;
    }
    case VIDUR__GS_STICKY: {
        /* session affinity; new sessions and session-less requests go to lop's choice */
        int r = q->session_id >= 0 ? vidur__sess_get(g, q->session_id) : -1;
        if (r < 0) {
            r = vidur__gs_min_random(g, n);
            if (q->session_id >= 0 && !vidur__sess_put(g, q->session_id, r)) return -1;
        }
        g->pending[r] += q->num_prefill_tokens;
        return r;
    }
    case VIDUR__GS_STICKY_RR: {
        int r = q->session_id >= 0 ? vidur__sess_get(g, q->session_id) : -1;
        if (r < 0) {
            r = (int)(g->session_counter++ % n);
            if (q->session_id >= 0 && !vidur__sess_put(g, q->session_id, r)) return -1;
        }
        return r;
    }
    case VIDUR__GS_STICKY_LOR: {
        /* new sessions: fewest outstanding requests (random tie-break); every request counts */
        int r = q->session_id >= 0 ? vidur__sess_get(g, q->session_id) : -1;
        if (r < 0) {
            r = vidur__gs_min_random(g, n);
            if (q->session_id >= 0 && !vidur__sess_put(g, q->session_id, r)) return -1;
        }
        g->pending[r] += 1;
        return r;
    }
    default:
        /* least outstanding requests: waiting-queue length, lowest id on ties */
        for (i = 1; i < n; i++)
            if (vidur_replica_num_pending_requests(&sim->replicas[i]) < vidur_replica_num_pending_requests(&sim->replicas[best])) best = i;
        return best;
    }
}

#define VIDUR__GS_API(name, kind) {name, vidur__gs_create, vidur__gs_destroy, vidur__gs_route, NULL, vidur__gs_request_end, vidur__gs_prefill_end, (void *)(intptr_t)(kind)}
static const vidur_global_scheduler_api vidur__global_schedulers[] = {
    VIDUR__GS_API("round_robin", VIDUR__GS_ROUND_ROBIN),
    VIDUR__GS_API("random", VIDUR__GS_RANDOM),
    VIDUR__GS_API("lor", VIDUR__GS_LOR),
    VIDUR__GS_API("lop", VIDUR__GS_LOP),
    VIDUR__GS_API("lop_uncached", VIDUR__GS_LOP_UNCACHED),
    VIDUR__GS_API("sticky", VIDUR__GS_STICKY),
    VIDUR__GS_API("sticky_lop", VIDUR__GS_STICKY_LOP),
    VIDUR__GS_API("sticky_round_robin", VIDUR__GS_STICKY_RR),
    VIDUR__GS_API("sticky_lor", VIDUR__GS_STICKY_LOR),
    VIDUR__GS_API("tolerant_sticky_lop_uncached", VIDUR__GS_TOLERANT),
    VIDUR__GS_API("ranked_sticky_lop_uncached", VIDUR__GS_RANKED),
};

/* ---- section: simulation ------------------------------------------------------------------------ */
static void vidur__log(const vidur_sim *s, vidur_log_level lvl, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    if (!s->cfg.log_fn) return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    s->cfg.log_fn(s->cfg.log_user, lvl, buf);
}

static vidur_request *vidur__req_alloc(vidur_sim *s)
{
    vidur_request *q = s->free_requests;
    if (!q) {
        vidur__req_chunk *c = (vidur__req_chunk *)vidur__calloc(1, sizeof *c);
        int i;
        if (!c) return NULL;
        c->next = s->req_chunks;
        s->req_chunks = c;
        for (i = 255; i >= 0; i--) {
            c->items[i].next_free = s->free_requests;
            s->free_requests = &c->items[i];
        }
        q = s->free_requests;
    }
    s->free_requests = q->next_free;
    {
        int32_t *kb = q->kv_blocks, kc = q->kv_cap; /* keep the block list's storage across reuse */
        memset(q, 0, sizeof *q);
        q->kv_blocks = kb;
        q->kv_cap = kc;
    }
    q->num_allocated = -1;
    q->replica_id = -1;
    q->kv_cached_memo = -1;
    return q;
}

static void vidur__req_release(vidur_sim *s, vidur_request *q)
{
    q->next_free = s->free_requests;
    s->free_requests = q;
}

static vidur__batch_ex *vidur__batch_alloc(vidur_sim *s)
{
    vidur__batch_ex *b = s->free_batches;
    vidur_request **reqs;
    int32_t *toks, cap;
    if (!b) {
        b = (vidur__batch_ex *)vidur__calloc(1, sizeof *b);
        if (!b) return NULL;
        if (!vidur__grow((void **)&s->all_batches, &s->cap_all_batches, s->num_all_batches + 1, sizeof *s->all_batches)) {
            VIDUR_FREE(b);
            return NULL;
        }
        s->all_batches[s->num_all_batches++] = b;
    } else {
        s->free_batches = b->next_free;
    }
    reqs = b->pub.requests;
    toks = b->pub.num_tokens;
    cap = b->pub.capacity;
    memset(b, 0, sizeof *b);
    b->pub.requests = reqs;
    b->pub.num_tokens = toks;
    b->pub.capacity = cap;
    return b;
}

static void vidur__batch_release(vidur_sim *s, vidur__batch_ex *b)
{
    b->next_free = s->free_batches;
    s->free_batches = b;
}

static int vidur__push(vidur_sim *s, double t, int type, int replica, int stage, vidur__batch_ex *b)
{
    vidur__event e;
    e.time = t;
    e.seq = ++s->seq;
    e.type = type;
    e.replica = replica;
    e.stage = stage;
    e.batch = b;
    if (!vidur__heap_push(&s->heap, &e)) {
        vidur__set_error(&s->error, VIDUR_ERR_MEMORY, "out of memory (event queue)");
        s->failed = 1;
        return 0;
    }
    return 1;
}

static vidur__row *vidur__row_get(vidur_sim *s, int64_t id)
{
    if (id >= s->rows_cap) {
        int64_t old = s->rows_cap, i;
        if (!vidur__grow((void **)&s->rows, &s->rows_cap, id + 1, sizeof *s->rows)) return NULL;
        for (i = old; i < s->rows_cap; i++) memset(&s->rows[i], 0, sizeof s->rows[i]);
    }
    if (id > s->max_request_id) s->max_request_id = id;
    return &s->rows[id];
}

static int vidur__next_arrival(vidur_sim *s, vidur_error *err)
{
    vidur_request *q = vidur__req_alloc(s);
    if (!q) {
        vidur__set_error(err, VIDUR_ERR_MEMORY, "out of memory (requests)");
        return 0;
    }
    if (!vidur__workload_next(&s->workload, q)) {
        vidur__req_release(s, q);
        s->next_arrival = NULL;
        return 1;
    }
    q->arrival_num_prefill_tokens = q->num_prefill_tokens;
    q->arrival_num_decode_tokens = q->num_decode_tokens;
    s->next_arrival = q;
    return 1;
}

VIDURDEF void vidur_sim_destroy(vidur_sim *s)
{
    int i;
    int64_t k;
    if (!s) return;
    if (s->replicas) {
        for (i = 0; i < s->num_replicas; i++) {
            vidur_replica *r = &s->replicas[i];
            if (r->api && r->state && r->api->destroy) r->api->destroy(r->state);
            if (r->stages) {
                int j;
                for (j = 0; j < r->info.num_pipeline_stages; j++) VIDUR_FREE(r->stages[j].q);
                VIDUR_FREE(r->stages);
            }
        }
        VIDUR_FREE(s->replicas);
    }
    if (s->gapi && s->gstate && s->gapi->destroy) s->gapi->destroy(s->gstate);
    while (s->req_chunks) {
        vidur__req_chunk *c = s->req_chunks->next;
        int k2;
        for (k2 = 0; k2 < 256; k2++) VIDUR_FREE(s->req_chunks->items[k2].kv_blocks);
        VIDUR_FREE(s->req_chunks);
        s->req_chunks = c;
    }
    for (k = 0; k < s->num_all_batches; k++) {
        VIDUR_FREE(s->all_batches[k]->pub.requests);
        VIDUR_FREE(s->all_batches[k]->pub.num_tokens);
        VIDUR_FREE(s->all_batches[k]);
    }
    VIDUR_FREE(s->all_batches);
    for (i = 0; i < 5; i++) VIDUR_FREE(s->batch_metric[i].counts);
    VIDUR_FREE(s->rows);
    VIDUR_FREE(s->memo);
    vidur_table_set_free(s->user_tables);
    VIDUR_FREE(s->heap.ev);
    VIDUR_FREE(s->touched);
    VIDUR_FREE(s->touched_flag);
    VIDUR_FREE(s->util);
    vidur__dq_free(&s->global_queue);
    vidur__workload_free(&s->workload);
    if (s->trace) fclose(s->trace);
    VIDUR_FREE(s);
}

VIDURDEF vidur_result vidur_sim_create(const vidur_config *cfg, vidur_sim **out, vidur_error *err)
{
    vidur_sim *s;
    vidur_result r;
    int i, j, pp, tp;
    const vidur_replica_scheduler_api *rapi = NULL;
    *out = NULL;
    if ((r = vidur_config_validate(cfg, err))) return r;
    s = (vidur_sim *)vidur__calloc(1, sizeof *s);
    if (!s) {
        vidur__set_error(err, VIDUR_ERR_MEMORY, "out of memory");
        return VIDUR_ERR_MEMORY;
    }
    s->cfg = *cfg;
    cfg = &s->cfg;
    s->model = vidur_find_model(cfg, cfg->model_name);
    s->device = vidur_find_device(cfg, cfg->device);
    s->node = vidur_find_node(cfg, cfg->network_device);
    s->rparams = vidur_config_replica_params(cfg);
    s->pparams = vidur_config_predictor_params(cfg);
    tp = cfg->tensor_parallel_size;
    pp = cfg->num_pipeline_stages;
    if ((r = vidur__workload_init(&s->workload, cfg, err))) goto fail;
    if (!strcmp(cfg->replica_scheduler_type, "vllm_v1")) {
        if ((r = vidur_memory_plan_compute_tokens(s->model, s->device, tp, pp, cfg->cache_memory_margin_fraction, s->rparams->block_size,
                                                  &s->plan, err)))
            goto fail;
        s->plan.max_batch_size_mem = s->rparams->batch_size_cap;
    } else if ((r = vidur_memory_plan_compute(s->model, s->device, tp, pp, cfg->memory_margin_fraction, s->workload.max_tokens,
                                              s->rparams->block_size, &s->plan, err))) {
        goto fail;
    }
    if (s->rparams->num_blocks > 0) s->plan.num_blocks = s->rparams->num_blocks; /* user calibration */
    /* predictor: profiled tables where they exist, the calibrated roofline elsewhere */
    s->roofline.model = *s->model;
    s->roofline.device = *s->device;
    s->roofline.node = *s->node;
    s->roofline.tp = tp;
    s->roofline.pp = pp;
    s->roofline.p = *s->pparams;
    /* the roofline's efficiency factors live in its own section whatever the type */
    s->roofline.p.compute_efficiency = cfg->roofline.compute_efficiency;
    s->roofline.p.attention_efficiency = cfg->roofline.attention_efficiency;
    s->roofline.p.memory_efficiency = cfg->roofline.memory_efficiency;
    s->roofline.p.network_efficiency = cfg->roofline.network_efficiency;
    s->roofline.p.kernel_launch_overhead_ms = cfg->roofline.kernel_launch_overhead_ms;
    {
        const vidur_table_set *set = vidur_builtin_tables();
        int which = !strcmp(cfg->predictor_type, "roofline") ? 0
                    : !strcmp(cfg->predictor_type, "linear_regression") ? VIDUR_PREDICTOR_LINEAR_REGRESSION : VIDUR_PREDICTOR_RANDOM_FOREST;
        int op, measured = 0;
        char list[512];
        size_t len = 0;
        if (s->pparams->table_file[0]) {
            if ((r = vidur_table_set_load(s->pparams->table_file, &s->user_tables, err))) goto fail;
            set = s->user_tables;
        }
        vidur__table_predictor_init(&s->tpred, set, which, cfg, s->model, s->node, &s->roofline);
        list[0] = 0;
        for (op = 0; op < VIDUR_OP_COUNT; op++) {
            if (s->tpred.t[op]) measured++;
            else if (len + 32 < sizeof list) len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", vidur_op_name(op));
        }
        vidur__log(s, VIDUR_LOG_INFO, "execution time: %d operators from profiled tables (%s), roofline for: %s", measured,
                   set->provenance ? set->provenance : "", len ? list : "none");
    }
    s->predictor.name = "tables";
    s->predictor.op_time_ms = vidur__table_op_time_ms;
    s->predictor.state = &s->tpred;
    /* schedulers: plug-ins first, so a plug-in may replace a built-in by name */
    for (i = 0; i < cfg->num_replica_plugins && !rapi; i++)
        if (!strcmp(cfg->replica_plugins[i]->name, cfg->replica_scheduler_type)) rapi = cfg->replica_plugins[i];
    for (i = 0; i < VIDUR__COUNT(vidur__replica_schedulers) && !rapi; i++)
        if (!strcmp(vidur__replica_schedulers[i].name, cfg->replica_scheduler_type)) rapi = &vidur__replica_schedulers[i];
    if (!rapi && !strcmp(cfg->replica_scheduler_type, "vllm_v1")) rapi = &vidur__v1_api;
    for (i = 0; i < cfg->num_global_plugins && !s->gapi; i++)
        if (!strcmp(cfg->global_plugins[i]->name, cfg->global_scheduler_type)) s->gapi = cfg->global_plugins[i];
    for (i = 0; i < VIDUR__COUNT(vidur__global_schedulers) && !s->gapi; i++)
        if (!strcmp(vidur__global_schedulers[i].name, cfg->global_scheduler_type)) s->gapi = &vidur__global_schedulers[i];
    VIDUR_ASSERT(rapi && s->gapi);
    s->memo = (vidur__memo_entry *)vidur__calloc(VIDUR__MEMO_SIZE, sizeof *s->memo);
    if (!s->memo) {
        r = VIDUR_ERR_MEMORY;
        vidur__set_error(err, r, "out of memory (memo)");
        goto fail;
    }
    s->num_replicas = cfg->num_replicas;
    s->replicas = (vidur_replica *)vidur__calloc((size_t)s->num_replicas, sizeof *s->replicas);
    s->touched = (int32_t *)vidur__calloc((size_t)s->num_replicas, sizeof *s->touched);
    s->touched_flag = (uint8_t *)vidur__calloc((size_t)s->num_replicas, 1);
    s->util = (vidur_replica_utilization *)vidur__calloc((size_t)s->num_replicas, sizeof *s->util);
    if (!s->replicas || !s->touched || !s->touched_flag || !s->util) {
        r = VIDUR_ERR_MEMORY;
        vidur__set_error(err, r, "out of memory (replicas)");
        goto fail;
    }
    for (i = 0; i < s->num_replicas; i++) {
        vidur_replica *rep = &s->replicas[i];
        vidur_replica_info *in = &rep->info;
        in->id = i;
        in->num_pipeline_stages = pp;
        in->tensor_parallel_size = tp;
        in->num_blocks = s->plan.num_blocks;
        in->block_size = s->rparams->block_size;
        in->batch_size_cap = s->rparams->batch_size_cap;
        in->max_tokens = s->workload.max_tokens;
        in->max_blocks_per_sequence = s->plan.max_blocks_per_sequence;
        in->max_batch_size = s->plan.max_batch_size_mem < in->batch_size_cap ? s->plan.max_batch_size_mem : in->batch_size_cap;
        in->watermark_blocks = (int64_t)(s->rparams->watermark_blocks_fraction * (double)s->plan.num_blocks);
        in->params = s->rparams;
        in->model = s->model;
        rep->sim = s;
        rep->api = rapi;
        vidur__meter_init(&rep->mem_meter);
        rep->stages = (vidur__stage *)vidur__calloc((size_t)pp, sizeof *rep->stages);
        if (!rep->stages) {
            r = VIDUR_ERR_MEMORY;
            vidur__set_error(err, r, "out of memory (stages)");
            goto fail;
        }
        for (j = 0; j < pp; j++) {
            vidur__meter_init(&rep->stages[j].busy_meter);
            vidur__meter_init(&rep->stages[j].mfu_meter);
        }
        rep->state = rapi->create(rep, rapi->user_data);
        if (!rep->state) {
            r = VIDUR_ERR_MEMORY;
            vidur__set_error(err, r, "replica scheduler %s: create() failed on replica %d", rapi->name, i);
            goto fail;
        }
    }
    /* The random router continues CPython's global stream: seeded with `seed`, or re-seeded with
       the synthetic seed and advanced past the workload's draws, exactly as upstream. */
    if (s->workload.kind == VIDUR__GEN_SYNTHETIC) {
        vidur__workload tmp = s->workload; /* shallow copy: only its RNG states change */
        vidur_request q;
        if (!strcmp(s->gapi->name, "random"))
            while (vidur__workload_next(&tmp, &q)) {}
        s->sched_rng = tmp.py;
    } else {
        vidur__mt_seed_python(&s->sched_rng, cfg->seed);
    }
    s->gstate = s->gapi->create ? s->gapi->create(s, s->gapi->user_data) : NULL;
    if (s->gapi->create && !s->gstate) {
        r = VIDUR_ERR_MEMORY;
        vidur__set_error(err, r, "global scheduler %s: create() failed", s->gapi->name);
        goto fail;
    }
    if (cfg->write_metrics && cfg->enable_chrome_trace) {
        s->trace = tmpfile();
        s->trace_first = 1;
    }
    s->first_arrival = -1;
    s->max_request_id = -1;
    for (i = 0; i < 5; i++) vidur__sketch_init(&s->batch_metric[i], 0.001);
    if (!vidur__next_arrival(s, err)) {
        r = VIDUR_ERR_MEMORY;
        goto fail;
    }
    vidur__log(s, VIDUR_LOG_INFO, "%d x %s on %s (TP %d, PP %d): %lld KV blocks per replica", s->num_replicas, s->model->name,
               s->device->name, tp, pp, (long long)s->plan.num_blocks);
    *out = s;
    return VIDUR_OK;
fail:
    vidur_sim_destroy(s);
    return r;
}

static void vidur__trace_stage(vidur_sim *s, const vidur__batch_ex *b, int replica, int stage, double t_end, double exec)
{
    int32_t i;
    FILE *f = s->trace;
    fputs(s->trace_first ? "\n" : ",\n", f);
    s->trace_first = 0;
    fputs("{\"name\": \"[", f);
    for (i = 0; i < b->pub.size; i++) fprintf(f, i ? ", %lld" : "%lld", (long long)b->pub.requests[i]->id);
    fprintf(f, "]\", \"ph\": \"X\", \"ts\": %.3f, \"dur\": %.3f, \"pid\": %d, \"tid\": %d, \"args\": {\"batch_id\": %lld, \"batch_size\": %d, \"request_ids\": [",
            (t_end - exec) * 1e6, exec * 1e6, replica, stage, (long long)b->pub.id, b->pub.size);
    for (i = 0; i < b->pub.size; i++) fprintf(f, i ? ", %lld" : "%lld", (long long)b->pub.requests[i]->id);
    fputs("], \"num_tokens\": [", f);
    for (i = 0; i < b->pub.size; i++) fprintf(f, i ? ", %d" : "%d", b->pub.num_tokens[i]);
    fputs("]}}", f);
}

static void vidur__record_completion(vidur_sim *s, const vidur_request *q)
{
    vidur__row *row = vidur__row_get(s, q->id);
    double a = q->arrived_at, sch = q->scheduled_at, f = q->prefill_completed_at, c = q->completed_at;
    double e = q->execution_time, m = q->model_execution_time, p = q->preempted_time;
    double P = q->num_prefill_tokens, D = q->num_decode_tokens;
    if (!row) return;
    row->completed = 1;
    row->v[VIDUR_METRIC_REQUEST_E2E_TIME] = c - a;
    row->v[VIDUR_METRIC_REQUEST_E2E_TIME_NORMALIZED] = (c - a) / D;
    row->v[VIDUR_METRIC_REQUEST_EXECUTION_TIME] = e;
    row->v[VIDUR_METRIC_REQUEST_EXECUTION_TIME_NORMALIZED] = e / D;
    row->v[VIDUR_METRIC_REQUEST_MODEL_EXECUTION_TIME] = m;
    row->v[VIDUR_METRIC_REQUEST_MODEL_EXECUTION_TIME_NORMALIZED] = m / D;
    row->v[VIDUR_METRIC_REQUEST_PREEMPTION_TIME] = p;
    row->v[VIDUR_METRIC_REQUEST_SCHEDULING_DELAY] = sch - a;
    row->v[VIDUR_METRIC_REQUEST_EXECUTION_PLUS_PREEMPTION_TIME] = e + p;
    row->v[VIDUR_METRIC_REQUEST_EXECUTION_PLUS_PREEMPTION_TIME_NORMALIZED] = (e + p) / D;
    row->v[VIDUR_METRIC_PREFILL_E2E_TIME] = f - a;
    row->v[VIDUR_METRIC_PREFILL_TIME_EXECUTION_PLUS_PREEMPTION] = f - sch;
    row->v[VIDUR_METRIC_PREFILL_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED] = (f - sch) / P;
    row->v[VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED] = (c - f) / D;
    row->v[VIDUR_METRIC_REQUEST_NUM_RESTARTS] = q->num_restarts;
}

static int vidur__handle_arrival(vidur_sim *s)
{
    vidur_request *q = s->next_arrival;
    vidur__row *row;
    double t = q->arrived_at;
    if (!vidur__next_arrival(s, &s->error)) { s->failed = 1; return 0; }
    s->num_arrived++;
    {
        /* [F] SLO manager: prefill deadline = arrival + max(P x normalized, min); with only the
           minimum set, the minimum (the fork raises there; this is its evident intent) */
        double slo = 0;
        if (s->cfg.slo_prefill_e2e_time_normalized > 0) slo = q->num_prefill_tokens * s->cfg.slo_prefill_e2e_time_normalized;
        if (s->cfg.slo_prefill_e2e_time_min > slo) slo = s->cfg.slo_prefill_e2e_time_min;
        q->prefill_deadline_at = t + slo;
    }
    if (s->first_arrival < 0) s->first_arrival = t;
    row = vidur__row_get(s, q->id);
    if (!row) {
        vidur__set_error(&s->error, VIDUR_ERR_MEMORY, "out of memory (metrics)");
        s->failed = 1;
        return 0;
    }
    row->arrived = 1;
    q->inter_arrival_delay = s->num_arrived > 1 ? t - s->last_arrival_time : -1;
    row->v[VIDUR_METRIC_REQUEST_INTER_ARRIVAL_DELAY] = q->inter_arrival_delay;
    row->v[VIDUR_METRIC_REQUEST_NUM_TOKENS] = (double)q->num_prefill_tokens + q->num_decode_tokens;
    row->v[VIDUR_METRIC_REQUEST_NUM_PREFILL_TOKENS] = q->num_prefill_tokens;
    row->v[VIDUR_METRIC_REQUEST_NUM_DECODE_TOKENS] = q->num_decode_tokens;
    row->v[VIDUR_METRIC_REQUEST_PD_RATIO] = (double)q->num_prefill_tokens / q->num_decode_tokens;
    s->last_arrival_time = t;
    if (!vidur__dq_push_back(&s->global_queue, q)) {
        vidur__set_error(&s->error, VIDUR_ERR_MEMORY, "out of memory (global queue)");
        s->failed = 1;
        return 0;
    }
    return vidur__push(s, t, VIDUR__EV_GLOBAL_SCHEDULE, -1, 0, NULL);
}

static int vidur__handle_global_schedule(vidur_sim *s, double t)
{
    int ntouched = 0, i, j;
    while (s->global_queue.n) {
        vidur_request *q = vidur__dq_pop_front(&s->global_queue);
        int r = s->gapi->route(s->gstate, s, q);
        if (r < 0 || r >= s->num_replicas) {
            vidur__set_error(&s->error, VIDUR_ERR_SCHEDULER, "global scheduler %s routed request %lld to replica %d (have %d)",
                             s->gapi->name, (long long)q->id, r, s->num_replicas);
            s->failed = 1;
            return 0;
        }
        q->replica_id = r;
        s->replicas[r].api->add_request(s->replicas[r].state, q);
        if (!s->touched_flag[r]) {
            s->touched_flag[r] = 1;
            s->touched[ntouched++] = r;
        }
    }
    /* one ReplicaSchedule per touched replica, in ascending id */
    for (i = 1; i < ntouched; i++) {
        int32_t v = s->touched[i];
        for (j = i; j > 0 && s->touched[j - 1] > v; j--) s->touched[j] = s->touched[j - 1];
        s->touched[j] = v;
    }
    for (i = 0; i < ntouched; i++) {
        s->touched_flag[s->touched[i]] = 0;
        if (!vidur__push(s, t, VIDUR__EV_REPLICA_SCHEDULE, s->touched[i], 0, NULL)) return 0;
    }
    return 1;
}

static int vidur__handle_replica_schedule(vidur_sim *s, double t, int ri)
{
    vidur_replica *rep = &s->replicas[ri];
    vidur__batch_ex *formed[64];
    int nformed = 0, k;
    int32_t i;
    while (rep->num_running_batches < rep->info.num_pipeline_stages) {
        vidur__batch_ex *b = vidur__batch_alloc(s);
        int ret;
        if (!b) {
            vidur__set_error(&s->error, VIDUR_ERR_MEMORY, "out of memory (batches)");
            s->failed = 1;
            return 0;
        }
        b->pub.replica_id = ri;
        ret = rep->api->next_batch(rep->state, &b->pub, &s->error);
        if (ret < 0) {
            vidur__batch_release(s, b);
            s->failed = 1;
            if (s->error.code == VIDUR_OK) vidur__set_error(&s->error, VIDUR_ERR_SCHEDULER, "replica scheduler %s failed", rep->api->name);
            return 0;
        }
        if (ret == 0 || b->pub.size == 0) {
            vidur__batch_release(s, b);
            break;
        }
        b->pub.id = s->next_batch_id++;
        rep->num_running_batches++;
        if (nformed == 64) { /* PP > 64: schedule in several rounds */
            vidur__set_error(&s->error, VIDUR_ERR_UNSUPPORTED, "more than 64 pipeline stages");
            s->failed = 1;
            return 0;
        }
        formed[nformed++] = b;
    }
    if (!nformed) return 1;
    if (s->cfg.store_utilization_metrics) vidur__meter_put(&rep->mem_meter, t, vidur_replica_kv_usage_percent(rep));
    for (k = 0; k < nformed; k++) {
        vidur__batch_ex *b = formed[k];
        b->pub.scheduled_at = t;
        for (i = 0; i < b->pub.size; i++) vidur__req_on_batch_schedule(b->pub.requests[i], t);
        vidur_batch_shape_compute(&b->pub, s->pparams->kv_cache_prediction_granularity, &b->shape);
        if (s->cfg.observer.on_batch_scheduled) s->cfg.observer.on_batch_scheduled(s->cfg.observer.user, s, rep, &b->pub);
        if (!vidur__push(s, t, VIDUR__EV_BATCH_STAGE_ARRIVAL, ri, 0, b)) return 0;
    }
    return 1;
}

static vidur__memo_entry *vidur__memo_slot(vidur_sim *s, const vidur_batch_shape *sh, int64_t key[6])
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the key words */
    int i;
    key[0] = sh->total_tokens;
    key[1] = sh->num_decode;
    key[2] = sh->decode_kv;
    key[3] = sh->num_prefill;
    key[4] = sh->prefill_kv;
    key[5] = sh->prefill_chunk;
    for (i = 0; i < 6; i++) h = (h ^ (uint64_t)key[i]) * 1099511628211ull;
    return &s->memo[(h ^ (h >> 29)) & (VIDUR__MEMO_SIZE - 1)];
}

static int vidur__handle_stage_schedule(vidur_sim *s, double t, int ri, int st)
{
    vidur_replica *rep = &s->replicas[ri];
    vidur__stage *stage = &rep->stages[st];
    vidur__batch_ex *b;
    int last = st == rep->info.num_pipeline_stages - 1;
    double exec, model;
    int32_t i;
    if (stage->busy || stage->n == 0) return 1;
    stage->busy = 1;
    b = stage->q[stage->head];
    stage->head = (stage->head + 1) % stage->cap;
    stage->n--;
    if (!b->have_stage_time) {
        /* stages differ only by send/recv, so two predictions cover all of them */
        int64_t key[6];
        vidur__memo_entry *me = vidur__memo_slot(s, &b->shape, key);
        if (!me->valid || memcmp(me->key, key, sizeof key)) {
            vidur_stage_time tm;
            int tp = rep->info.tensor_parallel_size, pp = rep->info.num_pipeline_stages;
            vidur_stage_time_compute(&s->predictor, s->model, s->pparams, tp, pp, pp - 1, &b->shape, &tm);
            me->total[1] = tm.total_time;
            me->model[1] = tm.model_time;
            me->total[0] = me->total[1];
            me->model[0] = me->model[1];
            if (pp > 1) {
                vidur_stage_time_compute(&s->predictor, s->model, s->pparams, tp, pp, 0, &b->shape, &tm);
                me->total[0] = tm.total_time;
                me->model[0] = tm.model_time;
            }
            memcpy(me->key, key, sizeof key);
            me->valid = 1;
        }
        b->stage_time[0] = me->total[0];
        b->stage_time[1] = me->total[1];
        b->stage_model_time[0] = me->model[0];
        b->stage_model_time[1] = me->model[1];
        b->have_stage_time = 1;
    }
    exec = b->stage_time[last];
    model = b->stage_model_time[last];
    (void)model;
    b->stage_scheduled_at = t;
    for (i = 0; i < b->pub.size; i++) vidur__req_on_stage_schedule(b->pub.requests[i], t);
    if (s->cfg.store_utilization_metrics) {
        double Ls = (double)(s->model->num_layers / rep->info.num_pipeline_stages);
        double hd = (double)s->model->embedding_dim / s->model->num_q_heads;
        double qw = (double)(s->model->num_q_heads / rep->info.tensor_parallel_size);
        double flops = 2.0 * b->shape.flops_tokens_sum * (double)s->plan.params_per_layer * Ls + 4.0 * Ls * qw * hd * b->shape.flops_attn_sum;
        double mfu = exec > 0 ? flops / exec * 100.0 / (s->device->fp16_tflops * 1099511627776.0) : 0;
        vidur__meter_put(&stage->busy_meter, t, 100);
        vidur__meter_put(&stage->mfu_meter, t, mfu);
    }
    return vidur__push(s, t + exec, VIDUR__EV_BATCH_STAGE_END, ri, st, b);
}

static int vidur__handle_stage_end(vidur_sim *s, double t, int ri, int st, vidur__batch_ex *b)
{
    vidur_replica *rep = &s->replicas[ri];
    vidur__stage *stage = &rep->stages[st];
    int last = st == rep->info.num_pipeline_stages - 1;
    double exec = b->stage_time[last], model = b->stage_model_time[last];
    int32_t i;
    stage->busy = 0;
    for (i = 0; i < b->pub.size; i++) vidur__req_on_stage_end(b->pub.requests[i], t, exec, model);
    if (s->cfg.store_utilization_metrics) {
        vidur__meter_put(&stage->busy_meter, t, 0);
        vidur__meter_put(&stage->mfu_meter, t, 0);
    }
    if (s->trace) vidur__trace_stage(s, b, ri, st, t, exec);
    if (!vidur__push(s, t, VIDUR__EV_REPLICA_STAGE_SCHEDULE, ri, st, NULL)) return 0;
    if (last) return vidur__push(s, t, VIDUR__EV_BATCH_END, ri, st, b);
    return vidur__push(s, t, VIDUR__EV_BATCH_STAGE_ARRIVAL, ri, st + 1, b);
}

static int vidur__stage_enqueue(vidur_sim *s, vidur__stage *stage, vidur__batch_ex *b)
{
    if (stage->n == stage->cap) {
        int64_t nc = stage->cap ? stage->cap * 2 : 4, k;
        vidur__batch_ex **nq = (vidur__batch_ex **)VIDUR_MALLOC((size_t)nc * sizeof *nq);
        if (!nq) {
            vidur__set_error(&s->error, VIDUR_ERR_MEMORY, "out of memory (stage queue)");
            s->failed = 1;
            return 0;
        }
        for (k = 0; k < stage->n; k++) nq[k] = stage->q[(stage->head + k) % stage->cap];
        VIDUR_FREE(stage->q);
        stage->q = nq;
        stage->cap = nc;
        stage->head = 0;
    }
    stage->q[(stage->head + stage->n) % stage->cap] = b;
    stage->n++;
    return 1;
}

static int vidur__handle_batch_end(vidur_sim *s, double t, int ri, vidur__batch_ex *b)
{
    vidur_replica *rep = &s->replicas[ri];
    int32_t i;
    int record;
    b->pub.completed_at = t;
    for (i = 0; i < b->pub.size; i++) vidur__req_on_batch_end(b->pub.requests[i], t, b->pub.num_tokens[i]);
    rep->num_running_batches--;
    rep->api->on_batch_end(rep->state, &b->pub);
    if (s->gapi->on_batch_end) s->gapi->on_batch_end(s->gstate, s, &b->pub);
    if (s->cfg.observer.on_batch_end) s->cfg.observer.on_batch_end(s->cfg.observer.user, s, rep, &b->pub);
    if (s->cfg.store_utilization_metrics) vidur__meter_put(&rep->mem_meter, t, vidur_replica_kv_usage_percent(rep));
    s->num_batches++;
    if (s->cfg.store_batch_metrics) {
        int ok = vidur__sketch_add(&s->batch_metric[0], t - b->pub.scheduled_at) &&
                 vidur__sketch_add(&s->batch_metric[1], (double)b->pub.total_num_tokens) &&
                 vidur__sketch_add(&s->batch_metric[2], (double)b->pub.num_prefill_tokens) &&
                 vidur__sketch_add(&s->batch_metric[3], (double)b->pub.num_decode_tokens) &&
                 vidur__sketch_add(&s->batch_metric[4], (double)b->pub.size);
        if (!ok) {
            vidur__set_error(&s->error, VIDUR_ERR_MEMORY, "out of memory (batch metrics)");
            s->failed = 1;
            return 0;
        }
    }
    if (s->gapi->on_prefill_end)
        for (i = 0; i < b->pub.size; i++)
            if (b->pub.requests[i]->prefill_completed_at == t) /* [F]: completed_prefills of the batch */
                s->gapi->on_prefill_end(s->gstate, s, b->pub.requests[i]);
    record = !((s->cfg.min_batch_index >= 0 && b->pub.id < s->cfg.min_batch_index) ||
               (s->cfg.max_batch_index >= 0 && b->pub.id > s->cfg.max_batch_index));
    for (i = 0; i < b->pub.size; i++) {
        vidur_request *q = b->pub.requests[i];
        if (!q->completed) continue;
        s->num_completed++;
        s->output_tokens += q->arrival_num_decode_tokens;
        s->num_restarts += q->num_restarts;
        s->last_completion = t;
        if (record) vidur__record_completion(s, q);
        if (s->gapi->on_request_end) s->gapi->on_request_end(s->gstate, s, q);
        if (s->cfg.observer.on_request_complete) s->cfg.observer.on_request_complete(s->cfg.observer.user, s, q);
        vidur__req_release(s, q);
    }
    vidur__batch_release(s, b);
    return vidur__push(s, t, VIDUR__EV_REPLICA_SCHEDULE, ri, 0, NULL);
}

VIDURDEF int vidur_sim_step(vidur_sim *s)
{
    vidur__event e;
    int ok = 1;
    if (s->failed) return -1;
    if (s->finished) return 0;
    if (s->next_arrival && (s->heap.n == 0 || s->next_arrival->arrived_at <= s->heap.ev[0].time)) {
        /* arrivals were all created before any other event in upstream Vidur: at a tie they go first */
        s->now = s->next_arrival->arrived_at;
        if (s->cfg.time_limit > 0 && s->now > s->cfg.time_limit) s->terminated = 1;
        ok = vidur__handle_arrival(s);
    } else if (s->heap.n == 0) {
        s->finished = 1;
        return 0;
    } else {
        vidur__heap_pop(&s->heap, &e);
        s->now = e.time;
        if (s->cfg.time_limit > 0 && s->now > s->cfg.time_limit) s->terminated = 1; /* the event is still handled */
        switch (e.type) {
        case VIDUR__EV_GLOBAL_SCHEDULE: ok = vidur__handle_global_schedule(s, e.time); break;
        case VIDUR__EV_REPLICA_SCHEDULE: ok = vidur__handle_replica_schedule(s, e.time, e.replica); break;
        case VIDUR__EV_BATCH_STAGE_ARRIVAL:
            ok = vidur__stage_enqueue(s, &s->replicas[e.replica].stages[e.stage], e.batch) &&
                 vidur__push(s, e.time, VIDUR__EV_REPLICA_STAGE_SCHEDULE, e.replica, e.stage, NULL);
            break;
        case VIDUR__EV_REPLICA_STAGE_SCHEDULE: ok = vidur__handle_stage_schedule(s, e.time, e.replica, e.stage); break;
        case VIDUR__EV_BATCH_STAGE_END: ok = vidur__handle_stage_end(s, e.time, e.replica, e.stage, e.batch); break;
        case VIDUR__EV_BATCH_END: ok = vidur__handle_batch_end(s, e.time, e.replica, e.batch); break;
        }
    }
    s->num_events++;
    if (!ok) {
        s->failed = 1;
        return -1;
    }
    if (s->terminated) s->finished = 1;
    return 1;
}

VIDURDEF vidur_result vidur_sim_run(vidur_sim *s)
{
    int r;
    while ((r = vidur_sim_step(s)) > 0) {}
    if (r < 0) return s->error.code ? s->error.code : VIDUR_ERR_SCHEDULER;
    if (!s->terminated) {
        int i, stuck = 0;
        for (i = 0; i < s->num_replicas; i++) stuck |= !s->replicas[i].api->is_empty(s->replicas[i].state);
        if (stuck || s->num_completed < s->num_arrived)
            vidur__log(s, VIDUR_LOG_WARN, "simulation ended with %lld of %lld requests unfinished (a request never fits the scheduler's limits)",
                       (long long)(s->num_arrived - s->num_completed), (long long)s->num_arrived);
    }
    return VIDUR_OK;
}

/* ---- section: metrics and output files ------------------------------------------------------- */
static const char *const vidur__metric_names[VIDUR_METRIC_COUNT] = {
    "request_e2e_time", "request_e2e_time_normalized", "request_execution_time", "request_execution_time_normalized",
    "request_model_execution_time", "request_model_execution_time_normalized", "request_preemption_time",
    "request_scheduling_delay", "request_execution_plus_preemption_time", "request_execution_plus_preemption_time_normalized",
    "prefill_e2e_time", "prefill_time_execution_plus_preemption", "prefill_time_execution_plus_preemption_normalized",
    "decode_time_execution_plus_preemption_normalized", "request_inter_arrival_delay", "request_num_tokens",
    "request_num_prefill_tokens", "request_num_decode_tokens", "request_pd_ratio", "request_num_restarts",
    "batch_execution_time", "batch_num_tokens", "batch_num_prefill_tokens", "batch_num_decode_tokens", "batch_size"};

VIDURDEF const char *vidur_metric_name(vidur_metric m) { return (int)m >= 0 && m < VIDUR_METRIC_COUNT ? vidur__metric_names[m] : "?"; }

/* k-th smallest (0-based) by quickselect; leaves v[k] in place with smaller values before it */
static double vidur__select(double *v, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (hi > lo) {
        double a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi], pivot, t;
        int64_t i = lo, j = hi;
        pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) { t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;
    }
    return v[k];
}

/* linear-interpolated quantile (NumPy's default) without sorting everything */
static double vidur__quantile(double *v, int64_t n, double q)
{
    double h = (double)(n - 1) * q, lo = floor(h), a, b;
    int64_t i = (int64_t)lo, j;
    a = vidur__select(v, n, i);
    if (i + 1 >= n || h == lo) return a;
    b = v[i + 1];
    for (j = i + 2; j < n; j++) if (v[j] < b) b = v[j]; /* everything after i is >= a */
    return a + (h - lo) * (b - a);
}

static void vidur__stat_of(double *v, int64_t n, vidur_stat *st)
{
    int64_t i;
    double sum = 0;
    memset(st, 0, sizeof *st);
    st->count = n;
    if (!n) return;
    st->min = st->max = v[0];
    for (i = 0; i < n; i++) {
        sum += v[i];
        if (v[i] < st->min) st->min = v[i];
        if (v[i] > st->max) st->max = v[i];
    }
    st->mean = sum / (double)n;
    st->p50 = vidur__quantile(v, n, 0.5);
    st->p90 = vidur__quantile(v, n, 0.9);
    st->p99 = vidur__quantile(v, n, 0.99);
}

VIDURDEF const vidur_summary *vidur_sim_summary(vidur_sim *s)
{
    vidur_summary *sum = &s->summary;
    int64_t n = s->max_request_id + 1, i, k;
    double *tmp;
    int m, r;
    memset(sum, 0, sizeof *sum);
    sum->num_requests = s->num_arrived;
    sum->num_completed = s->num_completed;
    sum->num_batches = s->num_batches;
    sum->num_events = s->num_events;
    sum->num_preemptions = s->num_restarts;
    sum->simulated_time = s->now;
    sum->time_limit_reached = s->terminated;
    if (s->num_completed > 0 && s->last_completion > s->first_arrival) {
        sum->throughput_rps = (double)s->num_completed / (s->last_completion - s->first_arrival);
        sum->output_tokens_per_s = (double)s->output_tokens / (s->last_completion - s->first_arrival);
    }
    tmp = (double *)VIDUR_MALLOC((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (tmp) {
        for (m = 0; m < VIDUR_METRIC_BATCH_EXECUTION_TIME; m++) {
            int completion = m < VIDUR_NUM_REQUEST_TIME_METRICS || m == VIDUR_METRIC_REQUEST_NUM_RESTARTS;
            k = 0;
            for (i = 0; i < n; i++) {
                const vidur__row *row = &s->rows[i];
                if (completion ? !row->completed : !row->arrived) continue;
                if (m == VIDUR_METRIC_REQUEST_INTER_ARRIVAL_DELAY && row->v[m] < 0) continue; /* the first request has none */
                tmp[k++] = row->v[m];
            }
            vidur__stat_of(tmp, k, &sum->metric[m]);
        }
        VIDUR_FREE(tmp);
    }
    for (m = 0; m < 5; m++) {
        const vidur__sketch *k = &s->batch_metric[m];
        vidur_stat *st = &sum->metric[VIDUR_METRIC_BATCH_EXECUTION_TIME + m];
        st->count = k->count;
        if (!k->count) continue;
        st->mean = k->sum / (double)k->count;
        st->min = k->min;
        st->max = k->max;
        st->p50 = vidur__sketch_quantile(k, 0.5);
        st->p90 = vidur__sketch_quantile(k, 0.9);
        st->p99 = vidur__sketch_quantile(k, 0.99);
    }
    sum->num_replicas = s->num_replicas;
    sum->replica = s->util;
    for (r = 0; r < s->num_replicas; r++) {
        vidur_replica *rep = &s->replicas[r];
        vidur_replica_utilization *u = &s->util[r];
        int st;
        double busy = 0, mfu = 0;
        u->memory_usage_min = rep->mem_meter.min;
        u->memory_usage_max = rep->mem_meter.max;
        u->memory_usage_weighted_mean = vidur__meter_mean(&rep->mem_meter);
        for (st = 0; st < rep->info.num_pipeline_stages; st++) {
            busy += vidur__meter_mean(&rep->stages[st].busy_meter);
            mfu += vidur__meter_mean(&rep->stages[st].mfu_meter);
        }
        u->busy_time_percent = busy / rep->info.num_pipeline_stages;
        u->mfu = mfu / rep->info.num_pipeline_stages;
        u->num_blocks = rep->info.num_blocks;
        u->prefix_cached_tokens = rep->prefix_cached_tokens;
        u->prefix_total_tokens = rep->prefix_total_tokens;
        u->prefix_hit_rate = rep->prefix_total_tokens ? (double)rep->prefix_cached_tokens / (double)rep->prefix_total_tokens : 0;
        u->prefix_block_queries = rep->kvm ? rep->kvm->stat_queries : 0;
        u->prefix_block_hits = rep->kvm ? rep->kvm->stat_hits : 0;
    }
    return sum;
}

static void vidur__json_stat(FILE *f, const char *name, const vidur_stat *st, int last)
{
    char b[6][40];
    vidur__fmt_double(b[0], 40, st->mean);
    vidur__fmt_double(b[1], 40, st->min);
    vidur__fmt_double(b[2], 40, st->max);
    vidur__fmt_double(b[3], 40, st->p50);
    vidur__fmt_double(b[4], 40, st->p90);
    vidur__fmt_double(b[5], 40, st->p99);
    fprintf(f, "    \"%s\": {\"count\": %lld, \"mean\": %s, \"min\": %s, \"max\": %s, \"p50\": %s, \"p90\": %s, \"p99\": %s}%s\n", name,
            (long long)st->count, b[0], b[1], b[2], b[3], b[4], b[5], last ? "" : ",");
}

VIDURDEF vidur_result vidur_summary_write_json(const vidur_summary *sum, FILE *f)
{
    int m, r;
    char b[3][40];
    vidur__fmt_double(b[0], 40, sum->simulated_time);
    vidur__fmt_double(b[1], 40, sum->throughput_rps);
    vidur__fmt_double(b[2], 40, sum->output_tokens_per_s);
    fprintf(f, "{\n  \"version\": \"%s\",\n  \"num_requests\": %lld,\n  \"num_completed\": %lld,\n  \"num_batches\": %lld,\n  \"num_events\": %lld,\n"
               "  \"num_preemptions\": %lld,\n  \"simulated_time\": %s,\n  \"time_limit_reached\": %s,\n  \"throughput_rps\": %s,\n  \"output_tokens_per_s\": %s,\n",
            VIDUR_VERSION_STRING, (long long)sum->num_requests, (long long)sum->num_completed, (long long)sum->num_batches,
            (long long)sum->num_events, (long long)sum->num_preemptions, b[0], sum->time_limit_reached ? "true" : "false", b[1], b[2]);
    fputs("  \"metrics\": {\n", f);
    for (m = 0; m < VIDUR_METRIC_COUNT; m++) vidur__json_stat(f, vidur__metric_names[m], &sum->metric[m], m == VIDUR_METRIC_COUNT - 1);
    fputs("  },\n  \"replicas\": [\n", f);
    for (r = 0; r < sum->num_replicas; r++) {
        const vidur_replica_utilization *u = &sum->replica[r];
        char c[5][40];
        vidur__fmt_double(c[0], 40, u->memory_usage_min);
        vidur__fmt_double(c[1], 40, u->memory_usage_max);
        vidur__fmt_double(c[2], 40, u->memory_usage_weighted_mean);
        vidur__fmt_double(c[3], 40, u->busy_time_percent);
        vidur__fmt_double(c[4], 40, u->mfu);
        fprintf(f, "    {\"replica\": %d, \"num_blocks\": %lld, \"memory_usage_min\": %s, \"memory_usage_max\": %s, \"memory_usage_weighted_mean\": %s, \"busy_time_percent\": %s, \"mfu\": %s",
                r, (long long)u->num_blocks, c[0], c[1], c[2], c[3], c[4]);
        vidur__fmt_double(c[0], 40, u->prefix_hit_rate);
        fprintf(f, ", \"prefix_cached_tokens\": %lld, \"prefix_total_tokens\": %lld, \"prefix_hit_rate\": %s, \"prefix_block_queries\": %lld, \"prefix_block_hits\": %lld}%s\n",
                (long long)u->prefix_cached_tokens, (long long)u->prefix_total_tokens, c[0], (long long)u->prefix_block_queries,
                (long long)u->prefix_block_hits, r == sum->num_replicas - 1 ? "" : ",");
    }
    fputs("  ]\n}\n", f);
    return ferror(f) ? VIDUR_ERR_IO : VIDUR_OK;
}

VIDURDEF void vidur_summary_print(const vidur_summary *sum, FILE *f)
{
    static const int shown[] = {VIDUR_METRIC_PREFILL_E2E_TIME, VIDUR_METRIC_DECODE_TIME_EXECUTION_PLUS_PREEMPTION_NORMALIZED,
                                VIDUR_METRIC_REQUEST_E2E_TIME, VIDUR_METRIC_REQUEST_SCHEDULING_DELAY, VIDUR_METRIC_BATCH_SIZE,
                                VIDUR_METRIC_BATCH_NUM_TOKENS};
    static const char *labels[] = {"TTFT (prefill_e2e_time) s", "TBT (decode_time_..._normalized) s", "E2E latency s",
                                   "scheduling delay s", "batch size", "batch tokens"};
    int i, r;
    double mem = 0, busy = 0, mfu = 0;
    fprintf(f, "requests %lld arrived, %lld completed; %lld batches; %lld events; %lld preemptions; simulated %.3f s%s\n",
            (long long)sum->num_requests, (long long)sum->num_completed, (long long)sum->num_batches, (long long)sum->num_events,
            (long long)sum->num_preemptions, sum->simulated_time, sum->time_limit_reached ? " (time limit)" : "");
    fprintf(f, "throughput %.3f requests/s, %.1f output tokens/s\n", sum->throughput_rps, sum->output_tokens_per_s);
    fprintf(f, "%-36s %12s %12s %12s %12s\n", "metric", "mean", "p50", "p90", "p99");
    for (i = 0; i < (int)(sizeof shown / sizeof shown[0]); i++) {
        const vidur_stat *st = &sum->metric[shown[i]];
        fprintf(f, "%-36s %12.6g %12.6g %12.6g %12.6g\n", labels[i], st->mean, st->p50, st->p90, st->p99);
    }
    for (r = 0; r < sum->num_replicas; r++) {
        mem += sum->replica[r].memory_usage_weighted_mean;
        busy += sum->replica[r].busy_time_percent;
        mfu += sum->replica[r].mfu;
    }
    if (sum->num_replicas)
        fprintf(f, "replicas %d: KV memory %.1f%% (time-weighted mean), busy %.1f%%, MFU %.2f%%\n", sum->num_replicas,
                mem / sum->num_replicas, busy / sum->num_replicas, mfu / sum->num_replicas);
}

/* ---- atomic files: write NAME.tmp, then rename over NAME ---- */
typedef struct vidur__afile {
    FILE *f;
    char tmp[VIDUR_PATH_MAX + 64];
    char final_[VIDUR_PATH_MAX + 64];
} vidur__afile;

static int vidur__aopen(vidur__afile *a, const char *dir, const char *name, vidur_error *err)
{
    snprintf(a->final_, sizeof a->final_, "%s/%s", dir, name);
    snprintf(a->tmp, sizeof a->tmp, "%s/%s.tmp", dir, name);
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        vidur__set_error(err, VIDUR_ERR_IO, "%s: cannot write: %s", a->tmp, strerror(errno));
        return 0;
    }
    return 1;
}

static int vidur__aclose(vidur__afile *a, int ok, vidur_error *err)
{
    int bad = ferror(a->f);
    if (fclose(a->f) != 0) bad = 1;
    a->f = NULL;
    if (!ok || bad) {
        remove(a->tmp);
        if (ok) vidur__set_error(err, VIDUR_ERR_IO, "%s: write failed", a->final_);
        return 0;
    }
    if (rename(a->tmp, a->final_) != 0) {
        remove(a->tmp);
        vidur__set_error(err, VIDUR_ERR_IO, "%s: cannot rename into place: %s", a->final_, strerror(errno));
        return 0;
    }
    return 1;
}

static int vidur__mkdirs(const char *path, vidur_error *err)
{
    char buf[VIDUR_PATH_MAX + 64];
    size_t i, n = strlen(path);
    if (n >= sizeof buf) {
        vidur__set_error(err, VIDUR_ERR_IO, "%s: path too long", path);
        return 0;
    }
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (vidur__mkdir(buf) != 0 && errno != EEXIST) {
                vidur__set_error(err, VIDUR_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
                return 0;
            }
            buf[i] = c;
        }
    }
    return 1;
}

static void vidur__csv_cell(FILE *f, double v, int present)
{
    char b[40];
    fputc(',', f);
    if (!present) return;
    vidur__fmt_double(b, sizeof b, v);
    fputs(b, f);
}

static int vidur__write_request_metrics(vidur_sim *s, FILE *f)
{
    int64_t i;
    int m;
    fputs("Request Id", f);
    for (m = 0; m < VIDUR_METRIC_BATCH_EXECUTION_TIME; m++) fprintf(f, ",%s", vidur__metric_names[m]);
    fputc('\n', f);
    for (i = 0; i <= s->max_request_id; i++) {
        const vidur__row *row = &s->rows[i];
        if (!row->arrived && !row->completed) continue;
        fprintf(f, "%lld", (long long)i);
        for (m = 0; m < VIDUR_NUM_REQUEST_TIME_METRICS; m++) vidur__csv_cell(f, row->v[m], row->completed);
        vidur__csv_cell(f, row->v[VIDUR_METRIC_REQUEST_INTER_ARRIVAL_DELAY], row->arrived && row->v[VIDUR_METRIC_REQUEST_INTER_ARRIVAL_DELAY] >= 0);
        for (m = VIDUR_METRIC_REQUEST_NUM_TOKENS; m <= VIDUR_METRIC_REQUEST_PD_RATIO; m++) vidur__csv_cell(f, row->v[m], row->arrived);
        vidur__csv_cell(f, row->v[VIDUR_METRIC_REQUEST_NUM_RESTARTS], row->completed);
        fputc('\n', f);
    }
    return !ferror(f);
}

VIDURDEF vidur_result vidur_sim_write_outputs(vidur_sim *s, const char *dir, char *out_dir, size_t out_dir_size, vidur_error *err)
{
    char path[VIDUR_PATH_MAX + 64], plots[VIDUR_PATH_MAX + 80];
    vidur__afile a;
    const vidur_summary *sum = vidur_sim_summary(s);
    int ok, r;
    if (!dir) {
        if (s->cfg.timestamp_output_dir) {
            /* the only use of the clock: naming the folder, as Vidur does */
            time_t now = time(NULL);
            struct tm tmv, *tp;
            long usec = 0;
#if defined(_WIN32)
            tp = (localtime_s(&tmv, &now) == 0) ? &tmv : NULL;
#else
            struct timeval tv;
            if (gettimeofday(&tv, NULL) == 0) {
                now = tv.tv_sec;
                usec = (long)tv.tv_usec;
            }
            tp = localtime(&now);
            if (tp) { tmv = *tp; tp = &tmv; }
#endif
            if (!tp) {
                vidur__set_error(err, VIDUR_ERR_IO, "cannot read the clock to name the output folder");
                return VIDUR_ERR_IO;
            }
            snprintf(path, sizeof path, "%s/%04d-%02d-%02d_%02d-%02d-%02d-%06ld", s->cfg.output_dir, tp->tm_year + 1900, tp->tm_mon + 1,
                     tp->tm_mday, tp->tm_hour, tp->tm_min, tp->tm_sec, usec);
        } else {
            snprintf(path, sizeof path, "%s", s->cfg.output_dir);
        }
    } else {
        snprintf(path, sizeof path, "%s", dir);
    }
    if (!vidur__mkdirs(path, err)) return VIDUR_ERR_IO;
    if (out_dir && out_dir_size) vidur__copy(out_dir, out_dir_size, path);
    if (!vidur__aopen(&a, path, "config.json", err)) return VIDUR_ERR_IO;
    ok = vidur_config_write_json(&s->cfg, a.f) == VIDUR_OK;
    if (!vidur__aclose(&a, ok, err)) return VIDUR_ERR_IO;
    if (s->cfg.store_request_metrics) {
        if (!vidur__aopen(&a, path, "request_metrics.csv", err)) return VIDUR_ERR_IO;
        ok = vidur__write_request_metrics(s, a.f);
        if (!vidur__aclose(&a, ok, err)) return VIDUR_ERR_IO;
    }
    if (!vidur__aopen(&a, path, "summary.json", err)) return VIDUR_ERR_IO;
    ok = vidur_summary_write_json(sum, a.f) == VIDUR_OK;
    if (!vidur__aclose(&a, ok, err)) return VIDUR_ERR_IO;
    if (s->cfg.store_plots && s->cfg.store_utilization_metrics) {
        snprintf(plots, sizeof plots, "%s/plots", path);
        if (!vidur__mkdirs(plots, err)) return VIDUR_ERR_IO;
        for (r = 0; r < s->num_replicas; r++) {
            char name[64], b[3][40];
            const vidur_replica_utilization *u = &sum->replica[r];
            snprintf(name, sizeof name, "replica_%d_memory_usage.json", r);
            if (!vidur__aopen(&a, plots, name, err)) return VIDUR_ERR_IO;
            vidur__fmt_double(b[0], 40, u->memory_usage_min);
            vidur__fmt_double(b[1], 40, u->memory_usage_max);
            vidur__fmt_double(b[2], 40, u->memory_usage_weighted_mean);
            fprintf(a.f, "{\"replica_%d_memory_usage_min\": %s, \"replica_%d_memory_usage_max\": %s, \"replica_%d_memory_usage_weighted_mean\": %s}\n",
                    r, b[0], r, b[1], r, b[2]);
            if (!vidur__aclose(&a, 1, err)) return VIDUR_ERR_IO;
        }
    }
    if (s->trace) {
        char buf[65536];
        size_t n;
        if (!vidur__aopen(&a, path, "chrome_trace.json", err)) return VIDUR_ERR_IO;
        fputs("{\"traceEvents\": [", a.f);
        fflush(s->trace);
        rewind(s->trace);
        while ((n = fread(buf, 1, sizeof buf, s->trace)) > 0) fwrite(buf, 1, n, a.f);
        fseek(s->trace, 0, SEEK_END);
        fputs("\n]}\n", a.f);
        if (!vidur__aclose(&a, 1, err)) return VIDUR_ERR_IO;
    }
    return VIDUR_OK;
}

#endif /* VIDUR_IMPLEMENTATION_ONCE */
#endif /* VIDUR_IMPLEMENTATION */

/*
   LICENCE: MIT License. Copyright (c) 2026 the vidur.h authors.
   Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
   associated documentation files (the "Software"), to deal in the Software without restriction,
   including without limitation the rights to use, copy, modify, merge, publish, distribute,
   sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
   furnished to do so, subject to the following conditions: The above copyright notice and this
   permission notice shall be included in all copies or substantial portions of the Software.
   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
*/
