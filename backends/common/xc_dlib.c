/* See xc_dlib.h. */
#include "xc_dlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

xhal_status_t xc_dlib_open(const xhal_host_api_t *host, const xc_dlib_spec_t *spec, void *table,
                           void **out_library) {
    *out_library = NULL;
    void *library = NULL;
    const char *file = NULL;
    char first_error[512] = "";
    for (size_t i = 0; i < spec->name_count && !library; i++) {
        dlerror();
        library =
            dlopen(spec->names[i], RTLD_NOW | RTLD_LOCAL | (spec->keep_loaded ? RTLD_NODELETE : 0));
        file = spec->names[i];
        const char *why = dlerror();
        if (!library && i == 0) snprintf(first_error, sizeof first_error, "%s", why ? why : "");
    }
    if (!library)
        return host->set_error(XHAL_UNAVAILABLE, "%s %s was not found (%s): %s", spec->what,
                               spec->name_count ? spec->names[0] : "(none)", first_error,
                               spec->install_hint);
    for (size_t i = 0; i < spec->symbol_count; i++) {
        /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
        void *symbol = dlsym(library, spec->symbols[i].name);
        if (!symbol) {
            xhal_status_t status =
                host->set_error(XHAL_UNAVAILABLE, "%s %s lacks %s: %s", spec->what, file,
                                spec->symbols[i].name, spec->old_hint);
            dlclose(library);
            return status;
        }
        memcpy((char *)table + spec->symbols[i].offset, &symbol, sizeof symbol);
    }
    *out_library = library;
    return XHAL_OK;
}
