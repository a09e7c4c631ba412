/*
 * The CUDA backend's private declarations. Read cuda_backend.c first.
 *
 *   cuda_driver.c     libcuda.so.1 loaded with dlopen: the driver API table, error names
 *   cuda_backend.c    the entry table, init (driver, devices) and shutdown
 *   cuda_device.c     one device: primary context, info, the kernel modules, tuning
 *   cuda_memory.c     buffers (cuMemAlloc) and pinned host memory (cuMemAllocHost)
 *   cuda_stream.c     streams, events, copies and fills
 *   cuda_gemm.c       GEMM: plan (cuda_plan.c), workspace, launch
 *   cuda_attention.c  attention: plan, workspace, launch
 *   cuda_attention_merge.c  merging two partial attention outputs by their LSEs
 *   cuda_plan.c       pure kernel choice, tiles, split-K, grids (unit-tested without a GPU)
 *   cuda_tuning.c     the keys of kernels/tuning/cuda.ini (read by backends/common/xc_tuning.c)
 *   cuda_embed.c      the fatbins and the INI, embedded at build time
 *
 * The plugin links neither libcuda nor libcudart: it loads on a machine with no NVIDIA driver
 * and reports UNAVAILABLE with the reason. cuda.h is included for its types only.
 */
#ifndef XHAL_CUDA_INTERNAL_H
#define XHAL_CUDA_INTERNAL_H

#include <cuda.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal_backend.h"

#include "cuda_plan.h"
#include "xc_options.h"
#include "xc_scratch.h"

/*
 * The driver entry points the backend uses. cuda.h maps some names to versioned symbols
 * (cuMemAlloc -> cuMemAlloc_v2); the X-macro expands the same way in the field names, the
 * prototypes (__typeof__) and the dlsym strings, so the three always agree.
 */
#define CUDA_DRIVER_FUNCTIONS(X)                                                                   \
    X(cuInit)                                                                                      \
    X(cuDriverGetVersion)                                                                          \
    X(cuGetErrorName)                                                                              \
    X(cuDeviceGetCount)                                                                            \
    X(cuDeviceGet)                                                                                 \
    X(cuDeviceGetName)                                                                             \
    X(cuDeviceGetAttribute)                                                                        \
    X(cuDeviceTotalMem)                                                                            \
    X(cuDevicePrimaryCtxRetain)                                                                    \
    X(cuDevicePrimaryCtxRelease)                                                                   \
    X(cuCtxSetCurrent)                                                                             \
    X(cuMemAlloc)                                                                                  \
    X(cuMemFree)                                                                                   \
    X(cuMemAllocHost)                                                                              \
    X(cuMemFreeHost)                                                                               \
    X(cuMemcpyAsync)                                                                               \
    X(cuMemsetD8Async)                                                                             \
    X(cuMemsetD16Async)                                                                            \
    X(cuMemsetD32Async)                                                                            \
    X(cuStreamCreate)                                                                              \
    X(cuStreamDestroy)                                                                             \
    X(cuStreamSynchronize)                                                                         \
    X(cuStreamWaitEvent)                                                                           \
    X(cuEventCreate)                                                                               \
    X(cuEventDestroy)                                                                              \
    X(cuEventRecord)                                                                               \
    X(cuEventSynchronize)                                                                          \
    X(cuEventElapsedTime)                                                                          \
    X(cuModuleLoadData)                                                                            \
    X(cuModuleUnload)                                                                              \
    X(cuModuleGetFunction)                                                                         \
    X(cuFuncSetAttribute)                                                                          \
    X(cuLaunchKernel)                                                                              \
    X(cuTensorMapEncodeTiled)

typedef struct cuda_driver {
    void *library;
    int version; /* cuDriverGetVersion: 13000 for 13.0 */
#define CUDA_DRIVER_FIELD(fn) __typeof__(&fn) fn;
    CUDA_DRIVER_FUNCTIONS(CUDA_DRIVER_FIELD)
#undef CUDA_DRIVER_FIELD
} cuda_driver_t;

/*
 * Loads libcuda.so.1 (or the file XHAL_CUDA_DRIVER names, for tests) and resolves every entry
 * point (backends/common/xc_dlib.h). Returns UNAVAILABLE with the reason through `host` when the
 * library or a symbol is missing.
 */
xhal_status_t cuda_driver_load(cuda_driver_t *driver, const xhal_host_api_t *host);
void cuda_driver_unload(cuda_driver_t *driver);
/* "CUDA_ERROR_OUT_OF_MEMORY", or "CUDA error <n>" when the driver has no name for it. */
const char *cuda_error_name(const cuda_driver_t *driver, CUresult result);

/* ---- Objects behind the handles ---- */

struct xhal_be_state {
    const xhal_host_api_t *host;
    cuda_driver_t driver;
    int device_count;
};

/* The kernels of one module, found by name at device open. */
typedef struct cuda_kernel {
    char *name; /* owned */
    CUfunction function;
} cuda_kernel_t;

struct xhal_be_device {
    xhal_be_state_t *state;
    const xhal_host_api_t *host;
    const cuda_driver_t *driver;
    CUdevice device;
    CUcontext context;    /* the primary context, retained */
    CUmodule module;      /* kernels/gpu: every architecture */
    CUmodule module_sm90; /* kernels/cuda: sm_90a only, else NULL */
    cuda_arch_t arch;
    cuda_tuning_t tuning;
    xc_forced_t forced; /* XHAL_CUDA_GEMM, _ATTENTION, _STRICT (backends/common/xc_options.h) */
    xhal_device_info_t info;
    pthread_mutex_t lock; /* the function cache below */
    cuda_kernel_t kernels[96];
    size_t kernel_count;
};

struct xhal_be_buffer {
    CUdeviceptr address; /* device address (for pinned memory: its unified address) */
    void *host;          /* pinned memory's host pointer, NULL for device memory */
    uint64_t size;
};

struct xhal_be_stream {
    xhal_be_device_t *device;
    CUstream stream;
    /* Scratch for split-K partials and split-KV decode (backends/common/xc_scratch.h): grows,
     * never shrinks; used only by work on this stream, so stream order keeps it safe. */
    xc_scratch_t workspace;
};

struct xhal_be_event {
    xhal_be_device_t *device;
    CUevent event;
};

/* ---- Helpers ---- */

/*
 * Reports a failed driver call: DEVICE_ERROR (OUT_OF_MEMORY for an allocation that ran out)
 * with "cuda: <call> failed: <CUDA_ERROR_NAME>".
 */
xhal_status_t cuda_fail(const xhal_be_device_t *device, CUresult result, const char *call);

/* Makes the device's context current on this thread (every entry that calls the driver). */
xhal_status_t cuda_enter(const xhal_be_device_t *device);

/* Looks up (and caches) a kernel of the generic or sm_90a module; sets the error when missing. */
xhal_status_t cuda_kernel(xhal_be_device_t *device, const char *name, int sm90, int smem,
                          CUfunction *out);

/* A workspace of at least `bytes` on `stream` (growing it after the stream's work is done). */
xhal_status_t cuda_workspace(xhal_be_stream_t *stream, uint64_t bytes, CUdeviceptr *out);
/* Frees the stream's workspace (its work is done). */
void cuda_workspace_free(xhal_be_stream_t *stream);

/* Launches `function` on the stream with one argument array, naming `what` in errors. */
xhal_status_t cuda_launch(xhal_be_stream_t *stream, CUfunction function, const uint32_t grid[3],
                          int threads, int smem, void **args, const char *what);

/* The embedded data (cuda_embed.c). */
extern const unsigned char xhal_cuda_fatbin_gpu[];
extern const unsigned char xhal_cuda_fatbin_sm90[];
extern const unsigned char xhal_cuda_fatbin_gpu_end[]; /* one past each fatbin's last byte */
extern const unsigned char xhal_cuda_fatbin_sm90_end[];
extern const char xhal_cuda_tuning_ini[]; /* NUL-terminated */

/* ---- Entries of the table, by file ---- */

uint32_t cuda_device_count(xhal_be_state_t *state);
xhal_status_t cuda_device_open(xhal_be_state_t *state, uint32_t index, xhal_be_device_t **out);
void cuda_device_close(xhal_be_device_t *device);
xhal_status_t cuda_device_info(xhal_be_device_t *device, xhal_device_info_t *out_info);

xhal_status_t cuda_buffer_alloc(xhal_be_device_t *device, uint64_t size, xhal_memory_kind_t kind,
                                xhal_be_buffer_t **out_buffer);
void cuda_buffer_free(xhal_be_device_t *device, xhal_be_buffer_t *buffer);
xhal_status_t cuda_buffer_host_pointer(xhal_be_device_t *device, xhal_be_buffer_t *buffer,
                                       xhal_memory_kind_t kind, void **out_ptr);

xhal_status_t cuda_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream);
void cuda_stream_destroy(xhal_be_stream_t *stream);
xhal_status_t cuda_stream_synchronize(xhal_be_stream_t *stream);
xhal_status_t cuda_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event);
void cuda_event_destroy(xhal_be_event_t *event);
xhal_status_t cuda_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream);
xhal_status_t cuda_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event);
xhal_status_t cuda_event_synchronize(xhal_be_event_t *event);
xhal_status_t cuda_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms);
xhal_status_t cuda_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                            const void *src, uint64_t size);
xhal_status_t cuda_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                            uint64_t src_offset, uint64_t size);
xhal_status_t cuda_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                            xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size);
xhal_status_t cuda_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                        uint64_t size, const void *pattern, size_t pattern_size);

xhal_status_t cuda_gemm_supports(xhal_be_device_t *device, const xhal_gemm_desc_t *desc);
xhal_status_t cuda_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                        const xhal_be_gemm_buffers_t *buffers);
xhal_status_t cuda_attention_supports(xhal_be_device_t *device, const xhal_attention_desc_t *desc);
xhal_status_t cuda_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                             const xhal_be_attention_buffers_t *buffers);
xhal_status_t cuda_attention_merge_supports(xhal_be_device_t *device,
                                            const xhal_attention_merge_desc_t *desc);
xhal_status_t cuda_attention_merge(xhal_be_stream_t *stream,
                                   const xhal_attention_merge_desc_t *desc,
                                   const xhal_be_merge_buffers_t *buffers);

#endif /* XHAL_CUDA_INTERNAL_H */
