/* Run-time choice of the CPU kernels' instruction set (see isa.h). */
#include "isa.h"

#include <stdlib.h>
#include <string.h>

#include "attention_ukernel.h"

static xk_isa_t detect(void) {
    xk_isa_t best = XK_ISA_GENERIC;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        best = XK_ISA_AVX512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        best = XK_ISA_AVX2;
#endif
    const char *wanted = getenv("XHAL_CPU_ISA");
    xk_isa_t cap = XK_ISA_AVX512;
    if (wanted && !strcmp(wanted, "generic"))
        cap = XK_ISA_GENERIC;
    else if (wanted && !strcmp(wanted, "avx2"))
        cap = XK_ISA_AVX2;
    return best < cap ? best : cap;
}

/* Computed once; a benign race (every thread computes the same value). */
static int cached = -1;

xk_isa_t xk_isa(void) {
    if (cached < 0) cached = (int)detect();
    return (xk_isa_t)cached;
}

int xk_isa_has_bf16_dot(void) {
#if defined(__x86_64__)
    return xk_isa() == XK_ISA_AVX512 && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

void xk_convert_rows(float *dst, size_t ld_dst, const void *src, int64_t src_stride,
                     xhal_dtype_t type, size_t rows, size_t cols) {
    /* The attention tables carry the per-ISA conversion (F16C, a widening shift for bf16). */
    xk_isa_t isa = xk_isa();
    const xk_att_ukernel_t *table = &xk_att_ukernel_generic;
    if (isa >= XK_ISA_AVX512 && xk_att_ukernel_avx512.convert)
        table = &xk_att_ukernel_avx512;
    else if (isa >= XK_ISA_AVX2 && xk_att_ukernel_avx2.convert)
        table = &xk_att_ukernel_avx2;
    table->convert(dst, ld_dst, src, src_stride, type, rows, cols);
}
