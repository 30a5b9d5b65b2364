#!/usr/bin/env bash
# `make install PREFIX=...` installs the headers, the programs and a pkg-config file with which a
# program builds and runs.
. "$(dirname "$0")/lib.sh"
test_tmpdir install
if make -s install PREFIX="$T/prefix" >"$T/log" 2>&1; then ok "make install"; else bad "make install" "$(tail -3 "$T/log")"; fi
for f in include/vidur.h include/vidur_search.h bin/vidur bin/vidur-search lib/pkgconfig/vidur.pc; do
    if [ -e "$T/prefix/$f" ]; then ok "installed $f"; else bad "installed $f"; fi
done
if "$T/prefix/bin/vidur" --version | grep -q '^vidur '; then ok "installed vidur runs"; else bad "installed vidur runs"; fi
flags=$(PKG_CONFIG_PATH="$T/prefix/lib/pkgconfig" pkg-config --cflags --libs vidur 2>"$T/pc.err")
if [ -n "$flags" ]; then ok "pkg-config vidur"; else bad "pkg-config vidur" "$(cat "$T/pc.err")"; fi
sed 's|#include "../vidur.h"|#include <vidur.h>|' examples/embed.c >"$T/embed.c"
# shellcheck disable=SC2086
if cc -std=c99 -Wall -Wextra -Werror "$T/embed.c" -o "$T/embed" $flags >"$T/cc.log" 2>&1; then ok "embed.c builds against the install"; else bad "embed.c builds against the install" "$(head -3 "$T/cc.log")"; fi
if [ -x "$T/embed" ] && "$T/embed" >/dev/null; then ok "embed.c runs"; else bad "embed.c runs"; fi
# the capacity-search header builds against the install too (compiled only: it runs simulations)
sed -e 's|#include "../vidur.h"|#include <vidur.h>|' -e 's|#include "../vidur_search.h"|#include <vidur_search.h>|' \
    examples/capacity_search.c >"$T/capacity_search.c"
# shellcheck disable=SC2086
if cc -std=c99 -Wall -Wextra -Werror "$T/capacity_search.c" -o "$T/capacity_search" $flags >"$T/cs.log" 2>&1; then
    ok "capacity_search.c builds against the install (vidur_search.h)"
else
    bad "capacity_search.c builds against the install (vidur_search.h)" "$(head -3 "$T/cs.log")"
fi
finish
