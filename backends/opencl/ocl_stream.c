/*
 * Streams are in-order command queues with profiling on (events time themselves from it).
 * Copies and fills are enqueued without blocking: xhal.h already asks the application to keep
 * host memory valid until it synchronizes, which is what OpenCL asks of a non-blocking read or
 * write. Errors the runtime returns at enqueue time are returned at once; errors of work that
 * already ran come back from clFinish at the next synchronize.
 */
#include <stdlib.h>
#include <string.h>

#include "ocl_internal.h"

xhal_status_t ocl_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream) {
    const xhal_host_api_t *host = device->host;
    xhal_be_stream_t *stream = calloc(1, sizeof(*stream));
    if (!stream) return host->set_error(XHAL_OUT_OF_MEMORY, "opencl: out of host memory");
    cl_int err = CL_SUCCESS;
    stream->device = device;
    stream->queue =
        ocl.clCreateCommandQueue(device->context, device->id, CL_QUEUE_PROFILING_ENABLE, &err);
    if (!stream->queue || err != CL_SUCCESS) {
        free(stream);
        return ocl_fail(host, err, "clCreateCommandQueue", "a profiling queue on %s",
                        device->info.name);
    }
    *out_stream = stream;
    return XHAL_OK;
}

void ocl_stream_destroy(xhal_be_stream_t *stream) {
    if (!stream) return;
    cl_int err = ocl.clFinish(stream->queue);
    if (err != CL_SUCCESS)
        stream->device->host->log(XHAL_LOG_WARN,
                                  "a stream was destroyed with work that failed: clFinish "
                                  "returned %s",
                                  ocl_error_name(err));
    ocl_kernels_release(stream);
    for (int i = 0; i < OCL_SCRATCH_SLOTS; i++)
        if (stream->scratch[i]) ocl.clReleaseMemObject(stream->scratch[i]);
    ocl.clReleaseCommandQueue(stream->queue);
    free(stream);
}

xhal_status_t ocl_stream_synchronize(xhal_be_stream_t *stream) {
    cl_int err = ocl.clFinish(stream->queue);
    if (err != CL_SUCCESS)
        return ocl_fail(stream->device->host, err, "clFinish", "synchronizing a stream on %s",
                        stream->device->info.name);
    return XHAL_OK;
}

xhal_status_t ocl_stream_scratch(xhal_be_stream_t *stream, int slot, uint64_t size, cl_mem *out) {
    if (stream->scratch[slot] && stream->scratch_size[slot] >= size) {
        *out = stream->scratch[slot];
        return XHAL_OK;
    }
    xhal_be_device_t *device = stream->device;
    /* Grow by half again, so that a run of slightly larger ops does not reallocate each time. */
    uint64_t grown = size + size / 2;
    if (grown > device->max_alloc) grown = size;
    if (size > device->max_alloc)
        return device->host->set_error(
            XHAL_OUT_OF_MEMORY,
            "opencl: the op needs %llu bytes of scratch, more than %s allows in one allocation "
            "(%llu)",
            (unsigned long long)size, device->info.name, (unsigned long long)device->max_alloc);
    cl_int err = CL_SUCCESS;
    cl_mem mem = ocl.clCreateBuffer(device->context, CL_MEM_READ_WRITE, (size_t)grown, NULL, &err);
    if (!mem || err != CL_SUCCESS)
        return ocl_fail(device->host, err, "clCreateBuffer", "%llu bytes of scratch on %s",
                        (unsigned long long)grown, device->info.name);
    /* Commands already queued keep the old buffer alive: OpenCL frees a released memory object
     * only once the commands using it have finished. */
    if (stream->scratch[slot]) ocl.clReleaseMemObject(stream->scratch[slot]);
    stream->scratch[slot] = mem;
    stream->scratch_size[slot] = grown;
    *out = mem;
    return XHAL_OK;
}

/* ---- Copies and fill ---- */

xhal_status_t ocl_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           const void *src, uint64_t size) {
    cl_int err = ocl.clEnqueueWriteBuffer(stream->queue, dst->mem, CL_FALSE, (size_t)dst_offset,
                                          (size_t)size, src, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return ocl_fail(stream->device->host, err, "clEnqueueWriteBuffer",
                        "%llu bytes to offset %llu", (unsigned long long)size,
                        (unsigned long long)dst_offset);
    return XHAL_OK;
}

xhal_status_t ocl_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                           uint64_t src_offset, uint64_t size) {
    cl_int err = ocl.clEnqueueReadBuffer(stream->queue, src->mem, CL_FALSE, (size_t)src_offset,
                                         (size_t)size, dst, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return ocl_fail(stream->device->host, err, "clEnqueueReadBuffer",
                        "%llu bytes from offset %llu", (unsigned long long)size,
                        (unsigned long long)src_offset);
    return XHAL_OK;
}

xhal_status_t ocl_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size) {
    cl_int err = ocl.clEnqueueCopyBuffer(stream->queue, src->mem, dst->mem, (size_t)src_offset,
                                         (size_t)dst_offset, (size_t)size, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return ocl_fail(stream->device->host, err, "clEnqueueCopyBuffer",
                        "%llu bytes from offset %llu to offset %llu", (unsigned long long)size,
                        (unsigned long long)src_offset, (unsigned long long)dst_offset);
    return XHAL_OK;
}

xhal_status_t ocl_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                       uint64_t size, const void *pattern, size_t pattern_size) {
    /* The runtime copies the pattern at the call, as xhal.h promises the caller. */
    cl_int err = ocl.clEnqueueFillBuffer(stream->queue, dst->mem, pattern, pattern_size,
                                         (size_t)offset, (size_t)size, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return ocl_fail(stream->device->host, err, "clEnqueueFillBuffer",
                        "%llu bytes at offset %llu with a %zu-byte pattern",
                        (unsigned long long)size, (unsigned long long)offset, pattern_size);
    return XHAL_OK;
}
