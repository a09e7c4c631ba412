/*
 * Which instruction set the CPU kernels use: the best the CPU has (CPUID), lowered by the
 * environment variable XHAL_CPU_ISA (avx512, avx2 or generic), which lets the tests run every
 * kernel on one machine and lets a user rule out a path they suspect.
 */
#ifndef XHAL_KERNELS_CPU_ISA_H
#define XHAL_KERNELS_CPU_ISA_H

typedef enum xk_isa {
    XK_ISA_GENERIC = 0, /* portable C */
    XK_ISA_AVX2 = 1,    /* AVX2 + FMA + F16C */
    XK_ISA_AVX512 = 2,  /* AVX-512 F/BW/VL/DQ */
} xk_isa_t;

/* The ISA to use (computed once). */
xk_isa_t xk_isa(void);

/* True when the CPU has AVX512_BF16 and the chosen ISA is AVX-512. */
int xk_isa_has_bf16_dot(void);

#endif
