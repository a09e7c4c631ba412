/*
 * Quantized B with AVX2, FMA and F16C (qgemm_kernel.h): the scheme of qgemv_avx512.c in vectors
 * of 8. INT4 chunks are 64 steps, 32 bytes per column: nibbles 0..6 of each 32-bit lane masked
 * in place and converted, nibble 7 shifted down by 4 first (AVX2 converts signed 32-bit
 * integers only), so A's vectors are scaled by 16^-t, t = 0..6, 6. AVX2 has no masked byte
 * loads: a row's last partial chunk or step is copied into a zeroed buffer first, so no byte
 * past the row is read. 16 vector registers: fewer columns at a time for more rows.
 */
#include "qgemm_kernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX2)
#include <immintrin.h>
#include <string.h>

enum { LANES = 8, COLS = 4 };

#define XK_INLINE static inline __attribute__((always_inline))

static inline float scale_at(const xk_qweights_t *q, int64_t index) {
    if (q->scale_type == XHAL_DTYPE_F32) return ((const float *)q->scales)[index];
    uint16_t h = ((const uint16_t *)q->scales)[index];
    if (q->scale_type == XHAL_DTYPE_F16) return _cvtsh_ss(h);
    return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128((int)((uint32_t)h << 16))));
}

/* `count` bytes from `src` (the rest zero), up to 32. */
XK_INLINE __m256i load_part(const uint8_t *src, int64_t count) {
    uint8_t buffer[32] = {0};
    memcpy(buffer, src, (size_t)(count > 0 ? count : 0));
    return _mm256_loadu_si256((const __m256i *)(const void *)buffer);
}

/* 8 FP8 codes as f32 (E4M3: times 2^-8, its NaN code read as 480; see qgemv_avx512.c). */
XK_INLINE __m256 fp8_to_f32(__m128i bytes, int e4m3) {
    if (!e4m3) return _mm256_cvtph_ps(_mm_slli_epi16(_mm_cvtepu8_epi16(bytes), 8));
    return _mm256_cvtph_ps(
        _mm_and_si128(_mm_slli_epi16(_mm_cvtepi8_epi16(bytes), 7), _mm_set1_epi16((short)0xbf80)));
}

/* A bit per byte of `bytes` holding E4M3's NaN code (S.1111.111). */
XK_INLINE unsigned e4m3_nans(__m256i bytes) {
    const __m256i magnitude = _mm256_set1_epi8(0x7f);
    return (unsigned)_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_and_si256(bytes, magnitude), magnitude));
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

/* The line at `at` of the column COLS ahead into L2 (see qgemv_avx512.c). */
XK_INLINE void prefetch_ahead(const uint8_t *at, int64_t bytes_per_row) {
    _mm_prefetch((const char *)(at + COLS * bytes_per_row), _MM_HINT_T1);
}

/* out[c * m + i] = sum of acc[i][c]'s lanes (times factor[c]), for the columns that exist. */
XK_INLINE void store_sums(__m256 acc[][COLS], int m, int cols, const float *factor, float *out) {
    for (int c = 0; c < cols; c++)
        for (int i = 0; i < m; i++)
            out[c * m + i] = reduce(acc[i][c]) * (factor ? factor[c] : 1.0f);
}

/* The scale of each lane for chunk `chunk` (64 steps; lane d covers steps 8d..8d+7) of column
 * j: one group's, or two (lanes 0-3, 4-7) for groups of 32; a group past the last reads 0. */
XK_INLINE __m256 int4_scale(const xk_qweights_t *q, int64_t j, int64_t chunk) {
    /* (groups are 32, 64 or 128 steps: a shift, not a division per chunk) */
    const int64_t first = chunk * 64 >> __builtin_ctzll((unsigned long long)q->group);
    if (q->group > 32) return _mm256_set1_ps(scale_at(q, xk_qscale_index(q, j, first)));
    float second = first + 1 < q->groups ? scale_at(q, xk_qscale_index(q, j, first + 1)) : 0.0f;
    return _mm256_set_m128(_mm_set1_ps(second),
                           _mm_set1_ps(scale_at(q, xk_qscale_index(q, j, first))));
}

/* 8 scales from number `index` as f32 (`count` of them, the rest 0). */
XK_INLINE __m256 scales8(const xk_qweights_t *q, int64_t index, int64_t count) {
    const size_t size = q->scale_type == XHAL_DTYPE_F32 ? 4 : 2;
    uint8_t buffer[32] = {0};
    memcpy(buffer, (const uint8_t *)q->scales + index * (int64_t)size,
           (size_t)(count < 8 ? count : 8) * size);
    if (q->scale_type == XHAL_DTYPE_F32) return _mm256_loadu_ps((const float *)(void *)buffer);
    __m128i h = _mm_loadu_si128((const __m128i *)(void *)buffer);
    if (q->scale_type == XHAL_DTYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* The zero points' share of column j's sum against a prepared row: sum over groups g of s z
 * times the row's sum over g (`sums`, after the row's chunks, zero-padded to 16). */
XK_INLINE float int4_zero_share(const xk_qweights_t *q, int64_t j, const float *sums) {
    const int64_t base = xk_qscale_index(q, j, 0);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t g = 0; g < q->groups; g += 8) {
        __m256 z = _mm256_set1_ps(8.0f);
        if (q->zeros) {
            uint64_t word = 0;
            memcpy(&word, q->zeros + base + g, (size_t)(q->groups - g < 8 ? q->groups - g : 8));
            z = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)word)));
        }
        acc = _mm256_fmadd_ps(_mm256_mul_ps(scales8(q, base + g, q->groups - g), z),
                              _mm256_loadu_ps(sums + g), acc);
    }
    return reduce(acc);
}

/*
 * INT4, NC columns from column j, chunk by chunk of 64 steps: per column and row, the chunk's
 * sum of q a (nibbles masked in place and converted, against A's vectors scaled to match),
 * scaled into the total; the zero points' share is taken off once at the end.
 */
XK_INLINE void dot_int4_rows(const xk_qweights_t *q, const float *prep, int64_t prep_ld,
                             const int m, const int nc, int64_t k, int64_t j, int cols,
                             float *out) {
    const int64_t row_bytes = (k + 1) / 2, chunks = (k + 63) / 64, whole = row_bytes / 32;
    const uint8_t *rows[COLS];
    column_rows(q, j, cols, q->ld / 2, rows);
    __m256 total[XK_QGEMV_MAX_M][COLS];
    for (int i = 0; i < m; i++)
        for (int c = 0; c < nc; c++)
            total[i][c] = _mm256_setzero_ps();
    for (int64_t ch = 0; ch < chunks; ch++) {
        const float *a = prep + ch * 64;
        __m256i x[COLS];
        for (int c = 0; c < nc; c++) {
            prefetch_ahead(rows[c] + ch * 32, q->ld / 2);
            x[c] = ch < whole
                       ? _mm256_loadu_si256((const __m256i *)(const void *)(rows[c] + ch * 32))
                       : load_part(rows[c] + ch * 32, row_bytes - ch * 32);
        }
        __m256 acc[XK_QGEMV_MAX_M][COLS];
#pragma GCC unroll 8
        for (int t = 0; t < 8; t++) {
            const int e = t == 7 ? 6 : t;
            const __m256i nibble = _mm256_set1_epi32((int)(0xfu << (4 * e)));
            __m256 av[XK_QGEMV_MAX_M];
            for (int i = 0; i < m; i++)
                av[i] = _mm256_load_ps(a + i * prep_ld + t * LANES);
            for (int c = 0; c < nc; c++) {
                __m256i bits = t == 7 ? _mm256_srli_epi32(x[c], 4) : x[c];
                __m256 w = _mm256_cvtepi32_ps(_mm256_and_si256(bits, nibble));
                for (int i = 0; i < m; i++)
                    acc[i][c] = t ? _mm256_fmadd_ps(w, av[i], acc[i][c]) : _mm256_mul_ps(w, av[i]);
            }
        }
        for (int c = 0; c < nc; c++) {
            __m256 scale = int4_scale(q, j + (c < cols ? c : cols - 1), ch);
            for (int i = 0; i < m; i++)
                total[i][c] = _mm256_fmadd_ps(scale, acc[i][c], total[i][c]);
        }
    }
    const int64_t sums = chunks * 64;
    for (int c = 0; c < nc && c < cols; c++)
        for (int i = 0; i < m; i++)
            out[c * m + i] =
                reduce(total[i][c]) - int4_zero_share(q, j + c, prep + i * prep_ld + sums);
}

/* INT4: NC columns at a time, as the 16 registers allow for m rows. */
XK_INLINE void dot_int4(const xk_qweights_t *q, const float *prep, int64_t prep_ld, const int m,
                        int64_t k, int64_t j, int cols, float *out) {
    const int nc = m == 1 ? 4 : m == 2 ? 2 : 1;
    float part[COLS * XK_QGEMV_MAX_M];
    for (int c0 = 0; c0 < cols; c0 += nc) {
        int here = cols - c0 < nc ? cols - c0 : nc;
        if (nc == 4)
            dot_int4_rows(q, prep, prep_ld, m, 4, k, j + c0, here, part);
        else if (nc == 2)
            dot_int4_rows(q, prep, prep_ld, m, 2, k, j + c0, here, part);
        else
            dot_int4_rows(q, prep, prep_ld, m, 1, k, j + c0, here, part);
        for (int c = 0; c < here; c++)
            for (int i = 0; i < m; i++)
                out[(c0 + c) * m + i] = part[c * m + i];
    }
}

/* 8 steps of NC columns from `w`, widened and converted by format. */
XK_INLINE void bytes_step(__m256 acc[][COLS], const __m128i w[COLS], int format, const float *a,
                          int64_t prep_ld, int m, int nc) {
    for (int c = 0; c < nc; c++) {
        __m256 v = format == XHAL_QUANT_INT8 ? _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(w[c]))
                                             : fp8_to_f32(w[c], format == XHAL_QUANT_FP8_E4M3);
        for (int i = 0; i < m; i++)
            acc[i][c] = _mm256_fmadd_ps(v, _mm256_load_ps(a + i * prep_ld), acc[i][c]);
    }
}

/* INT8 and FP8, NC columns from column j: one scale per column (or tensor); natural order. */
XK_INLINE void dot_bytes_rows(const xk_qweights_t *q, const float *prep, int64_t prep_ld,
                              const int m, const int nc, const int format, int64_t k, int64_t j,
                              int cols, float *out) {
    const int e4m3 = format == XHAL_QUANT_FP8_E4M3;
    const uint8_t *rows[COLS];
    column_rows(q, j, cols, q->ld, rows);
    __m256 acc[XK_QGEMV_MAX_M][COLS];
    for (int i = 0; i < m; i++)
        for (int c = 0; c < nc; c++)
            acc[i][c] = _mm256_setzero_ps();
    unsigned nan[COLS] = {0};
    __m128i w[COLS];
    int64_t p = 0;
    for (; p + 32 <= k; p += 32) {
        for (int c = 0; c < nc; c++)
            prefetch_ahead(rows[c] + p, q->ld);
        if (e4m3)
            for (int c = 0; c < nc; c++)
                nan[c] |=
                    e4m3_nans(_mm256_loadu_si256((const __m256i *)(const void *)(rows[c] + p)));
        for (int u = 0; u < 32; u += 8) {
            for (int c = 0; c < nc; c++)
                w[c] = _mm_loadl_epi64((const __m128i *)(const void *)(rows[c] + p + u));
            bytes_step(acc, w, format, prep + p + u, prep_ld, m, nc);
        }
    }
    if (p < k) { /* the last steps through a zeroed buffer, which A's zeros meet */
        __m256i last[COLS];
        for (int c = 0; c < nc; c++) {
            last[c] = load_part(rows[c] + p, k - p);
            if (e4m3) nan[c] |= e4m3_nans(last[c]);
        }
        for (int64_t u = 0; p + u < k; u += 8) {
            for (int c = 0; c < nc; c++) {
                uint8_t bytes[32];
                _mm256_storeu_si256((__m256i *)(void *)bytes, last[c]);
                w[c] = _mm_loadl_epi64((const __m128i *)(const void *)(bytes + u));
            }
            bytes_step(acc, w, format, prep + p + u, prep_ld, m, nc);
        }
    }
    float factor[COLS];
    for (int c = 0; c < nc && c < cols; c++) {
        factor[c] = scale_at(q, xk_qscale_index(q, j + c, 0)) * (e4m3 ? 256.0f : 1.0f);
        if (nan[c]) factor[c] = __builtin_nanf("");
    }
    store_sums(acc, m, nc < cols ? nc : cols, factor, out);
}

XK_INLINE void dot_bytes(const xk_qweights_t *q, const float *prep, int64_t prep_ld, const int m,
                         const int format, int64_t k, int64_t j, int cols, float *out) {
    const int nc = m <= 2 ? 4 : 2;
    float part[COLS * XK_QGEMV_MAX_M];
    for (int c0 = 0; c0 < cols; c0 += nc) {
        int here = cols - c0 < nc ? cols - c0 : nc;
        if (nc == 4)
            dot_bytes_rows(q, prep, prep_ld, m, 4, format, k, j + c0, here, part);
        else
            dot_bytes_rows(q, prep, prep_ld, m, 2, format, k, j + c0, here, part);
        for (int c = 0; c < here; c++)
            for (int i = 0; i < m; i++)
                out[(c0 + c) * m + i] = part[c * m + i];
    }
}

/* Each row count and format its own loop, with the counts known to the compiler. */
static void dot(const xk_qweights_t *q, const float *prep, int64_t prep_ld, int64_t m, int64_t k,
                int64_t j, int cols, float *out) {
#define XK_ROWS(M)                                                                                 \
    case M:                                                                                        \
        if (q->format == XHAL_QUANT_INT4)                                                          \
            dot_int4(q, prep, prep_ld, M, k, j, cols, out);                                        \
        else if (q->format == XHAL_QUANT_INT8)                                                     \
            dot_bytes(q, prep, prep_ld, M, XHAL_QUANT_INT8, k, j, cols, out);                      \
        else if (q->format == XHAL_QUANT_FP8_E4M3)                                                 \
            dot_bytes(q, prep, prep_ld, M, XHAL_QUANT_FP8_E4M3, k, j, cols, out);                  \
        else                                                                                       \
            dot_bytes(q, prep, prep_ld, M, XHAL_QUANT_FP8_E5M2, k, j, cols, out);                  \
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
                    __m128i bytes =
                        _mm256_castsi256_si128(load_part(row + (p + u) / 2, (left + 1) / 2));
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
                __m128i bytes = _mm256_castsi256_si128(load_part(row + p + u, left));
                v = format == XHAL_QUANT_INT8 ? _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes))
                                              : fp8_to_f32(bytes, format == XHAL_QUANT_FP8_E4M3);
                if (format == XHAL_QUANT_FP8_E4M3) {
                    /* E4M3's NaN code as NaN (bytes past the run are zero: not NaN). */
                    const __m128i magnitude = _mm_set1_epi8(0x7f);
                    __m128i nan = _mm_cmpeq_epi8(_mm_and_si128(bytes, magnitude), magnitude);
                    v = _mm256_blendv_ps(v, _mm256_set1_ps(__builtin_nanf("")),
                                         _mm256_castsi256_ps(_mm256_cvtepi8_epi32(nan)));
                }
            }
            float values[8];
            _mm256_storeu_ps(values, _mm256_mul_ps(_mm256_sub_ps(v, zero), scale));
            memcpy(dst + t + u, values, (size_t)left * sizeof *values);
        }
        t += run;
    }
}

/* The top nibble is shifted down to the place of nibble 6: 16^6. */
const xk_qkernels_t xk_qkernels_avx2 = {LANES, 6, dot, dequant_k};
#else
const xk_qkernels_t xk_qkernels_avx2 = {0, 0, 0, 0};
#endif
