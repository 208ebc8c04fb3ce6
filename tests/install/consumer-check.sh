#!/usr/bin/env bash
# Installs csm and builds an outside project against the installed copy, both
# through its CMake package and through pkg-config, then runs it.
#   consumer-check.sh install   SRC BUILD PREFIX              cmake --install BUILD --prefix PREFIX
#                               (CSM_EXPECT_TOOLS=1: csm-ping and its man page too)
#   consumer-check.sh cmake     SRC PREFIX WORK VERSION        consumer via find_package
#   consumer-check.sh pkgconfig SRC PREFIX WORK VERSION [ROOT] consumer via pkg-config
#   consumer-check.sh debs      SRC WORK VERSION               build the .debs, dpkg -x
#                               them into WORK/root, check them, build both ways
# ROOT: PREFIX lies in an unpacked .deb tree ROOT whose files say /usr.
set -euo pipefail

fail() { echo "consumer-check: $*" >&2; exit 1; }
step() { echo "-- $*"; }

mode=$1 src=$2
here=$src/tests/install

# Every header of the source tree must be installed; the consumer includes
# them all (WORK/gen/all_headers.h).
check_headers() {  # PREFIX GEN
  local prefix=$1 gen=$2 missing
  missing=$(cd "$src/include" && find csm -name '*.h' | sort |
            while read -r h; do [ -f "$prefix/include/$h" ] || echo "$h"; done)
  [ -z "$missing" ] || fail "headers not installed: $missing"
  mkdir -p "$gen"
  (cd "$prefix/include" && find csm -name '*.h' | sort | sed 's/.*/#include "&"/') > "$gen/all_headers.h"
  step "$(wc -l < "$gen/all_headers.h") installed headers, all included by the consumer"
}

libdir_of() {  # PREFIX
  local d
  for d in "$1"/lib/*/pkgconfig "$1"/lib/pkgconfig "$1"/lib64/pkgconfig; do
    [ -f "$d/csm.pc" ] && { dirname "$d"; return; }
  done
  fail "no csm.pc under $1/lib"
}

run_consumer() {  # BINARY WORK LIBDIR
  local sim out
  sim=$2/sim-$(basename "$1")
  rm -rf "$sim" && mkdir -p "$sim"
  out=$(CSM_SIM_DIR=$sim LD_LIBRARY_PATH=$3 "$1") || fail "$1 failed: $out"
  echo "$out"
  grep -q "NO confidentiality" <<<"$out" || fail "the sim backend did not say it gives no confidentiality"
  grep -q "^consumer: 10000 items (sum 50005000)" <<<"$out" || fail "unexpected output from $1"
}

consume_cmake() {  # PREFIX WORK VERSION
  local prefix=$1 work=$2 version=$3
  rm -rf "$work" && mkdir -p "$work"
  check_headers "$prefix" "$work/gen"
  step "find_package(csm $version) from $prefix"
  cmake -S "$here/consumer" -B "$work/cmake-consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH="$prefix" -DCSM_EXPECTED_VERSION="$version" \
        -DCSM_CONSUMER_GENERATED="$work/gen" >"$work/cmake-consumer.log" 2>&1 ||
    { cat "$work/cmake-consumer.log"; fail "configuring the consumer failed"; }
  cmake --build "$work/cmake-consumer" >>"$work/cmake-consumer.log" 2>&1 ||
    { cat "$work/cmake-consumer.log"; fail "building the consumer failed"; }
  run_consumer "$work/cmake-consumer/consumer" "$work" "$(libdir_of "$prefix")"
}

consume_pkgconfig() {  # PREFIX WORK VERSION [ROOT]
  local prefix=$1 work=$2 version=$3 root=${4:-} libdir flags
  rm -rf "$work" && mkdir -p "$work"
  libdir=$(libdir_of "$prefix")
  check_headers "$prefix" "$work/gen"
  export PKG_CONFIG_PATH=$libdir/pkgconfig
  # An unpacked .deb says /usr: pkg-config's sysroot maps it to ROOT.
  [ -n "$root" ] && export PKG_CONFIG_SYSROOT_DIR=$root
  [ "$(pkg-config --modversion csm)" = "$version" ] || fail "pkg-config csm is $(pkg-config --modversion csm), expected $version"
  flags=$(pkg-config --cflags --libs csm) || fail "pkg-config --cflags --libs csm failed"
  step "pkg-config --cflags --libs csm: $flags"
  mkdir -p "$work/pc-consumer"
  # shellcheck disable=SC2086  # flags are words
  c++ -std=c++20 -O1 -I"$work/gen" "$here/consumer/consumer.cc" -o "$work/pc-consumer/consumer" $flags ||
    fail "building the consumer with pkg-config flags failed"
  run_consumer "$work/pc-consumer/consumer" "$work" "$libdir"
}

# The .deb round trip: build, unpack into a scratch root, check each
# package's files, build the consumer against the root both ways, run the
# packaged csm-ping, and build the packaged module source with DKMS.
check_debs() {  # WORK VERSION
  local work=$1 version=$2 root=$1/root debs=$1/debs arch libdir p kver ko
  step "packaging/build-debs.sh $debs"
  CSM_DEB_WORK=$work/deb-build "$src/packaging/build-debs.sh" "$debs" || fail "build-debs.sh failed"
  arch=$(dpkg --print-architecture)
  libdir=$root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
  rm -rf "$root" && mkdir -p "$root"
  for p in "libcsm0_${version}_$arch" "libcsm-dev_${version}_$arch" "csm-tools_${version}_$arch" "csm-dkms_${version}_all"; do
    [ -f "$debs/$p.deb" ] || fail "$p.deb was not built"
    dpkg -x "$debs/$p.deb" "$root"
  done
  step "unpacked 4 packages into $root"
  for f in "$libdir/libcsm.so.0" "$libdir/libcsm.so" "$libdir/cmake/csm/csmConfig.cmake" \
           "$libdir/pkgconfig/csm.pc" "$root/usr/include/csm/uapi/csm.h" "$root/usr/bin/csm-ping" \
           "$root/usr/share/man/man1/csm-ping.1.gz" "$root/usr/src/csm-$version/dkms.conf" \
           "$root/usr/src/csm-$version/include/csm/uapi/csm.h" "$root/usr/lib/udev/rules.d/60-csm.rules" \
           "$root/usr/lib/sysusers.d/csm.conf"; do
    [ -e "$f" ] || fail "${f#"$root"} is in no package"
  done
  dpkg-deb -f "$debs/csm-tools_${version}_$arch.deb" Depends | grep "libcsm0 (>= $version)" >/dev/null ||
    fail "csm-tools does not depend on libcsm0 (>= $version)"
  objdump -p "$libdir/libcsm.so.0" | grep 'SONAME *libcsm.so.0$' >/dev/null || fail "libcsm.so.0 has no SONAME libcsm.so.0"
  LD_LIBRARY_PATH=$libdir ldd "$root/usr/bin/csm-ping" | grep "libcsm.so.0 => $libdir/" >/dev/null ||
    fail "the packaged csm-ping does not use the packaged libcsm.so.0"
  rm -rf "$work/sim-ping" && mkdir -p "$work/sim-ping"
  out=$(CSM_SIM_DIR=$work/sim-ping LD_LIBRARY_PATH=$libdir "$root/usr/bin/csm-ping" --json --count 300 --sizes 64 2>&1) ||
    fail "the packaged csm-ping failed: $out"
  grep -q '"confidential":false' <<<"$out" || fail "unexpected csm-ping output: $out"
  step "packaged csm-ping ran against the packaged libcsm.so.0"

  consume_cmake "$root/usr" "$work/cmake" "$version"
  consume_pkgconfig "$root/usr" "$work/pkgconfig" "$version" "$root"

  # DKMS, in a private tree (nothing installed into /lib/modules).
  kver=$(uname -r)
  if [ ! -d "/lib/modules/$kver/build" ]; then
    kver=$(find /lib/modules -mindepth 2 -maxdepth 2 -name build -exec test -d {}/include \; -print |
           sort -V | tail -1 | cut -d/ -f4)
  fi
  [ -n "$kver" ] || fail "no kernel headers in /lib/modules/*/build (scripts/install-deps.sh package)"
  rm -rf "$work/dkms" && mkdir -p "$work/dkms"
  step "dkms add + build csm/$version for $kver"
  dkms add -m csm -v "$version" --sourcetree "$root/usr/src" --dkmstree "$work/dkms" >"$work/dkms.log" 2>&1 &&
    dkms build -m csm -v "$version" -k "$kver" --sourcetree "$root/usr/src" --dkmstree "$work/dkms" \
      >>"$work/dkms.log" 2>&1 || { cat "$work/dkms.log"; find "$work/dkms" -name make.log -exec cat {} +; fail "dkms build failed"; }
  ko=$(find "$work/dkms/csm/$version/$kver" -name 'csm.ko*' | head -1)
  [ -n "$ko" ] || fail "dkms built no csm.ko"
  modinfo -F vermagic "$ko" | grep "^$kver " >/dev/null || fail "$ko is not built for $kver"
  echo "dkms: $(basename "$ko") built for $kver"
}

case "$mode" in
  install)
    build=$3 prefix=$4
    rm -rf "$prefix"
    step "cmake --install $build --prefix $prefix"
    log=$(cmake --install "$build" --prefix "$prefix" 2>&1) || { echo "$log"; fail "cmake --install failed"; }
    [ -f "$prefix/include/csm/uapi/csm.h" ] || fail "include/csm/uapi/csm.h not installed"
    if [ "${CSM_EXPECT_TOOLS:-0}" = 1 ]; then
      [ -x "$prefix/bin/csm-ping" ] || fail "csm-ping not installed"
      [ -f "$prefix/share/man/man1/csm-ping.1" ] || fail "csm-ping.1 not installed"
    fi
    pc=$(libdir_of "$prefix")/pkgconfig/csm.pc
    ls "$prefix"/lib*/cmake/csm/csmConfig.cmake >/dev/null || fail "CMake package not installed"
    grep -qx "prefix=$prefix" "$pc" || fail "$pc does not name the install prefix"
    # The DKMS source and the udev rule are components of their own.
    [ ! -e "$prefix/src" ] && [ ! -e "$prefix/lib/udev" ] ||
      fail "a plain install put the DKMS source or the udev rule under $prefix"
    echo "install: $(find "$prefix" -type f | wc -l) files under $prefix" ;;
  cmake) consume_cmake "$3" "$4" "$5" ;;
  pkgconfig) consume_pkgconfig "$3" "$4" "$5" "${6:-}" ;;
  debs) check_debs "$3" "$4" ;;
  *) fail "unknown mode '$mode'" ;;
esac
