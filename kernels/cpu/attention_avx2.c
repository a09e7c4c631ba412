/*
 * The portable attention microkernels (attention_portable.h) compiled for AVX2 + FMA: with
 * 16-lane inner loops the compiler emits two ymm per lane vector and real FMAs (fmaf), which is
 * the whole difference an AVX2 machine needs; only AVX-512 gets hand-written intrinsics.
 */
#include "attention_ukernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX2)
#define ATT_FMA(a, b, c) fmaf(a, b, c)
#include "attention_portable.h"

const xk_att_ukernel_t xk_att_ukernel_avx2 = {"avx2", portable_convert, portable_prefill_tile,
                                              portable_decode_chunk, 0};
#else
const xk_att_ukernel_t xk_att_ukernel_avx2 = {"avx2", 0, 0, 0, 0};
#endif
