/*
 * Merging two partial attention outputs by their log-sum-exps (xhal.h): per row,
 * w_x = exp(lse_x - max), O = (w_a O_a + w_b O_b) / (w_a + w_b), lse = max + ln(w_a + w_b).
 *
 * A warp per row, each lane a dim at a time (lane + 32 u), any dtype, head_dim and stride. A
 * side whose LSE is -inf saw no key and is not read at all (its O is zeros by contract, but
 * 0 x NaN would still be NaN), so a row with both -inf is zeros with lse -inf. Every element is
 * read by the lane that writes it, before it writes it: merging in place (o on o_a, lse on
 * lse_a) is safe.
 */
#ifndef XK_ATTENTION_MERGE_CUH
#define XK_ATTENTION_MERGE_CUH

#include "xk_compat.cuh"

XK_KERNEL void __launch_bounds__(128) xk_attention_merge(xk_merge_params_t p) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t rows = p.batch * p.heads * p.seq;
    const void *o_a = reinterpret_cast<const void *>(p.o_a);
    const void *o_b = reinterpret_cast<const void *>(p.o_b);
    void *o = reinterpret_cast<void *>(p.o);
    for (int64_t row = blockIdx.x * 4ll + warp; row < rows; row += gridDim.x * 4ll) {
        const int64_t i = row % p.seq, h = row / p.seq % p.heads, b = row / p.seq / p.heads;
        const int64_t at = b * p.stride_b + h * p.stride_h + i * p.stride_s;
        const float la = reinterpret_cast<const float *>(p.lse_a)[row];
        const float lb = reinterpret_cast<const float *>(p.lse_b)[row];
        const float top = fmaxf(la, lb);
        const float wa = la == -INFINITY ? 0.0f : expf(la - top);
        const float wb = lb == -INFINITY ? 0.0f : expf(lb - top);
        const float sum = wa + wb, inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
        xk_sync_group(); /* every lane has read the LSEs before lane 0 may write lse over lse_a */
        for (int64_t c = lane; c < p.head_dim; c += 32) {
            float y = wa > 0.0f ? wa * xk_load(o_a, p.dtype, at + c) : 0.0f;
            if (wb > 0.0f) y = fmaf(wb, xk_load(o_b, p.dtype, at + c), y);
            xk_store(o, p.dtype, at + c, y * inverse);
        }
        if (p.lse && lane == 0)
            reinterpret_cast<float *>(p.lse)[row] = sum > 0.0f ? top + logf(sum) : -INFINITY;
    }
}

#endif /* XK_ATTENTION_MERGE_CUH */
