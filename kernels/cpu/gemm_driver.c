/* The blocked GEMM driver and the packing routines (see gemm_kernel.h for the loop structure). */
#include <stdlib.h>
#include <string.h>

#include "gemm_kernel.h"
#include "gemm_ukernel.h"

/* Block sizes in elements. KB x NR floats of B (32 KB at NR 32) stay in a 48 KB L1; MB x KB
 * floats of A (448 KB) in a 1 MB L2; KB x NB of B (4 MB) in the shared L3. */
#define KB 256
#define MB_TARGET 448
#define NB 4096
/* When C is not f32 it accumulates in an f32 tile of at most this many floats per thread. */
#define C_TILE_FLOATS (1u << 20)

static const xk_ukernel_t *selected;

static const xk_ukernel_t *ukernel(void) {
    /* A benign race: every thread computes the same answer. */
    if (!selected) {
#if defined(__x86_64__)
        __builtin_cpu_init();
        if (xk_ukernel_avx512.run && __builtin_cpu_supports("avx512f"))
            selected = &xk_ukernel_avx512;
        else if (xk_ukernel_avx2.run && __builtin_cpu_supports("avx2") &&
                 __builtin_cpu_supports("fma"))
            selected = &xk_ukernel_avx2;
        else
#endif
            selected = &xk_ukernel_generic;
    }
    return selected;
}

const char *xk_gemm_isa(void) {
    return ukernel()->isa;
}

void xk_gemm_tile(int *out_mr, int *out_nr) {
    *out_mr = ukernel()->mr;
    *out_nr = ukernel()->nr;
}

static int64_t mb_for(int mr) {
    return MB_TARGET / mr * mr;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static int64_t round_up(int64_t x, int64_t unit) {
    return (x + unit - 1) / unit * unit;
}

/* Scratch layout: packed A (mb x KB), packed B (KB x nb), then the C tile with the line. */
typedef struct layout {
    int64_t a_floats, b_floats, c_floats;
} layout_t;

static layout_t scratch_layout(int64_t rows, int64_t cols, xhal_dtype_t c_type) {
    const xk_ukernel_t *uk = ukernel();
    layout_t l;
    l.a_floats = min64(mb_for(uk->mr), round_up(rows, uk->mr)) * KB;
    l.b_floats = (int64_t)KB * min64(NB, round_up(cols, uk->nr));
    /* f32 C needs only the packing line; other C types an f32 tile as well. */
    l.c_floats = c_type == XHAL_DTYPE_F32 ? KB : C_TILE_FLOATS;
    return l;
}

size_t xk_gemm_scratch_floats(int64_t rows, int64_t cols, xhal_dtype_t c_type) {
    layout_t l = scratch_layout(rows, cols, c_type);
    return (size_t)(l.a_floats + l.b_floats + l.c_floats);
}

static inline float bf16_value(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Reads `count` elements of a strided row of `x` as f32 into dst. */
static void load_row(float *restrict dst, const xk_matrix_t *x, int64_t row, int64_t col,
                     int64_t count, int64_t step) {
    int64_t base = row * x->row_stride + col * x->col_stride;
    switch (x->type) {
    case XHAL_DTYPE_F32: {
        const float *src = (const float *)x->data + base;
        if (step == 1)
            memcpy(dst, src, (size_t)count * sizeof *dst);
        else
            for (int64_t i = 0; i < count; i++)
                dst[i] = src[i * step];
        break;
    }
    case XHAL_DTYPE_BF16: {
        const uint16_t *src = (const uint16_t *)x->data + base;
        for (int64_t i = 0; i < count; i++)
            dst[i] = bf16_value(src[i * step]);
        break;
    }
    default: {
        const uint16_t *src = (const uint16_t *)x->data + base;
        for (int64_t i = 0; i < count; i++)
            dst[i] = xhal_f16_to_f32(src[i * step]);
        break;
    }
    }
}

/*
 * Packs rows [i0, i0 + rows) x k [p0, p0 + kc) of A into micro-panels of MR rows:
 * panel r holds dst[r * MR * kc + p * MR + i], zero-padded past the last row.
 */
static void pack_a(float *restrict dst, const xk_matrix_t *a, int64_t i0, int64_t rows, int64_t p0,
                   int64_t kc, int mr, float *restrict line) {
    for (int64_t r0 = 0; r0 < rows; r0 += mr) {
        float *panel = dst + r0 * kc;
        int64_t panel_rows = min64(mr, rows - r0);
        if (panel_rows < mr) memset(panel, 0, (size_t)(mr * kc) * sizeof *panel);
        for (int64_t i = 0; i < panel_rows; i++) {
            /* A row is read along k with its own stride: contiguous when A is not transposed. */
            load_row(line, a, i0 + r0 + i, p0, kc, a->col_stride);
            for (int64_t p = 0; p < kc; p++)
                panel[p * mr + i] = line[p];
        }
    }
}

/*
 * Packs k [p0, p0 + kc) x columns [j0, j0 + cols) of B into micro-panels of NR columns:
 * panel s holds dst[s * NR * kc + p * NR + j], zero-padded past the last column.
 */
static void pack_b(float *restrict dst, const xk_matrix_t *b, int64_t p0, int64_t kc, int64_t j0,
                   int64_t cols, int nr, float *restrict line) {
    for (int64_t s0 = 0; s0 < cols; s0 += nr) {
        float *panel = dst + s0 * kc;
        int64_t panel_cols = min64(nr, cols - s0);
        if (b->col_stride == 1) {
            /* B not transposed: each k step is a contiguous run of the row. */
            for (int64_t p = 0; p < kc; p++) {
                load_row(panel + p * nr, b, p0 + p, j0 + s0, panel_cols, 1);
                for (int64_t j = panel_cols; j < nr; j++)
                    panel[p * nr + j] = 0.0f;
            }
        } else {
            /* B transposed: a column of op(B) is contiguous; scatter it across k steps. */
            if (panel_cols < nr) memset(panel, 0, (size_t)(nr * kc) * sizeof *panel);
            for (int64_t j = 0; j < panel_cols; j++) {
                xk_matrix_t column = *b;
                load_row(line, &column, p0, j0 + s0 + j, kc, b->row_stride);
                for (int64_t p = 0; p < kc; p++)
                    panel[p * nr + j] = line[p];
            }
        }
    }
}

/* C block as f32: either C itself (f32) or the tile, loaded from / stored to C. */
static void convert_c_in(float *tile, int64_t ld, const xk_gemm_problem_t *p, int64_t i0,
                         int64_t rows, int64_t j0, int64_t cols) {
    xk_matrix_t c = {p->c, p->c_type, p->ldc, 1};
    for (int64_t i = 0; i < rows; i++) {
        float *row = tile + i * ld;
        load_row(row, &c, i0 + i, j0, cols, 1);
        for (int64_t j = 0; j < cols; j++)
            row[j] *= p->beta;
    }
}

static void convert_c_out(const float *tile, int64_t ld, const xk_gemm_problem_t *p, int64_t i0,
                          int64_t rows, int64_t j0, int64_t cols) {
    for (int64_t i = 0; i < rows; i++) {
        const float *row = tile + i * ld;
        uint16_t *dst = (uint16_t *)p->c + (i0 + i) * p->ldc + j0;
        if (p->c_type == XHAL_DTYPE_BF16)
            for (int64_t j = 0; j < cols; j++)
                dst[j] = xhal_f32_to_bf16(row[j]);
        else
            for (int64_t j = 0; j < cols; j++)
                dst[j] = xhal_f32_to_f16(row[j]);
    }
}

/* C[i0.., j0..] *= beta in place for f32 C, before accumulating (beta != 0, != 1). */
static void scale_c(const xk_gemm_problem_t *p, int64_t i0, int64_t rows, int64_t j0,
                    int64_t cols) {
    for (int64_t i = 0; i < rows; i++) {
        float *row = (float *)p->c + (i0 + i) * p->ldc + j0;
        for (int64_t j = 0; j < cols; j++)
            row[j] *= p->beta;
    }
}

void xk_gemm_block(const xk_gemm_problem_t *p, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                   float *scratch) {
    const xk_ukernel_t *uk = ukernel();
    const int mr = uk->mr, nr = uk->nr;
    const int64_t mb = mb_for(mr);
    layout_t l = scratch_layout(m1 - m0, n1 - n0, p->c_type);
    float *packed_a = scratch;
    float *packed_b = packed_a + l.a_floats;
    float *c_tile = packed_b + l.b_floats;
    /* The packing routines' line of KB floats sits at the end of the C tile. */
    const int64_t tile_floats = l.c_floats - KB;
    float *line = c_tile + tile_floats;
    const int f32_c = p->c_type == XHAL_DTYPE_F32;
    const int64_t rows_total = m1 - m0;

    /* Columns per pass: NB, or fewer when C goes through the f32 tile. */
    int64_t nb = NB;
    if (!f32_c) {
        int64_t max_rows = tile_floats / nr;
        if (rows_total > max_rows) {
            /* Even one micro-panel column of these rows overflows the tile: take fewer rows. */
            for (int64_t i = m0; i < m1; i += max_rows)
                xk_gemm_block(p, i, min64(i + max_rows, m1), n0, n1, scratch);
            return;
        }
        nb = min64(tile_floats / rows_total / nr * nr, NB);
    }
    for (int64_t j0 = n0; j0 < n1; j0 += nb) {
        int64_t cols = min64(nb, n1 - j0);
        /* The f32 view of C for this pass: C itself, or the tile. */
        float *cview;
        int64_t ldv;
        if (f32_c) {
            cview = (float *)p->c + m0 * p->ldc + j0;
            ldv = p->ldc;
            if (p->beta != 0.0f && p->beta != 1.0f) scale_c(p, m0, rows_total, j0, cols);
        } else {
            cview = c_tile;
            ldv = cols;
            if (p->beta != 0.0f) convert_c_in(c_tile, ldv, p, m0, rows_total, j0, cols);
        }
        for (int64_t p0 = 0; p0 < p->k; p0 += KB) {
            int64_t kc = min64(KB, p->k - p0);
            int accumulate = p0 > 0 || p->beta != 0.0f;
            pack_b(packed_b, &p->b, p0, kc, j0, cols, nr, line);
            for (int64_t i0 = m0; i0 < m1; i0 += mb) {
                int64_t rows = min64(mb, m1 - i0);
                pack_a(packed_a, &p->a, i0, rows, p0, kc, mr, line);
                for (int64_t s = 0; s < cols; s += nr) {
                    const float *bp = packed_b + s * kc;
                    int nr_here = (int)min64(nr, cols - s);
                    for (int64_t r = 0; r < rows; r += mr) {
                        float *c = cview + (i0 - m0 + r) * ldv + s;
                        uk->run(kc, packed_a + r * kc, bp, c, ldv, (int)min64(mr, rows - r),
                                nr_here, p->alpha, accumulate);
                    }
                }
            }
        }
        if (!f32_c) convert_c_out(c_tile, ldv, p, m0, rows_total, j0, cols);
    }
}
