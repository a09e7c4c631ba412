/*
 * xhal quickstart: open the default device, run one GEMM and one grouped-query causal attention,
 * and check both against a plain fp64 loop. Set XHAL_DEVICE (e.g. "opencl:0") to pick a device.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <xhal/xhal.h>

enum { M = 64, N = 48, K = 80 };              /* GEMM: C[M][N] = A[M][K] B[K][N] */
enum { HQ = 4, HKV = 2, SEQ = 16, DIM = 32 }; /* attention, batch 1, BSHD layout */
enum { Q_SIZE = SEQ * HQ * DIM, KV_SIZE = SEQ * HKV * DIM };

/* On any xhal error: say which call failed and why, and leave with 1. */
#define CHECK(call)                                                                                \
    do {                                                                                           \
        xhal_status_t status_ = (call);                                                            \
        if (status_ != XHAL_OK) {                                                                  \
            fprintf(stderr, "%s: %s: %s\n", #call, xhal_status_name(status_), xhal_last_error());  \
            xhal_shutdown(); /* also releases the handles still alive */                           \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static void fill_random(float *x, int n) {
    for (int i = 0; i < n; i++)
        x[i] = 2.0f * (float)rand() / (float)RAND_MAX - 1.0f;
}

static double relative_error(const float *out, const double *ref, int n) {
    double diff = 0, norm = 0;
    for (int i = 0; i < n; i++) {
        diff += (out[i] - ref[i]) * (out[i] - ref[i]);
        norm += ref[i] * ref[i];
    }
    return sqrt(diff / norm); /* NaN in `out` makes this NaN, which fails the check below */
}

static void gemm_reference(const float *a, const float *b, double *c) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double sum = 0;
            for (int p = 0; p < K; p++)
                sum += (double)a[i * K + p] * b[p * N + j];
            c[i * N + j] = sum;
        }
}

/* BSHD: element (s, h, d) of a tensor with `heads` heads is at (s * heads + h) * DIM + d. */
static void attention_reference(const float *q, const float *k, const float *v, double *o) {
    for (int h = 0; h < HQ; h++) {
        int kvh = h / (HQ / HKV); /* GQA: query heads share KV heads */
        for (int i = 0; i < SEQ; i++) {
            double p[SEQ], max = -INFINITY, sum = 0;
            for (int j = 0; j <= i; j++) { /* causal: query i sees keys 0..i */
                double dot = 0;
                for (int d = 0; d < DIM; d++)
                    dot += (double)q[(i * HQ + h) * DIM + d] * k[(j * HKV + kvh) * DIM + d];
                p[j] = dot / sqrt(DIM);
                max = fmax(max, p[j]);
            }
            for (int j = 0; j <= i; j++)
                sum += (p[j] = exp(p[j] - max));
            for (int d = 0; d < DIM; d++) {
                double acc = 0;
                for (int j = 0; j <= i; j++)
                    acc += p[j] * v[(j * HKV + kvh) * DIM + d];
                o[(i * HQ + h) * DIM + d] = acc / sum;
            }
        }
    }
}

/* Allocates a device buffer and enqueues the upload of `n` floats (NULL: leave it empty). */
static xhal_buffer_t *device_array(xhal_device_t *dev, xhal_stream_t *s, const float *x, int n) {
    xhal_buffer_t *buffer = NULL;
    CHECK(xhal_buffer_alloc(dev, n * sizeof(float), XHAL_MEMORY_DEVICE, &buffer));
    if (x) CHECK(xhal_copy_h2d(s, buffer, 0, x, n * sizeof(float)));
    return buffer;
}

static double run_gemm(xhal_device_t *dev, xhal_stream_t *stream) {
    static float a[M * K], b[K * N], c[M * N];
    static double ref[M * N];
    fill_random(a, M * K);
    fill_random(b, K * N);
    xhal_gemm_desc_t desc;
    xhal_gemm_desc_init(&desc, M, N, K, XHAL_DTYPE_F32);
    desc.a = device_array(dev, stream, a, M * K);
    desc.b = device_array(dev, stream, b, K * N);
    desc.c = device_array(dev, stream, NULL, M * N);
    CHECK(xhal_gemm(stream, &desc));
    CHECK(xhal_copy_d2h(stream, c, desc.c, 0, sizeof c));
    CHECK(xhal_stream_synchronize(stream)); /* a, b and c are in use until here */
    xhal_buffer_free(desc.a);
    xhal_buffer_free(desc.b);
    xhal_buffer_free(desc.c);
    gemm_reference(a, b, ref);
    return relative_error(c, ref, M * N);
}

static double run_attention(xhal_device_t *dev, xhal_stream_t *stream) {
    static float q[Q_SIZE], k[KV_SIZE], v[KV_SIZE], o[Q_SIZE];
    static double ref[Q_SIZE];
    fill_random(q, Q_SIZE);
    fill_random(k, KV_SIZE);
    fill_random(v, KV_SIZE);
    xhal_attention_desc_t desc;
    xhal_attention_desc_init(&desc, 1, HQ, HKV, SEQ, SEQ, DIM, XHAL_DTYPE_F32, XHAL_LAYOUT_BSHD);
    desc.causal = 1;
    desc.q = device_array(dev, stream, q, Q_SIZE);
    desc.k = device_array(dev, stream, k, KV_SIZE);
    desc.v = device_array(dev, stream, v, KV_SIZE);
    desc.o = device_array(dev, stream, NULL, Q_SIZE);
    CHECK(xhal_attention(stream, &desc));
    CHECK(xhal_copy_d2h(stream, o, desc.o, 0, sizeof o));
    CHECK(xhal_stream_synchronize(stream));
    xhal_buffer_free(desc.q);
    xhal_buffer_free(desc.k);
    xhal_buffer_free(desc.v);
    xhal_buffer_free(desc.o);
    attention_reference(q, k, v, ref);
    return relative_error(o, ref, Q_SIZE);
}

int main(void) {
    xhal_device_t *device = NULL;
    xhal_stream_t *stream = NULL;
    xhal_device_info_t info = {.struct_size = sizeof info};
    CHECK(xhal_device_open(NULL, &device)); /* XHAL_DEVICE, or the first device */
    CHECK(xhal_device_info(device, &info));
    printf("device: %s (%s)\n", info.name, info.spec);
    CHECK(xhal_stream_create(device, &stream));

    double gemm_error = run_gemm(device, stream);
    double attention_error = run_attention(device, stream);
    printf("gemm %dx%dx%d f32: relative error %.2e\n", M, N, K, gemm_error);
    printf("attention GQA causal f32: relative error %.2e\n", attention_error);

    xhal_stream_destroy(stream);
    xhal_shutdown();
    return gemm_error < 1e-5 && attention_error < 1e-5 ? 0 : 1;
}
