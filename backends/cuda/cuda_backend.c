/*
 * The CUDA backend: a plugin (libxhal-cuda.so) over the CUDA driver API, which it loads with
 * dlopen at init. Kernels are compiled by nvcc at build time into two fatbins embedded in the
 * plugin (kernels/gpu for sm_80, sm_89, sm_90a and PTX for newer GPUs; kernels/cuda for sm_90a)
 * and loaded with cuModuleLoadData at device open. Start reading at cuda_internal.h.
 */
#include <stdlib.h>

#include "cuda_internal.h"

static xhal_status_t cuda_init(const xhal_host_api_t *host, xhal_be_state_t **out_state) {
    xhal_be_state_t *state = calloc(1, sizeof(*state));
    if (!state)
        return host->set_error(XHAL_OUT_OF_MEMORY, "cuda: calloc of %zu bytes failed",
                               sizeof(*state));
    state->host = host;
    xhal_status_t status = cuda_driver_load(&state->driver, host);
    if (status != XHAL_OK) {
        free(state);
        return status;
    }
    const cuda_driver_t *d = &state->driver;
    CUresult r = d->cuInit(0);
    if (r != CUDA_SUCCESS) {
        status = host->set_error(XHAL_UNAVAILABLE,
                                 "cuInit failed: %s (the NVIDIA driver cannot reach a GPU)",
                                 cuda_error_name(d, r));
    } else if ((r = d->cuDeviceGetCount(&state->device_count)) != CUDA_SUCCESS) {
        status =
            host->set_error(XHAL_UNAVAILABLE, "cuDeviceGetCount failed: %s", cuda_error_name(d, r));
    } else if (state->device_count <= 0) {
        status = host->set_error(XHAL_UNAVAILABLE, "the NVIDIA driver found no CUDA device");
    } else if (d->cuDriverGetVersion(&state->driver.version) != CUDA_SUCCESS) {
        state->driver.version = 0;
    }
    if (status != XHAL_OK) {
        cuda_driver_unload(&state->driver);
        free(state);
        return status;
    }
    *out_state = state;
    return XHAL_OK;
}

static void cuda_shutdown(xhal_be_state_t *state) {
    cuda_driver_unload(&state->driver);
    free(state);
}

static const xhal_backend_api_t cuda_backend_api = {
    .struct_size = sizeof(xhal_backend_api_t),
    .abi_major = XHAL_BACKEND_ABI_MAJOR,
    .abi_minor = XHAL_BACKEND_ABI_MINOR,
    .name = "cuda",

    .init = cuda_init,
    .shutdown = cuda_shutdown,

    .device_count = cuda_device_count,
    .device_open = cuda_device_open,
    .device_close = cuda_device_close,
    .device_info = cuda_device_info,

    .buffer_alloc = cuda_buffer_alloc,
    .buffer_free = cuda_buffer_free,
    .buffer_host_pointer = cuda_buffer_host_pointer,

    .stream_create = cuda_stream_create,
    .stream_destroy = cuda_stream_destroy,
    .stream_synchronize = cuda_stream_synchronize,

    .event_create = cuda_event_create,
    .event_destroy = cuda_event_destroy,
    .event_record = cuda_event_record,
    .stream_wait_event = cuda_stream_wait_event,
    .event_synchronize = cuda_event_synchronize,
    .event_elapsed_ms = cuda_event_elapsed_ms,

    .copy_h2d = cuda_copy_h2d,
    .copy_d2h = cuda_copy_d2h,
    .copy_d2d = cuda_copy_d2d,
    .fill = cuda_fill,

    .gemm_supports = cuda_gemm_supports,
    .gemm = cuda_gemm,
    .attention_supports = cuda_attention_supports,
    .attention = cuda_attention,
    .attention_merge_supports = cuda_attention_merge_supports,
    .attention_merge = cuda_attention_merge,
};

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
    return &cuda_backend_api;
}
