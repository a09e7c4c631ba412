/* Small things every part of the suite uses: names, random inputs, dtype rounding, strings. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf_internal.h"

const char *conf_outcome_name(conf_outcome_t outcome) {
    static const char *const names[] = {"PASS", "FAIL", "SKIP", "XFAIL", "XPASS"};
    return (unsigned)outcome < sizeof names / sizeof names[0] ? names[outcome] : "?";
}

const char *conf_op_name(conf_op_t op) {
    static const char *const names[] = {"gemm", "attention", "copy"};
    return (unsigned)op < CONF_OP_COUNT ? names[op] : "?";
}

int conf_op_parse(const char *name, conf_op_t *out) {
    for (int op = 0; op < CONF_OP_COUNT; op++) {
        if (strcmp(name, conf_op_name((conf_op_t)op)) == 0) {
            *out = (conf_op_t)op;
            return 1;
        }
    }
    if (strcmp(name, "attn") == 0) {
        *out = CONF_OP_ATTENTION;
        return 1;
    }
    return 0;
}

int conf_dtype_parse(const char *name, xhal_dtype_t *out) {
    for (int t = 0; t < XHAL_DTYPE_COUNT; t++) {
        if (strcmp(name, xhal_dtype_name((xhal_dtype_t)t)) == 0) {
            *out = (xhal_dtype_t)t;
            return 1;
        }
    }
    return 0;
}

uint64_t conf_random(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float conf_random_value(uint64_t *state) {
    /* The top 53 bits give a uniform double in [0, 1); mapped to [1/1024, 1] with a sign. */
    uint64_t bits = conf_random(state);
    double unit = (double)(bits >> 11) * 0x1.0p-53;
    double magnitude = 1.0 / 1024 + unit * (1.0 - 1.0 / 1024);
    return (float)(bits & 1 ? -magnitude : magnitude);
}

double conf_store(void *raw, xhal_dtype_t dtype, size_t index, float value) {
    if (dtype == XHAL_DTYPE_F32) {
        ((float *)raw)[index] = value;
        return value;
    }
    uint16_t *half = raw;
    if (dtype == XHAL_DTYPE_F16) {
        half[index] = xhal_f32_to_f16(value);
        return xhal_f16_to_f32(half[index]);
    }
    half[index] = xhal_f32_to_bf16(value);
    return xhal_bf16_to_f32(half[index]);
}

double conf_load(const void *raw, xhal_dtype_t dtype, size_t index) {
    if (dtype == XHAL_DTYPE_F32) return ((const float *)raw)[index];
    const uint16_t *half = raw;
    return dtype == XHAL_DTYPE_F16 ? xhal_f16_to_f32(half[index]) : xhal_bf16_to_f32(half[index]);
}

uint32_t conf_nan_bits(xhal_dtype_t dtype) {
    return dtype == XHAL_DTYPE_F32 ? 0x7FC00000u : dtype == XHAL_DTYPE_F16 ? 0x7E00u : 0x7FC0u;
}

void conf_format(char *out, size_t size, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(out, size, fmt, args);
    va_end(args);
}

void conf_append(char *out, size_t size, const char *fmt, ...) {
    size_t used = strlen(out);
    if (used + 1 >= size) return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(out + used, size - used, fmt, args);
    va_end(args);
}

double conf_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void conf_utc_date(char *out, size_t size) {
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) && strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0) return;
    conf_format(out, size, "unknown");
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double conf_median(double *values, size_t count) {
    if (count == 0) return NAN;
    qsort(values, count, sizeof *values, compare_doubles);
    return count % 2 ? values[count / 2] : 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

uint64_t conf_host_cache_bytes(uint64_t fallback) {
    /*
     * /sys rather than sysconf(_SC_LEVEL3_CACHE_SIZE): on the virtual machines this was
     * written on, glibc reports 320 MiB for a 32 MiB L3. The highest index is the last level.
     */
    uint64_t best = 0;
    for (int index = 0; index < 8; index++) {
        char path[96], text[64];
        conf_format(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
        FILE *file = fopen(path, "r");
        if (!file) continue;
        if (fgets(text, sizeof text, file)) {
            char *end = NULL;
            unsigned long long value = strtoull(text, &end, 10);
            if (end && (*end == 'K' || *end == 'k')) value *= 1024;
            if (end && (*end == 'M' || *end == 'm')) value *= 1024 * 1024;
            if (value > best) best = value;
        }
        fclose(file);
    }
    return best ? best : fallback;
}

void conf_slug(const char *spec, char *out, size_t size) {
    size_t i = 0;
    for (; spec[i] && i + 1 < size; i++) {
        unsigned char c = (unsigned char)spec[i];
        out[i] = isalnum(c) || c == '-' || c == '_' || c == '.' ? (char)c : '-';
    }
    if (size) out[i < size ? i : size - 1] = '\0';
}
