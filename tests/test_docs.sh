#!/usr/bin/env bash
# The documentation cannot drift. Checked here:
#   - docs/config_reference.md equals what `vidur --help` generates, and documents every key;
#   - the README's first commands are the two a newcomer runs, and it names the program options;
#   - every --flag the README and docs/*.md mention exists: it is in the --help of `vidur` or of
#     one of our tools, or in the short list below of other programs' flags;
#   - every relative link of the repository's own Markdown files resolves inside the repository,
#     and a link to a heading (#anchor) finds that heading;
#   - the README and docs/*.md point nowhere outside the repository (no ../shared, no section of
#     a document that is not shipped);
#   - the version agrees in vidur.h's first line, VIDUR_VERSION_*, CHANGELOG.md, `vidur --version`
#     and the README;
#   - the QUICK START program at the top of vidur.h compiles as the header says and runs, and so
#     does every complete C program (one with main) of the README and docs/*.md; a sketch that
#     has a main but is not a whole program follows a line <!-- fragment: why -->.
# The compile checks run once (the plain pass of tests/run.sh): they do not use $VIDUR.
. "$(dirname "$0")/lib.sh"
test_tmpdir docs
CC=${CC:-cc}
BUILD=${BUILD:-build}
case "$VIDUR" in */asan/*) SANITIZER_PASS=1 ;; *) SANITIZER_PASS=0 ;; esac
DOCS=(README.md docs/*.md)
# hand-written documents (config_reference.md is generated and compared as a whole)
PROSE=(README.md)
for f in docs/*.md; do [ "$f" = docs/config_reference.md ] || PROSE+=("$f"); done

# ---- the generated reference -------------------------------------------------------------------
if bash scripts/gen_config_reference.sh "$VIDUR" >"$T/ref" && cmp -s "$T/ref" docs/config_reference.md; then
    ok "docs/config_reference.md is current (run make docs otherwise)"
else
    bad "docs/config_reference.md is current" "run make docs"
fi
n_help=$("$VIDUR" --help | grep -c '^  --[a-z]')
n_doc=$(grep -c '^| `--' docs/config_reference.md)
# --help also lists the five program options (help, version, quiet, verbose, plugin)
if [ "$n_doc" -eq $((n_help - 5)) ] && [ "$n_doc" -gt 150 ]; then ok "every key documented ($n_doc)"; else bad "every key documented" "$n_doc vs $n_help"; fi

# ---- the README's opening ----------------------------------------------------------------------
first=$(grep -m2 -E '^make (run|test)' README.md | awk '{print $1" "$2}' | tr '\n' ' ')
if [ "$first" = "make run make test " ]; then ok "README starts with make run / make test"; else bad "README first commands" "$first"; fi
for opt in --help --version --quiet --verbose --plugin; do
    if grep -q -- "$opt" README.md; then ok "README documents $opt"; else bad "README documents $opt"; fi
done
lines=$(wc -l <README.md)
if [ "$lines" -le 300 ]; then ok "README.md is short ($lines lines; the rest is in docs/)"; else bad "README.md is at most 300 lines" "$lines"; fi

# ---- every documented flag exists --------------------------------------------------------------
# Flags of the programs the documents show that are not ours (a browser, pkg-config, vLLM's
# benchmark) and the golden test's --update.
OTHERS="--headless --no-sandbox --screenshot --window-size --cflags --libs --modversion --update --save-result --save-detailed"
{
    "$VIDUR" --help
    for tool in vidur-search vidur-compare vidur-tables vidur-mooncake vidur-convgen vidur-calibrate; do
        if [ -x "$BUILD/$tool" ]; then "$BUILD/$tool" --help 2>&1; else echo "MISSING-TOOL $tool"; fi
    done
    if command -v python3 >/dev/null; then PYTHONDONTWRITEBYTECODE=1 python3 tools/vidur-profile.py --help 2>&1; fi
    bash scripts/deps.sh --help 2>&1 # its --test
    # the keys a plug-in declares (examples/replica_scheduler.c as build/plugins/spf.so)
    if [ -f "$BUILD/plugins/spf.so" ]; then "$VIDUR" --plugin "$BUILD/plugins/spf.so" --help 2>&1; else echo "MISSING-TOOL plugins/spf.so"; fi
    printf '%s\n' $OTHERS
} >"$T/known.txt"
if grep -q MISSING-TOOL "$T/known.txt"; then
    bad "every tool's --help is at hand" "$(grep MISSING-TOOL "$T/known.txt" | tr '\n' ' ')(run make)"
fi
grep -oE -- '--[a-z][a-z0-9_-]*' "$T/known.txt" | sort -u >"$T/known"
# flags in the documents: --name (--name=value, --no-name for a boolean key)
# (a line that shows a did-you-mean misspells a flag on purpose; a name ending in _, as in
# --name_<field> or --name_*, is a pattern)
for f in "${PROSE[@]}"; do
    grep -v 'did you mean' "$f" | grep -oE -- '(^|[^a-zA-Z0-9_<>-])--[a-z][a-z0-9_-]*' | grep -v '_$' |
        sed -E "s|^[^-]*--|$f:--|"
done | sort -u >"$T/used"
unknown=""
nflags=0
while IFS=: read -r file flag; do
    nflags=$((nflags + 1))
    plain=${flag/#--no-/--}
    grep -qxF -- "$flag" "$T/known" || grep -qxF -- "$plain" "$T/known" || unknown+="$file: $flag; "
done <"$T/used"
if [ -z "$unknown" ] && [ "$nflags" -gt 50 ]; then
    ok "every flag the documents mention exists ($nflags mentions)"
else
    bad "every flag the documents mention exists ($nflags mentions)" "$unknown"
fi

# ---- links and references ----------------------------------------------------------------------
# slugs FILE: the anchors of FILE's headings, as GitHub makes them (lower case, spaces to
# hyphens, punctuation other than - and _ dropped; a repeated heading gets -1, -2, ...)
slugs() {
    grep -E '^#{1,6} ' "$1" | sed -E 's/^#+ +//; s/[[:space:]]+$//' | tr 'A-Z' 'a-z' |
        sed -E 's/`//g; s/[^a-z0-9 _-]//g; s/ /-/g' | awk '{ n = seen[$0]++; print (n ? $0 "-" n : $0) }'
}
MDS=$(git ls-files --cached --others --exclude-standard '*.md' 2>/dev/null | grep -v '^data/tables_accuracy.md$')
[ -n "$MDS" ] || MDS=$(find . -name '*.md' -not -path './build/*' -not -path './data/tables_accuracy.md' | sed 's|^\./||')
broken=""
nlinks=0
for md in $MDS; do
    dir=$(dirname "$md")
    # [text](target): targets without a scheme, outside code spans and blocks
    while IFS= read -r target; do
        nlinks=$((nlinks + 1))
        path=${target%%#*}
        anchor=""
        [ "$path" != "$target" ] && anchor=${target#*#}
        if [ -z "$path" ]; then
            file=$md
        else
            file=$dir/$path
            if [ ! -e "$file" ]; then broken+="$md: $target (no such file); "; continue; fi
            real=$(realpath -m "$file")
            case "$real/" in "$ROOT"/*) ;; *) broken+="$md: $target (outside the repository); "; continue ;; esac
        fi
        if [ -n "$anchor" ] && [ -f "$file" ] && ! slugs "$file" | grep -qxF -- "$anchor"; then
            broken+="$md: $target (no such heading); "
        fi
    done < <(awk '/^```/ { code = !code; next } !code' "$md" | sed -E 's/`[^`]*`//g' |
             grep -oE '\]\([^) ]+\)' | sed -E 's/^\]\(//; s/\)$//' | grep -vE '^[a-z]+:')
done
if [ -z "$broken" ] && [ "$nlinks" -gt 20 ]; then
    ok "every relative link of the Markdown files resolves inside the repository ($nlinks links)"
else
    bad "every relative link resolves inside the repository ($nlinks links)" "$broken"
fi
outside=$(grep -nE '\.\./shared|shared/spec' "${PROSE[@]}")
if [ -z "$outside" ]; then ok "README and docs/ point nowhere outside the repository"; else bad "README and docs/ point outside the repository" "$outside"; fi
# a section (§) of a document cited by name must be a document of the repository
cited=""
while IFS=: read -r file doc; do
    [ -n "$(git ls-files --cached --others --exclude-standard "*/$doc" "$doc" 2>/dev/null)" ] || cited+="$file: $doc; "
done < <(grep -oHE '[A-Za-z0-9_.-]+\.md`? *§' "${PROSE[@]}" | sed -E 's/`? *§$//')
nsect=$(grep -c '§' "${PROSE[@]}" | awk -F: '{ n += $2 } END { print n + 0 }')
if [ -z "$cited" ] && [ "$nsect" -eq 0 ]; then
    ok "README and docs/ cite no section of a document that is not shipped"
else
    bad "README and docs/ cite no section of a document that is not shipped" "${cited}$nsect lines with §"
fi

# ---- version strings ---------------------------------------------------------------------------
ver=$(sed -n 's/^#define VIDUR_VERSION_STRING "\(.*\)"/\1/p' vidur.h)
parts=$(sed -n 's/^#define VIDUR_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' vidur.h | tr '\n' . | sed 's/\.$//')
if [ -n "$ver" ] && [ "$ver" = "$parts" ] && head -1 vidur.h | grep -qF "v$ver" && grep -m1 '^## ' CHANGELOG.md | grep -qF "$ver"; then
    ok "version $ver agrees in vidur.h's first line, VIDUR_VERSION_STRING, VIDUR_VERSION_MAJOR/MINOR/PATCH and CHANGELOG.md"
else
    bad "version agrees in vidur.h's first line, VIDUR_VERSION_* and CHANGELOG.md" "'$ver' vs '$parts'"
fi
if [ "$("$VIDUR" --version)" = "vidur $ver" ]; then ok "vidur --version prints vidur $ver"; else bad "vidur --version" "$("$VIDUR" --version)"; fi
# every "vidur X.Y.Z" / "(vX.Y.Z)" of the README names this version
others=$(grep -oE '(vidur |\(v)[0-9]+\.[0-9]+\.[0-9]+' README.md | grep -vE "(vidur |\(v)$ver\$" | sort -u | tr '\n' ' ')
if [ -z "$others" ] && grep -qE "(vidur |\(v)$ver" README.md; then ok "the README names version $ver"; else bad "the README names version $ver" "$others"; fi

# ---- the programs of the documents compile and run ---------------------------------------------
if [ "$SANITIZER_PASS" = 1 ]; then
    skip "documented programs compile and run (checked in the plain pass)"
    finish
fi
PKG=$(pkg-config --cflags inih 2>/dev/null) || PKG=""
WARN="-std=c99 -O0 -Wall -Wextra -Wpedantic -Werror"
# the QUICK START block: the lines between its heading and section 2, the indentation removed
awk '/^   1\. QUICK START/ { on = 1; next } /^   2\. COMPILE-TIME OPTIONS/ { on = 0 } on' vidur.h | sed -E 's/^       //' >"$T/quick.c"
# shellcheck disable=SC2086
if grep -q 'int main' "$T/quick.c" && "$CC" $WARN -I. $PKG "$T/quick.c" -o "$T/quick" -linih -lm >"$T/quick.log" 2>&1; then
    ok "the QUICK START of vidur.h compiles as the header says (cc prog.c \$(pkg-config --cflags --libs inih) -lm)"
    out=$("$T/quick" 2>&1)
    if [ $? -eq 0 ] && grep -qE '^[0-9]+ requests, TTFT p50 [0-9.]+ s$' <<<"$out"; then ok "the QUICK START runs ($out)"; else bad "the QUICK START runs" "$out"; fi
else
    bad "the QUICK START of vidur.h compiles" "$(head -5 "$T/quick.log")"
fi
# complete C programs of the README and docs/: with VIDUR_IMPLEMENTATION on their own, otherwise
# against the libraries the Makefile builds (as pkg-config's vidur links them)
n=0
for md in "${PROSE[@]}"; do
    base=${md%.md}
    # a block right after a line <!-- fragment --> is a sketch, not a program: not compiled
    awk -v out="$T/snip_${base//\//_}" '/^<!-- fragment/ { frag = 1; next }
        /^```c$/ { on = 1; k++; f = out "_" k (frag ? ".fragment" : ".c"); frag = 0; next }
        /^```/ { on = 0 } NF && !on { frag = frag && /^$/ } on { print > f }' "$md"
done
for src in "$T"/snip_*.c; do
    [ -e "$src" ] || continue
    grep -q 'int main' "$src" || continue
    n=$((n + 1))
    name=$(basename "$src" .c)
    name=${name#snip_}
    if grep -q '#define VIDUR_IMPLEMENTATION' "$src"; then libs=""; else libs="$BUILD/libvidur.a $BUILD/libvidur_tables.a -ljansson"; fi
    # shellcheck disable=SC2086
    if "$CC" $WARN -I. $PKG "$src" -o "$T/$name" $libs -linih -lm -ldl >"$T/$name.log" 2>&1; then
        if "$T/$name" >"$T/$name.out" 2>&1; then ok "the C program of ${name%_*}.md (block ${name##*_}) builds and runs"
        else bad "the C program of ${name%_*}.md (block ${name##*_}) runs" "$(head -3 "$T/$name.out")"; fi
    else
        bad "the C program of ${name%_*}.md (block ${name##*_}) builds" "$(head -5 "$T/$name.log")"
    fi
done
if [ "$n" -ge 2 ]; then ok "$n complete C programs in the README and docs/"; else bad "the README and docs/ hold complete C programs" "$n found"; fi
finish
