#!/usr/bin/env bash
# Builds xhal with the CUDA backend and checks issues 6 and 7 on the first NVIDIA GPU, in one run:
#
#   1. tools: cmake, a C compiler, nvcc (CUDA 12+), cuobjdump, nvidia-smi, python3 + PyTorch
#      (each checked and reported; nothing is installed: the script uses no package manager)
#   2. build with -DXHAL_WITH_CUDA=ON (Release) and the unit tests
#   3. `xhal devices`, `xhal check --device cuda:0`
#   4. every GEMM and attention correctness case on the GPU, through every kernel path
#      (build/tests/test_cuda_gpu), then the timings: bf16 GEMM 4096^3, 8192^3 and the LLM
#      shapes against cuBLASLt in the same process, decode GEMV against the measured copy
#      bandwidth, prefill and decode attention
#   5. PyTorch scaled_dot_product_attention on the same attention shapes, when PyTorch is there
#   6. `cuobjdump -sass` of the sm_90a fatbin, grepped for HGMMA (and UTMALDG, no spills)
#   7. a summary with the acceptance thresholds of issues 6 and 7 and PASS/FAIL per item
#
# Everything is written to RESULTS_DIR (default build-gpu/gpu-check; $OUT/gpu-check when $OUT is
# set): results.txt (the summary and every number), the logs, and the sm_90a SASS.
#
# usage: scripts/gpu-check.sh [--build DIR] [--results DIR] [--skip-build] [--quick]
# Exit status: 0 when every item passed, 1 otherwise, 2 for a usage error or a missing tool.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-gpu
results=${OUT:+$OUT/gpu-check}
skip_build=0
quick=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
  esac
done
results=${results:-$build/gpu-check}
mkdir -p "$results"
out=$results/results.txt
: >"$out"
say() { echo "$*" | tee -a "$out"; }
summary=()
item() { # item PASS|FAIL|SKIP "what" "detail"
  summary+=("$(printf '%-4s %-58s %s' "$1" "$2" "$3")")
}

say "== xhal gpu-check, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n) =="
say "repository: $root ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"

# ---- 1. tools ----
export PATH=$PATH:/usr/local/cuda/bin
missing=0
for tool in cmake cc nvcc; do
  if command -v $tool >/dev/null 2>&1; then
    say "tool: $tool: $(command -v $tool) ($($tool --version 2>&1 | grep -m1 -Eo '[0-9]+\.[0-9]+(\.[0-9]+)?' || true))"
  else
    say "tool: $tool: MISSING"; missing=1
  fi
done
[[ $missing -eq 0 ]] || { say "gpu-check: cmake, a C compiler and nvcc are needed (no package manager is used)"; exit 2; }
cuobjdump=$(command -v cuobjdump || true)
say "tool: cuobjdump: ${cuobjdump:-MISSING (the SASS check will be skipped)}"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.sm --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$out"
else
  say "gpu: nvidia-smi not found"
fi
python=$(command -v python3 || true)
torch_ok=0
if [[ -n $python ]] && "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  torch_ok=1
  say "tool: python3 + PyTorch $("$python" -c 'import torch; print(torch.__version__)') with CUDA"
else
  say "tool: PyTorch with CUDA: not available (the SDPA baseline will be skipped)"
fi
# cuBLASLt for the same-run baseline: the toolkit's lib64, else the one PyTorch's wheels carry.
lt_dirs=/usr/local/cuda/lib64
if [[ -n $python ]]; then
  pip_lib=$("$python" -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null || true)
  [[ -n $pip_lib ]] && lt_dirs=$lt_dirs:$pip_lib
fi
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$lt_dirs

# ---- 2. build ----
jobs=$(nproc 2>/dev/null || echo 4)
if [[ $skip_build -eq 0 ]]; then
  say "== build ($build, -DXHAL_WITH_CUDA=ON, Release, $jobs jobs) =="
  start=$SECONDS
  if cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DXHAL_WITH_CUDA=ON >"$results/configure.log" 2>&1 &&
     cmake --build "$build" -j "$jobs" >"$results/build.log" 2>&1; then
    say "build: ok in $((SECONDS - start)) s"
    item PASS "build with XHAL_WITH_CUDA=ON (sm_80, sm_89, sm_90a + PTX)" "$((SECONDS - start)) s"
  else
    tail -30 "$results/configure.log" "$results/build.log" | tee -a "$out"
    item FAIL "build with XHAL_WITH_CUDA=ON" "see $results/build.log"
    printf '%s\n' "${summary[@]}" | tee -a "$out"
    exit 1
  fi
  (cd "$build" && ctest -j "$jobs" --output-on-failure -LE "slow|gpu" >"$results/ctest.log" 2>&1)
  ctest_rc=$?
  say "unit tests: $(grep -E 'tests passed|tests failed' "$results/ctest.log" | tail -1)"
  item "$([[ $ctest_rc -eq 0 ]] && echo PASS || echo FAIL)" "unit tests (ctest -LE 'slow|gpu')" "$results/ctest.log"
fi
xhal=$build/bin/xhal

# ---- 3. xhal devices, xhal check ----
say "== xhal devices =="
"$xhal" devices 2>&1 | tee -a "$out"
if "$xhal" devices 2>&1 | grep -qE '^ +cuda +loaded'; then
  item PASS "cuda backend loaded" "$("$xhal" devices 2>&1 | grep -A3 'spec  *cuda:0' | grep name | sed 's/ *name *//')"
else
  item FAIL "cuda backend loaded" "$("$xhal" devices 2>&1 | grep -E '^ +cuda ' | head -1)"
fi
say "== xhal check --device cuda:0 =="
"$xhal" check --device cuda:0 >"$results/xhal-check.log" 2>&1
check_rc=$?
tail -5 "$results/xhal-check.log" | tee -a "$out"
item "$([[ $check_rc -eq 0 ]] && echo PASS || echo FAIL)" "xhal check --device cuda:0 (every case PASS or SKIP)" "$(grep -Eo '[0-9]+ passed, [0-9]+ failed[^)]*' "$results/xhal-check.log" | tail -1)"

# ---- 4. correctness through every kernel path, then the timings ----
say "== correctness on cuda:0, every kernel path; timings =="
gpu_args=(--bench --out "$results/gpu-test.txt")
[[ $quick -eq 1 ]] && gpu_args+=(--quick)
: >"$results/gpu-test.txt"
XHAL_BACKENDS=cuda,cpu "$build/tests/test_cuda_gpu" "${gpu_args[@]}" >"$results/gpu-test.log" 2>&1
grep -E '^(FAIL|ERROR|SKIP: no)' "$results/gpu-test.txt" | head -40 | tee -a "$out"
grep -E '^(device|correctness|copy|cuBLASLt|info|timings)' "$results/gpu-test.txt" | tee -a "$out"
counts=$(grep -E '^correctness:' "$results/gpu-test.txt" | tail -1)
if [[ -n $counts && $counts == *" 0 failed"* ]]; then
  item PASS "GEMM + attention correctness on the GPU, every path" "${counts#correctness: }"
else
  item FAIL "GEMM + attention correctness on the GPU, every path" "${counts:-did not run: see $results/gpu-test.log}"
fi
for kind in gemm attention; do
  for path in auto simt mma sm90 gemv simple fa2 decode; do  # sm90: GEMM and attention
    p=$(grep -cE "^PASS $kind +$path " "$results/gpu-test.txt"); f=$(grep -cE "^FAIL $kind +$path " "$results/gpu-test.txt")
    [[ $((p + f)) -gt 0 ]] && say "  $kind via $path: $p passed, $f failed"
  done
done
while IFS=$'\t' read -r _ verdict what detail; do
  item "$verdict" "$what" "$detail"
done < <(grep -P '^ITEM\t' "$results/gpu-test.txt")
grep -q 'spot check' "$results/gpu-test.txt" && item FAIL "timed outputs spot-checked against fp64" "$(grep -m1 'spot check' "$results/gpu-test.txt")"

# `xhal bench --vs cublas`, when the tool has it (informational: the numbers above are judged).
if "$xhal" bench --help 2>&1 | grep -q cublas; then
  say "== xhal bench gemm --vs cublas =="
  "$xhal" bench gemm --device cuda:0 --dtype bf16 --vs cublas 4096 8192 2048x4096x4096 \
    2048x14336x4096 2048x4096x14336 2>&1 | tee -a "$out" "$results/xhal-bench.log" | tail -12
fi

# ---- 5. PyTorch SDPA on the same attention shapes ----
if [[ $torch_ok -eq 1 ]]; then
  say "== PyTorch scaled_dot_product_attention, same shapes (bf16, BHSD) =="
  "$python" - <<'PY' 2>&1 | tee -a "$out"
import torch, torch.nn.functional as F
def bench(fn, reps=10, warm=3):
    for _ in range(warm): fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); torch.cuda.synchronize(); ts.append(a.elapsed_time(b) / 1e3)
    ts.sort(); return ts[len(ts) // 2]
dev, dt = "cuda", torch.bfloat16
for causal in (False, True):
    q, k, v = (torch.randn(4, 32, 4096, 128, device=dev, dtype=dt) for _ in range(3))
    s = bench(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal))
    fl = 4 * 4 * 32 * 4096 * 4096 * 128 / (2 if causal else 1)
    print(f"sdpa prefill b4 h32 s4096 d128{' causal' if causal else ''}: {s*1e3:.3f} ms, {fl/s/1e12:.1f} TFLOP/s")
q = torch.randn(32, 32, 1, 128, device=dev, dtype=dt)
k, v = (torch.randn(32, 8, 8192, 128, device=dev, dtype=dt) for _ in range(2))
try:
    s = bench(lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True))
except TypeError:  # PyTorch < 2.5: expand the KV heads (more bytes than the kernel needs)
    ke, ve = k.repeat_interleave(4, 1), v.repeat_interleave(4, 1)
    s = bench(lambda: F.scaled_dot_product_attention(q, ke, ve))
by = 2 * 32 * 8 * 8192 * 128 * 2
print(f"sdpa decode b32 hq32 hkv8 kv8192 d128: {s*1e6:.1f} us, {by/s/1e9:.0f} GB/s")
PY
  item INFO "PyTorch SDPA on the same shapes (reported, not judged)" "see results.txt"
else
  item SKIP "PyTorch SDPA on the same shapes" "PyTorch with CUDA not available"
fi

# ---- 6. SASS ----
fatbin90=$build/backends/cuda/xk_sm90.fatbin
if [[ -n $cuobjdump && -f $fatbin90 ]]; then
  "$cuobjdump" -sass "$fatbin90" >"$results/sm90a.sass" 2>&1
  bash "$root/tests/cuda/check_sass.sh" "$cuobjdump" "$build/backends/cuda/xk_gpu.fatbin" "$fatbin90" 2>&1 | tee -a "$out"
  n=$(grep -c HGMMA "$results/sm90a.sass")
  item "$([[ $n -gt 0 ]] && echo PASS || echo FAIL)" "sm_90a GEMM kernel SASS shows HGMMA" "$n HGMMA; $results/sm90a.sass"
else
  item SKIP "sm_90a GEMM kernel SASS shows HGMMA" "no cuobjdump or no fatbin"
fi

# ---- 7. summary ----
say ""
say "== summary (acceptance of issues 6 and 7) =="
say "thresholds: GEMM bf16 >= 0.8x cuBLASLt (4096^3, 8192^3, m=2048 x 4096x4096, 4096x14336, 14336x4096);"
say "            GEMV m=1 4096x14336 bf16 >= 75% of copy bandwidth; attention prefill b4 h32 s4096 d128"
say "            bf16 >= 400 TFLOP/s (causal >= 300); decode b32 hq32 hkv8 kv8192 d128 >= 75% of copy bw"
printf '%s\n' "${summary[@]}" | tee -a "$out"
failed=$(printf '%s\n' "${summary[@]}" | grep -c '^FAIL')
say "gpu-check: $failed item(s) failed; results in $results"
[[ $failed -eq 0 ]]
