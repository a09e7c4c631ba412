/*
 * A small JSON reader for the safetensors header: the whole text is parsed into an array of
 * nodes (a tree by index), strings decoded to UTF-8. It never reads outside the text it is given
 * and refuses what RFC 8259 refuses, plus nesting deeper than JSON_MAX_DEPTH, so a corrupt or
 * hostile file yields an error message, never a crash.
 */
#ifndef MINILM_JSON_H
#define MINILM_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

typedef enum json_type {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} json_type_t;

typedef struct json_node {
    json_type_t type;
    int32_t first_child;  /* arrays and objects: index of the first element, -1 if empty */
    int32_t next_sibling; /* the next element of the parent, -1 for the last */
    int32_t count;        /* arrays and objects: number of elements */
    const char *key;      /* members of an object: the decoded key (NUL-terminated) */
    size_t key_len;
    const char *text; /* strings: decoded; numbers: the literal (both NUL-terminated, owned) */
    size_t len;
} json_node_t;

typedef struct json_doc {
    json_node_t *nodes; /* nodes[0] is the root */
    int32_t count;
    char *strings; /* arena of the decoded strings and keys */
} json_doc_t;

/**
 * Parses `len` bytes of `text` (not necessarily NUL-terminated) into *out_doc, which the caller
 * frees with json_free; the doc holds copies of its strings and numbers, so `text` may go first.
 * Returns 0, or -1 with a sentence (byte offset and what was expected) in `error` (size
 * `error_size`) and *out_doc empty.
 */
int json_parse(const char *text, size_t len, json_doc_t *out_doc, char *error, size_t error_size);

/** Frees what json_parse allocated; an empty or zeroed doc is fine. */
void json_free(json_doc_t *doc);

/** Returns the member `key` of object `node`, or NULL (also when `node` is not an object). */
const json_node_t *json_member(const json_doc_t *doc, const json_node_t *node, const char *key);

/** Returns element `index` of array `node`, or NULL. */
const json_node_t *json_element(const json_doc_t *doc, const json_node_t *node, int32_t index);

/** Returns the node after `node` in its parent, or NULL. */
const json_node_t *json_next(const json_doc_t *doc, const json_node_t *node);

/** Returns the first element of an array or object, or NULL. */
const json_node_t *json_first(const json_doc_t *doc, const json_node_t *node);

/**
 * Sets *out to the value of a number node written as an integer (no fraction, no exponent) that
 * fits int64_t. Returns 0, or -1 for anything else.
 */
int json_int64(const json_node_t *node, int64_t *out);

#endif /* MINILM_JSON_H */
