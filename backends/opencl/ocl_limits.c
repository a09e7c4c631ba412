/*
 * A tuning (ocl_tuning.c) checked against the device it is for, before any kernel is built or
 * launched. Every key of a tuning file is range-checked on its own, but a combination can still
 * ask for more than the device has: gemm_local = 1 with 32 x 32 work-groups, gemm_kb = 64 and
 * 128-column tiles declares 1 MiB + 32 KiB of local memory, which PoCL (1 MiB) answers with an
 * assertion at the first GEMM, killing the process. So each kernel configuration is measured
 * here against CL_DEVICE_LOCAL_MEM_SIZE, CL_DEVICE_MAX_WORK_GROUP_SIZE and
 * CL_DEVICE_MAX_WORK_ITEM_SIZES; one that does not fit is refused with a warning that names it
 * and the limit, and its keys fall back to the compiled-in defaults (then to no local memory at
 * all, which any device runs).
 */
#include <stdio.h>
#include <string.h>

#include "ocl_internal.h"

uint64_t ocl_gemm_local_bytes(const ocl_tuning_t *t) {
    if (!t->gemm_local) return 0;
    /* gemm.cl, TILE_LOCALS: la[GEMM_WG_M][GEMM_KB * TM] and lb[GEMM_WG_N][GEMM_KB * TN]. */
    uint64_t kb = (uint64_t)t->gemm_kb, tn = (uint64_t)t->gemm_vw * (uint64_t)t->gemm_nv;
    uint64_t floats =
        (uint64_t)t->gemm_wg_m * kb * (uint64_t)t->gemm_tm + (uint64_t)t->gemm_wg_n * kb * tn;
    return floats * sizeof(float);
}

int ocl_tuning_fits(const ocl_tuning_t *t, const ocl_limits_t *limits, char *why, size_t size) {
    if (!t->gemm_local) return 1; /* one work-item per group, no local memory */
    uint64_t local = ocl_gemm_local_bytes(t);
    size_t group = (size_t)t->gemm_wg_m * (size_t)t->gemm_wg_n;
    if (local > limits->local_memory) {
        snprintf(why, size,
                 "gemm_local = 1 with gemm_wg_m = %d, gemm_wg_n = %d, gemm_kb = %d, gemm_tm = %d, "
                 "gemm_vw x gemm_nv = %d x %d declares %llu bytes of local memory, more than the "
                 "device's %llu (CL_DEVICE_LOCAL_MEM_SIZE)",
                 t->gemm_wg_m, t->gemm_wg_n, t->gemm_kb, t->gemm_tm, t->gemm_vw, t->gemm_nv,
                 (unsigned long long)local, (unsigned long long)limits->local_memory);
        return 0;
    }
    if (group > limits->max_work_group) {
        snprintf(why, size,
                 "gemm_local = 1 with gemm_wg_m x gemm_wg_n = %d x %d asks for work-groups of %zu "
                 "work-items, more than the device's %zu (CL_DEVICE_MAX_WORK_GROUP_SIZE)",
                 t->gemm_wg_m, t->gemm_wg_n, group, limits->max_work_group);
        return 0;
    }
    /* The tile kernel's group is gemm_wg_n x gemm_wg_m in dimensions 0 and 1. */
    if ((size_t)t->gemm_wg_n > limits->max_item[0] || (size_t)t->gemm_wg_m > limits->max_item[1]) {
        snprintf(why, size,
                 "gemm_local = 1 with work-groups of %d x %d work-items (gemm_wg_n x gemm_wg_m) "
                 "exceeds the device's %zu x %zu (CL_DEVICE_MAX_WORK_ITEM_SIZES)",
                 t->gemm_wg_n, t->gemm_wg_m, limits->max_item[0], limits->max_item[1]);
        return 0;
    }
    return 1;
}

/* The GEMM tile configuration of `from` (the keys ocl_tuning_fits judges) copied into `to`. */
static void copy_gemm_tiles(ocl_tuning_t *to, const ocl_tuning_t *from) {
    to->gemm_vw = from->gemm_vw;
    to->gemm_tm = from->gemm_tm;
    to->gemm_nv = from->gemm_nv;
    to->gemm_rb = from->gemm_rb;
    to->gemm_local = from->gemm_local;
    to->gemm_wg_m = from->gemm_wg_m;
    to->gemm_wg_n = from->gemm_wg_n;
    to->gemm_kb = from->gemm_kb;
}

void ocl_tuning_fit(const xhal_host_api_t *host, const char *device_name,
                    const ocl_limits_t *limits, ocl_tuning_t *t) {
    char why[512];
    if (ocl_tuning_fits(t, limits, why, sizeof why)) return;
    ocl_tuning_t defaults;
    ocl_tuning_defaults(&defaults);
    copy_gemm_tiles(t, &defaults);
    const char *now = "the compiled-in defaults";
    char why_defaults[512];
    if (!ocl_tuning_fits(t, limits, why_defaults, sizeof why_defaults)) {
        t->gemm_local = 0;
        now = "no local memory (gemm_local = 0)";
    }
    snprintf(t->refused, sizeof t->refused, "its GEMM tiles do not fit the device (%s)",
             strstr(why, "CL_DEVICE_") ? strstr(why, "CL_DEVICE_") : "a limit");
    host->log(XHAL_LOG_WARN,
              "%s: the tuning in [%s] of %s does not fit the device: %s; its GEMM tiles use %s "
              "instead",
              device_name, t->section, t->source, why, now);
}
