/*
 * Events are markers: event_record enqueues clEnqueueMarkerWithWaitList, whose cl_event
 * completes when everything before it on the queue has, and carries a profiling timestamp.
 * The event object keeps the last marker; waiting from another stream is a barrier on that
 * marker (clEnqueueBarrierWithWaitList), so work enqueued there later waits for it, and an event
 * never recorded has no marker and is complete.
 *
 * The marker is taken (and retained) under the event's lock, so a record on one thread and a
 * wait on another see either the old marker or the new one, never a released one.
 */
#include <stdlib.h>

#include "ocl_internal.h"

struct xhal_be_event {
    xhal_be_device_t *device;
    pthread_mutex_t lock;
    cl_event marker; /* the last record's, or NULL */
};

/* The current marker with a reference for the caller (release it), or NULL. */
static cl_event take_marker(xhal_be_event_t *event) {
    pthread_mutex_lock(&event->lock);
    cl_event marker = event->marker;
    if (marker) ocl.clRetainEvent(marker);
    pthread_mutex_unlock(&event->lock);
    return marker;
}

xhal_status_t ocl_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event) {
    xhal_be_event_t *event = calloc(1, sizeof(*event));
    if (!event) return device->host->set_error(XHAL_OUT_OF_MEMORY, "opencl: out of host memory");
    event->device = device;
    pthread_mutex_init(&event->lock, NULL);
    *out_event = event;
    return XHAL_OK;
}

void ocl_event_destroy(xhal_be_event_t *event) {
    if (!event) return;
    /* The queue holds its own reference to a marker it has not run yet. */
    if (event->marker) ocl.clReleaseEvent(event->marker);
    pthread_mutex_destroy(&event->lock);
    free(event);
}

xhal_status_t ocl_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream) {
    cl_event marker = NULL;
    cl_int err = ocl.clEnqueueMarkerWithWaitList(stream->queue, 0, NULL, &marker);
    if (err != CL_SUCCESS)
        return ocl_fail(event->device->host, err, "clEnqueueMarkerWithWaitList",
                        "recording an event");
    /* Submit the queue, so that a wait on this marker from another queue or the host can make
     * progress (OpenCL promises it only for submitted commands). */
    ocl.clFlush(stream->queue);
    pthread_mutex_lock(&event->lock);
    cl_event old = event->marker;
    event->marker = marker;
    pthread_mutex_unlock(&event->lock);
    if (old) ocl.clReleaseEvent(old);
    return XHAL_OK;
}

xhal_status_t ocl_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event) {
    cl_event marker = take_marker(event);
    if (!marker) return XHAL_OK; /* never recorded: complete */
    cl_int err = ocl.clEnqueueBarrierWithWaitList(stream->queue, 1, &marker, NULL);
    ocl.clReleaseEvent(marker);
    if (err != CL_SUCCESS)
        return ocl_fail(event->device->host, err, "clEnqueueBarrierWithWaitList",
                        "making a stream wait for an event");
    return XHAL_OK;
}

xhal_status_t ocl_event_synchronize(xhal_be_event_t *event) {
    cl_event marker = take_marker(event);
    if (!marker) return XHAL_OK;
    cl_int err = ocl.clWaitForEvents(1, &marker);
    ocl.clReleaseEvent(marker);
    if (err != CL_SUCCESS)
        return ocl_fail(event->device->host, err, "clWaitForEvents",
                        "waiting for an event (work before it may have failed)");
    return XHAL_OK;
}

/* Waits for the marker, then reads when it ended on the device's clock, in nanoseconds. */
static xhal_status_t marker_time(xhal_be_event_t *event, const char *which, cl_ulong *out_ns) {
    const xhal_host_api_t *host = event->device->host;
    cl_event marker = take_marker(event);
    if (!marker)
        return host->set_error(XHAL_INVALID_ARGUMENT, "opencl: the %s event has no record", which);
    cl_int err = ocl.clWaitForEvents(1, &marker);
    if (err == CL_SUCCESS)
        err = ocl.clGetEventProfilingInfo(marker, CL_PROFILING_COMMAND_END, sizeof(*out_ns), out_ns,
                                          NULL);
    ocl.clReleaseEvent(marker);
    if (err != CL_SUCCESS)
        return ocl_fail(host, err, "clGetEventProfilingInfo",
                        "CL_PROFILING_COMMAND_END of the %s "
                        "event",
                        which);
    return XHAL_OK;
}

xhal_status_t ocl_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms) {
    cl_ulong start_ns = 0, end_ns = 0;
    xhal_status_t status = marker_time(start, "start", &start_ns);
    if (status == XHAL_OK) status = marker_time(end, "end", &end_ns);
    if (status != XHAL_OK) return status;
    *out_ms = ((double)end_ns - (double)start_ns) * 1e-6;
    return XHAL_OK;
}
