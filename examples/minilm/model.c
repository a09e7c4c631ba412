/* Loading all-MiniLM-L6-v2: its config, its weights onto the device (see model.h). */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json.h"

void minilm_workspace_free(minilm_model_t *model); /* encoder.c */

#define say minilm_say

/* Reads a whole small file (a config) into a NUL-terminated string the caller frees. */
static char *read_text(const char *path, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    size_t len = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && size < (1 << 24) && fseek(f, 0, SEEK_SET) == 0 &&
            (text = malloc((size_t)size + 1)) != NULL) {
            len = fread(text, 1, (size_t)size, f);
            text[len] = '\0';
        }
    }
    fclose(f);
    *out_len = len;
    return text;
}

/* Reads an integer member of a config object, which must lie in [lo, hi]. */
static int config_int(const json_doc_t *doc, const char *key, int lo, int hi, int *out,
                      const char *path, char *error, size_t error_size) {
    int64_t value;
    if (json_int64(json_member(doc, &doc->nodes[0], key), &value) || value < lo || value > hi)
        return say(error, error_size, "%s: \"%s\" is missing or not an integer in %d..%d", path,
                   key, lo, hi);
    *out = (int)value;
    return 0;
}

static int load_config(const char *dir, minilm_config_t *c, char *error, size_t error_size) {
    char path[4096], json_error[160];
    snprintf(path, sizeof path, "%s/config.json", dir);
    size_t len;
    char *text = read_text(path, &len);
    if (!text) return say(error, error_size, "%s: %s", path, strerror(errno ? errno : EIO));
    json_doc_t doc;
    int rc = json_parse(text, len, &doc, json_error, sizeof json_error);
    free(text);
    if (rc) return say(error, error_size, "%s: %s", path, json_error);
    const json_node_t *act = json_member(&doc, &doc.nodes[0], "hidden_act");
    const json_node_t *eps = json_member(&doc, &doc.nodes[0], "layer_norm_eps");
    if (config_int(&doc, "num_hidden_layers", 1, MINILM_MAX_LAYERS, &c->layers, path, error,
                   error_size) ||
        config_int(&doc, "hidden_size", 1, 1 << 16, &c->hidden, path, error, error_size) ||
        config_int(&doc, "num_attention_heads", 1, 1024, &c->heads, path, error, error_size) ||
        config_int(&doc, "intermediate_size", 1, 1 << 18, &c->intermediate, path, error,
                   error_size) ||
        config_int(&doc, "vocab_size", 1, 1 << 24, &c->vocab, path, error, error_size) ||
        config_int(&doc, "max_position_embeddings", 1, 1 << 20, &c->max_positions, path, error,
                   error_size) ||
        config_int(&doc, "type_vocab_size", 1, 1 << 10, &c->type_vocab, path, error, error_size)) {
        rc = -1;
    } else if (!act || act->type != JSON_STRING || strcmp(act->text, "gelu") != 0) {
        rc = say(error, error_size, "%s: \"hidden_act\" is not \"gelu\" (the erf GELU)", path);
    } else if (!eps || eps->type != JSON_NUMBER) {
        rc = say(error, error_size, "%s: \"layer_norm_eps\" is missing", path);
    } else if (c->hidden % c->heads != 0) {
        rc = say(error, error_size, "%s: hidden_size %d is not a multiple of %d heads", path,
                 c->hidden, c->heads);
    } else {
        c->layer_norm_eps = strtof(eps->text, NULL); /* the literal ends where JSON allows */
        c->head_dim = c->hidden / c->heads;
    }
    json_free(&doc);
    if (rc) return rc;

    /* sentence-transformers cuts sentences at max_seq_length (256 here); the positions cap it. */
    c->max_tokens = c->max_positions;
    snprintf(path, sizeof path, "%s/sentence_bert_config.json", dir);
    text = read_text(path, &len);
    if (text && json_parse(text, len, &doc, json_error, sizeof json_error) == 0) {
        int max = 0;
        if (config_int(&doc, "max_seq_length", 2, c->max_positions, &max, path, json_error,
                       sizeof json_error) == 0)
            c->max_tokens = max;
        json_free(&doc);
    }
    free(text);
    return 0;
}

/* Finds an f32 tensor of the expected shape (rank 1: rows only), under its name or "bert.". */
static const st_tensor_t *tensor(const minilm_model_t *m, const char *name, int64_t rows,
                                 int64_t cols, char *error, size_t error_size) {
    char prefixed[256];
    const st_tensor_t *t = st_find(&m->file, name);
    snprintf(prefixed, sizeof prefixed, "bert.%s", name);
    if (!t) t = st_find(&m->file, prefixed);
    if (!t) return say(error, error_size, "model.safetensors has no tensor '%s'", name), NULL;
    int rank = cols ? 2 : 1;
    if (t->dtype != ST_F32 || t->rank != rank || t->shape[0] != rows ||
        (rank == 2 && t->shape[1] != cols)) {
        say(error, error_size,
            "tensor '%s' is %s of rank %d [%lld, %lld]; expected F32 [%lld%s%lld]", name,
            st_dtype_name(t->dtype), t->rank, (long long)t->shape[0],
            (long long)(t->rank > 1 ? t->shape[1] : 0), (long long)rows, cols ? ", " : "",
            (long long)cols);
        return NULL;
    }
    return t;
}

/* A host copy of a rank-1 f32 tensor (the file's bytes may not be aligned for float). */
static float *host_vector(const minilm_model_t *m, const char *name, int64_t n, char *error,
                          size_t error_size) {
    const st_tensor_t *t = tensor(m, name, n, 0, error, error_size);
    if (!t) return NULL;
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) return say(error, error_size, "out of memory"), NULL;
    memcpy(v, t->data, (size_t)n * sizeof *v);
    return v;
}

typedef struct uploader {
    minilm_model_t *m;
    char *error;
    size_t error_size;
} uploader_t;

/*
 * Stacks the f32 tensors `names` ([rows][cols] each, or [rows] when cols is 0) into one device
 * buffer of `dtype`. With out_host (f32 only: the biases), the host copy is kept there for the
 * host epilogue of the fallback.
 */
static xhal_buffer_t *upload(uploader_t *u, const char *const *names, int count, int64_t rows,
                             int64_t cols, xhal_dtype_t dtype, float **out_host) {
    size_t each = (size_t)(rows * (cols ? cols : 1)), elements = each * (size_t)count;
    size_t bytes = elements * xhal_dtype_size(dtype);
    float *f32 = calloc(elements, sizeof *f32);
    uint16_t *half = dtype == XHAL_DTYPE_F32 ? NULL : malloc(elements * sizeof *half);
    if (!f32 || (dtype != XHAL_DTYPE_F32 && !half)) {
        free(f32);
        free(half);
        return say(u->error, u->error_size, "out of memory"), NULL;
    }
    for (int i = 0; i < count; i++) {
        const st_tensor_t *t = tensor(u->m, names[i], rows, cols, u->error, u->error_size);
        if (!t) {
            free(f32);
            free(half);
            return NULL;
        }
        memcpy(f32 + (size_t)i * each, t->data, each * sizeof *f32);
    }
    if (half)
        for (size_t i = 0; i < elements; i++)
            half[i] = dtype == XHAL_DTYPE_F16 ? xhal_f32_to_f16(f32[i]) : xhal_f32_to_bf16(f32[i]);
    xhal_buffer_t *buffer = NULL;
    xhal_status_t st = xhal_buffer_alloc(u->m->device, bytes, XHAL_MEMORY_DEVICE, &buffer);
    if (st == XHAL_OK)
        st = xhal_copy_h2d(u->m->stream, buffer, 0, half ? (void *)half : f32, bytes);
    if (st == XHAL_OK) st = xhal_stream_synchronize(u->m->stream); /* f32 is in use until here */
    if (st != XHAL_OK) {
        say(u->error, u->error_size, "uploading '%s': %s", names[0], xhal_last_error());
        xhal_buffer_free(buffer);
        free(f32);
        free(half);
        return NULL;
    }
    free(half);
    if (out_host && dtype == XHAL_DTYPE_F32)
        *out_host = f32;
    else
        free(f32);
    return buffer;
}

/* One encoder block: weights in the model's dtype, biases f32, LayerNorm parameters on the host. */
static int load_layer(uploader_t *u, int l) {
    minilm_model_t *m = u->m;
    minilm_layer_t *L = &m->layer[l];
    const int64_t h = m->config.hidden, f = m->config.intermediate;
    char w[6][128], b[6][128], g1[128], b1[128], g2[128], b2[128];
    static const char *const parts[6] = {"attention.self.query", "attention.self.key",
                                         "attention.self.value", "attention.output.dense",
                                         "intermediate.dense",   "output.dense"};
    const char *wp[6], *bp[6];
    for (int i = 0; i < 6; i++) {
        snprintf(w[i], sizeof w[i], "encoder.layer.%d.%s.weight", l, parts[i]);
        snprintf(b[i], sizeof b[i], "encoder.layer.%d.%s.bias", l, parts[i]);
        wp[i] = w[i];
        bp[i] = b[i];
    }
    snprintf(g1, sizeof g1, "encoder.layer.%d.attention.output.LayerNorm.weight", l);
    snprintf(b1, sizeof b1, "encoder.layer.%d.attention.output.LayerNorm.bias", l);
    snprintf(g2, sizeof g2, "encoder.layer.%d.output.LayerNorm.weight", l);
    snprintf(b2, sizeof b2, "encoder.layer.%d.output.LayerNorm.bias", l);
    const xhal_dtype_t d = m->weight_dtype, f32 = XHAL_DTYPE_F32;
    /* Query, key and value in one GEMM: their weights stacked, [3 * hidden][hidden]. */
    if (!(L->qkv_w = upload(u, wp, 3, h, h, d, NULL)) ||
        !(L->qkv_b = upload(u, bp, 3, h, 0, f32, &L->qkv_bias)) ||
        !(L->out_w = upload(u, wp + 3, 1, h, h, d, NULL)) ||
        !(L->out_b = upload(u, bp + 3, 1, h, 0, f32, &L->out_bias)) ||
        !(L->ff1_w = upload(u, wp + 4, 1, f, h, d, NULL)) ||
        !(L->ff1_b = upload(u, bp + 4, 1, f, 0, f32, &L->ff1_bias)) ||
        !(L->ff2_w = upload(u, wp + 5, 1, h, f, d, NULL)) ||
        !(L->ff2_b = upload(u, bp + 5, 1, h, 0, f32, &L->ff2_bias)) ||
        !(L->ln1_gamma = host_vector(m, g1, h, u->error, u->error_size)) ||
        !(L->ln1_beta = host_vector(m, b1, h, u->error, u->error_size)) ||
        !(L->ln2_gamma = host_vector(m, g2, h, u->error, u->error_size)) ||
        !(L->ln2_beta = host_vector(m, b2, h, u->error, u->error_size)))
        return -1;
    return 0;
}

/* Whether the device takes the fused GEMM epilogue and the packed attention this model uses. */
static void probe_features(minilm_model_t *m) {
    const minilm_config_t *c = &m->config;
    xhal_gemm_desc_t g;
    xhal_gemm_desc_init(&g, 64, c->intermediate, c->hidden, XHAL_DTYPE_F32);
    g.b_type = m->weight_dtype;
    g.trans_b = 1;
    g.ldb = c->hidden;
    g.bias = m->layer[0].ff1_b;
    g.bias_type = XHAL_DTYPE_F32;
    g.activation = XHAL_ACTIVATION_GELU_ERF;
    m->fused_epilogue = xhal_gemm_supports(m->device, &g) == XHAL_OK;
    xhal_attention_desc_t a;
    xhal_attention_desc_init(&a, 2, c->heads, c->heads, 64, 64, c->head_dim, XHAL_DTYPE_F32,
                             XHAL_LAYOUT_BSHD);
    a.cu_seqlens_q = a.cu_seqlens_kv = m->layer[0].qkv_b; /* not looked at by supports */
    m->varlen_attention = xhal_attention_supports(m->device, &a) == XHAL_OK;
}

int minilm_load(const char *dir, xhal_device_t *device, xhal_stream_t *stream,
                xhal_dtype_t weight_dtype, int force_unfused, minilm_model_t *out, char *error,
                size_t error_size) {
    *out = (minilm_model_t){.device = device, .stream = stream, .weight_dtype = weight_dtype};
    minilm_config_t *c = &out->config;
    if (load_config(dir, c, error, error_size)) return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (st_open(path, &out->file, error, error_size)) return -1;
    if (!(out->word_emb = tensor(out, "embeddings.word_embeddings.weight", c->vocab, c->hidden,
                                 error, error_size)) ||
        !(out->pos_emb = tensor(out, "embeddings.position_embeddings.weight", c->max_positions,
                                c->hidden, error, error_size)) ||
        !(out->type_emb = tensor(out, "embeddings.token_type_embeddings.weight", c->type_vocab,
                                 c->hidden, error, error_size)) ||
        !(out->emb_ln_gamma =
              host_vector(out, "embeddings.LayerNorm.weight", c->hidden, error, error_size)) ||
        !(out->emb_ln_beta =
              host_vector(out, "embeddings.LayerNorm.bias", c->hidden, error, error_size)))
        return -1;
    uploader_t u = {.m = out, .error = error, .error_size = error_size};
    for (int l = 0; l < c->layers; l++)
        if (load_layer(&u, l)) return -1;
    probe_features(out);
    if (force_unfused) out->fused_epilogue = out->varlen_attention = 0;
    return 0;
}

void minilm_free(minilm_model_t *model) {
    if (!model) return;
    minilm_workspace_free(model);
    for (int l = 0; l < MINILM_MAX_LAYERS; l++) {
        minilm_layer_t *L = &model->layer[l];
        xhal_buffer_t *buffers[8] = {L->qkv_w, L->qkv_b, L->out_w, L->out_b,
                                     L->ff1_w, L->ff1_b, L->ff2_w, L->ff2_b};
        for (int i = 0; i < 8; i++)
            xhal_buffer_free(buffers[i]);
        float *host[8] = {L->qkv_bias,  L->out_bias, L->ff1_bias,  L->ff2_bias,
                          L->ln1_gamma, L->ln1_beta, L->ln2_gamma, L->ln2_beta};
        for (int i = 0; i < 8; i++)
            free(host[i]);
    }
    free(model->emb_ln_gamma);
    free(model->emb_ln_beta);
    st_close(&model->file);
    *model = (minilm_model_t){0};
}
