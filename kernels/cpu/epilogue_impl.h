/*
 * The epilogue's loops in GNU C vectors of 16 floats, included by epilogue_avx512.c,
 * epilogue_avx2.c and epilogue.c so that the same code is compiled for each ISA (one zmm, two
 * ymm or four xmm registers per vector). The including file defines XK_EPILOGUE_ROW and
 * XK_EPILOGUE_GATED, the names of the two entries. No libm: every function is a polynomial, so
 * the compiler keeps it in registers.
 */
#include <string.h>

#include "epilogue.h"

/* Vectors wider than the ISA's registers are passed between these static functions only, so
 * the ABI note GCC gives about them (-Wpsabi) does not concern any caller. */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float xk_vf __attribute__((vector_size(64)));
typedef int32_t xk_vi __attribute__((vector_size(64)));

enum { XK_LANES = 16 };

static inline __attribute__((always_inline)) xk_vf vf_splat(float x) {
    return (xk_vf){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
}

/* mask ? a : b, lane by lane; mask lanes are all ones or all zeros (a comparison's result). */
static inline __attribute__((always_inline)) xk_vf vf_select(xk_vi mask, xk_vf a, xk_vf b) {
    return (xk_vf)(((xk_vi)a & mask) | ((xk_vi)b & ~mask));
}

static inline __attribute__((always_inline)) xk_vf vf_min(xk_vf a, xk_vf b) {
    return vf_select(a < b, a, b);
}

static inline __attribute__((always_inline)) xk_vf vf_max(xk_vf a, xk_vf b) {
    return vf_select(a > b, a, b);
}

/*
 * e^x: x = n ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor polynomial of degree 7 (truncation
 * below 6e-9 relative), 2^n put in the exponent. Arguments are clamped to [-87, 88], where 2^n
 * stays a normal float: e^x then saturates at e^88 and e^-87 instead of Inf and 0, which the
 * callers (1 / (1 + e^-x), e^(-u^2 / 2) R) turn into the right limits.
 */
static inline __attribute__((always_inline)) xk_vf vf_exp(xk_vf x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    x = vf_max(vf_min(x, vf_splat(88.0f)), vf_splat(-87.0f));
    xk_vf shifted = x * vf_splat(1.44269504f) + vf_splat(magic);
    xk_vf n = shifted - vf_splat(magic);
    xk_vi ni = (xk_vi)shifted - (xk_vi)vf_splat(magic);
    /* ln 2 in two parts: n * the first is exact for the |n| <= 127 seen here. */
    xk_vf r = x - n * vf_splat(0.693359375f) - n * vf_splat(-2.12194440e-4f);
    xk_vf p = vf_splat(1.0f / 5040.0f);
    p = p * r + vf_splat(1.0f / 720.0f);
    p = p * r + vf_splat(1.0f / 120.0f);
    p = p * r + vf_splat(1.0f / 24.0f);
    p = p * r + vf_splat(1.0f / 6.0f);
    p = p * r + vf_splat(0.5f);
    p = p * r + vf_splat(1.0f);
    p = p * r + vf_splat(1.0f);
    xk_vi bits = (ni + 127) << 23;
    return p * (xk_vf)bits;
}

/* The normal CDF: Q(u) = P(Z > u) = e^(-u^2 / 2) R(1 / (1 + u / 4)) for u >= 0, R fitted. */
static inline __attribute__((always_inline)) xk_vf vf_normal_cdf(xk_vf x) {
    static const float coef[12] = {
        -6.068489049e-03f, 5.259050801e-02f, -1.570204794e-01f, 1.947858185e-01f,
        -1.113210917e-01f, 1.043637097e-01f, 4.577807337e-02f,  8.423883468e-02f,
        9.316405654e-02f,  9.975387156e-02f, 9.973518550e-02f,  1.341494360e-09f,
    };
    xk_vf u = vf_max(x, -x);
    xk_vf t = vf_splat(1.0f) / (vf_splat(1.0f) + vf_splat(0.25f) * u);
    xk_vf r = vf_splat(coef[0]);
    for (int i = 1; i < 12; i++)
        r = r * t + vf_splat(coef[i]);
    xk_vf q = vf_exp(vf_splat(-0.5f) * u * u) * r;
    return vf_select(x >= vf_splat(0.0f), vf_splat(1.0f) - q, q);
}

static inline __attribute__((always_inline)) xk_vf vf_activate(xk_vf x,
                                                               xhal_activation_t activation) {
    switch (activation) {
    case XHAL_ACTIVATION_RELU:
        return vf_select(x > vf_splat(0.0f), x, vf_splat(0.0f));
    case XHAL_ACTIVATION_GELU_ERF:
        return x * vf_normal_cdf(x);
    case XHAL_ACTIVATION_GELU_TANH: {
        /* x/2 (1 + tanh y) = x / (1 + e^(-2y)): no cancellation near y = 0. */
        xk_vf y = vf_splat(0.7978845608f) * (x + vf_splat(0.044715f) * x * x * x);
        return x / (vf_splat(1.0f) + vf_exp(vf_splat(-2.0f) * y));
    }
    case XHAL_ACTIVATION_SILU:
        return x / (vf_splat(1.0f) + vf_exp(-x));
    default:
        return x;
    }
}

/* Loads `count` (< 16 for a tail) floats into a vector, zero past them. */
static inline __attribute__((always_inline)) xk_vf vf_load(const float *src, int64_t count) {
    xk_vf v = vf_splat(0.0f);
    memcpy(&v, src, (size_t)(count < XK_LANES ? count : XK_LANES) * sizeof(float));
    return v;
}

static inline void vf_store(float *dst, xk_vf v, int64_t count) {
    memcpy(dst, &v, (size_t)(count < XK_LANES ? count : XK_LANES) * sizeof(float));
}

static void XK_EPILOGUE_ROW(const xk_epilogue_t *e, float *row, int64_t col, int64_t cols) {
    for (int64_t j = 0; j < cols; j += XK_LANES) {
        int64_t n = cols - j;
        xk_vf x = vf_load(row + j, n);
        if (e->bias) x += vf_load(e->bias + col + j, n);
        vf_store(row + j, vf_activate(x, e->activation), n);
    }
}

static void XK_EPILOGUE_GATED(const xk_epilogue_t *e, const float *gate, const float *up,
                              float *out, int64_t col, int64_t cols) {
    for (int64_t j = 0; j < cols; j += XK_LANES) {
        int64_t n = cols - j;
        xk_vf g = vf_load(gate + j, n), u = vf_load(up + j, n);
        if (e->bias) {
            g += vf_load(e->bias + col + j, n);
            u += vf_load(e->bias + e->half + col + j, n);
        }
        vf_store(out + j, vf_activate(g, e->activation) * u, n);
    }
}
