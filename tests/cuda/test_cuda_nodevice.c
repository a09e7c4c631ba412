/*
 * The CUDA plugin on a machine without a usable NVIDIA driver: it loads, reports UNAVAILABLE
 * with a reason that names what is missing, and never stops the CPU backend. The missing
 * driver is the real one where libcuda.so.1 is absent (CI), and fake drivers otherwise
 * (XHAL_CUDA_DRIVER): one whose cuInit fails, one with no device, one too old.
 */
#include "test_util.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#ifndef XT_CUDA_PLUGIN_DIR
#error "XT_CUDA_PLUGIN_DIR must name the folder of libxhal-cuda.so"
#endif
#ifndef XT_FAKE_CUDA_DIR
#error "XT_FAKE_CUDA_DIR must name the folder of the fake drivers"
#endif

/* Starts xhal afresh with the CUDA plugin and the CPU backend, and `driver` as libcuda. */
static void reinit(const char *driver) {
    xhal_shutdown();
    setenv("XHAL_BACKEND_PATH", XT_CUDA_PLUGIN_DIR, 1);
    setenv("XHAL_BACKENDS", "cuda,cpu", 1);
    unsetenv("XHAL_DEVICE");
    if (driver)
        setenv("XHAL_CUDA_DRIVER", driver, 1);
    else
        unsetenv("XHAL_CUDA_DRIVER");
    XT_OK(xhal_init());
}

static int teardown(void **state) {
    (void)state;
    xhal_shutdown();
    unsetenv("XHAL_CUDA_DRIVER");
    return 0;
}

static xhal_backend_info_t cuda_info(void) {
    size_t count = 0;
    xhal_backend_info_t info;
    XT_OK(xhal_backend_count(&count));
    for (size_t i = 0; i < count; i++) {
        XT_OK(xhal_backend_info(i, &info));
        if (strcmp(info.name, "cuda") == 0) return info;
    }
    fail_msg("the cuda backend is not listed by xhal_backend_info");
    return info;
}

/* The plugin was found and loaded, but reports `status` with every needle in its reason. */
static void expect_unavailable(const char *needle1, const char *needle2) {
    xhal_backend_info_t info = cuda_info();
    const char *suffix = "/libxhal-cuda.so";
    size_t pl = strlen(info.path), sl = strlen(suffix);
    if (pl < sl || strcmp(info.path + pl - sl, suffix) != 0)
        fail_msg("cuda plugin path \"%s\" is not a libxhal-cuda.so", info.path);
    if (info.loaded || info.device_count != 0 || info.status != XHAL_UNAVAILABLE)
        fail_msg("cuda: loaded %d, %u devices, status %s (\"%s\"): expected UNAVAILABLE",
                 info.loaded, info.device_count, xhal_status_name(info.status), info.reason);
    if (!strstr(info.reason, needle1) || (needle2 && !strstr(info.reason, needle2)))
        fail_msg("cuda: reason \"%s\" lacks \"%s\"%s%s", info.reason, needle1,
                 needle2 ? " or " : "", needle2 ? needle2 : "");

    /* The CPU backend is untouched, and asking for a CUDA device says why there is none. */
    xhal_device_t *cpu = NULL;
    XT_OK(xhal_device_open("cpu", &cpu));
    xhal_device_t *gpu = NULL;
    assert_int_equal(xhal_device_open("cuda", &gpu), XHAL_UNAVAILABLE);
}

static void test_no_driver(void **state) {
    (void)state;
    void *real = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (real) {
        dlclose(real);
        skip(); /* this machine has an NVIDIA driver: the fake-driver tests cover the paths */
    }
    reinit(NULL);
    expect_unavailable("libcuda.so.1 was not found", "no NVIDIA driver");
}

static void test_driver_file_missing(void **state) {
    (void)state;
    reinit("/nonexistent/libcuda.so.1");
    expect_unavailable("/nonexistent/libcuda.so.1 was not found", NULL);
}

static void test_cuinit_fails(void **state) {
    (void)state;
    reinit(XT_FAKE_CUDA_DIR "/libfakecuda-init_fail.so");
    expect_unavailable("cuInit failed", "CUDA_ERROR_NO_DEVICE");
}

static void test_no_device(void **state) {
    (void)state;
    reinit(XT_FAKE_CUDA_DIR "/libfakecuda-no_device.so");
    expect_unavailable("found no CUDA device", NULL);
}

static void test_old_driver(void **state) {
    (void)state;
    reinit(XT_FAKE_CUDA_DIR "/libfakecuda-old.so");
    expect_unavailable("lacks cuTensorMapEncodeTiled", "older");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_no_driver, teardown),
        cmocka_unit_test_teardown(test_driver_file_missing, teardown),
        cmocka_unit_test_teardown(test_cuinit_fails, teardown),
        cmocka_unit_test_teardown(test_no_device, teardown),
        cmocka_unit_test_teardown(test_old_driver, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
