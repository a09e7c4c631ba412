/*
 * Peaks of an OpenCL CPU device (PoCL, Intel's CPU runtime), derived the way the CPU backend
 * derives the host's:
 *
 *   peak f32 FLOP/s = compute units x FLOP/cycle/core x measured GHz
 *   FLOP/cycle/core = 2 (an FMA is two FLOPs) x SIMD lanes x FMA pipes
 *
 * An OpenCL CPU device is the host's processor, and its compiler targets the host's ISA, so
 * CPUID says what the cores can do. The clock is measured (a chain of dependent adds), because
 * both /proc/cpuinfo and CL_DEVICE_MAX_CLOCK_FREQUENCY report the nominal clock: 2.6 GHz on the
 * machines this was written on, whose cores run at 3.6-4.1 GHz. It is measured at init, before
 * the ICD starts its own threads.
 *
 * The kernels convert f16 and bf16 to f32 (PoCL has no fp16 arithmetic), so those peaks equal
 * the f32 one. GPUs and accelerators get no derived peak: their datasheet figures belong in
 * hal/data/devices.ini.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ocl_peaks.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* f32 FLOP per cycle per core, as the CPU backend counts it (see backends/cpu/cpu_device.c). */
static unsigned host_flop_per_cycle(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return 0;
    unsigned max_leaf = eax;
    char vendor[13];
    memcpy(vendor + 0, &ebx, 4);
    memcpy(vendor + 4, &edx, 4);
    memcpy(vendor + 8, &ecx, 4);
    vendor[12] = '\0';
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    unsigned base_family = (eax >> 8) & 0xf;
    unsigned family = base_family == 0xf ? base_family + ((eax >> 20) & 0xff) : base_family;
    int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    uint64_t xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((uint64_t)hi << 32) | lo;
    }
    int os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
    int avx2 = 0, avx512f = 0;
    if (max_leaf >= 7 && __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        avx2 = os_avx && ((ebx >> 5) & 1);
        avx512f = os_avx512 && ((ebx >> 16) & 1);
    }
    if (avx512f) {
        /* AMD Zen 4 (family 0x19) runs a 512-bit FMA through its two 256-bit pipes. */
        int zen4 = strcmp(vendor, "AuthenticAMD") == 0 && family == 0x19;
        return 2 * 16 * (zen4 ? 1 : 2);
    }
    if (avx2 && avx && fma) return 2 * 8 * 2;
    return 2 * 4;
}
#else
static unsigned host_flop_per_cycle(void) {
    return 2 * 4; /* a guess for 128-bit SIMD with one FMA pipe, as the CPU backend makes */
}
#endif

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Eight dependent register adds per iteration, written out: one cycle each on any out-of-order
 * core. The empty asm statements keep the compiler from folding the chain; a loop around a
 * single add instead would add a taken branch per add, which halves the figure.
 */
#define OCL_CHAIN_ADD()                                                                            \
    do {                                                                                           \
        x += one;                                                                                  \
        __asm__ volatile("" : "+r"(x));                                                            \
    } while (0)

static uint64_t add_chain(uint64_t iterations) {
    uint64_t x = 0, one = 1;
    __asm__ volatile("" : "+r"(one));
    for (uint64_t i = 0; i < iterations; i++) {
        OCL_CHAIN_ADD();
        OCL_CHAIN_ADD();
        OCL_CHAIN_ADD();
        OCL_CHAIN_ADD();
        OCL_CHAIN_ADD();
        OCL_CHAIN_ADD();
        OCL_CHAIN_ADD();
        OCL_CHAIN_ADD();
    }
    return x;
}

static double time_chain(uint64_t iterations) {
    double start = now_seconds();
    volatile uint64_t sink = add_chain(iterations);
    (void)sink;
    return now_seconds() - start;
}

/* The fastest of 5 runs of ~1 ms each: the least disturbed by other processes. */
double ocl_measure_host_ghz(void) {
    uint64_t iterations = 1u << 12;
    double seconds;
    while ((seconds = time_chain(iterations)) < 0.25e-3 && iterations < ((uint64_t)1 << 32))
        iterations *= 2;
    if (seconds > 0) iterations = (uint64_t)((double)iterations * (1e-3 / seconds)) + 1;
    double best = 0.0;
    for (int run = 0; run < 5; run++) {
        seconds = time_chain(iterations);
        double ghz = seconds > 0 ? (double)(iterations * 8) / seconds * 1e-9 : 0;
        if (ghz > best) best = ghz;
    }
    /* Outside 0.2-10 GHz the measurement was disturbed (valgrind, a debugger). */
    return best >= 0.2 && best <= 10.0 ? best : 0.0;
}

void ocl_cpu_peaks(xhal_device_info_t *info, double ghz) {
    /* Without a clock, keep the driver's nominal one and no peak rather than a wrong one. */
    if (ghz <= 0) {
        snprintf(info->peak_source, sizeof(info->peak_source),
                 "unknown: the host clock could not be measured");
        return;
    }
    unsigned flop_per_cycle = host_flop_per_cycle();
    double f32 = (double)info->compute_units * flop_per_cycle * ghz * 1e9;
    info->clock_ghz = ghz;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        info->peak_flops[t] = f32;
    snprintf(info->peak_source, sizeof(info->peak_source),
             "derived: %u compute units x %u FLOP/cycle x %.2f GHz (measured host clock)",
             info->compute_units, flop_per_cycle, ghz);
}
