/*
 * The host processor as backends that run on it see it: what CPUID says it can do, how many
 * f32 FLOPs a core does per cycle, and its clock as measured under load. The CPU backend derives
 * its peaks from these; so does the OpenCL backend for a CPU device (PoCL), which is the same
 * processor; the CPU kernels choose their instruction set from it (kernels/cpu/isa.c), and the
 * conformance suite its FMA loops. The one place xhal asks the processor what it can do.
 */
#ifndef XHAL_BACKENDS_COMMON_HOST_CPU_H
#define XHAL_BACKENDS_COMMON_HOST_CPU_H

/* What the processor can do, from CPUID (all zero off x86). */
typedef struct host_cpu_features {
    char vendor_id[13]; /* "GenuineIntel", "AuthenticAMD"; "" off x86 */
    unsigned family;    /* CPUID display family: 0x19 is AMD Zen 3/Zen 4 */
    int fma, f16c, avx2, avx512f, avx512bw, avx512vl, avx512dq, avx512bf16, avx512fp16;
} host_cpu_features_t;

/* Fills *out from CPUID, counting a feature only when the OS saves its registers. */
void host_cpu_detect(host_cpu_features_t *out);

/*
 * f32 FLOP per cycle per core: 2 (FMA) x lanes x FMA pipes. AVX-512: 16 lanes; most cores with
 * it have two 512-bit FMA pipes, but AMD Zen 4 (family 0x19 with AVX-512) runs a 512-bit FMA
 * through its two 256-bit pipes, so it does one per cycle. AVX2 + FMA: 8 lanes x 2 pipes.
 * Otherwise a guess for 128-bit SIMD (SSE, NEON) with one FMA pipe: 2 x 4.
 */
unsigned host_cpu_f32_flop_per_cycle(const host_cpu_features_t *f);

/*
 * Cycles per second of the calling thread's core under load (turbo included), from a chain of
 * dependent adds; about 6 ms. Returns 0 when the result is outside 0.2-10 GHz, which means the
 * measurement was disturbed (a debugger, valgrind).
 */
double host_cpu_measure_ghz(void);

#endif
