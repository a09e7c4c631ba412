/*
 * The dispatch of the OpenCL C kernels of kernels/opencl/: the GEMM, attention and merge ops
 * (ocl_gemm.c, ocl_gemm_gemv.c, ocl_attention.c, ocl_attention_merge.c), the tuning of their
 * parameters (ocl_tuning.c, ocl_tuning_file.c) and its check against a device (ocl_limits.c). These
 * files are compiled into every plugin that runs these kernels: the OpenCL backend, and the Level
 * Zero backend, which runs the same kernels compiled to SPIR-V (backends/levelzero/).
 *
 * What each such plugin supplies, in its own folder:
 *   <ocl_objects.h>   its struct xhal_be_device, with at least `host`, `info`, `tuning`,
 *                     `local_memory` and `max_work_group`; struct xhal_be_stream, with `device`;
 *                     struct xhal_be_buffer, with `mem`, the value a kernel argument of a global
 *                     buffer takes (a cl_mem in OpenCL, the USM pointer in Level Zero: both are
 *                     one pointer, set with the argument's size and the address of the value);
 *   ocl_launch()      kernel <family>_<variant> over an NDRange (below);
 *   ocl_stream_scratch()  the stream's scratch buffers;
 * and the compile definition OCL_BACKEND_NAME, the backend's name in messages ("opencl").
 */
#ifndef XHAL_OCL_OPS_H
#define XHAL_OCL_OPS_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal_backend.h"

#ifndef OCL_BACKEND_NAME
#define OCL_BACKEND_NAME "opencl"
#endif

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

/* "<family>_<variant>" ("gemm_tile_f16", "qgemv_t_int4") into out[size] (ocl_families.c). */
void ocl_kernel_name(ocl_family_t family, int variant, char *out, size_t size);
/* The program that holds a family's kernels. */
ocl_program_id_t ocl_family_program(ocl_family_t family);
/* "gemm", "attention", "attention_merge": the program's name in caches and the SPIR-V table. */
const char *ocl_program_name(ocl_program_id_t id);

/* Kernels per family: the dtypes, or the quantized formats. */
#define OCL_VARIANTS 4

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

/* ---- ocl_stream.c ---- */

/* Scratch buffer `slot` with at least `size` bytes, for ops queued on the stream from now on. */
xhal_status_t ocl_stream_scratch(xhal_be_stream_t *stream, int slot, uint64_t size, cl_mem *out);

/* The -D options of program `id` from the device's tuning, then `extra` (may be ""): for the
 * build and the cache key; the
 * SPIR-V modules compiled at build time are named by it (backends/common/xc_spirv.h). */
void ocl_program_options(const ocl_tuning_t *tuning, const char *extra, ocl_program_id_t id,
                         char *out, size_t size);

/* ---- The ops ---- */

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

/* The tuning file compiled in (kernels/tuning/opencl.ini, embedded at build time). */
extern const char ocl_tuning_builtin[];
/* The kernel sources (kernels/opencl/, embedded): built by the OpenCL backend, and hashed by
 * ocl_tuning_file.c into the key of tuned files in both plugins. */
extern const char ocl_source_common[];
extern const char ocl_source_gemm_epilogue[];
extern const char ocl_source_gemm[];
extern const char ocl_source_qgemm[];
extern const char ocl_source_attention[];
extern const char ocl_source_attention_merge[];

/* ---- small helpers ---- */

static inline size_t ocl_dtype_size(xhal_dtype_t dtype) {
    return dtype == XHAL_DTYPE_F32 ? 4 : 2;
}

static inline uint64_t ocl_round_up(uint64_t value, uint64_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

/* Copies src into dst[size], cutting it short if needed. */
void ocl_copy_string(char *dst, size_t size, const char *src);

/* The plugin's objects (see the top of this file). */
#include <ocl_objects.h>

#endif /* XHAL_OCL_OPS_H */
