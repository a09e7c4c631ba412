/* Status names, last_error (thread-local), version, init/shutdown idempotence and threads. */
#include "test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_status_names(void **state) {
    (void)state;
    static const struct {
        xhal_status_t status;
        const char *name;
    } names[] = {
        {XHAL_OK, "XHAL_OK"},
        {XHAL_INVALID_ARGUMENT, "XHAL_INVALID_ARGUMENT"},
        {XHAL_OUT_OF_RANGE, "XHAL_OUT_OF_RANGE"},
        {XHAL_OUT_OF_MEMORY, "XHAL_OUT_OF_MEMORY"},
        {XHAL_UNSUPPORTED, "XHAL_UNSUPPORTED"},
        {XHAL_UNAVAILABLE, "XHAL_UNAVAILABLE"},
        {XHAL_DEVICE_ERROR, "XHAL_DEVICE_ERROR"},
        {XHAL_INTERNAL, "XHAL_INTERNAL"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *got = xhal_status_name(names[i].status);
        assert_non_null(got);
        assert_string_equal(got, names[i].name);
    }
    assert_string_equal(xhal_status_name((xhal_status_t)8), "XHAL_UNKNOWN_STATUS");
    assert_string_equal(xhal_status_name((xhal_status_t)99), "XHAL_UNKNOWN_STATUS");
    assert_string_equal(xhal_status_name((xhal_status_t)-1), "XHAL_UNKNOWN_STATUS");
}

static void test_version(void **state) {
    (void)state;
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", XHAL_VERSION_MAJOR, XHAL_VERSION_MINOR,
             XHAL_VERSION_PATCH);
    assert_non_null(xhal_version_string());
    assert_string_equal(xhal_version_string(), expect);
    assert_int_equal(xhal_version(), ((uint32_t)XHAL_VERSION_MAJOR << 16) |
                                         ((uint32_t)XHAL_VERSION_MINOR << 8) |
                                         (uint32_t)XHAL_VERSION_PATCH);
    /* A static string: the same pointer every time. */
    assert_ptr_equal(xhal_version_string(), xhal_version_string());
}

static void test_dtype_names_and_sizes(void **state) {
    (void)state;
    assert_string_equal(xhal_dtype_name(XHAL_DTYPE_F32), "f32");
    assert_string_equal(xhal_dtype_name(XHAL_DTYPE_F16), "f16");
    assert_string_equal(xhal_dtype_name(XHAL_DTYPE_BF16), "bf16");
    assert_string_equal(xhal_dtype_name(XHAL_DTYPE_COUNT), "invalid");
    assert_string_equal(xhal_dtype_name((xhal_dtype_t)-1), "invalid");
    assert_int_equal(xhal_dtype_size(XHAL_DTYPE_F32), 4);
    assert_int_equal(xhal_dtype_size(XHAL_DTYPE_F16), 2);
    assert_int_equal(xhal_dtype_size(XHAL_DTYPE_BF16), 2);
    assert_int_equal(xhal_dtype_size(XHAL_DTYPE_COUNT), 0);
    assert_int_equal(xhal_dtype_size((xhal_dtype_t)1000), 0);
}

/* ---- last_error ---------------------------------------------------------------------------- */

typedef struct {
    char before[256];
    char after[256];
    xhal_status_t status;
} error_probe_t;

static void *error_thread(void *arg) {
    error_probe_t *probe = arg;
    snprintf(probe->before, sizeof probe->before, "%s", xhal_last_error());
    probe->status = xhal_device_get(1000000, NULL); /* fails: NULL out_device */
    snprintf(probe->after, sizeof probe->after, "%s", xhal_last_error());
    return NULL;
}

static void test_last_error_is_per_thread(void **state) {
    (void)state;
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_device_count(NULL), "out_count");
    char mine[256];
    snprintf(mine, sizeof mine, "%s", xhal_last_error());
    assert_true(strlen(mine) > 0);

    /* A fresh thread has seen no failure; its own failure does not change this thread's. */
    error_probe_t probe;
    memset(&probe, 0, sizeof probe);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, error_thread, &probe), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(probe.before, "");
    assert_int_not_equal(probe.status, XHAL_OK);
    assert_true(strlen(probe.after) > 0);
    assert_string_not_equal(probe.after, mine);
    assert_string_equal(xhal_last_error(), mine);

    /* The message is replaced by the next failure on this thread. */
    XT_EXPECT_ERR(XHAL_INVALID_ARGUMENT, xhal_backend_count(NULL), "out_count");
    assert_non_null(strstr(xhal_last_error(), "xhal_backend_count"));
}

/* ---- init / shutdown ----------------------------------------------------------------------- */

static void test_init_shutdown_idempotent(void **state) {
    (void)state;
    size_t n1 = 0, n2 = 0, n3 = 0;
    XT_OK(xhal_init());
    XT_OK(xhal_init());
    XT_OK(xhal_device_count(&n1));
    assert_true(n1 >= 1);
    xhal_shutdown();
    xhal_shutdown();
    /* Device lookups initialise implicitly after a shutdown. */
    XT_OK(xhal_device_count(&n2));
    assert_int_equal(n1, n2);
    xhal_shutdown();
    XT_OK(xhal_init());
    XT_OK(xhal_device_count(&n3));
    assert_int_equal(n1, n3);
    xhal_device_t *dev = xt_open("cpu");
    xhal_device_info_t info = {.struct_size = sizeof info};
    XT_OK(xhal_device_info(dev, &info));
    assert_string_equal(info.backend, "cpu");
    xhal_shutdown();
}

#define NTHREADS 8

typedef struct {
    pthread_barrier_t *barrier;
    int mode; /* 0: init + count, 1: shutdown, 2: init/shutdown loop */
    xhal_status_t status;
    size_t count;
} init_arg_t;

static void *init_thread(void *p) {
    init_arg_t *arg = p;
    pthread_barrier_wait(arg->barrier);
    arg->status = XHAL_OK;
    if (arg->mode == 0) {
        arg->status = xhal_init();
        if (arg->status == XHAL_OK) arg->status = xhal_device_count(&arg->count);
    } else if (arg->mode == 1) {
        xhal_shutdown();
    } else {
        for (int i = 0; i < 6 && arg->status == XHAL_OK; i++) {
            arg->status = xhal_init();
            xhal_shutdown();
        }
    }
    return NULL;
}

static void run_threads(int mode, init_arg_t *args) {
    pthread_t threads[NTHREADS];
    pthread_barrier_t barrier;
    assert_int_equal(pthread_barrier_init(&barrier, NULL, NTHREADS), 0);
    for (int i = 0; i < NTHREADS; i++) {
        args[i].barrier = &barrier;
        args[i].mode = mode;
        args[i].count = 0;
        assert_int_equal(pthread_create(&threads[i], NULL, init_thread, &args[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&barrier);
}

static void test_init_shutdown_threads(void **state) {
    (void)state;
    init_arg_t args[NTHREADS];
    xhal_shutdown();
    size_t expect = 0;
    XT_OK(xhal_device_count(&expect));
    xhal_shutdown();

    run_threads(0, args); /* all initialise at once: every one sees the same devices */
    for (int i = 0; i < NTHREADS; i++) {
        if (args[i].status != XHAL_OK)
            fail_msg("thread %d: %s", i, xhal_status_name(args[i].status));
        assert_int_equal(args[i].count, expect);
    }
    run_threads(1, args); /* all shut down at once */
    run_threads(2, args); /* init and shutdown interleaved */
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(args[i].status, XHAL_OK);

    size_t after = 0;
    XT_OK(xhal_device_count(&after));
    assert_int_equal(after, expect);
    xhal_device_t *dev = xt_open("cpu");
    xhal_stream_t *s = NULL;
    XT_OK(xhal_stream_create(dev, &s));
    XT_OK(xhal_stream_synchronize(s));
    xhal_stream_destroy(s);
}

/* ---- logging -------------------------------------------------------------------------------- */

/* Runs failing calls and a shutdown with a buffer, a stream and an event left alive, with stdout
 * and stderr captured; returns how many bytes the library printed (the text in `text`). */
static long run_captured(char *text, size_t size) {
    fflush(stdout);
    fflush(stderr);
    FILE *capture = tmpfile();
    assert_non_null(capture);
    int saved_out = dup(1), saved_err = dup(2);
    assert_true(saved_out >= 0 && saved_err >= 0);
    assert_true(dup2(fileno(capture), 1) >= 0 && dup2(fileno(capture), 2) >= 0);

    xhal_shutdown();
    xhal_status_t st = xhal_init();
    xhal_device_t *d = NULL;
    xhal_buffer_t *b = NULL;
    xhal_stream_t *s = NULL;
    xhal_event_t *e = NULL;
    (void)xhal_device_open("nosuchbackend", &d);
    (void)xhal_buffer_alloc(NULL, 16, XHAL_MEMORY_DEVICE, &b);
    if (xhal_device_open("cpu", &d) == XHAL_OK) {
        (void)xhal_buffer_alloc(d, 64, XHAL_MEMORY_DEVICE, &b);
        (void)xhal_stream_create(d, &s);
        (void)xhal_event_create(d, &e);
    }
    xhal_shutdown(); /* releases the three handles left alive */

    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    long n = ftell(capture);
    rewind(capture);
    size_t got = fread(text, 1, size - 1, capture);
    text[got] = '\0';
    fclose(capture);
    assert_int_equal(st, XHAL_OK);
    assert_non_null(b);
    assert_non_null(s);
    assert_non_null(e);
    return n;
}

static void test_silent_by_default(void **state) {
    (void)state;
    char text[4096];
    unsetenv("XHAL_LOG");
    long n = run_captured(text, sizeof text);
    if (n != 0) fail_msg("the library printed %ld bytes with XHAL_LOG unset: \"%s\"", n, text);
}

static void test_log_warn_names_leftovers(void **state) {
    (void)state;
    char text[4096];
    setenv("XHAL_LOG", "warn", 1);
    long n = run_captured(text, sizeof text);
    unsetenv("XHAL_LOG");
    xhal_shutdown();
    if (n == 0) fail_msg("XHAL_LOG=warn and handles left at shutdown, but nothing was printed");
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
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_dtype_names_and_sizes),
        cmocka_unit_test(test_last_error_is_per_thread),
        cmocka_unit_test(test_init_shutdown_idempotent),
        cmocka_unit_test(test_init_shutdown_threads),
        cmocka_unit_test(test_silent_by_default),
        cmocka_unit_test(test_log_warn_names_leftovers),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
