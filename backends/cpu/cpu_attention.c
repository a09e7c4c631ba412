/*
 * Attention: O = softmax(scale * Q K^T + mask) V for each (batch, query head), f32 math.
 *
 * This file is the backend's side: it queues the op on the stream and, on the stream's worker,
 * runs the plan of the attention engine in kernels/cpu/ (attention_kernel.h) on the device's
 * thread pool. The engine does the FlashAttention algorithm: a streaming ("online") softmax
 * over tiles of keys, so no row of scores is ever held whole; for each row it keeps the
 * running maximum m, the running sum l of exp(s - m) and the running output sum exp(s - m) v,
 * rescaling both by exp(m - m') when a tile raises the maximum to m'. Prefill tasks are blocks
 * of query rows (all heads of a KV group together, so each K/V tile is read once per group);
 * decode tasks split the keys and a second pass merges the splits.
 *
 * Scratch is allocated once per call: a slice per pool thread, plus the decode partials.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention_kernel.h"
#include "cpu_internal.h"

#define MAX_HEAD_DIM 256

typedef struct {
    xhal_attention_desc_t desc; /* by value: the caller's desc is only valid during the enqueue */
    const char *q, *k, *v;      /* the first byte of each tensor: buffer data + offset */
    char *o;
} attention_args_t;

/* What the tasks of one attention share. */
typedef struct {
    xk_attention_problem_t problem;
    xk_attention_plan_t plan;
    float *scratch; /* plan.scratch_floats per pool thread */
    float *partial; /* plan.partial_floats */
} attention_job_t;

static void run_task(void *ctx, size_t task, size_t thread) {
    attention_job_t *job = ctx;
    xk_attention_run(&job->problem, &job->plan, task,
                     job->scratch + thread * job->plan.scratch_floats, job->partial);
}

static void combine_task(void *ctx, size_t task, size_t thread) {
    attention_job_t *job = ctx;
    xk_attention_combine(&job->problem, &job->plan, task,
                         job->scratch + thread * job->plan.scratch_floats, job->partial);
}

/* On the stream's worker: plan, set aside scratch, run the tasks on the pool. */
static void run_attention(xhal_be_stream_t *stream, void *payload) {
    const attention_args_t *args = payload;
    const xhal_attention_desc_t *d = &args->desc;
    cpu_pool_t *pool = stream->device->pool;
    if (d->batch * d->heads_q * d->seq_q <= 0) return;

    attention_job_t job;
    memset(&job, 0, sizeof job);
    job.problem = (xk_attention_problem_t){
        .batch = d->batch,
        .heads_q = d->heads_q,
        .heads_kv = d->heads_kv,
        .seq_q = d->seq_q,
        .seq_kv = d->seq_kv,
        .head_dim = d->head_dim,
        .dtype = d->dtype,
        .causal = d->causal,
        .scale = d->scale != 0.0f ? d->scale : 1.0f / sqrtf((float)d->head_dim),
        .q = args->q,
        .k = args->k,
        .v = args->v,
        .o = args->o,
        .q_strides = d->q_strides,
        .k_strides = d->k_strides,
        .v_strides = d->v_strides,
        .o_strides = d->o_strides,
    };
    size_t threads = cpu_pool_threads(pool);
    xk_attention_plan(&job.problem, threads, &job.plan);

    size_t floats = threads * job.plan.scratch_floats;
    size_t bytes = floats <= SIZE_MAX / sizeof(float) ? floats * sizeof(float) : 0;
    bytes = cpu_round_alignment(bytes);
    size_t partial_bytes = cpu_round_alignment(job.plan.partial_floats * sizeof(float));
    job.scratch = bytes ? aligned_alloc(CPU_ALIGNMENT, bytes) : NULL;
    job.partial = partial_bytes ? aligned_alloc(CPU_ALIGNMENT, partial_bytes) : NULL;
    if (!job.scratch || (job.plan.partial_floats && !job.partial)) {
        cpu_stream_fail(stream, XHAL_OUT_OF_MEMORY,
                        "cpu: attention: aligned_alloc of %zu bytes of scratch failed",
                        bytes + partial_bytes);
        free(job.scratch);
        free(job.partial);
        return;
    }
    cpu_pool_run(pool, job.plan.tasks, run_task, &job);
    if (job.plan.combine_tasks) cpu_pool_run(pool, job.plan.combine_tasks, combine_task, &job);
    free(job.scratch);
    free(job.partial);
}

/*
 * The longest sequence the engine indexes. The core bounds every length by the memory of its
 * tensor, except seq_kv when K and V both have a seq stride of 0 (one row broadcast to every
 * position): then only this keeps the engine's key counts (rounded up to tiles and splits in
 * int64) from overflowing, and an absurd length from running for years.
 */
#define MAX_SEQ INT32_MAX

xhal_status_t cpu_attention_supports(xhal_be_device_t *device, const xhal_attention_desc_t *desc) {
    if (desc->head_dim < 1 || desc->head_dim > MAX_HEAD_DIM)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "cpu: attention head_dim %lld is not supported (1..%d)",
                                       (long long)desc->head_dim, MAX_HEAD_DIM);
    if (desc->seq_q > MAX_SEQ || desc->seq_kv > MAX_SEQ)
        return device->host->set_error(
            XHAL_UNSUPPORTED, "cpu: attention seq_q (%lld) and seq_kv (%lld) must be at most %d",
            (long long)desc->seq_q, (long long)desc->seq_kv, MAX_SEQ);
    return XHAL_OK;
}

xhal_status_t cpu_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                            const xhal_be_attention_buffers_t *buffers) {
    const xhal_be_buffer_t *q = buffers->q, *k = buffers->k, *v = buffers->v, *o = buffers->o;
    cpu_command_t *command =
        cpu_command_new(stream, run_attention, "attention", sizeof(attention_args_t));
    if (!command) return XHAL_OUT_OF_MEMORY;
    attention_args_t *args = (attention_args_t *)command->payload;
    args->desc = *desc;
    args->q = (const char *)q->data + desc->q_offset;
    args->k = (const char *)k->data + desc->k_offset;
    args->v = (const char *)v->data + desc->v_offset;
    args->o = (char *)o->data + desc->o_offset;
    cpu_stream_push(stream, command);
    return XHAL_OK;
}
