/*
 * examples/minilm's loader and encoder on a small BERT made here (random weights written as a
 * safetensors file and a config.json: 2 layers, hidden 64, 2 heads of 32, feed-forward 96), on
 * every test device, through both paths (serving ops where the device has them, and the
 * fallback), against an fp64 BERT written below from the model's definition. Needs no download,
 * so the encoder is checked on every machine, under ASan and valgrind too; the real model is
 * checked against the Python reference by check_embeddings.py.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

enum { LAYERS = 2, H = 64, HEADS = 2, D = 32, F = 96, VOCAB = 50, POSITIONS = 40 };

typedef struct tensor_spec {
    char name[96];
    int rows, cols; /* cols 0: a vector */
    float *data;
} tensor_spec_t;

static tensor_spec_t tensors[8 + 16 * LAYERS];
static int tensor_count;
static char model_dir[64];
static xt_devices_t devices;

static float *add_tensor(xt_rng_t *rng, const char *name, int rows, int cols, double scale,
                         double offset) {
    tensor_spec_t *t = &tensors[tensor_count++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows;
    t->cols = cols;
    size_t n = (size_t)rows * (size_t)(cols ? cols : 1);
    t->data = xt_malloc(n * sizeof *t->data);
    for (size_t i = 0; i < n; i++)
        t->data[i] = (float)(offset + scale * xt_rng_uniform(rng));
    return t->data;
}

static const float *find(const char *name) {
    for (int i = 0; i < tensor_count; i++)
        if (strcmp(tensors[i].name, name) == 0) return tensors[i].data;
    fail_msg("no tensor %s", name);
    return NULL;
}

static void write_model(void) {
    xt_rng_t rng;
    xt_rng_seed(&rng, 13);
    add_tensor(&rng, "embeddings.word_embeddings.weight", VOCAB, H, 1.0, 0);
    add_tensor(&rng, "embeddings.position_embeddings.weight", POSITIONS, H, 0.5, 0);
    add_tensor(&rng, "embeddings.token_type_embeddings.weight", 2, H, 0.5, 0);
    add_tensor(&rng, "embeddings.LayerNorm.weight", H, 0, 0.2, 1.0);
    add_tensor(&rng, "embeddings.LayerNorm.bias", H, 0, 0.1, 0);
    static const struct {
        const char *part;
        int rows, cols;
    } linear[6] = {{"attention.self.query", H, H}, {"attention.self.key", H, H},
                   {"attention.self.value", H, H}, {"attention.output.dense", H, H},
                   {"intermediate.dense", F, H},   {"output.dense", H, F}};
    char name[96];
    for (int l = 0; l < LAYERS; l++) {
        for (int i = 0; i < 6; i++) {
            snprintf(name, sizeof name, "encoder.layer.%d.%s.weight", l, linear[i].part);
            add_tensor(&rng, name, linear[i].rows, linear[i].cols,
                       1.5 / sqrt((double)linear[i].cols), 0);
            snprintf(name, sizeof name, "encoder.layer.%d.%s.bias", l, linear[i].part);
            add_tensor(&rng, name, linear[i].rows, 0, 0.2, 0);
        }
        const char *norms[2] = {"attention.output.LayerNorm", "output.LayerNorm"};
        for (int i = 0; i < 2; i++) {
            snprintf(name, sizeof name, "encoder.layer.%d.%s.weight", l, norms[i]);
            add_tensor(&rng, name, H, 0, 0.2, 1.0);
            snprintf(name, sizeof name, "encoder.layer.%d.%s.bias", l, norms[i]);
            add_tensor(&rng, name, H, 0, 0.1, 0);
        }
    }
    snprintf(model_dir, sizeof model_dir, "/tmp/minilm-encoder-XXXXXX");
    assert_non_null(mkdtemp(model_dir));
    char path[128], header[16384];
    snprintf(path, sizeof path, "%s/config.json", model_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"hidden_act\": \"gelu\", \"hidden_size\": %d, \"intermediate_size\": %d,\n"
            " \"layer_norm_eps\": 1e-12, \"max_position_embeddings\": %d,\n"
            " \"num_attention_heads\": %d, \"num_hidden_layers\": %d, \"type_vocab_size\": 2,\n"
            " \"vocab_size\": %d}\n",
            H, F, POSITIONS, HEADS, LAYERS, VOCAB);
    fclose(f);
    /* The header, then the tensors in order; an I64 tensor the loader must skip, as the real
     * file has (embeddings.position_ids). */
    size_t n = (size_t)snprintf(header, sizeof header,
                                "{\"__metadata__\":{\"format\":\"pt\"},"
                                "\"embeddings.position_ids\":{\"dtype\":\"I64\",\"shape\":[1],"
                                "\"data_offsets\":[0,8]}");
    uint64_t offset = 8;
    for (int i = 0; i < tensor_count; i++) {
        uint64_t bytes =
            (uint64_t)tensors[i].rows * (uint64_t)(tensors[i].cols ? tensors[i].cols : 1) * 4;
        if (tensors[i].cols)
            n += (size_t)snprintf(header + n, sizeof header - n,
                                  ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d,%d],"
                                  "\"data_offsets\":[%llu,%llu]}",
                                  tensors[i].name, tensors[i].rows, tensors[i].cols,
                                  (unsigned long long)offset, (unsigned long long)(offset + bytes));
        else
            n += (size_t)snprintf(header + n, sizeof header - n,
                                  ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],"
                                  "\"data_offsets\":[%llu,%llu]}",
                                  tensors[i].name, tensors[i].rows, (unsigned long long)offset,
                                  (unsigned long long)(offset + bytes));
        offset += bytes;
    }
    n += (size_t)snprintf(header + n, sizeof header - n, "}");
    assert_true(n < sizeof header - 1);
    snprintf(path, sizeof path, "%s/model.safetensors", model_dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char length[8];
    for (int i = 0; i < 8; i++)
        length[i] = (unsigned char)((uint64_t)n >> (8 * i));
    fwrite(length, 1, 8, f);
    fwrite(header, 1, n, f);
    int64_t position_id = 0;
    fwrite(&position_id, 8, 1, f);
    for (int i = 0; i < tensor_count; i++)
        fwrite(tensors[i].data, 4,
               (size_t)tensors[i].rows * (size_t)(tensors[i].cols ? tensors[i].cols : 1), f);
    fclose(f);
}

/* ---- The fp64 reference: BERT as its paper and all-MiniLM-L6-v2's config define it ---- */

static void ref_layer_norm(double *x, const char *prefix) {
    char name[96];
    snprintf(name, sizeof name, "%s.weight", prefix);
    const float *gamma = find(name);
    snprintf(name, sizeof name, "%s.bias", prefix);
    const float *beta = find(name);
    double mean = 0, var = 0;
    for (int j = 0; j < H; j++)
        mean += x[j] / H;
    for (int j = 0; j < H; j++)
        var += (x[j] - mean) * (x[j] - mean) / H;
    for (int j = 0; j < H; j++)
        x[j] = (x[j] - mean) / sqrt(var + 1e-12) * gamma[j] + beta[j];
}

/* y[rows][out] = x[rows][in] W^T + b for the linear layer `prefix`. */
static void ref_linear(const double *x, int rows, int in, int out, const char *prefix, double *y) {
    char name[96];
    snprintf(name, sizeof name, "%s.weight", prefix);
    const float *w = find(name);
    snprintf(name, sizeof name, "%s.bias", prefix);
    const float *b = find(name);
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) {
            double sum = b[o];
            for (int i = 0; i < in; i++)
                sum += x[r * in + i] * w[o * in + i];
            y[r * out + o] = sum;
        }
}

/* One sentence's embedding (mean over its tokens, L2-normalized). */
static void ref_encode(const int32_t *ids, int n, double *out) {
    double *x = xt_malloc((size_t)n * H * sizeof *x), *q = xt_malloc((size_t)n * H * sizeof *q);
    double *k = xt_malloc((size_t)n * H * sizeof *k), *v = xt_malloc((size_t)n * H * sizeof *v);
    double *ctx = xt_malloc((size_t)n * H * sizeof *ctx), *t = xt_malloc((size_t)n * H * sizeof *t);
    double *ff = xt_malloc((size_t)n * F * sizeof *ff), *p = xt_malloc((size_t)n * sizeof *p);
    const float *word = find("embeddings.word_embeddings.weight");
    const float *pos = find("embeddings.position_embeddings.weight");
    const float *type = find("embeddings.token_type_embeddings.weight");
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < H; j++)
            x[i * H + j] = (double)word[ids[i] * H + j] + pos[i * H + j] + type[j];
        ref_layer_norm(x + i * H, "embeddings.LayerNorm");
    }
    char name[96], prefix[64];
    for (int l = 0; l < LAYERS; l++) {
        snprintf(prefix, sizeof prefix, "encoder.layer.%d", l);
        snprintf(name, sizeof name, "%s.attention.self.query", prefix);
        ref_linear(x, n, H, H, name, q);
        snprintf(name, sizeof name, "%s.attention.self.key", prefix);
        ref_linear(x, n, H, H, name, k);
        snprintf(name, sizeof name, "%s.attention.self.value", prefix);
        ref_linear(x, n, H, H, name, v);
        for (int h = 0; h < HEADS; h++)
            for (int i = 0; i < n; i++) {
                double max = -INFINITY, sum = 0;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int d = 0; d < D; d++)
                        dot += q[i * H + h * D + d] * k[j * H + h * D + d];
                    p[j] = dot / sqrt((double)D);
                    max = fmax(max, p[j]);
                }
                for (int j = 0; j < n; j++)
                    sum += (p[j] = exp(p[j] - max));
                for (int d = 0; d < D; d++) {
                    double acc = 0;
                    for (int j = 0; j < n; j++)
                        acc += p[j] * v[j * H + h * D + d];
                    ctx[i * H + h * D + d] = acc / sum;
                }
            }
        snprintf(name, sizeof name, "%s.attention.output.dense", prefix);
        ref_linear(ctx, n, H, H, name, t);
        snprintf(name, sizeof name, "%s.attention.output.LayerNorm", prefix);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < H; j++)
                x[i * H + j] += t[i * H + j];
            ref_layer_norm(x + i * H, name);
        }
        snprintf(name, sizeof name, "%s.intermediate.dense", prefix);
        ref_linear(x, n, H, F, name, ff);
        for (int i = 0; i < n * F; i++)
            ff[i] = 0.5 * ff[i] * (1.0 + erf(ff[i] / sqrt(2.0)));
        snprintf(name, sizeof name, "%s.output.dense", prefix);
        ref_linear(ff, n, F, H, name, t);
        snprintf(name, sizeof name, "%s.output.LayerNorm", prefix);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < H; j++)
                x[i * H + j] += t[i * H + j];
            ref_layer_norm(x + i * H, name);
        }
    }
    double norm = 0;
    for (int j = 0; j < H; j++) {
        out[j] = 0;
        for (int i = 0; i < n; i++)
            out[j] += x[i * H + j] / n;
        norm += out[j] * out[j];
    }
    for (int j = 0; j < H; j++)
        out[j] /= sqrt(norm);
    free(x), free(q), free(k), free(v), free(ctx), free(t), free(ff), free(p);
}

/* ---- The tests ---- */

enum { SENTENCES = 7 };
static const int32_t lengths[SENTENCES] = {5, 1, 40, 2, 17, 33, 9};

static int setup(void **state) {
    (void)state;
    write_model();
    if (xt_devices_select(&devices) == 0) return -1;
    return xt_devices_open_streams(&devices);
}

static int teardown(void **state) {
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors", model_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", model_dir);
    unlink(path);
    rmdir(model_dir);
    for (int i = 0; i < tensor_count; i++)
        free(tensors[i].data);
    xt_devices_close(&devices);
    return 0;
}

/* Every device, both paths and every weight dtype, on a packed batch of 1..40 tokens. */
static void test_against_reference(void **state) {
    (void)state;
    xt_rng_t rng;
    xt_rng_seed(&rng, 7);
    int32_t ids[200];
    int total = 0;
    for (int s = 0; s < SENTENCES; s++)
        for (int i = 0; i < lengths[s]; i++)
            ids[total++] = (int32_t)xt_rng_range(&rng, 0, VOCAB - 1);
    double ref[SENTENCES][H];
    for (int s = 0, start = 0; s < SENTENCES; start += lengths[s], s++)
        ref_encode(ids + start, lengths[s], ref[s]);
    static const struct {
        xhal_dtype_t dtype;
        double bound; /* of 1 - cosine */
    } dtypes[3] = {{XHAL_DTYPE_F32, 1e-9}, {XHAL_DTYPE_BF16, 1e-4}, {XHAL_DTYPE_F16, 1e-5}};
    for (size_t d = 0; d < devices.count; d++)
        for (int unfused = 0; unfused <= 1; unfused++)
            for (int t = 0; t < 3; t++) {
                minilm_model_t model;
                char error[512];
                if (minilm_load(model_dir, devices.device[d], devices.stream[d], dtypes[t].dtype,
                                unfused, &model, error, sizeof error))
                    fail_msg("minilm_load: %s", error);
                assert_int_equal(model.config.hidden, H);
                assert_int_equal(model.config.max_tokens, POSITIONS); /* no sentence config */
                float out[SENTENCES][H];
                if (minilm_encode(&model, ids, lengths, SENTENCES, &out[0][0], NULL, error,
                                  sizeof error))
                    fail_msg("minilm_encode: %s", error);
                /* Twice, the second with timing: the same embeddings, and every class timed. */
                minilm_timing_t timing = {0};
                float again[SENTENCES][H];
                if (minilm_encode(&model, ids, lengths, SENTENCES, &again[0][0], &timing, error,
                                  sizeof error))
                    fail_msg("minilm_encode: %s", error);
                assert_memory_equal(out, again, sizeof out);
                assert_true(timing.gemm_flops ==
                            2.0 * total * LAYERS * (4.0 * H * H + 2.0 * H * F));
                double worst = 0;
                for (int s = 0; s < SENTENCES; s++) {
                    double dot = 0, norm = 0;
                    for (int j = 0; j < H; j++) {
                        dot += out[s][j] * ref[s][j];
                        norm += (double)out[s][j] * out[s][j];
                    }
                    double gap = 1 - dot / sqrt(norm);
                    worst = isnan(gap) || gap > worst ? (isnan(gap) ? INFINITY : gap) : worst;
                }
                xhal_device_info_t info = {.struct_size = sizeof info};
                XT_OK(xhal_device_info(devices.device[d], &info));
                print_message("%s, %s epilogue, %s attention, %s weights: 1 - cosine %.2e (bound "
                              "%.0e)\n",
                              info.spec, model.fused_epilogue ? "fused" : "host",
                              model.varlen_attention ? "packed" : "per-sentence",
                              xhal_dtype_name(dtypes[t].dtype), worst, dtypes[t].bound);
                minilm_free(&model);
                assert_true(worst <= dtypes[t].bound);
            }
}

/* What minilm_encode refuses. */
static void test_refused(void **state) {
    (void)state;
    minilm_model_t model;
    char error[512];
    if (minilm_load(model_dir, devices.device[0], devices.stream[0], XHAL_DTYPE_F32, 0, &model,
                    error, sizeof error))
        fail_msg("minilm_load: %s", error);
    float out[2 * H];
    int32_t ids[3] = {1, 2, VOCAB};
    int32_t bad_lengths[2] = {2, 1};
    assert_int_equal(minilm_encode(&model, ids, bad_lengths, 2, out, NULL, error, sizeof error),
                     -1);
    assert_non_null(strstr(error, "outside the vocabulary"));
    int32_t too_long[1] = {POSITIONS + 1};
    assert_int_equal(minilm_encode(&model, ids, too_long, 1, out, NULL, error, sizeof error), -1);
    assert_non_null(strstr(error, "tokens; 1 to"));
    assert_int_equal(minilm_encode(&model, ids, bad_lengths, 0, out, NULL, error, sizeof error),
                     -1);
    minilm_free(&model);
    assert_int_equal(minilm_load("/nonexistent", devices.device[0], devices.stream[0],
                                 XHAL_DTYPE_F32, 0, &model, error, sizeof error),
                     -1);
    assert_non_null(strstr(error, "config.json"));
    minilm_free(&model);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
