/*
 * `xhal bench`: times one op on one device for given shapes, and with --vs a baseline library
 * on the same shapes in the same process. Each figure is the median of timed runs after a
 * warm-up, measured with the stream's events; inputs are rotated through several copies when one
 * set would sit in the last-level cache, so a run does not time a warm cache it would not have.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_run.h"
#include "tool_util.h"

static const bench_baseline_t *const baselines[] = {
    &bench_baseline_openblas,
    &bench_baseline_clblast,
    &bench_baseline_cublas,
    &bench_baseline_rocblas,
};

static const char bench_help[] =
    "usage: xhal bench <op> [options] SHAPE...\n"
    "\n"
    "Times one op on one device: the median of --repeats runs after --warmup runs, timed with\n"
    "the stream's events, inputs rotated through copies that together outgrow the last-level\n"
    "cache. Prints time, GFLOP/s, GB/s (minimum bytes: inputs read once, outputs written once)\n"
    "and % of the device's peak.\n"
    "\n"
    "ops and shapes:\n"
    "  gemm       MxNxK or N (for NxNxN): C (f32) = A * B, A and B of --dtype\n"
    "  attention  BxHQxHKVxSQxSKVxD: batch, query heads, KV heads, query length, KV length,\n"
    "             head_dim; or serving batches (causal, lengths log-uniform in LO..HI):\n"
    "             paged:BxHQxHKVxSQxLO-HIxD (SQ queries each over a paged cache),\n"
    "             packed:BxHQxHKVx1xLO-HIxD (that decode, keys contiguous), varlen:BxHQxHKVx\n"
    "             LO-HIxD (packed prefill); paged is compared with packed, varlen with a dense\n"
    "             causal shape of its batch and tokens; bhsd: before a shape: its layout\n"
    "  copy       BYTES (suffix K, M or G): a device-to-device copy\n"
    "A shape may start with a dtype and a colon (bf16:1024) to override --dtype for it; a\n"
    "GEMM timed in f32 and in bf16 or f16 in the same run gets a line with the ratio.\n"
    "A GEMM shape may start with a quantized format for B instead (q4g128:1x4096x14336):\n"
    "q4g32, q4g64, q4g128 (INT4 in groups of k; a trailing z adds zero points), q8 (INT8\n"
    "per channel), e4m3, e5m2 (FP8 per channel), all with bf16 scales and B stored n x k as\n"
    "a linear layer's weights, A of --dtype; its bytes are the quantized ones plus scales,\n"
    "and a dense GEMM of the same shape in the run gets a line with the speed ratio. A GEMM\n"
    "shape may end with its own epilogue (2048x4096x4096+bias+gelu); a run with the same\n"
    "GEMM without one gets a line with what the epilogue costs.\n"
    "\n"
    "options:\n"
    "  --device SPEC   the device (default: XHAL_DEVICE, else the first GPU, else the CPU)\n"
    "  --dtype T       f32, f16 or bf16 (default f32)\n"
    "  --trans-b       gemm: B stored transposed (n x k), as the weights of a linear layer\n"
    "  --causal        attention: bottom-right causal mask\n"
    "  --layout L      attention: bshd (default) or bhsd\n"
    "  --block-size N  attention: tokens per paged block (default 16)\n"
    "  --repeats N     timed runs per shape (default 10)\n"
    "  --warmup N      untimed runs first (default 2, and at least 0.25 s of them; 0: none)\n"
    "  --vs NAME       also time NAME on the same shapes and print the ratio xhal / NAME:\n"
    "                  openblas (CPU), clblast (OpenCL), cublas (CUDA), rocblas (AMD); each\n"
    "                  is loaded at run time when installed, never needed by xhal itself\n"
    "  --rounds N      repeat the whole measurement N times (xhal's shapes, then the\n"
    "                  baseline's) and end with each side's best median and their ratio;\n"
    "                  on a shared machine a noisy spell then rarely decides a ratio\n"
    "                  (default 1)\n"
    "  --stream        also measure the host's STREAM Copy and Triad bandwidths (all threads,\n"
    "                  as STREAM counts bytes; in every round, the best kept) and print each\n"
    "                  figure as a fraction of Copy (for memory-bound shapes on a CPU device)\n"
    "  --copy          also measure the device's copy bandwidth (256 MiB d2d, read + written)\n"
    "                  in every round and print each figure's GB/s as a fraction of it\n"
    "  --epilogue E    gemm: an epilogue for every shape without its own: words joined by\n"
    "                  '+': bias (f32), gated, and one of relu, gelu, gelu-tanh, silu\n"
    "  -h, --help      show this text\n"
    "\n"
    "examples:\n"
    "  xhal bench gemm --device cpu --vs openblas --rounds 3 512 1024 2048 128x4096x4096\n"
    "  xhal bench gemm --device cpu --stream 1x4096x4096\n"
    "  xhal bench gemm --device cpu 2048 bf16:2048\n"
    "  xhal bench gemm --device cpu --copy --rounds 3 bf16:1x4096x14336 q4g128:1x4096x14336\n"
    "  xhal bench gemm --device cpu 2048x4096x4096 2048x4096x4096+bias+gelu\n"
    "  xhal bench attention --device cpu --causal 1x8x8x2048x2048x128\n"
    "  xhal bench attention --device cpu --copy paged:64x64x8x1x128-32768x128 \\\n"
    "      packed:64x64x8x1x128-32768x128 varlen:4x64x8x256-2048x128 --causal 4x64x8x960x960x128\n";

static int parse_dtype(const char *text, xhal_dtype_t *out) {
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (!strcmp(text, xhal_dtype_name((xhal_dtype_t)t))) {
            *out = (xhal_dtype_t)t;
            return 1;
        }
    }
    return 0;
}

static int parse_count(const char *text, long min, long max, long *out) {
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (!*text || *end || value < min || value > max) return 0;
    *out = value;
    return 1;
}

static const bench_baseline_t *find_baseline(const char *name) {
    for (size_t i = 0; i < sizeof baselines / sizeof *baselines; i++)
        if (!strcmp(baselines[i]->name, name)) return baselines[i];
    return NULL;
}

static int run(int argc, char **argv) {
    bench_options_t o = {
        .dtype = XHAL_DTYPE_F32, .repeats = 10, .warmup = 2, .rounds = 1, .block_size = 16};
    bench_epilogue_t epilogue;
    const char *op = NULL, *spec = NULL, *vs = NULL;
    const char **shapes = calloc((size_t)argc, sizeof *shapes);
    size_t shape_count = 0;
    if (!shapes) return tool_fail(XHAL_OUT_OF_MEMORY, "bench");
    int status = TOOL_EXIT_OK;
    for (int i = 1; i < argc && status == TOOL_EXIT_OK; i++) {
        const char *value = NULL;
        int found;
        long number;
        if (tool_is_help(argv[i])) {
            fputs(bench_help, stdout);
            free(shapes);
            return TOOL_EXIT_OK;
        } else if ((found = tool_option_value(argc, argv, &i, "--device", &value)) != 0) {
            if (found < 0 || !*value) status = tool_usage_error("bench", "--device needs a spec");
            spec = value;
        } else if ((found = tool_option_value(argc, argv, &i, "--dtype", &value)) != 0) {
            if (found < 0 || !parse_dtype(value, &o.dtype))
                status = tool_usage_error("bench", "--dtype takes f32, f16 or bf16");
        } else if ((found = tool_option_value(argc, argv, &i, "--repeats", &value)) != 0) {
            if (found < 0 || !parse_count(value, 1, 100000, &number))
                status = tool_usage_error("bench", "--repeats takes a count from 1");
            else
                o.repeats = (int)number;
        } else if ((found = tool_option_value(argc, argv, &i, "--warmup", &value)) != 0) {
            if (found < 0 || !parse_count(value, 0, 100000, &number))
                status = tool_usage_error("bench", "--warmup takes a count from 0");
            else
                o.warmup = (int)number;
        } else if ((found = tool_option_value(argc, argv, &i, "--rounds", &value)) != 0) {
            if (found < 0 || !parse_count(value, 1, 100, &number))
                status = tool_usage_error("bench", "--rounds takes a count from 1 to 100");
            else
                o.rounds = (int)number;
        } else if ((found = tool_option_value(argc, argv, &i, "--layout", &value)) != 0) {
            if (found < 0 || (strcmp(value, "bshd") && strcmp(value, "bhsd")))
                status = tool_usage_error("bench", "--layout takes bshd or bhsd");
            else
                o.layout = strcmp(value, "bhsd") ? XHAL_LAYOUT_BSHD : XHAL_LAYOUT_BHSD;
        } else if ((found = tool_option_value(argc, argv, &i, "--block-size", &value)) != 0) {
            if (found < 0 || !parse_count(value, 1, 256, &number))
                status = tool_usage_error("bench", "--block-size takes a count from 1 to 256");
            else
                o.block_size = number;
        } else if ((found = tool_option_value(argc, argv, &i, "--vs", &value)) != 0) {
            if (found < 0 || !find_baseline(value))
                status = tool_usage_error("bench", "--vs takes the name of a baseline library "
                                                   "(see xhal bench --help)");
            vs = value;
        } else if (!strcmp(argv[i], "--trans-b")) {
            o.trans_b = 1;
        } else if (!strcmp(argv[i], "--causal")) {
            o.causal = 1;
        } else if (!strcmp(argv[i], "--stream")) {
            o.stream = 1;
        } else if (!strcmp(argv[i], "--copy")) {
            o.copy = 1;
        } else if ((found = tool_option_value(argc, argv, &i, "--epilogue", &value)) != 0) {
            if (found < 0 || !bench_epilogue_parse(value, &epilogue))
                status = tool_usage_error("bench", "--epilogue takes words joined by '+': bias, "
                                                   "gated, relu, gelu, gelu-tanh, silu");
            else
                o.epilogue = &epilogue;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            status = tool_usage_error("bench", "unknown option %s", argv[i]);
        } else if (!op) {
            op = argv[i];
        } else {
            shapes[shape_count++] = argv[i];
        }
    }
    if (status == TOOL_EXIT_OK && !op)
        status = tool_usage_error("bench", "name an op: gemm, attention or copy");
    else if (status == TOOL_EXIT_OK && !bench_op_known(op))
        status = tool_usage_error("bench", "unknown op %s: gemm, attention or copy", op);
    else if (status == TOOL_EXIT_OK && shape_count == 0)
        status = tool_usage_error("bench", "give at least one shape");
    if (status == TOOL_EXIT_OK) {
        o.baseline = vs ? find_baseline(vs) : NULL;
        status = bench_run(op, spec, &o, shapes, shape_count);
    }
    free(shapes);
    return status;
}

const tool_command_t tool_cmd_bench = {
    .name = "bench",
    .summary = "time an op on a device for given shapes, optionally against a library",
    .help = bench_help,
    .run = run,
};
