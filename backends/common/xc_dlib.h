/*
 * A vendor runtime opened with dlopen and its entry points resolved into a table, so that a
 * plugin has no link dependency on the runtime: it loads on machines without it and says why
 * it has no device instead of being refused by the dynamic loader with a message nobody sees.
 *
 * The table is a struct of function pointers declared from the vendor's header (so a mismatch
 * cannot compile), described by an array of {symbol name, offset} pairs; see the X-macros in
 * backends/cuda/cuda_internal.h and backends/opencl/ocl_internal.h.
 */
#ifndef XHAL_BACKENDS_COMMON_XC_DLIB_H
#define XHAL_BACKENDS_COMMON_XC_DLIB_H

#include <stddef.h>

#include "xhal/xhal_backend.h"

typedef struct xc_symbol {
    const char *name; /* as dlsym looks it up: "cuMemAlloc_v2" */
    size_t offset;    /* of its pointer in the table */
} xc_symbol_t;

typedef struct xc_dlib_spec {
    const char *what;         /* "the CUDA driver", "the OpenCL ICD loader" */
    const char *const *names; /* files tried in order ("libcuda.so.1") */
    size_t name_count;
    const xc_symbol_t *symbols;
    size_t symbol_count;
    const char *install_hint; /* said when no file loads: "install the NVIDIA driver" */
    const char *old_hint;     /* said when a symbol is missing: "the driver is too old ..." */
    /*
     * Non-zero: opened with RTLD_NODELETE, so dlclose never unloads it. For a runtime whose
     * constructors allocate what its destructors do not free: reloaded at every xhal_init, it
     * would leak each time (valgrind sees ROCm 5.2's libamdhip64 do so).
     */
    int keep_loaded;
} xc_dlib_spec_t;

/*
 * Opens the first file of spec->names that loads (RTLD_NOW | RTLD_LOCAL) and stores every
 * symbol's address into `table`. On success *out_library is the handle (dlclose it, or keep it
 * for the life of the process). Otherwise UNAVAILABLE through host->set_error:
 *   "<what> <first name> was not found (<dlerror>): <install_hint>"
 *   "<what> <file> lacks <symbol>: <old_hint>"
 * with nothing left open.
 */
xhal_status_t xc_dlib_open(const xhal_host_api_t *host, const xc_dlib_spec_t *spec, void *table,
                           void **out_library);

#endif
