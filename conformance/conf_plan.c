/*
 * The utilization cases, sized to the device. A case is estimated at the peaks in use
 * (max(FLOPs / peak FLOP/s, bytes / peak bandwidth)); one over the per-case budget is scaled
 * down where that keeps its meaning (the square GEMM ladder, the token count of a prefill) and
 * otherwise left out with a note saying why, so that the same command runs in about a minute on a
 * two-core CPU (--quick) and covers the whole table on an H100, whose budget lets 8192 x 28672
 * prefill and 32k-token decode through.
 *
 * Shapes: square GEMMs; the projections of 8B- and 70B-class models (k x n = 4096x4096,
 * 4096x14336, 14336x4096, 8192x8192, 8192x28672; weights stored [n, k] as in PyTorch, so B is
 * transposed) at prefill (m = 2048 tokens) and decode (m = 1, 16, 64), and the 8B MLP ones with
 * quantized weights (INT4 groups of 128, INT8, FP8 E4M3) at m = 1, 16, 2048; 70B-class attention
 * (64 query heads over 8 KV heads: GQA 8:1, head_dim 128, causal) prefill at 512-8192 tokens and
 * decode over 1k-32k of KV with batch 1-64, plus head_dim 64; serving shapes (a decode batch of
 * 64 over a paged cache, varlen and chunked prefill: conf_serving.c); one large device-to-device
 * copy.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"

/* Defaults a device without known peaks is planned with (measured peaks replace them). */
#define ASSUMED_FLOPS 50e9
#define ASSUMED_BANDWIDTH 10e9

typedef struct plan {
    const conf_plan_env_t *env;
    conf_plan_item_t *items;
    size_t count, capacity;
    int failed; /* out of memory */
} plan_t;

static unsigned dtype_mask(const plan_t *p, unsigned defaults) {
    return p->env->options->dtypes ? p->env->options->dtypes : defaults;
}

static int op_selected(const plan_t *p, conf_op_t op) {
    unsigned ops = p->env->options->ops;
    return ops == 0 || (ops & (1u << op));
}

static double peak_flops(const plan_t *p, xhal_dtype_t dtype) {
    double f = p->env->peaks->flops[dtype];
    return f > 0 ? f : ASSUMED_FLOPS;
}

static double peak_bandwidth(const plan_t *p) {
    double b = p->env->peaks->bandwidth;
    return b > 0 ? b : ASSUMED_BANDWIDTH;
}

static double estimate(const plan_t *p, xhal_dtype_t dtype, double flops, double bytes) {
    double compute = flops / peak_flops(p, dtype), memory = bytes / peak_bandwidth(p);
    return compute > memory ? compute : memory;
}

/* Appends an item with its id, group and op set; NULL when the filter drops it or memory ran out.
 */
static conf_plan_item_t *add(plan_t *p, conf_op_t op, xhal_dtype_t dtype, const char *group,
                             const char *id) {
    const char *filter = p->env->options->case_filter;
    if (filter && *filter && !strstr(id, filter)) return NULL;
    if (p->count == p->capacity) {
        size_t capacity = p->capacity ? 2 * p->capacity : 64;
        conf_plan_item_t *grown = realloc(p->items, capacity * sizeof *grown);
        if (!grown) {
            p->failed = 1;
            return NULL;
        }
        p->items = grown;
        p->capacity = capacity;
    }
    conf_plan_item_t *item = &p->items[p->count++];
    memset(item, 0, sizeof *item);
    item->result.op = op;
    item->result.dtype = dtype;
    item->result.outcome = CONF_PASS;
    item->result.ms = item->result.ms_min = NAN;
    conf_format(item->result.group, sizeof item->result.group, "%s", group);
    conf_format(item->result.id, sizeof item->result.id, "%s", id);
    return item;
}

/* Marks an item SKIP when its estimate or its memory is over budget. */
static void judge_budget(const plan_t *p, conf_plan_item_t *item, double alloc_bytes) {
    conf_perf_t *r = &item->result;
    item->estimate_s = estimate(p, r->dtype, r->flops, r->bytes);
    /* 2x slack: the budget is for the estimate at peak, which a good kernel nearly reaches. */
    if (item->estimate_s > 2 * p->env->budget_s) {
        r->outcome = CONF_SKIP;
        conf_format(r->note, sizeof r->note,
                    "over this device's time budget: ~%.3g s per run at peak, budget %.3g s%s",
                    item->estimate_s, p->env->budget_s,
                    p->env->options->quick ? " (--quick; the full run allows more)" : "");
    } else if (alloc_bytes > (double)p->env->memory_budget) {
        r->outcome = CONF_SKIP;
        conf_format(r->note, sizeof r->note, "needs %.2f GB, over the memory budget of %.2f GB",
                    alloc_bytes * 1e-9, (double)p->env->memory_budget * 1e-9);
    }
}

static void gemm_item(plan_t *p, conf_plan_item_t *item, int64_t m, int64_t n, int64_t k,
                      int trans_b) {
    xhal_gemm_desc_init(&item->gemm, m, n, k, item->result.dtype);
    item->gemm.trans_b = trans_b;
    item->gemm.ldb = trans_b ? k : n;
    item->result.flops = conf_gemm_flops(&item->gemm);
    item->result.bytes = conf_gemm_bytes(&item->gemm);
    judge_budget(p, item, item->result.bytes);
}

/* ---- GEMM ---- */

static void plan_square(plan_t *p) {
    unsigned dtypes = dtype_mask(p, p->env->options->quick ? 0x5u : 0x7u); /* f32, bf16 (+f16) */
    static const char *const sizes[] = {"s", "m", "l"};
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (!(dtypes & (1u << t))) continue;
        /* The largest power of two whose 2 n^3 fits the budget at peak. */
        double n_fit = cbrt(p->env->budget_s * peak_flops(p, (xhal_dtype_t)t) / 2.0);
        int64_t n_max = 128;
        while (n_max * 2 <= n_fit && n_max < 16384)
            n_max *= 2;
        for (int s = 0; s < 3; s++) {
            int64_t n = n_max >> (2 - s);
            char id[48];
            conf_format(id, sizeof id, "gemm.square-%s", sizes[s]);
            conf_plan_item_t *item = add(p, CONF_OP_GEMM, (xhal_dtype_t)t, "square", id);
            if (!item) continue;
            conf_format(item->result.shape, sizeof item->result.shape, "%lldx%lldx%lld NN",
                        (long long)n, (long long)n, (long long)n);
            gemm_item(p, item, n, n, n, 0);
        }
    }
}

typedef struct projection {
    int64_t k, n;
} projection_t;

static const projection_t projections[] = {
    {4096, 4096}, {4096, 14336}, {14336, 4096}, {8192, 8192}, {8192, 28672},
};

static void plan_llm(plan_t *p) {
    unsigned dtypes = dtype_mask(p, 1u << XHAL_DTYPE_BF16);
    static const int64_t decode_m[] = {1, 16, 64};
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (!(dtypes & (1u << t))) continue;
        xhal_dtype_t dtype = (xhal_dtype_t)t;
        for (size_t s = 0; s < sizeof projections / sizeof projections[0]; s++) {
            int64_t k = projections[s].k, n = projections[s].n;
            char id[48];
            conf_format(id, sizeof id, "gemm.prefill.%lldx%lld", (long long)k, (long long)n);
            conf_plan_item_t *item = add(p, CONF_OP_GEMM, dtype, "llm-prefill", id);
            if (item) {
                /* Fewer tokens until the estimate fits; 128 is still a prefill, not a decode. */
                int64_t m = 2048;
                while (m > 128 && estimate(p, dtype, 2.0 * m * n * k, 0) > p->env->budget_s)
                    m /= 2;
                conf_format(item->result.shape, sizeof item->result.shape,
                            "m=%lld%s n=%lld k=%lld NT", (long long)m, m < 2048 ? "/2048" : "",
                            (long long)n, (long long)k);
                gemm_item(p, item, m, n, k, 1);
            }
            for (size_t d = 0; d < sizeof decode_m / sizeof decode_m[0]; d++) {
                int64_t m = decode_m[d];
                conf_format(id, sizeof id, "gemm.decode-m%lld.%lldx%lld", (long long)m,
                            (long long)k, (long long)n);
                item = add(p, CONF_OP_GEMM, dtype, "llm-decode", id);
                if (!item) continue;
                conf_format(item->result.shape, sizeof item->result.shape,
                            "m=%lld n=%lld k=%lld NT", (long long)m, (long long)n, (long long)k);
                gemm_item(p, item, m, n, k, 1);
            }
        }
    }
}

/*
 * Weight-only quantized projections (B stored n x k, activations bf16 by default): INT4 in
 * groups of 128 (the AWQ/GPTQ shape), INT8 and FP8 E4M3 per channel, all with bf16 scales, at
 * decode (m = 1, 16) and prefill. Bytes count the quantized weights and scales (conf_metrics.c),
 * so a decode case's MBU says how close it streams what it must read.
 */
typedef struct quant_format {
    const char *name;
    xhal_quant_t quant;
    xhal_scale_mode_t mode;
    int64_t group;
} quant_format_t;

static const quant_format_t quant_formats[] = {
    {"q4g128", XHAL_QUANT_INT4, XHAL_SCALE_PER_GROUP, 128},
    {"q8", XHAL_QUANT_INT8, XHAL_SCALE_PER_CHANNEL, 0},
    {"e4m3", XHAL_QUANT_FP8_E4M3, XHAL_SCALE_PER_CHANNEL, 0},
};

/* `full_m`: the m the case stands for (prefill scaled down to fit says so in its shape). */
static void quant_item(plan_t *p, conf_plan_item_t *item, const quant_format_t *f, int64_t m,
                       int64_t full_m, int64_t n, int64_t k) {
    xhal_gemm_desc_t *d = &item->gemm;
    xhal_gemm_desc_init(d, m, n, k, item->result.dtype);
    d->trans_b = 1;
    d->ldb = f->quant == XHAL_QUANT_INT4 ? (k + 1) / 2 * 2 : k;
    d->b_quant = f->quant;
    d->b_scale_mode = f->mode;
    d->b_group_size = f->group;
    d->b_scale_type = XHAL_DTYPE_BF16;
    char scaled[24] = "";
    if (m < full_m) conf_format(scaled, sizeof scaled, "/%lld", (long long)full_m);
    conf_format(item->result.shape, sizeof item->result.shape, "m=%lld%s n=%lld k=%lld NT %s",
                (long long)m, scaled, (long long)n, (long long)k, f->name);
    item->result.flops = conf_gemm_flops(d);
    item->result.bytes = conf_gemm_bytes(d);
    judge_budget(p, item, item->result.bytes);
}

static void plan_llm_quant(plan_t *p) {
    unsigned dtypes = dtype_mask(p, 1u << XHAL_DTYPE_BF16);
    static const int64_t decode_m[] = {1, 16};
    static const projection_t shapes[] = {{4096, 14336}, {14336, 4096}};
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (!(dtypes & (1u << t))) continue;
        xhal_dtype_t dtype = (xhal_dtype_t)t;
        for (size_t f = 0; f < sizeof quant_formats / sizeof quant_formats[0]; f++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
                const quant_format_t *q = &quant_formats[f];
                int64_t k = shapes[s].k, n = shapes[s].n;
                char id[48];
                /* --quick: decode at m = 1, and one prefill. */
                int quick = p->env->options->quick;
                for (size_t d = 0; d < (quick ? 1 : sizeof decode_m / sizeof decode_m[0]); d++) {
                    conf_format(id, sizeof id, "gemm.decode-m%lld.%s.%lldx%lld",
                                (long long)decode_m[d], q->name, (long long)k, (long long)n);
                    conf_plan_item_t *item = add(p, CONF_OP_GEMM, dtype, "llm-decode", id);
                    if (item) quant_item(p, item, q, decode_m[d], decode_m[d], n, k);
                }
                if (quick && (f > 0 || s > 0)) continue;
                conf_format(id, sizeof id, "gemm.prefill.%s.%lldx%lld", q->name, (long long)k,
                            (long long)n);
                conf_plan_item_t *item = add(p, CONF_OP_GEMM, dtype, "llm-prefill", id);
                if (!item) continue;
                int64_t m = 2048; /* fewer tokens until the estimate fits, as dense prefill */
                while (m > 128 && estimate(p, dtype, 2.0 * m * n * k, 0) > p->env->budget_s)
                    m /= 2;
                quant_item(p, item, q, m, 2048, n, k);
            }
    }
}

/* ---- Attention ---- */

static void attention_item(plan_t *p, conf_plan_item_t *item, int64_t batch, int64_t heads_q,
                           int64_t heads_kv, int64_t seq_q, int64_t seq_kv, int64_t head_dim,
                           int causal, xhal_layout_t layout) {
    xhal_attention_desc_t *d = &item->attention;
    xhal_attention_desc_init(d, batch, heads_q, heads_kv, seq_q, seq_kv, head_dim,
                             item->result.dtype, layout);
    d->causal = causal;
    conf_format(item->result.shape, sizeof item->result.shape,
                "b%lld hq%lld hkv%lld sq%lld skv%lld d%lld%s", (long long)batch, (long long)heads_q,
                (long long)heads_kv, (long long)seq_q, (long long)seq_kv, (long long)head_dim,
                causal ? " causal" : "");
    item->result.flops = conf_attention_flops(d);
    item->result.bytes = conf_attention_bytes(d);
    judge_budget(p, item, item->result.bytes);
}

typedef struct prefill_case {
    int64_t seq, heads_q, heads_kv, head_dim;
    int causal, quick;
} prefill_case_t;

static const prefill_case_t prefills[] = {
    {512, 64, 8, 128, 1, 1},  {1024, 64, 8, 128, 1, 1}, {2048, 64, 8, 128, 1, 1},
    {4096, 64, 8, 128, 1, 0}, {8192, 64, 8, 128, 1, 0}, {2048, 64, 8, 128, 0, 0},
    {1024, 32, 4, 64, 1, 1},  {4096, 32, 4, 64, 1, 0},
};

typedef struct decode_case {
    int64_t kv, batch;
    int quick;
} decode_case_t;

static const decode_case_t decodes[] = {
    {1024, 1, 1},  {1024, 8, 0},  {1024, 64, 0},  {4096, 1, 0},  {4096, 8, 1},  {4096, 64, 0},
    {16384, 1, 1}, {16384, 8, 0}, {16384, 64, 0}, {32768, 1, 0}, {32768, 8, 1}, {32768, 64, 0},
};

static void plan_attention(plan_t *p) {
    unsigned dtypes = dtype_mask(p, 1u << XHAL_DTYPE_BF16);
    int quick = p->env->options->quick;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (!(dtypes & (1u << t))) continue;
        for (size_t i = 0; i < sizeof prefills / sizeof prefills[0]; i++) {
            const prefill_case_t *c = &prefills[i];
            if (quick && !c->quick) continue;
            char id[48];
            conf_format(id, sizeof id, "attn.prefill%s.s%lld.d%lld", c->causal ? "" : "-full",
                        (long long)c->seq, (long long)c->head_dim);
            conf_plan_item_t *item = add(p, CONF_OP_ATTENTION, (xhal_dtype_t)t, "attn-prefill", id);
            if (item)
                attention_item(p, item, 1, c->heads_q, c->heads_kv, c->seq, c->seq, c->head_dim,
                               c->causal, XHAL_LAYOUT_BSHD);
        }
        for (size_t i = 0; i < sizeof decodes / sizeof decodes[0]; i++) {
            const decode_case_t *c = &decodes[i];
            if (quick && !c->quick) continue;
            char id[48];
            conf_format(id, sizeof id, "attn.decode.kv%lld.b%lld", (long long)c->kv,
                        (long long)c->batch);
            conf_plan_item_t *item = add(p, CONF_OP_ATTENTION, (xhal_dtype_t)t, "attn-decode", id);
            /* A KV cache is [batch, head, seq, dim]: BHSD. */
            if (item) attention_item(p, item, c->batch, 64, 8, 1, c->kv, 128, 1, XHAL_LAYOUT_BHSD);
        }
    }
}

/* ---- Serving attention (conf_serving.c) ---- */

typedef struct serving_case {
    const char *id, *group;
    conf_serving_t shape;
    int64_t floor; /* the longest length is halved to fit the budget, but not below this */
    int quick;
} serving_case_t;

/* 70B-class heads; decode batches of 64 with 128 .. 32k keys, paged and packed alike (the
 * paged kernel is held to the packed one's bytes/s), a packed prefill of 4 lengths from 256 to
 * 2048 (held to the dense prefill's FLOP/s), and 4 chunks of 512 queries over 0.5k .. 8k of
 * paged context. */
static const serving_case_t servings[] = {
    {.id = "attn.decode-paged.b64",
     .group = "attn-decode",
     .shape = {CONF_SERVING_DECODE_PAGED, 64, 128, 32768, 0, 16, XHAL_LAYOUT_BSHD},
     .floor = 1024,
     .quick = 1},
    {.id = "attn.decode-packed.b64",
     .group = "attn-decode",
     .shape = {CONF_SERVING_DECODE_PACKED, 64, 128, 32768, 0, 0, XHAL_LAYOUT_BSHD},
     .floor = 1024,
     .quick = 1},
    {.id = "attn.prefill-varlen.b4",
     .group = "attn-prefill",
     .shape = {CONF_SERVING_PREFILL_VARLEN, 4, 256, 2048, 0, 0, XHAL_LAYOUT_BSHD},
     .floor = 512,
     .quick = 1},
    {.id = "attn.chunked-prefill-paged.b4",
     .group = "attn-prefill",
     .shape = {CONF_SERVING_CHUNKED_PAGED, 4, 512, 8192, 512, 16, XHAL_LAYOUT_BSHD},
     .floor = 1024},
};

/* Builds the shape (halving its lengths until the estimate fits) into the item. */
static void serving_item(plan_t *p, conf_plan_item_t *item, const serving_case_t *c) {
    conf_serving_t shape = c->shape;
    xhal_attention_desc_t d;
    conf_serving_arrays_t a;
    for (;;) {
        xhal_attention_desc_init(&d, 1, 64, 8, 1, 1, 128, item->result.dtype, XHAL_LAYOUT_BSHD);
        if (conf_serving_build(&shape, &d, &a) != 0) {
            p->failed = 1;
            return;
        }
        item->result.flops = conf_serving_flops(&d, &a);
        item->result.bytes = conf_serving_bytes(&d, &a);
        double seconds = estimate(p, item->result.dtype, item->result.flops, item->result.bytes);
        conf_serving_free(&a);
        if (seconds <= p->env->budget_s || shape.max_len / 2 < c->floor) break;
        /* Every length halves (the shortest no further than 16): the same mix, smaller. */
        shape.max_len /= 2;
        shape.min_len = shape.min_len / 2 < 16 ? 16 : shape.min_len / 2;
        shape.chunk /= 2;
    }
    item->serving = shape;
    item->attention = d;
    conf_format(item->result.shape, sizeof item->result.shape,
                "b%lld hq64 hkv8 d128 %s %lld..%lld%s%s", (long long)shape.batch,
                shape.kind == CONF_SERVING_PREFILL_VARLEN ? "q=kv" : "kv", (long long)shape.min_len,
                (long long)shape.max_len, shape.max_len < c->shape.max_len ? " (scaled)" : "",
                shape.block_size ? " paged bs16"
                : shape.chunk    ? ""
                                 : " packed");
    if (shape.chunk)
        conf_append(item->result.shape, sizeof item->result.shape, " +%lld q",
                    (long long)shape.chunk);
    judge_budget(p, item, item->result.bytes);
}

static void plan_serving(plan_t *p) {
    unsigned dtypes = dtype_mask(p, 1u << XHAL_DTYPE_BF16);
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (!(dtypes & (1u << t))) continue;
        for (size_t i = 0; i < sizeof servings / sizeof servings[0]; i++) {
            if (p->env->options->quick && !servings[i].quick) continue;
            conf_plan_item_t *item =
                add(p, CONF_OP_ATTENTION, (xhal_dtype_t)t, servings[i].group, servings[i].id);
            if (item) serving_item(p, item, &servings[i]);
        }
    }
}

/* ---- Copy ---- */

static void plan_copy(plan_t *p) {
    conf_plan_item_t *item = add(p, CONF_OP_COPY, XHAL_DTYPE_F32, "copy", "copy.d2d");
    if (!item) return;
    /* Large enough that no cache holds it (MI300X has 256 MiB of Infinity Cache). */
    uint64_t bytes = (p->env->options->quick ? 512ull : 1024ull) << 20;
    /* Halved to fit memory and the time budget, but never below 64 MiB (any L2, most L3s). */
    while (bytes > (64ull << 20) &&
           (2 * bytes > p->env->memory_budget ||
            2.0 * (double)bytes / peak_bandwidth(p) > 2 * p->env->budget_s))
        bytes /= 2;
    item->copy_bytes = bytes;
    conf_format(item->result.shape, sizeof item->result.shape, "%llu MiB",
                (unsigned long long)(bytes >> 20));
    item->result.flops = 0;
    item->result.bytes = 2.0 * (double)bytes; /* read + written */
    judge_budget(p, item, 2.0 * (double)bytes);
}

long conf_plan_build(const conf_plan_env_t *env, conf_plan_item_t **out) {
    plan_t p = {.env = env};
    if (op_selected(&p, CONF_OP_GEMM)) {
        plan_square(&p);
        plan_llm(&p);
        plan_llm_quant(&p);
    }
    if (op_selected(&p, CONF_OP_ATTENTION)) {
        plan_attention(&p);
        plan_serving(&p);
    }
    if (op_selected(&p, CONF_OP_COPY)) plan_copy(&p);
    if (p.failed) {
        free(p.items);
        *out = NULL;
        return -1;
    }
    *out = p.items;
    return (long)p.count;
}
