/*
 * Streams and events: in-order execution, record/synchronize/elapsed, cross-stream waits that
 * must order work, destroy waiting for queued work, and four threads with their own streams.
 */
#include "test_util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static xhal_device_t *cpu;

static int setup(void **state) {
    (void)state;
    return xhal_device_open("cpu", &cpu) == XHAL_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    xhal_shutdown();
    return 0;
}

/* An f32 GEMM problem: host inputs, buffers, and its fp64 reference. */
typedef struct {
    int64_t m, n, k;
    float *a, *b;
    double *ref;
    xhal_buffer_t *ba, *bb, *bc;
} problem_t;

static int problem_make(problem_t *p, int64_t m, int64_t n, int64_t k, uint64_t seed,
                        xhal_stream_t *s) {
    xt_rng_t rng;
    xt_rng_seed(&rng, seed);
    memset(p, 0, sizeof *p);
    p->m = m;
    p->n = n;
    p->k = k;
    p->a = malloc(sizeof(float) * (size_t)(m * k));
    p->b = malloc(sizeof(float) * (size_t)(k * n));
    p->ref = malloc(sizeof(double) * (size_t)(m * n));
    if (!p->a || !p->b || !p->ref) return -1;
    for (int64_t i = 0; i < m * k; i++)
        p->a[i] = (float)xt_rng_uniform(&rng);
    for (int64_t i = 0; i < k * n; i++)
        p->b[i] = (float)xt_rng_uniform(&rng);
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, m, n, k, XHAL_DTYPE_F32);
    xt_ref_gemm(&d, p->a, p->b, NULL, p->ref);
    uint64_t ca = sizeof(float) * (uint64_t)(m * k), cb = sizeof(float) * (uint64_t)(k * n);
    uint64_t cc = sizeof(float) * (uint64_t)(m * n);
    xhal_device_t *dev = cpu;
    if (xhal_buffer_alloc(dev, ca, XHAL_MEMORY_DEVICE, &p->ba) != XHAL_OK ||
        xhal_buffer_alloc(dev, cb, XHAL_MEMORY_DEVICE, &p->bb) != XHAL_OK ||
        xhal_buffer_alloc(dev, cc, XHAL_MEMORY_DEVICE, &p->bc) != XHAL_OK)
        return -1;
    unsigned char nan = 0xff;
    if (xhal_copy_h2d(s, p->ba, 0, p->a, ca) != XHAL_OK ||
        xhal_copy_h2d(s, p->bb, 0, p->b, cb) != XHAL_OK ||
        xhal_fill(s, p->bc, 0, cc, &nan, 1) != XHAL_OK)
        return -1;
    return 0;
}

static xhal_status_t problem_enqueue(const problem_t *p, xhal_stream_t *s) {
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, p->m, p->n, p->k, XHAL_DTYPE_F32);
    d.a = p->ba;
    d.b = p->bb;
    d.c = p->bc;
    return xhal_gemm(s, &d);
}

/* Returns the relative error of `c` (m x n floats) against the reference, NaN counting as 1. */
static double problem_error(const problem_t *p, const float *c) {
    size_t count = (size_t)(p->m * p->n), bad = 0;
    double *got = malloc(sizeof(double) * count);
    if (!got) return 1.0;
    for (size_t i = 0; i < count; i++)
        got[i] = c[i];
    double err = xt_rel_error(got, p->ref, count, &bad);
    free(got);
    return bad || isnan(err) ? 1.0 : err;
}

static void problem_free(problem_t *p) {
    xhal_buffer_free(p->ba);
    xhal_buffer_free(p->bb);
    xhal_buffer_free(p->bc);
    free(p->a);
    free(p->b);
    free(p->ref);
}

static void test_in_order(void **state) {
    (void)state;
    /* A chain where each step reads what the previous one wrote, never synchronized between. */
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(cpu, &s));
    enum { N = 1 << 16 };
    unsigned char *src = xt_malloc(N), *out = xt_malloc(N);
    for (size_t i = 0; i < N; i++)
        src[i] = (unsigned char)(i * 7 + 3);
    xhal_buffer_t *x = NULL, *y = NULL;
    XT_OK(xhal_buffer_alloc(cpu, N, XHAL_MEMORY_DEVICE, &x));
    XT_OK(xhal_buffer_alloc(cpu, N, XHAL_MEMORY_DEVICE, &y));
    for (int round = 0; round < 20; round++) {
        uint8_t pat = (uint8_t)round;
        XT_OK(xhal_fill(s, y, 0, N, &pat, 1));
        XT_OK(xhal_copy_h2d(s, x, 0, src, N));
        XT_OK(xhal_copy_d2d(s, y, 0, x, 0, N / 2));
        XT_OK(xhal_copy_d2d(s, x, 0, y, N / 4, N / 2)); /* reads y's fill and copy */
        XT_OK(xhal_copy_d2h(s, out, x, 0, N));
        XT_OK(xhal_stream_synchronize(s));
        for (size_t i = 0; i < N; i++) {
            unsigned char want;
            if (i < N / 2) {
                size_t yi = N / 4 + i;
                want = yi < N / 2 ? src[yi] : (unsigned char)round;
            } else {
                want = src[i];
            }
            if (out[i] != want)
                fail_msg("round %d: byte %zu = %u, expected %u", round, i, out[i], want);
        }
    }
    xhal_buffer_free(x);
    xhal_buffer_free(y);
    xhal_stream_destroy(s);
    free(src);
    free(out);
}

static void test_events(void **state) {
    (void)state;
    xhal_stream_t *s = NULL;
    xhal_event_t *e1 = NULL, *e2 = NULL, *never = NULL;
    XT_OK(xhal_stream_create(cpu, &s));
    XT_OK(xhal_event_create(cpu, &e1));
    XT_OK(xhal_event_create(cpu, &e2));
    XT_OK(xhal_event_create(cpu, &never));
    /* An event never recorded is complete: waiting on it returns at once. */
    XT_OK(xhal_event_synchronize(never));
    XT_OK(xhal_stream_wait_event(s, never));

    problem_t p;
    assert_int_equal(problem_make(&p, 96, 80, 112, 5, s), 0);
    XT_OK(xhal_event_record(e1, s));
    XT_OK(problem_enqueue(&p, s));
    XT_OK(xhal_event_record(e2, s));
    XT_OK(xhal_event_synchronize(e2));
    /* e2 is reached: the GEMM before it has finished and its result is in place. */
    void *c = NULL;
    XT_OK(xhal_buffer_host_pointer(p.bc, &c));
    assert_true(problem_error(&p, c) <= 1e-5);
    double ms = -1.0;
    XT_OK(xhal_event_elapsed_ms(e1, e2, &ms));
    assert_true(isfinite(ms) && ms >= 0.0);
    XT_OK(xhal_event_elapsed_ms(e1, e1, &ms));
    assert_true(isfinite(ms) && ms >= 0.0 && ms < 1.0);
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_elapsed_ms(never, e2, &ms), "start");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_elapsed_ms(e1, never, &ms), "end");

    /* Re-recording moves the event to the new point. */
    XT_OK(xhal_event_record(e1, s));
    XT_OK(xhal_event_synchronize(e1));
    XT_OK(xhal_event_elapsed_ms(e2, e1, &ms));
    assert_true(isfinite(ms) && ms >= 0.0);
    XT_OK(xhal_stream_synchronize(s));

    problem_free(&p);
    xhal_event_destroy(e1);
    xhal_event_destroy(e2);
    xhal_event_destroy(never);
    xhal_event_destroy(NULL);
    xhal_stream_destroy(s);
    xhal_stream_destroy(NULL);
}

static void test_wait_event_orders_streams(void **state) {
    (void)state;
    xhal_stream_t *sa = NULL, *sb = NULL;
    xhal_event_t *done = NULL;
    XT_OK(xhal_stream_create(cpu, &sa));
    XT_OK(xhal_stream_create(cpu, &sb));
    XT_OK(xhal_event_create(cpu, &done));
    const int64_t m = 256, n = 256, k = 256;
    for (int round = 0; round < 3; round++) {
        problem_t p;
        assert_int_equal(problem_make(&p, m, n, k, 100 + (uint64_t)round, sa), 0);
        XT_OK(xhal_stream_synchronize(sa)); /* inputs in place, C poisoned with NaN */
        xhal_buffer_t *copy = NULL;
        uint64_t bytes = sizeof(float) * (uint64_t)(m * n);
        XT_OK(xhal_buffer_alloc(cpu, bytes, XHAL_MEMORY_DEVICE, &copy));
        float *host = xt_malloc((size_t)bytes);
        memset(host, 0, (size_t)bytes);

        /* A: the long GEMM, then the event. B: wait, copy C away, download. */
        XT_OK(problem_enqueue(&p, sa));
        XT_OK(xhal_event_record(done, sa));
        XT_OK(xhal_stream_wait_event(sb, done));
        XT_OK(xhal_copy_d2d(sb, copy, 0, p.bc, 0, bytes));
        XT_OK(xhal_copy_d2h(sb, host, copy, 0, bytes));
        XT_OK(xhal_stream_synchronize(sb)); /* only B: A is never synchronized before the check */
        double err = problem_error(&p, host);
        if (!(err <= 1e-5))
            fail_msg("round %d: stream B saw C before A finished it (rel. error %g)", round, err);
        XT_OK(xhal_stream_synchronize(sa));
        xhal_buffer_free(copy);
        free(host);
        problem_free(&p);
    }
    xhal_event_destroy(done);
    xhal_stream_destroy(sa);
    xhal_stream_destroy(sb);
}

static void test_destroy_waits(void **state) {
    (void)state;
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(cpu, &s));
    problem_t p;
    assert_int_equal(problem_make(&p, 200, 190, 210, 7, s), 0);
    float *host = xt_malloc(sizeof(float) * 200 * 190);
    memset(host, 0, sizeof(float) * 200 * 190);
    XT_OK(problem_enqueue(&p, s));
    XT_OK(xhal_copy_d2h(s, host, p.bc, 0, sizeof(float) * 200 * 190));
    xhal_stream_destroy(s); /* waits for the GEMM and the download */
    assert_true(problem_error(&p, host) <= 1e-5);
    problem_free(&p);
    free(host);
}

/* ---- threads ---------------------------------------------------------------------------- */

typedef struct {
    int id;
    char error[256];
} worker_t;

static void *worker(void *arg) {
    worker_t *w = arg;
    xhal_stream_t *s = NULL;
    if (xhal_stream_create(cpu, &s) != XHAL_OK) {
        snprintf(w->error, sizeof w->error, "stream_create: %s", xhal_last_error());
        return NULL;
    }
    xt_rng_t rng;
    xt_rng_seed(&rng, 1000 + (uint64_t)w->id);
    for (int it = 0; it < 6 && w->error[0] == '\0'; it++) {
        int64_t m = xt_rng_range(&rng, 1, 90), n = xt_rng_range(&rng, 1, 90);
        int64_t k = xt_rng_range(&rng, 1, 90);
        problem_t p;
        if (problem_make(&p, m, n, k, (uint64_t)(w->id * 100 + it), s) != 0) {
            snprintf(w->error, sizeof w->error, "setup: %s", xhal_last_error());
            problem_free(&p);
            break;
        }
        uint64_t bytes = sizeof(float) * (uint64_t)(m * n);
        xhal_buffer_t *copy = NULL;
        float *host = malloc((size_t)bytes);
        xhal_status_t st = xhal_buffer_alloc(cpu, bytes, XHAL_MEMORY_DEVICE, &copy);
        if (st == XHAL_OK) st = problem_enqueue(&p, s);
        if (st == XHAL_OK) st = xhal_copy_d2d(s, copy, 0, p.bc, 0, bytes);
        if (st == XHAL_OK) st = xhal_copy_d2h(s, host, copy, 0, bytes);
        if (st == XHAL_OK) st = xhal_stream_synchronize(s);
        if (st != XHAL_OK) {
            snprintf(w->error, sizeof w->error, "iteration %d: %s %s", it, xhal_status_name(st),
                     xhal_last_error());
        } else {
            double err = problem_error(&p, host);
            if (!(err <= 1e-5))
                snprintf(w->error, sizeof w->error, "iteration %d (%lldx%lldx%lld): error %g", it,
                         (long long)m, (long long)n, (long long)k, err);
        }
        xhal_buffer_free(copy);
        free(host);
        problem_free(&p);
    }
    xhal_stream_destroy(s);
    return NULL;
}

static void test_threads_with_own_streams(void **state) {
    (void)state;
    enum { T = 4 };
    pthread_t threads[T];
    worker_t workers[T];
    for (int i = 0; i < T; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, worker, &workers[i]), 0);
    }
    for (int i = 0; i < T; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < T; i++)
        if (workers[i].error[0]) fail_msg("thread %d: %s", i, workers[i].error);
}

int main(void) {
    unsetenv("XHAL_DEVICE");
    unsetenv("XHAL_BACKENDS");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_wait_event_orders_streams),
        cmocka_unit_test(test_destroy_waits),
        cmocka_unit_test(test_threads_with_own_streams),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
