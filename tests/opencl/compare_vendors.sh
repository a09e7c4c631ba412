#!/usr/bin/env bash
# What `make conform` does, on one small case: with the project's vendors folder
# (scripts/opencl-vendors.sh) the quick suite finds the CPU backend, PoCL and Intel's CPU
# runtime, and `xhal compare` puts the three side by side in one table and one SVG chart.
# Exits 77 without Intel's runtime (scripts/setup-python.sh --opencl).
#
# usage: compare_vendors.sh <xhal tool> <vendors folder> <program cache dir> <work dir>
set -uo pipefail
xhal=$1 vendors=$2
# XHAL_OPENCL_CACHE takes absolute folders only.
cache=$(realpath -m "$3") work=$(realpath -m "$4")
export OCL_ICD_VENDORS=$vendors XHAL_OPENCL_CACHE=$cache XDG_CACHE_HOME=$work/xdg
unset XHAL_BACKENDS XHAL_DEVICE XHAL_OPENCL_TUNING XHAL_OPENCL_SPIRV XHAL_OPENCL_BUILD_OPTIONS
rm -rf "$work"
mkdir -p "$work" "$cache"
if [[ ! -f $vendors/xhal-intel-cpu.icd ]]; then
    echo "SKIP: Intel's CPU runtime is not registered in $vendors (scripts/setup-python.sh" \
         "--opencl, then scripts/opencl-vendors.sh)"
    exit 77
fi
"$xhal" conform --quick --op gemm --case square-s --dtype f32 --peaks device --out "$work/conform" \
    >"$work/conform.log" 2>&1 || { cat "$work/conform.log"; echo "FAIL: xhal conform" >&2; exit 1; }
reports=("$work"/conform/*/report.json)
if [[ ${#reports[@]} != 3 ]]; then
    cat "$work/conform.log"
    echo "FAIL: ${#reports[@]} reports, wanted 3 (cpu:0, opencl:0 PoCL, opencl:1 Intel)" >&2
    exit 1
fi
"$xhal" compare "${reports[@]}" --out "$work" >"$work/compare.log" 2>&1 ||
    { cat "$work/compare.log"; echo "FAIL: xhal compare" >&2; exit 1; }
cat "$work/compare.log"
for want in '\| cpu:0 +\| AMD EPYC +\| cpu ' '\| opencl:0 +\| pthread-[^|]*\| opencl ' \
            '\| opencl:1 +\| [^|]*\| opencl +\| 20[0-9.]+' \
            '\| gemm.square-s +\| f32 +\|[^|]*\| [0-9.]+ [GM]FLOP/s([^|]*\|){4}[^|]*\| [0-9.]+ [GM]FLOP/s([^|]*\|){4}[^|]*\| [0-9.]+ [GM]FLOP/s'; do
    grep -qE "$want" "$work/compare.log" || { echo "FAIL: the table lacks: $want" >&2; exit 1; }
done
[[ -s $work/compare.svg ]] || { echo "FAIL: no compare.svg" >&2; exit 1; }
if command -v python3 >/dev/null; then
    python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$work/compare.svg" ||
        { echo "FAIL: compare.svg is not well-formed XML" >&2; exit 1; }
fi
echo "PASS: CPU, PoCL and Intel's runtime side by side"
