/*
 * The CPU device: there is exactly one, the host. Opening it creates its thread pool and
 * measures its clock; its info says what the processor is and what it can do at best:
 *
 *   peak f32 FLOP/s = threads x FLOP/cycle/core x measured GHz
 *   FLOP/cycle/core = 2 (an FMA is two FLOPs) x SIMD lanes x FMA pipes
 *
 * The clock is measured because the figure in /proc/cpuinfo is the nominal (or a hypervisor's)
 * one: on the machines this was written on it says 2.6 GHz while the cores run at 3.6-4.1 GHz.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define CPU_X86 1
#else
#define CPU_X86 0
#endif

#include "cpu_internal.h"
#include "host_cpu.h"
#include "xc_options.h"
#include "isa.h"

/* A thread count beyond this in XHAL_CPU_THREADS is taken for a typo. */
#define CPU_MAX_THREADS 4096

/* Copies src into dst[size], cutting it short if needed (snprintf would do, but GCC warns). */
static void copy_string(char *dst, size_t size, const char *src) {
    size_t n = strlen(src);
    if (n >= size) n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- What the processor is ---- */

/*
 * Copies the value of the first "key<spaces>: value" line of /proc/cpuinfo into out[size].
 * Returns 0 when the file or the key is missing.
 */
static int cpuinfo_field(const char *key, char *out, size_t size) {
    FILE *file = fopen("/proc/cpuinfo", "r");
    if (!file) return 0;
    char line[512];
    size_t key_len = strlen(key);
    int found = 0;
    while (!found && fgets(line, sizeof(line), file)) {
        if (strncmp(line, key, key_len) != 0) continue;
        const char *p = line + key_len;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != ':') continue; /* "model" must not match "model name" */
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, "\n");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 0) continue;
        if (n >= size) n = size - 1;
        memcpy(out, p, n);
        out[n] = '\0';
        found = 1;
    }
    fclose(file);
    return found;
}

static void fill_vendor(const host_cpu_features_t *f, char *out, size_t size) {
    if (strcmp(f->vendor_id, "AuthenticAMD") == 0) {
        copy_string(out, size, "AMD");
    } else if (strcmp(f->vendor_id, "GenuineIntel") == 0) {
        copy_string(out, size, "Intel");
    } else if (f->vendor_id[0]) {
        copy_string(out, size, f->vendor_id);
    } else if (!cpuinfo_field("vendor_id", out, size)) {
        /* Arm cores name their designer by a number: the common ones. */
        char implementer[32] = "";
        cpuinfo_field("CPU implementer", implementer, sizeof(implementer));
        long code = strtol(implementer, NULL, 16);
        const char *name = code == 0x41   ? "Arm"
                           : code == 0x48 ? "HiSilicon"
                           : code == 0x4e ? "NVIDIA"
                           : code == 0x51 ? "Qualcomm"
                           : code == 0x61 ? "Apple"
                           : code == 0xc0 ? "Ampere"
                                          : "unknown";
        copy_string(out, size, name);
    }
}

/* "x86_64 avx512f avx512bf16 avx2 fma": the machine, then the features the kernels care about. */
static void fill_architecture(const host_cpu_features_t *f, char *out, size_t size) {
    struct utsname names;
    copy_string(out, size, uname(&names) == 0 ? names.machine : (CPU_X86 ? "x86" : "unknown"));
    const struct {
        int present;
        const char *name;
    } flags[] = {
        {f->avx512f, " avx512f"},
        {f->avx512bf16, " avx512bf16"},
        {f->avx512fp16, " avx512fp16"},
        {f->avx2, " avx2"},
        {f->fma, " fma"},
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        size_t used = strlen(out);
        if (flags[i].present && used + strlen(flags[i].name) < size)
            memcpy(out + used, flags[i].name, strlen(flags[i].name) + 1);
    }
}

/* ---- How many threads ---- */

/* The CPUs this process may run on (taskset, cgroups), else the online CPUs. */
static size_t default_threads(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (size_t)CPU_COUNT(&set);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (size_t)online : 1;
}

static size_t thread_count(const xhal_host_api_t *host) {
    size_t cpus = default_threads();
    size_t threads =
        (size_t)xc_option_int(host, "XHAL_CPU_THREADS", 1, CPU_MAX_THREADS, (long)cpus);
    if (threads > cpus)
        host->log(XHAL_LOG_WARN,
                  "XHAL_CPU_THREADS=%zu is more than the %zu CPUs this process may run on: the "
                  "threads share them, and the peaks count %zu",
                  threads, cpus, cpus);
    return threads;
}

/* How long idle threads poll before they sleep (see cpu_spin.h), in microseconds. */
#define CPU_DEFAULT_SPIN_US 1000
#define CPU_MAX_SPIN_US 1000000

/* ---- Peaks ---- */

/* Peaks count the CPUs the threads can run on: more threads than CPUs (XHAL_CPU_THREADS=4096)
 * share them and add no FLOP/s. */
static void fill_peaks(xhal_device_info_t *info, const host_cpu_features_t *f, double ghz,
                       const char *clock_source) {
    unsigned flop_per_cycle = host_cpu_f32_flop_per_cycle(f);
    size_t cpus = default_threads();
    unsigned cores = cpus < info->compute_units ? (unsigned)cpus : info->compute_units;
    double f32 = (double)cores * flop_per_cycle * ghz * 1e9;
    info->peak_flops[XHAL_DTYPE_F32] = f32;
    /* vdpbf16ps and the AVX512-FP16 FMAs do twice the multiplies of an f32 FMA per cycle. */
    info->peak_flops[XHAL_DTYPE_BF16] = f->avx512bf16 ? 2 * f32 : f32;
    info->peak_flops[XHAL_DTYPE_F16] = f->avx512fp16 ? 2 * f32 : f32;
    info->peak_bandwidth = 0; /* unknown: `xhal peak` measures it */
    if (ghz > 0 && cores < info->compute_units) {
        snprintf(info->peak_source, sizeof(info->peak_source),
                 "derived: %u CPUs (for %u threads) x %u FLOP/cycle x %.2f GHz (%s)", cores,
                 info->compute_units, flop_per_cycle, ghz, clock_source);
    } else if (ghz > 0) {
        snprintf(info->peak_source, sizeof(info->peak_source),
                 "derived: %u threads x %u FLOP/cycle x %.2f GHz (%s)", info->compute_units,
                 flop_per_cycle, ghz, clock_source);
    } else {
        copy_string(info->peak_source, sizeof(info->peak_source),
                    "unknown: the clock could not be measured");
    }
}

/* ---- Entries ---- */

uint32_t cpu_device_count(xhal_be_state_t *state) {
    (void)state;
    return 1;
}

xhal_status_t cpu_device_open(xhal_be_state_t *state, uint32_t index,
                              xhal_be_device_t **out_device) {
    (void)index; /* always 0: there is one device */
    const xhal_host_api_t *host = state->host;
    xhal_be_device_t *device = calloc(1, sizeof(*device));
    if (!device)
        return host->set_error(XHAL_OUT_OF_MEMORY, "cpu: calloc of %zu bytes for the device failed",
                               sizeof(*device));
    device->host = host;
    pthread_mutex_init(&device->scratch_lock, NULL);

    size_t threads = thread_count(host);
    int pool_error = 0;
    int64_t spin_us =
        xc_option_int(host, "XHAL_CPU_SPIN_US", 0, CPU_MAX_SPIN_US, CPU_DEFAULT_SPIN_US);
    device->spin_ns = spin_us * 1000;
    device->pool = cpu_pool_create(threads, spin_us, &pool_error);
    device->gemm_plan = cpu_gemm_plan_create(host);
    if (!device->pool || !device->gemm_plan) {
        cpu_pool_destroy(device->pool);
        cpu_gemm_plan_destroy(device->gemm_plan);
        pthread_mutex_destroy(&device->scratch_lock);
        free(device);
        return host->set_error(XHAL_OUT_OF_MEMORY,
                               "cpu: out of memory creating a pool of %zu threads", threads);
    }
    if (pool_error)
        host->log(XHAL_LOG_WARN, "pthread_create failed with %s; running on %zu of %zu threads",
                  cpu_errno_name(pool_error), cpu_pool_threads(device->pool), threads);

    xhal_device_info_t *info = &device->info;
    host_cpu_features_t features;
    host_cpu_detect(&features);
    if (!cpuinfo_field("model name", info->name, sizeof(info->name)))
        copy_string(info->name, sizeof(info->name), "CPU");
    fill_vendor(&features, info->vendor, sizeof(info->vendor));
    fill_architecture(&features, info->architecture, sizeof(info->architecture));
    info->driver[0] = '\0';
    long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
    info->memory_bytes = pages > 0 && page_size > 0 ? (uint64_t)pages * (uint64_t)page_size : 0;
    info->compute_units = (uint32_t)cpu_pool_threads(device->pool);

    /* No measured clock means the measurement was disturbed (a debugger, valgrind): then the
     * nominal clock of /proc/cpuinfo is better than nothing. */
    double ghz = host_cpu_measure_ghz();
    const char *clock_source = "measured clock";
    if (ghz <= 0) {
        char mhz[32] = "";
        double nominal = cpuinfo_field("cpu MHz", mhz, sizeof(mhz)) ? atof(mhz) / 1000.0 : 0.0;
        host->log(XHAL_LOG_WARN,
                  "the clock could not be measured; using %.3f GHz from /proc/cpuinfo", nominal);
        ghz = nominal;
        clock_source = "nominal clock from /proc/cpuinfo";
    }
    info->clock_ghz = ghz;
    fill_peaks(info, &features, ghz, clock_source);

    host->log(XHAL_LOG_INFO, "%s (%s, %s): %u threads, %.2f GHz, peak f32 %.1f GFLOP/s", info->name,
              info->vendor, info->architecture, info->compute_units, ghz,
              info->peak_flops[XHAL_DTYPE_F32] * 1e-9);
    *out_device = device;
    return XHAL_OK;
}

void cpu_device_close(xhal_be_device_t *device) {
    if (!device) return;
    cpu_pool_destroy(device->pool);
    cpu_gemm_plan_destroy(device->gemm_plan);
    pthread_mutex_destroy(&device->scratch_lock);
    free(device->scratch);
    free(device);
}

xhal_status_t cpu_device_info(xhal_be_device_t *device, xhal_device_info_t *out_info) {
    /* The core fills spec and backend afterwards; everything else was found at open. */
    *out_info = device->info;
    return XHAL_OK;
}
