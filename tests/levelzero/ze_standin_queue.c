/*
 * The Level Zero stand-in's command lists and events (ze_standin.c explains the stand-in). An
 * immediate command list is an in-order OpenCL queue with profiling; an event holds the
 * cl_event of the command that signalled it last (NULL: not signalled).
 */
#include "ze_standin.h"

struct _ze_command_list_handle_t {
    cl_command_queue queue;
};

struct _ze_event_handle_t {
    pthread_mutex_t lock;
    cl_event signal; /* retained; NULL while reset */
    uint64_t *stamp; /* a global timestamp's destination, written when the host sees it done */
};

struct _ze_event_pool_handle_t {
    uint32_t count;
    struct _ze_event_handle_t *events;
};

/* ---- Events ---- */

ze_result_t ZE_APICALL zeEventPoolCreate(ze_context_handle_t hContext,
                                         const ze_event_pool_desc_t *desc, uint32_t numDevices,
                                         ze_device_handle_t *phDevices,
                                         ze_event_pool_handle_t *phEventPool) {
    ENTRY();
    (void)hContext;
    (void)numDevices;
    (void)phDevices;
    ze_event_pool_handle_t pool = calloc(1, sizeof(*pool));
    if (!pool) return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    pool->count = desc->count;
    pool->events = calloc(desc->count ? desc->count : 1, sizeof(*pool->events));
    if (!pool->events) {
        free(pool);
        return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    *phEventPool = pool;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeEventPoolDestroy(ze_event_pool_handle_t hEventPool) {
    ENTRY();
    free(hEventPool->events);
    free(hEventPool);
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeEventCreate(ze_event_pool_handle_t hEventPool, const ze_event_desc_t *desc,
                                     ze_event_handle_t *phEvent) {
    ENTRY();
    if (desc->index >= hEventPool->count) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
    ze_event_handle_t event = &hEventPool->events[desc->index];
    pthread_mutex_init(&event->lock, NULL);
    event->signal = NULL;
    event->stamp = NULL;
    *phEvent = event;
    return ZE_RESULT_SUCCESS;
}

/* The event's cl_event with a reference for the caller, or NULL. */
static cl_event take(ze_event_handle_t event) {
    pthread_mutex_lock(&event->lock);
    cl_event signal = event->signal;
    if (signal) clRetainEvent(signal);
    pthread_mutex_unlock(&event->lock);
    return signal;
}

/* Makes `signal` (consumed) the event's. */
static void set_signal(ze_event_handle_t event, cl_event signal) {
    pthread_mutex_lock(&event->lock);
    cl_event old = event->signal;
    event->signal = signal;
    event->stamp = NULL;
    pthread_mutex_unlock(&event->lock);
    if (old) clReleaseEvent(old);
}

/* A completed global timestamp: its marker's end time into the destination. */
static void write_stamp(ze_event_handle_t event, cl_event done) {
    cl_ulong end = 0;
    pthread_mutex_lock(&event->lock);
    if (event->stamp && event->signal == done &&
        clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_END, sizeof(end), &end, NULL) ==
            CL_SUCCESS)
        *event->stamp = end;
    pthread_mutex_unlock(&event->lock);
}

ze_result_t ZE_APICALL zeEventDestroy(ze_event_handle_t hEvent) {
    ENTRY();
    set_signal(hEvent, NULL);
    pthread_mutex_destroy(&hEvent->lock);
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeEventHostReset(ze_event_handle_t hEvent) {
    ENTRY();
    set_signal(hEvent, NULL);
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeEventHostSynchronize(ze_event_handle_t hEvent, uint64_t timeout) {
    ENTRY();
    (void)timeout;
    cl_event signal = take(hEvent);
    /* Nothing will signal it: a real driver would wait out the timeout; a test must not hang. */
    if (!signal) return ZE_RESULT_NOT_READY;
    cl_int err = clWaitForEvents(1, &signal);
    if (err == CL_SUCCESS) write_stamp(hEvent, signal);
    clReleaseEvent(signal);
    return from_cl(err);
}

ze_result_t ZE_APICALL zeEventQueryStatus(ze_event_handle_t hEvent) {
    ENTRY();
    cl_event signal = take(hEvent);
    if (!signal) return ZE_RESULT_NOT_READY;
    cl_int status = CL_QUEUED;
    cl_int err =
        clGetEventInfo(signal, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(status), &status, NULL);
    clReleaseEvent(signal);
    if (err != CL_SUCCESS) return from_cl(err);
    return status == CL_COMPLETE ? ZE_RESULT_SUCCESS
           : status < 0          ? ZE_RESULT_ERROR_UNKNOWN
                                 : ZE_RESULT_NOT_READY;
}

/* The cl_events of `count` Level Zero events into out[] (those not signalled are skipped). */
static cl_uint wait_list(uint32_t count, ze_event_handle_t *events, cl_event *out) {
    cl_uint n = 0;
    for (uint32_t i = 0; i < count && i < 16; i++) {
        cl_event signal = take(events[i]);
        if (signal) out[n++] = signal;
    }
    return n;
}

static void release_list(cl_uint n, cl_event *list) {
    for (cl_uint i = 0; i < n; i++)
        clReleaseEvent(list[i]);
}

/* After a command whose cl_event is `done` (consumed): signals `event` with it, if any. */
static void finish(ze_event_handle_t event, cl_event done) {
    if (event)
        set_signal(event, done);
    else if (done)
        clReleaseEvent(done);
}

/* ---- Command lists ---- */

ze_result_t ZE_APICALL zeCommandListCreateImmediate(ze_context_handle_t hContext,
                                                    ze_device_handle_t hDevice,
                                                    const ze_command_queue_desc_t *altdesc,
                                                    ze_command_list_handle_t *phCommandList) {
    ENTRY();
    (void)hContext;
    (void)hDevice;
    (void)altdesc;
    ze_command_list_handle_t list = calloc(1, sizeof(*list));
    if (!list) return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    cl_queue_properties properties[] = {CL_QUEUE_PROPERTIES, CL_QUEUE_PROFILING_ENABLE, 0};
    cl_int err = CL_SUCCESS;
    list->queue = clCreateCommandQueueWithProperties(g.context, g.device, properties, &err);
    if (err != CL_SUCCESS) {
        free(list);
        return from_cl(err);
    }
    *phCommandList = list;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeCommandListDestroy(ze_command_list_handle_t hCommandList) {
    ENTRY();
    clFinish(hCommandList->queue);
    clReleaseCommandQueue(hCommandList->queue);
    free(hCommandList);
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeCommandListAppendBarrier(ze_command_list_handle_t hCommandList,
                                                  ze_event_handle_t hSignalEvent,
                                                  uint32_t numWaitEvents,
                                                  ze_event_handle_t *phWaitEvents) {
    ENTRY();
    cl_event waits[16], done = NULL;
    cl_uint n = wait_list(numWaitEvents, phWaitEvents, waits);
    cl_int err = clEnqueueBarrierWithWaitList(hCommandList->queue, n, n ? waits : NULL,
                                              hSignalEvent ? &done : NULL);
    release_list(n, waits);
    if (err == CL_SUCCESS) finish(hSignalEvent, done);
    clFlush(hCommandList->queue);
    return from_cl(err);
}

ze_result_t ZE_APICALL zeCommandListAppendWaitOnEvents(ze_command_list_handle_t hCommandList,
                                                       uint32_t numEvents,
                                                       ze_event_handle_t *phEvents) {
    ENTRY();
    return zeCommandListAppendBarrier(hCommandList, NULL, numEvents, phEvents);
}

ze_result_t ZE_APICALL zeCommandListAppendMemoryCopy(ze_command_list_handle_t hCommandList,
                                                     void *dstptr, const void *srcptr, size_t size,
                                                     ze_event_handle_t hSignalEvent,
                                                     uint32_t numWaitEvents,
                                                     ze_event_handle_t *phWaitEvents) {
    ENTRY();
    cl_event waits[16], done = NULL;
    cl_uint n = wait_list(numWaitEvents, phWaitEvents, waits);
    cl_int err = g.memcpy_(hCommandList->queue, CL_FALSE, dstptr, srcptr, size, n, n ? waits : NULL,
                           hSignalEvent ? &done : NULL);
    release_list(n, waits);
    if (err == CL_SUCCESS) finish(hSignalEvent, done);
    clFlush(hCommandList->queue);
    return from_cl(err);
}

ze_result_t ZE_APICALL zeCommandListAppendMemoryFill(ze_command_list_handle_t hCommandList,
                                                     void *ptr, const void *pattern,
                                                     size_t pattern_size, size_t size,
                                                     ze_event_handle_t hSignalEvent,
                                                     uint32_t numWaitEvents,
                                                     ze_event_handle_t *phWaitEvents) {
    ENTRY();
    cl_event waits[16], done = NULL;
    cl_uint n = wait_list(numWaitEvents, phWaitEvents, waits);
    cl_int err = g.fill(hCommandList->queue, ptr, pattern, pattern_size, size, n, n ? waits : NULL,
                        hSignalEvent ? &done : NULL);
    release_list(n, waits);
    if (err == CL_SUCCESS) finish(hSignalEvent, done);
    clFlush(hCommandList->queue);
    return from_cl(err);
}

/* A global timestamp: a marker after the list's work, whose end time (the profiling clock, in
 * ns) is written into the destination when the host sees the signalled event complete
 * (zeEventHostSynchronize), which is when the backend reads it. Without an event, at once. */
ze_result_t ZE_APICALL zeCommandListAppendWriteGlobalTimestamp(
    ze_command_list_handle_t hCommandList, uint64_t *dstptr, ze_event_handle_t hSignalEvent,
    uint32_t numWaitEvents, ze_event_handle_t *phWaitEvents) {
    ENTRY();
    cl_event waits[16], marker = NULL;
    cl_uint n = wait_list(numWaitEvents, phWaitEvents, waits);
    cl_int err = clEnqueueMarkerWithWaitList(hCommandList->queue, n, n ? waits : NULL, &marker);
    release_list(n, waits);
    if (err != CL_SUCCESS) return from_cl(err);
    clFlush(hCommandList->queue);
    if (!hSignalEvent) {
        cl_ulong end = 0;
        err = clWaitForEvents(1, &marker);
        if (err == CL_SUCCESS)
            err =
                clGetEventProfilingInfo(marker, CL_PROFILING_COMMAND_END, sizeof(end), &end, NULL);
        if (err == CL_SUCCESS) *dstptr = end;
        clReleaseEvent(marker);
        return from_cl(err);
    }
    set_signal(hSignalEvent, marker);
    pthread_mutex_lock(&hSignalEvent->lock);
    hSignalEvent->stamp = dstptr;
    pthread_mutex_unlock(&hSignalEvent->lock);
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeCommandListAppendLaunchKernel(ze_command_list_handle_t hCommandList,
                                                       ze_kernel_handle_t hKernel,
                                                       const ze_group_count_t *pLaunchFuncArgs,
                                                       ze_event_handle_t hSignalEvent,
                                                       uint32_t numWaitEvents,
                                                       ze_event_handle_t *phWaitEvents) {
    ENTRY();
    uint32_t group[3];
    cl_kernel kernel = standin_kernel(hKernel, group);
    const uint32_t counts[3] = {pLaunchFuncArgs->groupCountX, pLaunchFuncArgs->groupCountY,
                                pLaunchFuncArgs->groupCountZ};
    size_t global[3], local[3];
    for (int d = 0; d < 3; d++) {
        local[d] = group[d];
        global[d] = (size_t)counts[d] * group[d];
        if (global[d] == 0) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
    }
    cl_event waits[16], done = NULL;
    cl_uint n = wait_list(numWaitEvents, phWaitEvents, waits);
    cl_int err = clEnqueueNDRangeKernel(hCommandList->queue, kernel, 3, NULL, global, local, n,
                                        n ? waits : NULL, hSignalEvent ? &done : NULL);
    release_list(n, waits);
    if (err == CL_SUCCESS) finish(hSignalEvent, done);
    clFlush(hCommandList->queue);
    return from_cl(err);
}
