#!/usr/bin/env bash
# With the ICD loader pointed at an empty folder (OCL_ICD_VENDORS), no OpenCL platform exists:
# `xhal devices` must say so in a sentence (not a bare -1001) and the CPU backend must still work.
# Then the same without an ICD loader at all (XHAL_OPENCL_LIBRARY names one that is not there).
#
# usage: no_platform.sh <xhal tool> <empty folder>
set -euo pipefail
xhal=$1
empty=$2
mkdir -p "$empty"
if [[ -n "$(ls -A "$empty")" ]]; then
    echo "FAIL: $empty is not empty" >&2
    exit 1
fi
export OCL_ICD_VENDORS=$empty
unset XHAL_BACKENDS XHAL_DEVICE

out=$("$xhal" devices)
echo "$out"
line=$(grep -E '^ +opencl ' <<<"$out" || true)
if [[ -z "$line" ]]; then
    echo "FAIL: xhal devices does not list the opencl backend" >&2
    exit 1
fi
if ! grep -q 'not loaded  (XHAL_UNAVAILABLE) no OpenCL platform is installed' <<<"$line"; then
    echo "FAIL: the opencl backend should be UNAVAILABLE because no platform is installed" >&2
    exit 1
fi
if ! grep -q 'CL_PLATFORM_NOT_FOUND_KHR' <<<"$line" || grep -q -- '-1001' <<<"$line"; then
    echo "FAIL: the reason should name CL_PLATFORM_NOT_FOUND_KHR, not the bare code" >&2
    exit 1
fi
if ! grep -qE '^ +spec +cpu:0' <<<"$out"; then
    echo "FAIL: the CPU device is missing" >&2
    exit 1
fi

echo "== the CPU backend still computes"
"$xhal" check --quick --dtype f32 --op gemm --device cpu | tee /dev/stderr | grep -q ' 0 failed'

echo "== no ICD loader"
unset OCL_ICD_VENDORS
out=$(XHAL_OPENCL_LIBRARY=libOpenCL-not-installed.so.1 "$xhal" devices)
echo "$out"
if ! grep -qE '^ +opencl +not loaded  \(XHAL_UNAVAILABLE\) the OpenCL ICD loader libOpenCL-not-installed.so.1 was not found' <<<"$out"; then
    echo "FAIL: the opencl backend should name the ICD loader it could not load" >&2
    exit 1
fi
grep -qE '^ +spec +cpu:0' <<<"$out" || { echo "FAIL: the CPU device is missing" >&2; exit 1; }
echo "PASS"
