/* What every op of `xhal check` shares: results, host/device tensors, timing, the comparison. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tool_util.h"

/* ---- Results and errors ---- */

void check_result_init(check_result_t *r) {
    r->outcome = CHECK_PASS;
    r->rel_error = NAN;
    r->ms = NAN;
    r->note[0] = '\0';
}

int check_ok(check_result_t *r, xhal_status_t status, const char *context) {
    if (status == XHAL_OK) return 1;
    /* Copied at once: xhal_last_error() changes with the next xhal call. */
    snprintf(r->note, sizeof r->note, "%s: %s: %s", context, xhal_status_name(status),
             tool_error_message(context));
    tool_report(status, context);
    r->outcome = CHECK_FAIL;
    return 0;
}

int check_supported(check_result_t *r, xhal_status_t status, const char *context) {
    if (status != XHAL_UNSUPPORTED) return check_ok(r, status, context);
    snprintf(r->note, sizeof r->note, "%s", tool_error_message(context));
    r->outcome = CHECK_SKIP;
    return 0;
}

int check_host_alloc(check_result_t *r, const void *ptr) {
    if (ptr) return 1;
    snprintf(r->note, sizeof r->note, "out of host memory");
    r->outcome = CHECK_FAIL;
    return 0;
}

/* ---- Tensors ---- */

/* splitmix64: tiny, seedable with any value, and good enough for test inputs. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Stores `value` rounded to the tensor's dtype at `index`; returns the stored value. */
static double store(check_tensor_t *t, size_t index, float value) {
    if (t->dtype == XHAL_DTYPE_F32) {
        ((float *)t->raw)[index] = value;
        return value;
    }
    uint16_t *raw = t->raw;
    if (t->dtype == XHAL_DTYPE_F16) {
        raw[index] = xhal_f32_to_f16(value);
        return xhal_f16_to_f32(raw[index]);
    }
    raw[index] = xhal_f32_to_bf16(value);
    return xhal_bf16_to_f32(raw[index]);
}

static double load(const check_tensor_t *t, size_t index) {
    if (t->dtype == XHAL_DTYPE_F32) return ((const float *)t->raw)[index];
    const uint16_t *raw = t->raw;
    return t->dtype == XHAL_DTYPE_F16 ? xhal_f16_to_f32(raw[index]) : xhal_bf16_to_f32(raw[index]);
}

int check_tensor_init(check_tensor_t *t, xhal_dtype_t dtype, size_t count, check_result_t *r) {
    t->dtype = dtype;
    t->count = count;
    t->raw = malloc(count * xhal_dtype_size(dtype));
    t->values = malloc(count * sizeof *t->values);
    t->buffer = NULL;
    return check_host_alloc(r, t->raw) && check_host_alloc(r, t->values);
}

void check_tensor_randomize(check_tensor_t *t, uint64_t *rng) {
    for (size_t i = 0; i < t->count; i++) {
        /* The top 53 bits give a uniform double in [0, 1). */
        double unit = (double)(next_random(rng) >> 11) * 0x1.0p-53;
        t->values[i] = store(t, i, (float)(2.0 * unit - 1.0));
    }
}

static int ensure_buffer(check_context_t *ctx, check_tensor_t *t, check_result_t *r) {
    if (t->buffer) return 1;
    uint64_t size = (uint64_t)t->count * xhal_dtype_size(t->dtype);
    return check_ok(r, xhal_buffer_alloc(ctx->device, size, XHAL_MEMORY_DEVICE, &t->buffer),
                    "xhal_buffer_alloc");
}

int check_tensor_upload(check_context_t *ctx, check_tensor_t *t, check_result_t *r) {
    uint64_t size = (uint64_t)t->count * xhal_dtype_size(t->dtype);
    return ensure_buffer(ctx, t, r) &&
           check_ok(r, xhal_copy_h2d(ctx->stream, t->buffer, 0, t->raw, size), "xhal_copy_h2d");
}

int check_tensor_poison(check_context_t *ctx, check_tensor_t *t, check_result_t *r) {
    /* Quiet NaN in each format, so an element the op never writes fails the finite check. */
    static const uint32_t nan_f32 = 0x7FC00000u;
    static const uint16_t nan_f16 = 0x7E00u, nan_bf16 = 0x7FC0u;
    const void *pattern = t->dtype == XHAL_DTYPE_F32   ? (const void *)&nan_f32
                          : t->dtype == XHAL_DTYPE_F16 ? (const void *)&nan_f16
                                                       : (const void *)&nan_bf16;
    size_t pattern_size = xhal_dtype_size(t->dtype);
    uint64_t size = (uint64_t)t->count * pattern_size;
    return ensure_buffer(ctx, t, r) &&
           check_ok(r, xhal_fill(ctx->stream, t->buffer, 0, size, pattern, pattern_size),
                    "xhal_fill");
}

void check_tensor_free(check_tensor_t *t) {
    xhal_buffer_free(t->buffer);
    free(t->raw);
    free(t->values);
    memset(t, 0, sizeof *t);
}

/* ---- Running ---- */

int check_timer_start(check_context_t *ctx, check_result_t *r) {
    return check_ok(r, xhal_event_record(ctx->start, ctx->stream), "xhal_event_record");
}

int check_collect(check_context_t *ctx, check_tensor_t *out, check_result_t *r) {
    uint64_t size = (uint64_t)out->count * xhal_dtype_size(out->dtype);
    if (!check_ok(r, xhal_event_record(ctx->stop, ctx->stream), "xhal_event_record") ||
        !check_ok(r, xhal_copy_d2h(ctx->stream, out->raw, out->buffer, 0, size), "xhal_copy_d2h") ||
        !check_ok(r, xhal_stream_synchronize(ctx->stream), "xhal_stream_synchronize") ||
        !check_ok(r, xhal_event_elapsed_ms(ctx->start, ctx->stop, &r->ms), "xhal_event_elapsed_ms"))
        return 0;
    for (size_t i = 0; i < out->count; i++)
        out->values[i] = load(out, i);
    return 1;
}

void check_release(check_context_t *ctx, check_tensor_t *tensors, size_t count) {
    /*
     * A case that failed half-way may have work queued on its buffers; its error was already
     * reported, so the status is dropped here, which also leaves the stream clean for the next.
     */
    (void)xhal_stream_synchronize(ctx->stream);
    for (size_t i = 0; i < count; i++)
        check_tensor_free(&tensors[i]);
}

/* ---- Comparison ---- */

static double error_bound(xhal_dtype_t dtype) {
    switch (dtype) {
    case XHAL_DTYPE_F16:
        return 2e-3;
    case XHAL_DTYPE_BF16:
        return 1e-2;
    default:
        return 1e-5;
    }
}

void check_compare(check_result_t *r, const double *out, const double *ref, size_t count,
                   xhal_dtype_t dtype) {
    double diff2 = 0, ref2 = 0;
    size_t non_finite = 0;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(out[i])) non_finite++;
        diff2 += (out[i] - ref[i]) * (out[i] - ref[i]);
        ref2 += ref[i] * ref[i];
    }
    /* An all-zero reference (never with these inputs) falls back to the absolute error. */
    r->rel_error = ref2 > 0 ? sqrt(diff2 / ref2) : sqrt(diff2);
    double bound = error_bound(dtype);
    if (non_finite) {
        r->outcome = CHECK_FAIL;
        snprintf(r->note, sizeof r->note, "%zu of %zu outputs are NaN or Inf", non_finite, count);
    } else if (!(r->rel_error <= bound)) {
        r->outcome = CHECK_FAIL;
        snprintf(r->note, sizeof r->note, "error above the %s bound %.0e", xhal_dtype_name(dtype),
                 bound);
    }
}
