/*
 * The CPU backend's entry point: the table of functions the core calls (see xhal_backend.h).
 *
 * The CPU backend is linked into libxhal, so the core reaches it through xhal_cpu_backend_entry
 * instead of dlsym(XHAL_BACKEND_ENTRY_NAME); otherwise it is a backend like any plugin. It is
 * the reference for a port to another CPU-like target; a GPU port starts from backends/null/
 * (docs/PORTING.md). Start reading at cpu_internal.h.
 */
#include <errno.h>
#include <stdlib.h>

#include "builtin_backends.h"
#include "cpu_internal.h"
#include "isa.h"

/* The most the kernels may use: XHAL_CPU_ISA lowers what the processor has (isa.h). */
static void limit_isa(const xhal_host_api_t *host) {
    const char *wanted = xhal_host_option(host, "XHAL_CPU_ISA");
    xk_isa_t limit = XK_ISA_AVX512;
    if (wanted && !xk_isa_parse(wanted, &limit)) {
        host->log(XHAL_LOG_WARN,
                  "XHAL_CPU_ISA=%s is not avx512, avx2 or generic; using the best the CPU has",
                  wanted);
        limit = XK_ISA_AVX512;
    }
    xk_isa_set_limit(limit);
}

/*
 * There is nothing to load for the CPU: init keeps the host's services, which every object
 * reaches through its device (device->host) to report errors and log, and applies XHAL_CPU_ISA.
 */
static xhal_status_t cpu_init(const xhal_host_api_t *host, xhal_be_state_t **out_state) {
    xhal_be_state_t *state = calloc(1, sizeof(*state));
    if (!state)
        return host->set_error(XHAL_OUT_OF_MEMORY,
                               "cpu: calloc of %zu bytes for the backend failed", sizeof(*state));
    limit_isa(host);
    state->host = host;
    *out_state = state;
    return XHAL_OK;
}

static void cpu_shutdown(xhal_be_state_t *state) {
    free(state);
}

const char *cpu_errno_name(int error) {
    switch (error) {
    case EAGAIN:
        return "EAGAIN";
    case ENOMEM:
        return "ENOMEM";
    case EINVAL:
        return "EINVAL";
    case EPERM:
        return "EPERM";
    case EBUSY:
        return "EBUSY";
    default:
        return "an unknown error";
    }
}

static const xhal_backend_api_t cpu_backend_api = {
    .struct_size = sizeof(xhal_backend_api_t),
    .abi_major = XHAL_BACKEND_ABI_MAJOR,
    .abi_minor = XHAL_BACKEND_ABI_MINOR,
    .name = "cpu",

    .init = cpu_init,
    .shutdown = cpu_shutdown,

    .device_count = cpu_device_count,
    .device_open = cpu_device_open,
    .device_close = cpu_device_close,
    .device_info = cpu_device_info,

    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .buffer_host_pointer = cpu_buffer_host_pointer,

    .stream_create = cpu_stream_create,
    .stream_destroy = cpu_stream_destroy,
    .stream_synchronize = cpu_stream_synchronize,

    .event_create = cpu_event_create,
    .event_destroy = cpu_event_destroy,
    .event_record = cpu_event_record,
    .stream_wait_event = cpu_stream_wait_event,
    .event_synchronize = cpu_event_synchronize,
    .event_elapsed_ms = cpu_event_elapsed_ms,

    .copy_h2d = cpu_copy_h2d,
    .copy_d2h = cpu_copy_d2h,
    .copy_d2d = cpu_copy_d2d,
    .fill = cpu_fill,

    .gemm_supports = cpu_gemm_supports,
    .gemm = cpu_gemm,
    .attention_supports = cpu_attention_supports,
    .attention = cpu_attention,
    .attention_merge_supports = cpu_attention_merge_supports,
    .attention_merge = cpu_attention_merge,
};

const xhal_backend_api_t *xhal_cpu_backend_entry(void) {
    return &cpu_backend_api;
}
