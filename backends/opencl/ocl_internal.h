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

/* ---- ocl_tuning.c ---- */

typedef struct ocl_tuning {
    char source[160]; /* the file the values come from, or "built in" */
    char section[64]; /* its section that matched the device */
    int gemm_vw;      /* vector width of the GEMM kernels: 4, 8 or 16 */
    int gemm_tm;      /* rows of C per work-item tile */
    int gemm_nv;      /* vectors of C per tile row: TN = gemm_vw * gemm_nv columns */
    int gemm_rb;      /* tiles down a column per work-item (gemm_local 0) */
    int gemm_local;   /* 1: work-groups stage panels in local memory (GPUs) */
    int gemm_wg_m;    /* work-group shape with gemm_local 1 */
    int gemm_wg_n;
    int gemm_kb;         /* k steps per local-memory stage */
    int gemm_pack_k;     /* k steps per packing work-item */
    int gemm_fused;      /* 1 (gemm_local 0): each work-group packs its B panel into local memory
                            and reads f32 A in place; no packing pass */
    int gemv_max_m;      /* m up to which the GEMV kernels run (0: never) */
    int gemv_rows;       /* rows of A a GEMV work-item holds in registers at a time */
    int gemv_nv;         /* vectors of columns per GEMV work-item (B not transposed) */
    int gemv_tc;         /* columns per GEMV work-item (B transposed) */
    int att_vw;          /* vector width of attention: keys per block */
    int att_bq;          /* query rows per prefill work-item */
    int att_dec_rb;      /* query rows per decode work-item */
    int att_dec_max_q;   /* seq_q up to which the decode path runs */
    int att_dec_chunk;   /* the fewest keys per decode chunk */
    int att_dec_items;   /* decode work-items to aim for (chunks are cut to reach it) */
    int one_item_groups; /* 1: kernels without a fixed group shape run one work-item per group */
    char tuned[256];     /* the device's tuned file (xc_tuned.h) merged in, "" when none */
    char kernels[17];    /* the hash of the kernel sources a tuned file must carry */
    char refused[160];   /* "" or what of the tuning was refused (a key, or a misfit) */
    char ignored[256];   /* "" or the tuned file that was not used, and why */
} ocl_tuning_t;

/*
 * Fills *out with the parameters for a device named `name`: [default] of the tuning file, then
 * the first section whose `match` substrings and `type` fit the device, then one named like it
 * (backends/common/xc_tuning.h), then the [parameters] of the device's tuned file (xc_tuned.h,
 * keyed by name, driver and the kernels' hash), over the values compiled in. `identity` is what
 * `match` is searched in (name, vendor, platform, version, driver).
 */
void ocl_tuning_load(const xhal_host_api_t *host, const char *name, const char *identity,
                     const char *driver, cl_device_type type, ocl_tuning_t *out);

/* Writes which tuning is in force (and the tuned files' key) into the device's info. */
void ocl_tuning_report(const ocl_tuning_t *t, xhal_device_info_t *info);

/* Fills *out with the values compiled in (what a key no file sets gets). */
void ocl_tuning_defaults(ocl_tuning_t *out);

struct xc_ini;
struct xc_param;
struct xc_device_id;

/* The keys of a tuning file with their ranges (ocl_tuning.c; the fuzz target checks them). */
const struct xc_param *ocl_tuning_params(size_t *out_count);

/*
 * Applies the sections of a parsed tuning file (named `source` in warnings) that fit device `id`
 * over *out, in their order (xc_tuning.h); a value out of range is warned about through `host`
 * and keeps the field as it was. out->section names the last section applied. No file, no
 * OpenCL call: the fuzz target drives it.
 */
void ocl_tuning_apply(const struct xc_ini *ini, const char *source, const struct xc_device_id *id,
                      const xhal_host_api_t *host, ocl_tuning_t *out);

/* ---- ocl_limits.c: a tuning checked against its device ---- */

/* What a device allows a kernel configuration. */
typedef struct ocl_limits {
    uint64_t local_memory; /* CL_DEVICE_LOCAL_MEM_SIZE */
    size_t max_work_group; /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t max_item[3];    /* CL_DEVICE_MAX_WORK_ITEM_SIZES */
} ocl_limits_t;

/* Bytes of local memory the GEMM tile kernel declares with this tuning (0 with gemm_local 0). */
uint64_t ocl_gemm_local_bytes(const ocl_tuning_t *t);

/* 1 when every kernel configuration of `t` fits `limits`; else 0 and the first that does not,
 * with the limit it exceeds, in why[size]. */
int ocl_tuning_fits(const ocl_tuning_t *t, const ocl_limits_t *limits, char *why, size_t size);

/* Makes `t` fit: a configuration that does not is refused with a warning naming it and the
 * limit, and falls back to the compiled-in defaults, else to gemm_local 0. */
void ocl_tuning_fit(const xhal_host_api_t *host, const char *device_name,
                    const ocl_limits_t *limits, ocl_tuning_t *t);

/* ---- Programs and kernels ---- */

typedef enum ocl_program_id {
    OCL_PROGRAM_GEMM,
    OCL_PROGRAM_ATTENTION,
    OCL_PROGRAM_ATTENTION_MERGE,
    OCL_PROGRAM_COUNT,
} ocl_program_id_t;

/*
 * Kernel families; each has one kernel per dtype, named "<family>_<dtype>" ("gemm_tile_f16"),
 * or, for the quantized-B families (OCL_Q*), one per format: "<family>_<format>"
 * ("qgemv_t_int4"), the variant being the xhal_quant_t less 1.
 */
typedef enum ocl_family {
    OCL_GEMM_PACK_A,
    OCL_GEMM_PACK_B,
    OCL_GEMM_TILE,
    OCL_GEMM_COPY_A,
    OCL_GEMM_FUSED,
    OCL_GEMV_N,
    OCL_GEMV_T,
    OCL_GEMV_NG, /* gated GEMV */
    OCL_GEMV_TG,
    OCL_QPACK_B,
    OCL_QFUSED,
    OCL_QGEMV_T,
    OCL_QGEMV_TG,
    OCL_ATTN_PACK_KV,
    OCL_ATTN_PREFILL,
    OCL_ATTN_DECODE,
    OCL_ATTN_COMBINE,
    OCL_ATTN_MERGE,
    OCL_FAMILY_COUNT,
} ocl_family_t;

/* Kernels per family: the dtypes, or the quantized formats. */
#define OCL_VARIANTS 4

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

xhal_status_t ocl_gemm_supports(xhal_be_device_t *device, const xhal_gemm_desc_t *desc);
xhal_status_t ocl_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                       const xhal_be_gemm_buffers_t *buffers);

xhal_status_t ocl_attention_supports(xhal_be_device_t *device, const xhal_attention_desc_t *desc);
xhal_status_t ocl_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                            const xhal_be_attention_buffers_t *buffers);
xhal_status_t ocl_attention_merge_supports(xhal_be_device_t *device,
                                           const xhal_attention_merge_desc_t *desc);
xhal_status_t ocl_attention_merge(xhal_be_stream_t *stream, const xhal_attention_merge_desc_t *desc,
                                  const xhal_be_merge_buffers_t *buffers);

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

/* The -D options of program `id` from the device's tuning, then `extra` (may be ""): for the
 * build and the cache key. */
void ocl_program_options(const ocl_tuning_t *tuning, const char *extra, ocl_program_id_t id,
                         char *out, size_t size);

/* ---- ocl_kernel.c ---- */

/* One kernel argument: its size and where its value is (OCL_ARG(variable)); a NULL value asks
 * for that many bytes of local memory (OCL_LOCAL(bytes)). */
typedef struct ocl_arg {
    size_t size;
    const void *value;
} ocl_arg_t;

#define OCL_ARG(x) ((ocl_arg_t){sizeof(x), &(x)})
#define OCL_LOCAL(bytes) ((ocl_arg_t){(bytes), NULL})

/*
 * Enqueues kernel <family>_<variant> of the stream on `dims` dimensions with the given global
 * size and local size (NULL: one work-item per group where the tuning sets one_item_groups,
 * else the runtime's choice); `variant` is an xhal_dtype_t, or a quantized format less 1 for
 * the OCL_Q* families. Creates the kernel (and the program) on first use. The arguments are
 * copied by the runtime at the call.
 */
xhal_status_t ocl_launch(xhal_be_stream_t *stream, ocl_family_t family, int variant,
                         const ocl_arg_t *args, size_t arg_count, cl_uint dims,
                         const size_t *global, const size_t *local);
#define OCL_LAUNCH(stream, family, dtype, dims, global, local, ...)                                \
    ocl_launch((stream), (family), (dtype), (const ocl_arg_t[]){__VA_ARGS__},                      \
               sizeof((const ocl_arg_t[]){__VA_ARGS__}) / sizeof(ocl_arg_t), (dims), (global),     \
               (local))

void ocl_kernels_release(xhal_be_stream_t *stream);

/* ---- ocl_stream.c ---- */

/* Scratch buffer `slot` with at least `size` bytes, for ops queued on the stream from now on. */
xhal_status_t ocl_stream_scratch(xhal_be_stream_t *stream, int slot, uint64_t size, cl_mem *out);

/* ---- ocl_sources.c (generated from kernels/opencl/ and kernels/tuning/ at build time) ---- */

extern const char ocl_source_common[];
extern const char ocl_source_gemm_epilogue[];
extern const char ocl_source_gemm[];
extern const char ocl_source_qgemm[];
extern const char ocl_source_attention[];
extern const char ocl_source_attention_merge[];
extern const char ocl_tuning_builtin[];

/* ---- small helpers ---- */

static inline size_t ocl_dtype_size(xhal_dtype_t dtype) {
    return dtype == XHAL_DTYPE_F32 ? 4 : 2;
}

static inline uint64_t ocl_round_up(uint64_t value, uint64_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

/* Copies src into dst[size], cutting it short if needed. */
void ocl_copy_string(char *dst, size_t size, const char *src);

#endif /* XHAL_OCL_INTERNAL_H */
