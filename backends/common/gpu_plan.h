/*
 * What the GPU backends (CUDA, HIP) share about the kernels of kernels/gpu/, which both run:
 * the kernels' parameters filled from a descriptor (serving fields included), the alignment
 * their 16-byte loads need, split-K, the GEMV plan and the layout of the split-KV decode
 * workspace. Pure functions (no runtime call), header-only so each plugin compiles them in
 * (kernels/gpu must be on the include path, for xk_params.h and xk_configs.h).
 */
#ifndef XHAL_BACKENDS_GPU_PLAN_H
#define XHAL_BACKENDS_GPU_PLAN_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "xhal/xhal.h"
#include "xk_configs.h"
#include "xk_params.h"

static inline int64_t xhal_gpu_ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static inline int64_t xhal_gpu_min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

/* "f16", "bf16" or "f32": how kernel names spell a dtype. */
static inline const char *xhal_gpu_dtype_tag(xhal_dtype_t t) {
    return t == XHAL_DTYPE_F16 ? "f16" : t == XHAL_DTYPE_BF16 ? "bf16" : "f32";
}

/* Every 16-byte chunk of a 16-bit operand's rows is aligned (the kernels' vector loads). */
static inline int xhal_gpu_rows_aligned16(xhal_dtype_t type, int64_t ld, int64_t stride,
                                          uint64_t offset) {
    return type != XHAL_DTYPE_F32 && ld % 8 == 0 && stride % 8 == 0 && offset % 16 == 0;
}

/* The same for the four tensors of an attention: every stride the kernels step by is a
 * multiple of 8 elements (packed tensors have no batch stride to step by) and every tensor
 * starts 16-byte aligned. */
static inline int xhal_gpu_attention_rows_aligned(const xhal_attention_desc_t *d) {
    const xhal_attention_strides_t *s[4] = {&d->q_strides, &d->k_strides, &d->v_strides,
                                            &d->o_strides};
    const uint64_t offsets[4] = {d->q_offset, d->k_offset, d->v_offset, d->o_offset};
    const int packed[4] = {d->cu_seqlens_q != NULL, d->cu_seqlens_kv != NULL,
                           d->cu_seqlens_kv != NULL, d->cu_seqlens_q != NULL};
    for (int i = 0; i < 4; i++)
        if ((!packed[i] && s[i]->batch % 8) || s[i]->head % 8 || s[i]->seq % 8 || offsets[i] % 16)
            return 0;
    return 1;
}

/* Whether an attention uses a serving feature (packed or paged K/V, per-sequence lengths, a
 * window, soft-capping, the LSE): kernels reading dense tensors only must not run it. */
static inline int xhal_gpu_attention_serving(const xhal_attention_desc_t *d) {
    return d->cu_seqlens_q || d->cu_seqlens_kv || d->seqlens_kv || d->block_table ||
           d->sliding_window > 0 || d->softcap > 0.0f || d->lse;
}

/* The rows of an attention as the LSE numbers them (xk_params.h): a packed Q is one sequence of
 * seq_q rows per head. */
static inline int64_t xhal_gpu_attention_rows(const xhal_attention_desc_t *d) {
    return (d->cu_seqlens_q ? 1 : d->batch) * d->heads_q * d->seq_q;
}

/*
 * Split-K: how many parts to cut k into so that `tiles` output tiles (all batches) give each of
 * `units` multiprocessors or compute units work, each part at least 4 k tiles of `bk`, at most
 * `max_split`. Sets *k_per_split (a multiple of bk) and returns the part count (1: no split).
 */
static inline int xhal_gpu_split_k(int64_t tiles, int64_t k, int bk, int units, int max_split,
                                   int64_t *k_per_split) {
    int64_t k_tiles = xhal_gpu_ceil_div(k, bk);
    *k_per_split = k_tiles * bk;
    if (tiles <= 0 || tiles >= units || max_split <= 1) return 1;
    int64_t split =
        xhal_gpu_min64(xhal_gpu_min64(xhal_gpu_ceil_div(units, tiles), k_tiles / 4), max_split);
    if (split <= 1) return 1;
    *k_per_split = xhal_gpu_ceil_div(k_tiles, split) * bk;
    return (int)xhal_gpu_ceil_div(k, *k_per_split); /* no empty part */
}

/* The plan of the decode GEMVs (kernels/gpu/xk_gemv.cuh), m <= 16. */
typedef struct xhal_gpu_gemv_plan {
    char kernel[64]; /* "xk_gemv_t_bf16_4" */
    int split_k;
    int64_t k_per_split;
    uint32_t grid[3];
    uint64_t workspace_bytes; /* f32 split-K partials */
} xhal_gpu_gemv_plan_t;

/*
 * B n x k (trans_b): a 32-lane group per column, 8 per block. B k x n: 64 columns per block, k
 * split until there are about 4 blocks per unit. grid.x is at most `grid_x_max` (the kernels
 * loop over the rest), grid.z (batches) at most 65535.
 */
static inline void xhal_gpu_plan_gemv(const xhal_gemm_desc_t *d, int units, int splitk_max,
                                      int64_t grid_x_max, xhal_gpu_gemv_plan_t *p) {
    static const int rows_compiled[] = {
#define XHAL_GPU_GEMV_ROW(MR) MR,
        XK_GEMV_ROWS(XHAL_GPU_GEMV_ROW)
#undef XHAL_GPU_GEMV_ROW
    };
    int rows = 16;
    for (size_t i = 0; i < sizeof rows_compiled / sizeof rows_compiled[0]; i++)
        if (rows_compiled[i] >= d->m) {
            rows = rows_compiled[i];
            break;
        }
    memset(p, 0, sizeof(*p));
    p->split_k = 1;
    p->k_per_split = d->k;
    p->grid[2] = (uint32_t)xhal_gpu_min64(d->batch, 65535);
    if (d->trans_b) {
        p->grid[0] = (uint32_t)xhal_gpu_min64(xhal_gpu_ceil_div(d->n, 8), grid_x_max);
        p->grid[1] = 1;
    } else {
        int64_t blocks = xhal_gpu_ceil_div(d->n, 64) * d->batch, split = 1;
        if (blocks < 4ll * units)
            split = xhal_gpu_min64(xhal_gpu_min64(xhal_gpu_ceil_div(4ll * units, blocks),
                                                  d->k / 512 > 1 ? d->k / 512 : 1),
                                   splitk_max);
        p->k_per_split = xhal_gpu_ceil_div(xhal_gpu_ceil_div(d->k, split), 256) * 256;
        p->split_k = (int)xhal_gpu_ceil_div(d->k, p->k_per_split);
        p->grid[0] = (uint32_t)xhal_gpu_min64(xhal_gpu_ceil_div(d->n, 64), grid_x_max);
        p->grid[1] = (uint32_t)p->split_k;
        if (p->split_k > 1)
            p->workspace_bytes = (uint64_t)(d->batch * p->split_k * d->m * d->n) * 4u;
    }
    snprintf(p->kernel, sizeof p->kernel, "xk_gemv_%c_%s_%d", d->trans_b ? 't' : 'n',
             xhal_gpu_dtype_tag(d->b_type), rows);
}

/*
 * The split-KV decode workspace (xk_attention_params_t): an f32 row of head_dim per (row, split),
 * rows numbered as the LSE, then, 256-byte aligned at *stats_offset, their (max, sum) pairs.
 */
static inline void xhal_gpu_decode_workspace(const xhal_attention_desc_t *d, int splits,
                                             uint64_t *stats_offset, uint64_t *workspace_bytes) {
    uint64_t slots = (uint64_t)(xhal_gpu_attention_rows(d) * splits);
    *stats_offset = (slots * (uint64_t)d->head_dim * 4u + 255u) / 256u * 256u;
    *workspace_bytes = *stats_offset + slots * 8u;
}

/*
 * The GEMM kernels' parameters from a descriptor and the device addresses of A, B and C (their
 * byte offsets applied here); the plan's fields (k_per_split, split_k, tiles, group_m,
 * workspace) are the caller's to set.
 */
static inline void xhal_gpu_gemm_params(const xhal_gemm_desc_t *d, uint64_t a, uint64_t b,
                                        uint64_t c, xk_gemm_params_t *p) {
    memset(p, 0, sizeof(*p));
    p->a = a + d->a_offset;
    p->b = b + d->b_offset;
    p->c = c + d->c_offset;
    p->m = d->m;
    p->n = d->n;
    p->k = d->k;
    p->lda = d->lda;
    p->ldb = d->ldb;
    p->ldc = d->ldc;
    p->stride_a = d->stride_a;
    p->stride_b = d->stride_b;
    p->stride_c = d->stride_c;
    p->batch = d->batch;
    p->a_type = (int32_t)d->a_type;
    p->b_type = (int32_t)d->b_type;
    p->c_type = (int32_t)d->c_type;
    p->trans_a = d->trans_a;
    p->trans_b = d->trans_b;
    p->alpha = d->alpha;
    p->beta = d->beta;
}

/* Device addresses of an attention's buffers (byte offsets not applied); 0 for an optional
 * buffer the op does not have. */
typedef struct xhal_gpu_attention_addresses {
    uint64_t q, k, v, o;
    uint64_t cu_seqlens_q, cu_seqlens_kv, seqlens_kv, block_table, lse;
} xhal_gpu_attention_addresses_t;

/*
 * The attention kernels' parameters from a descriptor and its buffers' addresses (byte offsets
 * applied here), with the scale resolved (0 means 1/sqrt(head_dim)) and its exp2-domain twin,
 * the serving fields (index buffers, window, soft-cap); the plan's fields (q_split, splits,
 * row_blocks, decode, keys_per_split, workspace) are the caller's to set.
 */
static inline void xhal_gpu_attention_params(const xhal_attention_desc_t *d,
                                             const xhal_gpu_attention_addresses_t *a,
                                             xk_attention_params_t *p) {
    memset(p, 0, sizeof(*p));
    p->q = a->q + d->q_offset;
    p->k = a->k + d->k_offset;
    p->v = a->v + d->v_offset;
    p->o = a->o + d->o_offset;
    p->cu_seqlens_q = a->cu_seqlens_q ? a->cu_seqlens_q + d->cu_seqlens_q_offset : 0;
    p->cu_seqlens_kv = a->cu_seqlens_kv ? a->cu_seqlens_kv + d->cu_seqlens_kv_offset : 0;
    p->seqlens_kv = a->seqlens_kv ? a->seqlens_kv + d->seqlens_kv_offset : 0;
    p->block_table = a->block_table ? a->block_table + d->block_table_offset : 0;
    p->lse = a->lse ? a->lse + d->lse_offset : 0;
    p->block_table_stride = d->block_table_stride;
    p->block_size = d->block_size;
    p->num_blocks = d->num_blocks;
    /* A window of seq_kv keys or more hides nothing a shorter one would not. */
    p->window = d->sliding_window < d->seq_kv ? d->sliding_window : d->seq_kv;
    p->batch = d->batch;
    p->heads_q = d->heads_q;
    p->heads_kv = d->heads_kv;
    p->seq_q = d->seq_q;
    p->seq_kv = d->seq_kv;
    p->head_dim = d->head_dim;
    p->q_sb = d->q_strides.batch;
    p->q_sh = d->q_strides.head;
    p->q_ss = d->q_strides.seq;
    p->k_sb = d->k_strides.batch;
    p->k_sh = d->k_strides.head;
    p->k_ss = d->k_strides.seq;
    p->v_sb = d->v_strides.batch;
    p->v_sh = d->v_strides.head;
    p->v_ss = d->v_strides.seq;
    p->o_sb = d->o_strides.batch;
    p->o_sh = d->o_strides.head;
    p->o_ss = d->o_strides.seq;
    p->dtype = (int32_t)d->dtype;
    p->causal = d->causal;
    p->group = (int32_t)(d->heads_q / d->heads_kv);
    p->scale = d->scale != 0.0f ? d->scale : (float)(1.0 / sqrt((double)d->head_dim));
    p->scale_log2 = (float)((double)p->scale * 1.4426950408889634); /* softmax on exp2 */
    if (d->softcap > 0.0f) {
        p->softcap = d->softcap;
        p->cap_scale = p->scale / d->softcap;
        p->cap_log2 = (float)((double)d->softcap * 1.4426950408889634);
    }
}

/*
 * The merge kernel's parameters (xk_attention_merge.cuh) from a descriptor and the addresses of
 * O_a, O_b, O, LSE_a, LSE_b and LSE (0: the merged LSE is not written), offsets applied here.
 */
static inline void xhal_gpu_merge_params(const xhal_attention_merge_desc_t *d, uint64_t o_a,
                                         uint64_t o_b, uint64_t o, uint64_t lse_a, uint64_t lse_b,
                                         uint64_t lse, xk_merge_params_t *p) {
    memset(p, 0, sizeof(*p));
    p->o_a = o_a + d->o_a_offset;
    p->o_b = o_b + d->o_b_offset;
    p->o = o + d->o_offset;
    p->lse_a = lse_a + d->lse_a_offset;
    p->lse_b = lse_b + d->lse_b_offset;
    p->lse = lse ? lse + d->lse_offset : 0;
    p->batch = d->batch;
    p->heads = d->heads;
    p->seq = d->seq;
    p->head_dim = d->head_dim;
    p->stride_b = d->strides.batch;
    p->stride_h = d->strides.head;
    p->stride_s = d->strides.seq;
    p->dtype = (int32_t)d->dtype;
}

#endif /* XHAL_BACKENDS_GPU_PLAN_H */
