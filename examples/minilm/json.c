/* A small JSON reader (see json.h): recursive descent over a bounded buffer. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

typedef struct parser {
    const char *text;
    size_t len, pos;
    json_doc_t *doc;
    int32_t capacity;
    size_t arena_used;
    char *error;
    size_t error_size;
    int failed;
} parser_t;

static int fail(parser_t *p, const char *format, ...) {
    if (p->failed) return -1; /* keep the first, innermost message */
    p->failed = 1;
    int n = snprintf(p->error, p->error_size, "JSON error at byte %zu: ", p->pos);
    if (n >= 0 && (size_t)n < p->error_size) {
        va_list args;
        va_start(args, format);
        vsnprintf(p->error + n, p->error_size - (size_t)n, format, args);
        va_end(args);
    }
    return -1;
}

static void skip_space(parser_t *p) {
    while (p->pos < p->len && (p->text[p->pos] == ' ' || p->text[p->pos] == '\t' ||
                               p->text[p->pos] == '\n' || p->text[p->pos] == '\r'))
        p->pos++;
}

static int32_t new_node(parser_t *p, json_type_t type) {
    if (p->doc->count == p->capacity) {
        if (p->capacity > INT32_MAX / 2) return fail(p, "too many values"), -1;
        int32_t capacity = p->capacity ? 2 * p->capacity : 64;
        json_node_t *nodes = realloc(p->doc->nodes, (size_t)capacity * sizeof *nodes);
        if (!nodes) return fail(p, "out of memory"), -1;
        p->doc->nodes = nodes;
        p->capacity = capacity;
    }
    int32_t index = p->doc->count++;
    p->doc->nodes[index] = (json_node_t){.type = type, .first_child = -1, .next_sibling = -1};
    return index;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits of a \u escape at p->pos. */
static int read_hex4(parser_t *p, unsigned *out) {
    if (p->len - p->pos < 4) return fail(p, "a \\u escape needs 4 hex digits");
    unsigned value = 0;
    for (int i = 0; i < 4; i++) {
        int digit = hex_value(p->text[p->pos + (size_t)i]);
        if (digit < 0) return fail(p, "a \\u escape needs 4 hex digits");
        value = value * 16 + (unsigned)digit;
    }
    p->pos += 4;
    *out = value;
    return 0;
}

/*
 * Decodes the string at p->pos (on its opening quote) into the arena. The arena has 2 len + 1
 * bytes: a string's decoded bytes and NUL take no more than its raw bytes with the quotes, a
 * number's literal and NUL no more than twice its bytes.
 */
static int parse_string(parser_t *p, const char **out, size_t *out_len) {
    p->pos++; /* the opening quote */
    char *start = p->doc->strings + p->arena_used, *w = start;
    for (;;) {
        if (p->pos >= p->len) return fail(p, "unterminated string");
        unsigned char c = (unsigned char)p->text[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) return fail(p, "control character 0x%02x in a string", c);
        if (c != '\\') {
            *w++ = (char)c; /* UTF-8 passes through; the caller compares bytes */
            p->pos++;
            continue;
        }
        if (++p->pos >= p->len) return fail(p, "unterminated escape");
        char e = p->text[p->pos++];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple && e != 'u') {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            *w++ = decoded[simple - "\"\\/bfnrt"];
            continue;
        }
        if (e != 'u') return fail(p, "invalid escape '\\%c'", e);
        unsigned cp = 0;
        if (read_hex4(p, &cp)) return -1;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(p, "lone low surrogate \\u%04x", cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned low = 0;
            if (p->len - p->pos < 2 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u')
                return fail(p, "high surrogate \\u%04x without its low half", cp);
            p->pos += 2;
            if (read_hex4(p, &low)) return -1;
            if (low < 0xDC00 || low > 0xDFFF)
                return fail(p, "high surrogate \\u%04x followed by \\u%04x", cp, low);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        w += utf8_encode(cp, w);
    }
    *w = '\0';
    *out = start;
    *out_len = (size_t)(w - start);
    p->arena_used += *out_len + 1;
    return 0;
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Checks the number grammar of RFC 8259 and keeps the literal. */
static int parse_number(parser_t *p, int32_t node) {
    size_t start = p->pos;
    if (p->pos < p->len && p->text[p->pos] == '-') p->pos++;
    if (p->pos >= p->len || !is_digit(p->text[p->pos])) return fail(p, "invalid number");
    if (p->text[p->pos] == '0')
        p->pos++;
    else
        while (p->pos < p->len && is_digit(p->text[p->pos]))
            p->pos++;
    if (p->pos < p->len && p->text[p->pos] == '.') {
        p->pos++;
        if (p->pos >= p->len || !is_digit(p->text[p->pos])) return fail(p, "invalid fraction");
        while (p->pos < p->len && is_digit(p->text[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (p->text[p->pos] == 'e' || p->text[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->text[p->pos] == '+' || p->text[p->pos] == '-')) p->pos++;
        if (p->pos >= p->len || !is_digit(p->text[p->pos])) return fail(p, "invalid exponent");
        while (p->pos < p->len && is_digit(p->text[p->pos]))
            p->pos++;
    }
    /* Copied, so that the doc outlives the text it was parsed from. */
    size_t len = p->pos - start;
    char *copy = p->doc->strings + p->arena_used;
    memcpy(copy, p->text + start, len);
    copy[len] = '\0';
    p->arena_used += len + 1;
    p->doc->nodes[node].text = copy;
    p->doc->nodes[node].len = len;
    return 0;
}

static int parse_literal(parser_t *p, const char *word, json_type_t type) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
        return fail(p, "unexpected character '%c'", p->text[p->pos]);
    p->pos += n;
    return new_node(p, type) < 0 ? -1 : 0;
}

static int parse_value(parser_t *p, int depth, int32_t *out_index);

/* Arrays and objects: elements are linked as siblings under the container. */
static int parse_container(parser_t *p, int depth, int32_t node, int object) {
    const char close = object ? '}' : ']';
    p->pos++;
    skip_space(p);
    if (p->pos < p->len && p->text[p->pos] == close) {
        p->pos++;
        return 0;
    }
    int32_t last = -1;
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        if (object) {
            skip_space(p);
            if (p->pos >= p->len || p->text[p->pos] != '"')
                return fail(p, "expected a string key in an object");
            if (parse_string(p, &key, &key_len)) return -1;
            skip_space(p);
            if (p->pos >= p->len || p->text[p->pos] != ':')
                return fail(p, "expected ':' after key \"%s\"", key);
            p->pos++;
        }
        int32_t child = -1;
        if (parse_value(p, depth + 1, &child) || child < 0) return -1;
        json_node_t *nodes = p->doc->nodes; /* parse_value may have moved them */
        nodes[child].key = key;
        nodes[child].key_len = key_len;
        if (last < 0)
            nodes[node].first_child = child;
        else
            nodes[last].next_sibling = child;
        last = child;
        nodes[node].count++;
        skip_space(p);
        if (p->pos >= p->len) return fail(p, "unterminated %s", object ? "object" : "array");
        if (p->text[p->pos] == close) {
            p->pos++;
            return 0;
        }
        if (p->text[p->pos] != ',')
            return fail(p, "expected ',' or '%c', found '%c'", close, p->text[p->pos]);
        p->pos++;
    }
}

static int parse_value(parser_t *p, int depth, int32_t *out_index) {
    if (depth > JSON_MAX_DEPTH) return fail(p, "nested deeper than %d", JSON_MAX_DEPTH);
    skip_space(p);
    if (p->pos >= p->len) return fail(p, "expected a value, found the end");
    char c = p->text[p->pos];
    int32_t node = -1;
    int rc = 0;
    switch (c) {
    case '{':
    case '[':
        node = new_node(p, c == '{' ? JSON_OBJECT : JSON_ARRAY);
        if (node < 0) return -1;
        rc = parse_container(p, depth, node, c == '{');
        break;
    case '"': {
        node = new_node(p, JSON_STRING);
        if (node < 0) return -1;
        const char *s = NULL;
        size_t n = 0;
        rc = parse_string(p, &s, &n);
        if (!rc) {
            p->doc->nodes[node].text = s;
            p->doc->nodes[node].len = n;
        }
        break;
    }
    case 't':
    case 'f':
    case 'n':
        rc = parse_literal(p,
                           c == 't'   ? "true"
                           : c == 'f' ? "false"
                                      : "null",
                           c == 't'   ? JSON_TRUE
                           : c == 'f' ? JSON_FALSE
                                      : JSON_NULL);
        node = p->doc->count - 1;
        break;
    default:
        if (c != '-' && !is_digit(c)) return fail(p, "unexpected character '%c'", c);
        node = new_node(p, JSON_NUMBER);
        if (node < 0) return -1;
        rc = parse_number(p, node);
        break;
    }
    *out_index = node;
    return rc;
}

int json_parse(const char *text, size_t len, json_doc_t *out_doc, char *error, size_t error_size) {
    *out_doc = (json_doc_t){0};
    parser_t p = {
        .text = text, .len = len, .doc = out_doc, .error = error, .error_size = error_size};
    if (error_size) error[0] = '\0';
    if (!text || len >= SIZE_MAX / 2) return fail(&p, "no text");
    out_doc->strings = malloc(2 * len + 1);
    if (!out_doc->strings) return fail(&p, "out of memory for %zu bytes", 2 * len + 1);
    int32_t root;
    int rc = parse_value(&p, 0, &root);
    if (!rc) {
        skip_space(&p);
        if (p.pos != p.len) rc = fail(&p, "text after the value");
    }
    if (rc) json_free(out_doc);
    return rc;
}

void json_free(json_doc_t *doc) {
    if (!doc) return;
    free(doc->nodes);
    free(doc->strings);
    *doc = (json_doc_t){0};
}

const json_node_t *json_first(const json_doc_t *doc, const json_node_t *node) {
    if (!node || (node->type != JSON_ARRAY && node->type != JSON_OBJECT)) return NULL;
    return node->first_child < 0 ? NULL : &doc->nodes[node->first_child];
}

const json_node_t *json_next(const json_doc_t *doc, const json_node_t *node) {
    return !node || node->next_sibling < 0 ? NULL : &doc->nodes[node->next_sibling];
}

const json_node_t *json_member(const json_doc_t *doc, const json_node_t *node, const char *key) {
    if (!node || node->type != JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (const json_node_t *m = json_first(doc, node); m; m = json_next(doc, m))
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return m;
    return NULL;
}

const json_node_t *json_element(const json_doc_t *doc, const json_node_t *node, int32_t index) {
    if (!node || node->type != JSON_ARRAY || index < 0) return NULL;
    const json_node_t *e = json_first(doc, node);
    for (int32_t i = 0; e && i < index; i++)
        e = json_next(doc, e);
    return e;
}

int json_int64(const json_node_t *node, int64_t *out) {
    if (!node || node->type != JSON_NUMBER) return -1;
    size_t i = 0;
    int negative = node->text[0] == '-';
    if (negative) i++;
    uint64_t value = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < node->len; i++) {
        char c = node->text[i];
        if (!is_digit(c)) return -1; /* a fraction or an exponent */
        unsigned digit = (unsigned)(c - '0');
        if (value > (limit - digit) / 10) return -1;
        value = value * 10 + digit;
    }
    *out = negative ? (int64_t)(0 - value) : (int64_t)value;
    return 0;
}
