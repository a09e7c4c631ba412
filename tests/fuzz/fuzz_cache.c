/*
 * libFuzzer target: the program cache's entry reader (backends/common/xc_cache.c). An entry is a
 * file anyone with access to the user's cache folder can replace, a disk can damage and a crash
 * could once tear; what the reader accepts goes straight to a driver (clCreateProgramWithBinary),
 * which may crash on bad bytes (issue 14, defect 1). Each input is used twice:
 *   - as the bytes of an entry file: xc_cache_entry_check must accept it exactly when its magic,
 *     key, size and checksum are right (the layout of xc_cache.h, checked here independently),
 *     give the payload's place inside the input, and refuse it with a reason otherwise;
 *     xc_cache_load of the same file must agree, return the payload, and remove a refused entry;
 *   - as a payload: what xc_cache_store writes is accepted, loads back byte for byte, and is
 *     refused after any one change the input chooses (a byte changed, cut short, grown).
 * The sanitizers check that no byte outside the input or the file is read.
 *
 * Seeds: `XHAL_FUZZ_CACHE_SEEDS=<folder> fuzz_cache` writes entries made by the writer (and cut
 * or damaged copies) there and exits (tests/fuzz/make_seeds.py runs it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_host.h"
#include "xc_cache.h"
#include "xc_file.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[512], entry_path[4096];
static char key[XC_CACHE_KEY_CHARS + 1], other_key[XC_CACHE_KEY_CHARS + 1];
static xc_cache_t cache;

static void remove_scratch(void) {
    unlink(entry_path);
    rmdir(scratch);
}

static uint64_t u64_at(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The layout of xc_cache.h, read here without xc_cache_entry_check. */
static int well_formed(const uint8_t *bytes, size_t size, const char *k) {
    return size > XC_CACHE_HEADER_BYTES && memcmp(bytes, "XHALCB02", 8) == 0 &&
           memcmp(bytes + 8, k, XC_CACHE_KEY_CHARS) == 0 &&
           u64_at(bytes + 40) == size - XC_CACHE_HEADER_BYTES &&
           u64_at(bytes + 48) ==
               xc_hash64(bytes + XC_CACHE_HEADER_BYTES, size - XC_CACHE_HEADER_BYTES, 0);
}

static void write_file(const char *path, const uint8_t *bytes, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) fuzz_fail("cannot write %s", path);
    if (size && fwrite(bytes, 1, size, f) != size) fuzz_fail("cannot write %s", path);
    fclose(f);
}

/* The input as an entry file. */
static void check_entry(const uint8_t *bytes, size_t size) {
    int expected = well_formed(bytes, size, key);
    size_t offset = 0, length = 0;
    char why[512] = "";
    int status = xc_cache_entry_check(bytes, size, key, &offset, &length, why, sizeof why);
    if (status != (expected ? 0 : -1))
        fuzz_fail("an entry %s was %s", expected ? "well formed" : "not well formed",
                  status == 0 ? "accepted" : "refused");
    if (status == 0 && (offset != XC_CACHE_HEADER_BYTES || length != size - offset))
        fuzz_fail("an accepted entry's payload is at %zu+%zu of %zu bytes", offset, length, size);
    if (status != 0 && !why[0]) fuzz_fail("a refusal without a reason");
    if ((xc_cache_entry_check(bytes, size, other_key, &offset, &length, why, sizeof why) == 0) !=
        well_formed(bytes, size, other_key))
        fuzz_fail("an entry was accepted for a key its header does not name");

    write_file(entry_path, bytes, size);
    fuzz_warnings = 0;
    size_t loaded_size = 99;
    unsigned char *loaded = xc_cache_load(&cache, "fuzz", key, &loaded_size);
    if (!expected) {
        if (loaded || loaded_size != 0) fuzz_fail("xc_cache_load returned a refused entry");
        if (fuzz_warnings != 1 || !strstr(fuzz_log_line, "refused"))
            fuzz_fail("a refused entry was not warned about: \"%s\"", fuzz_log_line);
        if (access(entry_path, F_OK) == 0) fuzz_fail("a refused entry was left in the cache");
        return;
    }
    if (!loaded || loaded_size != size - XC_CACHE_HEADER_BYTES ||
        memcmp(loaded, bytes + XC_CACHE_HEADER_BYTES, loaded_size) != 0)
        fuzz_fail("xc_cache_load did not return an accepted entry's payload");
    free(loaded);
}

/* The input as a payload: stored, read back, then damaged as its first bytes say. */
static void check_writer(const uint8_t *payload, size_t size) {
    int stored = xc_cache_store(&cache, "fuzz", key, payload, size);
    if (size == 0) { /* an empty payload is not an entry the reader would accept */
        if (stored == 0) fuzz_fail("an empty payload was stored");
        return;
    }
    if (stored != 0) fuzz_fail("xc_cache_store failed: %s", fuzz_log_line);
    char error[512];
    size_t file_size = 0;
    uint8_t *file =
        (uint8_t *)xc_file_read(entry_path, XC_CACHE_MAX_BYTES, &file_size, error, sizeof error);
    if (!file) fuzz_fail("the stored entry does not read: %s", error);
    if (file_size != XC_CACHE_HEADER_BYTES + size || !well_formed(file, file_size, key) ||
        memcmp(file + XC_CACHE_HEADER_BYTES, payload, size) != 0)
        fuzz_fail("the stored entry is not the payload's (%zu bytes for %zu)", file_size, size);
    size_t loaded_size = 0;
    unsigned char *loaded = xc_cache_load(&cache, "fuzz", key, &loaded_size);
    if (!loaded || loaded_size != size || memcmp(loaded, payload, size) != 0)
        fuzz_fail("a stored payload of %zu bytes did not load back", size);
    free(loaded);

    /* One change: bytes 0-1 choose where, byte 2 what (0 a byte, 1 cut there, 2 grown). */
    size_t where = ((size_t)payload[0] | (size > 1 ? (size_t)payload[1] << 8 : 0)) % file_size;
    int what = size > 2 ? payload[2] % 3 : 0;
    size_t damaged_size = what == 1 ? where : what == 2 ? file_size + 1 + where % 8 : file_size;
    uint8_t *damaged = calloc(damaged_size ? damaged_size : 1, 1);
    if (!damaged) fuzz_fail("out of memory");
    memcpy(damaged, file, damaged_size < file_size ? damaged_size : file_size);
    if (what == 0) damaged[where] ^= (uint8_t)(size > 3 ? payload[3] | 1 : 0x10);
    free(file);
    size_t offset, length;
    if (xc_cache_entry_check(damaged, damaged_size, key, &offset, &length, error, sizeof error) ==
        0)
        fuzz_fail("a damaged entry (change %d at %zu) was accepted", what, where);
    check_entry(damaged, damaged_size); /* and xc_cache_load refuses and removes it */
    free(damaged);
}

static void write_seeds(const char *dir) {
    static const char *const names[] = {"one-byte", "text", "binary", "large"};
    static const size_t sizes[] = {1, 40, 300, 3000};
    unsigned char payload[3000];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)(i * 131 + (i >> 3));
    memcpy(payload,
           "\x7f"
           "ELF kernel binary",
           18);
    for (size_t s = 0; s < 4; s++) {
        if (xc_cache_store(&cache, "fuzz", key, payload, sizes[s]) != 0) exit(1);
        char error[512], path[4200];
        size_t size = 0;
        uint8_t *bytes =
            (uint8_t *)xc_file_read(entry_path, XC_CACHE_MAX_BYTES, &size, error, sizeof error);
        if (!bytes) exit(1);
        snprintf(path, sizeof path, "%s/entry-%s", dir, names[s]);
        write_file(path, bytes, size);
        if (s == 2) { /* cut in the header, after it, one byte short; a damaged checksum */
            snprintf(path, sizeof path, "%s/cut-header", dir);
            write_file(path, bytes, 30);
            snprintf(path, sizeof path, "%s/cut-header-only", dir);
            write_file(path, bytes, XC_CACHE_HEADER_BYTES);
            snprintf(path, sizeof path, "%s/cut-short", dir);
            write_file(path, bytes, size - 1);
            bytes[50] ^= 1;
            snprintf(path, sizeof path, "%s/damaged-checksum", dir);
            write_file(path, bytes, size);
        }
        free(bytes);
    }
    exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (fuzz_scratch_dir("cache", scratch, sizeof scratch) != 0) return 1;
    atexit(remove_scratch);
    fuzz_option_name = "XHAL_FUZZ_CACHE";
    fuzz_option_value = scratch;
    if (xc_cache_open(&cache, &fuzz_host, "fuzz") != 1) fuzz_fail("no cache in %s", scratch);
    const char *parts[] = {"fuzz_cache", "device", "options", "source"};
    xc_cache_key(parts, 4, key);
    xc_cache_key(parts, 3, other_key);
    xc_cache_path(&cache, "fuzz", key, entry_path, sizeof entry_path);
    const char *seeds = getenv("XHAL_FUZZ_CACHE_SEEDS");
    if (seeds && *seeds) write_seeds(seeds);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_entry(data, size);
    check_writer(data, size);
    return 0;
}
