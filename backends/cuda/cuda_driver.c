/*
 * The CUDA driver API, loaded at run time. The plugin has no link dependency on libcuda, so it
 * loads everywhere; init then says precisely what is missing.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x) /* expands cuda.h's renames first: "cuMemAlloc_v2" */

typedef struct {
    const char *symbol;
    size_t offset;
} driver_symbol_t;

static const driver_symbol_t driver_symbols[] = {
#define CUDA_DRIVER_SYMBOL(fn) {STRINGIFY(fn), offsetof(cuda_driver_t, fn)},
    CUDA_DRIVER_FUNCTIONS(CUDA_DRIVER_SYMBOL)
#undef CUDA_DRIVER_SYMBOL
};

xhal_status_t cuda_driver_load(cuda_driver_t *driver, const xhal_host_api_t *host) {
    memset(driver, 0, sizeof(*driver));
    const char *file = cuda_env("XHAL_CUDA_DRIVER");
    if (!file) file = "libcuda.so.1";
    dlerror();
    driver->library = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!driver->library) {
        const char *why = dlerror();
        return host->set_error(XHAL_UNAVAILABLE, "%s not found (no NVIDIA driver): %s", file,
                               why ? why : "dlopen failed");
    }
    for (size_t i = 0; i < sizeof driver_symbols / sizeof driver_symbols[0]; i++) {
        /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
        void *symbol = dlsym(driver->library, driver_symbols[i].symbol);
        if (!symbol) {
            xhal_status_t status = host->set_error(
                XHAL_UNAVAILABLE,
                "%s lacks %s: the NVIDIA driver is older than this plugin's CUDA toolkit "
                "(CUDA 13 needs driver 580 or newer)",
                file, driver_symbols[i].symbol);
            cuda_driver_unload(driver);
            return status;
        }
        memcpy((char *)driver + driver_symbols[i].offset, &symbol, sizeof symbol);
    }
    return XHAL_OK;
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

const char *cuda_env(const char *name) {
    const char *value = getenv(name);
    return value && *value ? value : NULL;
}

xhal_status_t cuda_check_forced(const xhal_be_device_t *device, const char *variable,
                                const char *force, int refused, const char *chosen,
                                const char *op) {
    if (!refused || !cuda_env("XHAL_CUDA_STRICT")) return XHAL_OK;
    return device->host->set_error(XHAL_UNSUPPORTED,
                                   "cuda: %s=%s cannot run this %s (the %s kernel would)", variable,
                                   force, op, chosen);
}
