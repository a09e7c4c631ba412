/* UTF-8 encoding and decoding, shared by the JSON reader and the tokenizer. */
#ifndef MINILM_UTF8_H
#define MINILM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/**
 * Decodes one UTF-8 character of s[0..len) (len > 0) into *out_cp and returns its byte count.
 * Invalid bytes (a bad lead or continuation, an overlong form, a surrogate, a value above
 * U+10FFFF, a truncated sequence) come out as U+FFFD one byte at a time.
 */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *out_cp);

/** Writes cp as UTF-8 into out (4 bytes of room) and returns the byte count. */
size_t utf8_encode(uint32_t cp, char *out);

#endif /* MINILM_UTF8_H */
