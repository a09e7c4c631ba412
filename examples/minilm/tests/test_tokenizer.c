/*
 * examples/minilm's tokenizer on a small vocabulary, rule by rule: WordPiece's longest match and
 * [UNK], the 100-character limit, punctuation and CJK splitting, lower-casing and accent
 * stripping, control and whitespace cleaning, the special tokens spelled in the text,
 * truncation, bad UTF-8, and the vocabulary file's errors. (The test against Hugging Face's
 * `tokenizers` on the real vocabulary is tests/check_tokens.py.)
 */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bert_normalize.h"
#include "tokenizer.h"
#include "utf8.h"

/* clang-format off */
static const char *const vocab[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",                        /* 0..4 */
    "un", "##aff", "##able", "aff", "able",                              /* 5..9 */
    ",", ".", "!", "a", "##a",                                           /* 10..14 */
    "hello", "world", "cafe", "\xe4\xb8\xad", "\xe6\x96\x87",            /* 15..19: 中 文 */
    "##b", "[", "]", "sep", "i",                                         /* 20..24 */
    "\xcf\x83", "##s", "x", "$", "\xe1\x84\x80",                         /* 25..29: σ, U+1100 */
    "##\xe1\x85\xa1", "##\xe1\x86\xa8",                                  /* 30..31: U+1161 U+11A8 */
    "\xf0\x9f\x98\x80", "-",                                            /* 32..33: U+1F600 */
    "\xf0\x9d\x85\xa5\xf0\x9d\x85\xad",                                /* 34: U+1D165 U+1D16D */
};
/* clang-format on */
enum { UNK = 1, CLS = 2, SEP = 3, MASK = 4 };

static bert_tokenizer_t tok;

static int setup(void **state) {
    (void)state;
    char error[256];
    int rc = bert_tokenizer_init(vocab, (int32_t)(sizeof vocab / sizeof vocab[0]), &tok, error,
                                 sizeof error);
    if (rc) fprintf(stderr, "%s\n", error);
    return rc;
}

static int teardown(void **state) {
    (void)state;
    bert_tokenizer_free(&tok);
    return 0;
}

/* Tokenizes `text` (len bytes) and compares with the expected ids between [CLS] and [SEP]. */
static void expect_len(const char *text, size_t len, const int32_t *want, int count, int max) {
    int32_t ids[512];
    int n = bert_encode(&tok, text, len, ids, max);
    int ok = n == count + 2 && ids[0] == CLS && ids[n - 1] == SEP;
    for (int i = 0; ok && i < count; i++)
        ok = ids[i + 1] == want[i];
    if (!ok) {
        fprintf(stderr, "text '%.*s': got", (int)len, text);
        for (int i = 0; i < n; i++)
            fprintf(stderr, " %d", (int)ids[i]);
        fprintf(stderr, ", want [CLS]");
        for (int i = 0; i < count; i++)
            fprintf(stderr, " %d", (int)want[i]);
        fprintf(stderr, " [SEP]\n");
        fail();
    }
}

#define EXPECT(text, ...)                                                                          \
    do {                                                                                           \
        const int32_t want_[] = {__VA_ARGS__};                                                     \
        expect_len((text), strlen(text), want_, (int)(sizeof want_ / sizeof want_[0]), 256);       \
    } while (0)
#define EXPECT_NONE(text) expect_len((text), strlen(text), NULL, 0, 256)

static void test_word_piece(void **state) {
    (void)state;
    EXPECT("unaffable", 5, 6, 7);
    EXPECT("affable", 8, 7);
    EXPECT("able aff", 9, 8);
    EXPECT("unaffablex", UNK); /* one piece missing: the whole word */
    EXPECT("ab", 13, 20);
    EXPECT("aaa", 13, 14, 14);
    EXPECT("zzz hello", UNK, 15);
    EXPECT_NONE("");
    EXPECT_NONE("   \t\n ");
}

static void test_word_length_limit(void **state) {
    (void)state;
    char word[160];
    int32_t want[100];
    memset(word, 'a', 100);
    word[100] = '\0';
    want[0] = 13;
    for (int i = 1; i < 100; i++)
        want[i] = 14;
    expect_len(word, 100, want, 100, 256); /* a ##a x 99 */
    memset(word, 'a', 101);
    word[101] = '\0';
    EXPECT(word, UNK);
    /* Counted in characters after normalization: 100 'á' (200 bytes, NFC) are 100 'a'. */
    char accents[400];
    for (int i = 0; i < 100; i++)
        memcpy(accents + 2 * i, "\xc3\xa1", 2);
    expect_len(accents, 200, want, 100, 256);
}

static void test_punctuation_and_cjk(void **state) {
    (void)state;
    EXPECT("hello, world!", 15, 10, 16, 12);
    EXPECT("hello,world.", 15, 10, 16, 11);
    EXPECT("a-a", 13, 33, 13);
    EXPECT("$a", 28, 13); /* ASCII symbols are punctuation to BERT */
    EXPECT("中文", 18, 19);
    EXPECT("a中a", 13, 18, 13);
    EXPECT("😀😀", UNK); /* emoji are not split: one word, not in the vocabulary as a pair */
    EXPECT("😀", 32);
}

static void test_normalization(void **state) {
    (void)state;
    EXPECT("HELLO World", 15, 16);
    EXPECT("Café", 17);         /* NFC é */
    EXPECT("Cafe\xcc\x81", 17); /* decomposed: e + U+0301 */
    EXPECT("CAF\xc3\x89", 17);  /* É */
    EXPECT("\xce\xa3", 25);     /* Σ -> σ (one character alone: never final) */
    EXPECT("\xc4\xb0", 24);     /* İ -> I + dot (stripped) -> i */
    expect_len("hel\0lo", 6, (const int32_t[]){15}, 1, 256); /* NUL dropped inside a word */
    EXPECT("hel\x7flo", 15);                                 /* DEL */
    EXPECT("hel\xe2\x80\x8blo", 15);      /* zero-width space: format character, dropped */
    EXPECT("hel\xef\xbf\xbdlo", 15);      /* U+FFFD */
    EXPECT("hel\xfflo", 15);              /* a bad byte decodes to U+FFFD */
    EXPECT("hel\xe4\xb8lo", 15);          /* a truncated sequence too */
    EXPECT("hello\xc2\xa0world", 15, 16); /* no-break space splits */
    EXPECT("hello\xe3\x80\x80world\tworld", 15, 16, 16);
    EXPECT("\xea\xb0\x81", 29, 30, 31); /* Hangul 각: decomposed into its three jamo */
    /* Marks that survive the stripping are put in canonical order (combining classes 226 and
     * 216 swap), also across a stripped accent (U+0316, class 220). */
    EXPECT("\xf0\x9d\x85\xad\xf0\x9d\x85\xa5", 34);
    EXPECT("\xf0\x9d\x85\xad\xcc\x96\xf0\x9d\x85\xa5", 34);
    EXPECT("\xf0\x9d\x85\xa5\xf0\x9d\x85\xad", 34);
}

static void test_special_tokens(void **state) {
    (void)state;
    EXPECT("[SEP]", SEP);
    EXPECT("hello[MASK]world", 15, MASK, 16);
    EXPECT("[CLS][UNK]", CLS, UNK);
    EXPECT("[sep]", 21, 23, 22); /* matched case-sensitively, before normalization */
    EXPECT("[SEP", 21, 23);      /* not a special token: "[" and "sep" */
    EXPECT("[[SEP]]", 21, SEP, 22);
}

static void test_truncation(void **state) {
    (void)state;
    const int32_t want[6] = {15, 16, 15, 16, 15, 16};
    expect_len("hello world hello world hello world hello", 41, want, 6, 8);
    expect_len("hello world hello world hello world", 35, want, 6, 8);
    expect_len("hello world", 11, want, 2, 8);
    int32_t ids[2];
    assert_int_equal(bert_encode(&tok, "hello", 5, ids, 2), 2); /* room for [CLS] [SEP] only */
    assert_int_equal(ids[0], CLS);
    assert_int_equal(ids[1], SEP);
    assert_int_equal(bert_encode(&tok, "hello", 5, ids, 1), -1);
}

static void test_utf8(void **state) {
    (void)state;
    struct {
        const char *bytes;
        size_t len, used;
        uint32_t cp;
    } cases[] = {
        {"A", 1, 1, 'A'},
        {"\xc3\xa9", 2, 2, 0xE9},
        {"\xe4\xb8\xad", 3, 3, 0x4E2D},
        {"\xf0\x9f\x98\x80", 4, 4, 0x1F600},
        {"\xc0\x80", 2, 1, 0xFFFD},         /* overlong */
        {"\xe0\x80\x80", 3, 1, 0xFFFD},     /* overlong */
        {"\xed\xa0\x80", 3, 1, 0xFFFD},     /* surrogate */
        {"\xf4\x90\x80\x80", 4, 1, 0xFFFD}, /* above U+10FFFF */
        {"\xf0\x9f\x98", 3, 1, 0xFFFD},     /* truncated */
        {"\x80", 1, 1, 0xFFFD},             /* a continuation byte first */
        {"\xc3\x28", 2, 1, 0xFFFD},         /* a bad continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t cp;
        size_t used = utf8_decode((const unsigned char *)cases[i].bytes, cases[i].len, &cp);
        assert_int_equal(used, cases[i].used);
        assert_int_equal(cp, cases[i].cp);
        if (cases[i].cp != 0xFFFD) {
            char out[4];
            assert_int_equal(utf8_encode(cp, out), cases[i].len);
            assert_memory_equal(out, cases[i].bytes, cases[i].len);
        }
    }
    assert_true(bert_is_punct('!') && bert_is_punct('$') && bert_is_punct(0x3002));
    assert_false(bert_is_punct('a') || bert_is_punct(0x4E2D) || bert_is_punct(0x1F600));
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_vocab_file(void **state) {
    (void)state;
    char dir[] = "/tmp/minilm-vocab-XXXXXX", path[64], error[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    bert_tokenizer_t t;
    write_file(path, "[PAD]\r\n[UNK]\n[CLS]\n[SEP]\nhello\nworld"); /* CRLF, no final newline */
    assert_int_equal(bert_tokenizer_load(path, &t, error, sizeof error), 0);
    assert_int_equal(t.count, 6);
    assert_int_equal(bert_token_id(&t, "world", 5), 5);
    assert_int_equal(bert_token_id(&t, "[PAD]", 5), 0);
    bert_tokenizer_free(&t);
    const struct {
        const char *text, *needle;
    } bad[] = {
        {"", "empty"},
        {"[UNK]\n[CLS]\nhello\n", "no [SEP]"},
        {"[UNK]\n[CLS]\n[SEP]\nhello\nhello\n", "repeats token 3"},
        {"[UNK]\n[CLS]\n\n[SEP]\n", "token 2 is empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i].text);
        assert_int_equal(bert_tokenizer_load(path, &t, error, sizeof error), -1);
        if (!strstr(error, bad[i].needle)) {
            fprintf(stderr, "error '%s' lacks '%s'\n", error, bad[i].needle);
            fail();
        }
        bert_tokenizer_free(&t);
    }
    unlink(path);
    rmdir(dir);
    assert_int_equal(bert_tokenizer_load(path, &t, error, sizeof error), -1);
    assert_non_null(strstr(error, "No such file"));
    bert_tokenizer_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_piece),
        cmocka_unit_test(test_word_length_limit),
        cmocka_unit_test(test_punctuation_and_cjk),
        cmocka_unit_test(test_normalization),
        cmocka_unit_test(test_special_tokens),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_vocab_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
