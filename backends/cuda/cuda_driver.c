/*
 * The CUDA driver API, loaded at run time. The plugin has no link dependency on libcuda, so it
 * loads everywhere; init then says precisely what is missing.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "xc_dlib.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x) /* expands cuda.h's renames first: "cuMemAlloc_v2" */

static const xc_symbol_t driver_symbols[] = {
#define CUDA_DRIVER_SYMBOL(fn) {STRINGIFY(fn), offsetof(cuda_driver_t, fn)},
    CUDA_DRIVER_FUNCTIONS(CUDA_DRIVER_SYMBOL)
#undef CUDA_DRIVER_SYMBOL
};

xhal_status_t cuda_driver_load(cuda_driver_t *driver, const xhal_host_api_t *host) {
    memset(driver, 0, sizeof(*driver));
    const char *file = xhal_host_option(host, "XHAL_CUDA_DRIVER");
    const char *names[1] = {file ? file : "libcuda.so.1"};
    const xc_dlib_spec_t spec = {
        .what = "the CUDA driver",
        .names = names,
        .name_count = 1,
        .symbols = driver_symbols,
        .symbol_count = sizeof driver_symbols / sizeof driver_symbols[0],
        .install_hint = "no NVIDIA driver is installed",
        .old_hint = "the NVIDIA driver is older than this plugin's CUDA toolkit (CUDA 13 needs "
                    "driver 580 or newer)",
    };
    return xc_dlib_open(host, &spec, driver, &driver->library);
}

void cuda_driver_unload(cuda_driver_t *driver) {
    if (driver->library) dlclose(driver->library);
    memset(driver, 0, sizeof(*driver));
}

const char *cuda_error_name(const cuda_driver_t *driver, CUresult result) {
    const char *name = NULL;
    if (driver->cuGetErrorName && driver->cuGetErrorName(result, &name) == CUDA_SUCCESS && name)
        return name;
    /* One buffer per thread: the name is used at once in a message. */
    static _Thread_local char text[32];
    snprintf(text, sizeof text, "CUDA error %d", (int)result);
    return text;
}

xhal_status_t cuda_fail(const xhal_be_device_t *device, CUresult result, const char *call) {
    xhal_status_t status = XHAL_DEVICE_ERROR;
    if (result == CUDA_ERROR_OUT_OF_MEMORY) status = XHAL_OUT_OF_MEMORY;
    return device->host->set_error(status, "cuda: %s failed: %s", call,
                                   cuda_error_name(device->driver, result));
}

xhal_status_t cuda_enter(const xhal_be_device_t *device) {
    CUresult r = device->driver->cuCtxSetCurrent(device->context);
    return r == CUDA_SUCCESS ? XHAL_OK : cuda_fail(device, r, "cuCtxSetCurrent");
}
