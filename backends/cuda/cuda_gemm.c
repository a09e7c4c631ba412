/*
 * GEMM: the plan (cuda_plan.c) picks the kernel; this file turns the descriptor into the
 * kernel's parameters, gets split-K scratch, builds the TMA descriptors of the wgmma kernel,
 * and launches. XHAL_CUDA_GEMM=simt|mma|sm90|gemv forces a kernel where it can run (the GPU
 * tests use it to cover every path); with XHAL_CUDA_STRICT=1 a forced kernel that cannot run a
 * case makes the GEMM UNSUPPORTED instead of running another.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cuda_internal.h"
#include "gpu_plan.h"
#include "xc_features.h"
#include "xk_params.h"

/* The serving features of GEMM this backend runs (backends/common/xc_features.h): none yet. */
#define CUDA_GEMM_FEATURES 0u

xhal_status_t cuda_gemm_supports(xhal_be_device_t *dev, const xhal_gemm_desc_t *desc) {
    if (!dev->module)
        return dev->host->set_error(XHAL_UNSUPPORTED,
                                    "cuda: %s (sm_%d%d) is older than sm_80, which the GEMM "
                                    "kernels need",
                                    dev->info.name, dev->arch.cc_major, dev->arch.cc_minor);
    xhal_status_t status = xc_gemm_features(dev->host, "cuda", desc, CUDA_GEMM_FEATURES);
    if (status != XHAL_OK) return status;
    /* The answer is the planner's: what it cannot plan, the op would refuse. */
    cuda_gemm_plan_t plan;
    char why[160] = "";
    if (cuda_plan_gemm(desc, &dev->arch, &dev->tuning, dev->forced.gemm, &plan, why, sizeof why) !=
        0)
        return dev->host->set_error(XHAL_UNSUPPORTED, "%s", why);
    return xc_forced_check(dev->host, "CUDA", &dev->forced, "gemm", plan.forced_refused,
                           cuda_gemm_kind_name(plan.kind));
}

/*
 * The TMA descriptor of one operand: a 3-D tensor (inner, outer, batch) of 16-bit elements
 * read in boxes of box_inner x box_outer with the 128-byte swizzle the wgmma descriptors expect.
 */
static xhal_status_t encode_map(xhal_be_device_t *dev, CUtensorMap *map, xhal_dtype_t type,
                                CUdeviceptr base, int64_t inner, int64_t outer, int64_t ld,
                                int64_t stride, int64_t batch, int box_inner, int box_outer) {
    if (batch == 1) stride = 0; /* one matrix: the kernel reads batch coordinate 0 only */
    cuuint64_t dims[3] = {(cuuint64_t)inner, (cuuint64_t)outer, (cuuint64_t)(stride ? batch : 1)};
    cuuint64_t strides[2] = {(cuuint64_t)ld * 2, (cuuint64_t)(stride ? stride : outer * ld) * 2};
    cuuint32_t box[3] = {(cuuint32_t)box_inner, (cuuint32_t)box_outer, 1};
    cuuint32_t element_strides[3] = {1, 1, 1};
    CUresult r = dev->driver->cuTensorMapEncodeTiled(
        map,
        type == XHAL_DTYPE_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
        3, (void *)(uintptr_t)base, dims, strides, box, element_strides,
        CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
        CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    return r == CUDA_SUCCESS ? XHAL_OK : cuda_fail(dev, r, "cuTensorMapEncodeTiled");
}

static xhal_status_t launch_sm90(xhal_be_stream_t *stream, const cuda_gemm_plan_t *plan,
                                 const xhal_gemm_desc_t *d, xk_gemm_params_t *params,
                                 CUfunction f) {
    xhal_be_device_t *dev = stream->device;
    CUtensorMap map_a, map_b;
    /* K-major operands are boxes of 64 k x the tile's rows; MN-major ones 64 columns x 64 k. */
    xhal_status_t status = d->trans_a ? encode_map(dev, &map_a, d->a_type, params->a, d->m, d->k,
                                                   d->lda, d->stride_a, d->batch, 64, plan->bk)
                                      : encode_map(dev, &map_a, d->a_type, params->a, d->k, d->m,
                                                   d->lda, d->stride_a, d->batch, 64, plan->bm);
    if (status != XHAL_OK) return status;
    status = d->trans_b ? encode_map(dev, &map_b, d->b_type, params->b, d->k, d->n, d->ldb,
                                     d->stride_b, d->batch, 64, plan->bn)
                        : encode_map(dev, &map_b, d->b_type, params->b, d->n, d->k, d->ldb,
                                     d->stride_b, d->batch, 64, plan->bk);
    if (status != XHAL_OK) return status;
    void *args[] = {&map_a, &map_b, params};
    return cuda_launch(stream, f, plan->grid, plan->threads, plan->smem, args, plan->kernel);
}

xhal_status_t cuda_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *d,
                        const xhal_be_gemm_buffers_t *buffers) {
    xhal_be_buffer_t *a = buffers->a, *b = buffers->b, *c = buffers->c;
    xhal_be_device_t *dev = stream->device;
    xhal_status_t status = cuda_enter(dev);
    if (status != XHAL_OK) return status;

    cuda_gemm_plan_t plan;
    char why[160] = "";
    if (cuda_plan_gemm(d, &dev->arch, &dev->tuning, dev->forced.gemm, &plan, why, sizeof why) != 0)
        return dev->host->set_error(XHAL_UNSUPPORTED, "%s", why);
    status = xc_forced_check(dev->host, "CUDA", &dev->forced, "gemm", plan.forced_refused,
                             cuda_gemm_kind_name(plan.kind));
    if (status != XHAL_OK) return status;

    xk_gemm_params_t p;
    xhal_gpu_gemm_params(d, a->address, b->address, c->address, &p);
    p.k_per_split = plan.k_per_split;
    p.split_k = plan.split_k;
    p.tiles_m = plan.tiles_m;
    p.tiles_n = plan.tiles_n;
    p.group_m = plan.group_m;
    if (plan.workspace_bytes) {
        CUdeviceptr ws = 0;
        if ((status = cuda_workspace(stream, plan.workspace_bytes, &ws)) != XHAL_OK) return status;
        p.workspace = ws;
    }

    CUfunction f = NULL;
    if ((status = cuda_kernel(dev, plan.kernel, plan.kind == CUDA_GEMM_SM90, plan.smem, &f)) !=
        XHAL_OK)
        return status;
    if (plan.kind == CUDA_GEMM_SM90) return launch_sm90(stream, &plan, d, &p, f);

    void *args[] = {&p};
    if ((status = cuda_launch(stream, f, plan.grid, plan.threads, plan.smem, args, plan.kernel)) !=
        XHAL_OK)
        return status;
    if (plan.split_k <= 1) return XHAL_OK;

    /* alpha * (sum of the partials) + beta * C, one thread per element of C. */
    CUfunction reduce = NULL;
    if ((status = cuda_kernel(dev, "xk_gemm_splitk_reduce", 0, 0, &reduce)) != XHAL_OK)
        return status;
    int64_t elements = d->batch * d->m * d->n;
    int64_t blocks = (elements + 255) / 256, cap = (int64_t)dev->arch.sms * 16;
    uint32_t grid[3] = {(uint32_t)(blocks < cap ? blocks : cap), 1, 1};
    return cuda_launch(stream, reduce, grid, 256, 0, args, "xk_gemm_splitk_reduce");
}
