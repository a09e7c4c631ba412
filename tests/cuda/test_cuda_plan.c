/*
 * The CUDA backend's host-side decisions, checked without a GPU: split-K, which kernel runs a
 * GEMM or an attention on an H100 / A100 / Ada card, tiles, grids and workspaces, forced
 * kernels, and the tuning INI (the real kernels/tuning/cuda.ini included).
 */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_plan.h"

#ifndef XT_CUDA_INI
#error "XT_CUDA_INI must name kernels/tuning/cuda.ini"
#endif

static const cuda_arch_t h100 = {9, 0, 132, 232448, 1};
static const cuda_arch_t a100 = {8, 0, 108, 166912, 0};
static const cuda_arch_t ada = {8, 9, 128, 101376, 0};

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = xt_malloc((size_t)size + 1);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    text[size] = '\0';
    fclose(f);
    return text;
}

/* The tuning a device of `arch` gets from the shipped INI. */
static cuda_tuning_t tuning_for(const cuda_arch_t *arch) {
    cuda_tuning_t t;
    cuda_tuning_defaults(&t);
    char *text = read_file(XT_CUDA_INI), section[16], error[160] = "";
    snprintf(section, sizeof section, "sm_%d%d", arch->cc_major, arch->cc_minor);
    if (cuda_tuning_parse(text, section, "Some GPU", &t, error, sizeof error) != 0)
        fail_msg("cuda.ini: %s", error);
    free(text);
    return t;
}

static cuda_gemm_plan_t plan_gemm(const xhal_gemm_desc_t *d, const cuda_arch_t *arch,
                                  const char *force) {
    cuda_tuning_t t = tuning_for(arch);
    cuda_gemm_plan_t p;
    char why[160] = "";
    if (cuda_plan_gemm(d, arch, &t, force, &p, why, sizeof why) != 0) fail_msg("plan: %s", why);
    return p;
}

static void test_split_k(void **state) {
    (void)state;
    int64_t kps = 0;
    /* One tile on 132 SMs, k = 4096 in steps of 32: 128 k tiles, capped at 16 parts of 8. */
    assert_int_equal(cuda_choose_split_k(1, 4096, 32, 132, 16, &kps), 16);
    assert_int_equal(kps, 256);
    /* Enough tiles already: no split, one part covering k. */
    assert_int_equal(cuda_choose_split_k(132, 4096, 32, 132, 16, &kps), 1);
    assert_int_equal(kps, 4096);
    /* Too little k to split (each part keeps 4 k tiles). */
    assert_int_equal(cuda_choose_split_k(1, 64, 32, 132, 16, &kps), 1);
    /* 33 tiles want 4 parts; k = 1000 has 32 k tiles of 32: parts of 8 tiles = 256. */
    assert_int_equal(cuda_choose_split_k(33, 1000, 32, 132, 16, &kps), 4);
    assert_int_equal(kps, 256);
    /* No empty part: 5 parts of 224 would leave the last with k = 1000 - 4*224 = 104. */
    int split = cuda_choose_split_k(2, 1000, 16, 132, 5, &kps);
    assert_true((split - 1) * kps < 1000 && split * kps >= 1000);
}

static void test_gemm_h100(void **state) {
    (void)state;
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, 4096, 4096, 4096, XHAL_DTYPE_BF16);
    d.c_type = XHAL_DTYPE_F32;
    cuda_gemm_plan_t p = plan_gemm(&d, &h100, NULL);
    assert_int_equal(p.kind, CUDA_GEMM_SM90);
    assert_string_equal(p.kernel, "xk_gemm_sm90_128x256x64_bf16_nn");
    assert_int_equal(p.threads, 384);
    assert_int_equal(p.grid[0], 132); /* persistent: 16 x 32 tiles over 132 SMs */
    assert_int_equal(p.tiles_m, 32);
    assert_int_equal(p.tiles_n, 16);
    assert_true(p.smem > 192 * 1024 && p.smem <= h100.smem_optin);
    assert_int_equal(p.split_k, 1);

    d.trans_b = 1; /* B stored n x k, as Linear weights are: K-major B */
    d.ldb = d.k;
    assert_string_equal(plan_gemm(&d, &h100, NULL).kernel, "xk_gemm_sm90_128x256x64_bf16_nt");

    /* A row length that is not a multiple of 8 elements: no 16-byte rows, no TMA or cp.async. */
    d.lda = 4100;
    p = plan_gemm(&d, &h100, NULL);
    assert_int_equal(p.kind, CUDA_GEMM_SIMT);
    d.lda = 4104;
    assert_int_equal(plan_gemm(&d, &h100, NULL).kind, CUDA_GEMM_SM90);

    /* Overlapping batches cannot be a 3-D tensor map; a shared (stride 0) A can. */
    d.batch = 2;
    d.stride_a = 8;
    d.stride_b = d.n * d.ldb;
    d.stride_c = d.m * d.ldc;
    assert_int_equal(plan_gemm(&d, &h100, NULL).kind, CUDA_GEMM_MMA);
    d.stride_a = 0;
    assert_int_equal(plan_gemm(&d, &h100, NULL).kind, CUDA_GEMM_SM90);

    /* Mixed A/B types and f32 run the exact kernel. */
    xhal_gemm_desc_init(&d, 512, 512, 512, XHAL_DTYPE_F32);
    p = plan_gemm(&d, &h100, NULL);
    assert_int_equal(p.kind, CUDA_GEMM_SIMT);
    assert_string_equal(p.kernel, "xk_gemm_simt");
    xhal_gemm_desc_init(&d, 512, 512, 512, XHAL_DTYPE_BF16);
    d.a_type = XHAL_DTYPE_F16;
    assert_int_equal(plan_gemm(&d, &h100, NULL).kind, CUDA_GEMM_SIMT);
}

static void test_gemm_decode(void **state) {
    (void)state;
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, 1, 14336, 4096, XHAL_DTYPE_BF16);
    cuda_gemm_plan_t p = plan_gemm(&d, &h100, NULL);
    assert_int_equal(p.kind, CUDA_GEMM_GEMV_N);
    assert_string_equal(p.kernel, "xk_gemv_n_bf16_1");
    assert_int_equal(p.grid[0], 224); /* 64 columns per block */
    /* 224 blocks < 4 per SM: k is split, in multiples of 256, with f32 partials. */
    assert_int_equal(p.grid[1], (uint32_t)p.split_k);
    assert_true(p.split_k >= 2 && p.k_per_split % 256 == 0);
    assert_true((p.split_k - 1) * p.k_per_split < 4096);
    assert_int_equal(p.workspace_bytes, (uint64_t)p.split_k * 14336 * 4);

    d.m = 3;
    d.trans_b = 1;
    d.ldb = d.k;
    d.lda = d.k;
    p = plan_gemm(&d, &h100, NULL);
    assert_int_equal(p.kind, CUDA_GEMM_GEMV_T);
    assert_string_equal(p.kernel, "xk_gemv_t_bf16_4");
    assert_int_equal(p.grid[0], 14336 / 8); /* a warp per column, 8 per block */
    assert_int_equal(p.workspace_bytes, 0);

    /* f32 activations against bf16 weights still read the weights at memory speed. */
    d.a_type = XHAL_DTYPE_F32;
    d.m = 16;
    assert_string_equal(plan_gemm(&d, &h100, NULL).kernel, "xk_gemv_t_bf16_16");
    /* f32 weights do not. */
    d.b_type = XHAL_DTYPE_F32;
    assert_int_equal(plan_gemm(&d, &h100, NULL).kind, CUDA_GEMM_SIMT);
    d.b_type = XHAL_DTYPE_BF16;
    d.m = 17;
    assert_int_equal(plan_gemm(&d, &h100, NULL).kind, CUDA_GEMM_SIMT); /* mixed types */
}

static void test_gemm_a100(void **state) {
    (void)state;
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, 4096, 4096, 4096, XHAL_DTYPE_F16);
    cuda_gemm_plan_t p = plan_gemm(&d, &a100, NULL);
    assert_int_equal(p.kind, CUDA_GEMM_MMA);
    assert_string_equal(p.kernel, "xk_gemm_mma_128x128x32_f16_nn");
    assert_int_equal(p.threads, 256);
    assert_int_equal(p.grid[0], 32 * 32);
    assert_int_equal(p.grid[1], 1);

    /* 256 x 256 x 8192: 4 small tiles on 108 SMs, so k is split 16 ways. */
    xhal_gemm_desc_init(&d, 256, 256, 8192, XHAL_DTYPE_BF16);
    d.trans_a = 1;
    d.lda = 256;
    p = plan_gemm(&d, &a100, NULL);
    assert_string_equal(p.kernel, "xk_gemm_mma_64x64x32_bf16_tn");
    assert_int_equal(p.tiles_m * p.tiles_n, 16);
    assert_int_equal(p.split_k, 7); /* ceil(108 / 16) */
    assert_int_equal(p.grid[0], 16 * 7);
    assert_int_equal(p.workspace_bytes, (uint64_t)7 * 256 * 256 * 4);

    /* Batches go on grid.y, capped at the hardware's 65535 (the kernel loops). */
    xhal_gemm_desc_init(&d, 64, 64, 64, XHAL_DTYPE_BF16);
    d.batch = 100000;
    d.stride_a = d.stride_b = d.stride_c = 64 * 64;
    p = plan_gemm(&d, &a100, NULL);
    assert_int_equal(p.grid[1], 65535);
    assert_int_equal(p.split_k, 1);
}

static void test_gemm_forced(void **state) {
    (void)state;
    xhal_gemm_desc_t d;
    xhal_gemm_desc_init(&d, 512, 512, 512, XHAL_DTYPE_BF16);
    cuda_gemm_plan_t p = plan_gemm(&d, &h100, "simt");
    assert_int_equal(p.kind, CUDA_GEMM_SIMT);
    assert_false(p.forced_refused);
    p = plan_gemm(&d, &h100, "mma");
    assert_int_equal(p.kind, CUDA_GEMM_MMA);
    p = plan_gemm(&d, &h100, "sm90");
    assert_int_equal(p.kind, CUDA_GEMM_SM90);
    /* Not on an A100: refused, and the automatic choice runs. */
    p = plan_gemm(&d, &a100, "sm90");
    assert_true(p.forced_refused);
    assert_int_equal(p.kind, CUDA_GEMM_MMA);
    p = plan_gemm(&d, &h100, "gemv"); /* m = 512 */
    assert_true(p.forced_refused);
    /* 4 x 2 tiles of 128 x 256 are under half a wave: mma.sync, not the wgmma kernel. */
    assert_int_equal(p.kind, CUDA_GEMM_MMA);
    p = plan_gemm(&d, &h100, "auto");
    assert_false(p.forced_refused);
}

static cuda_attention_plan_t plan_attention(const xhal_attention_desc_t *d, const cuda_arch_t *arch,
                                            const char *force) {
    cuda_tuning_t t = tuning_for(arch);
    cuda_attention_plan_t p;
    char why[160] = "";
    if (cuda_plan_attention(d, arch, &t, force, &p, why, sizeof why) != 0)
        fail_msg("plan: %s", why);
    return p;
}

static void test_attention(void **state) {
    (void)state;
    xhal_attention_desc_t d;
    /* The prefill shape of the acceptance: on an H100 the wgmma kernel, 128 queries a block. */
    xhal_attention_desc_init(&d, 4, 32, 32, 4096, 4096, 128, XHAL_DTYPE_BF16, XHAL_LAYOUT_BHSD);
    cuda_attention_plan_t p = plan_attention(&d, &h100, NULL);
    assert_int_equal(p.kind, CUDA_ATTENTION_SM90);
    assert_string_equal(p.kernel, "xk_attention_sm90_bf16_d128");
    assert_int_equal(p.threads, 384);
    assert_int_equal(p.grid, 4 * 32 * 32);
    assert_int_equal(p.tma_order[0], 0 | 1 << 2 | 2 << 4); /* BHSD: seq, head, batch */
    assert_true(p.smem <= h100.smem_optin);
    /* Elsewhere (and when forced on the H100): FA2, 64 queries per block, heaviest first. */
    assert_int_equal(plan_attention(&d, &h100, "fa2").kind, CUDA_ATTENTION_FA2);
    p = plan_attention(&d, &a100, NULL);
    assert_int_equal(p.kind, CUDA_ATTENTION_FA2);
    assert_string_equal(p.kernel, "xk_attention_fa2_bf16_d128");
    assert_int_equal(p.row_blocks, 64);
    assert_int_equal(p.grid, 4 * 32 * 64);
    assert_int_equal(p.smem, (64 * 128 + 4 * 64 * 128) * 2);
    assert_int_equal(p.workspace_bytes, 0);

    /* The decode shape: 32 x 8 KV heads, 4 query heads per group on one block's rows. */
    xhal_attention_desc_init(&d, 32, 32, 8, 1, 8192, 128, XHAL_DTYPE_BF16, XHAL_LAYOUT_BHSD);
    p = plan_attention(&d, &h100, NULL);
    assert_int_equal(p.kind, CUDA_ATTENTION_DECODE);
    assert_int_equal(p.row_blocks, 1);
    assert_int_equal(p.splits, 3); /* 256 (batch, KV head) blocks, about 4 per SM wanted */
    assert_int_equal(p.keys_per_split % 64, 0);
    assert_true(p.keys_per_split * (p.splits - 1) < 8192 && p.keys_per_split * p.splits >= 8192);
    assert_int_equal(p.grid, 256 * 3);
    assert_int_equal(p.stats_offset % 256, 0);
    assert_true(p.stats_offset >= (uint64_t)32 * 32 * 3 * 128 * 4);
    assert_int_equal(p.workspace_bytes, p.stats_offset + (uint64_t)32 * 32 * 3 * 8);
    assert_int_equal(p.combine_grid, 32 * 32 / 4);

    /* A short KV keeps at least attention_min_keys_per_split keys per split. */
    xhal_attention_desc_init(&d, 1, 8, 8, 1, 300, 64, XHAL_DTYPE_F16, XHAL_LAYOUT_BSHD);
    p = plan_attention(&d, &h100, NULL);
    assert_int_equal(p.kind, CUDA_ATTENTION_DECODE);
    assert_int_equal(p.splits, 2);
    assert_string_equal(p.kernel, "xk_attention_fa2_f16_d64");

    /* f32, an odd head_dim and unaligned rows run the exact kernel. */
    xhal_attention_desc_init(&d, 1, 8, 8, 100, 100, 64, XHAL_DTYPE_F32, XHAL_LAYOUT_BSHD);
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_SIMPLE);
    xhal_attention_desc_init(&d, 1, 8, 8, 100, 100, 80, XHAL_DTYPE_BF16, XHAL_LAYOUT_BSHD);
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_SIMPLE);
    xhal_attention_desc_init(&d, 1, 8, 8, 100, 100, 64, XHAL_DTYPE_BF16, XHAL_LAYOUT_BSHD);
    d.k_offset = 8;
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_SIMPLE);
    d.k_offset = 16;
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_SM90);
    assert_int_equal(plan_attention(&d, &a100, NULL).kind, CUDA_ATTENTION_FA2);

    /* head_dim 256 fits Ada's 99 KiB per block; forcing works both ways. */
    xhal_attention_desc_init(&d, 1, 2, 1, 200, 200, 256, XHAL_DTYPE_BF16, XHAL_LAYOUT_BSHD);
    p = plan_attention(&d, &ada, NULL);
    assert_int_equal(p.kind, CUDA_ATTENTION_FA2);
    assert_true(p.smem <= ada.smem_optin);
    assert_int_equal(plan_attention(&d, &ada, "decode").kind, CUDA_ATTENTION_DECODE);
    assert_int_equal(plan_attention(&d, &ada, "simple").kind, CUDA_ATTENTION_SIMPLE);
    d.dtype = XHAL_DTYPE_F32;
    p = plan_attention(&d, &ada, "fa2");
    assert_true(p.forced_refused);
    assert_int_equal(p.kind, CUDA_ATTENTION_SIMPLE);
}

/* A paged pool of `blocks` blocks of 16 tokens, [block, token, head, dim], for a decode batch. */
static void make_paged(xhal_attention_desc_t *d, xhal_buffer_t *fake, int64_t blocks) {
    int64_t h = d->heads_kv, e = d->head_dim;
    d->block_table = fake;
    d->seqlens_kv = fake;
    d->block_size = 16;
    d->num_blocks = blocks;
    d->max_blocks_per_seq = (d->seq_kv + 15) / 16;
    d->block_table_stride = d->max_blocks_per_seq;
    d->k_strides = d->v_strides = (xhal_attention_strides_t){16 * h * e, e, h * e};
}

static void test_attention_serving(void **state) {
    (void)state;
    /* The planner only tests buffers for NULL: any non-NULL address stands for one. */
    static char token;
    xhal_buffer_t *fake = (xhal_buffer_t *)(void *)&token;
    xhal_attention_desc_t d;

    /* A decode batch of 64 over a paged cache: split-KV decode for every sequence, whatever
     * its length (q_split unbounded), the splits sized from seq_kv, the longest planned for. */
    xhal_attention_desc_init(&d, 64, 64, 8, 1, 32768, 128, XHAL_DTYPE_BF16, XHAL_LAYOUT_BSHD);
    make_paged(&d, fake, 100000);
    assert_true(cuda_attention_serving(&d));
    cuda_attention_plan_t p = plan_attention(&d, &h100, NULL);
    assert_int_equal(p.kind, CUDA_ATTENTION_DECODE);
    assert_string_equal(p.kernel, "xk_attention_fa2_bf16_d128");
    assert_true(p.q_split == INT64_MAX);
    assert_false(p.decode_too);
    assert_int_equal(p.row_blocks, 1); /* 8 query heads of a group, 1 query each */
    assert_int_equal(p.decode_row_blocks, 1);
    assert_int_equal(p.splits, 2); /* 512 (sequence, KV head) blocks want 4 x 132 */
    assert_int_equal(p.grid, 64 * 8 * 2);
    assert_int_equal(p.decode_grid, p.grid);
    assert_true(p.keys_per_split * p.splits >= 32768);
    assert_int_equal(p.workspace_bytes, p.stats_offset + (uint64_t)64 * 64 * 2 * 8);
    /* A block stride that is not 16-byte rows: the exact kernel. */
    d.k_strides.batch += 4;
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_SIMPLE);

    /* Prefill with any serving feature on an H100 runs FA2, never the wgmma kernel (dense TMA
     * tensors, no LSE); forcing sm90 is refused. */
    xhal_attention_desc_init(&d, 2, 32, 8, 4096, 4096, 128, XHAL_DTYPE_BF16, XHAL_LAYOUT_BHSD);
    d.causal = 1;
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_SM90);
    d.sliding_window = 1024;
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_FA2);
    p = plan_attention(&d, &h100, "sm90");
    assert_true(p.forced_refused);
    assert_int_equal(p.kind, CUDA_ATTENTION_FA2);
    assert_true(p.q_split == 0); /* prefill takes every sequence */
    d.sliding_window = 0;
    d.softcap = 30.0f;
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_FA2);
    d.softcap = 0.0f;
    d.lse = fake;
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_FA2);
    d.lse = NULL;
    d.seqlens_kv = fake;
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_FA2);
    d.seqlens_kv = NULL;
    assert_false(cuda_attention_serving(&d));

    /* Packed Q and K/V of 3000 and 5000 rows for 4 sequences (batch strides unread, so odd
     * ones do not matter): FA2 over 47 blocks of 64 packed rows per head, and split-KV decode
     * first for the sequences of at most 16 queries (16 x 4 heads of a group: one row block). */
    xhal_attention_desc_init(&d, 4, 32, 8, 3000, 5000, 64, XHAL_DTYPE_F16, XHAL_LAYOUT_BSHD);
    d.cu_seqlens_q = d.cu_seqlens_kv = fake;
    d.q_strides.batch = d.o_strides.batch = d.k_strides.batch = d.v_strides.batch = 3;
    p = plan_attention(&d, &a100, NULL);
    assert_int_equal(p.kind, CUDA_ATTENTION_FA2);
    assert_string_equal(p.kernel, "xk_attention_fa2_f16_d64");
    assert_int_equal(p.row_blocks, 47);
    assert_int_equal(p.grid, 47 * 32);
    assert_true(p.decode_too);
    assert_int_equal(p.q_split, 16);
    assert_int_equal(p.decode_row_blocks, 1);
    assert_int_equal(p.decode_grid, 4 * 8 * p.splits);
    /* Partials for every (head, packed row), the LSE's numbering: one "batch" of 3000 rows. */
    assert_true(p.stats_offset >= (uint64_t)32 * 3000 * p.splits * 64 * 4);
    assert_int_equal(p.workspace_bytes, p.stats_offset + (uint64_t)32 * 3000 * p.splits * 8);
    assert_int_equal(p.combine_grid, 32 * 3000 / 4);
    /* Forced: FA2 alone takes every sequence; decode alone every sequence, all rows. */
    p = plan_attention(&d, &a100, "fa2");
    assert_false(p.decode_too);
    assert_true(p.q_split == 0);
    p = plan_attention(&d, &a100, "decode");
    assert_int_equal(p.kind, CUDA_ATTENTION_DECODE);
    assert_true(p.q_split == INT64_MAX);
    assert_int_equal(p.row_blocks, (4 * 3000 + 63) / 64);
    /* Packed Q of at most 16 rows: decode only. */
    d.seq_q = 16;
    p = plan_attention(&d, &a100, NULL);
    assert_int_equal(p.kind, CUDA_ATTENTION_DECODE);
    assert_false(p.decode_too);
    /* f32: the exact kernel, a warp per (head, packed row). */
    d.dtype = XHAL_DTYPE_F32;
    p = plan_attention(&d, &a100, NULL);
    assert_int_equal(p.kind, CUDA_ATTENTION_SIMPLE);
    assert_int_equal(p.grid, 32 * 16 / 4);
}

static void test_attention_tma_layout(void **state) {
    (void)state;
    xhal_attention_desc_t d;
    int order = -1;
    int64_t ext[3], str[3];
    /* BSHD: head (stride D), seq (H D), batch (S H D). */
    xhal_attention_desc_init(&d, 2, 8, 8, 100, 100, 64, XHAL_DTYPE_BF16, XHAL_LAYOUT_BSHD);
    assert_true(cuda_attention_tma_layout(&d.q_strides, 2, 8, 100, 64, &order, ext, str));
    assert_int_equal(order, 1 | 0 << 2 | 2 << 4);
    assert_int_equal(ext[0], 8);
    assert_int_equal(str[0], 64);
    assert_int_equal(ext[1], 100);
    assert_int_equal(str[1], 8 * 64);
    assert_int_equal(str[2], 100 * 8 * 64);
    /* An axis of extent 1 goes last, whatever its stride. */
    xhal_attention_desc_init(&d, 1, 8, 8, 100, 100, 64, XHAL_DTYPE_BF16, XHAL_LAYOUT_BHSD);
    d.q_strides.batch = 0;
    assert_true(cuda_attention_tma_layout(&d.q_strides, 1, 8, 100, 64, &order, ext, str));
    assert_int_equal(order, 0 | 1 << 2 | 2 << 4);
    assert_int_equal(str[2], 8 * 100 * 64);
    /* Overlapping rows (seq stride < head_dim) or axes are not a TMA tensor: FA2 runs. */
    d.q_strides.seq = 32;
    assert_false(cuda_attention_tma_layout(&d.q_strides, 1, 8, 100, 64, &order, ext, str));
    d.q_strides.seq = 64;
    d.q_strides.head = 64 * 50; /* heads overlap half of the next head's rows */
    assert_false(cuda_attention_tma_layout(&d.q_strides, 1, 8, 100, 64, &order, ext, str));
    xhal_attention_desc_init(&d, 1, 8, 8, 300, 300, 128, XHAL_DTYPE_BF16, XHAL_LAYOUT_BHSD);
    d.k_strides.head = 64 * 50;
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_FA2);
    assert_true(plan_attention(&d, &h100, "sm90").forced_refused);
    /* head_dim 256 has no wgmma kernel. */
    xhal_attention_desc_init(&d, 1, 8, 8, 300, 300, 256, XHAL_DTYPE_BF16, XHAL_LAYOUT_BHSD);
    assert_int_equal(plan_attention(&d, &h100, NULL).kind, CUDA_ATTENTION_FA2);
}

static void test_tuning_ini(void **state) {
    (void)state;
    cuda_tuning_t t = tuning_for(&h100);
    assert_string_equal(t.gemm_sm90, "128x256x64");
    assert_string_equal(t.gemm_mma_large, "128x128x32");
    assert_int_equal(t.gemm_group_m, 16);
    t = tuning_for(&a100);
    assert_string_equal(t.gemm_sm90, "none");
    assert_int_equal(t.gemm_group_m, 8);

    const char *text = "; comment\n"
                       "[default]\n"
                       "gemm_splitk_max = 4   ; trailing comment\n"
                       "[sm_90]\n"
                       "gemm_splitk_max=8\n"
                       "[My GPU]\n"
                       "  gemm_splitk_max = 12\n"
                       "[sm_80]\n"
                       "gemm_sm90 = none\n";
    char error[160] = "";
    cuda_tuning_defaults(&t);
    assert_int_equal(cuda_tuning_parse(text, "sm_75", "Other", &t, error, sizeof error), 0);
    assert_int_equal(t.gemm_splitk_max, 4);
    assert_int_equal(cuda_tuning_parse(text, "sm_90", "Other", &t, error, sizeof error), 0);
    assert_int_equal(t.gemm_splitk_max, 8);
    assert_int_equal(cuda_tuning_parse(text, "sm_90", "My GPU", &t, error, sizeof error), 0);
    assert_int_equal(t.gemm_splitk_max, 12);

    /* Errors name the line, and leave the tuning as it was. */
    cuda_tuning_defaults(&t);
    assert_int_equal(
        cuda_tuning_parse("[default]\ngemm_tile = 3\n", "sm_90", "", &t, error, sizeof error), -1);
    assert_non_null(strstr(error, "line 2"));
    assert_non_null(strstr(error, "gemm_tile"));
    assert_int_equal(
        cuda_tuning_parse("[sm_90]\ngemm_group_m = lots\n", "sm_80", "", &t, error, sizeof error),
        -1); /* checked even in a section that does not apply */
    assert_non_null(strstr(error, "gemm_group_m"));
    assert_int_equal(cuda_tuning_parse("[default\n", "sm_80", "", &t, error, sizeof error), -1);
    assert_int_equal(cuda_tuning_parse("just words\n", "sm_80", "", &t, error, sizeof error), -1);
    assert_int_equal(t.gemm_group_m, 8);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_k),           cmocka_unit_test(test_gemm_h100),
        cmocka_unit_test(test_gemm_decode),       cmocka_unit_test(test_gemm_a100),
        cmocka_unit_test(test_gemm_forced),       cmocka_unit_test(test_attention),
        cmocka_unit_test(test_attention_serving), cmocka_unit_test(test_attention_tma_layout),
        cmocka_unit_test(test_tuning_ini),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
