/*
 * GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, f32 accumulation (see xhal.h).
 *
 * Two passes, as a CPU BLAS does it:
 *
 * 1. Packing (gemm_pack_*): op(A) is cut into panels of GEMM_TM rows and op(B) into panels of
 *    TN = XV * GEMM_NV columns, each panel stored k-major as f32:
 *        Ap[batch][mb][p][i] = op(A)[mb * TM + i][p]      (TM floats per k step)
 *        Bp[batch][nb][p][j] = op(B)[p][nb * TN + j]      (TN floats per k step)
 *    zero-padded past m, n and k. Transposes, leading dimensions, batch strides and the f16/bf16
 *    conversions are all dealt with here, once per element, so the inner loop sees one layout.
 *    Both operands are "rows of a matrix X, W of them per panel": X = op(A) or op(B)^T, with
 *    X[r][p] = src[r * rs + p * cs].
 *
 * 2. The tile kernel (gemm_tile_*): a work-item computes a TM x TN block of C in registers
 *    (GEMM_TM x GEMM_NV vectors of XV floats) by walking both panels, contiguous, one k step at a
 *    time: TN/XV vector loads of B, TM broadcasts of A, TM * TN/XV vector FMAs. On a CPU with
 *    PoCL (GEMM_LOCAL 0) a work-group is one work-item, which walks GEMM_RB tiles down a column
 *    so that its B panel stays in the core's L2 cache. On a GPU (GEMM_LOCAL 1) a work-group of
 *    GEMM_WG_N x GEMM_WG_M work-items first stages GEMM_KB k steps of the panels it shares in
 *    local memory.
 *
 * The epilogue (gemm_epilogue.cl) writes act(alpha * acc + beta * C + bias) converted to C's
 * dtype; with beta == 0 it never reads C. A gated GEMM packs each B panel as TN / 2 columns of
 * the gate half followed by the same TN / 2 columns of the up half, so one work-item holds both
 * factors of its outputs and C (n / 2 wide) is written once. A third kernel family (gemv_*)
 * serves small m (decode steps), where packing B would cost more than the product: it streams B
 * straight from its own layout, GEMV_M rows of A at a time in registers; its gated variants
 * (gemv_ng_*, gemv_tg_*) walk the gate and up columns of their outputs together. Quantized B has
 * its own loaders in qgemm.cl, which reuse these kernels' compute and epilogue.
 *
 * Compile-time parameters (-D, from kernels/tuning/opencl.ini): XV, GEMM_TM, GEMM_NV, GEMM_RB,
 * GEMM_LOCAL, GEMM_WG_M, GEMM_WG_N, GEMM_KB, GEMM_PACK_K, GEMV_M, GEMV_NV, GEMV_TC.
 */

/* ---- Packing ---- */

/*
 * One work-item packs k steps [p0, p0 + GEMM_PACK_K) of the panel of rows r0 .. r0 + W - 1.
 * `panel` points at the panel's first float, whose k steps are S floats apart (S = W, or TN
 * for the halves of a gated panel), `kp` is the padded depth. Defined twice, for a
 * panel in global memory (the packing kernels) and in local memory (the fused kernel): OpenCL
 * 1.2 has no pointer that reaches both.
 */
#define DEFINE_PACK_PANEL(NAME, AS)                                                                \
inline void NAME(const __global uchar *src, long base, long rs, long cs, int rows, int k, int kp,  \
                 AS float *panel, int r0, int p0, const int W, const int S, const int dt) {        \
    int p_end = min(p0 + GEMM_PACK_K, kp);                                                         \
    int full_rows = r0 + W <= rows;                                                                \
    if (full_rows && rs == 1 && W % XV == 0) {                                                     \
        /* X's rows are contiguous in memory for a fixed p (B not transposed, A transposed). */    \
        for (int p = p0; p < p_end; p++) {                                                         \
            AS float *out = panel + (long)p * S;                                                   \
            if (p < k) {                                                                           \
                for (int w = 0; w < W; w += XV)                                                    \
                    vstoreX(loadX(src, base + (long)p * cs + r0 + w, dt), 0, out + w);             \
            } else {                                                                               \
                for (int w = 0; w < W; w += XV)                                                    \
                    vstoreX((floatX)(0.0f), 0, out + w);                                           \
            }                                                                                      \
        }                                                                                          \
        return;                                                                                    \
    }                                                                                              \
    if (full_rows && cs == 1 && p_end <= k && (p_end - p0) % XV == 0 &&                            \
        (W % XV == 0 || W == XH)) {                                                                \
        /* Each row of X is contiguous along p (A not transposed, B transposed): XV steps of       \
         * up to XV rows are read as vectors, transposed in registers, and written as the          \
         * panel's rows. */                                                                        \
        for (int w0 = 0; w0 < W; w0 += XV) {                                                       \
            for (int p = p0; p < p_end; p += XV) {                                                 \
                floatX block[XV];                                                                  \
_Pragma("unroll")                                                                                  \
                for (int i = 0; i < XV; i++)                                                       \
                    block[i] = w0 + i < W ? loadX(src, base + (long)(r0 + w0 + i) * rs + p, dt)    \
                                          : (floatX)(0.0f);                                        \
                transpose_block(block);                                                            \
_Pragma("unroll")                                                                                  \
                for (int t = 0; t < XV; t++) {                                                     \
                    AS float *out = panel + (long)(p + t) * S + w0;                                \
                    if (W == XH)                                                                   \
                        vstoreH(block[t].lo, 0, out);                                              \
                    else                                                                           \
                        vstoreX(block[t], 0, out);                                                 \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        return;                                                                                    \
    }                                                                                              \
    for (int p = p0; p < p_end; p++)                                                               \
        for (int w = 0; w < W; w++) {                                                              \
            int r = r0 + w;                                                                        \
            panel[(long)p * S + w] =                                                               \
                r < rows && p < k ? load1(src, base + (long)r * rs + (long)p * cs, dt) : 0.0f;     \
        }                                                                                          \
}

DEFINE_PACK_PANEL(pack_panel, __global)
#if !GEMM_LOCAL
DEFINE_PACK_PANEL(pack_panel_local, __local)
#endif

/*
 * Panel nb of B for the tile and fused kernels: op(B)'s columns nb * TN .. (rows of X), or,
 * gated (half > 0), TN / 2 columns nb * TN / 2 .. of the gate half followed by the same columns
 * of the up half (half + nb * TN / 2 ..), each half cut at `half`.
 */
#define DEFINE_PACK_B(NAME, PANEL, AS)                                                             \
inline void NAME(const __global uchar *src, long base, long rs, long cs, int n, int up0, int k,    \
                 int kp, AS float *panel, int nb, int p0, const int dt) {                          \
    if (!up0) {                                                                                    \
        PANEL(src, base, rs, cs, n, k, kp, panel, nb * TN, p0, TN, TN, dt);                        \
        return;                                                                                    \
    }                                                                                              \
    PANEL(src, base, rs, cs, up0, k, kp, panel, nb * (TN / 2), p0, TN / 2, TN, dt);                \
    PANEL(src, base + up0 * rs, rs, cs, up0, k, kp, panel + TN / 2, nb * (TN / 2), p0, TN / 2,     \
          TN, dt);                                                                                 \
}

DEFINE_PACK_B(pack_b_panel, pack_panel, __global)
#if !GEMM_LOCAL
DEFINE_PACK_B(pack_b_panel_local, pack_panel_local, __local)
#endif

/*
 * Global size: (ceil(kp / GEMM_PACK_K), panels, batches packed). `dst_batch` is the distance
 * between the packed batches, in floats. B's packing takes `up0` (gated: n / 2; else 0).
 */
#define PACK_A_KERNEL(NAME, DT)                                                                    \
    __kernel void NAME(const __global uchar *src, long offset, long rs, long cs,                   \
                       long batch_stride, int rows, int k, int kp, __global float *dst,            \
                       long dst_batch) {                                                           \
        int rb = get_global_id(1);                                                                 \
        int b = get_global_id(2);                                                                  \
        pack_panel(src, offset + b * batch_stride, rs, cs, rows, k, kp,                            \
                   dst + b * dst_batch + (long)rb * kp * TM, rb * TM,                              \
                   get_global_id(0) * GEMM_PACK_K, TM, TM, (DT));                                  \
    }
#define PACK_B_KERNEL(NAME, DT)                                                                    \
    __kernel void NAME(const __global uchar *src, long offset, long rs, long cs,                   \
                       long batch_stride, int rows, int up0, int k, int kp, __global float *dst,   \
                       long dst_batch) {                                                           \
        int rb = get_global_id(1);                                                                 \
        int b = get_global_id(2);                                                                  \
        pack_b_panel(src, offset + b * batch_stride, rs, cs, rows, up0, k, kp,                     \
                     dst + b * dst_batch + (long)rb * kp * TN, rb, get_global_id(0) * GEMM_PACK_K, \
                     (DT));                                                                        \
    }

PACK_A_KERNEL(gemm_pack_a_f32, DT_F32)
PACK_A_KERNEL(gemm_pack_a_f16, DT_F16)
PACK_A_KERNEL(gemm_pack_a_bf16, DT_BF16)
PACK_B_KERNEL(gemm_pack_b_f32, DT_F32)
PACK_B_KERNEL(gemm_pack_b_f16, DT_F16)
PACK_B_KERNEL(gemm_pack_b_bf16, DT_BF16)

/* ---- The tile kernel ---- */

#if GEMM_LOCAL

/*
 * A GPU-style work-group: GEMM_WG_N x GEMM_WG_M work-items share panels through local memory
 * (declared in the kernel, as OpenCL C requires): la holds GEMM_KB k steps of the group's
 * GEMM_WG_M panels of A, lb the same of its GEMM_WG_N panels of B.
 */
#define TILE_LOCALS                                                                                \
    __local float la[GEMM_WG_M][GEMM_KB * TM];                                                     \
    __local float lb[GEMM_WG_N][GEMM_KB * TN];
#define TILE_LOCAL_ARGS , la, lb

inline void gemm_tile_body(const __global float *ap_all, const __global float *bp_all, long a_batch,
                           long b_batch, __global uchar *c, long c_offset, long ldc,
                           long c_batch, int m, int n, int kp, const epilogue_t *e,
                           const int dt, __local float (*la)[GEMM_KB * TM],
                           __local float (*lb)[GEMM_KB * TN]) {
    int ln = get_local_id(0), lm = get_local_id(1);
    int lid = lm * GEMM_WG_N + ln;
    int nb0 = get_group_id(0) * GEMM_WG_N, mb0 = get_group_id(1) * GEMM_WG_M;
    int b = get_global_id(2);
    const __global float *ap = ap_all + b * a_batch + (long)mb0 * kp * TM;
    const __global float *bp = bp_all + b * b_batch + (long)nb0 * kp * TN;

    floatX acc[TM][NV];
    for (int i = 0; i < TM; i++)
        for (int v = 0; v < NV; v++)
            acc[i][v] = (floatX)(0.0f);

    for (int p0 = 0; p0 < kp; p0 += GEMM_KB) {
        /* The padded panels exist for every work-item of the group (the host pads m and n to
         * whole groups), so the copy needs no guard. */
        for (int q = lid; q < GEMM_WG_M * GEMM_KB * TM; q += GEMM_WG_M * GEMM_WG_N) {
            int g = q / (GEMM_KB * TM), r = q % (GEMM_KB * TM);
            la[g][r] = ap[(long)g * kp * TM + (long)p0 * TM + r];
        }
        for (int q = lid; q < GEMM_WG_N * GEMM_KB * TN; q += GEMM_WG_M * GEMM_WG_N) {
            int g = q / (GEMM_KB * TN), r = q % (GEMM_KB * TN);
            lb[g][r] = bp[(long)g * kp * TN + (long)p0 * TN + r];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int p = 0; p < GEMM_KB; p++) {
            floatX bv[NV];
            for (int v = 0; v < NV; v++)
                bv[v] = vloadX(v, &lb[ln][p * TN]);
            for (int i = 0; i < TM; i++) {
                floatX av = (floatX)(la[lm][p * TM + i]);
                for (int v = 0; v < NV; v++)
                    acc[i][v] = fma(av, bv[v], acc[i][v]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    int row0 = (mb0 + lm) * TM;
    for (int i = 0; i < TM; i++) {
        if (row0 + i >= m) break;
        store_tile_row(c, c_offset + b * c_batch + (long)(row0 + i) * ldc, nb0 + ln, n, acc[i], e,
                       dt);
    }
}

#define TILE_ATTRIBUTES __attribute__((reqd_work_group_size(GEMM_WG_N, GEMM_WG_M, 1)))

#else

/* A CPU-style work-item: GEMM_RB tiles down one column of C, all in registers. */
inline void gemm_tile_body(const __global float *ap_all, const __global float *bp_all, long a_batch,
                           long b_batch, __global uchar *c, long c_offset, long ldc,
                           long c_batch, int m, int n, int kp, const epilogue_t *e,
                           const int dt) {
    int nb = get_global_id(0);
    int b = get_global_id(2);
    const __global float *bp = bp_all + b * b_batch + (long)nb * kp * TN;

    for (int t = 0; t < GEMM_RB; t++) {
        int mb = get_global_id(1) * GEMM_RB + t;
        if (mb * TM >= m) break;
        const __global float *ap = ap_all + b * a_batch + (long)mb * kp * TM;

        floatX acc[TM][NV];
#pragma unroll
        for (int i = 0; i < TM; i++)
#pragma unroll
            for (int v = 0; v < NV; v++)
                acc[i][v] = (floatX)(0.0f);

        /* Unrolled completely, so that acc lives in registers: PoCL does not unroll by itself. */
        for (int p = 0; p < kp; p++) {
            floatX bv[NV];
#pragma unroll
            for (int v = 0; v < NV; v++)
                bv[v] = vloadX(v, bp + (long)p * TN);
#pragma unroll
            for (int i = 0; i < TM; i++) {
                floatX av = (floatX)(ap[(long)p * TM + i]);
#pragma unroll
                for (int v = 0; v < NV; v++)
                    acc[i][v] = fma(av, bv[v], acc[i][v]);
            }
        }

        int row0 = mb * TM;
#pragma unroll
        for (int i = 0; i < TM; i++)
            if (row0 + i < m)
                store_tile_row(c, c_offset + b * c_batch + (long)(row0 + i) * ldc, nb, n, acc[i],
                               e, dt);
    }
}

/*
 * The fused kernel (CPU devices, f32 A): no packing pass at all. A work-group (one work-item)
 * first packs its own B panel into local memory (which PoCL keeps in the core's L2; the
 * quantized kernels of qgemm.cl dequantize into it), then gemm_fused_compute walks `tiles` row
 * tiles of C reading op(A) in place, a_rs / a_cs apart (A not transposed: 8 row streams;
 * transposed: 8 neighbours), and writes C. Rows past m read row m - 1 (harmless, never stored).
 * `bl` holds k x TN floats. Global size: (panels of B, row groups, batch).
 */
inline void gemm_fused_compute(const __global float *a_all, long a_offset, long a_rs, long a_cs,
                               long a_batch, __global uchar *c, long c_offset, long ldc,
                               long c_batch, int m, int n, int k, int tiles, const epilogue_t *e,
                               int cdt, const __local float *bl) {
    int nb = get_global_id(0), group = get_global_id(1), b = get_global_id(2);
    const __global float *a = a_all + a_offset + b * a_batch;

    for (int t = 0; t < tiles; t++) {
        int row0 = (group * tiles + t) * TM;
        if (row0 >= m) break;
        const __global float *a_row[TM];
#pragma unroll
        for (int i = 0; i < TM; i++)
            a_row[i] = a + (long)min(row0 + i, m - 1) * a_rs;

        floatX acc[TM][NV];
#pragma unroll
        for (int i = 0; i < TM; i++)
#pragma unroll
            for (int v = 0; v < NV; v++)
                acc[i][v] = (floatX)(0.0f);
        for (int p = 0; p < k; p++) {
            floatX bv[NV];
#pragma unroll
            for (int v = 0; v < NV; v++)
                bv[v] = vloadX(v, bl + (long)p * TN);
            long at = (long)p * a_cs;
#pragma unroll
            for (int i = 0; i < TM; i++) {
                floatX av = (floatX)(a_row[i][at]);
#pragma unroll
                for (int v = 0; v < NV; v++)
                    acc[i][v] = fma(av, bv[v], acc[i][v]);
            }
        }
#pragma unroll
        for (int i = 0; i < TM; i++)
            if (row0 + i < m)
                store_tile_row_any(c, c_offset + b * c_batch + (long)(row0 + i) * ldc, nb, n,
                                   acc[i], e, cdt);
    }
}

/* The fused kernels' arguments before the epilogue's, and their shared prologue. */
#define FUSED_ARGS                                                                                 \
    const __global float *a, long a_offset, long a_rs, long a_cs, long a_batch,                    \
        const __global uchar *b_mat, long b_offset, long b_rs, long b_cs, long b_batch,            \
        __global uchar *c, long c_offset, long ldc, long c_batch, int m, int n, int k, int tiles,  \
        int cdt, __local float *bl

#define FUSED_KERNEL(NAME, BDT)                                                                    \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(FUSED_ARGS,                  \
                                                                      EPILOGUE_ARGS) {             \
        EPILOGUE_INIT(e);                                                                          \
        int nb = get_global_id(0);                                                                 \
        long base = b_offset + get_global_id(2) * b_batch;                                         \
        for (int p0 = 0; p0 < k; p0 += GEMM_PACK_K)                                                \
            pack_b_panel_local(b_mat, base, b_rs, b_cs, n, up0, k, k, bl, nb, p0, (BDT));          \
        gemm_fused_compute(a, a_offset, a_rs, a_cs, a_batch, c, c_offset, ldc, c_batch, m, n, k,   \
                           tiles, &e, cdt, bl);                                                    \
    }

#define TILE_ATTRIBUTES __attribute__((reqd_work_group_size(1, 1, 1)))
#define TILE_LOCALS
#define TILE_LOCAL_ARGS

#endif

/*
 * Global size: (panels of B, ceil(panels of A / GEMM_RB), batch), rounded up to whole groups.
 * a_batch / b_batch are the distances between packed batches in floats (0: shared operand).
 */
#define TILE_KERNEL(NAME, DT)                                                                      \
    __kernel TILE_ATTRIBUTES void NAME(                                                            \
        const __global float *ap, const __global float *bp, long a_batch, long b_batch,            \
        __global uchar *c, long c_offset, long ldc, long c_batch, int m, int n, int kp,            \
        EPILOGUE_ARGS) {                                                                           \
        TILE_LOCALS                                                                                \
        EPILOGUE_INIT(e);                                                                          \
        gemm_tile_body(ap, bp, a_batch, b_batch, c, c_offset, ldc, c_batch, m, n, kp, &e,          \
                       (DT)TILE_LOCAL_ARGS);                                                       \
    }

TILE_KERNEL(gemm_tile_f32, DT_F32)
TILE_KERNEL(gemm_tile_f16, DT_F16)
TILE_KERNEL(gemm_tile_bf16, DT_BF16)

#if !GEMM_LOCAL
FUSED_KERNEL(gemm_fused_f32, DT_F32)
FUSED_KERNEL(gemm_fused_f16, DT_F16)
FUSED_KERNEL(gemm_fused_bf16, DT_BF16)
#endif

/* ---- GEMV: small m, B streamed from its own layout ---- */

/*
 * op(A) copied to f32 rows (m x k, dense) first, so that the GEMV kernels read A one way.
 * With `split` set (qgemv_t of INT4 B), each whole block of 2 XV k steps is stored as its XV
 * even steps, then its XV odd ones: the order in which a vector of bytes unpacks into its low
 * and high nibbles, so the kernel multiplies them without interleaving them first.
 * Global size: (m, batches of A).
 */
#define COPY_A_KERNEL(NAME, DT)                                                                    \
    __kernel void NAME(const __global uchar *src, long offset, long rs, long cs,                   \
                       long batch_stride, int m, int k, __global float *dst, int split) {          \
        int i = get_global_id(0), b = get_global_id(1);                                            \
        long base = offset + b * batch_stride + (long)i * rs;                                      \
        __global float *out = dst + ((long)b * m + i) * k;                                         \
        int blocks = split ? k - k % (2 * XV) : 0;                                                 \
        for (int p = 0; p < blocks; p++) {                                                         \
            int t = p % (2 * XV);                                                                  \
            out[p - t + (t % 2) * XV + t / 2] = load1(src, base + (long)p * cs, (DT));             \
        }                                                                                          \
        for (int p = blocks; p < k; p++)                                                           \
            out[p] = load1(src, base + (long)p * cs, (DT));                                        \
    }

COPY_A_KERNEL(gemm_copy_a_f32, DT_F32)
COPY_A_KERNEL(gemm_copy_a_f16, DT_F16)
COPY_A_KERNEL(gemm_copy_a_bf16, DT_BF16)

/*
 * The GEMV kernels come in two forms: G = 1 computes product columns, G = 2 (gated) computes
 * output columns j from product columns j and up0 + j (up0 = n / 2), holding twice the
 * accumulators per output; it keeps GEMV_M2 rows of A in registers instead of GEMV_M, so that
 * the accumulators take the same registers. Arrays are sized for the larger form; the unused part is never
 * touched and disappears once the body is inlined with G constant.
 */
#define GEMV_M2 (GEMV_M > 1 ? GEMV_M / 2 : 1)

/* Rows i0 .. i0 + rows - 1 of gemv_n_body (a: row i0 of A); called with rows a constant 1 for
 * decode, so that the guards on the rows fold away there. */
ALWAYS_INLINE void gemv_n_rows(const __global float *a, const __global uchar *b_mat, long bbase,
                               long ldb, __global uchar *c, long cbase, long ldc, int i0,
                               int rows, int n, int k, int j0, const epilogue_t *e, int cdt,
                               const int bdt, const int G) {
    const int rows_max = G == 1 ? GEMV_M : GEMV_M2;
    floatX acc[GEMV_M][2 * GEMV_NV];
#pragma unroll
    for (int i = 0; i < GEMV_M; i++) if (i < rows_max)
#pragma unroll
        for (int v = 0; v < 2 * GEMV_NV; v++) if (v < G * GEMV_NV)
            acc[i][v] = (floatX)(0.0f);
    for (int p = 0; p < k; p++) {
        floatX bv[2 * GEMV_NV];
#pragma unroll
        for (int v = 0; v < 2 * GEMV_NV; v++) if (v < G * GEMV_NV)
            bv[v] = loadX(b_mat,
                          bbase + (long)p * ldb + j0 + (v % GEMV_NV) * XV +
                              (v / GEMV_NV) * e->up0,
                          bdt);
#pragma unroll
        for (int i = 0; i < GEMV_M; i++) if (i < rows_max)
            if (i < rows) {
                floatX av = (floatX)(a[(long)i * k + p]);
#pragma unroll
                for (int v = 0; v < 2 * GEMV_NV; v++) if (v < G * GEMV_NV)
                    acc[i][v] = fma(av, bv[v], acc[i][v]);
            }
    }
    for (int i = 0; i < rows; i++)
        for (int v = 0; v < GEMV_NV; v++) {
            long row = cbase + (long)(i0 + i) * ldc;
            int col = j0 + v * XV;
            if (G == 1)
                store_row_any(c, row, col, n, acc[i][v], e, cdt);
            else
                store_row_gated_any(c, row, col, acc[i][v], acc[i][v + GEMV_NV], e, cdt);
        }
}

/*
 * B not transposed (k x n, rows contiguous): a work-item owns XV * GEMV_NV output columns and
 * walks k, reading one contiguous piece of each row of B (two when gated) for GEMV_M rows of A
 * at a time (a second block of rows reads the work-item's strip of B again, from cache).
 * Global size: (ceil(outputs / (XV * GEMV_NV)), 1, batch).
 */
inline void gemv_n_body(const __global float *a_all, long a_batch, const __global uchar *b_mat,
                        long b_offset, long ldb, long b_batch, __global uchar *c, long c_offset,
                        long ldc, long c_batch, int m, int n, int k, const epilogue_t *e, int cdt,
                        const int bdt, const int G) {
    const int rows_max = G == 1 ? GEMV_M : GEMV_M2;
    int j0 = get_global_id(0) * (XV * GEMV_NV);
    int b = get_global_id(2);
    int outputs = G == 1 ? n : e->up0;
    const __global float *a_batch_rows = a_all + b * a_batch;
    long bbase = b_offset + b * b_batch;
    long cbase = c_offset + b * c_batch;

    if (j0 + XV * GEMV_NV > outputs) {
        /* The last, partial block of columns: one output at a time. */
        for (int j = j0; j < outputs; j++)
            for (int i = 0; i < m; i++) {
                float sum[2] = {0.0f, 0.0f};
                for (int g = 0; g < G; g++)
                    for (int p = 0; p < k; p++)
                        sum[g] = fma(a_batch_rows[(long)i * k + p],
                                     load1(b_mat, bbase + (long)p * ldb + j + g * e->up0, bdt),
                                     sum[g]);
                long at = cbase + (long)i * ldc + j;
                if (G == 1)
                    store_one_any(c, at, j, sum[0], e, cdt);
                else
                    store_one_gated(c, at, j, sum[0], sum[1], e, cdt);
            }
        return;
    }
    for (int i0 = 0; i0 < m; i0 += rows_max) {
        int rows = min(rows_max, m - i0);
        const __global float *a = a_batch_rows + (long)i0 * k;
        if (rows == 1)
            gemv_n_rows(a, b_mat, bbase, ldb, c, cbase, ldc, i0, 1, n, k, j0, e, cdt, bdt, G);
        else
            gemv_n_rows(a, b_mat, bbase, ldb, c, cbase, ldc, i0, rows, n, k, j0, e, cdt, bdt, G);
    }
}

/* Rows i0 .. i0 + rows - 1 of gemv_t_body, as gemv_n_rows. brow: where each slot's column of
 * op(B) starts. */
ALWAYS_INLINE void gemv_t_rows(const __global float *a, const __global uchar *b_mat,
                               const long *brow, __global uchar *c, long cbase, long ldc, int i0,
                               int rows, int k, int j0, int cols, const epilogue_t *e, int cdt,
                               const int bdt, const int G) {
    const int rows_max = G == 1 ? GEMV_M : GEMV_M2;
    int kv = k - k % XV;
    floatX acc[GEMV_M][2 * GEMV_TC];
#pragma unroll
    for (int i = 0; i < GEMV_M; i++) if (i < rows_max)
#pragma unroll
        for (int s = 0; s < 2 * GEMV_TC; s++) if (s < G * GEMV_TC)
            acc[i][s] = (floatX)(0.0f);
    for (int p = 0; p < kv; p += XV) {
        floatX bv[2 * GEMV_TC];
#pragma unroll
        for (int s = 0; s < 2 * GEMV_TC; s++) if (s < G * GEMV_TC)
            bv[s] = loadX(b_mat, brow[s] + p, bdt);
#pragma unroll
        for (int i = 0; i < GEMV_M; i++) if (i < rows_max)
            if (i < rows) {
                floatX av = vloadX(0, a + (long)i * k + p);
#pragma unroll
                for (int s = 0; s < 2 * GEMV_TC; s++) if (s < G * GEMV_TC)
                    acc[i][s] = fma(av, bv[s], acc[i][s]);
            }
    }
    for (int i = 0; i < rows; i++)
        for (int t = 0; t < cols; t++) {
            float sum[2];
            for (int g = 0; g < G; g++) {
                int s = t + g * GEMV_TC;
                sum[g] = hsumX(acc[i][s]);
                for (int p = kv; p < k; p++)
                    sum[g] = fma(a[(long)i * k + p], load1(b_mat, brow[s] + p, bdt), sum[g]);
            }
            long at = cbase + (long)(i0 + i) * ldc + j0 + t;
            if (G == 1)
                store_one_any(c, at, j0 + t, sum[0], e, cdt);
            else
                store_one_gated(c, at, j0 + t, sum[0], sum[1], e, cdt);
        }
}

/*
 * B transposed (n x k, each column of op(B) contiguous): a work-item owns GEMV_TC output columns
 * (gated: their gate and up columns) and computes their dot products with GEMV_M rows of A at a
 * time, XV steps of k at once, reducing the vectors at the end. Global size:
 * (ceil(outputs / GEMV_TC), 1, batch).
 */
inline void gemv_t_body(const __global float *a_all, long a_batch, const __global uchar *b_mat,
                        long b_offset, long ldb, long b_batch, __global uchar *c, long c_offset,
                        long ldc, long c_batch, int m, int n, int k, const epilogue_t *e, int cdt,
                        const int bdt, const int G) {
    const int rows_max = G == 1 ? GEMV_M : GEMV_M2;
    int j0 = get_global_id(0) * GEMV_TC;
    int b = get_global_id(2);
    const __global float *a_batch_rows = a_all + b * a_batch;
    long cbase = c_offset + b * c_batch;
    int cols = min(GEMV_TC, (G == 1 ? n : e->up0) - j0);
    /* Where each slot's column of op(B) starts; slots past the outputs read the first one. */
    long brow[2 * GEMV_TC];
#pragma unroll
    for (int s = 0; s < 2 * GEMV_TC; s++) if (s < G * GEMV_TC)
        brow[s] = b_offset + b * b_batch +
                  (long)((s % GEMV_TC < cols ? j0 + s % GEMV_TC : j0) + (s / GEMV_TC) * e->up0) *
                      ldb;
    for (int i0 = 0; i0 < m; i0 += rows_max) {
        int rows = min(rows_max, m - i0);
        const __global float *a = a_batch_rows + (long)i0 * k;
        if (rows == 1)
            gemv_t_rows(a, b_mat, brow, c, cbase, ldc, i0, 1, k, j0, cols, e, cdt, bdt, G);
        else
            gemv_t_rows(a, b_mat, brow, c, cbase, ldc, i0, rows, k, j0, cols, e, cdt, bdt, G);
    }
}

#define GEMV_KERNEL(NAME, BODY, BDT, G)                                                            \
    __kernel void NAME(const __global float *a, long a_batch, const __global uchar *b_mat,         \
                       long b_offset, long ldb, long b_batch, __global uchar *c, long c_offset,    \
                       long ldc, long c_batch, int m, int n, int k, int cdt, EPILOGUE_ARGS) {      \
        EPILOGUE_INIT(e);                                                                          \
        BODY(a, a_batch, b_mat, b_offset, ldb, b_batch, c, c_offset, ldc, c_batch, m, n, k, &e,    \
             cdt, (BDT), (G));                                                                     \
    }

GEMV_KERNEL(gemv_n_f32, gemv_n_body, DT_F32, 1)
GEMV_KERNEL(gemv_n_f16, gemv_n_body, DT_F16, 1)
GEMV_KERNEL(gemv_n_bf16, gemv_n_body, DT_BF16, 1)
GEMV_KERNEL(gemv_t_f32, gemv_t_body, DT_F32, 1)
GEMV_KERNEL(gemv_t_f16, gemv_t_body, DT_F16, 1)
GEMV_KERNEL(gemv_t_bf16, gemv_t_body, DT_BF16, 1)
GEMV_KERNEL(gemv_ng_f32, gemv_n_body, DT_F32, 2)
GEMV_KERNEL(gemv_ng_f16, gemv_n_body, DT_F16, 2)
GEMV_KERNEL(gemv_ng_bf16, gemv_n_body, DT_BF16, 2)
GEMV_KERNEL(gemv_tg_f32, gemv_t_body, DT_F32, 2)
GEMV_KERNEL(gemv_tg_f16, gemv_t_body, DT_F16, 2)
GEMV_KERNEL(gemv_tg_bf16, gemv_t_body, DT_BF16, 2)
