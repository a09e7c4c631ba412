/*
 * The device's code object and what the ops do with it: find a kernel, launch it, get scratch.
 *
 * Where the code object comes from, in order:
 *  1. built in: hipcc compiled kernels/hip/xk_hip.hip at build time for each target it knew
 *     (XHAL_HIP_TARGETS), and hip_embed.c holds them; the device's target picks one at open;
 *  2. the disk cache of an earlier run's hiprtc compile for this target (backends/common/
 *     xc_cache.h: checksummed entries written atomically, <cache>/<gfx>-<key>.bin, the key a
 *     hash of the source, the target and the compiler's identity; XHAL_HIP_CACHE);
 *  3. hiprtc, at the first op, from the kernel source built into the plugin (a minute or two for
 *     a CDNA target), when hiprtc's comgr knows the target (hip_rtc.c: asking it for one it does
 *     not know aborts the process, so that is checked first).
 * When none of them can give one, every op of the device is UNSUPPORTED with the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hip_internal.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const hip_code_object_t *built_in(const char *gfx) {
    for (size_t i = 0; i < xhal_hip_code_object_count; i++)
        if (strcmp(xhal_hip_code_objects[i].gfx, gfx) == 0) return &xhal_hip_code_objects[i];
    return NULL;
}

/* Loads an image; NO_BINARY/INVALID_IMAGE (an image the runtime refuses) leave *out NULL. */
static xhal_status_t load_image(xhal_be_device_t *dev, const void *image, const char *what,
                                hip_error_t *out_error) {
    hip_module_t module = NULL;
    hip_error_t e = dev->rt->hipModuleLoadData(&module, image);
    *out_error = e;
    if (e == HIP_SUCCESS) {
        dev->module = module;
        snprintf(dev->module_source, sizeof dev->module_source, "%s", what);
        return XHAL_OK;
    }
    if (e == HIP_ERROR_NO_BINARY_FOR_GPU || e == HIP_ERROR_INVALID_IMAGE) return XHAL_OK;
    return hip_fail(dev, e, "hipModuleLoadData");
}

xhal_status_t hip_module_open(xhal_be_device_t *dev) {
    const hip_code_object_t *co = built_in(dev->arch.gfx);
    if (!co || dev->state->options.jit) return XHAL_OK; /* hiprtc at first use */
    hip_error_t e = HIP_SUCCESS;
    xhal_status_t status = load_image(dev, co->begin, "built in", &e);
    if (status == XHAL_OK && !dev->module)
        dev->host->log(XHAL_LOG_WARN,
                       "the built-in %s code object does not load on %s (%s): %s; compiling the "
                       "kernels with hiprtc at first use",
                       co->gfx, dev->info.name, dev->gcn_arch, hip_error_text(dev->rt, e));
    return status;
}

/* The first use when nothing was built in: the cache, else hiprtc. Called with the lock held. */
static xhal_status_t compile_module(xhal_be_device_t *dev) {
    xhal_be_state_t *state = dev->state;
    const char *gfx = dev->arch.gfx;
    if (!gfx[0])
        return dev->host->set_error(XHAL_UNSUPPORTED,
                                    "hip: %s: the runtime did not say which gfx target it is, so "
                                    "no code object can be chosen or compiled",
                                    dev->info.name);
    xhal_status_t status = hip_rtc_check(state, gfx);
    if (status != XHAL_OK) return status;

    char versions[160], key[XC_CACHE_KEY_CHARS + 1], path[3200] = "";
    snprintf(versions, sizeof versions, "runtime %d, comgr %d.%d, %.100s", state->rt.version,
             state->rtc.comgr_major, state->rtc.comgr_minor, state->rtc.file);
    const char *parts[] = {"xhal-hip-code-object-2", gfx, versions, xhal_hip_kernel_source};
    xc_cache_key(parts, sizeof parts / sizeof parts[0], key);
    xc_cache_path(&state->cache, gfx, key, path, sizeof path);

    double start = now_seconds();
    size_t size = 0;
    hip_error_t e = HIP_SUCCESS;
    unsigned char *code =
        state->cache.dir[0] ? xc_cache_load(&state->cache, gfx, key, &size) : NULL;
    if (code) {
        status = load_image(dev, code, "cache", &e);
        free(code);
        if (status != XHAL_OK) return status;
        if (dev->module) {
            dev->host->log(XHAL_LOG_INFO, "%s code object: cache hit, %s loaded in %.0f ms", gfx,
                           path, (now_seconds() - start) * 1e3);
            return XHAL_OK;
        }
        dev->host->log(XHAL_LOG_INFO, "the runtime refused the cached %s (%s); recompiling", path,
                       hip_error_text(dev->rt, e));
        xc_cache_discard(&state->cache, gfx, key);
    }
    dev->host->log(XHAL_LOG_INFO,
                   "%s: no code object built in for %s; compiling the kernels with hiprtc (%s)",
                   dev->info.name, gfx, state->rtc.file);
    if ((status = hip_rtc_compile(state, gfx, &code, &size)) != XHAL_OK) return status;
    double seconds = now_seconds() - start;
    if (state->cache.dir[0] && xc_cache_store(&state->cache, gfx, key, code, size) == 0)
        dev->host->log(XHAL_LOG_INFO, "code object saved to %s", path);
    status = load_image(dev, code, "hiprtc", &e);
    free(code);
    if (status != XHAL_OK) return status;
    if (!dev->module)
        return dev->host->set_error(XHAL_DEVICE_ERROR,
                                    "hip: hipModuleLoadData refused the code object hiprtc "
                                    "compiled for %s: %s",
                                    gfx, hip_error_text(dev->rt, e));
    dev->host->log(XHAL_LOG_INFO, "%s code object compiled by hiprtc in %.1f s", gfx, seconds);
    return XHAL_OK;
}

/* The module, compiling it on first use; with the lock held. */
static xhal_status_t module_locked(xhal_be_device_t *dev) {
    if (dev->module) return XHAL_OK;
    if (dev->module_tried) return dev->host->set_error(dev->module_status, "%s", dev->module_error);
    dev->module_tried = 1;
    xhal_status_t status = compile_module(dev);
    if (status != XHAL_OK) {
        dev->module_status = status == XHAL_UNSUPPORTED ? XHAL_UNSUPPORTED : XHAL_DEVICE_ERROR;
        snprintf(dev->module_error, sizeof dev->module_error, "%s", xhal_last_error());
    }
    return status;
}

xhal_status_t hip_module_check(xhal_be_device_t *dev) {
    pthread_mutex_lock(&dev->lock);
    xhal_status_t status = XHAL_OK;
    if (!dev->module && dev->module_tried)
        status = dev->host->set_error(dev->module_status, "%s", dev->module_error);
    else if (!dev->module)
        status = hip_rtc_check(dev->state, dev->arch.gfx[0] ? dev->arch.gfx : "unknown");
    pthread_mutex_unlock(&dev->lock);
    return status;
}

void hip_module_release(xhal_be_device_t *dev) {
    if (dev->module && hip_enter(dev) == XHAL_OK) dev->rt->hipModuleUnload(dev->module);
    dev->module = NULL;
    for (size_t i = 0; i < dev->kernel_count; i++)
        free(dev->kernels[i].name);
    dev->kernel_count = 0;
}

xhal_status_t hip_kernel(xhal_be_device_t *dev, const char *name, hip_function_t *out) {
    pthread_mutex_lock(&dev->lock);
    xhal_status_t status = module_locked(dev);
    for (size_t i = 0; status == XHAL_OK && i < dev->kernel_count; i++)
        if (strcmp(dev->kernels[i].name, name) == 0) {
            *out = dev->kernels[i].function;
            pthread_mutex_unlock(&dev->lock);
            return XHAL_OK;
        }
    hip_function_t f = NULL;
    hip_error_t e = HIP_SUCCESS;
    if (status != XHAL_OK) {
        /* the reason is set */
    } else if ((e = dev->rt->hipModuleGetFunction(&f, dev->module, name)) != HIP_SUCCESS) {
        status = dev->host->set_error(
            XHAL_INTERNAL, "hip: kernel %s is not in the %s code object (%s): %s", name,
            dev->arch.gfx, dev->module_source, hip_error_text(dev->rt, e));
    } else {
        *out = f;
        char *copy = malloc(strlen(name) + 1); /* the name lives in the caller's plan */
        if (copy && dev->kernel_count < sizeof dev->kernels / sizeof dev->kernels[0]) {
            memcpy(copy, name, strlen(name) + 1);
            dev->kernels[dev->kernel_count].name = copy;
            dev->kernels[dev->kernel_count].function = f;
            dev->kernel_count++;
        } else {
            free(copy);
        }
    }
    pthread_mutex_unlock(&dev->lock);
    return status;
}

/* The workspace's device memory (xc_scratch_ops_t over hipMalloc/hipFree). */
static xhal_status_t workspace_alloc(void *context, uint64_t bytes, uint64_t *out) {
    xhal_be_stream_t *stream = context;
    void *address = NULL;
    hip_error_t e = stream->device->rt->hipMalloc(&address, (size_t)bytes);
    if (e != HIP_SUCCESS) return hip_fail(stream->device, e, "hipMalloc (workspace)");
    *out = (uint64_t)(uintptr_t)address;
    return XHAL_OK;
}

/* hipFree does not wait for queued work that may still use the old block: wait first. */
static xhal_status_t workspace_drain(void *context) {
    xhal_be_stream_t *stream = context;
    hip_error_t e = stream->device->rt->hipStreamSynchronize(stream->stream);
    return e == HIP_SUCCESS
               ? XHAL_OK
               : hip_fail(stream->device, e, "hipStreamSynchronize (before growing the workspace)");
}

static void workspace_release(void *context, uint64_t address) {
    xhal_be_stream_t *stream = context;
    stream->device->rt->hipFree((void *)(uintptr_t)address);
}

static const xc_scratch_ops_t workspace_ops = {workspace_alloc, workspace_drain, workspace_release};

xhal_status_t hip_workspace(xhal_be_stream_t *stream, uint64_t bytes, void **out) {
    uint64_t address = 0;
    xhal_status_t status =
        xc_scratch_get(&stream->workspace, bytes, 0, &workspace_ops, stream, stream->device->host,
                       stream->device->info.name, &address);
    *out = (void *)(uintptr_t)address;
    return status;
}

void hip_workspace_free(xhal_be_stream_t *stream) {
    xc_scratch_free(&stream->workspace, &workspace_ops, stream);
}

xhal_status_t hip_launch(xhal_be_stream_t *stream, hip_function_t function, const uint32_t grid[3],
                         int threads, void **args, const char *what) {
    xhal_be_device_t *dev = stream->device;
    /* LDS is static in every kernel: no dynamic shared memory. */
    hip_error_t e =
        dev->rt->hipModuleLaunchKernel(function, grid[0], grid[1], grid[2], (unsigned)threads, 1, 1,
                                       0, stream->stream, args, NULL);
    if (e != HIP_SUCCESS) {
        char call[96];
        snprintf(call, sizeof call, "hipModuleLaunchKernel (%s)", what);
        return hip_fail(dev, e, call);
    }
    if (dev->host->log_enabled(XHAL_LOG_DEBUG))
        dev->host->log(XHAL_LOG_DEBUG, "launched %s: grid %u x %u x %u, %d threads", what, grid[0],
                       grid[1], grid[2], threads);
    return XHAL_OK;
}
