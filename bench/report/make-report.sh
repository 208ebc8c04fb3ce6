#!/usr/bin/env bash
# Runs csm-compare once and turns the run into a report: CSV/JSON, gnuplot
# PNG plots (log scales, one line per variant), and report.md with ratio
# tables, target checks and the machine described.
#
#   bench/report/make-report.sh build/bench/compare/csm-compare [OUT_DIR] [-- csm-compare options]
#
# OUT_DIR defaults to bench/report/results. Options after -- go to
# csm-compare (default: the full sweep, every variant, both modes). Needs
# gnuplot and the openssl tool: scripts/install-deps.sh report.
set -euo pipefail

die() { echo "make-report: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: make-report.sh path/to/csm-compare [OUT_DIR] [-- csm-compare options]"
tool=$1; shift
[ -x "$tool" ] || die "'$tool' is not an executable csm-compare"
here=$(cd "$(dirname "$0")" && pwd)
out=$here/results
if [ $# -gt 0 ] && [ "$1" != "--" ]; then out=$1; shift; fi
[ "${1:-}" = "--" ] && shift
command -v gnuplot >/dev/null || die "gnuplot is missing (scripts/install-deps.sh report)"
command -v openssl >/dev/null || die "the openssl tool is missing (scripts/install-deps.sh report)"
mkdir -p "$out/data"
rm -f "$out"/*.png "$out"/data/*.dat

# A compiler or VM beside the run makes every ratio meaningless on a small
# machine: wait (up to QUIET_WAIT seconds, default 300) for it to go quiet.
quiet="yes (bench/wait-quiet.sh: >= 90% idle before the run)"
echo "make-report: waiting for a quiet machine (bench/wait-quiet.sh)" >&2
if ! "$here/../wait-quiet.sh" "${QUIET_WAIT:-300}"; then
  quiet="NO: still busy after ${QUIET_WAIT:-300} s; measured anyway"
  echo "make-report: the machine is busy; measuring anyway (the report says so)" >&2
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "make-report: running $tool (progress below)" >&2
"$tool" --json_file "$out/results.json" --csv_file "$out/results.csv" "$@" >"$out/results.txt"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The same machine's own word on OpenSSL speed, pinned like the driver side.
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
for cipher in aes-256-gcm chacha20-poly1305; do
  echo "make-report: openssl speed -evp $cipher" >&2
  $pin openssl speed -evp "$cipher" -seconds 1 >"$out/openssl-speed-$cipher.txt" 2>/dev/null ||
    echo "openssl speed failed" >"$out/openssl-speed-$cipher.txt"
done

# ---- per-variant data files: size and the plotted columns ----
csv=$out/results.csv
awk -F, -v dir="$out/data" 'NR > 1 {
  f = dir "/" $5 "-" $6 ".dat"
  # size rtt_p50_ns rtt_p99_ns ticks_per_msg tx_p50 rx_p50 gbytes_per_s msgs_per_s
  print $7, ($9 == "" ? "NaN" : $9), ($10 == "" ? "NaN" : $10), $17, $13, $15, $19, $18 >> f
}' "$csv"
variants=$(awk -F, 'NR > 1 && !seen[$6]++ { print $6 }' "$csv")
modes=$(awk -F, 'NR > 1 && !seen[$5]++ { print $5 }' "$csv")
counter=$(awk -F, 'NR == 2 { print $3 }' "$csv")

plot() {  # file title ylabel column mode
  local lines="" v
  for v in $variants; do
    [ -s "$out/data/$5-$v.dat" ] || continue
    lines="$lines${lines:+, }'$out/data/$5-$v.dat' using 1:$4 with linespoints title '$v'"
  done
  [ -n "$lines" ] || return 0
  gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output '$out/$1'
set title '$2'
set logscale x 2
set logscale y 10
set xtics ('64' 64, '256' 256, '1K' 1024, '4K' 4096, '16K' 16384, '64K' 65536, '256K' 262144, '1M' 1048576)
set format y '%.0s%c'
set xlabel 'message size (bytes)'
set ylabel '$3'
set key left top
set grid
plot $lines
GP
}
for m in $modes; do
  if [ "$m" = pingpong ]; then
    plot pingpong-rtt-p50.png "ping-pong round trip, p50" "ns" 2 pingpong
    plot pingpong-rtt-p99.png "ping-pong round trip, p99" "ns" 3 pingpong
  fi
  plot "$m-ticks.png" "$m: $counter ticks per message (producer + consumer work, p50)" "$counter ticks" 4 "$m"
  plot "$m-throughput.png" "$m: throughput" "GB/s" 7 "$m"
done

# ---- report.md ----
json=$(cat "$out/results.json")
jget() { printf '%s' "$json" | grep -o "\"$1\":\"[^\"]*\"" | head -1 | sed 's/^"[^"]*":"//; s/"$//'; }
speed_line() { grep -E -i "^$1" "$out/openssl-speed-$2.txt" | tail -1 || true; }
{
  echo "# csm-compare: CSM channels against sealing through host-shared memory"
  echo
  echo "Generated $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/report/make-report.sh\`; raw data:"
  echo "[results.csv](results.csv), [results.json](results.json), [results.txt](results.txt)."
  echo
  echo "## What the numbers mean"
  echo
  printf '%s' "$json" | grep -o '"caveats":\[[^]]*\]' | sed 's/^"caveats":\[//; s/\]$//' |
    sed 's/","/"\n"/g' | sed 's/^"//; s/"$//; s/^/- /'
  echo "- Variants: **floor** = the same byte work over bare shared memory, no channel (a slot"
  echo "  ring as large as the channel's arena, one published count per side); **zero-copy** = the"
  echo "  producer builds the message in a loaned CSM channel record, the consumer checksums it in"
  echo "  place; **copy** = the same channel, copied in from and out to private buffers;"
  echo "  **aes-gcm** / **chacha20-poly1305** = the producer fills a private buffer and seals it"
  echo "  (OpenSSL EVP, key set once, IV from a 64-bit sequence, 16-byte header as AAD, 16-byte tag,"
  echo "  replays and reordering rejected) into a channel record in host-shared memory; the"
  echo "  consumer verifies and decrypts into a private buffer and checksums that. Ping-pong acks"
  echo "  are sealed too. Both sides busy-poll."
  echo "- **ping-pong**: one message, one ack; latency p50/p99 from every sample. **stream**:"
  echo "  messages back to back; throughput = timed messages / time until the consumer read the last."
  echo "- Ticks/msg = producer's + consumer's own work per message (p50 each), waiting excluded."
  echo "- Quiet machine: $quiet."
  echo "- Load average before / after the run: $load_before / $load_after (on a busy machine"
  echo "  treat everything below as noisy)."
  echo
  echo "## Machine"
  echo
  echo '```'
  if command -v lscpu >/dev/null; then
    lscpu | grep -E '^(Architecture|Model name|CPU\(s\)|Thread|Core|Socket|L1d|L2|L3|Hypervisor vendor|Virtualization type|CPU max MHz)' || true
  fi
  echo "Kernel:      $(uname -srm)"
  echo "Memory:      $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "Crypto:      $(grep -o -w -E 'aes|vaes|pclmulqdq|vpclmulqdq|avx2|avx512f|sha_ni|pmull|sha2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "Counter:     $(jget name) ($(jget note))"
  echo "CPUs used:   $(jget cpus) (driver, responder)"
  echo "OpenSSL:     $(jget openssl)"
  echo "Backend:     $(jget backend)"
  echo "Host-shared: $(jget host_shared)"
  # Which regime the host ran the two vCPUs in (near or far apart): every
  # ratio depends on it (bench/results/README.md).
  cross=$(awk -F, 'NR > 1 && $5 == "pingpong" && $6 == "floor" && $9 != "" { print $9 " ns round trip (the floor'"'"'s ping-pong p50 at " $7 " B)"; exit }' "$csv")
  echo "Cross-core:  ${cross:-not measured (no floor ping-pong in this run)}"
  echo '```'
  echo
  echo "## Plots"
  echo
  for p in pingpong-rtt-p50 pingpong-rtt-p99 pingpong-ticks stream-ticks stream-throughput pingpong-throughput; do
    [ -f "$out/$p.png" ] && echo "![$p]($p.png)"
  done
  echo
  for m in $modes; do
    awk -F, -v mode="$m" '
      NR > 1 && $5 == mode {
        k = $7; if (!(k in sizes)) { sizes[k] = 1; order[++n] = k }
        t[$6, k] = $17; rtt[$6, k] = $9; gb[$6, k] = $19
      }
      function r(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("%.2f", a / b) : "-" }
      END {
        if (mode == "pingpong") print "## Ping-pong: ratios per size\n"
        else print "## Streaming: ratios per size\n"
        print "Ticks are per message (producer + consumer work). Ratios above 1 mean the first is slower."
        print ""
        hdr = "| size | floor ticks | zero-copy ticks | zero-copy / floor | copy / zero-copy | aes-gcm / zero-copy | chacha / zero-copy |"
        if (mode == "pingpong") hdr = hdr " rtt aes-gcm / zero-copy | rtt zero-copy / floor |"
        else hdr = hdr " GB/s zero-copy | GB/s aes-gcm | throughput zero-copy / aes-gcm |"
        print hdr
        sep = "|---|---|---|---|---|---|---|---|---|"
        if (mode != "pingpong") sep = sep "---|"
        print sep
        met_floor = 0; n_floor = 0; met_copy = 0; n_copy = 0
        for (i = 1; i <= n; i++) {
          s = order[i]
          zf = r(t["zero-copy", s], t["floor", s])
          cz = r(t["copy", s], t["zero-copy", s])
          if (zf != "-") { n_floor++; if (zf + 0 <= 1.2) met_floor++ }
          if (s + 0 >= 4096 && cz != "-") { n_copy++; if (cz + 0 > 1) met_copy++ }
          line = sprintf("| %d | %s | %s | %s%s | %s | %s | %s |", s, t["floor", s] == "" ? "-" : t["floor", s],
                         t["zero-copy", s] == "" ? "-" : t["zero-copy", s], zf,
                         (zf != "-" && zf + 0 > 1.2) ? " (over 1.2)" : "", cz,
                         r(t["aes-gcm", s], t["zero-copy", s]), r(t["chacha20-poly1305", s], t["zero-copy", s]))
          if (mode == "pingpong")
            line = line sprintf(" %s | %s |", r(rtt["aes-gcm", s], rtt["zero-copy", s]), r(rtt["zero-copy", s], rtt["floor", s]))
          else
            line = line sprintf(" %s | %s | %s |", gb["zero-copy", s] == "" ? "-" : gb["zero-copy", s],
                                gb["aes-gcm", s] == "" ? "-" : gb["aes-gcm", s], r(gb["zero-copy", s], gb["aes-gcm", s]))
          print line
        }
        print ""
        print "Targets (issue 5), this run:"
        printf "- zero-copy within 1.2x of the floor'"'"'s ticks: met at %d of %d sizes\n", met_floor, n_floor
        printf "- zero-copy beats copy from 4 KiB up: met at %d of %d sizes\n", met_copy, n_copy
        print "- ratio to AES-GCM: reported above at every size, as measured"
        print ""
      }' "$csv"
  done
  echo "## The baseline runs at OpenSSL's speed"
  echo
  echo "\`openssl speed -evp\` run by this script on the same machine (1000s of bytes per second,"
  echo "sizes 16 .. 16384 B), then csm-compare's in-process measurements at the same sizes:"
  echo "EVP_EncryptUpdate alone on one keyed context (the bulk cipher rate) and the full"
  echo "per-message seal the baseline uses (fresh IV, header as AAD, final, tag). The seal's"
  echo "fixed per-message cost dominates small messages. If the seal column is close to the"
  echo "\`openssl speed\` line, the baseline runs as fast as OpenSSL does here."
  echo
  echo '```'
  for cipher in aes-256-gcm chacha20-poly1305; do
    grep -E '^type' "$out/openssl-speed-$cipher.txt" | tail -1 || true
    speed_line "$cipher" "$cipher"
  done
  echo '```'
  echo
  echo "| cipher | size | EVP update MB/s | our seal MB/s | EVP update ticks/B | seal ticks/B |"
  echo "|---|---|---|---|---|---|"
  printf '%s' "$json" | grep -o '{"cipher":[^}]*}' |
    sed 's/{"cipher":"\([^"]*\)","size":\([0-9]*\),"evp_update_mbps":\([0-9.]*\),"seal_mbps":\([0-9.]*\),"evp_update_ticks_per_byte":\([0-9.]*\),"seal_ticks_per_byte":\([0-9.]*\)}/| \1 | \2 | \3 | \4 | \5 | \6 |/'
  echo
  echo "## Full results"
  echo
  echo '```'
  cat "$out/results.txt"
  echo '```'
} >"$out/report.md"
echo "make-report: wrote $out/report.md" >&2
