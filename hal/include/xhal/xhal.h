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
#define XHAL_VERSION_MINOR 2
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

/*
 * Structs the caller hands the library (device info, op descriptors) begin with their size as
 * the caller was compiled: the library reads and writes no further, and refuses a size it does
 * not know with INVALID_ARGUMENT naming `struct_size`. The *_init functions set it; a struct
 * filled by hand sets it to sizeof itself.
 */

typedef struct xhal_device_info {
    uint32_t struct_size; /* sizeof(xhal_device_info_t): set it before xhal_device_info() */
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
    /* API 0.2 additions (issue 20; a caller's older struct_size ends before them): */
    char tuning[256];    /* the kernel parameters in force and where they come from ("tuned:
                            <file> over [section] of <file>"); "" for a backend without any */
    char tuning_key[24]; /* what a tuned file of this device must be keyed by (xhal tune): the
                            hash of the backend's kernel sources; "" when it takes none */
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

/**
 * Copies the device's description and peaks to *out_info, whose struct_size the caller sets
 * first (`xhal_device_info_t info = {.struct_size = sizeof info};`); INVALID_ARGUMENT naming
 * struct_size when it is not a size this library knows.
 */
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

/*
 * Activations of the GEMM epilogue. GELU_ERF is x/2 (1 + erf(x/sqrt 2)); GELU_TANH is
 * x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); SILU is x / (1 + exp(-x)).
 */
typedef enum xhal_activation {
    XHAL_ACTIVATION_NONE = 0,
    XHAL_ACTIVATION_RELU = 1,
    XHAL_ACTIVATION_GELU_ERF = 2,
    XHAL_ACTIVATION_GELU_TANH = 3,
    XHAL_ACTIVATION_SILU = 4,
    XHAL_ACTIVATION_COUNT = 5,
} xhal_activation_t;

/*
 * Weight-only quantized formats of B (activations stay f32/f16/bf16, accumulation f32).
 * Elements are laid out as a dense B would be (ldb and stride_b count elements, b_offset
 * counts bytes); each element is dequantized as w = (q - z) * s:
 *   INT8      one signed byte per element; z = 0.
 *   INT4      two elements per byte, the even-indexed element (row * ldb + column) in the low
 *             nibble, values 0..15; z from b_zeros, or 8 when b_zeros is NULL; ldb even.
 *   FP8_E4M3  one byte per element (OCP FP8 E4M3: bias 7, no infinities, S.1111.111 is NaN).
 *   FP8_E5M2  one byte per element (OCP FP8 E5M2: bias 15, IEEE-style infinities and NaNs).
 * s comes from b_scales by b_scale_mode: one value (PER_TENSOR), one per output column j of
 * op(B) (PER_CHANNEL, n values), or one per column and group of b_group_size consecutive k
 * (PER_GROUP, laid out [n][ceil(k / b_group_size)], the column's groups contiguous).
 * b_zeros (INT4 with PER_GROUP only; optional) holds one unsigned byte 0..15 per scale, laid
 * out as the scales. With batch > 1, stride_b must be 0: one weight matrix for the batch.
 * Modes by format: INT4 takes PER_GROUP; INT8, FP8_E4M3 and FP8_E5M2 take PER_TENSOR or
 * PER_CHANNEL. b_scale_type is any xhal_dtype_t (f16 or bf16 are usual).
 * xhal_quantize_weights() makes these layouts from f32 weights.
 */
typedef enum xhal_quant {
    XHAL_QUANT_NONE = 0, /* B is dense, of b_type */
    XHAL_QUANT_INT8 = 1,
    XHAL_QUANT_INT4 = 2,
    XHAL_QUANT_FP8_E4M3 = 3,
    XHAL_QUANT_FP8_E5M2 = 4,
    XHAL_QUANT_COUNT = 5,
} xhal_quant_t;

typedef enum xhal_scale_mode {
    XHAL_SCALE_PER_CHANNEL = 0,
    XHAL_SCALE_PER_TENSOR = 1,
    XHAL_SCALE_PER_GROUP = 2,
} xhal_scale_mode_t;

typedef struct xhal_gemm_desc {
    uint32_t struct_size; /* sizeof(xhal_gemm_desc_t); set by xhal_gemm_desc_init */
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

    /*
     * Epilogue, fused in the kernel: C = act(alpha * op(A) * op(B) + beta * C + bias).
     * bias (NULL: none) holds n values of bias_type (f32, or any dtype a backend accepts),
     * one per column. With gated set, n is even and the product T = alpha * op(A) * op(B) + bias
     * is m x n while C is m x n/2: C[i][j] = act(T[i][j]) * T[i][j + n/2] (the first half is
     * the gate, as in LLaMA's fused gate/up projection); ldc >= n/2 and beta must be 0.
     */
    xhal_buffer_t *bias;
    uint64_t bias_offset;
    xhal_dtype_t bias_type;
    xhal_activation_t activation;
    int gated; /* 0 or 1 */

    /* Weight-only quantized B (see xhal_quant_t); b_type is not read when b_quant is set. */
    xhal_quant_t b_quant;
    xhal_scale_mode_t b_scale_mode;
    int64_t b_group_size; /* PER_GROUP: 32, 64 or 128 */
    xhal_dtype_t b_scale_type;
    xhal_buffer_t *b_scales;
    uint64_t b_scales_offset;
    xhal_buffer_t *b_zeros; /* INT4 only; NULL: z = 8 */
    uint64_t b_zeros_offset;
} xhal_gemm_desc_t;

/**
 * Fills *out_desc for a dense, contiguous, single-batch GEMM of m x n x k with one dtype
 * everywhere, alpha 1, beta 0, no epilogue and no quantization (struct_size set): set the
 * buffers, then change what differs.
 */
XHAL_API void xhal_gemm_desc_init(xhal_gemm_desc_t *out_desc, int64_t m, int64_t n, int64_t k,
                                  xhal_dtype_t dtype);

/**
 * Asks whether `device` runs this GEMM; buffers are not looked at, except whether bias and
 * b_zeros are NULL (which says whether there is a bias and zero points). Returns XHAL_OK when it
 * does, UNSUPPORTED with the reason when it does not, INVALID_ARGUMENT when the shape is invalid.
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

/*
 * Has the core read the int32 index buffers of a variable-length or paged attention on the host
 * (it synchronizes the stream to do so) and refuse a bad length, offset or block index with
 * INVALID_ARGUMENT naming the sequence and the entry: cu_seqlens_* must start at 0, never
 * decrease and end within seq_q / seq_kv; seqlens_kv[b] must lie in 0 .. seq_kv; the block-table
 * entries sequence b uses (the first ceil(seqlens_kv[b] / block_size) of its row) must lie in
 * 0 .. num_blocks - 1. XHAL_VALIDATE=1 sets it for every call.
 */
#define XHAL_ATTENTION_CHECK_INDICES (1u << 0)

typedef struct xhal_attention_desc {
    uint32_t struct_size; /* sizeof(xhal_attention_desc_t); set by xhal_attention_desc_init */
    int64_t batch, heads_q, heads_kv, seq_q, seq_kv, head_dim;
    xhal_dtype_t dtype; /* of Q, K, V and O */
    int causal;         /* 0 or 1 */
    float scale;        /* 0 means 1 / sqrt(head_dim) */
    xhal_attention_strides_t q_strides, k_strides, v_strides, o_strides;
    xhal_buffer_t *q, *k, *v, *o;
    uint64_t q_offset, k_offset, v_offset, o_offset;

    uint32_t flags; /* XHAL_ATTENTION_* */

    /*
     * Masks and scores. Query i of a sequence with len_q queries and len_kv keys sits at key
     * position p = i + len_kv - len_q. causal: it sees keys j <= p. sliding_window W > 0: it
     * sees only keys j > p - W (W keys ending at p; with causal, as Mistral and Gemma).
     * softcap c > 0: each score s = scale * q.k becomes c * tanh(s / c) (Gemma 2).
     */
    int64_t sliding_window; /* 0: none */
    float softcap;          /* 0: none */

    /*
     * Packed variable-length batches (int32 buffers; NULL: not used). `batch` is the number of
     * sequences.
     * - cu_seqlens_q ([batch + 1], non-decreasing from 0): sequence b's queries are rows
     *   cu_seqlens_q[b] .. cu_seqlens_q[b + 1] - 1 of Q and O, and seq_q is the rows Q and O
     *   hold; q_strides.batch and o_strides.batch are not read. Without it, every sequence has
     *   seq_q queries at its batch stride.
     * - cu_seqlens_kv ([batch + 1]): the same for K and V; seq_kv is the rows they hold.
     * - seqlens_kv ([batch]): sequence b has seqlens_kv[b] keys, at most seq_kv (which is at
     *   most max_blocks_per_seq * block_size when paged). Required when paged; not with
     *   cu_seqlens_kv. Without it, K and V hold seq_kv keys per sequence at their batch stride.
     * A sequence may have 0 queries (nothing written) or 0 keys (its rows are zeros). Keys past
     * a sequence's length, rows of Q no sequence names and blocks its table row does not name
     * for it may hold anything, NaN included: they never change a result.
     */
    xhal_buffer_t *cu_seqlens_q, *cu_seqlens_kv, *seqlens_kv;
    uint64_t cu_seqlens_q_offset, cu_seqlens_kv_offset, seqlens_kv_offset;

    /*
     * Paged KV cache (block_table non-NULL): K and V are pools of num_blocks blocks of
     * block_size (1 .. 256) tokens; k_strides/v_strides give the elements between blocks
     * (.batch), between heads (.head) and between tokens of a block (.seq), so both
     * [block, token, head, dim] and [block, head, token, dim] pools work. block_table is int32
     * [batch][block_table_stride]: key t of sequence b is token t % block_size of block
     * block_table[b * block_table_stride + t / block_size]; the first max_blocks_per_seq entries
     * of a row may be read. Blocks may be shared between sequences and appear in any order.
     * seq_kv is the longest KV length planned for (<= max_blocks_per_seq * block_size).
     */
    xhal_buffer_t *block_table;
    uint64_t block_table_offset;
    int64_t block_table_stride, max_blocks_per_seq;
    int64_t block_size, num_blocks;

    /*
     * Log-sum-exp output (NULL: none): f32, ln(sum_j exp(s_j)) over the scores a query row saw
     * (after scale and softcap), -inf for a row that saw no key; element (b, h, i) at
     * (b * heads_q + h) * seq_q + i, with b = 0 and i the row when Q is packed.
     */
    xhal_buffer_t *lse;
    uint64_t lse_offset;
} xhal_attention_desc_t;

/*
 * Device-resident indices are not trusted: a kernel clamps every offset, length and block index
 * it reads to the buffers it was given (offsets to 0 .. seq_q / seq_kv, lengths to 0 .. seq_kv,
 * block indices to 0 .. num_blocks - 1), so a bad entry never makes it read or write outside
 * them; the rows of O and LSE a bad entry makes a sequence cover are unspecified. Set
 * XHAL_ATTENTION_CHECK_INDICES (or XHAL_VALIDATE=1) to have them checked on the host instead.
 */

/**
 * Fills *out_desc with a shape, dtype, scale 0 (1/sqrt(head_dim)), no mask, no serving feature
 * (struct_size set) and contiguous strides of `layout` for all four tensors: set the buffers,
 * then change what differs.
 */
XHAL_API void xhal_attention_desc_init(xhal_attention_desc_t *out_desc, int64_t batch,
                                       int64_t heads_q, int64_t heads_kv, int64_t seq_q,
                                       int64_t seq_kv, int64_t head_dim, xhal_dtype_t dtype,
                                       xhal_layout_t layout);

/**
 * Like xhal_gemm_supports, for attention. Buffers are not looked at, except that which optional
 * ones are non-NULL (the index buffers, lse) says which features the op will use.
 */
XHAL_API xhal_status_t xhal_attention_supports(const xhal_device_t *device,
                                               const xhal_attention_desc_t *desc);

/** Validates `desc` and enqueues the attention on `stream`. */
XHAL_API xhal_status_t xhal_attention(xhal_stream_t *stream, const xhal_attention_desc_t *desc);

/*
 * Merging partial attention results (cascade and split attention): two outputs computed over
 * disjoint key ranges for the same queries, each with its log-sum-exp, become the output over
 * both ranges: w_x = exp(lse_x - max), O = (w_a O_a + w_b O_b) / (w_a + w_b),
 * lse = max + ln(w_a + w_b). A row whose two LSEs are -inf is written as zeros with lse -inf.
 * The three outputs share one shape and strides (as attention's O, head_dim contiguous); the
 * LSEs are f32 [batch, heads, seq] contiguous. o may be o_a itself (same buffer and offset) and
 * lse may be lse_a, for merging in place; no other overlap is allowed. lse may be NULL.
 */
typedef struct xhal_attention_merge_desc {
    uint32_t struct_size; /* sizeof(xhal_attention_merge_desc_t); set by the init function */
    int64_t batch, heads, seq, head_dim;
    xhal_dtype_t dtype; /* of o_a, o_b and o */
    xhal_attention_strides_t strides;
    xhal_buffer_t *o_a, *o_b, *o;
    uint64_t o_a_offset, o_b_offset, o_offset;
    xhal_buffer_t *lse_a, *lse_b, *lse;
    uint64_t lse_a_offset, lse_b_offset, lse_offset;
} xhal_attention_merge_desc_t;

/** Fills *out_desc with a shape, dtype and contiguous strides of `layout` (struct_size set). */
XHAL_API void xhal_attention_merge_desc_init(xhal_attention_merge_desc_t *out_desc, int64_t batch,
                                             int64_t heads, int64_t seq, int64_t head_dim,
                                             xhal_dtype_t dtype, xhal_layout_t layout);

/** Like xhal_attention_supports, for the merge (lse non-NULL or not). */
XHAL_API xhal_status_t xhal_attention_merge_supports(const xhal_device_t *device,
                                                     const xhal_attention_merge_desc_t *desc);

/** Validates `desc` and enqueues the merge on `stream`. */
XHAL_API xhal_status_t xhal_attention_merge(xhal_stream_t *stream,
                                            const xhal_attention_merge_desc_t *desc);

/* ---------------------------------------------------------------------------------------------
 * Quantizing weights on the host, into the layouts of xhal_quant_t.
 * ------------------------------------------------------------------------------------------- */

/*
 * What to make of an n x k f32 weight matrix W (row-major, row j = output channel j, as B with
 * trans_b = 1). Scales are chosen by the reference rule: the largest magnitude of the values
 * they cover maps to the format's largest (127 for INT8; 448 E4M3, 57344 E5M2), or, for INT4,
 * [min, max] of the group to 0..15 with a zero point when zero_points is set and max|w| to 7
 * around z = 8 otherwise. Values round to nearest, ties to even.
 * Precisely: s = (largest magnitude) / (format's largest) in f32, rounded to scale_type; with
 * zero points the range is widened to include 0, s = (max - min) / 15 and z = round(-min / s);
 * each element is round(w / s) (+ z), the quotient taken in double, clamped to the integer
 * range (INT8 -127..127, INT4 0..15) or, for FP8, rounded on the format's grid and saturated
 * to its largest finite value (OCP saturating conversion). The unused half byte that ends an
 * INT4 row of odd k holds z, so it stands for 0. A scale that overflows scale_type (or
 * underflows it to 0) is INVALID_ARGUMENT: use f32 scales.
 */
typedef struct xhal_quantize_desc {
    uint32_t struct_size; /* sizeof(xhal_quantize_desc_t) */
    xhal_quant_t format;
    int64_t n, k;
    xhal_scale_mode_t scale_mode;
    int64_t group_size; /* PER_GROUP: 32, 64 or 128 */
    xhal_dtype_t scale_type;
    int zero_points; /* INT4 with PER_GROUP: 1 to make b_zeros */
} xhal_quantize_desc_t;

/**
 * Sets the bytes the quantized weights, scales and zero points take, and the ldb to pass in
 * xhal_gemm_desc_t (k, or k rounded up to even for INT4). INVALID_ARGUMENT naming the field for
 * an invalid description; out_zero_bytes is 0 when there are none.
 */
XHAL_API xhal_status_t xhal_quantize_sizes(const xhal_quantize_desc_t *desc,
                                           uint64_t *out_weight_bytes, uint64_t *out_scale_bytes,
                                           uint64_t *out_zero_bytes, int64_t *out_ldb);

/**
 * Quantizes `weights` (n x k f32, row stride ldw >= k elements) into caller-owned memory of the
 * sizes xhal_quantize_sizes gives; out_zeros is NULL unless zero_points is set. Non-finite
 * weights are INVALID_ARGUMENT naming the row and column.
 */
XHAL_API xhal_status_t xhal_quantize_weights(const xhal_quantize_desc_t *desc, const float *weights,
                                             int64_t ldw, void *out_weights, void *out_scales,
                                             void *out_zeros);

/**
 * The inverse: writes the n x k f32 values the quantized weights stand for (row stride ldw),
 * exactly as a kernel dequantizes them; the reference tests compare against.
 */
XHAL_API xhal_status_t xhal_dequantize_weights(const xhal_quantize_desc_t *desc,
                                               const void *weights, const void *scales,
                                               const void *zeros, float *out_values, int64_t ldw);

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
