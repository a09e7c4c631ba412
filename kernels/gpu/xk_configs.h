/*
 * The kernel instantiations the fatbin holds, as X-macro lists read by both sides: the kernel
 * sources instantiate them and the host builds its kernel tables (names, threads, shared
 * memory) from the same lines, so the two cannot drift apart. kernels/tuning/cuda.ini picks
 * among them per architecture by name. Each line costs compile time for every architecture:
 * keep the lists short.
 */
#ifndef XK_CONFIGS_H
#define XK_CONFIGS_H

/* mma.sync GEMM: X(name, BM, BN, BK, WM, WN, STAGES) */
#define XK_GEMM_MMA_CONFIGS(X)                                                                     \
    X(128x128x32, 128, 128, 32, 64, 32, 4)                                                         \
    X(64x64x32, 64, 64, 32, 32, 32, 4)

/* Rows of A per GEMV pass: m = 1..16 runs the smallest of these >= m. */
#define XK_GEMV_ROWS(X) X(1) X(4) X(8) X(16)

/* FlashAttention-2 kernel: X(head_dim, key tile) */
#define XK_ATTENTION_FA2_CONFIGS(X) X(64, 64) X(128, 64) X(256, 32)

/* wgmma GEMM for sm_90a: X(name, BM, BN, BK, STAGES); 2 consumer warpgroups of BM/2 rows. */
#define XK_GEMM_SM90_CONFIGS(X) X(128x256x64, 128, 256, 64, 4)

/* wgmma attention for sm_90a (prefill): X(head_dim); 128 queries x 128 keys per step. */
#define XK_ATTENTION_SM90_CONFIGS(X) X(64) X(128)

/* Shared-memory bytes of one instantiation (16-bit elements). */
#define XK_GEMM_MMA_SMEM(BM, BN, BK, STAGES) ((STAGES) * ((BM) * (BK) + (BK) * (BN)) * 2)
#define XK_GEMM_MMA_THREADS(BM, BN, WM, WN) (((BM) / (WM)) * ((BN) / (WN)) * 32)
#define XK_ATTENTION_FA2_SMEM(D, BN) ((64 * (D) + 4 * (BN) * (D)) * 2)
/* A and B stages, plus 1 KiB for alignment to the 128-byte swizzle's 1024-byte atoms and the
 * pipeline's barriers. */
#define XK_GEMM_SM90_SMEM(BM, BN, BK, STAGES)                                                      \
    ((STAGES) * ((BM) * (BK) + (BN) * (BK)) * 2 + 1024 + 256)
#define XK_GEMM_SM90_THREADS 384
/* Q (128 x D) and 2 stages of K and V (128 x D each), plus alignment and barriers. */
#define XK_ATTENTION_SM90_SMEM(D) ((128 * (D) + 4 * 128 * (D)) * 2 + 1024 + 256)

#endif /* XK_CONFIGS_H */
