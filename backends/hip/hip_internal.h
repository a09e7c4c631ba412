/*
 * The HIP backend's private declarations. Read hip_backend.c first.
 *
 *   hip_runtime.c     libamdhip64 loaded with dlopen: the runtime table, error names, options
 *   hip_backend.c     the entry table, init (runtime, devices) and shutdown
 *   hip_device.c      one device: what it is (gfx architecture, CUs, clocks, memory), tuning
 *   hip_module.c      the device's code object: built in (one per gfx target) or compiled with
 *                     hiprtc at first use (hip_rtc.c) and cached on disk (backends/common/
 *                     xc_cache.h); kernels found by name, launches, the per-stream workspace
 *   hip_memory.c      buffers (hipMalloc) and pinned host memory (hipHostMalloc)
 *   hip_stream.c      streams, events, copies and fills
 *   hip_gemm.c        GEMM: supports, plan (hip_plan.c), launch
 *   hip_attention.c   attention: supports, plan, launch; the LSE merge of two attentions
 *   hip_plan.c        pure kernel choice, tiles, split-K, grids (unit-tested without a GPU)
 *   hip_tuning.c      the keys of kernels/tuning/hip.ini (read by backends/common/xc_tuning.c)
 *   hip_embed.c       the code objects, the kernel source for hiprtc and the INI, built in
 *
 * The plugin links nothing of ROCm and includes none of its headers (their types and layouts
 * changed between ROCm 5 and 6): the few types, constants and prototypes it uses are spelled in
 * this file, from ROCm's hip_runtime_api.h.
 */
#ifndef XHAL_HIP_INTERNAL_H
#define XHAL_HIP_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal_backend.h"

#include "hip_plan.h"
#include "xc_cache.h"
#include "xc_options.h"
#include "xc_scratch.h"

/* ---- The HIP runtime API, as far as it is used (ROCm 5.x and 6.x agree on all of it) ---- */

typedef int hip_error_t; /* hipError_t */
typedef void *hip_stream_t, *hip_event_t, *hip_module_t, *hip_function_t;

enum {
    HIP_SUCCESS = 0,
    HIP_ERROR_OUT_OF_MEMORY = 2,
    HIP_ERROR_NO_DEVICE = 100,
    HIP_ERROR_INVALID_DEVICE = 101,
    HIP_ERROR_INVALID_IMAGE = 200,
    HIP_ERROR_NO_BINARY_FOR_GPU = 209,
    HIP_MEMCPY_HOST_TO_DEVICE = 1,
    HIP_MEMCPY_DEVICE_TO_HOST = 2,
    HIP_MEMCPY_DEFAULT = 4, /* the direction from the addresses */
    HIP_STREAM_NON_BLOCKING = 1,
    HIP_EVENT_DEFAULT = 0,
    HIP_HOST_MALLOC_DEFAULT = 0,
    /* hipDeviceAttribute_t: the same values in ROCm 5.2 and 6.x */
    HIP_ATTR_CLOCK_RATE = 5,         /* kHz */
    HIP_ATTR_L2_CACHE_SIZE = 19,     /* bytes */
    HIP_ATTR_MEMORY_BUS_WIDTH = 59,  /* bits */
    HIP_ATTR_MEMORY_CLOCK_RATE = 60, /* kHz */
    HIP_ATTR_MULTIPROCESSOR_COUNT = 63,
    HIP_ATTR_MAX_SHARED_MEMORY_PER_BLOCK = 74,
    HIP_ATTR_WARP_SIZE = 87,
};

/*
 * hipDeviceProp_t is read for gcnArchName only, the one property with no attribute, at its
 * offset in the layout the entry point fills: hipGetDevicePropertiesR0600 (ROCm 6) fills the
 * R0600 layout (1472 bytes, gcnArchName at 1160), hipGetDeviceProperties of ROCm 5 the older one
 * (792 bytes, at 396). ROCm 6 keeps the old symbol for old binaries, which is why R0600 is
 * looked up by name first. Both offsets were computed from the two versions of the header.
 */
#define HIP_PROPS_BUFFER 4096
#define HIP_PROPS_R0600_ARCH_OFFSET 1160
#define HIP_PROPS_R0000_ARCH_OFFSET 396

/* X(name, return type, parameters): required entry points. */
#define HIP_RUNTIME_FUNCTIONS(X)                                                                   \
    X(hipInit, hip_error_t, (unsigned flags))                                                      \
    X(hipGetDeviceCount, hip_error_t, (int *count))                                                \
    X(hipGetErrorName, const char *, (hip_error_t error))                                          \
    X(hipSetDevice, hip_error_t, (int device))                                                     \
    X(hipDeviceGetName, hip_error_t, (char *name, int length, int device))                         \
    X(hipDeviceGetAttribute, hip_error_t, (int *value, int attribute, int device))                 \
    X(hipDeviceTotalMem, hip_error_t, (size_t * bytes, int device))                                \
    X(hipMalloc, hip_error_t, (void **ptr, size_t size))                                           \
    X(hipFree, hip_error_t, (void *ptr))                                                           \
    X(hipHostMalloc, hip_error_t, (void **ptr, size_t size, unsigned flags))                       \
    X(hipHostFree, hip_error_t, (void *ptr))                                                       \
    X(hipMemcpyAsync, hip_error_t,                                                                 \
      (void *dst, const void *src, size_t size, int kind, hip_stream_t stream))                    \
    X(hipMemsetD8Async, hip_error_t,                                                               \
      (void *dst, unsigned char value, size_t count, hip_stream_t stream))                         \
    X(hipMemsetD16Async, hip_error_t,                                                              \
      (void *dst, unsigned short value, size_t count, hip_stream_t stream))                        \
    X(hipMemsetD32Async, hip_error_t, (void *dst, int value, size_t count, hip_stream_t stream))   \
    X(hipStreamCreateWithFlags, hip_error_t, (hip_stream_t * stream, unsigned flags))              \
    X(hipStreamDestroy, hip_error_t, (hip_stream_t stream))                                        \
    X(hipStreamSynchronize, hip_error_t, (hip_stream_t stream))                                    \
    X(hipStreamWaitEvent, hip_error_t, (hip_stream_t stream, hip_event_t event, unsigned flags))   \
    X(hipEventCreateWithFlags, hip_error_t, (hip_event_t * event, unsigned flags))                 \
    X(hipEventDestroy, hip_error_t, (hip_event_t event))                                           \
    X(hipEventRecord, hip_error_t, (hip_event_t event, hip_stream_t stream))                       \
    X(hipEventSynchronize, hip_error_t, (hip_event_t event))                                       \
    X(hipEventElapsedTime, hip_error_t, (float *ms, hip_event_t start, hip_event_t stop))          \
    X(hipModuleLoadData, hip_error_t, (hip_module_t * module, const void *image))                  \
    X(hipModuleUnload, hip_error_t, (hip_module_t module))                                         \
    X(hipModuleGetFunction, hip_error_t,                                                           \
      (hip_function_t * function, hip_module_t module, const char *name))                          \
    X(hipModuleLaunchKernel, hip_error_t,                                                          \
      (hip_function_t function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,   \
       unsigned bz, unsigned shared_bytes, hip_stream_t stream, void **args, void **extra))

/* Entry points that may be missing (version-dependent): NULL then. */
#define HIP_RUNTIME_OPTIONAL(X)                                                                    \
    X(hipRuntimeGetVersion, hip_error_t, (int *version))                                           \
    X(hipGetDevicePropertiesR0600, hip_error_t, (void *props, int device))                         \
    X(hipGetDeviceProperties, hip_error_t, (void *props, int device))

typedef struct hip_runtime {
    void *library;
    char file[256]; /* what was loaded: "libamdhip64.so.6" */
    int version;    /* hipRuntimeGetVersion: 60032830 for 6.0.32830, 0 if unknown */
/* NOLINTNEXTLINE(bugprone-macro-parentheses): a return type and a parameter list */
#define HIP_RUNTIME_FIELD(name, ret, params) ret(*name) params;
    HIP_RUNTIME_FUNCTIONS(HIP_RUNTIME_FIELD)
    HIP_RUNTIME_OPTIONAL(HIP_RUNTIME_FIELD)
#undef HIP_RUNTIME_FIELD
} hip_runtime_t;

/*
 * The backend's options, read once at init through the host's option() (the environment as
 * xhal_init captured it; backends/common/xc_options.h), never with getenv:
 *   XHAL_HIP_RUNTIME    the runtime library to load instead of libamdhip64.so.6 / .5 (tests)
 *   XHAL_HIP_RTC        the library with hiprtc (default: the runtime itself on ROCm 5,
 *                       libhiprtc.so.6 on ROCm 6)
 *   XHAL_HIP_JIT        1: compile with hiprtc even for a target with a built-in code object
 *   XHAL_HIP_GEMM, XHAL_HIP_ATTENTION, XHAL_HIP_STRICT   forced kernels (xc_forced_load)
 * and, read by the common code: XHAL_HIP_TUNING (xc_tuning_open) and XHAL_HIP_CACHE
 * (xc_cache_open: 0 for no code-object cache, or a folder).
 */
typedef struct hip_options {
    char runtime[512], rtc[512];
    xc_forced_t forced;
    int jit;
} hip_options_t;

void hip_options_read(const xhal_host_api_t *host, hip_options_t *options);

/* Loads the runtime (options->runtime, else libamdhip64.so.6, .5); UNAVAILABLE with why. */
xhal_status_t hip_runtime_load(hip_runtime_t *rt, const hip_options_t *options,
                               const xhal_host_api_t *host);
void hip_runtime_unload(hip_runtime_t *rt);
/* "hipErrorOutOfMemory (2)"; one buffer per thread. */
const char *hip_error_text(const hip_runtime_t *rt, hip_error_t error);

/* ---- hiprtc (hip_rtc.c) ---- */

typedef int hiprtc_result_t;
typedef void *hiprtc_program_t;

#define HIP_RTC_FUNCTIONS(X)                                                                       \
    X(hiprtcCreateProgram, hiprtc_result_t,                                                        \
      (hiprtc_program_t * program, const char *source, const char *name, int headers,              \
       const char **header_sources, const char **header_names))                                    \
    X(hiprtcCompileProgram, hiprtc_result_t,                                                       \
      (hiprtc_program_t program, int count, const char **options))                                 \
    X(hiprtcGetProgramLogSize, hiprtc_result_t, (hiprtc_program_t program, size_t * size))         \
    X(hiprtcGetProgramLog, hiprtc_result_t, (hiprtc_program_t program, char *log))                 \
    X(hiprtcGetCodeSize, hiprtc_result_t, (hiprtc_program_t program, size_t * size))               \
    X(hiprtcGetCode, hiprtc_result_t, (hiprtc_program_t program, char *code))                      \
    X(hiprtcDestroyProgram, hiprtc_result_t, (hiprtc_program_t * program))                         \
    X(hiprtcGetErrorString, const char *, (hiprtc_result_t result))

typedef struct hip_rtc {
    void *library;
    char file[256];
    int loaded;          /* 1: the table is complete */
    char known[128][24]; /* the targets its code-object manager (comgr) knows: "gfx90a" */
    int known_count;     /* -1: the list could not be read */
    int comgr_major, comgr_minor;
/* NOLINTNEXTLINE(bugprone-macro-parentheses): a return type and a parameter list */
#define HIP_RTC_FIELD(name, ret, params) ret(*name) params;
    HIP_RTC_FUNCTIONS(HIP_RTC_FIELD)
#undef HIP_RTC_FIELD
} hip_rtc_t;

/*
 * Loads hiprtc (once per backend) and reads the list of targets its comgr knows. Returns
 * UNSUPPORTED with the reason when hiprtc cannot compile for `gfx`: never asks it to, since
 * hiprtc aborts the process on a target its comgr does not know.
 */
xhal_status_t hip_rtc_check(xhal_be_state_t *state, const char *gfx);

void hip_rtc_unload(hip_rtc_t *rtc);

/* Compiles the built-in kernel source for `gfx`; *out_code (malloc'ed) is a code object. */
xhal_status_t hip_rtc_compile(xhal_be_state_t *state, const char *gfx, unsigned char **out_code,
                              size_t *out_size);

/* ---- Objects behind the handles ---- */

struct xhal_be_state {
    const xhal_host_api_t *host;
    hip_options_t options;
    hip_runtime_t rt;
    hip_rtc_t rtc;
    pthread_mutex_t rtc_lock;
    xc_cache_t cache; /* hiprtc's code objects (backends/common/xc_cache.h); dir "" when off */
    int device_count;
};

typedef struct hip_kernel {
    char *name; /* owned */
    hip_function_t function;
} hip_kernel_t;

struct xhal_be_device {
    xhal_be_state_t *state;
    const xhal_host_api_t *host;
    const hip_runtime_t *rt;
    int index;
    char gcn_arch[64]; /* as the runtime says: "gfx90a:sramecc+:xnack-" */
    hip_arch_t arch;   /* arch.gfx is the target: "gfx90a" */
    hip_tuning_t tuning;
    xhal_device_info_t info;
    pthread_mutex_t lock;        /* the module and the kernel cache */
    hip_module_t module;         /* NULL until first use when compiled at run time */
    int module_tried;            /* 1: a failed first use is not retried ... */
    xhal_status_t module_status; /* ... but reported again, as it was */
    char module_error[512];
    char module_source[24]; /* "built in", "hiprtc", "cache" */
    hip_kernel_t kernels[96];
    size_t kernel_count;
};

struct xhal_be_buffer {
    void *address; /* device address; for pinned memory also the host pointer */
    int pinned;
    uint64_t size;
};

struct xhal_be_stream {
    xhal_be_device_t *device;
    hip_stream_t stream;
    /* Scratch for split-K partials and split-KV decode (backends/common/xc_scratch.h): grows,
     * never shrinks; used only by work on this stream, so stream order keeps it safe. */
    xc_scratch_t workspace;
};

struct xhal_be_event {
    xhal_be_device_t *device;
    hip_event_t event;
};

/* ---- Helpers ---- */

/* A failed runtime call: DEVICE_ERROR (OUT_OF_MEMORY when it ran out), "hip: <call> failed: ...".
 */
xhal_status_t hip_fail(const xhal_be_device_t *device, hip_error_t error, const char *call);

/* Makes the device current on this thread (hipSetDevice); every entry that uses the runtime. */
xhal_status_t hip_enter(const xhal_be_device_t *device);

/* Looks up (and caches) a kernel of the device's code object, loading it on first use. */
xhal_status_t hip_kernel(xhal_be_device_t *device, const char *name, hip_function_t *out);

/* A workspace of at least `bytes` on `stream` (growing it after the stream's work is done). */
xhal_status_t hip_workspace(xhal_be_stream_t *stream, uint64_t bytes, void **out);
/* Frees the stream's workspace (stream destroy, after its work). */
void hip_workspace_free(xhal_be_stream_t *stream);

/* Launches `function` on the stream with one argument array, naming `what` in errors. */
xhal_status_t hip_launch(xhal_be_stream_t *stream, hip_function_t function, const uint32_t grid[3],
                         int threads, void **args, const char *what);

/* At device open: loads the built-in code object of the device's target, if there is one. */
xhal_status_t hip_module_open(xhal_be_device_t *device);
/* OK when the device has (or can get) a code object, else UNSUPPORTED/DEVICE_ERROR with why. */
xhal_status_t hip_module_check(xhal_be_device_t *device);
/* Releases the module and the kernel cache (device close). */
void hip_module_release(xhal_be_device_t *device);

/* The built-in data (hip_embed.c). */
typedef struct hip_code_object {
    const char *gfx; /* the target it was built for */
    const unsigned char *begin, *end;
} hip_code_object_t;

extern const hip_code_object_t xhal_hip_code_objects[];
extern const size_t xhal_hip_code_object_count;
extern const char xhal_hip_kernel_source[]; /* NUL-terminated, for hiprtc */
extern const char xhal_hip_tuning_ini[];    /* NUL-terminated */
extern const char xhal_hip_hipcc_version[]; /* what built the code objects */

/* ---- Entries of the table, by file ---- */

uint32_t hip_device_count(xhal_be_state_t *state);
xhal_status_t hip_device_open(xhal_be_state_t *state, uint32_t index, xhal_be_device_t **out);
void hip_device_close(xhal_be_device_t *device);
xhal_status_t hip_device_info(xhal_be_device_t *device, xhal_device_info_t *out_info);

xhal_status_t hip_buffer_alloc(xhal_be_device_t *device, uint64_t size, xhal_memory_kind_t kind,
                               xhal_be_buffer_t **out_buffer);
void hip_buffer_free(xhal_be_device_t *device, xhal_be_buffer_t *buffer);
xhal_status_t hip_buffer_host_pointer(xhal_be_device_t *device, xhal_be_buffer_t *buffer,
                                      xhal_memory_kind_t kind, void **out_ptr);

xhal_status_t hip_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream);
void hip_stream_destroy(xhal_be_stream_t *stream);
xhal_status_t hip_stream_synchronize(xhal_be_stream_t *stream);
xhal_status_t hip_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event);
void hip_event_destroy(xhal_be_event_t *event);
xhal_status_t hip_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream);
xhal_status_t hip_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event);
xhal_status_t hip_event_synchronize(xhal_be_event_t *event);
xhal_status_t hip_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms);
xhal_status_t hip_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           const void *src, uint64_t size);
xhal_status_t hip_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                           uint64_t src_offset, uint64_t size);
xhal_status_t hip_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size);
xhal_status_t hip_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                       uint64_t size, const void *pattern, size_t pattern_size);

xhal_status_t hip_gemm_supports(xhal_be_device_t *device, const xhal_gemm_desc_t *desc);
xhal_status_t hip_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                       const xhal_be_gemm_buffers_t *buffers);
xhal_status_t hip_attention_supports(xhal_be_device_t *device, const xhal_attention_desc_t *desc);
xhal_status_t hip_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                            const xhal_be_attention_buffers_t *buffers);
xhal_status_t hip_attention_merge_supports(xhal_be_device_t *device,
                                           const xhal_attention_merge_desc_t *desc);
xhal_status_t hip_attention_merge(xhal_be_stream_t *stream, const xhal_attention_merge_desc_t *desc,
                                  const xhal_be_merge_buffers_t *buffers);

#endif /* XHAL_HIP_INTERNAL_H */
