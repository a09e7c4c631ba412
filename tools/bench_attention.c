/*
 * `xhal bench attention`: dense shapes (BxHQxHKVxSQxSKVxD) in either layout, and the serving
 * shapes of the conformance suite (conformance/conf_serving.c: lengths log-uniform between the
 * shortest and longest in a fixed mixed order, paged blocks scattered over the pool), so that a
 * paged decode batch can be timed beside the same lengths packed contiguously and a varlen
 * prefill beside the dense one of the same tokens, in one command.
 *
 * A shape is words joined by ':' before its dimensions, in any order: a dtype (f32, f16, bf16),
 * a layout (bshd, bhsd) and at most one serving kind:
 *   paged:BxHQxHKVxSQxLO-HIxD   SQ queries (1: decode) at the end of each of B sequences whose
 *                               LO..HI keys of context sit in a paged cache (--block-size);
 *                               with SQ > 1 each sequence also holds its queries' own keys
 *   packed:BxHQxHKVx1xLO-HIxD   the same decode with the keys packed contiguously (cu_seqlens_kv)
 *   varlen:BxHQxHKVxLO-HIxD     a packed causal prefill of B sequences of LO..HI tokens
 * Serving shapes are causal, whatever --causal says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_run.h"
#include "conform.h"

typedef struct attention_op {
    xhal_attention_desc_t desc;
    xhal_buffer_t *q[MAX_ROTATION], *k[MAX_ROTATION], *v[MAX_ROTATION], *o[MAX_ROTATION];
} attention_op_t;

static xhal_status_t enqueue_attention(bench_ctx_t *c, void *op, int r) {
    attention_op_t *a = op;
    a->desc.q = a->q[r], a->desc.k = a->k[r], a->desc.v = a->v[r], a->desc.o = a->o[r];
    return xhal_attention(c->stream, &a->desc);
}

/* Query-key pairs a causal mask leaves, per (batch, head): PEAKS.md counts s*s/2 when the
 * lengths are equal, and the exact pairs otherwise. */
static double causal_pairs(int64_t sq, int64_t skv) {
    if (sq == skv) return 0.5 * (double)sq * (double)skv;
    double pairs = 0;
    for (int64_t i = 0; i < sq; i++) {
        int64_t seen = i + skv - sq + 1;
        pairs += (double)(seen < 0 ? 0 : seen > skv ? skv : seen);
    }
    return pairs;
}

/* The prefix words of `text` (dtype, layout, serving kind) into *s; returns the dimensions, or
 * NULL for a word it does not know or a second kind. */
static const char *parse_words(const char *text, bench_att_shape_t *s) {
    static const char *const kinds[] = {"paged", "packed", "varlen"};
    static const int kind_values[] = {CONF_SERVING_DECODE_PAGED, CONF_SERVING_DECODE_PACKED,
                                      CONF_SERVING_PREFILL_VARLEN};
    for (const char *colon; (colon = strchr(text, ':')) != NULL; text = colon + 1) {
        size_t n = (size_t)(colon - text);
        int known = 0;
        for (int t = 0; t < XHAL_DTYPE_COUNT && !known; t++) {
            const char *name = xhal_dtype_name((xhal_dtype_t)t);
            if (strlen(name) == n && !strncmp(text, name, n)) s->dtype = (xhal_dtype_t)t, known = 1;
        }
        if (n == 4 && (!strncmp(text, "bshd", 4) || !strncmp(text, "bhsd", 4))) {
            s->layout = text[1] == 's' ? XHAL_LAYOUT_BSHD : XHAL_LAYOUT_BHSD;
            known = 1;
        }
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds && !known; k++)
            if (strlen(kinds[k]) == n && !strncmp(text, kinds[k], n)) {
                if (s->kind) return NULL;
                s->kind = kind_values[k];
                known = 1;
            }
        if (!known) return NULL;
    }
    return text;
}

/*
 * Reads a shape (see the top of the file) into *s, whose dtype and layout hold the defaults;
 * 1 when it is one, else 0.
 */
static int parse_shape(const char *text, bench_att_shape_t *s) {
    const char *dims = parse_words(text, s);
    if (!dims) return 0;
    long long v[6] = {0}, lo = 0, hi = 0;
    char tail;
    int ok;
    if (s->kind == CONF_SERVING_PREFILL_VARLEN) {
        ok = sscanf(dims, "%lldx%lldx%lldx%lld-%lldx%lld%c", &v[0], &v[1], &v[2], &lo, &hi, &v[5],
                    &tail) == 6;
        v[3] = 1;
    } else if (s->kind) {
        ok = sscanf(dims, "%lldx%lldx%lldx%lldx%lld-%lldx%lld%c", &v[0], &v[1], &v[2], &v[3], &lo,
                    &hi, &v[5], &tail) == 7;
        if (s->kind == CONF_SERVING_DECODE_PACKED && v[3] != 1) ok = 0;
        if (s->kind == CONF_SERVING_DECODE_PAGED && v[3] > 1) s->kind = CONF_SERVING_CHUNKED_PAGED;
    } else {
        ok = sscanf(dims, "%lldx%lldx%lldx%lldx%lldx%lld%c", &v[0], &v[1], &v[2], &v[3], &v[4],
                    &v[5], &tail) == 6;
        lo = hi = 1;
        v[4] = ok ? v[4] : 0;
    }
    if (!ok || lo < 1 || hi < lo || hi > (1LL << 30)) return 0;
    for (int i = 0; i < 6; i++)
        if (i != 4 && v[i] < 1) return 0;
    if (s->kind && v[4] != 0) return 0;
    if (!s->kind && v[4] < 1) return 0;
    s->batch = v[0], s->heads_q = v[1], s->heads_kv = v[2], s->seq_q = v[3], s->seq_kv = v[4];
    s->head_dim = v[5];
    s->min_len = lo, s->max_len = hi;
    return 1;
}

int bench_attention_valid(const char *shape) {
    bench_att_shape_t s = {0};
    return parse_shape(shape, &s);
}

int bench_attention_pair(const bench_att_shape_t *x, const bench_att_shape_t *y) {
    if (x->dtype != y->dtype || x->layout != y->layout || x->heads_q != y->heads_q ||
        x->heads_kv != y->heads_kv || x->head_dim != y->head_dim || x->batch != y->batch)
        return 0;
    if (x->kind == CONF_SERVING_DECODE_PAGED && y->kind == CONF_SERVING_DECODE_PACKED)
        return x->min_len == y->min_len && x->max_len == y->max_len ? 1 : 0;
    if (x->kind == CONF_SERVING_PREFILL_VARLEN && y->kind == 0 && y->causal &&
        y->seq_q == y->seq_kv && y->batch * y->seq_q == x->tokens)
        return 2;
    return 0;
}

/* The index arrays of a serving shape, each in a buffer of its own (not rotated). */
typedef struct index_buffers {
    xhal_buffer_t *cu_q, *cu_kv, *lens_kv, *table;
} index_buffers_t;

static xhal_status_t upload(bench_ctx_t *c, const int32_t *host, int64_t count,
                            xhal_buffer_t **out) {
    if (!host) return XHAL_OK;
    size_t bytes = (size_t)count * sizeof *host;
    xhal_status_t status = xhal_buffer_alloc(c->device, bytes, XHAL_MEMORY_DEVICE, out);
    if (status == XHAL_OK) status = xhal_copy_h2d(c->stream, *out, 0, host, bytes);
    if (status == XHAL_OK) status = xhal_stream_synchronize(c->stream);
    return status;
}

static xhal_status_t upload_indices(bench_ctx_t *c, const xhal_attention_desc_t *d,
                                    const conf_serving_arrays_t *a, index_buffers_t *out) {
    xhal_status_t status = upload(c, a->cu_q, d->batch + 1, &out->cu_q);
    if (status == XHAL_OK) status = upload(c, a->cu_kv, d->batch + 1, &out->cu_kv);
    if (status == XHAL_OK) status = upload(c, a->lens_kv, d->batch, &out->lens_kv);
    if (status == XHAL_OK) status = upload(c, a->table, a->table_count, &out->table);
    return status;
}

static void free_indices(index_buffers_t *x) {
    xhal_buffer_free(x->cu_q), xhal_buffer_free(x->cu_kv), xhal_buffer_free(x->lens_kv);
    xhal_buffer_free(x->table);
}

/* The descriptor of a serving shape, its index buffers, FLOPs, bytes and elements of Q, K/V. */
static xhal_status_t describe_serving(bench_ctx_t *c, bench_att_shape_t *s, attention_op_t *op,
                                      index_buffers_t *x, bench_figure_t *f, double elements[4]) {
    conf_serving_t shape = {.kind = (conf_serving_kind_t)s->kind,
                            .batch = s->batch,
                            .min_len = s->min_len,
                            .max_len = s->max_len,
                            .chunk = s->kind == CONF_SERVING_CHUNKED_PAGED ? s->seq_q : 0,
                            .layout = s->layout};
    if (s->kind == CONF_SERVING_DECODE_PAGED || s->kind == CONF_SERVING_CHUNKED_PAGED)
        shape.block_size = c->o->block_size;
    conf_serving_arrays_t a;
    xhal_attention_desc_t *d = &op->desc;
    xhal_attention_desc_init(d, 1, s->heads_q, s->heads_kv, 1, 1, s->head_dim, s->dtype, s->layout);
    if (conf_serving_build(&shape, d, &a) != 0) return XHAL_OUT_OF_MEMORY;
    f->flops = conf_serving_flops(d, &a);
    f->bytes = conf_serving_bytes(d, &a);
    conf_serving_elements(d, &a, elements);
    s->tokens = a.rows_q;
    xhal_status_t status = upload_indices(c, d, &a, x);
    d->cu_seqlens_q = x->cu_q, d->cu_seqlens_kv = x->cu_kv, d->seqlens_kv = x->lens_kv;
    d->block_table = x->table;
    conf_serving_free(&a);
    return status;
}

xhal_status_t bench_attention(bench_ctx_t *c, const char *text, char *label, size_t size,
                              bench_figure_t *f, bench_att_shape_t *out_shape) {
    bench_att_shape_t s = {.dtype = c->o->dtype, .layout = c->o->layout};
    if (!parse_shape(text, &s)) return XHAL_INVALID_ARGUMENT; /* bench_run checked it */
    attention_op_t a = {0};
    index_buffers_t x = {0};
    double e[4];
    xhal_status_t status = XHAL_OK;
    const char *layout = s.layout == XHAL_LAYOUT_BHSD ? " bhsd" : "";
    if (s.kind) {
        static const char *const names[] = {"", "paged", "packed", "varlen", "paged"};
        s.causal = 1;
        status = describe_serving(c, &s, &a, &x, f, e);
        snprintf(label, size, "attention %s %s%s %lldx%lldx%lldx%lldx%lld-%lldx%lld",
                 xhal_dtype_name(s.dtype), names[s.kind], layout, (long long)s.batch,
                 (long long)s.heads_q, (long long)s.heads_kv, (long long)s.seq_q,
                 (long long)s.min_len, (long long)s.max_len, (long long)s.head_dim);
        if (s.kind == CONF_SERVING_PREFILL_VARLEN)
            snprintf(label, size, "attention %s varlen%s %lldx%lldx%lldx%lld-%lldx%lld",
                     xhal_dtype_name(s.dtype), layout, (long long)s.batch, (long long)s.heads_q,
                     (long long)s.heads_kv, (long long)s.min_len, (long long)s.max_len,
                     (long long)s.head_dim);
    } else {
        s.causal = c->o->causal;
        xhal_attention_desc_init(&a.desc, s.batch, s.heads_q, s.heads_kv, s.seq_q, s.seq_kv,
                                 s.head_dim, s.dtype, s.layout);
        a.desc.causal = s.causal;
        double pairs =
            s.causal ? causal_pairs(s.seq_q, s.seq_kv) : (double)s.seq_q * (double)s.seq_kv;
        f->flops = 4.0 * (double)(s.batch * s.heads_q * s.head_dim) * pairs;
        e[0] = e[3] = (double)(s.batch * s.seq_q * s.heads_q * s.head_dim);
        e[1] = e[2] = (double)(s.batch * s.seq_kv * s.heads_kv * s.head_dim);
        f->bytes = (e[0] + e[1] + e[2] + e[3]) * (double)xhal_dtype_size(s.dtype);
        s.tokens = s.batch * s.seq_q;
        snprintf(label, size, "attention %s%s %lldx%lldx%lldx%lldx%lldx%lld%s",
                 xhal_dtype_name(s.dtype), layout, (long long)s.batch, (long long)s.heads_q,
                 (long long)s.heads_kv, (long long)s.seq_q, (long long)s.seq_kv,
                 (long long)s.head_dim, s.causal ? " causal" : "");
    }
    f->peak_flops = c->info.peak_flops[s.dtype];
    *out_shape = s;
    int rotation = bench_rotation(&c->info, f->bytes);
    xhal_dtype_t t = s.dtype;
    if (status == XHAL_OK) status = xhal_attention_supports(c->device, &a.desc);
    if (status == XHAL_OK) status = bench_make_set(c, a.q, rotation, (uint64_t)e[0], t, 1, 1);
    if (status == XHAL_OK) status = bench_make_set(c, a.k, rotation, (uint64_t)e[1], t, 1, 100);
    if (status == XHAL_OK) status = bench_make_set(c, a.v, rotation, (uint64_t)e[2], t, 1, 200);
    if (status == XHAL_OK) status = bench_make_set(c, a.o, rotation, (uint64_t)e[3], t, 0, 0);
    if (status == XHAL_OK) status = bench_time_op(c, enqueue_attention, &a, rotation, &f->seconds);
    bench_free_set(a.q, rotation), bench_free_set(a.k, rotation), bench_free_set(a.v, rotation);
    bench_free_set(a.o, rotation);
    free_indices(&x);
    return status;
}
