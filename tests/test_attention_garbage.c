/*
 * Garbage in the device-resident index buffers of a serving attention (offsets, lengths, block
 * indices: anything, INT32_MIN and INT32_MAX included) must never make a kernel read or write
 * outside the buffers it was given (xhal.h). Each trial draws a random serving layout (packed or
 * not, dense, per-sequence, packed or paged K/V, window, soft-cap, LSE, a dtype) and random
 * garbage for its index arrays, places every view flush against one end of a buffer of exactly
 * its size (alternating ends), and runs it:
 *  - under AddressSanitizer (the ASan stage of `make test`), any read or write past a buffer's
 *    end is an error, and reads before a view's start run off the allocation on the next trial;
 *  - in every build, the bytes of O's and the LSE's buffers outside their views, and every input
 *    byte, must be unchanged, and the op and the stream must report success.
 * CPU buffers are 64-byte aligned allocations of the size rounded up to 64, so the views here
 * are sized so that rounding adds nothing. Registered once per ISA path (XHAL_CPU_ISA).
 *
 * Run as `test_attention_garbage opencl`, it does the same on the first OpenCL device, whose
 * kernels ASan cannot see into: every buffer is pinned host memory that the device uses in place
 * (PoCL, CL_DEVICE_HOST_UNIFIED_MEMORY), whole pages, with a page on each side of the view that
 * is made inaccessible (mprotect), so that a kernel reading or writing across either end of a
 * view faults. Exits 77 (ctest's skip) where no such device is found.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TRIALS 160

static xhal_device_t *cpu;
static xhal_stream_t *s;
static uint64_t guard; /* > 0: the page size; views sit between inaccessible pages (OpenCL) */

/* A buffer holding one view of `bytes` (a multiple of 4) flush against its start or its end. */
typedef struct view {
    xhal_buffer_t *buffer;
    unsigned char *host; /* the buffer's memory */
    uint64_t size, offset, bytes;
} view_t;

static uint64_t round64(uint64_t n) {
    return (n + 63) / 64 * 64;
}

static void view_make(view_t *v, uint64_t bytes, int at_end, xt_rng_t *rng) {
    v->bytes = bytes;
    uint64_t room = guard ? (bytes + guard - 1) / guard * guard : round64(bytes);
    room = room ? room : (guard ? guard : 64);
    v->size = room + 2 * guard;
    v->offset = guard + (at_end ? room - bytes : 0);
    XT_OK(xhal_buffer_alloc(cpu, v->size, guard ? XHAL_MEMORY_HOST_PINNED : XHAL_MEMORY_DEVICE,
                            &v->buffer));
    void *p = NULL;
    XT_OK(xhal_buffer_host_pointer(v->buffer, &p));
    v->host = p;
    if (guard && (uintptr_t)p % guard) fail_msg("pinned memory at %p is not page-aligned", p);
    for (uint64_t i = guard; i < v->size - guard; i++) /* finite in every dtype: small values */
        v->host[i] = (unsigned char)(i % 2 ? 0x3c : (xt_rng_next(rng) & 0x3f));
    if (guard && (mprotect(v->host, guard, PROT_NONE) != 0 ||
                  mprotect(v->host + guard + room, guard, PROT_NONE) != 0))
        fail_msg("mprotect of the guard pages failed");
}

/* Makes the guard pages accessible again, so that the buffer can be freed. */
static void view_unguard(view_t *v) {
    if (guard && v->buffer &&
        (mprotect(v->host, guard, PROT_READ | PROT_WRITE) != 0 ||
         mprotect(v->host + v->size - guard, guard, PROT_READ | PROT_WRITE) != 0))
        fail_msg("mprotect of the guard pages failed");
}

/* Garbage for an int32 entry: extremes, negatives, near the sizes, or anything. */
static int32_t garbage(xt_rng_t *rng, int64_t near) {
    switch (xt_rng_next(rng) % 8) {
    case 0:
        return INT32_MIN;
    case 1:
        return INT32_MAX;
    case 2:
        return -(int32_t)(xt_rng_next(rng) % 100) - 1;
    case 3:
        return (int32_t)(near + (int64_t)(xt_rng_next(rng) % 5) - 2);
    case 4:
        return (int32_t)(xt_rng_next(rng) % (uint64_t)(2 * near + 1));
    case 5:
        return (int32_t)(xt_rng_next(rng) % (uint64_t)(near + 1));
    default:
        return (int32_t)xt_rng_next(rng);
    }
}

static void fill_garbage(view_t *v, xt_rng_t *rng, int64_t near) {
    int32_t *p = (int32_t *)(void *)(v->host + v->offset);
    for (uint64_t i = 0; i < v->bytes / 4; i++)
        p[i] = garbage(rng, near);
}

static void trial(int index) {
    xt_rng_t rng;
    xt_rng_seed(&rng, 7000 + (uint64_t)index);
    static const xhal_dtype_t dtypes[] = {XHAL_DTYPE_F32, XHAL_DTYPE_F16, XHAL_DTYPE_BF16};
    xhal_dtype_t dt = dtypes[xt_rng_next(&rng) % 3];
    int64_t batch = xt_rng_range(&rng, 1, 5), hkv = xt_rng_range(&rng, 1, 2);
    int64_t hq = hkv * xt_rng_range(&rng, 1, 3), hd = 32 * xt_rng_range(&rng, 1, 3);
    int packed_q = (int)(xt_rng_next(&rng) % 2), kv_mode = (int)(xt_rng_next(&rng) % 4);
    int64_t seq_q = packed_q ? xt_rng_range(&rng, 1, 40) : xt_rng_range(&rng, 1, 20);
    int64_t seq_kv = xt_rng_range(&rng, 1, 300);
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, batch, hq, hkv, seq_q, seq_kv, hd, dt,
                             xt_rng_next(&rng) % 2 ? XHAL_LAYOUT_BSHD : XHAL_LAYOUT_BHSD);
    d.causal = (int)(xt_rng_next(&rng) % 2);
    d.sliding_window = xt_rng_next(&rng) % 3 == 0 ? xt_rng_range(&rng, 1, 64) : 0;
    d.softcap = xt_rng_next(&rng) % 3 == 0 ? 15.0f : 0.0f;
    size_t es = xt_dtype_size(dt);
    int64_t q_batch = packed_q ? 1 : batch, kv_batch = batch, kv_seq = seq_kv;
    if (kv_mode == 2) kv_batch = 1; /* packed K/V */
    if (kv_mode == 3) {             /* paged */
        d.block_size = xt_rng_range(&rng, 1, 40);
        d.max_blocks_per_seq = (seq_kv + d.block_size - 1) / d.block_size;
        d.block_table_stride = d.max_blocks_per_seq + xt_rng_range(&rng, 0, 2);
        d.num_blocks = xt_rng_range(&rng, 1, 30);
        kv_batch = d.num_blocks;
        kv_seq = d.block_size;
        xhal_attention_desc_t pool; /* the pool's own contiguous strides */
        xhal_attention_desc_init(&pool, d.num_blocks, hkv, hkv, d.block_size, d.block_size, hd, dt,
                                 xt_rng_next(&rng) % 2 ? XHAL_LAYOUT_BSHD : XHAL_LAYOUT_BHSD);
        d.k_strides = d.v_strides = pool.k_strides;
    }
    /* Packed tensors have no batch stride: strides of a single sequence of all the rows. */
    if (packed_q) d.q_strides.batch = d.o_strides.batch = 0;
    if (kv_mode == 2) d.k_strides.batch = d.v_strides.batch = 0;

    uint64_t q_bytes = xt_attention_extent(&d.q_strides, q_batch, hq, seq_q, hd) * es;
    uint64_t kv_bytes = xt_attention_extent(&d.k_strides, kv_batch, hkv, kv_seq, hd) * es;
    int at_end = index % 2;
    view_t q, k, v, o, lse, cu_q, cu_kv, lens, table;
    memset(&lse, 0, sizeof lse);
    memset(&cu_q, 0, sizeof cu_q);
    memset(&cu_kv, 0, sizeof cu_kv);
    memset(&lens, 0, sizeof lens);
    memset(&table, 0, sizeof table);
    view_make(&q, q_bytes, at_end, &rng);
    view_make(&k, kv_bytes, !at_end, &rng);
    view_make(&v, kv_bytes, at_end, &rng);
    view_make(&o, q_bytes, !at_end, &rng);
    if (xt_rng_next(&rng) % 2) {
        view_make(&lse, (uint64_t)(q_batch * hq * seq_q) * 4, at_end, &rng);
        d.lse = lse.buffer;
        d.lse_offset = lse.offset;
    }
    if (packed_q) {
        view_make(&cu_q, (uint64_t)(batch + 1) * 4, !at_end, &rng);
        fill_garbage(&cu_q, &rng, seq_q);
        d.cu_seqlens_q = cu_q.buffer;
        d.cu_seqlens_q_offset = cu_q.offset;
    }
    if (kv_mode == 2) {
        view_make(&cu_kv, (uint64_t)(batch + 1) * 4, at_end, &rng);
        fill_garbage(&cu_kv, &rng, seq_kv);
        d.cu_seqlens_kv = cu_kv.buffer;
        d.cu_seqlens_kv_offset = cu_kv.offset;
    }
    if (kv_mode == 1 || kv_mode == 3) {
        view_make(&lens, (uint64_t)batch * 4, !at_end, &rng);
        fill_garbage(&lens, &rng, seq_kv);
        d.seqlens_kv = lens.buffer;
        d.seqlens_kv_offset = lens.offset;
    }
    if (kv_mode == 3) {
        uint64_t entries = (uint64_t)((batch - 1) * d.block_table_stride + d.max_blocks_per_seq);
        view_make(&table, entries * 4, at_end, &rng);
        fill_garbage(&table, &rng, d.num_blocks);
        d.block_table = table.buffer;
        d.block_table_offset = table.offset;
    }
    d.q = q.buffer, d.k = k.buffer, d.v = v.buffer, d.o = o.buffer;
    d.q_offset = q.offset, d.k_offset = k.offset, d.v_offset = v.offset, d.o_offset = o.offset;

    /* Copies of every buffer, to compare after the run. */
    view_t *all[] = {&q, &k, &v, &o, &lse, &cu_q, &cu_kv, &lens, &table};
    unsigned char *before[9];
    for (int i = 0; i < 9; i++) {
        before[i] = all[i]->buffer ? xt_malloc((size_t)all[i]->size) : NULL;
        if (before[i]) /* the guard pages are neither read nor compared */
            memcpy(before[i] + guard, all[i]->host + guard, (size_t)(all[i]->size - 2 * guard));
    }
    char what[256];
    snprintf(what, sizeof what,
             "trial %d: %s b%lld hq%lld hkv%lld d%lld sq%lld skv%lld packed_q %d kv_mode %d "
             "block %lld blocks %lld causal %d window %lld lse %d",
             index, xhal_dtype_name(dt), (long long)batch, (long long)hq, (long long)hkv,
             (long long)hd, (long long)seq_q, (long long)seq_kv, packed_q, kv_mode,
             (long long)d.block_size, (long long)d.num_blocks, d.causal,
             (long long)d.sliding_window, d.lse != NULL);
    xhal_status_t st = xhal_attention(s, &d);
    if (st != XHAL_OK)
        fail_msg("%s: xhal_attention returned %s: %s", what, xhal_status_name(st),
                 xhal_last_error());
    st = xhal_stream_synchronize(s);
    if (st != XHAL_OK)
        fail_msg("%s: the stream returned %s: %s", what, xhal_status_name(st), xhal_last_error());
    for (int i = 0; i < 9; i++) {
        if (!before[i]) continue;
        int output = i == 3 || i == 4;
        for (uint64_t b = guard; b < all[i]->size - guard; b++) {
            int in_view = b >= all[i]->offset && b < all[i]->offset + all[i]->bytes;
            if ((!output || !in_view) && all[i]->host[b] != before[i][b])
                fail_msg("%s: byte %llu of buffer %d (view at %llu, %llu bytes) changed", what,
                         (unsigned long long)b, i, (unsigned long long)all[i]->offset,
                         (unsigned long long)all[i]->bytes);
        }
        free(before[i]);
        view_unguard(all[i]);
        xhal_buffer_free(all[i]->buffer);
    }
}

static void test_garbage_indices(void **state) {
    (void)state;
    for (int i = 0; i < TRIALS; i++)
        trial(i);
}

static int setup(void **state) {
    (void)state;
    return xhal_stream_create(cpu, &s) == XHAL_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    xhal_stream_destroy(s);
    xhal_shutdown();
    return 0;
}

int main(int argc, char **argv) {
    unsetenv("XHAL_DEVICE");
    unsetenv("XHAL_BACKENDS");
    unsetenv("XHAL_VALIDATE"); /* the point is the kernels with garbage, not the host check */
    int opencl = argc > 1 && strcmp(argv[1], "opencl") == 0;
    if (xhal_device_open(opencl ? "opencl" : "cpu", &cpu) != XHAL_OK) {
        printf("no %s device: %s\n", opencl ? "OpenCL" : "CPU", xhal_last_error());
        xhal_shutdown();
        return opencl ? 77 : 1;
    }
    if (opencl) {
        guard = (uint64_t)sysconf(_SC_PAGESIZE);
        xhal_buffer_t *probe = NULL;
        xhal_status_t st = xhal_buffer_alloc(cpu, guard, XHAL_MEMORY_HOST_PINNED, &probe);
        xhal_buffer_free(probe);
        if (st != XHAL_OK) {
            printf("the OpenCL device has no pinned host memory: %s\n", xhal_last_error());
            xhal_shutdown();
            return 77;
        }
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_garbage_indices)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
