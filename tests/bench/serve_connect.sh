#!/bin/sh
# csm-compare split in two, as across two VMs: a driver that prints its realm
# ID and waits for a share ID, a responder that shares a region with it; the
# sealed variants go through a file both name with --host_mem (an ivshmem
# BAR in VMs). Usage: serve_connect.sh path/to/csm-compare
set -eu
tool=$1
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
mkfifo "$dir/share"
exec 3<>"$dir/share"
args="--sizes 64,8K --host_mem $dir/host-shared"

wait_for() {  # file pattern
  i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 300 ] || { echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1; }
    sleep 0.1
  done
}

"$tool" --connect=- --count 50 --warmup 5 --speed_ms 1 --json $args <&3 >"$dir/connect.out" 2>"$dir/connect.err" &
connect=$!
wait_for "$dir/connect.err" '^realm '
realm=$(sed -n 's/^realm \(0x[0-9a-f]*\):.*/\1/p' "$dir/connect.err")

"$tool" --serve --peer "$realm" $args >"$dir/serve.out" &
serve=$!
wait_for "$dir/serve.out" '^share '
share=$(sed -n 's/^share \(0x[0-9a-f]*\) .*/\1/p' "$dir/serve.out")
echo "$share" >&3

wait $connect || { cat "$dir/connect.err" >&2; exit 1; }
wait $serve
json=$(cat "$dir/connect.out")
for want in '"tool":"csm-compare"' "\"host_shared\":\"$dir/host-shared" \
            '"mode":"pingpong","variant":"aes-gcm","size":64,"count":50,"rtt_p50_ns":' \
            '"mode":"stream","variant":"chacha20-poly1305","size":8192,"count":50,'; do
  case "$json" in *"$want"*) ;; *) echo "serve_connect: driver output lacks $want" >&2; echo "$json" >&2; exit 1 ;; esac
done
cat "$dir/serve.out"
echo "serve_connect: $(printf '%s' "$json" | grep -o '"mode":' | wc -l) results over $(sed -n 's/^share \(0x[0-9a-f]*\) .*/\1/p' "$dir/serve.out")"
