#!/usr/bin/env bash
# Checks the build dependencies of vidur.h: inih (libinih-dev), the header's only library (it does
# not use stb_ds: docs/building.md says why), and of its tools: libyaml (libyaml-dev) for
# vidur-search's reading of the config explorer's YAML, jansson (libjansson-dev) for Hugging Face
# config.json files (VIDUR_JSON) and vidur-calibrate's JSON ground truth.
# Missing packages are installed with apt-get when running as root; otherwise the command to
# run is printed and the script fails.
#
#   scripts/deps.sh          library dependencies only
#   scripts/deps.sh --test   also try to install clang (used by the compile checks of `make test`;
#                            when it cannot be installed those checks are skipped, not failed),
#                            clang's libFuzzer runtime (libclang-rt-dev: `make fuzz`, skipped without it),
#                            OpenMPI (libopenmpi-dev, openmpi-bin: the MPI capacity search,
#                            `make mpi`), chromium and libxml2-utils (report.html screenshot and
#                            XML checks of tests/test_report.sh), protobuf-compiler (protoc
#                            --decode_raw reads the Perfetto trace in tests/test_perfetto.sh);
#                            the tests that need these optional packages are skipped, not
#                            failed, when they are absent
set -euo pipefail

want_clang=0
for arg in "$@"; do
    case "$arg" in
        --test) want_clang=1 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "deps.sh: unknown argument '$arg' (expected --test)" >&2; exit 2 ;;
    esac
done

is_root() { [ "$(id -u)" -eq 0 ]; }

have_yaml() { [ -f /usr/include/yaml.h ]; }
have_jansson() {
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists jansson; then return 0; fi
    [ -f /usr/include/jansson.h ]
}

have_inih() {
    if command -v pkg-config >/dev/null 2>&1; then
        pkg-config --exists inih || return 1
        local dir
        dir=$(pkg-config --variable=includedir inih 2>/dev/null || true)
        [ -f "${dir:-/usr/include}/ini.h" ] || [ -f /usr/include/ini.h ]
    else
        [ -f /usr/include/ini.h ]
    fi
}

# apt-get quietly: progress goes away, errors stay visible
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get update -qq >/dev/null; then
        echo "deps.sh: apt-get update failed" >&2
        return 1
    fi
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
have_inih || missing+=(libinih-dev)
have_yaml || missing+=(libyaml-dev)
have_jansson || missing+=(libjansson-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)

if [ ${#missing[@]} -gt 0 ]; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        echo "deps.sh: installing ${missing[*]}"
        apt_install libinih-dev libyaml-dev libjansson-dev pkg-config || true
    fi
    if ! have_inih || ! have_yaml || ! have_jansson; then
        echo "deps.sh: missing inih, libyaml and/or jansson. Install them with:" >&2
        echo "    sudo apt-get install -y libinih-dev libyaml-dev libjansson-dev" >&2
        exit 1
    fi
fi

if [ "$want_clang" -eq 1 ] && ! command -v clang >/dev/null 2>&1; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        echo "deps.sh: installing clang for the compile checks"
        apt_install clang || true
    fi
    if ! command -v clang >/dev/null 2>&1; then
        echo "deps.sh: clang not found; the clang compile checks will be skipped" \
             "(install with: sudo apt-get install -y clang)"
    fi
fi
# libFuzzer for `make fuzz` (clang's runtime: libclang-rt-dev): optional, never fails; without
# it `make fuzz` says so and skips (the regression corpus still replays in `make test` with gcc)
have_libfuzzer() {
    command -v clang >/dev/null 2>&1 || return 1
    local d
    d=$(mktemp -d) || return 1
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$d/p.c"
    clang -fsanitize=fuzzer,address,undefined -o "$d/p" "$d/p.c" >/dev/null 2>&1
    local rc=$?
    rm -rf "$d"
    return $rc
}
if [ "$want_clang" -eq 1 ] && command -v clang >/dev/null 2>&1 && ! have_libfuzzer; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        echo "deps.sh: installing libclang-rt-dev (libFuzzer) for make fuzz"
        apt_install libclang-rt-dev || true
    fi
    if ! have_libfuzzer; then
        echo "deps.sh: clang cannot link libFuzzer; make fuzz will be skipped" \
             "(install with: sudo apt-get install -y libclang-rt-dev)"
    fi
fi
# capacity search over MPI (make mpi, tests/test_search.sh): optional, never fails
if [ "$want_clang" -eq 1 ] && { ! command -v mpicc >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1; }; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        echo "deps.sh: installing OpenMPI for the MPI capacity search test"
        apt_install libopenmpi-dev openmpi-bin || true
    fi
    if ! command -v mpicc >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1; then
        echo "deps.sh: mpicc/mpirun not found; the MPI capacity search test will be skipped" \
             "(install with: sudo apt-get install -y libopenmpi-dev openmpi-bin)"
    fi
fi
# report tests (tests/test_report.sh): a headless browser and an XML checker, both optional
if [ "$want_clang" -eq 1 ]; then
    report_missing=()
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || report_missing+=(chromium)
    command -v xmllint >/dev/null 2>&1 || report_missing+=(libxml2-utils)
    if [ ${#report_missing[@]} -gt 0 ] && is_root && command -v apt-get >/dev/null 2>&1; then
        echo "deps.sh: installing ${report_missing[*]} for the report tests"
        apt_install "${report_missing[@]}" || true
    fi
    if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
        echo "deps.sh: chromium not found; the report screenshot test will be skipped" \
             "(install with: sudo apt-get install -y chromium)"
    fi
fi
# the Perfetto trace test (tests/test_perfetto.sh): protoc reads the trace; optional
if [ "$want_clang" -eq 1 ] && ! command -v protoc >/dev/null 2>&1; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        echo "deps.sh: installing protobuf-compiler for the Perfetto trace test"
        apt_install protobuf-compiler || true
    fi
    if ! command -v protoc >/dev/null 2>&1; then
        echo "deps.sh: protoc not found; the Perfetto trace test's protoc checks will be skipped" \
             "(install with: sudo apt-get install -y protobuf-compiler)"
    fi
fi
exit 0
