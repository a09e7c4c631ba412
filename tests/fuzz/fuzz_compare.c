/*
 * libFuzzer target: `xhal compare` reading a report.json it did not write. The input is the
 * report of one run, compared with a real report (XT_FIXTURE, a CPU run kept in the tests), so
 * that the JSON reader (conf_json.c) and everything that consumes what it read (matching cases
 * across runs, the tables, the bar chart) meet values of the wrong type, missing keys, huge and
 * non-finite numbers, deep nesting and broken escapes. Outputs go to a scratch folder.
 *
 * What is checked beyond the sanitizers: conf_compare returns 0 or -1 with a message, and never
 * hangs (libFuzzer's -timeout) or leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conform.h"

#ifndef XT_FIXTURE
#error "XT_FIXTURE must name a report.json of a real run"
#endif

static char out_dir[256];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(out_dir, sizeof out_dir, "%s/xhal-fuzz-compare-%ld", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    devnull = fopen("/dev/null", "w");
    return devnull ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The input as a file, without touching the disk: an anonymous memory file. */
    int fd = memfd_create("report.json", 0);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    const char *paths[2] = {path, XT_FIXTURE};
    char error[512] = "";
    int status = conf_compare(paths, 2, out_dir, devnull, error, sizeof error);
    close(fd);
    if (status != 0 && (status != -1 || !error[0])) abort();
    return 0;
}
