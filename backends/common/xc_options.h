/*
 * A backend's configuration, read once through the host's options (the environment as
 * xhal_init captured it; see xhal_host_api_t.option), never with getenv: integers with a range,
 * and the forced-kernel options every GPU backend offers its tests and its users:
 *
 *   XHAL_<BACKEND>_GEMM=<kind>       run GEMMs with that kernel where it can run them
 *   XHAL_<BACKEND>_ATTENTION=<kind>  the same for attention
 *   XHAL_<BACKEND>_STRICT=1          a forced kernel that cannot run a case makes the op
 *                                    UNSUPPORTED instead of running another kernel
 */
#ifndef XHAL_BACKENDS_COMMON_XC_OPTIONS_H
#define XHAL_BACKENDS_COMMON_XC_OPTIONS_H

#include "xhal/xhal_backend.h"

#include "xc_paths.h"

/* "XHAL_<BACKEND>_<what>" for `backend` in any case ("opencl", "CACHE" -> XHAL_OPENCL_CACHE). */
void xc_option_name(char *out, size_t size, const char *backend, const char *what);

/* host->option as an xc_lookup_fn (one that finds nothing on a core without options). */
xc_lookup_fn xc_host_lookup(const xhal_host_api_t *host);

/*
 * The integer option `name` when it is one in lo..hi; `fallback` when unset, and when set to
 * something else (with a warning naming the variable, its value and the range).
 */
long xc_option_int(const xhal_host_api_t *host, const char *name, long lo, long hi, long fallback);

typedef struct xc_forced {
    char gemm[32];      /* "" when not forced */
    char attention[32]; /* "" when not forced */
    int strict;
} xc_forced_t;

/*
 * Reads XHAL_<BACKEND>_GEMM, _ATTENTION and _STRICT (`backend` in capitals: "CUDA"). A kind
 * that is not in the NULL-terminated list of the op's kinds is warned about and ignored.
 */
void xc_forced_load(const xhal_host_api_t *host, const char *backend, const char *const *gemm_kinds,
                    const char *const *attention_kinds, xc_forced_t *out);

/*
 * After a plan made with a forced kernel: when the force was refused (`refused`) and strict is
 * set, sets UNSUPPORTED naming the variable, the kind and the kernel `chosen` that would have
 * run the op ("gemm" or "attention") instead, and returns it; else XHAL_OK.
 */
xhal_status_t xc_forced_check(const xhal_host_api_t *host, const char *backend,
                              const xc_forced_t *forced, const char *op, int refused,
                              const char *chosen);

#endif
