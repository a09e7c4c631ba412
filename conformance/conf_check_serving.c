/*
 * Serving-attention correctness cases (xhal.h): packed variable-length queries and keys, per-
 * sequence KV lengths over a dense cache, paged K/V (block sizes 1, 7, 16, 32, 256; block tables
 * shuffled, with blocks shared between sequences, unused entries garbage), decode and chunked
 * prefill, sliding window (causal or not), soft-capping, the LSE output, GQA and MQA, head_dim
 * 64, 128 and 256, sequence lengths 0 .. 2049, both pool layouts.
 *
 * Everything a kernel must not use is NaN: Q rows no sequence names, K/V rows past a sequence's
 * length, pool blocks and tokens no sequence's table names. A kernel that reads one (even to
 * mask it: 0 x NaN is NaN) fails the finite check. Besides the result and the LSE, each case
 * checks that O and the LSE are unchanged outside the rows of the sequences, and that no input
 * (the index buffers included) changed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

enum { KV_DENSE, KV_SEQLENS, KV_PACKED, KV_PAGED };

typedef struct serving_case {
    const char *name;
    int64_t heads_q, heads_kv, head_dim;
    const int32_t *lens_q; /* one per sequence: packed Q (cu_seqlens_q); NULL: seq_q each */
    int64_t lens_q_count;
    int64_t seq_q;
    const int32_t *lens_kv; /* one per sequence; NULL with KV_DENSE: seq_kv each */
    int64_t batch;          /* sequences: the count of lens_kv (or lens_q) */
    int64_t seq_kv;         /* KV_DENSE only */
    int64_t block_size;     /* KV_PAGED */
    int64_t window;
    float softcap, scale;
    int kv;     /* KV_* */
    int shared; /* KV_PAGED: sequences share their first full blocks with sequence 0 */
    int causal;
    int lse;
    xhal_layout_t layout;
    int quick;
} serving_case_t;

#define BSHD XHAL_LAYOUT_BSHD
#define BHSD XHAL_LAYOUT_BHSD
/* A list of lengths and its count, for the table below. */
#define LENS(...)                                                                                  \
    (const int32_t[]) {                                                                            \
        __VA_ARGS__                                                                                \
    }
#define COUNT(...) (int64_t)(sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t))
#define Q_LENS(...) .lens_q = LENS(__VA_ARGS__), .lens_q_count = COUNT(__VA_ARGS__)
#define KV_LENS(...) .lens_kv = LENS(__VA_ARGS__), .batch = COUNT(__VA_ARGS__)

static const serving_case_t cases[] = {
    {"varlen-causal-gqa", 4, 2, 64, Q_LENS(5, 0, 17, 1, 33, 7), .kv = KV_PACKED,
     KV_LENS(5, 9, 40, 0, 33, 3), .causal = 1, .lse = 1, .layout = BSHD, .quick = 1},
    {"varlen-prefill-2049", 2, 1, 64, Q_LENS(2049, 3, 0, 100), .kv = KV_PACKED,
     KV_LENS(2049, 3, 0, 100), .causal = 1, .layout = BSHD},
    {"varlen-chunk-kv2049", 8, 2, 128, Q_LENS(16, 1, 7), .kv = KV_PACKED, KV_LENS(2049, 300, 7),
     .causal = 1, .layout = BHSD, .quick = 1},
    {"decode-seqlens-mqa", 8, 1, 128, .seq_q = 1, .kv = KV_SEQLENS,
     KV_LENS(1, 0, 129, 2049, 64, 777), .causal = 1, .lse = 1, .layout = BHSD, .quick = 1},
    {"decode-paged-b16", 8, 2, 128, .seq_q = 1, .kv = KV_PAGED,
     KV_LENS(1, 17, 0, 2049, 100, 511, 512, 33), .block_size = 16, .shared = 1, .causal = 1,
     .layout = BSHD, .quick = 1},
    {"decode2-paged-b1-bhsd", 4, 4, 64, .seq_q = 2, .kv = KV_PAGED, KV_LENS(5, 40, 0, 1),
     .block_size = 1, .shared = 1, .causal = 1, .lse = 1, .layout = BHSD, .quick = 1},
    {"chunked-prefill-paged-b256", 8, 1, 256, Q_LENS(33, 1, 0, 64), .kv = KV_PAGED,
     KV_LENS(600, 1, 5, 64), .block_size = 256, .causal = 1, .lse = 1, .layout = BSHD, .quick = 1},
    {"paged-b7-window", 4, 2, 64, Q_LENS(20, 3, 40), .kv = KV_PAGED, KV_LENS(100, 50, 40),
     .block_size = 7, .shared = 1, .causal = 1, .window = 32, .lse = 1, .layout = BHSD, .quick = 1},
    {"window-noncausal", 4, 4, 64, .seq_q = 9, .kv = KV_DENSE, .batch = 2, .seq_kv = 40,
     .window = 8, .lse = 1, .layout = BSHD},
    {"softcap-lse", 4, 2, 64, Q_LENS(9, 0, 17), .kv = KV_PACKED, KV_LENS(30, 4, 17), .causal = 1,
     .softcap = 5.0f, .scale = 2.0f, .lse = 1, .layout = BSHD, .quick = 1},
    {"decode-paged-all", 16, 2, 128, .seq_q = 1, .kv = KV_PAGED, KV_LENS(1000, 50, 0, 2049),
     .block_size = 16, .shared = 1, .causal = 1, .window = 100, .softcap = 30.0f, .lse = 1,
     .layout = BSHD, .quick = 1},
    {"lse-empty-rows", 2, 1, 64, Q_LENS(6, 4, 3), .kv = KV_PACKED, KV_LENS(2, 0, 3), .causal = 1,
     .lse = 1, .layout = BHSD, .quick = 1},
    {"paged-b32-prefill-mqa-d256", 4, 1, 256, Q_LENS(70, 20), .kv = KV_PAGED, KV_LENS(70, 100),
     .block_size = 32, .layout = BHSD},
    {"seqlens-prefill-bhsd", 4, 2, 64, .seq_q = 40, .kv = KV_SEQLENS, KV_LENS(40, 100, 45),
     .causal = 1, .layout = BHSD},
    {"varlen-window-softcap-long", 8, 1, 128, Q_LENS(300, 17), .kv = KV_PACKED, KV_LENS(1500, 17),
     .causal = 1, .window = 256, .softcap = 20.0f, .lse = 1, .layout = BSHD},
};

#define CASE_COUNT (sizeof cases / sizeof cases[0])

static const char *name(size_t index) {
    return cases[index].name;
}

static int is_quick(size_t index) {
    return cases[index].quick;
}

static int64_t batch_of(const serving_case_t *c) {
    return c->lens_kv ? c->batch : c->lens_q ? c->lens_q_count : c->batch;
}

static void describe(size_t index, char *out, size_t size) {
    static const char *const modes[] = {"dense", "seqlens", "packed", "paged"};
    const serving_case_t *c = &cases[index];
    conf_format(out, size, "b%lld hq%lld hkv%lld d%lld q:%s kv:%s", (long long)batch_of(c),
                (long long)c->heads_q, (long long)c->heads_kv, (long long)c->head_dim,
                c->lens_q ? "packed" : "dense", modes[c->kv]);
    if (c->kv == KV_PAGED)
        conf_append(out, size, " bs%lld%s", (long long)c->block_size, c->shared ? " shared" : "");
    if (c->causal) conf_append(out, size, " causal");
    if (c->window) conf_append(out, size, " win%lld", (long long)c->window);
    if (c->softcap != 0) conf_append(out, size, " cap%g", (double)c->softcap);
    if (c->lse) conf_append(out, size, " lse");
    conf_append(out, size, " %s", c->layout == BSHD ? "bshd" : "bhsd");
}

/* The tensors of a case, in the order of xhal_be_attention_buffers_t. */
enum { T_Q, T_K, T_V, T_O, T_LSE, T_CU_Q, T_CU_KV, T_LENS, T_TABLE, T_COUNT };

typedef struct build {
    xhal_attention_desc_t d;
    int32_t *cu_q, *cu_kv, *lens, *table;
    conf_att_index_t x;
    int64_t rows_q; /* queries of all sequences */
    int64_t max_kv; /* keys of the longest sequence */
    conf_tensor_t t[T_COUNT];
} build_t;

static void build_free(build_t *b) {
    free(b->cu_q);
    free(b->cu_kv);
    free(b->lens);
    free(b->table);
}

/* cu[b] = sum of lens[0 .. b): offsets of a packed tensor; returns the total. */
static int64_t offsets(int32_t *cu, const int32_t *lens, int64_t batch) {
    cu[0] = 0;
    for (int64_t b = 0; b < batch; b++)
        cu[b + 1] = cu[b] + lens[b];
    return cu[batch];
}

/*
 * The block table: each sequence gets ceil(len / block_size) blocks, sequences after the first
 * share half their full blocks with the first (a common prefix) when the case says so, and the
 * distinct blocks are scattered over a pool with three spare blocks by a random permutation.
 * Entries a sequence does not use are garbage a kernel must never follow.
 */
static int make_table(const serving_case_t *c, build_t *b, uint64_t *rng, conf_check_t *r) {
    xhal_attention_desc_t *d = &b->d;
    int64_t bs = c->block_size, batch = d->batch, max_blocks = (b->max_kv + bs - 1) / bs + 1;
    int64_t stride = max_blocks + 2, distinct = 0;
    b->table = calloc((size_t)(batch * stride), sizeof *b->table);
    int64_t *ids = calloc((size_t)(batch * stride), sizeof *ids);
    if (!conf_host_alloc(r, b->table) || !conf_host_alloc(r, ids)) {
        free(ids);
        return 0;
    }
    for (int64_t s = 0; s < batch; s++) {
        int64_t used = (b->lens[s] + bs - 1) / bs;
        int64_t full0 = b->lens[0] / bs, full = b->lens[s] / bs;
        int64_t shared = c->shared && s > 0 ? (full < full0 ? full : full0) / 2 : 0;
        for (int64_t i = 0; i < stride; i++)
            ids[s * stride + i] = i < shared ? ids[i] : i < used ? distinct++ : -1;
    }
    int64_t pool = distinct + 3;
    int64_t *perm = calloc((size_t)pool, sizeof *perm);
    if (!perm) {
        free(ids);
        return conf_host_alloc(r, NULL);
    }
    for (int64_t i = 0; i < pool; i++)
        perm[i] = i;
    for (int64_t i = pool - 1; i > 0; i--) { /* Fisher-Yates */
        int64_t j = (int64_t)(conf_random(rng) % (uint64_t)(i + 1)), tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    static const int64_t garbage[] = {-1, INT32_MAX, INT32_MIN, 1 << 20};
    for (int64_t i = 0; i < batch * stride; i++)
        b->table[i] =
            ids[i] >= 0 ? (int32_t)perm[ids[i]] : (int32_t)(i % 5 == 4 ? pool : garbage[i % 4]);
    free(perm);
    free(ids);
    d->block_size = bs;
    d->num_blocks = pool;
    d->max_blocks_per_seq = max_blocks;
    d->block_table_stride = stride;
    d->seq_kv = b->max_kv > 0 ? b->max_kv : 1;
    /* The pool: [block, token, head, dim] (BSHD) or [block, head, token, dim] (BHSD). */
    int64_t h = d->heads_kv, e = d->head_dim;
    xhal_attention_strides_t s = c->layout == BSHD
                                     ? (xhal_attention_strides_t){bs * h * e, e, h * e}
                                     : (xhal_attention_strides_t){h * bs * e, bs * e, e};
    d->k_strides = d->v_strides = s;
    return 1;
}

/* The descriptor and the host index arrays of a case. */
static int make_layout(const serving_case_t *c, xhal_dtype_t dtype, build_t *b, uint64_t *rng,
                       conf_check_t *r) {
    int64_t batch = batch_of(c);
    int64_t rows_q = c->lens_q ? 0 : batch * c->seq_q, rows_kv = 0, max_kv = 0;
    b->lens = calloc((size_t)batch, sizeof *b->lens);
    if (!conf_host_alloc(r, b->lens)) return 0;
    for (int64_t s = 0; s < batch; s++) {
        b->lens[s] = c->lens_kv ? c->lens_kv[s] : (int32_t)c->seq_kv;
        max_kv = b->lens[s] > max_kv ? b->lens[s] : max_kv;
    }
    if (c->lens_q) {
        b->cu_q = calloc((size_t)(batch + 1), sizeof *b->cu_q);
        if (!conf_host_alloc(r, b->cu_q)) return 0;
        rows_q = offsets(b->cu_q, c->lens_q, batch);
    }
    if (c->kv == KV_PACKED) {
        b->cu_kv = calloc((size_t)(batch + 1), sizeof *b->cu_kv);
        if (!conf_host_alloc(r, b->cu_kv)) return 0;
        rows_kv = offsets(b->cu_kv, b->lens, batch);
    }
    b->rows_q = rows_q;
    b->max_kv = max_kv;
    /* Packed tensors get two rows past the last sequence's, and a seqlens cache three tokens
     * past the longest sequence: room that is NaN and must not be read. */
    int64_t seq_q = c->lens_q ? rows_q + 2 : c->seq_q;
    int64_t seq_kv = c->kv == KV_PACKED    ? rows_kv + 2
                     : c->kv == KV_SEQLENS ? max_kv + 3
                                           : c->seq_kv;
    xhal_attention_desc_t *d = &b->d;
    xhal_attention_desc_init(d, batch, c->heads_q, c->heads_kv, seq_q, seq_kv, c->head_dim, dtype,
                             c->layout);
    d->causal = c->causal;
    d->sliding_window = c->window;
    d->softcap = c->softcap;
    d->scale = c->scale;
    if (c->kv == KV_PAGED && !make_table(c, b, rng, r)) return 0;
    b->x = (conf_att_index_t){b->cu_q, b->cu_kv,
                              c->kv == KV_SEQLENS || c->kv == KV_PAGED ? b->lens : NULL, b->table};
    return 1;
}

/* Element count of a tensor from element 0 to the end of its last row. */
static size_t span(const xhal_attention_strides_t *s, int64_t batch, int64_t heads, int64_t seq,
                   int64_t dim) {
    return (size_t)(conf_attention_row(s, batch - 1, heads - 1, seq - 1) + dim);
}

/* Sets every element of `t` whose mark is 0 to NaN: what no sequence may read. */
static void poison_unmarked(conf_tensor_t *t, const unsigned char *mark) {
    uint32_t bits = conf_nan_bits(t->dtype);
    for (size_t i = 0; i < t->count; i++) {
        if (mark[i]) continue;
        if (t->dtype == XHAL_DTYPE_F32)
            memcpy((uint32_t *)t->raw + i, &bits, sizeof bits);
        else
            ((uint16_t *)t->raw)[i] = (uint16_t)bits;
        t->values[i] = NAN;
    }
}

/* Marks the rows of every sequence in Q-like (kv 0) or K/V-like (kv 1) tensors. */
static void mark_rows(const build_t *b, int kv, const xhal_attention_strides_t *s,
                      unsigned char *mark) {
    const xhal_attention_desc_t *d = &b->d;
    int64_t heads = kv ? d->heads_kv : d->heads_q;
    for (int64_t q = 0; q < d->batch; q++) {
        int64_t rows = kv ? conf_att_len_kv(d, &b->x, q) : conf_att_len_q(d, &b->x, q);
        for (int64_t h = 0; h < heads; h++)
            for (int64_t i = 0; i < rows; i++) {
                int64_t at = kv ? conf_att_kv_row(d, &b->x, s, q, h, i)
                                : conf_att_q_row(d, &b->x, s, q, h, i);
                memset(mark + at, 1, (size_t)d->head_dim);
            }
    }
}

/* Index of LSE element (sequence q, head h, query i), as xhal.h lays it out. */
static size_t lse_index(const build_t *b, int64_t q, int64_t h, int64_t i) {
    const xhal_attention_desc_t *d = &b->d;
    if (b->cu_q) return (size_t)(h * d->seq_q + b->cu_q[q] + i);
    return (size_t)((q * d->heads_q + h) * d->seq_q + i);
}

static int int_tensor(conf_tensor_t *t, const int32_t *values, int64_t count, conf_check_t *r) {
    if (!values) return 1;
    if (!conf_tensor_init(t, XHAL_DTYPE_F32, (size_t)count, r)) return 0;
    memcpy(t->raw, values, (size_t)count * sizeof *values); /* bits only: uploaded as they are */
    return 1;
}

static int prepare(conf_ctx_t *ctx, const serving_case_t *c, build_t *b, conf_check_t *r) {
    xhal_attention_desc_t *d = &b->d;
    int64_t q_batch = b->cu_q ? 1 : d->batch;
    int64_t kv_batch = b->table ? d->num_blocks : b->cu_kv ? 1 : d->batch;
    int64_t kv_seq = b->table ? d->block_size : d->seq_kv;
    size_t counts[4] = {span(&d->q_strides, q_batch, d->heads_q, d->seq_q, d->head_dim),
                        span(&d->k_strides, kv_batch, d->heads_kv, kv_seq, d->head_dim),
                        span(&d->v_strides, kv_batch, d->heads_kv, kv_seq, d->head_dim),
                        span(&d->o_strides, q_batch, d->heads_q, d->seq_q, d->head_dim)};
    for (int i = 0; i < 4; i++)
        if (!conf_tensor_init(&b->t[i], d->dtype, counts[i], r)) return 0;
    for (int i = 0; i < 3; i++) {
        conf_tensor_randomize(&b->t[i], &ctx->rng);
        unsigned char *mark = calloc(counts[i], 1);
        if (!conf_host_alloc(r, mark)) return 0;
        mark_rows(b, i > 0, i == 0 ? &d->q_strides : i == 1 ? &d->k_strides : &d->v_strides, mark);
        poison_unmarked(&b->t[i], mark);
        free(mark);
    }
    conf_tensor_poison(&b->t[T_O]);
    if (c->lse) {
        if (!conf_tensor_init(&b->t[T_LSE], XHAL_DTYPE_F32,
                              (size_t)(q_batch * d->heads_q * d->seq_q), r))
            return 0;
        conf_tensor_poison(&b->t[T_LSE]);
    }
    int64_t table = d->batch * d->block_table_stride;
    return int_tensor(&b->t[T_CU_Q], b->cu_q, d->batch + 1, r) &&
           int_tensor(&b->t[T_CU_KV], b->cu_kv, d->batch + 1, r) &&
           int_tensor(&b->t[T_LENS], b->x.lens_kv, d->batch, r) &&
           int_tensor(&b->t[T_TABLE], b->table, table, r);
}

/*
 * Uploads the inputs and asks `supports` with the buffers set (which are non-NULL says which
 * features run), before the fp64 reference is computed: a backend that refuses the case costs
 * no reference (the skeleton's acceptance run skips every case in well under a second).
 */
static int stage(conf_ctx_t *ctx, build_t *b, conf_check_t *r) {
    for (int i = 0; i < T_COUNT; i++)
        if (b->t[i].raw && !conf_tensor_upload(ctx, &b->t[i], r)) return 0;
    xhal_attention_desc_t *d = &b->d;
    d->q = b->t[T_Q].buffer;
    d->k = b->t[T_K].buffer;
    d->v = b->t[T_V].buffer;
    d->o = b->t[T_O].buffer;
    d->lse = b->t[T_LSE].buffer;
    d->cu_seqlens_q = b->t[T_CU_Q].buffer;
    d->cu_seqlens_kv = b->t[T_CU_KV].buffer;
    d->seqlens_kv = b->t[T_LENS].buffer;
    d->block_table = b->t[T_TABLE].buffer;
    return conf_supported(r, xhal_attention_supports(ctx->device, d), "xhal_attention_supports");
}

static int execute(conf_ctx_t *ctx, build_t *b, conf_check_t *r) {
    return conf_timer_start(ctx, r) &&
           conf_ok(r, xhal_attention(ctx->stream, &b->d), "xhal_attention") &&
           conf_collect(ctx, b->t, T_COUNT, r);
}

/* O's rows and the LSE of every sequence in the reference's order, with what they cover. */
static void gather(const build_t *b, double *out, double *lse, unsigned char *o_view,
                   unsigned char *lse_view) {
    const xhal_attention_desc_t *d = &b->d;
    for (int64_t q = 0; q < d->batch; q++)
        for (int64_t h = 0; h < d->heads_q; h++)
            for (int64_t i = 0; i < conf_att_len_q(d, &b->x, q); i++) {
                int64_t at = conf_att_q_row(d, &b->x, &d->o_strides, q, h, i);
                for (int64_t e = 0; e < d->head_dim; e++) {
                    *out++ = b->t[T_O].values[at + e];
                    o_view[at + e] = 1;
                }
                if (!lse) continue;
                size_t li = lse_index(b, q, h, i);
                *lse++ = conf_load(b->t[T_LSE].raw, XHAL_DTYPE_F32, li);
                lse_view[li] = 1;
            }
}

static void run(conf_ctx_t *ctx, size_t index, xhal_dtype_t dtype, conf_check_t *r) {
    const serving_case_t *c = &cases[index];
    build_t b;
    memset(&b, 0, sizeof b);
    double *ref = NULL, *out = NULL, *scores = NULL, *lse_ref = NULL, *lse_out = NULL;
    unsigned char *o_view = NULL, *lse_view = NULL;
    if (make_layout(c, dtype, &b, &ctx->rng, r) && prepare(ctx, c, &b, r) && stage(ctx, &b, r)) {
        const xhal_attention_desc_t *d = &b.d;
        size_t rows = (size_t)(b.rows_q * d->heads_q), count = rows * (size_t)d->head_dim;
        ref = malloc((count ? count : 1) * sizeof *ref);
        out = malloc((count ? count : 1) * sizeof *out);
        scores = malloc((size_t)(b.max_kv + 1) * sizeof *scores);
        lse_ref = malloc((rows ? rows : 1) * sizeof *lse_ref);
        lse_out = malloc((rows ? rows : 1) * sizeof *lse_out);
        o_view = calloc(b.t[T_O].count, 1);
        lse_view = calloc(c->lse ? b.t[T_LSE].count : 1, 1);
        if (conf_host_alloc(r, ref) && conf_host_alloc(r, out) && conf_host_alloc(r, scores) &&
            conf_host_alloc(r, lse_ref) && conf_host_alloc(r, lse_out) &&
            conf_host_alloc(r, o_view) && conf_host_alloc(r, lse_view)) {
            conf_ref_attention_serving(d, &b.x, b.t[T_Q].values, b.t[T_K].values, b.t[T_V].values,
                                       scores, ref, lse_ref);
            if (execute(ctx, &b, r)) {
                gather(&b, out, c->lse ? lse_out : NULL, o_view, lse_view);
                r->outside_writes = conf_tensor_changed(&b.t[T_O], o_view);
                if (c->lse) r->outside_writes += conf_tensor_changed(&b.t[T_LSE], lse_view);
                for (int i = 0; i < T_COUNT; i++)
                    if (i != T_O && i != T_LSE && b.t[i].raw)
                        r->inputs_changed += conf_tensor_changed(&b.t[i], NULL);
                conf_judge(r, out, ref, count, conf_attention_bound(dtype));
                if (c->lse) conf_judge_lse(r, lse_out, lse_ref, rows, conf_attention_bound(dtype));
            }
        }
    }
    conf_release(ctx, b.t, T_COUNT);
    build_free(&b);
    free(ref);
    free(out);
    free(scores);
    free(lse_ref);
    free(lse_out);
    free(o_view);
    free(lse_view);
}

const conf_check_table_t conf_check_serving = {
    .op = CONF_OP_ATTENTION,
    .count = CASE_COUNT,
    .name = name,
    .is_quick = is_quick,
    .describe = describe,
    .run = run,
};
