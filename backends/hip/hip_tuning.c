/*
 * kernels/tuning/hip.ini: which compiled MFMA configuration each target uses, and the thresholds
 * of the kernel choice. Embedded into the plugin at build time; XHAL_HIP_TUNING may name another
 * file to use instead.
 *
 * Format: "[section]" lines and "key = value" lines; ';' or '#' start a comment. Sections apply
 * in order: [default], [gfxNNN] (the target), and a section named exactly like the device
 * ("[AMD Instinct MI300X]"); a later one overrides an earlier one. Keys of other sections are
 * checked too, so a typo anywhere is reported.
 *
 * (A stand-in until the project-wide INI loader of backends/common lands: it is kept to this
 * one function so that swapping it is a local change.)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hip_plan.h"

#define TEXT(field)                                                                                \
    { #field, offsetof(hip_tuning_t, field), sizeof(((hip_tuning_t *)0)->field), 0, 0 }
#define INT(field, lo, hi)                                                                         \
    { #field, offsetof(hip_tuning_t, field), 0, lo, hi }

static const struct {
    const char *name;
    size_t offset;
    size_t text_size; /* 0: an int */
    int min, max;
} keys[] = {
    TEXT(gemm_large),
    TEXT(gemm_small),
    TEXT(gemm_skinny),
    INT(gemm_skinny_max_m, 0, 64),
    INT(gemm_group_m, 1, 64),
    INT(gemm_splitk_max, 1, 64),
    INT(gemm_gemv_max_m, 0, 16),
    INT(attention_decode_max_queries, 0, 16),
    INT(attention_min_keys_per_split, 32, 1 << 20),
};

/* Trims blanks off [begin, end) into out (size n). */
static void trimmed(char *out, size_t n, const char *begin, const char *end) {
    while (begin < end && isspace((unsigned char)*begin))
        begin++;
    while (end > begin && isspace((unsigned char)end[-1]))
        end--;
    size_t len = (size_t)(end - begin) < n - 1 ? (size_t)(end - begin) : n - 1;
    memcpy(out, begin, len);
    out[len] = '\0';
}

static int set_key(hip_tuning_t *t, const char *key, const char *value, char *error,
                   size_t error_size, int line) {
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(keys[i].name, key) != 0) continue;
        char *field = (char *)t + keys[i].offset;
        if (keys[i].text_size) {
            if (!value[0] || strlen(value) >= keys[i].text_size) break;
            memcpy(field, value, strlen(value) + 1);
            return 0;
        }
        char *end = NULL;
        long v = strtol(value, &end, 10);
        if (end == value || *end || v < keys[i].min || v > keys[i].max) {
            snprintf(error, error_size, "line %d: %s must be an integer in %d..%d, not '%s'", line,
                     key, keys[i].min, keys[i].max, value);
            return -1;
        }
        int iv = (int)v;
        memcpy(field, &iv, sizeof iv);
        return 0;
    }
    snprintf(error, error_size, "line %d: unknown key or bad value '%s = %s'", line, key, value);
    return -1;
}

/* Applies the keys of section `wanted` (checking every line of the text). */
static int apply(const char *text, const char *wanted, hip_tuning_t *t, char *error,
                 size_t error_size) {
    char section[128] = "";
    int line = 0;
    for (const char *p = text; *p;) {
        const char *eol = p + strcspn(p, "\n");
        const char *stop = p + strcspn(p, ";#\n");
        char buf[256];
        trimmed(buf, sizeof buf, p, stop < eol ? stop : eol);
        line++;
        char *eq = strchr(buf, '=');
        if (buf[0] == '[') {
            char *close = strchr(buf, ']');
            if (!close || close[1]) {
                snprintf(error, error_size, "line %d: malformed section header '%s'", line, buf);
                return -1;
            }
            trimmed(section, sizeof section, buf + 1, close);
        } else if (buf[0] && !eq) {
            snprintf(error, error_size, "line %d: expected 'key = value', got '%s'", line, buf);
            return -1;
        } else if (buf[0]) {
            char key[64], value[128];
            trimmed(key, sizeof key, buf, eq);
            trimmed(value, sizeof value, eq + 1, buf + strlen(buf));
            hip_tuning_t scratch = *t;
            if (set_key(strcmp(section, wanted) == 0 ? t : &scratch, key, value, error, error_size,
                        line) != 0)
                return -1;
        }
        p = *eol ? eol + 1 : eol;
    }
    return 0;
}

int hip_tuning_parse(const char *text, const char *gfx, const char *device_name, hip_tuning_t *t,
                     char *error, size_t error_size) {
    hip_tuning_t result = *t;
    const char *sections[3] = {"default", gfx, device_name};
    for (int i = 0; i < 3; i++)
        if (sections[i] && *sections[i] &&
            apply(text, sections[i], &result, error, error_size) != 0)
            return -1;
    *t = result;
    return 0;
}
