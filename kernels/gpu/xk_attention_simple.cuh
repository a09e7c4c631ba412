/*
 * The exact, general attention kernel, and the combine step of split-KV decoding.
 *
 * xk_attention_simple runs every case the API allows (f32, f16, bf16; head_dim 1..256; any
 * strides and alignment; every serving feature) with f32 math and expf, so f32 attention is
 * exact to rounding and the tensor-core kernels have a fallback. A warp owns one query row:
 * keys are taken 32 at a time, lane j computing the whole dot product of key j0 + j (Q is in
 * shared memory as f32), then the warp updates the online softmax and each lane accumulates its
 * dims (lane + 32 u) of P V, reading V rows with consecutive lanes on consecutive elements.
 * Rows are numbered as the LSE is (xk_params.h); with packed Q a row finds its sequence by a
 * binary search over cu_seqlens_q, and rows no sequence names are left alone.
 */
#ifndef XK_ATTENTION_SIMPLE_CUH
#define XK_ATTENTION_SIMPLE_CUH

#include "xk_attention_serving.cuh"

#define XK_ATTN_SIMPLE_WARPS 4
#define XK_ATTN_MAX_DIM 256

/* The sequence, query head and query of row `row` (numbered as the LSE); false for a row no
 * sequence names (packed Q), or one `decode_rows` says is not this pass's (q_split). */
XK_DEVICE bool xk_row_of(const xk_attention_params_t &p, int64_t row, bool decode_rows, xk_seq &s,
                         int64_t &head, int64_t &query) {
    head = row / p.seq_q % p.heads_q;
    int64_t r = row % p.seq_q, b = row / p.seq_q / p.heads_q;
    if (p.cu_seqlens_q) b = xk_find_seq(p, 0, p.batch, r);
    s = xk_seq_of(p, b);
    query = r - s.q_start;
    if (query < 0 || query >= s.len_q) return false;
    return decode_rows ? s.len_q <= p.q_split : true;
}

XK_KERNEL void __launch_bounds__(XK_ATTN_SIMPLE_WARPS * 32)
xk_attention_simple(xk_attention_params_t p) {
    __shared__ float qs[XK_ATTN_SIMPLE_WARPS][XK_ATTN_MAX_DIM];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int d = (int)p.head_dim;
    const int64_t rows = (p.cu_seqlens_q ? 1 : p.batch) * p.heads_q * p.seq_q;
    const void *q = reinterpret_cast<const void *>(p.q), *k = reinterpret_cast<const void *>(p.k);
    const void *v = reinterpret_cast<const void *>(p.v);
    void *o = reinterpret_cast<void *>(p.o);

    for (int64_t row = blockIdx.x * (int64_t)XK_ATTN_SIMPLE_WARPS + warp; row < rows;
         row += (int64_t)gridDim.x * XK_ATTN_SIMPLE_WARPS) {
        xk_seq s;
        int64_t head, i;
        if (!xk_row_of(p, row, false, s, head, i)) continue; /* the same for the whole warp */
        const int64_t kv_head = head / p.group;
        const int64_t q_row = s.q + head * p.q_sh + i * p.q_ss;
        for (int c = lane; c < d; c += 32) qs[warp][c] = xk_load(q, p.dtype, q_row + c);
        xk_sync_group();

        int64_t lo, hi;
        xk_keys_seen(p, s, i, &lo, &hi);
        float acc[XK_ATTN_MAX_DIM / 32] = {};
        float m = -INFINITY, l = 0.0f; /* base 2 */
        for (int64_t j0 = lo; j0 < hi; j0 += 32) {
            const int64_t j = j0 + lane;
            float sc = -INFINITY;
            if (j < hi) {
                const int64_t k_row = xk_kv_row(p, s, false, kv_head, j);
                float dot = 0.0f;
                for (int c = 0; c < d; c++)
                    dot = fmaf(qs[warp][c], xk_load(k, p.dtype, k_row + c), dot);
                sc = xk_score_log2(p, dot);
            }
            const float m_new = fmaxf(m, xk_warp_max(sc)); /* finite: key j0 is visible */
            const float corr = exp2f(m - m_new);           /* 0 on the first chunk */
            const float pj = j < hi ? exp2f(sc - m_new) : 0.0f;
            l = l * corr + xk_warp_sum(pj);
            m = m_new;
#pragma unroll
            for (int u = 0; u < XK_ATTN_MAX_DIM / 32; u++) acc[u] *= corr;
            const int64_t n = xk_min64(32, hi - j0);
            for (int jj = 0; jj < n; jj++) {
                const float pw = xk_shfl(pj, jj);
                const int64_t v_row = xk_kv_row(p, s, true, kv_head, j0 + jj);
#pragma unroll
                for (int u = 0; u < XK_ATTN_MAX_DIM / 32; u++) {
                    int c = lane + 32 * u;
                    if (c < d) acc[u] = fmaf(pw, xk_load(v, p.dtype, v_row + c), acc[u]);
                }
            }
        }
        /* A row that sees no key is written as zeros, its LSE -inf (xhal.h). */
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        const int64_t o_row = s.o + head * p.o_sh + i * p.o_ss;
#pragma unroll
        for (int u = 0; u < XK_ATTN_MAX_DIM / 32; u++) {
            int c = lane + 32 * u;
            if (c < d) xk_store(o, p.dtype, o_row + c, acc[u] * inv);
        }
        if (lane == 0) xk_store_lse(p, row, m, l);
        xk_sync_group(); /* qs[warp] is rewritten by the next row */
    }
}

/*
 * Merges the splits of a split-KV decode: for each row of a decode sequence, with split s
 * holding an unnormalized output O_s, its max m_s (exp2 domain) and sum l_s:
 *   M = max m_s,  L = sum l_s 2^(m_s - M),  O = sum O_s 2^(m_s - M) / L   (zeros when L = 0).
 * A sequence has as many splits as its keys need (xk_seq_splits), none when it sees no key.
 * A warp per row; each lane owns dims lane + 32 u.
 */
XK_KERNEL void __launch_bounds__(128) xk_attention_combine(xk_attention_params_t p) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int d = (int)p.head_dim;
    const int64_t rows = (p.cu_seqlens_q ? 1 : p.batch) * p.heads_q * p.seq_q;
    const float *partial = reinterpret_cast<const float *>(p.workspace);
    const float *stats = reinterpret_cast<const float *>(p.partial_stats);

    for (int64_t row = blockIdx.x * 4ll + warp; row < rows; row += gridDim.x * 4ll) {
        xk_seq seq;
        int64_t head, i, k0, k1, last_lo;
        if (!xk_row_of(p, row, true, seq, head, i)) continue; /* not a decode row */
        xk_keys_seen(p, seq, 0, &k0, &last_lo);
        xk_keys_seen(p, seq, seq.len_q - 1, &last_lo, &k1);
        const int64_t splits = xk_seq_splits(p, k0, k1);
        float big = -INFINITY;
        for (int64_t s = 0; s < splits; s++) big = fmaxf(big, stats[(row * p.splits + s) * 2]);
        float acc[XK_ATTN_MAX_DIM / 32] = {};
        float sum = 0.0f;
        if (big != -INFINITY) {
            for (int64_t s = 0; s < splits; s++) {
                const float ms = stats[(row * p.splits + s) * 2];
                const float w = ms == -INFINITY ? 0.0f : exp2f(ms - big);
                sum += w * stats[(row * p.splits + s) * 2 + 1];
                const float *prow = partial + (row * p.splits + s) * d;
#pragma unroll
                for (int u = 0; u < XK_ATTN_MAX_DIM / 32; u++) {
                    int c = lane + 32 * u;
                    if (c < d && w > 0.0f) acc[u] = fmaf(w, prow[c], acc[u]);
                }
            }
        }
        const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
        const int64_t o_row = seq.o + head * p.o_sh + i * p.o_ss;
#pragma unroll
        for (int u = 0; u < XK_ATTN_MAX_DIM / 32; u++) {
            int c = lane + 32 * u;
            if (c < d) xk_store(reinterpret_cast<void *>(p.o), p.dtype, o_row + c, acc[u] * inv);
        }
        if (lane == 0) xk_store_lse(p, row, big, sum);
    }
}

#endif /* XK_ATTENTION_SIMPLE_CUH */
