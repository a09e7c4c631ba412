/*
 * Where each element of an MFMA operand lives, for the 32x32x8 instructions the CDNA kernels use
 * (v_mfma_f32_32x32x8f16, v_mfma_f32_32x32x8bf16_1k; on gfx940+ spelled ..._32x32x8_f16 / _bf16):
 * plain C functions, so the kernels (kernels/hip/) and a host test that emulates the instruction
 * on the CPU (tests/hip/test_hip_mfma_layout.c) use one definition.
 *
 * The instruction, per AMD's CDNA2/CDNA3 ISA guides and the AMD lab notes on matrix cores: a
 * 64-lane wavefront computes D (32 x 32, f32) = A (32 x 8) B (8 x 32) + C. With lane l = x + 32 y
 * (x = l % 32, y = l / 32):
 *   A: element e (0..3) of lane l is A[x][4 y + e]        (4 consecutive k of row x)
 *   B: element e of lane l is B[4 y + e][x]               (4 consecutive k of column x)
 *   D: register r (0..15) of lane l is D[8 (r / 4) + 4 y + r % 4][x]
 *
 * Two consequences the kernels are built on:
 *  - Within one instruction, which k each (lane, element) slot carries is free, as long as A and
 *    B agree. The kernels read 8 consecutive k with one 16-byte load: over a chunk of 16 k, lane
 *    l holds k = 8 y .. 8 y + 7, elements 0..3 going to step 0 and 4..7 to step 1 of the chunk
 *    (xk_mfma_chunk_k), instead of two 8-byte loads in the hardware's order.
 *  - D holds, per lane, four runs of 4 consecutive rows of one column. In attention the kernels
 *    compute S^T = K Q^T, so a lane's column is its query: the softmax statistics of a query live
 *    in one lane (and its partner l ^ 32), and the registers 4 g .. 4 g + 3 of P^T are exactly
 *    the B operand of step g of O^T = V^T P^T (keys 8 g + 4 y + e), with no data movement.
 */
#ifndef XK_MFMA_LAYOUT_H
#define XK_MFMA_LAYOUT_H

#if defined(__HIPCC__) || defined(__HIPCC_RTC__)
#define XK_LAYOUT_FN static __device__ __forceinline__
#else
#define XK_LAYOUT_FN static inline
#endif

enum { XK_MFMA_M = 32, XK_MFMA_K = 8, XK_MFMA_REGS = 16, XK_MFMA_LANES = 64 };

/* The row of A (column of B) lane `lane` supplies. */
XK_LAYOUT_FN int xk_mfma_lane_row(int lane) {
    return lane & 31;
}

/* The k, within a 16-wide chunk, of element e (0..3) of lane `lane` in step `step` (0, 1). */
XK_LAYOUT_FN int xk_mfma_chunk_k(int lane, int step, int e) {
    return 8 * (lane >> 5) + 4 * step + e;
}

/* The row of D held by register r of lane `lane` (its column is xk_mfma_lane_row(lane)). */
XK_LAYOUT_FN int xk_mfma_acc_row(int lane, int r) {
    return 8 * (r >> 2) + 4 * (lane >> 5) + (r & 3);
}

/*
 * Attention, O^T = V^T P^T: in step g (0..3) of a 32-key block, element e of lane `lane` is key
 * 8 g + 4 y + e of the block for both operands (A = V^T: that key of dimension lane % 32; B = P^T:
 * that key of query lane % 32, i.e. register 4 g + e of the S^T accumulator).
 */
XK_LAYOUT_FN int xk_mfma_pv_key(int lane, int g, int e) {
    return 8 * g + 4 * (lane >> 5) + e;
}

#endif /* XK_MFMA_LAYOUT_H */
