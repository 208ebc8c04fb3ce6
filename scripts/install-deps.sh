#!/usr/bin/env bash
# Installs the Debian 12 packages csm needs, and nothing when all are present.
#   scripts/install-deps.sh [build|test|vm|vm-arm64|vm-arm64-libs|kernel-lint|package|report|monitor]...
#   (default: build)
# build: compiler, CMake, libraries.  test: + clang/libFuzzer for fuzz targets, shellcheck.
# vm: + QEMU, kernel headers, busybox for the kernel-module VM tests.
# vm-arm64: + the arm64 dpkg architecture, cross compiler, qemu-system-arm.
# vm-arm64-libs: + the cross C++ compiler and the :arm64 libraries libcsm,
#   csm-ping, csm-compare and csm_device_test link (cross-built with
#   cmake/toolchains/aarch64-linux-gnu.cmake for the arm64 VM suites).
# kernel-lint: + sparse and the newest Debian 6.12 amd64 headers (kmod-check).
# package: + debhelper (with dh-dkms), DKMS, lintian, kernel headers: packaging/build-debs.sh.
# report: + gnuplot (no X) and the openssl tool for bench/report/make-report.sh.
# monitor: + dtc, libcbor and the openssl tool for the RSI test monitor's
#   suites (tests/vm/run-rsi-suite.sh; also needs vm and vm-arm64).
# Kernel images, arm64 headers and checkpatch.pl are fetched, not installed:
# scripts/vm/fetch-inputs.sh.
set -euo pipefail

want=(build)
[ $# -gt 0 ] && want=("$@")
arm64_arch=0

pkgs=()
for w in "${want[@]}"; do
  case "$w" in
    build) pkgs+=(build-essential cmake ninja-build pkg-config git
                  liburing-dev libboost-dev libabsl-dev libbenchmark-dev
                  libgtest-dev libgmock-dev libssl-dev libcbor-dev) ;;
    test)  pkgs+=(clang libclang-rt-14-dev shellcheck) ;;
    vm)    pkgs+=(qemu-system-x86 busybox-static cpio gzip linux-headers-amd64) ;;
    vm-arm64)
           pkgs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm)
           arm64_arch=1 ;;
    vm-arm64-libs)
           # Boost is headers only (architecture-independent, from 'build').
           # Multi-Arch: same packages must match the amd64 versions, so
           # apt may upgrade those (e.g. libssl3) alongside.
           pkgs+=(g++-aarch64-linux-gnu libabsl-dev:arm64 libssl-dev:arm64 liburing-dev:arm64
                  libbenchmark-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64 libcbor-dev:arm64)
           arm64_arch=1 ;;
    kernel-lint)
           pkgs+=(sparse linux-headers-amd64)
           # Versioned name: keep any 6.12 amd64 headers already installed.
           # `|| true`: with none installed dpkg-query fails, and under
           # pipefail that ended this script silently on a fresh machine.
           h612=$(dpkg-query -W -f='${Package} ${Status}\n' 'linux-headers-6.12*-amd64' 2>/dev/null |
                  grep -v -e cloud -e '-rt-' | awk '/install ok installed/ {print $1}' | sort -V | tail -1 || true)
           newest612() {
             apt-cache pkgnames linux-headers-6.12 | grep -E '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
               sort -V | tail -1 || true
           }
           if [ -z "$h612" ]; then
             h612=$(newest612)
             if [ -z "$h612" ]; then   # fresh machine: no package lists yet
               $([ "$(id -u)" -ne 0 ] && echo sudo) apt-get update -qq
               h612=$(newest612)
             fi
             [ -n "$h612" ] || { echo "install-deps: no linux-headers-6.12.*+deb12-amd64 in the Debian archive" >&2; exit 1; }
           fi
           pkgs+=("$h612") ;;
    package) pkgs+=(debhelper dh-dkms dkms lintian fakeroot dpkg-dev linux-headers-amd64) ;;
    report) pkgs+=(gnuplot-nox openssl) ;;
    monitor) pkgs+=(device-tree-compiler libcbor-dev libssl-dev openssl) ;;
    *) echo "install-deps: unknown set '$w' (expected build, test, vm, vm-arm64, vm-arm64-libs, kernel-lint, package, report or monitor)" >&2; exit 2 ;;
  esac
done

need_arch=0
if [ $arm64_arch -eq 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  need_arch=1
fi
missing=()
native=$(dpkg --print-architecture)
for p in "${pkgs[@]}"; do
  # A bare name means the native package; with a foreign architecture
  # added, dpkg-query would otherwise list both (foo:amd64, foo:arm64).
  q=$p
  if [[ $p != *:* ]] && dpkg-query -W "$p:$native" >/dev/null 2>&1; then q=$p:$native; fi
  status=$(dpkg-query -W -f='${Status}' "$q" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && [ $need_arch -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
if [ $need_arch -eq 1 ]; then
  echo "install-deps: adding dpkg architecture arm64 (for kernel packages fetched by scripts/vm/fetch-inputs.sh)"
  $sudo dpkg --add-architecture arm64
fi
$sudo apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
