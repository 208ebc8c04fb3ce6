# shellcheck shell=bash
# Result judging shared by the VM suites (run-suite.sh, run-rsi-suite.sh),
# sourced by them: turns the guests' logs into a pass/fail. A guest fails
# the suite when it timed out, did not finish ("VMTEST DONE"), has a
# warning or oops in its log, or lacks an expected "RESULT <name> PASS";
# any RESULT ... FAIL fails it too. Every expected result must be there: a
# test that silently stopped early must not look like a pass.
#
#   . judge-results.sh           (sets pass=0 fail=0 status=0)
#   judge_vm NAME LOG RC_FILE TIMEOUT_S "EXPECTED RESULT NAMES"   (each VM)
#   judge_fail WHO MESSAGE       (a suite's own checks; also status=1)
#   judge_summary SUITE ACCEL WALL_NS    (prints the verdict line, exits)
# A suite may widen, before judge_vm:
#   judge_show  ERE of the log lines to show (default RESULT, CHECK FAILED, NOTE)
#   judge_bad   ERE of log lines that fail a guest (warnings, oopses, panics)
#   judge_bad_what  which log judge_bad reads, for the message
pass=0; fail=0; status=0
judge_show='^(RESULT|CHECK FAILED|NOTE)'
judge_bad='WARNING:|BUG:|Oops|Kernel panic|Call Trace:|general protection'
judge_bad_what='kernel log'

judge_fail() {
  echo "  [$1] FAIL: $2"; status=1
}

judge_vm() {
  local v=$1 log=$2 rc_file=$3 timeout_s=$4 expected=$5 rc p f name
  rc=$(cat "$rc_file" 2>/dev/null || echo missing)
  p=$(grep -c '^RESULT [a-z0-9_]* PASS' "$log" || true)
  f=$(grep -c '^RESULT [a-z0-9_]* FAIL' "$log" || true)
  pass=$((pass + p)); fail=$((fail + f))
  grep -E "$judge_show" "$log" | sed "s/^/  [$v] /" || true
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    judge_fail "$v" "timed out after ${timeout_s}s"
  fi
  if ! grep -q '^VMTEST DONE' "$log"; then
    judge_fail "$v" "guest did not finish (log: $log)"; tail -30 "$log"
  fi
  if grep -E "$judge_bad" "$log" >/dev/null; then
    judge_fail "$v" "$judge_bad_what has a warning/oops:"
    grep -E -A12 "$judge_bad" "$log" | head -40
  fi
  for name in $expected; do
    grep -q "^RESULT $name PASS" "$log" || judge_fail "$v" "result '$name' missing or failed"
  done
}

judge_summary() {
  local wall_ms=$(($3 / 1000000)) verdict=PASS
  [ "$fail" -eq 0 ] || status=1
  [ "$status" -eq 0 ] || verdict=FAIL
  echo "$1: $pass passed, $fail failed, accel=$2, $((wall_ms / 1000)).$(printf %03d $((wall_ms % 1000)))s wall : $verdict"
  exit "$status"
}
