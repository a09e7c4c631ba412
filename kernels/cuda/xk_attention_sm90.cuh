/*
 * Prefill attention for Hopper (sm_90a): TMA, wgmma and warp specialization, f16/bf16 with f32
 * softmax and accumulation, head_dim D of 64 or 128.
 *
 * A block owns 128 queries of one (batch, query head) and 3 warpgroups:
 *   - warpgroup 0, the producer (registers given away with setmaxnreg), has one thread load Q
 *     once and then K and V tiles of 128 keys into a 2-stage ring with TMA (128-byte swizzle,
 *     boxes of 64 dims, so a head_dim of 128 is two boxes side by side), K and V on separate
 *     barriers so the Q K^T product starts while V still lands;
 *   - warpgroups 1 and 2, the consumers, own 64 queries each. Per key tile: S = Q K^T with
 *     D/16 wgmma m64n128k16 (both operands K-major in shared memory), the online softmax in the
 *     exp2 domain on the accumulators, P converted in registers to the A fragments of the next
 *     product (the accumulator layout of one warp is the m16n8k16 layout, as in the sm_80
 *     kernel), then O += P V with 8 wgmma m64nDk16 taking A from registers and V MN-major
 *     from shared memory (transpose bit), then the stage is handed back.
 * The two consumers run out of phase on their own, so one's softmax overlaps the other's
 * tensor-core work. Causal tiles past the block's last visible key are never loaded; only tiles
 * that cross a row's limit are masked. Blocks are numbered heaviest first.
 *
 * The host sends a case here only when Q, K and V can be described as 4-D TMA tensors: rows of
 * 16-byte aligned head_dim, strides multiples of 8 elements that do not make views overlap.
 */
#ifndef XK_ATTENTION_SM90_CUH
#define XK_ATTENTION_SM90_CUH

#include "xk_sm90.cuh"
#include "xk_wgmma_ops.cuh"

template <int D, typename T> struct xk_attention_sm90 {
    static_assert(D == 64 || D == 128, "head_dim 64 or 128");
    static constexpr int BM = 128, BN = 128, HALVES = D / 64;
    static constexpr int Q_ELEMS = BM * D, KV_ELEMS = BN * D;
    static constexpr int CONSUMER_WARPS = 8;
    using mma = xk_wgmma_attention<T>;

    /* Coordinates of (seq, head, batch) in the stride order the host chose for a map. */
    static __device__ void tma_load(T *dst, const CUtensorMap *map, int order, int d0, int seq,
                                    int head, int batch, uint64_t *bar) {
        /* Selects, not an indexed array: a run-time index would put it in local memory. */
        auto pick = [&](int which) { return which == 0 ? seq : which == 1 ? head : batch; };
        xk_tma_load_4d(dst, map, d0, pick(order & 3), pick((order >> 2) & 3), pick((order >> 4) & 3),
                       bar);
    }

    static __device__ void run(const CUtensorMap *map_q, const CUtensorMap *map_k,
                               const CUtensorMap *map_v, const xk_attention_params_t &p) {
        extern __shared__ __align__(128) unsigned char xk_smem_raw[];
        unsigned char *base = reinterpret_cast<unsigned char *>(
            (reinterpret_cast<uintptr_t>(xk_smem_raw) + 1023) & ~uintptr_t(1023));
        T *qs = reinterpret_cast<T *>(base); /* [HALVES][BM][64] */
        T *kvs = qs + Q_ELEMS;               /* stage s: K at 2 s KV_ELEMS, V after it */
        uint64_t *bars = reinterpret_cast<uint64_t *>(kvs + 4 * KV_ELEMS);
        uint64_t *q_full = bars, *k_full = bars + 1, *v_full = bars + 3, *kv_empty = bars + 5;

        const int64_t bh = blockIdx.x % (p.batch * p.heads_q);
        const int64_t block = p.row_blocks - 1 - blockIdx.x / (p.batch * p.heads_q);
        const int batch = (int)(bh / p.heads_q), head = (int)(bh % p.heads_q);
        const int kv_head = head / p.group;
        const int64_t q0 = block * BM;
        const int64_t key_end = xk_visible_keys(p, xk_min64(q0 + BM, p.seq_q) - 1);
        const int tiles = (int)((key_end + BN - 1) / BN);
        const int wg = threadIdx.x / 128;

        if (threadIdx.x == 0) {
            xk_mbar_init(q_full, 1);
            for (int s = 0; s < 2; s++) {
                xk_mbar_init(&k_full[s], 1);
                xk_mbar_init(&v_full[s], 1);
                xk_mbar_init(&kv_empty[s], CONSUMER_WARPS);
            }
            xk_mbar_fence_init();
        }
        __syncthreads();

        if (wg == 0) {
            xk_setmaxnreg_dec<40>();
            if (threadIdx.x == 0 && tiles > 0) {
                xk_mbar_arrive_expect_tx(q_full, Q_ELEMS * 2);
#pragma unroll
                for (int h = 0; h < HALVES; h++)
                    tma_load(qs + h * BM * 64, map_q, p.tma_order[0], h * 64, (int)q0, head, batch,
                             q_full);
                for (int j = 0; j < tiles; j++) {
                    const int s = j & 1;
                    T *ks = kvs + s * 2 * KV_ELEMS, *vs = ks + KV_ELEMS;
                    xk_mbar_wait(&kv_empty[s], ((j >> 1) & 1) ^ 1);
                    xk_mbar_arrive_expect_tx(&k_full[s], KV_ELEMS * 2);
#pragma unroll
                    for (int h = 0; h < HALVES; h++)
                        tma_load(ks + h * BN * 64, map_k, p.tma_order[1], h * 64, j * BN, kv_head,
                                 batch, &k_full[s]);
                    xk_mbar_arrive_expect_tx(&v_full[s], KV_ELEMS * 2);
#pragma unroll
                    for (int h = 0; h < HALVES; h++)
                        tma_load(vs + h * BN * 64, map_v, p.tma_order[2], h * 64, j * BN, kv_head,
                                 batch, &v_full[s]);
                }
            }
            return;
        }

        xk_setmaxnreg_inc<232>();
        const int c = wg - 1, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
        const int g = lane / 4, t = lane % 4;
        int64_t query[2], limit[2];
        for (int i = 0; i < 2; i++) {
            query[i] = q0 + c * 64 + warp * 16 + g + 8 * i;
            limit[i] = query[i] < p.seq_q ? xk_min64(key_end, xk_visible_keys(p, query[i])) : key_end;
        }
        /* Keys below this are visible to every row of the block: no mask there. */
        const int64_t min_limit = xk_min64(key_end, xk_visible_keys(p, q0));
        float o[D / 2];
#pragma unroll
        for (int i = 0; i < D / 2; i++) o[i] = 0.0f;
        float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};

        if (tiles > 0) xk_mbar_wait(q_full, 0);
        for (int j = 0; j < tiles; j++) {
            const int s = j & 1;
            const uint32_t phase = (j >> 1) & 1;
            const T *ks = kvs + s * 2 * KV_ELEMS, *vs = ks + KV_ELEMS;
            const int64_t j0 = (int64_t)j * BN;

            /* S = Q K^T: 64 queries x 128 keys per consumer. */
            float sacc[BN / 2];
            xk_mbar_wait(&k_full[s], phase);
            xk_wgmma_fence();
#pragma unroll
            for (int kk = 0; kk < D / 16; kk++) {
                const int h = kk / 4, step = kk % 4;
                uint64_t da = xk_smem_desc(qs + h * BM * 64 + c * 64 * 64 + step * 16, 16, 1024);
                uint64_t db = xk_smem_desc(ks + h * BN * 64 + step * 16, 16, 1024);
                mma::template ss128<0, 0>(sacc, da, db, kk > 0 ? 1 : 0);
            }
            xk_wgmma_commit();
            xk_wgmma_wait<0>();
            xk_fence_regs(sacc);

            /* Online softmax on the accumulators: chunk i holds keys 8 i + 2 t (+1) of rows
             * g (elements 0, 1) and g + 8 (elements 2, 3). */
            const bool need_mask = j0 + BN > min_limit;
            float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
            for (int i = 0; i < BN / 8; i++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    float x = sacc[4 * i + e] * p.scale_log2;
                    if (need_mask && j0 + 8 * i + 2 * t + (e & 1) >= limit[e / 2]) x = -INFINITY;
                    sacc[4 * i + e] = x;
                    mx[e / 2] = fmaxf(mx[e / 2], x);
                }
            float corr[2], base_[2];
#pragma unroll
            for (int i = 0; i < 2; i++) {
                mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
                mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
                const float m_new = fmaxf(m[i], mx[i]);
                base_[i] = m_new == -INFINITY ? 0.0f : m_new;
                corr[i] = xk_exp2(m[i] - base_[i]);
                m[i] = m_new;
                l[i] *= corr[i];
            }
            uint32_t pa[BN / 16][4];
#pragma unroll
            for (int kj = 0; kj < BN / 16; kj++) {
                float pv[8];
#pragma unroll
                for (int e = 0; e < 8; e++) {
                    pv[e] = xk_exp2(sacc[8 * kj + e] - base_[(e / 2) & 1]);
                    l[(e / 2) & 1] += pv[e];
                }
                pa[kj][0] = xk_type<T>::pack2(pv[0], pv[1]);
                pa[kj][1] = xk_type<T>::pack2(pv[2], pv[3]);
                pa[kj][2] = xk_type<T>::pack2(pv[4], pv[5]);
                pa[kj][3] = xk_type<T>::pack2(pv[6], pv[7]);
            }
#pragma unroll
            for (int i = 0; i < D / 8; i++)
#pragma unroll
                for (int e = 0; e < 4; e++) o[4 * i + e] *= corr[e / 2];

            /* O += P V: V is [keys][dims] (MN-major for the product), halves of 64 dims apart. */
            xk_mbar_wait(&v_full[s], phase);
            xk_wgmma_fence();
#pragma unroll
            for (int kj = 0; kj < BN / 16; kj++) {
                uint64_t db = xk_smem_desc(vs + kj * 16 * 64, BN * 128, 1024);
                mma::template rs<1>(o, pa[kj], db, 1);
            }
            xk_wgmma_commit();
            xk_wgmma_wait<0>();
            xk_fence_regs(o);
            __syncwarp();
            if (lane == 0) xk_mbar_arrive(&kv_empty[s]);
        }

#pragma unroll
        for (int i = 0; i < 2; i++) {
            l[i] += __shfl_xor_sync(0xffffffffu, l[i], 1);
            l[i] += __shfl_xor_sync(0xffffffffu, l[i], 2);
        }
        for (int i = 0; i < 2; i++) {
            if (query[i] >= p.seq_q) continue;
            const float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f; /* no key seen: zeros */
            T *orow = reinterpret_cast<T *>(p.o) + batch * p.o_sb + head * p.o_sh + query[i] * p.o_ss;
#pragma unroll
            for (int dn = 0; dn < D / 8; dn++)
                *reinterpret_cast<uint32_t *>(orow + dn * 8 + 2 * t) =
                    xk_type<T>::pack2(o[4 * dn + 2 * i] * inv, o[4 * dn + 2 * i + 1] * inv);
        }
    }
};

#endif /* XK_ATTENTION_SM90_CUH */
