#!/usr/bin/env bash
# Disassembles the two fatbins and checks the instructions the fast paths exist for:
#   sm_90a wgmma GEMM kernels: HGMMA (warpgroup MMA), UTMALDG (TMA loads), no local memory;
#   sm_80 tensor-core kernels: HMMA.
# Usage: check_sass.sh CUOBJDUMP GPU_FATBIN SM90_FATBIN
set -euo pipefail
cuobjdump=$1 gpu=$2 sm90=$3
fail=0
sass90=$("$cuobjdump" -sass "$sm90")
n=$(grep -c 'HGMMA' <<<"$sass90" || true)
echo "sm_90a fatbin: $n HGMMA instructions"
[[ $n -gt 0 ]] || { echo "FAIL: no HGMMA in the sm_90a GEMM kernels"; fail=1; }
grep -q 'UTMALDG' <<<"$sass90" || { echo "FAIL: no TMA load (UTMALDG) in the sm_90a kernels"; fail=1; }
if grep -qE '\b(LDL|STL)\b' <<<"$sass90"; then
  echo "FAIL: the sm_90a kernels use local memory (register spills)"; fail=1
fi
sass80=$("$cuobjdump" -sass -arch sm_80 "$gpu")
n=$(grep -c 'HMMA' <<<"$sass80" || true)
echo "sm_80 code: $n HMMA instructions"
[[ $n -gt 0 ]] || { echo "FAIL: no HMMA in the sm_80 tensor-core kernels"; fail=1; }
for k in xk_gemm_mma_128x128x32_bf16_nn xk_attention_fa2_bf16_d128 xk_gemv_n_bf16_1; do
  grep -q "Function : $k" <<<"$sass80" || { echo "FAIL: $k missing from the sm_80 code"; fail=1; }
done
[[ $fail -eq 0 ]] && echo "SASS checks passed"
exit $fail
