#!/usr/bin/env bash
# run_install_test.sh BUILD_DIR CONSUMER_SRC CXX_COMPILER [BUILD_TYPE] [CXX_FLAGS] [EXE_LINKER_FLAGS]
#
# Installs the corio build tree BUILD_DIR into a temporary prefix, configures the consumer project
# with CMAKE_PREFIX_PATH=<prefix> and the same compiler and flags (sanitizer builds need them to
# link), builds it and runs it. Exits non-zero if any step fails.
set -euo pipefail

build_dir=$1
consumer_src=$2
cxx=$3
build_type=${4:-RelWithDebInfo}
cxx_flags=${5:-}
exe_linker_flags=${6:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/corio-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "== install $build_dir -> $prefix"
cmake --install "$build_dir" --prefix "$prefix"

generator=()
if command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
fi

echo "== configure consumer ($cxx, $build_type)"
cmake -S "$consumer_src" -B "$work/build" "${generator[@]}" \
    -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_BUILD_TYPE="$build_type" \
    -DCMAKE_CXX_FLAGS="$cxx_flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$exe_linker_flags"

echo "== build consumer"
cmake --build "$work/build" -j2

echo "== run consumer"
"$work/build/corio_consumer"
"$work/build/corio_consumer_test"
