/* The report folder of one run: report.md, report.json, report.csv and the two charts. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "xc_file.h"

/* The bars of % of roofline, numbered as the table's rows. */
static int write_bars(const conf_run_t *run, const char *path, char *error, size_t error_size) {
    size_t rows = 0;
    for (size_t i = 0; i < run->perf_count; i++)
        rows += run->perfs[i].outcome != CONF_SKIP;
    char(*labels)[96] = calloc(rows ? rows : 1, sizeof *labels);
    const char **label_ptrs = calloc(rows ? rows : 1, sizeof *label_ptrs);
    double *values = calloc(rows ? rows : 1, sizeof *values);
    size_t *colors = calloc(rows ? rows : 1, sizeof *colors);
    int status = -1;
    if (labels && label_ptrs && values && colors) {
        size_t r = 0;
        for (size_t i = 0; i < run->perf_count; i++) {
            const conf_perf_t *p = &run->perfs[i];
            if (p->outcome == CONF_SKIP) continue;
            conf_format(labels[r], sizeof labels[r], "%zu  %s %s", r + 1, p->id,
                        p->op == CONF_OP_COPY ? "" : xhal_dtype_name(p->dtype));
            label_ptrs[r] = labels[r];
            values[r] = p->outcome == CONF_PASS ? 100 * p->roofline : NAN;
            colors[r] = (size_t)p->op; /* the palette's first three: gemm, attention, copy */
            r++;
        }
        static const char *const op_names[CONF_OP_COUNT] = {"GEMM", "attention", "copy"};
        char title[256];
        conf_format(title, sizeof title, "%% of roofline per case: %s (%s)", run->device.name,
                    run->device.spec);
        conf_bar_chart_t chart = {.title = title,
                                  .axis = "% of roofline (achieved / min(peak FLOP/s, FLOP/B x "
                                          "bandwidth); copy: % of bandwidth)",
                                  .rows = rows,
                                  .series = 1,
                                  .labels = label_ptrs,
                                  .values = values,
                                  .colors = colors,
                                  .color_names = op_names,
                                  .color_count = CONF_OP_COUNT};
        status = conf_chart_bars(&chart, path, error, error_size);
    } else {
        conf_format(error, error_size, "out of host memory");
    }
    free(labels);
    free(label_ptrs);
    free(values);
    free(colors);
    return status;
}

int conf_write_reports(const conf_run_t *run, const char *dir, char *error, size_t error_size) {
    if (xc_mkdirs(dir) != 0) {
        conf_format(error, error_size, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    char path[4096];
    conf_format(path, sizeof path, "%s/report.md", dir);
    if (conf_write_markdown(run, path, error, error_size) != 0) return -1;
    conf_format(path, sizeof path, "%s/report.json", dir);
    if (conf_write_json(run, path, error, error_size) != 0) return -1;
    conf_format(path, sizeof path, "%s/report.csv", dir);
    if (conf_write_csv(run, path, error, error_size) != 0) return -1;
    conf_format(path, sizeof path, "%s/roofline.svg", dir);
    if (conf_chart_roofline(run, path, error, error_size) != 0) return -1;
    conf_format(path, sizeof path, "%s/roofline_pct.svg", dir);
    return write_bars(run, path, error, error_size);
}
