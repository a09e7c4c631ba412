/*
 * The HIP backend's pure host logic, without a GPU: the target of a runtime architecture name,
 * which targets have MFMA, the kernel choice and its tiles,
 * split-K and grids for GEMM and attention, and the tuning INI (the built-in file parses for
 * every target, overrides apply in order, errors name the line).
 */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_plan.h"
#include "hip_plan.h"

static hip_arch_t cdna(int cus) {
    hip_arch_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.gfx, sizeof a.gfx, "gfx942");
    a.mfma = 1;
    a.cus = cus;
    a.lds_bytes = 65536;
    return a;
}

static hip_tuning_t defaults(void) {
    hip_tuning_t t;
    hip_tuning_defaults(&t);
    return t;
}

static xhal_gemm_desc_t gemm(int64_t m, int64_t n, int64_t k, xhal_dtype_t t, int ta, int tb) {
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, m, n, k, t);
    d.trans_a = ta;
    d.trans_b = tb;
    d.lda = ta ? m : k;
    d.ldb = tb ? k : n;
    d.ldc = n;
    return d;
}

static void test_arch(void **state) {
    (void)state;
    char gfx[32];
    hip_arch_target("gfx90a:sramecc+:xnack-", gfx, sizeof gfx);
    assert_string_equal(gfx, "gfx90a");
    hip_arch_target("gfx1100", gfx, sizeof gfx);
    assert_string_equal(gfx, "gfx1100");
    hip_arch_target("", gfx, sizeof gfx);
    assert_string_equal(gfx, "");
    const char *mfma[] = {"gfx908", "gfx90a", "gfx940", "gfx941", "gfx942", "gfx950"};
    const char *none[] = {"gfx906", "gfx900", "gfx1030", "gfx1100", "gfx1201", "gfx90", ""};
    for (size_t i = 0; i < sizeof mfma / sizeof mfma[0]; i++)
        assert_true(hip_arch_has_mfma(mfma[i]));
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        assert_false(hip_arch_has_mfma(none[i]));
}

static void test_gemm_kinds(void **state) {
    (void)state;
    hip_arch_t a = cdna(304);
    hip_tuning_t t = defaults();
    hip_gemm_plan_t p;
    char why[160];

    xhal_gemm_desc_t d = gemm(4096, 4096, 4096, XHAL_DTYPE_BF16, 0, 1);
    assert_int_equal(hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why), 0);
    assert_int_equal(p.kind, HIP_GEMM_MFMA);
    assert_string_equal(p.kernel, "xk_gemm_mfma_128x128x32_bf16_nt");
    assert_true(p.threads == 256 && p.grid[0] == 32 * 32 && p.split_k == 1 && !p.workspace_bytes);
    assert_true(p.tiles_m == 32 && p.tiles_n == 32 && p.group_m == 8);

    /* Fewer large tiles than CUs: the small tile; mixed A/B dtypes or f32: SIMT. */
    d = gemm(512, 1024, 4096, XHAL_DTYPE_F16, 1, 0);
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_string_equal(p.kernel, "xk_gemm_mfma_64x64x32_f16_tn");
    d.b_type = XHAL_DTYPE_BF16;
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_int_equal(p.kind, HIP_GEMM_SIMT);
    d = gemm(512, 1024, 4096, XHAL_DTYPE_F32, 0, 0);
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_string_equal(p.kernel, "xk_gemm_simt");

    /* Unaligned rows (odd leading dimension, or a 2-byte offset): SIMT. */
    d = gemm(512, 1024, 4096, XHAL_DTYPE_BF16, 0, 0);
    d.lda = 4097;
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_int_equal(p.kind, HIP_GEMM_SIMT);
    d = gemm(512, 1024, 4096, XHAL_DTYPE_BF16, 0, 0);
    d.b_offset = 2;
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_int_equal(p.kind, HIP_GEMM_SIMT);

    /* Decode shapes: GEMV up to 16 rows (the next row count compiled), skinny MFMA to 32. */
    d = gemm(5, 8192, 4096, XHAL_DTYPE_BF16, 0, 1);
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_string_equal(p.kernel, "xk_gemv_t_bf16_8");
    assert_true(p.grid[0] == 8192 / 8 && p.grid[2] == 1);
    d = gemm(16, 8192, 4096, XHAL_DTYPE_F16, 0, 0);
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_string_equal(p.kernel, "xk_gemv_n_f16_16");
    d = gemm(17, 8192, 4096, XHAL_DTYPE_F16, 0, 0);
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_string_equal(p.kernel, "xk_gemm_mfma_32x128x64_f16_nn");
    /* A GEMV of a 32-bit B does not exist: SIMT for an f32 decode. */
    d = gemm(1, 8192, 4096, XHAL_DTYPE_F32, 0, 0);
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_int_equal(p.kind, HIP_GEMM_SIMT);

    /* RDNA and GCN have no MFMA kernels: SIMT or GEMV. */
    a.mfma = 0;
    d = gemm(4096, 4096, 4096, XHAL_DTYPE_BF16, 0, 1);
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_int_equal(p.kind, HIP_GEMM_SIMT);
}

static void test_gemm_split_and_force(void **state) {
    (void)state;
    hip_arch_t a = cdna(304);
    hip_tuning_t t = defaults();
    hip_gemm_plan_t p;
    char why[160];
    /* One 64x64 tile and k = 65536: 16 parts (the most), of 4096 k each. */
    xhal_gemm_desc_t d = gemm(64, 64, 65536, XHAL_DTYPE_BF16, 0, 0);
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_true(p.split_k == 16 && p.k_per_split == 4096 && p.grid[0] == 16);
    assert_int_equal(p.workspace_bytes, 16ull * 64 * 64 * 4);
    /* Each part keeps 4 k tiles at least; exact covering, no empty part. */
    int64_t kps = 0;
    assert_int_equal(xhal_gpu_split_k(1, 100, 32, 304, 16, &kps), 1);
    int parts = xhal_gpu_split_k(2, 1000, 32, 304, 16, &kps);
    assert_true(parts > 1 && kps % 32 == 0 && (parts - 1) * kps < 1000 && parts * kps >= 1000);
    assert_int_equal(xhal_gpu_split_k(400, 8192, 32, 304, 16, &kps), 1);

    /* Forcing: a kind that can run is used; one that cannot is flagged, the automatic one runs. */
    d = gemm(3, 4096, 4096, XHAL_DTYPE_BF16, 0, 0);
    hip_plan_gemm(&d, &a, &t, "mfma", &p, why, sizeof why);
    assert_true(p.kind == HIP_GEMM_MFMA && !p.forced_refused);
    hip_plan_gemm(&d, &a, &t, "simt", &p, why, sizeof why);
    assert_true(p.kind == HIP_GEMM_SIMT && !p.forced_refused);
    d = gemm(300, 4096, 4096, XHAL_DTYPE_F32, 0, 0);
    hip_plan_gemm(&d, &a, &t, "gemv", &p, why, sizeof why);
    assert_true(p.kind == HIP_GEMM_SIMT && p.forced_refused);
    assert_string_equal(hip_gemm_kind_name(p.kind), "simt");

    /* Batches: grid.y, at most 65535 (the kernels loop over the rest). */
    d = gemm(128, 128, 64, XHAL_DTYPE_BF16, 0, 0);
    d.batch = 100000;
    d.stride_a = d.stride_b = d.stride_c = 128 * 128;
    hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why);
    assert_int_equal(p.grid[1], 65535);
    /* More tiles than one dispatch holds: refused with a reason. */
    d = gemm(1ll << 31, 1ll << 20, 16, XHAL_DTYPE_F32, 0, 0);
    assert_int_equal(hip_plan_gemm(&d, &a, &t, NULL, &p, why, sizeof why), -1);
    assert_non_null(strstr(why, "grid"));
}

static xhal_attention_desc_t attention(int64_t seq_q, int64_t seq_kv, int64_t d, xhal_dtype_t t) {
    xhal_attention_desc_t a;
    xhal_attention_desc_init(&a, 4, 32, 8, seq_q, seq_kv, d, t, XHAL_LAYOUT_BSHD);
    return a;
}

static void test_attention(void **state) {
    (void)state;
    hip_arch_t arch = cdna(304);
    hip_tuning_t t = defaults();
    hip_attention_plan_t p;
    char why[160];

    xhal_attention_desc_t a = attention(1000, 1000, 128, XHAL_DTYPE_BF16);
    assert_int_equal(hip_plan_attention(&a, &arch, &t, NULL, &p, why, sizeof why), 0);
    assert_string_equal(p.kernel, "xk_attention_mfma_prefill_bf16_d128");
    assert_true(p.kind == HIP_ATTENTION_PREFILL && p.threads == 256 && p.row_blocks == 8);
    assert_int_equal(p.grid, 4 * 32 * 8);
    assert_true(p.splits == 1 && !p.workspace_bytes);

    /* Decode: rows are the 4 query heads of a group; keys split into slices of >= 256. */
    a = attention(1, 8192, 128, XHAL_DTYPE_F16);
    hip_plan_attention(&a, &arch, &t, NULL, &p, why, sizeof why);
    assert_string_equal(p.kernel, "xk_attention_mfma_decode_f16_d128");
    assert_true(p.row_blocks == 1 && p.splits == 32 && p.keys_per_split == 256);
    assert_int_equal(p.grid, 4 * 8 * 32 / 4);
    uint64_t slots = 4 * 32 * 1 * 32;
    assert_true(p.stats_offset >= slots * 128 * 4 && p.stats_offset % 256 == 0);
    assert_int_equal(p.workspace_bytes, p.stats_offset + slots * 8);
    assert_int_equal(p.combine_grid, 4 * 32 / 4);
    /* Short KV: one slice; odd seq_kv: slices of a multiple of 32 covering it. */
    a = attention(4, 100, 64, XHAL_DTYPE_F16);
    hip_plan_attention(&a, &arch, &t, NULL, &p, why, sizeof why);
    assert_true(p.splits == 1 && p.keys_per_split >= 100 && p.keys_per_split % 32 == 0);
    a = attention(1, 100000, 64, XHAL_DTYPE_F16);
    hip_plan_attention(&a, &arch, &t, NULL, &p, why, sizeof why);
    assert_true(p.keys_per_split % 32 == 0 && (int64_t)p.splits * p.keys_per_split >= 100000 &&
                (int64_t)(p.splits - 1) * p.keys_per_split < 100000);

    /* The exact kernel: f32, head_dim without MFMA kernel, unaligned rows, RDNA. */
    xhal_attention_desc_t simple[4] = {
        attention(64, 64, 128, XHAL_DTYPE_F32), attention(64, 64, 80, XHAL_DTYPE_BF16),
        attention(64, 64, 128, XHAL_DTYPE_BF16), attention(64, 64, 128, XHAL_DTYPE_BF16)};
    simple[2].k_offset = 2;
    for (int i = 0; i < 4; i++) {
        arch.mfma = i < 3;
        hip_plan_attention(&simple[i], &arch, &t, NULL, &p, why, sizeof why);
        assert_string_equal(p.kernel, "xk_attention_simple");
        assert_true(p.threads == 128 && p.grid == 4 * 32 * 64 / 4);
    }
    arch.mfma = 1;
    /* Forcing prefill on a decode shape works; decode on f32 cannot. */
    a = attention(1, 4096, 64, XHAL_DTYPE_BF16);
    hip_plan_attention(&a, &arch, &t, "prefill", &p, why, sizeof why);
    assert_true(p.kind == HIP_ATTENTION_PREFILL && !p.forced_refused);
    a = attention(1, 4096, 64, XHAL_DTYPE_F32);
    hip_plan_attention(&a, &arch, &t, "decode", &p, why, sizeof why);
    assert_true(p.kind == HIP_ATTENTION_SIMPLE && p.forced_refused);
    assert_string_equal(hip_attention_kind_name(HIP_ATTENTION_DECODE), "decode");
}

static void test_tuning(void **state) {
    (void)state;
    char error[160];
    hip_tuning_t t = defaults();
    /* The built-in file parses for every target and device name. */
    static const char *const targets[] = {"gfx906", "gfx908",  "gfx90a", "gfx940",
                                          "gfx942", "gfx1030", "gfx1100"};
    FILE *f = fopen(XT_HIP_INI, "rb");
    assert_non_null(f);
    static char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        t = defaults();
        if (hip_tuning_parse(text, targets[i], "AMD Instinct MI300X", &t, error, sizeof error))
            fail_msg("hip.ini for %s: %s", targets[i], error);
    }
    t = defaults();
    hip_tuning_parse(text, "gfx942", NULL, &t, error, sizeof error);
    assert_int_equal(t.gemm_group_m, 16);

    /* Order: [default], then the target, then the device's name. */
    const char *ini = "[default]\ngemm_group_m = 4 ; comment\n[gfx90a]\ngemm_group_m = 6\n"
                      "gemm_large = 64x64x32\n[AMD Instinct MI210]\ngemm_group_m = 2\n";
    t = defaults();
    assert_int_equal(hip_tuning_parse(ini, "gfx90a", "AMD Instinct MI210", &t, error, sizeof error),
                     0);
    assert_true(t.gemm_group_m == 2 && strcmp(t.gemm_large, "64x64x32") == 0);
    t = defaults();
    hip_tuning_parse(ini, "gfx942", "AMD Instinct MI300X", &t, error, sizeof error);
    assert_true(t.gemm_group_m == 4 && strcmp(t.gemm_large, "128x128x32") == 0);

    /* Errors name the line; nothing is applied. */
    const char *bad[] = {"[default]\ngemm_tile = 3\n", "[gfx1]\ngemm_group_m = 0\n", "[default\n",
                         "[default]\njust words\n"};
    const char *line[] = {"line 2", "line 2", "line 1", "line 2"};
    for (int i = 0; i < 4; i++) {
        t = defaults();
        assert_int_equal(hip_tuning_parse(bad[i], "gfx90a", NULL, &t, error, sizeof error), -1);
        if (!strstr(error, line[i])) fail_msg("error \"%s\" lacks \"%s\"", error, line[i]);
        assert_int_equal(t.gemm_group_m, 8);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arch),
        cmocka_unit_test(test_gemm_kinds),
        cmocka_unit_test(test_gemm_split_and_force),
        cmocka_unit_test(test_attention),
        cmocka_unit_test(test_tuning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
