/*
 * Which peaks the metrics are computed against, and the cache of measured ones.
 *
 * A device reports datasheet figures (hal/data/devices.ini, filled in by the core) or derived
 * ones (the CPU backend: threads x FLOP/cycle x measured clock), and leaves unknown figures 0.
 * `xhal peak` measures ceilings and stores them in <user cache>/xhal/peaks.ini (the tool names
 * the file: conf_options_t.peaks_cache), keyed by the device's spec, name and unit count. By
 * default a report uses the device's figures and falls back to measured ones for what the device
 * does not know (a CPU's memory bandwidth, a PoCL device's FLOP/s); when neither the device nor
 * the cache has a figure, conform measures it there and then, briefly. Every report says, per
 * figure, which one it used.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_internal.h"
#include "xc_file.h"
#include "xc_ini.h"

/* ---- The cache ---- */

/* The section of a device: its spec, name and unit count (a CPU's peak depends on its threads). */
static void section_name(const xhal_device_info_t *device, char *out, size_t size) {
    conf_format(out, size, "%s %s (%u units)", device->spec, device->name,
                (unsigned)device->compute_units);
}

static double number(const xc_ini_t *ini, const char *section, const char *key) {
    const char *value = xc_ini_get(ini, section, key);
    return value ? strtod(value, NULL) : 0;
}

static void text(const xc_ini_t *ini, const char *section, const char *key, char *out,
                 size_t size) {
    const char *value = xc_ini_get(ini, section, key);
    conf_format(out, size, "%s", value ? value : "");
}

int conf_peak_cache_load(const char *path, const xhal_device_info_t *device, conf_measured_t *out) {
    char section[256], key[64], error[512];
    memset(out, 0, sizeof *out);
    if (!path) return 0;
    xc_ini_t *ini = xc_ini_load(path, error, sizeof error);
    if (!ini) return 0; /* no cache yet, or one that is not ours: nothing measured */
    section_name(device, section, sizeof section);
    out->bandwidth = number(ini, section, "copy_bandwidth");
    out->copy_bytes = (uint64_t)number(ini, section, "copy_bytes");
    text(ini, section, "bandwidth_method", out->bandwidth_method, sizeof out->bandwidth_method);
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        const char *name = xhal_dtype_name((xhal_dtype_t)t);
        conf_format(key, sizeof key, "fma_%s", name);
        out->fma[t] = number(ini, section, key);
        conf_format(key, sizeof key, "gemm_%s", name);
        out->gemm[t] = number(ini, section, key);
        conf_format(key, sizeof key, "gemm_n_%s", name);
        out->gemm_n[t] = (int64_t)number(ini, section, key);
        conf_format(key, sizeof key, "flops_%s", name);
        out->flops[t] = number(ini, section, key);
        conf_format(key, sizeof key, "method_%s", name);
        text(ini, section, key, out->flops_method[t], sizeof out->flops_method[t]);
    }
    text(ini, section, "date", out->date, sizeof out->date);
    out->present =
        out->bandwidth > 0 || out->flops[0] > 0 || out->flops[1] > 0 || out->flops[2] > 0;
    if (out->present)
        conf_format(out->origin, sizeof out->origin, "xhal peak on %s (%s)", out->date, path);
    xc_ini_free(ini);
    return out->present;
}

static int set_number(xc_ini_t *ini, const char *section, const char *key, double value) {
    char text_value[64];
    conf_format(text_value, sizeof text_value, "%.6g", value);
    return xc_ini_set(ini, section, key, text_value);
}

int conf_peak_cache_store(const char *path, const xhal_device_info_t *device,
                          const conf_measured_t *m, char *error, size_t error_size) {
    char dir[4096], section[256], key[64], why[512];
    if (!path) {
        conf_format(error, error_size, "no cache file: neither XDG_CACHE_HOME nor HOME is set");
        return -1;
    }
    conf_format(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) *slash = '\0';
    if (slash && xc_mkdirs(dir) != 0) {
        conf_format(error, error_size, "cannot create %s", dir);
        return -1;
    }
    xc_ini_t *ini = access(path, F_OK) == 0 ? xc_ini_load(path, why, sizeof why) : xc_ini_new();
    if (!ini) {
        conf_format(error, error_size, "cannot update the cache: %s", why);
        return -1;
    }
    section_name(device, section, sizeof section);
    xc_ini_remove_section(ini, section);
    int status = set_number(ini, section, "copy_bandwidth", m->bandwidth);
    status |= set_number(ini, section, "copy_bytes", (double)m->copy_bytes);
    status |= xc_ini_set(ini, section, "bandwidth_method", m->bandwidth_method);
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        const char *name = xhal_dtype_name((xhal_dtype_t)t);
        conf_format(key, sizeof key, "fma_%s", name);
        status |= set_number(ini, section, key, m->fma[t]);
        conf_format(key, sizeof key, "gemm_%s", name);
        status |= set_number(ini, section, key, m->gemm[t]);
        conf_format(key, sizeof key, "gemm_n_%s", name);
        status |= set_number(ini, section, key, (double)m->gemm_n[t]);
        conf_format(key, sizeof key, "flops_%s", name);
        status |= set_number(ini, section, key, m->flops[t]);
        conf_format(key, sizeof key, "method_%s", name);
        status |= xc_ini_set(ini, section, key, m->flops_method[t]);
    }
    status |= xc_ini_set(ini, section, "date", m->date);
    status |= xc_ini_set(ini, section, "xhal_version", xhal_version_string());
    if (status != 0) {
        conf_format(error, error_size, "out of host memory");
    } else if (xc_ini_write(ini, path,
                            "; Ceilings measured by `xhal peak` (FLOP/s, bytes/s read + "
                            "written); safe to delete.\n") != 0) {
        conf_format(error, error_size, "cannot write %s", path);
        status = -1;
    }
    xc_ini_free(ini);
    return status ? -1 : 0;
}

/* ---- Measuring ---- */

static void progress(conf_progress_fn fn, void *context, const xhal_device_info_t *info,
                     size_t done, size_t total, const char *what) {
    if (fn) fn(context, info->spec, "peak", done, total, what);
}

/* Measures the figures asked for (bandwidth; flops per dtype) into *out. */
static xhal_status_t measure(xhal_device_t *device, const xhal_device_info_t *info, int quick,
                             int want_bandwidth, const int want_flops[XHAL_DTYPE_COUNT],
                             conf_progress_fn fn, void *context, conf_measured_t *out) {
    conf_timer_t timer;
    xhal_status_t status = conf_timer_init(&timer, device, info, 10);
    int cpu = strcmp(info->backend, "cpu") == 0, opencl = strcmp(info->backend, "opencl") == 0;
    size_t total = (size_t)want_bandwidth * (cpu ? 2u : 1u), done = 0;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        total += want_flops[t] ? 1u + (unsigned)(cpu || opencl) : 0u;
    timer.target_s = quick ? 0.1 : 0.3;
    if (status == XHAL_OK && want_bandwidth) {
        /* Far beyond any cache; a quarter of a small device's memory at most (two buffers). */
        uint64_t bytes = (quick ? 256ull : 1024ull) << 20;
        while (bytes > (16ull << 20) && 2 * bytes > timer.memory_budget)
            bytes /= 2;
        progress(fn, context, info, done++, total, "copy bandwidth");
        status = conf_measure_copy(&timer, bytes, &out->bandwidth);
        out->copy_bytes = bytes;
        conf_format(out->bandwidth_method, sizeof out->bandwidth_method,
                    "best of xhal_copy_d2d of %llu MiB, bytes read + written",
                    (unsigned long long)(bytes >> 20));
        if (status != XHAL_OK)
            conf_format(out->bandwidth_method, sizeof out->bandwidth_method, "failed: %s",
                        timer.note);
        if (cpu) {
            /*
             * The CPU backend's copy is one memcpy on the stream's thread, whose non-temporal
             * stores on one core are neither the host's bandwidth nor what STREAM reports. The
             * yardstick is STREAM Copy on all the device's threads (conf_stream.c); the d2d
             * figure is kept in the method for reference.
             */
            char d2d[32];
            conf_stream_t host;
            progress(fn, context, info, done++, total, "STREAM copy and triad");
            if (conf_stream_host(info->compute_units, conf_stream_array_bytes(), &host) == 0 &&
                host.copy > 0) {
                conf_human(d2d, sizeof d2d, out->bandwidth, "B/s");
                out->bandwidth = host.copy;
                out->copy_bytes = host.array_bytes;
                conf_format(out->bandwidth_method, sizeof out->bandwidth_method,
                            "STREAM copy, %u threads, %llu MiB arrays (triad %.1f GB/s; d2d %s)",
                            host.threads, (unsigned long long)(host.array_bytes >> 20),
                            host.triad * 1e-9, d2d);
            }
            status = out->bandwidth > 0 ? XHAL_OK : status;
        }
    }
    char f32_fma_method[96] = "";
    for (int t = 0; status == XHAL_OK && t < XHAL_DTYPE_COUNT; t++) {
        if (!want_flops[t]) continue;
        xhal_dtype_t dtype = (xhal_dtype_t)t;
        char what[64], fma_method[96] = "";
        if (opencl && dtype != XHAL_DTYPE_F32 && out->fma[XHAL_DTYPE_F32] > 0) {
            /* xhal's OpenCL kernels compute 16-bit inputs in f32: the f32 loop's ceiling. */
            progress(fn, context, info, done++, total, "FMA loop (the f32 one)");
            out->fma[t] = out->fma[XHAL_DTYPE_F32];
            conf_format(fma_method, sizeof fma_method, "%.60s (16-bit inputs computed in f32)",
                        f32_fma_method);
        } else if (opencl) {
            conf_format(what, sizeof what, "%s FMA loop", xhal_dtype_name(dtype));
            progress(fn, context, info, done++, total, what);
            out->fma[t] = conf_fma_opencl(info, quick ? 0.6 : 3.0, fma_method, sizeof fma_method);
            conf_format(f32_fma_method, sizeof f32_fma_method, "%s", fma_method);
        } else if (cpu && dtype == XHAL_DTYPE_F16 && out->fma[XHAL_DTYPE_F32] > 0) {
            /* The same f32 loop (x86 has no f16 FMA with f32 accumulation): not run twice. */
            progress(fn, context, info, done++, total, "f16 FMA loop (the f32 one)");
            out->fma[t] = out->fma[XHAL_DTYPE_F32];
            conf_format(fma_method, sizeof fma_method,
                        "%s (no f16 FMA with f32 accumulation: "
                        "f32 rate)",
                        f32_fma_method);
        } else if (cpu) {
            conf_format(what, sizeof what, "%s FMA loop", xhal_dtype_name(dtype));
            progress(fn, context, info, done++, total, what);
            out->fma[t] = conf_fma_host(info->compute_units, dtype, quick ? 0.3 : 2.0, fma_method,
                                        sizeof fma_method);
            if (dtype == XHAL_DTYPE_F32)
                conf_format(f32_fma_method, sizeof f32_fma_method, "%s", fma_method);
        }
        conf_format(what, sizeof what, "%s GEMM", xhal_dtype_name(dtype));
        progress(fn, context, info, done++, total, what);
        status =
            conf_measure_gemm(&timer, dtype, quick ? 1.0 : 4.0, &out->gemm[t], &out->gemm_n[t]);
        if (status == XHAL_UNSUPPORTED) status = XHAL_OK; /* that dtype has no GEMM here */
        int fma_wins = out->fma[t] > out->gemm[t];
        out->flops[t] = fma_wins ? out->fma[t] : out->gemm[t];
        if (fma_wins)
            conf_format(out->flops_method[t], sizeof out->flops_method[t], "%s", fma_method);
        else if (out->gemm[t] > 0)
            conf_format(out->flops_method[t], sizeof out->flops_method[t],
                        "xhal GEMM %lld^3 (matrix-unit ceiling xhal reaches)",
                        (long long)out->gemm_n[t]);
    }
    progress(fn, context, info, total, total, "done");
    conf_timer_free(&timer);
    conf_utc_date(out->date, sizeof out->date);
    out->present = 1;
    return status;
}

xhal_status_t conf_peak_measure(xhal_device_t *device, int quick, conf_progress_fn fn,
                                void *context, conf_measured_t *out) {
    xhal_device_info_t info = {.struct_size = sizeof info};
    memset(out, 0, sizeof *out);
    xhal_status_t status = xhal_device_info(device, &info);
    if (status != XHAL_OK) return status;
    const int all[XHAL_DTYPE_COUNT] = {1, 1, 1};
    status = measure(device, &info, quick, 1, all, fn, context, out);
    conf_format(out->origin, sizeof out->origin, "xhal peak%s, now", quick ? " --quick" : "");
    return status;
}

/* ---- Resolving ---- */

static const char *source_word(const char *source) {
    if (strncmp(source, "datasheet", 9) == 0) return "datasheet";
    if (strncmp(source, "derived", 7) == 0) return "derived";
    return "device";
}

void conf_peaks_resolve(conf_peaks_t *peaks, xhal_device_t *device, const xhal_device_info_t *info,
                        const conf_options_t *options) {
    memset(peaks, 0, sizeof *peaks);
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        peaks->device_flops[t] = info->peak_flops[t];
    peaks->device_bandwidth = info->peak_bandwidth;
    conf_format(peaks->device_source, sizeof peaks->device_source, "%s", info->peak_source);
    if (options->peaks != CONF_PEAKS_DEVICE)
        conf_peak_cache_load(options->peaks_cache, info, &peaks->measured);

    int measured_first = options->peaks == CONF_PEAKS_MEASURED;
    int want_flops[XHAL_DTYPE_COUNT] = {0, 0, 0}, want_bandwidth = 0, wanted = 0;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        int have_device = peaks->device_flops[t] > 0, have_measured = peaks->measured.flops[t] > 0;
        want_flops[t] = !have_measured && (measured_first || !have_device);
        wanted |= want_flops[t];
    }
    want_bandwidth =
        !(peaks->measured.bandwidth > 0) && (measured_first || !(peaks->device_bandwidth > 0));
    /* Only the utilization part needs peaks; a correctness-only run never waits for them. */
    if ((want_bandwidth || wanted) && options->utilization && options->peaks != CONF_PEAKS_DEVICE) {
        /* What the cache lacks, measured briefly now, and not stored: `xhal peak` does it well. */
        conf_measured_t now;
        memset(&now, 0, sizeof now);
        (void)measure(device, info, 1, want_bandwidth, want_flops, options->progress,
                      options->progress_context, &now);
        if (want_bandwidth) {
            peaks->measured.bandwidth = now.bandwidth;
            peaks->measured.copy_bytes = now.copy_bytes;
            memcpy(peaks->measured.bandwidth_method, now.bandwidth_method,
                   sizeof now.bandwidth_method);
        }
        for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
            if (!want_flops[t]) continue;
            peaks->measured.fma[t] = now.fma[t];
            peaks->measured.gemm[t] = now.gemm[t];
            peaks->measured.gemm_n[t] = now.gemm_n[t];
            peaks->measured.flops[t] = now.flops[t];
            memcpy(peaks->measured.flops_method[t], now.flops_method[t],
                   sizeof now.flops_method[t]);
        }
        peaks->measured.present = 1;
        conf_append(peaks->measured.origin, sizeof peaks->measured.origin,
                    "%smeasured briefly by xhal conform on %s (run 'xhal peak' for a careful one)",
                    peaks->measured.origin[0] ? "; missing figures " : "", now.date);
        if (!peaks->measured.date[0]) memcpy(peaks->measured.date, now.date, sizeof now.date);
    }

    const char *device_word = source_word(info->peak_source);
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        double device_value = peaks->device_flops[t], measured = peaks->measured.flops[t];
        int use_measured = measured > 0 && (measured_first || !(device_value > 0));
        peaks->flops[t] = use_measured ? measured : device_value;
        conf_format(peaks->flops_used[t], sizeof peaks->flops_used[t], "%s",
                    use_measured       ? "measured"
                    : device_value > 0 ? device_word
                                       : "unknown");
    }
    double measured = peaks->measured.bandwidth;
    int use_measured = measured > 0 && (measured_first || !(peaks->device_bandwidth > 0));
    peaks->bandwidth = use_measured ? measured : peaks->device_bandwidth;
    conf_format(peaks->bandwidth_used, sizeof peaks->bandwidth_used, "%s",
                use_measured                  ? "measured"
                : peaks->device_bandwidth > 0 ? device_word
                                              : "unknown");
}
