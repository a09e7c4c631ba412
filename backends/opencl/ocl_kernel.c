/*
 * Kernels belong to streams: a cl_kernel carries its arguments, so two threads launching one
 * kernel object would race between clSetKernelArg and clEnqueueNDRangeKernel. Each stream
 * creates the kernels it launches, on first use, from the device's (shared, immutable) program.
 *
 * XHAL_OPENCL_PROFILE=1 (read at device open) makes every launch wait for its kernel and log the
 * kernel's device time at XHAL_LOG=info: slow (it serializes the host with the device), for finding
 * which kernel of an op takes the time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl_internal.h"

static const struct {
    const char *name;
    ocl_program_id_t program;
    int quantized; /* variants are quantized formats, not dtypes */
} families[OCL_FAMILY_COUNT] = {
    [OCL_GEMM_PACK_A] = {"gemm_pack_a", OCL_PROGRAM_GEMM},
    [OCL_GEMM_PACK_B] = {"gemm_pack_b", OCL_PROGRAM_GEMM},
    [OCL_GEMM_TILE] = {"gemm_tile", OCL_PROGRAM_GEMM},
    [OCL_GEMM_COPY_A] = {"gemm_copy_a", OCL_PROGRAM_GEMM},
    [OCL_GEMM_FUSED] = {"gemm_fused", OCL_PROGRAM_GEMM},
    [OCL_GEMV_N] = {"gemv_n", OCL_PROGRAM_GEMM},
    [OCL_GEMV_T] = {"gemv_t", OCL_PROGRAM_GEMM},
    [OCL_GEMV_NG] = {"gemv_ng", OCL_PROGRAM_GEMM},
    [OCL_GEMV_TG] = {"gemv_tg", OCL_PROGRAM_GEMM},
    [OCL_QPACK_B] = {"qpack_b", OCL_PROGRAM_GEMM, 1},
    [OCL_QFUSED] = {"qfused", OCL_PROGRAM_GEMM, 1},
    [OCL_QGEMV_T] = {"qgemv_t", OCL_PROGRAM_GEMM, 1},
    [OCL_QGEMV_TG] = {"qgemv_tg", OCL_PROGRAM_GEMM, 1},
    [OCL_ATTN_PACK_KV] = {"attn_pack_kv", OCL_PROGRAM_ATTENTION},
    [OCL_ATTN_PREFILL] = {"attn_prefill", OCL_PROGRAM_ATTENTION},
    [OCL_ATTN_DECODE] = {"attn_decode", OCL_PROGRAM_ATTENTION},
    [OCL_ATTN_COMBINE] = {"attn_combine", OCL_PROGRAM_ATTENTION},
    [OCL_ATTN_MERGE] = {"attn_merge", OCL_PROGRAM_ATTENTION_MERGE},
};

static const char *const dtype_suffix[OCL_VARIANTS] = {"f32", "f16", "bf16", "?"};
static const char *const quant_suffix[OCL_VARIANTS] = {"int8", "int4", "e4m3", "e5m2"};

static xhal_status_t get_kernel(xhal_be_stream_t *stream, ocl_family_t family, int variant,
                                const char *name, cl_kernel *out) {
    cl_kernel *slot = &stream->kernels[family][variant];
    if (!*slot) {
        cl_program program = NULL;
        xhal_status_t status = ocl_program_get(stream->device, families[family].program, &program);
        if (status != XHAL_OK) return status;
        cl_int err = CL_SUCCESS;
        *slot = ocl.clCreateKernel(program, name, &err);
        if (!*slot || err != CL_SUCCESS) {
            *slot = NULL;
            return ocl_fail(stream->device->host, err, "clCreateKernel", "%s", name);
        }
    }
    *out = *slot;
    return XHAL_OK;
}

xhal_status_t ocl_launch(xhal_be_stream_t *stream, ocl_family_t family, int variant,
                         const ocl_arg_t *args, size_t arg_count, cl_uint dims,
                         const size_t *global, const size_t *local) {
    const xhal_host_api_t *host = stream->device->host;
    char name[64];
    snprintf(name, sizeof(name), "%s_%s", families[family].name,
             (families[family].quantized ? quant_suffix : dtype_suffix)[variant]);
    cl_kernel kernel = NULL;
    xhal_status_t status = get_kernel(stream, family, variant, name, &kernel);
    if (status != XHAL_OK) return status;
    for (size_t i = 0; i < arg_count; i++) {
        cl_int err = ocl.clSetKernelArg(kernel, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS)
            return ocl_fail(host, err, "clSetKernelArg", "argument %zu of %s", i, name);
    }
    for (cl_uint d = 0; d < dims; d++)
        if (global[d] == 0) return XHAL_OK; /* nothing to do: OpenCL refuses empty ranges */
    /* PoCL runs a work-group as a loop on one thread and keeps every work-item's private
     * arrays on that thread's stack: left to choose, it makes groups of thousands of items,
     * which overflow the stack. CPU sections of the tuning file therefore ask for one item. */
    static const size_t one[3] = {1, 1, 1};
    if (!local && stream->device->tuning.one_item_groups) local = one;
    cl_event event = NULL;
    int profiling = stream->device->profile && host->log_enabled(XHAL_LOG_INFO);
    cl_int err = ocl.clEnqueueNDRangeKernel(stream->queue, kernel, dims, NULL, global, local, 0,
                                            NULL, profiling ? &event : NULL);
    if (err != CL_SUCCESS)
        return ocl_fail(host, err, "clEnqueueNDRangeKernel", "%s over %zu x %zu x %zu", name,
                        global[0], dims > 1 ? global[1] : 1, dims > 2 ? global[2] : 1);
    if (event) {
        cl_ulong start = 0, end = 0;
        if (ocl.clWaitForEvents(1, &event) == CL_SUCCESS &&
            ocl.clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, sizeof(start), &start,
                                        NULL) == CL_SUCCESS &&
            ocl.clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, sizeof(end), &end, NULL) ==
                CL_SUCCESS)
            host->log(XHAL_LOG_INFO, "profile: %s over %zu x %zu x %zu: %.3f ms", name, global[0],
                      dims > 1 ? global[1] : 1, dims > 2 ? global[2] : 1,
                      (double)(end - start) * 1e-6);
        ocl.clReleaseEvent(event);
    }
    if (host->log_enabled(XHAL_LOG_DEBUG))
        host->log(XHAL_LOG_DEBUG, "launched %s over %zu x %zu x %zu", name, global[0],
                  dims > 1 ? global[1] : 1, dims > 2 ? global[2] : 1);
    return XHAL_OK;
}

void ocl_kernels_release(xhal_be_stream_t *stream) {
    for (int f = 0; f < OCL_FAMILY_COUNT; f++)
        for (int t = 0; t < OCL_VARIANTS; t++)
            if (stream->kernels[f][t]) ocl.clReleaseKernel(stream->kernels[f][t]);
}
