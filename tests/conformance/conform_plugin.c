/*
 * Test-only backends for the conformance tests: the CPU backend's sources built into a plugin
 * (as tests/plugins/cpu2_plugin.c does), with one thing changed.
 *
 *   CONFORM_MODE_CORRUPT  "conformbad": an f32 GEMM with more than 4096 rows gets one output
 *                         element (the last of the last batch) off by 1.0 after it ran, as a
 *                         kernel with a bug in its row tail would. `xhal conform` must name the
 *                         one case that has such a shape (gemm f32 m4097-tail) as failed.
 *   CONFORM_MODE_NAMED    "conformnamed": the device calls itself "NVIDIA H100 PCIe" and reports
 *                         only its f32 peak, so that the core fills the rest from devices.ini.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin_backends.h"
#include "cpu_internal.h"

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void);

#if defined(CONFORM_MODE_CORRUPT)

static void corrupt(xhal_be_stream_t *stream, void *payload) {
    (void)stream;
    float *element;
    memcpy(&element, payload, sizeof element);
    *element += 1.0f;
}

static xhal_status_t corrupting_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                                     const xhal_be_gemm_buffers_t *buffers) {
    int target = desc->a_type == XHAL_DTYPE_F32 && desc->b_type == XHAL_DTYPE_F32 &&
                 desc->c_type == XHAL_DTYPE_F32 && desc->m > 4096;
    /* Allocated before the GEMM is queued, so that a failure leaves nothing half done. */
    cpu_command_t *command =
        target ? cpu_command_new(stream, corrupt, "corrupt", sizeof(float *)) : NULL;
    if (target && !command) return XHAL_OUT_OF_MEMORY;
    xhal_status_t status = cpu_gemm(stream, desc, buffers);
    if (status != XHAL_OK || !command) {
        if (command) free(command);
        return status;
    }
    int64_t last = (desc->batch - 1) * desc->stride_c + (desc->m - 1) * desc->ldc + desc->n - 1;
    float *element = (float *)((char *)buffers->c->data + desc->c_offset) + last;
    memcpy(command->payload, &element, sizeof element);
    /* The stream runs commands in order: this one runs after the GEMM has written C. */
    cpu_stream_push(stream, command);
    return XHAL_OK;
}

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
    static xhal_backend_api_t api;
    api = *xhal_cpu_backend_entry();
    api.name = "conformbad";
    api.gemm = corrupting_gemm;
    return &api;
}

#elif defined(CONFORM_MODE_NAMED)

static xhal_status_t named_info(xhal_be_device_t *device, xhal_device_info_t *out) {
    xhal_status_t status = cpu_device_info(device, out);
    if (status != XHAL_OK) return status;
    snprintf(out->name, sizeof out->name, "NVIDIA H100 PCIe");
    out->peak_flops[XHAL_DTYPE_F16] = 0;
    out->peak_flops[XHAL_DTYPE_BF16] = 0;
    out->peak_bandwidth = 0;
    return XHAL_OK;
}

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
    static xhal_backend_api_t api;
    api = *xhal_cpu_backend_entry();
    api.name = "conformnamed";
    api.device_info = named_info;
    return &api;
}

#else
#error "define CONFORM_MODE_CORRUPT or CONFORM_MODE_NAMED"
#endif
