/*
 * AVX-512 microkernel: a 14 x 32 tile of C in 28 zmm accumulators (of 32 registers), two zmm of
 * B per k step and one broadcast of A per row. 28 FMAs per k step against 2 loads + 14
 * broadcasts keep both FMA pipes of a Zen 4/5 or Skylake-X core busy; 28 independent chains
 * cover the FMA latency (4 cycles x 2 pipes = 8 needed).
 */
#include "gemm_ukernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX512)
#include <immintrin.h>

#define MR 14
#define NR 32

/*
 * C is prefetched twice: into L2 when a tile starts (C of a large GEMM lives in L3 or memory),
 * and into L1 for the last C_LATE_STEPS k steps, when the A and B streamed in by the earlier
 * steps can no longer push it out. Without it each tile's store waited on C: at 2048^3 one
 * thread ran at 87% of peak without, 91% with.
 */
#define C_LATE_STEPS 16

static inline __attribute__((always_inline)) void prefetch_c(const float *c, int64_t ldc, int rows,
                                                             int hint_l1) {
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++) {
        if (hint_l1) {
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
        } else {
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T1);
            _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T1);
        }
    }
}

/* Walks an xk_prefetch_t one line per call of next(). */
typedef struct line_walk {
    const char *row;
    int64_t stride, lines_per_row, line, left;
} line_walk_t;

static inline __attribute__((always_inline)) line_walk_t walk_start(const xk_prefetch_t *pf) {
    line_walk_t w = {0, 0, 1, 0, 0};
    if (pf && pf->count > 0) {
        w.row = pf->base + pf->first / pf->lines_per_row * pf->stride;
        w.stride = pf->stride;
        w.lines_per_row = pf->lines_per_row;
        w.line = pf->first % pf->lines_per_row;
        w.left = pf->count;
    }
    return w;
}

static inline __attribute__((always_inline)) void walk_next(line_walk_t *w) {
    if (w->left <= 0) return;
    _mm_prefetch(w->row + w->line * 64, _MM_HINT_T1);
    if (++w->line == w->lines_per_row) {
        w->line = 0;
        w->row += w->stride;
    }
    w->left--;
}

/* C (+)= alpha * acc for the rows x nr corner of the tile: masked, so edges need no copy. */
static inline __attribute__((always_inline)) void store_tile(__m512 acc[MR][2], float *c,
                                                             int64_t ldc, int rows, int nr,
                                                             float alpha, int accumulate) {
    __m512 va = _mm512_set1_ps(alpha);
    __mmask16 m0 = nr >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? (__mmask16)0xffff : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++) {
        float *ci = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(acc[i][0], va), r1 = _mm512_mul_ps(acc[i][1], va);
        if (accumulate) {
            r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, ci));
            r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, ci + 16));
        }
        _mm512_mask_storeu_ps(ci, m0, r0);
        _mm512_mask_storeu_ps(ci + 16, m1, r1);
    }
}

/* Specialised by the compiler for each constant `rows` (the switch below), so that partial
 * tiles at the bottom edge keep the same register allocation without padding work. */
static inline __attribute__((always_inline)) void tile(int64_t kc, const float *a, const float *b,
                                                       float *c, int64_t ldc, int rows, int nr,
                                                       float alpha, int accumulate,
                                                       const xk_prefetch_t *pf) {
    line_walk_t walk = walk_start(pf);
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    prefetch_c(c, ldc, rows, 0);
    int64_t p = 0;
    for (int part = 0; part < 2; part++) {
        int64_t end = part == 0 ? kc - C_LATE_STEPS : kc;
        for (; p < end; p++) {
            walk_next(&walk);
            __m512 b0 = _mm512_load_ps(b + p * NR);
            __m512 b1 = _mm512_load_ps(b + p * NR + 16);
            const float *ap = a + p * MR;
#pragma GCC unroll 14
            for (int i = 0; i < rows; i++) {
                __m512 ai = _mm512_set1_ps(ap[i]);
                acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
            }
        }
        if (part == 0) prefetch_c(c, ldc, rows, 1);
    }
    store_tile(acc, c, ldc, rows, nr, alpha, accumulate);
}

#define XK_ROWS(r)                                                                                 \
    case r:                                                                                        \
        tile(kc, a, b, c, ldc, r, nr, alpha, accumulate, pf);                                      \
        break

static void run(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                float alpha, int accumulate, const xk_prefetch_t *pf) {
    switch (mr) {
        XK_ROWS(1);
        XK_ROWS(2);
        XK_ROWS(3);
        XK_ROWS(4);
        XK_ROWS(5);
        XK_ROWS(6);
        XK_ROWS(7);
        XK_ROWS(8);
        XK_ROWS(9);
        XK_ROWS(10);
        XK_ROWS(11);
        XK_ROWS(12);
        XK_ROWS(13);
    default:
        tile(kc, a, b, c, ldc, MR, nr, alpha, accumulate, pf);
    }
}

/*
 * Transposes 16 rows of 16 floats in registers: on return r[t] holds element t of every row.
 * Three rounds (32-bit and 64-bit unpacks within 128-bit lanes, then two 128-bit lane
 * shuffles) of 16 instructions each, instead of 256 scalar loads and stores.
 */
static inline __attribute__((always_inline)) void transpose16(__m512 r[16]) {
    __m512 a[16], b[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* b[4i + c], 128-bit lane L: column 4L + c of rows 4i .. 4i + 3. */
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        __m512d a0 = _mm512_castps_pd(a[4 * i]), a1 = _mm512_castps_pd(a[4 * i + 1]);
        __m512d a2 = _mm512_castps_pd(a[4 * i + 2]), a3 = _mm512_castps_pd(a[4 * i + 3]);
        b[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
        b[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
        b[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
        b[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
    }
    /* Column 4L + c gathers lane L of b[c], b[4 + c], b[8 + c], b[12 + c]. */
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m512 lo01 = _mm512_shuffle_f32x4(b[c], b[4 + c], 0x44);
        __m512 hi01 = _mm512_shuffle_f32x4(b[c], b[4 + c], 0xee);
        __m512 lo23 = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0x44);
        __m512 hi23 = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0xee);
        r[c] = _mm512_shuffle_f32x4(lo01, lo23, 0x88);
        r[4 + c] = _mm512_shuffle_f32x4(lo01, lo23, 0xdd);
        r[8 + c] = _mm512_shuffle_f32x4(hi01, hi23, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(hi01, hi23, 0xdd);
    }
}

/* See xk_ukernel_t.pack_transposed: groups of 16 vectors, 16 k steps at a time, transposed in
 * registers and stored with a mask of the group's width. Only moves bits: f32 or bf16 pairs. */
static void pack_transposed(void *dst_words, const void *src_words, int64_t lead, int64_t kc,
                            int width, int w, int64_t next) {
    float *dst = dst_words;
    const float *src = src_words;
    for (int i0 = 0; i0 < w; i0 += 16) {
        int lanes = w - i0 < 16 ? w - i0 : 16;
        int valid = width - i0 < 0 ? 0 : width - i0 < lanes ? width - i0 : lanes;
        __mmask16 store = (__mmask16)((1u << lanes) - 1);
        const float *rows = src + i0 * lead;
        float *out = dst + i0;
        int64_t p = 0;
        for (; p + 16 <= kc; p += 16) {
            __m512 r[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) {
                r[i] = i < valid ? _mm512_loadu_ps(rows + i * lead + p) : _mm512_setzero_ps();
                if (next && i < valid)
                    _mm_prefetch((const char *)(rows + i * lead + p + next), _MM_HINT_T1);
            }
            transpose16(r);
#pragma GCC unroll 16
            for (int t = 0; t < 16; t++)
                _mm512_mask_storeu_ps(out + (p + t) * w, store, r[t]);
        }
        /* The tail by masked loads and stores too: the words may be bf16 pairs, not floats. */
        for (; p < kc; p++)
            for (int i = 0; i < lanes; i++) {
                __m128 word =
                    i < valid ? _mm_maskz_loadu_ps(1, rows + i * lead + p) : _mm_setzero_ps();
                _mm_mask_storeu_ps(out + p * w + i, 1, word);
            }
    }
}

const xk_ukernel_t xk_ukernel_avx512 = {"avx512", MR, NR, run, 0, pack_transposed};

/*
 * bf16: vdpbf16ps multiplies pairs of bf16 and adds both products to an f32 lane, so one
 * instruction does the work of two FMAs. Panels hold k steps in pairs (see gemm_ukernel.h); the
 * tile and the store are those of the f32 kernel.
 */
static inline __attribute__((always_inline)) void
tile_bf16(int64_t kc, const uint16_t *a, const uint16_t *b, float *c, int64_t ldc, int rows, int nr,
          float alpha, int accumulate, const xk_prefetch_t *pf) {
    line_walk_t walk = walk_start(pf);
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    prefetch_c(c, ldc, rows, 0);
    int64_t p = 0;
    for (int part = 0; part < 2; part++) {
        int64_t end = part == 0 ? kc / 2 - C_LATE_STEPS : kc / 2;
        for (; p < end; p++) {
            walk_next(&walk);
            __m512bh b0 = (__m512bh)_mm512_load_si512(b + p * 2 * NR);
            __m512bh b1 = (__m512bh)_mm512_load_si512(b + p * 2 * NR + 32);
            const uint16_t *ap = a + p * 2 * MR;
#pragma GCC unroll 14
            for (int i = 0; i < rows; i++) {
                uint32_t pair;
                __builtin_memcpy(&pair, ap + 2 * i, sizeof pair);
                __m512bh ai = (__m512bh)_mm512_set1_epi32((int)pair);
                acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
                acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
            }
        }
        if (part == 0) prefetch_c(c, ldc, rows, 1);
    }
    store_tile(acc, c, ldc, rows, nr, alpha, accumulate);
}

#define XK_ROWS_BF16(r)                                                                            \
    case r:                                                                                        \
        tile_bf16(kc, a, b, c, ldc, r, nr, alpha, accumulate, pf);                                 \
        break

static void run_bf16(int64_t kc, const float *a_panel, const float *b_panel, float *c, int64_t ldc,
                     int mr, int nr, float alpha, int accumulate, const xk_prefetch_t *pf) {
    const uint16_t *a = (const uint16_t *)(const void *)a_panel;
    const uint16_t *b = (const uint16_t *)(const void *)b_panel;
    switch (mr) {
        XK_ROWS_BF16(1);
        XK_ROWS_BF16(2);
        XK_ROWS_BF16(3);
        XK_ROWS_BF16(4);
        XK_ROWS_BF16(5);
        XK_ROWS_BF16(6);
        XK_ROWS_BF16(7);
        XK_ROWS_BF16(8);
        XK_ROWS_BF16(9);
        XK_ROWS_BF16(10);
        XK_ROWS_BF16(11);
        XK_ROWS_BF16(12);
        XK_ROWS_BF16(13);
    default:
        tile_bf16(kc, a, b, c, ldc, MR, nr, alpha, accumulate, pf);
    }
}

const xk_ukernel_t xk_ukernel_avx512_bf16 = {"avx512-bf16", MR, NR, run_bf16, 1, pack_transposed};
#else
const xk_ukernel_t xk_ukernel_avx512 = {"avx512", 0, 0, 0, 0, 0};
const xk_ukernel_t xk_ukernel_avx512_bf16 = {"avx512-bf16", 0, 0, 0, 1, 0};
#endif
