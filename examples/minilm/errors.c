/* Error sentences of examples/minilm (see errors.h). */
#include "errors.h"

#include <stdio.h>

int minilm_vsay(char *error, size_t error_size, const char *format, va_list args) {
    if (error && error_size) vsnprintf(error, error_size, format, args);
    return -1;
}

int minilm_say(char *error, size_t error_size, const char *format, ...) {
    va_list args;
    va_start(args, format);
    minilm_vsay(error, error_size, format, args);
    va_end(args);
    return -1;
}
