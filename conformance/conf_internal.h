/*
 * What the files of the conformance library share; never seen by the tool. One concept per file:
 *   conf_common.c          names, random inputs, dtype rounding, small string helpers
 *   conf_tensor.c          host/device tensors of the correctness cases, poisoning, judging
 *   conf_reference.c       the fp64 reference GEMM and attention (deliberately simple)
 *   conf_check_gemm.c      the GEMM correctness table
 *   conf_check_gemm_serving.c  GEMM epilogues and quantized B
 *   conf_check_attention.c the attention correctness table
 *   conf_check_serving.c   serving attention: varlen, paged, window, soft-cap, LSE
 *   conf_check_merge.c     merging partial attention outputs by their LSEs
 *   conf_expected.c        per-backend expected failures
 *   conf_metrics.c         FLOPs, minimum bytes, MFU, MBU, roofline (PEAKS.md)
 *   conf_plan.c            the utilization cases, sized to the device
 *   conf_serving.c         serving shapes (paged decode, varlen and chunked prefill) for it
 *   conf_timing.c          timing one utilization case (warm-up, rotation, median)
 *   conf_measure.c         ceilings: copy bandwidth and a large GEMM through the public API
 *   conf_host.c            the CPU backend's simple kernel: host FMA loops
 *   conf_stream.c          the host's memory bandwidth, STREAM Copy and Triad
 *   conf_peaks.c           which peaks the metrics use, and the peaks.ini cache
 *   conf_run.c             one device: both parts, in order, with progress
 *   conf_report_md.c       report.md and the console summary
 *   conf_report_data.c     report.json and report.csv
 *   conf_svg.c, conf_chart.c  SVG primitives; the roofline and the bar charts
 *   conf_json.c            a small JSON reader for `xhal compare`, and the writer's escaping
 *   conf_compare.c         `xhal compare`
 */
#ifndef XHAL_CONF_INTERNAL_H
#define XHAL_CONF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conform.h"

/* ---- conf_common.c ---- */

/* splitmix64: seedable with any value, and good enough for test inputs. */
uint64_t conf_random(uint64_t *state);
/* Uniform in [-1, 1], never within 1/1024 of zero: a zero input hides a missed term. */
float conf_random_value(uint64_t *state);
/* Stores `value` rounded to `dtype` at raw[index]; returns the value stored, as a double. */
double conf_store(void *raw, xhal_dtype_t dtype, size_t index, float value);
double conf_load(const void *raw, xhal_dtype_t dtype, size_t index);
/* Bits of a quiet NaN in `dtype`, for poisoning outputs. */
uint32_t conf_nan_bits(xhal_dtype_t dtype);
/* snprintf that truncates silently. */
void conf_format(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends to a string of `size` bytes, truncating silently. */
void conf_append(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The current UTC time as "2025-01-31T12:00:00Z". */
void conf_utc_date(char *out, size_t size);
/* The last-level cache of the host in bytes (from /sys), or `fallback`. */
uint64_t conf_host_cache_bytes(uint64_t fallback);

/* ---- conf_tensor.c: the correctness cases' tensors ---- */

typedef struct conf_ctx {
    xhal_device_t *device;
    const xhal_device_info_t *info;
    xhal_stream_t *stream;
    xhal_event_t *start, *stop;
    uint64_t rng; /* reseeded before each case, so that each case is reproducible alone */
} conf_ctx_t;

typedef struct conf_tensor {
    xhal_dtype_t dtype;
    size_t count;          /* elements from the first to one past the last the op may touch */
    void *raw;             /* the elements in `dtype`: uploaded from, downloaded into */
    void *before;          /* raw as it was on the device before the op */
    double *values;        /* raw as doubles */
    xhal_buffer_t *buffer; /* NULL until uploaded or poisoned */
} conf_tensor_t;

/* Each returns 1 to go on, or 0 with `r` now FAIL or SKIP and its note written. */
int conf_ok(conf_check_t *r, xhal_status_t status, const char *context);
/* UNSUPPORTED from a supports query makes the case SKIP with the backend's reason. */
int conf_supported(conf_check_t *r, xhal_status_t status, const char *context);
int conf_host_alloc(conf_check_t *r, const void *ptr);

int conf_tensor_init(conf_tensor_t *t, xhal_dtype_t dtype, size_t count, conf_check_t *r);
/* Random values (see conf_random_value) rounded to the dtype. */
void conf_tensor_randomize(conf_tensor_t *t, uint64_t *rng);
/* Sets every element to NaN on the host (the device gets it from conf_tensor_upload). */
void conf_tensor_poison(conf_tensor_t *t);
/* Allocates the buffer the first time, enqueues the upload of raw, and keeps raw as `before`. */
int conf_tensor_upload(conf_ctx_t *ctx, conf_tensor_t *t, conf_check_t *r);
/* Enqueues the download of the whole tensor into raw (decoded by conf_tensor_decode). */
int conf_tensor_download(conf_ctx_t *ctx, conf_tensor_t *t, conf_check_t *r);
void conf_tensor_decode(conf_tensor_t *t);
void conf_tensor_free(conf_tensor_t *t);
/* Elements whose bits differ from `before` among those with in_view[i] == 0 (all when NULL). */
uint64_t conf_tensor_changed(const conf_tensor_t *t, const unsigned char *in_view);

/* Records the start event right before the op. */
int conf_timer_start(conf_ctx_t *ctx, conf_check_t *r);
/* Records the stop event, downloads `count` tensors, synchronizes and reads the op's time. */
int conf_collect(conf_ctx_t *ctx, conf_tensor_t *tensors, size_t count, conf_check_t *r);
/* Waits for whatever a failed case left queued (its error was reported), then frees. */
void conf_release(conf_ctx_t *ctx, conf_tensor_t *tensors, size_t count);

/*
 * The verdict: relative Frobenius error of `out` against `ref` (dense, `count`), NaN/Inf,
 * writes outside the view and changed inputs (counted by the caller into r first).
 */
void conf_judge(conf_check_t *r, const double *out, const double *ref, size_t count, double bound);

/*
 * A log-sum-exp output (attention's lse, the merge's): FAIL with a note appended unless it is
 * -inf exactly where `ref` is and within `bound` (relative Frobenius) elsewhere.
 */
void conf_judge_lse(conf_check_t *r, const double *got, const double *ref, size_t count,
                    double bound);

/* The relative Frobenius bound for a result stored in `dtype` after a reduction of `depth`. */
double conf_gemm_bound(xhal_dtype_t out_dtype, int64_t k);
double conf_attention_bound(xhal_dtype_t dtype);

/* ---- conf_reference.c ---- */

/* ref[b][i][j] (dense) = alpha op(A) op(B) + beta C from the rounded inputs, in fp64. */
void conf_ref_gemm(const xhal_gemm_desc_t *d, const double *a, const double *b, const double *c,
                   double *ref);
/* An activation of the GEMM epilogue in fp64 (xhal.h's definitions). */
double conf_ref_activation(double x, xhal_activation_t activation);
/*
 * ref[b][i][j] (dense, j < n or n / 2 gated) = the epilogue of alpha op(A) op(B) + beta C +
 * bias, with op(B) given transposed and dense (b_nk: n x k, e.g. dequantized weights) and
 * `bias` n values or NULL; `t` holds n doubles of scratch.
 */
void conf_ref_gemm_epilogue(const xhal_gemm_desc_t *d, const double *a, const double *b_nk,
                            const double *c, const double *bias, double *t, double *ref);
/* Index of C's element (b, i, j). */
int64_t conf_gemm_c_index(const xhal_gemm_desc_t *d, int64_t b, int64_t i, int64_t j);
/* Element 0 of the row (b, h, s) of an attention tensor. */
int64_t conf_attention_row(const xhal_attention_strides_t *s, int64_t b, int64_t h, int64_t pos);
/* How many keys query i sees (bottom-right causal alignment, as xhal.h defines it). */
int64_t conf_attention_visible(const xhal_attention_desc_t *d, int64_t i);
/* ref[b][h][i][x] (dense). `scores` holds seq_kv doubles. */
void conf_ref_attention(const xhal_attention_desc_t *d, const double *q, const double *k,
                        const double *v, double *scores, double *ref);

/* The index buffers of a serving attention as host arrays; NULL where the desc has none. */
typedef struct conf_att_index {
    const int32_t *cu_q, *cu_kv, *lens_kv, *table;
} conf_att_index_t;

/* Queries and keys of sequence b, as xhal.h defines them. */
int64_t conf_att_len_q(const xhal_attention_desc_t *d, const conf_att_index_t *x, int64_t b);
int64_t conf_att_len_kv(const xhal_attention_desc_t *d, const conf_att_index_t *x, int64_t b);
/* Element 0 of query row (b, h, i) of Q or O (strides s): packed or per sequence. */
int64_t conf_att_q_row(const xhal_attention_desc_t *d, const conf_att_index_t *x,
                       const xhal_attention_strides_t *s, int64_t b, int64_t h, int64_t i);
/* Element 0 of key t of sequence b, KV head kvh, in K or V (strides s): packed, paged or not. */
int64_t conf_att_kv_row(const xhal_attention_desc_t *d, const conf_att_index_t *x,
                        const xhal_attention_strides_t *s, int64_t b, int64_t kvh, int64_t t);
/* Whether query i of a sequence of len_q queries and len_kv keys sees key j (causal, window). */
int conf_att_sees(const xhal_attention_desc_t *d, int64_t len_q, int64_t len_kv, int64_t i,
                  int64_t j);
/*
 * Attention with every serving feature, in fp64: ref gets each sequence's rows in [b][h][i][x]
 * order (i < its query count), lse_ref (when not NULL) ln sum exp of each row's scores, -inf for
 * a row that saw no key. `scores` holds max over sequences of the key count doubles.
 */
void conf_ref_attention_serving(const xhal_attention_desc_t *d, const conf_att_index_t *x,
                                const double *q, const double *k, const double *v, double *scores,
                                double *ref, double *lse_ref);

/* ---- Correctness tables ---- */

typedef struct conf_check_table {
    conf_op_t op;
    size_t count;
    const char *(*name)(size_t index);
    int (*is_quick)(size_t index);
    void (*describe)(size_t index, char *out, size_t size);
    void (*run)(conf_ctx_t *ctx, size_t index, xhal_dtype_t dtype, conf_check_t *r);
} conf_check_table_t;

extern const conf_check_table_t conf_check_gemm;
extern const conf_check_table_t conf_check_gemm_serving;
extern const conf_check_table_t conf_check_attention;
extern const conf_check_table_t conf_check_serving;
extern const conf_check_table_t conf_check_merge;

/* ---- conf_expected.c ---- */

typedef struct conf_expect {
    char *backend, *op, *dtype, *name, *reason; /* "*" matches anything */
} conf_expect_t;

typedef struct conf_expect_list {
    conf_expect_t *items;
    size_t count;
} conf_expect_list_t;

/* Adds the entries of the INI file `path` (see conf_expected.c); 0, or -1 with `error` written. */
int conf_expect_load(conf_expect_list_t *list, const char *path, char *error, size_t error_size);
void conf_expect_free(conf_expect_list_t *list);
/* The reason a case is expected to fail on `backend` (the first entry that matches), or NULL. */
const char *conf_expect_find(const conf_expect_list_t *list, const char *backend, conf_op_t op,
                             xhal_dtype_t dtype, const char *name);

/* ---- conf_metrics.c ---- */

double conf_gemm_flops(const xhal_gemm_desc_t *d);
double conf_gemm_bytes(const xhal_gemm_desc_t *d);
double conf_attention_flops(const xhal_attention_desc_t *d);
double conf_attention_bytes(const xhal_attention_desc_t *d);
/* Fills the achieved rates and the fractions from ms, flops, bytes and the peaks. */
void conf_metrics_apply(conf_perf_t *p, double peak_flops, double peak_bandwidth);

/* ---- conf_plan.c ---- */

typedef struct conf_plan_item {
    conf_perf_t result; /* id, group, op, dtype, shape, flops, bytes filled; SKIP with a note */
    xhal_gemm_desc_t gemm;
    xhal_attention_desc_t attention;
    conf_serving_t serving; /* kind NONE: `attention` is dense and complete */
    uint64_t copy_bytes;
    double estimate_s; /* at the peaks in use */
} conf_plan_item_t;

typedef struct conf_plan_env {
    const conf_options_t *options;
    const conf_peaks_t *peaks;
    uint64_t memory_budget; /* bytes a case may allocate (copies included) */
    double budget_s;        /* estimated seconds per case at peak */
} conf_plan_env_t;

/* Writes the planned cases into *out (malloc'ed); returns how many, or -1 out of memory. */
long conf_plan_build(const conf_plan_env_t *env, conf_plan_item_t **out);

/* ---- conf_timing.c ---- */

typedef struct conf_timer {
    xhal_device_t *device;
    const xhal_device_info_t *info;
    xhal_stream_t *stream;
    xhal_event_t **events; /* max_repeats + 1 */
    int max_repeats;
    double target_s;        /* time the timed runs of a case should take together */
    uint64_t rotate_bytes;  /* inputs smaller than this are rotated over several copies */
    uint64_t memory_budget; /* bytes a case may allocate */
    uint64_t seed;
    char note[256]; /* why the last conf_measure_* call failed */
} conf_timer_t;

xhal_status_t conf_timer_init(conf_timer_t *t, xhal_device_t *device,
                              const xhal_device_info_t *info, int max_repeats);
void conf_timer_free(conf_timer_t *t);
/* Runs item (warm-up, timed runs, output check) into item->result; never fails the run. */
void conf_time_item(conf_timer_t *t, conf_plan_item_t *item, const conf_peaks_t *peaks);

/* ---- conf_measure.c, conf_host.c ---- */

/* Best bytes/s (read + written) of d2d copies of `bytes`; also the size used. */
xhal_status_t conf_measure_copy(conf_timer_t *t, uint64_t bytes, double *out_bandwidth);
/* The FLOP/s of the largest square GEMM that fits `seconds`; its size in *out_n. */
xhal_status_t conf_measure_gemm(conf_timer_t *t, xhal_dtype_t dtype, double seconds,
                                double *out_flops, int64_t *out_n);
/*
 * FLOP/s of an FMA loop on `threads` host threads for `dtype`, for the CPU backend (which runs
 * on the host): 0 when there is no loop for it. `method` says what ran.
 */
double conf_fma_host(unsigned threads, xhal_dtype_t dtype, double seconds, char *method,
                     size_t method_size);

/*
 * FLOP/s of an FMA loop on the OpenCL device of that name (conf_fma_opencl.c), the best of the
 * float4/8/16 widths; 0 when it cannot run. `method` says what ran.
 */
double conf_fma_opencl(const xhal_device_info_t *info, double seconds, char *method,
                       size_t method_size);

/* ---- conf_peaks.c ---- */

/* Fills peaks from the device's info and the cache, measuring now what the policy lacks. */
void conf_peaks_resolve(conf_peaks_t *peaks, xhal_device_t *device, const xhal_device_info_t *info,
                        const conf_options_t *options);

/* ---- conf_table.c: Markdown tables padded to their widest cell ---- */

#define CONF_CELL 112

typedef struct conf_table {
    size_t columns, rows, capacity;
    char (*cells)[CONF_CELL]; /* rows x columns; row 0 is the header */
} conf_table_t;

void conf_table_init(conf_table_t *t, size_t columns);
/* Adds a row of empty cells to fill; NULL when out of memory (the table stays usable). */
char (*conf_table_row(conf_table_t *t))[CONF_CELL];
void conf_table_print(FILE *out, const conf_table_t *t);
void conf_table_free(conf_table_t *t);

/* ---- conf_report_*.c ---- */

int conf_write_markdown(const conf_run_t *run, const char *path, char *error, size_t error_size);
int conf_write_json(const conf_run_t *run, const char *path, char *error, size_t error_size);
int conf_write_csv(const conf_run_t *run, const char *path, char *error, size_t error_size);
/* The utilization table in Markdown, columns padded so that it reads in a terminal too. */
void conf_print_perf_table(FILE *out, const conf_run_t *run);

/* ---- conf_svg.c, conf_chart.c ---- */

typedef struct conf_svg {
    FILE *file;
    double width, height;
} conf_svg_t;

int conf_svg_open(conf_svg_t *svg, const char *path, double width, double height,
                  const char *title);
/* Closes the file; -1 when a write failed. */
int conf_svg_close(conf_svg_t *svg);
void conf_svg_line(conf_svg_t *svg, double x1, double y1, double x2, double y2, const char *color,
                   double width, int dashed);
void conf_svg_rect(conf_svg_t *svg, double x, double y, double w, double h, const char *fill,
                   const char *stroke);
/* A marker: shape 0 circle, 1 square, 2 diamond, 3 triangle. */
void conf_svg_marker(conf_svg_t *svg, double x, double y, double r, int shape, const char *fill);
/* anchor: "start", "middle", "end". rotate: degrees (0 for none). */
void conf_svg_text(conf_svg_t *svg, double x, double y, double size, const char *anchor,
                   const char *color, double rotate, const char *text);
/* A colour of a categorical palette that reads on white and in grayscale. */
const char *conf_svg_color(size_t index);

/* The roofline of one run: every measured case with FLOPs placed on it. */
int conf_chart_roofline(const conf_run_t *run, const char *path, char *error, size_t error_size);

typedef struct conf_bar_chart {
    const char *title;
    const char *axis; /* "% of roofline" */
    size_t rows, series;
    const char *const *labels;      /* rows */
    const char *const *names;       /* series; NULL for one series */
    const double *values;           /* rows x series, in percent; NAN: not measured */
    const size_t *colors;           /* one series: a palette index per row (NULL: all the same) */
    const char *const *color_names; /* with colors: what palette index i means (a legend) */
    size_t color_count;
} conf_bar_chart_t;

/* Horizontal bars, one group per row and one bar per series. */
int conf_chart_bars(const conf_bar_chart_t *chart, const char *path, char *error,
                    size_t error_size);

/* ---- conf_json.c ---- */

/* conf_json_string is declared in conform.h: the xhal command writes JSON with it too. */
/* A number, or null when it is not finite. */
void conf_json_number(FILE *out, double value);

typedef enum conf_json_type {
    CONF_JSON_NULL,
    CONF_JSON_BOOL,
    CONF_JSON_NUMBER,
    CONF_JSON_STRING,
    CONF_JSON_ARRAY,
    CONF_JSON_OBJECT,
} conf_json_type_t;

typedef struct conf_json {
    conf_json_type_t type;
    double number; /* also 0/1 for a bool */
    char *string;
    struct conf_json **items; /* array elements or object values */
    char **keys;              /* object keys */
    size_t count;
} conf_json_t;

/* Parses `text`; NULL with `error` written on a syntax error or out of memory. */
conf_json_t *conf_json_parse(const char *text, char *error, size_t error_size);
void conf_json_free(conf_json_t *value);
const conf_json_t *conf_json_get(const conf_json_t *object, const char *key);
/* The value as a number (NAN when null or not a number) or a string (`fallback` when not). */
double conf_json_num(const conf_json_t *value);
const char *conf_json_str(const conf_json_t *value, const char *fallback);

#endif
