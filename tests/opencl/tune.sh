#!/usr/bin/env bash
# `xhal tune` on the OpenCL device, with a tiny budget and quarter-size shapes:
#   1. a candidate that computes a wrong result (--test-wrong 1, test only) is rejected and
#      reported, and the search goes on and writes the device's tuned file;
#   2. a second process uses the tuned file without tuning (XHAL_LOG=info names it), and its
#      GEMMs are right;
#   3. a corrupt tuned file, then a stale one (other kernels), are reported and ignored: the
#      device runs on its shipped tuning and its GEMMs are right;
#   4. --export prints the tuned parameters as a section named like the device.
# Exits 77 (skipped) where no OpenCL device is found.
#
# usage: tune.sh <xhal tool> <scratch folder>
set -euo pipefail
xhal=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
unset XHAL_BACKENDS XHAL_DEVICE XHAL_TUNING_FILE XHAL_OPENCL_TUNING
export XDG_CACHE_HOME=$dir/cache XHAL_OPENCL_CACHE=0
if ! "$xhal" devices 2>/dev/null | grep -qE '^ +spec +opencl:0'; then
    echo "SKIP: no OpenCL device"
    exit 77
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
check_gemm() { # the quick f32 GEMM correctness cases, with the log of the device's open
    XHAL_LOG=info "$xhal" check --quick --device opencl:0 --op gemm --dtype f32 > "$1" 2>&1 ||
        { cat "$1"; fail "xhal check failed ($1)"; }
    grep -qE ' 0 failed' "$1" || { cat "$1"; fail "a GEMM case failed ($1)"; }
}

# 1. The search, with candidate 1 made wrong.
"$xhal" tune --device opencl:0 --op gemm --quick --budget 8 --seed 3 --test-wrong 1 -q \
    > "$dir/tune.log" 2>&1 || { cat "$dir/tune.log"; fail "xhal tune failed"; }
cat "$dir/tune.log"
grep -qE '^ +1 .*REJECTED: wrong result' "$dir/tune.log" || fail "candidate 1 was not rejected"
grep -qE '\(1 rejected as wrong' "$dir/tune.log" || fail "the summary does not count it"
! grep -q 'baseline.*wrong result' "$dir/tune.log" || fail "the shipped tuning was found wrong"
tuned=$(sed -n 's/^written to \(.*\.ini\) (.*/\1/p' "$dir/tune.log")
[ -f "$tuned" ] || fail "no tuned file written ($tuned)"
case $tuned in "$XDG_CACHE_HOME"/xhal/tuning/opencl-*) ;; *) fail "tuned file outside the cache";; esac
grep -q '^\[xhal-tuning\]' "$tuned" && grep -q '^kernels = ' "$tuned" || fail "no header in $tuned"

# 2. A second process: the tuned file is used (and named), no tuning runs, results are right.
check_gemm "$dir/second.log"
grep -q "tuned parameters from $tuned" "$dir/second.log" || { cat "$dir/second.log"; fail "not used"; }
"$xhal" devices | grep -qE "^ +tuning +tuned: $tuned" || fail "xhal devices does not say so"

# 4. --export (before the file is damaged).
"$xhal" tune --device opencl:0 --export > "$dir/export.ini" || fail "--export failed"
grep -qE '^\[.+\]$' "$dir/export.ini" || fail "--export printed no section"

# 3. Corrupt, then stale: reported, ignored, right results on the shipped tuning.
cp "$tuned" "$dir/good.ini"
printf '[xhal-tuning\ngemm_vw = 5\n' > "$tuned"
check_gemm "$dir/corrupt.log"
grep -q "tuned file $tuned ignored: .*line 1" "$dir/corrupt.log" || { cat "$dir/corrupt.log"; fail "corrupt file not reported"; }
"$xhal" devices | grep -qE '^ +tuning +shipped: .*; tuned file .* ignored: ' || fail "a corrupt file is in force, or not reported"
sed 's/^kernels = .*/kernels = 0000000000000000/' "$dir/good.ini" > "$tuned"
check_gemm "$dir/stale.log"
grep -q "tuned file $tuned ignored: stale: " "$dir/stale.log" || { cat "$dir/stale.log"; fail "stale file not reported"; }
echo "PASS"
