/*
 * Which tuning file a device's parameters come from (xc_tuning_open: $XHAL_OPENCL_TUNING, the
 * user's cache, the install's datadir, the copy compiled into the plugin) and the device's
 * tuned file over it (xc_tuned.h, keyed by the hash of the kernel sources below), applied by
 * ocl_tuning.c over the values compiled in.
 */
#include <stddef.h>

#include "ocl_internal.h"
#include "xc_tuned.h"
#include "xc_tuning.h"

/* An object of this plugin, for finding its install's data (xc_data_file). */
static const char plugin_anchor;

/* The hash of every kernel source and of how options are made from a tuning: a tuned file made
 * for other kernels is stale (xc_tuned.h). */
static void kernels_hash(char out[17]) {
    const char *parts[] = {"xhal-opencl-tuning-1",    ocl_source_common, ocl_source_gemm_epilogue,
                           ocl_source_gemm,           ocl_source_qgemm,  ocl_source_attention,
                           ocl_source_attention_merge};
    xc_tuned_hash(parts, sizeof parts / sizeof parts[0], out);
}

void ocl_tuning_load(const xhal_host_api_t *host, const char *name, const char *identity,
                     const char *driver, cl_device_type type, ocl_tuning_t *out) {
    ocl_tuning_defaults(out);
    ocl_copy_string(out->section, sizeof(out->section), "none");
    ocl_copy_string(out->source, sizeof(out->source), "the values compiled in");
    kernels_hash(out->kernels);
    int gpu = (type & CL_DEVICE_TYPE_GPU) != 0, cpu = !gpu && (type & CL_DEVICE_TYPE_CPU);
    xc_device_id_t id = {.name = name,
                         .type = gpu   ? "gpu"
                                 : cpu ? "cpu"
                                       : "accelerator",
                         .identity = identity,
                         .driver = driver,
                         .kernels = out->kernels};
    xc_tuning_file_t file;
    xc_tuning_open(host, "opencl", &id, &plugin_anchor, ocl_tuning_builtin, &file);
    if (!file.ini) return;
    ocl_copy_string(out->source, sizeof(out->source), file.source);
    ocl_copy_string(out->tuned, sizeof(out->tuned), file.tuned);
    ocl_copy_string(out->ignored, sizeof(out->ignored), file.ignored);
    ocl_tuning_apply(file.ini, file.source, &id, host, out);
    xc_tuning_close(&file);
}
