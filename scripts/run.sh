#!/usr/bin/env bash
# The main job: build Duplex and run its server (duplex serve) on the default
# port, 9002. Arguments go to `duplex serve` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh build
cmake --preset release >/dev/null
cmake --build --preset release --target duplex_cli
exec build/release/apps/duplex serve "$@"
