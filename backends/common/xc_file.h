/*
 * Files the library reads and writes for itself (tuning files, devices.ini, the program cache,
 * the peaks cache), read and written one safe way.
 *
 * Reading refuses anything but a regular file: a FIFO would block the caller forever and
 * /dev/zero (or a link to it) never ends. It also refuses a file over the caller's cap, so a
 * wrong path cannot make the library allocate without bound.
 *
 * Writing replaces a file atomically and durably: the bytes go to a temporary file in the same
 * folder, which is flushed to disk (fsync), renamed over the target, and the folder is flushed
 * too. A reader therefore sees the old file or the new one, never half of one, even after a
 * crash or a power cut.
 */
#ifndef XHAL_BACKENDS_COMMON_XC_FILE_H
#define XHAL_BACKENDS_COMMON_XC_FILE_H

#include <stddef.h>

/*
 * Reads the regular file `path` (a link is followed) into a malloc'ed buffer with a NUL after
 * its bytes. *out_size gets the byte count. Returns NULL with `error` written ("<path> is not
 * a regular file", "... is larger than N bytes", or the system's reason) when it cannot.
 * Never blocks on a FIFO.
 */
char *xc_file_read(const char *path, size_t max_bytes, size_t *out_size, char *error,
                   size_t error_size);

/*
 * Replaces `path` with the concatenation of `count` byte ranges, atomically and durably (see
 * above). Returns 0, or -1 with errno set and nothing left behind.
 */
int xc_file_replace(const char *path, const void *const *parts, const size_t *sizes, size_t count);

/* Creates `dir` and its missing parents (mode 0777 less the umask). 0, or -1 with errno set. */
int xc_mkdirs(const char *dir);

#endif
