/*
 * The GEMV inner loops for AVX-512: B is converted in registers (F16C for f16, a shift for
 * bf16) and consumed at once, so a 16-bit weight costs two bytes of memory traffic and nothing
 * more.
 */
#include "gemv_kernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX512)
#include <immintrin.h>

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

static void update4(float *o, const float a[4], const void *b, xhal_dtype_t type,
                    const int64_t rows[4], int64_t cols) {
    __m512 a0 = _mm512_set1_ps(a[0]), a1 = _mm512_set1_ps(a[1]);
    __m512 a2 = _mm512_set1_ps(a[2]), a3 = _mm512_set1_ps(a[3]);
    for (int64_t j = 0; j < cols; j += 16) {
        __mmask16 m = tail_mask(cols - j);
        __m512 acc = _mm512_maskz_loadu_ps(m, o + j);
        acc = _mm512_fmadd_ps(a0, load16(b, type, rows[0] + j, m), acc);
        acc = _mm512_fmadd_ps(a1, load16(b, type, rows[1] + j, m), acc);
        acc = _mm512_fmadd_ps(a2, load16(b, type, rows[2] + j, m), acc);
        acc = _mm512_fmadd_ps(a3, load16(b, type, rows[3] + j, m), acc);
        _mm512_mask_storeu_ps(o + j, m, acc);
    }
}

/* Four accumulators per row of A hide the FMA latency when m is 1. */
static void dots(float *out, const float *a, int64_t k, int64_t m, const void *b, xhal_dtype_t type,
                 int64_t offset) {
    __m512 acc[XK_GEMV_MAX_M][4];
    for (int64_t i = 0; i < m; i++)
        for (int u = 0; u < 4; u++)
            acc[i][u] = _mm512_setzero_ps();
    for (int64_t q = 0; q < k; q += 64) {
        for (int u = 0; u < 4; u++) {
            int64_t at = q + 16 * u;
            if (at >= k) break;
            __mmask16 mask = tail_mask(k - at);
            __m512 bv = load16(b, type, offset + at, mask);
            for (int64_t i = 0; i < m; i++)
                acc[i][u] =
                    _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i * k + at), bv, acc[i][u]);
        }
    }
    for (int64_t i = 0; i < m; i++)
        out[i] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[i][0], acc[i][1]),
                                                    _mm512_add_ps(acc[i][2], acc[i][3])));
}

#define XK_GEMV_ROWS xk_gemv_rows_avx512
#define XK_GEMV_COLUMNS xk_gemv_columns_avx512
void XK_GEMV_ROWS(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1, float *out);
void XK_GEMV_COLUMNS(const xk_gemm_problem_t *p, const float *a, int64_t n0, int64_t n1);
#include "gemv_impl.h"
#endif
