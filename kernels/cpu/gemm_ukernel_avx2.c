/*
 * AVX2 + FMA microkernel: a 6 x 16 tile of C in 12 ymm accumulators (of 16 registers), two ymm
 * of B per k step and one broadcast of A per row: 12 independent FMA chains cover the latency of
 * two FMA pipes.
 */
#include "gemm_ukernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX2)
#include <immintrin.h>

#define MR 6
#define NR 16

/* As in the AVX-512 kernel: C prefetched into L2 when a tile starts and into L1 for the last
 * C_LATE_STEPS k steps; one line of the next B panel's source per k step (xk_prefetch_t). */
#define C_LATE_STEPS 16

static inline __attribute__((always_inline)) void prefetch_c(const float *c, int64_t ldc, int rows,
                                                             int hint_l1) {
#pragma GCC unroll 6
    for (int i = 0; i < rows; i++) {
        if (hint_l1)
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        else
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T1);
    }
}

static inline __attribute__((always_inline)) void tile(int64_t kc, const float *a, const float *b,
                                                       float *c, int64_t ldc, int rows, int nr,
                                                       float alpha, int accumulate,
                                                       const xk_prefetch_t *pf) {
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    /* The next B panel's lines, walked one per k step. */
    const char *pf_row = NULL;
    int64_t pf_stride = 0, pf_per_row = 1, pf_line = 0, pf_left = 0;
    if (pf && pf->count > 0) {
        pf_row = pf->base + pf->first / pf->lines_per_row * pf->stride;
        pf_stride = pf->stride;
        pf_per_row = pf->lines_per_row;
        pf_line = pf->first % pf->lines_per_row;
        pf_left = pf->count;
    }
    prefetch_c(c, ldc, rows, 0);
    int64_t p = 0;
    for (int part = 0; part < 2; part++) {
        int64_t end = part == 0 ? kc - C_LATE_STEPS : kc;
        for (; p < end; p++) {
            if (pf_left > 0) {
                _mm_prefetch(pf_row + pf_line * 64, _MM_HINT_T1);
                if (++pf_line == pf_per_row) {
                    pf_line = 0;
                    pf_row += pf_stride;
                }
                pf_left--;
            }
            __m256 b0 = _mm256_load_ps(b + p * NR);
            __m256 b1 = _mm256_load_ps(b + p * NR + 8);
#pragma GCC unroll 6
            for (int i = 0; i < rows; i++) {
                __m256 ai = _mm256_broadcast_ss(a + p * MR + i);
                acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
            }
        }
        if (part == 0) prefetch_c(c, ldc, rows, 1);
    }
    __m256 va = _mm256_set1_ps(alpha);
#pragma GCC unroll 6
    for (int i = 0; i < rows; i++) {
        __m256 r0 = _mm256_mul_ps(acc[i][0], va), r1 = _mm256_mul_ps(acc[i][1], va);
        float *ci = c + i * ldc;
        if (nr == NR) {
            /* Whole rows in vectors, overwritten or added to: with k within one block (k <=
             * 512) every tile is stored this way, and a scalar loop cost 4% of a 512^3. */
            if (accumulate) {
                r0 = _mm256_add_ps(r0, _mm256_loadu_ps(ci));
                r1 = _mm256_add_ps(r1, _mm256_loadu_ps(ci + 8));
            }
            _mm256_storeu_ps(ci, r0);
            _mm256_storeu_ps(ci + 8, r1);
        } else {
            float out[NR];
            _mm256_storeu_ps(out, r0);
            _mm256_storeu_ps(out + 8, r1);
            for (int j = 0; j < nr; j++)
                ci[j] = out[j] + (accumulate ? ci[j] : 0.0f);
        }
    }
}

#define XK_ROWS(r)                                                                                 \
    case r:                                                                                        \
        tile(kc, a, b, c, ldc, r, nr, alpha, accumulate, pf);                                      \
        break

static void run(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                float alpha, int accumulate, const xk_prefetch_t *pf) {
    switch (mr) {
        XK_ROWS(1);
        XK_ROWS(2);
        XK_ROWS(3);
        XK_ROWS(4);
        XK_ROWS(5);
    default:
        tile(kc, a, b, c, ldc, MR, nr, alpha, accumulate, pf);
    }
}

/*
 * Transposes 8 rows of 8 floats in registers: on return r[t] holds element t of every row.
 * 24 shuffles (unpacks, 64-bit shuffles, 128-bit lane permutes) instead of 64 scalar loads
 * and stores.
 */
static inline __attribute__((always_inline)) void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4h + c], 128-bit lane L: column 4L + c of rows 4h .. 4h + 3. */
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        u[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
        u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xee);
        u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
        u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xee);
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

/*
 * See xk_ukernel_t.pack_transposed: groups of 8 vectors, 8 k steps at a time, transposed in
 * registers. A panel of 6 (rows of A) stores each step's 6 floats with an 8-float store that
 * the next step's store overlaps; the last step of each group stores 4 + 2 floats so that
 * nothing past the group is written. Only moves bits: f32 or bf16 pairs.
 */
static void pack_transposed(void *dst_words, const void *src_words, int64_t lead, int64_t kc,
                            int width, int w, int64_t next) {
    float *dst = dst_words;
    const float *src = src_words;
    for (int i0 = 0; i0 < w; i0 += 8) {
        int lanes = w - i0 < 8 ? w - i0 : 8;
        int valid = width - i0 < 0 ? 0 : width - i0 < lanes ? width - i0 : lanes;
        const float *rows = src + i0 * lead;
        float *out = dst + i0;
        int64_t p = 0;
        for (; p + 8 <= kc; p += 8) {
            __m256 r[8];
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) {
                r[i] = i < valid ? _mm256_loadu_ps(rows + i * lead + p) : _mm256_setzero_ps();
                if (next && i < valid)
                    _mm_prefetch((const char *)(rows + i * lead + p + next), _MM_HINT_T1);
            }
            transpose8(r);
            if (lanes == 8) {
#pragma GCC unroll 8
                for (int t = 0; t < 8; t++)
                    _mm256_storeu_ps(out + (p + t) * w, r[t]);
            } else if (lanes == 6) {
#pragma GCC unroll 7
                for (int t = 0; t < 7; t++)
                    _mm256_storeu_ps(out + (p + t) * w, r[t]);
                _mm_storeu_ps(out + (p + 7) * w, _mm256_castps256_ps128(r[7]));
                _mm_storel_pi((__m64 *)(void *)(out + (p + 7) * w + 4),
                              _mm256_extractf128_ps(r[7], 1));
            } else {
                for (int t = 0; t < 8; t++) {
                    float lane[8];
                    _mm256_storeu_ps(lane, r[t]);
                    for (int i = 0; i < lanes; i++)
                        out[(p + t) * w + i] = lane[i];
                }
            }
        }
        /* The tail word by word (memcpy: the words may be bf16 pairs, not floats). */
        for (; p < kc; p++)
            for (int i = 0; i < lanes; i++) {
                float word = 0.0f;
                if (i < valid) __builtin_memcpy(&word, rows + i * lead + p, sizeof word);
                __builtin_memcpy(out + p * w + i, &word, sizeof word);
            }
    }
}

const xk_ukernel_t xk_ukernel_avx2 = {"avx2", MR, NR, run, 0, pack_transposed};
#else
const xk_ukernel_t xk_ukernel_avx2 = {"avx2", 0, 0, 0, 0, 0};
#endif
