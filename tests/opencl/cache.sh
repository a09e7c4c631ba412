#!/usr/bin/env bash
# The program binary cache: a first process with an empty cache builds the OpenCL programs from
# source and saves them ("cache miss"); a second process loads them ("cache hit") and builds
# nothing. Exits 77 (skipped) where no OpenCL device is found.
#
# usage: cache.sh <xhal tool> <scratch folder>
set -euo pipefail
xhal=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
unset XHAL_BACKENDS XHAL_DEVICE
export XHAL_OPENCL_CACHE=$dir XHAL_LOG=info

if ! "$xhal" devices 2>/dev/null | grep -qE '^ +spec +opencl:0'; then
    echo "SKIP: no OpenCL device"
    exit 77
fi
run() {
    "$xhal" check --quick --dtype f32 --device opencl:0 2>&1 | tee "$dir/$1.log" | grep -E 'program|failed|refused'
}
echo "== first process (empty cache)"
run first
grep -q 'program gemm .*cache miss' "$dir/first.log" || { echo "FAIL: no cache miss" >&2; exit 1; }
ls -l "$dir"
[[ $(find "$dir" -name 'gemm-*.bin' | wc -l) -eq 1 ]] || { echo "FAIL: no gemm entry" >&2; exit 1; }
[[ $(find "$dir" -name 'attention-*.bin' | wc -l) -eq 1 ]] || { echo "FAIL: no attention entry" >&2; exit 1; }
echo "== second process"
run second
for program in gemm attention; do
    grep -q "program $program .*cache hit" "$dir/second.log" || {
        echo "FAIL: the second process did not load $program from the cache" >&2
        exit 1
    }
done
if grep -q 'cache miss\|built from source' "$dir/second.log"; then
    echo "FAIL: the second process rebuilt a program" >&2
    exit 1
fi
grep -q ' 0 failed' "$dir/second.log" || { echo "FAIL: a check failed" >&2; exit 1; }
echo "== a corrupt entry is rebuilt, not trusted"
for f in "$dir"/gemm-*.bin; do printf 'garbage' >"$f"; done
run third
grep -q 'program gemm .*cache miss' "$dir/third.log" || { echo "FAIL: no rebuild" >&2; exit 1; }
grep -q ' 0 failed' "$dir/third.log" || { echo "FAIL: a check failed" >&2; exit 1; }
# Issue 14, defect 1: a valid header over damaged bytes went to the runtime, and PoCL crashed
# in this process and every later one. The checksum refuses it; the entry is rebuilt.
echo "== an entry with a valid header and damaged bytes is refused, removed and rebuilt"
for f in "$dir"/attention-*.bin; do
    size=$(stat -c %s "$f")
    for offset in 100 $((size / 2)) $((size - 1)); do
        printf '\xff' | dd of="$f" bs=1 seek="$offset" conv=notrunc status=none
    done
done
run fourth
grep -q 'attention-.*refused: its checksum does not match' "$dir/fourth.log" ||
    { echo "FAIL: the damaged entry was not refused" >&2; exit 1; }
grep -q 'program attention .*cache miss' "$dir/fourth.log" || { echo "FAIL: no rebuild" >&2; exit 1; }
grep -q ' 0 failed' "$dir/fourth.log" || { echo "FAIL: a check failed" >&2; exit 1; }
run fifth
grep -q 'program attention .*cache hit' "$dir/fifth.log" ||
    { echo "FAIL: the rebuilt entry was not saved" >&2; exit 1; }
if ls "$dir" | grep -vqE '^(gemm|attention|attention_merge)-[0-9a-f]{32}\.bin$|\.log$'; then
    echo "FAIL: files other than entries were left in the cache:" >&2
    ls "$dir" >&2
    exit 1
fi
echo "PASS"
