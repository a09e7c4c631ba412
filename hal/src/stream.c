/* Streams and events: checked here, then handed to the backend. */
#include <stdlib.h>

#include "core.h"

xhal_status_t xhal_stream_create(xhal_device_t *device, xhal_stream_t **out_stream) {
    static const char fn[] = "xhal_stream_create";
    CHECK(xhal_check_not_null(fn, "out_stream", out_stream));
    *out_stream = NULL;
    CHECK(xhal_check_not_null(fn, "device", device));
    xhal_stream_t *stream = calloc(1, sizeof *stream);
    if (!stream) return xhal_set_error(XHAL_OUT_OF_MEMORY, "%s: out of host memory", fn);
    xhal_status_t status = device->api->stream_create(device->impl, &stream->impl);
    if (status != XHAL_OK) {
        free(stream);
        return status;
    }
    stream->device = device;
    xhal_object_link(device, &stream->object, XHAL_OBJECT_STREAM);
    *out_stream = stream;
    return XHAL_OK;
}

void xhal_stream_destroy(xhal_stream_t *stream) {
    if (!stream) return;
    xhal_object_unlink(stream->device, &stream->object);
    stream->device->api->stream_destroy(stream->impl);
    free(stream);
}

xhal_status_t xhal_stream_synchronize(xhal_stream_t *stream) {
    CHECK(xhal_check_not_null("xhal_stream_synchronize", "stream", stream));
    return stream->device->api->stream_synchronize(stream->impl);
}

xhal_status_t xhal_event_create(xhal_device_t *device, xhal_event_t **out_event) {
    static const char fn[] = "xhal_event_create";
    CHECK(xhal_check_not_null(fn, "out_event", out_event));
    *out_event = NULL;
    CHECK(xhal_check_not_null(fn, "device", device));
    xhal_event_t *event = calloc(1, sizeof *event);
    if (!event) return xhal_set_error(XHAL_OUT_OF_MEMORY, "%s: out of host memory", fn);
    xhal_status_t status = device->api->event_create(device->impl, &event->impl);
    if (status != XHAL_OK) {
        free(event);
        return status;
    }
    event->device = device;
    xhal_object_link(device, &event->object, XHAL_OBJECT_EVENT);
    *out_event = event;
    return XHAL_OK;
}

void xhal_event_destroy(xhal_event_t *event) {
    if (!event) return;
    xhal_object_unlink(event->device, &event->object);
    event->device->api->event_destroy(event->impl);
    free(event);
}

xhal_status_t xhal_event_record(xhal_event_t *event, xhal_stream_t *stream) {
    static const char fn[] = "xhal_event_record";
    CHECK(xhal_check_not_null(fn, "event", event));
    CHECK(xhal_check_not_null(fn, "stream", stream));
    CHECK(xhal_check_same_device(fn, "event", event->device, stream->device));
    CHECK(stream->device->api->event_record(event->impl, stream->impl));
    event->recorded = true;
    return XHAL_OK;
}

xhal_status_t xhal_stream_wait_event(xhal_stream_t *stream, xhal_event_t *event) {
    static const char fn[] = "xhal_stream_wait_event";
    CHECK(xhal_check_not_null(fn, "stream", stream));
    CHECK(xhal_check_not_null(fn, "event", event));
    CHECK(xhal_check_same_device(fn, "event", event->device, stream->device));
    return stream->device->api->stream_wait_event(stream->impl, event->impl);
}

xhal_status_t xhal_event_synchronize(xhal_event_t *event) {
    CHECK(xhal_check_not_null("xhal_event_synchronize", "event", event));
    return event->device->api->event_synchronize(event->impl);
}

xhal_status_t xhal_event_elapsed_ms(xhal_event_t *start, xhal_event_t *end, double *out_ms) {
    static const char fn[] = "xhal_event_elapsed_ms";
    CHECK(xhal_check_not_null(fn, "start", start));
    CHECK(xhal_check_not_null(fn, "end", end));
    CHECK(xhal_check_not_null(fn, "out_ms", out_ms));
    if (end->device != start->device)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: end belongs to another device (%s) than start (%s)", fn,
                              end->device->info.spec, start->device->info.spec);
    if (!start->recorded)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: start was never recorded", fn);
    if (!end->recorded)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: end was never recorded", fn);
    return start->device->api->event_elapsed_ms(start->impl, end->impl, out_ms);
}
