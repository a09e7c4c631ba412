/*
 * f16/bf16 GEMM on CDNA matrix cores (MFMA 32x32x8), f32 accumulation.
 *
 * A block computes a BM x BN tile of C with (BM/WM) x (BN/WN) wavefronts of 64 lanes, each a
 * WM x WN sub-tile as (WM/32) x (WN/32) MFMA blocks of 16 accumulator registers. k advances BK at
 * a time through two LDS buffers: while the wavefronts multiply the tile in one buffer, the next
 * tile's global loads are in flight into registers, and are written to the other buffer after the
 * multiply, so one barrier per k step orders everything (a buffer is rewritten only after the
 * barrier that ends the step that read it).
 *
 * Both operands are kept k-contiguous in LDS ([rows][BK + pad]), the layout the MFMA operands
 * want: a lane reads its 8 consecutive k of one row with one 16-byte ds_read (xk_mfma_layout.h,
 * the chunk order). An operand stored k-contiguous in memory (A, or B transposed: the
 * linear-layer case) is copied as it is; one stored m- or n-contiguous (A transposed, B) is read
 * as 16-byte rows along m or n, two k rows per thread, and written transposed as 32-bit (k, k + 1)
 * pairs. Edges are zero-filled at the load. The host sends a case here only when every 16-byte
 * chunk it reads is aligned (leading dimensions and batch strides multiples of 8 elements,
 * 16-byte aligned offsets); else the SIMT kernel runs.
 */
#ifndef XK_GEMM_MFMA_CUH
#define XK_GEMM_MFMA_CUH

#include "xk_gemm_common.cuh"
#include "xk_mfma.cuh"

#if defined(XK_HAVE_MFMA)

/*
 * One operand's BK-deep tile of ROWS rows (m for A, n for B) on its way to LDS [ROWS][BK + PAD].
 * KMAJOR: k is contiguous in memory (units: one 8-element chunk of a row); else ROWS is (units:
 * the same 8-element chunk of two consecutive k rows).
 */
template <typename T, int ROWS, int BK, int THREADS, bool KMAJOR, int PAD = XK_HIP_LDS_PAD>
struct xk_mfma_tile_loader {
    static constexpr int LD = BK + PAD;
    static constexpr int UNITS = KMAJOR ? ROWS * (BK / 8) : (BK / 2) * (ROWS / 8);
    static constexpr int PER_THREAD = (UNITS + THREADS - 1) / THREADS;
    static constexpr int CHUNKS = KMAJOR ? 1 : 2;
    xk_s16x8 reg[PER_THREAD][CHUNKS];

    /* Rows row0.. (< rows_end) and k0.. (< k_end) of the operand whose element (0, 0) is `base`;
     * ld is its leading dimension (along k when KMAJOR, else along the rows). */
    __device__ void load(const T *base, int64_t ld, int64_t row0, int64_t rows_end, int64_t k0,
                         int64_t k_end) {
#pragma unroll
        for (int u = 0; u < PER_THREAD; u++) {
            const int unit = threadIdx.x + u * THREADS;
            if (UNITS % THREADS != 0 && unit >= UNITS) break;
            if constexpr (KMAJOR) {
                const int row = unit / (BK / 8), c = unit % (BK / 8);
                const int64_t r = row0 + row, k = k0 + c * 8;
                const int64_t left = r < rows_end ? k_end - k : 0;
                reg[u][0] = xk_load8(left > 0 ? base + r * ld + k : base, left);
            } else {
                const int kp = unit / (ROWS / 8), c = unit % (ROWS / 8);
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    const int64_t k = k0 + 2 * kp + j, col = row0 + c * 8;
                    const int64_t left = k < k_end ? rows_end - col : 0;
                    reg[u][j] = xk_load8(left > 0 ? base + k * ld + col : base, left);
                }
            }
        }
    }

    __device__ void store(unsigned short *lds) const {
#pragma unroll
        for (int u = 0; u < PER_THREAD; u++) {
            const int unit = threadIdx.x + u * THREADS;
            if (UNITS % THREADS != 0 && unit >= UNITS) break;
            if constexpr (KMAJOR) {
                const int row = unit / (BK / 8), c = unit % (BK / 8);
                *reinterpret_cast<xk_s16x8 *>(lds + row * LD + c * 8) = reg[u][0];
            } else {
                const int kp = unit / (ROWS / 8), c = unit % (ROWS / 8);
                xk_store_pair_transposed(lds + c * 8 * LD + 2 * kp, LD, reg[u][0], reg[u][1]);
            }
        }
    }
};

template <int BM, int BN, int BK, int WM, int WN, typename T, bool TA, bool TB>
struct xk_gemm_mfma {
    static constexpr int WAVES_N = BN / WN;
    static constexpr int THREADS = XK_HIP_GEMM_THREADS(BM, BN, WM, WN);
    static constexpr int MI = WM / 32, NI = WN / 32, LD = BK + XK_HIP_LDS_PAD;
    static constexpr int STAGE = (BM + BN) * LD; /* elements of one LDS buffer: A, then B */
    static constexpr int LDS_ELEMENTS = 2 * STAGE;
    static_assert(BK % 16 == 0 && WM % 32 == 0 && WN % 32 == 0, "tile shape");
    using LoaderA = xk_mfma_tile_loader<T, BM, BK, THREADS, !TA>;
    using LoaderB = xk_mfma_tile_loader<T, BN, BK, THREADS, TB>;

    /* acc += the BK-deep product of the tiles in `stage` for this wavefront's sub-tile. */
    static XK_DEVICE void multiply(xk_f32x16 (&acc)[MI][NI], const unsigned short *stage, int wm0,
                                   int wn0, int lane) {
        const unsigned short *as = stage, *bs = stage + BM * LD;
        const int row = xk_mfma_lane_row(lane), k_lane = xk_mfma_chunk_k(lane, 0, 0);
#pragma unroll
        for (int c = 0; c < BK / 16; c++) {
            xk_s16x4 a[MI][2], b[NI][2];
#pragma unroll
            for (int mi = 0; mi < MI; mi++)
                xk_lds_read8(as + (wm0 + mi * 32 + row) * LD + c * 16 + k_lane, a[mi][0], a[mi][1]);
#pragma unroll
            for (int ni = 0; ni < NI; ni++)
                xk_lds_read8(bs + (wn0 + ni * 32 + row) * LD + c * 16 + k_lane, b[ni][0], b[ni][1]);
#pragma unroll
            for (int s = 0; s < 2; s++)
#pragma unroll
                for (int mi = 0; mi < MI; mi++)
#pragma unroll
                    for (int ni = 0; ni < NI; ni++)
                        acc[mi][ni] = xk_mfma32<T>(a[mi][s], b[ni][s], acc[mi][ni]);
        }
    }

    /* lds: LDS_ELEMENTS, declared by the kernel itself (hiprtc's LDS lowering gives every
     * kernel of the module the sum of the LDS a non-kernel function declares). */
    static XK_DEVICE void run(const xk_gemm_params_t &p, unsigned short *lds) {
        const int wave = threadIdx.x / XK_HIP_WAVE, lane = threadIdx.x % XK_HIP_WAVE;
        const int wm0 = (wave / WAVES_N) * WM, wn0 = (wave % WAVES_N) * WN;
        const xk_gemm_tile tile = xk_gemm_tile_of(p, blockIdx.x, BM, BN);
        const int64_t k_steps = (tile.k1 - tile.k0 + BK - 1) / BK;

        for (int64_t batch = blockIdx.y; batch < p.batch; batch += gridDim.y) {
            const T *a = reinterpret_cast<const T *>(p.a) + batch * p.stride_a;
            const T *b = reinterpret_cast<const T *>(p.b) + batch * p.stride_b;
            LoaderA la;
            LoaderB lb;
            xk_f32x16 acc[MI][NI];
#pragma unroll
            for (int mi = 0; mi < MI; mi++)
#pragma unroll
                for (int ni = 0; ni < NI; ni++)
                    acc[mi][ni] = xk_f32x16{};
            if (k_steps > 0) {
                la.load(a, p.lda, tile.m0, p.m, tile.k0, tile.k1);
                lb.load(b, p.ldb, tile.n0, p.n, tile.k0, tile.k1);
                la.store(lds);
                lb.store(lds + BM * LD);
                __syncthreads();
            }
            for (int64_t ks = 0; ks < k_steps; ks++) {
                const bool more = ks + 1 < k_steps;
                if (more) { /* in flight during the multiply */
                    const int64_t k0 = tile.k0 + (ks + 1) * BK;
                    la.load(a, p.lda, tile.m0, p.m, k0, tile.k1);
                    lb.load(b, p.ldb, tile.n0, p.n, k0, tile.k1);
                }
                multiply(acc, lds + (ks & 1) * STAGE, wm0, wn0, lane);
                if (more) {
                    unsigned short *next = lds + ((ks + 1) & 1) * STAGE;
                    la.store(next);
                    lb.store(next + BM * LD);
                }
                __syncthreads();
            }

            const int col = xk_mfma_lane_row(lane);
#pragma unroll
            for (int mi = 0; mi < MI; mi++)
#pragma unroll
                for (int ni = 0; ni < NI; ni++)
#pragma unroll
                    for (int r = 0; r < XK_MFMA_REGS; r++)
                        xk_gemm_store(p, batch, tile.split,
                                      tile.m0 + wm0 + mi * 32 + xk_mfma_acc_row(lane, r),
                                      tile.n0 + wn0 + ni * 32 + col, acc[mi][ni][r]);
        }
    }
};

#endif /* XK_HAVE_MFMA */
#endif /* XK_GEMM_MFMA_CUH */
