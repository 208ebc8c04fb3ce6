#!/bin/sh
# Guest side of the VM suites. Prints "RESULT <name> PASS|FAIL <detail>".
suite=$1
result() { echo "RESULT $1 $2 $3"; }

load() {
  if insmod /csm.ko && [ -c /dev/csm ]; then
    if dmesg | grep -q 'NO CONFIDENTIALITY'; then
      result load PASS "/dev/csm present, kernel log says NO CONFIDENTIALITY"
    else
      result load FAIL "bound without the no-confidentiality notice"
    fi
  else
    result load FAIL "insmod or /dev/csm failed"; dmesg | tail -20
    return 1
  fi
}

unload_checks() {
  # A live user makes rmmod refuse; once it is gone unload and reload work.
  sh -c 'exec 3<>/dev/csm; sleep 30' &
  holder=$!
  sleep 1
  if rmmod csm 2>/dev/null; then
    result unload_refused FAIL "rmmod succeeded with /dev/csm open"
  else
    result unload_refused PASS "rmmod refused while /dev/csm is open"
  fi
  kill $holder; wait $holder 2>/dev/null
  if rmmod csm && [ ! -e /dev/csm ] && insmod /csm.ko && [ -c /dev/csm ] && rmmod csm; then
    result unload_reload PASS "unload, reload, unload"
  else
    result unload_reload FAIL "unload/reload sequence failed"
  fi
}

# libcsm's Device GoogleTest suites over /dev/csm (CSM_BACKEND=kernel). A
# realm is the whole VM: the single VM runs the one-realm suite, the pair the
# two-realm suite as two halves, one per VM, meeting over the serial link
# (tests/device/two_realm_test.cc). The tests that can run in neither, and
# why, are listed in docs/kernel-module.md.
DEVICE_GTEST_FILTER='SingleRealm.*'
DEVICE_GTEST_PAIR_FILTER='TwoRealms.*'
device_gtest() {  # device_gtest FILTER [ROLE LINK]
  out=/tmp/device-gtest.log
  # On the console as it runs (a hang shows where), and kept for the verdict.
  { CSM_BACKEND=kernel CSM_TEST_ROLE=${2:-} CSM_TEST_LINK=${3:-} \
      /bin/csm_device_test --gtest_filter="$1" --gtest_color=no 2>&1
    echo $? >/tmp/device-gtest.rc; } | tee "$out"
  rc=$(cat /tmp/device-gtest.rc)
  [ -n "${2:-}" ] && sleep 1  # the peer VM's teardown reaches us asynchronously
  sed -n 's/^\[ *\(OK\|FAILED\|SKIPPED\) *\]/GTEST &/p' "$out"
  passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out")
  live=$(awk '/^(regions|provided|attached|mappings|event_fds|doorbell_fds|nodes) / && $2 != 0' \
         /sys/kernel/debug/csm/counters)
  if [ "$rc" = 0 ] && [ "${passed:-0}" -gt 0 ] && ! grep -q '^\[  SKIPPED' "$out" && [ -z "$live" ]; then
    result device_gtest PASS "csm_device_test --gtest_filter=$1 over /dev/csm${2:+ as the $2}: $passed tests passed, live counters 0"
  else
    result device_gtest FAIL "exit $rc, ${passed:-0} passed, live counters: ${live:-0}"
  fi
}

case "$suite" in
  single)
    load || exit 0
    # First, while the shared tables are clean: the hostile-peer test in
    # csm-vm-single leaves them full of garbage (ENOSPC for new regions).
    [ -x /bin/csm_device_test ] && device_gtest "$DEVICE_GTEST_FILTER"
    /bin/csm-vm-single 12345 20000
    unload_checks
    ;;
  provider|consumer)
    load || exit 0
    # The second ivshmem device (ivshmem-plain, no MSI-X: csm.ko leaves it
    # alone) is memory the host can read: csm-compare's sealed baseline goes
    # through its BAR2, mapped from sysfs. On arm64 plain resource2 is mapped
    # as Device memory, where unaligned accesses fault; the prefetchable
    # BAR's resource2_wc is Normal non-cacheable memory.
    for d in /sys/bus/pci/devices/*; do
      if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] &&
         [ ! -e "$d/driver" ]; then
        echo 1 >"$d/enable"
        CSM_VM_HOST_MEM=$d/resource2
        [ "$(uname -m)" = aarch64 ] && [ -e "$d/resource2_wc" ] && CSM_VM_HOST_MEM=$d/resource2_wc
        export CSM_VM_HOST_MEM
      fi
    done
    link=$(sed -n 's/.*vmlink=\([a-zA-Z0-9/]*\).*/\1/p' /proc/cmdline)
    stty -F "$link" raw -echo 115200 2>/dev/null
    [ -x /bin/csm_device_test ] && device_gtest "$DEVICE_GTEST_PAIR_FILTER" "$suite" "$link"
    /bin/csm-vm-pair "$suite" "$link"
    # The consumer VM powers off with a region still mapped (its peer must
    # notice the realm is gone); the provider unloads cleanly.
    if [ "$suite" = provider ]; then
      sleep 1
      if rmmod csm; then result pair_unload PASS "rmmod after the pair test"; else result pair_unload FAIL "rmmod"; fi
    fi
    ;;
  *)
    result suite FAIL "unknown suite '$suite'"
    ;;
esac
