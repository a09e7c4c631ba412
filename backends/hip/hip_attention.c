/*
 * Attention: the plan (hip_plan.c) picks the exact kernel, the MFMA prefill kernel, or split-KV
 * decode (the MFMA decode kernel, then the combine kernel); this file refuses what the backend
 * does not implement, fills the parameters and launches.
 * XHAL_HIP_ATTENTION=simple|prefill|decode forces a path where it can run (XHAL_HIP_STRICT=1:
 * UNSUPPORTED where it cannot).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gpu_plan.h"
#include "hip_internal.h"
#include "xc_features.h"

xhal_status_t hip_attention_supports(xhal_be_device_t *dev, const xhal_attention_desc_t *d) {
    /* The serving features of API 0.2 have no HIP kernel yet: each is refused by name. */
    xhal_status_t status = xc_attention_features(dev->host, "hip", d, 0u);
    if (status != XHAL_OK) return status;
    if (d->head_dim > 256)
        return dev->host->set_error(XHAL_UNSUPPORTED,
                                    "hip: attention head_dim %lld is not supported (1..256)",
                                    (long long)d->head_dim);
    return hip_module_check(dev);
}

xhal_status_t hip_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *d,
                            const xhal_be_attention_buffers_t *buffers) {
    xhal_be_device_t *dev = stream->device;
    xhal_status_t status = hip_enter(dev);
    if (status != XHAL_OK) return status;

    hip_attention_plan_t plan;
    char why[160] = "";
    const char *force = dev->state->options.force_attention;
    if (hip_plan_attention(d, &dev->arch, &dev->tuning, force, &plan, why, sizeof why) != 0)
        return dev->host->set_error(XHAL_UNSUPPORTED, "%s", why);
    status = hip_check_forced(dev, "XHAL_HIP_ATTENTION", force, plan.forced_refused,
                              hip_attention_kind_name(plan.kind), "attention");
    if (status != XHAL_OK) return status;

    xk_attention_params_t p;
    xhal_gpu_attention_params(
        d, (uint64_t)(uintptr_t)buffers->q->address, (uint64_t)(uintptr_t)buffers->k->address,
        (uint64_t)(uintptr_t)buffers->v->address, (uint64_t)(uintptr_t)buffers->o->address, &p);
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
