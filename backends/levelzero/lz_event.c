/*
 * An event is a Level Zero event of its own pool plus a timestamp slot in host memory: record
 * appends zeCommandListAppendWriteGlobalTimestamp, which (after the barrier that orders the
 * stream) writes the device's clock when everything before it has finished, into the slot, and
 * signals the event. Another stream waits with zeCommandListAppendWaitOnEvents; the host with
 * zeEventHostSynchronize; elapsed time is the difference of two slots in timer ticks.
 *
 * Recording again reuses the event: the previous record is first waited for on the host and
 * the event reset. That waits only in a pipeline that records again before the last record ran;
 * a stream that waits on the event must have its wait run before such a re-record completes
 * (the same order CUDA's stream waits give when events are recorded once per step).
 */
#include <stdlib.h>

#include "lz_internal.h"

struct xhal_be_event {
    xhal_be_device_t *device;
    pthread_mutex_t lock;
    ze_event_pool_handle_t pool;
    ze_event_handle_t event;
    uint64_t *stamp; /* zeMemAllocHost: the global timestamp of the last record */
    int recorded;
};

xhal_status_t lz_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event) {
    const xhal_host_api_t *host = device->host;
    xhal_be_event_t *event = calloc(1, sizeof(*event));
    if (!event) return host->set_error(XHAL_OUT_OF_MEMORY, "levelzero: out of host memory");
    event->device = device;
    pthread_mutex_init(&event->lock, NULL);
    ze_event_pool_desc_t pool = {.stype = ZE_STRUCTURE_TYPE_EVENT_POOL_DESC,
                                 .flags = ZE_EVENT_POOL_FLAG_HOST_VISIBLE,
                                 .count = 1};
    const char *call = "zeEventPoolCreate";
    ze_result_t result = lz.zeEventPoolCreate(device->context, &pool, 1, &device->id, &event->pool);
    if (result == ZE_RESULT_SUCCESS) {
        ze_event_desc_t desc = {.stype = ZE_STRUCTURE_TYPE_EVENT_DESC,
                                .index = 0,
                                .signal = ZE_EVENT_SCOPE_FLAG_HOST,
                                .wait = ZE_EVENT_SCOPE_FLAG_HOST};
        call = "zeEventCreate";
        result = lz.zeEventCreate(event->pool, &desc, &event->event);
    }
    if (result == ZE_RESULT_SUCCESS) {
        ze_host_mem_alloc_desc_t desc = {.stype = ZE_STRUCTURE_TYPE_HOST_MEM_ALLOC_DESC};
        void *stamp = NULL;
        call = "zeMemAllocHost";
        result =
            lz.zeMemAllocHost(device->context, &desc, sizeof(uint64_t), sizeof(uint64_t), &stamp);
        event->stamp = stamp;
    }
    if (result != ZE_RESULT_SUCCESS) {
        xhal_status_t status = lz_fail(host, result, call, "an event on %s", device->info.name);
        lz_event_destroy(event);
        return status;
    }
    *out_event = event;
    return XHAL_OK;
}

void lz_event_destroy(xhal_be_event_t *event) {
    if (!event) return;
    /* A record still queued would write the slot: wait for it. */
    if (event->recorded) lz.zeEventHostSynchronize(event->event, UINT64_MAX);
    if (event->stamp) lz.zeMemFree(event->device->context, event->stamp);
    if (event->event) lz.zeEventDestroy(event->event);
    if (event->pool) lz.zeEventPoolDestroy(event->pool);
    pthread_mutex_destroy(&event->lock);
    free(event);
}

xhal_status_t lz_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream) {
    const xhal_host_api_t *host = event->device->host;
    ze_result_t result = ZE_RESULT_SUCCESS;
    pthread_mutex_lock(&event->lock);
    if (event->recorded) {
        result = lz.zeEventHostSynchronize(event->event, UINT64_MAX);
        if (result == ZE_RESULT_SUCCESS) result = lz.zeEventHostReset(event->event);
    }
    if (result != ZE_RESULT_SUCCESS) {
        pthread_mutex_unlock(&event->lock);
        return lz_fail(host, result, "zeEventHostReset", "re-recording an event");
    }
    result = lz.zeCommandListAppendWriteGlobalTimestamp(stream->list, event->stamp, event->event, 0,
                                                        NULL);
    event->recorded = result == ZE_RESULT_SUCCESS;
    pthread_mutex_unlock(&event->lock);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeCommandListAppendWriteGlobalTimestamp",
                       "recording an event");
    return lz_stream_order(stream, "recording an event");
}

xhal_status_t lz_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event) {
    pthread_mutex_lock(&event->lock);
    int recorded = event->recorded;
    pthread_mutex_unlock(&event->lock);
    if (!recorded) return XHAL_OK; /* never recorded: complete */
    ze_result_t result = lz.zeCommandListAppendWaitOnEvents(stream->list, 1, &event->event);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(event->device->host, result, "zeCommandListAppendWaitOnEvents",
                       "making a stream wait for an event");
    return XHAL_OK;
}

xhal_status_t lz_event_synchronize(xhal_be_event_t *event) {
    pthread_mutex_lock(&event->lock);
    int recorded = event->recorded;
    pthread_mutex_unlock(&event->lock);
    if (!recorded) return XHAL_OK;
    ze_result_t result = lz.zeEventHostSynchronize(event->event, UINT64_MAX);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(event->device->host, result, "zeEventHostSynchronize",
                       "waiting for an event (work before it may have failed)");
    return XHAL_OK;
}

/* Waits for the event's record and reads its timestamp. */
static xhal_status_t stamp_of(xhal_be_event_t *event, const char *which, uint64_t *out) {
    const xhal_host_api_t *host = event->device->host;
    pthread_mutex_lock(&event->lock);
    int recorded = event->recorded;
    pthread_mutex_unlock(&event->lock);
    if (!recorded)
        return host->set_error(XHAL_INVALID_ARGUMENT, "levelzero: the %s event has no record",
                               which);
    ze_result_t result = lz.zeEventHostSynchronize(event->event, UINT64_MAX);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeEventHostSynchronize", "the %s event", which);
    *out = *(volatile uint64_t *)event->stamp;
    return XHAL_OK;
}

xhal_status_t lz_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms) {
    uint64_t t0 = 0, t1 = 0;
    xhal_status_t status = stamp_of(start, "start", &t0);
    if (status == XHAL_OK) status = stamp_of(end, "end", &t1);
    if (status != XHAL_OK) return status;
    /* The counter has timestampValidBits bits: the difference modulo that survives a wrap. */
    const xhal_be_device_t *device = start->device;
    uint64_t ticks = (t1 - t0) & device->timestamp_mask;
    double ms = (double)ticks * device->tick_ns * 1e-6;
    *out_ms = ms;
    return XHAL_OK;
}
