/*
 * Shared helpers for the xhal unit tests: a seeded random source, dtype conversions written
 * independently of the library (so the tests do not trust what they test), fp64 references for
 * GEMM and attention, error-message assertions and a few device/buffer shortcuts.
 */
#ifndef XHAL_TEST_UTIL_H
#define XHAL_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef XT_NO_CMOCKA
/*
 * The GPU check program (tests/cuda/gpu_check.cmake) is built where cmocka is not installed (the
 * lent GPU machines' image): the helpers' few cmocka calls print, and a failure aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#define print_message(...) printf(__VA_ARGS__)
#define print_error(...) fprintf(stderr, __VA_ARGS__)
#define fail_msg(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#define _fail(file, line) (fprintf(stderr, "%s:%d: failure\n", (file), (line)), abort())
#else
#include <cmocka.h>
#endif

#include "xhal/xhal.h"

/* ---- random ---------------------------------------------------------------------------- */

typedef struct xt_rng {
    uint64_t state;
} xt_rng_t;

void xt_rng_seed(xt_rng_t *rng, uint64_t seed);
uint64_t xt_rng_next(xt_rng_t *rng);
/* A value in [-1, 1] that is never zero (|x| >= 1/1024). */
double xt_rng_uniform(xt_rng_t *rng);
/* An integer in [lo, hi]. */
int64_t xt_rng_range(xt_rng_t *rng, int64_t lo, int64_t hi);

/* ---- dtypes (reference conversions, round to nearest even) ------------------------------ */

uint16_t xt_f32_to_f16(float value);
float xt_f16_to_f32(uint16_t value);
uint16_t xt_f32_to_bf16(float value);
float xt_bf16_to_f32(uint16_t value);

size_t xt_dtype_size(xhal_dtype_t dtype);
/* Element `index` of an array of `dtype` starting at `base`. */
double xt_load(const void *base, xhal_dtype_t dtype, uint64_t index);
/* Stores `value` rounded to `dtype`. */
void xt_store(void *base, xhal_dtype_t dtype, uint64_t index, double value);
/* Relative Frobenius error bound for results stored in `dtype`. */
double xt_tolerance(xhal_dtype_t out_dtype);

/* ---- error assertions ------------------------------------------------------------------- */

/*
 * Checks that `got` == `want` and, for a failure, that xhal_last_error() is non-empty and
 * contains every needle as a whole word (a needle ending in '*' matches a word prefix). For
 * INVALID_ARGUMENT and OUT_OF_RANGE the message must also start with "<function>:", the
 * function being the name `call_text` starts with. Prints what differs and returns 0 on mismatch.
 */
int xt_error_matches(xhal_status_t got, xhal_status_t want, const char *call_text,
                     const char *const *needles);
/* Counts the failing calls checked with XT_EXPECT_ERR in this process. */
extern int xt_invalid_calls_checked;

#define XT_EXPECT_ERR(want, call, ...)                                                             \
    do {                                                                                           \
        xhal_status_t xt_st_ = (call);                                                             \
        if (!xt_error_matches(xt_st_, (want), #call, (const char *const[]){__VA_ARGS__, NULL}))    \
            _fail(__FILE__, __LINE__);                                                             \
    } while (0)

#define XT_OK(call)                                                                                \
    do {                                                                                           \
        xhal_status_t xt_st_ = (call);                                                             \
        if (xt_st_ != XHAL_OK) {                                                                   \
            print_error("%s returned %s: \"%s\"\n", #call, xhal_status_name(xt_st_),               \
                        xhal_last_error());                                                        \
            _fail(__FILE__, __LINE__);                                                             \
        }                                                                                          \
    } while (0)

/* Whole-word search as used by xt_error_matches. */
int xt_contains_word(const char *haystack, const char *needle);

/* ---- devices and buffers ---------------------------------------------------------------- */

/*
 * The devices a test that runs every case on every device uses, each with its stream. The
 * environment picks them: XHAL_TEST_CPU_ONLY=1 keeps the built-in CPU backend only (the valgrind
 * stage sets it: vendor runtimes under valgrind are slow and noisy); XHAL_TEST_BACKEND=<name>
 * keeps one backend's devices only.
 */
#define XT_MAX_DEVICES 16
typedef struct xt_devices {
    xhal_device_t *device[XT_MAX_DEVICES];
    xhal_stream_t *stream[XT_MAX_DEVICES];
    size_t count;
} xt_devices_t;

/* Fills `set` with the devices the environment allows (printing each); returns how many. */
size_t xt_devices_select(xt_devices_t *set);
/* Creates a stream per device: 0, or -1 when one cannot be made (a cmocka group setup's codes). */
int xt_devices_open_streams(xt_devices_t *set);
/* Destroys the streams and shuts xhal down. */
void xt_devices_close(xt_devices_t *set);

/* Opens `spec` and fails the test when that does not work. */
xhal_device_t *xt_open(const char *spec);
/* Allocates `size` bytes of device memory and uploads `host` (synchronizing `stream`). */
xhal_buffer_t *xt_upload(xhal_device_t *device, xhal_stream_t *stream, const void *host,
                         uint64_t size);
/* Downloads `size` bytes of `buffer` into `host`, synchronizing `stream`. */
void xt_download(xhal_stream_t *stream, void *host, xhal_buffer_t *buffer, uint64_t size);
/* Every xt_* helper calls fail() itself; these let tests allocate without clutter. */
void *xt_malloc(size_t size);

/* ---- fp64 references ---------------------------------------------------------------------- */

/*
 * C = alpha * op(A) op(B) + beta * C in fp64 over host images of the three buffers, with the
 * desc's shapes, leading dimensions, strides and offsets (offsets in bytes into the images).
 * `c_out` receives batch * m * n values in [batch][m][n] order.
 */
void xt_ref_gemm(const xhal_gemm_desc_t *desc, const void *a_image, const void *b_image,
                 const void *c_image, double *c_out);

/*
 * Attention in fp64 over host images of q, k, v; `o_out` receives batch * heads_q * seq_q *
 * head_dim values in [batch][head][seq][dim] order. Rows that see no key are zeros.
 */
void xt_ref_attention(const xhal_attention_desc_t *desc, const void *q_image, const void *k_image,
                      const void *v_image, double *o_out);

/* Elements from the first to one past the last element of a strided tensor view. */
uint64_t xt_attention_extent(const xhal_attention_strides_t *strides, int64_t batch, int64_t heads,
                             int64_t seq, int64_t head_dim);
/* Elements from the first to one past the last element of a row-major matrix view. */
uint64_t xt_matrix_extent(int64_t rows, int64_t cols, int64_t ld);

/*
 * Returns ||got - ref|| / ||ref|| (Frobenius) over `count` values and counts the NaN/Inf values
 * of `got` in *non_finite (may be NULL). A NaN in `got` makes the error NaN.
 */
double xt_rel_error(const double *got, const double *ref, size_t count, size_t *non_finite);

#endif
