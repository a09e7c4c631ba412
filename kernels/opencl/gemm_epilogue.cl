/*
 * The GEMM epilogue (xhal.h): C = act(alpha * acc + beta * C + bias), or, gated,
 * C[i][j] = act(alpha * acc_gate + bias[j]) * (alpha * acc_up + bias[up0 + j]), written in C's
 * dtype by the kernels of gemm.cl and qgemm.cl while the accumulators are in registers (one
 * write of C, no second pass). Every choice is a run-time argument (bias dtype, activation,
 * gated): each is uniform over a launch and tested once per vector stored, which costs nothing
 * next to the k loop and keeps the number of kernels (and PoCL's build time) down.
 *
 * The activations are vectors of the kernels' width, on OpenCL's exp (vectorized by PoCL):
 * GELU(tanh) and SiLU as x / (1 + e^-u), GELU(erf) as x P(Z <= x) with the CDF below; forms
 * without cancellation where the value approaches 0 (an overflowing e^-u gives x / Inf = 0,
 * the right limit).
 */

/* The tile shape of gemm.cl (-D values from the tuning file). */
#define TM GEMM_TM
#define NV GEMM_NV
#define TN (XV * GEMM_NV)

/* For the large bodies called with constant arguments, which must be specialized. */
#define ALWAYS_INLINE __attribute__((always_inline)) inline

#define ACT_NONE 0 /* the values of xhal_activation_t */
#define ACT_RELU 1
#define ACT_GELU_ERF 2
#define ACT_GELU_TANH 3
#define ACT_SILU 4

/*
 * The normal CDF P(Z <= x) without erf, whose built-in is slow (scalar) on PoCL: for u = |x|,
 * Q(u) = P(Z > u) = e^(-u^2 / 2) R(1 / (1 + u / 4)), R the polynomial fitted for the CPU
 * backend (kernels/cpu/epilogue_impl.h, vf_normal_cdf: relative error 4e-8 on [0, inf)), and
 * P(Z <= x) = 1 - Q(x) for x >= 0, Q(-x) otherwise: no cancellation where GELU approaches 0.
 */
#define DEFINE_NORMAL_CDF(NAME, T)                                                                 \
    inline T NAME(T x) {                                                                           \
        T u = fabs(x);                                                                             \
        T t = (T)(1.0f) / fma((T)(0.25f), u, (T)(1.0f));                                           \
        T r = (T)(-6.068489049e-03f);                                                              \
        r = fma(r, t, (T)(5.259050801e-02f));                                                      \
        r = fma(r, t, (T)(-1.570204794e-01f));                                                     \
        r = fma(r, t, (T)(1.947858185e-01f));                                                      \
        r = fma(r, t, (T)(-1.113210917e-01f));                                                     \
        r = fma(r, t, (T)(1.043637097e-01f));                                                      \
        r = fma(r, t, (T)(4.577807337e-02f));                                                      \
        r = fma(r, t, (T)(8.423883468e-02f));                                                      \
        r = fma(r, t, (T)(9.316405654e-02f));                                                      \
        r = fma(r, t, (T)(9.975387156e-02f));                                                      \
        r = fma(r, t, (T)(9.973518550e-02f));                                                      \
        r = fma(r, t, (T)(1.341494360e-09f));                                                      \
        T q = exp((T)(-0.5f) * u * u) * r;                                                         \
        return select(q, (T)(1.0f) - q, x >= (T)(0.0f));                                           \
    }

DEFINE_NORMAL_CDF(normal_cdf1, float)
DEFINE_NORMAL_CDF(normal_cdfX, floatX)

/* One definition for float and floatX (the built-ins are overloaded for both). */
#define DEFINE_ACTIVATE(NAME, T, CDF)                                                              \
    inline T NAME(T x, int act) {                                                                  \
        if (act == ACT_RELU) return fmax(x, (T)(0.0f));                                            \
        if (act == ACT_GELU_ERF) return x * CDF(x);                                                \
        if (act == ACT_GELU_TANH) {                                                                \
            T y = (T)(0.7978845608028654f) * fma((T)(0.044715f) * x, x * x, x);                    \
            return x / ((T)(1.0f) + exp((T)(-2.0f) * y));                                          \
        }                                                                                          \
        if (act == ACT_SILU) return x / ((T)(1.0f) + exp(-x));                                     \
        return x;                                                                                  \
    }

DEFINE_ACTIVATE(activate1, float, normal_cdf1)
DEFINE_ACTIVATE(activateX, floatX, normal_cdfX)

/* Loads with the dtype known at run time (bias, scales, C in the GEMV and fused kernels). */
inline float load1_any(const __global uchar *base, long i, int dt) {
    if (dt == DT_F32) return load1(base, i, DT_F32);
    if (dt == DT_F16) return load1(base, i, DT_F16);
    return load1(base, i, DT_BF16);
}

/* The epilogue of one launch, gathered from the kernel's arguments. */
typedef struct epilogue {
    const __global uchar *bias;
    long bias_offset; /* elements */
    int bias_dt;      /* -1: no bias */
    int act;          /* ACT_* */
    int up0;         /* gated: n / 2, the first column of the up half; 0: not gated */
    float alpha, beta;
} epilogue_t;

/* The kernels' epilogue arguments, spelled once (EPILOGUE_ARGS in the list, EPILOGUE_INIT in
 * the body). */
#define EPILOGUE_ARGS                                                                              \
    const __global uchar *bias, long bias_offset, int bias_dt, int act, int up0, float alpha,      \
        float beta
#define EPILOGUE_INIT(e)                                                                           \
    epilogue_t e = {bias, bias_offset, bias_dt, act, up0, alpha, beta}

/* bias[first + t] for the lanes t < count (0 past them), or zeros without a bias. */
inline floatX bias_vector(const epilogue_t *e, long first, int count) {
    if (e->bias_dt < 0) return (floatX)(0.0f);
    long at = e->bias_offset + first;
    if (count >= XV) {
        if (e->bias_dt == DT_F32) return loadX(e->bias, at, DT_F32);
        if (e->bias_dt == DT_F16) return loadX(e->bias, at, DT_F16);
        return loadX(e->bias, at, DT_BF16);
    }
    float lanes[XV];
    for (int t = 0; t < XV; t++)
        lanes[t] = t < count ? load1_any(e->bias, at + t, e->bias_dt) : 0.0f;
    return vloadX(0, lanes);
}

inline float bias_one(const epilogue_t *e, long column) {
    return e->bias_dt < 0 ? 0.0f : load1_any(e->bias, e->bias_offset + column, e->bias_dt);
}

/* Stores the lanes t < count of v at C[at + t]. */
inline void store_lanes(__global uchar *c, long at, floatX v, int count, const int dt) {
    if (count >= XV) {
        storeX(c, at, v, dt);
        return;
    }
    float lanes[XV];
    vstoreX(v, 0, lanes);
    for (int t = 0; t < count; t++)
        store1(c, at + t, lanes[t], dt);
}

/*
 * Columns col .. col + XV - 1 (those below n) of the C row starting at element `row`, from the
 * accumulators of the same product columns (not gated).
 */
inline void store_row(__global uchar *c, long row, int col, int n, floatX acc,
                      const epilogue_t *e, const int dt) {
    int count = min(XV, n - col);
    floatX out = e->alpha * acc;
    if (e->beta != 0.0f) {
        floatX old;
        if (count >= XV) {
            old = loadX(c, row + col, dt);
        } else {
            float lanes[XV];
            for (int t = 0; t < XV; t++)
                lanes[t] = t < count ? load1(c, row + col + t, dt) : 0.0f;
            old = vloadX(0, lanes);
        }
        out = fma((floatX)(e->beta), old, out);
    }
    out += bias_vector(e, col, count);
    store_lanes(c, row + col, activateX(out, e->act), count, dt);
}

/* Gated: output columns col .. (below up0 = n / 2) from the gate and up accumulators. */
inline void store_row_gated(__global uchar *c, long row, int col, floatX gate, floatX up,
                            const epilogue_t *e, const int dt) {
    int count = min(XV, e->up0 - col);
    floatX g = fma((floatX)(e->alpha), gate, bias_vector(e, col, count));
    floatX u = fma((floatX)(e->alpha), up, bias_vector(e, (long)e->up0 + col, count));
    store_lanes(c, row + col, activateX(g, e->act) * u, count, dt);
}

/* store_row and store_row_gated with C's dtype known at run time (the GEMV kernels). */
inline void store_row_any(__global uchar *c, long row, int col, int n, floatX acc,
                          const epilogue_t *e, int cdt) {
    if (cdt == DT_F32)
        store_row(c, row, col, n, acc, e, DT_F32);
    else if (cdt == DT_F16)
        store_row(c, row, col, n, acc, e, DT_F16);
    else
        store_row(c, row, col, n, acc, e, DT_BF16);
}

inline void store_row_gated_any(__global uchar *c, long row, int col, floatX gate, floatX up,
                                const epilogue_t *e, int cdt) {
    if (cdt == DT_F32)
        store_row_gated(c, row, col, gate, up, e, DT_F32);
    else if (cdt == DT_F16)
        store_row_gated(c, row, col, gate, up, e, DT_F16);
    else
        store_row_gated(c, row, col, gate, up, e, DT_BF16);
}

/* One output C[at] of product column `col` from its sum, C's dtype at run time. */
inline void store_one_any(__global uchar *c, long at, int col, float sum, const epilogue_t *e,
                          int cdt) {
    float out = e->alpha * sum;
    if (e->beta != 0.0f) out = fma(e->beta, load1_any(c, at, cdt), out);
    out = activate1(out + bias_one(e, col), e->act);
    if (cdt == DT_F32)
        store1(c, at, out, DT_F32);
    else if (cdt == DT_F16)
        store1(c, at, out, DT_F16);
    else
        store1(c, at, out, DT_BF16);
}

/* Gated: output column `col` (< up0) at C[at] from the sums of columns col and up0 + col. */
inline void store_one_gated(__global uchar *c, long at, int col, float gate, float up,
                            const epilogue_t *e, int cdt) {
    float g = fma(e->alpha, gate, bias_one(e, col));
    float u = fma(e->alpha, up, bias_one(e, (long)e->up0 + col));
    float out = activate1(g, e->act) * u;
    if (cdt == DT_F32)
        store1(c, at, out, DT_F32);
    else if (cdt == DT_F16)
        store1(c, at, out, DT_F16);
    else
        store1(c, at, out, DT_BF16);
}

/*
 * One row of a TM x TN tile (the tile and fused kernels): `acc` holds the NV vectors of panel
 * nb. Not gated, they are product columns nb * TN ..; gated, the panel was packed as TN / 2
 * gate columns then the TN / 2 matching up columns (gemm.cl, pack_b_panel), and the row is
 * output columns nb * TN / 2 ..
 */
inline void store_tile_row(__global uchar *c, long row, int nb, int n, const floatX *acc,
                           const epilogue_t *e, const int dt) {
    if (!e->up0) {
        int col0 = nb * TN;
#pragma unroll
        for (int v = 0; v < NV; v++)
            if (col0 + v * XV < n) store_row(c, row, col0 + v * XV, n, acc[v], e, dt);
        return;
    }
    int col0 = nb * (TN / 2);
#if NV % 2 == 0
#pragma unroll
    for (int v = 0; v < NV / 2; v++)
        if (col0 + v * XV < e->up0)
            store_row_gated(c, row, col0 + v * XV, acc[v], acc[v + NV / 2], e, dt);
#else
    /* Halves of an odd number of vectors do not fall on vector boundaries: pair the lanes. */
    float lanes[TN];
    for (int v = 0; v < NV; v++)
        vstoreX(acc[v], 0, lanes + v * XV);
    for (int t = 0; t < TN / 2 && col0 + t < e->up0; t++)
        store_one_gated(c, row + col0 + t, col0 + t, lanes[t], lanes[t + TN / 2], e, dt);
#endif
}

/* The same with C's dtype known at run time (the fused kernel). */
inline void store_tile_row_any(__global uchar *c, long row, int nb, int n, const floatX *acc,
                               const epilogue_t *e, int cdt) {
    if (cdt == DT_F32)
        store_tile_row(c, row, nb, n, acc, e, DT_F32);
    else if (cdt == DT_F16)
        store_tile_row(c, row, nb, n, acc, e, DT_F16);
    else
        store_tile_row(c, row, nb, n, acc, e, DT_BF16);
}
