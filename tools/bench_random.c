/*
 * The random inputs and the median of `xhal bench` and of its dlopen'ed baselines (cuBLASLt,
 * rocBLAS), in a file of their own so that a program that links a baseline without the rest of
 * the tool (tests/cuda/gpu_check.cmake's test_cuda_gpu) has them too.
 */
#include <stdlib.h>
#include <string.h>

#include "bench_run.h"

unsigned char *bench_random_values(xhal_dtype_t dtype, int64_t count, uint64_t seed) {
    size_t es = xhal_dtype_size(dtype);
    unsigned char *host = malloc((size_t)count * es);
    if (!host) return NULL;
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < count; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        float v = (float)((double)(x >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
        if (dtype == XHAL_DTYPE_F32) {
            memcpy(host + i * 4, &v, 4);
        } else {
            uint16_t h = dtype == XHAL_DTYPE_F16 ? xhal_f32_to_f16(v) : xhal_f32_to_bf16(v);
            memcpy(host + i * 2, &h, 2);
        }
    }
    return host;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *values, size_t count) {
    qsort(values, count, sizeof *values, compare_doubles);
    return count % 2 ? values[count / 2] : 0.5 * (values[count / 2 - 1] + values[count / 2]);
}
