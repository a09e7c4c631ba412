/*
 * kernels/tuning/cuda.ini: which compiled kernel configuration each architecture uses, and the
 * thresholds of the kernel choice. Read with the common tuning reader (backends/common/
 * xc_tuning.h), which also decides the order of the sections applied ([default], [sm_XY], a
 * `match` section, a section named like the device) and of the files tried
 * ($XHAL_CUDA_TUNING, the user's cache, the install's datadir, the copy embedded in the plugin).
 *
 * The CUDA backend's rule for a bad file: any problem (a malformed line, an unknown key, a value
 * out of range), in any section, rejects the whole file and the device keeps the defaults, with
 * a warning naming the line.
 */
#include <stdio.h>
#include <string.h>

#include "cuda_plan.h"
#include "xc_tuning.h"

static const xc_param_t params[] = {
    XC_TEXT_PARAM(cuda_tuning_t, gemm_mma_large),
    XC_TEXT_PARAM(cuda_tuning_t, gemm_mma_small),
    XC_TEXT_PARAM(cuda_tuning_t, gemm_sm90),
    XC_INT_PARAM(cuda_tuning_t, gemm_group_m, 1, 64, 0),
    XC_INT_PARAM(cuda_tuning_t, gemm_splitk_max, 1, 64, 0),
    XC_INT_PARAM(cuda_tuning_t, gemm_gemv_max_m, 0, 16, 0),
    XC_INT_PARAM(cuda_tuning_t, attention_decode_max_queries, 0, 16, 0),
    XC_INT_PARAM(cuda_tuning_t, attention_min_keys_per_split, 32, 1 << 20, 0),
    XC_INT_PARAM(cuda_tuning_t, attention_sm90, 0, 1, 0),
};
#define PARAM_COUNT (sizeof params / sizeof params[0])

const struct xc_param *cuda_tuning_params(size_t *out_count) {
    *out_count = PARAM_COUNT;
    return params;
}

int cuda_tuning_apply(const xc_ini_t *ini, const char *source, const char *arch_section,
                      const char *device_name, cuda_tuning_t *tuning, char *error,
                      size_t error_size) {
    xc_device_id_t id = {.name = device_name, .arch = arch_section, .type = "gpu"};
    return xc_tuning_apply_strict(ini, source, &id, params, PARAM_COUNT, tuning, error, error_size);
}

int cuda_tuning_parse(const char *text, const char *arch_section, const char *device_name,
                      cuda_tuning_t *tuning, char *error, size_t error_size) {
    xc_ini_t *ini = xc_ini_parse(text, strlen(text), "cuda.ini", error, error_size);
    if (!ini) return -1;
    int status =
        cuda_tuning_apply(ini, "cuda.ini", arch_section, device_name, tuning, error, error_size);
    xc_ini_free(ini);
    return status;
}
