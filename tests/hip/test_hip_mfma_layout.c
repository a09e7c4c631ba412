/*
 * The MFMA fragment layouts the CDNA kernels are built on (kernels/hip/xk_mfma_layout.h),
 * checked on the CPU against an emulation of the instruction written from its definition in
 * AMD's ISA guides (not from the header): a GEMM block fed in the kernels' chunk order, the
 * attention block (S^T = K Q^T, P^T reused as the B operand of O^T = V^T P^T), gfx908's
 * two-instruction bf16 step, and where a query's softmax statistics live. Nothing here needs a
 * GPU; what it cannot check (the hardware doing as documented) the GPU check does.
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "xk_mfma_layout.h"

/*
 * v_mfma_f32_32x32x8 {f16, bf16_1k}: D += A (32 x 8) B (8 x 32). Lane l = x + 32 y holds
 * A[x][4y + e] and B[4y + e][x] in its elements e = 0..3; register r of lane l is
 * D[8 (r / 4) + 4 y + r % 4][x]. (CDNA3 ISA, "Dependent arithmetic" / the matrix-core layouts;
 * the AMD lab notes' mfma_fp32_32x32x8fp16 example.)
 */
static void mfma_32x32x8(double a[64][4], double b[64][4], double d[64][16]) {
    double A[32][8], B[8][32], D[32][32];
    for (int l = 0; l < 64; l++)
        for (int e = 0; e < 4; e++) {
            A[l % 32][4 * (l / 32) + e] = a[l][e];
            B[4 * (l / 32) + e][l % 32] = b[l][e];
        }
    for (int l = 0; l < 64; l++)
        for (int r = 0; r < 16; r++)
            D[8 * (r / 4) + 4 * (l / 32) + r % 4][l % 32] = d[l][r];
    for (int i = 0; i < 32; i++)
        for (int j = 0; j < 32; j++)
            for (int k = 0; k < 8; k++)
                D[i][j] += A[i][k] * B[k][j];
    for (int l = 0; l < 64; l++)
        for (int r = 0; r < 16; r++)
            d[l][r] = D[8 * (r / 4) + 4 * (l / 32) + r % 4][l % 32];
}

/* gfx908's v_mfma_f32_32x32x4bf16: A is 32 x 4, lane x + 32 y holding A[x][2y + e], e = 0, 1. */
static void mfma_32x32x4(double a[64][2], double b[64][2], double d[64][16]) {
    double A[32][4], B[4][32], D[32][32];
    for (int l = 0; l < 64; l++)
        for (int e = 0; e < 2; e++) {
            A[l % 32][2 * (l / 32) + e] = a[l][e];
            B[2 * (l / 32) + e][l % 32] = b[l][e];
        }
    for (int l = 0; l < 64; l++)
        for (int r = 0; r < 16; r++)
            D[8 * (r / 4) + 4 * (l / 32) + r % 4][l % 32] = d[l][r];
    for (int i = 0; i < 32; i++)
        for (int j = 0; j < 32; j++)
            for (int k = 0; k < 4; k++)
                D[i][j] += A[i][k] * B[k][j];
    for (int l = 0; l < 64; l++)
        for (int r = 0; r < 16; r++)
            d[l][r] = D[8 * (r / 4) + 4 * (l / 32) + r % 4][l % 32];
}

static void fill(xt_rng_t *rng, double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        x[i] = xt_rng_uniform(rng);
}

/* The layout facts the kernels rely on, element by element. */
static void test_layout_facts(void **state) {
    (void)state;
    for (int l = 0; l < 64; l++) {
        assert_int_equal(xk_mfma_lane_row(l), l % 32);
        /* A lane's 8 elements of a chunk are consecutive: one 16-byte read. */
        for (int s = 0; s < 2; s++)
            for (int e = 0; e < 4; e++)
                assert_int_equal(xk_mfma_chunk_k(l, s, e), xk_mfma_chunk_k(l, 0, 0) + 4 * s + e);
        /* P^T's registers 4g..4g+3 are the keys step g of O^T = V^T P^T multiplies. */
        for (int g = 0; g < 4; g++)
            for (int e = 0; e < 4; e++)
                assert_int_equal(xk_mfma_pv_key(l, g, e), xk_mfma_acc_row(l, 4 * g + e));
        /* Four consecutive rows per group of 4 registers (the kernels' 8/16-byte stores). */
        for (int g = 0; g < 4; g++)
            for (int e = 0; e < 4; e++)
                assert_int_equal(xk_mfma_acc_row(l, 4 * g + e), xk_mfma_acc_row(l, 4 * g) + e);
    }
    /* A lane and its partner l ^ 32 hold each of the 32 rows of their column exactly once. */
    for (int l = 0; l < 32; l++) {
        int seen[32] = {0};
        for (int r = 0; r < 16; r++) {
            seen[xk_mfma_acc_row(l, r)]++;
            seen[xk_mfma_acc_row(l + 32, r)]++;
        }
        for (int i = 0; i < 32; i++)
            assert_int_equal(seen[i], 1);
    }
    /* Over a chunk, the 64 lanes x 8 elements carry each (row, k) once. */
    int cover[32][16] = {{0}};
    for (int l = 0; l < 64; l++)
        for (int s = 0; s < 2; s++)
            for (int e = 0; e < 4; e++)
                cover[xk_mfma_lane_row(l)][xk_mfma_chunk_k(l, s, e)]++;
    for (int i = 0; i < 32; i++)
        for (int k = 0; k < 16; k++)
            assert_int_equal(cover[i][k], 1);
}

/* A 32 x 32 block of C over k = 64 (4 chunks), as xk_gemm_mfma feeds and stores it. */
static void test_gemm_block(void **state) {
    (void)state;
    enum { K = 64 };
    static double A[32][K], B[K][32], C[32][32];
    xt_rng_t rng;
    xt_rng_seed(&rng, 16);
    fill(&rng, &A[0][0], sizeof A / sizeof(double));
    fill(&rng, &B[0][0], sizeof B / sizeof(double));
    double acc[64][16] = {{0}};
    for (int c = 0; c < K / 16; c++)
        for (int s = 0; s < 2; s++) {
            double a[64][4], b[64][4];
            for (int l = 0; l < 64; l++)
                for (int e = 0; e < 4; e++) {
                    int k = 16 * c + xk_mfma_chunk_k(l, s, e);
                    a[l][e] = A[xk_mfma_lane_row(l)][k];
                    b[l][e] = B[k][xk_mfma_lane_row(l)];
                }
            mfma_32x32x8(a, b, acc);
        }
    for (int l = 0; l < 64; l++)
        for (int r = 0; r < 16; r++)
            C[xk_mfma_acc_row(l, r)][xk_mfma_lane_row(l)] = acc[l][r];
    for (int i = 0; i < 32; i++)
        for (int j = 0; j < 32; j++) {
            double want = 0.0;
            for (int k = 0; k < K; k++)
                want += A[i][k] * B[k][j];
            if (fabs(C[i][j] - want) > 1e-12)
                fail_msg("C[%d][%d] = %g, want %g", i, j, C[i][j], want);
        }
}

/*
 * One wavefront of attention over a 32-key block with head_dim 64, as
 * xk_attention_mfma.cuh computes it: S^T = K Q^T (K the A operand, Q the B operand, in chunk
 * order), P^T = f(S^T) in place, O^T = V^T P^T with P^T's registers as the B operand, and O
 * stored from O^T's registers. f stands for the softmax's exponential (the statistics are
 * per-lane arithmetic on top). Checked against O = f(Q K^T) V.
 */
static void test_attention_block(void **state) {
    (void)state;
    enum { D = 64 };
    static double Q[32][D], Kt[32][D], V[32][D], O[32][D];
    xt_rng_t rng;
    xt_rng_seed(&rng, 17);
    fill(&rng, &Q[0][0], sizeof Q / sizeof(double));
    fill(&rng, &Kt[0][0], sizeof Kt / sizeof(double));
    fill(&rng, &V[0][0], sizeof V / sizeof(double));

    double s[64][16] = {{0}};
    for (int c = 0; c < D / 16; c++)
        for (int st = 0; st < 2; st++) {
            double a[64][4], b[64][4];
            for (int l = 0; l < 64; l++)
                for (int e = 0; e < 4; e++) {
                    int dim = 16 * c + xk_mfma_chunk_k(l, st, e);
                    a[l][e] = Kt[xk_mfma_lane_row(l)][dim]; /* key lane % 32 */
                    b[l][e] = Q[xk_mfma_lane_row(l)][dim];  /* query lane % 32 */
                }
            mfma_32x32x8(a, b, s);
        }
    for (int l = 0; l < 64; l++)
        for (int r = 0; r < 16; r++)
            s[l][r] = exp(s[l][r] / 8.0);

    double o[D / 32][64][16];
    memset(o, 0, sizeof o);
    for (int g = 0; g < 4; g++)
        for (int db = 0; db < D / 32; db++) {
            double a[64][4], b[64][4];
            for (int l = 0; l < 64; l++)
                for (int e = 0; e < 4; e++) {
                    a[l][e] = V[xk_mfma_pv_key(l, g, e)][db * 32 + xk_mfma_lane_row(l)];
                    b[l][e] = s[l][4 * g + e];
                }
            mfma_32x32x8(a, b, o[db]);
        }
    for (int db = 0; db < D / 32; db++)
        for (int l = 0; l < 64; l++)
            for (int r = 0; r < 16; r++)
                O[xk_mfma_lane_row(l)][db * 32 + xk_mfma_acc_row(l, r)] = o[db][l][r];

    for (int q = 0; q < 32; q++)
        for (int dim = 0; dim < D; dim++) {
            double want = 0.0;
            for (int key = 0; key < 32; key++) {
                double dot = 0.0;
                for (int i = 0; i < D; i++)
                    dot += Q[q][i] * Kt[key][i];
                want += exp(dot / 8.0) * V[key][dim];
            }
            if (fabs(O[q][dim] - want) > 1e-9 * (1.0 + fabs(want)))
                fail_msg("O[%d][%d] = %g, want %g", q, dim, O[q][dim], want);
        }
}

/* gfx908: a bf16 k8 step as two k4 instructions of elements (0, 1) and (2, 3). */
static void test_gfx908_bf16_split(void **state) {
    (void)state;
    double a[64][4], b[64][4], whole[64][16] = {{0}}, split[64][16] = {{0}};
    xt_rng_t rng;
    xt_rng_seed(&rng, 908);
    fill(&rng, &a[0][0], 256);
    fill(&rng, &b[0][0], 256);
    mfma_32x32x8(a, b, whole);
    for (int half = 0; half < 2; half++) {
        double a2[64][2], b2[64][2];
        for (int l = 0; l < 64; l++)
            for (int e = 0; e < 2; e++) {
                a2[l][e] = a[l][2 * half + e];
                b2[l][e] = b[l][2 * half + e];
            }
        mfma_32x32x4(a2, b2, split);
    }
    for (int l = 0; l < 64; l++)
        for (int r = 0; r < 16; r++)
            assert_true(fabs(whole[l][r] - split[l][r]) < 1e-12);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_facts),
        cmocka_unit_test(test_gemm_block),
        cmocka_unit_test(test_attention_block),
        cmocka_unit_test(test_gfx908_bf16_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
