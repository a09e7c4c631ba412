/*
 * GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, f32 accumulation (see xhal.h).
 *
 * The work is split into tiles of C, TILE_M x TILE_N, one task per (batch, tile) across the
 * device's threads. Tiles rather than whole row blocks so that decode-shaped GEMMs (m of 1..16
 * with a large n) still use every core. A task owns its tile and walks k in steps of TILE_K:
 *
 *   1. converts the TILE_M x TILE_K panel of op(A) and the TILE_K x TILE_N panel of op(B) into
 *      f32 scratch (this is where transposes and dtypes are dealt with, once per element);
 *   2. accumulates acc += a_panel * b_panel with i-k-j loops: the innermost loop runs along a
 *      row of b_panel and a row of acc, contiguous, and the compiler vectorizes it (cpu_axpy).
 *
 * Finally it writes alpha * acc + beta * C, converting to c_type. When beta is 0, C is not read,
 * so garbage (NaN) left in C does not propagate. The panels fit the L2 cache of current cores;
 * a tuned kernel (register blocking, packed panels, SIMD per ISA) replaces this loop later.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

#define TILE_M 64
#define TILE_N 256 /* a multiple of CPU_CHUNK */
#define TILE_K 256

typedef struct {
    xhal_gemm_desc_t desc; /* by value: the caller's desc is only valid during the enqueue */
    const char *a, *b;     /* the first byte of each operand: buffer data + offset */
    char *c;
} gemm_args_t;

/* What the tasks of one GEMM share. */
typedef struct {
    const gemm_args_t *args;
    int64_t row_tiles, col_tiles;
    /* Per-thread scratch, `floats_per_thread` each, cut into the pieces below (in floats). */
    float *scratch;
    size_t floats_per_thread;
    size_t a_panel_size, b_panel_size, acc_size;
} gemm_job_t;

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static size_t max_size(size_t a, size_t b) {
    return a > b ? a : b;
}

/*
 * dst[r * dst_ld + c] = op(X)[row0 + r][col0 + c] as f32, for r < rows and c < cols, where op(X)
 * is X (row-major with leading dimension ld) or, when `trans`, its transpose. Either way X is
 * read along its own rows, contiguously; for a transpose each row of X lands in a column of
 * dst, through `tmp` (at least `rows` floats).
 */
static void load_panel(float *dst, size_t dst_ld, const char *x, xhal_dtype_t type, int64_t ld,
                       int trans, int64_t row0, int64_t col0, int64_t rows, int64_t cols,
                       float *tmp) {
    size_t es = cpu_dtype_size(type);
    if (!trans) {
        for (int64_t r = 0; r < rows; r++)
            cpu_load_f32(dst + (size_t)r * dst_ld, x + ((row0 + r) * ld + col0) * (int64_t)es, type,
                         (size_t)cols, 1);
    } else {
        /* op(X)[r][c] = X[c][r]: row (col0 + c) of X, from column row0, is column c of dst. */
        for (int64_t c = 0; c < cols; c++) {
            cpu_load_f32(tmp, x + ((col0 + c) * ld + row0) * (int64_t)es, type, (size_t)rows, 1);
            for (int64_t r = 0; r < rows; r++)
                dst[(size_t)r * dst_ld + (size_t)c] = tmp[r];
        }
    }
}

/* One task: the tile (row_tile, col_tile) of C in one batch. */
static void gemm_task(void *ctx, size_t task, size_t thread) {
    const gemm_job_t *job = ctx;
    const xhal_gemm_desc_t *d = &job->args->desc;

    int64_t tiles_per_batch = job->row_tiles * job->col_tiles;
    int64_t batch = (int64_t)task / tiles_per_batch;
    int64_t tile = (int64_t)task % tiles_per_batch;
    int64_t i0 = tile / job->col_tiles * TILE_M;
    int64_t j0 = tile % job->col_tiles * TILE_N;
    int64_t rows = min64(TILE_M, d->m - i0);
    int64_t cols = min64(TILE_N, d->n - j0);
    size_t ld = cpu_round_chunk((size_t)cols); /* b_panel and acc rows, padded for cpu_axpy */

    float *a_panel = job->scratch + thread * job->floats_per_thread;
    float *b_panel = a_panel + job->a_panel_size;
    float *acc = b_panel + job->b_panel_size;
    float *tmp = acc + job->acc_size; /* one row or column of an operand */

    /* Batch i starts stride_* elements after batch i-1; a stride of 0 shares the matrix. */
    const char *a = job->args->a + batch * d->stride_a * (int64_t)cpu_dtype_size(d->a_type);
    const char *b = job->args->b + batch * d->stride_b * (int64_t)cpu_dtype_size(d->b_type);
    char *c = job->args->c + batch * d->stride_c * (int64_t)cpu_dtype_size(d->c_type);

    /* The padding columns of b_panel stay zero, so the padding of acc stays zero too. */
    memset(b_panel, 0, job->b_panel_size * sizeof(float));
    memset(acc, 0, (size_t)rows * ld * sizeof(float));

    for (int64_t k0 = 0; k0 < d->k; k0 += TILE_K) {
        int64_t depth = min64(TILE_K, d->k - k0);
        /* a_panel: rows x depth of op(A); b_panel: depth x cols of op(B), rows ld apart. */
        load_panel(a_panel, (size_t)depth, a, d->a_type, d->lda, d->trans_a, i0, k0, rows, depth,
                   tmp);
        load_panel(b_panel, ld, b, d->b_type, d->ldb, d->trans_b, k0, j0, depth, cols, tmp);
        for (int64_t i = 0; i < rows; i++) {
            float *acc_row = acc + (size_t)i * ld;
            const float *a_row = a_panel + (size_t)i * (size_t)depth;
            for (int64_t p = 0; p < depth; p++)
                cpu_axpy(acc_row, a_row[p], b_panel + (size_t)p * ld, ld);
        }
    }

    size_t c_es = cpu_dtype_size(d->c_type);
    for (int64_t i = 0; i < rows; i++) {
        float *out = acc + (size_t)i * ld;
        char *c_row = c + ((i0 + i) * d->ldc + j0) * (int64_t)c_es;
        for (int64_t j = 0; j < cols; j++)
            out[j] *= d->alpha;
        if (d->beta != 0.0f) { /* beta == 0: C is write-only */
            cpu_load_f32(tmp, c_row, d->c_type, (size_t)cols, 1);
            for (int64_t j = 0; j < cols; j++)
                out[j] += d->beta * tmp[j];
        }
        cpu_store_f32(c_row, out, d->c_type, (size_t)cols);
    }
}

/* On the stream's worker: set aside scratch per thread, run the tiles on the pool. */
static void run_gemm(xhal_be_stream_t *stream, void *payload) {
    const gemm_args_t *args = payload;
    const xhal_gemm_desc_t *d = &args->desc;
    cpu_pool_t *pool = stream->device->pool;

    gemm_job_t job;
    memset(&job, 0, sizeof(job));
    job.args = args;
    job.row_tiles = (d->m + TILE_M - 1) / TILE_M;
    job.col_tiles = (d->n + TILE_N - 1) / TILE_N;
    int64_t tasks = d->batch * job.row_tiles * job.col_tiles;
    if (tasks <= 0) return;

    /* Sized for the largest tile this GEMM has; each piece a whole number of 64-byte lines. */
    size_t rows = (size_t)min64(TILE_M, d->m);
    size_t depth = (size_t)min64(TILE_K, d->k);
    size_t ld = cpu_round_chunk((size_t)min64(TILE_N, d->n));
    /* tmp holds a row of A^T (rows), of B^T (depth) or of C (ld at most). */
    size_t tmp_size = cpu_round_chunk(max_size(max_size(rows, depth), ld));
    job.a_panel_size = cpu_round_chunk(rows * depth);
    job.b_panel_size = depth * ld;
    job.acc_size = rows * ld;
    job.floats_per_thread = job.a_panel_size + job.b_panel_size + job.acc_size + tmp_size;

    size_t threads = cpu_pool_threads(pool);
    size_t bytes = cpu_round_alignment(threads * job.floats_per_thread * sizeof(float));
    job.scratch = bytes ? aligned_alloc(CPU_ALIGNMENT, bytes) : NULL;
    if (!job.scratch) {
        cpu_stream_fail(stream, XHAL_OUT_OF_MEMORY,
                        "cpu: gemm: aligned_alloc of %zu bytes of scratch failed", bytes);
        return;
    }
    cpu_pool_run(pool, (size_t)tasks, gemm_task, &job);
    free(job.scratch);
}

xhal_status_t cpu_gemm_supports(xhal_be_device_t *device, const xhal_gemm_desc_t *desc) {
    (void)device;
    (void)desc;
    return XHAL_OK; /* every dtype mix, transpose and stride the core accepts */
}

xhal_status_t cpu_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc, xhal_be_buffer_t *a,
                       xhal_be_buffer_t *b, xhal_be_buffer_t *c) {
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
