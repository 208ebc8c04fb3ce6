#!/usr/bin/env bash
# Fetches (never installs) what the VM tests and kernel checks boot or read,
# into a cache under build/, and prints nothing when all is present.
#   scripts/vm/fetch-inputs.sh [x86_64] [arm64] [lint]     (default: x86_64)
# x86_64: Debian 6.1 amd64 kernel image            -> $CACHE/amd64/
# arm64:  6.1 arm64 kernel image + headers (kbuild linked to the host's),
#         busybox-static:arm64
#                                                   -> $CACHE/arm64/
# lint:   checkpatch.pl and the files it reads, from linux-source-6.1
#                                                   -> $CACHE/checkpatch/
# Needs scripts/install-deps.sh vm (and vm-arm64 for arm64) first.
# Prints the variables the harness uses (KVER, ...) with --print-env.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${CSM_VM_CACHE:-$root/build/vm-cache}
print_env=0
want=()
for a in "$@"; do
  case "$a" in
    --print-env) print_env=1 ;;
    x86_64|arm64|lint) want+=("$a") ;;
    *) echo "fetch-inputs: unknown input '$a' (expected x86_64, arm64, lint)" >&2; exit 2 ;;
  esac
done
[ ${#want[@]} -eq 0 ] && want=(x86_64)

# The kernel ABI the installed linux-headers-amd64 points at, e.g. 6.1.0-56.
hdr=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -1)
[ -n "$hdr" ] || { echo "fetch-inputs: no /usr/src/linux-headers-6.1.*-amd64; run scripts/install-deps.sh vm" >&2; exit 1; }
KABI=${hdr#/usr/src/linux-headers-}; KABI=${KABI%-amd64}

# Concurrent runs (several build trees) share the cache: one fetcher at a time.
mkdir -p "$CACHE"
exec 8>"$CACHE/.lock"
flock 8

fetch() {  # fetch DIR PKG...: apt-get download + dpkg -x into DIR, once
  local dir=$1; shift
  [ -f "$dir/.done" ] && return 0
  rm -rf "$dir" "$dir.dl"; mkdir -p "$dir.dl"
  (cd "$dir.dl" && apt-get download -q "$@" >/dev/null 2>&1) ||
    { echo "fetch-inputs: apt-get download $* failed" >&2; exit 1; }
  mkdir -p "$dir"
  for deb in "$dir.dl"/*.deb; do dpkg -x "$deb" "$dir"; done
  rm -rf "$dir.dl" "$dir/lib/modules" "$dir/usr/share/doc"   # only boot/ and headers are used
  touch "$dir/.done"
}

for w in "${want[@]}"; do
  case "$w" in
    x86_64)
      fetch "$CACHE/amd64" "linux-image-$KABI-amd64"
      ;;
    arm64)
      dpkg --print-foreign-architectures | grep -qx arm64 ||
        { echo "fetch-inputs: arm64 is not a dpkg architecture; run scripts/install-deps.sh vm-arm64" >&2; exit 1; }
      fetch "$CACHE/arm64" "linux-image-$KABI-arm64:arm64" \
            "linux-headers-$KABI-arm64:arm64" "linux-headers-$KABI-common"
      # The arm64 headers' scripts/ point into linux-kbuild-6.1, which is
      # architecture independent enough: use the host's.
      fetch "$CACHE/arm64-busybox" "busybox-static:arm64"
      kb=$CACHE/arm64/usr/lib/linux-kbuild-6.1
      [ -e "$kb" ] || { mkdir -p "$(dirname "$kb")"; ln -s /usr/lib/linux-kbuild-6.1 "$kb"; }
      ;;
    lint)
      if [ ! -f "$CACHE/checkpatch/.done" ]; then
        fetch "$CACHE/linux-source" linux-source-6.1
        tarball=$(ls "$CACHE"/linux-source/usr/src/linux-source-6.1*.tar.xz)
        top=$(basename "$tarball" .tar.xz)
        mkdir -p "$CACHE/checkpatch"
        tar -xJf "$tarball" -C "$CACHE/checkpatch" --strip-components=1 \
            "$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
            "$top/scripts/const_structs.checkpatch"
        rm -rf "$CACHE/linux-source"
        touch "$CACHE/checkpatch/.done"
      fi
      ;;
  esac
done

if [ $print_env -eq 1 ]; then
  echo "KABI=$KABI"
  echo "KDIR_AMD64_61=$hdr"
  echo "VMLINUZ_AMD64=$CACHE/amd64/boot/vmlinuz-$KABI-amd64"
  echo "KDIR_ARM64_61=$CACHE/arm64/usr/src/linux-headers-$KABI-arm64"
  echo "VMLINUZ_ARM64=$CACHE/arm64/boot/vmlinuz-$KABI-arm64"
  echo "BUSYBOX_ARM64=$CACHE/arm64-busybox/bin/busybox"
  echo "CHECKPATCH=$CACHE/checkpatch/scripts/checkpatch.pl"
fi
