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

/* Everything about the descriptor except its buffers: what `supports` can judge. */
static xhal_status_t check_shape(const char *fn, const xhal_gemm_desc_t *d) {
    /* Epilogues and quantized B are validated by the serving-GEMM work; refused until then. */
    if (d->bias || d->activation || d->gated || d->b_quant)
        return xhal_set_error(XHAL_UNSUPPORTED, "%s: epilogues and quantized B are not "
                              "implemented yet", fn);
    CHECK(xhal_check_at_least(fn, "m", d->m, 1));
    CHECK(xhal_check_at_least(fn, "n", d->n, 1));
    CHECK(xhal_check_at_least(fn, "k", d->k, 1));
    CHECK(xhal_check_at_least(fn, "batch", d->batch, 1));
    CHECK(xhal_check_dtype(fn, "a_type", d->a_type));
    CHECK(xhal_check_dtype(fn, "b_type", d->b_type));
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
    CHECK(check_ld(fn, "lda", d->lda, d->trans_a ? "m" : "k", d->trans_a ? d->m : d->k, "A",
                   d->trans_a));
    CHECK(check_ld(fn, "ldb", d->ldb, d->trans_b ? "k" : "n", d->trans_b ? d->k : d->n, "B",
                   d->trans_b));
    CHECK(check_ld(fn, "ldc", d->ldc, "n", d->n, "C", 0));
    CHECK(xhal_check_at_least(fn, "stride_a", d->stride_a, 0));
    CHECK(xhal_check_at_least(fn, "stride_b", d->stride_b, 0));
    CHECK(xhal_check_at_least(fn, "stride_c", d->stride_c, 0));
    if (d->batch > 1) {
        /* Batches of C must not share elements, or their results would race. */
        uint64_t c_matrix = xhal_extend((uint64_t)d->n, d->m, d->ldc);
        if (c_matrix == UINT64_MAX || (uint64_t)d->stride_c < c_matrix)
            return xhal_set_error(XHAL_INVALID_ARGUMENT,
                                  "%s: stride_c (%lld) is smaller than one C matrix "
                                  "((m - 1) * ldc + n = %llu elements) with batch %lld",
                                  fn, (long long)d->stride_c, (unsigned long long)c_matrix,
                                  (long long)d->batch);
    }
    return XHAL_OK;
}

/* Elements each operand spans, batches included; OUT_OF_RANGE when a byte count overflows. */
static xhal_status_t extents(const char *fn, const xhal_gemm_desc_t *d, uint64_t *out_a,
                             uint64_t *out_b, uint64_t *out_c) {
    uint64_t a = d->trans_a ? xhal_extend((uint64_t)d->m, d->k, d->lda)
                            : xhal_extend((uint64_t)d->k, d->m, d->lda);
    uint64_t b = d->trans_b ? xhal_extend((uint64_t)d->k, d->n, d->ldb)
                            : xhal_extend((uint64_t)d->n, d->k, d->ldb);
    uint64_t c = xhal_extend((uint64_t)d->n, d->m, d->ldc);
    *out_a = xhal_extend(a, d->batch, d->stride_a);
    *out_b = xhal_extend(b, d->batch, d->stride_b);
    *out_c = xhal_extend(c, d->batch, d->stride_c);
    const struct {
        const char *name;
        uint64_t elements;
        xhal_dtype_t type;
    } t[3] = {{"a", *out_a, d->a_type}, {"b", *out_b, d->b_type}, {"c", *out_c, d->c_type}};
    for (int i = 0; i < 3; i++) {
        uint64_t bytes;
        if (t[i].elements == UINT64_MAX ||
            !xhal_mul_u64(t[i].elements, xhal_dtype_size(t[i].type), &bytes))
            return xhal_set_error(XHAL_OUT_OF_RANGE,
                                  "%s: the shape and strides of %s span more than 2^64 bytes", fn,
                                  t[i].name);
    }
    return XHAL_OK;
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
    uint64_t a_bytes, b_bytes, c_bytes;
    CHECK(xhal_check_tensor(fn, "a", "a_offset", d->a, d->a_offset, a_elements, d->a_type, device,
                            &a_bytes));
    CHECK(xhal_check_tensor(fn, "b", "b_offset", d->b, d->b_offset, b_elements, d->b_type, device,
                            &b_bytes));
    CHECK(xhal_check_tensor(fn, "c", "c_offset", d->c, d->c_offset, c_elements, d->c_type, device,
                            &c_bytes));
    if (d->c == d->a && xhal_ranges_overlap(d->c_offset, c_bytes, d->a_offset, a_bytes))
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: c (c_offset %llu) overlaps a (a_offset %llu) in one buffer", fn,
                              (unsigned long long)d->c_offset, (unsigned long long)d->a_offset);
    if (d->c == d->b && xhal_ranges_overlap(d->c_offset, c_bytes, d->b_offset, b_bytes))
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: c (c_offset %llu) overlaps b (b_offset %llu) in one buffer", fn,
                              (unsigned long long)d->c_offset, (unsigned long long)d->b_offset);
    CHECK(ask_backend(fn, device, d));
    const xhal_be_gemm_buffers_t buffers = {.a = d->a->impl, .b = d->b->impl, .c = d->c->impl};
    return device->api->gemm(stream->impl, d, &buffers);
}
