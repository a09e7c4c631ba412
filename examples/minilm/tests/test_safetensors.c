/*
 * examples/minilm's safetensors reader: a valid file is read as written; every kind of corrupt
 * header (sizes, dtypes, shapes, offsets, overlaps, names) is refused with a message naming the
 * problem; every truncation and many random mutations of a valid file are refused or read
 * without touching a byte outside the file (exactly-sized heap copies: ASan/valgrind see it).
 */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"

/* A file of `header` followed by `data_size` bytes 0, 1, 2, ... in an exactly-sized buffer. */
static unsigned char *make_file(const char *header, size_t data_size, size_t *out_size) {
    size_t n = strlen(header);
    *out_size = 8 + n + data_size;
    unsigned char *file = malloc(*out_size);
    assert_non_null(file);
    for (int i = 0; i < 8; i++)
        file[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(file + 8, header, n);
    for (size_t i = 0; i < data_size; i++)
        file[8 + n + i] = (unsigned char)i;
    return file;
}

static const char valid_header[] =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
    "\"c\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[32,40]},"
    "\"empty\":{\"dtype\":\"F16\",\"shape\":[0,5],\"data_offsets\":[40,40]}}";

static void test_valid(void **state) {
    (void)state;
    size_t size;
    unsigned char *bytes = make_file(valid_header, 40, &size);
    st_file_t f = {0};
    char error[256];
    assert_int_equal(st_parse(bytes, size, &f, error, sizeof error), 0);
    assert_int_equal(f.count, 4);
    const st_tensor_t *a = st_find(&f, "a");
    assert_non_null(a);
    assert_int_equal(a->dtype, ST_F32);
    assert_int_equal(a->rank, 2);
    assert_int_equal(a->shape[0], 2);
    assert_int_equal(a->shape[1], 3);
    assert_int_equal(a->elements, 6);
    assert_int_equal(a->bytes, 24);
    assert_ptr_equal(a->data, bytes + 8 + strlen(valid_header));
    const st_tensor_t *c = st_find(&f, "c");
    assert_int_equal(c->rank, 0);
    assert_int_equal(c->elements, 1);
    assert_int_equal(((const unsigned char *)c->data)[0], 32);
    assert_int_equal(st_find(&f, "empty")->elements, 0);
    assert_null(st_find(&f, "__metadata__"));
    assert_null(st_find(&f, "d"));
    assert_string_equal(st_dtype_name(ST_BF16), "BF16");
    assert_int_equal(st_dtype_size(ST_BF16), 2);
    st_close(&f);
    st_close(&f);
    free(bytes);
}

static void expect_refused(const char *header, size_t data_size, const char *needle) {
    size_t size;
    unsigned char *bytes = make_file(header, data_size, &size);
    st_file_t f = {0};
    char error[256] = "";
    int rc = st_parse(bytes, size, &f, error, sizeof error);
    if (rc == 0 || !strstr(error, needle)) {
        fprintf(stderr, "header %s\n  rc %d, error '%s', expected '%s'\n", header, rc, error,
                needle);
        fail();
    }
    st_close(&f);
    free(bytes);
}

static void test_refused(void **state) {
    (void)state;
#define T(fields) "{\"t\":{" fields "}}"
    expect_refused("[1,2]", 0, "not a JSON object");
    expect_refused("{\"t\":", 0, "JSON error");
    expect_refused("{\"t\":5}", 0, "not an object");
    expect_refused(T("\"shape\":[1],\"data_offsets\":[0,4]"), 4, "no \"dtype\"");
    expect_refused(T("\"dtype\":\"F8\",\"shape\":[1],\"data_offsets\":[0,1]"), 4, "unknown dtype");
    expect_refused(T("\"dtype\":\"F32\",\"data_offsets\":[0,4]"), 4, "no \"shape\"");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]"), 4, "not a size");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]"), 4, "not a size");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]"), 4,
                   "rank 9");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                     "\"data_offsets\":[0,4]"),
                   4, "overflows");
    expect_refused(T("\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]"), 8,
                   "are not the");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[1]"), 4, "data_offsets");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]"), 4, "data_offsets");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]"), 8,
                   "data_offsets");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]"), 4, "lie outside");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]"), 8, "lie outside");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]"), 8, "lie outside");
    expect_refused(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]"), 8, "are not the");
    expect_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                   12, "overlap");
    expect_refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                   "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                   2, "named twice");
    expect_refused("{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                   "NUL");
#undef T
    /* Header lengths that do not fit the file. */
    unsigned char small[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    st_file_t f = {0};
    char error[256];
    assert_int_equal(st_parse(small, sizeof small, &f, error, sizeof error), -1);
    assert_non_null(strstr(error, "header length"));
    assert_int_equal(st_parse(small, 7, &f, error, sizeof error), -1);
    assert_non_null(strstr(error, "shorter than"));
    st_close(&f);
}

static void test_truncations_and_mutations(void **state) {
    (void)state;
    size_t size;
    unsigned char *valid = make_file(valid_header, 40, &size);
    for (size_t cut = 0; cut < size; cut++) {
        unsigned char *prefix = malloc(cut ? cut : 1);
        assert_non_null(prefix);
        memcpy(prefix, valid, cut);
        st_file_t f = {0};
        char error[256];
        assert_int_equal(st_parse(prefix, cut, &f, error, sizeof error), -1);
        st_close(&f);
        free(prefix);
    }
    xt_rng_t rng;
    xt_rng_seed(&rng, 1313);
    static const char specials[] = "{}[]\",:0123456789-e\x00\xff";
    unsigned char *copy = malloc(size ? size : 1);
    assert_non_null(copy);
    int accepted = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, valid, size);
        int edits = (int)xt_rng_range(&rng, 1, 3);
        for (int e = 0; e < edits; e++) {
            /* Mostly the header and its length, sometimes the data. */
            size_t at = (size_t)xt_rng_range(&rng, 0, (int64_t)size - 1);
            copy[at] = (unsigned char)specials[xt_rng_range(&rng, 0, sizeof specials - 2)];
        }
        st_file_t f = {0};
        char error[256];
        if (st_parse(copy, size, &f, error, sizeof error) == 0) {
            accepted++;
            for (size_t i = 0; i < f.count; i++) { /* every byte a tensor claims is readable */
                const unsigned char *p = f.tensors[i].data;
                unsigned sum = 0;
                for (uint64_t b = 0; b < f.tensors[i].bytes; b++)
                    sum += p[b];
                assert_true((const unsigned char *)f.tensors[i].data >= copy);
                assert_true(p + f.tensors[i].bytes <= copy + size);
                (void)sum;
            }
        }
        st_close(&f);
    }
    assert_true(accepted > 0); /* mutations of the data bytes leave a valid file */
    free(copy);
    free(valid);
}

static void test_open(void **state) {
    (void)state;
    st_file_t f;
    char error[512];
    assert_int_equal(st_open("/nonexistent/model.safetensors", &f, error, sizeof error), -1);
    assert_non_null(strstr(error, "No such file"));
    st_close(&f);
    assert_int_equal(st_open("/", &f, error, sizeof error), -1);
    assert_non_null(strstr(error, "not a regular file"));
    st_close(&f);
    char path[] = "/tmp/minilm-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "1234", 4), 4);
    assert_int_equal(st_open(path, &f, error, sizeof error), -1);
    assert_non_null(strstr(error, "too short"));
    st_close(&f);
    size_t size;
    unsigned char *valid = make_file(valid_header, 40, &size);
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, valid, size, 0), (ssize_t)size);
    assert_int_equal(st_open(path, &f, error, sizeof error), 0);
    assert_int_equal(f.count, 4);
    st_close(&f);
    close(fd);
    unlink(path);
    free(valid);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_truncations_and_mutations),
        cmocka_unit_test(test_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
