/*
 * The f16/bf16 helpers against independent reference conversions: every 16-bit pattern one
 * way, a sweep of f32 patterns (with exact ties) the other way.
 */
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bits(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    return x;
}

static float from_bits(uint32_t x) {
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

static void test_reference_sanity(void **state) {
    (void)state;
    /* Guard the references themselves with values known by heart. */
    assert_int_equal(xt_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(xt_f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(xt_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(xt_f32_to_f16(65520.0f), 0x7c00); /* rounds up to Inf */
    assert_int_equal(xt_f32_to_f16(5.9604644775390625e-8f), 0x0001);
    assert_int_equal(xt_f32_to_f16(1.0f + 1.0f / 2048.0f), 0x3c00); /* tie to even */
    assert_int_equal(xt_f32_to_f16(1.0f + 3.0f / 2048.0f), 0x3c02); /* tie to even, up */
    assert_true(xt_f16_to_f32(0x3555) > 0.333f && xt_f16_to_f32(0x3555) < 0.3334f);
    assert_int_equal(xt_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(xt_f32_to_bf16(from_bits(0x3f808000u)), 0x3f80); /* tie to even */
    assert_int_equal(xt_f32_to_bf16(from_bits(0x3f818000u)), 0x3f82);
    assert_true(xt_bf16_to_f32(0xc040) == -3.0f);
}

static void test_f16_to_f32_exhaustive(void **state) {
    (void)state;
    for (uint32_t h = 0; h <= 0xffffu; h++) {
        float want = xt_f16_to_f32((uint16_t)h);
        float got = xhal_f16_to_f32((uint16_t)h);
        if (isnan(want)) {
            if (!isnan(got)) fail_msg("xhal_f16_to_f32(0x%04x) = %g, expected NaN", h, (double)got);
        } else if (bits(want) != bits(got)) {
            fail_msg("xhal_f16_to_f32(0x%04x) = %a, expected %a", h, (double)got, (double)want);
        }
    }
}

static void test_bf16_to_f32_exhaustive(void **state) {
    (void)state;
    for (uint32_t h = 0; h <= 0xffffu; h++) {
        float want = xt_bf16_to_f32((uint16_t)h);
        float got = xhal_bf16_to_f32((uint16_t)h);
        if (isnan(want)) {
            if (!isnan(got))
                fail_msg("xhal_bf16_to_f32(0x%04x) = %g, expected NaN", h, (double)got);
        } else if (bits(want) != bits(got)) {
            fail_msg("xhal_bf16_to_f32(0x%04x) = %a, expected %a", h, (double)got, (double)want);
        }
    }
}

static void check_f32(uint32_t x) {
    float f = from_bits(x);
    uint16_t want = xt_f32_to_f16(f), got = xhal_f32_to_f16(f);
    if (isnan(f)) {
        if ((got & 0x7c00u) != 0x7c00u || (got & 0x3ffu) == 0)
            fail_msg("xhal_f32_to_f16(NaN 0x%08x) = 0x%04x, not a NaN", x, got);
    } else if (want != got) {
        fail_msg("xhal_f32_to_f16(%a = 0x%08x) = 0x%04x, expected 0x%04x", (double)f, x, got, want);
    }
    want = xt_f32_to_bf16(f);
    got = xhal_f32_to_bf16(f);
    if (isnan(f)) {
        if ((got & 0x7f80u) != 0x7f80u || (got & 0x7fu) == 0)
            fail_msg("xhal_f32_to_bf16(NaN 0x%08x) = 0x%04x, not a NaN", x, got);
    } else if (want != got) {
        fail_msg("xhal_f32_to_bf16(%a = 0x%08x) = 0x%04x, expected 0x%04x", (double)f, x, got,
                 want);
    }
}

static void test_f32_to_16_sweep(void **state) {
    (void)state;
    /* A sweep over all exponents and signs with a prime step. */
    for (uint64_t x = 0; x <= 0xffffffffull; x += 8191)
        check_f32((uint32_t)x);
    /* Exact ties and neighbours for both formats in every exponent. */
    xt_rng_t rng;
    xt_rng_seed(&rng, 16);
    for (uint32_t exp = 0; exp < 256; exp++) {
        for (int r = 0; r < 16; r++) {
            uint32_t sign = (uint32_t)(xt_rng_next(&rng) & 1u) << 31;
            uint32_t hi = (uint32_t)xt_rng_next(&rng) & 0x7fe000u;
            uint32_t base = sign | (exp << 23);
            for (int d = -1; d <= 1; d++) {
                check_f32(base | (uint32_t)((int32_t)(hi | 0x1000u) + d)); /* f16 tie */
                check_f32(base | (uint32_t)((int32_t)((hi & 0x7f0000u) | 0x8000u) + d)); /* bf16 */
            }
        }
    }
    /* Specials. */
    const float specials[] = {0.0f,     -0.0f,    INFINITY, -INFINITY, NAN,   65504.0f,
                              65519.0f, 65520.0f, 1e-8f,    -1e-8f,    3e38f, 1.17549435e-38f};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
        check_f32(bits(specials[i]));
}

static void test_round_trip(void **state) {
    (void)state;
    /* Every finite 16-bit value survives 16 -> 32 -> 16. */
    for (uint32_t h = 0; h <= 0xffffu; h++) {
        if ((h & 0x7c00u) != 0x7c00u)
            assert_int_equal(xhal_f32_to_f16(xhal_f16_to_f32((uint16_t)h)), h);
        if ((h & 0x7f80u) != 0x7f80u)
            assert_int_equal(xhal_f32_to_bf16(xhal_bf16_to_f32((uint16_t)h)), h);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_sanity),
        cmocka_unit_test(test_f16_to_f32_exhaustive),
        cmocka_unit_test(test_bf16_to_f32_exhaustive),
        cmocka_unit_test(test_f32_to_16_sweep),
        cmocka_unit_test(test_round_trip),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xhal_shutdown();
    return rc;
}
