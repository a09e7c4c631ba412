/*
 * The serving side of attention (xhal.h), shared by the portable kernels: where each sequence's
 * queries and keys are (packed Q/KV, per-sequence KV lengths, a paged pool), which keys a query
 * sees (causal and sliding window), soft-capping, and the LSE index of a row.
 *
 * The index buffers are the caller's data: every offset read is clamped to the rows the tensors
 * hold, every length to 0 .. seq_kv (which a block-table row covers) and every block index into
 * the pool, so a bad entry changes which rows a sequence covers but never sends a kernel outside
 * its buffers. Keys past a sequence's length, Q rows no sequence names and blocks its table row
 * does not name are never read.
 */
#ifndef XK_ATTENTION_SERVING_CUH
#define XK_ATTENTION_SERVING_CUH

#include "xk_compat.cuh"

/* One sequence, resolved and clamped. */
struct xk_seq {
    int64_t len_q, len_kv;
    int64_t q_start; /* first packed row of Q/O (0 when Q is not packed) */
    int64_t q, o;    /* element offset of (head 0, query 0) in Q and O */
    int64_t lse;     /* row number of (head 0, query 0): the LSE's and the decode partials' */
    int64_t k, v;    /* element offset of (head 0, key 0) in K and V; of the pool when paged */
    int64_t table;   /* first entry of its block-table row; -1 when K/V are not paged */
};

XK_DEVICE int64_t xk_clamp64(int64_t x, int64_t lo, int64_t hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

XK_DEVICE const int32_t *xk_index(uint64_t address) {
    return reinterpret_cast<const int32_t *>(address);
}

/* Sequence b's first packed query row, clamped (the key of xk_find_seq). */
XK_DEVICE int64_t xk_q_start(const xk_attention_params_t &p, int64_t b) {
    return xk_clamp64(xk_index(p.cu_seqlens_q)[b], 0, p.seq_q);
}

XK_DEVICE xk_seq xk_seq_of(const xk_attention_params_t &p, int64_t b) {
    xk_seq s;
    if (p.cu_seqlens_q) {
        s.q_start = xk_q_start(p, b);
        s.len_q = xk_clamp64(xk_index(p.cu_seqlens_q)[b + 1], s.q_start, p.seq_q) - s.q_start;
        s.q = s.q_start * p.q_ss;
        s.o = s.q_start * p.o_ss;
        s.lse = s.q_start;
    } else {
        s.q_start = 0;
        s.len_q = p.seq_q;
        s.q = b * p.q_sb;
        s.o = b * p.o_sb;
        s.lse = b * p.heads_q * p.seq_q;
    }
    /* K/V's fields are set once each, from scalars: a field stored on one branch and another on
     * the other became, on AMDGPU, a store through a selected pointer, and s a scratch array. */
    int64_t k = 0, v = 0, table = -1, len_kv;
    if (p.cu_seqlens_kv) {
        const int64_t start = xk_clamp64(xk_index(p.cu_seqlens_kv)[b], 0, p.seq_kv);
        len_kv = xk_clamp64(xk_index(p.cu_seqlens_kv)[b + 1], start, p.seq_kv) - start;
        k = start * p.k_ss;
        v = start * p.v_ss;
    } else {
        len_kv = p.seqlens_kv ? xk_clamp64(xk_index(p.seqlens_kv)[b], 0, p.seq_kv) : p.seq_kv;
        if (p.block_table) {
            table = b * p.block_table_stride;
        } else {
            k = b * p.k_sb;
            v = b * p.v_sb;
        }
    }
    s.len_kv = len_kv;
    s.k = k;
    s.v = v;
    s.table = table;
    return s;
}

/*
 * The largest b in [lo, hi) whose first packed query row is <= row (lo when none): the
 * sequence holding packed row `row`. Garbage offsets make the starts unordered; the search still
 * ends, on some sequence, whose rows the caller then checks.
 */
XK_DEVICE int64_t xk_find_seq(const xk_attention_params_t &p, int64_t lo, int64_t hi, int64_t row) {
    while (hi - lo > 1) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (xk_q_start(p, mid) <= row)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Keys [*lo, *hi) query i of sequence s sees: causal (bottom-right) and the window. */
XK_DEVICE void xk_keys_seen(const xk_attention_params_t &p, const xk_seq &s, int64_t i,
                            int64_t *lo, int64_t *hi) {
    const int64_t pos = i + s.len_kv - s.len_q; /* the last query sits on the last key */
    const int64_t end = p.causal ? xk_min64(xk_max64(pos + 1, 0), s.len_kv) : s.len_kv;
    const int64_t start = p.window > 0 ? xk_min64(xk_max64(pos - p.window + 1, 0), s.len_kv) : 0;
    *lo = xk_min64(start, end);
    *hi = end;
}

/*
 * Element offset of the K (v false) or V row of key t (< len_kv) of KV head kv_head. Paged:
 * the block index read is clamped into the pool; t < 2^31 and block_size <= 256, so 32-bit
 * division serves.
 */
XK_DEVICE int64_t xk_kv_row(const xk_attention_params_t &p, const xk_seq &s, bool v,
                            int64_t kv_head, int64_t t) {
    const int64_t sh = v ? p.v_sh : p.k_sh, ss = v ? p.v_ss : p.k_ss;
    if (s.table < 0) return (v ? s.v : s.k) + kv_head * sh + t * ss;
    const uint32_t bs = (uint32_t)p.block_size, blk = (uint32_t)t / bs;
    const int64_t id = xk_clamp64(xk_index(p.block_table)[s.table + blk], 0, p.num_blocks - 1);
    return id * (v ? p.v_sb : p.k_sb) + kv_head * sh + (int64_t)((uint32_t)t - blk * bs) * ss;
}

/* A score (q.k, unscaled) in the base-2 domain of the softmax, soft-capped when asked. */
XK_DEVICE float xk_score_log2(const xk_attention_params_t &p, float dot) {
    return p.softcap > 0.0f ? p.cap_log2 * tanhf(dot * p.cap_scale) : dot * p.scale_log2;
}

/* Writes the LSE of row `row` (natural log) from a base-2 max m and sum l; -inf when l is 0. */
XK_DEVICE void xk_store_lse(const xk_attention_params_t &p, int64_t row, float m, float l) {
    if (!p.lse) return;
    reinterpret_cast<float *>(p.lse)[row] =
        l > 0.0f ? (m + log2f(l)) * 0.693147180559945309f : -INFINITY;
}

/* Splits of a decode sequence whose rows see keys [k0, k1): one per keys_per_split. */
XK_DEVICE int64_t xk_seq_splits(const xk_attention_params_t &p, int64_t k0, int64_t k1) {
    return k1 > k0 ? (k1 - k0 + p.keys_per_split - 1) / p.keys_per_split : 0;
}

#endif /* XK_ATTENTION_SERVING_CUH */
