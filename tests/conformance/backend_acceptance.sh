#!/usr/bin/env bash
# The acceptance test of a backend (xhal_backend_acceptance() in cmake/xhal_backend.cmake):
# `xhal conform --device <backend>` with the backend's expected failures. Exits 77 (skipped)
# where the backend has no device here.
#
# usage: backend_acceptance.sh <xhal> <backend> <expected.ini or ""> <report dir> <nothing_runs>
#                              [conform option...]
set -euo pipefail
xhal=$1 backend=$2 expected=$3 out=$4 nothing_runs=$5
shift 5

if ! "$xhal" devices | grep -qE "^ +spec +$backend:[0-9]"; then
    "$xhal" devices | grep -E "^ +$backend " || true
    echo "SKIP: no $backend device here"
    exit 77
fi
args=(conform --device "$backend" --out "$out" -v "$@")
[[ -n $expected ]] && args+=(--expected "$expected")
echo "+ xhal ${args[*]}"
status=0
"$xhal" "${args[@]}" | tee "$out.log" || status=$?
[[ $status -eq 0 ]] || { echo "FAIL: xhal conform exited $status" >&2; exit 1; }
if [[ $nothing_runs == TRUE || $nothing_runs == ON || $nothing_runs == 1 ]]; then
    # A skeleton: every case SKIP, each with its reason; nothing passes, fails or is measured.
    grep -qE '^correctness: 0 passed, 0 failed, [1-9][0-9]* skipped' "$out.log" ||
        { echo "FAIL: a correctness case did not SKIP" >&2; exit 1; }
    grep -qE '^utilization: 0 measured, [1-9][0-9]* not run, 0 failed' "$out.log" ||
        { echo "FAIL: a utilization case was measured or failed" >&2; exit 1; }
    if grep -qE '^  (PASS|FAIL|XFAIL|XPASS) ' "$out.log"; then
        echo "FAIL: a case did not SKIP" >&2
        exit 1
    fi
    if grep -E '^  SKIP ' "$out.log" | grep -qE '(: | )$'; then
        echo "FAIL: a case was skipped without a reason" >&2
        exit 1
    fi
fi
echo "PASS: $backend accepted"
