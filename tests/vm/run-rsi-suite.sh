#!/usr/bin/env bash
# shellcheck disable=SC2054,SC2034  # QEMU options are comma lists; judge-results.sh reads judge_*
# Runs one RSI suite end to end on arm64 under the csm test monitor
# (tests/vm/rsi-monitor, a bare-metal EL2 test double for a CSM-capable RMM;
# NO confidentiality): builds the monitor, its self-test module, csm.ko and
# the static guest programs, packs an initramfs, generates the test keys,
# starts the host signer on node 1's backing file, boots one or two QEMU
# VMs with hard timeouts and turns the guests' RESULT lines into a
# pass/fail. Any WARNING:, BUG:, Oops or panic in a guest fails it.
#
#   tests/vm/run-rsi-suite.sh SUITE SIGNER_BINARY [HOST_VERIFIER]
#     SUITE: single (one VM) | pair (provider VM A + consumer VM B, one node 1)
#     SIGNER_BINARY: csm-rsi-signer (built by the main build)
#     HOST_VERIFIER: optional host command run as `HOST_VERIFIER LOG...` on
#       the VM logs after the run, with CSM_CCA_TRUST_KEY set to the test
#       platform public key; exit 0 = RESULT host_verify PASS.
# Environment: CSM_VM_TIMEOUT (seconds per VM, default 150), CSM_VM_WORK
#   (work root, default build/vm-work) holding rsi-<suite>-arm64/ with the
#   logs, keys and node 1 file of the last run; CSM_MON_DEBUG=1 turns on the
#   monitors' debug prints on the VM consoles.
set -euo pipefail

suite=${1:?suite}; signer=${2:?signer binary}; verifier=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mon=$here/rsi-monitor
workroot=${CSM_VM_WORK:-$root/build/vm-work}
work=$workroot/rsi-$suite-arm64
timeout_s=${CSM_VM_TIMEOUT:-150}
mkdir -p "$work"
rm -f "$work"/*.log "$work"/*.rc

die() { echo "vm-rsi-$suite-arm64: FAIL: $*"; exit 1; }
# shellcheck source=judge-results.sh
. "$here/judge-results.sh"

case "$suite" in single|pair) ;; *) die "unknown suite '$suite' (expected single or pair)" ;; esac
for tool in qemu-system-aarch64 aarch64-linux-gnu-gcc cpio gzip make; do
  command -v "$tool" >/dev/null || die "$tool missing: run scripts/install-deps.sh vm vm-arm64"
done
for tool in dtc openssl; do
  command -v "$tool" >/dev/null || die "$tool missing: run scripts/install-deps.sh monitor"
done
[ -x "$signer" ] || die "signer '$signer' not built: run scripts/install-deps.sh monitor, then rebuild"
eval "$("$root/scripts/vm/fetch-inputs.sh" arm64 --print-env)" ||
  die "cannot fetch the kernel image (see above)"
kernel=$VMLINUZ_ARM64
# csm.ko's attestation needs SHA-512 in the guest kernel: Debian's arm64 6.1
# has it only as a module (fetch-inputs.sh keeps no modules): take
# sha512_generic.ko from the same linux-image package, once, into the cache.
modcache=${CSM_VM_CACHE:-$root/build/vm-cache}/arm64-modules
sha512_ko=$modcache/lib/modules/$KABI-arm64/kernel/crypto/sha512_generic.ko
if [ ! -f "$modcache/.done" ]; then
  (
    flock 8
    if [ ! -f "$modcache/.done" ]; then
      rm -rf "$modcache" "$modcache.dl"; mkdir -p "$modcache" "$modcache.dl"
      (cd "$modcache.dl" && apt-get download -q "linux-image-$KABI-arm64:arm64" >/dev/null 2>&1) ||
        { echo "apt-get download linux-image-$KABI-arm64:arm64 failed"; exit 1; }
      dpkg-deb --fsys-tarfile "$modcache.dl"/*.deb |
        tar -x -C "$modcache" "./lib/modules/$KABI-arm64/kernel/crypto/sha512_generic.ko" ||
        { echo "sha512_generic.ko not in linux-image-$KABI-arm64"; exit 1; }
      rm -rf "$modcache.dl"
      touch "$modcache/.done"
    fi
  ) 8>"$modcache.lock" || die "cannot fetch sha512_generic.ko (see above)"
fi
[ -f "$sha512_ko" ] || die "$sha512_ko missing (delete $modcache to fetch it again)"

# --- monitor, modules, guest programs --------------------------------------
make -s -C "$mon" O="$work" >"$work/monitor-build.log" 2>&1 ||
  { cat "$work/monitor-build.log"; die "monitor build"; }
kbuild=$work/kmod
rm -rf "$kbuild"; mkdir -p "$kbuild"
cp -r "$mon/probe" "$kbuild/probe"
kmake() {
  make -s -C "$KDIR_ARM64_61" M="$1" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules
}
kmake "$kbuild/probe" >"$work/probe-build.log" 2>&1 ||
  { cat "$work/probe-build.log"; die "mon_probe.ko build"; }
cflags=(-static -O2 -g0 -std=gnu11 -Wall -Wextra -Werror -I"$root/include")
aarch64-linux-gnu-gcc "${cflags[@]}" -o "$work/csm-mon-smoke" "$mon/smoke.c" || die "smoke program"
# RSI's guest program, once it exists (until then: monitor self-test only).
prog=rsi_$suite
have_prog=0
if [ -f "$here/guest/$prog.c" ]; then
  have_prog=1
  cp -r "$root/kmod" "$kbuild/kmod"; ln -s "$root/include" "$kbuild/include"
  kmake "$kbuild/kmod" >"$work/kmod.log" 2>&1 || { cat "$work/kmod.log"; die "module build"; }
  aarch64-linux-gnu-gcc "${cflags[@]}" -o "$work/csm-vm-rsi-$suite" "$here/guest/$prog.c" \
    "$here/guest/vmtest.c" || die "guest program $prog"
fi

# --- initramfs --------------------------------------------------------------
rootfs=$work/rootfs
rm -rf "$rootfs"; mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp}
cp "$BUSYBOX_ARM64" "$rootfs/bin/busybox"
cp "$mon/guest-init.sh" "$rootfs/init"; chmod +x "$rootfs/init"
cp "$kbuild/probe/mon_probe.ko" "$rootfs/mon_probe.ko"
cp "$work/csm-mon-smoke" "$rootfs/bin/"
if [ $have_prog -eq 1 ]; then
  cp "$kbuild/kmod/csm.ko" "$rootfs/csm.ko"
  cp "$sha512_ko" "$rootfs/sha512_generic.ko"
  cp "$work/csm-vm-rsi-$suite" "$rootfs/bin/"
fi
(cd "$rootfs" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"
initrd_size=$(stat -c %s "$work/initrd.gz")

# --- test keys, node 1, signer ----------------------------------------------
keys=$work/keys
rm -rf "$keys"; mkdir -p "$keys"
for k in platform rak; do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$keys/$k.pem" 2>/dev/null &&
    openssl pkey -in "$keys/$k.pem" -pubout -out "$keys/$k-pub.pem" 2>/dev/null ||
    die "openssl could not generate the $k test key"
done
node1=$work/node1.mem
rm -f "$node1"; truncate -s 64M "$node1"

pids=()
sockdir=$(mktemp -d /tmp/csm-rsi.XXXXXX)
link=$sockdir/link.sock
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$sockdir"
}
trap cleanup EXIT
signer_args=("$node1" "$keys/platform.pem" "$keys/rak.pem" "$kernel" -t $((timeout_s + 60)))
[ "${CSM_MON_DEBUG:-0}" = 1 ] && signer_args+=(-v)
"$signer" "${signer_args[@]}" 2>"$work/signer.log" &
pids+=("$!")
for _ in $(seq 100); do grep -q 'serving' "$work/signer.log" && break; sleep 0.05; done
grep -q 'serving' "$work/signer.log" || die "signer did not start: $(cat "$work/signer.log")"

# --- QEMU -------------------------------------------------------------------
# EL2 for the monitor (virtualization=on), 32-bit IPA (highmem=off), node 0 =
# the VM's own 512 MiB, node 1 = the 64 MiB file both VMs share. Cross-VM
# atomics need multi-threaded TCG and maxcpus >= 2 (reference/testbed.md).
machine=(-M virt,virtualization=on,highmem=off -cpu cortex-a57
         -accel tcg,thread=multi -smp 1,maxcpus=2 -m 576M
         -object memory-backend-ram,id=node0,size=512M
         -object memory-backend-file,id=node1,size=64M,mem-path="$node1",share=on
         -numa node,nodeid=0,memdev=node0 -numa node,nodeid=1,memdev=node1)
bootargs="console=ttyAMA0 loglevel=4 panic=-1 oops=panic vmlink=/dev/ttyS0"

# boot NAME ROLE [extra qemu args...]: one VM, bounded by timeout.
boot() {
  local name=$1 role=$2 rc=0; shift 2
  "$mon/make-dtb.sh" "$work/$name.dtb" "$initrd_size" "$bootargs vmtest=$role" "${machine[@]}" ||
    { echo 1 >"$work/$name.rc"; return; }
  timeout --kill-after=5 "$timeout_s" qemu-system-aarch64 "${machine[@]}" \
    -kernel "$work/csm-monitor.elf" -dtb "$work/$name.dtb" \
    -device loader,file="$kernel",addr=0x40200000,force-raw=on \
    -device loader,file="$work/initrd.gz",addr=0x48000000,force-raw=on \
    -display none -monitor none -serial stdio -no-reboot -nic none \
    "$@" >"$work/$name.log" 2>&1 || rc=$?
  echo $rc >"$work/$name.rc"
}

start=$(date +%s%N)
if [ "$suite" = single ]; then
  vms=(vm)
  boot vm single
else
  vms=(a b)
  # VM A registers first (realm tag 1) and owns the serial link between the
  # guests (the out-of-band channel their owners would use).
  boot a provider -chardev socket,id=link,path="$link",server=on,wait=off \
    -device pci-serial,chardev=link &
  pids+=("$!")
  for _ in $(seq 400); do
    grep -q 'csm-test-monitor: EL2 up' "$work/a.log" 2>/dev/null && [ -S "$link" ] && break
    sleep 0.05
  done
  boot b consumer -chardev socket,id=link,path="$link",reconnect=1 \
    -device pci-serial,chardev=link &
  pids+=("$!")
  wait "${pids[1]}" "${pids[2]}" || true
fi
wall_ns=$(($(date +%s%N) - start))

# --- results (judge-results.sh) ---------------------------------------------
declare -A expect
mon_expect="mon_el1 mon_cpuinfo mon_window_reserved mon_unmapped_sigbus mon_probe_done"
for v in "${vms[@]}"; do expect[$v]=$mon_expect; done
if [ $have_prog -eq 1 ]; then
  list=$here/guest/rsi_expect.txt
  [ -f "$list" ] || die "$list missing (RSI's list of expected results)"
  for v in "${vms[@]}"; do
    names=$(sed -n "s/^$v:[[:space:]]*//p" "$list" | tr '\n' ' ')
    [ -n "$names" ] || die "$list has no '$v:' line"
    expect[$v]+=" load $names"
  done
fi
judge_show='^(RESULT|CHECK FAILED|NOTE|csm-test-monitor)'
judge_bad='WARNING:|BUG:|Oops|Kernel panic|Call Trace:|general protection|unexpected exception'
judge_bad_what='kernel or monitor log'
for v in "${vms[@]}"; do
  judge_vm "$v" "$work/$v.log" "$work/$v.rc" "$timeout_s" "${expect[$v]}"
  grep -q '^csm-test-monitor: EL2 up' "$work/$v.log" ||
    judge_fail "$v" "the monitor did not start Linux (log: $work/$v.log)"
done
if grep -q FAILED "$work/signer.log"; then
  judge_fail signer "a request failed:"; grep FAILED "$work/signer.log" | head
fi
if [ -n "$verifier" ]; then
  logs=(); for v in "${vms[@]}"; do logs+=("$work/$v.log"); done
  if CSM_CCA_TRUST_KEY=$keys/platform-pub.pem "$verifier" "${logs[@]}" >"$work/verify.log" 2>&1; then
    echo "  [host] RESULT host_verify PASS ($verifier)"; pass=$((pass + 1))
  else
    echo "  [host] RESULT host_verify FAIL ($verifier):"; tail -20 "$work/verify.log"
    fail=$((fail + 1)); status=1
  fi
fi
[ $have_prog -eq 1 ] || echo "  NOTE: tests/vm/guest/$prog.c not present yet: monitor self-test only"
judge_summary "vm-rsi-$suite-arm64" tcg "$wall_ns"
