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

/* One output row: softmax over the keys query i sees, in fp64; zeros when it sees none. */
static void reference_row(const xhal_attention_desc_t *d, const double *q, const double *k,
                          const double *v, int64_t b, int64_t h, int64_t i, double *p,
                          double *out) {
    const double *qi = q + conf_attention_row(&d->q_strides, b, h, i);
    int64_t kv_head = h / (d->heads_q / d->heads_kv);
    int64_t keys = conf_attention_visible(d, i);
    double scale = d->scale != 0 ? (double)d->scale : 1.0 / sqrt((double)d->head_dim);
    double max = -INFINITY, sum = 0;
    for (int64_t j = 0; j < keys; j++) {
        const double *kj = k + conf_attention_row(&d->k_strides, b, kv_head, j);
        double dot = 0;
        for (int64_t x = 0; x < d->head_dim; x++)
            dot += qi[x] * kj[x];
        p[j] = scale * dot;
        max = fmax(max, p[j]);
    }
    for (int64_t j = 0; j < keys; j++)
        sum += (p[j] = exp(p[j] - max));
    for (int64_t x = 0; x < d->head_dim; x++) {
        double acc = 0;
        for (int64_t j = 0; j < keys; j++)
            acc += p[j] * v[conf_attention_row(&d->v_strides, b, kv_head, j) + x];
        out[x] = keys ? acc / sum : 0;
    }
}

void conf_ref_attention(const xhal_attention_desc_t *d, const double *q, const double *k,
                        const double *v, double *scores, double *ref) {
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t h = 0; h < d->heads_q; h++)
            for (int64_t i = 0; i < d->seq_q; i++, ref += d->head_dim)
                reference_row(d, q, k, v, b, h, i, scores, ref);
}
