/*
 * Buffers: device memory from cuMemAlloc (never managed memory, which can stall a GPU shared
 * with others when oversubscribed), and page-locked host memory from cuMemAllocHost, which the
 * GPU reaches directly: under unified addressing (every 64-bit platform CUDA 13 supports) its
 * host pointer is also its device address, so kernels and copies take it like device memory.
 */
#include <stdlib.h>

#include "cuda_internal.h"

xhal_status_t cuda_buffer_alloc(xhal_be_device_t *dev, uint64_t size, xhal_memory_kind_t kind,
                                xhal_be_buffer_t **out_buffer) {
    xhal_be_buffer_t *buffer = calloc(1, sizeof(*buffer));
    if (!buffer) return dev->host->set_error(XHAL_OUT_OF_MEMORY, "cuda: calloc failed");
    xhal_status_t status = cuda_enter(dev);
    if (status != XHAL_OK) {
        free(buffer);
        return status;
    }
    CUresult r;
    if (kind == XHAL_MEMORY_HOST_PINNED) {
        r = dev->driver->cuMemAllocHost(&buffer->host, (size_t)size);
        buffer->address = (CUdeviceptr)(uintptr_t)buffer->host;
    } else {
        r = dev->driver->cuMemAlloc(&buffer->address, (size_t)size);
    }
    if (r != CUDA_SUCCESS) {
        free(buffer);
        if (r == CUDA_ERROR_OUT_OF_MEMORY)
            return dev->host->set_error(XHAL_OUT_OF_MEMORY, "cuda: %s of %llu bytes failed: %s",
                                        kind == XHAL_MEMORY_HOST_PINNED ? "cuMemAllocHost"
                                                                        : "cuMemAlloc",
                                        (unsigned long long)size, cuda_error_name(dev->driver, r));
        return cuda_fail(dev, r, kind == XHAL_MEMORY_HOST_PINNED ? "cuMemAllocHost" : "cuMemAlloc");
    }
    buffer->size = size;
    *out_buffer = buffer;
    return XHAL_OK;
}

void cuda_buffer_free(xhal_be_device_t *dev, xhal_be_buffer_t *buffer) {
    if (cuda_enter(dev) == XHAL_OK) {
        if (buffer->host)
            dev->driver->cuMemFreeHost(buffer->host);
        else
            dev->driver->cuMemFree(buffer->address);
    }
    free(buffer);
}

xhal_status_t cuda_buffer_host_pointer(xhal_be_device_t *dev, xhal_be_buffer_t *buffer,
                                       xhal_memory_kind_t kind, void **out_ptr) {
    if (kind != XHAL_MEMORY_HOST_PINNED || !buffer->host)
        return dev->host->set_error(XHAL_UNSUPPORTED,
                                    "cuda: device memory has no host pointer; copy it with "
                                    "xhal_copy_d2h, or allocate XHAL_MEMORY_HOST_PINNED");
    *out_ptr = buffer->host;
    return XHAL_OK;
}
