/*
 * Timing: conf_time_runs, the one timing loop of xhal (the suite's utilization cases here,
 * `xhal bench` in tools/bench_run.c), and one utilization case timed with it. The op is timed
 * by the stream's own events (device time, not the host's view of it): warm-up, then
 * back-to-back runs with an event between each two, so that each run has its own time and the
 * median is not pulled by one slow run. Inputs smaller than the last-level cache are rotated
 * over several copies, so that the next run does not find its operands already cached by the
 * previous one. Outputs are poisoned with NaN first and checked for NaN/Inf afterwards: a kernel
 * that writes nothing cannot post a fine time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

/* Operands start on 256-byte boundaries, which every device's loads are happy with. */
#define ALIGNMENT 256u
/* The random block tiled over inputs: values repeat with this period, which no kernel notices. */
#define RANDOM_BLOCK (1u << 20)
#define MAX_COPIES 64
/* A warm-up never runs more often than this, however short the op. */
#define MAX_WARMUP_RUNS 10000
#define MAX_OPERANDS 5
/* Output bytes checked for NaN after the runs (the start of copy 0's output). */
#define CHECK_BYTES (256ull << 20)

typedef struct operand {
    xhal_dtype_t dtype;
    uint64_t bytes;  /* one copy */
    uint64_t stride; /* bytes between copies */
    int output;
    /* Raw bytes (a quantized B): random bytes AND this mask, which keeps FP8 codes finite;
     * 0 for elements of `dtype`. */
    unsigned raw_mask;
    xhal_buffer_t *buffer;
} operand_t;

typedef struct job {
    conf_timer_t *timer;
    conf_plan_item_t *item;
    conf_serving_arrays_t arrays; /* a serving shape's index arrays (conf_serving.c) */
    xhal_buffer_t *index[4];      /* ... uploaded: cu_seqlens_q, cu_seqlens_kv, seqlens_kv, table */
    operand_t operands[MAX_OPERANDS];
    int count;
    int copies;
    char *note;
    size_t note_size;
} job_t;

xhal_status_t conf_timer_init(conf_timer_t *t, xhal_device_t *device,
                              const xhal_device_info_t *info, int max_repeats) {
    memset(t, 0, sizeof *t);
    t->device = device;
    t->info = info;
    t->max_repeats = max_repeats;
    t->target_s = 0.2;
    /* Twice the host's last-level cache; a GPU's is not in the API, so 2x 256 MiB covers MI300X's
     * Infinity Cache and H100's 50 MiB L2 alike. */
    t->rotate_bytes = (uint64_t)conf_rotate_bytes(info);
    t->memory_budget = info->memory_bytes ? info->memory_bytes / 4 : 1ull << 30;
    t->seed = 1;
    xhal_status_t status = xhal_stream_create(device, &t->stream);
    if (status != XHAL_OK) return status;
    t->events = calloc((size_t)max_repeats + 1, sizeof *t->events);
    if (!t->events) return XHAL_OUT_OF_MEMORY;
    for (int i = 0; i <= max_repeats; i++) {
        status = xhal_event_create(device, &t->events[i]);
        if (status != XHAL_OK) return status;
    }
    return XHAL_OK;
}

void conf_timer_free(conf_timer_t *t) {
    for (int i = 0; t->events && i <= t->max_repeats; i++)
        xhal_event_destroy(t->events[i]);
    free(t->events);
    xhal_stream_destroy(t->stream);
    memset(t, 0, sizeof *t);
}

/* Records the failed call in the note; returns 0. */
static int failed(job_t *job, xhal_status_t status, const char *context) {
    conf_perf_t *r = &job->item->result;
    const char *message = xhal_last_error();
    size_t length = strlen(context);
    if (strncmp(message, context, length) == 0 && message[length] == ':') message += length + 2;
    /* No device memory for a case sized from the datasheet is a limit, not a wrong answer. */
    r->outcome = status == XHAL_OUT_OF_MEMORY || status == XHAL_UNSUPPORTED ? CONF_SKIP : CONF_FAIL;
    conf_format(r->note, sizeof r->note, "%s: %s: %s", context, xhal_status_name(status), message);
    return 0;
}

static void add_operand(job_t *job, xhal_dtype_t dtype, double elements, int output) {
    operand_t *o = &job->operands[job->count++];
    o->dtype = dtype;
    o->bytes = (uint64_t)elements * xhal_dtype_size(dtype);
    o->stride = (o->bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    o->output = output;
}

/* A quantized B's elements as raw bytes (INT4: two a byte), and its scales. */
static void add_quantized_b(job_t *job, const xhal_gemm_desc_t *d) {
    double elements = (double)d->n * (double)d->ldb;
    int int4 = d->b_quant == XHAL_QUANT_INT4;
    add_operand(job, XHAL_DTYPE_F32, 0, 0);
    operand_t *b = &job->operands[job->count - 1];
    b->bytes = (uint64_t)(int4 ? elements / 2 : elements);
    b->stride = (b->bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    /* Clearing bit 6 keeps an FP8 exponent below all ones: no Inf or NaN. */
    b->raw_mask =
        d->b_quant == XHAL_QUANT_FP8_E4M3 || d->b_quant == XHAL_QUANT_FP8_E5M2 ? 0xbfu : 0xffu;
    int64_t groups = d->b_scale_mode == XHAL_SCALE_PER_GROUP
                         ? (d->k + d->b_group_size - 1) / d->b_group_size
                         : 1;
    add_operand(job, d->b_scale_type,
                d->b_scale_mode == XHAL_SCALE_PER_TENSOR ? 1.0 : (double)(d->n * groups), 0);
}

static void describe_operands(job_t *job) {
    conf_plan_item_t *item = job->item;
    if (item->result.op == CONF_OP_GEMM) {
        /* A, B (quantized: bytes, then scales), C last: the output. */
        const xhal_gemm_desc_t *d = &item->gemm;
        add_operand(job, d->a_type, (double)d->m * (double)d->k, 0);
        if (d->b_quant != XHAL_QUANT_NONE)
            add_quantized_b(job, d);
        else
            add_operand(job, d->b_type, (double)d->k * (double)d->n, 0);
        add_operand(job, d->c_type, (double)d->m * (double)(d->gated ? d->n / 2 : d->n), 1);
    } else if (item->result.op == CONF_OP_ATTENTION && item->serving.kind) {
        double e[4];
        conf_serving_elements(&item->attention, &job->arrays, e);
        for (int i = 0; i < 4; i++)
            add_operand(job, item->attention.dtype, e[i], i == 3);
    } else if (item->result.op == CONF_OP_ATTENTION) {
        const xhal_attention_desc_t *d = &item->attention;
        double q = (double)(d->batch * d->heads_q * d->seq_q * d->head_dim);
        double kv = (double)(d->batch * d->heads_kv * d->seq_kv * d->head_dim);
        add_operand(job, d->dtype, q, 0);
        add_operand(job, d->dtype, kv, 0);
        add_operand(job, d->dtype, kv, 0);
        add_operand(job, d->dtype, q, 1);
    } else {
        add_operand(job, XHAL_DTYPE_F32, (double)(item->copy_bytes / 4), 0);
        add_operand(job, XHAL_DTYPE_F32, (double)(item->copy_bytes / 4), 1);
    }
}

/* How many copies of the operands to rotate over: enough to overflow the cache, if memory allows.
 */
static int choose_copies(const job_t *job) {
    uint64_t working = 0;
    for (int i = 0; i < job->count; i++)
        working += job->operands[i].stride;
    return conf_rotation((double)working, (double)job->timer->rotate_bytes, MAX_COPIES,
                         (double)job->timer->memory_budget);
}

/* Fills an input with random values: one block uploaded, then doubled by device copies. */
static int fill_random(job_t *job, operand_t *o, uint64_t total) {
    conf_timer_t *t = job->timer;
    size_t size = xhal_dtype_size(o->dtype);
    uint64_t block = total < RANDOM_BLOCK ? total : RANDOM_BLOCK;
    void *host = malloc(block);
    if (!host) return failed(job, XHAL_OUT_OF_MEMORY, "malloc");
    uint64_t rng = t->seed ^ (uint64_t)o->dtype << 40 ^ total;
    if (o->raw_mask)
        for (size_t i = 0; i < block; i++)
            ((unsigned char *)host)[i] = (unsigned char)(conf_random(&rng) & o->raw_mask);
    else
        for (size_t i = 0; i < block / size; i++)
            conf_store(host, o->dtype, i, conf_random_value(&rng));
    xhal_status_t status = xhal_copy_h2d(t->stream, o->buffer, 0, host, block);
    /* The upload reads `host` asynchronously: it must live until the stream is synchronized. */
    if (status == XHAL_OK) status = xhal_stream_synchronize(t->stream);
    free(host);
    if (status != XHAL_OK) return failed(job, status, "xhal_copy_h2d");
    for (uint64_t filled = block; filled < total;) {
        uint64_t n = filled < total - filled ? filled : total - filled;
        status = xhal_copy_d2d(t->stream, o->buffer, filled, o->buffer, 0, n);
        if (status != XHAL_OK) return failed(job, status, "xhal_copy_d2d");
        filled += n;
    }
    return 1;
}

static int allocate(job_t *job) {
    conf_timer_t *t = job->timer;
    for (int i = 0; i < job->count; i++) {
        operand_t *o = &job->operands[i];
        uint64_t total = o->stride * (uint64_t)(job->copies - 1) + o->bytes;
        xhal_status_t status = xhal_buffer_alloc(t->device, total, XHAL_MEMORY_DEVICE, &o->buffer);
        if (status != XHAL_OK) return failed(job, status, "xhal_buffer_alloc");
        if (o->output) {
            uint32_t nan = conf_nan_bits(o->dtype);
            size_t pattern_size = xhal_dtype_size(o->dtype);
            uint16_t nan16 = (uint16_t)nan;
            const void *pattern = pattern_size == 4 ? (const void *)&nan : (const void *)&nan16;
            uint64_t span = total / pattern_size * pattern_size;
            status = xhal_fill(t->stream, o->buffer, 0, span, pattern, pattern_size);
            if (status != XHAL_OK) return failed(job, status, "xhal_fill");
        } else if (job->item->result.op == CONF_OP_COPY) {
            /* Values do not matter to a copy; a fill is faster than random numbers. */
            static const uint32_t pattern = 0x3F800000u; /* 1.0f */
            status = xhal_fill(t->stream, o->buffer, 0, total / 4 * 4, &pattern, 4);
            if (status != XHAL_OK) return failed(job, status, "xhal_fill");
        } else if (!fill_random(job, o, total)) {
            return 0;
        }
    }
    xhal_status_t status = xhal_stream_synchronize(t->stream);
    return status == XHAL_OK ? 1 : failed(job, status, "xhal_stream_synchronize");
}

/* Enqueues run number `run`, on copy run % copies. */
static int enqueue(job_t *job, int run) {
    conf_timer_t *t = job->timer;
    conf_plan_item_t *item = job->item;
    uint64_t copy = (uint64_t)(run % job->copies);
    operand_t *o = job->operands;
    xhal_status_t status;
    if (item->result.op == CONF_OP_GEMM) {
        xhal_gemm_desc_t d = item->gemm;
        const operand_t *c = &o[job->count - 1];
        d.a = o[0].buffer, d.b = o[1].buffer, d.c = c->buffer;
        d.a_offset = copy * o[0].stride;
        d.b_offset = copy * o[1].stride;
        d.c_offset = copy * c->stride;
        if (d.b_quant != XHAL_QUANT_NONE) {
            d.b_scales = o[2].buffer;
            d.b_scales_offset = copy * o[2].stride;
        }
        status = xhal_gemm(t->stream, &d);
        if (status != XHAL_OK) return failed(job, status, "xhal_gemm");
    } else if (item->result.op == CONF_OP_ATTENTION) {
        xhal_attention_desc_t d = item->attention;
        d.q = o[0].buffer, d.k = o[1].buffer, d.v = o[2].buffer, d.o = o[3].buffer;
        d.q_offset = copy * o[0].stride;
        d.k_offset = copy * o[1].stride;
        d.v_offset = copy * o[2].stride;
        d.o_offset = copy * o[3].stride;
        d.cu_seqlens_q = job->index[0];
        d.cu_seqlens_kv = job->index[1];
        d.seqlens_kv = job->index[2];
        d.block_table = job->index[3];
        status = xhal_attention(t->stream, &d);
        if (status != XHAL_OK) return failed(job, status, "xhal_attention");
    } else {
        status = xhal_copy_d2d(t->stream, o[1].buffer, copy * o[1].stride, o[0].buffer,
                               copy * o[0].stride, item->copy_bytes);
        if (status != XHAL_OK) return failed(job, status, "xhal_copy_d2d");
    }
    return 1;
}

static xhal_status_t enqueue_run(void *context, int run) {
    return enqueue(context, run) ? XHAL_OK : XHAL_INTERNAL; /* the job's note says what failed */
}

/* Counts NaN/Inf in copy 0 of the output, which the warm-up wrote. */
static int check_output(job_t *job) {
    conf_timer_t *t = job->timer;
    const operand_t *o = &job->operands[job->count - 1];
    if (job->item->result.op == CONF_OP_COPY) return 1;
    uint64_t bytes = o->bytes < CHECK_BYTES ? o->bytes : CHECK_BYTES;
    void *host = malloc(bytes);
    if (!host) return failed(job, XHAL_OUT_OF_MEMORY, "malloc");
    xhal_status_t status = xhal_copy_d2h(t->stream, host, o->buffer, 0, bytes);
    if (status == XHAL_OK) status = xhal_stream_synchronize(t->stream);
    if (status != XHAL_OK) {
        free(host);
        return failed(job, status, "xhal_copy_d2h");
    }
    size_t count = bytes / xhal_dtype_size(o->dtype), bad = 0;
    for (size_t i = 0; i < count; i++)
        bad += !isfinite(conf_load(host, o->dtype, i));
    free(host);
    if (!bad) return 1;
    job->item->result.outcome = CONF_FAIL;
    conf_format(job->item->result.note, sizeof job->item->result.note,
                "%zu of %zu outputs are NaN or Inf after the timed runs", bad, count);
    return 0;
}

/* A serving shape's index arrays, uploaded into small buffers of their own (not rotated). */
static int upload_indices(job_t *job) {
    conf_timer_t *t = job->timer;
    const conf_serving_arrays_t *a = &job->arrays;
    const xhal_attention_desc_t *d = &job->item->attention;
    const int32_t *host[4] = {a->cu_q, a->cu_kv, a->lens_kv, a->table};
    int64_t counts[4] = {d->batch + 1, d->batch + 1, d->batch, a->table_count};
    for (int i = 0; i < 4; i++) {
        if (!host[i]) continue;
        uint64_t bytes = (uint64_t)counts[i] * sizeof(int32_t);
        xhal_status_t status =
            xhal_buffer_alloc(t->device, bytes, XHAL_MEMORY_DEVICE, &job->index[i]);
        if (status != XHAL_OK) return failed(job, status, "xhal_buffer_alloc");
        status = xhal_copy_h2d(t->stream, job->index[i], 0, host[i], bytes);
        if (status != XHAL_OK) return failed(job, status, "xhal_copy_h2d");
    }
    xhal_status_t status = xhal_stream_synchronize(t->stream);
    return status == XHAL_OK ? 1 : failed(job, status, "xhal_stream_synchronize");
}

static int supported(job_t *job) {
    conf_plan_item_t *item = job->item;
    xhal_status_t status = XHAL_OK;
    const char *context = "";
    if (item->result.op == CONF_OP_GEMM) {
        status = xhal_gemm_supports(job->timer->device, &item->gemm);
        context = "xhal_gemm_supports";
    } else if (item->result.op == CONF_OP_ATTENTION) {
        /* Asked with the index buffers set: which are non-NULL says which features run. */
        if (item->serving.kind && !upload_indices(job)) return 0;
        xhal_attention_desc_t d = item->attention;
        d.cu_seqlens_q = job->index[0];
        d.cu_seqlens_kv = job->index[1];
        d.seqlens_kv = job->index[2];
        d.block_table = job->index[3];
        status = xhal_attention_supports(job->timer->device, &d);
        context = "xhal_attention_supports";
    }
    if (status == XHAL_OK) return 1;
    failed(job, status, context);
    if (status == XHAL_UNSUPPORTED) /* The backend's reason alone, as a correctness SKIP says. */
        conf_format(item->result.note, sizeof item->result.note, "%s", xhal_last_error());
    return 0;
}

static void measure(job_t *job) {
    conf_timer_t *t = job->timer;
    conf_perf_t *r = &job->item->result;
    /* One warm-up run; then as many runs as fit the target (see conf_timing_t). */
    conf_timing_t timing = {
        .warmup_runs = 1, .repeats = t->max_repeats, .target_seconds = t->target_s};
    conf_timed_t timed;
    xhal_status_t status = conf_time_runs(t->stream, t->events, &timing, enqueue_run, job, &timed);
    if (status != XHAL_OK) {
        if (timed.failed_call) failed(job, status, timed.failed_call);
        return;
    }
    if (!check_output(job)) return;
    r->repeats = timed.runs;
    r->copies = job->copies;
    r->ms_min = timed.min_ms;
    r->ms = timed.median_ms;
}

/* ---- The timing loop ---- */

int conf_warming(int runs, int min_runs, double seconds, double min_seconds) {
    if (min_runs <= 0) return 0; /* asked for no warm-up at all */
    return runs < min_runs || (seconds < min_seconds && runs < MAX_WARMUP_RUNS);
}

int conf_rotation(double bytes, double cache_bytes, int max_copies, double memory_budget) {
    if (!(bytes > 0) || bytes >= cache_bytes) return 1;
    double copies = ceil(cache_bytes / bytes);
    if (copies > max_copies) copies = max_copies;
    while (copies > 1 && memory_budget > 0 && copies * bytes > memory_budget)
        copies--;
    return copies < 1 ? 1 : (int)copies;
}

double conf_rotate_bytes(const xhal_device_info_t *info) {
    if (info->type == XHAL_DEVICE_TYPE_CPU) return 2.0 * (double)conf_host_cache_bytes(32u << 20);
    return (double)(512ull << 20);
}

/* Records the status and the call that failed; returns the status. */
static xhal_status_t stop(conf_timed_t *out, xhal_status_t status, const char *call) {
    out->failed_call = call;
    return status;
}

/* Runs first..first+repeats-1 back to back, events[i] before run i, one synchronize. */
static xhal_status_t timed_back_to_back(xhal_stream_t *stream, xhal_event_t *const *events,
                                        conf_enqueue_fn enqueue, void *context, int first,
                                        int repeats, double *times, conf_timed_t *out) {
    xhal_status_t status = xhal_event_record(events[0], stream);
    if (status != XHAL_OK) return stop(out, status, "xhal_event_record");
    for (int i = 0; i < repeats; i++) {
        if ((status = enqueue(context, first + i)) != XHAL_OK) return status;
        if ((status = xhal_event_record(events[i + 1], stream)) != XHAL_OK)
            return stop(out, status, "xhal_event_record");
    }
    if ((status = xhal_stream_synchronize(stream)) != XHAL_OK)
        return stop(out, status, "xhal_stream_synchronize");
    for (int i = 0; i < repeats; i++)
        if ((status = xhal_event_elapsed_ms(events[i], events[i + 1], &times[i])) != XHAL_OK)
            return stop(out, status, "xhal_event_elapsed_ms");
    return XHAL_OK;
}

/* Each run between events[0] and events[1], synchronized before the next is enqueued. */
static xhal_status_t timed_alone(xhal_stream_t *stream, xhal_event_t *const *events,
                                 conf_enqueue_fn enqueue, void *context, int first, int repeats,
                                 double *times, conf_timed_t *out) {
    for (int i = 0; i < repeats; i++) {
        xhal_status_t status = xhal_event_record(events[0], stream);
        if (status != XHAL_OK) return stop(out, status, "xhal_event_record");
        if ((status = enqueue(context, first + i)) != XHAL_OK) return status;
        if ((status = xhal_event_record(events[1], stream)) != XHAL_OK)
            return stop(out, status, "xhal_event_record");
        if ((status = xhal_stream_synchronize(stream)) != XHAL_OK)
            return stop(out, status, "xhal_stream_synchronize");
        if ((status = xhal_event_elapsed_ms(events[0], events[1], &times[i])) != XHAL_OK)
            return stop(out, status, "xhal_event_elapsed_ms");
    }
    return XHAL_OK;
}

xhal_status_t conf_time_runs(xhal_stream_t *stream, xhal_event_t *const *events,
                             const conf_timing_t *timing, conf_enqueue_fn enqueue, void *context,
                             conf_timed_t *out) {
    memset(out, 0, sizeof *out);
    xhal_status_t status;
    int run = 0;
    double last_ms = 0, start = conf_now();
    /* Warm-up: each run synchronized, the last one timed to size the timed part. */
    for (; conf_warming(run, timing->warmup_runs, conf_now() - start, timing->warmup_seconds);
         run++)
        if ((status = timed_alone(stream, events, enqueue, context, run, 1, &last_ms, out)) !=
            XHAL_OK)
            return status;
    int repeats = timing->repeats;
    if (timing->target_seconds > 0 && run > 0 && last_ms > 0) {
        double fit = timing->target_seconds / (last_ms * 1e-3);
        repeats = fit < 3 ? 3 : fit > timing->repeats ? timing->repeats : (int)fit;
        /* A device far slower than its peaks say: more runs only cost time. */
        if (last_ms * 1e-3 > 10 * timing->target_seconds) repeats = 1;
        if (repeats > timing->repeats) repeats = timing->repeats;
    }
    if (repeats < 1) repeats = 1;
    double *times = calloc((size_t)repeats, sizeof *times);
    if (!times) return stop(out, XHAL_OUT_OF_MEMORY, "calloc");
    if (timing->synchronize_each)
        status = timed_alone(stream, events, enqueue, context, run, repeats, times, out);
    else
        status = timed_back_to_back(stream, events, enqueue, context, run, repeats, times, out);
    if (status == XHAL_OK) {
        out->runs = repeats;
        out->min_ms = times[0];
        for (int i = 1; i < repeats; i++)
            out->min_ms = times[i] < out->min_ms ? times[i] : out->min_ms;
        out->median_ms = conf_median(times, (size_t)repeats);
    }
    free(times);
    return status;
}

void conf_time_item(conf_timer_t *t, conf_plan_item_t *item, const conf_peaks_t *peaks) {
    job_t job;
    memset(&job, 0, sizeof job);
    job.timer = t;
    job.item = item;
    conf_perf_t *r = &item->result;
    if (r->outcome == CONF_SKIP) return;
    if (item->serving.kind) {
        xhal_attention_desc_t d = item->attention;
        if (conf_serving_build(&item->serving, &d, &job.arrays) != 0) {
            failed(&job, XHAL_OUT_OF_MEMORY, "conf_serving_build");
            return;
        }
    }
    describe_operands(&job);
    job.copies = choose_copies(&job);
    if (supported(&job) && allocate(&job)) measure(&job);
    /* Whatever failed, nothing stays queued on the buffers freed below. */
    (void)xhal_stream_synchronize(t->stream);
    for (int i = 0; i < job.count; i++)
        xhal_buffer_free(job.operands[i].buffer);
    for (int i = 0; i < 4; i++)
        xhal_buffer_free(job.index[i]);
    conf_serving_free(&job.arrays);
    if (r->outcome == CONF_PASS && peaks) {
        double flops = peaks->flops[r->dtype];
        conf_metrics_apply(r, flops, peaks->bandwidth);
        /* Above the roof is not a fast kernel but a peak set too low: say which one. */
        if (r->roofline > 1.05) {
            int compute = r->flops > 0 && r->bound >= flops;
            conf_format(r->note, sizeof r->note,
                        "above its roof: the %s %s peak used is below what the device reached",
                        compute ? peaks->flops_used[r->dtype] : peaks->bandwidth_used,
                        compute ? "FLOP/s" : "bandwidth");
        }
    } else if (r->outcome == CONF_PASS) {
        conf_metrics_apply(r, 0, 0);
    }
}
