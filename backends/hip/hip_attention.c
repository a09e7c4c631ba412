/*
 * Attention: the plan (hip_plan.c) picks the exact kernel, the MFMA prefill kernel, or split-KV
 * decode (the MFMA decode kernel, then the combine kernel); this file fills the parameters and
 * launches. The serving features (packed and paged K/V, per-sequence lengths, sliding window,
 * soft-capping, the LSE) run on the exact kernel of kernels/gpu (xk_attention_simple, through
 * xk_attention_serving.cuh), which the plan picks for every op that uses one: the MFMA kernels
 * read dense tensors and write no LSE. Also the merge op (xk_attention_merge), a portable kernel.
 * XHAL_HIP_ATTENTION=simple|prefill|decode forces a path where it can run (XHAL_HIP_STRICT=1:
 * UNSUPPORTED where it cannot).
 */
#include <stdio.h>
#include <string.h>

#include "gpu_plan.h"
#include "hip_internal.h"
#include "xc_features.h"

/* The serving features of attention this backend runs (xc_features.h): every one, on the
 * portable exact kernel (slow next to the MFMA kernels, exact to rounding). */
#define HIP_ATTENTION_FEATURES                                                                     \
    (XC_ATTENTION_SLIDING_WINDOW | XC_ATTENTION_SOFTCAP | XC_ATTENTION_VARLEN_Q |                  \
     XC_ATTENTION_VARLEN_KV | XC_ATTENTION_SEQLENS_KV | XC_ATTENTION_PAGED | XC_ATTENTION_LSE)

#define GRID_ITEMS_MAX 4294967295ll /* work-items along x of one dispatch (hip_plan.c) */

xhal_status_t hip_attention_supports(xhal_be_device_t *dev, const xhal_attention_desc_t *d) {
    if (d->head_dim > 256)
        return dev->host->set_error(XHAL_UNSUPPORTED,
                                    "hip: attention head_dim %lld is not supported (1..256)",
                                    (long long)d->head_dim);
    xhal_status_t status = xc_attention_features(dev->host, "hip", d, HIP_ATTENTION_FEATURES);
    if (status != XHAL_OK) return status;
    /* The answer is the planner's: what it cannot plan, the op would refuse. */
    hip_attention_plan_t plan;
    char why[160] = "";
    if (hip_plan_attention(d, &dev->arch, &dev->tuning, dev->state->options.forced.attention, &plan,
                           why, sizeof why) != 0)
        return dev->host->set_error(XHAL_UNSUPPORTED, "%s", why);
    status = xc_forced_check(dev->host, "HIP", &dev->state->options.forced, "attention",
                             plan.forced_refused, hip_attention_kind_name(plan.kind));
    if (status != XHAL_OK) return status;
    return hip_module_check(dev);
}

/* The device address of an optional buffer; 0 where there is none. */
static uint64_t address(const xhal_be_buffer_t *buffer) {
    return buffer ? (uint64_t)(uintptr_t)buffer->address : 0;
}

xhal_status_t hip_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *d,
                            const xhal_be_attention_buffers_t *buffers) {
    xhal_be_device_t *dev = stream->device;
    xhal_status_t status = hip_enter(dev);
    if (status != XHAL_OK) return status;

    hip_attention_plan_t plan;
    char why[160] = "";
    const xc_forced_t *forced = &dev->state->options.forced;
    if (hip_plan_attention(d, &dev->arch, &dev->tuning, forced->attention, &plan, why,
                           sizeof why) != 0)
        return dev->host->set_error(XHAL_UNSUPPORTED, "%s", why);
    status = xc_forced_check(dev->host, "HIP", forced, "attention", plan.forced_refused,
                             hip_attention_kind_name(plan.kind));
    if (status != XHAL_OK) return status;

    const xhal_gpu_attention_addresses_t at = {
        address(buffers->q),
        address(buffers->k),
        address(buffers->v),
        address(buffers->o),
        address(buffers->cu_seqlens_q),
        address(buffers->cu_seqlens_kv),
        address(buffers->seqlens_kv),
        address(buffers->block_table),
        address(buffers->lse),
    };
    xk_attention_params_t p;
    xhal_gpu_attention_params(d, &at, &p);
    p.keys_per_split = plan.keys_per_split;
    p.splits = plan.splits;
    p.row_blocks = plan.row_blocks;
    p.decode = plan.kind == HIP_ATTENTION_DECODE;
    p.q_split = p.decode ? INT64_MAX : 0; /* the combine kernel's rows: every one of a decode */
    if (plan.workspace_bytes) {
        void *ws = NULL;
        if ((status = hip_workspace(stream, plan.workspace_bytes, &ws)) != XHAL_OK) return status;
        p.workspace = (uint64_t)(uintptr_t)ws;
        p.partial_stats = p.workspace + plan.stats_offset;
    }

    hip_function_t f = NULL;
    if ((status = hip_kernel(dev, plan.kernel, &f)) != XHAL_OK) return status;
    uint32_t grid[3] = {plan.grid, 1, 1};
    void *args[] = {&p};
    if ((status = hip_launch(stream, f, grid, plan.threads, args, plan.kernel)) != XHAL_OK)
        return status;
    if (plan.kind != HIP_ATTENTION_DECODE) return XHAL_OK;

    hip_function_t combine = NULL;
    if ((status = hip_kernel(dev, "xk_attention_combine", &combine)) != XHAL_OK) return status;
    uint32_t combine_grid[3] = {plan.combine_grid, 1, 1};
    return hip_launch(stream, combine, combine_grid, 128, args, "xk_attention_combine");
}

/* ---- Merging two partial attentions by their LSEs (xk_attention_merge, portable) ---- */

xhal_status_t hip_attention_merge_supports(xhal_be_device_t *dev,
                                           const xhal_attention_merge_desc_t *desc) {
    (void)desc; /* any shape, dtype and stride the core accepts */
    return hip_module_check(dev);
}

xhal_status_t hip_attention_merge(xhal_be_stream_t *stream, const xhal_attention_merge_desc_t *d,
                                  const xhal_be_merge_buffers_t *buffers) {
    xhal_be_device_t *dev = stream->device;
    xhal_status_t status = hip_enter(dev);
    if (status != XHAL_OK) return status;
    xk_merge_params_t p;
    xhal_gpu_merge_params(d, address(buffers->o_a), address(buffers->o_b), address(buffers->o),
                          address(buffers->lse_a), address(buffers->lse_b), address(buffers->lse),
                          &p);
    int64_t blocks = (d->batch * d->heads * d->seq + 3) / 4; /* 4 logical warps, a row each */
    int64_t most = GRID_ITEMS_MAX / 128;
    uint32_t grid[3] = {(uint32_t)(blocks < most ? blocks : most), 1, 1};
    hip_function_t f = NULL;
    if ((status = hip_kernel(dev, "xk_attention_merge", &f)) != XHAL_OK) return status;
    void *args[] = {&p};
    return hip_launch(stream, f, grid, 128, args, "xk_attention_merge");
}
