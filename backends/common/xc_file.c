/* See xc_file.h. */
#include "xc_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *xc_file_read(const char *path, size_t max_bytes, size_t *out_size, char *error,
                   size_t error_size) {
    *out_size = 0;
    /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait for one. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, error_size, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(error, error_size, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(error, error_size, "%s is not a regular file (a device, FIFO or folder)", path);
        close(fd);
        return NULL;
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        snprintf(error, error_size, "%s is larger than %zu bytes (%lld)", path, max_bytes,
                 (long long)st.st_size);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    char *data = malloc(size + 1);
    if (!data) {
        snprintf(error, error_size, "out of host memory reading %s (%zu bytes)", path, size);
        close(fd);
        return NULL;
    }
    /* The file may change under us: read what st_size promised, no more. */
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    close(fd);
    data[done] = '\0';
    *out_size = done;
    return data;
}

/* Flushes the folder holding `path`, so that a rename into it survives a crash. */
static void sync_parent(const char *path) {
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)fsync(fd); /* some file systems refuse fsync on a folder: nothing more can be done */
    close(fd);
}

static int write_all(int fd, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

int xc_file_replace(const char *path, const void *const *parts, const size_t *sizes, size_t count) {
    char temporary[PATH_MAX];
    int n = snprintf(temporary, sizeof temporary, "%s.%ld.XXXXXX", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof temporary) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(temporary);
    if (fd < 0) return -1;
    int failed = fchmod(fd, 0644) != 0;
    for (size_t i = 0; !failed && i < count; i++)
        failed = write_all(fd, parts[i], sizes[i]) != 0;
    if (!failed) failed = fsync(fd) != 0;
    int saved = errno;
    if (close(fd) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (!failed && rename(temporary, path) != 0) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        unlink(temporary);
        errno = saved ? saved : EIO;
        return -1;
    }
    sync_parent(path);
    return 0;
}

int xc_mkdirs(const char *dir) {
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s", dir);
    if (n <= 0 || (size_t)n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return -1;
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}
