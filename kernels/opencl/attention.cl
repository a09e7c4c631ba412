/*
 * Attention: O = softmax(scale * Q K^T + mask) V per (batch, query head), f32 math (see xhal.h).
 *
 * Both paths keep, per query row, the running maximum m, the running sum l of exp(s - m) and
 * the running output acc = sum exp(s - m) v (FlashAttention's online softmax): when a block of
 * keys raises the maximum from m to m', what was summed so far is rescaled by exp(m - m'), so
 * no row of scores is ever held whole. Scores are kept in base 2 (Q is multiplied by
 * scale * log2(e) once), so each exponential is one exp2.
 *
 * GQA: query head h reads KV head h / group. Causal, bottom-right aligned: query i sees keys
 * j <= i + seq_kv - seq_q. A row that sees no key is written as zeros.
 *
 * Prefill (attn_pack_kv_* then attn_prefill_*): K and V of each KV head are first packed to f32,
 * K transposed in blocks of XV keys (Kt[block][d][XV]) and V with rows padded to dp (a multiple
 * of XV). A work-item then owns ATT_BQ query rows and walks the key blocks its last row sees:
 *   S (ATT_BQ x XV)   = Q_rows Kt_block           one vector load and ATT_BQ FMAs per d
 *   acc (ATT_BQ x dp) += P V_block                 one vector load and ATT_BQ FMAs per key
 * which is register-blocked and contiguous like the GEMM tile kernel. Blocks past the last row's
 * limit are skipped (about half of them under a causal mask); only blocks that cross a row's
 * limit or the end of the keys are masked.
 *
 * Decode (attn_decode_* then attn_combine_*): few query rows over a long KV cache, so the work is
 * split over the keys instead (split-KV): a work-item owns up to ATT_DEC_RB rows of one KV head
 * (the query heads of a GQA group and their positions together, so K and V are read once for all
 * of them) and one chunk of keys, reading K and V in their own dtype and layout, and writes its
 * partial (m, l, acc). The combine pass merges the chunks of each row.
 *
 * Compile-time parameters: XV, ATT_BQ, ATT_DEC_RB, ATT_DMAX (the largest head_dim, 256).
 */

#define LOG_ZERO (-INFINITY)

/* ---- Pieces both paths share ---- */

/* Index of the last key query row i sees, clamped to the keys there are; < 0 when none. */
inline int last_key(int i, int seq_q, int seq_kv, int causal) {
    return causal ? min(i + seq_kv - seq_q, seq_kv - 1) : seq_kv - 1;
}

/*
 * Folds one block of scores s (base 2, lanes past `limit` - key_base masked) into a row's running
 * state. Returns the factor the row's acc must be scaled by, and writes the block's weights to
 * p[0 .. XV).
 */
inline float online_update(floatX s, int key_base, int limit, int masked, float *m, float *l,
                           float *p) {
    if (masked) s = select(s, (floatX)(LOG_ZERO), LANE_IDS + (intX)(key_base) > (intX)(limit));
    float m_new = fmax(*m, hmaxX(s));
    if (m_new == LOG_ZERO) { /* nothing seen yet: exp2(-inf - -inf) would be NaN */
        vstoreX((floatX)(0.0f), 0, p);
        return 1.0f;
    }
    float correction = exp2(*m - m_new); /* 0 on the first block (m = -inf) */
    floatX w = exp2(s - (floatX)(m_new));
    *l = *l * correction + hsumX(w);
    *m = m_new;
    vstoreX(w, 0, p);
    return correction;
}

/* XV elements of a row from `i`, of which `count` (< XV) exist: the rest read as zeros. */
inline floatX load_partial(const __global uchar *base, long i, int count, const int dt) {
    float lanes[XV];
    for (int t = 0; t < XV; t++)
        lanes[t] = t < count ? load1(base, i + t, dt) : 0.0f;
    return vloadX(0, lanes);
}

/* Writes a row of head_dim outputs, acc * inv (zeros when inv is 0). */
inline void store_output(__global uchar *o, long row, const float *acc, int head_dim, float inv,
                         const int dt) {
    int d = 0;
    for (; d + XV <= head_dim; d += XV)
        storeX(o, row + d, vloadX(0, acc + d) * inv, dt);
    for (; d < head_dim; d++)
        store1(o, row + d, acc[d] * inv, dt);
}

/* ---- Prefill: pack K and V ---- */

/*
 * Global size: (kv_blocks, heads_kv, batch). Kt[bh][block][d][j] = K[key = block * XV + j][d],
 * Vp[bh][key][d] = V[key][d], zeros for keys >= seq_kv and for d >= head_dim in Vp.
 */
inline void pack_kv_body(const __global uchar *k, long k_offset, long kb_stride, long kh_stride,
                         long ks_stride, const __global uchar *v, long v_offset, long vb_stride,
                         long vh_stride, long vs_stride, int seq_kv, int head_dim, int dp,
                         int kv_blocks, __global float *kt, __global float *vp, const int dt) {
    int block = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    long bh = (long)b * get_global_size(1) + h;
    __global float *kt_block = kt + (bh * kv_blocks + block) * head_dim * XV;
    for (int j = 0; j < XV; j++) {
        int key = block * XV + j;
        __global float *vp_row = vp + (bh * kv_blocks * XV + key) * dp;
        if (key >= seq_kv) {
            for (int d = 0; d < head_dim; d++)
                kt_block[d * XV + j] = 0.0f;
            for (int d = 0; d < dp; d++)
                vp_row[d] = 0.0f;
            continue;
        }
        long k_row = k_offset + b * kb_stride + h * kh_stride + key * ks_stride;
        long v_row = v_offset + b * vb_stride + h * vh_stride + key * vs_stride;
        for (int d = 0; d < head_dim; d++)
            kt_block[d * XV + j] = load1(k, k_row + d, dt);
        int d = 0;
        for (; d + XV <= head_dim; d += XV)
            vstoreX(loadX(v, v_row + d, dt), 0, vp_row + d);
        for (; d < dp; d++)
            vp_row[d] = d < head_dim ? load1(v, v_row + d, dt) : 0.0f;
    }
}

#define PACK_KV_KERNEL(NAME, DT)                                                                   \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(                             \
        const __global uchar *k, long k_offset, long kb_stride, long kh_stride, long ks_stride,    \
        const __global uchar *v, long v_offset, long vb_stride, long vh_stride, long vs_stride,    \
        int seq_kv, int head_dim, int dp, int kv_blocks, __global float *kt,                       \
        __global float *vp) {                                                                      \
        pack_kv_body(k, k_offset, kb_stride, kh_stride, ks_stride, v, v_offset, vb_stride,         \
                     vh_stride, vs_stride, seq_kv, head_dim, dp, kv_blocks, kt, vp, (DT));         \
    }

PACK_KV_KERNEL(attn_pack_kv_f32, DT_F32)
PACK_KV_KERNEL(attn_pack_kv_f16, DT_F16)
PACK_KV_KERNEL(attn_pack_kv_bf16, DT_BF16)

/* ---- Prefill: the blocked kernel ---- */

/* Global size: (ceil(seq_q / ATT_BQ), heads_q, batch). */
inline void prefill_body(const __global uchar *q, long q_offset, long qb_stride, long qh_stride,
                         long qs_stride, const __global float *kt_all,
                         const __global float *vp_all, __global uchar *o, long o_offset,
                         long ob_stride, long oh_stride, long os_stride, int seq_q, int seq_kv,
                         int head_dim, int dp, int group, int heads_kv, int kv_blocks, int causal,
                         float scale_log2, const int dt) {
    /* The row blocks that see the most keys come first, so that the short ones fill the end. */
    int qb = get_global_size(0) - 1 - get_global_id(0);
    int h = get_global_id(1), b = get_global_id(2);
    int i0 = qb * ATT_BQ;
    int rows = min(ATT_BQ, seq_q - i0);
    long bh = (long)b * heads_kv + h / group;
    const __global float *kt = kt_all + bh * kv_blocks * head_dim * XV;
    const __global float *vp = vp_all + bh * kv_blocks * XV * dp;

    float qs[ATT_BQ][ATT_DMAX];
    float acc[ATT_BQ][ATT_DMAX];
    float m[ATT_BQ], l[ATT_BQ], p[ATT_BQ][XV];
    for (int i = 0; i < ATT_BQ; i++) {
        long row = q_offset + b * qb_stride + h * qh_stride + (long)(i0 + i) * qs_stride;
        for (int d = 0; d < head_dim; d++)
            qs[i][d] = i < rows ? load1(q, row + d, dt) * scale_log2 : 0.0f;
        for (int d = 0; d < dp; d++)
            acc[i][d] = 0.0f;
        m[i] = LOG_ZERO;
        l[i] = 0.0f;
    }

    /* Keys seen by the block's last row bound the walk; blocks past the first row's limit (or
     * past the keys) need the mask. */
    int last = last_key(i0 + rows - 1, seq_q, seq_kv, causal);
    int first = last_key(i0, seq_q, seq_kv, causal);
    int blocks = last < 0 ? 0 : last / XV + 1;
    for (int kb = 0; kb < blocks; kb++) {
        int key_base = kb * XV;
        const __global float *kt_block = kt + (long)kb * head_dim * XV;
        floatX s[ATT_BQ];
#pragma unroll
        for (int i = 0; i < ATT_BQ; i++)
            s[i] = (floatX)(0.0f);
        for (int d = 0; d < head_dim; d++) {
            floatX kv = vloadX(0, kt_block + d * XV);
#pragma unroll
            for (int i = 0; i < ATT_BQ; i++)
                s[i] = fma((floatX)(qs[i][d]), kv, s[i]);
        }

        int masked = key_base + XV - 1 > first;
        float correction[ATT_BQ];
#pragma unroll
        for (int i = 0; i < ATT_BQ; i++)
            correction[i] = online_update(s[i], key_base, last_key(i0 + i, seq_q, seq_kv, causal),
                                          masked, &m[i], &l[i], p[i]);

        const __global float *v_block = vp + (long)key_base * dp;
        for (int c = 0; c < dp; c += XV) {
            floatX a[ATT_BQ];
#pragma unroll
            for (int i = 0; i < ATT_BQ; i++)
                a[i] = vloadX(0, &acc[i][c]) * correction[i];
            for (int j = 0; j < XV; j++) {
                floatX vv = vloadX(0, v_block + (long)j * dp + c);
#pragma unroll
                for (int i = 0; i < ATT_BQ; i++)
                    a[i] = fma((floatX)(p[i][j]), vv, a[i]);
            }
#pragma unroll
            for (int i = 0; i < ATT_BQ; i++)
                vstoreX(a[i], 0, &acc[i][c]);
        }
    }

    for (int i = 0; i < rows; i++) {
        long row = o_offset + b * ob_stride + h * oh_stride + (long)(i0 + i) * os_stride;
        store_output(o, row, acc[i], head_dim, l[i] > 0.0f ? 1.0f / l[i] : 0.0f, dt);
    }
}

#define PREFILL_KERNEL(NAME, DT)                                                                   \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(                             \
        const __global uchar *q, long q_offset, long qb_stride, long qh_stride, long qs_stride,    \
        const __global float *kt, const __global float *vp, __global uchar *o, long o_offset,      \
        long ob_stride, long oh_stride, long os_stride, int seq_q, int seq_kv, int head_dim,       \
        int dp, int group, int heads_kv, int kv_blocks, int causal, float scale_log2) {            \
        prefill_body(q, q_offset, qb_stride, qh_stride, qs_stride, kt, vp, o, o_offset, ob_stride, \
                     oh_stride, os_stride, seq_q, seq_kv, head_dim, dp, group, heads_kv,           \
                     kv_blocks, causal, scale_log2, (DT));                                         \
    }

PREFILL_KERNEL(attn_prefill_f32, DT_F32)
PREFILL_KERNEL(attn_prefill_f16, DT_F16)
PREFILL_KERNEL(attn_prefill_bf16, DT_BF16)

/* ---- Decode: split over the keys ---- */

/*
 * Global size: (chunks, heads_kv * row_blocks, batch). The rows of KV head hk are r = 0 ..
 * group * seq_q - 1, query head hk * group + r / seq_q at position r % seq_q. The partials of
 * row (b, h, i) and chunk c sit at index ((b * heads_q + h) * seq_q + i) * chunks + c of
 * part_m / part_l, times dp in part_acc.
 */
inline void decode_body(const __global uchar *q, long q_offset, long qb_stride, long qh_stride,
                        long qs_stride, const __global uchar *k, long k_offset, long kb_stride,
                        long kh_stride, long ks_stride, const __global uchar *v, long v_offset,
                        long vb_stride, long vh_stride, long vs_stride, int seq_q, int seq_kv,
                        int head_dim, int dp, int group, int chunk, int causal, float scale_log2,
                        __global float *part_m, __global float *part_l, __global float *part_acc,
                        const int dt) {
    int c = get_global_id(0), b = get_global_id(2);
    int chunks = get_global_size(0);
    int row_blocks = (group * seq_q + ATT_DEC_RB - 1) / ATT_DEC_RB;
    int hk = get_global_id(1) / row_blocks;
    int r0 = get_global_id(1) % row_blocks * ATT_DEC_RB;
    int rows = min(ATT_DEC_RB, group * seq_q - r0);
    int key_begin = c * chunk, key_end = min(seq_kv, key_begin + chunk);
    int dv = head_dim - head_dim % XV; /* dims read as whole vectors */

    float qs[ATT_DEC_RB][ATT_DMAX];
    float acc[ATT_DEC_RB][ATT_DMAX];
    float m[ATT_DEC_RB], l[ATT_DEC_RB], p[ATT_DEC_RB][XV], s[ATT_DEC_RB][XV];
    int limit[ATT_DEC_RB];
    for (int r = 0; r < ATT_DEC_RB; r++) {
        int h = hk * group + (r0 + r) / seq_q, i = (r0 + r) % seq_q;
        long row = q_offset + b * qb_stride + h * qh_stride + (long)i * qs_stride;
        for (int d = 0; d < dp; d++) {
            qs[r][d] = r < rows && d < head_dim ? load1(q, row + d, dt) * scale_log2 : 0.0f;
            acc[r][d] = 0.0f;
        }
        m[r] = LOG_ZERO;
        l[r] = 0.0f;
        limit[r] = r < rows ? min(last_key(i, seq_q, seq_kv, causal), key_end - 1) : -1;
    }
    int last = -1;
    for (int r = 0; r < rows; r++)
        last = max(last, limit[r]);

    long k_head = k_offset + b * kb_stride + hk * kh_stride;
    long v_head = v_offset + b * vb_stride + hk * vh_stride;
    for (int key_base = key_begin; key_base <= last; key_base += XV) {
        int keys = min(XV, last + 1 - key_base);
        for (int j = 0; j < XV; j++) {
            if (j >= keys) {
#pragma unroll
                for (int r = 0; r < ATT_DEC_RB; r++)
                    s[r][j] = LOG_ZERO;
                continue;
            }
            long k_row = k_head + (long)(key_base + j) * ks_stride;
            floatX t[ATT_DEC_RB];
#pragma unroll
            for (int r = 0; r < ATT_DEC_RB; r++)
                t[r] = (floatX)(0.0f);
            for (int d = 0; d < dv; d += XV) {
                floatX kv = loadX(k, k_row + d, dt);
#pragma unroll
                for (int r = 0; r < ATT_DEC_RB; r++)
                    t[r] = fma(vloadX(0, &qs[r][d]), kv, t[r]);
            }
#pragma unroll
            for (int r = 0; r < ATT_DEC_RB; r++) {
                float sum = hsumX(t[r]);
                for (int d = dv; d < head_dim; d++)
                    sum = fma(qs[r][d], load1(k, k_row + d, dt), sum);
                s[r][j] = sum;
            }
        }

        float correction[ATT_DEC_RB];
        /* Not unrolled: with this loop unrolled, PoCL 3.1 (LLVM 15) computes wrong weights for
         * causal rows of a GQA group (test_attention's test_causal and test_gqa_mqa fail). */
        for (int r = 0; r < ATT_DEC_RB; r++)
            correction[r] =
                online_update(vloadX(0, s[r]), key_base, limit[r], 1, &m[r], &l[r], p[r]);

        for (int d = 0; d < dp; d += XV) {
            floatX a[ATT_DEC_RB];
#pragma unroll
            for (int r = 0; r < ATT_DEC_RB; r++)
                a[r] = vloadX(0, &acc[r][d]) * correction[r];
            for (int j = 0; j < keys; j++) {
                long v_row = v_head + (long)(key_base + j) * vs_stride;
                floatX vv = d + XV <= head_dim ? loadX(v, v_row + d, dt)
                                               : load_partial(v, v_row + d, head_dim - d, dt);
#pragma unroll
                for (int r = 0; r < ATT_DEC_RB; r++)
                    a[r] = fma((floatX)(p[r][j]), vv, a[r]);
            }
#pragma unroll
            for (int r = 0; r < ATT_DEC_RB; r++)
                vstoreX(a[r], 0, &acc[r][d]);
        }
    }

    int heads_q = get_global_size(1) / row_blocks * group;
    for (int r = 0; r < rows; r++) {
        int h = hk * group + (r0 + r) / seq_q, i = (r0 + r) % seq_q;
        long at = (((long)b * heads_q + h) * seq_q + i) * chunks + c;
        part_m[at] = m[r];
        part_l[at] = l[r];
        for (int d = 0; d < dp; d += XV)
            vstoreX(vloadX(0, &acc[r][d]), 0, part_acc + at * dp + d);
    }
}

#define DECODE_KERNEL(NAME, DT)                                                                    \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(                             \
        const __global uchar *q, long q_offset, long qb_stride, long qh_stride, long qs_stride,    \
        const __global uchar *k, long k_offset, long kb_stride, long kh_stride, long ks_stride,    \
        const __global uchar *v, long v_offset, long vb_stride, long vh_stride, long vs_stride,    \
        int seq_q, int seq_kv, int head_dim, int dp, int group, int chunk, int causal,             \
        float scale_log2, __global float *part_m, __global float *part_l,                          \
        __global float *part_acc) {                                                                \
        decode_body(q, q_offset, qb_stride, qh_stride, qs_stride, k, k_offset, kb_stride,          \
                    kh_stride, ks_stride, v, v_offset, vb_stride, vh_stride, vs_stride, seq_q,     \
                    seq_kv, head_dim, dp, group, chunk, causal, scale_log2, part_m, part_l,        \
                    part_acc, (DT));                                                               \
    }

DECODE_KERNEL(attn_decode_f32, DT_F32)
DECODE_KERNEL(attn_decode_f16, DT_F16)
DECODE_KERNEL(attn_decode_bf16, DT_BF16)

/* Global size: (seq_q, heads_q, batch). Merges the chunks' partials of one row into O. */
inline void combine_body(const __global float *part_m, const __global float *part_l,
                         const __global float *part_acc, int chunks, __global uchar *o,
                         long o_offset, long ob_stride, long oh_stride, long os_stride, int seq_q,
                         int head_dim, int dp, const int dt) {
    int i = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    long first = (((long)b * get_global_size(1) + h) * seq_q + i) * chunks;
    float m_max = LOG_ZERO;
    for (int c = 0; c < chunks; c++)
        m_max = fmax(m_max, part_m[first + c]);
    float acc[ATT_DMAX];
    for (int d = 0; d < dp; d++)
        acc[d] = 0.0f;
    float l = 0.0f;
    if (m_max != LOG_ZERO) {
        for (int c = 0; c < chunks; c++) {
            float mc = part_m[first + c];
            if (mc == LOG_ZERO) continue; /* a chunk this row sees no key of */
            float w = exp2(mc - m_max);
            l = fma(part_l[first + c], w, l);
            const __global float *pa = part_acc + (first + c) * dp;
            for (int d = 0; d < dp; d += XV)
                vstoreX(fma(vloadX(0, pa + d), (floatX)(w), vloadX(0, acc + d)), 0, acc + d);
        }
    }
    long row = o_offset + b * ob_stride + h * oh_stride + (long)i * os_stride;
    store_output(o, row, acc, head_dim, l > 0.0f ? 1.0f / l : 0.0f, dt);
}

#define COMBINE_KERNEL(NAME, DT)                                                                   \
    __kernel void NAME(const __global float *part_m, const __global float *part_l,                 \
                       const __global float *part_acc, int chunks, __global uchar *o,              \
                       long o_offset, long ob_stride, long oh_stride, long os_stride, int seq_q,   \
                       int head_dim, int dp) {                                                     \
        combine_body(part_m, part_l, part_acc, chunks, o, o_offset, ob_stride, oh_stride,          \
                     os_stride, seq_q, head_dim, dp, (DT));                                        \
    }

COMBINE_KERNEL(attn_combine_f32, DT_F32)
COMBINE_KERNEL(attn_combine_f16, DT_F16)
COMBINE_KERNEL(attn_combine_bf16, DT_BF16)
