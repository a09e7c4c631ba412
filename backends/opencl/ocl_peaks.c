/*
 * Peaks of an OpenCL CPU device (PoCL, Intel's CPU runtime), derived the way the CPU backend
 * derives the host's:
 *
 *   peak f32 FLOP/s = compute units x FLOP/cycle/core x measured GHz
 *   FLOP/cycle/core = 2 (an FMA is two FLOPs) x SIMD lanes x FMA pipes
 *
 * An OpenCL CPU device is the host's processor, and its compiler targets the host's ISA, so
 * CPUID says what the cores can do. The clock is measured (a chain of dependent adds), because
 * both /proc/cpuinfo and CL_DEVICE_MAX_CLOCK_FREQUENCY report the nominal clock: 2.6 GHz on the
 * machines this was written on, whose cores run at 3.6-4.1 GHz. It is measured at init, before
 * the ICD starts its own threads.
 *
 * The kernels convert f16 and bf16 to f32 (PoCL has no fp16 arithmetic), so those peaks equal
 * the f32 one. GPUs and accelerators get no derived peak: their datasheet figures belong in
 * hal/data/devices.ini.
 */
#include <stdio.h>
#include <string.h>

#include "host_cpu.h"
#include "ocl_peaks.h"

void ocl_cpu_peaks(xhal_device_info_t *info, double ghz) {
    /* Without a clock, keep the driver's nominal one and no peak rather than a wrong one. */
    if (ghz <= 0) {
        snprintf(info->peak_source, sizeof(info->peak_source),
                 "unknown: the host clock could not be measured");
        return;
    }
    host_cpu_features_t features;
    host_cpu_detect(&features);
    unsigned flop_per_cycle = host_cpu_f32_flop_per_cycle(&features);
    double f32 = (double)info->compute_units * flop_per_cycle * ghz * 1e9;
    info->clock_ghz = ghz;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        info->peak_flops[t] = f32;
    snprintf(info->peak_source, sizeof(info->peak_source),
             "derived: %u compute units x %u FLOP/cycle x %.2f GHz (measured host clock)",
             info->compute_units, flop_per_cycle, ghz);
}
