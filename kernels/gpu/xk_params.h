/*
 * Kernel parameters shared by the host (C11) and the GPU kernels (CUDA C++, later HIP). Each
 * kernel takes one of these structs by value, so the host and the device can never disagree on
 * an argument list: the layout is plain C, fixed-width fields, no pointers (device addresses
 * travel as uint64_t and are cast on the device).
 */
#ifndef XK_PARAMS_H
#define XK_PARAMS_H

#if !defined(__HIPCC_RTC__) /* hiprtc has no system headers, and the types built in */
#include <stdint.h>
#endif

/* Element types: the same values as xhal_dtype_t. */
enum { XK_F32 = 0, XK_F16 = 1, XK_BF16 = 2 };

/*
 * C = alpha op(A) op(B) + beta C, row-major (see xhal.h). With split_k > 1 the kernel writes
 * f32 partial sums of its k range to workspace[batch][split][m][n] instead of C, and
 * xk_gemm_splitk_reduce finishes alpha * sum + beta * C.
 */
typedef struct xk_gemm_params {
    uint64_t a, b, c;   /* address of element 0 of batch 0 (byte offsets applied) */
    uint64_t workspace; /* f32 partials, only read when split_k > 1 */
    int64_t m, n, k;
    int64_t lda, ldb, ldc;
    int64_t stride_a, stride_b, stride_c; /* elements between batches */
    int64_t batch;
    int64_t k_per_split; /* k range of one split: a multiple of the kernel's k tile */
    int32_t a_type, b_type, c_type;
    int32_t trans_a, trans_b;
    int32_t split_k;          /* >= 1 */
    int32_t tiles_m, tiles_n; /* tiles of the kernel's shape covering m and n */
    int32_t group_m;          /* rasterization: tile rows walked together so B panels stay in L2 */
    float alpha, beta;
} xk_gemm_params_t;

/*
 * Attention O = softmax(scale Q K^T + mask) V (see xhal.h). Strides count elements.
 * The split-KV decode path writes, per (sequence, query head, query, split), an unnormalized f32
 * output row to workspace and its running max and sum to workspace + partial_stats (bytes), and
 * xk_attention_combine merges the splits. Rows are numbered as the LSE is (xhal.h): with packed
 * Q, (head, packed row); else (batch, head, query).
 *
 * Serving fields (xk_attention_serving.cuh): the index buffers are read on the device and every
 * entry clamped. When decode and prefill kernels run for one op (packed Q, where only the device
 * knows each sequence's length), sequences with 1 .. q_split queries are decode's and the others
 * prefill's; a prefill-only launch sets q_split 0, a decode-only one INT64_MAX.
 */
typedef struct xk_attention_params {
    uint64_t q, k, v, o;
    uint64_t workspace;     /* decode: f32 [rows][splits][head_dim] */
    uint64_t partial_stats; /* decode: address of f32 [rows][splits][2] */
    /* int32 index buffers and the f32 LSE (offsets applied), 0 where the op has none */
    uint64_t cu_seqlens_q, cu_seqlens_kv, seqlens_kv, block_table, lse;
    int64_t block_table_stride, block_size, num_blocks; /* paged K/V */
    int64_t window;                                     /* 0: none; else at most seq_kv */
    int64_t q_split;
    int64_t batch, heads_q, heads_kv, seq_q, seq_kv, head_dim;
    int64_t q_sb, q_sh, q_ss; /* batch, head and position strides of Q */
    int64_t k_sb, k_sh, k_ss;
    int64_t v_sb, v_sh, v_ss;
    int64_t o_sb, o_sh, o_ss;
    int64_t keys_per_split; /* decode: a multiple of the key tile */
    int32_t dtype, causal;
    int32_t group;      /* heads_q / heads_kv */
    int32_t splits;     /* decode: >= 1 */
    int32_t row_blocks; /* tiles of query rows per (batch, head) or per (batch, KV head) */
    int32_t decode;     /* 1: rows are (query head of the group, query) pairs; partial outputs */
    /* sm_90a prefill: the order of seq (0), head (1) and batch (2) after d in the TMA maps of
     * Q, K and V (sorted by stride), 2 bits each: dims 1, 2, 3 = order & 3, >> 2 & 3, >> 4 & 3 */
    int32_t tma_order[3];
    float scale;      /* resolved: never 0 */
    float scale_log2; /* scale * log2(e): softmax runs on exp2 */
    /* soft-capping (softcap > 0): a score is cap_log2 * tanh(q.k * cap_scale), in base 2 */
    float softcap, cap_scale, cap_log2;
} xk_attention_params_t;

/*
 * Merging two partial attention outputs by their log-sum-exps (xhal.h): O = (w_a O_a + w_b O_b)
 * / (w_a + w_b) with w_x = exp(lse_x - max), per row of [batch, heads, seq].
 */
typedef struct xk_merge_params {
    uint64_t o_a, o_b, o;       /* element 0 of each output (offsets applied) */
    uint64_t lse_a, lse_b, lse; /* f32 [batch][heads][seq]; lse 0: not written */
    int64_t batch, heads, seq, head_dim;
    int64_t stride_b, stride_h, stride_s; /* of the three outputs, elements */
    int32_t dtype;
    int32_t pad;
} xk_merge_params_t;

#endif /* XK_PARAMS_H */
