/* The measuring half of `xhal bench`: shapes parsed, buffers made, ops timed and printed. */
#ifndef XHAL_TOOL_BENCH_RUN_H
#define XHAL_TOOL_BENCH_RUN_H

#include <stddef.h>

#include "bench.h"

typedef struct bench_options {
    xhal_dtype_t dtype;
    int trans_b, causal, stream;
    int repeats, warmup;
    const bench_baseline_t *baseline; /* NULL: xhal alone */
} bench_options_t;

/* True for the ops bench_run knows. */
int bench_op_known(const char *op);

/* Opens the device and times `op` for each shape; returns a TOOL_EXIT_* code. */
int bench_run(const char *op, const char *spec, const bench_options_t *o, const char **shapes,
              size_t shape_count);

/* The host's STREAM triad bandwidth in bytes/s on `threads` threads (best of a few runs). */
double bench_stream_triad(int threads);

/* The median of `count` values (sorts them). */
double bench_median(double *values, size_t count);

/* How many copies of a working set of `bytes` to rotate through so they outgrow the caches. */
int bench_rotation(double bytes);

#endif
