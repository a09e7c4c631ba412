#include "tool_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xc_paths.h"

const char *tool_error_message(const char *context) {
    const char *message = xhal_last_error();
    size_t length = strlen(context);
    if (strncmp(message, context, length) == 0 && message[length] == ':' &&
        message[length + 1] == ' ')
        return message + length + 2;
    return message;
}

xhal_status_t tool_report(xhal_status_t status, const char *context) {
    /* Flushed first so that the error lands after the result lines it belongs to. */
    fflush(stdout);
    fprintf(stderr, "xhal: %s: %s: %s\n", context, xhal_status_name(status),
            tool_error_message(context));
    return status;
}

int tool_fail(xhal_status_t status, const char *context) {
    tool_report(status, context);
    return TOOL_EXIT_FAILURE;
}

int tool_usage_error(const char *command, const char *fmt, ...) {
    va_list args;
    fflush(stdout);
    fprintf(stderr, "xhal%s%s: ", command ? " " : "", command ? command : "");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\nTry 'xhal%s%s --help'.\n", command ? " " : "", command ? command : "");
    return TOOL_EXIT_USAGE;
}

int tool_is_help(const char *arg) {
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int tool_option_value(int argc, char **argv, int *i, const char *name, const char **out_value) {
    const char *arg = argv[*i];
    size_t length = strlen(name);
    if (strncmp(arg, name, length) != 0) return 0;
    if (arg[length] == '=') {
        *out_value = arg + length + 1;
        return 1;
    }
    if (arg[length] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *i += 1;
    *out_value = argv[*i];
    return 1;
}

void tool_format_flops(double flops, char *out, size_t size) {
    if (!(flops > 0) || !isfinite(flops))
        snprintf(out, size, "unknown");
    else if (flops >= 1e12)
        snprintf(out, size, "%.1f TFLOP/s", flops / 1e12);
    else
        snprintf(out, size, "%.1f GFLOP/s", flops / 1e9);
}

void tool_format_bandwidth(double bytes_per_second, char *out, size_t size) {
    if (!(bytes_per_second > 0) || !isfinite(bytes_per_second))
        snprintf(out, size, "unknown");
    else if (bytes_per_second >= 1e12)
        snprintf(out, size, "%.2f TB/s", bytes_per_second / 1e12);
    else
        snprintf(out, size, "%.1f GB/s", bytes_per_second / 1e9);
}

void tool_json_known(FILE *out, double value) {
    if (value == 0 || !isfinite(value))
        fputs("null", out);
    else
        fprintf(out, "%.10g", value);
}

const char *tool_env(const char *name) {
    const char *value = getenv(name);
    return value && *value ? value : NULL;
}

int tool_peak_cache_path(char *out, size_t size) {
    char dir[4096];
    if (xc_user_cache_dir(tool_env, dir, sizeof dir) != 0) return -1;
    int n = snprintf(out, size, "%s/peaks.ini", dir);
    return n > 0 && (size_t)n < size ? 0 : -1;
}
