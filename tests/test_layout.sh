#!/usr/bin/env bash
# The layout the headers promise (issue 15):
#   - tools/ and examples/ use only the public API: no private name (vidur__*, VIDUR__*) of
#     vidur.h, except the explicit, justified exceptions below;
#   - vidur_search.h sits on vidur.h's public API (no private name) and vidur.h's code never
#     names the search (comments may point to it);
#   - each implementation's table of contents matches its numbered section banners
#     ('==== SECTION N: title'), in order.
# Needs no build. Text checks only, so it runs in a few milliseconds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_tmpdir layout

# Exceptions: "FILE NAME-REGEX reason". tools/vidur-tables.c writes data/vidur_tables.h, which
# vidur.h's implementation includes under VIDUR_TABLES: the private names of that generated file
# are the format shared by the generator and the header, and appear in vidur-tables.c only inside
# the text it emits (checked below), never as calls into the library.
EXCEPTIONS=(
    "tools/vidur-tables.c ^(vidur__tab_(x|y|v|terms|list|calib|provenance)|VIDUR__TAB_(COUNT|CALIB_COUNT))$ the generated table file's names"
)

allowed() { # FILE NAME: 0 when an exception covers it
    local e file re
    for e in "${EXCEPTIONS[@]}"; do
        read -r file re _ <<<"$e"
        [ "$file" = "$1" ] && [[ $2 =~ $re ]] && return 0
    done
    return 1
}

# nostrings FILE: the file with the contents of its string literals removed
nostrings() { sed -E 's/"([^"\\]|\\.)*"/""/g' "$1"; }

files=$(find tools examples -type f \( -name '*.c' -o -name '*.h' -o -name '*.py' -o -name '*.sh' \) | LC_ALL=C sort)
[ -n "$files" ] && ok "tools/ and examples/: $(printf '%s\n' "$files" | wc -l) source files to check" || bad "no sources found under tools/ and examples/"
nbad=0
for f in $files; do
    for name in $(grep -oE '\b(vidur__|VIDUR__)[A-Za-z0-9_]*' "$f" | LC_ALL=C sort -u); do
        if allowed "$f" "$name"; then
            # the exception holds only while the name is emitted text and the generated file uses it
            if nostrings "$f" | grep -n "\\b$name\\b" >"$T/outside"; then
                bad "$f: $name appears outside the text it emits" "$(head -1 "$T/outside")"
                nbad=$((nbad + 1))
            elif ! grep -q "\\b$name\\b" vidur.h data/vidur_tables.h; then
                bad "$f: exception for $name is stale (vidur.h and data/vidur_tables.h no longer use it): remove it"
                nbad=$((nbad + 1))
            fi
        else
            bad "$f uses the private name $name" "$(grep -n "\\b$name\\b" "$f" | head -1)"
            nbad=$((nbad + 1))
        fi
    done
done
[ "$nbad" -eq 0 ] && ok "tools/ and examples/ use only vidur.h's public API (${#EXCEPTIONS[@]} explicit exception)"

# the exceptions must still be needed (an unused one hides nothing, but misleads)
for e in "${EXCEPTIONS[@]}"; do
    read -r file re _ <<<"$e"
    if grep -oE '\b(vidur__|VIDUR__)[A-Za-z0-9_]*' "$file" 2>/dev/null | grep -qE "$re"; then
        ok "exception still needed: $file"
    else
        bad "exception no longer needed: $file ($re): remove it"
    fi
done

# vidur_search.h: public API only
if grep -nE '\b(vidur__|VIDUR__)[A-Za-z0-9_]*' vidur_search.h >"$T/priv"; then
    bad "vidur_search.h uses private names of vidur.h" "$(head -1 "$T/priv")"
else
    ok "vidur_search.h uses no private name of vidur.h"
fi
# vidur.h's code (comments stripped) never names the search: nothing in the core calls it
if ! command -v cpp >/dev/null 2>&1; then
    skip "vidur.h does not call the search" "cpp not installed"
elif ! cpp -fpreprocessed -P vidur.h >"$T/code" 2>"$T/cpp.err"; then
    bad "vidur.h: comments could not be stripped" "$(head -1 "$T/cpp.err")"
elif grep -nE 'vidur_search|VIDUR_SEARCH' "$T/code" >"$T/s"; then
    bad "vidur.h's code names the capacity search" "$(head -1 "$T/s")"
else
    ok "vidur.h's code never names the capacity search (vidur_search.h)"
fi

# toc FILE: the entries "N  title" of the implementation's TABLE OF CONTENTS, one number a line
toc() { awk '/^   IMPLEMENTATION$/ { impl = 1 } impl && /TABLE OF CONTENTS/ { on = 1; next }
             on && /^   =+ \*\/$/ { exit } on && /^ +[0-9]+  [^ ]/ { print $1 }' "$1"; }
banners() { grep -oE '^/\* ==== SECTION [0-9]+:' "$1" | grep -oE '[0-9]+'; }
for h in vidur.h vidur_search.h; do
    t=$(toc "$h" | tr '\n' ' ')
    b=$(banners "$h" | tr '\n' ' ')
    n=$(toc "$h" | wc -l)
    want=$(seq 1 "$n" | tr '\n' ' ')
    if [ "$n" -ge 2 ] && [ "$t" = "$want" ] && [ "$b" = "$want" ]; then
        ok "$h: table of contents and section banners agree (sections 1-$n, in order)"
    else
        bad "$h: table of contents ($t) and '==== SECTION N:' banners ($b) differ"
    fi
done

# FNV-1a 64's offset basis, wherever a hash spells it out: a basis one digit short
# (1469598103934665603, issue 15 item 10) sat in the stage-time memo, vidur-search's settings hash
# and vidur-mooncake's session table, copied from one to the next
fnv=$(grep -rnoE '\b1469598[0-9]*' --include='*.c' --include='*.h' --include='*.py' vidur.h vidur_*.h tools examples tests bench 2>/dev/null |
      grep -vE ':14695981039346656037$' || true)
if [ -z "$fnv" ]; then
    ok "every FNV-1a 64 offset basis in the sources is 14695981039346656037"
else
    bad "a mistyped FNV-1a 64 offset basis" "$(printf '%s\n' "$fnv" | head -1)"
fi

finish
