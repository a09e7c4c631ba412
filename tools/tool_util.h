/*
 * Shared pieces of the `xhal` command: the command table entry, exit codes, error reporting,
 * option matching, unit formatting and a small JSON writer.
 */
#ifndef XHAL_TOOL_UTIL_H
#define XHAL_TOOL_UTIL_H

#include <stdio.h>

#include <xhal/xhal.h>

/* Exit codes of every command; `xhal --help` documents them. */
enum {
    TOOL_EXIT_OK = 0,
    TOOL_EXIT_FAILURE = 1, /* a check failed, or an xhal call did */
    TOOL_EXIT_USAGE = 2,   /* unknown command or option, missing or bad value */
};

typedef struct tool_command {
    const char *name;
    const char *summary; /* one line in `xhal --help` */
    const char *help;    /* the whole text of `xhal <name> --help` */
    /* argv[0] is the command's name; returns a TOOL_EXIT_* code. */
    int (*run)(int argc, char **argv);
} tool_command_t;

extern const tool_command_t tool_cmd_devices;
extern const tool_command_t tool_cmd_check;
extern const tool_command_t tool_cmd_bench;
extern const tool_command_t tool_cmd_conform;
extern const tool_command_t tool_cmd_peak;
extern const tool_command_t tool_cmd_compare;
extern const tool_command_t tool_cmd_tune;

/*
 * xhal_last_error(), less a leading "<context>: ": the library's messages start with the function
 * that failed, which the tool already names as the context.
 */
const char *tool_error_message(const char *context);

/* Prints "xhal: <context>: <STATUS_NAME>: <xhal_last_error()>" on stderr; returns `status`. */
xhal_status_t tool_report(xhal_status_t status, const char *context);
/* tool_report, then returns TOOL_EXIT_FAILURE: `return tool_fail(status, "xhal_init");`. */
int tool_fail(xhal_status_t status, const char *context);

/* Prints "xhal <command>: <message>" and the --help hint on stderr; returns TOOL_EXIT_USAGE. */
int tool_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True for "-h" and "--help". */
int tool_is_help(const char *arg);

/*
 * Matches argv[*i] against an option taking a value, "--name VALUE" or "--name=VALUE".
 * Returns 0 when it is another option, 1 with *out_value set (and *i moved past a separate
 * value), or -1 when the value is missing.
 */
int tool_option_value(int argc, char **argv, int *i, const char *name, const char **out_value);

/* "unknown", or the value in GFLOP/s or TFLOP/s. */
void tool_format_flops(double flops, char *out, size_t size);
/* "unknown", or the value in GB/s or TB/s (decimal units, as datasheets print them). */
void tool_format_bandwidth(double bytes_per_second, char *out, size_t size);

/* Writes a number, or null when it is 0 or not finite (the API's "unknown"). */
void tool_json_known(FILE *out, double value);

/* getenv, with an empty value taken as unset (the library's rule for its options). */
const char *tool_env(const char *name);

/* <user cache>/xhal/peaks.ini, where `xhal peak` stores what it measures; 0, or -1 when neither
 * XDG_CACHE_HOME nor HOME is set. */
int tool_peak_cache_path(char *out, size_t size);

#endif
