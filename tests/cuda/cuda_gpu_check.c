/*
 * Every GEMM and attention correctness case on cuda:0, through every kernel path: each case
 * runs once per path the backend has (XHAL_CUDA_GEMM=simt|mma|sm90|gemv, XHAL_CUDA_ATTENTION=
 * simple|fa2|decode|sm90, with XHAL_CUDA_STRICT=1 so that a path that cannot take a case says so
 * and is counted as skipped) and once with the automatic choice, on fresh seeded random inputs,
 * the output poisoned with NaN first, against the fp64 references of tests/test_util.c.
 *
 *   test_cuda_gpu [--quick] [--bench] [--tiny] [--no-check] [--device SPEC] [--out FILE]
 *                 [--seed N]
 *
 * --bench adds the timings (cuda_gpu_bench.c; --tiny: every size / 16, which is what a CPU device
 * can time); --no-check leaves the correctness cases out.
 * --device runs the correctness cases on another device (cpu: the harness on a backend known
 * to be right; the automatic path only, as the forcing variables are the CUDA backend's).
 * Each case prints "RUN <case>" before it starts, so that a hang names its case.
 * Exit status: 0 when every case and item passed, 1 when one failed, 2 for a usage error, 77
 * when the device does not open (no GPU: ctest reports the test as skipped).
 */
#include "test_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "cuda_gpu.h"

static FILE *results;
static int failures, passes, skips;
static uint64_t seed = 1234;
/* Whether the forcing variables apply (the device is a CUDA one): else the automatic path only. */
static int all_paths = 1;

void gpu_say(FILE *out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    if (out) {
        va_start(ap, fmt);
        vfprintf(out, fmt, ap);
        va_end(ap);
        fflush(out);
    }
}

int gpu_ok(xhal_status_t status, const char *what) {
    if (status == XHAL_OK) return 1;
    gpu_say(results, "ERROR %s: %s: %s\n", what, xhal_status_name(status), xhal_last_error());
    return 0;
}

/* ---- Host images and device buffers ---- */

typedef struct {
    xhal_dtype_t dtype;
    uint64_t count; /* elements, offset included */
    unsigned char *image;
    xhal_buffer_t *buffer;
} tensor_t;

static int tensor_make(tensor_t *t, xhal_device_t *dev, xhal_stream_t *s, xhal_dtype_t dtype,
                       uint64_t count, xt_rng_t *rng, int poison) {
    memset(t, 0, sizeof(*t));
    t->dtype = dtype;
    t->count = count;
    size_t bytes = (size_t)count * xt_dtype_size(dtype);
    t->image = malloc(bytes);
    if (!t->image) return 0;
    if (poison)
        memset(t->image, 0xff, bytes); /* NaN in f32, f16 and bf16 */
    else
        for (uint64_t i = 0; i < count; i++)
            xt_store(t->image, dtype, i, xt_rng_uniform(rng));
    return gpu_ok(xhal_buffer_alloc(dev, bytes, XHAL_MEMORY_DEVICE, &t->buffer), "buffer_alloc") &&
           gpu_ok(xhal_copy_h2d(s, t->buffer, 0, t->image, bytes), "copy_h2d");
}

static int tensor_download(tensor_t *t, xhal_stream_t *s) {
    size_t bytes = (size_t)t->count * xt_dtype_size(t->dtype);
    return gpu_ok(xhal_copy_d2h(s, t->image, t->buffer, 0, bytes), "copy_d2h") &&
           gpu_ok(xhal_stream_synchronize(s), "stream_synchronize");
}

static int tensor_restore(tensor_t *t, xhal_stream_t *s, const unsigned char *image) {
    size_t bytes = (size_t)t->count * xt_dtype_size(t->dtype);
    memcpy(t->image, image, bytes);
    return gpu_ok(xhal_copy_h2d(s, t->buffer, 0, t->image, bytes), "copy_h2d");
}

static void tensor_free(tensor_t *t) {
    xhal_buffer_free(t->buffer);
    free(t->image);
    memset(t, 0, sizeof(*t));
}

/* Judges one run: PASS, FAIL (error over the bound, NaN, an xhal error) or SKIP (refused). */
static void judge(const char *op, const char *path, const char *shape, xhal_status_t status,
                  double err, size_t nonfinite, double bound) {
    if (status == XHAL_UNSUPPORTED) {
        skips++;
        gpu_say(results, "SKIP %-9s %-6s %s (%s)\n", op, path, shape, xhal_last_error());
        return;
    }
    if (status != XHAL_OK) {
        failures++;
        gpu_say(results, "FAIL %-9s %-6s %s: %s: %s\n", op, path, shape, xhal_status_name(status),
                xhal_last_error());
        return;
    }
    int ok = nonfinite == 0 && err <= bound;
    ok ? passes++ : failures++;
    gpu_say(results, "%s %-9s %-6s %s err %.2e (bound %.0e)%s\n", ok ? "PASS" : "FAIL", op, path,
            shape, err, bound, nonfinite ? " NON-FINITE VALUES" : "");
}

/* ---- GEMM ---- */

typedef struct {
    int64_t m, n, k;
    xhal_dtype_t a, b, c;
    int ta, tb;
    int64_t pad;   /* added to every leading dimension */
    int64_t batch; /* with strided batches */
    int share_b;   /* stride_b = 0: one B for every batch */
    float alpha, beta;
    uint64_t offset; /* bytes before A, B and C in their buffers */
    int quick;
} gemm_case_t;

static const char *tag(xhal_dtype_t t) {
    return xhal_dtype_name(t);
}

static const gemm_case_t gemm_cases[] = {
    /* odd shapes, every dtype combination the kernels treat differently */
    {1, 1, 1, XHAL_DTYPE_F32, XHAL_DTYPE_F32, XHAL_DTYPE_F32, 0, 0, 0, 1, 0, 1, 0, 0, 1},
    {7, 17, 33, XHAL_DTYPE_F32, XHAL_DTYPE_F32, XHAL_DTYPE_F32, 1, 0, 3, 1, 0, 1, 0, 0, 1},
    {127, 129, 65, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_F32, 0, 0, 0, 1, 0, 1, 0, 0, 1},
    {127, 129, 65, XHAL_DTYPE_F16, XHAL_DTYPE_F16, XHAL_DTYPE_F16, 1, 1, 8, 1, 0, 1.5f, 0, 16, 1},
    {256, 512, 320, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, 0, 1, 0, 1, 0, 1, 0, 0, 1},
    {256, 512, 320, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_F32, 1, 0, 0, 1, 0, 1, 0, 0, 0},
    {300, 520, 200, XHAL_DTYPE_F16, XHAL_DTYPE_F16, XHAL_DTYPE_F32, 0, 0, 8, 1, 0, 1, 0.5f, 32, 0},
    {300, 520, 200, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, 1, 1, 0, 1, 0, -2, 0, 0, 0},
    {333, 77, 1001, XHAL_DTYPE_F32, XHAL_DTYPE_BF16, XHAL_DTYPE_F32, 0, 1, 0, 1, 0, 1, 0, 0, 0},
    {64, 96, 4097, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_F32, 0, 0, 0, 1, 0, 1, 0, 0, 1},
    {129, 65, 40, XHAL_DTYPE_BF16, XHAL_DTYPE_F16, XHAL_DTYPE_BF16, 1, 0, 0, 1, 0, 1, 0, 0, 0},
    /* strided batches, a shared B, beta */
    {96, 160, 128, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_F32, 0, 0, 0, 3, 0, 1, 0.25f, 0, 1},
    {200, 264, 136, XHAL_DTYPE_F16, XHAL_DTYPE_F16, XHAL_DTYPE_F16, 0, 1, 0, 4, 1, 1, 0, 0, 0},
    {512, 1024, 256, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, 1, 0, 0, 3, 0, 1, 0, 0, 0},
    /* decode GEMV: m = 1..16 against weights stored k x n and n x k */
    {1, 4096, 1024, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, 0, 0, 0, 1, 0, 1, 0, 0, 1},
    {1, 1000, 4096, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_F32, 0, 1, 0, 1, 0, 1, 0, 0, 1},
    {5, 1003, 777, XHAL_DTYPE_F32, XHAL_DTYPE_F16, XHAL_DTYPE_F16, 0, 0, 8, 1, 0, 1, 0.5f, 0, 0},
    {16, 4097, 2048, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, 1, 1, 0, 2, 1, 1, 0, 0, 0},
    {3, 512, 1999, XHAL_DTYPE_F16, XHAL_DTYPE_F16, XHAL_DTYPE_F32, 0, 1, 0, 1, 0, 1, 0, 0, 0},
    /* more 128 x 256 tiles than an H100 has SMs: the persistent wgmma loop takes several */
    {2176, 2304, 256, XHAL_DTYPE_BF16, XHAL_DTYPE_BF16, XHAL_DTYPE_F32, 0, 0, 0, 1, 0, 1, 0, 0, 0},
    {1100, 1300, 384, XHAL_DTYPE_F16, XHAL_DTYPE_F16, XHAL_DTYPE_F16, 1, 1, 0, 1, 0, 1, 0, 0, 0},
};

static const char *const gemm_paths[] = {"auto", "simt", "mma", "sm90", "gemv"};

/* Runs one case with the kernel `path` forced (XHAL_CUDA_GEMM, read when the device opened). */
static void run_gemm_case(xhal_device_t *dev, xhal_stream_t *s, const gemm_case_t *gc,
                          const char *path) {
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, gc->m, gc->n, gc->k, gc->a);
    d.b_type = gc->b;
    d.c_type = gc->c;
    d.trans_a = gc->ta;
    d.trans_b = gc->tb;
    d.lda = (gc->ta ? gc->m : gc->k) + gc->pad;
    d.ldb = (gc->tb ? gc->k : gc->n) + gc->pad;
    d.ldc = gc->n + gc->pad;
    d.batch = gc->batch;
    int64_t a_rows = gc->ta ? gc->k : gc->m, b_rows = gc->tb ? gc->n : gc->k;
    d.stride_a = gc->batch > 1 ? a_rows * d.lda : 0;
    d.stride_b = gc->batch > 1 && !gc->share_b ? b_rows * d.ldb : 0;
    d.stride_c = gc->batch > 1 ? gc->m * d.ldc : 0;
    d.alpha = gc->alpha;
    d.beta = gc->beta;
    d.a_offset = d.b_offset = d.c_offset = gc->offset;

    char shape[160];
    snprintf(shape, sizeof shape, "%lldx%lldx%lld %s,%s->%s %c%c batch %lld%s ld+%lld a%.2g b%.2g",
             (long long)gc->m, (long long)gc->n, (long long)gc->k, tag(gc->a), tag(gc->b),
             tag(gc->c), gc->ta ? 't' : 'n', gc->tb ? 't' : 'n', (long long)gc->batch,
             gc->share_b ? " shared-B" : "", (long long)gc->pad, gc->alpha, gc->beta);

    xt_rng_t rng;
    xt_rng_seed(&rng, seed + (uint64_t)(gc->m * 131 + gc->n * 7 + gc->k));
    uint64_t a_count = gc->offset / xt_dtype_size(gc->a) +
                       xt_matrix_extent(a_rows, gc->ta ? gc->m : gc->k, d.lda) +
                       (uint64_t)d.stride_a * (gc->batch - 1);
    uint64_t b_count = gc->offset / xt_dtype_size(gc->b) +
                       xt_matrix_extent(b_rows, gc->tb ? gc->k : gc->n, d.ldb) +
                       (uint64_t)d.stride_b * (gc->batch - 1);
    uint64_t c_count = gc->offset / xt_dtype_size(gc->c) + xt_matrix_extent(gc->m, gc->n, d.ldc) +
                       (uint64_t)d.stride_c * (gc->batch - 1);
    tensor_t a, b, c;
    size_t outputs = (size_t)(gc->batch * gc->m * gc->n);
    double *ref = malloc(outputs * sizeof(double)), *got = malloc(outputs * sizeof(double));
    unsigned char *c_initial = NULL;
    if (!ref || !got || !tensor_make(&a, dev, s, gc->a, a_count, &rng, 0) ||
        !tensor_make(&b, dev, s, gc->b, b_count, &rng, 0) ||
        !tensor_make(&c, dev, s, gc->c, c_count, &rng, gc->beta == 0.0f)) {
        failures++;
        gpu_say(results, "FAIL gemm setup of %s\n", shape);
        free(ref);
        free(got);
        return;
    }
    size_t c_bytes = (size_t)c_count * xt_dtype_size(gc->c);
    c_initial = malloc(c_bytes);
    memcpy(c_initial, c.image, c_bytes);
    xt_ref_gemm(&d, a.image, b.image, gc->beta != 0.0f ? c.image : NULL, ref);
    d.a = a.buffer;
    d.b = b.buffer;
    d.c = c.buffer;
    uint64_t c0 = gc->offset / xt_dtype_size(gc->c);

    do {
        printf("RUN gemm %s %s\n", path, shape);
        fflush(stdout);
        if (!tensor_restore(&c, s, c_initial)) break;
        xhal_status_t st = xhal_gemm(s, &d);
        if (st == XHAL_OK && !tensor_download(&c, s)) st = XHAL_DEVICE_ERROR;
        double err = NAN;
        size_t bad = 0;
        if (st == XHAL_OK) {
            for (int64_t bi = 0; bi < gc->batch; bi++)
                for (int64_t i = 0; i < gc->m; i++)
                    for (int64_t j = 0; j < gc->n; j++)
                        got[(bi * gc->m + i) * gc->n + j] = xt_load(
                            c.image, gc->c, c0 + (uint64_t)(bi * d.stride_c + i * d.ldc + j));
            err = xt_rel_error(got, ref, outputs, &bad);
        }
        judge("gemm", path, shape, st, err, bad, xt_tolerance(gc->c));
    } while (0);
    free(c_initial);
    tensor_free(&a);
    tensor_free(&b);
    tensor_free(&c);
    free(ref);
    free(got);
}

/* ---- Attention ---- */

typedef struct {
    int64_t batch, hq, hkv, sq, skv, d;
    xhal_dtype_t dtype;
    int causal;
    xhal_layout_t layout;
    float scale;
    uint64_t offset;
    int quick;
} attention_case_t;

static const attention_case_t attention_cases[] = {
    /* prefill: GQA, both layouts, causal and not, every head_dim the tensor cores take */
    {2, 4, 2, 130, 130, 64, XHAL_DTYPE_BF16, 1, XHAL_LAYOUT_BSHD, 0, 0, 1},
    {1, 8, 1, 257, 300, 128, XHAL_DTYPE_F16, 1, XHAL_LAYOUT_BHSD, 0, 0, 1},
    {1, 2, 2, 96, 64, 256, XHAL_DTYPE_BF16, 0, XHAL_LAYOUT_BSHD, 0.05f, 32, 1},
    {2, 6, 3, 200, 200, 128, XHAL_DTYPE_BF16, 0, XHAL_LAYOUT_BHSD, 0, 0, 0},
    {1, 4, 4, 333, 333, 256, XHAL_DTYPE_F16, 1, XHAL_LAYOUT_BHSD, 0, 0, 0},
    /* a chunk of queries over a longer KV (bottom-right causal), and more queries than keys
     * (the first rows see no key: zeros) */
    {1, 4, 2, 70, 500, 64, XHAL_DTYPE_F16, 1, XHAL_LAYOUT_BSHD, 0, 0, 1},
    {1, 2, 1, 40, 20, 128, XHAL_DTYPE_BF16, 1, XHAL_LAYOUT_BHSD, 0, 0, 1},
    /* decode: one query or a few, GQA and MQA, KV lengths that are not tile multiples */
    {3, 8, 2, 1, 1000, 128, XHAL_DTYPE_BF16, 0, XHAL_LAYOUT_BHSD, 0, 0, 1},
    {2, 32, 8, 4, 777, 128, XHAL_DTYPE_BF16, 1, XHAL_LAYOUT_BSHD, 0, 0, 1},
    {4, 16, 1, 16, 2049, 64, XHAL_DTYPE_F16, 1, XHAL_LAYOUT_BHSD, 0, 0, 0},
    {2, 4, 4, 2, 5000, 256, XHAL_DTYPE_BF16, 0, XHAL_LAYOUT_BSHD, 0, 16, 0},
    {64, 8, 8, 1, 300, 128, XHAL_DTYPE_F16, 0, XHAL_LAYOUT_BHSD, 0, 0, 0},
    /* what only the exact kernel takes: f32, odd head_dim */
    {2, 4, 2, 33, 47, 80, XHAL_DTYPE_F32, 1, XHAL_LAYOUT_BSHD, 0, 0, 1},
    {1, 3, 1, 17, 65, 72, XHAL_DTYPE_BF16, 0, XHAL_LAYOUT_BHSD, 0, 0, 1},
    {1, 2, 2, 5, 129, 256, XHAL_DTYPE_F32, 1, XHAL_LAYOUT_BHSD, 0, 0, 0},
};

static const char *const attention_paths[] = {"auto", "simple", "fa2", "decode", "sm90"};

/* Runs one case with the kernel `path` forced (XHAL_CUDA_ATTENTION, read at device open). */
static void run_attention_case(xhal_device_t *dev, xhal_stream_t *s, const attention_case_t *ac,
                               const char *path) {
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, ac->batch, ac->hq, ac->hkv, ac->sq, ac->skv, ac->d, ac->dtype,
                             ac->layout);
    d.causal = ac->causal;
    d.scale = ac->scale;
    size_t es = xt_dtype_size(ac->dtype);
    d.q_offset = d.k_offset = d.v_offset = d.o_offset = ac->offset;
    char shape[160];
    snprintf(shape, sizeof shape, "b%lld hq%lld hkv%lld sq%lld skv%lld d%lld %s %s%s%s",
             (long long)ac->batch, (long long)ac->hq, (long long)ac->hkv, (long long)ac->sq,
             (long long)ac->skv, (long long)ac->d, tag(ac->dtype),
             ac->layout == XHAL_LAYOUT_BSHD ? "bshd" : "bhsd", ac->causal ? " causal" : "",
             ac->offset ? " offset" : "");
    xt_rng_t rng;
    xt_rng_seed(&rng, seed + (uint64_t)(ac->sq * 31 + ac->skv * 17 + ac->d));
    uint64_t pre = ac->offset / es;
    tensor_t q, k, v, o;
    size_t outputs = (size_t)(ac->batch * ac->hq * ac->sq * ac->d);
    double *ref = malloc(outputs * sizeof(double)), *got = malloc(outputs * sizeof(double));
    if (!ref || !got ||
        !tensor_make(&q, dev, s, ac->dtype,
                     pre + xt_attention_extent(&d.q_strides, ac->batch, ac->hq, ac->sq, ac->d),
                     &rng, 0) ||
        !tensor_make(&k, dev, s, ac->dtype,
                     pre + xt_attention_extent(&d.k_strides, ac->batch, ac->hkv, ac->skv, ac->d),
                     &rng, 0) ||
        !tensor_make(&v, dev, s, ac->dtype,
                     pre + xt_attention_extent(&d.v_strides, ac->batch, ac->hkv, ac->skv, ac->d),
                     &rng, 0) ||
        !tensor_make(&o, dev, s, ac->dtype,
                     pre + xt_attention_extent(&d.o_strides, ac->batch, ac->hq, ac->sq, ac->d),
                     &rng, 1)) {
        failures++;
        gpu_say(results, "FAIL attention setup of %s\n", shape);
        free(ref);
        free(got);
        return;
    }
    size_t o_bytes = (size_t)o.count * es;
    unsigned char *poison = malloc(o_bytes);
    memcpy(poison, o.image, o_bytes);
    xt_ref_attention(&d, q.image, k.image, v.image, ref);
    d.q = q.buffer;
    d.k = k.buffer;
    d.v = v.buffer;
    d.o = o.buffer;
    do {
        printf("RUN attention %s %s\n", path, shape);
        fflush(stdout);
        if (!tensor_restore(&o, s, poison)) break;
        xhal_status_t st = xhal_attention(s, &d);
        if (st == XHAL_OK && !tensor_download(&o, s)) st = XHAL_DEVICE_ERROR;
        double err = NAN;
        size_t bad = 0;
        if (st == XHAL_OK) {
            for (int64_t b = 0; b < ac->batch; b++)
                for (int64_t h = 0; h < ac->hq; h++)
                    for (int64_t i = 0; i < ac->sq; i++)
                        for (int64_t c = 0; c < ac->d; c++)
                            got[((b * ac->hq + h) * ac->sq + i) * ac->d + c] = xt_load(
                                o.image, ac->dtype,
                                pre + (uint64_t)(b * d.o_strides.batch + h * d.o_strides.head +
                                                 i * d.o_strides.seq + c));
            err = xt_rel_error(got, ref, outputs, &bad);
        }
        judge("attention", path, shape, st, err, bad, xt_tolerance(ac->dtype));
    } while (0);
    free(poison);
    tensor_free(&q);
    tensor_free(&k);
    tensor_free(&v);
    tensor_free(&o);
    free(ref);
    free(got);
}

/*
 * The conformance suite's attention cases (dense, serving: packed and paged inputs, lengths,
 * window, soft-cap, LSE; and the merge op) once per path: a forced path that cannot take a case
 * falls back to the automatic choice (no XHAL_CUDA_STRICT here: the suite asks supports, which
 * the forcing does not change).
 */
static void run_conformance_attention(const char *spec, int quick) {
    static const char *const paths[] = {"auto", "simple", "fa2", "decode"};
    size_t count = all_paths ? sizeof paths / sizeof paths[0] : 1;
    for (size_t p = 0; p < count; p++) {
        /* The forcing variable is read when the device opens: a fresh open per path. */
        xhal_shutdown();
        if (all_paths) setenv("XHAL_CUDA_ATTENTION", paths[p], 1);
        xhal_device_t *dev = NULL;
        if (!gpu_ok(xhal_device_open(spec, &dev), "device_open")) {
            failures++;
            continue;
        }
        conf_options_t o;
        conf_options_init(&o);
        o.quick = quick;
        o.seed = seed;
        o.ops = 1u << CONF_OP_ATTENTION;
        o.utilization = 0;
        conf_run_t run;
        if (conf_run_device(dev, &o, &run) != XHAL_OK) {
            failures++;
            gpu_say(results, "FAIL conform %-6s %s\n", paths[p], run.error);
        }
        for (size_t i = 0; i < run.check_count; i++) {
            const conf_check_t *c = &run.checks[i];
            int fail = c->outcome == CONF_FAIL || c->outcome == CONF_XPASS;
            fail ? failures++ : c->outcome == CONF_SKIP ? skips++ : passes++;
            if (fail || c->outcome == CONF_SKIP)
                gpu_say(results, "%s conform %-6s %s %s %s: %s\n", conf_outcome_name(c->outcome),
                        paths[p], xhal_dtype_name(c->dtype), c->name, c->shape, c->note);
        }
        gpu_say(results, "conform attention %-6s: %zu passed, %zu failed, %zu skipped\n", paths[p],
                run.passed, run.failed, run.skipped);
        conf_run_free(&run);
    }
    if (all_paths) unsetenv("XHAL_CUDA_ATTENTION");
}

int main(int argc, char **argv) {
    int quick = 0, bench = 0, check = 1, tiny = 0;
    const char *out_path = NULL, *spec = "cuda:0";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--bench") == 0)
            bench = 1;
        else if (strcmp(argv[i], "--tiny") == 0)
            tiny = 1;
        else if (strcmp(argv[i], "--no-check") == 0)
            check = 0;
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            spec = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out_path = argv[++i];
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr,
                    "usage: %s [--quick] [--bench] [--tiny] [--no-check] [--device SPEC] "
                    "[--out FILE] [--seed N]\n",
                    argv[0]);
            return 2;
        }
    }
    if (out_path && !(results = fopen(out_path, "a"))) {
        fprintf(stderr, "cannot open %s\n", out_path);
        return 2;
    }
    xhal_device_t *dev = NULL;
    if (xhal_device_open(spec, &dev) != XHAL_OK) {
        gpu_say(results, "SKIP: no device %s: %s\n", spec, xhal_last_error());
        size_t count = 0;
        xhal_backend_info_t info;
        if (xhal_backend_count(&count) == XHAL_OK)
            for (size_t i = 0; i < count; i++)
                if (xhal_backend_info(i, &info) == XHAL_OK && strcmp(info.name, "cuda") == 0)
                    gpu_say(results, "SKIP: cuda backend: %s\n", info.reason);
        if (results) fclose(results);
        xhal_shutdown();
        return 77;
    }
    xhal_device_info_t info = {.struct_size = sizeof info};
    xhal_device_info(dev, &info);
    gpu_say(results, "device: %s: %s (%s, %u compute units, driver %s)\n", info.spec, info.name,
            info.architecture, info.compute_units, info.driver[0] ? info.driver : "-");
    all_paths = strcmp(info.backend, "cuda") == 0;
    if (bench && !all_paths && !tiny) {
        gpu_say(results, "ERROR --bench on %s needs --tiny (the sizes are a GPU's)\n", info.spec);
        if (results) fclose(results);
        xhal_shutdown();
        return 2;
    }
    /*
     * Each kernel path in a pass of its own: the forced-kernel options are read when the device
     * opens (backends/common/xc_options.h), so each pass sets them and opens the device afresh.
     * Another backend runs the automatic path only (the forcing variables are CUDA's).
     */
    size_t gemm_count = all_paths ? sizeof gemm_paths / sizeof gemm_paths[0] : 1;
    size_t attention_count = all_paths ? sizeof attention_paths / sizeof attention_paths[0] : 1;
    size_t paths = gemm_count > attention_count ? gemm_count : attention_count;
    for (size_t p = 0; check && p < paths; p++) {
        const char *gemm_path = p < gemm_count ? gemm_paths[p] : NULL;
        const char *attention_path = p < attention_count ? attention_paths[p] : NULL;
        xhal_shutdown();
        if (all_paths) {
            setenv("XHAL_CUDA_STRICT", "1", 1);
            setenv("XHAL_CUDA_GEMM", gemm_path ? gemm_path : "auto", 1);
            setenv("XHAL_CUDA_ATTENTION", attention_path ? attention_path : "auto", 1);
        }
        xhal_stream_t *s = NULL;
        if (!gpu_ok(xhal_device_open(spec, &dev), "device_open") ||
            !gpu_ok(xhal_stream_create(dev, &s), "stream_create")) {
            if (results) fclose(results);
            xhal_shutdown();
            return 1;
        }
        for (size_t i = 0; gemm_path && i < sizeof gemm_cases / sizeof gemm_cases[0]; i++)
            if (!quick || gemm_cases[i].quick) run_gemm_case(dev, s, &gemm_cases[i], gemm_path);
        for (size_t i = 0; attention_path && i < sizeof attention_cases / sizeof attention_cases[0];
             i++)
            if (!quick || attention_cases[i].quick)
                run_attention_case(dev, s, &attention_cases[i], attention_path);
        xhal_stream_destroy(s);
    }
    if (all_paths) {
        unsetenv("XHAL_CUDA_STRICT");
        unsetenv("XHAL_CUDA_GEMM");
        unsetenv("XHAL_CUDA_ATTENTION");
    }
    if (check) run_conformance_attention(spec, quick);
    if (check)
        gpu_say(results, "correctness: %d passed, %d failed, %d skipped\n", passes, failures,
                skips);
    int bench_failures = 0;
    if (bench) {
        xhal_shutdown();
        if (!gpu_ok(xhal_device_open(spec, &dev), "device_open")) {
            if (results) fclose(results);
            xhal_shutdown();
            return 1;
        }
        bench_failures = cuda_gpu_bench(dev, results, quick, tiny);
    }
    if (results) fclose(results);
    xhal_shutdown();
    return failures || bench_failures ? 1 : 0;
}
