/*
 * The encoder's forward pass over a packed batch of sentences (see model.h for what runs where).
 * Activations are f32 [tokens][features], the sentences one after another with no padding.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "model.h"

typedef struct minilm_workspace {
    int64_t tokens; /* the capacity, in tokens */
    int sentences;  /* the capacity of cu_seqlens, in sentences */
    /* Device activations: x (a block's input), qkv, ctx (attention's output), proj (a linear
     * layer's output before its residual), h (the block's middle), ff (the GELU's output). */
    xhal_buffer_t *x, *qkv, *ctx, *proj, *h, *ff, *cu;
    /* Host views of x, h and proj (and of qkv and ff for the unfused epilogue): the device's own
     * memory when the host can address it, else host copies moved by copy_h2d / copy_d2h. */
    int host_visible;
    float *x_host, *h_host, *proj_host, *qkv_host, *ff_host;
    int32_t *cu_host;
} minilm_workspace_t;

/* The state of one encode call: the model, the timing (NULL: none) and the error. */
typedef struct run {
    minilm_model_t *m;
    minilm_workspace_t *w;
    minilm_timing_t *timing;
    char *error;
    size_t error_size;
    int64_t tokens;
} run_t;

static int say(run_t *r, const char *format, ...) __attribute__((format(printf, 2, 3)));

static int say(run_t *r, const char *format, ...) {
    va_list args;
    va_start(args, format);
    minilm_vsay(r->error, r->error_size, format, args);
    va_end(args);
    return -1;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* With timing, each op class is charged the time from its start until the stream is idle. */
static double tic(run_t *r) {
    return r->timing ? now_ms() : 0;
}

static int toc(run_t *r, int op_class, double start) {
    if (!r->timing) return 0;
    xhal_status_t st = xhal_stream_synchronize(r->m->stream);
    if (st != XHAL_OK) return say(r, "xhal_stream_synchronize: %s", xhal_last_error());
    r->timing->ms[op_class] += now_ms() - start;
    return 0;
}

#define XCHECK(r, call)                                                                            \
    do {                                                                                           \
        xhal_status_t st_ = (call);                                                                \
        if (st_ != XHAL_OK)                                                                        \
            return say((r), "%s: %s: %s", #call, xhal_status_name(st_), xhal_last_error());        \
    } while (0)

void minilm_workspace_free(minilm_model_t *model) {
    minilm_workspace_t *w = model->work;
    if (!w) return;
    xhal_buffer_t *buffers[7] = {w->x, w->qkv, w->ctx, w->proj, w->h, w->ff, w->cu};
    for (int i = 0; i < 7; i++)
        xhal_buffer_free(buffers[i]);
    if (!w->host_visible) {
        free(w->x_host);
        free(w->h_host);
        free(w->proj_host);
        free(w->qkv_host);
        free(w->ff_host);
    }
    free(w->cu_host);
    free(w);
    model->work = NULL;
}

static int alloc_activation(run_t *r, xhal_buffer_t **out, int64_t features, float **out_host) {
    uint64_t bytes = (uint64_t)r->w->tokens * (uint64_t)features * sizeof(float);
    XCHECK(r, xhal_buffer_alloc(r->m->device, bytes, XHAL_MEMORY_DEVICE, out));
    if (!out_host) return 0;
    if (r->w->host_visible) {
        XCHECK(r, xhal_buffer_host_pointer(*out, (void **)out_host));
    } else if (!(*out_host = malloc(bytes))) {
        return say(r, "out of memory for %llu bytes", (unsigned long long)bytes);
    }
    return 0;
}

/* Makes room for `tokens` tokens and `sentences` sentences (grown, never shrunk). */
static int reserve(run_t *r, int64_t tokens, int sentences) {
    minilm_model_t *m = r->m;
    minilm_workspace_t *w = m->work;
    if (w && w->tokens >= tokens && w->sentences >= sentences) return 0;
    int64_t want_tokens = w && w->tokens > tokens ? w->tokens : tokens;
    int want_sentences = w && w->sentences > sentences ? w->sentences : sentences;
    minilm_workspace_free(m);
    if (!(w = m->work = calloc(1, sizeof *w))) return say(r, "out of memory");
    r->w = w;
    w->tokens = want_tokens;
    w->sentences = want_sentences;
    /* A probe: on a device whose memory the host addresses, the host works in place. */
    xhal_buffer_t *probe = NULL;
    void *pointer = NULL;
    XCHECK(r, xhal_buffer_alloc(m->device, 64, XHAL_MEMORY_DEVICE, &probe));
    w->host_visible = xhal_buffer_host_pointer(probe, &pointer) == XHAL_OK;
    xhal_buffer_free(probe);
    const minilm_config_t *c = &m->config;
    int unfused = !m->fused_epilogue;
    if (alloc_activation(r, &w->x, c->hidden, &w->x_host) ||
        alloc_activation(r, &w->qkv, 3 * c->hidden, unfused ? &w->qkv_host : NULL) ||
        alloc_activation(r, &w->ctx, c->hidden, NULL) ||
        alloc_activation(r, &w->proj, c->hidden, &w->proj_host) ||
        alloc_activation(r, &w->h, c->hidden, &w->h_host) ||
        alloc_activation(r, &w->ff, c->intermediate, unfused ? &w->ff_host : NULL))
        return -1;
    uint64_t cu_bytes = ((uint64_t)want_sentences + 1) * sizeof(int32_t);
    XCHECK(r, xhal_buffer_alloc(m->device, cu_bytes, XHAL_MEMORY_DEVICE, &w->cu));
    if (!(w->cu_host = malloc(cu_bytes))) return say(r, "out of memory");
    return 0;
}

/* Host <-> device moves of an activation; nothing to do when the host sees device memory. */
static int download(run_t *r, float *host, xhal_buffer_t *buffer, int64_t features) {
    double t = tic(r);
    if (!r->w->host_visible)
        XCHECK(r, xhal_copy_d2h(r->m->stream, host, buffer, 0,
                                (uint64_t)r->tokens * (uint64_t)features * sizeof(float)));
    XCHECK(r, xhal_stream_synchronize(r->m->stream)); /* the host reads it next */
    return toc(r, MINILM_T_COPY, t);
}

static int upload(run_t *r, xhal_buffer_t *buffer, const float *host, int64_t features) {
    if (r->w->host_visible) return 0;
    double t = tic(r);
    /* `host` stays unchanged until the next download, which synchronizes the stream. */
    XCHECK(r, xhal_copy_h2d(r->m->stream, buffer, 0, host,
                            (uint64_t)r->tokens * (uint64_t)features * sizeof(float)));
    return toc(r, MINILM_T_COPY, t);
}

static float gelu(float x) {
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

/*
 * out = act(in @ W^T + bias): W is [n][k] in the weight dtype (a linear layer's weight, so B is
 * transposed), in and out f32 [tokens][k] and [tokens][n]. Fused: one GEMM with its epilogue.
 * Unfused: a plain GEMM, then the bias and GELU on the host (host_out: out's host view).
 */
static int linear(run_t *r, xhal_buffer_t *in, int64_t k, xhal_buffer_t *w, xhal_buffer_t *bias,
                  const float *host_bias, int64_t n, int use_gelu, xhal_buffer_t *out,
                  float *host_out) {
    minilm_model_t *m = r->m;
    xhal_gemm_desc_t g;
    xhal_gemm_desc_init(&g, r->tokens, n, k, XHAL_DTYPE_F32);
    g.b_type = m->weight_dtype;
    g.trans_b = 1;
    g.ldb = k;
    g.a = in;
    g.b = w;
    g.c = out;
    if (m->fused_epilogue) {
        g.bias = bias;
        g.bias_type = XHAL_DTYPE_F32;
        g.activation = use_gelu ? XHAL_ACTIVATION_GELU_ERF : XHAL_ACTIVATION_NONE;
    }
    double t = tic(r);
    XCHECK(r, xhal_gemm(m->stream, &g));
    if (toc(r, MINILM_T_GEMM, t)) return -1;
    if (r->timing) r->timing->gemm_flops += 2.0 * (double)r->tokens * (double)n * (double)k;
    if (m->fused_epilogue || !host_out) return 0;
    if (download(r, host_out, out, n)) return -1;
    t = tic(r);
    for (int64_t i = 0; i < r->tokens; i++) {
        float *row = host_out + i * n;
        for (int64_t j = 0; j < n; j++)
            row[j] = use_gelu ? gelu(row[j] + host_bias[j]) : row[j] + host_bias[j];
    }
    if (toc(r, MINILM_T_HOST, t)) return -1;
    return upload(r, out, host_out, n);
}

/*
 * Self-attention of every sentence over itself. Q, K and V are the thirds of each qkv row
 * ([tokens][3][heads][head_dim]: BSHD with a row stride of 3 * hidden), read in place; the
 * output ctx is [tokens][heads][head_dim]. One call for the packed batch (cu_seqlens), or one
 * per sentence where the device has no variable-length attention.
 */
static int attention(run_t *r, const int32_t *lengths, int count) {
    minilm_model_t *m = r->m;
    const minilm_config_t *c = &m->config;
    const int64_t h = c->hidden, row = 3 * h;
    xhal_attention_desc_t a;
    int calls = m->varlen_attention ? 1 : count;
    double t = tic(r);
    for (int64_t s = 0, start = 0; s < calls; start += lengths[s], s++) {
        int64_t rows = m->varlen_attention ? r->tokens : lengths[s];
        xhal_attention_desc_init(&a, m->varlen_attention ? count : 1, c->heads, c->heads, rows,
                                 rows, c->head_dim, XHAL_DTYPE_F32, XHAL_LAYOUT_BSHD);
        a.q = a.k = a.v = r->w->qkv;
        a.o = r->w->ctx;
        a.q_strides = a.k_strides = a.v_strides =
            (xhal_attention_strides_t){.batch = rows * row, .head = c->head_dim, .seq = row};
        a.o_strides = (xhal_attention_strides_t){.batch = rows * h, .head = c->head_dim, .seq = h};
        a.q_offset = (uint64_t)(start * row) * sizeof(float);
        a.k_offset = a.q_offset + (uint64_t)h * sizeof(float);
        a.v_offset = a.q_offset + 2 * (uint64_t)h * sizeof(float);
        a.o_offset = (uint64_t)(start * h) * sizeof(float);
        if (m->varlen_attention) a.cu_seqlens_q = a.cu_seqlens_kv = r->w->cu;
        XCHECK(r, xhal_attention(m->stream, &a));
    }
    return toc(r, MINILM_T_ATTENTION, t);
}

/* out[i] = LayerNorm(a[i] + b[i]) (b may be NULL) for each token row; statistics in double. */
static void layer_norm(const minilm_config_t *c, int64_t tokens, const float *a, const float *b,
                       const float *gamma, const float *beta, float *out) {
    const int64_t n = c->hidden;
    for (int64_t i = 0; i < tokens; i++) {
        float *y = out + i * n;
        double sum = 0, squares = 0;
        for (int64_t j = 0; j < n; j++) {
            y[j] = a[i * n + j] + (b ? b[i * n + j] : 0.0f);
            sum += y[j];
        }
        double mean = sum / (double)n;
        for (int64_t j = 0; j < n; j++)
            squares += (y[j] - mean) * (y[j] - mean);
        double rstd = 1.0 / sqrt(squares / (double)n + (double)c->layer_norm_eps);
        for (int64_t j = 0; j < n; j++)
            y[j] = (float)((y[j] - mean) * rstd) * gamma[j] + beta[j];
    }
}

/*
 * x = LayerNorm(word[id] + position[p] + token_type[0]), the tables read from the mapped file
 * with memcpy (its rows need not be float-aligned). h and proj are free here: scratch rows.
 */
static void embed(run_t *r, const int32_t *ids, const int32_t *lengths, int count) {
    const minilm_model_t *m = r->m;
    const int64_t n = m->config.hidden;
    const size_t row_bytes = (size_t)n * sizeof(float);
    float *x = r->w->x_host, *positions = r->w->h_host, *type = r->w->proj_host;
    int32_t longest = 0;
    for (int s = 0; s < count; s++)
        longest = lengths[s] > longest ? lengths[s] : longest;
    memcpy(positions, m->pos_emb->data, (size_t)longest * row_bytes); /* longest <= tokens */
    memcpy(type, m->type_emb->data, row_bytes);
    for (int64_t s = 0, t = 0; s < count; s++)
        for (int32_t p = 0; p < lengths[s]; p++, t++) {
            float *row = x + t * n;
            memcpy(row, (const char *)m->word_emb->data + (size_t)ids[t] * row_bytes, row_bytes);
            for (int64_t j = 0; j < n; j++)
                row[j] += positions[p * n + j] + type[j];
        }
    layer_norm(&m->config, r->tokens, x, NULL, m->emb_ln_gamma, m->emb_ln_beta, x);
}

/* Mean pooling over each sentence's tokens, then L2 normalization (sentence-transformers'). */
static void pool(run_t *r, const int32_t *lengths, int count, float *out) {
    const int64_t n = r->m->config.hidden;
    for (int64_t s = 0, start = 0; s < count; start += lengths[s], s++) {
        const float *x = r->w->x_host + start * n;
        float *e = out + s * n;
        double norm = 0;
        for (int64_t j = 0; j < n; j++) {
            double sum = 0;
            for (int32_t p = 0; p < lengths[s]; p++)
                sum += x[p * n + j];
            e[j] = (float)(sum / lengths[s]);
            norm += (double)e[j] * e[j];
        }
        norm = fmax(sqrt(norm), 1e-12);
        for (int64_t j = 0; j < n; j++)
            e[j] = (float)(e[j] / norm);
    }
}

int minilm_encode(minilm_model_t *model, const int32_t *ids, const int32_t *lengths, int count,
                  float *out_embeddings, minilm_timing_t *timing, char *error, size_t error_size) {
    run_t run = {.m = model, .timing = timing, .error = error, .error_size = error_size};
    run_t *r = &run;
    const minilm_config_t *c = &model->config;
    if (count <= 0) return say(r, "no sentences to encode");
    int64_t tokens = 0;
    for (int s = 0; s < count; s++) {
        if (lengths[s] < 1 || lengths[s] > c->max_tokens)
            return say(r, "sentence %d has %d tokens; 1 to %d are allowed", s, (int)lengths[s],
                       c->max_tokens);
        tokens += lengths[s];
    }
    for (int64_t t = 0; t < tokens; t++)
        if (ids[t] < 0 || ids[t] >= c->vocab)
            return say(r, "token %lld has id %d, outside the vocabulary of %d", (long long)t,
                       (int)ids[t], c->vocab);
    if (reserve(r, tokens, count)) return -1;
    r->w = model->work;
    r->tokens = tokens;
    minilm_workspace_t *w = r->w;
    const int64_t h = c->hidden, f = c->intermediate;

    double t = tic(r);
    w->cu_host[0] = 0;
    for (int s = 0; s < count; s++)
        w->cu_host[s + 1] = w->cu_host[s] + lengths[s];
    embed(r, ids, lengths, count);
    if (toc(r, MINILM_T_HOST, t)) return -1;
    t = tic(r);
    /* cu_host and x stay unchanged until the first download synchronizes the stream. */
    if (model->varlen_attention)
        XCHECK(r, xhal_copy_h2d(model->stream, w->cu, 0, w->cu_host,
                                ((uint64_t)count + 1) * sizeof(int32_t)));
    if (toc(r, MINILM_T_COPY, t) || upload(r, w->x, w->x_host, h)) return -1;

    for (int l = 0; l < c->layers; l++) {
        const minilm_layer_t *L = &model->layer[l];
        if (linear(r, w->x, h, L->qkv_w, L->qkv_b, L->qkv_bias, 3 * h, 0, w->qkv, w->qkv_host) ||
            attention(r, lengths, count) ||
            linear(r, w->ctx, h, L->out_w, L->out_b, L->out_bias, h, 0, w->proj, NULL) ||
            download(r, w->proj_host, w->proj, h))
            return -1;
        t = tic(r);
        if (!model->fused_epilogue) /* the bias of the output projection, before its residual */
            for (int64_t i = 0; i < tokens; i++)
                for (int64_t j = 0; j < h; j++)
                    w->proj_host[i * h + j] += L->out_bias[j];
        layer_norm(c, tokens, w->x_host, w->proj_host, L->ln1_gamma, L->ln1_beta, w->h_host);
        if (toc(r, MINILM_T_HOST, t) || upload(r, w->h, w->h_host, h) ||
            linear(r, w->h, h, L->ff1_w, L->ff1_b, L->ff1_bias, f, 1, w->ff, w->ff_host) ||
            linear(r, w->ff, f, L->ff2_w, L->ff2_b, L->ff2_bias, h, 0, w->proj, NULL) ||
            download(r, w->proj_host, w->proj, h))
            return -1;
        t = tic(r);
        if (!model->fused_epilogue)
            for (int64_t i = 0; i < tokens; i++)
                for (int64_t j = 0; j < h; j++)
                    w->proj_host[i * h + j] += L->ff2_bias[j];
        layer_norm(c, tokens, w->h_host, w->proj_host, L->ln2_gamma, L->ln2_beta, w->x_host);
        if (toc(r, MINILM_T_HOST, t)) return -1;
        if (l + 1 < c->layers && upload(r, w->x, w->x_host, h)) return -1; /* pooled on the host */
    }
    t = tic(r);
    pool(r, lengths, count, out_embeddings);
    return toc(r, MINILM_T_HOST, t);
}
