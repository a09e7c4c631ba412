/*
 * Shared pieces of the CUDA GPU check program (cuda_gpu_check.c: correctness of every GEMM and
 * attention path on cuda:0; cuda_gpu_bench.c: the timings of issues 6 and 7 against cuBLAS and
 * the measured copy bandwidth).
 */
#ifndef XHAL_TEST_CUDA_GPU_H
#define XHAL_TEST_CUDA_GPU_H

#include <stdio.h>

#include "xhal/xhal.h"

/* Prints to stdout and, when open, to the results file. */
void gpu_say(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fails the program with the call's message when `status` is not XHAL_OK. */
int gpu_ok(xhal_status_t status, const char *what);

/*
 * Runs the timings on `device`, printing to stdout and `out`; `quick` times fewer shapes, `tiny`
 * divides every size by 16 (a try on a CPU device). Returns the number of items that failed.
 */
int cuda_gpu_bench(xhal_device_t *device, FILE *out, int quick, int tiny);

#endif
