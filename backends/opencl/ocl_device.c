/*
 * One OpenCL device: its context (shared by its streams, buffers and programs), what it is,
 * and its tuning parameters. Programs are built on first use (ocl_program.c), not here, so
 * that `xhal devices` never waits for a compiler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl_internal.h"
#include "ocl_peaks.h"

void ocl_copy_string(char *dst, size_t size, const char *src) {
    size_t n = strlen(src);
    if (n >= size) n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Trims surrounding blanks in place (drivers pad some strings). */
static void trim(char *text) {
    size_t start = strspn(text, " \t\n");
    size_t n = strlen(text + start);
    while (n > 0 && strchr(" \t\n", text[start + n - 1]))
        n--;
    memmove(text, text + start, n);
    text[n] = '\0';
}

void ocl_device_string(cl_device_id device, cl_device_info param, char *out, size_t size) {
    char buffer[1024];
    size_t length = 0;
    if (ocl.clGetDeviceInfo(device, param, sizeof(buffer) - 1, buffer, &length) != CL_SUCCESS)
        length = 0;
    buffer[length < sizeof(buffer) ? length : sizeof(buffer) - 1] = '\0';
    trim(buffer);
    ocl_copy_string(out, size, buffer);
}

void ocl_platform_string(cl_platform_id platform, cl_platform_info param, char *out, size_t size) {
    char buffer[1024];
    size_t length = 0;
    if (ocl.clGetPlatformInfo(platform, param, sizeof(buffer) - 1, buffer, &length) != CL_SUCCESS)
        length = 0;
    buffer[length < sizeof(buffer) ? length : sizeof(buffer) - 1] = '\0';
    trim(buffer);
    ocl_copy_string(out, size, buffer);
}

/* A fixed-size device parameter; 0 when the query fails. */
static uint64_t device_u64(cl_device_id device, cl_device_info param, size_t size) {
    uint64_t value = 0; /* little-endian hosts: a cl_uint lands in the low half */
    if (ocl.clGetDeviceInfo(device, param, size, &value, NULL) != CL_SUCCESS) return 0;
    if (size == sizeof(cl_uint)) return (uint32_t)value;
    return value;
}

/*
 * The architecture column: CL_DEVICE_VERSION, which names the driver's target. PoCL writes
 * "OpenCL 3.0 PoCL HSTR: pthread-x86_64-pc-linux-gnu-skylake-avx512"; the part after "HSTR: "
 * is the target triple and CPU, and the rest would not fit in 64 characters.
 */
static void fill_architecture(cl_device_id device, char *out, size_t size) {
    char version[256];
    ocl_device_string(device, CL_DEVICE_VERSION, version, sizeof(version));
    const char *target = strstr(version, "HSTR: ");
    if (target) {
        int opencl = (int)strcspn(version + 7, " ") + 7; /* "OpenCL X.Y" */
        snprintf(out, size, "%.*s %s", opencl, version, target + 6);
    } else {
        ocl_copy_string(out, size, version);
    }
}

static void fill_info(xhal_be_device_t *device) {
    xhal_device_info_t *info = &device->info;
    cl_device_id id = device->id;
    cl_device_type type = (cl_device_type)device_u64(id, CL_DEVICE_TYPE, sizeof(cl_device_type));
    info->type = type & CL_DEVICE_TYPE_GPU   ? XHAL_DEVICE_TYPE_GPU
                 : type & CL_DEVICE_TYPE_CPU ? XHAL_DEVICE_TYPE_CPU
                                             : XHAL_DEVICE_TYPE_ACCELERATOR;
    ocl_device_string(id, CL_DEVICE_NAME, info->name, sizeof(info->name));
    ocl_device_string(id, CL_DEVICE_VENDOR, info->vendor, sizeof(info->vendor));
    ocl_device_string(id, CL_DRIVER_VERSION, info->driver, sizeof(info->driver));
    fill_architecture(id, info->architecture, sizeof(info->architecture));
    info->memory_bytes = device_u64(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(cl_ulong));
    info->compute_units = (uint32_t)device_u64(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(cl_uint));
    info->clock_ghz = (double)device_u64(id, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof(cl_uint)) / 1e3;
    if (info->type == XHAL_DEVICE_TYPE_CPU)
        ocl_cpu_peaks(info, device->host_ghz);
    else
        ocl_copy_string(info->peak_source, sizeof(info->peak_source),
                        "unknown: no datasheet figure for this device yet");

    device->host_unified = (int)device_u64(id, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof(cl_bool));
    device->max_alloc = device_u64(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(cl_ulong));
    device->local_memory = device_u64(id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof(cl_ulong));
    device->max_work_group = (size_t)device_u64(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(size_t));

    char platform[128], version[256];
    ocl_platform_string(device->platform, CL_PLATFORM_NAME, platform, sizeof(platform));
    ocl_device_string(id, CL_DEVICE_VERSION, version, sizeof(version));
    snprintf(device->identity, sizeof(device->identity), "%s | %s | %s | %s | %s", info->name,
             info->vendor, platform, version, info->driver);
    ocl_tuning_load(device->host, info->name, device->identity, info->driver, type,
                    &device->tuning);
    ocl_limits_t limits = {.local_memory = device->local_memory,
                           .max_work_group = device->max_work_group};
    size_t items[3] = {0, 0, 0};
    if (ocl.clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof(items), items, NULL) !=
        CL_SUCCESS)
        items[0] = items[1] = items[2] = device->max_work_group;
    memcpy(limits.max_item, items, sizeof(items));
    ocl_tuning_fit(device->host, info->name, &limits, &device->tuning);
    ocl_tuning_report(&device->tuning, info);
}

xhal_status_t ocl_device_open(xhal_be_state_t *state, uint32_t index,
                              xhal_be_device_t **out_device) {
    const xhal_host_api_t *host = state->host;
    xhal_be_device_t *device = calloc(1, sizeof(*device));
    if (!device)
        return host->set_error(XHAL_OUT_OF_MEMORY, "opencl: out of host memory for a device");
    device->host = host;
    device->host_ghz = state->host_ghz;
    device->platform = state->found[index].platform;
    device->id = state->found[index].device;

    cl_context_properties properties[] = {CL_CONTEXT_PLATFORM,
                                          (cl_context_properties)device->platform, 0};
    cl_int err = CL_SUCCESS;
    device->context = ocl.clCreateContext(properties, 1, &device->id, NULL, NULL, &err);
    if (!device->context || err != CL_SUCCESS) {
        char name[128];
        ocl_device_string(device->id, CL_DEVICE_NAME, name, sizeof(name));
        free(device);
        return ocl_fail(host, err, "clCreateContext", "device %s", name);
    }
    pthread_mutex_init(&device->lock, NULL);
    fill_info(device);
    const char *extra = xhal_host_option(host, "XHAL_OPENCL_BUILD_OPTIONS");
    ocl_copy_string(device->build_options, sizeof(device->build_options), extra ? extra : "");
    const char *profile = xhal_host_option(host, "XHAL_OPENCL_PROFILE");
    device->profile = profile && strcmp(profile, "1") == 0;
    host->log(
        XHAL_LOG_INFO, "%s (%s): %u compute units, %.2f GHz, peak f32 %.1f GFLOP/s; tuning %s",
        device->info.name, device->info.driver, device->info.compute_units, device->info.clock_ghz,
        device->info.peak_flops[XHAL_DTYPE_F32] * 1e-9, device->info.tuning);
    *out_device = device;
    return XHAL_OK;
}

void ocl_device_close(xhal_be_device_t *device) {
    if (!device) return;
    ocl_programs_release(device);
    ocl.clReleaseContext(device->context);
    pthread_mutex_destroy(&device->lock);
    free(device);
}

xhal_status_t ocl_device_info(xhal_be_device_t *device, xhal_device_info_t *out_info) {
    *out_info = device->info;
    return XHAL_OK;
}
