/*
 * Merging two partial attention outputs by their log-sum-exps (xhal.h): per row,
 * w_x = exp(lse_x - max), O = (w_a O_a + w_b O_b) / (w_a + w_b), lse = max + ln(w_a + w_b).
 * Rows are independent, so tasks are blocks of rows; each row is read whole into f32 scratch
 * before it is written, which is what makes merging in place (o on o_a) safe. A side whose LSE
 * is -inf saw no key and is not read at all (its O is zeros by contract, but 0 x NaN would
 * still be NaN), so a row with both -inf is zeros with lse -inf.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

/* Rows per task: enough to amortize the task, few enough to spread a small merge. */
#define ROWS_PER_TASK 32

typedef struct {
    xhal_attention_merge_desc_t desc;
    const char *o_a, *o_b;
    char *o;
    const float *lse_a, *lse_b;
    float *lse;
} merge_args_t;

typedef struct {
    const merge_args_t *args;
    float *scratch; /* 2 rows of head_dim per thread */
    size_t row_floats;
    int64_t rows;
} merge_job_t;

static void merge_rows(void *ctx, size_t task, size_t thread) {
    const merge_job_t *job = ctx;
    const merge_args_t *a = job->args;
    const xhal_attention_merge_desc_t *d = &a->desc;
    size_t dim = (size_t)d->head_dim, es = cpu_dtype_size(d->dtype);
    float *x = job->scratch + thread * 2 * job->row_floats, *y = x + job->row_floats;
    int64_t first = (int64_t)task * ROWS_PER_TASK;
    int64_t last = first + ROWS_PER_TASK < job->rows ? first + ROWS_PER_TASK : job->rows;
    for (int64_t row = first; row < last; row++) {
        /* row = (b * heads + h) * seq + i: the LSEs' order. */
        int64_t i = row % d->seq, h = row / d->seq % d->heads, b = row / d->seq / d->heads;
        size_t at = (size_t)(b * d->strides.batch + h * d->strides.head + i * d->strides.seq) * es;
        float la = a->lse_a[row], lb = a->lse_b[row], top = fmaxf(la, lb);
        float wa = la == -INFINITY ? 0.0f : expf(la - top);
        float wb = lb == -INFINITY ? 0.0f : expf(lb - top);
        float sum = wa + wb, inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
        memset(y, 0, dim * sizeof *y);
        if (wa > 0.0f) {
            cpu_load_f32(x, a->o_a + at, d->dtype, dim, 1);
            for (size_t c = 0; c < dim; c++)
                y[c] = wa * x[c];
        }
        if (wb > 0.0f) {
            cpu_load_f32(x, a->o_b + at, d->dtype, dim, 1);
            for (size_t c = 0; c < dim; c++)
                y[c] += wb * x[c];
        }
        for (size_t c = 0; c < dim; c++)
            y[c] *= inverse;
        cpu_store_f32(a->o + at, y, d->dtype, dim);
        if (a->lse) a->lse[row] = sum > 0.0f ? top + logf(sum) : -INFINITY;
    }
}

static void run_merge(xhal_be_stream_t *stream, void *payload) {
    const merge_args_t *args = payload;
    const xhal_attention_merge_desc_t *d = &args->desc;
    cpu_pool_t *pool = stream->device->pool;
    size_t threads = cpu_pool_threads(pool);
    merge_job_t job = {.args = args,
                       .row_floats = cpu_round_chunk((size_t)d->head_dim),
                       .rows = d->batch * d->heads * d->seq};
    size_t bytes = cpu_round_alignment(threads * 2 * job.row_floats * sizeof(float));
    job.scratch = bytes ? aligned_alloc(CPU_ALIGNMENT, bytes) : NULL;
    if (!job.scratch) {
        cpu_stream_fail(stream, XHAL_OUT_OF_MEMORY,
                        "cpu: attention merge: aligned_alloc of %zu bytes of scratch failed",
                        bytes);
        return;
    }
    cpu_pool_run(pool, (size_t)((job.rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK), merge_rows, &job);
    free(job.scratch);
}

xhal_status_t cpu_attention_merge_supports(xhal_be_device_t *device,
                                           const xhal_attention_merge_desc_t *desc) {
    (void)device;
    (void)desc; /* any shape the core accepts */
    return XHAL_OK;
}

xhal_status_t cpu_attention_merge(xhal_be_stream_t *stream, const xhal_attention_merge_desc_t *desc,
                                  const xhal_be_merge_buffers_t *buffers) {
    cpu_command_t *command =
        cpu_command_new(stream, run_merge, "attention_merge", sizeof(merge_args_t));
    if (!command) return XHAL_OUT_OF_MEMORY;
    merge_args_t *args = (merge_args_t *)command->payload;
    args->desc = *desc;
    args->o_a = (const char *)buffers->o_a->data + desc->o_a_offset;
    args->o_b = (const char *)buffers->o_b->data + desc->o_b_offset;
    args->o = (char *)buffers->o->data + desc->o_offset;
    args->lse_a =
        (const float *)(const void *)((const char *)buffers->lse_a->data + desc->lse_a_offset);
    args->lse_b =
        (const float *)(const void *)((const char *)buffers->lse_b->data + desc->lse_b_offset);
    args->lse =
        buffers->lse ? (float *)(void *)((char *)buffers->lse->data + desc->lse_offset) : NULL;
    cpu_stream_push(stream, command);
    return XHAL_OK;
}
