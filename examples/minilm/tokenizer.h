/*
 * BERT's WordPiece tokenizer from a vocab.txt (one token a line, the line number is its id),
 * giving the ids Hugging Face's `tokenizers` gives with all-MiniLM-L6-v2's tokenizer.json:
 * the special tokens ([CLS], [SEP], [UNK], [PAD], [MASK]) are recognised verbatim in the raw
 * text; the rest is normalized (bert_normalize.h), split at spaces and punctuation, and each word
 * split greedily into the longest pieces of the vocabulary ("##" marks a piece inside a word); a
 * word with a piece that is not there, or longer than 100 characters, is one [UNK]. The ids are
 * framed by [CLS] ... [SEP] and cut to the model's maximum length.
 */
#ifndef MINILM_TOKENIZER_H
#define MINILM_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#define BERT_MAX_WORD_CHARS 100

typedef struct bert_tokenizer {
    char **tokens; /* tokens[id], NUL-terminated */
    int32_t count;
    int32_t *slots; /* open-addressing hash table of ids, -1 when empty */
    size_t slot_mask;
    int32_t unk, cls, sep;
    int32_t specials[5]; /* the ids of [PAD] [UNK] [CLS] [SEP] [MASK], -1 if not in the vocab */
} bert_tokenizer_t;

/**
 * Reads a vocab.txt. Returns 0, or -1 with a sentence in `error` (the file cannot be read, is
 * empty, has an empty or duplicate token, or lacks [UNK], [CLS] or [SEP]). The caller frees
 * *out with bert_tokenizer_free either way.
 */
int bert_tokenizer_load(const char *vocab_path, bert_tokenizer_t *out, char *error,
                        size_t error_size);

/** Builds the tokenizer from `count` tokens in memory (what load does after reading). */
int bert_tokenizer_init(const char *const *tokens, int32_t count, bert_tokenizer_t *out,
                        char *error, size_t error_size);

void bert_tokenizer_free(bert_tokenizer_t *tok);

/** Returns the id of `token` (len bytes), or -1. */
int32_t bert_token_id(const bert_tokenizer_t *tok, const char *token, size_t len);

/**
 * Tokenizes UTF-8 text[0..len) into out_ids ([CLS] ... [SEP], at most max_tokens >= 2 ids).
 * Returns the number of ids, or -1 when out of memory.
 */
int bert_encode(const bert_tokenizer_t *tok, const char *text, size_t len, int32_t *out_ids,
                int max_tokens);

#endif /* MINILM_TOKENIZER_H */
