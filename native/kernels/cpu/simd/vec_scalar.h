// SIMD vocabulary, scalar level: a "vector" of one float. The same kernel templates that run
// on AVX2 and AVX-512 compile against this header, so the scalar level shares their math.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "axon/portable.h"

namespace axon::cpu::scalar::simd {

inline constexpr int kWidth = 1;
using VecF = float;
using VecI = int32_t;
using Mask = bool;

inline VecF zero() { return 0.0f; }
inline VecF set1(float v) { return v; }
inline VecF load(const float* p) { return *p; }
inline void store(float* p, VecF v) { *p = v; }
inline VecF load_partial(const float* p, int n) { return n > 0 ? *p : 0.0f; }
inline void store_partial(float* p, VecF v, int n) {
  if (n > 0) *p = v;
}

inline VecF add(VecF a, VecF b) { return a + b; }
inline VecF sub(VecF a, VecF b) { return a - b; }
inline VecF mul(VecF a, VecF b) { return a * b; }
inline VecF div(VecF a, VecF b) { return a / b; }
// Unfused on purpose: the scalar level is the baseline x86-64/any-CPU path, where std::fma
// would be a library call.
inline VecF fmadd(VecF a, VecF b, VecF c) { return a * b + c; }   // a*b + c
inline VecF fnmadd(VecF a, VecF b, VecF c) { return c - a * b; }  // c - a*b
// The exact rounding error of p = a*b: a*b - p (a float product is exact in double).
inline VecF mul_error(VecF a, VecF b, VecF p) {
  return static_cast<float>(static_cast<double>(a) * b - static_cast<double>(p));
}
// max/min follow x86: when either input is NaN the result is b.
inline VecF max(VecF a, VecF b) { return a > b ? a : b; }
inline VecF min(VecF a, VecF b) { return a < b ? a : b; }
inline VecF abs(VecF a) { return std::fabs(a); }
inline VecF neg(VecF a) { return -a; }
inline VecF sqrt(VecF a) { return std::sqrt(a); }
inline VecF round_nearest(VecF a) { return std::nearbyint(a); }
// Copies the sign bit of `sign` onto |mag|.
inline VecF copysign(VecF mag, VecF sign) { return std::copysign(mag, sign); }

inline Mask lt(VecF a, VecF b) { return a < b; }
inline Mask le(VecF a, VecF b) { return a <= b; }
inline Mask gt(VecF a, VecF b) { return a > b; }
inline Mask ge(VecF a, VecF b) { return a >= b; }
inline Mask eq(VecF a, VecF b) { return a == b; }
inline Mask is_nan(VecF a) { return a != a; }
inline Mask mask_and(Mask a, Mask b) { return a && b; }
inline Mask mask_or(Mask a, Mask b) { return a || b; }
inline bool any(Mask m) { return m; }
inline VecF select(Mask m, VecF if_true, VecF if_false) { return m ? if_true : if_false; }

inline VecI set1_i(int32_t v) { return v; }
inline VecI cvt_to_int(VecF a) { return static_cast<int32_t>(std::nearbyint(a)); }
inline VecF cvt_to_float(VecI a) { return static_cast<float>(a); }
inline VecI add_i(VecI a, VecI b) { return a + b; }
inline VecI sub_i(VecI a, VecI b) { return a - b; }
inline VecI and_i(VecI a, VecI b) { return a & b; }
inline VecI srai_i(VecI a, int n) { return a >> n; }
inline VecI slli_i(VecI a, int n) { return static_cast<int32_t>(static_cast<uint32_t>(a) << n); }
inline VecI srli_i(VecI a, int n) { return static_cast<int32_t>(static_cast<uint32_t>(a) >> n); }
// Lane moves and integer masks (see vec_avx512.h), for a one-lane vector. pool_plane.cpp
// uses them only where AXON_SIMD_LANE_PERMUTES is defined (AVX-512); at the other levels its
// plain loop vectorises well.
inline Mask tail_mask(int n) { return n > 0; }
inline VecI iota_i() { return 0; }
inline VecF load_masked(const float* p, Mask m) { return m ? *p : 0.0f; }
inline void store_masked(float* p, VecF v, Mask m) {
  if (m) *p = v;
}
inline VecI load_masked_i(const int32_t* p, Mask m) { return m ? *p : 0; }
inline void store_masked_i(int32_t* p, VecI v, Mask m) {
  if (m) *p = v;
}
inline VecF even_lanes(VecF lo, VecF) { return lo; }
inline VecF odd_lanes(VecF, VecF hi) { return hi; }
inline VecF dup_low_lanes(VecF a) { return a; }
inline VecI dup_low_lanes_i(VecI a) { return a; }
inline Mask eq_i(VecI a, VecI b) { return a == b; }
inline VecI select_i(Mask m, VecI if_true, VecI if_false) { return m ? if_true : if_false; }
inline VecF zero_unless(Mask m, VecF a) { return m ? a : 0.0f; }
inline int count(Mask m) { return m ? 1 : 0; }
inline VecF bitcast_f(VecI a) {
  float f;
  std::memcpy(&f, &a, 4);
  return f;
}
inline VecI bitcast_i(VecF a) {
  int32_t i;
  std::memcpy(&i, &a, 4);
  return i;
}

inline float reduce_add(VecF a) { return a; }
inline float reduce_max(VecF a) { return a; }
inline float reduce_min(VecF a) { return a; }

// Reads a rows x cols block (row-major, leading dimension ld_src) and writes it transposed:
// dst[c * ld_dst + r]. Used by GEMM packing.
inline void transpose_tile(const float* src, int64_t ld_src, int rows, int cols, float* dst,
                           int64_t ld_dst) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) dst[c * ld_dst + r] = src[r * ld_src + c];
}

inline void prefetch_l1(const void* p) { AXON_PREFETCH(p, 0, 3); }

// Full-width transpose of ROWS rows of kWidth columns (GEMM packing fast path).
template <int ROWS>
inline void transpose_rows(const float* src, int64_t ld_src, float* dst, int64_t ld_dst) {
  transpose_tile(src, ld_src, ROWS, kWidth, dst, ld_dst);
}

// out[q] = sum of the lanes of v[q], q < 8.
inline void reduce_add8(const VecF* v, float* out) {
  for (int q = 0; q < 8; ++q) out[q] = v[q];
}

}  // namespace axon::cpu::scalar::simd
