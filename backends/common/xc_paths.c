/* See xc_paths.h. */
#include "xc_paths.h"

#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef XHAL_DATA_RELATIVE
#define XHAL_DATA_RELATIVE "../share/xhal"
#endif

static int format(char *out, size_t size, const char *a, const char *b) {
    int n = snprintf(out, size, "%s%s", a, b);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int xc_user_cache_dir(xc_lookup_fn lookup, char *out, size_t size) {
    const char *xdg = lookup("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') return format(out, size, xdg, "/xhal");
    const char *home = lookup("HOME");
    if (home && *home) return format(out, size, home, "/.cache/xhal");
    return -1;
}

int xc_library_dir(const void *anchor, char *out, size_t size) {
    Dl_info self;
    if (!dladdr(anchor, &self) || !self.dli_fname) return -1;
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", self.dli_fname);
    return format(out, size, dirname(copy), "");
}

/* Writes <dir>/<file> into out when it exists and is readable; 0, else -1. */
static int try_file(const char *dir, const char *up, const char *relative, const char *file,
                    char *out, size_t size) {
    int n = snprintf(out, size, "%s%s%s%s/%s", dir, up, relative[0] ? "/" : "", relative, file);
    return n > 0 && (size_t)n < size && access(out, R_OK) == 0 ? 0 : -1;
}

int xc_data_file(xc_lookup_fn lookup, const void *anchor, int plugin, const char *file, char *out,
                 size_t size) {
    const char *env = lookup("XHAL_DATA_DIR");
    if (env && try_file(env, "", "", file, out, size) == 0) return 0;
    char libdir[PATH_MAX];
    if (xc_library_dir(anchor, libdir, sizeof libdir) != 0) return -1;
    const char *up = plugin ? "/.." : "";
    if (try_file(libdir, up, XHAL_DATA_RELATIVE, file, out, size) == 0) return 0;
    return try_file(libdir, up, "../share/xhal", file, out, size);
}
