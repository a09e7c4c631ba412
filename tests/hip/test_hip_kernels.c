/*
 * The HIP plugin's kernels on the runtime stand-in, which records launches instead of running
 * them and loads only a code object built for the device's target, finding only the kernels in
 * its symbol table:
 *  - GEMM and attention launch the kernel the plan chose, with its grid, block and parameters
 *    (addresses, shape, split) as the descriptor says; split-K and split-KV launch their second
 *    kernel; a forced kind that cannot run is UNSUPPORTED with XHAL_HIP_STRICT;
 *  - for every target built in, every kernel kind each op can choose is in its code object;
 *  - a target no code object covers and hiprtc does not know is UNSUPPORTED with the reason
 *    (and the process survives: hiprtc is never asked);
 *  - GEMM epilogues are refused by name; attention's serving features run on the exact kernel
 *    with their parameters; the merge op launches its kernel;
 *  - `test_hip_kernels jit`: the kernel source built into the plugin compiles with the system's
 *    hiprtc (ROCm 5.2's here, for gfx90a), its code object loads and has the kernels, and a
 *    second process finds it in the cache (slow: a minute of compiling).
 */
#include "hip_fake_util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef XT_HIP_TARGETS
#error "XT_HIP_TARGETS must list the built-in targets (\"gfx90a,gfx1030\")"
#endif
#ifndef XT_HIP_CACHE_DIR
#error "XT_HIP_CACHE_DIR must name a scratch folder for the code-object cache test"
#endif

/* A GEMM of pinned buffers (their addresses show in the launch records). */
typedef struct {
    xhal_buffer_t *a, *b, *c;
    void *ha, *hb, *hc;
} gemm_buffers_t;

static xhal_gemm_desc_t gemm_desc(gemm_buffers_t *g, xhal_device_t *device, int64_t m, int64_t n,
                                  int64_t k, xhal_dtype_t ab, int ta, int tb) {
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, m, n, k, ab);
    d.c_type = XHAL_DTYPE_F32;
    d.trans_a = ta;
    d.trans_b = tb;
    d.lda = ta ? m : k;
    d.ldb = tb ? k : n;
    d.ldc = n;
    size_t e = xt_dtype_size(ab);
    g->a = hft_pinned(device, (uint64_t)(m * k) * e + 64, 0, &g->ha);
    g->b = hft_pinned(device, (uint64_t)(k * n) * e + 64, 0, &g->hb);
    g->c = hft_pinned(device, (uint64_t)(m * n) * 4 + 64, 0, &g->hc);
    d.a = g->a;
    d.b = g->b;
    d.c = g->c;
    d.c_offset = 16;
    return d;
}

static void gemm_free(gemm_buffers_t *g) {
    xhal_buffer_free(g->a);
    xhal_buffer_free(g->b);
    xhal_buffer_free(g->c);
}

/* Runs the GEMM and returns its launches (1, or 2 with split-K). */
static const fake_hip_launch_t *run_gemm(xhal_device_t *device, const xhal_gemm_desc_t *d,
                                         size_t *count) {
    xhal_stream_t *stream = NULL;
    XT_OK(xhal_stream_create(device, &stream));
    hft_clear_launches();
    XT_OK(xhal_gemm(stream, d));
    XT_OK(xhal_stream_synchronize(stream));
    xhal_stream_destroy(stream);
    return hft_launches(count);
}

static void test_gemm_launches(void **state) {
    (void)state;
    hft_start(NULL); /* one gfx90a (MI210, 104 CUs) */
    xhal_device_t *device = xt_open("hip");
    gemm_buffers_t g;
    size_t count = 0;

    /* A linear layer (B transposed) in bf16: 8 x 16 tiles of the large MFMA tile fill the
     * 104 CUs. */
    xhal_gemm_desc_t d = gemm_desc(&g, device, 1024, 2048, 256, XHAL_DTYPE_BF16, 0, 1);
    const fake_hip_launch_t *l = run_gemm(device, &d, &count);
    assert_int_equal(count, 1);
    assert_string_equal(l->kernel, "xk_gemm_mfma_128x128x32_bf16_nt");
    assert_int_equal(l->block[0], 256);
    assert_int_equal(l->grid[0], 8 * 16);
    assert_int_equal(l->grid[1], 1);
    const xk_gemm_params_t *p = &l->params.gemm;
    assert_true(p->m == 1024 && p->n == 2048 && p->k == 256 && p->trans_b == 1 && p->split_k == 1);
    assert_true(p->a == (uint64_t)(uintptr_t)g.ha && p->b == (uint64_t)(uintptr_t)g.hb);
    assert_true(p->c == (uint64_t)(uintptr_t)g.hc + 16);
    assert_true(p->lda == 256 && p->ldb == 256 && p->ldc == 2048 && p->alpha == 1.0f);
    assert_true(p->tiles_m == 8 && p->tiles_n == 16 && p->group_m == 8);
    gemm_free(&g);

    /* Few tiles, long k: split along k, then the reduction kernel. */
    d = gemm_desc(&g, device, 64, 64, 8192, XHAL_DTYPE_F16, 0, 0);
    l = run_gemm(device, &d, &count);
    assert_int_equal(count, 2);
    assert_string_equal(l[0].kernel, "xk_gemm_mfma_64x64x32_f16_nn");
    assert_true(l[0].params.gemm.split_k > 1 && l[0].params.gemm.workspace != 0);
    assert_int_equal(l[0].grid[0], l[0].params.gemm.split_k);
    assert_string_equal(l[1].kernel, "xk_gemm_splitk_reduce");
    gemm_free(&g);

    /* Decode: m = 3 reads B once with the GEMV kernel of 4 rows; m = 24 the skinny tile. */
    d = gemm_desc(&g, device, 3, 4096, 1024, XHAL_DTYPE_BF16, 0, 1);
    l = run_gemm(device, &d, &count);
    assert_string_equal(l->kernel, "xk_gemv_t_bf16_4");
    gemm_free(&g);
    d = gemm_desc(&g, device, 24, 4096, 1024, XHAL_DTYPE_BF16, 0, 1);
    l = run_gemm(device, &d, &count);
    assert_string_equal(l->kernel, "xk_gemm_mfma_32x128x64_bf16_nt");
    gemm_free(&g);

    /* f32 runs the exact SIMT kernel. */
    d = gemm_desc(&g, device, 100, 70, 33, XHAL_DTYPE_F32, 1, 0);
    l = run_gemm(device, &d, &count);
    assert_string_equal(l->kernel, "xk_gemm_simt");
    gemm_free(&g);

    int loads = 0;
    assert_string_equal(hft_module_arch(&loads), "gfx90a");
    assert_int_equal(loads, 1);
}

static void test_forced_kinds(void **state) {
    (void)state;
    hft_start((const char *const[]){"XHAL_HIP_GEMM=mfma", "XHAL_HIP_STRICT=1", NULL});
    xhal_device_t *device = xt_open("hip");
    gemm_buffers_t g;
    size_t count = 0;
    xhal_gemm_desc_t d = gemm_desc(&g, device, 3, 256, 64, XHAL_DTYPE_F16, 0, 0);
    const fake_hip_launch_t *l = run_gemm(device, &d, &count); /* would be GEMV */
    assert_string_equal(l->kernel, "xk_gemm_mfma_32x128x64_f16_nn");
    gemm_free(&g);
    d = gemm_desc(&g, device, 64, 64, 64, XHAL_DTYPE_F32, 0, 0);
    xhal_stream_t *stream = NULL;
    XT_OK(xhal_stream_create(device, &stream));
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_gemm(stream, &d), "XHAL_HIP_GEMM", "simt");
    xhal_stream_destroy(stream);
    gemm_free(&g);
}

/* Runs an attention of pinned buffers (batch 2, heads 8/2, head_dim d) and returns launches. */
static const fake_hip_launch_t *run_attention(xhal_device_t *device, xhal_dtype_t dtype,
                                              int64_t seq_q, int64_t seq_kv, int64_t d,
                                              size_t *count) {
    xhal_attention_desc_t a;
    xhal_attention_desc_init(&a, 2, 8, 2, seq_q, seq_kv, d, dtype, XHAL_LAYOUT_BSHD);
    a.causal = 1;
    size_t e = xt_dtype_size(dtype);
    void *hq, *hk, *hv, *ho;
    xhal_buffer_t *q = hft_pinned(device, (uint64_t)(2 * 8 * seq_q * d) * e, 0, &hq);
    xhal_buffer_t *k = hft_pinned(device, (uint64_t)(2 * 2 * seq_kv * d) * e, 0, &hk);
    xhal_buffer_t *v = hft_pinned(device, (uint64_t)(2 * 2 * seq_kv * d) * e, 0, &hv);
    xhal_buffer_t *o = hft_pinned(device, (uint64_t)(2 * 8 * seq_q * d) * e, 0, &ho);
    a.q = q;
    a.k = k;
    a.v = v;
    a.o = o;
    xhal_stream_t *stream = NULL;
    XT_OK(xhal_stream_create(device, &stream));
    hft_clear_launches();
    XT_OK(xhal_attention(stream, &a));
    XT_OK(xhal_stream_synchronize(stream));
    xhal_stream_destroy(stream);
    const fake_hip_launch_t *l = hft_launches(count);
    const xk_attention_params_t *p = &l->params.attention;
    assert_true(p->q == (uint64_t)(uintptr_t)hq && p->o == (uint64_t)(uintptr_t)ho);
    assert_true(p->seq_q == seq_q && p->seq_kv == seq_kv && p->head_dim == d && p->group == 4);
    assert_true(p->causal == 1 && p->scale > 0.0f);
    xhal_buffer_free(q);
    xhal_buffer_free(k);
    xhal_buffer_free(v);
    xhal_buffer_free(o);
    return l;
}

static void test_attention_launches(void **state) {
    (void)state;
    hft_start(NULL);
    xhal_device_t *device = xt_open("hip");
    size_t count = 0;
    const fake_hip_launch_t *l = run_attention(device, XHAL_DTYPE_BF16, 300, 300, 128, &count);
    assert_int_equal(count, 1);
    assert_string_equal(l->kernel, "xk_attention_mfma_prefill_bf16_d128");
    assert_int_equal(l->block[0], 256);
    assert_int_equal(l->grid[0], 2 * 8 * 3); /* 128 queries a block */
    assert_int_equal(l->params.attention.row_blocks, 3);
    assert_int_equal(l->params.attention.q_split, 0);

    /* Decode: the group's 4 query heads x 1 query are the rows; keys split; then combine. */
    l = run_attention(device, XHAL_DTYPE_F16, 1, 8192, 64, &count);
    assert_int_equal(count, 2);
    assert_string_equal(l[0].kernel, "xk_attention_mfma_decode_f16_d64");
    const xk_attention_params_t *p = &l[0].params.attention;
    assert_true(p->decode == 1 && p->splits > 1 && p->keys_per_split % 32 == 0);
    assert_true(p->splits * p->keys_per_split >= 8192 && p->workspace && p->partial_stats);
    /* The combine kernel merges the rows of sequences of up to q_split queries: all of them. */
    assert_true(p->q_split == INT64_MAX && l[1].params.attention.q_split == INT64_MAX);
    assert_int_equal(l[0].grid[0], (2 * 2 * 1 * p->splits + 3) / 4); /* a wavefront per item */
    assert_string_equal(l[1].kernel, "xk_attention_combine");

    /* f32, or a head_dim without an MFMA kernel: the exact kernel. */
    l = run_attention(device, XHAL_DTYPE_F32, 33, 33, 64, &count);
    assert_string_equal(l->kernel, "xk_attention_simple");
    l = run_attention(device, XHAL_DTYPE_BF16, 33, 33, 96, &count);
    assert_string_equal(l->kernel, "xk_attention_simple");
}

/* Every kind each op can choose, for one built-in target: its kernels are in the code object. */
static void check_target(const char *gfx) {
    static const char *const gemm_kinds[] = {"simt", "mfma", "gemv"};
    static const char *const attention_kinds[] = {"simple", "prefill", "decode"};
    int mfma = strcmp(gfx, "gfx906") != 0 && strncmp(gfx, "gfx10", 5) != 0 &&
               strncmp(gfx, "gfx11", 5) != 0;
    char arch[48], force[48];
    snprintf(arch, sizeof arch, "FAKE_HIP_ARCH=%s", gfx);
    for (int kind = 0; kind < 3; kind++) {
        snprintf(force, sizeof force, "XHAL_HIP_GEMM=%s", gemm_kinds[kind]);
        hft_start((const char *const[]){arch, force, "XHAL_HIP_STRICT=1", NULL});
        xhal_device_t *device = xt_open("hip");
        for (int dt = XHAL_DTYPE_F16; dt <= XHAL_DTYPE_BF16; dt++)
            for (int t = 0; t < 4; t++) {
                gemm_buffers_t g;
                xhal_gemm_desc_t d = gemm_desc(&g, device, kind == 2 ? 16 : 200, 256, 96,
                                               (xhal_dtype_t)dt, t & 1, t >> 1);
                xhal_stream_t *stream = NULL;
                XT_OK(xhal_stream_create(device, &stream));
                xhal_status_t status = xhal_gemm(stream, &d);
                if (status == XHAL_UNSUPPORTED && kind == 1 && !mfma) status = XHAL_OK;
                if (status != XHAL_OK)
                    fail_msg("%s: gemm %s %s t%d: %s: %s", gfx, gemm_kinds[kind],
                             xhal_dtype_name((xhal_dtype_t)dt), t, xhal_status_name(status),
                             xhal_last_error());
                xhal_stream_destroy(stream);
                gemm_free(&g);
            }
        int loads = 0;
        assert_string_equal(hft_module_arch(&loads), gfx);
    }
    for (int kind = 0; kind < 3; kind++) {
        snprintf(force, sizeof force, "XHAL_HIP_ATTENTION=%s", attention_kinds[kind]);
        hft_start((const char *const[]){arch, force, NULL});
        xhal_device_t *device = xt_open("hip");
        for (int dt = XHAL_DTYPE_F16; dt <= XHAL_DTYPE_BF16; dt++)
            for (int64_t d = 64; d <= 256; d *= 2) {
                size_t count = 0;
                const fake_hip_launch_t *l =
                    run_attention(device, (xhal_dtype_t)dt, kind == 2 ? 2 : 130, 200, d, &count);
                const char *want = kind == 0 || !mfma ? "xk_attention_simple"
                                   : kind == 1        ? "xk_attention_mfma_prefill"
                                                      : "xk_attention_mfma_decode";
                if (strncmp(l->kernel, want, strlen(want)) != 0)
                    fail_msg("%s: attention %s d%lld ran %s", gfx, attention_kinds[kind],
                             (long long)d, l->kernel);
            }
    }
}

static void test_every_target_has_its_kernels(void **state) {
    (void)state;
    char targets[256];
    snprintf(targets, sizeof targets, "%s", XT_HIP_TARGETS);
    for (char *gfx = strtok(targets, ","); gfx; gfx = strtok(NULL, ","))
        check_target(gfx);
}

/* The real hiprtc of this machine, when there is one (ROCm 5 has it in libamdhip64). Loaded
 * for good, as the plugin does: LLVM inside it does not survive an unload and a reload. None
 * under XHAL_TEST_CPU_ONLY (the valgrind stage: loading LLVM trips a false positive there). */
static const char *system_hiprtc(void) {
    static const char *const candidates[] = {"libamdhip64.so.5", "libhiprtc.so.6", NULL};
    const char *cpu_only = getenv("XHAL_TEST_CPU_ONLY");
    if (cpu_only && *cpu_only && strcmp(cpu_only, "0") != 0) return NULL;
    for (int i = 0; candidates[i]; i++) {
        void *h = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (h && dlsym(h, "hiprtcCompileProgram")) {
            dlclose(h);
            return candidates[i];
        }
        if (h) dlclose(h);
    }
    return NULL;
}

/* A target no code object covers and hiprtc does not know: UNSUPPORTED, the process intact. */
static void expect_no_code_object(const char *gfx, const char *rtc) {
    char arch[64], setting[128];
    snprintf(arch, sizeof arch, "FAKE_HIP_ARCH=%s", gfx);
    snprintf(setting, sizeof setting, "XHAL_HIP_RTC=%s", rtc ? rtc : "/nonexistent/libhiprtc.so");
    hft_start((const char *const[]){arch, setting, NULL});
    xhal_device_t *device = xt_open("hip");
    gemm_buffers_t g;
    xhal_gemm_desc_t d = gemm_desc(&g, device, 64, 64, 64, XHAL_DTYPE_BF16, 0, 0);
    if (rtc)
        XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_gemm_supports(device, &d), gfx, "comgr", "knows");
    else
        XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_gemm_supports(device, &d), "hiprtc");
    /* The op says the same (the core asks supports first), again and again. */
    xhal_stream_t *stream = NULL;
    XT_OK(xhal_stream_create(device, &stream));
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_gemm(stream, &d), rtc ? gfx : "hiprtc");
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_gemm(stream, &d), rtc ? gfx : "hiprtc");
    xhal_stream_destroy(stream);
    gemm_free(&g);
}

static void test_unknown_target(void **state) {
    (void)state;
    const char *rtc = system_hiprtc();
    expect_no_code_object("gfx9999", rtc);
    expect_no_code_object("gfx9999", NULL);
    /* The case this guards: an MI300X (gfx942) with ROCm 5's hiprtc, which aborts for it. */
    if (rtc && strcmp(rtc, "libamdhip64.so.5") == 0 && !strstr(XT_HIP_TARGETS, "gfx942"))
        expect_no_code_object("gfx942", rtc);
}

/* XHAL_HIP_TUNING (read through the host's options by the common tuning reader) changes the
 * plan: with the GEMV kernels turned off for the device's target, m = 3 runs the skinny MFMA tile.
 */
static void test_tuning_file(void **state) {
    (void)state;
    const char *path = XT_HIP_CACHE_DIR ".ini";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[default]\ngemm_gemv_max_m = 16\n[gfx90a]\ngemm_gemv_max_m = 0\n", f);
    fclose(f);
    char setting[256];
    snprintf(setting, sizeof setting, "XHAL_HIP_TUNING=%s", path);
    hft_start((const char *const[]){setting, NULL});
    xhal_device_t *device = xt_open("hip");
    gemm_buffers_t g;
    size_t count = 0;
    xhal_gemm_desc_t d = gemm_desc(&g, device, 3, 4096, 1024, XHAL_DTYPE_BF16, 0, 1);
    const fake_hip_launch_t *l = run_gemm(device, &d, &count);
    assert_string_equal(l->kernel, "xk_gemm_mfma_32x128x64_bf16_nt");
    gemm_free(&g);
    remove(path);
}

/* GEMM epilogues and quantized B have no HIP kernel: refused by name. */
static void test_gemm_features_refused(void **state) {
    (void)state;
    hft_start(NULL);
    xhal_device_t *device = xt_open("hip");
    gemm_buffers_t g;
    xhal_gemm_desc_t d = gemm_desc(&g, device, 64, 64, 64, XHAL_DTYPE_BF16, 0, 0);
    d.activation = XHAL_ACTIVATION_RELU;
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_gemm_supports(device, &d), "activation",
                  "not implemented");
    xhal_stream_t *stream = NULL;
    XT_OK(xhal_stream_create(device, &stream));
    hft_clear_launches();
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_gemm(stream, &d), "activation");
    size_t count = 1;
    hft_launches(&count);
    assert_int_equal(count, 0); /* nothing ran */
    xhal_stream_destroy(stream);
    gemm_free(&g);
}

/* Runs `a` (buffers set) and returns its launches. */
static const fake_hip_launch_t *run_desc(xhal_device_t *device, const xhal_attention_desc_t *a,
                                         size_t *count) {
    xhal_stream_t *stream = NULL;
    XT_OK(xhal_stream_create(device, &stream));
    hft_clear_launches();
    XT_OK(xhal_attention(stream, a));
    XT_OK(xhal_stream_synchronize(stream));
    xhal_stream_destroy(stream);
    return hft_launches(count);
}

/*
 * The serving features of attention run on the exact kernel (xk_attention_simple), even where
 * the MFMA kernels would run the same shape without them, and its parameters carry them:
 * window, soft-cap, the LSE's address, packed Q with its rows numbered as the LSE.
 */
static void test_serving_attention(void **state) {
    (void)state;
    hft_start(NULL); /* gfx90a: bf16 d64 runs MFMA prefill without serving features */
    xhal_device_t *device = xt_open("hip");
    xhal_attention_desc_t a;
    xhal_attention_desc_init(&a, 2, 8, 2, 40, 64, 64, XHAL_DTYPE_BF16, XHAL_LAYOUT_BSHD);
    void *hq, *hk, *hv, *ho, *hl, *hs;
    a.q = hft_pinned(device, 2 * 8 * 40 * 64 * 2, 0, &hq);
    a.k = hft_pinned(device, 2 * 2 * 64 * 64 * 2, 0, &hk);
    a.v = hft_pinned(device, 2 * 2 * 64 * 64 * 2, 0, &hv);
    a.o = hft_pinned(device, 2 * 8 * 40 * 64 * 2, 0, &ho);
    xhal_buffer_t *lse = hft_pinned(device, 2 * 8 * 40 * 4 + 64, 0, &hl);
    size_t count = 0;
    const fake_hip_launch_t *l = run_desc(device, &a, &count);
    assert_string_equal(l->kernel, "xk_attention_mfma_prefill_bf16_d64");

    a.sliding_window = 16;
    a.softcap = 30.0f;
    a.lse = lse;
    a.lse_offset = 64;
    l = run_desc(device, &a, &count);
    assert_int_equal(count, 1);
    assert_string_equal(l->kernel, "xk_attention_simple");
    const xk_attention_params_t *p = &l->params.attention;
    assert_int_equal(p->window, 16);
    assert_true(p->softcap == 30.0f && p->cap_scale == p->scale / 30.0f && p->cap_log2 > 43.0f);
    assert_true(p->lse == (uint64_t)(uintptr_t)hl + 64 && p->cu_seqlens_q == 0);
    assert_int_equal(l->grid[0], 2 * 8 * 40 / 4); /* a logical warp per row, 4 a block */
    assert_int_equal(l->block[0], 128);

    /* Packed Q: two sequences of 25 and 15 queries in 40 rows; rows are (head, packed row). */
    a.sliding_window = 0;
    a.softcap = 0.0f;
    a.lse = NULL;
    a.lse_offset = 0;
    xhal_buffer_t *cu = hft_pinned(device, 3 * sizeof(int32_t), 0, &hs);
    const int32_t starts[3] = {0, 25, 40};
    memcpy(hs, starts, sizeof starts);
    a.cu_seqlens_q = cu;
    l = run_desc(device, &a, &count);
    assert_string_equal(l->kernel, "xk_attention_simple");
    assert_true(l->params.attention.cu_seqlens_q == (uint64_t)(uintptr_t)hs);
    assert_int_equal(l->grid[0], 8 * 40 / 4);

    /* A forced MFMA kernel cannot run them: refused under XHAL_HIP_STRICT, by supports too. */
    hft_teardown(NULL);
    hft_start((const char *const[]){"XHAL_HIP_ATTENTION=prefill", "XHAL_HIP_STRICT=1", NULL});
    xhal_device_t *strict = xt_open("hip");
    xhal_attention_desc_t b;
    xhal_attention_desc_init(&b, 1, 4, 4, 16, 16, 64, XHAL_DTYPE_BF16, XHAL_LAYOUT_BSHD);
    b.softcap = 30.0f;
    XT_EXPECT_ERR(XHAL_UNSUPPORTED, xhal_attention_supports(strict, &b), "XHAL_HIP_ATTENTION",
                  "simple");
    b.softcap = 0.0f;
    XT_OK(xhal_attention_supports(strict, &b));
}

/* The merge op: the portable kernel, its parameters from the descriptor. */
static void test_merge(void **state) {
    (void)state;
    hft_start(NULL);
    xhal_device_t *device = xt_open("hip");
    xhal_attention_merge_desc_t m;
    xhal_attention_merge_desc_init(&m, 2, 4, 10, 64, XHAL_DTYPE_F16, XHAL_LAYOUT_BSHD);
    void *ha, *hb, *ho, *hla, *hlb;
    m.o_a = hft_pinned(device, 2 * 4 * 10 * 64 * 2, 0, &ha);
    m.o_b = hft_pinned(device, 2 * 4 * 10 * 64 * 2, 0, &hb);
    m.o = hft_pinned(device, 2 * 4 * 10 * 64 * 2 + 32, 0, &ho);
    m.o_offset = 32;
    m.lse_a = hft_pinned(device, 2 * 4 * 10 * 4, 0, &hla);
    m.lse_b = hft_pinned(device, 2 * 4 * 10 * 4, 0, &hlb);
    XT_OK(xhal_attention_merge_supports(device, &m));
    xhal_stream_t *stream = NULL;
    XT_OK(xhal_stream_create(device, &stream));
    hft_clear_launches();
    XT_OK(xhal_attention_merge(stream, &m));
    XT_OK(xhal_stream_synchronize(stream));
    xhal_stream_destroy(stream);
    size_t count = 0;
    const fake_hip_launch_t *l = hft_launches(&count);
    assert_int_equal(count, 1);
    assert_string_equal(l->kernel, "xk_attention_merge");
    xk_merge_params_t p;
    memcpy(&p, l->params.bytes, sizeof p);
    assert_true(p.o_a == (uint64_t)(uintptr_t)ha && p.o == (uint64_t)(uintptr_t)ho + 32);
    assert_true(p.lse_b == (uint64_t)(uintptr_t)hlb && p.lse == 0);
    assert_true(p.batch == 2 && p.heads == 4 && p.seq == 10 && p.head_dim == 64);
    assert_true(p.stride_s == 4 * 64 && p.dtype == XHAL_DTYPE_F16);
    assert_int_equal(l->grid[0], 2 * 4 * 10 / 4);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_jit(void **state) {
    (void)state;
    const char *rtc = system_hiprtc();
    if (!rtc) skip(); /* no hiprtc on this machine */
    char setting[128];
    snprintf(setting, sizeof setting, "XHAL_HIP_RTC=%s", rtc);
    const char *const settings[] = {"XHAL_HIP_JIT=1", setting, "XHAL_HIP_CACHE=" XT_HIP_CACHE_DIR,
                                    NULL};
    (void)system("rm -rf '" XT_HIP_CACHE_DIR "'");
    double times[2];
    for (int run = 0; run < 2; run++) {
        hft_start(settings);
        xhal_device_t *device = xt_open("hip");
        gemm_buffers_t g;
        xhal_gemm_desc_t d = gemm_desc(&g, device, 256, 256, 64, XHAL_DTYPE_BF16, 0, 1);
        double start = now();
        size_t count = 0;
        const fake_hip_launch_t *l = run_gemm(device, &d, &count);
        times[run] = now() - start;
        assert_string_equal(l->kernel, "xk_gemm_mfma_64x64x32_bf16_nt");
        int loads = 0;
        assert_string_equal(hft_module_arch(&loads), "gfx90a");
        gemm_free(&g);
        print_message("run %d: first GEMM after %.2f s (%s)\n", run, times[run],
                      run ? "from the cache" : "hiprtc compile");
    }
    struct stat st;
    assert_int_equal(stat(XT_HIP_CACHE_DIR, &st), 0);
    if (times[1] > times[0] / 4) fail_msg("the cached code object did not save the compile");
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "jit") == 0) {
        const struct CMUnitTest jit[] = {cmocka_unit_test_teardown(test_jit, hft_teardown)};
        return cmocka_run_group_tests(jit, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_gemm_launches, hft_teardown),
        cmocka_unit_test_teardown(test_forced_kinds, hft_teardown),
        cmocka_unit_test_teardown(test_attention_launches, hft_teardown),
        cmocka_unit_test_teardown(test_every_target_has_its_kernels, hft_teardown),
        cmocka_unit_test_teardown(test_unknown_target, hft_teardown),
        cmocka_unit_test_teardown(test_tuning_file, hft_teardown),
        cmocka_unit_test_teardown(test_gemm_features_refused, hft_teardown),
        cmocka_unit_test_teardown(test_serving_attention, hft_teardown),
        cmocka_unit_test_teardown(test_merge, hft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
