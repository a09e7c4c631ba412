/*
 * The OpenCL backend's entry point and lifecycle: init loads the ICD loader and lists every
 * device of every platform that xhal can drive (OpenCL 1.2 or later, with a compiler); shutdown
 * forgets them. Start reading at ocl_internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_cpu.h"
#include "ocl_internal.h"
#include "ocl_peaks.h"

/* "OpenCL 1.2 ..." -> 102; 0 when the string does not start that way. */
static int parse_version(const char *text) {
    int major = 0, minor = 0;
    if (sscanf(text, "OpenCL %d.%d", &major, &minor) != 2) return 0;
    return major * 100 + minor;
}

/* Appends "; <text>" (or <text> first) to reasons[size], cutting it short when full. */
static void add_reason(char *reasons, size_t size, const char *text) {
    size_t used = strlen(reasons);
    if (used && used + 2 < size) {
        memcpy(reasons + used, "; ", 3);
        used += 2;
    }
    ocl_copy_string(reasons + used, size - used, text);
}

/*
 * Adds the usable devices of one platform to state->found. A device is skipped, with the reason
 * kept in reasons[], when it is older than OpenCL 1.2 (xhal uses clEnqueueFillBuffer and
 * markers with wait lists) or has no compiler (the kernels are built from source).
 */
static xhal_status_t add_platform(xhal_be_state_t *state, cl_platform_id platform, char *reasons,
                                  size_t reasons_size) {
    const xhal_host_api_t *host = state->host;
    char name[128], version[128], text[512];
    ocl_platform_string(platform, CL_PLATFORM_NAME, name, sizeof(name));
    ocl_platform_string(platform, CL_PLATFORM_VERSION, version, sizeof(version));
    if (parse_version(version) < 102) {
        snprintf(text, sizeof(text), "platform %s is \"%s\", older than OpenCL 1.2", name, version);
        add_reason(reasons, reasons_size, text);
        return XHAL_OK;
    }
    cl_uint count = 0;
    cl_int err = ocl.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, NULL, &count);
    if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && count == 0)) {
        snprintf(text, sizeof(text), "platform %s has no device", name);
        add_reason(reasons, reasons_size, text);
        return XHAL_OK;
    }
    if (err != CL_SUCCESS)
        return ocl_fail(host, err, "clGetDeviceIDs", "devices of platform %s", name);
    cl_device_id *devices = calloc(count, sizeof(*devices));
    ocl_found_device_t *grown = realloc(state->found, (state->count + count) * sizeof(*grown));
    if (!devices || !grown) {
        free(devices);
        if (grown) state->found = grown;
        return host->set_error(XHAL_OUT_OF_MEMORY, "opencl: out of host memory listing devices");
    }
    state->found = grown;
    err = ocl.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, count, devices, NULL);
    if (err != CL_SUCCESS) {
        free(devices);
        return ocl_fail(host, err, "clGetDeviceIDs", "devices of platform %s", name);
    }
    for (cl_uint i = 0; i < count; i++) {
        char device_name[128], device_version[128];
        ocl_device_string(devices[i], CL_DEVICE_NAME, device_name, sizeof(device_name));
        ocl_device_string(devices[i], CL_DEVICE_VERSION, device_version, sizeof(device_version));
        cl_bool compiler = CL_FALSE;
        ocl.clGetDeviceInfo(devices[i], CL_DEVICE_COMPILER_AVAILABLE, sizeof(compiler), &compiler,
                            NULL);
        if (parse_version(device_version) < 102 || !compiler) {
            snprintf(text, sizeof(text), "device %s (%s) %s", device_name, device_version,
                     compiler ? "is older than OpenCL 1.2" : "has no OpenCL C compiler");
            add_reason(reasons, reasons_size, text);
            host->log(XHAL_LOG_INFO, "skipping %s", text);
            continue;
        }
        state->found[state->count].platform = platform;
        state->found[state->count].device = devices[i];
        state->count++;
    }
    free(devices);
    return XHAL_OK;
}

static xhal_status_t ocl_init(const xhal_host_api_t *host, xhal_be_state_t **out_state) {
    xhal_status_t status = ocl_load_library(host);
    if (status != XHAL_OK) return status;
    /* Before clGetPlatformIDs starts the ICD's threads: see ocl_peaks.c. */
    double host_ghz = host_cpu_measure_ghz();

    cl_uint platform_count = 0;
    cl_int err = ocl.clGetPlatformIDs(0, NULL, &platform_count);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && platform_count == 0)) {
        /* ocl-icd says -1001 when no ICD file names a loadable driver. */
        const char *vendors = xhal_host_option(host, "OCL_ICD_VENDORS");
        return host->set_error(
            XHAL_UNAVAILABLE,
            "no OpenCL platform is installed (clGetPlatformIDs returned %s): install an ICD such "
            "as pocl-opencl-icd%s%s%s",
            err == CL_SUCCESS ? "no platform" : "CL_PLATFORM_NOT_FOUND_KHR",
            vendors ? "; the loader looked in OCL_ICD_VENDORS=" : "", vendors ? vendors : "",
            vendors ? "" : " (the loader reads /etc/OpenCL/vendors/*.icd)");
    }
    if (err != CL_SUCCESS) return ocl_fail(host, err, "clGetPlatformIDs", "counting platforms");

    cl_platform_id *platforms = calloc(platform_count, sizeof(*platforms));
    xhal_be_state_t *state = calloc(1, sizeof(*state));
    if (!platforms || !state) {
        free(platforms);
        free(state);
        return host->set_error(XHAL_OUT_OF_MEMORY, "opencl: out of host memory at init");
    }
    state->host = host;
    state->host_ghz = host_ghz;
    err = ocl.clGetPlatformIDs(platform_count, platforms, NULL);
    if (err != CL_SUCCESS) {
        status = ocl_fail(host, err, "clGetPlatformIDs", "listing %u platforms", platform_count);
        goto fail;
    }
    char reasons[400] = "";
    for (cl_uint i = 0; i < platform_count; i++) {
        status = add_platform(state, platforms[i], reasons, sizeof(reasons));
        if (status != XHAL_OK) goto fail;
    }
    if (state->count == 0) {
        status = host->set_error(XHAL_UNAVAILABLE,
                                 "OpenCL has %u platform(s) but no device xhal can use: %s",
                                 platform_count, reasons);
        goto fail;
    }
    free(platforms);
    host->log(XHAL_LOG_INFO, "%u OpenCL device(s) on %u platform(s)", state->count, platform_count);
    *out_state = state;
    return XHAL_OK;

fail:
    free(platforms);
    free(state->found);
    free(state);
    return status;
}

static void ocl_shutdown(xhal_be_state_t *state) {
    if (!state) return;
    free(state->found);
    free(state);
}

uint32_t ocl_device_count(xhal_be_state_t *state) {
    return state->count;
}

static const xhal_backend_api_t ocl_backend_api = {
    .struct_size = sizeof(xhal_backend_api_t),
    .abi_major = XHAL_BACKEND_ABI_MAJOR,
    .abi_minor = XHAL_BACKEND_ABI_MINOR,
    .name = "opencl",

    .init = ocl_init,
    .shutdown = ocl_shutdown,

    .device_count = ocl_device_count,
    .device_open = ocl_device_open,
    .device_close = ocl_device_close,
    .device_info = ocl_device_info,

    .buffer_alloc = ocl_buffer_alloc,
    .buffer_free = ocl_buffer_free,
    .buffer_host_pointer = ocl_buffer_host_pointer,

    .stream_create = ocl_stream_create,
    .stream_destroy = ocl_stream_destroy,
    .stream_synchronize = ocl_stream_synchronize,

    .event_create = ocl_event_create,
    .event_destroy = ocl_event_destroy,
    .event_record = ocl_event_record,
    .stream_wait_event = ocl_stream_wait_event,
    .event_synchronize = ocl_event_synchronize,
    .event_elapsed_ms = ocl_event_elapsed_ms,

    .copy_h2d = ocl_copy_h2d,
    .copy_d2h = ocl_copy_d2h,
    .copy_d2d = ocl_copy_d2d,
    .fill = ocl_fill,

    .gemm_supports = ocl_gemm_supports,
    .gemm = ocl_gemm,
    .attention_supports = ocl_attention_supports,
    .attention = ocl_attention,
    .attention_merge_supports = ocl_attention_merge_supports,
    .attention_merge = ocl_attention_merge,
};

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
    return &ocl_backend_api;
}
