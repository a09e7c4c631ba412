/*
 * report.md (for people) and the console summary. Both use one table writer that pads Markdown
 * columns to their widest cell, so the same table reads in a terminal and renders on a forge.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

#define CELL CONF_CELL

static void table_with_header(conf_table_t *t, const char *const *header, size_t columns) {
    conf_table_init(t, columns);
    char(*row)[CELL] = conf_table_row(t);
    for (size_t c = 0; row && c < columns; c++)
        conf_format(row[c], CELL, "%s", header[c]);
}

/* ---- Number formats ---- */

void conf_human(char *out, size_t size, double value, const char *unit) {
    static const char prefixes[] = " kMGTPE";
    if (!isfinite(value) || value <= 0) {
        conf_format(out, size, "-");
        return;
    }
    int p = 0;
    while (value >= 1000 && p < 6) {
        value /= 1000;
        p++;
    }
    const char *format = value >= 100 ? "%.0f %c%s" : value >= 10 ? "%.1f %c%s" : "%.2f %c%s";
    conf_format(out, size, format, value, prefixes[p], unit);
    if (p == 0) { /* no prefix: drop the blank that held its place */
        char *blank = strstr(out, "  ");
        if (blank) memmove(blank + 1, blank + 2, strlen(blank + 2) + 1);
    }
}

void conf_percent(char *out, size_t size, double fraction) {
    if (!isfinite(fraction))
        conf_format(out, size, "-");
    else
        conf_format(out, size, fraction < 0.1 ? "%.2f%%" : "%.1f%%", 100 * fraction);
}

/* ---- The utilization table ---- */

static const char *bound_word(const conf_perf_t *p, double peak_flops) {
    if (!isfinite(p->bound)) return "-";
    if (p->flops <= 0) return "memory";
    return p->bound < peak_flops ? "memory" : "compute";
}

static void perf_row(char (*row)[CELL], size_t index, const conf_perf_t *p, const conf_run_t *run) {
    conf_format(row[0], CELL, "%zu", index);
    conf_format(row[1], CELL, "%s", p->id);
    conf_format(row[2], CELL, "%s", p->op == CONF_OP_COPY ? "-" : xhal_dtype_name(p->dtype));
    conf_format(row[3], CELL, "%s", p->shape);
    conf_format(row[4], CELL, isfinite(p->ms) ? "%.3f" : "-", p->ms);
    conf_human(row[5], CELL, p->flops_per_s, "FLOP/s");
    conf_human(row[6], CELL, p->bytes_per_s, "B/s");
    conf_format(row[7], CELL, isfinite(p->intensity) && p->flops > 0 ? "%.1f" : "-", p->intensity);
    conf_percent(row[8], CELL, p->mfu);
    conf_percent(row[9], CELL, p->mbu);
    conf_percent(row[10], CELL, p->roofline);
    conf_format(row[11], CELL, "%s", bound_word(p, run->peaks.flops[p->dtype]));
}

static const char *const perf_header[] = {"#",   "case",   "dtype", "shape", "ms",         "FLOP/s",
                                          "B/s", "FLOP/B", "MFU",   "MBU",   "% roofline", "bound"};

void conf_print_perf_table(FILE *out, const conf_run_t *run) {
    conf_table_t t;
    table_with_header(&t, perf_header, 12);
    size_t index = 0;
    for (size_t i = 0; i < run->perf_count; i++) {
        const conf_perf_t *p = &run->perfs[i];
        if (p->outcome == CONF_SKIP) continue;
        char(*row)[CELL] = conf_table_row(&t);
        if (!row) break;
        perf_row(row, ++index, p, run);
        if (p->outcome == CONF_FAIL) conf_format(row[4], CELL, "FAIL");
    }
    conf_table_print(out, &t);
    conf_table_free(&t);
}

/* The cases that were not measured, with why, and the notes of those that were (by row). */
static void print_notes(FILE *out, const conf_run_t *run, const char *bullet) {
    size_t row = 0;
    for (size_t i = 0; i < run->perf_count; i++) {
        const conf_perf_t *p = &run->perfs[i];
        const char *dtype = p->op == CONF_OP_COPY ? "" : xhal_dtype_name(p->dtype);
        if (p->outcome != CONF_SKIP) row++;
        if (p->outcome != CONF_PASS)
            fprintf(out, "%s%s %s %s (%s): %s\n", bullet, conf_outcome_name(p->outcome), p->id,
                    dtype, p->shape, p->note);
        else if (p->note[0])
            fprintf(out, "%sNOTE #%zu %s %s: %s\n", bullet, row, p->id, dtype, p->note);
    }
}

/* ---- Correctness ---- */

static void check_row(char (*row)[CELL], const conf_check_t *c) {
    conf_format(row[0], CELL, "%s", conf_op_name(c->op));
    conf_format(row[1], CELL, "%s", xhal_dtype_name(c->dtype));
    conf_format(row[2], CELL, "%s", c->name);
    conf_format(row[3], CELL, "%s", c->shape);
    conf_format(row[4], CELL, "%s", conf_outcome_name(c->outcome));
    conf_format(row[5], CELL, isfinite(c->rel_error) ? "%.2e" : "-", c->rel_error);
    conf_format(row[6], CELL, c->bound > 0 ? "%.0e" : "-", c->bound);
    conf_format(row[7], CELL, isfinite(c->ms) ? "%.3f" : "-", c->ms);
}

static const char *const check_header[] = {"op",     "dtype",      "case",  "shape",
                                           "result", "rel. error", "bound", "ms"};

static void counts_line(FILE *out, const conf_run_t *run) {
    fprintf(out,
            "%zu passed, %zu failed, %zu skipped, %zu expected failures, %zu unexpected passes",
            run->passed, run->failed, run->skipped, run->xfailed, run->xpassed);
}

void conf_print_summary(FILE *out, const conf_run_t *run, int verbose) {
    fprintf(out, "\n== %s: %s (%s) ==\n", run->device.spec, run->device.name, run->device.backend);
    if (run->error[0]) fprintf(out, "ERROR: %s\n", run->error);
    if (run->check_count) {
        fprintf(out, "correctness: ");
        counts_line(out, run);
        fputc('\n', out);
        for (size_t i = 0; i < run->check_count; i++) {
            const conf_check_t *c = &run->checks[i];
            if (c->outcome == CONF_PASS && !verbose) continue;
            fprintf(out, "  %-5s %-9s %-4s %-20s %-36s %s\n", conf_outcome_name(c->outcome),
                    conf_op_name(c->op), xhal_dtype_name(c->dtype), c->name, c->shape, c->note);
        }
    }
    if (run->perf_count) {
        fprintf(out,
                "utilization: %zu measured, %zu not run, %zu failed; peaks used:", run->measured,
                run->perf_skipped, run->perf_failed);
        char text[32];
        for (int d = 0; d < XHAL_DTYPE_COUNT; d++) {
            conf_human(text, sizeof text, run->peaks.flops[d], "FLOP/s");
            fprintf(out, " %s %s (%s),", xhal_dtype_name((xhal_dtype_t)d), text,
                    run->peaks.flops_used[d]);
        }
        conf_human(text, sizeof text, run->peaks.bandwidth, "B/s");
        fprintf(out, " bandwidth %s (%s)\n", text, run->peaks.bandwidth_used);
        conf_print_perf_table(out, run);
        print_notes(out, run, "  ");
    }
}

/* ---- report.md ---- */

static void peak_cells(char (*row)[CELL], const char *figure, double device, const char *source,
                       double measured, const char *method, const char *used, const char *unit) {
    char value[32];
    conf_format(row[0], CELL, "%s", figure);
    conf_human(value, sizeof value, device, unit);
    conf_format(row[1], CELL, "%s%s%s%s", value, device > 0 ? " (" : "", device > 0 ? source : "",
                device > 0 ? ")" : "");
    conf_human(value, sizeof value, measured, unit);
    conf_format(row[2], CELL, "%s%s%s%s", value, measured > 0 ? " (" : "",
                measured > 0 ? method : "", measured > 0 ? ")" : "");
    conf_format(row[3], CELL, "%s", used);
}

static void write_peaks(FILE *out, const conf_run_t *run) {
    static const char *const header[] = {"figure", "device (datasheet or derived)", "measured",
                                         "used"};
    const conf_peaks_t *p = &run->peaks;
    conf_table_t t;
    table_with_header(&t, header, 4);
    char word[16];
    conf_format(word, sizeof word, "%s", p->device_source[0] == 'd' ? p->device_source : "device");
    *strchrnul(word, ':') = '\0';
    for (int d = 0; d < XHAL_DTYPE_COUNT; d++) {
        char(*row)[CELL] = conf_table_row(&t), figure[32];
        if (!row) break;
        conf_format(figure, sizeof figure, "%s FLOP/s", xhal_dtype_name((xhal_dtype_t)d));
        peak_cells(row, figure, p->device_flops[d], word, p->measured.flops[d],
                   p->measured.flops_method[d], p->flops_used[d], "FLOP/s");
    }
    char(*row)[CELL] = conf_table_row(&t);
    if (row)
        peak_cells(row, "bandwidth", p->device_bandwidth, word, p->measured.bandwidth,
                   p->measured.bandwidth_method, p->bandwidth_used, "B/s");
    conf_table_print(out, &t);
    conf_table_free(&t);
    fprintf(out, "\nDevice figures: %s. Measured figures: %s.\n",
            p->device_source[0] ? p->device_source : "none reported",
            p->measured.origin[0] ? p->measured.origin : "none (run `xhal peak`)");
}

static void write_header(FILE *out, const conf_run_t *run) {
    const xhal_device_info_t *d = &run->device;
    fprintf(out, "# xhal conformance report: %s (%s)\n\n", d->name, d->spec);
    fprintf(out, "| | |\n|---|---|\n");
    fprintf(out, "| device | %s, %s, backend %s, %s |\n", d->name, d->vendor, d->backend,
            d->architecture);
    fprintf(out, "| driver | %s |\n", d->driver[0] ? d->driver : "-");
    fprintf(out, "| tuning | %s |\n", d->tuning[0] ? d->tuning : "-");
    fprintf(out, "| memory, units, clock | %.1f GiB, %u units, %.2f GHz |\n",
            (double)d->memory_bytes / (1024.0 * 1024 * 1024), (unsigned)d->compute_units,
            d->clock_ghz);
    fprintf(out, "| xhal | %s, commit %s |\n", run->version, run->commit);
    fprintf(out, "| date | %s |\n", run->date);
    fprintf(out, "| settings | %s |\n\n", run->settings);
    if (run->error[0]) fprintf(out, "**The run stopped early:** %s\n\n", run->error);
}

static void write_correctness(FILE *out, const conf_run_t *run) {
    fprintf(out, "## Correctness\n\n");
    counts_line(out, run);
    fprintf(out,
            ". Inputs are seeded random values in [-1, 1] (never 0) rounded to the dtype; "
            "outputs are poisoned with NaN first; every output is compared with an fp64 "
            "reference by relative Frobenius error; padding and inputs must be unchanged.\n\n");
    conf_table_t t;
    table_with_header(&t, check_header, 8);
    for (size_t i = 0; i < run->check_count; i++) {
        char(*row)[CELL] = conf_table_row(&t);
        if (!row) break;
        check_row(row, &run->checks[i]);
    }
    conf_table_print(out, &t);
    conf_table_free(&t);
    int notes = 0;
    for (size_t i = 0; i < run->check_count; i++) {
        const conf_check_t *c = &run->checks[i];
        if (!c->note[0]) continue;
        if (!notes++) fprintf(out, "\nNotes:\n\n");
        fprintf(out, "- %s %s %s %s: %s\n", conf_outcome_name(c->outcome), conf_op_name(c->op),
                xhal_dtype_name(c->dtype), c->name, c->note);
    }
    fputc('\n', out);
}

static void write_utilization(FILE *out, const conf_run_t *run) {
    fprintf(out, "## Utilization\n\n");
    fprintf(out,
            "%zu cases measured, %zu not run, %zu failed. Time: the median of the timed runs "
            "after a warm-up, between the stream's events. MFU = FLOP/s / peak FLOP/s of the "
            "dtype; MBU = bytes/s / peak bandwidth (minimum bytes: inputs read once, outputs "
            "written once); %% roofline = FLOP/s / min(peak FLOP/s, FLOP/B x bandwidth) "
            "(for copy: MBU).\n\n",
            run->measured, run->perf_skipped, run->perf_failed);
    fprintf(out, "![roofline](roofline.svg)\n\n![%% of roofline](roofline_pct.svg)\n\n");
    conf_print_perf_table(out, run);
    int any = 0;
    for (size_t i = 0; i < run->perf_count; i++)
        any |= run->perfs[i].outcome != CONF_PASS || run->perfs[i].note[0];
    if (any) {
        fprintf(out, "\nNot measured, and notes:\n\n");
        print_notes(out, run, "- ");
    }
}

int conf_write_markdown(const conf_run_t *run, const char *path, char *error, size_t error_size) {
    FILE *out = fopen(path, "w");
    if (!out) {
        conf_format(error, error_size, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    write_header(out, run);
    fprintf(out, "## Peaks\n\n");
    write_peaks(out, run);
    fputc('\n', out);
    if (run->options.correctness) write_correctness(out, run);
    if (run->options.utilization) write_utilization(out, run);
    int failed = ferror(out);
    if (fclose(out) != 0 || failed) {
        conf_format(error, error_size, "cannot write %s", path);
        return -1;
    }
    return 0;
}
