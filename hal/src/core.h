/* Internal structures and helpers of the xhal core; never seen by applications or backends. */
#ifndef XHAL_CORE_H
#define XHAL_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "xhal/xhal_backend.h"

#define XHAL_INTERNAL_API __attribute__((visibility("hidden")))

/* ---- Errors and logging (status.c) ---- */

/* Records a printf-style message as this thread's last error and returns `status`. */
XHAL_INTERNAL_API xhal_status_t xhal_set_error(xhal_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
XHAL_INTERNAL_API void xhal_log(xhal_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
XHAL_INTERNAL_API int xhal_log_enabled(xhal_log_level_t level);
/* Applies the XHAL_LOG option (at init, after xhal_options_load). */
XHAL_INTERNAL_API void xhal_log_configure(void);
/* snprintf that truncates silently: for names and reasons cut to their fixed-size fields. */
XHAL_INTERNAL_API void xhal_format(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The services table lent to backends. */
XHAL_INTERNAL_API const xhal_host_api_t *xhal_host_api(void);

/* ---- Options (options.c): the environment as xhal_init found it ---- */

/* Captures the XHAL_* variables (and the few others the library reads); at init. */
XHAL_INTERNAL_API xhal_status_t xhal_options_load(void);
/* Forgets them; at shutdown. */
XHAL_INTERNAL_API void xhal_options_clear(void);
/* The value `name` had at init, or NULL when unset or empty. Lives until shutdown. */
XHAL_INTERNAL_API const char *xhal_option(const char *name);

/* ---- Datasheet peaks (device_peaks.c) ---- */

/* Fills the peak figures a backend left 0 from hal/data/devices.ini, when the device is listed. */
XHAL_INTERNAL_API void xhal_device_fill_peaks(xhal_device_info_t *info);
struct xc_ini;
/*
 * The same from a parsed devices.ini (`path` names it in log lines): the figures of the first
 * section whose `match` has a substring of info->name fill those left 0, each a finite number
 * > 0 (garbage is warned about and ignored). Returns how many figures were filled. No file, no
 * option: the fuzz target tests/fuzz/fuzz_ini.c drives it.
 */
XHAL_INTERNAL_API int xhal_device_peaks_apply(const struct xc_ini *ini, const char *path,
                                              xhal_device_info_t *info);

/* ---- Objects ---- */

typedef enum xhal_object_type {
    XHAL_OBJECT_BUFFER,
    XHAL_OBJECT_STREAM,
    XHAL_OBJECT_EVENT,
} xhal_object_type_t;

/*
 * Every buffer, stream and event is linked into its device's list, so that xhal_shutdown can
 * release what the application leaked before it closes the device under them.
 */
typedef struct xhal_object {
    struct xhal_object *prev, *next;
    xhal_object_type_t type;
} xhal_object_t;

typedef struct xhal_backend_entry xhal_backend_entry_t;

struct xhal_device {
    xhal_backend_entry_t *backend;
    const xhal_backend_api_t *api; /* == &backend->api */
    uint32_t index;                /* the backend's own index: "<backend>:<index>" */
    xhal_be_device_t *impl;
    xhal_device_info_t info; /* read once at open */
    pthread_mutex_t lock;    /* guards objects */
    xhal_object_t objects;   /* sentinel of the live-object list */
};

struct xhal_buffer {
    xhal_object_t object;
    xhal_device_t *device;
    xhal_be_buffer_t *impl;
    uint64_t size;
    xhal_memory_kind_t kind;
};

struct xhal_stream {
    xhal_object_t object;
    xhal_device_t *device;
    xhal_be_stream_t *impl;
};

struct xhal_event {
    xhal_object_t object;
    xhal_device_t *device;
    xhal_be_event_t *impl;
    bool recorded;
};

XHAL_INTERNAL_API void xhal_object_link(xhal_device_t *device, xhal_object_t *object,
                                        xhal_object_type_t type);
XHAL_INTERNAL_API void xhal_object_unlink(xhal_device_t *device, xhal_object_t *object);
/* Releases every object still linked to `device` (used by shutdown). Returns how many. */
XHAL_INTERNAL_API size_t xhal_device_release_objects(xhal_device_t *device);

/* ---- Checked arithmetic: sizes that would overflow 64 bits are an error, never a wrap. ---- */

static inline bool xhal_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool xhal_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}

/*
 * a * b, or INT64_MAX (INT64_MIN when the signs differ) when that overflows: for strides the
 * *_desc_init helpers derive from sizes the caller has not had validated yet. A saturated
 * stride spans more than any buffer, so the op's validation refuses it rather than a wrapped
 * value slipping through.
 */
static inline int64_t xhal_mul_sat_i64(int64_t a, int64_t b) {
    int64_t product;
    if (!__builtin_mul_overflow(a, b, &product)) return product;
    return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
}

/* Returns from the calling function when a check fails (its error is already set). */
#define CHECK(expr)                                                                                \
    do {                                                                                           \
        xhal_status_t check_status_ = (expr);                                                      \
        if (check_status_ != XHAL_OK) return check_status_;                                        \
    } while (0)

/*
 * Adds (count - 1) * stride to an element extent; UINT64_MAX stands for "overflowed" and stays.
 * Counts are >= 1 and strides >= 0 (checked before).
 */
static inline uint64_t xhal_extend(uint64_t extent, int64_t count, int64_t stride) {
    uint64_t step, sum;
    if (extent == UINT64_MAX || !xhal_mul_u64((uint64_t)(count - 1), (uint64_t)stride, &step) ||
        !xhal_add_u64(extent, step, &sum) || sum == UINT64_MAX)
        return UINT64_MAX;
    return sum;
}

/* ---- Shared argument checks; each sets the error naming `fn` and `name`. ---- */

XHAL_INTERNAL_API xhal_status_t xhal_check_not_null(const char *fn, const char *name,
                                                    const void *ptr);
/* `object_device` must be `device`: a handle from another device is refused. */
XHAL_INTERNAL_API xhal_status_t xhal_check_same_device(const char *fn, const char *name,
                                                       const xhal_device_t *object_device,
                                                       const xhal_device_t *device);
/* [offset, offset + size) must lie within `buffer`; offset_name is the argument's name. */
XHAL_INTERNAL_API xhal_status_t xhal_check_range(const char *fn, const char *buffer_name,
                                                 const char *offset_name,
                                                 const xhal_buffer_t *buffer, uint64_t offset,
                                                 uint64_t size);

XHAL_INTERNAL_API xhal_status_t xhal_check_dtype(const char *fn, const char *name,
                                                 xhal_dtype_t dtype);
XHAL_INTERNAL_API xhal_status_t xhal_check_at_least(const char *fn, const char *name, int64_t value,
                                                    int64_t minimum);

/*
 * A tensor an op reads or writes: `buffer` must be non-null and on `device`, `offset` a multiple
 * of the element size, and `elements` of `dtype` from `offset` inside the buffer. `elements` is
 * UINT64_MAX when counting them overflowed. Sets *out_bytes to the bytes spanned.
 */
XHAL_INTERNAL_API xhal_status_t xhal_check_tensor(const char *fn, const char *name,
                                                  const char *offset_name,
                                                  const xhal_buffer_t *buffer, uint64_t offset,
                                                  uint64_t elements, xhal_dtype_t dtype,
                                                  const xhal_device_t *device, uint64_t *out_bytes);

/*
 * Structs that begin with `uint32_t struct_size` (descriptors, device info) are versioned by it:
 * the smallest size accepted is the first versioned layout, XHAL_SIZE_THROUGH(type, its last
 * field then), and the largest is this library's sizeof. Growing a struct appends fields whose
 * zero means "off" and leaves the smallest size where it was.
 */
#define XHAL_SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/*
 * Copies a versioned struct the caller passed into `full` (full_size bytes), zeroing what lies
 * past the caller's struct_size. INVALID_ARGUMENT naming `<name>->struct_size` when the size is
 * outside [min_size, full_size] (the usual cause: a struct not made by its *_init function).
 */
XHAL_INTERNAL_API xhal_status_t xhal_copy_versioned(const char *fn, const char *name,
                                                    const void *src, size_t min_size,
                                                    size_t full_size, void *full);

/* ---- Quantized weights (quantize.c), shared with op_gemm.c ---- */

/* `mode` is defined for `format`: PER_GROUP for INT4, PER_TENSOR or PER_CHANNEL otherwise. */
XHAL_INTERNAL_API xhal_status_t xhal_check_quant_mode(const char *fn, const char *name,
                                                      xhal_quant_t format, xhal_scale_mode_t mode);
/* 32, 64 or 128. */
XHAL_INTERNAL_API xhal_status_t xhal_check_group_size(const char *fn, const char *name,
                                                      int64_t group_size);
/* "INT8", "INT4", "FP8_E4M3", "FP8_E5M2", or "NONE". */
XHAL_INTERNAL_API const char *xhal_quant_name(xhal_quant_t format);

/* True when the byte ranges [a, a + a_bytes) and [b, b + b_bytes) of one buffer intersect. */
static inline bool xhal_ranges_overlap(uint64_t a, uint64_t a_bytes, uint64_t b, uint64_t b_bytes) {
    return a < b + b_bytes && b < a + a_bytes;
}

#endif
