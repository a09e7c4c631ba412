/*
 * Which kernel runs a GEMM or an attention, with which tile, split and grid: pure functions of
 * the descriptor, the device's architecture and the tuning INI, with no driver call, so the
 * host-side unit tests (tests/cuda/) check every decision on a machine without a GPU.
 */
#ifndef XHAL_CUDA_PLAN_H
#define XHAL_CUDA_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "xhal/xhal.h"

/* What the plan needs to know about the device. */
typedef struct cuda_arch {
    int cc_major, cc_minor; /* compute capability */
    int sms;                /* multiprocessors */
    int smem_optin;         /* shared memory a block may opt in to, bytes */
    int has_sm90;           /* the sm_90a module (wgmma kernels) is loaded */
} cuda_arch_t;

/* kernels/tuning/cuda.ini, resolved for one device: [default], [sm_XY], [<name>] (xc_tuning.h). */
typedef struct cuda_tuning {
    char gemm_mma_large[32];          /* mma.sync config for big grids ("128x128x32") */
    char gemm_mma_small[32];          /* and for small ones ("64x64x32") */
    char gemm_sm90[32];               /* wgmma config, or "none" */
    int gemm_group_m;                 /* tile rows walked together (L2 reuse of B) */
    int gemm_splitk_max;              /* most k splits of one GEMM */
    int gemm_gemv_max_m;              /* m up to this runs the GEMV kernels (<= 16) */
    int attention_decode_max_queries; /* seq_q up to this runs split-KV decode */
    int attention_min_keys_per_split;
    int attention_sm90; /* 1: prefill on sm_90a runs the wgmma kernel */
} cuda_tuning_t;

void cuda_tuning_defaults(cuda_tuning_t *tuning);

struct xc_ini;

/*
 * Applies a parsed tuning file (named `source` in errors) for a device of architecture "sm_XY"
 * named `device_name` on top of *tuning, in the sections' order (backends/common/xc_tuning.h).
 * Returns 0, or -1 with `error` set ("cuda.ini line 7: [default] has an unknown key
 * \"gemm_tile\"") when any section has a problem; *tuning is then unchanged.
 */
int cuda_tuning_apply(const struct xc_ini *ini, const char *source, const char *arch_section,
                      const char *device_name, cuda_tuning_t *tuning, char *error,
                      size_t error_size);
/* The same from the text of a file (parse errors included). */
int cuda_tuning_parse(const char *text, const char *arch_section, const char *device_name,
                      cuda_tuning_t *tuning, char *error, size_t error_size);

struct xc_param;
/* The keys of cuda.ini with their ranges (cuda_tuning.c; the fuzz target checks them). */
const struct xc_param *cuda_tuning_params(size_t *out_count);

/* ---- GEMM ---- */

typedef enum cuda_gemm_kind {
    CUDA_GEMM_SIMT = 0, /* exact f32 FMAs, any dtype/layout/alignment */
    CUDA_GEMM_MMA,      /* mma.sync tensor cores, sm_80+ */
    CUDA_GEMM_SM90,     /* wgmma + TMA, sm_90a */
    CUDA_GEMM_GEMV_N,   /* m <= 16, B k x n */
    CUDA_GEMM_GEMV_T,   /* m <= 16, B n x k */
} cuda_gemm_kind_t;

typedef struct cuda_gemm_plan {
    cuda_gemm_kind_t kind;
    char kernel[64]; /* the function name in the module */
    int bm, bn, bk;  /* the output tile (0 for GEMV) */
    int threads;
    int smem; /* dynamic shared memory, bytes */
    int tiles_m, tiles_n;
    int group_m;
    int split_k;
    int64_t k_per_split;
    uint32_t grid[3];
    uint64_t workspace_bytes; /* f32 split-K partials */
    int forced_refused;       /* a forced kernel could not run this case; auto was used */
} cuda_gemm_plan_t;

/* Names of the kinds, as XHAL_CUDA_GEMM takes them: "simt", "mma", "sm90", "gemv". */
const char *cuda_gemm_kind_name(cuda_gemm_kind_t kind);

/*
 * Picks the kernel for a validated descriptor. `force` (NULL, "", "auto", or a kind name; the
 * XHAL_CUDA_GEMM environment variable) asks for one kind where it can run. Returns 0, or -1 with
 * `why` set when the shape cannot be launched at all (a grid past the hardware's limits).
 */
int cuda_plan_gemm(const xhal_gemm_desc_t *desc, const cuda_arch_t *arch,
                   const cuda_tuning_t *tuning, const char *force, cuda_gemm_plan_t *plan,
                   char *why, size_t why_size);

/*
 * Split-K: how many parts to cut k into so that `blocks` output tiles (all batches) fill `sms`
 * multiprocessors, each part at least 4 k tiles of `bk`, at most `max_split`. Sets *k_per_split
 * (a multiple of bk) and returns the split count (1: no split).
 */
int cuda_choose_split_k(int64_t blocks, int64_t k, int bk, int sms, int max_split,
                        int64_t *k_per_split);

/* ---- Attention ---- */

typedef enum cuda_attention_kind {
    CUDA_ATTENTION_SIMPLE = 0, /* exact, any dtype/head_dim/stride */
    CUDA_ATTENTION_FA2,        /* tensor-core prefill */
    CUDA_ATTENTION_DECODE,     /* tensor-core split-KV decode + combine */
    CUDA_ATTENTION_SM90,       /* wgmma + TMA prefill, sm_90a */
} cuda_attention_kind_t;

typedef struct cuda_attention_plan {
    cuda_attention_kind_t kind;
    char kernel[64];
    int threads;
    int smem;
    uint32_t grid;
    int row_blocks;
    int splits;
    int64_t keys_per_split;
    uint64_t workspace_bytes; /* decode: partial rows, then the (max, sum) pairs */
    uint64_t stats_offset;    /* byte offset of the (max, sum) pairs in the workspace */
    uint32_t combine_grid;
    int tma_order[3]; /* sm90: see xk_attention_params_t.tma_order (Q, K, V) */
    int forced_refused;
    /*
     * Sequences of 1 .. q_split queries are the decode kernel's, longer ones prefill's
     * (xk_params.h). FA2 prefill of packed Q also runs split-KV decode first (decode_too), for
     * the sequences of up to attention_decode_max_queries queries: the same kernel in decode
     * mode over decode_grid blocks of decode_row_blocks, with splits, keys_per_split, the
     * workspace and the combine above. For kind DECODE, grid and row_blocks are the decode's.
     */
    int64_t q_split;
    int decode_too;
    uint32_t decode_grid;
    int decode_row_blocks;
} cuda_attention_plan_t;

/*
 * How a [batch, heads, seq, head_dim] view with `strides` (elements) maps onto a 4-D TMA tensor
 * (d, then seq/head/batch sorted by stride, extent-1 axes last): sets *order (2 bits per
 * position: 0 seq, 1 head, 2 batch) and, per position, the extent and the stride in elements.
 * Returns 0 when the axes overlap (the view is not a tensor TMA can walk).
 */
int cuda_attention_tma_layout(const xhal_attention_strides_t *strides, int64_t batch, int64_t heads,
                              int64_t seq, int64_t head_dim, int *order, int64_t extents[3],
                              int64_t strides_out[3]);

/* 1 when `desc` uses a serving feature (packed or paged inputs, per-sequence lengths, a
 * window, soft-capping, the LSE): what the sm_90a kernel does not run. */
int cuda_attention_serving(const xhal_attention_desc_t *desc);

/* "simple", "fa2", "decode", "sm90": what XHAL_CUDA_ATTENTION takes. */
const char *cuda_attention_kind_name(cuda_attention_kind_t kind);

int cuda_plan_attention(const xhal_attention_desc_t *desc, const cuda_arch_t *arch,
                        const cuda_tuning_t *tuning, const char *force, cuda_attention_plan_t *plan,
                        char *why, size_t why_size);

#endif /* XHAL_CUDA_PLAN_H */
