/*
 * The attention microkernels in plain C: the readable statement of what every ISA's kernels
 * compute (see attention_ukernel.h), and the code for CPUs without a hand-written path.
 *
 * Included by attention_generic.c (default flags: SSE2 on x86-64, NEON on arm64) and by
 * attention_avx2.c (compiled with -mavx2 -mfma), which both get their SIMD from the compiler:
 * every inner loop runs over ATT_W = 16 lanes with a fixed trip count and restrict pointers, so
 * it vectorizes without alias checks or a scalar tail. Blocks of ATT_B keys (scores) or dims
 * (P V) share each load of a lane vector, as in a GEMM microkernel.
 *
 * The includer defines ATT_FMA(a, b, c) = a * b + c: fmaf where the target has FMA (ISO C
 * forbids the compiler to contract a * b + c on its own), the plain expression elsewhere.
 */
#ifndef XHAL_KERNELS_CPU_ATTENTION_PORTABLE_H
#define XHAL_KERNELS_CPU_ATTENTION_PORTABLE_H

#include <math.h>
#include <string.h>

#include "attention_ukernel.h"

#define ATT_W 16 /* lanes per inner loop */
#define ATT_B 4  /* keys (scores) or dims (P V) per register block */

/*
 * a where `keep` is all ones, b where it is 0. Selects go through the bits because with ISO C's
 * trapping float compares a ?: on floats is a branch compilers will not vectorize.
 */
static inline float att_pick(int32_t keep, float a, float b) {
    int32_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    x = (x & keep) | (y & ~keep);
    memcpy(&a, &x, sizeof a);
    return a;
}

static inline float att_max(float a, float b) {
    return att_pick(-(int32_t)(a > b), a, b);
}

/*
 * exp2(x) for x <= 0 (all the kernels need): 2^x = 2^n * 2^r with n = round(x), |r| <= 1/2 and
 * 2^r from Cephes' exp2f polynomial (relative error about 2e-7). Below -126 the result is 0, so
 * a masked score of -inf contributes exactly nothing. Branch-free, so it vectorizes.
 */
static inline float att_exp2(float x) {
    int32_t keep = -(int32_t)(x >= -126.0f);
    float xc = att_pick(keep, x, -126.0f);
    float n = (xc + 12582912.0f) - 12582912.0f; /* 1.5 * 2^23: rounds to nearest integer */
    float r = xc - n;
    float p = ATT_FMA(1.535336188319500e-4f, r, 1.339887440266574e-3f);
    p = ATT_FMA(p, r, 9.618437357674640e-3f);
    p = ATT_FMA(p, r, 5.550332471162809e-2f);
    p = ATT_FMA(p, r, 2.402264791363012e-1f);
    p = ATT_FMA(p, r, 6.931472028550421e-1f);
    p = ATT_FMA(p, r, 1.0f);
    int32_t bits = ((int32_t)n + 127) * (1 << 23); /* 2^n as a float's bit pattern */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return att_pick(keep, p * scale, 0.0f);
}

/*
 * tanh(x), branch-free: Cephes' tanhf polynomial below |x| = 0.625 (where 1 - 2 / (e^2x + 1)
 * would lose digits to cancellation), (1 - t) / (1 + t) with t = e^-2|x| above; relative error
 * about 2e-7 throughout.
 */
static inline float att_tanh(float x) {
    int32_t bits, sign;
    memcpy(&bits, &x, sizeof bits);
    sign = bits & (int32_t)0x80000000u;
    bits &= 0x7fffffff;
    float ax;
    memcpy(&ax, &bits, sizeof ax);
    float z = x * x;
    float p = ATT_FMA(-5.70498872745e-3f, z, 2.06390887954e-2f);
    p = ATT_FMA(p, z, -5.37397155531e-2f);
    p = ATT_FMA(p, z, 1.33314422036e-1f);
    p = ATT_FMA(p, z, -3.33332819422e-1f);
    float small = ATT_FMA(p * z, x, x);
    float t = att_exp2(-2.88539008177792681f * ax); /* e^-2|x| */
    float large = (1.0f - t) / (1.0f + t);
    int32_t lb;
    memcpy(&lb, &large, sizeof lb);
    lb |= sign;
    memcpy(&large, &lb, sizeof large);
    return att_pick(-(int32_t)(ax < 0.625f), small, large);
}

/* The soft-cap of a score in the log2 domain: cap * tanh(x), or x when cap is 0. */
static inline float att_cap(float x, float cap) {
    return cap != 0.0f ? cap * att_tanh(x) : x;
}

static inline float att_bf16(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline void portable_convert(float *dst, size_t ld_dst, const void *src, int64_t src_stride,
                                    xhal_dtype_t type, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float *d = dst + r * ld_dst;
        if (type == XHAL_DTYPE_F32) {
            memcpy(d, (const float *)src + (int64_t)r * src_stride, cols * sizeof *d);
        } else if (type == XHAL_DTYPE_BF16) {
            const uint16_t *s = (const uint16_t *)src + (int64_t)r * src_stride;
            for (size_t c = 0; c < cols; c++)
                d[c] = att_bf16(s[c]);
        } else {
            const uint16_t *s = (const uint16_t *)src + (int64_t)r * src_stride;
            for (size_t c = 0; c < cols; c++)
                d[c] = xhal_f16_to_f32(s[c]);
        }
    }
}

/* The online-softmax update of ATT_W lanes from their scores s (keys rows, ld floats apart). */
static void portable_softmax(float *restrict s, size_t ld, size_t keys,
                             const float *restrict tile_max, float *restrict m, float *restrict l,
                             float *restrict corr) {
    float base[ATT_W], sum[ATT_W] = {0};
    for (int u = 0; u < ATT_W; u++) {
        float m_new = att_max(m[u], tile_max[u]);
        /* A lane with no key seen yet keeps m = -inf; 0 keeps -inf - base from being NaN. */
        base[u] = m_new == -INFINITY ? 0.0f : m_new;
        corr[u] = att_exp2(m[u] - base[u]);
        m[u] = m_new;
    }
    for (size_t j = 0; j < keys; j++)
        for (int u = 0; u < ATT_W; u++) {
            float p = att_exp2(s[j * ld + u] - base[u]);
            s[j * ld + u] = p;
            sum[u] += p;
        }
    for (int u = 0; u < ATT_W; u++)
        l[u] = l[u] * corr[u] + sum[u];
}

/*
 * Four rows of ATT_W accumulators, a[b][u] += x[b] * y[u]: written out as four named arrays so
 * that compilers vectorize along u (with x[b] broadcast) rather than across b.
 */
#define ATT_FMA4(a0, a1, a2, a3, x0, x1, x2, x3, y)                                                \
    for (int u = 0; u < ATT_W; u++) {                                                              \
        a0[u] = ATT_FMA(x0, y[u], a0[u]);                                                          \
        a1[u] = ATT_FMA(x1, y[u], a1[u]);                                                          \
        a2[u] = ATT_FMA(x2, y[u], a2[u]);                                                          \
        a3[u] = ATT_FMA(x3, y[u], a3[u]);                                                          \
    }

/* Scores of keys [j0, j0 + n) (n <= 4) for lanes [l0, l0 + ATT_W), -inf where masked. */
static void portable_scores(const xk_att_tile_t *t, size_t j0, size_t n, size_t l0) {
    float a0[ATT_W] = {0}, a1[ATT_W] = {0}, a2[ATT_W] = {0}, a3[ATT_W] = {0};
    const float *k[ATT_B];
    for (size_t b = 0; b < ATT_B; b++) /* past the last key: reread it, store nothing */
        k[b] = t->k + (j0 + (b < n ? b : n - 1)) * t->ldk;
    const float *qt = t->qt + l0;
    for (size_t p = 0; p < t->dim; p++) {
        const float *restrict q = qt + p * t->lanes;
        ATT_FMA4(a0, a1, a2, a3, k[0][p], k[1][p], k[2][p], k[3][p], q)
    }
    float *acc[ATT_B] = {a0, a1, a2, a3};
    for (size_t b = 0; b < n; b++) {
        float *restrict s = t->s + (j0 + b) * t->lanes + l0;
        if (t->cap != 0.0f)
            for (int u = 0; u < ATT_W; u++)
                acc[b][u] = t->cap * att_tanh(acc[b][u]);
        if (!t->lo) {
            for (int u = 0; u < ATT_W; u++)
                s[u] = acc[b][u];
            continue;
        }
        int32_t key = (int32_t)(j0 + b);
        for (int u = 0; u < ATT_W; u++) {
            int32_t seen = -(int32_t)(key >= t->lo[l0 + u]) & -(int32_t)(key < t->hi[l0 + u]);
            s[u] = att_pick(seen, acc[b][u], -INFINITY);
        }
    }
}

/* O^T dims [c0, c0 + n) (n <= 4), lanes [l0, l0 + ATT_W): corr O^T + V^T P^T. */
static void portable_pv(const xk_att_tile_t *t, size_t c0, size_t n, size_t l0, const float *corr) {
    float a0[ATT_W], a1[ATT_W], a2[ATT_W], a3[ATT_W];
    float *acc[ATT_B] = {a0, a1, a2, a3};
    size_t c[ATT_B]; /* past the last dim: reread it, store nothing */
    for (size_t b = 0; b < ATT_B; b++) {
        c[b] = c0 + (b < n ? b : n - 1);
        for (int u = 0; u < ATT_W; u++)
            acc[b][u] = t->ot[c[b] * t->lanes + l0 + u] * corr[u];
    }
    for (size_t j = 0; j < t->keys; j++) {
        const float *restrict p = t->s + j * t->lanes + l0;
        const float *v = t->v + j * t->ldv;
        ATT_FMA4(a0, a1, a2, a3, v[c[0]], v[c[1]], v[c[2]], v[c[3]], p)
    }
    for (size_t b = 0; b < n; b++)
        for (int u = 0; u < ATT_W; u++)
            t->ot[(c0 + b) * t->lanes + l0 + u] = acc[b][u];
}

static void portable_prefill_tile(const xk_att_tile_t *t) {
    for (size_t l0 = 0; l0 < t->lanes; l0 += ATT_W) {
        for (size_t j0 = 0; j0 < t->keys; j0 += ATT_B)
            portable_scores(t, j0, t->keys - j0 < ATT_B ? t->keys - j0 : ATT_B, l0);

        float tile_max[ATT_W], corr[ATT_W];
        for (int u = 0; u < ATT_W; u++)
            tile_max[u] = -INFINITY;
        for (size_t j = 0; j < t->keys; j++)
            for (int u = 0; u < ATT_W; u++)
                tile_max[u] = att_max(tile_max[u], t->s[j * t->lanes + l0 + u]);
        portable_softmax(t->s + l0, t->lanes, t->keys, tile_max, t->m + l0, t->l + l0, corr);

        for (size_t c0 = 0; c0 < t->dim; c0 += ATT_B)
            portable_pv(t, c0, t->dim - c0 < ATT_B ? t->dim - c0 : ATT_B, l0, corr);
    }
}

/* q . k over dim elements: ATT_W partial sums, then one reduction. */
static float portable_dot(const float *restrict q, const float *restrict k, size_t dim) {
    float acc[ATT_W] = {0};
    size_t p0 = 0;
    for (; p0 + ATT_W <= dim; p0 += ATT_W)
        for (int u = 0; u < ATT_W; u++)
            acc[u] = ATT_FMA(q[p0 + u], k[p0 + u], acc[u]);
    for (size_t p = p0; p < dim; p++)
        acc[p - p0] = ATT_FMA(q[p], k[p], acc[p - p0]);
    float sum = 0.0f;
    for (int u = 0; u < ATT_W; u++)
        sum += acc[u];
    return sum;
}

static inline void portable_decode_chunk(const xk_att_chunk_t *c) {
    const size_t dim = c->dim, keys = c->keys;
    for (size_t r = 0; r < c->rows; r++) {
        float *s = c->s + r * c->lds;
        float tile_max = -INFINITY;
        size_t lo = c->lo ? (size_t)c->lo[r] : 0, hi = c->lo ? (size_t)c->hi[r] : keys;
        for (size_t j = 0; j < keys; j++) {
            int seen = j >= lo && j < hi;
            s[j] =
                seen ? att_cap(portable_dot(c->q + r * c->ldq, c->k[j], dim), c->cap) : -INFINITY;
            tile_max = tile_max > s[j] ? tile_max : s[j];
        }
        float m_new = c->m[r] > tile_max ? c->m[r] : tile_max;
        float base = m_new == -INFINITY ? 0.0f : m_new, sum = 0.0f;
        float corr = att_exp2(c->m[r] - base);
        for (size_t j = 0; j < keys; j++) {
            s[j] = att_exp2(s[j] - base);
            sum += s[j];
        }
        c->l[r] = c->l[r] * corr + sum;
        c->m[r] = m_new;

        float *restrict o = c->o + r * c->ldo;
        for (size_t x = 0; x < dim; x++)
            o[x] *= corr;
        for (size_t j = 0; j < keys; j++) {
            const float *restrict v = c->v[j];
            size_t x0 = 0;
            for (; x0 + ATT_W <= dim; x0 += ATT_W)
                for (int u = 0; u < ATT_W; u++)
                    o[x0 + u] = ATT_FMA(s[j], v[x0 + u], o[x0 + u]);
            for (size_t x = x0; x < dim; x++)
                o[x] = ATT_FMA(s[j], v[x], o[x]);
        }
    }
}

#endif
