/*
 * The fault-injection backend, "faulty": the CPU backend (its sources are built into this
 * plugin) with every entry that can fail on a real device wrapped, so that a test can make the
 * n-th call of chosen kinds fail and prove that the core returns a status, leaks nothing and
 * stays usable (tests/test_faults.c).
 *
 * Kinds of faults (FAULTY_* in faulty_plugin.h):
 *   ALLOC   buffer_alloc, stream_create, event_create return OUT_OF_MEMORY
 *   COPY    copy_h2d, copy_d2h, copy_d2d, fill refuse at enqueue with DEVICE_ERROR
 *   LAUNCH  gemm, attention refuse at enqueue with DEVICE_ERROR
 *   WAIT    stream_synchronize, event_synchronize, event_record, stream_wait_event, and
 *           event_elapsed_ms return DEVICE_ERROR (after waiting, as a device that lost the
 *           queue would)
 *   ASYNC   copies and ops are enqueued, then fail "on the device": the stream's next
 *           synchronize reports DEVICE_ERROR, as a kernel that faulted would
 *
 * The test arms the plugin through xhal_faulty_arm (found with dlsym on the loaded plugin).
 * Disarmed, the plugin is the CPU backend under another name, and counts the calls it would
 * have failed, so that a test learns how many fault points a scenario has.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "builtin_backends.h"
#include "cpu_internal.h"
#include "faulty_plugin.h"

static const xhal_backend_api_t *cpu;
static const xhal_host_api_t *host;
static _Atomic unsigned armed_kinds;
static _Atomic uint64_t armed_at, calls, injected;

XHAL_BACKEND_EXPORT void xhal_faulty_arm(unsigned kinds, uint64_t at) {
    atomic_store(&armed_kinds, 0u);
    atomic_store(&calls, 0);
    atomic_store(&armed_at, at);
    atomic_store(&armed_kinds, kinds);
}

XHAL_BACKEND_EXPORT uint64_t xhal_faulty_calls(void) {
    return atomic_load(&calls);
}

XHAL_BACKEND_EXPORT uint64_t xhal_faulty_injected(void) {
    return atomic_load(&injected);
}

/* Counts a call of `kind` when armed for it; true when this is the call to fail. */
static int hit(unsigned kind) {
    if (!(atomic_load(&armed_kinds) & kind)) return 0;
    uint64_t n = atomic_fetch_add(&calls, 1) + 1;
    if (n != atomic_load(&armed_at)) return 0;
    atomic_fetch_add(&injected, 1);
    return 1;
}

static xhal_status_t injected_error(xhal_status_t status, const char *entry) {
    return host->set_error(status, "faulty: injected failure of %s (call %llu)", entry,
                           (unsigned long long)atomic_load(&calls));
}

#define FAULT(kind, status, entry)                                                                 \
    do {                                                                                           \
        if (hit(kind)) return injected_error(status, entry);                                       \
    } while (0)

/* ---- ASYNC: a command that fails on the stream's worker, after the work before it ---- */

static void fail_command(xhal_be_stream_t *stream, void *payload) {
    (void)payload;
    cpu_stream_fail(stream, XHAL_DEVICE_ERROR, "faulty: injected asynchronous failure");
}

/* After a successful enqueue: queues the failure when this call is the one to fail. */
static xhal_status_t after_enqueue(xhal_be_stream_t *stream, xhal_status_t status) {
    if (status != XHAL_OK || !hit(FAULTY_ASYNC)) return status;
    cpu_command_t *command = cpu_command_new(stream, fail_command, "faulty", 0);
    if (!command) return XHAL_OUT_OF_MEMORY;
    cpu_stream_push(stream, command);
    return XHAL_OK;
}

/* ---- Wrapped entries ---- */

static xhal_status_t f_init(const xhal_host_api_t *h, xhal_be_state_t **out_state) {
    host = h;
    return cpu->init(h, out_state);
}

static xhal_status_t f_buffer_alloc(xhal_be_device_t *device, uint64_t size,
                                    xhal_memory_kind_t kind, xhal_be_buffer_t **out_buffer) {
    FAULT(FAULTY_ALLOC, XHAL_OUT_OF_MEMORY, "buffer_alloc");
    return cpu->buffer_alloc(device, size, kind, out_buffer);
}

static xhal_status_t f_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream) {
    FAULT(FAULTY_ALLOC, XHAL_OUT_OF_MEMORY, "stream_create");
    return cpu->stream_create(device, out_stream);
}

static xhal_status_t f_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event) {
    FAULT(FAULTY_ALLOC, XHAL_OUT_OF_MEMORY, "event_create");
    return cpu->event_create(device, out_event);
}

static xhal_status_t f_stream_synchronize(xhal_be_stream_t *stream) {
    xhal_status_t status = cpu->stream_synchronize(stream);
    if (status == XHAL_OK && hit(FAULTY_WAIT))
        return injected_error(XHAL_DEVICE_ERROR, "stream_synchronize");
    return status;
}

static xhal_status_t f_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream) {
    FAULT(FAULTY_WAIT, XHAL_DEVICE_ERROR, "event_record");
    return cpu->event_record(event, stream);
}

static xhal_status_t f_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event) {
    FAULT(FAULTY_WAIT, XHAL_DEVICE_ERROR, "stream_wait_event");
    return cpu->stream_wait_event(stream, event);
}

static xhal_status_t f_event_synchronize(xhal_be_event_t *event) {
    xhal_status_t status = cpu->event_synchronize(event);
    if (status == XHAL_OK && hit(FAULTY_WAIT))
        return injected_error(XHAL_DEVICE_ERROR, "event_synchronize");
    return status;
}

static xhal_status_t f_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end,
                                        double *out_ms) {
    FAULT(FAULTY_WAIT, XHAL_DEVICE_ERROR, "event_elapsed_ms");
    return cpu->event_elapsed_ms(start, end, out_ms);
}

static xhal_status_t f_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst,
                                uint64_t dst_offset, const void *src, uint64_t size) {
    FAULT(FAULTY_COPY, XHAL_DEVICE_ERROR, "copy_h2d");
    return after_enqueue(stream, cpu->copy_h2d(stream, dst, dst_offset, src, size));
}

static xhal_status_t f_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                                uint64_t src_offset, uint64_t size) {
    FAULT(FAULTY_COPY, XHAL_DEVICE_ERROR, "copy_d2h");
    return after_enqueue(stream, cpu->copy_d2h(stream, dst, src, src_offset, size));
}

static xhal_status_t f_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst,
                                uint64_t dst_offset, xhal_be_buffer_t *src, uint64_t src_offset,
                                uint64_t size) {
    FAULT(FAULTY_COPY, XHAL_DEVICE_ERROR, "copy_d2d");
    return after_enqueue(stream, cpu->copy_d2d(stream, dst, dst_offset, src, src_offset, size));
}

static xhal_status_t f_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                            uint64_t size, const void *pattern, size_t pattern_size) {
    FAULT(FAULTY_COPY, XHAL_DEVICE_ERROR, "fill");
    return after_enqueue(stream, cpu->fill(stream, dst, offset, size, pattern, pattern_size));
}

static xhal_status_t f_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                            const xhal_be_gemm_buffers_t *buffers) {
    FAULT(FAULTY_LAUNCH, XHAL_DEVICE_ERROR, "gemm");
    return after_enqueue(stream, cpu->gemm(stream, desc, buffers));
}

static xhal_status_t f_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                                 const xhal_be_attention_buffers_t *buffers) {
    FAULT(FAULTY_LAUNCH, XHAL_DEVICE_ERROR, "attention");
    return after_enqueue(stream, cpu->attention(stream, desc, buffers));
}

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void);

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
    static xhal_backend_api_t api;
    cpu = xhal_cpu_backend_entry();
    api = *cpu;
    api.name = "faulty";
    api.init = f_init;
    api.buffer_alloc = f_buffer_alloc;
    api.stream_create = f_stream_create;
    api.event_create = f_event_create;
    api.stream_synchronize = f_stream_synchronize;
    api.event_record = f_event_record;
    api.stream_wait_event = f_stream_wait_event;
    api.event_synchronize = f_event_synchronize;
    api.event_elapsed_ms = f_event_elapsed_ms;
    api.copy_h2d = f_copy_h2d;
    api.copy_d2h = f_copy_d2h;
    api.copy_d2d = f_copy_d2d;
    api.fill = f_fill;
    api.gemm = f_gemm;
    api.attention = f_attention;
    return &api;
}
