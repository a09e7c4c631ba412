/* Timing ops for `xhal bench`: one function per op, sharing buffers, rotation and reporting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_run.h"
#include "conform.h"
#include "tool_util.h"

int bench_op_known(const char *op) {
    return !strcmp(op, "gemm") || !strcmp(op, "attention") || !strcmp(op, "copy");
}

int bench_rotation(const xhal_device_info_t *info, double bytes) {
    return conf_rotation(bytes, conf_rotate_bytes(info), MAX_ROTATION,
                         info->memory_bytes ? (double)info->memory_bytes / 4 : 0);
}

/* Fills a buffer with values in [-1, 1) of `dtype` (never all zeros: zeros hide bugs and run
 * faster on some hardware). */
static xhal_status_t fill_random(bench_ctx_t *c, xhal_buffer_t *buffer, uint64_t elements,
                                 xhal_dtype_t dtype, uint64_t seed) {
    size_t es = xhal_dtype_size(dtype);
    unsigned char *host = elements > 0 ? bench_random_values(dtype, (int64_t)elements, seed) : NULL;
    if (!host) return XHAL_OUT_OF_MEMORY;
    xhal_status_t status = xhal_copy_h2d(c->stream, buffer, 0, host, elements * es);
    if (status == XHAL_OK) status = xhal_stream_synchronize(c->stream);
    free(host);
    return status;
}

/* Writing the outputs once in bench_make_set also means no timed run pays for first-touching
 * their pages, which on a CPU device costs as much as a small GEMM. */
xhal_status_t bench_make_set(bench_ctx_t *c, xhal_buffer_t **out, int count, uint64_t elements,
                             xhal_dtype_t dtype, int fill, uint64_t seed) {
    const uint32_t poison = 0xffffffffu;
    size_t bytes = elements * xhal_dtype_size(dtype);
    for (int r = 0; r < count; r++) {
        xhal_status_t status = xhal_buffer_alloc(c->device, bytes, XHAL_MEMORY_DEVICE, &out[r]);
        if (status == XHAL_OK && fill) status = fill_random(c, out[r], elements, dtype, seed + r);
        if (status == XHAL_OK && !fill) {
            status = xhal_fill(c->stream, out[r], 0, bytes, &poison, xhal_dtype_size(dtype));
            if (status == XHAL_OK) status = xhal_stream_synchronize(c->stream);
        }
        if (status != XHAL_OK) return status;
    }
    return XHAL_OK;
}

void bench_free_set(xhal_buffer_t **set, int count) {
    for (int r = 0; r < count; r++)
        xhal_buffer_free(set[r]);
}

/* Enqueues run `run` of an op: its input set run % rotation. */
typedef struct timed_op {
    bench_ctx_t *c;
    bench_enqueue_fn enqueue;
    void *op;
    int rotation;
} timed_op_t;

static xhal_status_t enqueue_run(void *context, int run) {
    timed_op_t *t = context;
    return t->enqueue(t->c, t->op, run % t->rotation);
}

/* Times the op with the suite's timing loop (conf_time_runs); *out_seconds is the median. */
xhal_status_t bench_time_op(bench_ctx_t *c, bench_enqueue_fn enqueue, void *op, int rotation,
                            double *out_seconds) {
    const bench_options_t *o = c->o;
    timed_op_t t = {c, enqueue, op, rotation};
    /* Untimed runs until the warm-up is over (see BENCH_WARMUP_SECONDS), then --repeats runs. */
    conf_timing_t timing = {.warmup_runs = o->warmup,
                            .warmup_seconds = BENCH_WARMUP_SECONDS,
                            .repeats = o->repeats,
                            .synchronize_each = 1};
    conf_timed_t timed;
    xhal_status_t status = conf_time_runs(c->stream, c->events, &timing, enqueue_run, &t, &timed);
    if (status == XHAL_OK) *out_seconds = timed.median_ms * 1e-3;
    return status;
}

static void print_figure(const bench_ctx_t *c, const char *label, const bench_figure_t *f) {
    char pct[32] = "";
    if (f->peak_flops > 0 && f->flops > 0)
        snprintf(pct, sizeof pct, "%5.1f%% of peak", 100.0 * f->flops / f->seconds / f->peak_flops);
    else if (f->peak_flops > 0)
        snprintf(pct, sizeof pct, "%5.1f%% of peak BW",
                 100.0 * f->bytes / f->seconds / f->peak_flops);
    printf("%-34s %9.3f ms %9.1f GFLOP/s %8.1f GB/s  %s", label, f->seconds * 1e3,
           f->flops / f->seconds * 1e-9, f->bytes / f->seconds * 1e-9, pct);
    if (c->stream_bw > 0)
        printf("  %5.1f%% of STREAM copy", 100.0 * f->bytes / f->seconds / c->stream_bw);
    if (c->copy_bw > 0) printf("  %5.1f%% of copy", 100.0 * f->bytes / f->seconds / c->copy_bw);
}

/* ---- GEMM ---- */

typedef struct gemm_op {
    xhal_gemm_desc_t desc;
    xhal_buffer_t *a[MAX_ROTATION], *b[MAX_ROTATION], *c[MAX_ROTATION];
    bench_quant_buffers_t q[MAX_ROTATION]; /* a quantized B: its bytes, scales, zero points */
} gemm_op_t;

static xhal_status_t enqueue_gemm(bench_ctx_t *c, void *op, int r) {
    gemm_op_t *g = op;
    g->desc.a = g->a[r], g->desc.c = g->c[r];
    if (g->desc.b_quant) {
        g->desc.b = g->q[r].weights;
        g->desc.b_scales = g->q[r].scales;
        g->desc.b_zeros = g->q[r].zeros;
    } else {
        g->desc.b = g->b[r];
    }
    return xhal_gemm(c->stream, &g->desc);
}

static int parse_gemm(const char *shape, int64_t *m, int64_t *n, int64_t *k) {
    long long x, y, z;
    char tail;
    if (sscanf(shape, "%lldx%lldx%lld%c", &x, &y, &z, &tail) == 3 && x > 0 && y > 0 && z > 0) {
        *m = x, *n = y, *k = z;
        return 1;
    }
    if (sscanf(shape, "%lld%c", &x, &tail) == 1 && x > 0) {
        *m = *n = *k = x;
        return 1;
    }
    return 0;
}

static xhal_status_t bench_gemm(bench_ctx_t *c, const char *shape, char *label, size_t size,
                                bench_figure_t *f, bench_gemm_shape_t *baseline_shape) {
    int64_t m = 0, n = 0, k = 0;
    if (!parse_gemm(shape, &m, &n, &k)) return XHAL_INVALID_ARGUMENT; /* bench_run checked it */
    xhal_dtype_t t = c->o->dtype;
    const bench_quant_t *quant = c->o->quant.name ? &c->o->quant : NULL;
    const bench_epilogue_t *epi = c->o->epilogue;
    gemm_op_t g = {0};
    xhal_gemm_desc_t *d = &g.desc;
    xhal_gemm_desc_init(d, m, n, k, t);
    d->c_type = XHAL_DTYPE_F32;
    if (c->o->trans_b) d->trans_b = 1, d->ldb = k;
    bench_quant_sizes_t qs = {0};
    if (quant) bench_quant_describe(quant, d, &qs);
    if (epi) bench_epilogue_apply(epi, d);
    snprintf(label, size, "gemm %s%s%s %lldx%lldx%lld%s%s%s", quant ? quant->name : "",
             quant ? " " : "", xhal_dtype_name(t), (long long)m, (long long)n, (long long)k,
             d->trans_b ? " NT" : "", epi ? " +" : "", epi ? epi->text : "");
    int64_t c_elements = m * (d->gated ? n / 2 : n);
    double b_bytes = quant
                         ? (double)qs.weight_bytes + 2.0 * (double)qs.scales + (double)qs.zero_bytes
                         : (double)(k * n) * (double)xhal_dtype_size(t);
    f->bytes = (double)(m * k) * (double)xhal_dtype_size(t) + b_bytes + (double)c_elements * 4.0 +
               (epi && epi->bias ? 4.0 * (double)n : 0.0);
    f->flops = 2.0 * (double)m * (double)n * (double)k;
    f->peak_flops = c->info.peak_flops[t];
    int rotation = bench_rotation(&c->info, f->bytes);
    xhal_buffer_t *bias = NULL;
    xhal_status_t status = XHAL_OK;
    if (epi && epi->bias) {
        status = bench_make_set(c, &bias, 1, (uint64_t)n, XHAL_DTYPE_F32, 1, 300);
        d->bias = bias;
    }
    /* Asked with the bias set (supports reads whether there is one). */
    if (status == XHAL_OK) status = xhal_gemm_supports(c->device, d);
    if (status == XHAL_OK) status = bench_make_set(c, g.a, rotation, (uint64_t)(m * k), t, 1, 1);
    for (int r = 0; quant && status == XHAL_OK && r < rotation; r++)
        status = bench_quant_make(c->device, c->stream, quant, &qs, 100 + (uint64_t)r, &g.q[r]);
    if (!quant && status == XHAL_OK)
        status = bench_make_set(c, g.b, rotation, (uint64_t)(k * n), t, 1, 100);
    if (status == XHAL_OK)
        status = bench_make_set(c, g.c, rotation, (uint64_t)c_elements, XHAL_DTYPE_F32, 0, 0);
    if (status == XHAL_OK) status = bench_time_op(c, enqueue_gemm, &g, rotation, &f->seconds);
    bench_free_set(g.a, rotation), bench_free_set(g.b, rotation), bench_free_set(g.c, rotation);
    for (int r = 0; r < rotation; r++)
        bench_quant_free(&g.q[r]);
    xhal_buffer_free(bias);
    /* Baselines run dense GEMMs without epilogues: only those are compared. */
    *baseline_shape =
        (bench_gemm_shape_t){quant || epi ? 0 : m, n, k, t, c->o->repeats, c->o->warmup, rotation};
    return status;
}

/* ---- Copy ---- */

typedef struct copy_op {
    uint64_t bytes;
    xhal_buffer_t *src[MAX_ROTATION], *dst[MAX_ROTATION];
} copy_op_t;

static xhal_status_t enqueue_copy(bench_ctx_t *c, void *op, int r) {
    copy_op_t *p = op;
    return xhal_copy_d2d(c->stream, p->dst[r], 0, p->src[r], 0, p->bytes);
}

/* "64M" -> 67108864; 0 when it is not a size of at least 4 bytes. */
static uint64_t parse_bytes(const char *shape) {
    char *end = NULL;
    double value = strtod(shape, &end);
    double unit = !strcmp(end, "K")   ? 1024.0
                  : !strcmp(end, "M") ? 1048576.0
                  : !strcmp(end, "G") ? 1073741824.0
                  : !*end             ? 1.0
                                      : 0.0;
    if (end == shape || unit == 0.0 || !(value * unit >= 4) || value * unit > 1e15) return 0;
    return (uint64_t)(value * unit) / 4 * 4;
}

static xhal_status_t bench_copy(bench_ctx_t *c, const char *shape, char *label, size_t size,
                                bench_figure_t *f) {
    copy_op_t p = {.bytes = parse_bytes(shape)};
    snprintf(label, size, "copy %s", shape);
    f->flops = 0;
    f->bytes = 2.0 * (double)p.bytes; /* read + written, as PEAKS.md counts a copy */
    f->peak_flops = c->info.peak_bandwidth;
    int rotation = bench_rotation(&c->info, f->bytes);
    xhal_status_t status = bench_make_set(c, p.src, rotation, p.bytes / 4, XHAL_DTYPE_F32, 1, 1);
    if (status == XHAL_OK)
        status = bench_make_set(c, p.dst, rotation, p.bytes / 4, XHAL_DTYPE_F32, 0, 0);
    if (status == XHAL_OK) status = bench_time_op(c, enqueue_copy, &p, rotation, &f->seconds);
    bench_free_set(p.src, rotation), bench_free_set(p.dst, rotation);
    return status;
}

/* ---- The run ---- */

/*
 * A shape may start with a dtype and a colon ("bf16:1024") to override --dtype for it, or, for
 * gemm, with a quantized format ("q4g128:1x4096x14336"). Returns the shape after the prefix and
 * writes the shape's dtype and format (name NULL: dense); any other prefix is left to the op's
 * parser (attention's serving kinds: "paged:...").
 */
static const char *shape_prefix(const char *shape, xhal_dtype_t fallback, xhal_dtype_t *out,
                                bench_quant_t *quant) {
    *out = fallback;
    memset(quant, 0, sizeof *quant);
    const char *colon = strchr(shape, ':');
    if (!colon) return shape;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        const char *name = xhal_dtype_name((xhal_dtype_t)t);
        if (strlen(name) == (size_t)(colon - shape) && !strncmp(shape, name, strlen(name))) {
            *out = (xhal_dtype_t)t;
            return colon + 1;
        }
    }
    return bench_quant_parse(shape, (size_t)(colon - shape), quant) ? colon + 1 : shape;
}

static int shape_epilogue(const char *shape, char *dims, size_t size, bench_epilogue_t *epi);

static int shape_valid(const char *op, const char *shape) {
    int64_t m, n, k;
    xhal_dtype_t dtype;
    bench_quant_t quant;
    shape = shape_prefix(shape, XHAL_DTYPE_F32, &dtype, &quant);
    if (!shape || (quant.name && strcmp(op, "gemm"))) return 0;
    char dims[64];
    bench_epilogue_t epi;
    if (!strcmp(op, "gemm"))
        return shape_epilogue(shape, dims, sizeof dims, &epi) >= 0 && parse_gemm(dims, &m, &n, &k);
    if (!strcmp(op, "attention")) return bench_attention_valid(shape);
    return parse_bytes(shape) != 0;
}

static int open_context(bench_ctx_t *c, const char *spec) {
    xhal_status_t status = xhal_device_open(spec, &c->device);
    c->info.struct_size = sizeof c->info;
    if (status == XHAL_OK) status = xhal_device_info(c->device, &c->info);
    if (status == XHAL_OK) status = xhal_stream_create(c->device, &c->stream);
    for (int i = 0; status == XHAL_OK && i < 2; i++)
        status = xhal_event_create(c->device, &c->events[i]);
    return status == XHAL_OK ? TOOL_EXIT_OK : tool_fail(status, "bench");
}

static void close_context(bench_ctx_t *c) {
    for (int i = 0; i < 2; i++)
        xhal_event_destroy(c->events[i]);
    xhal_stream_destroy(c->stream);
}

/* What a run keeps per shape across its rounds. */
typedef struct bench_shape_result {
    char label[160]; /* room for six 64-bit sizes: -O3 -Wformat-truncation checks it */
    int failed;
    bench_gemm_shape_t gemm; /* for the baseline; m = 0 when not a GEMM */
    bench_figure_t figure;   /* xhal's, seconds = the best median over the rounds */
    double round_seconds;    /* xhal's median in the current round */
    double baseline_seconds; /* the baseline's best median; 0 when it has none */
    /* A GEMM's shape, dtype, quantized format (NULL: dense) and whether it has an epilogue:
     * what print_serving_ratios pairs figures by. */
    int64_t dims[3];
    xhal_dtype_t dtype;
    const char *quant;
    int epilogue;
    bench_att_shape_t att; /* an attention's: what print_attention_ratios pairs figures by */
} bench_shape_result_t;

/* STREAM Copy and Triad now; the best Copy of the run is what figures are printed against. */
static void measure_stream(bench_ctx_t *c) {
    double copy = 0, triad = 0;
    int threads = (int)(c->info.type == XHAL_DEVICE_TYPE_CPU ? c->info.compute_units
                                                             : sysconf(_SC_NPROCESSORS_ONLN));
    (void)bench_stream(threads, &copy, &triad);
    if (copy > c->stream_bw) c->stream_bw = copy;
    printf("host STREAM on %d threads: copy %.1f GB/s, triad %.1f GB/s (%% of STREAM copy: of "
           "%.1f)\n",
           threads, copy * 1e-9, triad * 1e-9, c->stream_bw * 1e-9);
}

/*
 * "2048x4096x4096+bias+gelu": the shape's own epilogue (else --epilogue's). Copies the shape
 * without it into `dims` and returns 1 with *epi filled, 0 when there is none, -1 when the
 * epilogue does not parse.
 */
static int shape_epilogue(const char *shape, char *dims, size_t size, bench_epilogue_t *epi) {
    const char *plus = strchr(shape, '+');
    snprintf(dims, size, "%.*s", plus ? (int)(plus - shape) : (int)strlen(shape), shape);
    if (!plus) return 0;
    return bench_epilogue_parse(plus + 1, epi) ? 1 : -1;
}

/* One round of xhal's figures: every shape timed and printed, the best kept. */
static int xhal_pass(bench_ctx_t *c, const char *op, const char **shapes, size_t count,
                     bench_shape_result_t *results) {
    const bench_options_t *o = c->o;
    int exit_code = TOOL_EXIT_OK;
    for (size_t i = 0; i < count; i++) {
        bench_shape_result_t *r = &results[i];
        if (r->failed) continue;
        bench_figure_t f = {0};
        bench_options_t shape_options = *o; /* with the shape's own dtype and format */
        const char *shape =
            shape_prefix(shapes[i], o->dtype, &shape_options.dtype, &shape_options.quant);
        char dims[64];
        bench_epilogue_t epilogue;
        if (shape_epilogue(shape, dims, sizeof dims, &epilogue) == 1)
            shape_options.epilogue = &epilogue;
        c->o = &shape_options;
        xhal_status_t status;
        if (!strcmp(op, "gemm")) {
            status = bench_gemm(c, dims, r->label, sizeof r->label, &f, &r->gemm);
            parse_gemm(dims, &r->dims[0], &r->dims[1], &r->dims[2]);
            r->dtype = shape_options.dtype;
            r->quant = shape_options.quant.name;
            r->epilogue = shape_options.epilogue != NULL;
        } else if (!strcmp(op, "attention")) {
            status = bench_attention(c, shape, r->label, sizeof r->label, &f, &r->att);
        } else {
            status = bench_copy(c, shape, r->label, sizeof r->label, &f);
        }
        c->o = o;
        if (status != XHAL_OK) {
            tool_report(status, shapes[i]);
            exit_code = TOOL_EXIT_FAILURE;
            r->failed = 1;
            continue;
        }
        r->round_seconds = f.seconds;
        if (r->figure.seconds == 0 || f.seconds < r->figure.seconds) r->figure = f;
        print_figure(c, r->label, &f);
        printf("\n");
        fflush(stdout);
    }
    return exit_code;
}

/* One round of the baseline on the GEMM shapes, each against xhal's figure of the round. */
static void baseline_pass(const bench_baseline_t *baseline, size_t count,
                          bench_shape_result_t *results) {
    for (size_t i = 0; i < count; i++) {
        bench_shape_result_t *r = &results[i];
        if (r->failed || r->gemm.m <= 0) continue;
        char why[256] = "";
        double seconds = baseline->time_gemm(&r->gemm, why, sizeof why);
        if (seconds > 0) {
            printf("%-34s %9.3f ms %9.1f GFLOP/s  %s; xhal/%s %.2fx\n", r->label, seconds * 1e3,
                   r->figure.flops / seconds * 1e-9, baseline->name, baseline->name,
                   seconds / r->round_seconds);
            if (r->baseline_seconds == 0 || seconds < r->baseline_seconds)
                r->baseline_seconds = seconds;
        } else {
            printf("%-34s %s: %s\n", r->label, baseline->name, why);
        }
        fflush(stdout);
    }
}

/* A GEMM timed in f32 and in a 16-bit dtype in this run: how much the narrower type buys. */
static void print_dtype_ratios(size_t count, const bench_shape_result_t *results) {
    for (size_t i = 0; i < count; i++) {
        const bench_gemm_shape_t *x = &results[i].gemm;
        if (results[i].failed || x->m <= 0 || x->dtype == XHAL_DTYPE_F32) continue;
        for (size_t j = 0; j < count; j++) {
            const bench_gemm_shape_t *y = &results[j].gemm;
            if (!results[j].failed && y->m == x->m && y->n == x->n && y->k == x->k &&
                y->dtype == XHAL_DTYPE_F32) {
                printf("%-34s %.2fx xhal's f32 figure for the same shape in this run\n",
                       results[i].label, results[j].figure.seconds / results[i].figure.seconds);
                break;
            }
        }
    }
}

/*
 * GEMMs of one shape timed dense and quantized, or with and without an epilogue, in this run:
 * what the quantized weights buy, and what the epilogue costs.
 */
static void print_serving_ratios(size_t count, const bench_shape_result_t *results) {
    for (size_t i = 0; i < count; i++) {
        const bench_shape_result_t *x = &results[i];
        if (x->failed || (!x->quant && !x->epilogue)) continue;
        for (size_t j = 0; j < count; j++) {
            const bench_shape_result_t *y = &results[j];
            if (y->failed || memcmp(x->dims, y->dims, sizeof x->dims) || y->epilogue) continue;
            double ratio = y->figure.seconds / x->figure.seconds;
            if (x->epilogue && y->dtype == x->dtype && y->quant == x->quant)
                printf("%-34s costs %+.1f%% over the same GEMM without it in this run\n", x->label,
                       100.0 * (1.0 / ratio - 1.0));
            else if (x->quant && !x->epilogue && !y->quant)
                printf("%-34s %.2fx the speed of %s in this run\n", x->label, ratio, y->label);
        }
    }
}

/* A paged decode against the packed one of the same lengths, a varlen prefill against the dense
 * prefill of the same batch and tokens: what the serving features cost. */
static void print_attention_ratios(size_t count, const bench_shape_result_t *results) {
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < count; j++) {
            const bench_shape_result_t *x = &results[i], *y = &results[j];
            if (x->failed || y->failed) continue;
            int pair = bench_attention_pair(&x->att, &y->att);
            double fx = pair == 1 ? x->figure.bytes : x->figure.flops;
            double fy = pair == 1 ? y->figure.bytes : y->figure.flops;
            if (pair)
                printf("%-34s %5.1f%% of the %s of %s in this run\n", x->label,
                       100.0 * (fx / x->figure.seconds) / (fy / y->figure.seconds),
                       pair == 1 ? "bytes/s" : "FLOP/s", y->label);
        }
}

/* With several rounds: each side's best median, and the ratio of those. */
static void print_summary(const bench_ctx_t *c, const bench_options_t *o, size_t count,
                          const bench_shape_result_t *results) {
    printf("best median of %d rounds:\n", o->rounds);
    for (size_t i = 0; i < count; i++) {
        const bench_shape_result_t *r = &results[i];
        if (r->failed) continue;
        print_figure(c, r->label, &r->figure);
        if (r->baseline_seconds > 0)
            printf("  %s %.1f GFLOP/s, xhal/%s %.2fx", o->baseline->name,
                   r->figure.flops / r->baseline_seconds * 1e-9, o->baseline->name,
                   r->baseline_seconds / r->figure.seconds);
        printf("\n");
    }
}

int bench_run(const char *op, const char *spec, const bench_options_t *o, const char **shapes,
              size_t shape_count) {
    bench_ctx_t c = {.o = o};
    if (shape_count == 0) return tool_usage_error("bench", "give at least one shape");
    for (size_t i = 0; i < shape_count; i++)
        if (!shape_valid(op, shapes[i]))
            return tool_usage_error("bench", "cannot read %s shape '%s' (see --help)", op,
                                    shapes[i]);
    bench_shape_result_t *results = calloc(shape_count, sizeof *results);
    if (!results) return tool_fail(XHAL_OUT_OF_MEMORY, "bench");
    int exit_code = open_context(&c, spec);
    if (exit_code != TOOL_EXIT_OK) {
        free(results);
        close_context(&c);
        return exit_code;
    }
    char peak[32];
    tool_format_flops(c.info.peak_flops[o->dtype], peak, sizeof peak);
    printf("device %s (%s), peak %s %s, %d timed runs after %d warm-up, median\n", c.info.spec,
           c.info.name, xhal_dtype_name(o->dtype), peak, o->repeats, o->warmup);
    const bench_baseline_t *baseline = o->baseline && !strcmp(op, "gemm") ? o->baseline : NULL;
    int baseline_loaded = 0;
    double best_copy = 0;
    for (int round = 1; round <= o->rounds; round++) {
        if (o->rounds > 1) printf("round %d of %d\n", round, o->rounds);
        if (o->stream) measure_stream(&c);
        if (o->copy) {
            /* Each round's figures against that round's copy: the machine's bandwidth moves. */
            c.copy_bw = bench_copy_bandwidth(c.device, c.stream);
            printf("copy bandwidth (read + written): %.1f GB/s\n", c.copy_bw * 1e-9);
            best_copy = c.copy_bw > best_copy ? c.copy_bw : best_copy;
        }
        /*
         * A BLAS's threads spin for a while after each call (OpenBLAS's about 0.1 s, and from
         * the moment it is loaded): xhal's shapes are timed in a pass of their own, after a
         * pause once the baseline has run, so that those threads do not take its cores.
         */
        if (baseline_loaded) usleep(500000);
        if (xhal_pass(&c, op, shapes, shape_count, results) != TOOL_EXIT_OK)
            exit_code = TOOL_EXIT_FAILURE;
        if (round == 1 && !strcmp(op, "gemm")) {
            print_dtype_ratios(shape_count, results);
            print_serving_ratios(shape_count, results);
        }
        if (round == 1 && !strcmp(op, "attention")) print_attention_ratios(shape_count, results);
        if (!baseline) continue;
        if (!baseline_loaded) {
            char reason[512] = "";
            if (baseline->load(&c.info, reason, sizeof reason) != 0) {
                printf("baseline %s not available: %s\n", baseline->name, reason);
                baseline = NULL;
                continue;
            }
            printf("baseline %s: %s\n", baseline->name, reason);
            baseline_loaded = 1;
        }
        baseline_pass(baseline, shape_count, results);
    }
    if (o->rounds > 1) {
        if (o->copy) {
            c.copy_bw = best_copy;
            printf("best copy bandwidth of %d rounds: %.1f GB/s\n", o->rounds, best_copy * 1e-9);
        }
        print_summary(&c, o, shape_count, results);
        if (!strcmp(op, "gemm")) {
            print_dtype_ratios(shape_count, results);
            print_serving_ratios(shape_count, results);
        }
        if (!strcmp(op, "attention")) print_attention_ratios(shape_count, results);
    }
    if (baseline_loaded) baseline->unload();
    free(results);
    close_context(&c);
    return exit_code;
}
