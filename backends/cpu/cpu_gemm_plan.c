/*
 * Which path a GEMM takes: the packed engine (kernels/cpu/gemm_*) or the GEMV paths that read B
 * in place (kernels/cpu/gemv_*), chosen per shape class by measuring both on this machine.
 *
 * Where the two cross depends on the machine: memory bandwidth per core against FMA rate, cache
 * sizes, the ISA's kernels (a 16-bit B is compute-bound on f32 FMAs from m = 16 on a 2-core
 * Zen 4, memory-bound much longer on a 64-core server). So no constant decides it. A class is
 * (B stored k x n or transposed, B's dtype and whether A is bf16 too, m rounded up to 2, 4, 8,
 * 16, 32 or 64). The first product of a class with a B of at least CALIBRATE_MIN_BYTES is
 * preceded by a calibration: both paths run, alternately, on a synthetic product of the class
 * (m in the middle of its range, k 4096, B of twice the last-level cache, so that it streams from
 * memory as a model's weights do), and the faster wins for the class for the life of the device.
 * That costs 10-100 ms once per class and per process; XHAL_LOG=info shows every decision.
 *
 * Without a measurement yet, a small product (B in cache: the two paths differ little and a
 * calibration would cost more than the product) runs the GEMV path; m = 1 always does, and
 * m above XK_GEMV_MAX_M always packs. XHAL_CPU_GEMM=gemv or packed forces one path wherever it
 * can run (tests use it to run every case through both), auto (the default) measures.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu_internal.h"
#include "gemv_kernel.h"

/* B's bytes from which a product's class is calibrated rather than defaulted. */
#define CALIBRATE_MIN_BYTES (4u << 20)

enum { M_BUCKETS = 6, DTYPE_CLASSES = 4, CLASSES = 2 * DTYPE_CLASSES * M_BUCKETS };

struct cpu_gemm_plan {
    int forced;                          /* -1: measure; else a cpu_gemm_path_t */
    pthread_mutex_t lock;                /* one calibration at a time */
    _Atomic signed char choice[CLASSES]; /* -1: not measured yet */
};

cpu_gemm_plan_t *cpu_gemm_plan_create(const xhal_host_api_t *host) {
    cpu_gemm_plan_t *plan = calloc(1, sizeof *plan);
    if (!plan) return NULL;
    plan->forced = -1;
    const char *env = xhal_host_option(host, "XHAL_CPU_GEMM");
    if (env && !strcmp(env, "gemv"))
        plan->forced = CPU_GEMM_GEMV;
    else if (env && !strcmp(env, "packed"))
        plan->forced = CPU_GEMM_PACKED;
    else if (env && *env && strcmp(env, "auto"))
        host->log(XHAL_LOG_WARN, "XHAL_CPU_GEMM=\"%s\" is not auto, gemv or packed; using auto",
                  env);
    pthread_mutex_init(&plan->lock, NULL);
    for (int i = 0; i < CLASSES; i++)
        atomic_init(&plan->choice[i], (signed char)-1);
    return plan;
}

void cpu_gemm_plan_destroy(cpu_gemm_plan_t *plan) {
    if (!plan) return;
    pthread_mutex_destroy(&plan->lock);
    free(plan);
}

/* 0 for B f32, 1 for f16, 2 for bf16, 3 for bf16 with a bf16 A (dot-product kernels). */
static int dtype_class(const xhal_gemm_desc_t *d) {
    if (d->b_type == XHAL_DTYPE_F32) return 0;
    if (d->b_type == XHAL_DTYPE_F16) return 1;
    return d->a_type == XHAL_DTYPE_BF16 ? 3 : 2;
}

/* m up to 2, 4, 8, 16, 32, 64: 0 .. 5. */
static int m_bucket(int64_t m) {
    int bucket = 0;
    while (bucket < M_BUCKETS - 1 && m > (2 << bucket))
        bucket++;
    return bucket;
}

static const char *dtype_class_name(int dclass) {
    static const char *const names[DTYPE_CLASSES] = {"f32", "f16", "bf16", "bf16 x bf16"};
    return names[dclass];
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The last-level cache's bytes from /sys (the largest cache index of cpu0), else `fallback`. */
static uint64_t last_level_cache(uint64_t fallback) {
    uint64_t best = 0;
    for (int index = 0; index < 8; index++) {
        char path[96];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
        FILE *file = fopen(path, "r");
        if (!file) continue;
        unsigned long long value = 0;
        char unit = 0;
        if (fscanf(file, "%llu%c", &value, &unit) >= 1) {
            if (unit == 'K' || unit == 'k') value <<= 10;
            if (unit == 'M' || unit == 'm') value <<= 20;
            if (value > best) best = value;
        }
        fclose(file);
    }
    return best ? best : fallback;
}

/* Fills `count` elements of `type` with values in [-1, 1) that are exact in every dtype. */
static void fill(void *data, xhal_dtype_t type, size_t count) {
    uint32_t x = 12345;
    for (size_t i = 0; i < count; i++) {
        x = x * 1664525u + 1013904223u;
        float v = (float)(int)(x >> 25) / 64.0f - 1.0f;
        if (type == XHAL_DTYPE_F32)
            ((float *)data)[i] = v;
        else if (type == XHAL_DTYPE_BF16)
            ((uint16_t *)data)[i] = xhal_f32_to_bf16(v);
        else
            ((uint16_t *)data)[i] = xhal_f32_to_f16(v);
    }
}

/*
 * Times both paths on the class's representative product and returns the faster. Each path
 * runs three times, alternately; the first of each is a warm-up and the best of the others
 * counts, so that a spell of load from elsewhere on a shared machine rarely decides.
 */
static cpu_gemm_path_t calibrate(xhal_be_device_t *device, const xhal_gemm_desc_t *like, int dclass,
                                 int bucket, cpu_gemm_runner_fn run) {
    const xhal_host_api_t *host = device->host;
    xhal_gemm_desc_t d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    /* The middle of the bucket's range: 2, 4, 6, 12, 24, 48. */
    d.m = bucket < 2 ? (int64_t)2 << bucket : (int64_t)3 << (bucket - 1);
    d.k = 4096;
    d.a_type = dclass == 3 || dclass == 1 ? like->b_type
               : dclass == 0              ? like->a_type
                                          : XHAL_DTYPE_F32;
    d.b_type = like->b_type;
    d.c_type = XHAL_DTYPE_F32;
    size_t es = d.b_type == XHAL_DTYPE_F32 ? 4 : 2, as = d.a_type == XHAL_DTYPE_F32 ? 4 : 2;
    uint64_t bytes = 2 * last_level_cache(32u << 20);
    if (bytes < (32u << 20)) bytes = 32u << 20;
    d.n = (int64_t)(bytes / (d.k * es)) / 64 * 64;
    d.trans_b = like->trans_b;
    d.lda = d.k;
    d.ldb = d.trans_b ? d.k : d.n;
    d.ldc = d.n;
    d.batch = 1;
    d.alpha = 1.0f;
    void *a = malloc((size_t)(d.m * d.k) * as), *b = malloc((size_t)(d.k * d.n) * es);
    void *c = calloc((size_t)(d.m * d.n), sizeof(float));
    cpu_gemm_path_t best_path = CPU_GEMM_GEMV;
    double best[2] = {0, 0};
    int ok = a && b && c;
    if (ok) {
        fill(a, d.a_type, (size_t)(d.m * d.k));
        fill(b, d.b_type, (size_t)(d.k * d.n));
        for (int round = 0; ok && round < 3; round++)
            for (int path = 0; ok && path < 2; path++) {
                double start = now_seconds();
                ok = run(device, &d, a, b, c, (cpu_gemm_path_t)path) == 0;
                double seconds = now_seconds() - start;
                if (round > 0 && (best[path] == 0 || seconds < best[path])) best[path] = seconds;
            }
    }
    if (ok) {
        best_path = best[CPU_GEMM_PACKED] < best[CPU_GEMM_GEMV] ? CPU_GEMM_PACKED : CPU_GEMM_GEMV;
        host->log(XHAL_LOG_INFO,
                  "cpu gemm: class %s B %s m <= %lld measured on %lldx%lldx%lld: gemv %.3f ms, "
                  "packed %.3f ms: %s",
                  d.trans_b ? "transposed" : "k x n", dtype_class_name(dclass), 2ll << bucket,
                  (long long)d.m, (long long)d.n, (long long)d.k, best[CPU_GEMM_GEMV] * 1e3,
                  best[CPU_GEMM_PACKED] * 1e3, best_path == CPU_GEMM_GEMV ? "gemv" : "packed");
    } else {
        host->log(XHAL_LOG_INFO, "cpu gemm: no memory to calibrate class m <= %lld; using gemv",
                  2ll << bucket);
    }
    free(a);
    free(b);
    free(c);
    return best_path;
}

cpu_gemm_path_t cpu_gemm_plan_choose(xhal_be_device_t *device, const xhal_gemm_desc_t *d,
                                     cpu_gemm_runner_fn run) {
    cpu_gemm_plan_t *plan = device->gemm_plan;
    if (d->m > XK_GEMV_MAX_M) return CPU_GEMM_PACKED;
    if (plan->forced >= 0) return (cpu_gemm_path_t)plan->forced;
    if (d->m == 1) return CPU_GEMM_GEMV; /* packing B for one row never pays */
    int dclass = dtype_class(d), bucket = m_bucket(d->m);
    int index = ((d->trans_b ? 1 : 0) * DTYPE_CLASSES + dclass) * M_BUCKETS + bucket;
    signed char choice = atomic_load_explicit(&plan->choice[index], memory_order_acquire);
    if (choice >= 0) return (cpu_gemm_path_t)choice;
    uint64_t b_bytes = (uint64_t)(d->n * d->k) * (d->b_type == XHAL_DTYPE_F32 ? 4u : 2u);
    if (b_bytes < CALIBRATE_MIN_BYTES) return CPU_GEMM_GEMV;
    pthread_mutex_lock(&plan->lock);
    choice = atomic_load_explicit(&plan->choice[index], memory_order_acquire);
    if (choice < 0) {
        choice = (signed char)calibrate(device, d, dclass, bucket, run);
        atomic_store_explicit(&plan->choice[index], choice, memory_order_release);
    }
    pthread_mutex_unlock(&plan->lock);
    return (cpu_gemm_path_t)choice;
}
