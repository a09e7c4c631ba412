/*
 * Modules and kernels. A device's program (gemm, attention, attention_merge) is the SPIR-V
 * module compiled at build time for the -D options its tuning gives (ocl_program_options(),
 * backends/common/xc_spirv.h), made with zeModuleCreate on first use; Level Zero has no OpenCL C
 * compiler, so a tuning no module was compiled for (a user tuning file, limits that lowered a
 * value) is UNSUPPORTED naming the options. Kernels belong to streams: their arguments are
 * state, and two threads setting them on one kernel would race.
 *
 * A launch is the OpenCL NDRange: `global` work-items in groups of `local` (or, when the
 * dispatch leaves it to the runtime, a group size zeKernelSuggestGroupSize gives, which divides
 * the global size; one work-item per group where the tuning asks for that). Arguments are set
 * with zeKernelSetArgumentValue exactly as clSetKernelArg would take them: buffers as the USM
 * pointer, local memory as a size with no value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lz_internal.h"

#define BUILD_LOG_MAX 2400

static xhal_status_t create_module(xhal_be_device_t *device, ocl_program_id_t id,
                                   ze_module_handle_t *out) {
    const xhal_host_api_t *host = device->host;
    const char *name = ocl_program_name(id);
    char options[768];
    ocl_program_options(&device->tuning, "", id, options, sizeof(options));
    const xc_spirv_module_t *module =
        xc_spirv_find(lz_spirv_modules, lz_spirv_modules_count, name, options);
    if (!module)
        return host->set_error(
            XHAL_UNSUPPORTED,
            "levelzero: no SPIR-V module of the %s kernels was compiled for the options of %s "
            "(\"%s\", tuning [%s] of %s): Level Zero runs only the modules built with xhal "
            "(%zu; a build without clang-15, llvm-spirv-15 and spirv-val has none)",
            name, device->info.name, options, device->tuning.section, device->tuning.source,
            lz_spirv_modules_count);
    ze_module_desc_t desc = {.stype = ZE_STRUCTURE_TYPE_MODULE_DESC,
                             .format = ZE_MODULE_FORMAT_IL_SPIRV,
                             .inputSize = module->size,
                             .pInputModule = module->code,
                             .pBuildFlags = ""};
    ze_module_build_log_handle_t log = NULL;
    ze_result_t result = lz.zeModuleCreate(device->context, device->id, &desc, out, &log);
    if (result != ZE_RESULT_SUCCESS) {
        char text[BUILD_LOG_MAX + 1] = "";
        size_t size = sizeof(text);
        if (!log || lz.zeModuleBuildLogGetString(log, &size, text) != ZE_RESULT_SUCCESS)
            text[0] = '\0';
        text[BUILD_LOG_MAX] = '\0';
        if (log) lz.zeModuleBuildLogDestroy(log);
        *out = NULL;
        return host->set_error(XHAL_DEVICE_ERROR,
                               "levelzero: zeModuleCreate (the %s kernels for %s, SPIR-V of "
                               "options \"%s\") failed with %s (0x%x); build log:\n%s",
                               name, device->info.name, options, lz_result_name(result),
                               (unsigned)result, text[0] ? text : "(empty)");
    }
    if (log) lz.zeModuleBuildLogDestroy(log);
    host->log(XHAL_LOG_INFO, "module %s for %s: %zu bytes of SPIR-V", name, device->info.name,
              module->size);
    return XHAL_OK;
}

static xhal_status_t module_get(xhal_be_device_t *device, ocl_program_id_t id,
                                ze_module_handle_t *out) {
    xhal_status_t status = XHAL_OK;
    pthread_mutex_lock(&device->lock);
    if (!device->modules[id]) status = create_module(device, id, &device->modules[id]);
    *out = device->modules[id];
    pthread_mutex_unlock(&device->lock);
    return status;
}

void lz_modules_release(xhal_be_device_t *device) {
    for (int i = 0; i < OCL_PROGRAM_COUNT; i++)
        if (device->modules[i]) lz.zeModuleDestroy(device->modules[i]);
}

static xhal_status_t get_kernel(xhal_be_stream_t *stream, ocl_family_t family, int variant,
                                const char *name, ze_kernel_handle_t *out) {
    ze_kernel_handle_t *slot = &stream->kernels[family][variant];
    if (!*slot) {
        ze_module_handle_t module = NULL;
        xhal_status_t status = module_get(stream->device, ocl_family_program(family), &module);
        if (status != XHAL_OK) return status;
        ze_kernel_desc_t desc = {.stype = ZE_STRUCTURE_TYPE_KERNEL_DESC, .pKernelName = name};
        ze_result_t result = lz.zeKernelCreate(module, &desc, slot);
        if (result != ZE_RESULT_SUCCESS) {
            *slot = NULL;
            return lz_fail(stream->device->host, result, "zeKernelCreate", "%s", name);
        }
    }
    *out = *slot;
    return XHAL_OK;
}

xhal_status_t ocl_launch(xhal_be_stream_t *stream, ocl_family_t family, int variant,
                         const ocl_arg_t *args, size_t arg_count, cl_uint dims,
                         const size_t *global, const size_t *local) {
    const xhal_host_api_t *host = stream->device->host;
    char name[64];
    ocl_kernel_name(family, variant, name, sizeof(name));
    ze_kernel_handle_t kernel = NULL;
    xhal_status_t status = get_kernel(stream, family, variant, name, &kernel);
    if (status != XHAL_OK) return status;
    for (size_t i = 0; i < arg_count; i++) {
        ze_result_t result =
            lz.zeKernelSetArgumentValue(kernel, (uint32_t)i, args[i].size, args[i].value);
        if (result != ZE_RESULT_SUCCESS)
            return lz_fail(host, result, "zeKernelSetArgumentValue", "argument %zu of %s", i, name);
    }
    uint32_t size[3] = {1, 1, 1}, group[3] = {1, 1, 1};
    for (cl_uint d = 0; d < dims; d++) {
        if (global[d] == 0) return XHAL_OK; /* nothing to do */
        if (global[d] > UINT32_MAX)
            return host->set_error(XHAL_UNSUPPORTED,
                                   "levelzero: %s over %zu work-items in "
                                   "dimension %u (Level Zero counts them in 32 bits)",
                                   name, global[d], (unsigned)d);
        size[d] = (uint32_t)global[d];
    }
    if (local) {
        for (cl_uint d = 0; d < dims; d++)
            group[d] = (uint32_t)local[d];
    } else if (!stream->device->tuning.one_item_groups) {
        ze_result_t result = lz.zeKernelSuggestGroupSize(kernel, size[0], size[1], size[2],
                                                         &group[0], &group[1], &group[2]);
        if (result != ZE_RESULT_SUCCESS)
            return lz_fail(host, result, "zeKernelSuggestGroupSize", "%s", name);
    }
    ze_group_count_t count = {1, 1, 1};
    uint32_t *counts[3] = {&count.groupCountX, &count.groupCountY, &count.groupCountZ};
    for (int d = 0; d < 3; d++) {
        /* The dispatch gives global sizes that are whole groups, as OpenCL 1.2 requires. */
        if (group[d] == 0 || size[d] % group[d] != 0)
            return host->set_error(XHAL_DEVICE_ERROR,
                                   "levelzero: %s: %u work-items in dimension %d are not whole "
                                   "groups of %u",
                                   name, size[d], d, group[d]);
        *counts[d] = size[d] / group[d];
    }
    ze_result_t result = lz.zeKernelSetGroupSize(kernel, group[0], group[1], group[2]);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeKernelSetGroupSize", "%s in groups of %u x %u x %u", name,
                       group[0], group[1], group[2]);
    result = lz.zeCommandListAppendLaunchKernel(stream->list, kernel, &count, NULL, 0, NULL);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeCommandListAppendLaunchKernel", "%s over %u x %u x %u",
                       name, size[0], size[1], size[2]);
    if (host->log_enabled(XHAL_LOG_DEBUG))
        host->log(XHAL_LOG_DEBUG, "launched %s over %u x %u x %u in groups of %u x %u x %u", name,
                  size[0], size[1], size[2], group[0], group[1], group[2]);
    return lz_stream_order(stream, name);
}

void lz_kernels_release(xhal_be_stream_t *stream) {
    for (int f = 0; f < OCL_FAMILY_COUNT; f++)
        for (int t = 0; t < OCL_VARIANTS; t++)
            if (stream->kernels[f][t]) lz.zeKernelDestroy(stream->kernels[f][t]);
}
