/*
 * The portable attention microkernels (attention_portable.h) at the default flags: the path for
 * CPUs without a hand-written one, and the reference the other paths are tested against
 * (XHAL_CPU_ISA=generic forces it).
 */
#define ATT_FMA(a, b, c) ((a) * (b) + (c))
#include "attention_portable.h"

const xk_att_ukernel_t xk_att_ukernel_generic = {"generic", portable_convert, portable_prefill_tile,
                                                 portable_decode_chunk, 0};
