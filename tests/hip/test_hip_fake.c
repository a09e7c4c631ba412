/*
 * The HIP plugin on the runtime stand-in (tests/hip/fake_libamdhip.c): enumeration and device
 * information in both layouts of hipDeviceProp_t, device and pinned memory, copies and fills
 * (which the stand-in runs on host memory), streams and events, runtime errors named with the
 * call and the HIP error, and running out of memory. Kernels: test_hip_kernels.c.
 */
#include "hip_fake_util.h"

#include <stdlib.h>
#include <string.h>

static xhal_device_info_t info_of(const char *spec) {
    xhal_device_t *device = xt_open(spec);
    xhal_device_info_t info = {.struct_size = sizeof info};
    XT_OK(xhal_device_info(device, &info));
    return info;
}

static void test_devices(void **state) {
    (void)state;
    hft_start((const char *const[]){"FAKE_HIP_DEVICES=2",
                                    "FAKE_HIP_ARCH=gfx90a:sramecc+:xnack-,gfx1030", NULL});
    xhal_device_info_t a = info_of("hip:0"), b = info_of("hip:1");
    assert_int_equal(a.type, XHAL_DEVICE_TYPE_GPU);
    assert_string_equal(a.backend, "hip");
    assert_string_equal(a.vendor, "AMD");
    assert_string_equal(a.name, "AMD Instinct MI210");
    assert_string_equal(a.architecture, "gfx90a:sramecc+:xnack-");
    assert_string_equal(b.architecture, "gfx1030");
    assert_int_equal(a.compute_units, 104);
    assert_int_equal(b.compute_units, 96);
    assert_true(a.clock_ghz > 1.69 && a.clock_ghz < 1.71);
    assert_int_equal(a.memory_bytes, 64u << 20);
    if (!strstr(a.driver, "HIP runtime 6.0.32830"))
        fail_msg("driver \"%s\" does not name the runtime's version", a.driver);
    /* The datasheet figures of hal/data/devices.ini for an MI210. */
    if (!strstr(a.peak_source, "MI210") || a.peak_flops[XHAL_DTYPE_BF16] < 1.8e14)
        fail_msg("MI210 peaks not filled: %g bf16, source \"%s\"", a.peak_flops[XHAL_DTYPE_BF16],
                 a.peak_source);
}

/* ROCm 5's hipGetDeviceProperties has another layout: the arch is still found. */
static void test_rocm5_layout(void **state) {
    (void)state;
    hft_start((const char *const[]){"XHAL_HIP_RUNTIME=" XT_FAKE_HIP_DIR "/libfakehip5.so",
                                    "FAKE_HIP_ARCH=gfx908:sramecc+:xnack-", NULL});
    xhal_device_info_t a = info_of("hip:0");
    assert_string_equal(a.architecture, "gfx908:sramecc+:xnack-");
    if (!strstr(a.driver, "HIP runtime 5.2.21153"))
        fail_msg("driver \"%s\" does not name the runtime's version", a.driver);
}

/* A layout this plugin does not know: the arch is searched for, not read as garbage. */
static void test_moved_layout(void **state) {
    (void)state;
    hft_start((const char *const[]){"XHAL_HIP_RUNTIME=" XT_FAKE_HIP_DIR "/libfakehip-moved.so",
                                    "FAKE_HIP_ARCH=gfx942:sramecc+:xnack-", NULL});
    xhal_device_info_t a = info_of("hip:0");
    assert_string_equal(a.architecture, "gfx942:sramecc+:xnack-");
}

static void test_memory(void **state) {
    (void)state;
    hft_start(NULL);
    xhal_device_t *device = xt_open("hip");
    xhal_stream_t *stream = NULL;
    XT_OK(xhal_stream_create(device, &stream));
    enum { N = 4096 };
    unsigned char in[N], out[N];
    for (int i = 0; i < N; i++)
        in[i] = (unsigned char)(i * 7 + 3);

    xhal_buffer_t *a = NULL, *b = NULL, *pinned = NULL;
    XT_OK(xhal_buffer_alloc(device, N, XHAL_MEMORY_DEVICE, &a));
    XT_OK(xhal_buffer_alloc(device, 2 * N, XHAL_MEMORY_DEVICE, &b));
    void *host = NULL;
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_buffer_host_pointer(a, &host), "host");
    pinned = hft_pinned(device, N, 0, &host);

    /* host -> a -> b (at an offset) -> host, and pinned memory written by the host. */
    XT_OK(xhal_copy_h2d(stream, a, 0, in, N));
    XT_OK(xhal_copy_d2d(stream, b, 100, a, 0, N));
    XT_OK(xhal_copy_d2h(stream, out, b, 100, N));
    XT_OK(xhal_stream_synchronize(stream));
    assert_memory_equal(in, out, N);
    memcpy(host, in, N);
    XT_OK(xhal_copy_d2d(stream, a, 0, pinned, 0, N));
    memset(out, 0, N);
    XT_OK(xhal_copy_d2h(stream, out, a, 0, N));
    XT_OK(xhal_stream_synchronize(stream));
    assert_memory_equal(in, out, N);

    /* Fills of 1, 2 and 4 bytes at offsets. */
    const uint32_t word = 0xdeadbeefu;
    const uint16_t half = 0x3c00u;
    const uint8_t byte = 0x5a;
    XT_OK(xhal_fill(stream, a, 8, 16, &word, 4));
    XT_OK(xhal_fill(stream, a, 24, 8, &half, 2));
    XT_OK(xhal_fill(stream, a, 32, 3, &byte, 1));
    XT_OK(xhal_copy_d2h(stream, out, a, 0, 64));
    XT_OK(xhal_stream_synchronize(stream));
    for (int i = 0; i < 4; i++)
        assert_memory_equal(out + 8 + 4 * i, &word, 4);
    for (int i = 0; i < 4; i++)
        assert_memory_equal(out + 24 + 2 * i, &half, 2);
    assert_true(out[32] == byte && out[34] == byte && out[35] == in[35] && out[7] == in[7]);

    xhal_buffer_free(pinned);
    xhal_buffer_free(b);
    xhal_buffer_free(a);
    xhal_stream_destroy(stream);
}

static void test_out_of_memory(void **state) {
    (void)state;
    hft_start((const char *const[]){"FAKE_HIP_MEMORY=1048576", NULL});
    xhal_device_t *device = xt_open("hip");
    xhal_buffer_t *buffer = NULL;
    XT_EXPECT_ERR(XHAL_OUT_OF_MEMORY,
                  xhal_buffer_alloc(device, 2u << 20, XHAL_MEMORY_DEVICE, &buffer), "hipMalloc",
                  "hipErrorOutOfMemory");
    XT_EXPECT_ERR(XHAL_OUT_OF_MEMORY,
                  xhal_buffer_alloc(device, 2u << 20, XHAL_MEMORY_HOST_PINNED, &buffer),
                  "hipHostMalloc", "hipErrorOutOfMemory");
    /* What fits still works. */
    XT_OK(xhal_buffer_alloc(device, 1u << 19, XHAL_MEMORY_DEVICE, &buffer));
    xhal_buffer_free(buffer);
}

static void test_runtime_errors(void **state) {
    (void)state;
    unsigned char data[256] = {1};
    xhal_buffer_t *buffer = NULL;
    xhal_stream_t *stream = NULL;

    hft_start((const char *const[]){"FAKE_HIP_FAIL=hipMemcpyAsync:700", NULL});
    xhal_device_t *device = xt_open("hip");
    XT_OK(xhal_stream_create(device, &stream));
    XT_OK(xhal_buffer_alloc(device, sizeof data, XHAL_MEMORY_DEVICE, &buffer));
    XT_EXPECT_ERR(XHAL_DEVICE_ERROR, xhal_copy_h2d(stream, buffer, 0, data, sizeof data),
                  "hipMemcpyAsync", "hipErrorIllegalAddress");
    xhal_buffer_free(buffer);
    xhal_stream_destroy(stream);

    /* A fault of queued work surfaces at the synchronize. */
    hft_start((const char *const[]){"FAKE_HIP_FAIL=hipStreamSynchronize:719", NULL});
    device = xt_open("hip");
    XT_OK(xhal_stream_create(device, &stream));
    XT_EXPECT_ERR(XHAL_DEVICE_ERROR, xhal_stream_synchronize(stream), "hipStreamSynchronize",
                  "hipErrorLaunchFailure");
    xhal_stream_destroy(stream);

    hft_start((const char *const[]){"FAKE_HIP_FAIL=hipStreamCreateWithFlags:999", NULL});
    device = xt_open("hip");
    XT_EXPECT_ERR(XHAL_DEVICE_ERROR, xhal_stream_create(device, &stream),
                  "hipStreamCreateWithFlags", "hipErrorUnknown");
}

static void test_streams_and_events(void **state) {
    (void)state;
    hft_start(NULL);
    xhal_device_t *device = xt_open("hip");
    xhal_stream_t *s1 = NULL, *s2 = NULL;
    xhal_event_t *start = NULL, *stop = NULL;
    XT_OK(xhal_stream_create(device, &s1));
    XT_OK(xhal_stream_create(device, &s2));
    XT_OK(xhal_event_create(device, &start));
    XT_OK(xhal_event_create(device, &stop));
    XT_OK(xhal_event_record(start, s1));
    XT_OK(xhal_stream_wait_event(s2, start));
    XT_OK(xhal_event_record(stop, s2));
    XT_OK(xhal_event_synchronize(stop));
    double ms = -1.0;
    XT_OK(xhal_event_elapsed_ms(start, stop, &ms));
    assert_true(ms >= 0.0 && ms < 1000.0);
    XT_OK(xhal_stream_synchronize(s1));
    XT_OK(xhal_stream_synchronize(s2));
    xhal_event_destroy(stop);
    xhal_event_destroy(start);
    xhal_stream_destroy(s2);
    xhal_stream_destroy(s1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_devices, hft_teardown),
        cmocka_unit_test_teardown(test_rocm5_layout, hft_teardown),
        cmocka_unit_test_teardown(test_moved_layout, hft_teardown),
        cmocka_unit_test_teardown(test_memory, hft_teardown),
        cmocka_unit_test_teardown(test_out_of_memory, hft_teardown),
        cmocka_unit_test_teardown(test_runtime_errors, hft_teardown),
        cmocka_unit_test_teardown(test_streams_and_events, hft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
