/* Element types: names, sizes, and exact f32 <-> f16/bf16 conversion with round-to-nearest-even. */
#include <string.h>

#include "core.h"

const char *xhal_dtype_name(xhal_dtype_t dtype) {
    switch (dtype) {
    case XHAL_DTYPE_F32:
        return "f32";
    case XHAL_DTYPE_F16:
        return "f16";
    case XHAL_DTYPE_BF16:
        return "bf16";
    case XHAL_DTYPE_COUNT:
        break;
    }
    return "invalid";
}

size_t xhal_dtype_size(xhal_dtype_t dtype) {
    switch (dtype) {
    case XHAL_DTYPE_F32:
        return 4;
    case XHAL_DTYPE_F16:
    case XHAL_DTYPE_BF16:
        return 2;
    case XHAL_DTYPE_COUNT:
        break;
    }
    return 0;
}

static uint32_t f32_bits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static float bits_f32(uint32_t bits) {
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

uint16_t xhal_f32_to_bf16(float value) {
    uint32_t bits = f32_bits(value);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x0040u); /* NaN */
    /* Adding 0x7fff plus the lowest kept bit rounds to nearest, ties to even. */
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

float xhal_bf16_to_f32(uint16_t value) {
    return bits_f32((uint32_t)value << 16);
}

uint16_t xhal_f32_to_f16(float value) {
    uint32_t bits = f32_bits(value);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    uint32_t abs = bits & 0x7fffffffu;
    if (abs > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);  /* NaN, kept quiet */
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds to >= 65520: Inf */
    if (abs < 0x38800000u) {
        /* Below the smallest normal f16 (2^-14): a subnormal, or zero. */
        if (abs < 0x33000000u) return sign; /* under half the smallest subnormal */
        uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - (abs >> 23); /* 14..24 */
        uint32_t kept = mantissa >> shift;
        uint32_t rest = mantissa & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rest > half || (rest == half && (kept & 1u))) kept++;
        return (uint16_t)(sign | kept);
    }
    /* Normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits. */
    uint32_t rebased = abs - 0x38000000u;
    rebased += 0xfffu + ((rebased >> 13) & 1u);
    return (uint16_t)(sign | (rebased >> 13));
}

float xhal_f16_to_f32(uint16_t value) {
    uint32_t sign = (uint32_t)(value & 0x8000u) << 16;
    uint32_t exponent = (value >> 10) & 0x1fu;
    uint32_t mantissa = value & 0x3ffu;
    if (exponent == 0x1f) return bits_f32(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {
        if (mantissa == 0) return bits_f32(sign);
        /* Subnormal: value = mantissa * 2^-24, exact in f32. */
        float magnitude = (float)mantissa * 5.9604644775390625e-8f;
        return sign ? -magnitude : magnitude;
    }
    return bits_f32(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}
