/*
 * The OpenCL backend's private declarations: the objects behind the opaque handles of
 * xhal_backend.h, the OpenCL entry points it loads at run time, and what the op files share.
 *
 * Files, one concept each:
 *   ocl_loader.c     dlopen of the ICD loader (libOpenCL.so.1) and the entry points used
 *   ocl_errors.c     CL error codes to names, and the DEVICE_ERROR messages built from them
 *   ocl_backend.c    the entry table, init (platforms and devices) and shutdown
 *   ocl_device.c     one device: context and info
 *   ocl_peaks.c      peaks of CPU devices, derived from the host's CPUID and measured clock
 *   ocl_memory.c     buffers (cl_mem)
 *   ocl_stream.c     streams (in-order command queues with profiling), copies, fill, scratch
 *   ocl_event.c      events (markers), waits across streams, elapsed time
 *   ocl_tuning.c     the keys of kernels/tuning/opencl.ini and their ranges, applied to a device
 *   ocl_tuning_file.c  which tuning file a device reads (backends/common/xc_tuning.c)
 *   ocl_program.c    building the embedded kernels per device, and the binary cache on disk
 *   ocl_kernel.c     kernels per stream, argument setting and launches
 *   ocl_gemm.c       GEMM: packing + tile kernel, or the GEMV path for small m
 *   ocl_attention.c  attention: prefill (pack + blocked kernel) or decode (split-KV + combine)
 *   ocl_attention_merge.c  merging two partial attention outputs by their LSEs
 * The kernels themselves are the .cl files of kernels/opencl/, embedded at build time
 * (ocl_sources.c).
 */
#ifndef XHAL_OCL_INTERNAL_H
#define XHAL_OCL_INTERNAL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

/* From cl_ext.h (cl_khr_icd): what the ICD loader returns when no platform is installed. */
#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal_backend.h"

#include "xc_scratch.h"
#include "xc_spirv.h"

/* The kernels' dispatch, shared with the Level Zero backend: tuning, kernel families, launches,
 * the ops. */
#include "ocl_ops.h"

/* ---- ocl_loader.c: the OpenCL entry points, loaded with dlsym ---- */

/* Declares one member per entry point, typed from CL/cl.h so a mismatch cannot compile. */
#define OCL_ENTRY_POINTS(X)                                                                        \
    X(clGetPlatformIDs)                                                                            \
    X(clGetPlatformInfo)                                                                           \
    X(clGetDeviceIDs)                                                                              \
    X(clGetDeviceInfo)                                                                             \
    X(clCreateContext)                                                                             \
    X(clReleaseContext)                                                                            \
    X(clCreateCommandQueue)                                                                        \
    X(clReleaseCommandQueue)                                                                       \
    X(clFinish)                                                                                    \
    X(clFlush)                                                                                     \
    X(clCreateBuffer)                                                                              \
    X(clReleaseMemObject)                                                                          \
    X(clEnqueueWriteBuffer)                                                                        \
    X(clEnqueueReadBuffer)                                                                         \
    X(clEnqueueCopyBuffer)                                                                         \
    X(clEnqueueFillBuffer)                                                                         \
    X(clEnqueueMarkerWithWaitList)                                                                 \
    X(clEnqueueBarrierWithWaitList)                                                                \
    X(clWaitForEvents)                                                                             \
    X(clGetEventInfo)                                                                              \
    X(clGetEventProfilingInfo)                                                                     \
    X(clRetainEvent)                                                                               \
    X(clReleaseEvent)                                                                              \
    X(clCreateProgramWithSource)                                                                   \
    X(clCreateProgramWithBinary)                                                                   \
    X(clBuildProgram)                                                                              \
    X(clGetProgramInfo)                                                                            \
    X(clGetProgramBuildInfo)                                                                       \
    X(clReleaseProgram)                                                                            \
    X(clCreateKernel)                                                                              \
    X(clReleaseKernel)                                                                             \
    X(clSetKernelArg)                                                                              \
    X(clEnqueueNDRangeKernel)

typedef struct ocl_api {
#define OCL_MEMBER(name) __typeof__(&name) name;
    OCL_ENTRY_POINTS(OCL_MEMBER)
#undef OCL_MEMBER
} ocl_api_t;

/* Filled by ocl_load_library; read-only afterwards. */
extern ocl_api_t ocl;

/* clCreateProgramWithIL (OpenCL 2.1, beyond the 1.2 headers we build with): NULL when the
 * loader lacks it. Only called for devices whose CL_DEVICE_IL_VERSION names SPIR-V. */
typedef cl_program (*ocl_create_program_with_il_fn)(cl_context, const void *, size_t, cl_int *);
extern ocl_create_program_with_il_fn ocl_create_program_with_il;
#define OCL_DEVICE_IL_VERSION 0x105B /* CL_DEVICE_IL_VERSION (OpenCL 2.1) */

/*
 * Loads libOpenCL.so.1 (once per process: ICDs such as PoCL keep threads and do not support
 * being unloaded) and its entry points. UNAVAILABLE with a sentence when it is missing.
 */
xhal_status_t ocl_load_library(const xhal_host_api_t *host);

/* ---- ocl_errors.c ---- */

/* "CL_OUT_OF_RESOURCES", or "an unknown OpenCL error" for codes the spec does not define. */
const char *ocl_error_name(cl_int code);

/*
 * Reports a failed OpenCL call: "opencl: <call> (<what>) failed with <CL name> (<code>)".
 * Allocation failures give XHAL_OUT_OF_MEMORY, everything else XHAL_DEVICE_ERROR.
 */
xhal_status_t ocl_fail(const xhal_host_api_t *host, cl_int code, const char *call,
                       const char *what_fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- Objects behind the handles ---- */

/* One device as init found it. */
typedef struct ocl_found_device {
    cl_platform_id platform;
    cl_device_id device;
} ocl_found_device_t;

struct xhal_be_state {
    const xhal_host_api_t *host;
    ocl_found_device_t *found;
    uint32_t count;
    double host_ghz; /* measured before the ICD started, for the peaks of CPU devices */
};

struct xhal_be_device {
    const xhal_host_api_t *host;
    double host_ghz; /* the state's, for fill_info */
    cl_platform_id platform;
    cl_device_id id;
    cl_context context;
    xhal_device_info_t info;
    /* "name | vendor | platform | device version | driver": tuning match and cache key. */
    char identity[1024];
    ocl_tuning_t tuning;
    char build_options[256]; /* XHAL_OPENCL_BUILD_OPTIONS, appended to every program's options */
    int profile;             /* XHAL_OPENCL_PROFILE=1 with XHAL_LOG=info: time every launch */
    int host_unified;        /* CL_DEVICE_HOST_UNIFIED_MEMORY: pinned memory is host memory */
    uint64_t max_alloc;      /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    uint64_t local_memory;   /* CL_DEVICE_LOCAL_MEM_SIZE */
    size_t max_work_group;   /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    pthread_mutex_t lock;    /* protects programs: built on first use by any stream */
    cl_program programs[OCL_PROGRAM_COUNT];
    /* The programs come from the SPIR-V modules compiled in (ocl_program.c): the device takes
     * SPIR-V 1.x (CL_DEVICE_IL_VERSION), the loader has clCreateProgramWithIL, and
     * XHAL_OPENCL_SPIRV is not 0. */
    int spirv;
};

struct xhal_be_buffer {
    cl_mem mem;
    void *host; /* our host memory behind the buffer (CL_MEM_USE_HOST_PTR), or NULL */
    int pinned; /* XHAL_MEMORY_HOST_PINNED: `host` is the buffer's host pointer */
    uint64_t size;
};

/* Scratch buffers per stream: packed A and B, packed K and V, decode partials (m, l, acc). */
#define OCL_SCRATCH_SLOTS 3

struct xhal_be_stream {
    xhal_be_device_t *device;
    cl_command_queue queue;
    /* Kernels are per stream: clSetKernelArg on a kernel shared by two threads would race. */
    cl_kernel kernels[OCL_FAMILY_COUNT][OCL_VARIANTS];
    /* Packed operands and partial results of the ops, grown on demand. The queue is in order
     * and one stream is used by one thread at a time, so these serve every op in turn. */
    xc_scratch_t scratch[OCL_SCRATCH_SLOTS]; /* backends/common/xc_scratch.h */
};

/* ---- Entries of the table, by file ---- */

uint32_t ocl_device_count(xhal_be_state_t *state);
xhal_status_t ocl_device_open(xhal_be_state_t *state, uint32_t index,
                              xhal_be_device_t **out_device);
void ocl_device_close(xhal_be_device_t *device);
xhal_status_t ocl_device_info(xhal_be_device_t *device, xhal_device_info_t *out_info);

xhal_status_t ocl_buffer_alloc(xhal_be_device_t *device, uint64_t size, xhal_memory_kind_t kind,
                               xhal_be_buffer_t **out_buffer);
void ocl_buffer_free(xhal_be_device_t *device, xhal_be_buffer_t *buffer);
xhal_status_t ocl_buffer_host_pointer(xhal_be_device_t *device, xhal_be_buffer_t *buffer,
                                      xhal_memory_kind_t kind, void **out_ptr);

xhal_status_t ocl_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream);
void ocl_stream_destroy(xhal_be_stream_t *stream);
xhal_status_t ocl_stream_synchronize(xhal_be_stream_t *stream);
xhal_status_t ocl_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           const void *src, uint64_t size);
xhal_status_t ocl_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                           uint64_t src_offset, uint64_t size);
xhal_status_t ocl_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size);
xhal_status_t ocl_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                       uint64_t size, const void *pattern, size_t pattern_size);

xhal_status_t ocl_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event);
void ocl_event_destroy(xhal_be_event_t *event);
xhal_status_t ocl_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream);
xhal_status_t ocl_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event);
xhal_status_t ocl_event_synchronize(xhal_be_event_t *event);
xhal_status_t ocl_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms);

/* ---- ocl_device.c helpers ---- */

/* Reads a string device/platform parameter into out[size] ("" when the query fails). */
void ocl_device_string(cl_device_id device, cl_device_info param, char *out, size_t size);
void ocl_platform_string(cl_platform_id platform, cl_platform_info param, char *out, size_t size);

/* ---- ocl_program.c ---- */

/*
 * Returns the device's program `id`, building it on first use: from the binary cache on disk
 * when it holds this device, driver, source and options, else from the embedded source (and
 * then saved to the cache). A build failure is DEVICE_ERROR with the build log.
 */
xhal_status_t ocl_program_get(xhal_be_device_t *device, ocl_program_id_t id,
                              cl_program *out_program);
void ocl_programs_release(xhal_be_device_t *device);

/* Writes where the device's programs will come from, "SPIR-V: gemm attention attention_merge"
 * or "source", naming those with a SPIR-V module (for the log at device open). */
void ocl_program_origins(const xhal_be_device_t *device, char *out, size_t size);

void ocl_kernels_release(xhal_be_stream_t *stream);

/* ---- ocl_sources.c (generated from kernels/opencl/ and kernels/tuning/ at build time) ---- */

/* (The ocl_source_* arrays are declared in ocl_ops.h.) */
/* The same kernels as SPIR-V (cmake/xhal_spirv.cmake), when the build had the tools. */
#ifdef OCL_HAVE_SPIRV
extern const xc_spirv_module_t ocl_spirv_modules[];
extern const size_t ocl_spirv_modules_count;
#endif

#endif /* XHAL_OCL_INTERNAL_H */
