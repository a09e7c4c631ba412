/*
 * The CPU backend's private declarations: the objects behind the opaque handles of
 * xhal_backend.h, the stream's command queue, and the helpers the op files share.
 *
 * The CPU backend is the reference port. Each file holds one concept:
 *   cpu_backend.c    the entry table and init/shutdown
 *   cpu_device.c     the one device: what it is (CPUID, /proc/cpuinfo), its measured clock, peaks
 *   cpu_pool.c       the worker threads that every op splits its work across
 *   cpu_memory.c     buffers (plain aligned host memory)
 *   cpu_stream.c     streams: an in-order command queue drained by one thread per stream
 *   cpu_event.c      events: points on a stream that other streams and the host wait for
 *   cpu_convert.c    f32/f16/bf16 rows to and from f32
 *   cpu_gemm.c       C = alpha op(A) op(B) + beta C
 *   cpu_attention.c  O = softmax(scale Q K^T + mask) V with a streaming softmax
 *   cpu_attention_merge.c  two partial attention outputs merged by their log-sum-exps
 * A GPU port has the same shape: its stream is the vendor's queue, its pool is the GPU itself.
 */
#ifndef XHAL_CPU_INTERNAL_H
#define XHAL_CPU_INTERNAL_H

#include <stdatomic.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal_backend.h"

#include "cpu_pool.h"

/* Buffers and scratch are aligned to a cache line, which is also the widest SIMD register. */
#define CPU_ALIGNMENT 64

/* Inner loops run over chunks of this many floats (64 bytes) so that the compiler vectorizes
 * them at -O2 without runtime checks; scratch rows are padded to a multiple of it. */
#define CPU_CHUNK 16

/* ---- Objects behind the handles ---- */

struct xhal_be_state {
    const xhal_host_api_t *host;
};

struct xhal_be_device {
    const xhal_host_api_t *host;
    cpu_pool_t *pool; /* the worker threads every op of every stream of this device shares */
    xhal_device_info_t info;
    /*
     * Scratch memory ops reuse from one call to the next: allocating (and page-faulting)
     * megabytes per call would cost more than a small GEMM itself. Held with scratch_lock
     * from cpu_device_scratch until the op's cpu_pool_run has returned.
     */
    pthread_mutex_t scratch_lock;
    float *scratch;
    size_t scratch_floats;
    int64_t spin_ns;                 /* how long idle threads poll before they sleep (cpu_spin.h) */
    struct cpu_gemm_plan *gemm_plan; /* which GEMM path each shape class takes (cpu_gemm_plan.c) */
};

struct xhal_be_buffer {
    void *data; /* CPU_ALIGNMENT-aligned host memory */
    uint64_t size;
};

typedef struct cpu_command cpu_command_t;

/* Runs one queued command on the stream's worker thread; failures go to cpu_stream_fail. */
typedef void (*cpu_command_fn)(xhal_be_stream_t *stream, void *payload);

struct cpu_command {
    cpu_command_t *next;
    cpu_command_fn run;
    const char *what; /* "gemm", "copy_h2d", ...: for debug logs */
    /* The copied arguments of the command follow, aligned for any type. */
    _Alignas(max_align_t) unsigned char payload[];
};

struct xhal_be_stream {
    xhal_be_device_t *device;
    pthread_t worker;
    pthread_mutex_t lock;     /* protects everything below */
    pthread_cond_t has_work;  /* signalled when a command is pushed or the stream stops */
    pthread_cond_t went_idle; /* signalled when the queue is empty and no command runs */
    cpu_command_t *head, *tail;
    /* Commands pushed and not yet finished; read without the lock by the spinning worker and
     * synchronize (cpu_spin.h), written with it. */
    _Atomic uint64_t outstanding;
    /* Host threads asleep in synchronize: they will want a core when woken, so the worker does
     * not poll for work while there are any. */
    _Atomic int sleepers;
    int running;          /* the worker is executing a command it has popped */
    _Atomic int stopping; /* stream_destroy: drain the queue, then exit */
    /* The first error queued work met since the last synchronize (sticky, as on a GPU). */
    xhal_status_t error;
    char error_message[256];
};

/* ---- cpu_stream.c: the command queue ---- */

/*
 * Allocates a command with `payload_size` bytes of payload for the caller to fill, or sets
 * OUT_OF_MEMORY and returns NULL. Splitting allocation from cpu_stream_push lets a caller fail
 * before it changes any state, and push never fails.
 */
cpu_command_t *cpu_command_new(xhal_be_stream_t *stream, cpu_command_fn run, const char *what,
                               size_t payload_size);

/* Appends `command` to the stream's queue; the stream's worker frees it once it has run. */
void cpu_stream_push(xhal_be_stream_t *stream, cpu_command_t *command);

/* From the worker: records the stream's sticky error unless an earlier one is pending. */
void cpu_stream_fail(xhal_be_stream_t *stream, xhal_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Entries of the table, by file ---- */

uint32_t cpu_device_count(xhal_be_state_t *state);
xhal_status_t cpu_device_open(xhal_be_state_t *state, uint32_t index,
                              xhal_be_device_t **out_device);
void cpu_device_close(xhal_be_device_t *device);
xhal_status_t cpu_device_info(xhal_be_device_t *device, xhal_device_info_t *out_info);

xhal_status_t cpu_buffer_alloc(xhal_be_device_t *device, uint64_t size, xhal_memory_kind_t kind,
                               xhal_be_buffer_t **out_buffer);
void cpu_buffer_free(xhal_be_device_t *device, xhal_be_buffer_t *buffer);
xhal_status_t cpu_buffer_host_pointer(xhal_be_device_t *device, xhal_be_buffer_t *buffer,
                                      xhal_memory_kind_t kind, void **out_ptr);

xhal_status_t cpu_stream_create(xhal_be_device_t *device, xhal_be_stream_t **out_stream);
void cpu_stream_destroy(xhal_be_stream_t *stream);
xhal_status_t cpu_stream_synchronize(xhal_be_stream_t *stream);
xhal_status_t cpu_copy_h2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           const void *src, uint64_t size);
xhal_status_t cpu_copy_d2h(xhal_be_stream_t *stream, void *dst, xhal_be_buffer_t *src,
                           uint64_t src_offset, uint64_t size);
xhal_status_t cpu_copy_d2d(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t dst_offset,
                           xhal_be_buffer_t *src, uint64_t src_offset, uint64_t size);
xhal_status_t cpu_fill(xhal_be_stream_t *stream, xhal_be_buffer_t *dst, uint64_t offset,
                       uint64_t size, const void *pattern, size_t pattern_size);

xhal_status_t cpu_event_create(xhal_be_device_t *device, xhal_be_event_t **out_event);
void cpu_event_destroy(xhal_be_event_t *event);
xhal_status_t cpu_event_record(xhal_be_event_t *event, xhal_be_stream_t *stream);
xhal_status_t cpu_stream_wait_event(xhal_be_stream_t *stream, xhal_be_event_t *event);
xhal_status_t cpu_event_synchronize(xhal_be_event_t *event);
xhal_status_t cpu_event_elapsed_ms(xhal_be_event_t *start, xhal_be_event_t *end, double *out_ms);

xhal_status_t cpu_gemm_supports(xhal_be_device_t *device, const xhal_gemm_desc_t *desc);
xhal_status_t cpu_gemm(xhal_be_stream_t *stream, const xhal_gemm_desc_t *desc,
                       const xhal_be_gemm_buffers_t *buffers);

xhal_status_t cpu_attention_supports(xhal_be_device_t *device, const xhal_attention_desc_t *desc);
xhal_status_t cpu_attention(xhal_be_stream_t *stream, const xhal_attention_desc_t *desc,
                            const xhal_be_attention_buffers_t *buffers);
xhal_status_t cpu_attention_merge_supports(xhal_be_device_t *device,
                                           const xhal_attention_merge_desc_t *desc);
xhal_status_t cpu_attention_merge(xhal_be_stream_t *stream, const xhal_attention_merge_desc_t *desc,
                                  const xhal_be_merge_buffers_t *buffers);

/* ---- cpu_gemm_plan.c: which path a GEMM takes ---- */

typedef enum cpu_gemm_path {
    CPU_GEMM_PACKED = 0, /* the packed, cache-blocked engine (kernels/cpu/gemm_*) */
    CPU_GEMM_GEMV = 1,   /* B read in place, once (kernels/cpu/gemv_*): m <= XK_GEMV_MAX_M */
} cpu_gemm_path_t;

typedef struct cpu_gemm_plan cpu_gemm_plan_t;

/* Runs the GEMM `desc` describes (its buffers are not read) on operands whose first elements
 * are at a, b and c, by `path`, on the device's pool; 0, or -1 when scratch cannot be had. */
typedef int (*cpu_gemm_runner_fn)(xhal_be_device_t *device, const xhal_gemm_desc_t *desc,
                                  const void *a, const void *b, void *c, cpu_gemm_path_t path);

/* A device's plan (reads XHAL_CPU_GEMM), or NULL when memory runs out; destroy accepts NULL. */
cpu_gemm_plan_t *cpu_gemm_plan_create(const xhal_host_api_t *host);
void cpu_gemm_plan_destroy(cpu_gemm_plan_t *plan);

/* The path for `desc`, measuring both with `run` the first time its class is seen with a large
 * B. Called on a stream's worker without scratch_lock held. */
cpu_gemm_path_t cpu_gemm_plan_choose(xhal_be_device_t *device, const xhal_gemm_desc_t *desc,
                                     cpu_gemm_runner_fn run);

/*
 * Returns the device's scratch grown to at least `floats` floats (64-byte aligned), or NULL when
 * memory runs out. The caller holds device->scratch_lock while it uses the memory.
 */
float *cpu_device_scratch(xhal_be_device_t *device, size_t floats);

/* ---- cpu_convert.c: element conversion and the shared inner loop ---- */

/* dst[i] = src[i * stride] as f32, for i < count; `stride` counts elements of `type`. */
void cpu_load_f32(float *dst, const void *src, xhal_dtype_t type, size_t count, int64_t stride);

/* Contiguous dst[i] = src[i] converted to `type` (round to nearest even), for i < count. */
void cpu_store_f32(void *dst, const float *src, xhal_dtype_t type, size_t count);

/* Bytes per element of a dtype the core accepted (f32, f16, bf16). */
static inline size_t cpu_dtype_size(xhal_dtype_t type) {
    return type == XHAL_DTYPE_F32 ? 4 : 2;
}

/* Rounds `count` up to a multiple of CPU_CHUNK. */
static inline size_t cpu_round_chunk(size_t count) {
    return (count + CPU_CHUNK - 1) / CPU_CHUNK * CPU_CHUNK;
}

/*
 * y[i] += a * x[i] for i < n, n a multiple of CPU_CHUNK: the one inner loop of GEMM and
 * attention. The fixed-length inner loop and `restrict` are what let the compiler turn it into
 * SIMD without alias checks or a scalar tail.
 */
static inline void cpu_axpy(float *restrict y, float a, const float *restrict x, size_t n) {
    for (size_t c = 0; c < n; c += CPU_CHUNK)
        for (size_t u = 0; u < CPU_CHUNK; u++)
            y[c + u] += a * x[c + u];
}

/* Rounds `size` up to a multiple of CPU_ALIGNMENT; 0 when that overflows. */
static inline size_t cpu_round_alignment(size_t size) {
    if (size > SIZE_MAX - (CPU_ALIGNMENT - 1)) return 0;
    return (size + CPU_ALIGNMENT - 1) / CPU_ALIGNMENT * CPU_ALIGNMENT;
}

/* A name for an errno value returned by pthreads ("EAGAIN"), for error messages. */
const char *cpu_errno_name(int error);

#endif /* XHAL_CPU_INTERNAL_H */
