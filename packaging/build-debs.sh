#!/usr/bin/env bash
# Builds csm's Debian packages from this repository, then runs lintian on them:
#   libcsm0 (shared library), libcsm-dev (headers, CMake package, csm.pc),
#   csm-tools (csm-ping), csm-dkms (module source, dkms.conf, udev rule).
#   packaging/build-debs.sh [OUTDIR]            (default: build/debs)
# CSM_DEB_WORK  staging directory (default build/debs-work); kept between
#               runs so that a rebuild compiles only what changed.
# The version is the project's (CMakeLists.txt project(VERSION)).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$repo/build/debs}")
work=$(realpath -m "${CSM_DEB_WORK:-$repo/build/debs-work}")
"$repo/scripts/install-deps.sh" build package

version=$(sed -n 's/^project(csm VERSION \([0-9][0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
[ -n "$version" ] || { echo "build-debs: no 'project(csm VERSION x.y.z' in CMakeLists.txt" >&2; exit 1; }
src=$work/csm-$version

# Stage the sources (tracked and new files, as git sees them) next to the
# previous build tree; copies keep their times, so ninja rebuilds only what
# changed. debian/ comes fresh from packaging/debian every time.
mkdir -p "$src"
find "$src" -mindepth 1 -maxdepth 1 ! -name 'obj-*' -exec rm -rf {} +
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
     tar --null -T - -cf -) | tar -xf - -C "$src"
  revision=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
else
  (cd "$repo" && tar --exclude=./build -cf - .) | tar -xf - -C "$src"
  revision=unknown
fi
cp -a "$repo/packaging/debian" "$src/debian"
maintainer=$(sed -n 's/^Maintainer: //p' "$src/debian/control")
cat > "$src/debian/changelog" <<CHANGELOG
csm ($version) unstable; urgency=medium

  * Built from the csm repository at $revision.

 -- $maintainer  $(date -R)
CHANGELOG

rm -f "$work"/*.deb "$work"/*.ddeb "$work"/*.changes "$work"/*.buildinfo
echo "build-debs: building csm $version in $src"
# -nc: keep the previous build tree (obj-*) for an incremental build.
(cd "$src" && dpkg-buildpackage -b -us -uc -nc -j"$(nproc)") >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; echo "build-debs: dpkg-buildpackage failed (log: $work/build.log)" >&2; exit 1; }

mkdir -p "$out"
# Replace only csm's own files in OUTDIR.
for p in libcsm0 libcsm0-dbgsym libcsm-dev csm-tools csm-tools-dbgsym csm-dkms; do rm -f "$out/${p}"_*.deb; done
rm -f "$out"/csm_*.changes "$out"/csm_*.buildinfo
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
changes=$(ls "$out"/csm_"$version"_*.changes)
echo "build-debs: lintian $(basename "$changes")"
lintian --fail-on error --info "$changes" || { echo "build-debs: lintian found errors" >&2; exit 1; }
ls -1 "$out"/*.deb
