/* See xc_cache.h. */
#include "xc_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xc_file.h"
#include "xc_options.h"
#include "xc_paths.h"

#define MAGIC "XHALCB02"

static uint64_t rotl(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

/* The finaliser of MurmurHash3: every input bit reaches every output bit. */
static uint64_t fmix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

uint64_t xc_hash64(const void *data, size_t size, uint64_t seed) {
    const unsigned char *p = data;
    uint64_t h = seed ^ ((uint64_t)size * 0x9e3779b97f4a7c15ull);
    for (; size >= 8; p += 8, size -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h ^= rotl(w * 0x87c37b91114253d5ull, 31) * 0x4cf5ad432745937full;
        h = rotl(h, 27) * 5 + 0x52dce729;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, size);
    h ^= rotl(tail * 0x87c37b91114253d5ull, 31) * 0x4cf5ad432745937full;
    return fmix(h);
}

void xc_cache_key(const char *const *parts, size_t count, char out[XC_CACHE_KEY_CHARS + 1]) {
    uint64_t a = 0x243f6a8885a308d3ull, b = 0x13198a2e03707344ull;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(parts[i]) + 1; /* the NUL separates "ab","c" from "a","bc" */
        a = xc_hash64(parts[i], n, a);
        b = xc_hash64(parts[i], n, b ^ 0xa4093822299f31d0ull);
    }
    snprintf(out, XC_CACHE_KEY_CHARS + 1, "%016llx%016llx", (unsigned long long)a,
             (unsigned long long)b);
}

int xc_cache_open(xc_cache_t *cache, const xhal_host_api_t *host, const char *backend) {
    memset(cache, 0, sizeof *cache);
    cache->host = host;
    char variable[64];
    xc_option_name(variable, sizeof variable, backend, "CACHE");
    const char *setting = xhal_host_option(host, variable);
    if (setting && strcmp(setting, "0") == 0) return 0;
    char dir[sizeof cache->dir];
    int written;
    if (setting && setting[0] == '/') {
        written = snprintf(dir, sizeof dir, "%s", setting);
    } else {
        char base[sizeof cache->dir - 64];
        if (xc_user_cache_dir(xc_host_lookup(host), base, sizeof base) != 0) return 0;
        written = snprintf(dir, sizeof dir, "%s/%s", base, backend);
    }
    if (written <= 0 || (size_t)written >= sizeof dir) return 0;
    if (xc_mkdirs(dir) != 0) {
        host->log(XHAL_LOG_INFO, "no %s cache: cannot create %s (%s)", backend, dir,
                  strerror(errno));
        return 0;
    }
    memcpy(cache->dir, dir, sizeof dir);
    return 1;
}

void xc_cache_path(const xc_cache_t *cache, const char *name, const char *key, char *out,
                   size_t size) {
    snprintf(out, size, "%s/%s-%s.bin", cache->dir, name, key);
}

int xc_cache_entry_check(const unsigned char *bytes, size_t size, const char *key,
                         size_t *out_payload, size_t *out_size, char *why, size_t why_size) {
    if (size < XC_CACHE_HEADER_BYTES || memcmp(bytes, MAGIC, 8) != 0) {
        snprintf(why, why_size, "not a cache entry of this xhal (no %s header)", MAGIC);
        return -1;
    }
    if (strlen(key) != XC_CACHE_KEY_CHARS || memcmp(bytes + 8, key, XC_CACHE_KEY_CHARS) != 0) {
        snprintf(why, why_size, "its header names another key");
        return -1;
    }
    uint64_t payload_size, checksum;
    memcpy(&payload_size, bytes + 40, 8);
    memcpy(&checksum, bytes + 48, 8);
    if (payload_size == 0 || payload_size != size - XC_CACHE_HEADER_BYTES) {
        snprintf(why, why_size, "its header says %llu bytes and it holds %zu",
                 (unsigned long long)payload_size, size - XC_CACHE_HEADER_BYTES);
        return -1;
    }
    uint64_t actual = xc_hash64(bytes + XC_CACHE_HEADER_BYTES, (size_t)payload_size, 0);
    if (actual != checksum) {
        snprintf(why, why_size, "its checksum does not match (%016llx, stored %016llx): damaged",
                 (unsigned long long)actual, (unsigned long long)checksum);
        return -1;
    }
    *out_payload = XC_CACHE_HEADER_BYTES;
    *out_size = (size_t)payload_size;
    return 0;
}

unsigned char *xc_cache_load(const xc_cache_t *cache, const char *name, const char *key,
                             size_t *out_size) {
    *out_size = 0;
    if (!cache->dir[0]) return NULL;
    char path[sizeof cache->dir + 128], error[512];
    xc_cache_path(cache, name, key, path, sizeof path);
    if (access(path, F_OK) != 0) return NULL; /* a miss */
    size_t size = 0;
    unsigned char *bytes =
        (unsigned char *)xc_file_read(path, XC_CACHE_MAX_BYTES, &size, error, sizeof error);
    size_t offset = 0, payload = 0;
    if (bytes &&
        xc_cache_entry_check(bytes, size, key, &offset, &payload, error, sizeof error) == 0) {
        memmove(bytes, bytes + offset, payload);
        *out_size = payload;
        return bytes;
    }
    free(bytes);
    cache->host->log(XHAL_LOG_WARN, "cache entry %s refused: %s; removing it", path, error);
    unlink(path);
    return NULL;
}

int xc_cache_store(const xc_cache_t *cache, const char *name, const char *key, const void *payload,
                   size_t size) {
    if (!cache->dir[0]) return -1;
    char path[sizeof cache->dir + 128];
    xc_cache_path(cache, name, key, path, sizeof path);
    if (size == 0) { /* the reader refuses (and removes) an empty payload: do not write one */
        cache->host->log(XHAL_LOG_INFO, "not saving %s: an empty payload", path);
        return -1;
    }
    unsigned char header[XC_CACHE_HEADER_BYTES];
    uint64_t size64 = size, checksum = xc_hash64(payload, size, 0);
    memcpy(header, MAGIC, 8);
    memcpy(header + 8, key, XC_CACHE_KEY_CHARS);
    memcpy(header + 40, &size64, 8);
    memcpy(header + 48, &checksum, 8);
    const void *parts[2] = {header, payload};
    size_t sizes[2] = {sizeof header, size};
    if (xc_file_replace(path, parts, sizes, 2) == 0) return 0;
    cache->host->log(XHAL_LOG_INFO, "could not save %s (%s)", path, strerror(errno));
    return -1;
}

void xc_cache_discard(const xc_cache_t *cache, const char *name, const char *key) {
    if (!cache->dir[0]) return;
    char path[sizeof cache->dir + 128];
    xc_cache_path(cache, name, key, path, sizeof path);
    unlink(path);
}
