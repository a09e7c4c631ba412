/*
 * f16/bf16 GEMM on tensor cores with mma.sync (sm_80 and newer), f32 accumulation.
 *
 * A block computes a BM x BN tile of C with (BM/WM) x (BN/WN) warps, each a WM x WN sub-tile as
 * (WM/16) x (WN/8) m16n8k16 tiles. k advances in steps of BK through a STAGES-deep ring of
 * shared-memory buffers filled with cp.async, so the loads of step k + STAGES - 1 fly while
 * step k is multiplied (the classic Ampere multistage pipeline).
 *
 * Transposes are compile-time: each operand tile is kept in shared memory in the orientation it
 * has in global memory (so every cp.async reads 16 contiguous bytes), and the fragment load
 * picks ldmatrix or ldmatrix.trans to present it to the mma in the layout it needs:
 *   A not transposed: tile [BM][BK], ldmatrix;      A transposed: tile [BK][BM], ldmatrix.trans
 *   B not transposed: tile [BK][BN], ldmatrix.trans; B transposed: tile [BN][BK], ldmatrix
 * Edges need no special case: cp.async zero-fills what lies past m, n or the k range. The host
 * sends a GEMM here only when every 16-byte chunk it copies is aligned (leading dimensions and
 * batch strides multiples of 8 elements, 16-byte aligned offsets); else the SIMT kernel runs.
 */
#ifndef XK_GEMM_MMA_CUH
#define XK_GEMM_MMA_CUH

#include "xk_gemm_common.cuh"
#include "xk_mma.cuh"

template <int BM, int BN, int BK, int WM, int WN, int STAGES, typename T, bool TA, bool TB>
struct xk_gemm_mma {
    static constexpr int WARPS_M = BM / WM, WARPS_N = BN / WN;
    static constexpr int THREADS = WARPS_M * WARPS_N * 32;
    static constexpr int MI = WM / 16, NI = WN / 8;
    static_assert(NI % 2 == 0, "B fragments are loaded two n8 tiles at a time");
    /* Tiles as stored: rows x chunks of 8 elements per row. */
    using TileA = xk_tile<TA ? BK : BM, (TA ? BM : BK) / 8>;
    using TileB = xk_tile<TB ? BN : BK, (TB ? BK : BN) / 8>;
    static constexpr int STAGE_ELEMENTS = TileA::elements + TileB::elements;
    static constexpr int SMEM_BYTES = STAGES * STAGE_ELEMENTS * 2;

    /* Enqueues the copies of the k step starting at k0 into stage buffers sa, sb. */
    static __device__ void load_stage(T *sa, T *sb, const T *a, const T *b,
                                      const xk_gemm_params_t &p, const xk_gemm_tile &tile,
                                      int64_t k0) {
        constexpr int A_CPR = (TA ? BM : BK) / 8, A_CHUNKS = (TA ? BK : BM) * A_CPR;
        for (int ch = threadIdx.x; ch < A_CHUNKS; ch += THREADS) {
            int row = ch / A_CPR, c = ch % A_CPR;
            int64_t outer = (TA ? k0 : tile.m0) + row;           /* row of A as stored */
            int64_t inner = (TA ? tile.m0 : k0) + c * 8;         /* first column of the chunk */
            int64_t outer_end = TA ? tile.k1 : p.m, inner_end = TA ? p.m : tile.k1;
            int64_t left = inner_end - inner;
            int bytes = (outer < outer_end && left > 0) ? (int)(left >= 8 ? 16 : left * 2) : 0;
            const T *src = bytes ? a + outer * p.lda + inner : a;
            xk_cp_async16(sa + TileA::offset(row, c * 8), src, bytes);
        }
        constexpr int B_CPR = (TB ? BK : BN) / 8, B_CHUNKS = (TB ? BN : BK) * B_CPR;
        for (int ch = threadIdx.x; ch < B_CHUNKS; ch += THREADS) {
            int row = ch / B_CPR, c = ch % B_CPR;
            int64_t outer = (TB ? tile.n0 : k0) + row;
            int64_t inner = (TB ? k0 : tile.n0) + c * 8;
            int64_t outer_end = TB ? p.n : tile.k1, inner_end = TB ? tile.k1 : p.n;
            int64_t left = inner_end - inner;
            int bytes = (outer < outer_end && left > 0) ? (int)(left >= 8 ? 16 : left * 2) : 0;
            const T *src = bytes ? b + outer * p.ldb + inner : b;
            xk_cp_async16(sb + TileB::offset(row, c * 8), src, bytes);
        }
    }

    /* acc += the BK-deep product of one stage. */
    static __device__ void compute_stage(float (&acc)[MI][NI][4], const T *sa, const T *sb,
                                         int wm0, int wn0) {
        const int lane = threadIdx.x % 32, li = lane / 8, lr = lane % 8;
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            uint32_t af[MI][4], bf[NI][2];
#pragma unroll
            for (int mi = 0; mi < MI; mi++) {
                int m = wm0 + mi * 16;
                if (!TA) /* rows m..m+15, k chunks kk/8 and kk/8 + 1 */
                    xk_ldmatrix_x4(af[mi], sa + TileA::offset(m + (lane & 15), kk + (lane / 16) * 8));
                else /* stored [k][m]: matrix li covers k + (li / 2) * 8, m + (li % 2) * 8 */
                    xk_ldmatrix_x4_trans(af[mi],
                                         sa + TileA::offset(kk + lr + (li / 2) * 8, m + (li % 2) * 8));
            }
#pragma unroll
            for (int ni = 0; ni < NI; ni += 2) {
                int n = wn0 + ni * 8;
                uint32_t r[4];
                if (!TB) /* stored [k][n]: matrix li covers k + (li % 2) * 8, n + (li / 2) * 8 */
                    xk_ldmatrix_x4_trans(r, sb + TileB::offset(kk + lr + (li % 2) * 8, n + (li / 2) * 8));
                else /* stored [n][k]: matrix li covers n + (li / 2) * 8, k + (li % 2) * 8 */
                    xk_ldmatrix_x4(r, sb + TileB::offset(n + lr + (li / 2) * 8, kk + (li % 2) * 8));
                bf[ni][0] = r[0];
                bf[ni][1] = r[1];
                bf[ni + 1][0] = r[2];
                bf[ni + 1][1] = r[3];
            }
#pragma unroll
            for (int mi = 0; mi < MI; mi++)
#pragma unroll
                for (int ni = 0; ni < NI; ni++) xk_mma16816<T>(acc[mi][ni], af[mi], bf[ni]);
        }
    }

    static __device__ void run(const xk_gemm_params_t &p) {
        extern __shared__ __align__(128) unsigned char xk_smem[];
        T *smem = reinterpret_cast<T *>(xk_smem);
        const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
        const int wm0 = (warp / WARPS_N) * WM, wn0 = (warp % WARPS_N) * WN;
        const xk_gemm_tile tile = xk_gemm_tile_of(p, blockIdx.x, BM, BN);
        const int64_t k_steps = (tile.k1 - tile.k0 + BK - 1) / BK;

        for (int64_t batch = blockIdx.y; batch < p.batch; batch += gridDim.y) {
            const T *a = reinterpret_cast<const T *>(p.a) + batch * p.stride_a;
            const T *b = reinterpret_cast<const T *>(p.b) + batch * p.stride_b;
            float acc[MI][NI][4] = {};

#pragma unroll
            for (int s = 0; s < STAGES - 1; s++) {
                if (s < k_steps)
                    load_stage(smem + s * STAGE_ELEMENTS, smem + s * STAGE_ELEMENTS + TileA::elements,
                               a, b, p, tile, tile.k0 + s * BK);
                xk_cp_async_commit(); /* empty groups keep the group count in step */
            }
            for (int64_t ks = 0; ks < k_steps; ks++) {
                /* Step ks has landed once at most STAGES - 2 younger groups are pending; the
                 * barrier also tells every thread that step ks - 1's buffer is free again. */
                xk_cp_async_wait<STAGES - 2>();
                __syncthreads();
                int64_t next = ks + STAGES - 1;
                if (next < k_steps) {
                    T *st = smem + (next % STAGES) * STAGE_ELEMENTS;
                    load_stage(st, st + TileA::elements, a, b, p, tile, tile.k0 + next * BK);
                }
                xk_cp_async_commit();
                const T *st = smem + (ks % STAGES) * STAGE_ELEMENTS;
                compute_stage(acc, st, st + TileA::elements, wm0, wn0);
            }
            xk_cp_async_wait<0>();
            __syncthreads(); /* the next batch refills the buffers */

            const int g = lane / 4, t = lane % 4;
#pragma unroll
            for (int mi = 0; mi < MI; mi++)
#pragma unroll
                for (int ni = 0; ni < NI; ni++) {
                    int64_t row = tile.m0 + wm0 + mi * 16 + g;
                    int64_t col = tile.n0 + wn0 + ni * 8 + 2 * t;
                    xk_gemm_store(p, batch, tile.split, row, col, acc[mi][ni][0]);
                    xk_gemm_store(p, batch, tile.split, row, col + 1, acc[mi][ni][1]);
                    xk_gemm_store(p, batch, tile.split, row + 8, col, acc[mi][ni][2]);
                    xk_gemm_store(p, batch, tile.split, row + 8, col + 1, acc[mi][ni][3]);
                }
        }
    }
};

#endif /* XK_GEMM_MMA_CUH */
