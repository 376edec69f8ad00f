#!/usr/bin/env bash
# The main job: build Duplex and run it. Arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh build
cmake --preset release >/dev/null
cmake --build --preset release --target duplex_cli
exec build/release/apps/duplex tour "$@"
