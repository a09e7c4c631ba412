/*
 * Plugins: broken ones (no entry symbol, NULL entry, ABI 99, init UNAVAILABLE or failing, a
 * garbage file) are reported with their reason and never stop the CPU backend; "cpu2", the CPU
 * backend built as a plugin, is a second device that works and gives handles of another
 * device; XHAL_DEVICE, XHAL_BACKENDS and the search path order.
 *
 * XT_PLUGIN_DIR holds the test plugins, XT_SHADOW_DIR a garbage libxhal-cpu2.so.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef XT_PLUGIN_DIR
#error "XT_PLUGIN_DIR must name the test plugin folder"
#endif
#ifndef XT_SHADOW_DIR
#error "XT_SHADOW_DIR must name the folder with the garbage libxhal-cpu2.so"
#endif

/* Re-initialises with the given settings (NULL unsets). */
static void reinit(const char *path, const char *backends, const char *device) {
    xhal_shutdown();
    if (path)
        setenv("XHAL_BACKEND_PATH", path, 1);
    else
        unsetenv("XHAL_BACKEND_PATH");
    if (backends)
        setenv("XHAL_BACKENDS", backends, 1);
    else
        unsetenv("XHAL_BACKENDS");
    if (device)
        setenv("XHAL_DEVICE", device, 1);
    else
        unsetenv("XHAL_DEVICE");
    XT_OK(xhal_init());
}

static int setup_default(void **state) {
    (void)state;
    xhal_shutdown();
    setenv("XHAL_BACKEND_PATH", XT_PLUGIN_DIR, 1);
    unsetenv("XHAL_BACKENDS");
    unsetenv("XHAL_DEVICE");
    return xhal_init() == XHAL_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    xhal_shutdown();
    return 0;
}

/* Finds the backend whose name is `name`; copies it to *out. Returns 0 when none. */
static int backend_by_name(const char *name, xhal_backend_info_t *out) {
    size_t count = 0;
    XT_OK(xhal_backend_count(&count));
    for (size_t i = 0; i < count; i++) {
        XT_OK(xhal_backend_info(i, out));
        if (strcmp(out->name, name) == 0) return 1;
    }
    return 0;
}

/* Finds the backend loaded (or not) from a file whose name ends in `file`. */
static int backend_by_file(const char *file, xhal_backend_info_t *out) {
    size_t count = 0, fl = strlen(file);
    XT_OK(xhal_backend_count(&count));
    for (size_t i = 0; i < count; i++) {
        XT_OK(xhal_backend_info(i, out));
        size_t pl = strlen(out->path);
        if (pl >= fl && strcmp(out->path + pl - fl, file) == 0 &&
            (pl == fl || out->path[pl - fl - 1] == '/'))
            return 1;
    }
    return 0;
}

static void expect_broken(const char *file, xhal_status_t status, const char *needle) {
    xhal_backend_info_t bi;
    if (!backend_by_file(file, &bi)) fail_msg("%s is not listed by xhal_backend_info", file);
    if (bi.loaded || bi.status == XHAL_OK || bi.device_count != 0)
        fail_msg("%s: loaded %d, status %s, %u devices: expected a failure", file, bi.loaded,
                 xhal_status_name(bi.status), bi.device_count);
    if (status != XHAL_OK && bi.status != status)
        fail_msg("%s: status %s, expected %s (reason \"%s\")", file, xhal_status_name(bi.status),
                 xhal_status_name(status), bi.reason);
    if (bi.reason[0] == '\0') fail_msg("%s: no reason given", file);
    if (needle && strstr(bi.reason, needle) == NULL)
        fail_msg("%s: reason \"%s\" lacks \"%s\"", file, bi.reason, needle);
}

/* Runs a 33 x 35 x 37 f32 GEMM on `device` and returns its relative error. */
static double gemm_error(xhal_device_t *device) {
    enum { M = 33, N = 35, K = 37 };
    float a[M * K], b[K * N], c[M * N];
    double ref[M * N], got[M * N];
    xt_rng_t rng;
    xt_rng_seed(&rng, 77);
    for (int i = 0; i < M * K; i++)
        a[i] = (float)xt_rng_uniform(&rng);
    for (int i = 0; i < K * N; i++)
        b[i] = (float)xt_rng_uniform(&rng);
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(device, &s));
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, M, N, K, XHAL_DTYPE_F32);
    xt_ref_gemm(&d, a, b, NULL, ref);
    d.a = xt_upload(device, s, a, sizeof a);
    d.b = xt_upload(device, s, b, sizeof b);
    memset(c, 0xff, sizeof c);
    d.c = xt_upload(device, s, c, sizeof c);
    XT_OK(xhal_gemm(s, &d));
    xt_download(s, c, d.c, sizeof c);
    for (int i = 0; i < M * N; i++)
        got[i] = c[i];
    size_t bad = 0;
    double err = xt_rel_error(got, ref, M * N, &bad);
    xhal_buffer_free(d.a);
    xhal_buffer_free(d.b);
    xhal_buffer_free(d.c);
    xhal_stream_destroy(s);
    return bad ? INFINITY : err;
}

static void test_broken_plugins_reported(void **state) {
    (void)state;
    expect_broken("libxhal-noentry.so", XHAL_OK, "xhal_backend_entry");
    expect_broken("libxhal-nullentry.so", XHAL_OK, NULL);
    expect_broken("libxhal-abi99.so", XHAL_OK, "ABI");
    expect_broken("libxhal-testunavail.so", XHAL_UNAVAILABLE, "libfoo.so.1");
    expect_broken("libxhal-testiniterror.so", XHAL_DEVICE_ERROR, "FOO_ERROR_NO_DEVICE");
    expect_broken("libxhal-garbage.so", XHAL_OK, NULL);
    xhal_backend_info_t bi;
    assert_true(backend_by_file("libxhal-abi99.so", &bi));
    if (strstr(bi.reason, "99") == NULL)
        fail_msg("abi99: reason \"%s\" does not give the plugin's ABI major 99", bi.reason);
    assert_true(backend_by_file("libxhal-testunavail.so", &bi));
    assert_string_equal(bi.name, "testunavail");
    /* None of them made a device; the CPU backend is there and works. */
    assert_true(backend_by_name("cpu", &bi));
    assert_int_equal(bi.loaded, 1);
    assert_int_equal(bi.status, XHAL_OK);
    double err = gemm_error(xt_open("cpu"));
    assert_true(err <= 1e-5);
    /* Specs naming a broken backend are unavailable, with the reason. */
    xhal_device_t *d = NULL;
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("testunavail", &d), "testunavail*");
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("abi99:0", &d), "abi99*");
}

static void test_cpu2_is_a_second_device(void **state) {
    (void)state;
    xhal_backend_info_t bi;
    if (!backend_by_name("cpu2", &bi)) fail_msg("the cpu2 plugin is not listed");
    if (!bi.loaded || bi.status != XHAL_OK)
        fail_msg("cpu2: loaded %d, %s: %s", bi.loaded, xhal_status_name(bi.status), bi.reason);
    assert_true(bi.device_count >= 1);
    assert_non_null(strstr(bi.path, XT_PLUGIN_DIR "/libxhal-cpu2.so"));

    xhal_device_t *cpu = xt_open("cpu"), *cpu2 = xt_open("cpu2:0");
    assert_ptr_not_equal(cpu, cpu2);
    assert_ptr_equal(xt_open("cpu2"), cpu2);
    xhal_device_info_t info = {.struct_size = sizeof info};
    XT_OK(xhal_device_info(cpu2, &info));
    assert_string_equal(info.backend, "cpu2");
    assert_ptr_equal(xt_open(info.spec), cpu2);
    size_t count = 0;
    XT_OK(xhal_device_count(&count));
    assert_true(count >= 2);

    double err = gemm_error(cpu2);
    if (!(err <= 1e-5)) fail_msg("GEMM on cpu2: relative error %g", err);

    /* Attention runs there too. */
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(cpu2, &s));
    enum { B = 1, H = 2, S = 9, D = 16, E = B * H * S * D };
    float q[E], k[E], v[E], o[E];
    double ref[E], got[E];
    xt_rng_t rng;
    xt_rng_seed(&rng, 3);
    for (int i = 0; i < E; i++) {
        q[i] = (float)xt_rng_uniform(&rng);
        k[i] = (float)xt_rng_uniform(&rng);
        v[i] = (float)xt_rng_uniform(&rng);
    }
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, B, H, H, S, S, D, XHAL_DTYPE_F32, XHAL_LAYOUT_BHSD);
    d.causal = 1;
    xt_ref_attention(&d, q, k, v, ref);
    d.q = xt_upload(cpu2, s, q, sizeof q);
    d.k = xt_upload(cpu2, s, k, sizeof k);
    d.v = xt_upload(cpu2, s, v, sizeof v);
    memset(o, 0xff, sizeof o);
    d.o = xt_upload(cpu2, s, o, sizeof o);
    XT_OK(xhal_attention(s, &d));
    xt_download(s, o, d.o, sizeof o);
    for (int i = 0; i < E; i++)
        got[i] = o[i];
    size_t bad = 0;
    err = xt_rel_error(got, ref, E, &bad);
    assert_int_equal(bad, 0);
    if (!(err <= 1e-5)) fail_msg("attention on cpu2: relative error %g", err);
    xhal_buffer_free(d.q);
    xhal_buffer_free(d.k);
    xhal_buffer_free(d.v);
    xhal_buffer_free(d.o);
    xhal_stream_destroy(s);
}

static void test_handles_from_another_device(void **state) {
    (void)state;
    xhal_device_t *x = xt_open("cpu"), *y = xt_open("cpu2");
    xhal_stream_t *sx = NULL, *sy = NULL;
    xhal_event_t *ex = NULL, *ey = NULL;
    xhal_buffer_t *bx = NULL, *by = NULL;
    XT_OK(xhal_stream_create(x, &sx));
    XT_OK(xhal_stream_create(y, &sy));
    XT_OK(xhal_event_create(x, &ex));
    XT_OK(xhal_event_create(y, &ey));
    XT_OK(xhal_buffer_alloc(x, 4096, XHAL_MEMORY_DEVICE, &bx));
    XT_OK(xhal_buffer_alloc(y, 4096, XHAL_MEMORY_DEVICE, &by));
    unsigned char host[64] = {0};
    uint32_t pat = 0;
    double ms = 0;
    XT_OK(xhal_fill(sx, bx, 0, 4096, &pat, 4)); /* the valid ops below read it */

    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_h2d(sx, by, 0, host, 64), "dst",
                  "another device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2h(sx, host, by, 0, 64), "src",
                  "another device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2d(sx, bx, 0, by, 0, 64), "src",
                  "another device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_copy_d2d(sx, by, 0, bx, 0, 64), "dst",
                  "another device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_fill(sy, bx, 0, 64, &pat, 4), "dst",
                  "another device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_record(ey, sx), "another device");
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_stream_wait_event(sx, ey), "another device");
    XT_OK(xhal_event_record(ex, sx));
    XT_OK(xhal_event_record(ey, sy));
    XT_OK(xhal_event_synchronize(ex));
    XT_OK(xhal_event_synchronize(ey));
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_event_elapsed_ms(ex, ey, &ms), "another device");

    xhal_gemm_desc_t g;
    xhal_gemm_desc_init(&g, 8, 8, 8, XHAL_DTYPE_F32);
    g.a = bx;
    g.b = bx;
    g.c = bx;
    g.b_offset = 1024;
    g.c_offset = 2048;
    XT_OK(xhal_gemm(sx, &g));
    g.a = by;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm(sx, &g), "a", "another device");
    g.a = bx;
    g.c = by;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm(sx, &g), "c", "another device");
    g.c = bx;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm(sy, &g), "another device");

    xhal_attention_desc_t a;
    xhal_attention_desc_init(&a, 1, 2, 2, 4, 4, 8, XHAL_DTYPE_F32, XHAL_LAYOUT_BSHD);
    a.q = a.k = a.v = a.o = bx;
    a.k_offset = 1024;
    a.v_offset = 2048;
    a.o_offset = 3072;
    XT_OK(xhal_attention(sx, &a));
    a.v = by;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention(sx, &a), "v", "another device");
    a.v = bx;
    a.o = by;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_attention(sx, &a), "o", "another device");

    XT_OK(xhal_stream_synchronize(sx));
    XT_OK(xhal_stream_synchronize(sy));
    xhal_buffer_free(bx);
    xhal_buffer_free(by);
    xhal_event_destroy(ex);
    xhal_event_destroy(ey);
    xhal_stream_destroy(sx);
    xhal_stream_destroy(sy);
}

static void test_default_device_env(void **state) {
    (void)state;
    reinit(XT_PLUGIN_DIR, NULL, "cpu2");
    xhal_device_t *d = NULL;
    XT_OK(xhal_device_open(NULL, &d));
    assert_ptr_equal(d, xt_open("cpu2:0"));
    reinit(XT_PLUGIN_DIR, NULL, "cpu");
    d = NULL;
    XT_OK(xhal_device_open("", &d));
    assert_ptr_equal(d, xt_open("cpu"));
    reinit(XT_PLUGIN_DIR, NULL, NULL);
}

static void test_backends_filter(void **state) {
    (void)state;
    xhal_backend_info_t bi;
    xhal_device_t *d = NULL;
    reinit(XT_PLUGIN_DIR, "cpu", NULL);
    assert_true(backend_by_name("cpu", &bi));
    assert_int_equal(bi.loaded, 1);
    if (!backend_by_name("cpu2", &bi) && !backend_by_file("libxhal-cpu2.so", &bi))
        fail_msg("with XHAL_BACKENDS=cpu, cpu2 is not listed at all");
    assert_int_equal(bi.loaded, 0);
    assert_int_not_equal(bi.status, XHAL_OK);
    if (strstr(bi.reason, "XHAL_BACKENDS") == NULL)
        fail_msg("cpu2 hidden by XHAL_BACKENDS, but the reason is \"%s\"", bi.reason);
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("cpu2", &d), "cpu2*");
    assert_true(gemm_error(xt_open("cpu")) <= 1e-5);
    size_t count = 0;
    XT_OK(xhal_backend_count(&count));
    for (size_t i = 0; i < count; i++) {
        XT_OK(xhal_backend_info(i, &bi));
        if (strcmp(bi.name, "cpu") != 0 && bi.loaded)
            fail_msg("backend %s loaded although XHAL_BACKENDS=cpu", bi.name);
    }

    /* The filter keeps only what it names: the built-in CPU backend too. */
    reinit(XT_PLUGIN_DIR, "cpu2", NULL);
    assert_true(backend_by_name("cpu2", &bi));
    assert_int_equal(bi.loaded, 1);
    assert_true(backend_by_name("cpu", &bi));
    assert_int_equal(bi.loaded, 0);
    if (strstr(bi.reason, "XHAL_BACKENDS") == NULL)
        fail_msg("cpu hidden by XHAL_BACKENDS, but the reason is \"%s\"", bi.reason);
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("cpu", &d), "cpu*");
    xhal_device_t *first = NULL;
    XT_OK(xhal_device_get(0, &first));
    assert_ptr_equal(first, xt_open("cpu2"));
    assert_true(gemm_error(first) <= 1e-5);

    reinit(XT_PLUGIN_DIR, "cpu,cpu2", NULL);
    assert_ptr_not_equal(xt_open("cpu"), xt_open("cpu2"));
    reinit(XT_PLUGIN_DIR, NULL, NULL);
}

static void test_search_path_order(void **state) {
    (void)state;
    xhal_backend_info_t bi;
    /* A folder that does not exist is skipped. */
    reinit("/nonexistent/xhal-plugins:" XT_PLUGIN_DIR, NULL, NULL);
    assert_true(backend_by_name("cpu2", &bi));
    assert_int_equal(bi.loaded, 1);

    /* The first file found for a name wins: the garbage cpu2 in the shadow folder. */
    reinit(XT_SHADOW_DIR ":" XT_PLUGIN_DIR, NULL, NULL);
    if (!backend_by_file("libxhal-cpu2.so", &bi)) fail_msg("cpu2 is not listed");
    assert_int_equal(bi.loaded, 0);
    assert_non_null(strstr(bi.path, XT_SHADOW_DIR "/libxhal-cpu2.so"));
    xhal_device_t *d = NULL;
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("cpu2", &d), "cpu2*");
    size_t count = 0;
    XT_OK(xhal_backend_count(&count));
    int listed = 0;
    for (size_t i = 0; i < count; i++) {
        XT_OK(xhal_backend_info(i, &bi));
        listed += strstr(bi.path, "libxhal-cpu2.so") != NULL;
    }
    assert_int_equal(listed, 1);
    assert_true(gemm_error(xt_open("cpu")) <= 1e-5);

    /* The other order finds the working one. */
    reinit(XT_PLUGIN_DIR ":" XT_SHADOW_DIR, NULL, NULL);
    assert_true(backend_by_name("cpu2", &bi));
    assert_int_equal(bi.loaded, 1);
    assert_non_null(strstr(bi.path, XT_PLUGIN_DIR "/libxhal-cpu2.so"));
    reinit(XT_PLUGIN_DIR, NULL, NULL);
}

/* A backend whose device 0 fails to open: the others keep their spec, and "<name>:0" says why. */
static void test_spec_after_a_failed_device(void **state) {
    (void)state;
    reinit(XT_PLUGIN_DIR, "flaky", NULL);
    xhal_backend_info_t bi;
    assert_true(backend_by_name("flaky", &bi));
    assert_int_equal(bi.loaded, 1);
    assert_int_equal(bi.device_count, 2);
    for (unsigned i = 1; i <= 2; i++) {
        char spec[32], name[32];
        snprintf(spec, sizeof spec, "flaky:%u", i);
        snprintf(name, sizeof name, "null device %u", i);
        xhal_device_info_t info = {.struct_size = sizeof info};
        XT_OK(xhal_device_info(xt_open(spec), &info));
        assert_string_equal(info.name, name); /* the device the backend numbers i */
        assert_string_equal(info.spec, spec);
        assert_ptr_equal(xt_open(info.spec), xt_open(spec));
    }
    assert_ptr_equal(xt_open("flaky"), xt_open("flaky:1")); /* the first that opened */
    xhal_device_t *d = NULL;
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("flaky:0", &d), "flaky:0", "device 0",
                  "did not open", "broken on purpose");
    assert_null(d);
    XT_EXPECT_ERR(XHAL_UNAVAILABLE, xhal_device_open("flaky:3", &d), "flaky:3",
                  "matches no device");
    reinit(XT_PLUGIN_DIR, NULL, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broken_plugins_reported),
        cmocka_unit_test(test_cpu2_is_a_second_device),
        cmocka_unit_test(test_handles_from_another_device),
        cmocka_unit_test(test_default_device_env),
        cmocka_unit_test(test_backends_filter),
        cmocka_unit_test(test_search_path_order),
        cmocka_unit_test(test_spec_after_a_failed_device),
    };
    return cmocka_run_group_tests(tests, setup_default, teardown);
}
