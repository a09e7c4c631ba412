/* See xc_tuning.h. */
#include "xc_tuning.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "xc_options.h"
#include "xc_paths.h"
#include "xc_tuned.h"

/* ---- Matching ---- */

static int contains_ignoring_case(const char *text, const char *needle, size_t n) {
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return 1;
    return 0;
}

int xc_tuning_pattern_matches(const char *patterns, const char *text) {
    if (!patterns || !text) return 0;
    for (const char *p = patterns; *p;) {
        size_t n = strcspn(p, ",|");
        const char *word = p;
        size_t length = n;
        while (length && (*word == ' ' || *word == '\t'))
            word++, length--;
        while (length && (word[length - 1] == ' ' || word[length - 1] == '\t'))
            length--;
        if ((length == 1 && word[0] == '*') ||
            (length && contains_ignoring_case(text, word, length)))
            return 1;
        p += n;
        if (*p) p++;
    }
    return 0;
}

static int same(const char *a, const char *b) {
    return a && b && strcasecmp(a, b) == 0;
}

size_t xc_tuning_match(const xc_ini_t *ini, const xc_device_id_t *id) {
    const char *identity = id->identity ? id->identity : id->name;
    for (size_t s = 0; s < xc_ini_section_count(ini); s++) {
        const char *name = xc_ini_section_name(ini, s);
        if (same(name, "default") || same(name, id->arch) || same(name, id->name)) continue;
        const char *type = xc_ini_value(ini, s, "type");
        if (type && !same(type, id->type)) continue;
        if (xc_tuning_pattern_matches(xc_ini_value(ini, s, "match"), identity)) return s;
    }
    return XC_INI_NONE;
}

size_t xc_tuning_sections(const xc_ini_t *ini, const xc_device_id_t *id, size_t out[4]) {
    const size_t candidates[4] = {
        xc_ini_find(ini, "default"),
        id->arch && *id->arch ? xc_ini_find(ini, id->arch) : XC_INI_NONE,
        xc_tuning_match(ini, id),
        id->name && *id->name ? xc_ini_find(ini, id->name) : XC_INI_NONE,
    };
    size_t count = 0;
    for (size_t i = 0; i < 4; i++) {
        int seen = 0;
        for (size_t j = 0; j < count; j++)
            seen |= out[j] == candidates[i];
        if (candidates[i] != XC_INI_NONE && !seen) out[count++] = candidates[i];
    }
    return count;
}

/* ---- Parameters ---- */

/* Keys that choose a section rather than set a parameter. */
static int meta_key(const char *key) {
    return same(key, "match") || same(key, "type") || same(key, "name") || same(key, "source");
}

static int power_of_two(long v) {
    return v > 0 && (v & (v - 1)) == 0;
}

/* Checks (and with `out`, sets) one key; 0, or 1 with the problem told to warn. */
static int set_one(const xc_param_t *params, size_t count, void *out, const char *source,
                   const char *section, int line, const char *key, const char *value,
                   xc_tuning_warn_fn warn, void *context) {
    const xc_param_t *p = NULL;
    for (size_t i = 0; i < count && !p; i++)
        if (strcasecmp(params[i].key, key) == 0) p = &params[i];
    char message[640];
    if (!p) {
        snprintf(message, sizeof message, "%s line %d: [%s] has an unknown key \"%s\"", source,
                 line, section, key);
    } else if (p->kind == XC_PARAM_TEXT) {
        if (value[0] && strlen(value) < p->size) {
            if (out) memcpy((char *)out + p->offset, value, strlen(value) + 1);
            return 0;
        }
        snprintf(message, sizeof message,
                 "%s line %d: [%s] %s = \"%s\" is not a name of 1..%zu characters", source, line,
                 section, key, value, p->size - 1);
    } else {
        char *end = NULL;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno == 0 && end != value && *end == '\0' && v >= p->min && v <= p->max &&
            (!p->power_of_two || power_of_two(v))) {
            int iv = (int)v;
            if (out) memcpy((char *)out + p->offset, &iv, sizeof iv);
            return 0;
        }
        snprintf(message, sizeof message, "%s line %d: [%s] %s = \"%s\" is not %s in %ld..%ld",
                 source, line, section, key, value,
                 p->power_of_two ? "a power of two" : "an integer", p->min, p->max);
    }
    if (warn) warn(context, message);
    return 1;
}

static size_t walk(const xc_ini_t *ini, size_t section, const char *source,
                   const xc_param_t *params, size_t count, void *out, xc_tuning_warn_fn warn,
                   void *context) {
    size_t problems = 0;
    const char *name = xc_ini_section_name(ini, section);
    const char *merged_from = xc_ini_value(ini, section, "source");
    if (merged_from) source = merged_from;
    for (size_t i = 0; i < xc_ini_key_count(ini, section); i++) {
        const char *value = NULL;
        int line = 0;
        const char *key = xc_ini_key_at(ini, section, i, &value, &line);
        if (meta_key(key)) continue;
        problems +=
            (size_t)set_one(params, count, out, source, name, line, key, value, warn, context);
    }
    return problems;
}

size_t xc_tuning_apply(const xc_ini_t *ini, size_t section, const char *source,
                       const xc_param_t *params, size_t count, void *out, xc_tuning_warn_fn warn,
                       void *context) {
    if (section >= xc_ini_section_count(ini)) return 0;
    return walk(ini, section, source, params, count, out, warn, context);
}

size_t xc_tuning_check(const xc_ini_t *ini, const char *source, const xc_param_t *params,
                       size_t count, xc_tuning_warn_fn warn, void *context) {
    size_t problems = 0;
    for (size_t s = 0; s < xc_ini_section_count(ini); s++)
        problems += walk(ini, s, source, params, count, NULL, warn, context);
    return problems;
}

typedef struct first_problem {
    char *error;
    size_t size;
    size_t count;
} first_problem_t;

static void keep_first(void *context, const char *message) {
    first_problem_t *p = context;
    if (p->count++ == 0) snprintf(p->error, p->size, "%s", message);
}

int xc_tuning_apply_strict(const xc_ini_t *ini, const char *source, const xc_device_id_t *id,
                           const xc_param_t *params, size_t count, void *out, char *error,
                           size_t error_size) {
    first_problem_t problems = {error, error_size, 0};
    xc_tuning_check(ini, source, params, count, keep_first, &problems);
    if (problems.count) return -1;
    size_t sections[4];
    size_t applied = xc_tuning_sections(ini, id, sections);
    for (size_t i = 0; i < applied; i++)
        xc_tuning_apply(ini, sections[i], source, params, count, out, NULL, NULL);
    return 0;
}

/* ---- The file ---- */

/*
 * The files to try, in order, into paths[]; returns how many. `from_variable` is set to the
 * index of the one a variable named (or -1). The per-device tuned file comes over the first
 * found (merge_tuned).
 */
static size_t tuning_candidates(const xhal_host_api_t *host, const char *backend,
                                const void *anchor, char paths[][PATH_MAX], int *from_variable) {
    size_t count = 0;
    char variable[64];
    xc_option_name(variable, sizeof variable, backend, "TUNING");
    const char *named = xhal_host_option(host, variable);
    *from_variable = -1;
    if (named) {
        snprintf(paths[count], PATH_MAX, "%s", named);
        *from_variable = (int)count++;
    }
    char dir[PATH_MAX];
    if (xc_user_cache_dir(xc_host_lookup(host), dir, sizeof dir) == 0) {
        int written = snprintf(paths[count], PATH_MAX, "%s/%s.ini", dir, backend);
        if (written > 0 && written < PATH_MAX) count++;
    }
    char file[64];
    snprintf(file, sizeof file, "%s.ini", backend);
    if (anchor && xc_data_file(xc_host_lookup(host), anchor, 1, file, paths[count], PATH_MAX) == 0)
        count++;
    return count;
}

/* Notes a tuned file that is not used: at warn, except one meant for another backend. */
static void ignore_tuned(const xhal_host_api_t *host, xc_tuning_file_t *out, const char *path,
                         const char *why, int quiet) {
    snprintf(out->ignored, sizeof out->ignored, "%.250s ignored: %.500s", path, why);
    host->log(quiet ? XHAL_LOG_INFO : XHAL_LOG_WARN, "tuned file %s", out->ignored);
}

/*
 * Merges the [parameters] of the device's tuned file (xc_tuned.h) into the section named like
 * the device, where they apply last. A corrupt, foreign or stale file is reported and ignored.
 */
static void merge_tuned(const xhal_host_api_t *host, const char *backend, const xc_device_id_t *id,
                        xc_tuning_file_t *out) {
    if (!id || !id->name || !*id->name || !id->kernels || !*id->kernels) return;
    xc_tuned_key_t key = {backend, id->name, id->driver, id->kernels};
    char path[PATH_MAX], error[512], why[512];
    const char *named = xhal_host_option(host, XC_TUNED_VARIABLE);
    if (named)
        snprintf(path, sizeof path, "%s", named);
    else if (xc_tuned_path(xc_host_lookup(host), &key, path, sizeof path) != 0 ||
             access(path, F_OK) != 0)
        return; /* not tuned: the shipped tuning */
    xc_ini_t *tuned = xc_ini_load(path, error, sizeof error);
    int backend_only = 0;
    if (!tuned) {
        ignore_tuned(host, out, path, error, 0);
        return;
    }
    if (!xc_tuned_matches(tuned, &key, why, sizeof why, &backend_only)) {
        ignore_tuned(host, out, path, why, backend_only && named);
        xc_ini_free(tuned);
        return;
    }
    if (!out->ini) out->ini = xc_ini_new();
    size_t section = xc_ini_find(tuned, XC_TUNED_PARAMETERS);
    int status = out->ini ? xc_ini_set(out->ini, id->name, "source", path) : -1;
    for (size_t i = 0; status == 0 && i < xc_ini_key_count(tuned, section); i++) {
        const char *value = NULL;
        int line = 0;
        const char *name = xc_ini_key_at(tuned, section, i, &value, &line);
        status = xc_ini_set(out->ini, id->name, name, value);
    }
    xc_ini_free(tuned);
    if (status != 0) {
        ignore_tuned(host, out, path, "out of host memory", 0);
        return;
    }
    snprintf(out->tuned, sizeof out->tuned, "%s", path);
    host->log(XHAL_LOG_INFO, "%s: tuned parameters from %s", id->name, path);
}

void xc_tuning_open(const xhal_host_api_t *host, const char *backend, const xc_device_id_t *id,
                    const void *anchor, const char *builtin, xc_tuning_file_t *out) {
    memset(out, 0, sizeof *out);
    /* The variable's file, the user's, the install's (and issue 20's per-device file). */
    char paths[4][PATH_MAX], error[512];
    int from_variable = -1;
    size_t count = tuning_candidates(host, backend, anchor, paths, &from_variable);
    for (size_t i = 0; i < count && !out->ini; i++) {
        out->ini = xc_ini_load(paths[i], error, sizeof error);
        if (out->ini) {
            snprintf(out->source, sizeof out->source, "%s", paths[i]);
            break;
        }
        /* A file the user named must be readable; the others may simply not exist. */
        if ((int)i == from_variable || access(paths[i], F_OK) == 0)
            host->log(XHAL_LOG_WARN, "tuning file not used: %s", error);
    }
    if (!out->ini && builtin) {
        snprintf(out->source, sizeof out->source, "the %s.ini compiled in", backend);
        out->ini = xc_ini_parse(builtin, strlen(builtin), out->source, error, sizeof error);
        if (!out->ini) host->log(XHAL_LOG_WARN, "%s; using the defaults", error);
    }
    merge_tuned(host, backend, id, out);
}

void xc_tuning_close(xc_tuning_file_t *file) {
    xc_ini_free(file->ini);
    file->ini = NULL;
}
