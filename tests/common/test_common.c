/*
 * backends/common: the INI reader (syntax, errors, files that are not files, size and line caps,
 * a section index that is not quadratic), the tuning lookup (which sections apply, in which
 * order; parameters and their ranges), the program cache (round trip; an entry whose header is
 * valid but whose bytes are damaged is refused and removed; nothing half-written left behind),
 * the options and the serving-feature refusals.
 *
 * Every test that reads a file runs under an alarm: a reader that blocks on a FIFO or reads
 * /dev/zero forever fails the test instead of hanging it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"
#include "xc_cache.h"
#include "xc_features.h"
#include "xc_file.h"
#include "xc_ini.h"
#include "xc_options.h"
#include "xc_tuned.h"
#include "xc_tuning.h"

#ifndef XT_WORK_DIR
#error "XT_WORK_DIR must name a scratch folder"
#endif

/* ---- A host for the common code: errors and log lines kept, options from a table ---- */

static char last_error[1024], log_text[8192];
static int warnings;
static const char *option_names[8], *option_values[8];

static xhal_status_t host_set_error(xhal_status_t status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    return status;
}

static void host_log(xhal_log_level_t level, const char *fmt, ...) {
    char line[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    warnings += level == XHAL_LOG_WARN;
    size_t used = strlen(log_text);
    snprintf(log_text + used, sizeof log_text - used, "%s\n", line);
}

static int host_log_enabled(xhal_log_level_t level) {
    (void)level;
    return 1;
}

static const char *host_option(const char *name) {
    for (size_t i = 0; i < 8 && option_names[i]; i++)
        if (strcmp(option_names[i], name) == 0) return option_values[i];
    return NULL;
}

static const xhal_host_api_t host = {sizeof(xhal_host_api_t), host_set_error, host_log,
                                     host_log_enabled, host_option};

static void set_option(size_t slot, const char *name, const char *value) {
    option_names[slot] = name;
    option_values[slot] = value;
}

static int reset(void **state) {
    (void)state;
    last_error[0] = log_text[0] = '\0';
    warnings = 0;
    memset(option_names, 0, sizeof option_names);
    alarm(30); /* a reader that hangs fails here instead of in ctest's timeout */
    return 0;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static xc_ini_t *parse(const char *text, char *error, size_t size) {
    return xc_ini_parse(text, strlen(text), "test.ini", error, size);
}

/* ---- INI ---- */

static void test_ini_syntax(void **state) {
    (void)state;
    char error[512] = "";
    const char *text = "\xEF\xBB\xBF"
                       "top = level\r\n"
                       "; a comment\n"
                       "# another\n"
                       "[First]\n"
                       "  key = one  ; inline comment\n"
                       "url = a;b#c ; only the part after the blank is a comment\n"
                       "note = issue #12\n"
                       "empty =\n"
                       "[second] ; comment after a header\n"
                       "x=1\n"
                       "[first]\n"
                       "key = two\n"
                       "[cpu:0 AMD EPYC (2 units)]\n"
                       "copy = 1e10\n";
    xc_ini_t *ini = parse(text, error, sizeof error);
    if (!ini) fail_msg("%s", error);
    assert_int_equal(xc_ini_section_count(ini), 4); /* "", First, second, cpu:0 ... */
    assert_string_equal(xc_ini_get(ini, "", "top"), "level");
    assert_string_equal(xc_ini_get(ini, "FIRST", "KEY"), "two"); /* merged; the last one wins */
    size_t first = xc_ini_find(ini, "first");
    assert_int_equal(xc_ini_key_count(ini, first), 5);
    const char *value = NULL;
    int line = 0;
    assert_string_equal(xc_ini_key_at(ini, first, 0, &value, &line), "key");
    assert_string_equal(value, "one");
    assert_int_equal(line, 5);
    assert_string_equal(xc_ini_get(ini, "first", "url"), "a;b#c");
    assert_string_equal(xc_ini_get(ini, "first", "note"), "issue #12");
    assert_string_equal(xc_ini_get(ini, "first", "empty"), "");
    assert_string_equal(xc_ini_get(ini, "second", "x"), "1");
    assert_string_equal(xc_ini_get(ini, "cpu:0 AMD EPYC (2 units)", "copy"), "1e10");
    assert_null(xc_ini_get(ini, "second", "y"));
    assert_null(xc_ini_get(ini, "third", "x"));
    assert_int_equal(xc_ini_find(ini, "third"), XC_INI_NONE);
    xc_ini_free(ini);
    /* Nothing past `size` is read: the same text cut short parses as the shorter file. */
    ini = xc_ini_parse("[a]\nk = v\n[b]", 8, "cut", error, sizeof error);
    assert_non_null(ini);
    assert_int_equal(xc_ini_section_count(ini), 1);
    xc_ini_free(ini);
}

static void test_ini_errors(void **state) {
    (void)state;
    char long_name[400], long_line[5000];
    memset(long_name, 'a', sizeof long_name);
    memcpy(long_name, "[", 1);
    memcpy(long_name + 301, "]\n", 3);
    memset(long_line, 'v', sizeof long_line);
    memcpy(long_line, "k = ", 4);
    long_line[sizeof long_line - 1] = '\0';
    const struct {
        const char *text;
        const char *needle;
    } bad[] = {
        {"[default\nk = v\n", "line 1: a section header without ']'"},
        {"\n[a] b\n", "line 2: text after a section header"},
        {"[ ]\n", "line 1: an empty section name"},
        {"[a]\njust words\n", "line 2: expected"},
        {"[a]\n= value\n", "line 2: a value without a key"},
        {long_name, "line 1: a section name over 255 characters"},
        {long_line, "line 1: a line over 4096 characters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char error[512] = "";
        xc_ini_t *ini = parse(bad[i].text, error, sizeof error);
        if (ini) fail_msg("case %zu parsed", i);
        if (!strstr(error, bad[i].needle))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, error, bad[i].needle);
        assert_non_null(strstr(error, "test.ini"));
    }
    char error[512] = "";
    assert_null(xc_ini_parse("[a]\nk = v\0w\n", 12, "nul", error, sizeof error));
    assert_non_null(strstr(error, "line 2: a NUL byte"));
}

/* Issue 14, defect 9: /dev/zero, a FIFO or a link to either hung the readers; now refused. */
static void test_ini_refuses_what_is_not_a_file(void **state) {
    (void)state;
    assert_int_equal(xc_mkdirs(XT_WORK_DIR), 0);
    char fifo[512], link_zero[512], link_fifo[512];
    snprintf(fifo, sizeof fifo, "%s/fifo.ini", XT_WORK_DIR);
    snprintf(link_zero, sizeof link_zero, "%s/zero.ini", XT_WORK_DIR);
    snprintf(link_fifo, sizeof link_fifo, "%s/fifo-link.ini", XT_WORK_DIR);
    unlink(fifo), unlink(link_zero), unlink(link_fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(symlink("/dev/zero", link_zero), 0);
    assert_int_equal(symlink(fifo, link_fifo), 0);
    const char *paths[] = {"/dev/zero", fifo, link_zero, link_fifo, XT_WORK_DIR};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char error[512] = "";
        assert_null(xc_ini_load(paths[i], error, sizeof error));
        if (!strstr(error, "is not a regular file"))
            fail_msg("%s: \"%s\" does not say it is not a regular file", paths[i], error);
    }
    char error[512] = "";
    assert_null(xc_ini_load(XT_WORK_DIR "/no-such.ini", error, sizeof error));
    assert_non_null(strstr(error, "cannot open"));
}

static void test_ini_caps_file_size(void **state) {
    (void)state;
    char path[512], error[512] = "";
    snprintf(path, sizeof path, "%s/huge.ini", XT_WORK_DIR);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)XC_INI_MAX_BYTES + 1), 0); /* sparse: no disk used */
    close(fd);
    assert_null(xc_ini_load(path, error, sizeof error));
    assert_non_null(strstr(error, "is larger than"));
    unlink(path);
}

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time: what a busy machine does not inflate */
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Issue 14, defect 9: 200,000 sections took over 120 s (each section looked up by a scan). */
static void test_ini_many_sections(void **state) {
    (void)state;
    enum { SECTIONS = 200000 };
    size_t size = (size_t)SECTIONS * 48;
    char *text = xt_malloc(size);
    size_t used = 0;
    for (int i = 0; i < SECTIONS; i++)
        used += (size_t)snprintf(text + used, size - used, "[device %d]\nmatch = <d%d>\n", i, i);
    char error[512] = "";
    double start = cpu_seconds();
    xc_ini_t *ini = xc_ini_parse(text, used, "many", error, sizeof error);
    assert_non_null(ini);
    size_t found = xc_ini_find(ini, "DEVICE 199999");
    xc_device_id_t id = {.name = "<d199999>"};
    size_t matched = xc_tuning_match(ini, &id);
    double seconds = cpu_seconds() - start;
    assert_int_equal(xc_ini_section_count(ini), SECTIONS);
    assert_int_equal(found, SECTIONS - 1);
    assert_int_equal(matched, SECTIONS - 1);
    printf("200,000 sections: %.3f s of CPU time\n", seconds);
    if (seconds > 1.0) fail_msg("200,000 sections took %.2f s of CPU time", seconds);
    xc_ini_free(ini);
    free(text);
}

static void test_ini_write(void **state) {
    (void)state;
    char path[512], error[512] = "";
    snprintf(path, sizeof path, "%s/written.ini", XT_WORK_DIR);
    xc_ini_t *ini = xc_ini_new();
    assert_int_equal(xc_ini_set(ini, "opencl:0 [pocl]", "flops", "5e10"), 0);
    assert_int_equal(xc_ini_set(ini, "cpu:0", "copy", "1e10"), 0);
    assert_int_equal(xc_ini_set(ini, "", "version", "1"), 0); /* set last, written first */
    assert_int_equal(xc_ini_set(ini, "cpu:0", "copy", "2e10"), 0);
    assert_int_equal(xc_ini_write(ini, path, "; header\n"), 0);
    xc_ini_remove_section(ini, "opencl:0 [pocl]");
    assert_int_equal(xc_ini_section_count(ini), 2);
    assert_string_equal(xc_ini_get(ini, "cpu:0", "copy"), "2e10"); /* the index was rebuilt */
    xc_ini_free(ini);
    ini = xc_ini_load(path, error, sizeof error);
    if (!ini) fail_msg("%s", error);
    assert_string_equal(xc_ini_get(ini, "", "version"), "1");
    assert_string_equal(xc_ini_get(ini, "cpu:0", "copy"), "2e10");
    assert_string_equal(xc_ini_get(ini, "opencl:0 [pocl]", "flops"), "5e10");
    xc_ini_free(ini);
    /*
     * Found by fuzz_ini: the writer wrote what the reader then refused or read otherwise (a
     * "key = value" line over XC_INI_MAX_LINE made the whole file unreadable; a first key
     * starting with a byte-order mark lost it). Now such a document is refused with EINVAL
     * and nothing is written, and a leading mark is kept behind one of its own.
     */
    static const char *const bad[][3] = {
        {"s", "k", "x\n[forged]"}, {"s\n[t]", "k", "v"}, {"s", "", "v"}, {"s", "[k", "v"},
        {"s", " ;k", "v"},          {"s", "k=j", "v"},    {" s ", "k", "v"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unlink(path);
        ini = xc_ini_new();
        assert_int_equal(xc_ini_set(ini, bad[i][0], bad[i][1], bad[i][2]), 0);
        errno = 0;
        assert_int_equal(xc_ini_write(ini, path, NULL), -1);
        assert_int_equal(errno, EINVAL);
        assert_int_equal(access(path, F_OK), -1);
        xc_ini_free(ini);
    }
    char *value = xt_malloc(XC_INI_MAX_LINE);
    memset(value, 'v', XC_INI_MAX_LINE - 3);
    value[XC_INI_MAX_LINE - 3] = '\0'; /* "k = " + value: one character over */
    ini = xc_ini_new();
    assert_int_equal(xc_ini_set(ini, "s", "k", value), 0);
    assert_int_equal(xc_ini_write(ini, path, NULL), -1);
    value[XC_INI_MAX_LINE - 4] = '\0'; /* exactly the longest line */
    assert_int_equal(xc_ini_set(ini, "s", "k", value), 0);
    assert_int_equal(xc_ini_set(ini, "", "\xEF\xBB\xBFkey", "1"), 0);
    assert_int_equal(xc_ini_write(ini, path, NULL), 0);
    xc_ini_free(ini);
    ini = xc_ini_load(path, error, sizeof error);
    if (!ini) fail_msg("%s", error);
    assert_string_equal(xc_ini_get(ini, "s", "k"), value);
    assert_string_equal(xc_ini_get(ini, "", "\xEF\xBB\xBFkey"), "1");
    xc_ini_free(ini);
    free(value);
    unlink(path);
    /* Written through a temporary file renamed into place: nothing else is left. */
    DIR *dir = opendir(XT_WORK_DIR);
    assert_non_null(dir);
    for (struct dirent *e = readdir(dir); e; e = readdir(dir))
        if (strstr(e->d_name, "written.ini.")) fail_msg("left behind: %s", e->d_name);
    closedir(dir);
}

/* ---- Tuning ---- */

typedef struct tuned {
    int width, depth;
    char tile[16];
} tuned_t;

static const xc_param_t params[] = {
    XC_INT_PARAM(tuned_t, width, 4, 16, 1),
    XC_INT_PARAM(tuned_t, depth, 1, 64, 0),
    XC_TEXT_PARAM(tuned_t, tile),
};

static void count_warning(void *context, const char *message) {
    (void)message;
    (*(int *)context)++;
}

static void apply_all(const xc_ini_t *ini, const xc_device_id_t *id, tuned_t *out, int *problems) {
    size_t sections[4];
    size_t count = xc_tuning_sections(ini, id, sections);
    for (size_t i = 0; i < count; i++)
        xc_tuning_apply(ini, sections[i], "test.ini", params, 3, out, count_warning, problems);
}

static void test_tuning_sections(void **state) {
    (void)state;
    const char *text = "[default]\nwidth = 4\ndepth = 1\ntile = small\n"
                       "[gpus]\nmatch = *\ntype = gpu\ndepth = 2\n"
                       "[pocl]\nmatch = Portable Computing Language, pthread\ntype = cpu\n"
                       "depth = 3\n"
                       "[sm_90]\nwidth = 8\n"
                       "[NVIDIA H100 80GB HBM3]\ntile = large\n"
                       "[datasheet]\nmatch = H100 SXM|H100 80GB HBM3\n";
    char error[512] = "";
    xc_ini_t *ini = parse(text, error, sizeof error);
    assert_non_null(ini);
    int problems = 0;

    tuned_t t = {0, 0, ""};
    xc_device_id_t h100 = {.name = "NVIDIA H100 80GB HBM3", .arch = "sm_90", .type = "gpu"};
    apply_all(ini, &h100, &t, &problems);
    /* [default], then [sm_90], then the first match ([gpus]), then the device's own section. */
    assert_int_equal(t.width, 8);
    assert_int_equal(t.depth, 2);
    assert_string_equal(t.tile, "large");

    t = (tuned_t){0, 0, ""};
    xc_device_id_t pocl = {.name = "pthread-skylake",
                           .type = "cpu",
                           .identity = "pthread-skylake | AuthenticAMD | Portable Computing "
                                       "Language"};
    apply_all(ini, &pocl, &t, &problems);
    assert_int_equal(t.width, 4);
    assert_int_equal(t.depth, 3); /* [gpus] is for GPUs only */
    assert_string_equal(t.tile, "small");

    t = (tuned_t){0, 0, ""};
    xc_device_id_t other = {.name = "Some NPU", .type = "accelerator"};
    apply_all(ini, &other, &t, &problems);
    assert_int_equal(t.depth, 1); /* nothing but [default] */
    assert_int_equal(problems, 0);

    /* devices.ini's rule: '|'-separated names, first match in file order. */
    xc_device_id_t named = {.name = "NVIDIA H100 SXM5"};
    /* (no type: the sections that ask for one are not for it) */
    assert_string_equal(xc_ini_section_name(ini, xc_tuning_match(ini, &named)), "datasheet");
    assert_true(xc_tuning_pattern_matches("H100 SXM|H100 80GB HBM3", "nvidia h100 80gb hbm3"));
    assert_true(xc_tuning_pattern_matches(" a , b ", "xbx"));
    assert_false(xc_tuning_pattern_matches("a,,b", "xyz"));
    assert_false(xc_tuning_pattern_matches(NULL, "xyz"));
    xc_ini_free(ini);
}

static void test_tuning_values(void **state) {
    (void)state;
    const char *text = "[default]\nwidth = 12\ndepth = 65\ntile = " /* 12: not a power of two */
                       "much-too-long-name\nwidht = 8\nmatch = x\ndepth = 7\nwidth = 16\n";
    char error[512] = "";
    xc_ini_t *ini = parse(text, error, sizeof error);
    assert_non_null(ini);
    tuned_t t = {4, 1, "small"};
    int problems = 0;
    size_t count = xc_tuning_apply(ini, 0, "test.ini", params, 3, &t, count_warning, &problems);
    assert_int_equal(count, 4); /* width 12, depth 65, the long tile, the typo "widht" */
    assert_int_equal(problems, 4);
    assert_int_equal(t.width, 16);
    assert_int_equal(t.depth, 7);
    assert_string_equal(t.tile, "small");
    assert_int_equal(xc_tuning_check(ini, "test.ini", params, 3, NULL, NULL), 4);
    xc_ini_free(ini);
}

/* The file: the variable's, else the user's cache, else the install's, else the built-in copy. */
static void test_tuning_file(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/mine.ini", XT_WORK_DIR);
    write_text(path, "[default]\ndepth = 9\n");
    set_option(0, "XDG_CACHE_HOME", XT_WORK_DIR "/no-cache-here");
    set_option(1, "XHAL_TEST_TUNING", path);
    xc_device_id_t id = {.name = "x"};
    xc_tuning_file_t file;
    xc_tuning_open(&host, "test", &id, NULL, "[default]\ndepth = 1\n", &file);
    assert_non_null(file.ini);
    assert_string_equal(file.source, path);
    assert_string_equal(xc_ini_get(file.ini, "default", "depth"), "9");
    xc_tuning_close(&file);
    /* A named file that is not a file: warned about, and the next one used. */
    set_option(1, "XHAL_TEST_TUNING", "/dev/zero");
    xc_tuning_open(&host, "test", &id, NULL, "[default]\ndepth = 1\n", &file);
    assert_non_null(file.ini);
    assert_non_null(strstr(file.source, "compiled in"));
    assert_string_equal(xc_ini_get(file.ini, "default", "depth"), "1");
    assert_non_null(strstr(log_text, "/dev/zero is not a regular file"));
    xc_tuning_close(&file);
}

/* The device's tuned file over the shipped tuning; a corrupt, stale or foreign one ignored. */
static void test_tuned_file(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/tuned.ini", XT_WORK_DIR);
    static const char shipped[] = "[default]\ndepth = 1\nwidth = 4\n";
    static const char header[] = "[xhal-tuning]\nbackend = test\ndevice = Dev 1\n"
                                 "driver = 2.0\nkernels = abc\n";
    xc_device_id_t id = {.name = "Dev 1", .driver = "2.0", .kernels = "abc"};
    xc_tuning_file_t file;
    struct {
        const char *body, *log; /* the file after the header; what the log must say */
        int used;
    } cases[] = {
        {"[parameters]\ndepth = 9\n", "tuned parameters from", 1},
        {"[parameters\ndepth = 9\n", "ignored: ", 0},        /* corrupt: does not parse */
        {"[parameters]\nkernels = old\ndepth = 9\n", "", 1}, /* a key, not the header's */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", header, cases[i].body);
        write_text(path, text);
        set_option(0, "XHAL_TUNING_FILE", path);
        log_text[0] = '\0';
        xc_tuning_open(&host, "test", &id, NULL, shipped, &file);
        assert_non_null(file.ini);
        size_t sections[4], count = xc_tuning_sections(file.ini, &id, sections);
        const char *depth = NULL;
        for (size_t s = 0; s < count; s++)
            if (xc_ini_value(file.ini, sections[s], "depth"))
                depth = xc_ini_value(file.ini, sections[s], "depth");
        assert_string_equal(depth, cases[i].used ? "9" : "1");
        assert_int_equal(file.tuned[0] != '\0', cases[i].used);
        assert_non_null(strstr(log_text, cases[i].log));
        xc_tuning_close(&file);
    }
    /* Stale (other kernels) and foreign (another device) files: reported and ignored. */
    const char *wrong[] = {"kernels = abd", "device = Dev 2"};
    for (size_t i = 0; i < 2; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "[xhal-tuning]\nbackend = test\ndevice = Dev 1\ndriver = 2.0\nkernels = abc\n"
                 "%s\n[parameters]\ndepth = 9\n",
                 wrong[i]);
        write_text(path, text);
        log_text[0] = '\0';
        xc_tuning_open(&host, "test", &id, NULL, shipped, &file);
        assert_string_equal(file.tuned, "");
        assert_non_null(strstr(log_text, i == 0 ? "stale: " : "foreign: "));
        assert_non_null(strstr(file.ignored, path));
        assert_null(xc_ini_get(file.ini, "Dev 1", "depth"));
        xc_tuning_close(&file);
    }
    /* Without the variable: the per-device file in the user's cache, found by name and driver. */
    set_option(0, "XDG_CACHE_HOME", XT_WORK_DIR "/tuned-cache");
    xc_tuned_key_t key = {"test", "Dev 1", "2.0", "abc"};
    char cached[512];
    assert_int_equal(xc_tuned_path(xc_host_lookup(&host), &key, cached, sizeof cached), 0);
    assert_non_null(strstr(cached, "/tuned-cache/xhal/tuning/test-dev-1-"));
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tuned-cache/xhal/tuning", XT_WORK_DIR);
    assert_int_equal(xc_mkdirs(dir), 0);
    write_text(cached, "[xhal-tuning]\nbackend = test\ndevice = Dev 1\ndriver = 2.0\n"
                       "kernels = abc\n[parameters]\nwidth = 16\n");
    xc_tuning_open(&host, "test", &id, NULL, shipped, &file);
    assert_string_equal(file.tuned, cached);
    assert_string_equal(xc_ini_get(file.ini, "Dev 1", "width"), "16");
    xc_tuning_close(&file);
    /* Another driver has another file: not tuned. */
    xc_device_id_t other = {.name = "Dev 1", .driver = "2.1", .kernels = "abc"};
    xc_tuning_open(&host, "test", &other, NULL, shipped, &file);
    assert_string_equal(file.tuned, "");
    xc_tuning_close(&file);
}

/* ---- The program cache ---- */

static void open_cache(xc_cache_t *cache) {
    set_option(0, "XHAL_TEST_CACHE", XT_WORK_DIR "/cache");
    assert_int_equal(xc_cache_open(cache, &host, "test"), 1);
}

static void test_cache_round_trip(void **state) {
    (void)state;
    xc_cache_t cache;
    open_cache(&cache);
    char key[XC_CACHE_KEY_CHARS + 1], other[XC_CACHE_KEY_CHARS + 1];
    const char *parts[] = {"device", "options", "source"};
    const char *moved[] = {"device", "option", "ssource"}; /* same bytes, other boundaries */
    xc_cache_key(parts, 3, key);
    xc_cache_key(moved, 3, other);
    assert_string_not_equal(key, other);
    unsigned char payload[3000];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)(i * 31 + 7);
    assert_int_equal(xc_cache_store(&cache, "gemm", key, payload, sizeof payload), 0);
    size_t size = 0;
    unsigned char *got = xc_cache_load(&cache, "gemm", key, &size);
    assert_non_null(got);
    assert_int_equal(size, sizeof payload);
    assert_memory_equal(got, payload, sizeof payload);
    free(got);
    assert_null(xc_cache_load(&cache, "gemm", other, &size)); /* a miss: nothing logged */
    assert_int_equal(warnings, 0);
    /* An empty payload is not stored: the reader would refuse and remove it (fuzz_cache). */
    char empty_path[4096];
    xc_cache_path(&cache, "empty", key, empty_path, sizeof empty_path);
    unlink(empty_path); /* left by an earlier run of a broken build */
    assert_int_equal(xc_cache_store(&cache, "empty", key, payload, 0), -1);
    assert_int_equal(access(empty_path, F_OK), -1);
    assert_int_equal(warnings, 0);
    /* Off: XHAL_<BACKEND>_CACHE=0. */
    set_option(0, "XHAL_TEST_CACHE", "0");
    assert_int_equal(xc_cache_open(&cache, &host, "test"), 0);
    assert_null(xc_cache_load(&cache, "gemm", key, &size));
}

/*
 * Issue 14, defect 1: an entry whose header (magic, key, size) is valid but whose payload is
 * damaged went to the runtime (PoCL asserted, in every later process too). Now its checksum
 * refuses it, it is removed, and a warning says so.
 */
static void test_cache_damaged_entry(void **state) {
    (void)state;
    xc_cache_t cache;
    open_cache(&cache);
    char key[XC_CACHE_KEY_CHARS + 1], path[4096];
    const char *parts[] = {"damaged"};
    xc_cache_key(parts, 1, key);
    unsigned char payload[4096];
    memset(payload, 0x5a, sizeof payload);
    const long damage[] = {XC_CACHE_HEADER_BYTES, XC_CACHE_HEADER_BYTES + 2000,
                           XC_CACHE_HEADER_BYTES + 4095, 50 /* the checksum itself */};
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
        assert_int_equal(xc_cache_store(&cache, "gemm", key, payload, sizeof payload), 0);
        xc_cache_path(&cache, "gemm", key, path, sizeof path);
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        assert_int_equal(fseek(f, damage[i], SEEK_SET), 0);
        int byte = fgetc(f);
        assert_int_equal(fseek(f, damage[i], SEEK_SET), 0);
        fputc(byte ^ 0x10, f); /* one bit */
        fclose(f);
        warnings = 0;
        size_t size = 99;
        assert_null(xc_cache_load(&cache, "gemm", key, &size));
        assert_int_equal(size, 0);
        assert_int_equal(warnings, 1);
        assert_non_null(strstr(log_text, "refused"));
        assert_int_equal(access(path, F_OK), -1); /* removed: the next process rebuilds */
    }
    /* Cut short, grown, another key's header, a foreign file. */
    unsigned char bytes[XC_CACHE_HEADER_BYTES + 64];
    assert_int_equal(xc_cache_store(&cache, "gemm", key, payload, 64), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(bytes, 1, sizeof bytes, f), sizeof bytes);
    fclose(f);
    size_t offset = 0, size = 0;
    char why[256];
    assert_int_equal(xc_cache_entry_check(bytes, sizeof bytes, key, &offset, &size, why, 256), 0);
    assert_int_equal(offset, XC_CACHE_HEADER_BYTES);
    assert_int_equal(size, 64);
    assert_int_equal(xc_cache_entry_check(bytes, sizeof bytes - 1, key, &offset, &size, why, 256),
                     -1);
    assert_non_null(strstr(why, "holds"));
    char another[XC_CACHE_KEY_CHARS + 1];
    memset(another, 'f', XC_CACHE_KEY_CHARS);
    another[XC_CACHE_KEY_CHARS] = '\0';
    assert_int_equal(xc_cache_entry_check(bytes, sizeof bytes, another, &offset, &size, why, 256),
                     -1);
    assert_int_equal(
        xc_cache_entry_check((const unsigned char *)"garbage", 7, key, &offset, &size, why, 256),
        -1);
    /* An entry that is a FIFO: refused without blocking, and removed. */
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_null(xc_cache_load(&cache, "gemm", key, &size));
    assert_int_equal(access(path, F_OK), -1);
}

/* ---- Options and features ---- */

static void test_options(void **state) {
    (void)state;
    set_option(0, "XHAL_TEST_THREADS", "12");
    set_option(1, "XHAL_TEST_SPIN", "lots");
    set_option(2, "XHAL_TEST_GEMM", "mma");
    set_option(3, "XHAL_TEST_ATTENTION", "warp");
    set_option(4, "XHAL_TEST_STRICT", "1");
    assert_int_equal(xc_option_int(&host, "XHAL_TEST_THREADS", 1, 64, 2), 12);
    assert_int_equal(xc_option_int(&host, "XHAL_TEST_THREADS", 1, 8, 2), 2); /* out of range */
    assert_int_equal(xc_option_int(&host, "XHAL_TEST_SPIN", 0, 10, 3), 3);
    assert_int_equal(xc_option_int(&host, "XHAL_TEST_UNSET", 0, 10, 4), 4);
    assert_int_equal(warnings, 2);
    static const char *const gemm[] = {"auto", "simt", "mma", NULL};
    static const char *const attention[] = {"auto", "fa2", NULL};
    xc_forced_t forced;
    xc_forced_load(&host, "TEST", gemm, attention, &forced);
    assert_string_equal(forced.gemm, "mma");
    assert_string_equal(forced.attention, ""); /* "warp" is not a kind: warned, ignored */
    assert_int_equal(warnings, 3);
    assert_int_equal(forced.strict, 1);
    assert_int_equal(xc_forced_check(&host, "TEST", &forced, "gemm", 0, "simt"), XHAL_OK);
    assert_int_equal(xc_forced_check(&host, "TEST", &forced, "gemm", 1, "simt"), XHAL_UNSUPPORTED);
    assert_string_equal(last_error, "test: XHAL_TEST_GEMM=mma cannot run this GEMM (the simt "
                                    "kernel would)");
    /* A core without options (ABI 2.0): nothing is set. */
    xhal_host_api_t old = host;
    old.struct_size = offsetof(xhal_host_api_t, option);
    assert_null(xhal_host_option(&old, "XHAL_TEST_GEMM"));
    assert_null(xc_host_lookup(&old)("XHAL_TEST_GEMM"));
}

static void test_features(void **state) {
    (void)state;
    xhal_gemm_desc_t g;
    xhal_gemm_desc_init(&g, 4, 4, 4, XHAL_DTYPE_F32);
    assert_int_equal(xc_gemm_features(&host, "x", &g, 0), XHAL_OK);
    g.activation = XHAL_ACTIVATION_SILU;
    assert_int_equal(xc_gemm_features(&host, "x", &g, 0), XHAL_UNSUPPORTED);
    assert_string_equal(last_error, "x: GEMM with activation is not implemented by this backend");
    assert_int_equal(xc_gemm_features(&host, "x", &g, XC_GEMM_ACTIVATION), XHAL_OK);
    g.b_quant = XHAL_QUANT_INT4;
    assert_string_equal(xc_gemm_unimplemented(&g, XC_GEMM_ACTIVATION), "b_quant");
    xhal_attention_desc_t a;
    xhal_attention_desc_init(&a, 1, 2, 2, 4, 4, 8, XHAL_DTYPE_F32, XHAL_LAYOUT_BSHD);
    a.flags = XHAL_ATTENTION_CHECK_INDICES; /* the core's, on the host: never refused */
    assert_null(xc_attention_unimplemented(&a, 0));
    a.softcap = 30.0f;
    assert_string_equal(xc_attention_unimplemented(&a, 0), "softcap");
    a.softcap = 0;
    a.lse = (xhal_buffer_t *)&a; /* any non-NULL handle: never dereferenced */
    assert_string_equal(xc_attention_unimplemented(&a, XC_ATTENTION_SOFTCAP), "lse");
    assert_null(xc_attention_unimplemented(&a, XC_ATTENTION_LSE));
}

int main(int argc, char **argv) {
    signal(SIGALRM, SIG_DFL);
    /* Timed apart ("sections"), so that the valgrind stage, ten times slower, can leave it out. */
    const struct CMUnitTest timed[] = {cmocka_unit_test_setup(test_ini_many_sections, reset)};
    if (argc > 1 && strcmp(argv[1], "sections") == 0)
        return cmocka_run_group_tests_name("common_sections", timed, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ini_syntax, reset),
        cmocka_unit_test_setup(test_ini_errors, reset),
        cmocka_unit_test_setup(test_ini_refuses_what_is_not_a_file, reset),
        cmocka_unit_test_setup(test_ini_caps_file_size, reset),
        cmocka_unit_test_setup(test_ini_write, reset),
        cmocka_unit_test_setup(test_tuning_sections, reset),
        cmocka_unit_test_setup(test_tuning_values, reset),
        cmocka_unit_test_setup(test_tuning_file, reset),
        cmocka_unit_test_setup(test_tuned_file, reset),
        cmocka_unit_test_setup(test_cache_round_trip, reset),
        cmocka_unit_test_setup(test_cache_damaged_entry, reset),
        cmocka_unit_test_setup(test_options, reset),
        cmocka_unit_test_setup(test_features, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
