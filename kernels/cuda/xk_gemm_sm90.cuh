/*
 * f16/bf16 GEMM for Hopper (sm_90a): TMA loads, wgmma, warp specialization, persistent tiles.
 *
 * A block of 3 warpgroups (384 threads) owns one SM (its shared memory holds STAGES stages of a
 * BM x BK tile of A and a BN x BK tile of B, 48 KiB each for 128 x 256 x 64) and walks the
 * output tiles blockIdx.x, blockIdx.x + gridDim.x, ... (all batches, grouped rasterization).
 *   - warpgroup 0, the producer, gives most of its registers away (setmaxnreg) and one of its
 *     threads issues the TMA copies: for each k block it waits until the stage is free (empty
 *     barrier), announces the bytes on the stage's full barrier and starts the copies.
 *   - warpgroups 1 and 2, the consumers, own rows 0-63 and 64-127 of the tile: per k block
 *     they wait for the full barrier, issue BK/16 wgmma m64n256k16 from shared memory, and
 *     free the stage of the previous k block once its wgmma have retired (wait_group 1), so one
 *     k block of tensor-core work is always queued behind the one running.
 * While the consumers write a tile's results from registers to C, the producer is already
 * filling the stages of their next tile.
 *
 * Layouts: an operand whose k dimension is contiguous in memory (A not transposed, B
 * transposed) is K-major: one TMA box of rows x 64 k. The other (A transposed, B not
 * transposed: row-major k x n weights) is MN-major: boxes of 64 k rows x 64 columns, one per
 * 64 columns of the tile, and wgmma reads it with its transpose bit set. Both use the 128-byte
 * swizzle. TMA zero-fills what lies past m, n and k, so any shape works; the epilogue masks the
 * stores. The host sends a GEMM here only when TMA can describe it: leading dimensions and
 * batch strides multiples of 8 elements, 16-byte aligned offsets, batches that do not overlap.
 */
#ifndef XK_GEMM_SM90_CUH
#define XK_GEMM_SM90_CUH

#include "../gpu/xk_gemm_common.cuh"
#include "xk_sm90.cuh"
#include "xk_wgmma_ops.cuh"

template <int BM, int BN, int BK, int STAGES, typename T, bool TA, bool TB> struct xk_gemm_sm90 {
    static_assert(BM == 128 && BN == 256 && BK == 64, "one wgmma m64n256k16 per consumer and k16");
    static constexpr int A_STAGE = BM * BK, B_STAGE = BN * BK; /* elements */
    static constexpr uint32_t STAGE_BYTES = (A_STAGE + B_STAGE) * 2;
    static constexpr int CONSUMER_WARPS = 8;

    /* The tile, batch and k range of persistent work item `t`. */
    static __device__ void tile_of(const xk_gemm_params_t &p, int64_t t, int64_t &batch,
                                   int &m0, int &n0) {
        int64_t per_batch = (int64_t)p.tiles_m * p.tiles_n;
        batch = t / per_batch;
        xk_gemm_tile tile = xk_gemm_tile_of(p, t % per_batch, BM, BN);
        m0 = (int)tile.m0;
        n0 = (int)tile.n0;
    }

    static __device__ void produce(const CUtensorMap *map_a, const CUtensorMap *map_b,
                                   const xk_gemm_params_t &p, T *sa, T *sb, uint64_t *full,
                                   uint64_t *empty) {
        const int64_t total = (int64_t)p.tiles_m * p.tiles_n * p.batch;
        const int k_blocks = (int)((p.k + BK - 1) / BK);
        uint32_t it = 0;
        for (int64_t t = blockIdx.x; t < total; t += gridDim.x) {
            int64_t batch;
            int m0, n0;
            tile_of(p, t, batch, m0, n0);
            const int ba = p.stride_a ? (int)batch : 0, bb = p.stride_b ? (int)batch : 0;
            for (int kb = 0; kb < k_blocks; kb++, it++) {
                const int s = it % STAGES;
                xk_mbar_wait(&empty[s], ((it / STAGES) & 1) ^ 1);
                xk_mbar_arrive_expect_tx(&full[s], STAGE_BYTES);
                T *a = sa + s * A_STAGE, *b = sb + s * B_STAGE;
                const int k0 = kb * BK;
                if (!TA) {
                    xk_tma_load_3d(a, map_a, k0, m0, ba, &full[s]);
                } else {
#pragma unroll
                    for (int j = 0; j < BM / 64; j++)
                        xk_tma_load_3d(a + j * 64 * BK, map_a, m0 + 64 * j, k0, ba, &full[s]);
                }
                if (TB) {
                    xk_tma_load_3d(b, map_b, k0, n0, bb, &full[s]);
                } else {
#pragma unroll
                    for (int j = 0; j < BN / 64; j++)
                        xk_tma_load_3d(b + j * 64 * BK, map_b, n0 + 64 * j, k0, bb, &full[s]);
                }
            }
        }
    }

    /* Descriptors of consumer c's A rows and of B, at k16 step ks of stage buffers a, b. */
    static __device__ uint64_t desc_a(const T *a, int c, int ks) {
        if (!TA) return xk_smem_desc(a + c * 64 * BK + ks * 16, 16, 1024);
        return xk_smem_desc(a + c * 64 * BK + ks * 16 * 64, BK * 128, 1024);
    }
    static __device__ uint64_t desc_b(const T *b, int ks) {
        if (TB) return xk_smem_desc(b + ks * 16, 16, 1024);
        return xk_smem_desc(b + ks * 16 * 64, BK * 128, 1024);
    }

    static __device__ void store(const xk_gemm_params_t &p, int64_t batch, int64_t row, int64_t col,
                                 float v0, float v1, bool pair_ok) {
        if (row >= p.m || col >= p.n) return;
        if (pair_ok && col + 1 < p.n && p.c_type != XK_F32 && p.beta == 0.0f) {
            int64_t index = batch * p.stride_c + row * p.ldc + col;
            *reinterpret_cast<uint32_t *>(reinterpret_cast<T *>(p.c) + index) =
                xk_type<T>::pack2(p.alpha * v0, p.alpha * v1);
            return;
        }
        if (pair_ok && col + 1 < p.n && p.c_type == XK_F32 && p.beta == 0.0f) {
            int64_t index = batch * p.stride_c + row * p.ldc + col;
            *reinterpret_cast<float2 *>(reinterpret_cast<float *>(p.c) + index) =
                make_float2(p.alpha * v0, p.alpha * v1);
            return;
        }
        xk_gemm_store(p, batch, 0, row, col, v0);
        xk_gemm_store(p, batch, 0, row, col + 1, v1);
    }

    static __device__ void consume(const xk_gemm_params_t &p, const T *sa, const T *sb,
                                   uint64_t *full, uint64_t *empty, int c) {
        const int64_t total = (int64_t)p.tiles_m * p.tiles_n * p.batch;
        const int k_blocks = (int)((p.k + BK - 1) / BK);
        const int warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
        /* Pairs of 16-bit or f32 results can be stored as one word when C's rows and batches
         * start on even elements (and C's own type matches T when it is 16-bit). */
        const bool pair_ok = (p.ldc % 2 == 0) && (p.stride_c % 2 == 0) &&
                             (p.c % 8 == 0) && (p.c_type == XK_F32 || p.c_type == xk_type<T>::code);
        uint32_t it = 0;
        float d[BN / 2];
        for (int64_t t = blockIdx.x; t < total; t += gridDim.x) {
            int64_t batch;
            int m0, n0;
            tile_of(p, t, batch, m0, n0);
            for (int kb = 0; kb < k_blocks; kb++, it++) {
                const int s = it % STAGES;
                xk_mbar_wait(&full[s], (it / STAGES) & 1);
                const T *a = sa + s * A_STAGE, *b = sb + s * B_STAGE;
                xk_wgmma_fence();
#pragma unroll
                for (int ks = 0; ks < BK / 16; ks++)
                    xk_wgmma_m64n256k16<T>::template run<TA ? 1 : 0, TB ? 0 : 1>(
                        d, desc_a(a, c, ks), desc_b(b, ks), (kb > 0 || ks > 0) ? 1 : 0);
                xk_wgmma_commit();
                if (kb > 0) {
                    /* The previous k block's wgmma have retired: its stage may be refilled. */
                    xk_wgmma_wait<1>();
                    xk_fence_regs(d);
                    if (lane == 0) xk_mbar_arrive(&empty[(it - 1) % STAGES]);
                }
            }
            xk_wgmma_wait<0>();
            xk_fence_regs(d);
            if (lane == 0) xk_mbar_arrive(&empty[(it - 1) % STAGES]);

            const int g = lane / 4, q = lane % 4;
            const int64_t row = (int64_t)m0 + c * 64 + warp * 16 + g;
#pragma unroll
            for (int j = 0; j < BN / 8; j++) {
                const int64_t col = (int64_t)n0 + j * 8 + 2 * q;
                store(p, batch, row, col, d[4 * j], d[4 * j + 1], pair_ok);
                store(p, batch, row + 8, col, d[4 * j + 2], d[4 * j + 3], pair_ok);
            }
        }
    }

    static __device__ void run(const CUtensorMap *map_a, const CUtensorMap *map_b,
                               const xk_gemm_params_t &p) {
        extern __shared__ __align__(128) unsigned char xk_smem_raw[];
        /* The 128-byte swizzle repeats every 1024 bytes: stage buffers start on that boundary. */
        unsigned char *base = reinterpret_cast<unsigned char *>(
            (reinterpret_cast<uintptr_t>(xk_smem_raw) + 1023) & ~uintptr_t(1023));
        T *sa = reinterpret_cast<T *>(base);
        T *sb = sa + STAGES * A_STAGE;
        uint64_t *full = reinterpret_cast<uint64_t *>(sb + STAGES * B_STAGE);
        uint64_t *empty = full + STAGES;
        const int wg = threadIdx.x / 128;

        if (threadIdx.x == 0) {
            xk_tma_prefetch_desc(map_a);
            xk_tma_prefetch_desc(map_b);
            for (int s = 0; s < STAGES; s++) {
                xk_mbar_init(&full[s], 1);                 /* the producer's arrive + bytes */
                xk_mbar_init(&empty[s], CONSUMER_WARPS);   /* one arrive per consumer warp */
            }
            xk_mbar_fence_init();
        }
        __syncthreads();

        if (wg == 0) {
            xk_setmaxnreg_dec<40>();
            if (threadIdx.x == 0) produce(map_a, map_b, p, sa, sb, full, empty);
        } else {
            xk_setmaxnreg_inc<232>();
            consume(p, sa, sb, full, empty, wg - 1);
        }
    }
};

#endif /* XK_GEMM_SM90_CUH */
