/*
 * `xhal check`: the conformance suite's correctness part (conformance/), every case listed, no
 * report files: the quick proof that a device computes the right thing. The same cases, fp64
 * reference and bounds as `xhal conform --only correctness`, which a port's acceptance test runs
 * (docs/PORTING.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_conform.h"
#include "tool_util.h"

static const char check_help[] =
    "usage: xhal check [--device SPEC]... [--quick] [--seed N] [--op LIST] [--dtype LIST]\n"
    "\n"
    "Runs the correctness part of the conformance suite (`xhal conform --only correctness`) on\n"
    "each device and lists every case: GEMM and attention in f32, f16 and bf16 (odd shapes,\n"
    "transposes, padded leading dimensions, batches; GQA and MQA, BSHD and BHSD, causal and not,\n"
    "decode), each compared with an fp64 reference. Inputs are seeded random values, outputs are\n"
    "poisoned with NaN before each run; a case passes when no output is NaN or Inf, the relative\n"
    "Frobenius error is within its bound, and padding and inputs are unchanged. A case the device\n"
    "does not support is SKIP, with the reason the library gives. No report files are written.\n"
    "\n"
    "options:\n"
    "  --device SPEC  check this device (repeatable): \"cpu\", \"opencl:0\", \"cuda:1\",\n"
    "                 \"opencl:pocl\"; default: every device found (XHAL_DEVICE is ignored)\n"
    "  --quick        the CI-sized subset of the cases\n"
    "  --seed N       seed of the random inputs (default 1); the same seed gives the same inputs\n"
    "  --op LIST      gemm, attention (comma-separated); default: both\n"
    "  --dtype LIST   f32, f16, bf16; default: all three\n"
    "  -h, --help     show this text\n"
    "\n"
    "Exits 0 when nothing failed, 1 when a case failed or a device did not open, 2 on a usage\n"
    "error.\n";

/* Passes the options it knows on to conform's parser by building its argument list. */
static int run_check(int argc, char **argv) {
    /* conform, --only correctness, then the user's options (two entries each at most). */
    const char **forward = calloc(2 * (size_t)argc + 4, sizeof *forward);
    if (!forward) {
        fprintf(stderr, "xhal check: out of host memory\n");
        return TOOL_EXIT_FAILURE;
    }
    int n = 0;
    forward[n++] = "conform";
    forward[n++] = "--only";
    forward[n++] = "correctness";
    int code = -1;
    for (int i = 1; code < 0 && i < argc; i++) {
        const char *value = NULL;
        int found = 0;
        static const char *const valued[] = {"--device", "--seed", "--op", "--dtype"};
        if (tool_is_help(argv[i])) {
            fputs(check_help, stdout);
            code = TOOL_EXIT_OK;
            break;
        }
        if (strcmp(argv[i], "--quick") == 0) {
            forward[n++] = argv[i];
            continue;
        }
        for (size_t k = 0; !found && k < sizeof valued / sizeof valued[0]; k++) {
            int at = i;
            found = tool_option_value(argc, argv, &i, valued[k], &value);
            if (found < 0) code = tool_usage_error("check", "option '%s' needs a value", argv[at]);
            if (found > 0) {
                if (!strcmp(valued[k], "--device") && !*value)
                    code = tool_usage_error("check", "--device wants a spec, not ''");
                forward[n++] = valued[k];
                forward[n++] = value;
            }
        }
        if (!found && code < 0) code = tool_usage_error("check", "unknown option '%s'", argv[i]);
    }
    if (code < 0) code = tool_conform_check((int)n, (char **)forward);
    free(forward);
    return code;
}

const tool_command_t tool_cmd_check = {
    .name = "check",
    .summary = "the conformance suite's correctness cases on each device, every case listed",
    .help = check_help,
    .run = run_check,
};
