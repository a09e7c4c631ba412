/*
 * The Level Zero backend's memory, copies, fills and events, over the test stand-in
 * (tests/levelzero/standin.sh runs this): what the GEMM and attention tests do not reach
 * (copies at offsets, fills of every pattern size, pinned host memory, waits across streams,
 * re-recorded events, timing). With the argument `nomodule` (and a tuning file whose options no
 * SPIR-V module was built for) it checks that an op is UNSUPPORTED and names the options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static xhal_device_t *device;

static int setup(void **state) {
    (void)state;
    return xhal_device_open("levelzero:0", &device) == XHAL_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    xhal_shutdown();
    return 0;
}

/* Random bytes; copies at odd offsets; fills of 1, 2 and 4 bytes at odd offsets. */
static void test_copies_and_fills(void **state) {
    (void)state;
    enum { SIZE = 100003 };
    xt_rng_t rng;
    xt_rng_seed(&rng, 1717);
    unsigned char *src = malloc(SIZE), *want = malloc(SIZE), *got = malloc(SIZE);
    assert_non_null(src);
    assert_non_null(want);
    assert_non_null(got);
    for (size_t i = 0; i < SIZE; i++)
        src[i] = (unsigned char)xt_rng_next(&rng);
    xhal_stream_t *stream = NULL;
    xhal_buffer_t *a = NULL, *b = NULL;
    assert_int_equal(xhal_stream_create(device, &stream), XHAL_OK);
    assert_int_equal(xhal_buffer_alloc(device, SIZE, XHAL_MEMORY_DEVICE, &a), XHAL_OK);
    assert_int_equal(xhal_buffer_alloc(device, SIZE, XHAL_MEMORY_DEVICE, &b), XHAL_OK);
    /* a = src; b = poison; then b[77..] = a[13..] for 60000 bytes, and three fills. */
    memset(want, 0xA5, SIZE);
    assert_int_equal(xhal_copy_h2d(stream, a, 0, src, SIZE), XHAL_OK);
    assert_int_equal(xhal_copy_h2d(stream, b, 0, want, SIZE), XHAL_OK);
    assert_int_equal(xhal_copy_d2d(stream, b, 77, a, 13, 60000), XHAL_OK);
    memcpy(want + 77, src + 13, 60000);
    const uint8_t p1 = 0x3C;
    const uint16_t p2 = 0xBEEF;
    const uint32_t p4 = 0x01234567u;
    assert_int_equal(xhal_fill(stream, b, 60101, 999, &p1, 1), XHAL_OK);
    memset(want + 60101, p1, 999);
    assert_int_equal(xhal_fill(stream, b, 70002, 2 * 1001, &p2, 2), XHAL_OK);
    for (int i = 0; i < 1001; i++)
        memcpy(want + 70002 + 2 * i, &p2, 2);
    assert_int_equal(xhal_fill(stream, b, 80004, 4 * 2001, &p4, 4), XHAL_OK);
    for (int i = 0; i < 2001; i++)
        memcpy(want + 80004 + 4 * i, &p4, 4);
    /* Read back in two parts, the second from an offset. */
    memset(got, 0x5A, SIZE);
    assert_int_equal(xhal_copy_d2h(stream, got, b, 0, 50000), XHAL_OK);
    assert_int_equal(xhal_copy_d2h(stream, got + 50000, b, 50000, SIZE - 50000), XHAL_OK);
    assert_int_equal(xhal_stream_synchronize(stream), XHAL_OK);
    assert_memory_equal(got, want, SIZE);
    xhal_buffer_free(a);
    xhal_buffer_free(b);
    xhal_stream_destroy(stream);
    free(src);
    free(want);
    free(got);
}

/* Pinned memory is host memory the device reaches; device memory has no host pointer. */
static void test_pinned(void **state) {
    (void)state;
    xhal_stream_t *stream = NULL;
    xhal_buffer_t *pinned = NULL, *dev = NULL;
    void *host = NULL;
    assert_int_equal(xhal_stream_create(device, &stream), XHAL_OK);
    assert_int_equal(xhal_buffer_alloc(device, 4096, XHAL_MEMORY_HOST_PINNED, &pinned), XHAL_OK);
    assert_int_equal(xhal_buffer_alloc(device, 4096, XHAL_MEMORY_DEVICE, &dev), XHAL_OK);
    assert_int_equal(xhal_buffer_host_pointer(pinned, &host), XHAL_OK);
    void *none = NULL;
    assert_int_equal(xhal_buffer_host_pointer(dev, &none), XHAL_UNSUPPORTED);
    assert_non_null(strstr(xhal_last_error(), "levelzero"));
    const uint32_t pattern = 0xCAFEF00Du;
    assert_int_equal(xhal_fill(stream, dev, 0, 4096, &pattern, 4), XHAL_OK);
    assert_int_equal(xhal_copy_d2d(stream, pinned, 0, dev, 0, 4096), XHAL_OK);
    assert_int_equal(xhal_stream_synchronize(stream), XHAL_OK);
    for (int i = 0; i < 1024; i++)
        assert_int_equal(((uint32_t *)host)[i], pattern);
    xhal_buffer_free(pinned);
    xhal_buffer_free(dev);
    xhal_stream_destroy(stream);
}

/* Stream B waits for an event stream A records after a fill, then reads; events re-recorded;
 * elapsed time is measured and ordered. */
static void test_events(void **state) {
    (void)state;
    enum { N = 1 << 20 };
    xhal_stream_t *a = NULL, *b = NULL;
    xhal_buffer_t *buf = NULL;
    xhal_event_t *start = NULL, *done = NULL, *never = NULL;
    assert_int_equal(xhal_stream_create(device, &a), XHAL_OK);
    assert_int_equal(xhal_stream_create(device, &b), XHAL_OK);
    assert_int_equal(xhal_buffer_alloc(device, N, XHAL_MEMORY_DEVICE, &buf), XHAL_OK);
    assert_int_equal(xhal_event_create(device, &start), XHAL_OK);
    assert_int_equal(xhal_event_create(device, &done), XHAL_OK);
    assert_int_equal(xhal_event_create(device, &never), XHAL_OK);
    assert_int_equal(xhal_event_synchronize(never), XHAL_OK); /* never recorded: complete */
    assert_int_equal(xhal_stream_wait_event(b, never), XHAL_OK);
    unsigned char *got = malloc(N);
    assert_non_null(got);
    for (int round = 0; round < 3; round++) {
        const uint8_t value = (uint8_t)(0x11 * (round + 1));
        assert_int_equal(xhal_event_record(start, a), XHAL_OK);
        for (int i = 0; i < 8; i++)
            assert_int_equal(xhal_fill(a, buf, 0, N, &value, 1), XHAL_OK);
        assert_int_equal(xhal_event_record(done, a), XHAL_OK);
        assert_int_equal(xhal_stream_wait_event(b, done), XHAL_OK);
        memset(got, 0, N);
        assert_int_equal(xhal_copy_d2h(b, got, buf, 0, N), XHAL_OK);
        assert_int_equal(xhal_stream_synchronize(b), XHAL_OK);
        for (size_t i = 0; i < N; i += 4093)
            assert_int_equal(got[i], value);
        assert_int_equal(got[N - 1], value);
        double ms = -1.0, back = 1.0;
        assert_int_equal(xhal_event_elapsed_ms(start, done, &ms), XHAL_OK);
        assert_int_equal(xhal_event_elapsed_ms(done, start, &back), XHAL_OK);
        print_message("round %d: 8 fills of 1 MiB in %.3f ms\n", round, ms);
        assert_true(ms > 0.0 && ms < 60e3);
        assert_true(back <= 0.0 || back > 1e6); /* end before start: negative or wrapped */
    }
    assert_int_equal(xhal_stream_synchronize(a), XHAL_OK);
    free(got);
    xhal_event_destroy(start);
    xhal_event_destroy(done);
    xhal_event_destroy(never);
    xhal_buffer_free(buf);
    xhal_stream_destroy(a);
    xhal_stream_destroy(b);
}

/* A tuning whose options no module was built for: the op is UNSUPPORTED and says so. */
static void test_no_module(void **state) {
    (void)state;
    enum { M = 8, N = 8, K = 8 };
    xhal_stream_t *stream = NULL;
    xhal_buffer_t *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(xhal_stream_create(device, &stream), XHAL_OK);
    assert_int_equal(xhal_buffer_alloc(device, 4 * M * K, XHAL_MEMORY_DEVICE, &a), XHAL_OK);
    assert_int_equal(xhal_buffer_alloc(device, 4 * K * N, XHAL_MEMORY_DEVICE, &b), XHAL_OK);
    assert_int_equal(xhal_buffer_alloc(device, 4 * M * N, XHAL_MEMORY_DEVICE, &c), XHAL_OK);
    xhal_gemm_desc_t desc;
    xhal_gemm_desc_init(&desc, M, N, K, XHAL_DTYPE_F32);
    desc.a = a;
    desc.b = b;
    desc.c = c;
    xhal_status_t status = xhal_gemm(stream, &desc);
    print_message("%s\n", xhal_last_error());
    assert_int_equal(status, XHAL_UNSUPPORTED);
    assert_non_null(strstr(xhal_last_error(), "no SPIR-V module"));
    assert_non_null(strstr(xhal_last_error(), "-DGEMM_TM=3"));
    xhal_buffer_free(a);
    xhal_buffer_free(b);
    xhal_buffer_free(c);
    xhal_stream_destroy(stream);
}

int main(int argc, char **argv) {
    unsetenv("XHAL_DEVICE");
    if (argc > 1 && strcmp(argv[1], "nomodule") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_module)};
        return cmocka_run_group_tests(tests, setup, teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_and_fills),
        cmocka_unit_test(test_pinned),
        cmocka_unit_test(test_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
