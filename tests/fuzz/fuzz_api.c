/*
 * libFuzzer target: sequences of public API calls on the CPU device, read from the input as a
 * small byte code. Buffers, streams and events live in slots; each instruction names its slots
 * and arguments, and the arguments mix small values, edges (0, -1, INT64_MIN/MAX, 2^31, 2^62)
 * and sizes of the buffers at hand, so that validation sees both what it must refuse and what
 * it must accept, and accepted ops run (ASan/UBSan watch the kernels too).
 *
 * What is checked beyond the sanitizers: every failing call returns a status xhal defines with a
 * message; nothing aborts, hangs (libFuzzer's -timeout) or leaks (LeakSanitizer). The harness
 * keeps the application's side of the contract: it waits for queued work before it frees what
 * the work uses, and ops it would take seconds to run are only asked about (xhal_*_supports).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xhal/xhal.h"

enum { SLOTS = 4, MAX_BUFFER = 1 << 18, HOST_BYTES = 1 << 18 };
/* Multiply-adds an accepted op may run: above, the harness only asks whether it is supported. */
#define WORK_BUDGET ((uint64_t)1 << 22)

typedef struct reader {
    const uint8_t *data;
    size_t size, at;
} reader_t;

static uint8_t byte(reader_t *r) {
    return r->at < r->size ? r->data[r->at++] : 0;
}

static uint64_t bits(reader_t *r, int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; i++)
        value = value << 8 | byte(r);
    return value;
}

typedef struct state {
    xhal_device_t *device;
    xhal_buffer_t *buffers[SLOTS];
    uint64_t sizes[SLOTS];
    xhal_stream_t *streams[SLOTS];
    xhal_event_t *events[SLOTS];
} state_t;

static unsigned char host[HOST_BYTES];

/* An int64 argument: small most of the time, an edge or a buffer's size otherwise. */
static int64_t value(reader_t *r, const state_t *s) {
    uint8_t code = byte(r);
    switch (code % 8) {
    case 0:
    case 1:
    case 2:
        return code / 8; /* 0 .. 31 */
    case 3:
        return (int64_t)bits(r, 2);
    case 4: {
        static const int64_t edges[] = {-1,        0,
                                        1,         INT64_MIN,
                                        INT64_MAX, 1LL << 31,
                                        1LL << 62, (1LL << 31) - 1,
                                        1LL << 32, -(1LL << 32),
                                        65536,     4097};
        return edges[byte(r) % (sizeof edges / sizeof *edges)];
    }
    case 5:
        return (int64_t)s->sizes[byte(r) % SLOTS] / (1 + byte(r) % 4);
    case 6:
        return -(int64_t)(code / 8);
    default:
        return (int64_t)bits(r, 8);
    }
}

static uint64_t offset(reader_t *r, const state_t *s) {
    return (uint64_t)value(r, s) * (byte(r) % 2 ? 1 : 4);
}

/* Calls made and calls accepted, by kind: printed at exit with XHAL_FUZZ_STATS=1, to see that
 * the fuzzer gets past validation (an op that is always refused tests only the refusal). */
enum {
    K_MERGE,
    K_MERGE_ASKED,
    K_ALLOC,
    K_COPY,
    K_FILL,
    K_GEMM,
    K_GEMM_ASKED,
    K_ATTENTION,
    K_ATTENTION_ASKED,
    K_OTHER,
    K_COUNT
};
static const char *const kind_names[K_COUNT] = {
    "merge",     "merge_supports",     "alloc", "copy", "fill", "gemm", "gemm_supports",
    "attention", "attention_supports", "other"};
static unsigned long calls[K_COUNT], accepted[K_COUNT];
static int kind = K_OTHER; /* of the next check() */

static void print_stats(void) {
    for (int i = 0; i < K_COUNT; i++)
        fprintf(stderr, "fuzz_api: %-18s %lu calls, %lu accepted\n", kind_names[i], calls[i],
                accepted[i]);
}

/* A failing call must say what failed, with a status of the header's enum. */
static void check(xhal_status_t status) {
    calls[kind]++;
    accepted[kind] += status == XHAL_OK;
    kind = K_OTHER;
    if (status == XHAL_OK) return;
    if (!strcmp(xhal_status_name(status), "XHAL_UNKNOWN_STATUS") || !xhal_last_error()[0]) abort();
}

static void drain(state_t *s) {
    for (int i = 0; i < SLOTS; i++)
        if (s->streams[i]) (void)xhal_stream_synchronize(s->streams[i]);
}

static xhal_buffer_t *buffer_or_null(reader_t *r, state_t *s) {
    uint8_t b = byte(r);
    return b % 8 < SLOTS ? s->buffers[b % 8] : NULL;
}

static xhal_stream_t *stream_of(reader_t *r, state_t *s) {
    return s->streams[byte(r) % SLOTS];
}

static uint64_t sat_mul(uint64_t a, uint64_t b) {
    uint64_t product;
    return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
}

static uint64_t positive(int64_t v) {
    return v > 0 ? (uint64_t)v : 1;
}

static void gemm(reader_t *r, state_t *s) {
    xhal_gemm_desc_t d;
    xhal_dtype_t dtype = (xhal_dtype_t)(byte(r) % 4);
    xhal_gemm_desc_init(&d, value(r, s), value(r, s), value(r, s), dtype);
    uint8_t edits = byte(r);
    if (edits & 1) d.a_type = (xhal_dtype_t)(byte(r) % 4), d.c_type = (xhal_dtype_t)(byte(r) % 4);
    if (edits & 2) d.trans_a = byte(r) % 3, d.trans_b = byte(r) % 3;
    if (edits & 4) d.lda = value(r, s), d.ldb = value(r, s), d.ldc = value(r, s);
    if (edits & 8) {
        d.batch = value(r, s);
        d.stride_a = value(r, s), d.stride_b = value(r, s), d.stride_c = value(r, s);
    }
    if (edits & 16) d.alpha = (float)(int8_t)byte(r), d.beta = (float)(int8_t)byte(r) / 4;
    if (edits & 32) d.flags = byte(r);
    if (edits & 64) {
        d.bias = buffer_or_null(r, s), d.activation = (xhal_activation_t)(byte(r) % 6);
        d.gated = byte(r) % 3, d.b_quant = (xhal_quant_t)(byte(r) % 6);
    }
    if (edits & 128) d.struct_size = (uint32_t)bits(r, 2);
    d.a = buffer_or_null(r, s), d.b = buffer_or_null(r, s), d.c = buffer_or_null(r, s);
    d.a_offset = offset(r, s), d.b_offset = offset(r, s), d.c_offset = offset(r, s);
    uint64_t work =
        sat_mul(sat_mul(positive(d.m), positive(d.n)), sat_mul(positive(d.k), positive(d.batch)));
    xhal_stream_t *stream = stream_of(r, s);
    if (work > WORK_BUDGET || !stream) {
        kind = K_GEMM_ASKED;
        check(xhal_gemm_supports(s->device, &d));
    } else {
        kind = K_GEMM;
        check(xhal_gemm(stream, &d));
    }
}

static void strides(reader_t *r, const state_t *s, xhal_attention_strides_t *out) {
    out->batch = value(r, s), out->head = value(r, s), out->seq = value(r, s);
}

static void attention(reader_t *r, state_t *s) {
    xhal_attention_desc_t d;
    xhal_dtype_t dtype = (xhal_dtype_t)(byte(r) % 4);
    int64_t batch = value(r, s), hq = value(r, s), hkv = value(r, s), sq = value(r, s);
    int64_t skv = value(r, s), dim = value(r, s);
    xhal_attention_desc_init(&d, batch, hq, hkv, sq, skv, dim, dtype, (xhal_layout_t)(byte(r) % 2));
    uint8_t edits = byte(r);
    if (edits & 1) d.causal = byte(r) % 3;
    if (edits & 2) d.scale = (float)(int8_t)byte(r) / 8;
    if (edits & 4) strides(r, s, &d.q_strides), strides(r, s, &d.o_strides);
    if (edits & 8) strides(r, s, &d.k_strides), strides(r, s, &d.v_strides);
    if (edits & 16) d.flags = byte(r), d.sliding_window = value(r, s);
    if (edits & 32) {
        d.softcap = (float)byte(r);
        d.seqlens_kv = buffer_or_null(r, s), d.block_table = buffer_or_null(r, s);
        d.block_size = value(r, s), d.num_blocks = value(r, s);
        d.max_blocks_per_seq = value(r, s), d.block_table_stride = value(r, s);
    }
    if (edits & 64) {
        d.cu_seqlens_q = buffer_or_null(r, s), d.cu_seqlens_kv = buffer_or_null(r, s);
        d.lse = buffer_or_null(r, s);
        d.cu_seqlens_q_offset = offset(r, s), d.seqlens_kv_offset = offset(r, s);
        d.block_table_offset = offset(r, s), d.lse_offset = offset(r, s);
    }
    if (edits & 128) d.struct_size = (uint32_t)bits(r, 2);
    d.q = buffer_or_null(r, s), d.k = buffer_or_null(r, s);
    d.v = buffer_or_null(r, s), d.o = buffer_or_null(r, s);
    d.q_offset = offset(r, s), d.k_offset = offset(r, s);
    d.v_offset = offset(r, s), d.o_offset = offset(r, s);
    uint64_t work =
        sat_mul(sat_mul(positive(d.batch), positive(d.heads_q)),
                sat_mul(sat_mul(positive(d.seq_q), positive(d.seq_kv)), positive(d.head_dim)));
    xhal_stream_t *stream = stream_of(r, s);
    if (work > WORK_BUDGET || !stream) {
        kind = K_ATTENTION_ASKED;
        check(xhal_attention_supports(s->device, &d));
    } else {
        kind = K_ATTENTION;
        check(xhal_attention(stream, &d));
    }
}

static void merge(reader_t *r, state_t *s) {
    xhal_attention_merge_desc_t d;
    xhal_dtype_t dtype = (xhal_dtype_t)(byte(r) % 4);
    int64_t batch = value(r, s), heads = value(r, s), seq = value(r, s), dim = value(r, s);
    xhal_attention_merge_desc_init(&d, batch, heads, seq, dim, dtype, (xhal_layout_t)(byte(r) % 2));
    uint8_t edits = byte(r);
    if (edits & 1) strides(r, s, &d.strides);
    if (edits & 2) d.struct_size = (uint32_t)bits(r, 2);
    d.o_a = buffer_or_null(r, s), d.o_b = buffer_or_null(r, s), d.o = buffer_or_null(r, s);
    d.lse_a = buffer_or_null(r, s), d.lse_b = buffer_or_null(r, s), d.lse = buffer_or_null(r, s);
    d.o_a_offset = offset(r, s), d.o_b_offset = offset(r, s), d.o_offset = offset(r, s);
    d.lse_a_offset = offset(r, s), d.lse_b_offset = offset(r, s), d.lse_offset = offset(r, s);
    uint64_t work = sat_mul(sat_mul(positive(d.batch), positive(d.heads)),
                            sat_mul(positive(d.seq), positive(d.head_dim)));
    xhal_stream_t *stream = stream_of(r, s);
    if (work > WORK_BUDGET || !stream) {
        kind = K_MERGE_ASKED;
        check(xhal_attention_merge_supports(s->device, &d));
    } else {
        kind = K_MERGE;
        check(xhal_attention_merge(stream, &d));
    }
}

static void copy(reader_t *r, state_t *s, int direction) {
    xhal_stream_t *stream = stream_of(r, s);
    xhal_buffer_t *buffer = buffer_or_null(r, s);
    uint64_t at = offset(r, s), size = (uint64_t)value(r, s);
    uint64_t host_at = bits(r, 2) % HOST_BYTES;
    /* Host memory is the application's to size: the harness keeps within its own. */
    if (size > HOST_BYTES - host_at) size = HOST_BYTES - host_at;
    kind = K_COPY;
    if (direction == 0) check(xhal_copy_h2d(stream, buffer, at, host + host_at, size));
    if (direction == 1) check(xhal_copy_d2h(stream, host + host_at, buffer, at, size));
    if (direction == 2)
        check(xhal_copy_d2d(stream, buffer, at, buffer_or_null(r, s), offset(r, s), size));
}

static void fill(reader_t *r, state_t *s) {
    uint32_t pattern = (uint32_t)bits(r, 4);
    xhal_stream_t *stream = stream_of(r, s);
    xhal_buffer_t *buffer = buffer_or_null(r, s);
    uint64_t at = offset(r, s), size = (uint64_t)value(r, s);
    size_t pattern_size = (size_t)(byte(r) % 6);
    kind = K_FILL;
    check(xhal_fill(stream, buffer, at, size, byte(r) % 8 ? &pattern : NULL, pattern_size));
}

static void device_calls(reader_t *r, state_t *s) {
    char spec[24];
    size_t n = byte(r) % sizeof spec;
    for (size_t i = 0; i < n; i++)
        spec[i] = (char)byte(r);
    spec[n] = '\0';
    xhal_device_t *device = NULL;
    check(xhal_device_open(byte(r) % 4 ? spec : NULL, &device));
    xhal_device_info_t info = {.struct_size = (uint32_t)(byte(r) % 2 ? sizeof info : bits(r, 2))};
    check(xhal_device_info(s->device, &info));
    xhal_backend_info_t backend;
    check(xhal_backend_info((size_t)value(r, s), &backend));
    check(xhal_device_get((size_t)value(r, s), &device));
}

static void run(reader_t *r, state_t *s) {
    int steps = 0;
    while (r->at < r->size && steps++ < 64) {
        uint8_t op = byte(r);
        int slot = byte(r) % SLOTS;
        switch (op % 19) {
        case 0:
            if (!s->buffers[slot]) {
                /* Sizes from 16 TiB up stay (they must fail cleanly); the rest are capped so
                 * that a buffer the fuzzer fills does not take the machine's memory. */
                uint64_t size = (uint64_t)value(r, s);
                if (size > MAX_BUFFER && size < ((uint64_t)1 << 44)) size = MAX_BUFFER;
                xhal_buffer_t *b = NULL;
                kind = K_ALLOC;
                xhal_status_t st =
                    xhal_buffer_alloc(s->device, size, (xhal_memory_kind_t)(byte(r) % 3), &b);
                check(st);
                if (st == XHAL_OK) s->buffers[slot] = b, s->sizes[slot] = size;
            }
            break;
        case 1:
            drain(s); /* queued work may use it */
            xhal_buffer_free(s->buffers[slot]);
            s->buffers[slot] = NULL, s->sizes[slot] = 0;
            break;
        case 2:
            if (!s->streams[slot]) check(xhal_stream_create(s->device, &s->streams[slot]));
            break;
        case 3:
            xhal_stream_destroy(s->streams[slot]);
            s->streams[slot] = NULL;
            break;
        case 4:
            if (!s->events[slot]) check(xhal_event_create(s->device, &s->events[slot]));
            break;
        case 5:
            drain(s); /* a stream may wait on it */
            xhal_event_destroy(s->events[slot]);
            s->events[slot] = NULL;
            break;
        case 6:
            check(xhal_event_record(s->events[slot], stream_of(r, s)));
            break;
        case 7:
            check(xhal_stream_wait_event(stream_of(r, s), s->events[slot]));
            break;
        case 8:
            check(xhal_event_synchronize(s->events[slot]));
            break;
        case 9: {
            double ms = 0;
            check(xhal_event_elapsed_ms(s->events[slot], s->events[byte(r) % SLOTS], &ms));
            break;
        }
        case 10:
            check(xhal_stream_synchronize(s->streams[slot]));
            break;
        case 11:
        case 12:
        case 13:
            copy(r, s, op % 19 - 11);
            break;
        case 14:
            fill(r, s);
            break;
        case 15:
            gemm(r, s);
            break;
        case 16:
            attention(r, s);
            break;
        case 17:
            merge(r, s);
            break;
        default:
            device_calls(r, s);
            break;
        }
    }
}

static xhal_device_t *cpu;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    setenv("XHAL_BACKENDS", "cpu", 0);
    setenv("XHAL_CPU_THREADS", "2", 0);
    if (xhal_device_open("cpu", &cpu) != XHAL_OK) abort();
    const char *stats = getenv("XHAL_FUZZ_STATS");
    if (stats && *stats == '1') atexit(print_stats);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader_t r = {data, size, 0};
    state_t s;
    memset(&s, 0, sizeof s);
    s.device = cpu;
    run(&r, &s);
    /* Streams first: destroying one waits for its work. */
    for (int i = 0; i < SLOTS; i++)
        xhal_stream_destroy(s.streams[i]);
    for (int i = 0; i < SLOTS; i++) {
        xhal_event_destroy(s.events[i]);
        xhal_buffer_free(s.buffers[i]);
    }
    return 0;
}
