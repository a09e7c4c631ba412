/*
 * Which instruction set the CPU kernels use: the best the CPU has (CPUID, through
 * backends/common/host_cpu.c), lowered by XHAL_CPU_ISA (avx512, avx2 or generic), which the CPU
 * backend reads at init and passes to xk_isa_set_limit. That lets the tests run every kernel on
 * one machine and lets a user rule out a path they suspect.
 */
#ifndef XHAL_KERNELS_CPU_ISA_H
#define XHAL_KERNELS_CPU_ISA_H

#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal.h"

typedef enum xk_isa {
    XK_ISA_GENERIC = 0, /* portable C */
    XK_ISA_AVX2 = 1,    /* AVX2 + FMA + F16C */
    XK_ISA_AVX512 = 2,  /* AVX-512 F/BW/VL/DQ */
} xk_isa_t;

/* The ISA to use: the best the CPU has (detected once), at most the limit. Any thread. */
xk_isa_t xk_isa(void);

/* Sets the most the kernels may use (XK_ISA_AVX512: whatever the CPU has). Any thread. */
void xk_isa_set_limit(xk_isa_t isa);

/* 1 and *out (when out is not NULL) for "avx512", "avx2" or "generic", else 0 (NULL too). */
int xk_isa_parse(const char *name, xk_isa_t *out);

/* True when the CPU has AVX512_BF16 and the chosen ISA is AVX-512. */
int xk_isa_has_bf16_dot(void);

/*
 * dst[r * ld_dst + c] = src[r * src_stride + c] converted to f32 (f32, f16 or bf16 source),
 * r < rows, c < cols, with the chosen ISA's instructions (F16C for f16 on x86).
 */
void xk_convert_rows(float *dst, size_t ld_dst, const void *src, int64_t src_stride,
                     xhal_dtype_t type, size_t rows, size_t cols);

#endif
