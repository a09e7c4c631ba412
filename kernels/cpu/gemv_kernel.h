/*
 * The GEMV and skinny-GEMM paths of the CPU GEMM: for decode-shaped products (a few rows of A,
 * up to XK_GEMV_MAX_M, against a large B) packing B would read and write every weight once more
 * than the product needs, so these paths read B in place, once, converting f16/bf16 in
 * registers. They allocate nothing: the caller passes op(A) in f32 and the memory for partial
 * results. Which products go here rather than to the packed engine is the dispatcher's choice
 * (backends/cpu/cpu_gemm.c), made from measurements.
 *
 * Two forms, after where B's contiguous runs lie:
 *   rows     B stored k x n: B is read row after row, each row updating a pass of m x columns
 *            of partial results (in L2); threads take ranges of k and the partial results are
 *            added up (xk_gemv_store).
 *   columns  B stored n x k (transposed: a linear layer's weights): C is a grid of dot products;
 *            a register tile of rows of A x columns of B runs along k, so each column of B is
 *            read once from memory and used for every row of A from the L1 cache. Threads take
 *            ranges of columns, and of k as well when there are few columns.
 * Each form writes C a chunk of columns at a time through xk_gemv_write_c, the one place where
 * a finished output chunk is in hand.
 */
#ifndef XHAL_KERNELS_CPU_GEMV_KERNEL_H
#define XHAL_KERNELS_CPU_GEMV_KERNEL_H

#include "gemm_kernel.h"

/* Rows of A up to which these paths can run (decode, speculative tokens, small batches). */
#define XK_GEMV_MAX_M 64

/*
 * B stored k x n (not transposed): out[i * n + j] = sum over q in [k0, k1) of
 * op(A)[i][q] * B[q][j], for every row i < m and column j < n, overwriting `out` (f32).
 * `a` is op(A) in f32, m x k, row-major.
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
 * B stored n x k (transposed): the dot products of rows of A with columns [n0, n1) of op(B) over
 * k in [k0, k1). With `partial` NULL they are the whole of k and go to C (alpha, beta applied);
 * else they are written raw to partial[i * n + j], for xk_gemv_store to add up.
 */
void xk_gemv_columns(const xk_gemm_problem_t *p, const void *a, int64_t n0, int64_t n1, int64_t k0,
                     int64_t k1, float *partial);

/*
 * True when the columns form runs `p` on bf16 dot-product instructions (AVX512_BF16, A and B
 * both bf16): each instruction does two multiply-adds per lane, and A is taken in bf16.
 */
int xk_gemv_bf16_dot(const xk_gemm_problem_t *p);

/* out[i * k + q] = op(A)[i][q]: the form xk_gemv_rows (`columns` 0) or xk_gemv_columns (1)
 * takes A in (`a`), m x k f32, or bf16 for the columns form when xk_gemv_bf16_dot(p); converted
 * once per product rather than once per thread or block. `out` has room for m x k floats. */
void xk_gemv_convert_a(const xk_gemm_problem_t *p, int columns, void *out);

/* Columns of B per output chunk of the columns form (a whole number of its register tiles, about
 * 64): threads split n on these boundaries. */
int xk_gemv_column_unit(void);

#endif
