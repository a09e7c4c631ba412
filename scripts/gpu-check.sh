#!/usr/bin/env bash
# The CUDA backend's check on an NVIDIA GPU, in one run that fits a lent GPU machine (docs/
# GPU_CHECK.md): inside 8 minutes on 16 cores (--quick: 3), with only what that machine's image
# has (CMake, ninja or make, a C compiler, nvcc, cuBLAS, cuobjdump, PyTorch; no cmocka, no
# pkg-config, nothing installed), writing at most 8 result files, each well under 16 MiB.
#
#   1. tools: nvcc, cuobjdump, nvidia-smi, PyTorch, cuBLASLt (in the toolkit, or in the pip
#      wheels' nvidia/cu13/lib folders), each reported
#   2. build: -DBUILD_TESTING=OFF -DXHAL_GPU_CHECK=ON, Release: the library, the CUDA plugin, the
#      xhal tool and tests/test_cuda_gpu (no unit tests, so no cmocka)
#   3. SASS of the fatbins reduced to instruction counts per kernel; HGMMA in every sm_90a kernel
#   4. the device: without a CUDA device the script stops here: "no GPU", exit status 3 (with
#      --device cpu:0 the later stages run on the CPU backend instead, the timings at sizes / 16,
#      to try this script itself without a GPU; its figures mean nothing)
#   5. correctness on cuda:0: every GEMM and attention case through every kernel path
#      (test_cuda_gpu), `xhal check`, and every case of the conformance suite (`xhal conform`)
#   6. timings (test_cuda_gpu --bench): bf16 GEMM 4096^3, 8192^3 and the LLM shapes against
#      cuBLASLt in the same process (>= 0.8x), GEMV and decode attention against the measured
#      copy bandwidth (>= 75%), prefill attention at head_dim 128, s = 1k..16k (--quick: 4k),
#      causal and not (>= 400 / 300 TFLOP/s at s = 4k)
#   7. PyTorch on the same shapes (SDPA, torch.matmul, a copy), reported beside xhal's figures
#   8. (full run) the conformance suite's utilization table on cuda:0
# One program runs on the GPU at a time. Every stage runs under a time limit taken from what is
# left of the budget, so the summary is always written: a hung kernel costs its stage, not the run.
#
# Results (RESULTS, default $OUT/gpu-check when $OUT is set, else BUILD/gpu-check):
#   summary.txt  the environment, PASS/FAIL per item, xhal's figures beside PyTorch's and cuBLAS's
#   check.txt    every correctness case (test_cuda_gpu, xhal check, xhal conform)
#   bench.txt    the timings' full output (test_cuda_gpu --bench, tests/cuda/torch_baseline.py)
#   sass.txt     instruction counts per kernel and architecture, and the SASS checks
#   conform.md   the conformance report of cuda:0 (correctness; utilization in a full run)
#   log.txt      configure and build output, the device list, each stage's stderr
#
# usage: scripts/gpu-check.sh [--quick] [--build DIR] [--results DIR] [--skip-build] [--jobs N]
#                             [--budget SECONDS] [--cmake-flags "FLAGS"] [--device SPEC]
#   --skip-build  use DIR as built (a rerun on a warm machine; a plain rerun rebuilds only what
#                 changed anyway)
#   --budget      seconds for the whole run (default 450, --quick 170)
#   --cmake-flags more configure options (CI passes -DXHAL_WERROR=ON and hides cmocka)
#   --device      the device to check (default cuda:0; cpu:0 tries the script without a GPU)
# Exit status: 0 every item passed; 1 an item failed; 2 usage error or a missing tool; 3 no GPU.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-gpu
results=${OUT:+$OUT/gpu-check}
skip_build=0 quick=0 budget="" jobs="" extra_flags="" device=cuda:0
while [[ $# -gt 0 ]]; do
  case $1 in
    --build|--results|--budget|--jobs|--cmake-flags|--device)
      [[ $# -ge 2 ]] || { echo "gpu-check: $1 needs a value" >&2; exit 2; } ;;&
    --build) build=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --quick) quick=1; shift ;;
    --budget) budget=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --cmake-flags) extra_flags=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    -h|--help) sed -n '2,41p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $build = /* ]] || build=$PWD/$build
results=${results:-$build/gpu-check}
[[ -n $budget ]] || budget=$([[ $quick -eq 1 ]] && echo 170 || echo 450)
[[ -n $jobs ]] || jobs=$(nproc 2>/dev/null || echo 4)
mkdir -p "$results" || exit 2
rm -f "$results"/{summary.txt,check.txt,bench.txt,sass.txt,conform.md,log.txt}
summary=$results/summary.txt log=$results/log.txt
work=$build/gpu-check-work  # scratch kept out of RESULTS (the 8-file limit)
mkdir -p "$work" || exit 2
start=$SECONDS deadline=$((SECONDS + budget))

say() { echo "$*" | tee -a "$summary"; }
items=()
item() { # item PASS|FAIL|SKIP|INFO "what" "detail"
  items+=("$(printf '%-4s %-60s %s' "$1" "$2" "${3:-}")")
  printf '%s\n' "${items[-1]}"
}
# stage NAME CAP_SECONDS COMMAND...: runs COMMAND under the smaller of CAP and the time left
# (less 15 s kept for the summary); stdout goes to the caller, stderr to log.txt. Returns the
# command's status, 124 when it was stopped, 125 when no time was left to start it.
stage() {
  local name=$1 cap=$2 left
  shift 2
  left=$((deadline - SECONDS - 15))
  [[ $left -lt $cap ]] && cap=$left
  if [[ $cap -lt 5 ]]; then
    echo "gpu-check: $name: not run, the budget of ${budget} s is spent" | tee -a "$log" >&2
    return 125
  fi
  echo "== $name (limit ${cap} s) ==" >>"$log"
  local t0=$SECONDS rc
  timeout -k 10 "$cap" "$@" 2>>"$log"
  rc=$?
  echo "gpu-check: $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$log" >&2
  [[ $rc -eq 124 || $rc -eq 137 ]] && echo "gpu-check: $name was stopped at its limit of ${cap} s" | tee -a "$log" >&2
  return $rc
}
# finish STATUS: the summary, the file limits, the exit.
finish() {
  local status=$1
  say ""
  say "== summary ($([[ $quick -eq 1 ]] && echo quick || echo full) run, $((SECONDS - start)) s of a ${budget} s budget) =="
  say "goals: GEMM bf16 >= 0.8x cuBLASLt; prefill d128 >= 400 TFLOP/s (causal >= 300) at b4 h32"
  say "       s4096; GEMV m=1 and decode b32 hq32 hkv8 kv8192 d128 >= 75% of the copy bandwidth"
  printf '%s\n' "${items[@]}" | tee -a "$summary"
  local failed
  failed=$(printf '%s\n' "${items[@]}" | grep -c '^FAIL')
  if [[ $status -eq 3 ]]; then
    say "gpu-check: no GPU: nothing was run on a device; results in $results"
  else
    say "gpu-check: $failed item(s) failed; results in $results"
    [[ $failed -gt 0 && $status -eq 0 ]] && status=1
  fi
  # What comes back from a lent machine: at most 8 files, each under 16 MiB.
  local f
  for f in "$results"/*; do
    [[ -f $f ]] || continue
    if [[ $(stat -c %s "$f") -gt $((15 << 20)) ]]; then
      head -c $((15 << 20)) "$f" >"$f.cut" && mv "$f.cut" "$f"
      echo "[gpu-check: cut to 15 MiB]" >>"$f"
    fi
  done
  local count
  count=$(find "$results" -mindepth 1 -maxdepth 1 | wc -l)
  [[ $count -le 8 ]] || echo "gpu-check: $results holds $count entries, more than the 8 that come back" >&2
  exit "$status"
}

say "== xhal gpu-check, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $jobs jobs =="
say "repository: $root ($(git -C "$root" describe --always --dirty 2>/dev/null || echo 'not a git checkout'))"

# ---- 1. tools ----
[[ -d /usr/local/cuda/bin ]] && export PATH=$PATH:/usr/local/cuda/bin
ccomp=${CC:-$(command -v cc || command -v gcc || true)}
for tool in cmake nvcc timeout "$ccomp"; do
  if [[ -z $tool ]] || ! command -v "$tool" >/dev/null 2>&1; then
    say "gpu-check: ${tool:-a C compiler} is missing: cmake, a C compiler, nvcc and timeout are needed"
    exit 2
  fi
done
nvcc=$(command -v nvcc)
cuda_root=$(dirname "$(dirname "$(readlink -f "$nvcc")")")
say "tools: cmake $(cmake --version | head -1 | grep -Eo '[0-9.]+$'), $ccomp $("$ccomp" -dumpfullversion 2>/dev/null || "$ccomp" -dumpversion), nvcc $(nvcc --version | grep -Eo 'release [0-9.]+' | cut -d' ' -f2) ($cuda_root)"
python=$(command -v python3 || true)
# cuobjdump: the toolkit's, else one a pip wheel carries (nvidia-cuda-cuobjdump, Triton).
cuobjdump=$(command -v cuobjdump || true)
for c in "$cuda_root/bin/cuobjdump" /usr/local/cuda/bin/cuobjdump; do
  [[ -z $cuobjdump && -x $c ]] && cuobjdump=$c
done
if [[ -z $cuobjdump && -n $python ]]; then
  cuobjdump=$("$python" - <<'PY' 2>/dev/null
import glob, importlib.util, os
for name in ("nvidia", "triton"):
    spec = importlib.util.find_spec(name)
    for base in (spec.submodule_search_locations or []) if spec else []:
        for path in sorted(glob.glob(os.path.join(base, "**", "bin", "cuobjdump"), recursive=True)):
            if os.access(path, os.X_OK):
                print(path)
                raise SystemExit
PY
  )
fi
say "tools: cuobjdump ${cuobjdump:-not found (the SASS check is skipped)}"
if command -v nvidia-smi >/dev/null 2>&1; then
  smi=$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1)
  say "gpu: ${smi:-nvidia-smi printed nothing}"
else
  say "gpu: no nvidia-smi"
fi
torch_ok=0
if [[ -n $python ]] && torch_text=$(timeout 60 "$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, "device" if torch.cuda.is_available() else "no device")' 2>/dev/null); then
  say "tools: $python: PyTorch $torch_text"
  [[ $torch_text == *" device" ]] && torch_ok=1
else
  say "tools: PyTorch not found (${python:-no python3}): its baselines are skipped"
fi
# cuBLASLt for the same-process baseline (dlopen'ed by name): the toolkit's lib folders, else
# the pip wheels' (CUDA 13: nvidia/cu13/lib; CUDA 12: nvidia/cublas/lib).
lt_dirs=""
for d in "$cuda_root/lib64" "$cuda_root/lib" "$cuda_root/targets/x86_64-linux/lib" \
         "$cuda_root/targets/sbsa-linux/lib" /usr/local/cuda/lib64; do
  compgen -G "$d/libcublasLt.so.1[23]" >/dev/null || continue
  d=$(readlink -f "$d")
  [[ ":$lt_dirs:" == *":$d:"* ]] || lt_dirs=$lt_dirs:$d
done
if [[ -n $python ]]; then
  for d in $("$python" - <<'PY' 2>/dev/null
import glob, importlib.util, os
spec = importlib.util.find_spec("nvidia")
for base in (spec.submodule_search_locations or []) if spec else []:
    for lib in sorted(glob.glob(os.path.join(base, "*", "lib", "libcublasLt.so.1[23]"))):
        print(os.path.dirname(lib))
PY
  ); do
    lt_dirs=$lt_dirs:$d
  done
fi
lt_dirs=${lt_dirs#:}
# Only the timing program gets them (PyTorch loads its own cuBLAS; a second one first in the
# path could be another version).
lt_env=(env "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$lt_dirs")
if [[ -n $lt_dirs ]]; then
  say "tools: cuBLASLt in ${lt_dirs//:/, }"
else
  say "tools: cuBLASLt (libcublasLt.so.13) not found in the toolkit or the pip wheels: the GEMM items fail"
fi
# The driver library, which the plugin and the cuBLASLt baseline dlopen: where the loader finds
# it, else in a container's usual driver folders (then added to LD_LIBRARY_PATH).
if ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
  say "driver: libcuda.so.1 $(ldconfig -p | grep -m1 'libcuda\.so\.1 ' | sed 's/.*=> //')"
else
  drv=""
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    [[ -e $d/libcuda.so.1 ]] && { drv=$d; break; }
  done
  if [[ -n $drv ]]; then
    export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$drv
    lt_env=(env "LD_LIBRARY_PATH=$LD_LIBRARY_PATH${lt_dirs:+:$lt_dirs}")
    say "driver: libcuda.so.1 in $drv (added to LD_LIBRARY_PATH)"
  else
    say "driver: libcuda.so.1 not found (no NVIDIA driver)"
  fi
fi

# ---- 2. build ----
xhal=$build/bin/xhal gpu=$build/tests/test_cuda_gpu
if [[ $skip_build -eq 0 ]]; then
  generator=()
  if [[ -z ${CMAKE_GENERATOR:-} && ! -f $build/CMakeCache.txt ]] && command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
  fi
  # shellcheck disable=SC2086  # extra_flags is a list of words
  if stage "configure" 120 cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
       -DBUILD_TESTING=OFF -DXHAL_GPU_CHECK=ON -DXHAL_WITH_CUDA=ON -DXHAL_WITH_OPENCL=OFF \
       -DXHAL_WITH_HIP=OFF -DXHAL_WITH_LEVELZERO=OFF $extra_flags >>"$log" &&
     stage "build" 300 cmake --build "$build" -j "$jobs" --target xhal_tool test_cuda_gpu >>"$log"; then
    item PASS "build: library, CUDA plugin, xhal, test_cuda_gpu (no cmocka)" "$((SECONDS - start)) s"
  else
    grep -E 'error|Error|FAILED|stopped at its limit' "$log" | head -20 | tee -a "$summary"
    item FAIL "build: library, CUDA plugin, xhal, test_cuda_gpu (no cmocka)" "see log.txt"
    finish 1
  fi
fi
if [[ ! -x $xhal || ! -x $gpu ]]; then
  item FAIL "build" "$xhal or $gpu is missing"
  finish 1
fi

# ---- 3. SASS (needs no GPU) ----
fatbins=("$build/backends/cuda/xk_gpu.fatbin" "$build/backends/cuda/xk_sm90.fatbin")
if [[ -n $cuobjdump && -f ${fatbins[0]} && -f ${fatbins[1]} ]]; then
  stage "sass" 90 bash "$root/tests/cuda/check_sass.sh" "$cuobjdump" "${fatbins[@]}" \
    "$work/sass-table.txt" >"$work/sass-checks.txt"
  rc=$?
  { cat "$work/sass-checks.txt"; echo; cat "$work/sass-table.txt" 2>/dev/null; } >"$results/sass.txt"
  line=$(grep -m1 '^PASS sm_90a' "$work/sass-checks.txt" || grep -m1 'sm_90a' "$work/sass-checks.txt" || true)
  item "$([[ $rc -eq 0 ]] && echo PASS || echo FAIL)" "SASS: HGMMA + TMA in every sm_90a kernel, HMMA on sm_80" "${line#PASS }"
else
  item SKIP "SASS: HGMMA in the sm_90a code" "no cuobjdump or no fatbin"
fi

# ---- 4. the device ----
timeout -k 5 120 "$xhal" devices >"$work/devices.txt" 2>&1
cat "$work/devices.txt" >>"$log"
if ! grep -qE "^ +spec +$device\$" "$work/devices.txt"; then
  if [[ $device == cuda:* ]]; then
    reason=$(grep -E '^  cuda ' "$work/devices.txt" | sed 's/^  cuda *//')
    say "gpu-check: no GPU: $device did not open: ${reason:-no cuda backend line in xhal devices}"
    item FAIL "$device opens" "no GPU: ${reason:-see log.txt}"
    finish 3
  fi
  item FAIL "$device opens" "not in xhal devices (see log.txt)"
  finish 1
fi
item PASS "$device opens" "$(grep -A2 -E "^ +spec +$device\$" "$work/devices.txt" | grep -E '^ +name' | sed 's/^ *name *//')"
cuda=0 tiny=()
if [[ $device == cuda:* ]]; then cuda=1; else tiny=(--tiny); fi

# ---- 5. correctness ----
quick_flag=()
[[ $quick -eq 1 ]] && quick_flag=(--quick)
stage "test_cuda_gpu correctness" "$([[ $quick -eq 1 ]] && echo 60 || echo 150)" \
  "$gpu" --device "$device" "${quick_flag[@]}" --out "$results/check.txt" >"$work/check-stdout.txt"
rc=$?
counts=$(grep -E '^correctness:' "$results/check.txt" | tail -1)
if [[ $rc -eq 0 && -n $counts ]]; then
  item PASS "every GEMM + attention case on $device, every kernel path" "${counts#correctness: }"
else
  hung=$(grep '^RUN' "$work/check-stdout.txt" | tail -1)
  item FAIL "every GEMM + attention case on $device, every kernel path" \
    "${counts:-exit $rc}$([[ -z $counts && -n $hung ]] && echo "; last started: ${hung#RUN }")"
fi
grep -E '^(FAIL|ERROR)' "$results/check.txt" | head -20 | tee -a "$summary"
for op in gemm attention; do
  for path in auto simt mma sm90 gemv simple fa2 decode; do
    p=$(grep -cE "^PASS $op +$path " "$results/check.txt")
    f=$(grep -cE "^FAIL $op +$path " "$results/check.txt")
    s=$(grep -cE "^SKIP $op +$path " "$results/check.txt")
    [[ $((p + f + s)) -gt 0 ]] && say "  $op via $path: $p passed, $f failed, $s skipped"
  done
done

{ echo; echo "== xhal check --device $device =="; } >>"$results/check.txt"
stage "xhal check" 60 "$xhal" check --device "$device" "${quick_flag[@]}" >>"$results/check.txt"
rc=$?
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$results/check.txt" | tail -1)
item "$([[ $rc -eq 0 ]] && echo PASS || echo FAIL)" "xhal check --device $device" "${line:-exit $rc}"

{ echo; echo "== xhal conform --device $device --only correctness =="; } >>"$results/check.txt"
stage "xhal conform correctness" 90 "$xhal" conform --device "$device" --only correctness -q \
  --out "$work/conform-correctness" >>"$results/check.txt"
rc=$?
line=$(grep -E '^correctness:' "$results/check.txt" | tail -1)
item "$([[ $rc -eq 0 ]] && echo PASS || echo FAIL)" "every conformance case on $device (xhal conform)" "${line#correctness: }"
cp "$work/conform-correctness/report.md" "$results/conform.md" 2>/dev/null

# ---- 6. timings ----
stage "test_cuda_gpu --bench" "$([[ $quick -eq 1 ]] && echo 70 || echo 180)" \
  "${lt_env[@]}" "$gpu" --device "$device" --no-check --bench "${quick_flag[@]}" "${tiny[@]}" \
  --out "$results/bench.txt" >"$work/bench-stdout.txt"
rc=$?
while IFS=$'\t' read -r _ verdict what detail; do
  item "$verdict" "$what" "$detail"
done < <(grep $'^ITEM\t' "$results/bench.txt")
grep -E '^(FAIL|ERROR|cuBLASLt)' "$results/bench.txt" | grep -v 'needs >=' | tee -a "$summary"
if [[ $rc -ne 0 ]] && ! grep -q '^timings:' "$results/bench.txt"; then
  hung=$(grep '^RUN' "$work/bench-stdout.txt" | tail -1)
  item FAIL "timings ran to the end" "exit $rc; last started: ${hung#RUN }"
fi

# ---- 7. PyTorch on the same shapes ----
if [[ $torch_ok -eq 1 && $cuda -eq 1 ]]; then
  { echo; echo "== PyTorch (tests/cuda/torch_baseline.py) =="; } >>"$results/bench.txt"
  stage "torch baseline" "$([[ $quick -eq 1 ]] && echo 45 || echo 120)" \
    env PYTHONUNBUFFERED=1 "$python" "$root/tests/cuda/torch_baseline.py" "${quick_flag[@]}" \
    --out "$results/bench.txt" >/dev/null
  item INFO "PyTorch on the same shapes (reported, not judged)" "exit $?; see the table below"
else
  item SKIP "PyTorch on the same shapes" "no PyTorch with a CUDA device, or $device is not one"
fi
# xhal's figures beside cuBLASLt's, torch's and SDPA's, from the RESULT lines.
say ""
say "== xhal beside cuBLAS and PyTorch (median of 10 runs each, same machine) =="
awk -F'\t' '
  $1 == "RESULT" { v[$2] = $3; u[$2] = $4; if ($2 !~ /^(torch|sdpa|sdpa_[a-z]+|cublaslt)\./) keys[++n] = $2 }
  END {
    printf "%-36s %10s %10s %10s %10s %10s %10s\n", "shape", "xhal", "cuBLASLt", "torch/SDPA",
      "SDPA FA2", "SDPA cuDNN", "xhal/torch"
    for (i = 1; i <= n; i++) {
      k = keys[i]; t = (k ~ /^(prefill|decode)\./) ? "sdpa." k : "torch." k
      printf "%-36s %10s %10s %10s %10s %10s %10s  %s\n", k, v[k],
        ("cublaslt." k in v) ? v["cublaslt." k] : "-", (t in v) ? v[t] : "-",
        ("sdpa_flash." k in v) ? v["sdpa_flash." k] : "-", ("sdpa_cudnn." k in v) ? v["sdpa_cudnn." k] : "-",
        (t in v && v[t] > 0) ? sprintf("%.2f", v[k] / v[t]) : "-", u[k]
    }
  }' "$results/bench.txt" | tee -a "$summary"

# ---- 8. utilization (full run, with what is left of the budget) ----
if [[ $quick -eq 0 && $cuda -eq 1 ]]; then
  stage "xhal conform utilization" 120 "$xhal" conform --device "$device" --only utilization -q \
    --budget 0.05 --repeats 10 --out "$work/conform-utilization" >"$work/conform-utilization.txt"
  rc=$?
  if [[ -f $work/conform-utilization/report.md ]]; then
    { echo; echo "---"; echo; cat "$work/conform-utilization/report.md"; } >>"$results/conform.md"
  fi
  item "$([[ $rc -eq 0 ]] && echo INFO || echo FAIL)" "xhal conform utilization on $device (conform.md)" "exit $rc"
fi
finish 0
