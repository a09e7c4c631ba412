/*
 * `xhal tune`: searches the kernel parameters of a device (conformance/conf_tune.c), checking
 * every candidate against the fp64 reference before timing it, and writes the winners to the
 * device's tuned file, which the backend reads from then on (backends/common/xc_tuned.h).
 *
 * How a candidate reaches the backend (the same for every backend): the tool writes it as a
 * tuned file to a scratch path, points XHAL_TUNING_FILE at it, and opens the device afresh
 * (xhal_shutdown, xhal_init: the library reads its environment once, at init). The backend
 * reads the file like any tuned file, range checks and fits it to the device, and says in
 * xhal_device_info_t.tuning what is in force, "refused" included.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"
#include "tool_util.h"
#include "xc_file.h"
#include "xc_ini.h"
#include "xc_tuned.h"

static const char tune_help[] =
    "usage: xhal tune [--device SPEC] [--op gemm|attention] [--dtype f32|f16|bf16]...\n"
    "                 [--budget SECONDS] [--seed N] [--export] [-q]\n"
    "\n"
    "Searches the kernel parameters of a device (tile sizes, vector widths, work-group shapes,\n"
    "local memory, the choice between kernel variants) on its shape classes: large square GEMM,\n"
    "prefill (m >= 128, B transposed), decode (m <= 64), attention prefill and decode. Every\n"
    "candidate is checked against an fp64 reference on the shapes it is timed on and on odd\n"
    "ones before it is timed; a wrong one is rejected and reported. The search is a seeded\n"
    "hill climb from the shipped tuning, one group of parameters at a time (the same seed and\n"
    "budget try the same candidates), with one line per candidate on stdout and a progress line\n"
    "on stderr. The winners go to\n"
    "  $XDG_CACHE_HOME/xhal/tuning/<backend>-<device>-<hash>.ini (default ~/.cache/xhal/...),\n"
    "keyed by device name, driver version and the kernels' source hash, written atomically: the\n"
    "backend uses them from the next process on (XHAL_LOG=info says so; 'xhal devices' shows\n"
    "the tuning in force). XHAL_TUNING_FILE=<file> makes a backend read that file instead.\n"
    "\n"
    "options:\n"
    "  --device SPEC     the device (default: the first one with parameters to tune)\n"
    "  --op OP           gemm or attention (default: both)\n"
    "  --dtype DTYPE     f32, f16 or bf16, repeatable (default: f32)\n"
    "  --budget SECONDS  for the whole search (default 480)\n"
    "  --seed N          of the search and the inputs (default 1)\n"
    "  --export          print the device's tuned file as a section for kernels/tuning/*.ini\n"
    "                    (no tuning)\n"
    "  --quick           shapes a quarter of the size (for tests)\n"
    "  --test-wrong N    test only: candidate N computes a wrong result (its output is\n"
    "                    corrupted before the check), to show that it is rejected\n"
    "  -q, --quiet       no progress line\n"
    "  -h, --help        show this text\n"
    "\n"
    "Exits 0 when the search ran and its result was written, 1 otherwise, 2 on a usage error.\n";

typedef struct tune_context {
    const char *spec;
    char scratch[4096]; /* the candidate's tuned file */
    xc_tuned_key_t key;
    xhal_device_info_t info;
    xhal_device_t *device;
} tune_context_t;

static int write_tuned(const char *path, const xc_tuned_key_t *key,
                       const conf_tune_setting_t *settings, size_t count, const char *header) {
    xc_ini_t *ini = xc_ini_new();
    int status = ini ? xc_tuned_set_header(ini, key) : -1;
    /* The section exists even when empty: no key over the shipped tuning. */
    status |= ini ? xc_ini_set(ini, XC_TUNED_PARAMETERS, "source", path) : -1;
    for (size_t i = 0; status == 0 && i < count; i++) {
        char value[32];
        snprintf(value, sizeof value, "%d", settings[i].value);
        status = xc_ini_set(ini, XC_TUNED_PARAMETERS, settings[i].key, value);
    }
    if (status == 0) status = xc_ini_write(ini, path, header);
    xc_ini_free(ini);
    return status;
}

/* conf_tune_open_fn: the candidate as a tuned file, then the device opened afresh. */
static xhal_status_t reopen(void *context, const conf_tune_setting_t *settings, size_t count,
                            xhal_device_t **out_device) {
    tune_context_t *c = context;
    if (write_tuned(c->scratch, &c->key, settings, count, NULL) != 0)
        return tool_report(XHAL_DEVICE_ERROR, "xhal tune: writing the candidate"),
               XHAL_DEVICE_ERROR;
    setenv(XC_TUNED_VARIABLE, c->scratch, 1);
    xhal_shutdown();
    xhal_status_t status = xhal_init();
    if (status == XHAL_OK) status = xhal_device_open(c->spec, &c->device);
    *out_device = c->device;
    return status;
}

/* The first device whose backend has parameters to tune. */
static int default_device(char *out, size_t size) {
    size_t count = 0;
    if (xhal_device_count(&count) != XHAL_OK) return -1;
    for (size_t i = 0; i < count; i++) {
        xhal_device_t *device = NULL;
        xhal_device_info_t info = {.struct_size = sizeof info};
        if (xhal_device_get(i, &device) != XHAL_OK || xhal_device_info(device, &info) != XHAL_OK)
            continue;
        if (info.tuning_key[0]) {
            snprintf(out, size, "%s", info.spec);
            return 0;
        }
    }
    return -1;
}

/* --export: the tuned file as a section named like the device (it applies last). */
static int export_section(const tune_context_t *c, const char *path) {
    char error[512], why[512];
    int backend_only = 0;
    xc_ini_t *ini = xc_ini_load(path, error, sizeof error);
    if (!ini) {
        fprintf(stderr, "xhal tune: no tuned file to export: %s\n", error);
        return TOOL_EXIT_FAILURE;
    }
    if (!xc_tuned_matches(ini, &c->key, why, sizeof why, &backend_only)) {
        fprintf(stderr, "xhal tune: %s is not this device's: %s\n", path, why);
        xc_ini_free(ini);
        return TOOL_EXIT_FAILURE;
    }
    const char *date = xc_ini_get(ini, XC_TUNED_HEADER, "date");
    printf("; %s (%s), tuned by `xhal tune` on %s; add to kernels/tuning/%s.ini\n", c->info.name,
           c->info.driver, date ? date : "an unknown date", c->info.backend);
    printf("[%s]\n", c->info.name);
    size_t section = xc_ini_find(ini, XC_TUNED_PARAMETERS);
    for (size_t i = 0; i < xc_ini_key_count(ini, section); i++) {
        const char *value = NULL;
        int line = 0;
        const char *key = xc_ini_key_at(ini, section, i, &value, &line);
        if (strcmp(key, "source") != 0) printf("%s = %s\n", key, value);
    }
    xc_ini_free(ini);
    return TOOL_EXIT_OK;
}

static int finish(tune_context_t *c, const conf_tune_options_t *o, const conf_tune_result_t *r,
                  const char *path) {
    char header[2048], date[32], dir[4096];
    time_t now = time(NULL);
    struct tm utc;
    if (!gmtime_r(&now, &utc) || !strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &utc))
        snprintf(date, sizeof date, "unknown");
    snprintf(header, sizeof header,
             "; Tuned by `xhal tune` (seed %llu, budget %.0f s, %zu candidates, %zu rejected, %zu "
             "skipped) on %s.\n; Delete this file to go back to the shipped tuning.\n",
             (unsigned long long)o->seed, o->budget_s, r->tried, r->rejected, r->skipped, date);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    if ((slash && xc_mkdirs(dir) != 0) ||
        write_tuned(path, &c->key, r->settings, r->count, header) != 0) {
        fprintf(stderr, "xhal tune: cannot write %s: %s\n", path, strerror(errno));
        return TOOL_EXIT_FAILURE;
    }
    /* The date for --export; written again, atomically, with it. */
    xc_ini_t *ini = xc_ini_load(path, dir, sizeof dir);
    if (ini && xc_ini_set(ini, XC_TUNED_HEADER, "date", date) == 0) xc_ini_write(ini, path, header);
    xc_ini_free(ini);
    printf("\n%s", r->summary);
    printf("%zu candidates in %.0f s (%zu rejected as wrong, %zu the device could not run)\n",
           r->tried, r->seconds, r->rejected, r->skipped);
    printf("written to %s (%zu parameters over the shipped tuning)\n", path, r->count);
    return TOOL_EXIT_OK;
}

typedef struct tune_args {
    const char *spec;
    conf_tune_options_t o;
    int export_only, quiet;
} tune_args_t;

static int parse(int argc, char **argv, tune_args_t *a) {
    a->o.budget_s = 480;
    a->o.seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        int found;
        char *end = NULL;
        conf_op_t op;
        xhal_dtype_t dtype;
        if (tool_is_help(argv[i])) {
            fputs(tune_help, stdout);
            return TOOL_EXIT_OK;
        } else if (strcmp(argv[i], "--export") == 0) {
            a->export_only = 1;
        } else if (strcmp(argv[i], "--quick") == 0) {
            a->o.quick = 1;
        } else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
            a->quiet = 1;
        } else if ((found = tool_option_value(argc, argv, &i, "--device", &value)) != 0) {
            if (found < 0 || !*value) return tool_usage_error("tune", "--device wants a spec");
            a->spec = value;
        } else if ((found = tool_option_value(argc, argv, &i, "--op", &value)) != 0) {
            if (found < 0 || !conf_op_parse(value, &op) || op == CONF_OP_COPY)
                return tool_usage_error("tune", "--op wants gemm or attention");
            a->o.ops |= 1u << op;
        } else if ((found = tool_option_value(argc, argv, &i, "--dtype", &value)) != 0) {
            if (found < 0 || !conf_dtype_parse(value, &dtype))
                return tool_usage_error("tune", "--dtype wants f32, f16 or bf16");
            a->o.dtypes |= 1u << dtype;
        } else if ((found = tool_option_value(argc, argv, &i, "--budget", &value)) != 0) {
            a->o.budget_s = found > 0 ? strtod(value, &end) : 0;
            if (found < 0 || !end || *end || !(a->o.budget_s > 0))
                return tool_usage_error("tune", "--budget wants seconds > 0");
        } else if ((found = tool_option_value(argc, argv, &i, "--seed", &value)) != 0) {
            a->o.seed = found > 0 ? strtoull(value, &end, 10) : 0;
            if (found < 0 || !end || *end) return tool_usage_error("tune", "--seed wants a number");
        } else if ((found = tool_option_value(argc, argv, &i, "--test-wrong", &value)) != 0) {
            a->o.corrupt = found > 0 ? (int)strtol(value, &end, 10) : 0;
            if (found < 0 || !end || *end || a->o.corrupt < 1)
                return tool_usage_error("tune", "--test-wrong wants a candidate number >= 1");
        } else {
            return tool_usage_error("tune", "unknown option '%s'", argv[i]);
        }
    }
    return -1;
}

static int run_tune(int argc, char **argv) {
    tune_args_t a;
    memset(&a, 0, sizeof a);
    int code = parse(argc, argv, &a);
    if (code >= 0) return code;
    tune_context_t c;
    memset(&c, 0, sizeof c);
    char spec[64];
    if (!a.spec && default_device(spec, sizeof spec) != 0) {
        fprintf(stderr, "xhal tune: no device has kernel parameters to tune (see xhal devices)\n");
        return TOOL_EXIT_FAILURE;
    }
    c.spec = a.spec ? a.spec : spec;
    xhal_device_t *device = NULL;
    xhal_status_t status = xhal_device_open(c.spec, &device);
    c.info.struct_size = sizeof c.info;
    if (status == XHAL_OK) status = xhal_device_info(device, &c.info);
    if (status != XHAL_OK) return tool_fail(status, "xhal_device_open");
    c.key = (xc_tuned_key_t){c.info.backend, c.info.name, c.info.driver, c.info.tuning_key};
    char path[4096];
    if (!c.info.tuning_key[0] || xc_tuned_path(tool_env, &c.key, path, sizeof path) != 0) {
        fprintf(stderr, "xhal tune: %s (%s) has %s\n", c.spec, c.info.backend,
                c.info.tuning_key[0] ? "no user cache folder (set XDG_CACHE_HOME or HOME)"
                                     : "no kernel parameters to tune");
        return TOOL_EXIT_FAILURE;
    }
    if (a.export_only) return export_section(&c, path);

    char scratch_dir[] = "/tmp/xhal-tune-XXXXXX";
    if (!mkdtemp(scratch_dir)) {
        fprintf(stderr, "xhal tune: no scratch folder: %s\n", strerror(errno));
        return TOOL_EXIT_FAILURE;
    }
    snprintf(c.scratch, sizeof c.scratch, "%s/candidate.ini", scratch_dir);
    printf("xhal tune: %s, %s (%s); tuning in force: %s\n", c.spec, c.info.name, c.info.driver,
           c.info.tuning);
    a.o.open = reopen;
    a.o.open_context = &c;
    a.o.log = stdout;
    a.o.progress = a.quiet ? NULL : stderr;
    conf_tune_result_t result;
    status = conf_tune(&c.info, &a.o, &result);
    unlink(c.scratch);
    rmdir(scratch_dir);
    unsetenv(XC_TUNED_VARIABLE);
    if (status != XHAL_OK) {
        fprintf(stderr, "xhal tune: %s: %s\n", xhal_status_name(status), result.summary);
        return TOOL_EXIT_FAILURE;
    }
    return finish(&c, &a.o, &result, path);
}

const tool_command_t tool_cmd_tune = {
    .name = "tune",
    .summary = "search a device's kernel parameters and keep the fastest correct ones",
    .help = tune_help,
    .run = run_tune,
};
