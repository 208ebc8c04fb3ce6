#!/usr/bin/env bash
# Lints every shell script in the repository with shellcheck (warnings and
# errors; style notes are left to taste). Run by ctest as shell-lint.
#
#   scripts/shell-lint.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v shellcheck >/dev/null ||
  { echo "shell-lint: shellcheck is missing (scripts/install-deps.sh test)" >&2; exit 1; }
cd "$root"
mapfile -t scripts < <(find . -path ./build -prune -o -type f -name '*.sh' -print | sort)
scripts+=(.ci/run)
if shellcheck -S warning "${scripts[@]}"; then
  echo "shell-lint: ${#scripts[@]} scripts clean"
else
  echo "shell-lint: FAIL (fix the warnings above, or disable one with a reason)" >&2
  exit 1
fi
