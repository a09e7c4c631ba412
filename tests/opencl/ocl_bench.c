/*
 * A small timing program for the OpenCL backend's kernels through the public API, with events:
 * what docs/PERFORMANCE.md's OpenCL figures were measured with (before `xhal bench` existed).
 *
 *   ocl_bench [--device SPEC] [--repeats N] gemm M N K [f32|f16|bf16] [nn|nt|tn|tt]
 *   ocl_bench [--device SPEC] [--repeats N] attention BATCH HQ HKV SQ SKV D [causal] [dtype]
 *   ocl_bench [--device SPEC] [--repeats N] [--rounds R] serving decode|prefill BATCH MIN MAX
 *             [dtype]
 *
 * Inputs are random in [-1, 1]; one warm-up run (which also builds the kernels), then N timed
 * runs; prints the best and the median in ms and GFLOP/s, and the best as a share of the
 * device's f32 peak. Attention FLOPs are 4 * b * hq * sq * skv * d, halved for causal when
 * sq == skv (PEAKS.md). ctest runs it on tiny shapes so that it keeps building and running;
 * it exits 77 (skipped) when the device is not there.
 *
 * `serving` holds a serving attention to its dense yardstick, with the utilization shapes of
 * `xhal conform` (conformance/conf_serving.c: 64 query heads, 8 KV heads, head_dim 128, lengths
 * log-uniform from MIN to MAX): `decode` times a decode batch over a paged cache (blocks of 16,
 * scattered) against the same lengths packed contiguously (bytes/s of K and V), `prefill` a
 * packed causal prefill of mixed lengths against a dense causal prefill of BATCH sequences of
 * the same total tokens (FLOP/s). The two alternate, R rounds of N timed runs each (the machine
 * is shared), and each round prints both medians and their ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xhal/xhal.h>

#include "conf_internal.h"

static int fail(const char *what, xhal_status_t status) {
    fprintf(stderr, "ocl_bench: %s: %s: %s\n", what, xhal_status_name(status), xhal_last_error());
    return 1;
}

#define TRY(call)                                                                                  \
    do {                                                                                           \
        xhal_status_t st_ = (call);                                                                \
        if (st_ != XHAL_OK) return fail(#call, st_);                                               \
    } while (0)

static xhal_dtype_t parse_dtype(const char *text) {
    if (text && strcmp(text, "f16") == 0) return XHAL_DTYPE_F16;
    if (text && strcmp(text, "bf16") == 0) return XHAL_DTYPE_BF16;
    return XHAL_DTYPE_F32;
}

/* A device buffer of `count` random elements of `dtype`. */
static xhal_status_t random_buffer(xhal_device_t *device, xhal_stream_t *stream, size_t count,
                                   xhal_dtype_t dtype, xhal_buffer_t **out) {
    size_t size = xhal_dtype_size(dtype);
    unsigned char *host = malloc(count * size);
    if (!host) return XHAL_OUT_OF_MEMORY;
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < count; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        float value = (float)((double)(state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
        if (dtype == XHAL_DTYPE_F32) {
            memcpy(host + i * 4, &value, 4);
        } else {
            uint16_t h = dtype == XHAL_DTYPE_F16 ? xhal_f32_to_f16(value) : xhal_f32_to_bf16(value);
            memcpy(host + i * 2, &h, 2);
        }
    }
    xhal_status_t status = xhal_buffer_alloc(device, count * size, XHAL_MEMORY_DEVICE, out);
    if (status == XHAL_OK) status = xhal_copy_h2d(stream, *out, 0, host, count * size);
    if (status == XHAL_OK) status = xhal_stream_synchronize(stream);
    free(host);
    return status;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct op {
    int is_gemm;
    xhal_gemm_desc_t gemm;
    xhal_attention_desc_t attention;
} op_t;

static xhal_status_t run_op(xhal_stream_t *stream, const op_t *op) {
    return op->is_gemm ? xhal_gemm(stream, &op->gemm) : xhal_attention(stream, &op->attention);
}

/* Times `repeats` runs of `op` with events into ms[] (sorted). */
static xhal_status_t time_op(xhal_stream_t *stream, xhal_event_t *start, xhal_event_t *stop,
                             const op_t *op, int repeats, double *ms) {
    for (int r = 0; r < repeats; r++) {
        xhal_status_t st = xhal_event_record(start, stream);
        if (st == XHAL_OK) st = run_op(stream, op);
        if (st == XHAL_OK) st = xhal_event_record(stop, stream);
        if (st == XHAL_OK) st = xhal_event_synchronize(stop);
        if (st == XHAL_OK) st = xhal_event_elapsed_ms(start, stop, &ms[r]);
        if (st != XHAL_OK) return st;
    }
    qsort(ms, (size_t)repeats, sizeof(double), compare_double);
    return XHAL_OK;
}

/* An int32 index array on the device (NULL for none). */
static xhal_status_t index_buffer(xhal_device_t *device, xhal_stream_t *stream,
                                  const int32_t *values, int64_t count, xhal_buffer_t **out) {
    *out = NULL;
    if (!values) return XHAL_OK;
    xhal_status_t st = xhal_buffer_alloc(device, (uint64_t)count * 4, XHAL_MEMORY_DEVICE, out);
    if (st == XHAL_OK) st = xhal_copy_h2d(stream, *out, 0, values, (uint64_t)count * 4);
    return st == XHAL_OK ? xhal_stream_synchronize(stream) : st;
}

/* One side of a serving comparison: the op, its buffers, and its work (FLOPs or bytes). */
typedef struct side {
    op_t op;
    xhal_buffer_t *buffers[8];
    double work;
} side_t;

static xhal_status_t side_make(xhal_device_t *device, xhal_stream_t *stream,
                               const conf_serving_t *shape, xhal_dtype_t dtype, side_t *out) {
    memset(out, 0, sizeof *out);
    xhal_attention_desc_t *d = &out->op.attention;
    xhal_attention_desc_init(d, 1, 64, 8, 1, 1, 128, dtype, XHAL_LAYOUT_BSHD);
    conf_serving_arrays_t a;
    if (conf_serving_build(shape, d, &a) != 0) return XHAL_OUT_OF_MEMORY;
    double elements[4];
    conf_serving_elements(d, &a, elements);
    out->work = shape->kind == CONF_SERVING_PREFILL_VARLEN ? conf_serving_flops(d, &a)
                                                           : conf_serving_bytes(d, &a);
    xhal_status_t st = XHAL_OK;
    for (int i = 0; i < 4 && st == XHAL_OK; i++)
        st = random_buffer(device, stream, (size_t)elements[i], dtype, &out->buffers[i]);
    int64_t batch = d->batch;
    if (st == XHAL_OK) st = index_buffer(device, stream, a.cu_q, batch + 1, &out->buffers[4]);
    if (st == XHAL_OK) st = index_buffer(device, stream, a.cu_kv, batch + 1, &out->buffers[5]);
    if (st == XHAL_OK) st = index_buffer(device, stream, a.lens_kv, batch, &out->buffers[6]);
    if (st == XHAL_OK) st = index_buffer(device, stream, a.table, a.table_count, &out->buffers[7]);
    conf_serving_free(&a);
    d->q = out->buffers[0], d->k = out->buffers[1], d->v = out->buffers[2];
    d->o = out->buffers[3], d->cu_seqlens_q = out->buffers[4], d->cu_seqlens_kv = out->buffers[5];
    d->seqlens_kv = out->buffers[6], d->block_table = out->buffers[7];
    return st;
}

/* The dense yardstick of a varlen prefill: `batch` causal sequences of its mean length. */
static xhal_status_t dense_make(xhal_device_t *device, xhal_stream_t *stream, int64_t batch,
                                int64_t rows, xhal_dtype_t dtype, side_t *out) {
    memset(out, 0, sizeof *out);
    int64_t len = rows / batch > 0 ? rows / batch : 1;
    xhal_attention_desc_t *d = &out->op.attention;
    xhal_attention_desc_init(d, batch, 64, 8, len, len, 128, dtype, XHAL_LAYOUT_BSHD);
    d->causal = 1;
    size_t q = (size_t)(batch * len * 64 * 128), kv = (size_t)(batch * len * 8 * 128);
    size_t counts[4] = {q, kv, kv, q};
    xhal_status_t st = XHAL_OK;
    for (int i = 0; i < 4 && st == XHAL_OK; i++)
        st = random_buffer(device, stream, counts[i], dtype, &out->buffers[i]);
    d->q = out->buffers[0], d->k = out->buffers[1], d->v = out->buffers[2], d->o = out->buffers[3];
    out->work = 4.0 * 64 * 128 * (double)batch * (double)len * (double)(len + 1) / 2;
    return st;
}

static void side_free(side_t *side) {
    for (int i = 0; i < 8; i++)
        xhal_buffer_free(side->buffers[i]);
}

/* `serving decode|prefill BATCH MIN MAX [dtype]`: both sides, alternating, `rounds` times. */
static int serving(xhal_device_t *device, xhal_stream_t *stream, xhal_event_t *start,
                   xhal_event_t *stop, char **argv, int argc, int repeats, int rounds) {
    int prefill = strcmp(argv[0], "prefill") == 0;
    if ((!prefill && strcmp(argv[0], "decode") != 0) || argc < 4) {
        fprintf(stderr, "ocl_bench: serving decode|prefill BATCH MIN MAX [dtype]\n");
        return 2;
    }
    int64_t batch = atoll(argv[1]), lo = atoll(argv[2]), hi = atoll(argv[3]);
    xhal_dtype_t dtype = parse_dtype(argc > 4 ? argv[4] : "bf16");
    conf_serving_t shape = {prefill ? CONF_SERVING_PREFILL_VARLEN : CONF_SERVING_DECODE_PAGED,
                            batch,
                            lo,
                            hi,
                            0,
                            prefill ? 0 : 16,
                            XHAL_LAYOUT_BSHD};
    conf_serving_t packed = shape;
    packed.kind = CONF_SERVING_DECODE_PACKED;
    packed.block_size = 0;
    side_t sides[2];
    memset(sides, 0, sizeof sides);
    TRY(side_make(device, stream, &shape, dtype, &sides[0]));
    if (prefill)
        TRY(dense_make(device, stream, batch, sides[0].op.attention.seq_q, dtype, &sides[1]));
    else
        TRY(side_make(device, stream, &packed, dtype, &sides[1]));
    const char *names[2] = {prefill ? "varlen" : "paged", prefill ? "dense" : "packed"};
    const char *unit = prefill ? "GFLOP/s" : "GB/s";
    printf("serving %s b%lld hq64 hkv8 d128 %lld..%lld %s", argv[0], (long long)batch,
           (long long)lo, (long long)hi, xhal_dtype_name(dtype));
    if (prefill)
        printf(" (dense: %lld x %lld)", (long long)sides[1].op.attention.batch,
               (long long)sides[1].op.attention.seq_q);
    printf("\n");
    double *ms = calloc((size_t)repeats, sizeof(double)), *ratios = calloc((size_t)rounds, 8);
    if (!ms || !ratios) return 1;
    for (int s = 0; s < 2; s++) { /* warm-up: builds and caches the kernels */
        TRY(run_op(stream, &sides[s].op));
        TRY(xhal_stream_synchronize(stream));
    }
    for (int r = 0; r < rounds; r++) {
        double rate[2];
        for (int s = 0; s < 2; s++) {
            TRY(time_op(stream, start, stop, &sides[s].op, repeats, ms));
            rate[s] = sides[s].work / ms[repeats / 2] * 1e-6;
        }
        ratios[r] = rate[0] / rate[1];
        printf("round %d: %s %.2f %s, %s %.2f %s: %.0f%%\n", r + 1, names[0], rate[0], unit,
               names[1], rate[1], unit, 100 * ratios[r]);
    }
    qsort(ratios, (size_t)rounds, sizeof(double), compare_double);
    printf("median of %d rounds: %s at %.0f%% of %s\n", rounds, names[0], 100 * ratios[rounds / 2],
           names[1]);
    free(ms);
    free(ratios);
    side_free(&sides[0]);
    side_free(&sides[1]);
    return 0;
}

int main(int argc, char **argv) {
    const char *spec = "opencl";
    int repeats = 5, rounds = 3, i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--device") == 0) spec = argv[i + 1];
        if (strcmp(argv[i], "--repeats") == 0) repeats = atoi(argv[i + 1]);
        if (strcmp(argv[i], "--rounds") == 0) rounds = atoi(argv[i + 1]);
    }
    if (i >= argc || repeats < 1 || rounds < 1) {
        fprintf(stderr, "usage: ocl_bench [--device SPEC] [--repeats N] gemm M N K [dtype] "
                        "[nn|nt|tn|tt]\n"
                        "       ocl_bench [--device SPEC] [--repeats N] attention B HQ HKV SQ "
                        "SKV D [causal] [dtype]\n"
                        "       ocl_bench [--device SPEC] [--repeats N] [--rounds R] serving "
                        "decode|prefill BATCH MIN MAX [dtype]\n");
        return 2;
    }
    xhal_device_t *device = NULL;
    xhal_stream_t *stream = NULL;
    xhal_event_t *start = NULL, *stop = NULL;
    xhal_status_t opened = xhal_device_open(spec, &device);
    if (opened == XHAL_UNAVAILABLE) {
        printf("ocl_bench: no device %s: %s\n", spec, xhal_last_error());
        xhal_shutdown();
        return 77; /* skipped, for ctest */
    }
    TRY(opened);
    xhal_device_info_t info = {.struct_size = sizeof info};
    TRY(xhal_device_info(device, &info));
    TRY(xhal_stream_create(device, &stream));
    TRY(xhal_event_create(device, &start));
    TRY(xhal_event_create(device, &stop));

    if (strcmp(argv[i], "serving") == 0 && argc - i >= 2) {
        int status =
            serving(device, stream, start, stop, argv + i + 1, argc - i - 1, repeats, rounds);
        xhal_event_destroy(start);
        xhal_event_destroy(stop);
        xhal_stream_destroy(stream);
        xhal_shutdown();
        return status;
    }

    op_t op;
    memset(&op, 0, sizeof(op));
    xhal_buffer_t *buffers[4] = {NULL, NULL, NULL, NULL};
    double flops = 0;
    char shape[160];
    if (strcmp(argv[i], "gemm") == 0 && argc - i >= 4) {
        int64_t m = atoll(argv[i + 1]), n = atoll(argv[i + 2]), k = atoll(argv[i + 3]);
        xhal_dtype_t dtype = parse_dtype(argc - i > 4 ? argv[i + 4] : NULL);
        const char *trans = argc - i > 5 ? argv[i + 5] : "nn";
        op.is_gemm = 1;
        xhal_gemm_desc_init(&op.gemm, m, n, k, dtype);
        op.gemm.c_type = XHAL_DTYPE_F32;
        op.gemm.trans_a = trans[0] == 't';
        op.gemm.trans_b = trans[1] == 't';
        op.gemm.lda = op.gemm.trans_a ? m : k;
        op.gemm.ldb = op.gemm.trans_b ? k : n;
        TRY(random_buffer(device, stream, (size_t)(m * k), dtype, &buffers[0]));
        TRY(random_buffer(device, stream, (size_t)(k * n), dtype, &buffers[1]));
        TRY(random_buffer(device, stream, (size_t)(m * n), XHAL_DTYPE_F32, &buffers[2]));
        op.gemm.a = buffers[0];
        op.gemm.b = buffers[1];
        op.gemm.c = buffers[2];
        flops = 2.0 * (double)m * (double)n * (double)k;
        snprintf(shape, sizeof(shape), "gemm %lldx%lldx%lld %s %s", (long long)m, (long long)n,
                 (long long)k, xhal_dtype_name(dtype), trans);
    } else if (strcmp(argv[i], "attention") == 0 && argc - i >= 7) {
        int64_t b = atoll(argv[i + 1]), hq = atoll(argv[i + 2]), hkv = atoll(argv[i + 3]);
        int64_t sq = atoll(argv[i + 4]), skv = atoll(argv[i + 5]), d = atoll(argv[i + 6]);
        int causal = argc - i > 7 && strcmp(argv[i + 7], "causal") == 0;
        xhal_dtype_t dtype = parse_dtype(argc - i > 8 ? argv[i + 8] : NULL);
        xhal_attention_desc_init(&op.attention, b, hq, hkv, sq, skv, d, dtype, XHAL_LAYOUT_BHSD);
        op.attention.causal = causal;
        size_t q = (size_t)(b * hq * sq * d), kv = (size_t)(b * hkv * skv * d);
        TRY(random_buffer(device, stream, q, dtype, &buffers[0]));
        TRY(random_buffer(device, stream, kv, dtype, &buffers[1]));
        TRY(random_buffer(device, stream, kv, dtype, &buffers[2]));
        TRY(random_buffer(device, stream, q, dtype, &buffers[3]));
        op.attention.q = buffers[0];
        op.attention.k = buffers[1];
        op.attention.v = buffers[2];
        op.attention.o = buffers[3];
        flops = 4.0 * (double)(b * hq * sq * skv * d);
        if (causal && sq == skv) flops /= 2;
        snprintf(shape, sizeof(shape), "attention b%lld hq%lld hkv%lld sq%lld skv%lld d%lld %s%s",
                 (long long)b, (long long)hq, (long long)hkv, (long long)sq, (long long)skv,
                 (long long)d, xhal_dtype_name(dtype), causal ? " causal" : "");
    } else {
        fprintf(stderr, "ocl_bench: unknown or incomplete op\n");
        return 2;
    }

    TRY(run_op(stream, &op)); /* warm-up: builds and caches the kernels */
    TRY(xhal_stream_synchronize(stream));
    double *ms = calloc((size_t)repeats, sizeof(double));
    if (!ms) return 1;
    TRY(time_op(stream, start, stop, &op, repeats, ms));
    double best = ms[0], median = ms[repeats / 2];
    double peak = info.peak_flops[XHAL_DTYPE_F32];
    printf("%s on %s: best %.3f ms (%.1f GFLOP/s", shape, info.name, best, flops / best * 1e-6);
    if (peak > 0)
        printf(", %.0f%% of the %.0f GFLOP/s f32 peak", flops / best * 1e3 / peak * 100,
               peak * 1e-9);
    printf("), median %.3f ms (%.1f GFLOP/s) of %d\n", median, flops / median * 1e-6, repeats);

    free(ms);
    for (int b = 0; b < 4; b++)
        xhal_buffer_free(buffers[b]);
    xhal_event_destroy(start);
    xhal_event_destroy(stop);
    xhal_stream_destroy(stream);
    xhal_shutdown();
    return 0;
}
