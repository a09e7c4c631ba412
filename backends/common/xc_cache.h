/*
 * The on-disk cache of compiled device code (OpenCL program binaries today; HIP code objects
 * and Level Zero modules later): building from source takes seconds, loading a cached binary
 * milliseconds.
 *
 * An entry is one file, <dir>/<name>-<key>.bin, where the key is a hash of everything that
 * changes the binary (device, driver, options, source). Its layout:
 *
 *   "XHALCB02"  8 bytes    magic and layout version
 *   key        32 bytes    the key, in hex (the file name says it too; both must agree)
 *   size        8 bytes    payload bytes (host order)
 *   checksum    8 bytes    xc_hash64 of the payload
 *   payload    size bytes  what the runtime gave (a program binary)
 *
 * Anything else (a short file, another magic or key, a size that is not the file's, a checksum
 * that does not match) is not handed to the runtime: it is logged at warn and removed, and the
 * caller builds from source. A damaged binary given to a driver can crash the process (PoCL
 * asserts), and would then crash every later one. Entries are written atomically and durably
 * (xc_file_replace), so concurrent builders and a crash mid-write leave no torn entry.
 *
 * XHAL_<BACKEND>_CACHE=0 turns the cache off; XHAL_<BACKEND>_CACHE=/dir puts it in /dir;
 * otherwise it is <user cache>/xhal/<backend>/ (xc_user_cache_dir).
 */
#ifndef XHAL_BACKENDS_COMMON_XC_CACHE_H
#define XHAL_BACKENDS_COMMON_XC_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal_backend.h"

#define XC_CACHE_KEY_CHARS 32
#define XC_CACHE_HEADER_BYTES 56
#define XC_CACHE_MAX_BYTES ((size_t)1 << 30) /* larger files are not read */

typedef struct xc_cache {
    const xhal_host_api_t *host;
    char dir[3072]; /* "" when the cache is off */
} xc_cache_t;

/* A 64-bit hash of `size` bytes (not cryptographic: it finds damage, not attacks). */
uint64_t xc_hash64(const void *data, size_t size, uint64_t seed);

/* The key of `count` strings (each NUL-terminated; the NUL separates them): 32 hex digits. */
void xc_cache_key(const char *const *parts, size_t count, char out[XC_CACHE_KEY_CHARS + 1]);

/*
 * Opens the cache of `backend` (lower case, "opencl"; the variable is XHAL_OPENCL_CACHE),
 * creating its folder. Returns 1 when the cache is on, 0 when it is off or its folder cannot be
 * made (logged at info).
 */
int xc_cache_open(xc_cache_t *cache, const xhal_host_api_t *host, const char *backend);

/*
 * Checks the bytes of an entry against `key`. 0 with the payload's place in *out_payload and
 * *out_size, or -1 with `why` written. Pure: reads only [bytes, bytes + size). The entry a
 * fuzzer drives.
 */
int xc_cache_entry_check(const unsigned char *bytes, size_t size, const char *key,
                         size_t *out_payload, size_t *out_size, char *why, size_t why_size);

/*
 * The payload of entry (`name`, `key`) in a malloc'ed buffer, or NULL when there is none or it
 * was refused (then removed, with a warning).
 */
unsigned char *xc_cache_load(const xc_cache_t *cache, const char *name, const char *key,
                             size_t *out_size);

/* Stores an entry of 1 byte or more; 0, or -1 (logged at info, nothing left behind). */
int xc_cache_store(const xc_cache_t *cache, const char *name, const char *key, const void *payload,
                   size_t size);

/* Removes an entry the runtime refused, so that the next process does not try it again. */
void xc_cache_discard(const xc_cache_t *cache, const char *name, const char *key);

/* The path of an entry (for log lines). */
void xc_cache_path(const xc_cache_t *cache, const char *name, const char *key, char *out,
                   size_t size);

#endif
