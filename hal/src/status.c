/* Status names, the thread-local last error, and logging. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"

/* Long enough for a build log's head; longer messages are cut, never overflowed. */
#define XHAL_ERROR_CAPACITY 4096

static _Thread_local char tls_error[XHAL_ERROR_CAPACITY];

/* Read without a lock: an int written at init, and a stale read only changes what is logged. */
static xhal_log_level_t log_level = XHAL_LOG_OFF;

const char *xhal_status_name(xhal_status_t status) {
    switch (status) {
    case XHAL_OK:
        return "XHAL_OK";
    case XHAL_INVALID_ARGUMENT:
        return "XHAL_INVALID_ARGUMENT";
    case XHAL_OUT_OF_RANGE:
        return "XHAL_OUT_OF_RANGE";
    case XHAL_OUT_OF_MEMORY:
        return "XHAL_OUT_OF_MEMORY";
    case XHAL_UNSUPPORTED:
        return "XHAL_UNSUPPORTED";
    case XHAL_UNAVAILABLE:
        return "XHAL_UNAVAILABLE";
    case XHAL_DEVICE_ERROR:
        return "XHAL_DEVICE_ERROR";
    case XHAL_INTERNAL:
        return "XHAL_INTERNAL";
    }
    return "XHAL_UNKNOWN_STATUS";
}

const char *xhal_last_error(void) {
    return tls_error;
}

static xhal_status_t set_error_v(xhal_status_t status, const char *fmt, va_list args) {
    char message[XHAL_ERROR_CAPACITY];
    /* Format into a copy first: the arguments may point into tls_error itself. */
    vsnprintf(message, sizeof message, fmt, args);
    memcpy(tls_error, message, sizeof message);
    xhal_log(XHAL_LOG_DEBUG, "%s: %s", xhal_status_name(status), message);
    return status;
}

xhal_status_t xhal_set_error(xhal_status_t status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    set_error_v(status, fmt, args);
    va_end(args);
    return status;
}

void xhal_log_configure(void) {
    const char *value = xhal_option("XHAL_LOG");
    log_level = XHAL_LOG_OFF;
    if (!value || !*value) return;
    if (!strcasecmp(value, "debug"))
        log_level = XHAL_LOG_DEBUG;
    else if (!strcasecmp(value, "info"))
        log_level = XHAL_LOG_INFO;
    else if (!strcasecmp(value, "warn") || !strcasecmp(value, "warning"))
        log_level = XHAL_LOG_WARN;
    else if (strcasecmp(value, "off") != 0) {
        log_level = XHAL_LOG_WARN;
        xhal_log(XHAL_LOG_WARN, "XHAL_LOG=%s is not one of debug, info, warn, off; using warn",
                 value);
    }
}

int xhal_log_enabled(xhal_log_level_t level) {
    return level >= log_level && level < XHAL_LOG_OFF;
}

void xhal_log(xhal_log_level_t level, const char *fmt, ...) {
    static const char *const names[] = {"debug", "info", "warn"};
    if (!xhal_log_enabled(level)) return;
    char line[XHAL_ERROR_CAPACITY];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    /* One fprintf per line keeps lines from several threads whole. */
    fprintf(stderr, "[xhal %s] %s\n", names[level], line);
}

static xhal_status_t host_set_error(xhal_status_t status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    set_error_v(status, fmt, args);
    va_end(args);
    return status;
}

static void host_log(xhal_log_level_t level, const char *fmt, ...) {
    if (!xhal_log_enabled(level)) return;
    char line[XHAL_ERROR_CAPACITY];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    xhal_log(level, "%s", line);
}

void xhal_format(char *out, size_t size, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(out, size, fmt, args);
    va_end(args);
}

const xhal_host_api_t *xhal_host_api(void) {
    static const xhal_host_api_t host = {
        .struct_size = sizeof(xhal_host_api_t),
        .set_error = host_set_error,
        .log = host_log,
        .log_enabled = xhal_log_enabled,
        .option = xhal_option,
    };
    return &host;
}
