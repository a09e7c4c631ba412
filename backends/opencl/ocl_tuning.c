/*
 * The tuned parameters of the kernels, per device, from kernels/tuning/opencl.ini (read with
 * libiniparser). The first file found wins:
 *
 *   1. $XHAL_OPENCL_TUNING, a file named by the user;
 *   2. $XDG_CACHE_HOME/xhal/opencl.ini (~/.cache/xhal/opencl.ini), where a tuner writes;
 *   3. the installed copy, <datadir>/xhal/opencl.ini, found relative to this plugin;
 *   4. the copy compiled into the plugin (the same file, embedded at build time), so that a
 *      plugin moved away from its data still runs tuned.
 *
 * In the file, a section other than [default] applies to a device when one of the
 * comma-separated substrings of its `match` key occurs (case-insensitively) in the device's
 * name, vendor, platform, version or driver (`*` matches any device), and its `type` key (cpu, gpu,
 * accelerator), if present, is the device's type. The first such section wins; a key it lacks comes
 * from [default], and a key [default] lacks from the values below. A value out of range is ignored
 * with a warning.
 */
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iniparser.h>

#include "ocl_internal.h"

typedef struct param {
    const char *key;
    size_t offset;
    int fallback; /* when no file says otherwise: a safe choice for any device */
    int min, max;
    int vector; /* 1: must be 4, 8 or 16 */
} param_t;

#define OCL_PARAM(name, fallback, min, max, vector)                                                \
    { #name, offsetof(ocl_tuning_t, name), fallback, min, max, vector }

static const param_t params[] = {
    OCL_PARAM(gemm_vw, 4, 4, 16, 1),
    OCL_PARAM(gemm_tm, 4, 1, 16, 0),
    OCL_PARAM(gemm_nv, 2, 1, 8, 0),
    OCL_PARAM(gemm_rb, 1, 1, 64, 0),
    OCL_PARAM(gemm_local, 1, 0, 1, 0),
    OCL_PARAM(gemm_wg_m, 8, 1, 32, 0),
    OCL_PARAM(gemm_wg_n, 8, 1, 32, 0),
    OCL_PARAM(gemm_kb, 16, 1, 64, 0),
    OCL_PARAM(gemm_pack_k, 16, 1, 4096, 0),
    OCL_PARAM(gemm_fused, 0, 0, 1, 0),
    OCL_PARAM(gemv_max_m, 4, 0, 256, 0),
    OCL_PARAM(gemv_rows, 4, 1, 16, 0),
    OCL_PARAM(gemv_nv, 1, 1, 8, 0),
    OCL_PARAM(gemv_tc, 4, 1, 16, 0),
    OCL_PARAM(att_vw, 4, 4, 16, 1),
    OCL_PARAM(att_bq, 4, 1, 16, 0),
    OCL_PARAM(att_dec_rb, 2, 1, 16, 0),
    OCL_PARAM(att_dec_max_q, 16, 0, 64, 0),
    OCL_PARAM(att_dec_chunk, 256, 16, 1 << 24, 0),
    OCL_PARAM(att_dec_items, 64, 1, 1 << 20, 0),
    OCL_PARAM(one_item_groups, 0, 0, 1, 0),
};
#define PARAM_COUNT (sizeof(params) / sizeof(params[0]))

static int *field(ocl_tuning_t *tuning, const param_t *param) {
    return (int *)((char *)tuning + param->offset);
}

/* iniparser reports parse errors through a callback that prints; a library must not print. */
static int quiet(const char *format, ...) {
    (void)format;
    return 0;
}

static dictionary *load_quietly(const char *path) {
    iniparser_set_error_callback(quiet);
    dictionary *d = iniparser_load(path);
    iniparser_set_error_callback(NULL);
    return d;
}

/* True when `text` contains `needle` (length n), ignoring case. */
static int contains_ignoring_case(const char *text, const char *needle, size_t n) {
    if (n == 0) return 0;
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return 1;
    return 0;
}

static int section_matches(const dictionary *d, const char *section, const char *identity,
                           cl_device_type type) {
    char key[160];
    snprintf(key, sizeof(key), "%s:type", section);
    const char *want = iniparser_getstring(d, key, NULL);
    if (want) {
        int is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0,
            is_cpu = !is_gpu && (type & CL_DEVICE_TYPE_CPU);
        const char *have = is_gpu ? "gpu" : is_cpu ? "cpu" : "accelerator";
        if (strcasecmp(want, have) != 0) return 0;
    }
    snprintf(key, sizeof(key), "%s:match", section);
    const char *match = iniparser_getstring(d, key, NULL);
    if (!match) return 0;
    for (const char *p = match; *p;) {
        size_t n = strcspn(p, ",");
        const char *word = p;
        size_t length = n;
        while (length && (*word == ' ' || *word == '\t'))
            word++, length--;
        while (length && (word[length - 1] == ' ' || word[length - 1] == '\t'))
            length--;
        if ((length == 1 && word[0] == '*') || contains_ignoring_case(identity, word, length))
            return 1;
        p += n;
        if (*p == ',') p++;
    }
    return 0;
}

/* Sets the parameters `section` names; warns about values out of range. */
static void apply_section(const xhal_host_api_t *host, const dictionary *d, const char *section,
                          const char *source, ocl_tuning_t *out) {
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        char key[160];
        snprintf(key, sizeof(key), "%s:%s", section, params[i].key);
        const char *text = iniparser_getstring(d, key, NULL);
        if (!text) continue;
        char *end = NULL;
        errno = 0;
        long value = strtol(text, &end, 10);
        int ok = errno == 0 && end != text && *end == '\0' && value >= params[i].min &&
                 value <= params[i].max &&
                 (!params[i].vector || value == 4 || value == 8 || value == 16);
        if (!ok) {
            host->log(XHAL_LOG_WARN, "%s: [%s] %s = \"%s\" is not %s %d..%d; keeping %d", source,
                      section, params[i].key, text, params[i].vector ? "4, 8 or 16 in" : "in",
                      params[i].min, params[i].max, *field(out, &params[i]));
            continue;
        }
        *field(out, &params[i]) = (int)value;
    }
}

/* Applies [default], then the first section matching the device. Returns 1 when one matched. */
static int apply_file(const xhal_host_api_t *host, dictionary *d, const char *source,
                      const char *identity, cl_device_type type, ocl_tuning_t *out) {
    apply_section(host, d, "default", source, out);
    ocl_copy_string(out->section, sizeof(out->section), "default");
    int sections = iniparser_getnsec(d);
    for (int i = 0; i < sections; i++) {
        const char *name = iniparser_getsecname(d, i);
        if (!name || strcasecmp(name, "default") == 0) continue;
        if (!section_matches(d, name, identity, type)) continue;
        apply_section(host, d, name, source, out);
        ocl_copy_string(out->section, sizeof(out->section), name);
        return 1;
    }
    return 0;
}

/* An object of this plugin, for dladdr to name the plugin's file. */
static const char plugin_anchor;

/* The installed copy: <dir of this plugin>/XHAL_OCL_DATA_RELATIVE/opencl.ini. */
static int installed_path(char *out, size_t size) {
    Dl_info self;
    if (!dladdr(&plugin_anchor, &self) || !self.dli_fname) return 0;
    char copy[PATH_MAX];
    ocl_copy_string(copy, sizeof(copy), self.dli_fname);
    int n = snprintf(out, size, "%s/%s/opencl.ini", dirname(copy), XHAL_OCL_DATA_RELATIVE);
    return n > 0 && (size_t)n < size;
}

static int user_path(char *out, size_t size) {
    const char *cache = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (cache && cache[0] == '/')
        n = snprintf(out, size, "%s/xhal/opencl.ini", cache);
    else if (home && home[0])
        n = snprintf(out, size, "%s/.cache/xhal/opencl.ini", home);
    else
        return 0;
    return n > 0 && (size_t)n < size;
}

/*
 * iniparser reads only files, so the compiled-in copy is handed to it as an anonymous
 * in-memory file (memfd), opened by its /proc/self/fd name.
 */
static dictionary *load_builtin(void) {
    int fd = memfd_create("xhal-opencl-tuning", 0);
    if (fd < 0) return NULL;
    size_t length = strlen(ocl_tuning_builtin);
    dictionary *d = NULL;
    if (write(fd, ocl_tuning_builtin, length) == (ssize_t)length) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        d = load_quietly(path);
    }
    close(fd);
    return d;
}

void ocl_tuning_defaults(ocl_tuning_t *out) {
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < PARAM_COUNT; i++)
        *field(out, &params[i]) = params[i].fallback;
}

void ocl_tuning_load(const xhal_host_api_t *host, const char *identity, cl_device_type type,
                     ocl_tuning_t *out) {
    ocl_tuning_defaults(out);
    ocl_copy_string(out->section, sizeof(out->section), "none");
    ocl_copy_string(out->source, sizeof(out->source), "the values compiled in");

    char paths[3][PATH_MAX];
    size_t count = 0;
    const char *env = getenv("XHAL_OPENCL_TUNING");
    if (env && *env) ocl_copy_string(paths[count++], PATH_MAX, env);
    if (user_path(paths[count], PATH_MAX)) count++;
    if (installed_path(paths[count], PATH_MAX)) count++;

    for (size_t i = 0; i < count; i++) {
        if (access(paths[i], R_OK) != 0) {
            if (i == 0 && env && *env)
                host->log(XHAL_LOG_WARN, "XHAL_OPENCL_TUNING=%s cannot be read (%s)", env,
                          strerror(errno));
            continue;
        }
        dictionary *d = load_quietly(paths[i]);
        if (!d) {
            host->log(XHAL_LOG_WARN, "%s is not a valid INI file; ignoring it", paths[i]);
            continue;
        }
        ocl_copy_string(out->source, sizeof(out->source), paths[i]);
        apply_file(host, d, paths[i], identity, type, out);
        iniparser_freedict(d);
        return;
    }
    dictionary *d = load_builtin();
    if (!d) {
        host->log(XHAL_LOG_WARN, "the compiled-in opencl.ini could not be read; using defaults");
        return;
    }
    ocl_copy_string(out->source, sizeof(out->source), "the opencl.ini compiled in");
    apply_file(host, d, "opencl.ini (compiled in)", identity, type, out);
    iniparser_freedict(d);
}
