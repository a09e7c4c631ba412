/*
 * The Level Zero backend's entry point and lifecycle. init loads the loader, calls zeInit once
 * per process and lists the GPU devices of every driver; shutdown forgets them.
 *
 * zeInit is called at most once per process, and nothing is called after it fails: with
 * Debian's intel-opencl-icd installed and no Intel GPU, zeInit fails and a later zeDriverGet
 * crashes inside the loader. The failure is remembered, and every later init answers with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lz_internal.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_done;           /* zeInit has been called */
static ze_result_t init_result; /* what it returned */

/* zeInit, once per process; its result. */
static ze_result_t init_once(void) {
    pthread_mutex_lock(&init_lock);
    if (!init_done) {
        init_result = lz.zeInit(ZE_INIT_FLAG_GPU_ONLY);
        init_done = 1;
    }
    ze_result_t result = init_result;
    pthread_mutex_unlock(&init_lock);
    return result;
}

/* Adds the devices of one driver to state->found. */
static xhal_status_t add_driver(xhal_be_state_t *state, ze_driver_handle_t driver) {
    const xhal_host_api_t *host = state->host;
    uint32_t count = 0;
    ze_result_t result = lz.zeDeviceGet(driver, &count, NULL);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeDeviceGet", "counting devices");
    if (count == 0) return XHAL_OK;
    ze_device_handle_t *devices = calloc(count, sizeof(ze_device_handle_t));
    lz_found_device_t *grown = realloc(state->found, (state->count + count) * sizeof(*grown));
    if (!devices || !grown) {
        free(devices);
        if (grown) state->found = grown;
        return host->set_error(XHAL_OUT_OF_MEMORY, "levelzero: out of host memory listing devices");
    }
    state->found = grown;
    result = lz.zeDeviceGet(driver, &count, devices);
    if (result != ZE_RESULT_SUCCESS) {
        free(devices);
        return lz_fail(host, result, "zeDeviceGet", "listing %u devices", count);
    }
    for (uint32_t i = 0; i < count; i++) {
        state->found[state->count].driver = driver;
        state->found[state->count].device = devices[i];
        state->count++;
    }
    free(devices);
    return XHAL_OK;
}

static xhal_status_t lz_init(const xhal_host_api_t *host, xhal_be_state_t **out_state) {
    xhal_status_t status = lz_load_library(host);
    if (status != XHAL_OK) return status;
    ze_result_t result = init_once();
    if (result != ZE_RESULT_SUCCESS)
        return host->set_error(
            XHAL_UNAVAILABLE,
            "no Level Zero GPU driver is usable: zeInit returned %s (0x%x); install Intel's GPU "
            "driver (intel-level-zero-gpu) on a machine with an Intel GPU",
            lz_result_name(result), (unsigned)result);

    uint32_t driver_count = 0;
    result = lz.zeDriverGet(&driver_count, NULL);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeDriverGet", "counting drivers");
    if (driver_count == 0)
        return host->set_error(XHAL_UNAVAILABLE, "Level Zero has no driver (zeDriverGet found 0)");
    ze_driver_handle_t *drivers = calloc(driver_count, sizeof(ze_driver_handle_t));
    xhal_be_state_t *state = calloc(1, sizeof(*state));
    if (!drivers || !state) {
        free(drivers);
        free(state);
        return host->set_error(XHAL_OUT_OF_MEMORY, "levelzero: out of host memory at init");
    }
    state->host = host;
    result = lz.zeDriverGet(&driver_count, drivers);
    if (result != ZE_RESULT_SUCCESS) {
        status = lz_fail(host, result, "zeDriverGet", "listing %u drivers", driver_count);
        goto fail;
    }
    for (uint32_t i = 0; i < driver_count; i++) {
        status = add_driver(state, drivers[i]);
        if (status != XHAL_OK) goto fail;
    }
    if (state->count == 0) {
        status = host->set_error(XHAL_UNAVAILABLE, "Level Zero has %u driver(s) but no device",
                                 driver_count);
        goto fail;
    }
    free(drivers);
    host->log(XHAL_LOG_INFO, "%u Level Zero device(s) on %u driver(s)", state->count, driver_count);
    *out_state = state;
    return XHAL_OK;

fail:
    free(drivers);
    free(state->found);
    free(state);
    return status;
}

static void lz_shutdown(xhal_be_state_t *state) {
    if (!state) return;
    free(state->found);
    free(state);
}

static uint32_t lz_device_count(xhal_be_state_t *state) {
    return state->count;
}

static const xhal_backend_api_t lz_backend_api = {
    .struct_size = sizeof(xhal_backend_api_t),
    .abi_major = XHAL_BACKEND_ABI_MAJOR,
    .abi_minor = XHAL_BACKEND_ABI_MINOR,
    .name = "levelzero",

    .init = lz_init,
    .shutdown = lz_shutdown,

    .device_count = lz_device_count,
    .device_open = lz_device_open,
    .device_close = lz_device_close,
    .device_info = lz_device_info,

    .buffer_alloc = lz_buffer_alloc,
    .buffer_free = lz_buffer_free,
    .buffer_host_pointer = lz_buffer_host_pointer,

    .stream_create = lz_stream_create,
    .stream_destroy = lz_stream_destroy,
    .stream_synchronize = lz_stream_synchronize,

    .event_create = lz_event_create,
    .event_destroy = lz_event_destroy,
    .event_record = lz_event_record,
    .stream_wait_event = lz_stream_wait_event,
    .event_synchronize = lz_event_synchronize,
    .event_elapsed_ms = lz_event_elapsed_ms,

    .copy_h2d = lz_copy_h2d,
    .copy_d2h = lz_copy_d2h,
    .copy_d2d = lz_copy_d2d,
    .fill = lz_fill,

    /* The dispatch of the OpenCL C kernels (backends/opencl/ocl_ops.h). */
    .gemm_supports = ocl_gemm_supports,
    .gemm = ocl_gemm,
    .attention_supports = ocl_attention_supports,
    .attention = ocl_attention,
    .attention_merge_supports = ocl_attention_merge_supports,
    .attention_merge = ocl_attention_merge,
};

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
    return &lz_backend_api;
}
