/*
 * FlashAttention-style attention on CDNA matrix cores (MFMA 32x32x8), f16/bf16 with f32 softmax
 * and accumulation, head_dim D of 64, 128 or 256. Two kernels share the per-wavefront math:
 *
 *  - prefill (xk_attention_mfma_prefill): a block of 4 wavefronts owns 128 consecutive queries of
 *    one (batch, query head), 32 per wavefront, and walks the keys they may see in tiles of BN.
 *    The K tile ([BN][D], as in memory) and the V tile (transposed: [D][BN]) are shared in LDS;
 *    the next tile's global loads fly into registers while this tile is used (D <= 128). Blocks are
 *    numbered heaviest-first under a causal mask, consecutive blocks being consecutive heads (the
 *    query heads of a GQA group read the same K/V from L2 side by side).
 *  - split-KV decode (xk_attention_mfma_decode): every wavefront is its own work item (batch, KV
 *    head, 32 rows, key slice), with no LDS and no barrier: the rows are the (query head of the
 *    group, query) pairs, so K and V are read once per group; it writes an unnormalized f32 row
 *    and its (max, sum) per slice, which xk_attention_combine merges (kernels/gpu).
 *
 * The math of one wavefront (xk_mfma_layout.h): it computes S^T = K Q^T, so each lane's
 * accumulator column is one query (lane % 32) and its 16 registers are keys: the running max and
 * sum of a query are per lane (the partner lane ^ 32 holds the other keys; one shuffle joins
 * them). P^T = exp2(S^T - max) is converted to 16 bits in place and is already the B operand of
 * O^T = V^T P^T, whose accumulator again has one query per lane, so the rescaling by the max's
 * correction is a per-lane multiply. Q stays in registers as the B operand of S^T.
 *
 * The host sends a case here only when rows are 16-byte aligned (strides multiples of 8
 * elements, offsets 16-byte aligned); else xk_attention_simple runs.
 */
#ifndef XK_ATTENTION_MFMA_CUH
#define XK_ATTENTION_MFMA_CUH

#include "xk_gemm_mfma.cuh" /* xk_mfma_tile_loader */

#if defined(XK_HAVE_MFMA)

/* What one wavefront carries across key blocks: its queries' running max, sum and O^T. */
template <int D, typename T> struct xk_attention_wave {
    static constexpr int DC = D / 16, DB = D / 32;
    xk_s16x4 q[DC][2]; /* Q^T operands: chunk c, steps 0 and 1 */
    xk_f32x16 o[DB];   /* O^T: block db holds dims db*32 + xk_mfma_acc_row(lane, r) */
    float m, l;        /* this lane's query: max (exp2 domain) and partial sum of its keys */

    /* Loads the 32 queries' rows (lane % 32: row `row`, valid or not) and clears the state. */
    __device__ void begin(const T *q_row, bool valid, int lane) {
        const int k_lane = xk_mfma_chunk_k(lane, 0, 0);
#pragma unroll
        for (int c = 0; c < DC; c++) {
            const xk_s16x8 s = xk_load8(valid ? q_row + c * 16 + k_lane : q_row, valid ? 8 : 0);
            q[c][0] = s.lo;
            q[c][1] = s.hi;
        }
#pragma unroll
        for (int db = 0; db < DB; db++)
            o[db] = xk_f32x16{};
        m = -INFINITY;
        l = 0.0f;
    }

    /*
     * S^T of 32 keys against Q: k_chunk(c, step0, step1) gives the A operands of dim chunk c
     * (key lane % 32 of the block). Fetched chunk by chunk, so only one chunk is live.
     */
    template <typename F> __device__ xk_f32x16 scores(F k_chunk) const {
        xk_f32x16 s = xk_f32x16{};
#pragma unroll
        for (int c = 0; c < DC; c++) {
            xk_s16x4 a0, a1;
            k_chunk(c, a0, a1);
            s = xk_mfma32<T>(a0, q[c][0], s);
            s = xk_mfma32<T>(a1, q[c][1], s);
        }
        return s;
    }

    /*
     * The online softmax over KB key blocks of scores s (in place: scores in, P^T out). Key
     * `first` + kb*32 + xk_mfma_acc_row(lane, r) is visible to this lane's query when below
     * `limit` (`masked` false: every key of the tile is).
     */
    template <int KB>
    __device__ void softmax(xk_f32x16 (&s)[KB], int64_t first, int64_t limit, bool masked,
                            float scale_log2, int lane) {
        float mx = -INFINITY;
#pragma unroll
        for (int kb = 0; kb < KB; kb++)
#pragma unroll
            for (int r = 0; r < XK_MFMA_REGS; r++) {
                float x = s[kb][r] * scale_log2;
                if (masked && first + kb * 32 + xk_mfma_acc_row(lane, r) >= limit) x = -INFINITY;
                s[kb][r] = x;
                mx = fmaxf(mx, x);
            }
        mx = fmaxf(mx, __shfl_xor(mx, 32)); /* the partner lane holds the query's other keys */
        const float m_new = fmaxf(m, mx);
        /* A query that has seen no key yet keeps -inf; exp2 of -inf - 0 is 0. */
        const float base = m_new == -INFINITY ? 0.0f : m_new;
        const float corr = xk_exp2(m - base);
        m = m_new;
        l *= corr;
#pragma unroll
        for (int kb = 0; kb < KB; kb++)
#pragma unroll
            for (int r = 0; r < XK_MFMA_REGS; r++) {
                const float pv = xk_exp2(s[kb][r] - base);
                s[kb][r] = pv;
                l += pv;
            }
#pragma unroll
        for (int db = 0; db < DB; db++)
            o[db] *= corr;
    }

    /* P^T registers 4 g .. 4 g + 3 of a key block as the 16-bit B operand of step g. */
    static __device__ xk_s16x4 p_operand(const xk_f32x16 &p, int g) {
        xk_s16x4 v;
        v.x = (short)xk_bits(xk_type<T>::from_float(p[4 * g]));
        v.y = (short)xk_bits(xk_type<T>::from_float(p[4 * g + 1]));
        v.z = (short)xk_bits(xk_type<T>::from_float(p[4 * g + 2]));
        v.w = (short)xk_bits(xk_type<T>::from_float(p[4 * g + 3]));
        return v;
    }

    /* O^T += V^T P^T for one 32-key block: v_op(g, db) gives the A operand of step g, dims
     * db*32 + lane % 32, keys xk_mfma_pv_key(lane, g, e). */
    template <typename F> __device__ void accumulate(const xk_f32x16 &p, F v_op) {
#pragma unroll
        for (int g = 0; g < 4; g++) {
            const xk_s16x4 pb = p_operand(p, g);
#pragma unroll
            for (int db = 0; db < DB; db++)
                o[db] = xk_mfma32<T>(v_op(g, db), pb, o[db]);
        }
    }

    /* The query's total sum (both halves of the wavefront). */
    __device__ float total() const {
        return l + __shfl_xor(l, 32);
    }
};

/* ---- Prefill ---- */

template <int D, int BN, typename T> struct xk_attention_mfma_prefill {
    static constexpr int BM = 4 * XK_HIP_ATTENTION_ROWS, THREADS = XK_HIP_ATTENTION_THREADS;
    static constexpr int KB = BN / 32, DC = D / 16, DB = D / 32;
    static constexpr int LDK = D + XK_HIP_LDS_PAD, LDV = BN + XK_HIP_LDS_PAD_T;
    /* Prefetching the next tile into registers needs 32 more of them per lane: with D = 256
     * (64 for Q, 128 for O^T) that spills, so there the loads follow the barrier instead. */
    static constexpr bool PREFETCH = D <= 128;
    using Wave = xk_attention_wave<D, T>;
    /* K: BN key rows, D contiguous; V: kept transposed, D rows of BN keys. */
    using LoaderK = xk_mfma_tile_loader<T, BN, D, THREADS, true>;
    using LoaderV = xk_mfma_tile_loader<T, D, BN, THREADS, false, XK_HIP_LDS_PAD_T>;

    static constexpr int LDS_ELEMENTS = BN * LDK + D * LDV;

    /* lds: LDS_ELEMENTS, declared by the kernel (see xk_gemm_mfma::run): K tile, then V^T. */
    static XK_DEVICE void run(const xk_attention_params_t &p, unsigned short *lds) {
        unsigned short *ks = lds, *vt = lds + BN * LDK;
        const int wave = threadIdx.x / XK_HIP_WAVE, lane = threadIdx.x % XK_HIP_WAVE;
        const int row = xk_mfma_lane_row(lane), k_lane = xk_mfma_chunk_k(lane, 0, 0);
        const int64_t items = p.batch * p.heads_q * p.row_blocks;

        for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
            const int64_t bh = item % (p.batch * p.heads_q);
            const int64_t block =
                p.row_blocks - 1 - item / (p.batch * p.heads_q); /* heaviest first */
            const int64_t batch = bh / p.heads_q, head = bh % p.heads_q, kv_head = head / p.group;
            const int64_t q0 = block * BM, query = q0 + wave * 32 + row;
            const bool valid = query < p.seq_q;
            const bool wave_active = q0 + wave * 32 < p.seq_q;
            const int64_t last = xk_min64(q0 + BM, p.seq_q) - 1;
            const int64_t key_end = xk_visible_keys(p, last);
            const int64_t limit = valid ? xk_visible_keys(p, query) : 0;
            /* Keys below this are visible to every query of the block: no mask there. */
            const int64_t open = xk_visible_keys(p, q0);
            const T *k = reinterpret_cast<const T *>(p.k) + batch * p.k_sb + kv_head * p.k_sh;
            const T *v = reinterpret_cast<const T *>(p.v) + batch * p.v_sb + kv_head * p.v_sh;

            Wave w;
            w.begin(reinterpret_cast<const T *>(p.q) + batch * p.q_sb + head * p.q_sh +
                        (valid ? query : 0) * p.q_ss,
                    valid, lane);
            LoaderK lk;
            LoaderV lv;
            const int64_t tiles = (key_end + BN - 1) / BN;
            if (PREFETCH && tiles > 0) {
                lk.load(k, p.k_ss, 0, key_end, 0, D);
                lv.load(v, p.v_ss, 0, D, 0, key_end);
            }
            for (int64_t t = 0; t < tiles; t++) {
                const int64_t j0 = t * BN;
                if (!PREFETCH) {
                    lk.load(k, p.k_ss, j0, key_end, 0, D);
                    lv.load(v, p.v_ss, 0, D, j0, key_end);
                }
                __syncthreads(); /* the previous tile is no longer read */
                lk.store(ks);
                lv.store(vt);
                __syncthreads();
                if (PREFETCH && t + 1 < tiles) { /* in flight while this tile is used */
                    lk.load(k, p.k_ss, j0 + BN, key_end, 0, D);
                    lv.load(v, p.v_ss, 0, D, j0 + BN, key_end);
                }
                if (!wave_active) continue;
                xk_f32x16 s[KB];
#pragma unroll
                for (int kb = 0; kb < KB; kb++) {
                    const unsigned short *krow = ks + (kb * 32 + row) * LDK + k_lane;
                    s[kb] = w.scores([&](int c, xk_s16x4 &a0, xk_s16x4 &a1) {
                        xk_lds_read8(krow + c * 16, a0, a1);
                    });
                }
                w.softmax(s, j0, limit, j0 + BN > open, p.scale_log2, lane);
#pragma unroll
                for (int kb = 0; kb < KB; kb++) {
                    const unsigned short *vrow = vt + row * LDV + kb * 32;
                    w.accumulate(s[kb], [&](int g, int db) {
                        return *reinterpret_cast<const xk_s16x4 *>(vrow + db * 32 * LDV +
                                                                   xk_mfma_pv_key(lane, g, 0));
                    });
                }
            }

            const float sum = w.total();
            if (valid) {
                /* A query that saw no key is written as zeros (xhal.h). */
                const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
                T *orow =
                    reinterpret_cast<T *>(p.o) + batch * p.o_sb + head * p.o_sh + query * p.o_ss;
#pragma unroll
                for (int db = 0; db < DB; db++)
#pragma unroll
                    for (int g = 0; g < 4; g++) {
                        /* registers 4 g .. 4 g + 3: four consecutive dims */
                        const int dim = db * 32 + xk_mfma_acc_row(lane, 4 * g);
                        uint2 packed;
                        packed.x =
                            xk_type<T>::pack2(w.o[db][4 * g] * inv, w.o[db][4 * g + 1] * inv);
                        packed.y =
                            xk_type<T>::pack2(w.o[db][4 * g + 2] * inv, w.o[db][4 * g + 3] * inv);
                        *reinterpret_cast<uint2 *>(orow + dim) = packed;
                    }
            }
        }
    }
};

/* ---- Split-KV decode ---- */

template <int D, typename T> struct xk_attention_mfma_decode {
    static constexpr int DC = D / 16, DB = D / 32, WAVES = XK_HIP_ATTENTION_THREADS / XK_HIP_WAVE;
    using Wave = xk_attention_wave<D, T>;

    static XK_DEVICE void run(const xk_attention_params_t &p) {
        const int wave = threadIdx.x / XK_HIP_WAVE, lane = threadIdx.x % XK_HIP_WAVE;
        const int row = xk_mfma_lane_row(lane), k_lane = xk_mfma_chunk_k(lane, 0, 0);
        const int64_t items = p.batch * p.heads_kv * p.row_blocks * p.splits;
        const int64_t rows = (int64_t)p.group * p.seq_q;

        for (int64_t item = blockIdx.x * (int64_t)WAVES + wave; item < items;
             item += (int64_t)gridDim.x * WAVES) {
            const int split = (int)(item % p.splits);
            int64_t rest = item / p.splits;
            const int64_t x = rest % p.row_blocks * 32 + row;
            rest /= p.row_blocks;
            const int64_t kv_head = rest % p.heads_kv, batch = rest / p.heads_kv;
            const bool valid = x < rows;
            const int64_t head = kv_head * p.group + (valid ? x / p.seq_q : 0);
            const int64_t query = valid ? x % p.seq_q : 0;
            const int64_t key_begin = (int64_t)split * p.keys_per_split;
            const int64_t key_end = xk_min64(p.seq_kv, key_begin + p.keys_per_split);
            const int64_t limit = valid ? xk_min64(key_end, xk_visible_keys(p, query)) : key_begin;
            const T *k = reinterpret_cast<const T *>(p.k) + batch * p.k_sb + kv_head * p.k_sh;
            const unsigned short *v =
                reinterpret_cast<const unsigned short *>(p.v) + batch * p.v_sb + kv_head * p.v_sh;

            Wave w;
            w.begin(reinterpret_cast<const T *>(p.q) + batch * p.q_sb + head * p.q_sh +
                        query * p.q_ss,
                    valid, lane);
            for (int64_t j0 = key_begin; j0 < key_end; j0 += 32) {
                /* K: lane row's key, 8 consecutive dims per 16-byte load (zeros past the end). */
                const int64_t key = j0 + row;
                const bool key_ok = key < key_end;
                const T *krow = key_ok ? k + key * p.k_ss + k_lane : k;
                xk_f32x16 s[1] = {w.scores([&](int c, xk_s16x4 &a0, xk_s16x4 &a1) {
                    const xk_s16x8 v8 = xk_load8(key_ok ? krow + c * 16 : krow, key_ok ? 8 : 0);
                    a0 = v8.lo;
                    a1 = v8.hi;
                })};
                w.softmax(s, j0, limit, true, p.scale_log2, lane);
                /* V^T: dim lane % 32 of 4 keys per step, one 16-bit load each (the transpose a
                 * decode pays instead of an LDS round trip; its bytes are still read once). */
                w.accumulate(s[0], [&](int g, int db) {
                    xk_s16x4 a;
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const int64_t kv = j0 + xk_mfma_pv_key(lane, g, e);
                        a[e] = kv < key_end ? (short)v[kv * p.v_ss + db * 32 + row] : (short)0;
                    }
                    return a;
                });
            }

            const float sum = w.total();
            if (!valid) continue;
            const int64_t slot = ((batch * p.heads_q + head) * p.seq_q + query) * p.splits + split;
            float *prow = reinterpret_cast<float *>(p.workspace) + slot * D;
#pragma unroll
            for (int db = 0; db < DB; db++)
#pragma unroll
                for (int g = 0; g < 4; g++)
                    *reinterpret_cast<float4 *>(prow + db * 32 + xk_mfma_acc_row(lane, 4 * g)) =
                        make_float4(w.o[db][4 * g], w.o[db][4 * g + 1], w.o[db][4 * g + 2],
                                    w.o[db][4 * g + 3]);
            if (lane < 32) {
                float *stats = reinterpret_cast<float *>(p.partial_stats) + slot * 2;
                stats[0] = w.m;
                stats[1] = sum;
            }
        }
    }
};

#endif /* XK_HAVE_MFMA */
#endif /* XK_ATTENTION_MFMA_CUH */
