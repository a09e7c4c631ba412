/*
 * `xhal bench gemm` for serving: quantized weights (a shape prefix such as q4g128: or e4m3:),
 * epilogues (--epilogue bias+gelu), and the device's copy bandwidth measured in the run, which
 * a memory-bound GEMV is judged against (--copy).
 */
#include <stdlib.h>
#include <string.h>

#include "bench_serving.h"
#include "conform.h"

typedef struct quant_name {
    const char *name;
    xhal_quant_t quant;
    xhal_scale_mode_t mode;
    int64_t group;
    int zeros;
} quant_name_t;

static const quant_name_t quant_names[] = {
    {"q4g32", XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 32, 0},
    {"q4g64", XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 64, 0},
    {"q4g128", XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 128, 0},
    {"q4g32z", XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 32, 1},
    {"q4g64z", XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 64, 1},
    {"q4g128z", XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 128, 1},
    {"q8", XHAL_QUANT_INT8, XHAL_SCALE_PER_CHANNEL, 0, 0},
    {"e4m3", XHAL_QUANT_FP8_E4M3, XHAL_SCALE_PER_CHANNEL, 0, 0},
    {"e5m2", XHAL_QUANT_FP8_E5M2, XHAL_SCALE_PER_CHANNEL, 0, 0},
};

int bench_quant_parse(const char *text, size_t length, bench_quant_t *out) {
    for (size_t i = 0; i < sizeof quant_names / sizeof quant_names[0]; i++) {
        const quant_name_t *q = &quant_names[i];
        if (strlen(q->name) != length || strncmp(text, q->name, length)) continue;
        *out = (bench_quant_t){q->name, q->quant, q->mode, q->group, q->zeros};
        return 1;
    }
    return 0;
}

int bench_epilogue_parse(const char *text, bench_epilogue_t *out) {
    static const struct {
        const char *name;
        xhal_activation_t activation;
    } activations[] = {{"relu", XHAL_ACTIVATION_RELU},
                       {"gelu", XHAL_ACTIVATION_GELU_ERF},
                       {"gelu-tanh", XHAL_ACTIVATION_GELU_TANH},
                       {"silu", XHAL_ACTIVATION_SILU}};
    memset(out, 0, sizeof *out);
    snprintf(out->text, sizeof out->text, "%s", text);
    char copy[64];
    size_t length = strlen(text);
    if (length >= sizeof copy) return 0;
    memcpy(copy, text, length + 1);
    int have_activation = 0;
    for (char *save = NULL, *word = strtok_r(copy, "+", &save); word;
         word = strtok_r(NULL, "+", &save)) {
        int known = 0;
        if (!strcmp(word, "bias")) out->bias = known = 1;
        if (!strcmp(word, "gated")) out->gated = known = 1;
        for (size_t i = 0; i < sizeof activations / sizeof activations[0]; i++)
            if (!strcmp(word, activations[i].name)) {
                if (have_activation++) return 0; /* one activation */
                out->activation = activations[i].activation;
                known = 1;
            }
        if (!known) return 0;
    }
    return 1;
}

void bench_epilogue_apply(const bench_epilogue_t *e, xhal_gemm_desc_t *d) {
    d->activation = e->activation;
    d->gated = e->gated;
    d->bias_type = XHAL_DTYPE_F32;
    if (e->gated) d->ldc = d->n / 2;
}

/* Random bytes, AND `mask` (FP8: bit 6 cleared, so no code is Inf or NaN). */
static xhal_status_t fill_bytes(xhal_stream_t *stream, xhal_buffer_t *buffer, uint64_t size,
                                unsigned mask, uint64_t seed) {
    unsigned char *host = malloc(size ? size : 1);
    if (!host) return XHAL_OUT_OF_MEMORY;
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (uint64_t i = 0; i < size; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        host[i] = (unsigned char)((x >> 24) & mask);
    }
    xhal_status_t status = xhal_copy_h2d(stream, buffer, 0, host, size);
    if (status == XHAL_OK) status = xhal_stream_synchronize(stream);
    free(host);
    return status;
}

/* Scales in bf16, 0.5 to 1.5: any values do for timing, finite ones keep C finite. */
static xhal_status_t fill_scales(xhal_stream_t *stream, xhal_buffer_t *buffer, uint64_t count,
                                 uint64_t seed) {
    uint16_t *host = malloc(count * sizeof *host);
    if (!host) return XHAL_OUT_OF_MEMORY;
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 3;
    for (uint64_t i = 0; i < count; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        host[i] = xhal_f32_to_bf16(0.5f + (float)(x >> 40) / (float)(1 << 24));
    }
    xhal_status_t status = xhal_copy_h2d(stream, buffer, 0, host, count * sizeof *host);
    if (status == XHAL_OK) status = xhal_stream_synchronize(stream);
    free(host);
    return status;
}

void bench_quant_describe(const bench_quant_t *q, xhal_gemm_desc_t *d, bench_quant_sizes_t *out) {
    d->trans_b = 1; /* weights as a linear layer stores them: n x k */
    d->ldb = q->quant == XHAL_QUANT_INT4 ? (d->k + 1) / 2 * 2 : d->k;
    d->b_quant = q->quant;
    d->b_scale_mode = q->mode;
    d->b_group_size = q->group;
    d->b_scale_type = XHAL_DTYPE_BF16;
    uint64_t elements = (uint64_t)(d->n * d->ldb);
    out->weight_bytes = q->quant == XHAL_QUANT_INT4 ? elements / 2 : elements;
    out->scales = (uint64_t)d->n * (q->group ? (uint64_t)((d->k + q->group - 1) / q->group) : 1);
    out->zero_bytes = q->zeros ? out->scales : 0;
}

xhal_status_t bench_quant_make(xhal_device_t *device, xhal_stream_t *stream, const bench_quant_t *q,
                               const bench_quant_sizes_t *sizes, uint64_t seed,
                               bench_quant_buffers_t *out) {
    memset(out, 0, sizeof *out);
    unsigned mask =
        q->quant == XHAL_QUANT_FP8_E4M3 || q->quant == XHAL_QUANT_FP8_E5M2 ? 0xbfu : 0xffu;
    xhal_status_t status =
        xhal_buffer_alloc(device, sizes->weight_bytes, XHAL_MEMORY_DEVICE, &out->weights);
    if (status == XHAL_OK)
        status = fill_bytes(stream, out->weights, sizes->weight_bytes, mask, seed);
    if (status == XHAL_OK)
        status = xhal_buffer_alloc(device, sizes->scales * 2, XHAL_MEMORY_DEVICE, &out->scales);
    if (status == XHAL_OK) status = fill_scales(stream, out->scales, sizes->scales, seed);
    if (status == XHAL_OK && sizes->zero_bytes) {
        status = xhal_buffer_alloc(device, sizes->zero_bytes, XHAL_MEMORY_DEVICE, &out->zeros);
        if (status == XHAL_OK)
            status = fill_bytes(stream, out->zeros, sizes->zero_bytes, 0x0fu, seed + 7);
    }
    return status;
}

void bench_quant_free(bench_quant_buffers_t *b) {
    xhal_buffer_free(b->weights);
    xhal_buffer_free(b->scales);
    xhal_buffer_free(b->zeros);
    memset(b, 0, sizeof *b);
}

/* ---- Copy bandwidth ---- */

#define COPY_BYTES (256ull << 20) /* past any cache */
#define COPY_RUNS 8

typedef struct copy_run {
    xhal_stream_t *stream;
    xhal_buffer_t *src, *dst;
} copy_run_t;

static xhal_status_t enqueue_copy(void *context, int run) {
    (void)run;
    copy_run_t *c = context;
    return xhal_copy_d2d(c->stream, c->dst, 0, c->src, 0, COPY_BYTES);
}

double bench_copy_bandwidth(xhal_device_t *device, xhal_stream_t *stream) {
    copy_run_t c = {stream, NULL, NULL};
    xhal_event_t *events[2] = {NULL, NULL};
    const uint32_t one = 0x3f800000u;
    xhal_status_t status = xhal_buffer_alloc(device, COPY_BYTES, XHAL_MEMORY_DEVICE, &c.src);
    if (status == XHAL_OK)
        status = xhal_buffer_alloc(device, COPY_BYTES, XHAL_MEMORY_DEVICE, &c.dst);
    for (int i = 0; status == XHAL_OK && i < 2; i++)
        status = xhal_event_create(device, &events[i]);
    /* Both buffers written once first: no run pays for first-touching pages. */
    if (status == XHAL_OK) status = xhal_fill(stream, c.src, 0, COPY_BYTES, &one, 4);
    if (status == XHAL_OK) status = xhal_fill(stream, c.dst, 0, COPY_BYTES, &one, 4);
    /* The suite's timing loop (conform.h): one warm-up run, then each run timed alone. */
    conf_timing_t timing = {.warmup_runs = 1, .repeats = COPY_RUNS - 1, .synchronize_each = 1};
    conf_timed_t timed = {0};
    if (status == XHAL_OK)
        status = conf_time_runs(stream, events, &timing, enqueue_copy, &c, &timed);
    for (int i = 0; i < 2; i++)
        xhal_event_destroy(events[i]);
    xhal_buffer_free(c.src);
    xhal_buffer_free(c.dst);
    /* The best run, read plus written, as PEAKS.md counts a copy. */
    return status == XHAL_OK && timed.min_ms > 0 ? 2.0 * (double)COPY_BYTES / (timed.min_ms * 1e-3)
                                                 : 0;
}
