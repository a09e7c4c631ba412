/*
 * Invalid serving-attention and merge descriptors: each is changed from a valid one in one field
 * and must be rejected with the documented status and a message naming the field and its value.
 * Then the opt-in host check of the index buffers (XHAL_ATTENTION_CHECK_INDICES): a bad entry is
 * INVALID_ARGUMENT naming the sequence and the entry, garbage a sequence does not use passes, and
 * without the flag garbage is accepted (kernels clamp it).
 *
 * Run with "env" (and XHAL_VALIDATE=1 in the environment), the check is expected without the
 * flag: the variable turns it on for every call.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILL 0x3c

static xhal_device_t *cpu;
static xhal_stream_t *s;
static xhal_buffer_t *big; /* 64 KiB of tensors */
static xhal_buffer_t *idx; /* 4 KiB of int32 index arrays */
static int32_t *idx_host;  /* idx's memory (the CPU device's buffers are host memory) */
static int env_mode;       /* XHAL_VALIDATE=1: the check runs without the flag */

/* Where the index arrays of the base descriptor live in idx, in int32 entries. */
enum { CU_Q = 0, LENS = 16, TABLE = 32, CU_KV = 64 };

static void write_indices(void) {
    static const int32_t cu_q[] = {0, 2, 6}, lens[] = {5, 9}, table[] = {0, 1, -7, 2, 3, 1};
    static const int32_t cu_kv[] = {0, 5, 9};
    XT_OK(xhal_stream_synchronize(s));
    memcpy(idx_host + CU_Q, cu_q, sizeof cu_q);
    memcpy(idx_host + LENS, lens, sizeof lens);
    memcpy(idx_host + TABLE, table, sizeof table);
    memcpy(idx_host + CU_KV, cu_kv, sizeof cu_kv);
}

static int setup(void **state) {
    (void)state;
    const char *validate = getenv("XHAL_VALIDATE");
    env_mode = validate && strcmp(validate, "1") == 0;
    void *p = NULL;
    if (xhal_device_open("cpu", &cpu) != XHAL_OK || xhal_stream_create(cpu, &s) != XHAL_OK ||
        xhal_buffer_alloc(cpu, 1 << 16, XHAL_MEMORY_DEVICE, &big) != XHAL_OK ||
        xhal_buffer_alloc(cpu, 4096, XHAL_MEMORY_DEVICE, &idx) != XHAL_OK ||
        xhal_buffer_host_pointer(idx, &p) != XHAL_OK)
        return -1;
    idx_host = p;
    unsigned char pattern = FILL; /* f32 0x3c3c3c3c: 0.0115, finite */
    if (xhal_fill(s, big, 0, 1 << 16, &pattern, 1) != XHAL_OK ||
        xhal_stream_synchronize(s) != XHAL_OK)
        return -1;
    write_indices();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    xhal_buffer_free(big);
    xhal_buffer_free(idx);
    xhal_stream_destroy(s);
    xhal_shutdown();
    printf("[ INFO     ] %d invalid calls checked\n", xt_invalid_calls_checked);
    return 0;
}

/*
 * A valid serving attention: 2 sequences with 2 and 4 packed queries (6 rows), 2 query heads over
 * 1 KV head, head_dim 8, f32, a paged K/V of 4 blocks of 4 tokens (sequence lengths 5 and 9,
 * rows of 3 table entries), causal, window 6, soft-cap 10 and the LSE. Q, K, V, O and the LSE
 * are 1 KiB apart in `big`; the index arrays in `idx`.
 */
static xhal_attention_desc_t serving_ok(void) {
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, 2, 2, 1, 6, 9, 8, XHAL_DTYPE_F32, XHAL_LAYOUT_BSHD);
    d.q = d.k = d.v = d.o = d.lse = big;
    d.q_offset = 0;
    d.k_offset = 1024;
    d.v_offset = 2048;
    d.o_offset = 3072;
    d.lse_offset = 4096;
    d.k_strides = d.v_strides = (xhal_attention_strides_t){32, 8, 8}; /* [block, token, 1, 8] */
    d.causal = 1;
    d.sliding_window = 6;
    d.softcap = 10.0f;
    d.cu_seqlens_q = d.seqlens_kv = d.block_table = idx;
    d.cu_seqlens_q_offset = CU_Q * 4;
    d.seqlens_kv_offset = LENS * 4;
    d.block_table_offset = TABLE * 4;
    d.block_size = 4;
    d.num_blocks = 4;
    d.max_blocks_per_seq = 3;
    d.block_table_stride = 3;
    return d;
}

/* The same with packed K/V (cu_seqlens_kv, 9 rows) instead of the paged pool. */
static xhal_attention_desc_t packed_ok(void) {
    xhal_attention_desc_t d = serving_ok();
    d.block_table = d.seqlens_kv = NULL;
    d.block_table_offset = d.seqlens_kv_offset = 0;
    d.block_size = d.num_blocks = d.max_blocks_per_seq = d.block_table_stride = 0;
    d.k_strides = d.v_strides = (xhal_attention_strides_t){0, 8, 8};
    d.cu_seqlens_kv = idx;
    d.cu_seqlens_kv_offset = CU_KV * 4;
    return d;
}

#define SERVING_BAD(want, field_stmt, ...)                                                         \
    do {                                                                                           \
        xhal_attention_desc_t d = serving_ok();                                                    \
        field_stmt;                                                                                \
        XT_EXPECT_ERR(want, xhal_attention(s, &d), __VA_ARGS__);                                   \
    } while (0)

static void test_serving_valid(void **state) {
    (void)state;
    xhal_attention_desc_t d = serving_ok();
    XT_OK(xhal_attention_supports(cpu, &d));
    XT_OK(xhal_attention(s, &d));
    d.flags = XHAL_ATTENTION_CHECK_INDICES; /* the table's unused entry (-7) is not checked */
    XT_OK(xhal_attention(s, &d));
    d = packed_ok();
    d.flags = XHAL_ATTENTION_CHECK_INDICES;
    XT_OK(xhal_attention(s, &d));
    XT_OK(xhal_stream_synchronize(s));
}

static void test_serving_fields(void **state) {
    (void)state;
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.flags = 0x100u, "flags", "(0x100)");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.sliding_window = -1, "sliding_window", "(-1)");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.softcap = -1.0f, "softcap", "(-1)");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.softcap = NAN, "softcap");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.softcap = INFINITY, "softcap");
    /* Modes that do not go together. */
    SERVING_BAD(XHAL_INVALID_ARGUMENT, (d.cu_seqlens_kv = idx, d.cu_seqlens_kv_offset = CU_KV * 4),
                "cu_seqlens_kv", "seqlens_kv");
    SERVING_BAD(XHAL_INVALID_ARGUMENT,
                (d.seqlens_kv = NULL, d.seqlens_kv_offset = 0, d.cu_seqlens_kv = idx,
                 d.cu_seqlens_kv_offset = CU_KV * 4),
                "cu_seqlens_kv", "block_table");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, (d.seqlens_kv = NULL, d.seqlens_kv_offset = 0),
                "block_table", "seqlens_kv");
    /* The paged pool. */
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.block_size = 0, "block_size", "(0)");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.block_size = 257, "block_size", "(257)");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.num_blocks = 0, "num_blocks", "(0)");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.max_blocks_per_seq = -1, "max_blocks_per_seq", "(-1)");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.block_table_stride = 0, "block_table_stride", "(0)");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.seq_kv = 13, "seq_kv", "(13)", "max_blocks_per_seq");
    /* Fields of a feature whose buffer is NULL. */
    xhal_attention_desc_t p = packed_ok();
    p.block_size = 16;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention(s, &p), "block_size", "(16)",
                  "block_table");
    p = packed_ok();
    p.num_blocks = 3;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention_supports(cpu, &p), "num_blocks", "(3)");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, (d.lse = NULL, d.lse_offset = 8), "lse_offset", "(8)");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, (d.cu_seqlens_q = NULL, d.cu_seqlens_q_offset = 4),
                "cu_seqlens_q_offset", "(4)", "cu_seqlens_q");
}

static void test_serving_ranges(void **state) {
    (void)state;
    /* Index buffers: aligned to 4, inside their buffer. */
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.seqlens_kv_offset = 66, "seqlens_kv_offset", "(66)");
    SERVING_BAD(XHAL_OUT_OF_RANGE, d.cu_seqlens_q_offset = 4096 - 8, "cu_seqlens_q");
    SERVING_BAD(XHAL_OUT_OF_RANGE, d.block_table_stride = 1000, "block_table");
    SERVING_BAD(XHAL_OUT_OF_RANGE, d.seqlens_kv_offset = 4096 - 4, "seqlens_kv");
    /* The pool and the packed tensors' extents. */
    SERVING_BAD(XHAL_OUT_OF_RANGE, (d.num_blocks = 2000, d.v_offset = 60000), "k");
    SERVING_BAD(XHAL_OUT_OF_RANGE, d.seq_q = 1700, "q");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.lse_offset = 4098, "lse_offset", "(4098)");
    SERVING_BAD(XHAL_OUT_OF_RANGE, d.lse_offset = (1 << 16) - 44, "lse");
    xhal_attention_desc_t p = packed_ok();
    p.seq_kv = 2000;
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_attention(s, &p), "v");
    /* Outputs may overlap nothing. */
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.lse_offset = 0, "lse", "q", "overlap*");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.lse_offset = 3072 + 256, "lse", "o", "overlap*");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, d.o_offset = 1024 + 128, "o", "k", "overlap*");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, (d.lse = idx, d.lse_offset = 0), "lse", "cu_seqlens_q",
                "overlap*");
    SERVING_BAD(XHAL_INVALID_ARGUMENT, (d.lse = idx, d.lse_offset = TABLE * 4 + 8), "lse",
                "block_table", "overlap*");
    /* Byte counts that overflow 64 bits: rejected, never a crash. */
    xhal_attention_desc_t d = serving_ok();
    d.batch = 2;
    d.block_table_stride = INT64_MAX / 2;
    xhal_status_t st = xhal_attention(s, &d);
    xt_invalid_calls_checked++;
    if (st != XHAL_OUT_OF_RANGE && st != XHAL_INVALID_ARGUMENT)
        fail_msg("huge block_table_stride: xhal_attention returned %s: %s", xhal_status_name(st),
                 xhal_last_error());
    XT_OK(xhal_stream_synchronize(s));
}

/* ---- the opt-in check of the index buffers ------------------------------------------------ */

/* Sets index entry `at` of idx to `value` once the stream is idle; returns what was there. */
static int32_t set_entry(int at, int32_t value) {
    XT_OK(xhal_stream_synchronize(s));
    int32_t saved = idx_host[at];
    idx_host[at] = value;
    return saved;
}

/* Runs `d` (with the check's flag when `flag`) on the entries as they are; the op's result. */
static xhal_status_t run_checked(xhal_attention_desc_t d, int flag) {
    if (flag) d.flags = XHAL_ATTENTION_CHECK_INDICES;
    xhal_status_t st = xhal_attention(s, &d);
    xhal_status_t sync = xhal_stream_synchronize(s);
    return st != XHAL_OK ? st : sync;
}

/* With entry `at` set to `value`, the check must refuse the op, its message holding the rest. */
#define CHECKED_BAD(desc, at, value, ...)                                                          \
    do {                                                                                           \
        xhal_attention_desc_t d_ = (desc);                                                         \
        if (!env_mode) d_.flags = XHAL_ATTENTION_CHECK_INDICES;                                    \
        int32_t saved_ = set_entry(at, value);                                                     \
        XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention(s, &d_), __VA_ARGS__);                 \
        set_entry(at, saved_);                                                                     \
    } while (0)

/* With entry `at` garbage that is not checked (no flag) or not used, the op must run. */
#define UNCHECKED_OK(desc, at, value, flag)                                                        \
    do {                                                                                           \
        int32_t saved_ = set_entry(at, value);                                                     \
        XT_OK(run_checked(desc, flag));                                                            \
        set_entry(at, saved_);                                                                     \
    } while (0)

static void test_index_check(void **state) {
    (void)state;
    xhal_attention_desc_t d = serving_ok(), p = packed_ok();
    CHECKED_BAD(d, CU_Q + 0, 1, "sequence", "0", "cu_seqlens_q[0]", "(1)");
    CHECKED_BAD(d, CU_Q + 1, 7, "sequence", "0", "cu_seqlens_q[1]", "(7)", "seq_q", "(6)");
    CHECKED_BAD(d, CU_Q + 2, 1, "sequence", "1", "cu_seqlens_q[2]", "(1)", "cu_seqlens_q[1]",
                "(2)");
    CHECKED_BAD(d, LENS + 1, 10, "sequence", "1", "seqlens_kv[1]", "(10)", "seq_kv", "(9)");
    CHECKED_BAD(d, LENS + 0, -3, "sequence", "0", "seqlens_kv[0]", "(-3)");
    /* Sequence 1 has 9 keys: entries 0, 1 and 2 of its row are used, the last for keys 8..11. */
    CHECKED_BAD(d, TABLE + 5, 4, "sequence", "1", "block_table", "(4)", "num_blocks");
    CHECKED_BAD(d, TABLE + 3, -1, "sequence", "1", "block_table", "(-1)");
    CHECKED_BAD(p, CU_KV + 2, 12, "sequence", "1", "cu_seqlens_kv[2]", "(12)", "seq_kv", "(9)");
    /* Entries no sequence uses are not looked at: sequence 0 has 5 keys, 2 blocks. */
    UNCHECKED_OK(d, TABLE + 2, INT32_MIN, 1);
    /* Without the check, garbage is the kernels' to clamp: the call succeeds. */
    if (!env_mode) {
        UNCHECKED_OK(d, TABLE + 5, INT32_MAX, 0);
        UNCHECKED_OK(d, CU_Q + 2, -100, 0);
        UNCHECKED_OK(d, LENS + 1, 1 << 30, 0);
        UNCHECKED_OK(p, CU_KV + 1, INT32_MIN, 0);
    }
}

/* ---- merge -------------------------------------------------------------------------------- */

/* A valid merge of batch 1, 2 heads, 3 rows, head_dim 8 (f32): outputs 1 KiB apart from 8 KiB,
 * LSEs 128 bytes apart from 12 KiB, in `big`. */
static xhal_attention_merge_desc_t merge_ok(void) {
    xhal_attention_merge_desc_t d;
    xhal_attention_merge_desc_init(&d, 1, 2, 3, 8, XHAL_DTYPE_F32, XHAL_LAYOUT_BSHD);
    d.o_a = d.o_b = d.o = d.lse_a = d.lse_b = d.lse = big;
    d.o_a_offset = 8192;
    d.o_b_offset = 9216;
    d.o_offset = 10240;
    d.lse_a_offset = 12288;
    d.lse_b_offset = 12416;
    d.lse_offset = 12544;
    return d;
}

#define MERGE_BAD(want, field_stmt, ...)                                                           \
    do {                                                                                           \
        xhal_attention_merge_desc_t d = merge_ok();                                                \
        field_stmt;                                                                                \
        XT_EXPECT_ERR(want, xhal_attention_merge(s, &d), __VA_ARGS__);                             \
    } while (0)

static void test_merge(void **state) {
    (void)state;
    xhal_attention_merge_desc_t d = merge_ok();
    XT_OK(xhal_attention_merge_supports(cpu, &d));
    XT_OK(xhal_attention_merge(s, &d));
    d.o_offset = d.o_a_offset; /* in place */
    d.lse_offset = d.lse_a_offset;
    XT_OK(xhal_attention_merge(s, &d));
    d.lse = NULL;
    d.lse_offset = 0;
    XT_OK(xhal_attention_merge(s, &d));
    XT_OK(xhal_stream_synchronize(s));
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention_merge(NULL, &d), "stream");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention_merge(s, NULL), "desc");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention_merge_supports(NULL, &d), "device");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.struct_size = 3, "struct_size", "(3)");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.batch = 0, "batch", "(0)");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.heads = -1, "heads", "(-1)");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.seq = 0, "seq", "(0)");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.head_dim = 0, "head_dim", "(0)");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.dtype = (xhal_dtype_t)5, "dtype", "(5)");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.strides.seq = -2, "strides.seq", "(-2)");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.strides.head = 4, "strides");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.o_a = NULL, "o_a");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.lse_b = NULL, "lse_b");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, (d.lse = NULL, d.lse_offset = 4), "lse_offset", "(4)");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.o_b_offset = 9218, "o_b_offset", "(9218)");
    MERGE_BAD(XHAL_OUT_OF_RANGE, d.o_offset = (1 << 16) - 64, "o");
    MERGE_BAD(XHAL_OUT_OF_RANGE, d.lse_a_offset = (1 << 16) - 20, "lse_a");
    /* In place is o exactly on o_a (lse on lse_a); any other overlap is refused. */
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.o_offset = d.o_b_offset, "o", "o_b", "overlap*");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.o_offset = d.o_a_offset + 4, "o", "o_a", "overlap*");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.lse_offset = d.lse_b_offset, "lse", "lse_b", "overlap*");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.lse_offset = d.o_offset + 8, "lse", "o", "overlap*");
    MERGE_BAD(XHAL_INVALID_ARGUMENT, d.o_offset = d.lse_a_offset, "o", "lse_a", "overlap*");
    XT_OK(xhal_stream_synchronize(s));
}

int main(int argc, char **argv) {
    unsetenv("XHAL_DEVICE");
    unsetenv("XHAL_BACKENDS");
    int env = argc > 1 && strcmp(argv[1], "env") == 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serving_valid),  cmocka_unit_test(test_serving_fields),
        cmocka_unit_test(test_serving_ranges), cmocka_unit_test(test_index_check),
        cmocka_unit_test(test_merge),
    };
    const struct CMUnitTest env_tests[] = {cmocka_unit_test(test_index_check)};
    if (env) {
        if (!getenv("XHAL_VALIDATE")) {
            print_message("\"env\" wants XHAL_VALIDATE=1 in the environment\n");
            return 1;
        }
        return cmocka_run_group_tests_name("validation_serving_env", env_tests, setup, teardown);
    }
    unsetenv("XHAL_VALIDATE");
    return cmocka_run_group_tests(tests, setup, teardown);
}
