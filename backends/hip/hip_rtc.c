/*
 * hiprtc: the kernels compiled at run time for a gfx target no built-in code object covers (an
 * MI300X, gfx942, with a plugin built by ROCm 5.2's hipcc, which does not know it).
 *
 * hiprtc aborts the whole process when asked for a target its code-object manager (comgr) does
 * not know (ROCm 5.2's hiprtc, asked for gfx940 or gfx942, dies in comgr). So before the first
 * compile for a target, the list of targets comgr knows is read with comgr's own API
 * (amd_comgr_get_isa_count / amd_comgr_get_isa_name), from the very comgr library hiprtc uses
 * (found among the loaded libraries), and a target not in it is refused with the reason. When
 * the list cannot be read, nothing is compiled.
 *
 * Where hiprtc is: XHAL_HIP_RTC; else the runtime itself (ROCm 5 has hiprtc in libamdhip64);
 * else libhiprtc.so.6 / .5 (ROCm 6 ships it on its own).
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hip_internal.h"
#include "xc_dlib.h"

#define LOG_MAX 2000 /* of xhal_last_error()'s 4096 characters */

static const xc_symbol_t rtc_symbols[] = {
#define HIP_RTC_SYMBOL(name, ret, params) {#name, offsetof(hip_rtc_t, name)},
    HIP_RTC_FUNCTIONS(HIP_RTC_SYMBOL)
#undef HIP_RTC_SYMBOL
};

/* dl_iterate_phdr callback: the path of the loaded libamd_comgr, if any. */
static int find_comgr(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    if (info->dlpi_name && strstr(info->dlpi_name, "libamd_comgr.so")) {
        snprintf(data, 512, "%s", info->dlpi_name);
        return 1;
    }
    return 0;
}

/* Reads the targets comgr knows into rtc->known (known_count -1 when it cannot). */
static void read_known_targets(hip_rtc_t *rtc) {
    char path[512] = "";
    dl_iterate_phdr(find_comgr, path);
    void *comgr = path[0] ? dlopen(path, RTLD_NOW | RTLD_NOLOAD) : NULL;
    /* Not loaded yet (a runtime that loads it lazily): the soname hiprtc would load. */
    const char *sonames[] = {"libamd_comgr.so.3", "libamd_comgr.so.2"};
    for (size_t i = 0; !comgr && i < sizeof sonames / sizeof sonames[0]; i++)
        comgr = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    rtc->known_count = -1;
    if (!comgr) return;
    /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
    int (*count_fn)(size_t *) = NULL;
    int (*name_fn)(size_t, const char **) = NULL;
    void (*version_fn)(size_t *, size_t *) = NULL;
    void *symbol = dlsym(comgr, "amd_comgr_get_isa_count");
    memcpy(&count_fn, &symbol, sizeof symbol);
    symbol = dlsym(comgr, "amd_comgr_get_isa_name");
    memcpy(&name_fn, &symbol, sizeof symbol);
    symbol = dlsym(comgr, "amd_comgr_get_version");
    memcpy(&version_fn, &symbol, sizeof symbol);
    size_t count = 0;
    if (count_fn && name_fn && count_fn(&count) == 0) {
        rtc->known_count = 0;
        for (size_t i = 0; i < count && rtc->known_count < 128; i++) {
            const char *isa = NULL;
            if (name_fn(i, &isa) != 0 || !isa || !strstr(isa, "--")) continue;
            char gfx[24];
            hip_arch_target(strstr(isa, "--") + 2, gfx, sizeof gfx);
            int seen = 0;
            for (int j = 0; j < rtc->known_count; j++)
                seen |= strcmp(rtc->known[j], gfx) == 0;
            if (!seen) snprintf(rtc->known[rtc->known_count++], sizeof rtc->known[0], "%s", gfx);
        }
    }
    if (version_fn) {
        size_t major = 0, minor = 0;
        version_fn(&major, &minor);
        rtc->comgr_major = (int)major;
        rtc->comgr_minor = (int)minor;
    }
    dlclose(comgr); /* hiprtc holds its own reference */
}

/* Loads hiprtc into state->rtc; with the rtc lock held. */
static xhal_status_t load(xhal_be_state_t *state) {
    hip_rtc_t *rtc = &state->rtc;
    if (rtc->loaded) return XHAL_OK;
    const char *candidates[5] = {NULL};
    int n = 0;
    if (state->options.rtc[0]) {
        candidates[n++] = state->options.rtc;
    } else {
        if (dlsym(state->rt.library, "hiprtcCreateProgram")) candidates[n++] = state->rt.file;
        candidates[n++] = "libhiprtc.so.6";
        candidates[n++] = "libhiprtc.so.5";
    }
    /* Never unloaded (RTLD_NODELETE): hiprtc brings comgr and LLVM, whose process-wide option
     * registry does not survive being unloaded and loaded again ("Option registered more than
     * once"), which a process that shuts xhal down and starts it again would do. The first file
     * that loads is pinned so; its table is then resolved by xc_dlib_open (a second reference). */
    void *pin = NULL;
    for (int i = 0; i < n && !pin; i++) {
        pin = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (pin) snprintf(rtc->file, sizeof rtc->file, "%.255s", candidates[i]);
    }
    if (!pin)
        return state->host->set_error(XHAL_UNSUPPORTED,
                                      "hip: no hiprtc (looked for %s%s%s) to compile the kernels "
                                      "with: install ROCm's hiprtc, or build the plugin with a "
                                      "hipcc that knows this GPU's target",
                                      candidates[0], n > 1 ? ", " : "", n > 1 ? candidates[1] : "");
    const char *names[1] = {rtc->file};
    const xc_dlib_spec_t spec = {
        .what = "hiprtc",
        .names = names,
        .name_count = 1,
        .symbols = rtc_symbols,
        .symbol_count = sizeof rtc_symbols / sizeof rtc_symbols[0],
        .install_hint = "install ROCm's hiprtc",
        .old_hint = "not a hiprtc this plugin knows",
    };
    xhal_status_t status = xc_dlib_open(state->host, &spec, rtc, &rtc->library);
    dlclose(pin);
    if (status != XHAL_OK) {
        /* Compiling is what failed, not the device: its ops are UNSUPPORTED with this reason. */
        char reason[600];
        snprintf(reason, sizeof reason, "%s", xhal_last_error());
        return state->host->set_error(XHAL_UNSUPPORTED, "hip: %s", reason);
    }
    read_known_targets(rtc);
    rtc->loaded = 1;
    return XHAL_OK;
}

static xhal_status_t check_locked(xhal_be_state_t *state, const char *gfx) {
    xhal_status_t status = load(state);
    if (status != XHAL_OK) return status;
    const hip_rtc_t *rtc = &state->rtc;
    if (rtc->known_count < 0)
        return state->host->set_error(XHAL_UNSUPPORTED,
                                      "hip: cannot read which targets hiprtc (%s) knows (no "
                                      "libamd_comgr with amd_comgr_get_isa_name), and asking it "
                                      "for one it does not know aborts the process: not "
                                      "compiling for %s",
                                      rtc->file, gfx);
    for (int i = 0; i < rtc->known_count; i++)
        if (strcmp(rtc->known[i], gfx) == 0) return XHAL_OK;
    char list[400] = "";
    for (int i = 0; i < rtc->known_count && strlen(list) + 12 < sizeof list; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? " " : "",
                 rtc->known[i]);
    return state->host->set_error(
        XHAL_UNSUPPORTED,
        "hip: no code object for %s: the plugin was built without it and hiprtc (%s, comgr "
        "%d.%d) does not know it (it knows %s); rebuild with a ROCm whose hipcc knows %s "
        "(-DXHAL_HIP_TARGETS=%s) or install one whose hiprtc does",
        gfx, rtc->file, rtc->comgr_major, rtc->comgr_minor, list, gfx, gfx);
}

xhal_status_t hip_rtc_check(xhal_be_state_t *state, const char *gfx) {
    pthread_mutex_lock(&state->rtc_lock);
    xhal_status_t status = check_locked(state, gfx);
    pthread_mutex_unlock(&state->rtc_lock);
    return status;
}

void hip_rtc_unload(hip_rtc_t *rtc) {
    if (rtc->library) dlclose(rtc->library);
    memset(rtc, 0, sizeof(*rtc));
    rtc->known_count = -1;
}

static xhal_status_t compile_locked(xhal_be_state_t *state, const char *gfx,
                                    unsigned char **out_code, size_t *out_size) {
    xhal_status_t status = check_locked(state, gfx); /* never ask for an unknown target */
    if (status != XHAL_OK) return status;
    const hip_rtc_t *rtc = &state->rtc;
    hiprtc_program_t program = NULL;
    hiprtc_result_t r =
        rtc->hiprtcCreateProgram(&program, xhal_hip_kernel_source, "xk_hip.hip", 0, NULL, NULL);
    if (r != 0)
        return state->host->set_error(XHAL_DEVICE_ERROR, "hip: hiprtcCreateProgram failed: %s",
                                      rtc->hiprtcGetErrorString(r));
    char arch[64];
    snprintf(arch, sizeof arch, "--gpu-architecture=%s", gfx);
    const char *options[] = {arch, "-O3", "-std=c++17"};
    r = rtc->hiprtcCompileProgram(program, 3, options);
    if (r != 0) {
        char log[LOG_MAX + 1] = "";
        size_t size = 0;
        if (rtc->hiprtcGetProgramLogSize(program, &size) == 0 && size > 1) {
            char *full = calloc(1, size + 1);
            if (full && rtc->hiprtcGetProgramLog(program, full) == 0)
                snprintf(log, sizeof log, "%s", full);
            free(full);
        }
        rtc->hiprtcDestroyProgram(&program);
        return state->host->set_error(XHAL_DEVICE_ERROR,
                                      "hip: hiprtcCompileProgram (the kernels for %s) failed: %s; "
                                      "log:\n%s",
                                      gfx, rtc->hiprtcGetErrorString(r), log[0] ? log : "(empty)");
    }
    size_t size = 0;
    unsigned char *code = NULL;
    if (rtc->hiprtcGetCodeSize(program, &size) == 0 && size > 0 && (code = malloc(size)) != NULL &&
        rtc->hiprtcGetCode(program, (char *)code) == 0) {
        rtc->hiprtcDestroyProgram(&program);
        *out_code = code;
        *out_size = size;
        return XHAL_OK;
    }
    free(code);
    rtc->hiprtcDestroyProgram(&program);
    return state->host->set_error(XHAL_DEVICE_ERROR,
                                  "hip: hiprtc compiled the kernels for %s but gave no code", gfx);
}

xhal_status_t hip_rtc_compile(xhal_be_state_t *state, const char *gfx, unsigned char **out_code,
                              size_t *out_size) {
    pthread_mutex_lock(&state->rtc_lock);
    xhal_status_t status = compile_locked(state, gfx, out_code, out_size);
    pthread_mutex_unlock(&state->rtc_lock);
    return status;
}
