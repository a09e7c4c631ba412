#!/usr/bin/env bash
# CI for scripts/gpu-check.sh (`make test` runs it): proves, on a machine without a GPU, that the
# GPU check configures and builds where the lent GPU machines' image has no cmocka and no
# pkg-config, and that its no-GPU path ends cleanly.
#
#   tests/cuda/ci_gpu_check.sh BUILD GPU_BUILD
#
# BUILD is the unit-test build (its two fatbins are reused: nvcc on 2 cores takes minutes, and the
# same nvcc command built them there); GPU_BUILD the reduced build's folder. What it hides:
#   - pkg-config: a pkg-config first in PATH that fails, PKG_CONFIG_EXECUTABLE pointing at it, and
#     CMAKE_DISABLE_FIND_PACKAGE_PkgConfig (a REQUIRED find_package of it stops the configure);
#   - cmocka: a cmocka.h first in the include path that stops the compiler with #error.
# Then scripts/gpu-check.sh --quick must build, reduce the SASS when a cuobjdump is found, and
# exit 3 saying "no GPU"; the built program must not link cmocka; and the script's later stages
# must run through on cpu:0 (--device cpu:0), its correctness harness passing there. Exits 0
# when all of that held, 1 otherwise. About 10 s beyond the reduced build.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$1 gbuild=$2
[[ $build = /* ]] || build=$PWD/$build
[[ $gbuild = /* ]] || gbuild=$PWD/$gbuild
shown=""
fail() {
  [[ -n $shown ]] && cat "$shown"
  echo "ci-gpu-check: FAIL: $*"
  exit 1
}

if ! command -v nvcc >/dev/null 2>&1 && [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
  echo "ci-gpu-check: skipped: no nvcc on this machine (the GPU check builds the CUDA plugin)"
  exit 0
fi

hidden=$gbuild/hidden
mkdir -p "$hidden/bin" "$hidden/include" "$gbuild/backends/cuda" || fail "cannot create $gbuild"
printf '#!/bin/sh\necho "pkg-config is hidden: the GPU image has none" >&2\nexit 1\n' \
  >"$hidden/bin/pkg-config"
chmod +x "$hidden/bin/pkg-config"
printf '#error "cmocka is hidden: the GPU image has none, and the GPU check must not need it"\n' \
  >"$hidden/include/cmocka.h"

# The unit-test build's fatbins, when they are newer than every kernel source (else the reduced
# build compiles them itself). cp -p keeps their times, so make sees them as up to date.
for f in xk_gpu.fatbin xk_sm90.fatbin; do
  src=$build/backends/cuda/$f
  [[ -f $src ]] || continue
  if [[ -z $(find "$root/kernels/gpu" "$root/kernels/cuda" -newer "$src" -print -quit) ]]; then
    cp -p "$src" "$gbuild/backends/cuda/$f"
  fi
done

results=$gbuild/gpu-check
out=$gbuild/ci-gpu-check.log
# Unix Makefiles, whose up-to-date test is the files' times (ninja would rebuild the copied
# fatbins: their commands are not in its log).
PATH=$hidden/bin:$PATH CMAKE_GENERATOR="Unix Makefiles" bash "$root/scripts/gpu-check.sh" \
  --quick --build "$gbuild" --results "$results" --budget 1500 --jobs "${JOBS:-2}" \
  --cmake-flags "-DXHAL_WERROR=ON -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON -DPKG_CONFIG_EXECUTABLE=$hidden/bin/pkg-config -DCMAKE_C_FLAGS=-I$hidden/include" \
  >"$out" 2>&1
rc=$?
shown=$out
[[ $rc -eq 3 ]] || fail "scripts/gpu-check.sh exited $rc, not 3 (no GPU); see $out and $results/log.txt"
grep -q '^gpu-check: no GPU' "$out" || fail "the script did not say \"no GPU\""
grep -q '^PASS build' "$out" || fail "the reduced build did not pass"
grep -q 'BUILD_TESTING:BOOL=OFF' "$gbuild/CMakeCache.txt" || fail "the reduced build configured the unit tests"
# A cuobjdump (toolkit or pip) makes the SASS stage run; then it must have passed.
if grep -q '^tools: cuobjdump /' "$out"; then
  grep -q '^PASS SASS' "$out" || fail "the SASS check did not pass"
fi
count=$(find "$results" -mindepth 1 -maxdepth 1 | wc -l)
[[ $count -le 8 ]] || fail "$results holds $count entries; 8 come back from a GPU machine"
big=$(find "$results" -type f -size +15M)
[[ -z $big ]] || fail "result files over 15 MiB: $big"
if ldd "$gbuild/tests/test_cuda_gpu" | grep -q cmocka; then
  fail "test_cuda_gpu links cmocka"
fi

# The stages after the device, on cpu:0: the correctness harness must pass there (a known-good
# backend), and the timings (at sizes / 16), their items and the figures' table must come out.
# Their verdicts mean nothing on a CPU (no cuBLASLt; the goals are an H100's), so the script's
# status is 1 here; each line that must be there is checked instead.
cpu_results=$gbuild/cpu-check
bash "$root/scripts/gpu-check.sh" --quick --skip-build --device cpu:0 --build "$gbuild" \
  --results "$cpu_results" --budget 600 >"$gbuild/ci-gpu-check-cpu.log" 2>&1
rc=$?
shown=$gbuild/ci-gpu-check-cpu.log
[[ $rc -le 1 ]] || fail "scripts/gpu-check.sh --device cpu:0 exited $rc"
for want in '^PASS every GEMM \+ attention case on cpu:0' '^PASS xhal check --device cpu:0' \
            '^PASS every conformance case on cpu:0' '^(PASS|FAIL) gemm bf16 512x512x512 vs cuBLASLt' \
            '^(PASS|FAIL) gemv m=1 256x896' '^(PASS|FAIL) attention prefill b4 h4 s256 d128 causal' \
            '^(PASS|FAIL) attention decode b2 hq32 hkv8 kv512' '^decode\.b2\.hq32\.hkv8\.kv512\.d128 '; do
  grep -qE "$want" "$gbuild/ci-gpu-check-cpu.log" || fail "no line matching /$want/ from the cpu:0 run"
done
! grep -q 'stopped at its limit' "$gbuild/ci-gpu-check-cpu.log" || fail "a stage of the cpu:0 run was stopped"
count=$(find "$cpu_results" -mindepth 1 -maxdepth 1 | wc -l)
[[ $count -le 8 ]] || fail "$cpu_results holds $count entries"
grep -E '^(PASS|SKIP) (build|SASS)|^gpu-check: no GPU' "$out" | awk '!seen[$0]++' |
  sed 's/^/ci-gpu-check: /'
grep -E '^PASS (every|xhal)' "$gbuild/ci-gpu-check-cpu.log" | awk '!seen[$0]++' |
  sed 's/^/ci-gpu-check: cpu:0: /'
echo "ci-gpu-check: the GPU check builds without cmocka and pkg-config, says \"no GPU\" here, and" \
  "runs its later stages through on cpu:0 (logs: $out, $gbuild/ci-gpu-check-cpu.log)"
