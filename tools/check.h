/*
 * `xhal check`: each op runs a table of cases against an fp64 reference computed here, on
 * seeded random inputs rounded to the dtype, with the output poisoned with NaN before each run.
 * An op is a check_op_t; check_common.c holds what every op shares (tensors, timing, errors,
 * the comparison).
 */
#ifndef XHAL_TOOL_CHECK_H
#define XHAL_TOOL_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <xhal/xhal.h>

typedef enum check_outcome { CHECK_PASS, CHECK_FAIL, CHECK_SKIP } check_outcome_t;

typedef struct check_result {
    check_outcome_t outcome;
    double rel_error; /* relative Frobenius error; NAN when nothing was compared */
    double ms;        /* time between events around the op; NAN when it did not run */
    char note[640];   /* why it failed or was skipped */
} check_result_t;

/* What the cases of one device share. */
typedef struct check_context {
    xhal_device_t *device;
    xhal_stream_t *stream;
    xhal_event_t *start, *stop; /* around the op, for its time */
    uint64_t rng;               /* reseeded before each case, so every case is reproducible */
} check_context_t;

/* One op's case table. */
typedef struct check_op {
    const char *name;
    size_t case_count;
    int (*is_quick)(size_t index);                          /* part of `--quick` */
    void (*describe)(size_t index, char *out, size_t size); /* the shape column */
    void (*run)(check_context_t *ctx, size_t index, xhal_dtype_t dtype, check_result_t *r);
} check_op_t;

extern const check_op_t check_op_gemm;
extern const check_op_t check_op_attention;

/* A tensor as the host sees it, and its device buffer. */
typedef struct check_tensor {
    xhal_dtype_t dtype;
    size_t count;          /* elements */
    void *raw;             /* the elements in `dtype`, uploaded from or downloaded into */
    double *values;        /* the same elements as doubles, for the reference */
    xhal_buffer_t *buffer; /* NULL until uploaded or poisoned */
} check_tensor_t;

/* ---- Results and errors: each returns 1 to go on, 0 when `r` is now FAIL or SKIP. ---- */

void check_result_init(check_result_t *r);
/* A failed xhal call makes the case FAIL: printed on stderr, and kept as the note. */
int check_ok(check_result_t *r, xhal_status_t status, const char *context);
/* The answer of a supports query: UNSUPPORTED makes the case SKIP with the library's reason. */
int check_supported(check_result_t *r, xhal_status_t status, const char *context);
/* A host allocation that returned NULL. */
int check_host_alloc(check_result_t *r, const void *ptr);

/* ---- Tensors ---- */

/* Allocates the host side of `count` elements of `dtype`. */
int check_tensor_init(check_tensor_t *t, xhal_dtype_t dtype, size_t count, check_result_t *r);
/* Fills with uniform values in [-1, 1], rounded to the dtype. */
void check_tensor_randomize(check_tensor_t *t, uint64_t *rng);
/* Allocates the buffer (first time) and enqueues the upload of `raw`. */
int check_tensor_upload(check_context_t *ctx, check_tensor_t *t, check_result_t *r);
/* Allocates the buffer (first time) and enqueues a fill with NaN, so unwritten output shows. */
int check_tensor_poison(check_context_t *ctx, check_tensor_t *t, check_result_t *r);
void check_tensor_free(check_tensor_t *t);

/* ---- Running ---- */

/* Records the start event: call right before enqueuing the op. */
int check_timer_start(check_context_t *ctx, check_result_t *r);
/*
 * Records the stop event, downloads `out`, synchronizes, reads the op's time and decodes `out`
 * into its values.
 */
int check_collect(check_context_t *ctx, check_tensor_t *out, check_result_t *r);
/* Waits for whatever a failed case left queued, then frees its tensors. */
void check_release(check_context_t *ctx, check_tensor_t *tensors, size_t count);

/* Compares `count` outputs with the reference by relative Frobenius error and the dtype's bound. */
void check_compare(check_result_t *r, const double *out, const double *ref, size_t count,
                   xhal_dtype_t dtype);

#endif
