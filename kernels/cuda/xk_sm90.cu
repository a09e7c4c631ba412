/*
 * The Hopper-only translation unit (wgmma GEMM and attention), compiled for sm_90a alone into its own fatbin, which the
 * host loads only on devices of compute capability 9.0. Instantiated from xk_configs.h.
 */
#include "../gpu/xk_configs.h"
#include "xk_attention_sm90.cuh"
#include "xk_gemm_sm90.cuh"

#if defined(__CUDA_ARCH__) && !defined(__CUDA_ARCH_FEAT_SM90_ALL)
#error "kernels/cuda/xk_sm90.cu needs the sm_90a target (-gencode=arch=compute_90a,code=sm_90a)"
#endif

#define XK_SM90_ONE(name, BM, BN, BK, ST, tname, T, ta, tb, TA, TB)                               \
    XK_KERNEL void __launch_bounds__(XK_GEMM_SM90_THREADS, 1)                                      \
        xk_gemm_sm90_##name##_##tname##_##ta##tb(const __grid_constant__ CUtensorMap map_a,       \
                                                 const __grid_constant__ CUtensorMap map_b,       \
                                                 xk_gemm_params_t p) {                            \
        xk_gemm_sm90<BM, BN, BK, ST, T, TA, TB>::run(&map_a, &map_b, p);                           \
    }
#define XK_SM90_TYPE(name, BM, BN, BK, ST, tname, T)                                               \
    XK_SM90_ONE(name, BM, BN, BK, ST, tname, T, n, n, false, false)                                \
    XK_SM90_ONE(name, BM, BN, BK, ST, tname, T, n, t, false, true)                                 \
    XK_SM90_ONE(name, BM, BN, BK, ST, tname, T, t, n, true, false)                                 \
    XK_SM90_ONE(name, BM, BN, BK, ST, tname, T, t, t, true, true)
#define XK_SM90_CONFIG(name, BM, BN, BK, ST)                                                       \
    XK_SM90_TYPE(name, BM, BN, BK, ST, f16, xk_f16)                                                \
    XK_SM90_TYPE(name, BM, BN, BK, ST, bf16, xk_bf16)
XK_GEMM_SM90_CONFIGS(XK_SM90_CONFIG)

#define XK_ATTN_SM90_ONE(D, tname, T)                                                              \
    XK_KERNEL void __launch_bounds__(384, 1)                                                       \
        xk_attention_sm90_##tname##_d##D(const __grid_constant__ CUtensorMap map_q,               \
                                         const __grid_constant__ CUtensorMap map_k,               \
                                         const __grid_constant__ CUtensorMap map_v,               \
                                         xk_attention_params_t p) {                               \
        xk_attention_sm90<D, T>::run(&map_q, &map_k, &map_v, p);                                   \
    }
#define XK_ATTN_SM90_CONFIG(D) XK_ATTN_SM90_ONE(D, f16, xk_f16) XK_ATTN_SM90_ONE(D, bf16, xk_bf16)
XK_ATTENTION_SM90_CONFIGS(XK_ATTN_SM90_CONFIG)
