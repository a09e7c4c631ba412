/*
 * MFMA building blocks for CDNA (gfx908, gfx90a, gfx940/941/942, gfx950): the operand types, the
 * 32x32x8 multiply per element type and architecture, and the global -> register -> LDS moves
 * the GEMM and attention kernels share. Operand layouts: xk_mfma_layout.h.
 *
 * Everything here is compiled only where XK_HAVE_MFMA is defined; the host
 * (backends/hip/hip_plan.c, hip_arch_has_mfma) uses the same list of architectures, and the
 * fake-runtime test checks that every kernel the plan can name is in each code object.
 */
#ifndef XK_MFMA_CUH
#define XK_MFMA_CUH

#include "xk_compat.cuh"
#include "xk_hip_configs.h"
#include "xk_mfma_layout.h"

#if defined(__gfx908__) || defined(__gfx90a__) || defined(__gfx940__) || defined(__gfx941__) ||    \
    defined(__gfx942__) || defined(__gfx950__)
#define XK_HAVE_MFMA 1
#if !defined(__gfx908__)
#define XK_HAVE_MFMA_BF16_1K 1 /* gfx908 has only the 2-element bf16 forms */
#endif
#endif

#if defined(XK_HAVE_MFMA)

typedef float xk_f32x16 __attribute__((ext_vector_type(16)));
typedef short xk_s16x8 __attribute__((ext_vector_type(8))); /* one 16-byte load of 16-bit values */
typedef short xk_s16x4 __attribute__((ext_vector_type(4)));
typedef short xk_s16x2 __attribute__((ext_vector_type(2)));
typedef _Float16 xk_h16x4 __attribute__((ext_vector_type(4)));

/* acc += A B for one 32x32x8 step; a and b hold 4 elements of T each (xk_mfma_layout.h). */
template <typename T> XK_DEVICE xk_f32x16 xk_mfma32(xk_s16x4 a, xk_s16x4 b, xk_f32x16 acc);

template <> XK_DEVICE xk_f32x16 xk_mfma32<xk_f16>(xk_s16x4 a, xk_s16x4 b, xk_f32x16 acc) {
    return __builtin_amdgcn_mfma_f32_32x32x8f16(__builtin_bit_cast(xk_h16x4, a),
                                                __builtin_bit_cast(xk_h16x4, b), acc, 0, 0, 0);
}

template <> XK_DEVICE xk_f32x16 xk_mfma32<xk_bf16>(xk_s16x4 a, xk_s16x4 b, xk_f32x16 acc) {
#if defined(XK_HAVE_MFMA_BF16_1K)
    return __builtin_amdgcn_mfma_f32_32x32x8bf16_1k(a, b, acc, 0, 0, 0);
#else
    /* gfx908: two k4 steps of 2 elements each. Elements 0,1 then 2,3 of A and B go together,
     * so every k slot meets its partner (xk_mfma_layout.h: the k order is free). */
    acc = __builtin_amdgcn_mfma_f32_32x32x4bf16(a.xy, b.xy, acc, 0, 0, 0);
    return __builtin_amdgcn_mfma_f32_32x32x4bf16(a.zw, b.zw, acc, 0, 0, 0);
#endif
}

/* ---- Moving tiles: global -> registers -> LDS ---- */

/*
 * 8 consecutive 16-bit elements at src (16-byte aligned when `left` >= 8), zero where past the
 * end: `left` is how many of the 8 exist (<= 0: none).
 */
XK_DEVICE xk_s16x8 xk_load8(const void *src, int64_t left) {
    if (left >= 8) return *reinterpret_cast<const xk_s16x8 *>(src);
    xk_s16x8 v = xk_s16x8{};
    const short *s = reinterpret_cast<const short *>(src);
#pragma unroll
    for (int i = 0; i < 8; i++)
        if (i < left) v[i] = s[i];
    return v;
}

/*
 * Stores two chunks of 8 elements, rows r and r + 1 of a tile kept transposed in LDS (dst[c][r],
 * row stride `ld` elements): 8 32-bit words, each the pair (r, r + 1) of one column. Used for the
 * operands stored m- or n-contiguous in memory, whose LDS tile is k-contiguous, and for V.
 */
XK_DEVICE void xk_store_pair_transposed(unsigned short *dst, int ld, const xk_s16x8 &lo,
                                        const xk_s16x8 &hi) {
#pragma unroll
    for (int i = 0; i < 8; i++)
        *reinterpret_cast<unsigned *>(dst + i * ld) =
            (unsigned)(unsigned short)lo[i] | (unsigned)(unsigned short)hi[i] << 16;
}

/* The 8 elements at an LDS address (16-byte aligned) as the operands of steps 0 and 1. */
XK_DEVICE void xk_lds_read8(const unsigned short *src, xk_s16x4 &step0, xk_s16x4 &step1) {
    const xk_s16x8 v = *reinterpret_cast<const xk_s16x8 *>(src);
    step0 = v.lo;
    step1 = v.hi;
}

#endif /* XK_HAVE_MFMA */
#endif /* XK_MFMA_CUH */
