/*
 * `xhal peak`: measures the ceilings of each device (copy bandwidth; per dtype, an FMA loop where
 * the backend has one and a large GEMM), prints them beside the device's datasheet or derived
 * figures, and stores them for `xhal conform` (conformance/conf_peaks.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "conform_progress.h"
#include "tool_util.h"

static const char peak_help[] =
    "usage: xhal peak [--device SPEC]... [--quick] [--no-store] [-q]\n"
    "\n"
    "Measures what each device reaches, through the public API:\n"
    "  copy bandwidth  the best of several xhal_copy_d2d runs of a buffer far larger than any\n"
    "                  cache, counting bytes read plus written (as STREAM's copy does)\n"
    "  FMA loop        CPU backend: an FMA loop on the backend's thread count (AVX-512 or\n"
    "                  AVX2 f32 FMAs; vdpbf16ps for bf16; f16 has no FMA with f32 accumulation\n"
    "                  on x86, so its ceiling is the f32 rate); OpenCL: a kernel of 12\n"
    "                  independent floatN fma() chains, the best of float4/8/16 (16-bit\n"
    "                  inputs are computed in f32 there: the f32 rate)\n"
    "  GEMM            the best of several large square xhal_gemm runs: the matrix-unit ceiling\n"
    "                  xhal's own kernel reaches (a floor on the hardware's)\n"
    "The ceiling kept per dtype is the larger of the FMA loop and the GEMM. Prints them beside\n"
    "the device's own figures (datasheet or derived), and stores them in\n"
    "$XDG_CACHE_HOME/xhal/peaks.ini (default ~/.cache/xhal/peaks.ini), keyed by device spec, name\n"
    "and unit count, where `xhal conform` finds them.\n"
    "\n"
    "options:\n"
    "  --device SPEC  measure this device (repeatable); default: every device found\n"
    "  --quick        about a second per figure instead of several\n"
    "  --no-store     print only; leave the cache alone\n"
    "  -q, --quiet    no progress line on stderr\n"
    "  -h, --help     show this text\n"
    "\n"
    "Exits 0 when every device was measured, 1 otherwise, 2 on a usage error.\n";

static void print_device(const xhal_device_info_t *info, const conf_measured_t *m) {
    char a[32], b[32], c[32], d[32];
    printf("\n== %s: %s (%s) ==\n", info->spec, info->name, info->backend);
    printf("| figure    | FMA loop     | xhal GEMM    | ceiling      | device       | how\n");
    printf("|-----------|--------------|--------------|--------------|--------------|----\n");
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        conf_human(a, sizeof a, m->fma[t], "FLOP/s");
        conf_human(b, sizeof b, m->gemm[t], "FLOP/s");
        conf_human(c, sizeof c, m->flops[t], "FLOP/s");
        conf_human(d, sizeof d, info->peak_flops[t], "FLOP/s");
        char gemm[48] = "";
        /* The method names the GEMM's size when the GEMM won; else it is said here. */
        if (m->gemm_n[t] && !strstr(m->flops_method[t], "GEMM"))
            snprintf(gemm, sizeof gemm, "; the GEMM ran %lld^3", (long long)m->gemm_n[t]);
        printf("| %-9s | %-12s | %-12s | %-12s | %-12s | %s%s\n", xhal_dtype_name((xhal_dtype_t)t),
               a, b, c, d, m->flops_method[t][0] ? m->flops_method[t] : "not measured", gemm);
    }
    conf_human(c, sizeof c, m->bandwidth, "B/s");
    conf_human(d, sizeof d, info->peak_bandwidth, "B/s");
    printf("| %-9s | %-12s | %-12s | %-12s | %-12s | %s\n", "bandwidth", "-", "-", c, d,
           m->bandwidth_method);
    printf("device figures: %s\n", info->peak_source[0] ? info->peak_source : "none");
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (!(m->flops[t] > 0) || !(info->peak_flops[t] > 0)) continue;
        printf("  %s: measured %.0f%% of the device's figure\n", xhal_dtype_name((xhal_dtype_t)t),
               100 * m->flops[t] / info->peak_flops[t]);
    }
}

/* Measures one device; returns 1 when it failed. */
static int peak_device(xhal_device_t *device, int quick, int store, conform_progress_t *progress) {
    xhal_device_info_t info = {.struct_size = sizeof info};
    xhal_status_t status = xhal_device_info(device, &info);
    if (status != XHAL_OK) return tool_report(status, "xhal_device_info") != XHAL_OK;
    conf_measured_t measured;
    status = conf_peak_measure(device, quick, conform_progress_report, progress, &measured);
    conform_progress_clear(progress);
    print_device(&info, &measured);
    if (status != XHAL_OK) {
        fprintf(stderr, "xhal peak: %s: %s: %s\n", info.spec, xhal_status_name(status),
                xhal_last_error());
        return 1;
    }
    if (!store) return 0;
    char error[512], path[4096];
    int have_path = tool_peak_cache_path(path, sizeof path) == 0;
    if (conf_peak_cache_store(have_path ? path : NULL, &info, &measured, error, sizeof error) !=
        0) {
        fprintf(stderr, "xhal peak: not stored: %s\n", error);
        return 1;
    }
    printf("stored in %s\n", path);
    return 0;
}

static int run_peak(int argc, char **argv) {
    const char **specs = calloc((size_t)argc, sizeof *specs);
    size_t spec_count = 0;
    int quick = 0, store = 1, quiet = 0, code = -1;
    if (!specs) return tool_fail(XHAL_OUT_OF_MEMORY, "xhal peak");
    for (int i = 1; code < 0 && i < argc; i++) {
        const char *value = NULL;
        int found;
        if (tool_is_help(argv[i])) {
            fputs(peak_help, stdout);
            code = TOOL_EXIT_OK;
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--no-store") == 0) {
            store = 0;
        } else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if ((found = tool_option_value(argc, argv, &i, "--device", &value)) != 0) {
            if (found < 0 || !*value)
                code = tool_usage_error("peak", "--device wants a spec");
            else
                specs[spec_count++] = value;
        } else {
            code = tool_usage_error("peak", "unknown option '%s'", argv[i]);
        }
    }
    if (code < 0) {
        size_t count = spec_count, failed = 0;
        xhal_status_t status = count ? XHAL_OK : xhal_device_count(&count);
        conform_progress_t progress;
        conform_progress_init(&progress, quiet);
        if (status != XHAL_OK) failed = (size_t)tool_fail(status, "xhal_device_count");
        for (size_t i = 0; status == XHAL_OK && i < count; i++) {
            xhal_device_t *device = NULL;
            xhal_status_t s =
                spec_count ? xhal_device_open(specs[i], &device) : xhal_device_get(i, &device);
            if (s == XHAL_OK)
                failed += (size_t)peak_device(device, quick, store, &progress);
            else
                failed += tool_report(s, "xhal_device_open") != XHAL_OK;
        }
        code = failed ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
    }
    free(specs);
    return code;
}

const tool_command_t tool_cmd_peak = {
    .name = "peak",
    .summary = "measure each device's ceilings (copy bandwidth, FMA/GEMM FLOP/s) and store them",
    .help = peak_help,
    .run = run_peak,
};
