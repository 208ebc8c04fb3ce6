#!/usr/bin/env bash
# A tool's man page renders without groff warnings and describes every flag
# the tool's own --help lists.
#   manpage-check.sh TOOL MANPAGE
set -euo pipefail
tool=$1 page=$2
name=$(basename "$tool")
warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
[ -z "$warnings" ] || { echo "manpage-check: $page: $warnings" >&2; exit 1; }
# --help exits non-zero (Abseil flags).
flags=$({ "$tool" --help 2>&1 || true; } | sed -n 's/^ *--\([a-z_-]*\) (.*/\1/p')
[ -n "$flags" ] || { echo "manpage-check: $name --help lists no flags" >&2; exit 1; }
missing=()
for f in $flags; do
  grep -q -- "\\\\-\\\\-$f\\b" "$page" || missing+=("--$f")
done
[ ${#missing[@]} -eq 0 ] || { echo "manpage-check: $page lacks ${missing[*]}" >&2; exit 1; }
echo "manpage-check: $page describes all $(wc -w <<<"$flags") flags of $name --help"
