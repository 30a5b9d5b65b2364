#!/usr/bin/env bash
# Golden outputs: every scenario tests/golden/*.ini is simulated with the CLI and each output file
# is compared byte for byte with the outputs of v0.2.3 (tests/golden/<scenario>/SHA256SUMS; the
# summary.json and request_metrics.csv of each scenario are kept in full, so that a difference
# can be read with diff). Three things are normalised before hashing because they are not
# simulation results: the version string (summary.json, report.html) and the output folder
# (config.json, config_flat.json). Vidur's behaviour is the default and must stay byte-identical: a change that
# moves one of these files must be explained in CHANGELOG.md and the files regenerated with
#     bash tests/test_golden.sh --update
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_tmpdir golden
update=0
[ "${1:-}" = "--update" ] && update=1

normalise() { # DIR: rewrite the non-result parts of a run's files in place
    local d=$1
    [ -f "$d/summary.json" ] && sed -i 's/^  "version": "[^"]*",$/  "version": "VERSION",/' "$d/summary.json"
    [ -f "$d/report.html" ] && sed -i 's/<p>vidur [0-9][0-9.]*: /<p>vidur VERSION: /' "$d/report.html"
    [ -f "$d/config.json" ] && sed -i "s#\"$d\"#\"OUT\"#g" "$d/config.json"
    [ -f "$d/config_flat.json" ] && sed -i "s#\"$d\"#\"OUT\"#g" "$d/config_flat.json"
    return 0
}

for ini in tests/golden/*.ini; do
    name=$(basename "$ini" .ini)
    out=$T/$name
    if ! "$VIDUR" "$ini" --metrics_config_output_dir "$out" --no-metrics_config_timestamp_output_dir --quiet \
            >"$T/$name.log" 2>&1; then
        bad "$name: the run failed" "$(head -n 3 "$T/$name.log")"
        continue
    fi
    normalise "$out"
    sums=$(cd "$out" && find . -type f | LC_ALL=C sort | xargs sha256sum)
    ref=tests/golden/$name
    if [ "$update" -eq 1 ]; then
        mkdir -p "$ref"
        printf '%s\n' "$sums" > "$ref/SHA256SUMS"
        cp "$out/summary.json" "$out/request_metrics.csv" "$ref/"
        ok "$name: updated ($(printf '%s\n' "$sums" | wc -l) files)"
        continue
    fi
    if [ ! -f "$ref/SHA256SUMS" ]; then
        bad "$name: no reference outputs" "run bash tests/test_golden.sh --update"
        continue
    fi
    if [ "$sums" = "$(cat "$ref/SHA256SUMS")" ]; then
        ok "$name: $(printf '%s\n' "$sums" | wc -l) output files byte-identical"
    else
        differ=$(diff <(cat "$ref/SHA256SUMS") <(printf '%s\n' "$sums") | sed -n 's/^[<>] [0-9a-f]*  \.\///p' | sort -u | tr '\n' ' ')
        bad "$name: outputs differ from the reference" "$differ"
        for f in summary.json request_metrics.csv; do
            diff -u "$ref/$f" "$out/$f" | head -n 20
        done
    fi
done
finish
