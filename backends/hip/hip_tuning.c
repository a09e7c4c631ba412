/*
 * kernels/tuning/hip.ini: which compiled MFMA configuration each target uses, and the thresholds
 * of the kernel choice. Read with the common tuning reader (backends/common/xc_tuning.h), which
 * also decides the order of the sections applied ([default], [gfxNNN], a `match` section, a
 * section named like the device) and of the files tried ($XHAL_HIP_TUNING, the user's cache,
 * the install's datadir, the copy embedded in the plugin).
 *
 * The rule for a bad file is the CUDA backend's: any problem (a malformed line, an unknown key,
 * a value out of range), in any section, rejects the whole file and the device keeps the
 * defaults, with a warning naming the line.
 */
#include <stdio.h>
#include <string.h>

#include "hip_plan.h"
#include "xc_tuning.h"

static const xc_param_t params[] = {
    XC_TEXT_PARAM(hip_tuning_t, gemm_large),
    XC_TEXT_PARAM(hip_tuning_t, gemm_small),
    XC_TEXT_PARAM(hip_tuning_t, gemm_skinny),
    XC_INT_PARAM(hip_tuning_t, gemm_skinny_max_m, 0, 64, 0),
    XC_INT_PARAM(hip_tuning_t, gemm_group_m, 1, 64, 0),
    XC_INT_PARAM(hip_tuning_t, gemm_splitk_max, 1, 64, 0),
    XC_INT_PARAM(hip_tuning_t, gemm_gemv_max_m, 0, 16, 0),
    XC_INT_PARAM(hip_tuning_t, attention_decode_max_queries, 0, 16, 0),
    XC_INT_PARAM(hip_tuning_t, attention_min_keys_per_split, 32, 1 << 20, 0),
};
#define PARAM_COUNT (sizeof params / sizeof params[0])

int hip_tuning_apply(const xc_ini_t *ini, const char *source, const char *gfx,
                     const char *device_name, hip_tuning_t *tuning, char *error,
                     size_t error_size) {
    xc_device_id_t id = {.name = device_name, .arch = gfx, .type = "gpu"};
    return xc_tuning_apply_strict(ini, source, &id, params, PARAM_COUNT, tuning, error, error_size);
}

int hip_tuning_parse(const char *text, const char *gfx, const char *device_name, hip_tuning_t *t,
                     char *error, size_t error_size) {
    xc_ini_t *ini = xc_ini_parse(text, strlen(text), "hip.ini", error, error_size);
    if (!ini) return -1;
    int status = hip_tuning_apply(ini, "hip.ini", gfx, device_name, t, error, error_size);
    xc_ini_free(ini);
    return status;
}
