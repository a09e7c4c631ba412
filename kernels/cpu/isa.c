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
    xk_isa_t cap = XK_ISA_AVX512;
    xk_isa_parse(getenv("XHAL_CPU_ISA"), &cap); /* anything else: no cap (the device warns) */
    return best < cap ? best : cap;
}

int xk_isa_parse(const char *name, xk_isa_t *out) {
    static const struct {
        const char *name;
        xk_isa_t isa;
    } names[] = {{"avx512", XK_ISA_AVX512}, {"avx2", XK_ISA_AVX2}, {"generic", XK_ISA_GENERIC}};
    for (size_t i = 0; name && i < sizeof names / sizeof *names; i++) {
        if (strcmp(name, names[i].name) != 0) continue;
        if (out) *out = names[i].isa;
        return 1;
    }
    return 0;
}

/* Computed once. Every thread computes the same value, so the race is benign; the atomic makes
 * it defined (and quiet under ThreadSanitizer). */
static int cached = -1;

xk_isa_t xk_isa(void) {
    int isa = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (isa < 0) {
        isa = (int)detect();
        __atomic_store_n(&cached, isa, __ATOMIC_RELAXED);
    }
    return (xk_isa_t)isa;
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
