/*
 * GEMM cases of `xhal check`. Odd sizes so that no kernel tile divides them, both transposes,
 * padded leading dimensions, strided and shared-operand batches, and one case that reads C.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

typedef struct gemm_case {
    int64_t m, n, k;
    int trans_a, trans_b;
    int64_t batch;
    int64_t pad;  /* elements added to every leading dimension */
    int shared_b; /* stride_b 0: one B for the whole batch */
    float alpha, beta;
    int quick; /* part of `xhal check --quick` */
} gemm_case_t;

static const gemm_case_t cases[] = {
    {7, 17, 129, 0, 0, 1, 0, 0, 1.0f, 0.0f, 1},
    {64, 33, 257, 0, 1, 1, 0, 0, 1.0f, 0.0f, 1},
    {1, 257, 64, 0, 0, 1, 0, 0, 1.0f, 0.0f, 0}, /* a decode step: one row */
    {33, 65, 17, 1, 0, 2, 5, 0, 1.0f, 0.0f, 1},
    {16, 24, 40, 0, 1, 2, 0, 1, 0.5f, 0.25f, 0}, /* C is read: it starts random, not NaN */
};

static int is_quick(size_t index) {
    return cases[index].quick;
}

static void describe(size_t index, char *out, size_t size) {
    const gemm_case_t *c = &cases[index];
    int used = snprintf(out, size, "%lldx%lldx%lld %c%c", (long long)c->m, (long long)c->n,
                        (long long)c->k, c->trans_a ? 'T' : 'N', c->trans_b ? 'T' : 'N');
    if (c->batch > 1) used += snprintf(out + used, size - used, " batch %lld", (long long)c->batch);
    if (c->pad) used += snprintf(out + used, size - used, " ld+%lld", (long long)c->pad);
    if (c->shared_b) used += snprintf(out + used, size - used, " shared-B");
    if (c->beta != 0) snprintf(out + used, size - used, " beta %g", c->beta);
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
    d->trans_a = c->trans_a;
    d->trans_b = c->trans_b;
    d->lda = (c->trans_a ? c->m : c->k) + c->pad;
    d->ldb = (c->trans_b ? c->k : c->n) + c->pad;
    d->ldc = c->n + c->pad;
    d->batch = c->batch;
    d->stride_a = rows_a(d) * d->lda;
    d->stride_b = c->shared_b ? 0 : rows_b(d) * d->ldb;
    d->stride_c = c->m * d->ldc;
    d->alpha = c->alpha;
    d->beta = c->beta;
}

/* Elements from the first to one past the last a batched operand touches. */
static size_t extent(int64_t batch, int64_t stride, int64_t rows, int64_t ld) {
    return (size_t)((batch - 1) * stride + rows * ld);
}

static double element_a(const xhal_gemm_desc_t *d, const double *a, int64_t b, int64_t i,
                        int64_t p) {
    return a[b * d->stride_a + (d->trans_a ? p * d->lda + i : i * d->lda + p)];
}

static double element_b(const xhal_gemm_desc_t *d, const double *bm, int64_t b, int64_t p,
                        int64_t j) {
    return bm[b * d->stride_b + (d->trans_b ? j * d->ldb + p : p * d->ldb + j)];
}

/* ref[b][i][j] (dense) = alpha * op(A) op(B) + beta * C, in fp64 from the rounded inputs. */
static void reference(const xhal_gemm_desc_t *d, const double *a, const double *bm, const double *c,
                      double *ref) {
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t i = 0; i < d->m; i++)
            for (int64_t j = 0; j < d->n; j++) {
                double sum = 0;
                for (int64_t p = 0; p < d->k; p++)
                    sum += element_a(d, a, b, i, p) * element_b(d, bm, b, p, j);
                double c0 = d->beta != 0 ? c[b * d->stride_c + i * d->ldc + j] : 0;
                *ref++ = d->alpha * sum + d->beta * c0;
            }
}

/* The m x n results of every batch out of C's padded layout, densely. */
static void gather(const xhal_gemm_desc_t *d, const double *c, double *out) {
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t i = 0; i < d->m; i++)
            for (int64_t j = 0; j < d->n; j++)
                *out++ = c[b * d->stride_c + i * d->ldc + j];
}

/* t[0..2] = A, B, C with random contents; C's only matter when beta reads them. */
static int prepare(check_context_t *ctx, const xhal_gemm_desc_t *d, check_tensor_t *t,
                   check_result_t *r) {
    size_t counts[3] = {
        extent(d->batch, d->stride_a, rows_a(d), d->lda),
        extent(d->batch, d->stride_b, rows_b(d), d->ldb),
        extent(d->batch, d->stride_c, d->m, d->ldc),
    };
    for (int i = 0; i < 3; i++) {
        if (!check_tensor_init(&t[i], d->a_type, counts[i], r)) return 0;
        check_tensor_randomize(&t[i], &ctx->rng);
    }
    return 1;
}

static int execute(check_context_t *ctx, xhal_gemm_desc_t *d, check_tensor_t *t,
                   check_result_t *r) {
    if (!check_tensor_upload(ctx, &t[0], r) || !check_tensor_upload(ctx, &t[1], r)) return 0;
    int c_ready =
        d->beta != 0 ? check_tensor_upload(ctx, &t[2], r) : check_tensor_poison(ctx, &t[2], r);
    if (!c_ready) return 0;
    d->a = t[0].buffer;
    d->b = t[1].buffer;
    d->c = t[2].buffer;
    return check_timer_start(ctx, r) && check_ok(r, xhal_gemm(ctx->stream, d), "xhal_gemm") &&
           check_collect(ctx, &t[2], r);
}

static void run(check_context_t *ctx, size_t index, xhal_dtype_t dtype, check_result_t *r) {
    xhal_gemm_desc_t d;
    make_desc(&cases[index], dtype, &d);
    if (!check_supported(r, xhal_gemm_supports(ctx->device, &d), "xhal_gemm_supports")) return;

    check_tensor_t t[3] = {{0}};
    size_t count = (size_t)(d.batch * d.m * d.n);
    double *ref = malloc(count * sizeof *ref), *out = malloc(count * sizeof *out);
    if (check_host_alloc(r, ref) && check_host_alloc(r, out) && prepare(ctx, &d, t, r)) {
        /* Before the run: the download overwrites C's host copy, which beta reads. */
        reference(&d, t[0].values, t[1].values, t[2].values, ref);
        if (execute(ctx, &d, t, r)) {
            gather(&d, t[2].values, out);
            check_compare(r, out, ref, count, dtype);
        }
    }
    check_release(ctx, t, 3);
    free(ref);
    free(out);
}

const check_op_t check_op_gemm = {
    .name = "gemm",
    .case_count = sizeof cases / sizeof cases[0],
    .is_quick = is_quick,
    .describe = describe,
    .run = run,
};
