/* Buffers and copies: alloc/free/size/kind/host pointer, round trips with offsets, fills. */
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static xhal_device_t *cpu;

static int setup(void **state) {
    (void)state;
    if (xhal_device_open("cpu", &cpu) != XHAL_OK) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    xhal_shutdown();
    return 0;
}

static void fill_bytes(unsigned char *p, size_t n, uint64_t seed) {
    xt_rng_t rng;
    xt_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)xt_rng_next(&rng);
}

static void test_alloc_free_properties(void **state) {
    (void)state;
    const xhal_memory_kind_t kinds[] = {XHAL_MEMORY_DEVICE, XHAL_MEMORY_HOST_PINNED};
    const uint64_t sizes[] = {1, 3, 4096, 1000003};
    for (size_t k = 0; k < 2; k++) {
        for (size_t s = 0; s < 4; s++) {
            xhal_buffer_t *buf = NULL;
            xhal_status_t st = xhal_buffer_alloc(cpu, sizes[s], kinds[k], &buf);
            if (st != XHAL_OK)
                fail_msg("alloc(%llu, kind %d): %s %s", (unsigned long long)sizes[s], (int)kinds[k],
                         xhal_status_name(st), xhal_last_error());
            assert_non_null(buf);
            uint64_t size = 0;
            xhal_memory_kind_t kind = (xhal_memory_kind_t)-1;
            XT_OK(xhal_buffer_size(buf, &size));
            assert_int_equal(size, sizes[s]);
            XT_OK(xhal_buffer_kind(buf, &kind));
            assert_int_equal(kind, kinds[k]);
            /* The CPU can address both kinds; the whole range is usable. */
            void *p = NULL;
            XT_OK(xhal_buffer_host_pointer(buf, &p));
            assert_non_null(p);
            memset(p, 0xa5, (size_t)sizes[s]);
            xhal_buffer_free(buf);
        }
    }
    xhal_buffer_free(NULL); /* ignored */
}

static void test_distinct_buffers(void **state) {
    (void)state;
    xhal_buffer_t *a = NULL, *b = NULL;
    XT_OK(xhal_buffer_alloc(cpu, 64, XHAL_MEMORY_DEVICE, &a));
    XT_OK(xhal_buffer_alloc(cpu, 64, XHAL_MEMORY_DEVICE, &b));
    assert_ptr_not_equal(a, b);
    void *pa = NULL, *pb = NULL;
    XT_OK(xhal_buffer_host_pointer(a, &pa));
    XT_OK(xhal_buffer_host_pointer(b, &pb));
    assert_true((char *)pa + 64 <= (char *)pb || (char *)pb + 64 <= (char *)pa);
    xhal_buffer_free(a);
    xhal_buffer_free(b);
}

static void test_round_trip_with_offsets(void **state) {
    (void)state;
    const xhal_memory_kind_t kinds[] = {XHAL_MEMORY_DEVICE, XHAL_MEMORY_HOST_PINNED};
    const size_t n = 10007;
    unsigned char *src = xt_malloc(n), *dst = xt_malloc(n), *whole = xt_malloc(n);
    fill_bytes(src, n, 1);
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(cpu, &s));
    for (size_t k1 = 0; k1 < 2; k1++) {
        for (size_t k2 = 0; k2 < 2; k2++) {
            xhal_buffer_t *a = NULL, *b = NULL;
            XT_OK(xhal_buffer_alloc(cpu, n, kinds[k1], &a));
            XT_OK(xhal_buffer_alloc(cpu, n, kinds[k2], &b));
            unsigned char zero = 0;
            XT_OK(xhal_fill(s, b, 0, n, &zero, 1));
            /* h2d at offset 3, d2d from a+3 to b+101, d2h from b+101: odd sizes and offsets. */
            const uint64_t len = 5001;
            XT_OK(xhal_copy_h2d(s, a, 3, src + 17, len));
            XT_OK(xhal_copy_d2d(s, b, 101, a, 3, len));
            memset(dst, 0xee, n);
            XT_OK(xhal_copy_d2h(s, dst + 7, b, 101, len));
            XT_OK(xhal_copy_d2h(s, whole, b, 0, n));
            XT_OK(xhal_stream_synchronize(s));
            assert_memory_equal(dst + 7, src + 17, len);
            for (size_t i = 0; i < 7; i++)
                assert_int_equal(dst[i], 0xee);
            for (size_t i = 7 + len; i < n; i++)
                assert_int_equal(dst[i], 0xee);
            /* d2d wrote exactly [101, 101 + len) of b. */
            for (size_t i = 0; i < n; i++) {
                unsigned char want = (i >= 101 && i < 101 + len) ? src[17 + i - 101] : 0;
                if (whole[i] != want)
                    fail_msg("kinds %zu/%zu: b[%zu] = %u, expected %u", k1, k2, i, whole[i], want);
            }
            /* Non-overlapping copies inside one buffer are fine. */
            XT_OK(xhal_copy_d2d(s, b, 0, b, 101, 100));
            XT_OK(xhal_copy_d2d(s, b, 201, b, 101, 100)); /* adjacent, not overlapping */
            XT_OK(xhal_copy_d2h(s, dst, b, 0, 301));
            XT_OK(xhal_stream_synchronize(s));
            assert_memory_equal(dst, src + 17, 100);
            assert_memory_equal(dst + 201, src + 17, 100);
            /* The host pointer sees what the copies wrote. */
            void *p = NULL;
            XT_OK(xhal_buffer_host_pointer(b, &p));
            assert_memory_equal((unsigned char *)p + 101, src + 17, 100);
            xhal_buffer_free(a);
            xhal_buffer_free(b);
        }
    }
    xhal_stream_destroy(s);
    free(src);
    free(dst);
    free(whole);
}

static void test_host_pointer_writes_are_copied(void **state) {
    (void)state;
    xhal_buffer_t *buf = NULL;
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(cpu, &s));
    XT_OK(xhal_buffer_alloc(cpu, 256, XHAL_MEMORY_HOST_PINNED, &buf));
    unsigned char *p = NULL;
    XT_OK(xhal_buffer_host_pointer(buf, (void **)&p));
    for (int i = 0; i < 256; i++)
        p[i] = (unsigned char)(255 - i);
    unsigned char out[256];
    XT_OK(xhal_copy_d2h(s, out, buf, 0, 256));
    XT_OK(xhal_stream_synchronize(s));
    for (int i = 0; i < 256; i++)
        assert_int_equal(out[i], 255 - i);
    xhal_buffer_free(buf);
    xhal_stream_destroy(s);
}

static void test_fill_patterns(void **state) {
    (void)state;
    const size_t n = 4099 * 4;
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(cpu, &s));
    xhal_buffer_t *buf = NULL;
    XT_OK(xhal_buffer_alloc(cpu, n, XHAL_MEMORY_DEVICE, &buf));
    unsigned char *host = xt_malloc(n), *init = xt_malloc(n);
    fill_bytes(init, n, 2);
    const unsigned char pattern[4] = {0x12, 0x34, 0x56, 0x78};
    const size_t sizes[] = {1, 2, 4};
    for (size_t ps = 0; ps < 3; ps++) {
        size_t psz = sizes[ps];
        /* Several (offset, size) pairs, multiples of the pattern size, ending anywhere. */
        const uint64_t offs[] = {0, psz, 12 * psz, 4096};
        const uint64_t lens[] = {psz, 3 * psz, 1001 * psz, n - 4096 - 4 * psz};
        for (size_t t = 0; t < 4; t++) {
            XT_OK(xhal_copy_h2d(s, buf, 0, init, n));
            XT_OK(xhal_fill(s, buf, offs[t], lens[t], pattern, psz));
            XT_OK(xhal_copy_d2h(s, host, buf, 0, n));
            XT_OK(xhal_stream_synchronize(s));
            for (size_t i = 0; i < n; i++) {
                unsigned char want = (i >= offs[t] && i < offs[t] + lens[t])
                                         ? pattern[(i - offs[t]) % psz]
                                         : init[i];
                if (host[i] != want)
                    fail_msg("fill(pattern_size %zu, offset %llu, size %llu): byte %zu = 0x%02x, "
                             "expected 0x%02x",
                             psz, (unsigned long long)offs[t], (unsigned long long)lens[t], i,
                             host[i], want);
            }
        }
    }
    /* The pattern is copied at the call: changing it afterwards changes nothing. */
    uint32_t pat = 0xdeadbeefu;
    XT_OK(xhal_fill(s, buf, 0, 64, &pat, 4));
    pat = 0;
    uint32_t out[16];
    XT_OK(xhal_copy_d2h(s, out, buf, 0, 64));
    XT_OK(xhal_stream_synchronize(s));
    for (int i = 0; i < 16; i++)
        assert_int_equal(out[i], 0xdeadbeefu);
    /* Size 0 is a no-op. */
    XT_OK(xhal_fill(s, buf, 0, 0, &pat, 4));
    XT_OK(xhal_copy_h2d(s, buf, 0, init, 0));
    XT_OK(xhal_copy_d2h(s, host, buf, 0, 0));
    XT_OK(xhal_copy_d2d(s, buf, 0, buf, 0, 0));
    XT_OK(xhal_copy_d2h(s, out, buf, 0, 64));
    XT_OK(xhal_stream_synchronize(s));
    for (int i = 0; i < 16; i++)
        assert_int_equal(out[i], 0xdeadbeefu);
    xhal_buffer_free(buf);
    xhal_stream_destroy(s);
    free(host);
    free(init);
}

static void test_out_of_memory(void **state) {
    (void)state;
    xhal_buffer_t *buf = (xhal_buffer_t *)(uintptr_t)0x1;
    xhal_status_t st = xhal_buffer_alloc(cpu, UINT64_MAX, XHAL_MEMORY_DEVICE, &buf);
    if (st != XHAL_OUT_OF_MEMORY)
        fail_msg("alloc(UINT64_MAX) returned %s: %s", xhal_status_name(st), xhal_last_error());
    assert_true(strlen(xhal_last_error()) > 0);
    /* The device still works afterwards. */
    XT_OK(xhal_buffer_alloc(cpu, 16, XHAL_MEMORY_DEVICE, &buf));
    xhal_buffer_free(buf);
}

int main(void) {
    unsetenv("XHAL_DEVICE");
    unsetenv("XHAL_BACKENDS");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_free_properties),
        cmocka_unit_test(test_distinct_buffers),
        cmocka_unit_test(test_round_trip_with_offsets),
        cmocka_unit_test(test_host_pointer_writes_are_copied),
        cmocka_unit_test(test_fill_patterns),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
