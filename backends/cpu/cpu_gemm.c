/*
 * GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, f32 accumulation (see xhal.h).
 *
 * This file decides how a GEMM is split across the device's threads and hands each piece to
 * the GEMM engine in kernels/cpu/ (packing, cache blocking, a register-blocked microkernel per
 * ISA; see kernels/cpu/gemm_kernel.h). Each batch's C is cut into a grid of blocks on the
 * microkernel's tile boundaries, preferring column blocks: threads then pack disjoint parts of B
 * and share nothing. Decode-shaped products (a few rows of A against a large B) may go to the
 * GEMV paths instead (kernels/cpu/gemv_kernel.h), which read B once in place rather than
 * packing it; which one runs is decided per shape class by measurement (cpu_gemm_plan.c).
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "gemm_kernel.h"
#include "gemv_kernel.h"

typedef struct {
    xhal_gemm_desc_t desc; /* by value: the caller's desc is only valid during the enqueue */
    const char *a, *b;     /* the first byte of each operand: buffer data + offset */
    char *c;
} gemm_args_t;

/* What the tasks of one GEMM share. */
typedef struct {
    const gemm_args_t *args;
    int64_t grid_m, grid_n;   /* blocks per batch */
    int64_t block_m, block_n; /* rows and columns of a block (the last may be smaller) */
    float *scratch;           /* floats_per_thread per pool thread */
    size_t floats_per_thread;
} gemm_job_t;

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

/* Batch `batch` of the descriptor as the engine's problem: strides encode the transposes. */
static xk_gemm_problem_t problem_of(const gemm_args_t *args, int64_t batch) {
    const xhal_gemm_desc_t *d = &args->desc;
    xk_gemm_problem_t p = {
        .m = d->m,
        .n = d->n,
        .k = d->k,
        .alpha = d->alpha,
        .beta = d->beta,
        .a = {args->a + batch * d->stride_a * (int64_t)cpu_dtype_size(d->a_type), d->a_type,
              d->trans_a ? 1 : d->lda, d->trans_a ? d->lda : 1},
        .b = {args->b + batch * d->stride_b * (int64_t)cpu_dtype_size(d->b_type), d->b_type,
              d->trans_b ? 1 : d->ldb, d->trans_b ? d->ldb : 1},
        .c = args->c + batch * d->stride_c * (int64_t)cpu_dtype_size(d->c_type),
        .c_type = d->c_type,
        .ldc = d->ldc,
    };
    return p;
}

static void gemm_task(void *ctx, size_t task, size_t thread) {
    const gemm_job_t *job = ctx;
    int64_t per_batch = job->grid_m * job->grid_n;
    int64_t batch = (int64_t)task / per_batch, block = (int64_t)task % per_batch;
    xk_gemm_problem_t p = problem_of(job->args, batch);
    int64_t m0 = block / job->grid_n * job->block_m, n0 = block % job->grid_n * job->block_n;
    xk_gemm_block(&p, m0, min64(m0 + job->block_m, p.m), n0, min64(n0 + job->block_n, p.n),
                  job->scratch + thread * job->floats_per_thread);
}

/*
 * GEMV scratch: op(A) of every batch (m x k floats each, holding f32 or, for the bf16 dot
 * product, bf16; see xk_gemv_convert_a), then, when k is split, the partial results of every
 * (batch, part of k) (m x n each).
 */
static const float *gemv_a(const gemm_job_t *job, int64_t batch) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    return job->scratch + batch * d->m * d->k;
}

static float *gemv_partial(const gemm_job_t *job, int64_t batch, int64_t part) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    return job->scratch + d->batch * d->m * d->k + (batch * job->grid_m + part) * d->m * d->n;
}

/* GEMV, B not transposed: task (batch, part) sums its range of k into its partial result. */
static void gemv_rows_task(void *ctx, size_t task, size_t thread) {
    const gemm_job_t *job = ctx;
    (void)thread;
    int64_t batch = (int64_t)task / job->grid_m, part = (int64_t)task % job->grid_m;
    xk_gemm_problem_t p = problem_of(job->args, batch);
    int64_t k0 = part * job->block_m;
    xk_gemv_rows(&p, gemv_a(job, batch), k0, min64(k0 + job->block_m, p.k),
                 gemv_partial(job, batch, part));
}

/* GEMV, B not transposed: task (batch, column block) adds the partial results up into C. */
static void gemv_store_task(void *ctx, size_t task, size_t thread) {
    const gemm_job_t *job = ctx;
    (void)thread;
    int64_t batch = (int64_t)task / job->grid_n, block = (int64_t)task % job->grid_n;
    xk_gemm_problem_t p = problem_of(job->args, batch);
    int64_t n0 = block * job->block_n;
    xk_gemv_store(&p, gemv_partial(job, batch, 0), job->grid_m, n0, min64(n0 + job->block_n, p.n));
}

/*
 * GEMV, B transposed: task (batch, k part, column block) computes its columns, straight into C
 * when k is not split, else into its part's partial result.
 */
static void gemv_columns_task(void *ctx, size_t task, size_t thread) {
    const gemm_job_t *job = ctx;
    (void)thread;
    int64_t per_batch = job->grid_m * job->grid_n;
    int64_t batch = (int64_t)task / per_batch, rest = (int64_t)task % per_batch;
    int64_t part = rest / job->grid_n, block = rest % job->grid_n;
    xk_gemm_problem_t p = problem_of(job->args, batch);
    int64_t n0 = block * job->block_n, k0 = part * job->block_m;
    xk_gemv_columns(&p, gemv_a(job, batch), n0, min64(n0 + job->block_n, p.n), k0,
                    min64(k0 + job->block_m, p.k),
                    job->grid_m > 1 ? gemv_partial(job, batch, part) : NULL);
}

/* Tasks per thread the GEMV paths cut their columns into: on a shared machine a thread that
 * lost its core for a while leaves its blocks to the others instead of holding up the call. */
#define GEMV_TASKS_PER_THREAD 8

/*
 * Decode-shaped GEMM. Each thread must stream a contiguous part of B: with B stored k x n that
 * is a range of its rows (then the partial results are added up), with B transposed a range of
 * columns of C, and of k as well when the columns are too few to go round (partial results
 * again). Returns 0 when scratch cannot be had.
 */
static int run_gemv(xhal_be_device_t *device, gemm_job_t *job, int64_t threads) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    int64_t parts = d->batch >= threads ? 1 : ceil_div(threads, d->batch);
    if (d->trans_b) {
        int64_t unit = xk_gemv_column_unit();
        int64_t want = parts * GEMV_TASKS_PER_THREAD;
        job->block_n = ceil_div(ceil_div(d->n, want), unit) * unit;
        job->grid_n = ceil_div(d->n, job->block_n);
        /* Too few columns for the threads: k is split as well, in runs of 256 at least. */
        int64_t k_parts = job->grid_n >= 2 * parts
                              ? 1
                              : min64(ceil_div(2 * parts, job->grid_n), ceil_div(d->k, 256));
        job->block_m = ceil_div(d->k, k_parts); /* k per part */
        job->grid_m = ceil_div(d->k, job->block_m);
    } else {
        /* Parts of k: a few per thread when the partial results are small (few rows of A), so
         * that a thread held up on a shared machine leaves work to the others. */
        int64_t k_parts = parts * (d->m <= 2 ? 4 : d->m <= 8 ? 2 : 1);
        job->block_m = ceil_div(d->k, k_parts); /* rows of B per part */
        job->grid_m = ceil_div(d->k, job->block_m);
    }
    int64_t partials = d->trans_b && job->grid_m == 1 ? 0 : job->grid_m;
    size_t floats = (size_t)(d->batch * d->m * (d->k + partials * d->n));
    pthread_mutex_lock(&device->scratch_lock);
    job->scratch = cpu_device_scratch(device, floats);
    if (job->scratch) {
        for (int64_t b = 0; b < d->batch; b++) {
            xk_gemm_problem_t p = problem_of(job->args, b);
            xk_gemv_convert_a(&p, d->trans_b, job->scratch + b * d->m * d->k);
        }
        if (d->trans_b) {
            cpu_pool_run(device->pool, (size_t)(d->batch * job->grid_m * job->grid_n),
                         gemv_columns_task, job);
        } else {
            cpu_pool_run(device->pool, (size_t)(d->batch * job->grid_m), gemv_rows_task, job);
        }
        if (partials) {
            /* The store pass cuts columns its own way: blocks of 64 and more. */
            job->block_n = ceil_div(ceil_div(d->n, parts), 64) * 64;
            job->grid_n = ceil_div(d->n, job->block_n);
            cpu_pool_run(device->pool, (size_t)(d->batch * job->grid_n), gemv_store_task, job);
        }
    }
    pthread_mutex_unlock(&device->scratch_lock);
    return job->scratch != NULL;
}

/*
 * Cuts each batch into about `threads` blocks when the batch count alone cannot keep every
 * thread busy: columns first (in units of the microkernel's width), then rows.
 */
static void plan_blocks(gemm_job_t *job, int64_t threads) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    int mr, nr;
    xk_gemm_tile(&mr, &nr);
    int64_t parts = d->batch >= threads ? 1 : ceil_div(threads, d->batch);
    int64_t col_units = ceil_div(d->n, nr), row_units = ceil_div(d->m, mr);
    job->grid_n = min64(parts, col_units);
    job->grid_m = min64(ceil_div(parts, job->grid_n), row_units);
    job->block_n = ceil_div(col_units, job->grid_n) * nr;
    job->block_m = ceil_div(row_units, job->grid_m) * mr;
    job->grid_n = ceil_div(d->n, job->block_n);
    job->grid_m = ceil_div(d->m, job->block_m);
}

/* The packed engine: C cut into blocks on the microkernel's tiles, one task per block. Returns
 * 0 when scratch cannot be had. */
static int run_packed(xhal_be_device_t *device, gemm_job_t *job, int64_t threads) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    plan_blocks(job, threads);
    job->floats_per_thread = xk_gemm_scratch_floats(job->block_m, job->block_n, d->c_type);
    pthread_mutex_lock(&device->scratch_lock);
    job->scratch = cpu_device_scratch(device, job->floats_per_thread * (size_t)threads);
    if (job->scratch)
        cpu_pool_run(device->pool, (size_t)(d->batch * job->grid_m * job->grid_n), gemm_task, job);
    pthread_mutex_unlock(&device->scratch_lock);
    return job->scratch != NULL;
}

/* Runs the GEMM `desc` describes on operands starting at a, b and c by `path` (see
 * cpu_gemm_runner_fn; the plan's calibration calls it too). */
static int run_path(xhal_be_device_t *device, const xhal_gemm_desc_t *desc, const void *a,
                    const void *b, void *c, cpu_gemm_path_t path) {
    gemm_args_t args = {.desc = *desc, .a = a, .b = b, .c = c};
    gemm_job_t job = {.args = &args};
    int64_t threads = (int64_t)cpu_pool_threads(device->pool);
    int ok =
        path == CPU_GEMM_GEMV ? run_gemv(device, &job, threads) : run_packed(device, &job, threads);
    return ok ? 0 : -1;
}

/* On the stream's worker: choose the path (cpu_gemm_plan.c), then run it on the pool. */
static void run_gemm(xhal_be_stream_t *stream, void *payload) {
    const gemm_args_t *args = payload;
    xhal_be_device_t *device = stream->device;
    cpu_gemm_path_t path = cpu_gemm_plan_choose(device, &args->desc, run_path);
    if (run_path(device, &args->desc, args->a, args->b, args->c, path) != 0)
        cpu_stream_fail(stream, XHAL_OUT_OF_MEMORY, "cpu: gemm: out of memory for %s scratch",
                        path == CPU_GEMM_GEMV ? "the GEMV path's" : "the packed engine's");
}

xhal_status_t cpu_gemm_supports(xhal_be_device_t *device, const xhal_gemm_desc_t *desc) {
    (void)device;
    (void)desc;
    return XHAL_OK; /* every dtype mix, transpose and stride the core accepts */
}

xhal_status_t cpu_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                       const xhal_be_gemm_buffers_t *buffers) {
    const xhal_be_buffer_t *a = buffers->a, *b = buffers->b, *c = buffers->c;
    cpu_command_t *command = cpu_command_new(stream, run_gemm, "gemm", sizeof(gemm_args_t));
    if (!command) return XHAL_OUT_OF_MEMORY;
    gemm_args_t *args = (gemm_args_t *)command->payload;
    args->desc = *desc;
    args->a = (const char *)a->data + desc->a_offset;
    args->b = (const char *)b->data + desc->b_offset;
    args->c = (char *)c->data + desc->c_offset;
    cpu_stream_push(stream, command);
    return XHAL_OK;
}
