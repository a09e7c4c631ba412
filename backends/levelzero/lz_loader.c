/*
 * The Level Zero loader, opened with dlopen (backends/common/xc_dlib.h) so that the plugin loads
 * on machines without it; ze_result_t names for messages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lz_internal.h"
#include "xc_dlib.h"

lz_api_t lz;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static void *library;

/* libze1 installs the versioned name; the unversioned one comes with the -dev package only. */
static const char *const library_names[] = {"libze_loader.so.1", "libze_loader.so"};

static const xc_symbol_t symbols[] = {
#define LZ_SYMBOL(name) {#name, offsetof(lz_api_t, name)},
    LZ_ENTRY_POINTS(LZ_SYMBOL)
#undef LZ_SYMBOL
};

xhal_status_t lz_load_library(const xhal_host_api_t *host) {
    xhal_status_t status = XHAL_OK;
    pthread_mutex_lock(&load_lock);
    if (!library) {
        /* XHAL_LEVELZERO_LIBRARY names another loader file (the tests' stand-in). */
        const char *chosen = xhal_host_option(host, "XHAL_LEVELZERO_LIBRARY");
        xc_dlib_spec_t spec = {
            .what = "the Level Zero loader",
            .names = chosen ? &chosen : library_names,
            .name_count = chosen ? 1 : sizeof(library_names) / sizeof(library_names[0]),
            .symbols = symbols,
            .symbol_count = sizeof(symbols) / sizeof(symbols[0]),
            .install_hint = "install it (Debian: libze1) and a GPU driver (Intel: "
                            "intel-level-zero-gpu)",
            .old_hint = "xhal needs a Level Zero 1.4 loader or later",
        };
        lz_api_t api;
        memset(&api, 0, sizeof(api));
        /* Kept loaded for the life of the process, as drivers keep threads. */
        status = xc_dlib_open(host, &spec, &api, &library);
        if (status == XHAL_OK) lz = api;
    }
    pthread_mutex_unlock(&load_lock);
    return status;
}

const char *lz_result_name(ze_result_t result) {
    switch (result) {
    case ZE_RESULT_ERROR_DEPENDENCY_UNAVAILABLE:
        return "ZE_RESULT_ERROR_DEPENDENCY_UNAVAILABLE";
    case ZE_RESULT_ERROR_DEVICE_IN_LOW_POWER_STATE:
        return "ZE_RESULT_ERROR_DEVICE_IN_LOW_POWER_STATE";
    case ZE_RESULT_ERROR_DEVICE_LOST:
        return "ZE_RESULT_ERROR_DEVICE_LOST";
    case ZE_RESULT_ERROR_DEVICE_REQUIRES_RESET:
        return "ZE_RESULT_ERROR_DEVICE_REQUIRES_RESET";
    case ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE:
        return "ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE";
    case ZE_RESULT_ERROR_INSUFFICIENT_PERMISSIONS:
        return "ZE_RESULT_ERROR_INSUFFICIENT_PERMISSIONS";
    case ZE_RESULT_ERROR_INVALID_ARGUMENT:
        return "ZE_RESULT_ERROR_INVALID_ARGUMENT";
    case ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE:
        return "ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE";
    case ZE_RESULT_ERROR_INVALID_ENUMERATION:
        return "ZE_RESULT_ERROR_INVALID_ENUMERATION";
    case ZE_RESULT_ERROR_INVALID_FUNCTION_NAME:
        return "ZE_RESULT_ERROR_INVALID_FUNCTION_NAME";
    case ZE_RESULT_ERROR_INVALID_GLOBAL_NAME:
        return "ZE_RESULT_ERROR_INVALID_GLOBAL_NAME";
    case ZE_RESULT_ERROR_INVALID_GLOBAL_WIDTH_DIMENSION:
        return "ZE_RESULT_ERROR_INVALID_GLOBAL_WIDTH_DIMENSION";
    case ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION:
        return "ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION";
    case ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX:
        return "ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX";
    case ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE:
        return "ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE";
    case ZE_RESULT_ERROR_INVALID_KERNEL_ATTRIBUTE_VALUE:
        return "ZE_RESULT_ERROR_INVALID_KERNEL_ATTRIBUTE_VALUE";
    case ZE_RESULT_ERROR_INVALID_KERNEL_NAME:
        return "ZE_RESULT_ERROR_INVALID_KERNEL_NAME";
    case ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED:
        return "ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED";
    case ZE_RESULT_ERROR_INVALID_NATIVE_BINARY:
        return "ZE_RESULT_ERROR_INVALID_NATIVE_BINARY";
    case ZE_RESULT_ERROR_INVALID_NULL_HANDLE:
        return "ZE_RESULT_ERROR_INVALID_NULL_HANDLE";
    case ZE_RESULT_ERROR_INVALID_NULL_POINTER:
        return "ZE_RESULT_ERROR_INVALID_NULL_POINTER";
    case ZE_RESULT_ERROR_INVALID_SIZE:
        return "ZE_RESULT_ERROR_INVALID_SIZE";
    case ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT:
        return "ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT";
    case ZE_RESULT_ERROR_MODULE_BUILD_FAILURE:
        return "ZE_RESULT_ERROR_MODULE_BUILD_FAILURE";
    case ZE_RESULT_ERROR_MODULE_LINK_FAILURE:
        return "ZE_RESULT_ERROR_MODULE_LINK_FAILURE";
    case ZE_RESULT_ERROR_NOT_AVAILABLE:
        return "ZE_RESULT_ERROR_NOT_AVAILABLE";
    case ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY:
        return "ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY";
    case ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY:
        return "ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY";
    case ZE_RESULT_ERROR_OVERLAPPING_REGIONS:
        return "ZE_RESULT_ERROR_OVERLAPPING_REGIONS";
    case ZE_RESULT_ERROR_UNINITIALIZED:
        return "ZE_RESULT_ERROR_UNINITIALIZED";
    case ZE_RESULT_ERROR_UNKNOWN:
        return "ZE_RESULT_ERROR_UNKNOWN";
    case ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT:
        return "ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT";
    case ZE_RESULT_ERROR_UNSUPPORTED_ENUMERATION:
        return "ZE_RESULT_ERROR_UNSUPPORTED_ENUMERATION";
    case ZE_RESULT_ERROR_UNSUPPORTED_FEATURE:
        return "ZE_RESULT_ERROR_UNSUPPORTED_FEATURE";
    case ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT:
        return "ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT";
    case ZE_RESULT_ERROR_UNSUPPORTED_SIZE:
        return "ZE_RESULT_ERROR_UNSUPPORTED_SIZE";
    case ZE_RESULT_ERROR_UNSUPPORTED_VERSION:
        return "ZE_RESULT_ERROR_UNSUPPORTED_VERSION";
    case ZE_RESULT_EXP_ERROR_DEVICE_IS_NOT_VERTEX:
        return "ZE_RESULT_EXP_ERROR_DEVICE_IS_NOT_VERTEX";
    case ZE_RESULT_EXP_ERROR_REMOTE_DEVICE:
        return "ZE_RESULT_EXP_ERROR_REMOTE_DEVICE";
    case ZE_RESULT_EXP_ERROR_VERTEX_IS_NOT_DEVICE:
        return "ZE_RESULT_EXP_ERROR_VERTEX_IS_NOT_DEVICE";
    case ZE_RESULT_NOT_READY:
        return "ZE_RESULT_NOT_READY";
    case ZE_RESULT_SUCCESS:
        return "ZE_RESULT_SUCCESS";
    case ZE_RESULT_WARNING_ACTION_REQUIRED:
        return "ZE_RESULT_WARNING_ACTION_REQUIRED";
    case ZE_RESULT_WARNING_DROPPED_DATA:
        return "ZE_RESULT_WARNING_DROPPED_DATA";
    default:
        return "an unknown ze_result_t";
    }
}

xhal_status_t lz_fail(const xhal_host_api_t *host, ze_result_t result, const char *call,
                      const char *what_fmt, ...) {
    char what[512];
    va_list args;
    va_start(args, what_fmt);
    vsnprintf(what, sizeof(what), what_fmt, args);
    va_end(args);
    int memory = result == ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY ||
                 result == ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY;
    return host->set_error(memory ? XHAL_OUT_OF_MEMORY : XHAL_DEVICE_ERROR,
                           "levelzero: %s (%s) failed with %s (0x%x)", call, what,
                           lz_result_name(result), (unsigned)result);
}
