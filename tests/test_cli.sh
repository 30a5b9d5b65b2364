#!/usr/bin/env bash
# Tests of the command-line tool (tools/vidur.c). VIDUR selects the binary (default
# build/vidur; tests/run.sh also runs this with build/asan/vidur).
# Prints PASS/FAIL lines and, last, "N passed, N failed".
. "$(dirname "$0")/lib.sh"
test_tmpdir cli

if [ ! -x "$VIDUR" ]; then
    bad "binary $VIDUR exists"
    echo "$pass passed, $fail failed"
    exit 1
fi

# A small, fast simulation (roofline predictor, 12 short requests).
SMALL=(--execution_time_predictor_config_type roofline
       --synthetic_request_generator_config_num_requests 12
       --fixed_request_length_generator_config_prefill_tokens 128
       --fixed_request_length_generator_config_decode_tokens 8
       --poisson_request_interval_generator_config_qps 4)

# expect_error NAME [needle...] -- ARGS...: the run must fail, print exactly one line on
# stderr containing every needle, and create nothing under the output folder it was given.
expect_error() {
    local name=$1
    shift
    local needles=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do needles+=("$1"); shift; done
    shift
    local out="$T/out_${name//[^a-zA-Z0-9]/_}"
    local rc=0
    "$VIDUR" "$@" --metrics_config_output_dir "$out" >"$T/stdout" 2>"$T/stderr" || rc=$?
    local why=""
    if [ "$rc" -eq 0 ]; then
        why="exit status 0"
    elif [ "$rc" -ge 128 ]; then
        why="killed by signal $((rc - 128))"
    elif [ "$(wc -l <"$T/stderr")" -ne 1 ] || [ "$(wc -c <"$T/stderr")" -le 1 ]; then
        why="expected exactly one line on stderr, got $(wc -l <"$T/stderr"): $(head -c 600 "$T/stderr")"
    elif [ -e "$out" ]; then
        why="output folder $out was created"
    else
        local n
        for n in "${needles[@]}"; do
            if ! grep -qF -- "$n" "$T/stderr"; then
                why="stderr does not mention '$n': $(cat "$T/stderr")"
                break
            fi
        done
    fi
    if [ -z "$why" ]; then ok "$name"; else bad "$name" "$why"; fi
}

# ---- version and help -------------------------------------------------------------------
want_version=$(sed -n 's/^#define VIDUR_VERSION_STRING "\(.*\)"/\1/p' vidur.h)
if out=$("$VIDUR" --version 2>&1) && [ -n "$want_version" ] && grep -qF "$want_version" <<<"$out"; then
    ok "--version prints $want_version"
else
    bad "--version prints ${want_version:-the version}" "got: $out"
fi

if "$VIDUR" --help >"$T/help" 2>&1; then
    if grep -q -- "replica_config_device" "$T/help" && grep -A3 -- "replica_config_device" "$T/help" | grep -q "a100"; then
        ok "--help lists replica_config_device with its default a100"
    else
        bad "--help lists replica_config_device with its default a100"
    fi
    if grep -q -- "sarathi_scheduler_config_chunk_size" "$T/help"; then
        ok "--help lists sarathi_scheduler_config_chunk_size"
    else
        bad "--help lists sarathi_scheduler_config_chunk_size"
    fi
else
    bad "--help exits 0"
fi

# ---- bad inputs: non-zero exit, one line on stderr naming the culprit, no output folder -----
expect_error "missing INI file" "$T/nonexistent.ini" -- "$T/nonexistent.ini" "${SMALL[@]}"

printf '[replica_config]\ndevcie = a100\n' >"$T/typo.ini"
expect_error "unknown key in INI" "typo.ini" "devcie" -- "$T/typo.ini" "${SMALL[@]}"

printf '[replica_config]\ndevice = a100\n[nonexistent_section]\nkey = 1\n' >"$T/section.ini"
expect_error "unknown section in INI" "section.ini" "nonexistent_section" -- "$T/section.ini" "${SMALL[@]}"

expect_error "unknown flag" "replica_config_devce" -- "${SMALL[@]}" --replica_config_devce a100

expect_error "bad number" "synthetic_request_generator_config_num_requests" "12x" -- \
    "${SMALL[@]}" --synthetic_request_generator_config_num_requests 12x

printf '[synthetic_request_generator_config]\nnum_requests = 12x\n' >"$T/badnum.ini"
expect_error "bad number in INI" "badnum.ini" "num_requests" -- "$T/badnum.ini" "${SMALL[@]}"

expect_error "negative QPS" "poisson_request_interval_generator_config_qps" -- \
    "${SMALL[@]}" --poisson_request_interval_generator_config_qps -1

expect_error "tensor_parallel_size 0" "tensor_parallel_size" -- \
    "${SMALL[@]}" --replica_config_tensor_parallel_size 0

expect_error "unknown model" "meta-llama/NoSuchModel" -- "${SMALL[@]}" --replica_config_model_name meta-llama/NoSuchModel

printf 'arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,100,10\n1.5,abc,10\n2.0,100,10\n' >"$T/bad_trace.csv"
expect_error "malformed trace CSV row" "bad_trace.csv" "3" -- "${SMALL[@]}" \
    --request_generator_config_type trace_replay --trace_request_generator_config_trace_file "$T/bad_trace.csv"

# one past the largest 64-bit integer (the largest itself is read: tests/test_vllm_v1.c)
printf 'arrived_at,num_prefill_tokens,num_decode_tokens,block_hash_ids\n0.0,32,10,"[1, 2]"\n1.5,32,10,"[3, 9223372036854775808]"\n' >"$T/big_hash.csv"
expect_error "block hash beyond 64 bits" "big_hash.csv" ":3:" "block_hash_ids" -- "${SMALL[@]}" \
    --request_generator_config_type trace_replay --trace_request_generator_config_trace_file "$T/big_hash.csv"

expect_error "missing trace CSV" "missing_trace.csv" -- "${SMALL[@]}" \
    --request_generator_config_type trace_replay --trace_request_generator_config_trace_file "$T/missing_trace.csv"

{ printf '[metrics_config]\nwandb_project = '; head -c 300 /dev/zero | tr '\0' x; printf '\n'; } >"$T/long.ini"
expect_error "INI line too long" "long.ini" "2" -- "$T/long.ini" "${SMALL[@]}"

# ---- a good run -------------------------------------------------------------------------
rc=0
"$VIDUR" "${SMALL[@]}" --metrics_config_output_dir "$T/good" >"$T/good.out" 2>"$T/good.err" || rc=$?
if [ "$rc" -eq 0 ]; then ok "small simulation exits 0"; else bad "small simulation exits 0" "status $rc: $(head -c 600 "$T/good.err")"; fi
# default: a timestamped folder inside the output folder
n=$(find "$T/good" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
if [ "$n" -eq 1 ]; then ok "timestamped output folder created"; else bad "timestamped output folder created" "$n folders"; fi
run_dir=$(find "$T/good" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n 1)
for f in config.json request_metrics.csv; do
    if [ -n "$run_dir" ] && [ -s "$run_dir/$f" ]; then ok "output has $f"; else bad "output has $f"; fi
done
if [ -n "$run_dir" ] && grep -qF "$(basename "$run_dir")" "$T/good.out"; then
    ok "prints the output folder"
else
    bad "prints the output folder"
fi
if [ -n "$run_dir" ] && [ "$(wc -l <"$run_dir/request_metrics.csv")" -eq 13 ]; then
    ok "request_metrics.csv has 12 rows"
else
    bad "request_metrics.csv has 12 rows"
fi
if [ ! -s "$T/good.err" ]; then ok "nothing on stderr for a good run"; else bad "nothing on stderr for a good run" "$(head -c 300 "$T/good.err")"; fi

# INI and flags give the same config.json
cat >"$T/small.ini" <<'EOF'
[execution_time_predictor_config]
type = roofline
[synthetic_request_generator_config]
num_requests = 12
[fixed_request_length_generator_config]
prefill_tokens = 128
decode_tokens = 8
[poisson_request_interval_generator_config]
qps = 4
EOF
mkdir -p "$T/ini_run" "$T/flag_run"
(cd "$T/ini_run" && "$VIDUR" "$T/small.ini" --metrics_config_output_dir out \
    --metrics_config_timestamp_output_dir false >/dev/null 2>&1)
(cd "$T/flag_run" && "$VIDUR" "${SMALL[@]}" --metrics_config_output_dir out \
    --metrics_config_timestamp_output_dir false >/dev/null 2>&1)
if [ -f "$T/ini_run/out/config.json" ] && cmp -s "$T/ini_run/out/config.json" "$T/flag_run/out/config.json"; then
    ok "INI file and flags give the same config.json"
else
    bad "INI file and flags give the same config.json"
fi

# ---- determinism: the same run twice gives byte-identical files ---------------------------
for d in run1 run2; do
    mkdir -p "$T/$d"
    (cd "$T/$d" && "$VIDUR" "${SMALL[@]}" --length_generator_config_type uniform \
        --uniform_request_length_generator_config_min_tokens 64 \
        --uniform_request_length_generator_config_max_tokens 512 \
        --cluster_config_num_replicas 2 --global_scheduler_config_type random \
        --metrics_config_output_dir out --metrics_config_timestamp_output_dir false \
        >stdout.txt 2>stderr.txt) || bad "determinism run $d exits 0" "$(head -c 300 "$T/$d/stderr.txt")"
done
files=$(cd "$T/run1/out" 2>/dev/null && find . -type f | sort)
files2=$(cd "$T/run2/out" 2>/dev/null && find . -type f | sort)
if [ -n "$files" ] && [ "$files" = "$files2" ]; then
    ok "determinism: same file list ($(wc -l <<<"$files") files)"
    differ=""
    while IFS= read -r f; do
        cmp -s "$T/run1/out/$f" "$T/run2/out/$f" || differ="$differ $f"
    done <<<"$files"
    if [ -z "$differ" ]; then ok "determinism: every output file identical"; else bad "determinism: every output file identical" "differ:$differ"; fi
else
    bad "determinism: same file list"
fi
if [ -f "$T/run1/out/config.json" ] && [ -z "$(find "$T/run1/out" -name '*.tmp*' -o -name '*~' -o -name '.*.tmp')" ]; then
    ok "no temporary files left behind"
else
    bad "no temporary files left behind"
fi

finish
