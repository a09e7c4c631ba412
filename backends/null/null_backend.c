/*
 * The skeleton of a backend: the file a port to a new chip starts from (docs/PORTING.md).
 *
 * It builds, loads, finds one device and answers every op with UNSUPPORTED and a reason, so
 * `xhal conform --device null` runs the whole suite and reports every case SKIP. Copy the folder
 * to backends/<yours>/, replace "null" by your backend's name in the file names and the code,
 * and fill in the places marked PORT, in the order of PORTING.md: init, devices, memory and
 * copies, streams and events, then GEMM and attention. After each step `xhal conform --device
 * <yours>` tells you what passes, what fails and why the rest is skipped.
 *
 * What the core does for you (xhal_backend.h): every argument is validated before a call gets
 * here, `supports` is asked before an op is enqueued, and errors are reported through the host's
 * set_error (never printed). What backends/common/ gives you: loading the vendor runtime with
 * dlopen (xc_dlib.h), the tuning file (xc_tuning.h), a cache of compiled device code
 * (xc_cache.h), per-stream scratch (xc_scratch.h), options and forced kernels (xc_options.h),
 * and the check that refuses the serving features you have not implemented (xc_features.h).
 *
 * Streams and events work here (a stream is an empty in-order queue, an event a host
 * timestamp) so that the conformance suite can run against the skeleton; buffers do not, so no
 * copy and no op ever runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xhal/xhal_backend.h"

#include "xc_features.h"

/* ---- Objects behind the handles (xhal_backend.h declares their names, you define them) ---- */

struct xhal_be_state {
    const xhal_host_api_t *host;
    /* PORT: the vendor runtime's table of entry points (xc_dlib_open) and the devices found. */
};

struct xhal_be_device {
    const xhal_host_api_t *host;
    uint32_t index;
    xhal_device_info_t info;
    /* PORT: the vendor's device and context, the compiled kernels, the tuning (xc_tuning.h). */
};

struct xhal_be_buffer {
    void *memory; /* PORT: the vendor's allocation (a device address, a memory object) */
};

struct xhal_be_stream {
    xhal_be_device_t *device;
    /* PORT: the vendor's in-order queue, and its scratch (xc_scratch.h). */
};

struct xhal_be_event {
    double ms; /* PORT: the vendor's event; here the host's clock when recorded */
};

/* The answer of everything not written yet. PORT: gone once every op runs. */
static xhal_status_t not_written(const xhal_be_device_t *device, const char *what) {
    return device->host->set_error(XHAL_UNSUPPORTED,
                                   "null: %s is not implemented (a skeleton backend)", what);
}

/* ---- Lifecycle ---- */

static xhal_status_t null_init(const xhal_host_api_t *host, xhal_be_state_t **out_state) {
    /*
     * PORT: load the vendor runtime with xc_dlib_open (the plugin must load where the runtime
     * is missing: return UNAVAILABLE with a sentence naming what is missing), initialise it and
     * count the devices. Read options here through xhal_host_option(host, "XHAL_<NAME>_...").
     */
    xhal_be_state_t *state = calloc(1, sizeof(*state));
    if (!state) return host->set_error(XHAL_OUT_OF_MEMORY, "null: out of host memory at init");
    state->host = host;
    *out_state = state;
    return XHAL_OK;
}

static void null_shutdown(xhal_be_state_t *state) {
    free(state); /* PORT: release the runtime; the core has closed every device already */
}

/* ---- Devices ---- */

static uint32_t null_device_count(xhal_be_state_t *state) {
    (void)state;
    return 1; /* PORT: the devices the runtime found */
}

static xhal_status_t null_device_open(xhal_be_state_t *state, uint32_t index,
                                      xhal_be_device_t **out_device) {
    xhal_be_device_t *device = calloc(1, sizeof(*device));
    if (!device)
        return state->host->set_error(XHAL_OUT_OF_MEMORY, "null: out of host memory for a device");
    device->host = state->host;
    device->index = index;
    /*
     * PORT: open the vendor's device and fill what you know; leave a figure 0 rather than guess.
     * Peaks you leave 0 come from hal/data/devices.ini when the name matches a section there.
     */
    xhal_device_info_t *info = &device->info;
    info->type = XHAL_DEVICE_TYPE_ACCELERATOR;
    snprintf(info->name, sizeof(info->name), "null device %u", index);
    snprintf(info->vendor, sizeof(info->vendor), "xhal skeleton");
    snprintf(info->peak_source, sizeof(info->peak_source), "unknown: a skeleton has no peaks");
    *out_device = device;
    return XHAL_OK;
}

static void null_device_close(xhal_be_device_t *device) {
    free(device); /* PORT: release what device_open made */
}

static xhal_status_t null_device_info(xhal_be_device_t *device, xhal_device_info_t *out_info) {
    *out_info = device->info;
    return XHAL_OK;
}

/* ---- Memory and copies ---- */

static xhal_status_t null_buffer_alloc(xhal_be_device_t *device, uint64_t size,
                                       xhal_memory_kind_t kind, xhal_be_buffer_t **out_buffer) {
    (void)size;
    (void)kind;
    *out_buffer = NULL;
    /* PORT: allocate device memory (and pinned host memory for XHAL_MEMORY_HOST_PINNED). */
    return not_written(device, "buffers");
}

static void null_buffer_free(xhal_be_device_t *device, xhal_be_buffer_t *buffer) {
    (void)device;
    if (!buffer) return;
    free(buffer->memory); /* PORT: free the vendor's allocation */
    free(buffer);
}

/* Copies and fills: unreachable until buffer_alloc works. PORT: enqueue them on the stream. */

static xhal_status_t null_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst,
                                   uint64_t dst_offset, const void *src, uint64_t size) {
    (void)dst, (void)dst_offset, (void)src, (void)size;
    return not_written(stream->device, "copies");
}

static xhal_status_t null_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                                   uint64_t src_offset, uint64_t size) {
    (void)dst, (void)src, (void)src_offset, (void)size;
    return not_written(stream->device, "copies");
}

static xhal_status_t null_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst,
                                   uint64_t dst_offset, xhal_be_buffer_t *src, uint64_t src_offset,
                                   uint64_t size) {
    (void)dst, (void)dst_offset, (void)src, (void)src_offset, (void)size;
    return not_written(stream->device, "copies");
}

static xhal_status_t null_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                               uint64_t size, const void *pattern, size_t pattern_size) {
    (void)dst, (void)offset, (void)size, (void)pattern, (void)pattern_size;
    return not_written(stream->device, "copies");
}

/* ---- Streams and events ---- */

static xhal_status_t null_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream) {
    /* PORT: create an in-order queue; scratch grows on it later (xc_scratch.h). */
    xhal_be_stream_t *stream = calloc(1, sizeof(*stream));
    if (!stream) return device->host->set_error(XHAL_OUT_OF_MEMORY, "null: out of host memory");
    stream->device = device;
    *out_stream = stream;
    return XHAL_OK;
}

static void null_stream_destroy(xhal_be_stream_t *stream) {
    free(stream); /* PORT: wait for the queue's work, then release it */
}

static xhal_status_t null_stream_synchronize(xhal_be_stream_t *stream) {
    (void)stream; /* PORT: wait; return the first error of the work queued since the last wait */
    return XHAL_OK;
}

static xhal_status_t null_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event) {
    xhal_be_event_t *event = calloc(1, sizeof(*event));
    if (!event) return device->host->set_error(XHAL_OUT_OF_MEMORY, "null: out of host memory");
    *out_event = event;
    return XHAL_OK;
}

static void null_event_destroy(xhal_be_event_t *event) {
    free(event);
}

static xhal_status_t null_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream) {
    (void)stream; /* PORT: record a marker on the queue (with timing on) */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    event->ms = (double)now.tv_sec * 1e3 + (double)now.tv_nsec * 1e-6;
    return XHAL_OK;
}

static xhal_status_t null_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event) {
    (void)stream, (void)event; /* PORT: make the stream's later work wait for the event */
    return XHAL_OK;
}

static xhal_status_t null_event_synchronize(xhal_be_event_t *event) {
    (void)event; /* PORT: wait for the event */
    return XHAL_OK;
}

static xhal_status_t null_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end,
                                           double *out_ms) {
    *out_ms = end->ms - start->ms; /* PORT: the device's time between the two markers */
    return XHAL_OK;
}

/* ---- Ops ---- */

/*
 * The serving features this backend runs (backends/common/xc_features.h): add a bit when its
 * kernel lands. `supports` must refuse everything it does not run: it is the answer users get.
 */
#define NULL_GEMM_FEATURES 0u
#define NULL_ATTENTION_FEATURES 0u

static xhal_status_t null_gemm_supports(xhal_be_device_t *device, const xhal_gemm_desc_t *desc) {
    /* The serving features this backend does not run are refused first, by name. */
    xhal_status_t status = xc_gemm_features(device->host, "null", desc, NULL_GEMM_FEATURES);
    if (status != XHAL_OK) return status;
    /*
     * PORT: refuse what your kernels do not run (dtypes, shapes, layouts) with the reason, then
     * ask your kernel planner, as backends/cuda/cuda_gemm.c does; XHAL_OK for the rest.
     */
    return not_written(device, "GEMM");
}

static xhal_status_t null_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                               const xhal_be_gemm_buffers_t *buffers) {
    /* PORT: launch the kernel on the stream; copy what the queued work needs from desc. */
    (void)desc, (void)buffers;
    return not_written(stream->device, "GEMM");
}

static xhal_status_t null_attention_supports(xhal_be_device_t *device,
                                             const xhal_attention_desc_t *desc) {
    xhal_status_t status =
        xc_attention_features(device->host, "null", desc, NULL_ATTENTION_FEATURES);
    if (status != XHAL_OK) return status;
    return not_written(device, "attention"); /* PORT: as null_gemm_supports */
}

static xhal_status_t null_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                                    const xhal_be_attention_buffers_t *buffers) {
    /* PORT: launch; clamp every index read from the index buffers (xhal_backend.h). */
    (void)desc, (void)buffers;
    return not_written(stream->device, "attention");
}

/* PORT: optional; leave both entries NULL in the table when the device has no merge kernel. */
static xhal_status_t null_merge_supports(xhal_be_device_t *device,
                                         const xhal_attention_merge_desc_t *desc) {
    (void)desc;
    return not_written(device, "attention merge");
}

static xhal_status_t null_merge(xhal_be_stream_t *stream, const xhal_attention_merge_desc_t *desc,
                                const xhal_be_merge_buffers_t *buffers) {
    (void)desc, (void)buffers;
    return not_written(stream->device, "attention merge");
}

/* ---- The table the core reads (xhal_backend.h) ---- */

static const xhal_backend_api_t null_api = {
    .struct_size = sizeof(xhal_backend_api_t),
    .abi_major = XHAL_BACKEND_ABI_MAJOR,
    .abi_minor = XHAL_BACKEND_ABI_MINOR,
    .name = "null", /* PORT: your name; the file must be libxhal-<name>.so */

    .init = null_init,
    .shutdown = null_shutdown,
    .device_count = null_device_count,
    .device_open = null_device_open,
    .device_close = null_device_close,
    .device_info = null_device_info,

    .buffer_alloc = null_buffer_alloc,
    .buffer_free = null_buffer_free,
    .buffer_host_pointer = NULL, /* PORT: when the host can address your buffers */

    .stream_create = null_stream_create,
    .stream_destroy = null_stream_destroy,
    .stream_synchronize = null_stream_synchronize,
    .event_create = null_event_create,
    .event_destroy = null_event_destroy,
    .event_record = null_event_record,
    .stream_wait_event = null_stream_wait_event,
    .event_synchronize = null_event_synchronize,
    .event_elapsed_ms = null_event_elapsed_ms,

    .copy_h2d = null_copy_h2d,
    .copy_d2h = null_copy_d2h,
    .copy_d2d = null_copy_d2d,
    .fill = null_fill,

    .gemm_supports = null_gemm_supports,
    .gemm = null_gemm,
    .attention_supports = null_attention_supports,
    .attention = null_attention,
    .attention_merge_supports = null_merge_supports,
    .attention_merge = null_merge,
};

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void);
XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
    return &null_api;
}
