/*
 * Buffers are cl_mem objects of the device's context.
 *
 * XHAL_MEMORY_HOST_PINNED needs memory the host can address while the device uses it. OpenCL
 * 1.2 gives that only through map/unmap, except on devices that share the host's memory
 * (CL_DEVICE_HOST_UNIFIED_MEMORY: CPU devices such as PoCL, integrated GPUs): there a buffer
 * made with CL_MEM_USE_HOST_PTR over page-aligned host memory is that memory, and its host
 * pointer stays valid. Elsewhere pinned memory is UNSUPPORTED, as xhal.h allows; device memory
 * never has a host pointer.
 *
 * On those devices device memory is made the same way, and zeroed at allocation: the pages are
 * then committed up front, as a GPU's memory is, instead of being faulted in by the first
 * kernel that writes them (which cost a 1024^3 GEMM on PoCL 20-40% of its time when its output
 * buffer was fresh).
 */
#include <stdlib.h>
#include <string.h>

#include "ocl_internal.h"

/* Page alignment: what drivers want for zero-copy host memory (4096 is enough for all). */
#define OCL_HOST_ALIGNMENT 4096

xhal_status_t ocl_buffer_alloc(xhal_be_device_t *device, uint64_t size, xhal_memory_kind_t kind,
                               xhal_be_buffer_t **out_buffer) {
    const xhal_host_api_t *host = device->host;
    if (kind == XHAL_MEMORY_HOST_PINNED && !device->host_unified)
        return host->set_error(XHAL_UNSUPPORTED,
                               "opencl: %s does not share the host's memory "
                               "(CL_DEVICE_HOST_UNIFIED_MEMORY is false), so it has no pinned host "
                               "memory the host can address",
                               device->info.name);
    if (size > device->max_alloc || size > SIZE_MAX - OCL_HOST_ALIGNMENT)
        return host->set_error(XHAL_OUT_OF_MEMORY,
                               "opencl: a buffer of %llu bytes is larger than %s allows in one "
                               "allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE %llu)",
                               (unsigned long long)size, device->info.name,
                               (unsigned long long)device->max_alloc);
    xhal_be_buffer_t *buffer = calloc(1, sizeof(*buffer));
    if (!buffer) return host->set_error(XHAL_OUT_OF_MEMORY, "opencl: out of host memory");

    cl_mem_flags flags = CL_MEM_READ_WRITE;
    if (device->host_unified) {
        size_t rounded = (size_t)ocl_round_up(size, OCL_HOST_ALIGNMENT);
        buffer->host = aligned_alloc(OCL_HOST_ALIGNMENT, rounded);
        if (!buffer->host) {
            free(buffer);
            return host->set_error(XHAL_OUT_OF_MEMORY,
                                   "opencl: aligned_alloc of %zu bytes of host memory failed",
                                   rounded);
        }
        memset(buffer->host, 0, rounded);
        buffer->pinned = kind == XHAL_MEMORY_HOST_PINNED;
        flags |= CL_MEM_USE_HOST_PTR;
    }
    cl_int err = CL_SUCCESS;
    buffer->mem = ocl.clCreateBuffer(device->context, flags, (size_t)size, buffer->host, &err);
    if (!buffer->mem || err != CL_SUCCESS) {
        free(buffer->host);
        free(buffer);
        return ocl_fail(host, err, "clCreateBuffer", "%llu bytes on %s", (unsigned long long)size,
                        device->info.name);
    }
    buffer->size = size;
    *out_buffer = buffer;
    return XHAL_OK;
}

void ocl_buffer_free(xhal_be_device_t *device, xhal_be_buffer_t *buffer) {
    (void)device;
    if (!buffer) return;
    ocl.clReleaseMemObject(buffer->mem);
    free(buffer->host);
    free(buffer);
}

xhal_status_t ocl_buffer_host_pointer(xhal_be_device_t *device, xhal_be_buffer_t *buffer,
                                      xhal_memory_kind_t kind, void **out_ptr) {
    (void)kind;
    if (!buffer->pinned)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "opencl: device memory of %s has no host pointer; "
                                       "allocate XHAL_MEMORY_HOST_PINNED memory or copy",
                                       device->info.name);
    *out_ptr = buffer->host;
    return XHAL_OK;
}
