/*
 * backends/common/xc_spirv: finding a program's SPIR-V module by its exact option string, the
 * IL versions a device lists, and the digest that keys a program cache entry.
 */
#include <string.h>

#include "test_util.h"
#include "xc_spirv.h"

static const unsigned char code_a[] = {0x03, 0x02, 0x23, 0x07, 0x00, 0x00, 0x01, 0x00};
static const unsigned char code_b[] = {0x03, 0x02, 0x23, 0x07, 0x00, 0x00, 0x01, 0x01};
static const xc_spirv_module_t table[] = {
    {"gemm", "-cl-std=CL1.2 -DXV=8", code_a, sizeof code_a},
    {"gemm", "-cl-std=CL1.2 -DXV=16", code_b, sizeof code_b},
    {"attention", "-cl-std=CL1.2 -DXV=8", code_b, sizeof code_b},
};
#define COUNT (sizeof table / sizeof table[0])

static void test_find(void **state) {
    (void)state;
    assert_ptr_equal(xc_spirv_find(table, COUNT, "gemm", "-cl-std=CL1.2 -DXV=8"), &table[0]);
    assert_ptr_equal(xc_spirv_find(table, COUNT, "gemm", "-cl-std=CL1.2 -DXV=16"), &table[1]);
    assert_ptr_equal(xc_spirv_find(table, COUNT, "attention", "-cl-std=CL1.2 -DXV=8"), &table[2]);
    /* Only the exact string: a prefix, an extra option or another program is not a match. */
    assert_null(xc_spirv_find(table, COUNT, "gemm", "-cl-std=CL1.2 -DXV=1"));
    assert_null(xc_spirv_find(table, COUNT, "gemm", "-cl-std=CL1.2 -DXV=8 -DEXTRA"));
    assert_null(xc_spirv_find(table, COUNT, "attention_merge", "-cl-std=CL1.2 -DXV=8"));
    assert_null(xc_spirv_find(table, 0, "gemm", "-cl-std=CL1.2 -DXV=8"));
    assert_null(xc_spirv_find(NULL, 0, "gemm", "-cl-std=CL1.2 -DXV=8"));
    assert_null(xc_spirv_find(table, COUNT, NULL, "-cl-std=CL1.2 -DXV=8"));
    assert_null(xc_spirv_find(table, COUNT, "gemm", NULL));
}

static void test_il_supported(void **state) {
    (void)state;
    /* Intel's CPU runtime 2026.2 lists these. */
    assert_true(xc_spirv_il_supported("SPIR-V_1.0 SPIR-V_1.1 SPIR-V_1.2 SPIR-V_1.3 SPIR-V_1.4"));
    assert_true(xc_spirv_il_supported("SPIR-V_1.0"));
    assert_true(xc_spirv_il_supported("SPIR-V_1.2"));
    assert_true(xc_spirv_il_supported("SPIRV_1.0 SPIR-V_1.1")); /* the first is not a match */
    /* PoCL 3.1 and OpenCL before 2.1: nothing, or a query that failed. */
    assert_false(xc_spirv_il_supported(""));
    assert_false(xc_spirv_il_supported(NULL));
    assert_false(xc_spirv_il_supported("SPIR-V"));
    assert_false(xc_spirv_il_supported("SPIR-V_2.0"));
    assert_false(xc_spirv_il_supported("SPIR_1.2"));
}

static void test_digest(void **state) {
    (void)state;
    char a[17], b[17], again[17];
    xc_spirv_digest(&table[0], a);
    xc_spirv_digest(&table[1], b);
    xc_spirv_digest(&table[0], again);
    assert_int_equal(strlen(a), 16);
    assert_int_equal(strspn(a, "0123456789abcdef"), 16);
    assert_string_equal(a, again);
    /* One bit of the module changes the key of the binary built from it. */
    assert_string_not_equal(a, b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_il_supported),
        cmocka_unit_test(test_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
