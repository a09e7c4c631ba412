/*
 * Kernel choice for GEMM and attention (see cuda_plan.h). The rules, in order:
 *
 * GEMM: a decode-shaped GEMM (m <= gemm_gemv_max_m, 16-bit B with 16-byte aligned rows) runs
 * the GEMV kernels at memory speed. Otherwise f16/bf16 with A and B of one type and 16-byte
 * aligned rows runs on tensor cores: the wgmma kernel on sm_90a when it has at least half a
 * wave of 128 x 256 tiles, else mma.sync (the large tile when it fills the GPU, else the small
 * one, split along k when even that leaves multiprocessors idle). Everything else (f32, mixed
 * A/B types, odd alignment) runs the exact SIMT kernel, also split along k when that helps.
 *
 * Attention: f16/bf16 with head_dim 64, 128 or 256 and 16-byte aligned rows runs on tensor
 * cores, as split-KV decode when seq_q <= attention_decode_max_queries, else as prefill: the
 * wgmma kernel on sm_90a (head_dim 64 or 128, Q/K/V describable as TMA tensors, no serving
 * feature: it reads dense TMA tensors and writes no LSE), FA2 elsewhere; with packed Q longer
 * than that, FA2 prefill and split-KV decode both run, each for the sequences of its size; the
 * rest runs the exact kernel. Every kernel but the wgmma one runs every serving feature.
 */
#include "cuda_plan.h"

#include <stdio.h>
#include <string.h>

#include "gpu_plan.h"
#include "xk_configs.h"
#include "xk_params.h"

#define GRID_X_MAX 2147483647ll
#define GRID_YZ_MAX 65535ll

typedef struct {
    const char *name;
    int bm, bn, bk, wm, wn, stages;
} mma_config_t;

#define MMA_ROW(name, BM, BN, BK, WM, WN, ST) {#name, BM, BN, BK, WM, WN, ST},
static const mma_config_t mma_configs[] = {XK_GEMM_MMA_CONFIGS(MMA_ROW)};
#undef MMA_ROW

typedef struct {
    const char *name;
    int bm, bn, bk, stages;
} sm90_config_t;

#define SM90_ROW(name, BM, BN, BK, ST) {#name, BM, BN, BK, ST},
static const sm90_config_t sm90_configs[] = {XK_GEMM_SM90_CONFIGS(SM90_ROW)};
#undef SM90_ROW

static int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

/* ---- Tuning ---- */

void cuda_tuning_defaults(cuda_tuning_t *t) {
    memset(t, 0, sizeof(*t));
    snprintf(t->gemm_mma_large, sizeof t->gemm_mma_large, "%s", mma_configs[0].name);
    snprintf(t->gemm_mma_small, sizeof t->gemm_mma_small, "%s",
             mma_configs[sizeof mma_configs / sizeof mma_configs[0] - 1].name);
    snprintf(t->gemm_sm90, sizeof t->gemm_sm90, "%s", sm90_configs[0].name);
    t->gemm_group_m = 8;
    t->gemm_splitk_max = 16;
    t->gemm_gemv_max_m = 16;
    t->attention_decode_max_queries = 16;
    t->attention_min_keys_per_split = 256;
}

const char *cuda_gemm_kind_name(cuda_gemm_kind_t kind) {
    switch (kind) {
    case CUDA_GEMM_SIMT:
        return "simt";
    case CUDA_GEMM_MMA:
        return "mma";
    case CUDA_GEMM_SM90:
        return "sm90";
    case CUDA_GEMM_GEMV_N:
    case CUDA_GEMM_GEMV_T:
        return "gemv";
    }
    return "unknown";
}

const char *cuda_attention_kind_name(cuda_attention_kind_t kind) {
    switch (kind) {
    case CUDA_ATTENTION_SIMPLE:
        return "simple";
    case CUDA_ATTENTION_FA2:
        return "fa2";
    case CUDA_ATTENTION_DECODE:
        return "decode";
    case CUDA_ATTENTION_SM90:
        return "sm90";
    }
    return "unknown";
}

/* ---- GEMM ---- */

int cuda_choose_split_k(int64_t blocks, int64_t k, int bk, int sms, int max_split,
                        int64_t *k_per_split) {
    return xhal_gpu_split_k(blocks, k, bk, sms, max_split, k_per_split);
}

static int tensor_core_ok(const xhal_gemm_desc_t *d, const cuda_arch_t *arch) {
    return arch->cc_major >= 8 && d->a_type == d->b_type && d->a_type != XHAL_DTYPE_F32 &&
           xhal_gpu_rows_aligned16(d->a_type, d->lda, d->stride_a, d->a_offset) &&
           xhal_gpu_rows_aligned16(d->b_type, d->ldb, d->stride_b, d->b_offset);
}

static int gemv_ok(const xhal_gemm_desc_t *d, const cuda_arch_t *arch, const cuda_tuning_t *t) {
    return arch->cc_major >= 8 && d->m <= t->gemm_gemv_max_m && d->m <= 16 &&
           xhal_gpu_rows_aligned16(d->b_type, d->ldb, d->stride_b, d->b_offset);
}

/* TMA describes each operand as a 3-D tensor whose batches must not overlap (or share one). */
static int sm90_ok(const xhal_gemm_desc_t *d, const cuda_arch_t *arch, const cuda_tuning_t *t,
                   const sm90_config_t **config) {
    *config = NULL;
    for (size_t i = 0; i < sizeof sm90_configs / sizeof sm90_configs[0]; i++)
        if (strcmp(sm90_configs[i].name, t->gemm_sm90) == 0) *config = &sm90_configs[i];
    if (!*config || !arch->has_sm90 || arch->cc_major != 9 || arch->cc_minor != 0) return 0;
    if (!tensor_core_ok(d, arch)) return 0;
    if (XK_GEMM_SM90_SMEM((*config)->bm, (*config)->bn, (*config)->bk, (*config)->stages) >
        arch->smem_optin)
        return 0;
    if (d->m > GRID_X_MAX || d->n > GRID_X_MAX || d->k > GRID_X_MAX || d->batch > GRID_X_MAX)
        return 0;
    int64_t a_rows = d->trans_a ? d->k : d->m, b_rows = d->trans_b ? d->n : d->k;
    if (d->batch > 1 && d->stride_a != 0 && d->stride_a < a_rows * d->lda) return 0;
    if (d->batch > 1 && d->stride_b != 0 && d->stride_b < b_rows * d->ldb) return 0;
    return 1;
}

static const mma_config_t *mma_config(const char *name) {
    for (size_t i = 0; i < sizeof mma_configs / sizeof mma_configs[0]; i++)
        if (strcmp(mma_configs[i].name, name) == 0) return &mma_configs[i];
    return &mma_configs[0];
}

static int mma_fits(const mma_config_t *c, const cuda_arch_t *arch) {
    return XK_GEMM_MMA_SMEM(c->bm, c->bn, c->bk, c->stages) <= arch->smem_optin;
}

/* Tiles, split-K and grid of a tiled kernel (SIMT or mma) whose batches run on grid.y. */
static int plan_tiled(const xhal_gemm_desc_t *d, const cuda_arch_t *arch, const cuda_tuning_t *t,
                      cuda_gemm_plan_t *p, char *why, size_t why_size) {
    p->tiles_m = (int)min64(ceil_div(d->m, p->bm), GRID_X_MAX);
    p->tiles_n = (int)min64(ceil_div(d->n, p->bn), GRID_X_MAX);
    int64_t tiles = (int64_t)p->tiles_m * p->tiles_n;
    p->split_k = cuda_choose_split_k(tiles * d->batch, d->k, p->bk, arch->sms, t->gemm_splitk_max,
                                     &p->k_per_split);
    if (ceil_div(d->m, p->bm) * ceil_div(d->n, p->bn) * p->split_k > GRID_X_MAX) {
        snprintf(why, why_size, "cuda: gemm of %lld x %lld needs more blocks than a grid holds",
                 (long long)d->m, (long long)d->n);
        return -1;
    }
    p->grid[0] = (uint32_t)(tiles * p->split_k);
    p->grid[1] = (uint32_t)min64(d->batch, GRID_YZ_MAX);
    p->grid[2] = 1;
    if (p->split_k > 1) p->workspace_bytes = (uint64_t)(d->batch * p->split_k * d->m * d->n) * 4u;
    return 0;
}

/* The decode GEMVs (kernels/gpu/xk_gemv.cuh): the plan both GPU backends share. */
static int plan_gemv(const xhal_gemm_desc_t *d, const cuda_arch_t *arch, const cuda_tuning_t *t,
                     cuda_gemm_plan_t *p) {
    xhal_gpu_gemv_plan_t g;
    xhal_gpu_plan_gemv(d, arch->sms, t->gemm_splitk_max, GRID_X_MAX, &g);
    p->kind = d->trans_b ? CUDA_GEMM_GEMV_T : CUDA_GEMM_GEMV_N;
    p->threads = 256;
    p->split_k = g.split_k;
    p->k_per_split = g.k_per_split;
    memcpy(p->grid, g.grid, sizeof p->grid);
    p->workspace_bytes = g.workspace_bytes;
    snprintf(p->kernel, sizeof p->kernel, "%s", g.kernel);
    return 0;
}

static int plan_sm90(const xhal_gemm_desc_t *d, const cuda_arch_t *arch, const sm90_config_t *c,
                     const cuda_tuning_t *t, cuda_gemm_plan_t *p) {
    p->kind = CUDA_GEMM_SM90;
    p->bm = c->bm;
    p->bn = c->bn;
    p->bk = c->bk;
    p->threads = XK_GEMM_SM90_THREADS;
    p->smem = XK_GEMM_SM90_SMEM(c->bm, c->bn, c->bk, c->stages);
    p->tiles_m = (int)ceil_div(d->m, c->bm);
    p->tiles_n = (int)ceil_div(d->n, c->bn);
    p->split_k = 1;
    p->k_per_split = d->k;
    (void)t;
    int64_t total = (int64_t)p->tiles_m * p->tiles_n * d->batch;
    p->grid[0] = (uint32_t)min64(total, arch->sms); /* persistent: one block per SM */
    p->grid[1] = p->grid[2] = 1;
    snprintf(p->kernel, sizeof p->kernel, "xk_gemm_sm90_%s_%s_%c%c", c->name,
             xhal_gpu_dtype_tag(d->a_type), d->trans_a ? 't' : 'n', d->trans_b ? 't' : 'n');
    return 0;
}

static int plan_mma(const xhal_gemm_desc_t *d, const cuda_arch_t *arch, const cuda_tuning_t *t,
                    cuda_gemm_plan_t *p, char *why, size_t why_size) {
    const mma_config_t *large = mma_config(t->gemm_mma_large);
    const mma_config_t *small = mma_config(t->gemm_mma_small);
    int64_t large_tiles = ceil_div(d->m, large->bm) * ceil_div(d->n, large->bn) * d->batch;
    const mma_config_t *c = (large_tiles >= arch->sms && mma_fits(large, arch)) ? large : small;
    p->kind = CUDA_GEMM_MMA;
    p->bm = c->bm;
    p->bn = c->bn;
    p->bk = c->bk;
    p->threads = XK_GEMM_MMA_THREADS(c->bm, c->bn, c->wm, c->wn);
    p->smem = XK_GEMM_MMA_SMEM(c->bm, c->bn, c->bk, c->stages);
    snprintf(p->kernel, sizeof p->kernel, "xk_gemm_mma_%s_%s_%c%c", c->name,
             xhal_gpu_dtype_tag(d->a_type), d->trans_a ? 't' : 'n', d->trans_b ? 't' : 'n');
    return plan_tiled(d, arch, t, p, why, why_size);
}

static int plan_simt(const xhal_gemm_desc_t *d, const cuda_arch_t *arch, const cuda_tuning_t *t,
                     cuda_gemm_plan_t *p, char *why, size_t why_size) {
    p->kind = CUDA_GEMM_SIMT;
    p->bm = p->bn = 64;
    p->bk = 16;
    p->threads = 256;
    p->smem = 0;
    snprintf(p->kernel, sizeof p->kernel, "xk_gemm_simt");
    return plan_tiled(d, arch, t, p, why, why_size);
}

int cuda_plan_gemm(const xhal_gemm_desc_t *d, const cuda_arch_t *arch, const cuda_tuning_t *t,
                   const char *force, cuda_gemm_plan_t *p, char *why, size_t why_size) {
    memset(p, 0, sizeof(*p));
    p->group_m = t->gemm_group_m > 0 ? t->gemm_group_m : 1;
    const sm90_config_t *sm90 = NULL;
    int can_sm90 = sm90_ok(d, arch, t, &sm90);
    int can_mma = tensor_core_ok(d, arch) && (mma_fits(mma_config(t->gemm_mma_small), arch));
    int can_gemv = gemv_ok(d, arch, t);

    if (force && *force && strcmp(force, "auto") != 0) {
        if (strcmp(force, "simt") == 0) return plan_simt(d, arch, t, p, why, why_size);
        if (strcmp(force, "sm90") == 0 && can_sm90) return plan_sm90(d, arch, sm90, t, p);
        if (strcmp(force, "mma") == 0 && can_mma) return plan_mma(d, arch, t, p, why, why_size);
        if (strcmp(force, "gemv") == 0 && can_gemv) return plan_gemv(d, arch, t, p);
        p->forced_refused = 1;
    }
    int refused = p->forced_refused;
    int status;
    if (can_gemv)
        status = plan_gemv(d, arch, t, p);
    else if (can_sm90 &&
             ceil_div(d->m, sm90->bm) * ceil_div(d->n, sm90->bn) * d->batch >= (arch->sms + 1) / 2)
        status = plan_sm90(d, arch, sm90, t, p);
    else if (can_mma)
        status = plan_mma(d, arch, t, p, why, why_size);
    else
        status = plan_simt(d, arch, t, p, why, why_size);
    p->forced_refused = refused;
    return status;
}

/* ---- Attention ---- */

int cuda_attention_serving(const xhal_attention_desc_t *d) {
    return xhal_gpu_attention_serving(d);
}

int cuda_attention_tma_layout(const xhal_attention_strides_t *s, int64_t batch, int64_t heads,
                              int64_t seq, int64_t head_dim, int *order, int64_t extents[3],
                              int64_t strides_out[3]) {
    int ids[3] = {0, 1, 2};
    const int64_t extent[3] = {seq, heads, batch}, stride[3] = {s->seq, s->head, s->batch};
    /* Sort by stride, axes of extent 1 last (their stride is never used to step). */
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++) {
            int a = ids[i], b = ids[j];
            int64_t ka = extent[a] == 1 ? INT64_MAX : stride[a];
            int64_t kb = extent[b] == 1 ? INT64_MAX : stride[b];
            if (kb < ka) {
                ids[i] = b;
                ids[j] = a;
            }
        }
    int64_t covered = head_dim; /* elements one step of the previous axis must clear */
    *order = 0;
    for (int i = 0; i < 3; i++) {
        int id = ids[i];
        int64_t st = extent[id] == 1 ? covered : stride[id];
        if (st < covered || st % 8 != 0 || st >= (1ll << 37)) return 0;
        extents[i] = extent[id];
        strides_out[i] = st;
        covered = st * extent[id];
        *order |= id << (2 * i);
    }
    return 1;
}

static int fa2_block_n(int64_t head_dim) {
#define FA2_BN(D, BN)                                                                              \
    if (head_dim == D) return BN;
    XK_ATTENTION_FA2_CONFIGS(FA2_BN)
#undef FA2_BN
    return 0;
}

/* The split-KV decode part of a plan, for sequences of up to `max_q` queries. */
static int plan_decode(const xhal_attention_desc_t *d, const cuda_arch_t *arch,
                       const cuda_tuning_t *t, int bn, int64_t max_q, cuda_attention_plan_t *p,
                       char *why, size_t why_size) {
    /* Rows are (query head of the group, query) pairs of one KV head; the keys are split until
     * about 4 blocks per multiprocessor are in flight. */
    int64_t group = d->heads_q / d->heads_kv;
    int64_t rows = group * min64(d->seq_q, max_q);
    if (ceil_div(rows, 64) > GRID_X_MAX) {
        snprintf(why, why_size, "cuda: attention decode of %lld rows per KV head is too large",
                 (long long)rows);
        return -1;
    }
    p->decode_row_blocks = (int)ceil_div(rows, 64);
    int64_t base = d->batch * d->heads_kv * p->decode_row_blocks;
    int64_t min_keys = max64(t->attention_min_keys_per_split, bn);
    int64_t splits = 1;
    if (base < 4ll * arch->sms) splits = ceil_div(4ll * arch->sms, base);
    splits = max64(1, min64(splits, ceil_div(d->seq_kv, min_keys)));
    p->keys_per_split = ceil_div(ceil_div(d->seq_kv, splits), bn) * bn;
    p->splits = (int)ceil_div(d->seq_kv, p->keys_per_split);
    p->decode_grid = (uint32_t)min64(base * p->splits, GRID_X_MAX);
    /* Partials per row as the LSE numbers rows: a packed Q is one sequence of seq_q rows. */
    xhal_gpu_decode_workspace(d, p->splits, &p->stats_offset, &p->workspace_bytes);
    p->combine_grid = (uint32_t)min64(ceil_div(xhal_gpu_attention_rows(d), 4), GRID_X_MAX);
    return 0;
}

int cuda_plan_attention(const xhal_attention_desc_t *d, const cuda_arch_t *arch,
                        const cuda_tuning_t *t, const char *force, cuda_attention_plan_t *p,
                        char *why, size_t why_size) {
    memset(p, 0, sizeof(*p));
    int bn = fa2_block_n(d->head_dim);
    int tensor_ok = arch->cc_major >= 8 && d->dtype != XHAL_DTYPE_F32 && bn > 0 &&
                    xhal_gpu_attention_rows_aligned(d) &&
                    XK_ATTENTION_FA2_SMEM(d->head_dim, bn) <= arch->smem_optin &&
                    d->seq_q <= GRID_X_MAX && d->seq_kv <= GRID_X_MAX;
    /* The wgmma prefill kernel: sm_90a, head_dim 64 or 128, Q, K and V describable by TMA, and
     * no serving feature. */
    int64_t ext[3], str[3];
    int wgmma_ok = tensor_ok && !cuda_attention_serving(d) && t->attention_sm90 && arch->has_sm90 &&
                   arch->cc_major == 9 && arch->cc_minor == 0 &&
                   (d->head_dim == 64 || d->head_dim == 128) &&
                   XK_ATTENTION_SM90_SMEM(d->head_dim) <= arch->smem_optin &&
                   d->batch * d->heads_q * ceil_div(d->seq_q, 128) <= GRID_X_MAX &&
                   cuda_attention_tma_layout(&d->q_strides, d->batch, d->heads_q, d->seq_q,
                                             d->head_dim, &p->tma_order[0], ext, str) &&
                   cuda_attention_tma_layout(&d->k_strides, d->batch, d->heads_kv, d->seq_kv,
                                             d->head_dim, &p->tma_order[1], ext, str) &&
                   cuda_attention_tma_layout(&d->v_strides, d->batch, d->heads_kv, d->seq_kv,
                                             d->head_dim, &p->tma_order[2], ext, str);
    int64_t max_q = t->attention_decode_max_queries;
    cuda_attention_kind_t kind = CUDA_ATTENTION_SIMPLE;
    if (tensor_ok && d->seq_q <= max_q)
        kind = CUDA_ATTENTION_DECODE;
    else if (tensor_ok)
        kind = wgmma_ok ? CUDA_ATTENTION_SM90 : CUDA_ATTENTION_FA2;
    if (force && *force && strcmp(force, "auto") != 0) {
        if (strcmp(force, "simple") == 0)
            kind = CUDA_ATTENTION_SIMPLE;
        else if (strcmp(force, "fa2") == 0 && tensor_ok)
            kind = CUDA_ATTENTION_FA2;
        else if (strcmp(force, "decode") == 0 && tensor_ok)
            kind = CUDA_ATTENTION_DECODE;
        else if (strcmp(force, "sm90") == 0 && wgmma_ok)
            kind = CUDA_ATTENTION_SM90;
        else
            p->forced_refused = 1;
    }
    p->kind = kind;
    if (kind == CUDA_ATTENTION_SIMPLE) {
        int64_t rows = xhal_gpu_attention_rows(d);
        snprintf(p->kernel, sizeof p->kernel, "xk_attention_simple");
        p->threads = 128;
        p->grid = (uint32_t)min64(ceil_div(rows, 4), GRID_X_MAX);
        return 0;
    }
    if (kind == CUDA_ATTENTION_SM90) {
        snprintf(p->kernel, sizeof p->kernel, "xk_attention_sm90_%s_d%lld",
                 xhal_gpu_dtype_tag(d->dtype), (long long)d->head_dim);
        p->threads = 384;
        p->smem = XK_ATTENTION_SM90_SMEM((int)d->head_dim);
        p->splits = 1;
        p->row_blocks = (int)ceil_div(d->seq_q, 128);
        p->grid = (uint32_t)(d->batch * d->heads_q * p->row_blocks); /* heaviest first */
        p->keys_per_split = d->seq_kv;
        return 0;
    }
    snprintf(p->kernel, sizeof p->kernel, "xk_attention_fa2_%s_d%lld", xhal_gpu_dtype_tag(d->dtype),
             (long long)d->head_dim);
    p->threads = 128;
    p->smem = XK_ATTENTION_FA2_SMEM((int)d->head_dim, bn);
    p->splits = 1;
    if (kind == CUDA_ATTENTION_DECODE) {
        p->q_split = INT64_MAX; /* every sequence, whatever its length */
        if (plan_decode(d, arch, t, bn, d->seq_q, p, why, why_size) != 0) return -1;
        p->row_blocks = p->decode_row_blocks;
        p->grid = p->decode_grid;
        return 0;
    }
    /* Prefill; with packed Q (auto), the sequences of up to max_q queries are decode's. */
    p->row_blocks = (int)ceil_div(d->seq_q, 64);
    int64_t items = (d->cu_seqlens_q ? 1 : d->batch) * d->heads_q * p->row_blocks;
    p->grid = (uint32_t)min64(items, GRID_X_MAX);
    p->keys_per_split = d->seq_kv;
    if (!d->cu_seqlens_q || (force && strcmp(force, "fa2") == 0)) return 0;
    p->decode_too = 1;
    p->q_split = max_q;
    return plan_decode(d, arch, t, bn, max_q, p, why, why_size);
}
