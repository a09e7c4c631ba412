/* BERT's WordPiece tokenizer (see tokenizer.h). */
#include "tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "bert_normalize.h"
#include "utf8.h"

static const char *const special_names[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

#define say minilm_say

static uint64_t hash_bytes(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

int32_t bert_token_id(const bert_tokenizer_t *tok, const char *token, size_t len) {
    if (!tok->slots) return -1;
    for (size_t i = hash_bytes(token, len) & tok->slot_mask;; i = (i + 1) & tok->slot_mask) {
        int32_t id = tok->slots[i];
        if (id < 0) return -1;
        const char *t = tok->tokens[id];
        if (strncmp(t, token, len) == 0 && t[len] == '\0') return id;
    }
}

int bert_tokenizer_init(const char *const *tokens, int32_t count, bert_tokenizer_t *out,
                        char *error, size_t error_size) {
    *out = (bert_tokenizer_t){.unk = -1, .cls = -1, .sep = -1};
    if (count <= 0) return say(error, error_size, "the vocabulary is empty");
    size_t slots = 16;
    while (slots < 2 * (size_t)count)
        slots *= 2;
    out->tokens = calloc((size_t)count, sizeof *out->tokens);
    out->slots = malloc(slots * sizeof *out->slots);
    if (!out->tokens || !out->slots) return say(error, error_size, "out of memory");
    memset(out->slots, 0xFF, slots * sizeof *out->slots); /* -1 everywhere */
    out->slot_mask = slots - 1;
    for (int32_t id = 0; id < count; id++) {
        size_t len = strlen(tokens[id]);
        if (len == 0) return say(error, error_size, "token %d is empty", (int)id);
        int32_t before = bert_token_id(out, tokens[id], len);
        if (before >= 0)
            return say(error, error_size, "token %d ('%s') repeats token %d", (int)id, tokens[id],
                       (int)before);
        out->tokens[id] = strdup(tokens[id]);
        if (!out->tokens[id]) return say(error, error_size, "out of memory");
        out->count = id + 1;
        size_t i = hash_bytes(tokens[id], len) & out->slot_mask;
        while (out->slots[i] >= 0)
            i = (i + 1) & out->slot_mask;
        out->slots[i] = id;
    }
    for (int i = 0; i < 5; i++)
        out->specials[i] = bert_token_id(out, special_names[i], strlen(special_names[i]));
    out->unk = out->specials[1];
    out->cls = out->specials[2];
    out->sep = out->specials[3];
    for (int i = 1; i <= 3; i++)
        if (out->specials[i] < 0)
            return say(error, error_size, "the vocabulary has no %s token", special_names[i]);
    return 0;
}

int bert_tokenizer_load(const char *vocab_path, bert_tokenizer_t *out, char *error,
                        size_t error_size) {
    *out = (bert_tokenizer_t){.unk = -1, .cls = -1, .sep = -1};
    FILE *f = fopen(vocab_path, "rb");
    if (!f) return say(error, error_size, "%s: %s", vocab_path, strerror(errno));
    char *text = NULL;
    size_t size = 0, capacity = 0;
    for (;;) {
        if (capacity - size < 65536) {
            char *grown = realloc(text, capacity + (1u << 20));
            if (!grown) break;
            text = grown;
            capacity += 1u << 20;
        }
        size_t n = fread(text + size, 1, capacity - size - 1, f);
        size += n;
        if (n == 0) break;
    }
    int failed = ferror(f) || !text;
    fclose(f);
    if (failed) {
        free(text);
        return say(error, error_size, "%s: cannot read it", vocab_path);
    }
    text[size] = '\0';
    /* One token a line: split in place, dropping the line ends ("\n" or "\r\n"). */
    int32_t count = 0;
    for (size_t i = 0; i < size; i++)
        if (text[i] == '\n') count++;
    if (size > 0 && text[size - 1] != '\n') count++;
    const char **tokens = malloc(((size_t)count + 1) * sizeof *tokens);
    if (!tokens) {
        free(text);
        return say(error, error_size, "out of memory");
    }
    int32_t n = 0;
    for (char *line = text; line < text + size && n < count;) {
        char *end = memchr(line, '\n', (size_t)(text + size - line));
        char *next = end ? end + 1 : text + size;
        if (!end) end = text + size;
        if (end > line && end[-1] == '\r') end--;
        *end = '\0';
        if (strlen(line) != (size_t)(end - line)) {
            free(tokens);
            free(text);
            return say(error, error_size, "%s: line %d holds a NUL byte", vocab_path, (int)n + 1);
        }
        tokens[n++] = line;
        line = next;
    }
    char inner[256];
    int rc = bert_tokenizer_init(tokens, n, out, inner, sizeof inner);
    free(tokens);
    free(text);
    return rc ? say(error, error_size, "%s: %s", vocab_path, inner) : 0;
}

void bert_tokenizer_free(bert_tokenizer_t *tok) {
    if (!tok) return;
    if (tok->tokens)
        for (int32_t i = 0; i < tok->count; i++)
            free(tok->tokens[i]);
    free(tok->tokens);
    free(tok->slots);
    *tok = (bert_tokenizer_t){.unk = -1, .cls = -1, .sep = -1};
}

typedef struct ids {
    int32_t *data;
    int count, limit; /* limit: the word pieces wanted ([CLS] and [SEP] are added after) */
} ids_t;

static int full(const ids_t *ids) {
    return ids->count >= ids->limit;
}

static void emit(ids_t *ids, int32_t id) {
    if (!full(ids)) ids->data[ids->count++] = id;
}

/*
 * WordPiece on one word (normalized code points): the longest vocabulary piece from the start,
 * then the longest "##" piece from where it ended, and so on; [UNK] for the whole word when a
 * position has no piece. The word's UTF-8 (with "##" room in front) is built once.
 */
static void word_piece(const bert_tokenizer_t *tok, const uint32_t *word, size_t n, ids_t *ids) {
    if (n > BERT_MAX_WORD_CHARS) {
        emit(ids, tok->unk);
        return;
    }
    char utf8[2 + 4 * BERT_MAX_WORD_CHARS];
    size_t offset[BERT_MAX_WORD_CHARS + 1];
    size_t bytes = 2; /* room for "##" before the first character */
    for (size_t i = 0; i < n; i++) {
        offset[i] = bytes;
        bytes += utf8_encode(word[i], utf8 + bytes);
    }
    offset[n] = bytes;
    int32_t pieces[BERT_MAX_WORD_CHARS];
    size_t count = 0;
    for (size_t start = 0; start < n;) {
        int32_t id = -1;
        size_t end = n;
        for (; end > start; end--) {
            if (start == 0) {
                id = bert_token_id(tok, utf8 + offset[0], offset[end] - offset[0]);
            } else { /* "##" + the piece, in the two bytes before it (restored after) */
                size_t from = offset[start] - 2;
                char saved[2];
                memcpy(saved, utf8 + from, 2);
                memcpy(utf8 + from, "##", 2);
                id = bert_token_id(tok, utf8 + from, offset[end] - from);
                memcpy(utf8 + from, saved, 2);
            }
            if (id >= 0) break;
        }
        if (id < 0) {
            emit(ids, tok->unk);
            return;
        }
        pieces[count++] = id;
        start = end;
    }
    for (size_t i = 0; i < count; i++)
        emit(ids, pieces[i]);
}

/* Splits normalized text at spaces and around punctuation, and word-pieces each word. */
static void pre_tokenize(const bert_tokenizer_t *tok, const uint32_t *cps, size_t n, ids_t *ids) {
    size_t word = 0;
    for (size_t i = 0; i <= n && !full(ids); i++) {
        int boundary = i == n || bert_is_space(cps[i]) || bert_is_punct(cps[i]);
        if (!boundary) continue;
        if (i > word) word_piece(tok, cps + word, i - word, ids);
        if (i < n && bert_is_punct(cps[i]) && !full(ids)) word_piece(tok, cps + i, 1, ids);
        word = i + 1;
    }
}

/* The special token spelled at text[0..len), longest first, or -1; its length in *out_len. */
static int special_at(const bert_tokenizer_t *tok, const char *text, size_t len, size_t *out_len) {
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < 5; i++) {
        size_t n = strlen(special_names[i]);
        if (tok->specials[i] >= 0 && n <= len && n > best_len &&
            memcmp(text, special_names[i], n) == 0) {
            best = i;
            best_len = n;
        }
    }
    *out_len = best_len;
    return best;
}

int bert_encode(const bert_tokenizer_t *tok, const char *text, size_t len, int32_t *out_ids,
                int max_tokens) {
    if (max_tokens < 2) return -1;
    ids_t ids = {.data = out_ids + 1, .count = 0, .limit = max_tokens - 2};
    cp_buffer_t cps = {0};
    size_t segment = 0;
    /* The special tokens are found in the raw text first; the text between them is normalized. */
    for (size_t i = 0; i <= len && !full(&ids); i++) {
        size_t special_len = 0;
        int special =
            i < len && text[i] == '[' ? special_at(tok, text + i, len - i, &special_len) : -1;
        if (special < 0 && i < len) continue;
        cps.count = 0;
        if (bert_normalize(text + segment, i - segment, &cps)) {
            cp_free(&cps);
            return -1;
        }
        pre_tokenize(tok, cps.data, cps.count, &ids);
        if (special >= 0) {
            emit(&ids, tok->specials[special]);
            i += special_len - 1;
        }
        segment = i + 1;
    }
    cp_free(&cps);
    out_ids[0] = tok->cls;
    out_ids[ids.count + 1] = tok->sep;
    return ids.count + 2;
}
