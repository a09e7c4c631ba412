/*
 * Invalid calls to the library, device, buffer, stream, event and copy entry points: each must
 * return the documented status and a message "<function>: ..." naming the argument (and its
 * value where there is one). GEMM and attention descriptors are in test_validation_ops.c;
 * handles from another device in test_plugins.c.
 */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static xhal_device_t *cpu;
static xhal_stream_t *s;
static xhal_buffer_t *buf;  /* 4096 bytes */
static xhal_buffer_t *buf2; /* 4096 bytes */
static unsigned char host[8192];

static int setup(void **state) {
    (void)state;
    if (xhal_device_open("cpu", &cpu) != XHAL_OK || xhal_stream_create(cpu, &s) != XHAL_OK ||
        xhal_buffer_alloc(cpu, 4096, XHAL_MEMORY_DEVICE, &buf) != XHAL_OK ||
        xhal_buffer_alloc(cpu, 4096, XHAL_MEMORY_DEVICE, &buf2) != XHAL_OK)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    xhal_buffer_free(buf);
    xhal_buffer_free(buf2);
    xhal_stream_destroy(s);
    xhal_shutdown();
    printf("[ INFO     ] %d invalid calls checked\n", xt_invalid_calls_checked);
    return 0;
}

static void test_library_and_devices(void **state) {
    (void)state;
    size_t count = 0;
    XT_OK(xhal_device_count(&count));
    char idx[32];
    snprintf(idx, sizeof idx, "%zu", count);
    xhal_device_t *d = NULL;
    xhal_device_info_t info = {.struct_size = sizeof info};
    xhal_backend_info_t bi;

    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_count(NULL), "out_count");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_get(0, NULL), "out_device");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_device_get(count, &d), "index", idx);
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_open("cpu", NULL), "out_device");
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("nosuchbackend", &d), "nosuchbackend");
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("cpu:99", &d), "cpu:99");
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("cpu:nomatch", &d), "cpu:nomatch");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_open(":", &d), "spec");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_open("cpu:", &d), "spec");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_open(":0", &d), "spec");
    assert_null(d);
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_info(NULL, &info), "device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_info(cpu, NULL), "out_info");
    xhal_device_info_t unsized = {.struct_size = 0};
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_info(cpu, &unsized), "struct_size", "(0)");
    unsized.struct_size = sizeof unsized + 8; /* a newer caller's struct */
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_info(cpu, &unsized), "struct_size");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_backend_count(NULL), "out_count");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_backend_info(0, NULL), "out_info");
    XT_OK(xhal_backend_count(&count));
    snprintf(idx, sizeof idx, "%zu", count);
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_backend_info(count, &bi), "index", idx);
}

static void test_buffers(void **state) {
    (void)state;
    xhal_buffer_t *b = NULL;
    uint64_t size = 0;
    xhal_memory_kind_t kind;
    void *p = NULL;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_buffer_alloc(NULL, 16, XHAL_MEMORY_DEVICE, &b),
                  "device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_buffer_alloc(cpu, 0, XHAL_MEMORY_DEVICE, &b), "size",
                  "0");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_buffer_alloc(cpu, 16, (xhal_memory_kind_t)7, &b),
                  "kind", "7");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_buffer_alloc(cpu, 16, XHAL_MEMORY_DEVICE, NULL),
                  "out_buffer");
    assert_null(b);
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_buffer_size(NULL, &size), "buffer");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_buffer_size(buf, NULL), "out_size");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_buffer_kind(NULL, &kind), "buffer");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_buffer_kind(buf, NULL), "out_kind");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_buffer_host_pointer(NULL, &p), "buffer");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_buffer_host_pointer(buf, NULL), "out_ptr");
}

static void test_streams_and_events(void **state) {
    (void)state;
    xhal_stream_t *st = NULL;
    xhal_event_t *e = NULL, *never = NULL, *rec = NULL;
    double ms = 0;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_stream_create(NULL, &st), "device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_stream_create(cpu, NULL), "out_stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_stream_synchronize(NULL), "stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_create(NULL, &e), "device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_create(cpu, NULL), "out_event");
    assert_null(st);
    assert_null(e);

    XT_OK(xhal_event_create(cpu, &never));
    XT_OK(xhal_event_create(cpu, &rec));
    XT_OK(xhal_event_record(rec, s));
    XT_OK(xhal_event_synchronize(rec));
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_record(NULL, s), "event");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_record(rec, NULL), "stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_stream_wait_event(NULL, rec), "stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_stream_wait_event(s, NULL), "event");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_synchronize(NULL), "event");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_elapsed_ms(never, rec, &ms), "start");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_elapsed_ms(rec, never, &ms), "end");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_elapsed_ms(NULL, rec, &ms), "start");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_elapsed_ms(rec, NULL, &ms), "end");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_elapsed_ms(rec, rec, NULL), "out_ms");
    xhal_event_destroy(never);
    xhal_event_destroy(rec);
}

static void test_copies(void **state) {
    (void)state;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_h2d(NULL, buf, 0, host, 16), "stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_h2d(s, NULL, 0, host, 16), "dst");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_h2d(s, buf, 0, NULL, 16), "src");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_copy_h2d(s, buf, 4090, host, 16), "dst_offset", "4090",
                  "16", "4096");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_copy_h2d(s, buf, 4096, host, 1), "dst_offset", "4096");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_copy_h2d(s, buf, UINT64_MAX - 8, host, 16), "dst_offset");

    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2h(NULL, host, buf, 0, 16), "stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2h(s, NULL, buf, 0, 16), "dst");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2h(s, host, NULL, 0, 16), "src");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_copy_d2h(s, host, buf, 4095, 2), "src_offset", "4095",
                  "2");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_copy_d2h(s, host, buf, 16, UINT64_MAX - 8), "src_offset");

    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2d(NULL, buf2, 0, buf, 0, 16), "stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2d(s, NULL, 0, buf, 0, 16), "dst");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2d(s, buf2, 0, NULL, 0, 16), "src");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_copy_d2d(s, buf2, 4000, buf, 0, 200), "dst_offset",
                  "4000", "200");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_copy_d2d(s, buf2, 0, buf, 4000, 200), "src_offset",
                  "4000", "200");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_copy_d2d(s, buf2, UINT64_MAX, buf, 0, 1), "dst_offset");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2d(s, buf, 0, buf, 8, 16), "overlap*");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2d(s, buf, 100, buf, 90, 11), "overlap*");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2d(s, buf, 64, buf, 64, 1), "overlap*");
    XT_OK(xhal_stream_synchronize(s));
}

static void test_fill(void **state) {
    (void)state;
    uint32_t pat = 0x01020304u;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_fill(NULL, buf, 0, 16, &pat, 4), "stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_fill(s, NULL, 0, 16, &pat, 4), "dst");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_fill(s, buf, 0, 16, NULL, 4), "pattern");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_fill(s, buf, 0, 16, &pat, 3), "pattern_size", "3");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_fill(s, buf, 0, 16, &pat, 8), "pattern_size", "8");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_fill(s, buf, 0, 16, &pat, 0), "pattern_size", "0");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_fill(s, buf, 2, 16, &pat, 4), "offset", "2");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_fill(s, buf, 0, 6, &pat, 4), "size", "6");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_fill(s, buf, 1, 4, &pat, 2), "offset", "1");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_fill(s, buf, 4092, 8, &pat, 4), "offset", "4092");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_fill(s, buf, UINT64_MAX - 3, 8, &pat, 4), "offset");
    XT_OK(xhal_stream_synchronize(s));
}

static void test_range_messages_name_size(void **state) {
    (void)state;
    /* A view past the end names both the offset and the size, each with its value. */
    uint32_t pat = 0;
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_copy_h2d(s, buf, 0, host, 4097), "dst_offset", "size",
                  "4097");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_copy_d2h(s, host, buf, 8, 4090), "src_offset", "size",
                  "4090");
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_fill(s, buf, 0, 4100, &pat, 4), "offset", "size", "4100");
}

static void test_failed_calls_change_nothing(void **state) {
    (void)state;
    /* Rejected copies and fills must not have touched the buffer. */
    unsigned char pattern = 0x3c, out[4096];
    XT_OK(xhal_fill(s, buf, 0, 4096, &pattern, 1));
    XT_OK(xhal_stream_synchronize(s));
    memset(host, 0x77, sizeof host);
    uint32_t pat = 0xffffffffu;
    assert_int_not_equal(xhal_copy_h2d(s, buf, 4090, host, 16), XHAL_OK);
    assert_int_not_equal(xhal_fill(s, buf, 4092, 8, &pat, 4), XHAL_OK);
    assert_int_not_equal(xhal_copy_d2d(s, buf, 0, buf, 8, 16), XHAL_OK);
    XT_OK(xhal_copy_d2h(s, out, buf, 0, 4096));
    XT_OK(xhal_stream_synchronize(s));
    for (int i = 0; i < 4096; i++)
        if (out[i] != 0x3c) fail_msg("byte %d = 0x%02x after rejected calls", i, out[i]);
}

int main(void) {
    unsetenv("XHAL_DEVICE");
    unsetenv("XHAL_BACKENDS");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_and_devices),
        cmocka_unit_test(test_buffers),
        cmocka_unit_test(test_streams_and_events),
        cmocka_unit_test(test_copies),
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_range_messages_name_size),
        cmocka_unit_test(test_failed_calls_change_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
