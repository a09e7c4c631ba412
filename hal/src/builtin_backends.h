/* Backends linked into libxhal itself (the CPU backend); plugins are found at run time. */
#ifndef XHAL_BUILTIN_BACKENDS_H
#define XHAL_BUILTIN_BACKENDS_H

#include "xhal/xhal_backend.h"

/* The CPU backend's table (backends/cpu/cpu_backend.c). */
const xhal_backend_api_t *xhal_cpu_backend_entry(void);

#endif
