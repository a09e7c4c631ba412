/*
 * all-MiniLM-L6-v2 on an xhal device: a BERT encoder (6 layers, hidden 384, 12 heads of 32,
 * intermediate 1536, GELU, post-LayerNorm) with mean pooling and L2 normalization.
 *
 * What runs where (examples/minilm/README.md has the costs):
 * - device, through xhal: the four linear layers of each block as GEMMs with the bias (and the
 *   GELU) fused in the epilogue, and self-attention over the packed batch of sentences of
 *   different lengths (cu_seqlens: no padding);
 * - host: the embeddings gather (+ positions, + token type), the LayerNorms and the residual adds
 *   before them, and the pooling, since xhal has no op for them. Their input comes back from the
 *   device and their output goes to it, unless the device's memory is the host's (the CPU
 *   device), where they work in place.
 * Where a device refuses the fused epilogue or the variable-length attention
 * (xhal_gemm_supports / xhal_attention_supports), the encoder falls back to plain GEMMs with the
 * bias and GELU on the host, and one attention call per sentence.
 */
#ifndef MINILM_MODEL_H
#define MINILM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <xhal/xhal.h>

#include "safetensors.h"

#define MINILM_MAX_LAYERS 24

typedef struct minilm_config {
    int layers, hidden, heads, head_dim, intermediate, vocab, max_positions, type_vocab;
    float layer_norm_eps;
    int max_tokens; /* sentence-transformers' max_seq_length: longer sentences are cut */
} minilm_config_t;

typedef struct minilm_layer {
    xhal_buffer_t *qkv_w, *qkv_b; /* query, key and value stacked: [3 * hidden][hidden] */
    xhal_buffer_t *out_w, *out_b; /* [hidden][hidden] */
    xhal_buffer_t *ff1_w, *ff1_b; /* [intermediate][hidden] */
    xhal_buffer_t *ff2_w, *ff2_b; /* [hidden][intermediate] */
    float *qkv_bias, *out_bias, *ff1_bias, *ff2_bias; /* host copies for the unfused fallback */
    float *ln1_gamma, *ln1_beta, *ln2_gamma, *ln2_beta;
} minilm_layer_t;

/* The op classes timed by --bench. */
enum { MINILM_T_GEMM, MINILM_T_ATTENTION, MINILM_T_HOST, MINILM_T_COPY, MINILM_T_COUNT };

typedef struct minilm_timing {
    double ms[MINILM_T_COUNT]; /* summed over encode calls */
    double gemm_flops;         /* 2 m n k over every GEMM */
} minilm_timing_t;

typedef struct minilm_model {
    minilm_config_t config;
    xhal_dtype_t weight_dtype;
    xhal_device_t *device;
    xhal_stream_t *stream;
    st_file_t file; /* kept mapped: the embedding tables are read from it */
    const st_tensor_t *word_emb, *pos_emb, *type_emb;
    float *emb_ln_gamma, *emb_ln_beta;
    minilm_layer_t layer[MINILM_MAX_LAYERS];
    int fused_epilogue;   /* the device takes the GEMMs with bias / bias + GELU */
    int varlen_attention; /* the device takes the packed batch in one attention call */
    struct minilm_workspace *work;
} minilm_model_t;

/**
 * Reads config.json, sentence_bert_config.json and model.safetensors from `dir` and puts the
 * weights on `device` (linear weights in `weight_dtype`, biases f32), using `stream` for the
 * copies. `force_unfused` takes the fallback path even where the device has the fused ops.
 * Returns 0, or -1 with a sentence in `error`; the caller frees *out with minilm_free either way.
 */
int minilm_load(const char *dir, xhal_device_t *device, xhal_stream_t *stream,
                xhal_dtype_t weight_dtype, int force_unfused, minilm_model_t *out, char *error,
                size_t error_size);

void minilm_free(minilm_model_t *model);

/**
 * Encodes `count` sentences whose token ids are packed in `ids` (lengths[i] ids each, at most
 * config.max_tokens) into out_embeddings[count][hidden], mean-pooled and L2-normalized. With
 * `timing`, every op is timed (events and synchronizations: slower) and added to it. Returns 0,
 * or -1 with a sentence in `error`.
 */
int minilm_encode(minilm_model_t *model, const int32_t *ids, const int32_t *lengths, int count,
                  float *out_embeddings, minilm_timing_t *timing, char *error, size_t error_size);

#endif /* MINILM_MODEL_H */
