#!/usr/bin/env bash
# `make install PREFIX=...` installs the headers, the libraries, the programs and a pkg-config
# file with which a program builds, runs, and predicts exactly what the installed `vidur` does:
#   - examples/embed.c built with `pkg-config --cflags --libs vidur` (the implementation from
#     libvidur.a, the profiled tables from libvidur_tables.a);
#   - a program running the flags it is given, built the same way, and the same program in the
#     stb style (its own VIDUR_IMPLEMENTATION, the tables through pkg-config's
#     VIDUR_TABLES_EXTERN): both write output files byte-identical to `vidur`'s for the same
#     flags (issue 17: such a program used to predict with the roofline, TTFT p99 4.36 s where
#     vidur said 5.90 s);
#   - and, so that the agreement means something, that program built without the tables
#     predicts differently;
#   - the capacity-search header (vidur_search.h) builds against the install too.
. "$(dirname "$0")/lib.sh"
# it installs and runs the plain build: the sanitizer pass of tests/run.sh would repeat it as is
case "$VIDUR" in
    */asan/*) skip "install (the installed programs and libraries are the plain build: tested in the first pass)"; finish ;;
esac
test_tmpdir install
CC=${CC:-cc}
P=$T/prefix
if make -s install PREFIX="$P" >"$T/log" 2>&1; then ok "make install"; else bad "make install" "$(tail -3 "$T/log")"; fi
for f in include/vidur.h include/vidur_search.h include/vidur_tables.h lib/libvidur.a lib/libvidur_tables.a bin/vidur bin/vidur-search \
         lib/pkgconfig/vidur.pc; do
    if [ -e "$P/$f" ]; then ok "installed $f"; else bad "installed $f"; fi
done
if "$P/bin/vidur" --version | grep -q '^vidur '; then ok "installed vidur runs"; else bad "installed vidur runs"; fi
flags=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs vidur 2>"$T/pc.err")
if [ -n "$flags" ]; then ok "pkg-config vidur"; else bad "pkg-config vidur" "$(cat "$T/pc.err")"; fi
ver=$(sed -n 's/^#define VIDUR_VERSION_STRING "\(.*\)"/\1/p' vidur.h)
pcver=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --modversion vidur 2>/dev/null)
if [ -n "$ver" ] && [ "$pcver" = "$ver" ]; then ok "vidur.pc has version $ver"; else bad "vidur.pc has version $ver" "'$pcver'"; fi

# build NAME SOURCE [EXTRA FLAGS...]: a program against the installed library, as a user does
# (the extra flags last, so that they override pkg-config's)
build() {
    local name=$1 src=$2
    shift 2
    # shellcheck disable=SC2086
    "$CC" -std=c99 -O2 -Wall -Wextra -Werror "$src" -o "$T/$name" $flags "$@" >"$T/$name.cc.log" 2>&1
}

sed 's|#include "../vidur.h"|#include <vidur.h>|' examples/embed.c >"$T/embed.c"
if build embed "$T/embed.c"; then ok "embed.c builds against the install"; else bad "embed.c builds against the install" "$(head -3 "$T/embed.cc.log")"; fi
if [ -x "$T/embed" ] && "$T/embed" >/dev/null; then ok "embed.c runs"; else bad "embed.c runs"; fi
# the capacity-search header builds against the install too (compiled only: it runs simulations)
sed -e 's|#include "../vidur.h"|#include <vidur.h>|' -e 's|#include "../vidur_search.h"|#include <vidur_search.h>|' \
    examples/capacity_search.c >"$T/capacity_search.c"
if build capacity_search "$T/capacity_search.c"; then
    ok "capacity_search.c builds against the install (vidur_search.h)"
else
    bad "capacity_search.c builds against the install (vidur_search.h)" "$(head -3 "$T/capacity_search.cc.log")"
fi

# the program: the flags of its command line, the summary on stdout, the output files
cat >"$T/run.c" <<'EOF'
#include <vidur.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    vidur_config cfg;
    vidur_error err;
    vidur_sim *sim = NULL;
    const char *pos[4];
    int npos = 0;
    vidur_config_init(&cfg);
    if (vidur_config_parse_args(&cfg, argc - 1, argv + 1, pos, 4, &npos, &err) || vidur_sim_create(&cfg, &sim, &err)) {
        fprintf(stderr, "run: %s\n", err.message);
        return 1;
    }
    if (vidur_sim_run(sim) != VIDUR_OK) err = *vidur_sim_error(sim);
    else if (vidur_sim_write_outputs(sim, NULL, NULL, 0, &err) == VIDUR_OK) {
        vidur_summary_print(vidur_sim_summary(sim), stdout);
        vidur_sim_destroy(sim);
        return 0;
    }
    fprintf(stderr, "run: %s\n", err.message);
    vidur_sim_destroy(sim);
    return 1;
}
EOF
{ echo '#define VIDUR_IMPLEMENTATION'; cat "$T/run.c"; } >"$T/run_stb.c"
build run_lib "$T/run.c" || bad "the flags program builds with pkg-config" "$(head -3 "$T/run_lib.cc.log")"
build run_stb "$T/run_stb.c" || bad "the stb-style flags program builds with pkg-config" "$(head -3 "$T/run_stb.cc.log")"
# the same stb-style program without pkg-config's VIDUR_TABLES_EXTERN: the roofline
build run_roofline "$T/run_stb.c" -UVIDUR_TABLES_EXTERN ||
    bad "the roofline build of the flags program" "$(head -3 "$T/run_roofline.cc.log")"

# data/default.ini's deployment (Llama-3-8B, H100, sarathi) on 2 replicas, 300 requests
FLAGS=(--replica_config_model_name meta-llama/Meta-Llama-3-8B --replica_config_device h100
       --replica_config_network_device h100_pairwise_nvlink --cluster_config_num_replicas 2
       --replica_scheduler_config_type sarathi --sarathi_scheduler_config_chunk_size 512
       --poisson_request_interval_generator_config_qps 10 --synthetic_request_generator_config_num_requests 300
       --length_generator_config_type lognormal --seed 7 --no-metrics_config_timestamp_output_dir)
# run NAME CMD: CMD with FLAGS into $T/out_NAME; its summary (stdout without the output line)
# in $T/NAME.txt; config.json and config_flat.json name the folder, so that is normalised
run() {
    local name=$1 f
    shift
    if "$@" "${FLAGS[@]}" --metrics_config_output_dir "$T/out_$name" >"$T/$name.stdout" 2>"$T/$name.stderr"; then
        grep -v '^output: ' "$T/$name.stdout" >"$T/$name.txt"
        for f in "$T/out_$name"/config*.json; do sed -i "s#$T/out_$name#OUT#g" "$f"; done
        return 0
    fi
    bad "$name runs" "$(head -3 "$T/$name.stderr")"
    return 1
}
# same_outputs A B: every output file of run A equals B's, byte for byte
same_outputs() {
    local a=$T/out_$1 b=$T/out_$2
    [ -n "$(ls "$a")" ] && diff -r "$a" "$b" >"$T/diff_$1_$2" 2>&1 && cmp -s "$T/$1.txt" "$T/$2.txt"
}
if run vidur "$P/bin/vidur"; then
    if [ -x "$T/run_lib" ] && run lib "$T/run_lib"; then
        if same_outputs vidur lib; then
            ok "pkg-config program (libvidur.a) and vidur agree to the last digit ($(ls "$T/out_lib" | wc -l) output files, summary)"
        else
            bad "pkg-config program (libvidur.a) and vidur agree" "$(head -5 "$T/diff_vidur_lib")"
        fi
    fi
    if [ -x "$T/run_stb" ] && run stb "$T/run_stb"; then
        if same_outputs vidur stb; then
            ok "stb-style program with pkg-config's flags and vidur agree to the last digit"
        else
            bad "stb-style program with pkg-config's flags and vidur agree" "$(head -5 "$T/diff_vidur_stb")"
        fi
    fi
    if [ -x "$T/run_roofline" ] && run roofline "$T/run_roofline"; then
        p99() { awk '/^TTFT/ { print $NF }' "$T/$1.txt"; }
        if [ -n "$(p99 vidur)" ] && [ "$(p99 vidur)" != "$(p99 roofline)" ]; then
            ok "built without the tables, the program predicts otherwise (TTFT p99 $(p99 roofline) s vs $(p99 vidur) s)"
        else
            bad "built without the tables, the program predicts otherwise" "TTFT p99 $(p99 roofline) vs $(p99 vidur)"
        fi
    fi
fi
finish
