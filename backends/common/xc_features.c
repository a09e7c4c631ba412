/* See xc_features.h. */
#include "xc_features.h"

const char *xc_gemm_unimplemented(const xhal_gemm_desc_t *d, unsigned implemented) {
    if (d->bias && !(implemented & XC_GEMM_BIAS)) return "bias";
    if (d->activation != XHAL_ACTIVATION_NONE && !(implemented & XC_GEMM_ACTIVATION))
        return "activation";
    if (d->gated && !(implemented & XC_GEMM_GATED)) return "gated";
    if (d->b_quant != XHAL_QUANT_NONE && !(implemented & XC_GEMM_QUANT_B)) return "b_quant";
    return NULL;
}

const char *xc_attention_unimplemented(const xhal_attention_desc_t *d, unsigned implemented) {
    if (d->sliding_window > 0 && !(implemented & XC_ATTENTION_SLIDING_WINDOW))
        return "sliding_window";
    if (d->softcap > 0 && !(implemented & XC_ATTENTION_SOFTCAP)) return "softcap";
    if (d->cu_seqlens_q && !(implemented & XC_ATTENTION_VARLEN_Q)) return "cu_seqlens_q";
    if (d->cu_seqlens_kv && !(implemented & XC_ATTENTION_VARLEN_KV)) return "cu_seqlens_kv";
    if (d->seqlens_kv && !(implemented & XC_ATTENTION_SEQLENS_KV)) return "seqlens_kv";
    if (d->block_table && !(implemented & XC_ATTENTION_PAGED)) return "block_table";
    if (d->lse && !(implemented & XC_ATTENTION_LSE)) return "lse";
    if ((d->flags & ~(uint32_t)XHAL_ATTENTION_CHECK_INDICES) && !(implemented & XC_ATTENTION_FLAGS))
        return "flags";
    return NULL;
}

xhal_status_t xc_gemm_features(const xhal_host_api_t *host, const char *backend,
                               const xhal_gemm_desc_t *desc, unsigned implemented) {
    const char *field = xc_gemm_unimplemented(desc, implemented);
    if (!field) return XHAL_OK;
    return host->set_error(XHAL_UNSUPPORTED, "%s: GEMM with %s is not implemented by this backend",
                           backend, field);
}

xhal_status_t xc_attention_features(const xhal_host_api_t *host, const char *backend,
                                    const xhal_attention_desc_t *desc, unsigned implemented) {
    const char *field = xc_attention_unimplemented(desc, implemented);
    if (!field) return XHAL_OK;
    return host->set_error(XHAL_UNSUPPORTED,
                           "%s: attention with %s is not implemented by this backend", backend,
                           field);
}
