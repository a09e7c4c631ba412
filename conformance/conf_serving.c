/*
 * The serving shapes of the utilization part: a batch of decodes over a paged KV cache (and the
 * same lengths packed contiguously, the yardstick a paged kernel is held to), a packed prefill
 * of mixed lengths, and chunked prefill over a paged cache. Lengths are spread log-uniformly
 * between the shape's shortest and longest (a serving batch is mostly short sequences with a few
 * long ones) in a fixed shuffled order, and paged blocks are scattered over the pool by a fixed
 * permutation, as a cache looks after a while of serving. Everything is deterministic, so the
 * plan (FLOPs, bytes, estimate) and the timed run see the same batch.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

void conf_serving_free(conf_serving_arrays_t *a) {
    free(a->cu_q);
    free(a->cu_kv);
    free(a->lens_kv);
    free(a->table);
    memset(a, 0, sizeof *a);
}

/* Length of sequence b of `batch`: log-uniform over [lo, hi], in an order that mixes them. */
static int64_t spread(int64_t b, int64_t batch, int64_t lo, int64_t hi) {
    if (batch == 1) return hi;
    int64_t rank = (b * 37 + 11) % batch; /* 37 is prime to every batch used here */
    double f = (double)rank / (double)(batch - 1);
    return (int64_t)llround((double)lo * pow((double)hi / (double)lo, f));
}

static int32_t *offsets(const int32_t *lens, int64_t batch) {
    int32_t *cu = calloc((size_t)batch + 1, sizeof *cu);
    for (int64_t b = 0; cu && b < batch; b++)
        cu[b + 1] = cu[b] + lens[b];
    return cu;
}

/* Blocks of every sequence scattered over a pool of exactly the blocks needed. */
static int paged(const conf_serving_t *s, xhal_attention_desc_t *d, conf_serving_arrays_t *a) {
    int64_t bs = s->block_size, max_blocks = 0, total = 0;
    for (int64_t b = 0; b < d->batch; b++) {
        int64_t n = (a->lens_kv[b] + bs - 1) / bs;
        max_blocks = n > max_blocks ? n : max_blocks;
        total += n;
    }
    max_blocks = max_blocks ? max_blocks : 1;
    total = total ? total : 1;
    a->table = calloc((size_t)(d->batch * max_blocks), sizeof *a->table);
    int64_t *perm = calloc((size_t)total, sizeof *perm);
    if (!a->table || !perm) {
        free(perm);
        return -1;
    }
    uint64_t rng = 0x5e41;
    for (int64_t i = 0; i < total; i++)
        perm[i] = i;
    for (int64_t i = total - 1; i > 0; i--) {
        int64_t j = (int64_t)(conf_random(&rng) % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int64_t b = 0, next = 0; b < d->batch; b++)
        for (int64_t i = 0; i < (a->lens_kv[b] + bs - 1) / bs; i++)
            a->table[b * max_blocks + i] = (int32_t)perm[next++];
    free(perm);
    /* The pool as [block, token, head, dim], FlashAttention's and FlashInfer's layout, or as
     * [block, head, token, dim] with BHSD. */
    int64_t h = d->heads_kv, e = d->head_dim;
    d->k_strides = d->v_strides = s->layout == XHAL_LAYOUT_BHSD
                                      ? (xhal_attention_strides_t){bs * h * e, bs * e, e}
                                      : (xhal_attention_strides_t){bs * h * e, e, h * e};
    d->block_size = bs;
    d->num_blocks = total;
    d->max_blocks_per_seq = max_blocks;
    d->block_table_stride = max_blocks;
    a->table_count = d->batch * max_blocks;
    return 0;
}

int conf_serving_build(const conf_serving_t *s, xhal_attention_desc_t *d,
                       conf_serving_arrays_t *a) {
    memset(a, 0, sizeof *a);
    int64_t batch = s->batch, hq = d->heads_q, hkv = d->heads_kv, e = d->head_dim;
    xhal_dtype_t dtype = d->dtype;
    a->lens_kv = calloc((size_t)batch, sizeof *a->lens_kv);
    int32_t *lens_q = calloc((size_t)batch, sizeof *lens_q);
    if (!a->lens_kv || !lens_q) {
        free(lens_q);
        conf_serving_free(a);
        return -1;
    }
    int64_t rows_q = 0, rows_kv = 0, max_kv = 1;
    for (int64_t b = 0; b < batch; b++) {
        int64_t len = spread(b, batch, s->min_len, s->max_len);
        int64_t q = s->kind == CONF_SERVING_PREFILL_VARLEN  ? len
                    : s->kind == CONF_SERVING_CHUNKED_PAGED ? s->chunk
                                                            : 1;
        if (s->kind == CONF_SERVING_CHUNKED_PAGED) len += s->chunk; /* the chunk's own keys */
        lens_q[b] = (int32_t)q;
        a->lens_kv[b] = (int32_t)len;
        rows_q += q;
        rows_kv += len;
        max_kv = len > max_kv ? len : max_kv;
    }
    int packed_q = s->kind == CONF_SERVING_PREFILL_VARLEN || s->kind == CONF_SERVING_CHUNKED_PAGED;
    int packed_kv = s->kind == CONF_SERVING_PREFILL_VARLEN || s->kind == CONF_SERVING_DECODE_PACKED;
    /* Q and O: decodes are [batch, 1, heads, dim]; packed rows are [rows, heads, dim] (BHSD:
     * [heads, rows, dim]). */
    xhal_attention_desc_init(d, batch, hq, hkv, packed_q ? rows_q : 1, packed_kv ? rows_kv : max_kv,
                             e, dtype, s->layout);
    d->causal = 1;
    int status = 0;
    if (packed_q) status |= !(a->cu_q = offsets(lens_q, batch));
    if (packed_kv) {
        /* Contiguous keys, [rows, head, dim] like the paged pool's blocks (as set: BHSD keeps
         * each head's rows together). */
        status |= !(a->cu_kv = offsets(a->lens_kv, batch));
        free(a->lens_kv);
        a->lens_kv = NULL;
    } else if (paged(s, d, a) != 0) {
        status = 1;
    }
    free(lens_q);
    if (status) {
        conf_serving_free(a);
        return -1;
    }
    a->rows_q = rows_q;
    a->rows_kv = rows_kv;
    return 0;
}

double conf_serving_flops(const xhal_attention_desc_t *d, const conf_serving_arrays_t *a) {
    double pairs = 0;
    for (int64_t b = 0; b < d->batch; b++) {
        int64_t len_q = a->cu_q ? a->cu_q[b + 1] - a->cu_q[b] : d->seq_q;
        int64_t len_kv = a->cu_kv ? a->cu_kv[b + 1] - a->cu_kv[b] : a->lens_kv[b];
        for (int64_t i = 0; i < len_q; i++) { /* causal, bottom-right */
            int64_t seen = i + len_kv - len_q + 1;
            pairs += (double)(seen < 0 ? 0 : seen > len_kv ? len_kv : seen);
        }
    }
    return 4.0 * (double)d->heads_q * (double)d->head_dim * pairs;
}

double conf_serving_bytes(const xhal_attention_desc_t *d, const conf_serving_arrays_t *a) {
    double q = (double)a->rows_q * (double)d->heads_q * (double)d->head_dim;
    double kv = (double)a->rows_kv * (double)d->heads_kv * (double)d->head_dim;
    return (2.0 * q + 2.0 * kv) * (double)xhal_dtype_size(d->dtype);
}

void conf_serving_elements(const xhal_attention_desc_t *d, const conf_serving_arrays_t *a,
                           double out[4]) {
    double q = (double)(a->cu_q ? a->rows_q : d->batch) * (double)d->heads_q * (double)d->head_dim;
    double kv = a->table ? (double)d->num_blocks * (double)d->k_strides.batch
                         : (double)a->rows_kv * (double)d->heads_kv * (double)d->head_dim;
    out[0] = out[3] = q;
    out[1] = out[2] = kv;
}
