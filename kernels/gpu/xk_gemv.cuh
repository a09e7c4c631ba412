/*
 * Decode GEMV: C (m x n) = alpha A (m x k) op(B) + beta C for m = 1..16, where the k x n
 * weight matrix B is read once, at memory speed; A is tiny and staged in shared memory as f32
 * (any A dtype), so each 16-byte load of B feeds MR x 8 FMAs from registers.
 *
 * Two layouts, because a weight matrix is stored either way:
 *   xk_gemv_n: B not transposed (k x n, n contiguous). A block owns 64 columns: 8 threads read
 *     one 128-byte row segment, 32 rows at a time; the 32 row groups are summed through shared
 *     memory at the end. k is split across blocks (grid.y) when the columns alone would not
 *     fill the GPU, with f32 partials finished by xk_gemm_splitk_reduce.
 *   xk_gemv_t: B transposed (n x k, k contiguous, as PyTorch stores Linear weights). A warp owns
 *     one output column and reads its row of B with 16-byte loads; a shuffle reduction ends it.
 * MR is the number of A rows handled per pass (a compile-time size for the accumulators).
 */
#ifndef XK_GEMV_CUH
#define XK_GEMV_CUH

#include "xk_gemm_common.cuh"

#define XK_GEMV_THREADS 256
#define XK_GEMV_N_COLS 64  /* columns per block of xk_gemv_n */
/* k values of A staged per round: 16 KiB of shared memory whatever MR is, so that with m = 1
 * a thread has many 16-byte loads of B in flight between two barriers. */
template <int MR> struct xk_gemv_kc {
    static constexpr int value = 4096 / MR;
};

/*
 * Stages A[0..m)[k0..k0+KC) as f32 (zeros past m and k1) in as[MR * KC]. With `interleave`,
 * element kk of a row is stored at (kk / 256) * 256 + (kk % 8) * 32 + (kk % 256) / 8: the
 * layout in which xk_gemv_t's lane l reads its 8 values j at consecutive words (no conflicts).
 */
template <int MR>
XK_DEVICE void xk_gemv_stage_a(float *as, const xk_gemm_params_t &p, int64_t batch, int64_t k0,
                               int64_t k1, bool interleave) {
    constexpr int KC = xk_gemv_kc<MR>::value;
    const void *a = reinterpret_cast<const void *>(p.a);
    for (int i = threadIdx.x; i < MR * KC; i += XK_GEMV_THREADS) {
        int r = i / KC, kk = i % KC;
        int64_t k = k0 + kk;
        float v = 0.0f;
        if (r < p.m && k < k1)
            v = xk_load(a, p.a_type,
                        batch * p.stride_a + (p.trans_a ? k * p.lda + r : r * p.lda + k));
        int pos = interleave ? (kk / 256) * 256 + (kk % 8) * 32 + (kk % 256) / 8 : kk;
        as[r * KC + pos] = v;
    }
}

template <typename T, int MR> XK_DEVICE void xk_gemv_n(const xk_gemm_params_t &p) {
    constexpr int KC = xk_gemv_kc<MR>::value;
    __shared__ float as[MR * KC];
    __shared__ float red[32][XK_GEMV_N_COLS + 1];
    const int tid = threadIdx.x, kr = tid / 8, cg = tid % 8;
    const int64_t col0 = blockIdx.x * (int64_t)XK_GEMV_N_COLS + cg * 8;
    const int split = blockIdx.y;
    const int64_t k0 = split * p.k_per_split, k1 = xk_min64(p.k, k0 + p.k_per_split);
    const bool full = col0 + 8 <= p.n;

    for (int64_t batch = blockIdx.z; batch < p.batch; batch += gridDim.z) {
        const T *b = reinterpret_cast<const T *>(p.b) + batch * p.stride_b;
        float acc[MR][8] = {};
        for (int64_t kc = k0; kc < k1; kc += KC) {
            __syncthreads();
            xk_gemv_stage_a<MR>(as, p, batch, kc, k1, false);
            __syncthreads();
            /* Unrolled so that 8 independent 16-byte loads are in flight per thread. */
#pragma unroll 8
            for (int kk = kr; kk < KC; kk += 32) {
                int64_t k = kc + kk;
                if (k >= k1) break;
                float w[8];
                if (full) {
                    uint4 raw = __ldg(reinterpret_cast<const uint4 *>(b + k * p.ldb + col0));
                    xk_unpack8<T>(raw, w);
                } else {
#pragma unroll
                    for (int j = 0; j < 8; j++)
                        w[j] = col0 + j < p.n ? xk_type<T>::to_float(b[k * p.ldb + col0 + j]) : 0.0f;
                }
#pragma unroll
                for (int r = 0; r < MR; r++) {
                    float x = as[r * KC + kk];
#pragma unroll
                    for (int j = 0; j < 8; j++) acc[r][j] = fmaf(x, w[j], acc[r][j]);
                }
            }
        }
        /* Sum the 32 row groups, one A row at a time. Unrolled, with a uniform test: a loop
         * bounded by p.m would index acc[r] at run time, which puts acc in local memory. */
#pragma unroll
        for (int r = 0; r < MR; r++) {
            if (r >= p.m) continue;
            __syncthreads();
#pragma unroll
            for (int j = 0; j < 8; j++) red[kr][cg * 8 + j] = acc[r][j];
            __syncthreads();
            if (tid < XK_GEMV_N_COLS) {
                float sum = 0.0f;
#pragma unroll 8
                for (int g = 0; g < 32; g++) sum += red[g][tid];
                xk_gemm_store(p, batch, split, r, blockIdx.x * (int64_t)XK_GEMV_N_COLS + tid, sum);
            }
        }
    }
}

template <typename T, int MR> XK_DEVICE void xk_gemv_t(const xk_gemm_params_t &p) {
    constexpr int WARPS = XK_GEMV_THREADS / 32, KC = xk_gemv_kc<MR>::value;
    __shared__ float as[MR * KC];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t col = blockIdx.x * (int64_t)WARPS + warp;

    for (int64_t batch = blockIdx.z; batch < p.batch; batch += gridDim.z) {
        const T *brow = reinterpret_cast<const T *>(p.b) + batch * p.stride_b +
                        xk_min64(col, p.n - 1) * p.ldb;
        float acc[MR] = {};
        for (int64_t kc = 0; kc < p.k; kc += KC) {
            __syncthreads();
            xk_gemv_stage_a<MR>(as, p, batch, kc, p.k, true);
            __syncthreads();
            /* A round of 256 k values is 32 lanes x 8 elements: one 16-byte load per lane. */
#pragma unroll
            for (int round = 0; round < KC / 256; round++) {
                int64_t k = kc + round * 256 + lane * 8;
                if (k >= p.k) break;
                float w[8];
                if (k + 8 <= p.k) {
                    uint4 raw = __ldg(reinterpret_cast<const uint4 *>(brow + k));
                    xk_unpack8<T>(raw, w);
                } else {
#pragma unroll
                    for (int j = 0; j < 8; j++)
                        w[j] = k + j < p.k ? xk_type<T>::to_float(brow[k + j]) : 0.0f;
                }
#pragma unroll
                for (int r = 0; r < MR; r++)
#pragma unroll
                    for (int j = 0; j < 8; j++)
                        acc[r] = fmaf(as[r * KC + round * 256 + j * 32 + lane], w[j], acc[r]);
            }
        }
#pragma unroll
        for (int r = 0; r < MR; r++) {
            float sum = xk_warp_sum(acc[r]);
            if (lane == 0 && col < p.n && r < p.m) xk_gemm_store(p, batch, 0, r, col, sum);
        }
    }
}

#endif /* XK_GEMV_CUH */
