/*
 * Programs: the embedded kernel sources (kernels/opencl/common.cl followed by the op's file),
 * built per device with the device's tuned parameters as -D options, on first use.
 *
 * Devices that take SPIR-V (CL_DEVICE_IL_VERSION: Intel's runtimes; PoCL 3.1 has no IL) get
 * the program from the SPIR-V module compiled at build time for exactly these options
 * (cmake/xhal_spirv.cmake, ocl_spirv_modules[]) through clCreateProgramWithIL; a variant the
 * build did not compile (a user tuning, XHAL_OPENCL_BUILD_OPTIONS) is built from source, as is
 * everything with XHAL_OPENCL_SPIRV=0.
 *
 * Building from source takes PoCL 0.5-5 s, so the built binary is kept in the program cache of
 * backends/common/xc_cache.h (<user cache>/xhal/opencl/), keyed by a hash of everything that
 * changes it: the device's name, vendor, platform, version and driver, the options and the
 * source. A second process finds the binary and only links it (tens of ms). The cache checks
 * each entry's checksum before the runtime sees it (a damaged binary crashes PoCL), and writes
 * entries atomically and durably; an entry the runtime refuses anyway is removed and rebuilt
 * from source. Hits and misses are logged at XHAL_LOG=info.
 *
 * XHAL_OPENCL_CACHE=0 turns the cache off; XHAL_OPENCL_CACHE=/some/dir puts it there instead.
 * XHAL_OPENCL_BUILD_OPTIONS (read at device open) is appended to every program's options, and
 * so to its cache key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ocl_internal.h"
#include "xc_cache.h"

/* Bump when anything hashed implicitly (how options and sources are put together) changes. */
#define CACHE_FORMAT "xhal-opencl-cache-2"
#define CACHE_FROM_SPIRV "spirv" /* a fifth key part: the binary came from this SPIR-V module */
#define BUILD_LOG_MAX 2400       /* of xhal_last_error()'s 4096 characters */

/* Each program is common.cl followed by its parts (kernels/opencl/), as one source. */
#define PROGRAM_PARTS 3
static const struct {
    const char *name;
    const char *parts[PROGRAM_PARTS]; /* NULL past the last */
} program_sources[OCL_PROGRAM_COUNT] = {
    [OCL_PROGRAM_GEMM] = {"gemm", {ocl_source_gemm_epilogue, ocl_source_gemm, ocl_source_qgemm}},
    [OCL_PROGRAM_ATTENTION] = {"attention", {ocl_source_attention}},
    [OCL_PROGRAM_ATTENTION_MERGE] = {"attention_merge", {ocl_source_attention_merge}},
};

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The SPIR-V module the device takes for program `id` with `options`, or NULL (build source). */
static const xc_spirv_module_t *spirv_module(const xhal_be_device_t *device, ocl_program_id_t id,
                                             const char *options) {
#ifdef OCL_HAVE_SPIRV
    if (device->spirv)
        return xc_spirv_find(ocl_spirv_modules, ocl_spirv_modules_count, program_sources[id].name,
                             options);
#else
    (void)device, (void)id, (void)options;
#endif
    return NULL;
}

void ocl_program_origins(const xhal_be_device_t *device, char *out, size_t size) {
    size_t used = 0;
    out[0] = '\0';
    for (int id = 0; id < OCL_PROGRAM_COUNT && !device->build_options[0]; id++) {
        char options[768];
        ocl_program_options(&device->tuning, "", (ocl_program_id_t)id, options, sizeof(options));
        if (!spirv_module(device, (ocl_program_id_t)id, options)) continue;
        int n = snprintf(out + used, size - used, "%s%s",
                         used ? " " : "SPIR-V: ", program_sources[id].name);
        if (n < 0 || (size_t)n >= size - used) break;
        used += (size_t)n;
    }
    if (!used) snprintf(out, size, "source");
}

/* The cache key: every input that changes the binary (the module's bytes when from SPIR-V). */
static void cache_key(const xhal_be_device_t *device, ocl_program_id_t id, const char *options,
                      const xc_spirv_module_t *module, char out[XC_CACHE_KEY_CHARS + 1]) {
    char digest[17];
    const char *parts[5 + PROGRAM_PARTS] = {CACHE_FORMAT, device->identity, options};
    size_t count = 3;
    if (module) {
        xc_spirv_digest(module, digest);
        parts[count++] = CACHE_FROM_SPIRV;
        parts[count++] = digest;
    } else {
        parts[count++] = ocl_source_common;
        for (int i = 0; i < PROGRAM_PARTS && program_sources[id].parts[i]; i++)
            parts[count++] = program_sources[id].parts[i];
    }
    xc_cache_key(parts, count, out);
}

/* The program's binary for the device (one device per context), or NULL. */
static unsigned char *program_binary(cl_program program, size_t *out_size) {
    size_t size = 0;
    if (ocl.clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof(size), &size, NULL) !=
            CL_SUCCESS ||
        size == 0)
        return NULL;
    unsigned char *binary = malloc(size);
    if (!binary) return NULL;
    if (ocl.clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof(binary), &binary, NULL) !=
        CL_SUCCESS) {
        free(binary);
        return NULL;
    }
    *out_size = size;
    return binary;
}

static cl_program build_from_binary(xhal_be_device_t *device, const unsigned char *binary,
                                    size_t size, const char *options) {
    cl_int err = CL_SUCCESS, binary_status = CL_SUCCESS;
    cl_program program = ocl.clCreateProgramWithBinary(device->context, 1, &device->id, &size,
                                                       &binary, &binary_status, &err);
    if (!program || err != CL_SUCCESS || binary_status != CL_SUCCESS) {
        if (program) ocl.clReleaseProgram(program);
        return NULL;
    }
    if (ocl.clBuildProgram(program, 1, &device->id, options, NULL, NULL) != CL_SUCCESS) {
        ocl.clReleaseProgram(program);
        return NULL;
    }
    return program;
}

/* From the SPIR-V module when there is one, else from the embedded source. */
static xhal_status_t build_fresh(xhal_be_device_t *device, ocl_program_id_t id, const char *options,
                                 const xc_spirv_module_t *module, cl_program *out) {
    const xhal_host_api_t *host = device->host;
    cl_int err = CL_SUCCESS;
    cl_program program = NULL;
    if (module) {
        program = ocl_create_program_with_il(device->context, module->code, module->size, &err);
        if (!program || err != CL_SUCCESS)
            return ocl_fail(host, err, "clCreateProgramWithIL",
                            "the %s kernels (SPIR-V, %zu bytes)", program_sources[id].name,
                            module->size);
    } else {
        const char *sources[1 + PROGRAM_PARTS] = {ocl_source_common};
        cl_uint count = 1;
        for (int i = 0; i < PROGRAM_PARTS && program_sources[id].parts[i]; i++)
            sources[count++] = program_sources[id].parts[i];
        program = ocl.clCreateProgramWithSource(device->context, count, sources, NULL, &err);
        if (!program || err != CL_SUCCESS)
            return ocl_fail(host, err, "clCreateProgramWithSource", "the %s kernels",
                            program_sources[id].name);
    }
    /* The -D options are already in a module; the others (-cl-std) are harmless there. */
    err = ocl.clBuildProgram(program, 1, &device->id, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[BUILD_LOG_MAX + 1] = "";
        size_t length = 0;
        ocl.clGetProgramBuildInfo(program, device->id, CL_PROGRAM_BUILD_LOG, sizeof(log) - 1, log,
                                  &length);
        log[length < sizeof(log) ? length : sizeof(log) - 1] = '\0';
        ocl.clReleaseProgram(program);
        return host->set_error(XHAL_DEVICE_ERROR,
                               "opencl: clBuildProgram (the %s kernels from %s for %s, options "
                               "\"%s\") failed with %s (%d); build log:\n%s",
                               program_sources[id].name, module ? "SPIR-V" : "source",
                               device->info.name, options, ocl_error_name(err), (int)err,
                               log[0] ? log : "(empty)");
    }
    *out = program;
    return XHAL_OK;
}

/* Builds program `id` for the device: from the cache, else from SPIR-V or source (then cached). */
static xhal_status_t build(xhal_be_device_t *device, ocl_program_id_t id, cl_program *out) {
    const xhal_host_api_t *host = device->host;
    const char *name = program_sources[id].name;
    char options[768], key[XC_CACHE_KEY_CHARS + 1], path[4096];
    ocl_program_options(&device->tuning, device->build_options, id, options, sizeof(options));
    /* Extra build options may change the code: only the plain variants have modules. */
    const xc_spirv_module_t *module =
        device->build_options[0] ? NULL : spirv_module(device, id, options);
    const char *from = module ? "SPIR-V" : "source";
    cache_key(device, id, options, module, key);
    xc_cache_t cache;
    int cached = xc_cache_open(&cache, host, "opencl");
    if (cached) xc_cache_path(&cache, name, key, path, sizeof(path));

    double start = now_seconds();
    if (cached) {
        size_t size = 0;
        unsigned char *binary = xc_cache_load(&cache, name, key, &size);
        if (binary) {
            cl_program program = build_from_binary(device, binary, size, options);
            free(binary);
            if (program) {
                host->log(XHAL_LOG_INFO,
                          "program %s for %s: cache hit (built from %s), %s loaded "
                          "in %.0f ms",
                          name, device->info.name, from, path, (now_seconds() - start) * 1e3);
                *out = program;
                return XHAL_OK;
            }
            host->log(XHAL_LOG_INFO, "program %s: the runtime refused %s; rebuilding it", name,
                      path);
            xc_cache_discard(&cache, name, key);
        }
    }

    xhal_status_t status = build_fresh(device, id, options, module, out);
    if (status != XHAL_OK) return status;
    double seconds = now_seconds() - start;
    if (!cached) {
        host->log(XHAL_LOG_INFO, "program %s for %s: built from %s in %.2f s (no cache)", name,
                  device->info.name, from, seconds);
        return XHAL_OK;
    }
    size_t size = 0;
    unsigned char *binary = program_binary(*out, &size);
    int saved = binary && xc_cache_store(&cache, name, key, binary, size) == 0;
    free(binary);
    host->log(XHAL_LOG_INFO, "program %s for %s: cache miss, built from %s in %.2f s, %s %s", name,
              device->info.name, from, seconds, saved ? "saved to" : "not saved to", path);
    return XHAL_OK;
}

xhal_status_t ocl_program_get(xhal_be_device_t *device, ocl_program_id_t id,
                              cl_program *out_program) {
    xhal_status_t status = XHAL_OK;
    pthread_mutex_lock(&device->lock);
    if (!device->programs[id]) status = build(device, id, &device->programs[id]);
    *out_program = device->programs[id];
    pthread_mutex_unlock(&device->lock);
    return status;
}

void ocl_programs_release(xhal_be_device_t *device) {
    for (int i = 0; i < OCL_PROGRAM_COUNT; i++)
        if (device->programs[i]) ocl.clReleaseProgram(device->programs[i]);
}
