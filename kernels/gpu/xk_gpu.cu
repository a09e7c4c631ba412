/*
 * The one translation unit of the portable GPU kernels: every kernel the host launches on any
 * architecture (sm_80, sm_89, sm_90a, and newer through PTX), instantiated from the lists of
 * xk_configs.h with C names ("xk_gemm_mma_128x128x32_bf16_nt") the host looks up.
 */
#include "xk_attention_fa2.cuh"
#include "xk_configs.h"
#include "xk_gemm_mma.cuh"
#include "xk_portable.cuh" /* simt, gemv, simple, combine, merge, split-K reduce */

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

/* ---- FlashAttention-2 (prefill and split-KV decode): each head_dim x {f16, bf16} ---- */

#define XK_FA2_ONE(D, BN)                                                                          \
    XK_KERNEL void __launch_bounds__(128) xk_attention_fa2_f16_d##D(xk_attention_params_t p) {     \
        xk_attention_fa2<D, BN, xk_f16>::run(p);                                                   \
    }                                                                                              \
    XK_KERNEL void __launch_bounds__(128) xk_attention_fa2_bf16_d##D(xk_attention_params_t p) {    \
        xk_attention_fa2<D, BN, xk_bf16>::run(p);                                                  \
    }
XK_ATTENTION_FA2_CONFIGS(XK_FA2_ONE)
