#!/usr/bin/env bash
# Cross-builds the libcsm programs the arm64 VM suites run (csm-ping,
# csm-compare, csm_device_test) into DIR with
# cmake/toolchains/aarch64-linux-gnu.cmake; incremental after the first run.
#   tests/vm/build-arm64-tools.sh DIR
set -euo pipefail
dir=${1:?build directory}
root=$(cd "$(dirname "$0")/../.." && pwd)
for f in aarch64-linux-gnu-g++ /usr/lib/aarch64-linux-gnu/cmake/absl/abslConfig.cmake \
         /usr/lib/aarch64-linux-gnu/libcrypto.so /usr/lib/aarch64-linux-gnu/liburing.so \
         /usr/lib/aarch64-linux-gnu/cmake/benchmark/benchmarkConfig.cmake \
         /usr/lib/aarch64-linux-gnu/libgtest.a /usr/lib/aarch64-linux-gnu/libgmock.a; do
  if ! command -v "$f" >/dev/null && [ ! -e "$f" ]; then
    echo "vm-arm64-tools: FAIL: $f missing: run scripts/install-deps.sh vm-arm64-libs"
    exit 1
  fi
done
mkdir -p "$dir"
# Re-run every time (quick once configured): keeps the options in step.
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" \
  -DCSM_BUILD_TESTS=ON -DCSM_VM_TESTS=OFF >"$dir/cmake.log" 2>&1 ||
  { cat "$dir/cmake.log"; echo "vm-arm64-tools: FAIL: cmake"; exit 1; }
nice cmake --build "$dir" --target csm-ping csm-compare csm_device_test
echo "vm-arm64-tools: csm-ping, csm-compare and csm_device_test for arm64 in $dir: PASS"
