/*
 * `xhal conform`: the conformance suite on every selected device (conformance/), a summary and
 * the utilization table on stdout, a report folder per device, and exit 1 when a correctness
 * case failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "conform_progress.h"
#include "tool_conform.h"
#include "tool_util.h"

static const char conform_help[] =
    "usage: xhal conform [--quick] [--device SPEC]... [--op LIST] [--dtype LIST] [--case TEXT]\n"
    "                    [--only correctness|utilization] [--out DIR] [--seed N]\n"
    "                    [--budget SECONDS] [--repeats N] [--peaks datasheet|measured|device]\n"
    "                    [--expected FILE] [-v] [-q]\n"
    "\n"
    "Runs the conformance suite on each device: first correctness, then utilization.\n"
    "\n"
    "Correctness: GEMM and attention cases (odd shapes 1, 7, 17, 4097; transposes; leading\n"
    "dimensions larger than the shape; strided and shared batches; GQA, MQA, causal, decode;\n"
    "head_dim 64-256) in f32, f16 and bf16, on seeded random inputs (never 0), outputs poisoned\n"
    "with NaN first; every output is compared with an fp64 reference by relative Frobenius error\n"
    "(bounds: f32 1e-6..1e-5 by reduction length, f16 1e-3 (attention 2e-3), bf16 1e-2), and\n"
    "padding and inputs must be unchanged. A case the backend does not support is SKIP with its\n"
    "reason. Cases listed as expected failures of the backend are XFAIL; if one passes it is\n"
    "XPASS (reported, not a failure).\n"
    "\n"
    "Utilization: square GEMMs, LLM projection GEMMs (prefill and decode, 8B and 70B class),\n"
    "attention prefill and decode (GQA 8:1) and a device-to-device copy, sized to the device's\n"
    "peaks; each timed with the stream's events after a warm-up (median of the runs, inputs\n"
    "rotated when they would fit in cache) and reported as time, FLOP/s, bytes/s, MFU, MBU and\n"
    "% of roofline. Peaks: the device's (datasheet or derived), falling back to those `xhal peak`\n"
    "measured (or measured briefly now when there are none); the report says which were used.\n"
    "\n"
    "Reports: report.md, report.json, report.csv, roofline.svg and roofline_pct.svg in\n"
    "./xhal-report-<device> (or --out DIR; with several devices, DIR/<device>).\n"
    "\n"
    "options:\n"
    "  --quick          the CI-sized suite (about a minute on a 2-core CPU)\n"
    "  --device SPEC    run on this device (repeatable); default: every device found\n"
    "  --op LIST        gemm, attention, copy (comma-separated, repeatable); default: all\n"
    "  --dtype LIST     f32, f16, bf16; default: all for correctness; for utilization f32 and\n"
    "                   bf16 (--quick) or all three for square GEMMs, bf16 for the others\n"
    "  --case TEXT      only cases whose name (correctness) or id (utilization) contains TEXT\n"
    "  --only PART      correctness or utilization; default: both\n"
    "  --out DIR        where the report goes (see above)\n"
    "  --seed N         seed of the random inputs (default 1)\n"
    "  --budget SEC     per utilization case, the estimated seconds at peak a case may take\n"
    "                   (default 0.02 with --quick, else 0.25); larger cases are scaled or\n"
    "                   left out, with the reason in the report\n"
    "  --repeats N      timed runs per case at most (default 10 with --quick, else 30)\n"
    "  --peaks WHICH    datasheet (default): the device's figures, measured ones where it has\n"
    "                   none; measured: the ceilings of `xhal peak` first; device: the device's\n"
    "                   figures only, nothing measured (unknown figures leave MFU/MBU blank)\n"
    "  --expected FILE  expected failures: an INI file with a [backend] section and lines\n"
    "                   \"op dtype case = reason\" (\"*\" matches any value of a field), as in\n"
    "                   backends/<name>/expected.ini\n"
    "  -v, --verbose    list every correctness case on stdout, not only those that did not pass\n"
    "  -q, --quiet      no progress line on stderr\n"
    "  -h, --help       show this text\n"
    "\n"
    "Exits 0 when every correctness case passed (or was skipped or expected to fail), 1 when a\n"
    "case failed, a utilization case met an error, a device did not open or a report could not\n"
    "be written, 2 on a usage error.\n";

/* ---- Options ---- */

static int parse_list(const char *text, unsigned *mask, int ops) {
    char copy[128];
    snprintf(copy, sizeof copy, "%s", text);
    char *save = NULL;
    for (char *word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
        conf_op_t op;
        xhal_dtype_t dtype;
        if (ops && conf_op_parse(word, &op))
            *mask |= 1u << op;
        else if (!ops && conf_dtype_parse(word, &dtype))
            *mask |= 1u << dtype;
        else
            return tool_usage_error("conform", "unknown %s '%s'", ops ? "op" : "dtype", word);
    }
    return *text ? -1 : tool_usage_error("conform", "--%s wants a list", ops ? "op" : "dtype");
}

static int parse_number(const char *option, const char *text, double minimum, double *out) {
    char *end = NULL;
    double value = strtod(text, &end);
    if (!*text || *end || !(value >= minimum))
        return tool_usage_error("conform", "%s wants a number >= %g, not '%s'", option, minimum,
                                text);
    *out = value;
    return -1;
}

/* One option taking a value; returns -1 to go on, else the exit code. */
static int apply_value(tool_conform_t *a, const char *name, const char *value) {
    conf_options_t *o = &a->options;
    double number = 0;
    int code = -1;
    if (strcmp(name, "--device") == 0) {
        if (!*value) return tool_usage_error("conform", "--device wants a spec, not ''");
        a->specs[a->spec_count++] = value;
    } else if (strcmp(name, "--op") == 0) {
        code = parse_list(value, &o->ops, 1);
    } else if (strcmp(name, "--dtype") == 0) {
        code = parse_list(value, &o->dtypes, 0);
    } else if (strcmp(name, "--case") == 0) {
        o->case_filter = value;
    } else if (strcmp(name, "--only") == 0) {
        if (strcmp(value, "correctness") != 0 && strcmp(value, "utilization") != 0)
            return tool_usage_error("conform", "--only wants correctness or utilization");
        o->correctness = value[0] == 'c';
        o->utilization = value[0] == 'u';
    } else if (strcmp(name, "--out") == 0) {
        if (!*value) return tool_usage_error("conform", "--out wants a folder");
        a->out = value;
    } else if (strcmp(name, "--seed") == 0) {
        if ((code = parse_number(name, value, 0, &number)) < 0) o->seed = (uint64_t)number;
    } else if (strcmp(name, "--budget") == 0) {
        if ((code = parse_number(name, value, 1e-6, &number)) < 0) o->budget_s = number;
    } else if (strcmp(name, "--repeats") == 0) {
        if ((code = parse_number(name, value, 1, &number)) < 0) o->max_repeats = (int)number;
    } else if (strcmp(name, "--peaks") == 0) {
        if (strcmp(value, "datasheet") == 0)
            o->peaks = CONF_PEAKS_DATASHEET;
        else if (strcmp(value, "measured") == 0)
            o->peaks = CONF_PEAKS_MEASURED;
        else if (strcmp(value, "device") == 0)
            o->peaks = CONF_PEAKS_DEVICE;
        else
            return tool_usage_error("conform", "--peaks wants datasheet, measured or device");
    } else if (strcmp(name, "--expected") == 0) {
        o->expected_file = value;
    }
    return code;
}

static int parse_options(int argc, char **argv, tool_conform_t *a) {
    static const char *const valued[] = {"--device",  "--op",    "--dtype",   "--case",
                                         "--only",    "--out",   "--seed",    "--budget",
                                         "--repeats", "--peaks", "--expected"};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (tool_is_help(arg)) {
            fputs(conform_help, stdout);
            return TOOL_EXIT_OK;
        }
        if (strcmp(arg, "--quick") == 0) {
            a->options.quick = 1;
            continue;
        }
        if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
            a->verbose = 1;
            continue;
        }
        if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            a->quiet = 1;
            continue;
        }
        int found = 0, code = -1;
        for (size_t k = 0; !found && k < sizeof valued / sizeof valued[0]; k++) {
            const char *value = NULL;
            found = tool_option_value(argc, argv, &i, valued[k], &value);
            if (found < 0) return tool_usage_error("conform", "option '%s' needs a value", arg);
            if (found > 0) code = apply_value(a, valued[k], value);
        }
        if (!found) return tool_usage_error("conform", "unknown option '%s'", arg);
        if (code >= 0) return code;
    }
    return -1;
}

/* ---- Running ---- */

/* The report folder of one device. */
static void report_dir(const tool_conform_t *a, const char *spec, size_t devices, char *out,
                       size_t size) {
    char slug[80];
    conf_slug(spec, slug, sizeof slug);
    if (a->out && devices == 1)
        snprintf(out, size, "%s", a->out);
    else if (a->out)
        snprintf(out, size, "%s/%s", a->out, slug);
    else
        snprintf(out, size, "xhal-report-%s", slug);
}

/* Runs one device, or when `device` is NULL lists the cases of `spec` as SKIP with the reason
 * it has no device; returns 1 when it failed. */
static int conform_device(xhal_device_t *device, const char *spec, const tool_conform_t *a,
                          size_t devices, conform_progress_t *progress) {
    conf_run_t run;
    conf_options_t options = a->options;
    options.progress = conform_progress_report;
    options.progress_context = progress;
    char reason[512];
    snprintf(reason, sizeof reason, "%s", device ? "" : xhal_last_error());
    xhal_status_t status = device ? conf_run_device(device, &options, &run)
                                  : conf_run_no_device(spec, reason, &options, &run);
    conform_progress_clear(progress);
    int failed = conf_run_failed(&run) || status != XHAL_OK;
    if (status == XHAL_INVALID_ARGUMENT && run.error[0] && !run.check_count) {
        fprintf(stderr, "xhal %s: %s\n", a->command, run.error);
        conf_run_free(&run);
        return 1;
    }
    conf_print_summary(stdout, &run, a->verbose);
    char dir[4096], error[512];
    report_dir(a, run.device.spec, devices, dir, sizeof dir);
    if (!a->reports) {
        /* `xhal check`: the summary is the result */
    } else if (conf_write_reports(&run, dir, error, sizeof error) != 0) {
        fprintf(stderr, "xhal %s: %s\n", a->command, error);
        failed = 1;
    } else {
        printf("report: %s/report.md (and report.json, report.csv, roofline.svg, "
               "roofline_pct.svg)\n",
               dir);
    }
    fflush(stdout);
    conf_run_free(&run);
    return failed;
}

int tool_conform_run(const tool_conform_t *a) {
    size_t count = a->spec_count;
    xhal_status_t status = count ? XHAL_OK : xhal_device_count(&count);
    if (status != XHAL_OK) return tool_fail(status, "xhal_device_count");
    if (count == 0) {
        fprintf(stderr, "xhal %s: no device found; 'xhal devices' says why\n", a->command);
        return TOOL_EXIT_FAILURE;
    }
    tool_conform_t run = *a;
    char cache[4096];
    if (tool_peak_cache_path(cache, sizeof cache) == 0) run.options.peaks_cache = cache;
    conform_progress_t progress;
    conform_progress_init(&progress, a->quiet);
    size_t failed_devices = 0;
    for (size_t i = 0; i < count; i++) {
        xhal_device_t *device = NULL;
        const char *spec = a->spec_count ? a->specs[i] : NULL;
        status = spec ? xhal_device_open(spec, &device) : xhal_device_get(i, &device);
        if (status == XHAL_UNAVAILABLE && spec) {
            /* A backend without a device here: its cases are listed as SKIP, none passes. */
            failed_devices += (size_t)conform_device(NULL, spec, &run, count, &progress);
            continue;
        }
        if (status != XHAL_OK) {
            tool_report(status, spec ? "xhal_device_open" : "xhal_device_get");
            failed_devices++;
            continue;
        }
        failed_devices += (size_t)conform_device(device, spec, &run, count, &progress);
    }
    if (count > 1)
        printf("\nxhal %s: %zu device%s, %zu with failures\n", a->command, count,
               count == 1 ? "" : "s", failed_devices);
    return failed_devices ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}

/* Parses conform's options and runs; with `check`, as `xhal check` does (tool_conform.h). */
static int parse_and_run(int argc, char **argv, int check) {
    tool_conform_t args;
    memset(&args, 0, sizeof args);
    conf_options_init(&args.options);
    args.command = check ? "check" : "conform";
    args.reports = !check;
    args.verbose = check;
    args.quiet = check;
    args.specs = calloc((size_t)argc, sizeof *args.specs);
    if (!args.specs) {
        fprintf(stderr, "xhal %s: out of host memory\n", args.command);
        return TOOL_EXIT_FAILURE;
    }
    int code = parse_options(argc, argv, &args);
    if (code < 0) code = tool_conform_run(&args);
    free(args.specs);
    return code;
}

int tool_conform_check(int argc, char **argv) {
    return parse_and_run(argc, argv, 1);
}

static int run_conform(int argc, char **argv) {
    return parse_and_run(argc, argv, 0);
}

const tool_command_t tool_cmd_conform = {
    .name = "conform",
    .summary = "the conformance suite: correctness and utilization reports per device",
    .help = conform_help,
    .run = run_conform,
};
