/*
 * Which tuning file a device's parameters come from (xc_tuning_open: $XHAL_OPENCL_TUNING, the
 * user's cache, the install's datadir, the copy compiled into the plugin), applied by
 * ocl_tuning.c over the values compiled in.
 */
#include <stddef.h>

#include "ocl_ops.h"
#include "xc_tuning.h"

/* An object of this plugin, for finding its install's data (xc_data_file). */
static const char plugin_anchor;

void ocl_tuning_load(const xhal_host_api_t *host, const char *name, const char *identity,
                     cl_device_type type, ocl_tuning_t *out) {
    ocl_tuning_defaults(out);
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
    ocl_tuning_apply(file.ini, file.source, &id, host, out);
    xc_tuning_close(&file);
}
