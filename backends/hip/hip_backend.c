/*
 * The HIP backend: a plugin (libxhal-hip.so) over the HIP runtime of ROCm, which it loads with
 * dlopen at init. Kernels are compiled by hipcc at build time into one code object per gfx
 * target the compiler knows, embedded in the plugin; a GPU of another target gets its code
 * object from the system's hiprtc at first use, cached on disk. Start reading at hip_internal.h.
 */
#include <stdlib.h>

#include "hip_internal.h"

static xhal_status_t hip_init(const xhal_host_api_t *host, xhal_be_state_t **out_state) {
    xhal_be_state_t *state = calloc(1, sizeof(*state));
    if (!state)
        return host->set_error(XHAL_OUT_OF_MEMORY, "hip: calloc of %zu bytes failed",
                               sizeof(*state));
    state->host = host;
    hip_options_read(host, &state->options);
    xhal_status_t status = hip_runtime_load(&state->rt, &state->options, host);
    if (status != XHAL_OK) {
        free(state);
        return status;
    }
    const hip_runtime_t *rt = &state->rt;
    hip_error_t e = rt->hipInit(0);
    if (e != HIP_SUCCESS) {
        /* ROCm reports a machine without a usable AMD GPU (no /dev/kfd, no permission on it,
         * or no supported GPU) as hipErrorInvalidDevice or hipErrorNoDevice here. */
        status = host->set_error(XHAL_UNAVAILABLE,
                                 "hipInit failed: %s (%s, HIP runtime %d.%d): no usable AMD GPU "
                                 "(no /dev/kfd, no access to it, or no GPU ROCm supports)",
                                 hip_error_text(rt, e), rt->file, rt->version / 10000000,
                                 rt->version / 100000 % 100);
    } else if ((e = rt->hipGetDeviceCount(&state->device_count)) != HIP_SUCCESS) {
        status = host->set_error(XHAL_UNAVAILABLE, "hipGetDeviceCount failed: %s: no AMD GPU",
                                 hip_error_text(rt, e));
    } else if (state->device_count <= 0) {
        status = host->set_error(XHAL_UNAVAILABLE, "the HIP runtime found no AMD GPU");
    }
    if (status != XHAL_OK) {
        hip_runtime_unload(&state->rt);
        free(state);
        return status;
    }
    pthread_mutex_init(&state->rtc_lock, NULL);
    state->rtc.known_count = -1;
    xc_cache_open(&state->cache, host, "hip"); /* off (dir "") when XHAL_HIP_CACHE=0 */
    *out_state = state;
    return XHAL_OK;
}

static void hip_shutdown(xhal_be_state_t *state) {
    hip_rtc_unload(&state->rtc);
    hip_runtime_unload(&state->rt);
    pthread_mutex_destroy(&state->rtc_lock);
    free(state);
}

static const xhal_backend_api_t hip_backend_api = {
    .struct_size = sizeof(xhal_backend_api_t),
    .abi_major = XHAL_BACKEND_ABI_MAJOR,
    .abi_minor = XHAL_BACKEND_ABI_MINOR,
    .name = "hip",

    .init = hip_init,
    .shutdown = hip_shutdown,

    .device_count = hip_device_count,
    .device_open = hip_device_open,
    .device_close = hip_device_close,
    .device_info = hip_device_info,

    .buffer_alloc = hip_buffer_alloc,
    .buffer_free = hip_buffer_free,
    .buffer_host_pointer = hip_buffer_host_pointer,

    .stream_create = hip_stream_create,
    .stream_destroy = hip_stream_destroy,
    .stream_synchronize = hip_stream_synchronize,

    .event_create = hip_event_create,
    .event_destroy = hip_event_destroy,
    .event_record = hip_event_record,
    .stream_wait_event = hip_stream_wait_event,
    .event_synchronize = hip_event_synchronize,
    .event_elapsed_ms = hip_event_elapsed_ms,

    .copy_h2d = hip_copy_h2d,
    .copy_d2h = hip_copy_d2h,
    .copy_d2d = hip_copy_d2d,
    .fill = hip_fill,

    .gemm_supports = hip_gemm_supports,
    .gemm = hip_gemm,
    .attention_supports = hip_attention_supports,
    .attention = hip_attention,
    .attention_merge_supports = hip_attention_merge_supports,
    .attention_merge = hip_attention_merge,
};

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
    return &hip_backend_api;
}
