/* See xc_ini.h. */
#include "xc_ini.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xc_file.h"

typedef struct entry {
    char *key, *value;
    int line;
} entry_t;

typedef struct section {
    char *name;
    entry_t *entries;
    size_t count, capacity;
} section_t;

struct xc_ini {
    section_t *sections;
    size_t count, capacity;
    /* Open addressing over section indices (XC_INI_NONE: empty); a power of two, kept at most
     * half full, so a lookup is one or two probes. */
    size_t *table;
    size_t table_size;
};

/* ---- The section index ---- */

static uint64_t hash_name(const char *name) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        unsigned char c = *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p + 32) : *p;
        h = (h ^ c) * 0x100000001b3ull;
    }
    return h;
}

static size_t *slot_of(const xc_ini_t *ini, const char *name) {
    size_t mask = ini->table_size - 1;
    for (size_t i = (size_t)hash_name(name) & mask;; i = (i + 1) & mask) {
        size_t at = ini->table[i];
        if (at == XC_INI_NONE || strcasecmp(ini->sections[at].name, name) == 0)
            return &ini->table[i];
    }
}

static int rebuild_index(xc_ini_t *ini, size_t size) {
    size_t *table = malloc(size * sizeof *table);
    if (!table) return -1;
    for (size_t i = 0; i < size; i++)
        table[i] = XC_INI_NONE;
    free(ini->table);
    ini->table = table;
    ini->table_size = size;
    for (size_t s = 0; s < ini->count; s++)
        *slot_of(ini, ini->sections[s].name) = s;
    return 0;
}

size_t xc_ini_find(const xc_ini_t *ini, const char *name) {
    if (!ini || !name || !ini->table_size) return XC_INI_NONE;
    return *slot_of(ini, name);
}

/* The section called `name`, created (at the end) when missing; XC_INI_NONE out of memory. */
static size_t section_for(xc_ini_t *ini, const char *name) {
    size_t found = xc_ini_find(ini, name);
    if (found != XC_INI_NONE) return found;
    if (2 * (ini->count + 1) > ini->table_size &&
        rebuild_index(ini, ini->table_size ? 2 * ini->table_size : 16) != 0)
        return XC_INI_NONE;
    if (ini->count == ini->capacity) {
        size_t capacity = ini->capacity ? 2 * ini->capacity : 8;
        section_t *grown = realloc(ini->sections, capacity * sizeof *grown);
        if (!grown) return XC_INI_NONE;
        ini->sections = grown;
        ini->capacity = capacity;
    }
    section_t *s = &ini->sections[ini->count];
    memset(s, 0, sizeof *s);
    if (!(s->name = strdup(name))) return XC_INI_NONE;
    *slot_of(ini, name) = ini->count;
    return ini->count++;
}

static int add_entry(xc_ini_t *ini, size_t section, const char *key, const char *value, int line) {
    if (section >= ini->count || !ini->sections) return -1;
    section_t *s = &ini->sections[section];
    if (s->count == s->capacity) {
        size_t capacity = s->capacity ? 2 * s->capacity : 4;
        entry_t *grown = realloc(s->entries, capacity * sizeof *grown);
        if (!grown) return -1;
        s->entries = grown;
        s->capacity = capacity;
    }
    entry_t *e = &s->entries[s->count];
    e->key = strdup(key);
    e->value = strdup(value);
    e->line = line;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return -1;
    }
    s->count++;
    return 0;
}

/* ---- Parsing ---- */

static int blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims blanks in place from both ends of [*begin, *end). */
static void trim(const char **begin, const char **end) {
    while (*begin < *end && blank(**begin))
        (*begin)++;
    while (*end > *begin && blank((*end)[-1]))
        (*end)--;
}

/* Where an inline comment starts in [p, end) (a ';' after a blank), or end. */
static const char *comment_start(const char *p, const char *end) {
    for (const char *q = p + 1; q < end; q++)
        if (*q == ';' && blank(q[-1])) return q;
    return end;
}

typedef struct parser {
    xc_ini_t *ini;
    const char *source;
    int line;
    size_t section;
    char *error;
    size_t error_size;
} parser_t;

static int fail(parser_t *p, const char *what) {
    snprintf(p->error, p->error_size, "%s line %d: %s", p->source, p->line, what);
    return -1;
}

/* Copies [begin, end) to a NUL-terminated buffer of XC_INI_MAX_LINE + 1. */
static void copy_span(char *out, const char *begin, const char *end) {
    size_t n = (size_t)(end - begin);
    memcpy(out, begin, n);
    out[n] = '\0';
}

static int parse_header(parser_t *p, const char *begin, const char *end) {
    const char *close = NULL;
    for (const char *q = begin; q < end; q++)
        if (*q == ']') close = q;
    if (!close) return fail(p, "a section header without ']'");
    const char *after = close + 1;
    while (after < end && blank(*after))
        after++;
    if (after < end && *after != ';' && *after != '#')
        return fail(p, "text after a section header's ']'");
    const char *name = begin + 1, *name_end = close;
    trim(&name, &name_end);
    if (name == name_end) return fail(p, "an empty section name");
    if (name_end - name > XC_INI_MAX_NAME) return fail(p, "a section name over 255 characters");
    char text[XC_INI_MAX_LINE + 1];
    copy_span(text, name, name_end);
    p->section = section_for(p->ini, text);
    return p->section == XC_INI_NONE ? fail(p, "out of host memory") : 0;
}

static int parse_entry(parser_t *p, const char *begin, const char *end) {
    const char *equals = memchr(begin, '=', (size_t)(end - begin));
    if (!equals) return fail(p, "expected \"key = value\", \"[section]\" or a comment");
    const char *key = begin, *key_end = equals;
    trim(&key, &key_end);
    if (key == key_end) return fail(p, "a value without a key");
    if (key_end - key > XC_INI_MAX_NAME) return fail(p, "a key over 255 characters");
    const char *value = equals + 1, *value_end = end;
    trim(&value, &value_end);
    if (value < value_end && *value == ';')
        value_end = value; /* "key = ; comment": an empty value */
    else if (value < value_end)
        value_end = comment_start(value, value_end);
    trim(&value, &value_end);
    if (p->section == XC_INI_NONE && (p->section = section_for(p->ini, "")) == XC_INI_NONE)
        return fail(p, "out of host memory");
    char key_text[XC_INI_MAX_LINE + 1], value_text[XC_INI_MAX_LINE + 1];
    copy_span(key_text, key, key_end);
    copy_span(value_text, value, value_end);
    if (add_entry(p->ini, p->section, key_text, value_text, p->line) != 0)
        return fail(p, "out of host memory");
    return 0;
}

static int parse_line(parser_t *p, const char *begin, const char *end) {
    if ((size_t)(end - begin) > XC_INI_MAX_LINE) return fail(p, "a line over 4096 characters");
    if (memchr(begin, '\0', (size_t)(end - begin))) return fail(p, "a NUL byte (not a text file)");
    trim(&begin, &end);
    if (begin == end || *begin == ';' || *begin == '#') return 0;
    return *begin == '[' ? parse_header(p, begin, end) : parse_entry(p, begin, end);
}

xc_ini_t *xc_ini_parse(const char *text, size_t size, const char *source, char *error,
                       size_t error_size) {
    xc_ini_t *ini = xc_ini_new();
    if (!ini) {
        snprintf(error, error_size, "out of host memory reading %s", source);
        return NULL;
    }
    parser_t p = {ini, source, 0, XC_INI_NONE, error, error_size};
    const char *at = text, *end = text + size;
    if (size >= 3 && memcmp(at, "\xEF\xBB\xBF", 3) == 0) at += 3; /* a UTF-8 byte-order mark */
    while (at < end) {
        const char *eol = memchr(at, '\n', (size_t)(end - at));
        if (!eol) eol = end;
        p.line++;
        if (parse_line(&p, at, eol) != 0) {
            xc_ini_free(ini);
            return NULL;
        }
        at = eol + 1;
    }
    return ini;
}

xc_ini_t *xc_ini_load(const char *path, char *error, size_t error_size) {
    size_t size = 0;
    char *text = xc_file_read(path, XC_INI_MAX_BYTES, &size, error, error_size);
    if (!text) return NULL;
    xc_ini_t *ini = xc_ini_parse(text, size, path, error, error_size);
    free(text);
    return ini;
}

/* ---- The document ---- */

xc_ini_t *xc_ini_new(void) {
    return calloc(1, sizeof(xc_ini_t));
}

static void free_section(section_t *s) {
    for (size_t i = 0; i < s->count; i++) {
        free(s->entries[i].key);
        free(s->entries[i].value);
    }
    free(s->entries);
    free(s->name);
}

void xc_ini_free(xc_ini_t *ini) {
    if (!ini) return;
    for (size_t s = 0; s < ini->count; s++)
        free_section(&ini->sections[s]);
    free(ini->sections);
    free(ini->table);
    free(ini);
}

size_t xc_ini_section_count(const xc_ini_t *ini) {
    return ini ? ini->count : 0;
}

const char *xc_ini_section_name(const xc_ini_t *ini, size_t section) {
    return ini && section < ini->count ? ini->sections[section].name : NULL;
}

size_t xc_ini_key_count(const xc_ini_t *ini, size_t section) {
    return ini && section < ini->count ? ini->sections[section].count : 0;
}

const char *xc_ini_key_at(const xc_ini_t *ini, size_t section, size_t i, const char **out_value,
                          int *out_line) {
    if (!ini || section >= ini->count || i >= ini->sections[section].count) return NULL;
    const entry_t *e = &ini->sections[section].entries[i];
    if (out_value) *out_value = e->value;
    if (out_line) *out_line = e->line;
    return e->key;
}

const char *xc_ini_value(const xc_ini_t *ini, size_t section, const char *key) {
    if (!ini || section >= ini->count) return NULL;
    const section_t *s = &ini->sections[section];
    for (size_t i = s->count; i-- > 0;)
        if (strcasecmp(s->entries[i].key, key) == 0) return s->entries[i].value;
    return NULL;
}

const char *xc_ini_get(const xc_ini_t *ini, const char *section, const char *key) {
    return xc_ini_value(ini, xc_ini_find(ini, section), key);
}

int xc_ini_set(xc_ini_t *ini, const char *section, const char *key, const char *value) {
    size_t index = section_for(ini, section);
    if (index == XC_INI_NONE) return -1;
    section_t *s = &ini->sections[index];
    for (size_t i = s->count; i-- > 0;) {
        if (strcasecmp(s->entries[i].key, key) != 0) continue;
        char *copy = strdup(value);
        if (!copy) return -1;
        free(s->entries[i].value);
        s->entries[i].value = copy;
        return 0;
    }
    return add_entry(ini, index, key, value, 0);
}

void xc_ini_remove_section(xc_ini_t *ini, const char *section) {
    size_t index = xc_ini_find(ini, section);
    if (index == XC_INI_NONE) return;
    free_section(&ini->sections[index]);
    memmove(&ini->sections[index], &ini->sections[index + 1],
            (ini->count - index - 1) * sizeof *ini->sections);
    ini->count--;
    /* Indices moved: rebuild the index at its size (a table that was allocated stays so). */
    if (rebuild_index(ini, ini->table_size) != 0) {
        free(ini->table); /* out of memory: lookups fall back to "none" */
        ini->table = NULL;
        ini->table_size = 0;
    }
}

/* Appends a, b and c to a growing buffer; -1 out of memory. */
static int append(char **buffer, size_t *length, size_t *capacity, const char *a, const char *b,
                  const char *c) {
    size_t need = strlen(a) + strlen(b) + strlen(c);
    if (*length + need + 1 > *capacity) {
        size_t grown = (*length + need + 1) * 2;
        char *bigger = realloc(*buffer, grown);
        if (!bigger) return -1;
        *buffer = bigger;
        *capacity = grown;
    }
    *length += (size_t)snprintf(*buffer + *length, *capacity - *length, "%s%s%s", a, b, c);
    return 0;
}

/*
 * 1 when every name and value can be written as one line that reads back as itself (or nearly:
 * blanks around a value are dropped). A newline would start a line of its own ("x\n[other]"
 * forges a section); an empty key, or one starting with '[', ';' or '#' (after blanks, which
 * the reader drops around names), reads as another kind of line; a name over XC_INI_MAX_NAME or a
 * line over XC_INI_MAX_LINE is refused by the reader, which would then refuse the whole file.
 */
static int writable_name(const char *name) {
    size_t n = strlen(name);
    return n <= XC_INI_MAX_NAME && !strchr(name, '\n') &&
           (n == 0 || (!blank(name[0]) && !blank(name[n - 1])));
}

static int writable(const xc_ini_t *ini) {
    for (size_t s = 0; s < ini->count; s++) {
        const section_t *section = &ini->sections[s];
        if (!writable_name(section->name)) return 0;
        for (size_t i = 0; i < section->count; i++) {
            const char *key = section->entries[i].key, *value = section->entries[i].value;
            size_t n = strlen(key);
            if (n == 0 || !writable_name(key) || strchr(key, '=') || strchr("[;#", key[0]) ||
                strchr(value, '\n') || n + 3 + strlen(value) > XC_INI_MAX_LINE)
                return 0;
        }
    }
    return 1;
}

int xc_ini_write(const xc_ini_t *ini, const char *path, const char *header) {
    if (!writable(ini)) {
        errno = EINVAL;
        return -1;
    }
    char *text = NULL;
    size_t length = 0, capacity = 0;
    /* The reader drops one byte-order mark: a document whose first key starts with one (read
     * from a file that had two) keeps it behind a mark of its own. */
    const char *bom = "\xEF\xBB\xBF", *first = header && header[0] ? header : "";
    size_t global = xc_ini_find(ini, "");
    if (!first[0] && global != XC_INI_NONE && ini->sections[global].count)
        first = ini->sections[global].entries[0].key; /* else a section header comes first */
    int failed = append(&text, &length, &capacity, strncmp(first, bom, 3) == 0 ? bom : "",
                        header ? header : "", "");
    /* Keys of no section ("") must come before the first header, wherever they were set. */
    for (size_t n = 0; !failed && n < ini->count; n++) {
        size_t s = global == XC_INI_NONE ? n : n == 0 ? global : n <= global ? n - 1 : n;
        const section_t *section = &ini->sections[s];
        if (section->name[0])
            failed = append(&text, &length, &capacity, length ? "\n[" : "[", section->name, "]\n");
        for (size_t i = 0; !failed && i < section->count; i++) {
            failed = append(&text, &length, &capacity, section->entries[i].key, " = ",
                            section->entries[i].value) ||
                     append(&text, &length, &capacity, "\n", "", "");
        }
    }
    if (failed || length > XC_INI_MAX_BYTES) {
        free(text);
        errno = failed ? ENOMEM : EINVAL;
        return -1;
    }
    const void *parts[1] = {text};
    size_t sizes[1] = {length};
    int status = xc_file_replace(path, parts, sizes, 1);
    free(text);
    return status;
}
