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

case "$suite" in
  single)
    load || exit 0
    /bin/csm-vm-single 12345 20000
    unload_checks
    ;;
  provider|consumer)
    load || exit 0
    link=$(sed -n 's/.*vmlink=\([a-zA-Z0-9/]*\).*/\1/p' /proc/cmdline)
    stty -F "$link" raw -echo 115200 2>/dev/null
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
