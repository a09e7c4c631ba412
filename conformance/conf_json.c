/*
 * JSON: the writer's escaping, and a small recursive-descent reader for `xhal compare`. The reader
 * takes any RFC 8259 document (nesting limited to 64 levels); \uXXXX escapes are decoded to UTF-8,
 * surrogate pairs included.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

#define MAX_DEPTH 64

void conf_json_string(FILE *out, const char *text) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

void conf_json_number(FILE *out, double value) {
    if (isfinite(value))
        fprintf(out, "%.10g", value);
    else
        fputs("null", out);
}

/* ---- Reader ---- */

typedef struct parser {
    const char *at;
    const char *start;
    char *error;
    size_t error_size;
    int failed;
} parser_t;

static conf_json_t *fail(parser_t *p, const char *what) {
    if (!p->failed)
        conf_format(p->error, p->error_size, "JSON: %s at offset %ld", what,
                    (long)(p->at - p->start));
    p->failed = 1;
    return NULL;
}

static void skip_space(parser_t *p) {
    while (*p->at == ' ' || *p->at == '\t' || *p->at == '\n' || *p->at == '\r')
        p->at++;
}

static conf_json_t *node(parser_t *p, conf_json_type_t type) {
    conf_json_t *value = calloc(1, sizeof *value);
    if (!value) return fail(p, "out of host memory");
    value->type = type;
    return value;
}

static int hex4(const char *s, unsigned *out) {
    *out = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)s[i];
        if (!isxdigit(c)) return 0;
        *out = *out * 16 + (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
    }
    return 1;
}

static size_t put_utf8(char *out, unsigned code) {
    if (code < 0x80) {
        out[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char)(0xC0 | code >> 6);
        out[1] = (char)(0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char)(0xE0 | code >> 12);
        out[1] = (char)(0x80 | (code >> 6 & 0x3F));
        out[2] = (char)(0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | code >> 18);
    out[1] = (char)(0x80 | (code >> 12 & 0x3F));
    out[2] = (char)(0x80 | (code >> 6 & 0x3F));
    out[3] = (char)(0x80 | (code & 0x3F));
    return 4;
}

/* Parses a string at p->at (on the quote); returns it malloc'ed. */
static char *parse_string(parser_t *p) {
    const char *s = ++p->at;
    size_t length = 0;
    /* The decoded string is never longer than the source. */
    while (s[length] && s[length] != '"')
        length += s[length] == '\\' && s[length + 1] ? 2 : 1;
    if (!s[length]) return (char *)fail(p, "unterminated string");
    char *out = malloc(length + 1), *w = out;
    if (!out) return (char *)fail(p, "out of host memory");
    while (*p->at != '"') {
        unsigned char c = (unsigned char)*p->at++;
        if (c < 0x20) {
            free(out);
            return (char *)fail(p, "control character in a string");
        }
        if (c != '\\') {
            *w++ = (char)c;
            continue;
        }
        char e = *p->at++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            *w++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned code, low;
        if (e != 'u' || !hex4(p->at, &code)) {
            free(out);
            return (char *)fail(p, "bad escape in a string");
        }
        p->at += 4;
        if (code >= 0xD800 && code < 0xDC00 && p->at[0] == '\\' && p->at[1] == 'u' &&
            hex4(p->at + 2, &low) && low >= 0xDC00 && low < 0xE000) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            p->at += 6;
        }
        w += put_utf8(w, code);
    }
    p->at++;
    *w = '\0';
    return out;
}

static conf_json_t *parse_value(parser_t *p, int depth);

/* Appends `item` (and `key`, for an object) to a container. */
static int push(parser_t *p, conf_json_t *container, conf_json_t *item, char *key) {
    size_t n = container->count + 1;
    conf_json_t **items = realloc(container->items, n * sizeof *items);
    if (items) container->items = items;
    int object = container->type == CONF_JSON_OBJECT;
    char **keys = NULL;
    if (items && object) {
        keys = realloc(container->keys, n * sizeof *keys);
        if (keys) container->keys = keys;
    }
    if (!items || (object && !keys)) {
        conf_json_free(item);
        free(key);
        fail(p, "out of host memory");
        return 0;
    }
    container->items[container->count] = item;
    if (container->type == CONF_JSON_OBJECT) container->keys[container->count] = key;
    container->count = n;
    return 1;
}

static conf_json_t *parse_container(parser_t *p, int depth, int object) {
    conf_json_t *value = node(p, object ? CONF_JSON_OBJECT : CONF_JSON_ARRAY);
    char close = object ? '}' : ']';
    if (!value) return NULL;
    p->at++;
    skip_space(p);
    if (*p->at == close) {
        p->at++;
        return value;
    }
    for (;;) {
        char *key = NULL;
        skip_space(p);
        if (object) {
            if (*p->at != '"' || !(key = parse_string(p))) break;
            skip_space(p);
            if (*p->at++ != ':') {
                free(key);
                fail(p, "missing ':' after a key");
                break;
            }
        }
        conf_json_t *item = parse_value(p, depth + 1);
        if (!item || !push(p, value, item, key)) {
            if (!item) free(key);
            break;
        }
        skip_space(p);
        if (*p->at == ',') {
            p->at++;
            continue;
        }
        if (*p->at == close) {
            p->at++;
            return value;
        }
        fail(p, object ? "missing ',' or '}'" : "missing ',' or ']'");
        break;
    }
    fail(p, object ? "bad object" : "bad array");
    conf_json_free(value);
    return NULL;
}

static conf_json_t *parse_value(parser_t *p, int depth) {
    if (depth > MAX_DEPTH) return fail(p, "nested too deeply");
    skip_space(p);
    char c = *p->at;
    if (c == '{' || c == '[') return parse_container(p, depth, c == '{');
    if (c == '"') {
        char *text = parse_string(p);
        conf_json_t *value = text ? node(p, CONF_JSON_STRING) : NULL;
        if (value)
            value->string = text;
        else
            free(text);
        return value;
    }
    static const struct {
        const char *word;
        conf_json_type_t type;
        double number;
    } words[] = {
        {"null", CONF_JSON_NULL, 0}, {"true", CONF_JSON_BOOL, 1}, {"false", CONF_JSON_BOOL, 0}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i].word);
        if (strncmp(p->at, words[i].word, n) == 0) {
            p->at += n;
            conf_json_t *value = node(p, words[i].type);
            if (value) value->number = words[i].number;
            return value;
        }
    }
    if (c == '-' || isdigit((unsigned char)c)) {
        char *end = NULL;
        double number = strtod(p->at, &end);
        if (end == p->at) return fail(p, "bad number");
        p->at = end;
        conf_json_t *value = node(p, CONF_JSON_NUMBER);
        if (value) value->number = number;
        return value;
    }
    return fail(p, "unexpected character");
}

conf_json_t *conf_json_parse(const char *text, char *error, size_t error_size) {
    parser_t p = {.at = text, .start = text, .error = error, .error_size = error_size};
    conf_json_t *value = parse_value(&p, 0);
    if (value) {
        skip_space(&p);
        if (*p.at) {
            fail(&p, "text after the document");
            conf_json_free(value);
            value = NULL;
        }
    }
    return value;
}

void conf_json_free(conf_json_t *value) {
    if (!value) return;
    for (size_t i = 0; i < value->count; i++) {
        conf_json_free(value->items[i]);
        if (value->keys) free(value->keys[i]);
    }
    free(value->items);
    free(value->keys);
    free(value->string);
    free(value);
}

const conf_json_t *conf_json_get(const conf_json_t *object, const char *key) {
    if (!object || object->type != CONF_JSON_OBJECT) return NULL;
    for (size_t i = 0; i < object->count; i++)
        if (strcmp(object->keys[i], key) == 0) return object->items[i];
    return NULL;
}

double conf_json_num(const conf_json_t *value) {
    return value && value->type == CONF_JSON_NUMBER ? value->number : NAN;
}

const char *conf_json_str(const conf_json_t *value, const char *fallback) {
    return value && value->type == CONF_JSON_STRING ? value->string : fallback;
}
