/* Devices and backends: count, get, open by spec, XHAL_DEVICE, info fields, backend list. */
#include "test_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_count_and_get(void **state) {
    (void)state;
    size_t count = 0;
    XT_OK(xhal_device_count(&count));
    assert_true(count >= 1);
    for (size_t i = 0; i < count; i++) {
        xhal_device_t *d = NULL, *again = NULL;
        XT_OK(xhal_device_get(i, &d));
        assert_non_null(d);
        XT_OK(xhal_device_get(i, &again));
        assert_ptr_equal(d, again);
        for (size_t j = 0; j < i; j++) {
            xhal_device_t *other = NULL;
            XT_OK(xhal_device_get(j, &other));
            assert_ptr_not_equal(d, other);
        }
    }
    xhal_device_t *d = (xhal_device_t *)(uintptr_t)0x1;
    char idx[32];
    snprintf(idx, sizeof idx, "%zu", count);
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_device_get(count, &d), "index", idx);
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_device_get(SIZE_MAX, &d), "index");
}

static void test_open_cpu(void **state) {
    (void)state;
    xhal_device_t *a = xt_open("cpu");
    xhal_device_t *b = xt_open("cpu:0");
    assert_ptr_equal(a, b);

    /* The CPU device is one of the enumerated devices. */
    size_t count = 0;
    int found = 0;
    XT_OK(xhal_device_count(&count));
    for (size_t i = 0; i < count; i++) {
        xhal_device_t *d = NULL;
        XT_OK(xhal_device_get(i, &d));
        found += d == a;
    }
    assert_int_equal(found, 1);
}

static void test_open_by_name_substring(void **state) {
    (void)state;
    xhal_device_t *cpu = xt_open("cpu");
    xhal_device_info_t info = {.struct_size = sizeof info};
    XT_OK(xhal_device_info(cpu, &info));
    /* Take the longest run of letters in the name (at most 8) and flip its case. */
    const char *name = info.name;
    size_t best = 0, best_len = 0;
    for (size_t i = 0; name[i];) {
        size_t j = i;
        while (isalpha((unsigned char)name[j]))
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    if (best_len == 0) fail_msg("CPU device name \"%s\" has no letters to search for", name);
    if (best_len > 8) best_len = 8;
    char spec[64];
    int n = snprintf(spec, sizeof spec, "cpu:%.*s", (int)best_len, name + best);
    for (int i = 4; i < n; i++)
        spec[i] = (char)(isupper((unsigned char)spec[i]) ? tolower((unsigned char)spec[i])
                                                         : toupper((unsigned char)spec[i]));
    xhal_device_t *d = xt_open(spec);
    assert_ptr_equal(d, cpu);
}

static void test_open_default(void **state) {
    (void)state;
    xhal_device_t *first = NULL, *d = NULL;
    unsetenv("XHAL_DEVICE");
    xhal_shutdown();
    XT_OK(xhal_init());
    XT_OK(xhal_device_get(0, &first));
    XT_OK(xhal_device_open(NULL, &d));
    assert_ptr_equal(d, first);
    d = NULL;
    XT_OK(xhal_device_open("", &d));
    assert_ptr_equal(d, first);

    /* XHAL_DEVICE is read at init. */
    setenv("XHAL_DEVICE", "cpu:0", 1);
    xhal_shutdown();
    XT_OK(xhal_init());
    xhal_device_t *cpu = xt_open("cpu");
    d = NULL;
    XT_OK(xhal_device_open(NULL, &d));
    assert_ptr_equal(d, cpu);
    d = NULL;
    XT_OK(xhal_device_open("", &d));
    assert_ptr_equal(d, cpu);

    /* An XHAL_DEVICE that names nothing makes the default unavailable, not another device. */
    setenv("XHAL_DEVICE", "nosuchbackend", 1);
    xhal_shutdown();
    XT_OK(xhal_init());
    d = NULL;
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open(NULL, &d), "nosuchbackend");
    assert_ptr_equal(xt_open("cpu"), xt_open("cpu:0")); /* explicit specs still work */

    unsetenv("XHAL_DEVICE");
    xhal_shutdown();
    XT_OK(xhal_init());
}

static void test_open_errors(void **state) {
    (void)state;
    xhal_device_t *d = NULL;
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("nosuchbackend", &d), "nosuchbackend");
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("cpu:99", &d), "cpu:99");
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("cpu:nomatch", &d), "cpu:nomatch");
    /* The message lists the devices there are. */
    xhal_device_info_t info = {.struct_size = sizeof info};
    XT_OK(xhal_device_info(xt_open("cpu"), &info));
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("cpu:nomatch", &d), "nomatch*");
    if (strstr(xhal_last_error(), info.name) == NULL && strstr(xhal_last_error(), "cpu:0") == NULL)
        fail_msg("the message does not list the CPU device (\"%s\" or cpu:0): \"%s\"", info.name,
                 xhal_last_error());
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_open(":", &d), "spec");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_open("cpu:", &d), "spec");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_open("cpu", NULL), "out_device");
    assert_null(d);
}

static void test_info_fields(void **state) {
    (void)state;
    size_t count = 0;
    XT_OK(xhal_device_count(&count));
    for (size_t i = 0; i < count; i++) {
        xhal_device_t *d = NULL;
        xhal_device_info_t info = {.struct_size = sizeof info};
        memset(&info, 0x5a, sizeof info);
        info.struct_size = sizeof info;
        XT_OK(xhal_device_get(i, &d));
        XT_OK(xhal_device_info(d, &info));
        /* Every string is terminated inside its field. */
        assert_true(memchr(info.spec, 0, sizeof info.spec) != NULL);
        assert_true(memchr(info.name, 0, sizeof info.name) != NULL);
        assert_true(memchr(info.vendor, 0, sizeof info.vendor) != NULL);
        assert_true(memchr(info.backend, 0, sizeof info.backend) != NULL);
        assert_true(memchr(info.architecture, 0, sizeof info.architecture) != NULL);
        assert_true(memchr(info.driver, 0, sizeof info.driver) != NULL);
        assert_true(memchr(info.peak_source, 0, sizeof info.peak_source) != NULL);
        assert_true(strlen(info.name) > 0);
        assert_true(strlen(info.backend) > 0);
        assert_true(info.compute_units >= 1);
        assert_true(info.memory_bytes > 0);
        assert_true(info.clock_ghz >= 0.0);
        assert_true(info.peak_bandwidth >= 0.0);
        /* The spec opens the same device again. */
        assert_ptr_equal(xt_open(info.spec), d);
        assert_int_equal(strncmp(info.spec, info.backend, strlen(info.backend)), 0);
    }

    xhal_device_info_t info = {.struct_size = sizeof info};
    XT_OK(xhal_device_info(xt_open("cpu"), &info));
    assert_string_equal(info.backend, "cpu");
    assert_true(info.peak_flops[XHAL_DTYPE_F32] > 0.0);
    assert_true(info.peak_flops[XHAL_DTYPE_F16] >= 0.0);
    assert_true(info.peak_flops[XHAL_DTYPE_BF16] >= 0.0);
    assert_true(strlen(info.architecture) > 0);
    assert_true(strlen(info.peak_source) > 0);
}

static const xhal_backend_info_t *find_backend(const xhal_backend_info_t *list, size_t count,
                                               const char *name) {
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].name, name) == 0) return &list[i];
    return NULL;
}

static void test_backend_list(void **state) {
    (void)state;
    size_t count = 0, devices = 0;
    XT_OK(xhal_backend_count(&count));
    XT_OK(xhal_device_count(&devices));
    assert_true(count >= 5); /* cpu plus the expected opencl, cuda, hip, levelzero */
    xhal_backend_info_t *list = xt_malloc(sizeof *list * count);
    size_t sum = 0;
    for (size_t i = 0; i < count; i++) {
        XT_OK(xhal_backend_info(i, &list[i]));
        assert_true(strlen(list[i].name) > 0);
        if (list[i].loaded) {
            sum += list[i].device_count;
        } else {
            assert_int_not_equal(list[i].status, XHAL_OK);
            assert_int_equal(list[i].device_count, 0);
            if (strlen(list[i].reason) == 0)
                fail_msg("backend %s is not loaded and gives no reason", list[i].name);
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(list[i].name, list[j].name) == 0)
                fail_msg("backend %s is listed twice", list[i].name);
    }
    assert_int_equal(sum, devices);

    const xhal_backend_info_t *cpu = find_backend(list, count, "cpu");
    assert_non_null(cpu);
    assert_int_equal(cpu->loaded, 1);
    assert_int_equal(cpu->status, XHAL_OK);
    assert_true(cpu->device_count >= 1);
    assert_string_equal(cpu->path, "(built in)");

    const char *expected[] = {"opencl", "cuda", "hip", "levelzero"};
    for (size_t i = 0; i < 4; i++) {
        const xhal_backend_info_t *b = find_backend(list, count, expected[i]);
        if (b == NULL) fail_msg("expected backend %s is not listed", expected[i]);
        if (b->path[0] == '\0') {
            assert_int_equal(b->status, XHAL_UNAVAILABLE);
            assert_int_equal(b->loaded, 0);
            if (!xt_contains_word(b->reason, "not found"))
                fail_msg("backend %s: reason \"%s\" lacks \"not found\"", b->name, b->reason);
        }
    }
    free(list);

    xhal_backend_info_t bi;
    char idx[32];
    snprintf(idx, sizeof idx, "%zu", count);
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_backend_info(count, &bi), "index", idx);
}

static int teardown(void **state) {
    (void)state;
    xhal_shutdown();
    return 0;
}

int main(void) {
    unsetenv("XHAL_DEVICE");
    unsetenv("XHAL_BACKENDS");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_and_get),
        cmocka_unit_test(test_open_cpu),
        cmocka_unit_test(test_open_by_name_substring),
        cmocka_unit_test(test_open_default),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_info_fields),
        cmocka_unit_test(test_backend_list),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
