/*
 * Attention: O = softmax(scale * Q K^T + mask) V for each (sequence, query head), f32 math.
 *
 * This file is the backend's side: it queues the op on the stream and, on the stream's worker,
 * resolves the batch into sequences (reading the caller's index buffers only then, in stream
 * order, and clamping every entry to the tensors: xhal.h), and runs the plan of the attention
 * engine in kernels/cpu/ (attention_kernel.h) on the device's thread pool. The engine does the
 * FlashAttention algorithm: a streaming ("online") softmax over tiles of keys, so no row of
 * scores is ever held whole; for each row it keeps the running maximum m, the running sum l of
 * exp(s - m) and the running output sum exp(s - m) v, rescaling both by exp(m - m') when a tile
 * raises the maximum to m'. Prefill tasks are blocks of query rows (all heads of a KV group
 * together, so each K/V tile is read once per group); decode tasks split the keys and a second
 * pass merges the splits.
 *
 * Scratch is allocated once per call: a slice per pool thread, plus the decode partials.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention_kernel.h"
#include "cpu_internal.h"
#include "xc_features.h"

#define MAX_HEAD_DIM 256

typedef struct {
    xhal_attention_desc_t desc; /* by value: the caller's desc is only valid during the enqueue */
    const char *q, *k, *v;      /* the first byte of each tensor: buffer data + offset */
    char *o;
    float *lse;
    const int32_t *cu_q, *cu_kv, *lens_kv, *table; /* NULL where the desc has none */
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

static int64_t clamp(int64_t value, int64_t lo, int64_t hi) {
    return value < lo ? lo : value > hi ? hi : value;
}

/*
 * Where each sequence's queries and keys are. Offsets in cu_seqlens_* are clamped to the rows
 * the tensors hold and made non-decreasing per sequence, lengths to 0 .. seq_kv (which fits in
 * a block-table row), so no entry can send a kernel outside its buffers; block indices are
 * clamped where they are read (xk_att_kv_offset).
 */
static void resolve(const attention_args_t *a, xk_att_seq_t *seqs) {
    const xhal_attention_desc_t *d = &a->desc;
    for (int64_t b = 0; b < d->batch; b++) {
        xk_att_seq_t *s = &seqs[b];
        memset(s, 0, sizeof *s);
        if (a->cu_q) {
            int64_t start = clamp(a->cu_q[b], 0, d->seq_q);
            s->len_q = clamp(a->cu_q[b + 1], start, d->seq_q) - start;
            s->q = start * d->q_strides.seq;
            s->o = start * d->o_strides.seq;
            s->lse = start;
        } else {
            s->len_q = d->seq_q;
            s->q = b * d->q_strides.batch;
            s->o = b * d->o_strides.batch;
            s->lse = b * d->heads_q * d->seq_q;
        }
        if (a->cu_kv) {
            int64_t start = clamp(a->cu_kv[b], 0, d->seq_kv);
            s->len_kv = clamp(a->cu_kv[b + 1], start, d->seq_kv) - start;
            s->k = start * d->k_strides.seq;
            s->v = start * d->v_strides.seq;
            continue;
        }
        s->len_kv = a->lens_kv ? clamp(a->lens_kv[b], 0, d->seq_kv) : d->seq_kv;
        if (a->table) {
            s->blocks = a->table + b * d->block_table_stride;
        } else {
            s->k = b * d->k_strides.batch;
            s->v = b * d->v_strides.batch;
        }
    }
}

static void problem_of(const attention_args_t *a, const xk_att_seq_t *seqs,
                       xk_attention_problem_t *out) {
    const xhal_attention_desc_t *d = &a->desc;
    *out = (xk_attention_problem_t){
        .batch = d->batch,
        .heads_q = d->heads_q,
        .heads_kv = d->heads_kv,
        .head_dim = d->head_dim,
        .dtype = d->dtype,
        .causal = d->causal,
        .scale = d->scale != 0.0f ? d->scale : 1.0f / sqrtf((float)d->head_dim),
        .window = d->sliding_window,
        .softcap = d->softcap,
        .q = a->q,
        .k = a->k,
        .v = a->v,
        .o = a->o,
        .lse = a->lse,
        .lse_head = d->seq_q,
        .block_size = d->block_size,
        .num_blocks = d->num_blocks,
        .q_strides = d->q_strides,
        .k_strides = d->k_strides,
        .v_strides = d->v_strides,
        .o_strides = d->o_strides,
        .seqs = seqs,
    };
}

/* On the stream's worker: resolve the sequences, plan, set aside scratch, run on the pool. */
static void run_attention(xhal_be_stream_t *stream, void *payload) {
    const attention_args_t *args = payload;
    cpu_pool_t *pool = stream->device->pool;
    attention_job_t job;
    memset(&job, 0, sizeof job);
    xk_att_seq_t *seqs = malloc((size_t)args->desc.batch * sizeof *seqs);
    size_t threads = cpu_pool_threads(pool);
    if (seqs) {
        resolve(args, seqs);
        problem_of(args, seqs, &job.problem);
    }
    if (!seqs || xk_attention_plan(&job.problem, threads, &job.plan) != 0) {
        cpu_stream_fail(stream, XHAL_OUT_OF_MEMORY,
                        "cpu: attention: no memory to plan %lld sequences",
                        (long long)args->desc.batch);
        free(seqs);
        return;
    }
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
    } else {
        if (job.plan.tasks) cpu_pool_run(pool, job.plan.tasks, run_task, &job);
        if (job.plan.combine_tasks) cpu_pool_run(pool, job.plan.combine_tasks, combine_task, &job);
    }
    free(job.scratch);
    free(job.partial);
    xk_attention_plan_free(&job.plan);
    free(seqs);
}

/*
 * The longest sequence the engine indexes. The core bounds every length by the memory of its
 * tensor, except seq_kv when K and V both have a seq stride of 0 (one row broadcast to every
 * position): then only this keeps the engine's key counts (rounded up to tiles and splits in
 * int64) from overflowing, and an absurd length from running for years.
 */
#define MAX_SEQ INT32_MAX

/* Every serving feature runs here, on every ISA path (xc_features.h): only head_dim and MAX_SEQ
 * limit it. A feature added later is refused until its bit is in CPU_ATTENTION_FEATURES. */
#define CPU_ATTENTION_FEATURES                                                                     \
    (XC_ATTENTION_SLIDING_WINDOW | XC_ATTENTION_SOFTCAP | XC_ATTENTION_VARLEN_Q |                  \
     XC_ATTENTION_VARLEN_KV | XC_ATTENTION_SEQLENS_KV | XC_ATTENTION_PAGED | XC_ATTENTION_LSE)

xhal_status_t cpu_attention_supports(xhal_be_device_t *device, const xhal_attention_desc_t *desc) {
    if (desc->head_dim < 1 || desc->head_dim > MAX_HEAD_DIM)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "cpu: attention head_dim %lld is not supported (1..%d)",
                                       (long long)desc->head_dim, MAX_HEAD_DIM);
    if (desc->seq_q > MAX_SEQ || desc->seq_kv > MAX_SEQ)
        return device->host->set_error(
            XHAL_UNSUPPORTED, "cpu: attention seq_q (%lld) and seq_kv (%lld) must be at most %d",
            (long long)desc->seq_q, (long long)desc->seq_kv, MAX_SEQ);
    return xc_attention_features(device->host, "cpu", desc, CPU_ATTENTION_FEATURES);
}

static const void *at(const xhal_be_buffer_t *buffer, uint64_t offset) {
    return buffer ? (const char *)buffer->data + offset : NULL;
}

xhal_status_t cpu_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                            const xhal_be_attention_buffers_t *buffers) {
    cpu_command_t *command =
        cpu_command_new(stream, run_attention, "attention", sizeof(attention_args_t));
    if (!command) return XHAL_OUT_OF_MEMORY;
    attention_args_t *args = (attention_args_t *)command->payload;
    args->desc = *desc;
    args->q = at(buffers->q, desc->q_offset);
    args->k = at(buffers->k, desc->k_offset);
    args->v = at(buffers->v, desc->v_offset);
    args->o = (char *)buffers->o->data + desc->o_offset;
    args->lse =
        buffers->lse ? (float *)(void *)((char *)buffers->lse->data + desc->lse_offset) : NULL;
    args->cu_q = at(buffers->cu_seqlens_q, desc->cu_seqlens_q_offset);
    args->cu_kv = at(buffers->cu_seqlens_kv, desc->cu_seqlens_kv_offset);
    args->lens_kv = at(buffers->seqlens_kv, desc->seqlens_kv_offset);
    args->table = at(buffers->block_table, desc->block_table_offset);
    cpu_stream_push(stream, command);
    return XHAL_OK;
}
