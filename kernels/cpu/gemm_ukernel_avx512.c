/*
 * AVX-512 microkernel: a 14 x 32 tile of C in 28 zmm accumulators (of 32 registers), two zmm of
 * B per k step and one broadcast of A per row. 28 FMAs per k step against 2 loads + 14
 * broadcasts keep both FMA pipes of a Zen 4/5 or Skylake-X core busy; 28 independent chains
 * cover the FMA latency (4 cycles x 2 pipes = 8 needed).
 */
#include "gemm_ukernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX512)
#include <immintrin.h>

#define MR 14
#define NR 32

/* Specialised by the compiler for each constant `rows` (the switch below), so that partial
 * tiles at the bottom edge keep the same register allocation without padding work. */
static inline __attribute__((always_inline)) void tile(int64_t kc, const float *a, const float *b,
                                                       float *c, int64_t ldc, int rows, int nr,
                                                       float alpha, int accumulate) {
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(b + p * NR);
        __m512 b1 = _mm512_load_ps(b + p * NR + 16);
        const float *ap = a + p * MR;
#pragma GCC unroll 14
        for (int i = 0; i < rows; i++) {
            __m512 ai = _mm512_set1_ps(ap[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha);
    __mmask16 m0 = nr >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? (__mmask16)0xffff : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++) {
        float *ci = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(acc[i][0], va), r1 = _mm512_mul_ps(acc[i][1], va);
        if (accumulate) {
            r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, ci));
            r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, ci + 16));
        }
        _mm512_mask_storeu_ps(ci, m0, r0);
        _mm512_mask_storeu_ps(ci + 16, m1, r1);
    }
}

#define XK_ROWS(r)                                                                                 \
    case r:                                                                                        \
        tile(kc, a, b, c, ldc, r, nr, alpha, accumulate);                                          \
        break

static void run(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                float alpha, int accumulate) {
    switch (mr) {
        XK_ROWS(1);
        XK_ROWS(2);
        XK_ROWS(3);
        XK_ROWS(4);
        XK_ROWS(5);
        XK_ROWS(6);
        XK_ROWS(7);
        XK_ROWS(8);
        XK_ROWS(9);
        XK_ROWS(10);
        XK_ROWS(11);
        XK_ROWS(12);
        XK_ROWS(13);
    default:
        tile(kc, a, b, c, ldc, MR, nr, alpha, accumulate);
    }
}

const xk_ukernel_t xk_ukernel_avx512 = {"avx512", MR, NR, run};
#else
const xk_ukernel_t xk_ukernel_avx512 = {"avx512", 0, 0, 0};
#endif
