/*
 * Where xhal's files are: the user's cache (tuned files, program binaries, measured peaks) and
 * the data an install ships (devices.ini, the tuning files), found relative to the library that
 * asks, so that an install moved elsewhere, or the build tree, still finds its own.
 *
 * Every function reads the environment through `lookup` (the host's option(): the values
 * xhal_init captured; the xhal tool passes getenv), never by itself.
 */
#ifndef XHAL_BACKENDS_COMMON_XC_PATHS_H
#define XHAL_BACKENDS_COMMON_XC_PATHS_H

#include <stddef.h>

/* Returns the value of environment variable `name` as captured, or NULL when unset or empty. */
typedef const char *(*xc_lookup_fn)(const char *name);

/*
 * xhal's folder in the user's cache: $XDG_CACHE_HOME/xhal when XDG_CACHE_HOME is an absolute
 * path (the XDG rule), else $HOME/.cache/xhal. 0, or -1 when neither is set (or it is too
 * long). Nothing is created.
 */
int xc_user_cache_dir(xc_lookup_fn lookup, char *out, size_t size);

/* The folder of the shared object (or program) that holds `anchor`. 0, or -1. */
int xc_library_dir(const void *anchor, char *out, size_t size);

/*
 * The first readable `file` among: $XHAL_DATA_DIR/, then the data folder of the install the
 * library holding `anchor` belongs to (<libdir>/XHAL_DATA_RELATIVE, which CMake computes from
 * the install folders), then <libdir>/../share/xhal (the usual install, and the layout the build
 * tree copies its data into). `plugin` says the library is a plugin in <libdir>/xhal/. 0 with
 * the path in `out`, or -1 when none exists.
 */
int xc_data_file(xc_lookup_fn lookup, const void *anchor, int plugin, const char *file, char *out,
                 size_t size);

#endif
