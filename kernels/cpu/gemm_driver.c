/* The blocked GEMM driver and the packing routines (see gemm_kernel.h for the loop structure). */
#include <stdlib.h>
#include <string.h>

#include "epilogue.h"
#include "gemm_kernel.h"
#include "gemm_ukernel.h"
#include "isa.h"
#include "qgemm_kernel.h"

/*
 * Block sizes in elements. A micro-panel of B (KB x NR floats, 64 KB at NR 32) and the packed A
 * block (MB x KB, 448 KB) share the 1 MB L2; the B block (KB x NB, 2 MB) sits in L3. A long KB
 * means C is read and written fewer times (k / KB): on Zen 4, going from 192 to 512 took one
 * thread from 77% to 88% of peak at 1024^3, with the B micro-panel streamed from L2 rather than
 * kept in the 32 KB L1 (two vector loads per 28 FMAs do not need L1 latency). KB is even, as
 * bf16 pairs need.
 */
#define KB 512
#define MB_TARGET 224
#define NB 1024
/* When C is not f32 it accumulates in an f32 tile of at most this many floats per thread. */
#define C_TILE_FLOATS (1u << 20)

static const xk_ukernel_t *ukernel(void) {
    xk_isa_t isa = xk_isa();
    if (isa == XK_ISA_AVX512 && xk_ukernel_avx512.run) return &xk_ukernel_avx512;
    if (isa >= XK_ISA_AVX2 && xk_ukernel_avx2.run) return &xk_ukernel_avx2;
    return &xk_ukernel_generic;
}

/* The bf16 dot-product kernel, when the CPU has it (AVX512_BF16), else NULL. */
static const xk_ukernel_t *ukernel_bf16(void) {
    if (xk_ukernel_avx512_bf16.run && ukernel() == &xk_ukernel_avx512 && xk_isa_has_bf16_dot())
        return &xk_ukernel_avx512_bf16;
    return NULL;
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

/* `tile`: C goes through an f32 tile (it is not f32, or the product is gated). */
static layout_t scratch_layout(int64_t rows, int64_t cols, int tile) {
    const xk_ukernel_t *uk = ukernel();
    layout_t l;
    l.a_floats = min64(mb_for(uk->mr), round_up(rows, uk->mr)) * KB;
    l.b_floats = (int64_t)KB * min64(NB, round_up(cols, uk->nr));
    /* f32 C needs only the packing line; other C types an f32 tile as well. */
    l.c_floats = tile ? C_TILE_FLOATS : KB;
    return l;
}

static int needs_tile(const xk_gemm_problem_t *p) {
    return p->c_type != XHAL_DTYPE_F32 || (p->epi && p->epi->gated);
}

size_t xk_gemm_scratch_floats(const xk_gemm_problem_t *p, int64_t rows, int64_t cols) {
    layout_t l = scratch_layout(rows, cols, needs_tile(p));
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
        if (step == 1) {
            xk_convert_rows(dst, 0, src, 0, x->type, 1, (size_t)count);
            break;
        }
        for (int64_t i = 0; i < count; i++)
            dst[i] = bf16_value(src[i * step]);
        break;
    }
    default: {
        const uint16_t *src = (const uint16_t *)x->data + base;
        if (step == 1) {
            xk_convert_rows(dst, 0, src, 0, x->type, 1, (size_t)count);
            break;
        }
        for (int64_t i = 0; i < count; i++)
            dst[i] = xhal_f16_to_f32(src[i * step]);
        break;
    }
    }
}

/* Asks for the cache line at `address` ahead of its use; a no-op where the compiler has no
 * prefetch builtin. */
static inline void prefetch(const void *address) {
#if defined(__GNUC__)
    __builtin_prefetch(address, 0, 2);
#else
    (void)address;
#endif
}

/*
 * Packs `width` (<= w) vectors of kc f32 elements, element p of vector i at src[i * lead + p *
 * step], into a panel of kc steps of w: dst[p * w + i], zero-padded past `width`. Rows of A and
 * columns of B are such vectors; the two fast cases are the ones transposes produce. With `next`
 * non-zero, the same elements of the next panel (src + next) are prefetched on the way. The
 * microkernel's own transposing pack, when it has one, does the step == 1 case.
 */
static void pack_panel_f32(float *restrict dst, const float *restrict src, int64_t lead,
                           int64_t step, int64_t kc, int width, int w, int64_t next,
                           const xk_ukernel_t *uk) {
    if (lead == 1) {
        /* Each k step is a contiguous run: a copy, of a constant size for the full panels. */
        if (next)
            for (int64_t p = 0; p < kc; p++)
                for (int i = 0; i < w; i += 16)
                    prefetch(src + p * step + next + i);
        if (width == w && w == 32)
            for (int64_t p = 0; p < kc; p++)
                memcpy(dst + p * 32, src + p * step, 32 * sizeof *dst);
        else if (width == w && w == 16)
            for (int64_t p = 0; p < kc; p++)
                memcpy(dst + p * 16, src + p * step, 16 * sizeof *dst);
        else
            for (int64_t p = 0; p < kc; p++) {
                memcpy(dst + p * w, src + p * step, (size_t)width * sizeof *dst);
                for (int i = width; i < w; i++)
                    dst[p * w + i] = 0.0f;
            }
        return;
    }
    if (step == 1 && uk->pack_transposed) {
        uk->pack_transposed(dst, src, lead, kc, width, w, next);
        return;
    }
    if (width < w)
        for (int64_t p = 0; p < kc; p++)
            for (int i = width; i < w; i++)
                dst[p * w + i] = 0.0f;
    if (step == 1) {
        /* Each vector is contiguous along k: transpose in chunks of 16 steps, so that the
         * reads run along `width` cache lines at once and the writes stay in 16 panel rows. */
        for (int64_t p0 = 0; p0 < kc; p0 += 16) {
            int64_t q = min64(16, kc - p0);
            for (int i = 0; i < width; i++) {
                const float *v = src + i * lead + p0;
                float *d = dst + p0 * w + i;
                if (next) prefetch(v + next);
                for (int64_t t = 0; t < q; t++)
                    d[t * w] = v[t];
            }
        }
        return;
    }
    for (int i = 0; i < width; i++)
        for (int64_t p = 0; p < kc; p++)
            dst[p * w + i] = src[i * lead + p * step];
}

/*
 * Packs rows [i0, i0 + rows) x k [p0, p0 + kc) of A into micro-panels of MR rows:
 * panel r holds dst[r * MR * kc + p * MR + i], zero-padded past the last row.
 */
static void pack_a(float *restrict dst, const xk_matrix_t *a, int64_t i0, int64_t rows, int64_t p0,
                   int64_t kc, const xk_ukernel_t *uk, float *restrict line) {
    const int mr = uk->mr;
    for (int64_t r0 = 0; r0 < rows; r0 += mr) {
        float *panel = dst + r0 * kc;
        int64_t panel_rows = min64(mr, rows - r0);
        if (a->type == XHAL_DTYPE_F32) {
            const float *src =
                (const float *)a->data + (i0 + r0) * a->row_stride + p0 * a->col_stride;
            pack_panel_f32(panel, src, a->row_stride, a->col_stride, kc, (int)panel_rows, mr, 0,
                           uk);
            continue;
        }
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
                   int64_t cols, const xk_ukernel_t *uk, float *restrict line, int prefetch_next) {
    const int nr = uk->nr;
    for (int64_t s0 = 0; s0 < cols; s0 += nr) {
        float *panel = dst + s0 * kc;
        int64_t panel_cols = min64(nr, cols - s0);
        if (b->type == XHAL_DTYPE_F32) {
            const float *src =
                (const float *)b->data + p0 * b->row_stride + (j0 + s0) * b->col_stride;
            pack_panel_f32(panel, src, b->col_stride, b->row_stride, kc, (int)panel_cols, nr,
                           prefetch_next ? nr * b->col_stride : 0, uk);
        } else if (b->col_stride == 1) {
            /* B not transposed: each k step is a contiguous run of the row. */
            for (int64_t p = 0; p < kc; p++) {
                load_row(panel + p * nr, b, p0 + p, j0 + s0, panel_cols, 1);
                for (int64_t j = panel_cols; j < nr; j++)
                    panel[p * nr + j] = 0.0f;
            }
        } else if (uk->pack_transposed && nr <= 32) {
            /* B transposed, 16-bit: 128 k steps of each column converted into an f32 block
             * (16 KB), then transposed in registers. */
            enum { STEPS = 128 };
            float block[32 * STEPS];
            for (int64_t p = 0; p < kc; p += STEPS) {
                int64_t q = min64(STEPS, kc - p);
                for (int64_t j = 0; j < panel_cols; j++)
                    load_row(block + j * STEPS, b, p0 + p, j0 + s0 + j, q, b->row_stride);
                uk->pack_transposed(panel + p * nr, block, STEPS, q, (int)panel_cols, nr, 0);
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

/* Element (row, col) of a bf16 matrix, as its raw 16 bits. */
static inline uint16_t raw_bf16(const xk_matrix_t *x, int64_t row, int64_t col) {
    return ((const uint16_t *)x->data)[row * x->row_stride + col * x->col_stride];
}

/*
 * The bf16-pairs forms of pack_a and pack_b: k steps 2p and 2p+1 of a row (A) or column (B)
 * side by side, kc rounded up to even with a zero step. No conversion: the bits are copied.
 */
static void pack_a_pairs(uint16_t *restrict dst, const xk_matrix_t *a, int64_t i0, int64_t rows,
                         int64_t p0, int64_t kc, int mr) {
    int64_t kc2 = (kc + 1) / 2 * 2;
    for (int64_t r0 = 0; r0 < rows; r0 += mr) {
        uint16_t *panel = dst + r0 * kc2;
        int64_t panel_rows = min64(mr, rows - r0);
        if (panel_rows < mr || kc2 != kc) memset(panel, 0, (size_t)(mr * kc2) * sizeof *panel);
        const uint16_t *first = (const uint16_t *)a->data + (i0 + r0) * a->row_stride;
        if (a->col_stride == 1) {
            /* A pair of k steps is 32 contiguous bits of a row: copy words, in chunks of 16
             * pairs across the panel's rows so that the stores stay in 16 panel lines. */
            for (int64_t q0 = 0; q0 < kc / 2; q0 += 16) {
                int64_t q1 = min64(q0 + 16, kc / 2);
                for (int64_t i = 0; i < panel_rows; i++) {
                    const uint16_t *row = first + i * a->row_stride + p0;
                    for (int64_t q = q0; q < q1; q++)
                        memcpy(panel + (q * mr + i) * 2, row + 2 * q, 4);
                }
            }
            if (kc & 1)
                for (int64_t i = 0; i < panel_rows; i++)
                    panel[(kc / 2) * 2 * mr + 2 * i] = first[i * a->row_stride + p0 + kc - 1];
        } else {
            for (int64_t i = 0; i < panel_rows; i++) {
                const uint16_t *row = first + i * a->row_stride + p0 * a->col_stride;
                for (int64_t p = 0; p < kc; p++)
                    panel[(p / 2) * 2 * mr + 2 * i + (p & 1)] = row[p * a->col_stride];
            }
        }
    }
}

static void pack_b_pairs(uint16_t *restrict dst, const xk_matrix_t *b, int64_t p0, int64_t kc,
                         int64_t j0, int64_t cols, const xk_ukernel_t *uk) {
    const int nr = uk->nr;
    int64_t kc2 = (kc + 1) / 2 * 2;
    for (int64_t s0 = 0; s0 < cols; s0 += nr) {
        uint16_t *panel = dst + s0 * kc2;
        int64_t panel_cols = min64(nr, cols - s0);
        if (panel_cols < nr || kc2 != kc) memset(panel, 0, (size_t)(nr * kc2) * sizeof *panel);
        if (b->col_stride == 1) {
            /* B not transposed: interleave two rows, a loop the compiler vectorizes. */
            for (int64_t p = 0; p < kc; p += 2) {
                const uint16_t *r0 = (const uint16_t *)b->data + (p0 + p) * b->row_stride + j0 + s0;
                const uint16_t *r1 = r0 + b->row_stride;
                int two_rows = p + 1 < kc; /* else the odd step's partner stays zero */
                uint16_t *out = panel + (p / 2) * 2 * nr;
                if (two_rows && panel_cols == 32 && nr == 32) {
                    /* Both halves of each 32-bit pair in one store; a constant trip count, so
                     * the compiler vectorizes it. */
                    uint32_t pairs[32];
                    for (int j = 0; j < 32; j++)
                        pairs[j] = (uint32_t)r0[j] | (uint32_t)r1[j] << 16;
                    memcpy(out, pairs, sizeof pairs);
                    continue;
                }
                for (int64_t j = 0; j < panel_cols; j++)
                    out[2 * j] = r0[j];
                if (two_rows)
                    for (int64_t j = 0; j < panel_cols; j++)
                        out[2 * j + 1] = r1[j];
            }
        } else {
            /*
             * B transposed: a column of op(B) holds its k steps side by side, so each pair is
             * already a 32-bit word and packing is a transpose of words (the microkernel's own,
             * when it has one). Words need an even ldb and a 4-byte aligned start.
             */
            const uint16_t *first =
                (const uint16_t *)b->data + p0 * b->row_stride + (j0 + s0) * b->col_stride;
            if (uk->pack_transposed && b->row_stride == 1 && b->col_stride % 2 == 0 &&
                ((uintptr_t)(const void *)first & 3) == 0 && kc >= 2) {
                uk->pack_transposed(panel, first, b->col_stride / 2, kc / 2, (int)panel_cols, nr,
                                    0);
                if (kc & 1) /* the last step alone; its partner stays zero */
                    for (int64_t j = 0; j < panel_cols; j++)
                        panel[(kc / 2) * 2 * nr + 2 * j] = raw_bf16(b, p0 + kc - 1, j0 + s0 + j);
                continue;
            }
            for (int64_t p = 0; p < kc; p++)
                for (int64_t j = 0; j < panel_cols; j++)
                    panel[(p / 2) * 2 * nr + 2 * j + (p & 1)] = raw_bf16(b, p0 + p, j0 + s0 + j);
        }
    }
}

/*
 * The cache lines of B's source that the packing of the micro-panel at column j will read (kc
 * k steps from p0, `cols` columns): rows of B when it is stored k x n, else columns of op(B)
 * stored contiguously along k.
 */
static xk_prefetch_t panel_lines(const xk_matrix_t *b, int64_t p0, int64_t kc, int64_t j,
                                 int cols) {
    int64_t es = b->type == XHAL_DTYPE_F32 ? 4 : 2;
    xk_prefetch_t pf = {0};
    pf.base = (const char *)b->data + (p0 * b->row_stride + j * b->col_stride) * es;
    if (b->col_stride == 1) {
        pf.stride = b->row_stride * es;
        pf.lines_per_row = (cols * es + 63) / 64;
        pf.count = kc * pf.lines_per_row;
    } else {
        pf.stride = b->col_stride * es;
        pf.lines_per_row = (kc * es + 63) / 64;
        pf.count = cols * pf.lines_per_row;
    }
    return pf;
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

static int is_gated(const xk_gemm_problem_t *p) {
    return p->epi && p->epi->gated;
}

int64_t xk_gemm_columns(const xk_gemm_problem_t *p, int64_t *out_unit) {
    const int64_t nr = ukernel()->nr;
    if (!is_gated(p)) {
        *out_unit = nr;
        return p->n;
    }
    *out_unit = 2 * nr;
    return 2 * nr * ((p->n / 2 + nr - 1) / nr);
}

/*
 * The columns of B the micro-panel at (virtual) column v packs: from *out_column, as many as it
 * returns. Gated, panel 2t is columns t NR.. of the first half, panel 2t + 1 the same of the
 * second (see xk_gemm_columns).
 */
static int64_t panel_source(const xk_gemm_problem_t *p, int64_t v, int64_t end, int nr,
                            int64_t *out_column) {
    if (!is_gated(p)) {
        *out_column = v;
        return min64(nr, end - v);
    }
    int64_t half = p->n / 2, base = v / (2 * nr) * nr;
    *out_column = base + (v / nr % 2 ? half : 0);
    return min64(nr, half - base);
}

/*
 * After the last k block, rows [i, i + rows) of the tile at virtual column v: bias and
 * activation in place (c is C itself or the f32 tile), or, gated, at the second panel of a
 * pair, both halves combined into C's row (the first half's tile, nr columns to the left, was
 * computed just before).
 */
static void finish_tile(const xk_gemm_problem_t *p, float *c, int64_t ldv, int64_t i, int rows,
                        int64_t v, int nr, int64_t column, int width) {
    if (!is_gated(p)) {
        xk_epilogue_tile(p->epi, c, ldv, rows, column, width);
        return;
    }
    if (v / nr % 2 == 0) return; /* the first half: combined with the second */
    /* The combined row goes over the first half, then to C. */
    for (int r = 0; r < rows; r++)
        xk_epilogue_store_gated(p, i + r, column - p->n / 2, c + r * ldv - nr, c + r * ldv, width);
}

void xk_gemm_block(const xk_gemm_problem_t *p, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                   float *scratch) {
    const xk_ukernel_t *uk = ukernel();
    /* bf16 times bf16 runs on the dot-product kernel: same tile, twice the work per op. */
    const xk_ukernel_t *pairs =
        p->a.type == XHAL_DTYPE_BF16 && p->b.type == XHAL_DTYPE_BF16 ? ukernel_bf16() : NULL;
    if (pairs) uk = pairs;
    const int mr = uk->mr, nr = uk->nr;
    const int64_t mb = mb_for(mr);
    /* bf16 panels take half the bytes per k step: twice the steps fill the same scratch, and C
     * is visited half as often. */
    const int64_t kb = pairs ? 2 * KB : KB;
    layout_t l = scratch_layout(m1 - m0, n1 - n0, needs_tile(p));
    float *packed_a = scratch;
    float *packed_b = packed_a + l.a_floats;
    float *c_tile = packed_b + l.b_floats;
    /* The packing routines' line of KB floats sits at the end of the C tile. */
    const int64_t tile_floats = l.c_floats - KB;
    float *line = c_tile + tile_floats;
    const int gated = is_gated(p);
    /* C goes through the f32 tile when it is not f32, and the product when it is gated (C has
     * half its columns). */
    const int f32_c = p->c_type == XHAL_DTYPE_F32 && !gated;
    const int64_t rows_total = m1 - m0;
    const int64_t unit = gated ? 2 * nr : nr; /* pairs of panels stay in one pass */

    /* Columns per pass: NB, or fewer when C goes through the f32 tile. */
    int64_t nb = NB;
    if (!f32_c) {
        int64_t max_rows = tile_floats / unit;
        if (rows_total > max_rows) {
            /* Even one micro-panel column of these rows overflows the tile: take fewer rows. */
            for (int64_t i = m0; i < m1; i += max_rows)
                xk_gemm_block(p, i, min64(i + max_rows, m1), n0, n1, scratch);
            return;
        }
        nb = min64(tile_floats / rows_total / unit * unit, NB / unit * unit);
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
            /* (gated: beta is 0) */
            if (p->beta != 0.0f) convert_c_in(c_tile, ldv, p, m0, rows_total, j0, cols);
        }
        for (int64_t p0 = 0; p0 < p->k; p0 += kb) {
            int64_t kc = min64(kb, p->k - p0);
            int accumulate = p0 > 0 || p->beta != 0.0f;
            int last = p0 + kc == p->k && p->epi; /* the epilogue follows each tile */
            /* Panels of bf16 pairs take half the bytes of f32 ones: the same scratch fits. */
            int64_t kp = pairs ? (kc + 1) / 2 * 2 : kc;
            for (int64_t i0 = m0; i0 < m1; i0 += mb) {
                int64_t rows = min64(mb, m1 - i0);
                if (pairs)
                    pack_a_pairs((uint16_t *)(void *)packed_a, &p->a, i0, rows, p0, kc, mr);
                else
                    pack_a(packed_a, &p->a, i0, rows, p0, kc, uk, line);
                for (int64_t s = 0; s < cols; s += nr) {
                    /* Offsets in elements of the panels' type; pairs index 16-bit halves. */
                    const float *bp =
                        pairs ? (const float *)(const void *)((uint16_t *)(void *)packed_b + s * kp)
                              : packed_b + s * kc;
                    int64_t column; /* of B, and of C when not gated */
                    int nr_here = (int)panel_source(p, j0 + s, j0 + cols, nr, &column);
                    /*
                     * B is packed a panel at a time just before its first use, so that reading
                     * B from memory alternates with computing instead of coming all at once;
                     * each panel's packing also prefetches the next one's source.
                     */
                    int has_next = i0 == m0 && s + nr < cols;
                    xk_prefetch_t next = {0};
                    int64_t calls = (rows + mr - 1) / mr, share = 0;
                    if (has_next) {
                        int64_t next_column;
                        int next_width =
                            (int)panel_source(p, j0 + s + nr, j0 + cols, nr, &next_column);
                        /* (A quantized B's packing reads little: no prefetch is asked.) */
                        if (!p->b_quant) next = panel_lines(&p->b, p0, kc, next_column, next_width);
                        share = (next.count + calls - 1) / calls;
                    }
                    if (i0 == m0 && pairs)
                        pack_b_pairs((uint16_t *)(void *)packed_b + s * kp, &p->b, p0, kc, column,
                                     nr_here, uk);
                    else if (i0 == m0 && p->b_quant) /* dequantized into the panel */
                        xk_qpack_b(packed_b + s * kc, p->b_quant, p0, kc, column, nr_here, nr,
                                   uk->pack_transposed);
                    else if (i0 == m0)
                        /* The kernels prefetch the next panel unless their share is too much
                         * for one line per k step: then the packing asks for it at once. */
                        pack_b(packed_b + s * kc, &p->b, p0, kc, column, nr_here, uk, line,
                               has_next && share > kp);
                    for (int64_t r = 0; r < rows; r += mr) {
                        float *c = cview + (i0 - m0 + r) * ldv + s;
                        const float *ap =
                            pairs ? (const float *)(const void *)((uint16_t *)(void *)packed_a +
                                                                  r * kp)
                                  : packed_a + r * kc;
                        xk_prefetch_t part = next;
                        part.first = r / mr * share;
                        part.count = min64(share, next.count - part.first);
                        uk->run(kp, ap, bp, c, ldv, (int)min64(mr, rows - r), nr_here, p->alpha,
                                accumulate, has_next && share <= kp ? &part : NULL);
                        if (last)
                            finish_tile(p, c, ldv, i0 + r, (int)min64(mr, rows - r), j0 + s, nr,
                                        column, nr_here);
                    }
                }
            }
        }
        if (!f32_c && !gated) convert_c_out(c_tile, ldv, p, m0, rows_total, j0, cols);
    }
}
