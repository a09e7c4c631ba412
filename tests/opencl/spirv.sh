#!/usr/bin/env bash
# Intel's CPU OpenCL runtime gets its programs from the SPIR-V modules compiled into the plugin
# (cmake/xhal_spirv.cmake), the program cache keeps them, and XHAL_OPENCL_SPIRV=0 builds the
# source instead. Needs the runtime (scripts/setup-python.sh --opencl): exits 77 without it.
#
# usage: spirv.sh <xhal tool> <Intel's .icd or vendors folder> <shared cache dir> <work dir>
#                 <the shipped kernels/tuning/opencl.ini>
# The shared cache is the one the conform_*_intel tests use: the gemm and attention programs
# built here (about a minute of CPU for gemm) serve them.
set -uo pipefail
xhal=$1 vendors=$2 ini=$5
# XHAL_OPENCL_CACHE takes absolute folders only.
shared=$(realpath -m "$3") work=$(realpath -m "$4")
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

# Every section of the shipped tuning has its modules (cmake/xhal_spirv.cmake computes the
# option strings apart from ocl_program_options(); this catches the two drifting apart): for
# each, a tuning file giving this device that section's values ([default], then the section
# with its match and type replaced by "match = *"); `xhal devices` logs where the programs
# would come from, building nothing.
all='programs from SPIR-V: gemm attention attention_merge'
while read -r section; do
    awk -v want="$section" '
        /^\[/ { name = substr($0, 2, length($0) - 2); keep = (name == "default" || name == want)
                if (keep) print (name == "default" ? "[default]" : "[xhal-test]\nmatch = *")
                next }
        keep && !/^(match|type)[ \t]*=/ { print }' "$ini" >"$work/section-$section.ini"
    log=$(XHAL_OPENCL_TUNING=$work/section-$section.ini "$xhal" devices 2>&1 >/dev/null)
    if grep -q "$all" <<<"$log"; then
        echo "ok: [$section] has its SPIR-V modules"
    else
        grep 'programs from' <<<"$log"
        echo "FAIL: [$section] of $ini: not every program has a SPIR-V module ($all)" >&2
        failures=$((failures + 1))
    fi
done < <(grep -oE '^\[[^]]+\]' "$ini" | tr -d '[]')

[[ $failures == 0 ]] || exit 1
echo "PASS: Intel's runtime runs the SPIR-V modules, cached"
