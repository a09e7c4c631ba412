/*
 * The host's memory bandwidth as STREAM measures it (McCalpin's benchmark, the yardstick
 * memory-bound CPU kernels are judged by): Copy c = a and Triad a = b + s * c over arrays of
 * doubles far larger than the last-level cache, on every thread, each thread on its own
 * contiguous share of the arrays, with plain (not non-temporal) stores. Bytes are counted as
 * STREAM counts them: 2 arrays for Copy, 3 for Triad (the write-allocate read of the
 * destination is not counted). Best of several trials, the first one (which faults the pages
 * in) excluded.
 *
 * What made the earlier figure wrong (12.8-20.8 GB/s against 25-34 from STREAM on the same
 * machine): the pages were first touched by one thread, the loop was scalar at -O2, and threads
 * were created inside every timed pass. Here each thread touches its own share first (so its
 * pages sit where it runs), the loops are explicit SSE2 where the target has it (and so never
 * turned into memcpy calls, whose non-temporal stores STREAM does not use), and the threads live
 * through all trials, started together by a flag.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define TRIALS 10
#define SCALAR 3.0

enum { KERNEL_COPY = 0, KERNEL_TRIAD = 1, KERNEL_INIT = 2, KERNEL_STOP = 3 };

typedef struct stream_shared {
    double *a, *b, *c;
    size_t count; /* doubles per array, a multiple of 8 * threads */
    unsigned threads;
    atomic_int round;  /* bumped by the caller to start a kernel on every thread */
    atomic_int kernel; /* which kernel the round runs */
    atomic_uint done;  /* threads that finished the round */
} stream_shared_t;

typedef struct stream_worker {
    pthread_t thread;
    stream_shared_t *shared;
    unsigned index;
} stream_worker_t;

static void run_kernel(stream_shared_t *s, unsigned index, int kernel) {
    size_t share = s->count / s->threads, begin = share * index, n = share;
    double *restrict a = s->a + begin, *restrict b = s->b + begin, *restrict c = s->c + begin;
    if (kernel == KERNEL_INIT) {
        /* First touch by the thread that will use these pages. */
        for (size_t i = 0; i < n; i++)
            a[i] = 1.0, b[i] = 2.0, c[i] = 0.0;
        return;
    }
#if defined(__SSE2__)
    if (kernel == KERNEL_COPY) {
        for (size_t i = 0; i < n; i += 8)
            for (int u = 0; u < 8; u += 2)
                _mm_store_pd(c + i + u, _mm_load_pd(a + i + u));
    } else {
        const __m128d q = _mm_set1_pd(SCALAR);
        for (size_t i = 0; i < n; i += 8)
            for (int u = 0; u < 8; u += 2)
                _mm_store_pd(a + i + u, _mm_add_pd(_mm_load_pd(b + i + u),
                                                   _mm_mul_pd(q, _mm_load_pd(c + i + u))));
    }
#else
    if (kernel == KERNEL_COPY) {
        for (size_t i = 0; i < n; i++)
            c[i] = a[i];
    } else {
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] + SCALAR * c[i];
    }
#endif
}

static void *worker_main(void *arg) {
    stream_worker_t *w = arg;
    stream_shared_t *s = w->shared;
    int seen = 0;
    for (;;) {
        int round;
        /* Spinning, not a condition variable: every thread starts within a microsecond. */
        while ((round = atomic_load_explicit(&s->round, memory_order_acquire)) == seen)
            ;
        seen = round;
        int kernel = atomic_load_explicit(&s->kernel, memory_order_relaxed);
        if (kernel == KERNEL_STOP) return NULL;
        run_kernel(s, w->index, kernel);
        atomic_fetch_add_explicit(&s->done, 1, memory_order_release);
    }
}

/* Runs `kernel` on every thread (the caller is thread 0); returns its seconds. */
static double run_round(stream_shared_t *s, int kernel) {
    atomic_store_explicit(&s->done, 0, memory_order_relaxed);
    atomic_store_explicit(&s->kernel, kernel, memory_order_relaxed);
    double start = conf_now();
    atomic_fetch_add_explicit(&s->round, 1, memory_order_release);
    if (kernel != KERNEL_STOP) run_kernel(s, 0, kernel);
    while (kernel != KERNEL_STOP &&
           atomic_load_explicit(&s->done, memory_order_acquire) + 1 < s->threads)
        ;
    return conf_now() - start;
}

int conf_stream_host(unsigned threads, uint64_t array_bytes, conf_stream_t *out) {
    memset(out, 0, sizeof *out);
    if (threads == 0 || threads > 1024) return -1;
    size_t unit = 8 * (size_t)threads;
    size_t count = (size_t)(array_bytes / sizeof(double)) / unit * unit;
    if (count == 0) return -1;
    stream_shared_t s = {.count = count, .threads = threads};
    /*
     * The arrays start at different offsets within a 4 KB page (0, 1/3 and 2/3 of it): with all
     * three at the same offset, as allocators place them, a store and the loads that follow it
     * alias in the low 12 address bits and the core stalls them as possible conflicts. Triad
     * ran 25% below STREAM's (whose static arrays happen to be staggered) until this.
     */
    size_t bytes = count * sizeof(double) + 4096 + 2 * 1344; /* room for the page and stagger */
    char *base[3] = {malloc(bytes), malloc(bytes), malloc(bytes)};
    double *arrays[3];
    for (int i = 0; i < 3; i++)
        arrays[i] = base[i]
                        ? (double *)(void *)(base[i] + (4096 - ((uintptr_t)base[i] & 4095)) % 4096 +
                                             (size_t)i * 1344)
                        : NULL;
    s.a = arrays[0];
    s.b = arrays[1];
    s.c = arrays[2];
    stream_worker_t *workers = calloc(threads, sizeof *workers);
    atomic_init(&s.round, 0);
    atomic_init(&s.kernel, KERNEL_INIT);
    atomic_init(&s.done, 0);
    unsigned started = 1;
    int status = s.a && s.b && s.c && workers ? 0 : -1;
    for (; status == 0 && started < threads; started++) {
        workers[started] = (stream_worker_t){.shared = &s, .index = started};
        if (pthread_create(&workers[started].thread, NULL, worker_main, &workers[started]) != 0)
            status = -1;
    }
    if (status != 0) started--; /* the one that failed did not start */
    if (status == 0) {
        run_round(&s, KERNEL_INIT);
        double copy = 0, triad = 0;
        for (int trial = 0; trial <= TRIALS; trial++) {
            double tc = run_round(&s, KERNEL_COPY), tt = run_round(&s, KERNEL_TRIAD);
            if (trial == 0) continue; /* settles clocks and TLBs, as STREAM drops its first */
            double rc = 2.0 * (double)count * sizeof(double) / tc;
            double rt = 3.0 * (double)count * sizeof(double) / tt;
            if (rc > copy) copy = rc;
            if (rt > triad) triad = rt;
        }
        out->copy = copy;
        out->triad = triad;
        out->array_bytes = (uint64_t)count * sizeof(double);
        out->threads = threads;
    }
    if (started > 1) {
        /* Only the threads that started are waiting on the flag; stop and join them. */
        s.threads = started;
        run_round(&s, KERNEL_STOP);
        for (unsigned i = 1; i < started; i++)
            pthread_join(workers[i].thread, NULL);
    }
    for (int i = 0; i < 3; i++)
        free(base[i]);
    free(workers);
    return status;
}

uint64_t conf_stream_array_bytes(void) {
    /* STREAM's rule: each array at least 4 times the last-level cache; 64 MiB at least. */
    uint64_t bytes = 4 * conf_host_cache_bytes(32u << 20);
    return bytes < (64u << 20) ? (64u << 20) : bytes;
}
