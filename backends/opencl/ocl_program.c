/*
 * Programs: the embedded kernel sources (kernels/opencl/common.cl followed by the op's file),
 * built per device with the device's tuned parameters as -D options, on first use.
 *
 * Building from source takes PoCL 0.5-5 s, so the built binary is cached on disk under
 * $XDG_CACHE_HOME/xhal/opencl/ (~/.cache/xhal/opencl/), keyed by a hash of everything that
 * changes it: the device's name, vendor, platform, version and driver, the options and the
 * source. A second process finds the binary and only links it (tens of ms). An entry is written
 * to a temporary name and renamed, so processes building at once never see half a file; an
 * entry the runtime refuses is rebuilt from source and replaced. Hits and misses are logged at
 * XHAL_LOG=info.
 *
 * XHAL_OPENCL_CACHE=0 turns the cache off; XHAL_OPENCL_CACHE=/some/dir puts it there instead.
 * XHAL_OPENCL_BUILD_OPTIONS is appended to every program's options (and so to its cache key).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ocl_internal.h"

/* Bump when the cache file layout or anything else hashed implicitly changes. */
#define CACHE_FORMAT "xhal-opencl-cache-1"
#define CACHE_MAGIC "XHALCLB1"
#define BUILD_LOG_MAX 2400 /* of xhal_last_error()'s 4096 characters */

/* Each program is common.cl followed by its parts (kernels/opencl/), as one source. */
#define PROGRAM_PARTS 3
static const struct {
    const char *name;
    const char *parts[PROGRAM_PARTS]; /* NULL past the last */
} program_sources[OCL_PROGRAM_COUNT] = {
    [OCL_PROGRAM_GEMM] = {"gemm", {ocl_source_gemm_epilogue, ocl_source_gemm, ocl_source_qgemm}},
    [OCL_PROGRAM_ATTENTION] = {"attention", {ocl_source_attention}},
};

void ocl_program_options(const ocl_tuning_t *t, ocl_program_id_t id, char *out, size_t size) {
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
    const char *extra = getenv("XHAL_OPENCL_BUILD_OPTIONS");
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

/* ---- The cache key: two 64-bit FNV-1a hashes over every input, with separators ---- */

typedef struct key_hash {
    uint64_t a, b;
} key_hash_t;

static void hash_string(key_hash_t *h, const char *text) {
    for (const unsigned char *p = (const unsigned char *)text;; p++) {
        unsigned char c = *p; /* the terminating 0 separates the inputs */
        h->a = (h->a ^ c) * 0x100000001b3ull;
        h->b = (h->b ^ c) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
        if (!c) break;
    }
}

static void cache_key(const xhal_be_device_t *device, ocl_program_id_t id, const char *options,
                      char out[33]) {
    key_hash_t h = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    hash_string(&h, CACHE_FORMAT);
    hash_string(&h, device->identity);
    hash_string(&h, options);
    hash_string(&h, ocl_source_common);
    for (int i = 0; i < PROGRAM_PARTS && program_sources[id].parts[i]; i++)
        hash_string(&h, program_sources[id].parts[i]);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.a, (unsigned long long)h.b);
}

/* The cache folder, created if needed; 0 when there is none (no HOME, or turned off). */
static int cache_dir(const xhal_host_api_t *host, char *out, size_t size) {
    const char *setting = getenv("XHAL_OPENCL_CACHE");
    if (setting && strcmp(setting, "0") == 0) return 0;
    const char *cache = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char base[960];
    const char *parts[] = {"", "/xhal", "/xhal/opencl"};
    size_t last = 3; /* with XHAL_OPENCL_CACHE=dir, that folder is the cache itself */
    if (setting && setting[0] == '/') {
        snprintf(base, sizeof(base), "%s", setting);
        last = 1;
    } else if (cache && cache[0] == '/') {
        snprintf(base, sizeof(base), "%s", cache);
    } else if (home && home[0]) {
        snprintf(base, sizeof(base), "%s/.cache", home);
    } else {
        return 0;
    }
    for (size_t i = 0; i < last; i++) {
        int n = snprintf(out, size, "%s%s", base, parts[i]);
        if (n < 0 || (size_t)n >= size) return 0;
        if (mkdir(out, 0755) != 0 && errno != EEXIST) {
            host->log(XHAL_LOG_INFO, "no program cache: cannot create %s (%s)", out,
                      strerror(errno));
            return 0;
        }
    }
    return 1;
}

/* Reads a cache entry: the magic, the key, the binary's size, then the binary. NULL if absent
 * or not an entry for this key. */
static unsigned char *read_entry(const char *path, const char *key, size_t *out_size) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    char magic[8], stored_key[32];
    uint64_t size = 0;
    unsigned char *binary = NULL;
    if (fread(magic, 1, 8, file) == 8 && memcmp(magic, CACHE_MAGIC, 8) == 0 &&
        fread(stored_key, 1, 32, file) == 32 && memcmp(stored_key, key, 32) == 0 &&
        fread(&size, sizeof(size), 1, file) == 1 && size > 0 && size < ((uint64_t)1 << 31)) {
        binary = malloc((size_t)size);
        if (binary && fread(binary, 1, (size_t)size, file) != size) {
            free(binary);
            binary = NULL;
        }
    }
    fclose(file);
    *out_size = (size_t)size;
    return binary;
}

static void write_entry(const xhal_host_api_t *host, const char *path, const char *key,
                        const unsigned char *binary, size_t size) {
    char temporary[1400];
    snprintf(temporary, sizeof(temporary), "%s.%ld.tmp", path, (long)getpid());
    FILE *file = fopen(temporary, "wb");
    uint64_t size64 = size;
    int ok = file && fwrite(CACHE_MAGIC, 1, 8, file) == 8 && fwrite(key, 1, 32, file) == 32 &&
             fwrite(&size64, sizeof(size64), 1, file) == 1 && fwrite(binary, 1, size, file) == size;
    if (file && fclose(file) != 0) ok = 0;
    if (ok && rename(temporary, path) == 0) return;
    remove(temporary);
    host->log(XHAL_LOG_INFO, "could not save the program binary to %s (%s)", path, strerror(errno));
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
    char options[512], key[33], dir[1024], path[1280];
    ocl_program_options(&device->tuning, id, options, sizeof(options));
    cache_key(device, id, options, key);
    int cached = cache_dir(host, dir, sizeof(dir));
    if (cached) snprintf(path, sizeof(path), "%s/%s-%s.bin", dir, name, key);

    double start = now_seconds();
    if (cached) {
        size_t size = 0;
        unsigned char *binary = read_entry(path, key, &size);
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
    if (binary) {
        write_entry(host, path, key, binary, size);
        free(binary);
    }
    host->log(XHAL_LOG_INFO,
              "program %s for %s: cache miss, built from source in %.2f s, saved "
              "to %s",
              name, device->info.name, seconds, path);
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
