/*
 * The plan of an attention (see attention_kernel.h): which kind of task each sequence gets, how
 * its keys are split, the one list of tasks of the whole batch (costliest first), the combine
 * pairs, and the scratch every kind of task needs.
 */
#include <stdlib.h>
#include <string.h>

#include "attention_internal.h"

/* The fewest keys worth a decode split of their own. */
#define MIN_SPLIT_KEYS 512
/* Decode aims for this many tasks per thread, so a slow core does not hold up the others. */
#define TASKS_PER_THREAD 8
/* Decode: the most floats of Q and O scratch a block of heads may take (512 KB). */
#define HEAD_BLOCK_FLOATS (128 * 1024)
/* Decode: bytes of K and V a chunk of keys of a block of heads should span. The chunk being read
 * and the next one being prefetched then sit in L2 together (1 MB per core on Zen 4, 512 KB on
 * Zen 3), and the pages a step touches stay within the first-level TLB. */
#define DECODE_STEP_BYTES (128 * 1024)
/* A task's cost beyond its keys x rows: loading Q, storing O, the plan's bookkeeping. */
#define TASK_OVERHEAD_KEYS 32

/* Prefill: query positions per task, whatever the sequence's length. */
static int64_t prefill_positions(int64_t group) {
    return xk_max64(XK_ATT_LANES_TARGET / group, 1);
}

/* Keys of [k0, k1) in split `split` of a decode sequence. */
static int64_t split_keys(const xk_att_seq_plan_t *sp, int64_t split) {
    int64_t first = sp->k0 + split * sp->split_keys;
    return xk_max64(xk_min64(sp->split_keys, sp->k1 - first), 0);
}

static int by_cost(const void *a, const void *b) {
    double x = ((const xk_att_task_t *)a)->cost, y = ((const xk_att_task_t *)b)->cost;
    return (x < y) - (x > y); /* descending */
}

/* Per sequence: its kind and the keys its rows see; returns the decode rows of the largest. */
static int64_t classify(const xk_attention_problem_t *p, xk_attention_plan_t *plan) {
    int64_t rows = 0;
    for (int64_t b = 0; b < p->batch; b++) {
        const xk_att_seq_t *s = &p->seqs[b];
        xk_att_seq_plan_t *sp = &plan->seqs[b];
        sp->decode = s->len_q <= XK_ATT_DECODE_MAX_SEQ;
        if (s->len_q == 0) continue; /* no task at all */
        int64_t lo, hi, last_lo, last_hi;
        /* Both ends only grow with the position: the first row starts it, the last ends it. */
        xk_att_keys_seen(p, s, 0, &lo, &hi);
        xk_att_keys_seen(p, s, s->len_q - 1, &last_lo, &last_hi);
        sp->k0 = lo;
        sp->k1 = xk_max64(last_hi, lo);
        if (sp->decode) rows = xk_max64(rows, plan->group * s->len_q);
    }
    return rows;
}

/* Splits of each decode sequence: about threads x TASKS_PER_THREAD tasks over the batch. */
static void split_decode(const xk_attention_problem_t *p, xk_attention_plan_t *plan, size_t threads,
                         int64_t blocks) {
    double work = 0;
    for (int64_t b = 0; b < p->batch; b++)
        if (p->seqs[b].len_q > 0 && plan->seqs[b].decode)
            work += (double)(plan->seqs[b].k1 - plan->seqs[b].k0) * (double)blocks;
    double want = (double)threads * TASKS_PER_THREAD;
    int64_t keys = (int64_t)(work / want) + 1;
    keys = xk_max64(keys, MIN_SPLIT_KEYS);
    keys = (keys + XK_ATT_CHUNK - 1) / XK_ATT_CHUNK * XK_ATT_CHUNK;
    size_t partial = 0, dim = (size_t)p->head_dim;
    for (int64_t b = 0; b < p->batch; b++) {
        xk_att_seq_plan_t *sp = &plan->seqs[b];
        const xk_att_seq_t *s = &p->seqs[b];
        if (s->len_q == 0 || !sp->decode) continue;
        int64_t range = sp->k1 - sp->k0;
        sp->split_keys = keys;
        sp->splits = xk_max64((range + keys - 1) / keys, 1);
        if (sp->splits > 1) {
            sp->partial = partial;
            size_t rows = (size_t)(plan->group * s->len_q);
            partial += (size_t)(p->heads_kv * sp->splits) * rows * (dim + 2);
            plan->combine_tasks += (size_t)p->heads_kv;
        }
        plan->tasks += (size_t)(blocks * sp->splits);
    }
    plan->partial_floats = partial;
}

/* Fills the task list (costliest first) and the combine pairs. */
static int fill_lists(const xk_attention_problem_t *p, xk_attention_plan_t *plan, int64_t blocks) {
    plan->task_list = malloc((plan->tasks ? plan->tasks : 1) * sizeof *plan->task_list);
    plan->combine_list =
        malloc((plan->combine_tasks ? 2 * plan->combine_tasks : 1) * sizeof *plan->combine_list);
    if (!plan->task_list || !plan->combine_list) return -1;
    size_t n = 0, pairs = 0;
    for (int64_t b = 0; b < p->batch; b++) {
        const xk_att_seq_t *s = &p->seqs[b];
        const xk_att_seq_plan_t *sp = &plan->seqs[b];
        if (s->len_q == 0) continue;
        if (!sp->decode) {
            int64_t blocks_q = (s->len_q + sp->positions - 1) / sp->positions;
            for (int64_t blk = 0; blk < blocks_q; blk++) {
                int64_t i0 = blk * sp->positions, rows = xk_min64(sp->positions, s->len_q - i0);
                int64_t lo, hi, last_lo, last_hi;
                xk_att_keys_seen(p, s, i0, &lo, &hi);
                xk_att_keys_seen(p, s, i0 + rows - 1, &last_lo, &last_hi);
                double cost = (double)(rows * plan->group) *
                              (double)(xk_max64(last_hi - lo, 0) + TASK_OVERHEAD_KEYS);
                for (int64_t kvh = 0; kvh < p->heads_kv; kvh++)
                    plan->task_list[n++] = (xk_att_task_t){b, kvh, blk, cost};
            }
            continue;
        }
        double rows = (double)(plan->group * s->len_q);
        for (int64_t hb = 0; hb < blocks; hb++) {
            double heads = (double)xk_min64(plan->head_block, p->heads_kv - hb * plan->head_block);
            for (int64_t split = 0; split < sp->splits; split++) {
                double cost = heads * rows * (double)(split_keys(sp, split) + TASK_OVERHEAD_KEYS);
                plan->task_list[n++] = (xk_att_task_t){b, hb, split, cost};
            }
        }
        if (sp->splits > 1)
            for (int64_t kvh = 0; kvh < p->heads_kv; kvh++) {
                plan->combine_list[2 * pairs] = b;
                plan->combine_list[2 * pairs + 1] = kvh;
                pairs++;
            }
    }
    qsort(plan->task_list, n, sizeof *plan->task_list, by_cost);
    return 0;
}

int xk_attention_plan(const xk_attention_problem_t *p, size_t threads, xk_attention_plan_t *out) {
    memset(out, 0, sizeof *out);
    out->group = p->heads_q / p->heads_kv;
    out->seqs = calloc((size_t)p->batch, sizeof *out->seqs);
    if (!out->seqs) return -1;
    out->max_decode_rows = classify(p, out);

    /* Heads next to each other in memory (BSHD): decode walks them together, so a task streams
     * through whole runs of rows; heads apart (BHSD): one head per task is already a run. */
    out->head_block = 1;
    size_t per_head = 2 * (size_t)out->max_decode_rows * xk_round16((size_t)p->head_dim);
    if (per_head && p->k_strides.head < p->k_strides.seq && p->v_strides.head < p->v_strides.seq)
        out->head_block =
            xk_min64(p->heads_kv, xk_max64(1, (int64_t)(HEAD_BLOCK_FLOATS / per_head)));
    int64_t blocks = (p->heads_kv + out->head_block - 1) / out->head_block;
    size_t key_bytes =
        2 * (size_t)out->head_block * (size_t)p->head_dim * (p->dtype == XHAL_DTYPE_F32 ? 4 : 2);
    out->chunk = XK_ATT_CHUNK;
    while (out->chunk > 16 && (size_t)out->chunk * key_bytes > DECODE_STEP_BYTES)
        out->chunk /= 2;

    split_decode(p, out, threads, blocks);
    for (int64_t b = 0; b < p->batch; b++) {
        xk_att_seq_plan_t *sp = &out->seqs[b];
        const xk_att_seq_t *s = &p->seqs[b];
        if (s->len_q == 0 || sp->decode) continue;
        sp->positions = xk_min64(prefill_positions(out->group), s->len_q);
        out->tasks += (size_t)(p->heads_kv * ((s->len_q + sp->positions - 1) / sp->positions));
    }
    if (fill_lists(p, out, blocks) != 0) {
        xk_attention_plan_free(out);
        return -1;
    }
    size_t prefill = xk_att_layout(p, out, 0, NULL).floats;
    size_t decode = out->max_decode_rows ? xk_att_layout(p, out, 1, NULL).floats : 0;
    out->scratch_floats = prefill > decode ? prefill : decode;
    return 0;
}

void xk_attention_plan_free(xk_attention_plan_t *plan) {
    free(plan->seqs);
    free(plan->task_list);
    free(plan->combine_list);
    memset(plan, 0, sizeof *plan);
}
