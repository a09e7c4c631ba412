#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds examples/quickstart against the install,
# once with CMake (find_package(xhal), xhal::xhal) and once with pkg-config and the C compiler,
# then runs both: each exits 0 only when GEMM and attention on the CPU match its fp64 reference.
#
# usage: install_test.sh <build dir> <source dir> <cmake> <c compiler> [<sanitizers>]
set -euo pipefail

build_dir=$1
source_dir=$2
cmake=$3
cc=$4
sanitize=${5:-}

example="$source_dir/examples/quickstart"
if [[ ! -f "$example/quickstart.c" || ! -f "$example/CMakeLists.txt" ]]; then
    echo "FAIL: $example/quickstart.c and CMakeLists.txt are missing" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xhal-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

# The library was built with sanitizers: the example must be built with them too.
extra_flags=""
if [[ -n "$sanitize" ]]; then
    extra_flags="-fsanitize=$sanitize -fno-omit-frame-pointer"
fi

step() { echo "== $*"; }

step "install into $prefix"
"$cmake" --install "$build_dir" --prefix "$prefix"

for f in include/xhal/xhal.h include/xhal/xhal_backend.h; do
    [[ -f "$prefix/$f" ]] || { echo "FAIL: $f is not installed" >&2; exit 1; }
done
lib=$(find "$prefix" -name 'libxhal.so' \( -type f -o -type l \) | head -n 1)
[[ -n "$lib" ]] || { echo "FAIL: libxhal.so is not installed" >&2; exit 1; }
libdir=$(dirname "$lib")
pc=$(find "$prefix" -name xhal.pc -type f | head -n 1)
[[ -n "$pc" ]] || { echo "FAIL: xhal.pc is not installed" >&2; exit 1; }
config=$(find "$prefix" -name xhalConfig.cmake -type f | head -n 1)
[[ -n "$config" ]] || { echo "FAIL: xhalConfig.cmake is not installed" >&2; exit 1; }
if find "$prefix" -name 'libxhal-*.so' | grep -E 'libxhal-(noentry|nullentry|abi99|testunavail|testiniterror|garbage|cpu2)\.so' >&2; then
    echo "FAIL: test plugins were installed" >&2
    exit 1
fi
echo "libdir: $libdir, pkg-config file: $pc, CMake package: $config"

# Nothing from the build tree or the caller's settings may help the installed copy.
unset XHAL_BACKEND_PATH XHAL_BACKENDS XHAL_DEVICE
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

step "build quickstart with CMake"
"$cmake" -S "$example" -B "$work/qs-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$extra_flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$extra_flags"
"$cmake" --build "$work/qs-cmake"
exe=$(find "$work/qs-cmake" -name quickstart -type f -perm -u+x | head -n 1)
[[ -n "$exe" ]] || { echo "FAIL: the CMake build made no quickstart executable" >&2; exit 1; }

step "run the CMake-built quickstart"
"$exe"

step "build quickstart with pkg-config"
pc_dir=$(dirname "$pc")
flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs xhal)
echo "pkg-config --cflags --libs xhal: $flags"
# shellcheck disable=SC2086
"$cc" -std=c11 $extra_flags -o "$work/quickstart-pc" "$example/quickstart.c" $flags -lm

step "run the pkg-config-built quickstart"
"$work/quickstart-pc"

# The installed tool, when there is one, lists devices from the install alone.
if [[ -x "$prefix/bin/xhal" ]]; then
    step "xhal devices from the install"
    "$prefix/bin/xhal" devices
fi

echo "PASS"
