/*
 * Broken test plugins, one per BROKEN_MODE (set by tests/CMakeLists.txt):
 *   BROKEN_NO_ENTRY   exports no xhal_backend_entry (only a look-alike symbol)
 *   BROKEN_NULL_ENTRY xhal_backend_entry returns NULL
 *   BROKEN_ABI99      the table has ABI major 99
 *   BROKEN_UNAVAIL    init returns UNAVAILABLE: the vendor runtime is missing
 *   BROKEN_INIT_ERROR init returns DEVICE_ERROR
 *   BROKEN_BAD_STATUS init returns 1234, which is no xhal_status_t
 *   BROKEN_DATA_ENTRY xhal_backend_entry is a data object, not a function
 * Every required entry is present (and harmless), so the only fault is the one named.
 */
#include "xhal/xhal_backend.h"

#define BROKEN_NO_ENTRY 1
#define BROKEN_NULL_ENTRY 2
#define BROKEN_ABI99 3
#define BROKEN_UNAVAIL 4
#define BROKEN_INIT_ERROR 5
#define BROKEN_BAD_STATUS 6
#define BROKEN_DATA_ENTRY 7

#ifndef BROKEN_MODE
#error "BROKEN_MODE must be defined"
#endif
#ifndef BROKEN_NAME
#error "BROKEN_NAME must be defined"
#endif

static xhal_status_t b_init(const xhal_host_api_t *host, xhal_be_state_t **out_state) {
    *out_state = NULL;
#if BROKEN_MODE == BROKEN_UNAVAIL
    return host->set_error(XHAL_UNAVAILABLE,
                           "testunavail: the vendor runtime libfoo.so.1 was not found");
#elif BROKEN_MODE == BROKEN_INIT_ERROR
    return host->set_error(XHAL_DEVICE_ERROR,
                           "testiniterror: fooInit() failed with FOO_ERROR_NO_DEVICE (42)");
#elif BROKEN_MODE == BROKEN_BAD_STATUS
    (void)host;
    return (xhal_status_t)1234;
#else
    return host->set_error(XHAL_UNAVAILABLE, "%s: a broken test plugin was initialised",
                           BROKEN_NAME);
#endif
}

static void b_shutdown(xhal_be_state_t *state) {
    (void)state;
}

static uint32_t b_device_count(xhal_be_state_t *state) {
    (void)state;
    return 0;
}

static xhal_status_t b_device_open(xhal_be_state_t *state, uint32_t index,
                                   xhal_be_device_t **out_device) {
    (void)state;
    (void)index;
    *out_device = NULL;
    return XHAL_UNAVAILABLE;
}

static void b_device_close(xhal_be_device_t *device) {
    (void)device;
}

static xhal_status_t b_device_info(xhal_be_device_t *device, xhal_device_info_t *out_info) {
    (void)device;
    (void)out_info;
    return XHAL_UNAVAILABLE;
}

static xhal_status_t b_buffer_alloc(xhal_be_device_t *device, uint64_t size,
                                    xhal_memory_kind_t kind, xhal_be_buffer_t **out_buffer) {
    (void)device;
    (void)size;
    (void)kind;
    *out_buffer = NULL;
    return XHAL_UNAVAILABLE;
}

static void b_buffer_free(xhal_be_device_t *device, xhal_be_buffer_t *buffer) {
    (void)device;
    (void)buffer;
}

static xhal_status_t b_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream) {
    (void)device;
    *out_stream = NULL;
    return XHAL_UNAVAILABLE;
}

static void b_stream_destroy(xhal_be_stream_t *stream) {
    (void)stream;
}

static xhal_status_t b_stream_synchronize(xhal_be_stream_t *stream) {
    (void)stream;
    return XHAL_UNAVAILABLE;
}

static xhal_status_t b_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event) {
    (void)device;
    *out_event = NULL;
    return XHAL_UNAVAILABLE;
}

static void b_event_destroy(xhal_be_event_t *event) {
    (void)event;
}

static xhal_status_t b_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream) {
    (void)event;
    (void)stream;
    return XHAL_UNAVAILABLE;
}

static xhal_status_t b_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event) {
    (void)event;
    (void)stream;
    return XHAL_UNAVAILABLE;
}

static xhal_status_t b_event_synchronize(xhal_be_event_t *event) {
    (void)event;
    return XHAL_UNAVAILABLE;
}

static xhal_status_t b_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end,
                                        double *out_ms) {
    (void)start;
    (void)end;
    (void)out_ms;
    return XHAL_UNAVAILABLE;
}

static xhal_status_t b_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst,
                                uint64_t dst_offset, const void *src, uint64_t size) {
    (void)stream;
    (void)dst;
    (void)dst_offset;
    (void)src;
    (void)size;
    return XHAL_UNAVAILABLE;
}

static xhal_status_t b_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                                uint64_t src_offset, uint64_t size) {
    (void)stream;
    (void)dst;
    (void)src;
    (void)src_offset;
    (void)size;
    return XHAL_UNAVAILABLE;
}

static xhal_status_t b_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst,
                                uint64_t dst_offset, xhal_be_buffer_t *src, uint64_t src_offset,
                                uint64_t size) {
    (void)stream;
    (void)dst;
    (void)dst_offset;
    (void)src;
    (void)src_offset;
    (void)size;
    return XHAL_UNAVAILABLE;
}

static xhal_status_t b_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                            uint64_t size, const void *pattern, size_t pattern_size) {
    (void)stream;
    (void)dst;
    (void)offset;
    (void)size;
    (void)pattern;
    (void)pattern_size;
    return XHAL_UNAVAILABLE;
}

static const xhal_backend_api_t api = {
    .struct_size = sizeof(xhal_backend_api_t),
#if BROKEN_MODE == BROKEN_ABI99
    .abi_major = 99,
#else
    .abi_major = XHAL_BACKEND_ABI_MAJOR,
#endif
    .abi_minor = XHAL_BACKEND_ABI_MINOR,
    .name = BROKEN_NAME,
    .init = b_init,
    .shutdown = b_shutdown,
    .device_count = b_device_count,
    .device_open = b_device_open,
    .device_close = b_device_close,
    .device_info = b_device_info,
    .buffer_alloc = b_buffer_alloc,
    .buffer_free = b_buffer_free,
    .buffer_host_pointer = NULL,
    .stream_create = b_stream_create,
    .stream_destroy = b_stream_destroy,
    .stream_synchronize = b_stream_synchronize,
    .event_create = b_event_create,
    .event_destroy = b_event_destroy,
    .event_record = b_event_record,
    .stream_wait_event = b_stream_wait_event,
    .event_synchronize = b_event_synchronize,
    .event_elapsed_ms = b_event_elapsed_ms,
    .copy_h2d = b_copy_h2d,
    .copy_d2h = b_copy_d2h,
    .copy_d2d = b_copy_d2d,
    .fill = b_fill,
};

#if BROKEN_MODE == BROKEN_DATA_ENTRY
/* The name the core looks for, on bytes that are no code: calling them would crash. */
XHAL_BACKEND_EXPORT const unsigned char xhal_backend_entry[64];
const unsigned char xhal_backend_entry[64] = {0};
/* Keeps the table referenced, as the other modes do. */
XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry_table(void);
XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry_table(void) {
    return &api;
}
#elif BROKEN_MODE == BROKEN_NO_ENTRY
/* Exported, but not under the name the core looks for. */
XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry_v2(void);
XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry_v2(void) {
    return &api;
}
#else
XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void);
XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
#if BROKEN_MODE == BROKEN_NULL_ENTRY
    return api.name != NULL ? NULL : &api; /* always NULL; keeps the table referenced */
#else
    return &api;
#endif
}
#endif
