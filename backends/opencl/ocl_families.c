/*
 * The kernels of kernels/opencl/ by family and variant: their names and the program that holds
 * them, for every plugin that runs them (ocl_ops.h).
 */
#include <stdio.h>

#include "ocl_ops.h"

static const struct {
    const char *name;
    ocl_program_id_t program;
    int quantized; /* variants are quantized formats, not dtypes */
} families[OCL_FAMILY_COUNT] = {
    [OCL_GEMM_PACK_A] = {"gemm_pack_a", OCL_PROGRAM_GEMM, 0},
    [OCL_GEMM_PACK_B] = {"gemm_pack_b", OCL_PROGRAM_GEMM, 0},
    [OCL_GEMM_TILE] = {"gemm_tile", OCL_PROGRAM_GEMM, 0},
    [OCL_GEMM_COPY_A] = {"gemm_copy_a", OCL_PROGRAM_GEMM, 0},
    [OCL_GEMM_FUSED] = {"gemm_fused", OCL_PROGRAM_GEMM, 0},
    [OCL_GEMV_N] = {"gemv_n", OCL_PROGRAM_GEMM, 0},
    [OCL_GEMV_T] = {"gemv_t", OCL_PROGRAM_GEMM, 0},
    [OCL_GEMV_NG] = {"gemv_ng", OCL_PROGRAM_GEMM, 0},
    [OCL_GEMV_TG] = {"gemv_tg", OCL_PROGRAM_GEMM, 0},
    [OCL_QPACK_B] = {"qpack_b", OCL_PROGRAM_GEMM, 1},
    [OCL_QFUSED] = {"qfused", OCL_PROGRAM_GEMM, 1},
    [OCL_QGEMV_T] = {"qgemv_t", OCL_PROGRAM_GEMM, 1},
    [OCL_QGEMV_TG] = {"qgemv_tg", OCL_PROGRAM_GEMM, 1},
    [OCL_ATTN_PACK_KV] = {"attn_pack_kv", OCL_PROGRAM_ATTENTION, 0},
    [OCL_ATTN_PREFILL] = {"attn_prefill", OCL_PROGRAM_ATTENTION, 0},
    [OCL_ATTN_DECODE] = {"attn_decode", OCL_PROGRAM_ATTENTION, 0},
    [OCL_ATTN_COMBINE] = {"attn_combine", OCL_PROGRAM_ATTENTION, 0},
    [OCL_ATTN_MERGE] = {"attn_merge", OCL_PROGRAM_ATTENTION_MERGE, 0},
};

static const char *const dtype_suffix[OCL_VARIANTS] = {"f32", "f16", "bf16", "?"};
static const char *const quant_suffix[OCL_VARIANTS] = {"int8", "int4", "e4m3", "e5m2"};

void ocl_kernel_name(ocl_family_t family, int variant, char *out, size_t size) {
    snprintf(out, size, "%s_%s", families[family].name,
             (families[family].quantized ? quant_suffix : dtype_suffix)[variant]);
}

ocl_program_id_t ocl_family_program(ocl_family_t family) {
    return families[family].program;
}

const char *ocl_program_name(ocl_program_id_t id) {
    static const char *const names[OCL_PROGRAM_COUNT] = {
        [OCL_PROGRAM_GEMM] = "gemm",
        [OCL_PROGRAM_ATTENTION] = "attention",
        [OCL_PROGRAM_ATTENTION_MERGE] = "attention_merge",
    };
    return names[id];
}
