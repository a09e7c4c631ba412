/*
 * The GEMV inner loops for AVX-512: B is converted in registers (F16C for f16, a shift for
 * bf16) and consumed at once, so a 16-bit weight costs two bytes of memory traffic and nothing
 * more.
 */
#include "gemv_kernel.h"
#include "gemv_prefetch.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX512)
#include <immintrin.h>

#define XK_DOT_RM 6
#define XK_DOT_RN 4
#define XK_DOT_LANES 16

/* 16 elements of B from element `index`, as f32; `mask` limits a partial load. */
static inline __m512 load16(const void *b, xhal_dtype_t type, int64_t index, __mmask16 mask) {
    if (type == XHAL_DTYPE_F32) return _mm512_maskz_loadu_ps(mask, (const float *)b + index);
    __m256i h = _mm256_maskz_loadu_epi16(mask, (const uint16_t *)b + index);
    if (type == XHAL_DTYPE_BF16)
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
}

static inline __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
}

/* o[r * ldo + j] += sum over t < 4 of a[r][t] * B(rows[t] + j) for r < NR (1 or 2), each vector
 * of B loaded once for both rows of A; tails by masks. */
static inline __attribute__((always_inline)) void
update_typed(float *o, int64_t ldo, int nr, const float (*a)[4], const void *b, xhal_dtype_t type,
             const int64_t rows[4], int64_t cols) {
    __m512 c[2][4];
#pragma GCC unroll 2
    for (int r = 0; r < 2; r++)
#pragma GCC unroll 4
        for (int t = 0; t < 4; t++)
            c[r][t] = _mm512_set1_ps(a[r < nr ? r : 0][t]);
    for (int64_t j = 0; j < cols; j += 16) {
        __mmask16 m = tail_mask(cols - j);
        __m512 bv[4];
#pragma GCC unroll 4
        for (int t = 0; t < 4; t++)
            bv[t] = load16(b, type, rows[t] + j, m);
#pragma GCC unroll 2
        for (int r = 0; r < nr; r++) {
            __m512 acc = _mm512_maskz_loadu_ps(m, o + r * ldo + j);
#pragma GCC unroll 4
            for (int t = 0; t < 4; t++)
                acc = _mm512_fmadd_ps(c[r][t], bv[t], acc);
            _mm512_mask_storeu_ps(o + r * ldo + j, m, acc);
        }
    }
}

#define XK_UPDATE_ROWS 2
static void update(float *o, int64_t ldo, int nr, const float (*a)[4], const void *b,
                   xhal_dtype_t type, const int64_t rows[4], int64_t cols) {
    if (nr == 2) {
        if (type == XHAL_DTYPE_F32)
            update_typed(o, ldo, 2, a, b, XHAL_DTYPE_F32, rows, cols);
        else if (type == XHAL_DTYPE_BF16)
            update_typed(o, ldo, 2, a, b, XHAL_DTYPE_BF16, rows, cols);
        else
            update_typed(o, ldo, 2, a, b, XHAL_DTYPE_F16, rows, cols);
    } else {
        if (type == XHAL_DTYPE_F32)
            update_typed(o, ldo, 1, a, b, XHAL_DTYPE_F32, rows, cols);
        else if (type == XHAL_DTYPE_BF16)
            update_typed(o, ldo, 1, a, b, XHAL_DTYPE_BF16, rows, cols);
        else
            update_typed(o, ldo, 1, a, b, XHAL_DTYPE_F16, rows, cols);
    }
}

/* The sum of the 16 lanes of each of x0..x3, as four lanes. */
static inline __m128 hsum4(__m512 x0, __m512 x1, __m512 x2, __m512 x3) {
    __m256 y0 = _mm256_add_ps(_mm512_castps512_ps256(x0), _mm512_extractf32x8_ps(x0, 1));
    __m256 y1 = _mm256_add_ps(_mm512_castps512_ps256(x1), _mm512_extractf32x8_ps(x1, 1));
    __m256 y2 = _mm256_add_ps(_mm512_castps512_ps256(x2), _mm512_extractf32x8_ps(x2, 1));
    __m256 y3 = _mm256_add_ps(_mm512_castps512_ps256(x3), _mm512_extractf32x8_ps(x3, 1));
    __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(y0, y1), _mm256_hadd_ps(y2, y3));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

/*
 * Specialised by the compiler for each constant (rm, rn, type): see dot_tile. 24 accumulators
 * and 4 column vectors of the 32 zmm registers; the k tail runs the same loop once with masked
 * loads (zeros past the end add nothing).
 */
static inline __attribute__((always_inline)) void tile(int rm, int rn, int64_t kc, const float *a,
                                                       int64_t lda, const void *const *cols,
                                                       xhal_dtype_t type, float *out, int64_t ldo,
                                                       int accumulate, const gemv_prefetch_t *pf) {
    gemv_walk_t walk = gemv_walk_start(pf);
    __m512 acc[XK_DOT_RM][XK_DOT_RN];
    const void *c0 = cols[0], *c1 = rn > 1 ? cols[1] : c0;
    const void *c2 = rn > 2 ? cols[2] : c0, *c3 = rn > 3 ? cols[3] : c0;
#pragma GCC unroll 6
    for (int i = 0; i < XK_DOT_RM; i++)
#pragma GCC unroll 4
        for (int j = 0; j < XK_DOT_RN; j++)
            acc[i][j] = _mm512_setzero_ps();
    for (int64_t q = 0; q < kc; q += 16) {
        /* Full steps unmasked; the tail once with a mask. */
        __mmask16 m = kc - q >= 16 ? (__mmask16)0xffff : tail_mask(kc - q);
        gemv_prefetch_step(&walk);
        __m512 b[XK_DOT_RN];
        b[0] = load16(c0, type, q, m);
        if (rn > 1) b[1] = load16(c1, type, q, m);
        if (rn > 2) b[2] = load16(c2, type, q, m);
        if (rn > 3) b[3] = load16(c3, type, q, m);
#pragma GCC unroll 6
        for (int i = 0; i < rm; i++) {
            __m512 ai = _mm512_maskz_loadu_ps(m, a + i * lda + q);
#pragma GCC unroll 4
            for (int j = 0; j < rn; j++)
                acc[i][j] = _mm512_fmadd_ps(ai, b[j], acc[i][j]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < rm; i++) {
        float s[4];
        _mm_storeu_ps(s, hsum4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
        for (int j = 0; j < rn; j++)
            out[i * ldo + j] = accumulate ? out[i * ldo + j] + s[j] : s[j];
    }
}

#define XK_TILE_TYPES(rm, rn)                                                                      \
    case (rm)*8 + (rn):                                                                            \
        if (type == XHAL_DTYPE_F32)                                                                \
            tile(rm, rn, kc, a, lda, cols, XHAL_DTYPE_F32, out, ldo, accumulate, pf);              \
        else if (type == XHAL_DTYPE_BF16)                                                          \
            tile(rm, rn, kc, a, lda, cols, XHAL_DTYPE_BF16, out, ldo, accumulate, pf);             \
        else                                                                                       \
            tile(rm, rn, kc, a, lda, cols, XHAL_DTYPE_F16, out, ldo, accumulate, pf);              \
        break

#define XK_TILE_ROWS(rm)                                                                           \
    XK_TILE_TYPES(rm, 1);                                                                          \
    XK_TILE_TYPES(rm, 2);                                                                          \
    XK_TILE_TYPES(rm, 3);                                                                          \
    XK_TILE_TYPES(rm, 4)

static void dot_tile(int rm, int rn, int64_t kc, const float *a, int64_t lda,
                     const void *const *cols, xhal_dtype_t type, float *out, int64_t ldo,
                     int accumulate, const gemv_prefetch_t *pf) {
    switch (rm * 8 + rn) {
        XK_TILE_ROWS(1);
        XK_TILE_ROWS(2);
        XK_TILE_ROWS(3);
        XK_TILE_ROWS(4);
        XK_TILE_ROWS(5);
        XK_TILE_ROWS(6);
    }
}

/*
 * bf16 x bf16 (xk_gemv_bf16_dot): vdpbf16ps multiplies pairs of adjacent k steps and adds both
 * products to an f32 lane, so a load of 32 weights feeds a whole instruction and the tile does
 * twice the work per FMA slot. Columns of a transposed B and rows of A both hold k steps side
 * by side, so no repacking is needed: pairs line up as long as A and B start at the same step.
 * The k tail is a masked load (zeros add nothing).
 */
static inline __attribute__((always_inline)) void
tile_bf16(int rm, int rn, int64_t kc, const uint16_t *a, int64_t lda, const void *const *cols,
          float *out, int64_t ldo, int accumulate, const gemv_prefetch_t *pf) {
    gemv_walk_t walk = gemv_walk_start(pf);
    __m512 acc[XK_DOT_RM][XK_DOT_RN];
    const uint16_t *c[XK_DOT_RN];
#pragma GCC unroll 4
    for (int j = 0; j < XK_DOT_RN; j++)
        c[j] = cols[j < rn ? j : 0];
#pragma GCC unroll 6
    for (int i = 0; i < XK_DOT_RM; i++)
#pragma GCC unroll 4
        for (int j = 0; j < XK_DOT_RN; j++)
            acc[i][j] = _mm512_setzero_ps();
    for (int64_t q = 0; q < kc; q += 32) {
        __mmask32 m = kc - q >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << (kc - q)) - 1u);
        gemv_prefetch_step(&walk);
        __m512bh b[XK_DOT_RN];
#pragma GCC unroll 4
        for (int j = 0; j < rn; j++)
            b[j] = (__m512bh)_mm512_maskz_loadu_epi16(m, c[j] + q);
#pragma GCC unroll 6
        for (int i = 0; i < rm; i++) {
            __m512bh ai = (__m512bh)_mm512_maskz_loadu_epi16(m, a + i * lda + q);
#pragma GCC unroll 4
            for (int j = 0; j < rn; j++)
                acc[i][j] = _mm512_dpbf16_ps(acc[i][j], ai, b[j]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < rm; i++) {
        float s[4];
        _mm_storeu_ps(s, hsum4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
        for (int j = 0; j < rn; j++)
            out[i * ldo + j] = accumulate ? out[i * ldo + j] + s[j] : s[j];
    }
}

#define XK_TILE_BF16(rm, rn)                                                                       \
    case (rm)*8 + (rn):                                                                            \
        tile_bf16(rm, rn, kc, a, lda, cols, out, ldo, accumulate, pf);                             \
        break

#define XK_TILE_BF16_ROWS(rm)                                                                      \
    XK_TILE_BF16(rm, 1);                                                                           \
    XK_TILE_BF16(rm, 2);                                                                           \
    XK_TILE_BF16(rm, 3);                                                                           \
    XK_TILE_BF16(rm, 4)

#define XK_DOT_BF16 1
static void dot_tile_bf16(int rm, int rn, int64_t kc, const uint16_t *a, int64_t lda,
                          const void *const *cols, float *out, int64_t ldo, int accumulate,
                          const gemv_prefetch_t *pf) {
    switch (rm * 8 + rn) {
        XK_TILE_BF16_ROWS(1);
        XK_TILE_BF16_ROWS(2);
        XK_TILE_BF16_ROWS(3);
        XK_TILE_BF16_ROWS(4);
        XK_TILE_BF16_ROWS(5);
        XK_TILE_BF16_ROWS(6);
    }
}

#define XK_GEMV_ROWS xk_gemv_rows_avx512
#define XK_GEMV_COLUMNS xk_gemv_columns_avx512
void XK_GEMV_ROWS(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1, float *out);
void XK_GEMV_COLUMNS(const xk_gemm_problem_t *p, const void *a, int64_t n0, int64_t n1, int64_t k0,
                     int64_t k1, float *partial);
#include "gemv_impl.h"

const int xk_gemv_avx512_unit = COLUMN_CHUNK;
#endif
