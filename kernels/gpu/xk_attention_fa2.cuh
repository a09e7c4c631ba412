/*
 * FlashAttention-2-style attention on tensor cores (mma.sync, sm_80 and newer), f16/bf16 with
 * f32 softmax and accumulation, head_dim D of 64, 128 or 256, with every serving feature
 * (xk_attention_serving.cuh: packed and paged K/V are read row by row through the clamped
 * offsets and block table; window and causal masks by per-row [lo, hi); soft-cap; LSE). One
 * kernel serves both shapes:
 *
 *  - prefill: a block owns BM = 64 consecutive queries of one query head and walks the keys
 *    they may see in tiles of BN. Blocks are numbered heaviest-first for a causal mask, and
 *    consecutive blocks are consecutive heads, so the query heads of a GQA group run side by
 *    side and read their shared K/V tiles from L2. With packed Q a block owns 64 packed rows and
 *    runs them sequence by sequence (a block that straddles two sequences runs twice, each time
 *    with the other's rows masked off).
 *  - decode (split-KV, "flash decoding"): a block owns one (sequence, KV head) and one slice of
 *    the keys its queries see; its 64 rows are the (query head of the group, query) pairs, so
 *    each K/V byte is read from memory once per group, not once per query head. It writes an
 *    unnormalized f32 row and its (max, sum) per split; xk_attention_combine merges the splits.
 *    A sequence uses as many splits as its keys need; the blocks of the others return at once.
 *
 * Four warps, 16 rows each. Q stays in shared memory; K and V tiles are double-buffered with
 * cp.async (the next tile loads while this one is used). Per tile a warp computes S = Q K^T
 * (ldmatrix + m16n8k16), masks, updates the online softmax in the exp2 domain, and multiplies
 * P V with P taken straight from the S accumulators: the C fragment of two n8 tiles is exactly
 * the A fragment of one k16 step, so P never leaves registers.
 *
 * The host sends a case here only when rows are 16-byte aligned (strides multiples of 8
 * elements, offsets 16-byte aligned); else xk_attention_simple runs.
 */
#ifndef XK_ATTENTION_FA2_CUH
#define XK_ATTENTION_FA2_CUH

#include "xk_attention_serving.cuh"
#include "xk_mma.cuh"

template <int D, int BN, typename T> struct xk_attention_fa2 {
    static constexpr int BM = 64, THREADS = 128, CPR = D / 8, NT = BN / 8, DT = D / 8;
    using TileQ = xk_tile<BM, CPR>;
    using TileKV = xk_tile<BN, CPR>;
    static constexpr int SMEM_BYTES = (TileQ::elements + 4 * TileKV::elements) * 2;

    /* What a block works on: its sequence, rows and key range. */
    struct work {
        xk_seq s;
        int64_t kv_head;
        int64_t head;       /* prefill: the query head */
        int64_t row0, rows; /* prefill: queries row0 .. row0 + rows - 1 of the sequence;
                               decode: pairs row0 .. of the group x len_q (rows: their count) */
        int64_t key_begin, key_end;
        int64_t mask_lo, mask_hi; /* tiles inside [mask_lo, mask_hi) are seen by every row */
        int split;
    };

    /* Row r of the block: its query head and query index; false past the block's rows. */
    static __device__ bool row_of(const xk_attention_params_t &p, const work &w, int r,
                                  int64_t &head, int64_t &query) {
        if (r >= w.rows) return false;
        int64_t x = w.row0 + r;
        if (!p.decode) {
            head = w.head;
            query = x;
            return true;
        }
        head = w.kv_head * p.group + x / w.s.len_q;
        query = x % w.s.len_q;
        return true;
    }

    /* Rows [i0, i1) of query head `head` of sequence b, if it is prefill's; false otherwise. */
    static __device__ bool prefill_work(const xk_attention_params_t &p, int64_t b, int64_t head,
                                        int64_t i0, int64_t i1, work &w) {
        w.s = xk_seq_of(p, b);
        if (w.s.len_q <= p.q_split) return false; /* none, or the decode kernel's */
        i0 = xk_max64(i0 - w.s.q_start, 0);
        i1 = xk_min64(i1 - w.s.q_start, w.s.len_q);
        if (i1 <= i0) return false;
        w.head = head;
        w.kv_head = head / p.group;
        w.row0 = i0;
        w.rows = i1 - i0;
        w.split = 0;
        /* lo and hi grow with the query: the first row's and the last row's bound the rest. */
        xk_keys_seen(p, w.s, i0, &w.key_begin, &w.mask_hi);
        xk_keys_seen(p, w.s, i1 - 1, &w.mask_lo, &w.key_end);
        return true;
    }

    /* Decode item `item`: (sequence, KV head, row block, split); false when it has nothing. */
    static __device__ bool decode_work(const xk_attention_params_t &p, int64_t item, work &w) {
        w.split = (int)(item % p.splits);
        int64_t rest = item / p.splits;
        w.row0 = rest % p.row_blocks * BM;
        rest /= p.row_blocks;
        w.kv_head = rest % p.heads_kv;
        w.s = xk_seq_of(p, rest / p.heads_kv);
        if (w.s.len_q == 0 || w.s.len_q > p.q_split) return false; /* none, or prefill's */
        w.rows = xk_min64(BM, p.group * w.s.len_q - w.row0);
        if (w.rows <= 0) return false;
        int64_t k0, k1, last_lo, first_hi;
        xk_keys_seen(p, w.s, 0, &k0, &first_hi);
        xk_keys_seen(p, w.s, w.s.len_q - 1, &last_lo, &k1);
        if (w.split >= xk_seq_splits(p, k0, k1)) return false;
        w.head = 0;
        w.key_begin = k0 + (int64_t)w.split * p.keys_per_split;
        w.key_end = xk_min64(k1, w.key_begin + p.keys_per_split);
        w.mask_lo = last_lo; /* rows see from at most the last query's lo ... */
        w.mask_hi = first_hi; /* ... to at least the first query's hi */
        return true;
    }

    static __device__ void load_q(T *qs, const xk_attention_params_t &p, const work &w) {
        const T *q = reinterpret_cast<const T *>(p.q);
        for (int ch = threadIdx.x; ch < BM * CPR; ch += THREADS) {
            int r = ch / CPR, c = ch % CPR;
            int64_t head, query;
            bool ok = row_of(p, w, r, head, query);
            const T *src = ok ? q + w.s.q + head * p.q_sh + query * p.q_ss + c * 8 : q;
            xk_cp_async16(qs + TileQ::offset(r, c * 8), src, ok ? 16 : 0);
        }
    }

    static __device__ void load_kv(T *ks, T *vs, const xk_attention_params_t &p, const work &w,
                                   int64_t j0) {
        const T *k = reinterpret_cast<const T *>(p.k), *v = reinterpret_cast<const T *>(p.v);
        for (int ch = threadIdx.x; ch < BN * CPR; ch += THREADS) {
            int r = ch / CPR, c = ch % CPR;
            int64_t key = j0 + r;
            bool ok = key < w.key_end;
            const T *ksrc = ok ? k + xk_kv_row(p, w.s, false, w.kv_head, key) + c * 8 : k;
            const T *vsrc = ok ? v + xk_kv_row(p, w.s, true, w.kv_head, key) + c * 8 : v;
            xk_cp_async16(ks + TileKV::offset(r, c * 8), ksrc, ok ? 16 : 0);
            xk_cp_async16(vs + TileKV::offset(r, c * 8), vsrc, ok ? 16 : 0);
        }
    }

    /* One block's work: Q in, the key tiles, O (or the decode partials) out. */
    static __device__ void process(const xk_attention_params_t &p, const work &w) {
        extern __shared__ __align__(128) unsigned char xk_smem[];
        T *qs = reinterpret_cast<T *>(xk_smem);
        T *kvs = qs + TileQ::elements; /* stage s: K at kvs + 2 s E, V at kvs + (2 s + 1) E */
        const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
        const int g = lane / 4, t = lane % 4, li = lane / 8, lr = lane % 8;
        /* This thread's two fragment rows (g and g + 8 of its warp) and the keys each sees (keys
         * are below 2^31, the plan's limit: 32-bit bounds keep registers for the tiles). */
        int64_t head[2], query[2];
        int32_t lo[2], hi[2];
        bool valid[2];
        for (int i = 0; i < 2; i++) {
            valid[i] = row_of(p, w, warp * 16 + g + 8 * i, head[i], query[i]);
            int64_t a = w.key_begin, b = w.key_end;
            if (valid[i]) {
                xk_keys_seen(p, w.s, query[i], &a, &b);
                a = xk_max64(a, w.key_begin);
                b = xk_min64(b, w.key_end);
            }
            lo[i] = (int32_t)a;
            hi[i] = (int32_t)b;
        }
        /* Tiles inside [mask_lo, mask_hi) are seen whole by every row: no mask there. */
        const int32_t mask_lo = (int32_t)xk_max64(w.mask_lo, w.key_begin);
        const int32_t mask_hi = (int32_t)xk_min64(w.mask_hi, w.key_end);
        const bool warp_active = warp * 16 < w.rows;
        const int64_t tiles = w.key_end > w.key_begin ? (w.key_end - w.key_begin + BN - 1) / BN : 0;

        float o[DT][4] = {};
        float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
        if (tiles > 0) {
            load_q(qs, p, w);
            load_kv(kvs, kvs + TileKV::elements, p, w, w.key_begin);
            xk_cp_async_commit();
        }
        for (int64_t tile = 0; tile < tiles; tile++) {
            const int64_t j0 = w.key_begin + tile * BN;
            if (tile + 1 < tiles) {
                T *st = kvs + ((tile + 1) & 1) * 2 * TileKV::elements;
                load_kv(st, st + TileKV::elements, p, w, j0 + BN);
                xk_cp_async_commit();
                xk_cp_async_wait<1>();
            } else {
                xk_cp_async_wait<0>();
            }
            __syncthreads();
            const T *ks = kvs + (tile & 1) * 2 * TileKV::elements;
            const T *vs = ks + TileKV::elements;
            if (warp_active) {
                /* S = Q K^T for this warp's 16 rows and BN keys. */
                float s[NT][4] = {};
#pragma unroll
                for (int kk = 0; kk < D; kk += 16) {
                    uint32_t qf[4];
                    xk_ldmatrix_x4(qf, qs + TileQ::offset(warp * 16 + (lane & 15), kk + (lane / 16) * 8));
#pragma unroll
                    for (int ni = 0; ni < NT; ni += 2) {
                        uint32_t r[4];
                        xk_ldmatrix_x4(r, ks + TileKV::offset(ni * 8 + lr + (li / 2) * 8, kk + (li % 2) * 8));
                        uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
                        xk_mma16816<T>(s[ni], qf, b0);
                        xk_mma16816<T>(s[ni + 1], qf, b1);
                    }
                }
                /* Scale into the exp2 domain, mask, and find the new row maxima. */
                const int32_t k0 = (int32_t)j0;
                const bool need_mask = k0 < mask_lo || k0 + BN > mask_hi;
                float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
                for (int ni = 0; ni < NT; ni++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        float x = xk_score_log2(p, s[ni][e]);
                        const int32_t key = k0 + ni * 8 + 2 * t + (e & 1);
                        if (need_mask && (key < lo[e / 2] || key >= hi[e / 2])) x = -INFINITY;
                        s[ni][e] = x;
                        mx[e / 2] = fmaxf(mx[e / 2], x);
                    }
                float corr[2], base[2];
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
                    mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
                    float m_new = fmaxf(m[i], mx[i]);
                    /* A row that has seen no key yet keeps -inf; exp2 of -inf - 0 is 0. */
                    base[i] = m_new == -INFINITY ? 0.0f : m_new;
                    corr[i] = xk_exp2(m[i] - base[i]);
                    m[i] = m_new;
                    l[i] *= corr[i];
                }
#pragma unroll
                for (int ni = 0; ni < NT; ni++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        float pv = xk_exp2(s[ni][e] - base[e / 2]);
                        s[ni][e] = pv;
                        l[e / 2] += pv;
                    }
#pragma unroll
                for (int dn = 0; dn < DT; dn++)
#pragma unroll
                    for (int e = 0; e < 4; e++) o[dn][e] *= corr[e / 2];
                /* O += P V; P's A fragments are the S accumulators of two n8 tiles. */
#pragma unroll
                for (int kj = 0; kj < BN / 16; kj++) {
                    uint32_t a[4] = {xk_type<T>::pack2(s[2 * kj][0], s[2 * kj][1]),
                                     xk_type<T>::pack2(s[2 * kj][2], s[2 * kj][3]),
                                     xk_type<T>::pack2(s[2 * kj + 1][0], s[2 * kj + 1][1]),
                                     xk_type<T>::pack2(s[2 * kj + 1][2], s[2 * kj + 1][3])};
#pragma unroll
                    for (int dn = 0; dn < DT; dn += 2) {
                        uint32_t r[4];
                        xk_ldmatrix_x4_trans(r, vs + TileKV::offset(kj * 16 + lr + (li % 2) * 8, dn * 8 + (li / 2) * 8));
                        uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
                        xk_mma16816<T>(o[dn], a, b0);
                        xk_mma16816<T>(o[dn + 1], a, b1);
                    }
                }
            }
            __syncthreads(); /* the next iteration's prefetch overwrites this stage */
        }

        /* The four threads of a quad hold parts of the same two rows' sums. */
#pragma unroll
        for (int i = 0; i < 2; i++) {
            l[i] += __shfl_xor_sync(0xffffffffu, l[i], 1);
            l[i] += __shfl_xor_sync(0xffffffffu, l[i], 2);
        }
        for (int i = 0; i < 2; i++) {
            if (!valid[i]) continue;
            const int64_t row = w.s.lse + head[i] * p.seq_q + query[i]; /* the LSE's */
            if (!p.decode) {
                /* A row that saw no key is written as zeros, its LSE -inf (xhal.h). */
                float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
                T *orow = reinterpret_cast<T *>(p.o) + w.s.o + head[i] * p.o_sh +
                          query[i] * p.o_ss;
#pragma unroll
                for (int dn = 0; dn < DT; dn++)
                    *reinterpret_cast<uint32_t *>(orow + dn * 8 + 2 * t) =
                        xk_type<T>::pack2(o[dn][2 * i] * inv, o[dn][2 * i + 1] * inv);
                if (t == 0) xk_store_lse(p, row, m[i], l[i]);
            } else {
                int64_t slot = row * p.splits + w.split;
                float *prow = reinterpret_cast<float *>(p.workspace) + slot * D;
#pragma unroll
                for (int dn = 0; dn < DT; dn++)
                    *reinterpret_cast<float2 *>(prow + dn * 8 + 2 * t) =
                        make_float2(o[dn][2 * i], o[dn][2 * i + 1]);
                if (t == 0) {
                    float *stats = reinterpret_cast<float *>(p.partial_stats) + slot * 2;
                    stats[0] = m[i];
                    stats[1] = l[i];
                }
            }
        }
        __syncthreads(); /* the next work reloads Q */
    }

    static __device__ void run(const xk_attention_params_t &p) {
        const int64_t q_batch = p.cu_seqlens_q ? 1 : p.batch;
        const int64_t items = p.decode ? p.batch * p.heads_kv * p.row_blocks * p.splits
                                       : q_batch * p.heads_q * p.row_blocks;
        for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
            work w;
            if (p.decode) {
                if (decode_work(p, item, w)) process(p, w);
                continue;
            }
            const int64_t bh = item % (q_batch * p.heads_q);
            const int64_t r0 = (p.row_blocks - 1 - item / (q_batch * p.heads_q)) * BM; /* heaviest first */
            const int64_t head = bh % p.heads_q;
            if (!p.cu_seqlens_q) {
                if (prefill_work(p, bh / p.heads_q, head, r0, r0 + BM, w)) process(p, w);
                continue;
            }
            /* Packed rows r0 .. r0 + BM - 1, sequence by sequence. */
            for (int64_t b = xk_find_seq(p, 0, p.batch, r0); b < p.batch && xk_q_start(p, b) < r0 + BM; b++)
                if (prefill_work(p, b, head, r0, r0 + BM, w)) process(p, w);
        }
    }
};

#endif /* XK_ATTENTION_FA2_CUH */
