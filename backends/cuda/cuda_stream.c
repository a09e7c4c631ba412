/*
 * Streams, events, copies and fills: each maps to one driver call on a CUDA stream, which is
 * already the in-order asynchronous queue xhal's model describes. Errors of queued work
 * (a kernel that faulted) surface at the next synchronize, as DEVICE_ERROR with the driver's
 * name for them.
 */
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

xhal_status_t cuda_stream_create(xhal_be_device_t *dev, xhal_be_stream_t **out_stream) {
    xhal_be_stream_t *s = calloc(1, sizeof(*s));
    if (!s) return dev->host->set_error(XHAL_OUT_OF_MEMORY, "cuda: calloc failed");
    s->device = dev;
    xhal_status_t status = cuda_enter(dev);
    CUresult r = CUDA_SUCCESS;
    /* Non-blocking: xhal streams never synchronize with the legacy default stream. */
    if (status == XHAL_OK &&
        (r = dev->driver->cuStreamCreate(&s->stream, CU_STREAM_NON_BLOCKING)) != CUDA_SUCCESS)
        status = cuda_fail(dev, r, "cuStreamCreate");
    if (status != XHAL_OK) {
        free(s);
        return status;
    }
    *out_stream = s;
    return XHAL_OK;
}

void cuda_stream_destroy(xhal_be_stream_t *s) {
    const cuda_driver_t *d = s->device->driver;
    if (cuda_enter(s->device) == XHAL_OK) {
        d->cuStreamSynchronize(s->stream);
        cuda_workspace_free(s);
        d->cuStreamDestroy(s->stream);
    }
    free(s);
}

xhal_status_t cuda_stream_synchronize(xhal_be_stream_t *s) {
    xhal_status_t status = cuda_enter(s->device);
    if (status != XHAL_OK) return status;
    CUresult r = s->device->driver->cuStreamSynchronize(s->stream);
    return r == CUDA_SUCCESS
               ? XHAL_OK
               : cuda_fail(s->device, r, "cuStreamSynchronize (work queued on the stream)");
}

xhal_status_t cuda_event_create(xhal_be_device_t *dev, xhal_be_event_t **out_event) {
    xhal_be_event_t *e = calloc(1, sizeof(*e));
    if (!e) return dev->host->set_error(XHAL_OUT_OF_MEMORY, "cuda: calloc failed");
    e->device = dev;
    xhal_status_t status = cuda_enter(dev);
    CUresult r = CUDA_SUCCESS;
    /* CU_EVENT_DEFAULT records timestamps, which event_elapsed_ms needs. */
    if (status == XHAL_OK &&
        (r = dev->driver->cuEventCreate(&e->event, CU_EVENT_DEFAULT)) != CUDA_SUCCESS)
        status = cuda_fail(dev, r, "cuEventCreate");
    if (status != XHAL_OK) {
        free(e);
        return status;
    }
    *out_event = e;
    return XHAL_OK;
}

void cuda_event_destroy(xhal_be_event_t *e) {
    /* The driver defers the release of an event whose record has not completed yet. */
    if (cuda_enter(e->device) == XHAL_OK) e->device->driver->cuEventDestroy(e->event);
    free(e);
}

xhal_status_t cuda_event_record(xhal_be_event_t *e, xhal_be_stream_t *s) {
    xhal_status_t status = cuda_enter(s->device);
    if (status != XHAL_OK) return status;
    CUresult r = s->device->driver->cuEventRecord(e->event, s->stream);
    return r == CUDA_SUCCESS ? XHAL_OK : cuda_fail(s->device, r, "cuEventRecord");
}

xhal_status_t cuda_stream_wait_event(xhal_be_stream_t *s, xhal_be_event_t *e) {
    xhal_status_t status = cuda_enter(s->device);
    if (status != XHAL_OK) return status;
    CUresult r = s->device->driver->cuStreamWaitEvent(s->stream, e->event, 0);
    return r == CUDA_SUCCESS ? XHAL_OK : cuda_fail(s->device, r, "cuStreamWaitEvent");
}

xhal_status_t cuda_event_synchronize(xhal_be_event_t *e) {
    xhal_status_t status = cuda_enter(e->device);
    if (status != XHAL_OK) return status;
    CUresult r = e->device->driver->cuEventSynchronize(e->event);
    return r == CUDA_SUCCESS ? XHAL_OK : cuda_fail(e->device, r, "cuEventSynchronize");
}

xhal_status_t cuda_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms) {
    xhal_status_t status = cuda_event_synchronize(start);
    if (status == XHAL_OK) status = cuda_event_synchronize(end);
    if (status != XHAL_OK) return status;
    float ms = 0.0f;
    CUresult r = start->device->driver->cuEventElapsedTime(&ms, start->event, end->event);
    if (r != CUDA_SUCCESS) return cuda_fail(start->device, r, "cuEventElapsedTime");
    *out_ms = ms;
    return XHAL_OK;
}

/* cuMemcpyAsync infers the direction from unified addresses: one call for all four kinds. */
static xhal_status_t copy(xhal_be_stream_t *s, CUdeviceptr dst, CUdeviceptr src, uint64_t size,
                          const char *what) {
    xhal_status_t status = cuda_enter(s->device);
    if (status != XHAL_OK) return status;
    CUresult r = s->device->driver->cuMemcpyAsync(dst, src, (size_t)size, s->stream);
    return r == CUDA_SUCCESS ? XHAL_OK : cuda_fail(s->device, r, what);
}

xhal_status_t cuda_copy_h2d(xhal_be_stream_t *s, xhal_be_buffer_t *dst, uint64_t dst_offset,
                            const void *src, uint64_t size) {
    return copy(s, dst->address + dst_offset, (CUdeviceptr)(uintptr_t)src, size,
                "cuMemcpyAsync (host to device)");
}

xhal_status_t cuda_copy_d2h(xhal_be_stream_t *s, void *dst, xhal_be_buffer_t *src,
                            uint64_t src_offset, uint64_t size) {
    return copy(s, (CUdeviceptr)(uintptr_t)dst, src->address + src_offset, size,
                "cuMemcpyAsync (device to host)");
}

xhal_status_t cuda_copy_d2d(xhal_be_stream_t *s, xhal_be_buffer_t *dst, uint64_t dst_offset,
                            xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size) {
    return copy(s, dst->address + dst_offset, src->address + src_offset, size,
                "cuMemcpyAsync (device to device)");
}

xhal_status_t cuda_fill(xhal_be_stream_t *s, xhal_be_buffer_t *dst, uint64_t offset, uint64_t size,
                        const void *pattern, size_t pattern_size) {
    xhal_status_t status = cuda_enter(s->device);
    if (status != XHAL_OK) return status;
    const cuda_driver_t *d = s->device->driver;
    CUdeviceptr at = dst->address + offset;
    CUresult r;
    if (pattern_size == 1) {
        r = d->cuMemsetD8Async(at, *(const unsigned char *)pattern, (size_t)size, s->stream);
    } else if (pattern_size == 2) {
        unsigned short v;
        memcpy(&v, pattern, sizeof v);
        r = d->cuMemsetD16Async(at, v, (size_t)(size / 2), s->stream);
    } else {
        unsigned int v;
        memcpy(&v, pattern, sizeof v);
        r = d->cuMemsetD32Async(at, v, (size_t)(size / 4), s->stream);
    }
    return r == CUDA_SUCCESS ? XHAL_OK : cuda_fail(s->device, r, "cuMemsetAsync (fill)");
}
