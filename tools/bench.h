/*
 * `xhal bench`: times one op on one device and, with --vs NAME, the best library for that device
 * on the same shapes in the same process. A baseline library is optional: it is dlopen'ed at
 * run time, so neither libxhal nor the tool's build depends on it.
 */
#ifndef XHAL_TOOL_BENCH_H
#define XHAL_TOOL_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <xhal/xhal.h>

/* One GEMM shape as the bench runs it: row-major C (m x n) = A (m x k) * B (k x n), f32 C. */
typedef struct bench_gemm_shape {
    int64_t m, n, k;
    xhal_dtype_t dtype; /* of A and B */
    int repeats;        /* timed runs after the warm-up; the baseline reports their median */
    int warmup;         /* untimed runs first, at least (see BENCH_WARMUP_SECONDS) */
    int rotation;       /* input sets to rotate through: the number xhal's runs used */
} bench_gemm_shape_t;

typedef struct bench_baseline {
    const char *name;        /* what --vs takes: "openblas", "clblast", "cublas" */
    const char *description; /* one line for --help */
    /*
     * Loads the library and prepares to run on the device `info` describes (matched by name).
     * Returns 0 on success; else writes a sentence to `reason` ("libopenblas.so.0 not found:
     * install libopenblas0") and returns -1.
     */
    int (*load)(const xhal_device_info_t *info, char *reason, size_t reason_size);
    /*
     * Times the GEMM with fresh random inputs the baseline makes itself; returns the median
     * seconds of `repeats` runs after a warm-up, or a negative value with `reason` written when
     * the library cannot run this shape or dtype.
     */
    double (*time_gemm)(const bench_gemm_shape_t *shape, char *reason, size_t reason_size);
    /* Releases what load made; safe to call after a failed load. */
    void (*unload)(void);
} bench_baseline_t;

/* The baselines compiled into the tool (each file defines one; NULL-terminated list in bench.c). */
extern const bench_baseline_t bench_baseline_openblas;
extern const bench_baseline_t bench_baseline_clblast;
extern const bench_baseline_t bench_baseline_cublas;
extern const bench_baseline_t bench_baseline_rocblas;

#endif
