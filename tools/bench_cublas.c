/*
 * `xhal bench --vs cublas`: cuBLASLt on the same GEMM shapes, in the same process, on the
 * CUDA device xhal benchmarks. Nothing of CUDA is linked or included: libcuda.so.1 (the driver
 * API, for memory, streams and events) and libcublasLt.so.13 are dlopen'ed by load(), and the
 * few types and constants used are spelled here (values from CUDA 13's cublasLt.h and
 * library_types.h). The device's primary context is the one the xhal CUDA backend uses.
 *
 * Row-major C (m x n) = A (m x k) B (k x n) is computed as the column-major product
 * C^T = B^T A^T, which is what cuBLAS sees when handed the same memory: no transposes, and the
 * same bytes move as in xhal's GEMM.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_run.h"

typedef unsigned long long cu_ptr_t;
typedef int cu_result_t;

/* cublasLt.h / library_types.h values. */
enum {
    CUBLAS_COMPUTE_32F = 68,
    CUDA_R_32F = 0,
    CUDA_R_16F = 2,
    CUDA_R_16BF = 14,
    CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1,
};

typedef struct {
    uint64_t data[8];
} lt_algo_t;

typedef struct {
    lt_algo_t algo;
    size_t workspace_size;
    int state;
    float waves;
    int reserved[4];
} lt_heuristic_t;

static struct {
    void *cuda, *lt;
    int device;
    void *context, *stream, *handle;
    cu_ptr_t workspace;
    size_t workspace_size;
    cu_result_t (*cuInit)(unsigned);
    cu_result_t (*cuDeviceGetCount)(int *);
    cu_result_t (*cuDeviceGet)(int *, int);
    cu_result_t (*cuDeviceGetName)(char *, int, int);
    cu_result_t (*cuDevicePrimaryCtxRetain)(void **, int);
    cu_result_t (*cuDevicePrimaryCtxRelease)(int);
    cu_result_t (*cuCtxSetCurrent)(void *);
    cu_result_t (*cuMemAlloc)(cu_ptr_t *, size_t);
    cu_result_t (*cuMemFree)(cu_ptr_t);
    cu_result_t (*cuMemcpyHtoD)(cu_ptr_t, const void *, size_t);
    cu_result_t (*cuStreamCreate)(void **, unsigned);
    cu_result_t (*cuStreamDestroy)(void *);
    cu_result_t (*cuStreamSynchronize)(void *);
    cu_result_t (*cuEventCreate)(void **, unsigned);
    cu_result_t (*cuEventDestroy)(void *);
    cu_result_t (*cuEventRecord)(void *, void *);
    cu_result_t (*cuEventElapsedTime)(float *, void *, void *);
    cu_result_t (*cuGetErrorName)(cu_result_t, const char **);
    int (*ltCreate)(void **);
    int (*ltDestroy)(void *);
    int (*ltMatmulDescCreate)(void **, int, int);
    int (*ltMatmulDescDestroy)(void *);
    int (*ltMatrixLayoutCreate)(void **, int, uint64_t, uint64_t, int64_t);
    int (*ltMatrixLayoutDestroy)(void *);
    int (*ltMatmulPreferenceCreate)(void **);
    int (*ltMatmulPreferenceDestroy)(void *);
    int (*ltMatmulPreferenceSetAttribute)(void *, int, const void *, size_t);
    int (*ltMatmulAlgoGetHeuristic)(void *, void *, void *, void *, void *, void *, void *, int,
                                    lt_heuristic_t *, int *);
    int (*ltMatmul)(void *, void *, const void *, const void *, void *, const void *, void *,
                    const void *, const void *, void *, void *, void *, const lt_algo_t *, void *,
                    size_t, void *);
} lt;

/* Resolves `name` from `library` into *slot; returns 0, or -1 with the reason written. */
static int resolve(void *library, const char *file, const char *name, void *slot, char *reason,
                   size_t size) {
    void *symbol = dlsym(library, name);
    if (!symbol) {
        snprintf(reason, size, "%s has no %s", file, name);
        return -1;
    }
    /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
    memcpy(slot, &symbol, sizeof symbol);
    return 0;
}

static const char *cu_name(cu_result_t r) {
    const char *name = NULL;
    if (lt.cuGetErrorName && lt.cuGetErrorName(r, &name) == 0 && name) return name;
    return "an unknown CUDA error";
}

/* Opens the first of several library names; NULL with every dlerror in `reason`. */
static void *open_first(const char *const *names, char *reason, size_t size) {
    reason[0] = '\0';
    for (size_t i = 0; names[i]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) return h;
        size_t used = strlen(reason);
        const char *why = dlerror();
        snprintf(reason + used, size - used, "%s%s", used ? "; " : "", why ? why : names[i]);
    }
    return NULL;
}

static void cublas_unload(void) {
    if (lt.context) lt.cuCtxSetCurrent(lt.context);
    if (lt.workspace) lt.cuMemFree(lt.workspace);
    if (lt.handle) lt.ltDestroy(lt.handle);
    if (lt.stream) lt.cuStreamDestroy(lt.stream);
    if (lt.context) lt.cuDevicePrimaryCtxRelease(lt.device);
    if (lt.lt) dlclose(lt.lt);
    if (lt.cuda) dlclose(lt.cuda);
    memset(&lt, 0, sizeof lt);
}

static int cublas_load(const xhal_device_info_t *info, char *reason, size_t size) {
    memset(&lt, 0, sizeof lt);
    static const char *const cuda_names[] = {"libcuda.so.1", NULL};
    static const char *const lt_names[] = {
        "libcublasLt.so.13", "/usr/local/cuda/lib64/libcublasLt.so.13", "libcublasLt.so.12", NULL};
    char why[1024];
    if (!(lt.cuda = open_first(cuda_names, why, sizeof why))) {
        snprintf(reason, size, "libcuda.so.1 not found (no NVIDIA driver): %s", why);
        return -1;
    }
    if (!(lt.lt = open_first(lt_names, why, sizeof why))) {
        snprintf(reason, size,
                 "libcublasLt.so.13 not found (install the CUDA toolkit's cuBLAS, or add its "
                 "lib64 folder to LD_LIBRARY_PATH): %s",
                 why);
        cublas_unload();
        return -1;
    }
    const struct {
        void *library;
        const char *file, *name;
        void *slot;
    } symbols[] = {
        {lt.cuda, "libcuda.so.1", "cuInit", &lt.cuInit},
        {lt.cuda, "libcuda.so.1", "cuDeviceGetCount", &lt.cuDeviceGetCount},
        {lt.cuda, "libcuda.so.1", "cuDeviceGet", &lt.cuDeviceGet},
        {lt.cuda, "libcuda.so.1", "cuDeviceGetName", &lt.cuDeviceGetName},
        {lt.cuda, "libcuda.so.1", "cuDevicePrimaryCtxRetain", &lt.cuDevicePrimaryCtxRetain},
        {lt.cuda, "libcuda.so.1", "cuDevicePrimaryCtxRelease_v2", &lt.cuDevicePrimaryCtxRelease},
        {lt.cuda, "libcuda.so.1", "cuCtxSetCurrent", &lt.cuCtxSetCurrent},
        {lt.cuda, "libcuda.so.1", "cuMemAlloc_v2", &lt.cuMemAlloc},
        {lt.cuda, "libcuda.so.1", "cuMemFree_v2", &lt.cuMemFree},
        {lt.cuda, "libcuda.so.1", "cuMemcpyHtoD_v2", &lt.cuMemcpyHtoD},
        {lt.cuda, "libcuda.so.1", "cuStreamCreate", &lt.cuStreamCreate},
        {lt.cuda, "libcuda.so.1", "cuStreamDestroy_v2", &lt.cuStreamDestroy},
        {lt.cuda, "libcuda.so.1", "cuStreamSynchronize", &lt.cuStreamSynchronize},
        {lt.cuda, "libcuda.so.1", "cuEventCreate", &lt.cuEventCreate},
        {lt.cuda, "libcuda.so.1", "cuEventDestroy_v2", &lt.cuEventDestroy},
        {lt.cuda, "libcuda.so.1", "cuEventRecord", &lt.cuEventRecord},
        {lt.cuda, "libcuda.so.1", "cuEventElapsedTime_v2", &lt.cuEventElapsedTime},
        {lt.cuda, "libcuda.so.1", "cuGetErrorName", &lt.cuGetErrorName},
        {lt.lt, "libcublasLt", "cublasLtCreate", &lt.ltCreate},
        {lt.lt, "libcublasLt", "cublasLtDestroy", &lt.ltDestroy},
        {lt.lt, "libcublasLt", "cublasLtMatmulDescCreate", &lt.ltMatmulDescCreate},
        {lt.lt, "libcublasLt", "cublasLtMatmulDescDestroy", &lt.ltMatmulDescDestroy},
        {lt.lt, "libcublasLt", "cublasLtMatrixLayoutCreate", &lt.ltMatrixLayoutCreate},
        {lt.lt, "libcublasLt", "cublasLtMatrixLayoutDestroy", &lt.ltMatrixLayoutDestroy},
        {lt.lt, "libcublasLt", "cublasLtMatmulPreferenceCreate", &lt.ltMatmulPreferenceCreate},
        {lt.lt, "libcublasLt", "cublasLtMatmulPreferenceDestroy", &lt.ltMatmulPreferenceDestroy},
        {lt.lt, "libcublasLt", "cublasLtMatmulPreferenceSetAttribute",
         &lt.ltMatmulPreferenceSetAttribute},
        {lt.lt, "libcublasLt", "cublasLtMatmulAlgoGetHeuristic", &lt.ltMatmulAlgoGetHeuristic},
        {lt.lt, "libcublasLt", "cublasLtMatmul", &lt.ltMatmul},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++)
        if (resolve(symbols[i].library, symbols[i].file, symbols[i].name, symbols[i].slot, reason,
                    size) != 0) {
            cublas_unload();
            return -1;
        }

    cu_result_t r;
    int count = 0;
    if ((r = lt.cuInit(0)) != 0 || (r = lt.cuDeviceGetCount(&count)) != 0 || count == 0) {
        snprintf(reason, size, "no CUDA device: %s", r ? cu_name(r) : "the driver found none");
        cublas_unload();
        return -1;
    }
    /* The device xhal benchmarks, matched by name; the first one otherwise. */
    lt.device = 0;
    for (int i = 0; i < count && info; i++) {
        int dev = 0;
        char name[256] = "";
        if (lt.cuDeviceGet(&dev, i) == 0 && lt.cuDeviceGetName(name, sizeof name, dev) == 0 &&
            strcmp(name, info->name) == 0) {
            lt.device = dev;
            break;
        }
    }
    if ((r = lt.cuDevicePrimaryCtxRetain(&lt.context, lt.device)) != 0 ||
        (r = lt.cuCtxSetCurrent(lt.context)) != 0 || (r = lt.cuStreamCreate(&lt.stream, 1)) != 0) {
        snprintf(reason, size, "CUDA context or stream setup failed: %s", cu_name(r));
        cublas_unload();
        return -1;
    }
    int s = lt.ltCreate(&lt.handle);
    if (s != 0) {
        lt.handle = NULL;
        snprintf(reason, size, "cublasLtCreate failed: status %d", s);
        cublas_unload();
        return -1;
    }
    lt.workspace_size = 64u << 20;
    if ((r = lt.cuMemAlloc(&lt.workspace, lt.workspace_size)) != 0) {
        lt.workspace = 0;
        snprintf(reason, size, "cuMemAlloc of the cuBLASLt workspace failed: %s", cu_name(r));
        cublas_unload();
        return -1;
    }
    return 0;
}

/* Uploads `count` random values in [-1, 1) of `dtype`; 0, or -1 with the reason. */
static int random_matrix(cu_ptr_t *out, xhal_dtype_t dtype, int64_t count, uint64_t seed,
                         char *reason, size_t size) {
    size_t bytes = (size_t)count * xhal_dtype_size(dtype);
    unsigned char *host = bench_random_values(dtype, count, seed);
    if (!host) {
        snprintf(reason, size, "malloc of %zu bytes failed", bytes);
        return -1;
    }
    cu_result_t r = lt.cuMemAlloc(out, bytes);
    if (r == 0) r = lt.cuMemcpyHtoD(*out, host, bytes);
    free(host);
    if (r != 0) {
        snprintf(reason, size, "uploading a %zu-byte matrix failed: %s", bytes, cu_name(r));
        return -1;
    }
    return 0;
}

static double cublas_time_gemm(const bench_gemm_shape_t *shape, char *reason, size_t size) {
    int type = shape->dtype == XHAL_DTYPE_F32   ? CUDA_R_32F
               : shape->dtype == XHAL_DTYPE_F16 ? CUDA_R_16F
                                                : CUDA_R_16BF;
    int64_t m = shape->m, n = shape->n, k = shape->k;
    int repeats = shape->repeats > 0 ? shape->repeats : 1;
    double result = -1.0;
    cu_ptr_t a = 0, b = 0, c = 0;
    void *desc = NULL, *la = NULL, *lb = NULL, *lc = NULL, *pref = NULL, *start = NULL,
         *stop = NULL;
    double *times = calloc((size_t)repeats, sizeof(double));
    lt.cuCtxSetCurrent(lt.context);
    if (!times) {
        snprintf(reason, size, "out of host memory");
        return -1.0;
    }
    if (random_matrix(&a, shape->dtype, m * k, 1, reason, size) != 0 ||
        random_matrix(&b, shape->dtype, k * n, 2, reason, size) != 0 ||
        random_matrix(&c, XHAL_DTYPE_F32, m * n, 3, reason, size) != 0)
        goto done;
    /* Column-major view: C^T (n x m) = B^T (n x k) A^T (k x m). */
    if (lt.ltMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F) != 0 ||
        lt.ltMatrixLayoutCreate(&la, type, (uint64_t)n, (uint64_t)k, n) != 0 ||
        lt.ltMatrixLayoutCreate(&lb, type, (uint64_t)k, (uint64_t)m, k) != 0 ||
        lt.ltMatrixLayoutCreate(&lc, CUDA_R_32F, (uint64_t)n, (uint64_t)m, n) != 0 ||
        lt.ltMatmulPreferenceCreate(&pref) != 0 ||
        lt.ltMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                          &lt.workspace_size, sizeof lt.workspace_size) != 0) {
        snprintf(reason, size, "cuBLASLt descriptor setup failed");
        goto done;
    }
    lt_heuristic_t heuristic;
    int found = 0;
    memset(&heuristic, 0, sizeof heuristic);
    if (lt.ltMatmulAlgoGetHeuristic(lt.handle, desc, la, lb, lc, lc, pref, 1, &heuristic, &found) !=
            0 ||
        found < 1) {
        snprintf(reason, size, "cuBLASLt has no algorithm for %lld x %lld x %lld %s", (long long)m,
                 (long long)n, (long long)k, xhal_dtype_name(shape->dtype));
        goto done;
    }
    const float alpha = 1.0f, beta = 0.0f;
    cu_result_t r;
    if ((r = lt.cuEventCreate(&start, 0)) != 0 || (r = lt.cuEventCreate(&stop, 0)) != 0) {
        snprintf(reason, size, "cuEventCreate failed: %s", cu_name(r));
        goto done;
    }
    for (int i = -1; i < repeats; i++) { /* i = -1: the warm-up */
        lt.cuEventRecord(start, lt.stream);
        int s =
            lt.ltMatmul(lt.handle, desc, &alpha, (void *)(uintptr_t)b, la, (void *)(uintptr_t)a, lb,
                        &beta, (void *)(uintptr_t)c, lc, (void *)(uintptr_t)c, lc, &heuristic.algo,
                        (void *)(uintptr_t)lt.workspace, lt.workspace_size, lt.stream);
        lt.cuEventRecord(stop, lt.stream);
        if (s != 0) {
            snprintf(reason, size, "cublasLtMatmul failed: status %d", s);
            goto done;
        }
        if ((r = lt.cuStreamSynchronize(lt.stream)) != 0) {
            snprintf(reason, size, "cublasLtMatmul failed on the device: %s", cu_name(r));
            goto done;
        }
        float ms = 0.0f;
        lt.cuEventElapsedTime(&ms, start, stop);
        if (i >= 0) times[i] = ms * 1e-3;
    }
    result = bench_median(times, (size_t)repeats);
done:
    if (start) lt.cuEventDestroy(start);
    if (stop) lt.cuEventDestroy(stop);
    if (pref) lt.ltMatmulPreferenceDestroy(pref);
    if (lc) lt.ltMatrixLayoutDestroy(lc);
    if (lb) lt.ltMatrixLayoutDestroy(lb);
    if (la) lt.ltMatrixLayoutDestroy(la);
    if (desc) lt.ltMatmulDescDestroy(desc);
    if (c) lt.cuMemFree(c);
    if (b) lt.cuMemFree(b);
    if (a) lt.cuMemFree(a);
    free(times);
    return result;
}

const bench_baseline_t bench_baseline_cublas = {
    .name = "cublas",
    .description = "cuBLASLt (libcublasLt.so.13, dlopen'ed) on the CUDA device",
    .load = cublas_load,
    .time_gemm = cublas_time_gemm,
    .unload = cublas_unload,
};
