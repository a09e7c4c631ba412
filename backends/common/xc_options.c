/* See xc_options.h. */
#include "xc_options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *no_option(const char *name) {
    (void)name;
    return NULL;
}

void xc_option_name(char *out, size_t size, const char *backend, const char *what) {
    char upper[32];
    size_t n = 0;
    for (; backend[n] && n + 1 < sizeof upper; n++)
        upper[n] = (char)(backend[n] >= 'a' && backend[n] <= 'z' ? backend[n] - 32 : backend[n]);
    upper[n] = '\0';
    snprintf(out, size, "XHAL_%s_%s", upper, what);
}

xc_lookup_fn xc_host_lookup(const xhal_host_api_t *host) {
    if (host->struct_size < offsetof(xhal_host_api_t, option) + sizeof host->option ||
        !host->option)
        return no_option;
    return host->option;
}

long xc_option_int(const xhal_host_api_t *host, const char *name, long lo, long hi, long fallback) {
    const char *text = xhal_host_option(host, name);
    if (!text) return fallback;
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < lo || value > hi) {
        host->log(XHAL_LOG_WARN, "%s=\"%s\" is not an integer in %ld..%ld; using %ld", name, text,
                  lo, hi, fallback);
        return fallback;
    }
    return value;
}

/* Copies XHAL_<backend>_<what> into out when it names one of `kinds`. */
static void load_kind(const xhal_host_api_t *host, const char *backend, const char *what,
                      const char *const *kinds, char *out, size_t size) {
    char name[64];
    xc_option_name(name, sizeof name, backend, what);
    out[0] = '\0';
    const char *value = xhal_host_option(host, name);
    if (!value) return;
    char known[256] = "";
    for (size_t i = 0; kinds && kinds[i]; i++) {
        if (strcmp(kinds[i], value) == 0) {
            snprintf(out, size, "%s", value);
            return;
        }
        size_t used = strlen(known);
        snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", kinds[i]);
    }
    host->log(XHAL_LOG_WARN, "%s=%s is not one of %s; the kernel is chosen as usual", name, value,
              known);
}

void xc_forced_load(const xhal_host_api_t *host, const char *backend, const char *const *gemm_kinds,
                    const char *const *attention_kinds, xc_forced_t *out) {
    memset(out, 0, sizeof *out);
    load_kind(host, backend, "GEMM", gemm_kinds, out->gemm, sizeof out->gemm);
    load_kind(host, backend, "ATTENTION", attention_kinds, out->attention, sizeof out->attention);
    char name[64];
    xc_option_name(name, sizeof name, backend, "STRICT");
    const char *strict = xhal_host_option(host, name);
    out->strict = strict && strcmp(strict, "0") != 0;
}

xhal_status_t xc_forced_check(const xhal_host_api_t *host, const char *backend,
                              const xc_forced_t *forced, const char *op, int refused,
                              const char *chosen) {
    int gemm = strcmp(op, "gemm") == 0;
    const char *kind = gemm ? forced->gemm : forced->attention;
    if (!refused || !forced->strict || !kind[0]) return XHAL_OK;
    char lower[32];
    size_t n = 0;
    for (; backend[n] && n + 1 < sizeof lower; n++)
        lower[n] = (char)(backend[n] >= 'A' && backend[n] <= 'Z' ? backend[n] + 32 : backend[n]);
    lower[n] = '\0';
    return host->set_error(XHAL_UNSUPPORTED,
                           "%s: XHAL_%s_%s=%s cannot run this %s (the %s kernel "
                           "would)",
                           lower, backend, gemm ? "GEMM" : "ATTENTION", kind, gemm ? "GEMM" : op,
                           chosen);
}
