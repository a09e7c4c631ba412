/*
 * Streams, events, copies and fills: each maps to one runtime call on a HIP stream, which is
 * already the in-order asynchronous queue xhal's model describes. Errors of queued work (a
 * kernel that faulted) surface at the next synchronize, as DEVICE_ERROR with the runtime's name
 * for them.
 */
#include <stdlib.h>
#include <string.h>

#include "hip_internal.h"

xhal_status_t hip_stream_create(xhal_be_device_t *dev, xhal_be_stream_t **out_stream) {
    xhal_be_stream_t *s = calloc(1, sizeof(*s));
    if (!s) return dev->host->set_error(XHAL_OUT_OF_MEMORY, "hip: calloc failed");
    s->device = dev;
    xhal_status_t status = hip_enter(dev);
    hip_error_t e = HIP_SUCCESS;
    /* Non-blocking: xhal streams never synchronize with the null stream. */
    if (status == XHAL_OK &&
        (e = dev->rt->hipStreamCreateWithFlags(&s->stream, HIP_STREAM_NON_BLOCKING)) != HIP_SUCCESS)
        status = hip_fail(dev, e, "hipStreamCreateWithFlags");
    if (status != XHAL_OK) {
        free(s);
        return status;
    }
    *out_stream = s;
    return XHAL_OK;
}

void hip_stream_destroy(xhal_be_stream_t *s) {
    const hip_runtime_t *rt = s->device->rt;
    if (hip_enter(s->device) == XHAL_OK) {
        rt->hipStreamSynchronize(s->stream);
        hip_workspace_free(s);
        rt->hipStreamDestroy(s->stream);
    }
    free(s);
}

xhal_status_t hip_stream_synchronize(xhal_be_stream_t *s) {
    xhal_status_t status = hip_enter(s->device);
    if (status != XHAL_OK) return status;
    hip_error_t e = s->device->rt->hipStreamSynchronize(s->stream);
    return e == HIP_SUCCESS
               ? XHAL_OK
               : hip_fail(s->device, e, "hipStreamSynchronize (work queued on the stream)");
}

xhal_status_t hip_event_create(xhal_be_device_t *dev, xhal_be_event_t **out_event) {
    xhal_be_event_t *ev = calloc(1, sizeof(*ev));
    if (!ev) return dev->host->set_error(XHAL_OUT_OF_MEMORY, "hip: calloc failed");
    ev->device = dev;
    xhal_status_t status = hip_enter(dev);
    hip_error_t e = HIP_SUCCESS;
    /* hipEventDefault records timestamps, which event_elapsed_ms needs. */
    if (status == XHAL_OK &&
        (e = dev->rt->hipEventCreateWithFlags(&ev->event, HIP_EVENT_DEFAULT)) != HIP_SUCCESS)
        status = hip_fail(dev, e, "hipEventCreateWithFlags");
    if (status != XHAL_OK) {
        free(ev);
        return status;
    }
    *out_event = ev;
    return XHAL_OK;
}

void hip_event_destroy(xhal_be_event_t *ev) {
    /* The runtime defers the release of an event whose record has not completed yet. */
    if (hip_enter(ev->device) == XHAL_OK) ev->device->rt->hipEventDestroy(ev->event);
    free(ev);
}

xhal_status_t hip_event_record(xhal_be_event_t *ev, xhal_be_stream_t *s) {
    xhal_status_t status = hip_enter(s->device);
    if (status != XHAL_OK) return status;
    hip_error_t e = s->device->rt->hipEventRecord(ev->event, s->stream);
    return e == HIP_SUCCESS ? XHAL_OK : hip_fail(s->device, e, "hipEventRecord");
}

xhal_status_t hip_stream_wait_event(xhal_be_stream_t *s, xhal_be_event_t *ev) {
    xhal_status_t status = hip_enter(s->device);
    if (status != XHAL_OK) return status;
    hip_error_t e = s->device->rt->hipStreamWaitEvent(s->stream, ev->event, 0);
    return e == HIP_SUCCESS ? XHAL_OK : hip_fail(s->device, e, "hipStreamWaitEvent");
}

xhal_status_t hip_event_synchronize(xhal_be_event_t *ev) {
    xhal_status_t status = hip_enter(ev->device);
    if (status != XHAL_OK) return status;
    hip_error_t e = ev->device->rt->hipEventSynchronize(ev->event);
    return e == HIP_SUCCESS ? XHAL_OK : hip_fail(ev->device, e, "hipEventSynchronize");
}

xhal_status_t hip_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms) {
    xhal_status_t status = hip_event_synchronize(start);
    if (status == XHAL_OK) status = hip_event_synchronize(end);
    if (status != XHAL_OK) return status;
    float ms = 0.0f;
    hip_error_t e = start->device->rt->hipEventElapsedTime(&ms, start->event, end->event);
    if (e != HIP_SUCCESS) return hip_fail(start->device, e, "hipEventElapsedTime");
    *out_ms = ms;
    return XHAL_OK;
}

/* Between two buffers the kind is hipMemcpyDefault: either may be pinned host memory, which the
 * runtime then reads or writes over the bus (its addresses are unified). */
static xhal_status_t copy(xhal_be_stream_t *s, void *dst, const void *src, uint64_t size, int kind,
                          const char *what) {
    xhal_status_t status = hip_enter(s->device);
    if (status != XHAL_OK) return status;
    hip_error_t e = s->device->rt->hipMemcpyAsync(dst, src, (size_t)size, kind, s->stream);
    return e == HIP_SUCCESS ? XHAL_OK : hip_fail(s->device, e, what);
}

xhal_status_t hip_copy_h2d(xhal_be_stream_t *s, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           const void *src, uint64_t size) {
    return copy(s, (char *)dst->address + dst_offset, src, size, HIP_MEMCPY_HOST_TO_DEVICE,
                "hipMemcpyAsync (host to device)");
}

xhal_status_t hip_copy_d2h(xhal_be_stream_t *s, void *dst, xhal_be_buffer_t *src,
                           uint64_t src_offset, uint64_t size) {
    return copy(s, dst, (const char *)src->address + src_offset, size, HIP_MEMCPY_DEVICE_TO_HOST,
                "hipMemcpyAsync (device to host)");
}

xhal_status_t hip_copy_d2d(xhal_be_stream_t *s, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size) {
    return copy(s, (char *)dst->address + dst_offset, (const char *)src->address + src_offset, size,
                HIP_MEMCPY_DEFAULT, "hipMemcpyAsync (device to device)");
}

xhal_status_t hip_fill(xhal_be_stream_t *s, xhal_be_buffer_t *dst, uint64_t offset, uint64_t size,
                       const void *pattern, size_t pattern_size) {
    xhal_status_t status = hip_enter(s->device);
    if (status != XHAL_OK) return status;
    const hip_runtime_t *rt = s->device->rt;
    void *at = (char *)dst->address + offset;
    hip_error_t e;
    if (pattern_size == 1) {
        e = rt->hipMemsetD8Async(at, *(const unsigned char *)pattern, (size_t)size, s->stream);
    } else if (pattern_size == 2) {
        unsigned short v;
        memcpy(&v, pattern, sizeof v);
        e = rt->hipMemsetD16Async(at, v, (size_t)(size / 2), s->stream);
    } else {
        int v;
        memcpy(&v, pattern, sizeof v);
        e = rt->hipMemsetD32Async(at, v, (size_t)(size / 4), s->stream);
    }
    return e == HIP_SUCCESS ? XHAL_OK : hip_fail(s->device, e, "hipMemsetAsync (fill)");
}
