/*
 * The GEMV loops, included by gemv_avx512.c, gemv_avx2.c and gemv_generic.c so the same C is
 * compiled for each ISA. XK_GEMV_ROWS and XK_GEMV_COLUMNS name the entries; the including file
 * provides the inner loops, where conversion of B and the FMAs happen:
 *   update(o, ldo, nr, a, b, type, rows, cols): o[r * ldo + j] += sum over t < 4 of
 *       a[r][t] * B(rows[t] + j), for r < nr <= XK_UPDATE_ROWS
 *   dot_tile(rm, rn, kc, a, lda, cols, type, out, ldo, accumulate, pf): for i < rm, j < rn,
 *       out[i * ldo + j] (+)= sum over q < kc of a[i * lda + q] * cols[j][q], prefetching the
 *       lines pf names on the way (gemv_walk_t), XK_DOT_LANES k steps per iteration
 * with B(x) the element x of B converted to f32 and cols[j] a column of op(B) (contiguous along
 * k, of `type`); XK_DOT_RM x XK_DOT_RN is the largest tile dot_tile takes. Where XK_DOT_BF16
 * is defined, dot_tile_bf16 is the same with A and B in bf16, for xk_gemv_bf16_dot problems.
 */
#include <string.h>

#include "gemv_kernel.h"

/* Columns of a partial result updated per pass over B's rows: at most 512 KB, in L2. */
#define PASS_FLOATS (128 * 1024)

/* Columns of C per output chunk of the columns form (the chunk handed to xk_gemv_write_c): about
 * 64, a whole number of column tiles so that no tile runs short of columns. */
#define COLUMN_CHUNK (64 / XK_DOT_RN * XK_DOT_RN)

/* Bytes of A (f32) the columns form keeps in L2 while B's columns stream past it: k is taken
 * in chunks so that m rows of a chunk fit. */
#define A_CHUNK_BYTES (192 * 1024)

/* Columns per pass when several rows of A reuse each group of 4 rows of B: 4 x 1024 f32 weights
 * (16 KB) stay in L1 while every row of A goes over them. */
#define L1_PASS 1024

/*
 * B stored k x n. Rows of B are consumed four at a time and whole within a pass of columns, one
 * after another, each vector of them used for XK_UPDATE_ROWS rows of A at once. With up to 4
 * rows of A a pass is as wide as the partial results allow (B read strictly in order: all a
 * memory-bound product can ask for); with more, the 4 rows of B are reused from L1 by each group
 * of rows of A, so a pass is L1_PASS columns.
 */
void XK_GEMV_ROWS(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1, float *out) {
    const int64_t n = p->n, k = p->k;
    int64_t pass = PASS_FLOATS / p->m;
    if (p->m > 4 && pass > L1_PASS) pass = L1_PASS;
    memset(out, 0, (size_t)(p->m * n) * sizeof *out);
    for (int64_t c0 = 0; c0 < n; c0 += pass) {
        int64_t cols = n - c0 < pass ? n - c0 : pass;
        for (int64_t q = k0; q < k1; q += 4) {
            int64_t rows[4];
            float coef[XK_UPDATE_ROWS][4];
            for (int t = 0; t < 4; t++) {
                /* Past the end: repeat the last row with a zero coefficient. */
                int64_t row = q + t < k1 ? q + t : k1 - 1;
                rows[t] = row * p->b.row_stride + c0;
            }
            for (int64_t i = 0; i < p->m; i += XK_UPDATE_ROWS) {
                int nr = p->m - i < XK_UPDATE_ROWS ? (int)(p->m - i) : XK_UPDATE_ROWS;
                for (int r = 0; r < nr; r++)
                    for (int t = 0; t < 4; t++)
                        coef[r][t] = q + t < k1 ? a[(i + r) * k + q + t] : 0.0f;
                update(out + i * n + c0, n, nr, (const float(*)[4])coef, p->b.data, p->b.type, rows,
                       cols);
            }
        }
    }
}

/* The start of the column tile after (j0, q0, jt) in XK_GEMV_COLUMNS's order, or ncols 0. */
static void next_tile(const xk_gemm_problem_t *p, int64_t n1, int64_t k0, int64_t k1, int64_t kc,
                      int64_t j0, int64_t q0, int64_t jt, int64_t es, gemv_prefetch_t *pf) {
    int64_t cols = n1 - j0 < COLUMN_CHUNK ? n1 - j0 : COLUMN_CHUNK;
    jt += XK_DOT_RN;
    if (jt >= cols) {
        jt = 0;
        q0 += kc;
        if (q0 >= k1) {
            q0 = k0;
            j0 += COLUMN_CHUNK;
        }
    }
    pf->ncols = 0;
    pf->count = 0;
    if (j0 >= n1) return;
    cols = n1 - j0 < COLUMN_CHUNK ? n1 - j0 : COLUMN_CHUNK;
    int64_t steps = k1 - q0 < kc ? k1 - q0 : kc;
    pf->ncols = cols - jt < XK_DOT_RN ? (int)(cols - jt) : XK_DOT_RN;
    for (int j = 0; j < pf->ncols; j++)
        pf->col[j] = (const char *)p->b.data + ((j0 + jt + j) * p->b.col_stride + q0) * es;
    pf->count = pf->ncols * ((steps * es + 63) / 64);
}

/*
 * B stored n x k (transposed). For each chunk of columns and of k, tiles of XK_DOT_RN columns
 * walk every row tile of A: the first row tile reads the columns from memory, the others from
 * L1, and all of them prefetch the next column tile (gemv_prefetch_t); A's chunk stays in L2
 * across column tiles. Row tiles are balanced (16 rows with a tile of 6 are 6,5,5, not 6,6,4)
 * so that no tile runs with too few rows to hide its loads.
 */
void XK_GEMV_COLUMNS(const xk_gemm_problem_t *p, const void *a, int64_t n0, int64_t n1, int64_t k0,
                     int64_t k1, float *partial) {
    const int64_t m = p->m, k = p->k;
    const int64_t es = p->b.type == XHAL_DTYPE_F32 ? 4 : 2;
    const int64_t tiles = (m + XK_DOT_RM - 1) / XK_DOT_RM;
#ifdef XK_DOT_BF16
    const int pairs = xk_gemv_bf16_dot(p);
#else
    const int pairs = 0;
#endif
    const int64_t a_size = pairs ? 2 : 4, lanes = pairs ? 32 : XK_DOT_LANES;
    int64_t kc = m <= XK_DOT_RM ? k1 - k0 : A_CHUNK_BYTES / a_size / m / 64 * 64;
    if (kc < 256) kc = 256;
    float sums[XK_GEMV_MAX_M * COLUMN_CHUNK];
    float row[COLUMN_CHUNK];
    for (int64_t j0 = n0; j0 < n1; j0 += COLUMN_CHUNK) {
        int64_t cols = n1 - j0 < COLUMN_CHUNK ? n1 - j0 : COLUMN_CHUNK;
        /* The first k chunk overwrites the sums; zeros are only for the analyzer's sake (it
         * cannot see that k1 > k0 always). */
        memset(sums, 0, (size_t)(m * COLUMN_CHUNK) * sizeof *sums);
        for (int64_t q0 = k0; q0 < k1; q0 += kc) {
            int64_t steps = k1 - q0 < kc ? k1 - q0 : kc;
            for (int64_t jt = 0; jt < cols; jt += XK_DOT_RN) {
                int rn = cols - jt < XK_DOT_RN ? (int)(cols - jt) : XK_DOT_RN;
                const void *col[XK_DOT_RN];
                for (int j = 0; j < rn; j++)
                    col[j] = (const char *)p->b.data + ((j0 + jt + j) * p->b.col_stride + q0) * es;
                gemv_prefetch_t pf = {0};
                next_tile(p, n1, k0, k1, kc, j0, q0, jt, es, &pf);
                /* The next tile's lines, shared out over the row tiles' k steps. */
                int64_t iterations = tiles * ((steps + lanes - 1) / lanes), lines = pf.count;
                int64_t share = (lines + tiles - 1) / tiles;
                pf.per_step = (int)((lines + iterations - 1) / (iterations > 0 ? iterations : 1));
                for (int64_t t = 0, i0 = 0; t < tiles; t++) {
                    int rm = (int)(m / tiles + (t < m % tiles));
                    float *out = sums + i0 * COLUMN_CHUNK + jt;
                    pf.first = t * share;
                    pf.count = lines - pf.first < share ? lines - pf.first : share;
                    if (pf.count < 0) pf.count = 0;
#ifdef XK_DOT_BF16
                    if (pairs)
                        dot_tile_bf16(rm, rn, steps, (const uint16_t *)a + i0 * k + q0, k, col, out,
                                      COLUMN_CHUNK, q0 > k0, &pf);
                    else
#endif
                        dot_tile(rm, rn, steps, (const float *)a + i0 * k + q0, k, col, p->b.type,
                                 out, COLUMN_CHUNK, q0 > k0, &pf);
                    i0 += rm;
                }
            }
        }
        for (int64_t i = 0; i < m; i++) {
            const float *s = sums + i * COLUMN_CHUNK;
            if (partial) {
                memcpy(partial + i * p->n + j0, s, (size_t)cols * sizeof *s);
                continue;
            }
            for (int64_t j = 0; j < cols; j++)
                row[j] = p->alpha * s[j];
            xk_gemv_write_c(p, i, j0, row, cols);
        }
    }
}
