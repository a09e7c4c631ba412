/* The hand-written AVX2 attention kernels (attention_decode_avx2.c) the AVX2 table uses. */
#ifndef XHAL_KERNELS_CPU_ATTENTION_AVX2_H
#define XHAL_KERNELS_CPU_ATTENTION_AVX2_H

#include "attention_ukernel.h"

/* The table's convert: F16C for f16, a shift for bf16, 8 elements at a time. */
void xk_att_convert_avx2(float *dst, size_t ld_dst, const void *src, int64_t src_stride,
                         xhal_dtype_t type, size_t rows, size_t cols);

/* The table's decode_chunk: reads f32, f16 and bf16 K and V itself (decode_16bit). */
void xk_att_decode_chunk_avx2(const xk_att_chunk_t *c);

#endif
