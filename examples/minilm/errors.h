/* Error sentences of examples/minilm: formatted into the caller's buffer. */
#ifndef MINILM_ERRORS_H
#define MINILM_ERRORS_H

#include <stdarg.h>
#include <stddef.h>

/** Writes the message into error[0..error_size) (cut to fit) and returns -1. */
int minilm_say(char *error, size_t error_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/** The same with a va_list. */
int minilm_vsay(char *error, size_t error_size, const char *format, va_list args)
    __attribute__((format(printf, 3, 0)));

#endif /* MINILM_ERRORS_H */
