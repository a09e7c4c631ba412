/*
 * The serving fields of attention (xhal.h): which index buffers go together, the paged pool's
 * sizes, the window and soft-cap, and the views every buffer of the op spans. Q and O are packed
 * (one row axis, no batch stride) with cu_seqlens_q; K and V are packed with cu_seqlens_kv, a
 * pool of blocks with block_table, or per-sequence at their batch stride otherwise.
 */
#include <math.h>

#include "op_attention.h"

/* An optional buffer's offset must be 0 while the buffer is NULL: a lone offset is a mistake. */
static xhal_status_t check_lone_offset(const char *fn, const char *name, const char *offset_name,
                                       const xhal_buffer_t *buffer, uint64_t offset) {
    if (buffer || offset == 0) return XHAL_OK;
    return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: %s (%llu) is set but %s is NULL", fn,
                          offset_name, (unsigned long long)offset, name);
}

/* The paged pool's fields, set only with block_table (xhal.h). */
static xhal_status_t check_paged(const char *fn, const xhal_attention_desc_t *d) {
    if (!d->block_table) {
        struct {
            const char *name;
            int64_t value;
        } fields[4] = {{"block_size", d->block_size},
                       {"num_blocks", d->num_blocks},
                       {"max_blocks_per_seq", d->max_blocks_per_seq},
                       {"block_table_stride", d->block_table_stride}};
        for (int i = 0; i < 4; i++)
            if (fields[i].value)
                return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                      "%s: %s (%lld) is set but block_table is NULL (K and V are "
                                      "paged only with a block table)",
                                      fn, fields[i].name, (long long)fields[i].value);
        return XHAL_OK;
    }
    if (d->cu_seqlens_kv)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: cu_seqlens_kv is set with block_table: a paged K/V takes its "
                              "lengths from seqlens_kv",
                              fn);
    if (!d->seqlens_kv)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: block_table is set but seqlens_kv is NULL: a paged K/V needs "
                              "each sequence's length",
                              fn);
    if (d->block_size < 1 || d->block_size > XHAL_MAX_BLOCK_SIZE)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: block_size (%lld) must be in 1 .. %d", fn,
                              (long long)d->block_size, XHAL_MAX_BLOCK_SIZE);
    CHECK(xhal_check_at_least(fn, "num_blocks", d->num_blocks, 1));
    CHECK(xhal_check_at_least(fn, "max_blocks_per_seq", d->max_blocks_per_seq, 1));
    CHECK(xhal_check_at_least(fn, "block_table_stride", d->block_table_stride, 1));
    /* block_size <= 256, so the product overflows only for absurd max_blocks_per_seq. */
    if (d->max_blocks_per_seq <= INT64_MAX / d->block_size &&
        d->seq_kv > d->max_blocks_per_seq * d->block_size)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: seq_kv (%lld) is more keys than a block-table row can name "
                              "(max_blocks_per_seq %lld x block_size %lld)",
                              fn, (long long)d->seq_kv, (long long)d->max_blocks_per_seq,
                              (long long)d->block_size);
    return XHAL_OK;
}

xhal_status_t xhal_attention_check_serving(const char *fn, const xhal_attention_desc_t *d) {
    if (d->flags & ~XHAL_ATTENTION_CHECK_INDICES)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: flags (0x%x) has bits that name no XHAL_ATTENTION_* flag", fn,
                              (unsigned)d->flags);
    if (d->sliding_window < 0)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: sliding_window (%lld) must be >= 0 (0: no window)", fn,
                              (long long)d->sliding_window);
    if (!isfinite(d->softcap) || d->softcap < 0.0f)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: softcap (%g) must be finite and >= 0 (0: no soft-capping)", fn,
                              (double)d->softcap);
    CHECK(check_lone_offset(fn, "cu_seqlens_q", "cu_seqlens_q_offset", d->cu_seqlens_q,
                            d->cu_seqlens_q_offset));
    CHECK(check_lone_offset(fn, "cu_seqlens_kv", "cu_seqlens_kv_offset", d->cu_seqlens_kv,
                            d->cu_seqlens_kv_offset));
    CHECK(check_lone_offset(fn, "seqlens_kv", "seqlens_kv_offset", d->seqlens_kv,
                            d->seqlens_kv_offset));
    CHECK(check_lone_offset(fn, "block_table", "block_table_offset", d->block_table,
                            d->block_table_offset));
    CHECK(check_lone_offset(fn, "lse", "lse_offset", d->lse, d->lse_offset));
    if (d->cu_seqlens_kv && d->seqlens_kv)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: cu_seqlens_kv and seqlens_kv are both set: K and V are either "
                              "packed (cu_seqlens_kv) or per sequence with lengths (seqlens_kv)",
                              fn);
    return check_paged(fn, d);
}

xhal_attention_span_t xhal_attention_q_span(const xhal_attention_desc_t *d) {
    return (xhal_attention_span_t){d->cu_seqlens_q ? 1 : d->batch, d->heads_q, d->seq_q};
}

xhal_attention_span_t xhal_attention_kv_span(const xhal_attention_desc_t *d) {
    if (d->block_table) return (xhal_attention_span_t){d->num_blocks, d->heads_kv, d->block_size};
    return (xhal_attention_span_t){d->cu_seqlens_kv ? 1 : d->batch, d->heads_kv, d->seq_kv};
}

/* Elements of every tensor (q, k, v, o, lse) and index buffer, in the order of the views. */
static void view_elements(const xhal_attention_desc_t *d, uint64_t out[XHAL_ATTENTION_VIEWS]) {
    xhal_attention_span_t q = xhal_attention_q_span(d), kv = xhal_attention_kv_span(d);
    out[0] = xhal_attention_elements(&d->q_strides, q.batch, q.heads, q.seq, d->head_dim);
    out[1] = xhal_attention_elements(&d->k_strides, kv.batch, kv.heads, kv.seq, d->head_dim);
    out[2] = xhal_attention_elements(&d->v_strides, kv.batch, kv.heads, kv.seq, d->head_dim);
    out[3] = xhal_attention_elements(&d->o_strides, q.batch, q.heads, q.seq, d->head_dim);
    uint64_t rows = 0; /* lse: f32 [batch][heads_q][seq_q], batch 1 when Q is packed */
    out[4] = !d->lse || (xhal_mul_u64((uint64_t)q.batch, (uint64_t)q.heads, &rows) &&
                         xhal_mul_u64(rows, (uint64_t)q.seq, &rows))
                 ? rows
                 : UINT64_MAX;
    out[5] = (uint64_t)d->batch + 1; /* cu_seqlens_q */
    out[6] = (uint64_t)d->batch + 1; /* cu_seqlens_kv */
    out[7] = (uint64_t)d->batch;     /* seqlens_kv */
    /* block_table: (batch - 1) rows of block_table_stride, then the first max_blocks_per_seq. */
    out[8] = d->block_table
                 ? xhal_extend((uint64_t)d->max_blocks_per_seq, d->batch, d->block_table_stride)
                 : 0;
}

xhal_status_t xhal_attention_check_extents(const char *fn, const xhal_attention_desc_t *d) {
    static const char *const names[XHAL_ATTENTION_VIEWS] = {
        "q", "k", "v", "o", "lse", "cu_seqlens_q", "cu_seqlens_kv", "seqlens_kv", "block_table"};
    uint64_t elements[XHAL_ATTENTION_VIEWS];
    view_elements(d, elements);
    for (int i = 0; i < XHAL_ATTENTION_VIEWS; i++) {
        uint64_t size = i < 4 ? xhal_dtype_size(d->dtype) : 4, bytes;
        if (elements[i] == UINT64_MAX || !xhal_mul_u64(elements[i], size, &bytes))
            return xhal_set_error(XHAL_OUT_OF_RANGE,
                                  "%s: the shape and strides of %s span more than 2^64 bytes", fn,
                                  names[i]);
    }
    return XHAL_OK;
}

/* An int32 index buffer: on the device, 4-byte aligned, `count` entries inside the buffer. */
static xhal_status_t check_index_buffer(const char *fn, xhal_view_t *v, uint64_t count,
                                        const xhal_device_t *device) {
    CHECK(xhal_check_same_device(fn, v->name, v->buffer->device, device));
    if (v->offset % 4)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: %s (%llu) is not a multiple of 4, the size of an int32 entry",
                              fn, v->offset_name, (unsigned long long)v->offset);
    v->bytes = count * 4; /* check_extents made sure it fits */
    return xhal_check_range(fn, v->name, v->offset_name, v->buffer, v->offset, v->bytes);
}

xhal_status_t xhal_attention_check_views(const char *fn, const xhal_attention_desc_t *d,
                                         const xhal_device_t *device,
                                         xhal_view_t out[XHAL_ATTENTION_VIEWS]) {
    uint64_t elements[XHAL_ATTENTION_VIEWS];
    view_elements(d, elements);
    const xhal_view_t views[XHAL_ATTENTION_VIEWS] = {
        {"q", "q_offset", d->q, d->q_offset, 0, 0},
        {"k", "k_offset", d->k, d->k_offset, 0, 0},
        {"v", "v_offset", d->v, d->v_offset, 0, 0},
        {"o", "o_offset", d->o, d->o_offset, 0, 1},
        {"lse", "lse_offset", d->lse, d->lse_offset, 0, 1},
        {"cu_seqlens_q", "cu_seqlens_q_offset", d->cu_seqlens_q, d->cu_seqlens_q_offset, 0, 0},
        {"cu_seqlens_kv", "cu_seqlens_kv_offset", d->cu_seqlens_kv, d->cu_seqlens_kv_offset, 0, 0},
        {"seqlens_kv", "seqlens_kv_offset", d->seqlens_kv, d->seqlens_kv_offset, 0, 0},
        {"block_table", "block_table_offset", d->block_table, d->block_table_offset, 0, 0},
    };
    for (int i = 0; i < XHAL_ATTENTION_VIEWS; i++) {
        out[i] = views[i];
        xhal_view_t *v = &out[i];
        if (i < 4)
            CHECK(xhal_check_tensor(fn, v->name, v->offset_name, v->buffer, v->offset, elements[i],
                                    d->dtype, device, &v->bytes));
        else if (i == 4 && v->buffer)
            CHECK(xhal_check_tensor(fn, v->name, v->offset_name, v->buffer, v->offset, elements[i],
                                    XHAL_DTYPE_F32, device, &v->bytes));
        else if (v->buffer)
            CHECK(check_index_buffer(fn, v, elements[i], device));
    }
    return XHAL_OK;
}

static int allowed_pair(const int *allowed, int a, int b) {
    for (; allowed && allowed[0] >= 0; allowed += 2)
        if ((allowed[0] == a && allowed[1] == b) || (allowed[0] == b && allowed[1] == a)) return 1;
    return 0;
}

xhal_status_t xhal_check_overlaps(const char *fn, const xhal_view_t *views, size_t count,
                                  const int *allowed) {
    for (size_t i = 0; i < count; i++) {
        const xhal_view_t *out = &views[i];
        if (!out->output || !out->buffer) continue;
        for (size_t j = 0; j < count; j++) {
            const xhal_view_t *in = &views[j];
            if (j == i || !in->buffer || in->buffer != out->buffer) continue;
            if (in->output && j < i) continue; /* that pair was reported from the other side */
            if (!xhal_ranges_overlap(out->offset, out->bytes, in->offset, in->bytes)) continue;
            if (allowed_pair(allowed, (int)i, (int)j) && out->offset == in->offset &&
                out->bytes == in->bytes)
                continue;
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: %s (%s %llu) overlaps %s (%s %llu) in one buffer", fn,
                                  out->name, out->offset_name, (unsigned long long)out->offset,
                                  in->name, in->offset_name, (unsigned long long)in->offset);
        }
    }
    return XHAL_OK;
}
