/*
 * The xhal backend interface: the only header a backend includes (it includes xhal.h for the
 * shared types). Read docs/PORTING.md first: a port starts as a copy of backends/null/ (the
 * skeleton) and uses backends/common/ (what every GPU-style backend needs, written once).
 *
 * A backend is a table of function pointers (xhal_backend_api_t). The CPU backend is linked into
 * libxhal; every other backend is a plugin, a shared library named libxhal-<name>.so that exports
 * one C function, XHAL_BACKEND_ENTRY_NAME, returning its table.
 *
 * What the core does for you, so a backend implements only the fast path:
 * - every argument is validated before a backend sees it: handles are non-null and belong to
 *   the device, sizes are > 0, views lie inside their buffers with byte counts that cannot
 *   overflow, GEMM and attention descriptors are consistent (see xhal.h);
 * - the public handles wrap yours: you receive your own device/buffer/stream/event objects;
 * - `supports` is asked before an op is enqueued, so an op entry may assume it was accepted;
 * - descriptors and device info reach you at this header's full size, whatever size the
 *   application was compiled with: fields it did not know are zero (their "off" value).
 *
 * What a backend must do:
 * - never abort, exit or print; report failures through the host's set_error, naming the vendor
 *   call and the vendor's error name, with XHAL_DEVICE_ERROR (or OUT_OF_MEMORY, UNAVAILABLE);
 * - load its vendor runtime at init (dlopen is best: the plugin then loads on machines without
 *   it) and return XHAL_UNAVAILABLE with a sentence naming what is missing;
 * - keep streams in order; an entry may return before its work is done.
 *
 * Threads: the core calls a backend from any application thread. Calls on distinct streams may
 * run concurrently; calls on one stream are serialized by the application.
 */
#ifndef XHAL_XHAL_BACKEND_H
#define XHAL_XHAL_BACKEND_H

#include <stdarg.h>
#include <stddef.h>

#include "xhal.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ABI version of this interface. The core refuses a plugin whose major differs from its own and
 * accepts any minor: entries added in a later minor sit at the end of the table, and the core
 * reads only the entries that fit in the plugin's struct_size.
 */
#define XHAL_BACKEND_ABI_MAJOR 2
#define XHAL_BACKEND_ABI_MINOR 1

/* The symbol a plugin exports; see xhal_backend_entry_fn. */
#define XHAL_BACKEND_ENTRY_NAME "xhal_backend_entry"

/* Opaque objects a backend defines for itself ("struct xhal_be_device { ... };" in its .c). */
typedef struct xhal_be_state xhal_be_state_t;   /* one per loaded backend */
typedef struct xhal_be_device xhal_be_device_t; /* one per device */
typedef struct xhal_be_buffer xhal_be_buffer_t;
typedef struct xhal_be_stream xhal_be_stream_t;
typedef struct xhal_be_event xhal_be_event_t;

/* The backend's buffers behind an op descriptor's handles; NULL where the descriptor has none. */
typedef struct xhal_be_gemm_buffers {
    xhal_be_buffer_t *a, *b, *c, *bias, *b_scales, *b_zeros;
} xhal_be_gemm_buffers_t;

typedef struct xhal_be_attention_buffers {
    xhal_be_buffer_t *q, *k, *v, *o;
    xhal_be_buffer_t *cu_seqlens_q, *cu_seqlens_kv, *seqlens_kv, *block_table, *lse;
} xhal_be_attention_buffers_t;

typedef struct xhal_be_merge_buffers {
    xhal_be_buffer_t *o_a, *o_b, *o, *lse_a, *lse_b, *lse;
} xhal_be_merge_buffers_t;

typedef enum xhal_log_level {
    XHAL_LOG_DEBUG = 0,
    XHAL_LOG_INFO = 1,
    XHAL_LOG_WARN = 2,
    XHAL_LOG_OFF = 3,
} xhal_log_level_t;

/* Services the core lends a backend; valid from init to shutdown. */
typedef struct xhal_host_api {
    uint32_t struct_size;
    /*
     * Records `status` and a printf-style message as this thread's xhal_last_error() and
     * returns `status`, so a backend writes `return host->set_error(XHAL_DEVICE_ERROR, ...)`.
     */
    xhal_status_t (*set_error)(xhal_status_t status, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
    /* Logs a line on stderr when XHAL_LOG allows `level`; "[xhal <backend>] " is prefixed. */
    void (*log)(xhal_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    /* True when a log line of `level` would be printed: skip costly formatting otherwise. */
    int (*log_enabled)(xhal_log_level_t level);

    /* ---- ABI 2.1 ---- */

    /*
     * The value environment variable `name` had when xhal_init ran, or NULL when it was unset
     * or empty. Every XHAL_* variable is captured, and HOME, XDG_CACHE_HOME and
     * OCL_ICD_VENDORS; a backend reads its configuration here (once, at init or device open),
     * never with getenv, so that a setting means one thing for the whole run. The string lives
     * until xhal_shutdown. Read it through xhal_host_option(), which checks the table's size.
     */
    const char *(*option)(const char *name);
} xhal_host_api_t;

/* host->option(name), or NULL from a core older than ABI 2.1 (which has no options). */
static inline const char *xhal_host_option(const xhal_host_api_t *host, const char *name) {
    if (host->struct_size < offsetof(xhal_host_api_t, option) + sizeof host->option ||
        !host->option)
        return NULL;
    return host->option(name);
}

typedef struct xhal_backend_api {
    /* sizeof(xhal_backend_api_t) as the backend was compiled: the core reads no further. */
    uint32_t struct_size;
    uint16_t abi_major; /* XHAL_BACKEND_ABI_MAJOR */
    uint16_t abi_minor; /* XHAL_BACKEND_ABI_MINOR */
    const char *name;   /* short, lower case, as in specs: "opencl", "cuda" */

    /* ---- Lifecycle (required) ---- */

    /*
     * Loads the vendor runtime and finds the devices. Returns XHAL_UNAVAILABLE with a reason
     * when the runtime or every device is missing (the core shows it in `xhal devices`), or an
     * error. On success *out_state is passed to the other entries.
     */
    xhal_status_t (*init)(const xhal_host_api_t *host, xhal_be_state_t **out_state);
    /* Releases everything init made. The core has already closed every device. */
    void (*shutdown)(xhal_be_state_t *state);

    /* ---- Devices (required) ---- */

    uint32_t (*device_count)(xhal_be_state_t *state);
    /* Opens device `index` (< device_count). Called once per device after init. */
    xhal_status_t (*device_open)(xhal_be_state_t *state, uint32_t index,
                                 xhal_be_device_t **out_device);
    /* Closes a device; the core has freed its buffers, streams and events. */
    void (*device_close)(xhal_be_device_t *device);
    /*
     * Fills what the backend knows; the core has zeroed *out_info and fills `spec` and `backend`
     * afterwards. Leave a figure 0 when it is not known rather than guess.
     */
    xhal_status_t (*device_info)(xhal_be_device_t *device, xhal_device_info_t *out_info);

    /* ---- Memory (required, but host_pointer may be NULL) ---- */

    xhal_status_t (*buffer_alloc)(xhal_be_device_t *device, uint64_t size, xhal_memory_kind_t kind,
                                  xhal_be_buffer_t **out_buffer);
    void (*buffer_free)(xhal_be_device_t *device, xhal_be_buffer_t *buffer);
    /* NULL, or UNSUPPORTED, when the host cannot address the buffer. */
    xhal_status_t (*buffer_host_pointer)(xhal_be_device_t *device, xhal_be_buffer_t *buffer,
                                         xhal_memory_kind_t kind, void **out_ptr);

    /* ---- Streams and events (required) ---- */

    xhal_status_t (*stream_create)(xhal_be_device_t *device, xhal_be_stream_t **out_stream);
    /* Waits for the stream's work, then releases it. */
    void (*stream_destroy)(xhal_be_stream_t *stream);
    /* Waits; returns the first error met by queued work since the last synchronize. */
    xhal_status_t (*stream_synchronize)(xhal_be_stream_t *stream);

    xhal_status_t (*event_create)(xhal_be_device_t *device, xhal_be_event_t **out_event);
    void (*event_destroy)(xhal_be_event_t *event);
    xhal_status_t (*event_record)(xhal_be_event_t *event, xhal_be_stream_t *stream);
    xhal_status_t (*stream_wait_event)(xhal_be_stream_t *stream, xhal_be_event_t *event);
    xhal_status_t (*event_synchronize)(xhal_be_event_t *event);
    /* Both events were recorded (the core checks); waits for them, then measures. */
    xhal_status_t (*event_elapsed_ms)(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms);

    /* ---- Copies (required). Ranges are checked; sizes > 0. ---- */

    xhal_status_t (*copy_h2d)(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                              const void *src, uint64_t size);
    xhal_status_t (*copy_d2h)(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                              uint64_t src_offset, uint64_t size);
    xhal_status_t (*copy_d2d)(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                              xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size);
    /* pattern_size is 1, 2 or 4; offset and size are multiples of it. */
    xhal_status_t (*fill)(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                          uint64_t size, const void *pattern, size_t pattern_size);

    /* ---- Ops (optional: NULL means the device has no such op) ---- */

    /*
     * Returns XHAL_OK when the device runs `desc`, else UNSUPPORTED with a reason via set_error.
     * The desc's shape is valid; its buffers may be NULL. NULL here with `gemm` set means "all".
     * A backend must refuse here every field it does not implement (an epilogue, a quantized
     * B, a serving feature of attention): the answer is what `xhal_*_supports` tells users.
     */
    xhal_status_t (*gemm_supports)(xhal_be_device_t *device, const xhal_gemm_desc_t *desc);
    /*
     * Enqueues the GEMM. `desc` is validated and accepted by gemm_supports; read its shape,
     * strides and offsets from it and its memory from `buffers` (yours; NULL where the
     * descriptor has no buffer). `desc` and `buffers` are only valid during the call: copy
     * what the queued work needs.
     */
    xhal_status_t (*gemm)(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                          const xhal_be_gemm_buffers_t *buffers);

    xhal_status_t (*attention_supports)(xhal_be_device_t *device,
                                        const xhal_attention_desc_t *desc);
    /*
     * As `gemm`. Index buffers (cu_seqlens_*, seqlens_kv, block_table) are the caller's data:
     * clamp every offset, length and block index read from them to the buffers (xhal.h).
     */
    xhal_status_t (*attention)(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                               const xhal_be_attention_buffers_t *buffers);

    /* Merging two partial attention outputs by their LSEs (NULL: unsupported). */
    xhal_status_t (*attention_merge_supports)(xhal_be_device_t *device,
                                              const xhal_attention_merge_desc_t *desc);
    xhal_status_t (*attention_merge)(xhal_be_stream_t *stream,
                                     const xhal_attention_merge_desc_t *desc,
                                     const xhal_be_merge_buffers_t *buffers);
} xhal_backend_api_t;

/* The plugin entry point: returns the backend's static table, or NULL if it cannot run at all. */
typedef const xhal_backend_api_t *(*xhal_backend_entry_fn)(void);

#if defined(_WIN32)
#define XHAL_BACKEND_EXPORT __declspec(dllexport)
#else
#define XHAL_BACKEND_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
}
#endif

#endif /* XHAL_XHAL_BACKEND_H */
