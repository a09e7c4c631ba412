/*
 * The decode paths of the CPU GEMM: a few rows of A against a large B, which each thread
 * streams a contiguous part of once instead of packing it. With B stored k x n that is a range
 * of its rows (then the partial results are added up), with B transposed a range of columns of
 * C. A quantized B (stored n x k) goes to the quantized GEMV, which splits columns too.
 *
 * A gated epilogue needs both halves of the product for each output column: the column tasks
 * compute the two halves of a chunk of 64 outputs into a small f32 tile and combine it there;
 * the store tasks add up both halves' partial results and combine them.
 */
#include <string.h>

#include "cpu_gemm.h"

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

/* Columns of C: n, or n / 2 gated. */
static int64_t out_columns(const xhal_gemm_desc_t *d) {
    return d->gated ? d->n / 2 : d->n;
}

/*
 * Batches go through in groups (job->batch0, job->batches) whose scratch stays near
 * GEMV_SCRATCH_FLOATS, with at least one batch per thread: scratch proportional to batch x k let
 * a small broadcast input (batch stride 0) take gigabytes (issue 14). Batch numbers in the
 * scratch count from the group's first.
 */
#define GEMV_SCRATCH_FLOATS ((int64_t)16 << 20)

static int64_t batch_group(int64_t per_batch, int64_t batch, int64_t threads) {
    int64_t fit = per_batch > 0 ? GEMV_SCRATCH_FLOATS / per_batch : batch;
    if (fit < threads) fit = threads;
    return fit < batch ? fit : batch;
}

/*
 * GEMV scratch: op(A) of each batch of the group (m x k floats each, holding f32 or, for the
 * bf16 dot product, bf16; see xk_gemv_convert_a), then, when k is split, the partial results of
 * every (batch, part of k) (m x n each).
 */
static const float *gemv_a(const cpu_gemm_job_t *job, int64_t batch) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    return job->scratch + batch * d->m * d->k;
}

static float *gemv_partial(const cpu_gemm_job_t *job, int64_t batch, int64_t part) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    return job->scratch + job->batches * d->m * d->k + (batch * job->grid_m + part) * d->m * d->n;
}

/* GEMV, B not transposed: task (batch, part) sums its range of k into its partial result. */
static void gemv_rows_task(void *ctx, size_t task, size_t thread) {
    const cpu_gemm_job_t *job = ctx;
    (void)thread;
    int64_t batch = (int64_t)task / job->grid_m, part = (int64_t)task % job->grid_m;
    xk_gemm_problem_t p = cpu_gemm_problem(job, job->batch0 + batch);
    int64_t k0 = part * job->block_m;
    xk_gemv_rows(&p, gemv_a(job, batch), k0, min64(k0 + job->block_m, p.k),
                 gemv_partial(job, batch, part));
}

/* Gated: output columns [o0, o1) from both halves' partial results. */
static void store_gated(const cpu_gemm_job_t *job, const xk_gemm_problem_t *p,
                        const float *partials, int64_t o0, int64_t o1) {
    enum { CHUNK = 256 };
    float gate[CHUNK], up[CHUNK];
    const int64_t half = p->n / 2;
    for (int64_t i = 0; i < p->m; i++)
        for (int64_t j0 = o0; j0 < o1; j0 += CHUNK) {
            int64_t cols = min64(CHUNK, o1 - j0);
            memset(gate, 0, sizeof gate);
            memset(up, 0, sizeof up);
            for (int64_t t = 0; t < job->grid_m; t++) {
                const float *part = partials + (t * p->m + i) * p->n;
                for (int64_t j = 0; j < cols; j++) {
                    gate[j] += part[j0 + j];
                    up[j] += part[half + j0 + j];
                }
            }
            for (int64_t j = 0; j < cols; j++) {
                gate[j] *= p->alpha;
                up[j] *= p->alpha;
            }
            xk_epilogue_store_gated(p, i, j0, gate, up, cols);
        }
}

/* GEMV, B not transposed: task (batch, column block) adds the partial results up into C. */
static void gemv_store_task(void *ctx, size_t task, size_t thread) {
    const cpu_gemm_job_t *job = ctx;
    (void)thread;
    int64_t batch = (int64_t)task / job->grid_n, block = (int64_t)task % job->grid_n;
    xk_gemm_problem_t p = cpu_gemm_problem(job, job->batch0 + batch);
    int64_t n0 = block * job->block_n, n1 = min64(n0 + job->block_n, job->columns);
    if (p.epi && p.epi->gated)
        store_gated(job, &p, gemv_partial(job, batch, 0), n0, n1);
    else
        xk_gemv_store(&p, gemv_partial(job, batch, 0), job->grid_m, n0, n1);
}

/*
 * Gated, B transposed: output columns [o0, o1), a chunk at a time: the two halves' columns into
 * a small f32 tile (the GEMV kernel run on views of B and of the tile), then combined into C.
 */
static void columns_gated(const xk_gemm_problem_t *p, const float *a, int64_t o0, int64_t o1) {
    enum { CHUNK = 64 };
    float tile[XK_GEMV_MAX_M][2 * CHUNK];
    const int64_t half = p->n / 2;
    const size_t b_es = p->b.type == XHAL_DTYPE_F32 ? 4 : 2;
    for (int64_t j0 = o0; j0 < o1; j0 += CHUNK) {
        int64_t cols = min64(CHUNK, o1 - j0);
        for (int h = 0; h < 2; h++) {
            xk_gemm_problem_t view = *p;
            int64_t first = j0 + h * half;
            view.b.data = (const char *)p->b.data + (size_t)(first * p->b.col_stride) * b_es;
            view.c = &tile[0][h * CHUNK];
            view.c_type = XHAL_DTYPE_F32;
            view.ldc = 2 * CHUNK;
            view.beta = 0.0f;
            view.epi = NULL;
            xk_gemv_columns(&view, a, 0, cols, 0, p->k, NULL);
        }
        for (int64_t i = 0; i < p->m; i++)
            xk_epilogue_store_gated(p, i, j0, tile[i], tile[i] + CHUNK, cols);
    }
}

/*
 * GEMV, B transposed: task (batch, k part, column block) computes its columns, straight into C
 * when k is not split, else into its part's partial result.
 */
static void gemv_columns_task(void *ctx, size_t task, size_t thread) {
    const cpu_gemm_job_t *job = ctx;
    (void)thread;
    int64_t per_batch = job->grid_m * job->grid_n;
    int64_t batch = (int64_t)task / per_batch, rest = (int64_t)task % per_batch;
    int64_t part = rest / job->grid_n, block = rest % job->grid_n;
    xk_gemm_problem_t p = cpu_gemm_problem(job, job->batch0 + batch);
    int64_t n0 = block * job->block_n, n1 = min64(n0 + job->block_n, job->columns);
    int64_t k0 = part * job->block_m;
    if (p.epi && p.epi->gated)
        columns_gated(&p, gemv_a(job, batch), n0, n1);
    else
        xk_gemv_columns(&p, gemv_a(job, batch), n0, n1, k0, min64(k0 + job->block_m, p.k),
                        job->grid_m > 1 ? gemv_partial(job, batch, part) : NULL);
}

/* Output columns per task, in multiples of `unit`, so that about `parts` tasks cover a batch. */
static void plan_columns(cpu_gemm_job_t *job, int64_t parts, int64_t unit) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    job->columns = out_columns(d);
    job->block_n = cpu_ceil_div(cpu_ceil_div(job->columns, parts), unit) * unit;
    job->grid_n = cpu_ceil_div(job->columns, job->block_n);
}

/* Tasks per thread the transposed GEMV cuts its columns into: on a shared machine a thread
 * that lost its core for a while leaves its blocks to the others instead of holding the call. */
#define GEMV_TASKS_PER_THREAD 8

int cpu_gemm_run_gemv(xhal_be_device_t *device, cpu_gemm_job_t *job, int64_t threads) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    const int gated = job->epi && job->epi->gated;
    int64_t parts = d->batch >= threads ? 1 : cpu_ceil_div(threads, d->batch);
    if (d->trans_b) {
        plan_columns(job, parts * GEMV_TASKS_PER_THREAD, xk_gemv_column_unit());
        /* Too few columns for the threads: k is split as well, in runs of 256 at least (not
         * gated: both halves of an output are needed whole to combine them). */
        int64_t k_parts =
            job->grid_n >= 2 * parts || gated
                ? 1
                : min64(cpu_ceil_div(2 * parts, job->grid_n), cpu_ceil_div(d->k, 256));
        job->block_m = cpu_ceil_div(d->k, k_parts); /* k per part */
        job->grid_m = cpu_ceil_div(d->k, job->block_m);
    } else {
        /* Parts of k: a few per thread when the partial results are small (few rows of A), so
         * that a thread held up on a shared machine leaves work to the others. */
        int64_t k_parts = parts * (d->m <= 2 ? 4 : d->m <= 8 ? 2 : 1);
        job->block_m = cpu_ceil_div(d->k, k_parts); /* rows of B per part */
        job->grid_m = cpu_ceil_div(d->k, job->block_m);
    }
    int64_t partials = d->trans_b && job->grid_m == 1 ? 0 : job->grid_m;
    int64_t per_batch = d->m * (d->k + partials * d->n);
    job->batches = batch_group(per_batch, d->batch, threads);
    job->scratch = cpu_gemm_scratch(device, job, (size_t)(job->batches * per_batch));
    if (!job->scratch) return 0;
    const int64_t block_n = job->block_n, grid_n = job->grid_n;
    for (job->batch0 = 0; job->batch0 < d->batch; job->batch0 += job->batches) {
        job->batches = min64(job->batches, d->batch - job->batch0);
        for (int64_t b = 0; b < job->batches; b++) {
            xk_gemm_problem_t p = cpu_gemm_problem(job, job->batch0 + b);
            xk_gemv_convert_a(&p, d->trans_b, job->scratch + b * d->m * d->k);
        }
        size_t tasks = (size_t)job->batches;
        job->block_n = block_n;
        job->grid_n = grid_n;
        if (d->trans_b)
            cpu_pool_run(device->pool, tasks * (size_t)(job->grid_m * job->grid_n),
                         gemv_columns_task, job);
        else
            cpu_pool_run(device->pool, tasks * (size_t)job->grid_m, gemv_rows_task, job);
        if (partials) {
            /* The store pass cuts columns its own way: blocks of 64 and more. */
            plan_columns(job, parts, 64);
            cpu_pool_run(device->pool, tasks * (size_t)job->grid_n, gemv_store_task, job);
        }
    }
    return 1;
}

/* ---- Quantized B ---- */

/* Scratch: op(A) of each batch in f32, then (on a 64-byte boundary) each batch's prepared
 * rows. */
static size_t qgemv_prep_floats(const cpu_gemm_job_t *job) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    return xk_qgemv_prep_floats(d->m, d->k, &job->quant);
}

static size_t qgemv_a_floats(const cpu_gemm_job_t *job) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    return (size_t)cpu_ceil_div(job->batches * d->m * d->k, CPU_CHUNK) * CPU_CHUNK;
}

static void qgemv_task(void *ctx, size_t task, size_t thread) {
    const cpu_gemm_job_t *job = ctx;
    (void)thread;
    int64_t batch = (int64_t)task / job->grid_n, block = (int64_t)task % job->grid_n;
    xk_gemm_problem_t p = cpu_gemm_problem(job, job->batch0 + batch);
    const float *prep = job->scratch + qgemv_a_floats(job) + (size_t)batch * qgemv_prep_floats(job);
    int64_t n0 = block * job->block_n;
    xk_qgemv_columns(&p, prep, n0, min64(n0 + job->block_n, job->columns));
}

int cpu_gemm_run_qgemv(xhal_be_device_t *device, cpu_gemm_job_t *job, int64_t threads) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    plan_columns(job, d->batch >= threads ? 1 : cpu_ceil_div(threads, d->batch), 64);
    /* Per batch: its A (rounded up, as the region is) and its prepared rows. */
    int64_t per_batch = d->m * d->k + CPU_CHUNK + (int64_t)qgemv_prep_floats(job);
    job->batches = batch_group(per_batch, d->batch, threads);
    size_t floats = qgemv_a_floats(job) + (size_t)job->batches * qgemv_prep_floats(job);
    job->scratch = cpu_gemm_scratch(device, job, floats);
    if (!job->scratch) return 0;
    for (job->batch0 = 0; job->batch0 < d->batch; job->batch0 += job->batches) {
        job->batches = min64(job->batches, d->batch - job->batch0);
        size_t a_floats = qgemv_a_floats(job);
        for (int64_t b = 0; b < job->batches; b++) {
            xk_gemm_problem_t p = cpu_gemm_problem(job, job->batch0 + b);
            float *a = job->scratch + b * d->m * d->k;
            xk_gemv_convert_a(&p, 0, a);
            xk_qgemv_prepare(a, d->m, d->k, &job->quant,
                             job->scratch + a_floats + (size_t)b * qgemv_prep_floats(job));
        }
        cpu_pool_run(device->pool, (size_t)job->batches * (size_t)job->grid_n, qgemv_task, job);
    }
    return 1;
}
