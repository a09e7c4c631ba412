/* Peaks of OpenCL CPU devices, derived from the host's CPUID and measured clock. */
#ifndef XHAL_OCL_PEAKS_H
#define XHAL_OCL_PEAKS_H

#include "xhal/xhal.h"

/*
 * Sets info->clock_ghz, peak_flops[] and peak_source for a CPU device whose compute_units is
 * set, from the host clock `ghz`. Leaves the peaks 0 (with the reason in peak_source) when
 * `ghz` is 0.
 */
void ocl_cpu_peaks(xhal_device_info_t *info, double ghz);

#endif
