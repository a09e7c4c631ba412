/*
 * The FMA-loop ceiling of an OpenCL device (`xhal peak`): what its compiler and cores reach on
 * independent fma() chains, the yardstick "% of measured peak" needs for a device whose only
 * other measured figure would be xhal's own GEMM (circular).
 *
 * The kernel runs CHAINS independent chains of floatW fma() per work-item (enough to cover the
 * FMA latency of two pipes), for W in 4, 8, 16 (the device's preferred width and wider: PoCL
 * vectorizes floatN as written, so float16 is one AVX-512 register); the best width is the
 * ceiling. CPU devices run one work-item per group and eight groups per compute unit (PoCL runs
 * a group as a loop on one thread); GPUs run 256-item groups, 32 per compute unit. The time is
 * the wall clock around clFinish, the best of many runs of about 10 ms each.
 *
 * f16 and bf16: xhal's OpenCL kernels compute 16-bit inputs in f32 (PoCL has no fp16
 * arithmetic), so their ceiling is this f32 loop. The ICD loader is dlopen'ed and the few
 * OpenCL types used are spelled out (as tools/bench_clblast.c does), so nothing here needs
 * OpenCL to build.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf_internal.h"

typedef void *cl_handle;
#define CL_DEVICE_TYPE_ALL 0xFFFFFFFFull
#define CL_DEVICE_TYPE_CPU (1ull << 1)
#define CL_DEVICE_TYPE 0x1000
#define CL_DEVICE_MAX_COMPUTE_UNITS 0x1002
#define CL_DEVICE_NAME 0x102B
#define CL_CONTEXT_PLATFORM 0x1084
#define CL_MEM_READ_WRITE (1ull << 0)
#define CHAINS 12

typedef int32_t (*get_platform_ids_fn)(uint32_t, cl_handle *, uint32_t *);
typedef int32_t (*get_device_ids_fn)(cl_handle, uint64_t, uint32_t, cl_handle *, uint32_t *);
typedef int32_t (*get_device_info_fn)(cl_handle, uint32_t, size_t, void *, size_t *);
typedef cl_handle (*create_context_fn)(const intptr_t *, uint32_t, const cl_handle *, void *,
                                       void *, int32_t *);
typedef cl_handle (*create_queue_fn)(cl_handle, cl_handle, uint64_t, int32_t *);
typedef cl_handle (*create_buffer_fn)(cl_handle, uint64_t, size_t, void *, int32_t *);
typedef cl_handle (*create_program_fn)(cl_handle, uint32_t, const char **, const size_t *,
                                       int32_t *);
typedef int32_t (*build_program_fn)(cl_handle, uint32_t, const cl_handle *, const char *, void *,
                                    void *);
typedef cl_handle (*create_kernel_fn)(cl_handle, const char *, int32_t *);
typedef int32_t (*set_arg_fn)(cl_handle, uint32_t, size_t, const void *);
typedef int32_t (*enqueue_fn)(cl_handle, cl_handle, uint32_t, const size_t *, const size_t *,
                              const size_t *, uint32_t, const cl_handle *, cl_handle *);
typedef int32_t (*release_fn)(cl_handle);

typedef struct api {
    get_platform_ids_fn get_platform_ids;
    get_device_ids_fn get_device_ids;
    get_device_info_fn get_device_info;
    create_context_fn create_context;
    create_queue_fn create_queue;
    create_buffer_fn create_buffer;
    create_program_fn create_program;
    build_program_fn build_program;
    create_kernel_fn create_kernel;
    set_arg_fn set_arg;
    enqueue_fn enqueue;
    release_fn finish, release_kernel, release_program, release_mem, release_queue, release_context;
} api_t;

static int resolve(void *library, const char *name, void *out, size_t size) {
    void *symbol = dlsym(library, name);
    if (symbol) memcpy(out, &symbol, size);
    return symbol != NULL;
}

#define RESOLVE(field, name) ok &= resolve(library, name, &a->field, sizeof a->field)

static int load(api_t *a) {
    /* Kept loaded: ICDs such as PoCL do not support being unloaded (the backend keeps it too). */
    void *library = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) return 0;
    int ok = 1;
    RESOLVE(get_platform_ids, "clGetPlatformIDs");
    RESOLVE(get_device_ids, "clGetDeviceIDs");
    RESOLVE(get_device_info, "clGetDeviceInfo");
    RESOLVE(create_context, "clCreateContext");
    RESOLVE(create_queue, "clCreateCommandQueue");
    RESOLVE(create_buffer, "clCreateBuffer");
    RESOLVE(create_program, "clCreateProgramWithSource");
    RESOLVE(build_program, "clBuildProgram");
    RESOLVE(create_kernel, "clCreateKernel");
    RESOLVE(set_arg, "clSetKernelArg");
    RESOLVE(enqueue, "clEnqueueNDRangeKernel");
    RESOLVE(finish, "clFinish");
    RESOLVE(release_kernel, "clReleaseKernel");
    RESOLVE(release_program, "clReleaseProgram");
    RESOLVE(release_mem, "clReleaseMemObject");
    RESOLVE(release_queue, "clReleaseCommandQueue");
    RESOLVE(release_context, "clReleaseContext");
    return ok;
}

/* The OpenCL device called `name` (the first, over every platform). */
static int find(const api_t *a, const char *name, cl_handle *platform, cl_handle *device) {
    cl_handle platforms[16], devices[64];
    uint32_t np = 0;
    if (a->get_platform_ids(16, platforms, &np) != 0) return 0;
    for (uint32_t p = 0; p < np && p < 16; p++) {
        uint32_t nd = 0;
        if (a->get_device_ids(platforms[p], CL_DEVICE_TYPE_ALL, 64, devices, &nd) != 0) continue;
        for (uint32_t d = 0; d < nd && d < 64; d++) {
            char text[256] = "";
            a->get_device_info(devices[d], CL_DEVICE_NAME, sizeof text - 1, text, NULL);
            /* The backend trims the name the driver reports; so does this. */
            size_t n = strlen(text);
            while (n && (text[n - 1] == ' ' || text[n - 1] == '\n'))
                text[--n] = '\0';
            const char *start = text + strspn(text, " \t");
            if (strcmp(start, name) == 0) {
                *platform = platforms[p];
                *device = devices[d];
                return 1;
            }
        }
    }
    return 0;
}

static const char source[] =
    "__kernel void fma_loop(__global float *out, int iterations, float b) {\n"
    "    VT x0 = (VT)(get_global_id(0) * 1e-9f), c = (VT)(0.5f);\n"
    "    VT x1 = x0 + 1, x2 = x0 + 2, x3 = x0 + 3, x4 = x0 + 4, x5 = x0 + 5, x6 = x0 + 6;\n"
    "    VT x7 = x0 + 7, x8 = x0 + 8, x9 = x0 + 9, x10 = x0 + 10, x11 = x0 + 11;\n"
    "    for (int i = 0; i < iterations; i++) {\n"
    "        x0 = fma(x0, b, c); x1 = fma(x1, b, c); x2 = fma(x2, b, c); x3 = fma(x3, b, c);\n"
    "        x4 = fma(x4, b, c); x5 = fma(x5, b, c); x6 = fma(x6, b, c); x7 = fma(x7, b, c);\n"
    "        x8 = fma(x8, b, c); x9 = fma(x9, b, c); x10 = fma(x10, b, c); x11 = fma(x11, b, c);\n"
    "    }\n"
    "    ((__global VT *)out)[get_global_id(0)] =\n"
    "        x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11;\n"
    "}\n";

/* FLOP/s of the loop at width w; 0 when it could not run. */
static double run_width(const api_t *a, cl_handle context, cl_handle queue, cl_handle device,
                        int cpu, unsigned units, int w, double seconds) {
    char options[64];
    snprintf(options, sizeof options, "-DVT=float%d", w);
    const char *text = source;
    int32_t err = 0;
    double best = 0;
    cl_handle program = a->create_program(context, 1, &text, NULL, &err);
    if (!program || err) return 0;
    cl_handle kernel = NULL, out = NULL;
    size_t local = cpu ? 1 : 256, global = (size_t)units * (cpu ? 8 : 32) * local;
    if (a->build_program(program, 1, &device, options, NULL, NULL) == 0)
        kernel = a->create_kernel(program, "fma_loop", &err);
    if (kernel)
        out = a->create_buffer(context, CL_MEM_READ_WRITE, global * (size_t)w * sizeof(float), NULL,
                               &err);
    int32_t iterations = 1 << 14;
    float b = 0.999999f;
    /* Short runs, many of them, the best kept: on a shared machine a long run averages in the
     * other processes' share of the cores, and a short one can find them idle (as the GEMM
     * runs it is compared with do). */
    double start_all = conf_now(), target = seconds / 6 < 0.01 ? seconds / 6 : 0.01;
    int measured = 0;
    while (kernel && out && (measured < 2 || conf_now() - start_all < seconds)) {
        a->set_arg(kernel, 0, sizeof out, &out);
        a->set_arg(kernel, 1, sizeof iterations, &iterations);
        a->set_arg(kernel, 2, sizeof b, &b);
        double start = conf_now();
        if (a->enqueue(queue, kernel, 1, NULL, &global, &local, 0, NULL, NULL) != 0 ||
            a->finish(queue) != 0)
            break;
        double took = conf_now() - start;
        double flops = 2.0 * w * CHAINS * (double)iterations * (double)global;
        /* Shorter runs measure the launch: lengthen them to the target first. */
        if (took < target && iterations < (1 << 26)) {
            double grow = took > 0 ? target / took : 8;
            iterations *= grow > 8 ? 8 : grow < 2 ? 2 : (int)grow;
            continue;
        }
        measured++;
        if (flops / took > best) best = flops / took;
    }
    if (out) a->release_mem(out);
    if (kernel) a->release_kernel(kernel);
    a->release_program(program);
    return best;
}

double conf_fma_opencl(const xhal_device_info_t *info, double seconds, char *method,
                       size_t method_size) {
    static api_t a;
    static int loaded = -1;
    if (loaded < 0) loaded = load(&a);
    conf_format(method, method_size, "no FMA loop: libOpenCL.so.1 not found");
    cl_handle platform = NULL, device = NULL;
    if (!loaded || !find(&a, info->name, &platform, &device)) return 0;
    uint64_t type = 0;
    uint32_t units = 0;
    a.get_device_info(device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    a.get_device_info(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    intptr_t properties[] = {CL_CONTEXT_PLATFORM, (intptr_t)platform, 0};
    int32_t err = 0;
    cl_handle context = a.create_context(properties, 1, &device, NULL, NULL, &err);
    cl_handle queue = context ? a.create_queue(context, device, 0, &err) : NULL;
    double best = 0;
    int best_w = 0;
    for (int w = 4; queue && w <= 16; w *= 2) {
        double rate = run_width(&a, context, queue, device, (type & CL_DEVICE_TYPE_CPU) != 0,
                                units ? units : 1, w, seconds / 3);
        if (rate > best) {
            best = rate;
            best_w = w;
        }
    }
    if (queue) a.release_queue(queue);
    if (context) a.release_context(context);
    if (best > 0)
        conf_format(method, method_size, "OpenCL FMA loop, float%d x %d chains, %u units", best_w,
                    CHAINS, units);
    else
        conf_format(method, method_size, "OpenCL FMA loop failed to run");
    return best;
}
