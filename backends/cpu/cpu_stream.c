/*
 * Streams: an in-order queue of commands, drained by one worker thread per stream.
 *
 * This is how a GPU queue behaves, made visible: an enqueue (copy, fill, gemm, ...) copies its
 * arguments into a command, appends it to a FIFO and returns at once; the stream's worker runs
 * the commands one at a time in the order they came. So two streams run concurrently, work on
 * one stream never reorders, and the host only learns that work finished, or failed, when it
 * synchronizes. A port must keep exactly these semantics, whatever the vendor queue is.
 *
 * Errors met by queued work are sticky: the first is kept (status and message) until
 * stream_synchronize returns it and clears it. Later commands still run; their inputs are
 * not made invalid by a failed command before them, and events recorded after it must fire.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "cpu_spin.h"

/* ---- The queue ---- */

cpu_command_t *cpu_command_new(xhal_be_stream_t *stream, cpu_command_fn run, const char *what,
                               size_t payload_size) {
    cpu_command_t *command = malloc(sizeof(*command) + payload_size);
    if (!command) {
        stream->device->host->set_error(XHAL_OUT_OF_MEMORY,
                                        "cpu: malloc of %zu bytes for a %s command failed",
                                        sizeof(*command) + payload_size, what);
        return NULL;
    }
    command->next = NULL;
    command->run = run;
    command->what = what;
    return command;
}

void cpu_stream_push(xhal_be_stream_t *stream, cpu_command_t *command) {
    pthread_mutex_lock(&stream->lock);
    if (stream->tail)
        stream->tail->next = command;
    else
        stream->head = command;
    stream->tail = command;
    atomic_fetch_add(&stream->outstanding, 1);
    pthread_cond_signal(&stream->has_work);
    pthread_mutex_unlock(&stream->lock);
}

void cpu_stream_fail(xhal_be_stream_t *stream, xhal_status_t status, const char *fmt, ...) {
    pthread_mutex_lock(&stream->lock);
    if (stream->error == XHAL_OK) {
        stream->error = status;
        va_list args;
        va_start(args, fmt);
        vsnprintf(stream->error_message, sizeof(stream->error_message), fmt, args);
        va_end(args);
    }
    pthread_mutex_unlock(&stream->lock);
}

/*
 * The worker: pop the oldest command, run it without holding the lock (so the host can keep
 * enqueueing), free it, repeat. When the queue is empty and nothing runs, wake synchronize.
 * It exits only when stopping and the queue is empty, so destroy drains the queue first.
 */
/* Ends the worker's polling: work came, the stream stops, or a host thread sleeps in
 * synchronize (it will need this core as soon as it is woken). */
static int has_work_or_sleepers(void *arg) {
    xhal_be_stream_t *stream = arg;
    return atomic_load_explicit(&stream->outstanding, memory_order_acquire) != 0 ||
           atomic_load_explicit(&stream->stopping, memory_order_relaxed) ||
           atomic_load_explicit(&stream->sleepers, memory_order_relaxed) != 0;
}

/* Ends synchronize's polling: the stream is idle, or an op is using every core of the pool
 * (polling would slow it down; synchronize sleeps instead). */
static int idle_or_pool_busy(void *arg) {
    xhal_be_stream_t *stream = arg;
    return atomic_load_explicit(&stream->outstanding, memory_order_acquire) == 0 ||
           cpu_pool_busy(stream->device->pool);
}

static void *stream_worker(void *arg) {
    xhal_be_stream_t *stream = arg;
    const xhal_host_api_t *host = stream->device->host;
    pthread_mutex_lock(&stream->lock);
    for (;;) {
        if (!stream->head && !stream->stopping) {
            /* Poll before sleeping: the next command usually comes within microseconds. */
            pthread_mutex_unlock(&stream->lock);
            cpu_spin_until(has_work_or_sleepers, stream, stream->device->spin_ns);
            pthread_mutex_lock(&stream->lock);
        }
        while (!stream->head && !stream->stopping)
            pthread_cond_wait(&stream->has_work, &stream->lock);
        if (!stream->head) break; /* stopping, and nothing left to run */

        cpu_command_t *command = stream->head;
        stream->head = command->next;
        if (!stream->head) stream->tail = NULL;
        stream->running = 1;
        pthread_mutex_unlock(&stream->lock);

        if (host->log_enabled(XHAL_LOG_DEBUG))
            host->log(XHAL_LOG_DEBUG, "stream %p: running %s", (void *)stream, command->what);
        command->run(stream, command->payload);
        free(command);

        pthread_mutex_lock(&stream->lock);
        stream->running = 0;
        atomic_fetch_sub_explicit(&stream->outstanding, 1, memory_order_release);
        if (!stream->head) pthread_cond_broadcast(&stream->went_idle);
    }
    pthread_mutex_unlock(&stream->lock);
    return NULL;
}

/* ---- Stream entries ---- */

xhal_status_t cpu_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream) {
    const xhal_host_api_t *host = device->host;
    xhal_be_stream_t *stream = calloc(1, sizeof(*stream));
    if (!stream)
        return host->set_error(XHAL_OUT_OF_MEMORY, "cpu: calloc of %zu bytes for a stream failed",
                               sizeof(*stream));
    stream->device = device;
    stream->error = XHAL_OK;
    atomic_init(&stream->outstanding, 0);
    atomic_init(&stream->sleepers, 0);
    pthread_mutex_init(&stream->lock, NULL);
    pthread_cond_init(&stream->has_work, NULL);
    pthread_cond_init(&stream->went_idle, NULL);
    int error = pthread_create(&stream->worker, NULL, stream_worker, stream);
    if (error) {
        pthread_cond_destroy(&stream->went_idle);
        pthread_cond_destroy(&stream->has_work);
        pthread_mutex_destroy(&stream->lock);
        free(stream);
        /* EAGAIN: out of threads or memory for a stack; anything else is unexpected. */
        xhal_status_t status =
            error == EAGAIN || error == ENOMEM ? XHAL_OUT_OF_MEMORY : XHAL_DEVICE_ERROR;
        return host->set_error(status, "cpu: pthread_create for a stream's worker failed with %s",
                               cpu_errno_name(error));
    }
    *out_stream = stream;
    return XHAL_OK;
}

void cpu_stream_destroy(xhal_be_stream_t *stream) {
    if (!stream) return;
    pthread_mutex_lock(&stream->lock);
    stream->stopping = 1;
    pthread_cond_signal(&stream->has_work);
    pthread_mutex_unlock(&stream->lock);
    pthread_join(stream->worker, NULL); /* the worker drains the queue before it exits */

    if (stream->error != XHAL_OK)
        stream->device->host->log(XHAL_LOG_WARN,
                                  "a stream was destroyed with an error never synchronized: %s",
                                  stream->error_message);
    pthread_cond_destroy(&stream->went_idle);
    pthread_cond_destroy(&stream->has_work);
    pthread_mutex_destroy(&stream->lock);
    free(stream);
}

xhal_status_t cpu_stream_synchronize(xhal_be_stream_t *stream) {
    cpu_spin_until(idle_or_pool_busy, stream, stream->device->spin_ns);
    pthread_mutex_lock(&stream->lock);
    atomic_fetch_add(&stream->sleepers, 1);
    while (stream->head || stream->running)
        pthread_cond_wait(&stream->went_idle, &stream->lock);
    atomic_fetch_sub(&stream->sleepers, 1);
    xhal_status_t status = stream->error;
    char message[sizeof(stream->error_message)];
    memcpy(message, stream->error_message, sizeof(message));
    stream->error = XHAL_OK;
    stream->error_message[0] = '\0';
    pthread_mutex_unlock(&stream->lock);

    /* The failure happened on the worker thread; report it on the thread that asks. */
    if (status != XHAL_OK) return stream->device->host->set_error(status, "%s", message);
    return XHAL_OK;
}

/* ---- Copies and fill: each a command with the pointers resolved at enqueue time ---- */

typedef struct {
    void *dst;
    const void *src;
    size_t size;
} copy_args_t;

static void run_copy(xhal_be_stream_t *stream, void *payload) {
    (void)stream;
    const copy_args_t *args = payload;
    memcpy(args->dst, args->src, args->size);
}

static xhal_status_t enqueue_copy(xhal_be_stream_t *stream, const char *what, void *dst,
                                  const void *src, uint64_t size) {
    cpu_command_t *command = cpu_command_new(stream, run_copy, what, sizeof(copy_args_t));
    if (!command) return XHAL_OUT_OF_MEMORY;
    copy_args_t *args = (copy_args_t *)command->payload;
    args->dst = dst;
    args->src = src;
    args->size = (size_t)size; /* the core checked that the range lies in a buffer */
    cpu_stream_push(stream, command);
    return XHAL_OK;
}

xhal_status_t cpu_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           const void *src, uint64_t size) {
    return enqueue_copy(stream, "copy_h2d", (char *)dst->data + dst_offset, src, size);
}

xhal_status_t cpu_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                           uint64_t src_offset, uint64_t size) {
    return enqueue_copy(stream, "copy_d2h", dst, (const char *)src->data + src_offset, size);
}

xhal_status_t cpu_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size) {
    return enqueue_copy(stream, "copy_d2d", (char *)dst->data + dst_offset,
                        (const char *)src->data + src_offset, size);
}

typedef struct {
    unsigned char *dst;
    size_t size;
    size_t pattern_size;
    unsigned char pattern[4]; /* copied at the call: the caller's copy may be gone by now */
} fill_args_t;

/* Writes the pattern once, then doubles the filled prefix with memcpy: any pattern size,
 * no alignment or type assumptions, and memcpy's speed for large fills. */
static void run_fill(xhal_be_stream_t *stream, void *payload) {
    (void)stream;
    const fill_args_t *args = payload;
    if (args->pattern_size == 1) {
        memset(args->dst, args->pattern[0], args->size);
        return;
    }
    memcpy(args->dst, args->pattern, args->pattern_size);
    size_t filled = args->pattern_size;
    while (filled < args->size) {
        size_t n = filled < args->size - filled ? filled : args->size - filled;
        memcpy(args->dst + filled, args->dst, n);
        filled += n;
    }
}

xhal_status_t cpu_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                       uint64_t size, const void *pattern, size_t pattern_size) {
    cpu_command_t *command = cpu_command_new(stream, run_fill, "fill", sizeof(fill_args_t));
    if (!command) return XHAL_OUT_OF_MEMORY;
    fill_args_t *args = (fill_args_t *)command->payload;
    args->dst = (unsigned char *)dst->data + offset;
    args->size = (size_t)size;
    args->pattern_size = pattern_size;
    memcpy(args->pattern, pattern, pattern_size);
    cpu_stream_push(stream, command);
    return XHAL_OK;
}
