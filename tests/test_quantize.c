/*
 * The quantize helpers (xhal_quantize_sizes, xhal_quantize_weights, xhal_dequantize_weights)
 * against values worked out by hand and a decoder written here from the OCP FP8 definitions:
 * sizes and ldb, the rounding rule (ties to even), nibble order, zero points, every FP8 code
 * decoded and re-encoded, midpoints between codes, group tails with odd k, all-zero rows,
 * subnormal and huge weights, round trips within half a step, and the validation messages.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static xhal_quantize_desc_t qdesc(xhal_quant_t format, int64_t n, int64_t k, xhal_scale_mode_t mode,
                                  int64_t group, xhal_dtype_t scale_type, int zeros) {
    xhal_quantize_desc_t d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.format = format;
    d.n = n;
    d.k = k;
    d.scale_mode = mode;
    d.group_size = group;
    d.scale_type = scale_type;
    d.zero_points = zeros;
    return d;
}

/* The OCP FP8 value of a code, from the definitions (NaN and infinities included). */
static double fp8_value(unsigned code, int e4m3) {
    int mbits = e4m3 ? 3 : 2, bias = e4m3 ? 7 : 15;
    int e = (int)(code & 0x7f) >> mbits, m = (int)code & ((1 << mbits) - 1);
    double sign = code & 0x80 ? -1.0 : 1.0;
    if (e4m3 && e == 15 && m == 7) return NAN;
    if (!e4m3 && e == 31) return m ? NAN : sign * INFINITY;
    if (e == 0) return sign * ldexp(m, 1 - bias - mbits);
    return sign * ldexp(m + (1 << mbits), e - bias - mbits);
}

typedef struct qbuffers {
    uint8_t *weights, *zeros;
    void *scales;
    float *back; /* dequantized, n x k */
    uint64_t weight_bytes, scale_bytes, zero_bytes;
    int64_t ldb;
} qbuffers_t;

/* Quantizes `w` (n x k) and dequantizes it again into b->back. */
static void quantize(const xhal_quantize_desc_t *d, const float *w, qbuffers_t *b) {
    XT_OK(xhal_quantize_sizes(d, &b->weight_bytes, &b->scale_bytes, &b->zero_bytes, &b->ldb));
    b->weights = xt_malloc((size_t)b->weight_bytes);
    b->scales = xt_malloc((size_t)b->scale_bytes);
    b->zeros = b->zero_bytes ? xt_malloc((size_t)b->zero_bytes) : NULL;
    b->back = xt_malloc(sizeof(float) * (size_t)(d->n * d->k));
    XT_OK(xhal_quantize_weights(d, w, d->k, b->weights, b->scales, b->zeros));
    XT_OK(xhal_dequantize_weights(d, b->weights, b->scales, b->zeros, b->back, d->k));
}

static void release(qbuffers_t *b) {
    free(b->weights);
    free(b->scales);
    free(b->zeros);
    free(b->back);
    memset(b, 0, sizeof *b);
}

static double scale_of(const xhal_quantize_desc_t *d, const qbuffers_t *b, int64_t index) {
    return xt_load(b->scales, d->scale_type, (uint64_t)index);
}

static void test_sizes(void **state) {
    (void)state;
    uint64_t wb, sb, zb;
    int64_t ldb;
    xhal_quantize_desc_t d =
        qdesc(XHAL_QUANT_INT8, 3, 5, XHAL_SCALE_PER_CHANNEL, 0, XHAL_DTYPE_F16, 0);
    XT_OK(xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb));
    assert_int_equal(wb, 15);
    assert_int_equal(sb, 6);
    assert_int_equal(zb, 0);
    assert_int_equal(ldb, 5);
    d = qdesc(XHAL_QUANT_INT4, 3, 65, XHAL_SCALE_PER_GROUP, 32, XHAL_DTYPE_BF16, 1);
    XT_OK(xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb));
    assert_int_equal(ldb, 66);       /* k rounded up to even */
    assert_int_equal(wb, 99);        /* 3 rows of 33 bytes */
    assert_int_equal(sb, 3 * 3 * 2); /* groups of 32, 32 and 1 */
    assert_int_equal(zb, 9);
    d = qdesc(XHAL_QUANT_FP8_E4M3, 7, 9, XHAL_SCALE_PER_TENSOR, 0, XHAL_DTYPE_F32, 0);
    XT_OK(xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb));
    assert_int_equal(wb, 63);
    assert_int_equal(sb, 4);
    assert_int_equal(ldb, 9);
}

static void test_validation(void **state) {
    (void)state;
    uint64_t wb, sb, zb;
    int64_t ldb;
    float w[4] = {1, 2, 3, 4}, back[4];
    uint8_t q[4], zeros[4];
    uint16_t s[4];
    xhal_quantize_desc_t ok =
        qdesc(XHAL_QUANT_INT4, 1, 4, XHAL_SCALE_PER_GROUP, 32, XHAL_DTYPE_F16, 0);
    xhal_quantize_desc_t d = ok;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(NULL, &wb, &sb, &zb, &ldb), "desc");
    d.struct_size = 3;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb),
                  "struct_size", "(3)");
    d = ok, d.format = XHAL_QUANT_NONE;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb), "format",
                  "(0)");
    d = ok, d.format = (xhal_quant_t)9;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb), "format",
                  "(9)");
    d = ok, d.n = 0;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb), "n", "0");
    d = ok, d.k = -2;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb), "k", "-2");
    d = ok, d.scale_mode = XHAL_SCALE_PER_CHANNEL;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb), "scale_mode",
                  "(PER_CHANNEL)", "INT4");
    d = ok, d.format = XHAL_QUANT_INT8;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb), "scale_mode",
                  "(PER_GROUP)", "INT8");
    d = ok, d.scale_mode = (xhal_scale_mode_t)7;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb), "scale_mode",
                  "(7)");
    d = ok, d.group_size = 48;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb), "group_size",
                  "(48)");
    d = ok, d.scale_type = XHAL_DTYPE_COUNT;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb),
                  "scale_type");
    d = qdesc(XHAL_QUANT_FP8_E5M2, 1, 4, XHAL_SCALE_PER_TENSOR, 0, XHAL_DTYPE_F16, 1);
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb),
                  "zero_points", "INT4");
    d = ok, d.zero_points = 2;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&d, &wb, &sb, &zb, &ldb),
                  "zero_points", "(2)");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&ok, NULL, &sb, &zb, &ldb),
                  "out_weight_bytes");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_sizes(&ok, &wb, &sb, &zb, NULL), "out_ldb");

    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_weights(&ok, NULL, 4, q, s, NULL),
                  "weights");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_weights(&ok, w, 4, NULL, s, NULL),
                  "out_weights");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_weights(&ok, w, 4, q, NULL, NULL), "scales");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_weights(&ok, w, 3, q, s, NULL), "ldw",
                  "(3)");
    d = ok, d.zero_points = 1;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_weights(&d, w, 4, q, s, NULL), "out_zeros");
    XT_OK(xhal_quantize_weights(&d, w, 4, q, s, zeros));
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_dequantize_weights(&d, q, s, NULL, back, 4), "zeros");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_dequantize_weights(&d, q, s, zeros, NULL, 4),
                  "out_values");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_dequantize_weights(&d, q, s, zeros, back, 2), "ldw");
    float bad[4] = {1, 2, NAN, 4};
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_weights(&ok, bad, 4, q, s, NULL),
                  "weights[0][2]");
    /* A scale f16 cannot hold, either way. */
    float huge[4] = {1e30f, 1, 2, 3}, tiny[4] = {1e-20f, 0, 0, 0};
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_weights(&ok, huge, 4, q, s, NULL),
                  "scale_type", "f16");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_weights(&ok, tiny, 4, q, s, NULL),
                  "scale_type", "f16");
    d = qdesc(XHAL_QUANT_INT8, 1, 4, XHAL_SCALE_PER_TENSOR, 0, XHAL_DTYPE_F16, 0);
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_quantize_weights(&d, huge, 4, q, s, NULL),
                  "scale_type", "f16");
}

/* INT8 with a scale of exactly 1: codes are the weights rounded, ties to even. */
static void test_int8_known(void **state) {
    (void)state;
    const float w[2][8] = {{127, -63.5f, 0.5f, 1.5f, 2.5f, -2.5f, -127, 3.49f},
                           {0, 0, 0, 0, 0, 0, 0, 0}};
    const int8_t want[8] = {127, -64, 0, 2, 2, -2, -127, 3};
    xhal_quantize_desc_t d =
        qdesc(XHAL_QUANT_INT8, 2, 8, XHAL_SCALE_PER_CHANNEL, 0, XHAL_DTYPE_F32, 0);
    qbuffers_t b;
    quantize(&d, &w[0][0], &b);
    assert_true(scale_of(&d, &b, 0) == 1.0);
    assert_true(scale_of(&d, &b, 1) == 0.0); /* an all-zero row */
    for (int q = 0; q < 8; q++) {
        assert_int_equal((int8_t)b.weights[q], want[q]);
        assert_int_equal(b.weights[8 + q], 0);
        assert_true(b.back[q] == (float)want[q]);
        assert_true(b.back[8 + q] == 0.0f);
    }
    release(&b);
}

/* INT4 without zero points: max |w| = 7 gives s = 1, codes w + 8, the even element in the low
 * nibble, and the half byte after an odd k holding 8. */
static void test_int4_known(void **state) {
    (void)state;
    const float w[5] = {7, -7, 3.5f, 2.5f, -0.5f};
    xhal_quantize_desc_t d =
        qdesc(XHAL_QUANT_INT4, 1, 5, XHAL_SCALE_PER_GROUP, 32, XHAL_DTYPE_F16, 0);
    qbuffers_t b;
    quantize(&d, w, &b);
    assert_int_equal(b.ldb, 6);
    assert_true(scale_of(&d, &b, 0) == 1.0);
    assert_int_equal(b.weights[0], 0x1f); /* 15 (7) low, 1 (-7) high */
    assert_int_equal(b.weights[1], 0xac); /* 12 (3.5 -> 4) low, 10 (2.5 -> 2) high */
    assert_int_equal(b.weights[2], 0x88); /* 8 (-0.5 -> 0), then the padding: z */
    const float back[5] = {7, -7, 4, 2, 0};
    for (int q = 0; q < 5; q++)
        assert_true(b.back[q] == back[q]);
    release(&b);

    /* With zero points: [min, max] widened to hold 0; [-4, 11] gives s = 1, z = 4. */
    const float v[2][6] = {{-4, 11, 0, 2.5f, 3.5f, -1}, {1, 2, 3, 4, 5, 15}};
    d = qdesc(XHAL_QUANT_INT4, 2, 6, XHAL_SCALE_PER_GROUP, 64, XHAL_DTYPE_F32, 1);
    quantize(&d, &v[0][0], &b);
    assert_true(scale_of(&d, &b, 0) == 1.0);
    assert_int_equal(b.zeros[0], 4);
    assert_int_equal(b.weights[0], 0xf0); /* 0 low, 15 high */
    assert_int_equal(b.weights[1], 0x64); /* 4 (0) low, 6 (2.5 -> 2) high */
    assert_int_equal(b.weights[2], 0x38); /* 8 (3.5 -> 4) low, 3 (-1) high */
    /* An all-positive row: min widened to 0, so z = 0 and s = 1. */
    assert_true(scale_of(&d, &b, 1) == 1.0);
    assert_int_equal(b.zeros[1], 0);
    assert_int_equal(b.weights[3], 0x21);
    assert_int_equal(b.weights[5], 0xf5);
    for (int q = 0; q < 12; q++)
        assert_true(fabsf(b.back[q] - (&v[0][0])[q]) <= 0.5f);
    release(&b);
}

/* Every FP8 code decodes to its OCP value; every finite one encodes back to itself (the tensor
 * holds the format's largest value, so the scale is 1); midpoints round to the even code. */
static void check_fp8(xhal_quant_t format) {
    const int e4m3 = format == XHAL_QUANT_FP8_E4M3;
    const double max = e4m3 ? 448.0 : 57344.0;
    xhal_quantize_desc_t d = qdesc(format, 1, 256, XHAL_SCALE_PER_TENSOR, 0, XHAL_DTYPE_F32, 0);
    uint8_t codes[256];
    float one = 1.0f, values[256];
    for (int c = 0; c < 256; c++)
        codes[c] = (uint8_t)c;
    XT_OK(xhal_dequantize_weights(&d, codes, &one, NULL, values, 256));
    for (int c = 0; c < 256; c++) {
        double want = fp8_value((unsigned)c, e4m3);
        if (isnan(want))
            assert_true(isnan(values[c]));
        else
            assert_true((double)values[c] == want);
    }
    /* The finite positive codes in increasing order: 0 .. 0x7e (E4M3) or 0x7b (E5M2). */
    const int top = e4m3 ? 0x7e : 0x7b;
    float w[2 * 0x7f + 2];
    int count = 0;
    for (int c = 0; c <= top; c++) {
        w[count++] = (float)fp8_value((unsigned)c, e4m3);
        w[count++] = -(float)fp8_value((unsigned)c, e4m3);
    }
    assert_true(w[count - 2] == (float)max);
    d.k = count;
    qbuffers_t b;
    quantize(&d, w, &b);
    assert_true(scale_of(&d, &b, 0) == 1.0);
    for (int i = 0; i < count; i++) {
        unsigned want = (unsigned)(i / 2) | (i % 2 ? 0x80u : 0u);
        if (i == 1) want = 0x80; /* -0 keeps its sign */
        if (b.weights[i] != want)
            fail_msg("%s: %g encoded as 0x%02x, want 0x%02x", e4m3 ? "e4m3" : "e5m2", (double)w[i],
                     b.weights[i], want);
    }
    release(&b);
    /* Midpoints between neighbours (f32 holds them exactly) go to the code with an even
     * mantissa; the largest value stays in the tensor to keep the scale at 1. */
    float mid[0x7f + 1];
    count = 0;
    for (int c = 0; c < top; c++)
        mid[count++] =
            (float)(0.5 * (fp8_value((unsigned)c, e4m3) + fp8_value((unsigned)c + 1, e4m3)));
    mid[count++] = (float)max;
    d.k = count;
    quantize(&d, mid, &b);
    for (int c = 0; c < top; c++) {
        unsigned want = c % 2 ? (unsigned)c + 1 : (unsigned)c;
        if (b.weights[c] != want)
            fail_msg("%s: midpoint %g encoded as 0x%02x, want 0x%02x", e4m3 ? "e4m3" : "e5m2",
                     (double)mid[c], b.weights[c], want);
    }
    release(&b);
}

static void test_fp8_codes(void **state) {
    (void)state;
    check_fp8(XHAL_QUANT_FP8_E4M3);
    check_fp8(XHAL_QUANT_FP8_E5M2);
}

static void test_fp8_known(void **state) {
    (void)state;
    const float w[6] = {448, 1, 0.1015625f, 0x1p-9f, 0x1p-10f, 0x1.8p-9f};
    const uint8_t want[6] = {0x7e, 0x38, 0x1d, 0x01, 0x00, 0x02};
    xhal_quantize_desc_t d =
        qdesc(XHAL_QUANT_FP8_E4M3, 1, 6, XHAL_SCALE_PER_CHANNEL, 0, XHAL_DTYPE_BF16, 0);
    qbuffers_t b;
    quantize(&d, w, &b);
    for (int q = 0; q < 6; q++)
        assert_int_equal(b.weights[q], want[q]);
    release(&b);
    const float v[4] = {57344, 1, 0.75f, 0x1p-16f};
    const uint8_t want5[4] = {0x7b, 0x3c, 0x3a, 0x01};
    d = qdesc(XHAL_QUANT_FP8_E5M2, 1, 4, XHAL_SCALE_PER_TENSOR, 0, XHAL_DTYPE_F16, 0);
    quantize(&d, v, &b);
    for (int q = 0; q < 4; q++)
        assert_int_equal(b.weights[q], want5[q]);
    release(&b);
}

/* Random weights in every format, mode and scale type, with group tails: each value comes back
 * within half a step of its grid, and scales follow the rule. */
static void test_round_trips(void **state) {
    (void)state;
    static const struct {
        xhal_quant_t format;
        xhal_scale_mode_t mode;
        int64_t group;
        int zeros;
    } kinds[] = {
        {XHAL_QUANT_INT8, XHAL_SCALE_PER_CHANNEL, 0, 0},
        {XHAL_QUANT_INT8, XHAL_SCALE_PER_TENSOR, 0, 0},
        {XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 32, 0},
        {XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 64, 1},
        {XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 128, 1},
        {XHAL_QUANT_FP8_E4M3, XHAL_SCALE_PER_CHANNEL, 0, 0},
        {XHAL_QUANT_FP8_E4M3, XHAL_SCALE_PER_TENSOR, 0, 0},
        {XHAL_QUANT_FP8_E5M2, XHAL_SCALE_PER_CHANNEL, 0, 0},
    };
    const xhal_dtype_t types[3] = {XHAL_DTYPE_F32, XHAL_DTYPE_F16, XHAL_DTYPE_BF16};
    const int64_t n = 5, k = 161; /* 161 = 5 x 32 + 1: every group size has a tail */
    xt_rng_t rng;
    xt_rng_seed(&rng, 7);
    float *w = xt_malloc(sizeof(float) * (size_t)(n * k));
    for (size_t x = 0; x < sizeof kinds / sizeof kinds[0]; x++)
        for (int t = 0; t < 3; t++) {
            /* Rows of different magnitudes; the last one too small for 16-bit scales, so
             * all zeros with those. */
            for (int64_t i = 0; i < n * k; i++) {
                int64_t row = i / k;
                w[i] =
                    (float)(xt_rng_uniform(&rng) * (row == 4 ? 1e-30 : pow(10, (double)row - 1)));
            }
            if (types[t] != XHAL_DTYPE_F32)
                for (int64_t i = 4 * k; i < n * k; i++)
                    w[i] = 0.0f;
            xhal_quantize_desc_t d = qdesc(kinds[x].format, n, k, kinds[x].mode, kinds[x].group,
                                           types[t], kinds[x].zeros);
            qbuffers_t b;
            quantize(&d, w, &b);
            int64_t group = kinds[x].mode == XHAL_SCALE_PER_GROUP ? kinds[x].group : k;
            int64_t groups = (k + group - 1) / group;
            for (int64_t j = 0; j < n; j++)
                for (int64_t q = 0; q < k; q++) {
                    int64_t index =
                        kinds[x].mode == XHAL_SCALE_PER_TENSOR ? 0 : j * groups + q / group;
                    double s = scale_of(&d, &b, index),
                           err = fabs(b.back[j * k + q] - w[j * k + q]);
                    double allowed;
                    if (kinds[x].format == XHAL_QUANT_INT8 || kinds[x].format == XHAL_QUANT_INT4)
                        allowed = 0.5 * s * (1 + 1e-6);
                    else /* half a step of the value's binade, or of the subnormals */
                        allowed =
                            fmax(fabs(w[j * k + q]) *
                                     (kinds[x].format == XHAL_QUANT_FP8_E4M3 ? 1.0 / 16 : 1.0 / 8),
                                 s * (kinds[x].format == XHAL_QUANT_FP8_E4M3 ? 0x1p-10 : 0x1p-17)) *
                            (1 + 1e-6);
                    /* 16-bit scales rounded down can push the largest value one step out. */
                    if (types[t] != XHAL_DTYPE_F32) allowed *= 2;
                    if (!(err <= allowed))
                        fail_msg("format %d mode %d scale %s: w[%lld][%lld] = %g came back as %g "
                                 "(scale %g)",
                                 (int)kinds[x].format, (int)kinds[x].mode,
                                 xhal_dtype_name(types[t]), (long long)j, (long long)q,
                                 (double)w[j * k + q], (double)b.back[j * k + q], s);
                }
            release(&b);
        }
    free(w);
}

/* Subnormal weights with f32 scales: the scale is subnormal too and has few bits, so values
 * come back within half a step (8% of the row's largest; 25% for E5M2) plus that; signs and
 * zeros exact. */
static void test_subnormal_weights(void **state) {
    (void)state;
    const float w[4] = {1e-40f, -2e-40f, 0.0f, 3e-41f};
    const xhal_quant_t formats[4] = {XHAL_QUANT_INT8, XHAL_QUANT_INT4, XHAL_QUANT_FP8_E4M3,
                                     XHAL_QUANT_FP8_E5M2};
    for (int f = 0; f < 4; f++) {
        xhal_quantize_desc_t d =
            qdesc(formats[f], 1, 4,
                  formats[f] == XHAL_QUANT_INT4 ? XHAL_SCALE_PER_GROUP : XHAL_SCALE_PER_CHANNEL, 32,
                  XHAL_DTYPE_F32, 0);
        qbuffers_t b;
        quantize(&d, w, &b);
        for (int q = 0; q < 4; q++) {
            assert_true(isfinite(b.back[q]));
            /* E5M2's scale (2e-40 / 57344) is two or three subnormal steps. */
            float bound = (formats[f] == XHAL_QUANT_FP8_E5M2 ? 0.25f : 0.08f) * 2e-40f;
            if (!(fabsf(b.back[q] - w[q]) <= bound))
                fail_msg("format %d: %g came back as %g", (int)formats[f], (double)w[q],
                         (double)b.back[q]);
            assert_true(w[q] == 0.0f ? b.back[q] == 0.0f : (b.back[q] < 0) == (w[q] < 0));
        }
        release(&b);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),       cmocka_unit_test(test_validation),
        cmocka_unit_test(test_int8_known),  cmocka_unit_test(test_int4_known),
        cmocka_unit_test(test_fp8_codes),   cmocka_unit_test(test_fp8_known),
        cmocka_unit_test(test_round_trips), cmocka_unit_test(test_subnormal_weights),
    };
    return cmocka_run_group_tests_name("quantize", tests, NULL, NULL);
}
