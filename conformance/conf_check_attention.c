/*
 * Attention correctness cases: MHA, GQA (2:1, 4:1, 8:1) and MQA, both layouts, strides with
 * padding between rows, causal and not, a chunk of queries over a longer KV (where the
 * bottom-right alignment matters), more queries than keys (rows that see no key are zeros),
 * decode steps up to a 4097-long KV, head_dim 64, 80, 128 and 256, and a scale that is not the
 * default.
 *
 * Besides the result, each case checks that the padding of O and the inputs are unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

typedef struct attention_case {
    const char *name;
    int64_t batch, heads_q, heads_kv, seq_q, seq_kv, head_dim;
    int causal;
    xhal_layout_t layout;
    int64_t pad; /* elements added to the stride of the row axis next to head_dim */
    float scale; /* 0: 1/sqrt(head_dim) */
    int quick;
} attention_case_t;

#define BSHD XHAL_LAYOUT_BSHD
#define BHSD XHAL_LAYOUT_BHSD

static const attention_case_t cases[] = {
    {"mha", 1, 2, 2, 17, 17, 64, 0, BSHD, 0, 0.0f, 0},
    {"gqa-causal", 1, 4, 2, 33, 33, 64, 1, BSHD, 0, 0.0f, 1},
    {"gqa-causal-bhsd", 1, 4, 2, 17, 17, 64, 1, BHSD, 0, 0.0f, 0},
    {"chunk-bottom-right", 1, 4, 2, 5, 33, 64, 1, BHSD, 0, 0.0f, 1},
    {"decode", 1, 8, 2, 1, 257, 64, 1, BHSD, 0, 0.0f, 1},
    {"decode-mqa-batch3", 3, 8, 1, 1, 100, 128, 1, BHSD, 0, 0.0f, 0},
    {"mqa-batch2", 2, 8, 1, 9, 40, 128, 0, BSHD, 0, 0.0f, 0},
    {"gqa8-causal-d128", 1, 16, 2, 33, 65, 128, 1, BSHD, 0, 0.0f, 1},
    {"prefill-d128", 1, 4, 4, 128, 128, 128, 1, BSHD, 0, 0.0f, 0},
    {"d256", 1, 2, 1, 17, 33, 256, 1, BSHD, 0, 0.0f, 1},
    {"decode-d256", 2, 4, 1, 4, 129, 256, 1, BHSD, 0, 0.0f, 0},
    {"q-longer-than-kv", 1, 2, 2, 9, 4, 64, 1, BSHD, 0, 0.0f, 0},
    {"one-key", 1, 1, 1, 1, 1, 64, 0, BSHD, 0, 0.0f, 0},
    {"padded-strides", 2, 4, 2, 7, 19, 64, 1, BSHD, 24, 0.3f, 1},
    {"d80-padded-bhsd", 1, 3, 1, 13, 29, 80, 0, BHSD, 8, 0.0f, 0},
    {"decode-kv4097", 1, 8, 1, 1, 4097, 128, 1, BHSD, 0, 0.0f, 1},
};

#define CASE_COUNT (sizeof cases / sizeof cases[0])

static const char *name(size_t index) {
    return cases[index].name;
}

static int is_quick(size_t index) {
    return cases[index].quick;
}

static void describe(size_t index, char *out, size_t size) {
    const attention_case_t *c = &cases[index];
    conf_format(out, size, "b%lld hq%lld hkv%lld sq%lld skv%lld d%lld %s", (long long)c->batch,
                (long long)c->heads_q, (long long)c->heads_kv, (long long)c->seq_q,
                (long long)c->seq_kv, (long long)c->head_dim, c->layout == BSHD ? "bshd" : "bhsd");
    if (c->causal) conf_append(out, size, " causal");
    if (c->pad) conf_append(out, size, " pad %lld", (long long)c->pad);
    if (c->scale != 0) conf_append(out, size, " scale %g", (double)c->scale);
}

/* Strides of `layout` with `pad` elements after each row of the axis next to head_dim. */
static void padded_strides(xhal_attention_strides_t *s, xhal_layout_t layout, int64_t heads,
                           int64_t seq, int64_t head_dim, int64_t pad) {
    if (layout == BSHD) {
        s->head = head_dim;
        s->seq = heads * head_dim + pad;
        s->batch = seq * s->seq;
    } else {
        s->seq = head_dim + pad;
        s->head = seq * s->seq;
        s->batch = heads * s->head;
    }
}

static void make_desc(const attention_case_t *c, xhal_dtype_t dtype, xhal_attention_desc_t *d) {
    xhal_attention_desc_init(d, c->batch, c->heads_q, c->heads_kv, c->seq_q, c->seq_kv, c->head_dim,
                             dtype, c->layout);
    d->causal = c->causal;
    d->scale = c->scale;
    padded_strides(&d->q_strides, c->layout, c->heads_q, c->seq_q, c->head_dim, c->pad);
    padded_strides(&d->k_strides, c->layout, c->heads_kv, c->seq_kv, c->head_dim, c->pad);
    padded_strides(&d->v_strides, c->layout, c->heads_kv, c->seq_kv, c->head_dim, c->pad);
    padded_strides(&d->o_strides, c->layout, c->heads_q, c->seq_q, c->head_dim, c->pad);
}

/* Elements from the first to one past the last of a tensor, padding after the last row too. */
static size_t extent(const xhal_attention_strides_t *s, int64_t batch, int64_t heads, int64_t seq,
                     int64_t head_dim, int64_t pad) {
    return (size_t)(conf_attention_row(s, batch - 1, heads - 1, seq - 1) + head_dim + pad);
}

/* t[0..3] = Q, K, V (random) and O (NaN). */
static int prepare(conf_ctx_t *ctx, const attention_case_t *c, const xhal_attention_desc_t *d,
                   conf_tensor_t *t, conf_check_t *r) {
    size_t counts[4] = {
        extent(&d->q_strides, d->batch, d->heads_q, d->seq_q, d->head_dim, c->pad),
        extent(&d->k_strides, d->batch, d->heads_kv, d->seq_kv, d->head_dim, c->pad),
        extent(&d->v_strides, d->batch, d->heads_kv, d->seq_kv, d->head_dim, c->pad),
        extent(&d->o_strides, d->batch, d->heads_q, d->seq_q, d->head_dim, c->pad),
    };
    for (int i = 0; i < 4; i++)
        if (!conf_tensor_init(&t[i], d->dtype, counts[i], r)) return 0;
    for (int i = 0; i < 3; i++)
        conf_tensor_randomize(&t[i], &ctx->rng);
    conf_tensor_poison(&t[3]);
    return 1;
}

static int execute(conf_ctx_t *ctx, xhal_attention_desc_t *d, conf_tensor_t *t, conf_check_t *r) {
    for (int i = 0; i < 4; i++)
        if (!conf_tensor_upload(ctx, &t[i], r)) return 0;
    d->q = t[0].buffer;
    d->k = t[1].buffer;
    d->v = t[2].buffer;
    d->o = t[3].buffer;
    return conf_timer_start(ctx, r) &&
           conf_ok(r, xhal_attention(ctx->stream, d), "xhal_attention") &&
           conf_collect(ctx, t, 4, r);
}

/* O out of its layout into the reference's dense order, and which elements of O those are. */
static void gather(const xhal_attention_desc_t *d, const conf_tensor_t *o, double *out,
                   unsigned char *in_view) {
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t h = 0; h < d->heads_q; h++)
            for (int64_t i = 0; i < d->seq_q; i++)
                for (int64_t x = 0; x < d->head_dim; x++) {
                    int64_t at = conf_attention_row(&d->o_strides, b, h, i) + x;
                    *out++ = o->values[at];
                    in_view[at] = 1;
                }
}

static void run(conf_ctx_t *ctx, size_t index, xhal_dtype_t dtype, conf_check_t *r) {
    const attention_case_t *c = &cases[index];
    xhal_attention_desc_t d;
    make_desc(c, dtype, &d);
    if (!conf_supported(r, xhal_attention_supports(ctx->device, &d), "xhal_attention_supports"))
        return;

    conf_tensor_t t[4];
    memset(t, 0, sizeof t);
    size_t count = (size_t)(d.batch * d.heads_q * d.seq_q * d.head_dim);
    double *ref = malloc(count * sizeof *ref), *out = malloc(count * sizeof *out);
    double *scores = malloc((size_t)d.seq_kv * sizeof *scores);
    unsigned char *in_view = NULL;
    if (conf_host_alloc(r, ref) && conf_host_alloc(r, out) && conf_host_alloc(r, scores) &&
        prepare(ctx, c, &d, t, r) && conf_host_alloc(r, in_view = calloc(t[3].count, 1))) {
        conf_ref_attention(&d, t[0].values, t[1].values, t[2].values, scores, ref);
        if (execute(ctx, &d, t, r)) {
            gather(&d, &t[3], out, in_view);
            r->outside_writes = conf_tensor_changed(&t[3], in_view);
            r->inputs_changed = conf_tensor_changed(&t[0], NULL) +
                                conf_tensor_changed(&t[1], NULL) + conf_tensor_changed(&t[2], NULL);
            conf_judge(r, out, ref, count, conf_attention_bound(dtype));
        }
    }
    conf_release(ctx, t, 4);
    free(in_view);
    free(ref);
    free(out);
    free(scores);
}

const conf_check_table_t conf_check_attention = {
    .op = CONF_OP_ATTENTION,
    .count = CASE_COUNT,
    .name = name,
    .is_quick = is_quick,
    .describe = describe,
    .run = run,
};
