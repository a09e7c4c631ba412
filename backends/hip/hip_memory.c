/*
 * Buffers: device memory from hipMalloc (never managed memory, which migrates pages behind the
 * kernels' back), and page-locked host memory from hipHostMalloc, which the GPU reaches
 * directly: its host pointer is also a device address (ROCm maps pinned memory into the GPU's
 * address space), so kernels and copies take it like device memory.
 */
#include <stdlib.h>

#include "hip_internal.h"

xhal_status_t hip_buffer_alloc(xhal_be_device_t *dev, uint64_t size, xhal_memory_kind_t kind,
                               xhal_be_buffer_t **out_buffer) {
    xhal_be_buffer_t *buffer = calloc(1, sizeof(*buffer));
    if (!buffer) return dev->host->set_error(XHAL_OUT_OF_MEMORY, "hip: calloc failed");
    xhal_status_t status = hip_enter(dev);
    if (status != XHAL_OK) {
        free(buffer);
        return status;
    }
    buffer->pinned = kind == XHAL_MEMORY_HOST_PINNED;
    const char *call = buffer->pinned ? "hipHostMalloc" : "hipMalloc";
    hip_error_t e = buffer->pinned ? dev->rt->hipHostMalloc(&buffer->address, (size_t)size,
                                                            HIP_HOST_MALLOC_DEFAULT)
                                   : dev->rt->hipMalloc(&buffer->address, (size_t)size);
    if (e != HIP_SUCCESS) {
        free(buffer);
        if (e == HIP_ERROR_OUT_OF_MEMORY)
            return dev->host->set_error(XHAL_OUT_OF_MEMORY, "hip: %s of %llu bytes failed: %s",
                                        call, (unsigned long long)size, hip_error_text(dev->rt, e));
        return hip_fail(dev, e, call);
    }
    buffer->size = size;
    *out_buffer = buffer;
    return XHAL_OK;
}

void hip_buffer_free(xhal_be_device_t *dev, xhal_be_buffer_t *buffer) {
    if (hip_enter(dev) == XHAL_OK) {
        if (buffer->pinned)
            dev->rt->hipHostFree(buffer->address);
        else
            dev->rt->hipFree(buffer->address);
    }
    free(buffer);
}

xhal_status_t hip_buffer_host_pointer(xhal_be_device_t *dev, xhal_be_buffer_t *buffer,
                                      xhal_memory_kind_t kind, void **out_ptr) {
    if (kind != XHAL_MEMORY_HOST_PINNED || !buffer->pinned)
        return dev->host->set_error(XHAL_UNSUPPORTED,
                                    "hip: device memory has no host pointer; copy it with "
                                    "xhal_copy_d2h, or allocate XHAL_MEMORY_HOST_PINNED");
    *out_ptr = buffer->address;
    return XHAL_OK;
}
