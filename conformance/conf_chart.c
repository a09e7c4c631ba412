/*
 * The charts: a log-log roofline with every measured case that does FLOPs placed on it (x: FLOPs
 * per byte, y: FLOP/s; one roof per dtype, from the peaks the report used), and horizontal bars of
 * % of roofline per case, with one bar per run when several are compared. Points carry the
 * number of their row in the report's table, so a reader can find which case is which.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

/* ---- Roofline ---- */

#define R_WIDTH 1000.0
#define R_HEIGHT 620.0
#define R_LEFT 115.0
#define R_RIGHT 250.0 /* the legend */
#define R_TOP 50.0
#define R_BOTTOM 70.0
#define R_MAX_DECADES 24.0 /* the widest axis; points further down are drawn off the plot */
#define R_LABEL_ROW 10.0   /* px between stacked point numbers */

typedef struct axes {
    double x0, x1, y0, y1; /* decades: 10^x0 .. 10^x1 */
} axes_t;

static double px(const axes_t *a, double x) {
    return R_LEFT + (log10(x) - a->x0) / (a->x1 - a->x0) * (R_WIDTH - R_LEFT - R_RIGHT);
}

static double py(const axes_t *a, double y) {
    return R_HEIGHT - R_BOTTOM -
           (log10(y) - a->y0) / (a->y1 - a->y0) * (R_HEIGHT - R_TOP - R_BOTTOM);
}

/* Finite and positive: a log axis has no place for 0, and an infinite value no decade. */
static int plotted(const conf_perf_t *p) {
    return p->outcome == CONF_PASS && p->flops > 0 && p->flops_per_s > 0 && p->intensity > 0 &&
           isfinite(p->flops) && isfinite(p->flops_per_s) && isfinite(p->intensity);
}

static int marker_of(const char *group) {
    static const char *const groups[] = {"square", "llm-prefill", "llm-decode", "attn-prefill",
                                         "attn-decode"};
    for (int i = 0; i < 5; i++)
        if (strcmp(group, groups[i]) == 0) return i;
    return 0;
}

/* The decades that hold every point and every roof's corner. */
static axes_t fit_axes(const conf_run_t *run) {
    double xmin = INFINITY, xmax = 0, ymin = INFINITY, ymax = 0;
    int used[XHAL_DTYPE_COUNT] = {0};
    for (size_t i = 0; i < run->perf_count; i++) {
        const conf_perf_t *p = &run->perfs[i];
        if (!plotted(p)) continue;
        xmin = fmin(xmin, p->intensity), xmax = fmax(xmax, p->intensity);
        ymin = fmin(ymin, p->flops_per_s), ymax = fmax(ymax, p->flops_per_s);
        used[p->dtype] = 1;
    }
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        double peak = run->peaks.flops[t], bw = run->peaks.bandwidth;
        if (!used[t] || !(peak > 0) || !isfinite(peak)) continue;
        ymax = fmax(ymax, peak);
        if (bw > 0 && isfinite(peak / bw) && peak / bw > 0)
            xmax = fmax(xmax, peak / bw), xmin = fmin(xmin, peak / bw);
    }
    if (!(xmax > 0)) return (axes_t){-1, 3, 9, 12}; /* nothing to place */
    axes_t a = {floor(log10(xmin)), ceil(log10(xmax) + 0.15), floor(log10(ymin)),
                ceil(log10(ymax) + 0.15)};
    if (a.x1 - a.x0 < 2) a.x0 = a.x1 - 2;
    if (a.y1 - a.y0 < 2) a.y0 = a.y1 - 2;
    /* The grid draws a line per decade: however wide the figures spread, a bounded number. */
    if (a.x1 - a.x0 > R_MAX_DECADES) a.x0 = a.x1 - R_MAX_DECADES;
    if (a.y1 - a.y0 > R_MAX_DECADES) a.y0 = a.y1 - R_MAX_DECADES;
    return a;
}

static void draw_grid(conf_svg_t *svg, const axes_t *a) {
    char label[32];
    double left = R_LEFT, right = R_WIDTH - R_RIGHT, top = R_TOP, bottom = R_HEIGHT - R_BOTTOM;
    static const char prefixes[] = " kMGTPE";
    /* Counted in integers: the axes are whole decades, at most R_MAX_DECADES of them. */
    int x_decades = (int)(a->x1 - a->x0), y_decades = (int)(a->y1 - a->y0);
    for (int i = 0; i <= x_decades; i++) {
        double e = a->x0 + i;
        double x = px(a, pow(10, e));
        conf_svg_line(svg, x, top, x, bottom, "#dddddd", 1, 0);
        conf_format(label, sizeof label, "%g", pow(10, e));
        conf_svg_text(svg, x, bottom + 18, 12, "middle", "#333333", 0, label);
    }
    for (int i = 0; i <= y_decades; i++) {
        double e = a->y0 + i;
        double y = py(a, pow(10, e));
        conf_svg_line(svg, left, y, right, y, "#dddddd", 1, 0);
        /* Decades: 1, 10 or 100 of an SI prefix. */
        int p = (int)floor(e / 3);
        p = p < 0 ? 0 : p > 6 ? 6 : p;
        conf_format(label, sizeof label, "%g %cFLOP/s", pow(10, e - 3 * p), prefixes[p]);
        if (p == 0) conf_format(label, sizeof label, "%g FLOP/s", pow(10, e));
        conf_svg_text(svg, left - 6, y + 4, 12, "end", "#333333", 0, label);
    }
    conf_svg_rect(svg, left, top, right - left, bottom - top, "none", "#888888");
    conf_svg_text(svg, (left + right) / 2, R_HEIGHT - 22, 14, "middle", "#000000", 0,
                  "arithmetic intensity (FLOPs per byte moved, minimum bytes)");
    conf_svg_text(svg, 20, (top + bottom) / 2, 14, "middle", "#000000", -90, "achieved FLOP/s");
}

/* The roof of one dtype: min(peak, intensity x bandwidth), clipped to the plot. */
static void draw_roof(conf_svg_t *svg, const axes_t *a, double peak, double bw, const char *color,
                      const char *name) {
    char label[96], value[32];
    double xl = pow(10, a->x0), xr = pow(10, a->x1), yl = pow(10, a->y0);
    double ridge = peak / bw;
    double start = fmax(xl, yl / bw); /* where the slope enters the plot */
    if (ridge > start)
        conf_svg_line(svg, px(a, start), py(a, start * bw), px(a, ridge), py(a, peak), color, 2, 0);
    conf_svg_line(svg, px(a, fmax(ridge, xl)), py(a, peak), px(a, xr), py(a, peak), color, 2, 0);
    conf_human(value, sizeof value, peak, "FLOP/s");
    conf_format(label, sizeof label, "%s peak %s", name, value);
    conf_svg_text(svg, px(a, xr) - 4, py(a, peak) - 6, 12, "end", color, 0, label);
    if (ridge > start && ridge < xr)
        conf_svg_line(svg, px(a, ridge), py(a, peak), px(a, ridge), py(a, yl), color, 1, 1);
}

static void draw_legend(conf_svg_t *svg, const conf_run_t *run, const int used[XHAL_DTYPE_COUNT]) {
    static const char *const groups[] = {"GEMM square", "GEMM LLM prefill", "GEMM LLM decode",
                                         "attention prefill", "attention decode"};
    double x = R_WIDTH - R_RIGHT + 24, y = R_TOP + 10;
    char text[96], value[32];
    conf_svg_text(svg, x, y, 13, "start", "#000000", 0, "dtype (colour)");
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (!used[t]) continue;
        y += 20;
        conf_svg_marker(svg, x + 6, y - 4, 5, 0, conf_svg_color((size_t)t));
        conf_format(text, sizeof text, "%s (peak: %s)", xhal_dtype_name((xhal_dtype_t)t),
                    run->peaks.flops_used[t]);
        conf_svg_text(svg, x + 18, y, 12, "start", "#000000", 0, text);
    }
    y += 32;
    conf_svg_text(svg, x, y, 13, "start", "#000000", 0, "case (shape)");
    for (int g = 0; g < 5; g++) {
        y += 20;
        conf_svg_marker(svg, x + 6, y - 4, 5, g, "#555555");
        conf_svg_text(svg, x + 18, y, 12, "start", "#000000", 0, groups[g]);
    }
    y += 32;
    conf_human(value, sizeof value, run->peaks.bandwidth, "B/s");
    conf_format(text, sizeof text, "bandwidth %s (%s)", value, run->peaks.bandwidth_used);
    conf_svg_text(svg, x, y, 12, "start", "#000000", 0, text);
    conf_svg_text(svg, x, y + 20, 11, "start", "#555555", 0, "Numbers: rows of the table in");
    conf_svg_text(svg, x, y + 34, 11, "start", "#555555", 0, "report.md. The copy moves no");
    conf_svg_text(svg, x, y + 48, 11, "start", "#555555", 0, "FLOPs: see roofline_pct.svg.");
}

/*
 * Points often coincide (one shape, several sizes): their numbers stack downwards, in rows of
 * R_LABEL_ROW px below the point. Slot s is the first row no placed label within 18 px across
 * and less than a row down or up takes. Rows are compared with a margin, as y + 10 - y is not
 * always 10 in floating point (moving a label "10 px below" another could leave it 9.99999999999995
 * px away, and a search that starts over then never ends). Each placed label takes at most two
 * slots, so one of the first 2 * placed + 1 is free: the search is bounded.
 */
static double stack_label(double (*labels)[2], size_t placed, double lx, double ly) {
    for (size_t slot = 0; slot <= 2 * placed; slot++) {
        double at = ly + R_LABEL_ROW * (double)slot;
        size_t k = 0;
        while (k < placed &&
               !(fabs(labels[k][0] - lx) < 18 && fabs(labels[k][1] - at) < R_LABEL_ROW - 1e-6))
            k++;
        if (k == placed) return at;
    }
    return ly + R_LABEL_ROW * (double)(2 * placed + 1); /* not reached */
}

int conf_chart_roofline(const conf_run_t *run, const char *path, char *error, size_t error_size) {
    conf_svg_t svg;
    char title[256];
    conf_format(title, sizeof title, "Roofline: %s (%s), xhal %s", run->device.name,
                run->device.spec, run->version);
    if (conf_svg_open(&svg, path, R_WIDTH, R_HEIGHT, title) != 0) {
        conf_format(error, error_size, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    conf_svg_text(&svg, R_WIDTH / 2, 28, 16, "middle", "#000000", 0, title);
    axes_t a = fit_axes(run);
    draw_grid(&svg, &a);
    int used[XHAL_DTYPE_COUNT] = {0}, any = 0;
    for (size_t i = 0; i < run->perf_count; i++)
        if (plotted(&run->perfs[i])) used[run->perfs[i].dtype] = any = 1;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        if (used[t] && run->peaks.flops[t] > 0 && run->peaks.bandwidth > 0)
            draw_roof(&svg, &a, run->peaks.flops[t], run->peaks.bandwidth,
                      conf_svg_color((size_t)t), xhal_dtype_name((xhal_dtype_t)t));
    /* Numbered as the table numbers its rows: every case that was not skipped. */
    size_t row = 0, placed = 0;
    double(*labels)[2] = calloc(run->perf_count + 1, sizeof *labels);
    for (size_t i = 0; i < run->perf_count; i++) {
        const conf_perf_t *p = &run->perfs[i];
        if (p->outcome == CONF_SKIP) continue;
        row++;
        if (!plotted(p)) continue;
        double x = px(&a, p->intensity), y = py(&a, p->flops_per_s);
        char label[16];
        conf_format(label, sizeof label, "%zu", row);
        conf_svg_marker(&svg, x, y, 5, marker_of(p->group), conf_svg_color((size_t)p->dtype));
        double lx = x + 7, ly = labels ? stack_label(labels, placed, x + 7, y - 5) : y - 5;
        if (labels) {
            labels[placed][0] = lx;
            labels[placed++][1] = ly;
        }
        conf_svg_text(&svg, lx, ly, 10, "start", "#333333", 0, label);
    }
    free(labels);
    if (!any)
        conf_svg_text(&svg, (R_LEFT + R_WIDTH - R_RIGHT) / 2, R_HEIGHT / 2, 16, "middle", "#888888",
                      0, "no measured case does FLOPs");
    draw_legend(&svg, run, used);
    if (conf_svg_close(&svg) != 0) {
        conf_format(error, error_size, "cannot write %s", path);
        return -1;
    }
    return 0;
}

/* ---- Bars ---- */

#define B_WIDTH 1000.0
#define B_LABEL 360.0 /* the column of case names */
#define B_RIGHT 70.0
#define B_TOP 70.0
#define B_BAR 12.0
#define B_MAX_PERCENT 1000.0 /* the widest scale: a grid line per 20%, so 51 at most */

int conf_chart_bars(const conf_bar_chart_t *chart, const char *path, char *error,
                    size_t error_size) {
    size_t series = chart->series ? chart->series : 1;
    double row_height = B_BAR * (double)series + 8;
    double height = B_TOP + (double)chart->rows * row_height + 50;
    double top = B_TOP, left = B_LABEL, right = B_WIDTH - B_RIGHT;
    conf_svg_t svg;
    if (conf_svg_open(&svg, path, B_WIDTH, height, chart->title) != 0) {
        conf_format(error, error_size, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    conf_svg_text(&svg, B_WIDTH / 2, 26, 16, "middle", "#000000", 0, chart->title);
    /* 0..100%, or further in steps of 20 when a case is above its roof (a peak set too low), up
     * to B_MAX_PERCENT: a bar beyond it is drawn to the edge, its label giving the value. */
    double max = 100;
    for (size_t i = 0; i < chart->rows * series; i++)
        if (isfinite(chart->values[i]) && chart->values[i] > max) max = chart->values[i];
    max = fmin(ceil(max / 20) * 20, B_MAX_PERCENT);
    double bottom = top + (double)chart->rows * row_height;
    char label[64];
    /* Stripes first, then the grid over them, then the bars over both. */
    for (size_t r = 1; r < chart->rows; r += 2)
        conf_svg_rect(&svg, 4, top + (double)r * row_height, right - 4, row_height, "#f4f4f4",
                      NULL);
    for (int step = 0; step <= (int)(max / 20); step++) {
        double v = 20.0 * step, x = left + v / max * (right - left);
        conf_svg_line(&svg, x, top, x, bottom, v == 100 ? "#888888" : "#e0e0e0", 1, v == 100);
        conf_format(label, sizeof label, "%.0f%%", v);
        conf_svg_text(&svg, x, bottom + 16, 11, "middle", "#333333", 0, label);
    }
    conf_svg_text(&svg, (left + right) / 2, bottom + 36, 13, "middle", "#000000", 0, chart->axis);
    /* The legend: the series, or what the colours of a one-series chart mean. */
    int by_row = chart->colors && chart->color_names && series == 1;
    size_t entries = by_row ? chart->color_count : chart->names ? series : 0;
    for (size_t s = 0; s < entries; s++) {
        double x = left + (double)s * 200;
        conf_svg_rect(&svg, x, 42, 12, 12, conf_svg_color(s), NULL);
        conf_svg_text(&svg, x + 18, 52, 12, "start", "#000000", 0,
                      by_row ? chart->color_names[s] : chart->names[s]);
    }
    for (size_t r = 0; r < chart->rows; r++) {
        double y = top + (double)r * row_height + 4;
        conf_svg_text(&svg, left - 8, y + row_height / 2 + 1, 11, "end", "#000000", 0,
                      chart->labels[r]);
        for (size_t s = 0; s < series; s++) {
            double v = chart->values[r * series + s], by = y + (double)s * B_BAR;
            if (!isfinite(v)) {
                conf_svg_text(&svg, left + 4, by + B_BAR - 2, 10, "start", "#888888", 0,
                              "not measured");
                continue;
            }
            double w = (v > 0 ? fmin(v, max) : 0) / max * (right - left);
            size_t color = chart->colors && series == 1 ? chart->colors[r] : s;
            conf_svg_rect(&svg, left, by, w, B_BAR - 2, conf_svg_color(color), NULL);
            conf_format(label, sizeof label, v < 10 ? "%.2f%%" : "%.1f%%", v);
            conf_svg_text(&svg, left + w + 4, by + B_BAR - 3, 10, "start", "#333333", 0, label);
        }
    }
    if (conf_svg_close(&svg) != 0) {
        conf_format(error, error_size, "cannot write %s", path);
        return -1;
    }
    return 0;
}
