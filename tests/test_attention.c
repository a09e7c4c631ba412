/*
 * Attention on the CPU device against the fp64 reference: every dtype, head_dim 1..256, GQA and
 * MQA, causal with seq_q ==, < and > seq_kv, decode over a long KV, BSHD/BHSD/custom strides,
 * batch 2, default and explicit scale, offsets. Q/K/V/O buffers are NaN outside the tensors'
 * elements and O is NaN before the run; bytes of O outside its elements must stay untouched.
 *
 * Run with no argument for the quick group, with "slow" for the long sweeps.
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

enum { LAYOUT_BSHD = 0, LAYOUT_BHSD = 1, LAYOUT_CUSTOM = 2 };

typedef struct {
    int64_t batch, hq, hkv, sq, skv, hd;
    xhal_dtype_t dt;
    int causal;
    float scale;
    int layout;
    uint64_t off; /* offsets: off, 2, 3 and 4 times off elements for q, k, v, o */
} acase_t;

static acase_t make(int64_t batch, int64_t hq, int64_t hkv, int64_t sq, int64_t skv, int64_t hd,
                    xhal_dtype_t dt) {
    acase_t c;
    memset(&c, 0, sizeof c);
    c.batch = batch;
    c.hq = hq;
    c.hkv = hkv;
    c.sq = sq;
    c.skv = skv;
    c.hd = hd;
    c.dt = dt;
    return c;
}

/* Makes device `index` the one the next case runs on. */
static void use_device(size_t index) {
    xhal_device_info_t info = {.struct_size = sizeof info};
    device = set.device[index];
    stream = set.stream[index];
    if (xhal_device_info(device, &info) != XHAL_OK) fail_msg("xhal_device_info failed");
    snprintf(device_spec, sizeof device_spec, "%s", info.spec);
}

/* Padded strides: rows, heads and batches each a little apart, in BSHD order. */
static xhal_attention_strides_t custom_strides(int64_t heads, int64_t seq, int64_t hd) {
    xhal_attention_strides_t s;
    s.head = hd + 3;
    s.seq = heads * s.head + 5;
    s.batch = seq * s.seq + 11;
    return s;
}

typedef struct {
    unsigned char *image;
    uint64_t bytes;
    xhal_buffer_t *buffer;
} tensor_t;

static void tensor_make(tensor_t *t, const xhal_attention_strides_t *s, uint64_t offset,
                        const acase_t *ac, int64_t heads, int64_t seq, int fill, xt_rng_t *rng) {
    size_t es = xt_dtype_size(ac->dt);
    uint64_t extent = xt_attention_extent(s, ac->batch, heads, seq, ac->hd);
    t->bytes = offset + extent * es;
    t->image = xt_malloc((size_t)t->bytes);
    memset(t->image, 0xff, (size_t)t->bytes);
    if (fill)
        for (int64_t b = 0; b < ac->batch; b++)
            for (int64_t h = 0; h < heads; h++)
                for (int64_t i = 0; i < seq; i++)
                    for (int64_t x = 0; x < ac->hd; x++)
                        xt_store(t->image, ac->dt,
                                 offset / es +
                                     (uint64_t)(b * s->batch + h * s->head + i * s->seq + x),
                                 xt_rng_uniform(rng));
    t->buffer = NULL;
    XT_OK(xhal_buffer_alloc(device, t->bytes, XHAL_MEMORY_DEVICE, &t->buffer));
    XT_OK(xhal_copy_h2d(stream, t->buffer, 0, t->image, t->bytes));
}

static void tensor_free(tensor_t *t) {
    xhal_buffer_free(t->buffer);
    free(t->image);
}

/* Runs one case on the current device and fails the test, naming the case and the device,
 * when the result is wrong. */
static void run_case_on(const acase_t *ac, uint64_t seed) {
    char what[384];
    snprintf(what, sizeof what,
             "%s: batch %lld heads %lld/%lld seq %lld/%lld head_dim %lld %s causal %d scale %g "
             "layout %d off %llu",
             device_spec, (long long)ac->batch, (long long)ac->hq, (long long)ac->hkv,
             (long long)ac->sq, (long long)ac->skv, (long long)ac->hd, xhal_dtype_name(ac->dt),
             ac->causal, (double)ac->scale, ac->layout, (unsigned long long)ac->off);
    xt_rng_t rng;
    xt_rng_seed(&rng, seed);
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, ac->batch, ac->hq, ac->hkv, ac->sq, ac->skv, ac->hd, ac->dt,
                             ac->layout == LAYOUT_BHSD ? XHAL_LAYOUT_BHSD : XHAL_LAYOUT_BSHD);
    d.causal = ac->causal;
    d.scale = ac->scale;
    if (ac->layout == LAYOUT_CUSTOM) {
        d.q_strides = custom_strides(ac->hq, ac->sq, ac->hd);
        d.k_strides = custom_strides(ac->hkv, ac->skv, ac->hd);
        d.v_strides = custom_strides(ac->hkv, ac->skv, ac->hd);
        d.v_strides.seq += 2; /* V laid out unlike K */
        d.v_strides.batch += 2 * ac->skv;
        d.o_strides = custom_strides(ac->hq, ac->sq, ac->hd);
        d.o_strides.head += 1;
        d.o_strides.seq += ac->hq;
        d.o_strides.batch += ac->sq * ac->hq;
    }
    size_t es = xt_dtype_size(ac->dt);
    d.q_offset = ac->off * es;
    d.k_offset = 2 * ac->off * es;
    d.v_offset = 3 * ac->off * es;
    d.o_offset = 4 * ac->off * es;
    tensor_t q, k, v, o;
    tensor_make(&q, &d.q_strides, d.q_offset, ac, ac->hq, ac->sq, 1, &rng);
    tensor_make(&k, &d.k_strides, d.k_offset, ac, ac->hkv, ac->skv, 1, &rng);
    tensor_make(&v, &d.v_strides, d.v_offset, ac, ac->hkv, ac->skv, 1, &rng);
    tensor_make(&o, &d.o_strides, d.o_offset, ac, ac->hq, ac->sq, 0, &rng);
    d.q = q.buffer;
    d.k = k.buffer;
    d.v = v.buffer;
    d.o = o.buffer;

    size_t count = (size_t)(ac->batch * ac->hq * ac->sq * ac->hd);
    double *ref = xt_malloc(sizeof(double) * count), *got = xt_malloc(sizeof(double) * count);
    xt_ref_attention(&d, q.image, k.image, v.image, ref);

    XT_OK(xhal_attention_supports(device, &d));
    xhal_status_t st = xhal_attention(stream, &d);
    if (st != XHAL_OK)
        fail_msg("%s: xhal_attention returned %s: %s", what, xhal_status_name(st),
                 xhal_last_error());
    unsigned char *out = xt_malloc((size_t)o.bytes), *mask = xt_malloc((size_t)o.bytes);
    XT_OK(xhal_copy_d2h(stream, out, o.buffer, 0, o.bytes));
    XT_OK(xhal_stream_synchronize(stream));

    memset(mask, 0, (size_t)o.bytes);
    for (int64_t b = 0; b < ac->batch; b++)
        for (int64_t h = 0; h < ac->hq; h++)
            for (int64_t i = 0; i < ac->sq; i++) {
                int blind = ac->causal && i + ac->skv - ac->sq < 0; /* sees no key */
                for (int64_t x = 0; x < ac->hd; x++) {
                    uint64_t e =
                        d.o_offset / es + (uint64_t)(b * d.o_strides.batch + h * d.o_strides.head +
                                                     i * d.o_strides.seq + x);
                    double g = xt_load(out, ac->dt, e);
                    got[((b * ac->hq + h) * ac->sq + i) * ac->hd + x] = g;
                    memset(mask + e * es, 1, es);
                    if (blind && g != 0.0)
                        fail_msg("%s: O[%lld][%lld][%lld][%lld] = %g, but that query sees no key "
                                 "and must be zero",
                                 what, (long long)b, (long long)h, (long long)i, (long long)x, g);
                }
            }
    for (uint64_t i = 0; i < o.bytes; i++)
        if (!mask[i] && out[i] != o.image[i])
            fail_msg("%s: byte %llu of O's buffer outside O changed (0x%02x -> 0x%02x)", what,
                     (unsigned long long)i, o.image[i], out[i]);
    size_t bad = 0;
    double err = xt_rel_error(got, ref, count, &bad);
    if (bad) fail_msg("%s: %zu NaN/Inf results", what, bad);
    double tol = xt_tolerance(ac->dt);
    if (!(err <= tol))
        fail_msg("%s: relative error %g > %g (O[0] = %g, reference %g)", what, err, tol, got[0],
                 ref[0]);

    tensor_free(&q);
    tensor_free(&k);
    tensor_free(&v);
    tensor_free(&o);
    free(ref);
    free(got);
    free(out);
    free(mask);
}

/* Runs one case on every device. */
static void run_case(const acase_t *ac, uint64_t seed) {
    for (size_t i = 0; i < set.count; i++) {
        use_device(i);
        run_case_on(ac, seed);
    }
}

static const xhal_dtype_t dtypes[] = {XHAL_DTYPE_F32, XHAL_DTYPE_F16, XHAL_DTYPE_BF16};

/* ---- quick group ----------------------------------------------------------------------------- */

static void test_desc_init(void **state) {
    (void)state;
    xhal_attention_desc_t d;
    memset(&d, 0x5a, sizeof d);
    xhal_attention_desc_init(&d, 2, 8, 2, 5, 9, 16, XHAL_DTYPE_F16, XHAL_LAYOUT_BSHD);
    assert_int_equal(d.batch, 2);
    assert_int_equal(d.heads_q, 8);
    assert_int_equal(d.heads_kv, 2);
    assert_int_equal(d.seq_q, 5);
    assert_int_equal(d.seq_kv, 9);
    assert_int_equal(d.head_dim, 16);
    assert_int_equal(d.dtype, XHAL_DTYPE_F16);
    assert_int_equal(d.causal, 0);
    assert_true(d.scale == 0.0f);
    assert_null(d.q);
    assert_null(d.o);
    assert_int_equal(d.q_offset + d.k_offset + d.v_offset + d.o_offset, 0);
    /* BSHD: [batch, seq, head, dim]. */
    assert_int_equal(d.q_strides.head, 16);
    assert_int_equal(d.q_strides.seq, 8 * 16);
    assert_int_equal(d.q_strides.batch, 5 * 8 * 16);
    assert_int_equal(d.k_strides.head, 16);
    assert_int_equal(d.k_strides.seq, 2 * 16);
    assert_int_equal(d.k_strides.batch, 9 * 2 * 16);
    assert_memory_equal(&d.v_strides, &d.k_strides, sizeof d.k_strides);
    assert_memory_equal(&d.o_strides, &d.q_strides, sizeof d.q_strides);
    /* BHSD: [batch, head, seq, dim]. */
    xhal_attention_desc_init(&d, 2, 8, 2, 5, 9, 16, XHAL_DTYPE_F32, XHAL_LAYOUT_BHSD);
    assert_int_equal(d.q_strides.seq, 16);
    assert_int_equal(d.q_strides.head, 5 * 16);
    assert_int_equal(d.q_strides.batch, 8 * 5 * 16);
    assert_int_equal(d.k_strides.seq, 16);
    assert_int_equal(d.k_strides.head, 9 * 16);
    assert_int_equal(d.k_strides.batch, 2 * 9 * 16);
    assert_memory_equal(&d.v_strides, &d.k_strides, sizeof d.k_strides);
    assert_memory_equal(&d.o_strides, &d.q_strides, sizeof d.q_strides);
}

static void test_supports_on(void) {
    const int64_t dims[] = {1, 7, 64, 128, 256};
    for (int dt = 0; dt < 3; dt++)
        for (int i = 0; i < 5; i++) {
            xhal_attention_desc_t d;
            xhal_attention_desc_init(&d, 2, 8, 2, 3, 100, dims[i], dtypes[dt], XHAL_LAYOUT_BHSD);
            d.causal = i % 2;
            XT_OK(xhal_attention_supports(device, &d));
        }
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, 1, 1, 1, 1, 1, 300, XHAL_DTYPE_F32, XHAL_LAYOUT_BSHD);
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_attention_supports(device, &d), "head_dim");
}

static void test_supports(void **state) {
    (void)state;
    for (size_t i = 0; i < set.count; i++) {
        use_device(i);
        test_supports_on();
    }
}

static void test_basic_all_dtypes(void **state) {
    (void)state;
    for (int dt = 0; dt < 3; dt++) {
        acase_t c = make(2, 4, 4, 17, 17, 64, dtypes[dt]);
        run_case(&c, 100 + (uint64_t)dt);
        c = make(2, 2, 2, 13, 31, 7, dtypes[dt]);
        c.layout = LAYOUT_BHSD;
        c.off = 3;
        run_case(&c, 110 + (uint64_t)dt);
    }
}

static void test_causal(void **state) {
    (void)state;
    for (int dt = 0; dt < 3; dt++) {
        acase_t c = make(1, 2, 2, 33, 33, 16, dtypes[dt]); /* seq_q == seq_kv */
        c.causal = 1;
        c.layout = LAYOUT_BHSD;
        run_case(&c, 200 + (uint64_t)dt);
        c = make(2, 3, 1, 9, 40, 64, dtypes[dt]); /* seq_q < seq_kv: bottom-right */
        c.causal = 1;
        c.off = 1;
        run_case(&c, 210 + (uint64_t)dt);
        c = make(2, 2, 2, 20, 7, 32, dtypes[dt]); /* seq_q > seq_kv: 13 rows see nothing */
        c.causal = 1;
        c.layout = (int)(dt % 2);
        run_case(&c, 220 + (uint64_t)dt);
    }
}

static void test_gqa_mqa(void **state) {
    (void)state;
    acase_t c = make(2, 8, 2, 9, 40, 128, XHAL_DTYPE_BF16); /* GQA */
    c.causal = 1;
    run_case(&c, 300);
    c = make(2, 8, 2, 16, 16, 64, XHAL_DTYPE_F32);
    c.layout = LAYOUT_BHSD;
    run_case(&c, 301);
    c = make(1, 8, 1, 5, 21, 1, XHAL_DTYPE_F32); /* MQA, head_dim 1 */
    run_case(&c, 302);
    c = make(2, 6, 1, 4, 33, 7, XHAL_DTYPE_F16);
    c.layout = LAYOUT_CUSTOM;
    c.causal = 1;
    run_case(&c, 303);
}

static void test_decode(void **state) {
    (void)state;
    for (int dt = 0; dt < 3; dt++) {
        acase_t c = make(2, 8, 2, 1, 1031, 128, dtypes[dt]);
        c.layout = LAYOUT_BHSD;
        c.causal = dt == 1;
        c.off = 5;
        run_case(&c, 400 + (uint64_t)dt);
    }
    acase_t c = make(1, 4, 1, 4, 1000, 64, XHAL_DTYPE_F32); /* a few queries over a long cache */
    c.causal = 1;
    run_case(&c, 410);
}

static void test_strides_and_scale(void **state) {
    (void)state;
    acase_t c = make(2, 4, 2, 11, 19, 64, XHAL_DTYPE_F32);
    c.layout = LAYOUT_CUSTOM;
    c.off = 7;
    run_case(&c, 500);
    c.scale = 0.37f;
    run_case(&c, 501);
    c = make(1, 2, 2, 8, 8, 32, XHAL_DTYPE_BF16);
    c.scale = 2.0f;
    c.causal = 1;
    run_case(&c, 502);
    c = make(2, 2, 2, 5, 6, 256, XHAL_DTYPE_F16); /* the largest head_dim */
    c.scale = 0.1f;
    c.layout = LAYOUT_BHSD;
    run_case(&c, 503);
}

/* ---- slow group --------------------------------------------------------------------------------
 */

static void test_sweep(void **state) {
    (void)state;
    const int64_t dims[] = {1, 7, 64, 128, 256};
    const int64_t seqs[][2] = {{1, 1}, {17, 17}, {5, 77}, {30, 9}, {1, 2049}};
    int idx = 0;
    for (int dt = 0; dt < 3; dt++)
        for (int i = 0; i < 5; i++)
            for (int s = 0; s < 5; s++)
                for (int causal = 0; causal < 2; causal++, idx++) {
                    acase_t c = make(1 + idx % 2, 4, idx % 3 == 0 ? 1 : 2, seqs[s][0], seqs[s][1],
                                     dims[i], dtypes[dt]);
                    c.causal = causal;
                    c.layout = idx % 3;
                    c.off = (uint64_t)(idx % 4);
                    c.scale = idx % 5 == 0 ? 0.5f : 0.0f;
                    run_case(&c, 1000 + (uint64_t)idx);
                }
}

static void test_prefill_large(void **state) {
    (void)state;
    acase_t c = make(1, 4, 1, 512, 512, 128, XHAL_DTYPE_BF16);
    c.causal = 1;
    run_case(&c, 2000);
    c = make(1, 4, 4, 300, 700, 64, XHAL_DTYPE_F16);
    c.causal = 1;
    c.layout = LAYOUT_BHSD;
    run_case(&c, 2001);
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
        cmocka_unit_test(test_desc_init),         cmocka_unit_test(test_supports),
        cmocka_unit_test(test_basic_all_dtypes),  cmocka_unit_test(test_causal),
        cmocka_unit_test(test_gqa_mqa),           cmocka_unit_test(test_decode),
        cmocka_unit_test(test_strides_and_scale),
    };
    const struct CMUnitTest slow[] = {
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_prefill_large),
    };
    if (argc > 1 && strcmp(argv[1], "slow") == 0)
        return cmocka_run_group_tests_name("attention_slow", slow, setup, teardown);
    return cmocka_run_group_tests_name("attention", quick, setup, teardown);
}
