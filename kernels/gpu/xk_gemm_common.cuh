/*
 * What every GEMM kernel shares: which output tile and k range a block owns, the batch loop,
 * and the epilogue that writes alpha * acc + beta * C (or an f32 split-K partial), plus the
 * split-K reduction kernel.
 */
#ifndef XK_GEMM_COMMON_CUH
#define XK_GEMM_COMMON_CUH

#include "xk_compat.cuh"

/* The output tile and k range of one block (blockIdx.x); blockIdx.y walks the batches. */
struct xk_gemm_tile {
    int64_t m0, n0;     /* first row and column of the tile */
    int64_t k0, k1;     /* k range [k0, k1) */
    int split;          /* which split-K part */
};

/*
 * Grouped rasterization: consecutive blocks walk group_m tile rows down one tile column before
 * moving right, so the B panels they read stay in L2 across the group (the same idea as
 * CUTLASS's swizzled tile schedulers).
 */
XK_DEVICE xk_gemm_tile xk_gemm_tile_of(const xk_gemm_params_t &p, int64_t block, int bm, int bn) {
    int64_t tiles = (int64_t)p.tiles_m * p.tiles_n;
    int64_t t = block % tiles;
    xk_gemm_tile tile;
    tile.split = (int)(block / tiles);
    int64_t group = (int64_t)p.group_m * p.tiles_n;
    int64_t first_m = t / group * p.group_m;
    int64_t rows = xk_min64(p.tiles_m - first_m, p.group_m);
    int64_t tm = first_m + (t % group) % rows;
    int64_t tn = (t % group) / rows;
    tile.m0 = tm * bm;
    tile.n0 = tn * bn;
    tile.k0 = (int64_t)tile.split * p.k_per_split;
    tile.k1 = xk_min64(p.k, tile.k0 + p.k_per_split);
    return tile;
}

/*
 * Writes one accumulated value of output (row, col) of batch `batch`: alpha * acc + beta * C to C,
 * or acc to the f32 workspace when the GEMM is split along k. beta == 0 never reads C, so a NaN
 * left in C does not propagate (xhal.h).
 */
XK_DEVICE void xk_gemm_store(const xk_gemm_params_t &p, int64_t batch, int split, int64_t row,
                             int64_t col, float acc) {
    if (row >= p.m || col >= p.n) return;
    if (p.split_k > 1) {
        float *ws = reinterpret_cast<float *>(p.workspace);
        ws[((batch * p.split_k + split) * p.m + row) * p.n + col] = acc;
        return;
    }
    void *c = reinterpret_cast<void *>(p.c);
    int64_t index = batch * p.stride_c + row * p.ldc + col;
    float value = p.alpha * acc;
    if (p.beta != 0.0f) value += p.beta * xk_load(c, p.c_type, index);
    xk_store(c, p.c_type, index, value);
}

#endif /* XK_GEMM_COMMON_CUH */
