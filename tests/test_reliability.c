/*
 * Regression tests of the defects an outside reliability campaign found (issue 14), one test per
 * defect, each failing (or hanging, or crashing under the sanitizer stages) before its fix:
 *
 *   gemv_broadcast_scratch     CPU batched GEMV took scratch of batch x k for stride-0 inputs
 *   qgemv_broadcast_scratch    the same on the quantized GEMV (INT8 B)
 *   attention_unbounded_seq    CPU attention accepted seq_kv = INT64_MAX / 2^62 with K/V seq
 *                              stride 0 (a signed overflow, or a run of years)
 *   desc_init_saturates        *_desc_init multiplied sizes with a signed overflow
 *   plugin_data_entry          a plugin whose xhal_backend_entry is data crashed xhal_init
 *   plugin_unknown_status      a plugin init returning 1234 was passed on as a status
 *   backend_path_many          XHAL_BACKEND_PATH beyond 8 folders dropped the rest and the install
 *   cpu_threads_peak           XHAL_CPU_THREADS=64 on 2 CPUs derived a peak of 64 cores
 *   lookups_race_shutdown      device/backend lookups read the registry while shutdown freed it
 *                              (ASan heap-use-after-free; the TSan stage sees the race)
 *
 * XT_ODD_DIR holds the plugins with a data entry and an unknown init status.
 */
#include "test_util.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef XT_ODD_DIR
#error "XT_ODD_DIR must name the folder of the odd test plugins"
#endif

static void reset_environment(void) {
    xhal_shutdown();
    unsetenv("XHAL_BACKEND_PATH");
    unsetenv("XHAL_BACKENDS");
    unsetenv("XHAL_CPU_THREADS");
}

static int teardown(void **state) {
    (void)state;
    reset_environment();
    return 0;
}

/* Peak resident memory of this process, in bytes. */
static uint64_t peak_rss(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (uint64_t)usage.ru_maxrss * 1024;
}

/*
 * 8192 batches of a 1 x 16384 row times a 16384 x 1 column, both broadcast (stride 0): 64 KiB of
 * inputs. The GEMV path converted A once per batch into scratch, 512 MiB; it must now stay
 * bounded (and the results right: every batch is the same dot product).
 */
static void test_gemv_broadcast_scratch(void **state) {
    (void)state;
    enum { K = 16384, BATCH = 8192 };
    xhal_device_t *cpu = xt_open("cpu");
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(cpu, &s));
    float *a = xt_malloc(K * sizeof *a), *b = xt_malloc(K * sizeof *b);
    xt_rng_t rng;
    xt_rng_seed(&rng, 5);
    double want = 0;
    for (int i = 0; i < K; i++) {
        a[i] = (float)xt_rng_uniform(&rng);
        b[i] = (float)xt_rng_uniform(&rng);
        want += (double)a[i] * b[i];
    }
    xhal_buffer_t *ab = xt_upload(cpu, s, a, K * sizeof *a), *bb = xt_upload(cpu, s, b, K * 4);
    xhal_buffer_t *cb = NULL;
    XT_OK(xhal_buffer_alloc(cpu, BATCH * sizeof(float), XHAL_MEMORY_DEVICE, &cb));
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, 1, 1, K, XHAL_DTYPE_F32);
    d.batch = BATCH;
    d.stride_a = d.stride_b = 0;
    d.stride_c = 1;
    d.a = ab, d.b = bb, d.c = cb;
    uint64_t before = peak_rss();
    XT_OK(xhal_gemm(s, &d));
    XT_OK(xhal_stream_synchronize(s));
    uint64_t grown = peak_rss() - before;
    printf("[ INFO     ] peak RSS grew by %.1f MiB for %d broadcast batches\n",
           (double)grown / (1 << 20), BATCH);
    /* 64 MiB of scratch now (plus sanitizer shadow: 190 MiB under TSan); 512 MiB before. */
    assert_true(grown < ((uint64_t)320 << 20));
    float *c = xt_malloc(BATCH * sizeof *c);
    xt_download(s, c, cb, BATCH * sizeof *c);
    for (int i = 0; i < BATCH; i++)
        assert_true(fabs(c[i] - want) <= 1e-4 * (fabs(want) + 1));
    free(a);
    free(b);
    free(c);
    xhal_buffer_free(ab);
    xhal_buffer_free(bb);
    xhal_buffer_free(cb);
    xhal_stream_destroy(s);
}

/*
 * The same with an INT8 weight (B n x k, stride 0 as quantized B must be) on the quantized GEMV:
 * its A and prepared rows took scratch per batch too. Run after the test above, so the device's
 * scratch is already the bounded size; before the fix this one grew it by over 512 MiB.
 */
static void test_qgemv_broadcast_scratch(void **state) {
    (void)state;
    enum { K = 16384, BATCH = 8192 };
    xhal_device_t *cpu = xt_open("cpu");
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(cpu, &s));
    xhal_quantize_desc_t qd = {.struct_size = sizeof qd,
                               .format = XHAL_QUANT_INT8,
                               .n = 1,
                               .k = K,
                               .scale_mode = XHAL_SCALE_PER_CHANNEL,
                               .scale_type = XHAL_DTYPE_F32};
    uint64_t weight_bytes = 0, scale_bytes = 0, zero_bytes = 0;
    int64_t ldb = 0;
    XT_OK(xhal_quantize_sizes(&qd, &weight_bytes, &scale_bytes, &zero_bytes, &ldb));
    float *a = xt_malloc(K * sizeof *a), *w = xt_malloc(K * sizeof *w);
    xt_rng_t rng;
    xt_rng_seed(&rng, 6);
    for (int i = 0; i < K; i++)
        a[i] = (float)xt_rng_uniform(&rng), w[i] = (float)xt_rng_uniform(&rng);
    unsigned char *q = xt_malloc((size_t)weight_bytes);
    float scale = 0;
    XT_OK(xhal_quantize_weights(&qd, w, K, q, &scale, NULL));
    XT_OK(xhal_dequantize_weights(&qd, q, &scale, NULL, w, K));
    double want = 0;
    for (int i = 0; i < K; i++)
        want += (double)a[i] * w[i];
    xhal_buffer_t *ab = xt_upload(cpu, s, a, K * sizeof *a);
    xhal_buffer_t *qb = xt_upload(cpu, s, q, weight_bytes);
    xhal_buffer_t *sb = xt_upload(cpu, s, &scale, sizeof scale), *cb = NULL;
    XT_OK(xhal_buffer_alloc(cpu, BATCH * sizeof(float), XHAL_MEMORY_DEVICE, &cb));
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, 1, 1, K, XHAL_DTYPE_F32);
    d.trans_b = 1;
    d.ldb = ldb;
    d.b_quant = XHAL_QUANT_INT8;
    d.b_scale_mode = XHAL_SCALE_PER_CHANNEL;
    d.b_scale_type = XHAL_DTYPE_F32;
    d.batch = BATCH;
    d.stride_a = d.stride_b = 0;
    d.stride_c = 1;
    d.a = ab, d.b = qb, d.c = cb, d.b_scales = sb;
    uint64_t before = peak_rss();
    XT_OK(xhal_gemm(s, &d));
    XT_OK(xhal_stream_synchronize(s));
    uint64_t grown = peak_rss() - before;
    printf("[ INFO     ] peak RSS grew by %.1f MiB for %d broadcast batches of an INT8 GEMV\n",
           (double)grown / (1 << 20), BATCH);
    assert_true(grown < ((uint64_t)320 << 20));
    float *c = xt_malloc(BATCH * sizeof *c);
    xt_download(s, c, cb, BATCH * sizeof *c);
    for (int i = 0; i < BATCH; i++)
        assert_true(fabs(c[i] - want) <= 1e-4 * (fabs(want) + 1));
    free(a);
    free(w);
    free(q);
    free(c);
    xhal_buffer_free(ab);
    xhal_buffer_free(qb);
    xhal_buffer_free(sb);
    xhal_buffer_free(cb);
    xhal_stream_destroy(s);
}

/* K and V one row each, broadcast to seq_kv positions by a seq stride of 0. */
static void test_attention_unbounded_seq(void **state) {
    (void)state;
    enum { D = 8 };
    xhal_device_t *cpu = xt_open("cpu");
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(cpu, &s));
    float q[D], k[D], v[D], o[D];
    for (int i = 0; i < D; i++)
        q[i] = 0.1f * (float)i, k[i] = 1.0f - 0.1f * (float)i, v[i] = (float)i - 3.5f;
    xhal_buffer_t *qb = xt_upload(cpu, s, q, sizeof q), *kb = xt_upload(cpu, s, k, sizeof k);
    xhal_buffer_t *vb = xt_upload(cpu, s, v, sizeof v), *ob = NULL;
    XT_OK(xhal_buffer_alloc(cpu, sizeof o, XHAL_MEMORY_DEVICE, &ob));
    const int64_t lengths[] = {INT64_MAX, (int64_t)1 << 62, (int64_t)INT32_MAX + 1};
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        xhal_attention_desc_t d;
        xhal_attention_desc_init(&d, 1, 1, 1, 1, lengths[i], D, XHAL_DTYPE_F32, XHAL_LAYOUT_BHSD);
        d.k_strides.seq = d.v_strides.seq = 0;
        d.k_strides.head = d.v_strides.head = 0;
        d.k_strides.batch = d.v_strides.batch = 0;
        d.q = qb, d.k = kb, d.v = vb, d.o = ob;
        XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_attention(s, &d), "seq_kv");
        XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_attention_supports(cpu, &d), "seq_kv");
    }
    /* A broadcast length the engine takes: every key is the same, so O is the one V row. */
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, 1, 1, 1, 1, 100000, D, XHAL_DTYPE_F32, XHAL_LAYOUT_BHSD);
    d.k_strides = d.v_strides = (xhal_attention_strides_t){0, 0, 0};
    d.q = qb, d.k = kb, d.v = vb, d.o = ob;
    XT_OK(xhal_attention(s, &d));
    xt_download(s, o, ob, sizeof o);
    for (int i = 0; i < D; i++)
        assert_true(fabsf(o[i] - v[i]) < 1e-4f);
    xhal_buffer_free(qb);
    xhal_buffer_free(kb);
    xhal_buffer_free(vb);
    xhal_buffer_free(ob);
    xhal_stream_destroy(s);
}

/* Sizes whose products overflow int64: strides saturate, and validation refuses the op. */
static void test_desc_init_saturates(void **state) {
    (void)state;
    xhal_device_t *cpu = xt_open("cpu");
    const int64_t big = (int64_t)1 << 40;
    xhal_gemm_desc_t g;
    xhal_gemm_desc_init(&g, big, 3, big, XHAL_DTYPE_F32);
    assert_true(g.stride_a == INT64_MAX);
    assert_true(g.stride_b == 3 * big);
    assert_true(g.stride_c == 3 * big);
    XT_EXPECT_ERR(XHAL_OUT_OF_RANGE, xhal_gemm_supports(cpu, &g), "a");
    xhal_gemm_desc_init(&g, INT64_MAX, INT64_MAX, -2, XHAL_DTYPE_F32);
    assert_true(g.stride_a == INT64_MIN && g.stride_c == INT64_MAX);
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_gemm_supports(cpu, &g), "k");

    xhal_attention_desc_t a;
    const int64_t huge = (int64_t)1 << 60; /* x 64 overflows */
    for (int layout = 0; layout < 2; layout++) {
        xhal_attention_desc_init(&a, 2, huge, huge, huge, 4, 64, XHAL_DTYPE_F16,
                                 layout ? XHAL_LAYOUT_BSHD : XHAL_LAYOUT_BHSD);
        assert_true(a.q_strides.batch == INT64_MAX);
        assert_true(layout ? a.q_strides.seq == INT64_MAX : a.q_strides.head == INT64_MAX);
        assert_true(xhal_attention_supports(cpu, &a) != XHAL_OK);
    }
}

static int backend_info(const char *name, xhal_backend_info_t *out) {
    size_t count = 0;
    XT_OK(xhal_backend_count(&count));
    for (size_t i = 0; i < count; i++) {
        XT_OK(xhal_backend_info(i, out));
        if (!strcmp(out->name, name)) return 1;
    }
    return 0;
}

/* Before the fix, xhal_init called the data and crashed. */
static void test_plugin_data_entry(void **state) {
    (void)state;
    reset_environment();
    setenv("XHAL_BACKEND_PATH", XT_ODD_DIR, 1);
    XT_OK(xhal_init());
    xhal_backend_info_t info;
    assert_true(backend_info("baddata", &info));
    assert_int_equal(info.status, XHAL_UNSUPPORTED);
    assert_true(xt_contains_word(info.reason, "data"));
    assert_true(xt_contains_word(info.reason, "xhal_backend_entry"));
    assert_true(backend_info("cpu", &info) && info.status == XHAL_OK);
}

static void test_plugin_unknown_status(void **state) {
    (void)state;
    reset_environment();
    setenv("XHAL_BACKEND_PATH", XT_ODD_DIR, 1);
    XT_OK(xhal_init());
    xhal_backend_info_t info;
    assert_true(backend_info("badstatus", &info));
    assert_int_equal(info.status, XHAL_INTERNAL);
    assert_true(xt_contains_word(info.reason, "1234"));
    assert_false(info.loaded);
}

/* 20 folders (that exist: realpath keeps them apart) before the one with the plugins. */
static void test_backend_path_many(void **state) {
    (void)state;
    reset_environment();
    char path[8192] = "", dir[4096];
    for (int i = 0; i < 20; i++) {
        snprintf(dir, sizeof dir, "%s/empty-%02d", XT_ODD_DIR "/../path-test", i);
        mkdir(XT_ODD_DIR "/../path-test", 0755);
        mkdir(dir, 0755);
        size_t used = strlen(path);
        snprintf(path + used, sizeof path - used, "%s:", dir);
    }
    strncat(path, XT_ODD_DIR, sizeof path - strlen(path) - 1);
    setenv("XHAL_BACKEND_PATH", path, 1);
    XT_OK(xhal_init());
    xhal_backend_info_t info;
    assert_true(backend_info("badstatus", &info));
    assert_true(strstr(info.path, "libxhal-badstatus.so") != NULL);
#ifdef XT_INSTALL_PLUGIN
    /* The build's own lib/xhal/ (the install's folder, beside libxhal.so) is still searched. */
    assert_true(backend_info(XT_INSTALL_PLUGIN, &info));
    assert_true(info.path[0] != '\0');
#endif
}

/* Peaks count the CPUs present, not the threads asked for. */
static void test_cpu_threads_peak(void **state) {
    (void)state;
    reset_environment();
    setenv("XHAL_CPU_THREADS", "64", 1);
    xhal_device_t *cpu = xt_open("cpu");
    xhal_device_info_t info = {.struct_size = sizeof info};
    XT_OK(xhal_device_info(cpu, &info));
    assert_int_equal(info.compute_units, 64);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* 64 FLOP/cycle per core is the most of any x86 core (two 16-lane FMA pipes). */
    double most = (double)cpus * 64 * info.clock_ghz * 1e9;
    printf("[ INFO     ] 64 threads on %ld CPUs: peak f32 %.1f GFLOP/s (%s)\n", cpus,
           info.peak_flops[XHAL_DTYPE_F32] * 1e-9, info.peak_source);
    if (cpus < 64 && info.clock_ghz > 0) assert_true(info.peak_flops[XHAL_DTYPE_F32] <= most);
}

/* ---- Lookups racing shutdown and init ---- */

static atomic_int stop_lookups;
static atomic_ulong lookups_done;

static void *lookup_thread(void *arg) {
    (void)arg;
    while (!atomic_load(&stop_lookups)) {
        size_t count = 0;
        xhal_device_t *device = NULL;
        xhal_backend_info_t info;
        if (xhal_device_count(&count) == XHAL_OK && count) (void)xhal_device_get(0, &device);
        (void)xhal_device_open("cpu", &device);
        (void)xhal_device_open("no-such-backend:3", &device);
        if (xhal_backend_count(&count) == XHAL_OK && count) (void)xhal_backend_info(0, &info);
        atomic_fetch_add(&lookups_done, 1);
    }
    return NULL;
}

static void test_lookups_race_shutdown(void **state) {
    (void)state;
    reset_environment();
    setenv("XHAL_CPU_THREADS", "1", 1); /* cheap re-inits */
    setenv("XHAL_BACKENDS", "cpu", 1);
    enum { THREADS = 3, CYCLES = 60 };
    pthread_t threads[THREADS];
    atomic_store(&stop_lookups, 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, lookup_thread, NULL), 0);
    for (int i = 0; i < CYCLES; i++) {
        xhal_shutdown();
        XT_OK(xhal_init());
    }
    atomic_store(&stop_lookups, 1);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    printf("[ INFO     ] %lu lookups raced %d shutdowns\n", atomic_load(&lookups_done), CYCLES);
}

/*
 * Two groups: the heavy tests (a 134M-FMA broadcast GEMV, 60 re-inits racing lookups) run as
 * `reliability_heavy` ("heavy" argument), labelled slow, which keeps them out of the valgrind
 * stage, where they would take minutes and check nothing valgrind adds to.
 */
int main(int argc, char **argv) {
    const struct CMUnitTest heavy[] = {
        /* First: it measures this process's peak memory. */
        cmocka_unit_test(test_gemv_broadcast_scratch),
        cmocka_unit_test(test_qgemv_broadcast_scratch),
        cmocka_unit_test_teardown(test_lookups_race_shutdown, teardown),
    };
    const struct CMUnitTest light[] = {
        cmocka_unit_test(test_attention_unbounded_seq),
        cmocka_unit_test(test_desc_init_saturates),
        cmocka_unit_test_teardown(test_plugin_data_entry, teardown),
        cmocka_unit_test_teardown(test_plugin_unknown_status, teardown),
        cmocka_unit_test_teardown(test_backend_path_many, teardown),
        cmocka_unit_test_teardown(test_cpu_threads_peak, teardown),
    };
    if (argc > 1 && !strcmp(argv[1], "heavy")) return cmocka_run_group_tests(heavy, NULL, teardown);
    return cmocka_run_group_tests(light, NULL, teardown);
}
