/*
 * What the GEMM paths of the OpenCL backend share (ocl_gemm.c: dispatch, the tiled and fused
 * paths; ocl_gemm_gemv.c: the GEMV paths): the kernel arguments of the epilogue and of a
 * quantized B, resolved once per call.
 */
#ifndef XHAL_OCL_GEMM_H
#define XHAL_OCL_GEMM_H

#include "ocl_internal.h"

/* Scratch for packed operands is kept under this, by packing batches in groups. */
#define OCL_SCRATCH_BUDGET ((uint64_t)256 << 20)

/*
 * The arguments every GEMM kernel ends with: EPILOGUE_ARGS of kernels/opencl/gemm_epilogue.cl
 * and, with a quantized B, QPARAM_ARGS of qgemm.cl (before the epilogue's). Buffers the call
 * does not have are C's (never read: bias_dt -1, has_zeros 0, a dense B's kernels take no
 * QPARAM_ARGS).
 */
typedef struct ocl_gemm_args {
    cl_mem bias;
    cl_long bias_offset; /* elements */
    cl_int bias_dt;      /* xhal_dtype_t, or -1 without a bias */
    cl_int act;          /* xhal_activation_t */
    cl_int half;         /* gated: n / 2; else 0 */
    cl_float alpha, beta;

    cl_mem scales;
    cl_long scales_offset; /* elements */
    cl_int scale_dt;
    cl_mem zeros;
    cl_long zeros_offset;
    cl_int has_zeros;
    cl_int group;  /* k steps one scale covers (INT_MAX: all) */
    cl_int groups; /* scales per column (0: one for the tensor) */

    cl_long b_first; /* B's element 0, in elements of its buffer (INT4: half bytes) */
    int variant;     /* the kernels' variant: B's dtype, or the quantized format - 1 */
    int64_t outputs; /* columns of C: n, or n / 2 gated */
} ocl_gemm_args_t;

#define OCL_EPILOGUE_ARGS(g)                                                                       \
    OCL_ARG((g).bias), OCL_ARG((g).bias_offset), OCL_ARG((g).bias_dt), OCL_ARG((g).act),           \
        OCL_ARG((g).half), OCL_ARG((g).alpha), OCL_ARG((g).beta)
#define OCL_QPARAM_ARGS(g)                                                                         \
    OCL_ARG((g).scales), OCL_ARG((g).scales_offset), OCL_ARG((g).scale_dt), OCL_ARG((g).zeros),    \
        OCL_ARG((g).zeros_offset), OCL_ARG((g).has_zeros), OCL_ARG((g).group), OCL_ARG((g).groups)

/* How many batches go in one group so that `floats_per_batch` (plus `shared`) fit the budget. */
int64_t ocl_gemm_batch_group(const xhal_gemm_desc_t *d, uint64_t floats_per_batch, uint64_t shared);

/* op(A)'s rows as "X[r][p] = src[r * rs + p * cs]", and op(B)^T's the same way. */
void ocl_gemm_strides_a(const xhal_gemm_desc_t *d, cl_long *rs, cl_long *cs);
void ocl_gemm_strides_bt(const xhal_gemm_desc_t *d, cl_long *rs, cl_long *cs);

/*
 * The GEMV paths (small m): op(A) copied to f32 rows, then B streamed from its own layout, or,
 * quantized (B stored n x k only), dequantized in registers. ocl_gemm_gemv_runs says whether
 * they take the call.
 */
int ocl_gemm_gemv_runs(const xhal_be_device_t *device, const xhal_gemm_desc_t *d);
xhal_status_t ocl_gemm_gemv(xhal_be_stream_t *stream, const xhal_gemm_desc_t *d,
                            const xhal_be_gemm_buffers_t *buffers, const ocl_gemm_args_t *g);

#endif /* XHAL_OCL_GEMM_H */
