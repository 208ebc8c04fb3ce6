#!/usr/bin/env bash
# Waits until this machine is quiet enough to measure on: the CPUs were at
# least QUIET_IDLE percent idle (default 90) over a 2-second window, several
# windows in a row. Benchmarks on a 2-core machine are meaningless while a
# compiler or a QEMU guest runs beside them; this keeps them apart.
#
#   bench/wait-quiet.sh [MAX_WAIT_SECONDS]     (default 600)
#
# Exit status: 0 once quiet; 1 if still busy at the deadline (a message names
# the busiest processes, so the caller can decide to measure anyway and say so).
set -euo pipefail

max_wait=${1:-600}
want_idle=${QUIET_IDLE:-90}
windows_needed=${QUIET_WINDOWS:-3}
[[ $max_wait =~ ^[0-9]+$ ]] || { echo "wait-quiet: MAX_WAIT_SECONDS must be a number, got '$max_wait'" >&2; exit 2; }

sample() {  # prints "busy total" jiffies summed over all CPUs
  awk '/^cpu / { idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i; print total - idle, total }' /proc/stat
}

deadline=$((SECONDS + max_wait))
quiet=0
idle=0
while :; do
  read -r busy0 total0 < <(sample)
  sleep 2
  read -r busy1 total1 < <(sample)
  dt=$((total1 - total0))
  idle=$(( dt > 0 ? 100 - 100 * (busy1 - busy0) / dt : 0 ))
  if (( idle >= want_idle )); then
    quiet=$((quiet + 1))
    (( quiet >= windows_needed )) && exit 0
  else
    quiet=0
  fi
  if (( SECONDS >= deadline )); then
    echo "wait-quiet: still busy after ${max_wait}s (${idle}% idle); busiest:" >&2
    ps -eo pcpu=,comm= --sort=-pcpu | head -3 | sed 's/^/wait-quiet:   /' >&2
    exit 1
  fi
done
