/*
 * What `xhal tune` searches on each backend: the keys of its tuning file
 * (kernels/tuning/<backend>.ini documents them) grouped by the kernel they shape, with the values
 * worth trying.
 *
 * OpenCL (kernels/opencl/): on a CPU device (PoCL, Intel's CPU runtime) a work-item is a
 * register-blocked tile compiled to SIMD code, so the GEMM group searches the tile (rows x
 * vectors x width), the rows of tiles per item, the fused or packed path and the packing depth;
 * local-memory work-groups only cost there (every item of a group is a loop on one thread) and
 * are left out. On a GPU the group adds local memory, work-group shapes and the k stage.
 * The lists stop at what the kernels accept (ocl_tuning.c's ranges); a combination the device
 * cannot run (local memory, work-group size) is refused by the backend when the device opens,
 * and the tuner skips it without timing.
 *
 * The search (conf_tune.c) is a seeded stochastic hill climb per group, from the shipped tuning:
 * a candidate changes one or two keys of the best so far (one in four draws every key afresh,
 * to leave a local optimum), a point seen before is not run again, and a group stops when its
 * share of the budget is spent. A winner is then measured again back to back with the shipped
 * tuning and kept only if it still leads by 2% (load on a shared machine moves single figures
 * by more). It is not exhaustive: the GEMM group alone has thousands of points on a CPU device
 * and tens of thousands on a GPU.
 */
#include <string.h>

#include "conf_tune_space.h"

static const conf_tune_group_t opencl_cpu[] = {
    {"gemm tiles",
     CONF_OP_GEMM,
     (1u << CONF_TUNE_SQUARE) | (1u << CONF_TUNE_PREFILL),
     0.55,
     {{"gemm_vw", {8, 16}, 2},
      {"gemm_tm", {2, 4, 6, 8, 12, 16}, 6},
      {"gemm_nv", {1, 2, 3, 4}, 4},
      {"gemm_rb", {1, 2, 4, 8, 16, 32}, 6},
      {"gemm_fused", {0, 1}, 2},
      {"gemm_pack_k", {16, 32, 64, 128, 256}, 5}},
     6},
    {"gemv",
     CONF_OP_GEMM,
     1u << CONF_TUNE_DECODE,
     0.15,
     {{"gemv_max_m", {8, 16, 32, 64}, 4},
      {"gemv_rows", {2, 4, 8, 16}, 4},
      {"gemv_nv", {1, 2, 4, 8}, 4},
      {"gemv_tc", {1, 2, 4, 8}, 4}},
     4},
    {"attention prefill",
     CONF_OP_ATTENTION,
     1u << CONF_TUNE_ATT_PREFILL,
     0.18,
     {{"att_vw", {8, 16}, 2}, {"att_bq", {1, 2, 4, 8, 12, 16}, 6}},
     2},
    {"attention decode",
     CONF_OP_ATTENTION,
     1u << CONF_TUNE_ATT_DECODE,
     0.12,
     {{"att_dec_rb", {1, 2, 4, 8}, 4},
      {"att_dec_chunk", {64, 128, 256, 512, 1024}, 5},
      {"att_dec_items", {4, 8, 16, 32, 64, 128}, 6}},
     3},
};

static const conf_tune_group_t opencl_gpu[] = {
    {"gemm tiles",
     CONF_OP_GEMM,
     (1u << CONF_TUNE_SQUARE) | (1u << CONF_TUNE_PREFILL),
     0.55,
     {{"gemm_vw", {4, 8, 16}, 3},
      {"gemm_tm", {2, 4, 8}, 3},
      {"gemm_nv", {1, 2, 4}, 3},
      {"gemm_local", {0, 1}, 2},
      {"gemm_wg_m", {4, 8, 16}, 3},
      {"gemm_wg_n", {4, 8, 16}, 3},
      {"gemm_kb", {8, 16, 32}, 3},
      {"gemm_fused", {0, 1}, 2},
      {"gemm_pack_k", {8, 16, 32}, 3}},
     9},
    {"gemv",
     CONF_OP_GEMM,
     1u << CONF_TUNE_DECODE,
     0.15,
     {{"gemv_max_m", {4, 8, 16, 32}, 4},
      {"gemv_rows", {1, 2, 4, 8}, 4},
      {"gemv_nv", {1, 2, 4}, 3},
      {"gemv_tc", {1, 2, 4}, 3}},
     4},
    {"attention prefill",
     CONF_OP_ATTENTION,
     1u << CONF_TUNE_ATT_PREFILL,
     0.18,
     {{"att_vw", {4, 8, 16}, 3}, {"att_bq", {1, 2, 4, 8}, 4}},
     2},
    {"attention decode",
     CONF_OP_ATTENTION,
     1u << CONF_TUNE_ATT_DECODE,
     0.12,
     {{"att_dec_rb", {1, 2, 4}, 3},
      {"att_dec_chunk", {64, 128, 256, 512}, 4},
      {"att_dec_items", {256, 512, 1024, 4096}, 4}},
     3},
};

size_t conf_tune_space(const xhal_device_info_t *info, const conf_tune_group_t **out) {
    if (strcmp(info->backend, "opencl") != 0) return 0;
    if (info->type == XHAL_DEVICE_TYPE_CPU) {
        *out = opencl_cpu;
        return sizeof opencl_cpu / sizeof opencl_cpu[0];
    }
    *out = opencl_gpu;
    return sizeof opencl_gpu / sizeof opencl_gpu[0];
}

const char *conf_tune_class_name(conf_tune_class_t c) {
    static const char *const names[CONF_TUNE_CLASS_COUNT] = {
        "large square", "prefill (m >= 128, NT)", "decode (m <= 64, NT)", "attention prefill",
        "attention decode"};
    return (unsigned)c < CONF_TUNE_CLASS_COUNT ? names[c] : "?";
}
