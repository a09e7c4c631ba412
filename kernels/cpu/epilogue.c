/* The epilogue's portable build, the choice between ISAs, and storing rows of C. */
#include "epilogue.h"

#include "gemm_kernel.h"
#include "isa.h"

#define XK_EPILOGUE_ROW row_generic
#define XK_EPILOGUE_GATED gated_generic
#include "epilogue_impl.h"

static const xk_epilogue_kernels_t generic = {row_generic, gated_generic};

static const xk_epilogue_kernels_t *kernels(void) {
    xk_isa_t isa = xk_isa();
    if (isa >= XK_ISA_AVX512 && xk_epilogue_avx512.row) return &xk_epilogue_avx512;
    if (isa >= XK_ISA_AVX2 && xk_epilogue_avx2.row) return &xk_epilogue_avx2;
    return &generic;
}

void xk_epilogue_row(const xk_epilogue_t *e, float *row, int64_t col, int64_t cols) {
    if (!e->bias && e->activation == XHAL_ACTIVATION_NONE) return;
    kernels()->row(e, row, col, cols);
}

void xk_epilogue_tile(const xk_epilogue_t *e, float *tile, int64_t ld, int64_t rows, int64_t col,
                      int64_t cols) {
    if (!e->bias && e->activation == XHAL_ACTIVATION_NONE) return;
    const xk_epilogue_kernels_t *k = kernels();
    for (int64_t i = 0; i < rows; i++)
        k->row(e, tile + i * ld, col, cols);
}

void xk_store_row(void *dst, xhal_dtype_t type, const float *src, int64_t cols) {
    if (type == XHAL_DTYPE_F32) {
        memcpy(dst, src, (size_t)cols * sizeof *src);
        return;
    }
    uint16_t *out = dst;
    if (type == XHAL_DTYPE_BF16)
        for (int64_t j = 0; j < cols; j++)
            out[j] = xhal_f32_to_bf16(src[j]);
    else
        for (int64_t j = 0; j < cols; j++)
            out[j] = xhal_f32_to_f16(src[j]);
}

void xk_epilogue_write_c(const xk_gemm_problem_t *p, int64_t row, int64_t j0, const float *values,
                         int64_t cols) {
    enum { CHUNK = 256 };
    float line[CHUNK];
    size_t es = p->c_type == XHAL_DTYPE_F32 ? 4 : 2;
    for (int64_t c0 = 0; c0 < cols; c0 += CHUNK) {
        int64_t n = cols - c0 < CHUNK ? cols - c0 : CHUNK;
        char *c = (char *)p->c + (size_t)(row * p->ldc + j0 + c0) * es;
        memcpy(line, values + c0, (size_t)n * sizeof *line);
        /* beta == 0: C is write-only, so NaN left in it does not propagate. */
        if (p->beta != 0.0f)
            for (int64_t j = 0; j < n; j++) {
                float old = p->c_type == XHAL_DTYPE_F32 ? ((const float *)(void *)c)[j]
                            : p->c_type == XHAL_DTYPE_F16
                                ? xhal_f16_to_f32(((uint16_t *)(void *)c)[j])
                                : xhal_bf16_to_f32(((uint16_t *)(void *)c)[j]);
                line[j] += p->beta * old;
            }
        xk_epilogue_row(p->epi, line, j0 + c0, n);
        xk_store_row(c, p->c_type, line, n);
    }
}

void xk_epilogue_store_gated(const xk_gemm_problem_t *p, int64_t row, int64_t col, float *gate,
                             const float *up, int64_t cols) {
    size_t es = p->c_type == XHAL_DTYPE_F32 ? 4 : 2;
    kernels()->gated(p->epi, gate, up, gate, col, cols);
    xk_store_row((char *)p->c + (size_t)(row * p->ldc + col) * es, p->c_type, gate, cols);
}
