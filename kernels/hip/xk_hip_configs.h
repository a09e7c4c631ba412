/*
 * The MFMA kernel instantiations of the HIP code objects, as X-macro lists read by both sides:
 * kernels/hip/xk_hip.hip instantiates them and the host (backends/hip/hip_plan.c) builds its
 * tables (names, threads, LDS) from the same lines. kernels/tuning/hip.ini picks among them per
 * architecture by name. Every line is compiled for every CDNA target: keep the lists short.
 */
#ifndef XK_HIP_CONFIGS_H
#define XK_HIP_CONFIGS_H

/*
 * MFMA GEMM: X(name, BM, BN, BK, WM, WN). A block computes BM x BN of C with (BM/WM) x (BN/WN)
 * wavefronts of 64 lanes, each a WM x WN sub-tile of 32 x 32 MFMA blocks; k advances BK at a time
 * through two LDS buffers. The last line is the skinny tile for decode-sized m (<= 32).
 */
#define XK_HIP_GEMM_CONFIGS(X)                                                                     \
    X(128x128x32, 128, 128, 32, 64, 64)                                                            \
    X(64x64x32, 64, 64, 32, 32, 32)                                                                \
    X(32x128x64, 32, 128, 64, 32, 32)

/* MFMA attention (prefill, and the split-KV decode kernel): X(head_dim, key tile of prefill). */
#define XK_HIP_ATTENTION_CONFIGS(X) X(64, 64) X(128, 64) X(256, 32)

#define XK_HIP_WAVE 64               /* CDNA wavefront */
#define XK_HIP_ATTENTION_THREADS 256 /* 4 wavefronts: prefill 128 queries, decode 4 work items */
#define XK_HIP_ATTENTION_ROWS 32     /* query rows of one wavefront */
#define XK_HIP_LDS_PAD 8             /* elements after each k-contiguous LDS row (16 bytes) */
#define XK_HIP_LDS_PAD_T 4           /* after each transposed V row (keeps 8-byte reads spread) */

#define XK_HIP_GEMM_THREADS(BM, BN, WM, WN) (((BM) / (WM)) * ((BN) / (WN)) * XK_HIP_WAVE)
/* Two buffers of A (BM rows) and B (BN rows), k-contiguous, padded. */
#define XK_HIP_GEMM_LDS(BM, BN, BK) (2 * ((BM) + (BN)) * ((BK) + XK_HIP_LDS_PAD) * 2)
/* K tile [BN][D + pad] and the transposed V tile [D][BN + pad]. */
#define XK_HIP_ATTENTION_LDS(D, BN)                                                                \
    (((BN) * ((D) + XK_HIP_LDS_PAD) + (D) * ((BN) + XK_HIP_LDS_PAD_T)) * 2)

#endif /* XK_HIP_CONFIGS_H */
