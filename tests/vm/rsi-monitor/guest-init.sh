#!/bin/busybox sh
# shellcheck shell=dash
# /init of a VM under the RSI test monitor (vmtest=single|provider|consumer).
# 1. The monitor's own checks: Linux runs at EL1, smoke program, the
#    mon_probe.ko self-test of every RSI/CSM call (its MONPROBE lines become
#    RESULT mon_probe_* lines).
# 2. When present: csm.ko over the RSI backend and RSI's guest program
#    (csm-vm-rsi-single, or csm-vm-rsi-pair ROLE LINK like pair.c).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
suite=$(sed -n 's/.*vmtest=\([a-z0-9_-]*\).*/\1/p' /proc/cmdline)
echo "VMTEST BOOTED suite=$suite"
result() { echo "RESULT $1 $2 $3"; }

if dmesg | grep -q 'CPU: All CPU(s) started at EL1'; then
  result mon_el1 PASS "kernel log: CPU: All CPU(s) started at EL1"
else
  result mon_el1 FAIL "kernel did not start at EL1"
fi
/bin/csm-mon-smoke
role=$suite
[ "$suite" = single ] || [ "$suite" = provider ] || [ "$suite" = consumer ] || role=single
if insmod /mon_probe.ko role=$role; then
  dmesg | sed -n 's/.*MONPROBE \([a-z0-9_]*\) \(PASS\|FAIL\) /RESULT mon_probe_\1 \2 /p'
  if dmesg | grep -q "MONPROBE DONE role=$role failures=0"; then
    result mon_probe_done PASS "monitor self-test, role $role"
  else
    result mon_probe_done FAIL "monitor self-test, role $role"
  fi
  rmmod mon_probe
else
  result mon_probe_done FAIL "insmod mon_probe.ko"
fi

prog=/bin/csm-vm-rsi-single
[ "$suite" = single ] || prog=/bin/csm-vm-rsi-pair
if [ -x "$prog" ] && [ -f /csm.ko ]; then
  # Attestation hashes with SHA-512, a module in Debian's arm64 kernel.
  insmod /sha512_generic.ko || echo "NOTE insmod sha512_generic.ko failed"
  if insmod /csm.ko rsi_fallback=refuse rsi_log_calls=1 && [ -c /dev/csm ]; then
    result load PASS "csm.ko bound to the RSI backend (rsi_fallback=refuse)"
    if [ "$suite" = single ]; then
      "$prog"
    else
      link=$(sed -n 's/.*vmlink=\([a-zA-Z0-9/]*\).*/\1/p' /proc/cmdline)
      stty -F "$link" raw -echo 115200 2>/dev/null
      "$prog" "$suite" "$link"
    fi
  else
    result load FAIL "insmod /csm.ko rsi_fallback=refuse"
    dmesg | tail -20
  fi
else
  echo "NOTE no RSI guest program ($prog): monitor self-test only"
fi
echo "VMTEST DMESG BEGIN"
dmesg
echo "VMTEST DMESG END"
echo "VMTEST DONE"
poweroff -f
