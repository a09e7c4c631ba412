/*
 * Which serving features of attention (xhal.h) a descriptor uses, by the field that asks for
 * each: what a backend's attention_supports names when it refuses one it has no kernel for, so
 * that `xhal_attention_supports` stays truthful while a port brings them up one at a time.
 */
#ifndef XHAL_BACKENDS_ATTENTION_FEATURES_H
#define XHAL_BACKENDS_ATTENTION_FEATURES_H

#include "xhal/xhal.h"

/* The descriptor field of the first serving feature `d` uses, or NULL when it uses none. */
static inline const char *xhal_attention_serving_feature(const xhal_attention_desc_t *d) {
    if (d->cu_seqlens_q) return "cu_seqlens_q (packed variable-length queries)";
    if (d->cu_seqlens_kv) return "cu_seqlens_kv (packed variable-length keys)";
    if (d->block_table) return "block_table (paged K/V)";
    if (d->seqlens_kv) return "seqlens_kv (per-sequence KV lengths)";
    if (d->sliding_window) return "sliding_window";
    if (d->softcap != 0.0f) return "softcap";
    if (d->lse) return "lse (log-sum-exp output)";
    return NULL;
}

#endif
