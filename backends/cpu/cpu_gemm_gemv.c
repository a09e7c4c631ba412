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
 * GEMV scratch: op(A) of every batch in f32 (m x k each), then, with B not transposed, the
 * partial results of every (batch, part of k) (m x n each).
 */
static const float *gemv_a(const cpu_gemm_job_t *job, int64_t batch) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    return job->scratch + batch * d->m * d->k;
}

static float *gemv_partial(const cpu_gemm_job_t *job, int64_t batch, int64_t part) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    return job->scratch + d->batch * d->m * d->k + (batch * job->grid_m + part) * d->m * d->n;
}

/* GEMV, B not transposed: task (batch, part) sums its range of k into its partial result. */
static void gemv_rows_task(void *ctx, size_t task, size_t thread) {
    const cpu_gemm_job_t *job = ctx;
    (void)thread;
    int64_t batch = (int64_t)task / job->grid_m, part = (int64_t)task % job->grid_m;
    xk_gemm_problem_t p = cpu_gemm_problem(job, batch);
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
    xk_gemm_problem_t p = cpu_gemm_problem(job, batch);
    int64_t n0 = block * job->block_n, n1 = min64(n0 + job->block_n, job->columns);
    if (p.epi && p.epi->gated)
        store_gated(job, &p, gemv_partial(job, batch, 0), n0, n1);
    else
        xk_gemv_store(&p, gemv_partial(job, batch, 0), job->grid_m, n0, n1);
}

/*
 * Gated, B transposed: output columns [o0, o1), 64 at a time: the two halves' columns into a
 * small f32 tile (the GEMV kernel run on views of B and of the tile), then combined into C.
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
            xk_gemv_columns(&view, a, 0, cols);
        }
        for (int64_t i = 0; i < p->m; i++)
            xk_epilogue_store_gated(p, i, j0, tile[i], tile[i] + CHUNK, cols);
    }
}

/* GEMV, B transposed: task (batch, column block) computes its columns of C directly. */
static void gemv_columns_task(void *ctx, size_t task, size_t thread) {
    const cpu_gemm_job_t *job = ctx;
    (void)thread;
    int64_t batch = (int64_t)task / job->grid_n, block = (int64_t)task % job->grid_n;
    xk_gemm_problem_t p = cpu_gemm_problem(job, batch);
    int64_t n0 = block * job->block_n, n1 = min64(n0 + job->block_n, job->columns);
    if (p.epi && p.epi->gated)
        columns_gated(&p, gemv_a(job, batch), n0, n1);
    else
        xk_gemv_columns(&p, gemv_a(job, batch), n0, n1);
}

/* Output columns per task, in multiples of 64, so that about `threads` tasks cover a batch. */
static void plan_columns(cpu_gemm_job_t *job, int64_t parts) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    job->columns = out_columns(d);
    job->block_n = cpu_ceil_div(cpu_ceil_div(job->columns, parts), 64) * 64;
    job->grid_n = cpu_ceil_div(job->columns, job->block_n);
}

int cpu_gemm_run_gemv(xhal_be_device_t *device, cpu_gemm_job_t *job, int64_t threads) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    int64_t parts = d->batch >= threads ? 1 : cpu_ceil_div(threads, d->batch);
    plan_columns(job, parts);
    job->block_m = cpu_ceil_div(d->k, parts); /* rows of B per part */
    job->grid_m = d->trans_b ? 0 : cpu_ceil_div(d->k, job->block_m);
    size_t floats = (size_t)(d->batch * d->m * (d->k + job->grid_m * d->n));
    job->scratch = cpu_gemm_scratch(device, job, floats);
    if (!job->scratch) return 0;
    for (int64_t b = 0; b < d->batch; b++) {
        xk_gemm_problem_t p = cpu_gemm_problem(job, b);
        xk_gemv_convert_a(&p, job->scratch + b * d->m * d->k);
    }
    if (d->trans_b) {
        cpu_pool_run(device->pool, (size_t)(d->batch * job->grid_n), gemv_columns_task, job);
    } else {
        cpu_pool_run(device->pool, (size_t)(d->batch * job->grid_m), gemv_rows_task, job);
        cpu_pool_run(device->pool, (size_t)(d->batch * job->grid_n), gemv_store_task, job);
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
    return (size_t)cpu_ceil_div(d->batch * d->m * d->k, CPU_CHUNK) * CPU_CHUNK;
}

static void qgemv_task(void *ctx, size_t task, size_t thread) {
    const cpu_gemm_job_t *job = ctx;
    (void)thread;
    int64_t batch = (int64_t)task / job->grid_n, block = (int64_t)task % job->grid_n;
    xk_gemm_problem_t p = cpu_gemm_problem(job, batch);
    const float *prep = job->scratch + qgemv_a_floats(job) + (size_t)batch * qgemv_prep_floats(job);
    int64_t n0 = block * job->block_n;
    xk_qgemv_columns(&p, prep, n0, min64(n0 + job->block_n, job->columns));
}

int cpu_gemm_run_qgemv(xhal_be_device_t *device, cpu_gemm_job_t *job, int64_t threads) {
    const xhal_gemm_desc_t *d = &job->args->desc;
    plan_columns(job, d->batch >= threads ? 1 : cpu_ceil_div(threads, d->batch));
    size_t a_floats = qgemv_a_floats(job);
    size_t floats = a_floats + (size_t)d->batch * qgemv_prep_floats(job);
    job->scratch = cpu_gemm_scratch(device, job, floats);
    if (!job->scratch) return 0;
    for (int64_t b = 0; b < d->batch; b++) {
        xk_gemm_problem_t p = cpu_gemm_problem(job, b);
        float *a = job->scratch + b * d->m * d->k;
        xk_gemv_convert_a(&p, a);
        xk_qgemv_prepare(a, d->m, d->k, &job->quant,
                         job->scratch + a_floats + (size_t)b * qgemv_prep_floats(job));
    }
    cpu_pool_run(device->pool, (size_t)(d->batch * job->grid_n), qgemv_task, job);
    return 1;
}
