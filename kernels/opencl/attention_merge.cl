/*
 * Merging two partial attention outputs by their log-sum-exps (xhal.h): per row,
 * w_x = exp(lse_x - max), O = (w_a O_a + w_b O_b) / (w_a + w_b), lse = max + ln(w_a + w_b).
 *
 * A work-item owns one row (global size (seq, heads, batch)). A side whose LSE is -inf saw no
 * key and is not read at all (its O is zeros by contract, but 0 x NaN would still be NaN), so a
 * row with both -inf is zeros with lse -inf. Each element is read before the same element is
 * written, which is what makes merging in place (o on o_a, lse on lse_a) safe.
 *
 * offs: element offsets of o_a, o_b, o (in the dtype) and of lse_a, lse_b, lse (f32);
 * strides: batch, head and seq strides of the three outputs; shape: batch, heads, seq, head_dim.
 */

inline void merge_body(const __global uchar *o_a, const __global uchar *o_b, __global uchar *o,
                       const __global float *lse_a, const __global float *lse_b,
                       __global float *lse, long8 offs, long4 strides, int4 shape, const int dt) {
    int i = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    long row = ((long)b * shape.y + h) * shape.z + i; /* the LSEs' order */
    long at = b * strides.x + h * strides.y + i * strides.z;
    float la = lse_a[offs.s3 + row], lb = lse_b[offs.s4 + row], top = fmax(la, lb);
    float wa = la == -INFINITY ? 0.0f : exp(la - top);
    float wb = lb == -INFINITY ? 0.0f : exp(lb - top);
    float sum = wa + wb, inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
    long xa = offs.s0 + at, xb = offs.s1 + at, xo = offs.s2 + at;
    int dim = shape.w, d = 0;
    for (; d + XV <= dim; d += XV) {
        floatX y = (floatX)(0.0f);
        if (wa > 0.0f) y = (floatX)(wa)*loadX(o_a, xa + d, dt);
        if (wb > 0.0f) y = fma((floatX)(wb), loadX(o_b, xb + d, dt), y);
        storeX(o, xo + d, y * inverse, dt);
    }
    for (; d < dim; d++) {
        float y = wa > 0.0f ? wa * load1(o_a, xa + d, dt) : 0.0f;
        if (wb > 0.0f) y = fma(wb, load1(o_b, xb + d, dt), y);
        store1(o, xo + d, y * inverse, dt);
    }
    if (lse) lse[offs.s5 + row] = sum > 0.0f ? top + log(sum) : -INFINITY;
}

#define MERGE_KERNEL(NAME, DT)                                                                     \
    __kernel void NAME(const __global uchar *o_a, const __global uchar *o_b, __global uchar *o,    \
                       const __global float *lse_a, const __global float *lse_b,                   \
                       __global float *lse, long8 offs, long4 strides, int4 shape) {               \
        merge_body(o_a, o_b, o, lse_a, lse_b, lse, offs, strides, shape, (DT));                    \
    }

MERGE_KERNEL(attn_merge_f32, DT_F32)
MERGE_KERNEL(attn_merge_f16, DT_F16)
MERGE_KERNEL(attn_merge_bf16, DT_BF16)
