/*
 * The data built into the plugin: the two fatbins nvcc made at build time and the tuning INI.
 * .incbin copies each file into .rodata as it is, so the build needs no generator step and the
 * plugin no data file at run time. The build passes the paths (XHAL_CUDA_*_PATH) and makes this
 * object depend on the files.
 */
#include "cuda_internal.h"
#include "incbin.h"

#if !defined(XHAL_CUDA_FATBIN_GPU_PATH) || !defined(XHAL_CUDA_FATBIN_SM90_PATH) ||                 \
    !defined(XHAL_CUDA_TUNING_PATH)
#error                                                                                             \
    "the build must define XHAL_CUDA_FATBIN_GPU_PATH, XHAL_CUDA_FATBIN_SM90_PATH and XHAL_CUDA_TUNING_PATH"
#endif

XHAL_INCBIN(xhal_cuda_fatbin_gpu, XHAL_CUDA_FATBIN_GPU_PATH, "");
XHAL_INCBIN(xhal_cuda_fatbin_sm90, XHAL_CUDA_FATBIN_SM90_PATH, "");
XHAL_INCBIN(xhal_cuda_tuning_ini, XHAL_CUDA_TUNING_PATH, ".byte 0\n");
