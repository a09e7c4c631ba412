/*
 * Fault injection: a scenario that uses every kind of call (buffers, two streams, events, copies,
 * fills, a GEMM and an attention, cross-stream waits, timing) runs on the "faulty" backend
 * (tests/plugins/faulty_plugin.c), once to count its fault points, then once per point with that
 * call failing. Each faulted run must end with an error status and a message (never silently
 * succeed: a fault that does not surface would be a lost error), release everything it made, and
 * leave the library usable: the next, unfaulted run must compute correct results again. The
 * valgrind stage checks that nothing leaks on any of these paths.
 *
 * XT_FAULTY_DIR is the folder of libxhal-faulty.so, XT_FAULTY_PLUGIN its path.
 */
#include "test_util.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/faulty_plugin.h"

#ifndef XT_FAULTY_DIR
#error "XT_FAULTY_DIR must name the folder of the faulty plugin"
#endif

static xhal_faulty_arm_fn arm;
static xhal_faulty_calls_fn calls;
static xhal_faulty_injected_fn injected;
static void *plugin;
static xhal_device_t *faulty;

/* GEMM and attention shapes: odd, small, and enough to cross the kernels' tile edges. */
enum { M = 19, N = 37, K = 23, B = 1, HQ = 4, HKV = 2, SQ = 9, SKV = 70, D = 16 };

static int setup(void **state) {
    (void)state;
    xhal_shutdown();
    setenv("XHAL_BACKEND_PATH", XT_FAULTY_DIR, 1);
    setenv("XHAL_BACKENDS", "cpu,faulty", 1);
    if (xhal_device_open("faulty", &faulty) != XHAL_OK) {
        fprintf(stderr, "the faulty backend did not load: %s\n", xhal_last_error());
        return -1;
    }
    /* The plugin xhal loaded: one more reference to it, for its control functions. */
    plugin = dlopen(XT_FAULTY_PLUGIN, RTLD_NOW | RTLD_NOLOAD);
    if (!plugin) return -1;
    void *a = dlsym(plugin, "xhal_faulty_arm"), *c = dlsym(plugin, "xhal_faulty_calls"),
         *i = dlsym(plugin, "xhal_faulty_injected");
    if (!a || !c || !i) return -1;
    memcpy(&arm, &a, sizeof arm);
    memcpy(&calls, &c, sizeof calls);
    memcpy(&injected, &i, sizeof injected);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    xhal_shutdown();
    if (plugin) dlclose(plugin);
    unsetenv("XHAL_BACKENDS");
    unsetenv("XHAL_BACKEND_PATH");
    return 0;
}

/* Host data of one scenario: inputs, references, and what came back. */
typedef struct data {
    float a[M * K], b[K * N], c[M * N];
    float q[B * HQ * SQ * D], k[B * HKV * SKV * D], v[B * HKV * SKV * D], o[B * HQ * SQ * D];
    double c_ref[M * N], o_ref[B * HQ * SQ * D];
    xhal_gemm_desc_t gemm;
    xhal_attention_desc_t attention;
} data_t;

static data_t *make_data(void) {
    data_t *d = xt_malloc(sizeof *d);
    xt_rng_t rng;
    xt_rng_seed(&rng, 14);
    for (size_t i = 0; i < M * K; i++)
        d->a[i] = (float)xt_rng_uniform(&rng);
    for (size_t i = 0; i < K * N; i++)
        d->b[i] = (float)xt_rng_uniform(&rng);
    for (size_t i = 0; i < sizeof d->q / sizeof *d->q; i++)
        d->q[i] = (float)xt_rng_uniform(&rng);
    for (size_t i = 0; i < sizeof d->k / sizeof *d->k; i++) {
        d->k[i] = (float)xt_rng_uniform(&rng);
        d->v[i] = (float)xt_rng_uniform(&rng);
    }
    xhal_gemm_desc_init(&d->gemm, M, N, K, XHAL_DTYPE_F32);
    xt_ref_gemm(&d->gemm, d->a, d->b, NULL, d->c_ref);
    xhal_attention_desc_init(&d->attention, B, HQ, HKV, SQ, SKV, D, XHAL_DTYPE_F32,
                             XHAL_LAYOUT_BHSD);
    d->attention.causal = 1;
    xt_ref_attention(&d->attention, d->q, d->k, d->v, d->o_ref);
    return d;
}

/* What a failing step must look like: a defined error status and a message. */
static void check_failure(xhal_status_t status, const char *step) {
    if (status == XHAL_OK) return;
    const char *name = xhal_status_name(status);
    if (!strcmp(name, "XHAL_UNKNOWN_STATUS") || !xhal_last_error()[0]) {
        print_error("%s returned %d (%s) with message \"%s\"\n", step, (int)status, name,
                    xhal_last_error());
        fail();
    }
}

#define STEP(call)                                                                                 \
    do {                                                                                           \
        status = (call);                                                                           \
        check_failure(status, #call);                                                              \
        if (status != XHAL_OK) goto done;                                                          \
    } while (0)

/*
 * The scenario on `dev`. Returns XHAL_OK when every call succeeded (results then checked), else
 * the first error; either way everything it made is released.
 */
static xhal_status_t scenario(xhal_device_t *dev, data_t *d) {
    xhal_status_t status = XHAL_OK;
    xhal_stream_t *s1 = NULL, *s2 = NULL;
    xhal_event_t *e0 = NULL, *e1 = NULL, *e2 = NULL;
    xhal_buffer_t *a = NULL, *b = NULL, *c = NULL, *c2 = NULL, *q = NULL, *k = NULL, *v = NULL,
                  *o = NULL;
    float nan_pattern = NAN;
    double ms = 0;

    STEP(xhal_stream_create(dev, &s1));
    STEP(xhal_stream_create(dev, &s2));
    STEP(xhal_event_create(dev, &e0));
    STEP(xhal_event_create(dev, &e1));
    STEP(xhal_event_create(dev, &e2));
    STEP(xhal_buffer_alloc(dev, sizeof d->a, XHAL_MEMORY_DEVICE, &a));
    STEP(xhal_buffer_alloc(dev, sizeof d->b, XHAL_MEMORY_DEVICE, &b));
    STEP(xhal_buffer_alloc(dev, sizeof d->c, XHAL_MEMORY_DEVICE, &c));
    STEP(xhal_buffer_alloc(dev, sizeof d->c, XHAL_MEMORY_HOST_PINNED, &c2));
    STEP(xhal_buffer_alloc(dev, sizeof d->q, XHAL_MEMORY_DEVICE, &q));
    STEP(xhal_buffer_alloc(dev, sizeof d->k, XHAL_MEMORY_DEVICE, &k));
    STEP(xhal_buffer_alloc(dev, sizeof d->v, XHAL_MEMORY_DEVICE, &v));
    STEP(xhal_buffer_alloc(dev, sizeof d->o, XHAL_MEMORY_DEVICE, &o));

    STEP(xhal_copy_h2d(s1, a, 0, d->a, sizeof d->a));
    STEP(xhal_copy_h2d(s1, b, 0, d->b, sizeof d->b));
    STEP(xhal_fill(s1, c, 0, sizeof d->c, &nan_pattern, sizeof nan_pattern));
    STEP(xhal_copy_h2d(s2, q, 0, d->q, sizeof d->q));
    STEP(xhal_copy_h2d(s2, k, 0, d->k, sizeof d->k));
    STEP(xhal_copy_h2d(s2, v, 0, d->v, sizeof d->v));
    STEP(xhal_event_record(e0, s1));
    STEP(xhal_stream_wait_event(s2, e0));

    /* The GEMM on s1, the attention on s2, C copied across once s2 has seen s1's GEMM. */
    xhal_gemm_desc_t g = d->gemm;
    g.a = a, g.b = b, g.c = c;
    STEP(xhal_gemm(s1, &g));
    xhal_attention_desc_t att = d->attention;
    att.q = q, att.k = k, att.v = v, att.o = o;
    STEP(xhal_attention(s2, &att));
    STEP(xhal_event_record(e1, s1));
    STEP(xhal_stream_wait_event(s2, e1));
    STEP(xhal_copy_d2d(s2, c2, 0, c, 0, sizeof d->c));
    STEP(xhal_event_record(e2, s2));
    STEP(xhal_event_synchronize(e2));
    STEP(xhal_event_elapsed_ms(e0, e2, &ms));
    memset(d->c, 0xff, sizeof d->c);
    memset(d->o, 0xff, sizeof d->o);
    STEP(xhal_copy_d2h(s2, d->c, c2, 0, sizeof d->c));
    STEP(xhal_copy_d2h(s2, d->o, o, 0, sizeof d->o));
    STEP(xhal_stream_synchronize(s1));
    STEP(xhal_stream_synchronize(s2));

    double got_c[M * N], got_o[B * HQ * SQ * D];
    for (size_t i = 0; i < M * N; i++)
        got_c[i] = d->c[i];
    for (size_t i = 0; i < sizeof d->o / sizeof *d->o; i++)
        got_o[i] = d->o[i];
    double err_c = xt_rel_error(got_c, d->c_ref, M * N, NULL);
    double err_o = xt_rel_error(got_o, d->o_ref, sizeof d->o / sizeof *d->o, NULL);
    if (!(err_c < xt_tolerance(XHAL_DTYPE_F32)) || !(err_o < xt_tolerance(XHAL_DTYPE_F32))) {
        print_error("wrong results after faults: GEMM error %g, attention error %g\n", err_c,
                    err_o);
        fail();
    }

done:
    /* Streams first: destroying one waits for its queued work, which may use the buffers and
     * host memory (xhal.h: work that uses a buffer must finish before it is freed). */
    xhal_stream_destroy(s1);
    xhal_stream_destroy(s2);
    xhal_event_destroy(e0);
    xhal_event_destroy(e1);
    xhal_event_destroy(e2);
    xhal_buffer_t *buffers[] = {a, b, c, c2, q, k, v, o};
    for (size_t i = 0; i < sizeof buffers / sizeof *buffers; i++)
        xhal_buffer_free(buffers[i]);
    return status;
}

static const struct {
    unsigned kind;
    const char *name;
} kinds[] = {{FAULTY_ALLOC, "alloc"},
             {FAULTY_COPY, "copy"},
             {FAULTY_LAUNCH, "launch"},
             {FAULTY_WAIT, "wait"},
             {FAULTY_ASYNC, "async"}};

/* Every fault point of every kind, each followed by a clean run that must be right. */
static void test_every_fault_point(void **state) {
    (void)state;
    data_t *d = make_data();
    uint64_t before = injected(), runs = 0;
    arm(0, 0);
    XT_OK(scenario(faulty, d));
    for (size_t kind = 0; kind < sizeof kinds / sizeof *kinds; kind++) {
        arm(kinds[kind].kind, 0); /* count only */
        XT_OK(scenario(faulty, d));
        uint64_t points = calls();
        assert_true(points > 0);
        for (uint64_t at = 1; at <= points; at++) {
            arm(kinds[kind].kind, at);
            xhal_status_t status = scenario(faulty, d);
            if (status == XHAL_OK) {
                print_error("%s fault at call %llu of %llu was not reported\n", kinds[kind].name,
                            (unsigned long long)at, (unsigned long long)points);
                fail();
            }
            arm(0, 0);
            XT_OK(scenario(faulty, d));
            runs += 2;
        }
        printf("[ INFO     ] %s: %llu fault points, each reported and recovered from\n",
               kinds[kind].name, (unsigned long long)points);
    }
    printf("[ INFO     ] faults injected: %llu, scenarios run: %llu\n",
           (unsigned long long)(injected() - before), (unsigned long long)runs);
    free(d);
}

/* A fault on one device leaves the others alone: the CPU device runs the scenario meanwhile. */
static void test_other_devices_unaffected(void **state) {
    (void)state;
    data_t *d = make_data();
    xhal_device_t *cpu = xt_open("cpu");
    arm(FAULTY_ASYNC, 1);
    assert_int_not_equal(scenario(faulty, d), XHAL_OK);
    XT_OK(scenario(cpu, d));
    arm(0, 0);
    XT_OK(scenario(faulty, d));
    free(d);
}

/* Shutdown with objects left over after a fault releases them (valgrind checks nothing leaks). */
static void test_shutdown_after_fault(void **state) {
    (void)state;
    xhal_stream_t *s = NULL;
    xhal_buffer_t *buf = NULL;
    XT_OK(xhal_stream_create(faulty, &s));
    XT_OK(xhal_buffer_alloc(faulty, 4096, XHAL_MEMORY_DEVICE, &buf));
    arm(FAULTY_ASYNC, 1);
    unsigned char byte = 7;
    XT_OK(xhal_fill(s, buf, 0, 4096, &byte, 1));
    XT_EXPECT_ERR(XHAL_DEVICE_ERROR, xhal_stream_synchronize(s), "injected", "asynchronous");
    arm(0, 0);
    /* Re-initialised: the leftovers go with the shutdown, and the backend loads again. */
    xhal_shutdown();
    XT_OK(xhal_device_open("faulty", &faulty));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fault_point),
        cmocka_unit_test(test_other_devices_unaffected),
        cmocka_unit_test(test_shutdown_after_fault),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
