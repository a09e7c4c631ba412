/* Run-time choice of the CPU kernels' instruction set (see isa.h). */
#include "isa.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "attention_ukernel.h"
#include "host_cpu.h"

/* What the processor has, asked once (backends/common/host_cpu.c: CPUID and XGETBV). */
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static xk_isa_t best = XK_ISA_GENERIC;
static int bf16_dot;

/* The most a user allows (XHAL_CPU_ISA, set by the CPU backend at init); any thread may read. */
static atomic_int limit = XK_ISA_AVX512;

static void detect(void) {
    host_cpu_features_t f;
    host_cpu_detect(&f);
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq)
        best = XK_ISA_AVX512;
    else if (f.avx2 && f.fma && f.f16c)
        best = XK_ISA_AVX2;
    bf16_dot = f.avx512bf16;
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

void xk_isa_set_limit(xk_isa_t isa) {
    atomic_store_explicit(&limit, (int)isa, memory_order_relaxed);
}

xk_isa_t xk_isa(void) {
    pthread_once(&detect_once, detect);
    int cap = atomic_load_explicit(&limit, memory_order_relaxed);
    return (int)best < cap ? best : (xk_isa_t)cap;
}

int xk_isa_has_bf16_dot(void) {
    return xk_isa() == XK_ISA_AVX512 && bf16_dot;
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
