/*
 * The portable kernels, instantiated with their C names: the exact SIMT GEMM, the decode GEMVs,
 * the exact attention (every serving feature) and the split-KV combine, the LSE merge of two
 * partial attentions, and the split-K reduction. They use no
 * tensor-core instruction and only 32-lane group collectives (xk_compat.cuh), so the CUDA
 * module (kernels/gpu/xk_gpu.cu) and every HIP code object (kernels/hip/xk_hip.hip, for CDNA's
 * 64-lane wavefronts and RDNA's 32-lane ones alike) include this file once.
 */
#ifndef XK_PORTABLE_CUH
#define XK_PORTABLE_CUH

#include "xk_attention_merge.cuh"
#include "xk_attention_simple.cuh"
#include "xk_configs.h"
#include "xk_gemm_simt.cuh"
#include "xk_gemv.cuh"

/* ---- split-K: the last step of a GEMM split along k (tensor-core, SIMT and GEMV kernels) ---- */

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
#undef XK_GEMV_ONE

#endif /* XK_PORTABLE_CUH */
