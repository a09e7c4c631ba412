/*
 * The conformance suite as a library: what `xhal conform`, `xhal peak` and `xhal compare` call.
 *
 * A run on one device has two parts. Correctness: tables of GEMM and attention cases, each run
 * in every selected dtype on seeded random inputs with the output poisoned first, every element
 * compared with a deliberately simple fp64 reference (conf_reference.c). Utilization: GEMM,
 * attention and copy cases sized to the device's peaks, timed with the stream's events, and
 * reported as FLOP/s, bytes/s, MFU, MBU and % of roofline by the formulas of PEAKS.md
 * (conf_metrics.c). Reports (Markdown, JSON, CSV, SVG charts) are written from a conf_run_t.
 *
 * Nothing here prints on its own except through the progress callback, and nothing exits:
 * the tool decides what to show and the exit code.
 */
#ifndef XHAL_CONFORM_H
#define XHAL_CONFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xhal/xhal.h>

/* ---- Outcomes, ops ---- */

typedef enum conf_outcome {
    CONF_PASS = 0, /* correct; for a utilization case: measured */
    CONF_FAIL,     /* wrong (or an xhal call failed) */
    CONF_SKIP,     /* not run: the backend does not support it, or it does not fit; note says */
    CONF_XFAIL,    /* failed, and listed as an expected failure of this backend */
    CONF_XPASS,    /* listed as an expected failure, but passed: the list is out of date */
} conf_outcome_t;

/* "PASS", "FAIL", "SKIP", "XFAIL", "XPASS". */
const char *conf_outcome_name(conf_outcome_t outcome);

typedef enum conf_op { CONF_OP_GEMM = 0, CONF_OP_ATTENTION, CONF_OP_COPY, CONF_OP_COUNT } conf_op_t;

/* "gemm", "attention", "copy". */
const char *conf_op_name(conf_op_t op);
/* Returns 1 and sets *out for a known name ("attn" is accepted for attention), else 0. */
int conf_op_parse(const char *name, conf_op_t *out);
/* Returns 1 and sets *out for "f32", "f16", "bf16", else 0. */
int conf_dtype_parse(const char *name, xhal_dtype_t *out);

/* ---- Results ---- */

/* One correctness case in one dtype. */
typedef struct conf_check {
    conf_op_t op;
    xhal_dtype_t dtype;
    char name[48];  /* the case's stable name in its table: "m4097-tail" */
    char shape[96]; /* what it runs: "4097x7x17 NN ld+3" */
    conf_outcome_t outcome;
    double rel_error;        /* relative Frobenius error; NAN when nothing was compared */
    double bound;            /* the bound it was held to */
    double max_abs_error;    /* largest |out - ref| over the outputs */
    uint64_t worst_index;    /* the output (dense reference order) where it is */
    uint64_t non_finite;     /* outputs that are NaN or Inf */
    uint64_t outside_writes; /* elements outside the output view that changed */
    uint64_t inputs_changed; /* input elements that changed */
    double ms;               /* the op's time between events; NAN when it did not run */
    char note[512];          /* why it failed, was skipped or was expected to fail */
} conf_check_t;

/* One utilization case. Fractions (mfu, mbu, roofline) are 0..1, NAN when a peak is unknown. */
typedef struct conf_perf {
    conf_op_t op;
    xhal_dtype_t dtype;
    char id[48]; /* stable across devices, what `xhal compare` matches: "gemm.decode-m16.8b-up" */
    char group[24]; /* "square", "llm-prefill", "llm-decode", "attn-prefill", "attn-decode", "copy"
                     */
    char shape[96]; /* the shape that ran, which the device's budget may have scaled */
    conf_outcome_t outcome; /* PASS: measured; SKIP: not run (note); FAIL: an error (note) */
    double flops, bytes;    /* per run: PEAKS.md's FLOPs and minimum bytes */
    double ms, ms_min;      /* median and best of the timed runs */
    int repeats;            /* timed runs after the warm-up */
    int copies;             /* input sets rotated between runs (1: no rotation) */
    double flops_per_s, bytes_per_s, intensity; /* intensity: FLOPs per byte */
    double mfu, mbu, roofline;                  /* roofline: achieved / min(peak, AI x bw) */
    double bound;                               /* that min, in FLOP/s (bytes/s for copy) */
    char note[256];
} conf_perf_t;

/* ---- Peaks ---- */

/* Ceilings measured on the device (`xhal peak`, or by conform when a figure is missing). */
typedef struct conf_measured {
    int present;
    double fma[XHAL_DTYPE_COUNT];  /* a simple FMA loop; 0 when there is none for the backend */
    double gemm[XHAL_DTYPE_COUNT]; /* a large xhal GEMM: the matrix-unit ceiling xhal reaches */
    int64_t gemm_n[XHAL_DTYPE_COUNT];
    double flops[XHAL_DTYPE_COUNT]; /* the ceiling taken: the larger of the two */
    char flops_method[XHAL_DTYPE_COUNT][96];
    double bandwidth; /* device-to-device copy, bytes read plus written per second */
    uint64_t copy_bytes;
    char bandwidth_method[96];
    char date[32];
    char origin[200]; /* where these figures come from: the cache file, or "measured now" */
} conf_measured_t;

typedef enum conf_peak_policy {
    CONF_PEAKS_DATASHEET = 0, /* the device's (datasheet or derived) figures, measured if unknown */
    CONF_PEAKS_MEASURED,      /* measured ceilings, the device's figures if a measurement fails */
    CONF_PEAKS_DEVICE,        /* the device's figures only: nothing read or measured (tests, CI) */
} conf_peak_policy_t;

typedef struct conf_peaks {
    double device_flops[XHAL_DTYPE_COUNT]; /* xhal_device_info_t: datasheet or derived */
    double device_bandwidth;
    char device_source[128];
    conf_measured_t measured;
    double flops[XHAL_DTYPE_COUNT]; /* the figures the metrics use */
    double bandwidth;
    char flops_used[XHAL_DTYPE_COUNT]
                   [16]; /* "datasheet", "derived", "device", "measured", "unknown" */
    char bandwidth_used[16];
} conf_peaks_t;

/* ---- Running ---- */

/* Called before each case and once at the end of each phase (done == total). */
typedef void (*conf_progress_fn)(void *context, const char *device, const char *phase, size_t done,
                                 size_t total, const char *what);

typedef struct conf_options {
    int quick;                 /* the CI-sized subset */
    uint64_t seed;             /* of the random inputs */
    unsigned ops;              /* bit (1u << conf_op_t) per op to run; 0 means all */
    unsigned dtypes;           /* bit (1u << xhal_dtype_t); 0 means each part's default dtypes */
    int correctness;           /* run the correctness part */
    int utilization;           /* run the utilization part */
    const char *case_filter;   /* only cases whose name or id contains this; NULL: all */
    double budget_s;           /* est. seconds per utilization case at peak; 0: by --quick */
    int max_repeats;           /* timed runs at most; 0: by --quick */
    conf_peak_policy_t peaks;  /* which figures the metrics use */
    const char *expected_file; /* expected failures (INI, see conf_expected.c); NULL: none */
    const char *peaks_cache;   /* the `xhal peak` cache file to read; NULL: none */
    conf_progress_fn progress;
    void *progress_context;
} conf_options_t;

/* Everything run on one device, and what the reports need to say about it. */
typedef struct conf_run {
    xhal_device_info_t device;
    char version[16];
    char commit[64]; /* `git describe` when libxhal's tool was built, or "unknown" */
    char date[32];   /* UTC, ISO 8601 */
    char settings[320];
    conf_options_t options; /* pointers in it are the caller's and are not kept valid */
    conf_peaks_t peaks;
    conf_check_t *checks;
    size_t check_count;
    conf_perf_t *perfs;
    size_t perf_count;
    size_t passed, failed, skipped, xfailed, xpassed; /* correctness */
    size_t measured, perf_skipped, perf_failed;       /* utilization */
    char error[512]; /* the device could not run the suite at all; "" otherwise */
} conf_run_t;

void conf_options_init(conf_options_t *options);

/*
 * Runs the selected parts on `device` into *out (which conf_run_free releases, whatever this
 * returns). Failed cases are results, not errors: this returns XHAL_OK unless the suite could not
 * run at all (no stream, no host memory), with out->error saying why.
 */
xhal_status_t conf_run_device(xhal_device_t *device, const conf_options_t *options,
                              conf_run_t *out);
void conf_run_free(conf_run_t *run);

/*
 * The run of a device that cannot be opened (`spec` names it, `reason` says why): every
 * selected correctness case is listed as SKIP with "no device: <reason>", nothing is measured.
 * So a backend's case list runs, unchanged, on a machine without its hardware.
 */
xhal_status_t conf_run_no_device(const char *spec, const char *reason,
                                 const conf_options_t *options, conf_run_t *out);

/* True when a correctness case failed, a utilization case met an error, or the run did not run. */
int conf_run_failed(const conf_run_t *run);

/* ---- Reports ---- */

/*
 * Writes report.md, report.json, report.csv, roofline.svg and roofline_pct.svg into `dir`
 * (created, with its parents, when missing). Returns 0, or -1 with `error` written.
 */
int conf_write_reports(const conf_run_t *run, const char *dir, char *error, size_t error_size);

/* The console summary: correctness counts, the cases that did not pass, the utilization table. */
void conf_print_summary(FILE *out, const conf_run_t *run, int verbose);

/* "12.3 GFLOP/s" (3 digits, SI prefix), or "-" when not known (0, NAN). */
void conf_human(char *out, size_t size, double value, const char *unit);
/* "45.6%" from 0.456, or "-". */
void conf_percent(char *out, size_t size, double fraction);

/* Writes `text` as a JSON string literal, quotes and escapes included (control characters as
 * \uXXXX, bytes >= 0x80 passed through as UTF-8). */
void conf_json_string(FILE *out, const char *text);

/* A file- and folder-safe form of a device spec: "opencl:0" -> "opencl-0". */
void conf_slug(const char *spec, char *out, size_t size);

/* ---- Peaks: measuring and the cache ---- */

/*
 * Measures copy bandwidth and, per dtype, an FMA loop (CPU backend only) and a large GEMM.
 * `quick` keeps it to about a second. Progress goes to `progress` (may be NULL).
 */
xhal_status_t conf_peak_measure(xhal_device_t *device, int quick, conf_progress_fn progress,
                                void *progress_context, conf_measured_t *out);

/*
 * The peaks cache is a file the caller names (the xhal tool: <user cache>/xhal/peaks.ini, see
 * backends/common/xc_paths.h); the library reads no environment of its own.
 * Reads this device's section (keyed by spec and name) of `path` (NULL: no cache); 1 when found,
 * else 0.
 */
int conf_peak_cache_load(const char *path, const xhal_device_info_t *device, conf_measured_t *out);
/* Replaces this device's section of `path`, keeping the others. 0, or -1 with `error` written. */
int conf_peak_cache_store(const char *path, const xhal_device_info_t *device,
                          const conf_measured_t *measured, char *error, size_t error_size);

/* ---- Timing: one implementation for the suite's utilization cases and `xhal bench` ---- */

typedef struct conf_timing {
    int warmup_runs;       /* untimed runs first, at least; 0: none at all */
    double warmup_seconds; /* and for at least this long (with warmup_runs > 0) */
    int repeats;           /* timed runs at most; `events` holds repeats + 1 */
    /*
     * > 0: as many timed runs as fit this many seconds by the last warm-up run's time (at least
     * 3 for a median; 1 when that run took more than ten times this); 0: `repeats` runs.
     */
    double target_seconds;
    /*
     * 0: the timed runs go back to back, an event between each two (the suite); 1: each timed
     * run is enqueued between two events and synchronized alone (`xhal bench`, whose figures in
     * docs/PERFORMANCE.md were taken so: no run overlaps the host enqueuing the next).
     */
    int synchronize_each;
} conf_timing_t;

typedef struct conf_timed {
    int runs; /* timed runs made */
    double median_ms, min_ms;
    const char *failed_call; /* the xhal call that failed, when one did; NULL otherwise */
} conf_timed_t;

/* Enqueues run number `run` on the stream (rotating inputs by it); a status, with the error set. */
typedef xhal_status_t (*conf_enqueue_fn)(void *context, int run);

/*
 * Times an op by the stream's own events (device time): warm-up runs, each synchronized, then
 * the timed runs, each with its own time (see synchronize_each), so that the median is not
 * pulled by one slow run. Runs are numbered from 0 across both.
 * Returns XHAL_OK with *out filled, or the status of the call that failed (enqueue's, or the
 * event's or synchronize's named in out->failed_call).
 */
xhal_status_t conf_time_runs(xhal_stream_t *stream, xhal_event_t *const *events,
                             const conf_timing_t *timing, conf_enqueue_fn enqueue, void *context,
                             conf_timed_t *out);

/* 1 while a warm-up that has done `runs` runs in `seconds` must go on; 0 when min_runs is 0. */
int conf_warming(int runs, int min_runs, double seconds, double min_seconds);

/*
 * How many copies of a working set of `bytes` to rotate through so that a run does not find its
 * inputs in a cache of `cache_bytes` left by the one before: at least 1, at most max_copies,
 * and no more than fit `memory_budget` bytes (0: no limit).
 */
int conf_rotation(double bytes, double cache_bytes, int max_copies, double memory_budget);
/* The cache to outgrow on a device: twice the host's last-level cache for a CPU device; for
 * others 512 MiB (MI300X's Infinity Cache and H100's 50 MiB L2 alike: GPU caches are not in
 * the API). */
double conf_rotate_bytes(const xhal_device_info_t *info);

/* The median of `count` values (sorted in place); NAN for none. */
double conf_median(double *values, size_t count);
/* Seconds of a monotonic clock. */
double conf_now(void);

/* The host's memory bandwidth as STREAM measures it (conf_stream.c). */
typedef struct conf_stream {
    double copy, triad;   /* bytes/s: Copy counts 2 arrays, Triad 3, as STREAM does */
    uint64_t array_bytes; /* per array */
    unsigned threads;
} conf_stream_t;

/*
 * STREAM Copy and Triad on `threads` threads over three arrays of `array_bytes` each (pages
 * first touched by the thread that uses them, best of 10 trials). 0, or -1 when memory or
 * threads cannot be had (then *out is zeros).
 */
int conf_stream_host(unsigned threads, uint64_t array_bytes, conf_stream_t *out);

/* The array size STREAM's rule asks for on this host: 4 x the last-level cache, >= 64 MiB. */
uint64_t conf_stream_array_bytes(void);

/* ---- Tuning (`xhal tune`, conf_tune.c; the search space and strategy: conf_tune_space.c) ---- */

/* A candidate's parameters: keys of the backend's tuning file with integer values. */
typedef struct conf_tune_setting {
    const char *key;
    int value;
} conf_tune_setting_t;

/*
 * Gives the device with these settings over its shipped tuning (the caller writes them to a
 * tuned file and reopens the device: see tools/cmd_tune.c), or with none of them when count is
 * 0. Returns XHAL_OK and the device in *out_device (the caller's until the next call), or a
 * status with the error set.
 */
typedef xhal_status_t (*conf_tune_open_fn)(void *context, const conf_tune_setting_t *settings,
                                           size_t count, xhal_device_t **out_device);

typedef struct conf_tune_options {
    unsigned ops;    /* bits (1u << CONF_OP_GEMM, CONF_OP_ATTENTION); 0: both */
    unsigned dtypes; /* bits (1u << xhal_dtype_t); 0: f32 */
    double budget_s; /* seconds for the whole search (the baseline included) */
    uint64_t seed;   /* of the search and of the inputs */
    int quick;       /* shapes a quarter of the size in each dimension (tests) */
    int corrupt;     /* test only: candidate number whose output is corrupted (0: none) */
    conf_tune_open_fn open;
    void *open_context;
    FILE *log;      /* one line per candidate (NULL: none) */
    FILE *progress; /* the progress line (NULL: none) */
} conf_tune_options_t;

#define CONF_TUNE_MAX_SETTINGS 24

typedef struct conf_tune_result {
    conf_tune_setting_t settings[CONF_TUNE_MAX_SETTINGS]; /* the winners that differ from the
                                                             shipped tuning */
    size_t count;
    size_t tried, rejected, skipped; /* candidates run, found wrong, refused by the device */
    double seconds;
    char summary[1024]; /* per shape class: before and after */
} conf_tune_result_t;

/*
 * Searches the parameters of the device's backend (OpenCL today) for the selected ops and
 * dtypes: every candidate is checked against the fp64 reference on each shape class and a few
 * odd shapes before it is timed, a wrong one rejected and logged. XHAL_OK with *out filled
 * (count 0 when nothing beat the shipped tuning), UNSUPPORTED for a backend without a space.
 */
xhal_status_t conf_tune(const xhal_device_info_t *info, const conf_tune_options_t *options,
                        conf_tune_result_t *out);

/* ---- Compare ---- */

/*
 * Reads report.json files of runs on different devices and writes one side-by-side Markdown
 * table (to `table_out` and, with `out_dir`, to out_dir/compare.md) and one chart
 * (out_dir/compare.svg). Returns 0, or -1 with `error` written.
 */
int conf_compare(const char *const *paths, size_t count, const char *out_dir, FILE *table_out,
                 char *error, size_t error_size);

/* ---- Serving shapes (conf_serving.c): the utilization part and `xhal bench attention` ---- */

typedef enum conf_serving_kind {
    CONF_SERVING_NONE = 0,       /* a dense attention */
    CONF_SERVING_DECODE_PAGED,   /* one query per sequence over a paged cache */
    CONF_SERVING_DECODE_PACKED,  /* the same lengths with K/V packed contiguously */
    CONF_SERVING_PREFILL_VARLEN, /* packed causal prefill of mixed lengths */
    CONF_SERVING_CHUNKED_PAGED,  /* a chunk of queries at the end of each paged sequence */
} conf_serving_kind_t;

typedef struct conf_serving {
    conf_serving_kind_t kind;
    int64_t batch, min_len, max_len; /* sequences and their KV (prefill: query) lengths */
    int64_t chunk;                   /* CHUNKED_PAGED: queries per sequence */
    int64_t block_size;              /* paged */
    xhal_layout_t layout; /* of Q, O and K/V (a paged pool: [block, token, head, dim] for BSHD,
                           * [block, head, token, dim] for BHSD) */
} conf_serving_t;

/* The host index arrays of a serving shape; NULL where it has none. */
typedef struct conf_serving_arrays {
    int32_t *cu_q, *cu_kv, *lens_kv, *table;
    int64_t table_count, rows_q, rows_kv; /* table entries; queries and keys of all sequences */
} conf_serving_arrays_t;

/*
 * Fills `d` (heads, head_dim and dtype set by the caller) and the arrays for shape `s`;
 * 0, or -1 out of memory. conf_serving_free releases the arrays.
 */
int conf_serving_build(const conf_serving_t *s, xhal_attention_desc_t *d, conf_serving_arrays_t *a);
void conf_serving_free(conf_serving_arrays_t *a);
/* PEAKS.md's FLOPs (exact unmasked pairs) and minimum bytes (Q, O, the keys read) of a shape. */
double conf_serving_flops(const xhal_attention_desc_t *d, const conf_serving_arrays_t *a);
double conf_serving_bytes(const xhal_attention_desc_t *d, const conf_serving_arrays_t *a);
/* Elements of Q, K, V and O to allocate. */
void conf_serving_elements(const xhal_attention_desc_t *d, const conf_serving_arrays_t *a,
                           double out[4]);

#endif
