/*
 * Merging two partial attention outputs by their log-sum-exps (xhal.h): one portable kernel,
 * xk_attention_merge (kernels/gpu/xk_attention_merge.cuh), a warp per row, on every
 * architecture the module has (sm_80 and newer).
 */
#include <string.h>

#include "cuda_internal.h"
#include "gpu_plan.h"
#include "xk_params.h"

#define GRID_X_MAX 2147483647ll

xhal_status_t cuda_attention_merge_supports(xhal_be_device_t *dev,
                                            const xhal_attention_merge_desc_t *desc) {
    (void)desc; /* any shape, dtype and stride the core accepts */
    if (!dev->module)
        return dev->host->set_error(XHAL_UNSUPPORTED,
                                    "cuda: %s (sm_%d%d) is older than sm_80, which the attention "
                                    "kernels need",
                                    dev->info.name, dev->arch.cc_major, dev->arch.cc_minor);
    return XHAL_OK;
}

xhal_status_t cuda_attention_merge(xhal_be_stream_t *stream, const xhal_attention_merge_desc_t *d,
                                   const xhal_be_merge_buffers_t *buffers) {
    xhal_be_device_t *dev = stream->device;
    xhal_status_t status = cuda_enter(dev);
    if (status != XHAL_OK) return status;
    xk_merge_params_t p;
    xhal_gpu_merge_params(d, buffers->o_a->address, buffers->o_b->address, buffers->o->address,
                          buffers->lse_a->address, buffers->lse_b->address,
                          buffers->lse ? buffers->lse->address : 0, &p);
    int64_t blocks = (d->batch * d->heads * d->seq + 3) / 4; /* 4 warps, a row each */
    uint32_t grid[3] = {(uint32_t)(blocks < GRID_X_MAX ? blocks : GRID_X_MAX), 1, 1};
    CUfunction f = NULL;
    if ((status = cuda_kernel(dev, "xk_attention_merge", 0, 0, &f)) != XHAL_OK) return status;
    void *args[] = {&p};
    return cuda_launch(stream, f, grid, 128, 0, args, "xk_attention_merge");
}
