/*
 * Correctness cases of xhal_attention_merge (xhal.h): two partial outputs with their
 * log-sum-exps merged into one, in both layouts, with padded strides, head_dim 64 .. 256, in
 * place (o on o_a, lse on lse_a) and not, with and without the merged LSE. Some rows have one
 * side at -inf (that side saw no key, so its O is zeros, as attention writes it) and some both
 * (the merged row is zeros, its LSE -inf).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

typedef struct merge_case {
    const char *name;
    int64_t batch, heads, seq, head_dim;
    int64_t pad; /* elements after each row of the axis next to head_dim */
    xhal_layout_t layout;
    int in_place; /* o is o_a (and lse is lse_a) */
    int lse;      /* the merged LSE is written */
    int quick;
} merge_case_t;

static const merge_case_t cases[] = {
    {"merge-bshd", 2, 4, 7, 64, 0, XHAL_LAYOUT_BSHD, 0, 1, 1},
    {"merge-in-place-bhsd", 1, 8, 33, 128, 0, XHAL_LAYOUT_BHSD, 1, 1, 1},
    {"merge-no-lse-padded", 3, 2, 5, 80, 16, XHAL_LAYOUT_BSHD, 0, 0, 0},
    {"merge-d256-in-place", 1, 2, 3, 256, 8, XHAL_LAYOUT_BSHD, 1, 1, 0},
};

#define CASE_COUNT (sizeof cases / sizeof cases[0])

static const char *name(size_t index) {
    return cases[index].name;
}

static int is_quick(size_t index) {
    return cases[index].quick;
}

static void describe(size_t index, char *out, size_t size) {
    const merge_case_t *c = &cases[index];
    conf_format(out, size, "merge b%lld h%lld s%lld d%lld %s", (long long)c->batch,
                (long long)c->heads, (long long)c->seq, (long long)c->head_dim,
                c->layout == XHAL_LAYOUT_BSHD ? "bshd" : "bhsd");
    if (c->pad) conf_append(out, size, " pad %lld", (long long)c->pad);
    if (c->in_place) conf_append(out, size, " in-place");
    if (!c->lse) conf_append(out, size, " no-lse");
}

enum { T_OA, T_OB, T_O, T_LA, T_LB, T_L, T_COUNT };

/* Which side(s) of row r saw no key: 1 a, 2 b, 3 both, 0 neither. */
static int empty_side(size_t r) {
    return r % 11 == 6 ? 3 : r % 7 == 3 ? 1 : r % 7 == 5 ? 2 : 0;
}

static void make_desc(const merge_case_t *c, xhal_dtype_t dtype, xhal_attention_merge_desc_t *d) {
    xhal_attention_merge_desc_init(d, c->batch, c->heads, c->seq, c->head_dim, dtype, c->layout);
    xhal_attention_strides_t *s = &d->strides;
    if (c->layout == XHAL_LAYOUT_BSHD) {
        s->seq = c->heads * c->head_dim + c->pad;
        s->batch = c->seq * s->seq;
    } else {
        s->seq = c->head_dim + c->pad;
        s->head = c->seq * s->seq;
        s->batch = c->heads * s->head;
    }
}

static int64_t row_at(const xhal_attention_merge_desc_t *d, size_t r) {
    int64_t i = (int64_t)r % d->seq, h = (int64_t)r / d->seq % d->heads;
    int64_t b = (int64_t)r / d->seq / d->heads;
    return conf_attention_row(&d->strides, b, h, i);
}

/* Random inputs; rows a side did not see get lse -inf and O zeros. */
static int prepare(conf_ctx_t *ctx, const merge_case_t *c, const xhal_attention_merge_desc_t *d,
                   conf_tensor_t *t, size_t rows, conf_check_t *r) {
    size_t count = (size_t)(row_at(d, rows - 1) + d->head_dim + c->pad);
    for (int i = T_OA; i <= T_O; i++)
        if ((i != T_O || !c->in_place) && !conf_tensor_init(&t[i], d->dtype, count, r)) return 0;
    for (int i = T_LA; i <= T_L; i++)
        if ((i != T_L || (c->lse && !c->in_place)) &&
            !conf_tensor_init(&t[i], XHAL_DTYPE_F32, rows, r))
            return 0;
    conf_tensor_randomize(&t[T_OA], &ctx->rng);
    conf_tensor_randomize(&t[T_OB], &ctx->rng);
    for (size_t i = 0; i < rows; i++) {
        int empty = empty_side(i);
        for (int side = 0; side < 2; side++) {
            conf_tensor_t *o = &t[side ? T_OB : T_OA], *l = &t[side ? T_LB : T_LA];
            float lse = 4.0f * conf_random_value(&ctx->rng);
            if (empty & (1 << side)) {
                lse = -INFINITY;
                for (int64_t e = 0; e < d->head_dim; e++)
                    o->values[row_at(d, i) + e] =
                        conf_store(o->raw, d->dtype, (size_t)(row_at(d, i) + e), 0.0f);
            }
            l->values[i] = conf_store(l->raw, XHAL_DTYPE_F32, i, lse);
        }
    }
    if (t[T_O].raw) conf_tensor_poison(&t[T_O]);
    if (t[T_L].raw) conf_tensor_poison(&t[T_L]);
    return 1;
}

/* The reference, from the definition: rows in [b][h][i] order, then the merged LSEs. */
static void reference(const xhal_attention_merge_desc_t *d, const conf_tensor_t *t, size_t rows,
                      double *ref, double *lse_ref) {
    for (size_t r = 0; r < rows; r++, ref += d->head_dim) {
        double la = t[T_LA].values[r], lb = t[T_LB].values[r], top = fmax(la, lb);
        double wa = top > -INFINITY ? exp(la - top) : 0, wb = top > -INFINITY ? exp(lb - top) : 0;
        int64_t at = row_at(d, r);
        for (int64_t e = 0; e < d->head_dim; e++)
            ref[e] = top > -INFINITY
                         ? (wa * t[T_OA].values[at + e] + wb * t[T_OB].values[at + e]) / (wa + wb)
                         : 0;
        lse_ref[r] = top > -INFINITY ? top + log(wa + wb) : -INFINITY;
    }
}

static void run(conf_ctx_t *ctx, size_t index, xhal_dtype_t dtype, conf_check_t *r) {
    const merge_case_t *c = &cases[index];
    xhal_attention_merge_desc_t d;
    make_desc(c, dtype, &d);
    if (!conf_supported(r, xhal_attention_merge_supports(ctx->device, &d),
                        "xhal_attention_merge_supports"))
        return;
    conf_tensor_t t[T_COUNT];
    memset(t, 0, sizeof t);
    size_t rows = (size_t)(d.batch * d.heads * d.seq), count = rows * (size_t)d.head_dim;
    double *ref = malloc(count * sizeof *ref), *out = malloc(count * sizeof *out);
    double *lse_ref = malloc(rows * sizeof *lse_ref), *lse_out = malloc(rows * sizeof *lse_out);
    unsigned char *in_view = NULL;
    if (conf_host_alloc(r, ref) && conf_host_alloc(r, out) && conf_host_alloc(r, lse_ref) &&
        conf_host_alloc(r, lse_out) && prepare(ctx, c, &d, t, rows, r)) {
        reference(&d, t, rows, ref, lse_ref);
        int o = c->in_place ? T_OA : T_O, l = c->in_place ? T_LA : T_L;
        int ok = conf_host_alloc(r, in_view = calloc(t[o].count, 1));
        for (int i = 0; ok && i < T_COUNT; i++)
            ok = !t[i].raw || conf_tensor_upload(ctx, &t[i], r);
        d.o_a = t[T_OA].buffer;
        d.o_b = t[T_OB].buffer;
        d.o = t[o].buffer;
        d.lse_a = t[T_LA].buffer;
        d.lse_b = t[T_LB].buffer;
        d.lse = c->lse ? t[l].buffer : NULL;
        if (ok && conf_timer_start(ctx, r) &&
            conf_ok(r, xhal_attention_merge(ctx->stream, &d), "xhal_attention_merge") &&
            conf_collect(ctx, t, T_COUNT, r)) {
            for (size_t i = 0; i < rows; i++) {
                int64_t at = row_at(&d, i);
                for (int64_t e = 0; e < d.head_dim; e++) {
                    out[i * (size_t)d.head_dim + (size_t)e] = t[o].values[at + e];
                    in_view[at + e] = 1;
                }
                lse_out[i] = c->lse ? t[l].values[i] : 0;
            }
            r->outside_writes = conf_tensor_changed(&t[o], in_view);
            /* In place, o_a (and lse_a when lse is written) are outputs, not inputs. */
            if (!c->in_place) r->inputs_changed += conf_tensor_changed(&t[T_OA], NULL);
            if (!c->in_place || !c->lse) r->inputs_changed += conf_tensor_changed(&t[T_LA], NULL);
            r->inputs_changed +=
                conf_tensor_changed(&t[T_OB], NULL) + conf_tensor_changed(&t[T_LB], NULL);
            conf_judge(r, out, ref, count, conf_attention_bound(dtype));
            if (c->lse)
                conf_judge_lse(r, lse_out, lse_ref, rows, conf_attention_bound(XHAL_DTYPE_F32));
        }
    }
    conf_release(ctx, t, T_COUNT);
    free(in_view);
    free(ref);
    free(out);
    free(lse_ref);
    free(lse_out);
}

const conf_check_table_t conf_check_merge = {
    .op = CONF_OP_ATTENTION,
    .count = CASE_COUNT,
    .name = name,
    .is_quick = is_quick,
    .describe = describe,
    .run = run,
};
