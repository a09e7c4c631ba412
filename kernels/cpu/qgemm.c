/*
 * Quantized B (qgemm_kernel.h): the portable kernels, the choice between ISAs, preparing A for
 * the GEMV, the GEMV's column loop with its epilogue, and the packing of B for the GEMM driver.
 */
#include <string.h>

#include "epilogue.h"
#include "gemv_kernel.h"
#include "isa.h"
#include "qgemm_kernel.h"

static const xk_qkernels_t *kernels(void) {
    xk_isa_t isa = xk_isa();
    if (isa >= XK_ISA_AVX512 && xk_qkernels_avx512.dot) return &xk_qkernels_avx512;
    if (isa >= XK_ISA_AVX2 && xk_qkernels_avx2.dot) return &xk_qkernels_avx2;
    return &xk_qkernels_generic;
}

static int64_t round_up(int64_t x, int64_t unit) {
    return (x + unit - 1) / unit * unit;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

float xk_qscale(const xk_qweights_t *q, int64_t index) {
    if (q->scale_type == XHAL_DTYPE_F32) return ((const float *)q->scales)[index];
    uint16_t h = ((const uint16_t *)q->scales)[index];
    return q->scale_type == XHAL_DTYPE_F16 ? xhal_f16_to_f32(h) : xhal_bf16_to_f32(h);
}

/* ---- Portable kernels ---- */

/* The integer (or FP8 value) of element e, before the zero point and scale. */
static float code_value(const xk_qweights_t *q, int64_t e) {
    switch (q->format) {
    case XHAL_QUANT_INT8:
        return (float)(int8_t)q->data[e];
    case XHAL_QUANT_INT4:
        return (float)(e % 2 ? q->data[e / 2] >> 4 : q->data[e / 2] & 0x0f);
    default:
        return q->fp8[q->data[e]];
    }
}

/* Element (p, j) of op(B), dequantized: (q - z) s. */
static float element(const xk_qweights_t *q, int64_t p, int64_t j) {
    int64_t index = xk_qscale_index(q, j, p / q->group);
    float z = q->format == XHAL_QUANT_INT4 ? (float)xk_qzero(q, index) : 0.0f;
    return (code_value(q, xk_qelement(q, p, j)) - z) * xk_qscale(q, index);
}

static void dequant_k_generic(float *dst, const xk_qweights_t *q, int64_t j, int64_t p0,
                              int64_t count) {
    for (int64_t t = 0; t < count;) {
        /* One scale (and zero point) per run within a group. */
        int64_t p = p0 + t, g = p / q->group;
        int64_t run = min64(count - t, (g + 1) * q->group - p);
        int64_t index = xk_qscale_index(q, j, g);
        float s = xk_qscale(q, index);
        float z = q->format == XHAL_QUANT_INT4 ? (float)xk_qzero(q, index) : 0.0f;
        for (int64_t u = 0; u < run; u++)
            dst[t + u] = (code_value(q, xk_qelement(q, p + u, j)) - z) * s;
        t += run;
    }
}

/* Prepared rows are in natural order (lanes 1): a plain dot product per row and column. */
static void dot_generic(const xk_qweights_t *q, const float *prep, int64_t prep_ld, int64_t m,
                        int64_t k, int64_t j, int cols, float *out) {
    enum { RUN = 256 };
    float w[RUN] = {0};
    for (int c = 0; c < cols; c++) {
        for (int64_t i = 0; i < m; i++)
            out[c * m + i] = 0.0f;
        for (int64_t p0 = 0; p0 < k; p0 += RUN) {
            int64_t n = min64(RUN, k - p0);
            dequant_k_generic(w, q, j + c, p0, n);
            for (int64_t i = 0; i < m; i++) {
                const float *a = prep + i * prep_ld + p0;
                float sum = 0.0f;
                for (int64_t t = 0; t < n; t++)
                    sum += a[t] * w[t];
                out[c * m + i] += sum;
            }
        }
    }
}

const xk_qkernels_t xk_qkernels_generic = {1, dot_generic, dequant_k_generic};

/* ---- The GEMV ---- */

/* Floats of one prepared row: k padded to 2 lanes, then (INT4) `lanes` sums per group. */
static int64_t prep_row_floats(int64_t k, const xk_qweights_t *q, int lanes) {
    int64_t floats = round_up(k, 2 * lanes);
    if (q->format == XHAL_QUANT_INT4) floats += q->groups * lanes;
    return round_up(floats, 16); /* rows on 64-byte boundaries */
}

size_t xk_qgemv_prep_floats(int64_t m, int64_t k, const xk_qweights_t *q) {
    return (size_t)(m * prep_row_floats(k, q, kernels()->lanes));
}

void xk_qgemv_prepare(const float *a, int64_t m, int64_t k, const xk_qweights_t *q, float *out) {
    const int lanes = kernels()->lanes, block = 2 * lanes;
    const int64_t ld = prep_row_floats(k, q, lanes), kp = round_up(k, block);
    const int split = q->format == XHAL_QUANT_INT4 && lanes > 1;
    for (int64_t i = 0; i < m; i++) {
        const float *row = a + i * k;
        float *dst = out + i * ld;
        for (int64_t p = 0; p < kp; p++) {
            /* Split blocks: even steps in the first `lanes` slots, odd ones in the rest. */
            int64_t b = p / block, t = p % block;
            int64_t at = split ? b * block + (t % 2) * lanes + t / 2 : p;
            dst[at] = p < k ? row[p] : 0.0f;
        }
        if (q->format != XHAL_QUANT_INT4) continue;
        float *sums = dst + kp;
        for (int64_t g = 0; g < q->groups; g++) {
            int64_t end = min64((g + 1) * q->group, kp);
            for (int l = 0; l < lanes; l++)
                sums[g * lanes + l] = 0.0f;
            for (int64_t p = g * q->group; p < end; p += block)
                for (int t = 0; t < block; t++)
                    sums[g * lanes + t % lanes] += dst[p + t];
        }
    }
}

void xk_qgemv_columns(const xk_gemm_problem_t *p, const float *prep, int64_t n0, int64_t n1) {
    enum { CHUNK = 64 };
    const xk_qkernels_t *kern = kernels();
    const xk_qweights_t *q = p->b_quant;
    const int64_t m = p->m, ld = prep_row_floats(p->k, q, kern->lanes);
    const int gated = p->epi && p->epi->gated;
    const int64_t half = p->n / 2;
    float values[2][XK_QGEMV_MAX_M][CHUNK];
    float out[4 * XK_QGEMV_MAX_M];
    for (int64_t j0 = n0; j0 < n1; j0 += CHUNK) {
        int64_t cols = min64(CHUNK, n1 - j0);
        /* The product's columns: j0.., and, gated, the matching ones of the second half. */
        for (int h = 0; h <= gated; h++)
            for (int64_t c = 0; c < cols; c += 4) {
                int width = (int)min64(4, cols - c);
                kern->dot(q, prep, ld, m, p->k, j0 + c + h * half, width, out);
                for (int w = 0; w < width; w++)
                    for (int64_t i = 0; i < m; i++)
                        values[h][i][c + w] = p->alpha * out[w * m + i];
            }
        for (int64_t i = 0; i < m; i++) {
            if (!gated) {
                xk_gemv_write_c(p, i, j0, values[0][i], cols);
                continue;
            }
            xk_epilogue_store_gated(p, i, j0, values[0][i], values[1][i], cols);
        }
    }
}

/* ---- Packing for the GEMM driver ---- */

void xk_qpack_b(float *dst, const xk_qweights_t *q, int64_t p0, int64_t kc, int64_t j0,
                int64_t cols, int nr,
                void (*transpose)(void *dst, const void *src, int64_t lead, int64_t kc, int width,
                                  int w, int64_t next)) {
    enum { STEPS = 128 };
    const xk_qkernels_t *kern = kernels();
    if (q->trans && transpose && nr <= 32) {
        /* Columns along k: 128 steps of each dequantized into a block, then transposed in
         * registers, as a transposed 16-bit B is packed. */
        float block[32 * STEPS];
        for (int64_t p = 0; p < kc; p += STEPS) {
            int64_t n = min64(STEPS, kc - p);
            for (int64_t j = 0; j < cols; j++)
                kern->dequant_k(block + j * STEPS, q, j0 + j, p0 + p, n);
            transpose(dst + p * nr, block, STEPS, n, (int)cols, nr, 0);
        }
        return;
    }
    if (cols < nr) memset(dst, 0, (size_t)(kc * nr) * sizeof *dst);
    if (q->trans) {
        float line[STEPS];
        for (int64_t j = 0; j < cols; j++)
            for (int64_t p = 0; p < kc; p += STEPS) {
                int64_t n = min64(STEPS, kc - p);
                kern->dequant_k(line, q, j0 + j, p0 + p, n);
                for (int64_t t = 0; t < n; t++)
                    dst[(p + t) * nr + j] = line[t];
            }
        return;
    }
    /* B stored k x n: a k step's columns are side by side. */
    for (int64_t p = 0; p < kc; p++)
        for (int64_t j = 0; j < cols; j++)
            dst[p * nr + j] = element(q, p0 + p, j0 + j);
}
