/*
 * One HIP device: what the runtime says it is (name, gfx target, compute units, clock, memory,
 * LDS), and the tuning that applies to it. Its code object is loaded by hip_module.c: at open
 * when one is built in for its target, else at the first op (hiprtc can take a minute).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hip_internal.h"
#include "xc_tuning.h"

uint32_t hip_device_count(xhal_be_state_t *state) {
    return (uint32_t)state->device_count;
}

static int attribute(const xhal_be_device_t *dev, int what) {
    int value = 0;
    if (dev->rt->hipDeviceGetAttribute(&value, what, dev->index) != HIP_SUCCESS) return 0;
    return value;
}

/* Whether `at` holds a target name: "gfx" and a hex digit, NUL-terminated within 64 bytes. */
static int is_arch_name(const char *at, size_t room) {
    return room >= 64 && strncmp(at, "gfx", 3) == 0 && strchr("0123456789abcdef", at[3]) && at[3] &&
           memchr(at, '\0', 64);
}

/*
 * gcnArchName ("gfx90a:sramecc+:xnack-"), read at its offset in the layout of the entry point
 * the runtime has (hip_internal.h). A runtime whose layout moved it (a ROCm newer than this
 * plugin) is searched for the one "gfx..." string of the properties instead, and logged; empty
 * when it cannot be read (ops then say so).
 */
static void read_arch_name(xhal_be_device_t *dev) {
    const hip_runtime_t *rt = dev->rt;
    size_t offset = HIP_PROPS_R0600_ARCH_OFFSET;
    hip_error_t (*get)(void *, int) = rt->hipGetDevicePropertiesR0600;
    if (!get) {
        get = rt->hipGetDeviceProperties;
        offset = HIP_PROPS_R0000_ARCH_OFFSET;
    }
    dev->gcn_arch[0] = '\0';
    char *props = get ? calloc(1, HIP_PROPS_BUFFER + 64) : NULL;
    if (props && get(props, dev->index) == HIP_SUCCESS) {
        size_t at = offset;
        if (!is_arch_name(props + at, HIP_PROPS_BUFFER - at)) {
            for (at = 256; at + 64 <= HIP_PROPS_BUFFER; at += 4) /* past the device name */
                if (is_arch_name(props + at, HIP_PROPS_BUFFER - at)) break;
            if (at + 64 <= HIP_PROPS_BUFFER)
                dev->host->log(XHAL_LOG_INFO,
                               "hipDeviceProp_t of %s has gcnArchName at byte %zu, not %zu",
                               rt->file, at, offset);
        }
        if (at + 64 <= HIP_PROPS_BUFFER)
            snprintf(dev->gcn_arch, sizeof dev->gcn_arch, "%s", props + at);
    }
    free(props);
}

/* An object of this plugin, for finding its install's data (xc_data_file). */
static const char plugin_anchor;

/* The tuning that applies to the device (kernels/tuning/hip.ini; backends/common/xc_tuning.h). */
static void load_tuning(xhal_be_device_t *dev) {
    hip_tuning_defaults(&dev->tuning);
    xc_device_id_t id = {.name = dev->info.name, .arch = dev->arch.gfx, .type = "gpu"};
    xc_tuning_file_t file;
    xc_tuning_open(dev->host, "hip", &id, &plugin_anchor, xhal_hip_tuning_ini, &file);
    char error[640];
    if (file.ini && hip_tuning_apply(file.ini, file.source, dev->arch.gfx, dev->info.name,
                                     &dev->tuning, error, sizeof error) != 0)
        dev->host->log(XHAL_LOG_WARN, "%s; using the default tuning", error);
    else if (file.ini)
        dev->host->log(XHAL_LOG_INFO, "%s: tuning from %s", dev->info.name, file.source);
    xc_tuning_close(&file);
}

xhal_status_t hip_device_open(xhal_be_state_t *state, uint32_t index, xhal_be_device_t **out) {
    xhal_be_device_t *dev = calloc(1, sizeof(*dev));
    if (!dev) return state->host->set_error(XHAL_OUT_OF_MEMORY, "hip: calloc failed");
    dev->state = state;
    dev->host = state->host;
    dev->rt = &state->rt;
    dev->index = (int)index;
    pthread_mutex_init(&dev->lock, NULL);
    const hip_runtime_t *rt = dev->rt;
    xhal_status_t status = hip_enter(dev);
    if (status != XHAL_OK) {
        hip_device_close(dev);
        return status;
    }

    xhal_device_info_t *info = &dev->info;
    info->type = XHAL_DEVICE_TYPE_GPU;
    if (rt->hipDeviceGetName(info->name, (int)sizeof info->name, dev->index) != HIP_SUCCESS ||
        !info->name[0])
        snprintf(info->name, sizeof info->name, "AMD GPU %u", index);
    snprintf(info->vendor, sizeof info->vendor, "AMD");
    read_arch_name(dev);
    hip_arch_target(dev->gcn_arch, dev->arch.gfx, sizeof dev->arch.gfx);
    snprintf(info->architecture, sizeof info->architecture, "%s",
             dev->gcn_arch[0] ? dev->gcn_arch : "unknown gfx");
    const char *file = strrchr(rt->file, '/') ? strrchr(rt->file, '/') + 1 : rt->file;
    snprintf(info->driver, sizeof info->driver, "HIP runtime %d.%d.%d (%.24s)",
             rt->version / 10000000, rt->version / 100000 % 100, rt->version % 100000, file);
    size_t bytes = 0;
    if (rt->hipDeviceTotalMem(&bytes, dev->index) == HIP_SUCCESS) info->memory_bytes = bytes;
    dev->arch.cus = attribute(dev, HIP_ATTR_MULTIPROCESSOR_COUNT);
    if (dev->arch.cus <= 0) dev->arch.cus = 1;
    dev->arch.lds_bytes = attribute(dev, HIP_ATTR_MAX_SHARED_MEMORY_PER_BLOCK);
    /* The MFMA kernels are built for 64-lane wavefronts; a device that says otherwise gets the
     * portable kernels, which are right for any wavefront size. */
    dev->arch.mfma = hip_arch_has_mfma(dev->arch.gfx) && attribute(dev, HIP_ATTR_WARP_SIZE) == 64;
    info->compute_units = (uint32_t)dev->arch.cus;
    info->clock_ghz = attribute(dev, HIP_ATTR_CLOCK_RATE) / 1e6; /* kHz */
    /* Peaks stay 0 here: the core fills datasheet figures from hal/data/devices.ini. */

    load_tuning(dev);
    status = hip_module_open(dev);
    if (status != XHAL_OK) {
        hip_device_close(dev);
        return status;
    }
    dev->host->log(XHAL_LOG_INFO, "%s: %s, %d CUs, %d bytes of LDS per block, %s kernels, %s",
                   info->name, info->architecture, dev->arch.cus, dev->arch.lds_bytes,
                   dev->arch.mfma ? "MFMA" : "portable",
                   dev->module ? "code object built in" : "code object compiled at first use");
    *out = dev;
    return XHAL_OK;
}

void hip_device_close(xhal_be_device_t *dev) {
    hip_module_release(dev);
    pthread_mutex_destroy(&dev->lock);
    free(dev);
}

xhal_status_t hip_device_info(xhal_be_device_t *dev, xhal_device_info_t *out_info) {
    *out_info = dev->info;
    return XHAL_OK;
}
