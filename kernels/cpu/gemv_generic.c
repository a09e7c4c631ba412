/* The GEMV loops in portable C, the choice between ISAs, and converting A and writing C. */
#include <string.h>

#include "epilogue.h"
#include "gemv_kernel.h"
#include "gemv_prefetch.h"
#include "isa.h"

/* Element `index` of a matrix of `type`, as f32. */
static float value_f32(const void *data, xhal_dtype_t type, int64_t index) {
    if (type == XHAL_DTYPE_F32) return ((const float *)data)[index];
    uint16_t h = ((const uint16_t *)data)[index];
    return type == XHAL_DTYPE_BF16 ? xhal_bf16_to_f32(h) : xhal_f16_to_f32(h);
}

/* Portable C the compiler vectorizes for whatever SIMD the target has: B is converted in short
 * runs of fixed length with branch-free loops, then the FMA loops are plain f32 loops over
 * LANES lanes. */
enum { RUN = 256, LANES = 16 };

static inline float from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint32_t to_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

/* IEEE half to float without branches (exact for every input, NaN payloads kept). */
static inline float f16_value(uint16_t h) {
    uint32_t o = (uint32_t)(h & 0x7fffu) << 13, e = o & 0x0f800000u;
    uint32_t normal = o + 0x38000000u;  /* rebias 15 -> 127 */
    uint32_t special = o + 0x70000000u; /* Inf, NaN */
    uint32_t sub = to_bits(from_bits(o + 0x38800000u) - from_bits(0x38800000u)); /* subnormal */
    uint32_t bits = e == 0x0f800000u ? special : e == 0 ? sub : normal;
    return from_bits(bits | (uint32_t)(h & 0x8000u) << 16);
}

/* dst[i] = B(offset + i) as f32 for i < count. */
static void convert_run(float *restrict dst, const void *b, xhal_dtype_t type, int64_t offset,
                        int64_t count) {
    if (type == XHAL_DTYPE_F32) {
        memcpy(dst, (const float *)b + offset, (size_t)count * sizeof *dst);
    } else if (type == XHAL_DTYPE_BF16) {
        const uint16_t *restrict s = (const uint16_t *)b + offset;
        for (int64_t i = 0; i < count; i++)
            dst[i] = from_bits((uint32_t)s[i] << 16);
    } else {
        const uint16_t *restrict s = (const uint16_t *)b + offset;
        for (int64_t i = 0; i < count; i++)
            dst[i] = f16_value(s[i]);
    }
}

#define XK_UPDATE_ROWS 2
static void update(float *o, int64_t ldo, int nr, const float (*a)[4], const void *b,
                   xhal_dtype_t type, const int64_t rows[4], int64_t cols) {
    float line[4][RUN];
    for (int64_t j0 = 0; j0 < cols; j0 += RUN) {
        int64_t n = cols - j0 < RUN ? cols - j0 : RUN;
        for (int t = 0; t < 4; t++)
            convert_run(line[t], b, type, rows[t] + j0, n);
        for (int r = 0; r < nr; r++) {
            float *restrict out = o + r * ldo + j0;
            const float *c = a[r];
            for (int64_t j = 0; j < n; j++)
                out[j] +=
                    c[0] * line[0][j] + c[1] * line[1][j] + c[2] * line[2][j] + c[3] * line[3][j];
        }
    }
}

#define XK_DOT_RM 4
#define XK_DOT_RN 4
#define XK_DOT_LANES LANES

/* The dot tile with LANES partial sums per (row, column): every inner loop has a fixed trip
 * count, so it vectorizes without a scalar tail; the k tail and the final sums are scalar. */
static void dot_tile(int rm, int rn, int64_t kc, const float *a, int64_t lda,
                     const void *const *cols, xhal_dtype_t type, float *out, int64_t ldo,
                     int accumulate, const gemv_prefetch_t *pf) {
    gemv_walk_t walk = gemv_walk_start(pf);
    float acc[XK_DOT_RM][XK_DOT_RN][LANES];
    float line[XK_DOT_RN][LANES];
    memset(acc, 0, sizeof acc);
    int64_t whole = kc / LANES * LANES;
    for (int64_t q = 0; q < whole; q += LANES) {
        gemv_prefetch_step(&walk);
        for (int j = 0; j < rn; j++)
            convert_run(line[j], cols[j], type, q, LANES);
        for (int i = 0; i < rm; i++) {
            const float *restrict ai = a + i * lda + q;
            for (int j = 0; j < rn; j++)
                for (int u = 0; u < LANES; u++)
                    acc[i][j][u] += ai[u] * line[j][u];
        }
    }
    for (int i = 0; i < rm; i++)
        for (int j = 0; j < rn; j++) {
            float s = 0.0f;
            for (int u = 0; u < LANES; u++)
                s += acc[i][j][u];
            for (int64_t q = whole; q < kc; q++) {
                float bq;
                convert_run(&bq, cols[j], type, q, 1);
                s += a[i * lda + q] * bq;
            }
            out[i * ldo + j] = accumulate ? out[i * ldo + j] + s : s;
        }
}

#define XK_GEMV_ROWS rows_generic
#define XK_GEMV_COLUMNS columns_generic
static void XK_GEMV_ROWS(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1,
                         float *out);
static void XK_GEMV_COLUMNS(const xk_gemm_problem_t *p, const void *a, int64_t n0, int64_t n1,
                            int64_t k0, int64_t k1, float *partial);
#include "gemv_impl.h"

#if defined(__x86_64__)
/* Defined by gemv_avx512.c and gemv_avx2.c when the compiler can build them; else absent. */
void xk_gemv_rows_avx512(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1,
                         float *out) __attribute__((weak));
void xk_gemv_columns_avx512(const xk_gemm_problem_t *p, const void *a, int64_t n0, int64_t n1,
                            int64_t k0, int64_t k1, float *partial) __attribute__((weak));
extern const int xk_gemv_avx512_unit __attribute__((weak));
void xk_gemv_rows_avx2(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1,
                       float *out) __attribute__((weak));
void xk_gemv_columns_avx2(const xk_gemm_problem_t *p, const void *a, int64_t n0, int64_t n1,
                          int64_t k0, int64_t k1, float *partial) __attribute__((weak));
extern const int xk_gemv_avx2_unit __attribute__((weak));
#endif

/* The entries of one ISA. */
typedef struct gemv_impl {
    void (*rows)(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1, float *out);
    void (*columns)(const xk_gemm_problem_t *p, const void *a, int64_t n0, int64_t n1, int64_t k0,
                    int64_t k1, float *partial);
    int unit;
} gemv_impl_t;

static gemv_impl_t impl(void) {
#if defined(__x86_64__)
    xk_isa_t isa = xk_isa();
    if (isa == XK_ISA_AVX512 && xk_gemv_rows_avx512 && xk_gemv_columns_avx512 &&
        &xk_gemv_avx512_unit)
        return (gemv_impl_t){xk_gemv_rows_avx512, xk_gemv_columns_avx512, xk_gemv_avx512_unit};
    if (isa >= XK_ISA_AVX2 && xk_gemv_rows_avx2 && xk_gemv_columns_avx2 && &xk_gemv_avx2_unit)
        return (gemv_impl_t){xk_gemv_rows_avx2, xk_gemv_columns_avx2, xk_gemv_avx2_unit};
#endif
    return (gemv_impl_t){rows_generic, columns_generic, COLUMN_CHUNK};
}

void xk_gemv_rows(const xk_gemm_problem_t *p, const float *a, int64_t k0, int64_t k1, float *out) {
    impl().rows(p, a, k0, k1, out);
}

void xk_gemv_columns(const xk_gemm_problem_t *p, const void *a, int64_t n0, int64_t n1, int64_t k0,
                     int64_t k1, float *partial) {
    impl().columns(p, a, n0, n1, k0, k1, partial);
}

int xk_gemv_column_unit(void) {
    return impl().unit;
}

int xk_gemv_bf16_dot(const xk_gemm_problem_t *p) {
#if defined(__x86_64__)
    return p->a.type == XHAL_DTYPE_BF16 && p->b.type == XHAL_DTYPE_BF16 &&
           impl().columns == xk_gemv_columns_avx512 && xk_isa_has_bf16_dot();
#else
    (void)p;
    return 0;
#endif
}

void xk_gemv_convert_a(const xk_gemm_problem_t *p, int columns, void *out) {
    const int64_t m = p->m, k = p->k;
    if (columns && xk_gemv_bf16_dot(p)) {
        /* Kept in bf16 for the dot-product instructions: copied, not converted. */
        uint16_t *dst = out;
        const uint16_t *src = p->a.data;
        for (int64_t i = 0; i < m; i++) {
            if (p->a.col_stride == 1) {
                memcpy(dst + i * k, src + i * p->a.row_stride, (size_t)k * sizeof *dst);
                continue;
            }
            for (int64_t q = 0; q < k; q++)
                dst[i * k + q] = src[i * p->a.row_stride + q * p->a.col_stride];
        }
        return;
    }
    float *dst = out;
    if (p->a.col_stride == 1) {
        /* Rows are contiguous: the ISA's vector conversion (F16C, a shift for bf16). */
        xk_convert_rows(dst, (size_t)k, p->a.data, p->a.row_stride, p->a.type, (size_t)m,
                        (size_t)k);
        return;
    }
    for (int64_t i = 0; i < m; i++)
        for (int64_t q = 0; q < k; q++)
            dst[i * k + q] =
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
