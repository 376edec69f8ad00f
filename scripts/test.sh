#!/usr/bin/env bash
# Builds Duplex and runs every test in ctest (unit, packaging, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh build test
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release -j "$(nproc)"
