/*
 * Quantized B with AVX-512 (qgemm_kernel.h): the GEMV dot products and the dequantization the
 * packing uses. Four columns at a time, every row of A (up to 4) against each unpacked weight
 * vector, so a weight is unpacked once however many rows there are; the loops hold no branch
 * but the loop counts and the row's last partial block alone is read with a mask, so no byte
 * past a row is read.
 *   INT4  chunks of 128 steps, 64 bytes per column: nibble t of each 32-bit lane masked in
 *         place and converted exactly (q 16^t, unsigned), against A's vector t scaled by 16^-t
 *         (xk_qgemv_prepare), so no shift or shuffle unpacks a nibble; each chunk's sums are
 *         scaled per lane (a lane's 8 steps lie in one group), the zero points taken off once
 *         per column through A's group sums.
 *   INT8  sign-extend, convert, FMA; the scale once per column at the end.
 *   FP8   E5M2 is the top byte of an f16; E4M3 shifted into an f16 is its value times 2^-8
 *         (2^8 folded into the scale) except S.1111.111, its NaN, which would read as 480: a
 *         column holding that code anywhere gives NaN, as a NaN weight does in any sum.
 */
#include "qgemm_kernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX512)
#include <immintrin.h>

enum { LANES = 16, COLS = 4 };

#define XK_INLINE static inline __attribute__((always_inline))

static inline float scale_at(const xk_qweights_t *q, int64_t index) {
    if (q->scale_type == XHAL_DTYPE_F32) return ((const float *)q->scales)[index];
    uint16_t h = ((const uint16_t *)q->scales)[index];
    if (q->scale_type == XHAL_DTYPE_F16) return _cvtsh_ss(h);
    return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128((int)((uint32_t)h << 16))));
}

static inline __mmask16 tail16(int64_t left) {
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
}

/* 16 FP8 codes as f32 (E4M3: times 2^-8, its NaN code read as 480). */
XK_INLINE __m512 fp8_to_f32(__m128i bytes, int e4m3) {
    if (!e4m3) return _mm512_cvtph_ps(_mm256_slli_epi16(_mm256_cvtepu8_epi16(bytes), 8));
    /* Sign-extended, shifted by 7: the sign lands in bits 15 and 14; bit 14 cleared. */
    return _mm512_cvtph_ps(_mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(bytes), 7),
                                            _mm256_set1_epi16((short)0xbf80)));
}

/* Lanes of `bytes` holding E4M3's NaN code (S.1111.111). */
XK_INLINE __mmask64 e4m3_nans(__m512i bytes) {
    const __m512i magnitude = _mm512_set1_epi8(0x7f);
    return _mm512_cmpeq_epi8_mask(_mm512_and_si512(bytes, magnitude), magnitude);
}

/* The columns' first bytes; columns past `cols` repeat the last (their sums are dropped). */
static inline void column_rows(const xk_qweights_t *q, int64_t j, int cols, int64_t bytes_per_row,
                               const uint8_t *rows[COLS]) {
    for (int c = 0; c < COLS; c++)
        rows[c] = q->data + (j + (c < cols ? c : cols - 1)) * bytes_per_row;
}

/* Asks for the line at `at` of the column COLS ahead (bytes_per_row apart) into L2, so that the
 * next call's columns stream in while these compute: the hardware prefetcher, seeing COLS short
 * interleaved streams, starts each late (measured 1.1-1.45x on 1x4096x14336 and 1x14336x4096).
 * A prefetch past the buffer's end does not fault. */
XK_INLINE void prefetch_ahead(const uint8_t *at, int64_t bytes_per_row) {
    _mm_prefetch((const char *)(at + COLS * bytes_per_row), _MM_HINT_T1);
}

/* out[c * m + i] = sum of acc[i][c]'s lanes, for the columns that exist. */
XK_INLINE void store_sums(__m512 acc[][COLS], int m, int cols, const float *factor, float *out) {
    for (int c = 0; c < cols; c++)
        for (int i = 0; i < m; i++)
            out[c * m + i] = _mm512_reduce_add_ps(acc[i][c]) * (factor ? factor[c] : 1.0f);
}

/* `count` (<= 16) scales from number `index` as f32, the rest 0. */
XK_INLINE __m512 scales16(const xk_qweights_t *q, int64_t index, __mmask16 valid) {
    if (q->scale_type == XHAL_DTYPE_F32)
        return _mm512_maskz_loadu_ps(valid, (const float *)q->scales + index);
    __m256i h = _mm256_maskz_loadu_epi16(valid, (const uint16_t *)q->scales + index);
    if (q->scale_type == XHAL_DTYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* The scale of each lane for chunk `chunk` (128 steps; lane d covers steps 8d..8d+7) of column
 * j: one group's, or 2 or 4 groups' for groups of 64 or 32; a group past the last reads 0. */
XK_INLINE __m512 int4_scale(const xk_qweights_t *q, int64_t j, int64_t chunk) {
    /* (groups are 32, 64 or 128 steps: a shift, not a division per chunk) */
    const int64_t first = chunk * 128 >> __builtin_ctzll((unsigned long long)q->group);
    if (q->group >= 128) return _mm512_set1_ps(scale_at(q, xk_qscale_index(q, j, first)));
    const int64_t left = q->groups - first, per_chunk = 128 / q->group;
    __m512 scales =
        scales16(q, xk_qscale_index(q, j, first), tail16(left < per_chunk ? left : per_chunk));
    const __m512i spread = q->group == 32
                               ? _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3)
                               : _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    return _mm512_permutexvar_ps(spread, scales);
}

/* The zero points' share of column j's sum against a prepared row: sum over groups g of s z
 * times the row's sum over g (`sums`, after the row's chunks). */
XK_INLINE float int4_zero_share(const xk_qweights_t *q, int64_t j, const float *sums) {
    const int64_t base = xk_qscale_index(q, j, 0);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t g = 0; g < q->groups; g += 16) {
        __mmask16 valid = tail16(q->groups - g);
        __m512 z = _mm512_set1_ps(8.0f);
        if (q->zeros)
            z = _mm512_cvtepi32_ps(
                _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(valid, q->zeros + base + g)));
        acc = _mm512_fmadd_ps(_mm512_mul_ps(scales16(q, base + g, valid), z),
                              _mm512_maskz_loadu_ps(valid, sums + g), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

/*
 * NC columns from column j (the rest of the four repeat the last; their sums are dropped),
 * chunk by chunk of 128 steps: per column and row, the chunk's sum of q a (nibble t of each
 * 32-bit lane masked in place and converted exactly, against A's vector t scaled to match),
 * scaled into the total; the zero points' share is taken off once at the end.
 */
XK_INLINE void dot_int4_rows(const xk_qweights_t *q, const float *prep, int64_t prep_ld,
                             const int m, const int nc, int64_t k, int64_t j, int cols,
                             float *out) {
    const int64_t row_bytes = (k + 1) / 2, chunks = (k + 127) / 128, whole = row_bytes / 64;
    const uint8_t *rows[COLS];
    column_rows(q, j, cols, q->ld / 2, rows);
    __m512 total[XK_QGEMV_MAX_M][COLS];
    for (int i = 0; i < m; i++)
        for (int c = 0; c < nc; c++)
            total[i][c] = _mm512_setzero_ps();
    for (int64_t ch = 0; ch < chunks; ch++) {
        const float *a = prep + ch * 128;
        __m512i x[COLS];
        if (ch < whole) {
            for (int c = 0; c < nc; c++) {
                prefetch_ahead(rows[c] + ch * 64, q->ld / 2);
                x[c] = _mm512_loadu_si512(rows[c] + ch * 64);
            }
        } else { /* the row's last, partial chunk: A is zero past k */
            __mmask64 mask = ((__mmask64)1 << (row_bytes - ch * 64)) - 1;
            for (int c = 0; c < nc; c++)
                x[c] = _mm512_maskz_loadu_epi8(mask, rows[c] + ch * 64);
        }
        __m512 acc[XK_QGEMV_MAX_M][COLS];
#pragma GCC unroll 8
        for (int t = 0; t < 8; t++) {
            const __m512i nibble = _mm512_set1_epi32((int)(0xfu << (4 * t)));
            __m512 av[XK_QGEMV_MAX_M];
            for (int i = 0; i < m; i++)
                av[i] = _mm512_load_ps(a + i * prep_ld + t * LANES);
            for (int c = 0; c < nc; c++) {
                __m512 w = _mm512_cvtepu32_ps(_mm512_and_si512(x[c], nibble));
                for (int i = 0; i < m; i++)
                    acc[i][c] = t ? _mm512_fmadd_ps(w, av[i], acc[i][c]) : _mm512_mul_ps(w, av[i]);
            }
        }
        for (int c = 0; c < nc; c++) {
            __m512 scale = int4_scale(q, j + (c < cols ? c : cols - 1), ch);
            for (int i = 0; i < m; i++)
                total[i][c] = _mm512_fmadd_ps(scale, acc[i][c], total[i][c]);
        }
    }
    const int64_t sums = chunks * 128;
    for (int c = 0; c < nc && c < cols; c++)
        for (int i = 0; i < m; i++)
            out[c * m + i] = _mm512_reduce_add_ps(total[i][c]) -
                             int4_zero_share(q, j + c, prep + i * prep_ld + sums);
}

/* INT4: four columns at a time for 1 or 2 rows, two for more (the registers' limit). */
XK_INLINE void dot_int4(const xk_qweights_t *q, const float *prep, int64_t prep_ld, const int m,
                        int64_t k, int64_t j, int cols, float *out) {
    if (m <= 2) {
        dot_int4_rows(q, prep, prep_ld, m, 4, k, j, cols, out);
        return;
    }
    float part[2 * XK_QGEMV_MAX_M];
    for (int c0 = 0; c0 < cols; c0 += 2) {
        int nc = cols - c0 < 2 ? cols - c0 : 2;
        dot_int4_rows(q, prep, prep_ld, m, 2, k, j + c0, nc, part);
        for (int c = 0; c < nc; c++)
            for (int i = 0; i < m; i++)
                out[(c0 + c) * m + i] = part[c * m + i];
    }
}

/* 16 steps of the four columns from `w`, widened and converted by format. */
XK_INLINE void bytes_step(__m512 acc[][COLS], const __m128i w[COLS], int format, const float *a,
                          int64_t prep_ld, int m) {
    for (int c = 0; c < COLS; c++) {
        __m512 v = format == XHAL_QUANT_INT8 ? _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(w[c]))
                                             : fp8_to_f32(w[c], format == XHAL_QUANT_FP8_E4M3);
        for (int i = 0; i < m; i++)
            acc[i][c] = _mm512_fmadd_ps(v, _mm512_load_ps(a + i * prep_ld), acc[i][c]);
    }
}

/* INT8 and FP8: one scale per column (or tensor); natural order. */
XK_INLINE void dot_bytes_rows(const xk_qweights_t *q, const float *prep, int64_t prep_ld,
                              const int m, const int format, int64_t k, int64_t j, int cols,
                              float *out) {
    const int e4m3 = format == XHAL_QUANT_FP8_E4M3;
    const uint8_t *rows[COLS];
    column_rows(q, j, cols, q->ld, rows);
    __m512 acc[XK_QGEMV_MAX_M][COLS];
    for (int i = 0; i < m; i++)
        for (int c = 0; c < COLS; c++)
            acc[i][c] = _mm512_setzero_ps();
    __mmask64 nan[COLS] = {0};
    __m128i w[COLS];
    int64_t p = 0;
    for (; p + 64 <= k; p += 64) {
        for (int c = 0; c < COLS; c++)
            prefetch_ahead(rows[c] + p, q->ld);
        if (e4m3)
            for (int c = 0; c < COLS; c++)
                nan[c] |= e4m3_nans(_mm512_loadu_si512(rows[c] + p));
        for (int u = 0; u < 64; u += 16) {
            for (int c = 0; c < COLS; c++)
                w[c] = _mm_loadu_si128((const __m128i *)(rows[c] + p + u));
            bytes_step(acc, w, format, prep + p + u, prep_ld, m);
        }
    }
    for (; p < k; p += 16) { /* masked: zeros past k, which A's zeros meet */
        __mmask16 mask = tail16(k - p);
        for (int c = 0; c < COLS; c++) {
            w[c] = _mm_maskz_loadu_epi8(mask, rows[c] + p);
            if (e4m3) nan[c] |= e4m3_nans(_mm512_zextsi128_si512(w[c]));
        }
        bytes_step(acc, w, format, prep + p, prep_ld, m);
    }
    float factor[COLS];
    for (int c = 0; c < cols; c++) {
        factor[c] = scale_at(q, xk_qscale_index(q, j + c, 0)) * (e4m3 ? 256.0f : 1.0f);
        if (nan[c]) factor[c] = __builtin_nanf("");
    }
    store_sums(acc, m, cols, factor, out);
}

/* Each row count and format its own loop, with the counts known to the compiler. */
static void dot(const xk_qweights_t *q, const float *prep, int64_t prep_ld, int64_t m, int64_t k,
                int64_t j, int cols, float *out) {
#define XK_ROWS(M)                                                                                 \
    case M:                                                                                        \
        if (q->format == XHAL_QUANT_INT4)                                                          \
            dot_int4(q, prep, prep_ld, M, k, j, cols, out);                                        \
        else if (q->format == XHAL_QUANT_INT8)                                                     \
            dot_bytes_rows(q, prep, prep_ld, M, XHAL_QUANT_INT8, k, j, cols, out);                 \
        else if (q->format == XHAL_QUANT_FP8_E4M3)                                                 \
            dot_bytes_rows(q, prep, prep_ld, M, XHAL_QUANT_FP8_E4M3, k, j, cols, out);             \
        else                                                                                       \
            dot_bytes_rows(q, prep, prep_ld, M, XHAL_QUANT_FP8_E5M2, k, j, cols, out);             \
        break;
    switch (m) {
        XK_ROWS(1)
        XK_ROWS(2)
        XK_ROWS(3)
    default:
        XK_ROWS(4)
    }
#undef XK_ROWS
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
                if (format == XHAL_QUANT_FP8_E4M3) {
                    __mmask16 nan = (__mmask16)e4m3_nans(_mm512_zextsi128_si512(bytes)) & mask;
                    v = _mm512_mask_mov_ps(v, nan, _mm512_set1_ps(__builtin_nanf("")));
                }
            }
            _mm512_mask_storeu_ps(dst + t + u, mask, _mm512_mul_ps(_mm512_sub_ps(v, zero), scale));
        }
        t += run;
    }
}

/* The top nibble converts unsigned, in place: 16^7. */
const xk_qkernels_t xk_qkernels_avx512 = {LANES, 7, dot, dequant_k};
#else
const xk_qkernels_t xk_qkernels_avx512 = {0, 0, 0, 0};
#endif
