/*
 * The Level Zero backend's objects, for the kernels' dispatch (backends/opencl/ocl_ops.h includes
 * this file as <ocl_objects.h>, found in the folder of the plugin being built).
 */
#include "lz_internal.h"
