/*
 * Kernel choice for GEMM and attention on AMD GPUs (see hip_plan.h). The rules, in order:
 *
 * GEMM: a decode-shaped GEMM (m <= gemm_gemv_max_m, 16-bit B with 16-byte aligned rows) runs the
 * portable GEMV kernels at memory speed. Otherwise, on CDNA, f16/bf16 with A and B of one type
 * and 16-byte aligned rows runs on the matrix cores: the skinny tile for m <= gemm_skinny_max_m,
 * the large tile when it gives every compute unit a tile, else the small one, split along k
 * when even that leaves compute units idle. Everything else (f32, mixed A/B types, odd
 * alignment, RDNA and GCN) runs the exact SIMT kernel, also split along k when that helps.
 *
 * Attention: on CDNA, f16/bf16 with head_dim 64, 128 or 256, 16-byte aligned rows and no serving
 * feature runs on the matrix cores, as split-KV decode when seq_q <= attention_decode_max_queries,
 * else as prefill; the rest runs the exact kernel, which runs every serving feature (the MFMA
 * kernels read dense tensors and write no LSE).
 *
 * Grids: HIP counts a dispatch's work-items in 32 bits, so blocks x threads must stay below 2^32
 * along x; kernels that loop over their work (attention, GEMV, batches on y) get a clamped grid,
 * tiled GEMMs (one block per tile) refuse a larger one.
 */
#include "hip_plan.h"

#include <stdio.h>
#include <string.h>

#include "gpu_plan.h"
#include "xk_hip_configs.h"

#define GRID_ITEMS_MAX 4294967295ll /* work-items along x of one dispatch */
#define GRID_Y_MAX 65535ll

typedef struct {
    const char *name;
    int bm, bn, bk, wm, wn;
} mfma_config_t;

#define MFMA_ROW(name, BM, BN, BK, WM, WN) {#name, BM, BN, BK, WM, WN},
static const mfma_config_t mfma_configs[] = {XK_HIP_GEMM_CONFIGS(MFMA_ROW)};
#undef MFMA_ROW
#define MFMA_CONFIG_COUNT (sizeof mfma_configs / sizeof mfma_configs[0])

static int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

/* ---- Architecture ---- */

int hip_arch_has_mfma(const char *gfx) {
    static const char *const cdna[] = {"gfx908", "gfx90a", "gfx940", "gfx941", "gfx942", "gfx950"};
    for (size_t i = 0; i < sizeof cdna / sizeof cdna[0]; i++)
        if (strcmp(gfx, cdna[i]) == 0) return 1;
    return 0;
}

void hip_arch_target(const char *gcn_arch_name, char *out, size_t size) {
    size_t n = strcspn(gcn_arch_name, ":");
    if (n >= size) n = size - 1;
    memcpy(out, gcn_arch_name, n);
    out[n] = '\0';
}

/* ---- Tuning ---- */

void hip_tuning_defaults(hip_tuning_t *t) {
    memset(t, 0, sizeof(*t));
    snprintf(t->gemm_large, sizeof t->gemm_large, "%s", mfma_configs[0].name);
    snprintf(t->gemm_small, sizeof t->gemm_small, "%s", mfma_configs[1].name);
    snprintf(t->gemm_skinny, sizeof t->gemm_skinny, "%s", mfma_configs[MFMA_CONFIG_COUNT - 1].name);
    t->gemm_skinny_max_m = 32;
    t->gemm_group_m = 8;
    t->gemm_splitk_max = 16;
    t->gemm_gemv_max_m = 16;
    t->attention_decode_max_queries = 16;
    t->attention_min_keys_per_split = 256;
}

const char *hip_gemm_kind_name(hip_gemm_kind_t kind) {
    switch (kind) {
    case HIP_GEMM_SIMT:
        return "simt";
    case HIP_GEMM_MFMA:
        return "mfma";
    case HIP_GEMM_GEMV_N:
    case HIP_GEMM_GEMV_T:
        return "gemv";
    }
    return "unknown";
}

const char *hip_attention_kind_name(hip_attention_kind_t kind) {
    switch (kind) {
    case HIP_ATTENTION_SIMPLE:
        return "simple";
    case HIP_ATTENTION_PREFILL:
        return "prefill";
    case HIP_ATTENTION_DECODE:
        return "decode";
    }
    return "unknown";
}

/* ---- GEMM ---- */

static const mfma_config_t *mfma_config(const char *name) {
    for (size_t i = 0; i < MFMA_CONFIG_COUNT; i++)
        if (strcmp(mfma_configs[i].name, name) == 0) return &mfma_configs[i];
    return &mfma_configs[0];
}

static int mfma_fits(const mfma_config_t *c, const hip_arch_t *arch) {
    return XK_HIP_GEMM_LDS(c->bm, c->bn, c->bk) <= arch->lds_bytes;
}

static int mfma_ok(const xhal_gemm_desc_t *d, const hip_arch_t *arch, const hip_tuning_t *t) {
    return arch->mfma && d->a_type == d->b_type &&
           xhal_gpu_rows_aligned16(d->a_type, d->lda, d->stride_a, d->a_offset) &&
           xhal_gpu_rows_aligned16(d->b_type, d->ldb, d->stride_b, d->b_offset) &&
           mfma_fits(mfma_config(t->gemm_small), arch) &&
           mfma_fits(mfma_config(t->gemm_skinny), arch);
}

static int gemv_ok(const xhal_gemm_desc_t *d, const hip_tuning_t *t) {
    return d->m <= t->gemm_gemv_max_m && d->m <= 16 &&
           xhal_gpu_rows_aligned16(d->b_type, d->ldb, d->stride_b, d->b_offset);
}

/* Tiles, split-K and grid of a tiled kernel (SIMT or MFMA), one block per tile and split. */
static int plan_tiled(const xhal_gemm_desc_t *d, const hip_arch_t *arch, const hip_tuning_t *t,
                      hip_gemm_plan_t *p, char *why, size_t why_size) {
    int64_t tiles_m = ceil_div(d->m, p->bm), tiles_n = ceil_div(d->n, p->bn);
    p->split_k = xhal_gpu_split_k(tiles_m * tiles_n * d->batch, d->k, p->bk, arch->cus,
                                  t->gemm_splitk_max, &p->k_per_split);
    int64_t blocks = tiles_m * tiles_n * p->split_k;
    if (blocks > GRID_ITEMS_MAX / p->threads) {
        snprintf(why, why_size, "hip: gemm of %lld x %lld needs more blocks than a grid holds",
                 (long long)d->m, (long long)d->n);
        return -1;
    }
    p->tiles_m = (int)tiles_m;
    p->tiles_n = (int)tiles_n;
    p->grid[0] = (uint32_t)blocks;
    p->grid[1] = (uint32_t)min64(d->batch, GRID_Y_MAX);
    p->grid[2] = 1;
    if (p->split_k > 1) p->workspace_bytes = (uint64_t)(d->batch * p->split_k * d->m * d->n) * 4u;
    return 0;
}

static int plan_gemv(const xhal_gemm_desc_t *d, const hip_arch_t *arch, const hip_tuning_t *t,
                     hip_gemm_plan_t *p) {
    xhal_gpu_gemv_plan_t g;
    p->threads = 256;
    xhal_gpu_plan_gemv(d, arch->cus, t->gemm_splitk_max, GRID_ITEMS_MAX / p->threads, &g);
    p->kind = d->trans_b ? HIP_GEMM_GEMV_T : HIP_GEMM_GEMV_N;
    p->split_k = g.split_k;
    p->k_per_split = g.k_per_split;
    memcpy(p->grid, g.grid, sizeof p->grid);
    p->workspace_bytes = g.workspace_bytes;
    snprintf(p->kernel, sizeof p->kernel, "%s", g.kernel);
    return 0;
}

static int plan_mfma(const xhal_gemm_desc_t *d, const hip_arch_t *arch, const hip_tuning_t *t,
                     hip_gemm_plan_t *p, char *why, size_t why_size) {
    const mfma_config_t *large = mfma_config(t->gemm_large);
    const mfma_config_t *c = mfma_config(t->gemm_small);
    if (d->m <= t->gemm_skinny_max_m)
        c = mfma_config(t->gemm_skinny);
    else if (mfma_fits(large, arch) &&
             ceil_div(d->m, large->bm) * ceil_div(d->n, large->bn) * d->batch >= arch->cus)
        c = large;
    p->kind = HIP_GEMM_MFMA;
    p->bm = c->bm;
    p->bn = c->bn;
    p->bk = c->bk;
    p->threads = XK_HIP_GEMM_THREADS(c->bm, c->bn, c->wm, c->wn);
    snprintf(p->kernel, sizeof p->kernel, "xk_gemm_mfma_%s_%s_%c%c", c->name,
             xhal_gpu_dtype_tag(d->a_type), d->trans_a ? 't' : 'n', d->trans_b ? 't' : 'n');
    return plan_tiled(d, arch, t, p, why, why_size);
}

static int plan_simt(const xhal_gemm_desc_t *d, const hip_arch_t *arch, const hip_tuning_t *t,
                     hip_gemm_plan_t *p, char *why, size_t why_size) {
    p->kind = HIP_GEMM_SIMT;
    p->bm = p->bn = 64;
    p->bk = 16;
    p->threads = 256;
    snprintf(p->kernel, sizeof p->kernel, "xk_gemm_simt");
    return plan_tiled(d, arch, t, p, why, why_size);
}

int hip_plan_gemm(const xhal_gemm_desc_t *d, const hip_arch_t *arch, const hip_tuning_t *t,
                  const char *force, hip_gemm_plan_t *p, char *why, size_t why_size) {
    memset(p, 0, sizeof(*p));
    p->group_m = t->gemm_group_m > 0 ? t->gemm_group_m : 1;
    int can_mfma = mfma_ok(d, arch, t), can_gemv = gemv_ok(d, t);
    int refused = 0;
    if (force && *force && strcmp(force, "auto") != 0) {
        if (strcmp(force, "simt") == 0) return plan_simt(d, arch, t, p, why, why_size);
        if (strcmp(force, "mfma") == 0 && can_mfma) return plan_mfma(d, arch, t, p, why, why_size);
        if (strcmp(force, "gemv") == 0 && can_gemv) return plan_gemv(d, arch, t, p);
        refused = 1;
    }
    int status;
    if (can_gemv)
        status = plan_gemv(d, arch, t, p);
    else if (can_mfma)
        status = plan_mfma(d, arch, t, p, why, why_size);
    else
        status = plan_simt(d, arch, t, p, why, why_size);
    p->forced_refused = refused;
    return status;
}

/* ---- Attention ---- */

/* The prefill key tile for head_dim d, 0 when there is no MFMA kernel for it. */
static int prefill_key_tile(int64_t d) {
#define PREFILL_BN(D, BN)                                                                          \
    if (d == (D)) return (BN);
    XK_HIP_ATTENTION_CONFIGS(PREFILL_BN)
#undef PREFILL_BN
    return 0;
}

/* Split-KV decode: every wavefront one (batch, KV head, 32 rows, key slice). */
static void plan_decode(const xhal_attention_desc_t *d, const hip_arch_t *arch,
                        const hip_tuning_t *t, hip_attention_plan_t *p) {
    const int waves = XK_HIP_ATTENTION_THREADS / XK_HIP_WAVE;
    int64_t rows = d->heads_q / d->heads_kv * d->seq_q;
    p->row_blocks = (int)ceil_div(rows, XK_HIP_ATTENTION_ROWS);
    int64_t base = d->batch * d->heads_kv * p->row_blocks;
    /* Enough wavefronts for 4 per SIMD (16 per compute unit), slices of at least min_keys. */
    int64_t min_keys = max64(t->attention_min_keys_per_split, XK_HIP_ATTENTION_ROWS);
    int64_t splits = max64(1, ceil_div(16ll * arch->cus, base));
    splits = max64(1, min64(splits, ceil_div(d->seq_kv, min_keys)));
    p->keys_per_split = ceil_div(ceil_div(d->seq_kv, splits), 32) * 32;
    p->splits = (int)ceil_div(d->seq_kv, p->keys_per_split);
    int64_t items = base * p->splits;
    p->grid = (uint32_t)min64(ceil_div(items, waves), GRID_ITEMS_MAX / p->threads);
    xhal_gpu_decode_workspace(d, p->splits, &p->stats_offset, &p->workspace_bytes);
    p->combine_grid =
        (uint32_t)min64(ceil_div(d->batch * d->heads_q * d->seq_q, 4), GRID_ITEMS_MAX / 128);
}

int hip_plan_attention(const xhal_attention_desc_t *d, const hip_arch_t *arch,
                       const hip_tuning_t *t, const char *force, hip_attention_plan_t *p, char *why,
                       size_t why_size) {
    (void)why;
    (void)why_size;
    memset(p, 0, sizeof(*p));
    int bn = prefill_key_tile(d->head_dim);
    int mfma = arch->mfma && d->dtype != XHAL_DTYPE_F32 && bn > 0 &&
               !xhal_gpu_attention_serving(d) && xhal_gpu_attention_rows_aligned(d) &&
               XK_HIP_ATTENTION_LDS(d->head_dim, bn) <= arch->lds_bytes;
    hip_attention_kind_t kind = HIP_ATTENTION_SIMPLE;
    if (mfma)
        kind = d->seq_q <= t->attention_decode_max_queries ? HIP_ATTENTION_DECODE
                                                           : HIP_ATTENTION_PREFILL;
    if (force && *force && strcmp(force, "auto") != 0) {
        if (strcmp(force, "simple") == 0)
            kind = HIP_ATTENTION_SIMPLE;
        else if (strcmp(force, "prefill") == 0 && mfma)
            kind = HIP_ATTENTION_PREFILL;
        else if (strcmp(force, "decode") == 0 && mfma)
            kind = HIP_ATTENTION_DECODE;
        else
            p->forced_refused = 1;
    }
    p->kind = kind;
    p->splits = 1;
    p->keys_per_split = d->seq_kv;
    if (kind == HIP_ATTENTION_SIMPLE) {
        snprintf(p->kernel, sizeof p->kernel, "xk_attention_simple");
        p->threads = 128;
        p->grid =
            (uint32_t)min64(ceil_div(xhal_gpu_attention_rows(d), 4), GRID_ITEMS_MAX / p->threads);
        return 0;
    }
    p->threads = XK_HIP_ATTENTION_THREADS;
    snprintf(p->kernel, sizeof p->kernel, "xk_attention_mfma_%s_%s_d%lld",
             kind == HIP_ATTENTION_DECODE ? "decode" : "prefill", xhal_gpu_dtype_tag(d->dtype),
             (long long)d->head_dim);
    if (kind == HIP_ATTENTION_DECODE) {
        plan_decode(d, arch, t, p);
        return 0;
    }
    p->row_blocks = (int)ceil_div(d->seq_q, 4 * XK_HIP_ATTENTION_ROWS);
    p->grid = (uint32_t)min64(d->batch * d->heads_q * p->row_blocks, GRID_ITEMS_MAX / p->threads);
    return 0;
}
