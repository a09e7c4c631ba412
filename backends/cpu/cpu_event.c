/*
 * Events: points in a stream that the host or another stream can wait for, with a timestamp.
 *
 * An event counts generations. event_record hands out the next generation at enqueue time
 * ("recorded") and enqueues a command that, when the stream's worker reaches it, takes the time
 * and marks that generation reached ("completed"). A waiter remembers the generation that was
 * the last recorded when it started waiting and waits until completed reaches it, so a record
 * made after the wait began does not delay it, as xhal.h asks ("the last recorded point").
 *
 * If one event is recorded on two streams at once, the generations may complete out of order;
 * completed keeps the highest, as the later record supersedes the earlier one. An event never
 * recorded is generation 0, complete from the start.
 *
 * Commands in queues hold a pointer to the event; event_destroy waits until none is left, so
 * an application may destroy an event right after recording it, as CUDA allows.
 */
#include <stdlib.h>
#include <time.h>

#include "cpu_internal.h"

struct xhal_be_event {
    xhal_be_device_t *device;
    pthread_mutex_t lock;
    pthread_cond_t changed;    /* signalled when `completed` or `commands_in_flight` changes */
    uint64_t recorded;         /* the last generation handed out by event_record */
    uint64_t completed;        /* the highest generation reached by its stream */
    int64_t time_ns;           /* CLOCK_MONOTONIC when `completed` was reached */
    size_t commands_in_flight; /* queued record and wait commands that point here */
};

typedef struct {
    xhal_be_event_t *event;
    uint64_t generation;
} event_args_t;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Called with event->lock held: the command no longer points at the event. */
static void release_command(xhal_be_event_t *event) {
    event->commands_in_flight--;
    pthread_cond_broadcast(&event->changed);
}

/* Waits, with event->lock held, until generation `generation` has been reached. */
static void wait_generation(xhal_be_event_t *event, uint64_t generation) {
    while (event->completed < generation)
        pthread_cond_wait(&event->changed, &event->lock);
}

xhal_status_t cpu_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event) {
    xhal_be_event_t *event = calloc(1, sizeof(*event));
    if (!event)
        return device->host->set_error(
            XHAL_OUT_OF_MEMORY, "cpu: calloc of %zu bytes for an event failed", sizeof(*event));
    event->device = device;
    pthread_mutex_init(&event->lock, NULL);
    pthread_cond_init(&event->changed, NULL);
    *out_event = event;
    return XHAL_OK;
}

void cpu_event_destroy(xhal_be_event_t *event) {
    if (!event) return;
    pthread_mutex_lock(&event->lock);
    while (event->commands_in_flight > 0)
        pthread_cond_wait(&event->changed, &event->lock);
    pthread_mutex_unlock(&event->lock);
    pthread_cond_destroy(&event->changed);
    pthread_mutex_destroy(&event->lock);
    free(event);
}

/* On the stream's worker: everything enqueued before the record has run. */
static void run_record(xhal_be_stream_t *stream, void *payload) {
    (void)stream;
    const event_args_t *args = payload;
    xhal_be_event_t *event = args->event;
    int64_t time = now_ns();
    pthread_mutex_lock(&event->lock);
    if (args->generation > event->completed) {
        event->completed = args->generation;
        event->time_ns = time;
    }
    release_command(event);
    pthread_mutex_unlock(&event->lock); /* the last touch: the event may be destroyed now */
}

xhal_status_t cpu_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream) {
    cpu_command_t *command =
        cpu_command_new(stream, run_record, "event_record", sizeof(event_args_t));
    if (!command) return XHAL_OUT_OF_MEMORY;
    event_args_t *args = (event_args_t *)command->payload;
    args->event = event;
    pthread_mutex_lock(&event->lock);
    args->generation = ++event->recorded;
    event->commands_in_flight++;
    pthread_mutex_unlock(&event->lock);
    cpu_stream_push(stream, command);
    return XHAL_OK;
}

/* On the waiting stream's worker: blocks this stream, and only it, until the point is reached. */
static void run_wait(xhal_be_stream_t *stream, void *payload) {
    (void)stream;
    const event_args_t *args = payload;
    xhal_be_event_t *event = args->event;
    pthread_mutex_lock(&event->lock);
    wait_generation(event, args->generation);
    release_command(event);
    pthread_mutex_unlock(&event->lock);
}

xhal_status_t cpu_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event) {
    /* Allocate first, so that a failure leaves the event as it was. */
    cpu_command_t *command = cpu_command_new(stream, run_wait, "wait_event", sizeof(event_args_t));
    if (!command) return XHAL_OUT_OF_MEMORY;

    pthread_mutex_lock(&event->lock);
    uint64_t generation = event->recorded;
    int reached = event->completed >= generation; /* also true when never recorded */
    if (!reached) event->commands_in_flight++;
    pthread_mutex_unlock(&event->lock);

    if (reached) {
        free(command); /* nothing to wait for: the stream need not stop at all */
        return XHAL_OK;
    }
    event_args_t *args = (event_args_t *)command->payload;
    args->event = event;
    args->generation = generation;
    cpu_stream_push(stream, command);
    return XHAL_OK;
}

xhal_status_t cpu_event_synchronize(xhal_be_event_t *event) {
    pthread_mutex_lock(&event->lock);
    wait_generation(event, event->recorded);
    pthread_mutex_unlock(&event->lock);
    return XHAL_OK;
}

xhal_status_t cpu_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms) {
    cpu_event_synchronize(start);
    cpu_event_synchronize(end);
    pthread_mutex_lock(&start->lock);
    int64_t start_ns = start->time_ns;
    pthread_mutex_unlock(&start->lock);
    pthread_mutex_lock(&end->lock);
    int64_t end_ns = end->time_ns;
    pthread_mutex_unlock(&end->lock);
    *out_ms = (double)(end_ns - start_ns) * 1e-6;
    return XHAL_OK;
}
