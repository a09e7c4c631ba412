/*
 * GEMM for serving on every device against an fp64 reference: the epilogue (bias of f32 or C's
 * dtype, every activation, the gated form) and weight-only quantized B (INT8 per channel and
 * per tensor, INT4 in groups of 32/64/128 with and without zero points, FP8 E4M3 and E5M2), with
 * f32/f16/bf16 activations, both layouts of B, odd k (group tails), beta, alpha, batches sharing
 * the weights, padded leading dimensions and offsets. Shapes are chosen to reach every CPU path:
 * the GEMV (m <= 4, B either way), the quantized GEMV (m <= 4, B stored n x k) and the blocked
 * GEMM with its packing (the rest). The weights come from xhal_quantize_weights; the reference
 * multiplies what xhal_dequantize_weights returns (test_quantize checks those helpers).
 * A device that does not support a case skips it with its reason printed.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static xt_devices_t set;

enum { BIAS_NONE = 0, BIAS_F32 = 1, BIAS_C = 2 };

typedef struct scase {
    int64_t m, n, k;
    xhal_dtype_t at, bt, ct; /* bt: a dense B's dtype */
    int ta, tb;
    int bias; /* BIAS_* */
    xhal_activation_t act;
    int gated;
    xhal_quant_t quant;
    xhal_scale_mode_t mode;
    int64_t group;
    xhal_dtype_t st; /* scale type */
    int zeros;
    int64_t batch;
    float alpha, beta;
    int64_t pad; /* added to every leading dimension (kept even for INT4 B) */
} scase_t;

static scase_t base(int64_t m, int64_t n, int64_t k, xhal_dtype_t t) {
    scase_t c;
    memset(&c, 0, sizeof c);
    c.m = m, c.n = n, c.k = k;
    c.at = c.bt = c.ct = t;
    c.batch = 1;
    c.alpha = 1.0f;
    c.st = XHAL_DTYPE_F16;
    return c;
}

static scase_t quantized(scase_t c, xhal_quant_t q, xhal_scale_mode_t mode, int64_t group,
                         int zeros) {
    c.quant = q, c.mode = mode, c.group = group, c.zeros = zeros;
    c.tb = 1;
    return c;
}

static void describe(const scase_t *c, const char *spec, char *out, size_t size) {
    snprintf(out, size,
             "%s: %lldx%lldx%lld a/b/c %s/%s/%s trans %d/%d bias %d act %d gated %d quant %d "
             "mode %d group %lld scales %s zeros %d batch %lld alpha %g beta %g pad %lld",
             spec, (long long)c->m, (long long)c->n, (long long)c->k, xhal_dtype_name(c->at),
             c->quant ? "q" : xhal_dtype_name(c->bt), xhal_dtype_name(c->ct), c->ta, c->tb, c->bias,
             (int)c->act, c->gated, (int)c->quant, (int)c->mode, (long long)c->group,
             xhal_dtype_name(c->st), c->zeros, (long long)c->batch, (double)c->alpha,
             (double)c->beta, (long long)c->pad);
}

/* The activation in fp64, as xhal.h defines it; 1 + erf(z) as erfc(-z) and 1 + tanh(y) as
 * 2 / (1 + e^(-2y)), the same values without cancellation where they approach 0. */
static double activate(double x, xhal_activation_t act) {
    switch (act) {
    case XHAL_ACTIVATION_RELU:
        return x > 0 ? x : 0;
    case XHAL_ACTIVATION_GELU_ERF:
        return 0.5 * x * erfc(-x / sqrt(2.0));
    case XHAL_ACTIVATION_GELU_TANH:
        return x / (1 + exp(-2 * sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case XHAL_ACTIVATION_SILU:
        return x / (1 + exp(-x));
    default:
        return x;
    }
}

static unsigned nibble(const uint8_t *bytes, int64_t e) {
    return e % 2 ? bytes[e / 2] >> 4 : bytes[e / 2] & 0x0fu;
}

static void set_nibble(uint8_t *bytes, int64_t e, unsigned v) {
    uint8_t *b = &bytes[e / 2];
    *b = (uint8_t)(e % 2 ? (*b & 0x0f) | v << 4 : (*b & 0xf0) | v);
}

/* The quantized B of a case: bytes laid out with the desc's ldb (either layout), scales,
 * zeros, and the dequantized values as n x k doubles. */
typedef struct qb {
    uint8_t *bytes, *zeros;
    void *scales;
    uint64_t bytes_size, scale_bytes, zero_bytes;
    double *values; /* n x k */
} qb_t;

static void make_quantized(const scase_t *c, xhal_gemm_desc_t *d, xt_rng_t *rng, qb_t *out) {
    xhal_quantize_desc_t qd;
    memset(&qd, 0, sizeof qd);
    qd.struct_size = sizeof qd;
    qd.format = c->quant;
    qd.n = c->n;
    qd.k = c->k;
    qd.scale_mode = c->mode;
    qd.group_size = c->group;
    qd.scale_type = c->st;
    qd.zero_points = c->zeros;
    uint64_t wb;
    int64_t ldq;
    XT_OK(xhal_quantize_sizes(&qd, &wb, &out->scale_bytes, &out->zero_bytes, &ldq));
    float *w = xt_malloc(sizeof(float) * (size_t)(c->n * c->k));
    for (int64_t i = 0; i < c->n * c->k; i++) /* rows of different scales */
        w[i] = (float)(xt_rng_uniform(rng) * (1 + (double)(i / c->k % 5)));
    uint8_t *packed = xt_malloc((size_t)wb);
    out->scales = xt_malloc((size_t)out->scale_bytes);
    out->zeros = out->zero_bytes ? xt_malloc((size_t)out->zero_bytes) : NULL;
    XT_OK(xhal_quantize_weights(&qd, w, c->k, packed, out->scales, out->zeros));
    XT_OK(xhal_dequantize_weights(&qd, packed, out->scales, out->zeros, w, c->k));
    out->values = xt_malloc(sizeof(double) * (size_t)(c->n * c->k));
    for (int64_t i = 0; i < c->n * c->k; i++)
        out->values[i] = w[i];
    /* Re-lay the elements with the case's ldb and layout; padding holds 0xa5 bytes. */
    int int4 = c->quant == XHAL_QUANT_INT4;
    int64_t pad = int4 ? (c->pad + 1) / 2 * 2 : c->pad;
    d->ldb =
        (c->tb ? (int4 ? (c->k + 1) / 2 * 2 : c->k) : (int4 ? (c->n + 1) / 2 * 2 : c->n)) + pad;
    int64_t rows = c->tb ? c->n : c->k, elements = rows * d->ldb;
    out->bytes_size = (uint64_t)(int4 ? elements / 2 : elements);
    out->bytes = xt_malloc((size_t)out->bytes_size);
    memset(out->bytes, 0xa5, (size_t)out->bytes_size);
    for (int64_t j = 0; j < c->n; j++)
        for (int64_t p = 0; p < c->k; p++) {
            int64_t from = j * ldq + p, to = c->tb ? j * d->ldb + p : p * d->ldb + j;
            if (int4)
                set_nibble(out->bytes, to, nibble(packed, from));
            else
                out->bytes[to] = packed[from];
        }
    free(w);
    free(packed);
}

static void free_quantized(qb_t *q) {
    free(q->bytes);
    free(q->zeros);
    free(q->scales);
    free(q->values);
}

static xhal_buffer_t *upload(xhal_device_t *device, xhal_stream_t *stream, const void *host,
                             uint64_t size) {
    return xt_upload(device, stream, host, size);
}

static size_t skipped; /* cases a device did not support */

static void run_on(const scase_t *c, xhal_device_t *device, xhal_stream_t *stream, const char *spec,
                   uint64_t seed) {
    char what[512];
    describe(c, spec, what, sizeof what);
    xt_rng_t rng;
    xt_rng_seed(&rng, seed);
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, c->m, c->n, c->k, c->at);
    d.b_type = c->bt;
    d.c_type = c->ct;
    d.trans_a = c->ta;
    d.trans_b = c->tb;
    d.alpha = c->alpha;
    d.beta = c->beta;
    d.batch = c->batch;
    d.activation = c->act;
    d.gated = c->gated;
    int64_t cn = c->gated ? c->n / 2 : c->n;
    int64_t ar = c->ta ? c->k : c->m, ac = c->ta ? c->m : c->k;
    d.lda = ac + c->pad;
    d.ldc = cn + c->pad;
    d.stride_a = ar * d.lda + 3;
    d.stride_c = c->m * d.ldc + 2;

    qb_t q;
    memset(&q, 0, sizeof q);
    double *bvals; /* n x k */
    void *bhost;
    uint64_t b_size;
    if (c->quant) {
        d.b_quant = c->quant;
        d.b_scale_mode = c->mode;
        d.b_group_size = c->group;
        d.b_scale_type = c->st;
        make_quantized(c, &d, &rng, &q);
        d.stride_b = 0;
        bvals = q.values;
        bhost = q.bytes;
        b_size = q.bytes_size;
    } else {
        d.ldb = (c->tb ? c->k : c->n) + c->pad;
        d.stride_b = 0; /* one B for the batch, as weights are */
        int64_t br = c->tb ? c->n : c->k;
        b_size = (uint64_t)(br * d.ldb) * xt_dtype_size(c->bt);
        bhost = xt_malloc((size_t)b_size);
        memset(bhost, 0xff, (size_t)b_size);
        bvals = xt_malloc(sizeof(double) * (size_t)(c->n * c->k));
        for (int64_t j = 0; j < c->n; j++)
            for (int64_t p = 0; p < c->k; p++) {
                uint64_t at = (uint64_t)(c->tb ? j * d.ldb + p : p * d.ldb + j);
                xt_store(bhost, c->bt, at, xt_rng_uniform(&rng));
                bvals[j * c->k + p] = xt_load(bhost, c->bt, at);
            }
    }
    size_t sa = xt_dtype_size(c->at), sc = xt_dtype_size(c->ct);
    uint64_t na = (uint64_t)((c->batch - 1) * d.stride_a + ar * d.lda);
    uint64_t nc = (uint64_t)((c->batch - 1) * d.stride_c + c->m * d.ldc) + 1; /* + offset */
    uint8_t *ahost = xt_malloc((size_t)(na * sa));
    uint8_t *chost = xt_malloc((size_t)(nc * sc));
    memset(ahost, 0xff, (size_t)(na * sa));
    memset(chost, 0xff, (size_t)(nc * sc));
    d.c_offset = sc; /* C starts one element in */
    for (uint64_t i = 0; i < na; i++)
        xt_store(ahost, c->at, i, xt_rng_uniform(&rng));
    if (c->beta != 0.0f)
        for (uint64_t i = 1; i < nc; i++)
            xt_store(chost, c->ct, i, xt_rng_uniform(&rng));
    xhal_dtype_t bias_type = c->bias == BIAS_F32 ? XHAL_DTYPE_F32 : c->ct;
    double *bias = xt_malloc(sizeof(double) * (size_t)c->n);
    uint8_t *bias_host = xt_malloc((size_t)(c->n + 1) * xt_dtype_size(bias_type));
    for (int64_t j = 0; j < c->n; j++) {
        xt_store(bias_host, bias_type, (uint64_t)j + 1, c->bias ? xt_rng_uniform(&rng) : 0.0);
        bias[j] = xt_load(bias_host, bias_type, (uint64_t)j + 1);
    }

    /* The reference. */
    size_t count = (size_t)(c->batch * c->m * cn);
    double *ref = xt_malloc(sizeof(double) * count), *got = xt_malloc(sizeof(double) * count);
    double *t = xt_malloc(sizeof(double) * (size_t)c->n);
    for (int64_t bi = 0; bi < c->batch; bi++)
        for (int64_t i = 0; i < c->m; i++) {
            for (int64_t j = 0; j < c->n; j++) {
                double sum = 0;
                for (int64_t p = 0; p < c->k; p++) {
                    int64_t ai = bi * d.stride_a + (c->ta ? p * d.lda + i : i * d.lda + p);
                    sum += xt_load(ahost, c->at, (uint64_t)ai) * bvals[j * c->k + p];
                }
                t[j] = c->alpha * sum + bias[j];
                if (c->beta != 0.0f && !c->gated)
                    t[j] += c->beta *
                            xt_load(chost, c->ct, (uint64_t)(1 + bi * d.stride_c + i * d.ldc + j));
            }
            for (int64_t j = 0; j < cn; j++)
                ref[(bi * c->m + i) * cn + j] =
                    c->gated ? activate(t[j], c->act) * t[j + cn] : activate(t[j], c->act);
        }

    xhal_buffer_t *ba = upload(device, stream, ahost, na * sa);
    xhal_buffer_t *bb = upload(device, stream, bhost, b_size);
    xhal_buffer_t *bc = upload(device, stream, chost, nc * sc);
    xhal_buffer_t *bbias = NULL, *bscales = NULL, *bzeros = NULL;
    d.a = ba, d.b = bb, d.c = bc;
    if (c->bias) {
        bbias = upload(device, stream, bias_host, (uint64_t)(c->n + 1) * xt_dtype_size(bias_type));
        d.bias = bbias;
        d.bias_offset = xt_dtype_size(bias_type);
        d.bias_type = bias_type;
    }
    if (c->quant) {
        bscales = upload(device, stream, q.scales, q.scale_bytes);
        d.b_scales = bscales;
        if (q.zeros) bzeros = upload(device, stream, q.zeros, q.zero_bytes);
        d.b_zeros = bzeros;
    }
    xhal_status_t st = xhal_gemm_supports(device, &d);
    if (st == XHAL_UNSUPPORTED) {
        /* The first skip of each device says why; the count comes at the end. */
        if (skipped++ == 0) print_message("[ SKIP     ] %s: %s\n", what, xhal_last_error());
    } else {
        if (st != XHAL_OK)
            fail_msg("%s: xhal_gemm_supports returned %s: %s", what, xhal_status_name(st),
                     xhal_last_error());
        st = xhal_gemm(stream, &d);
        if (st != XHAL_OK)
            fail_msg("%s: xhal_gemm returned %s: %s", what, xhal_status_name(st),
                     xhal_last_error());
        uint8_t *out = xt_malloc((size_t)(nc * sc));
        xt_download(stream, out, bc, nc * sc);
        uint8_t *mask = xt_malloc((size_t)nc);
        memset(mask, 0, (size_t)nc);
        for (int64_t bi = 0; bi < c->batch; bi++)
            for (int64_t i = 0; i < c->m; i++)
                for (int64_t j = 0; j < cn; j++) {
                    uint64_t e = (uint64_t)(1 + bi * d.stride_c + i * d.ldc + j);
                    got[(bi * c->m + i) * cn + j] = xt_load(out, c->ct, e);
                    mask[e] = 1;
                }
        for (uint64_t e = 0; e < nc; e++)
            if (!mask[e] && memcmp(out + e * sc, chost + e * sc, sc))
                fail_msg("%s: element %llu outside C changed", what, (unsigned long long)e);
        size_t bad = 0;
        double err = xt_rel_error(got, ref, count, &bad);
        /* A gated output multiplies two rounded values. */
        double tol = xt_tolerance(c->ct) * (c->gated ? 2 : 1);
        if (bad) fail_msg("%s: %zu NaN/Inf results", what, bad);
        if (!(err <= tol))
            fail_msg("%s: relative error %g > %g (C[0] = %g, reference %g)", what, err, tol, got[0],
                     ref[0]);
        free(out);
        free(mask);
    }
    xhal_buffer_free(ba);
    xhal_buffer_free(bb);
    xhal_buffer_free(bc);
    xhal_buffer_free(bbias);
    xhal_buffer_free(bscales);
    xhal_buffer_free(bzeros);
    if (c->quant) {
        free_quantized(&q);
    } else {
        free(bhost);
        free(bvals);
    }
    free(ahost);
    free(chost);
    free(bias);
    free(bias_host);
    free(ref);
    free(got);
    free(t);
}

static void run_case(const scase_t *c, uint64_t seed) {
    for (size_t i = 0; i < set.count; i++) {
        xhal_device_info_t info = {.struct_size = sizeof info};
        XT_OK(xhal_device_info(set.device[i], &info));
        run_on(c, set.device[i], set.stream[i], info.spec, seed);
    }
}

static const xhal_dtype_t dtypes[3] = {XHAL_DTYPE_F32, XHAL_DTYPE_F16, XHAL_DTYPE_BF16};

/* Every activation with and without bias, in every dtype, on the three dense paths. */
static void test_epilogue_activations(void **state) {
    (void)state;
    /* m 2 NN: the GEMV's row path; m 3 NT: its column path; m 37: the blocked GEMM. */
    const int64_t shapes[3][4] = {{2, 70, 129, 0}, {3, 65, 200, 1}, {37, 45, 67, 1}};
    int idx = 0;
    for (int a = 0; a < XHAL_ACTIVATION_COUNT; a++)
        for (int t = 0; t < 3; t++)
            for (int s = 0; s < 3; s++, idx++) {
                scase_t c = base(shapes[s][0], shapes[s][1], shapes[s][2], dtypes[t]);
                c.tb = (int)shapes[s][3];
                c.act = (xhal_activation_t)a;
                c.bias = idx % 3 == 0 ? BIAS_NONE : idx % 3 == 1 ? BIAS_F32 : BIAS_C;
                c.pad = idx % 2 ? 3 : 0;
                run_case(&c, 100 + (uint64_t)idx);
            }
}

/*
 * The activations one by one, to f32 precision: with k = 1 and B all ones the product is A
 * itself, exact, so each output is act(x) of a known x in [-12, 12]. Each is held to a relative
 * error of 1e-6, times 1 + z on the negative side, where the value decays like e^-z and z
 * rounded in f32 alone costs z ulps (values under 1e-30 count as 0), on the blocked path (x
 * down a column) and both GEMV paths (x along a row).
 */
static void test_epilogue_precision(void **state) {
    (void)state;
    enum { COUNT = 481 }; /* x = -12 .. 12 in steps of 0.05 */
    float x[COUNT], ones[COUNT];
    for (int i = 0; i < COUNT; i++) {
        x[i] = -12.0f + 0.05f * (float)i;
        ones[i] = 1.0f;
    }
    for (size_t dv = 0; dv < set.count; dv++)
        for (int a = 1; a < XHAL_ACTIVATION_COUNT; a++)
            for (int form = 0; form < 3; form++) {
                /* 0: C = x (481 x 1) * ones (1 x 17); 1: ones (1 x 1) * x (1 x 481), B k x n;
                 * 2: the same with B n x k. */
                int64_t m = form == 0 ? COUNT : 1, n = form == 0 ? 17 : COUNT;
                xhal_gemm_desc_t d;
                xhal_gemm_desc_init(&d, m, n, 1, XHAL_DTYPE_F32);
                d.trans_b = form == 2;
                d.ldb = form == 2 ? 1 : n;
                d.activation = (xhal_activation_t)a;
                if (xhal_gemm_supports(set.device[dv], &d) == XHAL_UNSUPPORTED) continue;
                xhal_buffer_t *ba = xt_upload(set.device[dv], set.stream[dv], form ? ones : x,
                                              sizeof(float) * (size_t)m);
                xhal_buffer_t *bb = xt_upload(set.device[dv], set.stream[dv], form ? x : ones,
                                              sizeof(float) * (size_t)n);
                xhal_buffer_t *bc = NULL;
                XT_OK(xhal_buffer_alloc(set.device[dv], sizeof(float) * (size_t)(m * n),
                                        XHAL_MEMORY_DEVICE, &bc));
                d.a = ba, d.b = bb, d.c = bc;
                XT_OK(xhal_gemm(set.stream[dv], &d));
                float *out = xt_malloc(sizeof(float) * (size_t)(m * n));
                xt_download(set.stream[dv], out, bc, sizeof(float) * (size_t)(m * n));
                double worst = 0;
                for (int64_t e = 0; e < m * n; e++) {
                    double xv = x[form == 0 ? e / n : e], want = activate(xv, d.activation);
                    /* Where the value decays like e^-z, rounding z in f32 alone costs a
                     * relative z ulps: the bound grows with it. */
                    double z = a == XHAL_ACTIVATION_GELU_ERF ? 0.5 * xv * xv
                               : a == XHAL_ACTIVATION_GELU_TANH
                                   ? 1.6 * fabs(xv + 0.044715 * xv * xv * xv)
                                   : fabs(xv);
                    double loose = xv < 0 ? 1 + z : 1;
                    /* Values below 1e-30 (subnormal in f32, or near it) may flush to 0. */
                    double err = fabs((double)out[e] - want) / (fabs(want) + 1e-24);
                    if (!(err <= 1e-6 * loose))
                        fail_msg("activation %d form %d: act(%g) = %.9g, want %.9g", a, form, xv,
                                 (double)out[e], want);
                    worst = fmax(worst, err / loose);
                }
                if (form == 0)
                    print_message("activation %d: worst relative error %.2e\n", a, worst);
                free(out);
                xhal_buffer_free(ba);
                xhal_buffer_free(bb);
                xhal_buffer_free(bc);
            }
}

/* Large products (alpha 8): the activations' tails, where exp saturates. */
static void test_epilogue_large_values(void **state) {
    (void)state;
    for (int a = 1; a < XHAL_ACTIVATION_COUNT; a++) {
        scase_t c = base(20, 40, 64, XHAL_DTYPE_F32);
        c.act = (xhal_activation_t)a;
        c.alpha = 8.0f;
        c.bias = BIAS_F32;
        run_case(&c, 200 + (uint64_t)a);
        c.m = 1;
        c.tb = 1;
        run_case(&c, 210 + (uint64_t)a);
    }
}

/* beta, alpha, batches, transposed A and C of another dtype with an epilogue. */
static void test_epilogue_with_beta_and_batches(void **state) {
    (void)state;
    for (int i = 0; i < 6; i++) {
        scase_t c = base(i < 3 ? 4 : 33, 50, 41, dtypes[i % 3]);
        c.ct = dtypes[(i + 1) % 3];
        c.ta = i % 2;
        c.tb = (i / 2) % 2;
        c.beta = 0.5f;
        c.alpha = -0.75f;
        c.batch = 2;
        c.bias = BIAS_C;
        c.act = (xhal_activation_t)(1 + i % 4);
        c.pad = 2;
        run_case(&c, 300 + (uint64_t)i);
    }
}

/* The gated form on every path and dtype, n/2 crossing micro-panel widths. */
static void test_gated(void **state) {
    (void)state;
    const int64_t shapes[5][4] = {
        {1, 2 * 70, 100, 1},  {3, 2 * 33, 77, 0},    {37, 2 * 50, 65, 1},
        {250, 2 * 40, 30, 0}, {17, 2 * 100, 300, 0},
    };
    int idx = 0;
    for (int s = 0; s < 5; s++)
        for (int t = 0; t < 3; t++, idx++) {
            scase_t c = base(shapes[s][0], shapes[s][1], shapes[s][2], dtypes[t]);
            c.tb = (int)shapes[s][3];
            c.gated = 1;
            c.act = idx % 2 ? XHAL_ACTIVATION_SILU : XHAL_ACTIVATION_GELU_TANH;
            c.bias = idx % 3 == 0 ? BIAS_NONE : BIAS_F32;
            c.batch = 1 + idx % 2;
            c.pad = idx % 3;
            c.ct = idx % 4 == 0 ? XHAL_DTYPE_F32 : c.ct;
            run_case(&c, 400 + (uint64_t)idx);
        }
}

/* Each quantized format with f32/f16/bf16 activations on the quantized GEMV (m <= 4, B n x k)
 * and the packing path (larger m, or B k x n), odd k for group tails. */
static void test_quantized(void **state) {
    (void)state;
    static const struct {
        xhal_quant_t quant;
        xhal_scale_mode_t mode;
        int64_t group;
        int zeros;
        xhal_dtype_t st;
    } kinds[] = {
        {XHAL_QUANT_INT8, XHAL_SCALE_PER_CHANNEL, 0, 0, XHAL_DTYPE_F16},
        {XHAL_QUANT_INT8, XHAL_SCALE_PER_TENSOR, 0, 0, XHAL_DTYPE_F32},
        {XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 32, 1, XHAL_DTYPE_BF16},
        {XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 64, 0, XHAL_DTYPE_F16},
        {XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 128, 1, XHAL_DTYPE_F32},
        {XHAL_QUANT_FP8_E4M3, XHAL_SCALE_PER_CHANNEL, 0, 0, XHAL_DTYPE_F16},
        {XHAL_QUANT_FP8_E4M3, XHAL_SCALE_PER_TENSOR, 0, 0, XHAL_DTYPE_BF16},
        {XHAL_QUANT_FP8_E5M2, XHAL_SCALE_PER_CHANNEL, 0, 0, XHAL_DTYPE_F32},
    };
    /* m, n, k, trans_b: decode, decode past 4 columns per kernel call and a long odd k,
     * prefill NT, prefill NN, decode NN. */
    const int64_t shapes[5][4] = {
        {1, 67, 161, 1}, {4, 130, 1001, 1}, {37, 70, 259, 1}, {21, 33, 97, 0}, {2, 40, 65, 0},
    };
    int idx = 0;
    for (size_t q = 0; q < sizeof kinds / sizeof kinds[0]; q++)
        for (int s = 0; s < 5; s++, idx++) {
            scase_t c = base(shapes[s][0], shapes[s][1], shapes[s][2], dtypes[idx % 3]);
            c = quantized(c, kinds[q].quant, kinds[q].mode, kinds[q].group, kinds[q].zeros);
            c.tb = (int)shapes[s][3];
            c.st = kinds[q].st;
            c.pad = idx % 4 == 1 ? 5 : 0;
            c.ta = idx % 5 == 3;
            run_case(&c, 500 + (uint64_t)idx);
        }
}

/* Quantized B with epilogues, batches sharing the weights, beta and C of another dtype. */
static void test_quantized_with_epilogue(void **state) {
    (void)state;
    const xhal_quant_t formats[4] = {XHAL_QUANT_INT8, XHAL_QUANT_INT4, XHAL_QUANT_FP8_E4M3,
                                     XHAL_QUANT_FP8_E5M2};
    int idx = 0;
    for (int f = 0; f < 4; f++)
        for (int s = 0; s < 3; s++, idx++) {
            const int64_t m = s == 0 ? 1 : s == 1 ? 3 : 29;
            scase_t c = base(m, 2 * 48, 200, dtypes[idx % 3]);
            int int4 = formats[f] == XHAL_QUANT_INT4;
            c = quantized(c, formats[f], int4 ? XHAL_SCALE_PER_GROUP : XHAL_SCALE_PER_CHANNEL,
                          int4 ? 64 : 0, idx % 2);
            c.zeros = int4 && idx % 2;
            c.bias = 1 + idx % 2;
            c.act = (xhal_activation_t)(1 + idx % 4);
            c.gated = s != 1;
            c.beta = c.gated ? 0.0f : 0.25f;
            c.batch = 1 + idx % 3;
            c.ct = idx % 3 == 2 ? XHAL_DTYPE_F32 : c.ct;
            run_case(&c, 600 + (uint64_t)idx);
        }
}

static int setup(void **state) {
    (void)state;
    return xt_devices_open_streams(&set);
}

static int teardown(void **state) {
    (void)state;
    if (skipped)
        print_message("[ SKIP     ] %zu case runs unsupported (the first is above)\n", skipped);
    xt_devices_close(&set);
    return 0;
}

int main(void) {
    unsetenv("XHAL_DEVICE");
    unsetenv("XHAL_BACKENDS");
    if (xt_devices_select(&set) == 0) {
        print_message("no device to test (XHAL_TEST_CPU_ONLY / XHAL_TEST_BACKEND)\n");
        xhal_shutdown();
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epilogue_activations),
        cmocka_unit_test(test_epilogue_precision),
        cmocka_unit_test(test_epilogue_large_values),
        cmocka_unit_test(test_epilogue_with_beta_and_batches),
        cmocka_unit_test(test_gated),
        cmocka_unit_test(test_quantized),
        cmocka_unit_test(test_quantized_with_epilogue),
    };
    return cmocka_run_group_tests_name("gemm_serving", tests, setup, teardown);
}
