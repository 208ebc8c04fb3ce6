#!/usr/bin/env bash
# Quick start, command 1: installs what is missing, builds, and runs csm-ping
# between two simulated realms (extra arguments go to csm-ping; try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake --preset default >/dev/null
cmake --build --preset default --target csm-ping
exec build/examples/csm-ping/csm-ping "$@"
