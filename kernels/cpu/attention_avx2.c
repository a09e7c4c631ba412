/*
 * The AVX2 + FMA attention table: the portable prefill (attention_portable.h) compiled for AVX2,
 * where 16-lane inner loops become two ymm per lane vector and real FMAs (fmaf), and the
 * hand-written decode and conversion of attention_decode_avx2.c, which read 16-bit K and V
 * themselves (decode is memory bound, so it is where the loads matter).
 */
#include "attention_ukernel.h"

#if defined(__x86_64__) && defined(XK_HAVE_AVX2)
#define ATT_FMA(a, b, c) fmaf(a, b, c)
#include "attention_avx2.h"
#include "attention_portable.h"

const xk_att_ukernel_t xk_att_ukernel_avx2 = {"avx2", xk_att_convert_avx2, portable_prefill_tile,
                                              xk_att_decode_chunk_avx2, 1};
#else
const xk_att_ukernel_t xk_att_ukernel_avx2 = {"avx2", 0, 0, 0, 0};
#endif
