/*
 * The ICD loader (libOpenCL.so.1, Debian's ocl-icd) is opened with dlopen at init rather than
 * linked, so that the plugin itself always loads: on a machine without OpenCL, init reports
 * UNAVAILABLE with the library's name, which `xhal devices` shows, instead of the dynamic
 * loader refusing the plugin with a message nobody sees.
 *
 * The library is opened once per process and never closed: ICDs such as PoCL start threads and
 * register exit handlers, and unloading them under their own threads crashes. dlopen keeps its
 * own count, so a second xhal_init() after xhal_shutdown() finds the same handle.
 *
 * XHAL_OPENCL_LIBRARY names another loader (a path or a soname) to use instead. The table of
 * entry points is filled by backends/common/xc_dlib.c, as the CUDA backend's is.
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "ocl_internal.h"
#include "xc_dlib.h"

ocl_api_t ocl;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static void *library;

/* The names the loader goes by: the versioned one is what a runtime package installs. */
static const char *const library_names[] = {"libOpenCL.so.1", "libOpenCL.so"};

static const xc_symbol_t symbols[] = {
#define OCL_SYMBOL(name) {#name, offsetof(ocl_api_t, name)},
    OCL_ENTRY_POINTS(OCL_SYMBOL)
#undef OCL_SYMBOL
};

xhal_status_t ocl_load_library(const xhal_host_api_t *host) {
    xhal_status_t status = XHAL_OK;
    pthread_mutex_lock(&load_lock);
    if (!library) {
        const char *chosen = xhal_host_option(host, "XHAL_OPENCL_LIBRARY");
        xc_dlib_spec_t spec = {
            .what = "the OpenCL ICD loader",
            .names = chosen ? &chosen : library_names,
            .name_count = chosen ? 1 : sizeof(library_names) / sizeof(library_names[0]),
            .symbols = symbols,
            .symbol_count = sizeof(symbols) / sizeof(symbols[0]),
            .install_hint = "install it (Debian: ocl-icd-libopencl1) and a driver such as "
                            "pocl-opencl-icd",
            .old_hint = "every OpenCL 1.2 loader has it",
        };
        ocl_api_t api;
        memset(&api, 0, sizeof(api));
        status = xc_dlib_open(host, &spec, &api, &library);
        if (status == XHAL_OK) ocl = api;
    }
    pthread_mutex_unlock(&load_lock);
    return status;
}
