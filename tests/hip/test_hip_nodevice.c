/*
 * The HIP plugin on a machine without a usable AMD GPU: it loads, reports UNAVAILABLE with a
 * reason that names what is missing, and never stops the CPU backend. The missing GPU is the
 * real one where a ROCm runtime is installed (ROCm 5.2 here: hipInit returns
 * hipErrorInvalidDevice), the missing runtime is real where none is, and the HIP runtime
 * stand-in (XHAL_HIP_RUNTIME) covers the rest: a hipInit that fails, no device, a runtime
 * lacking an entry point.
 */
#include "test_util.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#ifndef XT_HIP_PLUGIN_DIR
#error "XT_HIP_PLUGIN_DIR must name the folder of libxhal-hip.so"
#endif
#ifndef XT_FAKE_HIP_DIR
#error "XT_FAKE_HIP_DIR must name the folder of the HIP runtime stand-ins"
#endif

/* Starts xhal afresh with the HIP plugin and the CPU backend, and `runtime` as libamdhip64. */
static void reinit(const char *runtime) {
    xhal_shutdown();
    setenv("XHAL_BACKEND_PATH", XT_HIP_PLUGIN_DIR, 1);
    setenv("XHAL_BACKENDS", "hip,cpu", 1);
    unsetenv("XHAL_DEVICE");
    if (runtime)
        setenv("XHAL_HIP_RUNTIME", runtime, 1);
    else
        unsetenv("XHAL_HIP_RUNTIME");
    XT_OK(xhal_init());
}

static int teardown(void **state) {
    (void)state;
    xhal_shutdown();
    unsetenv("XHAL_HIP_RUNTIME");
    unsetenv("FAKE_HIP_INIT");
    unsetenv("FAKE_HIP_DEVICES");
    return 0;
}

static xhal_backend_info_t hip_info(void) {
    size_t count = 0;
    xhal_backend_info_t info;
    XT_OK(xhal_backend_count(&count));
    for (size_t i = 0; i < count; i++) {
        XT_OK(xhal_backend_info(i, &info));
        if (strcmp(info.name, "hip") == 0) return info;
    }
    fail_msg("the hip backend is not listed by xhal_backend_info");
    return info;
}

/* The plugin was found and loaded, but reports UNAVAILABLE with every needle in its reason. */
static void expect_unavailable(const char *needle1, const char *needle2) {
    xhal_backend_info_t info = hip_info();
    const char *suffix = "/libxhal-hip.so";
    size_t pl = strlen(info.path), sl = strlen(suffix);
    if (pl < sl || strcmp(info.path + pl - sl, suffix) != 0)
        fail_msg("hip plugin path \"%s\" is not a libxhal-hip.so", info.path);
    if (info.loaded || info.device_count != 0 || info.status != XHAL_UNAVAILABLE)
        fail_msg("hip: loaded %d, %u devices, status %s (\"%s\"): expected UNAVAILABLE",
                 info.loaded, info.device_count, xhal_status_name(info.status), info.reason);
    if (!strstr(info.reason, needle1) || (needle2 && !strstr(info.reason, needle2)))
        fail_msg("hip: reason \"%s\" lacks \"%s\"%s%s", info.reason, needle1, needle2 ? " or " : "",
                 needle2 ? needle2 : "");

    /* The CPU backend is untouched, and asking for a HIP device says why there is none. */
    xhal_device_t *cpu = NULL;
    XT_OK(xhal_device_open("cpu", &cpu));
    xhal_device_t *gpu = NULL;
    assert_int_equal(xhal_device_open("hip", &gpu), XHAL_UNAVAILABLE);
    if (!strstr(xhal_last_error(), needle1))
        fail_msg("xhal_device_open(\"hip\") says \"%s\", without \"%s\"", xhal_last_error(),
                 needle1);
}

/* The system's runtime, if any: on this kind of machine it finds no GPU. */
static void test_system_runtime(void **state) {
    (void)state;
    void *real = dlopen("libamdhip64.so.6", RTLD_NOW | RTLD_LOCAL);
    if (!real) real = dlopen("libamdhip64.so.5", RTLD_NOW | RTLD_LOCAL);
    reinit(NULL);
    if (!real) {
        expect_unavailable("not found", "no ROCm HIP runtime");
        return;
    }
    dlclose(real);
    xhal_backend_info_t info = hip_info();
    if (info.loaded) skip(); /* this machine has an AMD GPU: the GPU check covers it */
    /* ROCm 5.2 without a GPU: hipInit returns hipErrorInvalidDevice (101). */
    expect_unavailable("no usable AMD GPU", "hipInit failed");
}

static void test_runtime_file_missing(void **state) {
    (void)state;
    reinit("/nonexistent/libamdhip64.so.6");
    expect_unavailable("/nonexistent/libamdhip64.so.6 was not found", "no ROCm HIP runtime");
}

static void test_hipinit_fails(void **state) {
    (void)state;
    setenv("FAKE_HIP_INIT", "101", 1);
    reinit(XT_FAKE_HIP_DIR "/libfakehip.so");
    expect_unavailable("hipInit failed: hipErrorInvalidDevice (101)", "no usable AMD GPU");
}

static void test_no_device(void **state) {
    (void)state;
    setenv("FAKE_HIP_DEVICES", "0", 1);
    reinit(XT_FAKE_HIP_DIR "/libfakehip.so");
    expect_unavailable("hipGetDeviceCount failed: hipErrorNoDevice (100)", "no AMD GPU");
}

static void test_runtime_too_old(void **state) {
    (void)state;
    reinit(XT_FAKE_HIP_DIR "/libfakehip-old.so");
    expect_unavailable("lacks hipModuleLaunchKernel", "not a HIP runtime this plugin knows");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_system_runtime, teardown),
        cmocka_unit_test_teardown(test_runtime_file_missing, teardown),
        cmocka_unit_test_teardown(test_hipinit_fails, teardown),
        cmocka_unit_test_teardown(test_no_device, teardown),
        cmocka_unit_test_teardown(test_runtime_too_old, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
