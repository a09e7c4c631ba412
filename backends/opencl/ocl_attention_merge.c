/*
 * Merging two partial attention outputs by their log-sum-exps (xhal.h): one kernel
 * (kernels/opencl/attention_merge.cl), a work-item per row.
 */
#include <limits.h>

#include "ocl_internal.h"

xhal_status_t ocl_attention_merge_supports(xhal_be_device_t *device,
                                           const xhal_attention_merge_desc_t *desc) {
    /* The kernel indexes rows, heads, sequences and dims with ints. */
    if (desc->batch > INT_MAX || desc->heads > INT_MAX || desc->seq > INT_MAX ||
        desc->head_dim > INT_MAX)
        return device->host->set_error(
            XHAL_UNSUPPORTED, "opencl: attention merge sizes above %d are not supported", INT_MAX);
    return XHAL_OK;
}

xhal_status_t ocl_attention_merge(xhal_be_stream_t *stream, const xhal_attention_merge_desc_t *d,
                                  const xhal_be_merge_buffers_t *buffers) {
    cl_long es = (cl_long)ocl_dtype_size(d->dtype);
    cl_long8 offs = {{(cl_long)d->o_a_offset / es, (cl_long)d->o_b_offset / es,
                      (cl_long)d->o_offset / es, (cl_long)d->lse_a_offset / 4,
                      (cl_long)d->lse_b_offset / 4, (cl_long)d->lse_offset / 4, 0, 0}};
    cl_long4 strides = {{d->strides.batch, d->strides.head, d->strides.seq, 0}};
    cl_int4 shape = {{(cl_int)d->batch, (cl_int)d->heads, (cl_int)d->seq, (cl_int)d->head_dim}};
    cl_mem lse = buffers->lse ? buffers->lse->mem : NULL;
    size_t global[3] = {(size_t)d->seq, (size_t)d->heads, (size_t)d->batch};
    return OCL_LAUNCH(stream, OCL_ATTN_MERGE, d->dtype, 3, global, NULL, OCL_ARG(buffers->o_a->mem),
                      OCL_ARG(buffers->o_b->mem), OCL_ARG(buffers->o->mem),
                      OCL_ARG(buffers->lse_a->mem), OCL_ARG(buffers->lse_b->mem), OCL_ARG(lse),
                      OCL_ARG(offs), OCL_ARG(strides), OCL_ARG(shape));
}
