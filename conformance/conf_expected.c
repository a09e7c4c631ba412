/*
 * Expected failures, per backend, each with its reason. A listed case that fails is XFAIL (not a
 * failure of the run); a listed case that passes is XPASS, reported so that the entry is removed.
 * Only correctness cases are listed: a utilization case either runs or says why not.
 *
 * A backend keeps its known, accepted gaps in backends/<name>/expected.ini, which its acceptance
 * test (`xhal conform --device <name> --expected ...`, see xhal_backend_acceptance() in
 * cmake/xhal_backend.cmake) passes; `--expected FILE` also serves a run chasing a driver bug.
 * The file is INI (backends/common/xc_ini.h): a section per backend ("*" for any), a key per
 * case, "op dtype case" with "*" matching any value of a field, and the reason as its value:
 *
 *     [opencl]
 *     attention bf16 d256 = PoCL 3.1 spills at head_dim 256 (tracked in issue 12)
 */
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "xc_ini.h"

static int field_matches(const char *pattern, const char *value) {
    return strcmp(pattern, "*") == 0 || strcmp(pattern, value) == 0;
}

const char *conf_expect_find(const conf_expect_list_t *list, const char *backend, conf_op_t op,
                             xhal_dtype_t dtype, const char *name) {
    for (size_t i = 0; list && i < list->count; i++) {
        const conf_expect_t *e = &list->items[i];
        if (field_matches(e->backend, backend) && field_matches(e->op, conf_op_name(op)) &&
            field_matches(e->dtype, xhal_dtype_name(dtype)) && field_matches(e->name, name))
            return e->reason;
    }
    return NULL;
}

/* Splits "op dtype case" into its three words (in `copy`); 1, or 0 when it is not three. */
static int split_key(const char *key, char *copy, size_t size, char *words[3]) {
    snprintf(copy, size, "%s", key);
    char *save = NULL;
    int count = 0;
    for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (count == 3) return 0;
        words[count++] = w;
    }
    return count == 3;
}

static int add(conf_expect_list_t *list, const char *backend, char *const words[3],
               const char *reason) {
    conf_expect_t *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (!grown) return -1;
    list->items = grown;
    conf_expect_t *e = &list->items[list->count];
    memset(e, 0, sizeof *e);
    list->count++; /* counted now, so that conf_expect_free releases a half-made entry */
    const char *values[5] = {backend, words[0], words[1], words[2], reason};
    char **slots[5] = {&e->backend, &e->op, &e->dtype, &e->name, &e->reason};
    for (int i = 0; i < 5; i++)
        if (!(*slots[i] = strdup(values[i]))) return -1;
    return 0;
}

int conf_expect_load(conf_expect_list_t *list, const char *path, char *error, size_t error_size) {
    xc_ini_t *ini = xc_ini_load(path, error, error_size);
    if (!ini) return -1;
    int status = 0;
    for (size_t s = 0; status == 0 && s < xc_ini_section_count(ini); s++) {
        const char *backend = xc_ini_section_name(ini, s);
        for (size_t i = 0; status == 0 && i < xc_ini_key_count(ini, s); i++) {
            const char *reason = NULL;
            int line = 0;
            const char *key = xc_ini_key_at(ini, s, i, &reason, &line);
            char copy[XC_INI_MAX_NAME + 1], *words[3];
            if (!backend[0] || !split_key(key, copy, sizeof copy, words) || !reason[0]) {
                conf_format(error, error_size,
                            "%s line %d: want \"op dtype case = reason\" (\"*\" for any) in a "
                            "[backend] section",
                            path, line);
                status = -1;
            } else if (add(list, backend, words, reason) != 0) {
                conf_format(error, error_size, "out of host memory reading %s", path);
                status = -1;
            }
        }
    }
    xc_ini_free(ini);
    return status;
}

void conf_expect_free(conf_expect_list_t *list) {
    for (size_t i = 0; i < list->count; i++) {
        conf_expect_t *e = &list->items[i];
        free(e->backend);
        free(e->op);
        free(e->dtype);
        free(e->name);
        free(e->reason);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}
