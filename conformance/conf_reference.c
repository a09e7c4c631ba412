/*
 * The fp64 references every backend is judged against. Deliberately simple: straight loops over
 * the definitions in xhal.h, no blocking, no tricks, so that a reader can check them by eye. The
 * inputs are the values as rounded to the dtype, so only the backend's arithmetic is judged.
 */
#include <math.h>

#include "conf_internal.h"

/* ---- GEMM ---- */

static double element_a(const xhal_gemm_desc_t *d, const double *a, int64_t b, int64_t i,
                        int64_t p) {
    return a[b * d->stride_a + (d->trans_a ? p * d->lda + i : i * d->lda + p)];
}

static double element_b(const xhal_gemm_desc_t *d, const double *bm, int64_t b, int64_t p,
                        int64_t j) {
    return bm[b * d->stride_b + (d->trans_b ? j * d->ldb + p : p * d->ldb + j)];
}

int64_t conf_gemm_c_index(const xhal_gemm_desc_t *d, int64_t b, int64_t i, int64_t j) {
    return b * d->stride_c + i * d->ldc + j;
}

void conf_ref_gemm(const xhal_gemm_desc_t *d, const double *a, const double *bm, const double *c,
                   double *ref) {
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t i = 0; i < d->m; i++)
            for (int64_t j = 0; j < d->n; j++) {
                double sum = 0;
                for (int64_t p = 0; p < d->k; p++)
                    sum += element_a(d, a, b, i, p) * element_b(d, bm, b, p, j);
                /* beta == 0 does not read C (xhal.h): NaN there must not propagate. */
                double c0 = d->beta != 0 ? c[conf_gemm_c_index(d, b, i, j)] : 0;
                *ref++ = (double)d->alpha * sum + (double)d->beta * c0;
            }
}

/* ---- GEMM with an epilogue and any B (conf_check_gemm_serving.c) ---- */

double conf_ref_activation(double x, xhal_activation_t activation) {
    switch (activation) {
    case XHAL_ACTIVATION_RELU:
        return x > 0 ? x : 0;
    case XHAL_ACTIVATION_GELU_ERF: /* x/2 (1 + erf(x / sqrt 2)), as erfc: no cancellation */
        return 0.5 * x * erfc(-x / sqrt(2.0));
    case XHAL_ACTIVATION_GELU_TANH: /* x/2 (1 + tanh y) = x / (1 + e^(-2y)) */
        return x / (1 + exp(-2 * sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case XHAL_ACTIVATION_SILU:
        return x / (1 + exp(-x));
    default:
        return x;
    }
}

void conf_ref_gemm_epilogue(const xhal_gemm_desc_t *d, const double *a, const double *b_nk,
                            const double *c, const double *bias, double *t, double *ref) {
    int64_t columns = d->gated ? d->n / 2 : d->n;
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t i = 0; i < d->m; i++) {
            for (int64_t j = 0; j < d->n; j++) {
                double sum = 0;
                for (int64_t p = 0; p < d->k; p++)
                    sum += element_a(d, a, b, i, p) * b_nk[j * d->k + p];
                t[j] = (double)d->alpha * sum + (bias ? bias[j] : 0);
                /* beta == 0 does not read C; gated, beta is 0. */
                if (d->beta != 0) t[j] += (double)d->beta * c[conf_gemm_c_index(d, b, i, j)];
            }
            for (int64_t j = 0; j < columns; j++)
                *ref++ = d->gated ? conf_ref_activation(t[j], d->activation) * t[j + columns]
                                  : conf_ref_activation(t[j], d->activation);
        }
}

/* ---- Attention ---- */

int64_t conf_attention_row(const xhal_attention_strides_t *s, int64_t b, int64_t h, int64_t pos) {
    return b * s->batch + h * s->head + pos * s->seq;
}

int64_t conf_attention_visible(const xhal_attention_desc_t *d, int64_t i) {
    if (!d->causal) return d->seq_kv;
    int64_t last = i + d->seq_kv - d->seq_q; /* bottom-right alignment */
    if (last < 0) return 0;
    return last + 1 < d->seq_kv ? last + 1 : d->seq_kv;
}

/* ---- Serving attention: packed and paged tensors, window, soft-cap, LSE (xhal.h) ---- */

int64_t conf_att_len_q(const xhal_attention_desc_t *d, const conf_att_index_t *x, int64_t b) {
    return x->cu_q ? x->cu_q[b + 1] - x->cu_q[b] : d->seq_q;
}

int64_t conf_att_len_kv(const xhal_attention_desc_t *d, const conf_att_index_t *x, int64_t b) {
    if (x->cu_kv) return x->cu_kv[b + 1] - x->cu_kv[b];
    return x->lens_kv ? x->lens_kv[b] : d->seq_kv;
}

int64_t conf_att_q_row(const xhal_attention_desc_t *d, const conf_att_index_t *x,
                       const xhal_attention_strides_t *s, int64_t b, int64_t h, int64_t i) {
    /* Packed: sequence b's queries are rows cu_seqlens_q[b] .. of a batch-less tensor. */
    if (x->cu_q) return conf_attention_row(s, 0, h, x->cu_q[b] + i);
    (void)d;
    return conf_attention_row(s, b, h, i);
}

int64_t conf_att_kv_row(const xhal_attention_desc_t *d, const conf_att_index_t *x,
                        const xhal_attention_strides_t *s, int64_t b, int64_t kvh, int64_t t) {
    if (x->cu_kv) return conf_attention_row(s, 0, kvh, x->cu_kv[b] + t);
    if (x->table) {
        /* Paged: key t is token t % block_size of block table[b][t / block_size]. */
        int64_t block = x->table[b * d->block_table_stride + t / d->block_size];
        return conf_attention_row(s, block, kvh, t % d->block_size);
    }
    return conf_attention_row(s, b, kvh, t);
}

int conf_att_sees(const xhal_attention_desc_t *d, int64_t len_q, int64_t len_kv, int64_t i,
                  int64_t j) {
    int64_t p = i + len_kv - len_q; /* the query's key position: bottom-right alignment */
    if (d->causal && j > p) return 0;
    if (d->sliding_window > 0 && j <= p - d->sliding_window) return 0;
    return 1;
}

/* One output row and its LSE: softmax over the keys query i sees, in fp64; zeros and -inf when
 * it sees none. */
static void serving_row(const xhal_attention_desc_t *d, const conf_att_index_t *x, const double *q,
                        const double *k, const double *v, int64_t b, int64_t h, int64_t i,
                        double *p, double *out, double *lse) {
    int64_t len_q = conf_att_len_q(d, x, b), len_kv = conf_att_len_kv(d, x, b);
    const double *qi = q + conf_att_q_row(d, x, &d->q_strides, b, h, i);
    int64_t kv_head = h / (d->heads_q / d->heads_kv);
    double scale = d->scale != 0 ? (double)d->scale : 1.0 / sqrt((double)d->head_dim);
    double max = -INFINITY, sum = 0;
    for (int64_t j = 0; j < len_kv; j++) {
        p[j] = -INFINITY;
        if (!conf_att_sees(d, len_q, len_kv, i, j)) continue;
        const double *kj = k + conf_att_kv_row(d, x, &d->k_strides, b, kv_head, j);
        double dot = 0;
        for (int64_t e = 0; e < d->head_dim; e++)
            dot += qi[e] * kj[e];
        p[j] = scale * dot;
        if (d->softcap > 0) p[j] = (double)d->softcap * tanh(p[j] / (double)d->softcap);
        max = fmax(max, p[j]);
    }
    for (int64_t j = 0; j < len_kv && max > -INFINITY; j++)
        sum += (p[j] = exp(p[j] - max)); /* exp(-inf) = 0 for the keys it does not see */
    for (int64_t e = 0; e < d->head_dim; e++) {
        double acc = 0;
        for (int64_t j = 0; j < len_kv && max > -INFINITY; j++)
            if (p[j] > 0) acc += p[j] * v[conf_att_kv_row(d, x, &d->v_strides, b, kv_head, j) + e];
        out[e] = max > -INFINITY ? acc / sum : 0;
    }
    *lse = max > -INFINITY ? max + log(sum) : -INFINITY;
}

void conf_ref_attention_serving(const xhal_attention_desc_t *d, const conf_att_index_t *x,
                                const double *q, const double *k, const double *v, double *scores,
                                double *ref, double *lse_ref) {
    double lse;
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t h = 0; h < d->heads_q; h++)
            for (int64_t i = 0; i < conf_att_len_q(d, x, b); i++, ref += d->head_dim) {
                serving_row(d, x, q, k, v, b, h, i, scores, ref, &lse);
                if (lse_ref) *lse_ref++ = lse;
            }
}

void conf_ref_attention(const xhal_attention_desc_t *d, const double *q, const double *k,
                        const double *v, double *scores, double *ref) {
    const conf_att_index_t none = {0};
    conf_ref_attention_serving(d, &none, q, k, v, scores, ref, NULL);
}
