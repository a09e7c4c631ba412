/*
 * Attention: O = softmax(scale * Q K^T + mask) V per (sequence, query head), f32 math, with the
 * serving features of xhal.h: packed variable-length Q and K/V, per-sequence KV lengths, a paged
 * K/V pool, a sliding window, soft-capping and the log-sum-exp output.
 *
 * Both paths keep, per query row, the running maximum m, the running sum l of exp(s - m) and
 * the running output acc = sum exp(s - m) v (FlashAttention's online softmax): when a block of
 * keys raises the maximum from m to m', what was summed so far is rescaled by exp(m - m'), so
 * no row of scores is ever held whole. Scores are kept in base 2 (Q is multiplied by
 * scale * log2(e) once, or by scale / softcap when the scores are capped, the cap then being
 * softcap * log2(e)), so each exponential is one exp2.
 *
 * Query i of a sequence with len_q queries and len_kv keys sees keys [lo, hi) (keys_seen):
 * causal, bottom-right aligned, and the window. A row that sees no key is written as zeros, its
 * LSE as -inf.
 *
 * Index buffers are the caller's data: every offset, length and block index read from them is
 * clamped (seq_of, kv_rows) to the tensors, so a bad entry changes which rows a sequence covers
 * but never sends a kernel outside its buffers. K/V rows past a sequence's length, Q rows no
 * sequence names and pool blocks a sequence's table row does not name are never read.
 *
 * Sequences with at most dec_max_q queries take the decode path, the others prefill; with
 * packed queries one op may hold both, and each kernel skips the sequences of the other.
 *
 * Prefill (attn_pack_kv_* then attn_prefill_*): the keys a sequence's queries see are first
 * packed to f32 scratch per KV head, K transposed in blocks of XV keys (Kt[block][d][XV]) and V
 * with rows padded to dp (a multiple of XV), read through the block table when paged. A
 * work-item then owns ATT_BQ query rows and walks the key blocks they see:
 *   S (ATT_BQ x XV)   = Q_rows Kt_block           one vector load and ATT_BQ FMAs per d
 *   acc (ATT_BQ x dp) += P V_block                 one vector load and ATT_BQ FMAs per key
 * which is register-blocked and contiguous like the GEMM tile kernel. Only blocks that cross a
 * row's [lo, hi) are masked. With packed Q a work-item owns ATT_BQ packed rows and runs them
 * sequence by sequence (a block that straddles two sequences runs twice, with fewer rows).
 *
 * Decode (attn_decode_* then attn_combine_*): few query rows over a long KV cache, so the work is
 * split over the keys instead (split-KV): a work-item owns one chunk (of `chunks`) of the keys of
 * one sequence and rows of one KV head (the query heads of a GQA group and their positions
 * together, so K and V are read once for all of them), reading K and V in their own dtype and
 * layout, and writes each row's partial (m, l, acc). The combine pass merges a row's chunks.
 *
 * Compile-time parameters: XV, ATT_BQ, ATT_DEC_RB, ATT_DMAX (the largest head_dim, 256).
 */

#define LOG_ZERO (-INFINITY)
#define LN2 0.693147180559945309f

/* ---- The op ---- */

/*
 * What every attention kernel gets besides its buffers, as vectors so that the host's
 * cl_long16 / cl_int16 / cl_long8 / cl_float2 match them by construction:
 *   geo   element offset, then the batch, head and seq strides, of Q, K, V and O
 *   cfg   seq_q, seq_kv, head_dim, dp, group, heads_kv, heads_q, causal, window (0: none,
 *         else at most seq_kv), block_size, num_blocks, block_table_stride, dec_max_q, batch,
 *         kv_blocks (prefill scratch blocks per sequence), total_blocks (per KV head)
 *   offs  element offsets of cu_seqlens_q, cu_seqlens_kv, seqlens_kv, block_table and lse
 *   sc    the factor Q is multiplied by, and the cap (0: none), both in base 2
 */
#define ATTN_PARAMS                                                                                \
    const __global uchar *q, const __global uchar *k, const __global uchar *v, __global uchar *o,  \
        __global float *lse, const __global int *cu_q, const __global int *cu_kv,                  \
        const __global int *lens_kv, const __global int *table, long16 geo, int16 cfg, long8 offs, \
        float2 sc
#define ATTN_ARGS q, k, v, o, lse, cu_q, cu_kv, lens_kv, table, geo, cfg, offs, sc

typedef struct attn {
    long q_off, qb, qh, qs, k_off, kb, kh, ks, v_off, vb, vh, vs, o_off, ob, oh, os;
    int seq_q, seq_kv, head_dim, dp, group, heads_kv, heads_q, causal, window, block_size,
        num_blocks, table_stride, dec_max_q, batch, kv_blocks, total_blocks;
    float q_scale, cap;
    /* NULL where the op has none; else at the entry the offsets name */
    const __global int *cu_q, *cu_kv, *lens, *table;
    __global float *lse;
} attn_t;

inline attn_t attn_make(ATTN_PARAMS) {
    attn_t a;
    a.q_off = geo.s0, a.qb = geo.s1, a.qh = geo.s2, a.qs = geo.s3;
    a.k_off = geo.s4, a.kb = geo.s5, a.kh = geo.s6, a.ks = geo.s7;
    a.v_off = geo.s8, a.vb = geo.s9, a.vh = geo.sa, a.vs = geo.sb;
    a.o_off = geo.sc, a.ob = geo.sd, a.oh = geo.se, a.os = geo.sf;
    a.seq_q = cfg.s0, a.seq_kv = cfg.s1, a.head_dim = cfg.s2, a.dp = cfg.s3;
    a.group = cfg.s4, a.heads_kv = cfg.s5, a.heads_q = cfg.s6, a.causal = cfg.s7;
    a.window = cfg.s8, a.block_size = cfg.s9, a.num_blocks = cfg.sa, a.table_stride = cfg.sb;
    a.dec_max_q = cfg.sc, a.batch = cfg.sd, a.kv_blocks = cfg.se, a.total_blocks = cfg.sf;
    a.q_scale = sc.x, a.cap = sc.y;
    a.cu_q = cu_q ? cu_q + offs.s0 : cu_q;
    a.cu_kv = cu_kv ? cu_kv + offs.s1 : cu_kv;
    a.lens = lens_kv ? lens_kv + offs.s2 : lens_kv;
    a.table = table ? table + offs.s3 : table;
    a.lse = lse ? lse + offs.s4 : lse;
    return a;
}

/* ---- Sequences: where their rows are, clamped to the tensors ---- */

typedef struct seq {
    int len_q, len_kv;
    int kv_start; /* first row of packed K/V (0 otherwise) */
    long q, o;    /* element offset of (head 0, query 0) in Q and O */
    long lse;     /* index of (head 0, query 0) in the LSE and the decode partials */
    long k, v;    /* element offset of (head 0, key 0) in K and V; of the pool when paged */
    long table;   /* first entry of its block-table row; -1 when K/V are not paged */
} seq_t;

/* Sequence b's first packed query row (clamped), the key of the search over packed rows. */
inline int q_start(const attn_t *a, int b) {
    return clamp(a->cu_q[b], 0, a->seq_q);
}

/* Offsets from cu_seqlens_* are clamped to the rows the tensors hold and lengths to 0 .. seq_kv,
 * which a block-table row covers (max_blocks_per_seq * block_size >= seq_kv). */
inline seq_t seq_of(const attn_t *a, int b) {
    seq_t s;
    if (a->cu_q) {
        int start = q_start(a, b);
        s.len_q = clamp(a->cu_q[b + 1], start, a->seq_q) - start;
        s.q = a->q_off + start * a->qs;
        s.o = a->o_off + start * a->os;
        s.lse = start;
    } else {
        s.len_q = a->seq_q;
        s.q = a->q_off + b * a->qb;
        s.o = a->o_off + b * a->ob;
        s.lse = (long)b * a->heads_q * a->seq_q;
    }
    s.kv_start = 0;
    s.table = -1;
    s.k = a->k_off;
    s.v = a->v_off;
    if (a->cu_kv) {
        s.kv_start = clamp(a->cu_kv[b], 0, a->seq_kv);
        s.len_kv = clamp(a->cu_kv[b + 1], s.kv_start, a->seq_kv) - s.kv_start;
        s.k += s.kv_start * a->ks;
        s.v += s.kv_start * a->vs;
    } else {
        s.len_kv = a->lens ? clamp(a->lens[b], 0, a->seq_kv) : a->seq_kv;
        if (a->table) {
            s.table = (long)b * a->table_stride;
        } else {
            s.k += b * a->kb;
            s.v += b * a->vb;
        }
    }
    return s;
}

/* First prefill scratch block of sequence b (of the group from b0): packed K/V get blocks from
 * their first row's, plus one per sequence (room for the rounding), the others kv_blocks each. */
inline long kv_block_base(const attn_t *a, const seq_t *s, int b, int b0) {
    return a->cu_kv ? s->kv_start / XV + b : (long)(b - b0) * a->kv_blocks;
}

/*
 * The largest b in [lo, hi) whose key is <= `key` (lo when none): the sequence holding packed
 * query row `key` (kv 0), or prefill scratch block `key` (kv 1). Garbage offsets make the keys
 * unordered; the search still ends, on some sequence, whose rows are then checked.
 */
inline int find_seq(const attn_t *a, int lo, int hi, long key, int kv) {
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        long at = kv ? clamp(a->cu_kv[mid], 0, a->seq_kv) / XV + mid : q_start(a, mid);
        if (at <= key)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Keys [lo, hi) query i of sequence s sees (causal, window; empty when lo == hi). */
inline int2 keys_seen(const attn_t *a, const seq_t *s, int i) {
    int pos = i + s->len_kv - s->len_q; /* bottom-right: the last query sits on the last key */
    int end = a->causal ? min(max(pos + 1, 0), s->len_kv) : s->len_kv;
    int start = a->window > 0 ? min(max(pos - a->window + 1, 0), s->len_kv) : 0;
    return (int2)(min(start, end), end);
}

/*
 * Element offsets of the K and V rows of keys t0 .. t0 + count - 1 (< len_kv) of KV head hk.
 * Paged: one division per call, then the token steps through the blocks; each block index
 * read is clamped into the pool.
 */
inline void kv_rows(const attn_t *a, const seq_t *s, int hk, int t0, int count, long *krow,
                    long *vrow) {
    if (s->table < 0) {
        long kr = s->k + hk * a->kh + t0 * a->ks, vr = s->v + hk * a->vh + t0 * a->vs;
        for (int j = 0; j < count; j++) {
            krow[j] = kr + j * a->ks;
            vrow[j] = vr + j * a->vs;
        }
        return;
    }
    int blk = t0 / a->block_size, tok = t0 - blk * a->block_size, have = -1;
    long kr = 0, vr = 0;
    for (int j = 0; j < count; j++, tok++) {
        if (tok == a->block_size) {
            blk++;
            tok = 0;
        }
        if (blk != have) {
            long id = clamp(a->table[s->table + blk], 0, a->num_blocks - 1);
            kr = s->k + id * a->kb + hk * a->kh;
            vr = s->v + id * a->vb + hk * a->vh;
            have = blk;
        }
        krow[j] = kr + tok * a->ks;
        vrow[j] = vr + tok * a->vs;
    }
}

/* ---- Pieces both paths share ---- */

/*
 * Folds one block of scores s (base 2, keys key_base .. key_base + XV - 1) into a row's running
 * state: caps them, masks lanes outside [lo, hi) when `masked` (after the cap: a capped -inf is
 * finite). Returns the factor the row's acc must be scaled by, and writes the block's weights
 * to p[0 .. XV).
 */
inline float online_update(floatX s, int key_base, int lo, int hi, int masked, float cap, float *m,
                           float *l, float *p) {
    if (cap > 0.0f) s = (floatX)(cap)*tanh(s);
    if (masked) {
        intX key = LANE_IDS + (intX)(key_base);
        s = select(s, (floatX)(LOG_ZERO), (key < (intX)(lo)) | (key >= (intX)(hi)));
    }
    float m_new = fmax(*m, hmaxX(s));
    if (m_new == LOG_ZERO) { /* nothing seen yet: exp2(-inf - -inf) would be NaN */
        vstoreX((floatX)(0.0f), 0, p);
        return 1.0f;
    }
    float correction = exp2(*m - m_new); /* 0 on the first block (m = -inf) */
    floatX w = exp2(s - (floatX)(m_new));
    *l = *l * correction + hsumX(w);
    *m = m_new;
    vstoreX(w, 0, p);
    return correction;
}

/* XV elements of a row from `i`, of which `count` (< XV) exist: the rest read as zeros. */
inline floatX load_partial(const __global uchar *base, long i, int count, const int dt) {
    float lanes[XV];
    for (int t = 0; t < XV; t++)
        lanes[t] = t < count ? load1(base, i + t, dt) : 0.0f;
    return vloadX(0, lanes);
}

/* Query i of head h, times the Q factor, into qs[0 .. dp) (zeros past head_dim). */
inline void load_q(const attn_t *a, const seq_t *s, const __global uchar *q, int h, int i,
                   float *qs, const int dt) {
    long row = s->q + h * a->qh + i * a->qs;
    for (int d = 0; d < a->dp; d++)
        qs[d] = d < a->head_dim ? load1(q, row + d, dt) * a->q_scale : 0.0f;
}

/* Writes row (h, i) of O, acc / l (zeros when the row saw no key), and its LSE. */
inline void store_row(const attn_t *a, const seq_t *s, __global uchar *o, int h, int i,
                      const float *acc, float m, float l, const int dt) {
    long row = s->o + h * a->oh + i * a->os;
    float inv = l > 0.0f ? 1.0f / l : 0.0f;
    int d = 0;
    for (; d + XV <= a->head_dim; d += XV)
        storeX(o, row + d, vloadX(0, acc + d) * inv, dt);
    for (; d < a->head_dim; d++)
        store1(o, row + d, acc[d] * inv, dt);
    if (a->lse) a->lse[s->lse + (long)h * a->seq_q + i] = l > 0.0f ? (m + log2(l)) * LN2 : LOG_ZERO;
}

/* ---- Prefill: pack K and V ---- */

/*
 * Global size: (blocks, heads_kv, sequences of the group from b0), or (total_blocks, heads_kv, 1)
 * for packed K/V, whose blocks are found by search. Block kb of sequence b and KV head hk:
 * Kt[hk][base + kb][d][j] = K[key kb * XV + j][d], Vp[hk][base + kb][j][d] = V[key][d], zeros
 * for keys >= len_kv and for d >= head_dim in Vp. Only the blocks its queries see are packed.
 */
inline void pack_kv_body(ATTN_PARAMS, int b0, __global float *kt, __global float *vp,
                         const int dt) {
    attn_t a = attn_make(ATTN_ARGS);
    int u = get_global_id(0), hk = get_global_id(1);
    int b = a.cu_kv ? find_seq(&a, 0, a.batch, u, 1) : b0 + (int)get_global_id(2);
    seq_t s = seq_of(&a, b);
    long base = kv_block_base(&a, &s, b, b0);
    long kb = a.cu_kv ? u - base : u;
    if (s.len_q <= a.dec_max_q) return; /* no queries, or the decode path's */
    int lo = keys_seen(&a, &s, 0).x, hi = keys_seen(&a, &s, s.len_q - 1).y;
    if (kb < lo / XV || kb * XV >= hi) return;

    int t0 = (int)kb * XV, keys = min(XV, s.len_kv - t0);
    long krow[XV], vrow[XV];
    kv_rows(&a, &s, hk, t0, keys, krow, vrow);
    long block = (long)hk * a.total_blocks + base + kb;
    __global float *kt_block = kt + block * a.head_dim * XV;
    __global float *vp_block = vp + block * XV * a.dp;
    for (int j = 0; j < XV; j++) {
        __global float *vp_row = vp_block + j * a.dp;
        if (j >= keys) {
            for (int d = 0; d < a.head_dim; d++)
                kt_block[d * XV + j] = 0.0f;
            for (int d = 0; d < a.dp; d++)
                vp_row[d] = 0.0f;
            continue;
        }
        for (int d = 0; d < a.head_dim; d++)
            kt_block[d * XV + j] = load1(k, krow[j] + d, dt);
        int d = 0;
        for (; d + XV <= a.head_dim; d += XV)
            vstoreX(loadX(v, vrow[j] + d, dt), 0, vp_row + d);
        for (; d < a.dp; d++)
            vp_row[d] = d < a.head_dim ? load1(v, vrow[j] + d, dt) : 0.0f;
    }
}

#define PACK_KV_KERNEL(NAME, DT)                                                                   \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(                             \
        ATTN_PARAMS, int b0, __global float *kt, __global float *vp) {                             \
        pack_kv_body(ATTN_ARGS, b0, kt, vp, (DT));                                                 \
    }

PACK_KV_KERNEL(attn_pack_kv_f32, DT_F32)
PACK_KV_KERNEL(attn_pack_kv_f16, DT_F16)
PACK_KV_KERNEL(attn_pack_kv_bf16, DT_BF16)

/* ---- Prefill: the blocked kernel ---- */

/* Rows i0 .. i0 + rows - 1 (rows <= ATT_BQ) of query head h of sequence s, over its packed K/V. */
inline void prefill_rows(const attn_t *a, const seq_t *s, int h, int i0, int rows,
                         const __global uchar *q, const __global float *kt,
                         const __global float *vp, __global uchar *o, const int dt) {
    float qs[ATT_BQ][ATT_DMAX];
    float acc[ATT_BQ][ATT_DMAX];
    float m[ATT_BQ], l[ATT_BQ], p[ATT_BQ][XV];
    int lo[ATT_BQ], hi[ATT_BQ];
    for (int i = 0; i < ATT_BQ; i++) {
        int2 seen = i < rows ? keys_seen(a, s, i0 + i) : (int2)(0, 0);
        lo[i] = seen.x;
        hi[i] = seen.y;
        if (i < rows)
            load_q(a, s, q, h, i0 + i, qs[i], dt);
        else
            for (int d = 0; d < a->dp; d++)
                qs[i][d] = 0.0f;
        for (int d = 0; d < a->dp; d++)
            acc[i][d] = 0.0f;
        m[i] = LOG_ZERO;
        l[i] = 0.0f;
    }

    /* lo and hi grow with the query: the first row's lo and the last row's hi bound the walk;
     * blocks inside every row's [lo, hi) need no mask (padding rows see all there is). */
    int dp = a->dp, head_dim = a->head_dim;
    int lo_last = lo[rows - 1], hi_first = hi[0];
    for (int kb = lo[0] / XV; kb * XV < hi[rows - 1]; kb++) {
        int key_base = kb * XV;
        const __global float *kt_block = kt + (long)kb * head_dim * XV;
        floatX s[ATT_BQ];
#pragma unroll
        for (int i = 0; i < ATT_BQ; i++)
            s[i] = (floatX)(0.0f);
        for (int d = 0; d < head_dim; d++) {
            floatX kv = vloadX(0, kt_block + d * XV);
#pragma unroll
            for (int i = 0; i < ATT_BQ; i++)
                s[i] = fma((floatX)(qs[i][d]), kv, s[i]);
        }

        int masked = key_base < lo_last || key_base + XV > hi_first;
        float correction[ATT_BQ];
#pragma unroll
        for (int i = 0; i < ATT_BQ; i++)
            correction[i] =
                online_update(s[i], key_base, lo[i], hi[i], masked, a->cap, &m[i], &l[i], p[i]);

        const __global float *v_block = vp + (long)kb * XV * dp;
        for (int c = 0; c < dp; c += XV) {
            floatX acc_c[ATT_BQ];
#pragma unroll
            for (int i = 0; i < ATT_BQ; i++)
                acc_c[i] = vloadX(0, &acc[i][c]) * correction[i];
            for (int j = 0; j < XV; j++) {
                floatX vv = vloadX(0, v_block + (long)j * dp + c);
#pragma unroll
                for (int i = 0; i < ATT_BQ; i++)
                    acc_c[i] = fma((floatX)(p[i][j]), vv, acc_c[i]);
            }
#pragma unroll
            for (int i = 0; i < ATT_BQ; i++)
                vstoreX(acc_c[i], 0, &acc[i][c]);
        }
    }

    for (int i = 0; i < rows; i++)
        store_row(a, s, o, h, i0 + i, acc[i], m[i], l[i], dt);
}

/* Sequence b's rows [r0, r1) of query head h (r packed rows, or queries), when it is prefill's. */
inline void prefill_seq(const attn_t *a, int b, int b0, int h, int r0, int r1,
                        const __global uchar *q, const __global float *kt_all,
                        const __global float *vp_all, __global uchar *o, const int dt) {
    seq_t s = seq_of(a, b);
    if (s.len_q <= a->dec_max_q) return;
    int start = a->cu_q ? q_start(a, b) : 0;
    int i0 = max(r0, start) - start, i1 = min(r1, start + s.len_q) - start;
    if (i1 <= i0) return;
    int hk = h / a->group;
    long block = (long)hk * a->total_blocks + kv_block_base(a, &s, b, b0);
    prefill_rows(a, &s, h, i0, i1 - i0, q, kt_all + block * a->head_dim * XV,
                 vp_all + block * XV * a->dp, o, dt);
}

/*
 * Global size: (ceil(seq_q / ATT_BQ), heads_q, sequences of the group from b0), or
 * (ceil(seq_q / ATT_BQ), heads_q, 1) with packed Q: the work-item's ATT_BQ packed rows, run for
 * each sequence of the group they belong to.
 */
inline void prefill_body(ATTN_PARAMS, int b0, int count, const __global float *kt_all,
                         const __global float *vp_all, const int dt) {
    attn_t a = attn_make(ATTN_ARGS);
    /* The row blocks that see the most keys come first, so that the short ones fill the end. */
    int r0 = (get_global_size(0) - 1 - get_global_id(0)) * ATT_BQ, r1 = r0 + ATT_BQ;
    int h = get_global_id(1);
    if (!a.cu_q) {
        prefill_seq(&a, b0 + get_global_id(2), b0, h, r0, r1, q, kt_all, vp_all, o, dt);
        return;
    }
    for (int b = find_seq(&a, b0, b0 + count, r0, 0); b < b0 + count; b++) {
        if (q_start(&a, b) >= r1) break;
        prefill_seq(&a, b, b0, h, r0, r1, q, kt_all, vp_all, o, dt);
    }
}

#define PREFILL_KERNEL(NAME, DT)                                                                   \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(                             \
        ATTN_PARAMS, int b0, int count, const __global float *kt, const __global float *vp) {      \
        prefill_body(ATTN_ARGS, b0, count, kt, vp, (DT));                                          \
    }

PREFILL_KERNEL(attn_prefill_f32, DT_F32)
PREFILL_KERNEL(attn_prefill_f16, DT_F16)
PREFILL_KERNEL(attn_prefill_bf16, DT_BF16)

/* ---- Decode: split over the keys ---- */

/*
 * Rows r0 .. r0 + ATT_DEC_RB - 1 of KV head hk of sequence s (row r: query head
 * hk * group + r / len_q at position r % len_q) over keys [kc0, kc1): writes their partials.
 */
inline void decode_rows(const attn_t *a, const seq_t *s, int hk, int r0, int kc0, int kc1,
                        const __global uchar *q, const __global uchar *k, const __global uchar *v,
                        long part, int chunks, __global float *part_m, __global float *part_l,
                        __global float *part_acc, const int dt) {
    int rows = min(ATT_DEC_RB, a->group * s->len_q - r0);
    int dp = a->dp, head_dim = a->head_dim;
    int dv = head_dim - head_dim % XV; /* dims read as whole vectors */
    float qs[ATT_DEC_RB][ATT_DMAX];
    float acc[ATT_DEC_RB][ATT_DMAX];
    float m[ATT_DEC_RB], l[ATT_DEC_RB], p[ATT_DEC_RB][XV], sc[ATT_DEC_RB][XV];
    int lo[ATT_DEC_RB], hi[ATT_DEC_RB];
    int walk_lo = kc1, walk_hi = kc0;
    for (int r = 0; r < ATT_DEC_RB; r++) {
        int h = hk * a->group + (r0 + r) / s->len_q, i = (r0 + r) % s->len_q;
        int2 seen = keys_seen(a, s, i);
        lo[r] = r < rows ? max(seen.x, kc0) : 0;
        hi[r] = r < rows ? min(seen.y, kc1) : 0;
        if (lo[r] < hi[r]) {
            walk_lo = min(walk_lo, lo[r]);
            walk_hi = max(walk_hi, hi[r]);
        }
        if (r < rows && kc0 < kc1)
            load_q(a, s, q, h, i, qs[r], dt);
        else
            for (int d = 0; d < dp; d++)
                qs[r][d] = 0.0f;
        for (int d = 0; d < dp; d++)
            acc[r][d] = 0.0f;
        m[r] = LOG_ZERO;
        l[r] = 0.0f;
    }

    long krow[XV], vrow[XV];
    for (int key_base = walk_lo; key_base < walk_hi; key_base += XV) {
        int keys = min(XV, walk_hi - key_base);
        kv_rows(a, s, hk, key_base, keys, krow, vrow);
        for (int j = 0; j < XV; j++) {
            if (j >= keys) {
#pragma unroll
                for (int r = 0; r < ATT_DEC_RB; r++)
                    sc[r][j] = LOG_ZERO;
                continue;
            }
            floatX t[ATT_DEC_RB];
#pragma unroll
            for (int r = 0; r < ATT_DEC_RB; r++)
                t[r] = (floatX)(0.0f);
            for (int d = 0; d < dv; d += XV) {
                floatX kv = loadX(k, krow[j] + d, dt);
#pragma unroll
                for (int r = 0; r < ATT_DEC_RB; r++)
                    t[r] = fma(vloadX(0, &qs[r][d]), kv, t[r]);
            }
#pragma unroll
            for (int r = 0; r < ATT_DEC_RB; r++) {
                float sum = hsumX(t[r]);
                for (int d = dv; d < head_dim; d++)
                    sum = fma(qs[r][d], load1(k, krow[j] + d, dt), sum);
                sc[r][j] = sum;
            }
        }

        float correction[ATT_DEC_RB];
        /* Not unrolled: with this loop unrolled, PoCL 3.1 (LLVM 15) computes wrong weights for
         * causal rows of a GQA group (test_attention's test_causal and test_gqa_mqa fail). */
        for (int r = 0; r < ATT_DEC_RB; r++)
            correction[r] = online_update(vloadX(0, sc[r]), key_base, lo[r], hi[r], 1, a->cap,
                                          &m[r], &l[r], p[r]);

        for (int d = 0; d < dp; d += XV) {
            floatX acc_d[ATT_DEC_RB];
#pragma unroll
            for (int r = 0; r < ATT_DEC_RB; r++)
                acc_d[r] = vloadX(0, &acc[r][d]) * correction[r];
            for (int j = 0; j < keys; j++) {
                floatX vv = d + XV <= head_dim ? loadX(v, vrow[j] + d, dt)
                                               : load_partial(v, vrow[j] + d, head_dim - d, dt);
#pragma unroll
                for (int r = 0; r < ATT_DEC_RB; r++)
                    acc_d[r] = fma((floatX)(p[r][j]), vv, acc_d[r]);
            }
#pragma unroll
            for (int r = 0; r < ATT_DEC_RB; r++)
                vstoreX(acc_d[r], 0, &acc[r][d]);
        }
    }

    for (int r = 0; r < rows; r++) {
        int h = hk * a->group + (r0 + r) / s->len_q, i = (r0 + r) % s->len_q;
        long at = (s->lse + (long)h * a->seq_q + i) * chunks + part;
        part_m[at] = m[r];
        part_l[at] = l[r];
        for (int d = 0; d < dp; d += XV)
            vstoreX(vloadX(0, &acc[r][d]), 0, part_acc + at * dp + d);
    }
}

/*
 * Global size: (chunks, heads_kv * row_groups, batch). Work-item (c, hk * row_groups + g, b)
 * takes chunk c of the keys sequence b's queries see (cut in `chunks`, each a multiple of XV of
 * at least min_chunk keys, so a short sequence leaves the last chunks empty) and the row blocks
 * g, g + row_groups, ... of KV head hk. The partials of row (b, h, i) and chunk c sit at index
 * (lse index of the row) * chunks + c of part_m / part_l, times dp in part_acc.
 */
inline void decode_body(ATTN_PARAMS, int min_chunk, __global float *part_m, __global float *part_l,
                        __global float *part_acc, const int dt) {
    attn_t a = attn_make(ATTN_ARGS);
    int c = get_global_id(0), b = get_global_id(2), chunks = get_global_size(0);
    int row_groups = get_global_size(1) / a.heads_kv;
    int hk = get_global_id(1) / row_groups, g = get_global_id(1) % row_groups;
    seq_t s = seq_of(&a, b);
    if (s.len_q == 0 || s.len_q > a.dec_max_q) return; /* nothing, or prefill's */
    int k0 = keys_seen(&a, &s, 0).x, k1 = max(keys_seen(&a, &s, s.len_q - 1).y, k0);
    int chunk = (k1 - k0 + chunks - 1) / chunks;
    chunk = max((chunk + XV - 1) / XV * XV, min_chunk);
    int kc0 = (int)min((long)k0 + (long)c * chunk, (long)k1), kc1 = min(kc0 + chunk, k1);
    for (int r0 = g * ATT_DEC_RB; r0 < a.group * s.len_q; r0 += row_groups * ATT_DEC_RB)
        decode_rows(&a, &s, hk, r0, kc0, kc1, q, k, v, c, chunks, part_m, part_l, part_acc, dt);
}

#define DECODE_KERNEL(NAME, DT)                                                                    \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(                             \
        ATTN_PARAMS, int min_chunk, __global float *part_m, __global float *part_l,                \
        __global float *part_acc) {                                                                \
        decode_body(ATTN_ARGS, min_chunk, part_m, part_l, part_acc, (DT));                         \
    }

DECODE_KERNEL(attn_decode_f32, DT_F32)
DECODE_KERNEL(attn_decode_f16, DT_F16)
DECODE_KERNEL(attn_decode_bf16, DT_BF16)

/*
 * Global size: (row_steps, heads_q, batch): work-item (i0, h, b) merges the chunks' partials of
 * queries i0, i0 + row_steps, ... of head h of decode sequence b into O (and the LSE).
 */
inline void combine_body(ATTN_PARAMS, const __global float *part_m, const __global float *part_l,
                         const __global float *part_acc, int chunks, const int dt) {
    attn_t a = attn_make(ATTN_ARGS);
    int h = get_global_id(1), b = get_global_id(2);
    seq_t s = seq_of(&a, b);
    if (s.len_q > a.dec_max_q) return;
    for (int i = get_global_id(0); i < s.len_q; i += get_global_size(0)) {
        long first = (s.lse + (long)h * a.seq_q + i) * chunks;
        float m_max = LOG_ZERO;
        for (int c = 0; c < chunks; c++)
            m_max = fmax(m_max, part_m[first + c]);
        float acc[ATT_DMAX];
        for (int d = 0; d < a.dp; d++)
            acc[d] = 0.0f;
        float l = 0.0f;
        if (m_max != LOG_ZERO) {
            for (int c = 0; c < chunks; c++) {
                float mc = part_m[first + c];
                if (mc == LOG_ZERO) continue; /* a chunk this row sees no key of */
                float w = exp2(mc - m_max);
                l = fma(part_l[first + c], w, l);
                const __global float *pa = part_acc + (first + c) * a.dp;
                for (int d = 0; d < a.dp; d += XV)
                    vstoreX(fma(vloadX(0, pa + d), (floatX)(w), vloadX(0, acc + d)), 0, acc + d);
            }
        }
        store_row(&a, &s, o, h, i, acc, m_max, l, dt);
    }
}

#define COMBINE_KERNEL(NAME, DT)                                                                   \
    __kernel void NAME(ATTN_PARAMS, const __global float *part_m, const __global float *part_l,    \
                       const __global float *part_acc, int chunks) {                               \
        combine_body(ATTN_ARGS, part_m, part_l, part_acc, chunks, (DT));                           \
    }

COMBINE_KERNEL(attn_combine_f32, DT_F32)
COMBINE_KERNEL(attn_combine_f16, DT_F16)
COMBINE_KERNEL(attn_combine_bf16, DT_BF16)
