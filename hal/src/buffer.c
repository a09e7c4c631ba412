/* Buffers, copies and fills: checked here, then handed to the backend. */
#include <stdlib.h>

#include "core.h"

xhal_status_t xhal_buffer_alloc(xhal_device_t *device, uint64_t size, xhal_memory_kind_t kind,
                                xhal_buffer_t **out_buffer) {
    static const char fn[] = "xhal_buffer_alloc";
    CHECK(xhal_check_not_null(fn, "out_buffer", out_buffer));
    *out_buffer = NULL;
    CHECK(xhal_check_not_null(fn, "device", device));
    if (size == 0) return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: size (0) must be > 0", fn);
    if (kind != XHAL_MEMORY_DEVICE && kind != XHAL_MEMORY_HOST_PINNED)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: kind (%d) is neither XHAL_MEMORY_DEVICE nor "
                              "XHAL_MEMORY_HOST_PINNED",
                              fn, (int)kind);
    xhal_buffer_t *buffer = calloc(1, sizeof *buffer);
    if (!buffer) return xhal_set_error(XHAL_OUT_OF_MEMORY, "%s: out of host memory", fn);
    xhal_status_t status = device->api->buffer_alloc(device->impl, size, kind, &buffer->impl);
    if (status != XHAL_OK) {
        free(buffer);
        return status;
    }
    buffer->device = device;
    buffer->size = size;
    buffer->kind = kind;
    xhal_object_link(device, &buffer->object, XHAL_OBJECT_BUFFER);
    *out_buffer = buffer;
    return XHAL_OK;
}

void xhal_buffer_free(xhal_buffer_t *buffer) {
    if (!buffer) return;
    xhal_object_unlink(buffer->device, &buffer->object);
    buffer->device->api->buffer_free(buffer->device->impl, buffer->impl);
    free(buffer);
}

xhal_status_t xhal_buffer_size(const xhal_buffer_t *buffer, uint64_t *out_size) {
    CHECK(xhal_check_not_null("xhal_buffer_size", "buffer", buffer));
    CHECK(xhal_check_not_null("xhal_buffer_size", "out_size", out_size));
    *out_size = buffer->size;
    return XHAL_OK;
}

xhal_status_t xhal_buffer_kind(const xhal_buffer_t *buffer, xhal_memory_kind_t *out_kind) {
    CHECK(xhal_check_not_null("xhal_buffer_kind", "buffer", buffer));
    CHECK(xhal_check_not_null("xhal_buffer_kind", "out_kind", out_kind));
    *out_kind = buffer->kind;
    return XHAL_OK;
}

xhal_status_t xhal_buffer_host_pointer(xhal_buffer_t *buffer, void **out_ptr) {
    static const char fn[] = "xhal_buffer_host_pointer";
    CHECK(xhal_check_not_null(fn, "out_ptr", out_ptr));
    *out_ptr = NULL;
    CHECK(xhal_check_not_null(fn, "buffer", buffer));
    const xhal_device_t *device = buffer->device;
    if (!device->api->buffer_host_pointer)
        return xhal_set_error(XHAL_UNSUPPORTED, "%s: the host cannot address memory of %s", fn,
                              device->info.spec);
    return device->api->buffer_host_pointer(device->impl, buffer->impl, buffer->kind, out_ptr);
}

/* The checks every copy shares: a stream, and a buffer of its device holding the range. */
static xhal_status_t check_view(const char *fn, const xhal_stream_t *stream, const char *name,
                                const char *offset_name, const xhal_buffer_t *buffer,
                                uint64_t offset, uint64_t size) {
    CHECK(xhal_check_not_null(fn, name, buffer));
    CHECK(xhal_check_same_device(fn, name, buffer->device, stream->device));
    return xhal_check_range(fn, name, offset_name, buffer, offset, size);
}

xhal_status_t xhal_copy_h2d(xhal_stream_t *stream, xhal_buffer_t *dst, uint64_t dst_offset,
                            const void *src, uint64_t size) {
    static const char fn[] = "xhal_copy_h2d";
    CHECK(xhal_check_not_null(fn, "stream", stream));
    CHECK(check_view(fn, stream, "dst", "dst_offset", dst, dst_offset, size));
    CHECK(xhal_check_not_null(fn, "src", src));
    if (size == 0) return XHAL_OK;
    return stream->device->api->copy_h2d(stream->impl, dst->impl, dst_offset, src, size);
}

xhal_status_t xhal_copy_d2h(xhal_stream_t *stream, void *dst, xhal_buffer_t *src,
                            uint64_t src_offset, uint64_t size) {
    static const char fn[] = "xhal_copy_d2h";
    CHECK(xhal_check_not_null(fn, "stream", stream));
    CHECK(xhal_check_not_null(fn, "dst", dst));
    CHECK(check_view(fn, stream, "src", "src_offset", src, src_offset, size));
    if (size == 0) return XHAL_OK;
    return stream->device->api->copy_d2h(stream->impl, dst, src->impl, src_offset, size);
}

xhal_status_t xhal_copy_d2d(xhal_stream_t *stream, xhal_buffer_t *dst, uint64_t dst_offset,
                            xhal_buffer_t *src, uint64_t src_offset, uint64_t size) {
    static const char fn[] = "xhal_copy_d2d";
    CHECK(xhal_check_not_null(fn, "stream", stream));
    CHECK(check_view(fn, stream, "dst", "dst_offset", dst, dst_offset, size));
    CHECK(check_view(fn, stream, "src", "src_offset", src, src_offset, size));
    /* Both ranges are inside their buffers, so these sums cannot overflow. */
    if (dst == src && size && dst_offset < src_offset + size && src_offset < dst_offset + size)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: dst_offset (%llu) and src_offset (%llu) overlap by the size "
                              "(%llu) in one buffer",
                              fn, (unsigned long long)dst_offset, (unsigned long long)src_offset,
                              (unsigned long long)size);
    if (size == 0) return XHAL_OK;
    return stream->device->api->copy_d2d(stream->impl, dst->impl, dst_offset, src->impl, src_offset,
                                         size);
}

xhal_status_t xhal_fill(xhal_stream_t *stream, xhal_buffer_t *dst, uint64_t offset, uint64_t size,
                        const void *pattern, size_t pattern_size) {
    static const char fn[] = "xhal_fill";
    CHECK(xhal_check_not_null(fn, "stream", stream));
    CHECK(check_view(fn, stream, "dst", "offset", dst, offset, size));
    CHECK(xhal_check_not_null(fn, "pattern", pattern));
    if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: pattern_size (%zu) is not 1, 2 or 4", fn,
                              pattern_size);
    if (offset % pattern_size || size % pattern_size)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: offset (%llu) and size (%llu) must be multiples of "
                              "pattern_size (%zu)",
                              fn, (unsigned long long)offset, (unsigned long long)size,
                              pattern_size);
    if (size == 0) return XHAL_OK;
    return stream->device->api->fill(stream->impl, dst->impl, offset, size, pattern, pattern_size);
}
