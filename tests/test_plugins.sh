#!/usr/bin/env bash
# Scheduler plug-ins from the command line: `vidur --plugin FILE.so` (vidur_cli.h) with
# examples/replica_scheduler.c built as build/plugins/spf.so (make test builds it), its own key,
# its name in error messages and --help; and the end-of-run checks that catch a scheduler which
# loses requests or keeps a finished request's KV blocks. VIDUR selects the binary.
# Prints PASS/FAIL/SKIP lines and, last, "N passed, N failed".
. "$(dirname "$0")/lib.sh"
test_tmpdir plugins
SPF=$ROOT/build/plugins/spf.so
RUN=(--execution_time_predictor_config_type roofline --length_generator_config_type lognormal
     --synthetic_request_generator_config_num_requests 60 --poisson_request_interval_generator_config_qps 8
     --metrics_config_timestamp_output_dir false --no-metrics_config_enable_chrome_trace)

# one_error NAME NEEDLE... -- ARGS...: exit 1, exactly one stderr line holding every needle (lib.sh)
one_error() { expect_one_line_error "$VIDUR" "$@"; }

if [ ! -f "$SPF" ] || [ "$SPF" -ot examples/replica_scheduler.c ]; then
    bad "build/plugins/spf.so is built" "missing or older than examples/replica_scheduler.c (make build/plugins/spf.so)"
    finish
fi

# ---- a plug-in loaded by name from the CLI ---------------------------------------------------
if "$VIDUR" --plugin "$SPF" --replica_scheduler_config_type spf "${RUN[@]}" --metrics_config_output_dir "$T/spf" >"$T/spf.out" 2>"$T/spf.err" &&
    grep -q "^requests 60 arrived, 60 completed" "$T/spf.out"; then
    ok "--plugin spf.so: replica_scheduler_config_type spf runs every request"
else
    bad "--plugin spf.so: replica_scheduler_config_type spf runs every request" "$(cat "$T/spf.err") $(head -1 "$T/spf.out")"
fi
grep -q '"name": "spf"' "$T/spf/config.json" && grep -q '"chunk_size": 512' "$T/spf/config.json" \
    && ok "config.json: the plug-in scheduler with its own key (default 512)" || bad "config.json: the plug-in scheduler with its own key"
# the plug-in's key, as a flag and in an INI section of its own; a bare name is found in the current folder
mkdir -p "$T/cwd" && cp "$SPF" "$T/cwd/spf.so"
printf '[replica_scheduler_config]\ntype = spf\n[spf_scheduler_config]\nchunk_size = 64\n' >"$T/cwd/spf.ini"
if (cd "$T/cwd" && "$VIDUR" --plugin spf.so spf.ini "${RUN[@]}" --metrics_config_output_dir out >out.txt 2>err.txt); then
    # the budget caps a batch's tokens: with 64, no batch has more than 64 (the summary's batch tokens p99)
    p99=$(awk '/^batch tokens/ { print $NF }' "$T/cwd/out.txt")
    grep -q '"chunk_size": 64' "$T/cwd/out/config.json" && awk -v p="$p99" 'BEGIN { exit !(p + 0 <= 64.1) }' \
        && ok "[spf_scheduler_config] chunk_size = 64 from an INI file bounds batch tokens (p99 $p99)" \
        || bad "[spf_scheduler_config] chunk_size from an INI file" "p99 $p99"
else
    bad "--plugin spf.so (current folder) with an INI file" "$(cat "$T/cwd/err.txt")"
fi
"$VIDUR" --plugin "$SPF" --help >"$T/help.txt" 2>&1
grep -q "replica_scheduler_config_type spf" "$T/help.txt" && grep -q -- "--spf_scheduler_config_chunk_size (default: 512)" "$T/help.txt" \
    && ok "--help lists what the plug-in registered" || bad "--help lists what the plug-in registered"
one_error "a registered name appears in the choices" "unknown value 'spff'" "|spf)" -- --plugin "$SPF" --replica_scheduler_config_type spff
one_error "a plug-in key's value is checked" "spf_scheduler_config_chunk_size: 'abc' is not a valid integer" -- \
    --plugin "$SPF" --spf_scheduler_config_chunk_size abc
one_error "a misspelt plug-in key gets a did-you-mean" "did you mean --spf_scheduler_config_chunk_size?" -- \
    --plugin "$SPF" --spf_scheduler_config_chunk_sise 64
one_error "a missing plug-in file" "--plugin $T/none.so: cannot load" -- --plugin "$T/none.so"

# ---- docs/schedulers.md: its replica-scheduler snippet is a verbatim excerpt of the compiled example
missing=$(awk '/<!-- snippet: examples\/replica_scheduler.c/ { want = 1; next }
               want && /^```c/ { inblock = 1; next }
               inblock && /^```/ { exit }
               inblock && NF { print }' docs/schedulers.md | while IFS= read -r line; do
    grep -qxF -- "$line" examples/replica_scheduler.c || echo "$line"; done)
nlines=$(awk '/<!-- snippet: examples\/replica_scheduler.c/ { want = 1; next } want && /^```c/ { b = 1; next } b && /^```/ { exit } b && NF { n++ } END { print n + 0 }' docs/schedulers.md)
if [ "$nlines" -gt 5 ] && [ -z "$missing" ]; then
    ok "docs/schedulers.md's replica-scheduler snippet ($nlines lines) is in examples/replica_scheduler.c, which compiles against vidur.h"
else
    bad "docs/schedulers.md's replica-scheduler snippet matches examples/replica_scheduler.c" "${missing:-no snippet found}"
fi

# ---- the end-of-run checks (built as throw-away plug-ins) ---------------------------------------
CC=${CC:-cc}
if ! command -v "$CC" >/dev/null 2>&1; then
    skip "lossy plug-ins" "no C compiler"
    finish
fi
cat >"$T/bad.c" <<'EOF'
/* two broken replica schedulers: "lossy" forgets every request it is given; "leaky" serves
   them (one whole-prompt batch, then decodes) but never frees their KV blocks */
#include "vidur.h"
#include <stdlib.h>
typedef struct st { vidur_replica *r; vidur_request *q[4096]; int n; } st;
static void *mk(vidur_replica *r, void *u) { st *s = (st *)calloc(1, sizeof *s); (void)u; if (s) s->r = r; return s; }
static void rm(void *s) { free(s); }
static void lose(void *s, vidur_request *q) { (void)s; (void)q; }
static void keep(void *s_, vidur_request *q) { st *s = (st *)s_; if (s->n < 4096) s->q[s->n++] = q; }
static int none(void *s, vidur_batch *b, vidur_error *e) { (void)s; (void)b; (void)e; return 0; }
static int one(void *s_, vidur_batch *b, vidur_error *e)
{
    st *s = (st *)s_;
    vidur_request *q;
    (void)e;
    if (!s->n) return 0;
    q = s->q[0];
    if (q->num_allocated < 0) vidur_replica_allocate(s->r, q, 1);
    if (!vidur_batch_add(b, q, q->is_prefill_complete ? 1 : q->num_prefill_tokens)) return -1;
    return 1;
}
static void end0(void *s, vidur_batch *b) { (void)s; (void)b; }
static void end1(void *s_, vidur_batch *b)
{
    st *s = (st *)s_;
    if (b->requests[0]->completed) { /* forgets it, without vidur_replica_free */
        int i;
        for (i = 1; i < s->n; i++) s->q[i - 1] = s->q[i];
        s->n--;
    }
}
static int empty0(void *s) { (void)s; return 1; }
static int empty1(void *s) { return ((st *)s)->n == 0; }
static const vidur_replica_scheduler_api lossy = {"lossy", mk, rm, lose, none, end0, empty0, NULL, NULL, NULL};
static const vidur_replica_scheduler_api leaky = {"leaky", mk, rm, keep, one, end1, empty1, NULL, NULL, NULL};
vidur_result vidur_plugin_register(vidur_config *cfg, vidur_error *err);
vidur_result vidur_plugin_register(vidur_config *cfg, vidur_error *err)
{
    vidur_result r = vidur_config_add_replica_scheduler(cfg, &lossy, err);
    return r ? r : vidur_config_add_replica_scheduler(cfg, &leaky, err);
}
EOF
if "$CC" -std=c99 -Wall -Wextra -Werror -shared -fPIC -I"$ROOT" "$T/bad.c" -o "$T/bad.so" 2>"$T/cc.err"; then
    one_error "a scheduler that loses requests is an error naming the replica and the scheduler" \
        "replica 0 (replica scheduler lossy): 60 of the 60 requests routed to it neither completed nor wait in its queues" -- \
        --plugin "$T/bad.so" --replica_scheduler_config_type lossy "${RUN[@]}" --metrics_config_output_dir "$T/lossy"
    [ ! -e "$T/lossy" ] && ok "no outputs from a run that lost requests" || bad "no outputs from a run that lost requests"
    one_error "a finished request whose KV blocks were not freed is an error" "replica 0 (replica scheduler leaky): request 0 completed but still holds 1 KV blocks after on_batch_end" \
        "vidur_replica_free" -- --plugin "$T/bad.so" --replica_scheduler_config_type leaky "${RUN[@]}" --metrics_config_output_dir "$T/leaky"
    printf 'int vidur_test_nothing_here;\n' >"$T/empty.c"
    "$CC" -shared -fPIC "$T/empty.c" -o "$T/empty.so" &&
        one_error "a shared object without vidur_plugin_register" "exports no vidur_plugin_register" -- --plugin "$SPF" --plugin "$T/empty.so"
else
    bad "the broken plug-ins compile" "$(head -c 400 "$T/cc.err")"
fi
finish
