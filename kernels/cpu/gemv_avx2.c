/*
 * The GEMV inner loops for AVX2 + FMA + F16C: B is converted in registers (vcvtph2ps for f16,
 * a widening shift for bf16) and consumed at once, so a 16-bit weight costs two bytes of memory
 * traffic and nothing more. The dot tile is 4 rows of A x 3 columns of B: 12 accumulators, the
 * 3 widened column vectors and one row vector of A fill the 16 ymm registers, 7 loads per 12
 * FMAs. (At 3 x 4 the widened columns need 17 registers, and GCC kept two accumulators on the
 * stack.)
 */
#include "gemv_kernel.h"
#include "gemv_prefetch.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX2)
#include <immintrin.h>

#define XK_DOT_RM 4
#define XK_DOT_RN 3
#define XK_DOT_LANES 8

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

/*
 * o[r * ldo + j] += sum over t < 4 of a[r][t] * B(rows[t] + j) for r < NR (1 or 2): each vector of
 * the 4 rows of B is loaded once for both rows of A (4 B loads, 2 loads and 2 stores of the
 * partial results per 8 FMAs, with the 8 coefficients in registers).
 */
static inline __attribute__((always_inline)) void
update_typed(float *o, int64_t ldo, int nr, const float (*a)[4], const void *b, xhal_dtype_t type,
             const int64_t rows[4], int64_t cols) {
    __m256 c[2][4];
#pragma GCC unroll 2
    for (int r = 0; r < 2; r++)
#pragma GCC unroll 4
        for (int t = 0; t < 4; t++)
            c[r][t] = _mm256_set1_ps(a[r < nr ? r : 0][t]);
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8) {
        __m256 bv[4];
#pragma GCC unroll 4
        for (int t = 0; t < 4; t++)
            bv[t] = load8(b, type, rows[t] + j);
#pragma GCC unroll 2
        for (int r = 0; r < nr; r++) {
            __m256 acc = _mm256_loadu_ps(o + r * ldo + j);
#pragma GCC unroll 4
            for (int t = 0; t < 4; t++)
                acc = _mm256_fmadd_ps(c[r][t], bv[t], acc);
            _mm256_storeu_ps(o + r * ldo + j, acc);
        }
    }
    for (; j < cols; j++)
        for (int r = 0; r < nr; r++) {
            float s = o[r * ldo + j];
            for (int t = 0; t < 4; t++)
                s = __builtin_fmaf(a[r][t], value_f32(b, type, rows[t] + j), s);
            o[r * ldo + j] = s;
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

/* The four sums of 8 lanes each of x0..x3, as one vector. */
static inline __m128 hsum4(__m256 x0, __m256 x1, __m256 x2, __m256 x3) {
    __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(x0, x1), _mm256_hadd_ps(x2, x3));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

/* Specialised by the compiler for each constant (rm, rn, type): see dot_tile. */
static inline __attribute__((always_inline)) void tile(int rm, int rn, int64_t kc, const float *a,
                                                       int64_t lda, const void *const *cols,
                                                       xhal_dtype_t type, float *out, int64_t ldo,
                                                       int accumulate, const gemv_prefetch_t *pf) {
    gemv_walk_t walk = gemv_walk_start(pf);
    __m256 acc[XK_DOT_RM][XK_DOT_RN];
    const void *c[XK_DOT_RN];
#pragma GCC unroll 3
    for (int j = 0; j < XK_DOT_RN; j++)
        c[j] = cols[j < rn ? j : 0];
#pragma GCC unroll 4
    for (int i = 0; i < XK_DOT_RM; i++)
#pragma GCC unroll 3
        for (int j = 0; j < XK_DOT_RN; j++)
            acc[i][j] = _mm256_setzero_ps();
    int64_t q = 0;
    for (; q + 8 <= kc; q += 8) {
        gemv_prefetch_step(&walk);
        __m256 b[XK_DOT_RN];
#pragma GCC unroll 3
        for (int j = 0; j < rn; j++)
            b[j] = load8(c[j], type, q);
#pragma GCC unroll 4
        for (int i = 0; i < rm; i++) {
            __m256 ai = _mm256_loadu_ps(a + i * lda + q);
            /* Held in a register: GCC would fold the load into each of the rn FMAs, 15 loads
             * per 12 FMAs instead of 7 (more than the two 256-bit loads a Zen 3 does a cycle). */
            __asm__("" : "+x"(ai));
#pragma GCC unroll 3
            for (int j = 0; j < rn; j++)
                acc[i][j] = _mm256_fmadd_ps(ai, b[j], acc[i][j]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < rm; i++) {
        float s[4];
        _mm_storeu_ps(s, hsum4(acc[i][0], acc[i][1], acc[i][2], acc[i][2])); /* s[3] unused */
        for (int j = 0; j < rn; j++) {
            /* The k tail (kc % 8 steps) in scalar. */
            for (int64_t t = q; t < kc; t++)
                s[j] = __builtin_fmaf(a[i * lda + t], value_f32(c[j], type, t), s[j]);
            out[i * ldo + j] = accumulate ? out[i * ldo + j] + s[j] : s[j];
        }
    }
}

/*
 * One function per (rm, rn, type), not inlined into one switch: register allocation is then per
 * loop. Inlined together, GCC kept a zero vector live across all of them, and the 4 x 3 tile,
 * which needs all 16 registers, spilled an accumulator to the stack (a store and a reload per
 * k step on its critical path).
 */
#define XK_TILE_FN(rm, rn, T, suffix)                                                              \
    static __attribute__((noinline)) void tile_##rm##_##rn##_##suffix(                             \
        int64_t kc, const float *a, int64_t lda, const void *const *cols, float *out, int64_t ldo, \
        int accumulate, const gemv_prefetch_t *pf) {                                               \
        tile(rm, rn, kc, a, lda, cols, T, out, ldo, accumulate, pf);                               \
    }
#define XK_TILE_FNS(rm, rn)                                                                        \
    XK_TILE_FN(rm, rn, XHAL_DTYPE_F32, f32)                                                        \
    XK_TILE_FN(rm, rn, XHAL_DTYPE_F16, f16)                                                        \
    XK_TILE_FN(rm, rn, XHAL_DTYPE_BF16, bf16)
XK_TILE_FNS(1, 1)
XK_TILE_FNS(1, 2)
XK_TILE_FNS(1, 3)
XK_TILE_FNS(2, 1)
XK_TILE_FNS(2, 2)
XK_TILE_FNS(2, 3)
XK_TILE_FNS(3, 1)
XK_TILE_FNS(3, 2)
XK_TILE_FNS(3, 3)
XK_TILE_FNS(4, 1)
XK_TILE_FNS(4, 2)
XK_TILE_FNS(4, 3)

#define XK_TILE_CASE(rm, rn)                                                                       \
    case (rm)*8 + (rn):                                                                            \
        (type == XHAL_DTYPE_F32 ? tile_##rm##_##rn##_f32                                           \
         : type == XHAL_DTYPE_BF16                                                                 \
             ? tile_##rm##_##rn##_bf16                                                             \
             : tile_##rm##_##rn##_f16)(kc, a, lda, cols, out, ldo, accumulate, pf);                \
        break

#define XK_TILE_ROWS(rm)                                                                           \
    XK_TILE_CASE(rm, 1);                                                                           \
    XK_TILE_CASE(rm, 2);                                                                           \
    XK_TILE_CASE(rm, 3)

static void dot_tile(int rm, int rn, int64_t kc, const float *a, int64_t lda,
                     const void *const *cols, xhal_dtype_t type, float *out, int64_t ldo,
                     int accumulate, const gemv_prefetch_t *pf) {
    switch (rm * 8 + rn) {
        XK_TILE_ROWS(1);
        XK_TILE_ROWS(2);
        XK_TILE_ROWS(3);
        XK_TILE_ROWS(4);
    }
}

#define XK_GEMV_ROWS xk_gemv_rows_avx2
#define XK_GEMV_COLUMNS xk_gemv_columns_avx2
void XK_GEMV_ROWS(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1, float *out);
void XK_GEMV_COLUMNS(const xk_gemm_problem_t *p, const void *a, int64_t n0, int64_t n1, int64_t k0,
                     int64_t k1, float *partial);
#include "gemv_impl.h"

const int xk_gemv_avx2_unit = COLUMN_CHUNK;
#endif
