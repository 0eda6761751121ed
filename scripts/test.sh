#!/usr/bin/env bash
# test.sh — install missing Debian packages, then configure, build and test the release preset.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
corio_install_deps

cmake --preset release
cmake --build --preset release -j2
ctest --preset release
