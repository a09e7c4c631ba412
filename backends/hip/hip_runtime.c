/*
 * The HIP runtime, loaded at run time (backends/common/xc_dlib.h). The plugin has no link
 * dependency on libamdhip64, so it loads everywhere; init then says precisely what is missing.
 * Also the backend's options (read once at init through the host, never with getenv) and the
 * error helpers every file uses.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hip_internal.h"
#include "xc_dlib.h"

/* The kernels XHAL_HIP_GEMM and XHAL_HIP_ATTENTION may force (hip_plan.c). */
static const char *const gemm_kinds[] = {"auto", "simt", "mfma", "gemv", NULL};
static const char *const attention_kinds[] = {"auto", "simple", "prefill", "decode", NULL};

/* The text option `name` into out ("" when unset). */
static void text_option(const xhal_host_api_t *host, const char *name, char *out, size_t size) {
    const char *value = xhal_host_option(host, name);
    snprintf(out, size, "%s", value ? value : "");
}

void hip_options_read(const xhal_host_api_t *host, hip_options_t *o) {
    memset(o, 0, sizeof(*o));
    text_option(host, "XHAL_HIP_RUNTIME", o->runtime, sizeof o->runtime);
    text_option(host, "XHAL_HIP_RTC", o->rtc, sizeof o->rtc);
    o->jit = (int)xc_option_int(host, "XHAL_HIP_JIT", 0, 1, 0);
    xc_forced_load(host, "HIP", gemm_kinds, attention_kinds, &o->forced);
    /* XHAL_HIP_TUNING and XHAL_HIP_CACHE are read by xc_tuning_open and xc_cache_open. */
}

static const xc_symbol_t required[] = {
#define HIP_RUNTIME_SYMBOL(name, ret, params) {#name, offsetof(hip_runtime_t, name)},
    HIP_RUNTIME_FUNCTIONS(HIP_RUNTIME_SYMBOL)
#undef HIP_RUNTIME_SYMBOL
};

typedef struct {
    const char *symbol;
    size_t offset;
} optional_symbol_t;

#define HIP_RUNTIME_OPTIONAL_SYMBOL(name, ret, params) {#name, offsetof(hip_runtime_t, name)},
static const optional_symbol_t optional[] = {HIP_RUNTIME_OPTIONAL(HIP_RUNTIME_OPTIONAL_SYMBOL)};
#undef HIP_RUNTIME_OPTIONAL_SYMBOL

xhal_status_t hip_runtime_load(hip_runtime_t *rt, const hip_options_t *options,
                               const xhal_host_api_t *host) {
    memset(rt, 0, sizeof(*rt));
    /* ROCm 6 ships libamdhip64.so.6, ROCm 5 libamdhip64.so.5; the API used here is in both. */
    const char *names[2] = {"libamdhip64.so.6", "libamdhip64.so.5"};
    size_t count = 2;
    if (options->runtime[0]) {
        names[0] = options->runtime;
        count = 1;
    }
    const xc_dlib_spec_t spec = {
        .what = "the HIP runtime",
        .names = names,
        .name_count = count,
        .symbols = required,
        .symbol_count = sizeof required / sizeof required[0],
        .install_hint = "no ROCm HIP runtime is installed (install ROCm, or Debian's "
                        "libamdhip64-5)",
        .old_hint = "not a HIP runtime this plugin knows (ROCm 5.2 or newer)",
        .keep_loaded = 1, /* its constructors leak on every reload */
    };
    xhal_status_t status = xc_dlib_open(host, &spec, rt, &rt->library);
    if (status != XHAL_OK) return status;
    /* Which file loaded: the first name dlopen now finds already loaded. */
    for (size_t i = 0; i < count; i++) {
        void *again = dlopen(names[i], RTLD_NOW | RTLD_NOLOAD);
        if (!again) continue;
        int same = again == rt->library;
        dlclose(again);
        if (same) {
            snprintf(rt->file, sizeof rt->file, "%.255s", names[i]);
            break;
        }
    }
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
        /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
        void *symbol = dlsym(rt->library, optional[i].symbol);
        memcpy((char *)rt + optional[i].offset, &symbol, sizeof symbol);
    }
    if (!rt->hipRuntimeGetVersion || rt->hipRuntimeGetVersion(&rt->version) != HIP_SUCCESS)
        rt->version = 0;
    return XHAL_OK;
}

void hip_runtime_unload(hip_runtime_t *rt) {
    if (rt->library) dlclose(rt->library);
    memset(rt, 0, sizeof(*rt));
}

const char *hip_error_text(const hip_runtime_t *rt, hip_error_t error) {
    /* One buffer per thread: the text is used at once in a message. */
    static _Thread_local char text[96];
    const char *name = rt->hipGetErrorName ? rt->hipGetErrorName(error) : NULL;
    snprintf(text, sizeof text, "%s (%d)", name && *name ? name : "hipError", (int)error);
    return text;
}

xhal_status_t hip_fail(const xhal_be_device_t *device, hip_error_t error, const char *call) {
    xhal_status_t status =
        error == HIP_ERROR_OUT_OF_MEMORY ? XHAL_OUT_OF_MEMORY : XHAL_DEVICE_ERROR;
    return device->host->set_error(status, "hip: %s failed: %s", call,
                                   hip_error_text(device->rt, error));
}

xhal_status_t hip_enter(const xhal_be_device_t *device) {
    hip_error_t e = device->rt->hipSetDevice(device->index);
    return e == HIP_SUCCESS ? XHAL_OK : hip_fail(device, e, "hipSetDevice");
}
