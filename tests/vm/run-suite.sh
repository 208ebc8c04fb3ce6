#!/usr/bin/env bash
# shellcheck disable=SC2054,SC2034  # QEMU options are comma lists; judge-results.sh reads judge_*
# Runs one VM suite end to end: builds csm.ko and the static guest programs
# for the architecture, packs an initramfs, starts our ivshmem server, boots
# one or two QEMU VMs with hard timeouts and turns the guests' RESULT lines
# into a pass/fail. Any WARNING:, BUG:, Oops or panic in a guest fails it.
#
#   tests/vm/run-suite.sh SUITE ARCH SERVER_BINARY [PROGRAM...]
#     SUITE: single (one VM) | pair (provider VM A + consumer VM B)
#     ARCH:  x86_64 | arm64
#     PROGRAM: libcsm programs built for ARCH (build/arm64 cross-builds the
#       arm64 ones), copied into the guests' /bin with their shared
#       libraries and loader and run there: csm-ping and csm-compare across
#       the pair, csm_device_test (libcsm's Device suites over /dev/csm: the
#       one-realm tests in the single VM, the two-realm tests as two halves
#       across the pair). Each one given adds its results to the expected set.
# The pair VMs also get an ivshmem-plain device (memory the host can read,
# $work/host-mem.img) for csm-compare's sealed baseline. The single VM gets
# one over the ivshmem server's own memory (a second window onto the
# emulated RMM's tables that csm.ko leaves unclaimed): rescan_backwards and
# rescan_jump write a share's attach count through it, as a hostile peer would.
# Environment: CSM_VM_ACCEL=kvm|tcg (default: kvm when /dev/kvm opens),
#   CSM_VM_TIMEOUT (seconds per VM, default 150),
#   CSM_VM_WORK (work root, default build/vm-work; ctest sets one per build
#   tree) holding <suite>-<arch>/ with the logs of the last run.
set -euo pipefail

suite=${1:?suite}; arch=${2:?arch}; server=${3:?ivshmem server binary}; shift 3
programs=("$@")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
workroot=${CSM_VM_WORK:-$root/build/vm-work}
work=$workroot/$suite-$arch
timeout_s=${CSM_VM_TIMEOUT:-150}
mkdir -p "$work"
rm -f "$work"/*.log

die() { echo "vm-$suite-$arch: FAIL: $*"; exit 1; }
# shellcheck source=judge-results.sh
. "$here/judge-results.sh"

# --- inputs -----------------------------------------------------------------
case "$arch" in
  x86_64) qemu="qemu-system-x86_64"; cc=gcc; inputs=x86_64 ;;
  arm64)  qemu="qemu-system-aarch64"; cc="aarch64-linux-gnu-gcc"; inputs=arm64 ;;
  *) die "unknown arch '$arch'" ;;
esac
for tool in "$qemu" "$cc" busybox cpio gzip make; do
  command -v "$tool" >/dev/null ||
    die "$tool missing: run scripts/install-deps.sh vm$([ "$arch" = arm64 ] && echo ' vm-arm64')"
done
eval "$("$root/scripts/vm/fetch-inputs.sh" "$inputs" --print-env)" ||
  die "cannot fetch the kernel image (see above)"

# --- module and guest programs ----------------------------------------------
kbuild=$work/kmod
rm -rf "$kbuild"; mkdir -p "$kbuild"
cp -r "$root/kmod" "$kbuild/kmod"; ln -s "$root/include" "$kbuild/include"
if [ "$arch" = x86_64 ]; then
  make -s -C "$KDIR_AMD64_61" M="$kbuild/kmod" modules >"$work/kmod.log" 2>&1 ||
    { cat "$work/kmod.log"; die "module build"; }
  busybox_bin=/bin/busybox
else
  make -s -C "$KDIR_ARM64_61" M="$kbuild/kmod" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
    modules >"$work/kmod.log" 2>&1 || { cat "$work/kmod.log"; die "module build"; }
  busybox_bin=$BUSYBOX_ARM64
fi
cflags=(-static -O2 -g0 -std=gnu11 -Wall -Wextra -Werror -I"$root/include")
for prog in single pair; do
  "$cc" "${cflags[@]}" -o "$work/csm-vm-$prog" "$here/guest/$prog.c" "$here/guest/vmtest.c" ||
    die "guest program $prog"
done

# --- initramfs --------------------------------------------------------------
rootfs=$work/rootfs
rm -rf "$rootfs"; mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp}
cp "$busybox_bin" "$rootfs/bin/busybox"
cp "$here/guest/init.sh" "$rootfs/init"; chmod +x "$rootfs/init"
cp "$here/guest/test.sh" "$rootfs/test.sh"
cp "$kbuild/kmod/csm.ko" "$rootfs/csm.ko"
cp "$work"/csm-vm-single "$work"/csm-vm-pair "$rootfs/bin/"

# Dynamic programs built for $arch: bring their loader and libraries along,
# found with readelf (ldd cannot inspect a foreign-architecture binary).
if [ "$arch" = x86_64 ]; then
  triplet=x86_64-linux-gnu; readelf=readelf; elf_machine='X86-64'
else
  triplet=aarch64-linux-gnu; readelf=aarch64-linux-gnu-readelf; elf_machine='AArch64'
fi
libdirs=("/lib/$triplet" "/usr/lib/$triplet" "/usr/$triplet/lib")
copy_lib() {  # copy_lib PATH: the file the guest finds at PATH
  [ -e "$rootfs$1" ] && return 0
  mkdir -p "$rootfs$(dirname "$1")"
  cp -L "$1" "$rootfs$1"
}
copy_needed() {  # copy_needed ELF: its libraries, recursively
  local lib dir found
  for lib in $("$readelf" -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    found=""
    for dir in "${libdirs[@]}"; do
      [ -e "$dir/$lib" ] && { found=$dir/$lib; break; }
    done
    [ -n "$found" ] || die "library $lib of $(basename "$1") not found in ${libdirs[*]}$(
      [ "$arch" = arm64 ] && echo ' (scripts/install-deps.sh vm-arm64-libs)')"
    [ -e "$rootfs$found" ] && continue
    copy_lib "$found"
    copy_needed "$found"
  done
}
program_names=()
for prog in "${programs[@]}"; do
  [ -x "$prog" ] || die "program '$prog' not found (build it first)"
  "$readelf" -h "$prog" 2>/dev/null | grep "Machine:.*$elf_machine" >/dev/null ||
    die "$prog is not an $arch binary"
  name=$(basename "$prog")
  program_names+=("$name")
  cp "$prog" "$rootfs/bin/$name"
  interp=$("$readelf" -l "$prog" | sed -n 's/.*program interpreter: \(.*\)\]/\1/p')
  [ -z "$interp" ] || copy_lib "$interp"
  copy_needed "$prog"
done
has_program() { local n; for n in "${program_names[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
(cd "$rootfs" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# --- QEMU -------------------------------------------------------------------
accel=${CSM_VM_ACCEL:-}
if [ "$arch" = x86_64 ]; then
  kernel=$VMLINUZ_AMD64; machine=(-M q35 -m 384); console=ttyS0
  link_dev=(-serial chardev:link); link_tty=/dev/ttyS1
else
  kernel=$VMLINUZ_ARM64; machine=(-M virt -cpu cortex-a57 -m 384); console=ttyAMA0
  link_dev=(-device pci-serial,chardev=link); link_tty=/dev/ttyS0
fi
if [ -z "$accel" ]; then
  accel=tcg
  if [ "$arch" = x86_64 ] && [ "$(uname -m)" = x86_64 ] && { exec 9<>/dev/kvm; } 2>/dev/null; then
    exec 9>&-
    # /dev/kvm may open and still not run a guest (broken nested KVM): boot
    # once under it and remember the verdict for this build tree.
    verdict=$workroot/kvm-verdict
    if [ ! -f "$verdict" ]; then
      timeout 20 "$qemu" "${machine[@]}" -accel kvm -kernel "$kernel" -initrd "$work/initrd.gz" \
        -append "console=$console vmtest=none" -nographic -no-reboot -nic none \
        >"$work/kvm-probe.log" 2>&1 || true
      if grep -q 'VMTEST BOOTED' "$work/kvm-probe.log"; then echo kvm >"$verdict"; else echo tcg >"$verdict"; fi
    fi
    accel=$(cat "$verdict")
    [ "$accel" = tcg ] && echo "vm-$suite-$arch: /dev/kvm opens but a guest did not boot under it; using TCG (delete $verdict to re-probe)"
  fi
fi
# Cross-VM atomics need real host atomics: KVM, or multi-threaded TCG with
# a machine that may have two CPUs (see shared/reference/testbed.md).
if [ "$accel" = kvm ]; then
  # (-cpu host trips over MSR 0x10a under nested KVM with QEMU 7.2.)
  cpu=(-accel kvm -smp 1,maxcpus=2)
else
  cpu=(-accel tcg,thread=multi -smp 1,maxcpus=2)
fi

# UNIX socket paths must stay short (108 bytes): keep them in /tmp.
sockdir=$(mktemp -d /tmp/csm-vm.XXXXXX)
sock=$sockdir/ivshmem.sock
host_mem=""
table_mem=""
server_args=()
link=$sockdir/link.sock
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$sockdir"
  rm -f "$host_mem" "$table_mem"
}
trap cleanup EXIT

# -c: the byte range of the emulated RMM's tables (after magic, version,
# init word and lock; kmod/rmm/emulated/layout.h) that a hostile peer may
# scribble over on request (the single suite's hostile_peer test).
if [ "$suite" = single ]; then
  # The server creates it (and removes it when it exits).
  table_mem=/dev/shm/csm-vm-table.$$
  rm -f "$table_mem"
  server_args=(-m "$table_mem")
fi
"$server" -S "$sock" -l 16M -n 2 -t $((timeout_s + 30)) -c 24:10272 "${server_args[@]}" \
  2>"$work/server.log" &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || die "ivshmem server did not start: $(cat "$work/server.log")"

# boot NAME SUITE [extra qemu args...]: one VM, bounded by timeout.
boot() {
  local name=$1 vsuite=$2 rc=0; shift 2
  timeout --kill-after=5 "$timeout_s" "$qemu" "${machine[@]}" "${cpu[@]}" \
    -kernel "$kernel" -initrd "$work/initrd.gz" \
    -append "console=$console loglevel=4 panic=-1 oops=panic vmtest=$vsuite vmlink=$link_tty" \
    -display none -monitor none -serial stdio -no-reboot -nic none \
    -chardev socket,path="$sock",id=ivs -device ivshmem-doorbell,vectors=2,chardev=ivs \
    "$@" >"$work/$name.log" 2>&1 || rc=$?
  echo $rc >"$work/$name.rc"
}

start=$(date +%s%N)
if [ "$suite" = single ]; then
  vms=(vm)
  boot vm single -object memory-backend-file,id=table,share=on,mem-path="$table_mem",size=16M \
    -device ivshmem-plain,memdev=table &
  vm_pid=$!
  # The guest asks for a hostile peer on its console; play it.
  chaos=off
  while kill -0 "$vm_pid" 2>/dev/null; do
    if [ $chaos = off ] && grep -q '^VMTEST CHAOS ON' "$work/vm.log" 2>/dev/null; then
      kill -USR1 "$server_pid"; chaos=on
    elif [ $chaos = on ] && grep -q '^VMTEST CHAOS OFF' "$work/vm.log"; then
      kill -USR2 "$server_pid"; chaos="done"
    fi
    sleep 0.1
  done
  wait "$vm_pid" || true
elif [ "$suite" = pair ]; then
  vms=(a b)
  rm -f "$link"
  # Memory the host (this script) can read, shared by both VMs: the sealed
  # baseline of csm-compare really goes through hypervisor-visible memory.
  host_mem=/dev/shm/csm-vm-host-mem.$$
  rm -f "$host_mem"; truncate -s 4M "$host_mem"
  plain=(-object memory-backend-file,id=hostmem,share=on,mem-path="$host_mem",size=4M
         -device ivshmem-plain,memdev=hostmem)
  # VM A owns the serial link between the guests (an out-of-band channel
  # for handing over realm and share IDs, as the realms' owners would).
  boot a provider -chardev socket,id=link,path="$link",server=on,wait=off "${link_dev[@]}" \
    "${plain[@]}" &
  pids+=("$!")
  for _ in $(seq 200); do grep -q 'peer 0 joined' "$work/server.log" && [ -S "$link" ] && break; sleep 0.05; done
  boot b consumer -chardev socket,id=link,path="$link",reconnect=1 "${link_dev[@]}" \
    "${plain[@]}" &
  pids+=("$!")
  wait "${pids[1]}" "${pids[2]}" || true
  # csm-compare's sealed channels live in the host-visible memory: its
  # header ("CSCHOST1") is there for anyone on the host to read.
  if has_program csm-compare; then
    if grep -q CSCHOST1 "$host_mem"; then
      echo "  [host] NOTE csm-compare's sealed channel header is in host-visible memory $host_mem"
    else
      judge_fail host "csm-compare's sealed channel header is not in the host-visible memory"
    fi
  fi
else
  die "unknown suite '$suite'"
fi
wall_ns=$(($(date +%s%N) - start))

# --- results (judge-results.sh) ---------------------------------------------
declare -A expect
expect[vm]="load version invalid_args valid_calls fd_copy_fault mmap_rules cleanup_on_close random_ioctls
  counters_zero rescan_backwards rescan_jump unbind_with_users declared_gone hostile_peer
  unload_refused
  unload_reload"
expect[a]="load a_link a_share a_attach_events a_stream a_ping a_revoke a_reshare a_sees_detach
  a_provider_exit a_destroy a_counters_zero a_held_cycles a_held_cycles_lost a_realm_gone
  pair_unload"
expect[b]="load b_link b_attach_rw b_read_only b_consumer_rules b_stream b_revoke_zaps b_reattach
  b_provider_exit b_counters_zero b_held_cycles b_attach_before_dying"
if has_program csm-ping; then
  expect[a]+=" a_csm_ping_spin a_csm_ping_doorbell"
  expect[b]+=" b_csm_ping_spin b_csm_ping_doorbell"
fi
if has_program csm-compare; then
  expect[a]+=" a_csm_compare"
  expect[b]+=" b_csm_compare"
fi
if has_program csm_device_test; then
  expect[vm]+=" device_gtest"
  expect[a]+=" device_gtest"
  expect[b]+=" device_gtest"
fi
judge_show='^(RESULT|CHECK FAILED|fuzz:|PERF|PING|COMPARE|GTEST|NOTE)'
for v in "${vms[@]}"; do
  judge_vm "$v" "$work/$v.log" "$work/$v.rc" "$timeout_s" "${expect[$v]}"
done
judge_summary "vm-$suite-$arch" "$accel" "$wall_ns"
