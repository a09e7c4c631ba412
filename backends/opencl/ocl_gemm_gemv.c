/*
 * The GEMV paths of the OpenCL GEMM (small m: decode steps). op(A) is copied to dense f32 rows
 * once, then one kernel streams B from its own layout: gemv_n / gemv_t for a dense B stored
 * k x n / n x k, qgemv_t for a quantized B stored n x k (dequantized in registers: the packed
 * bytes are read once). Gated GEMMs run the *g variants, whose work-items hold the gate and up
 * columns of their outputs together. A quantized B stored k x n takes the fused or tiled path
 * instead (its panels are dequantized once each there, which also reads the bytes once).
 */
#include "ocl_gemm.h"

int ocl_gemm_gemv_runs(const xhal_be_device_t *device, const xhal_gemm_desc_t *d) {
    return d->m <= device->tuning.gemv_max_m && (d->b_quant == XHAL_QUANT_NONE || d->trans_b);
}

xhal_status_t ocl_gemm_gemv(xhal_be_stream_t *stream, const xhal_gemm_desc_t *d,
                            const xhal_be_gemm_buffers_t *buffers, const ocl_gemm_args_t *g) {
    const ocl_tuning_t *t = &stream->device->tuning;
    xhal_be_buffer_t *a = buffers->a, *b = buffers->b, *c = buffers->c;
    int shared_a = d->stride_a == 0 || d->batch == 1;
    uint64_t a_floats = (uint64_t)d->m * (uint64_t)d->k;
    int64_t group = ocl_gemm_batch_group(d, shared_a ? 0 : a_floats, shared_a ? a_floats : 0);
    cl_mem af = NULL;
    xhal_status_t status =
        ocl_stream_scratch(stream, 0, 4 * a_floats * (uint64_t)(shared_a ? 1 : group), &af);
    if (status != XHAL_OK) return status;

    cl_long rs_a, cs_a;
    ocl_gemm_strides_a(d, &rs_a, &cs_a);
    cl_int m = (cl_int)d->m, n = (cl_int)d->n, k = (cl_int)d->k, cdt = (cl_int)d->c_type;
    cl_long a_batch = shared_a ? 0 : (cl_long)a_floats;
    cl_long ldb = d->ldb, ldc = d->ldc;
    cl_long stride_a = d->stride_a, stride_b = d->stride_b, stride_c = d->stride_c;
    /* Output columns per work-item; the GEMV kernels use the GEMM program's vector width. */
    size_t columns = d->trans_b ? (size_t)t->gemv_tc : (size_t)(t->gemm_vw * t->gemv_nv);
    int quantized = d->b_quant != XHAL_QUANT_NONE;
    /* qgemv_t of INT4 reads A's k steps in the order nibbles unpack in (gemm_copy_a). */
    cl_int split = d->b_quant == XHAL_QUANT_INT4;
    ocl_family_t family = quantized    ? (d->gated ? OCL_QGEMV_TG : OCL_QGEMV_T)
                          : d->trans_b ? (d->gated ? OCL_GEMV_TG : OCL_GEMV_T)
                                       : (d->gated ? OCL_GEMV_NG : OCL_GEMV_N);

    for (int64_t b0 = 0; b0 < d->batch; b0 += group) {
        int64_t count = d->batch - b0 < group ? d->batch - b0 : group;
        if (b0 == 0 || !shared_a) {
            cl_long offset = (cl_long)(d->a_offset / ocl_dtype_size(d->a_type)) + b0 * stride_a;
            size_t global[2] = {(size_t)d->m, (size_t)(shared_a ? 1 : count)};
            status =
                OCL_LAUNCH(stream, OCL_GEMM_COPY_A, d->a_type, 2, global, NULL, OCL_ARG(a->mem),
                           OCL_ARG(offset), OCL_ARG(rs_a), OCL_ARG(cs_a), OCL_ARG(stride_a),
                           OCL_ARG(m), OCL_ARG(k), OCL_ARG(af), OCL_ARG(split));
            if (status != XHAL_OK) return status;
        }
        cl_long c_offset = (cl_long)(d->c_offset / ocl_dtype_size(d->c_type)) + b0 * stride_c;
        size_t global[3] = {((size_t)g->outputs + columns - 1) / columns, 1, (size_t)count};
        if (quantized) /* one B for the batch: stride_b is 0 */
            status = OCL_LAUNCH(stream, family, g->variant, 3, global, NULL, OCL_ARG(af),
                                OCL_ARG(a_batch), OCL_ARG(b->mem), OCL_ARG(g->b_first),
                                OCL_ARG(ldb), OCL_ARG(c->mem), OCL_ARG(c_offset), OCL_ARG(ldc),
                                OCL_ARG(stride_c), OCL_ARG(m), OCL_ARG(n), OCL_ARG(k), OCL_ARG(cdt),
                                OCL_QPARAM_ARGS(*g), OCL_EPILOGUE_ARGS(*g));
        else {
            cl_long b_offset = g->b_first + b0 * stride_b;
            status = OCL_LAUNCH(stream, family, g->variant, 3, global, NULL, OCL_ARG(af),
                                OCL_ARG(a_batch), OCL_ARG(b->mem), OCL_ARG(b_offset), OCL_ARG(ldb),
                                OCL_ARG(stride_b), OCL_ARG(c->mem), OCL_ARG(c_offset), OCL_ARG(ldc),
                                OCL_ARG(stride_c), OCL_ARG(m), OCL_ARG(n), OCL_ARG(k), OCL_ARG(cdt),
                                OCL_EPILOGUE_ARGS(*g));
        }
        if (status != XHAL_OK) return status;
    }
    return XHAL_OK;
}
