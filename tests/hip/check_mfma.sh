#!/usr/bin/env bash
# Disassembles the HIP code objects and checks what the CDNA kernels exist for:
#   CDNA targets (gfx908, gfx90a, gfx94x, gfx950): every MFMA GEMM and attention kernel has
#     v_mfma instructions, and no MFMA kernel uses scratch (private segment 0: no spills);
#   other targets (gfx906, RDNA): no v_mfma anywhere;
#   every target: the portable kernels are there, and use no scratch.
# Usage: check_mfma.sh LLVM_OBJDUMP LLVM_READELF xk_hip_<gfx>.co...
set -euo pipefail
objdump=$1 readelf=$2
shift 2
fail=0
for co in "$@"; do
  gfx=$(basename "$co" .co)
  gfx=${gfx#xk_hip_}
  asm=$("$objdump" -d "$co")
  # kernel name -> its v_mfma count
  counts=$(awk '/^[0-9a-f]+ <[A-Za-z_0-9.]+>:/ { name = $2; gsub(/[<>:]/, "", name); n[name] += 0 }
                /v_mfma/ { n[name]++ }
                END { for (k in n) print k, n[k] }' <<<"$asm" | sort)
  # kernel name -> private segment bytes (scratch), from the code object's metadata
  scratch=$("$readelf" --notes "$co" | awk '
      /^  - \./ { if (name != "") print name, size; name = ""; size = "?" }
      /^ +\.name: / { name = $2 }
      /^ +\.private_segment_fixed_size: / { size = $2 }
      END { if (name != "") print name, size }' | sort)
  mfma_kernels=$(awk '$1 ~ /^xk_(gemm|attention)_mfma_/' <<<"$counts")
  case $gfx in
    gfx908|gfx90a|gfx94[0-9]|gfx950)
      gemm=$(grep -c '^xk_gemm_mfma_' <<<"$mfma_kernels" || true)
      attention=$(grep -c '^xk_attention_mfma_' <<<"$mfma_kernels" || true)
      total=$(awk '{ s += $2 } END { print s + 0 }' <<<"$mfma_kernels")
      echo "$gfx: $gemm MFMA GEMM kernels, $attention MFMA attention kernels, $total v_mfma"
      if [[ $gemm -eq 0 || $attention -eq 0 ]]; then
        echo "FAIL: $gfx: MFMA GEMM or attention kernels missing"; fail=1
      fi
      while read -r name n; do
        [[ -n $name ]] || continue
        [[ $n -gt 0 ]] || { echo "FAIL: $gfx: $name has no v_mfma instruction"; fail=1; }
      done <<<"$mfma_kernels"
      ;;
    *)
      n=$(grep -c v_mfma <<<"$asm" || true)
      echo "$gfx: portable kernels only ($n v_mfma)"
      [[ $n -eq 0 ]] || { echo "FAIL: $gfx has v_mfma instructions"; fail=1; }
      [[ -z $mfma_kernels ]] || { echo "FAIL: $gfx has MFMA kernels"; fail=1; }
      ;;
  esac
  for k in xk_gemm_simt xk_gemm_splitk_reduce xk_gemv_n_bf16_16 xk_gemv_t_f16_1 \
           xk_attention_simple xk_attention_combine; do
    grep -q "^$k " <<<"$counts" || { echo "FAIL: $gfx: $k missing"; fail=1; }
  done
  while read -r name size; do
    [[ -n $name ]] || continue
    if [[ $size != 0 ]]; then
      echo "FAIL: $gfx: $name uses $size bytes of scratch per lane (register spills)"; fail=1
    fi
  done <<<"$scratch"
done
[[ $fail -eq 0 ]] && echo "MFMA disassembly checks passed"
exit $fail
