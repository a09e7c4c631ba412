#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time and reports what it did.
#
# usage: run_fuzz.sh <target> <seed corpus (read only)> <work corpus> <seconds> [libFuzzer flags]
#
# New inputs go to the work corpus, never to the committed seeds; a crash, a leak, a timeout
# (10 s per input) or an out-of-memory leaves its input in <work>/../../artifacts-<target>/
# (crash-*, leak-*, timeout-*, oom-*) and fails the run. XHAL_FUZZ_SECONDS overrides <seconds>;
# XHAL_FUZZ_SHARE (percent, set per target by CMakeLists.txt) runs that part of it.
# Prints "fuzz <target>: N executions in S s, corpus K inputs" for docs/RELIABILITY.md, and
# leaves it in <work>/../../<target>.summary.
set -uo pipefail
target=$1
seeds=$2
work=$3
seconds=${XHAL_FUZZ_SECONDS:-$4}
seconds=$(( seconds * ${XHAL_FUZZ_SHARE:-100} / 100 ))
(( seconds >= 1 )) || seconds=1
shift 4
name=$(basename "$target")
mkdir -p "$work"
# Logs, summaries and artifacts beside the corpora: <build>/fuzz/ for <build>/fuzz/corpus/<t>.
out=$(dirname "$(dirname "$work")")
artifacts=$out/artifacts-$name/
mkdir -p "$artifacts"

# LeakSanitizer needs ptrace, which some containers refuse: then leaks are left to valgrind.
leaks=1
if "$target" -runs=0 "$seeds" 2>&1 | grep -q 'LeakSanitizer has encountered a fatal error'; then
    echo "run_fuzz: LeakSanitizer cannot run here (ptrace refused); leak detection off"
    leaks=0
fi
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=$leaks:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

log=$out/$name.log
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 -malloc_limit_mb=3072 \
    -print_final_stats=1 -artifact_prefix="$artifacts" -detect_leaks=$leaks "$@" \
    "$work" "$seeds" > "$log" 2>&1
status=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
corpus=$(find "$work" -type f | wc -l)
if [[ $status -ne 0 ]]; then
    tail -60 "$log"
    echo "fuzz $name: FAILED (exit $status) after ${runs:-?} executions; inputs in $artifacts"
    exit 1
fi
summary="fuzz $name: ${runs:-?} executions in $seconds s, corpus $corpus inputs (+ seeds $(find "$seeds" -type f | wc -l))"
echo "$summary" | tee "$out/$name.summary"
