/*
 * The one translation unit of the HIP code objects, compiled once per target (hipcc --genco at
 * build time, or hiprtc at run time for a target the build did not know): the portable kernels
 * of kernels/gpu/ for every target, and on CDNA (XK_HAVE_MFMA) the MFMA GEMM and attention
 * kernels, instantiated from the lists of xk_hip_configs.h with C names the host looks up
 * ("xk_gemm_mfma_128x128x32_bf16_nt", "xk_attention_mfma_prefill_f16_d128"). Each kernel
 * declares its LDS itself (see xk_gemm_mfma::run).
 */
#include "xk_attention_mfma.cuh"
#include "xk_gemm_mfma.cuh"
#include "xk_hip_configs.h"
#include "xk_portable.cuh" /* simt, gemv, simple, combine, merge, split-K reduce */

#if defined(XK_HAVE_MFMA)

/* ---- MFMA GEMM: each config x {f16, bf16} x {A, A^T} x {B, B^T} ---- */

#define XK_MFMA_GEMM_ONE(name, BM, BN, BK, WM, WN, tname, T, ta, tb, TA, TB)                       \
    XK_KERNEL void __launch_bounds__(XK_HIP_GEMM_THREADS(BM, BN, WM, WN))                          \
        xk_gemm_mfma_##name##_##tname##_##ta##tb(xk_gemm_params_t p) {                             \
        using K = xk_gemm_mfma<BM, BN, BK, WM, WN, T, TA, TB>;                                     \
        __shared__ __attribute__((aligned(16))) unsigned short lds[K::LDS_ELEMENTS];               \
        K::run(p, lds);                                                                            \
    }
#define XK_MFMA_GEMM_TYPE(name, BM, BN, BK, WM, WN, tname, T)                                      \
    XK_MFMA_GEMM_ONE(name, BM, BN, BK, WM, WN, tname, T, n, n, false, false)                       \
    XK_MFMA_GEMM_ONE(name, BM, BN, BK, WM, WN, tname, T, n, t, false, true)                        \
    XK_MFMA_GEMM_ONE(name, BM, BN, BK, WM, WN, tname, T, t, n, true, false)                        \
    XK_MFMA_GEMM_ONE(name, BM, BN, BK, WM, WN, tname, T, t, t, true, true)
#define XK_MFMA_GEMM_CONFIG(name, BM, BN, BK, WM, WN)                                              \
    XK_MFMA_GEMM_TYPE(name, BM, BN, BK, WM, WN, f16, xk_f16)                                       \
    XK_MFMA_GEMM_TYPE(name, BM, BN, BK, WM, WN, bf16, xk_bf16)
XK_HIP_GEMM_CONFIGS(XK_MFMA_GEMM_CONFIG)

/* ---- MFMA attention: prefill and split-KV decode, each head_dim x {f16, bf16} ---- */

/* Decode is memory-bound and has no LDS to limit it: ask for 2 wavefronts per SIMD (at most 256
 * of the unified 512 registers each) up to head_dim 128, where that fits without spilling (3
 * would spill). gfx908's MFMA accumulators live in a separate AGPR file, and 2 there spills. */
#if defined(__gfx908__)
#define XK_HIP_DECODE_WAVES(D) 1
#else
#define XK_HIP_DECODE_WAVES(D) ((D) <= 128 ? 2 : 1)
#endif

#define XK_MFMA_ATTENTION_TYPE(D, BN, tname, T)                                                    \
    XK_KERNEL void __launch_bounds__(XK_HIP_ATTENTION_THREADS)                                     \
        xk_attention_mfma_prefill_##tname##_d##D(xk_attention_params_t p) {                        \
        using K = xk_attention_mfma_prefill<D, BN, T>;                                             \
        __shared__ __attribute__((aligned(16))) unsigned short lds[K::LDS_ELEMENTS];               \
        K::run(p, lds);                                                                            \
    }                                                                                              \
    XK_KERNEL void __launch_bounds__(XK_HIP_ATTENTION_THREADS)                                     \
        __attribute__((amdgpu_waves_per_eu(XK_HIP_DECODE_WAVES(D))))                               \
        xk_attention_mfma_decode_##tname##_d##D(xk_attention_params_t p) {                         \
        xk_attention_mfma_decode<D, T>::run(p);                                                    \
    }
#define XK_MFMA_ATTENTION_CONFIG(D, BN)                                                            \
    XK_MFMA_ATTENTION_TYPE(D, BN, f16, xk_f16)                                                     \
    XK_MFMA_ATTENTION_TYPE(D, BN, bf16, xk_bf16)
XK_HIP_ATTENTION_CONFIGS(XK_MFMA_ATTENTION_CONFIG)

#endif /* XK_HAVE_MFMA */
