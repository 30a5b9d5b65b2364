#!/usr/bin/env bash
# The trace files of `make run` (data/default.ini) in both formats: perfetto_trace.pftrace is read
# by a real protobuf parser (Debian's protoc --decode_raw, from protobuf-compiler: skipped when it
# is not installed) and holds exactly as many batch slices as chrome_trace.json; its packets are
# checked field by field. Then the size guard from the command line: one line on stderr with the
# exact size and the options, exit status 1, no trace file and no temporary file left, the other
# outputs written.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_tmpdir perfetto

out=$T/run
if ! "$VIDUR" data/default.ini --metrics_config_trace_format both --metrics_config_output_dir "$out" \
        --no-metrics_config_timestamp_output_dir --quiet >"$T/run.log" 2>&1; then
    bad "make run's scenario with --metrics_config_trace_format both" "$(head -n 3 "$T/run.log")"
    finish
fi
json_slices=$(grep -c '"ph": "X"' "$out/chrome_trace.json")
[ "$json_slices" -gt 1000 ] && ok "chrome_trace.json: $json_slices slices" || bad "chrome_trace.json: $json_slices slices"
json_bytes=$(stat -c %s "$out/chrome_trace.json")
pf_bytes=$(stat -c %s "$out/perfetto_trace.pftrace")
[ "$pf_bytes" -gt 0 ] && [ "$pf_bytes" -lt "$json_bytes" ] &&
    ok "perfetto_trace.pftrace: $pf_bytes bytes, chrome_trace.json $json_bytes ($(awk "BEGIN { printf \"%.2f\", $json_bytes / $pf_bytes }")x)" ||
    bad "perfetto_trace.pftrace: $pf_bytes bytes, chrome_trace.json $json_bytes"

if ! command -v protoc >/dev/null 2>&1; then
    skip "protoc --decode_raw" "protoc not found (sudo apt-get install -y protobuf-compiler)"
else
    if protoc --decode_raw <"$out/perfetto_trace.pftrace" >"$T/raw.txt" 2>"$T/raw.err"; then
        ok "protoc --decode_raw reads perfetto_trace.pftrace ($(wc -l <"$T/raw.txt") lines)"
    else
        bad "protoc --decode_raw" "$(head -n 2 "$T/raw.err")"
    fi
    # decode_raw prints field numbers: Trace.packet = 1; in a TracePacket, 60 track_descriptor,
    # 11 track_event (its 9 = type: 1 slice begin, 2 slice end, 4 counter), 10 the sequence id,
    # 13 sequence_flags, 12 interned_data
    awk -v want="$json_slices" '
        /^1 \{$/            { n++; seq = 0; depth = 1; next }
        /^  10: 1$/         { seq = 1 }
        /^  60 \{$/         { tracks++ }
        /^  12 \{$/         { interned++ }
        /^  13: 3$/         { cleared++ }
        /^    9: 1$/        { begin++ }
        /^    9: 2$/        { end++ }
        /^    9: 4$/        { counter++ }
        /^}$/               { if (!seq) noseq++ }
        END {
            printf "%d %d %d %d %d %d %d %d\n", n, tracks, begin, end, counter, interned, cleared, noseq
        }' "$T/raw.txt" >"$T/counts"
    read -r packets tracks begin end counters interned cleared noseq <"$T/counts"
    # 4 replicas x (the replica, 1 stage, 3 counters)
    [ "$tracks" -eq 20 ] && ok "20 track descriptors (4 replicas, their stages and counters)" || bad "track descriptors: $tracks, expected 20"
    [ "$begin" -eq "$json_slices" ] && ok "$begin slice begins = the JSON trace's $json_slices slices" ||
        bad "slice begins: $begin, the JSON trace has $json_slices"
    [ "$end" -eq "$begin" ] && ok "as many slice ends as begins" || bad "slice ends: $end, begins: $begin"
    [ "$counters" -gt 0 ] && ok "$counters counter values" || bad "no counter values"
    [ "$interned" -eq 1 ] && [ "$cleared" -eq 1 ] && ok "names interned once, in the packet that clears the sequence state" ||
        bad "interned_data in $interned packets, sequence state cleared in $cleared"
    [ "$noseq" -eq 0 ] && [ "$packets" -eq $((tracks + begin + end + counters)) ] && ok "$packets packets, each on sequence 1" ||
        bad "$packets packets ($noseq without the sequence id; $tracks + $begin + $end + $counters expected)"
    # the first slice, field by field against the JSON trace's first slice
    first_ts=$(grep -m1 -o '"ph": "X", "ts": [0-9.]*' "$out/chrome_trace.json" | sed 's/.*"ts": //; s/\.//')
    first_ts=$((10#$first_ts))
    awk '/^1 \{$/ { p = ""; next } { p = p $0 "\n" } /^}$/ && p ~ /\n    9: 1\n/ { printf "%s", p; exit }' "$T/raw.txt" >"$T/first.txt"
    grep -q "^  8: $first_ts\$" "$T/first.txt" && ok "first slice begins at $first_ts ns, the JSON trace's ts" ||
        bad "first slice's timestamp" "$(grep '^  8:' "$T/first.txt") vs $first_ts"
    first_ids=$(grep -m1 -o '"request_ids": \[[0-9, ]*\]' "$out/chrome_trace.json" | sed 's/.*\[//; s/\]//; s/,//g')
    got_ids=$(awk '/^      1: 3$/ { a = 1; next } /^      1: / { a = 0 } a && /^        4: / { printf "%s ", $2 }' "$T/first.txt")
    [ "$(echo $got_ids)" = "$(echo $first_ids)" ] && ok "first slice's request_ids: $first_ids" ||
        bad "first slice's request_ids" "$got_ids vs $first_ids"
fi

# the size guard, from the command line
cut=$T/cut
"$VIDUR" data/default.ini --metrics_config_max_trace_size_mb 5 --metrics_config_output_dir "$cut" \
    --no-metrics_config_timestamp_output_dir --quiet >"$T/cut.out" 2>"$T/cut.err"
rc=$?
[ "$rc" -eq 1 ] && ok "over the limit: exit status 1" || bad "over the limit: exit status $rc"
[ "$(wc -l <"$T/cut.err")" -eq 1 ] && grep -q "^vidur: chrome_trace.json would be [0-9.]* MB ($json_bytes bytes), over metrics_config_max_trace_size_mb = 5: not written" "$T/cut.err" &&
    ok "one line with the exact size: $(cut -c1-100 "$T/cut.err")..." || bad "the size guard's message" "$(head -c 300 "$T/cut.err")"
grep -q -- "--metrics_config_trace_format perfetto (about" "$T/cut.err" && grep -q -- "--no-metrics_config_enable_chrome_trace" "$T/cut.err" &&
    ok "the message names the options" || bad "the options" "$(cat "$T/cut.err")"
[ ! -e "$cut/chrome_trace.json" ] && [ -z "$(find "$cut" -name '*.tmp*')" ] && ok "no trace, no temporary file left" ||
    bad "left behind" "$(ls "$cut")"
[ -s "$cut/summary.json" ] && [ -s "$cut/request_metrics.csv" ] && [ -s "$cut/report.html" ] && ok "the other outputs are written" ||
    bad "missing outputs" "$(ls "$cut")"
finish
