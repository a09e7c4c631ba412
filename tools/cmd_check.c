/*
 * `xhal check`: runs every op's cases in every dtype on each device, one line per case, and
 * exits 1 when any failed. The quick proof that a port computes the right thing; `make conform`
 * runs it until the conformance suite lands.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tool_util.h"

static const char check_help[] =
    "usage: xhal check [--device SPEC]... [--quick] [--seed N]\n"
    "\n"
    "Runs GEMM (f32, f16, bf16; odd shapes, transposes, padded leading dimensions, batches)\n"
    "and attention (f32, f16, bf16; GQA and MQA, BSHD and BHSD, causal and not, decode) on\n"
    "each device and compares every output with an fp64 reference computed by the tool.\n"
    "Inputs are seeded random values in [-1, 1] rounded to the dtype; outputs are filled with\n"
    "NaN before each run. A case passes when no output is NaN or Inf and the relative\n"
    "Frobenius error is within 1e-5 (f32), 2e-3 (f16) or 1e-2 (bf16). A case the device does\n"
    "not support is SKIP, with the reason the library gives.\n"
    "\n"
    "Prints one line per case (device, op, dtype, shape, PASS/FAIL/SKIP, relative error,\n"
    "device time of the op), then \"N passed, N failed, N skipped\".\n"
    "\n"
    "options:\n"
    "  --device SPEC  check this device (repeatable): \"cpu\", \"opencl:0\", \"cuda:1\",\n"
    "                 \"opencl:pocl\"; default: every device found (XHAL_DEVICE is ignored)\n"
    "  --quick        a few cases per op instead of all of them\n"
    "  --seed N       seed of the random inputs (default 1); the same seed gives the same inputs\n"
    "  -h, --help     show this text\n"
    "\n"
    "Exits 0 when nothing failed, 1 when a case failed or a device did not open, 2 on a usage\n"
    "error.\n";

static const check_op_t *const ops[] = {&check_op_gemm, &check_op_attention};

typedef struct check_options {
    const char **specs; /* argc entries at most */
    size_t spec_count;
    int quick;
    uint64_t seed;
} check_options_t;

typedef struct check_tally {
    size_t passed, failed, skipped;
} check_tally_t;

/* ---- Output ---- */

static void print_header(void) {
    printf("%-12s %-9s %-5s %-38s %-6s %-9s %s\n", "device", "op", "dtype", "shape", "result",
           "rel.err", "time");
}

static void print_line(const char *device, const char *op, xhal_dtype_t dtype, const char *shape,
                       const check_result_t *r) {
    static const char *const outcomes[] = {"PASS", "FAIL", "SKIP"};
    char error[32] = "-", time[32] = "-";
    if (!isnan(r->rel_error)) snprintf(error, sizeof error, "%.2e", r->rel_error);
    if (!isnan(r->ms)) snprintf(time, sizeof time, "%.3f ms", r->ms);
    printf("%-12s %-9s %-5s %-38s %-6s %-9s ", device, op, xhal_dtype_name(dtype), shape,
           outcomes[r->outcome], error);
    if (r->note[0])
        printf("%-10s  %s\n", time, r->note);
    else
        printf("%s\n", time);
    fflush(stdout);
}

static void tally_add(check_tally_t *tally, check_outcome_t outcome) {
    if (outcome == CHECK_PASS) tally->passed++;
    if (outcome == CHECK_FAIL) tally->failed++;
    if (outcome == CHECK_SKIP) tally->skipped++;
}

/* ---- Running ---- */

/* Mixes seed, op, case and dtype, so that each case's inputs do not depend on which others run. */
static uint64_t case_seed(uint64_t seed, size_t op, size_t index, int dtype) {
    return seed * 0x9E3779B97F4A7C15ull ^
           ((uint64_t)op << 32 | (uint64_t)index << 8 | (unsigned)dtype);
}

static void run_op(check_context_t *ctx, const char *device, size_t op_index,
                   const check_options_t *options, check_tally_t *tally) {
    const check_op_t *op = ops[op_index];
    for (size_t index = 0; index < op->case_count; index++) {
        if (options->quick && !op->is_quick(index)) continue;
        char shape[64];
        op->describe(index, shape, sizeof shape);
        for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
            check_result_t r;
            check_result_init(&r);
            ctx->rng = case_seed(options->seed, op_index, index, t);
            op->run(ctx, index, (xhal_dtype_t)t, &r);
            print_line(device, op->name, (xhal_dtype_t)t, shape, &r);
            tally_add(tally, r.outcome);
        }
    }
}

/* The stream and the two events of a device's cases; reports what failed. */
static xhal_status_t open_context(xhal_device_t *device, check_context_t *ctx) {
    xhal_status_t status = xhal_stream_create(device, &ctx->stream);
    if (status != XHAL_OK) return tool_report(status, "xhal_stream_create");
    status = xhal_event_create(device, &ctx->start);
    if (status == XHAL_OK) status = xhal_event_create(device, &ctx->stop);
    if (status != XHAL_OK) return tool_report(status, "xhal_event_create");
    return XHAL_OK;
}

/* Every op on one device. A device that cannot run the check counts as one failure. */
static void check_device(xhal_device_t *device, const check_options_t *options,
                         check_tally_t *tally) {
    xhal_device_info_t info = {.struct_size = sizeof info};
    check_context_t ctx = {.device = device};
    xhal_status_t status = xhal_device_info(device, &info);
    if (status != XHAL_OK) tool_report(status, "xhal_device_info");
    if (status == XHAL_OK) status = open_context(device, &ctx);
    if (status == XHAL_OK) {
        for (size_t op = 0; op < sizeof ops / sizeof ops[0]; op++)
            run_op(&ctx, info.spec, op, options, tally);
    } else {
        tally->failed++;
    }
    xhal_event_destroy(ctx.stop);
    xhal_event_destroy(ctx.start);
    xhal_stream_destroy(ctx.stream);
}

/* The devices named by --device, or all of them; one that does not open counts as a failure. */
static void check_devices(const check_options_t *options, check_tally_t *tally) {
    size_t count = options->spec_count;
    xhal_status_t status = count ? XHAL_OK : xhal_device_count(&count);
    if (status != XHAL_OK) {
        tool_report(status, "xhal_device_count");
        tally->failed++;
        return;
    }
    if (count == 0) {
        fprintf(stderr, "xhal check: no device found; 'xhal devices' says why\n");
        tally->failed++;
        return;
    }
    print_header();
    for (size_t i = 0; i < count; i++) {
        xhal_device_t *device = NULL;
        const char *spec = options->spec_count ? options->specs[i] : NULL;
        status = spec ? xhal_device_open(spec, &device) : xhal_device_get(i, &device);
        if (status == XHAL_OK) {
            check_device(device, options, tally);
        } else {
            tool_report(status, spec ? "xhal_device_open" : "xhal_device_get");
            tally->failed++;
        }
    }
}

/* ---- Options ---- */

static int parse_seed(const char *text, uint64_t *out) {
    char *end = NULL;
    unsigned long long value = strtoull(text, &end, 0);
    if (!*text || *end || text[0] == '-') return 0;
    *out = value;
    return 1;
}

/* Returns -1 to go on, or the exit code (after --help, or on a usage error). */
static int parse_options(int argc, char **argv, check_options_t *options) {
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        int found;
        if (tool_is_help(argv[i])) {
            fputs(check_help, stdout);
            return TOOL_EXIT_OK;
        }
        if (strcmp(argv[i], "--quick") == 0) {
            options->quick = 1;
        } else if ((found = tool_option_value(argc, argv, &i, "--device", &value)) > 0) {
            /* "" would mean the default device to xhal_device_open: not what was asked. */
            if (!*value) return tool_usage_error("check", "--device wants a spec, not ''");
            options->specs[options->spec_count++] = value;
        } else if (!found && (found = tool_option_value(argc, argv, &i, "--seed", &value)) > 0) {
            if (!parse_seed(value, &options->seed))
                return tool_usage_error("check", "--seed wants a number, not '%s'", value);
        } else if (found < 0) {
            return tool_usage_error("check", "option '%s' needs a value", argv[i]);
        } else {
            return tool_usage_error("check", "unknown option '%s'", argv[i]);
        }
    }
    return -1;
}

static int run_check(int argc, char **argv) {
    check_options_t options = {.specs = calloc((size_t)argc, sizeof(const char *)), .seed = 1};
    if (!options.specs) {
        fprintf(stderr, "xhal check: out of host memory\n");
        return TOOL_EXIT_FAILURE;
    }
    int code = parse_options(argc, argv, &options);
    if (code < 0) {
        check_tally_t tally = {0, 0, 0};
        check_devices(&options, &tally);
        printf("%zu passed, %zu failed, %zu skipped\n", tally.passed, tally.failed, tally.skipped);
        code = tally.failed ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
    }
    free(options.specs);
    return code;
}

const tool_command_t tool_cmd_check = {
    .name = "check",
    .summary = "run GEMM and attention on each device against an fp64 reference",
    .help = check_help,
    .run = run_check,
};
