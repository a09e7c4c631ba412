/*
 * What the attention engine's files share (see attention_kernel.h):
 *   attention_plan.c    which kind of tasks each sequence gets, their list and order, scratch
 *   attention_driver.c  masks, Q in and O/LSE out, K/V addressing (dense or paged), prefill
 *   attention_decode.c  decode tasks and the combine of their splits
 */
#ifndef XHAL_KERNELS_CPU_ATTENTION_INTERNAL_H
#define XHAL_KERNELS_CPU_ATTENTION_INTERNAL_H

#include "attention_kernel.h"
#include "attention_ukernel.h"

/* Keys per prefill tile: a tile's scores (TILE x lanes) and K and V rows stay in L1/L2. */
#define XK_ATT_TILE 64
/* Query rows (positions x heads of a group) a prefill task aims for: K and V tiles are read
 * once per this many rows, and the causal diagonal wastes at most half a tile per task. */
#define XK_ATT_LANES_TARGET 64
/* Keys per decode chunk. */
#define XK_ATT_CHUNK 64

/* The microkernels of the ISA in use (isa.h), or the next one down this compiler built. */
const xk_att_ukernel_t *xk_att_ukernel(void);

static inline int64_t xk_min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static inline int64_t xk_max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

static inline size_t xk_round16(size_t n) {
    return (n + 15) / 16 * 16;
}

/* Keys [*lo, *hi) query i of sequence `s` sees (causal, window; empty: lo == hi). */
void xk_att_keys_seen(const xk_attention_problem_t *p, const xk_att_seq_t *s, int64_t i,
                      int64_t *lo, int64_t *hi);

/*
 * Keys [j0, j0 + keys) of a tile or chunk each of `count` rows sees, relative to j0, in lo[] and
 * hi[]: row r < valid is the query at position first + r % positions, the others are padding
 * (they see everything, which keeps them finite). Returns 0 when every row sees every key
 * (no mask needed), else 1.
 */
int xk_att_tile_mask(const xk_attention_problem_t *p, const xk_att_seq_t *s, int32_t *lo,
                     int32_t *hi, size_t count, size_t valid, int64_t first, int64_t positions,
                     int64_t j0, size_t keys);

/* Element offset of K (v = 0) or V (v = 1) row of key t, KV head kvh, of sequence `s`. */
int64_t xk_att_kv_offset(const xk_attention_problem_t *p, const xk_att_seq_t *s, int v, int64_t kvh,
                         int64_t t);

/* Keys of sequence `s` from t that lie in one run of rows `stride` apart (to a block's end). */
int64_t xk_att_kv_run(const xk_attention_problem_t *p, const xk_att_seq_t *s, int64_t t,
                      int64_t count);

/* Row `offset` of a tensor of the problem's dtype. */
static inline const void *xk_att_element(const void *base, xhal_dtype_t type, int64_t offset) {
    return (const char *)base + offset * (type == XHAL_DTYPE_F32 ? 4 : 2);
}

/* Converts row `offset` of Q to f32 times `scale` into dst (head_dim floats). */
void xk_att_load_q(const xk_att_ukernel_t *uk, float *dst, const xk_attention_problem_t *p,
                   int64_t offset, float scale);

/* The factor Q is multiplied by (scale log2 e, or scale / softcap) and the kernels' cap. */
float xk_att_q_scale(const xk_attention_problem_t *p);
float xk_att_cap(const xk_attention_problem_t *p);

/*
 * Writes out[x] / sum (zeros when the row saw no key) to row (h, i) of sequence `s` in O, and
 * its log-sum-exp (from m, log2 domain, and sum) to the LSE when there is one.
 */
void xk_att_store_row(const xk_attention_problem_t *p, const xk_att_seq_t *s, int64_t h, int64_t i,
                      float *out, float m, float sum);

/* The pieces of a thread's scratch, each a whole number of 64-byte lines. */
typedef struct xk_att_layout {
    float *q; /* prefill: Q^T (dim x lanes); decode: Q (rows x dim_ld) per head of the block */
    float *o; /* prefill: O^T (dim x lanes); decode: O (rows x dim_ld) per head of the block */
    float *s; /* scores: TILE x lanes, or rows x CHUNK */
    float *m, *l, *corr; /* m and l for each head of the block, lanes apart */
    int32_t *lo, *hi;    /* masks */
    float *k, *v;        /* K and V rows converted to f32 (TILE or CHUNK of them) */
    float *row;          /* one row of Q or O on its way in or out */
    const void **ptrs;   /* decode: K and V row pointers of a step, then its prefetch runs */
    size_t floats;
} xk_att_layout_t;

/* Carves `base` (NULL: only counts) for a prefill task (decode 0) or a decode task (1). */
xk_att_layout_t xk_att_layout(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                              int decode, float *base);

/* The two kinds of task (attention_driver.c, attention_decode.c). */
void xk_att_prefill_task(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                         const xk_att_task_t *task, float *scratch);
void xk_att_decode_task(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                        const xk_att_task_t *task, float *scratch, float *partial);

#endif
