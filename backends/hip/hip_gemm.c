/*
 * GEMM: the plan (hip_plan.c) picks the kernel; this file refuses what the backend does not
 * implement, turns the descriptor into the kernel's parameters, gets split-K scratch and
 * launches. XHAL_HIP_GEMM=simt|mfma|gemv forces a kernel where it can run (the GPU check uses it
 * to cover every path); with XHAL_HIP_STRICT=1 a forced kernel that cannot run a case makes the
 * GEMM UNSUPPORTED instead of running another.
 */
#include <stdio.h>
#include <string.h>

#include "gpu_plan.h"
#include "hip_internal.h"
#include "xc_features.h"

/* The serving features of GEMM this backend runs (backends/common/xc_features.h): none yet (no
 * HIP kernel has the epilogues or quantized B; the SIMT, GEMV and MFMA kernels write C only). */
#define HIP_GEMM_FEATURES 0u

xhal_status_t hip_gemm_supports(xhal_be_device_t *dev, const xhal_gemm_desc_t *d) {
    xhal_status_t status = xc_gemm_features(dev->host, "hip", d, HIP_GEMM_FEATURES);
    if (status != XHAL_OK) return status;
    /* The answer is the planner's: what it cannot plan, the op would refuse. */
    hip_gemm_plan_t plan;
    char why[160] = "";
    if (hip_plan_gemm(d, &dev->arch, &dev->tuning, dev->state->options.forced.gemm, &plan, why,
                      sizeof why) != 0)
        return dev->host->set_error(XHAL_UNSUPPORTED, "%s", why);
    status = xc_forced_check(dev->host, "HIP", &dev->state->options.forced, "gemm",
                             plan.forced_refused, hip_gemm_kind_name(plan.kind));
    if (status != XHAL_OK) return status;
    /* Every other valid descriptor runs (the SIMT kernel takes any dtype and layout), once the
     * device has a code object. */
    return hip_module_check(dev);
}

xhal_status_t hip_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *d,
                       const xhal_be_gemm_buffers_t *buffers) {
    xhal_be_device_t *dev = stream->device;
    xhal_status_t status = hip_enter(dev);
    if (status != XHAL_OK) return status;

    hip_gemm_plan_t plan;
    char why[160] = "";
    const xc_forced_t *forced = &dev->state->options.forced;
    if (hip_plan_gemm(d, &dev->arch, &dev->tuning, forced->gemm, &plan, why, sizeof why) != 0)
        return dev->host->set_error(XHAL_UNSUPPORTED, "%s", why);
    status = xc_forced_check(dev->host, "HIP", forced, "gemm", plan.forced_refused,
                             hip_gemm_kind_name(plan.kind));
    if (status != XHAL_OK) return status;

    xk_gemm_params_t p;
    xhal_gpu_gemm_params(d, (uint64_t)(uintptr_t)buffers->a->address,
                         (uint64_t)(uintptr_t)buffers->b->address,
                         (uint64_t)(uintptr_t)buffers->c->address, &p);
    p.k_per_split = plan.k_per_split;
    p.split_k = plan.split_k;
    p.tiles_m = plan.tiles_m;
    p.tiles_n = plan.tiles_n;
    p.group_m = plan.group_m;
    if (plan.workspace_bytes) {
        void *ws = NULL;
        if ((status = hip_workspace(stream, plan.workspace_bytes, &ws)) != XHAL_OK) return status;
        p.workspace = (uint64_t)(uintptr_t)ws;
    }

    hip_function_t f = NULL;
    if ((status = hip_kernel(dev, plan.kernel, &f)) != XHAL_OK) return status;
    void *args[] = {&p};
    if ((status = hip_launch(stream, f, plan.grid, plan.threads, args, plan.kernel)) != XHAL_OK)
        return status;
    if (plan.split_k <= 1) return XHAL_OK;

    /* alpha * (sum of the partials) + beta * C, one thread per element of C. */
    hip_function_t reduce = NULL;
    if ((status = hip_kernel(dev, "xk_gemm_splitk_reduce", &reduce)) != XHAL_OK) return status;
    int64_t blocks = (d->batch * d->m * d->n + 255) / 256, cap = (int64_t)dev->arch.cus * 16;
    uint32_t grid[3] = {(uint32_t)(blocks < cap ? blocks : cap), 1, 1};
    return hip_launch(stream, reduce, grid, 256, args, "xk_gemm_splitk_reduce");
}
