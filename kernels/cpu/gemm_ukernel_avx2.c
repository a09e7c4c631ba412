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
        float out[NR];
        _mm256_storeu_ps(out, _mm256_mul_ps(acc[i][0], va));
        _mm256_storeu_ps(out + 8, _mm256_mul_ps(acc[i][1], va));
        float *ci = c + i * ldc;
        if (nr == NR && accumulate) {
            _mm256_storeu_ps(ci, _mm256_add_ps(_mm256_loadu_ps(out), _mm256_loadu_ps(ci)));
            _mm256_storeu_ps(ci + 8,
                             _mm256_add_ps(_mm256_loadu_ps(out + 8), _mm256_loadu_ps(ci + 8)));
        } else {
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

const xk_ukernel_t xk_ukernel_avx2 = {"avx2", MR, NR, run, 0, 0};
#else
const xk_ukernel_t xk_ukernel_avx2 = {"avx2", 0, 0, 0, 0, 0};
#endif
