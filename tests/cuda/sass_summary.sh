#!/usr/bin/env bash
# Reduces the SASS of CUDA fatbins to one line per kernel and architecture: the resources
# (registers, stack, local memory, static shared memory) and the count of the instructions that
# say which path a kernel is on, then its 8 most frequent opcodes. The full disassembly of the
# kernels is about 150 MB; this table is a few hundred lines.
#
#   tests/cuda/sass_summary.sh CUOBJDUMP FATBIN...
#
# Columns: HGMMA (wgmma: Hopper tensor cores), HMMA (mma.sync tensor cores), UTMALDG/UTMASTG (TMA
# loads and stores), LDGSTS (cp.async), LDGDEPBAR, LDG/STG (global), LDS/STS/LDSM/STSM (shared),
# LDL/STL (local memory: spills or an array indexed at run time), BAR, SYNCS (mbarrier),
# WARPGROUP (wgmma fences and arrives), FFMA, MUFU (exp2 and friends); insts counts every
# instruction. Needs only cuobjdump (and the nvdisasm it calls) and awk.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 CUOBJDUMP FATBIN..." >&2
  exit 2
fi
cuobjdump=$1
shift
columns="HGMMA HMMA UTMALDG UTMASTG LDGSTS LDGDEPBAR LDG STG LDS STS LDSM STSM LDL STL BAR SYNCS WARPGROUP FFMA MUFU"
for fatbin in "$@"; do
  echo "# $(basename "$fatbin")"
  # One awk pass over the resource report, then the SASS: "arch = ..." starts each cubin in
  # both; "Function : NAME" (SASS) and "Function NAME:" (resources) start each kernel.
  {
    "$cuobjdump" -res-usage "$fatbin" | sed 's/^/R /'
    "$cuobjdump" -sass "$fatbin" | sed 's/^/S /'
  } | awk -v columns="$columns" '
    BEGIN { ncol = split(columns, col, " ") }
    $2 == "arch" && $3 == "=" { arch = $4; next }
    $1 == "R" && $2 == "Function" {
      name = $3; sub(/:$/, "", name); key = arch SUBSEP name; next
    }
    $1 == "R" && $2 ~ /^REG:/ {
      for (i = 2; i <= NF; i++) { split($i, kv, ":"); res[key, kv[1]] = kv[2] }
      next
    }
    $1 == "S" && $2 == "Function" && $3 == ":" {
      name = $4; key = arch SUBSEP name
      if (!(key in seen)) { seen[key] = 1; order[++nkeys] = key }
      next
    }
    $1 == "S" && $2 ~ /^\/\*[0-9a-f]+\*\/$/ {
      op = $3
      if (op ~ /^@/) op = $4            # a predicate guards it
      sub(/[ ;].*$/, "", op); split(op, parts, "."); op = parts[1]
      if (op == "") next
      n[key]++; count[key, op]++
      if (!((key, op) in listed)) { listed[key, op] = 1; ops[key] = ops[key] " " op }
    }
    END {
      printf "%-7s %-44s %4s %5s %5s %6s %6s", "arch", "kernel", "regs", "stack", "local", "shared", "insts"
      for (c = 1; c <= ncol; c++) printf " %s", col[c]
      printf "  top opcodes\n"
      for (i = 1; i <= nkeys; i++) {
        key = order[i]; split(key, kp, SUBSEP)
        printf "%-7s %-44s %4s %5s %5s %6s %6d", kp[1], kp[2], \
          ((key, "REG") in res) ? res[key, "REG"] : "?", ((key, "STACK") in res) ? res[key, "STACK"] : "?", \
          ((key, "LOCAL") in res) ? res[key, "LOCAL"] : "?", ((key, "SHARED") in res) ? res[key, "SHARED"] : "?", n[key]
        for (c = 1; c <= ncol; c++) printf " %" length(col[c]) "d", count[key, col[c]]
        # The 8 most frequent opcodes, by selection (mawk has no sort).
        m = split(ops[key], names, " "); delete used; top = ""
        for (t = 1; t <= 8 && t <= m; t++) {
          best = ""
          for (j = 1; j <= m; j++)
            if (!(names[j] in used) && (best == "" || count[key, names[j]] > count[key, best])) best = names[j]
          used[best] = 1; top = top " " best ":" count[key, best]
        }
        printf " %s\n", top
      }
    }'
done
