/*
 * GEMM dispatch (kernels/opencl/gemm.cl explains the kernels):
 *
 *   m <= gemv_max_m   op(A) is copied to f32 rows, then a GEMV kernel streams B from its own
 *                     layout, gemv_rows rows of A at a time (decode steps and other short m:
 *                     packing B would cost as much as the product);
 *   gemm_fused        (CPU devices, when a B panel of k steps fits in local memory) one kernel:
 *                     each work-group packs its B panel into local memory, then computes row
 *                     tiles of C reading f32 A in place (a 16-bit A is converted first); no
 *                     packing pass, no packed operand written to memory and read back;
 *   otherwise         op(A) and op(B) are packed into f32 panels (transposes, leading
 *                     dimensions and dtypes dealt with there), then the tile kernel computes C.
 *
 * Packed operands live in the stream's scratch buffers. A shared operand (batch stride 0) is
 * packed once. Batches are packed and computed in groups small enough that the scratch stays
 * under OCL_SCRATCH_BUDGET, so a large batch never needs one huge allocation.
 */
#include <limits.h>

#include "ocl_internal.h"

#define OCL_SCRATCH_BUDGET ((uint64_t)256 << 20)

/* The shape of the packed panels for this device's tuning. */
typedef struct panels {
    int tm, tn;         /* rows of an A panel, columns of a B panel */
    int64_t mp, np, kp; /* m, n, k padded to whole work-groups and local-memory stages */
    uint64_t a_floats;  /* one packed batch of A */
    uint64_t b_floats;  /* one packed batch of B */
} panels_t;

static void panel_shape(const ocl_tuning_t *t, const xhal_gemm_desc_t *d, panels_t *p) {
    p->tm = t->gemm_tm;
    p->tn = t->gemm_vw * t->gemm_nv;
    int group_m = t->gemm_local ? t->gemm_wg_m : 1, group_n = t->gemm_local ? t->gemm_wg_n : 1;
    p->mp = (int64_t)ocl_round_up((uint64_t)d->m, (uint64_t)(p->tm * group_m));
    p->np = (int64_t)ocl_round_up((uint64_t)d->n, (uint64_t)(p->tn * group_n));
    p->kp = t->gemm_local ? (int64_t)ocl_round_up((uint64_t)d->k, (uint64_t)t->gemm_kb) : d->k;
    p->a_floats = (uint64_t)p->mp * (uint64_t)p->kp;
    p->b_floats = (uint64_t)p->np * (uint64_t)p->kp;
}

xhal_status_t ocl_gemm_supports(xhal_be_device_t *device, const xhal_gemm_desc_t *desc) {
    const ocl_tuning_t *t = &device->tuning;
    /* Epilogues and quantized B (API 0.2) have no OpenCL kernels yet. */
    if (desc->bias || desc->activation || desc->gated || desc->b_quant)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "opencl: GEMM epilogues (bias, activation, gated) and "
                                       "quantized B are not implemented yet");
    /* The kernels index rows and columns with int; padding adds at most one work-group. */
    const int64_t limit = INT_MAX / 2;
    if (desc->m > limit || desc->n > limit || desc->k > limit)
        return device->host->set_error(
            XHAL_UNSUPPORTED,
            "opencl: GEMM dimensions above %lld are not supported (m %lld, n "
            "%lld, k %lld)",
            (long long)limit, (long long)desc->m, (long long)desc->n, (long long)desc->k);
    if (t->gemm_local && (size_t)t->gemm_wg_m * (size_t)t->gemm_wg_n > device->max_work_group)
        return device->host->set_error(
            XHAL_UNSUPPORTED,
            "opencl: the tuning of %s asks for GEMM work-groups of %d x %d, more than the "
            "device's %zu work-items (section [%s] of %s)",
            device->info.name, t->gemm_wg_n, t->gemm_wg_m, device->max_work_group, t->section,
            t->source);
    return XHAL_OK;
}

/* How many batches go in one group so that `floats_per_batch` (plus `shared`) fit the budget. */
static int64_t batch_group(const xhal_gemm_desc_t *d, uint64_t floats_per_batch, uint64_t shared) {
    uint64_t budget = OCL_SCRATCH_BUDGET / 4;
    if (floats_per_batch == 0) return d->batch;
    uint64_t fit = budget > shared ? (budget - shared) / floats_per_batch : 0;
    if (fit < 1) fit = 1;
    return fit < (uint64_t)d->batch ? (int64_t)fit : d->batch;
}

/* op(A)'s rows as "X[r][p] = src[r * rs + p * cs]", and op(B)^T's the same way. */
static void strides_a(const xhal_gemm_desc_t *d, cl_long *rs, cl_long *cs) {
    *rs = d->trans_a ? 1 : d->lda;
    *cs = d->trans_a ? d->lda : 1;
}

static void strides_bt(const xhal_gemm_desc_t *d, cl_long *rs, cl_long *cs) {
    *rs = d->trans_b ? d->ldb : 1;
    *cs = d->trans_b ? 1 : d->ldb;
}

static xhal_status_t gemm_tiled(xhal_be_stream_t *stream, const xhal_gemm_desc_t *d,
                                xhal_be_buffer_t *a, xhal_be_buffer_t *b, xhal_be_buffer_t *c) {
    const ocl_tuning_t *t = &stream->device->tuning;
    panels_t p;
    panel_shape(t, d, &p);
    int shared_a = d->stride_a == 0 || d->batch == 1, shared_b = d->stride_b == 0 || d->batch == 1;
    uint64_t per_batch = (shared_a ? 0 : p.a_floats) + (shared_b ? 0 : p.b_floats);
    uint64_t shared = (shared_a ? p.a_floats : 0) + (shared_b ? p.b_floats : 0);
    int64_t group = batch_group(d, per_batch, shared);

    cl_mem ap = NULL, bp = NULL;
    xhal_status_t status =
        ocl_stream_scratch(stream, 0, 4 * p.a_floats * (uint64_t)(shared_a ? 1 : group), &ap);
    if (status == XHAL_OK)
        status =
            ocl_stream_scratch(stream, 1, 4 * p.b_floats * (uint64_t)(shared_b ? 1 : group), &bp);
    if (status != XHAL_OK) return status;

    cl_long rs_a, cs_a, rs_b, cs_b;
    strides_a(d, &rs_a, &cs_a);
    strides_bt(d, &rs_b, &cs_b);
    cl_int m = (cl_int)d->m, n = (cl_int)d->n, k = (cl_int)d->k, kp = (cl_int)p.kp;
    cl_long a_floats = (cl_long)p.a_floats, b_floats = (cl_long)p.b_floats;
    cl_long a_batch = shared_a ? 0 : a_floats, b_batch = shared_b ? 0 : b_floats;
    cl_long ldc = d->ldc, stride_a = d->stride_a, stride_b = d->stride_b, stride_c = d->stride_c;
    cl_float alpha = d->alpha, beta = d->beta;
    size_t pack_k = (size_t)t->gemm_pack_k;
    size_t a_panels = (size_t)(p.mp / p.tm), b_panels = (size_t)(p.np / p.tn);
    size_t one[3] = {1, 1, 1}, group_shape[3] = {(size_t)t->gemm_wg_n, (size_t)t->gemm_wg_m, 1};

    for (int64_t b0 = 0; b0 < d->batch; b0 += group) {
        int64_t count = d->batch - b0 < group ? d->batch - b0 : group;
        /* Shared operands are packed with the first group only. */
        if (b0 == 0 || !shared_a) {
            cl_long offset = (cl_long)(d->a_offset / ocl_dtype_size(d->a_type)) + b0 * stride_a;
            size_t global[3] = {(p.kp + pack_k - 1) / pack_k, a_panels,
                                (size_t)(shared_a ? 1 : count)};
            status =
                OCL_LAUNCH(stream, OCL_GEMM_PACK_A, d->a_type, 3, global, NULL, OCL_ARG(a->mem),
                           OCL_ARG(offset), OCL_ARG(rs_a), OCL_ARG(cs_a), OCL_ARG(stride_a),
                           OCL_ARG(m), OCL_ARG(k), OCL_ARG(kp), OCL_ARG(ap), OCL_ARG(a_floats));
            if (status != XHAL_OK) return status;
        }
        if (b0 == 0 || !shared_b) {
            cl_long offset = (cl_long)(d->b_offset / ocl_dtype_size(d->b_type)) + b0 * stride_b;
            size_t global[3] = {(p.kp + pack_k - 1) / pack_k, b_panels,
                                (size_t)(shared_b ? 1 : count)};
            status =
                OCL_LAUNCH(stream, OCL_GEMM_PACK_B, d->b_type, 3, global, NULL, OCL_ARG(b->mem),
                           OCL_ARG(offset), OCL_ARG(rs_b), OCL_ARG(cs_b), OCL_ARG(stride_b),
                           OCL_ARG(n), OCL_ARG(k), OCL_ARG(kp), OCL_ARG(bp), OCL_ARG(b_floats));
            if (status != XHAL_OK) return status;
        }
        cl_long c_offset = (cl_long)(d->c_offset / ocl_dtype_size(d->c_type)) + b0 * stride_c;
        size_t rows =
            t->gemm_local ? a_panels : (a_panels + (size_t)t->gemm_rb - 1) / (size_t)t->gemm_rb;
        size_t global[3] = {b_panels, rows, (size_t)count};
        status = OCL_LAUNCH(stream, OCL_GEMM_TILE, d->c_type, 3, global,
                            t->gemm_local ? group_shape : one, OCL_ARG(ap), OCL_ARG(bp),
                            OCL_ARG(a_batch), OCL_ARG(b_batch), OCL_ARG(c->mem), OCL_ARG(c_offset),
                            OCL_ARG(ldc), OCL_ARG(stride_c), OCL_ARG(m), OCL_ARG(n), OCL_ARG(kp),
                            OCL_ARG(alpha), OCL_ARG(beta));
        if (status != XHAL_OK) return status;
    }
    return XHAL_OK;
}

static xhal_status_t gemm_gemv(xhal_be_stream_t *stream, const xhal_gemm_desc_t *d,
                               xhal_be_buffer_t *a, xhal_be_buffer_t *b, xhal_be_buffer_t *c) {
    const ocl_tuning_t *t = &stream->device->tuning;
    int shared_a = d->stride_a == 0 || d->batch == 1;
    uint64_t a_floats = (uint64_t)d->m * (uint64_t)d->k;
    int64_t group = batch_group(d, shared_a ? 0 : a_floats, shared_a ? a_floats : 0);
    cl_mem af = NULL;
    xhal_status_t status =
        ocl_stream_scratch(stream, 0, 4 * a_floats * (uint64_t)(shared_a ? 1 : group), &af);
    if (status != XHAL_OK) return status;

    cl_long rs_a, cs_a;
    strides_a(d, &rs_a, &cs_a);
    cl_int m = (cl_int)d->m, n = (cl_int)d->n, k = (cl_int)d->k, cdt = (cl_int)d->c_type;
    cl_long a_batch = shared_a ? 0 : (cl_long)a_floats;
    cl_long ldb = d->ldb, ldc = d->ldc;
    cl_long stride_a = d->stride_a, stride_b = d->stride_b, stride_c = d->stride_c;
    cl_float alpha = d->alpha, beta = d->beta;
    size_t columns = d->trans_b ? (size_t)t->gemv_tc : (size_t)(t->gemm_vw * t->gemv_nv);
    /* The GEMV kernels use the GEMM program's vector width. */
    ocl_family_t family = d->trans_b ? OCL_GEMV_T : OCL_GEMV_N;

    for (int64_t b0 = 0; b0 < d->batch; b0 += group) {
        int64_t count = d->batch - b0 < group ? d->batch - b0 : group;
        if (b0 == 0 || !shared_a) {
            cl_long offset = (cl_long)(d->a_offset / ocl_dtype_size(d->a_type)) + b0 * stride_a;
            size_t global[2] = {(size_t)d->m, (size_t)(shared_a ? 1 : count)};
            status = OCL_LAUNCH(stream, OCL_GEMM_COPY_A, d->a_type, 2, global, NULL,
                                OCL_ARG(a->mem), OCL_ARG(offset), OCL_ARG(rs_a), OCL_ARG(cs_a),
                                OCL_ARG(stride_a), OCL_ARG(m), OCL_ARG(k), OCL_ARG(af));
            if (status != XHAL_OK) return status;
        }
        cl_long b_offset = (cl_long)(d->b_offset / ocl_dtype_size(d->b_type)) + b0 * stride_b;
        cl_long c_offset = (cl_long)(d->c_offset / ocl_dtype_size(d->c_type)) + b0 * stride_c;
        size_t global[3] = {((size_t)d->n + columns - 1) / columns, 1, (size_t)count};
        status = OCL_LAUNCH(stream, family, d->b_type, 3, global, NULL, OCL_ARG(af),
                            OCL_ARG(a_batch), OCL_ARG(b->mem), OCL_ARG(b_offset), OCL_ARG(ldb),
                            OCL_ARG(stride_b), OCL_ARG(c->mem), OCL_ARG(c_offset), OCL_ARG(ldc),
                            OCL_ARG(stride_c), OCL_ARG(m), OCL_ARG(n), OCL_ARG(k), OCL_ARG(alpha),
                            OCL_ARG(beta), OCL_ARG(cdt));
        if (status != XHAL_OK) return status;
    }
    return XHAL_OK;
}

/* True when the fused kernel runs this GEMM: the device's tuning asks for it and one B panel
 * of k steps fits in the device's local memory. */
static int fused_fits(const xhal_be_device_t *device, const xhal_gemm_desc_t *d) {
    const ocl_tuning_t *t = &device->tuning;
    uint64_t panel = (uint64_t)d->k * (uint64_t)(t->gemm_vw * t->gemm_nv) * sizeof(float);
    return t->gemm_fused && !t->gemm_local && panel <= device->local_memory;
}

static xhal_status_t gemm_fused(xhal_be_stream_t *stream, const xhal_gemm_desc_t *d,
                                xhal_be_buffer_t *a, xhal_be_buffer_t *b, xhal_be_buffer_t *c) {
    const xhal_be_device_t *device = stream->device;
    const ocl_tuning_t *t = &device->tuning;
    int tn = t->gemm_vw * t->gemm_nv;
    /* A 16-bit A is converted to dense f32 rows first (the kernel reads f32 A in place). */
    int convert = d->a_type != XHAL_DTYPE_F32;
    int shared_a = d->stride_a == 0 || d->batch == 1;
    uint64_t a_floats = convert ? (uint64_t)d->m * (uint64_t)d->k : 0;
    int64_t group =
        convert ? batch_group(d, shared_a ? 0 : a_floats, shared_a ? a_floats : 0) : d->batch;
    cl_mem af = NULL;
    if (convert) {
        xhal_status_t status =
            ocl_stream_scratch(stream, 0, 4 * a_floats * (uint64_t)(shared_a ? 1 : group), &af);
        if (status != XHAL_OK) return status;
    }

    /* Enough row groups that the device has about four work-groups per compute unit. */
    int64_t panels = ((int64_t)d->n + tn - 1) / tn,
            row_tiles = (d->m + t->gemm_tm - 1) / t->gemm_tm;
    int64_t want = 4 * (int64_t)(device->info.compute_units ? device->info.compute_units : 1);
    int64_t groups = (want + panels * group - 1) / (panels * group);
    if (groups < 1) groups = 1;
    if (groups > row_tiles) groups = row_tiles;
    cl_int tiles = (cl_int)((row_tiles + groups - 1) / groups);
    groups = (row_tiles + tiles - 1) / tiles;

    cl_long rs_a, cs_a, rs_b, cs_b;
    strides_a(d, &rs_a, &cs_a);
    strides_bt(d, &rs_b, &cs_b);
    cl_int m = (cl_int)d->m, n = (cl_int)d->n, k = (cl_int)d->k, cdt = (cl_int)d->c_type;
    cl_long ldc = d->ldc, stride_a = d->stride_a, stride_b = d->stride_b, stride_c = d->stride_c;
    cl_float alpha = d->alpha, beta = d->beta;
    size_t one[3] = {1, 1, 1};
    size_t panel_bytes = (size_t)d->k * (size_t)tn * sizeof(float);

    for (int64_t b0 = 0; b0 < d->batch; b0 += group) {
        int64_t count = d->batch - b0 < group ? d->batch - b0 : group;
        cl_mem a_mem = a->mem;
        cl_long a_offset = (cl_long)(d->a_offset / ocl_dtype_size(d->a_type)) + b0 * stride_a;
        cl_long a_rs = rs_a, a_cs = cs_a, a_batch = stride_a;
        if (convert) {
            if (b0 == 0 || !shared_a) {
                size_t global[2] = {(size_t)d->m, (size_t)(shared_a ? 1 : count)};
                xhal_status_t status =
                    OCL_LAUNCH(stream, OCL_GEMM_COPY_A, d->a_type, 2, global, NULL, OCL_ARG(a->mem),
                               OCL_ARG(a_offset), OCL_ARG(rs_a), OCL_ARG(cs_a), OCL_ARG(stride_a),
                               OCL_ARG(m), OCL_ARG(k), OCL_ARG(af));
                if (status != XHAL_OK) return status;
            }
            a_mem = af;
            a_offset = 0;
            a_rs = k;
            a_cs = 1;
            a_batch = shared_a ? 0 : (cl_long)a_floats;
        }
        cl_long b_offset = (cl_long)(d->b_offset / ocl_dtype_size(d->b_type)) + b0 * stride_b;
        cl_long c_offset = (cl_long)(d->c_offset / ocl_dtype_size(d->c_type)) + b0 * stride_c;
        size_t global[3] = {(size_t)panels, (size_t)groups, (size_t)count};
        xhal_status_t status = OCL_LAUNCH(
            stream, OCL_GEMM_FUSED, d->b_type, 3, global, one, OCL_ARG(a_mem), OCL_ARG(a_offset),
            OCL_ARG(a_rs), OCL_ARG(a_cs), OCL_ARG(a_batch), OCL_ARG(b->mem), OCL_ARG(b_offset),
            OCL_ARG(rs_b), OCL_ARG(cs_b), OCL_ARG(stride_b), OCL_ARG(c->mem), OCL_ARG(c_offset),
            OCL_ARG(ldc), OCL_ARG(stride_c), OCL_ARG(m), OCL_ARG(n), OCL_ARG(k), OCL_ARG(tiles),
            OCL_ARG(alpha), OCL_ARG(beta), OCL_ARG(cdt), OCL_LOCAL(panel_bytes));
        if (status != XHAL_OK) return status;
    }
    return XHAL_OK;
}

xhal_status_t ocl_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                       const xhal_be_gemm_buffers_t *buffers) {
    xhal_be_buffer_t *a = buffers->a, *b = buffers->b, *c = buffers->c;
    if (desc->m <= stream->device->tuning.gemv_max_m) return gemm_gemv(stream, desc, a, b, c);
    if (fused_fits(stream->device, desc)) return gemm_fused(stream, desc, a, b, c);
    return gemm_tiled(stream, desc, a, b, c);
}
