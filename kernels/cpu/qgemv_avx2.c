/*
 * Quantized B with AVX2, FMA and F16C (qgemm_kernel.h): the same kernels as qgemv_avx512.c in
 * vectors of 8 (INT4 blocks of 16 elements, 8 bytes, per column and step). AVX2 has no masked
 * byte loads: a row's last partial block is copied into a zeroed word first, so no byte past the
 * row is read.
 */
#include "qgemm_kernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX2)
#include <immintrin.h>
#include <string.h>

enum { LANES = 8, COLS = 4 };

static inline float scale_at(const xk_qweights_t *q, int64_t index) {
    if (q->scale_type == XHAL_DTYPE_F32) return ((const float *)q->scales)[index];
    uint16_t h = ((const uint16_t *)q->scales)[index];
    if (q->scale_type == XHAL_DTYPE_F16) return _cvtsh_ss(h);
    return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128((int)((uint32_t)h << 16))));
}

/* Up to 8 bytes from `src` (`count` of them, the rest zero) in the low half of a vector. */
static inline __m128i load8(const uint8_t *src, int64_t count) {
    if (count >= 8) return _mm_loadl_epi64((const __m128i *)(const void *)src);
    uint64_t word = 0;
    memcpy(&word, src, (size_t)(count > 0 ? count : 0));
    return _mm_cvtsi64_si128((long long)word);
}

/* 8 FP8 codes as f32 (E4M3: times 2^-8; see qgemv_avx512.c). */
static inline __m256 fp8_to_f32(__m128i bytes, int e4m3) {
    if (!e4m3) return _mm256_cvtph_ps(_mm_slli_epi16(_mm_cvtepu8_epi16(bytes), 8));
    __m128i h =
        _mm_and_si128(_mm_slli_epi16(_mm_cvtepi8_epi16(bytes), 7), _mm_set1_epi16((short)0xbf80));
    __m128i nan = _mm_cmpeq_epi16(_mm_and_si128(h, _mm_set1_epi16(0x3f80)), _mm_set1_epi16(0x3f80));
    return _mm256_blendv_ps(_mm256_cvtph_ps(h), _mm256_set1_ps(__builtin_nanf("")),
                            _mm256_castsi256_ps(_mm256_cvtepi16_epi32(nan)));
}

static inline float reduce(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

static inline void column_rows(const xk_qweights_t *q, int64_t j, int cols, int64_t bytes_per_row,
                               const uint8_t *rows[COLS]) {
    for (int c = 0; c < COLS; c++)
        rows[c] = q->data + (j + (c < cols ? c : cols - 1)) * bytes_per_row;
}

static void dot_int4(const xk_qweights_t *q, const float *prep, int64_t prep_ld, int64_t m,
                     int64_t k, int64_t j, int cols, float *out) {
    const int64_t kp = (k + 15) / 16 * 16, blocks = kp / 16, per_group = q->group / 16;
    const int64_t row_bytes = (k + 1) / 2;
    const __m256i low = _mm256_set1_epi32(0x0f);
    const uint8_t *rows[COLS];
    column_rows(q, j, cols, q->ld / 2, rows);
    for (int64_t i = 0; i < m; i++) {
        const float *a = prep + i * prep_ld;
        const float *sums = a + kp;
        __m256 total[COLS];
        for (int c = 0; c < COLS; c++)
            total[c] = _mm256_setzero_ps();
        for (int64_t g = 0; g < q->groups; g++) {
            __m256 acc[COLS];
            for (int c = 0; c < COLS; c++)
                acc[c] = _mm256_setzero_ps();
            int64_t b1 = (g + 1) * per_group < blocks ? (g + 1) * per_group : blocks;
            for (int64_t b = g * per_group; b < b1; b++) {
                int64_t left = row_bytes - b * 8;
                __m256 even = _mm256_load_ps(a + b * 16), odd = _mm256_load_ps(a + b * 16 + 8);
#pragma GCC unroll 4
                for (int c = 0; c < COLS; c++) {
                    __m256i x = _mm256_cvtepu8_epi32(load8(rows[c] + b * 8, left));
                    __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(x, low));
                    __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(x, 4));
                    acc[c] = _mm256_fmadd_ps(lo, even, acc[c]);
                    acc[c] = _mm256_fmadd_ps(hi, odd, acc[c]);
                }
            }
            __m256 sum_a = _mm256_load_ps(sums + g * LANES);
            for (int c = 0; c < COLS; c++) {
                int64_t index = xk_qscale_index(q, j + (c < cols ? c : 0), g);
                __m256 z = _mm256_set1_ps((float)xk_qzero(q, index));
                __m256 unscaled = _mm256_fnmadd_ps(z, sum_a, acc[c]);
                total[c] = _mm256_fmadd_ps(_mm256_set1_ps(scale_at(q, index)), unscaled, total[c]);
            }
        }
        for (int c = 0; c < cols; c++)
            out[c * m + i] = reduce(total[c]);
    }
}

static void dot_bytes(const xk_qweights_t *q, const float *prep, int64_t prep_ld, int64_t m,
                      int64_t k, int64_t j, int cols, float *out) {
    const int format = q->format;
    const int e4m3 = format == XHAL_QUANT_FP8_E4M3;
    const uint8_t *rows[COLS];
    column_rows(q, j, cols, q->ld, rows);
    for (int64_t i = 0; i < m; i++) {
        const float *a = prep + i * prep_ld;
        __m256 acc[COLS];
        for (int c = 0; c < COLS; c++)
            acc[c] = _mm256_setzero_ps();
        for (int64_t p = 0; p < k; p += 8) {
            __m256 av = _mm256_load_ps(a + p);
#pragma GCC unroll 4
            for (int c = 0; c < COLS; c++) {
                __m128i bytes = load8(rows[c] + p, k - p);
                __m256 w = format == XHAL_QUANT_INT8
                               ? _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes))
                               : fp8_to_f32(bytes, e4m3);
                acc[c] = _mm256_fmadd_ps(w, av, acc[c]);
            }
        }
        float fix = e4m3 ? 256.0f : 1.0f;
        for (int c = 0; c < cols; c++)
            out[c * m + i] = reduce(acc[c]) * (scale_at(q, xk_qscale_index(q, j + c, 0)) * fix);
    }
}

static void dot(const xk_qweights_t *q, const float *prep, int64_t prep_ld, int64_t m, int64_t k,
                int64_t j, int cols, float *out) {
    if (q->format == XHAL_QUANT_INT4)
        dot_int4(q, prep, prep_ld, m, k, j, cols, out);
    else
        dot_bytes(q, prep, prep_ld, m, k, j, cols, out);
}

/* Runs along k of column j (B stored n x k), 8 steps at a time within a scale's group. */
static void dequant_k(float *dst, const xk_qweights_t *q, int64_t j, int64_t p0, int64_t count) {
    const int format = q->format;
    const uint8_t *row = q->data + j * (format == XHAL_QUANT_INT4 ? q->ld / 2 : q->ld);
    for (int64_t t = 0; t < count;) {
        int64_t p = p0 + t, g = p / q->group;
        int64_t run = (g + 1) * q->group - p < count - t ? (g + 1) * q->group - p : count - t;
        int64_t index = xk_qscale_index(q, j, g);
        float s = scale_at(q, index);
        if (format == XHAL_QUANT_FP8_E4M3) s *= 256.0f;
        __m256 scale = _mm256_set1_ps(s);
        __m256 zero = _mm256_set1_ps(format == XHAL_QUANT_INT4 ? (float)xk_qzero(q, index) : 0.0f);
        for (int64_t u = 0; u < run; u += 8) {
            int64_t left = run - u < 8 ? run - u : 8;
            __m256 v;
            if (format == XHAL_QUANT_INT4) {
                float codes[8];
                if ((p + u) % 2 == 0) {
                    /* Each byte twice, lanes shifted by 0 and 4 alternately. */
                    __m128i bytes = load8(row + (p + u) / 2, (left + 1) / 2);
                    __m256i x = _mm256_cvtepu8_epi32(_mm_unpacklo_epi8(bytes, bytes));
                    __m256i shift = _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4);
                    v = _mm256_cvtepi32_ps(
                        _mm256_and_si256(_mm256_srlv_epi32(x, shift), _mm256_set1_epi32(0x0f)));
                } else {
                    for (int64_t e = 0; e < 8; e++) {
                        int64_t at = p + u + e;
                        codes[e] =
                            e < left ? (float)(at % 2 ? row[at / 2] >> 4 : row[at / 2] & 15) : 0.0f;
                    }
                    v = _mm256_loadu_ps(codes);
                }
            } else {
                __m128i bytes = load8(row + p + u, left);
                v = format == XHAL_QUANT_INT8 ? _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes))
                                              : fp8_to_f32(bytes, format == XHAL_QUANT_FP8_E4M3);
            }
            float values[8];
            _mm256_storeu_ps(values, _mm256_mul_ps(_mm256_sub_ps(v, zero), scale));
            memcpy(dst + t + u, values, (size_t)left * sizeof *values);
        }
        t += run;
    }
}

const xk_qkernels_t xk_qkernels_avx2 = {LANES, dot, dequant_k};
#else
const xk_qkernels_t xk_qkernels_avx2 = {0, 0, 0};
#endif
