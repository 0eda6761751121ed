#!/usr/bin/env bash
# run_install_test.sh BUILD_DIR CONSUMER_SRC CXX_COMPILER [BUILD_TYPE] [CXX_FLAGS] [EXE_LINKER_FLAGS]
#
# Installs the corio build tree BUILD_DIR into a temporary prefix, configures the consumer project
# with CMAKE_PREFIX_PATH=<prefix> and the same compiler and flags (sanitizer builds need them to
# link), builds it and runs it. Then builds the same two programs again without CMake, from
# `pkg-config --cflags --libs corio` (and `corio-testing gtest_main`) with PKG_CONFIG_PATH at the
# installed <libdir>/pkgconfig, and runs them. Exits non-zero if any step fails.
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

echo "== pkg-config consumers"
if ! command -v pkg-config >/dev/null 2>&1; then
    echo "run_install_test: pkg-config not found (scripts/install-deps.sh installs it)" >&2
    exit 1
fi
pc_file=$(find "$prefix" -name corio.pc -print -quit)
if [[ -z $pc_file || ! -f $(dirname "$pc_file")/corio-testing.pc ]]; then
    echo "run_install_test: corio.pc or corio-testing.pc not installed under $prefix" >&2
    exit 1
fi
export PKG_CONFIG_PATH=$(dirname "$pc_file")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pkg-config --print-errors --exists "corio = $(pkg-config --modversion corio)" corio-testing
read -ra extra_cxx <<<"$cxx_flags"
read -ra extra_ld <<<"$exe_linker_flags"
read -ra corio_flags <<<"$(pkg-config --cflags --libs corio)"
read -ra testing_flags <<<"$(pkg-config --cflags --libs corio-testing gtest_main)"
echo "pkg-config --cflags --libs corio: ${corio_flags[*]}"
# The flags of the build tree's type are not in the .pc files; -O2 is enough for a smoke test.
set -x
"$cxx" -std=c++20 -O2 "${extra_cxx[@]}" "$consumer_src/main.cpp" -o "$work/pc_consumer" \
    "${corio_flags[@]}" "${extra_ld[@]}"
"$cxx" -std=c++20 -O2 "${extra_cxx[@]}" "$consumer_src/consumer_test.cpp" -o "$work/pc_consumer_test" \
    "${testing_flags[@]}" "${extra_ld[@]}"
set +x
echo "== run pkg-config consumers"
"$work/pc_consumer"
"$work/pc_consumer_test"
