#!/usr/bin/env bash
# Builds kmod/ in every configuration the project supports and lints it:
#   x86_64 against Debian's 6.1 and 6.12 headers, arm64 6.1 (cross), each
#   with W=1 and sparse (C=1), plus checkpatch.pl --no-tree.
# Any compiler/sparse warning or checkpatch complaint fails the run.
#   scripts/vm/kmod-check.sh [--quick]    (--quick: x86_64 6.1 build only)
# Build trees go to $CSM_VM_WORK/kmod/<config>/ (default build/vm-work/;
# the source tree stays clean).
# Prerequisites: scripts/install-deps.sh vm vm-arm64 kernel-lint.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${CSM_VM_WORK:-$root/build/vm-work}/kmod
quick=0
[ "${1:-}" = "--quick" ] && quick=1
more_inputs=(); [ $quick -eq 0 ] && more_inputs=(arm64 lint)
eval "$("$root/scripts/vm/fetch-inputs.sh" x86_64 "${more_inputs[@]}" --print-env)"
fail=0

# build NAME KDIR [make args...]: build a copy of kmod/ and check its log.
build() {
  local name=$1 kdir=$2; shift 2
  local dir=$out/$name
  if [ ! -d "$kdir" ]; then
    echo "kmod-check: $name: FAIL: no kernel headers at $kdir"; fail=1; return
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  cp -r "$root/kmod" "$dir/kmod"
  ln -s "$root/include" "$dir/include"
  if make -s -C "$kdir" M="$dir/kmod" W=1 "$@" modules >"$dir/build.log" 2>&1 &&
     ! grep -E 'warning:|error:' "$dir/build.log" >/dev/null; then
    echo "kmod-check: $name: ok"
  else
    echo "kmod-check: $name: FAIL (log: $dir/build.log)"; grep -E 'warning:|error:' "$dir/build.log" | head -20
    fail=1
  fi
}

build x86_64-6.1 "$KDIR_AMD64_61" C=1
if [ $quick -eq 0 ]; then
  # The generic flavour only (not cloud or rt); an unmatched glob stays literal and is dropped.
  kdir612=$(printf '%s\n' /usr/src/linux-headers-6.12.*-amd64 | grep -v -e cloud -e rt -e '[*]' | sort -V | tail -1)
  build x86_64-6.12 "${kdir612:-/usr/src/linux-headers-6.12-missing}" C=1
  build arm64-6.1 "$KDIR_ARM64_61" C=1 ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
  if (cd "$root/kmod" && find . -name '*.[ch]' | sort | xargs perl "$CHECKPATCH" --no-tree --terse --show-types -f) >"$out/checkpatch.log" 2>&1; then
    echo "kmod-check: checkpatch: ok"
  else
    echo "kmod-check: checkpatch: FAIL"; grep -v '^total' "$out/checkpatch.log" | head -30
    fail=1
  fi
fi
exit $fail
