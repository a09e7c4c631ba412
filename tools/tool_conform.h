/*
 * Running the conformance suite from the command line: what `xhal conform` does with its
 * options, and what `xhal check` (the suite's quick correctness mode) does with fewer.
 */
#ifndef XHAL_TOOL_CONFORM_H
#define XHAL_TOOL_CONFORM_H

#include <stddef.h>

#include "conform.h"

typedef struct tool_conform {
    conf_options_t options;
    const char **specs; /* devices to run on; none: every device found */
    size_t spec_count;
    const char *out;     /* the report folder (see `xhal conform --help`); NULL: the default */
    int verbose, quiet;  /* every correctness case on stdout; no progress line */
    int reports;         /* write report.md and the others */
    const char *command; /* "conform" or "check": the name in messages */
} tool_conform_t;

/* Runs the suite on each device, prints the summaries and writes the reports; TOOL_EXIT_*. */
int tool_conform_run(const tool_conform_t *run);

/*
 * `xhal check`: conform's options in argv (argv[0] "conform"), every correctness case listed,
 * no progress line and no report files; TOOL_EXIT_*.
 */
int tool_conform_check(int argc, char **argv);

#endif
