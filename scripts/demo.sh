#!/usr/bin/env bash
# demo.sh — the README's first command: install missing Debian packages, build the kv sample
# server (release preset) and run the tour (scripts/tour.sh): the server in the background and a
# scripted two-client session against it, ending with SIGTERM and a clean exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
corio_install_deps

cmake --preset release
cmake --build --preset release -j2 --target sample_kv
./scripts/tour.sh ./build/release/samples/servers/kv/kv
