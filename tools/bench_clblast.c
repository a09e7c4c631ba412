/*
 * `xhal bench --vs clblast`: CLBlast's CLBlastSgemm (and CLBlastHgemm where the device has fp16)
 * on the same shapes, in the same process, on the OpenCL device whose name is the xhal device's.
 * Both CLBlast (libclblast.so.1, Debian libclblast1) and the ICD loader (libOpenCL.so.1) are
 * dlopen'ed, and the few OpenCL types and constants used are spelled out here, so neither the
 * tool's build nor its start depends on OpenCL.
 *
 * Timing is xhal's own method: markers before and after the call on a profiling queue, so the
 * figure is device time from the first to the last kernel CLBlast enqueues (its padding and
 * transposing kernels included), the median of the repeats after two warm-up runs (the first
 * compiles CLBlast's kernels). Inputs rotate through several copies when one set would fit in
 * the last-level cache, as bench_openblas.c does.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_run.h"
#include "conform.h"

/* ---- The OpenCL 1.2 ABI, as much as this file needs (values from the Khronos headers) ---- */

typedef void *cl_handle; /* cl_platform_id, cl_device_id, cl_context, cl_command_queue, ... */

#define CL_DEVICE_TYPE_ALL 0xFFFFFFFFull
#define CL_DEVICE_NAME 0x102B
#define CL_CONTEXT_PLATFORM 0x1084
#define CL_QUEUE_PROFILING_ENABLE (1ull << 1)
#define CL_MEM_READ_WRITE (1ull << 0)
#define CL_PROFILING_COMMAND_END 0x1283
#define CL_TRUE 1

typedef int32_t (*get_platform_ids_fn)(uint32_t, cl_handle *, uint32_t *);
typedef int32_t (*get_device_ids_fn)(cl_handle, uint64_t, uint32_t, cl_handle *, uint32_t *);
typedef int32_t (*get_device_info_fn)(cl_handle, uint32_t, size_t, void *, size_t *);
typedef cl_handle (*create_context_fn)(const intptr_t *, uint32_t, const cl_handle *, void *,
                                       void *, int32_t *);
typedef cl_handle (*create_queue_fn)(cl_handle, cl_handle, uint64_t, int32_t *);
typedef cl_handle (*create_buffer_fn)(cl_handle, uint64_t, size_t, void *, int32_t *);
typedef int32_t (*write_buffer_fn)(cl_handle, cl_handle, uint32_t, size_t, size_t, const void *,
                                   uint32_t, const cl_handle *, cl_handle *);
typedef int32_t (*marker_fn)(cl_handle, uint32_t, const cl_handle *, cl_handle *);
typedef int32_t (*wait_fn)(uint32_t, const cl_handle *);
typedef int32_t (*profiling_fn)(cl_handle, uint32_t, size_t, void *, size_t *);
typedef int32_t (*release_fn)(cl_handle);

/* CLBlast's C API (clblast_c.h): enums are ints; RowMajor 101, TransposeNo 111, Success 0. */
enum { CLBLAST_ROW_MAJOR = 101, CLBLAST_NO_TRANS = 111 };
typedef int (*sgemm_fn)(int, int, int, size_t, size_t, size_t, float, cl_handle, size_t, size_t,
                        cl_handle, size_t, size_t, float, cl_handle, size_t, size_t, cl_handle *,
                        cl_handle *);
typedef int (*hgemm_fn)(int, int, int, size_t, size_t, size_t, uint16_t, cl_handle, size_t, size_t,
                        cl_handle, size_t, size_t, uint16_t, cl_handle, size_t, size_t, cl_handle *,
                        cl_handle *);

static struct {
    void *opencl, *clblast;
    get_platform_ids_fn get_platform_ids;
    get_device_ids_fn get_device_ids;
    get_device_info_fn get_device_info;
    create_context_fn create_context;
    create_queue_fn create_queue;
    create_buffer_fn create_buffer;
    write_buffer_fn write_buffer;
    marker_fn marker;
    wait_fn wait;
    profiling_fn profiling;
    release_fn release_mem, release_event, release_queue, release_context, finish;
    sgemm_fn sgemm;
    hgemm_fn hgemm;
    cl_handle context, queue;
} cl;

/* dlsym into a function pointer (POSIX guarantees the conversion). */
static int resolve(void *library, const char *name, void *out, size_t size) {
    void *symbol = dlsym(library, name);
    if (!symbol) return 0;
    memcpy(out, &symbol, size);
    return 1;
}
#define RESOLVE(lib, name, field) resolve((lib), (name), &(field), sizeof(field))

static void unload(void) {
    if (cl.queue) cl.release_queue(cl.queue);
    if (cl.context) cl.release_context(cl.context);
    /* The ICD (PoCL) keeps threads and does not survive being unloaded; CLBlast links to the
     * loader, so both stay loaded for the rest of the process. */
    void *opencl = cl.opencl, *clblast = cl.clblast;
    memset(&cl, 0, sizeof cl);
    cl.opencl = opencl;
    cl.clblast = clblast;
}

/* The device named `name`: an exact match first, else the first whose name contains it. */
static cl_handle find_device(const char *name, cl_handle *out_platform) {
    cl_handle platforms[16], devices[64], substring = NULL, substring_platform = NULL;
    uint32_t platform_count = 0;
    if (cl.get_platform_ids(16, platforms, &platform_count) != 0) return NULL;
    for (uint32_t p = 0; p < platform_count && p < 16; p++) {
        uint32_t count = 0;
        if (cl.get_device_ids(platforms[p], CL_DEVICE_TYPE_ALL, 64, devices, &count) != 0) continue;
        for (uint32_t d = 0; d < count && d < 64; d++) {
            char device_name[256] = "";
            cl.get_device_info(devices[d], CL_DEVICE_NAME, sizeof device_name - 1, device_name,
                               NULL);
            if (!strcmp(device_name, name)) {
                *out_platform = platforms[p];
                return devices[d];
            }
            if (!substring && strstr(device_name, name)) {
                substring = devices[d];
                substring_platform = platforms[p];
            }
        }
    }
    *out_platform = substring_platform;
    return substring;
}

static int load(const xhal_device_info_t *info, char *reason, size_t reason_size) {
    if (!cl.opencl) cl.opencl = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!cl.opencl) {
        snprintf(reason, reason_size,
                 "libOpenCL.so.1 not found (install Debian's ocl-icd-libopencl1): %s", dlerror());
        return -1;
    }
    if (!cl.clblast) cl.clblast = dlopen("libclblast.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!cl.clblast) {
        snprintf(reason, reason_size,
                 "libclblast.so.1 not found (install Debian's libclblast1): %s", dlerror());
        return -1;
    }
    void *o = cl.opencl;
    int ok = RESOLVE(o, "clGetPlatformIDs", cl.get_platform_ids) &&
             RESOLVE(o, "clGetDeviceIDs", cl.get_device_ids) &&
             RESOLVE(o, "clGetDeviceInfo", cl.get_device_info) &&
             RESOLVE(o, "clCreateContext", cl.create_context) &&
             RESOLVE(o, "clCreateCommandQueue", cl.create_queue) &&
             RESOLVE(o, "clCreateBuffer", cl.create_buffer) &&
             RESOLVE(o, "clEnqueueWriteBuffer", cl.write_buffer) &&
             RESOLVE(o, "clEnqueueMarkerWithWaitList", cl.marker) &&
             RESOLVE(o, "clWaitForEvents", cl.wait) &&
             RESOLVE(o, "clGetEventProfilingInfo", cl.profiling) &&
             RESOLVE(o, "clReleaseMemObject", cl.release_mem) &&
             RESOLVE(o, "clReleaseEvent", cl.release_event) &&
             RESOLVE(o, "clReleaseCommandQueue", cl.release_queue) &&
             RESOLVE(o, "clReleaseContext", cl.release_context) &&
             RESOLVE(o, "clFinish", cl.finish) && RESOLVE(cl.clblast, "CLBlastSgemm", cl.sgemm);
    if (!ok) {
        snprintf(reason, reason_size, "libOpenCL.so.1 or libclblast.so.1 lacks an entry point");
        unload();
        return -1;
    }
    RESOLVE(cl.clblast, "CLBlastHgemm", cl.hgemm); /* optional */

    cl_handle platform = NULL;
    cl_handle device = find_device(info->name, &platform);
    if (!device) {
        snprintf(reason, reason_size, "no OpenCL device is named \"%s\"", info->name);
        unload();
        return -1;
    }
    intptr_t properties[] = {CL_CONTEXT_PLATFORM, (intptr_t)platform, 0};
    int32_t err = 0;
    cl.context = cl.create_context(properties, 1, &device, NULL, NULL, &err);
    if (cl.context) cl.queue = cl.create_queue(cl.context, device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (!cl.context || !cl.queue) {
        snprintf(reason, reason_size, "clCreateContext/clCreateCommandQueue failed (%d)", err);
        unload();
        return -1;
    }
    snprintf(reason, reason_size, "CLBlast on %s", info->name);
    return 0;
}

/* Device nanoseconds when `marker` ended; 0 when the query fails. */
static uint64_t marker_end(cl_handle marker) {
    uint64_t ns = 0;
    if (cl.wait(1, &marker) != 0 ||
        cl.profiling(marker, CL_PROFILING_COMMAND_END, sizeof ns, &ns, NULL) != 0)
        ns = 0;
    return ns;
}

static double time_gemm(const bench_gemm_shape_t *s, char *reason, size_t reason_size) {
    if (s->dtype == XHAL_DTYPE_BF16 || (s->dtype == XHAL_DTYPE_F16 && !cl.hgemm)) {
        snprintf(reason, reason_size, "CLBlast has no %s GEMM", xhal_dtype_name(s->dtype));
        return -1.0;
    }
    /* CLBlast's fp16 GEMM writes C in fp16 too; xhal's bench writes f32 C. */
    size_t es = xhal_dtype_size(s->dtype), ces = s->dtype == XHAL_DTYPE_F16 ? 2 : 4;
    size_t a_bytes = (size_t)(s->m * s->k) * es, b_bytes = (size_t)(s->k * s->n) * es;
    size_t c_bytes = (size_t)(s->m * s->n) * ces;
    int rotation = s->rotation > 0 ? s->rotation : 1;
    cl_handle a[8] = {NULL}, b[8] = {NULL}, c[8] = {NULL};
    if (rotation > 8) rotation = 8;
    double *times = calloc((size_t)s->repeats, sizeof *times);
    unsigned char *host = malloc(a_bytes > b_bytes ? a_bytes : b_bytes);
    double result = -1.0;
    int32_t err = 0;
    if (!times || !host) {
        snprintf(reason, reason_size, "out of host memory");
        goto done;
    }
    /* Small values of either dtype: 0x3c00 is 1.0 in f16. */
    for (size_t i = 0; i < (a_bytes > b_bytes ? a_bytes : b_bytes); i++)
        host[i] = (unsigned char)(i * 7 + 1) & 0x3f;
    for (int r = 0; r < rotation; r++) {
        a[r] = cl.create_buffer(cl.context, CL_MEM_READ_WRITE, a_bytes, NULL, &err);
        b[r] = cl.create_buffer(cl.context, CL_MEM_READ_WRITE, b_bytes, NULL, &err);
        c[r] = cl.create_buffer(cl.context, CL_MEM_READ_WRITE, c_bytes, NULL, &err);
        if (!a[r] || !b[r] || !c[r] ||
            cl.write_buffer(cl.queue, a[r], CL_TRUE, 0, a_bytes, host, 0, NULL, NULL) != 0 ||
            cl.write_buffer(cl.queue, b[r], CL_TRUE, 0, b_bytes, host, 0, NULL, NULL) != 0) {
            snprintf(reason, reason_size, "clCreateBuffer/clEnqueueWriteBuffer failed (%d)", err);
            goto done;
        }
    }
    for (int i = 0; i < 2 + s->repeats; i++) {
        int r = i % rotation;
        cl_handle before = NULL, after = NULL, queue = cl.queue;
        cl.marker(cl.queue, 0, NULL, &before);
        int status =
            s->dtype == XHAL_DTYPE_F32
                ? cl.sgemm(CLBLAST_ROW_MAJOR, CLBLAST_NO_TRANS, CLBLAST_NO_TRANS, (size_t)s->m,
                           (size_t)s->n, (size_t)s->k, 1.0f, a[r], 0, (size_t)s->k, b[r], 0,
                           (size_t)s->n, 0.0f, c[r], 0, (size_t)s->n, &queue, NULL)
                : cl.hgemm(CLBLAST_ROW_MAJOR, CLBLAST_NO_TRANS, CLBLAST_NO_TRANS, (size_t)s->m,
                           (size_t)s->n, (size_t)s->k, 0x3c00, a[r], 0, (size_t)s->k, b[r], 0,
                           (size_t)s->n, 0, c[r], 0, (size_t)s->n, &queue, NULL);
        cl.marker(cl.queue, 0, NULL, &after);
        uint64_t start = before ? marker_end(before) : 0, end = after ? marker_end(after) : 0;
        if (before) cl.release_event(before);
        if (after) cl.release_event(after);
        if (status != 0 || !start || !end) {
            snprintf(reason, reason_size, "CLBlast%cgemm returned status %d",
                     s->dtype == XHAL_DTYPE_F32 ? 'S' : 'H', status);
            goto done;
        }
        if (i >= 2) times[i - 2] = (double)(end - start) * 1e-9;
    }
    result = conf_median(times, (size_t)s->repeats);
done:
    cl.finish(cl.queue);
    for (int r = 0; r < rotation; r++) {
        if (a[r]) cl.release_mem(a[r]);
        if (b[r]) cl.release_mem(b[r]);
        if (c[r]) cl.release_mem(c[r]);
    }
    free(times);
    free(host);
    return result;
}

const bench_baseline_t bench_baseline_clblast = {
    .name = "clblast",
    .description = "CLBlast CLBlastSgemm/CLBlastHgemm on the OpenCL device of the same name",
    .load = load,
    .time_gemm = time_gemm,
    .unload = unload,
};
