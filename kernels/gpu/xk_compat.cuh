/*
 * The small compat layer that lets kernels/gpu/ be shared by CUDA and HIP: the spelling of
 * kernel qualifiers, 16-bit types, warp shuffles and conversions lives here, the logic in the
 * kernel headers.
 *
 * Lanes: the kernels of kernels/gpu/ are written for logical warps of XK_GROUP = 32 lanes
 * (threadIdx.x / 32 is the warp). A CDNA/GCN wavefront has 64 lanes and so holds two of them:
 * every collective here (shuffles, sums, the warp barrier) works within one 32-lane group, never
 * across the wavefront, so the same kernel is right on 32- and 64-lane hardware. Kernels that
 * need the whole wavefront (the MFMA kernels of kernels/hip/) use XK_WAVE.
 *
 * The HIP branch is self-contained (no hip_fp16.h / hip_bf16.h, whose contents changed between
 * ROCm 5 and 6, and no system header under hiprtc, which has none): f16 is clang's _Float16 and
 * bf16 a 16-bit pattern converted here with the same rounding as the core.
 */
#ifndef XK_COMPAT_CUH
#define XK_COMPAT_CUH

#define XK_GROUP 32 /* lanes of a logical warp in kernels/gpu/ */

#if defined(__HIPCC__) || defined(__HIPCC_RTC__)
#define XK_HIP 1
#if !defined(__HIPCC_RTC__)
#include <hip/hip_runtime.h>
#include <stdint.h>
#endif
#ifndef INFINITY /* hiprtc has no <math.h> */
#define INFINITY __builtin_inff()
#endif
#define XK_WAVE __AMDGCN_WAVEFRONT_SIZE /* 64 on CDNA/GCN, 32 on RDNA (wave32) */
typedef _Float16 xk_f16;
struct xk_bf16 {
    unsigned short bits;
};
#else
#include <stdint.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
typedef __half xk_f16;
typedef __nv_bfloat16 xk_bf16;
#define XK_WAVE 32
#endif

/* Kernels have C names, so the host finds them with cuModuleGetFunction("xk_..."). */
#define XK_KERNEL extern "C" __global__
#define XK_DEVICE __device__ __forceinline__

#include "xk_params.h"

/* ---- Conversions: round to nearest even, NaN stays NaN (as xhal_f32_to_f16/_bf16) ---- */

#if defined(XK_HIP)
XK_DEVICE float xk_f16_to_float(xk_f16 x) {
    return (float)x;
}
XK_DEVICE xk_f16 xk_float_to_f16(float x) {
    return (xk_f16)x; /* IEEE conversion: nearest even */
}
XK_DEVICE float xk_bf16_to_float(xk_bf16 x) {
    return __builtin_bit_cast(float, (unsigned)x.bits << 16);
}
XK_DEVICE xk_bf16 xk_float_to_bf16(float x) {
    unsigned u = __builtin_bit_cast(unsigned, x);
    xk_bf16 r;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        r.bits = (unsigned short)((u >> 16) | 0x40u); /* NaN: keep it quiet */
        return r;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    r.bits = (unsigned short)(u >> 16);
    return r;
}
XK_DEVICE unsigned short xk_bits(xk_f16 x) {
    return __builtin_bit_cast(unsigned short, x);
}
XK_DEVICE unsigned short xk_bits(xk_bf16 x) {
    return x.bits;
}
#else
XK_DEVICE float xk_f16_to_float(xk_f16 x) {
    return __half2float(x);
}
XK_DEVICE xk_f16 xk_float_to_f16(float x) {
    return __float2half_rn(x);
}
XK_DEVICE float xk_bf16_to_float(xk_bf16 x) {
    return __bfloat162float(x);
}
XK_DEVICE xk_bf16 xk_float_to_bf16(float x) {
    return __float2bfloat16_rn(x);
}
#endif

/* ---- Element access with a dtype known only at run time (simple and fallback kernels) ---- */

XK_DEVICE float xk_load(const void *base, int dtype, int64_t index) {
    if (dtype == XK_F32) return static_cast<const float *>(base)[index];
    if (dtype == XK_F16) return xk_f16_to_float(static_cast<const xk_f16 *>(base)[index]);
    return xk_bf16_to_float(static_cast<const xk_bf16 *>(base)[index]);
}

XK_DEVICE void xk_store(void *base, int dtype, int64_t index, float value) {
    if (dtype == XK_F32)
        static_cast<float *>(base)[index] = value;
    else if (dtype == XK_F16)
        static_cast<xk_f16 *>(base)[index] = xk_float_to_f16(value);
    else
        static_cast<xk_bf16 *>(base)[index] = xk_float_to_bf16(value);
}

/* ---- 16-bit element types known at compile time (tensor-core kernels) ---- */

template <typename T> struct xk_type;
template <> struct xk_type<xk_f16> {
    static constexpr int code = XK_F16;
    static XK_DEVICE float to_float(xk_f16 x) {
        return xk_f16_to_float(x);
    }
    static XK_DEVICE xk_f16 from_float(float x) {
        return xk_float_to_f16(x);
    }
    /* Two floats packed as one 32-bit register of two elements, low half first. */
    static XK_DEVICE uint32_t pack2(float lo, float hi) {
#if defined(XK_HIP)
        return (uint32_t)xk_bits(xk_float_to_f16(lo)) | (uint32_t)xk_bits(xk_float_to_f16(hi))
                                                            << 16;
#else
        __half2 h = __floats2half2_rn(lo, hi);
        return *reinterpret_cast<uint32_t *>(&h);
#endif
    }
};
template <> struct xk_type<xk_bf16> {
    static constexpr int code = XK_BF16;
    static XK_DEVICE float to_float(xk_bf16 x) {
        return xk_bf16_to_float(x);
    }
    static XK_DEVICE xk_bf16 from_float(float x) {
        return xk_float_to_bf16(x);
    }
    static XK_DEVICE uint32_t pack2(float lo, float hi) {
#if defined(XK_HIP)
        return (uint32_t)xk_bits(xk_float_to_bf16(lo)) | (uint32_t)xk_bits(xk_float_to_bf16(hi))
                                                             << 16;
#else
        __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<uint32_t *>(&h);
#endif
    }
};

/* Eight 16-bit elements (one 16-byte load) to floats. */
template <typename T> XK_DEVICE void xk_unpack8(const uint4 &raw, float out[8]) {
    const T *e = reinterpret_cast<const T *>(&raw);
#pragma unroll
    for (int i = 0; i < 8; i++)
        out[i] = xk_type<T>::to_float(e[i]);
}

/* ---- Collectives of a 32-lane group (a logical warp; half a CDNA wavefront) ---- */

/* x of lane (lane ^ mask) of this thread's group. */
XK_DEVICE float xk_shfl_xor(float x, int mask) {
#if defined(XK_HIP)
    return __shfl_xor(x, mask, XK_GROUP);
#else
    return __shfl_xor_sync(0xffffffffu, x, mask);
#endif
}

/* x of lane `src` (0..31) of this thread's group. */
XK_DEVICE float xk_shfl(float x, int src) {
#if defined(XK_HIP)
    return __shfl(x, src, XK_GROUP);
#else
    return __shfl_sync(0xffffffffu, x, src);
#endif
}

/*
 * Orders the shared-memory accesses of the group: what a lane wrote before is visible to the
 * others after. On AMD the lanes of a wavefront run in lockstep, so a wavefront-scope fence and
 * a compiler barrier suffice (what __syncwarp is on ROCm 6).
 */
XK_DEVICE void xk_sync_group() {
#if defined(XK_HIP)
    __builtin_amdgcn_fence(__ATOMIC_RELEASE, "wavefront");
    __builtin_amdgcn_wave_barrier();
    __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, "wavefront");
#else
    __syncwarp();
#endif
}

XK_DEVICE float xk_warp_sum(float x) {
#pragma unroll
    for (int o = XK_GROUP / 2; o > 0; o >>= 1)
        x += xk_shfl_xor(x, o);
    return x;
}

XK_DEVICE float xk_warp_max(float x) {
#pragma unroll
    for (int o = XK_GROUP / 2; o > 0; o >>= 1)
        x = fmaxf(x, xk_shfl_xor(x, o));
    return x;
}

/* 2^x with the hardware's approximation: the softmax of the tensor-core paths runs on exp2. */
XK_DEVICE float xk_exp2(float x) {
#if defined(XK_HIP)
    return exp2f(x); /* v_exp_f32 */
#else
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
#endif
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
