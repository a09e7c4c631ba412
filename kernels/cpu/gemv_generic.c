/* The GEMV loops in portable C, the choice between ISAs, and converting A and writing C. */
#include <string.h>

#include "epilogue.h"
#include "gemv_kernel.h"
#include "isa.h"

/* Element `index` of a matrix of `type`, as f32. */
static float value_f32(const void *data, xhal_dtype_t type, int64_t index) {
    if (type == XHAL_DTYPE_F32) return ((const float *)data)[index];
    uint16_t h = ((const uint16_t *)data)[index];
    return type == XHAL_DTYPE_BF16 ? xhal_bf16_to_f32(h) : xhal_f16_to_f32(h);
}

/* B is converted in short runs so the FMA loops below are plain f32 loops a compiler
 * vectorizes for whatever SIMD the target has. */
enum { RUN = 256, LANES = 16 };

static void update4(float *o, const float a[4], const void *b, xhal_dtype_t type,
                    const int64_t rows[4], int64_t cols) {
    float line[4][RUN];
    for (int64_t j0 = 0; j0 < cols; j0 += RUN) {
        int64_t n = cols - j0 < RUN ? cols - j0 : RUN;
        for (int r = 0; r < 4; r++)
            for (int64_t j = 0; j < n; j++)
                line[r][j] = value_f32(b, type, rows[r] + j0 + j);
        float *restrict out = o + j0;
        for (int64_t j = 0; j < n; j++)
            out[j] += a[0] * line[0][j] + a[1] * line[1][j] + a[2] * line[2][j] + a[3] * line[3][j];
    }
}

static void dots(float *out, const float *a, int64_t k, int64_t m, const void *b, xhal_dtype_t type,
                 int64_t offset) {
    float line[RUN];
    float sums[XK_GEMV_MAX_M][LANES] = {{0}};
    for (int64_t q0 = 0; q0 < k; q0 += RUN) {
        int64_t n = k - q0 < RUN ? k - q0 : RUN;
        int64_t whole = n / LANES * LANES;
        for (int64_t q = 0; q < n; q++)
            line[q] = value_f32(b, type, offset + q0 + q);
        for (int64_t i = 0; i < m; i++) {
            const float *ai = a + i * k + q0;
            for (int64_t q = 0; q < whole; q += LANES)
                for (int u = 0; u < LANES; u++)
                    sums[i][u] += ai[q + u] * line[q + u];
            for (int64_t q = whole; q < n; q++)
                sums[i][0] += ai[q] * line[q];
        }
    }
    for (int64_t i = 0; i < m; i++) {
        out[i] = 0.0f;
        for (int u = 0; u < LANES; u++)
            out[i] += sums[i][u];
    }
}

#define XK_GEMV_ROWS rows_generic
#define XK_GEMV_COLUMNS columns_generic
static void XK_GEMV_ROWS(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1,
                         float *out);
static void XK_GEMV_COLUMNS(const xk_gemm_problem_t *p, const float *a, int64_t n0, int64_t n1);
#include "gemv_impl.h"

#if defined(__x86_64__)
/* Defined by gemv_avx512.c when the compiler can build it; NULL otherwise. */
void xk_gemv_rows_avx512(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1,
                         float *out) __attribute__((weak));
void xk_gemv_columns_avx512(const xk_gemm_problem_t *p, const float *a, int64_t n0, int64_t n1)
    __attribute__((weak));

static int use_avx512(void) {
    return xk_gemv_rows_avx512 && xk_gemv_columns_avx512 && xk_isa() == XK_ISA_AVX512;
}
#endif

void xk_gemv_rows(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1, float *out) {
#if defined(__x86_64__)
    if (use_avx512()) {
        xk_gemv_rows_avx512(p, a, k0, k1, out);
        return;
    }
#endif
    rows_generic(p, a, k0, k1, out);
}

void xk_gemv_columns(const xk_gemm_problem_t *p, const float *a, int64_t n0, int64_t n1) {
#if defined(__x86_64__)
    if (use_avx512()) {
        xk_gemv_columns_avx512(p, a, n0, n1);
        return;
    }
#endif
    columns_generic(p, a, n0, n1);
}

void xk_gemv_convert_a(const xk_gemm_problem_t *p, float *out) {
    for (int64_t i = 0; i < p->m; i++)
        for (int64_t q = 0; q < p->k; q++)
            out[i * p->k + q] =
                value_f32(p->a.data, p->a.type, i * p->a.row_stride + q * p->a.col_stride);
}

void xk_gemv_write_c(const xk_gemm_problem_t *p, int64_t row, int64_t j0, const float *values,
                     int64_t cols) {
    if (p->epi) { /* bias and activation (epilogue.h) */
        xk_epilogue_write_c(p, row, j0, values, cols);
        return;
    }
    for (int64_t j = 0; j < cols; j++) {
        int64_t index = row * p->ldc + j0 + j;
        float value = values[j];
        /* beta == 0: C is write-only, so NaN left in it does not propagate. */
        if (p->beta != 0.0f) value += p->beta * value_f32(p->c, p->c_type, index);
        if (p->c_type == XHAL_DTYPE_F32)
            ((float *)p->c)[index] = value;
        else if (p->c_type == XHAL_DTYPE_BF16)
            ((uint16_t *)p->c)[index] = xhal_f32_to_bf16(value);
        else
            ((uint16_t *)p->c)[index] = xhal_f32_to_f16(value);
    }
}

void xk_gemv_store(const xk_gemm_problem_t *p, const float *partials, int64_t parts, int64_t n0,
                   int64_t n1) {
    enum { CHUNK = 256 };
    float sum[CHUNK];
    for (int64_t i = 0; i < p->m; i++) {
        for (int64_t j0 = n0; j0 < n1; j0 += CHUNK) {
            int64_t cols = n1 - j0 < CHUNK ? n1 - j0 : CHUNK;
            for (int64_t j = 0; j < cols; j++)
                sum[j] = 0.0f;
            for (int64_t t = 0; t < parts; t++) {
                const float *part = partials + (t * p->m + i) * p->n + j0;
                for (int64_t j = 0; j < cols; j++)
                    sum[j] += part[j];
            }
            for (int64_t j = 0; j < cols; j++)
                sum[j] *= p->alpha;
            xk_gemv_write_c(p, i, j0, sum, cols);
        }
    }
}
