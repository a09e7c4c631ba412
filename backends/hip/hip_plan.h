/*
 * Which kernel runs a GEMM or an attention on an AMD GPU, with which tile, split and grid: pure
 * functions of the descriptor, the device's architecture and the tuning INI, with no runtime
 * call, so the host-side unit tests (tests/hip/) check every decision on a machine without a GPU.
 */
#ifndef XHAL_HIP_PLAN_H
#define XHAL_HIP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal.h"

/* What the plan needs to know about the device. */
typedef struct hip_arch {
    char gfx[32];  /* the target: "gfx942" (the runtime's feature suffixes removed) */
    int mfma;      /* CDNA: the MFMA kernels are in its code object (hip_arch_has_mfma) */
    int cus;       /* compute units */
    int lds_bytes; /* LDS a block may use */
} hip_arch_t;

/*
 * Whether `gfx` has the MFMA instructions the CDNA kernels use (gfx908, gfx90a, gfx940, gfx941,
 * gfx942, gfx950): the same list as XK_HAVE_MFMA in kernels/hip/xk_mfma.cuh.
 */
int hip_arch_has_mfma(const char *gfx);

/* The target of a runtime architecture name: "gfx90a:sramecc+:xnack-" -> "gfx90a". */
void hip_arch_target(const char *gcn_arch_name, char *out, size_t size);

/* kernels/tuning/hip.ini, resolved for one device: [default], then [gfxNNN], then [<name>]. */
typedef struct hip_tuning {
    char gemm_large[32];  /* MFMA config for grids that fill the GPU ("128x128x32") */
    char gemm_small[32];  /* and for those that do not ("64x64x32") */
    char gemm_skinny[32]; /* for m <= gemm_skinny_max_m ("32x128x64") */
    int gemm_skinny_max_m;
    int gemm_group_m;                 /* tile rows walked together (L2 reuse of B) */
    int gemm_splitk_max;              /* most k splits of one GEMM */
    int gemm_gemv_max_m;              /* m up to this runs the GEMV kernels (<= 16) */
    int attention_decode_max_queries; /* seq_q up to this runs split-KV decode */
    int attention_min_keys_per_split;
} hip_tuning_t;

void hip_tuning_defaults(hip_tuning_t *tuning);

struct xc_ini;

/*
 * Applies a parsed tuning file (named `source` in errors) for target `gfx` and a device named
 * `device_name` on top of *tuning, in the sections' order of backends/common/xc_tuning.h
 * ([default], [<gfx>], a `match` section, [<device name>]). Returns 0, or -1 with `error` set
 * ("hip.ini line 7: [default] has an unknown key ...") when any section has a problem; *tuning
 * is then unchanged.
 */
int hip_tuning_apply(const struct xc_ini *ini, const char *source, const char *gfx,
                     const char *device_name, hip_tuning_t *tuning, char *error, size_t error_size);
/* The same from the text of a file (parse errors included). */
int hip_tuning_parse(const char *text, const char *gfx, const char *device_name,
                     hip_tuning_t *tuning, char *error, size_t error_size);

/* ---- GEMM ---- */

typedef enum hip_gemm_kind {
    HIP_GEMM_SIMT = 0, /* exact f32 FMAs, any dtype/layout/alignment (portable) */
    HIP_GEMM_MFMA,     /* matrix cores, CDNA */
    HIP_GEMM_GEMV_N,   /* m <= 16, B k x n (portable) */
    HIP_GEMM_GEMV_T,   /* m <= 16, B n x k (portable) */
} hip_gemm_kind_t;

typedef struct hip_gemm_plan {
    hip_gemm_kind_t kind;
    char kernel[64]; /* the function name in the code object */
    int bm, bn, bk;  /* the output tile (0 for GEMV) */
    int threads;
    int tiles_m, tiles_n;
    int group_m;
    int split_k;
    int64_t k_per_split;
    uint32_t grid[3];
    uint64_t workspace_bytes; /* f32 split-K partials */
    int forced_refused;       /* a forced kind could not run this case; the automatic one did */
} hip_gemm_plan_t;

/* "simt", "mfma", "gemv": what XHAL_HIP_GEMM takes. */
const char *hip_gemm_kind_name(hip_gemm_kind_t kind);

/*
 * Picks the kernel for a validated descriptor. `force` (NULL, "", "auto" or a kind name) asks
 * for one kind where it can run. Returns 0, or -1 with `why` set when the shape cannot be
 * launched at all (a grid past the hardware's limits).
 */
int hip_plan_gemm(const xhal_gemm_desc_t *desc, const hip_arch_t *arch, const hip_tuning_t *tuning,
                  const char *force, hip_gemm_plan_t *plan, char *why, size_t why_size);

/* ---- Attention ---- */

typedef enum hip_attention_kind {
    HIP_ATTENTION_SIMPLE = 0, /* exact, any dtype/head_dim/stride (portable) */
    HIP_ATTENTION_PREFILL,    /* MFMA FlashAttention, CDNA */
    HIP_ATTENTION_DECODE,     /* MFMA split-KV decode + combine, CDNA */
} hip_attention_kind_t;

typedef struct hip_attention_plan {
    hip_attention_kind_t kind;
    char kernel[64];
    int threads;
    uint32_t grid;
    int row_blocks; /* prefill: blocks of 128 queries; decode: blocks of 32 (head, query) rows */
    int splits;
    int64_t keys_per_split;
    uint64_t workspace_bytes; /* decode: partial rows, then the (max, sum) pairs */
    uint64_t stats_offset;    /* byte offset of the (max, sum) pairs in the workspace */
    uint32_t combine_grid;
    int forced_refused;
} hip_attention_plan_t;

/* "simple", "prefill", "decode": what XHAL_HIP_ATTENTION takes. */
const char *hip_attention_kind_name(hip_attention_kind_t kind);

int hip_plan_attention(const xhal_attention_desc_t *desc, const hip_arch_t *arch,
                       const hip_tuning_t *tuning, const char *force, hip_attention_plan_t *plan,
                       char *why, size_t why_size);

#endif /* XHAL_HIP_PLAN_H */
