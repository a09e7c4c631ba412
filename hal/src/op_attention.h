/*
 * What the core's attention files share: op_attention.c (the descriptor, its dense checks and
 * dispatch), op_attention_serving.c (the serving fields: modes, paged pools, index buffers, the
 * views every buffer of the op spans and their overlaps), op_attention_indices.c (the opt-in
 * host check of the index buffers' contents) and op_attention_merge.c (the merge op).
 */
#ifndef XHAL_OP_ATTENTION_H
#define XHAL_OP_ATTENTION_H

#include "core.h"

/* The largest head_dim any backend is asked for (ARCHITECTURE.md); kernels size tiles by it. */
#define XHAL_MAX_HEAD_DIM 256

/* Elements of a paged KV block (block_size) the descriptor allows, as xhal.h documents. */
#define XHAL_MAX_BLOCK_SIZE 256

/* The backend's object behind a buffer handle, or NULL for none. */
static inline xhal_be_buffer_t *xhal_buffer_impl(const xhal_buffer_t *buffer) {
    return buffer ? buffer->impl : NULL;
}

/* Sets *s to the contiguous strides of `layout` for [batch, heads, seq, dim]. */
XHAL_INTERNAL_API void xhal_attention_contiguous(xhal_attention_strides_t *s, xhal_layout_t layout,
                                                 int64_t heads, int64_t seq, int64_t dim);

/* INVALID_ARGUMENT naming `<name>.<axis>` when a stride is negative. */
XHAL_INTERNAL_API xhal_status_t xhal_attention_check_strides(const char *fn, const char *name,
                                                             const xhal_attention_strides_t *s);

/*
 * An output written row by row: no two (batch, head, position) rows of `dim` elements may share
 * an element. INVALID_ARGUMENT naming `name` (the strides' field) otherwise.
 */
XHAL_INTERNAL_API xhal_status_t xhal_attention_check_rows(const char *fn, const char *name,
                                                          const xhal_attention_strides_t *s,
                                                          int64_t batch, int64_t heads, int64_t seq,
                                                          int64_t dim);

/* Elements from the first to one past the last of a strided tensor; UINT64_MAX on overflow. */
XHAL_INTERNAL_API uint64_t xhal_attention_elements(const xhal_attention_strides_t *s, int64_t batch,
                                                   int64_t heads, int64_t seq, int64_t dim);

/*
 * The serving fields of an attention descriptor whose dense shape is valid: flags, window,
 * soft-cap, which index buffers go together, the paged pool's sizes. Looks at no buffer beyond
 * whether it is NULL.
 */
XHAL_INTERNAL_API xhal_status_t xhal_attention_check_serving(const char *fn,
                                                             const xhal_attention_desc_t *d);

/* The batch, head and row counts a tensor of the descriptor spans (packed, paged or dense). */
typedef struct xhal_attention_span {
    int64_t batch, heads, seq;
} xhal_attention_span_t;

/* Spans of Q (and O) and of K (and V). */
XHAL_INTERNAL_API xhal_attention_span_t xhal_attention_q_span(const xhal_attention_desc_t *d);
XHAL_INTERNAL_API xhal_attention_span_t xhal_attention_kv_span(const xhal_attention_desc_t *d);

/* OUT_OF_RANGE when a tensor or an index buffer of the descriptor spans more than 2^64 bytes. */
XHAL_INTERNAL_API xhal_status_t xhal_attention_check_extents(const char *fn,
                                                             const xhal_attention_desc_t *d);

/*
 * A buffer range an op reads or writes, for the range and overlap checks: `name` and
 * `offset_name` as the descriptor spells them.
 */
typedef struct xhal_view {
    const char *name, *offset_name;
    xhal_buffer_t *buffer;
    uint64_t offset, bytes;
    int output;
} xhal_view_t;

/* Views of an attention: q, k, v, o, lse and the four index buffers (buffer NULL: unused). */
#define XHAL_ATTENTION_VIEWS 9

/* Checks every buffer of the descriptor (device, alignment, range) and fills `out` with views. */
XHAL_INTERNAL_API xhal_status_t xhal_attention_check_views(const char *fn,
                                                           const xhal_attention_desc_t *d,
                                                           const xhal_device_t *device,
                                                           xhal_view_t out[XHAL_ATTENTION_VIEWS]);

/*
 * An output view must not overlap any other view in the same buffer, except a pair listed as
 * allowed to alias exactly (same buffer, offset and size: in-place). `allowed` pairs are indices
 * into `views`, -1 terminated; NULL: none.
 */
XHAL_INTERNAL_API xhal_status_t xhal_check_overlaps(const char *fn, const xhal_view_t *views,
                                                    size_t count, const int *allowed);

/*
 * The opt-in check (XHAL_ATTENTION_CHECK_INDICES or XHAL_VALIDATE=1): reads the index buffers
 * on the host through `stream` (synchronizing it) and refuses a bad entry with
 * INVALID_ARGUMENT naming the sequence and the entry. XHAL_OK when off or nothing to check.
 */
XHAL_INTERNAL_API xhal_status_t xhal_attention_check_indices(const char *fn, xhal_stream_t *stream,
                                                             const xhal_attention_desc_t *d);

#endif
