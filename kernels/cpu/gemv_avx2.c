/*
 * The GEMV inner loops for AVX2 + FMA + F16C: B is converted in registers (vcvtph2ps for f16,
 * a widening shift for bf16) and consumed at once, so a 16-bit weight costs two bytes of memory
 * traffic and nothing more. The dot tile is 3 rows of A x 4 columns of B: 12 accumulators and
 * the 4 column vectors fill the 16 ymm registers, A is read from L1 as the FMAs' memory operand,
 * 7 loads per 12 FMAs.
 */
#include "gemv_kernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX2)
#include <immintrin.h>

#define XK_DOT_RM 3
#define XK_DOT_RN 4

static inline float bf16_value(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
}

/* Element `index` of a matrix of `type`, as f32. */
static inline float value_f32(const void *b, xhal_dtype_t type, int64_t index) {
    if (type == XHAL_DTYPE_F32) return ((const float *)b)[index];
    uint16_t h = ((const uint16_t *)b)[index];
    return type == XHAL_DTYPE_BF16 ? bf16_value(h) : _cvtsh_ss(h);
}

/* 8 elements of B from element `index`, as f32. */
static inline __attribute__((always_inline)) __m256 load8(const void *b, xhal_dtype_t type,
                                                          int64_t index) {
    if (type == XHAL_DTYPE_F32) return _mm256_loadu_ps((const float *)b + index);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)b + index));
    if (type == XHAL_DTYPE_BF16)
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

static inline __attribute__((always_inline)) void update4_typed(float *o, const float a[4],
                                                                const void *b, xhal_dtype_t type,
                                                                const int64_t rows[4],
                                                                int64_t cols) {
    __m256 a0 = _mm256_set1_ps(a[0]), a1 = _mm256_set1_ps(a[1]);
    __m256 a2 = _mm256_set1_ps(a[2]), a3 = _mm256_set1_ps(a[3]);
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8) {
        __m256 acc = _mm256_loadu_ps(o + j);
        acc = _mm256_fmadd_ps(a0, load8(b, type, rows[0] + j), acc);
        acc = _mm256_fmadd_ps(a1, load8(b, type, rows[1] + j), acc);
        acc = _mm256_fmadd_ps(a2, load8(b, type, rows[2] + j), acc);
        acc = _mm256_fmadd_ps(a3, load8(b, type, rows[3] + j), acc);
        _mm256_storeu_ps(o + j, acc);
    }
    for (; j < cols; j++) {
        float s = o[j];
        for (int r = 0; r < 4; r++)
            s = __builtin_fmaf(a[r], value_f32(b, type, rows[r] + j), s);
        o[j] = s;
    }
}

static void update4(float *o, const float a[4], const void *b, xhal_dtype_t type,
                    const int64_t rows[4], int64_t cols) {
    if (type == XHAL_DTYPE_F32)
        update4_typed(o, a, b, XHAL_DTYPE_F32, rows, cols);
    else if (type == XHAL_DTYPE_BF16)
        update4_typed(o, a, b, XHAL_DTYPE_BF16, rows, cols);
    else
        update4_typed(o, a, b, XHAL_DTYPE_F16, rows, cols);
}

/* The four sums of 8 lanes each of x0..x3, as one vector. */
static inline __m128 hsum4(__m256 x0, __m256 x1, __m256 x2, __m256 x3) {
    __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(x0, x1), _mm256_hadd_ps(x2, x3));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

/* Specialised by the compiler for each constant (rm, rn, type): see dot_tile. */
static inline __attribute__((always_inline)) void tile(int rm, int rn, int64_t kc, const float *a,
                                                       int64_t lda, const void *const *cols,
                                                       xhal_dtype_t type, float *out, int64_t ldo,
                                                       int accumulate) {
    __m256 acc[XK_DOT_RM][XK_DOT_RN];
    const void *c0 = cols[0], *c1 = rn > 1 ? cols[1] : c0;
    const void *c2 = rn > 2 ? cols[2] : c0, *c3 = rn > 3 ? cols[3] : c0;
#pragma GCC unroll 3
    for (int i = 0; i < XK_DOT_RM; i++)
#pragma GCC unroll 4
        for (int j = 0; j < XK_DOT_RN; j++)
            acc[i][j] = _mm256_setzero_ps();
    int64_t q = 0;
    for (; q + 8 <= kc; q += 8) {
        __m256 b[XK_DOT_RN];
        b[0] = load8(c0, type, q);
        if (rn > 1) b[1] = load8(c1, type, q);
        if (rn > 2) b[2] = load8(c2, type, q);
        if (rn > 3) b[3] = load8(c3, type, q);
#pragma GCC unroll 3
        for (int i = 0; i < rm; i++) {
            __m256 ai = _mm256_loadu_ps(a + i * lda + q);
#pragma GCC unroll 4
            for (int j = 0; j < rn; j++)
                acc[i][j] = _mm256_fmadd_ps(ai, b[j], acc[i][j]);
        }
    }
    const void *const col[4] = {c0, c1, c2, c3};
#pragma GCC unroll 3
    for (int i = 0; i < rm; i++) {
        float s[4];
        _mm_storeu_ps(s, hsum4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
        for (int j = 0; j < rn; j++) {
            /* The k tail (kc % 8 steps) in scalar. */
            for (int64_t t = q; t < kc; t++)
                s[j] = __builtin_fmaf(a[i * lda + t], value_f32(col[j], type, t), s[j]);
            out[i * ldo + j] = accumulate ? out[i * ldo + j] + s[j] : s[j];
        }
    }
}

#define XK_TILE_TYPES(rm, rn)                                                                      \
    case (rm)*8 + (rn):                                                                            \
        if (type == XHAL_DTYPE_F32)                                                                \
            tile(rm, rn, kc, a, lda, cols, XHAL_DTYPE_F32, out, ldo, accumulate);                  \
        else if (type == XHAL_DTYPE_BF16)                                                          \
            tile(rm, rn, kc, a, lda, cols, XHAL_DTYPE_BF16, out, ldo, accumulate);                 \
        else                                                                                       \
            tile(rm, rn, kc, a, lda, cols, XHAL_DTYPE_F16, out, ldo, accumulate);                  \
        break

static void dot_tile(int rm, int rn, int64_t kc, const float *a, int64_t lda,
                     const void *const *cols, xhal_dtype_t type, float *out, int64_t ldo,
                     int accumulate) {
    switch (rm * 8 + rn) {
        XK_TILE_TYPES(1, 1);
        XK_TILE_TYPES(1, 2);
        XK_TILE_TYPES(1, 3);
        XK_TILE_TYPES(1, 4);
        XK_TILE_TYPES(2, 1);
        XK_TILE_TYPES(2, 2);
        XK_TILE_TYPES(2, 3);
        XK_TILE_TYPES(2, 4);
        XK_TILE_TYPES(3, 1);
        XK_TILE_TYPES(3, 2);
        XK_TILE_TYPES(3, 3);
    default:
        XK_TILE_TYPES(3, 4);
    }
}

#define XK_GEMV_ROWS xk_gemv_rows_avx2
#define XK_GEMV_COLUMNS xk_gemv_columns_avx2
void XK_GEMV_ROWS(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1, float *out);
void XK_GEMV_COLUMNS(const xk_gemm_problem_t *p, const void *a, int64_t n0, int64_t n1, int64_t k0,
                     int64_t k1, float *partial);
#include "gemv_impl.h"

const int xk_gemv_avx2_unit = XK_DOT_RN;
#endif
