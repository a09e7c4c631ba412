/*
 * The attention driver (see attention_kernel.h): lays out each thread's scratch, computes the
 * masks (causal, sliding window) of each tile, finds K and V rows (dense or in a paged pool),
 * moves Q in and O and the LSE out (converting dtypes, transposing for the prefill lanes), and
 * walks the tiles of keys of a prefill task. The arithmetic on tiles is the microkernels'
 * (attention_ukernel.h); decode tasks are in attention_decode.c, the plan in attention_plan.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention_internal.h"
#include "isa.h"

static const double LOG2E = 1.44269504088896340736;
static const double LN2 = 0.69314718055994530942;

/* The path of the ISA the CPU kernels use (isa.h: CPUID, lowered by XHAL_CPU_ISA), or the next
 * one down when this compiler could not build it. Cheap: xk_isa() is computed once. */
const xk_att_ukernel_t *xk_att_ukernel(void) {
    xk_isa_t isa = xk_isa();
    if (isa >= XK_ISA_AVX512 && xk_att_ukernel_avx512.prefill_tile) return &xk_att_ukernel_avx512;
    if (isa >= XK_ISA_AVX2 && xk_att_ukernel_avx2.prefill_tile) return &xk_att_ukernel_avx2;
    return &xk_att_ukernel_generic;
}

const char *xk_attention_isa(void) {
    return xk_att_ukernel()->isa;
}

void xk_att_keys_seen(const xk_attention_problem_t *p, const xk_att_seq_t *s, int64_t i,
                      int64_t *lo, int64_t *hi) {
    int64_t pos = i + s->len_kv - s->len_q; /* bottom-right: the last query sits on the last key */
    int64_t end = p->causal ? xk_min64(xk_max64(pos + 1, 0), s->len_kv) : s->len_kv;
    int64_t start = p->window > 0 ? xk_min64(xk_max64(pos - p->window + 1, 0), s->len_kv) : 0;
    *lo = xk_min64(start, end);
    *hi = end;
}

int xk_att_tile_mask(const xk_attention_problem_t *p, const xk_att_seq_t *s, int32_t *lo,
                     int32_t *hi, size_t count, size_t valid, int64_t first, int64_t positions,
                     int64_t j0, size_t keys) {
    int64_t first_lo, first_hi, last_lo, last_hi, end = j0 + (int64_t)keys;
    int64_t last = first + xk_min64(positions, (int64_t)valid) - 1;
    xk_att_keys_seen(p, s, first, &first_lo, &first_hi);
    xk_att_keys_seen(p, s, last, &last_lo, &last_hi);
    if (j0 >= last_lo && end <= first_hi) return 0; /* every row sees the whole tile */
    for (size_t r = 0; r < count; r++) {
        int64_t a = 0, b = (int64_t)keys;
        if (r < valid) {
            xk_att_keys_seen(p, s, first + (int64_t)r % positions, &a, &b);
            a = xk_min64(xk_max64(a - j0, 0), (int64_t)keys);
            b = xk_min64(xk_max64(b - j0, a), (int64_t)keys);
        }
        lo[r] = (int32_t)a;
        hi[r] = (int32_t)b;
    }
    return 1;
}

int64_t xk_att_kv_offset(const xk_attention_problem_t *p, const xk_att_seq_t *s, int v, int64_t kvh,
                         int64_t t) {
    const xhal_attention_strides_t *st = v ? &p->v_strides : &p->k_strides;
    if (!s->blocks) return (v ? s->v : s->k) + kvh * st->head + t * st->seq;
    /* The table is the caller's data: a block index outside the pool is clamped into it. */
    int64_t block = s->blocks[t / p->block_size];
    block = block < 0 ? 0 : block >= p->num_blocks ? p->num_blocks - 1 : block;
    return block * st->batch + kvh * st->head + (t % p->block_size) * st->seq;
}

int64_t xk_att_kv_run(const xk_attention_problem_t *p, const xk_att_seq_t *s, int64_t t,
                      int64_t count) {
    if (!s->blocks) return count;
    return xk_min64(count, p->block_size - t % p->block_size);
}

float xk_att_q_scale(const xk_attention_problem_t *p) {
    return p->softcap > 0.0f ? p->scale / p->softcap : (float)(p->scale * LOG2E);
}

float xk_att_cap(const xk_attention_problem_t *p) {
    return p->softcap > 0.0f ? (float)(p->softcap * LOG2E) : 0.0f;
}

void xk_att_load_q(const xk_att_ukernel_t *uk, float *dst, const xk_attention_problem_t *p,
                   int64_t offset, float scale) {
    uk->convert(dst, 0, xk_att_element(p->q, p->dtype, offset), 0, p->dtype, 1,
                (size_t)p->head_dim);
    for (int64_t x = 0; x < p->head_dim; x++)
        dst[x] *= scale;
}

void xk_att_store_row(const xk_attention_problem_t *p, const xk_att_seq_t *s, int64_t h, int64_t i,
                      float *out, float m, float sum) {
    int seen = m != -INFINITY && sum > 0.0f;
    float inverse = seen ? 1.0f / sum : 0.0f;
    size_t dim = (size_t)p->head_dim;
    for (size_t x = 0; x < dim; x++)
        out[x] = seen ? out[x] * inverse : 0.0f;
    int64_t offset = s->o + h * p->o_strides.head + i * p->o_strides.seq;
    void *dst = (char *)p->o + offset * (p->dtype == XHAL_DTYPE_F32 ? 4 : 2);
    if (p->dtype == XHAL_DTYPE_F32) {
        memcpy(dst, out, dim * sizeof *out);
    } else {
        uint16_t *d = dst;
        for (size_t x = 0; x < dim; x++)
            d[x] = p->dtype == XHAL_DTYPE_BF16 ? xhal_f32_to_bf16(out[x]) : xhal_f32_to_f16(out[x]);
    }
    if (p->lse)
        p->lse[s->lse + h * p->lse_head + i] =
            seen ? (float)(((double)m + log2((double)sum)) * LN2) : -INFINITY;
}

xk_att_layout_t xk_att_layout(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                              int decode, float *base) {
    size_t dim = (size_t)p->head_dim, dim_ld = xk_round16(dim);
    size_t rows = decode ? (size_t)plan->max_decode_rows
                         : (size_t)(plan->group * xk_max64(XK_ATT_LANES_TARGET / plan->group, 1));
    size_t lanes = xk_round16(rows), heads = decode ? (size_t)plan->head_block : 1;
    size_t keys = decode ? XK_ATT_CHUNK : XK_ATT_TILE;
    size_t pointers =
        decode ? (2 * XK_ATT_CHUNK * (sizeof(void *) + sizeof(xk_att_pf_run_t))) / sizeof(float)
               : 0;
    size_t sizes[12] = {
        decode ? heads * rows * dim_ld : dim * lanes,       /* q */
        decode ? heads * rows * dim_ld : dim * lanes,       /* o */
        decode ? rows * XK_ATT_CHUNK : XK_ATT_TILE * lanes, /* s */
        heads * lanes,                                      /* m */
        heads * lanes,                                      /* l */
        lanes,                                              /* corr */
        lanes,                                              /* lo */
        lanes,                                              /* hi */
        keys * dim_ld,                                      /* k */
        keys * dim_ld,                                      /* v */
        dim_ld,                                             /* row */
        pointers,                                           /* ptrs */
    };
    float *ptr[12];
    size_t at = 0;
    for (int i = 0; i < 12; i++) {
        ptr[i] = base ? base + at : NULL;
        at += xk_round16(sizes[i]);
    }
    xk_att_layout_t out = {ptr[0],
                           ptr[1],
                           ptr[2],
                           ptr[3],
                           ptr[4],
                           ptr[5],
                           (int32_t *)(void *)ptr[6],
                           (int32_t *)(void *)ptr[7],
                           ptr[8],
                           ptr[9],
                           ptr[10],
                           (const void **)(void *)ptr[11],
                           at};
    return out;
}

/* K and V rows [j0, j0 + keys) of (sequence, kv head) as f32: in place when f32 and one run of
 * rows, else converted (or gathered from the blocks) into the scratch rows. */
static void tile_kv(const xk_att_ukernel_t *uk, const xk_attention_problem_t *p,
                    const xk_att_seq_t *s, const xk_att_layout_t *l, int64_t kvh, int64_t j0,
                    size_t keys, xk_att_tile_t *t) {
    if (p->dtype == XHAL_DTYPE_F32 && xk_att_kv_run(p, s, j0, (int64_t)keys) == (int64_t)keys) {
        t->k = (const float *)p->k + xk_att_kv_offset(p, s, 0, kvh, j0);
        t->v = (const float *)p->v + xk_att_kv_offset(p, s, 1, kvh, j0);
        t->ldk = (size_t)p->k_strides.seq;
        t->ldv = (size_t)p->v_strides.seq;
        return;
    }
    size_t dim = (size_t)p->head_dim, ld = xk_round16(dim);
    for (int64_t t0 = j0, end = j0 + (int64_t)keys; t0 < end;) {
        int64_t run = xk_att_kv_run(p, s, t0, end - t0);
        size_t at = (size_t)(t0 - j0) * ld;
        uk->convert(l->k + at, ld,
                    xk_att_element(p->k, p->dtype, xk_att_kv_offset(p, s, 0, kvh, t0)),
                    p->k_strides.seq, p->dtype, (size_t)run, dim);
        uk->convert(l->v + at, ld,
                    xk_att_element(p->v, p->dtype, xk_att_kv_offset(p, s, 1, kvh, t0)),
                    p->v_strides.seq, p->dtype, (size_t)run, dim);
        t0 += run;
    }
    t->k = l->k;
    t->v = l->v;
    t->ldk = t->ldv = ld;
}

/* The K and V rows [j0, min(j0 + count, end)) of (sequence, kvh) within one run, to prefetch. */
static xk_att_prefetch_t prefetch_rows(const xk_attention_problem_t *p, const xk_att_seq_t *s,
                                       int64_t kvh, int64_t j0, int64_t count, int64_t end) {
    xk_att_prefetch_t pf = {0};
    if (j0 >= end) return pf;
    size_t es = p->dtype == XHAL_DTYPE_F32 ? 4 : 2;
    pf.k = xk_att_element(p->k, p->dtype, xk_att_kv_offset(p, s, 0, kvh, j0));
    pf.v = xk_att_element(p->v, p->dtype, xk_att_kv_offset(p, s, 1, kvh, j0));
    pf.ldk = (size_t)p->k_strides.seq * es;
    pf.ldv = (size_t)p->v_strides.seq * es;
    pf.rows = (size_t)xk_att_kv_run(p, s, j0, xk_min64(count, end - j0));
    pf.lines = ((size_t)p->head_dim * es + 63) / 64;
    return pf;
}

void xk_att_prefill_task(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                         const xk_att_task_t *task, float *scratch) {
    const xk_att_ukernel_t *uk = xk_att_ukernel();
    xk_att_layout_t l = xk_att_layout(p, plan, 0, scratch);
    const xk_att_seq_t *s = &p->seqs[task->seq];
    const xk_att_seq_plan_t *sp = &plan->seqs[task->seq];
    int64_t kvh = task->unit, i0 = task->part * sp->positions;
    int64_t n = xk_min64(sp->positions, s->len_q - i0);
    size_t dim = (size_t)p->head_dim, rows = (size_t)(plan->group * n), lanes = xk_round16(rows);
    float qscale = xk_att_q_scale(p);

    /* Row r is query head kvh * group + r / n at position i0 + r % n. */
    for (size_t r = 0; r < lanes; r++) {
        if (r < rows) {
            int64_t h = kvh * plan->group + (int64_t)r / n, pos = i0 + (int64_t)r % n;
            xk_att_load_q(uk, l.row, p, s->q + h * p->q_strides.head + pos * p->q_strides.seq,
                          qscale);
        } else {
            memset(l.row, 0, dim * sizeof *l.row); /* padding lanes: finite, never stored */
        }
        for (size_t x = 0; x < dim; x++)
            l.q[x * lanes + r] = l.row[x];
        l.m[r] = -INFINITY;
        l.l[r] = 0.0f;
    }
    memset(l.o, 0, dim * lanes * sizeof *l.o);

    xk_att_tile_t t = {.dim = dim,
                       .lanes = lanes,
                       .qt = l.q,
                       .s = l.s,
                       .ot = l.o,
                       .m = l.m,
                       .l = l.l,
                       .cap = xk_att_cap(p)};
    /* The keys the block's rows see: from the first row's start to the last row's end. Tiles
     * are aligned to TILE keys so that a paged block of a multiple of TILE is read in place. */
    int64_t lo, hi, last_lo, end;
    xk_att_keys_seen(p, s, i0, &lo, &hi);
    xk_att_keys_seen(p, s, i0 + n - 1, &last_lo, &end);
    for (int64_t j0 = lo - lo % XK_ATT_TILE; j0 < end; j0 += XK_ATT_TILE) {
        t.keys = (size_t)xk_min64(XK_ATT_TILE, end - j0);
        int masked = xk_att_tile_mask(p, s, l.lo, l.hi, lanes, rows, i0, n, j0, t.keys);
        t.lo = masked ? l.lo : NULL;
        t.hi = masked ? l.hi : NULL;
        tile_kv(uk, p, s, &l, kvh, j0, t.keys, &t);
        t.pf = prefetch_rows(p, s, kvh, j0 + XK_ATT_TILE, XK_ATT_TILE, end);
        uk->prefill_tile(&t);
    }

    for (size_t r = 0; r < rows; r++) {
        int64_t h = kvh * plan->group + (int64_t)r / n, pos = i0 + (int64_t)r % n;
        for (size_t x = 0; x < dim; x++)
            l.row[x] = l.o[x * lanes + r];
        xk_att_store_row(p, s, h, pos, l.row, l.m[r], l.l[r]);
    }
}

void xk_attention_run(const xk_attention_problem_t *p, const xk_attention_plan_t *plan, size_t task,
                      float *scratch, float *partial) {
    const xk_att_task_t *t = &plan->task_list[task];
    if (plan->seqs[t->seq].decode)
        xk_att_decode_task(p, plan, t, scratch, partial);
    else
        xk_att_prefill_task(p, plan, t, scratch);
}
