/*
 * One device, start to finish: peaks, then every selected correctness case in every selected
 * dtype, then the utilization plan, case by case, with progress reported before each case.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_commit.h"
#include "conf_internal.h"

/* Per-case budget (estimated seconds at peak) and time spent on the timed runs of one case. */
#define QUICK_BUDGET_S 0.02
#define FULL_BUDGET_S 0.25
#define QUICK_TARGET_S 0.1
#define FULL_TARGET_S 0.5
#define QUICK_REPEATS 10
#define FULL_REPEATS 30

static const conf_check_table_t *const tables[] = {&conf_check_gemm, &conf_check_gemm_serving,
                                                   &conf_check_attention, &conf_check_serving,
                                                   &conf_check_merge};
#define TABLE_COUNT (sizeof tables / sizeof tables[0])

void conf_options_init(conf_options_t *options) {
    memset(options, 0, sizeof *options);
    options->seed = 1;
    options->correctness = 1;
    options->utilization = 1;
}

void conf_run_free(conf_run_t *run) {
    free(run->checks);
    free(run->perfs);
    run->checks = NULL;
    run->perfs = NULL;
    run->check_count = run->perf_count = 0;
}

int conf_run_failed(const conf_run_t *run) {
    return run->error[0] || run->failed || run->perf_failed;
}

static int selected_op(const conf_options_t *o, conf_op_t op) {
    return o->ops == 0 || (o->ops & (1u << op));
}

static int selected_dtype(const conf_options_t *o, int dtype) {
    return o->dtypes == 0 || (o->dtypes & (1u << dtype));
}

static int selected_case(const conf_options_t *o, const conf_check_table_t *table, size_t index) {
    if (o->quick && !table->is_quick(index)) return 0;
    return !o->case_filter || !*o->case_filter || strstr(table->name(index), o->case_filter);
}

/* Mixes seed, op, case and dtype, so that a case's inputs do not depend on which others run. */
static uint64_t case_seed(uint64_t seed, int op, size_t index, int dtype) {
    return seed * 0x9E3779B97F4A7C15ull ^
           ((uint64_t)op << 32 | (uint64_t)index << 8 | (unsigned)dtype);
}

static void describe_settings(conf_run_t *run, const conf_options_t *o) {
    char ops[64] = "", dtypes[64] = "";
    for (int op = 0; op < CONF_OP_COUNT; op++)
        if (selected_op(o, (conf_op_t)op))
            conf_append(ops, sizeof ops, "%s%s", ops[0] ? "," : "", conf_op_name((conf_op_t)op));
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        if (o->dtypes & (1u << t))
            conf_append(dtypes, sizeof dtypes, "%s%s", dtypes[0] ? "," : "",
                        xhal_dtype_name((xhal_dtype_t)t));
    conf_format(run->settings, sizeof run->settings,
                "%s seed=%llu ops=%s dtypes=%s parts=%s%s budget=%gs/case repeats<=%d peaks=%s",
                o->quick ? "quick" : "full", (unsigned long long)o->seed, ops,
                dtypes[0] ? dtypes : "default", o->correctness ? "correctness" : "",
                o->utilization ? (o->correctness ? "+utilization" : "utilization") : "",
                o->budget_s, o->max_repeats,
                o->peaks == CONF_PEAKS_MEASURED ? "measured"
                : o->peaks == CONF_PEAKS_DEVICE ? "device"
                                                : "datasheet");
    if (o->case_filter && *o->case_filter)
        conf_append(run->settings, sizeof run->settings, " case=%s", o->case_filter);
    if (o->expected_file)
        conf_append(run->settings, sizeof run->settings, " expected=%s", o->expected_file);
}

static void progress(const conf_options_t *o, const conf_run_t *run, const char *phase, size_t done,
                     size_t total, const char *what) {
    if (o->progress) o->progress(o->progress_context, run->device.spec, phase, done, total, what);
}

/* ---- Correctness ---- */

static size_t count_checks(const conf_options_t *o) {
    size_t count = 0;
    for (size_t t = 0; t < TABLE_COUNT; t++) {
        if (!selected_op(o, tables[t]->op)) continue;
        for (size_t i = 0; i < tables[t]->count; i++)
            for (int d = 0; d < XHAL_DTYPE_COUNT; d++)
                count += selected_case(o, tables[t], i) && selected_dtype(o, d);
    }
    return count;
}

/* Turns FAIL into XFAIL and PASS into XPASS for a listed case, and counts the outcome. */
static void settle(conf_run_t *run, const conf_expect_list_t *expected, conf_check_t *r) {
    const char *reason = conf_expect_find(expected, run->device.backend, r->op, r->dtype, r->name);
    if (reason && r->outcome == CONF_FAIL) {
        char note[sizeof r->note];
        conf_format(note, sizeof note, "expected to fail: %s (%s)", reason, r->note);
        memcpy(r->note, note, sizeof note);
        r->outcome = CONF_XFAIL;
    } else if (reason && r->outcome == CONF_PASS) {
        conf_format(r->note, sizeof r->note,
                    "listed as an expected failure (%s) but passed: remove the entry", reason);
        r->outcome = CONF_XPASS;
    }
    size_t *counters[] = {&run->passed, &run->failed, &run->skipped, &run->xfailed, &run->xpassed};
    (*counters[r->outcome])++;
}

/* Runs every selected case on `device`; with no device, records each as SKIP with `skip_note`. */
static xhal_status_t run_correctness(xhal_device_t *device, const conf_options_t *o,
                                     const conf_expect_list_t *expected, const char *skip_note,
                                     conf_run_t *run) {
    size_t total = count_checks(o);
    if (total == 0) return XHAL_OK;
    run->checks = calloc(total, sizeof *run->checks);
    if (!run->checks) return XHAL_OUT_OF_MEMORY;
    conf_ctx_t ctx = {.device = device, .info = &run->device};
    xhal_status_t status = XHAL_OK;
    if (device) status = xhal_stream_create(device, &ctx.stream);
    if (device && status == XHAL_OK) status = xhal_event_create(device, &ctx.start);
    if (device && status == XHAL_OK) status = xhal_event_create(device, &ctx.stop);
    for (size_t t = 0; status == XHAL_OK && t < TABLE_COUNT; t++) {
        const conf_check_table_t *table = tables[t];
        if (!selected_op(o, table->op)) continue;
        for (size_t i = 0; i < table->count; i++) {
            if (!selected_case(o, table, i)) continue;
            for (int d = 0; d < XHAL_DTYPE_COUNT; d++) {
                if (!selected_dtype(o, d)) continue;
                conf_check_t *r = &run->checks[run->check_count++];
                r->op = table->op;
                r->dtype = (xhal_dtype_t)d;
                r->outcome = CONF_PASS;
                r->rel_error = r->ms = NAN;
                conf_format(r->name, sizeof r->name, "%s", table->name(i));
                table->describe(i, r->shape, sizeof r->shape);
                if (!device) {
                    r->outcome = CONF_SKIP;
                    conf_format(r->note, sizeof r->note, "%s", skip_note);
                    settle(run, expected, r);
                    continue;
                }
                char what[160];
                conf_format(what, sizeof what, "%s %s %s", conf_op_name(r->op),
                            xhal_dtype_name(r->dtype), r->name);
                progress(o, run, "correctness", run->check_count - 1, total, what);
                ctx.rng = case_seed(o->seed, (int)t, i, d);
                table->run(&ctx, i, r->dtype, r);
                settle(run, expected, r);
            }
        }
    }
    if (status == XHAL_OK) progress(o, run, "correctness", total, total, "done");
    if (status != XHAL_OK)
        conf_format(run->error, sizeof run->error, "correctness: %s: %s", xhal_status_name(status),
                    xhal_last_error());
    xhal_event_destroy(ctx.stop);
    xhal_event_destroy(ctx.start);
    xhal_stream_destroy(ctx.stream);
    return status;
}

/* ---- Utilization ---- */

static xhal_status_t run_utilization(xhal_device_t *device, const conf_options_t *o,
                                     conf_run_t *run) {
    conf_timer_t timer;
    xhal_status_t status = conf_timer_init(&timer, device, &run->device, o->max_repeats);
    timer.target_s = o->quick ? QUICK_TARGET_S : FULL_TARGET_S;
    timer.seed = o->seed;
    conf_plan_item_t *items = NULL;
    long count = 0;
    if (status == XHAL_OK) {
        conf_plan_env_t env = {.options = o,
                               .peaks = &run->peaks,
                               .memory_budget = timer.memory_budget,
                               .budget_s = o->budget_s};
        count = conf_plan_build(&env, &items);
        if (count < 0) status = XHAL_OUT_OF_MEMORY;
    }
    if (status == XHAL_OK && count > 0 && !(run->perfs = calloc((size_t)count, sizeof *run->perfs)))
        status = XHAL_OUT_OF_MEMORY;
    for (long i = 0; status == XHAL_OK && i < count; i++) {
        conf_plan_item_t *item = &items[i];
        char what[160];
        conf_format(what, sizeof what, "%s %s %s", item->result.id,
                    xhal_dtype_name(item->result.dtype), item->result.shape);
        progress(o, run, "utilization", (size_t)i, (size_t)count, what);
        conf_time_item(&timer, item, &run->peaks);
        run->perfs[run->perf_count++] = item->result;
        conf_outcome_t outcome = item->result.outcome;
        run->measured += outcome == CONF_PASS;
        run->perf_skipped += outcome == CONF_SKIP;
        run->perf_failed += outcome == CONF_FAIL;
    }
    if (status == XHAL_OK)
        progress(o, run, "utilization", (size_t)count, (size_t)count, "done");
    else
        conf_format(run->error, sizeof run->error, "utilization: %s: %s", xhal_status_name(status),
                    xhal_last_error());
    free(items);
    conf_timer_free(&timer);
    return status;
}

xhal_status_t conf_run_device(xhal_device_t *device, const conf_options_t *options,
                              conf_run_t *run) {
    memset(run, 0, sizeof *run);
    conf_options_t o = *options;
    if (o.budget_s <= 0) o.budget_s = o.quick ? QUICK_BUDGET_S : FULL_BUDGET_S;
    if (o.max_repeats <= 0) o.max_repeats = o.quick ? QUICK_REPEATS : FULL_REPEATS;
    run->options = o;
    conf_format(run->version, sizeof run->version, "%s", xhal_version_string());
    conf_format(run->commit, sizeof run->commit, "%s", XHAL_CONFORM_COMMIT);
    conf_utc_date(run->date, sizeof run->date);
    describe_settings(run, &o);
    run->device.struct_size = sizeof run->device;
    xhal_status_t status = xhal_device_info(device, &run->device);
    if (status != XHAL_OK) {
        conf_format(run->error, sizeof run->error, "xhal_device_info: %s", xhal_last_error());
        return status;
    }

    conf_expect_list_t expected = {0};
    if (o.expected_file &&
        conf_expect_load(&expected, o.expected_file, run->error, sizeof run->error) != 0) {
        conf_expect_free(&expected);
        return XHAL_INVALID_ARGUMENT;
    }
    /* Peaks first: the utilization plan is sized by them (and may measure what is missing). */
    conf_peaks_resolve(&run->peaks, device, &run->device, &o);
    if (o.correctness) status = run_correctness(device, &o, &expected, NULL, run);
    if (status == XHAL_OK && o.utilization) status = run_utilization(device, &o, run);
    conf_expect_free(&expected);
    return status;
}

xhal_status_t conf_run_no_device(const char *spec, const char *reason,
                                 const conf_options_t *options, conf_run_t *run) {
    memset(run, 0, sizeof *run);
    run->options = *options;
    conf_format(run->version, sizeof run->version, "%s", xhal_version_string());
    conf_format(run->commit, sizeof run->commit, "%s", XHAL_CONFORM_COMMIT);
    conf_utc_date(run->date, sizeof run->date);
    describe_settings(run, &run->options);
    run->device.struct_size = sizeof run->device;
    conf_format(run->device.spec, sizeof run->device.spec, "%s", spec);
    conf_format(run->device.backend, sizeof run->device.backend, "%.*s", (int)strcspn(spec, ":"),
                spec);
    conf_format(run->device.name, sizeof run->device.name, "(no device)");
    char note[sizeof run->checks[0].note];
    conf_format(note, sizeof note, "no device: %s", reason);
    conf_expect_list_t none = {0};
    if (!run->options.correctness) return XHAL_OK;
    return run_correctness(NULL, &run->options, &none, note, run);
}
