/*
 * The tuned parameters of the kernels, per device, from kernels/tuning/opencl.ini, read with the
 * common tuning reader (backends/common/xc_tuning.h), which decides the file (the first found of
 * $XHAL_OPENCL_TUNING, <user cache>/xhal/opencl.ini, the install's <datadir>/xhal/opencl.ini and
 * the copy compiled into the plugin) and the sections that apply.
 *
 * In the file, a section other than [default] applies to a device when one of the
 * comma-separated substrings of its `match` key occurs (case-insensitively) in the device's
 * name, vendor, platform, version or driver (`*` matches any device), and its `type` key (cpu, gpu,
 * accelerator), if present, is the device's type. The first such section wins; a key it lacks comes
 * from [default], and a key [default] lacks from the values below. A value out of range is ignored
 * with a warning.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ocl_internal.h"
#include "xc_tuning.h"

#define OCL_PARAM(name, min, max, vector) XC_INT_PARAM(ocl_tuning_t, name, min, max, vector)

/* The keys, with their ranges; gemm_vw and att_vw are vector widths: 4, 8 or 16. */
static const xc_param_t params[] = {
    OCL_PARAM(gemm_vw, 4, 16, 1),
    OCL_PARAM(gemm_tm, 1, 16, 0),
    OCL_PARAM(gemm_nv, 1, 8, 0),
    OCL_PARAM(gemm_rb, 1, 64, 0),
    OCL_PARAM(gemm_local, 0, 1, 0),
    OCL_PARAM(gemm_wg_m, 1, 32, 0),
    OCL_PARAM(gemm_wg_n, 1, 32, 0),
    OCL_PARAM(gemm_kb, 1, 64, 0),
    OCL_PARAM(gemm_pack_k, 1, 4096, 0),
    OCL_PARAM(gemm_fused, 0, 1, 0),
    OCL_PARAM(gemv_max_m, 0, 256, 0),
    OCL_PARAM(gemv_rows, 1, 16, 0),
    OCL_PARAM(gemv_nv, 1, 8, 0),
    OCL_PARAM(gemv_tc, 1, 16, 0),
    OCL_PARAM(att_vw, 4, 16, 1),
    OCL_PARAM(att_bq, 1, 16, 0),
    OCL_PARAM(att_dec_rb, 1, 16, 0),
    OCL_PARAM(att_dec_max_q, 0, 64, 0),
    OCL_PARAM(att_dec_chunk, 16, 1 << 24, 0),
    OCL_PARAM(att_dec_items, 1, 1 << 20, 0),
    OCL_PARAM(one_item_groups, 0, 1, 0),
};
#define PARAM_COUNT (sizeof(params) / sizeof(params[0]))

/* When no file says otherwise: a safe choice for any device. */
static const ocl_tuning_t fallback = {
    .gemm_vw = 4,
    .gemm_tm = 4,
    .gemm_nv = 2,
    .gemm_rb = 1,
    .gemm_local = 1,
    .gemm_wg_m = 8,
    .gemm_wg_n = 8,
    .gemm_kb = 16,
    .gemm_pack_k = 16,
    .gemv_max_m = 4,
    .gemv_rows = 4,
    .gemv_nv = 1,
    .gemv_tc = 4,
    .att_vw = 4,
    .att_bq = 4,
    .att_dec_rb = 2,
    .att_dec_max_q = 16,
    .att_dec_chunk = 256,
    .att_dec_items = 64,
};

void ocl_tuning_defaults(ocl_tuning_t *out) {
    *out = fallback;
}

static void warn(void *context, const char *message) {
    const xhal_host_api_t *host = context;
    host->log(XHAL_LOG_WARN, "%s; keeping the previous value", message);
}

/* An object of this plugin, for finding its install's data (xc_data_file). */
static const char plugin_anchor;

void ocl_tuning_load(const xhal_host_api_t *host, const char *name, const char *identity,
                     cl_device_type type, ocl_tuning_t *out) {
    *out = fallback;
    ocl_copy_string(out->section, sizeof(out->section), "none");
    ocl_copy_string(out->source, sizeof(out->source), "the values compiled in");
    int gpu = (type & CL_DEVICE_TYPE_GPU) != 0, cpu = !gpu && (type & CL_DEVICE_TYPE_CPU);
    xc_device_id_t id = {.name = name,
                         .type = gpu   ? "gpu"
                                 : cpu ? "cpu"
                                       : "accelerator",
                         .identity = identity};
    xc_tuning_file_t file;
    xc_tuning_open(host, "opencl", &id, &plugin_anchor, ocl_tuning_builtin, &file);
    if (!file.ini) return;
    ocl_copy_string(out->source, sizeof(out->source), file.source);
    size_t sections[4];
    size_t count = xc_tuning_sections(file.ini, &id, sections);
    for (size_t i = 0; i < count; i++) {
        xc_tuning_apply(file.ini, sections[i], file.source, params, PARAM_COUNT, out, warn,
                        (void *)host);
        ocl_copy_string(out->section, sizeof(out->section),
                        xc_ini_section_name(file.ini, sections[i]));
    }
    xc_tuning_close(&file);
}
