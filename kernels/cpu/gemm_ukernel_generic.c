/*
 * Portable microkernel: a 4 x 16 tile in plain C. Fixed trip counts let any vectorizing compiler
 * keep the tile in registers (SSE, NEON, SVE); it is the fallback, and the readable statement of
 * what every other microkernel computes.
 */
#include "gemm_ukernel.h"

#define MR 4
#define NR 16

static void run(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                float alpha, int accumulate, const xk_prefetch_t *pf) {
    (void)pf;
    float acc[MR][NR] = {{0}};
    for (int64_t p = 0; p < kc; p++)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++)
                acc[i][j] += a[p * MR + i] * b[p * NR + j];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[i * ldc + j] = alpha * acc[i][j] + (accumulate ? c[i * ldc + j] : 0.0f);
}

const xk_ukernel_t xk_ukernel_generic = {"generic", MR, NR, run, 0, 0};
