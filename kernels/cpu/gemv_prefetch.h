/*
 * Software prefetch for the GEMV dot tiles (gemv_impl.h): which lines of B a tile asks for
 * while it computes, and the walk over them. Included by each ISA's GEMV file before its tiles.
 */
#ifndef XHAL_KERNELS_CPU_GEMV_PREFETCH_H
#define XHAL_KERNELS_CPU_GEMV_PREFETCH_H

#include <stdint.h>

/* The most columns a dot tile has (XK_DOT_RN of every ISA is at most this). */
#define XK_GEMV_PF_COLUMNS 8

/*
 * Cache lines of the next tile of columns a dot tile prefetches into L2 on the way, `per_step`
 * per k step: lines [first, first + count) of the columns col[0..ncols) taken across them, line
 * l being line l / ncols of column l % ncols. The first row tile of a column tile reads its columns
 * from memory and every other row tile works from L1; spreading the next columns' reads over all
 * of them overlaps memory with arithmetic instead of alternating the two.
 */
typedef struct gemv_prefetch {
    const char *col[XK_GEMV_PF_COLUMNS];
    int ncols, per_step;
    int64_t first, count;
} gemv_prefetch_t;

/* Walks a gemv_prefetch_t: call gemv_prefetch_step once per k step. */
typedef struct gemv_walk {
    const char *const *col;
    int ncols, per_step, j;
    int64_t offset, left;
} gemv_walk_t;

static inline gemv_walk_t gemv_walk_start(const gemv_prefetch_t *pf) {
    gemv_walk_t w = {pf->col, pf->ncols, pf->per_step, 0, 0, pf->count};
    if (w.ncols > 0) {
        w.j = (int)(pf->first % w.ncols);
        w.offset = pf->first / w.ncols * 64;
    } else {
        w.left = 0;
    }
    return w;
}

static inline void gemv_prefetch_step(gemv_walk_t *w) {
    for (int u = 0; u < w->per_step && w->left > 0; u++, w->left--) {
        __builtin_prefetch(w->col[w->j] + w->offset, 0, 2);
        if (++w->j == w->ncols) {
            w->j = 0;
            w->offset += 64;
        }
    }
}

#endif
