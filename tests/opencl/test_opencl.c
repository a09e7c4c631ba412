/*
 * The OpenCL backend's own behaviour on the first OpenCL device (PoCL in CI): what it says the
 * device is, memory and copies, pinned memory, events across streams, two threads on two
 * streams, what it refuses, and (run with "build_error" and XHAL_OPENCL_BUILD_OPTIONS=-DXV=3)
 * that a failed kernel build reports clBuildProgram, the CL error name and the build log.
 * GEMM and attention results are checked on every device by test_gemm and test_attention.
 *
 * Exits 77 (ctest's skip) where no OpenCL device is found.
 */
#include "test_util.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static xhal_device_t *device;
static xhal_device_info_t info = {.struct_size = sizeof info};
static xhal_stream_t *stream;

/* ---- device info ---- */

static void test_info(void **state) {
    (void)state;
    assert_string_equal(info.backend, "opencl");
    assert_true(strncmp(info.spec, "opencl:", 7) == 0);
    assert_true(info.name[0] != '\0');
    assert_true(info.vendor[0] != '\0');
    assert_true(info.driver[0] != '\0');
    assert_true(info.architecture[0] != '\0');
    assert_true(info.memory_bytes > 0);
    assert_true(info.compute_units > 0);
    assert_true(info.clock_ghz > 0);
    assert_true(info.peak_source[0] != '\0');
    if (info.type == XHAL_DEVICE_TYPE_CPU && strncmp(info.peak_source, "derived", 7) == 0) {
        /* A CPU device's peaks come from the host's CPUID and measured clock. */
        for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
            assert_true(info.peak_flops[t] > 1e9);
        assert_true(info.clock_ghz > 0.2 && info.clock_ghz < 10.0);
    }
    /* The device can be found by its backend's name and by a substring of its name. */
    xhal_device_t *again = NULL;
    XT_OK(xhal_device_open("opencl", &again));
    assert_ptr_equal(again, device);
}

/* ---- memory ---- */

static void test_copies_and_fill(void **state) {
    (void)state;
    enum { SIZE = 1 << 16 };
    unsigned char *host = xt_malloc(SIZE), *back = xt_malloc(SIZE), *want = xt_malloc(SIZE);
    for (size_t i = 0; i < SIZE; i++)
        host[i] = (unsigned char)(i * 7 + 3);
    xhal_buffer_t *a = NULL, *b = NULL;
    XT_OK(xhal_buffer_alloc(device, SIZE, XHAL_MEMORY_DEVICE, &a));
    XT_OK(xhal_buffer_alloc(device, SIZE, XHAL_MEMORY_DEVICE, &b));
    uint64_t size = 0;
    XT_OK(xhal_buffer_size(a, &size));
    assert_int_equal(size, SIZE);

    XT_OK(xhal_copy_h2d(stream, a, 0, host, SIZE));
    XT_OK(xhal_copy_h2d(stream, b, 0, host, SIZE));
    XT_OK(xhal_copy_d2d(stream, b, 1000, a, 5, 3000)); /* unaligned offsets */
    const uint8_t p1 = 0xab;
    const uint16_t p2 = 0x1234;
    const uint32_t p4 = 0xdeadbeef;
    XT_OK(xhal_fill(stream, b, 8191, 17, &p1, 1));
    XT_OK(xhal_fill(stream, b, 10000, 64, &p2, 2));
    XT_OK(xhal_fill(stream, b, 20000, 4096, &p4, 4));
    XT_OK(xhal_copy_d2h(stream, back, b, 0, SIZE));
    XT_OK(xhal_stream_synchronize(stream));

    memcpy(want, host, SIZE);
    memcpy(want + 1000, host + 5, 3000);
    memset(want + 8191, 0xab, 17);
    for (int i = 0; i < 32; i++)
        memcpy(want + 10000 + 2 * i, &p2, 2);
    for (int i = 0; i < 1024; i++)
        memcpy(want + 20000 + 4 * i, &p4, 4);
    assert_memory_equal(back, want, SIZE);

    /* Device memory has no host pointer. */
    void *pointer = NULL;
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_buffer_host_pointer(a, &pointer), "opencl*");
    xhal_buffer_free(a);
    xhal_buffer_free(b);
    free(host);
    free(back);
    free(want);
}

static void test_pinned(void **state) {
    (void)state;
    xhal_buffer_t *pinned = NULL, *plain = NULL;
    xhal_status_t st = xhal_buffer_alloc(device, 4096, XHAL_MEMORY_HOST_PINNED, &pinned);
    if (st == XHAL_UNSUPPORTED) {
        /* Only devices that share the host's memory have it; the reason says so. */
        assert_true(xt_contains_word(xhal_last_error(), "CL_DEVICE_HOST_UNIFIED_MEMORY"));
        skip();
    }
    XT_OK(st);
    void *pointer = NULL;
    XT_OK(xhal_buffer_host_pointer(pinned, &pointer));
    assert_non_null(pointer);
    memset(pointer, 0x5a, 4096);
    XT_OK(xhal_buffer_alloc(device, 4096, XHAL_MEMORY_DEVICE, &plain));
    XT_OK(xhal_copy_d2d(stream, plain, 0, pinned, 0, 4096));
    const uint32_t pattern = 0x01020304;
    XT_OK(xhal_fill(stream, pinned, 0, 64, &pattern, 4));
    unsigned char back[4096];
    XT_OK(xhal_copy_d2h(stream, back, plain, 0, 4096));
    XT_OK(xhal_stream_synchronize(stream));
    for (int i = 0; i < 4096; i++)
        assert_int_equal(back[i], 0x5a);
    /* The device's fill shows through the host pointer once the stream is synchronized. */
    assert_memory_equal(pointer, &pattern, 4);
    xhal_buffer_free(plain);
    xhal_buffer_free(pinned);
}

static void test_too_large(void **state) {
    (void)state;
    xhal_buffer_t *buffer = NULL;
    XT_EXPECT_ERR(XHAL_OUT_OF_MEMORY,
                  xhal_buffer_alloc(device, (uint64_t)1 << 62, XHAL_MEMORY_DEVICE, &buffer),
                  "CL_DEVICE_MAX_MEM_ALLOC_SIZE");
    assert_null(buffer);
}

/* ---- events and streams ---- */

/* C = A B for 256^3 f32 on `s`: enough work for a stream to be busy a while. */
typedef struct work {
    xhal_buffer_t *a, *b, *c;
    xhal_gemm_desc_t desc;
} work_t;

static void work_make(work_t *w, int64_t size) {
    float *host = xt_malloc((size_t)(size * size) * sizeof(float));
    for (int64_t i = 0; i < size * size; i++)
        host[i] = (float)((i * 13) % 17) / 17.0f - 0.5f;
    uint64_t bytes = (uint64_t)(size * size) * sizeof(float);
    w->a = xt_upload(device, stream, host, bytes);
    w->b = xt_upload(device, stream, host, bytes);
    XT_OK(xhal_buffer_alloc(device, bytes, XHAL_MEMORY_DEVICE, &w->c));
    xhal_gemm_desc_init(&w->desc, size, size, size, XHAL_DTYPE_F32);
    w->desc.a = w->a;
    w->desc.b = w->b;
    w->desc.c = w->c;
    free(host);
}

static void work_free(work_t *w) {
    xhal_buffer_free(w->a);
    xhal_buffer_free(w->b);
    xhal_buffer_free(w->c);
}

static void test_events(void **state) {
    (void)state;
    work_t w;
    work_make(&w, 256);
    xhal_event_t *start = NULL, *stop = NULL, *never = NULL;
    XT_OK(xhal_event_create(device, &start));
    XT_OK(xhal_event_create(device, &stop));
    XT_OK(xhal_event_create(device, &never));
    /* An event never recorded is complete: waiting on it does nothing. */
    XT_OK(xhal_event_synchronize(never));
    XT_OK(xhal_stream_wait_event(stream, never));

    XT_OK(xhal_gemm(stream, &w.desc)); /* builds the kernels outside the timed part */
    XT_OK(xhal_event_record(start, stream));
    XT_OK(xhal_gemm(stream, &w.desc));
    XT_OK(xhal_event_record(stop, stream));
    XT_OK(xhal_event_synchronize(stop));
    double ms = -1;
    XT_OK(xhal_event_elapsed_ms(start, stop, &ms));
    assert_true(ms > 0.0 && ms < 60000.0);
    /* Recording again moves the event to the new point. */
    XT_OK(xhal_event_record(start, stream));
    XT_OK(xhal_event_record(stop, stream));
    XT_OK(xhal_event_elapsed_ms(start, stop, &ms));
    assert_true(ms >= 0.0 && ms < 1000.0);
    xhal_event_destroy(never);
    xhal_event_destroy(start);
    xhal_event_destroy(stop);
    XT_OK(xhal_stream_synchronize(stream));
    work_free(&w);
}

static void test_wait_across_streams(void **state) {
    (void)state;
    enum { SIZE = 1 << 20 };
    xhal_stream_t *other = NULL;
    XT_OK(xhal_stream_create(device, &other));
    xhal_event_t *filled = NULL;
    XT_OK(xhal_event_create(device, &filled));
    xhal_buffer_t *buffer = NULL;
    XT_OK(xhal_buffer_alloc(device, SIZE, XHAL_MEMORY_DEVICE, &buffer));
    unsigned char *back = xt_malloc(SIZE);
    for (int round = 0; round < 4; round++) {
        const uint32_t pattern = 0x11111111u * (uint32_t)(round + 1);
        XT_OK(xhal_fill(stream, buffer, 0, SIZE, &pattern, 4));
        XT_OK(xhal_event_record(filled, stream));
        XT_OK(xhal_stream_wait_event(other, filled));
        XT_OK(xhal_copy_d2h(other, back, buffer, 0, SIZE));
        XT_OK(xhal_stream_synchronize(other));
        for (size_t i = 0; i < SIZE; i += 4)
            assert_memory_equal(back + i, &pattern, 4);
    }
    /* Destroying an event right after recording it is allowed. */
    xhal_event_t *brief = NULL;
    XT_OK(xhal_event_create(device, &brief));
    XT_OK(xhal_event_record(brief, stream));
    xhal_event_destroy(brief);
    XT_OK(xhal_stream_synchronize(stream));
    free(back);
    xhal_buffer_free(buffer);
    xhal_event_destroy(filled);
    xhal_stream_destroy(other);
}

/* Two threads, each with its own stream, running GEMMs at once: kernels are per stream. */
typedef struct thread_job {
    xhal_stream_t *stream;
    work_t work;
    int failures;
} thread_job_t;

static void *thread_main(void *arg) {
    thread_job_t *job = arg;
    for (int i = 0; i < 8; i++)
        if (xhal_gemm(job->stream, &job->work.desc) != XHAL_OK) job->failures++;
    if (xhal_stream_synchronize(job->stream) != XHAL_OK) job->failures++;
    return NULL;
}

static void test_threads(void **state) {
    (void)state;
    thread_job_t jobs[2];
    memset(jobs, 0, sizeof jobs);
    for (int t = 0; t < 2; t++) {
        XT_OK(xhal_stream_create(device, &jobs[t].stream));
        work_make(&jobs[t].work, t ? 48 : 33);
    }
    pthread_t threads[2];
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, thread_main, &jobs[t]), 0);
    for (int t = 0; t < 2; t++)
        pthread_join(threads[t], NULL);
    for (int t = 0; t < 2; t++) {
        assert_int_equal(jobs[t].failures, 0);
        /* Every element of C is a dot product of a row and a column of the same matrix. */
        int64_t n = jobs[t].work.desc.n;
        float *c = xt_malloc((size_t)(n * n) * sizeof(float));
        float *a = xt_malloc((size_t)(n * n) * sizeof(float));
        xt_download(jobs[t].stream, c, jobs[t].work.c, (uint64_t)(n * n) * sizeof(float));
        xt_download(jobs[t].stream, a, jobs[t].work.a, (uint64_t)(n * n) * sizeof(float));
        for (int64_t i = 0; i < n; i += 7)
            for (int64_t j = 0; j < n; j += 5) {
                double want = 0;
                for (int64_t p = 0; p < n; p++)
                    want += (double)a[i * n + p] * (double)a[p * n + j];
                assert_true(fabs(c[i * n + j] - want) < 1e-4);
            }
        free(a);
        free(c);
        work_free(&jobs[t].work);
        xhal_stream_destroy(jobs[t].stream);
    }
}

/* ---- what it refuses ---- */

static void test_unsupported(void **state) {
    (void)state;
    xhal_attention_desc_t ad;
    xhal_attention_desc_init(&ad, 1, 2, 1, 4, 4, 320, XHAL_DTYPE_F16, XHAL_LAYOUT_BSHD);
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_attention_supports(device, &ad), "head_dim");
    xhal_gemm_desc_t gd;
    xhal_gemm_desc_init(&gd, (int64_t)INT_MAX + 1, 4, 4, XHAL_DTYPE_F32);
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_gemm_supports(device, &gd), "opencl*", "GEMM");
}

/* ---- run with XHAL_OPENCL_BUILD_OPTIONS=-DXV=3: the kernels do not compile ---- */

static void test_build_error(void **state) {
    (void)state;
    work_t w;
    work_make(&w, 16);
    XT_EXPECT_ERR(XHAL_DEVICE_ERROR, xhal_gemm(stream, &w.desc), "clBuildProgram",
                  "CL_BUILD_PROGRAM_FAILURE", "log*", "XV must be 4, 8 or 16");
    /* The failure is not cached: it is reported again, not turned into a broken program. */
    XT_EXPECT_ERR(XHAL_DEVICE_ERROR, xhal_gemm(stream, &w.desc), "clBuildProgram");
    XT_OK(xhal_stream_synchronize(stream));
    work_free(&w);
}

static int setup(void **state) {
    (void)state;
    return xhal_stream_create(device, &stream) == XHAL_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    xhal_stream_destroy(stream);
    xhal_shutdown();
    return 0;
}

int main(int argc, char **argv) {
    unsetenv("XHAL_DEVICE");
    unsetenv("XHAL_BACKENDS");
    if (xhal_device_open("opencl", &device) != XHAL_OK) {
        printf("no OpenCL device: %s\n", xhal_last_error());
        xhal_shutdown();
        return 77;
    }
    if (xhal_device_info(device, &info) != XHAL_OK) return 1;
    printf("running on %s (%s, %s)\n", info.spec, info.name, info.driver);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),    cmocka_unit_test(test_copies_and_fill),
        cmocka_unit_test(test_pinned),  cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_events),  cmocka_unit_test(test_wait_across_streams),
        cmocka_unit_test(test_threads), cmocka_unit_test(test_unsupported),
    };
    const struct CMUnitTest build_error[] = {cmocka_unit_test(test_build_error)};
    if (argc > 1 && strcmp(argv[1], "build_error") == 0)
        return cmocka_run_group_tests_name("opencl_build_error", build_error, setup, teardown);
    return cmocka_run_group_tests_name("opencl", tests, setup, teardown);
}
