#!/usr/bin/env bash
# A tuning whose keys are each in range but whose GEMM tiles declare more local memory than the
# device has (gemm_local = 1, 32 x 32 work-groups, gemm_kb = 64, 16 x 256 tiles: 1.1 MiB on
# PoCL's 1 MiB) must be refused with a warning naming the limit, and the GEMMs run right with the
# default tiles. Before the check PoCL crashed at the first GEMM (SIGSEGV, or an assertion).
# Exits 77 (skipped) where no OpenCL device is found.
#
# usage: tuning_limits.sh <xhal tool> <scratch folder>
set -euo pipefail
xhal=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
unset XHAL_BACKENDS XHAL_DEVICE
if ! "$xhal" devices 2>/dev/null | grep -qE '^ +spec +opencl:0'; then
    echo "SKIP: no OpenCL device"
    exit 77
fi
cat > "$dir/too-big.ini" <<'INI'
[default]
gemm_local = 1
gemm_wg_m = 32
gemm_wg_n = 32
gemm_kb = 64
gemm_tm = 16
gemm_nv = 8
gemm_vw = 16
INI
export XHAL_OPENCL_TUNING=$dir/too-big.ini XHAL_OPENCL_CACHE=0 XHAL_LOG=warn
"$xhal" conform --quick --device opencl:0 --only correctness --op gemm --out "$dir/conform" \
    > "$dir/run.log" 2>&1 || { cat "$dir/run.log"; echo "FAIL: the run failed" >&2; exit 1; }
cat "$dir/run.log"
grep -q 'does not fit the device: .*CL_DEVICE_LOCAL_MEM_SIZE.*compiled-in defaults' "$dir/run.log" ||
    { echo "FAIL: no warning naming the local-memory limit" >&2; exit 1; }
grep -qE 'correctness: [0-9]+ passed, 0 failed' "$dir/run.log" ||
    { echo "FAIL: a GEMM case failed" >&2; exit 1; }
echo "PASS"
