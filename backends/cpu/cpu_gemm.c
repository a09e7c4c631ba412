/*
 * GEMM: C = epilogue(alpha * op(A) * op(B) + beta * C), row-major, f32 accumulation (xhal.h).
 *
 * This file decides how a GEMM is split across the device's threads and hands each piece to
 * the GEMM engine in kernels/cpu/ (packing, cache blocking, a register-blocked microkernel per
 * ISA; see kernels/cpu/gemm_kernel.h). Each batch's C is cut into a grid of blocks on the
 * microkernel's tile boundaries, preferring column blocks: threads then pack disjoint parts of B
 * and share nothing. Decode-shaped products (a few rows of A against a large B) may go to the
 * GEMV paths instead, which read B once in place rather than packing it (cpu_gemm_gemv.c;
 * quantized B: kernels/cpu/qgemm_kernel.h); for dense B which of the two runs is decided per
 * shape class by measurement (cpu_gemm_plan.c). The epilogue (bias, activation, gated) is applied
 * by the kernels to results still in cache; a bias of any dtype is converted to f32 once here.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_gemm.h"
#include "xc_features.h"

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

int64_t cpu_ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

xk_gemm_problem_t cpu_gemm_problem(const cpu_gemm_job_t *job, int64_t batch) {
    const gemm_args_t *args = job->args;
    const xhal_gemm_desc_t *d = &args->desc;
    const int quant = d->b_quant != XHAL_QUANT_NONE;
    xk_gemm_problem_t p = {
        .m = d->m,
        .n = d->n,
        .k = d->k,
        .alpha = d->alpha,
        .beta = d->beta,
        .a = {args->a + batch * d->stride_a * (int64_t)cpu_dtype_size(d->a_type), d->a_type,
              d->trans_a ? 1 : d->lda, d->trans_a ? d->lda : 1},
        /* A quantized B is one matrix for every batch (stride_b 0), read through b_quant. */
        .b = {quant ? args->b : args->b + batch * d->stride_b * (int64_t)cpu_dtype_size(d->b_type),
              quant ? XHAL_DTYPE_F32 : d->b_type, d->trans_b ? 1 : d->ldb, d->trans_b ? d->ldb : 1},
        .c = args->c + batch * d->stride_c * (int64_t)cpu_dtype_size(d->c_type),
        .c_type = d->c_type,
        .ldc = d->ldc,
        .epi = job->epi,
        .b_quant = quant ? &job->quant : NULL,
    };
    return p;
}

static void gemm_task(void *ctx, size_t task, size_t thread) {
    const cpu_gemm_job_t *job = ctx;
    int64_t per_batch = job->grid_m * job->grid_n;
    int64_t batch = (int64_t)task / per_batch, block = (int64_t)task % per_batch;
    xk_gemm_problem_t p = cpu_gemm_problem(job, batch);
    int64_t m0 = block / job->grid_n * job->block_m, n0 = block % job->grid_n * job->block_n;
    xk_gemm_block(&p, m0, min64(m0 + job->block_m, p.m), n0, min64(n0 + job->block_n, job->columns),
                  job->scratch + thread * job->per_thread);
}

/*
 * Cuts each batch into about `threads` blocks when the batch count alone cannot keep every
 * thread busy: columns first (in units of the microkernel's width, or of pairs of its panels
 * when gated), then rows.
 */
static void plan_blocks(cpu_gemm_job_t *job, const xk_gemm_problem_t *p, int64_t threads) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    int mr, nr;
    int64_t unit;
    xk_gemm_tile(&mr, &nr);
    job->columns = xk_gemm_columns(p, &unit);
    int64_t parts = d->batch >= threads ? 1 : cpu_ceil_div(threads, d->batch);
    int64_t col_units = cpu_ceil_div(job->columns, unit), row_units = cpu_ceil_div(d->m, mr);
    job->grid_n = min64(parts, col_units);
    job->grid_m = min64(cpu_ceil_div(parts, job->grid_n), row_units);
    job->block_n = cpu_ceil_div(col_units, job->grid_n) * unit;
    job->block_m = cpu_ceil_div(row_units, job->grid_m) * mr;
    job->grid_n = cpu_ceil_div(job->columns, job->block_n);
    job->grid_m = cpu_ceil_div(d->m, job->block_m);
}

/* The blocked GEMM on the pool; 0 when scratch cannot be had. */
static int run_blocked(xhal_be_device_t *device, cpu_gemm_job_t *job, int64_t threads) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    xk_gemm_problem_t p = cpu_gemm_problem(job, 0);
    plan_blocks(job, &p, threads);
    job->per_thread = xk_gemm_scratch_floats(&p, job->block_m, job->block_n);
    job->scratch = cpu_gemm_scratch(device, job, job->per_thread * (size_t)threads);
    if (!job->scratch) return 0;
    cpu_pool_run(device->pool, (size_t)(d->batch * job->grid_m * job->grid_n), gemm_task, job);
    return 1;
}

float *cpu_gemm_scratch(xhal_be_device_t *device, cpu_gemm_job_t *job, size_t floats) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    size_t bias_floats = job->args->bias ? (size_t)cpu_ceil_div(d->n, CPU_CHUNK) * CPU_CHUNK : 0;
    float *scratch = cpu_device_scratch(device, bias_floats + floats);
    if (!scratch) return NULL;
    if (bias_floats) {
        /* The bias in f32, once for every tile and row that adds it. */
        for (int64_t j = 0; j < d->n; j++) {
            const char *at = job->args->bias + j * (int64_t)cpu_dtype_size(d->bias_type);
            uint16_t h;
            memcpy(&h, at, sizeof h);
            if (d->bias_type == XHAL_DTYPE_F32)
                memcpy(&scratch[j], at, sizeof *scratch);
            else
                scratch[j] =
                    d->bias_type == XHAL_DTYPE_F16 ? xhal_f16_to_f32(h) : xhal_bf16_to_f32(h);
        }
        job->epilogue.bias = scratch;
    }
    return scratch + bias_floats;
}

/*
 * The plan's runner (cpu_gemm_runner_fn): a dense GEMM without epilogue by `path`, which is how
 * the plan times both paths on its synthetic products.
 */
static int run_plain(xhal_be_device_t *device, const xhal_gemm_desc_t *desc, const void *a,
                     const void *b, void *c, cpu_gemm_path_t path) {
    gemm_args_t args = {.desc = *desc, .a = a, .b = b, .c = c};
    cpu_gemm_job_t job = {.args = &args};
    int64_t threads = (int64_t)cpu_pool_threads(device->pool);
    pthread_mutex_lock(&device->scratch_lock);
    int ran = path == CPU_GEMM_GEMV ? cpu_gemm_run_gemv(device, &job, threads)
                                    : run_blocked(device, &job, threads);
    pthread_mutex_unlock(&device->scratch_lock);
    return ran ? 0 : -1;
}

/* The 256 values of an FP8 format's codes, from the core's reference decoder. */
static int fp8_table(xhal_quant_t format, float *out) {
    xhal_quantize_desc_t q = {.struct_size = sizeof q,
                              .format = format,
                              .n = 1,
                              .k = 256,
                              .scale_mode = XHAL_SCALE_PER_TENSOR,
                              .scale_type = XHAL_DTYPE_F32};
    uint8_t codes[256];
    const float one = 1.0f;
    for (int i = 0; i < 256; i++)
        codes[i] = (uint8_t)i;
    return xhal_dequantize_weights(&q, codes, &one, NULL, out, 256) == XHAL_OK;
}

/* On the stream's worker: the epilogue and weights as the kernels take them, then a path. */
static void run_gemm(xhal_be_stream_t *stream, void *payload) {
    const gemm_args_t *args = payload;
    const xhal_gemm_desc_t *d = &args->desc;
    xhal_be_device_t *device = stream->device;
    int64_t threads = (int64_t)cpu_pool_threads(device->pool);
    cpu_gemm_job_t job = {.args = args};

    if (args->bias || d->activation != XHAL_ACTIVATION_NONE || d->gated) {
        job.epilogue =
            (xk_epilogue_t){.activation = d->activation, .gated = d->gated, .half = d->n / 2};
        job.epi = &job.epilogue;
    }
    const int quant = d->b_quant != XHAL_QUANT_NONE;
    if (quant) {
        int64_t group = d->b_scale_mode == XHAL_SCALE_PER_GROUP ? d->b_group_size : d->k;
        job.quant = (xk_qweights_t){
            .format = d->b_quant,
            .data = (const uint8_t *)args->b,
            .ld = d->ldb,
            .trans = d->trans_b,
            .mode = d->b_scale_mode,
            .group = group,
            .groups = cpu_ceil_div(d->k, group),
            .scales = args->b_scales,
            .scale_type = d->b_scale_type,
            .zeros = (const uint8_t *)args->b_zeros,
            .fp8 = job.fp8,
        };
        if ((d->b_quant == XHAL_QUANT_FP8_E4M3 || d->b_quant == XHAL_QUANT_FP8_E5M2) &&
            !fp8_table(d->b_quant, job.fp8)) {
            cpu_stream_fail(stream, XHAL_INTERNAL, "cpu: gemm: the FP8 table: %s",
                            xhal_last_error());
            return;
        }
    }

    int ran;
    const char *what;
    /* Chosen before scratch_lock is taken: a calibration runs GEMMs of its own. */
    int gemv = !quant && cpu_gemm_plan_choose(device, d, run_plain) == CPU_GEMM_GEMV;
    pthread_mutex_lock(&device->scratch_lock);
    if (quant && d->trans_b && d->m <= XK_QGEMV_MAX_M) {
        ran = cpu_gemm_run_qgemv(device, &job, threads);
        what = "the prepared rows of A of a quantized GEMV";
    } else if (gemv) {
        ran = cpu_gemm_run_gemv(device, &job, threads);
        what = "the partial results of a GEMV";
    } else {
        ran = run_blocked(device, &job, threads);
        what = "the packed blocks of a GEMM";
    }
    pthread_mutex_unlock(&device->scratch_lock);
    if (!ran) cpu_stream_fail(stream, XHAL_OUT_OF_MEMORY, "cpu: gemm: out of memory for %s", what);
}

/* The serving features of GEMM this backend runs (backends/common/xc_features.h): all of them. */
#define CPU_GEMM_FEATURES (XC_GEMM_BIAS | XC_GEMM_ACTIVATION | XC_GEMM_GATED | XC_GEMM_QUANT_B)

xhal_status_t cpu_gemm_supports(xhal_be_device_t *device, const xhal_gemm_desc_t *desc) {
    /* Every dtype mix, transpose and stride the core accepts; every epilogue; every quantized
     * format and scale mode with B stored either way (the GEMV path takes B stored n x k, the
     * packing path dequantizes either layout). A feature added later is refused until its bit
     * is in CPU_GEMM_FEATURES. */
    return xc_gemm_features(device->host, "cpu", desc, CPU_GEMM_FEATURES);
}

xhal_status_t cpu_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                       const xhal_be_gemm_buffers_t *buffers) {
    cpu_command_t *command = cpu_command_new(stream, run_gemm, "gemm", sizeof(gemm_args_t));
    if (!command) return XHAL_OUT_OF_MEMORY;
    gemm_args_t *args = (gemm_args_t *)command->payload;
    args->desc = *desc;
    args->a = (const char *)buffers->a->data + desc->a_offset;
    args->b = (const char *)buffers->b->data + desc->b_offset;
    args->c = (char *)buffers->c->data + desc->c_offset;
    args->bias = buffers->bias ? (const char *)buffers->bias->data + desc->bias_offset : NULL;
    args->b_scales =
        buffers->b_scales ? (const char *)buffers->b_scales->data + desc->b_scales_offset : NULL;
    args->b_zeros =
        buffers->b_zeros ? (const char *)buffers->b_zeros->data + desc->b_zeros_offset : NULL;
    cpu_stream_push(stream, command);
    return XHAL_OK;
}
