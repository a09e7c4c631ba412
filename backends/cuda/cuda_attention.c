/*
 * Attention: the plan (cuda_plan.c) picks the exact kernel, the FlashAttention-2 prefill
 * kernel, or split-KV decode (the same tensor-core kernel in decode mode, then the combine
 * kernel) or, for prefill on sm_90a, the wgmma + TMA kernel; with packed Q, FA2 prefill and
 * split-KV decode may both run, each for the sequences of its size. This file fills the
 * parameters, builds the TMA maps and launches. Every serving feature runs on every path but
 * the wgmma one, which the plan never picks for them. XHAL_CUDA_ATTENTION=simple|fa2|decode|sm90
 * forces a path where it can run (XHAL_CUDA_STRICT=1: UNSUPPORTED where it cannot).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cuda_internal.h"
#include "gpu_plan.h"
#include "xc_features.h"
#include "xk_params.h"

/* The serving features of attention this backend runs (xc_features.h): every one
 * (xk_attention_simple and FA2 run them all; the planner keeps them off the sm_90a kernel). */
#define CUDA_ATTENTION_FEATURES                                                                    \
    (XC_ATTENTION_SLIDING_WINDOW | XC_ATTENTION_SOFTCAP | XC_ATTENTION_VARLEN_Q |                  \
     XC_ATTENTION_VARLEN_KV | XC_ATTENTION_SEQLENS_KV | XC_ATTENTION_PAGED | XC_ATTENTION_LSE)

xhal_status_t cuda_attention_supports(xhal_be_device_t *dev, const xhal_attention_desc_t *desc) {
    if (!dev->module)
        return dev->host->set_error(XHAL_UNSUPPORTED,
                                    "cuda: %s (sm_%d%d) is older than sm_80, which the attention "
                                    "kernels need",
                                    dev->info.name, dev->arch.cc_major, dev->arch.cc_minor);
    if (desc->head_dim > 256)
        return dev->host->set_error(XHAL_UNSUPPORTED,
                                    "cuda: attention head_dim %lld is not supported (1..256)",
                                    (long long)desc->head_dim);
    xhal_status_t status = xc_attention_features(dev->host, "cuda", desc, CUDA_ATTENTION_FEATURES);
    if (status != XHAL_OK) return status;
    /* The answer is the planner's: what it cannot plan, the op would refuse. */
    cuda_attention_plan_t plan;
    char why[160] = "";
    if (cuda_plan_attention(desc, &dev->arch, &dev->tuning, dev->forced.attention, &plan, why,
                            sizeof why) != 0)
        return dev->host->set_error(XHAL_UNSUPPORTED, "%s", why);
    return xc_forced_check(dev->host, "CUDA", &dev->forced, "attention", plan.forced_refused,
                           cuda_attention_kind_name(plan.kind));
}

/*
 * The 4-D TMA map of Q, K or V for the sm_90a kernel: d (boxes of 64: the 128-byte swizzle),
 * then seq, head and batch in the stride order cuda_attention_tma_layout chose, 128 rows of seq
 * per box.
 */
static xhal_status_t encode_attention_map(xhal_be_device_t *dev, CUtensorMap *map,
                                          xhal_dtype_t dtype, CUdeviceptr base,
                                          const xhal_attention_strides_t *strides, int64_t batch,
                                          int64_t heads, int64_t seq, int64_t head_dim) {
    int order = 0;
    int64_t extents[3], steps[3];
    if (!cuda_attention_tma_layout(strides, batch, heads, seq, head_dim, &order, extents, steps))
        return dev->host->set_error(XHAL_INTERNAL, "cuda: attention view is not a TMA tensor");
    cuuint64_t dims[4] = {(cuuint64_t)head_dim, (cuuint64_t)extents[0], (cuuint64_t)extents[1],
                          (cuuint64_t)extents[2]};
    cuuint64_t bytes[3] = {(cuuint64_t)steps[0] * 2, (cuuint64_t)steps[1] * 2,
                           (cuuint64_t)steps[2] * 2};
    cuuint32_t box[4] = {64, 1, 1, 1}, element_strides[4] = {1, 1, 1, 1};
    for (int i = 0; i < 3; i++)
        if (((order >> (2 * i)) & 3) == 0) box[i + 1] = 128; /* the seq axis */
    CUresult r = dev->driver->cuTensorMapEncodeTiled(
        map,
        dtype == XHAL_DTYPE_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
        4, (void *)(uintptr_t)base, dims, bytes, box, element_strides,
        CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
        CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    return r == CUDA_SUCCESS ? XHAL_OK : cuda_fail(dev, r, "cuTensorMapEncodeTiled (attention)");
}

/* The device address of an optional buffer; 0 where there is none. */
static uint64_t address(const xhal_be_buffer_t *buffer) {
    return buffer ? buffer->address : 0;
}

xhal_status_t cuda_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *d,
                             const xhal_be_attention_buffers_t *buffers) {
    xhal_be_buffer_t *q = buffers->q, *k = buffers->k, *v = buffers->v, *o = buffers->o;
    xhal_be_device_t *dev = stream->device;
    xhal_status_t status = cuda_enter(dev);
    if (status != XHAL_OK) return status;

    cuda_attention_plan_t plan;
    char why[160] = "";
    if (cuda_plan_attention(d, &dev->arch, &dev->tuning, dev->forced.attention, &plan, why,
                            sizeof why) != 0)
        return dev->host->set_error(XHAL_UNSUPPORTED, "%s", why);
    status = xc_forced_check(dev->host, "CUDA", &dev->forced, "attention", plan.forced_refused,
                             cuda_attention_kind_name(plan.kind));
    if (status != XHAL_OK) return status;

    const xhal_gpu_attention_addresses_t at = {
        q->address,
        k->address,
        v->address,
        o->address,
        address(buffers->cu_seqlens_q),
        address(buffers->cu_seqlens_kv),
        address(buffers->seqlens_kv),
        address(buffers->block_table),
        address(buffers->lse),
    };
    xk_attention_params_t p;
    xhal_gpu_attention_params(d, &at, &p);
    p.q_split = plan.q_split;
    p.keys_per_split = plan.keys_per_split;
    p.splits = plan.splits;
    p.row_blocks = plan.row_blocks;
    p.decode = 0; /* the decode launch below sets it */
    if (plan.workspace_bytes) {
        CUdeviceptr ws = 0;
        if ((status = cuda_workspace(stream, plan.workspace_bytes, &ws)) != XHAL_OK) return status;
        p.workspace = ws;
        p.partial_stats = ws + plan.stats_offset;
    }

    CUfunction f = NULL;
    int sm90 = plan.kind == CUDA_ATTENTION_SM90;
    if ((status = cuda_kernel(dev, plan.kernel, sm90, plan.smem, &f)) != XHAL_OK) return status;
    uint32_t grid[3] = {plan.grid, 1, 1};
    if (sm90) {
        CUtensorMap map_q, map_k, map_v;
        for (int i = 0; i < 3; i++)
            p.tma_order[i] = plan.tma_order[i];
        if ((status = encode_attention_map(dev, &map_q, d->dtype, p.q, &d->q_strides, d->batch,
                                           d->heads_q, d->seq_q, d->head_dim)) != XHAL_OK ||
            (status = encode_attention_map(dev, &map_k, d->dtype, p.k, &d->k_strides, d->batch,
                                           d->heads_kv, d->seq_kv, d->head_dim)) != XHAL_OK ||
            (status = encode_attention_map(dev, &map_v, d->dtype, p.v, &d->v_strides, d->batch,
                                           d->heads_kv, d->seq_kv, d->head_dim)) != XHAL_OK)
            return status;
        void *sm90_args[] = {&map_q, &map_k, &map_v, &p};
        return cuda_launch(stream, f, grid, plan.threads, plan.smem, sm90_args, plan.kernel);
    }
    void *args[] = {&p};
    if (plan.kind == CUDA_ATTENTION_DECODE || plan.decode_too) {
        /* Split-KV decode (of the short sequences, with decode_too), then its combine. */
        xk_attention_params_t dp = p;
        dp.decode = 1;
        dp.row_blocks = plan.decode_row_blocks;
        void *decode_args[] = {&dp};
        uint32_t decode_grid[3] = {plan.decode_grid, 1, 1};
        CUfunction combine = NULL;
        uint32_t combine_grid[3] = {plan.combine_grid, 1, 1};
        if ((status = cuda_launch(stream, f, decode_grid, plan.threads, plan.smem, decode_args,
                                  plan.kernel)) != XHAL_OK ||
            (status = cuda_kernel(dev, "xk_attention_combine", 0, 0, &combine)) != XHAL_OK ||
            (status = cuda_launch(stream, combine, combine_grid, 128, 0, decode_args,
                                  "xk_attention_combine")) != XHAL_OK)
            return status;
        if (plan.kind == CUDA_ATTENTION_DECODE) return XHAL_OK;
    }
    return cuda_launch(stream, f, grid, plan.threads, plan.smem, args, plan.kernel);
}
