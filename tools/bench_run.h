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
    xhal_layout_t layout; /* attention: of Q, K, V and O (a shape may name its own) */
    int64_t block_size;   /* attention: tokens per block of a paged cache */
    int repeats, warmup;
    int rounds; /* the whole measurement this many times; the best median of each side counts */
    const bench_baseline_t *baseline; /* NULL: xhal alone */
} bench_options_t;

#define MAX_ROTATION 16

/* What the timing of every op shares: the device, its stream and events, the options. */
typedef struct bench_ctx {
    xhal_device_t *device;
    xhal_device_info_t info;
    xhal_stream_t *stream;
    xhal_event_t *events[2]; /* around each run (conf_time_runs, synchronize_each) */
    const bench_options_t *o;
    double stream_bw; /* host STREAM Copy (--stream), the best of the run so far; 0: none */
    double copy_bw;   /* the device's copy bandwidth in this round (--copy); 0: not measured */
} bench_ctx_t;

/* What one shape measured, for the printed line. */
typedef struct bench_figure {
    double seconds, flops, bytes, peak_flops;
} bench_figure_t;

/*
 * Allocates `count` buffers of `elements` each; fills the inputs (fill 1) with random values in
 * [-1, 1) from `seed` and poisons the outputs (fill 0: all bits set, NaN).
 */
xhal_status_t bench_make_set(bench_ctx_t *c, xhal_buffer_t **out, int count, uint64_t elements,
                             xhal_dtype_t dtype, int fill, uint64_t seed);
void bench_free_set(xhal_buffer_t **set, int count);

/* Enqueues the op with the inputs of rotation copy r. */
typedef xhal_status_t (*bench_enqueue_fn)(bench_ctx_t *c, void *op, int r);

/* Runs enqueue(r) for warm-up and timed runs; *out_seconds is the median of the timed ones. */
xhal_status_t bench_time_op(bench_ctx_t *c, bench_enqueue_fn enqueue, void *op, int rotation,
                            double *out_seconds);

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

/* ---- Attention (bench_attention.c) ---- */

/* What a timed attention was, for pairing figures of one run (paged vs packed, varlen vs dense). */
typedef struct bench_att_shape {
    int kind; /* 0 dense, else a conf_serving_kind_t */
    xhal_dtype_t dtype;
    xhal_layout_t layout;
    int causal;
    int64_t batch, heads_q, heads_kv, seq_q, seq_kv, head_dim; /* dense */
    int64_t min_len, max_len, tokens;                          /* serving; tokens: all queries */
} bench_att_shape_t;

/* 1 when `shape` (after any dtype prefix) is an attention shape the bench reads. */
int bench_attention_valid(const char *shape);

/* Times one attention shape; fills *f (seconds: the median) and *out_shape. */
xhal_status_t bench_attention(bench_ctx_t *c, const char *shape, char *label, size_t size,
                              bench_figure_t *f, bench_att_shape_t *out_shape);

/*
 * Whether figure x is judged against figure y in the run: 1 when x is a paged decode and y a
 * packed one of the same lengths (x's bytes/s against y's), 2 when x is a varlen prefill and y
 * the dense causal prefill of the same batch and total tokens (FLOP/s against FLOP/s); else 0.
 */
int bench_attention_pair(const bench_att_shape_t *x, const bench_att_shape_t *y);

#endif
