/*
 * The data built into the plugin: one code object per gfx target hipcc built at build time
 * (the list is generated into hip_objects.inc), the kernel source flattened for hiprtc, and the
 * tuning INI. .incbin copies each file into .rodata as it is, so the build needs no generator
 * step and the plugin no data file at run time.
 */
#include "hip_internal.h"
#include "incbin.h"

#if !defined(XHAL_HIP_RTC_SOURCE_PATH) || !defined(XHAL_HIP_TUNING_PATH) ||                        \
    !defined(XHAL_HIPCC_VERSION)
#error "the build must define XHAL_HIP_RTC_SOURCE_PATH, XHAL_HIP_TUNING_PATH, XHAL_HIPCC_VERSION"
#endif

/* Each code object, followed by a label marking its end. */
#define XHAL_HIP_OBJECT(gfx, file)                                                                 \
    XHAL_INCBIN(xhal_hip_co_##gfx, file,                                                           \
                ".globl xhal_hip_co_" #gfx "_end\n.hidden xhal_hip_co_" #gfx                       \
                "_end\nxhal_hip_co_" #gfx "_end:\n");
#include "hip_objects.inc"
#undef XHAL_HIP_OBJECT

#define XHAL_HIP_OBJECT(gfx, file)                                                                 \
    extern const unsigned char xhal_hip_co_##gfx[], xhal_hip_co_##gfx##_end[];
#include "hip_objects.inc"
#undef XHAL_HIP_OBJECT

const hip_code_object_t xhal_hip_code_objects[] = {
#define XHAL_HIP_OBJECT(gfx, file) {#gfx, xhal_hip_co_##gfx, xhal_hip_co_##gfx##_end},
#include "hip_objects.inc"
#undef XHAL_HIP_OBJECT
    {0, 0, 0}, /* keeps the array non-empty */
};
const size_t xhal_hip_code_object_count =
    sizeof xhal_hip_code_objects / sizeof xhal_hip_code_objects[0] - 1;

XHAL_INCBIN(xhal_hip_kernel_source, XHAL_HIP_RTC_SOURCE_PATH, ".byte 0\n");
XHAL_INCBIN(xhal_hip_tuning_ini, XHAL_HIP_TUNING_PATH, ".byte 0\n");
const char xhal_hip_hipcc_version[] = XHAL_HIPCC_VERSION;
