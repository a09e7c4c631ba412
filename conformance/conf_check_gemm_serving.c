/*
 * GEMM correctness cases for serving: the epilogue (a bias of f32 or of C's dtype, each
 * activation, the gated form) and weight-only quantized B (INT8 per channel and per tensor,
 * INT4 in groups of 32, 64 and 128 with and without zero points, FP8 E4M3 and E5M2), each in the
 * run's dtypes (A, C and a C-typed bias in the dtype; the scales' type is the case's). Shapes
 * cover decode (m = 1..3) and prefill, both layouts of B where the format has them, and k that
 * no group size divides (tails). The weights are made with xhal_quantize_weights and the fp64
 * reference multiplies what xhal_dequantize_weights returns, so a backend is judged on its
 * arithmetic, not on its reading of the quantizer. Besides the result, the padding of C and every
 * input (B's bytes, scales, zero points, bias) must be unchanged, bit for bit.
 */
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

enum { NO_BIAS = 0, BIAS_F32, BIAS_C };
enum { S_F16 = 0, S_BF16, S_F32 };

typedef struct serving_case {
    const char *name;
    int64_t m, n, k; /* n: the product's columns (C has n / 2 when gated) */
    int trans_b;
    int bias;
    xhal_activation_t act;
    int gated;
    xhal_quant_t quant;
    xhal_scale_mode_t mode;
    int64_t group;
    int scale; /* S_* */
    int zeros;
    int64_t batch; /* A and C batched, B shared */
    float beta;
    int quick;
} serving_case_t;

#define RELU XHAL_ACTIVATION_RELU
#define GELU XHAL_ACTIVATION_GELU_ERF
#define TANH XHAL_ACTIVATION_GELU_TANH
#define SILU XHAL_ACTIVATION_SILU
#define NONE XHAL_ACTIVATION_NONE
#define Q8 XHAL_QUANT_INT8
#define Q4 XHAL_QUANT_INT4
#define E4 XHAL_QUANT_FP8_E4M3
#define E5 XHAL_QUANT_FP8_E5M2
#define CH XHAL_SCALE_PER_CHANNEL
#define TE XHAL_SCALE_PER_TENSOR
#define GR XHAL_SCALE_PER_GROUP

static const serving_case_t cases[] = {
    /* name, m, n, k, trans_b, bias, act, gated, quant, mode, group, scale, zeros, batch, beta,
     * quick */
    {"epi-bias", 33, 65, 47, 1, BIAS_F32, NONE, 0, 0, CH, 0, 0, 0, 1, 0, 1},
    {"epi-bias-ctype-relu-beta", 17, 130, 33, 0, BIAS_C, RELU, 0, 0, CH, 0, 0, 0, 1, 0.5f, 0},
    {"epi-relu-decode", 1, 300, 257, 1, BIAS_C, RELU, 0, 0, CH, 0, 0, 0, 1, 0, 1},
    {"epi-gelu", 70, 96, 129, 0, BIAS_F32, GELU, 0, 0, CH, 0, 0, 0, 1, 0, 1},
    {"epi-gelu-decode", 2, 200, 150, 0, NO_BIAS, GELU, 0, 0, CH, 0, 0, 0, 1, 0, 0},
    {"epi-gelu-tanh", 40, 64, 100, 1, BIAS_F32, TANH, 0, 0, CH, 0, 0, 0, 1, 0, 0},
    {"epi-gelu-tanh-decode", 1, 128, 300, 1, BIAS_C, TANH, 0, 0, CH, 0, 0, 0, 1, 0, 0},
    {"epi-silu", 50, 70, 90, 0, NO_BIAS, SILU, 0, 0, CH, 0, 0, 0, 2, 0.25f, 0},
    {"epi-silu-decode", 3, 64, 1000, 0, BIAS_C, SILU, 0, 0, CH, 0, 0, 0, 1, 0, 0},
    {"epi-gated-silu", 37, 96, 65, 1, BIAS_F32, SILU, 1, 0, CH, 0, 0, 0, 1, 0, 1},
    {"epi-gated-gelu-decode", 1, 260, 100, 1, NO_BIAS, GELU, 1, 0, CH, 0, 0, 0, 1, 0, 1},
    {"epi-gated-tanh-rows", 2, 66, 77, 0, BIAS_C, TANH, 1, 0, CH, 0, 0, 0, 1, 0, 0},
    {"epi-gated-batch", 250, 80, 30, 0, BIAS_F32, SILU, 1, 0, CH, 0, 0, 0, 2, 0, 0},
    {"q8-channel-decode", 1, 257, 300, 1, NO_BIAS, NONE, 0, Q8, CH, 0, S_F16, 0, 1, 0, 1},
    {"q8-tensor-prefill", 70, 65, 129, 1, BIAS_F32, RELU, 0, Q8, TE, 0, S_F32, 0, 1, 0, 1},
    {"q8-nn", 21, 33, 97, 0, NO_BIAS, NONE, 0, Q8, CH, 0, S_BF16, 0, 1, 0, 0},
    {"q8-batch-beta", 5, 40, 64, 1, NO_BIAS, NONE, 0, Q8, CH, 0, S_F16, 0, 3, 0.5f, 0},
    {"q4-g32-zeros-decode", 1, 96, 161, 1, NO_BIAS, NONE, 0, Q4, GR, 32, S_BF16, 1, 1, 0, 1},
    {"q4-g128-decode", 3, 130, 1000, 1, BIAS_F32, GELU, 0, Q4, GR, 128, S_F16, 0, 1, 0, 0},
    {"q4-g64-prefill-odd", 37, 70, 199, 1, NO_BIAS, NONE, 0, Q4, GR, 64, S_F32, 1, 1, 0, 1},
    {"q4-g128-nn", 20, 48, 300, 0, NO_BIAS, NONE, 0, Q4, GR, 128, S_F16, 0, 1, 0, 0},
    {"q4-g32-gated-decode", 1, 128, 256, 1, BIAS_F32, SILU, 1, Q4, GR, 32, S_F16, 0, 1, 0, 1},
    {"e4m3-channel-decode", 1, 200, 333, 1, NO_BIAS, NONE, 0, E4, CH, 0, S_F16, 0, 1, 0, 1},
    {"e4m3-tensor-prefill", 50, 64, 129, 1, BIAS_C, SILU, 0, E4, TE, 0, S_BF16, 0, 1, 0, 0},
    {"e5m2-channel", 2, 77, 257, 1, NO_BIAS, NONE, 0, E5, CH, 0, S_F32, 0, 1, 0, 1},
    {"e5m2-nn-prefill", 33, 40, 65, 0, NO_BIAS, NONE, 0, E5, CH, 0, S_F16, 0, 1, 0, 0},
};

#define CASE_COUNT (sizeof cases / sizeof cases[0])

static const char *name(size_t index) {
    return cases[index].name;
}

static int is_quick(size_t index) {
    return cases[index].quick;
}

static xhal_dtype_t scale_type(const serving_case_t *c) {
    return c->scale == S_F32    ? XHAL_DTYPE_F32
           : c->scale == S_BF16 ? XHAL_DTYPE_BF16
                                : XHAL_DTYPE_F16;
}

static const char *const activation_names[] = {"", " relu", " gelu", " gelu-tanh", " silu"};

static void describe(size_t index, char *out, size_t size) {
    const serving_case_t *c = &cases[index];
    conf_format(out, size, "%lldx%lldx%lld N%c", (long long)c->m, (long long)c->n, (long long)c->k,
                c->trans_b ? 'T' : 'N');
    if (c->quant == Q8) conf_append(out, size, " int8");
    if (c->quant == Q4)
        conf_append(out, size, " int4-g%lld%s", (long long)c->group, c->zeros ? "+zeros" : "");
    if (c->quant == E4) conf_append(out, size, " e4m3");
    if (c->quant == E5) conf_append(out, size, " e5m2");
    if (c->quant)
        conf_append(out, size, " %s %s scales",
                    c->mode == TE   ? "per-tensor"
                    : c->mode == CH ? "per-channel"
                                    : "group",
                    xhal_dtype_name(scale_type(c)));
    if (c->bias) conf_append(out, size, " bias %s", c->bias == BIAS_F32 ? "f32" : "C-type");
    conf_append(out, size, "%s%s", c->gated ? " gated" : "", activation_names[c->act]);
    if (c->batch > 1) conf_append(out, size, " batch %lld", (long long)c->batch);
    if (c->beta != 0.0f) conf_append(out, size, " beta %g", (double)c->beta);
}

/* Raw bytes uploaded as they are (quantized B, zero points), kept to find changes. */
typedef struct bytes {
    uint8_t *raw, *back;
    size_t size;
    xhal_buffer_t *buffer;
} bytes_t;

static int bytes_init(bytes_t *b, size_t size, conf_check_t *r) {
    b->size = size;
    b->raw = calloc(size ? size : 1, 1);
    b->back = calloc(size ? size : 1, 1);
    b->buffer = NULL;
    return conf_host_alloc(r, b->raw) && conf_host_alloc(r, b->back);
}

static int bytes_upload(conf_ctx_t *ctx, bytes_t *b, conf_check_t *r) {
    /* No such memory on the device (UNSUPPORTED): SKIP, as conf_tensor_upload does. */
    return conf_supported(r,
                          xhal_buffer_alloc(ctx->device, b->size, XHAL_MEMORY_DEVICE, &b->buffer),
                          "xhal_buffer_alloc") &&
           conf_ok(r, xhal_copy_h2d(ctx->stream, b->buffer, 0, b->raw, b->size), "xhal_copy_h2d");
}

static void bytes_free(bytes_t *b) {
    xhal_buffer_free(b->buffer);
    free(b->raw);
    free(b->back);
    memset(b, 0, sizeof *b);
}

/* The case's inputs: t[0] A, t[1] C, t[2] bias, t[3] scales; bytes: B (dense B is t[4]). */
typedef struct inputs {
    conf_tensor_t t[5];
    bytes_t b, zeros;
    double *b_nk; /* op(B) transposed, dense: n x k */
} inputs_t;

static void set_nibble(uint8_t *bytes, int64_t e, unsigned v) {
    uint8_t *at = &bytes[e / 2];
    *at = (uint8_t)(e % 2 ? (*at & 0x0f) | v << 4 : (*at & 0xf0) | v);
}

/* Quantizes random weights with the case's format, laid out for trans_b (ldb set in d). */
static int make_quantized(conf_ctx_t *ctx, const serving_case_t *c, xhal_gemm_desc_t *d,
                          inputs_t *in, conf_check_t *r) {
    xhal_quantize_desc_t q = {.struct_size = sizeof q,
                              .format = c->quant,
                              .n = c->n,
                              .k = c->k,
                              .scale_mode = c->mode,
                              .group_size = c->group,
                              .scale_type = scale_type(c),
                              .zero_points = c->zeros};
    uint64_t weight_bytes, scale_bytes, zero_bytes;
    int64_t ldq;
    if (!conf_ok(r, xhal_quantize_sizes(&q, &weight_bytes, &scale_bytes, &zero_bytes, &ldq),
                 "xhal_quantize_sizes"))
        return 0;
    size_t count = (size_t)(c->n * c->k);
    float *w = malloc(count * sizeof *w);
    uint8_t *packed = malloc(weight_bytes);
    int ok = conf_host_alloc(r, w) && conf_host_alloc(r, packed) &&
             conf_tensor_init(&in->t[3], scale_type(c),
                              (size_t)(scale_bytes / xhal_dtype_size(scale_type(c))), r) &&
             bytes_init(&in->zeros, (size_t)zero_bytes, r) &&
             conf_host_alloc(r, in->b_nk = malloc(count * sizeof *in->b_nk));
    if (ok) {
        for (size_t i = 0; i < count; i++) /* rows of different magnitudes */
            w[i] = conf_random_value(&ctx->rng) * (float)(1 + i / (size_t)c->k % 4);
        ok = conf_ok(r, xhal_quantize_weights(&q, w, c->k, packed, in->t[3].raw, in->zeros.raw),
                     "xhal_quantize_weights") &&
             conf_ok(r, xhal_dequantize_weights(&q, packed, in->t[3].raw, in->zeros.raw, w, c->k),
                     "xhal_dequantize_weights");
    }
    const int int4 = c->quant == Q4;
    if (ok) {
        conf_tensor_decode(&in->t[3]);
        for (size_t i = 0; i < count; i++)
            in->b_nk[i] = w[i];
        /* B stored k x n takes the elements transposed; INT4 rows stay even. */
        d->ldb = c->trans_b ? ldq : int4 ? (c->n + 1) / 2 * 2 : c->n;
        int64_t elements = (c->trans_b ? c->n : c->k) * d->ldb;
        ok = bytes_init(&in->b, (size_t)(int4 ? elements / 2 : elements), r);
    }
    if (ok) {
        if (c->trans_b) {
            memcpy(in->b.raw, packed, in->b.size);
        } else {
            memset(in->b.raw, 0, in->b.size);
            for (int64_t j = 0; j < c->n; j++)
                for (int64_t p = 0; p < c->k; p++) {
                    int64_t from = j * ldq + p, to = p * d->ldb + j;
                    if (int4)
                        set_nibble(in->b.raw, to,
                                   from % 2 ? packed[from / 2] >> 4 : packed[from / 2] & 0x0fu);
                    else
                        in->b.raw[to] = packed[from];
                }
        }
    }
    free(w);
    free(packed);
    return ok;
}

/* A dense B of the run's dtype, stored as trans_b says. */
static int make_dense(conf_ctx_t *ctx, const serving_case_t *c, xhal_gemm_desc_t *d, inputs_t *in,
                      conf_check_t *r) {
    d->ldb = c->trans_b ? c->k : c->n;
    size_t count = (size_t)(c->n * c->k);
    if (!conf_tensor_init(&in->t[4], d->b_type, count, r) ||
        !conf_host_alloc(r, in->b_nk = malloc(count * sizeof *in->b_nk)))
        return 0;
    conf_tensor_randomize(&in->t[4], &ctx->rng);
    for (int64_t j = 0; j < c->n; j++)
        for (int64_t p = 0; p < c->k; p++)
            in->b_nk[j * c->k + p] = in->t[4].values[c->trans_b ? j * d->ldb + p : p * d->ldb + j];
    return 1;
}

static void make_desc(const serving_case_t *c, xhal_dtype_t dtype, xhal_gemm_desc_t *d) {
    xhal_gemm_desc_init(d, c->m, c->n, c->k, dtype);
    int64_t columns = c->gated ? c->n / 2 : c->n;
    d->trans_b = c->trans_b;
    d->ldc = columns;
    d->batch = c->batch;
    d->stride_a = c->m * c->k + 5; /* gaps between batches */
    d->stride_b = 0;
    d->stride_c = c->m * columns + 3;
    d->beta = c->beta;
    d->activation = c->act;
    d->gated = c->gated;
    d->bias_type = c->bias == BIAS_F32 ? XHAL_DTYPE_F32 : dtype;
    d->b_quant = c->quant;
    d->b_scale_mode = c->mode;
    d->b_group_size = c->group;
    d->b_scale_type = scale_type(c);
}

static int prepare(conf_ctx_t *ctx, const serving_case_t *c, xhal_gemm_desc_t *d, inputs_t *in,
                   conf_check_t *r) {
    size_t a_count = (size_t)((d->batch - 1) * d->stride_a + c->m * c->k);
    size_t c_count = (size_t)((d->batch - 1) * d->stride_c + c->m * d->ldc);
    if (!conf_tensor_init(&in->t[0], d->a_type, a_count, r) ||
        !conf_tensor_init(&in->t[1], d->c_type, c_count, r) ||
        !conf_tensor_init(&in->t[2], d->bias_type, (size_t)c->n, r))
        return 0;
    conf_tensor_randomize(&in->t[0], &ctx->rng);
    conf_tensor_randomize(&in->t[2], &ctx->rng);
    if (c->beta != 0)
        conf_tensor_randomize(&in->t[1], &ctx->rng);
    else
        conf_tensor_poison(&in->t[1]);
    return c->quant ? make_quantized(ctx, c, d, in, r) : make_dense(ctx, c, d, in, r);
}

/* Uploads the inputs and points the descriptor at them. */
static int upload(conf_ctx_t *ctx, const serving_case_t *c, xhal_gemm_desc_t *d, inputs_t *in,
                  conf_check_t *r) {
    for (int i = 0; i < 5; i++)
        if (in->t[i].raw && !conf_tensor_upload(ctx, &in->t[i], r)) return 0;
    if (c->quant && !bytes_upload(ctx, &in->b, r)) return 0;
    if (in->zeros.size && !bytes_upload(ctx, &in->zeros, r)) return 0;
    d->a = in->t[0].buffer;
    d->c = in->t[1].buffer;
    d->bias = c->bias ? in->t[2].buffer : NULL;
    d->b = c->quant ? in->b.buffer : in->t[4].buffer;
    d->b_scales = c->quant ? in->t[3].buffer : NULL;
    d->b_zeros = in->zeros.size ? in->zeros.buffer : NULL;
    return 1;
}

static int execute(conf_ctx_t *ctx, const serving_case_t *c, xhal_gemm_desc_t *d, inputs_t *in,
                   conf_check_t *r) {
    if (!conf_timer_start(ctx, r) || !conf_ok(r, xhal_gemm(ctx->stream, d), "xhal_gemm")) return 0;
    /* The inputs that are bytes come back too, to find changes. */
    if (c->quant && !conf_ok(r, xhal_copy_d2h(ctx->stream, in->b.back, in->b.buffer, 0, in->b.size),
                             "xhal_copy_d2h"))
        return 0;
    if (in->zeros.size &&
        !conf_ok(r, xhal_copy_d2h(ctx->stream, in->zeros.back, in->zeros.buffer, 0, in->zeros.size),
                 "xhal_copy_d2h"))
        return 0;
    /* conf_collect takes an array: the typed tensors in use, gathered and put back. */
    conf_tensor_t list[5];
    int used[5], count = 0;
    for (int i = 0; i < 5; i++)
        if ((used[i] = in->t[i].buffer != NULL)) list[count++] = in->t[i];
    int ok = conf_collect(ctx, list, (size_t)count, r);
    for (int i = 0, at = 0; i < 5; i++)
        if (used[i]) in->t[i] = list[at++];
    return ok;
}

static void run(conf_ctx_t *ctx, size_t index, xhal_dtype_t dtype, conf_check_t *r) {
    const serving_case_t *c = &cases[index];
    xhal_gemm_desc_t d;
    make_desc(c, dtype, &d);
    inputs_t in;
    memset(&in, 0, sizeof in);
    int64_t columns = c->gated ? c->n / 2 : c->n;
    size_t count = (size_t)(d.batch * d.m * columns);
    double *ref = malloc(count * sizeof *ref), *out = malloc(count * sizeof *out);
    double *t = malloc((size_t)c->n * sizeof *t);
    unsigned char *in_view = NULL;
    /* The inputs are made and uploaded first: `supports` is told of a bias and zero points by
     * their buffers. */
    if (conf_host_alloc(r, ref) && conf_host_alloc(r, out) && conf_host_alloc(r, t) &&
        prepare(ctx, c, &d, &in, r) && conf_host_alloc(r, in_view = calloc(in.t[1].count, 1)) &&
        upload(ctx, c, &d, &in, r) &&
        conf_supported(r, xhal_gemm_supports(ctx->device, &d), "xhal_gemm_supports")) {
        /* Before the run: the download overwrites the host values beta reads. */
        conf_ref_gemm_epilogue(&d, in.t[0].values, in.b_nk, in.t[1].values,
                               c->bias ? in.t[2].values : NULL, t, ref);
        if (execute(ctx, c, &d, &in, r)) {
            double *o = out;
            for (int64_t b = 0; b < d.batch; b++)
                for (int64_t i = 0; i < d.m; i++)
                    for (int64_t j = 0; j < columns; j++) {
                        int64_t at = conf_gemm_c_index(&d, b, i, j);
                        *o++ = in.t[1].values[at];
                        in_view[at] = 1;
                    }
            r->outside_writes = conf_tensor_changed(&in.t[1], in_view);
            r->inputs_changed = conf_tensor_changed(&in.t[0], NULL) +
                                conf_tensor_changed(&in.t[2], NULL) +
                                (in.t[3].raw ? conf_tensor_changed(&in.t[3], NULL) : 0) +
                                (in.t[4].raw ? conf_tensor_changed(&in.t[4], NULL) : 0);
            for (size_t i = 0; i < in.b.size; i++)
                r->inputs_changed += in.b.raw[i] != in.b.back[i];
            for (size_t i = 0; i < in.zeros.size; i++)
                r->inputs_changed += in.zeros.raw[i] != in.zeros.back[i];
            /* A gated output is the product of two rounded values: twice the bound. */
            conf_judge(r, out, ref, count, conf_gemm_bound(d.c_type, d.k) * (c->gated ? 2 : 1));
        }
    }
    (void)xhal_stream_synchronize(ctx->stream); /* nothing queued on what is freed */
    bytes_free(&in.b);
    bytes_free(&in.zeros);
    conf_release(ctx, in.t, 5);
    free(in.b_nk);
    free(in_view);
    free(ref);
    free(out);
    free(t);
}

const conf_check_table_t conf_check_gemm_serving = {
    .op = CONF_OP_GEMM,
    .count = CASE_COUNT,
    .name = name,
    .is_quick = is_quick,
    .describe = describe,
    .run = run,
};
