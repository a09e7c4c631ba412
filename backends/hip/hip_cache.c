/*
 * The code-object cache: what hiprtc compiled for a target, kept on disk so that the next
 * process loads it in milliseconds instead of compiling for a minute. One file per target and
 * key, <cache>/<gfx>-<key>.co, where the key hashes everything that changes the code (the kernel
 * source, the compiler's identity and versions, the target). An entry is written to a temporary
 * name and renamed, so processes compiling at once never see half a file; an entry the runtime
 * refuses is recompiled and replaced (hip_module.c).
 *
 * (The same scheme as the OpenCL backend's program binaries; a stand-in until the project-wide
 * cache of backends/common lands, kept to these three functions so that swapping is local.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hip_internal.h"

#define CACHE_MAGIC "XHALHCO1"

void hip_cache_key(const char *const *parts, size_t count, char out[33]) {
    /* Two 64-bit FNV-1a hashes over every part, with their terminating 0 as separators. */
    uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
    for (size_t i = 0; i < count; i++)
        for (const unsigned char *p = (const unsigned char *)parts[i];; p++) {
            a = (a ^ *p) * 0x100000001b3ull;
            b = (b ^ *p) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
            if (!*p) break;
        }
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* Creates the cache folder and its parents; 0 when there is none (turned off, or no HOME). */
static int cache_dir(const xhal_be_state_t *state) {
    const char *dir = state->options.cache;
    if (!dir[0]) return 0;
    char path[512];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0') continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            state->host->log(XHAL_LOG_INFO, "no code-object cache: cannot create %s (%s)", path,
                             strerror(errno));
            return 0;
        }
        if (c == '\0') return 1;
        *p = c;
    }
}

unsigned char *hip_cache_read(const xhal_be_state_t *state, const char *gfx, const char *key,
                              size_t *out_size, char *path, size_t path_size) {
    if (!cache_dir(state)) return NULL;
    snprintf(path, path_size, "%s/%s-%s.co", state->options.cache, gfx, key);
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    char magic[8], stored_key[32];
    uint64_t size = 0;
    unsigned char *code = NULL;
    if (fread(magic, 1, 8, file) == 8 && memcmp(magic, CACHE_MAGIC, 8) == 0 &&
        fread(stored_key, 1, 32, file) == 32 && memcmp(stored_key, key, 32) == 0 &&
        fread(&size, sizeof size, 1, file) == 1 && size > 0 && size < ((uint64_t)1 << 31)) {
        code = malloc((size_t)size);
        if (code && fread(code, 1, (size_t)size, file) != size) {
            free(code);
            code = NULL;
        }
    }
    fclose(file);
    *out_size = (size_t)size;
    return code;
}

void hip_cache_write(const xhal_be_state_t *state, const char *gfx, const char *key,
                     const unsigned char *code, size_t size) {
    if (!cache_dir(state)) return;
    char path[700], temporary[720];
    snprintf(path, sizeof path, "%s/%s-%s.co", state->options.cache, gfx, key);
    snprintf(temporary, sizeof temporary, "%s.%ld.tmp", path, (long)getpid());
    FILE *file = fopen(temporary, "wb");
    uint64_t size64 = size;
    int ok = file && fwrite(CACHE_MAGIC, 1, 8, file) == 8 && fwrite(key, 1, 32, file) == 32 &&
             fwrite(&size64, sizeof size64, 1, file) == 1 && fwrite(code, 1, size, file) == size;
    if (file && fclose(file) != 0) ok = 0;
    if (ok && rename(temporary, path) == 0) {
        state->host->log(XHAL_LOG_INFO, "code object saved to %s", path);
        return;
    }
    remove(temporary);
    state->host->log(XHAL_LOG_INFO, "could not save the code object to %s (%s)", path,
                     strerror(errno));
}
