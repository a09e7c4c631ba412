/*
 * Invalid GEMM and attention descriptors: each is changed from a valid one in one field and
 * must be rejected with the documented status and a message naming the field and its value.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILL 0x3c

static xhal_device_t *cpu;
static xhal_stream_t *s;
static xhal_buffer_t *big;   /* 1 MiB */
static xhal_buffer_t *small; /* 255 bytes: one byte short of 8 x 8 f32 */
static xhal_buffer_t *mid;   /* 4096 bytes */

static int setup(void **state) {
    (void)state;
    if (xhal_device_open("cpu", &cpu) != XHAL_OK || xhal_stream_create(cpu, &s) != XHAL_OK ||
        xhal_buffer_alloc(cpu, 1 << 20, XHAL_MEMORY_DEVICE, &big) != XHAL_OK ||
        xhal_buffer_alloc(cpu, 255, XHAL_MEMORY_DEVICE, &small) != XHAL_OK ||
        xhal_buffer_alloc(cpu, 4096, XHAL_MEMORY_DEVICE, &mid) != XHAL_OK)
        return -1;
    unsigned char pattern = FILL; /* f32 0x3c3c3c3c: 0.0115, finite */
    if (xhal_fill(s, big, 0, 1 << 20, &pattern, 1) != XHAL_OK ||
        xhal_stream_synchronize(s) != XHAL_OK)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    xhal_buffer_free(big);
    xhal_buffer_free(small);
    xhal_buffer_free(mid);
    xhal_stream_destroy(s);
    xhal_shutdown();
    printf("[ INFO     ] %d invalid calls checked\n", xt_invalid_calls_checked);
    return 0;
}

/* A valid 8 x 8 x 8 f32 GEMM with A, B and C at 0, 4096 and 8192 of `big`. */
static xhal_gemm_desc_t gemm_ok(void) {
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, 8, 8, 8, XHAL_DTYPE_F32);
    d.a = d.b = d.c = big;
    d.a_offset = 0;
    d.b_offset = 4096;
    d.c_offset = 8192;
    return d;
}

#define GEMM_BAD(want, field_stmt, ...)                                                            \
    do {                                                                                           \
        xhal_gemm_desc_t d = gemm_ok();                                                            \
        field_stmt;                                                                                \
        XT_EXPECT_ERR(want, xhal_gemm(s, &d), __VA_ARGS__);                                        \
    } while (0)

static void test_gemm_valid_base(void **state) {
    (void)state;
    xhal_gemm_desc_t d = gemm_ok();
    XT_OK(xhal_gemm(s, &d));
    XT_OK(xhal_stream_synchronize(s));
}

static void test_gemm_shape_and_types(void **state) {
    (void)state;
    xhal_gemm_desc_t d = gemm_ok();
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm(NULL, &d), "stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm(s, NULL), "desc");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.struct_size = 0, "struct_size", "(0)");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.struct_size = sizeof d + 4, "struct_size");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.m = 0, "m", "0");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.n = -1, "n", "-1");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.k = 0, "k", "0");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.batch = 0, "batch", "0");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.batch = -3, "batch", "-3");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.a_type = (xhal_dtype_t)7, "a_type", "7");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.b_type = XHAL_DTYPE_COUNT, "b_type", "3");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.c_type = (xhal_dtype_t)-1, "c_type", "-1");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.trans_a = 2, "trans_a", "2");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.trans_b = -1, "trans_b", "-1");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.flags = 0x80u, "flags");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.a = NULL, "a");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.b = NULL, "b");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.c = NULL, "c");
}

static void test_gemm_leading_dimensions_and_strides(void **state) {
    (void)state;
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.lda = 7, "lda", "7", "k", "8");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, (d.m = 9, d.trans_a = 1, d.lda = 8), "lda", "8", "m", "9");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, (d.n = 6, d.ldc = 6, d.ldb = 5), "ldb", "5", "n", "6");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, (d.k = 10, d.lda = 10, d.trans_b = 1, d.ldb = 9), "ldb", "9",
             "k", "10");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.ldc = 4, "ldc", "4", "n", "8");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.lda = -8, "lda", "-8");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, (d.batch = 2, d.stride_a = -1), "stride_a", "-1");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, (d.batch = 2, d.stride_b = -64), "stride_b", "-64");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, (d.batch = 2, d.stride_c = -64), "stride_c", "-64");
    /* Batches of C may not overlap: one C is 8 x 8 elements. */
    GEMM_BAD(XHAL_INVALID_ARGUMENT, (d.batch = 2, d.stride_a = 64, d.stride_b = 64, d.stride_c = 1),
             "stride_c", "1");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, (d.batch = 2, d.stride_a = 64, d.stride_b = 64, d.stride_c = 0),
             "stride_c", "0");
}

static void test_gemm_ranges_and_overlap(void **state) {
    (void)state;
    /* `small` holds 63.75 f32: one byte short of an 8 x 8 matrix. */
    GEMM_BAD(XHAL_OUT_OF_RANGE, (d.a = small, d.a_offset = 0), "a");
    GEMM_BAD(XHAL_OUT_OF_RANGE, (d.b = small, d.b_offset = 0), "b");
    GEMM_BAD(XHAL_OUT_OF_RANGE, (d.c = small, d.c_offset = 0), "c");
    GEMM_BAD(XHAL_OUT_OF_RANGE, d.a_offset = (1 << 20) - 4, "a");
    GEMM_BAD(XHAL_OUT_OF_RANGE, d.c_offset = UINT64_MAX - 15, "c");
    /* Offsets are element-aligned. */
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.b_offset = 4098, "b_offset", "4098");
    /* Four batches of A 256 elements apart fit in `mid`, five do not. */
    GEMM_BAD(XHAL_OUT_OF_RANGE,
             (d.a = mid, d.batch = 5, d.stride_a = 256, d.stride_b = 0, d.stride_c = 64), "a");
    /* C on top of A or B in the same buffer. */
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.c_offset = 128, "c", "overlap*");
    GEMM_BAD(XHAL_INVALID_ARGUMENT, d.c_offset = 4096 + 252, "c", "overlap*");
    /* Byte counts that overflow 64 bits: rejected, never a crash. */
    xhal_gemm_desc_t d;
    for (int t = 0; t < 4; t++) {
        d = gemm_ok();
        switch (t) {
        case 0:
            d.m = d.n = d.k = INT64_MAX / 2;
            d.lda = d.ldb = d.ldc = INT64_MAX / 2;
            break;
        case 1:
            d.lda = INT64_MAX;
            break;
        case 2:
            d.batch = 3;
            d.stride_a = INT64_MAX / 2;
            d.stride_c = 64;
            break;
        default:
            d.m = INT64_MAX / 4;
            d.ldc = INT64_MAX / 4;
            break;
        }
        xhal_status_t st = xhal_gemm(s, &d);
        xt_invalid_calls_checked++;
        if (st != XHAL_OUT_OF_RANGE && st != XHAL_INVALID_ARGUMENT)
            fail_msg("overflow case %d: xhal_gemm returned %s: %s", t, xhal_status_name(st),
                     xhal_last_error());
        assert_int_equal(strncmp(xhal_last_error(), "xhal_gemm:", 10), 0);
    }
    /* The shape alone overflows: supports must say no as well. */
    d = gemm_ok();
    d.m = d.n = d.k = INT64_MAX / 2;
    d.lda = d.ldb = d.ldc = INT64_MAX / 2;
    xhal_status_t st = xhal_gemm_supports(cpu, &d);
    xt_invalid_calls_checked++;
    if (st != XHAL_OUT_OF_RANGE && st != XHAL_INVALID_ARGUMENT && st != XHAL_UNSUPPORTED)
        fail_msg("huge shape: xhal_gemm_supports returned %s: %s", xhal_status_name(st),
                 xhal_last_error());
    XT_OK(xhal_stream_synchronize(s));
}

static void test_gemm_supports(void **state) {
    (void)state;
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, 4, 4, 4, XHAL_DTYPE_F16);
    XT_OK(xhal_gemm_supports(cpu, &d)); /* buffers NULL are fine here */
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm_supports(NULL, &d), "device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm_supports(cpu, NULL), "desc");
    d.m = 0;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm_supports(cpu, &d), "m", "0");
    d.m = 4;
    d.lda = 3;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm_supports(cpu, &d), "lda", "3");
}

/* ---- GEMM epilogue and quantized B ----------------------------------------------------------- */

/* gemm_ok with a bias (f32 at 12288), GELU, and a gated C of 8 x 4. */
static xhal_gemm_desc_t gemm_epilogue_ok(void) {
    xhal_gemm_desc_t d = gemm_ok();
    d.bias = big;
    d.bias_offset = 12288;
    d.bias_type = XHAL_DTYPE_F32;
    d.activation = XHAL_ACTIVATION_GELU_ERF;
    d.gated = 1;
    return d;
}

/* gemm_ok with B INT4 (8 x 7 stored n x k, ldb 8: 32 bytes at 4096), groups of 32 with f16
 * scales at 16384 and zero points at 20480. */
static xhal_gemm_desc_t gemm_quant_ok(void) {
    xhal_gemm_desc_t d = gemm_ok();
    d.k = 7;
    d.trans_b = 1;
    d.ldb = 8;
    d.b_quant = XHAL_QUANT_INT4;
    d.b_scale_mode = XHAL_SCALE_PER_GROUP;
    d.b_group_size = 32;
    d.b_scale_type = XHAL_DTYPE_F16;
    d.b_scales = big;
    d.b_scales_offset = 16384;
    d.b_zeros = big;
    d.b_zeros_offset = 20480;
    return d;
}

#define EPI_BAD(want, field_stmt, ...)                                                             \
    do {                                                                                           \
        xhal_gemm_desc_t d = gemm_epilogue_ok();                                                   \
        field_stmt;                                                                                \
        XT_EXPECT_ERR(want, xhal_gemm(s, &d), __VA_ARGS__);                                        \
    } while (0)

#define QUANT_BAD(want, field_stmt, ...)                                                           \
    do {                                                                                           \
        xhal_gemm_desc_t d = gemm_quant_ok();                                                      \
        field_stmt;                                                                                \
        XT_EXPECT_ERR(want, xhal_gemm(s, &d), __VA_ARGS__);                                        \
    } while (0)

static void test_gemm_epilogue_fields(void **state) {
    (void)state;
    xhal_gemm_desc_t ok = gemm_epilogue_ok();
    XT_OK(xhal_gemm_supports(cpu, &ok));
    XT_OK(xhal_gemm(s, &ok));
    ok.gated = 0;
    ok.bias_type = XHAL_DTYPE_BF16;
    ok.bias_offset = 12290;
    XT_OK(xhal_gemm(s, &ok)); /* a bias of C's dtype or another, at a 2-byte offset */
    XT_OK(xhal_stream_synchronize(s));
    EPI_BAD(XHAL_INVALID_ARGUMENT, d.activation = (xhal_activation_t)9, "activation", "(9)");
    EPI_BAD(XHAL_INVALID_ARGUMENT, d.gated = 2, "gated", "(2)");
    EPI_BAD(XHAL_INVALID_ARGUMENT, (d.n = 7, d.ldc = 7), "n", "(7)", "gated");
    EPI_BAD(XHAL_INVALID_ARGUMENT, d.beta = 0.5f, "beta", "(0.5)", "gated");
    EPI_BAD(XHAL_INVALID_ARGUMENT, d.ldc = 3, "ldc", "(3)");
    EPI_BAD(XHAL_INVALID_ARGUMENT, d.bias_type = XHAL_DTYPE_COUNT, "bias_type", "(3)");
    EPI_BAD(XHAL_INVALID_ARGUMENT, d.bias_offset = 12289, "bias_offset", "(12289)");
    EPI_BAD(XHAL_OUT_OF_RANGE, d.bias_offset = (1 << 20) - 28, "bias_offset", "bias");
    EPI_BAD(XHAL_OUT_OF_RANGE, (d.bias = small, d.bias_offset = 240), "bias");
    EPI_BAD(XHAL_INVALID_ARGUMENT, d.bias_offset = 8192 + 4, "bias", "overlap*");
    /* Gated, batches of C are n / 2 wide: 8 x 4 fits in a stride of 29 elements (7 * 4 + 4 = 32
     * with ldc 4); a stride below that is refused. */
    EPI_BAD(XHAL_INVALID_ARGUMENT, (d.ldc = 4, d.batch = 2, d.stride_c = 31), "stride_c", "(31)");
    xhal_gemm_desc_t d = gemm_epilogue_ok();
    d.ldc = 4;
    d.batch = 2;
    d.stride_c = 32;
    XT_OK(xhal_gemm(s, &d));
    XT_OK(xhal_stream_synchronize(s));
    d = gemm_epilogue_ok();
    d.n = 5;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm_supports(cpu, &d), "n", "(5)");
}

static void test_gemm_quant_fields(void **state) {
    (void)state;
    xhal_gemm_desc_t ok = gemm_quant_ok();
    XT_OK(xhal_gemm_supports(cpu, &ok));
    XT_OK(xhal_gemm(s, &ok));
    /* The 32 bytes of B end exactly at the end of the buffer; one more is out of range. */
    ok.b_offset = (1 << 20) - 32;
    XT_OK(xhal_gemm(s, &ok));
    XT_OK(xhal_stream_synchronize(s));
    QUANT_BAD(XHAL_OUT_OF_RANGE, d.b_offset = (1 << 20) - 31, "b_offset", "b");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, d.b_quant = (xhal_quant_t)7, "b_quant", "(7)");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, d.b_scale_mode = XHAL_SCALE_PER_CHANNEL, "b_scale_mode",
              "(PER_CHANNEL)", "INT4");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, (d.b_quant = XHAL_QUANT_INT8, d.b_zeros = NULL),
              "b_scale_mode", "(PER_GROUP)", "INT8");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, d.b_scale_mode = (xhal_scale_mode_t)5, "b_scale_mode", "(5)");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, d.b_group_size = 16, "b_group_size", "(16)");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, d.b_scale_type = (xhal_dtype_t)5, "b_scale_type", "(5)");
    QUANT_BAD(XHAL_INVALID_ARGUMENT,
              (d.b_quant = XHAL_QUANT_FP8_E4M3, d.b_scale_mode = XHAL_SCALE_PER_TENSOR), "b_zeros",
              "FP8_E4M3");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, d.ldb = 9, "ldb", "(9)", "INT4");
    QUANT_BAD(XHAL_INVALID_ARGUMENT,
              (d.batch = 2, d.stride_a = 64, d.stride_c = 64, d.stride_b = 32), "stride_b", "(32)");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, d.b_scales = NULL, "b_scales");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, d.b_scales_offset = 16385, "b_scales_offset", "(16385)");
    QUANT_BAD(XHAL_OUT_OF_RANGE, d.b_scales_offset = (1 << 20) - 14, "b_scales_offset", "b_scales");
    QUANT_BAD(XHAL_OUT_OF_RANGE, d.b_zeros_offset = (1 << 20) - 7, "b_zeros_offset", "b_zeros");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, d.b_zeros_offset = 8192 + 100, "b_zeros", "overlap*");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, d.b_scales_offset = 8192, "b_scales", "overlap*");
    /* A dense B with scales or zero points set is a mistake, not something to ignore. */
    QUANT_BAD(XHAL_INVALID_ARGUMENT, (d.b_quant = XHAL_QUANT_NONE, d.b_zeros = NULL), "b_scales",
              "NONE");
    QUANT_BAD(XHAL_INVALID_ARGUMENT, (d.b_quant = XHAL_QUANT_NONE, d.b_scales = NULL), "b_zeros",
              "NONE");
    /* b_type is not read with a quantized B. */
    xhal_gemm_desc_t d = gemm_quant_ok();
    d.b_type = (xhal_dtype_t)99;
    XT_OK(xhal_gemm(s, &d));
    /* One weight matrix for a batch of 2 (C within the 256 bytes the valid calls write). */
    d = gemm_quant_ok();
    d.m = 4;
    d.batch = 2;
    d.stride_a = 64;
    d.stride_b = 0;
    d.stride_c = 32;
    XT_OK(xhal_gemm(s, &d));
    XT_OK(xhal_stream_synchronize(s));
}

/* ---- attention ---------------------------------------------------------------------------- */

/* A valid attention: batch 1, 2 heads, seq 4, head_dim 8, f32, q/k/v/o 1 KiB apart in `big`. */
static xhal_attention_desc_t attn_ok(void) {
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, 1, 2, 2, 4, 4, 8, XHAL_DTYPE_F32, XHAL_LAYOUT_BSHD);
    d.q = d.k = d.v = d.o = big;
    d.q_offset = 0;
    d.k_offset = 1024;
    d.v_offset = 2048;
    d.o_offset = 3072;
    return d;
}

/* A valid layout of head_dim 300 (which the CPU does not support): tensors 16 KiB apart. */
static xhal_attention_desc_t attn_head_dim_300(void) {
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, 1, 2, 2, 4, 4, 300, XHAL_DTYPE_F32, XHAL_LAYOUT_BSHD);
    d.q = d.k = d.v = d.o = big;
    d.q_offset = 0;
    d.k_offset = 16384;
    d.v_offset = 32768;
    d.o_offset = 49152;
    return d;
}

#define ATTN_BAD(want, field_stmt, ...)                                                            \
    do {                                                                                           \
        xhal_attention_desc_t d = attn_ok();                                                       \
        field_stmt;                                                                                \
        XT_EXPECT_ERR(want, xhal_attention(s, &d), __VA_ARGS__);                                   \
    } while (0)

static void test_attention_valid_base(void **state) {
    (void)state;
    xhal_attention_desc_t d = attn_ok();
    XT_OK(xhal_attention(s, &d));
    d.q_strides.head = 0; /* inputs may repeat a head: only O must not overlap itself */
    XT_OK(xhal_attention(s, &d));
    XT_OK(xhal_stream_synchronize(s));
}

static void test_attention_shape(void **state) {
    (void)state;
    xhal_attention_desc_t d = attn_ok();
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention(NULL, &d), "stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention(s, NULL), "desc");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.struct_size = 0, "struct_size", "(0)");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.batch = 0, "batch", "0");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.heads_q = 0, "heads_q", "0");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.heads_kv = -2, "heads_kv", "-2");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.seq_q = 0, "seq_q", "0");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.seq_kv = -1, "seq_kv", "-1");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.head_dim = 0, "head_dim", "0");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, (d.heads_q = 3, d.heads_kv = 2), "heads_q", "3", "heads_kv",
             "2");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, (d.heads_q = 2, d.heads_kv = 4), "heads_q", "heads_kv");
    ATTN_BAD(XHAL_UNSUPPORTED, d = attn_head_dim_300(), "head_dim", "300");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.dtype = (xhal_dtype_t)9, "dtype", "9");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.causal = 2, "causal", "2");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.scale = NAN, "scale");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.scale = INFINITY, "scale");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.scale = -INFINITY, "scale");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.q = NULL, "q");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.k = NULL, "k");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.v = NULL, "v");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.o = NULL, "o");
}

static void test_attention_strides(void **state) {
    (void)state;
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.q_strides.seq = -1, "q_strides*", "-1");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.k_strides.head = -8, "k_strides*", "-8");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.v_strides.batch = -1, "v_strides*", "-1");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.o_strides.seq = -16, "o_strides*", "-16");
    /* O rows on top of each other. */
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.o_strides.seq = 4, "o_strides*");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.o_strides.head = 0, "o_strides*");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, (d.batch = 2, d.o_strides.batch = 8), "o_strides*");
}

static void test_attention_ranges_and_overlap(void **state) {
    (void)state;
    /* One tensor is 2 x 4 x 8 f32 = 256 bytes: `small` is one byte short. */
    ATTN_BAD(XHAL_OUT_OF_RANGE, (d.q = small, d.q_offset = 0), "q");
    ATTN_BAD(XHAL_OUT_OF_RANGE, (d.k = small, d.k_offset = 0), "k");
    ATTN_BAD(XHAL_OUT_OF_RANGE, (d.v = small, d.v_offset = 0), "v");
    ATTN_BAD(XHAL_OUT_OF_RANGE, (d.o = small, d.o_offset = 0), "o");
    ATTN_BAD(XHAL_OUT_OF_RANGE, d.v_offset = (1 << 20) - 128, "v");
    ATTN_BAD(XHAL_OUT_OF_RANGE, d.o_offset = UINT64_MAX - 63, "o");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.k_offset = 1026, "k_offset", "1026");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.o_offset = 128, "o", "overlap*");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.o_offset = 1024 + 64, "o", "overlap*");
    ATTN_BAD(XHAL_INVALID_ARGUMENT, d.o_offset = 2048 - 4, "o", "overlap*");
    /* Sizes whose byte counts overflow. */
    xhal_attention_desc_t d = attn_ok();
    d.seq_kv = INT64_MAX / 4;
    d.k_strides.seq = 16;
    d.v_strides.seq = 16;
    xhal_status_t st = xhal_attention(s, &d);
    xt_invalid_calls_checked++;
    if (st != XHAL_OUT_OF_RANGE && st != XHAL_INVALID_ARGUMENT)
        fail_msg("huge seq_kv: xhal_attention returned %s: %s", xhal_status_name(st),
                 xhal_last_error());
    d = attn_ok();
    d.batch = 2;
    d.q_strides.batch = INT64_MAX / 2;
    st = xhal_attention(s, &d);
    xt_invalid_calls_checked++;
    if (st != XHAL_OUT_OF_RANGE && st != XHAL_INVALID_ARGUMENT)
        fail_msg("huge q batch stride: xhal_attention returned %s: %s", xhal_status_name(st),
                 xhal_last_error());
    XT_OK(xhal_stream_synchronize(s));
}

static void test_attention_supports(void **state) {
    (void)state;
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, 1, 4, 2, 3, 5, 64, XHAL_DTYPE_BF16, XHAL_LAYOUT_BHSD);
    XT_OK(xhal_attention_supports(cpu, &d));
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention_supports(NULL, &d), "device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention_supports(cpu, NULL), "desc");
    xhal_attention_desc_t d300 = attn_head_dim_300();
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_attention_supports(cpu, &d300), "head_dim", "300");
    d.heads_kv = 3;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention_supports(cpu, &d), "heads_q", "heads_kv");
}

static void test_rejected_ops_change_nothing(void **state) {
    (void)state;
    /* After all the rejected calls, `big` outside the valid ops' outputs is still as filled. */
    XT_OK(xhal_stream_synchronize(s));
    void *p = NULL;
    XT_OK(xhal_buffer_host_pointer(big, &p));
    const unsigned char *b = p;
    for (size_t i = 0; i < (1u << 20); i++) {
        int written = (i >= 3072 && i < 3072 + 256) || (i >= 8192 && i < 8192 + 256);
        if (!written && b[i] != FILL)
            fail_msg("byte %zu of the buffer changed by a rejected call", i);
    }
}

int main(void) {
    unsetenv("XHAL_DEVICE");
    unsetenv("XHAL_BACKENDS");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_valid_base),
        cmocka_unit_test(test_gemm_shape_and_types),
        cmocka_unit_test(test_gemm_leading_dimensions_and_strides),
        cmocka_unit_test(test_gemm_ranges_and_overlap),
        cmocka_unit_test(test_gemm_supports),
        cmocka_unit_test(test_gemm_epilogue_fields),
        cmocka_unit_test(test_gemm_quant_fields),
        cmocka_unit_test(test_attention_valid_base),
        cmocka_unit_test(test_attention_shape),
        cmocka_unit_test(test_attention_strides),
        cmocka_unit_test(test_attention_ranges_and_overlap),
        cmocka_unit_test(test_attention_supports),
        cmocka_unit_test(test_rejected_ops_change_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
