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
} xk_gemm_problem_t;

/* Which microkernel runs here: "avx512", "avx2", "generic". */
const char *xk_gemm_isa(void);

/* Floats of scratch (per thread) a call of xk_gemm_block needs for a block of at most
 * rows x cols of C of type c_type. */
size_t xk_gemm_scratch_floats(int64_t rows, int64_t cols, xhal_dtype_t c_type);

/* The microkernel's tile, so callers split C on its boundaries. */
void xk_gemm_tile(int *out_mr, int *out_nr);

/*
 * Computes rows [m0, m1) and columns [n0, n1) of C for `p` on the calling thread, using
 * `scratch` (xk_gemm_scratch_floats(m1 - m0, n1 - n0, c_type) floats, 64-byte aligned). Blocks of
 * one problem may run concurrently on different threads when they do not overlap.
 */
void xk_gemm_block(const xk_gemm_problem_t *p, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                   float *scratch);

#endif
