#!/usr/bin/env bash
# The figures of docs/PERFORMANCE.md's all-MiniLM-L6-v2 section, in one run: the 256 sentences
# of data/bench-256.txt through minilm --bench on every device and weight dtype, and through
# the numpy reference in f32 (numpy's OpenBLAS), interleaved over ROUNDS rounds so that a noisy
# machine hurts every contender alike (take each one's best round).
#
#   examples/minilm/tools/bench.sh [BUILD_DIR] [ROUNDS] [REPEATS]     (defaults: build 2 5)
#
# Needs the venv and the model (make model). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which some
# machines set to work around old OpenBLAS builds, are unset for the numpy run alone: they would
# slow a current numpy; the BLAS line it prints names the kernels it ran.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$root/build}
rounds=${2:-2}
repeats=${3:-5}
sentences=$root/examples/minilm/data/bench-256.txt
venv=$(bash "$root/scripts/setup-python.sh" --print-venv)
devices=(cpu)
if "$build/bin/xhal" devices 2>/dev/null | grep -q "opencl:0"; then devices+=(opencl); fi

echo "minilm bench: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))," \
     "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ), commit" \
     "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
for round in $(seq 1 "$rounds"); do
  echo "=== round $round of $rounds"
  for device in "${devices[@]}"; do
    for dtype in f32 bf16; do
      "$build/bin/minilm" --bench --device "$device" --dtype "$dtype" --repeats "$repeats" \
        --file "$sentences"
    done
  done
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" \
    "$root/examples/minilm/tools/reference.py" bench --file "$sentences" --repeats "$repeats"
done
