/*
 * GEMM on the CPU device against the fp64 reference: shapes from {1, 7, 17, 129}, every a/b/c
 * dtype combination, transposes, padded leading dimensions, strided and shared batches,
 * alpha/beta, offsets, A/B/C in one buffer. Inputs are rounded to their dtype before the
 * reference sees them; C is poisoned with NaN; every byte outside C's elements must be unchanged.
 *
 * Run with no argument for the quick group, with "slow" for the long sweeps, with "skinny" for
 * the decode-shaped cases alone.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every case runs on every device of `set` (see xt_devices_t), one after the other. */
static xt_devices_t set;
static xhal_device_t *device; /* the device the current case runs on, and its stream and spec */
static xhal_stream_t *stream;
static char device_spec[64];

typedef struct {
    int64_t m, n, k;
    xhal_dtype_t at, bt, ct;
    int ta, tb;
    int64_t pad_a, pad_b, pad_c; /* leading dimension beyond the minimum */
    int64_t batch;
    int share_a, share_b; /* stride 0 */
    float alpha, beta;
    uint64_t off; /* offsets: off, 2*off and 3*off elements for A, B and C */
    int one_buffer;
    uint32_t flags;
    double tol; /* 0: the output dtype's bound */
} gcase_t;

static gcase_t base_case(int64_t m, int64_t n, int64_t k, xhal_dtype_t t) {
    gcase_t c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.n = n;
    c.k = k;
    c.at = c.bt = c.ct = t;
    c.batch = 1;
    c.alpha = 1.0f;
    return c;
}

static void describe(const gcase_t *c, char *buf, size_t size) {
    snprintf(buf, size,
             "%s: m %lld n %lld k %lld a/b/c %s/%s/%s trans %d/%d pads %lld/%lld/%lld batch %lld "
             "share %d/%d alpha %g beta %g off %llu one_buffer %d flags %u",
             device_spec, (long long)c->m, (long long)c->n, (long long)c->k, xhal_dtype_name(c->at),
             xhal_dtype_name(c->bt), xhal_dtype_name(c->ct), c->ta, c->tb, (long long)c->pad_a,
             (long long)c->pad_b, (long long)c->pad_c, (long long)c->batch, c->share_a, c->share_b,
             (double)c->alpha, (double)c->beta, (unsigned long long)c->off, c->one_buffer,
             c->flags);
}

/* Makes device `index` the one the next case runs on. */
static void use_device(size_t index) {
    xhal_device_info_t info = {.struct_size = sizeof info};
    device = set.device[index];
    stream = set.stream[index];
    if (xhal_device_info(device, &info) != XHAL_OK) fail_msg("xhal_device_info failed");
    snprintf(device_spec, sizeof device_spec, "%s", info.spec);
}

static uint64_t align16(uint64_t x) {
    return (x + 15) & ~(uint64_t)15;
}

/* Runs one case on the current device and fails the test, naming the case and the device,
 * when the result is wrong. */
static void run_case_on(const gcase_t *gc, uint64_t seed) {
    char what[512];
    describe(gc, what, sizeof what);
    xt_rng_t rng;
    xt_rng_seed(&rng, seed);

    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, gc->m, gc->n, gc->k, gc->at);
    d.a_type = gc->at;
    d.b_type = gc->bt;
    d.c_type = gc->ct;
    d.trans_a = gc->ta;
    d.trans_b = gc->tb;
    d.alpha = gc->alpha;
    d.beta = gc->beta;
    d.flags = gc->flags;
    d.batch = gc->batch;
    int64_t ar = gc->ta ? gc->k : gc->m, ac = gc->ta ? gc->m : gc->k;
    int64_t br = gc->tb ? gc->n : gc->k, bc = gc->tb ? gc->k : gc->n;
    d.lda = ac + gc->pad_a;
    d.ldb = bc + gc->pad_b;
    d.ldc = gc->n + gc->pad_c;
    uint64_t ea = xt_matrix_extent(ar, ac, d.lda), eb = xt_matrix_extent(br, bc, d.ldb);
    uint64_t ec = xt_matrix_extent(gc->m, gc->n, d.ldc);
    d.stride_a = gc->share_a ? 0 : (int64_t)ea + 5;
    d.stride_b = gc->share_b ? 0 : (int64_t)eb + 3;
    d.stride_c = gc->m * d.ldc + 2;
    uint64_t na = (uint64_t)(gc->batch - 1) * (uint64_t)d.stride_a + ea;
    uint64_t nb = (uint64_t)(gc->batch - 1) * (uint64_t)d.stride_b + eb;
    uint64_t nc = (uint64_t)(gc->batch - 1) * (uint64_t)d.stride_c + ec;
    size_t sa = xt_dtype_size(gc->at), sb = xt_dtype_size(gc->bt), sc = xt_dtype_size(gc->ct);

    /* Byte layout: separate exact-size buffers, or A, B, C one after another in one buffer. */
    uint64_t a_bytes, b_bytes, c_bytes;
    d.a_offset = gc->off * sa;
    a_bytes = d.a_offset + na * sa;
    if (gc->one_buffer) {
        d.b_offset = align16(a_bytes) + 2 * gc->off * sb;
        b_bytes = d.b_offset + nb * sb;
        d.c_offset = align16(b_bytes) + 3 * gc->off * sc;
        c_bytes = d.c_offset + nc * sc;
        a_bytes = b_bytes = c_bytes;
    } else {
        d.b_offset = 2 * gc->off * sb;
        b_bytes = d.b_offset + nb * sb;
        d.c_offset = 3 * gc->off * sc;
        c_bytes = d.c_offset + nc * sc;
    }

    /* Host images: NaN everywhere (the kernel must not use padding), then the elements. */
    unsigned char *ai = xt_malloc((size_t)a_bytes);
    unsigned char *bi = gc->one_buffer ? ai : xt_malloc((size_t)b_bytes);
    unsigned char *ci = gc->one_buffer ? ai : xt_malloc((size_t)c_bytes);
    memset(ai, 0xff, (size_t)a_bytes);
    memset(bi, 0xff, (size_t)b_bytes);
    memset(ci, 0xff, (size_t)c_bytes);
    for (int64_t t = 0; t < gc->batch; t++) {
        for (int64_t r = 0; r < ar; r++)
            for (int64_t c = 0; c < ac; c++)
                xt_store(ai, gc->at, d.a_offset / sa + (uint64_t)(t * d.stride_a + r * d.lda + c),
                         xt_rng_uniform(&rng));
        for (int64_t r = 0; r < br; r++)
            for (int64_t c = 0; c < bc; c++)
                xt_store(bi, gc->bt, d.b_offset / sb + (uint64_t)(t * d.stride_b + r * d.ldb + c),
                         xt_rng_uniform(&rng));
        if (gc->beta != 0.0f)
            for (int64_t r = 0; r < gc->m; r++)
                for (int64_t c = 0; c < gc->n; c++)
                    xt_store(ci, gc->ct,
                             d.c_offset / sc + (uint64_t)(t * d.stride_c + r * d.ldc + c),
                             xt_rng_uniform(&rng));
    }
    unsigned char *before = xt_malloc((size_t)c_bytes);
    memcpy(before, ci, (size_t)c_bytes);
    size_t count = (size_t)(gc->batch * gc->m * gc->n);
    double *ref = xt_malloc(sizeof(double) * count);
    double *got = xt_malloc(sizeof(double) * count);
    xt_ref_gemm(&d, ai, bi, ci, ref);

    /* Device side. */
    xhal_buffer_t *ba = NULL, *bb = NULL, *bcb = NULL;
    XT_OK(xhal_buffer_alloc(device, a_bytes, XHAL_MEMORY_DEVICE, &ba));
    XT_OK(xhal_copy_h2d(stream, ba, 0, ai, a_bytes));
    if (gc->one_buffer) {
        bb = bcb = ba;
    } else {
        XT_OK(xhal_buffer_alloc(device, b_bytes, XHAL_MEMORY_DEVICE, &bb));
        XT_OK(xhal_buffer_alloc(device, c_bytes, XHAL_MEMORY_DEVICE, &bcb));
        XT_OK(xhal_copy_h2d(stream, bb, 0, bi, b_bytes));
        XT_OK(xhal_copy_h2d(stream, bcb, 0, ci, c_bytes));
    }
    d.a = ba;
    d.b = bb;
    d.c = bcb;
    XT_OK(xhal_gemm_supports(device, &d));
    xhal_status_t st = xhal_gemm(stream, &d);
    if (st != XHAL_OK)
        fail_msg("%s: xhal_gemm returned %s: %s", what, xhal_status_name(st), xhal_last_error());
    unsigned char *out = xt_malloc((size_t)c_bytes);
    XT_OK(xhal_copy_d2h(stream, out, bcb, 0, c_bytes));
    XT_OK(xhal_stream_synchronize(stream));

    /* Mark C's elements, compare them, and check every other byte is untouched. */
    unsigned char *mask = xt_malloc((size_t)c_bytes);
    memset(mask, 0, (size_t)c_bytes);
    for (int64_t t = 0; t < gc->batch; t++)
        for (int64_t r = 0; r < gc->m; r++)
            for (int64_t c = 0; c < gc->n; c++) {
                uint64_t e = d.c_offset / sc + (uint64_t)(t * d.stride_c + r * d.ldc + c);
                got[(t * gc->m + r) * gc->n + c] = xt_load(out, gc->ct, e);
                memset(mask + e * sc, 1, sc);
            }
    for (uint64_t i = 0; i < c_bytes; i++)
        if (!mask[i] && out[i] != before[i])
            fail_msg("%s: byte %llu outside C changed (0x%02x -> 0x%02x)", what,
                     (unsigned long long)i, before[i], out[i]);
    size_t bad = 0;
    double err = xt_rel_error(got, ref, count, &bad);
    double tol = gc->tol > 0 ? gc->tol : xt_tolerance(gc->ct);
    if (bad) fail_msg("%s: %zu NaN/Inf results", what, bad);
    if (!(err <= tol))
        fail_msg("%s: relative error %g > %g (C[0] = %g, reference %g)", what, err, tol, got[0],
                 ref[0]);

    if (!gc->one_buffer) {
        xhal_buffer_free(bb);
        xhal_buffer_free(bcb);
        free(bi);
        free(ci);
    }
    xhal_buffer_free(ba);
    free(ai);
    free(before);
    free(ref);
    free(got);
    free(out);
    free(mask);
}

/* Runs one case on every device. */
static void run_case(const gcase_t *gc, uint64_t seed) {
    for (size_t i = 0; i < set.count; i++) {
        use_device(i);
        run_case_on(gc, seed);
    }
}

static const int64_t sizes[] = {1, 7, 17, 129};
static const xhal_dtype_t dtypes[] = {XHAL_DTYPE_F32, XHAL_DTYPE_F16, XHAL_DTYPE_BF16};

/* ---- quick group ----------------------------------------------------------------------------- */

static void test_desc_init(void **state) {
    (void)state;
    xhal_gemm_desc_t d;
    memset(&d, 0x5a, sizeof d);
    xhal_gemm_desc_init(&d, 5, 6, 7, XHAL_DTYPE_BF16);
    assert_int_equal(d.m, 5);
    assert_int_equal(d.n, 6);
    assert_int_equal(d.k, 7);
    assert_int_equal(d.a_type, XHAL_DTYPE_BF16);
    assert_int_equal(d.b_type, XHAL_DTYPE_BF16);
    assert_int_equal(d.c_type, XHAL_DTYPE_BF16);
    assert_int_equal(d.trans_a, 0);
    assert_int_equal(d.trans_b, 0);
    assert_int_equal(d.lda, 7);
    assert_int_equal(d.ldb, 6);
    assert_int_equal(d.ldc, 6);
    assert_int_equal(d.batch, 1);
    assert_true(d.alpha == 1.0f);
    assert_true(d.beta == 0.0f);
    assert_int_equal(d.flags, 0);
    assert_null(d.a);
    assert_null(d.b);
    assert_null(d.c);
    assert_int_equal(d.a_offset, 0);
    assert_int_equal(d.b_offset, 0);
    assert_int_equal(d.c_offset, 0);
    assert_true(d.stride_a >= 0 && d.stride_b >= 0 && d.stride_c >= 0);
}

static void test_supports_valid(void **state) {
    (void)state;
    for (size_t i = 0; i < set.count; i++) {
        use_device(i);
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 0; c < 3; c++)
                    for (int t = 0; t < 4; t++) {
                        xhal_gemm_desc_t d;
                        xhal_gemm_desc_init(&d, 9, 1, 300, dtypes[a]);
                        d.b_type = dtypes[b];
                        d.c_type = dtypes[c];
                        d.trans_a = t & 1;
                        d.trans_b = t >> 1;
                        d.lda = d.trans_a ? 9 : 300;
                        d.ldb = d.trans_b ? 300 : 1;
                        d.batch = 4;
                        d.stride_a = 0;
                        d.stride_b = 300;
                        d.stride_c = 9;
                        XT_OK(xhal_gemm_supports(device, &d)); /* buffers NULL: not looked at */
                    }
    }
}

static void test_dtype_combinations(void **state) {
    (void)state;
    const int64_t shapes[3][3] = {{17, 7, 129}, {7, 129, 17}, {129, 17, 7}};
    int idx = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 3; c++)
                for (int t = 0; t < 4; t++, idx++) {
                    const int64_t *s = shapes[idx % 3];
                    gcase_t gc = base_case(s[0], s[1], s[2], dtypes[a]);
                    gc.bt = dtypes[b];
                    gc.ct = dtypes[c];
                    gc.ta = t & 1;
                    gc.tb = t >> 1;
                    gc.pad_a = idx % 2 ? 3 : 0;
                    gc.pad_b = idx % 3 ? 5 : 0;
                    gc.pad_c = idx % 4 ? 2 : 0;
                    gc.off = (uint64_t)(idx % 3);
                    run_case(&gc, (uint64_t)idx);
                }
}

static void test_shapes_f32(void **state) {
    (void)state;
    int idx = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 4; l++, idx++) {
                gcase_t gc = base_case(sizes[i], sizes[j], sizes[l], XHAL_DTYPE_F32);
                gc.ta = idx % 2;
                gc.tb = (idx / 2) % 2;
                run_case(&gc, 1000 + (uint64_t)idx);
            }
}

static void test_leading_dimensions_and_offsets(void **state) {
    (void)state;
    for (int t = 0; t < 4; t++)
        for (int dt = 0; dt < 3; dt++) {
            gcase_t gc = base_case(33, 29, 31, dtypes[dt]);
            gc.ta = t & 1;
            gc.tb = t >> 1;
            gc.pad_a = 1 + t;
            gc.pad_b = 64;
            gc.pad_c = 7;
            gc.off = 3 + (uint64_t)t;
            run_case(&gc, 2000 + (uint64_t)(t * 3 + dt));
        }
}

static void test_batched(void **state) {
    (void)state;
    int idx = 0;
    for (int share = 0; share < 3; share++)
        for (int t = 0; t < 4; t++, idx++) {
            gcase_t gc = base_case(17, 7, 19, dtypes[idx % 3]);
            gc.ct = dtypes[(idx + 1) % 3];
            gc.ta = t & 1;
            gc.tb = t >> 1;
            gc.batch = 3;
            gc.share_a = share == 1;
            gc.share_b = share == 2;
            gc.pad_a = 2;
            gc.pad_c = 1;
            gc.beta = idx % 2 ? 0.5f : 0.0f;
            gc.off = 1;
            run_case(&gc, 3000 + (uint64_t)idx);
        }
}

static void test_alpha_beta(void **state) {
    (void)state;
    const float ab[][2] = {{1.0f, 0.0f}, {-0.75f, 0.0f}, {1.5f, 0.5f},
                           {1.0f, 1.0f}, {0.25f, -2.0f}, {0.0f, 1.0f}};
    int idx = 0;
    for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++)
        for (int c = 0; c < 3; c++, idx++) {
            gcase_t gc = base_case(23, 19, 17, XHAL_DTYPE_F32);
            gc.bt = dtypes[(idx + 1) % 3];
            gc.ct = dtypes[c];
            gc.alpha = ab[i][0];
            gc.beta = ab[i][1];
            gc.pad_c = 3;
            gc.off = 2;
            gc.batch = 2;
            run_case(&gc, 4000 + (uint64_t)idx);
        }
}

static void test_one_buffer(void **state) {
    (void)state;
    for (int i = 0; i < 6; i++) {
        gcase_t gc = base_case(19, 23, 29, dtypes[i % 3]);
        gc.ct = dtypes[(i + 2) % 3];
        gc.ta = i & 1;
        gc.tb = (i >> 1) & 1;
        gc.one_buffer = 1;
        gc.off = (uint64_t)i;
        gc.batch = 1 + i % 2;
        gc.beta = i % 3 == 0 ? 0.5f : 0.0f;
        run_case(&gc, 5000 + (uint64_t)i);
    }
}

static void test_medium_and_long_k(void **state) {
    (void)state;
    gcase_t gc = base_case(67, 131, 259, XHAL_DTYPE_F32);
    gc.pad_a = 1;
    gc.pad_c = 5;
    run_case(&gc, 6000);
    gc = base_case(131, 67, 259, XHAL_DTYPE_F16);
    gc.ct = XHAL_DTYPE_F32;
    gc.tb = 1;
    run_case(&gc, 6001);
    gc = base_case(7, 17, 4097, XHAL_DTYPE_F32);
    run_case(&gc, 6002);
    gc = base_case(17, 7, 4097, XHAL_DTYPE_BF16);
    gc.ta = 1;
    run_case(&gc, 6003);
}

/* Shapes that cross the CPU engine's block boundaries: several row blocks (224 rows), k blocks
 * (512; 1024 for bf16 pairs, with an odd tail), column passes past 1024 and 4096 (B packed a
 * panel at a time, prefetching the next), both transposes of f32, transposed bf16 B packed as
 * words or element by element, and GEMV passes. */
static void test_blocking_edges(void **state) {
    (void)state;
    gcase_t gc = base_case(500, 70, 1100, XHAL_DTYPE_F32);
    gc.beta = 0.5f;
    run_case(&gc, 6100);
    gc = base_case(500, 70, 1101, XHAL_DTYPE_BF16);
    gc.beta = 0.5f;
    gc.tb = 1;
    run_case(&gc, 6101);
    gc = base_case(230, 1100, 530, XHAL_DTYPE_F32);
    gc.ta = 1;
    gc.tb = 1;
    gc.pad_a = 3;
    run_case(&gc, 6105);
    /* bf16 x transposed bf16 (a linear layer's weights): with an even ldb the k pairs are
     * packed as 32-bit words, here with an odd last k block; batch 1 starts at an odd element,
     * which takes the element-wise path. */
    gc = base_case(37, 100, 1101, XHAL_DTYPE_BF16);
    gc.tb = 1;
    gc.pad_b = 1;
    gc.batch = 2;
    run_case(&gc, 6106);
    gc = base_case(16, 300, 256, XHAL_DTYPE_BF16);
    gc.tb = 1;
    gc.beta = 0.5f;
    gc.ct = XHAL_DTYPE_F32;
    run_case(&gc, 6107);
    gc = base_case(29, 8300, 11, XHAL_DTYPE_F32);
    run_case(&gc, 6102);
    gc = base_case(4, 40000, 9, XHAL_DTYPE_F16);
    gc.ct = XHAL_DTYPE_BF16;
    gc.batch = 2;
    gc.beta = 0.5f;
    run_case(&gc, 6103);
    gc = base_case(3, 33, 5000, XHAL_DTYPE_F16);
    gc.tb = 1;
    gc.alpha = 0.75f;
    run_case(&gc, 6104);
}

/*
 * Decode and skinny shapes (m = 1 ... 64), the GEMV paths' territory: both layouts of B, every
 * B dtype, odd n and k (tails of every vector width, k = 1), few columns against a long k (the
 * transposed path then splits k across threads), k past the A chunk the transposed path keeps
 * in L2, n past the rows path's pass of columns, batches, beta, padded B. Registered also with
 * XHAL_CPU_GEMM=gemv (the group "skinny") so that every case runs the GEMV kernels of each ISA
 * whatever the dispatcher would have chosen.
 */
static void test_skinny(void **state) {
    (void)state;
    static const int64_t ms[] = {1, 2, 3, 4, 5, 7, 8, 13, 16, 17, 33, 64};
    static const int64_t ns[] = {1, 5, 67, 130, 257};
    static const int64_t ks[] = {1, 9, 31, 300, 1031};
    int idx = 0;
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        for (int tb = 0; tb < 2; tb++, idx++) {
            gcase_t gc = base_case(ms[i], ns[idx % 5], ks[(idx / 2 + tb) % 5], dtypes[idx % 3]);
            gc.at = idx % 4 == 3 ? XHAL_DTYPE_F32 : gc.bt;
            gc.ct = dtypes[(idx / 3) % 3];
            gc.tb = tb;
            gc.ta = idx % 5 == 4;
            gc.pad_b = idx % 3 == 1 ? 3 : 0;
            gc.beta = idx % 3 == 2 ? 0.5f : 0.0f;
            gc.alpha = idx % 4 == 1 ? -0.75f : 1.0f;
            gc.batch = idx % 4 == 2 ? 3 : 1;
            run_case(&gc, 8000 + (uint64_t)idx);
        }
    /* Few columns, long k: k split across threads (B transposed), and the rows path. */
    for (int tb = 0; tb < 2; tb++) {
        gcase_t gc = base_case(3, 5, 5000, dtypes[tb + 1]);
        gc.tb = tb;
        gc.beta = 0.25f;
        run_case(&gc, 8100 + (uint64_t)tb);
    }
    /* Wider than one pass of the rows path's partial results (128K floats / m columns). */
    gcase_t gc = base_case(33, 4500, 20, XHAL_DTYPE_BF16);
    gc.ct = XHAL_DTYPE_F32;
    run_case(&gc, 8102);
    gc = base_case(64, 200, 2100, XHAL_DTYPE_F16);
    gc.tb = 1;
    gc.batch = 2;
    gc.share_b = 1;
    run_case(&gc, 8103);
}

static void test_allow_tf32(void **state) {
    (void)state;
    gcase_t gc = base_case(40, 50, 60, XHAL_DTYPE_F32);
    gc.flags = XHAL_GEMM_ALLOW_TF32;
    gc.tol = 2e-3; /* the flag allows 10-bit mantissas */
    run_case(&gc, 7000);
}

/* ---- slow group --------------------------------------------------------------------------------
 */

static void test_full_cube_all_dtypes(void **state) {
    (void)state;
    int idx = 0;
    for (int dt = 0; dt < 3; dt++)
        for (int t = 0; t < 4; t++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    for (int l = 0; l < 4; l++, idx++) {
                        gcase_t gc = base_case(sizes[i], sizes[j], sizes[l], dtypes[dt]);
                        gc.ta = t & 1;
                        gc.tb = t >> 1;
                        gc.pad_a = idx % 3;
                        gc.off = (uint64_t)(idx % 2);
                        run_case(&gc, 10000 + (uint64_t)idx);
                    }
}

static void test_full_cube_mixed(void **state) {
    (void)state;
    int idx = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 4; l++, idx++) {
                    gcase_t gc = base_case(sizes[i], sizes[j], sizes[l], XHAL_DTYPE_F16);
                    gc.bt = XHAL_DTYPE_BF16;
                    gc.ct = dtypes[c];
                    gc.batch = 2;
                    gc.beta = 0.5f;
                    run_case(&gc, 20000 + (uint64_t)idx);
                }
}

static void test_large(void **state) {
    (void)state;
    gcase_t gc = base_case(512, 512, 512, XHAL_DTYPE_F32);
    run_case(&gc, 30000);
    gc = base_case(300, 1000, 77, XHAL_DTYPE_BF16);
    gc.ct = XHAL_DTYPE_F32;
    gc.ta = 1;
    gc.tb = 1;
    run_case(&gc, 30001);
    gc = base_case(1, 4096, 1024, XHAL_DTYPE_F16); /* a decode projection */
    gc.tb = 1;
    run_case(&gc, 30002);
    gc = base_case(257, 255, 513, XHAL_DTYPE_F16);
    gc.batch = 3;
    gc.share_b = 1;
    gc.beta = 0.5f;
    run_case(&gc, 30003);
}

static int setup(void **state) {
    (void)state;
    return xt_devices_open_streams(&set);
}

static int teardown(void **state) {
    (void)state;
    xt_devices_close(&set);
    return 0;
}

int main(int argc, char **argv) {
    unsetenv("XHAL_DEVICE");
    unsetenv("XHAL_BACKENDS");
    if (xt_devices_select(&set) == 0) {
        print_message("no device to test (XHAL_TEST_CPU_ONLY / XHAL_TEST_BACKEND)\n");
        xhal_shutdown();
        return 77; /* ctest's SKIP_RETURN_CODE where a run asks for a backend not here */
    }
    const struct CMUnitTest quick[] = {
        cmocka_unit_test(test_desc_init),
        cmocka_unit_test(test_supports_valid),
        cmocka_unit_test(test_dtype_combinations),
        cmocka_unit_test(test_shapes_f32),
        cmocka_unit_test(test_leading_dimensions_and_offsets),
        cmocka_unit_test(test_batched),
        cmocka_unit_test(test_alpha_beta),
        cmocka_unit_test(test_one_buffer),
        cmocka_unit_test(test_medium_and_long_k),
        cmocka_unit_test(test_blocking_edges),
        cmocka_unit_test(test_skinny),
        cmocka_unit_test(test_allow_tf32),
    };
    const struct CMUnitTest skinny[] = {
        cmocka_unit_test(test_skinny),
    };
    const struct CMUnitTest slow[] = {
        cmocka_unit_test(test_full_cube_all_dtypes),
        cmocka_unit_test(test_full_cube_mixed),
        cmocka_unit_test(test_large),
    };
    if (argc > 1 && strcmp(argv[1], "slow") == 0)
        return cmocka_run_group_tests_name("gemm_slow", slow, setup, teardown);
    if (argc > 1 && strcmp(argv[1], "skinny") == 0)
        return cmocka_run_group_tests_name("gemm_skinny", skinny, setup, teardown);
    return cmocka_run_group_tests_name("gemm", quick, setup, teardown);
}
