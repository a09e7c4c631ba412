#!/usr/bin/env bash
# Installs the Debian packages xhal's build and tests need, and only those that are missing.
# Idempotent: a second run installs nothing. Says what it installs and why.
set -euo pipefail

# package -> what needs it
packages=(
  "gcc:the C compiler"
  "make:the top-level Makefile"
  "cmake:the build"
  "pkgconf:finding cmocka, and the xhal.pc install test"
  "libcmocka-dev:the unit tests"
  "valgrind:the leak check of the test binaries"
  "python3:the conformance tests: an XML parser checks the SVG charts, a JSON parser the reports"
  "python3-venv:scripts/setup-python.sh makes the project's venv (examples/minilm's tests)"
  "clang-14:the libFuzzer and ThreadSanitizer stages of make test (docs/RELIABILITY.md)"
  "libclang-rt-14-dev:libFuzzer and the sanitizer runtimes of those clang builds"
  "opencl-headers:building the OpenCL backend (CL/cl.h)"
  "ocl-icd-opencl-dev:the OpenCL ICD loader (libOpenCL.so.1), which the OpenCL backend dlopens"
  "pocl-opencl-icd:an OpenCL driver for the CPU, so the OpenCL backend's tests run for real"
  "clang-15:compiling the OpenCL C kernels to SPIR-V (cmake/xhal_spirv.cmake)"
  "llvm-spirv-15:translating those kernels' LLVM IR to SPIR-V"
  "spirv-tools:spirv-val, which validates every SPIR-V module in the build"
  "libze-dev:building the Level Zero backend (level_zero/ze_api.h)"
  "libze1:the Level Zero loader (libze_loader.so.1), which the Level Zero backend dlopens"
  "clinfo:nothing required; shows what the OpenCL platforms and devices are"
  "libclblast1:nothing required; the baseline of xhal bench --vs clblast"
  "libopenblas0:nothing required; the baseline of xhal bench --vs openblas"
  "hipcc:building the HIP backend's code objects (ROCm 5.2's hipcc and clang 15; ~185 MB with libamdhip64-dev)"
  "libamdhip64-dev:the HIP runtime (libamdhip64.so.5, with hiprtc), which the HIP backend dlopens and its tests load"
)
if [[ -n "${XHAL_EXTRA_PACKAGES:-}" ]]; then
  for p in ${XHAL_EXTRA_PACKAGES}; do packages+=("$p:XHAL_EXTRA_PACKAGES"); done
fi

missing=()
for entry in "${packages[@]}"; do
  name=${entry%%:*}
  if ! dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$name")
    echo "install-deps: missing $name (for ${entry#*:})"
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: every package is installed"
  exit 0
fi

run_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else
    echo "install-deps: need root to install: ${missing[*]}" >&2
    echo "install-deps: run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# An install from a stale or empty package list fails; refresh it once, then install.
if ! run_root apt-get install -y --no-install-recommends "${missing[@]}"; then
  run_root apt-get update -qq
  run_root apt-get install -y --no-install-recommends "${missing[@]}"
fi
echo "install-deps: done"
