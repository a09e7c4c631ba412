/*
 * The CPU attention engine: FlashAttention-style tiling with a streaming softmax, on f32
 * scratch, with a microkernel per ISA (attention_ukernel.h) chosen at run time.
 *
 * The caller (backends/cpu/cpu_attention.c) resolves the batch into sequences (xk_att_seq_t:
 * where each sequence's queries and keys are, with every device-resident index already
 * clamped), asks for a plan, allocates the scratch it says, and runs `tasks` calls of
 * xk_attention_run on its threads, then `combine_tasks` calls of xk_attention_combine. Each
 * sequence gets tasks of one of two kinds:
 *
 *  - prefill (more than XK_ATT_DECODE_MAX_SEQ queries): one task per (KV head, block of query
 *    positions). The task's rows are the positions of the block for every query head of the KV
 *    group, so each K/V tile is read (and converted) once per group. Tiles of keys no row of the
 *    block sees (causal, window) are never visited; tiles some rows see only in part are
 *    masked.
 *  - decode (up to XK_ATT_DECODE_MAX_SEQ queries): one task per (block of KV heads, split of the
 *    keys the rows see), each leaving a partial (max, sum, unnormalized O) per row when the keys
 *    are split; the combine pass merges the splits of each (sequence, KV head) with a
 *    log-sum-exp rescale and writes O. When the heads of a position lie next to each other
 *    (BSHD), a task walks a block of heads chunk by chunk, so that it streams through contiguous
 *    memory rather than one row in each page.
 *
 * Tasks of all sequences go into one list, the costliest first, so that a long prefill or a long
 * decode of a mixed batch starts early and short ones fill the gaps at the end.
 */
#ifndef XHAL_KERNELS_CPU_ATTENTION_KERNEL_H
#define XHAL_KERNELS_CPU_ATTENTION_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal.h"

#define XK_ATT_DECODE_MAX_SEQ 16

/*
 * One sequence of the batch, as the caller resolved it. Offsets count elements of the tensors;
 * row (head h, query i) of Q is at q + h * q_strides.head + i * q_strides.seq, and likewise O.
 */
typedef struct xk_att_seq {
    int64_t q, o;          /* the sequence's first query row (head 0) in Q and in O */
    int64_t lse;           /* element of (head 0, query 0) in the LSE; heads lse_head apart */
    int64_t len_q, len_kv; /* queries, keys (both already clamped to what the tensors hold) */
    int64_t k, v;          /* dense K/V: key 0 (head 0) of the sequence */
    const int32_t *blocks; /* paged K/V: the sequence's block-table row; NULL when dense */
} xk_att_seq_t;

/* An attention the core validated; strides in elements, scale already resolved (never 0). */
typedef struct xk_attention_problem {
    int64_t batch, heads_q, heads_kv, head_dim;
    xhal_dtype_t dtype;
    int causal;
    float scale;
    int64_t window;        /* sliding window in keys; 0: none */
    float softcap;         /* 0: none */
    const void *q, *k, *v; /* the first element of each tensor */
    void *o;
    float *lse;       /* NULL: none */
    int64_t lse_head; /* elements between heads of the LSE */
    /* Paged K/V: key t of a sequence is token t % block_size of block blocks[t / block_size]
     * (clamped to 0 .. num_blocks - 1), blocks k_strides.batch elements apart. */
    int64_t block_size, num_blocks;
    xhal_attention_strides_t q_strides, k_strides, v_strides, o_strides;
    const xk_att_seq_t *seqs; /* batch of them */
} xk_attention_problem_t;

/* One task of the plan. */
typedef struct xk_att_task {
    int64_t seq;  /* the sequence */
    int64_t unit; /* prefill: KV head; decode: block of KV heads */
    int64_t part; /* prefill: block of query positions; decode: split of the keys */
    double cost;  /* estimated work, for the order */
} xk_att_task_t;

/* How a sequence is cut into tasks. */
typedef struct xk_att_seq_plan {
    int decode;         /* decode tasks, else prefill */
    int64_t k0, k1;     /* keys [k0, k1) some row of the sequence sees */
    int64_t positions;  /* prefill: query positions per task */
    int64_t splits;     /* decode: splits of [k0, k1) */
    int64_t split_keys; /* decode: keys per split (a multiple of the chunk) */
    size_t partial;     /* decode with splits: the sequence's first float in the partials */
} xk_att_seq_plan_t;

typedef struct xk_attention_plan {
    int64_t group;            /* query heads per KV head */
    int64_t head_block;       /* decode: KV heads one task walks together */
    int64_t chunk;            /* decode: keys per step (16, 32 or 64: divides XK_ATT_CHUNK) */
    xk_att_seq_plan_t *seqs;  /* batch of them (malloc'ed) */
    xk_att_task_t *task_list; /* tasks of them (malloc'ed), in the order to run */
    size_t tasks;             /* calls of xk_attention_run */
    int64_t *combine_list;    /* (sequence, KV head) pairs to combine, 2 per task (malloc'ed) */
    size_t combine_tasks;     /* calls of xk_attention_combine afterwards (0: none) */
    size_t scratch_floats;    /* per thread, 64-byte aligned, for every kind of call */
    size_t partial_floats;    /* shared by all tasks (decode with splits), else 0 */
    int64_t max_decode_rows;  /* decode: rows (group x queries) of the largest sequence */
} xk_attention_plan_t;

/* Which microkernels run here: "avx512", "avx2" or "generic" (XHAL_CPU_ISA can force one). */
const char *xk_attention_isa(void);

/* Plans the tasks for `threads` threads; 0, or -1 when memory for the lists ran out. */
int xk_attention_plan(const xk_attention_problem_t *p, size_t threads, xk_attention_plan_t *out);
void xk_attention_plan_free(xk_attention_plan_t *plan);

/* Task `task` of the plan, on `scratch` (plan->scratch_floats, 64-byte aligned). */
void xk_attention_run(const xk_attention_problem_t *p, const xk_attention_plan_t *plan, size_t task,
                      float *scratch, float *partial);

/* After every xk_attention_run: merges the splits of combine pair number `task`. */
void xk_attention_combine(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                          size_t task, float *scratch, const float *partial);

#endif
