/*
 * The GEMM epilogue of the CPU kernels: bias, activation and the gated form (xhal.h), applied to
 * results while they are in cache: to each C tile after its last k block (the GEMM driver), to
 * each chunk of outputs (the GEMV paths). The activations are vectorized with the ISA's
 * registers: an exp with a Taylor polynomial on a reduced argument, and the normal CDF of GELU
 * as exp(-u^2 / 2) times a polynomial in 1 / (1 + u / 4) fitted for this file (relative error
 * of the fit 4e-8 on [0, inf); in f32 about 1e-7 where it matters, 2e-6 below 1e-15).
 */
#ifndef XHAL_KERNELS_CPU_EPILOGUE_H
#define XHAL_KERNELS_CPU_EPILOGUE_H

#include <stdint.h>

#include "xhal/xhal.h"

typedef struct xk_epilogue {
    const float *bias; /* one f32 per column of the product (n of them); NULL: none */
    xhal_activation_t activation;
    int gated;
    int64_t half; /* gated: n / 2, the first column of the second half */
} xk_epilogue_t;

/* row[j] = act(row[j] + bias[col + j]) for j < cols (not gated). */
void xk_epilogue_row(const xk_epilogue_t *e, float *row, int64_t col, int64_t cols);

/* xk_epilogue_row over `rows` rows of a tile (row stride ld). */
void xk_epilogue_tile(const xk_epilogue_t *e, float *tile, int64_t ld, int64_t rows, int64_t col,
                      int64_t cols);

/* dst[j] = src[j] converted to `type` (round to nearest even), j < cols. */
void xk_store_row(void *dst, xhal_dtype_t type, const float *src, int64_t cols);

struct xk_gemm_problem;

/*
 * C[row][j0 + j] = epilogue(values[j] + beta C[row][j0 + j]) in C's dtype, j < cols (alpha is
 * in `values`; not gated): the GEMV paths' writer of C when p->epi is set.
 */
void xk_epilogue_write_c(const struct xk_gemm_problem *p, int64_t row, int64_t j0,
                         const float *values, int64_t cols);

/*
 * Gated: C[row][col + j] = act(gate[j] + bias[col + j]) * (up[j] + bias[half + col + j]) in
 * C's dtype, j < cols: output columns col.. from the product's columns col.. and half + col..;
 * `gate` is overwritten with the f32 result on the way.
 */
void xk_epilogue_store_gated(const struct xk_gemm_problem *p, int64_t row, int64_t col, float *gate,
                             const float *up, int64_t cols);

/* One ISA's loops (epilogue_impl.h compiled for it). */
typedef struct xk_epilogue_kernels {
    void (*row)(const xk_epilogue_t *e, float *row, int64_t col, int64_t cols);
    void (*gated)(const xk_epilogue_t *e, const float *gate, const float *up, float *out,
                  int64_t col, int64_t cols);
} xk_epilogue_kernels_t;

extern const xk_epilogue_kernels_t xk_epilogue_avx512; /* members NULL when not compiled */
extern const xk_epilogue_kernels_t xk_epilogue_avx2;

#endif
