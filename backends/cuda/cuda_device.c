/*
 * One CUDA device: its primary context (shared with any CUDA runtime code in the process, so
 * xhal buffers and cuBLAS calls can meet in one context), what the driver says it is, the two
 * kernel modules, the tuning that applies to it, and the helpers every op uses to find a
 * kernel, get scratch memory and launch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "xc_cache.h"
#include "xc_tuning.h"

uint32_t cuda_device_count(xhal_be_state_t *state) {
    return (uint32_t)state->device_count;
}

static int attribute(xhal_be_device_t *dev, CUdevice_attribute what) {
    int value = 0;
    if (dev->driver->cuDeviceGetAttribute(&value, what, dev->device) != CUDA_SUCCESS) return 0;
    return value;
}

/* An object of this plugin, for finding its install's data (xc_data_file). */
static const char plugin_anchor;

/* The key of the device's tuned file (xc_tuned.h): a hash of the two fatbins' bytes. */
static void kernels_hash(char out[17]) {
    uint64_t h = xc_hash64(xhal_cuda_fatbin_gpu,
                           (size_t)(xhal_cuda_fatbin_gpu_end - xhal_cuda_fatbin_gpu), 0x9e3779b9u);
    h = xc_hash64(xhal_cuda_fatbin_sm90,
                  (size_t)(xhal_cuda_fatbin_sm90_end - xhal_cuda_fatbin_sm90), h);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/*
 * The tuning that applies to the device (kernels/tuning/cuda.ini, then the device's tuned file;
 * backends/common/xc_tuning.h), and what is in force in info.tuning.
 */
static void load_tuning(xhal_be_device_t *dev) {
    cuda_tuning_defaults(&dev->tuning);
    kernels_hash(dev->info.tuning_key);
    xc_device_id_t id = {.name = dev->info.name,
                         .arch = dev->info.architecture,
                         .type = "gpu",
                         .driver = dev->info.driver,
                         .kernels = dev->info.tuning_key};
    xc_tuning_file_t file;
    xc_tuning_open(dev->host, "cuda", &id, &plugin_anchor, xhal_cuda_tuning_ini, &file);
    char error[640], text[1024];
    int refused =
        file.ini && cuda_tuning_apply(file.ini, file.source, dev->info.architecture, dev->info.name,
                                      &dev->tuning, error, sizeof error) != 0;
    if (refused)
        dev->host->log(XHAL_LOG_WARN, "%s; using the default tuning", error);
    else if (file.ini)
        dev->host->log(XHAL_LOG_INFO, "%s: tuning from %s", dev->info.name, file.source);
    snprintf(text, sizeof text, "%s%.300s%s of %.300s%s%.200s%s%.150s",
             file.tuned[0] ? "tuned: " : "shipped: ", file.tuned,
             file.tuned[0] ? " over the sections" : "sections", file.ini ? file.source : "none",
             refused ? "; refused: " : "", refused ? error : "",
             file.ignored[0] ? "; tuned file " : "", file.ignored);
    snprintf(dev->info.tuning, sizeof dev->info.tuning, "%.*s", (int)sizeof dev->info.tuning - 1,
             text);
    xc_tuning_close(&file);
}

/* The kernels XHAL_CUDA_GEMM and XHAL_CUDA_ATTENTION may force (cuda_plan.c). */
static const char *const gemm_kinds[] = {"auto", "simt", "mma", "sm90", "gemv", NULL};
static const char *const attention_kinds[] = {"auto", "simple", "fa2", "decode", "sm90", NULL};

/* Loads a fatbin; a GPU the fatbin has no code for keeps the module NULL (ops unsupported). */
static xhal_status_t load_module(xhal_be_device_t *dev, const void *image, CUmodule *out,
                                 const char *what) {
    CUresult r = dev->driver->cuModuleLoadData(out, image);
    if (r == CUDA_SUCCESS) return XHAL_OK;
    *out = NULL;
    if (r == CUDA_ERROR_NO_BINARY_FOR_GPU || r == CUDA_ERROR_INVALID_PTX ||
        r == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
        dev->host->log(XHAL_LOG_WARN, "the %s kernels do not run on %s (sm_%d%d): %s", what,
                       dev->info.name, dev->arch.cc_major, dev->arch.cc_minor,
                       cuda_error_name(dev->driver, r));
        return XHAL_OK;
    }
    return cuda_fail(dev, r, "cuModuleLoadData");
}

xhal_status_t cuda_device_open(xhal_be_state_t *state, uint32_t index, xhal_be_device_t **out) {
    const cuda_driver_t *d = &state->driver;
    xhal_be_device_t *dev = calloc(1, sizeof(*dev));
    if (!dev) return state->host->set_error(XHAL_OUT_OF_MEMORY, "cuda: calloc failed");
    dev->state = state;
    dev->host = state->host;
    dev->driver = d;
    pthread_mutex_init(&dev->lock, NULL);
    xhal_status_t status = XHAL_OK;
    CUresult r = d->cuDeviceGet(&dev->device, (int)index);
    if (r != CUDA_SUCCESS) {
        status = cuda_fail(dev, r, "cuDeviceGet");
        goto fail;
    }
    if ((r = d->cuDevicePrimaryCtxRetain(&dev->context, dev->device)) != CUDA_SUCCESS) {
        status = cuda_fail(dev, r, "cuDevicePrimaryCtxRetain");
        goto fail;
    }
    if ((status = cuda_enter(dev)) != XHAL_OK) goto fail;

    xhal_device_info_t *info = &dev->info;
    info->type = XHAL_DEVICE_TYPE_GPU;
    if (d->cuDeviceGetName(info->name, (int)sizeof info->name, dev->device) != CUDA_SUCCESS)
        snprintf(info->name, sizeof info->name, "CUDA device %u", index);
    snprintf(info->vendor, sizeof info->vendor, "NVIDIA");
    dev->arch.cc_major = attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    dev->arch.cc_minor = attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    dev->arch.sms = attribute(dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    if (dev->arch.sms <= 0) dev->arch.sms = 1;
    dev->arch.smem_optin = attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    snprintf(info->architecture, sizeof info->architecture, "sm_%d%d", dev->arch.cc_major,
             dev->arch.cc_minor);
    snprintf(info->driver, sizeof info->driver, "CUDA driver %d.%d", d->version / 1000,
             d->version % 1000 / 10);
    size_t bytes = 0;
    if (d->cuDeviceTotalMem(&bytes, dev->device) == CUDA_SUCCESS) info->memory_bytes = bytes;
    info->compute_units = (uint32_t)dev->arch.sms;
    info->clock_ghz = attribute(dev, CU_DEVICE_ATTRIBUTE_CLOCK_RATE) / 1e6; /* kHz */
    /* Peaks stay 0 here: the core fills datasheet figures from hal/data/devices.ini. */

    if ((status = load_module(dev, xhal_cuda_fatbin_gpu, &dev->module, "generic")) != XHAL_OK)
        goto fail;
    if (dev->arch.cc_major == 9 && dev->arch.cc_minor == 0) {
        if ((status = load_module(dev, xhal_cuda_fatbin_sm90, &dev->module_sm90, "sm_90a")) !=
            XHAL_OK)
            goto fail;
    }
    dev->arch.has_sm90 = dev->module_sm90 != NULL;
    load_tuning(dev);
    xc_forced_load(dev->host, "CUDA", gemm_kinds, attention_kinds, &dev->forced);
    dev->host->log(XHAL_LOG_INFO, "%s: sm_%d%d, %d SMs, %d bytes of shared memory per block%s",
                   info->name, dev->arch.cc_major, dev->arch.cc_minor, dev->arch.sms,
                   dev->arch.smem_optin, dev->arch.has_sm90 ? ", wgmma kernels loaded" : "");
    *out = dev;
    return XHAL_OK;

fail:
    cuda_device_close(dev);
    return status;
}

void cuda_device_close(xhal_be_device_t *dev) {
    const cuda_driver_t *d = dev->driver;
    if (dev->context) {
        d->cuCtxSetCurrent(dev->context);
        if (dev->module_sm90) d->cuModuleUnload(dev->module_sm90);
        if (dev->module) d->cuModuleUnload(dev->module);
        d->cuDevicePrimaryCtxRelease(dev->device);
    }
    for (size_t i = 0; i < dev->kernel_count; i++)
        free(dev->kernels[i].name);
    pthread_mutex_destroy(&dev->lock);
    free(dev);
}

xhal_status_t cuda_device_info(xhal_be_device_t *dev, xhal_device_info_t *out_info) {
    *out_info = dev->info;
    return XHAL_OK;
}

xhal_status_t cuda_kernel(xhal_be_device_t *dev, const char *name, int sm90, int smem,
                          CUfunction *out) {
    CUmodule module = sm90 ? dev->module_sm90 : dev->module;
    if (!module)
        return dev->host->set_error(XHAL_UNSUPPORTED, "cuda: %s (sm_%d%d) has no module for %s",
                                    dev->info.name, dev->arch.cc_major, dev->arch.cc_minor, name);
    xhal_status_t status = XHAL_OK;
    pthread_mutex_lock(&dev->lock);
    for (size_t i = 0; i < dev->kernel_count; i++)
        if (strcmp(dev->kernels[i].name, name) == 0) {
            *out = dev->kernels[i].function;
            pthread_mutex_unlock(&dev->lock);
            return XHAL_OK;
        }
    CUfunction f = NULL;
    CUresult r = dev->driver->cuModuleGetFunction(&f, module, name);
    if (r != CUDA_SUCCESS) {
        status = dev->host->set_error(XHAL_INTERNAL, "cuda: kernel %s is not in the module: %s",
                                      name, cuda_error_name(dev->driver, r));
    } else if (smem > 48 * 1024 &&
               (r = dev->driver->cuFuncSetAttribute(
                    f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem)) != CUDA_SUCCESS) {
        status = cuda_fail(dev, r, "cuFuncSetAttribute (max dynamic shared memory)");
    } else {
        *out = f;
        if (dev->kernel_count < sizeof dev->kernels / sizeof dev->kernels[0]) {
            /* The name lives in the caller's plan: keep a copy. */
            char *copy = malloc(strlen(name) + 1);
            if (copy) {
                memcpy(copy, name, strlen(name) + 1);
                dev->kernels[dev->kernel_count].name = copy;
                dev->kernels[dev->kernel_count].function = f;
                dev->kernel_count++;
            }
        }
    }
    pthread_mutex_unlock(&dev->lock);
    return status;
}

/* The workspace's device memory (xc_scratch_ops_t over cuMemAlloc/cuMemFree). */
static xhal_status_t workspace_alloc(void *context, uint64_t bytes, uint64_t *out) {
    xhal_be_stream_t *stream = context;
    CUdeviceptr address = 0;
    CUresult r = stream->device->driver->cuMemAlloc(&address, bytes);
    if (r != CUDA_SUCCESS) return cuda_fail(stream->device, r, "cuMemAlloc (workspace)");
    *out = address;
    return XHAL_OK;
}

/* cuMemFree frees at once: work already queued may still use the old block. */
static xhal_status_t workspace_drain(void *context) {
    xhal_be_stream_t *stream = context;
    CUresult r = stream->device->driver->cuStreamSynchronize(stream->stream);
    return r == CUDA_SUCCESS
               ? XHAL_OK
               : cuda_fail(stream->device, r, "cuStreamSynchronize (before growing the workspace)");
}

static void workspace_release(void *context, uint64_t address) {
    xhal_be_stream_t *stream = context;
    stream->device->driver->cuMemFree((CUdeviceptr)address);
}

static const xc_scratch_ops_t workspace_ops = {workspace_alloc, workspace_drain, workspace_release};

xhal_status_t cuda_workspace(xhal_be_stream_t *stream, uint64_t bytes, CUdeviceptr *out) {
    uint64_t address = 0;
    xhal_status_t status =
        xc_scratch_get(&stream->workspace, bytes, 0, &workspace_ops, stream, stream->device->host,
                       stream->device->info.name, &address);
    *out = (CUdeviceptr)address;
    return status;
}

void cuda_workspace_free(xhal_be_stream_t *stream) {
    xc_scratch_free(&stream->workspace, &workspace_ops, stream);
}

xhal_status_t cuda_launch(xhal_be_stream_t *stream, CUfunction function, const uint32_t grid[3],
                          int threads, int smem, void **args, const char *what) {
    xhal_be_device_t *dev = stream->device;
    CUresult r = dev->driver->cuLaunchKernel(function, grid[0], grid[1], grid[2], (unsigned)threads,
                                             1, 1, (unsigned)smem, stream->stream, args, NULL);
    if (r != CUDA_SUCCESS) {
        char call[96];
        snprintf(call, sizeof call, "cuLaunchKernel (%s)", what);
        return cuda_fail(dev, r, call);
    }
    if (dev->host->log_enabled(XHAL_LOG_DEBUG))
        dev->host->log(XHAL_LOG_DEBUG, "launched %s: grid %u x %u x %u, %d threads, %d bytes smem",
                       what, grid[0], grid[1], grid[2], threads, smem);
    return XHAL_OK;
}
