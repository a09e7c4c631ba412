/*
 * `xhal bench --vs openblas`: OpenBLAS's cblas_sgemm (and cblas_sbgemm for bf16 where the build
 * has it) on the same shapes, in the same process, on as many threads as the CPU device uses.
 * OpenBLAS is dlopen'ed: it is an optional dependency of this tool only.
 *
 * OpenBLAS 0.3.21 picks its AVX2 kernels on AMD Zen 4/5 although they have AVX-512; like the
 * anchor figures of our issues we force its Skylake-X kernels there (OPENBLAS_CORETYPE), unless
 * the user set the variable.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_run.h"
#include "conform.h"
#include "host_cpu.h"

enum { ROW_MAJOR = 101, NO_TRANS = 111 };

typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);
typedef void (*sbgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                          const uint16_t *a, int lda, const uint16_t *b, int ldb, float beta,
                          float *c, int ldc);
typedef void (*set_threads_fn)(int threads);
typedef char *(*get_config_fn)(void);

static void *library;
static sgemm_fn sgemm;
static sbgemm_fn sbgemm;

static int load(const xhal_device_info_t *info, char *reason, size_t reason_size) {
    int forced = 0;
    host_cpu_features_t features;
    host_cpu_detect(&features);
    if (!getenv("OPENBLAS_CORETYPE") && features.avx512f) {
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
        forced = 1;
    }
    const char *names[] = {"libopenblas.so.0", "libopenblas.so"};
    for (size_t i = 0; i < 2 && !library; i++)
        library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(reason, reason_size,
                 "libopenblas.so.0 not found (install Debian's libopenblas0): %s", dlerror());
        return -1;
    }
    void *symbol = dlsym(library, "cblas_sgemm");
    memcpy(&sgemm, &symbol, sizeof sgemm);
    symbol = dlsym(library, "cblas_sbgemm");
    memcpy(&sbgemm, &symbol, sizeof sbgemm);
    set_threads_fn set_threads;
    symbol = dlsym(library, "openblas_set_num_threads");
    memcpy(&set_threads, &symbol, sizeof set_threads);
    get_config_fn get_config;
    symbol = dlsym(library, "openblas_get_config");
    memcpy(&get_config, &symbol, sizeof get_config);
    if (!sgemm) {
        snprintf(reason, reason_size, "the OpenBLAS found has no cblas_sgemm");
        dlclose(library);
        library = NULL;
        return -1;
    }
    int threads =
        info->type == XHAL_DEVICE_TYPE_CPU && info->compute_units ? (int)info->compute_units : 1;
    if (set_threads) set_threads(threads);
    snprintf(reason, reason_size, "%s, %d threads%s", get_config ? get_config() : "OpenBLAS",
             threads, forced ? ", OPENBLAS_CORETYPE=SkylakeX" : "");
    return 0;
}

/* `count` values uniform in [-1, 1) of `dtype` (f32, or bf16/f16 bits) from an xorshift. */
static void fill_uniform(void *data, size_t count, xhal_dtype_t dtype, uint64_t seed) {
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < count; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        float v = (float)((double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0);
        if (dtype == XHAL_DTYPE_F32)
            ((float *)data)[i] = v;
        else
            ((uint16_t *)data)[i] =
                dtype == XHAL_DTYPE_F16 ? xhal_f32_to_f16(v) : xhal_f32_to_bf16(v);
    }
}

/* One GEMM on copy r of the rotated inputs and outputs (f32 or bf16 A and B, f32 C). */
static void run_sgemm(const bench_gemm_shape_t *s, const unsigned char *a, const unsigned char *b,
                      float *c, int r) {
    size_t es = xhal_dtype_size(s->dtype);
    size_t a_bytes = (size_t)(s->m * s->k) * es, b_bytes = (size_t)(s->k * s->n) * es;
    int m = (int)s->m, n = (int)s->n, k = (int)s->k;
    if (s->dtype == XHAL_DTYPE_F32)
        sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1.0f,
              (const float *)(const void *)(a + a_bytes * (size_t)r), k,
              (const float *)(const void *)(b + b_bytes * (size_t)r), n, 0.0f,
              c + (size_t)(s->m * s->n) * (size_t)r, n);
    else
        sbgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1.0f,
               (const uint16_t *)(const void *)(a + a_bytes * (size_t)r), k,
               (const uint16_t *)(const void *)(b + b_bytes * (size_t)r), n, 0.0f,
               c + (size_t)(s->m * s->n) * (size_t)r, n);
}

static double time_gemm(const bench_gemm_shape_t *s, char *reason, size_t reason_size) {
    if (s->dtype == XHAL_DTYPE_F16 || (s->dtype == XHAL_DTYPE_BF16 && !sbgemm)) {
        snprintf(reason, reason_size, "no %s GEMM in this OpenBLAS", xhal_dtype_name(s->dtype));
        return -1.0;
    }
    if (s->m > 0x7fffffff || s->n > 0x7fffffff || s->k > 0x7fffffff) {
        snprintf(reason, reason_size, "shape too large for the CBLAS int interface");
        return -1.0;
    }
    size_t es = xhal_dtype_size(s->dtype);
    int rotation = s->rotation > 0 ? s->rotation : 1;
    size_t a_bytes = (size_t)(s->m * s->k) * es, b_bytes = (size_t)(s->k * s->n) * es;
    size_t c_bytes = (size_t)(s->m * s->n) * 4;
    unsigned char *a = malloc(a_bytes * (size_t)rotation), *b = malloc(b_bytes * (size_t)rotation);
    float *c = malloc(c_bytes * (size_t)rotation);
    double *times = calloc((size_t)s->repeats, sizeof *times);
    double result = -1.0;
    if (a && b && c && times) {
        /* Inputs like xhal's (uniform in [-1, 1), no denormals), outputs written once so that
         * no timed run first-touches their pages. */
        fill_uniform(a, (size_t)(s->m * s->k) * (size_t)rotation, s->dtype, 1);
        fill_uniform(b, (size_t)(s->k * s->n) * (size_t)rotation, s->dtype, 100);
        memset(c, 0xff, c_bytes * (size_t)rotation);
        /* The warm-up xhal's timing gets (see BENCH_WARMUP_SECONDS), then the timed runs. */
        double warm_start = conf_now();
        for (int i = 0; conf_warming(i, s->warmup, conf_now() - warm_start, BENCH_WARMUP_SECONDS);
             i++)
            run_sgemm(s, a, b, c, i % rotation);
        for (int i = 0; i < s->repeats; i++) {
            double t0 = conf_now();
            run_sgemm(s, a, b, c, i % rotation);
            times[i] = conf_now() - t0;
        }
        result = conf_median(times, (size_t)s->repeats);
    } else {
        snprintf(reason, reason_size, "out of host memory");
    }
    free(a), free(b), free(c), free(times);
    return result;
}

static void unload(void) {
    if (library) dlclose(library);
    library = NULL;
    sgemm = NULL;
    sbgemm = NULL;
}

const bench_baseline_t bench_baseline_openblas = {
    .name = "openblas",
    .description = "OpenBLAS cblas_sgemm/cblas_sbgemm on the CPU",
    .load = load,
    .time_gemm = time_gemm,
    .unload = unload,
};
