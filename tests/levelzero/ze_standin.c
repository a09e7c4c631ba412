/*
 * A test-only stand-in for the Level Zero loader (libze_loader.so.1): the entry points the Level
 * Zero backend calls, carried out by an OpenCL runtime that takes SPIR-V and Intel's unified
 * shared memory (Intel's CPU OpenCL runtime, registered through OCL_ICD_VENDORS). It lets this
 * machine, which has no Intel GPU, run the backend end to end: its modules (the SPIR-V built
 * with xhal, through clCreateProgramWithIL), argument setting, group sizes, launches (as
 * NDRanges), copies, fills and events go through here and their results are checked by the GEMM
 * and attention tests and the conformance suite. Never part of the product.
 *
 * The device says it is a GPU, so the backend runs the kernels with the tuning it would use on
 * an Intel GPU ([default] of opencl.ini: work-groups, local memory), not the CPU sections.
 *
 * Mapping: device and host USM are clDeviceMemAllocINTEL/clHostMemAllocINTEL; an immediate
 * command list is an in-order profiling queue; an event holds the cl_event of the command that
 * signals it; a global timestamp is a marker's CL_PROFILING_COMMAND_END, written into
 * the destination when the host synchronizes with the event the marker signals.
 * zeKernelSetArgumentValue cannot see whether an argument is a pointer, so an 8-byte value that
 * falls inside a live allocation is set with clSetKernelArgMemPointerINTEL (the backend passes
 * buffers by their base pointer and offsets separately).
 *
 * Built a second time with ZE_STANDIN_FAIL: zeInit fails with ZE_RESULT_ERROR_UNINITIALIZED and
 * every other entry point aborts, as the Debian loader's zeDriverGet crashes after a failed
 * zeInit; the backend must report "no device" and call nothing else.
 */
#include "ze_standin.h"

standin_t g;

struct _ze_driver_handle_t {
    int unused;
};
struct _ze_device_handle_t {
    int unused;
};
struct _ze_context_handle_t {
    int unused;
};
static struct _ze_driver_handle_t the_driver;
static struct _ze_device_handle_t the_device;
static struct _ze_context_handle_t the_context;

/* Live allocations, to tell pointer arguments from numbers. */
typedef struct allocation {
    uintptr_t base;
    size_t size;
} allocation_t;
static pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;
static allocation_t *allocs;
static size_t alloc_count, alloc_capacity;

ze_result_t from_cl(cl_int err) {
    switch (err) {
    case CL_SUCCESS:
        return ZE_RESULT_SUCCESS;
    case CL_OUT_OF_HOST_MEMORY:
        return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    case CL_OUT_OF_RESOURCES:
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
        return ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY;
    case CL_BUILD_PROGRAM_FAILURE:
    case CL_INVALID_BINARY:
        return ZE_RESULT_ERROR_MODULE_BUILD_FAILURE;
    case CL_INVALID_KERNEL_NAME:
        return ZE_RESULT_ERROR_INVALID_KERNEL_NAME;
    case CL_INVALID_ARG_INDEX:
        return ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX;
    case CL_INVALID_ARG_SIZE:
        return ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE;
    case CL_INVALID_WORK_GROUP_SIZE:
        return ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION;
    default:
        return ZE_RESULT_ERROR_UNKNOWN;
    }
}

#ifndef ZE_STANDIN_FAIL
static int has_text(cl_device_id device, cl_device_info param, const char *text) {
    size_t size = 0;
    if (clGetDeviceInfo(device, param, 0, NULL, &size) != CL_SUCCESS || size == 0) return 0;
    char *value = malloc(size + 1);
    if (!value) return 0;
    int found = clGetDeviceInfo(device, param, size, value, NULL) == CL_SUCCESS &&
                (value[size] = '\0', strstr(value, text) != NULL);
    free(value);
    return found;
}

/* An extension's entry point into *out (a function pointer), through memcpy: ISO C has no cast
 * from the void * the runtime returns. */
static void extension(const char *name, void *out) {
    void *address = clGetExtensionFunctionAddressForPlatform(g.platform, name);
    memcpy(out, &address, sizeof(address));
}

/* The first device that takes SPIR-V and has Intel's USM. */
static ze_result_t find_device(void) {
    cl_platform_id platforms[16];
    cl_uint count = 0;
    if (clGetPlatformIDs(16, platforms, &count) != CL_SUCCESS) return ZE_RESULT_ERROR_UNINITIALIZED;
    for (cl_uint p = 0; p < count && p < 16; p++) {
        cl_device_id devices[8];
        cl_uint n = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 8, devices, &n) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < n && d < 8; d++) {
            if (!has_text(devices[d], CL_DEVICE_IL_VERSION, "SPIR-V_1.") ||
                !has_text(devices[d], CL_DEVICE_EXTENSIONS, "cl_intel_unified_shared_memory"))
                continue;
            g.platform = platforms[p];
            g.device = devices[d];
            extension("clHostMemAllocINTEL", &g.host_alloc);
            extension("clDeviceMemAllocINTEL", &g.device_alloc);
            extension("clMemBlockingFreeINTEL", &g.free_mem);
            extension("clSetKernelArgMemPointerINTEL", &g.set_pointer);
            extension("clEnqueueMemcpyINTEL", &g.memcpy_);
            extension("clEnqueueMemFillINTEL", &g.fill);
            if (!g.host_alloc || !g.device_alloc || !g.free_mem || !g.set_pointer || !g.memcpy_ ||
                !g.fill)
                continue;
            cl_int err = CL_SUCCESS;
            g.context = clCreateContext(NULL, 1, &g.device, NULL, NULL, &err);
            if (err != CL_SUCCESS) continue;
            char device_name[96] = "", platform_name[96] = ""; /* fit the 256 of g.name */
            clGetDeviceInfo(g.device, CL_DEVICE_NAME, sizeof(device_name) - 1, device_name, NULL);
            clGetPlatformInfo(g.platform, CL_PLATFORM_NAME, sizeof(platform_name) - 1,
                              platform_name, NULL);
            /* XHAL_ZE_STANDIN_NAME: the name of a real device (the peaks test). */
            const char *as = getenv("XHAL_ZE_STANDIN_NAME");
            if (as && *as)
                snprintf(g.name, sizeof(g.name), "%s", as);
            else
                snprintf(g.name, sizeof(g.name), "xhal Level Zero stand-in (%s, %s)", platform_name,
                         device_name);
            return ZE_RESULT_SUCCESS;
        }
    }
    return ZE_RESULT_ERROR_UNINITIALIZED;
}

#endif

ze_result_t ZE_APICALL zeInit(ze_init_flags_t flags) {
    (void)flags;
#ifdef ZE_STANDIN_FAIL
    return ZE_RESULT_ERROR_UNINITIALIZED;
#else
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static ze_result_t result;
    pthread_mutex_lock(&lock);
    if (!g.ready) {
        result = find_device();
        g.ready = 1;
    }
    pthread_mutex_unlock(&lock);
    return result;
#endif
}

ze_result_t ZE_APICALL zeDriverGet(uint32_t *pCount, ze_driver_handle_t *phDrivers) {
    ENTRY();
    if (phDrivers && *pCount >= 1) phDrivers[0] = &the_driver;
    *pCount = 1;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeDriverGetProperties(ze_driver_handle_t hDriver,
                                             ze_driver_properties_t *pDriverProperties) {
    ENTRY();
    (void)hDriver;
    memset(&pDriverProperties->uuid, 0, sizeof(pDriverProperties->uuid));
    pDriverProperties->driverVersion = 1;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeDriverGetApiVersion(ze_driver_handle_t hDriver,
                                             ze_api_version_t *version) {
    ENTRY();
    (void)hDriver;
    *version = ZE_API_VERSION_1_4;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeDeviceGet(ze_driver_handle_t hDriver, uint32_t *pCount,
                                   ze_device_handle_t *phDevices) {
    ENTRY();
    (void)hDriver;
    if (phDevices && *pCount >= 1) phDevices[0] = &the_device;
    *pCount = 1;
    return ZE_RESULT_SUCCESS;
}

static cl_ulong device_ulong(cl_device_info param, size_t size) {
    cl_ulong value = 0;
    clGetDeviceInfo(g.device, param, size, &value, NULL);
    return value;
}

ze_result_t ZE_APICALL zeDeviceGetProperties(ze_device_handle_t hDevice,
                                             ze_device_properties_t *p) {
    ENTRY();
    (void)hDevice;
    p->type = ZE_DEVICE_TYPE_GPU;
    p->vendorId = 0x8086;
    p->deviceId = 0;
    p->flags = 0;
    p->subdeviceId = 0;
    p->coreClockRate = (uint32_t)device_ulong(CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof(cl_uint));
    p->maxMemAllocSize = device_ulong(CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(cl_ulong));
    p->maxHardwareContexts = 1;
    p->maxCommandQueuePriority = 0;
    p->numThreadsPerEU = 1;
    p->physicalEUSimdWidth = 8;
    p->numEUsPerSubslice = (uint32_t)device_ulong(CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(cl_uint));
    p->numSubslicesPerSlice = 1;
    p->numSlices = 1;
    p->timerResolution = 1; /* nanoseconds: the profiling clock's unit */
    p->timestampValidBits = 64;
    p->kernelTimestampValidBits = 64;
    memset(&p->uuid, 0, sizeof(p->uuid));
    snprintf(p->name, sizeof(p->name), "%s", g.name);
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeDeviceGetComputeProperties(ze_device_handle_t hDevice,
                                                    ze_device_compute_properties_t *p) {
    ENTRY();
    (void)hDevice;
    size_t items[3] = {1, 1, 1};
    clGetDeviceInfo(g.device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof(items), items, NULL);
    size_t group = (size_t)device_ulong(CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(size_t));
    p->maxTotalGroupSize = (uint32_t)(group > 1024 ? 1024 : group); /* what Intel GPUs allow */
    p->maxGroupSizeX = (uint32_t)(items[0] > 1024 ? 1024 : items[0]);
    p->maxGroupSizeY = (uint32_t)(items[1] > 1024 ? 1024 : items[1]);
    p->maxGroupSizeZ = (uint32_t)(items[2] > 1024 ? 1024 : items[2]);
    p->maxGroupCountX = p->maxGroupCountY = p->maxGroupCountZ = UINT32_MAX;
    p->maxSharedLocalMemory = (uint32_t)device_ulong(CL_DEVICE_LOCAL_MEM_SIZE, sizeof(cl_ulong));
    p->numSubGroupSizes = 1;
    p->subGroupSizes[0] = 16;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeDeviceGetMemoryProperties(ze_device_handle_t hDevice, uint32_t *pCount,
                                                   ze_device_memory_properties_t *p) {
    ENTRY();
    (void)hDevice;
    if (p && *pCount >= 1) {
        p[0].flags = 0;
        p[0].maxClockRate = 0;
        p[0].maxBusWidth = 0;
        p[0].totalSize = device_ulong(CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(cl_ulong));
        snprintf(p[0].name, sizeof(p[0].name), "host memory");
    }
    *pCount = 1;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeDeviceGetCommandQueueGroupProperties(
    ze_device_handle_t hDevice, uint32_t *pCount, ze_command_queue_group_properties_t *p) {
    ENTRY();
    (void)hDevice;
    if (p && *pCount >= 1) {
        p[0].flags = ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE |
                     ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COPY;
        p[0].maxMemoryFillPatternSize = 128;
        p[0].numQueues = 1;
    }
    *pCount = 1;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeContextCreate(ze_driver_handle_t hDriver, const ze_context_desc_t *desc,
                                       ze_context_handle_t *phContext) {
    ENTRY();
    (void)hDriver;
    (void)desc;
    *phContext = &the_context;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeContextDestroy(ze_context_handle_t hContext) {
    ENTRY();
    (void)hContext;
    return ZE_RESULT_SUCCESS;
}

/* ---- Memory ---- */

static ze_result_t remember(void *ptr, size_t size) {
    pthread_mutex_lock(&alloc_lock);
    if (alloc_count == alloc_capacity) {
        size_t capacity = alloc_capacity ? 2 * alloc_capacity : 64;
        allocation_t *grown = realloc(allocs, capacity * sizeof(*grown));
        if (!grown) {
            pthread_mutex_unlock(&alloc_lock);
            return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        }
        allocs = grown;
        alloc_capacity = capacity;
    }
    allocs[alloc_count++] = (allocation_t){(uintptr_t)ptr, size};
    pthread_mutex_unlock(&alloc_lock);
    return ZE_RESULT_SUCCESS;
}

int is_allocation(uintptr_t value) {
    int found = 0;
    pthread_mutex_lock(&alloc_lock);
    for (size_t i = 0; i < alloc_count && !found; i++)
        found = value >= allocs[i].base && value < allocs[i].base + allocs[i].size;
    pthread_mutex_unlock(&alloc_lock);
    return found;
}

static ze_result_t allocate(int host, size_t size, size_t alignment, void **pptr) {
    cl_int err = CL_SUCCESS;
    void *ptr = host ? g.host_alloc(g.context, NULL, size, (cl_uint)alignment, &err)
                     : g.device_alloc(g.context, g.device, NULL, size, (cl_uint)alignment, &err);
    if (!ptr || err != CL_SUCCESS)
        return err == CL_SUCCESS ? ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY : from_cl(err);
    ze_result_t result = remember(ptr, size);
    if (result != ZE_RESULT_SUCCESS) {
        g.free_mem(g.context, ptr);
        return result;
    }
    *pptr = ptr;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeMemAllocDevice(ze_context_handle_t hContext,
                                        const ze_device_mem_alloc_desc_t *device_desc, size_t size,
                                        size_t alignment, ze_device_handle_t hDevice, void **pptr) {
    ENTRY();
    (void)hContext;
    (void)device_desc;
    (void)hDevice;
    return allocate(0, size, alignment, pptr);
}

ze_result_t ZE_APICALL zeMemAllocHost(ze_context_handle_t hContext,
                                      const ze_host_mem_alloc_desc_t *host_desc, size_t size,
                                      size_t alignment, void **pptr) {
    ENTRY();
    (void)hContext;
    (void)host_desc;
    return allocate(1, size, alignment, pptr);
}

ze_result_t ZE_APICALL zeMemFree(ze_context_handle_t hContext, void *ptr) {
    ENTRY();
    (void)hContext;
    pthread_mutex_lock(&alloc_lock);
    for (size_t i = 0; i < alloc_count; i++)
        if (allocs[i].base == (uintptr_t)ptr) {
            allocs[i] = allocs[--alloc_count];
            break;
        }
    pthread_mutex_unlock(&alloc_lock);
    return from_cl(g.free_mem(g.context, ptr));
}
