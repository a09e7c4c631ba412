/* See xc_scratch.h. */
#include "xc_scratch.h"

xhal_status_t xc_scratch_get(xc_scratch_t *scratch, uint64_t bytes, uint64_t limit,
                             const xc_scratch_ops_t *ops, void *context,
                             const xhal_host_api_t *host, const char *what, uint64_t *out) {
    if (scratch->handle && scratch->size >= bytes) {
        *out = scratch->handle;
        return XHAL_OK;
    }
    if (limit && bytes > limit)
        return host->set_error(XHAL_OUT_OF_MEMORY,
                               "the op needs %llu bytes of scratch, more than %s allows in one "
                               "allocation (%llu)",
                               (unsigned long long)bytes, what, (unsigned long long)limit);
    /* Half again, so that a run of slightly larger ops does not reallocate each time. */
    uint64_t grown = bytes + bytes / 2;
    grown = (grown + XC_SCRATCH_GRANULE - 1) / XC_SCRATCH_GRANULE * XC_SCRATCH_GRANULE;
    if (grown < bytes || (limit && grown > limit)) grown = bytes;
    if (scratch->handle) {
        if (ops->drain) {
            xhal_status_t status = ops->drain(context);
            if (status != XHAL_OK) return status;
        }
        ops->release(context, scratch->handle);
        scratch->handle = 0;
        scratch->size = 0;
    }
    xhal_status_t status = ops->alloc(context, grown, &scratch->handle);
    if (status != XHAL_OK) {
        scratch->handle = 0;
        return status;
    }
    scratch->size = grown;
    *out = scratch->handle;
    return XHAL_OK;
}

void xc_scratch_free(xc_scratch_t *scratch, const xc_scratch_ops_t *ops, void *context) {
    if (scratch->handle) ops->release(context, scratch->handle);
    scratch->handle = 0;
    scratch->size = 0;
}
