/* The microkernels behind xk_gemm_block: one per ISA, each with its own register tile. */
#ifndef XHAL_KERNELS_CPU_GEMM_UKERNEL_H
#define XHAL_KERNELS_CPU_GEMM_UKERNEL_H

#include <stdint.h>

/*
 * Cache lines a microkernel call prefetches into L2 on the way, one per k step at most: lines
 * [first, first + count) of a region of rows `stride` bytes apart, `lines_per_row` lines each,
 * from `base`. The driver hands each call a share of the next B panel's source, so that reading
 * B from memory overlaps the arithmetic instead of stalling the packing that follows.
 */
typedef struct xk_prefetch {
    const char *base;
    int64_t stride, lines_per_row;
    int64_t first, count;
} xk_prefetch_t;

/*
 * c[i * ldc + j] (+)= alpha * sum_p a[p * MR + i] * b[p * NR + j] for i < mr, j < nr, where a
 * and b are packed micro-panels of kc steps (zero-padded to MR rows and NR columns). With
 * `accumulate` 0 the tile is overwritten (C was not read: beta was 0), else added to. `pf`
 * (NULL for none) names lines to prefetch; a kernel may ignore it.
 */
typedef void (*xk_ukernel_fn)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                              int mr, int nr, float alpha, int accumulate, const xk_prefetch_t *pf);

typedef struct xk_ukernel {
    const char *isa;
    int mr, nr; /* the register tile */
    xk_ukernel_fn run;
    /*
     * 0: panels hold f32. 1: panels hold bf16 pairs (k steps 2p and 2p+1 side by side in 32
     * bits, kc even), for dot-product instructions that do two multiply-adds per lane; `a` and
     * `b` then point at uint16_t data.
     */
    int bf16_pairs;
    /*
     * Optional (NULL: the driver's portable loops): packs `width` (<= w) vectors of kc 32-bit
     * elements, element p of vector i at src[i * lead + p], as dst[p * w + i], zero past
     * `width`; offsets count 32-bit elements. This is the transposing case of packing (rows of
     * A, columns of a transposed B), the one a scalar loop does slowly; the elements are f32,
     * or pairs of bf16 k steps, which a transposed bf16 B holds side by side. `next` is an
     * offset of the next panel's source to prefetch on the way, or 0.
     */
    void (*pack_transposed)(void *dst, const void *src, int64_t lead, int64_t kc, int width, int w,
                            int64_t next);
} xk_ukernel_t;

extern const xk_ukernel_t xk_ukernel_avx512;      /* 14 x 32 */
extern const xk_ukernel_t xk_ukernel_avx512_bf16; /* 14 x 32, vdpbf16ps on bf16 pairs */
extern const xk_ukernel_t xk_ukernel_avx2;        /* 6 x 16 */
extern const xk_ukernel_t xk_ukernel_generic;

#endif
