/*
 * Per-device tuned files: what `xhal tune` (issue 20) writes and every backend reads, one format
 * and one loader for OpenCL, CUDA, HIP and Level Zero.
 *
 * Where: <user cache>/xhal/tuning/<backend>-<device slug>-<16 hex digits>.ini, the digits a hash
 * of the device's name and driver version, so that each device and driver has its own file and
 * a new driver starts untuned. $XHAL_TUNING_FILE names another file instead (the tuner points
 * it at the candidate it measures; a user at a file of their own).
 *
 * What: a header section and the parameters, in the INI syntax of xc_ini.h:
 *
 *   [xhal-tuning]
 *   backend = opencl                the backend it is for
 *   device  = cpu-znver4-...        the device name, exactly as the backend reports it
 *   driver  = 6.0+debian            the driver version
 *   kernels = 3f2a...               the hash of the backend's kernel sources (its tuning key)
 *   (date, seed, budget, tool: for people)
 *   [parameters]
 *   gemm_vw = 16
 *   ...
 *
 * A file that does not parse is corrupt; one for another backend, device or driver is foreign;
 * one for other kernel sources is stale. Each is reported (XHAL_LOG=warn) and ignored, and the
 * device keeps the shipped tuning: never a crash, never a parameter from a file that does not
 * belong to it. The parameters still go through the backend's range checks and device fit.
 *
 * Lookup order at run time (xc_tuning_open): the tuned file's [parameters] over the sections
 * of the shipped tuning that match the device, over the values compiled into the backend.
 */
#ifndef XHAL_BACKENDS_COMMON_XC_TUNED_H
#define XHAL_BACKENDS_COMMON_XC_TUNED_H

#include <stddef.h>

#include "xc_ini.h"
#include "xc_paths.h"

#define XC_TUNED_HEADER "xhal-tuning"
#define XC_TUNED_PARAMETERS "parameters"
#define XC_TUNED_VARIABLE "XHAL_TUNING_FILE"

/* What a tuned file is keyed by. */
typedef struct xc_tuned_key {
    const char *backend; /* "opencl" */
    const char *device;  /* the device name */
    const char *driver;  /* the driver version ("" when none) */
    const char *kernels; /* the hash of the kernel sources */
} xc_tuned_key_t;

/* The per-device file in the user's cache for `key`; 0, or -1 without a cache folder. */
int xc_tuned_path(xc_lookup_fn lookup, const xc_tuned_key_t *key, char *out, size_t size);

/*
 * 1 when `ini` is a tuned file for `key` (its header names the same backend, device, driver and
 * kernels); else 0 with why[size] saying which ("foreign: ...", "stale: ...", "not a tuned file").
 * `backend_only` is set when only the backend differs (a file meant for another backend: not a
 * problem worth a warning when $XHAL_TUNING_FILE is shared by all of them).
 */
int xc_tuned_matches(const xc_ini_t *ini, const xc_tuned_key_t *key, char *why, size_t size,
                     int *backend_only);

/* Sets the header of `ini` for `key` (the parameters are the caller's). 0, or -1 (memory). */
int xc_tuned_set_header(xc_ini_t *ini, const xc_tuned_key_t *key);

/* A 16-hex-digit hash of `count` NUL-terminated strings: a backend's kernels key. */
void xc_tuned_hash(const char *const *parts, size_t count, char out[17]);

#endif
