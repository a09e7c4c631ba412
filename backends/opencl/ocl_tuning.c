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
 *
 * This file is pure (no OpenCL call, no file): the keys and what applying a parsed file does, so
 * that the fuzz target tests/fuzz/fuzz_ini.c runs it as the plugin does. Which file is read is
 * ocl_tuning_file.c's.
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

typedef struct warn_context {
    const xhal_host_api_t *host;
    ocl_tuning_t *tuning;
} warn_context_t;

static void warn(void *context, const char *message) {
    warn_context_t *c = context;
    c->host->log(XHAL_LOG_WARN, "%s; keeping the previous value", message);
    /* The first refusal is kept for the device's info (xhal tune skips such a candidate). */
    if (!c->tuning->refused[0])
        snprintf(c->tuning->refused, sizeof c->tuning->refused, "%s", message);
}

void ocl_tuning_report(const ocl_tuning_t *t, xhal_device_info_t *info) {
    char text[1024];
    if (t->tuned[0])
        snprintf(text, sizeof text, "tuned: %s over [%s] of %s", t->tuned, t->section, t->source);
    else
        snprintf(text, sizeof text, "shipped: [%s] of %s", t->section, t->source);
    if (t->refused[0]) {
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "; refused: %s", t->refused);
    }
    if (t->ignored[0]) {
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "; tuned file %s", t->ignored);
    }
    snprintf(info->tuning, sizeof info->tuning, "%.*s", (int)sizeof info->tuning - 1, text);
    snprintf(info->tuning_key, sizeof info->tuning_key, "%s", t->kernels);
}

const xc_param_t *ocl_tuning_params(size_t *out_count) {
    *out_count = PARAM_COUNT;
    return params;
}

void ocl_tuning_apply(const xc_ini_t *ini, const char *source, const xc_device_id_t *id,
                      const xhal_host_api_t *host, ocl_tuning_t *out) {
    size_t sections[4];
    size_t count = xc_tuning_sections(ini, id, sections);
    warn_context_t context = {host, out};
    for (size_t i = 0; i < count; i++) {
        xc_tuning_apply(ini, sections[i], source, params, PARAM_COUNT, out, warn, &context);
        const char *section = xc_ini_section_name(ini, sections[i]);
        /* A tuned file's section is named like the device: the shipped one stays named. */
        if (!out->tuned[0] || !id->name || strcmp(section, id->name) != 0)
            snprintf(out->section, sizeof out->section, "%s", section);
    }
}
