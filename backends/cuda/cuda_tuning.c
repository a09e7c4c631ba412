/*
 * kernels/tuning/cuda.ini: which compiled kernel configuration each architecture uses, and the
 * thresholds of the kernel choice. The file is embedded into the plugin at build time (so an
 * installed plugin needs no data file) and XHAL_CUDA_TUNING may name another file to use
 * instead (what `xhal tune` will write).
 *
 * Format: "[section]" lines and "key = value" lines; ';' or '#' start a comment. The sections
 * applied, in order: [default], [sm_XY] (compute capability X.Y), and a section named exactly
 * like the device ("[NVIDIA H100 80GB HBM3]"). A later section overrides an earlier one.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_plan.h"

typedef enum { KEY_TEXT, KEY_INT } key_type_t;

typedef struct {
    const char *name;
    key_type_t type;
    size_t offset;
    size_t size;
    int min, max;
} tuning_key_t;

#define TEXT_KEY(field)                                                                            \
    { #field, KEY_TEXT, offsetof(cuda_tuning_t, field), sizeof(((cuda_tuning_t *)0)->field), 0, 0 }
#define INT_KEY(field, lo, hi)                                                                     \
    { #field, KEY_INT, offsetof(cuda_tuning_t, field), sizeof(int), lo, hi }

static const tuning_key_t keys[] = {
    TEXT_KEY(gemm_mma_large),
    TEXT_KEY(gemm_mma_small),
    TEXT_KEY(gemm_sm90),
    INT_KEY(gemm_group_m, 1, 64),
    INT_KEY(gemm_splitk_max, 1, 64),
    INT_KEY(gemm_gemv_max_m, 0, 16),
    INT_KEY(attention_decode_max_queries, 0, 16),
    INT_KEY(attention_min_keys_per_split, 32, 1 << 20),
    INT_KEY(attention_sm90, 0, 1),
};

/* Copies [begin, end) trimmed of blanks into out (size n). */
static void trim_copy(char *out, size_t n, const char *begin, const char *end) {
    while (begin < end && isspace((unsigned char)*begin))
        begin++;
    while (end > begin && isspace((unsigned char)end[-1]))
        end--;
    size_t len = (size_t)(end - begin);
    if (len >= n) len = n - 1;
    memcpy(out, begin, len);
    out[len] = '\0';
}

static int set_key(cuda_tuning_t *t, const char *key, const char *value, int line, char *error,
                   size_t error_size) {
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(keys[i].name, key) != 0) continue;
        char *field = (char *)t + keys[i].offset;
        if (keys[i].type == KEY_TEXT) {
            if (strlen(value) >= keys[i].size || value[0] == '\0') {
                snprintf(error, error_size, "line %d: bad value '%s' for %s", line, value, key);
                return -1;
            }
            memcpy(field, value, strlen(value) + 1);
            return 0;
        }
        char *end = NULL;
        long v = strtol(value, &end, 10);
        if (end == value || *end != '\0' || v < keys[i].min || v > keys[i].max) {
            snprintf(error, error_size, "line %d: %s must be an integer in %d..%d, not '%s'", line,
                     key, keys[i].min, keys[i].max, value);
            return -1;
        }
        int iv = (int)v;
        memcpy(field, &iv, sizeof iv);
        return 0;
    }
    snprintf(error, error_size, "line %d: unknown key '%s'", line, key);
    return -1;
}

/* One pass over the text applying the keys of section `wanted`; also checks the whole syntax. */
static int apply_section(const char *text, const char *wanted, cuda_tuning_t *t, char *error,
                         size_t error_size) {
    char section[128] = "";
    int line = 0;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        line++;
        const char *stop = p;
        while (stop < eol && *stop != ';' && *stop != '#')
            stop++;
        char buf[256];
        trim_copy(buf, sizeof buf, p, stop);
        if (buf[0] == '[') {
            char *close = strchr(buf, ']');
            if (!close || close[1] != '\0') {
                snprintf(error, error_size, "line %d: malformed section header '%s'", line, buf);
                return -1;
            }
            trim_copy(section, sizeof section, buf + 1, close);
        } else if (buf[0] != '\0') {
            char *eq = strchr(buf, '=');
            if (!eq) {
                snprintf(error, error_size, "line %d: expected 'key = value', got '%s'", line, buf);
                return -1;
            }
            char key[64], value[128];
            trim_copy(key, sizeof key, buf, eq);
            trim_copy(value, sizeof value, eq + 1, buf + strlen(buf));
            cuda_tuning_t scratch = *t; /* keys of other sections are checked, not applied */
            if (set_key(strcmp(section, wanted) == 0 ? t : &scratch, key, value, line, error,
                        error_size) != 0)
                return -1;
        }
        p = *eol ? eol + 1 : eol;
    }
    return 0;
}

int cuda_tuning_parse(const char *text, const char *arch_section, const char *device_name,
                      cuda_tuning_t *t, char *error, size_t error_size) {
    cuda_tuning_t result = *t;
    if (apply_section(text, "default", &result, error, error_size) != 0) return -1;
    if (arch_section && *arch_section &&
        apply_section(text, arch_section, &result, error, error_size) != 0)
        return -1;
    if (device_name && *device_name &&
        apply_section(text, device_name, &result, error, error_size) != 0)
        return -1;
    *t = result;
    return 0;
}
