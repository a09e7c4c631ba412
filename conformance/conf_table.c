/*
 * Markdown tables whose columns are padded to their widest cell, so that the same text reads in
 * a terminal and renders as a table on a forge. Cells are fixed-size strings: the tables hold
 * names, shapes and numbers, never prose.
 */
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

void conf_table_init(conf_table_t *t, size_t columns) {
    memset(t, 0, sizeof *t);
    t->columns = columns;
}

char (*conf_table_row(conf_table_t *t))[CONF_CELL] {
    if (t->rows == t->capacity) {
        size_t capacity = t->capacity ? 2 * t->capacity : 16;
        char(*grown)[CONF_CELL] = realloc(t->cells, capacity * t->columns * CONF_CELL);
        if (!grown) return NULL;
        t->cells = grown;
        t->capacity = capacity;
    }
    char(*row)[CONF_CELL] = t->cells + t->rows++ * t->columns;
    memset(row, 0, t->columns * CONF_CELL);
    return row;
}

void conf_table_print(FILE *out, const conf_table_t *t) {
    size_t *widths = calloc(t->columns ? t->columns : 1, sizeof *widths);
    if (!widths || !t->cells) {
        free(widths);
        return;
    }
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->columns; c++) {
            size_t w = strlen(t->cells[r * t->columns + c]);
            if (w > widths[c]) widths[c] = w;
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t c = 0; c < t->columns; c++)
            fprintf(out, "| %-*s ", (int)widths[c], t->cells[r * t->columns + c]);
        fputs("|\n", out);
        if (r == 0) {
            for (size_t c = 0; c < t->columns; c++) {
                fputc('|', out);
                for (size_t i = 0; i < widths[c] + 2; i++)
                    fputc('-', out);
            }
            fputs("|\n", out);
        }
    }
    free(widths);
}

void conf_table_free(conf_table_t *t) {
    free(t->cells);
    memset(t, 0, sizeof *t);
}
