#!/usr/bin/env bash
# Writes the configuration reference (docs/config_reference.md) from `vidur --help`, so the
# document cannot drift from the key table in vidur.h. tests/test_docs.sh checks it is current.
#   scripts/gen_config_reference.sh [VIDUR_BINARY] > docs/config_reference.md
set -euo pipefail
VIDUR=${1:-build/vidur}
cat <<'HEAD'
# Configuration reference

Generated from `vidur --help` by `scripts/gen_config_reference.sh` (run `make docs` after
changing the key table in `vidur.h`). Every key is both a command-line flag
`--<section>_<key> VALUE` and an INI entry `key = value` under `[section]`; top-level keys go
before any section. Booleans also take `--<flag>` / `--no-<flag>`; list keys take several
space-separated values on the command line. Names and defaults are Vidur's (upstream); keys
marked "ours" are vidur.h additions.

HEAD
"$VIDUR" --help | awk '
    # a row is printed when the next one starts: a type key is followed by its choices, one a line
    function flush() { if (row != "") print row " |"; row = "" }
    /^\[/ { flush(); sec = $0; gsub(/[\[\]]/, "", sec); printf "\n## %s\n\n| flag | default | meaning |\n|---|---|---|\n", sec; next }
    /^  --/ && inkeys { flush(); flag = $1; sub(/^--/, "", flag); def = $0; sub(/^.*\(default: /, "", def); sub(/\)$/, "", def); getline; help = $0; sub(/^ +/, "", help); gsub(/\|/, "\\|", help); gsub(/\|/, "\\|", def); row = sprintf("| `--%s` | `%s` | %s", flag, def, help); next }
    /^        [^ ]/ && row != "" { name = $1; text = $0; sub(/^ +[^ ]+ +/, "", text); gsub(/\|/, "\\|", text); row = row "<br>`" name "`: " text; next }
    /^Every key is a flag/ { inkeys = 1 }
    /^User-defined tables/ { flush(); print "\n## User-defined tables (INI only)\n\n```"; tables = 1; next }
    tables { print }
    END { flush(); if (tables) print "```" }
'
