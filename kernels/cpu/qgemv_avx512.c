/*
 * Quantized B with AVX-512 (qgemm_kernel.h): the GEMV dot products and the dequantization the
 * packing uses. Weights are widened to 32 bits, converted and multiplied in registers; four
 * columns at a time share the loads of A and give the FMAs four independent chains.
 *   INT8  sign-extend, convert, FMA; the scale once per column.
 *   INT4  16 bytes are 32 elements: the low nibbles (even steps) and the high ones (odd steps)
 *         against A's block split the same way; a group is summed unscaled, then
 *         s (sum - z sum_a) per group.
 *   FP8   E5M2 is the top byte of an f16; E4M3 shifted into an f16 is its value times 2^-8
 *         (2^8 folded into the scale), with S.1111.111 set to NaN. F16C converts.
 * Reads past a row's last byte are masked, so a row at the end of a buffer is safe.
 */
#include "qgemm_kernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX512)
#include <immintrin.h>

enum { LANES = 16, COLS = 4 };

static inline float scale_at(const xk_qweights_t *q, int64_t index) {
    if (q->scale_type == XHAL_DTYPE_F32) return ((const float *)q->scales)[index];
    uint16_t h = ((const uint16_t *)q->scales)[index];
    if (q->scale_type == XHAL_DTYPE_F16) return _cvtsh_ss(h);
    return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128((int)((uint32_t)h << 16))));
}

static inline __mmask16 tail16(int64_t left) {
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
}

/* 16 FP8 codes as f32 (E4M3: times 2^-8). */
static inline __m512 fp8_to_f32(__m128i bytes, int e4m3) {
    if (!e4m3) return _mm512_cvtph_ps(_mm256_slli_epi16(_mm256_cvtepu8_epi16(bytes), 8));
    /* Sign-extended, shifted by 7: the sign lands in bits 15 and 14; bit 14 cleared. */
    __m256i h = _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(bytes), 7),
                                 _mm256_set1_epi16((short)0xbf80));
    __m512 v = _mm512_cvtph_ps(h);
    __mmask16 nan = _mm256_cmpeq_epi16_mask(_mm256_and_si256(h, _mm256_set1_epi16(0x3f80)),
                                            _mm256_set1_epi16(0x3f80));
    return _mm512_mask_mov_ps(v, nan, _mm512_set1_ps(__builtin_nanf("")));
}

/* The columns' first bytes; columns past `cols` repeat the last (their sums are dropped). */
static inline void column_rows(const xk_qweights_t *q, int64_t j, int cols, int64_t bytes_per_row,
                               const uint8_t *rows[COLS]) {
    for (int c = 0; c < COLS; c++)
        rows[c] = q->data + (j + (c < cols ? c : cols - 1)) * bytes_per_row;
}

static void dot_int4(const xk_qweights_t *q, const float *prep, int64_t prep_ld, int64_t m,
                     int64_t k, int64_t j, int cols, float *out) {
    const int64_t kp = (k + 31) / 32 * 32, blocks = kp / 32, per_group = q->group / 32;
    const int64_t row_bytes = (k + 1) / 2; /* bytes holding elements */
    const __m512i low = _mm512_set1_epi32(0x0f);
    const uint8_t *rows[COLS];
    column_rows(q, j, cols, q->ld / 2, rows);
    for (int64_t i = 0; i < m; i++) {
        const float *a = prep + i * prep_ld;
        const float *sums = a + kp;
        __m512 total[COLS];
        for (int c = 0; c < COLS; c++)
            total[c] = _mm512_setzero_ps();
        for (int64_t g = 0; g < q->groups; g++) {
            __m512 acc[COLS];
            for (int c = 0; c < COLS; c++)
                acc[c] = _mm512_setzero_ps();
            int64_t b1 = (g + 1) * per_group < blocks ? (g + 1) * per_group : blocks;
            for (int64_t b = g * per_group; b < b1; b++) {
                __mmask16 mask = tail16(row_bytes - b * 16);
                __m512 even = _mm512_load_ps(a + b * 32), odd = _mm512_load_ps(a + b * 32 + 16);
#pragma GCC unroll 4
                for (int c = 0; c < COLS; c++) {
                    __m512i x = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, rows[c] + b * 16));
                    __m512 lo = _mm512_cvtepi32_ps(_mm512_and_si512(x, low));
                    __m512 hi = _mm512_cvtepi32_ps(_mm512_srli_epi32(x, 4));
                    acc[c] = _mm512_fmadd_ps(lo, even, acc[c]);
                    acc[c] = _mm512_fmadd_ps(hi, odd, acc[c]);
                }
            }
            __m512 sum_a = _mm512_load_ps(sums + g * LANES);
            for (int c = 0; c < COLS; c++) {
                int64_t index = xk_qscale_index(q, j + (c < cols ? c : 0), g);
                __m512 z = _mm512_set1_ps((float)xk_qzero(q, index));
                __m512 unscaled = _mm512_fnmadd_ps(z, sum_a, acc[c]);
                total[c] = _mm512_fmadd_ps(_mm512_set1_ps(scale_at(q, index)), unscaled, total[c]);
            }
        }
        for (int c = 0; c < cols; c++)
            out[c * m + i] = _mm512_reduce_add_ps(total[c]);
    }
}

/* INT8 and FP8: one scale per column (or tensor); natural order. */
static void dot_bytes(const xk_qweights_t *q, const float *prep, int64_t prep_ld, int64_t m,
                      int64_t k, int64_t j, int cols, float *out) {
    const int format = q->format;
    const int e4m3 = format == XHAL_QUANT_FP8_E4M3;
    const uint8_t *rows[COLS];
    column_rows(q, j, cols, q->ld, rows);
    for (int64_t i = 0; i < m; i++) {
        const float *a = prep + i * prep_ld;
        __m512 acc[COLS];
        for (int c = 0; c < COLS; c++)
            acc[c] = _mm512_setzero_ps();
        for (int64_t p = 0; p < k; p += 16) {
            __mmask16 mask = tail16(k - p);
            __m512 av = _mm512_load_ps(a + p);
#pragma GCC unroll 4
            for (int c = 0; c < COLS; c++) {
                __m128i bytes = _mm_maskz_loadu_epi8(mask, rows[c] + p);
                __m512 w = format == XHAL_QUANT_INT8
                               ? _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes))
                               : fp8_to_f32(bytes, e4m3);
                acc[c] = _mm512_fmadd_ps(w, av, acc[c]);
            }
        }
        float fix = e4m3 ? 256.0f : 1.0f;
        for (int c = 0; c < cols; c++)
            out[c * m + i] =
                _mm512_reduce_add_ps(acc[c]) * (scale_at(q, xk_qscale_index(q, j + c, 0)) * fix);
    }
}

static void dot(const xk_qweights_t *q, const float *prep, int64_t prep_ld, int64_t m, int64_t k,
                int64_t j, int cols, float *out) {
    if (q->format == XHAL_QUANT_INT4)
        dot_int4(q, prep, prep_ld, m, k, j, cols, out);
    else
        dot_bytes(q, prep, prep_ld, m, k, j, cols, out);
}

/* Runs along k of column j (B stored n x k), 16 steps at a time within a scale's group. */
static void dequant_k(float *dst, const xk_qweights_t *q, int64_t j, int64_t p0, int64_t count) {
    const int format = q->format;
    const uint8_t *row = q->data + j * (format == XHAL_QUANT_INT4 ? q->ld / 2 : q->ld);
    for (int64_t t = 0; t < count;) {
        int64_t p = p0 + t, g = p / q->group;
        int64_t run = (g + 1) * q->group - p < count - t ? (g + 1) * q->group - p : count - t;
        int64_t index = xk_qscale_index(q, j, g);
        float s = scale_at(q, index);
        if (format == XHAL_QUANT_FP8_E4M3) s *= 256.0f;
        __m512 scale = _mm512_set1_ps(s);
        __m512 zero = _mm512_set1_ps(format == XHAL_QUANT_INT4 ? (float)xk_qzero(q, index) : 0.0f);
        for (int64_t u = 0; u < run; u += 16) {
            __mmask16 mask = tail16(run - u);
            __m512 v;
            if (format == XHAL_QUANT_INT4 && (p + u) % 2 == 0) {
                /* Each byte twice, then lanes shifted by 0 and 4 alternately: the nibbles in
                 * order. Only the bytes holding the run's elements are read. */
                int64_t left = run - u < 16 ? run - u : 16;
                __m128i bytes = _mm_maskz_loadu_epi8(tail16((left + 1) / 2), row + (p + u) / 2);
                __m512i x = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(bytes, bytes));
                __m512i shift = _mm512_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4);
                v = _mm512_cvtepi32_ps(
                    _mm512_and_si512(_mm512_srlv_epi32(x, shift), _mm512_set1_epi32(0x0f)));
            } else if (format == XHAL_QUANT_INT4) {
                float codes[16];
                for (int64_t e = 0; e < 16; e++) {
                    int64_t at = p + u + e;
                    codes[e] =
                        e < run - u ? (float)(at % 2 ? row[at / 2] >> 4 : row[at / 2] & 15) : 0.0f;
                }
                v = _mm512_loadu_ps(codes);
            } else {
                __m128i bytes = _mm_maskz_loadu_epi8(mask, row + p + u);
                v = format == XHAL_QUANT_INT8 ? _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes))
                                              : fp8_to_f32(bytes, format == XHAL_QUANT_FP8_E4M3);
            }
            _mm512_mask_storeu_ps(dst + t + u, mask, _mm512_mul_ps(_mm512_sub_ps(v, zero), scale));
        }
        t += run;
    }
}

const xk_qkernels_t xk_qkernels_avx512 = {LANES, dot, dequant_k};
#else
const xk_qkernels_t xk_qkernels_avx512 = {0, 0, 0};
#endif
