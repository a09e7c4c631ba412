/*
 * The charts of `xhal conform` must finish whatever the figures: points that coincide (their
 * numbers stack; the old search looped forever when y + 10 - y came out below 10 in floating
 * point), figures spread over hundreds of decades, infinite and NaN figures, percentages far
 * above 100. Every case runs under an alarm: a layout loop that does not end fails the test
 * rather than hanging it.
 *
 * XT_WORK_DIR is a folder the SVG files are written to.
 */
#include "test_util.h"

#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_internal.h"

#ifndef XT_WORK_DIR
#error "XT_WORK_DIR must name a writable folder"
#endif

static void on_alarm(int signal_number) {
    (void)signal_number;
    static const char message[] = "chart layout did not finish within 60 s: a loop is unbounded\n";
    ssize_t ignored = write(2, message, sizeof message - 1);
    (void)ignored;
    _exit(1);
}

static conf_run_t *new_run(size_t perfs) {
    conf_run_t *run = calloc(1, sizeof *run);
    assert_non_null(run);
    snprintf(run->device.name, sizeof run->device.name, "test device");
    snprintf(run->device.spec, sizeof run->device.spec, "cpu:0");
    snprintf(run->version, sizeof run->version, "0.2.0");
    run->perfs = calloc(perfs, sizeof *run->perfs);
    assert_non_null(run->perfs);
    run->perf_count = perfs;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        run->peaks.flops[t] = 1e12;
        snprintf(run->peaks.flops_used[t], sizeof run->peaks.flops_used[t], "device");
    }
    run->peaks.bandwidth = 1e11;
    snprintf(run->peaks.bandwidth_used, sizeof run->peaks.bandwidth_used, "device");
    return run;
}

static void set_perf(conf_perf_t *p, double intensity, double flops_per_s, const char *group) {
    p->op = CONF_OP_GEMM;
    p->dtype = XHAL_DTYPE_F32;
    p->outcome = CONF_PASS;
    snprintf(p->group, sizeof p->group, "%s", group);
    p->flops = 1e9;
    p->bytes = 1e9 / intensity;
    p->intensity = intensity;
    p->flops_per_s = flops_per_s;
}

static void draw(conf_run_t *run, const char *name) {
    char path[4096], error[256] = "";
    snprintf(path, sizeof path, "%s/%s", XT_WORK_DIR, name);
    alarm(60);
    int result = conf_chart_roofline(run, path, error, sizeof error);
    alarm(0);
    if (result != 0) print_error("conf_chart_roofline: %s\n", error);
    assert_int_equal(result, 0);
    free(run->perfs);
    free(run);
}

/*
 * 16 columns of 60 coinciding points each, at the top of the plot: each column's numbers stack
 * over 600 px and cross the binades at 64, 128, 256 and 512 px, where adding 10 px rounds; the
 * columns' y values differ in their last bits, so some sum comes out at 9.99999999999995 px.
 */
static void test_coinciding_points(void **state) {
    (void)state;
    enum { COLUMNS = 16, PER_COLUMN = 60 };
    conf_run_t *run = new_run(COLUMNS * PER_COLUMN);
    for (size_t c = 0; c < COLUMNS; c++)
        for (size_t i = 0; i < PER_COLUMN; i++)
            set_perf(&run->perfs[c * PER_COLUMN + i], pow(10, -0.5 + 0.25 * (double)c),
                     9.1e11 * (1 + 1e-3 * (double)c), c % 2 ? "llm-decode" : "square");
    draw(run, "coinciding.svg");
}

/* Four bf16-style decode points on one spot, as on the loaded machine of issue 14. */
static void test_four_on_one_spot(void **state) {
    (void)state;
    conf_run_t *run = new_run(4);
    for (size_t i = 0; i < 4; i++)
        set_perf(&run->perfs[i], 0.998, 0.3e9, "llm-decode");
    draw(run, "four.svg");
}

static void test_extreme_and_non_finite(void **state) {
    (void)state;
    const double values[] = {1e-300, 1e300, INFINITY, NAN, 5e-324, 1.0, DBL_MAX};
    size_t n = sizeof values / sizeof *values;
    conf_run_t *run = new_run(n * n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            set_perf(&run->perfs[i * n + j], values[i], values[j], "square");
    run->peaks.flops[XHAL_DTYPE_F32] = INFINITY;
    run->peaks.bandwidth = 1e-300;
    draw(run, "extreme.svg");
}

static void test_bars_far_above_roof(void **state) {
    (void)state;
    const char *labels[] = {"a", "b", "c", "d"};
    const double values[] = {1e300, INFINITY, NAN, 55.0};
    conf_bar_chart_t chart = {.title = "bars",
                              .axis = "% of roofline",
                              .rows = 4,
                              .series = 1,
                              .labels = labels,
                              .values = values};
    char path[4096], error[256] = "";
    snprintf(path, sizeof path, "%s/bars.svg", XT_WORK_DIR);
    alarm(60);
    int result = conf_chart_bars(&chart, path, error, sizeof error);
    alarm(0);
    assert_int_equal(result, 0);
}

int main(void) {
    signal(SIGALRM, on_alarm);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coinciding_points),
        cmocka_unit_test(test_four_on_one_spot),
        cmocka_unit_test(test_extreme_and_non_finite),
        cmocka_unit_test(test_bars_far_above_roof),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
