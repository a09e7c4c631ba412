/*
 * The GEMV loops, included by gemv_avx512.c and gemv_generic.c so the same C is compiled for
 * each ISA. XK_GEMV_ROWS and XK_GEMV_COLUMNS name the entries; the including file provides the
 * two inner loops, where conversion of B and the FMAs happen:
 *   update4(o, a, b, type, rows, cols): o[j] += sum over r < 4 of a[r] * B(rows[r] + j)
 *   dots(out, a, k, m, b, type, offset): out[i] = sum over q < k of a[i * k + q] * B(offset + q)
 * with B(x) the element x of B converted to f32.
 */
#include <string.h>

#include "gemv_kernel.h"

/* Columns of a partial result updated per pass over B's rows: at most 512 KB, in L2. */
#define PASS_FLOATS (128 * 1024)

/*
 * B stored k x n. Rows of B are consumed four at a time and whole (within a pass of columns),
 * one after another, so B is read strictly in order: all a memory-bound product can ask for.
 */
void XK_GEMV_ROWS(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1, float *out) {
    const int64_t n = p->n, k = p->k, pass = PASS_FLOATS / p->m;
    memset(out, 0, (size_t)(p->m * n) * sizeof *out);
    for (int64_t c0 = 0; c0 < n; c0 += pass) {
        int64_t cols = n - c0 < pass ? n - c0 : pass;
        for (int64_t q = k0; q < k1; q += 4) {
            int64_t rows[4];
            float coef[4];
            for (int r = 0; r < 4; r++) {
                /* Past the end: repeat the last row with a zero coefficient. */
                int64_t row = q + r < k1 ? q + r : k1 - 1;
                rows[r] = row * p->b.row_stride + c0;
            }
            for (int64_t i = 0; i < p->m; i++) {
                for (int r = 0; r < 4; r++)
                    coef[r] = q + r < k1 ? a[i * k + q + r] : 0.0f;
                update4(out + i * n + c0, coef, p->b.data, p->b.type, rows, cols);
            }
        }
    }
}

/* B stored n x k (transposed): each column of op(B) is a contiguous row; dot it with A. */
void XK_GEMV_COLUMNS(const xk_gemm_problem_t *p, const float *a, int64_t n0, int64_t n1) {
    enum { CHUNK = 64 };
    float sums[CHUNK][XK_GEMV_MAX_M];
    float row[CHUNK];
    for (int64_t j0 = n0; j0 < n1; j0 += CHUNK) {
        int64_t cols = n1 - j0 < CHUNK ? n1 - j0 : CHUNK;
        for (int64_t j = 0; j < cols; j++)
            dots(sums[j], a, p->k, p->m, p->b.data, p->b.type, (j0 + j) * p->b.col_stride);
        for (int64_t i = 0; i < p->m; i++) {
            for (int64_t j = 0; j < cols; j++)
                row[j] = p->alpha * sums[j][i];
            xk_gemv_write_c(p, i, j0, row, cols);
        }
    }
}
