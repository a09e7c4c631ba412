/*
 * xhal: one vendor-neutral API for devices, buffers, streams, events, GEMM and attention.
 *
 * This is the only header an application includes. Every function that can fail returns an
 * xhal_status_t; on failure xhal_last_error() holds a sentence naming the bad argument and its
 * value, or the vendor call and its error name. Nothing in the library aborts, exits or prints
 * on its own (set XHAL_LOG=debug|info|warn to see what it does).
 *
 * Object model: device -> buffer, stream -> event. Devices belong to the library and live until
 * xhal_shutdown(); buffers, streams and events are created and destroyed in pairs by the caller.
 * A stream is an in-order queue on one device: copies and ops are enqueued and return at once.
 */
#ifndef XHAL_XHAL_H
#define XHAL_XHAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define XHAL_API __declspec(dllexport)
#else
#define XHAL_API __attribute__((visibility("default")))
#endif

#define XHAL_VERSION_MAJOR 0
#define XHAL_VERSION_MINOR 1
#define XHAL_VERSION_PATCH 0

/* ---------------------------------------------------------------------------------------------
 * Status and errors
 * ------------------------------------------------------------------------------------------- */

typedef enum xhal_status {
    XHAL_OK = 0,
    XHAL_INVALID_ARGUMENT = 1, /* a null handle, a bad shape, stride, dtype or spec */
    XHAL_OUT_OF_RANGE = 2,     /* an index or a view past the end of what it names */
    XHAL_OUT_OF_MEMORY = 3,    /* host or device allocation failed */
    XHAL_UNSUPPORTED = 4,      /* valid, but this backend or device cannot do it */
    XHAL_UNAVAILABLE = 5,      /* a runtime, driver or device is missing */
    XHAL_DEVICE_ERROR = 6,     /* the vendor runtime failed; the message names the call */
    XHAL_INTERNAL = 7,         /* a bug in xhal */
} xhal_status_t;

/** Returns the enum name of a status ("XHAL_OK", ...); "XHAL_UNKNOWN_STATUS" for other values. */
XHAL_API const char *xhal_status_name(xhal_status_t status);

/**
 * Returns the message of the last failed call on this thread ("" if none failed yet). The string
 * belongs to the library and stays valid until the next xhal call on the same thread.
 */
XHAL_API const char *xhal_last_error(void);

/* ---------------------------------------------------------------------------------------------
 * Library
 * ------------------------------------------------------------------------------------------- */

/**
 * Loads the built-in CPU backend and the plugins (see docs/ and README: XHAL_BACKEND_PATH,
 * XHAL_BACKENDS) and enumerates their devices. Idempotent and thread-safe: a second call does
 * nothing. Device lookups call it implicitly. A backend that fails to load does not make this
 * fail; it is reported by xhal_backend_info(). Returns XHAL_OUT_OF_MEMORY or XHAL_INTERNAL only.
 */
XHAL_API xhal_status_t xhal_init(void);

/**
 * Releases every device and unloads the plugins. Idempotent and thread-safe. Destroy your buffers,
 * streams and events first: handles still alive are released here and must not be used again
 * (XHAL_LOG=warn names how many were left). xhal_init() may be called again afterwards.
 */
XHAL_API void xhal_shutdown(void);

/** Returns the library version as "major.minor.patch"; a static string. */
XHAL_API const char *xhal_version_string(void);

/** Returns the library version as (major << 16) | (minor << 8) | patch. */
XHAL_API uint32_t xhal_version(void);

/* ---------------------------------------------------------------------------------------------
 * Backends
 * ------------------------------------------------------------------------------------------- */

typedef struct xhal_backend_info {
    char name[32];  /* "cpu", "opencl", "cuda", "hip", "levelzero", or a plugin's own name */
    char path[512]; /* the plugin file, or "(built in)"; "" when no file was found */
    int loaded;     /* 1 when the backend initialised and was asked for devices */
    uint32_t device_count;
    xhal_status_t status; /* XHAL_OK, or why it is not loaded */
    char reason[512];     /* a sentence when status != XHAL_OK */
} xhal_backend_info_t;

/** Sets *out_count to the number of backends known: built in, found as plugins, or expected. */
XHAL_API xhal_status_t xhal_backend_count(size_t *out_count);

/** Copies the state of backend `index` (0 .. count-1) to *out_info. OUT_OF_RANGE past the end. */
XHAL_API xhal_status_t xhal_backend_info(size_t index, xhal_backend_info_t *out_info);

/* ---------------------------------------------------------------------------------------------
 * Devices
 * ------------------------------------------------------------------------------------------- */

typedef struct xhal_device xhal_device_t;
typedef struct xhal_buffer xhal_buffer_t;
typedef struct xhal_stream xhal_stream_t;
typedef struct xhal_event xhal_event_t;

typedef enum xhal_dtype {
    XHAL_DTYPE_F32 = 0,
    XHAL_DTYPE_F16 = 1,  /* IEEE binary16 */
    XHAL_DTYPE_BF16 = 2, /* bfloat16: the top 16 bits of an f32 */
    XHAL_DTYPE_COUNT = 3,
} xhal_dtype_t;

/** Returns "f32", "f16", "bf16", or "invalid". */
XHAL_API const char *xhal_dtype_name(xhal_dtype_t dtype);

/** Returns the size of one element in bytes, or 0 for an invalid dtype. */
XHAL_API size_t xhal_dtype_size(xhal_dtype_t dtype);

typedef enum xhal_device_type {
    XHAL_DEVICE_TYPE_CPU = 0,
    XHAL_DEVICE_TYPE_GPU = 1,
    XHAL_DEVICE_TYPE_ACCELERATOR = 2, /* anything else: NPUs, inference chips, FPGAs */
} xhal_device_type_t;

typedef struct xhal_device_info {
    xhal_device_type_t type;
    char spec[64];  /* how to open it again: "cpu", "opencl:0", "cuda:1" */
    char name[128]; /* as the vendor reports it */
    char vendor[64];
    char backend[32];       /* the backend's name */
    char architecture[64];  /* "x86_64 avx512", "sm_90a", "gfx942", ... */
    char driver[64];        /* driver or runtime version, "" when there is none */
    uint64_t memory_bytes;  /* device memory (for the CPU: physical memory) */
    uint32_t compute_units; /* cores, SMs, CUs, EUs: what the vendor calls its units */
    double clock_ghz;       /* 0 when unknown */
    /* Peak FLOP/s of the matrix unit per input dtype with f32 accumulation; 0 when unknown. */
    double peak_flops[XHAL_DTYPE_COUNT];
    double peak_bandwidth; /* bytes per second; 0 when unknown */
    char peak_source[128]; /* where the peaks come from ("derived: ...", "datasheet: ...") */
} xhal_device_info_t;

/** Sets *out_count to the number of devices over all loaded backends (initialises if needed). */
XHAL_API xhal_status_t xhal_device_count(size_t *out_count);

/**
 * Sets *out_device to device `index` (0 .. count-1). Devices are numbered in backend order: the
 * built-in CPU backend first, then the plugins. OUT_OF_RANGE past the end.
 */
XHAL_API xhal_status_t xhal_device_get(size_t index, xhal_device_t **out_device);

/**
 * Finds a device by spec: "cpu", "<backend>" (its first device), "<backend>:<index>", or
 * "<backend>:<substring>" matched against the device name, case-insensitively
 * ("opencl:pocl"). NULL or "" means the XHAL_DEVICE environment variable if set, else the first GPU
 * or accelerator device, else the CPU. Returns INVALID_ARGUMENT for a malformed spec and
 * UNAVAILABLE when nothing matches (the message lists the devices there are).
 */
XHAL_API xhal_status_t xhal_device_open(const char *spec, xhal_device_t **out_device);

/** Copies the device's description and peaks to *out_info. */
XHAL_API xhal_status_t xhal_device_info(const xhal_device_t *device, xhal_device_info_t *out_info);

/* ---------------------------------------------------------------------------------------------
 * Buffers
 * ------------------------------------------------------------------------------------------- */

typedef enum xhal_memory_kind {
    XHAL_MEMORY_DEVICE = 0,      /* memory of the device itself */
    XHAL_MEMORY_HOST_PINNED = 1, /* page-locked host memory the device can reach */
} xhal_memory_kind_t;

/**
 * Allocates `size` bytes (> 0) of `kind` memory on `device`. The caller owns the buffer and
 * frees it with xhal_buffer_free(). Returns OUT_OF_MEMORY when the device has no room and
 * UNSUPPORTED when the device has no such memory kind.
 */
XHAL_API xhal_status_t xhal_buffer_alloc(xhal_device_t *device, uint64_t size,
                                         xhal_memory_kind_t kind, xhal_buffer_t **out_buffer);

/** Frees a buffer; NULL is ignored. Work still queued that uses it must be finished first. */
XHAL_API void xhal_buffer_free(xhal_buffer_t *buffer);

/** Sets *out_size to the buffer's size in bytes. */
XHAL_API xhal_status_t xhal_buffer_size(const xhal_buffer_t *buffer, uint64_t *out_size);

/** Sets *out_kind to the memory kind the buffer was allocated with. */
XHAL_API xhal_status_t xhal_buffer_kind(const xhal_buffer_t *buffer, xhal_memory_kind_t *out_kind);

/**
 * Sets *out_ptr to a host pointer to the buffer's bytes when the host can address them (pinned
 * host memory; device memory of the CPU device). Returns UNSUPPORTED otherwise. Reading or
 * writing through it races with work queued on the buffer: synchronize first.
 */
XHAL_API xhal_status_t xhal_buffer_host_pointer(xhal_buffer_t *buffer, void **out_ptr);

/* ---------------------------------------------------------------------------------------------
 * Streams and events
 * ------------------------------------------------------------------------------------------- */

/** Creates an in-order queue on `device`; the caller owns it (xhal_stream_destroy). */
XHAL_API xhal_status_t xhal_stream_create(xhal_device_t *device, xhal_stream_t **out_stream);

/** Waits for the stream's work, then destroys it; NULL is ignored. */
XHAL_API void xhal_stream_destroy(xhal_stream_t *stream);

/**
 * Blocks until everything enqueued on `stream` has finished. Returns the first error that queued
 * work met since the last synchronize (DEVICE_ERROR, OUT_OF_MEMORY), or XHAL_OK.
 */
XHAL_API xhal_status_t xhal_stream_synchronize(xhal_stream_t *stream);

/** Creates an event on `device`; the caller owns it (xhal_event_destroy). */
XHAL_API xhal_status_t xhal_event_create(xhal_device_t *device, xhal_event_t **out_event);

/** Destroys an event; NULL is ignored. */
XHAL_API void xhal_event_destroy(xhal_event_t *event);

/** Enqueues on `stream` a point that `event` marks once the work before it has finished. */
XHAL_API xhal_status_t xhal_event_record(xhal_event_t *event, xhal_stream_t *stream);

/**
 * Makes work enqueued on `stream` after this call wait until `event`'s last recorded point has
 * been reached. The event and the stream must belong to the same device. An event never
 * recorded is already complete.
 */
XHAL_API xhal_status_t xhal_stream_wait_event(xhal_stream_t *stream, xhal_event_t *event);

/** Blocks the host until `event`'s last recorded point has been reached. */
XHAL_API xhal_status_t xhal_event_synchronize(xhal_event_t *event);

/**
 * Sets *out_ms to the milliseconds between two recorded and completed events on one device.
 * Returns INVALID_ARGUMENT when either was never recorded.
 */
XHAL_API xhal_status_t xhal_event_elapsed_ms(xhal_event_t *start, xhal_event_t *end,
                                             double *out_ms);

/* ---------------------------------------------------------------------------------------------
 * Copies. Each is enqueued on a stream and returns at once: host memory named here must stay
 * valid and unchanged until the stream (or an event after the copy) is synchronized.
 * ------------------------------------------------------------------------------------------- */

/** Enqueues a copy of `size` bytes from host `src` into `dst` at `dst_offset`. */
XHAL_API xhal_status_t xhal_copy_h2d(xhal_stream_t *stream, xhal_buffer_t *dst, uint64_t dst_offset,
                                     const void *src, uint64_t size);

/** Enqueues a copy of `size` bytes from `src` at `src_offset` to host `dst`. */
XHAL_API xhal_status_t xhal_copy_d2h(xhal_stream_t *stream, void *dst, xhal_buffer_t *src,
                                     uint64_t src_offset, uint64_t size);

/** Enqueues a copy between two buffers of the stream's device; the ranges must not overlap. */
XHAL_API xhal_status_t xhal_copy_d2d(xhal_stream_t *stream, xhal_buffer_t *dst, uint64_t dst_offset,
                                     xhal_buffer_t *src, uint64_t src_offset, uint64_t size);

/**
 * Enqueues a fill of `size` bytes of `dst` at `offset` with a repeated pattern of 1, 2 or 4
 * bytes (copied at the call). `offset` and `size` must be multiples of `pattern_size`.
 */
XHAL_API xhal_status_t xhal_fill(xhal_stream_t *stream, xhal_buffer_t *dst, uint64_t offset,
                                 uint64_t size, const void *pattern, size_t pattern_size);

/* ---------------------------------------------------------------------------------------------
 * GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, f32 accumulation.
 *
 * op(A) is m x k: A is stored m x k (lda >= k) or, transposed, k x m (lda >= m).
 * op(B) is k x n: B is stored k x n (ldb >= n) or, transposed, n x k (ldb >= k).
 * C is m x n with ldc >= n. Strides and leading dimensions count elements, offsets bytes.
 * Batch i uses A + i*stride_a, B + i*stride_b, C + i*stride_c; a stride of 0 on A or B shares
 * one matrix across the batch. When beta == 0, C is not read (NaN in C does not propagate).
 * ------------------------------------------------------------------------------------------- */

/** Lets a backend run f32 inputs through TF32 (or similar reduced-precision) matrix units. */
#define XHAL_GEMM_ALLOW_TF32 (1u << 0)

typedef struct xhal_gemm_desc {
    int64_t m, n, k;
    xhal_dtype_t a_type, b_type, c_type;
    int trans_a, trans_b; /* 0 or 1 */
    int64_t lda, ldb, ldc;
    int64_t batch; /* >= 1 */
    int64_t stride_a, stride_b, stride_c;
    float alpha, beta;
    uint32_t flags; /* XHAL_GEMM_* */
    xhal_buffer_t *a, *b, *c;
    uint64_t a_offset, b_offset, c_offset;
} xhal_gemm_desc_t;

/**
 * Fills *out_desc for a dense, contiguous, single-batch GEMM of m x n x k with one dtype
 * everywhere, alpha 1 and beta 0: set the buffers, then change what differs.
 */
XHAL_API void xhal_gemm_desc_init(xhal_gemm_desc_t *out_desc, int64_t m, int64_t n, int64_t k,
                                  xhal_dtype_t dtype);

/**
 * Asks whether `device` runs this GEMM; buffers are not looked at. Returns XHAL_OK when it does,
 * UNSUPPORTED with the reason when it does not, INVALID_ARGUMENT when the shape is invalid.
 */
XHAL_API xhal_status_t xhal_gemm_supports(const xhal_device_t *device,
                                          const xhal_gemm_desc_t *desc);

/** Validates `desc` and enqueues the GEMM on `stream`. */
XHAL_API xhal_status_t xhal_gemm(xhal_stream_t *stream, const xhal_gemm_desc_t *desc);

/* ---------------------------------------------------------------------------------------------
 * Attention: O = softmax(scale * Q K^T + mask) V for each (batch, query head), f32 math.
 *
 * Q and O are [batch, heads_q, seq_q, head_dim], K and V [batch, heads_kv, seq_kv, head_dim]
 * in any order of the first three axes given by strides in elements; head_dim is contiguous.
 * Query head h reads KV head h / (heads_q / heads_kv) (GQA; heads_kv 1 is MQA).
 * With causal set, query i sees keys j <= i + seq_kv - seq_q (bottom-right aligned, as decoding
 * over a KV cache needs); a query row that sees no key is written as zeros.
 * ------------------------------------------------------------------------------------------- */

typedef struct xhal_attention_strides {
    int64_t batch, head, seq; /* elements between consecutive batches, heads and positions */
} xhal_attention_strides_t;

typedef enum xhal_layout {
    XHAL_LAYOUT_BSHD = 0, /* [batch, seq, head, dim]: the layout of most model code */
    XHAL_LAYOUT_BHSD = 1, /* [batch, head, seq, dim]: the layout of most KV caches */
} xhal_layout_t;

typedef struct xhal_attention_desc {
    int64_t batch, heads_q, heads_kv, seq_q, seq_kv, head_dim;
    xhal_dtype_t dtype; /* of Q, K, V and O */
    int causal;         /* 0 or 1 */
    float scale;        /* 0 means 1 / sqrt(head_dim) */
    xhal_attention_strides_t q_strides, k_strides, v_strides, o_strides;
    xhal_buffer_t *q, *k, *v, *o;
    uint64_t q_offset, k_offset, v_offset, o_offset;
} xhal_attention_desc_t;

/**
 * Fills *out_desc with a shape, dtype, scale 0 (1/sqrt(head_dim)), no mask and contiguous strides
 * of `layout` for all four tensors: set the buffers, then change what differs.
 */
XHAL_API void xhal_attention_desc_init(xhal_attention_desc_t *out_desc, int64_t batch,
                                       int64_t heads_q, int64_t heads_kv, int64_t seq_q,
                                       int64_t seq_kv, int64_t head_dim, xhal_dtype_t dtype,
                                       xhal_layout_t layout);

/** Like xhal_gemm_supports, for attention. */
XHAL_API xhal_status_t xhal_attention_supports(const xhal_device_t *device,
                                               const xhal_attention_desc_t *desc);

/** Validates `desc` and enqueues the attention on `stream`. */
XHAL_API xhal_status_t xhal_attention(xhal_stream_t *stream, const xhal_attention_desc_t *desc);

/* ---------------------------------------------------------------------------------------------
 * Helpers for host code
 * ------------------------------------------------------------------------------------------- */

/** Converts between f32 and the 16-bit formats (round to nearest even; NaN stays NaN). */
XHAL_API uint16_t xhal_f32_to_f16(float value);
XHAL_API float xhal_f16_to_f32(uint16_t value);
XHAL_API uint16_t xhal_f32_to_bf16(float value);
XHAL_API float xhal_bf16_to_f32(uint16_t value);

#ifdef __cplusplus
}
#endif

#endif /* XHAL_XHAL_H */
