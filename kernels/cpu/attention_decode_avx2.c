/*
 * The AVX2 + FMA + F16C decode microkernel (see attention_ukernel.h for what it computes) and
 * the conversion the AVX2 table uses.
 *
 * Decode is memory bound: per byte of K or V it does (query rows) / 8 FMAs, so the work is to
 * read each byte once, in whole lines, with the arithmetic hidden behind the loads. K and V stay
 * in their dtype in memory and are widened in registers (F16C for f16, a 16-bit shift for
 * bf16); each vector of K or V, once widened, serves a block of query rows:
 *
 *  - scores: an RB x KB block of (row, key) dot products in 8 accumulators over head_dim (16-bit
 *    K: 4 rows x 2 keys, each widened K vector used by 4 rows; f32: 2 rows x 4 keys, fewer
 *    loads), reduced by one tree of horizontal adds into a vector of 8 scores;
 *  - the online softmax per row, 8 keys a vector;
 *  - O += P V in blocks of 4 rows x 16 dims: 2 widened V vectors, 4 broadcasts, 8 FMAs a key.
 *
 * The prefetches the driver asks for (a later step's rows) are spread over both passes, a few
 * lines per block of work.
 */
#include "attention_ukernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX2)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "attention_avx2.h"

#define INLINE static inline __attribute__((always_inline))

/* exp2(x) for x <= 0: 2^round(x) * 2^r with Cephes' polynomial (|r| <= 1/2, relative error
 * about 2e-7); 0 below -126, so a masked score of -inf contributes exactly nothing. */
INLINE __m256 exp2_ps(__m256 x) {
    __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(-126.0f), _CMP_GE_OQ);
    x = _mm256_max_ps(x, _mm256_set1_ps(-126.0f));
    __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_sub_ps(x, n);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(1.535336188319500e-4f), r,
                               _mm256_set1_ps(1.339887440266574e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(9.618437357674640e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.550332471162809e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(2.402264791363012e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(6.931472028550421e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(keep, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

/* tanh(x) as attention_portable.h computes it: Cephes' polynomial below |x| = 0.625,
 * (1 - t) / (1 + t) with t = e^-2|x| above, the sign put back. */
INLINE __m256 tanh_ps(__m256 x) {
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    __m256 ax = _mm256_andnot_ps(sign, x), z = _mm256_mul_ps(x, x);
    __m256 p =
        _mm256_fmadd_ps(_mm256_set1_ps(-5.70498872745e-3f), z, _mm256_set1_ps(2.06390887954e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    __m256 t = exp2_ps(_mm256_mul_ps(_mm256_set1_ps(-2.88539008177792681f), ax));
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 large = _mm256_div_ps(_mm256_sub_ps(one, t), _mm256_add_ps(one, t));
    large = _mm256_or_ps(large, _mm256_and_ps(sign, x));
    return _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

/* Lanes below n set (n <= 8), as a maskload/maskstore mask. */
INLINE __m256i lanes_below(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* 8 16-bit values widened to f32: F16C for f16, a shift into the high half for bf16. */
INLINE __m256 widen(__m128i h, xhal_dtype_t t) {
    if (t == XHAL_DTYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* Elements [p, p + 8) of a K or V row as f32. `t` is a constant in every caller. */
INLINE __m256 kv_load(const void *row, size_t p, xhal_dtype_t t) {
    if (t == XHAL_DTYPE_F32) return _mm256_loadu_ps((const float *)row + p);
    return widen(_mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)row + p)), t);
}

/* Elements [p, p + n) (n < 8) of a row, zeros above, reading nothing past element p + n. */
INLINE __m256 kv_load_tail(const void *row, size_t p, size_t n, xhal_dtype_t t) {
    if (t == XHAL_DTYPE_F32) return _mm256_maskload_ps((const float *)row + p, lanes_below(n));
    uint16_t part[8] = {0};
    memcpy(part, (const uint16_t *)row + p, n * sizeof *part);
    return widen(_mm_loadu_si128((const __m128i *)(void *)part), t);
}

void xk_att_convert_avx2(float *dst, size_t ld_dst, const void *src, int64_t src_stride,
                         xhal_dtype_t type, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float *d = dst + r * ld_dst;
        const void *row = (const char *)src + r * (size_t)src_stride * xhal_dtype_size(type);
        if (type == XHAL_DTYPE_F32) {
            memcpy(d, row, cols * sizeof *d);
            continue;
        }
        size_t c = 0;
        for (; c + 8 <= cols; c += 8)
            _mm256_storeu_ps(d + c, type == XHAL_DTYPE_F16 ? kv_load(row, c, XHAL_DTYPE_F16)
                                                           : kv_load(row, c, XHAL_DTYPE_BF16));
        if (c < cols)
            _mm256_maskstore_ps(d + c, lanes_below(cols - c),
                                type == XHAL_DTYPE_F16
                                    ? kv_load_tail(row, c, cols - c, XHAL_DTYPE_F16)
                                    : kv_load_tail(row, c, cols - c, XHAL_DTYPE_BF16));
    }
}

/* ---- scores ------------------------------------------------------------------------------- */

/* Lane i of the result = the sum of the lanes of x[i]. */
INLINE __m256 reduce8(const __m256 *x) {
    __m256 t0 = _mm256_hadd_ps(x[0], x[1]), t1 = _mm256_hadd_ps(x[2], x[3]);
    __m256 t2 = _mm256_hadd_ps(x[4], x[5]), t3 = _mm256_hadd_ps(x[6], x[7]);
    __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20),
                         _mm256_permute2f128_ps(u0, u1, 0x31));
}

/*
 * Scores of rows [r0, r0 + nr) (nr <= 8 / KB) and keys [j0, j0 + KB) (those past `keys` reread the
 * last key and are stored as -inf): lane r * KB + k of the reduced vector is row
 * r0 + r, key j0 + k, stored as KB consecutive scores of each row.
 */
INLINE void scores_block(const xk_att_chunk_t *c, size_t r0, int nr, size_t j0, int KB,
                         xhal_dtype_t t) {
    const void *k[4];
#pragma GCC unroll 4
    for (int i = 0; i < KB; i++)
        k[i] = c->k[j0 + (size_t)i < c->keys ? j0 + (size_t)i : c->keys - 1];
    const float *q = c->q + r0 * c->ldq;
    const size_t ldq = c->ldq, dim = c->dim;
    __m256 acc[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        acc[i] = _mm256_setzero_ps();
    size_t p = 0;
    for (; p + 8 <= dim; p += 8) {
        __m256 kv[4];
#pragma GCC unroll 4
        for (int i = 0; i < KB; i++)
            kv[i] = kv_load(k[i], p, t);
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m256 qv = _mm256_load_ps(q + (size_t)r * ldq + p);
#pragma GCC unroll 4
            for (int i = 0; i < KB; i++)
                acc[r * KB + i] = _mm256_fmadd_ps(qv, kv[i], acc[r * KB + i]);
        }
    }
    if (p < dim) { /* q is zero-padded; K is read only up to dim */
        __m256 kv[4];
#pragma GCC unroll 4
        for (int i = 0; i < KB; i++)
            kv[i] = kv_load_tail(k[i], p, dim - p, t);
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m256 qv = _mm256_load_ps(q + (size_t)r * ldq + p);
#pragma GCC unroll 4
            for (int i = 0; i < KB; i++)
                acc[r * KB + i] = _mm256_fmadd_ps(qv, kv[i], acc[r * KB + i]);
        }
    }
    __m256 sc = reduce8(acc);
    if (c->cap != 0.0f) sc = _mm256_mul_ps(_mm256_set1_ps(c->cap), tanh_ps(sc));
    /* Lane r * KB + i is key j0 + i of row r0 + r: seen when below keys and in [lo, hi). */
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i key = _mm256_add_epi32(_mm256_set1_epi32((int)j0),
                                   _mm256_and_si256(lane, _mm256_set1_epi32(KB - 1)));
    __m256i seen = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)c->keys), key);
    if (c->lo) {
        int lo[8], hi[8];
        for (int i = 0; i < 8; i++) {
            size_t r = r0 + (size_t)(i / KB < nr ? i / KB : 0);
            lo[i] = c->lo[r];
            hi[i] = c->hi[r];
        }
        __m256i vlo = _mm256_loadu_si256((const __m256i *)(void *)lo);
        __m256i vhi = _mm256_loadu_si256((const __m256i *)(void *)hi);
        seen = _mm256_and_si256(seen, _mm256_cmpgt_epi32(vhi, key));
        seen = _mm256_andnot_si256(_mm256_cmpgt_epi32(vlo, key), seen);
    }
    sc = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), sc, _mm256_castsi256_ps(seen));
    float out[8];
    _mm256_storeu_ps(out, sc);
    for (int r = 0; r < nr; r++)
        memcpy(c->s + (r0 + (size_t)r) * c->lds + j0, out + r * KB, (size_t)KB * sizeof *out);
}

/* ---- the chunk ---------------------------------------------------------------------------- */

/* Online softmax of row r over the chunk: scores become probabilities, m, l and corr updated. */
INLINE void softmax_row(const xk_att_chunk_t *c, size_t r, size_t padded) {
    float *s = c->s + r * c->lds;
    __m256 mx = _mm256_set1_ps(-INFINITY);
    for (size_t j = 0; j < padded; j += 8)
        mx = _mm256_max_ps(mx, _mm256_load_ps(s + j));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float m = c->m[r], m_new = fmaxf(m, _mm_cvtss_f32(h));
    float base = m_new == -INFINITY ? 0.0f : m_new;
    __m256 vbase = _mm256_set1_ps(base), sum = _mm256_setzero_ps();
    for (size_t j = 0; j < padded; j += 8) {
        __m256 p = exp2_ps(_mm256_sub_ps(_mm256_load_ps(s + j), vbase));
        _mm256_store_ps(s + j, p);
        sum = _mm256_add_ps(sum, p);
    }
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    float corr = _mm_cvtss_f32(_mm256_castps256_ps128(exp2_ps(_mm256_set1_ps(m - base))));
    c->corr[r] = corr;
    c->l[r] = c->l[r] * corr + _mm_cvtss_f32(t);
    c->m[r] = m_new;
}

/* Dims [c0, c0 + 16) of V row v: whole vectors when `full`, else up to dim only (zeros above). */
INLINE void v_load(const void *v, size_t c0, size_t dim, int full, xhal_dtype_t t, __m256 *v0,
                   __m256 *v1) {
    size_t left = dim - c0;
    if (full) {
        *v0 = kv_load(v, c0, t);
        *v1 = kv_load(v, c0 + 8, t);
    } else if (left > 8) {
        *v0 = kv_load(v, c0, t);
        *v1 = kv_load_tail(v, c0 + 8, left - 8, t);
    } else {
        *v0 = left == 8 ? kv_load(v, c0, t) : kv_load_tail(v, c0, left, t);
        *v1 = _mm256_setzero_ps();
    }
}

/* O rows [r0, r0 + nr), dims [c0, c0 + 16): corr O + P V, keys two a turn (O's padding makes
 * whole vectors safe to store; V is read only up to dim, `full` when it holds all 16). */
INLINE void pv_block(const xk_att_chunk_t *c, size_t r0, int nr, size_t c0, int full,
                     xhal_dtype_t t) {
    __m256 acc[4][2];
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++) {
        const float *o = c->o + (r0 + (size_t)r) * c->ldo + c0;
        __m256 corr = _mm256_set1_ps(c->corr[r0 + (size_t)r]);
        acc[r][0] = _mm256_mul_ps(_mm256_load_ps(o), corr);
        acc[r][1] = _mm256_mul_ps(_mm256_load_ps(o + 8), corr);
    }
    const float *s = c->s + r0 * c->lds;
    const size_t lds = c->lds, dim = c->dim, keys = c->keys;
    const void *const *vrow = c->v;
    size_t j = 0;
    for (; j + 2 <= keys; j += 2) {
        __m256 a0, a1, b0, b1;
        v_load(vrow[j], c0, dim, full, t, &a0, &a1);
        v_load(vrow[j + 1], c0, dim, full, t, &b0, &b1);
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m256 p = _mm256_broadcast_ss(s + (size_t)r * lds + j);
            __m256 q = _mm256_broadcast_ss(s + (size_t)r * lds + j + 1);
            acc[r][0] = _mm256_fmadd_ps(q, b0, _mm256_fmadd_ps(p, a0, acc[r][0]));
            acc[r][1] = _mm256_fmadd_ps(q, b1, _mm256_fmadd_ps(p, a1, acc[r][1]));
        }
    }
    if (j < keys) {
        __m256 a0, a1;
        v_load(vrow[j], c0, dim, full, t, &a0, &a1);
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            __m256 p = _mm256_broadcast_ss(s + (size_t)r * lds + j);
            acc[r][0] = _mm256_fmadd_ps(p, a0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(p, a1, acc[r][1]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < nr; r++) {
        float *o = c->o + (r0 + (size_t)r) * c->ldo + c0;
        _mm256_store_ps(o, acc[r][0]);
        _mm256_store_ps(o + 8, acc[r][1]);
    }
}

/* The row block's P V over every 16 dims, with the block's share of the prefetches. */
INLINE void pv_rows(const xk_att_chunk_t *c, size_t r0, int nr, xhal_dtype_t t, xk_att_pf_t *pf,
                    size_t per_slot) {
    size_t c0 = 0;
    for (; c0 + 16 <= c->dim; c0 += 16) {
        xk_att_pf_issue(pf, per_slot);
        pv_block(c, r0, nr, c0, 1, t);
    }
    if (c0 < c->dim) {
        xk_att_pf_issue(pf, per_slot);
        pv_block(c, r0, nr, c0, 0, t);
    }
}

/* One row block's scores over the chunk, RB x KB at a time, with its share of the prefetches. */
#define SCORES_ROWS(RB, KB, nr)                                                                    \
    for (size_t j0 = 0; j0 < c->keys; j0 += (KB)) {                                                \
        xk_att_pf_issue(&pf, per_slot);                                                            \
        scores_block(c, r0, nr, j0, KB, t);                                                        \
    }

INLINE void decode_chunk_as(const xk_att_chunk_t *c, xhal_dtype_t t) {
    /* 16-bit K: 4 rows share each widened vector; f32 K: 4 keys share each Q load. */
    const int RB = t == XHAL_DTYPE_F32 ? 2 : 4, KB = 8 / RB;
    const size_t row_blocks = (c->rows + (size_t)RB - 1) / (size_t)RB;
    const size_t key_blocks = (c->keys + (size_t)KB - 1) / (size_t)KB;
    const size_t pv_blocks = (c->rows + 3) / 4 * ((c->dim + 15) / 16);
    size_t per_slot;
    xk_att_pf_t pf = xk_att_pf_start(c, row_blocks * key_blocks + pv_blocks, &per_slot);

    for (size_t r0 = 0; r0 < c->rows; r0 += (size_t)RB) {
        int nr = c->rows - r0 < (size_t)RB ? (int)(c->rows - r0) : RB;
        if (RB == 4) {
            switch (nr) {
            case 1:
                SCORES_ROWS(4, 2, 1) break;
            case 2:
                SCORES_ROWS(4, 2, 2) break;
            case 3:
                SCORES_ROWS(4, 2, 3) break;
            default:
                SCORES_ROWS(4, 2, 4) break;
            }
        } else if (nr == 1) {
            SCORES_ROWS(2, 4, 1)
        } else {
            SCORES_ROWS(2, 4, 2)
        }
    }

    size_t padded = (c->keys + 7) / 8 * 8; /* scores past `keys` are -inf: p = 0 */
    for (size_t r = 0; r < c->rows; r++) {
        for (size_t j = c->keys; j < padded; j++)
            c->s[r * c->lds + j] = -INFINITY;
        softmax_row(c, r, padded);
    }

    for (size_t r0 = 0; r0 < c->rows; r0 += 4) {
        switch (c->rows - r0 < 4 ? c->rows - r0 : 4) {
        case 1:
            pv_rows(c, r0, 1, t, &pf, per_slot);
            break;
        case 2:
            pv_rows(c, r0, 2, t, &pf, per_slot);
            break;
        case 3:
            pv_rows(c, r0, 3, t, &pf, per_slot);
            break;
        default:
            pv_rows(c, r0, 4, t, &pf, per_slot);
            break;
        }
    }
}

/* One copy of the loops per dtype of K and V. */
void xk_att_decode_chunk_avx2(const xk_att_chunk_t *c) {
    switch (c->kv_type) {
    case XHAL_DTYPE_F16:
        decode_chunk_as(c, XHAL_DTYPE_F16);
        break;
    case XHAL_DTYPE_BF16:
        decode_chunk_as(c, XHAL_DTYPE_BF16);
        break;
    default:
        decode_chunk_as(c, XHAL_DTYPE_F32);
        break;
    }
}
#endif
