/*
 * OpenCL error codes as their names, so that a failure reads "clEnqueueNDRangeKernel
 * (gemm_tile_f32) failed with CL_OUT_OF_RESOURCES (-5)" and not "-5".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ocl_internal.h"

const char *ocl_error_name(cl_int code) {
    switch (code) {
#define OCL_NAME(value, name)                                                                      \
    case value:                                                                                    \
        return name;
        OCL_NAME(0, "CL_SUCCESS")
        OCL_NAME(-1, "CL_DEVICE_NOT_FOUND")
        OCL_NAME(-2, "CL_DEVICE_NOT_AVAILABLE")
        OCL_NAME(-3, "CL_COMPILER_NOT_AVAILABLE")
        OCL_NAME(-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE")
        OCL_NAME(-5, "CL_OUT_OF_RESOURCES")
        OCL_NAME(-6, "CL_OUT_OF_HOST_MEMORY")
        OCL_NAME(-7, "CL_PROFILING_INFO_NOT_AVAILABLE")
        OCL_NAME(-8, "CL_MEM_COPY_OVERLAP")
        OCL_NAME(-9, "CL_IMAGE_FORMAT_MISMATCH")
        OCL_NAME(-10, "CL_IMAGE_FORMAT_NOT_SUPPORTED")
        OCL_NAME(-11, "CL_BUILD_PROGRAM_FAILURE")
        OCL_NAME(-12, "CL_MAP_FAILURE")
        OCL_NAME(-13, "CL_MISALIGNED_SUB_BUFFER_OFFSET")
        OCL_NAME(-14, "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST")
        OCL_NAME(-15, "CL_COMPILE_PROGRAM_FAILURE")
        OCL_NAME(-16, "CL_LINKER_NOT_AVAILABLE")
        OCL_NAME(-17, "CL_LINK_PROGRAM_FAILURE")
        OCL_NAME(-18, "CL_DEVICE_PARTITION_FAILED")
        OCL_NAME(-19, "CL_KERNEL_ARG_INFO_NOT_AVAILABLE")
        OCL_NAME(-30, "CL_INVALID_VALUE")
        OCL_NAME(-31, "CL_INVALID_DEVICE_TYPE")
        OCL_NAME(-32, "CL_INVALID_PLATFORM")
        OCL_NAME(-33, "CL_INVALID_DEVICE")
        OCL_NAME(-34, "CL_INVALID_CONTEXT")
        OCL_NAME(-35, "CL_INVALID_QUEUE_PROPERTIES")
        OCL_NAME(-36, "CL_INVALID_COMMAND_QUEUE")
        OCL_NAME(-37, "CL_INVALID_HOST_PTR")
        OCL_NAME(-38, "CL_INVALID_MEM_OBJECT")
        OCL_NAME(-39, "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR")
        OCL_NAME(-40, "CL_INVALID_IMAGE_SIZE")
        OCL_NAME(-41, "CL_INVALID_SAMPLER")
        OCL_NAME(-42, "CL_INVALID_BINARY")
        OCL_NAME(-43, "CL_INVALID_BUILD_OPTIONS")
        OCL_NAME(-44, "CL_INVALID_PROGRAM")
        OCL_NAME(-45, "CL_INVALID_PROGRAM_EXECUTABLE")
        OCL_NAME(-46, "CL_INVALID_KERNEL_NAME")
        OCL_NAME(-47, "CL_INVALID_KERNEL_DEFINITION")
        OCL_NAME(-48, "CL_INVALID_KERNEL")
        OCL_NAME(-49, "CL_INVALID_ARG_INDEX")
        OCL_NAME(-50, "CL_INVALID_ARG_VALUE")
        OCL_NAME(-51, "CL_INVALID_ARG_SIZE")
        OCL_NAME(-52, "CL_INVALID_KERNEL_ARGS")
        OCL_NAME(-53, "CL_INVALID_WORK_DIMENSION")
        OCL_NAME(-54, "CL_INVALID_WORK_GROUP_SIZE")
        OCL_NAME(-55, "CL_INVALID_WORK_ITEM_SIZE")
        OCL_NAME(-56, "CL_INVALID_GLOBAL_OFFSET")
        OCL_NAME(-57, "CL_INVALID_EVENT_WAIT_LIST")
        OCL_NAME(-58, "CL_INVALID_EVENT")
        OCL_NAME(-59, "CL_INVALID_OPERATION")
        OCL_NAME(-60, "CL_INVALID_GL_OBJECT")
        OCL_NAME(-61, "CL_INVALID_BUFFER_SIZE")
        OCL_NAME(-62, "CL_INVALID_MIP_LEVEL")
        OCL_NAME(-63, "CL_INVALID_GLOBAL_WORK_SIZE")
        OCL_NAME(-64, "CL_INVALID_PROPERTY")
        OCL_NAME(-65, "CL_INVALID_IMAGE_DESCRIPTOR")
        OCL_NAME(-66, "CL_INVALID_COMPILER_OPTIONS")
        OCL_NAME(-67, "CL_INVALID_LINKER_OPTIONS")
        OCL_NAME(-68, "CL_INVALID_DEVICE_PARTITION_COUNT")
        OCL_NAME(-69, "CL_INVALID_PIPE_SIZE")
        OCL_NAME(-70, "CL_INVALID_DEVICE_QUEUE")
        OCL_NAME(-71, "CL_INVALID_SPEC_ID")
        OCL_NAME(-72, "CL_MAX_SIZE_RESTRICTION_EXCEEDED")
        OCL_NAME(-1001, "CL_PLATFORM_NOT_FOUND_KHR")
#undef OCL_NAME
    default:
        return "an unknown OpenCL error";
    }
}

xhal_status_t ocl_fail(const xhal_host_api_t *host, cl_int code, const char *call,
                       const char *what_fmt, ...) {
    char what[512];
    va_list args;
    va_start(args, what_fmt);
    vsnprintf(what, sizeof(what), what_fmt, args);
    va_end(args);
    /* The runtime could not find the memory: the caller may retry with less. */
    int memory = code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_HOST_MEMORY ||
                 (code == CL_INVALID_BUFFER_SIZE && strcmp(call, "clCreateBuffer") == 0);
    return host->set_error(memory ? XHAL_OUT_OF_MEMORY : XHAL_DEVICE_ERROR,
                           "opencl: %s (%s) failed with %s (%d)", call, what, ocl_error_name(code),
                           (int)code);
}
