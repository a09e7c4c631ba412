/* The epilogue's loops compiled for AVX-512 (one zmm per vector of 16 floats). */
#include "epilogue.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX512)
#define XK_EPILOGUE_ROW row_avx512
#define XK_EPILOGUE_GATED gated_avx512
#include "epilogue_impl.h"

const xk_epilogue_kernels_t xk_epilogue_avx512 = {row_avx512, gated_avx512};
#else
const xk_epilogue_kernels_t xk_epilogue_avx512 = {0, 0};
#endif
