#!/bin/sh
# csm-ping split in two, as it runs across two VMs: a connect side that
# prints its realm ID and waits for a share ID, and a serve side that shares
# a region with that realm. Usage: serve_connect.sh path/to/csm-ping
set -eu
ping=$1
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
mkfifo "$dir/share"
exec 3<>"$dir/share"

wait_for() {  # file pattern
  i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 300 ] || { echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1; }
    sleep 0.1
  done
}

"$ping" --connect=- --count 3000 --sizes 64,8K --json <&3 >"$dir/connect.out" 2>"$dir/connect.err" &
connect=$!
wait_for "$dir/connect.err" '^realm '
realm=$(sed -n 's/^realm \(0x[0-9a-f]*\):.*/\1/p' "$dir/connect.err")

"$ping" --serve --peer "$realm" --sizes 64,8K >"$dir/serve.out" &
serve=$!
wait_for "$dir/serve.out" '^share '
share=$(sed -n 's/^share \(0x[0-9a-f]*\) .*/\1/p' "$dir/serve.out")
echo "$share" >&3

wait $connect
wait $serve
cat "$dir/serve.out" "$dir/connect.out"
