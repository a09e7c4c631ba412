/*
 * Helpers every xhal OpenCL program starts with (the host prepends this file to each program).
 *
 * Storage types: f32 is float; f16 and bf16 are 16-bit patterns read through a ushort or half
 * pointer, because many devices (PoCL among them) have no fp16 arithmetic. f16 goes through
 * vload_half/vstore_half_rte, which OpenCL 1.2 guarantees without cl_khr_fp16; bf16 is the top
 * half of an f32, so a shift converts it. All math is f32.
 *
 * Tensors arrive as `const __global uchar *` plus an element index, and the dtype is a
 * compile-time constant of each kernel (the kernels are stamped out per dtype by macros), so
 * after inlining every branch on `dt` below disappears.
 *
 * XV is the vector width a program was built with (4, 8 or 16: a -D define from the tuning
 * file); floatX and the helpers ending in X work on vectors of that width. PoCL vectorizes little
 * by itself: the explicit vector types are what make the CPU's SIMD units do the work.
 */

#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2

#define XCAT_(a, b) a##b
#define XCAT(a, b) XCAT_(a, b)

#ifndef XV
#define XV 16
#endif

#define floatX XCAT(float, XV)
#define intX XCAT(int, XV)
#define uintX XCAT(uint, XV)
#define ushortX XCAT(ushort, XV)
#define vloadX XCAT(vload, XV)
#define vstoreX XCAT(vstore, XV)
#define vload_halfX XCAT(vload_half, XV)
#define vstore_half_rteX XCAT(XCAT(vstore_half, XV), _rte)
#define convert_uintX XCAT(convert_uint, XV)
#define convert_ushortX XCAT(convert_ushort, XV)
#define as_floatX XCAT(as_float, XV)
#define as_uintX XCAT(as_uint, XV)
#define convert_intX XCAT(convert_int, XV)

/* Lane numbers 0 .. XV-1, for masks built from an index. */
/* XH is half of XV, spelled as a literal so that it can be pasted into a type name. */
#if XV == 4
#define LANE_IDS ((intX)(0, 1, 2, 3))
#define XH 2
#elif XV == 8
#define LANE_IDS ((intX)(0, 1, 2, 3, 4, 5, 6, 7))
#define XH 4
#elif XV == 16
#define LANE_IDS ((intX)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define XH 8
#else
#error "XV must be 4, 8 or 16"
#endif
#define vstoreH XCAT(vstore, XH)

/* ---- Scalars ---- */

inline float bf16_to_f32(ushort h) {
    return as_float((uint)h << 16);
}

/* Round to nearest even, NaN kept a (quiet) NaN: the same rule as xhal_f32_to_bf16. */
inline ushort f32_to_bf16(float f) {
    uint x = as_uint(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (ushort)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (ushort)(x >> 16);
}

inline float load1(const __global uchar *base, long i, const int dt) {
    if (dt == DT_F32) return ((const __global float *)base)[i];
    if (dt == DT_F16) return vload_half(0, (const __global half *)base + i);
    return bf16_to_f32(((const __global ushort *)base)[i]);
}

inline void store1(__global uchar *base, long i, float v, const int dt) {
    if (dt == DT_F32)
        ((__global float *)base)[i] = v;
    else if (dt == DT_F16)
        vstore_half_rte(v, 0, (__global half *)base + i);
    else
        ((__global ushort *)base)[i] = f32_to_bf16(v);
}

/* ---- Vectors of XV elements starting at element i (no alignment needed) ---- */

inline floatX loadX(const __global uchar *base, long i, const int dt) {
    if (dt == DT_F32) return vloadX(0, (const __global float *)base + i);
    if (dt == DT_F16) return vload_halfX(0, (const __global half *)base + i);
    ushortX h = vloadX(0, (const __global ushort *)base + i);
    return as_floatX(convert_uintX(h) << 16);
}

inline void storeX(__global uchar *base, long i, floatX v, const int dt) {
    if (dt == DT_F32) {
        vstoreX(v, 0, (__global float *)base + i);
    } else if (dt == DT_F16) {
        vstore_half_rteX(v, 0, (__global half *)base + i);
    } else {
        uintX x = as_uintX(v);
        uintX rounded = (x + (uintX)(0x7fffu) + ((x >> 16) & (uintX)(1u))) >> 16;
        uintX quiet = (x >> 16) | (uintX)(0x40u);
        /* select picks b where the mask's lane is all ones, i.e. for the NaNs. */
        uintX nan = as_uintX((x & (uintX)(0x7fffffffu)) > (uintX)(0x7f800000u));
        vstoreX(convert_ushortX(select(rounded, quiet, nan)), 0, (__global ushort *)base + i);
    }
}

/*
 * Transposes the XV x XV block rows[0 .. XV) in place (rows[i][j] becomes rows[j][i]) in
 * log2(XV) rounds of two-vector shuffles: round s swaps the off-diagonal s x s blocks of each
 * pair of rows s apart. With constant masks each shuffle is one permute instruction.
 */
inline void transpose_block(floatX *rows) {
#pragma unroll
    for (int s = 1; s < XV; s <<= 1) {
        intX upper = (LANE_IDS & (intX)(s)) != (intX)(0);
        uintX lo = as_uintX(select(LANE_IDS, LANE_IDS + (intX)(XV - s), upper));
        uintX hi = as_uintX(select(LANE_IDS + (intX)(s), LANE_IDS + (intX)(XV), upper));
#pragma unroll
        for (int i = 0; i < XV; i++)
            if (!(i & s)) {
                floatX a = rows[i], b = rows[i + s];
                rows[i] = shuffle2(a, b, lo);
                rows[i + s] = shuffle2(a, b, hi);
            }
    }
}

/* ---- Horizontal reductions of one vector ---- */

inline float hsum4(float4 v) {
    float2 t = v.lo + v.hi;
    return t.x + t.y;
}

inline float hmax4(float4 v) {
    float2 t = fmax(v.lo, v.hi);
    return fmax(t.x, t.y);
}

inline float hsumX(floatX v) {
#if XV == 16
    float8 h = v.lo + v.hi;
    return hsum4(h.lo + h.hi);
#elif XV == 8
    return hsum4(v.lo + v.hi);
#else
    return hsum4(v);
#endif
}

inline float hmaxX(floatX v) {
#if XV == 16
    float8 h = fmax(v.lo, v.hi);
    return hmax4(fmax(h.lo, h.hi));
#elif XV == 8
    return hmax4(fmax(v.lo, v.hi));
#else
    return hmax4(v);
#endif
}
