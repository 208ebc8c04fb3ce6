#!/bin/sh
# bench/report/make-report.sh end to end with tiny counts: the report, its
# plots and raw data are written, the tool's caveats (no confidentiality,
# repetitions) reach report.md, both modes get a target summary, and the
# machine section names the cross-core round trip. Timings are not judged.
# Usage: report.sh path/to/make-report.sh path/to/csm-compare
set -eu
script=$1
tool=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
QUIET_WAIT=0 bash "$script" "$tool" "$dir/out" -- --sizes 64,4K --count 20 --warmup 2 \
  --speed_ms 1 --repetitions 2 --progress=false >"$dir/log.txt" 2>&1 ||
  { cat "$dir/log.txt" >&2; exit 1; }

fail() { echo "report: $*" >&2; cat "$dir/out/report.md" >&2 2>/dev/null || cat "$dir/log.txt" >&2; exit 1; }
md=$dir/out/report.md
[ -s "$md" ] || fail "no report.md"
for f in results.csv results.json results.txt pingpong-ticks.png stream-ticks.png \
         openssl-speed-aes-256-gcm.txt; do
  [ -s "$dir/out/$f" ] || fail "no $f"
done
grep -q 'NO confidentiality' "$md" || fail "the no-confidentiality caveat is missing"
grep -q 'Every step ran 2 times' "$md" || fail "the repetitions caveat is missing"
[ "$(grep -c '^- zero-copy within 1.2x of the floor.s ticks: met at [0-9]* of 2 sizes' "$md")" -eq 2 ] ||
  fail "expected a 1.2x target line for each mode over 2 sizes"
grep -Eq '^Cross-core: +[0-9.]+ ns round trip' "$md" || fail "no cross-core round trip in the machine section"
echo "report: checked"
