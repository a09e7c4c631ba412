/*
 * Scratch memory of a stream (packed operands, split-K partials, split-KV decode partials):
 * one block per slot that grows to the largest op seen and is never shrunk, so that ops do not
 * allocate device memory each time. Work on one stream runs in order, so every op of the
 * stream can use the same block.
 *
 * Growing has one subtlety: work already queued may still read the old block. A runtime that
 * keeps a released buffer alive until its commands finish (OpenCL) needs nothing; one that frees
 * at once (CUDA's cuMemFree) must wait for the stream first: that is the `drain` operation.
 */
#ifndef XHAL_BACKENDS_COMMON_XC_SCRATCH_H
#define XHAL_BACKENDS_COMMON_XC_SCRATCH_H

#include <stdint.h>

#include "xhal/xhal_backend.h"

#define XC_SCRATCH_GRANULE ((uint64_t)1 << 20) /* blocks are whole MiB */

typedef struct xc_scratch {
    uint64_t handle; /* the backend's block (a device address, or a cl_mem cast), 0 if none */
    uint64_t size;
} xc_scratch_t;

typedef struct xc_scratch_ops {
    /* Allocates `bytes` into *out, or sets the error (naming the vendor call) and returns it. */
    xhal_status_t (*alloc)(void *context, uint64_t bytes, uint64_t *out);
    /* Waits until queued work no longer needs the current block; NULL when nothing is needed. */
    xhal_status_t (*drain)(void *context);
    void (*release)(void *context, uint64_t handle);
} xc_scratch_ops_t;

/*
 * A block of at least `bytes` in *out: the current one, or a new one of one and a half times
 * `bytes` rounded up to XC_SCRATCH_GRANULE (at most `limit`, the largest single allocation of
 * the device; 0 for no limit). More than `limit` is OUT_OF_MEMORY naming `what` (the device).
 */
xhal_status_t xc_scratch_get(xc_scratch_t *scratch, uint64_t bytes, uint64_t limit,
                             const xc_scratch_ops_t *ops, void *context,
                             const xhal_host_api_t *host, const char *what, uint64_t *out);

/* Releases the block (the stream's work is done). */
void xc_scratch_free(xc_scratch_t *scratch, const xc_scratch_ops_t *ops, void *context);

#endif
