/* What the CPU GEMM's files share: the queued arguments, one GEMM's job, and its paths. */
#ifndef XHAL_CPU_GEMM_H
#define XHAL_CPU_GEMM_H

#include "cpu_internal.h"
#include "epilogue.h"
#include "gemm_kernel.h"
#include "gemv_kernel.h"
#include "qgemm_kernel.h"

typedef struct {
    xhal_gemm_desc_t desc; /* by value: the caller's desc is only valid during the enqueue */
    const char *a, *b;     /* the first byte of each operand: buffer data + offset */
    char *c;
    const char *bias, *b_scales, *b_zeros; /* NULL when the descriptor has none */
} gemm_args_t;

/* What the tasks of one GEMM share. */
typedef struct cpu_gemm_job {
    const gemm_args_t *args;
    const xk_epilogue_t *epi; /* &epilogue, or NULL when there is none */
    xk_epilogue_t epilogue;
    xk_qweights_t quant;      /* when B is quantized */
    float fp8[256];           /* the FP8 format's values, for the portable kernels */
    int64_t grid_m, grid_n;   /* blocks per batch */
    int64_t block_m, block_n; /* rows and columns of a block (the last may be smaller) */
    int64_t columns;          /* the column space blocks are cut from (xk_gemm_columns) */
    float *scratch;
    size_t per_thread;       /* floats of scratch per pool thread (blocked GEMM) */
    int64_t batch0, batches; /* GEMV paths: the group of batches the scratch holds now */
} cpu_gemm_job_t;

int64_t cpu_ceil_div(int64_t a, int64_t b);

/* Batch `batch` of the descriptor as the engine's problem: strides encode the transposes. */
xk_gemm_problem_t cpu_gemm_problem(const cpu_gemm_job_t *job, int64_t batch);

/*
 * `floats` of the device's scratch (scratch_lock held), after the f32 copy of the bias, which
 * this makes and points the job's epilogue at. NULL when out of memory.
 */
float *cpu_gemm_scratch(xhal_be_device_t *device, cpu_gemm_job_t *job, size_t floats);

/* The decode paths (cpu_gemm_gemv.c), scratch_lock held; 0 when scratch cannot be had. */
int cpu_gemm_run_gemv(xhal_be_device_t *device, cpu_gemm_job_t *job, int64_t threads);
int cpu_gemm_run_qgemv(xhal_be_device_t *device, cpu_gemm_job_t *job, int64_t threads);

#endif
