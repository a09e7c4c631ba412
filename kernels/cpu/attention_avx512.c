/*
 * AVX-512 attention microkernels (see attention_ukernel.h for what they compute).
 *
 * Prefill: lanes are query rows, 32 at a time (two zmm; a trailing 16 use one). The scores are
 * an MR x 32 register tile (MR keys, each key's element broadcast straight from its K row) over
 * head_dim; the P V product an MR x 32 tile of O^T (MR dims, broadcast from V rows) over the
 * tile's keys. With MR = 8 that is 16 FMAs to 2 vector loads and 8 broadcasts per step, and
 * 16 independent accumulators: enough to cover the 4-cycle FMA latency on one or two pipes.
 * The softmax between them is vertical: max, exp2 and sums per lane, no shuffles.
 *
 * Decode: lanes run along head_dim. 16 keys' dot products with one query row are 16 zmm
 * accumulators, reduced together by a transpose-and-add tree (15 adds, 1 permute) into one
 * vector of 16 scores; K streams in once per chunk and the group's rows reuse it from L1.
 */
#include "attention_ukernel.h"
#include "isa.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX512)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define MR 8
#define INLINE static inline __attribute__((always_inline))

/* exp2(x) for x <= 0: 2^round(x) * 2^r with Cephes' polynomial for |r| <= 1/2 (relative error
 * about 2e-7); vscalefps gives exactly 0 below -150, so -inf (a masked score) yields 0. */
INLINE __m512 exp2_ps(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-150.0f), x);
    __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_sub_ps(x, n);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.535336188319500e-4f), r,
                               _mm512_set1_ps(1.339887440266574e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(9.618437357674640e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.550332471162809e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2.402264791363012e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(6.931472028550421e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* tanh(x) as attention_portable.h computes it: Cephes' polynomial below |x| = 0.625,
 * (1 - t) / (1 + t) with t = e^-2|x| above, the sign put back. */
INLINE __m512 tanh_ps(__m512 x) {
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u));
    __m512 ax = _mm512_andnot_ps(sign, x), z = _mm512_mul_ps(x, x);
    __m512 p =
        _mm512_fmadd_ps(_mm512_set1_ps(-5.70498872745e-3f), z, _mm512_set1_ps(2.06390887954e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    __m512 t = exp2_ps(_mm512_mul_ps(_mm512_set1_ps(-2.88539008177792681f), ax));
    __m512 one = _mm512_set1_ps(1.0f);
    __m512 large = _mm512_div_ps(_mm512_sub_ps(one, t), _mm512_add_ps(one, t));
    large = _mm512_or_ps(large, _mm512_and_ps(sign, x));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ), large,
                                small);
}

/* The soft-cap in the log2 domain: cap * tanh(x) (callers skip it when cap is 0). */
INLINE __m512 cap_ps(__m512 x, float cap) {
    return _mm512_mul_ps(_mm512_set1_ps(cap), tanh_ps(x));
}

static __mmask16 tail_mask(size_t n) {
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

static void convert(float *dst, size_t ld_dst, const void *src, int64_t src_stride,
                    xhal_dtype_t type, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float *d = dst + r * ld_dst;
        if (type == XHAL_DTYPE_F32) {
            memcpy(d, (const float *)src + (int64_t)r * src_stride, cols * sizeof *d);
            continue;
        }
        const uint16_t *s = (const uint16_t *)src + (int64_t)r * src_stride;
        for (size_t c = 0; c < cols; c += 16) {
            __mmask16 k = tail_mask(cols - c);
            __m256i h = _mm256_maskz_loadu_epi16(k, s + c);
            __m512 f = type == XHAL_DTYPE_F16
                           ? _mm512_cvtph_ps(h)
                           : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
            _mm512_mask_storeu_ps(d + c, k, f);
        }
    }
}

/* ---- prefill ---------------------------------------------------------------------------- */

/* Scores of keys [j0, j0 + rows) for lanes [l0, l0 + 16 nv), -inf where masked. */
INLINE void scores(const xk_att_tile_t *t, size_t j0, size_t l0, int rows, int nv) {
    __m512 acc[MR][2];
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    const float *k = t->k + j0 * t->ldk, *q = t->qt + l0;
    const size_t ldk = t->ldk, lanes = t->lanes;
    for (size_t p = 0; p < t->dim; p++) {
        __m512 b0 = _mm512_load_ps(q + p * lanes);
        __m512 b1 = nv > 1 ? _mm512_load_ps(q + p * lanes + 16) : b0;
#pragma GCC unroll 16
        for (int r = 0; r < rows; r++) {
            __m512 a = _mm512_set1_ps(k[r * ldk + p]);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            if (nv > 1) acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
        }
    }
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512i lo[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()}, hi[2] = {lo[0], lo[1]};
    if (t->lo)
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++) {
            lo[v] = _mm512_loadu_si512(t->lo + l0 + 16 * v);
            hi[v] = _mm512_loadu_si512(t->hi + l0 + 16 * v);
        }
#pragma GCC unroll 16
    for (int r = 0; r < rows; r++) {
        __m512i key = _mm512_set1_epi32((int)(j0 + (size_t)r));
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++) {
            __m512 x = acc[r][v];
            if (t->cap != 0.0f) x = cap_ps(x, t->cap);
            if (t->lo) {
                __mmask16 seen =
                    _mm512_cmpgt_epi32_mask(hi[v], key) & _mm512_cmple_epi32_mask(lo[v], key);
                x = _mm512_mask_blend_ps(seen, ninf, x);
            }
            _mm512_store_ps(t->s + (j0 + (size_t)r) * lanes + l0 + 16 * v, x);
        }
    }
}

/* O^T dims [c0, c0 + rows), lanes [l0, l0 + 16 nv): corr O^T + V^T P^T. */
INLINE void pv(const xk_att_tile_t *t, size_t c0, size_t l0, int rows, int nv, const __m512 *corr,
               const char *pf, size_t pf_ld) {
    __m512 acc[MR][2];
    const size_t lanes = t->lanes, ldv = t->ldv;
    float *o = t->ot + c0 * lanes + l0;
#pragma GCC unroll 16
    for (int r = 0; r < rows; r++)
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++)
            acc[r][v] = _mm512_mul_ps(_mm512_load_ps(o + r * lanes + 16 * v), corr[v]);
    const float *vp = t->v + c0, *sp = t->s + l0;
    for (size_t j = 0; j < t->keys; j++) {
        if (pf && j < t->pf.rows) _mm_prefetch(pf + j * pf_ld, _MM_HINT_T1);
        __m512 b0 = _mm512_load_ps(sp + j * lanes);
        __m512 b1 = nv > 1 ? _mm512_load_ps(sp + j * lanes + 16) : b0;
#pragma GCC unroll 16
        for (int r = 0; r < rows; r++) {
            __m512 a = _mm512_set1_ps(vp[j * ldv + (size_t)r]);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            if (nv > 1) acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < rows; r++)
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++)
            _mm512_store_ps(o + r * lanes + 16 * v, acc[r][v]);
}

/* The switches instantiate each block for a constant row count and lane width. */
#define ROWS_CASES(call, n)                                                                        \
    switch (n) {                                                                                   \
    case 1:                                                                                        \
        call(1);                                                                                   \
        break;                                                                                     \
    case 2:                                                                                        \
        call(2);                                                                                   \
        break;                                                                                     \
    case 3:                                                                                        \
        call(3);                                                                                   \
        break;                                                                                     \
    case 4:                                                                                        \
        call(4);                                                                                   \
        break;                                                                                     \
    case 5:                                                                                        \
        call(5);                                                                                   \
        break;                                                                                     \
    case 6:                                                                                        \
        call(6);                                                                                   \
        break;                                                                                     \
    case 7:                                                                                        \
        call(7);                                                                                   \
        break;                                                                                     \
    default:                                                                                       \
        call(MR);                                                                                  \
        break;                                                                                     \
    }

INLINE void panel(const xk_att_tile_t *t, size_t l0, int nv) {
    for (size_t j0 = 0; j0 < t->keys; j0 += MR) {
        size_t n = t->keys - j0;
#define SCORES(r) scores(t, j0, l0, r, nv)
        ROWS_CASES(SCORES, n < MR ? n : MR)
#undef SCORES
    }

    /* Online softmax per lane: new max, the correction of what was summed, probabilities. */
    __m512 mx[2] = {_mm512_set1_ps(-INFINITY), _mm512_set1_ps(-INFINITY)};
    for (size_t j = 0; j < t->keys; j++)
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++)
            mx[v] = _mm512_max_ps(mx[v], _mm512_load_ps(t->s + j * t->lanes + l0 + 16 * v));
    __m512 base[2], corr[2], sum[2];
#pragma GCC unroll 16
    for (int v = 0; v < nv; v++) {
        __m512 m = _mm512_loadu_ps(t->m + l0 + 16 * v);
        __m512 m_new = _mm512_max_ps(m, mx[v]);
        /* A lane that has seen no key keeps m = -inf; a base of 0 keeps exp2 free of NaN. */
        base[v] =
            _mm512_mask_blend_ps(_mm512_cmp_ps_mask(m_new, _mm512_set1_ps(-INFINITY), _CMP_EQ_OQ),
                                 m_new, _mm512_setzero_ps());
        corr[v] = exp2_ps(_mm512_sub_ps(m, base[v]));
        _mm512_storeu_ps(t->m + l0 + 16 * v, m_new);
        sum[v] = _mm512_setzero_ps();
    }
    for (size_t j = 0; j < t->keys; j++)
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++) {
            float *s = t->s + j * t->lanes + l0 + 16 * v;
            __m512 p = exp2_ps(_mm512_sub_ps(_mm512_load_ps(s), base[v]));
            _mm512_store_ps(s, p);
            sum[v] = _mm512_add_ps(sum[v], p);
        }
#pragma GCC unroll 16
    for (int v = 0; v < nv; v++) {
        __m512 l = _mm512_loadu_ps(t->l + l0 + 16 * v);
        _mm512_storeu_ps(t->l + l0 + 16 * v, _mm512_fmadd_ps(l, corr[v], sum[v]));
    }

    /* Call number i of the first panel prefetches line i % pf_lines of every row of the next
     * K (i < pf_lines) or V (i < 2 pf_lines): about 2 lines per row per call with MR 8. */
    for (size_t c0 = 0, i = 0; c0 < t->dim; c0 += MR, i++) {
        size_t n = t->dim - c0;
        const char *pf = NULL;
        size_t pf_ld = 0;
        if (l0 == 0 && t->pf.k && i < 2 * t->pf.lines) {
            pf = i < t->pf.lines ? t->pf.k : t->pf.v;
            pf_ld = i < t->pf.lines ? t->pf.ldk : t->pf.ldv;
            pf += i % t->pf.lines * 64;
        }
#define PV(r) pv(t, c0, l0, r, nv, corr, pf, pf_ld)
        ROWS_CASES(PV, n < MR ? n : MR)
#undef PV
    }
}

static void prefill_tile(const xk_att_tile_t *t) {
    size_t l0 = 0;
    for (; l0 + 32 <= t->lanes; l0 += 32)
        panel(t, l0, 2);
    if (l0 < t->lanes) panel(t, l0, 1);
}

/* ---- decode ----------------------------------------------------------------------------- */

/* Lane i of the result = the sum of the lanes of v[i]. */
INLINE __m512 reduce16(__m512 *v) {
#pragma GCC unroll 16
    for (int i = 0; i < 8; i++) /* halves: key i low 256 bits, key i + 8 high */
        v[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[i], v[i + 8], 0x44),
                             _mm512_shuffle_f32x4(v[i], v[i + 8], 0xee));
#pragma GCC unroll 16
    for (int i = 0; i < 4; i++) /* 128-bit quarters: keys i, i + 8, i + 4, i + 12 */
        v[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[i], v[i + 4], 0x88),
                             _mm512_shuffle_f32x4(v[i], v[i + 4], 0xdd));
#pragma GCC unroll 16
    for (int i = 0; i < 2; i++) /* pairs within quarters */
        v[i] = _mm512_add_ps(_mm512_shuffle_ps(v[i], v[i + 2], 0x44),
                             _mm512_shuffle_ps(v[i], v[i + 2], 0xee));
    __m512 x =
        _mm512_add_ps(_mm512_shuffle_ps(v[0], v[1], 0x88), _mm512_shuffle_ps(v[0], v[1], 0xdd));
    /* Lane L now holds key order[L]; the order is its own inverse. */
    const __m512i order = _mm512_setr_epi32(0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15);
    return _mm512_permutexvar_ps(order, x);
}

/* 16 elements of a K or V row from element p, as f32: f32 as is, f16 by F16C, bf16 by a shift.
 * `t` is a constant in every caller, so each dtype gets its own loop. */
INLINE __m512 kv_load(const void *row, size_t p, xhal_dtype_t t) {
    if (t == XHAL_DTYPE_F32) return _mm512_loadu_ps((const float *)row + p);
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + p));
    if (t == XHAL_DTYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

INLINE __m512 kv_load_masked(const void *row, size_t p, __mmask16 m, xhal_dtype_t t) {
    if (t == XHAL_DTYPE_F32) return _mm512_maskz_loadu_ps(m, (const float *)row + p);
    __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)row + p);
    if (t == XHAL_DTYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* Reduces the RB x KB (= 16) accumulators of decode_scores / decode_scores_dot, soft-caps and
 * masks them, and stores them into the rows' scores. */
INLINE void scores_store(const xk_att_chunk_t *c, size_t r0, int RB, size_t j0, __m512 *acc) {
    const int KB = 16 / RB;
    __m512 sc = reduce16(acc);
    if (c->cap != 0.0f) sc = cap_ps(sc, c->cap);
    /* Lane r * KB + i: key j0 + i of row r0 + r, seen when below keys and inside [lo, hi). */
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i key = _mm512_add_epi32(_mm512_set1_epi32((int)j0),
                                   _mm512_and_si512(lane, _mm512_set1_epi32(KB - 1)));
    __mmask16 seen = _mm512_cmpgt_epi32_mask(_mm512_set1_epi32((int)c->keys), key);
    if (c->lo) {
        int32_t lo[16], hi[16];
        for (int i = 0; i < 16; i++) {
            lo[i] = c->lo[r0 + (size_t)(i / KB)];
            hi[i] = c->hi[r0 + (size_t)(i / KB)];
        }
        seen &= _mm512_cmpgt_epi32_mask(_mm512_loadu_si512(hi), key) &
                _mm512_cmple_epi32_mask(_mm512_loadu_si512(lo), key);
    }
    sc = _mm512_mask_blend_ps(seen, _mm512_set1_ps(-INFINITY), sc);
    if (RB == 1) {
        _mm512_storeu_ps(c->s + r0 * c->lds + j0, sc);
        return;
    }
    float out[16];
    _mm512_storeu_ps(out, sc);
#pragma GCC unroll 4
    for (int r = 0; r < RB; r++)
        memcpy(c->s + (r0 + (size_t)r) * c->lds + j0, out + r * KB, (size_t)KB * sizeof *out);
}

/*
 * Scores of rows [r0, r0 + RB) and keys [j0, j0 + KB), RB x KB = 16 (RB 1, 2 or 4): each K
 * vector, once loaded (and widened, for 16-bit K), serves RB rows, so a group of query heads
 * widens its K once per 4 rows instead of once per row. Lane r * KB + k of the reduced vector
 * is row r0 + r, key j0 + k; keys past `keys` reread the last key and are stored as -inf.
 */
INLINE void decode_scores(const xk_att_chunk_t *c, size_t r0, int RB, size_t j0, xhal_dtype_t t) {
    const int KB = 16 / RB;
    const void *k[16];
#pragma GCC unroll 16
    for (int i = 0; i < KB; i++)
        k[i] = c->k[j0 + (size_t)i < c->keys ? j0 + (size_t)i : c->keys - 1];
    const float *q = c->q + r0 * c->ldq;
    const size_t ldq = c->ldq;
    __m512 acc[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        acc[i] = _mm512_setzero_ps();
    size_t p = 0;
    for (; p + 16 <= c->dim; p += 16) {
        __m512 kv[16];
#pragma GCC unroll 16
        for (int i = 0; i < KB; i++)
            kv[i] = kv_load(k[i], p, t);
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) {
            __m512 qv = _mm512_load_ps(q + (size_t)r * ldq + p);
#pragma GCC unroll 16
            for (int i = 0; i < KB; i++)
                acc[r * KB + i] = _mm512_fmadd_ps(qv, kv[i], acc[r * KB + i]);
        }
    }
    if (p < c->dim) { /* q is zero-padded; K is read only up to dim */
        __mmask16 m = tail_mask(c->dim - p);
        __m512 kv[16];
#pragma GCC unroll 16
        for (int i = 0; i < KB; i++)
            kv[i] = kv_load_masked(k[i], p, m, t);
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) {
            __m512 qv = _mm512_load_ps(q + (size_t)r * ldq + p);
#pragma GCC unroll 16
            for (int i = 0; i < KB; i++)
                acc[r * KB + i] = _mm512_fmadd_ps(qv, kv[i], acc[r * KB + i]);
        }
    }
    scores_store(c, r0, RB, j0, acc);
}

/*
 * decode_scores for bf16 K on a CPU with AVX512_BF16: vdpbf16ps multiplies 32 bf16 pairs and
 * adds them into 16 f32 lanes, so K is used as stored (no widening) and a score takes half the
 * instructions. Q comes as bf16 (q16: rows ld16 apart, zero past dim): the pre-scaled f32 Q
 * rounded to nearest, as llama.cpp rounds Q to K's type for its dot products (relative error
 * 2^-9 per element of Q, far inside bf16's bounds).
 */
INLINE void decode_scores_dot(const xk_att_chunk_t *c, const uint16_t *q16, size_t ld16, size_t r0,
                              int RB, size_t j0) {
    const int KB = 16 / RB;
    const uint16_t *k[16];
#pragma GCC unroll 16
    for (int i = 0; i < KB; i++)
        k[i] = c->k[j0 + (size_t)i < c->keys ? j0 + (size_t)i : c->keys - 1];
    const uint16_t *q = q16 + r0 * ld16;
    __m512 acc[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        acc[i] = _mm512_setzero_ps();
    size_t p = 0;
    for (; p + 32 <= c->dim; p += 32) {
        __m512bh kv[16];
#pragma GCC unroll 16
        for (int i = 0; i < KB; i++)
            kv[i] = (__m512bh)_mm512_loadu_si512(k[i] + p);
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) {
            __m512bh qv = (__m512bh)_mm512_load_si512(q + (size_t)r * ld16 + p);
#pragma GCC unroll 16
            for (int i = 0; i < KB; i++)
                acc[r * KB + i] = _mm512_dpbf16_ps(acc[r * KB + i], qv, kv[i]);
        }
    }
    if (p < c->dim) { /* q16 is zero past dim; K is read only up to dim */
        __mmask32 m = (__mmask32)((1ull << (c->dim - p)) - 1);
        __m512bh kv[16];
#pragma GCC unroll 16
        for (int i = 0; i < KB; i++)
            kv[i] = (__m512bh)_mm512_maskz_loadu_epi16(m, k[i] + p);
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) {
            __m512bh qv = (__m512bh)_mm512_load_si512(q + (size_t)r * ld16 + p);
#pragma GCC unroll 16
            for (int i = 0; i < KB; i++)
                acc[r * KB + i] = _mm512_dpbf16_ps(acc[r * KB + i], qv, kv[i]);
        }
    }
    scores_store(c, r0, RB, j0, acc);
}

/* O rows [r0, r0 + nr), dims [c0, c0 + 16 nz): corr O + P V. */
INLINE void decode_pv(const xk_att_chunk_t *c, size_t r0, size_t c0, int nr, int nz,
                      xhal_dtype_t t) {
    __m512 acc[4][4];
    __mmask16 last = tail_mask(c->dim - c0 - 16 * (size_t)(nz - 1));
#pragma GCC unroll 16
    for (int r = 0; r < nr; r++) {
        __m512 corr = _mm512_set1_ps(c->corr[r0 + (size_t)r]);
#pragma GCC unroll 16
        for (int z = 0; z < nz; z++)
            acc[r][z] =
                _mm512_mul_ps(_mm512_load_ps(c->o + (r0 + (size_t)r) * c->ldo + c0 + 16 * z), corr);
    }
    for (size_t j = 0; j < c->keys; j++) {
        const void *v = c->v[j];
        __m512 vz[4];
#pragma GCC unroll 16
        for (int z = 0; z < nz; z++)
            vz[z] = z + 1 < nz ? kv_load(v, c0 + 16 * (size_t)z, t)
                               : kv_load_masked(v, c0 + 16 * (size_t)z, last, t);
#pragma GCC unroll 16
        for (int r = 0; r < nr; r++) {
            __m512 p = _mm512_set1_ps(c->s[(r0 + (size_t)r) * c->lds + j]);
#pragma GCC unroll 16
            for (int z = 0; z < nz; z++)
                acc[r][z] = _mm512_fmadd_ps(p, vz[z], acc[r][z]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 16
        for (int z = 0; z < nz; z++)
            _mm512_store_ps(c->o + (r0 + (size_t)r) * c->ldo + c0 + 16 * z, acc[r][z]);
}

#define Z_CASES(nr, nz)                                                                            \
    switch (nz) {                                                                                  \
    case 1:                                                                                        \
        decode_pv(c, r0, c0, nr, 1, t);                                                            \
        break;                                                                                     \
    case 2:                                                                                        \
        decode_pv(c, r0, c0, nr, 2, t);                                                            \
        break;                                                                                     \
    case 3:                                                                                        \
        decode_pv(c, r0, c0, nr, 3, t);                                                            \
        break;                                                                                     \
    default:                                                                                       \
        decode_pv(c, r0, c0, nr, 4, t);                                                            \
        break;                                                                                     \
    }

/* q16 NULL: scores by decode_scores; else by decode_scores_dot with that bf16 Q (t is bf16). */
INLINE void decode_chunk_as(const xk_att_chunk_t *c, xhal_dtype_t t, const uint16_t *q16,
                            size_t ld16) {
    /* Scores in blocks of 4 rows x 4 keys (the last rows 2 x 8, 1 x 16); each block of rows
     * walks the chunk's K while it is in L1. The prefetches the driver asks for are spread over
     * both passes. */
    size_t per_slot, score_slots = 0;
    for (size_t r0 = 0; r0 < c->rows;) {
        size_t rb = c->rows - r0 >= 4 ? 4 : c->rows - r0 >= 2 ? 2 : 1;
        score_slots += (c->keys + 16 / rb - 1) / (16 / rb);
        r0 += rb;
    }
    size_t pv_slots = (c->rows + 3) / 4 * ((c->dim + 63) / 64);
    xk_att_pf_t pf = xk_att_pf_start(c, score_slots + pv_slots, &per_slot);
    for (size_t r0 = 0; r0 < c->rows;) {
        if (c->rows - r0 >= 4) {
            for (size_t j0 = 0; j0 < c->keys; j0 += 4) {
                xk_att_pf_issue(&pf, per_slot);
                if (q16)
                    decode_scores_dot(c, q16, ld16, r0, 4, j0);
                else
                    decode_scores(c, r0, 4, j0, t);
            }
            r0 += 4;
        } else if (c->rows - r0 >= 2) {
            for (size_t j0 = 0; j0 < c->keys; j0 += 8) {
                xk_att_pf_issue(&pf, per_slot);
                if (q16)
                    decode_scores_dot(c, q16, ld16, r0, 2, j0);
                else
                    decode_scores(c, r0, 2, j0, t);
            }
            r0 += 2;
        } else {
            for (size_t j0 = 0; j0 < c->keys; j0 += 16) {
                xk_att_pf_issue(&pf, per_slot);
                if (q16)
                    decode_scores_dot(c, q16, ld16, r0, 1, j0);
                else
                    decode_scores(c, r0, 1, j0, t);
            }
            r0 += 1;
        }
    }

    size_t padded = (c->keys + 15) / 16 * 16; /* scores past `keys` are -inf: p = 0 */
    for (size_t r = 0; r < c->rows; r++) {
        float *s = c->s + r * c->lds;
        for (size_t j = c->keys; j < padded; j++)
            s[j] = -INFINITY;
        __m512 mx = _mm512_set1_ps(-INFINITY);
        for (size_t j = 0; j < padded; j += 16)
            mx = _mm512_max_ps(mx, _mm512_load_ps(s + j));
        float m = c->m[r], m_new = fmaxf(m, _mm512_reduce_max_ps(mx));
        float base = m_new == -INFINITY ? 0.0f : m_new;
        __m512 vbase = _mm512_set1_ps(base), sum = _mm512_setzero_ps();
        for (size_t j = 0; j < padded; j += 16) {
            __m512 p = exp2_ps(_mm512_sub_ps(_mm512_load_ps(s + j), vbase));
            _mm512_store_ps(s + j, p);
            sum = _mm512_add_ps(sum, p);
        }
        float corr = _mm512_cvtss_f32(exp2_ps(_mm512_set1_ps(m - base)));
        c->corr[r] = corr;
        c->l[r] = c->l[r] * corr + _mm512_reduce_add_ps(sum);
        c->m[r] = m_new;
    }

    for (size_t r0 = 0; r0 < c->rows; r0 += 4) {
        size_t nr = c->rows - r0 < 4 ? c->rows - r0 : 4;
        for (size_t c0 = 0; c0 < c->dim; c0 += 64) {
            size_t left = c->dim - c0, nz = left >= 64 ? 4 : (left + 15) / 16;
            xk_att_pf_issue(&pf, per_slot);
            switch (nr) {
            case 1:
                Z_CASES(1, nz) break;
            case 2:
                Z_CASES(2, nz) break;
            case 3:
                Z_CASES(3, nz) break;
            default:
                Z_CASES(4, nz) break;
            }
        }
    }
}

/* One copy of the decode loops per dtype of K and V. */
static void decode_chunk(const xk_att_chunk_t *c) {
    switch (c->kv_type) {
    case XHAL_DTYPE_F16:
        decode_chunk_as(c, XHAL_DTYPE_F16, NULL, 0);
        break;
    case XHAL_DTYPE_BF16: {
        /* With AVX512_BF16, scores by vdpbf16ps on Q rounded to bf16 (up to 16 rows of 256). */
        size_t ld16 = (c->dim + 31) / 32 * 32;
        _Alignas(64) uint16_t q16[16 * 256];
        if (xk_isa_has_bf16_dot() && c->rows * ld16 <= sizeof q16 / sizeof *q16) {
            for (size_t r = 0; r < c->rows; r++) {
                const float *q = c->q + r * c->ldq;
                uint16_t *d = q16 + r * ld16;
                size_t p = 0;
                for (; p < c->ldq && p < ld16; p += 16) /* q is zero-padded to ldq */
                    _mm256_store_si256((__m256i *)(void *)(d + p),
                                       (__m256i)_mm512_cvtneps_pbh(_mm512_load_ps(q + p)));
                for (; p < ld16; p++)
                    d[p] = 0;
            }
            decode_chunk_as(c, XHAL_DTYPE_BF16, q16, ld16);
        } else {
            decode_chunk_as(c, XHAL_DTYPE_BF16, NULL, 0);
        }
        break;
    }
    default:
        decode_chunk_as(c, XHAL_DTYPE_F32, NULL, 0);
        break;
    }
}

const xk_att_ukernel_t xk_att_ukernel_avx512 = {"avx512", convert, prefill_tile, decode_chunk, 1};
#else
const xk_att_ukernel_t xk_att_ukernel_avx512 = {"avx512", 0, 0, 0, 0};
#endif
