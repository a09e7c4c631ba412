/*
 * Streams are immediate command lists on the device's compute queue group. Level Zero may run
 * the commands of a list concurrently, so a barrier follows each command: xhal's streams are in
 * order. Copies and fills are appended without waiting (xhal.h asks the application to keep
 * host memory valid until it synchronizes). synchronize appends a barrier that signals the
 * stream's own event and waits for it on the host.
 *
 * Scratch blocks are freed at once by zeMemFree, so growing one first waits for the stream
 * (xc_scratch's drain).
 */
#include <stdlib.h>
#include <string.h>

#include "lz_internal.h"

xhal_status_t lz_stream_order(xhal_be_stream_t *stream, const char *after) {
    ze_result_t result = lz.zeCommandListAppendBarrier(stream->list, NULL, 0, NULL);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(stream->device->host, result, "zeCommandListAppendBarrier", "after %s",
                       after);
    return XHAL_OK;
}

static xhal_status_t scratch_alloc(void *context, uint64_t bytes, uint64_t *out) {
    xhal_be_stream_t *stream = context;
    xhal_be_device_t *device = stream->device;
    ze_device_mem_alloc_desc_t desc = {.stype = ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC};
    void *ptr = NULL;
    ze_result_t result =
        lz.zeMemAllocDevice(device->context, &desc, (size_t)bytes, 256, device->id, &ptr);
    if (result != ZE_RESULT_SUCCESS || !ptr)
        return lz_fail(device->host, result, "zeMemAllocDevice", "%llu bytes of scratch on %s",
                       (unsigned long long)bytes, device->info.name);
    *out = (uint64_t)(uintptr_t)ptr;
    return XHAL_OK;
}

static xhal_status_t scratch_drain(void *context) {
    return lz_stream_synchronize(context);
}

static void scratch_release(void *context, uint64_t handle) {
    xhal_be_stream_t *stream = context;
    lz.zeMemFree(stream->device->context, (void *)(uintptr_t)handle);
}

static const xc_scratch_ops_t scratch_ops = {scratch_alloc, scratch_drain, scratch_release};

xhal_status_t ocl_stream_scratch(xhal_be_stream_t *stream, int slot, uint64_t size, cl_mem *out) {
    uint64_t handle = 0;
    xhal_status_t status =
        xc_scratch_get(&stream->scratch[slot], size, stream->device->max_alloc, &scratch_ops,
                       stream, stream->device->host, stream->device->info.name, &handle);
    if (status == XHAL_OK) *out = (cl_mem)(uintptr_t)handle;
    return status;
}

xhal_status_t lz_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream) {
    const xhal_host_api_t *host = device->host;
    xhal_be_stream_t *stream = calloc(1, sizeof(*stream));
    if (!stream) return host->set_error(XHAL_OUT_OF_MEMORY, "levelzero: out of host memory");
    stream->device = device;
    ze_command_queue_desc_t queue = {.stype = ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC,
                                     .ordinal = device->compute_ordinal,
                                     .mode = ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
                                     .priority = ZE_COMMAND_QUEUE_PRIORITY_NORMAL};
    ze_result_t result =
        lz.zeCommandListCreateImmediate(device->context, device->id, &queue, &stream->list);
    const char *call = "zeCommandListCreateImmediate";
    if (result == ZE_RESULT_SUCCESS) {
        ze_event_pool_desc_t pool = {.stype = ZE_STRUCTURE_TYPE_EVENT_POOL_DESC,
                                     .flags = ZE_EVENT_POOL_FLAG_HOST_VISIBLE,
                                     .count = 1};
        call = "zeEventPoolCreate";
        result = lz.zeEventPoolCreate(device->context, &pool, 1, &device->id, &stream->pool);
    }
    if (result == ZE_RESULT_SUCCESS) {
        ze_event_desc_t event = {.stype = ZE_STRUCTURE_TYPE_EVENT_DESC,
                                 .index = 0,
                                 .signal = ZE_EVENT_SCOPE_FLAG_HOST,
                                 .wait = ZE_EVENT_SCOPE_FLAG_HOST};
        call = "zeEventCreate";
        result = lz.zeEventCreate(stream->pool, &event, &stream->done);
    }
    if (result != ZE_RESULT_SUCCESS) {
        xhal_status_t status = lz_fail(host, result, call, "a stream on %s", device->info.name);
        lz_stream_destroy(stream);
        return status;
    }
    *out_stream = stream;
    return XHAL_OK;
}

void lz_stream_destroy(xhal_be_stream_t *stream) {
    if (!stream) return;
    if (stream->list && stream->done) lz_stream_synchronize(stream);
    for (int i = 0; i < LZ_SCRATCH_SLOTS; i++)
        xc_scratch_free(&stream->scratch[i], &scratch_ops, stream);
    lz_kernels_release(stream);
    if (stream->done) lz.zeEventDestroy(stream->done);
    if (stream->pool) lz.zeEventPoolDestroy(stream->pool);
    if (stream->list) lz.zeCommandListDestroy(stream->list);
    free(stream);
}

xhal_status_t lz_stream_synchronize(xhal_be_stream_t *stream) {
    const xhal_host_api_t *host = stream->device->host;
    ze_result_t result = lz.zeCommandListAppendBarrier(stream->list, stream->done, 0, NULL);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeCommandListAppendBarrier", "synchronizing a stream");
    result = lz.zeEventHostSynchronize(stream->done, UINT64_MAX);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeEventHostSynchronize",
                       "synchronizing a stream (work before it may have failed)");
    result = lz.zeEventHostReset(stream->done);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeEventHostReset", "after synchronizing a stream");
    return XHAL_OK;
}

static xhal_status_t copy(xhal_be_stream_t *stream, void *dst, const void *src, uint64_t size,
                          const char *what) {
    ze_result_t result =
        lz.zeCommandListAppendMemoryCopy(stream->list, dst, src, (size_t)size, NULL, 0, NULL);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(stream->device->host, result, "zeCommandListAppendMemoryCopy",
                       "%s of %llu bytes", what, (unsigned long long)size);
    return lz_stream_order(stream, what);
}

xhal_status_t lz_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                          const void *src, uint64_t size) {
    return copy(stream, (char *)dst->ptr + dst_offset, src, size, "a host-to-device copy");
}

xhal_status_t lz_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                          uint64_t src_offset, uint64_t size) {
    return copy(stream, dst, (const char *)src->ptr + src_offset, size, "a device-to-host copy");
}

xhal_status_t lz_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                          xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size) {
    return copy(stream, (char *)dst->ptr + dst_offset, (const char *)src->ptr + src_offset, size,
                "a device-to-device copy");
}

xhal_status_t lz_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                      uint64_t size, const void *pattern, size_t pattern_size) {
    ze_result_t result =
        lz.zeCommandListAppendMemoryFill(stream->list, (char *)dst->ptr + offset, pattern,
                                         pattern_size, (size_t)size, NULL, 0, NULL);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(stream->device->host, result, "zeCommandListAppendMemoryFill",
                       "%llu bytes with a %zu-byte pattern", (unsigned long long)size,
                       pattern_size);
    return lz_stream_order(stream, "a fill");
}
