/*
 * What the HIP runtime stand-in (fake_libamdhip.c) records, and how a test reads it: the test
 * dlopens the same file (RTLD_NOLOAD) and calls these through dlsym.
 */
#ifndef XHAL_TEST_FAKE_HIP_H
#define XHAL_TEST_FAKE_HIP_H

#include <stddef.h>

#include "xk_params.h"

#define FAKE_HIP_MAX_LAUNCHES 64

typedef struct fake_hip_launch {
    char kernel[64];
    unsigned grid[3], block[3], shared;
    union {
        xk_gemm_params_t gemm;
        xk_attention_params_t attention;
        unsigned char bytes[512];
    } params;
} fake_hip_launch_t;

/* The launches since the last clear (at most FAKE_HIP_MAX_LAUNCHES). */
typedef const fake_hip_launch_t *(*fake_hip_launches_fn)(size_t *count);
typedef void (*fake_hip_clear_launches_fn)(void);
/* The gfx target of the last code object loaded, and how many were loaded. */
typedef const char *(*fake_hip_last_module_arch_fn)(int *loads);

#endif
