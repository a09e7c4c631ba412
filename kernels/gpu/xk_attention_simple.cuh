/*
 * The exact, general attention kernel, and the combine step of split-KV decoding.
 *
 * xk_attention_simple runs every case the API allows (f32, f16, bf16; head_dim 1..256; any
 * strides and alignment) with f32 math and expf, so f32 attention is exact to rounding and the
 * tensor-core kernels have a fallback. A warp owns one query row: keys are taken 32 at a time,
 * lane j computing the whole dot product of key j0 + j (Q is in shared memory as f32), then
 * the warp updates the online softmax and each lane accumulates its dims (lane + 32 u) of
 * P V, reading V rows with consecutive lanes on consecutive elements.
 */
#ifndef XK_ATTENTION_SIMPLE_CUH
#define XK_ATTENTION_SIMPLE_CUH

#include "xk_compat.cuh"

#define XK_ATTN_SIMPLE_WARPS 4
#define XK_ATTN_MAX_DIM 256

XK_KERNEL void __launch_bounds__(XK_ATTN_SIMPLE_WARPS * 32)
xk_attention_simple(xk_attention_params_t p) {
    __shared__ float qs[XK_ATTN_SIMPLE_WARPS][XK_ATTN_MAX_DIM];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int d = (int)p.head_dim;
    const int64_t rows = p.batch * p.heads_q * p.seq_q;
    const void *q = reinterpret_cast<const void *>(p.q), *k = reinterpret_cast<const void *>(p.k);
    const void *v = reinterpret_cast<const void *>(p.v);
    void *o = reinterpret_cast<void *>(p.o);

    for (int64_t row = blockIdx.x * (int64_t)XK_ATTN_SIMPLE_WARPS + warp; row < rows;
         row += (int64_t)gridDim.x * XK_ATTN_SIMPLE_WARPS) {
        const int64_t i = row % p.seq_q, head = row / p.seq_q % p.heads_q;
        const int64_t batch = row / p.seq_q / p.heads_q, kv_head = head / p.group;
        const int64_t q_row = batch * p.q_sb + head * p.q_sh + i * p.q_ss;
        const int64_t k_base = batch * p.k_sb + kv_head * p.k_sh;
        const int64_t v_base = batch * p.v_sb + kv_head * p.v_sh;
        for (int c = lane; c < d; c += 32) qs[warp][c] = xk_load(q, p.dtype, q_row + c);
        xk_sync_group();

        const int64_t keys = xk_visible_keys(p, i);
        float acc[XK_ATTN_MAX_DIM / 32] = {};
        float m = -INFINITY, l = 0.0f;
        for (int64_t j0 = 0; j0 < keys; j0 += 32) {
            const int64_t j = j0 + lane;
            float s = -INFINITY;
            if (j < keys) {
                float dot = 0.0f;
                for (int c = 0; c < d; c++)
                    dot = fmaf(qs[warp][c], xk_load(k, p.dtype, k_base + j * p.k_ss + c), dot);
                s = dot * p.scale;
            }
            const float m_new = fmaxf(m, xk_warp_max(s)); /* finite: key j0 is visible */
            const float corr = expf(m - m_new);           /* 0 on the first chunk */
            const float pj = j < keys ? expf(s - m_new) : 0.0f;
            l = l * corr + xk_warp_sum(pj);
            m = m_new;
#pragma unroll
            for (int u = 0; u < XK_ATTN_MAX_DIM / 32; u++) acc[u] *= corr;
            const int64_t n = xk_min64(32, keys - j0);
            for (int jj = 0; jj < n; jj++) {
                const float pw = xk_shfl(pj, jj);
                const int64_t v_row = v_base + (j0 + jj) * p.v_ss;
#pragma unroll
                for (int u = 0; u < XK_ATTN_MAX_DIM / 32; u++) {
                    int c = lane + 32 * u;
                    if (c < d) acc[u] = fmaf(pw, xk_load(v, p.dtype, v_row + c), acc[u]);
                }
            }
        }
        /* keys == 0: a row that sees no key is written as zeros (xhal.h). */
        const float inv = keys > 0 ? 1.0f / l : 0.0f;
        const int64_t o_row = batch * p.o_sb + head * p.o_sh + i * p.o_ss;
#pragma unroll
        for (int u = 0; u < XK_ATTN_MAX_DIM / 32; u++) {
            int c = lane + 32 * u;
            if (c < d) xk_store(o, p.dtype, o_row + c, acc[u] * inv);
        }
        xk_sync_group(); /* qs[warp] is rewritten by the next row */
    }
}

/*
 * Merges the splits of a split-KV decode: for each (batch, query head, query) row, with split s
 * holding an unnormalized output O_s, its max m_s (exp2 domain) and sum l_s:
 *   M = max m_s,  L = sum l_s 2^(m_s - M),  O = sum O_s 2^(m_s - M) / L   (zeros when L = 0).
 * A warp per row; each lane owns dims lane + 32 u.
 */
XK_KERNEL void __launch_bounds__(128) xk_attention_combine(xk_attention_params_t p) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int d = (int)p.head_dim;
    const int64_t rows = p.batch * p.heads_q * p.seq_q;
    const float *partial = reinterpret_cast<const float *>(p.workspace);
    const float *stats = reinterpret_cast<const float *>(p.partial_stats);

    for (int64_t row = blockIdx.x * 4ll + warp; row < rows; row += gridDim.x * 4ll) {
        const int64_t i = row % p.seq_q, head = row / p.seq_q % p.heads_q;
        const int64_t batch = row / p.seq_q / p.heads_q;
        float big = -INFINITY;
        for (int s = 0; s < p.splits; s++) big = fmaxf(big, stats[(row * p.splits + s) * 2]);
        float acc[XK_ATTN_MAX_DIM / 32] = {};
        float sum = 0.0f;
        if (big != -INFINITY) {
            for (int s = 0; s < p.splits; s++) {
                const float ms = stats[(row * p.splits + s) * 2];
                const float w = ms == -INFINITY ? 0.0f : exp2f(ms - big);
                sum += w * stats[(row * p.splits + s) * 2 + 1];
                const float *prow = partial + (row * p.splits + s) * d;
#pragma unroll
                for (int u = 0; u < XK_ATTN_MAX_DIM / 32; u++) {
                    int c = lane + 32 * u;
                    if (c < d) acc[u] = fmaf(w, prow[c], acc[u]);
                }
            }
        }
        const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
        const int64_t o_row = batch * p.o_sb + head * p.o_sh + i * p.o_ss;
#pragma unroll
        for (int u = 0; u < XK_ATTN_MAX_DIM / 32; u++) {
            int c = lane + 32 * u;
            if (c < d) xk_store(reinterpret_cast<void *>(p.o), p.dtype, o_row + c, acc[u] * inv);
        }
    }
}

#endif /* XK_ATTENTION_SIMPLE_CUH */
