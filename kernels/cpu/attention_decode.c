/*
 * Decode tasks of the attention engine (see attention_kernel.h): a few query rows per KV head
 * over a long KV, memory bound. A task takes one split of the keys its rows see, for a block of
 * KV heads, chunk by chunk and, within a chunk, head by head; it hands the kernel each key's K
 * and V row as a pointer (a paged cache scatters them) and, for prefetching, the rows of the
 * next step. With more than one split, each task leaves a partial (max, sum, unnormalized O)
 * per row and xk_attention_combine merges them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention_internal.h"

/* Row pointers of keys [j0, j0 + keys) of (sequence, kvh) for K (v = 0) or V, run by run. */
static void row_pointers(const xk_attention_problem_t *p, const xk_att_seq_t *s, int v, int64_t kvh,
                         int64_t j0, size_t keys, const void **out) {
    const void *base = v ? p->v : p->k;
    int64_t ld = v ? p->v_strides.seq : p->k_strides.seq;
    size_t es = p->dtype == XHAL_DTYPE_F32 ? 4 : 2;
    for (int64_t t = j0, end = j0 + (int64_t)keys; t < end;) {
        int64_t run = xk_att_kv_run(p, s, t, end - t);
        const char *row = xk_att_element(base, p->dtype, xk_att_kv_offset(p, s, v, kvh, t));
        for (int64_t i = 0; i < run; i++)
            out[t - j0 + i] = row + (size_t)(i * ld) * es;
        t += run;
    }
}

/*
 * What step (chunk at j0, head x of `heads`) prefetches: its share of the next chunk's keys,
 * [next + x * C / heads, next + (x + 1) * C / heads) below `end`, each key's K and V rows of the
 * whole block of heads (one stretch of memory when the heads lie side by side, BSHD), in address
 * order, so that over the chunk's steps the next chunk arrives as a stream. Keys whose rows
 * follow each other in memory make one run. Returns the runs.
 */
static size_t prefetch_runs(const xk_attention_problem_t *p, const xk_att_seq_t *s, int64_t h0,
                            int64_t heads, int64_t x, int64_t next, int64_t end, int64_t chunk,
                            xk_att_pf_run_t *runs) {
    int64_t first = next + x * chunk / heads, last = xk_min64(next + (x + 1) * chunk / heads, end);
    size_t es = p->dtype == XHAL_DTYPE_F32 ? 4 : 2, n = 0;
    for (int v = 0; v < 2; v++) {
        const xhal_attention_strides_t *st = v ? &p->v_strides : &p->k_strides;
        size_t span = (size_t)((heads - 1) * st->head + p->head_dim) * es;
        /* Rows of consecutive keys follow each other: a run covers them all. */
        int dense = (size_t)st->seq * es == span;
        for (int64_t t = first; t < last;) {
            int64_t keys = dense ? xk_att_kv_run(p, s, t, last - t) : 1;
            uintptr_t at = (uintptr_t)xk_att_element(v ? p->v : p->k, p->dtype,
                                                     xk_att_kv_offset(p, s, v, h0, t));
            size_t bytes = at % 64 + (size_t)(keys - 1) * (size_t)st->seq * es + span;
            runs[n++] = (xk_att_pf_run_t){(const char *)(at - at % 64), (bytes + 63) / 64};
            t += keys;
        }
    }
    return n;
}

void xk_att_decode_task(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                        const xk_att_task_t *task, float *scratch, float *partial) {
    const xk_att_ukernel_t *uk = xk_att_ukernel();
    xk_att_layout_t l = xk_att_layout(p, plan, 1, scratch);
    const xk_att_seq_t *s = &p->seqs[task->seq];
    const xk_att_seq_plan_t *sp = &plan->seqs[task->seq];
    int64_t h0 = task->unit * plan->head_block, split = task->part, n = s->len_q;
    int64_t heads = xk_min64(plan->head_block, p->heads_kv - h0), chunk = plan->chunk;
    size_t dim = (size_t)p->head_dim, dim_ld = xk_round16(dim), rows = (size_t)(plan->group * n);
    size_t lanes = xk_round16(rows), per_head = rows * dim_ld;
    float qscale = xk_att_q_scale(p);
    /* 16-bit K/V go to the kernel as they are when it converts in its loads, else as f32 rows
     * converted into scratch first. */
    int direct = p->dtype == XHAL_DTYPE_F32 || uk->decode_16bit;

    memset(l.q, 0, (size_t)heads * per_head * sizeof *l.q);
    memset(l.o, 0, (size_t)heads * per_head * sizeof *l.o);
    for (int64_t x = 0; x < heads; x++)
        for (size_t r = 0; r < rows; r++) {
            int64_t h = (h0 + x) * plan->group + (int64_t)r / n, pos = (int64_t)r % n;
            xk_att_load_q(uk, l.q + (size_t)x * per_head + r * dim_ld, p,
                          s->q + h * p->q_strides.head + pos * p->q_strides.seq, qscale);
            l.m[(size_t)x * lanes + r] = -INFINITY;
            l.l[(size_t)x * lanes + r] = 0.0f;
        }

    const void **row_k = l.ptrs, **row_v = row_k + XK_ATT_CHUNK;
    xk_att_pf_run_t *runs = (xk_att_pf_run_t *)(void *)(row_v + XK_ATT_CHUNK);
    xk_att_chunk_t c = {.dim = dim,
                        .kv_type = direct ? p->dtype : XHAL_DTYPE_F32,
                        .rows = rows,
                        .k = row_k,
                        .v = row_v,
                        .ldq = dim_ld,
                        .s = l.s,
                        .lds = XK_ATT_CHUNK,
                        .ldo = dim_ld,
                        .corr = l.corr,
                        .cap = xk_att_cap(p),
                        .pf = runs};
    int64_t begin = sp->k0 + split * sp->split_keys;
    int64_t end = xk_min64(begin + sp->split_keys, sp->k1);
    /* Chunk by chunk and, within a chunk, head by head: with the heads side by side (BSHD) the
     * chunk's rows of every head are one stretch of memory, read while the next is prefetched. */
    for (int64_t j0 = begin; j0 < end; j0 += chunk) {
        size_t keys = (size_t)xk_min64(chunk, end - j0);
        int masked = xk_att_tile_mask(p, s, l.lo, l.hi, rows, rows, 0, n, j0, keys);
        c.lo = masked ? l.lo : NULL;
        c.hi = masked ? l.hi : NULL;
        c.keys = keys;
        for (int64_t x = 0; x < heads; x++) {
            c.q = l.q + (size_t)x * per_head;
            c.o = l.o + (size_t)x * per_head;
            c.m = l.m + (size_t)x * lanes;
            c.l = l.l + (size_t)x * lanes;
            row_pointers(p, s, 0, h0 + x, j0, keys, row_k);
            row_pointers(p, s, 1, h0 + x, j0, keys, row_v);
            c.pf_runs = prefetch_runs(p, s, h0, heads, x, j0 + chunk, end, chunk, runs);
            if (!direct) {
                /* The kernel reads f32: convert this step's rows, and point it at them. */
                for (size_t j = 0; j < keys; j++) {
                    uk->convert(l.k + j * dim_ld, 0, row_k[j], 0, p->dtype, 1, dim);
                    uk->convert(l.v + j * dim_ld, 0, row_v[j], 0, p->dtype, 1, dim);
                    row_k[j] = l.k + j * dim_ld;
                    row_v[j] = l.v + j * dim_ld;
                }
            }
            uk->decode_chunk(&c);
        }
    }

    for (int64_t x = 0; x < heads; x++) {
        const float *o = l.o + (size_t)x * per_head, *m = l.m + (size_t)x * lanes;
        const float *sum = l.l + (size_t)x * lanes;
        int64_t kvh = h0 + x;
        if (sp->splits == 1) {
            for (size_t r = 0; r < rows; r++) {
                int64_t h = kvh * plan->group + (int64_t)r / n, pos = (int64_t)r % n;
                memcpy(l.row, o + r * dim_ld, dim * sizeof *l.row);
                xk_att_store_row(p, s, h, pos, l.row, m[r], sum[r]);
            }
            continue;
        }
        /* The partial of (sequence, KV head, split): m[rows], l[rows], then O[rows][dim]. */
        float *out =
            partial + sp->partial + ((size_t)(kvh * sp->splits) + (size_t)split) * rows * (dim + 2);
        memcpy(out, m, rows * sizeof *out);
        memcpy(out + rows, sum, rows * sizeof *out);
        for (size_t r = 0; r < rows; r++)
            memcpy(out + 2 * rows + r * dim, o + r * dim_ld, dim * sizeof *out);
    }
}

void xk_attention_combine(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                          size_t task, float *scratch, const float *partial) {
    xk_att_layout_t l = xk_att_layout(p, plan, 1, scratch);
    int64_t b = plan->combine_list[2 * task], kvh = plan->combine_list[2 * task + 1];
    const xk_att_seq_t *s = &p->seqs[b];
    const xk_att_seq_plan_t *sp = &plan->seqs[b];
    int64_t n = s->len_q;
    size_t dim = (size_t)p->head_dim, rows = (size_t)(plan->group * n), each = rows * (dim + 2);
    const float *first = partial + sp->partial + (size_t)(kvh * sp->splits) * each;
    for (size_t r = 0; r < rows; r++) {
        float top = -INFINITY;
        for (int64_t k = 0; k < sp->splits; k++)
            top = fmaxf(top, first[(size_t)k * each + r]);
        float sum = 0.0f;
        memset(l.row, 0, dim * sizeof *l.row);
        for (int64_t k = 0; k < sp->splits && top > -INFINITY; k++) {
            const float *part = first + (size_t)k * each;
            if (part[r] == -INFINITY) continue; /* this split saw no key of the row */
            float w = exp2f(part[r] - top);
            sum += w * part[rows + r];
            const float *o = part + 2 * rows + r * dim;
            for (size_t x = 0; x < dim; x++)
                l.row[x] += w * o[x];
        }
        int64_t h = kvh * plan->group + (int64_t)r / n, pos = (int64_t)r % n;
        xk_att_store_row(p, s, h, pos, l.row, top, sum);
    }
}
