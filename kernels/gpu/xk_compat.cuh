/*
 * The small compat layer that lets kernels/gpu/ be shared by CUDA and (later) HIP: the spelling
 * of kernel qualifiers, 16-bit types, warp shuffles and conversions lives here, the logic in
 * the kernel headers. Only CUDA is built today; the HIP branch names what a port must map.
 */
#ifndef XK_COMPAT_CUH
#define XK_COMPAT_CUH

#include <stdint.h>

#if defined(__HIPCC__)
#include <hip/hip_bf16.h>
#include <hip/hip_fp16.h>
#include <hip/hip_runtime.h>
typedef __half xk_f16;
typedef __hip_bfloat16 xk_bf16;
#define XK_WARP 64 /* CDNA wavefronts: the mma-based kernels need their own tiling there */
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
typedef __half xk_f16;
typedef __nv_bfloat16 xk_bf16;
#define XK_WARP 32
#endif

/* Kernels have C names, so the host finds them with cuModuleGetFunction("xk_..."). */
#define XK_KERNEL extern "C" __global__
#define XK_DEVICE __device__ __forceinline__

#include "xk_params.h"

/* ---- Element access with a dtype known only at run time (simple and fallback kernels) ---- */

XK_DEVICE float xk_load(const void *base, int dtype, int64_t index) {
    if (dtype == XK_F32) return static_cast<const float *>(base)[index];
    if (dtype == XK_F16) return __half2float(static_cast<const xk_f16 *>(base)[index]);
    return __bfloat162float(static_cast<const xk_bf16 *>(base)[index]);
}

/* Round to nearest even, NaN stays NaN: the same rounding as xhal_f32_to_f16/_bf16. */
XK_DEVICE void xk_store(void *base, int dtype, int64_t index, float value) {
    if (dtype == XK_F32)
        static_cast<float *>(base)[index] = value;
    else if (dtype == XK_F16)
        static_cast<xk_f16 *>(base)[index] = __float2half_rn(value);
    else
        static_cast<xk_bf16 *>(base)[index] = __float2bfloat16_rn(value);
}

/* ---- 16-bit element types known at compile time (tensor-core kernels) ---- */

template <typename T> struct xk_type;
template <> struct xk_type<xk_f16> {
    static constexpr int code = XK_F16;
    static XK_DEVICE float to_float(xk_f16 x) { return __half2float(x); }
    /* Two floats packed as one 32-bit register of two elements, low half first. */
    static XK_DEVICE uint32_t pack2(float lo, float hi) {
        __half2 h = __floats2half2_rn(lo, hi);
        return *reinterpret_cast<uint32_t *>(&h);
    }
};
template <> struct xk_type<xk_bf16> {
    static constexpr int code = XK_BF16;
    static XK_DEVICE float to_float(xk_bf16 x) { return __bfloat162float(x); }
    static XK_DEVICE uint32_t pack2(float lo, float hi) {
        __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<uint32_t *>(&h);
    }
};

/* Eight 16-bit elements (one 16-byte load) to floats. */
template <typename T> XK_DEVICE void xk_unpack8(const uint4 &raw, float out[8]) {
    const T *e = reinterpret_cast<const T *>(&raw);
#pragma unroll
    for (int i = 0; i < 8; i++)
        out[i] = xk_type<T>::to_float(e[i]);
}

/* ---- Warp collectives ---- */

XK_DEVICE float xk_warp_sum(float x) {
#pragma unroll
    for (int o = XK_WARP / 2; o > 0; o >>= 1)
        x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

XK_DEVICE float xk_warp_max(float x) {
#pragma unroll
    for (int o = XK_WARP / 2; o > 0; o >>= 1)
        x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}

/* 2^x with the hardware's approximation: the softmax of the tensor-core paths runs on exp2. */
XK_DEVICE float xk_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

XK_DEVICE int64_t xk_min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

XK_DEVICE int64_t xk_max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

/* How many keys (a prefix of 0 .. seq_kv-1) query i sees: bottom-right causal alignment. */
XK_DEVICE int64_t xk_visible_keys(const xk_attention_params_t &p, int64_t i) {
    if (!p.causal) return p.seq_kv;
    return xk_max64(0, xk_min64(p.seq_kv, i + 1 + p.seq_kv - p.seq_q));
}

#endif /* XK_COMPAT_CUH */
