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
 * The epilogue writes alpha * acc + beta * C converted to C's dtype; with beta == 0 it never
 * reads C. A third kernel family (gemv_*) serves small m (decode steps), where packing B would
 * cost more than the product: it streams B straight from its own layout, GEMV_M rows of A at a
 * time in registers.
 *
 * Compile-time parameters (-D, from kernels/tuning/opencl.ini): XV, GEMM_TM, GEMM_NV, GEMM_RB,
 * GEMM_LOCAL, GEMM_WG_M, GEMM_WG_N, GEMM_KB, GEMM_PACK_K, GEMV_M, GEMV_NV, GEMV_TC.
 */

#define TM GEMM_TM
#define NV GEMM_NV
#define TN (XV * GEMM_NV)

/* ---- Packing ---- */

/*
 * One work-item packs k steps [p0, p0 + GEMM_PACK_K) of the panel of rows r0 .. r0 + W - 1.
 * `panel` points at the panel's first float, `kp` is the padded depth. Defined twice, for a
 * panel in global memory (the packing kernels) and in local memory (the fused kernel): OpenCL
 * 1.2 has no pointer that reaches both.
 */
#define DEFINE_PACK_PANEL(NAME, AS)                                                                \
inline void NAME(const __global uchar *src, long base, long rs, long cs, int rows, int k, int kp,  \
                 AS float *panel, int r0, int p0, const int W, const int dt) {                     \
    int p_end = min(p0 + GEMM_PACK_K, kp);                                                         \
    int full_rows = r0 + W <= rows;                                                                \
    if (full_rows && rs == 1 && W % XV == 0) {                                                     \
        /* X's rows are contiguous in memory for a fixed p (B not transposed, A transposed). */    \
        for (int p = p0; p < p_end; p++) {                                                         \
            AS float *out = panel + (long)p * W;                                                   \
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
                    AS float *out = panel + (long)(p + t) * W + w0;                                \
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
            panel[(long)p * W + w] =                                                               \
                r < rows && p < k ? load1(src, base + (long)r * rs + (long)p * cs, dt) : 0.0f;     \
        }                                                                                          \
}

DEFINE_PACK_PANEL(pack_panel, __global)
#if !GEMM_LOCAL
DEFINE_PACK_PANEL(pack_panel_local, __local)
#endif

/*
 * Global size: (ceil(kp / GEMM_PACK_K), panels, batches packed). `dst_batch` is the distance
 * between the packed batches, in floats.
 */
#define PACK_KERNEL(NAME, W, DT)                                                                   \
    __kernel void NAME(const __global uchar *src, long offset, long rs, long cs,                   \
                       long batch_stride, int rows, int k, int kp, __global float *dst,            \
                       long dst_batch) {                                                           \
        int rb = get_global_id(1);                                                                 \
        int b = get_global_id(2);                                                                  \
        pack_panel(src, offset + b * batch_stride, rs, cs, rows, k, kp,                            \
                   dst + b * dst_batch + (long)rb * kp * (W), rb * (W),                            \
                   get_global_id(0) * GEMM_PACK_K, (W), (DT));                                     \
    }

PACK_KERNEL(gemm_pack_a_f32, TM, DT_F32)
PACK_KERNEL(gemm_pack_a_f16, TM, DT_F16)
PACK_KERNEL(gemm_pack_a_bf16, TM, DT_BF16)
PACK_KERNEL(gemm_pack_b_f32, TN, DT_F32)
PACK_KERNEL(gemm_pack_b_f16, TN, DT_F16)
PACK_KERNEL(gemm_pack_b_bf16, TN, DT_BF16)

/* ---- The epilogue: alpha * acc (+ beta * C) into C, guarded at the edges of C ---- */

inline void store_row(__global uchar *c, long row, int col, int n, floatX acc, float alpha,
                      float beta, const int dt) {
    floatX out = alpha * acc;
    if (col + XV <= n) {
        if (beta != 0.0f) out = fma((floatX)(beta), loadX(c, row + col, dt), out);
        storeX(c, row + col, out, dt);
        return;
    }
    float lanes[XV];
    vstoreX(out, 0, lanes);
    for (int t = 0; t < n - col; t++) {
        float v = lanes[t];
        if (beta != 0.0f) v = fma(beta, load1(c, row + col + t, dt), v);
        store1(c, row + col + t, v, dt);
    }
}

/* C's dtype `cdt` as a run-time value (GEMV and fused kernels): it is used once per output. */
inline void store_row_any(__global uchar *c, long row, int col, int n, floatX acc, float alpha,
                          float beta, int cdt) {
    if (cdt == DT_F32)
        store_row(c, row, col, n, acc, alpha, beta, DT_F32);
    else if (cdt == DT_F16)
        store_row(c, row, col, n, acc, alpha, beta, DT_F16);
    else
        store_row(c, row, col, n, acc, alpha, beta, DT_BF16);
}

inline void store_one_any(__global uchar *c, long at, float sum, float alpha, float beta,
                          int cdt) {
    float out = alpha * sum;
    if (beta != 0.0f) {
        float old = cdt == DT_F32   ? load1(c, at, DT_F32)
                    : cdt == DT_F16 ? load1(c, at, DT_F16)
                                    : load1(c, at, DT_BF16);
        out = fma(beta, old, out);
    }
    if (cdt == DT_F32)
        store1(c, at, out, DT_F32);
    else if (cdt == DT_F16)
        store1(c, at, out, DT_F16);
    else
        store1(c, at, out, DT_BF16);
}

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
                           long c_batch, int m, int n, int kp, float alpha, float beta,
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
        for (int e = lid; e < GEMM_WG_M * GEMM_KB * TM; e += GEMM_WG_M * GEMM_WG_N) {
            int q = e / (GEMM_KB * TM), r = e % (GEMM_KB * TM);
            la[q][r] = ap[(long)q * kp * TM + (long)p0 * TM + r];
        }
        for (int e = lid; e < GEMM_WG_N * GEMM_KB * TN; e += GEMM_WG_M * GEMM_WG_N) {
            int q = e / (GEMM_KB * TN), r = e % (GEMM_KB * TN);
            lb[q][r] = bp[(long)q * kp * TN + (long)p0 * TN + r];
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

    int row0 = (mb0 + lm) * TM, col0 = (nb0 + ln) * TN;
    for (int i = 0; i < TM; i++) {
        if (row0 + i >= m) break;
        long row = c_offset + b * c_batch + (long)(row0 + i) * ldc;
        for (int v = 0; v < NV; v++) {
            if (col0 + v * XV >= n) break;
            store_row(c, row, col0 + v * XV, n, acc[i][v], alpha, beta, dt);
        }
    }
}

#define TILE_ATTRIBUTES __attribute__((reqd_work_group_size(GEMM_WG_N, GEMM_WG_M, 1)))

#else

/* A CPU-style work-item: GEMM_RB tiles down one column of C, all in registers. */
inline void gemm_tile_body(const __global float *ap_all, const __global float *bp_all, long a_batch,
                           long b_batch, __global uchar *c, long c_offset, long ldc,
                           long c_batch, int m, int n, int kp, float alpha, float beta,
                           const int dt) {
    int nb = get_global_id(0);
    int b = get_global_id(2);
    const __global float *bp = bp_all + b * b_batch + (long)nb * kp * TN;
    int col0 = nb * TN;

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
        for (int i = 0; i < TM; i++) {
            if (row0 + i < m) {
                long row = c_offset + b * c_batch + (long)(row0 + i) * ldc;
#pragma unroll
                for (int v = 0; v < NV; v++)
                    if (col0 + v * XV < n)
                        store_row(c, row, col0 + v * XV, n, acc[i][v], alpha, beta, dt);
            }
        }
    }
}

/*
 * The fused kernel (CPU devices, f32 A): no packing pass at all. A work-group (one work-item)
 * first packs its own B panel into local memory (which PoCL keeps in the core's L2), then walks
 * `tiles` row tiles of C reading op(A) in place, a_rs / a_cs apart (A not transposed: 8 row
 * streams; transposed: 8 neighbours), and writes C. Rows past m read row m - 1 (harmless, never
 * stored). `bl` holds k x TN floats. Global size: (panels of B, row groups, batch).
 */
inline void gemm_fused_body(const __global float *a_all, long a_offset, long a_rs, long a_cs,
                            long a_batch, const __global uchar *b_mat, long b_offset, long b_rs,
                            long b_cs, long b_batch, __global uchar *c, long c_offset, long ldc,
                            long c_batch, int m, int n, int k, int tiles, float alpha, float beta,
                            int cdt, __local float *bl, const int bdt) {
    int nb = get_global_id(0), group = get_global_id(1), b = get_global_id(2);
    int col0 = nb * TN;
    for (int p0 = 0; p0 < k; p0 += GEMM_PACK_K)
        pack_panel_local(b_mat, b_offset + b * b_batch, b_rs, b_cs, n, k, k, bl, col0, p0, TN,
                         bdt);
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
        for (int i = 0; i < TM; i++) {
            if (row0 + i < m) {
                long row = c_offset + b * c_batch + (long)(row0 + i) * ldc;
#pragma unroll
                for (int v = 0; v < NV; v++)
                    if (col0 + v * XV < n)
                        store_row_any(c, row, col0 + v * XV, n, acc[i][v], alpha, beta, cdt);
            }
        }
    }
}

#define FUSED_KERNEL(NAME, BDT)                                                                    \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(                             \
        const __global float *a, long a_offset, long a_rs, long a_cs, long a_batch,                \
        const __global uchar *b_mat, long b_offset, long b_rs, long b_cs, long b_batch,            \
        __global uchar *c, long c_offset, long ldc, long c_batch, int m, int n, int k, int tiles,  \
        float alpha, float beta, int cdt, __local float *bl) {                                     \
        gemm_fused_body(a, a_offset, a_rs, a_cs, a_batch, b_mat, b_offset, b_rs, b_cs, b_batch, c, \
                        c_offset, ldc, c_batch, m, n, k, tiles, alpha, beta, cdt, bl, (BDT));      \
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
        float alpha, float beta) {                                                                 \
        TILE_LOCALS                                                                                \
        gemm_tile_body(ap, bp, a_batch, b_batch, c, c_offset, ldc, c_batch, m, n, kp, alpha,       \
                       beta, (DT)TILE_LOCAL_ARGS);                                                 \
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
 * Global size: (m, batches of A).
 */
#define COPY_A_KERNEL(NAME, DT)                                                                    \
    __kernel void NAME(const __global uchar *src, long offset, long rs, long cs,                   \
                       long batch_stride, int m, int k, __global float *dst) {                     \
        int i = get_global_id(0), b = get_global_id(1);                                            \
        long base = offset + b * batch_stride + (long)i * rs;                                      \
        __global float *out = dst + ((long)b * m + i) * k;                                         \
        for (int p = 0; p < k; p++)                                                                \
            out[p] = load1(src, base + (long)p * cs, (DT));                                        \
    }

COPY_A_KERNEL(gemm_copy_a_f32, DT_F32)
COPY_A_KERNEL(gemm_copy_a_f16, DT_F16)
COPY_A_KERNEL(gemm_copy_a_bf16, DT_BF16)

/*
 * B not transposed (k x n, rows contiguous): a work-item owns XV * GEMV_NV columns and walks k,
 * reading one contiguous piece of each row of B, for GEMV_M rows of A at a time (a second block
 * of rows reads the work-item's strip of B again, from cache). Global size:
 * (ceil(n / (XV * GEMV_NV)), 1, batch).
 */
inline void gemv_n_body(const __global float *a_all, long a_batch, const __global uchar *b_mat,
                        long b_offset, long ldb, long b_batch, __global uchar *c, long c_offset,
                        long ldc, long c_batch, int m, int n, int k, float alpha, float beta,
                        int cdt, const int bdt) {
    int j0 = get_global_id(0) * (XV * GEMV_NV);
    int b = get_global_id(2);
    const __global float *a_batch_rows = a_all + b * a_batch;
    long bbase = b_offset + b * b_batch;
    long cbase = c_offset + b * c_batch;

    if (j0 + XV * GEMV_NV > n) {
        /* The last, partial block of columns: one column at a time. */
        for (int j = j0; j < n; j++)
            for (int i = 0; i < m; i++) {
                float sum = 0.0f;
                for (int p = 0; p < k; p++)
                    sum = fma(a_batch_rows[(long)i * k + p],
                              load1(b_mat, bbase + (long)p * ldb + j, bdt), sum);
                store_one_any(c, cbase + (long)i * ldc + j, sum, alpha, beta, cdt);
            }
        return;
    }
    for (int i0 = 0; i0 < m; i0 += GEMV_M) {
        int rows = min(GEMV_M, m - i0);
        const __global float *a = a_batch_rows + (long)i0 * k;
        floatX acc[GEMV_M][GEMV_NV];
#pragma unroll
        for (int i = 0; i < GEMV_M; i++)
#pragma unroll
            for (int v = 0; v < GEMV_NV; v++)
                acc[i][v] = (floatX)(0.0f);
        for (int p = 0; p < k; p++) {
            floatX bv[GEMV_NV];
#pragma unroll
            for (int v = 0; v < GEMV_NV; v++)
                bv[v] = loadX(b_mat, bbase + (long)p * ldb + j0 + v * XV, bdt);
#pragma unroll
            for (int i = 0; i < GEMV_M; i++)
                if (i < rows) {
                    floatX av = (floatX)(a[(long)i * k + p]);
#pragma unroll
                    for (int v = 0; v < GEMV_NV; v++)
                        acc[i][v] = fma(av, bv[v], acc[i][v]);
                }
        }
        for (int i = 0; i < rows; i++)
            for (int v = 0; v < GEMV_NV; v++)
                store_row_any(c, cbase + (long)(i0 + i) * ldc, j0 + v * XV, n, acc[i][v], alpha,
                              beta, cdt);
    }
}

/*
 * B transposed (n x k, each column of op(B) contiguous): a work-item owns GEMV_TC columns and
 * computes their dot products with GEMV_M rows of A at a time, XV steps of k at once, reducing
 * the vectors at the end. Global size: (ceil(n / GEMV_TC), 1, batch).
 */
inline void gemv_t_body(const __global float *a_all, long a_batch, const __global uchar *b_mat,
                        long b_offset, long ldb, long b_batch, __global uchar *c, long c_offset,
                        long ldc, long c_batch, int m, int n, int k, float alpha, float beta,
                        int cdt, const int bdt) {
    int j0 = get_global_id(0) * GEMV_TC;
    int b = get_global_id(2);
    const __global float *a_batch_rows = a_all + b * a_batch;
    long bbase = b_offset + b * b_batch;
    long cbase = c_offset + b * c_batch;
    int cols = min(GEMV_TC, n - j0);
    int kv = k - k % XV;

    for (int i0 = 0; i0 < m; i0 += GEMV_M) {
        int rows = min(GEMV_M, m - i0);
        const __global float *a = a_batch_rows + (long)i0 * k;
        floatX acc[GEMV_M][GEMV_TC];
#pragma unroll
        for (int i = 0; i < GEMV_M; i++)
#pragma unroll
            for (int t = 0; t < GEMV_TC; t++)
                acc[i][t] = (floatX)(0.0f);
        for (int p = 0; p < kv; p += XV) {
            floatX bv[GEMV_TC];
#pragma unroll
            for (int t = 0; t < GEMV_TC; t++)
                bv[t] = t < cols ? loadX(b_mat, bbase + (long)(j0 + t) * ldb + p, bdt)
                                 : (floatX)(0.0f);
#pragma unroll
            for (int i = 0; i < GEMV_M; i++)
                if (i < rows) {
                    floatX av = vloadX(0, a + (long)i * k + p);
#pragma unroll
                    for (int t = 0; t < GEMV_TC; t++)
                        acc[i][t] = fma(av, bv[t], acc[i][t]);
                }
        }
        for (int i = 0; i < rows; i++)
            for (int t = 0; t < cols; t++) {
                float sum = hsumX(acc[i][t]);
                for (int p = kv; p < k; p++)
                    sum = fma(a[(long)i * k + p],
                              load1(b_mat, bbase + (long)(j0 + t) * ldb + p, bdt), sum);
                store_one_any(c, cbase + (long)(i0 + i) * ldc + j0 + t, sum, alpha, beta, cdt);
            }
    }
}

#define GEMV_KERNEL(NAME, BODY, BDT)                                                               \
    __kernel void NAME(const __global float *a, long a_batch, const __global uchar *b_mat,         \
                       long b_offset, long ldb, long b_batch, __global uchar *c, long c_offset,    \
                       long ldc, long c_batch, int m, int n, int k, float alpha, float beta,       \
                       int cdt) {                                                                  \
        BODY(a, a_batch, b_mat, b_offset, ldb, b_batch, c, c_offset, ldc, c_batch, m, n, k, alpha, \
             beta, cdt, (BDT));                                                                    \
    }

GEMV_KERNEL(gemv_n_f32, gemv_n_body, DT_F32)
GEMV_KERNEL(gemv_n_f16, gemv_n_body, DT_F16)
GEMV_KERNEL(gemv_n_bf16, gemv_n_body, DT_BF16)
GEMV_KERNEL(gemv_t_f32, gemv_t_body, DT_F32)
GEMV_KERNEL(gemv_t_f16, gemv_t_body, DT_F16)
GEMV_KERNEL(gemv_t_bf16, gemv_t_body, DT_BF16)
