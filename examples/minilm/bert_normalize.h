/*
 * BERT's text normalization on code points, as Hugging Face's `tokenizers` does it for
 * all-MiniLM-L6-v2 (BertNormalizer with clean_text, handle_chinese_chars, strip_accents and
 * lowercase): controls dropped and whitespace made a space, CJK ideographs padded with spaces,
 * NFD with the non-spacing marks dropped (accents stripped), lower-cased.
 */
#ifndef MINILM_BERT_NORMALIZE_H
#define MINILM_BERT_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

/* A growable array of code points. */
typedef struct cp_buffer {
    uint32_t *data;
    size_t count, capacity;
} cp_buffer_t;

/** Appends one code point; returns 0, or -1 when out of memory. */
int cp_push(cp_buffer_t *buffer, uint32_t cp);

/** Frees the array; a zeroed buffer is fine. */
void cp_free(cp_buffer_t *buffer);

/** Appends the normalized form of UTF-8 text[0..len) to *out; returns 0, or -1 (no memory). */
int bert_normalize(const char *text, size_t len, cp_buffer_t *out);

/** 1 when the pre-tokenizer splits at cp: a space (the normalizer made every whitespace one). */
int bert_is_space(uint32_t cp);

/** 1 when the pre-tokenizer makes cp a word of its own (punctuation and ASCII symbols). */
int bert_is_punct(uint32_t cp);

#endif /* MINILM_BERT_NORMALIZE_H */
