/*
 * Merging two partial attention outputs by their log-sum-exps (xhal.h): the descriptor, its
 * checks (the in-place rule: o may be o_a and lse may be lse_a, exactly; nothing else may
 * overlap an output), the supports probe and dispatch.
 */
#include "op_attention.h"

void xhal_attention_merge_desc_init(xhal_attention_merge_desc_t *out_desc, int64_t batch,
                                    int64_t heads, int64_t seq, int64_t head_dim,
                                    xhal_dtype_t dtype, xhal_layout_t layout) {
    if (!out_desc) return;
    *out_desc = (xhal_attention_merge_desc_t){
        .struct_size = sizeof(xhal_attention_merge_desc_t),
        .batch = batch,
        .heads = heads,
        .seq = seq,
        .head_dim = head_dim,
        .dtype = dtype,
    };
    xhal_attention_contiguous(&out_desc->strides, layout, heads, seq, head_dim);
}

/* The first versioned layout (0.2) ends here; see xhal_copy_versioned. */
#define MERGE_DESC_MIN_SIZE XHAL_SIZE_THROUGH(xhal_attention_merge_desc_t, lse_offset)

static xhal_status_t check_shape(const char *fn, const xhal_attention_merge_desc_t *d) {
    CHECK(xhal_check_at_least(fn, "batch", d->batch, 1));
    CHECK(xhal_check_at_least(fn, "heads", d->heads, 1));
    CHECK(xhal_check_at_least(fn, "seq", d->seq, 1));
    CHECK(xhal_check_at_least(fn, "head_dim", d->head_dim, 1));
    CHECK(xhal_check_dtype(fn, "dtype", d->dtype));
    CHECK(xhal_attention_check_strides(fn, "strides", &d->strides));
    CHECK(xhal_attention_check_rows(fn, "strides", &d->strides, d->batch, d->heads, d->seq,
                                    d->head_dim));
    if (!d->lse && d->lse_offset)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: lse_offset (%llu) is set but lse is NULL",
                              fn, (unsigned long long)d->lse_offset);
    return XHAL_OK;
}

/* Elements of one output and of one LSE; OUT_OF_RANGE when either overflows in bytes. */
static xhal_status_t extents(const char *fn, const xhal_attention_merge_desc_t *d,
                             uint64_t *out_rows, uint64_t *out_lse) {
    uint64_t rows = xhal_attention_elements(&d->strides, d->batch, d->heads, d->seq, d->head_dim);
    uint64_t lse, bytes;
    if (rows == UINT64_MAX || !xhal_mul_u64(rows, xhal_dtype_size(d->dtype), &bytes) ||
        !xhal_mul_u64((uint64_t)d->batch, (uint64_t)d->heads, &lse) ||
        !xhal_mul_u64(lse, (uint64_t)d->seq, &lse) || !xhal_mul_u64(lse, 4, &bytes))
        return xhal_set_error(XHAL_OUT_OF_RANGE,
                              "%s: the shape and strides span more than 2^64 bytes", fn);
    *out_rows = rows;
    *out_lse = lse;
    return XHAL_OK;
}

static xhal_status_t ask_backend(const char *fn, const xhal_device_t *device,
                                 const xhal_attention_merge_desc_t *d) {
    if (!device->api->attention_merge)
        return xhal_set_error(XHAL_UNSUPPORTED, "%s: backend %s has no attention merge", fn,
                              device->info.backend);
    if (!device->api->attention_merge_supports) return XHAL_OK;
    return device->api->attention_merge_supports(device->impl, d);
}

xhal_status_t xhal_attention_merge_supports(const xhal_device_t *device,
                                            const xhal_attention_merge_desc_t *desc) {
    static const char fn[] = "xhal_attention_merge_supports";
    CHECK(xhal_check_not_null(fn, "device", device));
    xhal_attention_merge_desc_t full;
    CHECK(xhal_copy_versioned(fn, "desc", desc, MERGE_DESC_MIN_SIZE, sizeof full, &full));
    CHECK(check_shape(fn, &full));
    uint64_t rows = 0, lse = 0;
    CHECK(extents(fn, &full, &rows, &lse));
    return ask_backend(fn, device, &full);
}

xhal_status_t xhal_attention_merge(xhal_stream_t *stream, const xhal_attention_merge_desc_t *desc) {
    static const char fn[] = "xhal_attention_merge";
    CHECK(xhal_check_not_null(fn, "stream", stream));
    xhal_attention_merge_desc_t full;
    CHECK(xhal_copy_versioned(fn, "desc", desc, MERGE_DESC_MIN_SIZE, sizeof full, &full));
    const xhal_attention_merge_desc_t *d = &full;
    CHECK(check_shape(fn, d));
    uint64_t rows = 0, lse = 0;
    CHECK(extents(fn, d, &rows, &lse));
    const xhal_device_t *device = stream->device;
    enum { O_A, O_B, O, LSE_A, LSE_B, LSE, VIEWS };
    xhal_view_t views[VIEWS] = {
        {"o_a", "o_a_offset", d->o_a, d->o_a_offset, 0, 0},
        {"o_b", "o_b_offset", d->o_b, d->o_b_offset, 0, 0},
        {"o", "o_offset", d->o, d->o_offset, 0, 1},
        {"lse_a", "lse_a_offset", d->lse_a, d->lse_a_offset, 0, 0},
        {"lse_b", "lse_b_offset", d->lse_b, d->lse_b_offset, 0, 0},
        {"lse", "lse_offset", d->lse, d->lse_offset, 0, 1},
    };
    for (int i = 0; i < VIEWS; i++) {
        xhal_view_t *v = &views[i];
        if (i == LSE && !v->buffer) continue; /* the merged LSE is optional */
        int is_lse = i >= LSE_A;
        CHECK(xhal_check_tensor(fn, v->name, v->offset_name, v->buffer, v->offset,
                                is_lse ? lse : rows, is_lse ? XHAL_DTYPE_F32 : d->dtype, device,
                                &v->bytes));
    }
    /* In place: o on o_a and lse on lse_a, each exactly (the same rows in the same order). */
    static const int in_place[] = {O, O_A, LSE, LSE_A, -1};
    CHECK(xhal_check_overlaps(fn, views, VIEWS, in_place));
    CHECK(ask_backend(fn, device, d));
    const xhal_be_merge_buffers_t buffers = {
        .o_a = xhal_buffer_impl(d->o_a),
        .o_b = xhal_buffer_impl(d->o_b),
        .o = xhal_buffer_impl(d->o),
        .lse_a = xhal_buffer_impl(d->lse_a),
        .lse_b = xhal_buffer_impl(d->lse_b),
        .lse = xhal_buffer_impl(d->lse),
    };
    return device->api->attention_merge(stream->impl, d, &buffers);
}
