/*
 * `xhal compare`: runs from different devices or vendors side by side. Cases are matched by their
 * id and dtype, which stay the same across devices while the shape may be scaled to each device's
 * budget (the shape column says so when the runs differ). One table of the runs (device, backend,
 * driver, commit, correctness, peaks used), one table of the cases (FLOP/s, bytes/s, MFU, MBU and
 * % of roofline per run), and one bar chart of % of roofline with a bar per run.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "xc_file.h"

#define RUN_COLUMNS 5

typedef struct loaded {
    conf_json_t *root;
    const conf_json_t *cases; /* the "utilization" array */
    char label[64];
} loaded_t;

typedef struct row {
    const char *id, *dtype;
} row_t;

static char *read_file(const char *path, char *error, size_t error_size) {
    FILE *file = fopen(path, "rb");
    if (!file) {
        conf_format(error, error_size, "cannot read %s", path);
        return NULL;
    }
    size_t size = 0, capacity = 1 << 16;
    char *text = malloc(capacity);
    while (text) {
        size += fread(text + size, 1, capacity - size - 1, file);
        if (size < capacity - 1) break;
        char *grown = realloc(text, capacity *= 2);
        if (!grown) free(text);
        text = grown;
    }
    fclose(file);
    if (!text) conf_format(error, error_size, "out of host memory reading %s", path);
    if (text) text[size] = '\0';
    return text;
}

static int load(loaded_t *run, const char *path, char *error, size_t error_size) {
    char *text = read_file(path, error, error_size);
    if (!text) return -1;
    char message[256];
    run->root = conf_json_parse(text, message, sizeof message);
    free(text);
    if (!run->root) {
        conf_format(error, error_size, "%s: %s", path, message);
        return -1;
    }
    if (strcmp(conf_json_str(conf_json_get(run->root, "format"), ""), "xhal-conform-report") != 0) {
        conf_format(error, error_size, "%s is not an xhal conform report.json", path);
        return -1;
    }
    run->cases = conf_json_get(run->root, "utilization");
    if (!run->cases || run->cases->type != CONF_JSON_ARRAY) {
        conf_format(error, error_size, "%s has no utilization array", path);
        return -1;
    }
    return 0;
}

static const conf_json_t *device_field(const loaded_t *run, const char *key) {
    return conf_json_get(conf_json_get(run->root, "device"), key);
}

/* A short, unique label per run: the device spec, with "#2" and on for repeats. */
static void label_runs(loaded_t *runs, size_t count) {
    for (size_t i = 0; i < count; i++) {
        const char *spec = conf_json_str(device_field(&runs[i], "spec"), "?");
        size_t same = 0;
        for (size_t j = 0; j < i; j++)
            same += strcmp(conf_json_str(device_field(&runs[j], "spec"), "?"), spec) == 0;
        if (same)
            conf_format(runs[i].label, sizeof runs[i].label, "%s#%zu", spec, same + 1);
        else
            conf_format(runs[i].label, sizeof runs[i].label, "%s", spec);
    }
}

static const conf_json_t *find_case(const loaded_t *run, const char *id, const char *dtype) {
    for (size_t i = 0; i < run->cases->count; i++) {
        const conf_json_t *c = run->cases->items[i];
        if (strcmp(conf_json_str(conf_json_get(c, "id"), ""), id) == 0 &&
            strcmp(conf_json_str(conf_json_get(c, "dtype"), ""), dtype) == 0)
            return c;
    }
    return NULL;
}

/* Every (id, dtype) of any run, in the order of first appearance. */
static row_t *collect_rows(const loaded_t *runs, size_t count, size_t *out_count) {
    size_t total = 0, n = 0;
    for (size_t r = 0; r < count; r++)
        total += runs[r].cases->count;
    row_t *rows = calloc(total ? total : 1, sizeof *rows);
    if (!rows) return NULL;
    for (size_t r = 0; r < count; r++)
        for (size_t i = 0; i < runs[r].cases->count; i++) {
            const conf_json_t *c = runs[r].cases->items[i];
            const char *id = conf_json_str(conf_json_get(c, "id"), NULL);
            const char *dtype = conf_json_str(conf_json_get(c, "dtype"), "");
            int seen = !id;
            for (size_t k = 0; k < n && !seen; k++)
                seen = strcmp(rows[k].id, id) == 0 && strcmp(rows[k].dtype, dtype) == 0;
            if (!seen) rows[n++] = (row_t){id, dtype};
        }
    *out_count = n;
    return rows;
}

static void runs_table(FILE *out, const loaded_t *runs, size_t count) {
    static const char *const header[] = {
        "run",  "device", "backend",     "driver",
        "xhal", "date",   "correctness", "peaks used (f32/f16/bf16, bw)"};
    conf_table_t t;
    conf_table_init(&t, 8);
    char(*row)[CONF_CELL] = conf_table_row(&t);
    for (size_t c = 0; row && c < 8; c++)
        conf_format(row[c], CONF_CELL, "%s", header[c]);
    for (size_t r = 0; r < count; r++) {
        const loaded_t *run = &runs[r];
        if (!(row = conf_table_row(&t))) break;
        const conf_json_t *summary = conf_json_get(run->root, "summary");
        const conf_json_t *used = conf_json_get(conf_json_get(run->root, "peaks"), "used");
        const conf_json_t *flops = conf_json_get(used, "flops");
        conf_format(row[0], CONF_CELL, "%s", run->label);
        conf_format(row[1], CONF_CELL, "%s", conf_json_str(device_field(run, "name"), "?"));
        conf_format(row[2], CONF_CELL, "%s", conf_json_str(device_field(run, "backend"), "?"));
        const char *driver = conf_json_str(device_field(run, "driver"), "");
        conf_format(row[3], CONF_CELL, "%s", driver[0] ? driver : "-");
        conf_format(row[4], CONF_CELL, "%s (%s)",
                    conf_json_str(conf_json_get(run->root, "xhal_version"), "?"),
                    conf_json_str(conf_json_get(run->root, "commit"), "?"));
        conf_format(row[5], CONF_CELL, "%s", conf_json_str(conf_json_get(run->root, "date"), "?"));
        conf_format(row[6], CONF_CELL, "%.0f passed, %.0f failed, %.0f skipped",
                    conf_json_num(conf_json_get(summary, "passed")),
                    conf_json_num(conf_json_get(summary, "failed")),
                    conf_json_num(conf_json_get(summary, "skipped")));
        char text[32];
        for (int d = 0; d < XHAL_DTYPE_COUNT; d++) {
            conf_human(text, sizeof text,
                       conf_json_num(conf_json_get(flops, xhal_dtype_name((xhal_dtype_t)d))),
                       "FLOP/s");
            conf_append(row[7], CONF_CELL, "%s / ", text);
        }
        conf_human(text, sizeof text, conf_json_num(conf_json_get(used, "bandwidth")), "B/s");
        conf_append(row[7], CONF_CELL, "%s", text);
    }
    conf_table_print(out, &t);
    conf_table_free(&t);
}

/* The shape of a row: one text when every run that has it ran the same, else each run's. */
static void shape_cell(char *out, const loaded_t *runs, size_t count, const row_t *row) {
    const char *first = NULL;
    int differ = 0;
    for (size_t r = 0; r < count; r++) {
        const char *shape =
            conf_json_str(conf_json_get(find_case(&runs[r], row->id, row->dtype), "shape"), NULL);
        if (!shape) continue;
        if (!first) first = shape;
        differ |= strcmp(first, shape) != 0;
    }
    conf_format(out, CONF_CELL, "%s", first ? first : "-");
    if (!differ) return;
    out[0] = '\0';
    for (size_t r = 0; r < count; r++) {
        const char *shape =
            conf_json_str(conf_json_get(find_case(&runs[r], row->id, row->dtype), "shape"), "-");
        conf_append(out, CONF_CELL, "%s%s: %s", r ? "; " : "", runs[r].label, shape);
    }
}

static void cases_table(FILE *out, const loaded_t *runs, size_t count, const row_t *rows,
                        size_t row_count, double *roofline) {
    static const char *const metrics[RUN_COLUMNS] = {"FLOP/s", "B/s", "MFU", "MBU", "% roof"};
    size_t columns = 3 + RUN_COLUMNS * count;
    conf_table_t t;
    conf_table_init(&t, columns);
    char(*cells)[CONF_CELL] = conf_table_row(&t);
    if (cells) {
        conf_format(cells[0], CONF_CELL, "case");
        conf_format(cells[1], CONF_CELL, "dtype");
        conf_format(cells[2], CONF_CELL, "shape");
        for (size_t r = 0; r < count; r++)
            for (int m = 0; m < RUN_COLUMNS; m++)
                conf_format(cells[3 + r * RUN_COLUMNS + m], CONF_CELL, "%s %s", runs[r].label,
                            metrics[m]);
    }
    for (size_t i = 0; i < row_count; i++) {
        if (!(cells = conf_table_row(&t))) break;
        conf_format(cells[0], CONF_CELL, "%s", rows[i].id);
        conf_format(cells[1], CONF_CELL, "%s",
                    strcmp(rows[i].id, "copy.d2d") ? rows[i].dtype : "-");
        shape_cell(cells[2], runs, count, &rows[i]);
        for (size_t r = 0; r < count; r++) {
            const conf_json_t *c = find_case(&runs[r], rows[i].id, rows[i].dtype);
            char(*cell)[CONF_CELL] = cells + 3 + r * RUN_COLUMNS;
            const char *outcome = conf_json_str(conf_json_get(c, "outcome"), "-");
            roofline[i * count + r] = NAN;
            if (!c || strcmp(outcome, "PASS") != 0) {
                conf_format(cell[0], CONF_CELL, "%s", c ? outcome : "-");
                for (int m = 1; m < RUN_COLUMNS; m++)
                    conf_format(cell[m], CONF_CELL, "-");
                continue;
            }
            conf_human(cell[0], CONF_CELL, conf_json_num(conf_json_get(c, "flops_per_s")),
                       "FLOP/s");
            conf_human(cell[1], CONF_CELL, conf_json_num(conf_json_get(c, "bytes_per_s")), "B/s");
            conf_percent(cell[2], CONF_CELL, conf_json_num(conf_json_get(c, "mfu")));
            conf_percent(cell[3], CONF_CELL, conf_json_num(conf_json_get(c, "mbu")));
            double roof = conf_json_num(conf_json_get(c, "roofline"));
            conf_percent(cell[4], CONF_CELL, roof);
            roofline[i * count + r] = 100 * roof;
        }
    }
    conf_table_print(out, &t);
    conf_table_free(&t);
}

static void write_tables(FILE *out, const loaded_t *runs, size_t count, const row_t *rows,
                         size_t row_count, double *roofline) {
    fprintf(out, "# xhal compare\n\n## Runs\n\n");
    runs_table(out, runs, count);
    fprintf(out, "\n## Utilization side by side\n\nCases are matched by id and dtype; a device's "
                 "budget may scale a shape, which the shape column then gives per run. MFU and "
                 "MBU are against each run's own peaks (see Runs).\n\n");
    cases_table(out, runs, count, rows, row_count, roofline);
}

static int write_outputs(const loaded_t *runs, size_t count, const char *out_dir, FILE *table_out,
                         char *error, size_t error_size) {
    size_t row_count = 0;
    row_t *rows = collect_rows(runs, count, &row_count);
    double *roofline = calloc(row_count * count + 1, sizeof *roofline);
    const char **labels = calloc(row_count + 1, sizeof *labels),
               **names = calloc(count, sizeof *names);
    char(*label_text)[96] = calloc(row_count + 1, sizeof *label_text);
    int status = -1;
    if (!rows || !roofline || !labels || !names || !label_text) {
        conf_format(error, error_size, "out of host memory");
    } else {
        if (table_out) write_tables(table_out, runs, count, rows, row_count, roofline);
        status = 0;
        if (out_dir) {
            char path[4096];
            FILE *md = NULL;
            conf_format(path, sizeof path, "%s/compare.md", out_dir);
            if (xc_mkdirs(out_dir) != 0 || !(md = fopen(path, "w"))) {
                conf_format(error, error_size, "cannot write %s", path);
                status = -1;
            } else {
                write_tables(md, runs, count, rows, row_count, roofline);
                fprintf(md, "\n![%% of roofline](compare.svg)\n");
                if (fclose(md) != 0) status = -1;
            }
            for (size_t i = 0; i < row_count; i++) {
                int copy = strcmp(rows[i].id, "copy.d2d") == 0;
                conf_format(label_text[i], sizeof label_text[i], "%s %s", rows[i].id,
                            copy ? "" : rows[i].dtype);
                labels[i] = label_text[i];
            }
            for (size_t r = 0; r < count; r++)
                names[r] = runs[r].label;
            conf_bar_chart_t chart = {.title = "% of roofline, side by side",
                                      .axis = "% of roofline (each run against its own peaks)",
                                      .rows = row_count,
                                      .series = count,
                                      .labels = labels,
                                      .names = names,
                                      .values = roofline};
            conf_format(path, sizeof path, "%s/compare.svg", out_dir);
            if (status == 0) status = conf_chart_bars(&chart, path, error, error_size);
        }
    }
    free(rows);
    free(roofline);
    free(labels);
    free(names);
    free(label_text);
    return status;
}

int conf_compare(const char *const *paths, size_t count, const char *out_dir, FILE *table_out,
                 char *error, size_t error_size) {
    loaded_t *runs = calloc(count ? count : 1, sizeof *runs);
    if (!runs) {
        conf_format(error, error_size, "out of host memory");
        return -1;
    }
    int status = 0;
    for (size_t i = 0; status == 0 && i < count; i++)
        status = load(&runs[i], paths[i], error, error_size);
    if (status == 0) {
        label_runs(runs, count);
        status = write_outputs(runs, count, out_dir, table_out, error, error_size);
    }
    for (size_t i = 0; i < count; i++)
        conf_json_free(runs[i].root);
    free(runs);
    return status;
}
