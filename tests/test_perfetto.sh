#!/usr/bin/env bash
# The trace files of `make run` (data/default.ini) in both formats: perfetto_trace.pftrace is read
# by a real protobuf parser (Debian's protoc, from protobuf-compiler: skipped when it is not
# installed), raw and against tests/perfetto_subset.proto (Perfetto's schema, the fields used), and
# holds exactly as many batch slices as chrome_trace.json; its packets are checked field by field
# and every slice's arguments, decoded from the compact encoding, equal the JSON trace's. Then the size guard from the command line: one line on stderr with the
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
    skip "protoc --decode" "protoc not found (sudo apt-get install -y protobuf-compiler)"
else
    if protoc --decode_raw <"$out/perfetto_trace.pftrace" >"$T/raw.txt" 2>"$T/raw.err"; then
        ok "protoc --decode_raw reads perfetto_trace.pftrace ($(wc -l <"$T/raw.txt") lines)"
    else
        bad "protoc --decode_raw" "$(head -n 2 "$T/raw.err")"
    fi
    # against the subset of Perfetto's schema the file uses (tests/perfetto_subset.proto): a
    # field with another number or wire type than Perfetto's would be printed as a number
    if protoc --proto_path=tests --decode=perfetto.protos.Trace tests/perfetto_subset.proto \
            <"$out/perfetto_trace.pftrace" >"$T/pf.txt" 2>"$T/pf.err"; then
        unknown=$(grep -cE '^ *[0-9]+[:{ ]' "$T/pf.txt")
        [ "$unknown" -eq 0 ] && ok "protoc --decode=perfetto.protos.Trace: every field is in Perfetto's schema" ||
            bad "protoc --decode: $unknown unknown fields" "$(grep -m3 -E '^ *[0-9]+[:{ ]' "$T/pf.txt")"
    else
        bad "protoc --decode=perfetto.protos.Trace" "$(head -n 2 "$T/pf.err")"
    fi
    # Every packet, decoded as a trace processor does: per sequence, the incremental clock (the
    # timestamps are deltas), the interned request-id strings; one line per slice with what the
    # JSON trace's args say: batch_id batch_size request_ids num_tokens prefill decode total,
    # the lists decoded from their compact strings (docs/outputs.md).
    awk -v ids_out="$T/pf_slices.txt" '
        function expand_ids(s,    n, parts, i, a, b, d, r, x, sep) {
            r = ""; sep = ""; n = split(s, parts, ",")
            for (i = 1; i <= n; i++) {
                d = 1
                if (parts[i] ~ /:/) { split(parts[i], x, ":"); parts[i] = x[1]; d = x[2] }
                if (parts[i] ~ /-/) { split(parts[i], x, "-"); a = x[1] + 0; b = x[2] + 0 } else { a = parts[i] + 0; b = a }
                for (; a <= b; a += d) { r = r sep a; sep = ", "; cnt++ }
            }
            return r
        }
        function expand_tok(s,    n, parts, i, k, x, r, sep) {
            r = ""; sep = ""; n = split(s, parts, ",")
            for (i = 1; i <= n; i++) {
                k = 1
                if (parts[i] ~ /\*/) { split(parts[i], x, "*"); parts[i] = x[1]; k = x[2] }
                for (; k > 0; k--) { r = r sep parts[i]; sep = ", "; sum += parts[i] }
            }
            return r
        }
        /^packet \{$/ { seq = ""; ts = ""; clk = ""; type = ""; trk = 0; ann = 0; ids = ""; tok = ""; pre = ""; dec = ""; batch = ""; name = ""; nflag = ""; next }
        /^  timestamp: /                  { ts = $2 }
        /^  timestamp_clock_id: /         { clk = $2 }
        /^  trusted_packet_sequence_id: / { seq = $2 }
        /^  sequence_flags: 1$/           { cleared++ }
        /^  sequence_flags: 2$/           { nflag = 1 }
        /^  trace_packet_defaults \{$/    { defaults++ }
        /^  clock_snapshot \{$/           { snapshots++ }
        /^  track_descriptor \{$/         { tracks++ }
        /^    track_uuid: /               { trk = 1 }
        /^    name_iid: /                 { name = $2 }
        /^    type: TYPE_SLICE_BEGIN$/    { type = "B" }
        /^    type: TYPE_SLICE_END$/      { type = "E" }
        /^    type: TYPE_COUNTER$/        { type = "C" }
        /^      name_iid: /               { ann = $2 }
        /^      int_value: /              { if (ann == 1) batch = $2; else if (ann == 4) pre = $2; else if (ann == 5) dec = $2 }
        /^      string_value: /           { if (ann == 3) { tok = $2; gsub(/"/, "", tok) } }
        /^      string_value_iid: /       { if (ann == 2) ids = $2 }
        /^      iid: /                    { piid = $2 }
        /^      str: /                    { s = $2; gsub(/"/, "", s); str[seq, piid] = s; fresh++ }
        /^}$/ {
            packets++
            if (seq == "") noseq++
            if (type != "" && ts != "" && clk == "") clock[seq] += ts
            if (type == "" || ts == "" || trk) { if (type != "") badev++; next }
            if (type == "E") { end++; next }
            if (type == "C") { counter++; next }
            begin++
            if (!nflag) badev++
            if (begin == 1) first_ts = clock[seq]
            cnt = 0; sum = 0
            idl = expand_ids(str[seq, ids])
            tl = tok == "" ? "" : expand_tok(tok)
            if (tok == "") { for (i = 0; i < cnt; i++) { tl = tl (i ? ", " : "") 1 }; sum = cnt }
            if (name == 1) { pre = sum; dec = 0 } else if (name == 2) { pre = 0; dec = sum }
            printf "%s %d [%s] [%s] %s %s %d\n", batch, cnt, idl, tl, pre, dec, sum > ids_out
        }
        END { printf "%d %d %d %d %d %d %d %d %d %d %d %d\n", packets, tracks, begin, end, counter, cleared, defaults, snapshots, noseq, badev, fresh, first_ts }' \
        "$T/pf.txt" >"$T/counts"
    read -r packets tracks begin end counters cleared defaults snapshots noseq badev fresh first_pf_ts <"$T/counts"
    # 4 replicas x (the replica, 1 stage, 3 counters)
    [ "$tracks" -eq 20 ] && ok "20 track descriptors (4 replicas, their stages and counters)" || bad "track descriptors: $tracks, expected 20"
    [ "$begin" -eq "$json_slices" ] && ok "$begin slice begins = the JSON trace's $json_slices slices" ||
        bad "slice begins: $begin, the JSON trace has $json_slices"
    [ "$end" -eq "$begin" ] && ok "as many slice ends as begins" || bad "slice ends: $end, begins: $begin"
    [ "$counters" -gt 0 ] && ok "$counters counter values" || bad "no counter values"
    # 16 packet sequences (4 stages, 12 counters), each opened by one packet that clears its
    # state and sets its defaults (the track, the incremental clock) and clock snapshot
    [ "$cleared" -eq 16 ] && [ "$defaults" -eq 16 ] && [ "$snapshots" -eq 16 ] &&
        ok "16 sequences, each opened with its state cleared, its defaults and its clock" ||
        bad "sequences: cleared $cleared, defaults $defaults, clock snapshots $snapshots (16 expected)"
    [ "$noseq" -eq 0 ] && [ "$badev" -eq 0 ] && [ "$packets" -eq $((tracks + begin + end + counters + cleared)) ] &&
        ok "$packets packets, each on a sequence; events name no track (the sequence's default), begins need the state" ||
        bad "$packets packets ($noseq without a sequence, $badev events with a track or without a time; $tracks + $begin + $end + $counters + $cleared expected)"
    [ "$fresh" -gt 0 ] && [ "$fresh" -lt "$begin" ] && ok "$fresh request-id lists interned for $begin slices" ||
        bad "interned request-id lists: $fresh for $begin slices"
    first_ts=$(grep -m1 -o '"ph": "X", "ts": [0-9.]*' "$out/chrome_trace.json" | sed 's/.*"ts": //; s/\.//')
    first_ts=$((10#$first_ts))
    [ "$first_pf_ts" = "$first_ts" ] && ok "first slice begins at $first_ts ns, the JSON trace's ts" ||
        bad "first slice's timestamp" "$first_pf_ts vs $first_ts"
    # every slice's arguments, decoded, against the JSON trace's, in order
    sed -n 's/.*"args": {"batch_id": \([0-9]*\), "batch_size": \([0-9]*\), "request_ids": \(\[[0-9, ]*\]\), "num_tokens": \(\[[0-9, ]*\]\), "num_prefill_tokens": \([0-9]*\), "num_decode_tokens": \([0-9]*\), "total_num_tokens": \([0-9]*\)}}.*/\1 \2 \3 \4 \5 \6 \7/p' \
        "$out/chrome_trace.json" >"$T/json_slices.txt"
    if [ "$(wc -l <"$T/json_slices.txt")" -eq "$json_slices" ] && cmp -s "$T/json_slices.txt" "$T/pf_slices.txt"; then
        ok "every slice's batch_id, batch_size, request_ids, num_tokens, prefill / decode / total tokens decode to the JSON trace's"
    else
        bad "slice arguments differ from the JSON trace's" "$(diff "$T/json_slices.txt" "$T/pf_slices.txt" | head -n 4)"
    fi
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
