/*
 * Hopper (sm_90a) building blocks: mbarriers, bulk tensor copies (TMA), wgmma fences and shared
 * memory descriptors, and register reallocation between warpgroups. Only kernels/cuda/ uses
 * these; the host launches them only on compute capability 9.0.
 *
 * The shared-memory operands are laid out by TMA with the 128-byte swizzle, in 1024-byte atoms
 * of 8 rows x 128 bytes, which is the canonical layout the wgmma descriptors name (PTX ISA,
 * "Matrix Descriptor Format"):
 *   K-major  (rows of 64 k values): SBO = 1024 bytes between 8-row groups, LBO unused (1);
 *            the k16 step s starts 32 s bytes into the atom.
 *   MN-major (rows of 64 m or n values, one row per k): LBO = bytes between 64-wide MN blocks,
 *            SBO = 1024 bytes between groups of 8 k rows; the k16 step s starts 2048 s bytes in.
 */
#ifndef XK_SM90_CUH
#define XK_SM90_CUH

#include <cuda.h> /* CUtensorMap */

#include "xk_compat.cuh"

XK_DEVICE uint32_t xk_smem_u32(const void *p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

XK_DEVICE void xk_mbar_init(uint64_t *bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(xk_smem_u32(bar)), "r"(count));
}

/* Makes the barrier initialisation visible to the async proxy (TMA) before first use. */
XK_DEVICE void xk_mbar_fence_init() {
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

/* Arrives and announces `bytes` of TMA traffic the current phase must also wait for. */
XK_DEVICE void xk_mbar_arrive_expect_tx(uint64_t *bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(xk_smem_u32(bar)),
                 "r"(bytes)
                 : "memory");
}

XK_DEVICE void xk_mbar_arrive(uint64_t *bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(xk_smem_u32(bar)) : "memory");
}

/*
 * Waits until the phase of parity `parity` has completed. A fresh barrier is in phase 0, and
 * waiting for parity 1 returns at once: that is how a producer finds every stage free at start.
 */
XK_DEVICE void xk_mbar_wait(uint64_t *bar, uint32_t parity) {
    asm volatile("{\n"
                 ".reg .pred P1;\n"
                 "LAB_WAIT:\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 P1, [%0], %1;\n"
                 "@P1 bra DONE;\n"
                 "bra LAB_WAIT;\n"
                 "DONE:\n"
                 "}\n" ::"r"(xk_smem_u32(bar)),
                 "r"(parity)
                 : "memory");
}

/* Copies the box at coordinates (c0, c1, c2) of a 3-D tensor map into shared memory; the
 * barrier's transaction count drops by the box's bytes when it lands (zeros past the edges). */
XK_DEVICE void xk_tma_load_3d(void *dst, const CUtensorMap *map, int c0, int c1, int c2,
                              uint64_t *bar) {
    asm volatile("cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes"
                 " [%0], [%1, {%2, %3, %4}], [%5];\n" ::"r"(xk_smem_u32(dst)),
                 "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2),
                 "r"(xk_smem_u32(bar))
                 : "memory");
}

/* The same for a 4-D tensor map (attention: d, then seq/head/batch in stride order). */
XK_DEVICE void xk_tma_load_4d(void *dst, const CUtensorMap *map, int c0, int c1, int c2, int c3,
                              uint64_t *bar) {
    asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes"
                 " [%0], [%1, {%2, %3, %4, %5}], [%6];\n" ::"r"(xk_smem_u32(dst)),
                 "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(c3),
                 "r"(xk_smem_u32(bar))
                 : "memory");
}

XK_DEVICE void xk_tma_prefetch_desc(const CUtensorMap *map) {
    asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}

/* Orders this warpgroup's register accesses before the wgmma that follow. */
XK_DEVICE void xk_wgmma_fence() {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}

XK_DEVICE void xk_wgmma_commit() {
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

/* Waits until at most N of this warpgroup's committed wgmma groups are pending. */
template <int N> XK_DEVICE void xk_wgmma_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

/* Keeps the compiler from moving accumulator reads or writes across a wgmma wait. */
template <int R> XK_DEVICE void xk_fence_regs(float (&d)[R]) {
#pragma unroll
    for (int i = 0; i < R; i++) asm volatile("" : "+f"(d[i])::"memory");
}

/* A shared-memory matrix descriptor with the 128-byte swizzle (layout type 1 in bits 62-63). */
XK_DEVICE uint64_t xk_smem_desc(const void *start, uint32_t lbo_bytes, uint32_t sbo_bytes) {
    uint64_t addr = xk_smem_u32(start);
    return ((addr & 0x3FFFF) >> 4) | ((uint64_t)((lbo_bytes & 0x3FFFF) >> 4) << 16) |
           ((uint64_t)((sbo_bytes & 0x3FFFF) >> 4) << 32) | (1ull << 62);
}

/* Warpgroup register reallocation: the producer gives registers to the consumers. */
template <int N> XK_DEVICE void xk_setmaxnreg_dec() {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}
template <int N> XK_DEVICE void xk_setmaxnreg_inc() {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}

#endif /* XK_SM90_CUH */
