/*
 * The configuration of a run, read once: at xhal_init every XHAL_* variable of the environment
 * is copied here, with the few other variables the library consults (HOME and XDG_CACHE_HOME
 * for the user's cache folder, OCL_ICD_VENDORS to explain a missing OpenCL platform). The core
 * reads them with xhal_option() and backends with their host's option() entry, so this is the
 * only file of the library that reads the environment: no getenv on a hot path, and no setting
 * that changes meaning in the middle of a run. xhal_shutdown() forgets them; the next init reads
 * the environment again.
 *
 * Written under the registry lock by init and shutdown, read without one between them (as the
 * registry is).
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

extern char **environ;

/* Variables outside XHAL_* that the library reads. */
static const char *const outside[] = {"HOME", "XDG_CACHE_HOME", "OCL_ICD_VENDORS"};

/* "NAME=value" copies, for the non-empty variables found at init. */
static char **options;
static size_t option_count;

void xhal_options_clear(void) {
    for (size_t i = 0; i < option_count; i++)
        free(options[i]);
    free(options);
    options = NULL;
    option_count = 0;
}

static void keep(const char *entry) {
    const char *equals = strchr(entry, '=');
    if (!equals || !equals[1]) return; /* empty means unset */
    char *copy = strdup(entry);
    if (copy) options[option_count++] = copy;
}

xhal_status_t xhal_options_load(void) {
    xhal_options_clear();
    size_t count = sizeof outside / sizeof outside[0];
    for (char **e = environ; e && *e; e++)
        count++;
    options = calloc(count, sizeof *options);
    if (!options) return xhal_set_error(XHAL_OUT_OF_MEMORY, "xhal_init: out of host memory");
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "XHAL_", 5) == 0) keep(*e);
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        const char *value = getenv(outside[i]);
        if (!value) continue;
        size_t length = strlen(outside[i]) + strlen(value) + 2;
        char *entry = malloc(length);
        if (!entry) continue;
        memcpy(entry, outside[i], strlen(outside[i]));
        entry[strlen(outside[i])] = '=';
        memcpy(entry + strlen(outside[i]) + 1, value, strlen(value) + 1);
        keep(entry);
        free(entry);
    }
    return XHAL_OK;
}

const char *xhal_option(const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < option_count; i++)
        if (strncmp(options[i], name, n) == 0 && options[i][n] == '=') return options[i] + n + 1;
    return NULL;
}
