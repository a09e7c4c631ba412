/*
 * Tensor-core building blocks for sm_80 and newer (Ampere, Ada, Hopper, and newer through PTX):
 * cp.async copies into shared memory, ldmatrix fragment loads, the m16n8k16 mma, and the
 * XOR swizzle that keeps ldmatrix free of bank conflicts. Fragment layouts (PTX ISA, "mma.m16n8k16"):
 *   A (16x16, row):  a0 = (g, 2t..2t+1), a1 = (g+8, 2t..), a2 = (g, 8+2t..), a3 = (g+8, 8+2t..)
 *   B (16x8, col):   b0 = (k 2t..2t+1, n g), b1 = (k 8+2t.., n g)
 *   C (16x8):        c0,c1 = (g, 2t..2t+1), c2,c3 = (g+8, 2t..2t+1)
 * with g = lane / 4 and t = lane % 4.
 */
#ifndef XK_MMA_CUH
#define XK_MMA_CUH

#include "xk_compat.cuh"

XK_DEVICE uint32_t xk_smem_addr(const void *p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

/*
 * Copies 16 bytes from global to shared memory asynchronously; only the first `src_bytes`
 * (0..16) are read and the rest is zero-filled, which is how tiles at the matrix edge get their
 * zero padding without a branch. `src` must be 16-byte aligned and valid even when src_bytes is 0.
 */
XK_DEVICE void xk_cp_async16(void *smem, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(xk_smem_addr(smem)),
                 "l"(src), "r"(src_bytes));
}

XK_DEVICE void xk_cp_async_commit() {
    asm volatile("cp.async.commit_group;\n" ::);
}

/* Waits until at most N of this thread's committed groups are still in flight. */
template <int N> XK_DEVICE void xk_cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

/* Four 8x8 matrices of 16-bit elements; lane l gives the address of row l % 8 of matrix l / 8. */
XK_DEVICE void xk_ldmatrix_x4(uint32_t r[4], const void *smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(xk_smem_addr(smem)));
}

/* The same, each matrix transposed on the way: memory rows become fragment columns. */
XK_DEVICE void xk_ldmatrix_x4_trans(uint32_t r[4], const void *smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(xk_smem_addr(smem)));
}

/* d += a * b on one m16n8k16 tile, f32 accumulation. */
template <typename T> XK_DEVICE void xk_mma16816(float d[4], const uint32_t a[4], const uint32_t b[2]);

template <> XK_DEVICE void xk_mma16816<xk_bf16>(float d[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
                 "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <> XK_DEVICE void xk_mma16816<xk_f16>(float d[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
                 "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/*
 * A shared-memory tile of ROWS rows of CPR 16-byte chunks (8 elements each). Chunk c of row r
 * is stored at chunk c ^ f(r): the 8 rows one ldmatrix reads (same logical chunk) then fall in
 * 8 distinct 16-byte slots of the 128-byte bank window, so the load has no bank conflict.
 */
template <int ROWS, int CPR> struct xk_tile {
    static_assert(CPR == 2 || CPR == 4 || CPR % 8 == 0, "chunks per row: 2, 4 or a multiple of 8");
    static constexpr int elements = ROWS * CPR * 8;
    static XK_DEVICE int chunk(int row, int c) {
        if (CPR >= 8) return c ^ (row & 7);
        if (CPR == 4) return c ^ ((row >> 1) & 3);
        return c ^ ((row >> 2) & 1);
    }
    /* Element offset of (row, column), column a multiple of 8. */
    static XK_DEVICE int offset(int row, int col) {
        return row * CPR * 8 + chunk(row, col >> 3) * 8;
    }
};

#endif /* XK_MMA_CUH */
