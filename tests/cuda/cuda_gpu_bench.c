/*
 * The timings of issues 6 and 7 on cuda:0, each judged against its acceptance threshold:
 *   - a device-to-device copy (bytes read + written): the bandwidth the memory-bound items are
 *     measured against;
 *   - bf16 GEMM 4096^3, 8192^3 and the LLM shapes (m = 2048 against 4096x4096, 4096x14336,
 *     14336x4096 weights), C in f32 as `xhal bench` times it, against cuBLASLt in the same run:
 *     >= 0.8x;
 *   - decode GEMV m = 1 against 4096 x 14336 bf16 weights: >= 75% of the copy bandwidth;
 *   - prefill attention b4 h32 s4096 d128 bf16: >= 400 TFLOP/s non-causal, >= 300 causal (the
 *     full run also reports s = 1k..16k at 16k tokens, against the same goals);
 *   - decode attention b32 hq32 hkv8 kv8192 d128 bf16: >= 75% of the copy bandwidth (the full
 *     run also reports kv 32k at batch 4 and kv 2k at batch 128).
 * Each judged item prints a PASS/FAIL line and an ITEM line (tab-separated) for
 * scripts/gpu-check.sh; each figure a RESULT line it joins with PyTorch's on the same shapes.
 * Every timed output is also spot-checked against fp64 dot products on the host, so a fast
 * wrong kernel cannot pass. Medians of event-timed runs after warm-ups.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cuda_gpu.h"
#include "test_util.h"

#define REPEATS 10
#define WARMUP 3

typedef struct {
    xhal_stream_t *s;
    xhal_event_t *start, *stop;
} timer_t_;

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Host random values in [-1, 1], rounded to dtype; `count` elements. */
static void *random_image(xhal_dtype_t dtype, size_t count, uint64_t seed) {
    void *image = malloc(count * xhal_dtype_size(dtype));
    if (!image) return NULL;
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 7;
    for (size_t i = 0; i < count; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        float v = (float)((double)(x >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
        if (dtype == XHAL_DTYPE_F32)
            ((float *)image)[i] = v;
        else
            ((uint16_t *)image)[i] =
                dtype == XHAL_DTYPE_F16 ? xhal_f32_to_f16(v) : xhal_f32_to_bf16(v);
    }
    return image;
}

static xhal_buffer_t *upload(xhal_device_t *dev, xhal_stream_t *s, const void *image,
                             size_t bytes) {
    xhal_buffer_t *b = NULL;
    if (!gpu_ok(xhal_buffer_alloc(dev, bytes, XHAL_MEMORY_DEVICE, &b), "buffer_alloc")) return NULL;
    if (image && !gpu_ok(xhal_copy_h2d(s, b, 0, image, bytes), "copy_h2d")) return NULL;
    if (!gpu_ok(xhal_stream_synchronize(s), "synchronize")) return NULL;
    return b;
}

/* Median seconds of REPEATS runs of `run(ctx)` after WARMUP, or -1 on an error. */
static double time_op(timer_t_ *t, xhal_status_t (*run)(xhal_stream_t *, const void *),
                      const void *ctx) {
    double times[REPEATS];
    for (int i = -WARMUP; i < REPEATS; i++) {
        if (!gpu_ok(xhal_event_record(t->start, t->s), "event_record")) return -1;
        if (!gpu_ok(run(t->s, ctx), "timed op")) return -1;
        if (!gpu_ok(xhal_event_record(t->stop, t->s), "event_record")) return -1;
        double ms = 0;
        if (!gpu_ok(xhal_event_elapsed_ms(t->start, t->stop, &ms), "event_elapsed_ms")) return -1;
        if (i >= 0) times[i] = ms * 1e-3;
    }
    if (!gpu_ok(xhal_stream_synchronize(t->s), "the timed op's queued work")) return -1;
    qsort(times, REPEATS, sizeof times[0], compare_double);
    return times[REPEATS / 2];
}

static xhal_status_t run_gemm(xhal_stream_t *s, const void *ctx) {
    return xhal_gemm(s, ctx);
}
static xhal_status_t run_attention(xhal_stream_t *s, const void *ctx) {
    return xhal_attention(s, ctx);
}

typedef struct {
    xhal_buffer_t *dst, *src;
    uint64_t bytes;
} copy_ctx_t;
static xhal_status_t run_copy(xhal_stream_t *s, const void *ctx) {
    const copy_ctx_t *c = ctx;
    return xhal_copy_d2d(s, c->dst, 0, c->src, 0, c->bytes);
}

static int items_failed;
static FILE *out;

static void verdict(const char *item, double value, double bound, const char *unit,
                    const char *detail) {
    int ok = value >= bound;
    if (!ok) items_failed++;
    gpu_say(out, "%-4s %-52s %9.3f %-8s (needs >= %.3g) %s\n", ok ? "PASS" : "FAIL", item, value,
            unit, bound, detail);
    /* The same, tab-separated, for scripts/gpu-check.sh's summary. */
    gpu_say(out, "ITEM\t%s\t%s\t%.3f %s (needs >= %.3g); %s\n", ok ? "PASS" : "FAIL", item, value,
            unit, bound, detail);
}

/* Compares `samples` outputs of a GEMM (C f32, row-major, dense) with fp64 dot products. */
static double gemm_spot_error(const xhal_gemm_desc_t *d, const uint16_t *a, const uint16_t *b,
                              const float *c_row_sample, const int64_t *rows, const int64_t *cols,
                              int samples) {
    double num = 0, den = 0;
    for (int s = 0; s < samples; s++) {
        double ref = 0;
        for (int64_t k = 0; k < d->k; k++) {
            double x = d->a_type == XHAL_DTYPE_BF16 ? xhal_bf16_to_f32(a[rows[s] * d->lda + k])
                                                    : xhal_f16_to_f32(a[rows[s] * d->lda + k]);
            double y = d->b_type == XHAL_DTYPE_BF16 ? xhal_bf16_to_f32(b[k * d->ldb + cols[s]])
                                                    : xhal_f16_to_f32(b[k * d->ldb + cols[s]]);
            ref += x * y;
        }
        num += (c_row_sample[s] - ref) * (c_row_sample[s] - ref);
        den += ref * ref;
    }
    return sqrt(num / (den > 0 ? den : 1));
}

/* One GEMM shape: xhal and cuBLASLt, C f32; returns the xhal/cuBLAS ratio (or -1). */
static double bench_gemm(xhal_device_t *dev, timer_t_ *t, int64_t m, int64_t n, int64_t k,
                         int cublas_ok, double *tflops, double *cublas_tflops) {
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, m, n, k, XHAL_DTYPE_BF16);
    d.c_type = XHAL_DTYPE_F32;
    uint16_t *a = random_image(XHAL_DTYPE_BF16, (size_t)(m * k), 11);
    uint16_t *b = random_image(XHAL_DTYPE_BF16, (size_t)(k * n), 12);
    double ratio = -1, seconds = -1;
    *tflops = *cublas_tflops = -1;
    if (a && b) {
        d.a = upload(dev, t->s, a, (size_t)(m * k) * 2);
        d.b = upload(dev, t->s, b, (size_t)(k * n) * 2);
        d.c = upload(dev, t->s, NULL, (size_t)(m * n) * 4);
    }
    if (d.a && d.b && d.c) seconds = time_op(t, run_gemm, &d);
    if (seconds > 0) {
        *tflops = 2.0 * m * n * k / seconds / 1e12;
        /* Spot-check 64 outputs of the last run against fp64. */
        enum { SAMPLES = 64 };
        int64_t rows[SAMPLES], cols[SAMPLES];
        float got[SAMPLES];
        uint64_t x = 99;
        int fine = 1;
        for (int i = 0; i < SAMPLES && fine; i++) {
            x = x * 6364136223846793005ull + 1;
            rows[i] = (int64_t)((x >> 33) % (uint64_t)m);
            cols[i] = (int64_t)((x >> 13) % (uint64_t)n);
            fine =
                gpu_ok(xhal_copy_d2h(t->s, &got[i], d.c, (uint64_t)(rows[i] * n + cols[i]) * 4, 4),
                       "copy_d2h");
        }
        fine = fine && gpu_ok(xhal_stream_synchronize(t->s), "synchronize");
        double err = fine ? gemm_spot_error(&d, a, b, got, rows, cols, SAMPLES) : NAN;
        if (!(err < 1e-3)) {
            items_failed++;
            gpu_say(out, "FAIL gemm %lldx%lldx%lld: spot check error %.2e against fp64\n",
                    (long long)m, (long long)n, (long long)k, err);
        }
    }
    if (cublas_ok && seconds > 0) {
        char reason[512] = "";
        bench_gemm_shape_t shape = {m, n, k, XHAL_DTYPE_BF16, REPEATS, 1, 1};
        double cs = bench_baseline_cublas.time_gemm(&shape, reason, sizeof reason);
        if (cs > 0) {
            *cublas_tflops = 2.0 * m * n * k / cs / 1e12;
            ratio = cs / seconds;
        } else {
            gpu_say(out, "cuBLASLt %lldx%lldx%lld: %s\n", (long long)m, (long long)n, (long long)k,
                    reason);
        }
    }
    xhal_buffer_free(d.a);
    xhal_buffer_free(d.b);
    xhal_buffer_free(d.c);
    free(a);
    free(b);
    return ratio;
}

/* fp64 relative error of 8 rows (b, h, i) spread over an attention output against the inputs. */
static double attention_spot_error(timer_t_ *t, const xhal_attention_desc_t *d, const uint16_t *q,
                                   const uint16_t *k, const uint16_t *v) {
    int64_t batch = d->batch, hq = d->heads_q, sq = d->seq_q, skv = d->seq_kv, dim = d->head_dim;
    double num = 0, den = 0, scale = 1.0 / sqrt((double)dim);
    double *s = malloc((size_t)skv * sizeof(double));
    uint16_t row[256];
    int fine = s != NULL;
    for (int r = 0; r < 8 && fine; r++) {
        int64_t b = r % batch, h = (r * 7) % hq, i = (r * 997) % sq, g = hq / d->heads_kv;
        int64_t seen = d->causal ? i + 1 + skv - sq : skv;
        if (seen > skv) seen = skv;
        fine = gpu_ok(xhal_copy_d2h(t->s, row, d->o, (uint64_t)(((b * hq + h) * sq + i) * dim) * 2,
                                    (uint64_t)dim * 2),
                      "copy_d2h") &&
               gpu_ok(xhal_stream_synchronize(t->s), "synchronize");
        if (!fine) break;
        const uint16_t *qr = q + ((b * hq + h) * sq + i) * dim;
        const uint16_t *kb = k + (b * d->heads_kv + h / g) * skv * dim,
                       *vb = v + (b * d->heads_kv + h / g) * skv * dim;
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < seen; j++) {
            double dot = 0;
            for (int64_t c = 0; c < dim; c++)
                dot += (double)xhal_bf16_to_f32(qr[c]) * xhal_bf16_to_f32(kb[j * dim + c]);
            s[j] = dot * scale;
            if (s[j] > mx) mx = s[j];
        }
        for (int64_t j = 0; j < seen; j++)
            sum += (s[j] = exp(s[j] - mx));
        for (int64_t c = 0; c < dim; c++) {
            double ref = 0;
            for (int64_t j = 0; j < seen; j++)
                ref += s[j] * xhal_bf16_to_f32(vb[j * dim + c]);
            ref = seen > 0 ? ref / sum : 0;
            double e = xhal_bf16_to_f32(row[c]) - ref;
            num += e * e;
            den += ref * ref;
        }
    }
    free(s);
    return fine ? sqrt(num / (den > 0 ? den : 1)) : NAN;
}

/*
 * One attention shape (BHSD, bf16), timed non-causal into seconds[0] and causal into seconds[1]
 * on the same inputs (-1 where it failed or was not asked for: `modes` bit 0 non-causal, bit 1
 * causal), each run spot-checked against fp64.
 */
static void bench_attention(xhal_device_t *dev, timer_t_ *t, int64_t batch, int64_t hq, int64_t hkv,
                            int64_t sq, int64_t skv, int64_t dim, int modes, double seconds[2]) {
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, batch, hq, hkv, sq, skv, dim, XHAL_DTYPE_BF16, XHAL_LAYOUT_BHSD);
    size_t nq = (size_t)(batch * hq * sq * dim), nkv = (size_t)(batch * hkv * skv * dim);
    uint16_t *q = random_image(XHAL_DTYPE_BF16, nq, 21),
             *k = random_image(XHAL_DTYPE_BF16, nkv, 22);
    uint16_t *v = random_image(XHAL_DTYPE_BF16, nkv, 23);
    seconds[0] = seconds[1] = -1;
    if (q && k && v) {
        d.q = upload(dev, t->s, q, nq * 2);
        d.k = upload(dev, t->s, k, nkv * 2);
        d.v = upload(dev, t->s, v, nkv * 2);
        d.o = upload(dev, t->s, NULL, nq * 2);
    }
    for (int causal = 0; causal < 2 && q && k && v && d.q && d.k && d.v && d.o; causal++) {
        if (!(modes & (1 << causal))) continue;
        d.causal = causal;
        printf("RUN attention b%lld hq%lld hkv%lld sq%lld skv%lld d%lld%s\n", (long long)batch,
               (long long)hq, (long long)hkv, (long long)sq, (long long)skv, (long long)dim,
               causal ? " causal" : "");
        fflush(stdout);
        seconds[causal] = time_op(t, run_attention, &d);
        if (seconds[causal] <= 0) continue;
        double err = attention_spot_error(t, &d, q, k, v);
        if (!(err < 2e-2)) {
            items_failed++;
            gpu_say(out, "FAIL attention b%lld hq%lld sq%lld skv%lld%s: spot check error %.2e\n",
                    (long long)batch, (long long)hq, (long long)sq, (long long)skv,
                    causal ? " causal" : "", err);
        }
    }
    xhal_buffer_free(d.q);
    xhal_buffer_free(d.k);
    xhal_buffer_free(d.v);
    xhal_buffer_free(d.o);
    free(q);
    free(k);
    free(v);
}

/* A figure for scripts/gpu-check.sh to join with PyTorch's (tests/cuda/torch_baseline.py). */
static void result(const char *key, double value, const char *unit) {
    gpu_say(out, "RESULT\t%s\t%.4g\t%s\n", key, value, unit);
}

/* 1, or 16 with --tiny: every size divided by it (a try of the program on a CPU device). */
static int64_t shrink = 1;

static void bench_gemms(xhal_device_t *dev, timer_t_ *t) {
    char reason[512] = "";
    xhal_device_info_t info = {.struct_size = sizeof info};
    xhal_device_info(dev, &info);
    int cublas_ok = 0;
    if (strcmp(info.backend, "cuda") != 0)
        gpu_say(out, "cuBLASLt unavailable: %s is not a CUDA device\n", info.spec);
    else if (bench_baseline_cublas.load(&info, reason, sizeof reason) == 0)
        cublas_ok = 1;
    else
        gpu_say(out, "cuBLASLt unavailable: %s\n", reason);
    static const int64_t shapes[][3] = {{4096, 4096, 4096},
                                        {8192, 8192, 8192},
                                        {2048, 4096, 4096},
                                        {2048, 14336, 4096},
                                        {2048, 4096, 14336}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int64_t m = shapes[i][0] / shrink, n = shapes[i][1] / shrink, k = shapes[i][2] / shrink;
        printf("RUN gemm bf16 %lldx%lldx%lld\n", (long long)m, (long long)n, (long long)k);
        fflush(stdout);
        double tf = 0, ctf = 0;
        double ratio = bench_gemm(dev, t, m, n, k, cublas_ok, &tf, &ctf);
        char item[96], detail[160], key[64];
        snprintf(item, sizeof item, "gemm bf16 %lldx%lldx%lld vs cuBLASLt", (long long)m,
                 (long long)n, (long long)k);
        snprintf(detail, sizeof detail, "xhal %.1f TFLOP/s, cuBLASLt %.1f TFLOP/s", tf, ctf);
        verdict(item, ratio, 0.8, "x", detail);
        snprintf(key, sizeof key, "gemm.%lldx%lldx%lld", (long long)m, (long long)n, (long long)k);
        result(key, tf, "TFLOP/s");
        if (ctf > 0) {
            snprintf(key, sizeof key, "cublaslt.gemm.%lldx%lldx%lld", (long long)m, (long long)n,
                     (long long)k);
            result(key, ctf, "TFLOP/s");
        }
    }
    if (cublas_ok) bench_baseline_cublas.unload();
}

/* Decode GEMV: m = 1 against 4096 x 14336 bf16 weights (k x n, and n x k for reference). */
static void bench_gemv(xhal_device_t *dev, timer_t_ *t, double copy_bw) {
    for (int tb = 0; tb < 2; tb++) {
        xhal_gemm_desc_t d;
        xhal_gemm_desc_init(&d, 1, 14336 / shrink, 4096 / shrink, XHAL_DTYPE_BF16);
        d.trans_b = tb;
        d.ldb = tb ? d.k : d.n;
        size_t wbytes = (size_t)(d.k * d.n) * 2;
        void *w = random_image(XHAL_DTYPE_BF16, (size_t)(d.k * d.n), 31);
        void *x = random_image(XHAL_DTYPE_BF16, (size_t)d.k, 32);
        d.a = upload(dev, t->s, x, (size_t)d.k * 2);
        d.b = upload(dev, t->s, w, wbytes);
        d.c = upload(dev, t->s, NULL, (size_t)d.n * 2);
        char shape[64];
        snprintf(shape, sizeof shape, "gemv m=1 %lldx%lld bf16 (B %s)", (long long)d.k,
                 (long long)d.n, tb ? "n x k" : "k x n");
        printf("RUN %s\n", shape);
        fflush(stdout);
        double sec = d.a && d.b && d.c ? time_op(t, run_gemm, &d) : -1;
        double bytes = (double)wbytes + d.k * 2 + d.n * 2;
        char detail[160], item[96];
        snprintf(detail, sizeof detail, "%.1f us, %.0f GB/s of %.0f GB/s copy", sec * 1e6,
                 sec > 0 ? bytes / sec / 1e9 : 0, copy_bw / 1e9);
        snprintf(item, sizeof item, "%s / copy bw", shape);
        if (tb == 0) {
            verdict(item, sec > 0 && copy_bw > 0 ? bytes / sec / copy_bw : 0, 0.75, "", detail);
            char key[64];
            snprintf(key, sizeof key, "gemv.1x%lldx%lld", (long long)d.n, (long long)d.k);
            result(key, sec > 0 ? bytes / sec / 1e9 : 0, "GB/s");
        } else
            gpu_say(out, "INFO %s: %s\n", shape, detail);
        xhal_buffer_free(d.a);
        xhal_buffer_free(d.b);
        xhal_buffer_free(d.c);
        free(w);
        free(x);
    }
}

/*
 * Prefill attention, bf16, 32 heads, head_dim 128, 16k tokens a batch (b x s = 16384) at
 * s = 1k..16k (--quick: 4k only), causal and not. FLOPs 4 b h s^2 d, halved for causal. The
 * acceptance shape is b4 s4096 (>= 400 TFLOP/s non-causal, >= 300 causal); the others are
 * reported against the same goals. --tiny: 4 heads, every length and the tokens / 16.
 */
static void bench_prefill(xhal_device_t *dev, timer_t_ *t, int quick) {
    int64_t heads = shrink > 1 ? 4 : 32, tokens = 16384 / shrink;
    for (int64_t seq = 1024 / shrink; seq <= tokens; seq *= 2) {
        int judged = seq == 4096 / shrink;
        if (quick && !judged) continue;
        int64_t batch = tokens / seq;
        double sec[2];
        bench_attention(dev, t, batch, heads, heads, seq, seq, 128, 3, sec);
        for (int causal = 0; causal < 2; causal++) {
            double flops = 4.0 * batch * heads * (double)seq * seq * 128 / (causal ? 2 : 1);
            double tflops = sec[causal] > 0 ? flops / sec[causal] / 1e12 : 0;
            double goal = causal ? 300 : 400;
            char item[96], detail[64], key[64];
            snprintf(item, sizeof item, "attention prefill b%lld h%lld s%lld d128%s",
                     (long long)batch, (long long)heads, (long long)seq, causal ? " causal" : "");
            snprintf(detail, sizeof detail, "%.3f ms", sec[causal] * 1e3);
            if (judged)
                verdict(item, tflops, goal, "TFLOP/s", detail);
            else
                gpu_say(out, "INFO %-52s %9.1f TFLOP/s (goal >= %.0f: %s) %s\n", item, tflops, goal,
                        tflops >= goal ? "met" : "missed", detail);
            snprintf(key, sizeof key, "prefill.b%lld.h%lld.s%lld.d128%s", (long long)batch,
                     (long long)heads, (long long)seq, causal ? ".causal" : "");
            result(key, tflops, "TFLOP/s");
        }
    }
}

/*
 * Decode attention, bf16, head_dim 128, 32 query heads over 8 KV heads: bytes are K and V read
 * once plus q and o. The acceptance shape is b32 kv8192 (>= 75% of the copy bandwidth); the
 * full run adds a long context at small batch and a short one at large batch.
 */
static void bench_decode(xhal_device_t *dev, timer_t_ *t, double copy_bw, int quick) {
    static const int64_t shapes[][2] = {{32, 8192}, {4, 32768}, {128, 2048}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (quick && i > 0) break;
        int64_t batch = shapes[i][0] > shrink ? shapes[i][0] / shrink : 1;
        int64_t kv = shapes[i][1] / shrink;
        double sec[2];
        bench_attention(dev, t, batch, 32, 8, 1, kv, 128, 1, sec);
        double bytes = 2.0 * batch * 8 * kv * 128 * 2 + 2.0 * batch * 32 * 128 * 2;
        double fraction = sec[0] > 0 && copy_bw > 0 ? bytes / sec[0] / copy_bw : 0;
        char item[96], detail[160], key[64];
        snprintf(item, sizeof item, "attention decode b%lld hq32 hkv8 kv%lld d128 / copy bw",
                 (long long)batch, (long long)kv);
        snprintf(detail, sizeof detail, "%.1f us, %.0f GB/s of %.0f GB/s copy", sec[0] * 1e6,
                 sec[0] > 0 ? bytes / sec[0] / 1e9 : 0, copy_bw / 1e9);
        if (i == 0)
            verdict(item, fraction, 0.75, "", detail);
        else
            gpu_say(out, "INFO %-52s %9.3f (goal >= 0.75: %s) %s\n", item, fraction,
                    fraction >= 0.75 ? "met" : "missed", detail);
        snprintf(key, sizeof key, "decode.b%lld.hq32.hkv8.kv%lld.d128", (long long)batch,
                 (long long)kv);
        result(key, sec[0] > 0 ? bytes / sec[0] / 1e9 : 0, "GB/s");
    }
}

int cuda_gpu_bench(xhal_device_t *dev, FILE *results, int quick, int tiny) {
    out = results;
    items_failed = 0;
    shrink = tiny ? 16 : 1;
    timer_t_ t = {0};
    if (!gpu_ok(xhal_stream_create(dev, &t.s), "stream_create") ||
        !gpu_ok(xhal_event_create(dev, &t.start), "event_create") ||
        !gpu_ok(xhal_event_create(dev, &t.stop), "event_create"))
        return 1;
    xhal_device_info_t info = {.struct_size = sizeof info};
    xhal_device_info(dev, &info);
    gpu_say(out, "\n== timings on %s: %s (median of %d after %d warm-ups%s) ==\n", info.spec,
            info.name, REPEATS, WARMUP, tiny ? "; --tiny: sizes / 16, not the goals' shapes" : "");

    /* Copy bandwidth: 1 GiB device to device, bytes read plus written. */
    copy_ctx_t copy = {NULL, NULL, (1ull << 30) / (uint64_t)(shrink * shrink)};
    copy.src = upload(dev, t.s, NULL, copy.bytes);
    copy.dst = upload(dev, t.s, NULL, copy.bytes);
    printf("RUN copy %llu MiB\n", (unsigned long long)(copy.bytes >> 20));
    fflush(stdout);
    double copy_s = copy.src && copy.dst ? time_op(&t, run_copy, &copy) : -1;
    xhal_buffer_free(copy.src);
    xhal_buffer_free(copy.dst);
    double copy_bw = copy_s > 0 ? 2.0 * copy.bytes / copy_s : 0;
    gpu_say(out, "copy: %llu MiB d2d in %.3f ms: %.0f GB/s (bytes read + written)\n",
            (unsigned long long)(copy.bytes >> 20), copy_s * 1e3, copy_bw / 1e9);
    char key[64];
    snprintf(key, sizeof key, "copy.%lluMiB", (unsigned long long)(copy.bytes >> 20));
    result(key, copy_bw / 1e9, "GB/s");

    bench_gemms(dev, &t);
    bench_gemv(dev, &t, copy_bw);
    bench_prefill(dev, &t, quick);
    bench_decode(dev, &t, copy_bw, quick);

    gpu_say(out, "timings: %d acceptance items failed\n", items_failed);
    xhal_event_destroy(t.start);
    xhal_event_destroy(t.stop);
    xhal_stream_destroy(t.s);
    return items_failed;
}
