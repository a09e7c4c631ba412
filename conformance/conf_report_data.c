/*
 * report.json and report.csv, for machines. The JSON holds everything (format
 * "xhal-conform-report", version 1; `xhal compare` reads it back); the CSV is one flat row per
 * case, correctness and utilization alike, with the run's identity repeated on every row so that
 * files from many devices concatenate into one sheet. Unknown numbers are null (JSON) or empty
 * (CSV), never 0.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "conf_internal.h"

#define FORMAT_VERSION 1

/* ---- JSON ---- */

static void key(FILE *out, int indent, const char *name) {
    fprintf(out, "%*s", indent, "");
    conf_json_string(out, name);
    fputs(": ", out);
}

static void field_string(FILE *out, int indent, const char *name, const char *value, int last) {
    key(out, indent, name);
    conf_json_string(out, value);
    fputs(last ? "\n" : ",\n", out);
}

static void field_number(FILE *out, int indent, const char *name, double value, int last) {
    key(out, indent, name);
    conf_json_number(out, value);
    fputs(last ? "\n" : ",\n", out);
}

/* {"f32": x, "f16": y, "bf16": z} */
static void per_dtype(FILE *out, const double values[XHAL_DTYPE_COUNT]) {
    fputc('{', out);
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        fprintf(out, "%s\"%s\": ", t ? ", " : "", xhal_dtype_name((xhal_dtype_t)t));
        conf_json_number(out, values[t] > 0 ? values[t] : NAN);
    }
    fputc('}', out);
}

static void json_device(FILE *out, const xhal_device_info_t *d) {
    static const char *const types[] = {"cpu", "gpu", "accelerator"};
    fputs("  \"device\": {\n", out);
    field_string(out, 4, "spec", d->spec, 0);
    field_string(out, 4, "name", d->name, 0);
    field_string(out, 4, "vendor", d->vendor, 0);
    field_string(out, 4, "backend", d->backend, 0);
    field_string(out, 4, "type", (unsigned)d->type < 3 ? types[d->type] : "unknown", 0);
    field_string(out, 4, "architecture", d->architecture, 0);
    field_string(out, 4, "driver", d->driver, 0);
    field_string(out, 4, "tuning", d->tuning, 0);
    field_number(out, 4, "memory_bytes", (double)d->memory_bytes, 0);
    field_number(out, 4, "compute_units", (double)d->compute_units, 0);
    field_number(out, 4, "clock_ghz", d->clock_ghz > 0 ? d->clock_ghz : NAN, 1);
    fputs("  },\n", out);
}

static void json_peaks(FILE *out, const conf_peaks_t *p) {
    fputs("  \"peaks\": {\n    \"used\": {\"flops\": ", out);
    per_dtype(out, p->flops);
    fputs(", \"bandwidth\": ", out);
    conf_json_number(out, p->bandwidth > 0 ? p->bandwidth : NAN);
    fputs(", \"flops_source\": {", out);
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        fprintf(out, "%s\"%s\": ", t ? ", " : "", xhal_dtype_name((xhal_dtype_t)t));
        conf_json_string(out, p->flops_used[t]);
    }
    fputs("}, \"bandwidth_source\": ", out);
    conf_json_string(out, p->bandwidth_used);
    fputs("},\n    \"device\": {\"flops\": ", out);
    per_dtype(out, p->device_flops);
    fputs(", \"bandwidth\": ", out);
    conf_json_number(out, p->device_bandwidth > 0 ? p->device_bandwidth : NAN);
    fputs(", \"source\": ", out);
    conf_json_string(out, p->device_source);
    fputs("},\n    \"measured\": {\"flops\": ", out);
    per_dtype(out, p->measured.flops);
    fputs(", \"fma\": ", out);
    per_dtype(out, p->measured.fma);
    fputs(", \"gemm\": ", out);
    per_dtype(out, p->measured.gemm);
    fputs(", \"bandwidth\": ", out);
    conf_json_number(out, p->measured.bandwidth > 0 ? p->measured.bandwidth : NAN);
    fputs(", \"origin\": ", out);
    conf_json_string(out, p->measured.origin);
    fputs("}\n  },\n", out);
}

static void json_check(FILE *out, const conf_check_t *c, int last) {
    fputs("    {", out);
    fputs("\"op\": ", out);
    conf_json_string(out, conf_op_name(c->op));
    fputs(", \"dtype\": ", out);
    conf_json_string(out, xhal_dtype_name(c->dtype));
    fputs(", \"case\": ", out);
    conf_json_string(out, c->name);
    fputs(", \"shape\": ", out);
    conf_json_string(out, c->shape);
    fputs(", \"outcome\": ", out);
    conf_json_string(out, conf_outcome_name(c->outcome));
    fputs(", \"rel_error\": ", out);
    conf_json_number(out, c->rel_error);
    fputs(", \"bound\": ", out);
    conf_json_number(out, c->bound > 0 ? c->bound : NAN);
    fputs(", \"max_abs_error\": ", out);
    conf_json_number(out, isfinite(c->rel_error) ? c->max_abs_error : NAN);
    fprintf(out, ", \"non_finite\": %llu, \"outside_writes\": %llu, \"inputs_changed\": %llu",
            (unsigned long long)c->non_finite, (unsigned long long)c->outside_writes,
            (unsigned long long)c->inputs_changed);
    fputs(", \"ms\": ", out);
    conf_json_number(out, c->ms);
    fputs(", \"note\": ", out);
    conf_json_string(out, c->note);
    fputs(last ? "}\n" : "},\n", out);
}

static void json_perf(FILE *out, const conf_perf_t *p, int last) {
    fputs("    {\"id\": ", out);
    conf_json_string(out, p->id);
    fputs(", \"op\": ", out);
    conf_json_string(out, conf_op_name(p->op));
    fputs(", \"group\": ", out);
    conf_json_string(out, p->group);
    fputs(", \"dtype\": ", out);
    conf_json_string(out, xhal_dtype_name(p->dtype));
    fputs(", \"shape\": ", out);
    conf_json_string(out, p->shape);
    fputs(", \"outcome\": ", out);
    conf_json_string(out, conf_outcome_name(p->outcome));
    const struct {
        const char *name;
        double value;
    } numbers[] = {
        {"flops", p->flops},
        {"bytes", p->bytes},
        {"ms", p->ms},
        {"ms_min", p->ms_min},
        {"repeats", p->repeats},
        {"copies", p->copies},
        {"flops_per_s", p->flops > 0 ? p->flops_per_s : NAN},
        {"bytes_per_s", p->bytes_per_s},
        {"intensity", p->flops > 0 ? p->intensity : NAN},
        {"mfu", p->mfu},
        {"mbu", p->mbu},
        {"roofline", p->roofline},
        {"bound", p->bound},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        fprintf(out, ", \"%s\": ", numbers[i].name);
        int measured_only = i >= 2 && p->outcome != CONF_PASS;
        conf_json_number(out, measured_only ? NAN : numbers[i].value);
    }
    fputs(", \"note\": ", out);
    conf_json_string(out, p->note);
    fputs(last ? "}\n" : "},\n", out);
}

int conf_write_json(const conf_run_t *run, const char *path, char *error, size_t error_size) {
    FILE *out = fopen(path, "w");
    if (!out) {
        conf_format(error, error_size, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(out, "{\n  \"format\": \"xhal-conform-report\",\n  \"format_version\": %d,\n",
            FORMAT_VERSION);
    field_string(out, 2, "xhal_version", run->version, 0);
    field_string(out, 2, "commit", run->commit, 0);
    field_string(out, 2, "date", run->date, 0);
    field_string(out, 2, "settings", run->settings, 0);
    field_string(out, 2, "error", run->error, 0);
    json_device(out, &run->device);
    json_peaks(out, &run->peaks);
    fprintf(out,
            "  \"summary\": {\"passed\": %zu, \"failed\": %zu, \"skipped\": %zu, \"xfail\": %zu, "
            "\"xpass\": %zu, \"measured\": %zu, \"not_run\": %zu, \"perf_failed\": %zu},\n",
            run->passed, run->failed, run->skipped, run->xfailed, run->xpassed, run->measured,
            run->perf_skipped, run->perf_failed);
    fputs("  \"correctness\": [\n", out);
    for (size_t i = 0; i < run->check_count; i++)
        json_check(out, &run->checks[i], i + 1 == run->check_count);
    fputs("  ],\n  \"utilization\": [\n", out);
    for (size_t i = 0; i < run->perf_count; i++)
        json_perf(out, &run->perfs[i], i + 1 == run->perf_count);
    fputs("  ]\n}\n", out);
    int failed = ferror(out);
    if (fclose(out) != 0 || failed) {
        conf_format(error, error_size, "cannot write %s", path);
        return -1;
    }
    return 0;
}

/* ---- CSV ---- */

/* A field, quoted when it holds a comma, quote or newline (RFC 4180). */
static void csv_text(FILE *out, const char *text) {
    if (!strpbrk(text, ",\"\n\r")) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (; *text; text++) {
        if (*text == '"') fputc('"', out);
        fputc(*text, out);
    }
    fputc('"', out);
}

static void csv_number(FILE *out, double value) {
    if (isfinite(value)) fprintf(out, "%.6g", value);
}

static const char csv_header[] =
    "kind,device,device_name,backend,driver,xhal_version,commit,date,settings,op,dtype,case,"
    "shape,outcome,rel_error,bound,ms,flops,bytes,flops_per_s,bytes_per_s,intensity,mfu,mbu,"
    "roofline,peak_flops,peak_bandwidth,peak_flops_source,peak_bandwidth_source,note\n";

static void csv_identity(FILE *out, const conf_run_t *run, const char *kind) {
    const char *fields[] = {
        kind,         run->device.spec, run->device.name, run->device.backend, run->device.driver,
        run->version, run->commit,      run->date,        run->settings};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        csv_text(out, fields[i]);
        fputc(',', out);
    }
}

int conf_write_csv(const conf_run_t *run, const char *path, char *error, size_t error_size) {
    FILE *out = fopen(path, "w");
    if (!out) {
        conf_format(error, error_size, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fputs(csv_header, out);
    for (size_t i = 0; i < run->check_count; i++) {
        const conf_check_t *c = &run->checks[i];
        csv_identity(out, run, "correctness");
        fprintf(out, "%s,%s,", conf_op_name(c->op), xhal_dtype_name(c->dtype));
        csv_text(out, c->name);
        fputc(',', out);
        csv_text(out, c->shape);
        fprintf(out, ",%s,", conf_outcome_name(c->outcome));
        csv_number(out, c->rel_error);
        fputc(',', out);
        csv_number(out, c->bound);
        fputc(',', out);
        csv_number(out, c->ms);
        fputs(",,,,,,,,,,,,,", out); /* the utilization columns */
        csv_text(out, c->note);
        fputc('\n', out);
    }
    for (size_t i = 0; i < run->perf_count; i++) {
        const conf_perf_t *p = &run->perfs[i];
        int ran = p->outcome == CONF_PASS;
        csv_identity(out, run, "utilization");
        fprintf(out, "%s,%s,", conf_op_name(p->op), xhal_dtype_name(p->dtype));
        csv_text(out, p->id);
        fputc(',', out);
        csv_text(out, p->shape);
        fprintf(out, ",%s,,,", conf_outcome_name(p->outcome));
        const double values[] = {ran ? p->ms : NAN,
                                 p->flops,
                                 p->bytes,
                                 ran && p->flops > 0 ? p->flops_per_s : NAN,
                                 ran ? p->bytes_per_s : NAN,
                                 p->flops > 0 ? p->flops / p->bytes : NAN,
                                 ran ? p->mfu : NAN,
                                 ran ? p->mbu : NAN,
                                 ran ? p->roofline : NAN,
                                 run->peaks.flops[p->dtype],
                                 run->peaks.bandwidth};
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            csv_number(out, values[v] > 0 || values[v] < 0 ? values[v] : NAN);
            fputc(',', out);
        }
        fprintf(out, "%s,%s,", run->peaks.flops_used[p->dtype], run->peaks.bandwidth_used);
        csv_text(out, p->note);
        fputc('\n', out);
    }
    int failed = ferror(out);
    if (fclose(out) != 0 || failed) {
        conf_format(error, error_size, "cannot write %s", path);
        return -1;
    }
    return 0;
}
