/*
 * GEMM correctness cases. Sizes no kernel tile divides (1, 7, 17, 4097 and friends), every
 * transpose, leading dimensions larger than the shape, strided batches with gaps between
 * matrices, shared (stride 0) operands, alpha/beta, byte offsets, a C of another dtype and a
 * mixed-dtype pair. The 4097 cases keep the other two sizes small so that the fp64 reference
 * stays cheap (4097 x 7 x 17, not 4097^3).
 *
 * Besides the result, each case checks that the padding of C (between rows, between batches)
 * and the inputs are unchanged, bit for bit.
 */
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

enum { SAME = 0, F32 = 1 }; /* the dtype of B or C: the case's dtype, or f32 */

typedef struct gemm_case {
    const char *name;
    int64_t m, n, k;
    int trans_a, trans_b;
    int64_t batch;
    int64_t pad; /* elements added to every leading dimension */
    int64_t gap; /* elements between consecutive matrices of a batch, past the last row */
    int shared;  /* 1: A has stride 0, 2: B has stride 0 */
    float alpha, beta;
    int b_type, c_type;
    int64_t offset; /* elements before each operand in its buffer */
    int quick;
} gemm_case_t;

static const gemm_case_t cases[] = {
    {"one", 1, 1, 1, 0, 0, 1, 0, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 1},
    {"row-decode", 1, 257, 64, 0, 1, 1, 0, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 1},
    {"small-odd", 7, 17, 129, 0, 0, 1, 0, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 1},
    {"nt-17", 17, 7, 17, 0, 1, 1, 0, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 0},
    {"tn-ld-batch", 33, 65, 17, 1, 0, 2, 5, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 1},
    {"tt-odd", 17, 33, 7, 1, 1, 1, 0, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 0},
    {"m4097-tail", 4097, 7, 17, 0, 0, 1, 0, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 1},
    {"k4097-long", 7, 17, 4097, 0, 0, 1, 0, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 1},
    {"n4097-wide", 17, 4097, 7, 0, 1, 1, 0, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 0},
    {"decode-k4097", 1, 64, 4097, 0, 1, 1, 0, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 0},
    {"batch3-gap", 16, 24, 40, 0, 0, 3, 3, 37, 0, 1.0f, 0.0f, SAME, SAME, 0, 0},
    {"shared-b-beta", 16, 24, 40, 0, 1, 2, 0, 0, 2, 0.5f, 0.25f, SAME, SAME, 0, 1},
    {"shared-a", 9, 21, 13, 1, 0, 3, 2, 0, 1, 1.0f, 0.0f, SAME, SAME, 0, 0},
    {"beta1-accumulate", 31, 9, 33, 0, 0, 1, 0, 0, 0, 1.0f, 1.0f, SAME, SAME, 0, 0},
    {"alpha-neg", 64, 64, 64, 0, 0, 1, 0, 0, 0, -1.5f, 0.0f, SAME, SAME, 0, 0},
    {"tile-edges", 129, 97, 65, 0, 0, 1, 0, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 0},
    {"large-ld", 17, 17, 17, 1, 1, 1, 100, 0, 0, 1.0f, 0.0f, SAME, SAME, 0, 0},
    {"offset", 13, 11, 21, 0, 0, 2, 1, 0, 0, 1.0f, 0.0f, SAME, SAME, 3, 0},
    {"c-f32", 33, 47, 65, 0, 1, 1, 0, 0, 0, 1.0f, 0.0f, SAME, F32, 0, 1},
    {"mixed-b-f32", 9, 19, 33, 0, 0, 1, 0, 0, 0, 1.0f, 0.0f, F32, F32, 0, 0},
};

#define CASE_COUNT (sizeof cases / sizeof cases[0])

static const char *name(size_t index) {
    return cases[index].name;
}

static int is_quick(size_t index) {
    return cases[index].quick;
}

static void describe(size_t index, char *out, size_t size) {
    const gemm_case_t *c = &cases[index];
    conf_format(out, size, "%lldx%lldx%lld %c%c", (long long)c->m, (long long)c->n, (long long)c->k,
                c->trans_a ? 'T' : 'N', c->trans_b ? 'T' : 'N');
    if (c->batch > 1) conf_append(out, size, " batch %lld", (long long)c->batch);
    if (c->pad) conf_append(out, size, " ld+%lld", (long long)c->pad);
    if (c->gap) conf_append(out, size, " gap %lld", (long long)c->gap);
    if (c->shared) conf_append(out, size, " shared-%c", c->shared == 1 ? 'A' : 'B');
    if (c->alpha != 1.0f) conf_append(out, size, " alpha %g", (double)c->alpha);
    if (c->beta != 0.0f) conf_append(out, size, " beta %g", (double)c->beta);
    if (c->offset) conf_append(out, size, " offset %lld", (long long)c->offset);
    if (c->b_type == F32) conf_append(out, size, " B f32");
    if (c->c_type == F32) conf_append(out, size, " C f32");
}

/* Rows of A and B as stored (transposed or not). */
static int64_t rows_a(const xhal_gemm_desc_t *d) {
    return d->trans_a ? d->k : d->m;
}
static int64_t rows_b(const xhal_gemm_desc_t *d) {
    return d->trans_b ? d->n : d->k;
}

static void make_desc(const gemm_case_t *c, xhal_dtype_t dtype, xhal_gemm_desc_t *d) {
    xhal_gemm_desc_init(d, c->m, c->n, c->k, dtype);
    d->b_type = c->b_type == F32 ? XHAL_DTYPE_F32 : dtype;
    d->c_type = c->c_type == F32 ? XHAL_DTYPE_F32 : dtype;
    d->trans_a = c->trans_a;
    d->trans_b = c->trans_b;
    d->lda = (c->trans_a ? c->m : c->k) + c->pad;
    d->ldb = (c->trans_b ? c->k : c->n) + c->pad;
    d->ldc = c->n + c->pad;
    d->batch = c->batch;
    d->stride_a = c->shared == 1 ? 0 : rows_a(d) * d->lda + c->gap;
    d->stride_b = c->shared == 2 ? 0 : rows_b(d) * d->ldb + c->gap;
    d->stride_c = c->m * d->ldc + c->gap;
    d->alpha = c->alpha;
    d->beta = c->beta;
    d->a_offset = (uint64_t)c->offset * xhal_dtype_size(d->a_type);
    d->b_offset = (uint64_t)c->offset * xhal_dtype_size(d->b_type);
    d->c_offset = (uint64_t)c->offset * xhal_dtype_size(d->c_type);
}

/* Elements of a buffer holding a batched operand after `offset` elements. */
static size_t extent(int64_t offset, int64_t batch, int64_t stride, int64_t rows, int64_t ld) {
    return (size_t)(offset + (batch - 1) * stride + rows * ld);
}

/* t[0..2] = A, B, C; the host values of C are random when beta reads them, else NaN. */
static int prepare(conf_ctx_t *ctx, const gemm_case_t *c, const xhal_gemm_desc_t *d,
                   conf_tensor_t *t, conf_check_t *r) {
    size_t counts[3] = {
        extent(c->offset, d->batch, d->stride_a, rows_a(d), d->lda),
        extent(c->offset, d->batch, d->stride_b, rows_b(d), d->ldb),
        extent(c->offset, d->batch, d->stride_c, d->m, d->ldc),
    };
    xhal_dtype_t types[3] = {d->a_type, d->b_type, d->c_type};
    for (int i = 0; i < 3; i++)
        if (!conf_tensor_init(&t[i], types[i], counts[i], r)) return 0;
    conf_tensor_randomize(&t[0], &ctx->rng);
    conf_tensor_randomize(&t[1], &ctx->rng);
    if (d->beta != 0)
        conf_tensor_randomize(&t[2], &ctx->rng);
    else
        conf_tensor_poison(&t[2]);
    return 1;
}

static int execute(conf_ctx_t *ctx, xhal_gemm_desc_t *d, conf_tensor_t *t, conf_check_t *r) {
    for (int i = 0; i < 3; i++)
        if (!conf_tensor_upload(ctx, &t[i], r)) return 0;
    d->a = t[0].buffer;
    d->b = t[1].buffer;
    d->c = t[2].buffer;
    return conf_timer_start(ctx, r) && conf_ok(r, xhal_gemm(ctx->stream, d), "xhal_gemm") &&
           conf_collect(ctx, t, 3, r);
}

/* The m x n results of every batch out of C, densely, and which elements of C they are. */
static void gather(const xhal_gemm_desc_t *d, int64_t offset, const conf_tensor_t *c, double *out,
                   unsigned char *in_view) {
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t i = 0; i < d->m; i++)
            for (int64_t j = 0; j < d->n; j++) {
                int64_t at = offset + conf_gemm_c_index(d, b, i, j);
                *out++ = c->values[at];
                in_view[at] = 1;
            }
}

static void run(conf_ctx_t *ctx, size_t index, xhal_dtype_t dtype, conf_check_t *r) {
    const gemm_case_t *c = &cases[index];
    xhal_gemm_desc_t d;
    make_desc(c, dtype, &d);
    if (!conf_supported(r, xhal_gemm_supports(ctx->device, &d), "xhal_gemm_supports")) return;

    conf_tensor_t t[3];
    memset(t, 0, sizeof t);
    size_t count = (size_t)(d.batch * d.m * d.n);
    double *ref = malloc(count * sizeof *ref), *out = malloc(count * sizeof *out);
    unsigned char *in_view = NULL;
    if (conf_host_alloc(r, ref) && conf_host_alloc(r, out) && prepare(ctx, c, &d, t, r) &&
        conf_host_alloc(r, in_view = calloc(t[2].count, 1))) {
        /* Before the run: the download overwrites the host values beta reads. */
        conf_ref_gemm(&d, t[0].values + c->offset, t[1].values + c->offset, t[2].values + c->offset,
                      ref);
        if (execute(ctx, &d, t, r)) {
            gather(&d, c->offset, &t[2], out, in_view);
            r->outside_writes = conf_tensor_changed(&t[2], in_view);
            r->inputs_changed = conf_tensor_changed(&t[0], NULL) + conf_tensor_changed(&t[1], NULL);
            conf_judge(r, out, ref, count, conf_gemm_bound(d.c_type, d.k));
        }
    }
    conf_release(ctx, t, 3);
    free(in_view);
    free(ref);
    free(out);
}

const conf_check_table_t conf_check_gemm = {
    .op = CONF_OP_GEMM,
    .count = CASE_COUNT,
    .name = name,
    .is_quick = is_quick,
    .describe = describe,
    .run = run,
};
