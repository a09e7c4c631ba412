/*
 * A stand-in for libamdhip64 that drives the HIP plugin through its paths on a machine without
 * an AMD GPU (XHAL_HIP_RUNTIME names it). Test-only code.
 *
 * Devices are host memory: allocations are malloc'ed (and checked: a copy or fill outside an
 * allocation fails like a fault would), copies and fills run at once on the host. Kernels are
 * not run: a launch is recorded (kernel name, grid, block, the parameter struct) for the test to
 * read through fake_hip_launches(). A code object handed to hipModuleLoadData is parsed as an
 * AMDGPU ELF: one for another gfx target than the device's is refused with
 * hipErrorNoBinaryForGpu, as the runtime does, and hipModuleGetFunction finds only kernels that
 * are in its symbol table, so a kernel name the plan can produce but the code object lacks
 * fails the op.
 *
 * Set through the environment, read at hipInit:
 *   FAKE_HIP_INIT=<code>        hipInit returns it (default 0)
 *   FAKE_HIP_DEVICES=<n>        devices (default 1)
 *   FAKE_HIP_ARCH=<a>,<b>       gcnArchName per device (default gfx90a:sramecc+:xnack-)
 *   FAKE_HIP_NAME=<name>        device name (default AMD Instinct MI210)
 *   FAKE_HIP_MEMORY=<bytes>     device memory; hipMalloc past it is hipErrorOutOfMemory
 *   FAKE_HIP_FAIL=<call>:<code> that entry point returns <code>
 * Built as libfakehip.so (ROCm 6: hipGetDevicePropertiesR0600, version 6.0), libfakehip5.so
 * (-DFAKE_HIP_R0000: ROCm 5's hipGetDeviceProperties layout, version 5.2), libfakehip-old.so
 * (-DFAKE_HIP_OLD: no hipModuleLaunchKernel) and libfakehip-moved.so (-DFAKE_HIP_MOVED:
 * gcnArchName elsewhere in the properties, as a later ROCm might put it).
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_hip.h"

#define EXPORT __attribute__((visibility("default")))

enum {
    OK = 0,
    INVALID_VALUE = 1,
    OUT_OF_MEMORY = 2,
    NOT_INITIALIZED = 3,
    INVALID_DEVICE = 101,
    INVALID_IMAGE = 200,
    NO_BINARY_FOR_GPU = 209,
    INVALID_HANDLE = 400,
    NOT_FOUND = 500,
};

#define MAX_DEVICES 4
#define MAX_ALLOCS 4096

static struct {
    int initialized;
    int devices;
    char arch[MAX_DEVICES][64];
    char name[128];
    size_t memory, used[MAX_DEVICES];
    char fail_call[64];
    int fail_code;
    int current;
    struct {
        char *base;
        size_t size;
        int device;
    } allocs[MAX_ALLOCS];
    fake_hip_launch_t launches[FAKE_HIP_MAX_LAUNCHES];
    size_t launch_count;
    int module_loads;
    char last_module_arch[16];
} fake;

typedef struct fake_function {
    char name[64];
} fake_function_t;

typedef struct fake_module {
    unsigned char *image;
    size_t size;
    fake_function_t functions[128]; /* the handles given out, freed with the module */
    int function_count;
} fake_module_t;

typedef struct fake_event {
    double time;
} fake_event_t;

static int failing(const char *call) {
    return fake.fail_call[0] && strcmp(fake.fail_call, call) == 0;
}
#define FAIL_IF(call)                                                                              \
    if (failing(call)) return fake.fail_code

EXPORT int hipInit(unsigned flags) {
    (void)flags;
    FAIL_IF("hipInit");
    const char *v = getenv("FAKE_HIP_INIT");
    if (v && atoi(v)) return atoi(v);
    memset(&fake, 0, sizeof fake);
    fake.devices = (v = getenv("FAKE_HIP_DEVICES")) ? atoi(v) : 1;
    if (fake.devices > MAX_DEVICES) fake.devices = MAX_DEVICES;
    const char *arch = (v = getenv("FAKE_HIP_ARCH")) ? v : "gfx90a:sramecc+:xnack-";
    for (int i = 0; i < fake.devices; i++) {
        size_t n = strcspn(arch, ",");
        snprintf(fake.arch[i], sizeof fake.arch[i], "%.*s", (int)n, arch);
        if (arch[n] == ',') arch += n + 1;
    }
    snprintf(fake.name, sizeof fake.name, "%s",
             (v = getenv("FAKE_HIP_NAME")) ? v : "AMD Instinct MI210");
    fake.memory = (v = getenv("FAKE_HIP_MEMORY")) ? (size_t)strtoull(v, NULL, 10) : 64u << 20;
    if ((v = getenv("FAKE_HIP_FAIL")) != NULL) {
        size_t n = strcspn(v, ":");
        snprintf(fake.fail_call, sizeof fake.fail_call, "%.*s", (int)n, v);
        fake.fail_code = v[n] ? atoi(v + n + 1) : 999;
    }
    fake.initialized = 1;
    return OK;
}

EXPORT int hipGetDeviceCount(int *count) {
    FAIL_IF("hipGetDeviceCount");
    if (!fake.initialized) return NOT_INITIALIZED;
    *count = fake.devices;
    return fake.devices ? OK : 100; /* hipErrorNoDevice, as the runtime answers */
}

EXPORT int hipRuntimeGetVersion(int *version) {
#ifdef FAKE_HIP_R0000
    *version = 50221153;
#else
    *version = 60032830;
#endif
    return OK;
}

EXPORT const char *hipGetErrorName(int error) {
    switch (error) {
    case OK:
        return "hipSuccess";
    case INVALID_VALUE:
        return "hipErrorInvalidValue";
    case OUT_OF_MEMORY:
        return "hipErrorOutOfMemory";
    case NOT_INITIALIZED:
        return "hipErrorNotInitialized";
    case 100:
        return "hipErrorNoDevice";
    case INVALID_DEVICE:
        return "hipErrorInvalidDevice";
    case INVALID_IMAGE:
        return "hipErrorInvalidImage";
    case NO_BINARY_FOR_GPU:
        return "hipErrorNoBinaryForGpu";
    case INVALID_HANDLE:
        return "hipErrorInvalidHandle";
    case NOT_FOUND:
        return "hipErrorNotFound";
    case 700:
        return "hipErrorIllegalAddress";
    case 719:
        return "hipErrorLaunchFailure";
    default:
        return "hipErrorUnknown";
    }
}

static int valid_device(int device) {
    return fake.initialized && device >= 0 && device < fake.devices;
}

EXPORT int hipSetDevice(int device) {
    FAIL_IF("hipSetDevice");
    if (!valid_device(device)) return INVALID_DEVICE;
    fake.current = device;
    return OK;
}

EXPORT int hipDeviceGetName(char *name, int length, int device) {
    if (!valid_device(device)) return INVALID_DEVICE;
    snprintf(name, (size_t)length, "%s", fake.name);
    return OK;
}

static int is_rdna(int device) {
    return strncmp(fake.arch[device], "gfx1", 4) == 0;
}

EXPORT int hipDeviceGetAttribute(int *value, int attribute, int device) {
    if (!valid_device(device)) return INVALID_DEVICE;
    switch (attribute) {
    case 5: /* clock, kHz */
        *value = 1700000;
        return OK;
    case 63: /* compute units */
        *value = is_rdna(device) ? 96 : 104;
        return OK;
    case 74: /* LDS per block */
        *value = 65536;
        return OK;
    case 87: /* wavefront */
        *value = is_rdna(device) ? 32 : 64;
        return OK;
    default:
        *value = 0;
        return INVALID_VALUE;
    }
}

EXPORT int hipDeviceTotalMem(size_t *bytes, int device) {
    if (!valid_device(device)) return INVALID_DEVICE;
    *bytes = fake.memory;
    return OK;
}

/* The properties, in the layout of the entry point (offsets of gcnArchName: hip_internal.h). */
static int fill_props(void *props, int device, size_t arch_offset) {
    if (!valid_device(device)) return INVALID_DEVICE;
    memset(props, 0, arch_offset + 256);
    snprintf(props, 256, "%s", fake.name);
    snprintf((char *)props + arch_offset, 256, "%s", fake.arch[device]);
    return OK;
}

#ifdef FAKE_HIP_R0000
EXPORT int hipGetDeviceProperties(void *props, int device) {
    return fill_props(props, device, 396);
}
#else
EXPORT int hipGetDevicePropertiesR0600(void *props, int device) {
#ifdef FAKE_HIP_MOVED /* a future layout: the field elsewhere */
    return fill_props(props, device, 1304);
#else
    return fill_props(props, device, 1160);
#endif
}
/* ROCm 6 keeps the old symbol, with the old layout, for old binaries: a plugin that used it
 * would read garbage at the R0600 offset. */
EXPORT int hipGetDeviceProperties(void *props, int device) {
    return fill_props(props, device, 396);
}
#endif

/* ---- Memory ---- */

static int find_alloc(const void *p, size_t size) {
    for (int i = 0; i < MAX_ALLOCS; i++) {
        const char *base = fake.allocs[i].base;
        if (base && (const char *)p >= base &&
            (size_t)((const char *)p - base) <= fake.allocs[i].size &&
            size <= fake.allocs[i].size - (size_t)((const char *)p - base))
            return i;
    }
    return -1;
}

static int allocate(void **ptr, size_t size) {
    int device = fake.current;
    if (size > fake.memory - fake.used[device]) return OUT_OF_MEMORY;
    for (int i = 0; i < MAX_ALLOCS; i++)
        if (!fake.allocs[i].base) {
            fake.allocs[i].base = calloc(1, size ? size : 1);
            if (!fake.allocs[i].base) return OUT_OF_MEMORY;
            fake.allocs[i].size = size;
            fake.allocs[i].device = device;
            fake.used[device] += size;
            *ptr = fake.allocs[i].base;
            return OK;
        }
    return OUT_OF_MEMORY;
}

static int release(void *ptr) {
    for (int i = 0; i < MAX_ALLOCS; i++)
        if (ptr && fake.allocs[i].base == ptr) {
            fake.used[fake.allocs[i].device] -= fake.allocs[i].size;
            free(fake.allocs[i].base);
            fake.allocs[i].base = NULL;
            return OK;
        }
    return INVALID_VALUE;
}

EXPORT int hipMalloc(void **ptr, size_t size) {
    FAIL_IF("hipMalloc");
    return allocate(ptr, size);
}

EXPORT int hipFree(void *ptr) {
    return release(ptr);
}

EXPORT int hipHostMalloc(void **ptr, size_t size, unsigned flags) {
    (void)flags;
    FAIL_IF("hipHostMalloc");
    return allocate(ptr, size);
}

EXPORT int hipHostFree(void *ptr) {
    return release(ptr);
}

EXPORT int hipMemcpyAsync(void *dst, const void *src, size_t size, int kind, void *stream) {
    (void)stream;
    FAIL_IF("hipMemcpyAsync");
    /* kind 1: host to device, 2: device to host, 3: device to device, 4: from the addresses
     * (the plugin's buffer-to-buffer copies: both are allocations here) */
    if ((kind == 1 || kind >= 3) && find_alloc(dst, size) < 0) return INVALID_VALUE;
    if ((kind == 2 || kind >= 3) && find_alloc(src, size) < 0) return INVALID_VALUE;
    if (kind < 1 || kind > 4) return INVALID_VALUE;
    memmove(dst, src, size);
    return OK;
}

#define MEMSET(name, type, value_type)                                                             \
    EXPORT int name(void *dst, value_type value, size_t count, void *stream) {                     \
        (void)stream;                                                                              \
        FAIL_IF(#name);                                                                            \
        if (find_alloc(dst, count * sizeof(type)) < 0) return INVALID_VALUE;                       \
        type v = (type)value;                                                                      \
        for (size_t i = 0; i < count; i++)                                                         \
            memcpy((char *)dst + i * sizeof v, &v, sizeof v);                                      \
        return OK;                                                                                 \
    }
MEMSET(hipMemsetD8Async, uint8_t, unsigned char)
MEMSET(hipMemsetD16Async, uint16_t, unsigned short)
MEMSET(hipMemsetD32Async, uint32_t, int)

/* ---- Streams and events: work runs at enqueue, so a stream is always idle ---- */

EXPORT int hipStreamCreateWithFlags(void **stream, unsigned flags) {
    (void)flags;
    FAIL_IF("hipStreamCreateWithFlags");
    *stream = malloc(1);
    return *stream ? OK : OUT_OF_MEMORY;
}

EXPORT int hipStreamDestroy(void *stream) {
    free(stream);
    return OK;
}

EXPORT int hipStreamSynchronize(void *stream) {
    (void)stream;
    FAIL_IF("hipStreamSynchronize");
    return OK;
}

EXPORT int hipStreamWaitEvent(void *stream, void *event, unsigned flags) {
    (void)stream;
    (void)flags;
    return event ? OK : INVALID_HANDLE;
}

EXPORT int hipEventCreateWithFlags(void **event, unsigned flags) {
    (void)flags;
    FAIL_IF("hipEventCreateWithFlags");
    *event = calloc(1, sizeof(fake_event_t));
    return *event ? OK : OUT_OF_MEMORY;
}

EXPORT int hipEventDestroy(void *event) {
    free(event);
    return OK;
}

EXPORT int hipEventRecord(void *event, void *stream) {
    (void)stream;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ((fake_event_t *)event)->time = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
    return OK;
}

EXPORT int hipEventSynchronize(void *event) {
    return event ? OK : INVALID_HANDLE;
}

EXPORT int hipEventElapsedTime(float *ms, void *start, void *stop) {
    *ms = (float)(((fake_event_t *)stop)->time - ((fake_event_t *)start)->time);
    return OK;
}

/* ---- Modules: AMDGPU ELF code objects ---- */

/* The gfx target of an AMDGPU ELF's e_flags (EF_AMDGPU_MACH), as LLVM numbers them. */
static const char *mach_name(unsigned mach) {
    switch (mach) {
    case 0x2f:
        return "gfx906";
    case 0x30:
        return "gfx908";
    case 0x3f:
        return "gfx90a";
    case 0x40:
        return "gfx940";
    case 0x4c:
        return "gfx942";
    case 0x36:
        return "gfx1030";
    case 0x41:
        return "gfx1100";
    default:
        return "unknown";
    }
}

EXPORT int hipModuleLoadData(void **module, const void *image) {
    FAIL_IF("hipModuleLoadData");
    const Elf64_Ehdr *h = image;
    if (memcmp(h->e_ident, ELFMAG, SELFMAG) != 0 || h->e_machine != EM_AMDGPU) return INVALID_IMAGE;
    const char *target = mach_name(h->e_flags & 0xff);
    char device_target[64];
    snprintf(device_target, sizeof device_target, "%.*s",
             (int)strcspn(fake.arch[fake.current], ":"), fake.arch[fake.current]);
    if (strcmp(target, device_target) != 0) return NO_BINARY_FOR_GPU;
    /* The section headers end the file: copy it all (the caller may free the image). */
    size_t size = (size_t)(h->e_shoff + (uint64_t)h->e_shnum * h->e_shentsize);
    fake_module_t *m = calloc(1, sizeof *m);
    if (!m || !(m->image = malloc(size))) {
        free(m);
        return OUT_OF_MEMORY;
    }
    memcpy(m->image, image, size);
    m->size = size;
    fake.module_loads++;
    snprintf(fake.last_module_arch, sizeof fake.last_module_arch, "%s", target);
    *module = m;
    return OK;
}

EXPORT int hipModuleUnload(void *module) {
    fake_module_t *m = module;
    if (!m) return INVALID_HANDLE;
    free(m->image);
    free(m);
    return OK;
}

/* Whether the code object's symbol table has function `name`. */
static int has_function(const fake_module_t *m, const char *name) {
    const Elf64_Ehdr *h = (const Elf64_Ehdr *)m->image;
    const Elf64_Shdr *sections = (const Elf64_Shdr *)(m->image + h->e_shoff);
    for (int i = 0; i < h->e_shnum; i++) {
        if (sections[i].sh_type != SHT_SYMTAB && sections[i].sh_type != SHT_DYNSYM) continue;
        const Elf64_Sym *symbols = (const Elf64_Sym *)(m->image + sections[i].sh_offset);
        const char *strings = (const char *)(m->image + sections[sections[i].sh_link].sh_offset);
        size_t count = sections[i].sh_size / sizeof(Elf64_Sym);
        for (size_t s = 0; s < count; s++)
            if (ELF64_ST_TYPE(symbols[s].st_info) == STT_FUNC &&
                strcmp(strings + symbols[s].st_name, name) == 0)
                return 1;
    }
    return 0;
}

EXPORT int hipModuleGetFunction(void **function, void *module, const char *name) {
    fake_module_t *m = module;
    if (!m) return INVALID_HANDLE;
    if (!has_function(m, name)) return NOT_FOUND;
    for (int i = 0; i < m->function_count; i++)
        if (strcmp(m->functions[i].name, name) == 0) {
            *function = &m->functions[i];
            return OK;
        }
    if (m->function_count == 128) return OUT_OF_MEMORY;
    fake_function_t *f = &m->functions[m->function_count++];
    snprintf(f->name, sizeof f->name, "%s", name);
    *function = f;
    return OK;
}

#ifndef FAKE_HIP_OLD
EXPORT int hipModuleLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                 unsigned by, unsigned bz, unsigned shared, void *stream,
                                 void **args, void **extra) {
    (void)stream;
    (void)extra;
    FAIL_IF("hipModuleLaunchKernel");
    if (!function || !args) return INVALID_VALUE;
    if (fake.launch_count < FAKE_HIP_MAX_LAUNCHES) {
        fake_hip_launch_t *l = &fake.launches[fake.launch_count++];
        const fake_function_t *f = function;
        snprintf(l->kernel, sizeof l->kernel, "%s", f->name);
        l->grid[0] = gx;
        l->grid[1] = gy;
        l->grid[2] = gz;
        l->block[0] = bx;
        l->block[1] = by;
        l->block[2] = bz;
        l->shared = shared;
        /* Every kernel takes one struct by value: the merge's, attention's, or GEMM's. */
        size_t size = strcmp(f->name, "xk_attention_merge") == 0  ? sizeof(xk_merge_params_t)
                      : strncmp(f->name, "xk_attention", 12) == 0 ? sizeof(xk_attention_params_t)
                                                                  : sizeof(xk_gemm_params_t);
        memcpy(&l->params, args[0], size);
    }
    return OK;
}
#endif

/* ---- For the tests ---- */

EXPORT const fake_hip_launch_t *fake_hip_launches(size_t *count) {
    *count = fake.launch_count;
    return fake.launches;
}

EXPORT void fake_hip_clear_launches(void) {
    fake.launch_count = 0;
}

EXPORT const char *fake_hip_last_module_arch(int *loads) {
    *loads = fake.module_loads;
    return fake.last_module_arch;
}
