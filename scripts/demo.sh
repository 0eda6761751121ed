#!/usr/bin/env bash
# demo.sh — install missing Debian packages, build the spawn_demo sample (release preset), run it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
corio_install_deps

cmake --preset release
cmake --build --preset release -j2 --target spawn_demo
./build/release/samples/spawn_demo/spawn_demo "$@"
