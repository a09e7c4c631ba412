/*
 * The HIP runtime, loaded at run time. The plugin has no link dependency on libamdhip64, so it
 * loads everywhere; init then says precisely what is missing. Also the backend's options (read
 * once at init) and the error helpers every file uses.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hip_internal.h"

/* Copies the environment variable `name` into out (empty when unset). */
static void option(const char *name, char *out, size_t size) {
    const char *value = getenv(name);
    snprintf(out, size, "%s", value ? value : "");
}

void hip_options_read(hip_options_t *o) {
    memset(o, 0, sizeof(*o));
    option("XHAL_HIP_RUNTIME", o->runtime, sizeof o->runtime);
    option("XHAL_HIP_RTC", o->rtc, sizeof o->rtc);
    option("XHAL_HIP_TUNING", o->tuning, sizeof o->tuning);
    /* The code-object cache: XHAL_HIP_CACHE=0 none, =/folder there, else the XDG cache. */
    char setting[512], xdg[480], home[480];
    option("XHAL_HIP_CACHE", setting, sizeof setting);
    option("XDG_CACHE_HOME", xdg, sizeof xdg);
    option("HOME", home, sizeof home);
    if (strcmp(setting, "0") == 0)
        o->cache[0] = '\0';
    else if (setting[0] == '/')
        snprintf(o->cache, sizeof o->cache, "%s", setting);
    else if (xdg[0] == '/')
        snprintf(o->cache, sizeof o->cache, "%s/xhal/hip", xdg);
    else if (home[0])
        snprintf(o->cache, sizeof o->cache, "%s/.cache/xhal/hip", home);
    option("XHAL_HIP_GEMM", o->force_gemm, sizeof o->force_gemm);
    option("XHAL_HIP_ATTENTION", o->force_attention, sizeof o->force_attention);
    char flag[8];
    option("XHAL_HIP_STRICT", flag, sizeof flag);
    o->strict = flag[0] && strcmp(flag, "0") != 0;
    option("XHAL_HIP_JIT", flag, sizeof flag);
    o->jit = flag[0] && strcmp(flag, "0") != 0;
}

typedef struct {
    const char *symbol;
    size_t offset;
} runtime_symbol_t;

#define HIP_RUNTIME_SYMBOL(name, ret, params) {#name, offsetof(hip_runtime_t, name)},
static const runtime_symbol_t required[] = {HIP_RUNTIME_FUNCTIONS(HIP_RUNTIME_SYMBOL)};
static const runtime_symbol_t optional[] = {HIP_RUNTIME_OPTIONAL(HIP_RUNTIME_SYMBOL)};
#undef HIP_RUNTIME_SYMBOL

xhal_status_t hip_runtime_load(hip_runtime_t *rt, const hip_options_t *options,
                               const xhal_host_api_t *host) {
    memset(rt, 0, sizeof(*rt));
    /* ROCm 6 ships libamdhip64.so.6, ROCm 5 libamdhip64.so.5; the API used here is in both. */
    const char *candidates[] = {"libamdhip64.so.6", "libamdhip64.so.5", NULL};
    if (options->runtime[0]) {
        candidates[0] = options->runtime;
        candidates[1] = NULL;
    }
    char why[512] = "";
    for (int i = 0; candidates[i] && !rt->library; i++) {
        dlerror();
        rt->library = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (rt->library) {
            snprintf(rt->file, sizeof rt->file, "%.255s", candidates[i]);
        } else if (i == 0) {
            const char *e = dlerror();
            snprintf(why, sizeof why, "%s", e ? e : "dlopen failed");
        }
    }
    if (!rt->library)
        return host->set_error(XHAL_UNAVAILABLE,
                               "%s not found (no ROCm HIP runtime; install ROCm, or Debian's "
                               "libamdhip64-5): %s",
                               options->runtime[0] ? options->runtime : "libamdhip64.so.6 or .5",
                               why);
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
        void *symbol = dlsym(rt->library, required[i].symbol);
        if (!symbol) {
            xhal_status_t status = host->set_error(XHAL_UNAVAILABLE,
                                                   "%s lacks %s: not a HIP runtime this plugin "
                                                   "knows (ROCm 5.2 or newer)",
                                                   rt->file, required[i].symbol);
            hip_runtime_unload(rt);
            return status;
        }
        memcpy((char *)rt + required[i].offset, &symbol, sizeof symbol);
    }
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
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

xhal_status_t hip_check_forced(const xhal_be_device_t *device, const char *variable,
                               const char *force, int refused, const char *chosen, const char *op) {
    if (!refused || !device->state->options.strict) return XHAL_OK;
    return device->host->set_error(XHAL_UNSUPPORTED,
                                   "hip: %s=%s cannot run this %s (the %s kernel would)", variable,
                                   force, op, chosen);
}
