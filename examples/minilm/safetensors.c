/* Reading a .safetensors file (see safetensors.h). */
#include "errors.h"
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

static const struct {
    const char *name;
    size_t size;
} dtypes[ST_DTYPE_COUNT] = {
    [ST_F64] = {"F64", 8}, [ST_F32] = {"F32", 4},   [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2},
    [ST_I64] = {"I64", 8}, [ST_I32] = {"I32", 4},   [ST_I16] = {"I16", 2}, [ST_I8] = {"I8", 1},
    [ST_U8] = {"U8", 1},   [ST_BOOL] = {"BOOL", 1},
};

const char *st_dtype_name(st_dtype_t dtype) {
    return (unsigned)dtype < ST_DTYPE_COUNT ? dtypes[dtype].name : "invalid";
}

size_t st_dtype_size(st_dtype_t dtype) {
    return (unsigned)dtype < ST_DTYPE_COUNT ? dtypes[dtype].size : 0;
}

#define say minilm_say

static int by_name(const void *a, const void *b) {
    return strcmp(((const st_tensor_t *)a)->name, ((const st_tensor_t *)b)->name);
}

static int by_offset(const void *a, const void *b) {
    const st_tensor_t *x = a, *y = b;
    const char *xd = x->data, *yd = y->data;
    return xd < yd ? -1 : xd > yd ? 1 : 0;
}

/* Reads one tensor's entry: dtype, shape and offsets, each checked against the others. */
static int read_entry(const json_doc_t *doc, const json_node_t *entry, const char *data,
                      uint64_t data_size, st_tensor_t *t, char *error, size_t error_size) {
    const char *name = t->name;
    if (entry->type != JSON_OBJECT)
        return say(error, error_size, "tensor '%s': its entry is not an object", name);
    const json_node_t *dtype = json_member(doc, entry, "dtype");
    const json_node_t *shape = json_member(doc, entry, "shape");
    const json_node_t *offsets = json_member(doc, entry, "data_offsets");
    if (!dtype || dtype->type != JSON_STRING)
        return say(error, error_size, "tensor '%s': no \"dtype\" string", name);
    t->dtype = ST_DTYPE_COUNT;
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (strcmp(dtype->text, dtypes[i].name) == 0) t->dtype = (st_dtype_t)i;
    if (t->dtype == ST_DTYPE_COUNT)
        return say(error, error_size, "tensor '%s': unknown dtype \"%.16s\"", name, dtype->text);
    if (!shape || shape->type != JSON_ARRAY)
        return say(error, error_size, "tensor '%s': no \"shape\" array", name);
    if (shape->count > ST_MAX_RANK)
        return say(error, error_size, "tensor '%s': rank %d is more than %d", name,
                   (int)shape->count, ST_MAX_RANK);
    t->rank = (int)shape->count;
    t->elements = 1;
    int i = 0;
    for (const json_node_t *d = json_first(doc, shape); d; d = json_next(doc, d), i++) {
        int64_t extent;
        if (json_int64(d, &extent) || extent < 0)
            return say(error, error_size, "tensor '%s': shape[%d] is not a size", name, i);
        t->shape[i] = extent;
        if (extent != 0 && t->elements > UINT64_MAX / (uint64_t)extent)
            return say(error, error_size, "tensor '%s': the shape overflows 64 bits", name);
        t->elements *= (uint64_t)extent;
    }
    int64_t begin, end;
    if (!offsets || offsets->type != JSON_ARRAY || offsets->count != 2 ||
        json_int64(json_element(doc, offsets, 0), &begin) ||
        json_int64(json_element(doc, offsets, 1), &end))
        return say(error, error_size, "tensor '%s': \"data_offsets\" is not [begin, end]", name);
    if (begin < 0 || end < begin || (uint64_t)end > data_size)
        return say(error, error_size,
                   "tensor '%s': data_offsets [%lld, %lld] lie outside the %llu data bytes", name,
                   (long long)begin, (long long)end, (unsigned long long)data_size);
    uint64_t size = dtypes[t->dtype].size;
    if (t->elements > UINT64_MAX / size || t->elements * size != (uint64_t)(end - begin))
        return say(error, error_size,
                   "tensor '%s': %llu elements of %s are not the %lld bytes of its data_offsets",
                   name, (unsigned long long)t->elements, dtypes[t->dtype].name,
                   (long long)(end - begin));
    t->data = data + begin;
    t->bytes = (uint64_t)(end - begin);
    return 0;
}

int st_parse(const void *bytes, size_t size, st_file_t *out_file, char *error, size_t error_size) {
    const unsigned char *b = bytes;
    if (size < 8)
        return say(error, error_size, "%zu bytes: shorter than the 8-byte header length", size);
    uint64_t header = 0;
    for (int i = 7; i >= 0; i--)
        header = header << 8 | b[i];
    if (header > ST_MAX_HEADER || header > size - 8)
        return say(error, error_size,
                   "header length %llu does not fit the %zu bytes of the file "
                   "(or the format's 100 MB)",
                   (unsigned long long)header, size);
    char json_error[160];
    json_doc_t doc;
    if (json_parse((const char *)b + 8, (size_t)header, &doc, json_error, sizeof json_error))
        return say(error, error_size, "header: %s", json_error);
    const json_node_t *root = &doc.nodes[0];
    int rc = 0;
    if (root->type != JSON_OBJECT) {
        rc = say(error, error_size, "header: not a JSON object");
        goto done;
    }
    out_file->tensors = calloc((size_t)root->count + 1, sizeof *out_file->tensors);
    if (!out_file->tensors) {
        rc = say(error, error_size, "out of memory for %d tensors", (int)root->count);
        goto done;
    }
    const char *data = (const char *)b + 8 + header;
    uint64_t data_size = size - 8 - header;
    for (const json_node_t *e = json_first(&doc, root); e; e = json_next(&doc, e)) {
        if (strcmp(e->key, "__metadata__") == 0) continue;
        if (strlen(e->key) != e->key_len) {
            rc = say(error, error_size, "header: a tensor name holds a NUL character");
            goto done;
        }
        st_tensor_t *t = &out_file->tensors[out_file->count];
        t->name = strdup(e->key);
        if (!t->name) {
            rc = say(error, error_size, "out of memory");
            goto done;
        }
        out_file->count++;
        if ((rc = read_entry(&doc, e, data, data_size, t, error, error_size))) goto done;
    }
    /*
     * Names must be unique, and tensors must not share bytes (the format also forbids holes;
     * those harm no one here). Sorted copies keep both checks O(n log n) on a huge header.
     */
    st_tensor_t *sorted = malloc((out_file->count + 1) * sizeof *sorted);
    if (!sorted) {
        rc = say(error, error_size, "out of memory");
        goto done;
    }
    memcpy(sorted, out_file->tensors, out_file->count * sizeof *sorted);
    qsort(sorted, out_file->count, sizeof *sorted, by_name);
    for (size_t i = 1; i < out_file->count && !rc; i++)
        if (strcmp(sorted[i - 1].name, sorted[i].name) == 0)
            rc = say(error, error_size, "tensor '%s' is named twice", sorted[i].name);
    qsort(sorted, out_file->count, sizeof *sorted, by_offset);
    for (size_t i = 1; i < out_file->count && !rc; i++)
        if ((const char *)sorted[i - 1].data + sorted[i - 1].bytes > (const char *)sorted[i].data)
            rc = say(error, error_size, "tensors '%s' and '%s' overlap", sorted[i - 1].name,
                     sorted[i].name);
    free(sorted);
done:
    json_free(&doc);
    return rc;
}

int st_open(const char *path, st_file_t *out_file, char *error, size_t error_size) {
    *out_file = (st_file_t){0};
    char inner[400];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return say(error, error_size, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return say(error, error_size, "%s: not a regular file", path);
    }
    if (st.st_size < 8) {
        close(fd);
        return say(error, error_size, "%s: %lld bytes, too short for a safetensors file", path,
                   (long long)st.st_size);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int saved = errno;
    close(fd);
    if (map == MAP_FAILED) return say(error, error_size, "%s: mmap: %s", path, strerror(saved));
    out_file->map = map;
    out_file->map_size = (size_t)st.st_size;
    if (st_parse(map, out_file->map_size, out_file, inner, sizeof inner))
        return say(error, error_size, "%s: %s", path, inner);
    return 0;
}

void st_close(st_file_t *file) {
    if (!file) return;
    for (size_t i = 0; i < file->count; i++)
        free(file->tensors[i].name);
    free(file->tensors);
    if (file->map) munmap(file->map, file->map_size);
    *file = (st_file_t){0};
}

const st_tensor_t *st_find(const st_file_t *file, const char *name) {
    for (size_t i = 0; i < file->count; i++)
        if (strcmp(file->tensors[i].name, name) == 0) return &file->tensors[i];
    return NULL;
}
