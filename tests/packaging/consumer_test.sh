#!/usr/bin/env bash
# Builds tests/packaging/consumer against Duplex installed from BUILD_DIR
# (find_package) and against the source tree (add_subdirectory), and runs it.
set -euo pipefail
source_dir=$1
build_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/packaging/consumer" -B "$work/installed" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/installed" >/dev/null
"$work/installed/consumer"

cmake -S "$source_dir/tests/packaging/consumer" -B "$work/subdir" -G Ninja \
  -DDUPLEX_SOURCE_DIR="$source_dir" >/dev/null
cmake --build "$work/subdir" --target consumer >/dev/null
"$work/subdir/consumer"
