/*
 * The Level Zero backend's private declarations. It runs the OpenCL C kernels of kernels/opencl/,
 * compiled to SPIR-V at build time (cmake/xhal_spirv.cmake), through Level Zero: the dispatch of
 * the ops (which kernels, their arguments and NDRange shapes, the tuning) is the OpenCL backend's,
 * compiled into this plugin too (backends/opencl/ocl_ops.h); this folder supplies the objects it
 * runs on and the launches.
 *
 * Files, one concept each:
 *   lz_loader.c   dlopen of the loader (libze_loader.so.1) and the entry points used; ze_result
 *                 names and the DEVICE_ERROR messages built from them
 *   lz_backend.c  the entry table, init (zeInit, once per process, never called on after it
 *                 fails; drivers and devices) and shutdown
 *   lz_device.c   one device: context, properties, tuning
 *   lz_memory.c   buffers: device and host USM allocations
 *   lz_stream.c   streams (immediate command lists), copies, fill, scratch, synchronize
 *   lz_event.c    events (global timestamps written by the stream), waits, elapsed time
 *   lz_kernel.c   modules from the SPIR-V table, kernels per stream, launches (ocl_launch)
 */
#ifndef XHAL_LZ_INTERNAL_H
#define XHAL_LZ_INTERNAL_H

#include <level_zero/ze_api.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal_backend.h"

#include "ocl_ops.h"
#include "xc_scratch.h"
#include "xc_spirv.h"

/* ---- lz_loader.c: the loader's entry points, loaded with dlsym ---- */

#define LZ_ENTRY_POINTS(X)                                                                         \
    X(zeInit)                                                                                      \
    X(zeDriverGet)                                                                                 \
    X(zeDriverGetProperties)                                                                       \
    X(zeDriverGetApiVersion)                                                                       \
    X(zeDeviceGet)                                                                                 \
    X(zeDeviceGetProperties)                                                                       \
    X(zeDeviceGetComputeProperties)                                                                \
    X(zeDeviceGetMemoryProperties)                                                                 \
    X(zeDeviceGetCommandQueueGroupProperties)                                                      \
    X(zeContextCreate)                                                                             \
    X(zeContextDestroy)                                                                            \
    X(zeMemAllocDevice)                                                                            \
    X(zeMemAllocHost)                                                                              \
    X(zeMemFree)                                                                                   \
    X(zeCommandListCreateImmediate)                                                                \
    X(zeCommandListDestroy)                                                                        \
    X(zeCommandListAppendMemoryCopy)                                                               \
    X(zeCommandListAppendMemoryFill)                                                               \
    X(zeCommandListAppendBarrier)                                                                  \
    X(zeCommandListAppendLaunchKernel)                                                             \
    X(zeCommandListAppendWaitOnEvents)                                                             \
    X(zeCommandListAppendWriteGlobalTimestamp)                                                     \
    X(zeEventPoolCreate)                                                                           \
    X(zeEventPoolDestroy)                                                                          \
    X(zeEventCreate)                                                                               \
    X(zeEventDestroy)                                                                              \
    X(zeEventHostSynchronize)                                                                      \
    X(zeEventQueryStatus)                                                                          \
    X(zeEventHostReset)                                                                            \
    X(zeModuleCreate)                                                                              \
    X(zeModuleDestroy)                                                                             \
    X(zeModuleBuildLogGetString)                                                                   \
    X(zeModuleBuildLogDestroy)                                                                     \
    X(zeKernelCreate)                                                                              \
    X(zeKernelDestroy)                                                                             \
    X(zeKernelSetGroupSize)                                                                        \
    X(zeKernelSuggestGroupSize)                                                                    \
    X(zeKernelSetArgumentValue)

typedef struct lz_api {
#define LZ_MEMBER(name) __typeof__(&name) name;
    LZ_ENTRY_POINTS(LZ_MEMBER)
#undef LZ_MEMBER
} lz_api_t;

/* Filled by lz_load_library; read-only afterwards. */
extern lz_api_t lz;

/* Loads libze_loader.so.1 (once per process) and its entry points; UNAVAILABLE with the reason. */
xhal_status_t lz_load_library(const xhal_host_api_t *host);

/* "ZE_RESULT_ERROR_DEVICE_LOST", or "an unknown ze_result_t". */
const char *lz_result_name(ze_result_t result);

/*
 * Reports a failed call: "levelzero: <call> (<what>) failed with <ZE name> (0x<code>)".
 * Allocation failures give XHAL_OUT_OF_MEMORY, everything else XHAL_DEVICE_ERROR.
 */
xhal_status_t lz_fail(const xhal_host_api_t *host, ze_result_t result, const char *call,
                      const char *what_fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- Objects behind the handles ---- */

typedef struct lz_found_device {
    ze_driver_handle_t driver;
    ze_device_handle_t device;
} lz_found_device_t;

struct xhal_be_state {
    const xhal_host_api_t *host;
    lz_found_device_t *found;
    uint32_t count;
};

struct xhal_be_device {
    /* What the kernels' dispatch reads (ocl_ops.h). */
    const xhal_host_api_t *host;
    xhal_device_info_t info;
    ocl_tuning_t tuning;
    uint64_t local_memory; /* maxSharedLocalMemory */
    size_t max_work_group; /* maxTotalGroupSize */
    /* Level Zero's. */
    ze_driver_handle_t driver;
    ze_device_handle_t id;
    ze_context_handle_t context;
    uint32_t compute_ordinal; /* the command queue group that runs kernels */
    uint64_t max_alloc;       /* maxMemAllocSize */
    double tick_ns;           /* nanoseconds per global timestamp tick (timerResolution) */
    uint64_t timestamp_mask;  /* timestampValidBits */
    char identity[512];       /* "name | vendor | Level Zero | driver": tuning match */
    pthread_mutex_t lock;     /* protects modules: made on first use by any stream */
    ze_module_handle_t modules[OCL_PROGRAM_COUNT];
};

struct xhal_be_buffer {
    cl_mem mem; /* the USM pointer as the kernels' argument value (ocl_ops.h) */
    void *ptr;  /* the same pointer */
    int host;   /* XHAL_MEMORY_HOST_PINNED: zeMemAllocHost, addressable by the host */
    uint64_t size;
};

#define LZ_SCRATCH_SLOTS 3

struct xhal_be_stream {
    xhal_be_device_t *device;
    ze_command_list_handle_t list; /* immediate */
    ze_event_pool_handle_t pool;   /* the stream's own event: */
    ze_event_handle_t done;        /* signalled by synchronize's barrier */
    ze_kernel_handle_t kernels[OCL_FAMILY_COUNT][OCL_VARIANTS];
    xc_scratch_t scratch[LZ_SCRATCH_SLOTS];
};

/* ---- Entries of the table, by file ---- */

xhal_status_t lz_device_open(xhal_be_state_t *state, uint32_t index, xhal_be_device_t **out);
void lz_device_close(xhal_be_device_t *device);
xhal_status_t lz_device_info(xhal_be_device_t *device, xhal_device_info_t *out_info);

xhal_status_t lz_buffer_alloc(xhal_be_device_t *device, uint64_t size, xhal_memory_kind_t kind,
                              xhal_be_buffer_t **out_buffer);
void lz_buffer_free(xhal_be_device_t *device, xhal_be_buffer_t *buffer);
xhal_status_t lz_buffer_host_pointer(xhal_be_device_t *device, xhal_be_buffer_t *buffer,
                                     xhal_memory_kind_t kind, void **out_ptr);

xhal_status_t lz_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream);
void lz_stream_destroy(xhal_be_stream_t *stream);
xhal_status_t lz_stream_synchronize(xhal_be_stream_t *stream);
xhal_status_t lz_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                          const void *src, uint64_t size);
xhal_status_t lz_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                          uint64_t src_offset, uint64_t size);
xhal_status_t lz_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                          xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size);
xhal_status_t lz_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                      uint64_t size, const void *pattern, size_t pattern_size);

xhal_status_t lz_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event);
void lz_event_destroy(xhal_be_event_t *event);
xhal_status_t lz_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream);
xhal_status_t lz_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event);
xhal_status_t lz_event_synchronize(xhal_be_event_t *event);
xhal_status_t lz_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms);

/* ---- lz_stream.c ---- */

/* Appends the barrier that keeps a stream's commands in order (after each command). */
xhal_status_t lz_stream_order(xhal_be_stream_t *stream, const char *after);

/* ---- lz_kernel.c ---- */

void lz_modules_release(xhal_be_device_t *device);
void lz_kernels_release(xhal_be_stream_t *stream);

/* The SPIR-V modules compiled in (cmake/xhal_spirv.cmake); count 0 without the SPIR-V tools. */
extern const xc_spirv_module_t lz_spirv_modules[];
extern const size_t lz_spirv_modules_count;

#endif /* XHAL_LZ_INTERNAL_H */
