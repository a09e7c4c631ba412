/*
 * Reading a .safetensors file: 8 bytes of little-endian header length N, N bytes of JSON
 * ({"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {...}}), then the tensors' raw bytes. The file is mapped read-only; every
 * tensor's dtype, shape, size and offsets are checked against each other and against the file
 * before a pointer to its bytes is handed out, so a truncated or corrupt file is an error
 * message, never a read outside the mapping.
 */
#ifndef MINILM_SAFETENSORS_H
#define MINILM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_RANK 8
/* A header longer than this is refused (real ones are kilobytes; the format caps it at 100 MB). */
#define ST_MAX_HEADER (100u << 20)

typedef enum st_dtype {
    ST_F64,
    ST_F32,
    ST_F16,
    ST_BF16,
    ST_I64,
    ST_I32,
    ST_I16,
    ST_I8,
    ST_U8,
    ST_BOOL,
    ST_DTYPE_COUNT,
} st_dtype_t;

typedef struct st_tensor {
    char *name;
    st_dtype_t dtype;
    int rank;
    int64_t shape[ST_MAX_RANK];
    uint64_t elements;
    const void *data; /* inside the mapping; aligned only as the file aligns it */
    uint64_t bytes;
} st_tensor_t;

typedef struct st_file {
    void *map;
    size_t map_size;
    st_tensor_t *tensors;
    size_t count;
} st_file_t;

/** Returns "F32", "BF16", ... */
const char *st_dtype_name(st_dtype_t dtype);

/** Returns the bytes of one element. */
size_t st_dtype_size(st_dtype_t dtype);

/**
 * Maps and checks `path`. Returns 0, or -1 with a sentence naming the file, the tensor and what
 * is wrong in `error`. The caller closes *out_file with st_close either way.
 */
int st_open(const char *path, st_file_t *out_file, char *error, size_t error_size);

/** Checks a header and data already in memory (what st_open does after mapping); for tests. */
int st_parse(const void *bytes, size_t size, st_file_t *out_file, char *error, size_t error_size);

/** Unmaps the file and frees the tensor table; a zeroed st_file_t is fine. */
void st_close(st_file_t *file);

/** Returns the tensor called `name`, or NULL. */
const st_tensor_t *st_find(const st_file_t *file, const char *name);

#endif /* MINILM_SAFETENSORS_H */
