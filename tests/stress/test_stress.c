/*
 * Stress: application threads x streams x devices at once, every result checked, with churn,
 * then lookups racing xhal_shutdown. Run by the plain stages briefly and by the ThreadSanitizer
 * stage (make test-tsan) for longer; docs/RELIABILITY.md records its counts.
 *
 * Phase 1 (work): each of THREADS threads loops until the deadline over the devices in turn
 * (every device xhal found; the faulty test backend, disarmed, is a second device where it was
 * built): it creates two streams and two events, uploads random inputs of a random small shape
 * and dtype, runs a GEMM (or an attention) on one stream, makes the other wait for it through an
 * event, copies the result across on the second stream, downloads it and compares it with an
 * fp64 reference. Streams are recreated every few iterations, buffers every iteration. A lookup
 * thread meanwhile walks the registry (device count/get/open/info, backend info).
 * Phase 2 (shutdown): lookup threads race xhal_shutdown and xhal_init cycles of the main thread.
 *
 * Worker threads never call cmocka: a failure is counted and printed, and the main thread fails
 * the test. Environment: XHAL_STRESS_SECONDS (phase 1; phase 2 is a quarter of it, default 4),
 * XHAL_STRESS_THREADS (default 6).
 */
#include "test_util.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int env_int(const char *name, int fallback, int lo, int hi) {
    const char *text = getenv(name);
    int value = text && *text ? atoi(text) : fallback;
    return value < lo ? lo : value > hi ? hi : value;
}

static xhal_device_t *devices[XT_MAX_DEVICES];
static size_t device_count;
static double deadline;
static atomic_int stop_lookups;
static atomic_ulong gemms_verified, attentions_verified, copies_verified, failures, lookups,
    streams_made;

#define FAILED(...)                                                                                \
    do {                                                                                           \
        atomic_fetch_add(&failures, 1);                                                            \
        fprintf(stderr, "stress: " __VA_ARGS__);                                                   \
        fputc('\n', stderr);                                                                       \
    } while (0)

/* Calls `call`; on failure counts it, prints it and jumps to `done`. */
#define TRY(call)                                                                                  \
    do {                                                                                           \
        xhal_status_t try_status_ = (call);                                                        \
        if (try_status_ != XHAL_OK) {                                                              \
            FAILED("%s returned %s: %s", #call, xhal_status_name(try_status_), xhal_last_error()); \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

typedef struct worker {
    xt_rng_t rng;
    xhal_stream_t *s1, *s2;
    xhal_device_t *device;
    int index;
} worker_t;

static void random_values(xt_rng_t *rng, void *out, xhal_dtype_t dtype, size_t count) {
    for (size_t i = 0; i < count; i++)
        xt_store(out, dtype, i, xt_rng_uniform(rng));
}

/* One GEMM (ops 0) or attention (op 1) on s1, its output copied to a second buffer on s2 after
 * an event, downloaded and checked. */
static void one_op(worker_t *w, int op) {
    xt_rng_t *rng = &w->rng;
    static const xhal_dtype_t dtypes[3] = {XHAL_DTYPE_F32, XHAL_DTYPE_F16, XHAL_DTYPE_BF16};
    xhal_dtype_t dtype = dtypes[xt_rng_range(rng, 0, 2)];
    size_t es = xt_dtype_size(dtype);
    xhal_event_t *event = NULL;
    xhal_buffer_t *in[3] = {NULL, NULL, NULL}, *out = NULL, *copy = NULL;
    void *host[3] = {NULL, NULL, NULL}, *result = NULL;
    double *ref = NULL, *got = NULL;
    size_t in_elements[3] = {0, 0, 0}, out_elements = 0;
    xhal_gemm_desc_t g;
    xhal_attention_desc_t a;
    if (op == 0) {
        int64_t m = xt_rng_range(rng, 1, 40), n = xt_rng_range(rng, 1, 40),
                k = xt_rng_range(rng, 1, 40);
        xhal_gemm_desc_init(&g, m, n, k, dtype);
        g.trans_a = (int)xt_rng_range(rng, 0, 1);
        g.trans_b = (int)xt_rng_range(rng, 0, 1);
        g.lda = g.trans_a ? m : k;
        g.ldb = g.trans_b ? k : n;
        in_elements[0] = (size_t)(m * k);
        in_elements[1] = (size_t)(k * n);
        out_elements = (size_t)(m * n);
    } else {
        int64_t group = xt_rng_range(rng, 1, 3), hkv = xt_rng_range(rng, 1, 2);
        int64_t sq = xt_rng_range(rng, 1, 20), skv = xt_rng_range(rng, 1, 70);
        int64_t dim = 8 * xt_rng_range(rng, 1, 4);
        xhal_attention_desc_init(&a, 1, group * hkv, hkv, sq, skv, dim, dtype,
                                 (xhal_layout_t)xt_rng_range(rng, 0, 1));
        a.causal = (int)xt_rng_range(rng, 0, 1);
        in_elements[0] = (size_t)(group * hkv * sq * dim);
        in_elements[1] = in_elements[2] = (size_t)(hkv * skv * dim);
        out_elements = in_elements[0];
    }
    int inputs = op == 0 ? 2 : 3;
    TRY(xhal_event_create(w->device, &event));
    for (int i = 0; i < inputs; i++) {
        host[i] = xt_malloc(in_elements[i] * es);
        random_values(rng, host[i], dtype, in_elements[i]);
        TRY(xhal_buffer_alloc(w->device, in_elements[i] * es, XHAL_MEMORY_DEVICE, &in[i]));
        TRY(xhal_copy_h2d(w->s1, in[i], 0, host[i], in_elements[i] * es));
    }
    TRY(xhal_buffer_alloc(w->device, out_elements * es, XHAL_MEMORY_DEVICE, &out));
    TRY(xhal_buffer_alloc(w->device, out_elements * es, XHAL_MEMORY_DEVICE, &copy));
    ref = xt_malloc(out_elements * sizeof *ref);
    if (op == 0) {
        xt_ref_gemm(&g, host[0], host[1], NULL, ref);
        g.a = in[0], g.b = in[1], g.c = out;
        TRY(xhal_gemm(w->s1, &g));
    } else {
        xt_ref_attention(&a, host[0], host[1], host[2], ref);
        a.q = in[0], a.k = in[1], a.v = in[2], a.o = out;
        TRY(xhal_attention(w->s1, &a));
    }
    TRY(xhal_event_record(event, w->s1));
    TRY(xhal_stream_wait_event(w->s2, event));
    TRY(xhal_copy_d2d(w->s2, copy, 0, out, 0, out_elements * es));
    result = xt_malloc(out_elements * es);
    TRY(xhal_copy_d2h(w->s2, result, copy, 0, out_elements * es));
    TRY(xhal_stream_synchronize(w->s2));
    got = xt_malloc(out_elements * sizeof *got);
    if (op == 0) {
        for (size_t i = 0; i < out_elements; i++)
            got[i] = xt_load(result, dtype, i);
    } else {
        /* The reference is [batch][head][seq][dim]; the output is in its layout's order. */
        for (int64_t h = 0; h < a.heads_q; h++)
            for (int64_t s = 0; s < a.seq_q; s++)
                for (int64_t x = 0; x < a.head_dim; x++)
                    got[(h * a.seq_q + s) * a.head_dim + x] = xt_load(
                        result, dtype, (uint64_t)(h * a.o_strides.head + s * a.o_strides.seq + x));
    }
    double error = xt_rel_error(got, ref, out_elements, NULL);
    if (!(error <= xt_tolerance(dtype) * (op == 0 ? 1 : 4))) {
        FAILED("thread %d: %s %s on %s: relative error %g", w->index, op ? "attention" : "gemm",
               xhal_dtype_name(dtype), "a device", error);
    } else {
        atomic_fetch_add(op ? &attentions_verified : &gemms_verified, 1);
        atomic_fetch_add(&copies_verified, 1);
    }
done:
    /* Both streams may still hold work on these buffers after a failure. */
    if (w->s1) (void)xhal_stream_synchronize(w->s1);
    if (w->s2) (void)xhal_stream_synchronize(w->s2);
    xhal_event_destroy(event);
    for (int i = 0; i < 3; i++) {
        xhal_buffer_free(in[i]);
        free(host[i]);
    }
    xhal_buffer_free(out);
    xhal_buffer_free(copy);
    free(result);
    free(ref);
    free(got);
}

static void *work_thread(void *arg) {
    worker_t *w = arg;
    for (uint64_t iteration = 0; seconds_now() < deadline; iteration++) {
        xhal_device_t *device = devices[(iteration + (uint64_t)w->index) % device_count];
        /* New streams when the device changes, and every fourth iteration: churn. */
        if (device != w->device || iteration % 4 == 0) {
            xhal_stream_destroy(w->s1);
            xhal_stream_destroy(w->s2);
            w->s1 = w->s2 = NULL;
            w->device = device;
            if (xhal_stream_create(device, &w->s1) != XHAL_OK ||
                xhal_stream_create(device, &w->s2) != XHAL_OK) {
                FAILED("thread %d: stream_create: %s", w->index, xhal_last_error());
                continue;
            }
            atomic_fetch_add(&streams_made, 2);
        }
        one_op(w, iteration % 3 == 2);
    }
    xhal_stream_destroy(w->s1);
    xhal_stream_destroy(w->s2);
    return NULL;
}

/* Walks the registry until told to stop; errors are expected only while shutdown runs. */
static void *lookup_thread(void *arg) {
    int strict = arg != NULL;
    while (!atomic_load(&stop_lookups)) {
        size_t count = 0;
        xhal_device_t *device = NULL;
        xhal_backend_info_t backend;
        xhal_status_t status = xhal_device_count(&count);
        if (status == XHAL_OK && count) status = xhal_device_get(count - 1, &device);
        if (status == XHAL_OK) status = xhal_device_open("cpu", &device);
        if (status == XHAL_OK && strict) {
            xhal_device_info_t info = {.struct_size = sizeof info};
            status = xhal_device_info(device, &info);
        }
        if (status == XHAL_OK) status = xhal_backend_count(&count);
        if (status == XHAL_OK && count) status = xhal_backend_info(count - 1, &backend);
        if (status != XHAL_OK) FAILED("lookup: %s", xhal_last_error());
        atomic_fetch_add(&lookups, 1);
    }
    return NULL;
}

static void test_stress(void **state) {
    (void)state;
    int seconds = env_int("XHAL_STRESS_SECONDS", 4, 1, 3600);
    int threads = env_int("XHAL_STRESS_THREADS", 6, 1, MAX_THREADS);
#ifdef XT_FAULTY_DIR
    /* The fault-injection backend, disarmed: a second device with its own registry entry. */
    setenv("XHAL_BACKEND_PATH", XT_FAULTY_DIR, 1);
    setenv("XHAL_BACKENDS", "cpu,faulty", 1);
#else
    setenv("XHAL_BACKENDS", "cpu", 1);
#endif
    XT_OK(xhal_device_count(&device_count));
    if (device_count > XT_MAX_DEVICES) device_count = XT_MAX_DEVICES;
    for (size_t i = 0; i < device_count; i++)
        XT_OK(xhal_device_get(i, &devices[i]));

    /* Phase 1. */
    static worker_t workers[MAX_THREADS];
    pthread_t ids[MAX_THREADS], lookup;
    deadline = seconds_now() + seconds;
    atomic_store(&stop_lookups, 0);
    assert_int_equal(pthread_create(&lookup, NULL, lookup_thread, (void *)1), 0);
    for (int i = 0; i < threads; i++) {
        workers[i] = (worker_t){.index = i};
        xt_rng_seed(&workers[i].rng, 1000 + (uint64_t)i);
        assert_int_equal(pthread_create(&ids[i], NULL, work_thread, &workers[i]), 0);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(ids[i], NULL);
    atomic_store(&stop_lookups, 1);
    pthread_join(lookup, NULL);
    unsigned long work_lookups = atomic_load(&lookups);

    /* Phase 2: every lookup either succeeds or fails cleanly while shutdown and init alternate.
     * A lookup that lands between a shutdown and the next init initialises the library itself,
     * so failures here are not expected either. */
    enum { RACERS = 3 };
    pthread_t racers[RACERS];
    atomic_store(&stop_lookups, 0);
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&racers[i], NULL, lookup_thread, NULL), 0);
    double end = seconds_now() + (seconds + 3) / 4;
    unsigned long cycles = 0;
    while (seconds_now() < end) {
        xhal_shutdown();
        XT_OK(xhal_init());
        cycles++;
    }
    atomic_store(&stop_lookups, 1);
    for (int i = 0; i < RACERS; i++)
        pthread_join(racers[i], NULL);
    xhal_shutdown();

    printf("[ INFO     ] stress: %d threads x 2 streams x %zu devices for %d s: %lu ops verified "
           "(%lu GEMM, %lu attention, each copied across streams and checked), %lu streams "
           "made, %lu lookups; then %lu shutdown/init cycles raced %lu lookups; %lu failures\n",
           threads, device_count, seconds,
           atomic_load(&gemms_verified) + atomic_load(&attentions_verified),
           atomic_load(&gemms_verified), atomic_load(&attentions_verified),
           atomic_load(&streams_made), work_lookups, cycles, atomic_load(&lookups) - work_lookups,
           atomic_load(&failures));
    assert_int_equal(atomic_load(&failures), 0);
    assert_true(atomic_load(&gemms_verified) > 0 && atomic_load(&attentions_verified) > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_stress)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
