/*
 * The CPU attention engine: FlashAttention-style tiling with a streaming softmax, on f32
 * scratch, with a microkernel per ISA (attention_ukernel.h) chosen at run time.
 *
 * The caller (backends/cpu/cpu_attention.c) asks for a plan, allocates what it says, and runs
 * `tasks` calls of xk_attention_run on its threads, then `combine_tasks` calls of
 * xk_attention_combine when the plan split the keys. Two kinds of plan:
 *
 *  - prefill: one task per (batch, KV head, block of query positions). The task's rows are the
 *    positions of the block for every query head of the KV group, so each K/V tile is read (and
 *    converted) once per group. Tiles of keys a causal block cannot see are never visited;
 *    tiles it sees only in part are masked. Heaviest tasks (the last positions) run first.
 *  - decode (seq_q <= XK_ATT_DECODE_MAX_SEQ): one task per (batch, block of KV heads, split of
 *    the keys), each leaving a partial (max, sum, unnormalized O) per row; the combine pass
 *    merges the splits of each (batch, KV head) with a log-sum-exp rescale and writes O. When
 *    the heads of a position lie next to each other (BSHD), a task walks a block of heads chunk
 *    by chunk, so that it streams through contiguous memory rather than one row in each page.
 */
#ifndef XHAL_KERNELS_CPU_ATTENTION_KERNEL_H
#define XHAL_KERNELS_CPU_ATTENTION_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal.h"

#define XK_ATT_DECODE_MAX_SEQ 16

/* An attention the core validated; strides in elements, scale already resolved (never 0). */
typedef struct xk_attention_problem {
    int64_t batch, heads_q, heads_kv, seq_q, seq_kv, head_dim;
    xhal_dtype_t dtype;
    int causal;
    float scale;
    const void *q, *k, *v; /* the first element of each tensor */
    void *o;
    xhal_attention_strides_t q_strides, k_strides, v_strides, o_strides;
} xk_attention_problem_t;

typedef struct xk_attention_plan {
    int decode;            /* split-KV decode kernel, else prefill tiles */
    int64_t group;         /* query heads per KV head */
    int64_t positions;     /* prefill: query positions per task */
    int64_t blocks;        /* prefill: position blocks per (batch, KV head) */
    int64_t splits;        /* decode: splits of the keys per (batch, KV head) */
    int64_t head_block;    /* decode: KV heads one task walks together */
    int64_t split_keys;    /* decode: keys per split (a multiple of the chunk) */
    size_t tasks;          /* calls of xk_attention_run */
    size_t combine_tasks;  /* calls of xk_attention_combine afterwards (0: none) */
    size_t scratch_floats; /* per thread, 64-byte aligned, for both kinds of call */
    size_t partial_floats; /* shared by all tasks (decode with splits), else 0 */
} xk_attention_plan_t;

/* Which microkernels run here: "avx512", "avx2" or "generic" (XHAL_CPU_ISA can force one). */
const char *xk_attention_isa(void);

void xk_attention_plan(const xk_attention_problem_t *p, size_t threads, xk_attention_plan_t *out);

/* Task `task` of the plan, on `scratch` (plan->scratch_floats, 64-byte aligned). */
void xk_attention_run(const xk_attention_problem_t *p, const xk_attention_plan_t *plan, size_t task,
                      float *scratch, float *partial);

/* After every xk_attention_run: merges the splits of (batch, KV head) number `task`. */
void xk_attention_combine(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                          size_t task, float *scratch, const float *partial);

#endif
