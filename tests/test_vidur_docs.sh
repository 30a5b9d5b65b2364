#!/usr/bin/env bash
# Every command of Vidur's README and of its how-to-run guide (../shared/vidur_docs/), as
# published: the code blocks are read from the documents themselves, `python -m vidur.main`
# becomes vidur, ./data/... becomes ../shared/data/... (where the project keeps Vidur's data), and
# the README's bash placeholders such as --[vllm|lightllm|...]_scheduler_config_batch_size_cap
# take the alternative the command itself selects (its *_config_type). Each must run (exit 0,
# every arrived request accounted for) or fail with its one-line message. The guide's flagship
# command then runs on the Mooncake conversation trace converted with vidur-mooncake, and must
# replay the trace's own prompts (mean prompt = the trace's first 128 rows') with prefix hits.
# Skipped cleanly when ../shared is absent. VIDUR selects the binary.
# Prints PASS/FAIL/SKIP lines and, last, "N passed, N failed".
. "$(dirname "$0")/lib.sh"
test_tmpdir vidur_docs
DOCS=$ROOT/../shared/vidur_docs
if [ ! -f "$DOCS/vidur_README.md" ] || [ ! -f "$DOCS/how_to_run.md" ]; then
    skip "Vidur's documents" "../shared/vidur_docs absent"
    finish
fi

# blocks FILE: one line per ```sh block: "vidur ARGS" for the simulator's commands (a block that
# starts with python -m vidur.main or with flags), "other FIRST-WORD" for the rest (setup,
# wandb, make); continuation lines joined
blocks() {
    awk '/^ *```sh/ { inb = 1; cmd = ""; next }
         /^ *```/ && inb { inb = 0; print cmd; next }
         inb { line = $0; sub(/^ +/, "", line); sub(/ *\\$/, "", line); if (line != "") cmd = cmd (cmd == "" ? "" : " ") line }' "$1" |
        while IFS= read -r c; do
            case "$c" in
                "python -m vidur.main"*) echo "vidur${c#python -m vidur.main}" ;;
                --*) echo "vidur $c" ;;
                *) echo "other ${c%% *}" ;;
            esac
        done
}
# the guide's metrics switches, written in its prose as `--flag`
prose_flags() { grep -o '^1\. `--[a-z_]*`' "$1" | sed 's/^1\. `\(.*\)`/prose \1/'; }

# resolve CMD: ./data -> ../shared/data, and each [a|b|c] placeholder to the alternative that is
# one of the command's *_config_type values
resolve() {
    local c=$1 types ph alts alt pick
    c=${c//.\/data\//..\/shared\/data\/}
    types=" $(grep -oE -- '--[a-z_]+_config_type [a-z_0-9]+' <<<"$c" | awk '{ print $2 }' | tr '\n' ' ') "
    while ph=$(grep -oE '\[[a-z_0-9|]+\]' <<<"$c" | head -1) && [ -n "$ph" ]; do
        alts=${ph#[}
        alts=${alts%]}
        pick=""
        for alt in ${alts//|/ }; do
            case "$types" in *" $alt "*) pick=$alt; break ;; esac
        done
        [ -n "$pick" ] || pick=${alts%%|*}
        c=${c/"$ph"/$pick}
    done
    echo "$c"
}
# every alternative of every placeholder, as flags with the placeholder's value: all must be keys
all_alternatives() {
    local c=$1 out="" w ph alts alt val
    read -ra words <<<"$c"
    for ((j = 0; j < ${#words[@]}; j++)); do
        w=${words[$j]}
        if [[ "$w" == --\[*\]* ]]; then
            ph=$(grep -oE '\[[a-z_0-9|]+\]' <<<"$w")
            alts=${ph#[}
            alts=${alts%]}
            val=${words[$((j + 1))]}
            for alt in ${alts//|/ }; do out="$out ${w/"$ph"/$alt} $val"; done
            j=$((j + 1))
        fi
    done
    echo "$out"
}

# expect_run NAME ARGS...: exit 0 and every arrived request completed, or at least accounted for
# by a warning (a request that never fits: the documents do not promise they all fit)
expect_run() {
    local name=$1
    shift
    local rc=0 line
    "$VIDUR" "$@" --metrics_config_output_dir "$T/out" --metrics_config_timestamp_output_dir false >"$T/o" 2>"$T/e" || rc=$?
    line=$(grep -m1 '^requests ' "$T/o")
    if [ "$rc" -ne 0 ]; then
        bad "$name" "exit $rc: $(head -c 400 "$T/e")"
    elif [[ "$line" =~ ^requests\ ([0-9]+)\ arrived,\ ([0-9]+)\ completed ]] &&
        { [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || grep -q "requests unfinished" "$T/e"; }; then
        ok "$name: runs ($line)"
    else
        bad "$name" "unexpected summary: $line $(head -c 200 "$T/e")"
    fi
}
# expect_error NAME NEEDLE -- ARGS...: exit 1 with exactly one line on stderr holding NEEDLE
expect_error() {
    local name=$1 needle=$2
    shift 3
    local rc=0
    "$VIDUR" "$@" --metrics_config_output_dir "$T/out" >"$T/o" 2>"$T/e" || rc=$?
    if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/e")" -eq 1 ] && grep -qF -- "$needle" "$T/e"; then
        ok "$name: one line: $(cut -c1-150 "$T/e")"
    else
        bad "$name" "exit $rc, stderr: $(head -c 400 "$T/e")"
    fi
}

ncmd=0
for doc in vidur_README.md how_to_run.md; do
    i=0
    while IFS= read -r entry; do
        i=$((i + 1))
        name="$doc block $i"
        case "$entry" in
            other*) echo "SKIP $name: not a simulator command (${entry#other })"; continue ;;
            prose*) name="$doc, flag in the text: ${entry#prose }"; entry="vidur ${entry#prose }" ;;
        esac
        ncmd=$((ncmd + 1))
        entry=${entry#vidur}
        entry=${entry# }
        cmd=$(resolve "$entry")
        read -ra args <<<"$cmd"
        case "$cmd" in
            *mooncake_conversation_trace.csv*)
                # not published as CSV: the message says how to make it from Mooncake's JSONL
                expect_error "$name" "vidur-mooncake conversation_trace.jsonl -o ../shared/data/processed_traces/mooncake_conversation_trace.csv" -- "${args[@]}" ;;
            *"--request_generator_config_type fixed"*)
                expect_error "$name" "'fixed' is a length generator: --request_generator_config_type synthetic --length_generator_config_type fixed" -- "${args[@]}" ;;
            *) expect_run "$name" "${args[@]}" ;;
        esac
        if grep -q '\[' <<<"$entry"; then
            # the placeholders' other alternatives are Vidur flags too
            read -ra alts <<<"$(all_alternatives "$entry")"
            expect_run "$name, every placeholder alternative" "${args[@]}" "${alts[@]}"
        fi
    done < <(blocks "$DOCS/$doc"; [ "$doc" = how_to_run.md ] && prose_flags "$DOCS/$doc")
done
# the documents' command count: a changed document shows here
[ "$ncmd" -eq 17 ] && ok "17 simulator commands found in the two documents" || bad "17 simulator commands found in the two documents" "found $ncmd"

# ---- the flagship command on the converted Mooncake trace ---------------------------------------
JSONL=$ROOT/../shared/data/traces/mooncake/conversation_trace.jsonl
MC=$ROOT/build/vidur-mooncake
if [ ! -f "$JSONL" ]; then
    skip "flagship on the Mooncake trace" "$JSONL absent"
    finish
fi
if [ ! -x "$MC" ]; then
    bad "build/vidur-mooncake is built"
    finish
fi
mkdir -p "$T/data/processed_traces"
"$MC" "$JSONL" -o "$T/data/processed_traces/mooncake_conversation_trace.csv" --session-prefix-blocks 2 >/dev/null 2>"$T/mc.err" ||
    bad "vidur-mooncake converts the conversation trace" "$(cat "$T/mc.err")"
flagship=$(blocks "$DOCS/how_to_run.md" | head -1)
read -ra args <<<"${flagship#vidur }" # ./data/... as published, run from a folder that has it
if (cd "$T" && "$VIDUR" "${args[@]}" --metrics_config_output_dir out --metrics_config_timestamp_output_dir false >flag.out 2>flag.err); then
    want=$(awk -F, 'NR > 1 && NR <= 129 { s += $2 } END { printf "%.4f", s / 128 }' "$T/data/processed_traces/mooncake_conversation_trace.csv")
    got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "request_num_prefill_tokens") k = i; next } { s += $k; n++ } END { printf "%.4f", s / n }' "$T/out/request_metrics.csv")
    [ "$got" = "$want" ] && ok "flagship: mean prompt $got tokens = the trace's first 128 rows (not cut to 4096)" \
        || bad "flagship: mean prompt equals the trace's" "got $got, trace $want"
    hit=$(sed -n 's/^prefix cache: \([0-9.]*\)% .*/\1/p' "$T/flag.out")
    awk -v h="${hit:-0}" 'BEGIN { exit !(h > 0) }' && ok "flagship: prefix-cache hit rate $hit% > 0" || bad "flagship: prefix-cache hit rate > 0" "$(tail -2 "$T/flag.out")"
    grep -q "^requests 128 arrived, 128 completed" "$T/flag.out" && ok "flagship: 128 requests completed" || bad "flagship: 128 requests completed" "$(head -1 "$T/flag.out")"
    [ ! -s "$T/flag.err" ] && ok "flagship: no warning" || bad "flagship: no warning" "$(cat "$T/flag.err")"
else
    bad "flagship on the converted trace runs" "$(head -c 400 "$T/flag.err")"
fi
# the guide's other Mooncake commands with the converted trace: the trace generator (its file
# given with the length generator's key, as the guide writes it) and upstream trace lengths
for b in 6 10; do
    entry=$(blocks "$DOCS/how_to_run.md" | sed -n "${b}p")
    read -ra args <<<"${entry#vidur }"
    if (cd "$T" && "$VIDUR" "${args[@]}" --metrics_config_write_metrics false >b.out 2>b.err); then
        case $b in
            6) grep -q "using ./data/processed_traces/mooncake_conversation_trace.csv, given as trace_request_length_generator_config_trace_file" "$T/b.err" \
                   && ok "how_to_run.md block 6 on the trace: runs, reading the file it names (and says so)" || bad "block 6 says which file it reads" "$(cat "$T/b.err")" ;;
            10) grep -q "trace_request_length_generator_config_max_tokens = 4096 cut" "$T/b.err" \
                    && ok "how_to_run.md block 10 on the trace: upstream lengths, and the cut is reported" || bad "block 10 reports the cut" "$(cat "$T/b.err")" ;;
        esac
    else
        bad "how_to_run.md block $b on the converted trace" "$(head -c 300 "$T/b.err")"
    fi
done
finish
