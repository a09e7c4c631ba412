/*
 * What the reader fuzz targets (fuzz_ini.c, fuzz_cache.c) share: the services table a backend's
 * code is given (xhal_backend.h), whose log keeps the last line and counts warnings so that the
 * targets can check what was said, a scratch folder of the process, and a way to stop with the
 * reason when a check fails (libFuzzer then keeps the input as a crash).
 */
#ifndef XHAL_FUZZ_HOST_H
#define XHAL_FUZZ_HOST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xhal/xhal_backend.h"

static char fuzz_log_line[2048];
static size_t fuzz_warnings;
static const char *fuzz_option_name, *fuzz_option_value;

/* Stops the run: the message says which property failed. */
__attribute__((noreturn, format(printf, 1, 2))) static void fuzz_fail(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs("fuzz check failed: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    abort();
}

static xhal_status_t fuzz_set_error(xhal_status_t status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(fuzz_log_line, sizeof fuzz_log_line, fmt, args);
    va_end(args);
    return status;
}

static void fuzz_log(xhal_log_level_t level, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(fuzz_log_line, sizeof fuzz_log_line, fmt, args);
    va_end(args);
    fuzz_warnings += level == XHAL_LOG_WARN;
}

static int fuzz_log_enabled(xhal_log_level_t level) {
    (void)level;
    return 1;
}

static const char *fuzz_option(const char *name) {
    return fuzz_option_name && strcmp(name, fuzz_option_name) == 0 ? fuzz_option_value : NULL;
}

static const xhal_host_api_t fuzz_host = {sizeof(xhal_host_api_t), fuzz_set_error, fuzz_log,
                                          fuzz_log_enabled, fuzz_option};

/*
 * A scratch folder of this process, in memory where there is /dev/shm (the targets write a file
 * per input, and fsync there costs nothing), else in $TMPDIR. 0, or -1.
 */
static int fuzz_scratch_dir(const char *what, char *out, size_t size) {
    const char *tmp = getenv("TMPDIR");
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : tmp && *tmp ? tmp : "/tmp";
    snprintf(out, size, "%s/xhal-fuzz-%s-%ld", base, what, (long)getpid());
    return mkdir(out, 0700) == 0 || access(out, W_OK) == 0 ? 0 : -1;
}

#endif
