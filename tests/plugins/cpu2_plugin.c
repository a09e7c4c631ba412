/*
 * A working second backend for the tests: the CPU backend's sources built into a plugin whose
 * table is the CPU table renamed "cpu2". It gives the tests a second device, and so handles
 * that belong to another device.
 */
#include "builtin_backends.h"

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void);

XHAL_BACKEND_EXPORT const xhal_backend_api_t *xhal_backend_entry(void) {
    static xhal_backend_api_t api;
    api = *xhal_cpu_backend_entry();
    api.name = "cpu2";
    return &api;
}
