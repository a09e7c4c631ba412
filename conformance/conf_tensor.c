/*
 * The correctness cases' tensors and verdicts. A tensor is kept three ways on the host: the raw
 * elements in its dtype (what goes to and comes back from the device), the same bits as they were
 * before the op (to find writes outside the output's view and changed inputs), and doubles for
 * the fp64 reference. Outputs are poisoned with NaN before the op, so an element the op forgets
 * to write fails the finite check.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

/* ---- Errors ---- */

static const char *strip_context(const char *message, const char *context) {
    size_t length = strlen(context);
    if (strncmp(message, context, length) == 0 && message[length] == ':' &&
        message[length + 1] == ' ')
        return message + length + 2;
    return message;
}

int conf_ok(conf_check_t *r, xhal_status_t status, const char *context) {
    if (status == XHAL_OK) return 1;
    /* Copied at once: xhal_last_error() changes with the next xhal call. */
    conf_format(r->note, sizeof r->note, "%s: %s: %s", context, xhal_status_name(status),
                strip_context(xhal_last_error(), context));
    r->outcome = CONF_FAIL;
    return 0;
}

int conf_supported(conf_check_t *r, xhal_status_t status, const char *context) {
    if (status != XHAL_UNSUPPORTED) return conf_ok(r, status, context);
    conf_format(r->note, sizeof r->note, "%s", strip_context(xhal_last_error(), context));
    if (!r->note[0]) conf_format(r->note, sizeof r->note, "unsupported (no reason given)");
    r->outcome = CONF_SKIP;
    return 0;
}

int conf_host_alloc(conf_check_t *r, const void *ptr) {
    if (ptr) return 1;
    conf_format(r->note, sizeof r->note, "out of host memory");
    r->outcome = CONF_FAIL;
    return 0;
}

/* ---- Tensors ---- */

int conf_tensor_init(conf_tensor_t *t, xhal_dtype_t dtype, size_t count, conf_check_t *r) {
    size_t bytes = count * xhal_dtype_size(dtype);
    t->dtype = dtype;
    t->count = count;
    t->raw = malloc(bytes);
    t->before = malloc(bytes);
    t->values = malloc(count * sizeof *t->values);
    t->buffer = NULL;
    return conf_host_alloc(r, t->raw) && conf_host_alloc(r, t->before) &&
           conf_host_alloc(r, t->values);
}

void conf_tensor_randomize(conf_tensor_t *t, uint64_t *rng) {
    for (size_t i = 0; i < t->count; i++)
        t->values[i] = conf_store(t->raw, t->dtype, i, conf_random_value(rng));
}

void conf_tensor_poison(conf_tensor_t *t) {
    uint32_t bits = conf_nan_bits(t->dtype);
    for (size_t i = 0; i < t->count; i++) {
        if (t->dtype == XHAL_DTYPE_F32)
            memcpy((uint32_t *)t->raw + i, &bits, sizeof bits);
        else
            ((uint16_t *)t->raw)[i] = (uint16_t)bits;
        t->values[i] = NAN;
    }
}

int conf_tensor_upload(conf_ctx_t *ctx, conf_tensor_t *t, conf_check_t *r) {
    uint64_t size = (uint64_t)t->count * xhal_dtype_size(t->dtype);
    /* A device that has no such memory (UNSUPPORTED) cannot run the case: SKIP, not FAIL. */
    if (!t->buffer &&
        !conf_supported(r, xhal_buffer_alloc(ctx->device, size, XHAL_MEMORY_DEVICE, &t->buffer),
                        "xhal_buffer_alloc"))
        return 0;
    memcpy(t->before, t->raw, size);
    return conf_ok(r, xhal_copy_h2d(ctx->stream, t->buffer, 0, t->raw, size), "xhal_copy_h2d");
}

int conf_tensor_download(conf_ctx_t *ctx, conf_tensor_t *t, conf_check_t *r) {
    uint64_t size = (uint64_t)t->count * xhal_dtype_size(t->dtype);
    return conf_ok(r, xhal_copy_d2h(ctx->stream, t->raw, t->buffer, 0, size), "xhal_copy_d2h");
}

void conf_tensor_decode(conf_tensor_t *t) {
    for (size_t i = 0; i < t->count; i++)
        t->values[i] = conf_load(t->raw, t->dtype, i);
}

void conf_tensor_free(conf_tensor_t *t) {
    xhal_buffer_free(t->buffer);
    free(t->raw);
    free(t->before);
    free(t->values);
    memset(t, 0, sizeof *t);
}

uint64_t conf_tensor_changed(const conf_tensor_t *t, const unsigned char *in_view) {
    size_t size = xhal_dtype_size(t->dtype);
    uint64_t changed = 0;
    for (size_t i = 0; i < t->count; i++) {
        if (in_view && in_view[i]) continue;
        if (memcmp((const char *)t->raw + i * size, (const char *)t->before + i * size, size))
            changed++;
    }
    return changed;
}

/* ---- Running ---- */

int conf_timer_start(conf_ctx_t *ctx, conf_check_t *r) {
    return conf_ok(r, xhal_event_record(ctx->start, ctx->stream), "xhal_event_record");
}

int conf_collect(conf_ctx_t *ctx, conf_tensor_t *tensors, size_t count, conf_check_t *r) {
    if (!conf_ok(r, xhal_event_record(ctx->stop, ctx->stream), "xhal_event_record")) return 0;
    for (size_t i = 0; i < count; i++) /* a tensor with no buffer is one the case does not use */
        if (tensors[i].buffer && !conf_tensor_download(ctx, &tensors[i], r)) return 0;
    if (!conf_ok(r, xhal_stream_synchronize(ctx->stream), "xhal_stream_synchronize") ||
        !conf_ok(r, xhal_event_elapsed_ms(ctx->start, ctx->stop, &r->ms), "xhal_event_elapsed_ms"))
        return 0;
    for (size_t i = 0; i < count; i++)
        if (tensors[i].buffer) conf_tensor_decode(&tensors[i]);
    return 1;
}

void conf_release(conf_ctx_t *ctx, conf_tensor_t *tensors, size_t count) {
    /*
     * A case that failed half-way may have work queued on its buffers; its error is in the
     * case's note, so the status is dropped, which also leaves the stream clean for the next.
     */
    (void)xhal_stream_synchronize(ctx->stream);
    for (size_t i = 0; i < count; i++)
        conf_tensor_free(&tensors[i]);
}

/* ---- Verdicts ---- */

/*
 * f32 results of a k-long dot product carry rounding error growing about like sqrt(k) unit
 * roundoffs (random signs), so the bound is tightened for short reductions: 1e-6 at k <= 16,
 * 1e-5 (the suite's f32 bound) from k = 1600 on. That catches a kernel that silently drops
 * to TF32 or f16 on short GEMMs, which a flat 1e-5 would let through. A 16-bit result is
 * dominated by its own rounding (relative 2^-11 for f16, 2^-8 for bf16, about /sqrt(3) in the
 * Frobenius sense), which the flat bounds leave 3-4x of room over.
 */
double conf_gemm_bound(xhal_dtype_t out_dtype, int64_t k) {
    if (out_dtype == XHAL_DTYPE_F16) return 1e-3;
    if (out_dtype == XHAL_DTYPE_BF16) return 1e-2;
    double bound = 1e-6 * sqrt((double)(k < 16 ? 16 : k) / 16.0);
    return bound < 1e-5 ? bound : 1e-5;
}

/*
 * Attention rounds twice in 16-bit kernels (P before P.V, as FlashAttention does, then O), so
 * f16 gets twice the GEMM bound; f32 keeps the suite's 1e-5 (exp and the softmax sum in f32).
 */
double conf_attention_bound(xhal_dtype_t dtype) {
    if (dtype == XHAL_DTYPE_F16) return 2e-3;
    if (dtype == XHAL_DTYPE_BF16) return 1e-2;
    return 1e-5;
}

void conf_judge(conf_check_t *r, const double *out, const double *ref, size_t count, double bound) {
    double diff2 = 0, ref2 = 0;
    r->bound = bound;
    r->non_finite = 0;
    r->max_abs_error = 0;
    r->worst_index = 0;
    for (size_t i = 0; i < count; i++) {
        double error = fabs(out[i] - ref[i]);
        if (!isfinite(out[i])) {
            r->non_finite++;
            continue;
        }
        diff2 += error * error;
        ref2 += ref[i] * ref[i];
        if (error > r->max_abs_error) {
            r->max_abs_error = error;
            r->worst_index = i;
        }
    }
    /* An all-zero reference (never with these inputs) falls back to the absolute error. */
    r->rel_error = ref2 > 0 ? sqrt(diff2 / ref2) : sqrt(diff2);
    if (r->non_finite) {
        r->outcome = CONF_FAIL;
        conf_format(r->note, sizeof r->note, "%llu of %zu outputs are NaN or Inf (unwritten?)",
                    (unsigned long long)r->non_finite, count);
    } else if (!(r->rel_error <= bound)) {
        r->outcome = CONF_FAIL;
        conf_format(r->note, sizeof r->note,
                    "relative error %.2e above the bound %.1e; worst output #%llu: got %.6g, "
                    "want %.6g",
                    r->rel_error, bound, (unsigned long long)r->worst_index, out[r->worst_index],
                    ref[r->worst_index]);
    }
    if (r->outside_writes) {
        r->outcome = CONF_FAIL;
        conf_append(r->note, sizeof r->note, "%s%llu elements outside the output view changed",
                    r->note[0] ? "; " : "", (unsigned long long)r->outside_writes);
    }
    if (r->inputs_changed) {
        r->outcome = CONF_FAIL;
        conf_append(r->note, sizeof r->note, "%s%llu input elements changed",
                    r->note[0] ? "; " : "", (unsigned long long)r->inputs_changed);
    }
}

void conf_judge_lse(conf_check_t *r, const double *got, const double *ref, size_t count,
                    double bound) {
    double diff2 = 0, ref2 = 0;
    size_t wrong_inf = 0, worst = 0;
    double worst_error = -1;
    for (size_t i = 0; i < count; i++) {
        if (isinf(ref[i]) || !isfinite(got[i])) {
            wrong_inf += !(isinf(ref[i]) && ref[i] < 0 && isinf(got[i]) && got[i] < 0);
            continue;
        }
        double e = fabs(got[i] - ref[i]);
        diff2 += e * e;
        ref2 += ref[i] * ref[i];
        if (e > worst_error) worst_error = e, worst = i;
    }
    double rel = ref2 > 0 ? sqrt(diff2 / ref2) : sqrt(diff2);
    if (wrong_inf || !(rel <= bound)) {
        r->outcome = CONF_FAIL;
        conf_append(r->note, sizeof r->note,
                    "%slse: %zu rows NaN, or -inf where the reference is not (or the reverse); "
                    "relative error %.2e (bound %.1e); worst row #%zu: got %.6g, want %.6g",
                    r->note[0] ? "; " : "", wrong_inf, rel, bound, worst, count ? got[worst] : 0.0,
                    count ? ref[worst] : 0.0);
    }
}
