/*
 * Weight-only quantized B in the CPU GEMM (formats and layouts: xhal_quant_t in xhal.h).
 *
 * Two paths, as for dense B. Decode (a few rows of A, B stored n x k as a linear layer's
 * weights): the quantized GEMV streams the weights once and dequantizes them in registers,
 * several columns at a time; INT4 groups are summed unscaled and scaled once per group, the zero
 * point folded in through the sums of A over the group (s (sum q a - z sum a)). Everything else
 * (prefill, B stored k x n): the GEMM driver, whose packing dequantizes B into the f32 panels the
 * microkernels read, so the quantized bytes are read once per k block and the arithmetic is the
 * dense kernels'.
 */
#ifndef XHAL_KERNELS_CPU_QGEMM_KERNEL_H
#define XHAL_KERNELS_CPU_QGEMM_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "gemm_kernel.h"

typedef struct xk_qweights {
    xhal_quant_t format;
    const uint8_t *data; /* element 0 (the b buffer at b_offset) */
    int64_t ld;          /* ldb, in elements */
    int trans;           /* 1: B stored n x k, a column of op(B) contiguous along k */
    xhal_scale_mode_t mode;
    int64_t group;  /* k steps one scale covers: b_group_size, or k */
    int64_t groups; /* scales per column: ceil(k / group) */
    const void *scales;
    xhal_dtype_t scale_type;
    const uint8_t *zeros; /* INT4 zero points; NULL: 8 */
    const float *fp8;     /* FP8: the 256 codes' values (a table the caller fills) */
} xk_qweights_t;

/* Index of the scale (and zero point) of column j, group g. */
static inline int64_t xk_qscale_index(const xk_qweights_t *q, int64_t j, int64_t g) {
    return q->mode == XHAL_SCALE_PER_TENSOR ? 0 : j * q->groups + g;
}

/* Scale number `index` as f32. */
float xk_qscale(const xk_qweights_t *q, int64_t index);

/* The zero point of scale `index` (INT4; 8 without b_zeros). */
static inline int xk_qzero(const xk_qweights_t *q, int64_t index) {
    return q->zeros ? q->zeros[index] : 8;
}

/* Byte offset in q->data of element (k step p, column j) of op(B), and whether it is the high
 * nibble (INT4). */
static inline int64_t xk_qelement(const xk_qweights_t *q, int64_t p, int64_t j) {
    return q->trans ? j * q->ld + p : p * q->ld + j;
}

/* dst[t] = op(B)[p0 + t][j] dequantized, t < count: a run along k of one column. */
void xk_qdequant_k(float *dst, const xk_qweights_t *q, int64_t j, int64_t p0, int64_t count);

/*
 * The packing of quantized B (see pack_b in gemm_driver.c): k steps [p0, p0 + kc) of columns
 * [j0, j0 + cols) dequantized into a panel dst[p * nr + j], zero past `cols`. `transpose` is
 * the microkernel's transposing pack (gemm_ukernel.h), or NULL.
 */
void xk_qpack_b(float *dst, const xk_qweights_t *q, int64_t p0, int64_t kc, int64_t j0,
                int64_t cols, int nr,
                void (*transpose)(void *dst, const void *src, int64_t lead, int64_t kc, int width,
                                  int w, int64_t next));

/* ---- The quantized GEMV ---- */

/* Rows of A up to which a quantized product with B stored n x k takes the GEMV path. */
#define XK_QGEMV_MAX_M 4

/* Floats of the prepared A (xk_qgemv_prepare) for m rows of k. */
size_t xk_qgemv_prep_floats(int64_t m, int64_t k, const xk_qweights_t *q);

/* op(A) (m x k, f32, dense) rearranged for the ISA's kernel, with the sums INT4 groups need. */
void xk_qgemv_prepare(const float *a, int64_t m, int64_t k, const xk_qweights_t *q, float *out);

/*
 * Columns [n0, n1) of C (output columns: of n / 2 when gated): C = epilogue(alpha op(A) op(B) +
 * beta C) with `prep` from xk_qgemv_prepare. p->b_quant is the weights.
 */
void xk_qgemv_columns(const xk_gemm_problem_t *p, const float *prep, int64_t n0, int64_t n1);

/*
 * One ISA's quantized kernels. `lanes` sets the prepared A's layout (xk_qgemv_prepare): rows of
 * A padded with zeros to a multiple of 2 lanes; for INT4 each block of 2 lanes k steps stored
 * as its even steps then its odd ones (the order nibbles unpack in), and after the row, per
 * group, `lanes` partial sums of A over the group's k steps (lane l: steps 2l, 2l + 1 of each
 * block).
 */
typedef struct xk_qkernels {
    int lanes;
    /* out[c * m + i] = sum over p < k of prep row i [p] * op(B)[p][j + c] dequantized, for
     * c < cols (1..4) and i < m; prep rows are prep_ld floats apart. */
    void (*dot)(const xk_qweights_t *q, const float *prep, int64_t prep_ld, int64_t m, int64_t k,
                int64_t j, int cols, float *out);
    void (*dequant_k)(float *dst, const xk_qweights_t *q, int64_t j, int64_t p0, int64_t count);
} xk_qkernels_t;

extern const xk_qkernels_t xk_qkernels_avx512; /* members 0 when not compiled */
extern const xk_qkernels_t xk_qkernels_avx2;
extern const xk_qkernels_t xk_qkernels_generic;

#endif
