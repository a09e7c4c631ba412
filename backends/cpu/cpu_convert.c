/*
 * Element conversion between the storage dtypes and f32, the type all CPU math is done in.
 *
 * Ops convert a panel of their inputs to f32 scratch once and then run f32 loops over it, so
 * the dtype switch sits outside the inner loops. The 16-bit formats go through the core's
 * xhal_f16_to_f32 / xhal_f32_to_f16 / xhal_bf16_* (round to nearest even, NaN kept), so every
 * backend and the conformance reference round the same way.
 */
#include <string.h>

#include "cpu_internal.h"

void cpu_load_f32(float *dst, const void *src, xhal_dtype_t type, size_t count, int64_t stride) {
    switch (type) {
    case XHAL_DTYPE_F32: {
        const float *s = src;
        if (stride == 1) {
            memcpy(dst, s, count * sizeof(float));
        } else {
            for (size_t i = 0; i < count; i++)
                dst[i] = s[(int64_t)i * stride];
        }
        break;
    }
    case XHAL_DTYPE_F16: {
        const uint16_t *s = src;
        for (size_t i = 0; i < count; i++)
            dst[i] = xhal_f16_to_f32(s[(int64_t)i * stride]);
        break;
    }
    case XHAL_DTYPE_BF16: {
        const uint16_t *s = src;
        for (size_t i = 0; i < count; i++)
            dst[i] = xhal_bf16_to_f32(s[(int64_t)i * stride]);
        break;
    }
    default: /* the core accepts no other dtype */
        memset(dst, 0, count * sizeof(float));
        break;
    }
}

void cpu_store_f32(void *dst, const float *src, xhal_dtype_t type, size_t count) {
    switch (type) {
    case XHAL_DTYPE_F32:
        memcpy(dst, src, count * sizeof(float));
        break;
    case XHAL_DTYPE_F16: {
        uint16_t *d = dst;
        for (size_t i = 0; i < count; i++)
            d[i] = xhal_f32_to_f16(src[i]);
        break;
    }
    case XHAL_DTYPE_BF16: {
        uint16_t *d = dst;
        for (size_t i = 0; i < count; i++)
            d[i] = xhal_f32_to_bf16(src[i]);
        break;
    }
    default: /* the core accepts no other dtype */
        break;
    }
}
