/* Attention: the descriptor's dense checks, the supports probe, and dispatch. */
#include <math.h>
#include <stdlib.h>

#include "op_attention.h"

/* Products saturate (xhal_mul_sat_i64): sizes are validated by the op, not here. */
void xhal_attention_contiguous(xhal_attention_strides_t *s, xhal_layout_t layout, int64_t heads,
                               int64_t seq, int64_t dim) {
    int64_t row = layout == XHAL_LAYOUT_BHSD ? dim : xhal_mul_sat_i64(heads, dim);
    int64_t plane = layout == XHAL_LAYOUT_BHSD ? xhal_mul_sat_i64(seq, dim) : dim;
    int64_t batch = xhal_mul_sat_i64(xhal_mul_sat_i64(heads, seq), dim);
    *s = (xhal_attention_strides_t){.batch = batch, .head = plane, .seq = row};
}

void xhal_attention_desc_init(xhal_attention_desc_t *out_desc, int64_t batch, int64_t heads_q,
                              int64_t heads_kv, int64_t seq_q, int64_t seq_kv, int64_t head_dim,
                              xhal_dtype_t dtype, xhal_layout_t layout) {
    if (!out_desc) return;
    *out_desc = (xhal_attention_desc_t){
        .struct_size = sizeof(xhal_attention_desc_t),
        .batch = batch,
        .heads_q = heads_q,
        .heads_kv = heads_kv,
        .seq_q = seq_q,
        .seq_kv = seq_kv,
        .head_dim = head_dim,
        .dtype = dtype,
    };
    xhal_attention_contiguous(&out_desc->q_strides, layout, heads_q, seq_q, head_dim);
    xhal_attention_contiguous(&out_desc->o_strides, layout, heads_q, seq_q, head_dim);
    xhal_attention_contiguous(&out_desc->k_strides, layout, heads_kv, seq_kv, head_dim);
    xhal_attention_contiguous(&out_desc->v_strides, layout, heads_kv, seq_kv, head_dim);
}

xhal_status_t xhal_attention_check_strides(const char *fn, const char *name,
                                           const xhal_attention_strides_t *s) {
    const char *bad = s->batch < 0 ? "batch" : s->head < 0 ? "head" : s->seq < 0 ? "seq" : NULL;
    if (!bad) return XHAL_OK;
    int64_t value = s->batch < 0 ? s->batch : s->head < 0 ? s->head : s->seq;
    return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: %s.%s (%lld) must be >= 0", fn, name, bad,
                          (long long)value);
}

typedef struct axis {
    int64_t count, stride;
} axis_t;

static int by_stride(const void *a, const void *b) {
    int64_t x = ((const axis_t *)a)->stride, y = ((const axis_t *)b)->stride;
    return (x > y) - (x < y);
}

/* Sorted by stride, each axis must step over everything the smaller axes span. */
xhal_status_t xhal_attention_check_rows(const char *fn, const char *name,
                                        const xhal_attention_strides_t *s, int64_t batch,
                                        int64_t heads, int64_t seq, int64_t dim) {
    axis_t axes[3] = {{batch, s->batch}, {heads, s->head}, {seq, s->seq}};
    qsort(axes, 3, sizeof *axes, by_stride);
    uint64_t span = (uint64_t)dim;
    for (int i = 0; i < 3; i++) {
        if (axes[i].count == 1) continue;
        if ((uint64_t)axes[i].stride < span)
            return xhal_set_error(
                XHAL_INVALID_ARGUMENT,
                "%s: %s (batch %lld, head %lld, seq %lld) make rows of the output "
                "overlap (a stride of %lld < %llu elements spanned below it)",
                fn, name, (long long)s->batch, (long long)s->head, (long long)s->seq,
                (long long)axes[i].stride, (unsigned long long)span);
        span = xhal_extend(span, axes[i].count, axes[i].stride);
    }
    return XHAL_OK;
}

uint64_t xhal_attention_elements(const xhal_attention_strides_t *s, int64_t batch, int64_t heads,
                                 int64_t seq, int64_t dim) {
    uint64_t e = xhal_extend((uint64_t)dim, seq, s->seq);
    e = xhal_extend(e, heads, s->head);
    return xhal_extend(e, batch, s->batch);
}

/* The first versioned layout (0.2) ends here; see xhal_copy_versioned. */
#define ATTENTION_DESC_MIN_SIZE XHAL_SIZE_THROUGH(xhal_attention_desc_t, lse_offset)

static xhal_status_t check_shape(const char *fn, const xhal_attention_desc_t *d) {
    CHECK(xhal_check_at_least(fn, "batch", d->batch, 1));
    CHECK(xhal_check_at_least(fn, "heads_q", d->heads_q, 1));
    CHECK(xhal_check_at_least(fn, "heads_kv", d->heads_kv, 1));
    CHECK(xhal_check_at_least(fn, "seq_q", d->seq_q, 1));
    CHECK(xhal_check_at_least(fn, "seq_kv", d->seq_kv, 1));
    CHECK(xhal_check_at_least(fn, "head_dim", d->head_dim, 1));
    if (d->heads_q % d->heads_kv)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: heads_q (%lld) is not a multiple of heads_kv (%lld)", fn,
                              (long long)d->heads_q, (long long)d->heads_kv);
    CHECK(xhal_check_dtype(fn, "dtype", d->dtype));
    if (d->causal != 0 && d->causal != 1)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: causal (%d) must be 0 or 1", fn,
                              d->causal);
    if (!isfinite(d->scale))
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: scale (%g) must be finite", fn,
                              (double)d->scale);
    CHECK(xhal_attention_check_strides(fn, "q_strides", &d->q_strides));
    CHECK(xhal_attention_check_strides(fn, "k_strides", &d->k_strides));
    CHECK(xhal_attention_check_strides(fn, "v_strides", &d->v_strides));
    CHECK(xhal_attention_check_strides(fn, "o_strides", &d->o_strides));
    CHECK(xhal_attention_check_serving(fn, d));
    xhal_attention_span_t q = xhal_attention_q_span(d);
    CHECK(xhal_attention_check_rows(fn, "o_strides", &d->o_strides, q.batch, q.heads, q.seq,
                                    d->head_dim));
    if (d->head_dim > XHAL_MAX_HEAD_DIM)
        return xhal_set_error(XHAL_UNSUPPORTED, "%s: head_dim (%lld) is above the largest, %d", fn,
                              (long long)d->head_dim, XHAL_MAX_HEAD_DIM);
    return XHAL_OK;
}

static xhal_status_t ask_backend(const char *fn, const xhal_device_t *device,
                                 const xhal_attention_desc_t *d) {
    if (!device->api->attention)
        return xhal_set_error(XHAL_UNSUPPORTED, "%s: backend %s has no attention", fn,
                              device->info.backend);
    if (!device->api->attention_supports) return XHAL_OK;
    return device->api->attention_supports(device->impl, d);
}

xhal_status_t xhal_attention_supports(const xhal_device_t *device,
                                      const xhal_attention_desc_t *desc) {
    static const char fn[] = "xhal_attention_supports";
    CHECK(xhal_check_not_null(fn, "device", device));
    xhal_attention_desc_t full;
    CHECK(xhal_copy_versioned(fn, "desc", desc, ATTENTION_DESC_MIN_SIZE, sizeof full, &full));
    CHECK(check_shape(fn, &full));
    CHECK(xhal_attention_check_extents(fn, &full));
    return ask_backend(fn, device, &full);
}

xhal_status_t xhal_attention(xhal_stream_t *stream, const xhal_attention_desc_t *desc) {
    static const char fn[] = "xhal_attention";
    CHECK(xhal_check_not_null(fn, "stream", stream));
    xhal_attention_desc_t full;
    CHECK(xhal_copy_versioned(fn, "desc", desc, ATTENTION_DESC_MIN_SIZE, sizeof full, &full));
    const xhal_attention_desc_t *d = &full;
    CHECK(check_shape(fn, d));
    const xhal_device_t *device = stream->device;
    CHECK(xhal_attention_check_extents(fn, d));
    xhal_view_t views[XHAL_ATTENTION_VIEWS];
    CHECK(xhal_attention_check_views(fn, d, device, views));
    CHECK(xhal_check_overlaps(fn, views, XHAL_ATTENTION_VIEWS, NULL));
    CHECK(ask_backend(fn, device, d));
    CHECK(xhal_attention_check_indices(fn, stream, d));
    const xhal_be_attention_buffers_t buffers = {
        .q = xhal_buffer_impl(d->q),
        .k = xhal_buffer_impl(d->k),
        .v = xhal_buffer_impl(d->v),
        .o = xhal_buffer_impl(d->o),
        .cu_seqlens_q = xhal_buffer_impl(d->cu_seqlens_q),
        .cu_seqlens_kv = xhal_buffer_impl(d->cu_seqlens_kv),
        .seqlens_kv = xhal_buffer_impl(d->seqlens_kv),
        .block_table = xhal_buffer_impl(d->block_table),
        .lse = xhal_buffer_impl(d->lse),
    };
    return device->api->attention(stream->impl, d, &buffers);
}
