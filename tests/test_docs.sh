#!/usr/bin/env bash
# The documentation cannot drift: docs/config_reference.md equals what `vidur --help` generates,
# and the README's first commands are the two a newcomer runs.
. "$(dirname "$0")/lib.sh"
test_tmpdir docs

if bash scripts/gen_config_reference.sh "$VIDUR" >"$T/ref" && cmp -s "$T/ref" docs/config_reference.md; then
    ok "docs/config_reference.md is current (run make docs otherwise)"
else
    bad "docs/config_reference.md is current" "run make docs"
fi
n_help=$("$VIDUR" --help | grep -c '^  --[a-z]')
n_doc=$(grep -c '^| `--' docs/config_reference.md)
# --help also lists the five program options (help, version, quiet, verbose, plugin)
if [ "$n_doc" -eq $((n_help - 5)) ] && [ "$n_doc" -gt 150 ]; then ok "every key documented ($n_doc)"; else bad "every key documented" "$n_doc vs $n_help"; fi
first=$(grep -m2 -E '^make (run|test)' README.md | awk '{print $1" "$2}' | tr '\n' ' ')
if [ "$first" = "make run make test " ]; then ok "README starts with make run / make test"; else bad "README first commands" "$first"; fi
for opt in --help --version --quiet --verbose --plugin; do
    if grep -q -- "$opt" README.md; then ok "README documents $opt"; else bad "README documents $opt"; fi
done
ver=$(sed -n 's/^#define VIDUR_VERSION_STRING "\(.*\)"/\1/p' vidur.h)
if [ -n "$ver" ] && head -1 vidur.h | grep -qF "v$ver" && grep -m1 '^## ' CHANGELOG.md | grep -qF "$ver"; then
    ok "version $ver agrees in vidur.h's first line, VIDUR_VERSION_STRING and CHANGELOG.md"
else
    bad "version agrees in vidur.h's first line, VIDUR_VERSION_STRING and CHANGELOG.md"
fi
finish
