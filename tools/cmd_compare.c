/* `xhal compare`: report.json files of several runs side by side (conformance/conf_compare.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "tool_util.h"

static const char compare_help[] =
    "usage: xhal compare REPORT.json REPORT.json... [--out DIR]\n"
    "\n"
    "Puts the utilization of runs from different devices or vendors (the report.json files of\n"
    "`xhal conform`) side by side: a table of the runs (device, backend, driver, xhal version and\n"
    "commit, correctness counts, peaks used) and a table of the cases, matched by case id and\n"
    "dtype, with FLOP/s, bytes/s, MFU, MBU and % of roofline of each run. A shape that a device's\n"
    "budget scaled differently is shown per run. Both tables are printed on stdout and written to\n"
    "DIR/compare.md, with a bar chart of % of roofline (one bar per run) in DIR/compare.svg.\n"
    "\n"
    "options:\n"
    "  --out DIR   where compare.md and compare.svg go (default: ./xhal-compare)\n"
    "  -h, --help  show this text\n"
    "\n"
    "Exits 0 on success, 1 when a file cannot be read or is not a report, 2 on a usage error.\n";

static int run_compare(int argc, char **argv) {
    const char **paths = calloc((size_t)argc, sizeof *paths);
    const char *out = "xhal-compare";
    size_t count = 0;
    if (!paths) return tool_fail(XHAL_OUT_OF_MEMORY, "xhal compare");
    int code = -1;
    for (int i = 1; code < 0 && i < argc; i++) {
        const char *value = NULL;
        int found;
        if (tool_is_help(argv[i])) {
            fputs(compare_help, stdout);
            code = TOOL_EXIT_OK;
        } else if ((found = tool_option_value(argc, argv, &i, "--out", &value)) != 0) {
            if (found < 0 || !*value)
                code = tool_usage_error("compare", "--out wants a folder");
            else
                out = value;
        } else if (argv[i][0] == '-') {
            code = tool_usage_error("compare", "unknown option '%s'", argv[i]);
        } else {
            paths[count++] = argv[i];
        }
    }
    if (code < 0 && count == 0) code = tool_usage_error("compare", "give one or more report.json");
    if (code < 0) {
        char error[512];
        if (conf_compare(paths, count, out, stdout, error, sizeof error) != 0) {
            fflush(stdout);
            fprintf(stderr, "xhal compare: %s\n", error);
            code = TOOL_EXIT_FAILURE;
        } else {
            printf("\nwritten: %s/compare.md, %s/compare.svg\n", out, out);
            code = TOOL_EXIT_OK;
        }
    }
    free(paths);
    return code;
}

const tool_command_t tool_cmd_compare = {
    .name = "compare",
    .summary = "put report.json files of several devices side by side (table and chart)",
    .help = compare_help,
    .run = run_compare,
};
