/*
 * Datasheet peaks for the figures a backend leaves 0: hal/data/devices.ini, matched by the name
 * the vendor's runtime reports. A backend that knows better (a measured clock, a queried
 * configuration) fills its own figures, which are never overwritten.
 *
 * The file is found in $XHAL_DATA_DIR, then the install's share/xhal/ (found from libxhal.so's own
 * path, as plugins are), then the source tree this library was built from. It is parsed here with
 * a few lines of C rather than libiniparser: sections, "key = value" and comments are all it has,
 * and libxhal then depends on nothing beyond libc.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"

typedef struct datasheet {
    char section[64];
    char name[96];
    char match[256];
    double flops[XHAL_DTYPE_COUNT]; /* TFLOP/s */
    double bandwidth;               /* TB/s */
    double per_device;
} datasheet_t;

/* Any object of libxhal: dladdr of its address names the library's file. */
static const char library_anchor;

static int readable(const char *path) {
    FILE *file = fopen(path, "r");
    if (file) fclose(file);
    return file != NULL;
}

/* The first devices.ini that exists, in the order the header says; 0 when none does. */
static int find_file(char *out, size_t size) {
    const char *env = getenv("XHAL_DATA_DIR");
    if (env && *env) {
        xhal_format(out, size, "%s/devices.ini", env);
        if (readable(out)) return 1;
    }
    Dl_info self;
    if (dladdr(&library_anchor, &self) && self.dli_fname) {
        char library[PATH_MAX];
        xhal_format(library, sizeof library, "%s", self.dli_fname);
        const char *dir = dirname(library);
        /* <prefix>/lib/libxhal.so and <prefix>/lib/<multiarch>/libxhal.so alike. */
        static const char *const up[] = {"/../share/xhal", "/../../share/xhal"};
        for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
            xhal_format(out, size, "%s%s/devices.ini", dir, up[i]);
            if (readable(out)) return 1;
        }
    }
    /* This file is compiled by its absolute path: hal/src/device_peaks.c -> hal/data/. */
    if (__FILE__[0] == '/') {
        char source[PATH_MAX];
        xhal_format(source, sizeof source, "%s", __FILE__);
        char *src_dir = dirname(source);
        xhal_format(out, size, "%s/../data/devices.ini", src_dir);
        if (readable(out)) return 1;
    }
    return 0;
}

static char *trim(char *text) {
    while (isspace((unsigned char)*text))
        text++;
    size_t length = strlen(text);
    while (length && isspace((unsigned char)text[length - 1]))
        text[--length] = '\0';
    return text;
}

/* Case-insensitive: does `name` contain one of the '|'-separated patterns? */
static int matches(const char *patterns, const char *name) {
    char copy[256];
    xhal_format(copy, sizeof copy, "%s", patterns);
    char *save = NULL;
    for (char *p = strtok_r(copy, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
        p = trim(p);
        size_t n = strlen(p);
        if (!n) continue;
        for (const char *at = name; *at; at++)
            if (strncasecmp(at, p, n) == 0) return 1;
    }
    return 0;
}

static void set_field(datasheet_t *d, const char *key, const char *value) {
    double number = strtod(value, NULL);
    if (strcmp(key, "name") == 0) xhal_format(d->name, sizeof d->name, "%s", value);
    if (strcmp(key, "match") == 0) xhal_format(d->match, sizeof d->match, "%s", value);
    if (strcmp(key, "fp32") == 0) d->flops[XHAL_DTYPE_F32] = number;
    if (strcmp(key, "fp16") == 0) d->flops[XHAL_DTYPE_F16] = number;
    if (strcmp(key, "bf16") == 0) d->flops[XHAL_DTYPE_BF16] = number;
    if (strcmp(key, "bandwidth") == 0) d->bandwidth = number;
    if (strcmp(key, "per_device") == 0 && number >= 1) d->per_device = number;
}

/* Reads sections until one matches `name`; 1 with *out filled, else 0. */
static int lookup(FILE *file, const char *name, datasheet_t *out) {
    char line[512];
    datasheet_t current;
    memset(&current, 0, sizeof current);
    int in_section = 0;
    for (;;) {
        int more = fgets(line, sizeof line, file) != NULL;
        char *text = more ? trim(line) : NULL;
        /* A section ends at the next header or at the end of the file. */
        if (in_section && (!more || *text == '[') && current.match[0] &&
            matches(current.match, name)) {
            *out = current;
            return 1;
        }
        if (!more) return 0;
        if (*text == '[') {
            memset(&current, 0, sizeof current);
            current.per_device = 1;
            char *close = strchr(text, ']');
            if (close) *close = '\0';
            xhal_format(current.section, sizeof current.section, "%s", text + 1);
            in_section = 1;
            continue;
        }
        char *equals = strchr(text, '=');
        if (!in_section || !equals || *text == ';' || *text == '#') continue;
        *equals = '\0';
        set_field(&current, trim(text), trim(equals + 1));
    }
}

void xhal_device_fill_peaks(xhal_device_info_t *info) {
    int missing = !(info->peak_bandwidth > 0);
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        missing |= !(info->peak_flops[t] > 0);
    if (!missing || !info->name[0]) return;
    char path[PATH_MAX];
    if (!find_file(path, sizeof path)) {
        xhal_log(XHAL_LOG_DEBUG, "%s: no devices.ini found (set XHAL_DATA_DIR)", info->name);
        return;
    }
    FILE *file = fopen(path, "r");
    if (!file) return;
    datasheet_t d;
    int found = lookup(file, info->name, &d);
    fclose(file);
    if (!found) {
        xhal_log(XHAL_LOG_DEBUG, "%s: not in %s", info->name, path);
        return;
    }
    int filled = 0;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (info->peak_flops[t] > 0 || !(d.flops[t] > 0)) continue;
        info->peak_flops[t] = d.flops[t] * 1e12 / d.per_device;
        filled++;
    }
    if (!(info->peak_bandwidth > 0) && d.bandwidth > 0) {
        info->peak_bandwidth = d.bandwidth * 1e12 / d.per_device;
        filled++;
    }
    if (!filled) return;
    char source[sizeof info->peak_source];
    if (info->peak_source[0])
        xhal_format(source, sizeof source, "%s; the rest from datasheet: %s (hal/data/devices.ini)",
                    info->peak_source, d.name);
    else
        xhal_format(source, sizeof source, "datasheet: %s (hal/data/devices.ini)", d.name);
    memcpy(info->peak_source, source, sizeof source);
    xhal_log(XHAL_LOG_INFO, "%s: %d peak figure(s) from [%s] of %s", info->name, filled, d.section,
             path);
}
