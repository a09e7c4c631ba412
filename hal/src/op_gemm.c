/* GEMM: the descriptor's checks, the supports probe, and dispatch. */
#include <stdio.h>

#include "core.h"

static const char *const trans_name[2] = {"not transposed", "transposed"};

void xhal_gemm_desc_init(xhal_gemm_desc_t *out_desc, int64_t m, int64_t n, int64_t k,
                         xhal_dtype_t dtype) {
    if (!out_desc) return;
    *out_desc = (xhal_gemm_desc_t){
        .struct_size = sizeof(xhal_gemm_desc_t),
        .m = m,
        .n = n,
        .k = k,
        .a_type = dtype,
        .b_type = dtype,
        .c_type = dtype,
        .lda = k,
        .ldb = n,
        .ldc = n,
        .batch = 1,
        .stride_a = xhal_mul_sat_i64(m, k),
        .stride_b = xhal_mul_sat_i64(k, n),
        .stride_c = xhal_mul_sat_i64(m, n),
        .alpha = 1.0f,
        .beta = 0.0f,
    };
}

static xhal_status_t check_ld(const char *fn, const char *name, int64_t ld, const char *dim,
                              int64_t minimum, const char *matrix, int trans) {
    if (ld >= minimum) return XHAL_OK;
    return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: %s (%lld) < %s (%lld) for %s %s", fn, name,
                          (long long)ld, dim, (long long)minimum, matrix, trans_name[trans]);
}

/* The first versioned layout (0.2) ends here; see xhal_copy_versioned. */
#define GEMM_DESC_MIN_SIZE XHAL_SIZE_THROUGH(xhal_gemm_desc_t, b_zeros_offset)

/* Columns of C: n, or n / 2 when the epilogue is gated. */
static int64_t c_columns(const xhal_gemm_desc_t *d) {
    return d->gated ? d->n / 2 : d->n;
}

/* Scale values a quantized B has: one, one per column, or one per column and group of k. */
static int64_t scale_count(const xhal_gemm_desc_t *d) {
    if (d->b_scale_mode == XHAL_SCALE_PER_TENSOR) return 1;
    if (d->b_scale_mode == XHAL_SCALE_PER_CHANNEL) return d->n;
    return d->n * ((d->k + d->b_group_size - 1) / d->b_group_size);
}

/* The epilogue's fields (xhal.h: bias, activation, gated). */
static xhal_status_t check_epilogue(const char *fn, const xhal_gemm_desc_t *d) {
    if ((unsigned)d->activation >= XHAL_ACTIVATION_COUNT)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: activation (%d) is not a valid xhal_activation_t", fn,
                              (int)d->activation);
    if (d->bias) CHECK(xhal_check_dtype(fn, "bias_type", d->bias_type));
    if (d->gated != 0 && d->gated != 1)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: gated (%d) must be 0 or 1", fn, d->gated);
    if (!d->gated) return XHAL_OK;
    if (d->n % 2)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: n (%lld) must be even when gated is set (C takes n / 2 "
                              "columns)",
                              fn, (long long)d->n);
    if (d->beta != 0.0f)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: beta (%g) must be 0 when gated is set",
                              fn, (double)d->beta);
    return XHAL_OK;
}

/* The weight-only quantized B's fields (xhal.h: xhal_quant_t). */
static xhal_status_t check_quant(const char *fn, const xhal_gemm_desc_t *d) {
    if ((unsigned)d->b_quant >= XHAL_QUANT_COUNT)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: b_quant (%d) is not a valid xhal_quant_t",
                              fn, (int)d->b_quant);
    if (d->b_quant == XHAL_QUANT_NONE) {
        if (d->b_scales)
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: b_scales is set but b_quant is NONE (B is dense)", fn);
        if (d->b_zeros)
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: b_zeros is set but b_quant is NONE (B is dense)", fn);
        return XHAL_OK;
    }
    CHECK(xhal_check_quant_mode(fn, "b_scale_mode", d->b_quant, d->b_scale_mode));
    if (d->b_scale_mode == XHAL_SCALE_PER_GROUP)
        CHECK(xhal_check_group_size(fn, "b_group_size", d->b_group_size));
    CHECK(xhal_check_dtype(fn, "b_scale_type", d->b_scale_type));
    if (d->b_zeros && d->b_quant != XHAL_QUANT_INT4)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: b_zeros is set but b_quant is %s "
                              "(zero points are for INT4)",
                              fn, xhal_quant_name(d->b_quant));
    if (d->b_quant == XHAL_QUANT_INT4 && d->ldb % 2)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: ldb (%lld) must be even for INT4 B (two elements a byte, "
                              "each row starting on a byte)",
                              fn, (long long)d->ldb);
    if (d->batch > 1 && d->stride_b != 0)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: stride_b (%lld) must be 0 with a quantized B and batch %lld "
                              "(one weight matrix for the batch)",
                              fn, (long long)d->stride_b, (long long)d->batch);
    return XHAL_OK;
}

/* Everything about the descriptor except its buffers: what `supports` can judge. */
static xhal_status_t check_shape(const char *fn, const xhal_gemm_desc_t *d) {
    CHECK(xhal_check_at_least(fn, "m", d->m, 1));
    CHECK(xhal_check_at_least(fn, "n", d->n, 1));
    CHECK(xhal_check_at_least(fn, "k", d->k, 1));
    CHECK(xhal_check_at_least(fn, "batch", d->batch, 1));
    CHECK(xhal_check_dtype(fn, "a_type", d->a_type));
    if (d->b_quant == XHAL_QUANT_NONE) CHECK(xhal_check_dtype(fn, "b_type", d->b_type));
    CHECK(xhal_check_dtype(fn, "c_type", d->c_type));
    if (d->trans_a != 0 && d->trans_a != 1)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: trans_a (%d) must be 0 or 1", fn,
                              d->trans_a);
    if (d->trans_b != 0 && d->trans_b != 1)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: trans_b (%d) must be 0 or 1", fn,
                              d->trans_b);
    if (d->flags & ~(uint32_t)XHAL_GEMM_ALLOW_TF32)
        return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: flags (0x%x) has unknown bits 0x%x", fn,
                              d->flags, d->flags & ~(uint32_t)XHAL_GEMM_ALLOW_TF32);
    CHECK(check_epilogue(fn, d));
    CHECK(check_ld(fn, "lda", d->lda, d->trans_a ? "m" : "k", d->trans_a ? d->m : d->k, "A",
                   d->trans_a));
    CHECK(check_ld(fn, "ldb", d->ldb, d->trans_b ? "k" : "n", d->trans_b ? d->k : d->n, "B",
                   d->trans_b));
    CHECK(check_ld(fn, "ldc", d->ldc, d->gated ? "n / 2" : "n", c_columns(d), "C", 0));
    CHECK(xhal_check_at_least(fn, "stride_a", d->stride_a, 0));
    CHECK(xhal_check_at_least(fn, "stride_b", d->stride_b, 0));
    CHECK(xhal_check_at_least(fn, "stride_c", d->stride_c, 0));
    CHECK(check_quant(fn, d));
    if (d->batch > 1) {
        /* Batches of C must not share elements, or their results would race. */
        uint64_t c_matrix = xhal_extend((uint64_t)c_columns(d), d->m, d->ldc);
        if (c_matrix == UINT64_MAX || (uint64_t)d->stride_c < c_matrix)
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: stride_c (%lld) is smaller than one C matrix "
                                  "((m - 1) * ldc + %s = %llu elements) with batch %lld",
                                  fn, (long long)d->stride_c, d->gated ? "n / 2" : "n",
                                  (unsigned long long)c_matrix, (long long)d->batch);
    }
    return XHAL_OK;
}

/* Bytes of B: its elements in b_type, or packed as b_quant says (INT4: two a byte). */
static uint64_t b_bytes_of(const xhal_gemm_desc_t *d, uint64_t elements, bool *out_overflow) {
    uint64_t bytes = 0;
    *out_overflow = elements == UINT64_MAX;
    if (d->b_quant == XHAL_QUANT_INT4)
        bytes = elements / 2 + elements % 2;
    else if (d->b_quant != XHAL_QUANT_NONE)
        bytes = elements;
    else if (!xhal_mul_u64(elements, xhal_dtype_size(d->b_type), &bytes))
        *out_overflow = true;
    return bytes;
}

/* Elements each operand spans, batches included; OUT_OF_RANGE when a byte count overflows. */
static xhal_status_t extents(const char *fn, const xhal_gemm_desc_t *d, uint64_t *out_a,
                             uint64_t *out_b, uint64_t *out_c) {
    uint64_t a = d->trans_a ? xhal_extend((uint64_t)d->m, d->k, d->lda)
                            : xhal_extend((uint64_t)d->k, d->m, d->lda);
    uint64_t b = d->trans_b ? xhal_extend((uint64_t)d->k, d->n, d->ldb)
                            : xhal_extend((uint64_t)d->n, d->k, d->ldb);
    uint64_t c = xhal_extend((uint64_t)c_columns(d), d->m, d->ldc);
    *out_a = xhal_extend(a, d->batch, d->stride_a);
    *out_b = xhal_extend(b, d->batch, d->stride_b);
    *out_c = xhal_extend(c, d->batch, d->stride_c);
    uint64_t bytes;
    bool b_overflow;
    b_bytes_of(d, *out_b, &b_overflow);
    const struct {
        const char *name;
        bool overflow;
    } t[3] = {
        {"a", *out_a == UINT64_MAX || !xhal_mul_u64(*out_a, xhal_dtype_size(d->a_type), &bytes)},
        {"b", b_overflow},
        {"c", *out_c == UINT64_MAX || !xhal_mul_u64(*out_c, xhal_dtype_size(d->c_type), &bytes)},
    };
    for (int i = 0; i < 3; i++)
        if (t[i].overflow)
            return xhal_set_error(XHAL_OUT_OF_RANGE,
                                  "%s: the shape and strides of %s span more than 2^64 bytes", fn,
                                  t[i].name);
    return XHAL_OK;
}

/* A quantized B: `bytes` from b_offset inside b, on the stream's device. */
static xhal_status_t check_bytes(const char *fn, const char *name, const char *offset_name,
                                 const xhal_buffer_t *buffer, uint64_t offset, uint64_t bytes,
                                 const xhal_device_t *device) {
    CHECK(xhal_check_not_null(fn, name, buffer));
    CHECK(xhal_check_same_device(fn, name, buffer->device, device));
    return xhal_check_range(fn, name, offset_name, buffer, offset, bytes);
}

/* C may not overlap an input in the same buffer: a backend may read inputs after writing C. */
static xhal_status_t check_no_overlap(const char *fn, const xhal_gemm_desc_t *d, uint64_t c_bytes,
                                      const char *name, const xhal_buffer_t *buffer,
                                      uint64_t offset, uint64_t bytes) {
    if (buffer != d->c || !xhal_ranges_overlap(d->c_offset, c_bytes, offset, bytes)) return XHAL_OK;
    return xhal_set_error(XHAL_INVALID_ARGUMENT,
                          "%s: c (c_offset %llu) overlaps %s (%s_offset %llu) in one buffer", fn,
                          (unsigned long long)d->c_offset, name, name, (unsigned long long)offset);
}

static xhal_status_t ask_backend(const char *fn, const xhal_device_t *device,
                                 const xhal_gemm_desc_t *d) {
    if (!device->api->gemm)
        return xhal_set_error(XHAL_UNSUPPORTED, "%s: backend %s has no GEMM", fn,
                              device->info.backend);
    if (!device->api->gemm_supports) return XHAL_OK;
    return device->api->gemm_supports(device->impl, d);
}

xhal_status_t xhal_gemm_supports(const xhal_device_t *device, const xhal_gemm_desc_t *desc) {
    static const char fn[] = "xhal_gemm_supports";
    CHECK(xhal_check_not_null(fn, "device", device));
    xhal_gemm_desc_t full;
    CHECK(xhal_copy_versioned(fn, "desc", desc, GEMM_DESC_MIN_SIZE, sizeof full, &full));
    CHECK(check_shape(fn, &full));
    uint64_t a, b, c;
    CHECK(extents(fn, &full, &a, &b, &c));
    return ask_backend(fn, device, &full);
}

xhal_status_t xhal_gemm(xhal_stream_t *stream, const xhal_gemm_desc_t *desc) {
    static const char fn[] = "xhal_gemm";
    CHECK(xhal_check_not_null(fn, "stream", stream));
    xhal_gemm_desc_t full;
    CHECK(xhal_copy_versioned(fn, "desc", desc, GEMM_DESC_MIN_SIZE, sizeof full, &full));
    const xhal_gemm_desc_t *d = &full;
    CHECK(check_shape(fn, d));
    const xhal_device_t *device = stream->device;

    uint64_t a_elements, b_elements, c_elements;
    CHECK(extents(fn, d, &a_elements, &b_elements, &c_elements));
    uint64_t a_bytes, b_bytes, c_bytes, bias_bytes = 0, scale_bytes = 0, zero_bytes = 0;
    CHECK(xhal_check_tensor(fn, "a", "a_offset", d->a, d->a_offset, a_elements, d->a_type, device,
                            &a_bytes));
    if (d->b_quant == XHAL_QUANT_NONE) {
        CHECK(xhal_check_tensor(fn, "b", "b_offset", d->b, d->b_offset, b_elements, d->b_type,
                                device, &b_bytes));
    } else {
        bool overflow;
        b_bytes = b_bytes_of(d, b_elements, &overflow);
        CHECK(check_bytes(fn, "b", "b_offset", d->b, d->b_offset, b_bytes, device));
        CHECK(xhal_check_tensor(fn, "b_scales", "b_scales_offset", d->b_scales, d->b_scales_offset,
                                (uint64_t)scale_count(d), d->b_scale_type, device, &scale_bytes));
        if (d->b_zeros) {
            zero_bytes = (uint64_t)scale_count(d);
            CHECK(check_bytes(fn, "b_zeros", "b_zeros_offset", d->b_zeros, d->b_zeros_offset,
                              zero_bytes, device));
        }
    }
    CHECK(xhal_check_tensor(fn, "c", "c_offset", d->c, d->c_offset, c_elements, d->c_type, device,
                            &c_bytes));
    if (d->bias)
        CHECK(xhal_check_tensor(fn, "bias", "bias_offset", d->bias, d->bias_offset, (uint64_t)d->n,
                                d->bias_type, device, &bias_bytes));
    CHECK(check_no_overlap(fn, d, c_bytes, "a", d->a, d->a_offset, a_bytes));
    CHECK(check_no_overlap(fn, d, c_bytes, "b", d->b, d->b_offset, b_bytes));
    CHECK(check_no_overlap(fn, d, c_bytes, "bias", d->bias, d->bias_offset, bias_bytes));
    CHECK(
        check_no_overlap(fn, d, c_bytes, "b_scales", d->b_scales, d->b_scales_offset, scale_bytes));
    CHECK(check_no_overlap(fn, d, c_bytes, "b_zeros", d->b_zeros, d->b_zeros_offset, zero_bytes));
    CHECK(ask_backend(fn, device, d));
    const xhal_be_gemm_buffers_t buffers = {
        .a = d->a->impl,
        .b = d->b->impl,
        .c = d->c->impl,
        .bias = d->bias ? d->bias->impl : NULL,
        .b_scales = d->b_scales ? d->b_scales->impl : NULL,
        .b_zeros = d->b_zeros ? d->b_zeros->impl : NULL,
    };
    return device->api->gemm(stream->impl, d, &buffers);
}
