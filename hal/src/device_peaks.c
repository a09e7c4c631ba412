/*
 * Datasheet peaks for the figures a backend leaves 0: devices.ini, matched by the name the
 * vendor's runtime reports. A backend that knows better (a measured clock, a queried
 * configuration) fills its own figures, which are never overwritten.
 *
 * The file is found in $XHAL_DATA_DIR, else in the data folder of the install this libxhal
 * belongs to (<libdir>/../share/xhal, which the build tree mirrors: the build copies
 * hal/data/devices.ini to build/share/xhal/). It is read with the project's INI reader
 * (backends/common/xc_ini.c) and its sections are matched as tuning files' are: the first whose
 * `match` has a substring of the device's name.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "xc_ini.h"
#include "xc_paths.h"
#include "xc_tuning.h"

/* Any object of libxhal: dladdr of its address names the library's file. */
static const char library_anchor;

/* A figure of the section: a finite number > 0, else 0 (with a warning when it is garbage). */
static double figure(const xc_ini_t *ini, size_t section, const char *key, const char *path) {
    const char *text = xc_ini_value(ini, section, key);
    if (!text) return 0;
    char *end = NULL;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(value) || value <= 0) {
        xhal_log(XHAL_LOG_WARN, "%s: [%s] %s = \"%s\" is not a positive number; ignored", path,
                 xc_ini_section_name(ini, section), key, text);
        return 0;
    }
    return value;
}

/*
 * A figure of the file scaled to one device (per second): a finite number of at least 1, else 0
 * with a warning. A finite figure can still overflow ("fp16 = 1e308" TFLOP/s is inf FLOP/s) or
 * vanish (1e-320 TFLOP/s over a large per_device is 0), and the peak is a divisor downstream.
 */
static double per_second(const xc_ini_t *ini, size_t section, const char *key, double figure_value,
                         double per_device, const char *path) {
    double value = figure_value * 1e12 / per_device;
    if (isfinite(value) && value >= 1) return value;
    xhal_log(XHAL_LOG_WARN, "%s: [%s] %s = %s gives %g per second, not a usable peak; ignored",
             path, xc_ini_section_name(ini, section), key, xc_ini_value(ini, section, key), value);
    return 0;
}

int xhal_device_peaks_apply(const xc_ini_t *ini, const char *path, xhal_device_info_t *info) {
    xc_device_id_t id = {.name = info->name};
    size_t section = xc_tuning_match(ini, &id);
    if (section == XC_INI_NONE) {
        xhal_log(XHAL_LOG_DEBUG, "%s: not in %s", info->name, path);
        return 0;
    }
    static const char *const flops_keys[XHAL_DTYPE_COUNT] = {"fp32", "fp16", "bf16"};
    double per_device = figure(ini, section, "per_device", path);
    if (per_device < 1) per_device = 1;
    int filled = 0;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        double tflops = figure(ini, section, flops_keys[t], path);
        if (info->peak_flops[t] > 0 || tflops <= 0) continue;
        double peak = per_second(ini, section, flops_keys[t], tflops, per_device, path);
        if (peak <= 0) continue;
        info->peak_flops[t] = peak;
        filled++;
    }
    double bandwidth = figure(ini, section, "bandwidth", path);
    if (!(info->peak_bandwidth > 0) && bandwidth > 0) {
        double peak = per_second(ini, section, "bandwidth", bandwidth, per_device, path);
        if (peak > 0) {
            info->peak_bandwidth = peak;
            filled++;
        }
    }
    const char *name = xc_ini_value(ini, section, "name");
    if (!name) name = xc_ini_section_name(ini, section);
    if (filled) {
        char source[sizeof info->peak_source];
        if (info->peak_source[0])
            xhal_format(source, sizeof source,
                        "%s; the rest from datasheet: %s (hal/data/devices.ini)", info->peak_source,
                        name);
        else
            xhal_format(source, sizeof source, "datasheet: %s (hal/data/devices.ini)", name);
        memcpy(info->peak_source, source, sizeof source);
        xhal_log(XHAL_LOG_INFO, "%s: %d peak figure(s) from [%s] of %s", info->name, filled,
                 xc_ini_section_name(ini, section), path);
    }
    return filled;
}

void xhal_device_fill_peaks(xhal_device_info_t *info) {
    int missing = !(info->peak_bandwidth > 0);
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        missing |= !(info->peak_flops[t] > 0);
    if (!missing || !info->name[0]) return;
    char path[PATH_MAX], error[512];
    if (xc_data_file(xhal_option, &library_anchor, 0, "devices.ini", path, sizeof path) != 0) {
        xhal_log(XHAL_LOG_DEBUG, "%s: no devices.ini found (set XHAL_DATA_DIR)", info->name);
        return;
    }
    xc_ini_t *ini = xc_ini_load(path, error, sizeof error);
    if (!ini) {
        xhal_log(XHAL_LOG_WARN, "devices.ini not used: %s", error);
        return;
    }
    xhal_device_peaks_apply(ini, path, info);
    xc_ini_free(ini);
}
