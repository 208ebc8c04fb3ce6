#!/bin/sh
# csm-compare with tiny counts: every variant in both modes, checked field by
# field in its CSV and JSON output. Usage: smoke.sh path/to/csm-compare
set -eu
tool=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$tool" --sizes 64,4K --count 20 --warmup 2 --speed_ms 1 --csv \
  --json_file "$dir/out.json" >"$dir/out.csv" 2>"$dir/err.txt" ||
  { cat "$dir/err.txt" >&2; exit 1; }

fail() { echo "smoke: $*" >&2; cat "$dir/out.csv" >&2; exit 1; }
head -1 "$dir/out.csv" | grep -q '^backend,confidential,counter,counter_hz,mode,variant,size,count,rtt_p50_ns,.*,gbytes_per_s,repetitions,ticks_per_msg_min,ticks_per_msg_max$' ||
  fail "CSV header is wrong"
for mode in pingpong stream; do
  for variant in floor zero-copy copy aes-gcm chacha20-poly1305; do
    for size in 64 4096; do
      row=$(grep -E "^\"sim\",0,(TSC|CNTVCT_EL0),[0-9]+,$mode,$variant,$size,20," "$dir/out.csv") ||
        fail "no row for $mode $variant $size"
      # tx/rx ticks are positive; ping-pong has a latency, streaming a rate.
      echo "$row" | awk -F, -v m="$mode" '{
        ok = ($13 > 0 && $15 > 0 && $17 == $13 + $15 && $18 > 0 && $19 > 0)
        ok = ok && NF == 22 && $20 == 1 && $21 == $17 && $22 == $17  # one run: no range
        if (m == "pingpong") ok = ok && $9 > 0 && $10 >= $9 && $11 > 0
        else ok = ok && $9 == "" && $11 == ""
        exit ok ? 0 : 1 }' || fail "bad fields for $mode $variant $size: $row"
    done
  done
done
[ "$(wc -l <"$dir/out.csv")" -eq 21 ] || fail "expected 20 rows"

json=$(cat "$dir/out.json")
for want in '"tool":"csm-compare"' '"confidential":false' '"backend_kind":"sim"' \
            '"host_shared":"memfd shared by the two processes' '"counter":{"name":"' \
            'NO confidentiality' '"cipher":"aes-256-gcm","size":16384,"evp_update_mbps":' \
            '"cipher":"chacha20-poly1305","size":16,' \
            '"mode":"stream","variant":"zero-copy","size":4096,"count":20,'; do
  case "$json" in *"$want"*) ;; *) echo "smoke: JSON lacks $want" >&2; echo "$json" >&2; exit 1 ;; esac
done
grep -q 'calibrating' "$dir/err.txt" || fail "no progress on stderr"

# Repetitions: one row per step, the median run, inside the range of all.
"$tool" --sizes 64 --count 20 --warmup 2 --variants floor,zero-copy --repetitions 3 --csv \
  >"$dir/rep.csv" 2>"$dir/err.txt" || { cat "$dir/err.txt" >&2; exit 1; }
[ "$(wc -l <"$dir/rep.csv")" -eq 5 ] || { cat "$dir/rep.csv" >&2; fail "expected 4 rows with --repetitions 3"; }
awk -F, 'NR > 1 && !($20 == 3 && $21 <= $17 && $17 <= $22 && $21 > 0) { bad = 1 } END { exit bad }' \
  "$dir/rep.csv" || { cat "$dir/rep.csv" >&2; fail "bad repetitions columns"; }
echo "smoke: 24 rows checked"
