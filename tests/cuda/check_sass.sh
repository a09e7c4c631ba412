#!/usr/bin/env bash
# Checks, from the per-kernel instruction counts of sass_summary.sh, the instructions the fast
# paths exist for:
#   sm_90a wgmma kernels (xk_sm90.fatbin): HGMMA (warpgroup MMA) and UTMALDG (TMA loads) in
#     every GEMM and attention kernel, and no local memory (LDL/STL: spills);
#   sm_80 tensor-core kernels (xk_gpu.fatbin): HMMA in every mma GEMM and FA2 attention kernel,
#     and the kernels the backend launches by name are there.
# Local memory in the other kernels is listed, not failed (INFO lines).
#
#   check_sass.sh CUOBJDUMP GPU_FATBIN SM90_FATBIN [SUMMARY_FILE]
#
# Writes the summary table to SUMMARY_FILE (default: a temporary file, removed). Prints one
# PASS/FAIL line per check; exits 1 when one failed.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 CUOBJDUMP GPU_FATBIN SM90_FATBIN [SUMMARY_FILE]" >&2
  exit 2
fi
cuobjdump=$1 gpu=$2 sm90=$3
summary=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
if [[ -z $summary ]]; then
  summary=$(mktemp)
  trap 'rm -f "$summary"' EXIT
fi
bash "$here/sass_summary.sh" "$cuobjdump" "$sm90" "$gpu" >"$summary"

# Columns of the table by name, so that a column added to sass_summary.sh changes nothing here.
awk '
  /^arch / { for (i = 1; i <= NF; i++) c[$i] = i; next }
  /^#/ { file = $2; next }
  NF == 0 { next }
  {
    arch = $1; k = $2; spill = $c["LDL"] + $c["STL"]
    if (file == "xk_sm90.fatbin" && arch == "sm_90a") {
      sm90++
      if ($c["HGMMA"] == 0) { print "FAIL " k " (sm_90a): no HGMMA: not on the wgmma path"; bad90++ }
      if ($c["UTMALDG"] == 0) { print "FAIL " k " (sm_90a): no TMA load (UTMALDG)"; bad90++ }
      if (spill > 0) { print "FAIL " k " (sm_90a): local memory: " $c["LDL"] " LDL, " $c["STL"] " STL, stack " $c["stack"]; bad90++ }
      hgmma += $c["HGMMA"]
    } else if (file == "xk_gpu.fatbin") {
      if (arch == "sm_80") {
        names[k] = 1
        if ((k ~ /^xk_gemm_mma_/ || k ~ /^xk_attention_fa2_/) && $c["HMMA"] == 0) {
          print "FAIL " k " (sm_80): no HMMA: not on the tensor cores"; bad++
        }
        if (k ~ /^xk_gemm_mma_/ || k ~ /^xk_attention_fa2_/) hmma += $c["HMMA"]
      }
      if (spill > 0) print "INFO " k " (" arch "): local memory: " $c["LDL"] " LDL, " $c["STL"] " STL, stack " $c["stack"]
    }
  }
  END {
    bad += bad90
    if (sm90 == 0) { print "FAIL no sm_90a kernel in xk_sm90.fatbin"; bad++ }
    else if (bad90 == 0) print "PASS sm_90a wgmma kernels: " sm90 " kernels, " hgmma " HGMMA in all, each with HGMMA and TMA loads, none with local memory"
    split("xk_gemm_mma_128x128x32_bf16_nn xk_attention_fa2_bf16_d128 xk_gemv_n_bf16_1", need, " ")
    for (i in need) if (!(need[i] in names)) { print "FAIL " need[i] " missing from the sm_80 code"; bad++ }
    if (hmma > 0 && bad == bad90) print "PASS sm_80 tensor-core kernels: " hmma " HMMA in the mma GEMM and FA2 kernels"
    else { print "FAIL no HMMA in the sm_80 code"; bad++ }
    if (bad) { print "SASS checks: " bad " failed"; exit 1 }
    print "SASS checks passed"
  }' "$summary"
