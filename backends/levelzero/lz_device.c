/*
 * One Level Zero device: its context (shared by its streams, buffers and modules), what it is
 * (device, compute and memory properties), and the tuning of the OpenCL kernels it runs
 * (kernels/tuning/opencl.ini, the same sections as the OpenCL backend: they are the same
 * kernels). Peaks are left to the core, which fills them from hal/data/devices.ini by name.
 * Modules are made on first use (lz_kernel.c), so `xhal devices` never waits for a compiler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lz_internal.h"

/* The ordinal of the first command queue group that runs kernels (0 if none says so). */
static uint32_t compute_ordinal(ze_device_handle_t device) {
    uint32_t count = 0;
    if (lz.zeDeviceGetCommandQueueGroupProperties(device, &count, NULL) != ZE_RESULT_SUCCESS ||
        count == 0)
        return 0;
    ze_command_queue_group_properties_t *groups = calloc(count, sizeof(*groups));
    if (!groups) return 0;
    for (uint32_t i = 0; i < count; i++)
        groups[i].stype = ZE_STRUCTURE_TYPE_COMMAND_QUEUE_GROUP_PROPERTIES;
    uint32_t ordinal = 0;
    if (lz.zeDeviceGetCommandQueueGroupProperties(device, &count, groups) == ZE_RESULT_SUCCESS)
        for (uint32_t i = 0; i < count; i++)
            if (groups[i].flags & ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE) {
                ordinal = i;
                break;
            }
    free(groups);
    return ordinal;
}

static xhal_status_t fill_info(xhal_be_device_t *device) {
    const xhal_host_api_t *host = device->host;
    xhal_device_info_t *info = &device->info;
    ze_device_properties_t props = {.stype = ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES};
    ze_result_t result = lz.zeDeviceGetProperties(device->id, &props);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeDeviceGetProperties", "a device's properties");
    ze_device_compute_properties_t compute = {.stype = ZE_STRUCTURE_TYPE_DEVICE_COMPUTE_PROPERTIES};
    result = lz.zeDeviceGetComputeProperties(device->id, &compute);
    if (result != ZE_RESULT_SUCCESS)
        return lz_fail(host, result, "zeDeviceGetComputeProperties", "%s", props.name);

    info->type = props.type == ZE_DEVICE_TYPE_CPU   ? XHAL_DEVICE_TYPE_CPU
                 : props.type == ZE_DEVICE_TYPE_GPU ? XHAL_DEVICE_TYPE_GPU
                                                    : XHAL_DEVICE_TYPE_ACCELERATOR;
    ocl_copy_string(info->name, sizeof(info->name), props.name);
    if (props.vendorId == 0x8086)
        ocl_copy_string(info->vendor, sizeof(info->vendor), "Intel(R) Corporation");
    else
        snprintf(info->vendor, sizeof(info->vendor), "PCI vendor 0x%04x", props.vendorId);
    ze_driver_properties_t driver = {.stype = ZE_STRUCTURE_TYPE_DRIVER_PROPERTIES};
    ze_api_version_t api = 0;
    if (lz.zeDriverGetProperties(device->driver, &driver) != ZE_RESULT_SUCCESS)
        driver.driverVersion = 0;
    if (lz.zeDriverGetApiVersion(device->driver, &api) != ZE_RESULT_SUCCESS) api = 0;
    snprintf(info->driver, sizeof(info->driver), "driver %u, Level Zero %u.%u",
             driver.driverVersion, ZE_MAJOR_VERSION(api), ZE_MINOR_VERSION(api));
    snprintf(info->architecture, sizeof(info->architecture), "device 0x%04x, SIMD%u",
             props.deviceId, props.physicalEUSimdWidth);

    /* The sum of the device's memories (HBM stacks, GDDR), as OpenCL's global memory is. */
    uint32_t memories = 0;
    if (lz.zeDeviceGetMemoryProperties(device->id, &memories, NULL) == ZE_RESULT_SUCCESS &&
        memories > 0) {
        ze_device_memory_properties_t *mem = calloc(memories, sizeof(*mem));
        if (mem) {
            for (uint32_t i = 0; i < memories; i++)
                mem[i].stype = ZE_STRUCTURE_TYPE_DEVICE_MEMORY_PROPERTIES;
            if (lz.zeDeviceGetMemoryProperties(device->id, &memories, mem) == ZE_RESULT_SUCCESS)
                for (uint32_t i = 0; i < memories; i++)
                    info->memory_bytes += mem[i].totalSize;
            free(mem);
        }
    }
    /* Execution units: what Intel counts (slices x sub-slices x EUs per sub-slice). */
    info->compute_units = props.numSlices * props.numSubslicesPerSlice * props.numEUsPerSubslice;
    info->clock_ghz = props.coreClockRate * 1e-3;

    device->max_alloc = props.maxMemAllocSize;
    device->local_memory = compute.maxSharedLocalMemory;
    device->max_work_group = compute.maxTotalGroupSize;
    /* ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES gives timerResolution in nanoseconds per tick. */
    device->tick_ns = props.timerResolution ? (double)props.timerResolution : 1.0;
    device->timestamp_mask = props.timestampValidBits >= 64 || props.timestampValidBits == 0
                                 ? UINT64_MAX
                                 : ((uint64_t)1 << props.timestampValidBits) - 1;
    device->compute_ordinal = compute_ordinal(device->id);

    snprintf(device->identity, sizeof(device->identity), "%s | %s | Level Zero | %s", info->name,
             info->vendor, info->driver);
    cl_device_type type = info->type == XHAL_DEVICE_TYPE_CPU   ? CL_DEVICE_TYPE_CPU
                          : info->type == XHAL_DEVICE_TYPE_GPU ? CL_DEVICE_TYPE_GPU
                                                               : CL_DEVICE_TYPE_ACCELERATOR;
    ocl_tuning_load(host, info->name, device->identity, info->driver, type, &device->tuning);
    ocl_limits_t limits = {
        .local_memory = device->local_memory,
        .max_work_group = device->max_work_group,
        .max_item = {compute.maxGroupSizeX, compute.maxGroupSizeY, compute.maxGroupSizeZ}};
    ocl_tuning_fit(host, info->name, &limits, &device->tuning);
    ocl_tuning_report(&device->tuning, info);
    return XHAL_OK;
}

xhal_status_t lz_device_open(xhal_be_state_t *state, uint32_t index, xhal_be_device_t **out) {
    const xhal_host_api_t *host = state->host;
    xhal_be_device_t *device = calloc(1, sizeof(*device));
    if (!device)
        return host->set_error(XHAL_OUT_OF_MEMORY, "levelzero: out of host memory for a device");
    device->host = host;
    device->driver = state->found[index].driver;
    device->id = state->found[index].device;
    xhal_status_t status = fill_info(device);
    if (status != XHAL_OK) {
        free(device);
        return status;
    }
    ze_context_desc_t desc = {.stype = ZE_STRUCTURE_TYPE_CONTEXT_DESC};
    ze_result_t result = lz.zeContextCreate(device->driver, &desc, &device->context);
    if (result != ZE_RESULT_SUCCESS) {
        status = lz_fail(host, result, "zeContextCreate", "%s", device->info.name);
        free(device);
        return status;
    }
    pthread_mutex_init(&device->lock, NULL);
    host->log(XHAL_LOG_INFO, "%s (%s): %u EUs, %.2f GHz; tuning [%s] of %s", device->info.name,
              device->info.driver, device->info.compute_units, device->info.clock_ghz,
              device->tuning.section, device->tuning.source);
    *out = device;
    return XHAL_OK;
}

void lz_device_close(xhal_be_device_t *device) {
    if (!device) return;
    lz_modules_release(device);
    lz.zeContextDestroy(device->context);
    pthread_mutex_destroy(&device->lock);
    free(device);
}

xhal_status_t lz_device_info(xhal_be_device_t *device, xhal_device_info_t *out_info) {
    *out_info = device->info;
    return XHAL_OK;
}
