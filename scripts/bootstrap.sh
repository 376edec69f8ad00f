#!/usr/bin/env bash
# Installs the Debian packages Duplex needs, only those missing, so it is fast
# when everything is there. Groups: build (compile the library and tool),
# test (the test suite and its peers), ci (sanitizer and fuzz builds).
#   scripts/bootstrap.sh build test
set -euo pipefail

declare -A group_packages=(
  [build]="cmake ninja-build g++ pkg-config libssl-dev zlib1g-dev liburing-dev libcli11-dev nlohmann-json3-dev libjwt-dev"
  [test]="libgtest-dev libgmock-dev libbenchmark-dev openssl python3 python3-websockets chromium doxygen curl"

  [ci]="clang libclang-rt-14-dev"
)

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build)

missing=()
for group in "${groups[@]}"; do
  [ -n "${group_packages[$group]+x}" ] || { echo "bootstrap: unknown group '$group'" >&2; exit 2; }
  for pkg in ${group_packages[$group]}; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
done

# Node.js runs the `ws` peer of the interop tests; install it only when the
# machine has none (a newer one from elsewhere is fine).
for group in "${groups[@]}"; do
  if [ "$group" = test ] && ! command -v node >/dev/null; then missing+=(nodejs npm); fi
done

if [ ${#missing[@]} -gt 0 ]; then

  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "bootstrap: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# The npm packages of the tests, pinned by their lock files.
for group in "${groups[@]}"; do
  [ "$group" = test ] || continue
  here=$(cd "$(dirname "$0")/.." && pwd)
  for dir in "$here"/tests/interop "$here"/tests/browser; do
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
      echo "bootstrap: npm ci in ${dir#"$here"/}"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
      touch "$dir/node_modules"
    fi
  done
done
