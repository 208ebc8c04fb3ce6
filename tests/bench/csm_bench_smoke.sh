#!/bin/sh
# Runs every csm-bench benchmark once, as a user would, and fails if any
# reported an error (a ring delivered out of order, an echo came back
# wrong). Only correctness is checked; timings are never asserted.
set -eu
[ $# -eq 1 ] || { echo "usage: csm_bench_smoke.sh path/to/csm-bench" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$1" --benchmark_format=json >"$out"
if grep -q '"error_occurred": true' "$out"; then
  grep -B3 -A2 '"error_occurred": true' "$out" >&2
  exit 1
fi
echo "csm-bench smoke: $(grep -c '"run_type"' "$out") benchmarks ran without error"
