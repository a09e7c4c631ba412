/* Attention: the descriptor's checks, the supports probe, and dispatch. */
#include <math.h>
#include <stdlib.h>

#include "core.h"

/* The largest head_dim any backend is asked for (ARCHITECTURE.md); kernels size tiles by it. */
#define XHAL_MAX_HEAD_DIM 256

/* Products saturate (xhal_mul_sat_i64): sizes are validated by the op, not here. */
static void contiguous(xhal_attention_strides_t *s, xhal_layout_t layout, int64_t heads,
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
    contiguous(&out_desc->q_strides, layout, heads_q, seq_q, head_dim);
    contiguous(&out_desc->o_strides, layout, heads_q, seq_q, head_dim);
    contiguous(&out_desc->k_strides, layout, heads_kv, seq_kv, head_dim);
    contiguous(&out_desc->v_strides, layout, heads_kv, seq_kv, head_dim);
}

static xhal_status_t check_strides(const char *fn, const char *tensor,
                                   const xhal_attention_strides_t *s) {
    const char *bad = s->batch < 0 ? "batch" : s->head < 0 ? "head" : s->seq < 0 ? "seq" : NULL;
    if (!bad) return XHAL_OK;
    int64_t value = s->batch < 0 ? s->batch : s->head < 0 ? s->head : s->seq;
    return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: %s_strides.%s (%lld) must be >= 0", fn,
                          tensor, bad, (long long)value);
}

typedef struct axis {
    int64_t count, stride;
} axis_t;

static int by_stride(const void *a, const void *b) {
    int64_t x = ((const axis_t *)a)->stride, y = ((const axis_t *)b)->stride;
    return (x > y) - (x < y);
}

/*
 * O is written, so no two (batch, head, position) rows may share an element: sorted by stride,
 * each axis must step over everything the smaller axes span.
 */
static xhal_status_t check_no_overlap(const char *fn, const xhal_attention_desc_t *d) {
    axis_t axes[3] = {{d->batch, d->o_strides.batch},
                      {d->heads_q, d->o_strides.head},
                      {d->seq_q, d->o_strides.seq}};
    qsort(axes, 3, sizeof *axes, by_stride);
    uint64_t span = (uint64_t)d->head_dim;
    for (int i = 0; i < 3; i++) {
        if (axes[i].count == 1) continue;
        if ((uint64_t)axes[i].stride < span)
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: o_strides (batch %lld, head %lld, seq %lld) make rows of O "
                                  "overlap (a stride of %lld < %llu elements spanned below it)",
                                  fn, (long long)d->o_strides.batch, (long long)d->o_strides.head,
                                  (long long)d->o_strides.seq, (long long)axes[i].stride,
                                  (unsigned long long)span);
        span = xhal_extend(span, axes[i].count, axes[i].stride);
    }
    return XHAL_OK;
}

/* The first versioned layout (0.2) ends here; see xhal_copy_versioned. */
#define ATTENTION_DESC_MIN_SIZE XHAL_SIZE_THROUGH(xhal_attention_desc_t, lse_offset)

static xhal_status_t check_shape(const char *fn, const xhal_attention_desc_t *d) {
    /* The serving features are validated by the serving-attention work; refused until then. */
    if (d->flags || d->sliding_window || d->softcap != 0.0f || d->cu_seqlens_q ||
        d->cu_seqlens_kv || d->seqlens_kv || d->block_table || d->lse)
        return xhal_set_error(XHAL_UNSUPPORTED,
                              "%s: the serving features of attention are not implemented yet", fn);
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
    CHECK(check_strides(fn, "q", &d->q_strides));
    CHECK(check_strides(fn, "k", &d->k_strides));
    CHECK(check_strides(fn, "v", &d->v_strides));
    CHECK(check_strides(fn, "o", &d->o_strides));
    CHECK(check_no_overlap(fn, d));
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

static uint64_t tensor_elements(const xhal_attention_strides_t *s, int64_t batch, int64_t heads,
                                int64_t seq, int64_t dim) {
    uint64_t e = xhal_extend((uint64_t)dim, seq, s->seq);
    e = xhal_extend(e, heads, s->head);
    return xhal_extend(e, batch, s->batch);
}

/* OUT_OF_RANGE when a tensor's byte count overflows; else the elements each spans. */
static xhal_status_t extents(const char *fn, const xhal_attention_desc_t *d,
                             uint64_t out_elements[4]) {
    static const char *const names[4] = {"q", "k", "v", "o"};
    out_elements[0] = tensor_elements(&d->q_strides, d->batch, d->heads_q, d->seq_q, d->head_dim);
    out_elements[1] = tensor_elements(&d->k_strides, d->batch, d->heads_kv, d->seq_kv, d->head_dim);
    out_elements[2] = tensor_elements(&d->v_strides, d->batch, d->heads_kv, d->seq_kv, d->head_dim);
    out_elements[3] = tensor_elements(&d->o_strides, d->batch, d->heads_q, d->seq_q, d->head_dim);
    for (int i = 0; i < 4; i++) {
        uint64_t bytes;
        if (out_elements[i] == UINT64_MAX ||
            !xhal_mul_u64(out_elements[i], xhal_dtype_size(d->dtype), &bytes))
            return xhal_set_error(XHAL_OUT_OF_RANGE,
                                  "%s: the shape and strides of %s span more than 2^64 bytes", fn,
                                  names[i]);
    }
    return XHAL_OK;
}

xhal_status_t xhal_attention_supports(const xhal_device_t *device,
                                      const xhal_attention_desc_t *desc) {
    static const char fn[] = "xhal_attention_supports";
    CHECK(xhal_check_not_null(fn, "device", device));
    xhal_attention_desc_t full;
    CHECK(xhal_copy_versioned(fn, "desc", desc, ATTENTION_DESC_MIN_SIZE, sizeof full, &full));
    CHECK(check_shape(fn, &full));
    uint64_t elements[4];
    CHECK(extents(fn, &full, elements));
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
    uint64_t elements[4];
    CHECK(extents(fn, d, elements));
    struct {
        const char *name, *offset_name;
        xhal_buffer_t *buffer;
        uint64_t offset, elements, bytes;
    } t[4] = {
        {"q", "q_offset", d->q, d->q_offset, elements[0], 0},
        {"k", "k_offset", d->k, d->k_offset, elements[1], 0},
        {"v", "v_offset", d->v, d->v_offset, elements[2], 0},
        {"o", "o_offset", d->o, d->o_offset, elements[3], 0},
    };
    for (int i = 0; i < 4; i++)
        CHECK(xhal_check_tensor(fn, t[i].name, t[i].offset_name, t[i].buffer, t[i].offset,
                                t[i].elements, d->dtype, device, &t[i].bytes));
    for (int i = 0; i < 3; i++) {
        if (t[i].buffer == d->o &&
            xhal_ranges_overlap(d->o_offset, t[3].bytes, t[i].offset, t[i].bytes))
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: o (o_offset %llu) overlaps %s (%s %llu) in one buffer", fn,
                                  (unsigned long long)d->o_offset, t[i].name, t[i].offset_name,
                                  (unsigned long long)t[i].offset);
    }
    CHECK(ask_backend(fn, device, d));
    const xhal_be_attention_buffers_t buffers = {
        .q = d->q->impl, .k = d->k->impl, .v = d->v->impl, .o = d->o->impl};
    return device->api->attention(stream->impl, d, &buffers);
}
