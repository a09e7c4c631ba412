/* See host_cpu.h. */
#include "host_cpu.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HOST_CPU_X86 1
#else
#define HOST_CPU_X86 0
#endif

void host_cpu_detect(host_cpu_features_t *f) {
    memset(f, 0, sizeof(*f));
#if HOST_CPU_X86
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return;
    unsigned max_leaf = eax;
    memcpy(f->vendor_id + 0, &ebx, 4); /* the vendor string is EBX, EDX, ECX */
    memcpy(f->vendor_id + 4, &edx, 4);
    memcpy(f->vendor_id + 8, &ecx, 4);
    f->vendor_id[12] = '\0';

    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return;
    unsigned base_family = (eax >> 8) & 0xf;
    f->family = base_family == 0xf ? base_family + ((eax >> 20) & 0xff) : base_family;
    int fma = (ecx >> 12) & 1;
    int osxsave = (ecx >> 27) & 1;
    int avx = (ecx >> 28) & 1;

    /*
     * A CPU feature is usable only when the OS saves its registers on a context switch: XCR0
     * bits 1-2 for the 256-bit YMM state, bits 5-7 for the AVX-512 opmask and ZMM state.
     */
    uint64_t xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((uint64_t)hi << 32) | lo;
    }
    int os_avx = (xcr0 & 0x6) == 0x6;
    int os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;

    f->fma = os_avx && avx && fma;
    f->f16c = os_avx && avx && ((ecx >> 29) & 1);
    if (max_leaf >= 7 && __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        unsigned max_subleaf = eax;
        f->avx2 = os_avx && ((ebx >> 5) & 1);
        f->avx512f = os_avx512 && ((ebx >> 16) & 1);
        f->avx512dq = f->avx512f && ((ebx >> 17) & 1);
        f->avx512bw = f->avx512f && ((ebx >> 30) & 1);
        f->avx512vl = f->avx512f && ((ebx >> 31) & 1);
        f->avx512fp16 = f->avx512f && ((edx >> 23) & 1);
        if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx))
            f->avx512bf16 = f->avx512f && ((eax >> 5) & 1);
    }
#endif
}

unsigned host_cpu_f32_flop_per_cycle(const host_cpu_features_t *f) {
    if (f->avx512f) {
        int zen4 = strcmp(f->vendor_id, "AuthenticAMD") == 0 && f->family == 0x19;
        return 2 * 16 * (zen4 ? 1 : 2);
    }
    if (f->avx2 && f->fma) return 2 * 8 * 2;
    return 2 * 4;
}

/* ---- The clock ---- */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Runs 8 * iterations integer adds, each depending on the one before, so they take one cycle
 * each on any out-of-order core (the loop counter runs beside them in other units). The empty
 * asm statements keep `x` in a register and make its value unknown to the compiler, which can
 * therefore neither fold the chain into one multiply nor drop it. `one` is hidden the same way
 * so that the adds are register + register: some cores execute add-immediate chains at
 * rename, several per cycle. Written out rather than looped, since a taken branch per add would
 * halve the figure.
 */
#define ADDS_PER_ITERATION 8
#define CHAIN_ADD()                                                                                \
    do {                                                                                           \
        x += one;                                                                                  \
        __asm__ volatile("" : "+r"(x));                                                            \
    } while (0)

static uint64_t add_chain(uint64_t iterations) {
    uint64_t x = 0, one = 1;
    __asm__ volatile("" : "+r"(one));
    for (uint64_t i = 0; i < iterations; i++) {
        CHAIN_ADD();
        CHAIN_ADD();
        CHAIN_ADD();
        CHAIN_ADD();
        CHAIN_ADD();
        CHAIN_ADD();
        CHAIN_ADD();
        CHAIN_ADD();
    }
    return x;
}

/* Runs the chain `iterations` times; returns the seconds it took. */
static double time_chain(uint64_t iterations) {
    double start = now_seconds();
    volatile uint64_t sink = add_chain(iterations); /* used, so the chain is not dead code */
    (void)sink;
    return now_seconds() - start;
}

/*
 * Grows the chain until one run takes 0.25 ms (which also wakes the core from its idle clock),
 * scales it to ~1 ms (long against the timer's resolution, short enough to fit between two
 * interrupts or hypervisor preemptions), then keeps the fastest of 5 runs: the least disturbed.
 */
double host_cpu_measure_ghz(void) {
    uint64_t iterations = 1u << 12;
    double seconds;
    while ((seconds = time_chain(iterations)) < 0.25e-3 && iterations < ((uint64_t)1 << 32))
        iterations *= 2;
    if (seconds > 0) iterations = (uint64_t)((double)iterations * (1e-3 / seconds)) + 1;

    double best = 0.0;
    for (int run = 0; run < 5; run++) {
        seconds = time_chain(iterations);
        double ghz = seconds > 0 ? (double)(iterations * ADDS_PER_ITERATION) / seconds * 1e-9 : 0;
        if (ghz > best) best = ghz;
    }
    return best >= 0.2 && best <= 10.0 ? best : 0.0;
}
