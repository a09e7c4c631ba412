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

/* Scratch buffers (backends/common/xc_scratch.h) over clCreateBuffer. Releasing needs no wait:
 * OpenCL frees a released memory object only once the commands using it have finished. */
static xhal_status_t scratch_alloc(void *context, uint64_t bytes, uint64_t *out) {
    xhal_be_stream_t *stream = context;
    cl_int err = CL_SUCCESS;
    cl_mem mem =
        ocl.clCreateBuffer(stream->device->context, CL_MEM_READ_WRITE, (size_t)bytes, NULL, &err);
    if (!mem || err != CL_SUCCESS)
        return ocl_fail(stream->device->host, err, "clCreateBuffer", "%llu bytes of scratch on %s",
                        (unsigned long long)bytes, stream->device->info.name);
    *out = (uint64_t)(uintptr_t)mem;
    return XHAL_OK;
}

static void scratch_release(void *context, uint64_t handle) {
    (void)context;
    ocl.clReleaseMemObject((cl_mem)(uintptr_t)handle);
}

static const xc_scratch_ops_t scratch_ops = {scratch_alloc, NULL, scratch_release};

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
        xc_scratch_free(&stream->scratch[i], &scratch_ops, stream);
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
    xhal_be_device_t *device = stream->device;
    uint64_t handle = 0;
    xhal_status_t status =
        xc_scratch_get(&stream->scratch[slot], size, device->max_alloc, &scratch_ops, stream,
                       device->host, device->info.name, &handle);
    *out = (cl_mem)(uintptr_t)handle;
    return status;
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
