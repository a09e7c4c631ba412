/* The epilogue's loops compiled for AVX2 + FMA (two ymm per vector of 16 floats). */
#include "epilogue.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX2)
#define XK_EPILOGUE_ROW row_avx2
#define XK_EPILOGUE_GATED gated_avx2
#include "epilogue_impl.h"

const xk_epilogue_kernels_t xk_epilogue_avx2 = {row_avx2, gated_avx2};
#else
const xk_epilogue_kernels_t xk_epilogue_avx2 = {0, 0};
#endif
