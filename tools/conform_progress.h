/*
 * The progress line `xhal conform` and `xhal peak` keep on stderr during long runs: rewritten in
 * place on a terminal, and at most one line every few seconds (plus one per phase) in a log.
 */
#ifndef XHAL_TOOL_CONFORM_PROGRESS_H
#define XHAL_TOOL_CONFORM_PROGRESS_H

#include <stddef.h>

typedef struct conform_progress {
    int tty;
    int quiet;
    double last;    /* when the last line was printed (non-terminal) */
    char phase[32]; /* the phase of the last line */
    size_t width;   /* characters of the line on the terminal, to clear it */
} conform_progress_t;

void conform_progress_init(conform_progress_t *p, int quiet);
/* A conf_progress_fn: context is a conform_progress_t. */
void conform_progress_report(void *context, const char *device, const char *phase, size_t done,
                             size_t total, const char *what);
/* Clears the terminal line before other output. */
void conform_progress_clear(conform_progress_t *p);

#endif
