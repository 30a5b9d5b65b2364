#!/usr/bin/env bash
# Compile checks for vidur.h ("compile as hard as you test"):
#   api      declarations only (no VIDUR_IMPLEMENTATION), C99 and C11, gcc and clang
#   impl     the implementation as C99 and C11 with gcc and clang; built, linked and run
#   cpp      the implementation as C++11 and C++17 with g++ and clang++; built, linked and run
#   static   VIDUR_STATIC + VIDUR_IMPLEMENTATION in two translation units linked together
#   options  VIDUR_MALLOC/REALLOC/FREE + VIDUR_NO_INIH, compiled without any include path but
#            the repository's and linked with -lm alone (the header needs no other library then);
#            runs a small simulation and checks nothing leaks
#   no_ppo   VIDUR_NO_PPO as C99 (gcc, clang) and C++11 (g++): the PPO API is gone, `ppo` is a
#            clear error, other routers (and a plug-in named ppo) run
#   search   vidur_search.h: declarations alone as C99 and C11 (gcc, clang); both implementations
#            in one TU as C99 (gcc), C11 (clang), C++11 (g++) and C++17 (clang++), built and run
#   tables   the ways to get the profiled operator tables: vidur.c with VIDUR_TABLES_EXTERN
#            linked with vidur_tables.c compiled as C++ (its symbol keeps C linkage); neither
#            macro (no tables, and a warning through the log callback)
#   threads  the output writer thread (POSIX threads: _POSIX_C_SOURCE) as C99 with gcc and clang,
#            and the same build with VIDUR_NO_THREADS (compiled out)
#   json     VIDUR_JSON (the Hugging Face config.json reader, jansson; vidur_search.h's job config
#            of a [model.NAME] config) as C99 and C++11
# All with -Wall -Wextra -Wpedantic -Werror. Prints PASS/FAIL/SKIP lines and, last,
# "N passed, N failed". A compiler that is not installed is skipped (not a failure).
set -u
cd "$(dirname "$0")/../.."

OUT=${BUILD:-build}/compile
mkdir -p "$OUT"
WARN="-Wall -Wextra -Wpedantic -Werror"
PKG=$(pkg-config --cflags inih 2>/dev/null) || PKG=""
LIBS="-linih -lm"
OPT=${COMPILE_CHECK_OPT:--O1}
# gcc's flow warnings (-Wmaybe-uninitialized and the like) need optimisation; clang's come from its
# front end, so clang compiles at -O0 (a third of the time: make test < 5 min)
opt() { case "$1" in clang*) echo "${COMPILE_CHECK_CLANG_OPT:--O0}" ;; *) echo "$OPT" ;; esac; }
pass=0
fail=0

if [ ! -f vidur.h ]; then
    echo "FAIL vidur.h not found"
    echo "0 passed, 1 failed"
    exit 1
fi

# check NAME COMMAND...: queues one check (one pass or one failure). Checks run in the
# background, JOBS at a time; finish() prints the results in queue order, with the log of
# each failure.
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
RES=$(mktemp -d)
trap 'rm -rf "$RES"' EXIT
nchecks=0
names=()
check() {
    local name=$1 id
    shift
    id=$nchecks
    nchecks=$((nchecks + 1))
    names+=("$name")
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n 2>/dev/null || true; done
    ( if "$@" >"$RES/$id.log" 2>&1; then echo 0 >"$RES/$id.rc"; else echo 1 >"$RES/$id.rc"; fi ) &
}
finish() {
    local id
    wait
    for ((id = 0; id < nchecks; id++)); do
        if [ "$(cat "$RES/$id.rc" 2>/dev/null)" = 0 ]; then
            echo "PASS ${names[$id]}"
            pass=$((pass + 1))
        else
            echo "FAIL ${names[$id]}"
            head -n 40 "$RES/$id.log" | sed 's/^/    /'
            fail=$((fail + 1))
        fi
    done
}

have() { command -v "$1" >/dev/null 2>&1; }

api() { # cc std
    "$1" -std="$2" $WARN $(opt "$1") -I. $PKG -c tests/compile/api_c.c -o "$OUT/api_$1_$2.o"
}
impl() { # cc std
    "$1" -std="$2" $WARN $(opt "$1") -I. $PKG tests/compile/impl_c.c -o "$OUT/impl_$1_$2" $LIBS && "$OUT/impl_$1_$2"
}
cpp() { # cxx std
    "$1" -std="$2" $WARN $(opt "$1") -I. $PKG tests/compile/impl_cpp.cpp -o "$OUT/impl_$1_$2" $LIBS && "$OUT/impl_$1_$2"
}
static_two_tu() { # cc
    "$1" -std=c99 $WARN $(opt "$1") -I. $PKG tests/compile/static_a.c tests/compile/static_b.c \
        -o "$OUT/static_$1" $LIBS && "$OUT/static_$1"
}
no_ppo() { # compiler std language
    "$1" -std="$2" -x "$3" $WARN $(opt "$1") -I. $PKG tests/compile/no_ppo.c -o "$OUT/no_ppo_$1_$2" $LIBS && "$OUT/no_ppo_$1_$2"
}
search_api() { # cc std
    "$1" -std="$2" $WARN $(opt "$1") -I. $PKG -DSEARCH_API_ONLY -c tests/compile/search.c -o "$OUT/search_api_$1_$2.o"
}
search_impl() { # compiler std language
    "$1" -std="$2" -x "$3" $WARN $(opt "$1") -I. $PKG tests/compile/search.c -o "$OUT/search_$1_$2" $LIBS && "$OUT/search_$1_$2"
}
threads() { # cc on|off: the implementation with POSIX (the writer thread compiled in) or VIDUR_NO_THREADS
    local def=""
    [ "$2" = off ] && def="-DVIDUR_NO_THREADS"
    "$1" -std=c99 $WARN $(opt "$1") -I. $PKG -D_POSIX_C_SOURCE=200809L $def tests/compile/impl_c.c -o "$OUT/threads_$1_$2" $LIBS && "$OUT/threads_$1_$2"
}
options() { # cc
    "$1" -std=c99 $WARN $(opt "$1") -I. tests/compile/options_c.c -o "$OUT/options_$1" -lm && "$OUT/options_$1"
}

tables() { # extern | none
    if [ "$1" = extern ]; then
        gcc -std=c99 $WARN $OPT -I. $PKG -DVIDUR_TABLES_EXTERN -c vidur.c -o "$OUT/tables_impl.o" &&
            g++ -std=c++11 $WARN $OPT -I. -Idata $PKG -x c++ -c vidur_tables.c -o "$OUT/tables_data.o" &&
            gcc -std=c99 $WARN $OPT -I. $PKG -DTABLES_EXPECTED=1 tests/compile/tables_c.c "$OUT/tables_impl.o" \
                "$OUT/tables_data.o" -o "$OUT/tables_extern" $LIBS && "$OUT/tables_extern"
    else
        gcc -std=c99 $WARN $OPT -I. $PKG -DTABLES_EXPECTED=0 -DVIDUR_IMPLEMENTATION tests/compile/tables_c.c \
            -o "$OUT/tables_none" $LIBS && "$OUT/tables_none"
    fi
}

for cc in gcc clang; do
    if ! have "$cc"; then
        echo "SKIP api/impl/static $cc (not installed; as root: apt-get install -y $cc)"
        continue
    fi
    for std in c99 c11; do
        check "api $cc -std=$std" api "$cc" "$std"
    done
    for std in c99 c11; do
        check "impl $cc -std=$std" impl "$cc" "$std"
    done
    check "static two TUs $cc" static_two_tu "$cc"
    check "no_ppo $cc -std=c99" no_ppo "$cc" c99 c
    check "threads $cc -std=c99 -D_POSIX_C_SOURCE=200809L" threads "$cc" on
    check "threads $cc -std=c99 -D_POSIX_C_SOURCE=200809L -DVIDUR_NO_THREADS" threads "$cc" off
    for std in c99 c11; do
        check "search api $cc -std=$std" search_api "$cc" "$std"
    done
    if [ "$cc" = gcc ]; then check "search impl gcc -std=c99" search_impl gcc c99 c; else check "search impl $cc -std=c11" search_impl "$cc" c11 c; fi
done

for cxx in g++ clang++; do
    if ! have "$cxx"; then
        echo "SKIP cpp $cxx (not installed)"
        continue
    fi
    for std in c++11 c++17; do
        check "cpp $cxx -std=$std" cpp "$cxx" "$std"
    done
    if [ "$cxx" = g++ ]; then
        check "no_ppo $cxx -std=c++11" no_ppo "$cxx" c++11 c++
        check "search impl $cxx -std=c++11" search_impl "$cxx" c++11 c++
    else
        check "search impl $cxx -std=c++17" search_impl "$cxx" c++17 c++
    fi
done

if have gcc; then
    check "options gcc (allocator, no inih, no library but libm)" options gcc
    check "tables none (roofline, with a warning)" tables none
    if have g++; then check "tables extern (vidur.c + vidur_tables.c as C++)" tables extern; fi
fi

json() { # cc std src: reads a committed config.json through VIDUR_JSON
    "$1" -std="$2" $WARN $(opt "$1") -I. $PKG -DVIDUR_JSON -x "$3" tests/compile/json_c.c -o "$OUT/json_$1_$2" -ljansson $LIBS && "$OUT/json_$1_$2"
}
if [ -f /usr/include/jansson.h ] || pkg-config --exists jansson 2>/dev/null; then
    have gcc && check "json gcc -std=c99 (VIDUR_JSON)" json gcc c99 c
    have g++ && check "json g++ -std=c++11 (VIDUR_JSON)" json g++ c++11 c++
else
    echo "SKIP json (jansson not installed; as root: apt-get install -y libjansson-dev)"
fi

finish
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
