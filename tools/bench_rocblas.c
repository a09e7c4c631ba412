/*
 * `xhal bench --vs rocblas`: rocBLAS's rocblas_gemm_ex on the same GEMM shapes, in the same
 * process, on the AMD GPU xhal benchmarks (f32 accumulation, f32 C, as xhal's). Nothing of
 * ROCm is linked or included: libamdhip64 (memory, streams, events) and librocblas are
 * dlopen'ed by load(), and the few constants used are spelled here (values from rocblas-types.h,
 * the same in ROCm 5 and 6). On MI300, rocBLAS hands many GEMMs to hipBLASLt itself.
 *
 * Row-major C (m x n) = A (m x k) B (k x n) is computed as the column-major product
 * C^T = B^T A^T, which is what rocBLAS sees when handed the same memory: no transposes.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_run.h"

/* rocblas-types.h */
enum {
    ROCBLAS_OPERATION_NONE = 111,
    ROCBLAS_DATATYPE_F16_R = 150,
    ROCBLAS_DATATYPE_F32_R = 151,
    ROCBLAS_DATATYPE_BF16_R = 168,
    ROCBLAS_GEMM_ALGO_STANDARD = 0,
};

static struct {
    void *hip, *blas;
    void *stream, *handle, *start, *stop;
    int (*hipInit)(unsigned);
    int (*hipGetDeviceCount)(int *);
    int (*hipDeviceGetName)(char *, int, int);
    int (*hipSetDevice)(int);
    int (*hipMalloc)(void **, size_t);
    int (*hipFree)(void *);
    int (*hipMemcpy)(void *, const void *, size_t, int);
    int (*hipStreamCreate)(void **);
    int (*hipStreamDestroy)(void *);
    int (*hipStreamSynchronize)(void *);
    int (*hipEventCreate)(void **);
    int (*hipEventDestroy)(void *);
    int (*hipEventRecord)(void *, void *);
    int (*hipEventElapsedTime)(float *, void *, void *);
    const char *(*hipGetErrorName)(int);
    int (*create_handle)(void **);
    int (*destroy_handle)(void *);
    int (*set_stream)(void *, void *);
    int (*gemm_ex)(void *, int, int, int, int, int, const void *, const void *, int, int,
                   const void *, int, int, const void *, const void *, int, int, void *, int, int,
                   int, int, int32_t, uint32_t);
} rb;

static void rocblas_unload(void) {
    if (rb.start) rb.hipEventDestroy(rb.start);
    if (rb.stop) rb.hipEventDestroy(rb.stop);
    if (rb.handle) rb.destroy_handle(rb.handle);
    if (rb.stream) rb.hipStreamDestroy(rb.stream);
    if (rb.blas) dlclose(rb.blas);
    if (rb.hip) dlclose(rb.hip);
    memset(&rb, 0, sizeof rb);
}

static void *open_first(const char *const *names) {
    for (size_t i = 0; names[i]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) return h;
    }
    return NULL;
}

static int rocblas_load(const xhal_device_info_t *info, char *reason, size_t size) {
    memset(&rb, 0, sizeof rb);
    static const char *const hip_names[] = {"libamdhip64.so.6", "libamdhip64.so.5",
                                            "/opt/rocm/lib/libamdhip64.so", NULL};
    static const char *const blas_names[] = {"librocblas.so.5",
                                             "librocblas.so.4",
                                             "librocblas.so.3",
                                             "librocblas.so.0",
                                             "/opt/rocm/lib/librocblas.so",
                                             NULL};
    if (!(rb.hip = open_first(hip_names))) {
        snprintf(reason, size, "libamdhip64.so.6 / .5 not found (no ROCm HIP runtime)");
        return -1;
    }
    if (!(rb.blas = open_first(blas_names))) {
        snprintf(reason, size,
                 "librocblas not found (install ROCm's rocblas, or add its lib "
                 "folder to LD_LIBRARY_PATH)");
        rocblas_unload();
        return -1;
    }
    const struct {
        void *library;
        const char *name;
        void *slot;
    } symbols[] = {
        {rb.hip, "hipInit", &rb.hipInit},
        {rb.hip, "hipGetDeviceCount", &rb.hipGetDeviceCount},
        {rb.hip, "hipDeviceGetName", &rb.hipDeviceGetName},
        {rb.hip, "hipSetDevice", &rb.hipSetDevice},
        {rb.hip, "hipMalloc", &rb.hipMalloc},
        {rb.hip, "hipFree", &rb.hipFree},
        {rb.hip, "hipMemcpy", &rb.hipMemcpy},
        {rb.hip, "hipStreamCreate", &rb.hipStreamCreate},
        {rb.hip, "hipStreamDestroy", &rb.hipStreamDestroy},
        {rb.hip, "hipStreamSynchronize", &rb.hipStreamSynchronize},
        {rb.hip, "hipEventCreate", &rb.hipEventCreate},
        {rb.hip, "hipEventDestroy", &rb.hipEventDestroy},
        {rb.hip, "hipEventRecord", &rb.hipEventRecord},
        {rb.hip, "hipEventElapsedTime", &rb.hipEventElapsedTime},
        {rb.hip, "hipGetErrorName", &rb.hipGetErrorName},
        {rb.blas, "rocblas_create_handle", &rb.create_handle},
        {rb.blas, "rocblas_destroy_handle", &rb.destroy_handle},
        {rb.blas, "rocblas_set_stream", &rb.set_stream},
        {rb.blas, "rocblas_gemm_ex", &rb.gemm_ex},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *symbol = dlsym(symbols[i].library, symbols[i].name);
        if (!symbol) {
            snprintf(reason, size, "%s not found in the ROCm libraries", symbols[i].name);
            rocblas_unload();
            return -1;
        }
        /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
        memcpy(symbols[i].slot, &symbol, sizeof symbol);
    }
    int count = 0, e;
    if ((e = rb.hipInit(0)) != 0 || (e = rb.hipGetDeviceCount(&count)) != 0 || count == 0) {
        snprintf(reason, size, "no AMD GPU: %s", e ? rb.hipGetErrorName(e) : "none found");
        rocblas_unload();
        return -1;
    }
    /* The device xhal benchmarks, matched by name; the first one otherwise. */
    int device = 0;
    for (int i = 0; i < count && info; i++) {
        char name[256] = "";
        if (rb.hipDeviceGetName(name, sizeof name, i) == 0 && strcmp(name, info->name) == 0) {
            device = i;
            break;
        }
    }
    int s = 0;
    if ((e = rb.hipSetDevice(device)) != 0 || (e = rb.hipStreamCreate(&rb.stream)) != 0 ||
        (e = rb.hipEventCreate(&rb.start)) != 0 || (e = rb.hipEventCreate(&rb.stop)) != 0 ||
        (s = rb.create_handle(&rb.handle)) != 0 || (s = rb.set_stream(rb.handle, rb.stream)) != 0) {
        snprintf(reason, size, "HIP/rocBLAS setup failed: %s, rocBLAS status %d",
                 e ? rb.hipGetErrorName(e) : "hipSuccess", s);
        if (s) rb.handle = NULL;
        rocblas_unload();
        return -1;
    }
    return 0;
}

/* Uploads `count` random values in [-1, 1) of `dtype`; 0, or -1 with the reason. */
static int random_matrix(void **out, xhal_dtype_t dtype, int64_t count, uint64_t seed, char *reason,
                         size_t size) {
    size_t bytes = (size_t)count * xhal_dtype_size(dtype);
    unsigned char *host = bench_random_values(dtype, count, seed);
    if (!host) {
        snprintf(reason, size, "malloc of %zu bytes failed", bytes);
        return -1;
    }
    int e = rb.hipMalloc(out, bytes);
    if (e == 0) e = rb.hipMemcpy(*out, host, bytes, 1 /* host to device */);
    free(host);
    if (e != 0) {
        snprintf(reason, size, "uploading a %zu-byte matrix failed: %s", bytes,
                 rb.hipGetErrorName(e));
        return -1;
    }
    return 0;
}

static double rocblas_time_gemm(const bench_gemm_shape_t *shape, char *reason, size_t size) {
    int type = shape->dtype == XHAL_DTYPE_F32   ? ROCBLAS_DATATYPE_F32_R
               : shape->dtype == XHAL_DTYPE_F16 ? ROCBLAS_DATATYPE_F16_R
                                                : ROCBLAS_DATATYPE_BF16_R;
    int m = (int)shape->m, n = (int)shape->n, k = (int)shape->k;
    int repeats = shape->repeats > 0 ? shape->repeats : 1;
    double result = -1.0;
    void *a = NULL, *b = NULL, *c = NULL;
    double *times = calloc((size_t)repeats, sizeof(double));
    if (!times) {
        snprintf(reason, size, "out of host memory");
        return -1.0;
    }
    if (random_matrix(&a, shape->dtype, shape->m * shape->k, 1, reason, size) != 0 ||
        random_matrix(&b, shape->dtype, shape->k * shape->n, 2, reason, size) != 0 ||
        random_matrix(&c, XHAL_DTYPE_F32, shape->m * shape->n, 3, reason, size) != 0)
        goto done;
    const float alpha = 1.0f, beta = 0.0f;
    for (int i = -1; i < repeats; i++) { /* i = -1: the warm-up */
        rb.hipEventRecord(rb.start, rb.stream);
        /* Column-major: C^T (n x m) = B^T (n x k) A^T (k x m). */
        int s = rb.gemm_ex(rb.handle, ROCBLAS_OPERATION_NONE, ROCBLAS_OPERATION_NONE, n, m, k,
                           &alpha, b, type, n, a, type, k, &beta, c, ROCBLAS_DATATYPE_F32_R, n, c,
                           ROCBLAS_DATATYPE_F32_R, n, ROCBLAS_DATATYPE_F32_R,
                           ROCBLAS_GEMM_ALGO_STANDARD, 0, 0);
        rb.hipEventRecord(rb.stop, rb.stream);
        if (s != 0) {
            snprintf(reason, size, "rocblas_gemm_ex failed: status %d", s);
            goto done;
        }
        int e = rb.hipStreamSynchronize(rb.stream);
        if (e != 0) {
            snprintf(reason, size, "rocblas_gemm_ex failed on the device: %s",
                     rb.hipGetErrorName(e));
            goto done;
        }
        float ms = 0.0f;
        rb.hipEventElapsedTime(&ms, rb.start, rb.stop);
        if (i >= 0) times[i] = ms * 1e-3;
    }
    result = bench_median(times, (size_t)repeats);
done:
    if (a) rb.hipFree(a);
    if (b) rb.hipFree(b);
    if (c) rb.hipFree(c);
    free(times);
    return result;
}

const bench_baseline_t bench_baseline_rocblas = {
    .name = "rocblas",
    .description = "rocBLAS rocblas_gemm_ex (AMD GPUs; hipBLASLt underneath on MI300)",
    .load = rocblas_load,
    .time_gemm = rocblas_time_gemm,
    .unload = rocblas_unload,
};
