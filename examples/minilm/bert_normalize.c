/* BERT's text normalization (see bert_normalize.h), over the tables of unicode_tables.c. */
#include "bert_normalize.h"

#include <stdlib.h>

#include "unicode_tables.h"
#include "utf8.h"

int cp_push(cp_buffer_t *buffer, uint32_t cp) {
    if (buffer->count == buffer->capacity) {
        size_t capacity = buffer->capacity ? 2 * buffer->capacity : 256;
        uint32_t *data = realloc(buffer->data, capacity * sizeof *data);
        if (!data) return -1;
        buffer->data = data;
        buffer->capacity = capacity;
    }
    buffer->data[buffer->count++] = cp;
    return 0;
}

void cp_free(cp_buffer_t *buffer) {
    free(buffer->data);
    *buffer = (cp_buffer_t){0};
}

/* The value of the range holding cp in a sorted table, or 0. */
static uint32_t range_lookup(const mt_range_t *table, size_t count, uint32_t cp) {
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < table[mid].first)
            hi = mid;
        else if (cp > table[mid].last)
            lo = mid + 1;
        else
            return table[mid].value;
    }
    return 0;
}

static int map_order(const void *key, const void *entry) {
    uint32_t cp = *(const uint32_t *)key, other = ((const mt_map_t *)entry)->cp;
    return cp < other ? -1 : cp > other;
}

static const mt_map_t *map_lookup(uint32_t cp) {
    return bsearch(&cp, mt_map, mt_map_count, sizeof mt_map[0], map_order);
}

/* BERT's list of "Chinese characters" (CJK ideograph blocks), padded with spaces. */
static int is_cjk(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

int bert_is_space(uint32_t cp) {
    return cp == ' ';
}

int bert_is_punct(uint32_t cp) {
    return range_lookup(mt_class_ranges, mt_class_range_count, cp) == MT_PUNCT;
}

/* Hangul syllables decompose by arithmetic (Unicode 15, section 3.12), into 2 or 3 jamo. */
static int push_hangul(cp_buffer_t *out, uint32_t cp) {
    uint32_t s = cp - 0xAC00;
    if (cp_push(out, 0x1100 + s / (21 * 28)) || cp_push(out, 0x1161 + (s % (21 * 28)) / 28))
        return -1;
    return s % 28 ? cp_push(out, 0x11A7 + s % 28) : 0;
}

/*
 * NFD puts each run of combining marks in the order of their combining classes (stably). The
 * marks that survive the stripping with a class other than 0 are rare (a few dozen code points:
 * viramas of Mc category, musical symbols), so a plain insertion sort of each run is enough.
 */
static void reorder_marks(uint32_t *cps, size_t count) {
    for (size_t i = 1; i < count; i++) {
        uint32_t ccc = range_lookup(mt_ccc_ranges, mt_ccc_range_count, cps[i]);
        if (!ccc) continue;
        uint32_t cp = cps[i];
        size_t j = i;
        while (j > 0) {
            uint32_t before = range_lookup(mt_ccc_ranges, mt_ccc_range_count, cps[j - 1]);
            if (before <= ccc) break; /* also stops at a starter (class 0) */
            cps[j] = cps[j - 1];
            j--;
        }
        cps[j] = cp;
    }
}

int bert_normalize(const char *text, size_t len, cp_buffer_t *out) {
    const unsigned char *s = (const unsigned char *)text;
    size_t start = out->count;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += utf8_decode(s + i, len - i, &cp);
        uint32_t cls = range_lookup(mt_class_ranges, mt_class_range_count, cp);
        if (cls == MT_REMOVE || cls == MT_MARK) continue;
        if (cls == MT_SPACE) {
            if (cp_push(out, ' ')) return -1;
            continue;
        }
        int pad = is_cjk(cp);
        if (pad && cp_push(out, ' ')) return -1;
        const mt_map_t *m = map_lookup(cp);
        if (cp >= 0xAC00 && cp <= 0xD7A3) {
            if (push_hangul(out, cp)) return -1;
        } else if (m) {
            for (uint32_t k = 0; k < m->length; k++)
                if (cp_push(out, mt_map_pool[m->offset + k])) return -1;
        } else if (cp_push(out, cp)) {
            return -1;
        }
        if (pad && cp_push(out, ' ')) return -1;
    }
    if (out->count > start) reorder_marks(out->data + start, out->count - start);
    return 0;
}
