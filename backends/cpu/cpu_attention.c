/*
 * Attention: O = softmax(scale * Q K^T + mask) V for each (batch, query head), f32 math.
 *
 * One task per (batch, query head, block of QUERY_BLOCK query rows), across the device's
 * threads. A task never holds a whole row of scores: it walks the keys in blocks of KEY_BLOCK
 * and keeps, per query row, the running maximum m, the running sum l of exp(s - m) and the
 * running output acc = sum exp(s - m) * v (the streaming, "online" softmax of FlashAttention).
 * When a block raises the maximum from m to m', what was summed so far is rescaled by
 * exp(m - m'), so at the end acc / l is exactly the softmax-weighted sum of V. This is the
 * algorithm every GPU port implements too; only the tiling differs.
 *
 * Per key block the task converts K (transposed) and V to f32 scratch, then computes
 *   scores = Q_block K_block^T   (i-k-j loops, the j loop over keys vectorizes)
 *   acc   += P V_block          (i-k-j loops, the inner loop over head_dim vectorizes)
 * with the same inner loop as GEMM (cpu_axpy).
 *
 * GQA: query head h reads KV head h / (heads_q / heads_kv). Causal, bottom-right aligned:
 * query i sees keys j <= i + seq_kv - seq_q; a task stops at the last key its last row sees, and
 * a row that sees no key at all is written as zeros.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

#define QUERY_BLOCK 32
#define KEY_BLOCK 64 /* a multiple of CPU_CHUNK */
#define MAX_HEAD_DIM 256

typedef struct {
    xhal_attention_desc_t desc; /* by value: the caller's desc is only valid during the enqueue */
    const char *q, *k, *v;      /* the first byte of each tensor: buffer data + offset */
    char *o;
} attention_args_t;

/* What the tasks of one attention share. */
typedef struct {
    const attention_args_t *args;
    float scale;
    int64_t query_blocks;
    size_t dim_ld; /* head_dim rounded up to CPU_CHUNK: the row length of v_block and acc */
    size_t key_ld; /* keys per block rounded up to CPU_CHUNK: the row length of kt and scores */
    /* Per-thread scratch, `floats_per_thread` each, cut into the pieces below (in floats). */
    float *scratch;
    size_t floats_per_thread;
    size_t q_size, kt_size, v_size, scores_size, acc_size, row_size;
} attention_job_t;

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static int64_t clamp64(int64_t x, int64_t lo, int64_t hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

/* How many keys (a prefix of 0 .. seq_kv-1) query row i sees. */
static int64_t visible_keys(const xhal_attention_desc_t *d, int64_t i) {
    if (!d->causal) return d->seq_kv;
    return clamp64(i + 1 + d->seq_kv - d->seq_q, 0, d->seq_kv);
}

/* The address of row (batch, head, position) of a tensor with strides `s` (elements). */
static const char *row_address(const char *base, const xhal_attention_strides_t *s, size_t es,
                               int64_t batch, int64_t head, int64_t position) {
    return base + (batch * s->batch + head * s->head + position * s->seq) * (int64_t)es;
}

/* One task: QUERY_BLOCK query rows of one (batch, head). */
static void attention_task(void *ctx, size_t task, size_t thread) {
    const attention_job_t *job = ctx;
    const attention_args_t *args = job->args;
    const xhal_attention_desc_t *d = &args->desc;
    size_t es = cpu_dtype_size(d->dtype);
    size_t dim = (size_t)d->head_dim, dim_ld = job->dim_ld, key_ld = job->key_ld;

    int64_t block = (int64_t)task % job->query_blocks;
    int64_t head = (int64_t)task / job->query_blocks % d->heads_q;
    int64_t batch = (int64_t)task / job->query_blocks / d->heads_q;
    int64_t kv_head = head / (d->heads_q / d->heads_kv);
    int64_t i0 = block * QUERY_BLOCK;
    int64_t rows = min64(QUERY_BLOCK, d->seq_q - i0);

    float *q = job->scratch + thread * job->floats_per_thread; /* rows x dim */
    float *kt = q + job->q_size;              /* dim x key_ld: K block transposed */
    float *v = kt + job->kt_size;             /* key_ld x dim_ld: V block */
    float *s = v + job->v_size;               /* key_ld: one row of scores */
    float *acc = s + job->scores_size;        /* rows x dim_ld */
    float *row_max = acc + job->acc_size;     /* rows */
    float *row_sum = row_max + job->row_size; /* rows */
    float *tmp = row_sum + job->row_size;     /* dim_ld: one row of K */

    for (int64_t i = 0; i < rows; i++) {
        cpu_load_f32(q + (size_t)i * dim,
                     row_address(args->q, &d->q_strides, es, batch, head, i0 + i), d->dtype, dim,
                     1);
        row_max[i] = -INFINITY;
        row_sum[i] = 0.0f;
    }
    memset(acc, 0, (size_t)rows * dim_ld * sizeof(float));
    /* Padding (keys past a short last block, dims past head_dim) is never used as a result;
     * zeroing it keeps the arithmetic on it finite and the memory initialised. */
    memset(kt, 0, job->kt_size * sizeof(float));
    memset(v, 0, job->v_size * sizeof(float));

    /* The keys the last (most seeing) row of the block sees bound the walk for all rows. */
    int64_t key_end = visible_keys(d, i0 + rows - 1);
    for (int64_t j0 = 0; j0 < key_end; j0 += KEY_BLOCK) {
        int64_t keys = min64(KEY_BLOCK, key_end - j0);

        for (int64_t j = 0; j < keys; j++) {
            const char *k_row = row_address(args->k, &d->k_strides, es, batch, kv_head, j0 + j);
            cpu_load_f32(tmp, k_row, d->dtype, dim, 1);
            for (size_t t = 0; t < dim; t++)
                kt[t * key_ld + (size_t)j] = tmp[t];
            const char *v_row = row_address(args->v, &d->v_strides, es, batch, kv_head, j0 + j);
            cpu_load_f32(v + (size_t)j * dim_ld, v_row, d->dtype, dim, 1);
        }

        for (int64_t i = 0; i < rows; i++) {
            int64_t seen = min64(visible_keys(d, i0 + i) - j0, keys); /* keys of this block */
            if (seen <= 0) continue; /* a causal row whose keys all lie before this block */

            /* s_j = scale * q_i . k_j for the whole block: one axpy per dimension. */
            memset(s, 0, key_ld * sizeof(float));
            const float *q_row = q + (size_t)i * dim;
            for (size_t t = 0; t < dim; t++)
                cpu_axpy(s, q_row[t], kt + t * key_ld, key_ld);

            float block_max = -INFINITY;
            for (int64_t j = 0; j < seen; j++) {
                s[j] *= job->scale;
                if (s[j] > block_max) block_max = s[j];
            }

            /* Rescale what was summed under the old maximum; on the first block there is
             * nothing yet (and exp(-inf - m) would be 0 anyway, but -inf - -inf is NaN). */
            float new_max = block_max > row_max[i] ? block_max : row_max[i];
            float correction = row_max[i] == -INFINITY ? 0.0f : expf(row_max[i] - new_max);
            float *acc_row = acc + (size_t)i * dim_ld;
            for (size_t t = 0; t < dim_ld; t++)
                acc_row[t] *= correction;
            float sum = 0.0f;
            for (int64_t j = 0; j < seen; j++) {
                float p = expf(s[j] - new_max);
                sum += p;
                cpu_axpy(acc_row, p, v + (size_t)j * dim_ld, dim_ld);
            }
            row_sum[i] = row_sum[i] * correction + sum;
            row_max[i] = new_max;
        }
    }

    for (int64_t i = 0; i < rows; i++) {
        float *acc_row = acc + (size_t)i * dim_ld;
        if (visible_keys(d, i0 + i) == 0) {
            memset(acc_row, 0, dim * sizeof(float)); /* sees no key: zeros, by definition */
        } else {
            float inverse = 1.0f / row_sum[i];
            for (size_t t = 0; t < dim; t++)
                acc_row[t] *= inverse;
        }
        char *o_row = (char *)row_address(args->o, &d->o_strides, es, batch, head, i0 + i);
        cpu_store_f32(o_row, acc_row, d->dtype, dim);
    }
}

/* On the stream's worker: set aside scratch per thread, run the blocks on the pool. */
static void run_attention(xhal_be_stream_t *stream, void *payload) {
    const attention_args_t *args = payload;
    const xhal_attention_desc_t *d = &args->desc;
    cpu_pool_t *pool = stream->device->pool;

    attention_job_t job;
    memset(&job, 0, sizeof(job));
    job.args = args;
    job.scale = d->scale != 0.0f ? d->scale : 1.0f / sqrtf((float)d->head_dim);
    job.query_blocks = (d->seq_q + QUERY_BLOCK - 1) / QUERY_BLOCK;
    int64_t tasks = d->batch * d->heads_q * job.query_blocks;
    if (tasks <= 0) return;

    /* Sized for the largest block this attention has; each piece whole 64-byte lines. */
    size_t rows = (size_t)min64(QUERY_BLOCK, d->seq_q);
    size_t dim = (size_t)d->head_dim;
    job.dim_ld = cpu_round_chunk(dim);
    job.key_ld = cpu_round_chunk((size_t)min64(KEY_BLOCK, d->seq_kv));
    job.q_size = cpu_round_chunk(rows * dim);
    job.kt_size = dim * job.key_ld;
    job.v_size = job.key_ld * job.dim_ld;
    job.scores_size = job.key_ld;
    job.acc_size = rows * job.dim_ld;
    job.row_size = cpu_round_chunk(rows);
    job.floats_per_thread = job.q_size + job.kt_size + job.v_size + job.scores_size + job.acc_size +
                            2 * job.row_size + job.dim_ld;

    size_t threads = cpu_pool_threads(pool);
    size_t bytes = cpu_round_alignment(threads * job.floats_per_thread * sizeof(float));
    job.scratch = bytes ? aligned_alloc(CPU_ALIGNMENT, bytes) : NULL;
    if (!job.scratch) {
        cpu_stream_fail(stream, XHAL_OUT_OF_MEMORY,
                        "cpu: attention: aligned_alloc of %zu bytes of scratch failed", bytes);
        return;
    }
    cpu_pool_run(pool, (size_t)tasks, attention_task, &job);
    free(job.scratch);
}

xhal_status_t cpu_attention_supports(xhal_be_device_t *device, const xhal_attention_desc_t *desc) {
    if (desc->head_dim < 1 || desc->head_dim > MAX_HEAD_DIM)
        return device->host->set_error(XHAL_UNSUPPORTED,
                                       "cpu: attention head_dim %lld is not supported (1..%d)",
                                       (long long)desc->head_dim, MAX_HEAD_DIM);
    return XHAL_OK;
}

xhal_status_t cpu_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                            xhal_be_buffer_t *q, xhal_be_buffer_t *k, xhal_be_buffer_t *v,
                            xhal_be_buffer_t *o) {
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
