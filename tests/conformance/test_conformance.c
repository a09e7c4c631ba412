/*
 * Unit tests of the conformance library: the PEAKS.md formulas, the verdicts, the bounds, the
 * JSON and INI readers, the expected-failure lists, the utilization plan, the reports and
 * `compare` on a made-up run. No device work beyond what a made-up run needs, so this runs
 * under valgrind in seconds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "xc_file.h"
#include "test_util.h"

#ifndef XT_WORK_DIR
#error "XT_WORK_DIR must name a folder the test may write"
#endif

static void near(double a, double b) {
    assert_true(fabs(a - b) <= 1e-9 * fabs(b) + 1e-12);
}
#define NEAR(a, b) near((double)(a), (double)(b))

static char *read_text(const char *path) {
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = xt_malloc((size_t)size + 1);
    assert_int_equal(fread(text, 1, (size_t)size, file), (size_t)size);
    text[size] = '\0';
    fclose(file);
    return text;
}

/* Runs of blanks to one, so that a padded table can be searched by its cells. */
static void squeeze(char *text) {
    char *w = text;
    for (const char *r = text; *r; r++)
        if (!(*r == ' ' && w > text && w[-1] == ' ')) *w++ = *r;
    *w = '\0';
}

/* ---- Formulas ---- */

static void test_gemm_formulas(void **state) {
    (void)state;
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, 64, 32, 16, XHAL_DTYPE_BF16);
    d.batch = 3;
    d.stride_a = 64 * 16;
    d.stride_b = 0; /* one B for the batch: read once */
    d.stride_c = 64 * 32;
    NEAR(conf_gemm_flops(&d), 2.0 * 64 * 32 * 16 * 3);
    NEAR(conf_gemm_bytes(&d), (3.0 * 64 * 16 + 16 * 32 + 3.0 * 64 * 32) * 2);
    d.beta = 1; /* C is read too */
    NEAR(conf_gemm_bytes(&d), (3.0 * 64 * 16 + 16 * 32 + 2 * 3.0 * 64 * 32) * 2);
}

static void test_attention_formulas(void **state) {
    (void)state;
    xhal_attention_desc_t d;
    xhal_attention_desc_init(&d, 2, 8, 2, 128, 128, 64, XHAL_DTYPE_F16, XHAL_LAYOUT_BSHD);
    NEAR(conf_attention_flops(&d), 4.0 * 2 * 8 * 128 * 128 * 64);
    d.causal = 1; /* s_q == s_kv: halved */
    NEAR(conf_attention_flops(&d), 4.0 * 2 * 8 * 128 * 128 * 64 / 2);
    NEAR(conf_attention_bytes(&d), (2.0 * 2 * 8 * 128 * 64 + 2.0 * 2 * 2 * 128 * 64) * 2);
    /* A chunk of 4 queries over 10 keys, bottom-right: they see 7, 8, 9 and 10 keys. */
    xhal_attention_desc_init(&d, 1, 1, 1, 4, 10, 8, XHAL_DTYPE_F32, XHAL_LAYOUT_BHSD);
    d.causal = 1;
    NEAR(conf_attention_flops(&d), 4.0 * (7 + 8 + 9 + 10) * 8);
    /* More queries than keys: the first rows see nothing. */
    xhal_attention_desc_init(&d, 1, 1, 1, 5, 2, 8, XHAL_DTYPE_F32, XHAL_LAYOUT_BHSD);
    d.causal = 1;
    NEAR(conf_attention_flops(&d), 4.0 * (0 + 0 + 0 + 1 + 2) * 8);
}

static void test_metrics(void **state) {
    (void)state;
    conf_perf_t p;
    memset(&p, 0, sizeof p);
    /* 1 GFLOP over 10 MB in 10 ms: 100 GFLOP/s, 1 GB/s, 100 FLOP/B. */
    p.flops = 1e9, p.bytes = 1e7, p.ms = 10;
    conf_metrics_apply(&p, 200e9, 10e9); /* ridge at 20 FLOP/B: compute-bound */
    NEAR(p.flops_per_s, 100e9);
    NEAR(p.bytes_per_s, 1e9);
    NEAR(p.intensity, 100);
    NEAR(p.mfu, 0.5);
    NEAR(p.mbu, 0.1);
    NEAR(p.bound, 200e9);
    NEAR(p.roofline, 0.5);
    conf_metrics_apply(&p, 2000e9, 10e9); /* ridge at 200: memory-bound, roof 100 x 10 GB/s */
    NEAR(p.bound, 1000e9);
    NEAR(p.roofline, 0.1);
    NEAR(p.mfu, 0.05);
    conf_metrics_apply(&p, 200e9, 0); /* bandwidth unknown */
    assert_true(isnan(p.mbu) && isnan(p.roofline));
    NEAR(p.mfu, 0.5);
    /* A copy: no FLOPs, so its roof is the bandwidth. */
    memset(&p, 0, sizeof p);
    p.bytes = 2e9, p.ms = 100;
    conf_metrics_apply(&p, 200e9, 40e9);
    assert_true(isnan(p.mfu));
    NEAR(p.mbu, 0.5);
    NEAR(p.roofline, 0.5);
}

/* ---- Verdicts ---- */

static void test_bounds(void **state) {
    (void)state;
    NEAR(conf_gemm_bound(XHAL_DTYPE_F32, 1), 1e-6);
    NEAR(conf_gemm_bound(XHAL_DTYPE_F32, 64), 2e-6);
    NEAR(conf_gemm_bound(XHAL_DTYPE_F32, 4097), 1e-5);
    NEAR(conf_gemm_bound(XHAL_DTYPE_F16, 4097), 1e-3);
    NEAR(conf_gemm_bound(XHAL_DTYPE_BF16, 7), 1e-2);
    NEAR(conf_attention_bound(XHAL_DTYPE_F16), 2e-3);
}

static void test_judge(void **state) {
    (void)state;
    double ref[4] = {1, -2, 3, 4}, out[4] = {1, -2, 3, 4};
    conf_check_t r;
    memset(&r, 0, sizeof r);
    r.outcome = CONF_PASS;
    conf_judge(&r, out, ref, 4, 1e-6);
    assert_int_equal(r.outcome, CONF_PASS);
    assert_true(r.rel_error == 0);
    /* One element off: FAIL, and the note names it. */
    out[2] = 3.5;
    conf_judge(&r, out, ref, 4, 1e-6);
    assert_int_equal(r.outcome, CONF_FAIL);
    assert_int_equal(r.worst_index, 2);
    NEAR(r.max_abs_error, 0.5);
    assert_non_null(strstr(r.note, "worst output #2"));
    /* NaN: FAIL whatever the error of the others. */
    memset(&r, 0, sizeof r);
    out[2] = NAN;
    conf_judge(&r, out, ref, 4, 1.0);
    assert_int_equal(r.outcome, CONF_FAIL);
    assert_int_equal(r.non_finite, 1);
    /* Right values, but a write outside the view. */
    memset(&r, 0, sizeof r);
    out[2] = 3;
    r.outside_writes = 2;
    conf_judge(&r, out, ref, 4, 1e-6);
    assert_int_equal(r.outcome, CONF_FAIL);
    assert_non_null(strstr(r.note, "outside the output view"));
}

static void test_random_and_rounding(void **state) {
    (void)state;
    uint64_t rng = 42;
    for (int i = 0; i < 100000; i++) {
        float v = conf_random_value(&rng);
        assert_true(fabsf(v) >= 1.0f / 1024 && fabsf(v) <= 1.0f);
    }
    uint16_t half[1];
    double stored = conf_store(half, XHAL_DTYPE_BF16, 0, 1.00390625f); /* 1 + 2^-8: a tie */
    NEAR(stored, 1.0);                                                 /* to even */
    NEAR(conf_load(half, XHAL_DTYPE_BF16, 0), 1.0);
    uint32_t bits = conf_nan_bits(XHAL_DTYPE_F16);
    assert_true(isnan(xhal_f16_to_f32((uint16_t)bits)));
}

/* ---- Readers ---- */

static void test_json(void **state) {
    (void)state;
    char error[256];
    const char *text = "{\"a\": [1, -2.5e3, true, null, \"x\\\"y\\u00e9\\ud83d\\ude00\"], "
                       "\"b\": {\"c\": {}}, \"d\": []}";
    conf_json_t *root = conf_json_parse(text, error, sizeof error);
    assert_non_null(root);
    const conf_json_t *a = conf_json_get(root, "a");
    assert_int_equal(a->type, CONF_JSON_ARRAY);
    assert_int_equal(a->count, 5);
    NEAR(conf_json_num(a->items[1]), -2500);
    assert_int_equal(a->items[2]->type, CONF_JSON_BOOL);
    assert_true(isnan(conf_json_num(a->items[3])));
    assert_string_equal(conf_json_str(a->items[4], ""), "x\"y\xc3\xa9\xf0\x9f\x98\x80");
    assert_non_null(conf_json_get(conf_json_get(root, "b"), "c"));
    assert_null(conf_json_get(root, "missing"));
    conf_json_free(root);
    static const char *const bad[] = {"{", "[1,]", "{\"a\" 1}", "\"abc", "[1] x", "nul", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        error[0] = '\0';
        assert_null(conf_json_parse(bad[i], error, sizeof error));
        assert_non_null(strstr(error, "JSON:"));
    }
}

/* The peaks cache keeps other devices' sections and replaces this one's (an INI file). */
static void test_peak_cache(void **state) {
    (void)state;
    assert_int_equal(xc_mkdirs(XT_WORK_DIR), 0);
    const char *path = XT_WORK_DIR "/peaks.ini";
    remove(path);
    xhal_device_info_t a = {
        .struct_size = sizeof a, .spec = "cpu:0", .name = "AMD EPYC", .compute_units = 2};
    xhal_device_info_t b = {
        .struct_size = sizeof b, .spec = "opencl:0", .name = "pocl [cpu]", .compute_units = 2};
    conf_measured_t m, got;
    memset(&m, 0, sizeof m);
    m.bandwidth = 1e10;
    m.flops[XHAL_DTYPE_F32] = 5e10;
    conf_format(m.flops_method[XHAL_DTYPE_F32], sizeof m.flops_method[0], "fma loop");
    conf_format(m.date, sizeof m.date, "2025-01-01");
    char error[256];
    assert_int_equal(conf_peak_cache_load(path, &a, &got), 0); /* no file yet */
    assert_int_equal(conf_peak_cache_store(path, &a, &m, error, sizeof error), 0);
    m.bandwidth = 3e10;
    assert_int_equal(conf_peak_cache_store(path, &b, &m, error, sizeof error), 0);
    m.bandwidth = 2e10;
    assert_int_equal(conf_peak_cache_store(path, &a, &m, error, sizeof error), 0);
    assert_int_equal(conf_peak_cache_load(path, &a, &got), 1);
    assert_true(got.bandwidth == 2e10);
    assert_true(got.flops[XHAL_DTYPE_F32] == 5e10);
    assert_string_equal(got.flops_method[XHAL_DTYPE_F32], "fma loop");
    assert_int_equal(conf_peak_cache_load(path, &b, &got), 1);
    assert_true(got.bandwidth == 3e10);
    assert_int_equal(conf_peak_cache_load(NULL, &a, &got), 0);
    assert_int_equal(conf_peak_cache_store(NULL, &a, &m, error, sizeof error), -1);
}

static void test_expected(void **state) {
    (void)state;
    const char *path = XT_WORK_DIR "/expected.ini";
    assert_int_equal(xc_mkdirs(XT_WORK_DIR), 0);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("# comment\n\n[opencl]\nattention * d256 = local memory  ; trailing comment\n"
          "[*]\ngemm bf16 one = every backend (issue #12)\n",
          file);
    fclose(file);
    conf_expect_list_t list = {0};
    char error[256];
    assert_int_equal(conf_expect_load(&list, path, error, sizeof error), 0);
    assert_int_equal(list.count, 2);
    const char *reason =
        conf_expect_find(&list, "opencl", CONF_OP_ATTENTION, XHAL_DTYPE_F16, "d256");
    assert_non_null(reason);
    assert_string_equal(reason, "local memory");
    reason = conf_expect_find(&list, "cuda", CONF_OP_GEMM, XHAL_DTYPE_BF16, "one");
    assert_non_null(reason);
    assert_string_equal(reason, "every backend (issue #12)"); /* '#' after no blank: text */
    assert_null(conf_expect_find(&list, "cuda", CONF_OP_GEMM, XHAL_DTYPE_F32, "one"));
    assert_null(conf_expect_find(&list, "cuda", CONF_OP_ATTENTION, XHAL_DTYPE_F16, "d256"));
    assert_null(conf_expect_find(NULL, "cpu", CONF_OP_GEMM, XHAL_DTYPE_F32, "one"));
    conf_expect_free(&list);
    static const char *const bad[] = {
        "[opencl]\nattention d256 = no dtype\n",
        "[opencl]\nattention f16 d256 =\n",
        "attention f16 d256 = no backend section\n",
        "[opencl]\nattention f16 d256 no equals sign\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        file = fopen(path, "w");
        assert_non_null(file);
        fputs(bad[i], file);
        fclose(file);
        error[0] = '\0';
        assert_int_equal(conf_expect_load(&list, path, error, sizeof error), -1);
        if (!strstr(error, "line ")) fail_msg("case %zu: error \"%s\" names no line", i, error);
        conf_expect_free(&list);
    }
}

/* ---- Plan ---- */

static long plan(const conf_options_t *o, const conf_peaks_t *peaks, double budget,
                 conf_plan_item_t **items) {
    conf_plan_env_t env = {
        .options = o, .peaks = peaks, .memory_budget = 20ull << 30, .budget_s = budget};
    long count = conf_plan_build(&env, items);
    assert_true(count > 0);
    return count;
}

static const conf_plan_item_t *find_item(const conf_plan_item_t *items, long count, const char *id,
                                         xhal_dtype_t dtype) {
    for (long i = 0; i < count; i++)
        if (strcmp(items[i].result.id, id) == 0 && items[i].result.dtype == dtype) return &items[i];
    return NULL;
}

static void test_plan(void **state) {
    (void)state;
    conf_options_t o;
    conf_options_init(&o);
    conf_peaks_t peaks;
    memset(&peaks, 0, sizeof peaks);
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        peaks.flops[t] = 1e15;
    peaks.bandwidth = 3e12;
    conf_plan_item_t *items = NULL;
    /* An H100-class device with the full budget: everything runs at its nominal size. */
    long count = plan(&o, &peaks, 0.25, &items);
    const conf_plan_item_t *it =
        find_item(items, count, "gemm.prefill.8192x28672", XHAL_DTYPE_BF16);
    assert_non_null(it);
    assert_int_equal(it->result.outcome, CONF_PASS);
    assert_int_equal(it->gemm.m, 2048);
    it = find_item(items, count, "gemm.square-l", XHAL_DTYPE_F16);
    assert_non_null(it);
    assert_int_equal(it->gemm.m, 16384);
    it = find_item(items, count, "attn.decode.kv32768.b64", XHAL_DTYPE_BF16);
    assert_non_null(it);
    assert_int_equal(it->result.outcome, CONF_PASS);
    for (long i = 0; i < count; i++)
        for (long j = i + 1; j < count; j++)
            assert_false(strcmp(items[i].result.id, items[j].result.id) == 0 &&
                         items[i].result.dtype == items[j].result.dtype);
    free(items);
    /* A small CPU, --quick: prefill scaled down, the largest cases left out with a reason. */
    o.quick = 1;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++)
        peaks.flops[t] = 2e11;
    peaks.bandwidth = 2e10;
    count = plan(&o, &peaks, 0.02, &items);
    it = find_item(items, count, "gemm.prefill.4096x4096", XHAL_DTYPE_BF16);
    assert_non_null(it);
    assert_true(it->gemm.m < 2048 && it->gemm.m >= 128);
    assert_non_null(strstr(it->result.shape, "/2048"));
    it = find_item(items, count, "gemm.prefill.8192x28672", XHAL_DTYPE_BF16);
    assert_non_null(it);
    assert_int_equal(it->result.outcome, CONF_SKIP);
    assert_non_null(strstr(it->result.note, "time budget"));
    it = find_item(items, count, "gemm.square-l", XHAL_DTYPE_F32);
    assert_non_null(it);
    assert_int_equal(it->gemm.m, 1024);
    assert_null(find_item(items, count, "gemm.square-l", XHAL_DTYPE_F16)); /* quick: f32, bf16 */
    free(items);
    /* Filters: one op, one dtype, a case substring. */
    o.ops = 1u << CONF_OP_ATTENTION;
    o.dtypes = 1u << XHAL_DTYPE_F16;
    o.case_filter = "decode";
    count = plan(&o, &peaks, 0.02, &items);
    for (long i = 0; i < count; i++) {
        assert_int_equal(items[i].result.op, CONF_OP_ATTENTION);
        assert_int_equal(items[i].result.dtype, XHAL_DTYPE_F16);
        assert_non_null(strstr(items[i].result.id, "decode"));
    }
    free(items);
}

/* ---- Reports and compare on a made-up run ---- */

static void make_run(conf_run_t *run, const char *spec, double scale) {
    memset(run, 0, sizeof *run);
    conf_options_init(&run->options);
    snprintf(run->device.spec, sizeof run->device.spec, "%s", spec);
    snprintf(run->device.name, sizeof run->device.name, "Made-up <device> & \"co\"");
    snprintf(run->device.backend, sizeof run->device.backend, "test");
    snprintf(run->version, sizeof run->version, "0.1.0");
    snprintf(run->commit, sizeof run->commit, "abc123");
    snprintf(run->date, sizeof run->date, "2025-01-01T00:00:00Z");
    snprintf(run->settings, sizeof run->settings, "quick, with a comma");
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        run->peaks.flops[t] = 1e12;
        snprintf(run->peaks.flops_used[t], sizeof run->peaks.flops_used[t], "datasheet");
    }
    run->peaks.bandwidth = 1e11;
    snprintf(run->peaks.bandwidth_used, sizeof run->peaks.bandwidth_used, "measured");
    run->checks = xt_malloc(2 * sizeof *run->checks);
    run->check_count = 2;
    memset(run->checks, 0, 2 * sizeof *run->checks);
    for (int i = 0; i < 2; i++) {
        conf_check_t *c = &run->checks[i];
        c->op = CONF_OP_GEMM;
        c->outcome = i ? CONF_FAIL : CONF_PASS;
        c->rel_error = i ? 0.5 : 1e-7;
        c->bound = 1e-5;
        c->ms = 0.1;
        snprintf(c->name, sizeof c->name, "case-%d", i);
        snprintf(c->note, sizeof c->note, i ? "wrong; very, \"wrong\"" : "");
    }
    run->passed = run->failed = 1;
    run->perfs = xt_malloc(3 * sizeof *run->perfs);
    run->perf_count = 3;
    memset(run->perfs, 0, 3 * sizeof *run->perfs);
    static const char *const ids[] = {"gemm.square-s", "attn.decode.kv1024.b1", "copy.d2d"};
    for (int i = 0; i < 3; i++) {
        conf_perf_t *p = &run->perfs[i];
        p->op = i == 0 ? CONF_OP_GEMM : i == 1 ? CONF_OP_ATTENTION : CONF_OP_COPY;
        p->dtype = XHAL_DTYPE_BF16;
        snprintf(p->id, sizeof p->id, "%s", ids[i]);
        snprintf(p->group, sizeof p->group, i == 0 ? "square" : i == 1 ? "attn-decode" : "copy");
        snprintf(p->shape, sizeof p->shape, "shape %d", i);
        p->flops = i == 2 ? 0 : 1e9 * (i + 1);
        p->bytes = 1e7 * (i + 1);
        p->ms = 5 * scale;
        p->ms_min = 4 * scale;
        p->repeats = 3;
        p->copies = 1;
        conf_metrics_apply(p, 1e12, 1e11);
    }
    run->measured = 3;
}

static void test_reports_and_compare(void **state) {
    (void)state;
    conf_run_t a, b;
    char error[512];
    make_run(&a, "test:0", 1.0);
    make_run(&b, "test:1", 2.0);
    const char *dir_a = XT_WORK_DIR "/report-a", *dir_b = XT_WORK_DIR "/report-b";
    assert_int_equal(conf_write_reports(&a, dir_a, error, sizeof error), 0);
    assert_int_equal(conf_write_reports(&b, dir_b, error, sizeof error), 0);

    /* The JSON reads back, names the format, and keeps the numbers. */
    char *text = read_text(XT_WORK_DIR "/report-a/report.json");
    conf_json_t *root = conf_json_parse(text, error, sizeof error);
    assert_non_null(root);
    assert_string_equal(conf_json_str(conf_json_get(root, "format"), ""), "xhal-conform-report");
    const conf_json_t *cases = conf_json_get(root, "utilization");
    assert_int_equal(cases->count, 3);
    NEAR(conf_json_num(conf_json_get(cases->items[0], "roofline")), a.perfs[0].roofline);
    assert_true(isnan(conf_json_num(conf_json_get(cases->items[2], "mfu")))); /* copy: null */
    assert_string_equal(conf_json_str(conf_json_get(conf_json_get(root, "device"), "name"), ""),
                        "Made-up <device> & \"co\"");
    conf_json_free(root);
    free(text);

    /* The SVG escapes what XML needs escaped. */
    text = read_text(XT_WORK_DIR "/report-a/roofline.svg");
    assert_non_null(strstr(text, "Made-up &lt;device&gt; &amp; &quot;co&quot;"));
    assert_non_null(strstr(text, "</svg>"));
    free(text);
    text = read_text(XT_WORK_DIR "/report-a/report.md");
    assert_non_null(strstr(text, "| % roofline"));
    assert_non_null(strstr(text, "1 passed, 1 failed"));
    free(text);

    /* Compare: both runs side by side, the second at half the rate. */
    const char *paths[] = {XT_WORK_DIR "/report-a/report.json",
                           XT_WORK_DIR "/report-b/report.json"};
    const char *out_dir = XT_WORK_DIR "/compare";
    FILE *table = fopen(XT_WORK_DIR "/compare-stdout.md", "w");
    assert_non_null(table);
    assert_int_equal(conf_compare(paths, 2, out_dir, table, error, sizeof error), 0);
    fclose(table);
    text = read_text(XT_WORK_DIR "/compare/compare.md");
    assert_non_null(strstr(text, "test:0 FLOP/s"));
    assert_non_null(strstr(text, "test:1 % roof"));
    assert_non_null(strstr(text, "| gemm.square-s"));
    squeeze(text);
    assert_non_null(strstr(text, "| gemm.square-s | bf16 | shape 0 | 200 GFLOP/s | 2.00 GB/s | "
                                 "20.0% | 2.00% | 20.0% | 100 GFLOP/s | 1.00 GB/s | 10.0% | "
                                 "1.00% | 10.0% |"));
    free(text);
    text = read_text(XT_WORK_DIR "/compare/compare.svg");
    assert_non_null(strstr(text, "test:1"));
    free(text);

    /* A file that is not a report is refused with its name. */
    const char *wrong[] = {XT_WORK_DIR "/report-a/report.csv"};
    assert_int_equal(conf_compare(wrong, 1, NULL, NULL, error, sizeof error), -1);
    assert_non_null(strstr(error, "report.csv"));
    conf_run_free(&a);
    conf_run_free(&b);
}

static void test_formats(void **state) {
    (void)state;
    char text[64];
    conf_human(text, sizeof text, 226.9e9, "FLOP/s");
    assert_string_equal(text, "227 GFLOP/s");
    conf_human(text, sizeof text, 1.5e12, "B/s");
    assert_string_equal(text, "1.50 TB/s");
    conf_human(text, sizeof text, 12.34, "B/s");
    assert_string_equal(text, "12.3 B/s");
    conf_human(text, sizeof text, NAN, "B/s");
    assert_string_equal(text, "-");
    conf_percent(text, sizeof text, 0.456);
    assert_string_equal(text, "45.6%");
    conf_percent(text, sizeof text, 0.0123);
    assert_string_equal(text, "1.23%");
    conf_slug("opencl:0/x y", text, sizeof text);
    assert_string_equal(text, "opencl-0-x-y");
    double values[] = {5, 1, 3, 2};
    NEAR(conf_median(values, 4), 2.5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_formulas),
        cmocka_unit_test(test_attention_formulas),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_random_and_rounding),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_peak_cache),
        cmocka_unit_test(test_expected),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_reports_and_compare),
        cmocka_unit_test(test_formats),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    xhal_shutdown();
    return failed;
}
