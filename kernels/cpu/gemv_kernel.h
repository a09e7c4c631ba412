/*
 * The GEMV path of the CPU GEMM: for decode-shaped products (a few rows of A against a large B)
 * packing B would read and write every weight once more than the product needs, so this path
 * streams B once, sequentially, converting f16/bf16 on the fly. It allocates nothing: the caller
 * passes op(A) in f32 and the memory for partial results.
 */
#ifndef XHAL_KERNELS_CPU_GEMV_KERNEL_H
#define XHAL_KERNELS_CPU_GEMV_KERNEL_H

#include "gemm_kernel.h"

/* Rows of A up to which the GEMV path is used (m = 1..4: decode, a few speculative tokens). */
#define XK_GEMV_MAX_M 4

/* True when a product of this shape goes to the GEMV path. */
static inline int xk_gemv_suits(int64_t m, int64_t n, int64_t k) {
    (void)n;
    (void)k;
    return m <= XK_GEMV_MAX_M;
}

/*
 * B stored k x n (not transposed): out[i * n + j] = sum over q in [k0, k1) of
 * op(A)[i][q] * B[q][j], for every row i < m and column j < n, overwriting `out` (f32). Threads
 * take disjoint ranges of k, so each streams a contiguous run of B's rows; xk_gemv_store then
 * adds their partial results up.
 */
void xk_gemv_rows(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1, float *out);

/* Writes columns [n0, n1) of C: alpha times the sum of `parts` partial results (each m x n,
 * one after another in `partials`) plus beta times C. */
void xk_gemv_store(const xk_gemm_problem_t *p, const float *partials, int64_t parts, int64_t n0,
                   int64_t n1);

/* C[row][j0 + j] = values[j] + beta * C[row][j0 + j] for j < cols, in C's dtype (alpha is
 * already in `values`; C is not read when beta is 0). */
void xk_gemv_write_c(const xk_gemm_problem_t *p, int64_t row, int64_t j0, const float *values,
                     int64_t cols);

/*
 * B stored n x k (transposed, the weights of a linear layer): columns [n0, n1) of C, each a dot
 * product of rows of A with a contiguous row of B. Threads take disjoint ranges of columns, so
 * each streams a contiguous block of B.
 */
void xk_gemv_columns(const xk_gemm_problem_t *p, const float *a, int64_t n0, int64_t n1);

/* out[i * k + q] = op(A)[i][q] as f32: the form xk_gemv_rows and xk_gemv_columns take A in
 * (`a`), converted once per product rather than once per thread or block. */
void xk_gemv_convert_a(const xk_gemm_problem_t *p, float *out);

#endif
