/*
 * Tuned parameters from an INI file, chosen per device: the generic half of every backend's
 * tuning (kernels/tuning/<backend>.ini), and the device matching devices.ini uses too.
 *
 * Which sections apply to a device, in the order they apply (a later one overrides):
 *   1. [default]                                   what an unknown device gets;
 *   2. [<architecture>]   e.g. [sm_90], [gfx942]    when the backend names one;
 *   3. the first other section, in file order, whose `match` key has a ','- or '|'-separated
 *      substring (case-insensitive) of the device's identity ("*" matches any device) and
 *      whose `type` key, when present, is the device's type (cpu, gpu, accelerator);
 *   4. [<device name>]    e.g. [NVIDIA H100 80GB HBM3], exactly as the runtime names it.
 *
 * Which file: the first found of
 *   1. $XHAL_<BACKEND>_TUNING (a file named by the user);
 *   2. <user cache>/xhal/<backend>.ini (xc_user_cache_dir; where a tuner writes);
 *   3. <datadir>/xhal/<backend>.ini of the install (xc_data_file);
 *   4. the copy compiled into the plugin, so a plugin moved away from its data still runs tuned.
 * Over the sections of that file come the [parameters] of the device's tuned file (xc_tuned.h:
 * $XHAL_TUNING_FILE, else the one `xhal tune` wrote in <user cache>/xhal/tuning/), merged into
 * the section named like the device (4), so they apply last, through the same range checks.
 */
#ifndef XHAL_BACKENDS_COMMON_XC_TUNING_H
#define XHAL_BACKENDS_COMMON_XC_TUNING_H

#include <limits.h>
#include <stddef.h>

#include "xhal/xhal_backend.h"

#include "xc_ini.h"

/* What a section is matched against. Any field may be NULL. */
typedef struct xc_device_id {
    const char *name;     /* exact device name: section (4) */
    const char *arch;     /* architecture section name: section (2) */
    const char *type;     /* "cpu", "gpu" or "accelerator", for `type` keys */
    const char *identity; /* where `match` substrings are looked for; NULL: the name */
    /* The key of the per-device tuned file (xc_tuned.h); without `kernels` none is read. */
    const char *driver;  /* driver version */
    const char *kernels; /* hash of the backend's kernel sources (xc_tuned_hash) */
} xc_device_id_t;

/* True when `patterns` (','- or '|'-separated, "*" for any) has a substring of `text`. */
int xc_tuning_pattern_matches(const char *patterns, const char *text);

/* The first section (file order) other than [default], [arch] and [name] that matches (3). */
size_t xc_tuning_match(const xc_ini_t *ini, const xc_device_id_t *id);

/* The sections that apply, in order (see above); returns how many (at most 4) are in out. */
size_t xc_tuning_sections(const xc_ini_t *ini, const xc_device_id_t *id, size_t out[4]);

/* ---- Parameters ---- */

typedef enum xc_param_kind { XC_PARAM_INT, XC_PARAM_TEXT } xc_param_kind_t;

/* One key a backend reads into a field of its tuning struct. */
typedef struct xc_param {
    const char *key;
    size_t offset, size; /* of the field: an int, or a char array */
    long min, max;       /* XC_PARAM_INT: the accepted range */
    xc_param_kind_t kind;
    int power_of_two; /* XC_PARAM_INT: only powers of two in the range */
} xc_param_t;

#define XC_INT_PARAM(type, field, lo, hi, pow2)                                                    \
    { #field, offsetof(type, field), sizeof(int), (lo), (hi), XC_PARAM_INT, (pow2) }
#define XC_TEXT_PARAM(type, field)                                                                 \
    { #field, offsetof(type, field), sizeof(((type *)0)->field), 0, 0, XC_PARAM_TEXT, 0 }

/* Told about each problem: a sentence naming the source, section, line, key and value (a section
 * with a `source` key names that file instead: a tuned file merged in). */
typedef void (*xc_tuning_warn_fn)(void *context, const char *message);

/*
 * Sets the fields of `out` (a struct `params` describes) from the keys of section `section`.
 * A key no param names (other than `match`, `type`, `name` and `source`) or a value out of its
 * param's range is told to `warn` and skipped, keeping the field as it was. Returns the number
 * of problems.
 */
size_t xc_tuning_apply(const xc_ini_t *ini, size_t section, const char *source,
                       const xc_param_t *params, size_t count, void *out, xc_tuning_warn_fn warn,
                       void *context);

/* Checks every section's keys against `params` without applying them; returns the problems. */
size_t xc_tuning_check(const xc_ini_t *ini, const char *source, const xc_param_t *params,
                       size_t count, xc_tuning_warn_fn warn, void *context);

/*
 * The GPU backends' rule for a bad file: every section is checked against `params` first, and
 * any problem (an unknown key, a value out of range) rejects the whole file: -1 with the first
 * problem in `error`, `out` unchanged. Otherwise the sections that apply to `id` are applied in
 * order and 0 is returned.
 */
int xc_tuning_apply_strict(const xc_ini_t *ini, const char *source, const xc_device_id_t *id,
                           const xc_param_t *params, size_t count, void *out, char *error,
                           size_t error_size);

/* ---- The file ---- */

typedef struct xc_tuning_file {
    xc_ini_t *ini; /* NULL when nothing could be read (then every field keeps its default) */
    char source[PATH_MAX]; /* the path read, or "the <backend>.ini compiled in" */
    char tuned[PATH_MAX];  /* the tuned file merged in, "" when none */
    char ignored[768];     /* why a tuned file that exists was not used, "" when none was */
} xc_tuning_file_t;

/*
 * Opens the tuning file of `backend` ("opencl", "cuda", "hip") for device `id` in the order
 * above, through the host's options. `anchor` is any object of the plugin (to find its install),
 * `builtin` the compiled-in copy (NUL-terminated; may be NULL). A file named by the variable
 * that cannot be read, or a file that does not parse, is logged at warn and the next is tried.
 */
void xc_tuning_open(const xhal_host_api_t *host, const char *backend, const xc_device_id_t *id,
                    const void *anchor, const char *builtin, xc_tuning_file_t *out);
void xc_tuning_close(xc_tuning_file_t *file);

#endif
