/* What the files of the Level Zero stand-in share (ze_standin.c explains it). Test code only. */
#ifndef XHAL_ZE_STANDIN_H
#define XHAL_ZE_STANDIN_H

#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <CL/cl_ext.h>
#include <level_zero/ze_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ZE_STANDIN_FAIL
#define ENTRY() abort()
#else
#define ENTRY()                                                                                    \
    ((void)0) /* The kernel's OpenCL kernel and the group size set on it (ze_standin_module.c). */
cl_kernel standin_kernel(ze_kernel_handle_t kernel, uint32_t out_group[3]);

#endif

/* The one device: the OpenCL device that takes SPIR-V and has Intel's USM, found by zeInit. */
typedef struct standin {
    int ready;
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    clHostMemAllocINTEL_fn host_alloc;
    clDeviceMemAllocINTEL_fn device_alloc;
    clMemBlockingFreeINTEL_fn free_mem;
    clSetKernelArgMemPointerINTEL_fn set_pointer;
    clEnqueueMemcpyINTEL_fn memcpy_;
    clEnqueueMemFillINTEL_fn fill;
    char name[256];
} standin_t;

extern standin_t g;

/* The ze_result_t closest to an OpenCL error. */
ze_result_t from_cl(cl_int err);
/* True when value is an address inside a live USM allocation. */
int is_allocation(uintptr_t value);
/* The kernel's OpenCL kernel and the group size set on it (ze_standin_module.c). */
cl_kernel standin_kernel(ze_kernel_handle_t kernel, uint32_t out_group[3]);

#endif
