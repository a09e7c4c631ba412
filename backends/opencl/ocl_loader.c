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
 * XHAL_OPENCL_LIBRARY names another loader (a path or a soname) to use instead.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ocl_internal.h"

ocl_api_t ocl;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static void *library;

/* The names the loader goes by: the versioned one is what a runtime package installs. */
static const char *const library_names[] = {"libOpenCL.so.1", "libOpenCL.so"};

xhal_status_t ocl_load_library(const xhal_host_api_t *host) {
    xhal_status_t status = XHAL_OK;
    pthread_mutex_lock(&load_lock);
    if (library) goto done;

    const char *chosen = getenv("XHAL_OPENCL_LIBRARY");
    const char *const *names = library_names;
    size_t count = sizeof(library_names) / sizeof(library_names[0]);
    if (chosen && *chosen) {
        names = &chosen;
        count = 1;
    }
    char first_error[256] = "";
    for (size_t i = 0; i < count && !library; i++) {
        dlerror();
        library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        const char *why = dlerror();
        if (!library && i == 0) ocl_copy_string(first_error, sizeof(first_error), why ? why : "");
    }
    if (!library) {
        status = host->set_error(XHAL_UNAVAILABLE,
                                 "the OpenCL ICD loader %s was not found (%s): install it (Debian: "
                                 "ocl-icd-libopencl1) and a driver such as pocl-opencl-icd",
                                 names[0], first_error);
        goto done;
    }

    ocl_api_t api;
    memset(&api, 0, sizeof(api));
    /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
#define OCL_RESOLVE(name)                                                                          \
    {                                                                                              \
        void *symbol = dlsym(library, #name);                                                      \
        if (!symbol) {                                                                             \
            status = host->set_error(XHAL_UNAVAILABLE,                                             \
                                     "the OpenCL ICD loader %s lacks " #name                       \
                                     ", which every OpenCL 1.2 loader has",                        \
                                     names[0]);                                                    \
            dlclose(library);                                                                      \
            library = NULL;                                                                        \
            goto done;                                                                             \
        }                                                                                          \
        memcpy(&api.name, &symbol, sizeof(api.name));                                              \
    }
    OCL_ENTRY_POINTS(OCL_RESOLVE)
#undef OCL_RESOLVE
    ocl = api;

done:
    pthread_mutex_unlock(&load_lock);
    return status;
}
