/*
 * libFuzzer target: the one INI reader (backends/common/xc_ini.c) on arbitrary bytes, and what
 * reads a parsed file as the library does: the tuning lookup (xc_tuning.c) with the keys and
 * ranges of the OpenCL and CUDA backends applied as they apply them (ocl_tuning.c, then the fit
 * to a device's limits of ocl_limits.c; cuda_tuning.c), and the devices.ini reader of the core
 * (hal/src/device_peaks.c). A tuning file is named by the user ($XHAL_<BACKEND>_TUNING) or left
 * in their cache; devices.ini can be edited: both are untrusted input.
 *
 * What is checked beyond the sanitizers:
 *   - a refused text has an error naming the source and line; an accepted one is a consistent
 *     document (each section found by its name, names of 1..255 characters without blanks
 *     around them, the value of a key the last one given), and what xc_ini_write makes of it
 *     reads back as the same document; a section, key and value set from any bytes are written
 *     only when they read back as set (the value as the reader trims it), else refused;
 *   - the sections that apply to a device are at most 4, distinct, [default] first;
 *   - every tuned value is inside its key's declared range (a power of two where one is asked
 *     for), every name fits its field, whatever the file says; an OpenCL tuning fitted to a
 *     device's limits fits them; a CUDA file with any problem changes nothing and says why, and
 *     xc_tuning_check counts exactly the problems it reports;
 *   - a figure devices.ini gives is finite and > 0, a figure the backend gave is kept, and the
 *     count of figures filled is the count that changed.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "cuda_plan.h"
#include "fuzz_host.h"
#include "xc_ini.h"
#include "xc_tuning.h"
#ifdef XT_WITH_OPENCL
#include "ocl_internal.h"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- The core's services device_peaks.c uses (libxhal keeps its own hidden) ---- */

void xhal_log(xhal_log_level_t level, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(fuzz_log_line, sizeof fuzz_log_line, fmt, args);
    va_end(args);
    fuzz_warnings += level == XHAL_LOG_WARN;
}

void xhal_format(char *out, size_t size, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(out, size, fmt, args);
    va_end(args);
}

const char *xhal_option(const char *name) {
    (void)name;
    return NULL;
}

/* ---- The document ---- */

static char scratch[512], written_path[600];

static void remove_scratch(void) {
    unlink(written_path);
    rmdir(scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (fuzz_scratch_dir("ini", scratch, sizeof scratch) != 0) return 1;
    snprintf(written_path, sizeof written_path, "%s/written.ini", scratch);
    atexit(remove_scratch);
    return 0;
}

static int blank_at_ends(const char *text) {
    size_t n = strlen(text);
    return n && (strchr(" \t\r\f\v", text[0]) || strchr(" \t\r\f\v", text[n - 1]));
}

static void check_document(const xc_ini_t *ini, int lines) {
    size_t sections = xc_ini_section_count(ini);
    for (size_t s = 0; s < sections; s++) {
        const char *name = xc_ini_section_name(ini, s);
        if (!name || strlen(name) > XC_INI_MAX_NAME || strchr(name, '\n') || blank_at_ends(name))
            fuzz_fail("section %zu has a bad name", s);
        if (xc_ini_find(ini, name) != s) fuzz_fail("section [%s] is not found by its name", name);
        size_t keys = xc_ini_key_count(ini, s);
        for (size_t i = 0; i < keys; i++) {
            const char *value = NULL;
            int line = 0;
            const char *key = xc_ini_key_at(ini, s, i, &value, &line);
            if (!key || !value || !key[0] || strlen(key) > XC_INI_MAX_NAME || strpbrk(key, "=\n") ||
                blank_at_ends(key) || strchr(value, '\n') || blank_at_ends(value) || line < 1 ||
                line > lines)
                fuzz_fail("[%s] entry %zu is malformed (line %d)", name, i, line);
            /* The value of a key is its last one: no later entry has the same key. */
            const char *last = xc_ini_value(ini, s, key);
            int later = 0;
            for (size_t j = i + 1; j < keys && !later; j++)
                later = strcasecmp(xc_ini_key_at(ini, s, j, NULL, NULL), key) == 0;
            if (!later && last != value) fuzz_fail("[%s] %s: not the last value", name, key);
        }
    }
}

/* What the writer makes of the document reads back as the same document. */
static void check_round_trip(const xc_ini_t *ini) {
    if (xc_ini_write(ini, written_path, NULL) != 0) return; /* the disk, not the document */
    char error[512] = "";
    xc_ini_t *back = xc_ini_load(written_path, error, sizeof error);
    if (!back) fuzz_fail("what xc_ini_write wrote does not read back: %s", error);
    if (xc_ini_section_count(back) != xc_ini_section_count(ini))
        fuzz_fail("%zu sections written, %zu read back", xc_ini_section_count(ini),
                  xc_ini_section_count(back));
    for (size_t s = 0; s < xc_ini_section_count(ini); s++) {
        const char *name = xc_ini_section_name(ini, s);
        size_t b = xc_ini_find(back, name);
        if (b == XC_INI_NONE || strcmp(xc_ini_section_name(back, b), name) != 0)
            fuzz_fail("section [%s] did not read back", name);
        if (xc_ini_key_count(back, b) != xc_ini_key_count(ini, s))
            fuzz_fail("[%s]: keys did not read back", name);
        for (size_t i = 0; i < xc_ini_key_count(ini, s); i++) {
            const char *v1 = NULL, *v2 = NULL;
            const char *k1 = xc_ini_key_at(ini, s, i, &v1, NULL);
            const char *k2 = xc_ini_key_at(back, b, i, &v2, NULL);
            if (strcmp(k1, k2) != 0 || strcmp(v1, v2) != 0)
                fuzz_fail("[%s] %s = \"%s\" read back as %s = \"%s\"", name, k1, v1, k2, v2);
        }
    }
    xc_ini_free(back);
}

/* What the reader makes of a value: blanks around it and an inline comment dropped (xc_ini.h). */
static void read_back_value(const char *value, char *out, size_t size) {
    const char *begin = value, *end = value + strlen(value);
    while (begin < end && strchr(" \t\r\f\v", *begin))
        begin++;
    if (begin < end && *begin == ';') end = begin;
    for (const char *q = begin + 1; q < end; q++)
        if (*q == ';' && strchr(" \t\r\f\v", q[-1])) end = q;
    while (end > begin && strchr(" \t\r\f\v", end[-1]))
        end--;
    snprintf(out, size, "%.*s", (int)(end - begin), begin);
}

/*
 * A section, key and value set in memory (the input's first three lines, any bytes) are written
 * only when they read back: the same section and key, the value as the reader makes it, nothing
 * else changed. Refused with EINVAL otherwise.
 */
static void check_set_round_trip(xc_ini_t *ini, const uint8_t *data, size_t size) {
    char *parts[3] = {NULL, NULL, NULL};
    size_t at = 0;
    for (int i = 0; i < 3; i++) {
        size_t n = 0;
        while (at + n < size && data[at + n] != '\n')
            n++;
        parts[i] = strndup((const char *)data + at, n);
        at += n + (at + n < size);
    }
    size_t sections = xc_ini_section_count(ini);
    if (!parts[0] || !parts[1] || !parts[2] || xc_ini_set(ini, parts[0], parts[1], parts[2]) != 0)
        goto done;
    if (xc_ini_write(ini, written_path, "; header\n") != 0) {
        if (errno != EINVAL && errno != ENOMEM)
            fuzz_fail("xc_ini_write refused a document with errno %d", errno);
        goto done;
    }
    char error[512] = "", expected[XC_INI_MAX_LINE + 1];
    xc_ini_t *back = xc_ini_load(written_path, error, sizeof error);
    if (!back) fuzz_fail("a document xc_ini_write accepted does not read back: %s", error);
    size_t section = xc_ini_find(back, parts[0]);
    size_t added = xc_ini_find(ini, parts[0]) >= sections;
    const char *value = xc_ini_value(back, section, parts[1]);
    read_back_value(parts[2], expected, sizeof expected);
    if (xc_ini_section_count(back) != sections + added || section == XC_INI_NONE || !value ||
        strcmp(value, expected) != 0)
        fuzz_fail("[%s] %s = \"%s\" read back as \"%s\"", parts[0], parts[1], parts[2],
                  value ? value : "(none)");
    xc_ini_free(back);
done:
    for (int i = 0; i < 3; i++)
        free(parts[i]);
}

/* ---- Tunings ---- */

/* Every field a param table describes holds a value its key accepts. */
static void check_params(const char *backend, const xc_param_t *params, size_t count,
                         const void *tuning) {
    for (size_t i = 0; i < count; i++) {
        const xc_param_t *p = &params[i];
        const char *field = (const char *)tuning + p->offset;
        if (p->kind == XC_PARAM_TEXT) {
            if (!memchr(field, '\0', p->size) || !field[0])
                fuzz_fail("%s %s is not a name of 1..%zu characters", backend, p->key, p->size - 1);
            continue;
        }
        int v;
        memcpy(&v, field, sizeof v);
        if (v < p->min || v > p->max || (p->power_of_two && (v <= 0 || (v & (v - 1)) != 0)))
            fuzz_fail("%s %s = %d is outside %ld..%ld%s", backend, p->key, v, p->min, p->max,
                      p->power_of_two ? " (powers of two)" : "");
    }
}

static void check_sections(const xc_ini_t *ini, const xc_device_id_t *id) {
    size_t out[4];
    size_t count = xc_tuning_sections(ini, id, out);
    if (count > 4) fuzz_fail("%zu sections apply", count);
    for (size_t i = 0; i < count; i++) {
        if (out[i] >= xc_ini_section_count(ini)) fuzz_fail("section %zu does not exist", out[i]);
        for (size_t j = 0; j < i; j++)
            if (out[i] == out[j]) fuzz_fail("section %zu applies twice", out[i]);
    }
    size_t fallback = xc_ini_find(ini, "default");
    if (fallback != XC_INI_NONE && (count == 0 || out[0] != fallback))
        fuzz_fail("[default] does not apply first");
}

static size_t problems_told;
static void count_problem(void *context, const char *message) {
    (void)context;
    if (!message[0]) fuzz_fail("an empty tuning warning");
    problems_told++;
}

#ifdef XT_WITH_OPENCL
static void check_opencl(const xc_ini_t *ini, const xc_device_id_t *id) {
    size_t count = 0;
    const xc_param_t *params = ocl_tuning_params(&count);
    ocl_tuning_t tuning;
    ocl_tuning_defaults(&tuning);
    snprintf(tuning.source, sizeof tuning.source, "fuzz.ini");
    check_params("opencl defaults", params, count, &tuning);
    ocl_tuning_apply(ini, "fuzz.ini", id, &fuzz_host, &tuning);
    check_params("opencl", params, count, &tuning);
    if (!memchr(tuning.section, '\0', sizeof tuning.section)) fuzz_fail("section not terminated");
    /* A GPU's, PoCL's and a small device's limits: whatever was tuned, what runs fits. */
    static const ocl_limits_t limits[] = {
        {48 << 10, 256, {1024, 1024, 64}},
        {1 << 20, 4096, {4096, 4096, 4096}},
        {4 << 10, 16, {16, 16, 16}},
    };
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
        ocl_tuning_t fitted = tuning;
        ocl_tuning_fit(&fuzz_host, "fuzz device", &limits[l], &fitted);
        char why[512];
        if (!ocl_tuning_fits(&fitted, &limits[l], why, sizeof why))
            fuzz_fail("a fitted OpenCL tuning does not fit: %s", why);
        check_params("opencl fitted", params, count, &fitted);
    }
    problems_told = 0;
    size_t problems = xc_tuning_check(ini, "fuzz.ini", params, count, count_problem, NULL);
    if (problems != problems_told) fuzz_fail("%zu problems, %zu told", problems, problems_told);
}
#endif

static void check_cuda(const xc_ini_t *ini, const xc_device_id_t *id) {
    size_t count = 0;
    const xc_param_t *params = cuda_tuning_params(&count);
    cuda_tuning_t tuning, before;
    cuda_tuning_defaults(&tuning);
    check_params("cuda defaults", params, count, &tuning);
    before = tuning;
    char error[640] = "";
    int status =
        cuda_tuning_apply(ini, "fuzz.ini", id->arch, id->name, &tuning, error, sizeof error);
    problems_told = 0;
    size_t problems = xc_tuning_check(ini, "fuzz.ini", params, count, count_problem, NULL);
    if (problems != problems_told) fuzz_fail("%zu problems, %zu told", problems, problems_told);
    if (status != 0) {
        if (status != -1 || !strstr(error, " line "))
            fuzz_fail("cuda: %d, \"%s\"", status, error);
        if (memcmp(&tuning, &before, sizeof tuning) != 0)
            fuzz_fail("a refused cuda.ini changed the tuning");
        if (!problems) fuzz_fail("cuda.ini refused without a problem");
        return;
    }
    if (problems) fuzz_fail("cuda.ini with %zu problems accepted", problems);
    check_params("cuda", params, count, &tuning);
}

/* ---- devices.ini ---- */

static void check_peaks(const xc_ini_t *ini, const char *name, int given) {
    xhal_device_info_t info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    snprintf(info.name, sizeof info.name, "%s", name);
    if (given) { /* what a backend measured is never overwritten */
        info.peak_flops[0] = 1.5e12;
        snprintf(info.peak_source, sizeof info.peak_source, "derived: fuzz");
    }
    xhal_device_info_t before = info;
    int filled = xhal_device_peaks_apply(ini, "fuzz.ini", &info);
    int changed = info.peak_bandwidth != before.peak_bandwidth;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        changed += info.peak_flops[t] != before.peak_flops[t];
    if (filled != changed) fuzz_fail("devices.ini: %d figures filled, %d changed", filled, changed);
    if (given && info.peak_flops[0] != 1.5e12) fuzz_fail("devices.ini overwrote a given peak");
    for (int t = 0; t <= XHAL_DTYPE_COUNT; t++) {
        double v = t < XHAL_DTYPE_COUNT ? info.peak_flops[t] : info.peak_bandwidth;
        double was = t < XHAL_DTYPE_COUNT ? before.peak_flops[t] : before.peak_bandwidth;
        if (v != was && !(isfinite(v) && v > 0))
            fuzz_fail("devices.ini gave \"%s\" figure %d = %g", name, t, v);
    }
    if (!memchr(info.peak_source, '\0', sizeof info.peak_source)) fuzz_fail("peak_source");
}

/* A device name that the file's first `match` pattern finds (so the match path is taken). */
static void matched_name(const xc_ini_t *ini, char *out, size_t size) {
    snprintf(out, size, "NVIDIA H100 80GB HBM3");
    for (size_t s = 0; s < xc_ini_section_count(ini); s++) {
        const char *match = xc_ini_value(ini, s, "match");
        if (!match) continue;
        size_t n = strcspn(match, ",|");
        snprintf(out, size, "x%.*sx", (int)(n < size - 3 ? n : size - 3), match);
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char error[512] = "";
    xc_ini_t *ini = xc_ini_parse((const char *)data, size, "fuzz.ini", error, sizeof error);
    if (!ini) {
        if (strncmp(error, "fuzz.ini line ", 14) != 0 && !strstr(error, "out of host memory"))
            fuzz_fail("a refusal without its line: \"%s\"", error);
        return 0;
    }
    int lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    check_document(ini, lines);
    check_round_trip(ini);

    size_t sections = xc_ini_section_count(ini);
    const char *first = sections ? xc_ini_section_name(ini, 0) : NULL;
    const char *last = sections ? xc_ini_section_name(ini, sections - 1) : NULL;
    char name[128];
    matched_name(ini, name, sizeof name);
    const xc_device_id_t ids[] = {
        {.name = "NVIDIA H100 80GB HBM3", .arch = "sm_90", .type = "gpu"},
        {.name = last,
         .arch = first,
         .type = "cpu",
         .identity = "cpu-znver4 pthread Portable Computing Language"},
        {.name = name, .arch = last, .type = "accelerator"},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        check_sections(ini, &ids[i]);
#ifdef XT_WITH_OPENCL
        check_opencl(ini, &ids[i]);
#endif
        check_cuda(ini, &ids[i]);
    }
    check_peaks(ini, name, 0);
    check_peaks(ini, name, 1);
    check_set_round_trip(ini, data, size); /* last: it changes the document */
    xc_ini_free(ini);
    return 0;
}
