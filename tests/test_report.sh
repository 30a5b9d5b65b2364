#!/usr/bin/env bash
# report.html, the progress line and atomic outputs of the `vidur` program. VIDUR selects the
# binary (default build/vidur; tests/run.sh also runs this with build/asan/vidur).
#   - `make run`'s configuration (data/default.ini) writes report.html: well-formed XML
#     (xmllint when installed), the expected <title>, inline SVG, no scripts;
#   - headless Chromium renders it to a PNG screenshot and reports the title (skipped with a
#     message when chromium is not installed; scripts/deps.sh --test tries to install it);
#   - the progress line appears on a terminal (via script(1)), not with --quiet, and nothing
#     extra is printed on stderr in non-interactive runs;
#   - a run killed while simulating leaves no file under a final name.
# Prints PASS/FAIL/SKIP lines and, last, "N passed, N failed".
. "$(dirname "$0")/lib.sh"
test_tmpdir report

if [ ! -x "$VIDUR" ]; then
    bad "binary $VIDUR exists"
    echo "$pass passed, $fail failed"
    exit 1
fi

# the default `make run` simulation
OUT=$T/run
if "$VIDUR" data/default.ini --metrics_config_output_dir "$OUT" --no-metrics_config_timestamp_output_dir \
    >"$T/stdout" 2>"$T/stderr"; then ok "make run configuration runs"; else bad "make run configuration runs" "$(head -c 300 "$T/stderr")"; fi
R=$OUT/report.html
if [ -s "$R" ]; then ok "report.html written"; else bad "report.html written"; fi
if [ ! -s "$T/stderr" ]; then ok "non-interactive run: nothing on stderr"; else bad "non-interactive run: nothing on stderr" "$(head -c 200 "$T/stderr")"; fi
if grep -q "^output: $OUT" "$T/stdout"; then ok "summary printed"; else bad "summary printed"; fi
if grep -q '<title>Vidur simulation report</title>' "$R" 2>/dev/null; then ok "report title"; else bad "report title"; fi
n=$(grep -o '<svg ' "$R" 2>/dev/null | wc -l)
if [ "$n" -eq 10 ]; then ok "report has 10 SVG plots"; else bad "report has 10 SVG plots" "found $n"; fi
if ! grep -qiE '<script|https?://[a-z0-9.-]+/[a-z]' "$R"; then ok "report is self-contained (no scripts, no remote URLs)"; else bad "report is self-contained"; fi
if command -v xmllint >/dev/null 2>&1; then
    if xmllint --noout "$R" 2>"$T/xmllint"; then ok "report.html is well-formed XML (xmllint)"; else bad "report.html is well-formed XML" "$(head -c 300 "$T/xmllint")"; fi
else
    skip "xmllint not installed (apt-get install libxml2-utils); tests/test_metrics.c checks well-formedness itself"
fi

# headless Chromium: a screenshot and the title as the browser sees it
CHROME=""
for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then CHROME=$c; break; fi
done
if [ -n "$CHROME" ]; then
    # a private profile folder: the browser writes one, and it must not go under $HOME
    FLAGS=(--headless --no-sandbox --disable-gpu --user-data-dir="$T/profile" --window-size=1200,2000)
    timeout 120 "$CHROME" "${FLAGS[@]}" --screenshot="$T/report.png" "file://$R" >"$T/chrome.log" 2>&1
    if [ -s "$T/report.png" ] && [ "$(head -c 8 "$T/report.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; then
        ok "chromium screenshot of report.html is a PNG ($(wc -c <"$T/report.png") bytes)"
    else
        bad "chromium screenshot of report.html" "$(tail -c 300 "$T/chrome.log")"
    fi
    timeout 120 "$CHROME" "${FLAGS[@]}" --dump-dom "file://$R" >"$T/dom.html" 2>"$T/chrome2.log"
    if grep -q '<title>Vidur simulation report</title>' "$T/dom.html"; then ok "chromium sees the title"; else bad "chromium sees the title"; fi
    if [ "$(grep -o '<svg ' "$T/dom.html" | wc -l)" -eq 10 ]; then ok "chromium parses 10 SVG elements"; else bad "chromium parses 10 SVG elements"; fi
else
    skip "chromium not installed: no screenshot test (scripts/deps.sh --test installs it as root)"
fi

# what the report shows (issue 17): a batch-size CDF, busy time and MFU over time, TPOT named
# beside TBT, and legends below the plots that list every replica (17 here)
for title in "Batch size (batch_size)" "Busy time per replica" "MFU per replica" "TBT and TPOT"; do
    grep -qF ">$title</text>" "$R" && ok "report: plot '$title'" || bad "report: plot '$title'"
done
grep -qF "TPOT (time_per_output_token)</text>" "$R" && grep -qF "TBT per token (ITL)</text>" "$R" \
    && ok "report: TPOT named as such next to TBT" || bad "report: TPOT named as such next to TBT"
grep -qF "<td>time_per_output_token (TPOT, as vLLM: first token excluded)</td>" "$R" && ok "report: the summary table names TPOT" \
    || bad "report: the summary table names TPOT"
R17=$T/r17
if "$VIDUR" --execution_time_predictor_config_type roofline --cluster_config_num_replicas 17 --synthetic_request_generator_config_num_requests 200 \
        --poisson_request_interval_generator_config_qps 40 --metrics_config_output_dir "$R17" --no-metrics_config_timestamp_output_dir \
        --no-metrics_config_enable_chrome_trace >/dev/null 2>"$T/r17.err" && [ -s "$R17/report.html" ]; then
    # the busy-time plot: its legend has replicas 0..16, and every legend entry sits below the plot frame
    svg=$(awk '/>Busy time per replica</ { on = 1 } on { print } on && /<\/svg>/ { exit }' "$R17/report.html")
    n=$(grep -c '">replica [0-9]*</text>' <<<"$svg")
    frame_bottom=$(grep -m1 -o '<rect x="64" y="30" width="[0-9.]*" height="[0-9.]*"' <<<"$svg" | sed 's/.*height="\([0-9.]*\)"/\1/')
    lowest_entry=$(grep -o '<text x="[0-9.]*" y="[0-9.]*">replica [0-9]*</text>' <<<"$svg" | sed 's/.* y="\([0-9.]*\)".*/\1/' | sort -n | head -1)
    [ "$n" -eq 17 ] && grep -q '">replica 16</text>' <<<"$svg" && ok "legend lists all 17 replicas" || bad "legend lists all 17 replicas" "$n entries"
    awk -v a="$lowest_entry" -v b="$frame_bottom" 'BEGIN { exit !(a > 30 + b) }' && ok "legend entries lie below the plot area (never over data)" \
        || bad "legend entries lie below the plot area" "entry y $lowest_entry, frame bottom $((30 + ${frame_bottom%.*}))"
    grep -q 'stroke-dasharray="6 3"' <<<"$svg" && ok "replicas 10+ are drawn dashed (told apart from 0-9)" || bad "replicas 10+ are drawn dashed"
else
    bad "17-replica report" "$(head -c 300 "$T/r17.err")"
fi

# progress line: only on a terminal, and not with --quiet
LONG=(--execution_time_predictor_config_type roofline --synthetic_request_generator_config_num_requests 400000
      --fixed_request_length_generator_config_prefill_tokens 64 --fixed_request_length_generator_config_decode_tokens 32
      --poisson_request_interval_generator_config_qps 30 --no-metrics_config_write_metrics)
if command -v script >/dev/null 2>&1; then
    script -qec "$(printf '%q ' "$VIDUR" "${LONG[@]}")" /dev/null >"$T/tty.log" 2>&1
    if grep -qE "simulated .* s, [0-9]+ (of [0-9]+ )?requests done.*, [0-9]+ requests/s" "$T/tty.log"; then
        ok "progress line on a terminal"
    else
        bad "progress line on a terminal" "$(tail -c 300 "$T/tty.log")"
    fi
    script -qec "$(printf '%q ' "$VIDUR" "${LONG[@]}" --quiet)" /dev/null >"$T/tty2.log" 2>&1
    if ! grep -q "requests done" "$T/tty2.log"; then ok "--quiet: no progress line"; else bad "--quiet: no progress line"; fi
else
    skip "script(1) not installed: progress line not tested"
fi
"$VIDUR" "${LONG[@]}" >"$T/np.out" 2>"$T/np.err"
if [ ! -s "$T/np.err" ] && ! grep -q "requests done" "$T/np.out"; then ok "no progress line when not a terminal"; else bad "no progress line when not a terminal"; fi

# a run killed while it simulates leaves nothing under a final name
K=$T/killed
"$VIDUR" --execution_time_predictor_config_type roofline --synthetic_request_generator_config_num_requests 5000000 \
    --metrics_config_output_dir "$K" --no-metrics_config_timestamp_output_dir >/dev/null 2>&1 &
pid=$!
sleep 1
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
left=$(find "$K" -type f ! -name '*.tmp' 2>/dev/null | head -n 3)
if [ -z "$left" ]; then ok "killed run: no file under a final name"; else bad "killed run: no file under a final name" "$left"; fi

finish
