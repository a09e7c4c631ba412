#include "conform_progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A line in a log at most this often (seconds), besides the first of each phase. */
#define LOG_INTERVAL 5.0
#define LINE_MAX_WIDTH 110

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void conform_progress_init(conform_progress_t *p, int quiet) {
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->quiet = quiet;
}

void conform_progress_clear(conform_progress_t *p) {
    if (!p->tty || !p->width) return;
    fprintf(stderr, "\r%*s\r", (int)p->width, "");
    fflush(stderr);
    p->width = 0;
}

void conform_progress_report(void *context, const char *device, const char *phase, size_t done,
                             size_t total, const char *what) {
    conform_progress_t *p = context;
    if (p->quiet) return;
    char line[LINE_MAX_WIDTH + 1];
    snprintf(line, sizeof line, "xhal: %s %s %zu/%zu %s", device, phase, done, total,
             done == total ? "" : what);
    if (p->tty) {
        size_t width = strlen(line);
        /* Spaces over the rest of a longer previous line. */
        fprintf(stderr, "\r%s%*s", line, (int)(p->width > width ? p->width - width : 0), "");
        fflush(stderr);
        p->width = width;
        if (done == total) conform_progress_clear(p);
        return;
    }
    double t = now();
    int new_phase = strcmp(p->phase, phase) != 0;
    if (!new_phase && done != total && t - p->last < LOG_INTERVAL) return;
    snprintf(p->phase, sizeof p->phase, "%s", phase);
    p->last = t;
    fprintf(stderr, "%s\n", line);
}
