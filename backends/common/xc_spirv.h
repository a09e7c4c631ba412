/*
 * SPIR-V modules compiled into a plugin: the OpenCL C kernels (kernels/opencl/) compiled at
 * build time, per program and per variant of the shipped tuning, by cmake/xhal_spirv.cmake
 * (xhal_opencl_spirv), for runtimes that take IL: Intel's OpenCL runtimes
 * (clCreateProgramWithIL) and Level Zero (zeModuleCreate with ZE_MODULE_FORMAT_IL_SPIRV).
 *
 * A variant is named by the exact option string the OpenCL backend would build the program's
 * source with (ocl_program_options(): "-cl-std=CL1.2 -DXV=8 ..."): a device whose tuning gives
 * another string (a user tuning file, limits that lowered a value, extra build options) finds no
 * module and builds the source.
 */
#ifndef XHAL_BACKENDS_COMMON_XC_SPIRV_H
#define XHAL_BACKENDS_COMMON_XC_SPIRV_H

#include <stddef.h>

typedef struct xc_spirv_module {
    const char *program;       /* "gemm", "attention", "attention_merge" */
    const char *options;       /* the -D options it was compiled with */
    const unsigned char *code; /* SPIR-V words (little-endian bytes), validated by spirv-val */
    size_t size;               /* bytes */
} xc_spirv_module_t;

/* The module of `program` compiled with exactly `options` in table[0..count), or NULL. */
const xc_spirv_module_t *xc_spirv_find(const xc_spirv_module_t *table, size_t count,
                                       const char *program, const char *options);

/*
 * True when a device's IL version list (CL_DEVICE_IL_VERSION: "SPIR-V_1.0 SPIR-V_1.1 ...")
 * names SPIR-V 1.0 or a later 1.x, which the modules (--spirv-max-version=1.0) need.
 * NULL or "" (OpenCL before 2.1, PoCL without IL): false.
 */
int xc_spirv_il_supported(const char *il_versions);

/* 16 hex digits identifying the module's bytes (part of a program cache key). */
void xc_spirv_digest(const xc_spirv_module_t *module, char out[17]);

#endif
