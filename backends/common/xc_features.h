/*
 * The serving features of the GEMM and attention descriptors (API 0.2) that a backend may or
 * may not implement. `supports` must refuse every feature a backend does not run (the answer is
 * what xhal_*_supports tells users), so each backend passes the set it implements to one of
 * these checks; implementing a feature is adding its bit to the backend's set.
 */
#ifndef XHAL_BACKENDS_COMMON_XC_FEATURES_H
#define XHAL_BACKENDS_COMMON_XC_FEATURES_H

#include "xhal/xhal_backend.h"

/* GEMM epilogues and weight-only quantized B. */
#define XC_GEMM_BIAS (1u << 0)       /* bias != NULL */
#define XC_GEMM_ACTIVATION (1u << 1) /* activation != NONE */
#define XC_GEMM_GATED (1u << 2)      /* gated */
#define XC_GEMM_QUANT_B (1u << 3)    /* b_quant != NONE */

/* Attention masks, scores, packed and paged inputs, and the LSE output. */
#define XC_ATTENTION_SLIDING_WINDOW (1u << 0) /* sliding_window > 0 */
#define XC_ATTENTION_SOFTCAP (1u << 1)        /* softcap > 0 */
#define XC_ATTENTION_VARLEN_Q (1u << 2)       /* cu_seqlens_q */
#define XC_ATTENTION_VARLEN_KV (1u << 3)      /* cu_seqlens_kv */
#define XC_ATTENTION_SEQLENS_KV (1u << 4)     /* seqlens_kv */
#define XC_ATTENTION_PAGED (1u << 5)          /* block_table */
#define XC_ATTENTION_LSE (1u << 6)            /* lse */
/*
 * Flags other than XHAL_ATTENTION_CHECK_INDICES, which the core implements on the host for every
 * backend (and XHAL_VALIDATE=1 sets on every call), so a backend never refuses it.
 */
#define XC_ATTENTION_FLAGS (1u << 7)

/* The field of the first feature `desc` uses outside `implemented` ("bias"), or NULL. */
const char *xc_gemm_unimplemented(const xhal_gemm_desc_t *desc, unsigned implemented);
const char *xc_attention_unimplemented(const xhal_attention_desc_t *desc, unsigned implemented);

/*
 * XHAL_OK when `desc` uses only features in `implemented`; else UNSUPPORTED through host, as
 * "<backend>: GEMM with <field> is not implemented by this backend".
 */
xhal_status_t xc_gemm_features(const xhal_host_api_t *host, const char *backend,
                               const xhal_gemm_desc_t *desc, unsigned implemented);
xhal_status_t xc_attention_features(const xhal_host_api_t *host, const char *backend,
                                    const xhal_attention_desc_t *desc, unsigned implemented);

#endif
