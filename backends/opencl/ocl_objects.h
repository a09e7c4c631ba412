/*
 * The OpenCL backend's objects, for the kernels' dispatch (ocl_ops.h includes this file as
 * <ocl_objects.h>, found in the folder of the plugin being built): they are in ocl_internal.h.
 */
#include "ocl_internal.h"
