/*
 * GEMM with a weight-only quantized B (xhal.h, xhal_quant_t): INT8, INT4 in groups along k with
 * optional zero points, FP8 E4M3 and E5M2. Each element is (q - z) * s, decoded in registers by
 * integer and bit operations (no fp16 or fp8 arithmetic is needed, so PoCL's OpenCL C 1.2 does),
 * and the arithmetic is gemm.cl's, in f32:
 *
 *   decode (m <= GEMV_M rows, B stored n x k: a linear layer's weights): qgemv_t reads each
 *     weight byte once, XV (INT4: 2 XV) elements of a column at a time, dequantizes them into
 *     vectors and multiplies them with GEMV_M rows of A, as gemv_t does with a dense B. INT4
 *     vectors are scaled as they are decoded (a chunk never straddles a group: groups are
 *     multiples of 32 >= 2 XV); INT8 and FP8 scales, one per column, multiply the finished sum.
 *   everything else: the B panels of the tile and fused kernels are dequantized to f32 as they
 *     are packed, so the quantized bytes are read once per panel and the inner loop is the
 *     dense kernels'. On CPU devices (gemm_fused) this happens in each work-group's local
 *     panel (PoCL keeps it in L2): qfused; elsewhere in the packing pass: qpack_b.
 *
 * Kernels are stamped per format (suffixes int8, int4, e4m3, e5m2); scales of any dtype, zero
 * points, the bias and the activation are run-time arguments. Element indices count elements
 * from the b buffer's byte 0: bytes for the 8-bit formats, half bytes for INT4 (element e is
 * the low nibble of byte e / 2 when e is even).
 */

#define Q_INT8 1 /* the values of xhal_quant_t */
#define Q_INT4 2
#define Q_E4M3 3
#define Q_E5M2 4

#define ucharX XCAT(uchar, XV)
#define charX XCAT(char, XV)
#define as_charX XCAT(as_char, XV)
#define convert_floatX XCAT(convert_float, XV)
#define ucharH XCAT(uchar, XH)
#define floatH XCAT(float, XH)
#define vloadH XCAT(vload, XH)
#define convert_floatH XCAT(convert_float, XH)

/* ---- Decoding ---- */

/* An FP8 byte's value, exactly (OCP: E4M3 bias 7, S.1111.111 NaN; E5M2 bias 15, IEEE-style
 * infinities and NaNs). Normal numbers move their fields into an f32; subnormals, which an f32
 * holds as normals, are computed as m * 2^-9 (E4M3) or m * 2^-16 (E5M2). */
inline float fp8_value(uint x, const int fmt) {
    uint mag = x & 0x7fu, sign = (x & 0x80u) << 24;
    uint bits;
    if (fmt == Q_E4M3) {
        bits = mag < 8u ? as_uint((float)mag * 0x1p-9f) : (mag << 20) + (120u << 23);
        if (mag == 0x7fu) bits = 0x7fc00000u;
    } else {
        bits = mag < 4u ? as_uint((float)mag * 0x1p-16f) : (mag << 21) + (112u << 23);
        if (mag >= 0x7cu) bits = 0x7f800000u | (mag & 3u) << 21;
    }
    return as_float(bits | sign);
}

inline floatX fp8_valueX(ucharX bytes, const int fmt) {
    uintX x = convert_uintX(bytes);
    uintX mag = x & (uintX)(0x7fu), sign = (x & (uintX)(0x80u)) << 24;
    uintX bits;
    if (fmt == Q_E4M3) {
        uintX normal = (mag << 20) + (uintX)(120u << 23);
        uintX sub = as_uintX(convert_floatX(mag) * 0x1p-9f);
        bits = select(normal, sub, mag < (uintX)(8u));
        bits = select(bits, (uintX)(0x7fc00000u), mag == (uintX)(0x7fu));
    } else {
        uintX normal = (mag << 21) + (uintX)(112u << 23);
        uintX sub = as_uintX(convert_floatX(mag) * 0x1p-16f);
        bits = select(normal, sub, mag < (uintX)(4u));
        bits = select(bits, (uintX)(0x7f800000u) | (mag & (uintX)(3u)) << 21,
                      mag >= (uintX)(0x7cu));
    }
    return as_floatX(bits | sign);
}

/* Element e unscaled, less the zero point z (INT4; pass 0 for the other formats). */
inline float qload1(const __global uchar *q, long e, float z, const int fmt) {
    if (fmt == Q_INT4) return (float)((q[e >> 1] >> ((e & 1) << 2)) & 15u) - z;
    if (fmt == Q_INT8) return (float)as_char(q[e]);
    return fp8_value(q[e], fmt);
}

/* Elements e .. e + XV - 1 the same way (e even for INT4: whole bytes). */
inline floatX qloadX(const __global uchar *q, long e, float z, const int fmt) {
    if (fmt == Q_INT4) {
        ucharH bytes = vloadH(0, q + (e >> 1));
        floatH lo = convert_floatH(bytes & (ucharH)(15)), hi = convert_floatH(bytes >> (ucharH)(4));
        /* Element 2t is byte t's low nibble, 2t + 1 its high one. */
        uintX order = as_uintX((LANE_IDS >> 1) + (LANE_IDS & (intX)(1)) * (intX)(XH));
        return shuffle2(lo, hi, order) - z;
    }
    ucharX bytes = vloadX(0, q + e);
    if (fmt == Q_INT8) return convert_floatX(as_charX(bytes));
    return fp8_valueX(bytes, fmt);
}

/* Scales and zero points of one launch. Scale i of column j at k step p is j * groups +
 * p / group: groups 0 and group INT_MAX for one scale (per tensor), groups 1 for one per column. */
typedef struct qparams {
    const __global uchar *scales;
    long scales_offset; /* elements */
    int scale_dt;
    const __global uchar *zeros;
    long zeros_offset;
    int has_zeros; /* 0: z = 8 (INT4) */
    int group, groups;
} qparams_t;

#define QPARAM_ARGS                                                                                \
    const __global uchar *scales, long scales_offset, int scale_dt, const __global uchar *zeros,   \
        long zeros_offset, int has_zeros, int group, int groups
#define QPARAM_INIT(q)                                                                             \
    qparams_t q = {scales, scales_offset, scale_dt, zeros, zeros_offset, has_zeros, group, groups}

inline long qindex(const qparams_t *q, int j, int p) {
    return (long)j * q->groups + p / q->group;
}

inline float qscale(const qparams_t *q, long i) {
    return load1_any(q->scales, q->scales_offset + i, q->scale_dt);
}

inline float qzero(const qparams_t *q, long i, const int fmt) {
    if (fmt != Q_INT4) return 0.0f;
    return q->has_zeros ? (float)q->zeros[q->zeros_offset + i] : 8.0f;
}

/* ---- Packing B, dequantized ---- */

/*
 * gemm.cl's pack_panel for a quantized B: k steps [p0, p0 + GEMM_PACK_K) of W rows r0 .. of
 * X = op(B)^T, X[r][p] the element e0 + r * rs + p * cs, dequantized into panel[p * S + w].
 * Row r's scales are those of column col_base + r (col_base: half for the up half of a gated
 * panel). Vector paths for whole vectors, then element by element at the edges.
 */
#define DEFINE_QPACK_PANEL(NAME, AS)                                                               \
inline void NAME(const __global uchar *q, long e0, long rs, long cs, int rows, int col_base,       \
                 int k, int kp, AS float *panel, int r0, int p0, const int W, const int S,         \
                 const qparams_t *qp, const int fmt) {                                             \
    int p_end = min(p0 + GEMM_PACK_K, kp);                                                         \
    int full_rows = r0 + W <= rows;                                                                \
    if (full_rows && cs == 1 && p0 % XV == 0 && p_end <= k && (p_end - p0) % XV == 0 &&            \
        (W % XV == 0 || W == XH) && (fmt != Q_INT4 || (e0 & 1) == 0)) {                            \
        /* B stored n x k: XV steps of up to XV columns as vectors, transposed in registers. */    \
        for (int w0 = 0; w0 < W; w0 += XV) {                                                       \
            for (int p = p0; p < p_end; p += XV) {                                                 \
                floatX block[XV];                                                                  \
_Pragma("unroll")                                                                                  \
                for (int i = 0; i < XV; i++) {                                                     \
                    block[i] = (floatX)(0.0f);                                                     \
                    if (w0 + i < W) {                                                              \
                        int j = r0 + w0 + i;                                                       \
                        long si = qindex(qp, col_base + j, p);                                     \
                        block[i] = qloadX(q, e0 + (long)j * rs + p, qzero(qp, si, fmt), fmt) *     \
                                   qscale(qp, si);                                                 \
                    }                                                                              \
                }                                                                                  \
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
    if (full_rows && rs == 1 && W % XV == 0 && (fmt != Q_INT4 || ((e0 + r0) & 1) == 0)) {          \
        /* B stored k x n: a k step's W columns are consecutive elements; their scales and zero    \
         * points are gathered once per group. */                                                  \
        floatX sc[TN / XV], zr[TN / XV];                                                           \
        int g_cur = -1;                                                                            \
        for (int p = p0; p < p_end; p++) {                                                         \
            AS float *out = panel + (long)p * S;                                                   \
            if (p >= k) {                                                                          \
                for (int w = 0; w < W; w += XV)                                                    \
                    vstoreX((floatX)(0.0f), 0, out + w);                                           \
                continue;                                                                          \
            }                                                                                      \
            if (p / qp->group != g_cur) {                                                          \
                g_cur = p / qp->group;                                                             \
                for (int v = 0; v < W / XV; v++) {                                                 \
                    float s[XV], z[XV];                                                            \
                    for (int t = 0; t < XV; t++) {                                                 \
                        long si = qindex(qp, col_base + r0 + v * XV + t, p);                       \
                        s[t] = qscale(qp, si);                                                     \
                        z[t] = qzero(qp, si, fmt);                                                 \
                    }                                                                              \
                    sc[v] = vloadX(0, s);                                                          \
                    zr[v] = vloadX(0, z);                                                          \
                }                                                                                  \
            }                                                                                      \
            for (int v = 0; v < W / XV; v++)                                                       \
                vstoreX((qloadX(q, e0 + (long)p * cs + r0 + v * XV, 0.0f, fmt) - zr[v]) * sc[v],   \
                        0, out + v * XV);                                                          \
        }                                                                                          \
        return;                                                                                    \
    }                                                                                              \
    for (int p = p0; p < p_end; p++)                                                               \
        for (int w = 0; w < W; w++) {                                                              \
            int r = r0 + w;                                                                        \
            float v = 0.0f;                                                                        \
            if (r < rows && p < k) {                                                               \
                long si = qindex(qp, col_base + r, p);                                             \
                v = qload1(q, e0 + (long)r * rs + (long)p * cs, qzero(qp, si, fmt), fmt) *         \
                    qscale(qp, si);                                                                \
            }                                                                                      \
            panel[(long)p * S + w] = v;                                                            \
        }                                                                                          \
}

DEFINE_QPACK_PANEL(qpack_panel, __global)
#if !GEMM_LOCAL
DEFINE_QPACK_PANEL(qpack_panel_local, __local)
#endif

/* Panel nb, gated or not, as gemm.cl's pack_b_panel lays it out. */
#define DEFINE_QPACK_B(NAME, PANEL, AS)                                                            \
inline void NAME(const __global uchar *q, long e0, long rs, long cs, int n, int up0, int k,        \
                 int kp, AS float *panel, int nb, int p0, const qparams_t *qp, const int fmt) {    \
    if (!up0) {                                                                                    \
        PANEL(q, e0, rs, cs, n, 0, k, kp, panel, nb * TN, p0, TN, TN, qp, fmt);                    \
        return;                                                                                    \
    }                                                                                              \
    PANEL(q, e0, rs, cs, up0, 0, k, kp, panel, nb * (TN / 2), p0, TN / 2, TN, qp, fmt);            \
    PANEL(q, e0 + up0 * rs, rs, cs, up0, up0, k, kp, panel + TN / 2, nb * (TN / 2), p0, TN / 2,    \
          TN, qp, fmt);                                                                            \
}

DEFINE_QPACK_B(qpack_b_panel, qpack_panel, __global)
#if !GEMM_LOCAL
DEFINE_QPACK_B(qpack_b_panel_local, qpack_panel_local, __local)
#endif

/*
 * The packing pass of the tiled path: B's panels dequantized to f32 for gemm_tile (one B for
 * every batch: stride_b is 0 with a quantized B). Global size: (ceil(kp / GEMM_PACK_K),
 * panels, 1).
 */
#define QPACK_KERNEL(NAME, FMT)                                                                    \
    __kernel void NAME(const __global uchar *q, long e0, long rs, long cs, int rows, int up0,      \
                       int k, int kp, __global float *dst, QPARAM_ARGS) {                          \
        QPARAM_INIT(qp);                                                                           \
        int rb = get_global_id(1);                                                                 \
        qpack_b_panel(q, e0, rs, cs, rows, up0, k, kp, dst + (long)rb * kp * TN, rb,               \
                      get_global_id(0) * GEMM_PACK_K, &qp, (FMT));                                 \
    }

QPACK_KERNEL(qpack_b_int8, Q_INT8)
QPACK_KERNEL(qpack_b_int4, Q_INT4)
QPACK_KERNEL(qpack_b_e4m3, Q_E4M3)
QPACK_KERNEL(qpack_b_e5m2, Q_E5M2)

#if !GEMM_LOCAL
/* The fused kernel of gemm.cl with the panel dequantized into local memory. b_offset is e0. */
#define QFUSED_KERNEL(NAME, FMT)                                                                   \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(FUSED_ARGS, QPARAM_ARGS,     \
                                                                      EPILOGUE_ARGS) {             \
        QPARAM_INIT(qp);                                                                           \
        EPILOGUE_INIT(e);                                                                          \
        (void)b_batch;                                                                             \
        int nb = get_global_id(0);                                                                 \
        for (int p0 = 0; p0 < k; p0 += GEMM_PACK_K)                                                \
            qpack_b_panel_local(b_mat, b_offset, b_rs, b_cs, n, up0, k, k, bl, nb, p0, &qp,        \
                                (FMT));                                                            \
        gemm_fused_compute(a, a_offset, a_rs, a_cs, a_batch, c, c_offset, ldc, c_batch, m, n, k,   \
                           tiles, &e, cdt, bl);                                                    \
    }

QFUSED_KERNEL(qfused_int8, Q_INT8)
QFUSED_KERNEL(qfused_int4, Q_INT4)
QFUSED_KERNEL(qfused_e4m3, Q_E4M3)
QFUSED_KERNEL(qfused_e5m2, Q_E5M2)
#endif

/* ---- Decode: the quantized GEMV, B stored n x k ---- */

/* Rows i0 .. i0 + rows - 1 of qgemv_t_body (a: row i0 of A), as gemv_t_rows. */
ALWAYS_INLINE void qgemv_t_rows(const __global float *a, const __global uchar *q,
                                const long *brow, const int *bcol, __global uchar *c,
                                long cbase, long ldc, int i0, int rows, int k, int j0, int cols,
                                const qparams_t *qp, const epilogue_t *e, int cdt,
                                const int fmt, const int G) {
    const int rows_max = G == 1 ? GEMV_M : GEMV_M2;
    const int CH = fmt == Q_INT4 ? 2 : 1;
    int kv = k - k % (CH * XV);
    floatX acc[GEMV_M][2 * GEMV_TC];
#pragma unroll
    for (int i = 0; i < GEMV_M; i++) if (i < rows_max)
#pragma unroll
        for (int s = 0; s < 2 * GEMV_TC; s++) if (s < G * GEMV_TC)
            acc[i][s] = (floatX)(0.0f);
    for (int p = 0; p < kv;) {
        /* One group (INT4), or all of k (one scale per column, applied at the end). */
        int p_end = min(kv, p + (qp->group - p % qp->group));
        float sc[2 * GEMV_TC], zr[2 * GEMV_TC];
#pragma unroll
        for (int s = 0; s < 2 * GEMV_TC; s++) if (s < G * GEMV_TC) {
            sc[s] = 1.0f;
            zr[s] = 0.0f;
            if (fmt == Q_INT4) {
                long si = qindex(qp, bcol[s], p);
                sc[s] = qscale(qp, si);
                zr[s] = qzero(qp, si, fmt);
            }
        }
        for (; p < p_end; p += CH * XV) {
            /* INT4: w[s][0] the chunk's even elements, w[s][1] its odd ones (A is stored in
             * the same order by gemm_copy_a). */
            floatX w[2 * GEMV_TC][2];
#pragma unroll
            for (int s = 0; s < 2 * GEMV_TC; s++) if (s < G * GEMV_TC) {
                if (fmt == Q_INT4) {
                    ucharX bytes = vloadX(0, q + ((brow[s] + p) >> 1));
                    w[s][0] = (convert_floatX(bytes & (ucharX)(15)) - zr[s]) * sc[s];
                    w[s][1] = (convert_floatX(bytes >> (ucharX)(4)) - zr[s]) * sc[s];
                } else {
                    w[s][0] = qloadX(q, brow[s] + p, 0.0f, fmt);
                }
            }
#pragma unroll
            for (int i = 0; i < GEMV_M; i++) if (i < rows_max)
                if (i < rows) {
#pragma unroll
                    for (int u = 0; u < 2; u++) if (u < CH) {
                        floatX av = vloadX(0, a + (long)i * k + p + u * XV);
#pragma unroll
                        for (int s = 0; s < 2 * GEMV_TC; s++) if (s < G * GEMV_TC)
                            acc[i][s] = fma(av, w[s][u], acc[i][s]);
                    }
                }
        }
    }
    for (int i = 0; i < rows; i++)
        for (int t = 0; t < cols; t++) {
            float sum[2];
            for (int g = 0; g < G; g++) {
                int s = t + g * GEMV_TC;
                sum[g] = hsumX(acc[i][s]);
                for (int p = kv; p < k; p++) {
                    long si = qindex(qp, bcol[s], p);
                    float w = qload1(q, brow[s] + p, qzero(qp, si, fmt), fmt);
                    if (fmt == Q_INT4) w *= qscale(qp, si);
                    sum[g] = fma(a[(long)i * k + p], w, sum[g]);
                }
                if (fmt != Q_INT4) sum[g] *= qscale(qp, qindex(qp, bcol[s], 0));
            }
            long at = cbase + (long)(i0 + i) * ldc + j0 + t;
            if (G == 1)
                store_one_any(c, at, j0 + t, sum[0], e, cdt);
            else
                store_one_gated(c, at, j0 + t, sum[0], sum[1], e, cdt);
        }
}

/*
 * As gemv_t_body (gemm.cl): a work-item owns GEMV_TC output columns (G = 2: their gate and up
 * columns of B) and GEMV_M (GEMV_M2) rows of A at a time. k runs in chunks of CH vectors
 * (INT4: 2 XV elements, XV bytes of each column, unpacked into a vector of even and one of odd
 * elements; A's rows were copied in that order), group by group, so that an INT4 scale and
 * zero point are read once per group and column. Global size: (ceil(outputs / GEMV_TC), 1,
 * batch).
 */
inline void qgemv_t_body(const __global float *a_all, long a_batch, const __global uchar *q,
                         long e0, long ldb, __global uchar *c, long c_offset, long ldc,
                         long c_batch, int m, int n, int k, const qparams_t *qp,
                         const epilogue_t *e, int cdt, const int fmt, const int G) {
    const int rows_max = G == 1 ? GEMV_M : GEMV_M2;
    int j0 = get_global_id(0) * GEMV_TC;
    int b = get_global_id(2);
    const __global float *a_batch_rows = a_all + b * a_batch;
    long cbase = c_offset + b * c_batch;
    int cols = min(GEMV_TC, (G == 1 ? n : e->up0) - j0);
    /* Each slot's column of op(B) (slots past the outputs repeat the first) and its start. */
    int bcol[2 * GEMV_TC];
    long brow[2 * GEMV_TC];
#pragma unroll
    for (int s = 0; s < 2 * GEMV_TC; s++) if (s < G * GEMV_TC) {
        bcol[s] = (s % GEMV_TC < cols ? j0 + s % GEMV_TC : j0) + (s / GEMV_TC) * e->up0;
        brow[s] = e0 + (long)bcol[s] * ldb;
    }
    for (int i0 = 0; i0 < m; i0 += rows_max) {
        int rows = min(rows_max, m - i0);
        const __global float *a = a_batch_rows + (long)i0 * k;
        if (rows == 1)
            qgemv_t_rows(a, q, brow, bcol, c, cbase, ldc, i0, 1, k, j0, cols, qp, e, cdt, fmt, G);
        else
            qgemv_t_rows(a, q, brow, bcol, c, cbase, ldc, i0, rows, k, j0, cols, qp, e, cdt, fmt,
                         G);
    }
}

#define QGEMV_KERNEL(NAME, FMT, G)                                                                 \
    __kernel void NAME(const __global float *a, long a_batch, const __global uchar *q, long e0,    \
                       long ldb, __global uchar *c, long c_offset, long ldc, long c_batch, int m,  \
                       int n, int k, int cdt, QPARAM_ARGS, EPILOGUE_ARGS) {                        \
        QPARAM_INIT(qp);                                                                           \
        EPILOGUE_INIT(e);                                                                          \
        qgemv_t_body(a, a_batch, q, e0, ldb, c, c_offset, ldc, c_batch, m, n, k, &qp, &e, cdt,     \
                     (FMT), (G));                                                                  \
    }

QGEMV_KERNEL(qgemv_t_int8, Q_INT8, 1)
QGEMV_KERNEL(qgemv_t_int4, Q_INT4, 1)
QGEMV_KERNEL(qgemv_t_e4m3, Q_E4M3, 1)
QGEMV_KERNEL(qgemv_t_e5m2, Q_E5M2, 1)
QGEMV_KERNEL(qgemv_tg_int8, Q_INT8, 2)
QGEMV_KERNEL(qgemv_tg_int4, Q_INT4, 2)
QGEMV_KERNEL(qgemv_tg_e4m3, Q_E4M3, 2)
QGEMV_KERNEL(qgemv_tg_e5m2, Q_E5M2, 2)
