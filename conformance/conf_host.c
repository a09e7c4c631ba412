/*
 * The CPU backend's "simple kernel" for FLOP/s, run on the host threads the backend itself would
 * use (its memory bandwidth is STREAM's, conf_stream.c): an FMA loop on as many host threads as
 * the backend uses, with enough independent accumulators to keep every FMA pipe busy. It
 * measures what the cores can do, where a GEMM measures what a kernel gets out of them; `xhal peak`
 * reports both.
 *
 * f32: vfmadd on 512-bit (AVX-512F) or 256-bit (AVX2+FMA) registers. bf16 with f32 accumulation:
 * vdpbf16ps (AVX512-BF16), two products per f32 lane. f16 with f32 accumulation has no x86
 * instruction before AVX10.2, so a CPU converts and runs the f32 FMA: that rate is f16's ceiling.
 * Each function is compiled for its ISA through a target attribute and called only after CPUID
 * says the ISA is there, so the library runs on any x86-64 (and under valgrind, whose virtual CPU
 * has no AVX-512: the AVX2 loop runs there).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "host_cpu.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CONF_X86 1
#else
#define CONF_X86 0
#endif

#define CHAINS 12 /* independent accumulators: latency 4 x 2 pipes needs 8; 12 leaves room */
/* One trial of the FMA loop: short, so that on a shared machine some trials run undisturbed. */
#define TRIAL_SECONDS 0.002

typedef double (*fma_kernel_fn)(uint64_t iterations); /* returns a checksum */

#if CONF_X86
/*
 * Twelve named accumulators, not an array: at -O2 GCC keeps an array of vectors in memory,
 * which turns the loop into a load-FMA-store chain that measures the cache, not the FMA units.
 */
#define CHAIN_VARIABLES(T) T c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11
#define EACH_CHAIN(OP)                                                                             \
    OP(c0);                                                                                        \
    OP(c1);                                                                                        \
    OP(c2);                                                                                        \
    OP(c3);                                                                                        \
    OP(c4);                                                                                        \
    OP(c5);                                                                                        \
    OP(c6);                                                                                        \
    OP(c7);                                                                                        \
    OP(c8);                                                                                        \
    OP(c9);                                                                                        \
    OP(c10);                                                                                       \
    OP(c11)

__attribute__((target("avx512f,fma"))) static double loop_avx512_f32(uint64_t iterations) {
    CHAIN_VARIABLES(__m512);
    const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
    float seed = 0;
#define INIT(c) c = _mm512_set1_ps(seed += 1.0f)
#define STEP(c) c = _mm512_fmadd_ps(c, a, b)
#define SUM(c) sum += _mm512_reduce_add_ps(c)
    EACH_CHAIN(INIT);
    /* c = c * 0.999 + 0.001 tends to 1: no overflow, no denormals, however long it runs. */
    for (uint64_t i = 0; i < iterations; i++) {
        EACH_CHAIN(STEP);
    }
    double sum = 0;
    EACH_CHAIN(SUM);
#undef STEP
    return sum;
}

__attribute__((target("avx512f,avx512bf16"))) static double loop_avx512_bf16(uint64_t iterations) {
    CHAIN_VARIABLES(__m512);
    const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
    const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
    float seed = 0;
#define STEP(c) c = _mm512_dpbf16_ps(c, a, b)
    EACH_CHAIN(INIT);
    /* Grows by 2e-6 per step: far from overflow for any run length. */
    for (uint64_t i = 0; i < iterations; i++) {
        EACH_CHAIN(STEP);
    }
    double sum = 0;
    EACH_CHAIN(SUM);
#undef STEP
#undef INIT
#undef SUM
    return sum;
}

__attribute__((target("avx2,fma"))) static double loop_avx2_f32(uint64_t iterations) {
    CHAIN_VARIABLES(__m256);
    const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
    float seed = 0, lanes[8];
    double sum = 0;
#define INIT(c) c = _mm256_set1_ps(seed += 1.0f)
#define STEP(c) c = _mm256_fmadd_ps(c, a, b)
#define SUM(c) _mm256_storeu_ps(lanes, c), sum += lanes[0] + lanes[7]
    EACH_CHAIN(INIT);
    for (uint64_t i = 0; i < iterations; i++) {
        EACH_CHAIN(STEP);
    }
    EACH_CHAIN(SUM);
#undef STEP
#undef INIT
#undef SUM
    return sum;
}
#endif

/* The loop for dtype on this CPU and its FLOPs per iteration; NULL when there is none. */
static fma_kernel_fn pick(xhal_dtype_t dtype, double *flops_per_iteration, const char **isa) {
#if CONF_X86
    host_cpu_features_t f;
    host_cpu_detect(&f);
    int avx512 = f.avx512f;
    if (dtype == XHAL_DTYPE_BF16 && avx512 && f.avx512bf16) {
        *flops_per_iteration = CHAINS * 16 * 2 * 2.0; /* 2 products per lane, 2 FLOP each */
        *isa = "avx512-bf16 vdpbf16ps";
        return loop_avx512_bf16;
    }
    if (avx512) {
        *flops_per_iteration = CHAINS * 16 * 2.0;
        *isa = "avx512 vfmadd f32";
        return loop_avx512_f32;
    }
    if (f.avx2 && f.fma) {
        *flops_per_iteration = CHAINS * 8 * 2.0;
        *isa = "avx2 vfmadd f32";
        return loop_avx2_f32;
    }
#endif
    (void)dtype;
    *flops_per_iteration = 0;
    *isa = "";
    return NULL;
}

typedef struct worker {
    pthread_t thread;
    atomic_int *go; /* 0: wait; 1: run; -1: give up (a sibling did not start) */
    fma_kernel_fn kernel;
    uint64_t iterations;
    double seconds;           /* from this thread's start of the loop to its end */
    volatile double checksum; /* kept, so that the loop is not optimised away */
} worker_t;

static void *work(void *arg) {
    worker_t *w = arg;
    int go;
    /* Spinning rather than a barrier: every thread starts within nanoseconds of the flag. */
    while ((go = atomic_load_explicit(w->go, memory_order_acquire)) == 0)
        ;
    if (go > 0) {
        double start = conf_now();
        w->checksum = w->kernel(w->iterations);
        w->seconds = conf_now() - start;
    }
    return NULL;
}

/*
 * Seconds for `threads` threads to each run `iterations`: the longest of the threads' own times,
 * each from the moment that thread started its loop, so that a thread the scheduler starts late
 * (the machine is shared) does not count its wait as FMA time. Negative when threads did not
 * start.
 */
static double timed(fma_kernel_fn kernel, unsigned threads, uint64_t iterations) {
    worker_t *workers = calloc(threads, sizeof *workers);
    if (!workers) return -1;
    atomic_int go;
    atomic_init(&go, 0);
    unsigned started = 0;
    for (; started < threads; started++) {
        workers[started] = (worker_t){.go = &go, .kernel = kernel, .iterations = iterations};
        if (pthread_create(&workers[started].thread, NULL, work, &workers[started]) != 0) break;
    }
    atomic_store_explicit(&go, started == threads ? 1 : -1, memory_order_release);
    double seconds = started == threads ? 0 : -1;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(workers[i].thread, NULL);
        if (seconds >= 0 && workers[i].seconds > seconds) seconds = workers[i].seconds;
    }
    free(workers);
    return seconds;
}

/* ---- FMA ---- */

double conf_fma_host(unsigned threads, xhal_dtype_t dtype, double seconds, char *method,
                     size_t method_size) {
    double per_iteration;
    const char *isa;
    fma_kernel_fn kernel = pick(dtype, &per_iteration, &isa);
    if (method_size) method[0] = '\0';
    if (!kernel || threads == 0) return 0;
    /*
     * Calibrated on one thread (which also wakes the core up) to trials of about 2 ms, then as
     * many trials as fit `seconds`, keeping the best: on a machine shared with other work a
     * short trial has a fair chance of running undisturbed, a long one has none.
     */
    uint64_t iterations = 1u << 12;
    double t = 0;
    while ((t = timed(kernel, 1, iterations)) >= 0 && t < 0.002 && iterations < (1ull << 40))
        iterations *= 2;
    if (t <= 0) return 0;
    iterations = (uint64_t)((double)iterations * TRIAL_SECONDS / t) + 1;
    double best = 0, start = conf_now();
    for (int trial = 0; trial < 3 || (conf_now() - start < seconds && trial < 1000); trial++) {
        double s = timed(kernel, threads, iterations);
        double rate = s > 0 ? (double)threads * (double)iterations * per_iteration / s : 0;
        if (rate > best) best = rate;
    }
    conf_format(method, method_size, "FMA loop, %s, %u thread%s%s", isa, threads,
                threads == 1 ? "" : "s",
                dtype == XHAL_DTYPE_F16 ? " (no f16 FMA with f32 accumulation: f32 rate)" : "");
    return best;
}
