/*
 * Buffers. The CPU device's memory is the host's memory, so a buffer is an aligned allocation
 * and the host can address it directly.
 *
 * XHAL_MEMORY_HOST_PINNED gets the same memory as XHAL_MEMORY_DEVICE: pinning exists so that a
 * GPU's DMA engine can read host pages that will not move; the CPU reads any page, so there is
 * nothing to pin. Both kinds therefore have a host pointer.
 */
#include <stdlib.h>

#include "cpu_internal.h"

xhal_status_t cpu_buffer_alloc(xhal_be_device_t *device, uint64_t size, xhal_memory_kind_t kind,
                               xhal_be_buffer_t **out_buffer) {
    (void)kind; /* the same memory for both kinds: see above */
    const xhal_host_api_t *host = device->host;

    /* aligned_alloc wants a size that is a multiple of the alignment. A 64-byte alignment lets
     * kernels use aligned SIMD loads on buffers, and no two buffers share a cache line. */
    size_t rounded = size <= SIZE_MAX ? cpu_round_alignment((size_t)size) : 0;
    if (rounded == 0)
        return host->set_error(XHAL_OUT_OF_MEMORY,
                               "cpu: a buffer of %llu bytes does not fit in the address space",
                               (unsigned long long)size);

    xhal_be_buffer_t *buffer = malloc(sizeof(*buffer));
    if (!buffer)
        return host->set_error(XHAL_OUT_OF_MEMORY, "cpu: malloc of %zu bytes for a buffer failed",
                               sizeof(*buffer));
    buffer->data = aligned_alloc(CPU_ALIGNMENT, rounded);
    if (!buffer->data) {
        free(buffer);
        return host->set_error(XHAL_OUT_OF_MEMORY, "cpu: aligned_alloc of %zu bytes failed",
                               rounded);
    }
    buffer->size = size;
    *out_buffer = buffer;
    return XHAL_OK;
}

void cpu_buffer_free(xhal_be_device_t *device, xhal_be_buffer_t *buffer) {
    (void)device;
    if (!buffer) return;
    free(buffer->data);
    free(buffer);
}

xhal_status_t cpu_buffer_host_pointer(xhal_be_device_t *device, xhal_be_buffer_t *buffer,
                                      xhal_memory_kind_t kind, void **out_ptr) {
    (void)device;
    (void)kind; /* both kinds are host memory */
    *out_ptr = buffer->data;
    return XHAL_OK;
}

float *cpu_device_scratch(xhal_be_device_t *device, size_t floats) {
    if (floats <= device->scratch_floats) return device->scratch;
    size_t bytes =
        floats <= SIZE_MAX / sizeof(float) ? cpu_round_alignment(floats * sizeof(float)) : 0;
    float *grown = bytes ? aligned_alloc(CPU_ALIGNMENT, bytes) : NULL;
    if (!grown) return NULL;
    free(device->scratch);
    device->scratch = grown;
    device->scratch_floats = floats;
    return grown;
}
