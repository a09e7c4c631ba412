/*
 * What a case is worth, by the formulas of PEAKS.md, so that every backend is measured against
 * the same arithmetic:
 *   GEMM FLOPs       = 2 m n k batch
 *   attention FLOPs  = 4 b h_q s_q s_kv d, halved for causal when s_q = s_kv, else the exact
 *                      count of unmasked (query, key) pairs in place of s_q s_kv; softmax not
 *                      counted
 *   minimum bytes    = each input read once + each output written once (a stride-0 operand
 *                      once for the whole batch; C read too when beta != 0); a quantized B
 *                      counts its quantized bytes (INT4: half a byte an element), scales and
 *                      zero points
 *   MFU              = FLOP/s / peak FLOP/s of the dtype
 *   MBU              = bytes/s / peak bandwidth
 *   % of roofline    = FLOP/s / min(peak FLOP/s, FLOPs/bytes x peak bandwidth); for an op without
 *                      FLOPs (copy) the roof is the bandwidth, so it equals MBU
 */
#include <math.h>

#include "conf_internal.h"

double conf_gemm_flops(const xhal_gemm_desc_t *d) {
    return 2.0 * (double)d->m * (double)d->n * (double)d->k * (double)d->batch;
}

/* A quantized B's bytes: the elements (INT4 half a byte each), the scales, the zero points. */
static double quantized_b_bytes(const xhal_gemm_desc_t *d) {
    double elements = (double)d->k * (double)d->n;
    int64_t groups = d->b_scale_mode == XHAL_SCALE_PER_GROUP
                         ? (d->k + d->b_group_size - 1) / d->b_group_size
                         : 1;
    double scales = d->b_scale_mode == XHAL_SCALE_PER_TENSOR ? 1.0 : (double)(d->n * groups);
    return elements * (d->b_quant == XHAL_QUANT_INT4 ? 0.5 : 1.0) +
           scales * (double)xhal_dtype_size(d->b_scale_type) + (d->b_zeros ? scales : 0.0);
}

double conf_gemm_bytes(const xhal_gemm_desc_t *d) {
    double batch = (double)d->batch;
    double a = (double)d->m * (double)d->k * (d->stride_a == 0 ? 1.0 : batch);
    double b = (double)d->k * (double)d->n * (d->stride_b == 0 ? 1.0 : batch);
    double c =
        (double)d->m * (double)(d->gated ? d->n / 2 : d->n) * batch * (d->beta != 0 ? 2.0 : 1.0);
    double b_bytes = d->b_quant != XHAL_QUANT_NONE ? quantized_b_bytes(d)
                                                   : b * (double)xhal_dtype_size(d->b_type);
    double bias = d->bias ? (double)d->n * (double)xhal_dtype_size(d->bias_type) : 0.0;
    return a * (double)xhal_dtype_size(d->a_type) + b_bytes +
           c * (double)xhal_dtype_size(d->c_type) + bias;
}

double conf_attention_flops(const xhal_attention_desc_t *d) {
    double pairs;
    if (!d->causal) {
        pairs = (double)d->seq_q * (double)d->seq_kv;
    } else if (d->seq_q == d->seq_kv) {
        pairs = 0.5 * (double)d->seq_q * (double)d->seq_kv;
    } else {
        pairs = 0;
        for (int64_t i = 0; i < d->seq_q; i++)
            pairs += (double)conf_attention_visible(d, i);
    }
    return 4.0 * (double)d->batch * (double)d->heads_q * pairs * (double)d->head_dim;
}

double conf_attention_bytes(const xhal_attention_desc_t *d) {
    double q = (double)d->batch * (double)d->heads_q * (double)d->seq_q * (double)d->head_dim;
    double kv = (double)d->batch * (double)d->heads_kv * (double)d->seq_kv * (double)d->head_dim;
    return (2.0 * q + 2.0 * kv) * (double)xhal_dtype_size(d->dtype);
}

void conf_metrics_apply(conf_perf_t *p, double peak_flops, double peak_bandwidth) {
    double seconds = p->ms * 1e-3;
    p->flops_per_s = seconds > 0 ? p->flops / seconds : NAN;
    p->bytes_per_s = seconds > 0 ? p->bytes / seconds : NAN;
    p->intensity = p->bytes > 0 ? p->flops / p->bytes : NAN;
    int flops_known = peak_flops > 0 && isfinite(peak_flops);
    int bandwidth_known = peak_bandwidth > 0 && isfinite(peak_bandwidth);
    p->mfu = p->flops > 0 && flops_known ? p->flops_per_s / peak_flops : NAN;
    p->mbu = bandwidth_known ? p->bytes_per_s / peak_bandwidth : NAN;
    if (p->flops > 0) {
        /* Both peaks are needed to know which roof a case is under. */
        if (flops_known && bandwidth_known) {
            double memory_roof = p->intensity * peak_bandwidth;
            p->bound = memory_roof < peak_flops ? memory_roof : peak_flops;
            p->roofline = p->flops_per_s / p->bound;
        } else {
            p->bound = NAN;
            p->roofline = NAN;
        }
    } else {
        p->bound = bandwidth_known ? peak_bandwidth : NAN;
        p->roofline = p->mbu;
    }
}
