/*
 * Buffers are USM allocations of the device's context: XHAL_MEMORY_DEVICE is zeMemAllocDevice
 * (no host pointer), XHAL_MEMORY_HOST_PINNED zeMemAllocHost (host memory the device reaches,
 * whose pointer the host uses). Kernels take the pointer itself as their buffer argument.
 */
#include <stdlib.h>

#include "lz_internal.h"

/* What every kernel argument and copy needs; more helps the device's wide loads. */
#define LZ_ALIGNMENT 256

xhal_status_t lz_buffer_alloc(xhal_be_device_t *device, uint64_t size, xhal_memory_kind_t kind,
                              xhal_be_buffer_t **out_buffer) {
    const xhal_host_api_t *host = device->host;
    if (size > device->max_alloc || size > SIZE_MAX)
        return host->set_error(XHAL_OUT_OF_MEMORY,
                               "levelzero: a buffer of %llu bytes is larger than %s allows in one "
                               "allocation (maxMemAllocSize %llu)",
                               (unsigned long long)size, device->info.name,
                               (unsigned long long)device->max_alloc);
    xhal_be_buffer_t *buffer = calloc(1, sizeof(*buffer));
    if (!buffer) return host->set_error(XHAL_OUT_OF_MEMORY, "levelzero: out of host memory");
    ze_result_t result;
    const char *call;
    if (kind == XHAL_MEMORY_HOST_PINNED) {
        ze_host_mem_alloc_desc_t desc = {.stype = ZE_STRUCTURE_TYPE_HOST_MEM_ALLOC_DESC};
        call = "zeMemAllocHost";
        result =
            lz.zeMemAllocHost(device->context, &desc, (size_t)size, LZ_ALIGNMENT, &buffer->ptr);
        buffer->host = 1;
    } else {
        ze_device_mem_alloc_desc_t desc = {.stype = ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC};
        call = "zeMemAllocDevice";
        result = lz.zeMemAllocDevice(device->context, &desc, (size_t)size, LZ_ALIGNMENT, device->id,
                                     &buffer->ptr);
    }
    if (result != ZE_RESULT_SUCCESS || !buffer->ptr) {
        free(buffer);
        return lz_fail(host, result, call, "%llu bytes on %s", (unsigned long long)size,
                       device->info.name);
    }
    buffer->mem = (cl_mem)buffer->ptr;
    buffer->size = size;
    *out_buffer = buffer;
    return XHAL_OK;
}

void lz_buffer_free(xhal_be_device_t *device, xhal_be_buffer_t *buffer) {
    if (!buffer) return;
    lz.zeMemFree(device->context, buffer->ptr);
    free(buffer);
}

xhal_status_t lz_buffer_host_pointer(xhal_be_device_t *device, xhal_be_buffer_t *buffer,
                                     xhal_memory_kind_t kind, void **out_ptr) {
    (void)kind;
    if (!buffer->host)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "levelzero: device memory of %s has no host pointer; "
                                       "allocate XHAL_MEMORY_HOST_PINNED memory or copy",
                                       device->info.name);
    *out_ptr = buffer->ptr;
    return XHAL_OK;
}
