/*
 * A stand-in for libcuda.so.1 that lets the CUDA plugin's init paths be tested on a machine
 * without a GPU (XHAL_CUDA_DRIVER names it). Built three times:
 *   FAKE_CUDA_INIT_FAIL  cuInit returns CUDA_ERROR_NO_DEVICE (100), as on a host whose GPU is gone
 *   FAKE_CUDA_NO_DEVICE  cuInit succeeds and cuDeviceGetCount finds 0 devices
 *   FAKE_CUDA_OLD        exports no cuTensorMapEncodeTiled, like a driver older than CUDA 12
 * Every other entry point returns CUDA_ERROR_NOT_INITIALIZED (3). The exported names are the
 * versioned symbols cuda.h of CUDA 13 maps its API to (cuMemAlloc -> cuMemAlloc_v2, ...).
 */
#include <stddef.h>

#define EXPORT __attribute__((visibility("default")))
#define STUB(name)                                                                                 \
    EXPORT int name(void) {                                                                        \
        return 3;                                                                                  \
    }

EXPORT int cuInit(unsigned int flags) {
    (void)flags;
#ifdef FAKE_CUDA_INIT_FAIL
    return 100;
#else
    return 0;
#endif
}

EXPORT int cuDeviceGetCount(int *count) {
    *count = 0;
    return 0;
}

EXPORT int cuDriverGetVersion(int *version) {
    *version = 13000;
    return 0;
}

EXPORT int cuGetErrorName(int error, const char **name) {
    switch (error) {
    case 3:
        *name = "CUDA_ERROR_NOT_INITIALIZED";
        return 0;
    case 100:
        *name = "CUDA_ERROR_NO_DEVICE";
        return 0;
    default:
        *name = NULL;
        return 1;
    }
}

STUB(cuDeviceGet)
STUB(cuDeviceGetName)
STUB(cuDeviceGetAttribute)
STUB(cuDeviceTotalMem_v2)
STUB(cuDevicePrimaryCtxRetain)
STUB(cuDevicePrimaryCtxRelease_v2)
STUB(cuCtxSetCurrent)
STUB(cuMemAlloc_v2)
STUB(cuMemFree_v2)
STUB(cuMemAllocHost_v2)
STUB(cuMemFreeHost)
STUB(cuMemcpyAsync)
STUB(cuMemsetD8Async)
STUB(cuMemsetD16Async)
STUB(cuMemsetD32Async)
STUB(cuStreamCreate)
STUB(cuStreamDestroy_v2)
STUB(cuStreamSynchronize)
STUB(cuStreamWaitEvent)
STUB(cuEventCreate)
STUB(cuEventDestroy_v2)
STUB(cuEventRecord)
STUB(cuEventSynchronize)
STUB(cuEventElapsedTime_v2)
STUB(cuModuleLoadData)
STUB(cuModuleUnload)
STUB(cuModuleGetFunction)
STUB(cuFuncSetAttribute)
STUB(cuLaunchKernel)
#ifndef FAKE_CUDA_OLD
STUB(cuTensorMapEncodeTiled)
#endif
