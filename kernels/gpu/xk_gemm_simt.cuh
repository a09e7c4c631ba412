/*
 * The exact, general GEMM: plain f32 FMAs on CUDA cores. It runs every case the API allows
 * (any dtype of A, B and C, transposes, any leading dimension or alignment, strided batch), so
 * it is both the f32 path (no TF32 unless the caller allows it) and the fallback that keeps
 * `supports` honest when a fast kernel's conditions are not met.
 *
 * 64x64 tile of C per block of 256 threads, k in steps of 16 through shared memory as f32.
 * Thread (ty, tx) owns rows ty + 16 i and columns tx + 16 j (i, j < 4): strided rather than
 * blocked, so a warp's shared-memory reads are broadcasts or consecutive words (no conflicts)
 * and its stores to C are consecutive along a row.
 */
#ifndef XK_GEMM_SIMT_CUH
#define XK_GEMM_SIMT_CUH

#include "xk_gemm_common.cuh"

#define XK_SIMT_BM 64
#define XK_SIMT_BN 64
#define XK_SIMT_BK 16

XK_KERNEL void __launch_bounds__(256) xk_gemm_simt(xk_gemm_params_t p) {
    __shared__ float as[XK_SIMT_BK][XK_SIMT_BM + 4]; /* op(A) tile, k-major */
    __shared__ float bs[XK_SIMT_BK][XK_SIMT_BN + 4]; /* op(B) tile, k-major */
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
    const xk_gemm_tile tile = xk_gemm_tile_of(p, blockIdx.x, XK_SIMT_BM, XK_SIMT_BN);
    const void *a_base = reinterpret_cast<const void *>(p.a);
    const void *b_base = reinterpret_cast<const void *>(p.b);

    for (int64_t batch = blockIdx.y; batch < p.batch; batch += gridDim.y) {
        const int64_t a_batch = batch * p.stride_a, b_batch = batch * p.stride_b;
        float acc[4][4] = {};
        for (int64_t k0 = tile.k0; k0 < tile.k1; k0 += XK_SIMT_BK) {
            /* Each thread loads 4 elements of each tile; the mapping follows the operand's
             * contiguous dimension so that a warp's global loads are consecutive. */
#pragma unroll
            for (int u = 0; u < 4; u++) {
                int idx = tid + 256 * u;
                int r, kk;
                if (!p.trans_a) { r = idx / XK_SIMT_BK; kk = idx % XK_SIMT_BK; }
                else { kk = idx / XK_SIMT_BM; r = idx % XK_SIMT_BM; }
                int64_t gr = tile.m0 + r, gk = k0 + kk;
                float v = 0.0f;
                if (gr < p.m && gk < tile.k1)
                    v = xk_load(a_base, p.a_type,
                                a_batch + (p.trans_a ? gk * p.lda + gr : gr * p.lda + gk));
                as[kk][r] = v;

                int c;
                if (!p.trans_b) { kk = idx / XK_SIMT_BN; c = idx % XK_SIMT_BN; }
                else { c = idx / XK_SIMT_BK; kk = idx % XK_SIMT_BK; }
                int64_t gc = tile.n0 + c;
                gk = k0 + kk;
                v = 0.0f;
                if (gc < p.n && gk < tile.k1)
                    v = xk_load(b_base, p.b_type,
                                b_batch + (p.trans_b ? gc * p.ldb + gk : gk * p.ldb + gc));
                bs[kk][c] = v;
            }
            __syncthreads();
#pragma unroll
            for (int kk = 0; kk < XK_SIMT_BK; kk++) {
                float a[4], b[4];
#pragma unroll
                for (int i = 0; i < 4; i++) a[i] = as[kk][ty + 16 * i];
#pragma unroll
                for (int j = 0; j < 4; j++) b[j] = bs[kk][tx + 16 * j];
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
            }
            __syncthreads();
        }
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++)
                xk_gemm_store(p, batch, tile.split, tile.m0 + ty + 16 * i, tile.n0 + tx + 16 * j,
                              acc[i][j]);
    }
}

#endif /* XK_GEMM_SIMT_CUH */
