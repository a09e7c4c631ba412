/* `xhal bench gemm` for serving (bench_gemm_serving.c): quantized weights, epilogues, copy
 * bandwidth. */
#ifndef XHAL_TOOL_BENCH_SERVING_H
#define XHAL_TOOL_BENCH_SERVING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xhal/xhal.h>

/* A quantized B a shape names: "q4g128:1x4096x14336" (B n x k, bf16 scales). */
typedef struct bench_quant {
    const char *name; /* q4g32, q4g64, q4g128 (a trailing z: zero points), q8, e4m3, e5m2 */
    xhal_quant_t quant;
    xhal_scale_mode_t mode;
    int64_t group;
    int zeros;
} bench_quant_t;

/* Returns 1 and fills *out when text[0..length) names a format, else 0. */
int bench_quant_parse(const char *text, size_t length, bench_quant_t *out);

typedef struct bench_quant_sizes {
    uint64_t weight_bytes, scales, zero_bytes;
} bench_quant_sizes_t;

/* Sets the quantized-B fields of d (m, n, k set) and the sizes its buffers take. */
void bench_quant_describe(const bench_quant_t *q, xhal_gemm_desc_t *d, bench_quant_sizes_t *out);

typedef struct bench_quant_buffers {
    xhal_buffer_t *weights, *scales, *zeros;
} bench_quant_buffers_t;

/* Allocates and fills (random codes, finite; scales 0.5..1.5) one set of quantized weights. */
xhal_status_t bench_quant_make(xhal_device_t *device, xhal_stream_t *stream, const bench_quant_t *q,
                               const bench_quant_sizes_t *sizes, uint64_t seed,
                               bench_quant_buffers_t *out);
void bench_quant_free(bench_quant_buffers_t *b);

/* --epilogue: words joined by '+': bias, gated, and one of relu, gelu, gelu-tanh, silu. */
typedef struct bench_epilogue {
    int bias, gated;
    xhal_activation_t activation;
    char text[64]; /* as given, for labels */
} bench_epilogue_t;

/* Returns 1 and fills *out for a valid text, else 0. */
int bench_epilogue_parse(const char *text, bench_epilogue_t *out);
/* Sets the epilogue fields of d (bias_type f32; gated: ldc n / 2); the bias buffer is the
 * caller's. */
void bench_epilogue_apply(const bench_epilogue_t *e, xhal_gemm_desc_t *d);

/* The device's d2d copy bandwidth (read + written bytes per second, best of a few 256 MiB
 * copies); 0 when it cannot be measured. */
double bench_copy_bandwidth(xhal_device_t *device, xhal_stream_t *stream);

#endif
