/*
 * The opt-in host check of attention's index buffers (XHAL_ATTENTION_CHECK_INDICES, or
 * XHAL_VALIDATE=1 for every call). Kernels never trust these buffers (they clamp what they
 * read), so a bad entry costs wrong rows, not memory safety; this check is for finding the bad
 * entry while an engine is being written. It costs a synchronize of the stream and a copy of
 * the buffers to the host, so it is off by default.
 */
#include <stdlib.h>
#include <string.h>

#include "op_attention.h"

/* XHAL_VALIDATE=1 (read at init with the other options, hal/src/options.c). */
static int validate_env(void) {
    const char *value = xhal_option("XHAL_VALIDATE");
    return value && strcmp(value, "0") != 0;
}

/* The index buffers copied to the host; NULL where the descriptor has none. */
typedef struct indices {
    int32_t *cu_q, *cu_kv, *lens_kv, *table;
} indices_t;

static void indices_free(indices_t *x) {
    free(x->cu_q);
    free(x->cu_kv);
    free(x->lens_kv);
    free(x->table);
}

/* Enqueues the copy of `count` int32 of `buffer` at `offset` into *out (malloc'ed). */
static xhal_status_t fetch(const char *fn, xhal_stream_t *stream, const char *name,
                           const xhal_buffer_t *buffer, uint64_t offset, uint64_t count,
                           int32_t **out) {
    if (!buffer) return XHAL_OK;
    /* count >= 1 (batch >= 1), and inside a buffer the core checked, so the size fits. */
    size_t bytes = (size_t)count * sizeof(int32_t);
    *out = malloc(bytes);
    if (!*out)
        return xhal_set_error(XHAL_OUT_OF_MEMORY, "%s: no host memory (%zu bytes) to check %s", fn,
                              bytes, name);
    const xhal_backend_api_t *api = stream->device->api;
    return api->copy_d2h(stream->impl, *out, buffer->impl, offset, bytes);
}

/* cu_seqlens_*: 0 first, never decreasing, never past `rows` (seq_q or seq_kv). */
static xhal_status_t check_offsets(const char *fn, const char *name, const int32_t *cu,
                                   int64_t batch, const char *rows_name, int64_t rows) {
    if (cu[0] != 0)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: sequence 0: %s[0] (%d) must be 0, where the first sequence "
                              "starts",
                              fn, name, cu[0]);
    for (int64_t b = 0; b < batch; b++) {
        if (cu[b + 1] < cu[b])
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: sequence %lld: %s[%lld] (%d) is below %s[%lld] (%d): "
                                  "offsets must not decrease",
                                  fn, (long long)b, name, (long long)(b + 1), cu[b + 1], name,
                                  (long long)b, cu[b]);
        if (cu[b + 1] > rows)
            return xhal_set_error(
                XHAL_INVALID_ARGUMENT, "%s: sequence %lld: %s[%lld] (%d) is past %s (%lld)", fn,
                (long long)b, name, (long long)(b + 1), cu[b + 1], rows_name, (long long)rows);
    }
    return XHAL_OK;
}

/* seqlens_kv in 0 .. seq_kv, and the block-table entries each sequence uses in the pool. */
static xhal_status_t check_lengths(const char *fn, const xhal_attention_desc_t *d,
                                   const indices_t *x) {
    for (int64_t b = 0; b < d->batch; b++) {
        int32_t len = x->lens_kv[b];
        if (len < 0 || len > d->seq_kv)
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: sequence %lld: seqlens_kv[%lld] (%d) is outside 0 .. "
                                  "seq_kv (%lld)",
                                  fn, (long long)b, (long long)b, len, (long long)d->seq_kv);
        if (!x->table) continue;
        int64_t used = (len + d->block_size - 1) / d->block_size;
        const int32_t *row = x->table + b * d->block_table_stride;
        for (int64_t i = 0; i < used; i++)
            if (row[i] < 0 || row[i] >= d->num_blocks)
                return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                      "%s: sequence %lld: block_table[%lld * block_table_stride + "
                                      "%lld] (%d), the block of its keys %lld .. %lld, is outside "
                                      "0 .. num_blocks - 1 (%lld)",
                                      fn, (long long)b, (long long)b, (long long)i, row[i],
                                      (long long)(i * d->block_size),
                                      (long long)((i + 1) * d->block_size - 1),
                                      (long long)(d->num_blocks - 1));
    }
    return XHAL_OK;
}

xhal_status_t xhal_attention_check_indices(const char *fn, xhal_stream_t *stream,
                                           const xhal_attention_desc_t *d) {
    if (!(d->flags & XHAL_ATTENTION_CHECK_INDICES) && !validate_env()) return XHAL_OK;
    if (!d->cu_seqlens_q && !d->cu_seqlens_kv && !d->seqlens_kv) return XHAL_OK;
    indices_t x = {0};
    uint64_t batch = (uint64_t)d->batch;
    /* The views were checked to lie inside their buffers, so these counts cannot overflow. */
    uint64_t table = d->block_table ? (batch - 1) * (uint64_t)d->block_table_stride +
                                          (uint64_t)d->max_blocks_per_seq
                                    : 0;
    xhal_status_t status = fetch(fn, stream, "cu_seqlens_q", d->cu_seqlens_q,
                                 d->cu_seqlens_q_offset, batch + 1, &x.cu_q);
    if (status == XHAL_OK)
        status = fetch(fn, stream, "cu_seqlens_kv", d->cu_seqlens_kv, d->cu_seqlens_kv_offset,
                       batch + 1, &x.cu_kv);
    if (status == XHAL_OK)
        status =
            fetch(fn, stream, "seqlens_kv", d->seqlens_kv, d->seqlens_kv_offset, batch, &x.lens_kv);
    if (status == XHAL_OK)
        status = fetch(fn, stream, "block_table", d->block_table, d->block_table_offset, table,
                       &x.table);
    /* The copies are queued behind the work that fills the buffers: wait for them (also when
     * one failed to enqueue, as the others still write into the host arrays). */
    xhal_status_t waited = stream->device->api->stream_synchronize(stream->impl);
    if (status == XHAL_OK) status = waited;
    if (status == XHAL_OK && x.cu_q)
        status = check_offsets(fn, "cu_seqlens_q", x.cu_q, d->batch, "seq_q", d->seq_q);
    if (status == XHAL_OK && x.cu_kv)
        status = check_offsets(fn, "cu_seqlens_kv", x.cu_kv, d->batch, "seq_kv", d->seq_kv);
    if (status == XHAL_OK && x.lens_kv) status = check_lengths(fn, d, &x);
    indices_free(&x);
    return status;
}
