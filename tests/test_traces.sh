#!/usr/bin/env bash
# Tests of the trace tools: tools/vidur-mooncake.c (Mooncake JSONL -> trace CSV) and
# tools/vidur-convgen.c (synthetic multi-turn conversations), and replays of their output by
# the CLI. VIDUR selects the CLI (default build/vidur); the tools are taken from the same
# folder, so tests/run.sh's second pass (VIDUR=build/asan/vidur) runs the sanitized tools.
# Prints PASS/FAIL lines and, last, "N passed, N failed".
. "$(dirname "$0")/lib.sh"
BIN=$(dirname "$VIDUR")
MC=$BIN/vidur-mooncake
CG=$BIN/vidur-convgen
MOONCAKE=../shared/data/traces/mooncake/conversation_trace.jsonl
SMALL=data/traces/conversations_small.csv
SMALL_ARGS=(--sessions 60 --seed 42) # also written in data/README.md

test_tmpdir traces

check() { # NAME CMD...: pass when CMD succeeds
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

missing=0
for tool in "$MC:tools/vidur-mooncake.c" "$CG:tools/vidur-convgen.c" "$VIDUR:tools/vidur.c"; do
    b=${tool%%:*} src=${tool#*:}
    if [ -x "$b" ] && [ "$b" -nt "$src" ]; then ok "$b is built"; else bad "$b is built" "missing or older than $src"; missing=1; fi
done
if [ $missing -ne 0 ]; then
    echo "$pass passed, $fail failed"
    exit 1
fi

# cover FILE: every row has block_size 16 and 0 <= P + D - 16 * len(block_hash_ids) < 16;
# prints the number of rows checked, or "bad LINE: ..." for the first bad row
cover() {
    awk -F'"' 'NR == 1 { next }
        { split($1, a, ","); n = ($2 == "[]") ? 0 : gsub(/,/, ",", $2) + 1; r = a[2] + a[3] - 16 * n
          if ($3 != ",16" || substr($2, 1, 1) != "[" || r < 0 || r >= 16) { print "bad " NR ": r=" r " block_size" $3; bad = 1; exit 1 }
          rows++ }
        END { if (!bad) print rows + 0 }' "$1"
}

# conv_props FILE MAX_TOKENS: the conversation invariants of a convgen trace (prints "ok" or why not)
conv_props() {
    awk -F'"' -v M="$2" 'NR == 1 { next }
        { split($1, a, ","); t = a[1] + 0; P = a[2] + 0; D = a[3] + 0; s = a[4]; L = $2
          if (NR > 2 && t < last) { print "line " NR ": not sorted by arrived_at"; bad = 1; exit 1 }
          last = t
          if (P + D > M) { print "line " NR ": P + D = " P + D " > " M; bad = 1; exit 1 }
          if (s in prevL) {
              p = substr(prevL[s], 1, length(prevL[s]) - 1)   # without the closing bracket
              if (p != "[" && !(substr(L, 1, length(p)) == p && (substr(L, length(p) + 1, 1) == "," || substr(L, length(p) + 1, 1) == "]"))) {
                  print "line " NR ": session " s ": hash list does not start with the previous turn list"; bad = 1; exit 1 }
              if (P < prevP[s] + prevD[s]) { print "line " NR ": session " s ": prompt shorter than the previous prompt + output"; bad = 1; exit 1 }
              if (!(t > prevT[s])) { print "line " NR ": session " s ": turn does not arrive after the previous one"; bad = 1; exit 1 }
              turns++
          } else {
              sessions++
              f = L; sub(/^\[/, "", f); sub(/[],].*$/, "", f)
              if (f != "") firsts[f] = 1
          }
          prevL[s] = L; prevP[s] = P; prevD[s] = D; prevT[s] = t }
        END { if (bad) exit 1; nf = 0; for (f in firsts) nf++
              if (turns == 0) { print "no session has two turns"; bad = 1; exit 1 }
              if (nf >= sessions) { print "no system prompt shared across sessions"; bad = 1; exit 1 }
              print "ok" }' "$1"
}

# expect_fail NAME OUT [needle...] -- CMD...: CMD exits 1 with one line on stderr holding every
# needle, and creates neither OUT nor a temporary file next to it
expect_fail() {
    local name=$1 out=$2
    shift 2
    local needles=() rc=0 why="" n
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do needles+=("$1"); shift; done
    shift
    "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?
    if [ "$rc" -ne 1 ]; then
        why="exit status $rc"
    elif [ "$(wc -l <"$T/stderr")" -ne 1 ]; then
        why="expected one line on stderr, got: $(head -c 400 "$T/stderr")"
    elif [ -e "$out" ] || ls "$out".tmp.* >/dev/null 2>&1; then
        why="$out (or a temporary file) was created"
    elif [ -s "$T/stdout" ]; then
        why="wrote to stdout"
    else
        for n in "${needles[@]}"; do
            if ! grep -qF -- "$n" "$T/stderr"; then why="stderr does not mention '$n': $(cat "$T/stderr")"; break; fi
        done
    fi
    if [ -z "$why" ]; then ok "$name"; else bad "$name" "$why"; fi
}

ids() { seq -s ', ' "$1" "$2"; } # "a, a+1, ..., b"

# ---- vidur-mooncake on a hand-written trace ---------------------------------------------------
# 512-token hash h -> 16-token ids h*32 .. h*32+31; the largest hash id is 4, so fresh ids
# (output blocks and the straddling block) start at 5*32 = 160, numbered in row order.
cat >"$T/tiny.jsonl" <<'EOF'
{"timestamp": 0, "input_length": 1040, "output_length": 40, "hash_ids": [0, 1, 2]}
{"timestamp": 1500, "input_length": 600, "output_length": 10, "hash_ids": [0, 3]}

{"timestamp": 2250, "input_length": 15, "output_length": 20, "hash_ids": [4]}
{"hash_ids": [0, 1], "output_length": 0, "extra": {"a": [1, "x\"}", -2.5e3, true, null]}, "input_length": 1024, "timestamp": 3000}
  {"timestamp":3001,"input_length":512,"output_length":1,"hash_ids":[4]}
EOF
# row 1: P 1040 = 512 + 512 + 16: ids 0..63 and 2*32 = 64 (one full block of the partial
#        512-block); P + D = 1080 -> 67 blocks: 2 fresh (160, 161)
# row 2: P 600 = 512 + 88: 0..31, then floor(88/16) = 5 blocks of hash 3 (96..100); 610 -> 38: 1 fresh (162)
# row 3: P 15: no full prompt block; 35 -> 2 blocks, both fresh (163, 164)
# row 4: P 1024: 0..63; D 0 -> no fresh id
# row 5: P 512: 128..159; 513 -> 32 blocks, no fresh id
# sessions (first hash id): rows 1, 2, 4 -> 0 (hash 0); rows 3, 5 -> 1 (hash 4)
{
    echo 'arrived_at,num_prefill_tokens,num_decode_tokens,session_id,block_hash_ids,block_size'
    echo "0,1040,40,0,\"[$(ids 0 64), 160, 161]\",16"
    echo "1.5,600,10,0,\"[$(ids 0 31), $(ids 96 100), 162]\",16"
    echo "2.25,15,20,1,\"[163, 164]\",16"
    echo "3,1024,0,0,\"[$(ids 0 63)]\",16"
    echo "3.001,512,1,1,\"[$(ids 128 159)]\",16"
} >"$T/tiny.expected"

if "$MC" "$T/tiny.jsonl" -o "$T/tiny.csv" 2>"$T/stderr" && cmp -s "$T/tiny.csv" "$T/tiny.expected"; then
    ok "mooncake: hand-written trace gives the hand-computed CSV"
else
    bad "mooncake: hand-written trace gives the hand-computed CSV" "$(cat "$T/stderr"; diff "$T/tiny.expected" "$T/tiny.csv" 2>&1 | head -c 600)"
fi
check "mooncake: no temporary file left next to the output" bash -c "! ls '$T'/tiny.csv.tmp.* >/dev/null 2>&1"
r=$(cover "$T/tiny.csv")
if [ "$r" = 5 ]; then ok "mooncake: coverage rule on every row (tiny)"; else bad "mooncake: coverage rule (tiny)" "$r"; fi
"$MC" "$T/tiny.jsonl" >"$T/tiny.stdout" 2>/dev/null
check "mooncake: standard output equals the -o file" cmp -s "$T/tiny.stdout" "$T/tiny.csv"
"$MC" - <"$T/tiny.jsonl" >"$T/tiny.stdin" 2>/dev/null
check "mooncake: reads standard input ('-')" cmp -s "$T/tiny.stdin" "$T/tiny.csv"
# output-block ids are unique across the file and above every prompt-derived id
dups=$(awk -F'"' 'NR > 1 { gsub(/[][ ]/, "", $2); n = split($2, x, ","); for (i = 1; i <= n; i++) if (x[i] >= 160) print x[i] }' "$T/tiny.csv" | sort | uniq -d | wc -l)
nfresh=$(awk -F'"' 'NR > 1 { gsub(/[][ ]/, "", $2); n = split($2, x, ","); for (i = 1; i <= n; i++) if (x[i] >= 160) c++ } END { print c + 0 }' "$T/tiny.csv")
if [ "$dups" -eq 0 ] && [ "$nfresh" -eq 5 ]; then ok "mooncake: 5 fresh output-block ids, all distinct"; else bad "mooncake: fresh ids" "dups $dups, fresh $nfresh"; fi

"$MC" "$T/tiny.jsonl" --time-scale 2 --max-requests 3 >"$T/tiny2.csv" 2>"$T/stderr"
# first 3 rows only: the largest hash id is then 4 still (row 3), so the ids are unchanged
if [ "$(cut -d, -f1 "$T/tiny2.csv" | tr '\n' ' ')" = "arrived_at 0 3 4.5 " ] &&
   [ "$(tail -n +2 "$T/tiny2.csv" | cut -d, -f2-)" = "$(sed -n 2,4p "$T/tiny.expected" | cut -d, -f2-)" ]; then
    ok "mooncake: --time-scale 2 --max-requests 3"
else
    bad "mooncake: --time-scale 2 --max-requests 3" "$(cat "$T/stderr" "$T/tiny2.csv" | head -c 400)"
fi
s2=$("$MC" "$T/tiny.jsonl" --session-prefix-blocks 2 2>/dev/null | awk -F, 'NR > 1 { printf "%s ", $4 }')
if [ "$s2" = "0 1 2 0 2 " ]; then ok "mooncake: --session-prefix-blocks 2 keys sessions on the first two hash ids"; else bad "mooncake: --session-prefix-blocks 2" "$s2"; fi

# hash_ids may omit the partial last 512-block (floor(P/512) ids): its full 16-blocks are fresh
echo '{"timestamp": 7, "input_length": 530, "output_length": 0, "hash_ids": [9]}' >"$T/floor.jsonl"
if [ "$("$MC" "$T/floor.jsonl" 2>&1 | tail -n 1)" = "0.007,530,0,0,\"[$(ids 288 320)]\",16" ]; then
    ok "mooncake: floor(P/512) hash ids: the partial block's full 16-block gets a fresh id"
else
    bad "mooncake: floor(P/512) hash ids" "$("$MC" "$T/floor.jsonl" 2>&1 | tail -n 1 | head -c 300)"
fi

# ---- vidur-mooncake errors ------------------------------------------------------------------
good='{"timestamp": 0, "input_length": 20, "output_length": 5, "hash_ids": [1]}'
mc_error() { # NAME LINE NEEDLE...: a two-line file, good line 1 then LINE
    local name=$1 line=$2
    shift 2
    printf '%s\n%s\n' "$good" "$line" >"$T/bad.jsonl"
    expect_fail "mooncake error: $name" "$T/bad_out.csv" "$T/bad.jsonl:2: " "$@" -- "$MC" "$T/bad.jsonl" -o "$T/bad_out.csv"
}
mc_error "missing field" '{"timestamp": 1, "input_length": 20, "hash_ids": [1]}' "field 'output_length'" missing
mc_error "non-integer" '{"timestamp": 1, "input_length": 20.5, "output_length": 5, "hash_ids": [1]}' "field 'input_length'" "non-integer"
mc_error "string for an integer" '{"timestamp": "1", "input_length": 20, "output_length": 5, "hash_ids": [1]}' "field 'timestamp'" "integer"
mc_error "negative" '{"timestamp": 1, "input_length": 20, "output_length": -5, "hash_ids": [1]}' "field 'output_length'" "negative"
mc_error "non-integer hash id" '{"timestamp": 1, "input_length": 20, "output_length": 5, "hash_ids": [1.5]}' "field 'hash_ids'"
mc_error "wrong number of hash ids" '{"timestamp": 1, "input_length": 1100, "output_length": 5, "hash_ids": [1]}' "field 'hash_ids'" "has 1 ids"
mc_error "missing comma" '{"timestamp": 1, "input_length": 20 "output_length": 5, "hash_ids": [1]}' "field 'input_length'" "expected ','"
mc_error "truncated line" '{"timestamp": 1, "input_length": 20, "output_length": 5, "hash_ids": [1, 2' "field 'hash_ids'"
mc_error "not an object" '[1, 2, 3]' "invalid JSON" "'{'"
mc_error "duplicate field" '{"timestamp": 1, "timestamp": 2, "input_length": 20, "output_length": 5, "hash_ids": [1]}' "field 'timestamp'" "twice"
echo "keep" >"$T/keep.csv"
printf '%s\n{"timestamp": 1}\n' "$good" >"$T/bad.jsonl"
"$MC" "$T/bad.jsonl" -o "$T/keep.csv" >/dev/null 2>&1
check "mooncake error: an existing output file is left untouched" test "$(cat "$T/keep.csv")" = keep
expect_fail "mooncake error: unreadable input" "$T/none_out.csv" "no_such_file.jsonl" -- "$MC" "$T/no_such_file.jsonl" -o "$T/none_out.csv"
expect_fail "mooncake error: bad option value" "$T/opt_out.csv" "--time-scale" -- "$MC" "$T/tiny.jsonl" --time-scale -1 -o "$T/opt_out.csv"

# ---- vidur-mooncake on Mooncake's conversation trace (when ../shared has it) -------------------
if [ -r "$MOONCAKE" ]; then
    if "$MC" "$MOONCAKE" -o "$T/mc.csv" 2>"$T/stderr"; then ok "mooncake: converts conversation_trace.jsonl"; else bad "mooncake: converts conversation_trace.jsonl" "$(cat "$T/stderr")"; fi
    n=$(($(wc -l <"$T/mc.csv") - 1))
    if [ "$n" -eq 12031 ]; then ok "mooncake: conversation trace has 12,031 rows"; else bad "mooncake: conversation trace rows" "$n"; fi
    r=$(cover "$T/mc.csv")
    if [ "$r" = 12031 ]; then ok "mooncake: coverage rule on every row of the conversation trace"; else bad "mooncake: coverage rule (conversation trace)" "$r"; fi
    # row 1: P 6758 = 13 x 512 + 102, hash ids 0..13: prompt ids 0..421 (416 + floor(102/16) = 6);
    # the largest hash id in the file is 182789, so fresh ids start at 182790 * 32 = 5849280;
    # P + D = 7258 -> 453 blocks: 31 fresh
    if [ "$(sed -n 2p "$T/mc.csv")" = "0,6758,500,0,\"[$(ids 0 421), $(ids 5849280 5849310)]\",16" ]; then
        ok "mooncake: first conversation row expanded as computed by hand"
    else
        bad "mooncake: first conversation row" "$(sed -n 2p "$T/mc.csv" | head -c 300)"
    fi
    last=$(tail -n 1 "$T/mc.csv" | cut -d, -f1)
    if [ "$last" = "3536.999" ]; then ok "mooncake: arrival times in seconds (last 3536.999)"; else bad "mooncake: last arrival" "$last"; fi
    # every conversation request starts with hash id 0: one session by the first block; 7,373 by two
    s1=$(cut -d, -f4 "$T/mc.csv" | tail -n +2 | sort -u | wc -l)
    s2=$("$MC" "$MOONCAKE" --session-prefix-blocks 2 2>/dev/null | cut -d, -f4 | tail -n +2 | sort -u | wc -l)
    if [ "$s1" -eq 1 ] && [ "$s2" -eq 7373 ]; then ok "mooncake: conversation sessions (1 by first hash id, 7,373 by two)"; else bad "mooncake: conversation sessions" "$s1, $s2"; fi
    head -n 501 "$T/mc.csv" >"$T/mc500.csv"
    if "$VIDUR" --replica_config_model_name meta-llama/Meta-Llama-3-8B --replica_config_device a100 \
        --replica_config_tensor_parallel_size 4 --execution_time_predictor_config_type roofline \
        --request_generator_config_type trace_replay --trace_request_generator_config_trace_file "$T/mc500.csv" \
        --trace_request_generator_config_max_tokens 1000000 --metrics_config_write_metrics false \
        --metrics_config_output_dir "$T/out_mc" >"$T/stdout" 2>"$T/stderr" &&
        grep -q '^requests 500 arrived, 500 completed' "$T/stdout"; then
        ok "vidur replays the first 500 converted Mooncake requests"
    else
        bad "vidur replays the first 500 converted Mooncake requests" "$(head -c 400 "$T/stderr" "$T/stdout")"
    fi
    rm -f "$T/mc.csv" "$T/mc500.csv"
else
    echo "SKIP $MOONCAKE not found: Mooncake conversion checks skipped"
fi

# ---- vidur-convgen ----------------------------------------------------------------------------
"$CG" -o "$T/cg1.csv" 2>"$T/stderr"
"$CG" --seed 42 -o "$T/cg2.csv" 2>>"$T/stderr"
"$CG" >"$T/cg3.csv" 2>>"$T/stderr"
if [ -s "$T/cg1.csv" ] && cmp -s "$T/cg1.csv" "$T/cg2.csv" && cmp -s "$T/cg1.csv" "$T/cg3.csv"; then
    ok "convgen: deterministic (same seed, same bytes; stdout = -o)"
else
    bad "convgen: deterministic" "$(cat "$T/stderr")"
fi
"$CG" --seed 7 -o "$T/cg7.csv" 2>/dev/null
check "convgen: another seed gives another trace" bash -c "! cmp -s '$T/cg1.csv' '$T/cg7.csv'"
n=$(($(wc -l <"$T/cg1.csv") - 1))
if [ "$n" -eq 1000 ]; then ok "convgen: defaults give 1,000 requests"; else bad "convgen: defaults give 1,000 requests" "$n"; fi
for f in cg1 cg7; do
    r=$(cover "$T/$f.csv")
    if [ "$r" -gt 0 ] 2>/dev/null; then ok "convgen: coverage rule on every row ($f, $r rows)"; else bad "convgen: coverage rule ($f)" "$r"; fi
    r=$(conv_props "$T/$f.csv" 4096)
    if [ "$r" = ok ]; then ok "convgen: sorted; prefix property; shared system prompts; P + D <= 4096 ($f)"; else bad "convgen: conversation properties ($f)" "$r"; fi
done
"$CG" --sessions 30 --turns-min 1 --turns-max 20 --max-tokens 2048 --system-prompts 2 --qps 5 --seed 3 -o "$T/cgx.csv" 2>/dev/null
r=$(cover "$T/cgx.csv"); p=$(conv_props "$T/cgx.csv" 2048)
if [ "$r" -gt 0 ] 2>/dev/null && [ "$p" = ok ]; then ok "convgen: properties with --max-tokens 2048 and long sessions"; else bad "convgen: properties (--max-tokens 2048)" "$r $p"; fi
expect_fail "convgen error: min above max" "$T/cge.csv" "--user-min" -- "$CG" --user-min 500 --user-max 100 -o "$T/cge.csv"
expect_fail "convgen error: bad number" "$T/cge.csv" "--qps" -- "$CG" --qps fast -o "$T/cge.csv"
expect_fail "convgen error: unknown option" "$T/cge.csv" "--nope" -- "$CG" --nope 1 -o "$T/cge.csv"
expect_fail "convgen error: unwritable output" "$T/no_dir/x.csv" "no_dir" -- "$CG" -o "$T/no_dir/x.csv"

# the committed example regenerates byte for byte, with the command data/README.md gives
"$CG" "${SMALL_ARGS[@]}" -o "$T/small.csv" 2>/dev/null
check "convgen: $SMALL regenerates byte-identically" cmp -s "$T/small.csv" "$SMALL"
check "data/README.md gives the command" grep -qF -- "build/vidur-convgen ${SMALL_ARGS[*]} -o $SMALL" data/README.md
size=$(wc -c <"$SMALL")
if [ "$size" -le 300000 ]; then ok "$SMALL is at most 300 KB ($size bytes)"; else bad "$SMALL is at most 300 KB" "$size bytes"; fi
r=$(conv_props "$SMALL" 4096)
if [ "$r" = ok ] && [ "$(cover "$SMALL")" -gt 0 ] 2>/dev/null; then ok "$SMALL: coverage and conversation properties"; else bad "$SMALL: properties" "$r"; fi

# the library replays it (Vidur's defaults: trace_replay max_tokens 4096, so nothing is cut)
n=$(($(wc -l <"$SMALL") - 1))
if "$VIDUR" --execution_time_predictor_config_type roofline --request_generator_config_type trace_replay \
    --trace_request_generator_config_trace_file "$SMALL" --metrics_config_write_metrics false \
    --metrics_config_output_dir "$T/out_small" >"$T/stdout" 2>"$T/stderr" &&
    grep -q "^requests $n arrived, $n completed" "$T/stdout"; then
    ok "vidur replays $SMALL ($n requests)"
else
    bad "vidur replays $SMALL" "$(head -c 400 "$T/stderr" "$T/stdout")"
fi
"$CG" --sessions 40 --seed 5 -o "$T/cg40.csv" 2>/dev/null
n=$(($(wc -l <"$T/cg40.csv") - 1))
if "$VIDUR" --execution_time_predictor_config_type roofline --request_generator_config_type trace_replay \
    --trace_request_generator_config_trace_file "$T/cg40.csv" --cluster_config_num_replicas 2 \
    --global_scheduler_config_type round_robin --metrics_config_write_metrics false \
    --metrics_config_output_dir "$T/out_cg40" >"$T/stdout" 2>"$T/stderr" &&
    grep -q "^requests $n arrived, $n completed" "$T/stdout"; then
    ok "vidur replays a generated trace on 2 replicas ($n requests)"
else
    bad "vidur replays a generated trace on 2 replicas" "$(head -c 400 "$T/stderr" "$T/stdout")"
fi

finish
