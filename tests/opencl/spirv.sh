#!/usr/bin/env bash
# Intel's CPU OpenCL runtime gets its programs from the SPIR-V modules compiled into the plugin
# (cmake/xhal_spirv.cmake), the program cache keeps them, and XHAL_OPENCL_SPIRV=0 builds the
# source instead. Needs the runtime (scripts/setup-python.sh --opencl): exits 77 without it.
#
# usage: spirv.sh <xhal tool> <Intel's .icd or vendors folder> <shared cache dir> <work dir>
# The shared cache is the one the conform_*_intel tests use: the gemm and attention programs
# built here (about a minute of CPU for gemm) serve them.
set -uo pipefail
xhal=$1 vendors=$2 shared=$3 work=$4
export OCL_ICD_VENDORS=$vendors XHAL_BACKENDS=opencl XHAL_LOG=info
unset XHAL_DEVICE XHAL_OPENCL_SPIRV XHAL_OPENCL_BUILD_OPTIONS XHAL_OPENCL_TUNING
rm -rf "$work"
mkdir -p "$work" "$shared"

devices=$("$xhal" devices 2>&1)
if ! grep -qE '^ +vendor +Intel' <<<"$devices"; then
    echo "$devices"
    echo "SKIP: no Intel OpenCL device through $vendors: install Intel's CPU runtime with" \
         "scripts/setup-python.sh --opencl, then scripts/opencl-vendors.sh"
    exit 77
fi

failures=0
# run <name> <cache dir> <regex the log must match> [conform option...]
run() {
    local name=$1 cache=$2 want=$3
    shift 3
    XHAL_OPENCL_CACHE=$cache "$xhal" conform --only correctness --device opencl:0 \
        --out "$work/$name" "$@" >"$work/$name.log" 2>&1
    local status=$?
    grep -E 'program |correctness:' "$work/$name.log"
    if [[ $status != 0 ]]; then
        echo "FAIL: $name: xhal conform exited $status" >&2
        failures=$((failures + 1))
    elif ! grep -qE "$want" "$work/$name.log"; then
        echo "FAIL: $name: the log does not match: $want" >&2
        failures=$((failures + 1))
    else
        echo "ok: $name"
    fi
}

# The tuned variants of the [cpu] section this device gets are compiled in: from SPIR-V (or
# from the shared cache, where an earlier run put the binary it built from SPIR-V).
spirv='(cache miss, built from SPIR-V|cache hit \(built from SPIR-V\))'
run gemm "$shared" "program gemm for .*$spirv" --op gemm --case one
run attention "$shared" "program attention for .*$spirv" --op attention --case gqa-causal
# A fresh cache: a miss built from SPIR-V, then a hit of the same.
run merge-miss "$work/cache" "program attention_merge for .*cache miss, built from SPIR-V" \
    --op attention --case merge-bshd
run merge-hit "$work/cache" "program attention_merge for .*cache hit \(built from SPIR-V\)" \
    --op attention --case merge-bshd
# XHAL_OPENCL_SPIRV=0: the same program from source, under another cache key.
XHAL_OPENCL_SPIRV=0 run merge-source "$work/cache" \
    "program attention_merge for .*cache miss, built from source" --op attention --case merge-bshd

[[ $failures == 0 ]] || exit 1
echo "PASS: Intel's runtime runs the SPIR-V modules, cached"
