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
