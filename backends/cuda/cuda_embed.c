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

/* Each fatbin is followed by an _end symbol: their bytes are the kernels' key of a tuned file
 * (cuda_device.c, backends/common/xc_tuned.h). */
#define XHAL_INCBIN_END(symbol) ".globl " #symbol "\n.hidden " #symbol "\n" #symbol ":\n"
XHAL_INCBIN(xhal_cuda_fatbin_gpu, XHAL_CUDA_FATBIN_GPU_PATH,
            XHAL_INCBIN_END(xhal_cuda_fatbin_gpu_end));
XHAL_INCBIN(xhal_cuda_fatbin_sm90, XHAL_CUDA_FATBIN_SM90_PATH,
            XHAL_INCBIN_END(xhal_cuda_fatbin_sm90_end));
XHAL_INCBIN(xhal_cuda_tuning_ini, XHAL_CUDA_TUNING_PATH, ".byte 0\n");
