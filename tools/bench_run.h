/* The measuring half of `xhal bench`: shapes parsed, buffers made, ops timed and printed. */
#ifndef XHAL_TOOL_BENCH_RUN_H
#define XHAL_TOOL_BENCH_RUN_H

#include <stddef.h>

#include "bench.h"
#include "bench_serving.h"

typedef struct bench_options {
    xhal_dtype_t dtype;
    bench_quant_t quant;              /* gemm: a quantized B (a shape prefix); name NULL: dense */
    const bench_epilogue_t *epilogue; /* gemm: NULL for none */
    int copy; /* also measure the device's copy bandwidth and print figures against it */
    int trans_b, causal, stream;
    int repeats, warmup;
    int rounds; /* the whole measurement this many times; the best median of each side counts */
    const bench_baseline_t *baseline; /* NULL: xhal alone */
} bench_options_t;

/*
 * Warm-up lasts at least `warmup` runs and at least this long. On the CPU the first tens of
 * milliseconds of work after an idle spell run up to 3x slower (cores brought back from idle by
 * the host), so two runs of a 1.5 ms GEMM were not enough: a third of the processes timed 512^3
 * at half speed.
 */
#define BENCH_WARMUP_SECONDS 0.25

/* True for the ops bench_run knows. */
int bench_op_known(const char *op);

/* Opens the device and times `op` for each shape; returns a TOOL_EXIT_* code. */
int bench_run(const char *op, const char *spec, const bench_options_t *o, const char **shapes,
              size_t shape_count);

/* The host's STREAM Copy and Triad bandwidths in bytes/s on `threads` threads (STREAM's byte
 * counts, best of several trials); 0, or -1 with zeros when they cannot be measured. */
int bench_stream(int threads, double *out_copy, double *out_triad);

/*
 * A malloc'ed host array of `count` random values in [-1, 1) of `dtype` (seeded: the same
 * values for the same seed), for the baselines' inputs; NULL when out of memory.
 */
unsigned char *bench_random_values(xhal_dtype_t dtype, int64_t count, uint64_t seed);

/* The median of `count` values (sorts them). */
double bench_median(double *values, size_t count);

/* How many copies of a working set of `bytes` to rotate through on the device so that they
 * outgrow its caches (conf_rotation; at most 16). The timing itself is the conformance suite's
 * (conf_time_runs, conform.h), and so are its median and warm-up rule, which the baselines use. */
int bench_rotation(const xhal_device_info_t *info, double bytes);

#endif
