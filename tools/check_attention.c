/*
 * Attention cases of `xhal check`: GQA and MQA, both layouts, causal and not, a chunk of
 * queries over a longer KV (where bottom-right alignment matters) and a decode step.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

typedef struct attention_case {
    int64_t batch, heads_q, heads_kv, seq_q, seq_kv, head_dim;
    int causal;
    xhal_layout_t layout;
    int quick; /* part of `xhal check --quick` */
} attention_case_t;

static const attention_case_t cases[] = {
    {1, 4, 2, 17, 17, 64, 0, XHAL_LAYOUT_BSHD, 0},
    {1, 4, 2, 33, 33, 64, 1, XHAL_LAYOUT_BSHD, 1},
    {1, 4, 2, 17, 17, 64, 1, XHAL_LAYOUT_BHSD, 0},
    {1, 4, 2, 5, 33, 64, 1, XHAL_LAYOUT_BHSD, 0},  /* chunked prefill over a KV cache */
    {1, 4, 2, 1, 257, 64, 1, XHAL_LAYOUT_BHSD, 1}, /* decode */
    {2, 8, 1, 9, 40, 128, 0, XHAL_LAYOUT_BSHD, 0}, /* MQA, batch 2, head_dim 128 */
};

static int is_quick(size_t index) {
    return cases[index].quick;
}

static void describe(size_t index, char *out, size_t size) {
    const attention_case_t *c = &cases[index];
    snprintf(out, size, "b%lld hq%lld hkv%lld sq%lld skv%lld d%lld %s%s", (long long)c->batch,
             (long long)c->heads_q, (long long)c->heads_kv, (long long)c->seq_q,
             (long long)c->seq_kv, (long long)c->head_dim,
             c->layout == XHAL_LAYOUT_BSHD ? "bshd" : "bhsd", c->causal ? " causal" : "");
}

static void make_desc(const attention_case_t *c, xhal_dtype_t dtype, xhal_attention_desc_t *d) {
    xhal_attention_desc_init(d, c->batch, c->heads_q, c->heads_kv, c->seq_q, c->seq_kv, c->head_dim,
                             dtype, c->layout);
    d->causal = c->causal;
}

/* Index of element 0 of row (b, h, s). */
static int64_t row(const xhal_attention_strides_t *s, int64_t b, int64_t h, int64_t pos) {
    return b * s->batch + h * s->head + pos * s->seq;
}

/* Elements from the first to one past the last a tensor of this shape touches. */
static size_t extent(const xhal_attention_strides_t *s, int64_t batch, int64_t heads, int64_t seq,
                     int64_t head_dim) {
    return (size_t)(row(s, batch - 1, heads - 1, seq - 1) + head_dim);
}

/* How many keys query i sees: all, or j <= i + seq_kv - seq_q when causal (bottom right). */
static int64_t visible_keys(const xhal_attention_desc_t *d, int64_t i) {
    if (!d->causal) return d->seq_kv;
    int64_t last = i + d->seq_kv - d->seq_q;
    return last < 0 ? 0 : last + 1 < d->seq_kv ? last + 1 : d->seq_kv;
}

/* One output row: softmax over the visible keys of query i, in fp64; zeros when none. */
static void reference_row(const xhal_attention_desc_t *d, const double *const qkv[3], int64_t b,
                          int64_t h, int64_t i, double *p, double *out) {
    const double *q = qkv[0] + row(&d->q_strides, b, h, i);
    int64_t kv_head = h / (d->heads_q / d->heads_kv);
    int64_t keys = visible_keys(d, i);
    double scale = d->scale != 0 ? d->scale : 1.0 / sqrt((double)d->head_dim);
    double max = -INFINITY, sum = 0;
    for (int64_t j = 0; j < keys; j++) {
        const double *k = qkv[1] + row(&d->k_strides, b, kv_head, j);
        double dot = 0;
        for (int64_t x = 0; x < d->head_dim; x++)
            dot += q[x] * k[x];
        p[j] = scale * dot;
        max = fmax(max, p[j]);
    }
    for (int64_t j = 0; j < keys; j++)
        sum += (p[j] = exp(p[j] - max));
    for (int64_t x = 0; x < d->head_dim; x++) {
        double acc = 0;
        for (int64_t j = 0; j < keys; j++)
            acc += p[j] * qkv[2][row(&d->v_strides, b, kv_head, j) + x];
        out[x] = keys ? acc / sum : 0;
    }
}

/* ref[b][h][i][x], dense, whatever the layout. `p` holds seq_kv scores. */
static void reference(const xhal_attention_desc_t *d, const double *const qkv[3], double *p,
                      double *ref) {
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t h = 0; h < d->heads_q; h++)
            for (int64_t i = 0; i < d->seq_q; i++, ref += d->head_dim)
                reference_row(d, qkv, b, h, i, p, ref);
}

/* O out of its layout into the dense order of the reference. */
static void gather(const xhal_attention_desc_t *d, const double *o, double *out) {
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t h = 0; h < d->heads_q; h++)
            for (int64_t i = 0; i < d->seq_q; i++)
                for (int64_t x = 0; x < d->head_dim; x++)
                    *out++ = o[row(&d->o_strides, b, h, i) + x];
}

/* t[0..3] = Q, K, V (random) and O. */
static int prepare(check_context_t *ctx, const xhal_attention_desc_t *d, check_tensor_t *t,
                   check_result_t *r) {
    size_t counts[4] = {
        extent(&d->q_strides, d->batch, d->heads_q, d->seq_q, d->head_dim),
        extent(&d->k_strides, d->batch, d->heads_kv, d->seq_kv, d->head_dim),
        extent(&d->v_strides, d->batch, d->heads_kv, d->seq_kv, d->head_dim),
        extent(&d->o_strides, d->batch, d->heads_q, d->seq_q, d->head_dim),
    };
    for (int i = 0; i < 4; i++)
        if (!check_tensor_init(&t[i], d->dtype, counts[i], r)) return 0;
    for (int i = 0; i < 3; i++)
        check_tensor_randomize(&t[i], &ctx->rng);
    return 1;
}

static int execute(check_context_t *ctx, xhal_attention_desc_t *d, check_tensor_t *t,
                   check_result_t *r) {
    for (int i = 0; i < 3; i++)
        if (!check_tensor_upload(ctx, &t[i], r)) return 0;
    if (!check_tensor_poison(ctx, &t[3], r)) return 0;
    d->q = t[0].buffer;
    d->k = t[1].buffer;
    d->v = t[2].buffer;
    d->o = t[3].buffer;
    return check_timer_start(ctx, r) &&
           check_ok(r, xhal_attention(ctx->stream, d), "xhal_attention") &&
           check_collect(ctx, &t[3], r);
}

static void run(check_context_t *ctx, size_t index, xhal_dtype_t dtype, check_result_t *r) {
    xhal_attention_desc_t d;
    make_desc(&cases[index], dtype, &d);
    if (!check_supported(r, xhal_attention_supports(ctx->device, &d), "xhal_attention_supports"))
        return;

    check_tensor_t t[4] = {{0}};
    size_t count = (size_t)(d.batch * d.heads_q * d.seq_q * d.head_dim);
    double *ref = malloc(count * sizeof *ref), *out = malloc(count * sizeof *out);
    double *p = malloc((size_t)d.seq_kv * sizeof *p);
    if (check_host_alloc(r, ref) && check_host_alloc(r, out) && check_host_alloc(r, p) &&
        prepare(ctx, &d, t, r) && execute(ctx, &d, t, r)) {
        const double *const qkv[3] = {t[0].values, t[1].values, t[2].values};
        reference(&d, qkv, p, ref);
        gather(&d, t[3].values, out);
        check_compare(r, out, ref, count, dtype);
    }
    check_release(ctx, t, 4);
    free(ref);
    free(out);
    free(p);
}

const check_op_t check_op_attention = {
    .name = "attention",
    .case_count = sizeof cases / sizeof cases[0],
    .is_quick = is_quick,
    .describe = describe,
    .run = run,
};
