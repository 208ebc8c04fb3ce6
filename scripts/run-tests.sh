#!/usr/bin/env bash
# Quick start, command 2: installs what is missing, builds every configuration
# and runs every test: ASan+UBSan, TSan (threaded suites), bounded libFuzzer
# runs, then the main build's full suite (kernel module in QEMU VMs,
# installing and packaging included), whose ctest summary closes the output.
#   CSM_FUZZ_SECONDS=N   seconds per fuzz target (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build test package vm vm-arm64 vm-arm64-libs kernel-lint report monitor
# Kernel images, arm64 headers and checkpatch for the VM and kernel suites,
# fetched once into build/vm-cache (outside any test's time limit).
scripts/vm/fetch-inputs.sh x86_64 arm64 lint

jobs=$(nproc)
step() { printf '\n==== %s ====\n' "$*"; }

step "ASan + UBSan build and tests"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -LE "vm|kernel|lint" -j "$jobs"

step "TSan build and threaded tests"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs"
ctest --preset tsan -j "$jobs"

step "libFuzzer targets, ${CSM_FUZZ_SECONDS:-20} s each"
cmake --preset fuzz -DCSM_FUZZ_SECONDS="${CSM_FUZZ_SECONDS:-20}" >/dev/null
cmake --build --preset fuzz -j "$jobs"
ctest --preset fuzz -j "$jobs"

step "Main build: every test"
cmake --preset default >/dev/null
cmake --build --preset default -j "$jobs"
ctest --preset default
