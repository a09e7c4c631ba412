/*
 * GEMM dispatch (kernels/opencl/gemm.cl and qgemm.cl explain the kernels):
 *
 *   m <= gemv_max_m   op(A) is copied to f32 rows, then a GEMV kernel streams B from its own
 *                     layout, gemv_rows rows of A at a time (decode steps and other short m:
 *                     packing B would cost as much as the product); a quantized B stored
 *                     n x k is dequantized in registers (ocl_gemm_gemv.c);
 *   gemm_fused        (CPU devices, when a B panel of k steps fits in local memory) one kernel:
 *                     each work-group packs its B panel into local memory (dequantizing a
 *                     quantized B), then computes row tiles of C reading f32 A in place (a
 *                     16-bit A is converted first); no packing pass, no packed operand written
 *                     to memory and read back;
 *   otherwise         op(A) and op(B) are packed into f32 panels (transposes, leading
 *                     dimensions, dtypes and quantized formats dealt with there), then the tile
 *                     kernel computes C.
 *
 * Every kernel applies the epilogue as it writes C (bias, activation; gated: each B panel holds
 * matching columns of both halves). Packed operands live in the stream's scratch buffers. A
 * shared operand (batch stride 0) is packed once. Batches are packed and computed in groups
 * small enough that the scratch stays under OCL_SCRATCH_BUDGET, so a large batch never needs
 * one huge allocation.
 */
#include <limits.h>

#include "ocl_gemm.h"
#include "xc_features.h"

/* The shape of the packed panels for this device's tuning. */
typedef struct panels {
    int tm, tn;         /* rows of an A panel, columns of a B panel */
    int64_t mp, np, kp; /* m, n, k padded to whole work-groups and local-memory stages */
    uint64_t a_floats;  /* one packed batch of A */
    uint64_t b_floats;  /* one packed batch of B */
} panels_t;

static int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

/* Panels of B: of tn product columns, or, gated, of tn / 2 columns of each half. */
static int64_t b_panel_count(const xhal_gemm_desc_t *d, int tn) {
    return d->gated ? ceil_div(d->n / 2, tn / 2) : ceil_div(d->n, tn);
}

static void panel_shape(const ocl_tuning_t *t, const xhal_gemm_desc_t *d, panels_t *p) {
    p->tm = t->gemm_tm;
    p->tn = t->gemm_vw * t->gemm_nv;
    int group_m = t->gemm_local ? t->gemm_wg_m : 1, group_n = t->gemm_local ? t->gemm_wg_n : 1;
    p->mp = (int64_t)ocl_round_up((uint64_t)d->m, (uint64_t)(p->tm * group_m));
    p->np = (int64_t)ocl_round_up((uint64_t)b_panel_count(d, p->tn), (uint64_t)group_n) * p->tn;
    p->kp = t->gemm_local ? (int64_t)ocl_round_up((uint64_t)d->k, (uint64_t)t->gemm_kb) : d->k;
    p->a_floats = (uint64_t)p->mp * (uint64_t)p->kp;
    p->b_floats = (uint64_t)p->np * (uint64_t)p->kp;
}

/* The serving features of GEMM this backend runs (backends/common/xc_features.h): every one. */
#define OCL_GEMM_FEATURES (XC_GEMM_BIAS | XC_GEMM_ACTIVATION | XC_GEMM_GATED | XC_GEMM_QUANT_B)

xhal_status_t ocl_gemm_supports(xhal_be_device_t *device, const xhal_gemm_desc_t *desc) {
    xhal_status_t status = xc_gemm_features(device->host, "opencl", desc, OCL_GEMM_FEATURES);
    if (status != XHAL_OK) return status;
    const ocl_tuning_t *t = &device->tuning;
    /* Every epilogue and quantized format runs (the core has checked the combinations). */
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

int64_t ocl_gemm_batch_group(const xhal_gemm_desc_t *d, uint64_t floats_per_batch,
                             uint64_t shared) {
    uint64_t budget = OCL_SCRATCH_BUDGET / 4;
    if (floats_per_batch == 0) return d->batch;
    uint64_t fit = budget > shared ? (budget - shared) / floats_per_batch : 0;
    if (fit < 1) fit = 1;
    return fit < (uint64_t)d->batch ? (int64_t)fit : d->batch;
}

void ocl_gemm_strides_a(const xhal_gemm_desc_t *d, cl_long *rs, cl_long *cs) {
    *rs = d->trans_a ? 1 : d->lda;
    *cs = d->trans_a ? d->lda : 1;
}

void ocl_gemm_strides_bt(const xhal_gemm_desc_t *d, cl_long *rs, cl_long *cs) {
    *rs = d->trans_b ? d->ldb : 1;
    *cs = d->trans_b ? 1 : d->ldb;
}

/* Resolves the epilogue's and the quantized B's arguments (ocl_gemm.h). */
static void gemm_args(const xhal_gemm_desc_t *d, const xhal_be_gemm_buffers_t *buffers,
                      ocl_gemm_args_t *g) {
    cl_mem unused = buffers->c->mem;
    g->bias = buffers->bias ? buffers->bias->mem : unused;
    g->bias_offset = buffers->bias ? (cl_long)(d->bias_offset / ocl_dtype_size(d->bias_type)) : 0;
    g->bias_dt = buffers->bias ? (cl_int)d->bias_type : -1;
    g->act = (cl_int)d->activation;
    g->half = d->gated ? (cl_int)(d->n / 2) : 0;
    g->alpha = d->alpha;
    g->beta = d->beta;
    g->outputs = d->gated ? d->n / 2 : d->n;

    int quantized = d->b_quant != XHAL_QUANT_NONE;
    g->scales = quantized ? buffers->b_scales->mem : unused;
    g->scales_offset =
        quantized ? (cl_long)(d->b_scales_offset / ocl_dtype_size(d->b_scale_type)) : 0;
    g->scale_dt = (cl_int)d->b_scale_type;
    g->zeros = buffers->b_zeros ? buffers->b_zeros->mem : unused;
    g->zeros_offset = buffers->b_zeros ? (cl_long)d->b_zeros_offset : 0;
    g->has_zeros = buffers->b_zeros != NULL;
    int grouped = d->b_scale_mode == XHAL_SCALE_PER_GROUP;
    g->group = grouped ? (cl_int)d->b_group_size : INT_MAX;
    g->groups = d->b_scale_mode == XHAL_SCALE_PER_TENSOR ? 0
                : grouped                                ? (cl_int)ceil_div(d->k, d->b_group_size)
                                                         : 1;

    if (!quantized) {
        g->b_first = (cl_long)(d->b_offset / ocl_dtype_size(d->b_type));
        g->variant = (int)d->b_type;
    } else {
        g->b_first = (cl_long)d->b_offset * (d->b_quant == XHAL_QUANT_INT4 ? 2 : 1);
        g->variant = (int)d->b_quant - 1;
    }
}

/* Packs B's panels (all of them, one batch group's) into bp: dense or dequantized. */
static xhal_status_t pack_b(xhal_be_stream_t *stream, const xhal_gemm_desc_t *d,
                            xhal_be_buffer_t *b, const ocl_gemm_args_t *g, const panels_t *p,
                            int64_t b0, int64_t count, int shared_b, cl_mem bp) {
    const ocl_tuning_t *t = &stream->device->tuning;
    cl_long rs_b, cs_b;
    ocl_gemm_strides_bt(d, &rs_b, &cs_b);
    cl_int n = (cl_int)d->n, k = (cl_int)d->k, kp = (cl_int)p->kp, half = g->half;
    cl_long b_floats = (cl_long)p->b_floats, stride_b = d->stride_b;
    size_t pack_k = (size_t)t->gemm_pack_k;
    size_t global[3] = {((size_t)p->kp + pack_k - 1) / pack_k, (size_t)(p->np / p->tn),
                        (size_t)(shared_b ? 1 : count)};
    if (d->b_quant != XHAL_QUANT_NONE)
        return OCL_LAUNCH(stream, OCL_QPACK_B, g->variant, 3, global, NULL, OCL_ARG(b->mem),
                          OCL_ARG(g->b_first), OCL_ARG(rs_b), OCL_ARG(cs_b), OCL_ARG(n),
                          OCL_ARG(half), OCL_ARG(k), OCL_ARG(kp), OCL_ARG(bp), OCL_QPARAM_ARGS(*g));
    cl_long offset = g->b_first + b0 * stride_b;
    return OCL_LAUNCH(stream, OCL_GEMM_PACK_B, g->variant, 3, global, NULL, OCL_ARG(b->mem),
                      OCL_ARG(offset), OCL_ARG(rs_b), OCL_ARG(cs_b), OCL_ARG(stride_b), OCL_ARG(n),
                      OCL_ARG(half), OCL_ARG(k), OCL_ARG(kp), OCL_ARG(bp), OCL_ARG(b_floats));
}

static xhal_status_t gemm_tiled(xhal_be_stream_t *stream, const xhal_gemm_desc_t *d,
                                const xhal_be_gemm_buffers_t *buffers, const ocl_gemm_args_t *g) {
    const ocl_tuning_t *t = &stream->device->tuning;
    xhal_be_buffer_t *a = buffers->a, *b = buffers->b, *c = buffers->c;
    panels_t p;
    panel_shape(t, d, &p);
    int shared_a = d->stride_a == 0 || d->batch == 1, shared_b = d->stride_b == 0 || d->batch == 1;
    uint64_t per_batch = (shared_a ? 0 : p.a_floats) + (shared_b ? 0 : p.b_floats);
    uint64_t shared = (shared_a ? p.a_floats : 0) + (shared_b ? p.b_floats : 0);
    int64_t group = ocl_gemm_batch_group(d, per_batch, shared);

    cl_mem ap = NULL, bp = NULL;
    xhal_status_t status =
        ocl_stream_scratch(stream, 0, 4 * p.a_floats * (uint64_t)(shared_a ? 1 : group), &ap);
    if (status == XHAL_OK)
        status =
            ocl_stream_scratch(stream, 1, 4 * p.b_floats * (uint64_t)(shared_b ? 1 : group), &bp);
    if (status != XHAL_OK) return status;

    cl_long rs_a, cs_a;
    ocl_gemm_strides_a(d, &rs_a, &cs_a);
    cl_int m = (cl_int)d->m, n = (cl_int)d->n, k = (cl_int)d->k, kp = (cl_int)p.kp;
    cl_long a_floats = (cl_long)p.a_floats, b_floats = (cl_long)p.b_floats;
    cl_long a_batch = shared_a ? 0 : a_floats, b_batch = shared_b ? 0 : b_floats;
    cl_long ldc = d->ldc, stride_a = d->stride_a, stride_c = d->stride_c;
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
            status = pack_b(stream, d, b, g, &p, b0, count, shared_b, bp);
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
                            OCL_EPILOGUE_ARGS(*g));
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
                                const xhal_be_gemm_buffers_t *buffers, const ocl_gemm_args_t *g) {
    const xhal_be_device_t *device = stream->device;
    const ocl_tuning_t *t = &device->tuning;
    xhal_be_buffer_t *a = buffers->a, *b = buffers->b, *c = buffers->c;
    int tn = t->gemm_vw * t->gemm_nv;
    /* A 16-bit A is converted to dense f32 rows first (the kernel reads f32 A in place). */
    int convert = d->a_type != XHAL_DTYPE_F32;
    int shared_a = d->stride_a == 0 || d->batch == 1;
    uint64_t a_floats = convert ? (uint64_t)d->m * (uint64_t)d->k : 0;
    int64_t group = convert
                        ? ocl_gemm_batch_group(d, shared_a ? 0 : a_floats, shared_a ? a_floats : 0)
                        : d->batch;
    cl_mem af = NULL;
    if (convert) {
        xhal_status_t status =
            ocl_stream_scratch(stream, 0, 4 * a_floats * (uint64_t)(shared_a ? 1 : group), &af);
        if (status != XHAL_OK) return status;
    }

    /* Enough row groups that the device has about four work-groups per compute unit. */
    int64_t panels = b_panel_count(d, tn), row_tiles = ceil_div(d->m, t->gemm_tm);
    int64_t want = 4 * (int64_t)(device->info.compute_units ? device->info.compute_units : 1);
    int64_t groups = (want + panels * group - 1) / (panels * group);
    if (groups < 1) groups = 1;
    if (groups > row_tiles) groups = row_tiles;
    cl_int tiles = (cl_int)((row_tiles + groups - 1) / groups);
    groups = (row_tiles + tiles - 1) / tiles;

    cl_long rs_a, cs_a, rs_b, cs_b;
    ocl_gemm_strides_a(d, &rs_a, &cs_a);
    ocl_gemm_strides_bt(d, &rs_b, &cs_b);
    cl_int m = (cl_int)d->m, n = (cl_int)d->n, k = (cl_int)d->k, cdt = (cl_int)d->c_type;
    cl_long ldc = d->ldc, stride_a = d->stride_a, stride_b = d->stride_b, stride_c = d->stride_c;
    size_t one[3] = {1, 1, 1};
    size_t panel_bytes = (size_t)d->k * (size_t)tn * sizeof(float);
    cl_int plain = 0; /* gemm_copy_a's `split`: rows in order */
    int quantized = d->b_quant != XHAL_QUANT_NONE;

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
                               OCL_ARG(m), OCL_ARG(k), OCL_ARG(af), OCL_ARG(plain));
                if (status != XHAL_OK) return status;
            }
            a_mem = af;
            a_offset = 0;
            a_rs = k;
            a_cs = 1;
            a_batch = shared_a ? 0 : (cl_long)a_floats;
        }
        cl_long b_offset = g->b_first + (quantized ? 0 : b0 * stride_b);
        cl_long c_offset = (cl_long)(d->c_offset / ocl_dtype_size(d->c_type)) + b0 * stride_c;
        size_t global[3] = {(size_t)panels, (size_t)groups, (size_t)count};
#define FUSED_ARGS                                                                                 \
    OCL_ARG(a_mem), OCL_ARG(a_offset), OCL_ARG(a_rs), OCL_ARG(a_cs), OCL_ARG(a_batch),             \
        OCL_ARG(b->mem), OCL_ARG(b_offset), OCL_ARG(rs_b), OCL_ARG(cs_b), OCL_ARG(stride_b),       \
        OCL_ARG(c->mem), OCL_ARG(c_offset), OCL_ARG(ldc), OCL_ARG(stride_c), OCL_ARG(m),           \
        OCL_ARG(n), OCL_ARG(k), OCL_ARG(tiles), OCL_ARG(cdt), OCL_LOCAL(panel_bytes)
        xhal_status_t status =
            quantized ? OCL_LAUNCH(stream, OCL_QFUSED, g->variant, 3, global, one, FUSED_ARGS,
                                   OCL_QPARAM_ARGS(*g), OCL_EPILOGUE_ARGS(*g))
                      : OCL_LAUNCH(stream, OCL_GEMM_FUSED, g->variant, 3, global, one, FUSED_ARGS,
                                   OCL_EPILOGUE_ARGS(*g));
#undef FUSED_ARGS
        if (status != XHAL_OK) return status;
    }
    return XHAL_OK;
}

xhal_status_t ocl_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                       const xhal_be_gemm_buffers_t *buffers) {
    ocl_gemm_args_t g;
    gemm_args(desc, buffers, &g);
    if (ocl_gemm_gemv_runs(stream->device, desc)) return ocl_gemm_gemv(stream, desc, buffers, &g);
    if (fused_fits(stream->device, desc)) return gemm_fused(stream, desc, buffers, &g);
    return gemm_tiled(stream, desc, buffers, &g);
}
