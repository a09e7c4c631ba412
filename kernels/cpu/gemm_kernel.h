/*
 * The CPU GEMM engine: packed, cache-blocked, with a register-blocked microkernel per ISA
 * (AVX-512, AVX2+FMA, portable C) chosen at run time from CPUID.
 *
 * Loop structure (BLIS-style, row-major):
 *   for each column block of C (NB columns)       -> packed B block (KB x NB) lives in L2
 *     for each row block of C (MB rows)           -> packed A block (MB x KB) lives in L2
 *       for each k block (KB)                     -> C block accumulates in f32
 *         for each NR-column micro-panel of B     -> B micro-panel (KB x NR) stays in L1
 *           for each MR-row micro-panel of A      -> the microkernel: MR x NR accumulators
 * Packing is where transposes, strides and f16/bf16 inputs are dealt with: once per element per
 * block, never in the microkernel. C of any dtype accumulates in an f32 tile when it is not f32.
 */
#ifndef XHAL_KERNELS_CPU_GEMM_KERNEL_H
#define XHAL_KERNELS_CPU_GEMM_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal.h"

struct xk_qweights; /* qgemm_kernel.h */
struct xk_epilogue; /* epilogue.h */

/* A strided matrix: element (i, j) is at data + (i * row_stride + j * col_stride) elements. */
typedef struct xk_matrix {
    const void *data;
    xhal_dtype_t type;
    int64_t row_stride, col_stride;
} xk_matrix_t;

typedef struct xk_gemm_problem {
    int64_t m, n, k;
    float alpha, beta;
    xk_matrix_t a; /* m x k */
    xk_matrix_t b; /* k x n */
    void *c;       /* m x n, row-major with leading dimension ldc */
    xhal_dtype_t c_type;
    int64_t ldc;
    /*
     * Bias, activation, gated form (NULL: none). Gated, n counts the product's columns while C
     * has n / 2, and the blocks' columns [n0, n1) of xk_gemm_block are virtual: see
     * xk_gemm_columns.
     */
    const struct xk_epilogue *epi;
    /* Weight-only quantized B (NULL: dense): then b is not read, except b.type (F32, the type
     * of the panels B is dequantized into). */
    const struct xk_qweights *b_quant;
} xk_gemm_problem_t;

/* Which microkernel runs here: "avx512", "avx2", "generic". */
const char *xk_gemm_isa(void);

/* Floats of scratch (per thread) a call of xk_gemm_block needs for a block of at most
 * rows x cols of `p`'s C. */
size_t xk_gemm_scratch_floats(const xk_gemm_problem_t *p, int64_t rows, int64_t cols);

/* The microkernel's tile, so callers split C on its boundaries. */
void xk_gemm_tile(int *out_mr, int *out_nr);

/*
 * The column space xk_gemm_block's [n0, n1) are taken from, and the unit blocks must be cut in:
 * n and the microkernel's width, or, for a gated product, pairs of micro-panels (one of the
 * first half of the product's columns, then the matching one of the second half, each as wide
 * as the microkernel: 2 NR ceil(n / 2 / NR) columns, cut in units of 2 NR), so that both
 * halves of an output tile are computed one after the other and combined in cache.
 */
int64_t xk_gemm_columns(const xk_gemm_problem_t *p, int64_t *out_unit);

/*
 * Computes rows [m0, m1) and columns [n0, n1) of C for `p` on the calling thread, using
 * `scratch` (xk_gemm_scratch_floats(p, m1 - m0, n1 - n0) floats, 64-byte aligned). Blocks of
 * one problem may run concurrently on different threads when they do not overlap.
 */
void xk_gemm_block(const xk_gemm_problem_t *p, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                   float *scratch);

#endif
