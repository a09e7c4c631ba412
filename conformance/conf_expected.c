/*
 * Expected failures, per backend, each with its reason. A listed case that fails is XFAIL (not a
 * failure of the run); a listed case that passes is XPASS, reported so that the entry is removed.
 * Only correctness cases are listed: a utilization case either runs or says why not.
 *
 * The built-in list is for known, accepted gaps of a backend; `xhal conform --expected FILE` adds
 * entries for a run (a new port, a driver bug being chased) without rebuilding. A line of FILE:
 *
 *     backend op dtype case: reason        # "*" matches anything in the first four fields
 *     opencl attention bf16 d256: PoCL 3.1 spills at head_dim 256 (tracked in issue 12)
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

typedef struct builtin_expect {
    const char *backend, *op, *dtype, *name, *reason;
} builtin_expect_t;

static const builtin_expect_t builtin[] = {
    /*
     * None today: the CPU backend passes every case. Add entries here as
     * {"backend", "op", "dtype", "case", "reason (and the issue that tracks it)"}.
     */
    {NULL, NULL, NULL, NULL, NULL},
};

static int field_matches(const char *pattern, const char *value) {
    return strcmp(pattern, "*") == 0 || strcmp(pattern, value) == 0;
}

static int entry_matches(const char *const fields[4], const char *backend, conf_op_t op,
                         xhal_dtype_t dtype, const char *name) {
    return field_matches(fields[0], backend) && field_matches(fields[1], conf_op_name(op)) &&
           field_matches(fields[2], xhal_dtype_name(dtype)) && field_matches(fields[3], name);
}

const char *conf_expect_find(const conf_expect_list_t *extra, const char *backend, conf_op_t op,
                             xhal_dtype_t dtype, const char *name) {
    for (size_t i = 0; builtin[i].backend; i++) {
        const char *fields[4] = {builtin[i].backend, builtin[i].op, builtin[i].dtype,
                                 builtin[i].name};
        if (entry_matches(fields, backend, op, dtype, name)) return builtin[i].reason;
    }
    for (size_t i = 0; extra && i < extra->count; i++) {
        const conf_expect_t *e = &extra->items[i];
        const char *fields[4] = {e->backend, e->op, e->dtype, e->name};
        if (entry_matches(fields, backend, op, dtype, name)) return e->reason;
    }
    return NULL;
}

static char *trim(char *text) {
    while (isspace((unsigned char)*text))
        text++;
    size_t length = strlen(text);
    while (length && isspace((unsigned char)text[length - 1]))
        text[--length] = '\0';
    return text;
}

/* Splits "a b c d: reason" into its fields; 1, or 0 when the line is malformed. */
static int parse_line(char *line, char *fields[5]) {
    char *colon = strchr(line, ':');
    if (!colon) return 0;
    *colon = '\0';
    fields[4] = trim(colon + 1);
    char *save = NULL;
    int count = 0;
    for (char *word = strtok_r(line, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
        if (count == 4) return 0;
        fields[count++] = word;
    }
    return count == 4 && fields[4][0];
}

static int add(conf_expect_list_t *list, char *const fields[5]) {
    conf_expect_t *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (!grown) return -1;
    list->items = grown;
    conf_expect_t *e = &list->items[list->count];
    char **slots[5] = {&e->backend, &e->op, &e->dtype, &e->name, &e->reason};
    memset(e, 0, sizeof *e);
    list->count++; /* counted now, so that conf_expect_free releases a half-made entry */
    for (int i = 0; i < 5; i++)
        if (!(*slots[i] = strdup(fields[i]))) return -1;
    return 0;
}

int conf_expect_load(conf_expect_list_t *list, const char *path, char *error, size_t error_size) {
    FILE *file = fopen(path, "r");
    if (!file) {
        conf_format(error, error_size, "cannot read %s", path);
        return -1;
    }
    char line[1024];
    int number = 0, status = 0;
    while (status == 0 && fgets(line, sizeof line, file)) {
        number++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *text = trim(line);
        if (!*text) continue;
        char *fields[5];
        if (!parse_line(text, fields)) {
            conf_format(error, error_size,
                        "%s:%d: want \"backend op dtype case: reason\" (\"*\" for any)", path,
                        number);
            status = -1;
        } else if (add(list, fields) != 0) {
            conf_format(error, error_size, "out of host memory reading %s", path);
            status = -1;
        }
    }
    fclose(file);
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
