/* The argument checks every entry point shares; each names the function and the argument. */
#include <string.h>

#include "core.h"

xhal_status_t xhal_check_not_null(const char *fn, const char *name, const void *ptr) {
    if (ptr) return XHAL_OK;
    return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: %s is NULL", fn, name);
}

xhal_status_t xhal_check_same_device(const char *fn, const char *name,
                                     const xhal_device_t *object_device,
                                     const xhal_device_t *device) {
    if (object_device == device) return XHAL_OK;
    return xhal_set_error(XHAL_INVALID_ARGUMENT,
                          "%s: %s belongs to another device (%s) than the stream's (%s)", fn, name,
                          object_device->info.spec, device->info.spec);
}

xhal_status_t xhal_check_range(const char *fn, const char *buffer_name, const char *offset_name,
                               const xhal_buffer_t *buffer, uint64_t offset, uint64_t size) {
    uint64_t end;
    if (!xhal_add_u64(offset, size, &end) || end > buffer->size)
        return xhal_set_error(XHAL_OUT_OF_RANGE,
                              "%s: %s (%llu) + size (%llu) runs past the %llu bytes of %s", fn,
                              offset_name, (unsigned long long)offset, (unsigned long long)size,
                              (unsigned long long)buffer->size, buffer_name);
    return XHAL_OK;
}

xhal_status_t xhal_copy_versioned(const char *fn, const char *name, const void *src,
                                  size_t min_size, size_t full_size, void *full) {
    CHECK(xhal_check_not_null(fn, name, src));
    uint32_t size;
    memcpy(&size, src, sizeof size);
    if (size < min_size || size > full_size)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: %s->struct_size (%u) is not a size this library knows (%zu .. "
                              "%zu): make the struct with its *_init function or set struct_size "
                              "to sizeof the struct",
                              fn, name, (unsigned)size, min_size, full_size);
    memset(full, 0, full_size);
    memcpy(full, src, size);
    return XHAL_OK;
}

xhal_status_t xhal_check_dtype(const char *fn, const char *name, xhal_dtype_t dtype) {
    if ((unsigned)dtype < XHAL_DTYPE_COUNT) return XHAL_OK;
    return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: %s (%d) is not a valid xhal_dtype_t", fn,
                          name, (int)dtype);
}

xhal_status_t xhal_check_at_least(const char *fn, const char *name, int64_t value,
                                  int64_t minimum) {
    if (value >= minimum) return XHAL_OK;
    return xhal_set_error(XHAL_INVALID_ARGUMENT, "%s: %s (%lld) must be >= %lld", fn, name,
                          (long long)value, (long long)minimum);
}

xhal_status_t xhal_check_tensor(const char *fn, const char *name, const char *offset_name,
                                const xhal_buffer_t *buffer, uint64_t offset, uint64_t elements,
                                xhal_dtype_t dtype, const xhal_device_t *device,
                                uint64_t *out_bytes) {
    CHECK(xhal_check_not_null(fn, name, buffer));
    CHECK(xhal_check_same_device(fn, name, buffer->device, device));
    uint64_t element_size = xhal_dtype_size(dtype);
    if (offset % element_size)
        return xhal_set_error(XHAL_INVALID_ARGUMENT,
                              "%s: %s (%llu) is not a multiple of the %s element size (%llu)", fn,
                              offset_name, (unsigned long long)offset, xhal_dtype_name(dtype),
                              (unsigned long long)element_size);
    uint64_t bytes;
    if (elements == UINT64_MAX || !xhal_mul_u64(elements, element_size, &bytes))
        return xhal_set_error(XHAL_OUT_OF_RANGE,
                              "%s: the shape and strides of %s span more than 2^64 bytes", fn,
                              name);
    CHECK(xhal_check_range(fn, name, offset_name, buffer, offset, bytes));
    *out_bytes = bytes;
    return XHAL_OK;
}
