/*
 * The Level Zero stand-in's modules and kernels (ze_standin.c explains the stand-in): a module
 * is an OpenCL program made from the SPIR-V with clCreateProgramWithIL and built; a kernel
 * keeps the group size set on it for its launches.
 *
 * Intel's runtime takes some 40 s here to compile the GEMM module, as a GPU driver would take a
 * while and keep the result in its cache; so does the stand-in where XHAL_ZE_STANDIN_CACHE names
 * a folder (tests/levelzero/standin.sh sets <user cache>/xhal/ze-standin): the built program's
 * binary, keyed by a hash of the SPIR-V, the build flags and the runtime's driver version, is
 * loaded there by the next process. The first run of a build tree takes the SPIR-V path.
 */
#include <unistd.h>

#include "ze_standin.h"

struct _ze_module_handle_t {
    cl_program program;
};

struct _ze_module_build_log_handle_t {
    char *text;
};

struct _ze_kernel_handle_t {
    cl_kernel kernel;
    uint32_t group[3];
};

static void make_log(cl_program program, ze_module_build_log_handle_t *out) {
    if (!out) return;
    *out = calloc(1, sizeof(**out));
    if (!*out) return;
    size_t size = 0;
    if (program &&
        clGetProgramBuildInfo(program, g.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) ==
            CL_SUCCESS &&
        size > 0) {
        (*out)->text = calloc(1, size + 1);
        if ((*out)->text)
            clGetProgramBuildInfo(program, g.device, CL_PROGRAM_BUILD_LOG, size, (*out)->text,
                                  NULL);
    }
}

static uint64_t fnv1a(uint64_t hash, const void *data, size_t size) {
    const unsigned char *bytes = data;
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ bytes[i]) * 0x100000001b3ULL;
    return hash;
}

/* The cache file of this module in path[size]; 0 when there is no cache. */
static int cache_path(const ze_module_desc_t *desc, char *path, size_t size) {
    const char *dir = getenv("XHAL_ZE_STANDIN_CACHE");
    if (!dir || !*dir) return 0;
    char driver[128] = "";
    clGetDeviceInfo(g.device, CL_DRIVER_VERSION, sizeof(driver) - 1, driver, NULL);
    const char *flags = desc->pBuildFlags ? desc->pBuildFlags : "";
    uint64_t hash = fnv1a(0xcbf29ce484222325ULL, desc->pInputModule, desc->inputSize);
    hash = fnv1a(hash, flags, strlen(flags) + 1);
    hash = fnv1a(hash, driver, strlen(driver) + 1);
    hash = fnv1a(hash, g.name, strlen(g.name) + 1);
    snprintf(path, size, "%s/%016llx.bin", dir, (unsigned long long)hash);
    return 1;
}

/* The program from the cache file, built; NULL when it is not there or not usable. */
static cl_program cache_load(const char *path, const char *flags) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    unsigned char *binary = NULL;
    long size = fseek(file, 0, SEEK_END) == 0 ? ftell(file) : -1;
    if (size > 0 && fseek(file, 0, SEEK_SET) == 0 && (binary = malloc((size_t)size)) &&
        fread(binary, 1, (size_t)size, file) != (size_t)size) {
        free(binary);
        binary = NULL;
    }
    fclose(file);
    if (!binary) return NULL;
    size_t length = (size_t)size;
    const unsigned char *bytes = binary;
    cl_int err = CL_SUCCESS, status = CL_SUCCESS;
    cl_program program =
        clCreateProgramWithBinary(g.context, 1, &g.device, &length, &bytes, &status, &err);
    free(binary);
    if (program && (err != CL_SUCCESS || status != CL_SUCCESS ||
                    clBuildProgram(program, 1, &g.device, flags, NULL, NULL) != CL_SUCCESS)) {
        clReleaseProgram(program);
        program = NULL;
    }
    return program;
}

/* Writes the built program's binary to the cache: to a file beside, then renamed. */
static void cache_store(const char *path, cl_program program) {
    size_t size = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof(size), &size, NULL) !=
            CL_SUCCESS ||
        size == 0)
        return;
    unsigned char *binary = malloc(size);
    if (!binary) return;
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    FILE *file = NULL;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof(binary), &binary, NULL) ==
            CL_SUCCESS &&
        (file = fopen(tmp, "wb"))) {
        int ok = fwrite(binary, 1, size, file) == size;
        ok = fclose(file) == 0 && ok;
        if (!ok || rename(tmp, path) != 0) remove(tmp);
    }
    free(binary);
}

ze_result_t ZE_APICALL zeModuleCreate(ze_context_handle_t hContext, ze_device_handle_t hDevice,
                                      const ze_module_desc_t *desc, ze_module_handle_t *phModule,
                                      ze_module_build_log_handle_t *phBuildLog) {
    ENTRY();
    (void)hContext;
    (void)hDevice;
    if (desc->format != ZE_MODULE_FORMAT_IL_SPIRV) return ZE_RESULT_ERROR_INVALID_ENUMERATION;
    const char *flags = desc->pBuildFlags ? desc->pBuildFlags : "";
    char path[4096];
    int cached = cache_path(desc, path, sizeof(path));
    cl_int err = CL_SUCCESS;
    cl_program program = cached ? cache_load(path, flags) : NULL;
    if (!program) {
        program = clCreateProgramWithIL(g.context, desc->pInputModule, desc->inputSize, &err);
        if (err == CL_SUCCESS) err = clBuildProgram(program, 1, &g.device, flags, NULL, NULL);
        if (err == CL_SUCCESS && cached) cache_store(path, program);
    }
    make_log(program, phBuildLog);
    if (err != CL_SUCCESS) {
        if (program) clReleaseProgram(program);
        return from_cl(err == CL_INVALID_VALUE ? CL_INVALID_BINARY : err);
    }
    ze_module_handle_t module = calloc(1, sizeof(*module));
    if (!module) {
        clReleaseProgram(program);
        return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    module->program = program;
    *phModule = module;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeModuleDestroy(ze_module_handle_t hModule) {
    ENTRY();
    clReleaseProgram(hModule->program);
    free(hModule);
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeModuleBuildLogGetString(ze_module_build_log_handle_t hModuleBuildLog,
                                                 size_t *pSize, char *pBuildLog) {
    ENTRY();
    const char *text = hModuleBuildLog->text ? hModuleBuildLog->text : "";
    size_t need = strlen(text) + 1;
    if (pBuildLog) {
        size_t n = *pSize < need ? *pSize : need;
        if (n) {
            memcpy(pBuildLog, text, n - 1);
            pBuildLog[n - 1] = '\0';
        }
    }
    *pSize = need;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeModuleBuildLogDestroy(ze_module_build_log_handle_t hModuleBuildLog) {
    ENTRY();
    free(hModuleBuildLog->text);
    free(hModuleBuildLog);
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeKernelCreate(ze_module_handle_t hModule, const ze_kernel_desc_t *desc,
                                      ze_kernel_handle_t *phKernel) {
    ENTRY();
    cl_int err = CL_SUCCESS;
    cl_kernel kernel = clCreateKernel(hModule->program, desc->pKernelName, &err);
    if (err != CL_SUCCESS) return from_cl(err);
    ze_kernel_handle_t handle = calloc(1, sizeof(*handle));
    if (!handle) {
        clReleaseKernel(kernel);
        return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    handle->kernel = kernel;
    handle->group[0] = handle->group[1] = handle->group[2] = 1;
    *phKernel = handle;
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeKernelDestroy(ze_kernel_handle_t hKernel) {
    ENTRY();
    clReleaseKernel(hKernel->kernel);
    free(hKernel);
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeKernelSetGroupSize(ze_kernel_handle_t hKernel, uint32_t groupSizeX,
                                            uint32_t groupSizeY, uint32_t groupSizeZ) {
    ENTRY();
    if (!groupSizeX || !groupSizeY || !groupSizeZ ||
        (uint64_t)groupSizeX * groupSizeY * groupSizeZ > 1024)
        return ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION;
    hKernel->group[0] = groupSizeX;
    hKernel->group[1] = groupSizeY;
    hKernel->group[2] = groupSizeZ;
    return ZE_RESULT_SUCCESS;
}

/* The largest divisor of n that is at most `most`. */
static uint32_t divisor(uint32_t n, uint32_t most) {
    for (uint32_t d = most < n ? most : n; d > 1; d--)
        if (n % d == 0) return d;
    return 1;
}

ze_result_t ZE_APICALL zeKernelSuggestGroupSize(ze_kernel_handle_t hKernel, uint32_t globalSizeX,
                                                uint32_t globalSizeY, uint32_t globalSizeZ,
                                                uint32_t *groupSizeX, uint32_t *groupSizeY,
                                                uint32_t *groupSizeZ) {
    ENTRY();
    (void)hKernel;
    /* As a driver does: sizes that divide the global size, here at most 16 items in x. */
    *groupSizeX = divisor(globalSizeX, 16);
    *groupSizeY = divisor(globalSizeY, 1);
    *groupSizeZ = divisor(globalSizeZ, 1);
    return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL zeKernelSetArgumentValue(ze_kernel_handle_t hKernel, uint32_t argIndex,
                                                size_t argSize, const void *pArgValue) {
    ENTRY();
    cl_int err;
    uintptr_t value = 0;
    if (pArgValue && argSize == sizeof(void *)) memcpy(&value, pArgValue, sizeof(value));
    if (value && is_allocation(value))
        err = g.set_pointer(hKernel->kernel, argIndex, (const void *)value);
    else
        err = clSetKernelArg(hKernel->kernel, argIndex, argSize, pArgValue);
    return from_cl(err);
}

cl_kernel standin_kernel(ze_kernel_handle_t kernel, uint32_t out_group[3]) {
    memcpy(out_group, kernel->group, sizeof(kernel->group));
    return kernel->kernel;
}
