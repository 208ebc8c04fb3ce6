#!/usr/bin/env bash
# Installs the Debian 12 packages csm needs, and nothing when all are present.
#   scripts/install-deps.sh [build|test|vm]...   (default: build)
# build: compiler, CMake, libraries.  test: + clang/libFuzzer for fuzz targets.
# vm: + QEMU, kernel headers, busybox for the kernel-module VM tests.
set -euo pipefail

want=(build)
[ $# -gt 0 ] && want=("$@")

pkgs=()
for w in "${want[@]}"; do
  case "$w" in
    build) pkgs+=(build-essential cmake ninja-build pkg-config git
                  liburing-dev libboost-dev libabsl-dev libbenchmark-dev
                  libgtest-dev libgmock-dev libssl-dev) ;;
    test)  pkgs+=(clang libclang-rt-14-dev) ;;
    vm)    pkgs+=(qemu-system-x86 busybox-static cpio gzip) ;;
    *) echo "install-deps: unknown set '$w' (expected build, test or vm)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
