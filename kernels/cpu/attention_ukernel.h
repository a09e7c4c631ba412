/*
 * The attention microkernels behind attention_driver.c: one table per ISA (AVX-512, AVX2+FMA,
 * portable C), each computing one step of the streaming ("online") softmax on f32 scratch.
 *
 * Everything here works in the log2 domain: Q arrives pre-multiplied by scale * log2(e), so a
 * probability is exp2(s - m) and no multiply by the scale is left in the inner loops. With a
 * soft-cap c, Q arrives multiplied by scale / c instead and each score x becomes
 * (c log2 e) tanh(x): c tanh(s / c) in the log2 domain.
 *
 * Two shapes of step, because prefill and decode are bound by different things:
 *
 *  - prefill_tile: queries in SIMD lanes. The task's query rows (all heads of one KV group, a
 *    block of positions) are transposed once into Q^T (dim x lanes); then for one tile of keys
 *      S^T = K Q^T      broadcast K[j][p] (K rows are used as stored), load Q^T[p][lanes]
 *      softmax          per lane, down the keys: plain vertical max / exp2 / add, no shuffles
 *      O^T = corr O^T + V^T P^T   broadcast V[j][c], load P^T[j][lanes]
 *    Both products are register-blocked like a GEMM microkernel, K and V are read in place (f32)
 *    and only Q (once per task) and O (once per task) are ever transposed.
 *
 *  - decode_chunk: a handful of query rows over a long KV, memory bound. Lanes run along
 *    head_dim: each K row streams in once and is dotted with every query row of the group
 *    (sums reduced across lanes 16 keys at a time), then O[r] += p[r][j] V[j].
 */
#ifndef XHAL_KERNELS_CPU_ATTENTION_UKERNEL_H
#define XHAL_KERNELS_CPU_ATTENTION_UKERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal.h"

/* Lanes are allocated in multiples of this (one AVX-512 register of floats). */
#define XK_ATT_LANE_GROUP 16

/*
 * The next tile's K and V rows (`rows` of `lines` 64-byte lines, ldk / ldv bytes apart), for a
 * kernel to prefetch into L2 while it computes this one, so that memory latency overlaps
 * arithmetic; k NULL: nothing to prefetch. Kernels may ignore it.
 */
typedef struct xk_att_prefetch {
    const char *k, *v;
    size_t ldk, ldv, rows, lines;
} xk_att_prefetch_t;

/*
 * One tile of keys against all query lanes of a prefill task. For each lane l < lanes:
 *   x_j = sum_p k[j][p] qt[p][l];  s_j = cap > 0 ? cap * tanh(x_j) : x_j
 *                                   (-inf unless lo[l] <= j < hi[l], j < keys)
 *   m'  = max(m[l], max_j s_j);  corr = exp2(m[l] - m');  p_j = exp2(s_j - m')
 *   ot[c][l] = corr * ot[c][l] + sum_j p_j v[j][c]   (c < dim)
 *   l[l] = corr * l[l] + sum_j p_j;  m[l] = m'
 * A lane that has seen no key keeps m = -inf, l = 0 and ot = 0.
 */
typedef struct xk_att_tile {
    size_t dim;      /* head_dim */
    size_t keys;     /* keys in this tile (>= 1) */
    size_t lanes;    /* a multiple of XK_ATT_LANE_GROUP: the row length of qt, s and ot */
    const float *k;  /* keys x dim, rows ldk floats apart */
    const float *v;  /* keys x dim, rows ldv floats apart */
    size_t ldk, ldv; /* in floats */
    const float *qt; /* dim x lanes, 64-byte aligned, pre-scaled */
    float *s;        /* keys x lanes scratch (64-byte aligned): scores, then probabilities */
    float *ot;       /* dim x lanes accumulator (64-byte aligned) */
    float *m, *l;    /* lanes: running max (log2 domain) and running sum */
    float cap;       /* soft-cap in the log2 domain (softcap x log2 e); 0: none */
    /* lanes: keys [lo, hi) (0 <= lo <= hi <= keys) of this tile each lane sees; NULL: all. */
    const int32_t *lo, *hi;
    xk_att_prefetch_t pf;
} xk_att_tile_t;

/*
 * One chunk of keys against `rows` query rows of a decode task: the same update as a tile, with
 * q (rows x dim, rows ldq floats apart) instead of qt, and o[r][c] (rows ldo floats apart)
 * instead of ot[c][l]. s is rows x lds scratch with lds >= keys rounded up to 16. Key j's K and
 * V rows are k[j] and v[j]: anywhere in memory (a paged cache scatters them), f32 or, with a
 * table whose decode_16bit is set, the caller's f16/bf16 rows (kv_type), converted in the loads
 * so that only 16-bit bytes travel from memory.
 */
typedef struct xk_att_chunk {
    size_t dim, keys, rows;
    const void *const *k; /* keys row pointers */
    const void *const *v;
    xhal_dtype_t kv_type; /* F32, or F16/BF16 with decode_16bit */
    const float *q;       /* zero-padded to ldq (a multiple of 16) */
    size_t ldq;
    float *s;
    size_t lds;
    float *o; /* zero-padded to ldo (a multiple of 16): kernels may write whole vectors */
    size_t ldo;
    float *m, *l;
    float *corr; /* rows: scratch */
    float cap;   /* as in a tile */
    /* rows: keys [lo, hi) of this chunk each row sees; NULL: all. */
    const int32_t *lo, *hi;
    /* Memory a later step reads, to prefetch into L2 while this one computes, spread over its
     * work (a burst of prefetches fills the miss buffers and stalls the core): pf_runs runs of
     * 64-byte lines. pf_runs 0: none. */
    const struct xk_att_pf_run *pf;
    size_t pf_runs;
} xk_att_chunk_t;

/* `lines` 64-byte lines from `at` (64-byte aligned). */
typedef struct xk_att_pf_run {
    const char *at;
    size_t lines;
} xk_att_pf_run_t;

/* A kernel's walk over the prefetch runs of a chunk: xk_att_pf_issue(&w, n) issues the next n. */
typedef struct xk_att_pf {
    const xk_att_pf_run_t *run, *end;
    const char *next; /* the next line of *run */
    size_t left;      /* lines of *run from next */
} xk_att_pf_t;

/* The walk over c's runs, and how many lines to issue at each of `slots` points of the work. */
static inline xk_att_pf_t xk_att_pf_start(const xk_att_chunk_t *c, size_t slots,
                                          size_t *out_per_slot) {
    size_t runs = c->pf ? c->pf_runs : 0, total = 0;
    for (size_t i = 0; i < runs; i++)
        total += c->pf[i].lines;
    *out_per_slot = slots ? (total + slots - 1) / slots : total;
    xk_att_pf_t w = {c->pf, c->pf + runs, runs ? c->pf[0].at : NULL, runs ? c->pf[0].lines : 0};
    return w;
}

static inline void xk_att_pf_issue(xk_att_pf_t *w, size_t n) {
    while (n > 0 && w->run < w->end) {
        size_t take = n < w->left ? n : w->left, i = 0;
        /* Into L2 (T1 on x86); four a turn, so that the loop costs little beside them. */
        for (; i + 4 <= take; i += 4) {
            __builtin_prefetch(w->next + 64 * i, 0, 2);
            __builtin_prefetch(w->next + 64 * i + 64, 0, 2);
            __builtin_prefetch(w->next + 64 * i + 128, 0, 2);
            __builtin_prefetch(w->next + 64 * i + 192, 0, 2);
        }
        for (; i < take; i++)
            __builtin_prefetch(w->next + 64 * i, 0, 2);
        w->next += 64 * take;
        w->left -= take;
        n -= take;
        if (w->left == 0 && ++w->run < w->end) {
            w->next = w->run->at;
            w->left = w->run->lines;
        }
    }
}

typedef struct xk_att_ukernel {
    const char *isa; /* "avx512", "avx2", "generic"; NULL fields: not built for this compiler */
    /* dst[r * ld_dst + c] = src[r * src_stride + c] as f32, for r < rows, c < cols. */
    void (*convert)(float *dst, size_t ld_dst, const void *src, int64_t src_stride,
                    xhal_dtype_t type, size_t rows, size_t cols);
    void (*prefill_tile)(const xk_att_tile_t *t);
    void (*decode_chunk)(const xk_att_chunk_t *c);
    int decode_16bit; /* decode_chunk reads 16-bit K and V itself (xk_att_chunk_t.k16) */
} xk_att_ukernel_t;

extern const xk_att_ukernel_t xk_att_ukernel_avx512;
extern const xk_att_ukernel_t xk_att_ukernel_avx2;
extern const xk_att_ukernel_t xk_att_ukernel_generic;

#endif
