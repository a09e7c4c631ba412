/* Helpers of the HIP plugin tests on the runtime stand-in (see hip_fake_util.h). */
#include "hip_fake_util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef XT_HIP_PLUGIN_DIR
#error "XT_HIP_PLUGIN_DIR must name the folder of libxhal-hip.so"
#endif
#ifndef XT_FAKE_HIP_DIR
#error "XT_FAKE_HIP_DIR must name the folder of the HIP runtime stand-ins"
#endif

static const char *const variables[] = {
    "XHAL_HIP_RUNTIME", "XHAL_HIP_RTC",     "XHAL_HIP_TUNING",    "XHAL_HIP_CACHE",
    "XHAL_HIP_JIT",     "XHAL_HIP_GEMM",    "XHAL_HIP_ATTENTION", "XHAL_HIP_STRICT",
    "FAKE_HIP_INIT",    "FAKE_HIP_DEVICES", "FAKE_HIP_ARCH",      "FAKE_HIP_NAME",
    "FAKE_HIP_MEMORY",  "FAKE_HIP_FAIL",    "XHAL_DEVICE",        NULL};

void hft_start(const char *const *settings) {
    xhal_shutdown();
    for (int i = 0; variables[i]; i++)
        unsetenv(variables[i]);
    setenv("XHAL_BACKEND_PATH", XT_HIP_PLUGIN_DIR, 1);
    setenv("XHAL_BACKENDS", "hip,cpu", 1);
    setenv("XHAL_HIP_RUNTIME", XT_FAKE_HIP_DIR "/libfakehip.so", 1);
    setenv("XHAL_HIP_CACHE", "0", 1);
    for (int i = 0; settings && settings[i]; i++) {
        const char *eq = strchr(settings[i], '=');
        assert_non_null(eq);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq - settings[i]), settings[i]);
        setenv(name, eq + 1, 1);
    }
    XT_OK(xhal_init());
}

int hft_teardown(void **state) {
    (void)state;
    xhal_shutdown();
    for (int i = 0; variables[i]; i++)
        unsetenv(variables[i]);
    return 0;
}

/* A symbol of the stand-in the plugin loaded (RTLD_NOLOAD: the same instance). */
static void *fake_symbol(const char *name) {
    const char *file = getenv("XHAL_HIP_RUNTIME");
    void *fake = file ? dlopen(file, RTLD_NOW | RTLD_NOLOAD) : NULL;
    if (!fake) {
        fail_msg("the stand-in %s is not loaded", file ? file : "(XHAL_HIP_RUNTIME unset)");
        return NULL;
    }
    void *symbol = dlsym(fake, name);
    dlclose(fake); /* the plugin keeps it loaded */
    if (!symbol) fail_msg("the stand-in has no %s", name);
    return symbol;
}

const fake_hip_launch_t *hft_launches(size_t *count) {
    fake_hip_launches_fn f;
    void *symbol = fake_symbol("fake_hip_launches");
    memcpy(&f, &symbol, sizeof f);
    return f(count);
}

void hft_clear_launches(void) {
    fake_hip_clear_launches_fn f;
    void *symbol = fake_symbol("fake_hip_clear_launches");
    memcpy(&f, &symbol, sizeof f);
    f();
}

const char *hft_module_arch(int *loads) {
    fake_hip_last_module_arch_fn f;
    void *symbol = fake_symbol("fake_hip_last_module_arch");
    memcpy(&f, &symbol, sizeof f);
    return f(loads);
}

xhal_buffer_t *hft_pinned(xhal_device_t *device, uint64_t size, unsigned char byte, void **host) {
    xhal_buffer_t *buffer = NULL;
    XT_OK(xhal_buffer_alloc(device, size, XHAL_MEMORY_HOST_PINNED, &buffer));
    XT_OK(xhal_buffer_host_pointer(buffer, host));
    memset(*host, byte, (size_t)size);
    return buffer;
}
