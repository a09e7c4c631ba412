/*
 * The attention driver (see attention_kernel.h): plans the tasks, lays out each thread's
 * scratch, moves Q in and O out (converting dtypes, transposing for the prefill lanes), walks
 * the tiles of keys with their causal masks, and merges decode splits. The arithmetic on tiles
 * is the microkernels' (attention_ukernel.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention_kernel.h"
#include "attention_ukernel.h"
#include "isa.h"

/* Keys per prefill tile: a tile's scores (TILE x lanes) and K and V rows stay in L1/L2. */
#define TILE 64
/* Query rows (positions x heads of a group) a prefill task aims for: K and V tiles are read
 * once per this many rows, and the causal diagonal wastes at most half a tile per task. */
#define LANES_TARGET 64
/* Keys per decode chunk, and the fewest keys worth a split of their own. */
#define CHUNK 64
#define MIN_SPLIT_KEYS 512
/* Decode aims for this many tasks per thread, so a slow core does not hold up the others. */
#define TASKS_PER_THREAD 8
/* Decode: the most floats of Q and O scratch a block of heads may take (512 KB). */
#define HEAD_BLOCK_FLOATS (128 * 1024)

static const double LOG2E = 1.44269504088896340736;

/* The path of the ISA the CPU kernels use (isa.h: CPUID, lowered by XHAL_CPU_ISA), or the next
 * one down when this compiler could not build it. Cheap: xk_isa() is computed once. */
static const xk_att_ukernel_t *ukernel(void) {
    xk_isa_t isa = xk_isa();
    if (isa >= XK_ISA_AVX512 && xk_att_ukernel_avx512.prefill_tile) return &xk_att_ukernel_avx512;
    if (isa >= XK_ISA_AVX2 && xk_att_ukernel_avx2.prefill_tile) return &xk_att_ukernel_avx2;
    return &xk_att_ukernel_generic;
}

const char *xk_attention_isa(void) {
    return ukernel()->isa;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

static size_t round16(size_t n) {
    return (n + 15) / 16 * 16;
}

/* How many keys (a prefix of 0 .. seq_kv-1) query position i sees. */
static int64_t visible_keys(const xk_attention_problem_t *p, int64_t i) {
    if (!p->causal) return p->seq_kv;
    return min64(max64(i + 1 + p->seq_kv - p->seq_q, 0), p->seq_kv);
}

static int64_t row_offset(const xhal_attention_strides_t *s, int64_t b, int64_t h, int64_t pos) {
    return b * s->batch + h * s->head + pos * s->seq;
}

static const void *element(const void *base, xhal_dtype_t type, int64_t offset) {
    return (const char *)base + offset * (type == XHAL_DTYPE_F32 ? 4 : 2);
}

/* The pieces of a thread's scratch, each a whole number of 64-byte lines. */
typedef struct {
    float *q; /* prefill: Q^T (dim x lanes); decode: Q (rows x dim_ld) per head of the block */
    float *o; /* prefill: O^T (dim x lanes); decode: O (rows x dim_ld) per head of the block */
    float *s; /* scores: TILE x lanes, or rows x CHUNK */
    float *m, *l, *corr; /* decode: m and l for each head of the block, lanes apart */
    int32_t *visible;
    float *k, *v; /* K and V rows converted to f32 (16-bit dtypes) */
    float *row;   /* one row of Q or O on its way in or out */
    size_t floats;
} layout_t;

static layout_t layout(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                       float *base) {
    size_t dim = (size_t)p->head_dim, dim_ld = round16(dim);
    size_t rows =
        plan->decode ? (size_t)(plan->group * p->seq_q) : (size_t)(plan->group * plan->positions);
    size_t lanes = round16(rows), heads = plan->decode ? (size_t)plan->head_block : 1;
    size_t keys = plan->decode ? CHUNK : TILE;
    size_t sizes[10] = {
        plan->decode ? heads * rows * dim_ld : dim * lanes, /* q */
        plan->decode ? heads * rows * dim_ld : dim * lanes, /* o */
        plan->decode ? rows * CHUNK : TILE * lanes,         /* s */
        heads * lanes,                                      /* m */
        heads * lanes,                                      /* l */
        lanes,                                              /* corr */
        lanes,                                              /* visible */
        keys * dim_ld,                                      /* k */
        keys * dim_ld,                                      /* v */
        dim_ld,                                             /* row */
    };
    float *ptr[10];
    size_t at = 0;
    for (int i = 0; i < 10; i++) {
        ptr[i] = base ? base + at : NULL;
        at += round16(sizes[i]);
    }
    layout_t out = {ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], (int32_t *)(void *)ptr[6],
                    ptr[7], ptr[8], ptr[9], at};
    return out;
}

void xk_attention_plan(const xk_attention_problem_t *p, size_t threads, xk_attention_plan_t *out) {
    memset(out, 0, sizeof *out);
    out->group = p->heads_q / p->heads_kv;
    int64_t pairs = p->batch * p->heads_kv;
    if (p->seq_q <= XK_ATT_DECODE_MAX_SEQ) {
        out->decode = 1;
        /* Heads next to each other in memory (BSHD): walk them together, so a task streams
         * through whole runs of rows; heads apart (BHSD): one head per task is already a run. */
        size_t per_head = 2 * (size_t)(out->group * p->seq_q) * round16((size_t)p->head_dim);
        out->head_block = 1;
        if (p->k_strides.head < p->k_strides.seq && p->v_strides.head < p->v_strides.seq)
            out->head_block = min64(p->heads_kv, max64(1, (int64_t)(HEAD_BLOCK_FLOATS / per_head)));
        int64_t blocks = p->batch * ((p->heads_kv + out->head_block - 1) / out->head_block);
        int64_t want = (int64_t)(threads * TASKS_PER_THREAD);
        int64_t splits = (want + blocks - 1) / blocks;
        splits = min64(splits, (p->seq_kv + MIN_SPLIT_KEYS - 1) / MIN_SPLIT_KEYS);
        splits = max64(splits, 1);
        int64_t keys = (p->seq_kv + splits - 1) / splits;
        out->split_keys = (keys + CHUNK - 1) / CHUNK * CHUNK;
        out->splits = (p->seq_kv + out->split_keys - 1) / out->split_keys;
        out->tasks = (size_t)(blocks * out->splits);
        if (out->splits > 1) {
            out->combine_tasks = (size_t)pairs;
            out->partial_floats = (size_t)(pairs * out->splits) * (size_t)(out->group * p->seq_q) *
                                  (size_t)(p->head_dim + 2);
        }
    } else {
        out->positions = min64(max64(LANES_TARGET / out->group, 1), p->seq_q);
        out->blocks = (p->seq_q + out->positions - 1) / out->positions;
        out->tasks = (size_t)(pairs * out->blocks);
    }
    out->scratch_floats = layout(p, out, NULL).floats;
}

/* Converts one row of `src` to f32 and multiplies it by `scale`. */
static void load_row(const xk_att_ukernel_t *uk, float *dst, const xk_attention_problem_t *p,
                     const void *base, int64_t offset, float scale) {
    uk->convert(dst, 0, element(base, p->dtype, offset), 0, p->dtype, 1, (size_t)p->head_dim);
    for (int64_t x = 0; x < p->head_dim; x++)
        dst[x] *= scale;
}

/* Writes out[x] / sum (or zeros when the row saw no key) to row `offset` of O. */
static void store_row(const xk_attention_problem_t *p, int64_t offset, float *out, float sum,
                      int64_t seen) {
    float inverse = seen > 0 && sum > 0.0f ? 1.0f / sum : 0.0f;
    size_t dim = (size_t)p->head_dim;
    for (size_t x = 0; x < dim; x++)
        out[x] = seen > 0 ? out[x] * inverse : 0.0f;
    void *dst = (char *)p->o + offset * (p->dtype == XHAL_DTYPE_F32 ? 4 : 2);
    if (p->dtype == XHAL_DTYPE_F32) {
        memcpy(dst, out, dim * sizeof *out);
    } else {
        uint16_t *d = dst;
        for (size_t x = 0; x < dim; x++)
            d[x] = p->dtype == XHAL_DTYPE_BF16 ? xhal_f32_to_bf16(out[x]) : xhal_f32_to_f16(out[x]);
    }
}

/* K and V rows [j0, j0 + keys) of (b, kv head) as f32: in place when f32, else converted. */
static void kv_rows(const xk_att_ukernel_t *uk, const xk_attention_problem_t *p, const layout_t *s,
                    int64_t b, int64_t kvh, int64_t j0, size_t keys, const float **k, size_t *ldk,
                    const float **v, size_t *ldv) {
    int64_t ko = row_offset(&p->k_strides, b, kvh, j0), vo = row_offset(&p->v_strides, b, kvh, j0);
    if (p->dtype == XHAL_DTYPE_F32) {
        *k = (const float *)p->k + ko;
        *v = (const float *)p->v + vo;
        *ldk = (size_t)p->k_strides.seq;
        *ldv = (size_t)p->v_strides.seq;
        return;
    }
    size_t dim = (size_t)p->head_dim, ld = round16(dim);
    uk->convert(s->k, ld, element(p->k, p->dtype, ko), p->k_strides.seq, p->dtype, keys, dim);
    uk->convert(s->v, ld, element(p->v, p->dtype, vo), p->v_strides.seq, p->dtype, keys, dim);
    *k = s->k;
    *v = s->v;
    *ldk = *ldv = ld;
}

/*
 * Keys of [j0, j0 + keys) each of `count` lanes sees, relative to j0 (0..keys), where lane
 * r < valid is the query at position first_position + r % positions and the other lanes are
 * padding (they see everything, which keeps them finite): NULL when every lane sees all keys.
 */
static const int32_t *tile_visible(const xk_attention_problem_t *p, int32_t *out, size_t count,
                                   size_t valid, int64_t first_position, int64_t positions,
                                   int64_t j0, size_t keys) {
    if (!p->causal || j0 + (int64_t)keys <= visible_keys(p, first_position)) return NULL;
    for (size_t r = 0; r < count; r++) {
        int64_t seen = (int64_t)keys;
        if (r < valid)
            seen = min64(max64(visible_keys(p, first_position + (int64_t)r % positions) - j0, 0),
                         (int64_t)keys);
        out[r] = (int32_t)seen;
    }
    return out;
}

/* The K and V rows [j0, min(j0 + count, end)) of (b, kvh), for the kernels to prefetch. */
static xk_att_prefetch_t prefetch_rows(const xk_attention_problem_t *p, int64_t b, int64_t kvh,
                                       int64_t j0, int64_t count, int64_t end) {
    xk_att_prefetch_t pf = {0};
    if (j0 >= end) return pf;
    size_t es = p->dtype == XHAL_DTYPE_F32 ? 4 : 2;
    pf.k = element(p->k, p->dtype, row_offset(&p->k_strides, b, kvh, j0));
    pf.v = element(p->v, p->dtype, row_offset(&p->v_strides, b, kvh, j0));
    pf.ldk = (size_t)p->k_strides.seq * es;
    pf.ldv = (size_t)p->v_strides.seq * es;
    pf.rows = (size_t)min64(count, end - j0);
    pf.lines = ((size_t)p->head_dim * es + 63) / 64;
    return pf;
}

static void prefill_task(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                         size_t task, float *scratch) {
    const xk_att_ukernel_t *uk = ukernel();
    layout_t s = layout(p, plan, scratch);
    int64_t pairs = p->batch * p->heads_kv;
    /* The last blocks see the most keys under a causal mask: hand them out first. */
    int64_t block = plan->blocks - 1 - (int64_t)task / pairs;
    int64_t b = (int64_t)task % pairs / p->heads_kv, kvh = (int64_t)task % p->heads_kv;
    int64_t i0 = block * plan->positions, n = min64(plan->positions, p->seq_q - i0);
    size_t dim = (size_t)p->head_dim, rows = (size_t)(plan->group * n), lanes = round16(rows);
    float qscale = (float)(p->scale * LOG2E);

    /* Row r is query head kvh * group + r / n at position i0 + r % n. */
    for (size_t r = 0; r < lanes; r++) {
        if (r < rows) {
            int64_t h = kvh * plan->group + (int64_t)r / n, pos = i0 + (int64_t)r % n;
            load_row(uk, s.row, p, p->q, row_offset(&p->q_strides, b, h, pos), qscale);
        } else {
            memset(s.row, 0, dim * sizeof *s.row); /* padding lanes: finite, never stored */
        }
        for (size_t x = 0; x < dim; x++)
            s.q[x * lanes + r] = s.row[x];
        s.m[r] = -INFINITY;
        s.l[r] = 0.0f;
    }
    memset(s.o, 0, dim * lanes * sizeof *s.o);

    xk_att_tile_t t = {
        .dim = dim, .lanes = lanes, .qt = s.q, .s = s.s, .ot = s.o, .m = s.m, .l = s.l};
    int64_t end = visible_keys(p, i0 + n - 1); /* the last position sees the most */
    for (int64_t j0 = 0; j0 < end; j0 += TILE) {
        t.keys = (size_t)min64(TILE, end - j0);
        t.visible = tile_visible(p, s.visible, lanes, rows, i0, n, j0, t.keys);
        kv_rows(uk, p, &s, b, kvh, j0, t.keys, &t.k, &t.ldk, &t.v, &t.ldv);
        t.pf = prefetch_rows(p, b, kvh, j0 + TILE, TILE, end);
        uk->prefill_tile(&t);
    }

    for (size_t r = 0; r < rows; r++) {
        int64_t h = kvh * plan->group + (int64_t)r / n, pos = i0 + (int64_t)r % n;
        for (size_t x = 0; x < dim; x++)
            s.row[x] = s.o[x * lanes + r];
        store_row(p, row_offset(&p->o_strides, b, h, pos), s.row, s.l[r], visible_keys(p, pos));
    }
}

/*
 * Decode task: keys [k0, k0 + split_keys) of KV heads [h0, h0 + head_block) of one batch, chunk
 * by chunk and, within a chunk, head by head; each (chunk, head) step prefetches the next one's
 * rows. Row r of KV head kvh is query head kvh * group + r / seq_q at position r % seq_q.
 */
static void decode_task(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                        size_t task, float *scratch, float *partial) {
    const xk_att_ukernel_t *uk = ukernel();
    layout_t s = layout(p, plan, scratch);
    int64_t blocks = (p->heads_kv + plan->head_block - 1) / plan->head_block;
    int64_t split = (int64_t)task % plan->splits, block = (int64_t)task / plan->splits % blocks;
    int64_t b = (int64_t)task / plan->splits / blocks, n = p->seq_q;
    int64_t h0 = block * plan->head_block, heads = min64(plan->head_block, p->heads_kv - h0);
    size_t dim = (size_t)p->head_dim, dim_ld = round16(dim), rows = (size_t)(plan->group * n);
    size_t lanes = round16(rows), per_head = rows * dim_ld;
    float qscale = (float)(p->scale * LOG2E);

    memset(s.q, 0, (size_t)heads * per_head * sizeof *s.q);
    memset(s.o, 0, (size_t)heads * per_head * sizeof *s.o);
    for (int64_t x = 0; x < heads; x++)
        for (size_t r = 0; r < rows; r++) {
            int64_t h = (h0 + x) * plan->group + (int64_t)r / n, pos = (int64_t)r % n;
            load_row(uk, s.q + (size_t)x * per_head + r * dim_ld, p, p->q,
                     row_offset(&p->q_strides, b, h, pos), qscale);
            s.m[(size_t)x * lanes + r] = -INFINITY;
            s.l[(size_t)x * lanes + r] = 0.0f;
        }

    xk_att_chunk_t c = {.dim = dim,
                        .kv_type = XHAL_DTYPE_F32,
                        .rows = rows,
                        .ldq = dim_ld,
                        .s = s.s,
                        .lds = CHUNK,
                        .ldo = dim_ld,
                        .corr = s.corr};
    int64_t k0 = split * plan->split_keys;
    int64_t end = min64(k0 + plan->split_keys, visible_keys(p, n - 1));
    for (int64_t j0 = k0; j0 < end; j0 += CHUNK) {
        c.keys = (size_t)min64(CHUNK, end - j0);
        c.visible = tile_visible(p, s.visible, rows, rows, 0, n, j0, c.keys);
        for (int64_t x = 0; x < heads; x++) {
            c.q = s.q + (size_t)x * per_head;
            c.o = s.o + (size_t)x * per_head;
            c.m = s.m + (size_t)x * lanes;
            c.l = s.l + (size_t)x * lanes;
            if (p->dtype != XHAL_DTYPE_F32 && uk->decode_16bit) {
                /* The kernel reads 16-bit K and V itself: half the bytes of a converted copy,
                 * and no pass to make it. */
                c.k16 = (const uint16_t *)p->k + row_offset(&p->k_strides, b, h0 + x, j0);
                c.v16 = (const uint16_t *)p->v + row_offset(&p->v_strides, b, h0 + x, j0);
                c.ldk = (size_t)p->k_strides.seq;
                c.ldv = (size_t)p->v_strides.seq;
                c.kv_type = p->dtype;
            } else {
                kv_rows(uk, p, &s, b, h0 + x, j0, c.keys, &c.k, &c.ldk, &c.v, &c.ldv);
            }
            c.pf = x + 1 < heads ? prefetch_rows(p, b, h0 + x + 1, j0, CHUNK, end)
                                 : prefetch_rows(p, b, h0, j0 + CHUNK, CHUNK, end);
            uk->decode_chunk(&c);
        }
    }

    for (int64_t x = 0; x < heads; x++) {
        const float *o = s.o + (size_t)x * per_head, *m = s.m + (size_t)x * lanes;
        const float *l = s.l + (size_t)x * lanes;
        int64_t kvh = h0 + x;
        if (plan->splits == 1) {
            for (size_t r = 0; r < rows; r++) {
                int64_t h = kvh * plan->group + (int64_t)r / n, pos = (int64_t)r % n;
                memcpy(s.row, o + r * dim_ld, dim * sizeof *s.row);
                store_row(p, row_offset(&p->o_strides, b, h, pos), s.row, l[r],
                          visible_keys(p, pos));
            }
            continue;
        }
        /* The partial of (batch, KV head, split): m[rows], l[rows], then O[rows][dim]. */
        size_t pair = (size_t)(b * p->heads_kv + kvh);
        float *out = partial + (pair * (size_t)plan->splits + (size_t)split) * rows * (dim + 2);
        memcpy(out, m, rows * sizeof *out);
        memcpy(out + rows, l, rows * sizeof *out);
        for (size_t r = 0; r < rows; r++)
            memcpy(out + 2 * rows + r * dim, o + r * dim_ld, dim * sizeof *out);
    }
}

void xk_attention_run(const xk_attention_problem_t *p, const xk_attention_plan_t *plan, size_t task,
                      float *scratch, float *partial) {
    if (plan->decode)
        decode_task(p, plan, task, scratch, partial);
    else
        prefill_task(p, plan, task, scratch);
}

void xk_attention_combine(const xk_attention_problem_t *p, const xk_attention_plan_t *plan,
                          size_t task, float *scratch, const float *partial) {
    layout_t s = layout(p, plan, scratch);
    int64_t b = (int64_t)task / p->heads_kv, kvh = (int64_t)task % p->heads_kv, n = p->seq_q;
    size_t dim = (size_t)p->head_dim, rows = (size_t)(plan->group * n);
    size_t each = rows * (dim + 2);
    const float *first = partial + task * (size_t)plan->splits * each;
    for (size_t r = 0; r < rows; r++) {
        float top = -INFINITY;
        for (int64_t k = 0; k < plan->splits; k++)
            top = fmaxf(top, first[(size_t)k * each + r]);
        float sum = 0.0f;
        memset(s.row, 0, dim * sizeof *s.row);
        for (int64_t k = 0; k < plan->splits && top > -INFINITY; k++) {
            const float *split = first + (size_t)k * each;
            if (split[r] == -INFINITY) continue; /* this split saw no key of the row */
            float w = exp2f(split[r] - top);
            sum += w * split[rows + r];
            const float *o = split + 2 * rows + r * dim;
            for (size_t x = 0; x < dim; x++)
                s.row[x] += w * o[x];
        }
        int64_t h = kvh * plan->group + (int64_t)r / n, pos = (int64_t)r % n;
        store_row(p, row_offset(&p->o_strides, b, h, pos), s.row, sum, visible_keys(p, pos));
    }
}
