/*
 * Host memory bandwidth, STREAM-triad style (a[i] = b[i] + s * c[i], counting 3 arrays of bytes
 * per pass as STREAM does), on a given number of threads: the ceiling a memory-bound CPU kernel
 * is judged against in the same run.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "bench_run.h"

#define TRIAD_FLOATS (1L << 24) /* 64 MB per array: well past any last-level cache */
#define TRIAD_PASSES 8

typedef struct triad_part {
    float *a, *b, *c;
    long begin, end;
} triad_part_t;

static void *triad_thread(void *arg) {
    triad_part_t *p = arg;
    float *restrict a = p->a;
    const float *restrict b = p->b, *restrict c = p->c;
    for (long i = p->begin; i < p->end; i++)
        a[i] = b[i] + 3.0f * c[i];
    return NULL;
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double bench_stream_triad(int threads) {
    if (threads < 1) threads = 1;
    if (threads > 256) threads = 256;
    float *a = malloc(TRIAD_FLOATS * sizeof *a), *b = malloc(TRIAD_FLOATS * sizeof *b),
          *c = malloc(TRIAD_FLOATS * sizeof *c);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    char *started = calloc((size_t)threads, 1);
    triad_part_t *parts = calloc((size_t)threads, sizeof *parts);
    double best = 0.0;
    if (a && b && c && ids && started && parts) {
        for (long i = 0; i < TRIAD_FLOATS; i++)
            a[i] = 0.0f, b[i] = 1.0f, c[i] = 2.0f;
        for (int pass = 0; pass < TRIAD_PASSES; pass++) {
            double t0 = seconds();
            for (int t = 0; t < threads; t++) {
                parts[t] = (triad_part_t){a, b, c, TRIAD_FLOATS * t / threads,
                                          TRIAD_FLOATS * (t + 1) / threads};
                /* The calling thread takes part 0, and any part a thread could not start for. */
                started[t] = t > 0 && pthread_create(&ids[t], NULL, triad_thread, &parts[t]) == 0;
            }
            for (int t = 0; t < threads; t++)
                if (!started[t]) triad_thread(&parts[t]);
            for (int t = 1; t < threads; t++)
                if (started[t]) pthread_join(ids[t], NULL);
            double rate = 3.0 * TRIAD_FLOATS * sizeof(float) / (seconds() - t0);
            if (pass > 0 && rate > best) best = rate; /* pass 0 faults the pages in */
        }
    }
    free(a), free(b), free(c), free(ids), free(started), free(parts);
    return best;
}
