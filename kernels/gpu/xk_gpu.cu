/*
 * The one translation unit of the portable GPU kernels: every kernel the host launches on any
 * architecture (sm_80, sm_89, sm_90a, and newer through PTX), instantiated from the lists of
 * xk_configs.h with C names ("xk_gemm_mma_128x128x32_bf16_nt") the host looks up.
 */
#include "xk_attention_fa2.cuh"
#include "xk_attention_merge.cuh"
#include "xk_attention_simple.cuh"
#include "xk_configs.h"
#include "xk_gemm_mma.cuh"
#include "xk_gemm_simt.cuh"
#include "xk_gemv.cuh"

/* ---- split-K: the last step of a GEMM split along k (mma, SIMT and GEMV kernels) ---- */

/* Finishes a split-K GEMM: C = alpha * sum over splits of the partials + beta * C. */
XK_KERNEL void __launch_bounds__(256) xk_gemm_splitk_reduce(xk_gemm_params_t p) {
    int64_t total = p.batch * p.m * p.n;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t col = i % p.n, row = i / p.n % p.m, batch = i / p.n / p.m;
        const float *ws = reinterpret_cast<const float *>(p.workspace);
        float sum = 0.0f;
        for (int s = 0; s < p.split_k; s++)
            sum += ws[((batch * p.split_k + s) * p.m + row) * p.n + col];
        void *c = reinterpret_cast<void *>(p.c);
        int64_t index = batch * p.stride_c + row * p.ldc + col;
        float value = p.alpha * sum;
        if (p.beta != 0.0f) value += p.beta * xk_load(c, p.c_type, index);
        xk_store(c, p.c_type, index, value);
    }
}

/* ---- mma.sync GEMM: each config x {f16, bf16} x {A, A^T} x {B, B^T} ---- */

#define XK_MMA_ONE(name, BM, BN, BK, WM, WN, ST, tname, T, ta, tb, TA, TB)                         \
    XK_KERNEL void __launch_bounds__(XK_GEMM_MMA_THREADS(BM, BN, WM, WN))                          \
        xk_gemm_mma_##name##_##tname##_##ta##tb(xk_gemm_params_t p) {                              \
        xk_gemm_mma<BM, BN, BK, WM, WN, ST, T, TA, TB>::run(p);                                    \
    }
#define XK_MMA_TYPE(name, BM, BN, BK, WM, WN, ST, tname, T)                                        \
    XK_MMA_ONE(name, BM, BN, BK, WM, WN, ST, tname, T, n, n, false, false)                         \
    XK_MMA_ONE(name, BM, BN, BK, WM, WN, ST, tname, T, n, t, false, true)                          \
    XK_MMA_ONE(name, BM, BN, BK, WM, WN, ST, tname, T, t, n, true, false)                          \
    XK_MMA_ONE(name, BM, BN, BK, WM, WN, ST, tname, T, t, t, true, true)
#define XK_MMA_CONFIG(name, BM, BN, BK, WM, WN, ST)                                                \
    XK_MMA_TYPE(name, BM, BN, BK, WM, WN, ST, f16, xk_f16)                                         \
    XK_MMA_TYPE(name, BM, BN, BK, WM, WN, ST, bf16, xk_bf16)
XK_GEMM_MMA_CONFIGS(XK_MMA_CONFIG)

/* ---- GEMV: {n, t} x {f16, bf16} x rows ---- */

#define XK_GEMV_ONE(MR)                                                                            \
    XK_KERNEL void __launch_bounds__(XK_GEMV_THREADS) xk_gemv_n_f16_##MR(xk_gemm_params_t p) {     \
        xk_gemv_n<xk_f16, MR>(p);                                                                  \
    }                                                                                              \
    XK_KERNEL void __launch_bounds__(XK_GEMV_THREADS) xk_gemv_n_bf16_##MR(xk_gemm_params_t p) {    \
        xk_gemv_n<xk_bf16, MR>(p);                                                                 \
    }                                                                                              \
    XK_KERNEL void __launch_bounds__(XK_GEMV_THREADS) xk_gemv_t_f16_##MR(xk_gemm_params_t p) {     \
        xk_gemv_t<xk_f16, MR>(p);                                                                  \
    }                                                                                              \
    XK_KERNEL void __launch_bounds__(XK_GEMV_THREADS) xk_gemv_t_bf16_##MR(xk_gemm_params_t p) {    \
        xk_gemv_t<xk_bf16, MR>(p);                                                                 \
    }
XK_GEMV_ROWS(XK_GEMV_ONE)

/* ---- FlashAttention-2 (prefill and split-KV decode): each head_dim x {f16, bf16} ---- */

#define XK_FA2_ONE(D, BN)                                                                          \
    XK_KERNEL void __launch_bounds__(128) xk_attention_fa2_f16_d##D(xk_attention_params_t p) {     \
        xk_attention_fa2<D, BN, xk_f16>::run(p);                                                   \
    }                                                                                              \
    XK_KERNEL void __launch_bounds__(128) xk_attention_fa2_bf16_d##D(xk_attention_params_t p) {    \
        xk_attention_fa2<D, BN, xk_bf16>::run(p);                                                  \
    }
XK_ATTENTION_FA2_CONFIGS(XK_FA2_ONE)
