/*
 * `xhal tune`'s engine: the shape classes, each candidate checked against the fp64 reference
 * and then timed, and the search (conf_tune_space.c describes the space and the strategy).
 *
 * The inputs of every class are made once (seeded) with their fp64 reference, so a candidate
 * costs its device open (the program build is most of it), one checked run per shape and the
 * timed runs. A candidate is checked on the very shapes it is timed on, plus a few odd ones that
 * reach the edge paths of the kernels (partial tiles, transposed A, batches, the GEMV path): a
 * fast wrong candidate is rejected, logged, and never kept.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "conf_tune_space.h"

#define MAX_JOBS 16
#define MAX_REPEATS 7

typedef struct job {
    conf_tune_class_t cls; /* the class it belongs to; CLASS_COUNT: an odd shape, checked only */
    conf_op_t op;
    xhal_gemm_desc_t gemm;
    xhal_attention_desc_t att;
    conf_tensor_t t[4]; /* inputs, then the output (last) */
    int count;          /* tensors */
    double *ref;        /* the output's fp64 reference, dense over the whole output tensor */
    double bound, flops;
} job_t;

typedef struct tuner {
    const conf_tune_options_t *o;
    job_t jobs[MAX_JOBS];
    int job_count;
    int candidate; /* candidates evaluated so far */
    conf_tune_result_t *result;
    double start;
} tuner_t;

/* ---- The shapes ---- */

static int job_gemm(tuner_t *T, conf_tune_class_t cls, xhal_dtype_t dtype, int64_t m, int64_t n,
                    int64_t k, int trans_a, int trans_b, int64_t batch) {
    if (T->job_count == MAX_JOBS) return 1;
    job_t *j = &T->jobs[T->job_count++];
    j->cls = cls;
    j->op = CONF_OP_GEMM;
    xhal_gemm_desc_init(&j->gemm, m, n, k, dtype);
    xhal_gemm_desc_t *d = &j->gemm;
    d->trans_a = trans_a;
    d->trans_b = trans_b;
    d->lda = trans_a ? m : k;
    d->ldb = trans_b ? k : n;
    d->batch = batch;
    d->stride_a = m * k;
    d->stride_b = n * k;
    d->stride_c = m * n;
    size_t counts[3] = {(size_t)(batch * m * k), (size_t)(batch * n * k), (size_t)(batch * m * n)};
    conf_check_t r;
    uint64_t rng = T->o->seed * 0x9e3779b97f4a7c15ull + (uint64_t)T->job_count;
    j->count = 3;
    for (int i = 0; i < 3; i++)
        if (!conf_tensor_init(&j->t[i], dtype, counts[i], &r)) return 0;
    conf_tensor_randomize(&j->t[0], &rng);
    conf_tensor_randomize(&j->t[1], &rng);
    conf_tensor_poison(&j->t[2]);
    memcpy(j->t[2].before, j->t[2].raw, counts[2] * xhal_dtype_size(dtype));
    j->ref = malloc(counts[2] * sizeof *j->ref);
    if (!j->ref) return 0;
    conf_ref_gemm(d, j->t[0].values, j->t[1].values, j->t[2].values, j->ref);
    j->bound = conf_gemm_bound(dtype, k);
    j->flops = conf_gemm_flops(d);
    return 1;
}

static int job_attention(tuner_t *T, conf_tune_class_t cls, xhal_dtype_t dtype, int64_t batch,
                         int64_t hq, int64_t hkv, int64_t sq, int64_t skv, int64_t dim,
                         xhal_layout_t layout) {
    if (T->job_count == MAX_JOBS) return 1;
    job_t *j = &T->jobs[T->job_count++];
    j->cls = cls;
    j->op = CONF_OP_ATTENTION;
    xhal_attention_desc_init(&j->att, batch, hq, hkv, sq, skv, dim, dtype, layout);
    xhal_attention_desc_t *d = &j->att;
    d->causal = 1;
    size_t counts[4] = {(size_t)(batch * hq * sq * dim), (size_t)(batch * hkv * skv * dim),
                        (size_t)(batch * hkv * skv * dim), (size_t)(batch * hq * sq * dim)};
    conf_check_t r;
    uint64_t rng = T->o->seed * 0x9e3779b97f4a7c15ull + (uint64_t)T->job_count;
    j->count = 4;
    for (int i = 0; i < 4; i++)
        if (!conf_tensor_init(&j->t[i], dtype, counts[i], &r)) return 0;
    for (int i = 0; i < 3; i++)
        conf_tensor_randomize(&j->t[i], &rng);
    conf_tensor_poison(&j->t[3]);
    memcpy(j->t[3].before, j->t[3].raw, counts[3] * xhal_dtype_size(dtype));
    double *scores = malloc((size_t)skv * sizeof *scores);
    j->ref = malloc(counts[3] * sizeof *j->ref);
    if (!scores || !j->ref) {
        free(scores);
        return 0;
    }
    /* The reference is dense [b][h][i][x]; the desc's layout decides the device's order. */
    conf_ref_attention(d, j->t[0].values, j->t[1].values, j->t[2].values, scores, j->ref);
    free(scores);
    j->bound = conf_attention_bound(dtype);
    j->flops = conf_attention_flops(d);
    return 1;
}

/* The classes of the selected ops in each dtype, and the odd shapes beside them. */
static int make_jobs(tuner_t *T, unsigned ops, unsigned dtypes) {
    int q = T->o->quick ? 4 : 1, ok = 1;
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (!(dtypes & (1u << t))) continue;
        xhal_dtype_t dt = (xhal_dtype_t)t;
        if (ops & (1u << CONF_OP_GEMM)) {
            ok &= job_gemm(T, CONF_TUNE_SQUARE, dt, 1024 / q, 1024 / q, 1024 / q, 0, 0, 1);
            ok &= job_gemm(T, CONF_TUNE_PREFILL, dt, 512 / q, 1024 / q, 1024 / q, 0, 1, 1);
            ok &= job_gemm(T, CONF_TUNE_DECODE, dt, 16, 2048 / q, 2048 / q, 0, 1, 1);
            if (t == 0 || !(dtypes & 1u)) {
                ok &= job_gemm(T, CONF_TUNE_CLASS_COUNT, dt, 129, 97, 65, 0, 0, 1);
                ok &= job_gemm(T, CONF_TUNE_CLASS_COUNT, dt, 33, 65, 17, 1, 0, 2);
                ok &= job_gemm(T, CONF_TUNE_CLASS_COUNT, dt, 7, 257, 129, 0, 1, 1);
            }
        }
        if (ops & (1u << CONF_OP_ATTENTION)) {
            ok &= job_attention(T, CONF_TUNE_ATT_PREFILL, dt, 1, 8, 2, 512 / q, 512 / q, 128,
                                XHAL_LAYOUT_BSHD);
            ok &= job_attention(T, CONF_TUNE_ATT_DECODE, dt, 2, 32, 8, 1, 2048 / q, 128,
                                XHAL_LAYOUT_BHSD);
            if (t == 0 || !(dtypes & 1u))
                ok &= job_attention(T, CONF_TUNE_CLASS_COUNT, dt, 1, 4, 2, 33, 65, 64,
                                    XHAL_LAYOUT_BSHD);
        }
    }
    return ok;
}

static void free_jobs(tuner_t *T) {
    for (int i = 0; i < T->job_count; i++) {
        for (int k = 0; k < T->jobs[i].count; k++) {
            T->jobs[i].t[k].buffer = NULL; /* freed with their device */
            conf_tensor_free(&T->jobs[i].t[k]);
        }
        free(T->jobs[i].ref);
    }
}

/* ---- One candidate ---- */

typedef struct session {
    xhal_device_t *device;
    xhal_stream_t *stream;
    xhal_event_t *events[MAX_REPEATS + 1];
    xhal_buffer_t *buffers[4];
    job_t *job;
} session_t;

static xhal_status_t enqueue(void *context, int run) {
    (void)run;
    session_t *s = context;
    job_t *j = s->job;
    if (j->op == CONF_OP_GEMM) {
        xhal_gemm_desc_t d = j->gemm;
        d.a = s->buffers[0];
        d.b = s->buffers[1];
        d.c = s->buffers[2];
        return xhal_gemm(s->stream, &d);
    }
    xhal_attention_desc_t d = j->att;
    d.q = s->buffers[0];
    d.k = s->buffers[1];
    d.v = s->buffers[2];
    d.o = s->buffers[3];
    return xhal_attention(s->stream, &d);
}

static void release(session_t *s) {
    for (int i = 0; i < 4; i++) {
        xhal_buffer_free(s->buffers[i]);
        s->buffers[i] = NULL;
    }
}

/* Uploads the job's inputs and the poisoned output, runs it once and judges the output: 1
 * right, 0 wrong (why written), -1 an xhal call failed (why written). */
static int check(session_t *s, job_t *j, int corrupt, char *why, size_t size) {
    s->job = j;
    xhal_status_t st = XHAL_OK;
    for (int i = 0; st == XHAL_OK && i < j->count; i++) {
        uint64_t bytes = (uint64_t)j->t[i].count * xhal_dtype_size(j->t[i].dtype);
        const void *from = i == j->count - 1 ? j->t[i].before : j->t[i].raw;
        st = xhal_buffer_alloc(s->device, bytes, XHAL_MEMORY_DEVICE, &s->buffers[i]);
        if (st == XHAL_OK) st = xhal_copy_h2d(s->stream, s->buffers[i], 0, from, bytes);
    }
    conf_tensor_t *out = &j->t[j->count - 1];
    if (st == XHAL_OK) st = enqueue(s, 0);
    if (st == XHAL_OK)
        st = xhal_copy_d2h(s->stream, out->raw, s->buffers[j->count - 1], 0,
                           (uint64_t)out->count * xhal_dtype_size(out->dtype));
    if (st == XHAL_OK) st = xhal_stream_synchronize(s->stream);
    if (st != XHAL_OK) {
        conf_format(why, size, "%s: %s", xhal_status_name(st), xhal_last_error());
        return -1;
    }
    conf_tensor_decode(out);
    if (corrupt) out->values[out->count / 2] += 1.0; /* the test's wrong candidate */
    /* Attention's output is in the desc's layout; the reference is [b][h][i][x]. */
    double num = 0, den = 0;
    uint64_t bad = 0;
    for (size_t e = 0; e < out->count; e++) {
        size_t at = e;
        if (j->op == CONF_OP_ATTENTION) {
            const xhal_attention_desc_t *d = &j->att;
            int64_t x = (int64_t)e % d->head_dim, rest = (int64_t)e / d->head_dim;
            int64_t i = rest % d->seq_q, h = (rest / d->seq_q) % d->heads_q,
                    b = rest / d->seq_q / d->heads_q;
            at = (size_t)(conf_attention_row(&d->o_strides, b, h, i) + x);
        }
        double v = out->values[at], r = j->ref[e];
        bad += !isfinite(v);
        num += (v - r) * (v - r);
        den += r * r;
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    if (bad || !(rel <= j->bound)) {
        conf_format(why, size,
                    "wrong result on %s %s: relative error %.3g (bound %.3g), %llu "
                    "non-finite",
                    xhal_dtype_name(out->dtype), j->op == CONF_OP_GEMM ? "GEMM" : "attention", rel,
                    j->bound, (unsigned long long)bad);
        return 0;
    }
    return 1;
}

static double time_job(session_t *s, job_t *j) {
    s->job = j;
    conf_timing_t timing = {.warmup_runs = 1, .repeats = MAX_REPEATS, .target_seconds = 0.25};
    conf_timed_t timed;
    if (conf_time_runs(s->stream, s->events, &timing, enqueue, s, &timed) != XHAL_OK) return NAN;
    return timed.median_ms;
}

enum { EVAL_OK, EVAL_REJECTED, EVAL_SKIPPED, EVAL_FAILED };

/* Opens the device with `settings`, checks every job of `classes` and the odd shapes of the
 * group's op, then times the class jobs into ms[job]. */
static int evaluate(tuner_t *T, const conf_tune_setting_t *settings, size_t n, unsigned classes,
                    conf_op_t op, int corrupt, double *ms, char *why, size_t size) {
    session_t s;
    memset(&s, 0, sizeof s);
    xhal_status_t st = T->o->open(T->o->open_context, settings, n, &s.device);
    if (st != XHAL_OK) {
        conf_format(why, size, "the device did not open: %s", xhal_last_error());
        return EVAL_FAILED;
    }
    xhal_device_info_t info = {.struct_size = sizeof info};
    if (xhal_device_info(s.device, &info) == XHAL_OK && strstr(info.tuning, "refused")) {
        conf_format(why, size, "the device cannot run it: %s", strstr(info.tuning, "refused"));
        return EVAL_SKIPPED;
    }
    st = xhal_stream_create(s.device, &s.stream);
    for (int i = 0; st == XHAL_OK && i <= MAX_REPEATS; i++)
        st = xhal_event_create(s.device, &s.events[i]);
    int verdict = st == XHAL_OK ? EVAL_OK : EVAL_FAILED;
    if (st != XHAL_OK) conf_format(why, size, "%s", xhal_last_error());
    for (int i = 0; verdict == EVAL_OK && i < T->job_count; i++) {
        job_t *j = &T->jobs[i];
        int timed = j->cls < CONF_TUNE_CLASS_COUNT && (classes & (1u << j->cls));
        if (j->op != op || (j->cls < CONF_TUNE_CLASS_COUNT && !timed)) continue;
        int c = check(&s, j, corrupt, why, size);
        corrupt = 0;
        if (c <= 0) verdict = c == 0 ? EVAL_REJECTED : EVAL_FAILED;
        if (verdict == EVAL_OK && timed) {
            ms[i] = time_job(&s, j);
            if (!(ms[i] > 0)) {
                conf_format(why, size, "timing failed: %s", xhal_last_error());
                verdict = EVAL_FAILED;
            }
        }
        xhal_stream_synchronize(s.stream);
        release(&s);
    }
    for (int i = 0; i <= MAX_REPEATS; i++)
        xhal_event_destroy(s.events[i]);
    xhal_stream_destroy(s.stream);
    return verdict;
}

/* ---- The search ---- */

static double score(const tuner_t *T, const double *ms, unsigned classes, conf_op_t op) {
    double total = 0;
    for (int i = 0; i < T->job_count; i++) {
        const job_t *j = &T->jobs[i];
        if (j->op == op && j->cls < CONF_TUNE_CLASS_COUNT && (classes & (1u << j->cls)))
            total += log(ms[i]);
    }
    return total;
}

static void describe(char *out, size_t size, const conf_tune_setting_t *s, size_t n) {
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        conf_append(out, size, "%s%s=%d", i ? " " : "", s[i].key, s[i].value);
    if (!n) conf_format(out, size, "(the shipped tuning)");
}

static void rates(char *out, size_t size, const tuner_t *T, const double *ms, unsigned classes,
                  conf_op_t op) {
    out[0] = '\0';
    for (int i = 0; i < T->job_count; i++) {
        const job_t *j = &T->jobs[i];
        if (j->op != op || j->cls >= CONF_TUNE_CLASS_COUNT || !(classes & (1u << j->cls))) continue;
        conf_append(out, size, "%s%s %s %.1f GFLOP/s", out[0] ? ", " : "",
                    conf_tune_class_name(j->cls), xhal_dtype_name(j->t[0].dtype),
                    j->flops / (ms[i] * 1e-3) * 1e-9);
    }
}

static uint64_t next(uint64_t *rng) {
    return conf_random(rng);
}

/* A candidate near `best` (choice -1: the shipped value of that key). */
static void propose(const conf_tune_group_t *g, const int *best, int *out, uint64_t *rng) {
    memcpy(out, best, sizeof(int) * (size_t)g->count);
    if (next(rng) % 4 == 0) {
        for (int p = 0; p < g->count; p++)
            out[p] = (int)(next(rng) % (uint64_t)(g->params[p].count + 1)) - 1;
        return;
    }
    int changes = 1 + (int)(next(rng) % 2);
    for (int c = 0; c < changes; c++) {
        int p = (int)(next(rng) % (uint64_t)g->count);
        int v;
        do
            v = (int)(next(rng) % (uint64_t)(g->params[p].count + 1)) - 1;
        while (v == out[p] && g->params[p].count > 0);
        out[p] = v;
    }
}

static size_t settings_of(const conf_tune_result_t *fixed, const conf_tune_group_t *g,
                          const int *choice, conf_tune_setting_t *out) {
    size_t n = 0;
    for (size_t i = 0; i < fixed->count; i++)
        out[n++] = fixed->settings[i];
    for (int p = 0; p < g->count && n < CONF_TUNE_MAX_SETTINGS; p++)
        if (choice[p] >= 0)
            out[n++] = (conf_tune_setting_t){g->params[p].key, g->params[p].values[choice[p]]};
    return n;
}

static void progress(const tuner_t *T, const conf_tune_group_t *g, double best_gain) {
    if (!T->o->progress) return;
    fprintf(T->o->progress,
            "\r\033[Kxhal tune: %s: candidate %d (%zu rejected, %zu skipped), "
            "best %+.0f%%, %.0f / %.0f s",
            g->name, T->candidate, T->result->rejected, T->result->skipped, best_gain,
            conf_now() - T->start, T->o->budget_s);
    fflush(T->o->progress);
}

static void say(const tuner_t *T, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const tuner_t *T, const char *fmt, ...) {
    char line[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    if (T->o->progress) fputs("\r\033[K", T->o->progress);
    if (!T->o->log) return;
    fprintf(T->o->log, "%4d  %s", T->candidate, line);
    fflush(T->o->log);
}

static void search(tuner_t *T, const conf_tune_group_t *g, size_t index, double deadline) {
    double ms[MAX_JOBS], best_ms[MAX_JOBS];
    int best[CONF_TUNE_GROUP_PARAMS], choice[CONF_TUNE_GROUP_PARAMS];
    conf_tune_setting_t settings[CONF_TUNE_MAX_SETTINGS];
    char why[600], text[600], speed[600];
    uint64_t rng = T->o->seed * 0x2545f4914f6cdd1dull + index + 1, seen[512] = {0};
    size_t seen_count = 0;
    for (int p = 0; p < g->count; p++)
        best[p] = -1;
    size_t n = settings_of(T->result, g, best, settings);
    int verdict = evaluate(T, settings, n, g->classes, g->op, 0, best_ms, why, sizeof why);
    describe(text, sizeof text, settings, n);
    if (verdict != EVAL_OK) {
        say(T, "%s baseline %s: %s\n", g->name, text, why);
        return;
    }
    double base = score(T, best_ms, g->classes, g->op), best_score = base;
    rates(speed, sizeof speed, T, best_ms, g->classes, g->op);
    say(T, "%s baseline %s: %s\n", g->name, text, speed);
    conf_append(T->result->summary, sizeof T->result->summary, "%s before: %s\n", g->name, speed);
    int misses = 0;
    /* A candidate is started only when one more, at the mean cost so far, ends in the budget
     * with the confirmation's two (the first of each group always runs: a tiny budget still
     * tries something). */
    double spent = 0;
    int evaluated = 0;
    int improved = 0; /* then two more runs are kept for the confirmation below */
    while ((!evaluated || conf_now() + (improved ? 3 : 1) * spent / evaluated < deadline) &&
           misses < 200) {
        propose(g, best, choice, &rng);
        uint64_t code = 0;
        for (int p = 0; p < g->count; p++)
            code = code * 17 + (uint64_t)(choice[p] + 1);
        int known = 0;
        for (size_t i = 0; i < seen_count && !known; i++)
            known = seen[i] == code;
        if (known || code == 0) {
            misses++;
            continue;
        }
        misses = 0;
        if (seen_count < sizeof seen / sizeof seen[0]) seen[seen_count++] = code;
        T->candidate++;
        T->result->tried++;
        n = settings_of(T->result, g, choice, settings);
        describe(text, sizeof text, settings + T->result->count, n - T->result->count);
        double began = conf_now();
        verdict = evaluate(T, settings, n, g->classes, g->op, T->candidate == T->o->corrupt, ms,
                           why, sizeof why);
        spent += conf_now() - began;
        evaluated++;
        if (verdict == EVAL_REJECTED || verdict == EVAL_FAILED) {
            T->result->rejected += verdict == EVAL_REJECTED;
            say(T, "%s %s: %s: %s\n", g->name, text,
                verdict == EVAL_REJECTED ? "REJECTED" : "failed", why);
        } else if (verdict == EVAL_SKIPPED) {
            T->result->skipped++;
            say(T, "%s %s: skipped: %s\n", g->name, text, why);
        } else {
            double s = score(T, ms, g->classes, g->op);
            rates(speed, sizeof speed, T, ms, g->classes, g->op);
            int better = s < best_score - 0.02; /* at least 2% faster: not noise */
            say(T, "%s %s: %s%s\n", g->name, text, speed, better ? " (best so far)" : "");
            if (better) {
                improved = 1;
                best_score = s;
                memcpy(best, choice, sizeof best);
                memcpy(best_ms, ms, sizeof ms);
            }
        }
        progress(T, g, 100 * (exp(base - best_score) - 1));
    }
    /*
     * A winner measured minutes after the baseline may owe its lead to the machine's load
     * changing: both are measured again, back to back, and the winner kept only if it still
     * leads by 2%.
     */
    int changed = 0;
    for (int p = 0; p < g->count; p++)
        changed |= best[p] >= 0;
    if (changed) {
        int none[CONF_TUNE_GROUP_PARAMS];
        for (int p = 0; p < g->count; p++)
            none[p] = -1;
        double again_base[MAX_JOBS], again_best[MAX_JOBS];
        n = settings_of(T->result, g, none, settings);
        int a = evaluate(T, settings, n, g->classes, g->op, 0, again_base, why, sizeof why);
        n = settings_of(T->result, g, best, settings);
        int b = evaluate(T, settings, n, g->classes, g->op, 0, again_best, why, sizeof why);
        if (a == EVAL_OK && b == EVAL_OK) {
            base = score(T, again_base, g->classes, g->op);
            best_score = score(T, again_best, g->classes, g->op);
            memcpy(best_ms, again_best, sizeof again_best);
            if (best_score > base - 0.02) {
                for (int p = 0; p < g->count; p++)
                    best[p] = -1;
                memcpy(best_ms, again_base, sizeof again_base);
                best_score = base;
            }
            say(T, "%s confirmation: the winner is %s\n", g->name,
                best_score < base ? "kept"
                                  : "no better than the shipped tuning when both are "
                                    "measured again; the shipped tuning is kept");
        }
    }
    /* The winners of this group stay set while the next groups are searched. */
    for (int p = 0; p < g->count && T->result->count < CONF_TUNE_MAX_SETTINGS; p++)
        if (best[p] >= 0)
            T->result->settings[T->result->count++] =
                (conf_tune_setting_t){g->params[p].key, g->params[p].values[best[p]]};
    rates(speed, sizeof speed, T, best_ms, g->classes, g->op);
    conf_append(T->result->summary, sizeof T->result->summary, "%s after:  %s (%+.0f%%)\n", g->name,
                speed, 100 * (exp(base - best_score) - 1));
}

xhal_status_t conf_tune(const xhal_device_info_t *info, const conf_tune_options_t *options,
                        conf_tune_result_t *out) {
    memset(out, 0, sizeof *out);
    const conf_tune_group_t *groups = NULL;
    size_t count = conf_tune_space(info, &groups);
    if (!count) {
        conf_format(out->summary, sizeof out->summary,
                    "the %s backend has no parameter space to tune", info->backend);
        return XHAL_UNSUPPORTED;
    }
    tuner_t T;
    memset(&T, 0, sizeof T);
    T.o = options;
    T.result = out;
    T.start = conf_now();
    unsigned ops = options->ops ? options->ops : (1u << CONF_OP_GEMM) | (1u << CONF_OP_ATTENTION);
    unsigned dtypes = options->dtypes ? options->dtypes : 1u;
    if (!make_jobs(&T, ops, dtypes)) {
        free_jobs(&T);
        conf_format(out->summary, sizeof out->summary, "out of host memory for the shapes");
        return XHAL_OUT_OF_MEMORY;
    }
    double shares = 0;
    for (size_t g = 0; g < count; g++)
        if (ops & (1u << groups[g].op)) shares += groups[g].share;
    double left = options->budget_s - (conf_now() - T.start), at = conf_now();
    for (size_t g = 0; g < count; g++) {
        if (!(ops & (1u << groups[g].op))) continue;
        at += left * groups[g].share / shares;
        search(&T, &groups[g], g, at);
    }
    if (options->progress) fputs("\r\033[K", options->progress);
    out->seconds = conf_now() - T.start;
    free_jobs(&T);
    return XHAL_OK;
}
