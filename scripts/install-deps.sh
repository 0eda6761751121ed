#!/usr/bin/env bash
# install-deps.sh — install the Debian 12 packages corio needs, only those that are missing.
# Sourced or executed by scripts/test.sh, scripts/demo.sh and .ci/run. Runs as root (or via sudo).
set -euo pipefail

# pkg-config: on Debian 12 a transitional package that pulls in pkgconf (which provides the
# pkg-config command); the build finds liburing with it and tests/install builds from corio.pc.
# doxygen (1.9.4): the API reference, target corio_api_docs, which CI builds (it fails on a warning).
CORIO_DEBIAN_PACKAGES=(g++ clang clang-14 cmake ninja-build pkg-config liburing-dev libfmt-dev libgtest-dev libbenchmark-dev relacy-dev doxygen)

corio_install_deps() {
    local missing=() pkg
    for pkg in "${CORIO_DEBIAN_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    echo "install-deps: installing missing packages: ${missing[*]}" >&2
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Executed rather than sourced: install now.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    corio_install_deps
fi
