/*
 * Programs: the embedded kernel sources (kernels/opencl/common.cl followed by the op's file),
 * built per device with the device's tuned parameters as -D options, on first use.
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
#define BUILD_LOG_MAX 2400 /* of xhal_last_error()'s 4096 characters */

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

void ocl_program_options(const ocl_tuning_t *t, const char *extra, ocl_program_id_t id, char *out,
                         size_t size) {
    if (id == OCL_PROGRAM_GEMM) {
        /* Parameters a variant does not use are pinned, so they cannot change its cache key. */
        int local = t->gemm_local;
        snprintf(out, size,
                 "-cl-std=CL1.2 -DXV=%d -DGEMM_TM=%d -DGEMM_NV=%d -DGEMM_RB=%d -DGEMM_LOCAL=%d "
                 "-DGEMM_WG_M=%d -DGEMM_WG_N=%d -DGEMM_KB=%d -DGEMM_PACK_K=%d -DGEMV_M=%d "
                 "-DGEMV_NV=%d -DGEMV_TC=%d",
                 t->gemm_vw, t->gemm_tm, t->gemm_nv, local ? 1 : t->gemm_rb, local,
                 local ? t->gemm_wg_m : 1, local ? t->gemm_wg_n : 1, local ? t->gemm_kb : 1,
                 t->gemm_pack_k, t->gemv_rows, t->gemv_nv, t->gemv_tc);
    } else {
        snprintf(out, size, "-cl-std=CL1.2 -DXV=%d -DATT_BQ=%d -DATT_DEC_RB=%d -DATT_DMAX=256",
                 t->att_vw, t->att_bq, t->att_dec_rb);
    }
    size_t used = strlen(out);
    if (extra && *extra && used + 1 < size) {
        out[used] = ' ';
        ocl_copy_string(out + used + 1, size - used - 1, extra);
    }
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The cache key: every input that changes the binary. */
static void cache_key(const xhal_be_device_t *device, ocl_program_id_t id, const char *options,
                      char out[XC_CACHE_KEY_CHARS + 1]) {
    const char *parts[4 + PROGRAM_PARTS] = {CACHE_FORMAT, device->identity, options,
                                            ocl_source_common};
    size_t count = 4;
    for (int i = 0; i < PROGRAM_PARTS && program_sources[id].parts[i]; i++)
        parts[count++] = program_sources[id].parts[i];
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

static xhal_status_t build_from_source(xhal_be_device_t *device, ocl_program_id_t id,
                                       const char *options, cl_program *out) {
    const xhal_host_api_t *host = device->host;
    const char *sources[1 + PROGRAM_PARTS] = {ocl_source_common};
    cl_uint count = 1;
    for (int i = 0; i < PROGRAM_PARTS && program_sources[id].parts[i]; i++)
        sources[count++] = program_sources[id].parts[i];
    cl_int err = CL_SUCCESS;
    cl_program program = ocl.clCreateProgramWithSource(device->context, count, sources, NULL, &err);
    if (!program || err != CL_SUCCESS)
        return ocl_fail(host, err, "clCreateProgramWithSource", "the %s kernels",
                        program_sources[id].name);
    err = ocl.clBuildProgram(program, 1, &device->id, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[BUILD_LOG_MAX + 1] = "";
        size_t length = 0;
        ocl.clGetProgramBuildInfo(program, device->id, CL_PROGRAM_BUILD_LOG, sizeof(log) - 1, log,
                                  &length);
        log[length < sizeof(log) ? length : sizeof(log) - 1] = '\0';
        ocl.clReleaseProgram(program);
        return host->set_error(XHAL_DEVICE_ERROR,
                               "opencl: clBuildProgram (the %s kernels for %s, options \"%s\") "
                               "failed with %s (%d); build log:\n%s",
                               program_sources[id].name, device->info.name, options,
                               ocl_error_name(err), (int)err, log[0] ? log : "(empty)");
    }
    *out = program;
    return XHAL_OK;
}

/* Builds program `id` for the device: from the cache, else from source (then cached). */
static xhal_status_t build(xhal_be_device_t *device, ocl_program_id_t id, cl_program *out) {
    const xhal_host_api_t *host = device->host;
    const char *name = program_sources[id].name;
    char options[768], key[XC_CACHE_KEY_CHARS + 1], path[4096];
    ocl_program_options(&device->tuning, device->build_options, id, options, sizeof(options));
    cache_key(device, id, options, key);
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
                host->log(XHAL_LOG_INFO, "program %s for %s: cache hit, %s loaded in %.0f ms", name,
                          device->info.name, path, (now_seconds() - start) * 1e3);
                *out = program;
                return XHAL_OK;
            }
            host->log(XHAL_LOG_INFO, "program %s: the runtime refused %s; rebuilding it", name,
                      path);
            xc_cache_discard(&cache, name, key);
        }
    }

    xhal_status_t status = build_from_source(device, id, options, out);
    if (status != XHAL_OK) return status;
    double seconds = now_seconds() - start;
    if (!cached) {
        host->log(XHAL_LOG_INFO, "program %s for %s: built from source in %.2f s (no cache)", name,
                  device->info.name, seconds);
        return XHAL_OK;
    }
    size_t size = 0;
    unsigned char *binary = program_binary(*out, &size);
    int saved = binary && xc_cache_store(&cache, name, key, binary, size) == 0;
    free(binary);
    host->log(XHAL_LOG_INFO, "program %s for %s: cache miss, built from source in %.2f s, %s %s",
              name, device->info.name, seconds, saved ? "saved to" : "not saved to", path);
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
