/*
 * Weight quantization on the host: the layouts of xhal_quant_t made from f32 weights, and back.
 *
 * This is the reference every backend's dequantization is judged against (conformance computes
 * its fp64 GEMM on what xhal_dequantize_weights returns), so it is written for a reader: one
 * scale rule, one rounding rule (nearest, ties to even, of w / s computed in double), and an FP8
 * encoder that rounds exactly from the double quotient and saturates to the largest finite value
 * (the OCP spec's saturating conversion), so no weight ever becomes Inf or NaN.
 */
#include <math.h>
#include <string.h>

#include "core.h"

/* Rounds to the nearest integer, ties to even, whatever the FP environment's rounding mode. */
static double round_even(double x) {
    double r = floor(x + 0.5);
    if (r - x == 0.5 && fmod(r, 2.0) != 0) r -= 1.0;
    return r;
}

#define QUANTIZE_DESC_MIN_SIZE XHAL_SIZE_THROUGH(xhal_quantize_desc_t, zero_points)

static const char *format_name(xhal_quant_t format) {
    switch (format) {
    case XHAL_QUANT_INT8:
        return "INT8";
    case XHAL_QUANT_INT4:
        return "INT4";
    case XHAL_QUANT_FP8_E4M3:
        return "FP8_E4M3";
    case XHAL_QUANT_FP8_E5M2:
        return "FP8_E5M2";
    default:
        return "NONE";
    }
}

static const char *mode_name(xhal_scale_mode_t mode) {
    switch (mode) {
    case XHAL_SCALE_PER_CHANNEL:
        return "PER_CHANNEL";
    case XHAL_SCALE_PER_TENSOR:
        return "PER_TENSOR";
    case XHAL_SCALE_PER_GROUP:
        return "PER_GROUP";
    }
    return "invalid";
}

/* ---- FP8 (OCP 8-bit floating point: E4M3 and E5M2) ---- */

typedef struct fp8_format {
    int mantissa_bits, bias;
    double max; /* largest finite magnitude */
} fp8_format_t;

static const fp8_format_t e4m3 = {3, 7, 448.0};
static const fp8_format_t e5m2 = {2, 15, 57344.0};

/* Encodes a finite value: round to nearest even on the format's grid, saturate to +-max. */
static uint8_t fp8_encode(double x, const fp8_format_t *f) {
    uint8_t sign = signbit(x) ? 0x80u : 0u;
    double a = fabs(x);
    int min_exponent = 1 - f->bias; /* of the smallest normal */
    int exponent;
    frexp(a, &exponent); /* a = fraction * 2^exponent, fraction in [0.5, 1) */
    exponent -= 1;       /* a = 1.x * 2^exponent */
    if (a == 0 || exponent < min_exponent) exponent = min_exponent;
    /* The spacing of representable values around a; a / step is exact in double. */
    double step = ldexp(1.0, exponent - f->mantissa_bits);
    double q = round_even(a / step) * step;
    if (q > f->max) q = f->max;
    if (q == 0) return sign;
    frexp(q, &exponent);
    exponent -= 1;               /* rounding up may have carried into the next binade */
    if (exponent < min_exponent) /* subnormal: exponent field 0 */
        return (uint8_t)(sign | (uint8_t)(q / ldexp(1.0, min_exponent - f->mantissa_bits)));
    int mantissa = (int)(ldexp(q, f->mantissa_bits - exponent)) - (1 << f->mantissa_bits);
    return (uint8_t)(sign | (exponent + f->bias) << f->mantissa_bits | mantissa);
}

/* Decodes every byte, NaN and infinity encodings included. */
static float fp8_decode(uint8_t bits, const fp8_format_t *f) {
    int exponent_field = (bits & 0x7f) >> f->mantissa_bits;
    int mantissa = bits & ((1 << f->mantissa_bits) - 1);
    int top = (1 << (7 - f->mantissa_bits)) - 1; /* the all-ones exponent field */
    float value;
    if (f->mantissa_bits == 3 && exponent_field == top && mantissa == 7) {
        value = NAN; /* E4M3 has no infinities: S.1111.111 alone is NaN */
    } else if (f->mantissa_bits == 2 && exponent_field == top) {
        value = mantissa ? NAN : INFINITY;
    } else if (exponent_field == 0) {
        value = (float)ldexp(mantissa, 1 - f->bias - f->mantissa_bits);
    } else {
        value = (float)ldexp(mantissa + (1 << f->mantissa_bits),
                             exponent_field - f->bias - f->mantissa_bits);
    }
    return bits & 0x80 ? -value : value;
}

/* ---- Descriptions ---- */

/* The checked description, and what follows from it. */
typedef struct plan {
    xhal_quantize_desc_t d;
    int64_t groups;     /* scales per row: 1 (per tensor/channel) or ceil(k / group_size) */
    int64_t group_size; /* k steps each scale covers within a row */
    int64_t scales;     /* scale values in all */
    int64_t ldb;
    uint64_t weight_bytes;
} plan_t;

static xhal_status_t plan_of(const char *fn, const xhal_quantize_desc_t *desc, plan_t *out) {
    CHECK(xhal_copy_versioned(fn, "desc", desc, QUANTIZE_DESC_MIN_SIZE, sizeof out->d, &out->d));
    const xhal_quantize_desc_t *d = &out->d;
    if (d->format <= XHAL_QUANT_NONE || d->format >= XHAL_QUANT_COUNT)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: format (%d) is not a quantized xhal_quant_t (INT8, INT4, "
                              "FP8_E4M3 or FP8_E5M2)",
                              fn, (int)d->format);
    CHECK(xhal_check_at_least(fn, "n", d->n, 1));
    CHECK(xhal_check_at_least(fn, "k", d->k, 1));
    CHECK(xhal_check_quant_mode(fn, "scale_mode", d->format, d->scale_mode));
    CHECK(xhal_check_dtype(fn, "scale_type", d->scale_type));
    if (d->scale_mode == XHAL_SCALE_PER_GROUP)
        CHECK(xhal_check_group_size(fn, "group_size", d->group_size));
    if (d->zero_points != 0 && d->zero_points != 1)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: zero_points (%d) must be 0 or 1", fn,
                              d->zero_points);
    if (d->zero_points && d->format != XHAL_QUANT_INT4)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: zero_points (1) is for INT4 only, not %s",
                              fn, format_name(d->format));
    out->group_size = d->scale_mode == XHAL_SCALE_PER_GROUP ? d->group_size : d->k;
    out->groups = (d->k + out->group_size - 1) / out->group_size;
    out->scales = d->scale_mode == XHAL_SCALE_PER_TENSOR ? 1 : d->n * out->groups;
    out->ldb = d->format == XHAL_QUANT_INT4 ? (d->k + 1) / 2 * 2 : d->k;
    uint64_t elements;
    if (!xhal_mul_u64((uint64_t)d->n, (uint64_t)out->ldb, &elements) ||
        elements > (uint64_t)INT64_MAX / 8)
        return xhal_set_error(XHAL_OUT_OF_RANGE, "%s: n (%lld) x k (%lld) is too large", fn,
                              (long long)d->n, (long long)d->k);
    out->weight_bytes = d->format == XHAL_QUANT_INT4 ? elements / 2 : elements;
    return XHAL_OK;
}

xhal_status_t xhal_quantize_sizes(const xhal_quantize_desc_t *desc, uint64_t *out_weight_bytes,
                                  uint64_t *out_scale_bytes, uint64_t *out_zero_bytes,
                                  int64_t *out_ldb) {
    static const char fn[] = "xhal_quantize_sizes";
    plan_t p;
    CHECK(plan_of(fn, desc, &p));
    CHECK(xhal_check_not_null(fn, "out_weight_bytes", out_weight_bytes));
    CHECK(xhal_check_not_null(fn, "out_scale_bytes", out_scale_bytes));
    CHECK(xhal_check_not_null(fn, "out_zero_bytes", out_zero_bytes));
    CHECK(xhal_check_not_null(fn, "out_ldb", out_ldb));
    *out_weight_bytes = p.weight_bytes;
    *out_scale_bytes = (uint64_t)p.scales * xhal_dtype_size(p.d.scale_type);
    *out_zero_bytes = p.d.zero_points ? (uint64_t)p.scales : 0;
    *out_ldb = p.ldb;
    return XHAL_OK;
}

/* ---- Scales ---- */

static float scale_load(const void *scales, xhal_dtype_t type, int64_t index) {
    if (type == XHAL_DTYPE_F32) return ((const float *)scales)[index];
    uint16_t h = ((const uint16_t *)scales)[index];
    return type == XHAL_DTYPE_F16 ? xhal_f16_to_f32(h) : xhal_bf16_to_f32(h);
}

/* Stores `value` rounded to the scale type and returns what was stored, as f32. */
static float scale_store(void *scales, xhal_dtype_t type, int64_t index, float value) {
    if (type == XHAL_DTYPE_F32) {
        ((float *)scales)[index] = value;
        return value;
    }
    uint16_t h = type == XHAL_DTYPE_F16 ? xhal_f32_to_f16(value) : xhal_f32_to_bf16(value);
    ((uint16_t *)scales)[index] = h;
    return scale_load(scales, type, index);
}

/* The largest value of the format's integer or FP8 grid a scale maps the largest weight to. */
static float format_max(xhal_quant_t format) {
    switch (format) {
    case XHAL_QUANT_INT8:
        return 127.0f;
    case XHAL_QUANT_INT4:
        return 7.0f;
    case XHAL_QUANT_FP8_E4M3:
        return 448.0f;
    default:
        return 57344.0f;
    }
}

/* ---- Elements ---- */

static void put_nibble(uint8_t *bytes, int64_t index, unsigned value) {
    uint8_t *byte = &bytes[index / 2];
    if (index % 2)
        *byte = (uint8_t)((*byte & 0x0fu) | value << 4);
    else
        *byte = (uint8_t)((*byte & 0xf0u) | value);
}

static unsigned get_nibble(const uint8_t *bytes, int64_t index) {
    return index % 2 ? bytes[index / 2] >> 4 : bytes[index / 2] & 0x0fu;
}

static double clamp(double x, double lo, double hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

/* Quantizes one scale's elements (row j, k steps [p0, p1)); the scale and zero point are set. */
static xhal_status_t quantize_group(const char *fn, const plan_t *p, const float *w, int64_t ldw,
                                    int64_t j, int64_t p0, int64_t p1, int64_t index,
                                    uint8_t *out_weights, void *out_scales, uint8_t *out_zeros,
                                    float given_scale) {
    const xhal_quantize_desc_t *d = &p->d;
    const float *row = w + j * ldw;
    float lo = 0, hi = 0, amax = 0;
    for (int64_t q = p0; q < p1; q++) {
        lo = row[q] < lo ? row[q] : lo;
        hi = row[q] > hi ? row[q] : hi;
    }
    amax = -lo > hi ? -lo : hi;
    float scale = given_scale;
    unsigned zero = d->format == XHAL_QUANT_INT4 ? 8u : 0u;
    if (scale < 0) { /* not per tensor: this group's own scale */
        float wanted = d->zero_points ? (hi - lo) / 15.0f : amax / format_max(d->format);
        scale = scale_store(out_scales, d->scale_type, index, wanted);
        if (isinf(scale) || (scale == 0 && wanted != 0))
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: the weights of row %lld, columns %lld..%lld need a scale "
                                  "(%g) outside the range of scale_type %s: use f32 scales",
                                  fn, (long long)j, (long long)p0, (long long)(p1 - 1),
                                  (double)wanted, xhal_dtype_name(d->scale_type));
        if (d->zero_points) {
            zero = scale > 0 ? (unsigned)clamp(round_even(-(double)lo / scale), 0, 15) : 0u;
            out_zeros[index] = (uint8_t)zero;
        }
    }
    for (int64_t q = p0; q < p1; q++) {
        double x = scale != 0 ? (double)row[q] / scale : 0.0;
        int64_t e = j * p->ldb + q;
        switch (d->format) {
        case XHAL_QUANT_INT8:
            out_weights[e] = (uint8_t)(int8_t)clamp(round_even(x), -127, 127);
            break;
        case XHAL_QUANT_INT4:
            put_nibble(out_weights, e, (unsigned)clamp(round_even(x) + zero, 0, 15));
            break;
        case XHAL_QUANT_FP8_E4M3:
            out_weights[e] = fp8_encode(x, &e4m3);
            break;
        default:
            out_weights[e] = fp8_encode(x, &e5m2);
            break;
        }
    }
    /* INT4 rows of odd k end in half a byte: the zero point, so that it stands for 0. */
    if (d->format == XHAL_QUANT_INT4 && p1 == d->k && d->k % 2)
        put_nibble(out_weights, j * p->ldb + d->k, zero);
    return XHAL_OK;
}

static xhal_status_t check_buffers(const char *fn, const plan_t *p, const void *weights,
                                   int64_t ldw, const void *scales, const void *zeros,
                                   const char *zeros_name) {
    CHECK(xhal_check_not_null(fn, "weights", weights));
    CHECK(xhal_check_not_null(fn, "scales", scales));
    if (ldw < p->d.k)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: ldw (%lld) < k (%lld)", fn,
                              (long long)ldw, (long long)p->d.k);
    if (p->d.zero_points) CHECK(xhal_check_not_null(fn, zeros_name, zeros));
    return XHAL_OK;
}

xhal_status_t xhal_quantize_weights(const xhal_quantize_desc_t *desc, const float *weights,
                                    int64_t ldw, void *out_weights, void *out_scales,
                                    void *out_zeros) {
    static const char fn[] = "xhal_quantize_weights";
    plan_t p;
    CHECK(plan_of(fn, desc, &p));
    CHECK(xhal_check_not_null(fn, "out_weights", out_weights));
    CHECK(check_buffers(fn, &p, weights, ldw, out_scales, out_zeros, "out_zeros"));
    const xhal_quantize_desc_t *d = &p.d;
    float amax = 0;
    for (int64_t j = 0; j < d->n; j++)
        for (int64_t q = 0; q < d->k; q++) {
            float w = weights[j * ldw + q];
            if (!isfinite(w))
                return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                      "%s: weights[%lld][%lld] (%g) is not finite", fn,
                                      (long long)j, (long long)q, (double)w);
            amax = fabsf(w) > amax ? fabsf(w) : amax;
        }
    float tensor_scale = -1; /* < 0: each group makes its own */
    if (d->scale_mode == XHAL_SCALE_PER_TENSOR) {
        float wanted = amax / format_max(d->format);
        tensor_scale = scale_store(out_scales, d->scale_type, 0, wanted);
        if (isinf(tensor_scale) || (tensor_scale == 0 && wanted != 0))
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: the weights need a scale (%g) outside the range of "
                                  "scale_type %s: use f32 scales",
                                  fn, (double)wanted, xhal_dtype_name(d->scale_type));
    }
    for (int64_t j = 0; j < d->n; j++)
        for (int64_t g = 0; g < p.groups; g++) {
            int64_t p0 = g * p.group_size;
            int64_t p1 = p0 + p.group_size < d->k ? p0 + p.group_size : d->k;
            CHECK(quantize_group(fn, &p, weights, ldw, j, p0, p1, j * p.groups + g, out_weights,
                                 out_scales, out_zeros, tensor_scale));
        }
    return XHAL_OK;
}

xhal_status_t xhal_dequantize_weights(const xhal_quantize_desc_t *desc, const void *weights,
                                      const void *scales, const void *zeros, float *out_values,
                                      int64_t ldw) {
    static const char fn[] = "xhal_dequantize_weights";
    plan_t p;
    CHECK(plan_of(fn, desc, &p));
    CHECK(xhal_check_not_null(fn, "out_values", out_values));
    CHECK(check_buffers(fn, &p, weights, ldw, scales, zeros, "zeros"));
    const xhal_quantize_desc_t *d = &p.d;
    const uint8_t *bytes = weights;
    const uint8_t *zero_points = zeros;
    for (int64_t j = 0; j < d->n; j++)
        for (int64_t q = 0; q < d->k; q++) {
            int64_t g = q / p.group_size;
            int64_t index = d->scale_mode == XHAL_SCALE_PER_TENSOR ? 0 : j * p.groups + g;
            float s = scale_load(scales, d->scale_type, index);
            int64_t e = j * p.ldb + q;
            float v;
            switch (d->format) {
            case XHAL_QUANT_INT8:
                v = (float)(int8_t)bytes[e] * s;
                break;
            case XHAL_QUANT_INT4: {
                int z = d->zero_points ? zero_points[index] : 8;
                v = (float)((int)get_nibble(bytes, e) - z) * s;
                break;
            }
            case XHAL_QUANT_FP8_E4M3:
                v = fp8_decode(bytes[e], &e4m3) * s;
                break;
            default:
                v = fp8_decode(bytes[e], &e5m2) * s;
                break;
            }
            out_values[j * ldw + q] = v;
        }
    return XHAL_OK;
}

/* ---- Checks shared with op_gemm.c ---- */

xhal_status_t xhal_check_quant_mode(const char *fn, const char *name, xhal_quant_t format,
                                    xhal_scale_mode_t mode) {
    if (mode != XHAL_SCALE_PER_CHANNEL && mode != XHAL_SCALE_PER_TENSOR &&
        mode != XHAL_SCALE_PER_GROUP)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: %s (%d) is not a valid xhal_scale_mode_t",
                              fn, name, (int)mode);
    int grouped = mode == XHAL_SCALE_PER_GROUP;
    if (grouped != (format == XHAL_QUANT_INT4))
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: %s (%s) is not defined for %s: INT4 takes PER_GROUP, INT8 and "
                              "FP8 take PER_TENSOR or PER_CHANNEL",
                              fn, name, mode_name(mode), format_name(format));
    return XHAL_OK;
}

xhal_status_t xhal_check_group_size(const char *fn, const char *name, int64_t group_size) {
    if (group_size == 32 || group_size == 64 || group_size == 128) return XHAL_OK;
    return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: %s (%lld) must be 32, 64 or 128", fn, name,
                          (long long)group_size);
}

const char *xhal_quant_name(xhal_quant_t format) {
    return format_name(format);
}
