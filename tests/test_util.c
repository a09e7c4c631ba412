#include "test_util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int xt_invalid_calls_checked = 0;

/* ---- random ---------------------------------------------------------------------------- */

void xt_rng_seed(xt_rng_t *rng, uint64_t seed) {
    rng->state = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
}

uint64_t xt_rng_next(xt_rng_t *rng) { /* splitmix64 */
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double xt_rng_uniform(xt_rng_t *rng) {
    for (;;) {
        double x = (double)(xt_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) */
        x = 2.0 * x - 1.0;
        if (fabs(x) >= 1.0 / 1024.0) return x;
    }
}

int64_t xt_rng_range(xt_rng_t *rng, int64_t lo, int64_t hi) {
    return lo + (int64_t)(xt_rng_next(rng) % (uint64_t)(hi - lo + 1));
}

/* ---- dtypes ------------------------------------------------------------------------------ */

static uint32_t f32_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    return x;
}

static float bits_f32(uint32_t x) {
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

uint16_t xt_f32_to_f16(float value) {
    uint32_t x = f32_bits(value);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t mant = x & 0x7fffffu;
    if (exp == 0xffu) /* Inf stays Inf, NaN stays a (quiet) NaN */
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0u));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        unsigned shift = (unsigned)(14 - e);
        uint32_t h = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        h++; /* a carry into the exponent is right, up to Inf */
    return (uint16_t)h;
}

float xt_f16_to_f32(uint16_t value) {
    uint32_t sign = ((uint32_t)value & 0x8000u) << 16;
    uint32_t exp = ((uint32_t)value >> 10) & 0x1fu;
    uint32_t mant = (uint32_t)value & 0x3ffu;
    if (exp == 0) {
        float f = (float)ldexp((double)mant, -24);
        return sign ? -f : f;
    }
    if (exp == 31) return bits_f32(sign | 0x7f800000u | (mant << 13));
    return bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t xt_f32_to_bf16(float value) {
    uint32_t x = f32_bits(value);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

float xt_bf16_to_f32(uint16_t value) {
    return bits_f32((uint32_t)value << 16);
}

size_t xt_dtype_size(xhal_dtype_t dtype) {
    switch (dtype) {
    case XHAL_DTYPE_F32:
        return 4;
    case XHAL_DTYPE_F16:
    case XHAL_DTYPE_BF16:
        return 2;
    default:
        return 0;
    }
}

double xt_load(const void *base, xhal_dtype_t dtype, uint64_t index) {
    const unsigned char *p = (const unsigned char *)base;
    uint16_t h;
    float f;
    switch (dtype) {
    case XHAL_DTYPE_F32:
        memcpy(&f, p + index * 4, 4);
        return f;
    case XHAL_DTYPE_F16:
        memcpy(&h, p + index * 2, 2);
        return xt_f16_to_f32(h);
    case XHAL_DTYPE_BF16:
        memcpy(&h, p + index * 2, 2);
        return xt_bf16_to_f32(h);
    default:
        return NAN;
    }
}

void xt_store(void *base, xhal_dtype_t dtype, uint64_t index, double value) {
    unsigned char *p = (unsigned char *)base;
    float f = (float)value;
    uint16_t h;
    switch (dtype) {
    case XHAL_DTYPE_F32:
        memcpy(p + index * 4, &f, 4);
        break;
    case XHAL_DTYPE_F16:
        h = xt_f32_to_f16(f);
        memcpy(p + index * 2, &h, 2);
        break;
    case XHAL_DTYPE_BF16:
        h = xt_f32_to_bf16(f);
        memcpy(p + index * 2, &h, 2);
        break;
    default:
        break;
    }
}

double xt_tolerance(xhal_dtype_t out_dtype) {
    switch (out_dtype) {
    case XHAL_DTYPE_F32:
        return 1e-5;
    case XHAL_DTYPE_F16:
        return 2e-3;
    default:
        return 1e-2;
    }
}

/* ---- error assertions ------------------------------------------------------------------- */

static int is_word_char(char c) {
    return isalnum((unsigned char)c) || c == '_';
}

int xt_contains_word(const char *haystack, const char *needle) {
    size_t len = strlen(needle);
    int prefix = 0;
    if (len > 0 && needle[len - 1] == '*') {
        prefix = 1;
        len--;
    }
    if (len == 0) return 1;
    for (const char *p = haystack; *p; p++) {
        if (strncmp(p, needle, len) != 0) continue;
        int left_ok = p == haystack || !is_word_char(needle[0]) || !is_word_char(p[-1]);
        int right_ok = prefix || !is_word_char(needle[len - 1]) || !is_word_char(p[len]);
        if (left_ok && right_ok) return 1;
    }
    return 0;
}

int xt_error_matches(xhal_status_t got, xhal_status_t want, const char *call_text,
                     const char *const *needles) {
    const char *msg = xhal_last_error();
    int ok = 1;
    xt_invalid_calls_checked++;
    if (got != want) {
        print_error("%s\n  returned %s, expected %s; last error: \"%s\"\n", call_text,
                    xhal_status_name(got), xhal_status_name(want), msg ? msg : "(null)");
        return 0;
    }
    if (want == XHAL_OK) return 1;
    if (msg == NULL || msg[0] == '\0') {
        print_error("%s\n  returned %s but xhal_last_error() is empty\n", call_text,
                    xhal_status_name(got));
        return 0;
    }
    if (want == XHAL_INVALID_ARGUMENT || want == XHAL_OUT_OF_RANGE) {
        size_t fn = strcspn(call_text, "( ");
        if (strncmp(msg, call_text, fn) != 0 || msg[fn] != ':') {
            print_error("%s\n  message does not start with \"%.*s:\": \"%s\"\n", call_text, (int)fn,
                        call_text, msg);
            ok = 0;
        }
    }
    for (const char *const *n = needles; *n; n++) {
        if (!xt_contains_word(msg, *n)) {
            print_error("%s\n  message lacks \"%s\": \"%s\"\n", call_text, *n, msg);
            ok = 0;
        }
    }
    return ok;
}

/* ---- devices and buffers ---------------------------------------------------------------- */

xhal_device_t *xt_open(const char *spec) {
    xhal_device_t *device = NULL;
    xhal_status_t st = xhal_device_open(spec, &device);
    if (st != XHAL_OK || device == NULL)
        fail_msg("xhal_device_open(\"%s\") returned %s: %s", spec ? spec : "(null)",
                 xhal_status_name(st), xhal_last_error());
    return device;
}

void *xt_malloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (p == NULL) fail_msg("out of host memory (%zu bytes)", size);
    return p;
}

xhal_buffer_t *xt_upload(xhal_device_t *device, xhal_stream_t *stream, const void *host,
                         uint64_t size) {
    xhal_buffer_t *buffer = NULL;
    XT_OK(xhal_buffer_alloc(device, size, XHAL_MEMORY_DEVICE, &buffer));
    XT_OK(xhal_copy_h2d(stream, buffer, 0, host, size));
    XT_OK(xhal_stream_synchronize(stream));
    return buffer;
}

void xt_download(xhal_stream_t *stream, void *host, xhal_buffer_t *buffer, uint64_t size) {
    XT_OK(xhal_copy_d2h(stream, host, buffer, 0, size));
    XT_OK(xhal_stream_synchronize(stream));
}

/* ---- references ------------------------------------------------------------------------ */

uint64_t xt_matrix_extent(int64_t rows, int64_t cols, int64_t ld) {
    return (uint64_t)((rows - 1) * ld + cols);
}

uint64_t xt_attention_extent(const xhal_attention_strides_t *s, int64_t batch, int64_t heads,
                             int64_t seq, int64_t head_dim) {
    return (uint64_t)((batch - 1) * s->batch + (heads - 1) * s->head + (seq - 1) * s->seq +
                      head_dim);
}

void xt_ref_gemm(const xhal_gemm_desc_t *d, const void *a_image, const void *b_image,
                 const void *c_image, double *c_out) {
    uint64_t a0 = d->a_offset / xt_dtype_size(d->a_type);
    uint64_t b0 = d->b_offset / xt_dtype_size(d->b_type);
    uint64_t c0 = d->c_offset / xt_dtype_size(d->c_type);
    /* op(A) as m x k and op(B) transposed as n x k, both dense, per batch. */
    double *a = xt_malloc(sizeof(double) * (size_t)(d->m * d->k));
    double *bt = xt_malloc(sizeof(double) * (size_t)(d->n * d->k));
    for (int64_t bi = 0; bi < d->batch; bi++) {
        uint64_t ab = a0 + (uint64_t)(bi * d->stride_a);
        uint64_t bb = b0 + (uint64_t)(bi * d->stride_b);
        uint64_t cb = c0 + (uint64_t)(bi * d->stride_c);
        for (int64_t i = 0; i < d->m; i++)
            for (int64_t p = 0; p < d->k; p++)
                a[i * d->k + p] =
                    xt_load(a_image, d->a_type,
                            ab + (uint64_t)(d->trans_a ? p * d->lda + i : i * d->lda + p));
        for (int64_t j = 0; j < d->n; j++)
            for (int64_t p = 0; p < d->k; p++)
                bt[j * d->k + p] =
                    xt_load(b_image, d->b_type,
                            bb + (uint64_t)(d->trans_b ? j * d->ldb + p : p * d->ldb + j));
        for (int64_t i = 0; i < d->m; i++) {
            for (int64_t j = 0; j < d->n; j++) {
                const double *ar = a + i * d->k, *br = bt + j * d->k;
                double acc = 0.0;
                for (int64_t p = 0; p < d->k; p++)
                    acc += ar[p] * br[p];
                double r = (double)d->alpha * acc;
                if (d->beta != 0.0f)
                    r += (double)d->beta *
                         xt_load(c_image, d->c_type, cb + (uint64_t)(i * d->ldc + j));
                c_out[(bi * d->m + i) * d->n + j] = r;
            }
        }
    }
    free(a);
    free(bt);
}

void xt_ref_attention(const xhal_attention_desc_t *d, const void *q_image, const void *k_image,
                      const void *v_image, double *o_out) {
    size_t es = xt_dtype_size(d->dtype);
    uint64_t q0 = d->q_offset / es, k0 = d->k_offset / es, v0 = d->v_offset / es;
    double scale = d->scale == 0.0f ? 1.0 / sqrt((double)d->head_dim) : (double)d->scale;
    int64_t group = d->heads_q / d->heads_kv;
    double *p = xt_malloc(sizeof(double) * (size_t)d->seq_kv);
    for (int64_t b = 0; b < d->batch; b++) {
        for (int64_t h = 0; h < d->heads_q; h++) {
            int64_t hk = h / group;
            for (int64_t i = 0; i < d->seq_q; i++) {
                double *o = o_out + ((b * d->heads_q + h) * d->seq_q + i) * d->head_dim;
                int64_t last = d->causal ? i + d->seq_kv - d->seq_q : d->seq_kv - 1;
                if (last > d->seq_kv - 1) last = d->seq_kv - 1;
                for (int64_t x = 0; x < d->head_dim; x++)
                    o[x] = 0.0;
                if (last < 0) continue;
                uint64_t qrow = q0 + (uint64_t)(b * d->q_strides.batch + h * d->q_strides.head +
                                                i * d->q_strides.seq);
                double max = -INFINITY;
                for (int64_t j = 0; j <= last; j++) {
                    uint64_t krow = k0 + (uint64_t)(b * d->k_strides.batch +
                                                    hk * d->k_strides.head + j * d->k_strides.seq);
                    double s = 0.0;
                    for (int64_t x = 0; x < d->head_dim; x++)
                        s += xt_load(q_image, d->dtype, qrow + (uint64_t)x) *
                             xt_load(k_image, d->dtype, krow + (uint64_t)x);
                    p[j] = s * scale;
                    if (p[j] > max) max = p[j];
                }
                double sum = 0.0;
                for (int64_t j = 0; j <= last; j++) {
                    p[j] = exp(p[j] - max);
                    sum += p[j];
                }
                for (int64_t j = 0; j <= last; j++) {
                    uint64_t vrow = v0 + (uint64_t)(b * d->v_strides.batch +
                                                    hk * d->v_strides.head + j * d->v_strides.seq);
                    double w = p[j] / sum;
                    for (int64_t x = 0; x < d->head_dim; x++)
                        o[x] += w * xt_load(v_image, d->dtype, vrow + (uint64_t)x);
                }
            }
        }
    }
    free(p);
}

double xt_rel_error(const double *got, const double *ref, size_t count, size_t *non_finite) {
    double num = 0.0, den = 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(got[i])) bad++;
        double diff = got[i] - ref[i];
        num += diff * diff;
        den += ref[i] * ref[i];
    }
    if (non_finite) *non_finite = bad;
    if (den == 0.0) return num == 0.0 ? 0.0 : INFINITY;
    return sqrt(num / den);
}

/* ---- the devices of a test ------------------------------------------------------------- */

size_t xt_devices_select(xt_devices_t *set) {
    const char *cpu_only = getenv("XHAL_TEST_CPU_ONLY");
    const char *backend = getenv("XHAL_TEST_BACKEND");
    size_t count = 0;
    set->count = 0;
    if (xhal_device_count(&count) != XHAL_OK) return 0;
    for (size_t i = 0; i < count && set->count < XT_MAX_DEVICES; i++) {
        xhal_device_t *found = NULL;
        xhal_device_info_t info = {.struct_size = sizeof info};
        if (xhal_device_get(i, &found) != XHAL_OK || xhal_device_info(found, &info) != XHAL_OK)
            continue;
        if (cpu_only && strcmp(cpu_only, "1") == 0 && strcmp(info.backend, "cpu") != 0) continue;
        if (backend && *backend && strcmp(info.backend, backend) != 0) continue;
        print_message("running on %s (%s)\n", info.spec, info.name);
        set->device[set->count++] = found;
    }
    return set->count;
}

int xt_devices_open_streams(xt_devices_t *set) {
    for (size_t i = 0; i < set->count; i++)
        if (xhal_stream_create(set->device[i], &set->stream[i]) != XHAL_OK) return -1;
    return 0;
}

void xt_devices_close(xt_devices_t *set) {
    for (size_t i = 0; i < set->count; i++)
        xhal_stream_destroy(set->stream[i]);
    xhal_shutdown();
}
