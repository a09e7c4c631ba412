/*
 * FlashAttention-2-style attention on tensor cores (mma.sync, sm_80 and newer), f16/bf16 with
 * f32 softmax and accumulation, head_dim D of 64, 128 or 256. One kernel serves both shapes:
 *
 *  - prefill: a block owns BM = 64 consecutive queries of one (batch, query head) and walks the
 *    keys it may see in tiles of BN. Blocks are numbered heaviest-first for a causal mask, and
 *    consecutive blocks are consecutive heads, so the query heads of a GQA group run side by
 *    side and read their shared K/V tiles from L2.
 *  - decode (split-KV, "flash decoding"): a block owns one (batch, KV head) and one slice of the
 *    keys; its 64 rows are the (query head of the group, query) pairs, so each K/V byte is read
 *    from memory once per group, not once per query head. It writes an unnormalized f32 row and
 *    its (max, sum) per split; xk_attention_combine merges the splits.
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

#include "xk_mma.cuh"

template <int D, int BN, typename T> struct xk_attention_fa2 {
    static constexpr int BM = 64, THREADS = 128, CPR = D / 8, NT = BN / 8, DT = D / 8;
    using TileQ = xk_tile<BM, CPR>;
    using TileKV = xk_tile<BN, CPR>;
    static constexpr int SMEM_BYTES = (TileQ::elements + 4 * TileKV::elements) * 2;

    /* What a block works on: its rows and its key range. */
    struct work {
        int64_t batch, kv_head, row0; /* row0: first row (prefill: query; decode: pair index) */
        int64_t head;                 /* prefill: the query head */
        int64_t key_begin, key_end;
        int split;
    };

    /* Row r of the block: its query head and query index; false past the last row. */
    static __device__ bool row_of(const xk_attention_params_t &p, const work &w, int r,
                                  int64_t &head, int64_t &query) {
        int64_t x = w.row0 + r;
        if (!p.decode) {
            head = w.head;
            query = x;
            return x < p.seq_q;
        }
        head = w.kv_head * p.group + x / p.seq_q;
        query = x % p.seq_q;
        return x < (int64_t)p.group * p.seq_q;
    }

    static __device__ work work_of(const xk_attention_params_t &p, int64_t item) {
        work w;
        if (!p.decode) {
            int64_t bh = item % (p.batch * p.heads_q);
            int64_t block = p.row_blocks - 1 - item / (p.batch * p.heads_q); /* heaviest first */
            w.batch = bh / p.heads_q;
            w.head = bh % p.heads_q;
            w.kv_head = w.head / p.group;
            w.row0 = block * BM;
            w.split = 0;
            w.key_begin = 0;
            int64_t last = xk_min64(w.row0 + BM, p.seq_q) - 1;
            w.key_end = xk_visible_keys(p, last);
        } else {
            w.split = (int)(item % p.splits);
            int64_t rest = item / p.splits;
            w.row0 = rest % p.row_blocks * BM;
            rest /= p.row_blocks;
            w.kv_head = rest % p.heads_kv;
            w.batch = rest / p.heads_kv;
            w.head = 0;
            w.key_begin = (int64_t)w.split * p.keys_per_split;
            w.key_end = xk_min64(p.seq_kv, w.key_begin + p.keys_per_split);
        }
        return w;
    }

    static __device__ void load_q(T *qs, const xk_attention_params_t &p, const work &w) {
        const T *q = reinterpret_cast<const T *>(p.q);
        for (int ch = threadIdx.x; ch < BM * CPR; ch += THREADS) {
            int r = ch / CPR, c = ch % CPR;
            int64_t head, query;
            bool ok = row_of(p, w, r, head, query);
            const T *src = ok ? q + w.batch * p.q_sb + head * p.q_sh + query * p.q_ss + c * 8 : q;
            xk_cp_async16(qs + TileQ::offset(r, c * 8), src, ok ? 16 : 0);
        }
    }

    static __device__ void load_kv(T *ks, T *vs, const xk_attention_params_t &p, const work &w,
                                   int64_t j0) {
        const T *k = reinterpret_cast<const T *>(p.k) + w.batch * p.k_sb + w.kv_head * p.k_sh;
        const T *v = reinterpret_cast<const T *>(p.v) + w.batch * p.v_sb + w.kv_head * p.v_sh;
        for (int ch = threadIdx.x; ch < BN * CPR; ch += THREADS) {
            int r = ch / CPR, c = ch % CPR;
            int64_t key = j0 + r;
            bool ok = key < w.key_end;
            xk_cp_async16(ks + TileKV::offset(r, c * 8), ok ? k + key * p.k_ss + c * 8 : k, ok ? 16 : 0);
            xk_cp_async16(vs + TileKV::offset(r, c * 8), ok ? v + key * p.v_ss + c * 8 : v, ok ? 16 : 0);
        }
    }

    static __device__ void run(const xk_attention_params_t &p) {
        extern __shared__ __align__(128) unsigned char xk_smem[];
        T *qs = reinterpret_cast<T *>(xk_smem);
        T *kvs = qs + TileQ::elements; /* stage s: K at kvs + 2 s E, V at kvs + (2 s + 1) E */
        const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
        const int g = lane / 4, t = lane % 4, li = lane / 8, lr = lane % 8;
        const int64_t items = p.decode ? p.batch * p.heads_kv * p.row_blocks * p.splits
                                       : p.batch * p.heads_q * p.row_blocks;

        for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
            const work w = work_of(p, item);
            /* This thread's two fragment rows (g and g + 8 of its warp) and how many keys each sees. */
            int64_t head[2], query[2], limit[2];
            bool valid[2];
            for (int i = 0; i < 2; i++) {
                valid[i] = row_of(p, w, warp * 16 + g + 8 * i, head[i], query[i]);
                limit[i] = valid[i] ? xk_min64(w.key_end, xk_visible_keys(p, query[i])) : w.key_end;
            }
            /* Keys below min_limit are visible to every row of the block: no mask needed there. */
            int64_t first_head, first_query;
            row_of(p, w, 0, first_head, first_query);
            const int64_t min_limit = xk_min64(w.key_end, xk_visible_keys(p, p.decode ? 0 : first_query));
            const bool warp_active = warp * 16 < (p.decode ? (int64_t)p.group * p.seq_q - w.row0
                                                           : p.seq_q - w.row0);
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
                    const bool need_mask = j0 + BN > min_limit;
                    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
                    for (int ni = 0; ni < NT; ni++)
#pragma unroll
                        for (int e = 0; e < 4; e++) {
                            float x = s[ni][e] * p.scale_log2;
                            if (need_mask && j0 + ni * 8 + 2 * t + (e & 1) >= limit[e / 2]) x = -INFINITY;
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
                if (!p.decode) {
                    /* A row that saw no key is written as zeros (xhal.h). */
                    float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
                    T *orow = reinterpret_cast<T *>(p.o) + w.batch * p.o_sb + head[i] * p.o_sh +
                              query[i] * p.o_ss;
#pragma unroll
                    for (int dn = 0; dn < DT; dn++)
                        *reinterpret_cast<uint32_t *>(orow + dn * 8 + 2 * t) =
                            xk_type<T>::pack2(o[dn][2 * i] * inv, o[dn][2 * i + 1] * inv);
                } else {
                    int64_t slot = ((w.batch * p.heads_q + head[i]) * p.seq_q + query[i]) * p.splits + w.split;
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
            __syncthreads(); /* the next item reloads Q */
        }
    }
};

#endif /* XK_ATTENTION_FA2_CUH */
