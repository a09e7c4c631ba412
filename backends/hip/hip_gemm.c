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

xhal_status_t hip_gemm_supports(xhal_be_device_t *dev, const xhal_gemm_desc_t *d) {
    /* The serving features of API 0.2 are not implemented by this backend yet: say so, each. */
    const char *missing = d->bias         ? "a bias epilogue"
                          : d->activation ? "an activation epilogue"
                          : d->gated      ? "the gated epilogue"
                          : d->b_quant    ? "a quantized B"
                                          : NULL;
    if (missing)
        return dev->host->set_error(XHAL_UNSUPPORTED,
                                    "hip: the HIP backend does not implement %s yet", missing);
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
    const char *force = dev->state->options.force_gemm;
    if (hip_plan_gemm(d, &dev->arch, &dev->tuning, force, &plan, why, sizeof why) != 0)
        return dev->host->set_error(XHAL_UNSUPPORTED, "%s", why);
    status = hip_check_forced(dev, "XHAL_HIP_GEMM", force, plan.forced_refused,
                              hip_gemm_kind_name(plan.kind), "GEMM");
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
