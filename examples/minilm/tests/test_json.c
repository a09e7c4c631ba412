/*
 * examples/minilm's JSON reader: what it accepts and decodes, what it refuses (with a message),
 * and that no prefix or byte mutation of a document makes it read outside its input (each parse
 * gets an exactly-sized heap copy, so ASan and valgrind see any overread).
 */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Parses a heap copy of exactly strlen(text) bytes (no NUL after it). */
static int parse(const char *text, json_doc_t *doc, char *error, size_t error_size) {
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    int rc = json_parse(copy, len, doc, error, error_size);
    free(copy); /* the doc owns copies of what it needs */
    return rc;
}

static void test_values(void **state) {
    (void)state;
    const char *text = " {\"a\": [1, -2, 3.5e2, true, false, null], \"b\\u00e9\\n\": \"x\\ty\","
                       "\"emoji\": \"\\ud83d\\ude00\", \"nested\": {\"c\": {}}, \"d\": []} ";
    json_doc_t doc;
    char error[160];
    assert_int_equal(parse(text, &doc, error, sizeof error), 0); /* the text is freed already */
    const json_node_t *root = &doc.nodes[0];
    assert_int_equal(root->type, JSON_OBJECT);
    assert_int_equal(root->count, 5);
    const json_node_t *a = json_member(&doc, root, "a");
    assert_non_null(a);
    assert_int_equal(a->count, 6);
    int64_t v = 0;
    assert_int_equal(json_int64(json_element(&doc, a, 0), &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(json_int64(json_element(&doc, a, 1), &v), 0);
    assert_int_equal(v, -2);
    assert_int_equal(json_int64(json_element(&doc, a, 2), &v), -1); /* not an integer */
    assert_int_equal(json_element(&doc, a, 3)->type, JSON_TRUE);
    assert_int_equal(json_element(&doc, a, 4)->type, JSON_FALSE);
    assert_int_equal(json_element(&doc, a, 5)->type, JSON_NULL);
    assert_null(json_element(&doc, a, 6));
    const json_node_t *b = json_member(&doc, root, "b\xc3\xa9\n");
    assert_non_null(b);
    assert_string_equal(b->text, "x\ty");
    assert_string_equal(json_member(&doc, root, "emoji")->text, "\xf0\x9f\x98\x80");
    const json_node_t *nested = json_member(&doc, root, "nested");
    assert_int_equal(json_member(&doc, nested, "c")->count, 0);
    assert_null(json_first(&doc, json_member(&doc, root, "d")));
    assert_null(json_member(&doc, root, "missing"));
    assert_null(json_member(&doc, a, "a")); /* not an object */
    json_free(&doc);
    json_free(&doc); /* twice is fine */
}

static void test_int64_limits(void **state) {
    (void)state;
    struct {
        const char *text;
        int ok;
        int64_t value;
    } cases[] = {
        {"9223372036854775807", 1, INT64_MAX},
        {"-9223372036854775808", 1, INT64_MIN},
        {"9223372036854775808", 0, 0},
        {"-9223372036854775809", 0, 0},
        {"0", 1, 0},
        {"-0", 1, 0},
        {"1e3", 0, 0},
        {"1.0", 0, 0},
        {"99999999999999999999999", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_doc_t doc;
        char error[160];
        assert_int_equal(parse(cases[i].text, &doc, error, sizeof error), 0);
        int64_t v = 42;
        int rc = json_int64(&doc.nodes[0], &v);
        assert_int_equal(rc, cases[i].ok ? 0 : -1);
        if (cases[i].ok) assert_true(v == cases[i].value);
        json_free(&doc);
    }
}

static void test_refused(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "}",
        "[",
        "]",
        "[1,]",
        "[,1]",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\" 1}",
        "{a:1}",
        "{\"a\":1,}",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u12g4\"",
        "\"\\ud800\"",
        "\"\\ud800\\u0041\"",
        "\"\\udc00\"",
        "\"a\x01b\"",
        "01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "1e+",
        "tru",
        "nul",
        "falsey",
        "[1] 2",
        "{\"a\":1}}",
        "\"\\",
        "[\"a\" \"b\"]",
        "NaN",
        "Infinity",
        "'single'",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_doc_t doc;
        char error[160] = "";
        if (parse(bad[i], &doc, error, sizeof error) == 0) {
            fprintf(stderr, "accepted: %s\n", bad[i]);
            fail();
        }
        assert_non_null(strstr(error, "JSON error at byte"));
        assert_null(doc.nodes);
    }
}

static void test_depth_limit(void **state) {
    (void)state;
    char text[2 * (JSON_MAX_DEPTH + 2) + 1];
    json_doc_t doc;
    char error[160];
    for (int depth = JSON_MAX_DEPTH; depth <= JSON_MAX_DEPTH + 1; depth++) {
        int n = 0;
        for (int i = 0; i <= depth; i++)
            text[n++] = '[';
        for (int i = 0; i <= depth; i++)
            text[n++] = ']';
        text[n] = '\0';
        int rc = parse(text, &doc, error, sizeof error);
        assert_int_equal(rc, depth == JSON_MAX_DEPTH ? 0 : -1);
        if (rc == 0)
            json_free(&doc);
        else
            assert_non_null(strstr(error, "nested deeper"));
    }
}

/* Every prefix and many random byte mutations of a document: parsed or refused, never a crash. */
static void test_mutations(void **state) {
    (void)state;
    const char *text =
        "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":"
        "[2,3],\"data_offsets\":[0,24]},\"s\\u00e9\\ud83d\\ude00\":[true,null,-1.5e-3]}";
    size_t len = strlen(text);
    xt_rng_t rng;
    xt_rng_seed(&rng, 13);
    char *copy = malloc(len);
    assert_non_null(copy);
    int accepted = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        char *prefix = malloc(cut ? cut : 1);
        assert_non_null(prefix);
        memcpy(prefix, text, cut);
        json_doc_t doc;
        char error[160];
        if (json_parse(prefix, cut, &doc, error, sizeof error) == 0) {
            accepted++;
            json_free(&doc);
        }
        free(prefix);
    }
    assert_int_equal(accepted, 1); /* only the whole document */
    static const char specials[] = "{}[]\",:\\u0123456789-+.eEtfn \x01\xff";
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, text, len);
        int edits = (int)xt_rng_range(&rng, 1, 4);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)xt_rng_range(&rng, 0, (int64_t)len - 1);
            copy[at] = specials[xt_rng_range(&rng, 0, (int64_t)sizeof specials - 2)];
        }
        json_doc_t doc;
        char error[160];
        if (json_parse(copy, len, &doc, error, sizeof error) == 0) {
            for (int32_t i = 0; i < doc.count; i++) { /* walk it all */
                int64_t v;
                (void)json_int64(&doc.nodes[i], &v);
                (void)json_first(&doc, &doc.nodes[i]);
            }
            json_free(&doc);
        }
    }
    free(copy);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),    cmocka_unit_test(test_int64_limits),
        cmocka_unit_test(test_refused),   cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
