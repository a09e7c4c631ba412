/*
 * Attention dispatch (kernels/opencl/attention.cl explains the kernels):
 *
 *   seq_q <= att_dec_max_q   decode: the keys are split into chunks over enough work-items to
 *                            fill the device (att_dec_items), each chunk's partial softmax state
 *                            goes to scratch, and a combine pass merges them into O;
 *   otherwise                prefill: K and V are packed to f32 (K transposed in blocks of
 *                            att_vw keys), then a work-item runs att_bq query rows over them.
 *
 * Prefill packs batches in groups that keep the scratch under OCL_ATTN_BUDGET.
 */
#include <limits.h>
#include <math.h>

#include "attention_features.h"
#include "ocl_internal.h"

#define OCL_ATTN_BUDGET ((uint64_t)256 << 20)
#define OCL_MAX_HEAD_DIM 256

xhal_status_t ocl_attention_supports(xhal_be_device_t *device, const xhal_attention_desc_t *desc) {
    const char *feature = xhal_attention_serving_feature(desc);
    if (feature)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "opencl: attention with %s has no kernel here yet", feature);
    if (desc->head_dim > OCL_MAX_HEAD_DIM)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "opencl: attention head_dim %lld is not supported (1..%d)",
                                       (long long)desc->head_dim, OCL_MAX_HEAD_DIM);
    const int64_t limit = INT_MAX / 2;
    if (desc->seq_q > limit || desc->seq_kv > limit || desc->heads_q > limit || desc->batch > limit)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "opencl: attention sizes above %lld are not supported",
                                       (long long)limit);
    return XHAL_OK;
}

/* Strides and offsets of one tensor as kernel arguments (elements). */
typedef struct tensor_args {
    cl_long offset, batch, head, seq;
} tensor_args_t;

static tensor_args_t tensor(const xhal_attention_strides_t *s, uint64_t offset_bytes,
                            xhal_dtype_t dtype) {
    tensor_args_t t = {(cl_long)(offset_bytes / ocl_dtype_size(dtype)), s->batch, s->head, s->seq};
    return t;
}

static float scale_log2(const xhal_attention_desc_t *d) {
    float scale = d->scale != 0.0f ? d->scale : 1.0f / sqrtf((float)d->head_dim);
    return scale * 1.44269504088896341f; /* scores in base 2: exp(x) = exp2(x log2 e) */
}

static xhal_status_t prefill(xhal_be_stream_t *stream, const xhal_attention_desc_t *d,
                             xhal_be_buffer_t *q, xhal_be_buffer_t *k, xhal_be_buffer_t *v,
                             xhal_be_buffer_t *o) {
    const ocl_tuning_t *t = &stream->device->tuning;
    int vw = t->att_vw;
    cl_int seq_q = (cl_int)d->seq_q, seq_kv = (cl_int)d->seq_kv, head_dim = (cl_int)d->head_dim;
    cl_int kv_blocks = (cl_int)((d->seq_kv + vw - 1) / vw);
    cl_int dp = (cl_int)ocl_round_up((uint64_t)d->head_dim, (uint64_t)vw);
    cl_int group = (cl_int)(d->heads_q / d->heads_kv), heads_kv = (cl_int)d->heads_kv;
    cl_int causal = d->causal;
    cl_float scale = scale_log2(d);
    uint64_t heads = (uint64_t)d->heads_kv * (uint64_t)kv_blocks * (uint64_t)vw;
    uint64_t kt_floats = heads * (uint64_t)head_dim, vp_floats = heads * (uint64_t)dp;
    int64_t batches = (int64_t)(OCL_ATTN_BUDGET / 4 / (kt_floats + vp_floats));
    if (batches < 1) batches = 1;
    if (batches > d->batch) batches = d->batch;

    cl_mem kt = NULL, vp = NULL;
    xhal_status_t status = ocl_stream_scratch(stream, 0, 4 * kt_floats * (uint64_t)batches, &kt);
    if (status == XHAL_OK)
        status = ocl_stream_scratch(stream, 1, 4 * vp_floats * (uint64_t)batches, &vp);
    if (status != XHAL_OK) return status;

    size_t one[3] = {1, 1, 1};
    for (int64_t b0 = 0; b0 < d->batch; b0 += batches) {
        int64_t count = d->batch - b0 < batches ? d->batch - b0 : batches;
        tensor_args_t tq = tensor(&d->q_strides, d->q_offset, d->dtype);
        tensor_args_t tk = tensor(&d->k_strides, d->k_offset, d->dtype);
        tensor_args_t tv = tensor(&d->v_strides, d->v_offset, d->dtype);
        tensor_args_t to = tensor(&d->o_strides, d->o_offset, d->dtype);
        tq.offset += b0 * tq.batch;
        tk.offset += b0 * tk.batch;
        tv.offset += b0 * tv.batch;
        to.offset += b0 * to.batch;

        size_t pack_global[3] = {(size_t)kv_blocks, (size_t)d->heads_kv, (size_t)count};
        status =
            OCL_LAUNCH(stream, OCL_ATTN_PACK_KV, d->dtype, 3, pack_global, one, OCL_ARG(k->mem),
                       OCL_ARG(tk.offset), OCL_ARG(tk.batch), OCL_ARG(tk.head), OCL_ARG(tk.seq),
                       OCL_ARG(v->mem), OCL_ARG(tv.offset), OCL_ARG(tv.batch), OCL_ARG(tv.head),
                       OCL_ARG(tv.seq), OCL_ARG(seq_kv), OCL_ARG(head_dim), OCL_ARG(dp),
                       OCL_ARG(kv_blocks), OCL_ARG(kt), OCL_ARG(vp));
        if (status != XHAL_OK) return status;

        size_t global[3] = {(size_t)((d->seq_q + t->att_bq - 1) / t->att_bq), (size_t)d->heads_q,
                            (size_t)count};
        status = OCL_LAUNCH(
            stream, OCL_ATTN_PREFILL, d->dtype, 3, global, one, OCL_ARG(q->mem), OCL_ARG(tq.offset),
            OCL_ARG(tq.batch), OCL_ARG(tq.head), OCL_ARG(tq.seq), OCL_ARG(kt), OCL_ARG(vp),
            OCL_ARG(o->mem), OCL_ARG(to.offset), OCL_ARG(to.batch), OCL_ARG(to.head),
            OCL_ARG(to.seq), OCL_ARG(seq_q), OCL_ARG(seq_kv), OCL_ARG(head_dim), OCL_ARG(dp),
            OCL_ARG(group), OCL_ARG(heads_kv), OCL_ARG(kv_blocks), OCL_ARG(causal), OCL_ARG(scale));
        if (status != XHAL_OK) return status;
    }
    return XHAL_OK;
}

static xhal_status_t decode(xhal_be_stream_t *stream, const xhal_attention_desc_t *d,
                            xhal_be_buffer_t *q, xhal_be_buffer_t *k, xhal_be_buffer_t *v,
                            xhal_be_buffer_t *o) {
    const ocl_tuning_t *t = &stream->device->tuning;
    int vw = t->att_vw;
    int64_t group = d->heads_q / d->heads_kv;
    int64_t row_blocks = (group * d->seq_q + t->att_dec_rb - 1) / t->att_dec_rb;
    int64_t items = d->batch * d->heads_kv * row_blocks;
    /* Enough chunks to reach att_dec_items work-items, none shorter than att_dec_chunk keys. */
    int64_t chunks = (t->att_dec_items + items - 1) / items;
    int64_t most = (d->seq_kv + t->att_dec_chunk - 1) / t->att_dec_chunk;
    if (chunks > most) chunks = most;
    if (chunks < 1) chunks = 1;
    int64_t chunk =
        (int64_t)ocl_round_up((uint64_t)((d->seq_kv + chunks - 1) / chunks), (uint64_t)vw);
    chunks = (d->seq_kv + chunk - 1) / chunk;

    cl_int seq_q = (cl_int)d->seq_q, seq_kv = (cl_int)d->seq_kv, head_dim = (cl_int)d->head_dim;
    cl_int dp = (cl_int)ocl_round_up((uint64_t)d->head_dim, (uint64_t)vw);
    cl_int group_arg = (cl_int)group, chunk_arg = (cl_int)chunk, chunks_arg = (cl_int)chunks;
    cl_int causal = d->causal;
    cl_float scale = scale_log2(d);
    uint64_t rows = (uint64_t)d->batch * (uint64_t)d->heads_q * (uint64_t)d->seq_q;
    uint64_t partials = rows * (uint64_t)chunks;

    cl_mem part_m = NULL, part_l = NULL, part_acc = NULL;
    xhal_status_t status = ocl_stream_scratch(stream, 0, 4 * partials, &part_m);
    if (status == XHAL_OK) status = ocl_stream_scratch(stream, 1, 4 * partials, &part_l);
    if (status == XHAL_OK)
        status = ocl_stream_scratch(stream, 2, 4 * partials * (uint64_t)dp, &part_acc);
    if (status != XHAL_OK) return status;

    tensor_args_t tq = tensor(&d->q_strides, d->q_offset, d->dtype);
    tensor_args_t tk = tensor(&d->k_strides, d->k_offset, d->dtype);
    tensor_args_t tv = tensor(&d->v_strides, d->v_offset, d->dtype);
    tensor_args_t to = tensor(&d->o_strides, d->o_offset, d->dtype);
    size_t one[3] = {1, 1, 1};
    size_t global[3] = {(size_t)chunks, (size_t)(d->heads_kv * row_blocks), (size_t)d->batch};
    status = OCL_LAUNCH(
        stream, OCL_ATTN_DECODE, d->dtype, 3, global, one, OCL_ARG(q->mem), OCL_ARG(tq.offset),
        OCL_ARG(tq.batch), OCL_ARG(tq.head), OCL_ARG(tq.seq), OCL_ARG(k->mem), OCL_ARG(tk.offset),
        OCL_ARG(tk.batch), OCL_ARG(tk.head), OCL_ARG(tk.seq), OCL_ARG(v->mem), OCL_ARG(tv.offset),
        OCL_ARG(tv.batch), OCL_ARG(tv.head), OCL_ARG(tv.seq), OCL_ARG(seq_q), OCL_ARG(seq_kv),
        OCL_ARG(head_dim), OCL_ARG(dp), OCL_ARG(group_arg), OCL_ARG(chunk_arg), OCL_ARG(causal),
        OCL_ARG(scale), OCL_ARG(part_m), OCL_ARG(part_l), OCL_ARG(part_acc));
    if (status != XHAL_OK) return status;

    size_t combine_global[3] = {(size_t)d->seq_q, (size_t)d->heads_q, (size_t)d->batch};
    return OCL_LAUNCH(stream, OCL_ATTN_COMBINE, d->dtype, 3, combine_global, NULL, OCL_ARG(part_m),
                      OCL_ARG(part_l), OCL_ARG(part_acc), OCL_ARG(chunks_arg), OCL_ARG(o->mem),
                      OCL_ARG(to.offset), OCL_ARG(to.batch), OCL_ARG(to.head), OCL_ARG(to.seq),
                      OCL_ARG(seq_q), OCL_ARG(head_dim), OCL_ARG(dp));
}

xhal_status_t ocl_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                            const xhal_be_attention_buffers_t *buffers) {
    xhal_be_buffer_t *q = buffers->q, *k = buffers->k, *v = buffers->v, *o = buffers->o;
    if (desc->seq_q <= stream->device->tuning.att_dec_max_q)
        return decode(stream, desc, q, k, v, o);
    return prefill(stream, desc, q, k, v, o);
}
