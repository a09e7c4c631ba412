#!/usr/bin/env bash
# The acceptance test of a backend (xhal_backend_acceptance() in cmake/xhal_backend.cmake):
# `xhal conform --device <backend>` with the backend's expected failures. Exits 77 (skipped)
# where the backend has no device here. Only bash builtins besides the two xhal runs: the
# valgrind stage traces every child process, and each costs seconds there.
#
# usage: backend_acceptance.sh <xhal> <backend> <expected.ini or ""> <report dir> <nothing_runs>
#                              [conform option...]
set -uo pipefail
xhal=$1 backend=$2 expected=$3 out=$4 nothing_runs=$5
shift 5

"$xhal" devices >"$out.devices" || { echo "FAIL: xhal devices exited $?" >&2; exit 1; }
mapfile -t devices <"$out.devices"
found=0
for line in "${devices[@]}"; do
    [[ $line =~ ^\ +spec\ +$backend:[0-9] ]] && found=1
done
if [[ $found == 0 ]]; then
    printf '%s\n' "${devices[@]}"
    echo "SKIP: no $backend device here"
    exit 77
fi

args=(conform --device "$backend" --out "$out" -v "$@")
[[ -n $expected ]] && args+=(--expected "$expected")
echo "+ xhal ${args[*]}"
"$xhal" "${args[@]}" >"$out.log"
status=$?
mapfile -t log <"$out.log"
printf '%s\n' "${log[@]}"
[[ $status == 0 ]] || { echo "FAIL: xhal conform exited $status" >&2; exit 1; }

case $nothing_runs in TRUE | ON | 1) ;; *)
    echo "PASS: $backend accepted"
    exit 0
    ;;
esac
# A skeleton: every case SKIP, each with its reason; nothing passes, fails or is measured.
skips=0 problems=0
for line in "${log[@]}"; do
    if [[ $line =~ ^correctness:\ 0\ passed,\ 0\ failed,\ [1-9][0-9]*\ skipped ]]; then
        skips=$((skips + 1))
    elif [[ $line =~ ^utilization:\ 0\ measured,\ [1-9][0-9]*\ not\ run,\ 0\ failed ]]; then
        skips=$((skips + 1))
    elif [[ $line =~ ^\ \ (PASS|FAIL|XFAIL|XPASS)\  ]]; then
        echo "FAIL: a case did not SKIP: $line" >&2
        problems=$((problems + 1))
    elif [[ $line =~ ^\ \ SKIP\  && $line =~ (:|\ )$ ]]; then
        echo "FAIL: a case was skipped without a reason: $line" >&2
        problems=$((problems + 1))
    fi
done
[[ $skips == 2 ]] || { echo "FAIL: not every correctness and utilization case was skipped" >&2; exit 1; }
[[ $problems == 0 ]] || exit 1
echo "PASS: $backend accepted: every case skipped, with its reason"
